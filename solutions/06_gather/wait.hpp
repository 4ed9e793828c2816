#pragma once
// lab::wait and lab::as_completed: wait for some of many futures (asyncio.wait,
// asyncio.as_completed), written on aio's futures, timers and queue.
//
// Neither cancels anything. wait() returns when its condition holds or its timeout passes,
// leaving the rest running; as_completed() hands out results in the order the futures
// finish, and its timeout only makes the remaining awaitables raise TimeoutError.
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "aio/queue.hpp"
#include "aio/task.hpp"
#include "aio/time.hpp"
#include "aio/wait.hpp"  // only for the ReturnWhen constants, so lab and aio tests read the same
#include "gather.hpp"

namespace lab {

/// When wait() returns: FIRST_COMPLETED (any future done), FIRST_EXCEPTION (any future
/// finished with an exception, a cancellation does not count, or all done), ALL_COMPLETED.
using aio::ALL_COMPLETED;
using aio::FIRST_COMPLETED;
using aio::FIRST_EXCEPTION;
using aio::ReturnWhen;

/// What wait() returns: the futures done and those still pending, each in the order of
/// wait()'s argument (asyncio returns two sets; a future given twice appears once).
template <class F>
struct WaitResult {
    std::vector<F> done;
    std::vector<F> pending;
};

/// An aio Future<T> or Task<T> handle.
template <class F>
concept FutureHandle = aio::detail::FutureHandle<F>;

namespace detail {

/// Keeps the first occurrence of each future (asyncio works on sets).
template <class F>
void keep_first_of_each(std::vector<F>& futures) {
    std::unordered_set<const aio::Waitable*> seen;
    seen.reserve(futures.size());
    std::erase_if(futures, [&seen](const F& future) { return !seen.insert(&future.waitable()).second; });
}

/// What wait()'s done callbacks and timer share with it (asyncio's _wait() closure:
/// the waiter, the counter and return_when).
struct WaitState {
    WaitState(aio::EventLoop& loop, std::size_t count, ReturnWhen when)
        : waiter(loop), remaining(count), return_when(when) {}

    /// Lets wait() return (once), and cancels the timer.
    void release_waiter() {
        timeout_handle.cancel();
        if (!waiter.done()) waiter.set_result();
    }

