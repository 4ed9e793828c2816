#pragma once
// lab::EventLoop: an event loop written from scratch that aio's tasks, futures and sleeps
// run on unchanged, because it implements the abstract aio::EventLoop (as uvloop plugs
// into asyncio by implementing asyncio.AbstractEventLoop).
//
// One iteration (asyncio's BaseEventLoop._run_once):
//   1. drop cancelled timers from the front of the timer heap (or rebuild the heap when
//      most of it is cancelled),
//   2. wait for a wake-up with wait_for_events(timeout): zero if callbacks are ready,
//      until the next timer otherwise, without limit if there is nothing at all,
//   3. move the callbacks other threads sent with call_soon_threadsafe() to the ready queue,
//   4. move the timers that are due to the ready queue, in deadline order,
//   5. run the callbacks that were ready when step 5 began; what they schedule runs in
//      the next iteration.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include <aio/event_loop.hpp>

namespace lab {

class EventLoop : public aio::EventLoop {
public:
    /// Creates the epoll instance and the eventfd that call_soon_threadsafe() writes to.
    /// Throws std::system_error if the kernel refuses either.
    EventLoop();
    /// Closes the loop if it is not closed (a running loop cannot be destroyed).
    ~EventLoop() override;

    // --- step 1: the ready queue ------------------------------------------------------------

    /// Queues `node` to run once in the next iteration, after the nodes already queued.
    /// Never runs it inline. Throws aio::RuntimeError if the loop is closed.
    void call_soon(aio::Runnable& node) override;
    using aio::EventLoop::call_soon;  // and the call_soon(Callback) -> Handle built on it

    /// Runs one iteration (see the top of this file). Public so tests can step the loop.
    void run_once();

    /// Callbacks waiting in the ready queue.
    std::size_t ready_count() const noexcept { return ready_.size(); }

    // --- step 3: running, stopping, closing -------------------------------------------------

    /// Runs iterations until stop() is called. Throws aio::RuntimeError if the loop is
    /// closed, already running, or another loop runs on this thread.
    void run_forever() override;
    /// Makes run_forever() return after the current iteration; called while the loop is
    /// not running, the next run_forever() runs one iteration and returns.
    void stop() override;
    /// Drops the ready callbacks and the timers without running them, destroys the aio tasks
    /// still pending, closes the file descriptors. Throws aio::RuntimeError if the loop is
    /// running; closing twice does nothing.
    void close() override;
    bool is_running() const override { return running_; }
    bool is_closed() const override { return closed_; }

    // --- step 4: timers ---------------------------------------------------------------------

    /// Puts `timer` in the timer heap, holding one reference until it is due or dropped.
    /// Throws aio::RuntimeError if the loop is closed.
    void schedule_timer(aio::detail::TimerNode& timer) override;
    /// Counts a cancelled timer still in the heap, for the lazy clean-up.
    void timer_handle_cancelled(aio::detail::TimerNode& timer) noexcept override;
    /// std::chrono::steady_clock, as a loop TimePoint. Tests override it to fake the clock.
    aio::TimePoint time() const override;

    /// Timers in the heap, cancelled ones not yet cleaned up included.
    std::size_t timer_count() const noexcept { return timers_.size(); }
    /// Cancelled timers still in the heap.
    std::size_t cancelled_timer_count() const noexcept { return cancelled_timers_; }

    // --- step 6: other threads ----------------------------------------------------------------

    /// Queues `callback` from any thread and wakes the loop if it is waiting.
    /// Throws aio::RuntimeError if the loop is closed.
    void call_soon_threadsafe(aio::Callback callback) override;

protected:
    // --- step 5: waiting instead of spinning --------------------------------------------------

    /// Blocks until another thread calls call_soon_threadsafe() or `timeout` has passed
    /// (aio::Duration::max(): no limit; zero: just look). Called exactly once per iteration.
    /// Tests override it to record the timeouts and to fake the passing of time.
    virtual void wait_for_events(aio::Duration timeout);

private:
    /// A timer in the heap. The sequence number breaks ties, so timers with equal
    /// deadlines run in the order they were scheduled (a heap alone is not stable).
    struct TimerEntry {
        aio::TimePoint when;
        std::uint64_t sequence;
        aio::detail::TimerNode* node;  // holds one reference while in the heap
    };
    /// The heap's order: std::push_heap keeps the "largest" first, so "larger" means later.
    struct RunsLater {
        bool operator()(const TimerEntry& a, const TimerEntry& b) const noexcept {
            return a.when > b.when;  // MUTANT: no tie-break
        }
    };

    void require_open() const;
    void run_callback(aio::Runnable& node) noexcept;
    void drop_cancelled_timers() noexcept;
    void queue_due_timers();
    aio::Duration next_timeout() const;
    void take_threadsafe_callbacks();

    std::deque<aio::Runnable*> ready_;
    std::vector<TimerEntry> timers_;  // a heap ordered by RunsLater: timers_.front() is next
    std::uint64_t timers_scheduled_ = 0;
    std::size_t cancelled_timers_ = 0;

    bool running_ = false;
    bool stopping_ = false;
    bool closed_ = false;

    int epoll_fd_ = -1;
    int wakeup_fd_ = -1;  // an eventfd: written by call_soon_threadsafe(), read by the loop
    std::mutex inbox_mutex_;
    std::vector<aio::Callback> inbox_;  // guarded by inbox_mutex_
    std::atomic<bool> inbox_pending_{false};
};

}  // namespace lab
