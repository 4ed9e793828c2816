#pragma once
// aio::wait_for: await a coroutine, future or task with a time limit (asyncio.wait_for,
// with Python 3.12's semantics).
//
// Python 3.12 rebuilt wait_for on asyncio.timeout, and aio follows it:
//   - a coroutine runs inline in the current task, under an aio::timeout scope (no new task);
//     a future or task is awaited under that scope;
//   - on expiry the current task is cancelled, so the awaited coroutine, or the awaited task
//     (Task.cancel cancels the future its task waits on), gets CancelledError, and wait_for
//     waits until it has really finished (its clean-up has run) before raising TimeoutError;
//   - if the awaited thing catches the cancellation and returns a value anyway, wait_for
//     returns that value (3.12 and later; 3.11 raised TimeoutError);
//   - a timeout <= 0 is special: the awaitable is made a future (a coroutine becomes a task
//     that never starts), its result is returned if it is already done, else it is cancelled,
//     waited for, and TimeoutError is raised unless it finished with a value anyway.
// A cancel() of the task calling wait_for cancels the awaited thing too and CancelledError
// propagates, never TimeoutError.
#include <optional>
#include <type_traits>
#include <utility>

#include "coro.hpp"
#include "future.hpp"
#include "task.hpp"
#include "time.hpp"
#include "timeout.hpp"

namespace aio {

namespace detail {

/// asyncio's `fut.result()` for a future known to be done: a copy of its value (the value
/// itself for move-only types), or its exception thrown.
template <class T>
T result_of_done(const Future<T>& future) {
    if constexpr (std::is_void_v<T>) {
        future.result();
    } else if constexpr (std::is_copy_constructible_v<T>) {
        return future.result();
    } else {
        return std::move(future.result());
    }
}

/// Cancels `future` and waits until it is done (asyncio's _cancel_and_wait). It waits on a
/// separate waiter, not on `future` itself, so that cancelling the waiting task ends the wait
/// at once instead of cancelling `future` a second time and waiting on.
template <class T>
Coro<void> cancel_and_wait(Future<T> future) {
    Future<void> waiter(future.get_loop());
    DoneCallbackToken token = future.add_done_callback([waiter] {
        if (!waiter.done()) waiter.set_result();
    });
    std::exception_ptr error;
    try {
        future.cancel();
        co_await waiter;
    } catch (...) {
        error = std::current_exception();  // no co_await in a handler: clean up below
    }
    future.remove_done_callback(token);  // a no-op once it ran
    if (error) std::rethrow_exception(error);
}

/// wait_for with a timeout <= 0 (asyncio's special case).
template <class T>
Coro<T> wait_for_expired(Future<T> future) {
    if (future.done()) co_return result_of_done(future);
    Coro<void> cancelling = cancel_and_wait(future);
    co_await std::move(cancelling);
    if (future.cancelled()) throw TimeoutError();
    co_return result_of_done(future);  // it caught the cancellation and finished anyway
}

}  // namespace detail

/// Runs `coro` inline in the current task and returns its value, or throws TimeoutError if
/// it is still running `delay` from now: the coroutine is then cancelled (CancelledError at
/// its await point) and TimeoutError is raised once it has ended. If it catches the
/// cancellation and returns a value, that value is returned. std::nullopt: no time limit.
/// A `delay` <= 0 wraps `coro` in a task and cancels it before it starts (asyncio does so).
/// Rethrows whatever `coro` throws; a cancel() of the current task cancels `coro` and
/// CancelledError propagates. Throws RuntimeError outside a task.
template <class T>
Coro<T> wait_for(Coro<T> coro, std::optional<Duration> delay) {
    if (delay && *delay <= Duration::zero()) {
        Future<T> task = create_task(get_running_loop(), std::move(coro));
        Coro<T> expired = detail::wait_for_expired(std::move(task));
        co_return co_await std::move(expired);
    }
    Timeout scope = timeout(delay);
    // Named locals, not co_await on a call's result in one expression: GCC 12 (see timeout.hpp).
    Coro<T> guarded = scope.run(std::move(coro));
    co_return co_await std::move(guarded);
}

/// Waits for `future` (a Future or Task) and returns its value, or throws TimeoutError if it
/// is not done `delay` from now: it is then cancelled, and TimeoutError is raised once it is
/// done (a task may take a while to clean up). If it finishes with a value anyway, that value
/// is returned. std::nullopt: no time limit. With `delay` <= 0: its result if it is already
/// done, else it is cancelled and waited for as above. Rethrows the future's exception; a
/// cancel() of the current task cancels `future` and CancelledError propagates.
template <class T>
Coro<T> wait_for(Future<T> future, std::optional<Duration> delay) {
    if (delay && *delay <= Duration::zero()) {
        Coro<T> expired = detail::wait_for_expired(std::move(future));
        co_return co_await std::move(expired);
    }
    Timeout scope = timeout(delay);
    Coro<T> guarded = scope.run(std::move(future));
    co_return co_await std::move(guarded);
}

/// The same with the limit in float seconds, as asyncio writes it: wait_for(work(), 0.5).
template <class T>
Coro<T> wait_for(Coro<T> coro, double delay_seconds) {
    return wait_for(std::move(coro), std::optional<Duration>(seconds(delay_seconds)));
}
template <class T>
Coro<T> wait_for(Future<T> future, double delay_seconds) {
    return wait_for(std::move(future), std::optional<Duration>(seconds(delay_seconds)));
}

}  // namespace aio
