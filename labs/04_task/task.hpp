#pragma once
// lab::Task<T>: a coroutine driven on the loop one step at a time (asyncio.Task), written
// from scratch on top of aio's future.
//
// A task is a future: it finishes with its coroutine's value or exception, or is cancelled.
// Each step resumes the coroutine where it last suspended and runs it until it awaits
// something not ready yet, or returns. The task's future part is aio::FutureCore (lab 03's
// subject, taken from aio so that this lab is about stepping, waking and cancelling).
//
// The task implements aio::AbstractTask and marks itself current (aio::CurrentTaskScope)
// for the length of each step, so every aio awaiter works inside it: aio futures and tasks,
// aio::sleep, and lab 04's own tasks. Awaiters call back into the task: wait_on() when the
// coroutine waits for a future (the task registers its wake-up as that future's done
// callback), yield_now() for sleep(0), throw_if_cancel_delivered() when it resumes.
//
// A pending task keeps itself alive (it holds a reference to itself, dropped when it
// finishes), so dropping every Task handle never destroys a running task.
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/abstract_task.hpp"
#include "aio/coro.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "aio/run.hpp"
#include "aiolab/todo.hpp"

namespace lab {

/// The untyped part of a lab task: the stepping, waking and cancelling.
class TaskBase : public aio::FutureCore, public aio::AbstractTask {
public:
    /// The name given to create_task, else "Task-N" (N counts the lab tasks of this thread).
    std::string get_name() const override;
    void set_name(std::string name);
    /// "<Task pending name='Task-1'>", "<Task finished name='main'>", ...
    std::string describe() const override;

    // --- step 2: the awaiting protocol (called by awaiters, not by application code) ------

    /// The coroutine suspends until `future` is done; the task then resumes `resume_point`.
    /// Throws RuntimeError if the task awaits itself or a future of another loop.
    void wait_on(aio::Waitable& future, std::coroutine_handle<> resume_point) override;
    /// The coroutine gives up the rest of this step (sleep(0)); the next step, in the next
    /// loop iteration, resumes `resume_point`.
    void yield_now(std::coroutine_handle<> resume_point) override;
    aio::Waitable& as_future() noexcept override { return *this; }

    // --- step 3: cancellation ---------------------------------------------------------------

    /// Requests cancellation: CancelledError is raised at the coroutine's current await
    /// point (by cancelling the future it waits on, or, if there is none, at its next step),
    /// or at its start if it has not started. Returns false if the task is done.
    bool cancel(std::string message = {}) override;
    /// How many cancel() requests are pending (asyncio's Task.cancelling).
    int cancelling() const noexcept override;
    /// Withdraws one cancel() request; returns how many remain. At zero, a cancellation not
    /// yet delivered is withdrawn too (asyncio's Task.uncancel).
    int uncancel() noexcept override;
    /// Throws CancelledError if this step was started to deliver a cancellation.
    void throw_if_cancel_delivered() override;

protected:
    /// Takes ownership of `coroutine` (a frame not started yet) and schedules the first step.
    /// Throws RuntimeError if the loop is closed (the frame is destroyed then).
    TaskBase(aio::EventLoop& loop, std::coroutine_handle<> coroutine, std::string name);
    /// Reports an exception never retrieved (step 4), then frees the coroutine frame.
    ~TaskBase() override;

    /// Moves the finished coroutine's outcome into the future (TaskState<T> knows the type).
    virtual void take_coroutine_outcome() = 0;
    /// For take_coroutine_outcome(): the coroutine threw `error`. A CancelledError cancels
    /// the task; anything else becomes its exception.
    void finish_with_exception(std::exception_ptr error);
    /// For take_coroutine_outcome(): whether a cancel() arrived after the last await (the
    /// task is then cancelled even though its coroutine returned), clearing the request.
    bool take_must_cancel() noexcept { return std::exchange(must_cancel_, false); }
    std::coroutine_handle<> coroutine() const noexcept { return coroutine_; }
    const char* kind() const noexcept override { return "Task"; }

private:
    /// The node the loop runs for a scheduled step (the first one, and after a yield).
    class StepNode final : public aio::Runnable {
    public:
        explicit StepNode(TaskBase& task) noexcept : task_(task) {}
        void run() override;
        void release_from_loop() noexcept override;
        std::string describe() const override { return "<lab task step>"; }

    private:
        TaskBase& task_;
        bool ran_ = false;
    };
    /// The done callback a task registers on the future it waits on (asyncio's __wakeup).
    class WakeUpNode final : public aio::DoneCallback {
    public:
        explicit WakeUpNode(TaskBase& task) noexcept : task_(task) {}
        void on_done(aio::Waitable&) override;
        void release_from_loop() noexcept override;
        std::string describe() const override { return "<lab task wake-up>"; }

    private:
        TaskBase& task_;
        bool ran_ = false;
    };

    friend std::vector<TaskBase*> all_tasks(aio::EventLoop& loop);

    void step();
    /// Leaves the list of pending tasks and drops the task's reference to itself.
    void finish() noexcept;
    /// Joins / leaves the thread's list of pending tasks (what all_tasks() reads).
    void enter_pending_list() noexcept;
    void leave_pending_list() noexcept;
    void destroy_coroutine() noexcept;
    /// The loop closed with this task's step or wake-up still queued: the task can never
    /// run again. Reports it, frees the frame, cancels the task.
    void destroy_pending() noexcept;

