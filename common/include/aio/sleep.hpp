#pragma once
// aio::sleep: suspend the current task for a while (asyncio.sleep).
#include <chrono>
#include <coroutine>
#include <memory>
#include <string>
#include <utility>

#include "future.hpp"
#include "task.hpp"
#include "time.hpp"

namespace aio {

namespace detail {

/// sleep(0): gives up the rest of this step; the task goes to the back of the ready queue.
struct YieldAwaiter {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> awaiting) const {
        AbstractTask* task = current_task();
        if (!task) throw RuntimeError("aio::sleep() must be awaited inside a task");
        task->yield_now(awaiting);
    }
    void await_resume() const { throw_if_cancel_delivered(); }
};

/// What a sleeping task waits on: a one-shot Waitable that the sleep's timer finishes
/// (asyncio's sleep waits on a plain future). It is a trimmed Future<void>, 40 bytes
/// instead of 72, because it lives in every frame suspended in sleep() and is built even by
/// sleep(0), which never uses it: no value, no exception, and one waiter (the awaiting task,
/// the only one that can see it). Completing it schedules the waiter with call_soon, never
/// inline, as a future does.
class SleepWakeUp final : public Waitable {
public:
    explicit SleepWakeUp(EventLoop& loop) noexcept : loop_(&loop) {}
    SleepWakeUp(const SleepWakeUp&) = delete;
    SleepWakeUp& operator=(const SleepWakeUp&) = delete;
    ~SleepWakeUp() {
        // A waiter never scheduled is handed back, as FutureCore does with its callbacks.
        if (waiter_) waiter_->release_from_loop();
    }

    bool done() const noexcept override { return state_ != State::pending; }
    bool cancelled() const noexcept override { return state_ == State::cancelled; }
    bool cancel(std::string message = {}) override {
        if (done()) return false;
        state_ = State::cancelled;
        if (!message.empty()) message_ = std::make_unique<std::string>(std::move(message));
        wake_waiter();
        return true;
    }
    /// The timer fired: finishes unless cancelled first (asyncio's _set_result_unless_cancelled).
    void finish() noexcept {
        if (done()) return;
        state_ = State::finished;
        wake_waiter();
    }
    void add_done_callback(DoneCallback& callback) override {
        if (done()) {
            callback.set_completed_future(*this);
            loop_->call_soon(callback);
        } else {
            waiter_ = &callback;  // one waiter: see the class comment
        }
    }
    bool remove_done_callback(DoneCallback& callback) noexcept override {
        if (waiter_ != &callback) return false;
        waiter_ = nullptr;
        return true;
    }
    EventLoop& get_loop() const noexcept override { return *loop_; }
    std::string describe() const override {
        return cancelled() ? "<Future cancelled>" : done() ? "<Future finished>" : "<Future pending>";
    }
    /// The message given to cancel(), empty if none.
    const std::string& cancel_message() const noexcept {
        static const std::string none;
        return message_ ? *message_ : none;
    }

private:
    enum class State : unsigned char { pending, cancelled, finished };

    void wake_waiter() noexcept {
        DoneCallback* waiter = std::exchange(waiter_, nullptr);
        if (!waiter) return;
        waiter->set_completed_future(*this);
        try {
            loop_->call_soon(*waiter);
        } catch (...) {  // the loop is closed: the waiter can never run
            waiter->release_from_loop();
        }
    }

    EventLoop* loop_;
    DoneCallback* waiter_ = nullptr;
    std::unique_ptr<std::string> message_;  // rare: kept out of line
    State state_ = State::pending;
};

/// sleep(delay > 0). The wake-up and the timer live in the awaiter, so in the coroutine's
/// frame: a sleeping task allocates only its timer handle. The timer is cancelled on every
/// way out (done, cancelled, frame destroyed), so its callback never sees a dead awaiter.
class SleepAwaiter {
public:
    SleepAwaiter(EventLoop& loop, Duration delay) : wake_up_(loop), delay_(delay) {}
    SleepAwaiter(const SleepAwaiter&) = delete;
    ~SleepAwaiter() { timer_.cancel(); }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> awaiting) {
        if (delay_ <= Duration::zero()) {
            YieldAwaiter{}.await_suspend(awaiting);
            return;
        }
        timer_ = wake_up_.get_loop().call_later(delay_, [this] { wake_up_.finish(); });
        wait_in_current_task(wake_up_, awaiting);
    }
    void await_resume() {
        timer_.cancel();
        throw_if_cancel_delivered();
        if (wake_up_.cancelled()) std::rethrow_exception(cancelled_error(wake_up_.cancel_message()));
    }

private:
    SleepWakeUp wake_up_;
    Duration delay_;
    TimerHandle timer_;
};

}  // namespace detail

/// Suspends the current task for `delay` of loop time. sleep(0) yields to the other ready
/// callbacks for one iteration. Cancelling the task raises CancelledError here.
/// Throws RuntimeError when awaited outside a task.
inline detail::SleepAwaiter sleep(Duration delay) { return {get_running_loop(), delay}; }
template <class Rep, class Period>
detail::SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) {
    return sleep(to_duration(delay));
}
/// The same, in float seconds as asyncio writes it: `co_await aio::sleep(0.5)`.
inline detail::SleepAwaiter sleep(double delay_seconds) { return sleep(seconds(delay_seconds)); }

}  // namespace aio
