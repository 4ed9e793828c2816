#include "aio/selector_event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <utility>

#include "aio/task.hpp"
#include "aio/trace.hpp"
#include "io_ring.hpp"

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
    // A derived loop's clock is gone by now (time() would read the real one): the tracer
    // stops here, so the tasks close() destroys leave no events at a wrong time.
    if (tracer()) set_tracer(nullptr);
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
    if (Tracer* tracer = this->tracer()) [[unlikely]]
        tracer->timer_scheduled(*this, timer);
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
    close_signals();  // restores the signals' dispositions before tasks are destroyed
    drop_all_io();
    destroy_pending_tasks();  // their streams close, cancelling their ring operations
    close_ring();
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
    if (ring_) {
        // Batching: every ring operation the callbacks of this iteration prepared goes to
        // the kernel in this one io_uring_enter. Completions already queued (a SEND the
        // kernel finished during the submission) must not wait for epoll.
        ring_->submit();
        if (ring_->has_work_now()) timeout = Duration::zero();
    }
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
        const int fd = events[i].data.fd;
        if (fd == wakeup_fd_) {
            drain_wakeup();
            continue;
        }
        // The ring's eventfd is edge-triggered: each batch of completions the kernel posts
        // reports it once, so it is never read; the completion queue is reaped below.
        if (ring_ && fd == ring_->event_fd()) continue;
        auto found = io_.find(fd);
        if (found == io_.end()) continue;
        // A hang-up or an error wakes both sides, as in asyncio: the reader then sees EOF
        // or the error from recv(), the writer from send().
        const std::uint32_t ready = events[i].events;
        const std::uint32_t failed = EPOLLHUP | EPOLLERR;
        if (found->second.reader && (ready & (EPOLLIN | failed)))
            queue_io(found->second.reader.get());
        if (found->second.writer && (ready & (EPOLLOUT | failed)))
            queue_io(found->second.writer.get());
    }
    // Completions run here, like timers queued: the tasks they wake run in this iteration.
    if (ring_) ring_->dispatch();
    take_threadsafe_callbacks();
}

// --- the io_uring for streams ----------------------------------------------------------

detail::IoRing* SelectorEventLoop::io_ring() {
    if (ring_ || ring_tried_ || closed_) return ring_;
    ring_tried_ = true;
    detail::Ref<detail::IoRing> ring = detail::IoRing::create();
    if (!ring) return nullptr;  // streams use epoll
    epoll_event event{};
    event.events = EPOLLIN | EPOLLET;
    event.data.fd = ring->event_fd();
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ring->event_fd(), &event) < 0) {
        ring->shutdown();
        return nullptr;
    }
    ring_ = ring.get();
    ring_->add_ref();
    return ring_;
}

bool SelectorEventLoop::uses_io_uring() { return io_ring() != nullptr; }

std::size_t SelectorEventLoop::io_uring_fd_count() const noexcept { return ring_ ? ring_->socket_count() : 0; }

std::size_t SelectorEventLoop::registered_fd_count() const noexcept { return io_.size() + io_uring_fd_count(); }

bool SelectorEventLoop::waits_for_io() const noexcept { return !io_.empty() || (ring_ && ring_->in_flight() > 0); }

void SelectorEventLoop::close_ring() noexcept {
    if (!ring_) return;
    // Waits for every operation to complete: their connections then close their sockets
    // and let go of themselves (an operation in flight holds its connection).
    ring_->shutdown();
    ring_->release();  // streams still open hold the closed ring until they go
    ring_ = nullptr;
}

void SelectorEventLoop::drain_wakeup() noexcept {
    std::uint64_t value;
    [[maybe_unused]] ssize_t got = ::read(wakeup_fd_, &value, sizeof value);
}

void SelectorEventLoop::take_threadsafe_callbacks() {
    if (!wakeup_pending_.load(std::memory_order_acquire)) return;
    wakeup_pending_.store(false, std::memory_order_release);
    {
        std::lock_guard lock(inbox_mutex_);
        arrived_.swap(inbox_);
    }
    // Emptied whatever happens, keeping its capacity: a steady stream of wake-ups (executor
    // round trips) then allocates no vector.
    struct Clear {
        std::vector<Callback>& arrived;
        ~Clear() { arrived.clear(); }
    } clear{arrived_};
    for (Callback& callback : arrived_) call_soon(std::move(callback));
}

// --- I/O readiness ---------------------------------------------------------------------

// A reader or writer callback. Unlike a Handle's node it runs many times (once per
// iteration the fd is ready), so run() does not consume the callback. cancel() only sets a
// flag: the callback may be the one running (a reader removing itself), so it is destroyed
// with the node, when the map and the ready queue both let go of it.
class SelectorEventLoop::IoNode final : public Runnable, public detail::RefCounted {
public:
    explicit IoNode(Callback callback) : callback_(std::move(callback)) {}

