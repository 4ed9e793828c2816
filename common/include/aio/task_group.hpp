#pragma once
// aio::TaskGroup: structured concurrency, asyncio 3.11's TaskGroup.
//
// A group belongs to the task that created it (the parent) and waits for all its tasks
// before the parent goes on. The first task to fail with an error (CancelledError does not
// count) cancels the other tasks and the parent itself, so that the parent's body stops at
// its current await; when the group ends, the parent's cancellation is withdrawn (uncancel)
// and every error is raised together as an aio::ExceptionGroup. C++ has no `async with`, so
// the group's end is a co_await:
//
//     // The usual form: the body runs inside the group, the group ends when it returns.
//     auto body = [](aio::TaskGroup& group) -> aio::Coro<int> {   // no captures (GCC 12)
//         group.create_task(fetch(1));
//         group.create_task(fetch(2));
//         co_return 0;
//     };
//     auto scope = aio::task_group(body);   // bind first: never co_await a lambda's call
//     int r = co_await std::move(scope);    // throws ExceptionGroup or CancelledError
//
//     // The explicit form, when the body is inline: join() is __aexit__.
//     aio::TaskGroup group;
//     std::exception_ptr error;
//     try { group.create_task(fetch(1)); co_await other(); } catch (...) { error = std::current_exception(); }
//     co_await group.join(error);           // waits, then raises as __aexit__ would
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "coro.hpp"
#include "detail/ref_counted.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "future.hpp"
#include "task.hpp"

namespace aio {

namespace detail {
class TaskGroupState;
}

/// A set of tasks its creator waits for (asyncio.TaskGroup).
class TaskGroup {
public:
    /// Enters a group owned by the current task (asyncio's __aenter__).
    /// Throws RuntimeError outside a task.
    TaskGroup();
    /// A group left without join() (an exception skipped it, or the loop destroyed the
    /// parent's frame) cancels its tasks that are not done; it does not wait for them.
    ~TaskGroup();
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;

    /// Starts `coro` as a task of the group. Throws RuntimeError once the group is finished
    /// (joined with no task left) or shutting down (a task failed, or the body raised, or
    /// the parent was cancelled).
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name = {}) {
        check_can_create_task();
        Task<T> task = aio::create_task(loop(), std::move(coro), std::move(name));
        adopt(task.base());
        return task;
    }

    /// Ends the group (asyncio's __aexit__): `body_error` is what the body raised, if it did.
    /// A body error cancels the tasks. Waits for every task; meanwhile a cancellation of the
    /// parent cancels the tasks too. Then raises, in this order of priority:
    ///  - ExceptionGroup with the tasks' errors (completion order), then the body's error,
    ///    even if the parent was also cancelled from outside (that request then stays counted
    ///    in cancelling(), as in Python 3.12; 3.13 would re-deliver it);
    ///  - CancelledError if the parent was cancelled from outside (or the body raised it),
    ///    unless the only cancellation was the group's own, which is withdrawn (uncancel);
    ///  - nothing: the group ended normally.
    /// The group's own cancel of the parent is withdrawn after the wait for the tasks, not
    /// before it (CPython gh-116720), so a task failing during that wait is withdrawn too.
    /// Must be awaited by the parent task, once. Throws RuntimeError if joined twice.
    Coro<void> join(std::exception_ptr body_error = nullptr);

    /// Tasks of the group not done yet.
    std::size_t size() const noexcept;

private:
    void check_can_create_task() const;
    void adopt(TaskBase& task);
    EventLoop& loop() const noexcept;

    detail::Ref<detail::TaskGroupState> state_;
};

/// Runs `body(group)` inside a new TaskGroup owned by the awaiting task, then ends the group
/// (TaskGroup::join with what the body raised) and returns the body's value.
///
/// `body` is any callable `Coro<T>(TaskGroup&)`; it is moved into the returned coroutine's
/// frame, so even a capturing lambda lives as long as the group. GCC 12 rule: bind the
/// result to a named local before awaiting it (`auto scope = aio::task_group(body);
/// co_await std::move(scope);`), never `co_await aio::task_group([&]...)` in one expression.
template <class Body>
    requires std::is_invocable_v<Body&, TaskGroup&>
auto task_group(Body body) -> Coro<typename std::invoke_result_t<Body&, TaskGroup&>::value_type>;

// ---------------------------------------------------------------------------------------------

template <class Body>
    requires std::is_invocable_v<Body&, TaskGroup&>
auto task_group(Body body) -> Coro<typename std::invoke_result_t<Body&, TaskGroup&>::value_type> {
    using T = typename std::invoke_result_t<Body&, TaskGroup&>::value_type;
    TaskGroup group;
    std::exception_ptr body_error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
    try {
        auto run_body = body(group);
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

}  // namespace aio
