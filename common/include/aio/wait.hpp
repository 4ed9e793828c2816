#pragma once
// aio::wait and aio::as_completed: wait for some of many futures (asyncio.wait,
// asyncio.as_completed).
//
// Neither cancels anything: wait() returns when its condition holds or its timeout passes,
// leaving the rest running; as_completed() hands out results in the order the futures
// finish, and its timeout only makes the remaining awaitables raise TimeoutError.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "coro.hpp"
#include "detail/ring_queue.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "future.hpp"
#include "gather.hpp"
#include "task.hpp"
#include "time.hpp"

namespace aio {

/// When wait() returns (asyncio's FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED).
enum ReturnWhen : std::uint8_t {
    /// As soon as any future is done (finished or cancelled).
    FIRST_COMPLETED,
    /// As soon as any future finishes with an exception (a cancelled future does not count),
    /// or when all are done.
    FIRST_EXCEPTION,
    /// When every future is done.
    ALL_COMPLETED,
};

/// What wait() returns: the futures done and those still pending, each vector in the order
/// of wait()'s argument (asyncio returns two sets; a future given twice appears once).
template <class F>
struct WaitResult {
    std::vector<F> done;
    std::vector<F> pending;
};

/// Waits until `return_when` holds for `futures` (Future<T> or Task<T> handles, all of one
/// type), or until `timeout` has passed, and returns {done, pending} (asyncio.wait).
///
/// Never raises TimeoutError: on timeout the unfinished futures are simply in `pending`.
/// Never cancels the futures, not even when the waiting task is cancelled (then only the
/// wait ends, with CancelledError). A future already done still takes one loop iteration
/// to be seen, as in asyncio.
/// Throws (when awaited) aio::ValueError if `futures` is empty or a future belongs to
/// another loop, RuntimeError outside a running loop. Coros are not accepted (asyncio 3.12
/// forbids them here): wrap them with create_task first.
template <class F>
    requires detail::FutureHandle<F>
Coro<WaitResult<F>> wait(std::vector<F> futures, std::optional<Duration> timeout = std::nullopt,
                         ReturnWhen return_when = ALL_COMPLETED);
/// wait() without a timeout.
template <class F>
    requires detail::FutureHandle<F>
Coro<WaitResult<F>> wait(std::vector<F> futures, ReturnWhen return_when) {
    return wait(std::move(futures), std::nullopt, return_when);
}
/// wait() with a timeout in float seconds, as asyncio writes it.
template <class F>
    requires detail::FutureHandle<F>
Coro<WaitResult<F>> wait(std::vector<F> futures, double timeout_seconds, ReturnWhen return_when = ALL_COMPLETED) {
    return wait(std::move(futures), std::optional<Duration>(seconds(timeout_seconds)), return_when);
}

template <class T>
class AsCompleted;

/// Iterates over `awaitables` (Coros, which become tasks at once, or Future/Task handles)
/// in completion order (asyncio.as_completed). The range yields one Coro<T> per distinct
/// awaitable; awaiting the k-th gives the result of the k-th future to finish, or rethrows
/// its exception (CancelledError if it was cancelled):
///
///     for (auto next : aio::as_completed(std::move(tasks), 5.0)) {
///         int value = co_await next;   // in completion order; may throw
///     }
///
/// With a timeout (counted from this call), every awaitable still unanswered when it passes
/// raises aio::TimeoutError; the futures themselves are not cancelled.
/// Throws aio::ValueError if a future belongs to another loop.
template <Gatherable A>
AsCompleted<awaited_value_t<A>> as_completed(std::vector<A> awaitables,
                                             std::optional<Duration> timeout = std::nullopt);
template <Gatherable A>
AsCompleted<awaited_value_t<A>> as_completed(std::vector<A> awaitables, double timeout_seconds) {
    return as_completed(std::move(awaitables), std::optional<Duration>(seconds(timeout_seconds)));
}

// ---------------------------------------------------------------------------------------------

namespace detail {

/// wait()'s shared state: asyncio's _wait() waiter, counter and _on_completion.
class WaitCore final : public RefCounted, public FanIn {
public:
    WaitCore(EventLoop& loop, std::size_t count, ReturnWhen return_when);
    ~WaitCore() override;  // cancels the timer, so it never fires on a dead state

