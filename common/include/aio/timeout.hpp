#pragma once
// aio::timeout / aio::timeout_at: a deadline for a piece of code running in the current task
// (asyncio.timeout / asyncio.timeout_at, Python 3.11+, with 3.12's nesting rule).
//
// asyncio writes
//     async with asyncio.timeout(2.0) as scope:
//         result = await work()
// C++ has no `async with`: a scope cannot run code when a block is left by an exception
// *and* await there. So the block becomes a coroutine that the scope awaits:
//     int result = co_await aio::timeout(2.0, work());
// and, when the body needs the scope (to reschedule it, or to read when()), a callable that
// receives it and returns the body:
//     int result = co_await aio::timeout(2.0, [](aio::Timeout& scope) -> aio::Coro<int> {...});
// and, when the caller wants to look at the scope afterwards (expired()), the scope itself:
//     aio::Timeout scope = aio::timeout(2.0);
//     int result = co_await scope.run(work());
// In every form the body runs inline in the current task: no new task is created, as in
// asyncio. The one-argument timeout(delay) reads loop.time() when called, like asyncio's;
// the two-argument forms read it when their coroutine starts, which is where asyncio's
// `async with` line runs.
//
// How it works (asyncio's, on Task.cancel/cancelling/uncancel): entering records the task
// and its cancelling() count and schedules a timer. When the timer fires, the task is
// cancelled: CancelledError is raised at whatever the body awaits. Leaving the scope
// withdraws that one request with uncancel(); if the count is then back to what it was at
// entry and the body ended with CancelledError, this scope caused it and it becomes
// TimeoutError. An outside cancel() during the scope leaves the count above the entry value,
// so CancelledError goes on up: a timeout never swallows a real cancellation. Nested scopes
// work for the same reason: each compares against its own entry count.
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "abstract_task.hpp"
#include "coro.hpp"
#include "future.hpp"
#include "handle.hpp"
#include "task.hpp"
#include "time.hpp"

namespace aio {

namespace detail {
/// The value type of something aio can await: Coro<T>, Future<T>, Task<T> -> T.
template <class Awaitable>
using await_value_t = typename std::remove_cvref_t<Awaitable>::value_type;
class TimeoutExitGuard;
}  // namespace detail

/// A deadline for code running in the current task (asyncio.Timeout).
///
/// A Timeout is entered once, by run(): from then until run()'s body finishes, reaching
/// when() cancels the task and the scope turns that cancellation into TimeoutError.
/// It can neither be copied nor moved: its timer refers to it. It must outlive the Coro that
/// run() returns (it does when it is a local of the coroutine that awaits that Coro).
class Timeout {
public:
    /// A scope that expires at loop time `when`, or never for std::nullopt. A `when` already
    /// past expires in the first loop iteration after entry. Prefer aio::timeout_at().
    explicit Timeout(std::optional<TimePoint> when) noexcept : when_(when) {}
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;
    /// Cancels the timer if the scope is still active (its task's frame was destroyed).
    ~Timeout();

    /// The current deadline, std::nullopt if none.
    std::optional<TimePoint> when() const noexcept { return when_; }

    /// Moves the deadline to `when` (std::nullopt: none); a `when` already past expires in
    /// the next loop iteration. Throws RuntimeError unless the scope is active (entered, not
    /// expired, not left), as asyncio does.
    void reschedule(std::optional<TimePoint> when);

    /// Whether the deadline was reached while the scope was active (true from the moment the
    /// task is cancelled, and after the scope is left).
    bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }

    /// For reports, as asyncio's repr: "<Timeout [active] when=2.5>", "<Timeout [expired]>".
    std::string describe() const;

    /// Runs `body` (a Coro, Future or Task) in the current task under this deadline and
    /// returns its value. Throws TimeoutError if the deadline cancelled it; rethrows anything
    /// else it threw, CancelledError from an outside cancel() included. If the body catches
    /// the cancellation and returns normally, its value is returned (asyncio does the same).
    /// Throws RuntimeError if awaited outside a task or if this scope was entered before.
    template <class Awaitable>
    Coro<detail::await_value_t<Awaitable>> run(Awaitable body);

    // --- asyncio's __aenter__ / __aexit__, for awaitables built on a Timeout -------------

    /// Enters the scope in the current task and schedules the deadline.
    /// Throws RuntimeError outside a task or if already entered.
    void enter();
    /// Leaves the scope: cancels the timer, withdraws this scope's cancel() request, and
    /// throws TimeoutError if `body_error` is the CancelledError that request caused;
    /// otherwise rethrows `body_error` if there is one, or returns.
    void leave(std::exception_ptr body_error);

private:
    friend class detail::TimeoutExitGuard;
    enum class State : unsigned char { created, entered, expiring, expired, exited };

    void on_timeout();
    /// The body's frame is destroyed while the scope is active: stop the timer, mark left.
    void abandon() noexcept;

    std::optional<TimePoint> when_;
    Handle timeout_handle_;            // the pending on_timeout callback, if any
    AbstractTask* task_ = nullptr;     // the task the scope runs in: it outlives the scope
    int cancelling_at_entry_ = 0;      // task_->cancelling() when entered
    State state_ = State::created;
};

