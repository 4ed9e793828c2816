#include "cancellation.hpp"

#include "aio/task.hpp"

namespace lab {

namespace detail {

void CheckpointAwaiter::await_suspend(std::coroutine_handle<> awaiting) const {
    aio::AbstractTask* task = aio::current_task();
    if (!task) throw aio::RuntimeError("lab::checkpoint() must be awaited inside a task");
    task->yield_now(awaiting);
}

void CheckpointAwaiter::await_resume() const {
    // The task started this step to deliver a cancellation: the awaiter is where it is
    // raised. Without this call the request would be dropped and the task would go on.
    aio::current_task()->throw_if_cancel_delivered();
}

}  // namespace detail

bool is_cancelled_error(const std::exception_ptr& error) noexcept {
    if (!error) return false;
    try {
        std::rethrow_exception(error);
    } catch (const aio::CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

aio::Coro<bool> suppress_cancel(aio::Coro<void> body) {
    // Read when the coroutine starts, that is inside the awaiting task.
    aio::AbstractTask* task = aio::current_task();
    if (!task) throw aio::RuntimeError("lab::suppress_cancel() must be awaited inside a task");
    try {
        co_await std::move(body);
    } catch (const aio::CancelledError&) {
        // Handled here: withdraw the request, or every enclosing timeout would later take
        // its own expiry for an outside cancel (cancelling() would stay above its entry count).
        task->uncancel();
        co_return false;
    }
    co_return true;
}

}  // namespace lab
