#pragma once
// aio::Task<T>: a coroutine scheduled to run on the loop on its own (asyncio.Task).
//
// A task is a future: it finishes with the coroutine's value or exception, or is cancelled.
// It drives its coroutine one step at a time (asyncio's __step): each step resumes the
// coroutine where it last suspended and runs it until it awaits a future that is not done
// (the task then waits for that future's done callback), yields (sleep(0): the next step is
// scheduled at once), or returns. Cancellation is one flag plus a counter, as in asyncio:
// cancel() cancels the future the task waits on, or, if there is none, sets must_cancel so
// the next step delivers CancelledError at the coroutine's await point.
//
// A pending task keeps itself alive (the loop's reference, in effect), so dropping every
// Task handle never destroys a running task; when it finishes, it drops that reference.
#include <coroutine>
#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

#include "abstract_task.hpp"
#include "coro.hpp"
#include "event_loop.hpp"
#include "future.hpp"

namespace aio {

/// The untyped part of an aio task; it is the AbstractTask that aio awaiters talk to.
class TaskBase : public FutureCore, public DoneCallback, public AbstractTask {
public:
    /// The task's name: the one given to create_task, else "Task-N" (N counts up per thread).
    std::string get_name() const override;
    void set_name(std::string name);

    /// Requests cancellation (asyncio's Task.cancel): CancelledError is raised at the
    /// coroutine's current await point, or at its start if it has not started. Returns false
    /// if the task is done. Repeated calls before delivery count in cancelling().
    bool cancel(std::string message = {}) override;
    /// How many cancel() requests are pending (asyncio's Task.cancelling).
    int cancelling() const noexcept override { return cancel_requests_; }
    /// Withdraws one cancel() request; returns the remaining count (asyncio's Task.uncancel).
    /// At zero, a cancellation not yet delivered is withdrawn too.
    int uncancel() noexcept override;

    std::string describe() const override;

    // --- the awaiting protocol (used by awaiters, not by application code) ----------------

    /// The coroutine suspends until `future` is done, then resumes at `resume_point`.
    /// Throws RuntimeError if the task awaits itself or a future of another loop.
    void wait_on(Waitable& future, std::coroutine_handle<> resume_point) override;
    /// The coroutine gives up the rest of this step; the next step resumes `resume_point`
    /// in the next loop iteration (a bare yield: asyncio's sleep(0)).
    void yield_now(std::coroutine_handle<> resume_point) noexcept override;
    /// Throws CancelledError if this step was started to deliver a cancellation.
    void throw_if_cancel_delivered() override;
    Waitable& as_future() noexcept override { return *this; }

    /// What the task waits on now (the future it suspended on), or nullptr if it is
    /// running, ready to step, or done. For introspection: format_task_tree, the tracer.
    const Waitable* awaiting() const noexcept { return fut_waiter_; }
    /// The N of "Task-N": counts up per thread, unique on a loop.
    std::uint64_t id() const noexcept { return id_; }

protected:
    /// In debug mode the task remembers `created_at` and `coroutine_origin` (debug.hpp).
    TaskBase(EventLoop& loop, std::coroutine_handle<> coroutine, std::string name,
             const std::source_location& created_at = {}, detail::OriginId coroutine_origin = 0);
    ~TaskBase() override;

    /// Moves the finished coroutine's outcome into the future (typed: see TaskState<T>).
    virtual void take_coroutine_outcome() = 0;
    /// For take_coroutine_outcome(): records how the coroutine ended.
    void finish_with_exception(std::exception_ptr error);
    bool take_must_cancel() noexcept { return std::exchange(must_cancel_, false); }
    std::coroutine_handle<> coroutine() const noexcept { return coroutine_; }

    const char* kind() const noexcept override { return "Task"; }

private:
    friend class EventLoop;
    void run() override;  // one step (a scheduled step or a wake-up from fut_waiter_)
    void release_from_loop() noexcept override;  // drops the reference run() took
    void on_done(Waitable&) override {}  // unused: run() is overridden
    void step();
    void finish() noexcept;
    void release_keep_alive() noexcept { release(); }
    void destroy_coroutine() noexcept;
    /// Called by the loop when it closes with this task pending.
    void destroy_pending() noexcept;

    std::coroutine_handle<> coroutine_;    // the outermost frame, owned
    std::coroutine_handle<> resume_point_; // where the next step resumes (the innermost frame)
    Waitable* fut_waiter_ = nullptr;       // the future the task waits on, if any
    std::unique_ptr<std::string> name_;    // null: "Task-<id_>"
    std::uint64_t id_;
    int cancel_requests_ = 0;
    bool must_cancel_ = false;      // deliver CancelledError at the next step
    bool deliver_cancel_ = false;   // this step delivers it: the awaiter throws
    bool started_ = false;
    bool yielded_ = false;
    bool holds_step_reference_ = false;  // run() took a reference for release_from_loop()
    detail::OriginId origin_ = 0;  // debug mode: where the task was created (fits in padding)
    // The loop's list of pending tasks (for all_tasks and for close()).
    TaskBase* previous_task_ = nullptr;
    TaskBase* next_task_ = nullptr;
};

namespace detail {

template <class T>
class TaskState final : public TaskBase, public ResultSlot<T> {
public:
    TaskState(EventLoop& loop, Coro<T> coro, std::string name, const std::source_location& created_at = {})
        : TaskState(loop, coro.release(), std::move(name), created_at) {}

private:
    // The frame is released first so that its origin is read from it in a defined order.
    TaskState(EventLoop& loop, std::coroutine_handle<CoroPromise<T>> frame, std::string name,
              const std::source_location& created_at)
        : TaskBase(loop, frame, std::move(name), created_at, frame.promise().origin()) {}

