#pragma once
// aio::EventLoop: the interface every loop implements (asyncio.AbstractEventLoop), so that
// another loop can plug in as uvloop plugs into asyncio, and the functions that find the
// running loop.
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "callback.hpp"
#include "handle.hpp"
#include "time.hpp"

namespace aio {

class TaskBase;
class Waitable;

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
    EventLoop() = default;
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
    decltype(auto) run_until_complete(Awaitable&& awaitable);

    /// Runs the loop until `future` is done (the non-template core of run_until_complete).
    void run_until_done(Waitable& future);

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

    bool get_debug() const noexcept { return debug_; }
    void set_debug(bool enabled) noexcept { debug_ = enabled; }

    // --- tasks ---------------------------------------------------------------------------

    /// Tasks created on this loop and not yet done (asyncio.all_tasks(loop)).
    std::vector<TaskBase*> pending_tasks() const;

protected:
    /// For implementations: runs `node` with errors sent to the exception handler, then
    /// releases it. Keeps the ready-queue contract in one place.
    void run_node(Runnable& node) noexcept;
    /// For implementations: call from close() after dropping callbacks and timers.
    void destroy_pending_tasks() noexcept;
    /// For implementations: call from run_forever() around the run (asyncio's
    /// _set_running_loop). Throws RuntimeError if a loop already runs on this thread.
    void enter_running() ;
    void leave_running() noexcept;

private:
    friend class TaskBase;
    ExceptionHandler exception_handler_;
    bool debug_ = false;
    TaskBase* first_task_ = nullptr;  // intrusive list of pending tasks, newest first
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
