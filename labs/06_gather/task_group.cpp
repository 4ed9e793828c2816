#include "task_group.hpp"

#include "aiolab/todo.hpp"

namespace lab {

namespace detail {

bool is_cancellation(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const aio::CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

void TaskGroupState::abort() {
    // TODO(step 5): asyncio's _abort: set `aborting`, then cancel() every task of `tasks`
    // that is not done.
    aiolab::todo("step 5: TaskGroupState::abort");
}

void TaskGroupState::on_task_done(aio::TaskBase& task) {
    // TODO(step 5): asyncio's _on_task_done (the task is already out of `tasks`):
    //  - if join() waits (on_completed is set, not done) and no task is left, wake it;
    //  - nothing more for a detached group, or a cancelled task (not an error);
    //  - otherwise task.exception() (this also marks it retrieved); if there is one, append
    //    it to `errors`, and if the group is not aborting and has not cancelled the parent
    //    yet: abort(), remember parent_cancel_requested, and parent->cancel().
    (void)task;
    aiolab::todo("step 5: TaskGroupState::on_task_done");
}

void MemberDone::on_done(aio::Waitable&) {
    // TODO(step 5): the task is done: take it out of group_->tasks (position_ is its entry;
    // keep a Ref to it while you report), then group_->on_task_done(task).
    aiolab::todo("step 5: MemberDone::on_done");
}

aio::Coro<void> join_group(std::shared_ptr<TaskGroupState> self, std::exception_ptr body_error) {
    // TODO(step 5): asyncio's __aexit__, as a coroutine:
    //  - aio::RuntimeError if joined already, or if aio::current_task() is not the parent;
    //    then mark it joined and exiting;
    //  - a body error cancels the tasks (abort(), unless aborting already); a CancelledError
    //    from the body is the cancellation to propagate;
    //  - while tasks are left: a new aio::Future<void> in on_completed, co_await it (a named
    //    local); if that raises CancelledError (the parent was cancelled from outside) and the
    //    group is not aborting, remember it as the cancellation to propagate and abort();
    //  - then, if the group cancelled the parent, parent->uncancel(): if that returns 0, the
    //    only cancellation was the group's own, so propagate none;
    //  - raise: the cancellation if there is one and no error; else append the body's error
    //    (if it is not a CancelledError) to the errors and throw
    //    aio::ExceptionGroup("unhandled errors in a TaskGroup", errors) if there are any.
    (void)self;
    (void)body_error;
    aiolab::todo("step 5: join_group");
}

}  // namespace detail

TaskGroup::TaskGroup() {
    // TODO(step 5): the parent is aio::current_task(); outside a task throw aio::RuntimeError.
    // Make the shared state on the parent's loop (parent->as_future().get_loop()).
    aiolab::todo("step 5: TaskGroup::TaskGroup");
}

TaskGroup::~TaskGroup() {
    // TODO(step 5): a group never joined is detached (nobody will read its errors) and
    // cancels its tasks that are not done. A destructor must not throw: no todo() here.
}

void TaskGroup::check_can_create_task() const {
    // TODO(step 5): aio::RuntimeError("TaskGroup is finished") once join() started and no
    // task is left; aio::RuntimeError("TaskGroup is shutting down") while aborting.
    aiolab::todo("step 5: TaskGroup::check_can_create_task");
}

void TaskGroup::adopt(aio::TaskBase& task) {
    // TODO(step 5): append a Ref to the task to state_->tasks, and register a new
    // detail::MemberDone(state_, its position) on the task (task.add_done_callback(node)).
    // If registering throws, release the node and forget the task before letting it out.
    (void)task;
    aiolab::todo("step 5: TaskGroup::adopt");
}

aio::Coro<void> TaskGroup::join(std::exception_ptr body_error) {
    return detail::join_group(state_, std::move(body_error));
}

std::size_t TaskGroup::size() const noexcept { return state_->tasks.size(); }

}  // namespace lab
