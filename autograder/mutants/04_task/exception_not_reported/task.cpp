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
    try {
        loop.call_soon(step_node_);  // the first step, in a later iteration: tasks are eager, not inline
    } catch (...) {
        destroy_coroutine();  // the loop is closed: the body never runs
        throw;
    }
    // Pending: on the thread's list, and alive until finish() however many handles remain.
    enter_pending_list();
    add_ref();
}

TaskBase::~TaskBase() {
    destroy_coroutine();  // MUTANT: no report here (~FutureCore reports it as a "Future")
}

void TaskBase::StepNode::run() {
    // The step may finish the task, which drops the reference that keeps it alive; yet the
    // loop calls release_from_loop() on this node (a member of the task) after run()
    // returns. So the task is held from here to there.
    ran_ = true;
    task_.add_ref();
    task_.step();
}

void TaskBase::StepNode::release_from_loop() noexcept {
    if (std::exchange(ran_, false)) {
        task_.release();  // the reference run() took; may free the task, so nothing after it
    } else {
        task_.destroy_pending();  // released without running: the loop closed with the step queued
    }
}

void TaskBase::step() {
    // The node that runs this step holds the task until the loop releases the node.
    if (done()) return;
    waiting_on_ = nullptr;
    if (std::exchange(must_cancel_, false)) deliver_cancel_ = true;

    if (deliver_cancel_ && !started_) {
        // CancelledError thrown into a coroutine that never started ends it at once.
        deliver_cancel_ = false;
        destroy_coroutine();
        cancel_future(cancel_message());
        finish();
        return;
    }

    started_ = true;
    yielded_ = false;
    {
        // aio's awaiters find the running task through current_task().
        aio::CurrentTaskScope current(this);
        resume_point_.resume();  // never throws: the Coro's promise catches what the body throws
    }
    deliver_cancel_ = false;

    if (coroutine_.done()) {
        take_coroutine_outcome();
        destroy_coroutine();
        finish();
    } else if (waiting_on_) {
        // The wake-up node, registered by wait_on(), runs the next step.
    } else if (yielded_) {
        get_loop().call_soon(step_node_);
    } else {
        // Suspended on something that never told the task: nothing would ever resume it.
        // Fail loudly rather than hang; the frame is freed with the task.
        aio::FutureCore::set_exception(std::make_exception_ptr(aio::RuntimeError(
            "task " + name_ + " suspended on an awaitable that does not use aio's task protocol")));
        finish();
    }
}

void TaskBase::finish_with_exception(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const aio::CancelledError& cancelled) {
        cancel_future(cancelled.message());
        return;
    } catch (...) {
    }
    aio::FutureCore::set_exception(std::move(error));
}

void TaskBase::finish() noexcept {
    leave_pending_list();
    release();  // the reference taken in the constructor
}

void TaskBase::destroy_coroutine() noexcept {
    if (coroutine_) std::exchange(coroutine_, nullptr).destroy();
    resume_point_ = nullptr;
}

// --- step 2: wait for futures ---------------------------------------------------------------

void TaskBase::wait_on(aio::Waitable& future, std::coroutine_handle<> resume_point) {
    if (&future == static_cast<aio::Waitable*>(this))
        throw aio::RuntimeError("Task cannot await on itself: " + describe());
    if (&future.get_loop() != &get_loop())
        throw aio::RuntimeError("Task " + name_ + " got Future " + future.describe() +
                                " attached to a different loop");
    future.add_done_callback(wake_up_node_);
    waiting_on_ = &future;
    resume_point_ = resume_point;
    // A cancel() that came during this step is delivered through the future at once.
    if (must_cancel_ && future.cancel(cancel_message())) must_cancel_ = false;
}

void TaskBase::yield_now(std::coroutine_handle<> resume_point) {
    resume_point_ = resume_point;
    yielded_ = true;
}

void TaskBase::WakeUpNode::on_done(aio::Waitable&) {
    ran_ = true;
    task_.add_ref();  // held until release_from_loop(), as in StepNode::run
    task_.step();
}

void TaskBase::WakeUpNode::release_from_loop() noexcept {
    if (std::exchange(ran_, false)) {
        task_.release();
    } else {
        task_.destroy_pending();  // released without running: the loop closed with the wake-up queued
    }
}

// --- step 3: cancellation -------------------------------------------------------------------

bool TaskBase::cancel(std::string message) {
    if (done()) return false;
    ++cancel_requests_;
    // Waiting: cancel what it waits on; the wake-up then raises CancelledError from it.
    if (waiting_on_ && waiting_on_->cancel(message)) return true;
    // Otherwise deliver it at the next step (sticky until then).
    must_cancel_ = true;
    set_cancel_message(std::move(message));
    return true;
}

int TaskBase::cancelling() const noexcept { return cancel_requests_; }

int TaskBase::uncancel() noexcept {
    if (cancel_requests_ > 0 && --cancel_requests_ == 0) must_cancel_ = false;
    return cancel_requests_;
}

void TaskBase::throw_if_cancel_delivered() {
    if (std::exchange(deliver_cancel_, false)) throw aio::CancelledError(cancel_message());
}

// --- step 4: what nobody waits for ----------------------------------------------------------

void TaskBase::destroy_pending() noexcept {
    aio::detail::Ref<TaskBase> self(this);
    if (done()) return;
    std::string source;
    try {
        source = describe();
    } catch (...) {
    }
    get_loop().call_exception_handler({"Task was destroyed but it is pending!", nullptr, source});
    if (waiting_on_) {
        waiting_on_->remove_done_callback(wake_up_node_);
        waiting_on_ = nullptr;
    }
    destroy_coroutine();  // runs the body's destructors, frees the frame
    try {
        cancel_future("the event loop was closed");
    } catch (...) {
    }
    finish();
}

namespace detail {

RunLoop::RunLoop(const aio::RunOptions& options) {
    if (aio::try_get_running_loop())
        throw aio::RuntimeError("lab::run() cannot be called from a running event loop");
    loop_ = options.loop_factory ? options.loop_factory() : std::make_unique<aio::DefaultEventLoop>();
    if (!loop_) throw aio::RuntimeError("lab::run(): the loop_factory returned no loop");
    loop_->set_debug(options.debug);
    try {
        previous_event_loop_ = &aio::get_event_loop();
    } catch (const aio::RuntimeError&) {
    }
    aio::set_event_loop(loop_.get());
}

void RunLoop::shut_down() noexcept {
    if (std::exchange(shut_down_, true)) return;
    // asyncio.run's finally block: cancel what main left behind and let it clean up.
    std::vector<aio::detail::Ref<TaskBase>> left;
    for (TaskBase* task : lab::all_tasks(*loop_)) left.emplace_back(task);
    for (auto& task : left) task->cancel();
    for (auto& task : left) {
        try {
            if (!task->done()) loop_->run_until_done(*task);
        } catch (...) {
            loop_->call_exception_handler(
                {"error while cancelling the remaining tasks in lab::run()", std::current_exception(), {}});
            break;
        }
    }
    for (auto& task : left) {
        if (!task->done() || task->cancelled()) continue;
        if (std::exception_ptr error = task->exception())
            loop_->call_exception_handler({"unhandled exception during lab::run() shutdown", error, task->describe()});
    }
    left.clear();
    // aio's own tasks, then close(): aio's shut-down does exactly that.
    aio::detail::shut_down_run_loop(*loop_);
    aio::set_event_loop(previous_event_loop_);
}

}  // namespace detail

}  // namespace lab
