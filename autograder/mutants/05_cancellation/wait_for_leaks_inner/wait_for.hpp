#pragma once
// lab::wait_for: await a future, task or coroutine with a time limit (asyncio.wait_for;
// lab 05, step 4).
//
// Built the way Python 3.11 built it: the awaited thing runs on its own (a coroutine becomes
// a task), and the caller waits on a third future, `wake`, that either the inner future's
// done callback or a timer completes, whichever comes first. So the timer never touches the
// caller's task, and a CancelledError the caller gets can only come from outside.
//
//   - done in time: its value (or exception) is returned (or rethrown);
//   - too slow: it is cancelled and waited for (cancel_and_wait) before TimeoutError is
//     raised, so no work is left running behind the caller's back; if it catches the
//     cancellation and finishes with a value anyway, that value is returned (3.12's rule);
//   - timeout <= 0: the same, without waiting first (a coroutine never even starts);
//   - the caller is cancelled: the inner thing is cancelled too and waited for, and the
//     caller gets CancelledError, never TimeoutError.
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/future.hpp"
#include "aio/handle.hpp"
#include "aio/task.hpp"
#include "aio/time.hpp"
#include "cancellation.hpp"

namespace lab {

namespace detail {

/// The outcome of a future that is done: a copy of its value (the value itself if T can only
/// be moved), or its exception thrown (CancelledError if it was cancelled).
template <class T>
T take_result(const aio::Future<T>& future) {
    if constexpr (std::is_void_v<T>) {
        future.result();
    } else if constexpr (std::is_copy_constructible_v<T>) {
        return future.result();
    } else {
        return std::move(future.result());
    }
}

/// After the deadline: cancel `inner`, wait until it is done, then TimeoutError if it ended
/// cancelled, else its outcome (it caught the cancellation and finished anyway).
template <class T>
aio::Coro<T> give_up_on(aio::Future<T> inner) {
    if (!inner.done()) {
        inner.cancel();  // MUTANT: gives up without waiting for the inner work to stop
        throw aio::TimeoutError();
    }
    if (inner.cancelled()) throw aio::TimeoutError();
    co_return take_result(inner);
}

}  // namespace detail

/// Waits for `inner` (a Future or Task) and returns its value, or throws aio::TimeoutError if
/// it is not done `timeout` from now; it is then cancelled first, and TimeoutError is raised
/// only once it is done (a task may take a while to clean up). If it finishes with a value
/// anyway, that value is returned. std::nullopt: no limit. A timeout <= 0: the result if
/// `inner` is already done, else as on expiry. Rethrows the exception `inner` ends with. If
/// the caller is cancelled meanwhile, `inner` is cancelled and waited for, and CancelledError
/// propagates.
template <class T>
aio::Coro<T> wait_for(aio::Future<T> inner, std::optional<aio::Duration> timeout) {
    if (!timeout) co_return co_await inner;  // a cancel of the caller cancels inner, as asyncio
    if (*timeout <= aio::Duration::zero() || inner.done()) {
        if (inner.done()) co_return detail::take_result(inner);
        aio::Coro<T> expired = detail::give_up_on(inner);
        co_return co_await std::move(expired);
    }

    aio::EventLoop& loop = inner.get_loop();
    aio::Future<void> wake(loop);
    auto wake_up = [wake] {
        if (!wake.done()) wake.set_result();  // the first of the timer and the inner wins
    };
    aio::TimerHandle timer = loop.call_later(*timeout, wake_up);
    aio::DoneCallbackToken token = inner.add_done_callback(wake_up);
    std::exception_ptr caller_cancelled;
    try {
        co_await wake;
    } catch (const aio::CancelledError&) {
        caller_cancelled = std::current_exception();  // no co_await in a handler (C++20)
    }
    // Whatever woke us, drop the other wake-up: no timer outlives the call.
    timer.cancel();
    inner.remove_done_callback(token);

    if (caller_cancelled) {
        // The caller is being cancelled: the work it waited for must stop too, and be
        // finished, before the caller's CancelledError goes on up.
        if (!inner.done()) {
            aio::Coro<void> stopping = lab::cancel_and_wait(inner);
            co_await std::move(stopping);
        }
        std::rethrow_exception(caller_cancelled);
    }
    if (inner.done()) co_return detail::take_result(inner);
    aio::Coro<T> expired = detail::give_up_on(inner);
    co_return co_await std::move(expired);
}

/// Runs `coro` with a time limit and returns its value, or throws aio::TimeoutError if it is
/// still running `timeout` from now: it is then cancelled (CancelledError at its await) and
/// TimeoutError raised once it has ended. With a limit, the coroutine runs in a task of its
/// own (on the running loop), which is cancelled and waited for on every way out; with
/// std::nullopt it runs inline in the caller. Otherwise as wait_for(future, timeout).
template <class T>
aio::Coro<T> wait_for(aio::Coro<T> coro, std::optional<aio::Duration> timeout) {
    if (!timeout) co_return co_await std::move(coro);
    aio::Task<T> task = aio::create_task(aio::get_running_loop(), std::move(coro));
    // Qualified: argument-dependent lookup would also find aio::wait_for.
    aio::Coro<T> limited = lab::wait_for(aio::Future<T>(task), timeout);
    co_return co_await std::move(limited);
}

/// The same with the limit in float seconds, as asyncio writes it: wait_for(work(), 0.5).
/// A negative limit counts as zero.
template <class T>
aio::Coro<T> wait_for(aio::Future<T> inner, double timeout_seconds) {
    return lab::wait_for(std::move(inner), std::optional<aio::Duration>(aio::seconds(timeout_seconds)));
}
template <class T>
aio::Coro<T> wait_for(aio::Coro<T> coro, double timeout_seconds) {
    return lab::wait_for(std::move(coro), std::optional<aio::Duration>(aio::seconds(timeout_seconds)));
}

}  // namespace lab
