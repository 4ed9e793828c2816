#pragma once
// lab::Future<T>: a result that is not there yet (asyncio.Future), written from scratch.
//
// A future is pending, then finished (with a value or an exception) or cancelled, once.
// Its shared state, FutureCore, implements aio::Waitable, the protocol aio tasks use to
// wait on anything future-like, so `co_await lab_future` works inside an aio task.
//
// Done callbacks are never run inline: completing a future hands each callback to
// loop.call_soon(), in registration order, so set_result() never re-enters its caller.
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aio/event_loop.hpp"
#include "aiolab/todo.hpp"

namespace lab {

/// The untyped part of every lab::Future: its state, its exception and its callbacks.
/// Like asyncio's futures it is not thread-safe: use it on its loop's thread.
class FutureCore : public aio::Waitable {
public:
    explicit FutureCore(aio::EventLoop& loop) noexcept : loop_(&loop) {}
    /// Releases the callbacks still registered (they can never run now).
    virtual ~FutureCore();
    FutureCore(const FutureCore&) = delete;
    FutureCore& operator=(const FutureCore&) = delete;

    // --- step 1: states -------------------------------------------------------------------
    bool done() const noexcept override;
    bool cancelled() const noexcept override;
    /// The exception the future finished with (nullptr if it finished with a value).
    /// Throws CancelledError if cancelled, InvalidStateError if still pending.
    std::exception_ptr exception() const;
    /// Finishes the future with `error` and schedules its callbacks.
    /// Throws InvalidStateError unless pending, std::invalid_argument if `error` is null.
    void set_exception(std::exception_ptr error);
    /// "<Future pending>", "<Future finished>", "<Future finished exception=...>",
    /// "<Future cancelled>".
    std::string describe() const override;

    /// For Future<T>: throws InvalidStateError("<operation>: ...") unless pending.
    void require_pending(const char* operation) const;
    /// For Future<T>::result(): throws CancelledError if cancelled, InvalidStateError if
    /// pending, the stored exception if there is one; returns if there is a value.
    void throw_unless_value() const;
    /// For Future<T>::set_result(), after storing the value: finished, callbacks scheduled.
    void finish_with_value();

    // --- step 2: cancellation -------------------------------------------------------------
    /// Cancels a pending future and schedules its callbacks; returns false if already done.
    bool cancel(std::string message = {}) override;
    /// The message given to cancel(), empty if none.
    const std::string& cancel_message() const noexcept { return cancel_message_; }

    // --- step 3: done callbacks -----------------------------------------------------------
    /// Registers `callback`; once the future is done it is handed to loop.call_soon(), in
    /// registration order. If the future is already done it is scheduled at once (still
    /// through call_soon, never run inline).
    void add_done_callback(aio::DoneCallback& callback) override;
    /// Unregisters a callback that was not scheduled yet; returns whether it was found.
    bool remove_done_callback(aio::DoneCallback& callback) noexcept override;
    aio::EventLoop& get_loop() const noexcept override { return *loop_; }

private:
    enum class State { pending, finished, cancelled };

    /// Hands every registered callback to the loop, in registration order.
    void schedule_callbacks() noexcept;
    /// Hands one callback to the loop (or releases it if the loop is closed).
    void schedule(aio::DoneCallback& callback) noexcept;

    aio::EventLoop* loop_;
    State state_ = State::pending;
    std::exception_ptr exception_;
    std::string cancel_message_;
    std::vector<aio::DoneCallback*> callbacks_;  // registration order; not owned
};

namespace detail {

/// The shared state of a Future<T>: the core plus the value, if any.
template <class T>
class FutureState final : public FutureCore {
public:
    using FutureCore::FutureCore;
    std::optional<T> value;
};
template <>
class FutureState<void> final : public FutureCore {
public:
    using FutureCore::FutureCore;
};

/// A done callback made from a function; it deletes itself when the loop is done with it
/// (after it ran, or when it is removed or can never run). For a function that takes the
/// future, Future<T>::add_done_callback wraps a lambda that holds a Future handle: the
/// future then stays alive until the callback has run, even if every other handle is gone.
/// (The price: a pending future dropped with such a callback registered is a reference
/// cycle. aio::Future avoids it with DoneCallback::on_scheduled, which only aio calls.)
template <class F>
class FunctionCallback final : public aio::DoneCallback {
public:
    explicit FunctionCallback(F function) : function_(std::move(function)) {}
    void on_done(aio::Waitable&) override { function_(); }
    void release_from_loop() noexcept override { delete this; }
    std::string describe() const override { return "<lab done callback>"; }

private:
    F function_;
};

}  // namespace detail

/// Identifies a callback registered with Future::add_done_callback, for removal.
class CallbackToken {
public:
    CallbackToken() = default;

private:
    template <class>
    friend class Future;
    explicit CallbackToken(aio::DoneCallback* node) noexcept : node_(node) {}
    aio::DoneCallback* node_ = nullptr;  // compared with registered nodes, never dereferenced
};

/// A handle to a future's shared state; copies refer to the same future.
template <class T = void>
class Future {
public:
    using value_type = T;

