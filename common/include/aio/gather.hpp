#pragma once
// aio::gather: run awaitables concurrently and collect their results (asyncio.gather).
//
// gather() wraps each Coro in a task, watches every child with one intrusive done callback,
// and returns a GatheringFuture: a future that finishes when the children have all finished
// (results in argument order) or as soon as one of them fails. asyncio's rules, all kept:
//  - without return_exceptions, the first child exception (or a cancelled child, as
//    CancelledError) is set on the gathering future at once; the other children keep running;
//  - with return_exceptions, every outcome is collected, failures included;
//  - cancelling the gathering future (or the task awaiting it) cancels the children not done;
//    it then finishes with CancelledError once every child is done, whatever return_exceptions;
//  - children already done when gather() is called are accounted at once (3.12), so gathering
//    nothing, or only finished futures, gives a future that is already done.
#include <array>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "coro.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "future.hpp"
#include "task.hpp"

namespace aio {

/// The result gather() gives for a child that returns void: an empty value, so that a tuple
/// or vector of results can hold it.
using VoidResult = std::monostate;

/// A child's outcome as gather(return_exceptions, ...) reports it: a value, or the exception
/// the child finished with (CancelledError if it was cancelled).
template <class T>
class Outcome {
public:
    /// A successful outcome.
    static Outcome success(T value) { return Outcome(std::move(value), nullptr); }
    /// A failed outcome. `error` must not be null.
    static Outcome failure(std::exception_ptr error) { return Outcome(std::nullopt, std::move(error)); }

    bool has_value() const noexcept { return !error_; }
    explicit operator bool() const noexcept { return has_value(); }
    /// The value. Rethrows the child's exception if it failed.
    T& value() & { return checked(*this); }
    const T& value() const& { return checked(*this); }
    T&& value() && { return std::move(checked(*this)); }
    /// The exception the child finished with, or nullptr if it returned a value.
    const std::exception_ptr& exception() const noexcept { return error_; }
    /// Whether the child was cancelled (its exception is a CancelledError).
    bool cancelled() const noexcept;

private:
    Outcome(std::optional<T> value, std::exception_ptr error)
        : value_(std::move(value)), error_(std::move(error)) {}
    template <class Self>
    static auto& checked(Self& self) {
        if (self.error_) std::rethrow_exception(self.error_);
        return *self.value_;
    }

    std::optional<T> value_;
    std::exception_ptr error_;
};

/// Outcome of a child that returns void: success or an exception.
template <>
class Outcome<void> {
public:
    static Outcome success() { return Outcome(nullptr); }
    static Outcome failure(std::exception_ptr error) { return Outcome(std::move(error)); }

    bool has_value() const noexcept { return !error_; }
    explicit operator bool() const noexcept { return has_value(); }
    /// Rethrows the child's exception if it failed; does nothing otherwise.
    void value() const {
        if (error_) std::rethrow_exception(error_);
    }
    const std::exception_ptr& exception() const noexcept { return error_; }
    bool cancelled() const noexcept;

private:
    explicit Outcome(std::exception_ptr error) : error_(std::move(error)) {}
    std::exception_ptr error_;
};

namespace detail {
/// Whether `error` holds an aio::CancelledError (defined in gather.cpp).
bool is_cancelled_error(const std::exception_ptr& error) noexcept;
}  // namespace detail

template <class T>
bool Outcome<T>::cancelled() const noexcept {
    return detail::is_cancelled_error(error_);
}
inline bool Outcome<void>::cancelled() const noexcept { return detail::is_cancelled_error(error_); }

/// The tag that selects gather's return_exceptions form: `aio::gather(aio::return_exceptions, a, b)`.
struct ReturnExceptions {
    explicit ReturnExceptions() = default;
};
inline constexpr ReturnExceptions return_exceptions{};

namespace detail {

// --- what gather accepts ---------------------------------------------------------------------

template <class T>
T future_value_probe(const Future<T>&);  // never defined: only used to deduce T

/// A Future<T>, a Task<T>, or any other handle derived from Future<T> (a GatheringFuture).
template <class A>
concept FutureHandle = requires(const A& handle) { detail::future_value_probe(handle); };

template <class A>
struct is_coro : std::false_type {};
template <class T>
struct is_coro<Coro<T>> : std::true_type {};

template <class A>
struct awaited_value;
template <class T>
struct awaited_value<Coro<T>> {
    using type = T;
};
template <FutureHandle A>
struct awaited_value<A> {
    using type = decltype(detail::future_value_probe(std::declval<const A&>()));
};

}  // namespace detail

/// What gather, wait and as_completed take: a Coro<T> (moved in; it becomes a task), or a
/// Future<T> / Task<T> handle (copied: the caller keeps its own).
template <class A>
concept Gatherable = (detail::is_coro<std::remove_cvref_t<A>>::value && !std::is_lvalue_reference_v<A>) ||
                     detail::FutureHandle<std::remove_cvref_t<A>>;

/// The T of the Coro<T>, Future<T> or Task<T> `A`.
template <class A>
using awaited_value_t = typename detail::awaited_value<std::remove_cvref_t<A>>::type;

/// What gather gives for a child of type `A`: its value, VoidResult for void.
template <class A>
using gather_value_t =
    std::conditional_t<std::is_void_v<awaited_value_t<A>>, VoidResult, awaited_value_t<A>>;

/// The future gather() returns (asyncio's _GatheringFuture): a Future<R> whose cancel()
/// cancels the children instead of the future itself.
///
/// `co_await std::move(gathering)` (or `co_await aio::gather(...)`) moves the results out to
/// the awaiter; `co_await gathering` on an lvalue copies them, so that another handle can
/// still read result().
template <class R>
class GatheringFuture : public Future<R> {
public:
    auto operator co_await() && noexcept;
    auto operator co_await() const& noexcept { return detail::FutureAwaiter<R>{*this}; }

