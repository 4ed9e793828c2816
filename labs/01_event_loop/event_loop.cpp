#include "event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>

#include <aio/errors.hpp>
#include <aiolab/todo.hpp>

namespace lab {

// --- construction ------------------------------------------------------------------------

EventLoop::EventLoop() {
    // TODO(step 5): create the epoll instance (epoll_create1) into epoll_fd_.
    // TODO(step 6): create an eventfd (non-blocking) into wakeup_fd_ and register it with
    //               epoll for EPOLLIN, so that a write to it ends epoll_wait.
}

EventLoop::~EventLoop() {
    // TODO(step 3): close() the loop if it is neither closed nor running.
}

void EventLoop::require_open() const {
    if (closed_) throw aio::RuntimeError("Event loop is closed");
}

// --- step 1: the ready queue -------------------------------------------------------------

void EventLoop::call_soon(aio::Runnable& node) {
    // TODO(step 1): refuse if closed (require_open), then append the node to ready_.
    (void)node;
    aiolab::todo("step 1: call_soon appends the node to the ready queue");
}

void EventLoop::run_once() {
    // One iteration, in this order (see event_loop.hpp):
    // TODO(step 4): drop_cancelled_timers();
    // TODO(step 5): wait_for_events(next_timeout());
    // TODO(step 6): take_threadsafe_callbacks();
    // TODO(step 4): queue_due_timers();
    // TODO(step 1): run the callbacks that were ready when this pass began (not the ones
    //               they schedule), in FIFO order, each through run_callback().
    aiolab::todo("step 1: run_once runs the callbacks that are ready");
}

// --- step 2: errors ----------------------------------------------------------------------

void EventLoop::run_callback(aio::Runnable& node) {
    // TODO(step 1): node.run(), then node.release_from_loop().
    // TODO(step 2): if run() throws, report it with call_exception_handler() (message
    //               "Exception in callback " + node.describe()) and still release the node.
    (void)node;
    aiolab::todo("step 1: run_callback runs a node, then releases it");
}

// --- step 3: running, stopping, closing ----------------------------------------------------

void EventLoop::run_forever() {
    // TODO(step 3): refuse if closed or already running; enter_running(); run iterations
    //               until stop() was called; on every way out (exceptions too) reset the
    //               flags and leave_running().
    aiolab::todo("step 3: run_forever runs iterations until stop()");
}

void EventLoop::stop() {
    // TODO(step 3): ask run_forever() to return after the current iteration.
    aiolab::todo("step 3: stop");
}

void EventLoop::close() {
    // TODO(step 3): refuse if running; do nothing if closed; release the ready nodes and the
    //               timers without running them; destroy_pending_tasks(); close the fds.
    aiolab::todo("step 3: close");
}

// --- step 4: timers ----------------------------------------------------------------------

void EventLoop::schedule_timer(aio::detail::TimerNode& timer) {
    // TODO(step 4): refuse if closed; push {when, sequence, node} on the heap
    //               (std::push_heap with RunsLater); add_ref(); set timer.scheduled.
    (void)timer;
    aiolab::todo("step 4: schedule_timer puts the timer in the heap");
}

void EventLoop::timer_handle_cancelled(aio::detail::TimerNode&) noexcept {
    // TODO(step 4): count the cancelled timer (it stays in the heap for now).
}

aio::TimePoint EventLoop::time() const {
    // TODO(step 4): std::chrono::steady_clock::now() as an aio::TimePoint.
    aiolab::todo("step 4: time reads steady_clock");
}

void EventLoop::drop_cancelled_timers() {
    // TODO(step 4): if more than 100 timers and over half cancelled, rebuild the heap
    //               without them; otherwise pop the cancelled timers at the front.
    aiolab::todo("step 4: drop cancelled timers");
}

void EventLoop::queue_due_timers() {
    // TODO(step 4): pop every timer whose deadline is <= time() and queue it (a cancelled
    //               one is released instead).
    aiolab::todo("step 4: move the due timers to the ready queue");
}

// --- step 5: waiting instead of spinning ---------------------------------------------------

aio::Duration EventLoop::next_timeout() const {
    // TODO(step 5): zero if callbacks are ready or the loop is stopping; max() if there is
    //               no timer; else the time left until the first timer (never negative).
    aiolab::todo("step 5: compute how long the loop may wait");
}

void EventLoop::wait_for_events(aio::Duration timeout) {
    // TODO(step 5): epoll_wait for at most `timeout`, rounded UP to milliseconds (-1 for
    //               max()); an EINTR is not an error.
    // TODO(step 6): if the eventfd is readable, read it to reset it.
    (void)timeout;
    aiolab::todo("step 5: wait_for_events waits on epoll");
}

// --- step 6: other threads ---------------------------------------------------------------

void EventLoop::call_soon_threadsafe(aio::Callback callback) {
    // TODO(step 6): under the mutex: refuse if closed, append to inbox_; then wake the loop
    //               by writing 1 to the eventfd (once per batch is enough).
    (void)callback;
    aiolab::todo("step 6: call_soon_threadsafe queues the callback and wakes the loop");
}

void EventLoop::take_threadsafe_callbacks() {
    // TODO(step 6): move the inbox's callbacks to the ready queue (call_soon each).
    aiolab::todo("step 6: move the callbacks from other threads to the ready queue");
}

}  // namespace lab
