#pragma once
// aio::shield: protect a future or task from the cancellation of whoever awaits it
// (asyncio.shield).
//
//     int value = co_await aio::shield(task);
// is `co_await task`, except that cancelling the awaiting task does not cancel `task`: the
// awaiting task gets CancelledError at once, while `task` runs on undisturbed. shield()
// returns a new future, the outer one, that copies the inner one's outcome when it finishes;
// cancelling the outer future (which is what cancelling its awaiting task does) only cuts the
// link. Cancelling the inner task itself still cancels the outer future.
#include <type_traits>
#include <utility>

#include "coro.hpp"
#include "event_loop.hpp"
#include "future.hpp"
#include "task.hpp"

namespace aio {

namespace detail {

/// asyncio's _inner_done_callback: hands the inner future's outcome to the outer one, unless
/// the outer one was cancelled meanwhile.
template <class T>
void pass_outcome_to_shield(const Future<T>& inner, Future<T> outer) {  // a handle: cancel() is non-const
    if (outer.cancelled()) {
        // Nobody will look at the inner outcome through this shield; mark an exception as
        // retrieved so it is not reported as lost (asyncio does the same).
        if (!inner.cancelled()) inner.exception();
        return;
    }
    if (inner.cancelled()) {
        outer.cancel();
        return;
    }
    if (std::exception_ptr error = inner.exception()) {
        outer.set_exception(std::move(error));
    } else if constexpr (std::is_void_v<T>) {
        outer.set_result();
    } else if constexpr (std::is_copy_constructible_v<T>) {
        outer.set_result(inner.result());
    } else {
        outer.set_result(std::move(inner.result()));  // move-only: the shield is its one reader
    }
}

}  // namespace detail

/// Returns a future (the outer one) that finishes as `inner` does, with its value, exception
/// or cancellation, but whose own cancellation never reaches `inner`. If `inner` is already
/// done, returns `inner` itself. Never cancels or waits for anything.
///
/// As in asyncio, the outer future and `inner` refer to each other through their done
/// callbacks until one of them is done: a plain Future that is never completed and whose
/// shield is never cancelled keeps both alive (Python's garbage collector would free them;
/// aio has none). A Task always ends, at the latest when its loop closes.
template <class T>
Future<T> shield(Future<T> inner) {
    if (inner.done()) return inner;
    Future<T> outer(inner.get_loop());
    DoneCallbackToken inner_token =
        inner.add_done_callback([inner, outer] { detail::pass_outcome_to_shield(inner, outer); });
    // asyncio's _outer_done_callback: once the outer future is done (cancelled, usually),
    // unhook it from the inner one, which then holds no reference to it any more.
    outer.add_done_callback([inner, inner_token] {
        if (!inner.done()) inner.remove_done_callback(inner_token);
    });
    return outer;
}

/// Shields a coroutine: wraps it in a task on get_event_loop() first (asyncio's
/// ensure_future), so it runs to its end even if the outer future is cancelled.
/// Throws RuntimeError if there is no event loop.
template <class T>
Future<T> shield(Coro<T> coro) {
    return shield(Future<T>(create_task(get_event_loop(), std::move(coro))));
}

}  // namespace aio
