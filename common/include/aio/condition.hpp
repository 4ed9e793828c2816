#pragma once
// aio::Condition: wait until notified, with a lock held around the check (asyncio.Condition).
//
// wait() releases the lock, waits for notify(), and takes the lock back before returning,
// even when cancelled. A waiter that was notified but fails to return normally (it was
// cancelled while re-taking the lock) passes the notification on to another waiter, as
// Python 3.13 does, so a cancellation never swallows a notify(): the other waiter may see a
// spurious wake-up, which the condition-variable protocol allows.
#include <cstddef>
#include <exception>

#include "coro.hpp"
#include "detail/waiter_list.hpp"
#include "errors.hpp"
#include "lock.hpp"

namespace aio {

class Condition {
public:
    /// A condition with its own lock, or one sharing `lock` (which must outlive it).
    Condition() : lock_(&own_lock_) {}
    explicit Condition(Lock& lock) : lock_(&lock) {}

    bool locked() const noexcept { return lock_->locked(); }
    Coro<void> acquire() { return lock_->acquire(); }
    Coro<ReleaseGuard<Lock>> scoped_acquire() { return lock_->scoped_acquire(); }
    void release() { lock_->release(); }

    /// Waits until notified. The lock must be held (RuntimeError otherwise); it is released
    /// while waiting and held again when wait() returns or throws.
    Coro<bool> wait() {
        if (!locked()) throw RuntimeError("cannot wait on un-acquired lock");
        release();
        auto entry = waiters_.add();
        std::exception_ptr error;
        try {
            co_await *entry;
        } catch (...) {
            error = std::current_exception();
        }
        waiters_.erase(entry);
        // Take the lock back even if cancelled; a cancellation here is kept for later.
        while (true) {
            std::exception_ptr acquire_error;
            try {
                co_await lock_->acquire();
                break;
            } catch (...) {
                acquire_error = std::current_exception();
            }
            error = acquire_error;
        }
        if (error) {
            notify_unlocked(1);  // we may have consumed a notification: pass it on
            std::rethrow_exception(error);
        }
        co_return true;
    }

    /// Waits until `predicate()` is true, checking it with the lock held after each wake-up.
    template <class Predicate>
    Coro<bool> wait_for(Predicate predicate) {
        while (!predicate()) co_await wait();
        co_return true;
    }

    /// Wakes up to `count` waiters. The lock must be held (RuntimeError otherwise).
    void notify(std::size_t count = 1) {
        if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
        notify_unlocked(count);
    }
    void notify_all() { notify(waiters_.size()); }

private:
    void notify_unlocked(std::size_t count) { waiters_.wake(count); }

    Lock own_lock_;
    Lock* lock_;
    detail::WaiterList waiters_;
};

}  // namespace aio
