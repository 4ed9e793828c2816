#pragma once
// lab::Coro<T>: a lazy coroutine that returns a T (or throws), awaitable from another
// coroutine, from an aio::Coro or from an aio task; and lab::sync_wait to run one without
// a loop.
//
// Lazy: calling a Coro function creates its frame and stops before the first statement;
// the body runs when the Coro is awaited (or sync_wait'ed). The Coro owns the frame and
// destroys it in its destructor on every path: finished, suspended, or never started.
//
// Awaiting a Coro runs its body inline, at once, in the awaiting coroutine's task; when
// the body ends, control goes back to the awaiter (step 3) without growing the stack, even
// for a million awaits in a loop (step 4).
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <aio/detail/frame_counter.hpp>
#include <aio/errors.hpp>
#include <aiolab/todo.hpp>

namespace lab {

template <class T = void>
class Coro;

namespace detail {

/// The part of the promise that does not depend on T. CountedFrame gives the promise an
/// operator new/delete that count frames, so tests can check aio::live_coroutine_frames():
/// keep it as a base class.
class PromiseBase : public aio::detail::CountedFrame {
public:
    /// Lazy: stop before the first statement; whoever awaits the Coro starts it.
    /// (Given, because the starter must compile and fail cleanly; read why it makes the
    /// coroutine lazy in the handout, step 1.)
    std::suspend_always initial_suspend() noexcept { return {}; }

    /// Where the body goes when it finishes. Suspending here (not running off the end)
    /// keeps the frame alive so the result can be read; the Coro frees it later.
    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> finished) noexcept {
            // Returning noop_coroutine() returns from whoever called resume(): right for
            // sync_wait (steps 1 and 2).
            // TODO(step 3): return the awaiter's handle (the continuation) instead, so the
            //               awaiting coroutine goes on (symmetric transfer).
            // TODO(step 4): unless the awaiter's await_suspend is still on the stack: then
            //               clear that flag and return noop_coroutine().
            (void)finished;
            return std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }

    /// TODO(step 2): keep the body's exception (std::current_exception()) for the awaiter.
    void unhandled_exception() {
        aiolab::todo("step 2: unhandled_exception stores the exception");
    }

    /// TODO(step 2): rethrow the stored exception, if any.
    void rethrow_if_failed() const {}

private:
    template <class>
    friend struct Awaiter;
    template <class>
    friend class lab::Coro;
    std::coroutine_handle<> continuation_ = std::noop_coroutine();  // who awaits this body
    bool awaiter_on_stack_ = false;  // step 4: Awaiter::await_suspend is running the body
    std::exception_ptr exception_;
};

template <class T>
class Promise final : public PromiseBase {
public:
    /// TODO(step 1): the Coro that owns this frame (std::coroutine_handle::from_promise).
    Coro<T> get_return_object() noexcept;

    /// TODO(step 1): store the co_returned value.
    template <class U = T>
        requires std::is_convertible_v<U &&, T>
    void return_value(U&& value) {
        (void)value;
        aiolab::todo("step 1: return_value stores the value");
    }
    /// The value co_returned, moved out; or the body's exception, rethrown (step 2).
    T take_result() {
        aiolab::todo("step 1: take_result returns the stored value");
    }

private:
    std::optional<T> value_;  // optional: T need not be default-constructible
};

template <>
class Promise<void> final : public PromiseBase {
public:
    Coro<void> get_return_object() noexcept;
    void return_void() noexcept {}
    /// Nothing to return; the body's exception, rethrown (step 2).
    void take_result() {
        // TODO(step 2): rethrow_if_failed().
    }
};

/// What `co_await coro` uses.
template <class T>
struct Awaiter {
    std::coroutine_handle<Promise<T>> body;

