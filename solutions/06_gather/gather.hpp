#pragma once
// lab::gather: run awaitables concurrently and collect their results (asyncio.gather),
// written on top of aio's tasks and futures.
//
// gather() turns each Coro into an aio task, registers one done callback per child, and
// returns a GatheringFuture: an aio::Future that finishes when every child has finished
// (results in argument order) or as soon as one of them fails. asyncio's rules:
//  - the first child exception (a cancelled child counts, as CancelledError) is set on the
//    gathering future at once; the other children are not cancelled and keep running;
//  - with return_exceptions, every outcome is collected, failures included;
//  - cancelling the gathering future (or the task awaiting it) cancels the children not
//    done yet; once they are all done it fails with CancelledError, whatever
//    return_exceptions says.
#include <array>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "aio/gather.hpp"  // only for the value types below: Outcome, VoidResult, the traits
#include "aio/task.hpp"

namespace lab {

// The value types are aio's, so that lab tests and aio tests read the same; the behaviour
// (everything in GatherCore) is this lab's own.
using aio::Outcome;           // a value or an exception, as return_exceptions reports a child
using aio::ReturnExceptions;  // the tag type of return_exceptions
using aio::VoidResult;        // the result gather gives for a child that returns void
using aio::return_exceptions;

/// What gather takes: a Coro<T> (moved in; it becomes an aio task) or an aio Future<T> /
/// Task<T> handle (copied; the caller keeps its own).
using aio::Gatherable;
/// The T of the Coro<T>, Future<T> or Task<T> `A`.
using aio::awaited_value_t;
/// What gather gives for a child of type `A`: its value, VoidResult for void.
using aio::gather_value_t;

namespace detail {

/// The untyped part of every gathering future: asyncio's _GatheringFuture plus the
/// _done_callback that gather() registers on each child. It is an aio future (so aio tasks
/// await it and aio::wait_for times it out) whose cancel() cancels the children instead.
class GatherCore : public aio::FutureCore {
public:
    /// Cancels every child not done yet (asyncio's _GatheringFuture.cancel). The gathering
    /// future itself is not cancelled here: it fails with CancelledError once the children
    /// are all done. Returns whether any child accepted the cancellation; false if this
    /// future is already done. (Step 3.)
    bool cancel(std::string message = {}) override;

    /// Registers a done callback (a ChildDone node) on every child. Called once, by
    /// make_gathering(), after a GatheringFuture owns this state. Gathering no children
    /// finishes the future at once, with an empty result. (Step 1.)
    void start();

    /// Child `index` is done (called from the loop by its ChildDone node): counts it and,
    /// once every child is done, finishes the gathering future (step 1). Without
    /// return_exceptions, the first failure finishes it at once (step 2).
    void on_child_done(std::size_t index);

protected:
    GatherCore(aio::EventLoop& loop, std::size_t child_count, bool return_exceptions) noexcept
        : aio::FutureCore(loop), child_count_(child_count), return_exceptions_(return_exceptions) {}

    /// Child `index`, as a future (its Waitable part and its state are untyped).
    virtual aio::FutureCore& child(std::size_t index) noexcept = 0;
    /// Every child is done and none failed (or return_exceptions): builds the result from
    /// the children, in argument order, and stores it. May throw (a child's exception,
    /// without return_exceptions, or a failed copy).
    virtual void store_results() = 0;

    /// The last child is done: finish the gathering future with the results (step 1), or
    /// with CancelledError if cancel() reached a child (step 3).
    void finish_gathering(aio::FutureCore& last);

