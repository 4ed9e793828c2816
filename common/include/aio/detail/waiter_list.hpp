#pragma once
// aio::detail::WaiterList: the FIFO of futures that asyncio's synchronization primitives
// keep (a deque of futures in Lib/asyncio/locks.py and queues.py).
//
// A waiter awaits its own future and removes its entry itself when it resumes, whatever
// happened, so an entry can be done (woken, not yet resumed) or cancelled (its task was
// cancelled) while still in the list; the wake-up functions skip those.
#include <cstddef>
#include <list>

#include "../event_loop.hpp"
#include "../future.hpp"

namespace aio::detail {

class WaiterList {
public:
    using Entry = std::list<Future<void>>::iterator;

    /// Appends a pending future on the running loop; the caller awaits it, then erase()s it.
    Entry add() { return waiters_.insert(waiters_.end(), Future<void>(get_running_loop())); }
    void erase(Entry entry) noexcept { waiters_.erase(entry); }

    /// Sets the result of the first waiter not done yet; false if there is none.
    bool wake_first() {
        for (Future<void>& waiter : waiters_) {
            if (!waiter.done()) {
                waiter.set_result();
                return true;
            }
        }
        return false;
    }
    /// Wakes up to `count` waiters not done yet; returns how many were woken.
    std::size_t wake(std::size_t count) {
        std::size_t woken = 0;
        for (Future<void>& waiter : waiters_) {
            if (woken == count) break;
            if (!waiter.done()) {
                waiter.set_result();
                ++woken;
            }
        }
        return woken;
    }
    std::size_t wake_all() { return wake(waiters_.size()); }

    /// Whether some waiter is not cancelled (asyncio's
    /// `any(not w.cancelled() for w in waiters)`): such a waiter has a claim to go first.
    bool any_not_cancelled() const noexcept {
        for (const Future<void>& waiter : waiters_)
            if (!waiter.cancelled()) return true;
        return false;
    }
    bool empty() const noexcept { return waiters_.empty(); }
    std::size_t size() const noexcept { return waiters_.size(); }

private:
    std::list<Future<void>> waiters_;
};

}  // namespace aio::detail