/// A Timeout expiring `delay` after now on the running loop (asyncio.timeout(delay));
/// std::nullopt: never. Enter it with run(). Throws RuntimeError if no loop is running.
Timeout timeout(std::optional<Duration> delay);
/// The same, in float seconds.
Timeout timeout(double delay_seconds);
/// A Timeout expiring at loop time `when` (asyncio.timeout_at); std::nullopt: never.
inline Timeout timeout_at(std::optional<TimePoint> when) noexcept { return Timeout(when); }

/// Runs `body` (a Coro, Future or Task) inline in the current task with a deadline at loop
/// time `when` (std::nullopt: none), as `async with asyncio.timeout_at(when): return await body`.
/// Returns the body's value; throws TimeoutError if the deadline cancelled it, and rethrows
/// whatever else the body threw (CancelledError from an outside cancel() included).
template <class Awaitable>
    requires requires { typename detail::await_value_t<Awaitable>; }
Coro<detail::await_value_t<Awaitable>> timeout_at(std::optional<TimePoint> when, Awaitable body) {
    Timeout scope(when);
    // A named local, not `co_await scope.run(...)` in one expression: see GCC 12 notes in
    // the project brief (temporaries with destructors inside a co_await expression).
    Coro<detail::await_value_t<Awaitable>> guarded = scope.run(std::move(body));
    co_return co_await std::move(guarded);
}

/// The same with a deadline `delay` after the coroutine starts (std::nullopt: none).
template <class Awaitable>
    requires requires { typename detail::await_value_t<Awaitable>; }
Coro<detail::await_value_t<Awaitable>> timeout(std::optional<Duration> delay, Awaitable body) {
    Timeout scope = timeout(delay);
    Coro<detail::await_value_t<Awaitable>> guarded = scope.run(std::move(body));
    co_return co_await std::move(guarded);
}
template <class Awaitable>
    requires requires { typename detail::await_value_t<Awaitable>; }
Coro<detail::await_value_t<Awaitable>> timeout(double delay_seconds, Awaitable body) {
    return timeout(std::optional<Duration>(seconds(delay_seconds)), std::move(body));
}

/// Runs the body that `make_body(scope)` returns, for a body that needs its scope (to call
/// reschedule() or when()). `make_body` is kept in this coroutine's frame until the body
/// finishes, so even a capturing coroutine lambda is safe here; it is called before the
/// scope is entered, so the body may call reschedule() only once it runs.
template <class MakeBody>
    requires std::is_invocable_v<MakeBody&, Timeout&>
auto timeout_at(std::optional<TimePoint> when, MakeBody make_body)
    -> Coro<detail::await_value_t<std::invoke_result_t<MakeBody&, Timeout&>>> {
    using T = detail::await_value_t<std::invoke_result_t<MakeBody&, Timeout&>>;
    Timeout scope(when);
    auto body = make_body(scope);
    Coro<T> guarded = scope.run(std::move(body));
    co_return co_await std::move(guarded);
}
template <class MakeBody>
    requires std::is_invocable_v<MakeBody&, Timeout&>
auto timeout(std::optional<Duration> delay, MakeBody make_body)
    -> Coro<detail::await_value_t<std::invoke_result_t<MakeBody&, Timeout&>>> {
    using T = detail::await_value_t<std::invoke_result_t<MakeBody&, Timeout&>>;
    Timeout scope = timeout(delay);
    auto body = make_body(scope);
    Coro<T> guarded = scope.run(std::move(body));
    co_return co_await std::move(guarded);
}
template <class MakeBody>
    requires std::is_invocable_v<MakeBody&, Timeout&>
auto timeout(double delay_seconds, MakeBody make_body)
    -> Coro<detail::await_value_t<std::invoke_result_t<MakeBody&, Timeout&>>> {
    return timeout(std::optional<Duration>(seconds(delay_seconds)), std::move(make_body));
}

// --- implementation ------------------------------------------------------------------------

namespace detail {

/// Leaves `scope` if the frame running it is destroyed while it is active (the loop closed
/// with the task pending), so the timer never fires for a scope whose body is gone.
class TimeoutExitGuard {
public:
    explicit TimeoutExitGuard(Timeout& scope) noexcept : scope_(&scope) {}
    TimeoutExitGuard(const TimeoutExitGuard&) = delete;
    TimeoutExitGuard& operator=(const TimeoutExitGuard&) = delete;
    ~TimeoutExitGuard();
    /// The scope was left normally: nothing to do on destruction.
    void dismiss() noexcept { scope_ = nullptr; }

private:
    Timeout* scope_;
};

}  // namespace detail

template <class Awaitable>
Coro<detail::await_value_t<Awaitable>> Timeout::run(Awaitable body) {
    using T = detail::await_value_t<Awaitable>;
    enter();
    detail::TimeoutExitGuard guard(*this);
    std::exception_ptr body_error;
    detail::ResultSlot<T> result;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(body);
        } else {
            // A named local first: no co_await inside another call's arguments (GCC 12).
            T value = co_await std::move(body);
            result.value.emplace(std::move(value));
        }
    } catch (...) {
        body_error = std::current_exception();  // no co_await in a handler: leave() below
    }
    guard.dismiss();
    leave(std::move(body_error));
    if constexpr (std::is_void_v<T>) {
        co_return;
    } else {
        co_return std::move(*result.value);
    }
}

}  // namespace aio