    /// A new pending future on aio::get_event_loop().
    Future() : Future(aio::get_event_loop()) {}
    /// A new pending future on `loop`.
    explicit Future(aio::EventLoop& loop) : state_(std::make_shared<detail::FutureState<T>>(loop)) {}

    bool done() const noexcept { return state_->done(); }
    bool cancelled() const noexcept { return state_->cancelled(); }
    /// Cancels the future and schedules its callbacks; false if it was already done.
    bool cancel(std::string message = {}) const { return state_->cancel(std::move(message)); }

    /// The value (a reference into the shared state). Throws the stored exception,
    /// CancelledError if cancelled, or InvalidStateError if not done yet.
    std::add_lvalue_reference_t<T> result() const {
        // TODO(step 1): throw what the state says must be thrown (FutureCore::throw_unless_value),
        // then return the stored value (nothing for void).
        aiolab::todo("step 1: Future<T>::result");
    }
    /// The stored exception (nullptr if the future has a value). Throws CancelledError if
    /// cancelled, InvalidStateError if not done yet.
    std::exception_ptr exception() const { return state_->exception(); }
    /// The message given to cancel(), empty if none.
    const std::string& cancel_message() const noexcept { return state_->cancel_message(); }

    /// Finishes the future with `value`. Throws InvalidStateError if it is already done.
    template <class U = T>
        requires(!std::is_void_v<T> && std::is_constructible_v<T, U &&>)
    void set_result(U&& value) const {
        // TODO(step 1): check the future is pending, store the value, then mark it finished.
        // Store before finishing: finishing schedules the callbacks, which read the value.
        (void)value;
        aiolab::todo("step 1: Future<T>::set_result");
    }
    void set_result() const
        requires std::is_void_v<T>
    {
        // TODO(step 1): the same without a value.
        aiolab::todo("step 1: Future<void>::set_result");
    }
    /// Finishes the future with `error`. Throws InvalidStateError if it is already done.
    void set_exception(std::exception_ptr error) const { state_->set_exception(std::move(error)); }

    /// Schedules `function()` or `function(future)` on the loop once the future is done.
    template <class F>
    CallbackToken add_done_callback(F function) const {
        static_assert(std::is_invocable_v<F&> || std::is_invocable_v<F&, const Future&>,
                      "a done callback takes () or (const lab::Future<T>&)");
        // TODO(step 3): wrap `function` in a heap-allocated detail::FunctionCallback node (for
        // the (const Future&) form, wrap a lambda that calls function(*this)), register the
        // node with the state, and return a token for it. If registering throws, release the
        // node so it does not leak.
        (void)function;
        aiolab::todo("step 3: Future<T>::add_done_callback");
    }
    /// Removes a callback that has not been scheduled yet; returns how many were removed (0 or 1).
    std::size_t remove_done_callback(CallbackToken token) const {
        // TODO(step 3): unregister the token's node; if it was found, release it (the loop
        // will never do it now) and return 1.
        (void)token;
        aiolab::todo("step 3: Future<T>::remove_done_callback");
    }

    aio::EventLoop& get_loop() const noexcept { return state_->get_loop(); }
    /// The shared state as aio sees it (what an aio task waits on).
    aio::Waitable& waitable() const noexcept { return *state_; }
    friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

    /// `co_await future` inside an aio task (step 4).
    auto operator co_await() const noexcept;

private:
    std::shared_ptr<detail::FutureState<T>> state_;
};

namespace detail {

/// What `co_await future` returns: asyncio's Future.__await__ for aio tasks.
template <class T>
struct FutureAwaiter {
    Future<T> future;

    bool await_ready() const {
        // TODO(step 4): a future that is already done needs no suspension.
        aiolab::todo("step 4: FutureAwaiter::await_ready");
    }
    void await_suspend(std::coroutine_handle<> awaiting) const {
        // TODO(step 4): hand the future's Waitable and `awaiting` to the running aio task
        // (aio::detail::wait_in_current_task): the task resumes `awaiting` once it is done.
        (void)awaiting;
        aiolab::todo("step 4: FutureAwaiter::await_suspend");
    }
    T await_resume() const {
        // TODO(step 4): first aio::detail::throw_if_cancel_delivered(), then return the
        // future's result (moved out if T cannot be copied), or let it throw.
        aiolab::todo("step 4: FutureAwaiter::await_resume");
    }
};

}  // namespace detail

template <class T>
auto Future<T>::operator co_await() const noexcept {
    return detail::FutureAwaiter<T>{*this};
}

}  // namespace lab
