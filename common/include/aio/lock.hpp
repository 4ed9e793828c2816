#pragma once
// aio::Lock: mutual exclusion between tasks (asyncio.Lock).
//
// Fair: a released lock goes to the task that has waited longest, and a task arriving
// while others wait queues behind them. As in asyncio, a lock released to a waiter stays
// unlocked until that waiter runs; if it was cancelled in between, it passes the wake-up on
// to the next waiter, so a cancellation never loses a release.
#include <utility>

#include "coro.hpp"
#include "detail/waiter_list.hpp"
#include "errors.hpp"

namespace aio {

/// Releases what it holds when destroyed (asyncio's `async with lock:`).
template <class Primitive>
class [[nodiscard]] ReleaseGuard {
public:
    explicit ReleaseGuard(Primitive& held) noexcept : held_(&held) {}
    ReleaseGuard(ReleaseGuard&& other) noexcept : held_(std::exchange(other.held_, nullptr)) {}
    ReleaseGuard& operator=(ReleaseGuard&&) = delete;
    ~ReleaseGuard() {
        if (held_) held_->release();
    }
    /// Releases now rather than at the end of the scope.
    void release() {
        if (held_) std::exchange(held_, nullptr)->release();
    }

private:
    Primitive* held_;
};

class Lock {
public:
    bool locked() const noexcept { return locked_; }

    /// Waits until the lock is free, then takes it. CancelledError leaves it untaken.
    Coro<void> acquire() {
        if (!locked_ && !waiters_.any_not_cancelled()) {
            locked_ = true;
            co_return;
        }
        auto entry = waiters_.add();
        std::exception_ptr error;
        try {
            co_await *entry;
        } catch (...) {
            error = std::current_exception();
        }
        waiters_.erase(entry);
        if (error) {
            // Cancelled: if the lock was released to us, hand the wake-up to the next waiter.
            if (!locked_) waiters_.wake_first();
            std::rethrow_exception(error);
        }
        locked_ = true;
    }

    /// acquire(), then a guard that releases the lock when it goes out of scope:
    /// `auto held = co_await lock.scoped_acquire();`
    Coro<ReleaseGuard<Lock>> scoped_acquire() {
        co_await acquire();
        co_return ReleaseGuard<Lock>(*this);
    }

    /// Releases the lock and wakes the first waiter. Throws RuntimeError if not locked.
    void release() {
        if (!locked_) throw RuntimeError("Lock is not acquired.");
        locked_ = false;
        waiters_.wake_first();
    }

private:
    detail::WaiterList waiters_;
    bool locked_ = false;
};

}  // namespace aio