    /// For gather(): takes a new gathering state (a FutureCore with a ResultSlot<R>).
    template <class State>
    explicit GatheringFuture(State* state) : Future<R>(state) {}
};

/// Runs `awaitables` (each a Coro<T>, Future<T> or Task<T>, of any mix of types) concurrently.
/// The GatheringFuture's value is a std::tuple of their results in argument order (VoidResult
/// for void). Coros become tasks on the loop of the first argument if it is a future, else
/// on get_event_loop(), in argument order.
///
/// The first child to fail (or be cancelled) makes the gathering future fail with that
/// exception (CancelledError for a cancelled child) at once; the others are not cancelled.
/// Throws aio::ValueError if a future belongs to another loop.
template <Gatherable... A>
GatheringFuture<std::tuple<gather_value_t<A>...>> gather(A&&... awaitables);

/// The same, but never fails because of a child: each result is an Outcome<T> holding the
/// value or the exception (CancelledError for a cancelled child). Cancelling the gathering
/// future still makes it fail with CancelledError.
template <Gatherable... A>
GatheringFuture<std::tuple<Outcome<awaited_value_t<A>>...>> gather(ReturnExceptions, A&&... awaitables);

/// gather() over a vector: the results come as a std::vector in the same order.
/// This is the form that scales: one allocation for all the done callbacks, none per child
/// beyond the task itself, results moved (not copied) out of tasks nobody else holds.
template <Gatherable A>
GatheringFuture<std::vector<gather_value_t<A>>> gather(std::vector<A> awaitables);

/// gather(return_exceptions, ...) over a vector: a std::vector<Outcome<T>>.
template <Gatherable A>
GatheringFuture<std::vector<Outcome<awaited_value_t<A>>>> gather(ReturnExceptions, std::vector<A> awaitables);

// ---------------------------------------------------------------------------------------------

namespace detail {

/// Awaits a future and moves its result out to the awaiter (for a result nobody else reads).
template <class R>
struct MovingFutureAwaiter {
    Future<R> future;

    bool await_ready() const noexcept { return future.done(); }
    void await_suspend(std::coroutine_handle<> awaiting) const {
        wait_in_current_task(future.waitable(), awaiting);
    }
    R await_resume() const {
        throw_if_cancel_delivered();
        return std::move(future.result());
    }
};

// --- fan-in: one intrusive done callback per watched future ----------------------------------

class FanIn;

/// The done callback a FanIn registers on one child future. It lives in the FanIn's array;
/// the FanIn finds the child's index from the node's place in that array.
class ChildCallback final : public DoneCallback {
public:
    void on_done(Waitable& child) override;
    void release_from_loop() noexcept override;
    std::string describe() const override { return "<child done callback>"; }

private:
    friend class FanIn;
    FanIn* fan_in_ = nullptr;
};

/// Watches many futures at once with an array of ChildCallback nodes (used by gather, wait
/// and as_completed). Lifetime rule: the owner (a RefCounted object) is kept alive while any
/// node is registered on a future or queued in the loop, and released when the last node is
/// released, by the loop (after it ran, or at close) or by unwatch(). So a node never
/// points to a dead owner, whoever drops the owner's handles first.
class FanIn {
public:
    FanIn(const FanIn&) = delete;
    FanIn& operator=(const FanIn&) = delete;

protected:
    explicit FanIn(const RefCounted& owner) noexcept : owner_(&owner) {}
    ~FanIn() = default;

