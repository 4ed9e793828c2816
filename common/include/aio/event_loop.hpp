#pragma once
// aio::EventLoop: the interface every loop implements (asyncio.AbstractEventLoop), so that
// another loop can plug in as uvloop plugs into asyncio, and the functions that find the
// running loop.
#include <atomic>
#include <concepts>
#include <exception>
#include <functional>
#include <memory>
#include <source_location>
#include <string>
#include <thread>
#include <vector>

#include "callback.hpp"
#include "coro.hpp"
#include "handle.hpp"
#include "time.hpp"

namespace aio {

class TaskBase;
class Tracer;
class Waitable;
class EventLoop;
class Executor;
namespace detail {
class ExecutorLink;
class ExecutorJob;
void submit_job(EventLoop& loop, Executor& executor, ExecutorJob* job);
}  // namespace detail

/// What went wrong, as handed to an exception handler (asyncio's context dict).
struct ExceptionContext {
    std::string message;             ///< what happened, e.g. "Exception in callback"
    std::exception_ptr exception;    ///< the error, if any
    std::string source;              ///< the handle, task or future concerned
};

using ExceptionHandler = std::function<void(class EventLoop&, const ExceptionContext&)>;

/// The event loop interface.
///
/// A loop owns a ready queue (FIFO, one pass per iteration: what is scheduled during an
/// iteration runs in the next one) and a timer heap (due timers run in deadline order, ties
/// in scheduling order). Implementations provide the pure virtual primitives; everything
/// else here is built on them, so a loop written from scratch runs aio's tasks unchanged.
///
/// A loop is used from the thread that runs it; only call_soon_threadsafe() may be called
/// from other threads.
class EventLoop {
public:
    /// Starts with the tracer of aio::trace::start() or AIO_TRACE, if any (aio/trace.hpp).
    EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    virtual ~EventLoop();

    // --- primitives: what a loop implementation provides -------------------------------

    /// Queues `node` to run once in the next iteration. Never runs it inline. The node stays
    /// owned by the caller; the loop calls node.release_from_loop() when done with it.
    /// Throws RuntimeError if the loop is closed.
    virtual void call_soon(Runnable& node) = 0;

    /// Puts `timer` in the timer heap (the loop keeps a reference until it is due or dropped).
    /// Throws RuntimeError if the loop is closed.
    virtual void schedule_timer(detail::TimerNode& timer) = 0;

    /// Told by TimerHandle::cancel() for a timer still in the heap, so the loop can clean up
    /// cancelled timers lazily. The default does nothing.
    virtual void timer_handle_cancelled(detail::TimerNode& timer) noexcept;

    /// Schedules `callback` from any thread and wakes the loop if it sleeps. Returns no Handle:
    /// handles are not thread-safe, and asyncio's is rarely used for anything but cancel.
    virtual void call_soon_threadsafe(Callback callback) = 0;

    /// The loop's monotonic clock.
    virtual TimePoint time() const = 0;

    /// Runs iterations until stop() is called. Throws RuntimeError if the loop is closed or
    /// another loop already runs on this thread.
    virtual void run_forever() = 0;
    /// Makes run_forever() return after the current iteration. If the loop is not running,
    /// the next run_forever() runs one iteration and returns.
    virtual void stop() = 0;
    /// Drops pending callbacks and timers and destroys tasks still pending (each reported as
    /// "Task was destroyed but it is pending!"). Throws RuntimeError if the loop is running.
    /// Closing twice does nothing.
    virtual void close() = 0;
    virtual bool is_running() const = 0;
    virtual bool is_closed() const = 0;

    // --- I/O readiness (asyncio's add_reader & co.) ----------------------------------------
    // Optional: a loop without I/O (a lab's first loop, say) keeps these defaults, which
    // throw RuntimeError. The callback runs in the loop each iteration `fd` is ready, until
    // removed; adding a second reader (or writer) for an fd replaces the first.

    virtual void add_reader(int fd, Callback callback);
    /// Returns whether a reader was registered for `fd`.
    virtual bool remove_reader(int fd);
    virtual void add_writer(int fd, Callback callback);
    /// Returns whether a writer was registered for `fd`.
    virtual bool remove_writer(int fd);

    // --- Unix signals (asyncio's add_signal_handler; aio/signals.hpp) ---------------------
    // Optional as well: the defaults throw RuntimeError.

