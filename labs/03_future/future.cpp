#include "future.hpp"


namespace lab {

FutureCore::~FutureCore() {
    // TODO(step 3): callbacks still registered were never scheduled and nobody else will
    // release them: call release_from_loop() on each.
}

// --- step 1: states -----------------------------------------------------------------------

bool FutureCore::done() const noexcept {
    (void)state_;  // (only so the starter compiles without an unused-field warning)
    // TODO(step 1): done means finished or cancelled. (noexcept: cannot call aiolab::todo.)
    return false;
}

bool FutureCore::cancelled() const noexcept {
    (void)state_;  // (only so the starter compiles without an unused-field warning)
    // TODO(step 2): (noexcept: cannot call aiolab::todo.)
    return false;
}

std::exception_ptr FutureCore::exception() const {
    // TODO(step 1): InvalidStateError while pending; the stored exception (maybe null) once
    // finished. TODO(step 2): CancelledError(cancel message) once cancelled.
    aiolab::todo("step 1: FutureCore::exception");
}

void FutureCore::set_exception(std::exception_ptr error) {
    // TODO(step 1): must be pending (require_pending), and `error` non-null
    // (std::invalid_argument); store it, mark finished, schedule the callbacks.
    (void)error;
    aiolab::todo("step 1: FutureCore::set_exception");
}

std::string FutureCore::describe() const {
    // TODO(step 1): "<Future pending>", "<Future finished>",
    // "<Future finished exception=" + aio::describe_exception(...) + ">".
    // TODO(step 2): "<Future cancelled>".
    aiolab::todo("step 1: FutureCore::describe");
}

void FutureCore::require_pending(const char* operation) const {
    // TODO(step 1): throw aio::InvalidStateError naming `operation` unless pending.
    (void)operation;
    aiolab::todo("step 1: FutureCore::require_pending");
}

void FutureCore::throw_unless_value() const {
    // TODO(step 1): InvalidStateError while pending; rethrow the stored exception if any.
    // TODO(step 2): CancelledError(cancel message) once cancelled.
    aiolab::todo("step 1: FutureCore::throw_unless_value");
}

void FutureCore::finish_with_value() {
    // TODO(step 1): mark finished and schedule the callbacks.
    aiolab::todo("step 1: FutureCore::finish_with_value");
}

// --- step 2: cancellation -----------------------------------------------------------------

bool FutureCore::cancel(std::string message) {
    // TODO(step 2): only a pending future can be cancelled (else return false); keep the
    // message, mark cancelled, schedule the callbacks.
    (void)message;
    aiolab::todo("step 2: FutureCore::cancel");
}

// --- step 3: done callbacks ---------------------------------------------------------------

void FutureCore::add_done_callback(aio::DoneCallback& callback) {
    // TODO(step 3): pending: remember the callback, in order. Already done: schedule it now
    // (through the loop, never inline).
    (void)callback;
    aiolab::todo("step 3: FutureCore::add_done_callback");
}

bool FutureCore::remove_done_callback(aio::DoneCallback& callback) noexcept {
    // TODO(step 3): forget `callback` if it is registered; return whether it was.
    // (noexcept: cannot call aiolab::todo.)
    (void)callback;
    return false;
}

void FutureCore::schedule_callbacks() noexcept {
    // TODO(step 3): hand every registered callback to the loop, in registration order, and
    // forget them. Left empty in the starter so that steps 1 and 2 work without it.
}

void FutureCore::schedule(aio::DoneCallback& callback) noexcept {
    // TODO(step 3): callback.set_completed_future(*this) (what on_done() will receive), then
    // loop_->call_soon(callback). If call_soon throws (the loop is closed), the callback can
    // never run: release_from_loop() it instead.
    (void)callback;
}

}  // namespace lab