    bool await_ready() const noexcept { return false; }
    /// Returns whether the awaiting coroutine stays suspended.
    bool await_suspend(std::coroutine_handle<> awaiting) {
        // TODO(step 3): remember `awaiting` as the body's continuation, start the body
        //               (body.resume()) and return true: the awaiter stays suspended until
        //               the body's FinalAwaiter transfers back to it.
        // TODO(step 4): if the body finished inside that resume() call, return false
        //               instead (the awaiter goes on at once, with no extra stack frame).
        //               Tell FinalAwaiter that you are on the stack with awaiter_on_stack_.
        (void)awaiting;
        aiolab::todo("step 3: await_suspend starts the awaited body");
    }
    /// The body's result (its value, or its exception rethrown).
    T await_resume() { return body.promise().take_result(); }
};

}  // namespace detail

/// A lazily started coroutine returning T. Move-only; awaitable once.
template <class T>
class [[nodiscard]] Coro {
public:
    static_assert(!std::is_reference_v<T>, "Coro<T&> is not supported: return a pointer");
    using promise_type = detail::Promise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

    /// An empty Coro (owns no frame).
    Coro() noexcept = default;
    explicit Coro(handle_type frame) noexcept : frame_(frame) {}
    /// TODO(step 1): take the other Coro's frame; the other one is left empty.
    Coro(Coro&& other) {
        (void)other;
        aiolab::todo("step 1: the move constructor transfers the frame");
    }
    /// TODO(step 1): free this Coro's frame, then take the other's.
    Coro& operator=(Coro&& other) {
        (void)other;
        aiolab::todo("step 1: move assignment frees the old frame, takes the new one");
    }
    Coro(const Coro&) = delete;
    Coro& operator=(const Coro&) = delete;
    /// Destroys the frame, whatever state the body is in (its locals' destructors run).
    ~Coro() {
        // TODO(step 1): destroy the frame if this Coro owns one.
    }

    /// Runs the body inline in the awaiting coroutine; the await returns the co_returned
    /// value or rethrows the body's exception. Throws aio::RuntimeError if the Coro is
    /// empty or was already awaited.
    detail::Awaiter<T> operator co_await() && { return {start()}; }
    detail::Awaiter<T> operator co_await() & { return {start()}; }

    /// Whether this Coro owns a frame.
    explicit operator bool() const noexcept { return static_cast<bool>(frame_); }
    /// Whether the body ran to its end.
    bool done() const noexcept { return frame_ && frame_.done(); }

private:
    template <class U>
    friend U sync_wait(Coro<U> coro);

    /// The frame, to be started now. TODO(step 1): throw aio::RuntimeError if there is
    /// none (an empty Coro) or if it was started before (remember that in started_).
    handle_type start() { aiolab::todo("step 1: start hands out the frame, once"); }

    handle_type frame_;
    bool started_ = false;
};

/// Runs `coro` to its end on this thread, without any loop, and returns its value or
/// rethrows its exception. Throws aio::RuntimeError if the Coro is empty or already
/// started, or if the body suspended (it awaited something that needs a task: run such
/// a Coro inside an aio task instead).
template <class T>
T sync_wait(Coro<T> coro) {
    // TODO(step 1): start() the frame and resume it once (its continuation is
    //               noop_coroutine(), so the body's end returns here); if it is not done,
    //               throw aio::RuntimeError; else return its promise's take_result().
    (void)coro;
    aiolab::todo("step 1: sync_wait runs the body to its end");
}

namespace detail {
// get_return_object must not throw (an exception there would be thrown before the Coro
// exists to free the frame), so the starter returns an empty Coro, which frees nothing:
// the frame leaks until you write these two.
template <class T>
Coro<T> Promise<T>::get_return_object() noexcept {
    // TODO(step 1): return a Coro that owns this frame.
    return Coro<T>();
}
inline Coro<void> Promise<void>::get_return_object() noexcept {
    // TODO(step 1): return a Coro that owns this frame.
    return Coro<void>();
}
}  // namespace detail

}  // namespace lab