    aio::Future<void> waiter;  // done when wait() may return
    std::size_t remaining;     // futures not done yet
    ReturnWhen return_when;
    aio::TimerHandle timeout_handle;
};

/// asyncio's `finally:` in _wait(): on every way out of the wait (return, cancellation, or
/// the frame destroyed with the loop), withdraws the callbacks that have not run and the
/// timer, so nothing calls back into a wait that is over.
template <class F>
struct StopWaiting {
    std::vector<F>& futures;
    std::vector<aio::DoneCallbackToken>& tokens;
    WaitState& state;
    ~StopWaiting() {
        state.timeout_handle.cancel();
        for (std::size_t index = 0; index < tokens.size(); ++index) futures[index].remove_done_callback(tokens[index]);
    }
};

}  // namespace detail

/// Waits until `return_when` holds for `futures` (aio Future<T> or Task<T> handles of one
/// type), or until `timeout` has passed, and returns {done, pending} (asyncio.wait).
///
/// Never raises TimeoutError: on timeout the unfinished futures are in `pending`. Never
/// cancels the futures, not even when the waiting task is cancelled (then only the wait
/// ends, with CancelledError). A future already done is seen one loop iteration later.
/// Throws (when awaited) aio::ValueError if `futures` is empty, aio::RuntimeError outside
/// a running loop.
template <class F>
    requires FutureHandle<F>
aio::Coro<WaitResult<F>> wait(std::vector<F> futures, std::optional<aio::Duration> timeout = std::nullopt,
                              ReturnWhen return_when = ALL_COMPLETED) {
    if (futures.empty()) throw aio::ValueError("Set of Tasks/Futures is empty.");
    aio::EventLoop& loop = aio::get_running_loop();
    lab::detail::keep_first_of_each(futures);

    // Shared with the callbacks: one of them may already be queued in the loop when the
    // wait ends, and must still find the state alive when it runs.
    auto state = std::make_shared<detail::WaitState>(loop, futures.size(), return_when);
    std::vector<aio::DoneCallbackToken> tokens;
    tokens.reserve(futures.size());
    {
        detail::StopWaiting<F> stop_waiting{futures, tokens, *state};
        for (F& future : futures) {
            // asyncio's _on_completion. The callback receives the future that completed.
            tokens.push_back(future.add_done_callback([state](const aio::Future<awaited_value_t<F>>& completed) {
                --state->remaining;
                if (state->remaining == 0 || state->return_when == FIRST_COMPLETED ||
                    (state->return_when == FIRST_EXCEPTION && !completed.cancelled() &&
                     completed.exception() != nullptr)) {
                    state->release_waiter();
                }
            }));
        }
        if (timeout) state->timeout_handle = loop.call_later(*timeout, [state] { state->release_waiter(); });
        aio::Future<void> waiter = state->waiter;
        co_await waiter;  // CancelledError if this task is cancelled; nothing else is raised
    }

    WaitResult<F> result;
    for (F& future : futures) (future.done() ? result.done : result.pending).push_back(std::move(future));
    co_return result;
}

/// wait() without a timeout.
template <class F>
    requires FutureHandle<F>
aio::Coro<WaitResult<F>> wait(std::vector<F> futures, ReturnWhen return_when) {
    return lab::wait(std::move(futures), std::nullopt, return_when);
}

/// wait() with a timeout in seconds, as asyncio writes it.
template <class F>
    requires FutureHandle<F>
aio::Coro<WaitResult<F>> wait(std::vector<F> futures, double timeout_seconds, ReturnWhen return_when = ALL_COMPLETED) {
    return lab::wait(std::move(futures), std::optional<aio::Duration>(aio::seconds(timeout_seconds)), return_when);
}

// --- as_completed ------------------------------------------------------------------------------

namespace detail {

/// as_completed()'s shared state: asyncio's `todo` set, `done` queue and timeout handle.
template <class T>
class AsCompletedState {
public:
    /// What the done queue holds for "the timeout passed" (asyncio's None).
    static constexpr std::size_t timed_out = static_cast<std::size_t>(-1);

    explicit AsCompletedState(std::vector<aio::Future<T>> futures)
        : futures_(std::move(futures)), in_todo_(futures_.size(), true), todo_count_(futures_.size()) {}

    /// Registers a done callback on every future and starts the timer. Called once, right
    /// after construction, with the shared_ptr that owns this state.
    static void start(const std::shared_ptr<AsCompletedState>& self, std::optional<aio::Duration> timeout) {
        self->tokens_.reserve(self->futures_.size());
        for (std::size_t index = 0; index < self->futures_.size(); ++index) {
            self->tokens_.push_back(
                self->futures_[index].add_done_callback([self, index] { self->on_completion(index); }));
        }
        if (timeout && self->todo_count_ > 0) {
            std::weak_ptr<AsCompletedState> weak = self;  // the timer must not keep the state alive
            self->timeout_handle_ = self->futures_.front().get_loop().call_later(*timeout, [weak] {
                if (auto alive = weak.lock()) alive->on_timeout();
            });
        }
    }

    /// The next completed future's result (asyncio's _wait_for_one): waits on the done
    /// queue, then returns the value or rethrows the exception (CancelledError if it was
    /// cancelled); raises aio::TimeoutError for an entry put by the timeout.
    static aio::Coro<T> wait_for_one(std::shared_ptr<AsCompletedState> self) {
        auto next = self->done_.get();
        const std::size_t index = co_await std::move(next);
        if (index == timed_out) throw aio::TimeoutError();
        aio::Future<T>& future = self->futures_[index];
        if constexpr (std::is_void_v<T>) {
            future.result();
        } else if constexpr (std::is_copy_constructible_v<T>) {
            co_return future.result();
        } else {
            co_return std::move(future.result());
        }
    }

