#include "aio/future.hpp"

#include "aio/debug.hpp"
#include "aio/event_loop.hpp"

namespace aio {

FutureCore::~FutureCore() {
    report_unretrieved_exception();
    // Callbacks still registered were never scheduled: the future owns them now.
    for (DoneCallback* node = first_callback_; node;) {
        DoneCallback* next = node->next_callback_;
        node->release_from_loop();
        node = next;
    }
}

void FutureCore::report_unretrieved_exception() noexcept {
    if (!std::exchange(log_traceback_, false)) return;
    std::string source;
    try {
        source = describe();
    } catch (...) {
    }
    // The future may outlive its loop: reported to the loop only if it still exists.
    detail::report_to_loop(
        loop_, {std::string(kind()) + " exception was never retrieved", exception_, source});
}

void FutureCore::set_cancel_message(std::string message) {
    if (!message.empty()) cancel_message_ = std::make_unique<std::string>(std::move(message));
}

bool FutureCore::cancel(std::string message) {
    // Debug mode: only the loop's thread may complete a future that callbacks wait on (those
    // go to the loop's ready queue). Checked only then: a future may outlive its loop, and
    // completing it touches the loop only if it has callbacks.
    if (first_callback_) loop_->check_thread();
    return cancel_future(std::move(message));
}

bool FutureCore::cancel_future(std::string message) {
    log_traceback_ = false;
    if (state_ != State::pending) return false;
    state_ = State::cancelled;
    set_cancel_message(std::move(message));
    schedule_callbacks();
    return true;
}

const std::string& FutureCore::cancel_message() const noexcept {
    static const std::string none;
    return cancel_message_ ? *cancel_message_ : none;
}

void FutureCore::add_done_callback(DoneCallback& callback) {
    callback.next_callback_ = nullptr;
    if (state_ != State::pending) {
        callback.completed_future_ = this;
        callback.on_scheduled(*this);
        loop_->call_soon(callback);
        return;
    }
    if (last_callback_)
        last_callback_->next_callback_ = &callback;
    else
        first_callback_ = &callback;
    last_callback_ = &callback;
}

bool FutureCore::remove_done_callback(DoneCallback& callback) noexcept {
    DoneCallback* previous = nullptr;
    for (DoneCallback* node = first_callback_; node; previous = node, node = node->next_callback_) {
        if (node != &callback) continue;
        (previous ? previous->next_callback_ : first_callback_) = node->next_callback_;
        if (last_callback_ == node) last_callback_ = previous;
        node->next_callback_ = nullptr;
        return true;
    }
    return false;
}

void FutureCore::schedule_callbacks() noexcept {
    // Each callback goes through call_soon, in registration order: never run inline, so
    // completing a future cannot re-enter the code that completed it.
    DoneCallback* node = std::exchange(first_callback_, nullptr);
    last_callback_ = nullptr;
    while (node) {
        DoneCallback* next = std::exchange(node->next_callback_, nullptr);
        node->completed_future_ = this;
        node->on_scheduled(*this);
        try {
            loop_->call_soon(*node);
        } catch (...) {  // the loop is closed: the callback can never run
            node->release_from_loop();
        }
        node = next;
    }
}

std::exception_ptr FutureCore::exception() {
    if (state_ == State::cancelled) throw CancelledError(cancel_message());
    if (state_ != State::finished) throw InvalidStateError("Exception is not set.");
    log_traceback_ = false;
    return exception_;
}

void FutureCore::set_exception(std::exception_ptr error) {
    require_pending("set_exception");
    if (!error) throw std::invalid_argument("set_exception: the exception_ptr is null");
    exception_ = std::move(error);
    state_ = State::finished;
    log_traceback_ = true;
    schedule_callbacks();
}

void FutureCore::throw_unless_value() {
    if (state_ == State::cancelled) throw CancelledError(cancel_message());
    if (state_ != State::finished) throw InvalidStateError("Result is not ready.");
    log_traceback_ = false;
    if (exception_) std::rethrow_exception(exception_);
}

void FutureCore::require_pending(const char* operation) const {
    if (first_callback_) loop_->check_thread();  // debug mode: as in cancel()
    if (state_ != State::pending)
        throw InvalidStateError(std::string(operation) + ": invalid state: " + describe());
}

void FutureCore::finish_with_value() {
    state_ = State::finished;
    schedule_callbacks();
}

const char* FutureCore::state_name() const noexcept {
    switch (state_) {
        case State::pending: return "pending";
        case State::cancelled: return "cancelled";
        case State::finished: return "finished";
    }
    return "?";
}

namespace detail {

namespace {
/// The last CancelledError made by cancelled_error() on this thread. Holding it keeps one
/// small exception object alive until the next one; comparing exception_ptrs compares the
/// objects, so a match is exact, never a guess by type.
struct MadeCancel {
    std::exception_ptr error;
    std::string message;
};
thread_local MadeCancel last_made_cancel;
}  // namespace

std::exception_ptr cancelled_error(const std::string& message) {
    last_made_cancel.message = message;
    // make_exception_ptr builds the object without throwing it.
    last_made_cancel.error = std::make_exception_ptr(CancelledError(message));
    return last_made_cancel.error;
}

const std::string* message_if_made_cancel(const std::exception_ptr& error) noexcept {
    if (error && error == last_made_cancel.error) return &last_made_cancel.message;
    return nullptr;
}

}  // namespace detail

std::string FutureCore::describe() const {
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict (its bug 105329) on
    // `"<" + std::string(...)`, which breaks the -Werror release build.
    std::string text = "<";
    text += kind();
    text += ' ';
    text += state_name();
    if (state_ == State::finished && exception_) {
        text += " exception=";
        text += describe_exception(exception_);
    }
    text += '>';
    return text;
}

}  // namespace aio
