#pragma once
// Cancellation as a task sees it (lab 05, steps 1 and 2).
//
// An aio task is never stopped by force. task.cancel() is a request: it cancels the future
// the task waits on, or, if the task waits on nothing, sets a flag that stays set until the
// task next awaits. Either way CancelledError is raised at a co_await of the task, and the
// task decides what happens next: let it unwind (the usual answer), or catch it and go on.
//
//   checkpoint()        a cancel point for code that otherwise never awaits
//   is_cancelled_error  tells a CancelledError from any other exception, without a catch
//   suppress_cancel     runs a body and absorbs its cancellation, withdrawing the request
//   cancel_and_wait     cancels a future or task and waits until it has really stopped
#include <coroutine>
#include <exception>
#include <string>
#include <utility>

#include "aio/abstract_task.hpp"
#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/future.hpp"

namespace lab {

namespace detail {

/// What `co_await lab::checkpoint()` uses: a bare yield to the loop (asyncio's sleep(0)).
struct CheckpointAwaiter {
    bool await_ready() const noexcept { return false; }
    /// Asks the current task to resume `awaiting` in the next loop iteration.
    /// Throws aio::RuntimeError outside a task.
    void await_suspend(std::coroutine_handle<> awaiting) const;
    /// Raises the CancelledError this step was started to deliver, if any.
    void await_resume() const;
};

}  // namespace detail

/// Awaitable: the task goes to the back of the ready queue, so every other ready task runs
/// first, and the await is a cancel point: a cancellation requested before or meanwhile is
/// raised here as aio::CancelledError. asyncio writes it `await asyncio.sleep(0)`.
/// Throws aio::RuntimeError when awaited outside a task.
inline detail::CheckpointAwaiter checkpoint() noexcept { return {}; }

/// Whether `error` holds an aio::CancelledError. False for nullptr; never throws.
bool is_cancelled_error(const std::exception_ptr& error) noexcept;

/// Runs `body` inline in the current task. Returns true if the body ran to its end, false if
/// it ended with aio::CancelledError: the cancellation is then handled here, so one cancel
/// request of the current task is withdrawn (uncancel()) and cancelling() is back where it
/// was, as asyncio asks of code that swallows a cancellation. Any other exception goes
/// through unchanged. Throws aio::RuntimeError when awaited outside a task.
aio::Coro<bool> suppress_cancel(aio::Coro<void> body);

/// Cancels `future` (a Future or a Task) with `message` and returns once it is done: a task
/// has then run its clean-up, and ended cancelled, or with the value or exception it chose
/// instead. Never throws the future's outcome (read it from the future). Returns at once if
/// the future is already done. If the caller is cancelled while it waits, the wait ends at
/// once with CancelledError, and `future` is not cancelled a second time; it goes on
/// cleaning up on its own. asyncio's private helper of the same name.
template <class T>
aio::Coro<void> cancel_and_wait(aio::Future<T> future, std::string message = {}) {
    if (future.done()) co_return;
    // Wait on a separate future that the done callback completes, not on `future` itself:
    // awaiting `future` would make a cancel of the caller cancel `future` again and keep
    // the caller waiting for its clean-up, so the caller could not be cancelled promptly.
    aio::Future<void> finished(future.get_loop());
    aio::DoneCallbackToken token = future.add_done_callback([finished] {
        if (!finished.done()) finished.set_result();  // cancelled if the caller was
    });
    future.cancel(std::move(message));
    std::exception_ptr caller_cancelled;
    try {
        co_await future;  // MUTANT: awaits the future itself; a cancel of the caller cancels it again
    } catch (const aio::CancelledError&) {
        if (!future.done() || !future.cancelled()) caller_cancelled = std::current_exception();
    } catch (...) {
        caller_cancelled = std::current_exception();  // no co_await in a handler (C++20)
    }
    future.remove_done_callback(token);  // a no-op once the callback has run
    if (caller_cancelled) std::rethrow_exception(caller_cancelled);
}

}  // namespace lab
