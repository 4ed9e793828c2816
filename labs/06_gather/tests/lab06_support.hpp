#pragma once
// Helpers shared by lab 06's public tests.
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/abstract_task.hpp"
#include "aio/coro.hpp"
#include "aio/detail/frame_counter.hpp"
#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/sleep.hpp"
#include "aio/virtual_time_loop.hpp"

namespace lab_test {

/// What happened, in order. Tests compare the whole log with an expected vector, so a
/// child that fails too late, or a sibling cancelled that should not be, fails as clearly
/// as a missing result.
struct Events {
    std::vector<std::string> log;

    template <class... Parts>
    void record(const Parts&... parts) {
        std::ostringstream entry;
        (entry << ... << parts);
        log.push_back(entry.str());
    }
};

using Log = std::vector<std::string>;

/// The running loop's time in seconds (virtual time in these tests).
inline double now() { return aio::to_seconds(aio::get_running_loop().time()); }

/// Runs `coro` as the main task of a new VirtualTimeLoop (sleeps cost no real time) and
/// returns its value or rethrows its exception. The loop is closed before this returns.
template <class T>
T run_virtual(aio::Coro<T> coro) {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(std::move(coro));
}

/// Counts the coroutine frames created and not freed since construction; meaningful once
/// every loop involved is closed.
class FrameLeakCheck {
public:
    FrameLeakCheck() noexcept : baseline_(aio::live_coroutine_frames()) {}
    std::int64_t leaked() const noexcept { return aio::live_coroutine_frames() - baseline_; }

private:
    std::int64_t baseline_;
};

/// Collects what a loop reports to its exception handler (instead of printing it).
struct Reports {
    std::vector<std::string> messages;

    void install(aio::EventLoop& loop) {
        loop.set_exception_handler([this](aio::EventLoop&, const aio::ExceptionContext& context) {
            messages.push_back(context.message);
        });
    }
};

/// The what() of each error in `group`, space separated.
inline std::string whats(const aio::ExceptionGroup& group) {
    std::string text;
    for (const std::exception_ptr& error : group.exceptions()) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            text += (text.empty() ? "" : " ") + std::string(e.what());
        }
    }
    return text;
}

/// How many cancellation requests of the current task are pending.
inline int cancelling() { return aio::current_task()->cancelling(); }

// The children the tests gather. Coroutines take their parameters by value: a reference
// parameter would dangle once the caller's full-expression ends.

/// Sleeps `delay` seconds and returns `value`, recording its start, its end, and a
/// cancellation with its message: "a cancelled(stop) @1".
inline aio::Coro<int> after(Events* events, std::string name, double delay, int value) {
    events->record(name, " starts @", now());
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError& cancelled) {
        events->record(name, " cancelled(", cancelled.message(), ") @", now());
        throw;
    }
    events->record(name, " returns ", value, " @", now());
    co_return value;
}

/// Sleeps `delay` seconds, then throws std::runtime_error(what).
inline aio::Coro<int> fail_after(Events* events, std::string name, double delay, std::string what) {
    events->record(name, " starts @", now());
    co_await aio::sleep(delay);
    events->record(name, " raises ", what, " @", now());
    throw std::runtime_error(what);
}

/// Catches the first cancellation, sleeps `grace` more seconds, and returns `value` anyway.
inline aio::Coro<int> stubborn(Events* events, std::string name, double grace, int value) {
    events->record(name, " starts @", now());
    try {
        co_await aio::sleep(100);
    } catch (const aio::CancelledError&) {
        events->record(name, " ignores the cancellation @", now());
    }
    co_await aio::sleep(grace);
    events->record(name, " returns ", value, " @", now());
    co_return value;
}

}  // namespace lab_test
