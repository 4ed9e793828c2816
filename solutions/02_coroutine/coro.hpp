#pragma once
// lab::Coro<T>: a lazy coroutine that returns a T (or throws), awaitable from another
// coroutine, from an aio::Coro or from an aio task; and lab::sync_wait to run one without
// a loop.
//
// Lazy: calling a Coro function creates its frame and stops before the first statement;
// the body runs when the Coro is awaited (or sync_wait'ed). The Coro owns the frame and
// destroys it in its destructor on every path: finished, suspended, or never started.
//
// Awaiting a Coro runs its body inline, at once, in the awaiting coroutine's task. Two
// ways back to the awaiter:
//   * the body finished without ever suspending (the common case): the awaiter's
//     await_suspend is still on the stack, so it simply returns false and the awaiter
//     goes on without suspending. No frame is added to the stack, at any optimisation
//     level, so a loop of a million such awaits runs in constant stack.
//   * the body really suspended (it awaits an aio future, a sleep...) and was resumed later
//     by the task: when it finishes, its final awaiter transfers control straight to the
//     awaiter (symmetric transfer).
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <aio/detail/frame_counter.hpp>
#include <aio/errors.hpp>

namespace lab {

template <class T = void>
class Coro;

namespace detail {

/// The part of the promise that does not depend on T. CountedFrame gives the promise an
/// operator new/delete that count frames, so tests can check aio::live_coroutine_frames().
class PromiseBase : public aio::detail::CountedFrame {
public:
    /// Lazy: stop before the first statement; whoever awaits the Coro starts it.
    std::suspend_always initial_suspend() noexcept { return {}; }

    /// Where the body goes when it finishes: back to whoever awaited it. The frame stays
    /// (suspended at its end) so the awaiter can read the result; the Coro frees it.
    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> finished) noexcept {
            PromiseBase& promise = finished.promise();
            if (promise.awaiter_on_stack_) {
                // Finished without suspending: Awaiter::await_suspend is below us on the
                // stack. Return into it (noop_coroutine: plain return from resume()) and
                // let it continue the awaiter, rather than resuming the awaiter from here.
                promise.awaiter_on_stack_ = false;
                return std::noop_coroutine();
            }
            return promise.continuation_;  // symmetric transfer: no nested resume() call
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }

    /// Keeps the body's exception for the awaiter, which rethrows it from await_resume.
    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    void rethrow_if_failed() const {
        if (exception_) std::rethrow_exception(exception_);
    }

private:
    template <class>
    friend struct Awaiter;
    template <class>
    friend class lab::Coro;
    std::coroutine_handle<> continuation_ = std::noop_coroutine();  // who awaits this body
    bool awaiter_on_stack_ = false;  // Awaiter::await_suspend is running the body right now
    std::exception_ptr exception_;
};

template <class T>
class Promise final : public PromiseBase {
public:
    Coro<T> get_return_object() noexcept;

    template <class U = T>
        requires std::is_convertible_v<U &&, T>
    void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value_.emplace(std::forward<U>(value));
    }
    /// The value co_returned, moved out; or the body's exception, rethrown.
    T take_result() {
        rethrow_if_failed();
        return std::move(*value_);
    }

private:
    std::optional<T> value_;  // optional: T need not be default-constructible
};

template <>
class Promise<void> final : public PromiseBase {
public:
    Coro<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take_result() { rethrow_if_failed(); }
};

/// What `co_await coro` uses: starts the body inline and, if the body finishes at once,
/// carries on without suspending the awaiter.
template <class T>
struct Awaiter {
    std::coroutine_handle<Promise<T>> body;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) {
        PromiseBase& promise = body.promise();
        promise.continuation_ = awaiting;
        promise.awaiter_on_stack_ = true;
        body.resume();  // returns when the body finishes or first suspends
        if (!promise.awaiter_on_stack_) return false;  // finished: FinalAwaiter cleared it
        promise.awaiter_on_stack_ = false;  // suspended: its FinalAwaiter will resume us
        return true;
    }
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
    Coro(Coro&& other) noexcept
        : frame_(std::exchange(other.frame_, nullptr)), started_(std::exchange(other.started_, false)) {}
    Coro& operator=(Coro&& other) noexcept {
        if (this != &other) {
            destroy();
            frame_ = std::exchange(other.frame_, nullptr);
            started_ = std::exchange(other.started_, false);
        }
        return *this;
    }
    Coro(const Coro&) = delete;
    Coro& operator=(const Coro&) = delete;
    /// Destroys the frame, whatever state the body is in (its locals' destructors run).
    ~Coro() { destroy(); }

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

    handle_type start() {
        if (!frame_) throw aio::RuntimeError("cannot await an empty Coro (moved from?)");
        if (started_) throw aio::RuntimeError("cannot await a Coro twice");
        started_ = true;
        return frame_;
    }
    void destroy() noexcept {
        if (frame_) std::exchange(frame_, nullptr).destroy();
    }

    handle_type frame_;
    bool started_ = false;
};

/// Runs `coro` to its end on this thread, without any loop, and returns its value or
/// rethrows its exception. Throws aio::RuntimeError if the Coro is empty or already
/// started, or if the body suspended (it awaited something that needs a task: run such
/// a Coro inside an aio task instead).
template <class T>
T sync_wait(Coro<T> coro) {
    auto frame = coro.start();
    frame.resume();  // continuation_ is noop_coroutine: the body's end returns here
    if (!frame.done())
        throw aio::RuntimeError("sync_wait: the coroutine suspended; only a Coro that can "
                                "finish without a loop can be sync_wait'ed");
    return frame.promise().take_result();
}

namespace detail {
template <class T>
Coro<T> Promise<T>::get_return_object() noexcept {
    return Coro<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Coro<void> Promise<void>::get_return_object() noexcept {
    return Coro<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace lab
