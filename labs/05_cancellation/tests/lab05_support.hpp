#pragma once
// Helpers shared by lab 05's public tests. Everything runs on aio::VirtualTimeLoop, so the
// times in the event logs are loop seconds and no test ever waits for real.
//
// Coroutines here take their parameters by value (a reference parameter would dangle once
// the caller's full-expression ends) and are plain functions, never capturing lambdas: a
// capturing coroutine lambda dies before its frame does (GCC 12 notes in the brief).
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/aio.hpp"

namespace lab_test {

using Log = std::vector<std::string>;

/// What happened, in order. Tests compare the whole log with an expected vector, so a step
/// that runs too early, too late or twice fails as clearly as a missing one.
struct Events {
    Log log;

    template <class... Parts>
    void record(const Parts&... parts) {
        std::ostringstream entry;
        (entry << ... << parts);
        log.push_back(entry.str());
    }
};

/// The running loop's time in seconds.
inline double now() { return aio::to_seconds(aio::get_running_loop().time()); }
/// The current task's count of pending cancel requests.
inline int cancelling() { return aio::current_task()->cancelling(); }

/// Runs `main` as the main task of a fresh virtual-time loop and returns its value. The loop
/// is closed before this returns, so a task left pending is destroyed here.
template <class T>
T run_virtual(aio::Coro<T> main) {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(std::move(main));
}

/// Counts the coroutine frames created and not freed since construction.
class FrameLeakCheck {
public:
    FrameLeakCheck() noexcept : baseline_(aio::live_coroutine_frames()) {}
    std::int64_t leaked() const noexcept { return aio::live_coroutine_frames() - baseline_; }

private:
    std::int64_t baseline_;
};

/// Records its destruction, as a `finally:` block would: shows when a body's frame unwinds.
struct Cleanup {
    Events* events;
    const char* who;
    ~Cleanup() { events->record(who, " cleanup @", now()); }
};

/// Sleeps `delay` seconds and returns `value`, recording each step.
inline aio::Coro<int> inner(Events* events, double delay, int value) {
    Cleanup cleanup{events, "inner"};
    events->record("inner starts @", now());
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        events->record("inner cancelled @", now());
        throw;
    }
    events->record("inner returns @", now());
    co_return value;
}

/// Sleeps `delay` seconds; when cancelled, takes `cleanup_time` more to clean up (the sort
/// of work that must not be left behind), then ends cancelled.
inline aio::Coro<int> slow_to_cancel(Events* events, double delay, double cleanup_time) {
    bool cancelled = false;
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        cancelled = true;  // no co_await in a handler (C++20): clean up below
    }
    if (cancelled) {
        events->record("task cancelled @", now());
        co_await aio::sleep(cleanup_time);
        events->record("task cleanup done @", now());
        throw aio::CancelledError();
    }
    co_return 1;
}

/// Sleeps `delay` seconds; when cancelled, returns `value_if_cancelled` instead.
inline aio::Coro<int> return_when_cancelled(Events* events, double delay, int value_if_cancelled) {
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        events->record("inner swallows the cancellation @", now());
        co_return value_if_cancelled;
    }
    co_return 0;
}

/// An error of the tests' own, so that no test mistakes an unfinished TODO (which throws
/// aiolab::NotImplemented, a std::logic_error) for the error it expects.
struct WorkFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Sleeps `delay` seconds, then fails with WorkFailed("inner failed").
inline aio::Coro<int> fail_after(double delay) {
    co_await aio::sleep(delay);
    throw WorkFailed("inner failed");
}

}  // namespace lab_test
