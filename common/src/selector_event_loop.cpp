#include "aio/selector_event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>

#include "aio/task.hpp"

namespace aio {

namespace {
// asyncio's rule for lazy timer clean-up: rebuild the heap when more than half of it is
// cancelled, and it holds more than a hundred timers.
constexpr std::size_t min_timers_for_rebuild = 100;

[[noreturn]] void throw_system_error(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// The timer heap is 4-ary rather than binary (std::push_heap): half as deep, with a node's
// four children side by side, so taking the next timer out of a million touches about half
// as many cache lines. `later(a, b)` says a runs after b; the root (index 0) runs first.
constexpr std::size_t heap_arity = 4;

template <class Entry, class Later>
void sift_up(std::vector<Entry>& heap, std::size_t index, Later later) {
    Entry entry = heap[index];
    while (index > 0) {
        const std::size_t parent = (index - 1) / heap_arity;
        if (!later(heap[parent], entry)) break;
        heap[index] = heap[parent];
        index = parent;
    }
    heap[index] = entry;
}

template <class Entry, class Later>
void sift_down(std::vector<Entry>& heap, std::size_t index, Later later) {
    const std::size_t size = heap.size();
    Entry entry = heap[index];
    while (true) {
        const std::size_t first_child = heap_arity * index + 1;
        if (first_child >= size) break;
        const std::size_t end = std::min(first_child + heap_arity, size);
        std::size_t earliest = first_child;
        for (std::size_t child = first_child + 1; child < end; ++child)
            if (later(heap[earliest], heap[child])) earliest = child;
        if (!later(entry, heap[earliest])) break;
        heap[index] = heap[earliest];
        index = earliest;
    }
    heap[index] = entry;
}

template <class Entry, class Later>
void push_heap_entry(std::vector<Entry>& heap, Entry entry, Later later) {
    heap.push_back(entry);
    sift_up(heap, heap.size() - 1, later);
}

template <class Entry, class Later>
Entry pop_heap_entry(std::vector<Entry>& heap, Later later) {
    Entry first = heap.front();
    heap.front() = heap.back();
    heap.pop_back();
    if (!heap.empty()) sift_down(heap, 0, later);
    return first;
}

template <class Entry, class Later>
void make_heap_of(std::vector<Entry>& heap, Later later) {
    if (heap.size() < 2) return;
    for (std::size_t index = (heap.size() - 2) / heap_arity + 1; index-- > 0;) sift_down(heap, index, later);
}
}  // namespace

SelectorEventLoop::SelectorEventLoop() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw_system_error("epoll_create1");
    wakeup_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeup_fd_ < 0) {
        ::close(epoll_fd_);
        throw_system_error("eventfd");
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wakeup_fd_;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wakeup_fd_, &event) < 0) {
        ::close(wakeup_fd_);
        ::close(epoll_fd_);
        throw_system_error("epoll_ctl(eventfd)");
    }
}

SelectorEventLoop::~SelectorEventLoop() {
    if (!closed_ && !running_) close();
}

void SelectorEventLoop::require_open() const {
    if (closed_) throw RuntimeError("Event loop is closed");
}

void SelectorEventLoop::call_soon(Runnable& node) {
    require_open();
    ready_.push_back(&node);
}

void SelectorEventLoop::schedule_timer(detail::TimerNode& timer) {
    require_open();
    timer.add_ref();
    timer.scheduled = true;
    timer.sequence = timer_sequence_++;
    push_heap_entry(timers_, TimerEntry{timer.when(), &timer}, RunsLater{});
}

void SelectorEventLoop::timer_handle_cancelled(detail::TimerNode&) noexcept { ++cancelled_timers_; }

void SelectorEventLoop::call_soon_threadsafe(Callback callback) {
    // The lock is held from the closed_ check to the write: close() sets closed_ under it,
    // so it can never close the eventfd (a number the OS may hand to another file) between
    // this check and the write.
    std::lock_guard lock(inbox_mutex_);
    if (closed_) throw RuntimeError("Event loop is closed");
    inbox_.push_back(std::move(callback));
    // One write per wake-up is enough; the loop clears the flag before it reads the inbox,
    // so a callback queued after that read always writes again.
    if (!wakeup_pending_.exchange(true, std::memory_order_acq_rel)) {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t written = ::write(wakeup_fd_, &one, sizeof one);
    }
}

TimePoint SelectorEventLoop::time() const {
    return TimePoint(std::chrono::duration_cast<Duration>(
        std::chrono::steady_clock::now().time_since_epoch()));
}