    using FanIn::unwatch;
    using FanIn::watch;
    /// Releases the waiter after `timeout`.
    void start_timer(Duration timeout);
    /// Done when wait() may return.
    const Future<void>& waiter() const noexcept { return waiter_; }

private:
    void on_child_done(std::size_t index, Waitable& child) override;
    void release_waiter();

    Future<void> waiter_;
    std::unique_ptr<ChildCallback[]> nodes_;
    std::size_t remaining_;
    ReturnWhen return_when_;
    TimerHandle timeout_handle_;
};

/// Throws aio::ValueError for an empty set or an unknown return_when.
void check_wait_arguments(std::size_t count, ReturnWhen return_when);

/// Keeps the first occurrence of each future (asyncio works on sets).
template <class F>
void remove_duplicate_futures(std::vector<F>& futures) {
    std::vector<const void*> seen;
    seen.reserve(futures.size());
    for (const F& future : futures) seen.push_back(&future.waitable());
    std::sort(seen.begin(), seen.end());
    if (std::adjacent_find(seen.begin(), seen.end()) == seen.end()) return;  // the usual case
    std::unordered_set<const void*> kept;
    std::erase_if(futures, [&](const F& future) { return !kept.insert(&future.waitable()).second; });
}

/// asyncio's `finally:` in _wait(): on every way out of the wait (result, cancellation,
/// the frame destroyed with the loop), withdraws the callbacks not yet scheduled.
template <class F>
struct StopWatching {
    WaitCore& state;
    std::vector<F>& futures;
    ~StopWatching() {
        for (std::size_t index = 0; index < futures.size(); ++index) state.unwatch(index, futures[index].waitable());
    }
};

// --- as_completed ------------------------------------------------------------------------------

/// as_completed()'s shared state: asyncio's todo set, done queue (with its getters) and timer.
class AsCompletedCore : public RefCounted, public FanIn {
public:
    /// The index the done queue holds for "the timeout passed" (asyncio's None).
    static constexpr std::size_t timed_out = static_cast<std::size_t>(-1);

    AsCompletedCore(EventLoop& loop, std::size_t count);
    ~AsCompletedCore() override;  // cancels the timer

    EventLoop& loop() const noexcept { return *loop_; }
    /// Watches every child and starts the timer. Called once, after construction.
    void start(std::optional<Duration> timeout);
    bool has_completed() const noexcept { return !completed_.empty(); }
    /// The index of the next completed child, or timed_out. Requires has_completed().
    std::size_t pop_completed() noexcept { return completed_.pop_front(); }
    /// A future that is set when something is queued (asyncio's Queue.get waiter).
    Future<void> add_getter();
    /// The awaiting coroutine left while waiting on `getter` (cancelled): hand a wake-up it
    /// may have consumed to the next getter (asyncio's Queue.get clean-up).
    void abandon_getter(Future<void> getter);

protected:
    virtual Waitable& child(std::size_t index) noexcept = 0;

private:
    void on_child_done(std::size_t index, Waitable& child) override;
    void on_timeout();
    void put(std::size_t index);
    void wake_next_getter();

