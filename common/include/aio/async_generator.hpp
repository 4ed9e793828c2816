#pragma once
// aio::AsyncGenerator<T>: a coroutine that both awaits and yields (Python's async generator).
//
// The body may `co_await` anything an aio task can await (futures, tasks, sleep, Coro, another
// generator's next()) and `co_yield` values. The consumer pulls them one at a time:
//
//     while (auto value = co_await numbers.next()) use(*value);   // std::optional<T>
//
// Like Coro, the body runs inline in the consumer's task, with no trip through the loop: when
// it awaits a future, the whole task waits on that future, and when the task is cancelled,
// CancelledError is raised at the body's await point and, unless the body catches it, comes
// out of the consumer's `co_await next()`. A value produced without suspending is handed over
// by returning into the consumer's await_suspend (it then does not suspend at all), so a
// million synchronously produced values use constant stack at any optimisation level and cost
// a few nanoseconds each; only a value produced after a real suspension resumes the consumer
// by symmetric transfer. No allocation per value: the frame is allocated once.
//
// Cleanup model. Destroying an AsyncGenerator destroys its frame at once: a body suspended at a
// co_yield runs its locals' destructors there (so leaving a consumer loop early with break,
// return or an exception finalizes the generator deterministically), but it cannot await
// anything on the way out. A body that needs asynchronous cleanup gets it through
// `co_await gen.aclose()`, asyncio's aclose(): GeneratorExit is thrown at the suspended
// co_yield, the body may catch it, await its cleanup after the catch block (C++ forbids
// co_await inside a handler), and then return or rethrow.
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "detail/frame_counter.hpp"
#include "errors.hpp"

namespace aio {

/// Thrown into an async generator at its co_yield by aclose() (Python's GeneratorExit).
/// Like CancelledError it is not an aio::Error, so `catch (const aio::Error&)` in a
/// generator body does not swallow it. A body that catches it must not yield again.
class GeneratorExit : public std::exception {
public:
    const char* what() const noexcept override { return "GeneratorExit"; }
};

template <class T>
class AsyncGenerator;

namespace detail {

class AsyncGeneratorPromiseBase : public CountedFrame {
public:
    std::suspend_always initial_suspend() const noexcept { return {}; }

    /// Suspends the body at a co_yield; resumed by the next next() or by aclose().
    struct YieldAwaiter {
        AsyncGeneratorPromiseBase* promise;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<>) const noexcept {
            return promise->hand_back();
        }
        void await_resume() const {
            if (promise->closing_) throw GeneratorExit();
        }
    };

    /// Suspends the finished body for good; the AsyncGenerator destroys the frame.
    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> finished) const noexcept {
            return finished.promise().hand_back();
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() const noexcept { return {}; }

    void return_void() const noexcept {}
    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    /// Runs the body until it yields, returns, throws or really suspends, on behalf of
    /// `consumer`. Returns whether the consumer must suspend: only when the body suspended on
    /// an await, because then its next co_yield resumes the consumer by symmetric transfer.
    bool run_step(std::coroutine_handle<> body, std::coroutine_handle<> consumer) {
        consumer_ = consumer;
        running_ = true;
        awaiter_on_stack_ = true;
        body.resume();  // never throws: unhandled_exception() catches what the body throws
        if (!awaiter_on_stack_) return false;  // yielded or finished inline: do not suspend
        awaiter_on_stack_ = false;             // it suspended: its co_yield will resume us
        return true;
    }

    /// True between the start of a next()/aclose() step and the co_yield or end that ends it.
    bool running() const noexcept { return running_; }
    /// Whether the body ever ran (a step was started).
    bool started() const noexcept { return static_cast<bool>(consumer_); }
    bool closing() const noexcept { return closing_; }
    void set_closing() noexcept { closing_ = true; }

    /// Rethrows the body's exception, once: afterwards the generator is simply exhausted.
    void rethrow_once() {
        if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
    }
    /// aclose()'s ending: the GeneratorExit it threw in is the expected way out.
    void rethrow_unless_generator_exit() {
        if (!exception_) return;
        try {
            std::rethrow_exception(std::exchange(exception_, nullptr));
        } catch (const GeneratorExit&) {
        }
    }

private:
    /// Where control goes when the step ends: back into run_step() if it is still on the
    /// stack (the body never suspended), else to the consumer by symmetric transfer.
    std::coroutine_handle<> hand_back() noexcept {
        running_ = false;
        if (awaiter_on_stack_) {
            awaiter_on_stack_ = false;
            return std::noop_coroutine();
        }
        return consumer_;
    }

    std::coroutine_handle<> consumer_;  // the coroutine awaiting the current step
    std::exception_ptr exception_;
    bool awaiter_on_stack_ = false;     // run_step() is running the body
    bool running_ = false;
    bool closing_ = false;              // aclose() was called: co_yield throws GeneratorExit
};

template <class T>
class AsyncGeneratorPromise final : public AsyncGeneratorPromiseBase {
public:
    AsyncGenerator<T> get_return_object() noexcept;

    /// An rvalue (or a value converted to a temporary T): the consumer moves it out.
    YieldAwaiter yield_value(T&& value) noexcept {
        movable_value_ = std::addressof(value);
        copied_value_ = nullptr;
        return {this};
    }
    /// An lvalue: the consumer gets a copy, the body's object is left as it was.
    YieldAwaiter yield_value(const T& value) noexcept
        requires std::is_copy_constructible_v<T>
    {
        copied_value_ = std::addressof(value);
        movable_value_ = nullptr;
        return {this};
    }

