#include "timeout.hpp"

#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "cancellation.hpp"

namespace lab {

Timeout::~Timeout() { timer_.cancel(); }

void Timeout::enter() {
    if (state_ != State::created) throw aio::RuntimeError("Timeout has already been entered");
    aio::AbstractTask* task = aio::current_task();
    if (!task) throw aio::RuntimeError("Timeout should be used inside a task");
    task_ = task;
    cancelling_at_entry_ = task->cancelling();
    state_ = State::entered;
    reschedule(when_);
}

void Timeout::reschedule(std::optional<aio::TimePoint> when) {
    if (state_ == State::created) throw aio::RuntimeError("Timeout has not been entered");
    if (state_ != State::entered) throw aio::RuntimeError("Timeout is no longer active");
    when_ = when;
    timer_.cancel();
    timer_ = aio::Handle();
    if (!when) return;
    aio::EventLoop& loop = task_->as_future().get_loop();
    if (*when <= loop.time()) {
        // Already past: expire in the next iteration through the ready queue, as asyncio
        // does, so before whatever the body schedules after this call (a due timer would
        // only join the ready queue behind it). Never inline: never inside the body.
        timer_ = loop.call_soon([this] { on_timeout(); });
    } else {
        timer_ = loop.call_at(*when, [this] { on_timeout(); });
    }
}

void Timeout::on_timeout() {
    // Runs from the loop while the task is suspended in the body: leave() cancels the timer
    // before the scope ends, and ~Timeout if the body's frame is destroyed first.
    state_ = State::expiring;
    task_->cancel();
}

void Timeout::leave(std::exception_ptr body_error) {
    timer_.cancel();
    timer_ = aio::Handle();
    if (state_ == State::expiring) {
        state_ = State::expired;
        // Withdraw our own request. Back at the entry count means nobody else cancelled the
        // task meanwhile, so a CancelledError here is ours, and it becomes TimeoutError.
        if (task_->uncancel() <= cancelling_at_entry_ && is_cancelled_error(body_error))
            throw aio::TimeoutError();
    } else if (state_ == State::entered) {
        state_ = State::exited;
    }
    if (body_error) std::rethrow_exception(body_error);
}

Timeout timeout(std::optional<aio::Duration> delay) {
    aio::EventLoop& loop = aio::get_running_loop();  // asyncio asks for one even for None
    if (!delay) return Timeout(std::nullopt);
    return Timeout(aio::saturating_add(loop.time(), *delay));
}

Timeout timeout(double delay_seconds) { return lab::timeout(std::optional<aio::Duration>(aio::seconds(delay_seconds))); }

}  // namespace lab
