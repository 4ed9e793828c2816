#include "task_group.hpp"

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
    aborting = true;
    // Task.cancel never runs a callback inline, so the list cannot change while we walk it.
    for (const auto& task : tasks) {
        if (!task->done()) task->cancel();
    }
}

void TaskGroupState::on_task_done(aio::TaskBase& task) {
    if (on_completed && tasks.empty() && !on_completed->done()) on_completed->set_result();
    if (detached) return;  // left without join(): nobody to report to

    if (task.cancelled()) return;  // a cancelled task is not an error of its group
    std::exception_ptr error = task.exception();  // also marks it retrieved
    if (!error) return;
    errors.push_back(std::move(error));
    if (!aborting && !parent_cancel_requested) {
        // The first error: cancel the siblings, and the parent, so that its body stops at
        // its current await. join_group() withdraws the parent's cancellation (uncancel).
        abort();
        parent_cancel_requested = true;
        parent->cancel();
    }
}

void MemberDone::on_done(aio::Waitable&) {
    // Keep the task alive for the report below, then forget it: it is not pending any more.
    aio::detail::Ref<aio::TaskBase> task = std::move(*position_);
    group_->tasks.erase(position_);
    group_->on_task_done(*task);
}

// asyncio's __aexit__. The parent's uncancel() comes after the wait for the tasks (as in
// CPython 3.13, gh-116720), so a task failing during that wait is withdrawn too.
aio::Coro<void> join_group(std::shared_ptr<TaskGroupState> self, std::exception_ptr body_error) {
    TaskGroupState& group = *self;
    if (group.joined) throw aio::RuntimeError("TaskGroup::join() called twice");
    if (aio::current_task() != group.parent)
        throw aio::RuntimeError("TaskGroup::join() must be awaited by the task that created the group");
    group.joined = true;
    group.exiting = true;

    const bool body_cancelled = body_error && is_cancellation(body_error);
    std::exception_ptr propagate_cancellation = body_cancelled ? body_error : nullptr;
    if (body_error && !group.aborting) group.abort();  // the body raised, or the parent was cancelled

    while (!group.tasks.empty()) {
        group.on_completed.emplace(*group.loop);
        aio::Future<void> on_completed = *group.on_completed;
        std::exception_ptr cancelled;
        try {
            co_await on_completed;
        } catch (const aio::CancelledError&) {
            cancelled = std::current_exception();  // no co_await in a handler
        }
        if (cancelled && !group.aborting) {
            // The parent was cancelled from outside while it waited here: cancel the tasks.
            propagate_cancellation = cancelled;
            group.abort();
        }
        group.on_completed.reset();
    }

    if (group.parent_cancel_requested && group.parent->uncancel() == 0) {
        propagate_cancellation = nullptr;  // the only cancellation was the group's own
    }
    // Errors take priority over a cancellation.
    if (propagate_cancellation && group.errors.empty()) std::rethrow_exception(propagate_cancellation);
    if (body_error && !body_cancelled) group.errors.push_back(body_error);
    if (!group.errors.empty()) throw aio::ExceptionGroup("unhandled errors in a TaskGroup", std::move(group.errors));
}

}  // namespace detail

TaskGroup::TaskGroup() {
    aio::AbstractTask* parent = aio::current_task();
    if (!parent) throw aio::RuntimeError("TaskGroup cannot determine the parent task: create it inside a task");
    state_ = std::make_shared<detail::TaskGroupState>(parent->as_future().get_loop(), *parent);
}

TaskGroup::~TaskGroup() {
    if (state_->joined) return;
    // Left without join(): nobody will wait for the tasks or read their errors.
    state_->detached = true;
    if (!state_->tasks.empty()) state_->abort();
}

void TaskGroup::check_can_create_task() const {
    if (state_->exiting && state_->tasks.empty()) throw aio::RuntimeError("TaskGroup is finished");
    if (state_->aborting) throw aio::RuntimeError("TaskGroup is shutting down");
}

void TaskGroup::adopt(aio::TaskBase& task) {
    auto position = state_->tasks.insert(state_->tasks.end(), aio::detail::Ref<aio::TaskBase>(&task));
    auto* node = new detail::MemberDone(state_, position);
    try {
        task.add_done_callback(*node);  // the task is new, so pending: nothing runs now
    } catch (...) {
        node->release_from_loop();
        state_->tasks.erase(position);
        throw;
    }
}

aio::Coro<void> TaskGroup::join(std::exception_ptr body_error) {
    return detail::join_group(state_, std::move(body_error));
}

std::size_t TaskGroup::size() const noexcept { return state_->tasks.size(); }

}  // namespace lab
