#include "task.hpp"

#include <cstdint>

namespace lab {

namespace {
thread_local std::uint64_t tasks_created = 0;
// The thread's pending lab tasks, a doubly linked list through the tasks themselves.
thread_local TaskBase* first_pending = nullptr;
thread_local TaskBase* last_pending = nullptr;
}  // namespace

// --- names and the list of pending tasks (given) ------------------------------------------

std::string TaskBase::get_name() const { return name_; }

void TaskBase::set_name(std::string name) { name_ = std::move(name); }

std::string TaskBase::describe() const {
    return "<Task " + std::string(state_name()) + " name='" + name_ + "'>";
}

std::vector<TaskBase*> all_tasks(aio::EventLoop& loop) {
    std::vector<TaskBase*> tasks;
    for (TaskBase* task = first_pending; task; task = task->next_pending_)
        if (&task->get_loop() == &loop) tasks.push_back(task);
    return tasks;
}

void TaskBase::enter_pending_list() noexcept {
    previous_pending_ = last_pending;
    (last_pending ? last_pending->next_pending_ : first_pending) = this;
    last_pending = this;
}

void TaskBase::leave_pending_list() noexcept {
    (previous_pending_ ? previous_pending_->next_pending_ : first_pending) = next_pending_;
    (next_pending_ ? next_pending_->previous_pending_ : last_pending) = previous_pending_;
    previous_pending_ = next_pending_ = nullptr;
}

// --- step 1: run the coroutine to its end -------------------------------------------------

TaskBase::TaskBase(aio::EventLoop& loop, std::coroutine_handle<> coroutine, std::string name)
    : aio::FutureCore(loop), coroutine_(coroutine), resume_point_(coroutine), name_(std::move(name)) {
    if (name_.empty()) name_ = "Task-" + std::to_string(++tasks_created);
    // TODO(step 1): schedule the first step (loop.call_soon(step_node_)); if that throws (the
    // loop is closed), free the frame and rethrow. Then join the pending list and take a
    // reference to yourself (add_ref()): a pending task stays alive with no handle left.
    aiolab::todo("step 1: TaskBase constructor");
}

TaskBase::~TaskBase() {
    // TODO(step 4): report an exception nobody retrieved, here rather than in ~FutureCore
    // (there kind() would already say "Future"): report_unretrieved_exception().
    // TODO(step 1): free the coroutine frame (destroy_coroutine()).
}

void TaskBase::StepNode::run() {
    // TODO(step 1): run one step of the task. The step may finish the task and drop its last
    // reference, yet the loop calls release_from_loop() on this node (a member of the task)
    // after run() returns: note that you ran (ran_) and hold the task (task_.add_ref()) until then.
    (void)task_;  // (only so the starter compiles: clang warns about unused fields)
    (void)ran_;
    aiolab::todo("step 1: StepNode::run");
}

void TaskBase::StepNode::release_from_loop() noexcept {
    // TODO(step 1): after run(): drop the reference run() took (task_.release(); it may free
    // the task, so do nothing after it).
    // TODO(step 4): without run() (the loop closed with the step still queued), the task can
    // never run again: task_.destroy_pending().
}

void TaskBase::step() {
    // TODO(step 1): resume the coroutine at resume_point_; once coroutine_.done(), take its
    // outcome, free the frame and finish().
    // TODO(step 2): open an aio::CurrentTaskScope around the resume; after it, a coroutine
    // that is not done is either waiting on a future (nothing to do: the wake-up comes),
    // or yielded (schedule the next step), or suspended on something that never told the
    // task (finish with a RuntimeError rather than hang).
    // TODO(step 3): turn a pending cancel() (must_cancel_) into a delivery for this step; a
    // coroutine that never started is not resumed but ends the task cancelled at once.
    (void)waiting_on_;  // (only so the starter compiles: clang warns about unused fields)
    (void)deliver_cancel_;
    (void)started_;
    (void)yielded_;
    aiolab::todo("step 1: TaskBase::step");
}

void TaskBase::finish_with_exception(std::exception_ptr error) {
    // TODO(step 1): a CancelledError cancels the task (cancel_future with its message);
    // any other exception becomes the task's exception (aio::FutureCore::set_exception).
    (void)error;
    aiolab::todo("step 1: TaskBase::finish_with_exception");
}

void TaskBase::finish() noexcept {
    // TODO(step 1): leave the pending list and drop the reference taken in the constructor.
}

void TaskBase::destroy_coroutine() noexcept {
    if (coroutine_) std::exchange(coroutine_, nullptr).destroy();
    resume_point_ = nullptr;
}

// --- step 2: wait for futures ---------------------------------------------------------------

void TaskBase::wait_on(aio::Waitable& future, std::coroutine_handle<> resume_point) {
    // TODO(step 2): refuse to wait on yourself or on a future of another loop (RuntimeError);
    // register wake_up_node_ as the future's done callback; remember the future and where
    // to resume. TODO(step 3): if a cancel() is pending, cancel the future right away.
    (void)future;
    (void)resume_point;
    aiolab::todo("step 2: TaskBase::wait_on");
}

void TaskBase::yield_now(std::coroutine_handle<> resume_point) {
    // TODO(step 2): remember where to resume and that this step yielded.
    (void)resume_point;
    aiolab::todo("step 2: TaskBase::yield_now");
}

void TaskBase::WakeUpNode::on_done(aio::Waitable&) {
    // TODO(step 2): the awaited future is done: run the next step (as StepNode::run does).
    (void)task_;  // (only so the starter compiles: clang warns about unused fields)
    (void)ran_;
    aiolab::todo("step 2: WakeUpNode::on_done");
}

void TaskBase::WakeUpNode::release_from_loop() noexcept {
    // TODO(step 2): as StepNode::release_from_loop. TODO(step 4): the same for a release
    // without a run.
}

// --- step 3: cancellation -------------------------------------------------------------------

bool TaskBase::cancel(std::string message) {
    // TODO(step 3): asyncio's Task.cancel: false if done; count the request; cancel the
    // future the task waits on if there is one and that works; otherwise must_cancel_ and
    // keep the message (set_cancel_message).
    (void)message;
    aiolab::todo("step 3: TaskBase::cancel");
}

int TaskBase::cancelling() const noexcept {
    // TODO(step 3): (noexcept: cannot call aiolab::todo.)
    (void)cancel_requests_;  // (only so the starter compiles: clang warns about unused fields)
    return -1;
}

int TaskBase::uncancel() noexcept {
    // TODO(step 3): (noexcept: cannot call aiolab::todo.)
    return -1;
}

void TaskBase::throw_if_cancel_delivered() {
    // TODO(step 3): throw aio::CancelledError(cancel_message()) if this step delivers a
    // cancellation (once). Until then, nothing is ever delivered: do nothing.
}

// --- step 4: what nobody waits for ----------------------------------------------------------

void TaskBase::destroy_pending() noexcept {
    // TODO(step 4): the loop closed with this task's step or wake-up queued. Report "Task was
    // destroyed but it is pending!" (loop.call_exception_handler), stop waiting on any future,
    // free the frame, cancel the future part (cancel_future; it may throw: the loop is
    // closed), and finish(). Keep the task alive meanwhile.
}

namespace detail {

RunLoop::RunLoop(const aio::RunOptions& options) {
    // TODO(step 4): refuse to run inside a running loop (RuntimeError); make the loop
    // (options.loop_factory, else aio::DefaultEventLoop); set it as the thread's event loop,
    // remembering the previous one (aio::get_event_loop() throws if there is none).
    (void)options;
    aiolab::todo("step 4: RunLoop constructor");
}

void RunLoop::shut_down() noexcept {
    // TODO(step 4): once only: cancel every lab task still pending on the loop (all_tasks),
    // run the loop until each is done, report those that failed
    // ("unhandled exception during lab::run() shutdown"), then let
    // aio::detail::shut_down_run_loop() do the same for aio tasks and close the loop, and
    // restore the previous event loop.
    (void)previous_event_loop_;  // (only so the starter compiles: clang warns about unused fields)
    (void)shut_down_;
}

}  // namespace detail

}  // namespace lab
