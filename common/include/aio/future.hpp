#pragma once
// aio::Future<T>: a result that is not there yet (asyncio.Future).
//
// A future is pending, then finished (with a value or an exception) or cancelled, once.
// Done callbacks are never run inline: completing a future schedules each of them on the
// loop with call_soon, in registration order, so set_result() never re-enters its caller.
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "detail/ref_counted.hpp"
#include "errors.hpp"
#include "handle.hpp"

namespace aio {

// Declared, not included: event_loop.hpp includes task.hpp, which includes this file.
class EventLoop;
EventLoop& get_event_loop();
class Waitable;
class FutureCore;

/// An intrusive done callback: a node a future hands to the loop when it completes.
/// Subclasses implement on_done(); the node must stay alive until the loop releases it.
class DoneCallback : public Runnable {
public:
    /// Runs from the loop, after `future` is done.
    virtual void on_done(Waitable& future) = 0;
    void run() override { on_done(*completed_future_); }
    /// For Waitable implementations outside aio (a lab's future): records `future` as the
    /// one this node reports to on_done(). Call it just before loop.call_soon(node).
    void set_completed_future(Waitable& future) noexcept { completed_future_ = &future; }

protected:
    ~DoneCallback() = default;
    /// Called by an aio future just before it hands this node to the loop. A node that needs
    /// the future alive when it runs takes a reference here rather than at registration:
    /// a reference held while registered would be a cycle that a future never finished
    /// could not break. The default takes none.
    virtual void on_scheduled(FutureCore& future) noexcept { (void)future; }
    /// The future whose completion scheduled this node, or nullptr if it was scheduled
    /// otherwise (a task schedules its own steps through the same node).
    Waitable* completed_future() const noexcept { return completed_future_; }
    void clear_completed_future() noexcept { completed_future_ = nullptr; }

private:
    friend class FutureCore;
    Waitable* completed_future_ = nullptr;
    DoneCallback* next_callback_ = nullptr;
};

/// What a task can wait on: the part of a future that is not about its value (asyncio's
/// "future-like" protocol). aio's futures and tasks implement it, and so can a lab's.
class Waitable {
public:
    virtual bool done() const noexcept = 0;
    virtual bool cancelled() const noexcept = 0;
    /// Requests cancellation; returns false if already done. For a plain future the
    /// cancellation is immediate; for a task it is delivered at its next await point.
    virtual bool cancel(std::string message = {}) = 0;
    /// Registers `callback` to be scheduled on the loop once done (at once if already done).
    virtual void add_done_callback(DoneCallback& callback) = 0;
    /// Unregisters a callback not yet scheduled; returns whether it was found.
    virtual bool remove_done_callback(DoneCallback& callback) noexcept = 0;
    virtual EventLoop& get_loop() const noexcept = 0;
    /// For reports: "<Future pending>", "<Task finished name='Task-3'>".
    virtual std::string describe() const = 0;

protected:
    ~Waitable() = default;
};

/// The untyped part of every aio future and task: state, exception, callbacks.
/// Futures are not thread-safe (as in asyncio): use them on their loop's thread.
class FutureCore : public Waitable, public detail::RefCounted {
public:
    explicit FutureCore(EventLoop& loop) noexcept : loop_(&loop) {}

    // Futures and tasks (and what derives from them) are allocated from the thread's
    // BlockCache (handle.hpp includes it): every task allocates its state, many a future.
    static void* operator new(std::size_t size) { return detail::BlockCache::allocate(size); }
    static void operator delete(void* state, std::size_t size) noexcept {
        detail::BlockCache::deallocate(state, size);
    }
    /// Reports an exception that was set but never retrieved, like asyncio's __del__.
    ~FutureCore() override;

    bool done() const noexcept final { return state_ != State::pending; }
    bool cancelled() const noexcept final { return state_ == State::cancelled; }
    bool cancel(std::string message = {}) override;
    void add_done_callback(DoneCallback& callback) final;
    bool remove_done_callback(DoneCallback& callback) noexcept final;
    EventLoop& get_loop() const noexcept final { return *loop_; }
    std::string describe() const override;

    /// The exception the future finished with (nullptr if it has a value).
    /// Throws CancelledError if cancelled, InvalidStateError if not done.
    std::exception_ptr exception();
    /// The stored exception (nullptr if none), without marking it retrieved: for reports
    /// and traces, which must not silence "exception was never retrieved".
    const std::exception_ptr& peek_exception() const noexcept { return exception_; }
    /// Finishes the future with `error`. Throws InvalidStateError if already done.
    void set_exception(std::exception_ptr error);
    /// The message given to cancel(), empty if none.
    const std::string& cancel_message() const noexcept;