    std::coroutine_handle<> coroutine_;     // the outermost frame, owned
    std::coroutine_handle<> resume_point_;  // where the next step resumes (innermost frame)
    aio::Waitable* waiting_on_ = nullptr;   // the future the coroutine waits on, if any
    std::string name_;
    int cancel_requests_ = 0;
    bool must_cancel_ = false;     // a cancel() is still to be delivered
    bool deliver_cancel_ = false;  // this step delivers it: the awaiter throws CancelledError
    bool started_ = false;
    bool yielded_ = false;
    StepNode step_node_{*this};
    WakeUpNode wake_up_node_{*this};
    // The thread's list of pending lab tasks (for all_tasks and lab::run).
    TaskBase* previous_pending_ = nullptr;
    TaskBase* next_pending_ = nullptr;
};

namespace detail {

/// A task whose coroutine returns T; the value lives here (aio's ResultSlot, so that a
/// Task<T> can be an aio::Future<T>).
template <class T>
class TaskState final : public TaskBase, public aio::detail::ResultSlot<T> {
public:
    TaskState(aio::EventLoop& loop, aio::Coro<T> coro, std::string name)
        : TaskBase(loop, coro.release(), std::move(name)) {}

private:
    void take_coroutine_outcome() override {
        auto frame = std::coroutine_handle<aio::detail::CoroPromise<T>>::from_address(coroutine().address());
        aio::detail::CoroPromise<T>& promise = frame.promise();
        // TODO(step 1): if promise.exception() is set, finish_with_exception(it); otherwise
        // move promise.take_result() into this->value (not for void) and finish_with_value().
        // TODO(step 3): a cancel() that came after the coroutine's last await (take_must_cancel())
        // cancels the task even though the coroutine returned: cancel_future(cancel_message()).
        (void)promise;
        aiolab::todo("step 1: TaskState<T>::take_coroutine_outcome");
    }
};

/// lab::run's loop: made from the options and set as the thread's event loop until
/// shut_down() (or the destructor) cancels the tasks left, closes it and restores the old one.
class RunLoop {
public:
    /// Throws RuntimeError if a loop is already running on this thread.
    explicit RunLoop(const aio::RunOptions& options);
    ~RunLoop() { shut_down(); }
    RunLoop(const RunLoop&) = delete;
    RunLoop& operator=(const RunLoop&) = delete;

    aio::EventLoop& loop() const noexcept { return *loop_; }
    /// Cancels every task still pending (lab tasks, then aio tasks), runs the loop until
    /// they are done, reports those that failed, closes the loop. Never throws; runs once.
    void shut_down() noexcept;

private:
    std::unique_ptr<aio::EventLoop> loop_;
    aio::EventLoop* previous_event_loop_ = nullptr;
    bool shut_down_ = false;
};

}  // namespace detail

/// A handle to a lab task; copies refer to the same task. A Task<T> is an aio::Future<T>:
/// aio tasks (and lab tasks) co_await it, and aio::gather and wait_for take it.
template <class T = void>
class Task : public aio::Future<T> {
public:
    explicit Task(detail::TaskState<T>* state) : aio::Future<T>(state), task_(state) {}

    std::string get_name() const { return task_->get_name(); }
    void set_name(std::string name) const { task_->set_name(std::move(name)); }
    /// See TaskBase::cancel.
    bool cancel(std::string message = {}) const { return task_->cancel(std::move(message)); }
    int cancelling() const noexcept { return task_->cancelling(); }
    int uncancel() const noexcept { return task_->uncancel(); }
    TaskBase& base() const noexcept { return *task_; }

private:
    TaskBase* task_;  // kept alive by the Future's reference
};

/// Wraps `coro` in a lab task whose first step is scheduled on `loop` (loop.create_task).
/// Throws RuntimeError if `coro` is empty or the loop is closed.
template <class T>
Task<T> create_task(aio::EventLoop& loop, aio::Coro<T> coro, std::string name = {}) {
    if (!coro) throw aio::RuntimeError("lab::create_task: the Coro is empty (moved from?)");
    return Task<T>(new detail::TaskState<T>(loop, std::move(coro), std::move(name)));
}
/// The same on the running loop (asyncio.create_task). Throws RuntimeError if none runs.
template <class T>
Task<T> create_task(aio::Coro<T> coro, std::string name = {}) {
    return lab::create_task(aio::get_running_loop(), std::move(coro), std::move(name));  // not aio's, found by ADL
}

/// The lab tasks of `loop` that are not done yet, oldest first.
std::vector<TaskBase*> all_tasks(aio::EventLoop& loop);

/// asyncio.run with lab tasks: makes a new loop (options.loop_factory, else the default
/// loop), runs `main` as a lab task until it is done, cancels the tasks still pending and
/// waits for them, closes the loop, and returns main's value or rethrows its exception.
/// Throws RuntimeError if a loop is already running on this thread.
template <class T>
T run(aio::Coro<T> main, aio::RunOptions options = {}) {
    // TODO(step 4): open a detail::RunLoop, wrap `main` in a task on its loop, run the loop
    // until the task is done (loop.run_until_done), take its value or exception, drop the
    // task handle, runner.shut_down(), then return the value or rethrow the exception.
    // The handle must go before the loop does: a task refers to its loop.
    (void)main;
    (void)options;
    aiolab::todo("step 4: lab::run");
}

}  // namespace lab
