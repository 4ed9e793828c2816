#pragma once
// lab::TaskGroup: structured concurrency, asyncio 3.11's TaskGroup, on aio tasks.
//
// A group belongs to the task that created it (the parent), which waits for all the
// group's tasks before it goes on. The first task to fail with an error (CancelledError
// does not count) cancels the other tasks and the parent itself, so that the parent's body
// stops at its current await; when the group ends, the group's own cancellation of the
// parent is withdrawn (uncancel) and every error is raised together as an
// aio::ExceptionGroup. C++ has no `async with`, so the group's end is a co_await:
//
//     auto body = [](lab::TaskGroup& group) -> aio::Coro<int> {   // no captures (GCC 12)
//         group.create_task(fetch(1));
//         group.create_task(fetch(2));
//         co_return 0;
//     };
//     auto scope = lab::task_group(body);   // bind first: never co_await a lambda's call
//     int r = co_await std::move(scope);    // throws ExceptionGroup or CancelledError
//
// or, explicitly: `lab::TaskGroup group; ...; co_await group.join(what_the_body_raised);`
#include <cstddef>
#include <exception>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/abstract_task.hpp"
#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "aio/task.hpp"

namespace lab {

namespace detail {

/// What a TaskGroup shares with the done callbacks of its tasks (asyncio's TaskGroup
/// attributes). Owned by a shared_ptr: the group object, its join() coroutine and every
/// registered callback each hold one, so whichever goes last frees it.
struct TaskGroupState {
    TaskGroupState(aio::EventLoop& loop_, aio::AbstractTask& parent_) : loop(&loop_), parent(&parent_) {}

    aio::EventLoop* loop;
    aio::AbstractTask* parent;  // alive while it runs the body or join(); not used once detached
    /// The tasks not done yet, in creation order (abort() cancels them in that order).
    std::list<aio::detail::Ref<aio::TaskBase>> tasks;
    std::vector<std::exception_ptr> errors;  // the tasks' errors, in completion order
    std::optional<aio::Future<void>> on_completed;  // set while join() waits for the tasks
    bool exiting = false;                  // join() has started
    bool aborting = false;                 // the tasks were cancelled
    bool parent_cancel_requested = false;  // the group cancelled the parent
    bool joined = false;
    bool detached = false;                 // the group was destroyed without join()

    /// Cancels every task not done (asyncio's _abort).
    void abort();
    /// A task of the group is done (asyncio's _on_task_done): forget it, wake join() when
    /// it was the last, and on the first error cancel the other tasks and the parent.
    void on_task_done(aio::TaskBase& task);
};

/// TaskGroup::join's coroutine (asyncio's __aexit__). It holds the state, so the state
/// outlives the wait even if the TaskGroup object goes away first.
aio::Coro<void> join_group(std::shared_ptr<TaskGroupState> group, std::exception_ptr body_error);

/// Whether `error` holds an aio::CancelledError.
bool is_cancellation(const std::exception_ptr& error);

/// The done callback a group registers on each of its tasks (asyncio's _on_task_done).
class MemberDone final : public aio::DoneCallback {
public:
    using Position = std::list<aio::detail::Ref<aio::TaskBase>>::iterator;

    MemberDone(std::shared_ptr<TaskGroupState> group, Position position)
        : group_(std::move(group)), position_(position) {}
    void on_done(aio::Waitable&) override;
    /// The loop is done with the node: it ran, or never will (the loop closed).
    void release_from_loop() noexcept override { delete this; }
    std::string describe() const override { return "<TaskGroup._on_task_done>"; }

private:
    std::shared_ptr<TaskGroupState> group_;
    Position position_;  // the task's entry in group_->tasks
};

}  // namespace detail

/// A set of tasks its creator waits for (asyncio.TaskGroup).
class TaskGroup {
public:
    /// Enters a group owned by the current task (asyncio's __aenter__).
    /// Throws aio::RuntimeError outside a task.
    TaskGroup();
    /// A group left without join() (an exception skipped it, or the loop destroyed the
    /// parent's frame) cancels its tasks that are not done; it does not wait for them.
    ~TaskGroup();
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;

    /// Starts `coro` as an aio task of the group. Throws aio::RuntimeError once the group
    /// is finished (joined with no task left) or shutting down (a task failed, the body
    /// raised, or the parent was cancelled).
    template <class T>
    aio::Task<T> create_task(aio::Coro<T> coro, std::string name = {}) {
        check_can_create_task();
        aio::Task<T> task = aio::create_task(*state_->loop, std::move(coro), std::move(name));
        adopt(task.base());
        return task;
    }

    /// Ends the group (asyncio's __aexit__); `body_error` is what the body raised, if it
    /// did (a body error cancels the tasks). Waits for every task; meanwhile a cancellation
    /// of the parent cancels the tasks too. Then raises, in this order of priority:
    ///  - aio::ExceptionGroup with the tasks' errors (completion order), then the body's;
    ///  - aio::CancelledError if the parent was cancelled from outside (or the body raised
    ///    it), unless the only cancellation was the group's own, which is withdrawn;
    ///  - nothing: the group ended normally.
    /// Must be awaited by the parent task, once: throws aio::RuntimeError otherwise.
    aio::Coro<void> join(std::exception_ptr body_error = nullptr);

    /// The group's tasks not done yet.
    std::size_t size() const noexcept;

private:
    void check_can_create_task() const;
    /// Makes `task` (just created, so pending) a member: remembered and watched.
    void adopt(aio::TaskBase& task);

    std::shared_ptr<detail::TaskGroupState> state_;
};

/// Runs `body(group)` inside a new TaskGroup owned by the awaiting task, then ends the
/// group (TaskGroup::join with what the body raised) and returns the body's value.
/// `body` is any callable `aio::Coro<T>(lab::TaskGroup&)`; it is moved into the returned
/// coroutine's frame, so even a capturing lambda lives as long as the group.
template <class Body>
    requires std::is_invocable_v<Body&, TaskGroup&>
auto task_group(Body body) -> aio::Coro<typename std::invoke_result_t<Body&, TaskGroup&>::value_type> {
    using T = typename std::invoke_result_t<Body&, TaskGroup&>::value_type;
    TaskGroup group;
    std::exception_ptr body_error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
    try {
        auto run_body = body(group);  // a named local: GCC 12 rule
        if constexpr (std::is_void_v<T>) {
            co_await std::move(run_body);
        } else {
            T value = co_await std::move(run_body);
            result.emplace(std::move(value));
        }
    } catch (...) {
        body_error = std::current_exception();  // no co_await in a handler: join below
    }
    auto leave = group.join(body_error);
    co_await std::move(leave);
    if constexpr (!std::is_void_v<T>) co_return std::move(*result);
}

}  // namespace lab
