#include "aio/task.hpp"

#include "aio/trace.hpp"

namespace aio {

namespace {
thread_local AbstractTask* running_task = nullptr;
thread_local std::uint64_t tasks_created = 0;
}  // namespace

TaskBase::TaskBase(EventLoop& loop, std::coroutine_handle<> coroutine, std::string name,
                   const std::source_location& created_at, detail::OriginId coroutine_origin)
    : FutureCore(loop), coroutine_(coroutine), resume_point_(coroutine), id_(++tasks_created) {
    if (!name.empty()) name_ = std::make_unique<std::string>(std::move(name));
    try {
        if (loop.get_debug()) [[unlikely]] {
            loop.check_thread();  // create_task from another thread throws (debug.hpp)
            origin_ = detail::remember_task_origin(created_at, coroutine_origin);
        }
        loop.call_soon(static_cast<DoneCallback&>(*this));  // the first step
    } catch (...) {
        destroy_coroutine();  // the loop is closed: the body never runs
        throw;
    }
    next_task_ = loop.first_task_;
    if (next_task_) next_task_->previous_task_ = this;
    loop.first_task_ = this;
    add_ref();  // keep-alive while pending, dropped by finish()
    if (Tracer* tracer = loop.tracer()) [[unlikely]] {
        try {
            tracer->task_created(loop, *this);
        } catch (...) {  // out of memory while tracing: the task is registered, keep it
        }
    }
}

TaskBase::~TaskBase() {
    report_unretrieved_exception();  // here, so the report says "Task"
    destroy_coroutine();
}

std::string TaskBase::get_name() const {
    return name_ ? *name_ : "Task-" + std::to_string(id_);
}

void TaskBase::set_name(std::string name) { name_ = std::make_unique<std::string>(std::move(name)); }

std::string TaskBase::describe() const {
    std::string text = "<Task " + std::string(state_name()) + " name='" + get_name() + "'";
    if (origin_ != 0) [[unlikely]]
        text += detail::describe_task_origin(origin_);  // debug mode: " coro=<...> created at ..."
    if (fut_waiter_) text += " wait_for=" + fut_waiter_->describe();
    return text + ">";
}

bool TaskBase::cancel(std::string message) {
    if (done()) return false;
    ++cancel_requests_;
    if (fut_waiter_ && fut_waiter_->cancel(message)) {
        // The wake-up that follows raises CancelledError from the awaited future itself.
        return true;
    }
    must_cancel_ = true;
    set_cancel_message(std::move(message));
    return true;
}

int TaskBase::uncancel() noexcept {
    if (cancel_requests_ > 0 && --cancel_requests_ == 0) must_cancel_ = false;
    return cancel_requests_;
}

void TaskBase::wait_on(Waitable& future, std::coroutine_handle<> resume_point) {
    if (&future == static_cast<Waitable*>(this)) throw RuntimeError("Task cannot await on itself: " + describe());
    if (&future.get_loop() != &get_loop())
        throw RuntimeError("Task " + get_name() + " got Future " + future.describe() +
                           " attached to a different loop");
    future.add_done_callback(*this);
    resume_point_ = resume_point;
    fut_waiter_ = &future;
    if (must_cancel_ && fut_waiter_->cancel(cancel_message())) must_cancel_ = false;
}

void TaskBase::yield_now(std::coroutine_handle<> resume_point) noexcept {
    resume_point_ = resume_point;
    yielded_ = true;
}

void TaskBase::throw_if_cancel_delivered() {
    if (std::exchange(deliver_cancel_, false)) throw CancelledError(cancel_message());
}

void TaskBase::run() {
    // Keep the task alive past the step even if it finishes and drops its own reference
    // (finish() may be the last thing that holds it): the loop still calls
    // release_from_loop() on this node after run() returns, which drops this reference.
    add_ref();
    holds_step_reference_ = true;
    step();
}

void TaskBase::release_from_loop() noexcept {
    // Also called for a node the loop drops without running it (at close) or that a future
    // hands back unscheduled: only a reference taken by run() is dropped.
    if (std::exchange(holds_step_reference_, false)) release();
}

void TaskBase::step() {
    if (done()) return;
    clear_completed_future();
    fut_waiter_ = nullptr;
    if (std::exchange(must_cancel_, false)) deliver_cancel_ = true;

    if (deliver_cancel_ && !started_) {
        // CancelledError thrown into a coroutine that never started ends it at once.
        deliver_cancel_ = false;
        destroy_coroutine();
        cancel_future({});
        finish();
        return;
    }

    started_ = true;
    yielded_ = false;
    {
        CurrentTaskScope current(this);
        resume_point_.resume();  // never throws: the promise catches what the body throws
    }
    deliver_cancel_ = false;

    if (coroutine_.done()) {
        take_coroutine_outcome();
        destroy_coroutine();
        finish();
    } else if (fut_waiter_) {
        // Woken by fut_waiter_'s done callback (this node), registered in wait_on().
    } else if (yielded_) {
        get_loop().call_soon(static_cast<DoneCallback&>(*this));
    } else {
        // The body suspended on something that never told the task: nothing would ever
        // resume it. Fail loudly rather than hang. The frame is left for the destructor.
        FutureCore::set_exception(std::make_exception_ptr(RuntimeError(
            "task " + get_name() +
            " suspended on an awaitable that does not use aio's task protocol "
            "(await aio futures, tasks, sleep, or call aio::detail::wait_in_current_task)")));
        finish();
    }
}

void TaskBase::finish_with_exception(std::exception_ptr error) {
    // The usual way to end cancelled: the CancelledError aio threw at the await point went
    // through the body uncaught. Recognised without a second throw.
    if (const std::string* message = detail::message_if_made_cancel(error)) {
        cancel_future(*message);
        return;
    }
    try {
        std::rethrow_exception(error);
    } catch (const CancelledError& cancelled) {
        cancel_future(cancelled.message());
        return;
    } catch (...) {
    }
    FutureCore::set_exception(std::move(error));
}

void TaskBase::finish() noexcept {
    // Leave the loop's list of pending tasks and drop the keep-alive reference.
    EventLoop& loop = get_loop();
    if (Tracer* tracer = loop.tracer()) [[unlikely]] {
        try {
            tracer->task_finished(loop, *this);
        } catch (...) {  // out of memory while tracing: the task still finishes
        }
    }
    (previous_task_ ? previous_task_->next_task_ : loop.first_task_) = next_task_;
    if (next_task_) next_task_->previous_task_ = previous_task_;
    previous_task_ = next_task_ = nullptr;
    release_keep_alive();
}

void TaskBase::destroy_coroutine() noexcept {
    if (coroutine_) std::exchange(coroutine_, nullptr).destroy();
    resume_point_ = nullptr;
}

void TaskBase::destroy_pending() noexcept {
    detail::Ref<TaskBase> self(this);
    std::string source;
    try {
        source = describe();
    } catch (...) {
    }
    get_loop().call_exception_handler({"Task was destroyed but it is pending!", nullptr, source});
    if (fut_waiter_) {
        fut_waiter_->remove_done_callback(*this);
        fut_waiter_ = nullptr;
    }
    destroy_coroutine();  // runs the body's destructors, frees the frame
    try {
        cancel_future("the event loop was closed");
    } catch (...) {
    }
    finish();
}

AbstractTask* current_task() noexcept { return running_task; }

CurrentTaskScope::CurrentTaskScope(AbstractTask* task) noexcept
    : previous_(std::exchange(running_task, task)) {}
CurrentTaskScope::~CurrentTaskScope() { running_task = previous_; }

std::vector<TaskBase*> all_tasks() { return get_running_loop().pending_tasks(); }
std::vector<TaskBase*> all_tasks(EventLoop& loop) { return loop.pending_tasks(); }

namespace detail {

void throw_if_cancel_delivered() {
    if (running_task) running_task->throw_if_cancel_delivered();
}

void wait_in_current_task(Waitable& future, std::coroutine_handle<> resume_point) {
    if (!running_task)
        throw RuntimeError(
            "a future can only be awaited inside an aio task (wrap the coroutine with "
            "aio::create_task, aio::run or loop.run_until_complete)");
    running_task->wait_on(future, resume_point);
}

}  // namespace detail

}  // namespace aio
