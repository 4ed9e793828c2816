#pragma once
// lab::shield: protect a future or task from the cancellation of whoever awaits it
// (asyncio.shield; lab 05, step 3).
//
//     int value = co_await lab::shield(task);
// is `co_await task`, except that cancelling the awaiting task does not cancel `task`: the
// awaiting task gets CancelledError at once and `task` runs on. The trick is a second
// future, the outer one: the awaiting task waits on it (so a cancel of that task cancels the
// outer future), and a done callback on the inner one copies its outcome to the outer one.
// Nothing ever passes a cancellation from the outer future to the inner one.
#include <type_traits>
#include <utility>

#include "aio/coro.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "aio/task.hpp"

namespace lab {

namespace detail {

/// Copies the outcome of `inner` (done) to `outer`, unless `outer` was cancelled meanwhile.
template <class T>
void copy_outcome(const aio::Future<T>& inner, aio::Future<T> outer) {  // by value: cancel() is non-const
    if (outer.cancelled()) {
        // Nobody will read the inner outcome through this shield; mark an exception as
        // read so it is not reported as "never retrieved" on the shield's account.
        if (!inner.cancelled()) (void)inner.exception();
        return;
    }
    if (inner.cancelled()) {
        outer.cancel();
    } else if (std::exception_ptr error = inner.exception()) {
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

/// Returns a new future, the outer one, that finishes as `inner` does (with its value, its
/// exception, or cancelled if `inner` is cancelled), but whose own cancellation never reaches
/// `inner`. If `inner` is already done, returns `inner` itself. Never cancels or waits for
/// anything.
///
/// The two futures hold each other through their done callbacks until one of them is done
/// (asyncio's shield does the same): once the outer one is cancelled, its callback unhooks
/// the inner one, which then holds nothing.
template <class T>
aio::Future<T> shield(aio::Future<T> inner) {
    if (inner.done()) return inner;
    aio::Future<T> outer(inner.get_loop());
    aio::DoneCallbackToken copy_token =
        inner.add_done_callback([inner, outer] { detail::copy_outcome(inner, outer); });
    outer.add_done_callback([inner, outer, copy_token]() mutable {
        if (!inner.done()) inner.remove_done_callback(copy_token);
        if (outer.cancelled()) inner.cancel();  // MUTANT: the cancellation reaches the inner work
    });
    return outer;
}

/// Shields a coroutine: it becomes a task on aio::get_event_loop() first, so it runs to its
/// end even if the outer future is cancelled. Throws aio::RuntimeError if there is no loop.
template <class T>
aio::Future<T> shield(aio::Coro<T> coro) {
    aio::Task<T> task = aio::create_task(aio::get_event_loop(), std::move(coro));
    return lab::shield(aio::Future<T>(task));  // qualified: ADL would also find aio::shield
}

}  // namespace lab
