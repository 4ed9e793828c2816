#pragma once
// aio::timed: how long an awaitable takes, reported when it starts and when it ends (the
// @async_timed() decorator of the course, which prints "starting ..." and "finished ...
// in 1.0012 second(s)" around each call of a coroutine function).
//
//     std::string page = co_await aio::timed(fetch("example.com"), "fetch");
//     auto timed_fetch = aio::async_timed("fetch", fetch);   // the decorator form
//     std::string page = co_await timed_fetch("example.com");
//
// Durations are loop time (loop.time()), so on a VirtualTimeLoop they are exact: a timed
// sleep(1.5) reports 1.5 s whatever the machine does. Reports go to a sink: stderr unless
// set_timed_sink() installed another (a test installs one that records the events).
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "coro.hpp"
#include "event_loop.hpp"
#include "future.hpp"

namespace aio {

/// One report of aio::timed: the start, or the end, of one timed await.
struct TimedEvent {
    enum class Phase { started, finished };
    Phase phase;
    std::string name;          ///< the name given to timed()
    TimePoint started_at;      ///< loop time at the start
    Duration elapsed;          ///< loop time from start to end; zero for Phase::started
    std::exception_ptr error;  ///< what the awaitable threw (CancelledError too); null if none
};

/// Receives every TimedEvent.
using TimedSink = std::function<void(const TimedEvent&)>;

/// Replaces the sink of every aio::timed report; an empty function restores the default,
/// which writes "starting NAME" and "finished NAME in 1.5000 second(s)" lines to stderr.
/// Process-wide and safe to call from any thread; a sink that throws has its error
/// reported to stderr, and the timed await goes on.
void set_timed_sink(TimedSink sink);

namespace detail {
/// Hands `event` to the sink. Never throws.
void report_timed(const TimedEvent& event) noexcept;

/// What `co_await std::move(a)` returns (the awaiter's await_resume type, without
/// reference): Coro<T>, Future<T>, Task<T> -> T; an awaiter with await_resume too.
template <class A>
struct timed_value {
    using type = std::remove_cvref_t<decltype(std::declval<A>().await_resume())>;
};
template <class A>
    requires requires { std::declval<A>().operator co_await(); }
struct timed_value<A> {
    using type = std::remove_cvref_t<decltype(std::declval<A>().operator co_await().await_resume())>;
};
template <class A>
using timed_value_t = typename timed_value<A>::type;
}  // namespace detail

/// Awaits `awaitable` (a Coro, Future, Task, or any movable awaitable: a sleep must be
/// wrapped in a coroutine, its awaiter cannot move) in the current task, reporting a
/// Phase::started event before and a Phase::finished event after, with the loop time it
/// took. Returns the awaitable's value, or rethrows its exception (CancelledError
/// included) after the finished report. Throws RuntimeError when no loop is running.
template <class A>
Coro<detail::timed_value_t<A>> timed(A awaitable, std::string name) {
    using T = detail::timed_value_t<A>;
    EventLoop& loop = get_running_loop();
    const TimePoint started_at = loop.time();
    detail::report_timed({TimedEvent::Phase::started, name, started_at, Duration::zero(), nullptr});
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(awaitable);
            result.emplace(true);
        } else {
            // A named local, not co_await inside emplace()'s arguments (GCC 12 pitfall).
            T value = co_await std::move(awaitable);
            result.emplace(std::move(value));
        }
    } catch (...) {
        error = std::current_exception();  // reported below: no co_await in a catch block
    }
    detail::report_timed({TimedEvent::Phase::finished, name, started_at, loop.time() - started_at, error});
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) co_return std::move(*result);
}

/// timed() with the name first, as the decorator reads: async_timed("fetch", fetch(url)).
template <class A>
    requires Awaitable<A> || requires { std::declval<A>().await_resume(); }
auto async_timed(std::string name, A awaitable) {
    return timed(std::move(awaitable), std::move(name));
}

/// The decorator itself: wraps the coroutine function `function` into a callable whose every
/// call is timed under `name`. `auto timed_fetch = aio::async_timed("fetch", fetch);` then
/// `co_await timed_fetch(url)`. The arguments are passed by value, as a coroutine takes them.
template <class F>
    requires(!Awaitable<F> && !requires { std::declval<F>().await_resume(); })
auto async_timed(std::string name, F function) {
    // Not a coroutine lambda: it only calls `function` and timed(), which own their frames,
    // so capturing here is safe (the captures are copied into each call's arguments).
    return [name = std::move(name), function = std::move(function)](auto... args) {
        return timed(function(std::move(args)...), name);
    };
}

}  // namespace aio