    void take_coroutine_outcome() override {
        auto frame = std::coroutine_handle<CoroPromise<T>>::from_address(coroutine().address());
        CoroPromise<T>& promise = frame.promise();
        if (promise.exception()) {
            finish_with_exception(promise.exception());
        } else if (take_must_cancel()) {
            // cancel() came after the coroutine's last await: asyncio cancels the task anyway.
            cancel_future(cancel_message());
        } else {
            if constexpr (!std::is_void_v<T>) this->value.emplace(promise.take_result());
            finish_with_value();
        }
    }
};

}  // namespace detail

/// A handle to a task; copies refer to the same task. A Task<T> is a Future<T>.
template <class T = void>
class Task : public Future<T> {
public:
    explicit Task(detail::TaskState<T>* state) : Future<T>(state), task_(state) {}

    std::string get_name() const { return task_->get_name(); }
    void set_name(std::string name) const { task_->set_name(std::move(name)); }
    bool cancel(std::string message = {}) const { return task_->cancel(std::move(message)); }
    int cancelling() const noexcept { return task_->cancelling(); }
    int uncancel() const noexcept { return task_->uncancel(); }
    TaskBase& base() const noexcept { return *task_; }

private:
    TaskBase* task_;  // kept alive by the Future's reference
};

/// Wraps `coro` in a task scheduled on `loop` (asyncio's loop.create_task).
/// Throws RuntimeError if `coro` is empty or was already awaited, or if the loop is closed.
template <class T>
Task<T> create_task(EventLoop& loop, Coro<T> coro, std::string name = {},
                    std::source_location created_at = std::source_location::current()) {
    if (!coro) throw RuntimeError("create_task: the Coro is empty (moved from?)");
    // Resuming a finished frame is undefined behaviour: refuse, as asyncio refuses to reuse
    // an already awaited coroutine.
    if (coro.done()) throw RuntimeError("create_task: the Coro was already awaited");
    return Task<T>(new detail::TaskState<T>(loop, std::move(coro), std::move(name), created_at));
}
/// Wraps `coro` in a task scheduled on the running loop (asyncio.create_task).
/// Throws RuntimeError if no loop is running.
template <class T>
Task<T> create_task(Coro<T> coro, std::string name = {},
                    std::source_location created_at = std::source_location::current()) {
    return create_task(get_running_loop(), std::move(coro), std::move(name), created_at);
}

/// The tasks of the running loop (or `loop`) that are not done (asyncio.all_tasks).
std::vector<TaskBase*> all_tasks();
std::vector<TaskBase*> all_tasks(EventLoop& loop);

/// Turns any awaitable aio can run into a future on `loop` (asyncio.ensure_future):
/// a Coro becomes a task, a Future or Task is returned as it is.
template <class T>
Task<T> ensure_future(Coro<T>&& coro, EventLoop& loop,
                      std::source_location created_at = std::source_location::current()) {
    return create_task(loop, std::move(coro), {}, created_at);
}
template <class T>
Future<T> ensure_future(Future<T> future, EventLoop&, std::source_location = {}) {
    return future;
}
template <class T>
Task<T> ensure_future(Task<T> task, EventLoop&, std::source_location = {}) {
    return task;
}

template <class Awaitable>
decltype(auto) EventLoop::run_until_complete(Awaitable&& awaitable, std::source_location created_at) {
    // Checked before a coroutine becomes a task (as asyncio does): run_forever() would
    // refuse, but the task would already be scheduled and would start later on its own.
    if (is_running()) throw RuntimeError("This event loop is already running");
    if (try_get_running_loop())
        throw RuntimeError("Cannot run the event loop while another loop is running");
    auto future = ensure_future(std::forward<Awaitable>(awaitable), *this, created_at);
    // Its done callback would go to the other loop, and this one would never stop.
    if (&future.get_loop() != this)
        throw ValueError("run_until_complete: the future belongs to another loop");
    run_until_done(future.waitable());
    using T = typename decltype(future)::value_type;
    // A future made here (from a Coro) is seen by nobody else: its value is moved out. A
    // future or task the caller passed keeps its value, as in asyncio, where result() can
    // be read again; only a move-only value has to leave it.
    constexpr bool made_here = !std::is_same_v<decltype(future), std::remove_cvref_t<Awaitable>>;
    if constexpr (std::is_void_v<T>) {
        future.result();
    } else if constexpr (made_here || !std::is_copy_constructible_v<T>) {
        return T(std::move(future.result()));
    } else {
        return T(future.result());
    }
}

}  // namespace aio
