#include "aio/virtual_time_loop.hpp"

namespace aio {

void VirtualTimeLoop::select(Duration timeout) {
    // Look at real events first, without waiting: what really happened runs now.
    const std::size_t ready_before = ready_count();
    SelectorEventLoop::select(Duration::zero());
    if (timeout == Duration::zero() || ready_count() != ready_before) return;

    if (executor_jobs_in_flight() > 0) {
        // Another thread will call back (call_soon_threadsafe): wait for it in real time,
        // with the clock stopped, so work on threads takes no virtual time and a test's
        // outcome never depends on how fast a thread runs.
        SelectorEventLoop::select(Duration::max());
        return;
    }
    if (timeout == Duration::max()) {
        if (!waits_for_io())
            throw DeadlockError(
                "deadlock: the loop has no callback ready, no timer pending and no I/O to wait "
                "for, so the awaited future can never complete (a real loop would hang here)");
        SelectorEventLoop::select(Duration::max());
        return;
    }
    advance(timeout);  // nothing to do until the next timer: jump to it
}

}  // namespace aio
