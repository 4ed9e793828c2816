#pragma once
// aio::Coro<T>: a lazily started coroutine that returns a T (Python's coroutine object).
//
// Lazy: calling a Coro function only creates its frame; the body starts when the Coro is
// awaited or wrapped in a task. Compare Task, which runs on its own once created.
// Move-only: the Coro owns its frame and destroys it when it goes away, whether the body
// finished, was suspended, or never started, so a frame is never leaked.
//
// Awaiting a Coro runs its body inline in the awaiting task, with no trip through the loop.
// A body that finishes without suspending hands control straight back to the awaiter
// through await_suspend returning false, so a loop awaiting a million such coroutines uses
// constant stack at any optimisation level. Only a body that really suspended resumes its
// awaiter by symmetric transfer; GCC at -O0 turns that into a nested call instead of a tail
// call, but such nesting is bounded by the depth of the await chain, never by a loop count.
#include <coroutine>
#include <exception>
#include <optional>
#include <source_location>
#include <type_traits>
#include <utility>

#include "detail/block_cache.hpp"
#include "detail/debug_origin.hpp"
#include "detail/frame_counter.hpp"
#include "errors.hpp"

namespace aio {

template <class T = void>
class Coro;

namespace detail {

class CoroPromiseBase : public CountedFrame {
public:
    // Frames come from the thread's BlockCache (a task's frames are allocated and freed
    // with every task), and are still counted as CountedFrame counts them.
    static void* operator new(std::size_t size) {
        void* frame = BlockCache::allocate(size);
        live_frames.fetch_add(1, std::memory_order_relaxed);
        return frame;
    }
    static void operator delete(void* frame, std::size_t size) noexcept {
        live_frames.fetch_sub(1, std::memory_order_relaxed);
        BlockCache::deallocate(frame, size);
    }

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> finished) noexcept {
            CoroPromiseBase& promise = finished.promise();
            if (promise.awaiter_on_stack_) {
                // Finished synchronously: return into the awaiter's await_suspend, which
                // sees the flag cleared and continues without suspending.
                promise.awaiter_on_stack_ = false;
                return std::noop_coroutine();
            }
            return promise.continuation_;
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }

    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    const std::exception_ptr& exception() const noexcept { return exception_; }
    void rethrow_if_failed() const {
        if (exception_) std::rethrow_exception(exception_);
    }

    /// Where the coroutine comes from, if a debug loop ran on this thread when the frame
    /// was created (detail/debug_origin.hpp); 0 otherwise.
    OriginId origin() const noexcept { return origin_; }

protected:
    void remember_origin(const std::source_location& where) noexcept {
        if (track_coroutine_origins) [[unlikely]]
            origin_ = remember_coroutine_origin(where);
    }

private:
    template <class>
    friend struct CoroAwaiter;
    std::coroutine_handle<> continuation_ = std::noop_coroutine();
    bool awaiter_on_stack_ = false;  // an awaiter's await_suspend is running the body
    OriginId origin_ = 0;            // in the padding after the bool: frames grow by nothing
    std::exception_ptr exception_;
};

// The promise constructors take std::source_location::current() as a default argument: it
// is evaluated where the compiler constructs the promise, inside the coroutine function,
// so it names that function (debug mode's origin of the frame; see debug_origin.hpp).

template <class T>
class CoroPromise final : public CoroPromiseBase {
public:
    explicit CoroPromise(std::source_location where = std::source_location::current()) noexcept {
        remember_origin(where);
    }
    Coro<T> get_return_object() noexcept;
    template <class U = T>
        requires std::is_convertible_v<U &&, T>
    void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value_.emplace(std::forward<U>(value));
    }
    /// The returned value, moved out; rethrows the body's exception.
    T take_result() {
        rethrow_if_failed();
        return std::move(*value_);
    }

private:
    std::optional<T> value_;
};

template <>
class CoroPromise<void> final : public CoroPromiseBase {
public:
    explicit CoroPromise(std::source_location where = std::source_location::current()) noexcept {
        remember_origin(where);
    }
    Coro<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take_result() { rethrow_if_failed(); }
};

template <class T>
struct CoroAwaiter {
    std::coroutine_handle<CoroPromise<T>> body;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) {
        CoroPromiseBase& promise = body.promise();
        promise.continuation_ = awaiting;
        promise.awaiter_on_stack_ = true;
        body.resume();
        if (!promise.awaiter_on_stack_) return false;  // finished inline: do not suspend
        promise.awaiter_on_stack_ = false;             // it suspended: it will resume us
        return true;
    }
    T await_resume() { return body.promise().take_result(); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Coro {
public:
    static_assert(!std::is_reference_v<T>, "Coro<T&> is not supported: return a pointer");
    using promise_type = detail::CoroPromise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

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
    ~Coro() { destroy(); }

    /// Runs the body in the awaiting task; returns its value or rethrows its exception.
    /// A Coro can be awaited once. Throws RuntimeError if it is empty or already started.
    detail::CoroAwaiter<T> operator co_await() && { return make_awaiter(); }
    detail::CoroAwaiter<T> operator co_await() & { return make_awaiter(); }

    /// Whether this Coro owns a frame.
    explicit operator bool() const noexcept { return static_cast<bool>(frame_); }
    /// Whether the body has run to its end.
    bool done() const noexcept { return frame_ && frame_.done(); }
    /// Gives up ownership of the frame (the caller must destroy it).
    handle_type release() noexcept { return std::exchange(frame_, nullptr); }

private:
    detail::CoroAwaiter<T> make_awaiter() {
        if (!frame_) throw RuntimeError("cannot await an empty Coro (moved from?)");
        if (started_) throw RuntimeError("cannot await a Coro twice");
        started_ = true;
        return {frame_};
    }
    void destroy() noexcept {
        if (!frame_) return;
        // Debug mode: a frame with an origin that never started is a coroutine nobody
        // awaited (create_task takes the frame with release(), so tasks never get here).
        if (frame_.promise().origin() != 0 && !started_) [[unlikely]]
            detail::report_never_awaited(frame_.promise().origin());
        std::exchange(frame_, nullptr).destroy();
    }

    handle_type frame_;
    bool started_ = false;
};

namespace detail {
template <class T>
Coro<T> CoroPromise<T>::get_return_object() noexcept {
    return Coro<T>(std::coroutine_handle<CoroPromise<T>>::from_promise(*this));
}
inline Coro<void> CoroPromise<void>::get_return_object() noexcept {
    return Coro<void>(std::coroutine_handle<CoroPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace aio
