#pragma once
// aio::Semaphore and aio::BoundedSemaphore: a counter of permits (asyncio.Semaphore).
//
// Fair, as asyncio 3.12 is: a task arriving while others wait queues behind them even if a
// permit is free. A permit handed to a waiter is reserved for it; if the waiter is
// cancelled before it resumes, the permit goes back and the next waiter is woken.
#include <cstddef>

#include "coro.hpp"
#include "detail/waiter_list.hpp"
#include "errors.hpp"
#include "lock.hpp"

namespace aio {

class Semaphore {
public:
    /// Throws ValueError if `value` is negative.
    explicit Semaphore(long value = 1) : value_(value) {
        if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
    }
    virtual ~Semaphore() = default;

    /// Whether acquire() would have to wait.
    bool locked() const noexcept { return value_ == 0 || waiters_.any_not_cancelled(); }
    /// Free permits.
    long value() const noexcept { return value_; }

    /// Takes a permit, waiting for one if none is free or others wait already.
    Coro<void> acquire() {
        if (!locked()) {
            --value_;
            co_return;
        }
        auto entry = waiters_.add();
        std::exception_ptr error;
        try {
            co_await *entry;
        } catch (...) {
            error = std::current_exception();
        }
        // A woken waiter's permit was taken for it by wake_up_next().
        if (error && entry->done() && !entry->cancelled()) ++value_;
        waiters_.erase(entry);
        // Waiters that queued behind us while permits were free: wake as many as allowed.
        while (value_ > 0 && wake_up_next()) {
        }
        if (error) std::rethrow_exception(error);
    }

    /// acquire(), then a guard that releases the permit at the end of the scope.
    Coro<ReleaseGuard<Semaphore>> scoped_acquire() {
        co_await acquire();
        co_return ReleaseGuard<Semaphore>(*this);
    }

    /// Returns a permit and wakes the first waiter.
    virtual void release() {
        ++value_;
        wake_up_next();
    }

private:
    bool wake_up_next() {
        if (!waiters_.wake_first()) return false;
        --value_;  // reserved for the woken waiter
        return true;
    }

    detail::WaiterList waiters_;
    long value_;
};

/// A semaphore that refuses to be released more often than acquired.
class BoundedSemaphore : public Semaphore {
public:
    explicit BoundedSemaphore(long value = 1) : Semaphore(value), bound_(value) {}
    /// Throws ValueError if that would make more permits than the initial value.
    void release() override {
        if (value() >= bound_) throw ValueError("BoundedSemaphore released too many times");
        Semaphore::release();
    }

private:
    long bound_;
};

}  // namespace aio
