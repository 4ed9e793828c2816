#pragma once
// aio::Event: a flag tasks can wait for (asyncio.Event).
#include "coro.hpp"
#include "detail/waiter_list.hpp"

namespace aio {

/// set() wakes every task waiting in wait(); while the flag is set, wait() returns at once.
/// Like every aio primitive, an Event belongs to the thread of the loop that uses it.
class Event {
public:
    bool is_set() const noexcept { return set_; }
    /// Sets the flag and wakes every waiter (each resumes in a later loop iteration).
    void set() {
        if (set_) return;
        set_ = true;
        waiters_.wake_all();
    }
    /// Clears the flag: later wait() calls block until the next set().
    void clear() noexcept { set_ = false; }
    /// Waits until the flag is set; returns true (as asyncio does).
    /// A waiter woken by set() returns true even if clear() came before it resumed.
    Coro<bool> wait() {
        if (set_) co_return true;
        auto entry = waiters_.add();
        std::exception_ptr error;
        try {
            co_await *entry;
        } catch (...) {
            error = std::current_exception();  // CancelledError: leave the list, then rethrow
        }
        waiters_.erase(entry);
        if (error) std::rethrow_exception(error);
        co_return true;
    }

private:
    detail::WaiterList waiters_;
    bool set_ = false;
};

}  // namespace aio
