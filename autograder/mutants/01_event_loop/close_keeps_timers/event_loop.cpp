#include "event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <system_error>

#include <aio/errors.hpp>

namespace lab {

namespace {

// asyncio's rule for cleaning up cancelled timers: rebuild the heap only when it is big and
// mostly cancelled, so that cancelling one timer costs O(1) and a rebuild is amortised.
constexpr std::size_t min_timers_for_rebuild = 100;

// epoll_wait takes at most this many milliseconds; longer waits simply loop again.
constexpr std::int64_t longest_wait_ms = 24 * 3600 * 1000;

[[noreturn]] void throw_system_error(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

// --- construction ------------------------------------------------------------------------

EventLoop::EventLoop() {
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
        throw_system_error("epoll_ctl");
    }
}

EventLoop::~EventLoop() {
    if (!closed_ && !running_) close();
}

void EventLoop::require_open() const {
    if (closed_) throw aio::RuntimeError("Event loop is closed");
}

// --- step 1: the ready queue -------------------------------------------------------------

void EventLoop::call_soon(aio::Runnable& node) {
    require_open();
    ready_.push_back(&node);
}

void EventLoop::run_once() {
    drop_cancelled_timers();
    wait_for_events(next_timeout());
    take_threadsafe_callbacks();
    queue_due_timers();

    // Only the callbacks that were ready when the pass began: what they schedule waits for
    // the next iteration, so a callback that reschedules itself cannot starve the others
    // (nor the timers and wake-ups checked at the start of each iteration).
    for (std::size_t todo = ready_.size(); todo > 0; --todo) {
        aio::Runnable* node = ready_.front();
        ready_.pop_front();
        run_callback(*node);
    }
}

// --- step 2: errors ----------------------------------------------------------------------

void EventLoop::run_callback(aio::Runnable& node) noexcept {
    try {
        node.run();
    } catch (...) {
        // A throwing callback is reported, never allowed to unwind through the loop: the
        // other callbacks of this iteration and every later one still run.
        std::exception_ptr error = std::current_exception();
        std::string source;
        try {
            source = node.describe();
        } catch (...) {
        }
        call_exception_handler({"Exception in callback " + source, error, source});
    }
    node.release_from_loop();  // the contract: after run(), whether it returned or threw
}

// --- step 3: running, stopping, closing ----------------------------------------------------

void EventLoop::run_forever() {
    require_open();
    if (running_) throw aio::RuntimeError("This event loop is already running");
    enter_running();  // throws if another loop runs on this thread
    running_ = true;
    // Reset on every way out, an exception from wait_for_events() included, so the loop
    // can be run (or closed) again afterwards.
    struct Reset {
        EventLoop& loop;
        ~Reset() {
            loop.stopping_ = false;
            loop.running_ = false;
            loop.leave_running();
        }
    } reset{*this};
    do {
        run_once();
    } while (!stopping_);
}

void EventLoop::stop() { stopping_ = true; }

void EventLoop::close() {
    if (running_) throw aio::RuntimeError("Cannot close a running event loop");
    if (closed_) return;
    {
        // Under the lock: call_soon_threadsafe() reads closed_ from other threads.
        std::lock_guard lock(inbox_mutex_);
        closed_ = true;
        inbox_.clear();
    }
    while (!ready_.empty()) {
        aio::Runnable* node = ready_.front();
        ready_.pop_front();
        node->release_from_loop();  // dropped without running, as the contract says
    }
    timers_.clear();  // MUTANT: the heap's references are never released
    cancelled_timers_ = 0;
    destroy_pending_tasks();
    ::close(wakeup_fd_);
    ::close(epoll_fd_);
    wakeup_fd_ = epoll_fd_ = -1;
}

// --- step 4: timers ----------------------------------------------------------------------

void EventLoop::schedule_timer(aio::detail::TimerNode& timer) {
    require_open();
    timers_.push_back({timer.when(), timers_scheduled_++, &timer});
    std::push_heap(timers_.begin(), timers_.end(), RunsLater{});
    timer.add_ref();
    timer.scheduled = true;  // from now on cancel() tells timer_handle_cancelled()
}

void EventLoop::timer_handle_cancelled(aio::detail::TimerNode&) noexcept { ++cancelled_timers_; }

aio::TimePoint EventLoop::time() const {
    return aio::TimePoint(std::chrono::duration_cast<aio::Duration>(
        std::chrono::steady_clock::now().time_since_epoch()));
}

void EventLoop::drop_cancelled_timers() noexcept {
    if (timers_.size() > min_timers_for_rebuild && cancelled_timers_ * 2 > timers_.size()) {
        auto dropped = [](const TimerEntry& entry) {
            if (!entry.node->cancelled()) return false;
            entry.node->scheduled = false;
            entry.node->release();
            return true;
        };
        timers_.erase(std::remove_if(timers_.begin(), timers_.end(), dropped), timers_.end());
        std::make_heap(timers_.begin(), timers_.end(), RunsLater{});
        cancelled_timers_ = 0;
        return;
    }
    // Otherwise only the cancelled timers at the front, which would shorten the wait.
    while (!timers_.empty() && timers_.front().node->cancelled()) {
        std::pop_heap(timers_.begin(), timers_.end(), RunsLater{});
        aio::detail::TimerNode* node = timers_.back().node;
        timers_.pop_back();
        node->scheduled = false;
        node->release();
        --cancelled_timers_;
    }
}

void EventLoop::queue_due_timers() {
    if (timers_.empty()) return;
    const aio::TimePoint now = time();
    while (!timers_.empty() && timers_.front().when <= now) {
        std::pop_heap(timers_.begin(), timers_.end(), RunsLater{});
        aio::detail::TimerNode* node = timers_.back().node;
        timers_.pop_back();
        node->scheduled = false;
        if (node->cancelled()) {
            --cancelled_timers_;
            node->release();
        } else {
            ready_.push_back(node);  // the heap's reference passes to the ready queue
        }
    }
}

// --- step 5: waiting instead of spinning ---------------------------------------------------

aio::Duration EventLoop::next_timeout() const {
    if (!ready_.empty() || stopping_) return aio::Duration::zero();
    if (timers_.empty()) return aio::Duration::max();
    return std::max(timers_.front().when - time(), aio::Duration::zero());
}

void EventLoop::wait_for_events(aio::Duration timeout) {
    int timeout_ms = -1;  // epoll's "no limit"
    if (timeout != aio::Duration::max()) {
        // Round up: waking a little before the timer is due would find nothing to do and
        // wait again with a zero timeout, spinning until the deadline.
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
        timeout_ms = static_cast<int>(std::min<std::int64_t>(ms, longest_wait_ms));
    }
    epoll_event events[8];
    int count = ::epoll_wait(epoll_fd_, events, 8, timeout_ms);
    if (count < 0) {
        if (errno == EINTR) return;  // a signal: just start the next iteration
        throw_system_error("epoll_wait");
    }
    for (int i = 0; i < count; ++i) {
        if (events[i].data.fd == wakeup_fd_) {
            // Reading resets the eventfd's counter, so the next wait blocks again.
            std::uint64_t value;
            [[maybe_unused]] ssize_t got = ::read(wakeup_fd_, &value, sizeof value);
        }
    }
}

// --- step 6: other threads ---------------------------------------------------------------

void EventLoop::call_soon_threadsafe(aio::Callback callback) {
    std::lock_guard lock(inbox_mutex_);
    if (closed_) throw aio::RuntimeError("Event loop is closed");
    inbox_.push_back(std::move(callback));
    // Wake the loop once per batch. Release pairs with the loop's acquire exchange: the
    // loop that sees the flag also sees the inbox (it locks the mutex anyway). Writing
    // under the lock means close() cannot close the eventfd between the check and the write.
    if (!inbox_pending_.exchange(true, std::memory_order_acq_rel)) {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t written = ::write(wakeup_fd_, &one, sizeof one);
    }
}

void EventLoop::take_threadsafe_callbacks() {
    // The flag is cleared before the inbox is read: a callback queued after the read finds
    // the flag clear and writes the eventfd again, so no wake-up is ever lost.
    if (!inbox_pending_.exchange(false, std::memory_order_acq_rel)) return;
    std::vector<aio::Callback> arrived;
    {
        std::lock_guard lock(inbox_mutex_);
        arrived.swap(inbox_);
    }
    for (aio::Callback& callback : arrived) call_soon(std::move(callback));
}

}  // namespace lab