    /// The array of nodes, one per child; set before the first watch().
    void set_nodes(ChildCallback* nodes) noexcept { nodes_ = nodes; }
    /// Registers node `index` on `child` (scheduled at once if `child` is done).
    void watch(std::size_t index, Waitable& child);
    /// Withdraws node `index` from `child` if the child has not scheduled it yet.
    void unwatch(std::size_t index, Waitable& child) noexcept;
    /// Child `index` is done (its node runs from the loop).
    virtual void on_child_done(std::size_t index, Waitable& child) = 0;

private:
    friend class ChildCallback;
    void node_released() noexcept;

    const RefCounted* owner_;
    ChildCallback* nodes_ = nullptr;
    std::size_t registered_ = 0;  // nodes registered and not yet released
};

inline void ChildCallback::on_done(Waitable& child) {
    fan_in_->on_child_done(static_cast<std::size_t>(this - fan_in_->nodes_), child);
}
inline void ChildCallback::release_from_loop() noexcept { fan_in_->node_released(); }

inline void FanIn::node_released() noexcept {
    // The last release drops the keep-alive reference taken by the first watch(): the owner
    // may be deleted here, so nothing touches it afterwards.
    if (--registered_ == 0) owner_->release();
}

// --- the gathering future's state ------------------------------------------------------------

/// The untyped part of a gathering future: asyncio's _done_callback and _GatheringFuture.cancel.
class GatherCore : public FutureCore, public FanIn {
public:
    /// Cancels every child not done (asyncio's _GatheringFuture.cancel): the gathering future
    /// itself finishes later, with CancelledError, when the children are done. Returns whether
    /// any child accepted the cancellation; false if this future is done.
    bool cancel(std::string message = {}) override;

    /// For introspection (format_task_tree): the children, in argument order.
    std::size_t child_count() const noexcept { return child_count_; }
    FutureCore& child_at(std::size_t index) noexcept { return child(index); }

protected:
    GatherCore(EventLoop& loop, std::size_t child_count, bool return_exceptions) noexcept
        : FutureCore(loop), FanIn(static_cast<const RefCounted&>(*this)),
          child_count_(child_count), return_exceptions_(return_exceptions) {}

    /// Watches the pending children, then accounts for those already done, in order.
    /// Called once, after construction.
    void start();

    virtual FutureCore& child(std::size_t index) noexcept = 0;
    /// All children are done and none failed (or return_exceptions): store the results.
    virtual void store_results() = 0;

private:
    void on_child_done(std::size_t index, Waitable& child) final;
    void finish_gathering() noexcept;