    EventLoop* loop_;
    std::size_t count_;
    std::unique_ptr<ChildCallback[]> nodes_;
    std::vector<bool> in_todo_;
    std::size_t todo_count_;
    RingQueue<std::size_t> completed_;
    std::deque<Future<void>> getters_;
    TimerHandle timeout_handle_;
};

template <class T>
class AsCompletedState final : public AsCompletedCore {
public:
    AsCompletedState(EventLoop& loop, std::vector<Future<T>> futures)
        : AsCompletedCore(loop, futures.size()), futures_(std::move(futures)) {}
    Future<T>& future(std::size_t index) noexcept { return futures_[index]; }

private:
    Waitable& child(std::size_t index) noexcept override { return futures_[index].waitable(); }
    std::vector<Future<T>> futures_;
};

/// One awaitable of as_completed (asyncio's _wait_for_one). A named coroutine with its
/// parameter by value: the Ref keeps the state alive while the frame exists.
template <class T>
Coro<T> wait_for_one(Ref<AsCompletedState<T>> state) {
    while (!state->has_completed()) {
        Future<void> getter = state->add_getter();
        std::exception_ptr error;
        try {
            co_await getter;
        } catch (...) {
            error = std::current_exception();  // no co_await in a handler: clean up below
        }
        if (error) {
            state->abandon_getter(getter);
            std::rethrow_exception(error);
        }
    }
    const std::size_t index = state->pop_completed();
    if (index == AsCompletedCore::timed_out) throw TimeoutError();
    if constexpr (std::is_void_v<T>) {
        state->future(index).result();
    } else {
        co_return take_child_value(state->future(index));
    }
}

}  // namespace detail

/// The range as_completed() returns. Iterating it hands out one Coro<T> per distinct
/// awaitable; the range, the Coros and the pending callbacks share one state.
template <class T>
class AsCompleted {
public:
    class iterator {
    public:
        using value_type = Coro<T>;
        using difference_type = std::ptrdiff_t;

        /// An awaitable for the next future to complete (asyncio's _wait_for_one()).
        Coro<T> operator*() const { return detail::wait_for_one(state_); }
        iterator& operator++() noexcept {
            --remaining_;
            return *this;
        }
        void operator++(int) noexcept { --remaining_; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.remaining_ == 0; }

    private:
        friend class AsCompleted;
        iterator(detail::Ref<detail::AsCompletedState<T>> state, std::size_t remaining)
            : state_(std::move(state)), remaining_(remaining) {}
        detail::Ref<detail::AsCompletedState<T>> state_;
        std::size_t remaining_;
    };

    explicit AsCompleted(detail::Ref<detail::AsCompletedState<T>> state, std::size_t count)
        : state_(std::move(state)), count_(count) {}

    iterator begin() const { return iterator(state_, count_); }
    std::default_sentinel_t end() const noexcept { return {}; }
    /// How many awaitables the range yields: the number of distinct awaitables given.
    std::size_t size() const noexcept { return count_; }

private:
    detail::Ref<detail::AsCompletedState<T>> state_;
    std::size_t count_;
};

template <class F>
    requires detail::FutureHandle<F>
Coro<WaitResult<F>> wait(std::vector<F> futures, std::optional<Duration> timeout, ReturnWhen return_when) {
    detail::check_wait_arguments(futures.size(), return_when);
    EventLoop& loop = get_running_loop();
    for (const F& future : futures) detail::require_same_loop(future.waitable(), loop);
    detail::remove_duplicate_futures(futures);

    detail::Ref<detail::WaitCore> state(new detail::WaitCore(loop, futures.size(), return_when));
    for (std::size_t index = 0; index < futures.size(); ++index) state->watch(index, futures[index].waitable());
    if (timeout) state->start_timer(*timeout);
    {
        detail::StopWatching<F> stop_watching{*state, futures};
        Future<void> waiter = state->waiter();
        co_await waiter;  // raises CancelledError if this task is cancelled; nothing else is
    }

    WaitResult<F> result;
    for (F& future : futures) (future.done() ? result.done : result.pending).push_back(std::move(future));
    co_return std::move(result);
}

template <Gatherable A>
AsCompleted<awaited_value_t<A>> as_completed(std::vector<A> awaitables, std::optional<Duration> timeout) {
    using T = awaited_value_t<A>;
    EventLoop& loop = awaitables.empty() ? get_event_loop() : detail::gather_loop(awaitables.front());
    std::vector<Future<T>> futures;
    futures.reserve(awaitables.size());
    for (A& awaitable : awaitables) futures.push_back(detail::child_future(std::move(awaitable), loop));
    detail::remove_duplicate_futures(futures);
    const std::size_t count = futures.size();
    detail::Ref<detail::AsCompletedState<T>> state(new detail::AsCompletedState<T>(loop, std::move(futures)));
    state->start(timeout);
    return AsCompleted<T>(std::move(state), count);
}

}  // namespace aio
