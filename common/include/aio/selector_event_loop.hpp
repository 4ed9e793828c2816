#pragma once
// aio::SelectorEventLoop: the default event loop, on epoll (asyncio's SelectorEventLoop
// with an EpollSelector). aio::VirtualTimeLoop is the same loop on a virtual clock.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "detail/ring_queue.hpp"
#include "event_loop.hpp"

namespace aio {

namespace detail {
class IoRing;
}

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

    /// Watches `fd` for reading (asyncio's loop.add_reader): while it is readable (or hung
    /// up, or in error) `callback` is queued once per iteration, until remove_reader(fd).
    /// Level-triggered: unread data keeps it firing. A second reader for the same fd
    /// replaces the first (a replaced callback already queued does not run). `fd` must
    /// stay open while registered. Throws RuntimeError if the loop is closed, and
    /// std::system_error if epoll rejects the fd (a regular file, say).
    void add_reader(int fd, Callback callback) override;
    /// Stops watching `fd` for reading; a queued call of its callback does not run.
    /// Returns whether a reader was registered (false on a closed loop).
    bool remove_reader(int fd) override;
    /// As add_reader(), for writability.
    void add_writer(int fd, Callback callback) override;
    /// As remove_reader(), for the writer.
    bool remove_writer(int fd) override;
    /// File descriptors with a reader or a writer registered (for tests and leak checks),
    /// the sockets of streams on the loop's io_uring included (see io_uring_fd_count()).
    std::size_t registered_fd_count() const noexcept;

    /// Streams on this loop run on an io_uring (RECV and SEND as ring operations, all
    /// those of an iteration submitted at once before the loop waits) instead of epoll
    /// readiness, unless liburing was not compiled in, the kernel refuses io_uring, or the
    /// environment has AIO_IO_URING=0. The ring is created by the first stream, or by the
    /// first call of uses_io_uring(), which says whether there is one.
    bool uses_io_uring();
    /// The open sockets whose streams use the ring (0 on the epoll path).
    std::size_t io_uring_fd_count() const noexcept;
    /// For aio's streams: the ring, created on first use; null when streams use epoll.
    detail::IoRing* io_ring();
    /// Whether `fd` has a reader (has_writer: a writer) registered.
    bool has_reader(int fd) const noexcept;
    bool has_writer(int fd) const noexcept;

    /// Unix signals (see EventLoop::add_signal_handler; defined in signals.cpp). The loop
    /// watches a pipe of its own while any handler is registered, so registered_fd_count()
    /// counts it, and a VirtualTimeLoop with a handler waits for the signal instead of
    /// reporting a deadlock.
    void add_signal_handler(int sig, Callback callback) override;
    bool remove_signal_handler(int sig) override;
    /// Whether this loop has a handler for `sig`.
    bool has_signal_handler(int sig) const noexcept;

protected:
    /// Waits for I/O readiness or a wake-up from another thread for at most `timeout`
    /// (Duration::max(): no limit) and queues what became ready.
    virtual void select(Duration timeout);
    /// Whether anything outside the ready queue and the timers could still wake the loop
    /// (registered file descriptors). The virtual-time loop uses it to detect deadlocks, and
    /// select() skips its non-blocking epoll_wait when it is false: it must be true while
    /// any reader or writer is registered.
    /// Operations in flight on the io_uring count as I/O.
    virtual bool waits_for_io() const noexcept;

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

    // I/O registrations: one entry per watched fd, holding the reader and writer nodes
    // (either may be null) and the epoll interest mask they add up to.
    class IoNode;
    struct IoEntry {
        detail::Ref<IoNode> reader;
        detail::Ref<IoNode> writer;
        std::uint32_t events = 0;  // the mask epoll knows for this fd (0: not in epoll)
    };
    void add_io(int fd, Callback callback, bool writer);
    bool remove_io(int fd, bool writer);
    void update_interest(int fd, IoEntry& entry);
    void queue_io(IoNode* node);
    void drop_all_io() noexcept;
    std::unordered_map<int, IoEntry> io_;

    // Signal handlers: created by the first add_signal_handler(), freed by close() (which
    // calls close_signals()). Defined in signals.cpp, with the process-wide signal table.
    class SignalHandlers;
    SignalHandlers* signals_ = nullptr;
    void dispatch_signals();
    void close_signals() noexcept;

    detail::RingQueue<Runnable*> ready_;
    std::vector<TimerEntry> timers_;  // a 4-ary min-heap ordered by RunsLater (see the .cpp)
    std::size_t cancelled_timers_ = 0;
    std::uint64_t timer_sequence_ = 0;

    // The io_uring for streams (one reference), created on first use; its eventfd is in
    // epoll, edge-triggered. ring_tried_: created or refused once, not tried again.
    detail::IoRing* ring_ = nullptr;
    bool ring_tried_ = false;
    void close_ring() noexcept;

    int epoll_fd_ = -1;
    int wakeup_fd_ = -1;  // an eventfd: call_soon_threadsafe writes, select() wakes
    std::mutex inbox_mutex_;
    std::vector<Callback> inbox_;          // guarded by inbox_mutex_
    std::vector<Callback> arrived_;        // loop thread only: swapped with inbox_, so both keep their capacity
    std::atomic<bool> wakeup_pending_{false};

    bool running_ = false;
    bool stopping_ = false;
    bool closed_ = false;  // written under inbox_mutex_, which other threads read it under
};

/// The loop aio::run() creates unless told otherwise.
using DefaultEventLoop = SelectorEventLoop;

}  // namespace aio
