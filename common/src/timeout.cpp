#include "aio/timeout.hpp"

#include <cstdio>

#include "aio/event_loop.hpp"

namespace aio {

namespace {

bool is_cancelled_error(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace

Timeout::~Timeout() { timeout_handle_.cancel(); }

void Timeout::enter() {
    if (state_ != State::created) throw RuntimeError("Timeout has already been entered");
    AbstractTask* task = current_task();
    if (!task) throw RuntimeError("Timeout should be used inside a task");
    task_ = task;
    cancelling_at_entry_ = task->cancelling();
    state_ = State::entered;
    reschedule(when_);
}

void Timeout::reschedule(std::optional<TimePoint> when) {
    if (state_ != State::entered) {
        if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
        throw RuntimeError("Cannot change state of " + describe() + ": it is no longer active");
    }
    when_ = when;
    timeout_handle_.cancel();
    timeout_handle_ = Handle();
    if (!when) return;
    EventLoop& loop = task_->as_future().get_loop();
    // A deadline already past fires in the next iteration, through the ready queue, so
    // that on_timeout never runs inside the body that asked for it.
    if (*when <= loop.time()) {
        timeout_handle_ = loop.call_soon([this] { on_timeout(); });
    } else {
        timeout_handle_ = loop.call_at(*when, [this] { on_timeout(); });
    }
}

void Timeout::on_timeout() {
    // Runs from the loop while the task is suspended in the body (leave() cancels this
    // callback before the scope ends, and the destructor if the scope dies first).
    task_->cancel();
    state_ = State::expiring;
    timeout_handle_ = Handle();  // drop the timer early, as asyncio does
}

void Timeout::leave(std::exception_ptr body_error) {
    timeout_handle_.cancel();
    timeout_handle_ = Handle();
    if (state_ == State::expiring) {
        state_ = State::expired;
        // Withdraw our own request. Back at the entry count means nobody else cancelled
        // the task meanwhile, so a CancelledError here is ours to turn into TimeoutError.
        if (task_->uncancel() <= cancelling_at_entry_ && body_error && is_cancelled_error(body_error))
            throw TimeoutError();
    } else if (state_ == State::entered) {
        state_ = State::exited;
    }
    if (body_error) std::rethrow_exception(body_error);
}

void Timeout::abandon() noexcept {
    timeout_handle_.cancel();
    timeout_handle_ = Handle();
    if (state_ == State::entered || state_ == State::expiring)
        state_ = state_ == State::entered ? State::exited : State::expired;
}

std::string Timeout::describe() const {
    static constexpr const char* names[] = {"created", "active", "expiring", "expired", "finished"};
    std::string text = "<Timeout [" + std::string(names[static_cast<int>(state_)]) + "]";
    if (state_ == State::entered) {
        if (when_) {
            char when[32];
            std::snprintf(when, sizeof when, "%.3f", to_seconds(*when_));
            text += std::string(" when=") + when;
        } else {
            text += " when=None";
        }
    }
    return text + ">";
}

Timeout timeout(std::optional<Duration> delay) {
    EventLoop& loop = get_running_loop();  // asyncio requires a running loop even for None
    if (!delay) return Timeout(std::nullopt);
    return Timeout(saturating_add(loop.time(), *delay));
}

Timeout timeout(double delay_seconds) { return timeout(std::optional<Duration>(seconds(delay_seconds))); }

namespace detail {

TimeoutExitGuard::~TimeoutExitGuard() {
    if (scope_) scope_->abandon();
}

}  // namespace detail

}  // namespace aio
