#pragma once
// aio::VirtualTimeLoop: the default loop on a virtual clock, for tests.
#include "selector_event_loop.hpp"

namespace aio {

/// A SelectorEventLoop whose clock starts at zero and jumps straight to the next timer
/// whenever nothing is ready, so `co_await aio::sleep(3600)` takes microseconds and a test
/// of time never depends on how busy the machine is. I/O and call_soon_threadsafe() still
/// work; only waiting for timers costs no real time.
///
/// If nothing is ready, no timer is pending and no I/O is registered, nothing could ever
/// happen again: where a real loop would hang, this one throws DeadlockError.
///
/// While executor jobs are in flight (run_in_executor, to_thread) and nothing is ready, the
/// loop waits for them in real time and the clock stands still: work on other threads takes
/// no virtual time, even with a timer pending (a job that waits for the loop's timers would
/// wait forever).
class VirtualTimeLoop : public SelectorEventLoop {
public:
    TimePoint time() const override { return now_; }
    /// Moves the clock forward by `delay` without running anything.
    void advance(Duration delay) noexcept { now_ = saturating_add(now_, delay); }

protected:
    void select(Duration timeout) override;

private:
    TimePoint now_{};
};

}  // namespace aio