    /// The value of the co_yield the body is suspended at. Both pointers stay valid until
    /// the body resumes: they point at the body's object or at a temporary that lives to the
    /// end of the co_yield's full expression.
    std::optional<T> take_value() {
        if (movable_value_) return std::optional<T>(std::move(*movable_value_));
        if constexpr (std::is_copy_constructible_v<T>) return std::optional<T>(*copied_value_);
        return std::nullopt;  // unreachable: a move-only T can only be yielded as an rvalue
    }

private:
    T* movable_value_ = nullptr;
    const T* copied_value_ = nullptr;
};

/// What `co_await gen.next()` uses.
template <class T>
struct AsyncGeneratorNextAwaiter {
    std::coroutine_handle<AsyncGeneratorPromise<T>> body;

    bool await_ready() const noexcept { return body.done() || body.promise().closing(); }
    bool await_suspend(std::coroutine_handle<> consumer) { return body.promise().run_step(body, consumer); }
    std::optional<T> await_resume() {
        AsyncGeneratorPromise<T>& promise = body.promise();
        if (!body.done() && !promise.closing()) [[likely]]
            return promise.take_value();
        promise.rethrow_once();
        return std::nullopt;
    }
};

/// What `co_await gen.aclose()` uses.
template <class T>
struct AsyncGeneratorCloseAwaiter {
    std::coroutine_handle<AsyncGeneratorPromise<T>> body;  // null: nothing to run

    bool await_ready() const noexcept { return !body; }
    bool await_suspend(std::coroutine_handle<> consumer) { return body.promise().run_step(body, consumer); }
    void await_resume() {
        if (!body) return;
        if (!body.done()) throw RuntimeError("async generator ignored GeneratorExit");
        body.promise().rethrow_unless_generator_exit();
    }
};

}  // namespace detail

/// An asynchronous generator of T values (Python's async generator object).
///
/// Lazy and move-only: calling the generator function only creates the frame; the body runs
/// during the consumer's `co_await next()`, inline in the consumer's task. The frame is
/// destroyed with the AsyncGenerator (see the cleanup model above). T must be an object type:
/// values are handed out as std::optional<T>; yield pointers to share objects instead.
///
/// Preconditions: one step at a time (a second next() while one is in flight throws
/// RuntimeError, as Python's does), and the AsyncGenerator is not destroyed by another task
/// while a step is in flight (the body's pending await would dangle).
template <class T>
class [[nodiscard]] AsyncGenerator {
public:
    static_assert(std::is_object_v<T> && !std::is_const_v<T>,
                  "AsyncGenerator<T>: T must be a non-const object type (yield pointers to share objects)");
    using promise_type = detail::AsyncGeneratorPromise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

    /// An empty generator: next() throws RuntimeError, aclose() does nothing.
    AsyncGenerator() noexcept = default;
    explicit AsyncGenerator(handle_type frame) noexcept : frame_(frame) {}
    AsyncGenerator(AsyncGenerator&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
    AsyncGenerator& operator=(AsyncGenerator&& other) noexcept {
        if (this != &other) {
            destroy();
            frame_ = std::exchange(other.frame_, nullptr);
        }
        return *this;
    }
    /// Destroys the frame: a body suspended at a co_yield runs its locals' destructors now.
    ~AsyncGenerator() { destroy(); }

    /// Awaitable (asyncio's __anext__): runs the body to its next co_yield and returns the
    /// value (a copy of a yielded lvalue, or the yielded rvalue moved out); std::nullopt once
    /// the body has returned or the generator was closed. An exception the body lets escape,
    /// CancelledError included, is rethrown here once; after it the generator is exhausted.
    /// Throws RuntimeError if the generator is empty or a step is already in flight.
    detail::AsyncGeneratorNextAwaiter<T> next() {
        if (!frame_) throw RuntimeError("cannot iterate an empty AsyncGenerator (moved from?)");
        if (frame_.promise().running())
            throw RuntimeError("anext(): asynchronous generator is already running");
        return {frame_};
    }

    /// Awaitable (asyncio's aclose): closes the generator. A body suspended at a co_yield gets
    /// GeneratorExit thrown there and runs to its end, awaiting its cleanup if it wants; the
    /// await then completes normally, or rethrows another exception the body raised, or throws
    /// RuntimeError if the body yielded again. A body that never started never runs; closing
    /// a finished or closed generator does nothing. Afterwards next() returns std::nullopt.
    /// Throws RuntimeError if a step is in flight.
    detail::AsyncGeneratorCloseAwaiter<T> aclose() {
        if (!frame_) return {nullptr};
        promise_type& promise = frame_.promise();
        if (promise.running()) throw RuntimeError("aclose(): asynchronous generator is already running");
        const bool must_resume = promise.started() && !frame_.done() && !promise.closing();
        promise.set_closing();
        return {must_resume ? frame_ : nullptr};
    }

    /// Whether this AsyncGenerator owns a frame (false when default-made or moved from).
    explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

private:
    void destroy() noexcept {
        if (frame_) std::exchange(frame_, nullptr).destroy();
    }

    handle_type frame_;
};

namespace detail {
template <class T>
AsyncGenerator<T> AsyncGeneratorPromise<T>::get_return_object() noexcept {
    return AsyncGenerator<T>(std::coroutine_handle<AsyncGeneratorPromise>::from_promise(*this));
}
}  // namespace detail

}  // namespace aio
