#include "aio/event_loop.hpp"

#include <cstdio>

#include "aio/debug.hpp"
#include "aio/future.hpp"
#include "aio/task.hpp"
#include "aio/trace.hpp"

namespace aio {

namespace {
thread_local EventLoop* running_loop = nullptr;
thread_local EventLoop* thread_event_loop = nullptr;
}  // namespace

EventLoop::EventLoop() : tracer_(trace::detail::tracer_for_new_loop()) {
    detail::register_live_loop(this);  // first: if it throws, nothing is attached yet
    debug_ = detail::debug_mode_from_environment();
    if (tracer_) tracer_->attach(*this);
    update_instrumented();
}

EventLoop::~EventLoop() {
    // A loop that never called destroy_pending_tasks() still cuts its jobs in flight off.
    close_executor_link();
    if (tracer_) tracer_->detach(*this);
    detail::unregister_live_loop(this);
}

void EventLoop::set_tracer(std::shared_ptr<Tracer> tracer) {
    if (tracer == tracer_) return;
    if (tracer_) tracer_->detach(*this);
    tracer_ = std::move(tracer);
    if (tracer_) tracer_->attach(*this);
    update_instrumented();
}

void EventLoop::timer_handle_cancelled(detail::TimerNode&) noexcept {}

Handle EventLoop::call_soon(Callback callback) {
    check_thread();
    detail::Ref<detail::CallbackNode> node(new detail::CallbackNode(std::move(callback)));
    call_soon(static_cast<Runnable&>(*node));
    node->add_ref();  // the ready queue's reference, dropped by release_from_loop()
    return Handle(std::move(node));
}

TimerHandle EventLoop::call_at(TimePoint when, Callback callback) {
    check_thread();
    detail::Ref<detail::TimerNode> node(new detail::TimerNode(*this, when, std::move(callback)));
    schedule_timer(*node);
    return TimerHandle(std::move(node));
}

TimerHandle EventLoop::call_later(Duration delay, Callback callback) {
    return call_at(saturating_add(time(), std::max(delay, Duration::zero())), std::move(callback));
}

namespace {
/// Stops the loop when the future run_until_done() waits for is done. Counted, because
/// it may still sit in the ready queue when run_until_done() leaves by an exception.
class StopWhenDone final : public DoneCallback, public detail::RefCounted {
public:
    explicit StopWhenDone(EventLoop& loop) : loop_(&loop) {}
    void on_done(Waitable&) override {
        if (armed) loop_->stop();
    }
    void release_from_loop() noexcept override { RefCounted::release(); }
    std::string describe() const override { return "<run_until_complete stop>"; }
    bool armed = true;

private:
    EventLoop* loop_;
};
}  // namespace

void EventLoop::run_until_done(Waitable& future) {
    detail::Ref<StopWhenDone> stopper(new StopWhenDone(*this));
    future.add_done_callback(*stopper);
    stopper->add_ref();  // the registration's reference
    auto disarm = [&] {
        stopper->armed = false;
        if (future.remove_done_callback(*stopper)) stopper->release_from_loop();
    };
    try {
        run_forever();
    } catch (...) {
        disarm();
        throw;
    }
    if (!future.done()) {
        disarm();
        throw RuntimeError("Event loop stopped before Future completed.");
    }
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
    if (!exception_handler_) {
        default_exception_handler(context);
        return;
    }
    try {
        exception_handler_(*this, context);
    } catch (...) {
        // asyncio: an error in the handler is logged, together with the original context.
        default_exception_handler(
            {"Unhandled error in exception handler", std::current_exception(), context.source});
        default_exception_handler(context);
    }
}

void EventLoop::default_exception_handler(const ExceptionContext& context) noexcept {
    try {
        std::string line = "aio: " + context.message;
        if (!context.source.empty()) line += "\n  source: " + context.source;
        if (context.exception) line += "\n  exception: " + describe_exception(context.exception);
        std::fprintf(stderr, "%s\n", line.c_str());
    } catch (...) {
        std::fputs("aio: an error occurred while reporting an error\n", stderr);
    }
}

void EventLoop::run_node(Runnable& node) noexcept {
    // One predictable test on the hot path: instrumented_ is debug_ || tracer_.
    if (instrumented_) [[unlikely]]
        run_node_instrumented(node);
    else
        run_node_guarded(node);
    node.release_from_loop();
}

void EventLoop::run_node_instrumented(Runnable& node) noexcept {
    // A local reference: the callback may replace or drop the loop's tracer.
    std::shared_ptr<Tracer> tracer = tracer_;
    std::size_t token = static_cast<std::size_t>(-1);
    if (tracer) {
        try {
            token = tracer->node_started(*this, node);
        } catch (...) {  // out of memory while tracing: run the node anyway
        }
    }
    if (debug_)
        run_node_timed(node);  // debug mode's slow-callback report (debug.cpp)
    else
        run_node_guarded(node);
    if (tracer) {
        try {
            tracer->node_finished(*this, node, token);
        } catch (...) {
        }
    }
}

void EventLoop::run_node_guarded(Runnable& node) noexcept {
    try {
        node.run();
    } catch (...) {
        auto error = std::current_exception();
        std::string source;
        try {
            source = node.describe();
        } catch (...) {
        }
        call_exception_handler({"Exception in callback " + source, error, source});
    }
}

void EventLoop::enter_running() {
    if (running_loop)
        throw RuntimeError("Cannot run the event loop while another loop is running");
    running_loop = this;
    thread_id_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    detail::track_coroutine_origins = debug_;  // asyncio's _set_coroutine_origin_tracking
}

void EventLoop::leave_running() noexcept {
    running_loop = nullptr;
    thread_id_.store(std::thread::id(), std::memory_order_relaxed);
    detail::track_coroutine_origins = false;
}

std::vector<TaskBase*> EventLoop::pending_tasks() const {
    std::vector<TaskBase*> tasks;
    for (TaskBase* task = first_task_; task; task = task->next_task_) tasks.push_back(task);
    return tasks;
}

void EventLoop::destroy_pending_tasks() noexcept {
    close_executor_link();  // first: a completion arriving from now on is dropped
    while (first_task_) first_task_->destroy_pending();
}

EventLoop& get_running_loop() {
    if (!running_loop) throw RuntimeError("no running event loop");
    return *running_loop;
}

EventLoop* try_get_running_loop() noexcept { return running_loop; }

EventLoop& get_event_loop() {
    if (running_loop) return *running_loop;
    if (thread_event_loop) return *thread_event_loop;
    throw RuntimeError("no current event loop: none is running and none was set with set_event_loop()");
}

void set_event_loop(EventLoop* loop) noexcept { thread_event_loop = loop; }

namespace detail {
void TimerNode::cancel() noexcept {
    if (cancelled()) return;
    CallbackNode::cancel();
    if (scheduled) loop_->timer_handle_cancelled(*this);
}
}  // namespace detail

namespace {
[[noreturn]] void throw_no_io(const char* what) {
    throw RuntimeError(std::string(what) + ": this event loop does not support I/O");
}
}  // namespace

void EventLoop::add_reader(int, Callback) { throw_no_io("add_reader"); }
bool EventLoop::remove_reader(int) { throw_no_io("remove_reader"); }
void EventLoop::add_writer(int, Callback) { throw_no_io("add_writer"); }
bool EventLoop::remove_writer(int) { throw_no_io("remove_writer"); }

void EventLoop::add_signal_handler(int, Callback) {
    throw RuntimeError("add_signal_handler: this event loop does not support signals");
}
bool EventLoop::remove_signal_handler(int) {
    throw RuntimeError("remove_signal_handler: this event loop does not support signals");
}

}  // namespace aio