    /// For typed subclasses: throws what result() must throw when there is no value to
    /// return (CancelledError, InvalidStateError, or the stored exception).
    void throw_unless_value();
    /// For typed subclasses: throws InvalidStateError unless pending.
    void require_pending(const char* operation) const;
    /// For typed subclasses: the value is stored, mark finished and schedule callbacks.
    void finish_with_value();

protected:
    enum class State : std::uint8_t { pending, cancelled, finished };
    /// Marks cancelled and schedules callbacks (Future.cancel's body). An empty `message`
    /// keeps one stored earlier with set_cancel_message().
    bool cancel_future(std::string message);
    void set_cancel_message(std::string message);
    /// Reports an exception set but never retrieved (once); called by the destructors.
    void report_unretrieved_exception() noexcept;
    /// A short word for describe(): "Future" or "Task".
    virtual const char* kind() const noexcept { return "Future"; }
    const char* state_name() const noexcept;

private:
    void schedule_callbacks() noexcept;

    // The two one-byte fields come first: they fit in the padding after RefCounted's count,
    // which saves 8 bytes in every future and task.
    State state_ = State::pending;
    bool log_traceback_ = false;  // an exception was set and nobody looked at it yet
    EventLoop* loop_;
    std::exception_ptr exception_;
    std::unique_ptr<std::string> cancel_message_;  // rare: kept out of line
    DoneCallback* first_callback_ = nullptr;
    DoneCallback* last_callback_ = nullptr;
};

namespace detail {

/// Where a future keeps its value (nothing for void).
template <class T>
struct ResultSlot {
    std::optional<T> value;
};
template <>
struct ResultSlot<void> {};

template <class T>
class FutureState final : public FutureCore, public ResultSlot<T> {
public:
    using FutureCore::FutureCore;
};

/// A done callback that owns a function and deletes itself when the loop is done with it.
template <class F>
class FunctionDoneCallback final : public DoneCallback {
public:
    explicit FunctionDoneCallback(F function) : function_(std::move(function)) {}
    void on_done(Waitable&) override { function_(); }
    void release_from_loop() noexcept override { delete this; }
    std::string describe() const override { return "<done callback>"; }

private:
    F function_;
};

/// A done callback that calls `function(future)`. It holds the future only from the moment
/// it is scheduled, so the future outlives the call even if every handle is dropped, and a
/// future dropped while pending still frees its callbacks (no reference cycle).
template <class T, class F>
class FutureArgDoneCallback final : public DoneCallback {
public:
    FutureArgDoneCallback(F function, ResultSlot<T>* slot) : function_(std::move(function)), slot_(slot) {}
    void on_done(Waitable&) override;
    void release_from_loop() noexcept override { delete this; }
    std::string describe() const override { return "<done callback>"; }

private:
    void on_scheduled(FutureCore& future) noexcept override { future_ = Ref<FutureCore>(&future); }

    F function_;
    ResultSlot<T>* slot_;
    Ref<FutureCore> future_;
};

/// Throws the CancelledError a task must see at this await point, if one is due
/// (defined in task.cpp: the running task decides).
void throw_if_cancel_delivered();
/// Hands the running task the future it waits on (asyncio: yielding a future to
/// Task.__step). Throws RuntimeError outside a task (defined in task.cpp).
void wait_in_current_task(Waitable& future, std::coroutine_handle<> resume_point);

/// A new CancelledError(message), remembered so that a task whose coroutine ends with it
/// can tell it is a CancelledError without rethrowing it (message_if_made_cancel): a throw
/// costs microseconds, and a cancellation would otherwise pay for two. aio's awaiters
/// rethrow it from their inline await_resume: a throw from a function between the
/// awaiter and the coroutine that holds a temporary would cost a second unwinding pass.
std::exception_ptr cancelled_error(const std::string& message);
/// If `error` is the last exception made by cancelled_error() on this thread, its message;
/// else nullptr (the caller must then find out by rethrowing).
const std::string* message_if_made_cancel(const std::exception_ptr& error) noexcept;

}  // namespace detail

/// Identifies a callback registered with Future::add_done_callback, for removal.
class DoneCallbackToken {
public:
    DoneCallbackToken() = default;

private:
    template <class>
    friend class Future;
    explicit DoneCallbackToken(DoneCallback* node) : node_(node) {}
    DoneCallback* node_ = nullptr;  // compared, never dereferenced after it ran
};

/// A handle to a future's shared state; copies refer to the same future.
///
/// `co_await future` suspends the awaiting task until the future is done, then returns its
/// value (a copy, or the value itself for move-only types) or throws its exception.
template <class T = void>
class Future {
public:
    using value_type = T;

