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
#include "aiolab/todo.hpp"

namespace lab {

namespace detail {

/// Copies the outcome of `inner` (done) to `outer`, unless `outer` was cancelled meanwhile.
template <class T>
void copy_outcome(const aio::Future<T>& inner, aio::Future<T> outer) {  // by value: cancel() is non-const
    // TODO(step 3): if `outer` was cancelled, nobody reads `inner` through it: return (but
    // call inner.exception() when `inner` is not cancelled, so a failure of `inner` is not
    // reported as "never retrieved" on the shield's account). Else give `outer` the same
    // outcome: cancelled, the exception, or the value (moved if T cannot be copied).
    (void)inner;
    (void)outer;
    aiolab::todo("step 3: copy_outcome");
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
    // TODO(step 3): a done `inner` is returned as it is. Else make the outer future on the
    // same loop; on `inner`, a done callback that calls detail::copy_outcome; on the outer
    // one, a done callback that removes the first callback from `inner` if `inner` is still
    // pending. Return the outer future.
    (void)inner;
    aiolab::todo("step 3: shield");
}

/// Shields a coroutine: it becomes a task on aio::get_event_loop() first, so it runs to its
/// end even if the outer future is cancelled. Throws aio::RuntimeError if there is no loop.
template <class T>
aio::Future<T> shield(aio::Coro<T> coro) {
    // TODO(step 3): make `coro` a task (aio::create_task) and shield that. Call lab::shield,
    // qualified: argument-dependent lookup would also find aio::shield.
    (void)coro;
    aiolab::todo("step 3: shield of a coroutine");
}

}  // namespace lab