    /// Runs `callback` in the loop, as an ordinary callback, each time signal `sig` arrives
    /// (never inside the signal handler itself). Deliveries that arrive before the callback
    /// gets to run are coalesced into one call, as the kernel coalesces a pending signal;
    /// one that arrives while it runs calls it again. A second handler for `sig` replaces
    /// the first. Throws ValueError if `sig` is not a signal number, RuntimeError if it
    /// cannot be caught (SIGKILL, SIGSTOP), if the loop is closed, or if another loop
    /// handles `sig` (a disposition is process-wide). May be called from a thread other
    /// than the main thread (asyncio refuses): the loop's own thread.
    virtual void add_signal_handler(int sig, Callback callback);
    /// Removes the handler and restores the disposition `sig` had before; a queued call of
    /// the callback does not run. Returns whether a handler was registered (false on a
    /// closed loop: close() removes them all). Throws ValueError for an invalid number.
    virtual bool remove_signal_handler(int sig);

    // --- built on the primitives -----------------------------------------------------------

    /// Schedules `callback` to run in the next iteration (asyncio's loop.call_soon).
    Handle call_soon(Callback callback);
    /// Schedules `callback` at loop time `when`.
    TimerHandle call_at(TimePoint when, Callback callback);
    /// Schedules `callback` after `delay` (a non-positive delay means the next iteration
    /// that processes timers).
    TimerHandle call_later(Duration delay, Callback callback);
    TimerHandle call_later(double delay_seconds, Callback callback) {
        return call_later(seconds(delay_seconds), std::move(callback));
    }

    /// Runs the loop until `awaitable` (a Coro, Future or Task) is done and returns its
    /// result or rethrows its exception. A coroutine is wrapped in a task first.
    /// Throws RuntimeError if the loop stopped before that, or if this or another loop is
    /// already running on this thread (then a coroutine is not even wrapped); ValueError if
    /// the future belongs to another loop.
    template <class Awaitable>
    decltype(auto) run_until_complete(Awaitable&& awaitable,
                                      std::source_location created_at = std::source_location::current());

    /// Runs the loop until `future` is done (the non-template core of run_until_complete).
    void run_until_done(Waitable& future);

    // --- executors (asyncio's run_in_executor; defined in executor.hpp) -------------------
    // Member templates, as asyncio has them on the loop; executor.hpp (included at the end of
    // this header) defines them. Loop thread only, like everything but call_soon_threadsafe.

    /// Calls `function(args...)` on a thread of `executor` and returns a Future<R> (R:
    /// executor_result_t<F, Args...>) of its value or exception, set on this loop's thread.
    /// Cancelling the future never stops a call already running (its outcome is dropped);
    /// a call not yet started is skipped. Throws RuntimeError if the executor is shut down.
    template <class F, class... Args>
        requires std::invocable<F, Args...>
    auto run_in_executor(Executor& executor, F function, Args... args);
    /// The same in the default executor (asyncio: run_in_executor(None, ...)).
    template <class F, class... Args>
        requires std::invocable<F, Args...>
    auto run_in_executor(F function, Args... args);
    /// The executor run_in_executor() uses when given none: the one set with
    /// set_default_executor(), else a ThreadPoolExecutor made on first use. Throws
    /// RuntimeError once shutdown_default_executor() was called. The loop holds it until
    /// it is destroyed: close() shuts it down without waiting, the loop's destructor waits
    /// for its threads (Python joins them at exit).
    Executor& default_executor();
    /// Replaces the default executor (an empty pointer: a new one is made on next use).
    void set_default_executor(std::shared_ptr<Executor> executor);
    /// Whether a default executor was set or made (and not shut down yet).
    bool has_default_executor() const noexcept { return default_executor_ != nullptr; }
    /// Shuts the default executor down and waits for its threads while the loop keeps
    /// running (asyncio's loop.shutdown_default_executor; aio::run calls it).
    Coro<void> shutdown_default_executor();
    /// Jobs submitted from this loop whose outcome has not come back yet.
    std::size_t executor_jobs_in_flight() const noexcept;

    // --- errors --------------------------------------------------------------------------

    /// Replaces the exception handler; an empty function restores the default.
    void set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }
    const ExceptionHandler& get_exception_handler() const noexcept { return exception_handler_; }
    /// Reports an error that has no caller to go to (a throwing callback, a task exception
    /// never retrieved). Never throws: a throwing handler is reported by the default one.
    void call_exception_handler(const ExceptionContext& context) noexcept;
    /// Writes the context to stderr.
    static void default_exception_handler(const ExceptionContext& context) noexcept;