    // Protected rather than private only so that the starter code, which does not use them
    // yet, compiles without clang's unused-private-field warning.
    std::size_t child_count_;
    std::size_t finished_ = 0;        // children whose callback has run
    bool return_exceptions_;
    bool cancel_requested_ = false;   // cancel() reached at least one child
};

/// The done callback gather registers on one child. It holds a reference to the gathering
/// state, so the state lives until every child has reported, even if nobody holds the
/// GatheringFuture any more (the children then still run to their end, as in asyncio).
class ChildDone final : public aio::DoneCallback {
public:
    ChildDone(GatherCore& gather, std::size_t index) noexcept : gather_(&gather), index_(index) {}
    void on_done(aio::Waitable&) override { gather_->on_child_done(index_); }
    /// The loop is done with the node: it ran, or it can never run (the loop closed).
    void release_from_loop() noexcept override { delete this; }
    std::string describe() const override { return "<gather child done callback>"; }

private:
    aio::detail::Ref<GatherCore> gather_;
    std::size_t index_;
};

/// What gather reports for a child of type T: its value (VoidResult for void), or with
/// return_exceptions an Outcome<T>.
template <bool ReturnExceptions, class T>
using gathered_t = std::conditional_t<ReturnExceptions, Outcome<T>,
                                      std::conditional_t<std::is_void_v<T>, VoidResult, T>>;

/// What gather reports for one finished child (asyncio: fut.result(), or with
/// return_exceptions the exception itself). Without return_exceptions it rethrows the
/// child's exception (CancelledError if it was cancelled); with it, it never throws
/// because of the child. The value is copied (another handle to the child may still read
/// it), or moved if T cannot be copied.
template <bool ReturnExceptions, class T>
gathered_t<ReturnExceptions, T> take_result(aio::Future<T>& child) {
    if constexpr (ReturnExceptions) {
        if (child.cancelled())
            return Outcome<T>::failure(std::make_exception_ptr(aio::CancelledError(child.cancel_message())));
        if (std::exception_ptr error = child.exception()) return Outcome<T>::failure(std::move(error));
        if constexpr (std::is_void_v<T>) {
            return Outcome<void>::success();
        } else if constexpr (std::is_copy_constructible_v<T>) {
            return Outcome<T>::success(child.result());
        } else {
            return Outcome<T>::success(std::move(child.result()));
        }
    } else if constexpr (std::is_void_v<T>) {
        child.result();  // rethrows the child's exception, or CancelledError
        return VoidResult{};
    } else if constexpr (std::is_copy_constructible_v<T>) {
        return child.result();
    } else {
        return std::move(child.result());
    }
}

/// gather() over a vector of children of one type.
template <bool ReturnExceptions, class T>
class VectorGatherState final : public GatherCore,
                                public aio::detail::ResultSlot<std::vector<gathered_t<ReturnExceptions, T>>> {
public:
    using result_type = std::vector<gathered_t<ReturnExceptions, T>>;

    VectorGatherState(aio::EventLoop& loop, std::vector<aio::Future<T>> children)
        : GatherCore(loop, children.size(), ReturnExceptions), children_(std::move(children)) {}

private:
    aio::FutureCore& child(std::size_t index) noexcept override { return children_[index].core(); }
    void store_results() override {
        result_type results;
        results.reserve(children_.size());
        for (aio::Future<T>& one : children_) results.push_back(lab::detail::take_result<ReturnExceptions>(one));
        this->value.emplace(std::move(results));
    }

    std::vector<aio::Future<T>> children_;
};

/// gather() over a fixed list of children of different types.
template <bool ReturnExceptions, class... T>
class TupleGatherState final : public GatherCore,
                               public aio::detail::ResultSlot<std::tuple<gathered_t<ReturnExceptions, T>...>> {
public:
    using result_type = std::tuple<gathered_t<ReturnExceptions, T>...>;

    TupleGatherState(aio::EventLoop& loop, std::tuple<aio::Future<T>...> children)
        : GatherCore(loop, sizeof...(T), ReturnExceptions), children_(std::move(children)) {
        cores_ = std::apply(
            [](auto&... one) { return std::array<aio::FutureCore*, sizeof...(T)>{&one.core()...}; }, children_);
    }

private:
    aio::FutureCore& child(std::size_t index) noexcept override { return *cores_[index]; }
    void store_results() override {
        // Braced initialisation evaluates left to right: the children are read in order.
        this->value.emplace(std::apply(
            [](auto&... one) { return result_type{lab::detail::take_result<ReturnExceptions>(one)...}; }, children_));
    }

    std::tuple<aio::Future<T>...> children_;
    std::array<aio::FutureCore*, sizeof...(T)> cores_{};
};

}  // namespace detail

namespace detail {

/// Awaits a future and moves its result out to the awaiter (for a result nobody else reads,
/// and for results that cannot be copied, such as a vector of unique_ptr).
template <class R>
struct MovingAwaiter {
    aio::Future<R> future;

    bool await_ready() const noexcept { return future.done(); }
    void await_suspend(std::coroutine_handle<> awaiting) const {
        aio::detail::wait_in_current_task(future.waitable(), awaiting);
    }
    R await_resume() const {
        aio::detail::throw_if_cancel_delivered();  // first: a task woken to be cancelled
        return std::move(future.result());
    }
};

}  // namespace detail

/// The future gather() returns: an aio::Future<R> (done, result, co_await, add_done_callback
/// all work as usual) whose cancel() cancels the children instead of the future itself.
///
/// `co_await std::move(gathering)` moves the results out to the awaiter; `co_await gathering`
/// copies them, so that another handle can still read result().
template <class R>
class GatheringFuture : public aio::Future<R> {
public:
    /// Takes ownership of a new gathering state (a GatherCore with a ResultSlot<R>).
    template <class State>
    explicit GatheringFuture(State* state) : aio::Future<R>(state) {}

