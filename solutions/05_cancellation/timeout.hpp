#pragma once
// lab::timeout / lab::timeout_at: a deadline for code running in the current task
// (asyncio.timeout, Python 3.11+, with 3.12's rule for nested scopes; lab 05, step 5).
//
// asyncio writes
//     async with asyncio.timeout(2.0):
//         result = await work()
// C++ has no `async with`, so the block becomes a body that the scope awaits:
//     int result = co_await lab::timeout(2.0, work());
// or, to look at the scope (expired(), reschedule()), the scope itself:
//     lab::Timeout scope = lab::timeout(2.0);
//     int result = co_await scope.run(work());
// The body runs inline in the current task: no new task.
//
// How it works: the only way to interrupt code running in the current task is to cancel the
// task. Entering records the task and its cancelling() count and starts a timer; the timer
// cancels the task. Leaving withdraws that one request (uncancel()). If the count is then
// back at its entry value and the body ended with CancelledError, the cancellation was this
// scope's own and becomes TimeoutError. An outside cancel() leaves the count above the entry
// value, so its CancelledError goes on up: a timeout never swallows a real cancellation.
// Nested scopes work for the same reason: each compares against its own entry count.
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/abstract_task.hpp"
#include "aio/coro.hpp"
#include "aio/handle.hpp"
#include "aio/time.hpp"

namespace lab {

namespace detail {

/// The value type of what a scope can await: aio::Coro<T>, aio::Future<T>, aio::Task<T> -> T.
template <class Awaitable>
using await_value_t = typename std::remove_cvref_t<Awaitable>::value_type;

/// Where run() keeps the body's value between the body's end and the scope's exit.
template <class T>
struct ValueSlot {
    std::optional<T> value;
};
template <>
struct ValueSlot<void> {};

}  // namespace detail

/// A deadline for code running in the current task (asyncio.Timeout).
///
/// Entered once, by run(): from then until the body ends, reaching when() cancels the task,
/// and the scope turns that cancellation into aio::TimeoutError. Neither copied nor moved
/// (its timer refers to it); it must outlive the Coro that run() returns, as it does when it
/// is a local of the coroutine that awaits that Coro.
class Timeout {
public:
    /// A scope that expires at loop time `when`, or never for std::nullopt. A `when` already
    /// past expires in the first loop iteration after entry.
    explicit Timeout(std::optional<aio::TimePoint> when) noexcept : when_(when) {}
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;
    /// Cancels the timer if it is still pending (the task was destroyed inside the body).
    ~Timeout();

    /// The deadline, std::nullopt if none.
    std::optional<aio::TimePoint> when() const noexcept { return when_; }

    /// Moves the deadline to `when` (std::nullopt: none); a time already past expires in the
    /// next loop iteration. Throws aio::RuntimeError unless the scope is active (entered, not
    /// expired, not left).
    void reschedule(std::optional<aio::TimePoint> when);

    /// Whether the deadline was reached while the scope was active: true from the moment it
    /// cancels the task, and after the scope is left.
    bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }

    /// Runs `body` (an aio::Coro, Future or Task) inline in the current task under this
    /// deadline and returns its value. Throws aio::TimeoutError if the deadline cancelled it;
    /// rethrows anything else it threw, CancelledError of an outside cancel() included. If the
    /// body catches the cancellation and returns normally, its value is returned. Throws
    /// aio::RuntimeError outside a task or if this scope was entered before.
    template <class Awaitable>
    aio::Coro<detail::await_value_t<Awaitable>> run(Awaitable body);

    /// asyncio's __aenter__: records the current task and its cancelling() count, schedules
    /// the deadline. Throws aio::RuntimeError outside a task or if entered before.
    void enter();
    /// asyncio's __aexit__: stops the timer, withdraws this scope's cancel request if it made
    /// one, and throws aio::TimeoutError if `body_error` is the CancelledError that request
    /// caused; else rethrows `body_error` if there is one, or returns.
    void leave(std::exception_ptr body_error);

private:
    enum class State : unsigned char { created, entered, expiring, expired, exited };

    /// The timer fired (the task is suspended in the body): cancel the task.
    void on_timeout();

    std::optional<aio::TimePoint> when_;
    aio::Handle timer_;                 // the pending on_timeout call (a timer, or call_soon)
    aio::AbstractTask* task_ = nullptr; // the task the scope runs in; it outlives the scope
    int cancelling_at_entry_ = 0;       // task_->cancelling() when entered
    State state_ = State::created;
};

/// A Timeout expiring `delay` after now on the running loop (asyncio.timeout(delay));
/// std::nullopt: never. Throws aio::RuntimeError if no loop is running.
Timeout timeout(std::optional<aio::Duration> delay);
/// The same in float seconds; a negative delay counts as zero.
Timeout timeout(double delay_seconds);
/// A Timeout expiring at loop time `when` (asyncio.timeout_at); std::nullopt: never.
inline Timeout timeout_at(std::optional<aio::TimePoint> when) noexcept { return Timeout(when); }

/// Runs `body` inline in the current task with a deadline at loop time `when`:
/// `async with asyncio.timeout_at(when): return await body`. See Timeout::run.
template <class Awaitable>
aio::Coro<detail::await_value_t<Awaitable>> timeout_at(std::optional<aio::TimePoint> when, Awaitable body) {
    Timeout scope(when);
    // A named local, not co_await on a call's result in one expression (GCC 12).
    aio::Coro<detail::await_value_t<Awaitable>> guarded = scope.run(std::move(body));
    co_return co_await std::move(guarded);
}
/// The same with a deadline `delay` after the coroutine starts (std::nullopt: none).
template <class Awaitable>
aio::Coro<detail::await_value_t<Awaitable>> timeout(std::optional<aio::Duration> delay, Awaitable body) {
    Timeout scope = lab::timeout(delay);
    aio::Coro<detail::await_value_t<Awaitable>> guarded = scope.run(std::move(body));
    co_return co_await std::move(guarded);
}
template <class Awaitable>
aio::Coro<detail::await_value_t<Awaitable>> timeout(double delay_seconds, Awaitable body) {
    return lab::timeout(std::optional<aio::Duration>(aio::seconds(delay_seconds)), std::move(body));
}

template <class Awaitable>
aio::Coro<detail::await_value_t<Awaitable>> Timeout::run(Awaitable body) {
    using T = detail::await_value_t<Awaitable>;
    enter();
    std::exception_ptr body_error;
    detail::ValueSlot<T> result;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(body);
        } else {
            T value = co_await std::move(body);  // a named local: no co_await inside a call
            result.value.emplace(std::move(value));
        }
    } catch (...) {
        body_error = std::current_exception();  // no co_await in a handler; leave() below
    }
    leave(std::move(body_error));
    if constexpr (std::is_void_v<T>) {
        co_return;
    } else {
        co_return std::move(*result.value);
    }
}

}  // namespace lab