    /// A new pending future on get_event_loop().
    Future() : Future(get_event_loop()) {}
    /// A new pending future on `loop`.
    explicit Future(EventLoop& loop) : Future(new detail::FutureState<T>(loop)) {}

    bool done() const noexcept { return core_->done(); }
    bool cancelled() const noexcept { return core_->cancelled(); }
    /// Cancels the future and schedules its callbacks; false if it was already done.
    bool cancel(std::string message = {}) { return core_->cancel(std::move(message)); }

    /// The value (a reference into the shared state). Throws the stored exception,
    /// CancelledError if cancelled, or InvalidStateError if not done yet.
    std::add_lvalue_reference_t<T> result() const {
        if constexpr (std::is_void_v<T>) {
            core_->throw_unless_value();
        } else {
            if (!slot_->value) core_->throw_unless_value();
            return *slot_->value;
        }
    }
    std::exception_ptr exception() const { return core_->exception(); }
    const std::string& cancel_message() const noexcept { return core_->cancel_message(); }

    /// Finishes the future with a value. Throws InvalidStateError if already done.
    template <class U = T>
        requires(!std::is_void_v<T> && std::is_constructible_v<T, U &&>)
    void set_result(U&& value) const {
        core_->require_pending("set_result");
        slot_->value.emplace(std::forward<U>(value));
        core_->finish_with_value();
    }
    void set_result() const
        requires std::is_void_v<T>
    {
        core_->require_pending("set_result");
        core_->finish_with_value();
    }
    /// Finishes the future with an exception. Throws InvalidStateError if already done.
    void set_exception(std::exception_ptr error) const { core_->set_exception(std::move(error)); }

    /// Schedules `function()` (or `function(future)`) on the loop once the future is done.
    template <class F>
    DoneCallbackToken add_done_callback(F function) const {
        DoneCallback* node;
        if constexpr (std::is_invocable_v<F&, const Future&>) {
            node = new detail::FutureArgDoneCallback<T, F>(std::move(function), slot_);
        } else {
            node = new detail::FunctionDoneCallback<F>(std::move(function));
        }
        try {
            core_->add_done_callback(*node);
        } catch (...) {  // done, and the loop is closed: the callback can never run
            node->release_from_loop();
            throw;
        }
        return DoneCallbackToken(node);
    }
    /// Removes a callback not yet scheduled; returns how many were removed (0 or 1).
    std::size_t remove_done_callback(DoneCallbackToken token) const {
        if (token.node_ && core_->remove_done_callback(*token.node_)) {
            token.node_->release_from_loop();
            return 1;
        }
        return 0;
    }

    EventLoop& get_loop() const noexcept { return core_->get_loop(); }
    Waitable& waitable() const noexcept { return *core_; }
    FutureCore& core() const noexcept { return *core_; }
    friend bool operator==(const Future& a, const Future& b) noexcept { return a.core_ == b.core_; }

    auto operator co_await() const noexcept;

protected:
    template <class State>
    explicit Future(State* state) : core_(state), slot_(state) {}

private:
    template <class, class>
    friend class detail::FutureArgDoneCallback;
    Future(FutureCore& core, detail::ResultSlot<T>* slot) : core_(&core), slot_(slot) {}

    detail::Ref<FutureCore> core_;
    detail::ResultSlot<T>* slot_;
};

namespace detail {

/// Awaits any Future<T> (and Task<T>, which is one): asyncio's Future.__await__.
template <class T>
struct FutureAwaiter {
    Future<T> future;

    bool await_ready() const noexcept { return future.done(); }
    void await_suspend(std::coroutine_handle<> awaiting) const {
        wait_in_current_task(future.waitable(), awaiting);
    }
    T await_resume() const {
        throw_if_cancel_delivered();
        if (future.cancelled()) std::rethrow_exception(cancelled_error(future.cancel_message()));
        if constexpr (std::is_void_v<T>) {
            future.result();
        } else if constexpr (std::is_copy_constructible_v<T>) {
            return future.result();
        } else {
            return std::move(future.result());  // move-only values go to the one awaiter
        }
    }
};

}  // namespace detail

template <class T, class F>
void detail::FutureArgDoneCallback<T, F>::on_done(Waitable&) {
    function_(Future<T>(*future_, slot_));
}

template <class T>
auto Future<T>::operator co_await() const noexcept {
    return detail::FutureAwaiter<T>{*this};
}

/// Any type aio can wrap in a task or wait on with co_await.
template <class A>
concept Awaitable = requires(A a) { a.operator co_await(); };

}  // namespace aio
