#include "aio/task_group.hpp"

namespace aio {

namespace detail {

class TaskGroupState;

/// The done callback a group registers on one of its tasks (asyncio's _on_task_done), and
/// the group's link to that task. It owns itself: deleted when the loop releases it, after
/// it ran or when the loop closed with the task pending.
class TaskGroupMember final : public DoneCallback {
public:
    TaskGroupMember(TaskGroupState& group, TaskBase& task) : group_(&group), task_(&task) {}

    void on_done(Waitable&) override;
    void release_from_loop() noexcept override;
    std::string describe() const override { return "<TaskGroup._on_task_done>"; }

    TaskBase& task() const noexcept { return *task_; }

    TaskGroupMember* previous = nullptr;
    TaskGroupMember* next = nullptr;
    bool linked = false;

private:
    Ref<TaskGroupState> group_;  // the state outlives every member, even an unjoined group
    Ref<TaskBase> task_;
};

/// What a TaskGroup shares with its members' callbacks (asyncio's TaskGroup attributes).
class TaskGroupState final : public RefCounted {
public:
    TaskGroupState(EventLoop& loop, AbstractTask& parent) : loop_(&loop), parent_(&parent) {}

    EventLoop& loop() const noexcept { return *loop_; }
    std::size_t size() const noexcept { return member_count_; }

    void check_can_create_task() const {
        if (exiting_ && member_count_ == 0) throw RuntimeError("TaskGroup is finished");
        if (aborting_) throw RuntimeError("TaskGroup is shutting down");
    }

    void adopt(TaskBase& task) {
        auto* member = new TaskGroupMember(*this, task);
        link(*member);
        task.add_done_callback(*member);  // the task is new, so pending: nothing is scheduled
    }

    /// A task of the group is done (asyncio's _on_task_done).
    void on_member_done(TaskGroupMember& member) {
        unlink(member);
        if (on_completed_ && member_count_ == 0 && !on_completed_->done()) on_completed_->set_result();
        if (detached_) return;  // the group was left without join(): nobody to report to

        TaskBase& task = member.task();
        if (task.cancelled()) return;
        std::exception_ptr error = task.exception();  // marks it retrieved
        if (!error) return;
        errors_.push_back(error);

        if (parent_->as_future().done()) {
            loop_->call_exception_handler({"Task " + task.describe() + " has errored out but its parent task " +
                                               parent_->as_future().describe() + " is already completed",
                                           error, task.describe()});
            return;
        }
        if (!aborting_ && !parent_cancel_requested_) {
            // Stop the parent's body at its current await; join() withdraws this cancel.
            abort();
            parent_cancel_requested_ = true;
            parent_->cancel();
        }
    }

    /// Cancels every task not done (asyncio's _abort).
    void abort() {
        aborting_ = true;
        // TaskBase::cancel never runs a callback inline, so the list cannot change here.
        for (TaskGroupMember* member = first_member_; member; member = member->next) {
            if (!member->task().done()) member->task().cancel();
        }
    }

    void unlink(TaskGroupMember& member) noexcept {
        if (!member.linked) return;
        (member.previous ? member.previous->next : first_member_) = member.next;
        (member.next ? member.next->previous : last_member_) = member.previous;
        member.previous = member.next = nullptr;
        member.linked = false;
        --member_count_;
    }

    /// TaskGroup::join. The coroutine holds a reference to the state, so it stays valid
    /// even if the TaskGroup object goes away first.
    Coro<void> join(std::exception_ptr body_error) { return run_join(Ref<TaskGroupState>(this), std::move(body_error)); }

    void detach() noexcept {
        detached_ = true;
        if (!exiting_ && member_count_ > 0) abort();
    }

private:
    static Coro<void> run_join(Ref<TaskGroupState> self, std::exception_ptr body_error);

    /// Appends: abort() cancels the tasks in creation order.
    void link(TaskGroupMember& member) noexcept {
        member.previous = last_member_;
        (last_member_ ? last_member_->next : first_member_) = &member;
        last_member_ = &member;
        member.linked = true;
        ++member_count_;
    }

    EventLoop* loop_;
    AbstractTask* parent_;  // running the group's body or join(): alive until the group is joined or detached
    TaskGroupMember* first_member_ = nullptr;  // the pending tasks, in creation order
    TaskGroupMember* last_member_ = nullptr;
    std::size_t member_count_ = 0;
    std::vector<std::exception_ptr> errors_;
    std::optional<Future<void>> on_completed_;
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;
    bool joined_ = false;
    bool detached_ = false;
};

void TaskGroupMember::on_done(Waitable&) { group_->on_member_done(*this); }

void TaskGroupMember::release_from_loop() noexcept {
    group_->unlink(*this);  // already unlinked if it ran; not if the loop closed first
    delete this;
}

namespace {
bool is_cancellation(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}
}  // namespace

// asyncio's __aexit__, with the parent's uncancel() after the wait (as fixed in CPython
// gh-116720), so that a task failing while the parent waits here is withdrawn too.
Coro<void> TaskGroupState::run_join(Ref<TaskGroupState> self, std::exception_ptr body_error) {
    TaskGroupState& group = *self;
    if (group.joined_) throw RuntimeError("TaskGroup::join() called twice");
    if (current_task() != group.parent_)
        throw RuntimeError("TaskGroup::join() must be awaited by the task that created the group");
    group.joined_ = true;
    group.exiting_ = true;

    const bool body_cancelled = body_error && is_cancellation(body_error);
    std::exception_ptr propagate_cancellation = body_cancelled ? body_error : nullptr;
    if (body_error && !group.aborting_) group.abort();  // the body raised, or the parent was cancelled

    while (group.member_count_ > 0) {
        if (!group.on_completed_) group.on_completed_.emplace(*group.loop_);
        Future<void> on_completed = *group.on_completed_;
        std::exception_ptr cancelled;
        try {
            co_await on_completed;
        } catch (const CancelledError&) {
            cancelled = std::current_exception();  // no co_await in a handler
        }
        if (cancelled && !group.aborting_) {
            // The parent was cancelled from outside while waiting here: cancel the tasks too.
            propagate_cancellation = cancelled;
            group.abort();
        }
        group.on_completed_.reset();
    }

    // After the wait, not before it: a task may fail (and cancel the parent) while it lasts.
    if (group.parent_cancel_requested_ && group.parent_->uncancel() == 0) {
        propagate_cancellation = nullptr;  // the only cancellation was the group's own
    }
    // Errors take priority over a cancellation.
    if (propagate_cancellation && group.errors_.empty()) std::rethrow_exception(propagate_cancellation);
    if (body_error && !body_cancelled) group.errors_.push_back(body_error);
    if (!group.errors_.empty()) throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(group.errors_));
}

}  // namespace detail

TaskGroup::TaskGroup() {
    AbstractTask* parent = current_task();
    if (!parent) throw RuntimeError("TaskGroup cannot determine the parent task: create it inside a task");
    state_ = detail::Ref<detail::TaskGroupState>(new detail::TaskGroupState(parent->as_future().get_loop(), *parent));
}

TaskGroup::~TaskGroup() { state_->detach(); }

void TaskGroup::check_can_create_task() const { state_->check_can_create_task(); }

void TaskGroup::adopt(TaskBase& task) { state_->adopt(task); }

EventLoop& TaskGroup::loop() const noexcept { return state_->loop(); }

std::size_t TaskGroup::size() const noexcept { return state_->size(); }

Coro<void> TaskGroup::join(std::exception_ptr body_error) { return state_->join(std::move(body_error)); }

}  // namespace aio