void SelectorEventLoop::run_forever() {
    require_open();
    if (running_) throw RuntimeError("This event loop is already running");
    enter_running();
    running_ = true;
    struct Reset {
        SelectorEventLoop& loop;
        ~Reset() {
            loop.stopping_ = false;
            loop.running_ = false;
            loop.leave_running();
        }
    } reset{*this};
    while (true) {
        run_once();
        if (stopping_) break;
    }
}

void SelectorEventLoop::stop() { stopping_ = true; }

void SelectorEventLoop::close() {
    if (running_) throw RuntimeError("Cannot close a running event loop");
    if (closed_) return;
    {
        std::lock_guard lock(inbox_mutex_);  // call_soon_threadsafe reads closed_ on other threads
        closed_ = true;
    }
    while (!ready_.empty()) ready_.pop_front()->release_from_loop();
    for (TimerEntry& entry : timers_) {
        entry.node->scheduled = false;
        entry.node->release();
    }
    timers_.clear();
    cancelled_timers_ = 0;
    {
        std::lock_guard lock(inbox_mutex_);
        inbox_.clear();
    }
    destroy_pending_tasks();
    ::close(wakeup_fd_);
    ::close(epoll_fd_);
}

void SelectorEventLoop::drop_cancelled_timers() {
    if (timers_.size() > min_timers_for_rebuild && cancelled_timers_ * 2 > timers_.size()) {
        auto cancelled = [](const TimerEntry& entry) {
            if (!entry.node->cancelled()) return false;
            entry.node->scheduled = false;
            entry.node->release();
            return true;
        };
        timers_.erase(std::remove_if(timers_.begin(), timers_.end(), cancelled), timers_.end());
        make_heap_of(timers_, RunsLater{});
        cancelled_timers_ = 0;
        return;
    }
    while (!timers_.empty() && timers_.front().node->cancelled()) {
        detail::TimerNode* node = pop_heap_entry(timers_, RunsLater{}).node;
        node->scheduled = false;
        node->release();
        --cancelled_timers_;
    }
}

void SelectorEventLoop::queue_due_timers() {
    if (timers_.empty()) return;
    const TimePoint now = time();
    while (!timers_.empty() && timers_.front().when <= now) {
        detail::TimerNode* node = pop_heap_entry(timers_, RunsLater{}).node;
        node->scheduled = false;
        if (node->cancelled()) {
            --cancelled_timers_;
            node->release();
        } else {
            ready_.push_back(node);  // the heap's reference passes to the ready queue
        }
    }
}

void SelectorEventLoop::run_once() {
    drop_cancelled_timers();

    Duration timeout = Duration::max();
    if (!ready_.empty() || stopping_) {
        timeout = Duration::zero();
    } else if (!timers_.empty()) {
        timeout = std::max(timers_.front().when - time(), Duration::zero());
    }
    select(timeout);
    queue_due_timers();

    // Only what was ready when the pass began: callbacks scheduled by these callbacks wait
    // for the next iteration, so a callback that reschedules itself cannot starve the rest.
    for (std::size_t todo = ready_.size(); todo > 0; --todo) run_node(*ready_.pop_front());
}

void SelectorEventLoop::select(Duration timeout) {
    if (timeout == Duration::zero() && !waits_for_io()) {
        // A poll that no file descriptor can answer: only the eventfd is registered, and
        // wakeup_pending_ tells as well whether another thread queued a callback. Skipping
        // the epoll_wait system call keeps a busy iteration (a wake-up, a yield) in tens of
        // nanoseconds instead of hundreds. The eventfd is drained at the next real wait.
        take_threadsafe_callbacks();
        return;
    }
    int timeout_ms = -1;
    if (timeout != Duration::max()) {
        // Round up: waking before the timer is due would only spin.
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
        timeout_ms = static_cast<int>(std::min<std::int64_t>(ms, 24 * 3600 * 1000));
    }
    epoll_event events[64];
    int count = ::epoll_wait(epoll_fd_, events, 64, timeout_ms);
    if (count < 0 && errno != EINTR) throw_system_error("epoll_wait");
    for (int i = 0; i < count; ++i) {
        if (events[i].data.fd == wakeup_fd_) drain_wakeup();
    }
    take_threadsafe_callbacks();
}

void SelectorEventLoop::drain_wakeup() noexcept {
    std::uint64_t value;
    [[maybe_unused]] ssize_t got = ::read(wakeup_fd_, &value, sizeof value);
}

void SelectorEventLoop::take_threadsafe_callbacks() {
    if (!wakeup_pending_.load(std::memory_order_acquire)) return;
    wakeup_pending_.store(false, std::memory_order_release);
    std::vector<Callback> arrived;
    {
        std::lock_guard lock(inbox_mutex_);
        arrived.swap(inbox_);
    }
    for (Callback& callback : arrived) call_soon(std::move(callback));
}

}  // namespace aio