    ~AsCompletedState() { timeout_handle_.cancel(); }

private:
    /// Future `index` is done (asyncio's _on_completion).
    void on_completion(std::size_t index) {
        if (todo_count_ == 0) return;  // the timeout came first
        in_todo_[index] = false;
        --todo_count_;
        done_.put_nowait(index);
        if (todo_count_ == 0) timeout_handle_.cancel();
    }

    /// The timeout passed (asyncio's _on_timeout): every future still to do gets a
    /// TimeoutError entry instead of its result. The futures are not cancelled.
    void on_timeout() {
        for (std::size_t index = 0; index < futures_.size(); ++index) {
            if (!in_todo_[index]) continue;
            futures_[index].remove_done_callback(tokens_[index]);
            in_todo_[index] = false;
            done_.put_nowait(timed_out);
        }
        todo_count_ = 0;
    }

    std::vector<aio::Future<T>> futures_;
    std::vector<aio::DoneCallbackToken> tokens_;
    std::vector<bool> in_todo_;
    std::size_t todo_count_;
    aio::Queue<std::size_t> done_;  // indices of completed futures, in completion order
    aio::TimerHandle timeout_handle_;
};

}  // namespace detail

/// The range as_completed() returns: one awaitable (an aio::Coro<T>) per distinct future.
template <class T>
class AsCompleted {
public:
    class iterator {
    public:
        using value_type = aio::Coro<T>;
        using difference_type = std::ptrdiff_t;

        /// An awaitable for the next future to complete.
        aio::Coro<T> operator*() const { return detail::AsCompletedState<T>::wait_for_one(state_); }
        iterator& operator++() noexcept {
            --remaining_;
            return *this;
        }
        void operator++(int) noexcept { --remaining_; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.remaining_ == 0; }

    private:
        friend class AsCompleted;
        iterator(std::shared_ptr<detail::AsCompletedState<T>> state, std::size_t remaining)
            : state_(std::move(state)), remaining_(remaining) {}
        std::shared_ptr<detail::AsCompletedState<T>> state_;
        std::size_t remaining_;
    };

    AsCompleted(std::shared_ptr<detail::AsCompletedState<T>> state, std::size_t count)
        : state_(std::move(state)), count_(count) {}

    iterator begin() const { return iterator(state_, count_); }
    std::default_sentinel_t end() const noexcept { return {}; }
    /// How many awaitables the range yields: the number of distinct futures.
    std::size_t size() const noexcept { return count_; }

private:
    std::shared_ptr<detail::AsCompletedState<T>> state_;
    std::size_t count_;
};

/// Iterates over `awaitables` (Coros, which become aio tasks at once, or aio Future/Task
/// handles) in completion order (asyncio.as_completed):
///
///     for (auto next : lab::as_completed(std::move(tasks), 5.0)) {
///         int value = co_await std::move(next);   // in completion order; may throw
///     }
///
/// With a timeout (counted from this call), every awaitable still unanswered when it
/// passes raises aio::TimeoutError; the futures themselves are not cancelled.
template <Gatherable A>
AsCompleted<awaited_value_t<A>> as_completed(std::vector<A> awaitables,
                                             std::optional<aio::Duration> timeout = std::nullopt) {
    using T = awaited_value_t<A>;
    aio::EventLoop& loop = awaitables.empty() ? aio::get_event_loop() : lab::detail::loop_of(awaitables.front());
    std::vector<aio::Future<T>> futures;
    futures.reserve(awaitables.size());
    for (A& awaitable : awaitables) futures.push_back(lab::detail::child_future(std::move(awaitable), loop));
    lab::detail::keep_first_of_each(futures);
    const std::size_t count = futures.size();
    auto state = std::make_shared<detail::AsCompletedState<T>>(std::move(futures));
    detail::AsCompletedState<T>::start(state, timeout);
    return AsCompleted<T>(std::move(state), count);
}

/// as_completed() with a timeout in seconds.
template <Gatherable A>
AsCompleted<awaited_value_t<A>> as_completed(std::vector<A> awaitables, double timeout_seconds) {
    return lab::as_completed(std::move(awaitables), std::optional<aio::Duration>(aio::seconds(timeout_seconds)));
}

}  // namespace lab
