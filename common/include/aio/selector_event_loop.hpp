#pragma once
// aio::SelectorEventLoop: the default event loop, on epoll (asyncio's SelectorEventLoop
// with an EpollSelector). aio::VirtualTimeLoop is the same loop on a virtual clock.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "detail/ring_queue.hpp"
#include "event_loop.hpp"

namespace aio {

class SelectorEventLoop : public EventLoop {
public:
    SelectorEventLoop();
    /// Closes the loop if it was not closed.
    ~SelectorEventLoop() override;

    void call_soon(Runnable& node) override;
    using EventLoop::call_soon;
    void schedule_timer(detail::TimerNode& timer) override;
    void timer_handle_cancelled(detail::TimerNode& timer) noexcept override;
    void call_soon_threadsafe(Callback callback) override;
    TimePoint time() const override;
    void run_forever() override;
    void stop() override;
    void close() override;
    bool is_running() const override { return running_; }
    bool is_closed() const override { return closed_; }

    /// One iteration (asyncio's _run_once): wait for I/O until the next timer is due (or
    /// not at all if callbacks are ready), queue the due timers, then run the callbacks that
    /// were ready when the iteration began. Public for loops and tests that step by hand.
    void run_once();

    /// Callbacks waiting in the ready queue.
    std::size_t ready_count() const noexcept { return ready_.size(); }
    /// Timers in the heap, cancelled ones not yet cleaned up included.
    std::size_t timer_count() const noexcept { return timers_.size(); }
    /// Cancelled timers still in the heap.
    std::size_t cancelled_timer_count() const noexcept { return cancelled_timers_; }

protected:
    /// Waits for I/O readiness or a wake-up from another thread for at most `timeout`
    /// (Duration::max(): no limit) and queues what became ready.
    virtual void select(Duration timeout);
    /// Whether anything outside the ready queue and the timers could still wake the loop
    /// (registered file descriptors). The virtual-time loop uses it to detect deadlocks, and
    /// select() skips its non-blocking epoll_wait when it is false: it must be true while
    /// any reader or writer is registered.
    virtual bool waits_for_io() const noexcept { return false; }

private:
    struct TimerEntry {
        TimePoint when;           // a copy of node->when(): comparing it touches no node
        detail::TimerNode* node;  // holds one reference while in the heap
    };
    struct RunsLater {
        bool operator()(const TimerEntry& a, const TimerEntry& b) const noexcept {
            // Ties (rare on a real clock) look at the nodes: equal deadlines run in
            // scheduling order.
            return a.when != b.when ? a.when > b.when : a.node->sequence > b.node->sequence;
        }
    };

    void require_open() const;
    void drop_cancelled_timers();
    void queue_due_timers();
    void take_threadsafe_callbacks();
    void drain_wakeup() noexcept;

    detail::RingQueue<Runnable*> ready_;
    std::vector<TimerEntry> timers_;  // a 4-ary min-heap ordered by RunsLater (see the .cpp)
    std::size_t cancelled_timers_ = 0;
    std::uint64_t timer_sequence_ = 0;

    int epoll_fd_ = -1;
    int wakeup_fd_ = -1;  // an eventfd: call_soon_threadsafe writes, select() wakes
    std::mutex inbox_mutex_;
    std::vector<Callback> inbox_;          // guarded by inbox_mutex_
    std::atomic<bool> wakeup_pending_{false};

    bool running_ = false;
    bool stopping_ = false;
    bool closed_ = false;  // written under inbox_mutex_, which other threads read it under
};

/// The loop aio::run() creates unless told otherwise.
using DefaultEventLoop = SelectorEventLoop;

}  // namespace aio
