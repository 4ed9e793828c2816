#pragma once
// lab::AsyncGenerator<T>: a coroutine that both awaits and yields (Python's async generator;
// lab 07).
//
//     lab::AsyncGenerator<int> ticks(int n) {
//         for (int i = 1; i <= n; ++i) { co_await aio::sleep(1.0); co_yield i; }
//     }
//     ... inside an aio task:
//     auto gen = ticks(3);
//     while (auto value = co_await gen.next()) use(*value);    // std::optional<int>
//
// Lazy: calling the generator function only makes the frame. Each `co_await gen.next()` runs
// the body, inline in the consumer's task, until its next co_yield (a value), its end
// (std::nullopt) or an exception (rethrown to the consumer, once). The body may co_await
// whatever an aio task can await; the whole task then waits, and a cancellation of the task
// is raised at the body's await point, like anywhere else in the task.
//
// Two ways to end a step, one rule: next() resumes the body with a plain call. If the body
// yields (or ends) before it ever suspends, that call simply returns and the consumer goes
// on without suspending: a million synchronous values use constant stack, optimised or not.
// If the body suspends on an await first, the consumer suspends too, and the body's co_yield
// later resumes it by symmetric transfer.
//
// Cleanup: destroying the AsyncGenerator destroys the frame, so a consumer that stops early
// (break, return, an exception) runs the body's destructors at once. aclose() (Python's
// aclose) instead throws aio::GeneratorExit at the body's co_yield, so that it can await its
// cleanup before it ends.
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aio/async_generator.hpp"  // aio::GeneratorExit, the error aclose() throws in
#include "aio/detail/frame_counter.hpp"
#include "aio/errors.hpp"

namespace lab {

template <class T>
class AsyncGenerator;

namespace detail {

/// The untyped part of the promise: who is waiting for the current step, and how it ended.
class AsyncGeneratorPromiseBase : public aio::detail::CountedFrame {
public:
    /// Lazy: the body starts at the first next().
    std::suspend_always initial_suspend() const noexcept { return {}; }

    /// Where a step of the body ends at a co_yield.
    struct YieldAwaiter {
        AsyncGeneratorPromiseBase* promise;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<>) const noexcept {
            return promise->end_step();
        }
        /// Resumed by the next step: by next(), nothing to do; by aclose(), GeneratorExit.
        void await_resume() const {
            if (promise->closing_) throw aio::GeneratorExit();
        }
    };
    /// Where the last step ends: the body returned or threw. Never resumed.
    struct FinalAwaiter {
        AsyncGeneratorPromiseBase* promise;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<>) const noexcept {
            return promise->end_step();
        }
        void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {this}; }
    void return_void() const noexcept {}
    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    /// Runs the body on behalf of `consumer` until the step ends or the body suspends on an
    /// await. Returns whether the consumer must suspend: only in the second case, and then
    /// the end of the step resumes it.
    bool start_step(std::coroutine_handle<> body, std::coroutine_handle<> consumer) {
        consumer_ = consumer;
        consumer_suspended_ = false;
        running_ = true;
        started_ = true;
        body.resume();  // never throws: unhandled_exception() keeps what the body throws
        if (!running_) return false;  // yielded or ended inline: the consumer goes on now
        consumer_suspended_ = true;   // the body waits on something; end_step() resumes us
        return true;
    }

    /// From the start of a next()/aclose() step to the co_yield or end that ends it.
    bool running() const noexcept { return running_; }
    bool started() const noexcept { return started_; }
    bool closing() const noexcept { return closing_; }
    void set_closing() noexcept { closing_ = true; }

    /// Rethrows the body's exception the first time; afterwards the generator is exhausted.
    void rethrow_once() {
        if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
    }
    /// For aclose(): the GeneratorExit it threw in is the normal way out; others are rethrown.
    void rethrow_unless_generator_exit() {
        if (!exception_) return;
        try {
            std::rethrow_exception(std::exchange(exception_, nullptr));
        } catch (const aio::GeneratorExit&) {
        }
    }

private:
    /// Where control goes when a step ends: back into start_step()'s resume() call if the
    /// consumer never suspended (a plain return: no stack grows), else to the suspended
    /// consumer by symmetric transfer.
    std::coroutine_handle<> end_step() noexcept {
        running_ = false;
        if (consumer_suspended_) return consumer_;
        return std::noop_coroutine();
    }

    std::coroutine_handle<> consumer_;   // the coroutine awaiting the current step
    std::exception_ptr exception_;       // what the body threw, until the consumer gets it
    bool consumer_suspended_ = false;    // the consumer suspended in this step
    bool running_ = false;
    bool started_ = false;
    bool closing_ = false;               // aclose() was called: co_yield throws GeneratorExit
};

