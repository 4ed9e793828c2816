#pragma once
// aio's debug mode (asyncio's debug mode): what it checks, and where its reports go.
//
// Debug mode belongs to a loop. It is on when the loop was made by
// aio::run(main, {.debug = true}), when AIO_DEBUG is set to anything but "" or "0" in the
// environment as a loop is constructed (asyncio reads PYTHONASYNCIODEBUG the same way), or
// after loop.set_debug(true). While such a loop runs on a thread:
//
//   - slow callbacks: a callback or task step that runs longer than
//     loop.slow_callback_duration (0.1 s unless set; measured on std::chrono::steady_clock,
//     even on a VirtualTimeLoop) is reported as "Executing <Task ...> took 0.153 seconds";
//   - origins: a task created then remembers where (the create_task call) and which
//     coroutine it runs (" coro=<f() at file:line> created at file:line" in its
//     describe(), so in "Task exception was never retrieved" and the slow-callback report);
//   - never-awaited coroutines: a Coro created on that thread and destroyed without being
//     awaited or given to a task is reported as "coroutine 'f' was never awaited";
//   - wrong-thread calls: call_soon, call_later, call_at, create_task, add_reader & co.,
//     and set_result / set_exception / cancel of a future that something waits on, called
//     from another thread than the one running the loop, throw RuntimeError (only
//     call_soon_threadsafe may be). A future nobody waits on is not checked: completing it
//     does not touch the loop, and it may outlive its loop.
//
// Every report goes to the loop's exception handler as an ExceptionContext (no exception,
// the message above, the task or callback as `source`), so a test captures them with
// set_exception_handler. Reports with no loop to go to (a coroutine dropped after its loop
// stopped, a failed future that outlives its loop) go to the report sink below.
//
// When debug mode is off, each of these costs one predictable branch and no memory.
#include <functional>

#include "detail/debug_origin.hpp"
#include "event_loop.hpp"

namespace aio::debug {

/// Receives the reports that have no loop to go to.
using ReportSink = std::function<void(const ExceptionContext&)>;

/// Replaces the report sink; an empty function restores the default, which writes to
/// stderr as EventLoop::default_exception_handler does. Safe to call from any thread.
void set_report_sink(ReportSink sink);

/// Sends `context` to the exception handler of the loop running on this thread, or to the
/// report sink if none runs. Never throws.
void report(const ExceptionContext& context) noexcept;

}  // namespace aio::debug

namespace aio::detail {

/// Sends `context` to `loop`'s exception handler if that loop still exists, else to the
/// report sink: a future or a task can outlive its loop, and it reports an exception never
/// retrieved from its destructor. A loop destroyed and another built at the same address
/// receives the report; no report ever reaches freed memory. Never throws.
void report_to_loop(EventLoop* loop, const ExceptionContext& context) noexcept;

/// Whether AIO_DEBUG asks for debug mode: set, and neither "" nor "0".
bool debug_mode_from_environment() noexcept;

/// The registry report_to_loop() consults: EventLoop's constructor and destructor call these.
void register_live_loop(const EventLoop* loop);
void unregister_live_loop(const EventLoop* loop) noexcept;

}  // namespace aio::detail
