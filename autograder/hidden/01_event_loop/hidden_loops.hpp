#pragma once
// The hidden tests' own copy of the test loops (the public tests/fake_clock.hpp may be
// edited by a student; these may not): lab::EventLoop with its clock and its wait replaced.
#include <cstddef>
#include <vector>

#include <aio/errors.hpp>
#include <aio/time.hpp>

#include "event_loop.hpp"

namespace hidden {

/// The clock moves only when the test sets `now`; waits return at once and are recorded.
class ManualClockLoop : public lab::EventLoop {
public:
    aio::TimePoint now{};
    std::vector<aio::Duration> waits;
    aio::TimePoint time() const override { return now; }

protected:
    void wait_for_events(aio::Duration timeout) override { waits.push_back(timeout); }
};

/// A loop on virtual time: waiting for a timer jumps the clock straight to it, so
/// `co_await aio::sleep(3600)` takes microseconds. Waiting without a limit means nothing
/// could ever wake the loop: where a real loop would hang, this one throws DeadlockError.
/// A loop that never waits for its timers (it spins, or it does not call wait_for_events)
/// would never see virtual time move: after a million iterations without progress this one
/// throws instead of hanging the test.
class VirtualClockLoop : public lab::EventLoop {
public:
    aio::TimePoint now{};
    std::vector<aio::Duration> waits;

    aio::TimePoint time() const override {
        if (++reads_without_progress_ > spin_limit)
            throw aio::RuntimeError("the virtual clock was read a million times without the loop ever "
                                    "waiting for the next timer: the loop spins (see step 5)");
        return now;
    }

protected:
    void wait_for_events(aio::Duration timeout) override {
        if (timeout == aio::Duration::max())
            throw aio::DeadlockError("the loop would wait forever: nothing is ready or scheduled");
        if (timeout == aio::Duration::zero()) {
            if (++zero_waits_in_a_row_ > spin_limit)
                throw aio::RuntimeError("a million waits in a row with a zero timeout: the loop spins (see step 5)");
        } else {
            zero_waits_in_a_row_ = 0;
            reads_without_progress_ = 0;
        }
        if (waits.size() < max_recorded_waits) waits.push_back(timeout);
        now += timeout;
    }

private:
    static constexpr long spin_limit = 1'000'000;
    static constexpr std::size_t max_recorded_waits = 100'000;
    mutable long reads_without_progress_ = 0;
    long zero_waits_in_a_row_ = 0;
};

/// The real loop, counting its waits.
class CountingLoop : public lab::EventLoop {
public:
    int wait_calls = 0;

protected:
    void wait_for_events(aio::Duration timeout) override {
        ++wait_calls;
        lab::EventLoop::wait_for_events(timeout);
    }
};

}  // namespace hidden