    std::size_t child_count_;
    std::size_t finished_ = 0;
    bool return_exceptions_;
    bool cancel_requested_ = false;
};

/// Moves the value out of a finished child, or copies it when another handle to the child's
/// future exists (its owner may still read result()); move-only values are always moved.
/// Rethrows the child's exception.
template <class T>
T take_child_value(Future<T>& child) {
    T& value = child.result();
    if constexpr (!std::is_copy_constructible_v<T>) {
        return std::move(value);
    } else {
        if (child.core().use_count() == 1) return std::move(value);
        return value;
    }
}

template <bool ReturnExceptions, class T>
auto take_child_result(Future<T>& child) {
    if constexpr (ReturnExceptions) {
        FutureCore& core = child.core();
        if (core.cancelled())
            return Outcome<T>::failure(std::make_exception_ptr(CancelledError(core.cancel_message())));
        if (std::exception_ptr error = core.exception()) return Outcome<T>::failure(std::move(error));
        if constexpr (std::is_void_v<T>) {
            return Outcome<void>::success();
        } else {
            return Outcome<T>::success(take_child_value(child));
        }
    } else if constexpr (std::is_void_v<T>) {
        child.result();
        return VoidResult{};
    } else {
        return take_child_value(child);
    }
}

template <bool ReturnExceptions, class T>
using gathered_t = decltype(take_child_result<ReturnExceptions>(std::declval<Future<T>&>()));

/// gather() over a vector of Future<T>.
template <bool ReturnExceptions, class T>
class VectorGatherState final : public GatherCore,
                                public ResultSlot<std::vector<gathered_t<ReturnExceptions, T>>> {
public:
    using result_type = std::vector<gathered_t<ReturnExceptions, T>>;

    VectorGatherState(EventLoop& loop, std::vector<Future<T>> children)
        : GatherCore(loop, children.size(), ReturnExceptions),
          children_(std::move(children)),
          nodes_(std::make_unique<ChildCallback[]>(children_.size())) {
        set_nodes(nodes_.get());
    }
    using GatherCore::start;

private:
    FutureCore& child(std::size_t index) noexcept override { return children_[index].core(); }
    void store_results() override {
        result_type results;
        results.reserve(children_.size());
        for (Future<T>& one : children_) results.push_back(take_child_result<ReturnExceptions>(one));
        this->value.emplace(std::move(results));
    }

    std::vector<Future<T>> children_;
    std::unique_ptr<ChildCallback[]> nodes_;
};

/// gather() over a fixed list of futures of different types.
template <bool ReturnExceptions, class... T>
class TupleGatherState final : public GatherCore,
                               public ResultSlot<std::tuple<gathered_t<ReturnExceptions, T>...>> {
public:
    using result_type = std::tuple<gathered_t<ReturnExceptions, T>...>;

    TupleGatherState(EventLoop& loop, std::tuple<Future<T>...> children)
        : GatherCore(loop, sizeof...(T), ReturnExceptions), children_(std::move(children)) {
        set_nodes(nodes_.data());
        cores_ = std::apply([](auto&... one) { return std::array<FutureCore*, sizeof...(T)>{&one.core()...}; },
                            children_);
    }
    using GatherCore::start;

private:
    FutureCore& child(std::size_t index) noexcept override { return *cores_[index]; }
    void store_results() override {
        // Braced initialisation: the children are read in order.
        this->value.emplace(std::apply(
            [](auto&... one) { return result_type{take_child_result<ReturnExceptions>(one)...}; },
            children_));
    }

    std::tuple<Future<T>...> children_;
    std::array<ChildCallback, sizeof...(T)> nodes_;
    std::array<FutureCore*, sizeof...(T)> cores_{};
};

template <class State>
GatheringFuture<typename State::result_type> make_gathering(State* state) {
    GatheringFuture<typename State::result_type> gathering(state);  // owns `state` from here
    state->start();
    return gathering;
}

/// The loop gather() uses: the first argument's if it is a future, else get_event_loop()
/// (asyncio: ensure_future of the first argument decides).
template <class A>
EventLoop& gather_loop(const A& first) {
    if constexpr (FutureHandle<std::remove_cvref_t<A>>) {
        return first.get_loop();
    } else {
        return get_event_loop();
    }
}

/// Throws ValueError for a future of another loop.
void require_same_loop(const Waitable& future, const EventLoop& loop);

/// ensure_future for gather's children: a Coro becomes a task on `loop`.
template <class A>
Future<awaited_value_t<A>> child_future(A&& awaitable, EventLoop& loop) {
    if constexpr (is_coro<std::remove_cvref_t<A>>::value) {
        return create_task(loop, std::move(awaitable));
    } else {
        require_same_loop(awaitable.waitable(), loop);
        return std::forward<A>(awaitable);  // a handle given by value is moved: no reference count traffic
    }
}

template <bool ReturnExceptions, class... A>
auto gather_tuple(A&&... awaitables) {
    EventLoop* loop = nullptr;
    if constexpr (sizeof...(A) == 0) {
        loop = &get_event_loop();
    } else {
        loop = &gather_loop(std::get<0>(std::forward_as_tuple(awaitables...)));
    }
    // Braced initialisation evaluates left to right: tasks are created in argument order.
    std::tuple<Future<awaited_value_t<A>>...> children{child_future(std::forward<A>(awaitables), *loop)...};
    return make_gathering(new TupleGatherState<ReturnExceptions, awaited_value_t<A>...>(*loop, std::move(children)));
}

template <bool ReturnExceptions, class A>
auto gather_vector(std::vector<A> awaitables) {
    using T = awaited_value_t<A>;
    EventLoop& loop = awaitables.empty() ? get_event_loop() : gather_loop(awaitables.front());
    std::vector<Future<T>> children;
    children.reserve(awaitables.size());
    for (A& awaitable : awaitables) children.push_back(child_future(std::move(awaitable), loop));
    awaitables.clear();  // the Coros are now owned by their tasks
    return make_gathering(new VectorGatherState<ReturnExceptions, T>(loop, std::move(children)));
}

}  // namespace detail

template <class R>
auto GatheringFuture<R>::operator co_await() && noexcept {
    // The handle is copied, not moved: only the result moves, the caller's handle stays valid.
    return detail::MovingFutureAwaiter<R>{*this};
}

template <Gatherable... A>
GatheringFuture<std::tuple<gather_value_t<A>...>> gather(A&&... awaitables) {
    return detail::gather_tuple<false>(std::forward<A>(awaitables)...);
}

template <Gatherable... A>
GatheringFuture<std::tuple<Outcome<awaited_value_t<A>>...>> gather(ReturnExceptions, A&&... awaitables) {
    return detail::gather_tuple<true>(std::forward<A>(awaitables)...);
}

template <Gatherable A>
GatheringFuture<std::vector<gather_value_t<A>>> gather(std::vector<A> awaitables) {
    return detail::gather_vector<false>(std::move(awaitables));
}

template <Gatherable A>
GatheringFuture<std::vector<Outcome<awaited_value_t<A>>>> gather(ReturnExceptions, std::vector<A> awaitables) {
    return detail::gather_vector<true>(std::move(awaitables));
}

}  // namespace aio
