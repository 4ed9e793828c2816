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
#include "aiolab/todo.hpp"
#include "cancellation.hpp"

namespace lab {

namespace detail {

/// The outcome of a future that is done: a copy of its value (the value itself if T can only
/// be moved), or its exception thrown (CancelledError if it was cancelled). Given.
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
    // TODO(step 4), a coroutine:
    //   - no timeout: simply co_await `inner`;
    //   - done already: its result (detail::take_result); timeout <= 0: give up at once;
    //   - else: an aio::Future<void> `wake` that a timer (loop.call_later) and a done
    //     callback on `inner` both complete, whichever is first; co_await `wake`, then cancel
    //     the timer and remove the callback on every way out;
    //   - `wake` threw CancelledError: the caller is cancelled; lab::cancel_and_wait(inner)
    //     if it is not done, then rethrow the CancelledError;
    //   - the timer won: lab::cancel_and_wait(inner), then TimeoutError if it ended cancelled,
    //     else its result.
    // Call lab::cancel_and_wait and lab::wait_for qualified: argument-dependent lookup on an
    // aio::Future would also find aio's functions of the same names.
    (void)inner;
    (void)timeout;
    aiolab::todo("step 4: wait_for(future, timeout)");
}

/// Runs `coro` with a time limit and returns its value, or throws aio::TimeoutError if it is
/// still running `timeout` from now: it is then cancelled (CancelledError at its await) and
/// TimeoutError raised once it has ended. With a limit, the coroutine runs in a task of its
/// own (on the running loop), which is cancelled and waited for on every way out; with
/// std::nullopt it runs inline in the caller. Otherwise as wait_for(future, timeout).
template <class T>
aio::Coro<T> wait_for(aio::Coro<T> coro, std::optional<aio::Duration> timeout) {
    // TODO(step 4): no timeout: co_await `coro` inline. Else make it a task on the running
    // loop and await lab::wait_for(aio::Future<T>(task), timeout) (bound to a named local
    // first: GCC 12 and co_await on a call's result in one expression do not mix).
    (void)coro;
    (void)timeout;
    aiolab::todo("step 4: wait_for(coroutine, timeout)");
}

/// The same with the limit in float seconds, as asyncio writes it: wait_for(work(), 0.5).
/// A negative limit counts as zero. Given.
template <class T>
aio::Coro<T> wait_for(aio::Future<T> inner, double timeout_seconds) {
    return lab::wait_for(std::move(inner), std::optional<aio::Duration>(aio::seconds(timeout_seconds)));
}
template <class T>
aio::Coro<T> wait_for(aio::Coro<T> coro, double timeout_seconds) {
    return lab::wait_for(std::move(coro), std::optional<aio::Duration>(aio::seconds(timeout_seconds)));
}

}  // namespace lab
