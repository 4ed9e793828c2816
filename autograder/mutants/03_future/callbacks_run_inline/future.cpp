#include "future.hpp"

#include <algorithm>
#include <stdexcept>

namespace lab {

FutureCore::~FutureCore() {
    // Callbacks still registered were never scheduled: nobody else will release them.
    for (aio::DoneCallback* callback : callbacks_) callback->release_from_loop();
}

// --- step 1: states -----------------------------------------------------------------------

bool FutureCore::done() const noexcept { return state_ != State::pending; }

bool FutureCore::cancelled() const noexcept { return state_ == State::cancelled; }

std::exception_ptr FutureCore::exception() const {
    if (state_ == State::cancelled) throw aio::CancelledError(cancel_message_);
    if (state_ == State::pending) throw aio::InvalidStateError("Exception is not set.");
    return exception_;
}

void FutureCore::set_exception(std::exception_ptr error) {
    require_pending("set_exception");
    if (!error) throw std::invalid_argument("set_exception: the exception_ptr is null");
    exception_ = std::move(error);
    state_ = State::finished;
    schedule_callbacks();
}

std::string FutureCore::describe() const {
    switch (state_) {
        case State::pending: return "<Future pending>";
        case State::cancelled: return "<Future cancelled>";
        case State::finished: break;
    }
    if (exception_) return "<Future finished exception=" + aio::describe_exception(exception_) + ">";
    return "<Future finished>";
}

void FutureCore::require_pending(const char* operation) const {
    if (state_ != State::pending)
        throw aio::InvalidStateError(std::string(operation) + ": invalid state: " + describe());
}

void FutureCore::throw_unless_value() const {
    if (state_ == State::cancelled) throw aio::CancelledError(cancel_message_);
    if (state_ == State::pending) throw aio::InvalidStateError("Result is not ready.");
    if (exception_) std::rethrow_exception(exception_);
}

void FutureCore::finish_with_value() {
    state_ = State::finished;
    schedule_callbacks();
}

// --- step 2: cancellation -----------------------------------------------------------------

bool FutureCore::cancel(std::string message) {
    if (state_ != State::pending) return false;
    state_ = State::cancelled;
    cancel_message_ = std::move(message);
    schedule_callbacks();
    return true;
}

// --- step 3: done callbacks ---------------------------------------------------------------

void FutureCore::add_done_callback(aio::DoneCallback& callback) {
    if (state_ != State::pending) {
        // Already done: soon, but still not inline. Throws RuntimeError if the loop is closed.
        callback.set_completed_future(*this);
        loop_->call_soon(callback);
        return;
    }
    callbacks_.push_back(&callback);
}

bool FutureCore::remove_done_callback(aio::DoneCallback& callback) noexcept {
    auto found = std::find(callbacks_.begin(), callbacks_.end(), &callback);
    if (found == callbacks_.end()) return false;
    callbacks_.erase(found);  // keeps the others in registration order
    return true;
}

void FutureCore::schedule_callbacks() noexcept {
    // Take the list first: a callback can only be scheduled once, and the loop may already
    // be running when this is called from inside another callback.
    std::vector<aio::DoneCallback*> ready = std::move(callbacks_);
    callbacks_.clear();
    for (aio::DoneCallback* callback : ready) schedule(*callback);
}

void FutureCore::schedule(aio::DoneCallback& callback) noexcept {
    // Through call_soon, never inline: a callback must not run inside set_result(), where
    // it could re-enter the code that completed the future.
    callback.set_completed_future(*this);
    try {
        callback.run();  // MUTANT: runs the callback inline instead of through call_soon
    } catch (...) {
    }
    callback.release_from_loop();
}

}  // namespace lab
