#pragma once
// aio::sleep: suspend the current task for a while (asyncio.sleep).
#include <chrono>
#include <coroutine>

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

/// sleep(delay > 0). The future and the timer live in the awaiter, so in the coroutine's
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
        timer_ = wake_up_.get_loop().call_later(delay_, [this] {
            if (!wake_up_.done()) wake_up_.finish_with_value();
        });
        wait_in_current_task(wake_up_, awaiting);
    }
    void await_resume() {
        timer_.cancel();
        throw_if_cancel_delivered();
        if (wake_up_.done()) wake_up_.throw_unless_value();  // cancelled: CancelledError
    }

private:
    FutureState<void> wake_up_;
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