    auto operator co_await() && noexcept { return detail::MovingAwaiter<R>{*this}; }
    auto operator co_await() const& noexcept { return aio::detail::FutureAwaiter<R>{*this}; }
};

namespace detail {

template <class State>
GatheringFuture<typename State::result_type> make_gathering(State* state) {
    GatheringFuture<typename State::result_type> gathering(state);  // owns `state` from here
    state->start();  // the ChildDone nodes take their references only now
    return gathering;
}

/// The loop gather uses: the first argument's if it is a future, else get_event_loop()
/// (asyncio: ensure_future of the first argument decides).
template <class A>
aio::EventLoop& loop_of(const A& awaitable) {
    if constexpr (aio::detail::FutureHandle<std::remove_cvref_t<A>>) {
        return awaitable.get_loop();
    } else {
        return aio::get_event_loop();
    }
}

/// asyncio's ensure_future for a child: a Coro becomes a task on `loop`, a future is
/// taken as it is. Throws aio::ValueError for a future of another loop.
template <class A>
aio::Future<awaited_value_t<A>> child_future(A&& awaitable, aio::EventLoop& loop) {
    if constexpr (aio::detail::is_coro<std::remove_cvref_t<A>>::value) {
        return aio::create_task(loop, std::move(awaitable));
    } else {
        if (&awaitable.get_loop() != &loop)
            throw aio::ValueError("gather: a future belongs to a different loop than the other children");
        return std::forward<A>(awaitable);
    }
}

template <bool ReturnExceptions, class A>
auto gather_vector(std::vector<A> awaitables) {
    using T = awaited_value_t<A>;
    aio::EventLoop& loop = awaitables.empty() ? aio::get_event_loop() : lab::detail::loop_of(awaitables.front());
    std::vector<aio::Future<T>> children;
    children.reserve(awaitables.size());
    for (A& awaitable : awaitables) children.push_back(lab::detail::child_future(std::move(awaitable), loop));
    return lab::detail::make_gathering(new VectorGatherState<ReturnExceptions, T>(loop, std::move(children)));
}

template <bool ReturnExceptions, class... A>
auto gather_tuple(A&&... awaitables) {
    aio::EventLoop* loop = &aio::get_event_loop();
    if constexpr (sizeof...(A) > 0) loop = &lab::detail::loop_of(std::get<0>(std::forward_as_tuple(awaitables...)));
    // Braced initialisation evaluates left to right: tasks are created in argument order.
    std::tuple<aio::Future<awaited_value_t<A>>...> children{lab::detail::child_future(std::forward<A>(awaitables), *loop)...};
    return lab::detail::make_gathering(
        new TupleGatherState<ReturnExceptions, awaited_value_t<A>...>(*loop, std::move(children)));
}

}  // namespace detail

/// Runs `awaitables` (Coro<T>s, which become aio tasks in order, or aio Future<T> / Task<T>
/// handles) concurrently. The gathering future's value is a std::vector of their results in
/// the same order. The first child to fail makes it fail with that exception at once
/// (CancelledError for a cancelled child); the other children keep running.
template <Gatherable A>
GatheringFuture<std::vector<gather_value_t<A>>> gather(std::vector<A> awaitables) {
    return detail::gather_vector<false>(std::move(awaitables));
}

/// The same, but a child's failure does not fail the gather: each result is an Outcome<T>
/// holding the value or the exception (CancelledError for a cancelled child).
template <Gatherable A>
GatheringFuture<std::vector<Outcome<awaited_value_t<A>>>> gather(ReturnExceptions, std::vector<A> awaitables) {
    return detail::gather_vector<true>(std::move(awaitables));
}

/// gather() of a fixed list of awaitables of any mix of types: the value is a std::tuple
/// of their results in argument order (VoidResult for void).
template <Gatherable... A>
GatheringFuture<std::tuple<gather_value_t<A>...>> gather(A&&... awaitables) {
    return detail::gather_tuple<false>(std::forward<A>(awaitables)...);
}

/// gather(return_exceptions, ...) of a fixed list: a std::tuple of Outcome<T>.
template <Gatherable... A>
GatheringFuture<std::tuple<Outcome<awaited_value_t<A>>...>> gather(ReturnExceptions, A&&... awaitables) {
    return detail::gather_tuple<true>(std::forward<A>(awaitables)...);
}

}  // namespace lab