template <class T>
class AsyncGeneratorPromise final : public AsyncGeneratorPromiseBase {
public:
    AsyncGenerator<T> get_return_object() noexcept;

    /// `co_yield value`: the value waits here until the consumer takes it. An lvalue is
    /// copied (the body keeps its object), an rvalue is moved.
    YieldAwaiter yield_value(const T& value)
        requires std::is_copy_constructible_v<T>
    {
        current_.emplace(value);
        return {this};
    }
    YieldAwaiter yield_value(T&& value) {
        current_.emplace(std::move(value));
        return {this};
    }

    /// The value of the co_yield the body is suspended at, moved out.
    std::optional<T> take_value() {
        std::optional<T> value = std::move(current_);
        current_.reset();
        return value;
    }

private:
    std::optional<T> current_;
};

/// What `co_await gen.next()` uses (asyncio's __anext__).
template <class T>
struct NextAwaiter {
    std::coroutine_handle<AsyncGeneratorPromise<T>> body;

    /// A finished or closed generator has nothing to run: next() is std::nullopt (or the
    /// body's exception, once).
    bool await_ready() const noexcept { return body.done() || body.promise().closing(); }
    bool await_suspend(std::coroutine_handle<> consumer) { return body.promise().start_step(body, consumer); }
    std::optional<T> await_resume() {
        AsyncGeneratorPromise<T>& promise = body.promise();
        if (!body.done() && !promise.closing()) return promise.take_value();
        promise.rethrow_once();
        return std::nullopt;
    }
};

/// What `co_await gen.aclose()` uses.
template <class T>
struct CloseAwaiter {
    std::coroutine_handle<AsyncGeneratorPromise<T>> body;  // null: nothing to run

    bool await_ready() const noexcept { return !body; }
    bool await_suspend(std::coroutine_handle<> consumer) { return body.promise().start_step(body, consumer); }
    void await_resume() {
        if (!body) return;
        if (!body.done()) throw aio::RuntimeError("async generator ignored GeneratorExit");
        body.promise().rethrow_unless_generator_exit();
    }
};

}  // namespace detail

/// An asynchronous generator of T values (Python's async generator object).
///
/// Move-only; it owns the frame and destroys it with itself. Values come out as
/// std::optional<T> (T must be a non-const object type: yield pointers to share objects).
/// Preconditions: one step at a time (a second next() while one is in flight throws
/// aio::RuntimeError, as Python's does), and the generator is not destroyed while a step is
/// in flight in another task (the body's pending await would dangle).
template <class T>
class [[nodiscard]] AsyncGenerator {
public:
    static_assert(std::is_object_v<T> && !std::is_const_v<T>,
                  "AsyncGenerator<T>: T must be a non-const object type");
    using promise_type = detail::AsyncGeneratorPromise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

    /// An empty generator: next() throws aio::RuntimeError, aclose() does nothing.
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

    /// Awaitable: runs the body to its next co_yield and returns that value; std::nullopt once
    /// the body has ended or the generator was closed. An exception the body lets escape,
    /// CancelledError included, is rethrown here once; the generator is exhausted after it.
    /// Throws aio::RuntimeError if the generator is empty or a step is already in flight.
    detail::NextAwaiter<T> next() {
        if (!frame_) throw aio::RuntimeError("cannot iterate an empty AsyncGenerator (moved from?)");
        if (frame_.promise().running())
            throw aio::RuntimeError("anext(): asynchronous generator is already running");
        return {frame_};
    }

    /// Awaitable: closes the generator (Python's aclose). A body suspended at a co_yield gets
    /// aio::GeneratorExit there and runs to its end, awaiting its cleanup if it wants; the
    /// await then returns, or rethrows another exception the body raised, or throws
    /// aio::RuntimeError if the body yielded again. A body that never started never runs;
    /// closing a finished or closed generator does nothing. Afterwards next() returns
    /// std::nullopt. Throws aio::RuntimeError if a step is in flight.
    detail::CloseAwaiter<T> aclose() {
        if (!frame_) return {nullptr};
        promise_type& promise = frame_.promise();
        if (promise.running()) throw aio::RuntimeError("aclose(): asynchronous generator is already running");
        const bool must_resume = promise.started() && !frame_.done() && !promise.closing();
        promise.set_closing();
        return {must_resume ? frame_ : nullptr};
    }

    /// Whether this AsyncGenerator owns a frame (false when empty or moved from).
    explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

private:
    void destroy() noexcept {
        frame_ = nullptr;  // MUTANT: the frame is forgotten, never destroyed
    }

    handle_type frame_;
};

namespace detail {
template <class T>
AsyncGenerator<T> AsyncGeneratorPromise<T>::get_return_object() noexcept {
    return AsyncGenerator<T>(std::coroutine_handle<AsyncGeneratorPromise>::from_promise(*this));
}
}  // namespace detail

}  // namespace lab
