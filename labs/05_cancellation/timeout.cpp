#include "timeout.hpp"

#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "cancellation.hpp"

namespace lab {

Timeout::~Timeout() {
    // TODO(step 5): cancel the timer, if any (the task may be destroyed inside the body, and
    // the timer must then never call on_timeout() on a dead scope).
}

void Timeout::enter() {
    // TODO(step 5): only once (aio::RuntimeError("Timeout has already been entered")), only
    // inside a task (aio::RuntimeError("Timeout should be used inside a task")). Remember the
    // task and its cancelling() count, mark the scope entered, then schedule the deadline
    // (reschedule(when_) does that).
    aiolab::todo("step 5: Timeout::enter");
}

void Timeout::reschedule(std::optional<aio::TimePoint> when) {
    // TODO(step 5): aio::RuntimeError unless entered (and not expiring, expired or left).
    // Store `when`, cancel the old timer, and if `when` is set start a new one with the
    // task's loop: loop.call_at(*when, [this] { on_timeout(); }), or, for a time already
    // past (<= loop.time()), loop.call_soon(...) instead: it then runs before anything the
    // body schedules afterwards, as in asyncio.
    (void)when;
    aiolab::todo("step 5: Timeout::reschedule");
}

void Timeout::on_timeout() {
    // TODO(step 5): the deadline is reached while the task waits in the body: mark the scope
    // expiring and cancel the task.
    aiolab::todo("step 5: Timeout::on_timeout");
}

void Timeout::leave(std::exception_ptr body_error) {
    // TODO(step 5): cancel the timer. If this scope cancelled the task (expiring): it is now
    // expired; withdraw that request (uncancel()); if the count is back to its value at entry
    // and the body ended with CancelledError (is_cancelled_error), throw aio::TimeoutError.
    // If it never expired, it is now left. Finally rethrow `body_error`, if any.
    (void)body_error;
    aiolab::todo("step 5: Timeout::leave");
}

Timeout timeout(std::optional<aio::Duration> delay) {
    // TODO(step 5): a Timeout at the running loop's time() + delay (aio::saturating_add), or
    // one without a deadline; aio::get_running_loop() throws if no loop runs, even for nullopt.
    (void)delay;
    aiolab::todo("step 5: timeout(delay)");
}

Timeout timeout(double delay_seconds) { return lab::timeout(std::optional<aio::Duration>(aio::seconds(delay_seconds))); }

}  // namespace lab
