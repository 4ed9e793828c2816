#pragma once
// aio::AbstractTask: the task whose step is running now, as awaiters see it.
//
// In asyncio a coroutine that awaits a pending future yields that future up to the task
// running it (Task.__step), and the task registers itself as the future's done callback.
// aio's awaiters do the same through this interface, so any task type can run them:
// aio::Task, or a lab's own task class, which marks itself current for the length of each
// step with CurrentTaskScope (asyncio's _enter_task/_leave_task).
#include <coroutine>
#include <string>

namespace aio {

class Waitable;

class AbstractTask {
public:
    /// The coroutine suspends until `future` is done, then resumes at `resume_point` in a
    /// later step. Throws RuntimeError if the task awaits itself or a future of another loop.
    virtual void wait_on(Waitable& future, std::coroutine_handle<> resume_point) = 0;
    /// The coroutine gives up the rest of this step; the next step resumes `resume_point`
    /// in the next loop iteration (asyncio's bare yield, as in sleep(0)).
    virtual void yield_now(std::coroutine_handle<> resume_point) = 0;
    /// Called first by every awaiter's await_resume: throws CancelledError if this step was
    /// started to deliver a cancellation.
    virtual void throw_if_cancel_delivered() = 0;

    /// asyncio's Task.cancel, Task.cancelling, Task.uncancel, Task.get_name.
    virtual bool cancel(std::string message = {}) = 0;
    virtual int cancelling() const noexcept = 0;
    virtual int uncancel() noexcept = 0;
    virtual std::string get_name() const = 0;
    /// The task as a future (to wait on it, or to add done callbacks).
    virtual Waitable& as_future() noexcept = 0;

protected:
    ~AbstractTask() = default;
};

/// The task running on this thread, or nullptr outside any task (asyncio.current_task).
AbstractTask* current_task() noexcept;

/// Makes `task` the current task until the scope ends, then restores the previous one.
/// A task implementation opens one around each step it runs.
class CurrentTaskScope {
public:
    explicit CurrentTaskScope(AbstractTask* task) noexcept;
    ~CurrentTaskScope();
    CurrentTaskScope(const CurrentTaskScope&) = delete;
    CurrentTaskScope& operator=(const CurrentTaskScope&) = delete;

private:
    AbstractTask* previous_;
};

}  // namespace aio