    // --- debug mode ----------------------------------------------------------------------

    // What debug mode checks and reports: aio/debug.hpp. A loop starts in debug mode if
    // AIO_DEBUG is set (to anything but "" or "0") when it is constructed.

    bool get_debug() const noexcept { return debug_; }
    /// Turns debug mode on or off (also coroutine origin tracking, if the loop runs here).
    void set_debug(bool enabled) noexcept;
    /// In debug mode, a callback or task step that runs at least this long (real time) is
    /// reported as slow (asyncio's loop.slow_callback_duration).
    Duration slow_callback_duration = std::chrono::milliseconds(100);
    /// In debug mode, throws RuntimeError if another thread is running this loop
    /// (asyncio's _check_thread). The methods that only the loop's thread may call check it;
    /// a loop implementation's own such methods can too. Off: one predictable branch.
    void check_thread() const {
        if (debug_) [[unlikely]]
            check_thread_in_debug_mode();
    }

    // --- tracing (aio/trace.hpp) ---------------------------------------------------------

    /// Records what this loop does into `tracer` from now on; nullptr stops recording.
    void set_tracer(std::shared_ptr<Tracer> tracer);
    /// The loop's tracer, or nullptr (the hooks' one test when tracing is off).
    Tracer* tracer() const noexcept { return tracer_.get(); }

    // --- tasks ---------------------------------------------------------------------------

    /// Tasks created on this loop and not yet done (asyncio.all_tasks(loop)).
    std::vector<TaskBase*> pending_tasks() const;

protected:
    /// For implementations: runs `node` with errors sent to the exception handler, then
    /// releases it. Keeps the ready-queue contract in one place.
    void run_node(Runnable& node) noexcept;
    /// run_node's body (the run and the error report) without the release.
    void run_node_guarded(Runnable& node) noexcept;
    /// run_node_guarded with a tracer installed or in debug mode: out of line, so the plain
    /// path stays small.
    void run_node_instrumented(Runnable& node) noexcept;
    /// run_node_guarded in debug mode: also reports a slow callback (debug.hpp).
    void run_node_timed(Runnable& node) noexcept;
    /// For implementations: call from close() after dropping callbacks and timers. Also
    /// drops the outcomes of executor jobs still in flight (a worker finishing later finds
    /// the loop gone) and shuts the default executor down without waiting, as asyncio's
    /// close() does.
    void destroy_pending_tasks() noexcept;
    /// For implementations: call from run_forever() around the run (asyncio's
    /// _set_running_loop). Throws RuntimeError if a loop already runs on this thread.
    void enter_running() ;
    void leave_running() noexcept;

private:
    friend class TaskBase;
    ExceptionHandler exception_handler_;
    bool debug_ = false;
    void check_thread_in_debug_mode() const;
    // The thread running the loop (none when it is not running): check_thread() reads it
    // from other threads. Relaxed: it publishes nothing else, and a thread that calls in
    // while the loop starts or stops may pass unchecked, as in asyncio.
    std::atomic<std::thread::id> thread_id_{};
    std::shared_ptr<Tracer> tracer_;  // null unless tracing
    bool instrumented_ = false;       // debug_ || tracer_: run_node's one test
    void update_instrumented() noexcept { instrumented_ = debug_ || tracer_ != nullptr; }
    TaskBase* first_task_ = nullptr;  // intrusive list of pending tasks, newest first
    // Executors: created on first use (executor.cpp).
    friend void detail::submit_job(EventLoop&, Executor&, detail::ExecutorJob*);
    void close_executor_link() noexcept;
    std::shared_ptr<detail::ExecutorLink> executor_link_;
    std::shared_ptr<Executor> default_executor_;
    bool default_executor_shut_down_ = false;
};

/// The loop running on this thread. Throws RuntimeError("no running event loop") if none.
EventLoop& get_running_loop();
/// The loop running on this thread, or nullptr.
EventLoop* try_get_running_loop() noexcept;
/// The running loop, else the one set with set_event_loop(). Throws RuntimeError if neither.
EventLoop& get_event_loop();
/// Sets the loop get_event_loop() returns on this thread when none is running.
void set_event_loop(EventLoop* loop) noexcept;

}  // namespace aio

// EventLoop::run_until_complete is a template built on tasks: defined in task.hpp, which
// this includes last so that the one header is enough (task.hpp includes this one first).
#include "task.hpp"
// run_in_executor likewise, in executor.hpp.
#include "executor.hpp"