    void run() override {
        if (!cancelled_) callback_();
    }
    void release_from_loop() noexcept override { RefCounted::release(); }
    std::string describe() const override { return "<Handle (I/O)>"; }

    void cancel() noexcept { cancelled_ = true; }

private:
    Callback callback_;
    bool cancelled_ = false;
};

void SelectorEventLoop::queue_io(IoNode* node) {
    node->add_ref();  // the ready queue's reference, dropped by release_from_loop()
    ready_.push_back(node);
}

void SelectorEventLoop::update_interest(int fd, IoEntry& entry) {
    std::uint32_t wanted = 0;
    if (entry.reader) wanted |= EPOLLIN;
    if (entry.writer) wanted |= EPOLLOUT;
    if (wanted == entry.events) return;
    epoll_event event{};
    event.events = wanted;
    event.data.fd = fd;
    if (wanted == 0) {
        // The fd may already be closed (epoll then forgot it by itself): EBADF and ENOENT
        // are not errors here, the caller only wants it gone.
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, &event) < 0 && errno != EBADF && errno != ENOENT)
            throw_system_error("epoll_ctl(DEL)");
    } else if (entry.events == 0) {
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) < 0) {
            // A closed fd whose number was reused can still be in epoll's set: re-arm it.
            if (errno != EEXIST || ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) < 0)
                throw_system_error("epoll_ctl(ADD)");
        }
    } else if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) < 0) {
        throw_system_error("epoll_ctl(MOD)");
    }
    entry.events = wanted;
}

void SelectorEventLoop::add_io(int fd, Callback callback, bool writer) {
    check_thread();  // debug mode: add_reader & co. from another thread throw
    require_open();
    if (fd < 0) throw ValueError("invalid file descriptor: " + std::to_string(fd));
    if (fd == wakeup_fd_ || fd == epoll_fd_ || (ring_ && fd == ring_->event_fd())) throw ValueError("file descriptor is the loop's own");
    const bool is_new = io_.find(fd) == io_.end();
    IoEntry& entry = io_[fd];
    detail::Ref<IoNode>& slot = writer ? entry.writer : entry.reader;
    detail::Ref<IoNode> previous = std::move(slot);
    slot = detail::make_ref<IoNode>(std::move(callback));
    try {
        update_interest(fd, entry);
    } catch (...) {
        // Leave things as they were: the old callback back in place, no empty entry.
        slot = std::move(previous);
        if (is_new) io_.erase(fd);
        throw;
    }
    if (previous) {
        previous->cancel();
    } else if (Tracer* tracer = this->tracer()) [[unlikely]] {
        tracer->io_wait_started(*this, fd, writer);
    }
}

bool SelectorEventLoop::remove_io(int fd, bool writer) {
    check_thread();
    auto found = io_.find(fd);
    if (found == io_.end()) return false;
    IoEntry& entry = found->second;
    detail::Ref<IoNode>& slot = writer ? entry.writer : entry.reader;
    if (!slot) return false;
    slot->cancel();
    slot.reset();
    if (Tracer* tracer = this->tracer()) [[unlikely]]
        tracer->io_wait_ended(*this, fd, writer);
    try {
        update_interest(fd, entry);
    } catch (...) {
        // The callback is gone whatever epoll said; an fd left in epoll's set only causes
        // events that find no callback.
        if (!entry.reader && !entry.writer) io_.erase(found);
        throw;
    }
    if (!entry.reader && !entry.writer) io_.erase(found);
    return true;
}

void SelectorEventLoop::drop_all_io() noexcept {
    // The epoll fd is about to be closed, which forgets every registration at once.
    for (auto& [fd, entry] : io_) {
        if (entry.reader) entry.reader->cancel();
        if (entry.writer) entry.writer->cancel();
    }
    std::unordered_map<int, IoEntry> dropped;
    dropped.swap(io_);  // callbacks destroyed here may call remove_reader(): io_ is empty
}

void SelectorEventLoop::add_reader(int fd, Callback callback) { add_io(fd, std::move(callback), false); }
bool SelectorEventLoop::remove_reader(int fd) { return remove_io(fd, false); }
void SelectorEventLoop::add_writer(int fd, Callback callback) { add_io(fd, std::move(callback), true); }
bool SelectorEventLoop::remove_writer(int fd) { return remove_io(fd, true); }

bool SelectorEventLoop::has_reader(int fd) const noexcept {
    auto found = io_.find(fd);
    return found != io_.end() && found->second.reader;
}
bool SelectorEventLoop::has_writer(int fd) const noexcept {
    auto found = io_.find(fd);
    return found != io_.end() && static_cast<bool>(found->second.writer);
}

}  // namespace aio
