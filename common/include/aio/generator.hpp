#pragma once
// aio::Generator<T>: a lazy sequence produced by a synchronous coroutine (Python's generator).
//
// The body runs only while the consumer asks for the next value: begin() runs it to its first
// co_yield, each ++ to the next one, and reaching the end of the body ends the sequence. It is
// synchronous: the body cannot co_await (that is AsyncGenerator's job), so there is no loop,
// no task and no suspension other than co_yield.
//
// Move-only: the Generator owns its frame and destroys it when it goes away, finished or not.
// Leaving a range-for early (break, return, exception) therefore runs the destructors of the
// body's locals at that moment, the C++ twin of Python closing an abandoned generator.
//
// A yielded value is not copied: the promise keeps a pointer to it, which stays valid while
// the body is suspended at that co_yield (a temporary lives to the end of the co_yield's full
// expression, which spans the suspension). `*it` is a reference to the yielded object, valid
// until the next ++. Only a const lvalue of a non-const T is copied (into the frame), because a
// T& cannot refer to it.
#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

#include "detail/frame_counter.hpp"

namespace aio {

template <class T>
class Generator;

namespace detail {

template <class T>
class GeneratorPromise final : public CountedFrame {
public:
    /// What `*it` returns: T& for a value type, T itself for a reference type.
    using reference = std::conditional_t<std::is_reference_v<T>, T, T&>;
    using pointer = std::add_pointer_t<reference>;

    Generator<T> get_return_object() noexcept;
    std::suspend_always initial_suspend() const noexcept { return {}; }
    // Suspended at the end, so the frame lives until the Generator destroys it and
    // frame.done() tells the iterator that the sequence is over.
    std::suspend_always final_suspend() const noexcept { return {}; }

    /// An lvalue of the right type (or any value for Generator<const U&>): point at it.
    std::suspend_always yield_value(reference value) noexcept {
        current_ = std::addressof(value);
        return {};
    }
    /// An rvalue: the temporary outlives the suspension, so pointing at it is safe.
    std::suspend_always yield_value(std::remove_reference_t<T>&& value) noexcept
        requires(!std::is_reference_v<T>)
    {
        current_ = std::addressof(value);
        return {};
    }

    /// A const lvalue for a Generator of non-const T: copied into the awaiter, which lives in
    /// the frame until the body resumes, because `*it` (a T&) must not modify a const object.
    struct CopyAwaiter {
        std::remove_cv_t<T> copy;
        GeneratorPromise* promise;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<>) noexcept { promise->current_ = std::addressof(copy); }
        void await_resume() const noexcept {}
    };
    template <class U = T>
        requires(!std::is_reference_v<U> && !std::is_const_v<U> && std::is_copy_constructible_v<U>)
    CopyAwaiter yield_value(const U& value) noexcept(std::is_nothrow_copy_constructible_v<U>) {
        return CopyAwaiter{value, this};
    }

    /// A synchronous generator cannot wait: awaiting inside its body is a compile error.
    template <class U>
    std::suspend_never await_transform(U&&) = delete;

    void return_void() const noexcept {}
    void unhandled_exception() noexcept { exception_ = std::current_exception(); }

    /// Runs the body to its next co_yield or its end; rethrows what the body threw.
    void advance(std::coroutine_handle<GeneratorPromise> frame) {
        frame.resume();
        // Thrown once: after it the frame is done, so the sequence is simply over.
        if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
    }
    reference current() const noexcept { return static_cast<reference>(*current_); }

private:
    pointer current_ = nullptr;
    std::exception_ptr exception_;
};

/// Generator<T>'s input iterator. Its end is std::default_sentinel.
template <class T>
class GeneratorIterator {
public:
    using promise_type = GeneratorPromise<T>;
    using iterator_category = std::input_iterator_tag;
    using iterator_concept = std::input_iterator_tag;
    using value_type = std::remove_cvref_t<T>;
    using difference_type = std::ptrdiff_t;
    using reference = typename promise_type::reference;
    using pointer = typename promise_type::pointer;

    GeneratorIterator() noexcept = default;
    explicit GeneratorIterator(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}

    /// The value the body yielded last; valid until the next increment.
    reference operator*() const noexcept { return frame_.promise().current(); }
    pointer operator->() const noexcept { return std::addressof(frame_.promise().current()); }

    /// Runs the body to its next co_yield. Rethrows an exception the body lets escape (the
    /// iterator then equals end()).
    GeneratorIterator& operator++() {
        frame_.promise().advance(frame_);
        return *this;
    }
    void operator++(int) { ++*this; }

    friend bool operator==(const GeneratorIterator& it, std::default_sentinel_t) noexcept {
        return !it.frame_ || it.frame_.done();
    }

private:
    std::coroutine_handle<promise_type> frame_;
};

}  // namespace detail

/// A synchronous, lazy sequence of T made by a coroutine that `co_yield`s its values.
///
///     aio::Generator<int> count_to(int n) { for (int i = 1; i <= n; ++i) co_yield i; }
///     for (int i : count_to(3)) ...  // 1, 2, 3
///
/// An input range: one pass, iterators compare with std::default_sentinel. An exception
/// thrown by the body comes out of begin() or ++ and ends the sequence. T may be a value
/// type (`*it` is a T& to the yielded object) or an lvalue reference type.
template <class T>
class [[nodiscard]] Generator {
public:
    static_assert(!std::is_rvalue_reference_v<T>, "Generator<T&&> is not supported: yield T");
    using promise_type = detail::GeneratorPromise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using iterator = detail::GeneratorIterator<T>;
    using value_type = std::remove_cvref_t<T>;
    using reference = typename promise_type::reference;

    /// An empty generator: begin() == end().
    Generator() noexcept = default;
    explicit Generator(handle_type frame) noexcept : frame_(frame) {}
    Generator(Generator&& other) noexcept
        : frame_(std::exchange(other.frame_, nullptr)), started_(std::exchange(other.started_, false)) {}
    Generator& operator=(Generator&& other) noexcept {
        if (this != &other) {
            destroy();
            frame_ = std::exchange(other.frame_, nullptr);
            started_ = std::exchange(other.started_, false);
        }
        return *this;
    }
    /// Destroys the frame: a body suspended at a co_yield runs its locals' destructors now.
    ~Generator() { destroy(); }

    /// Starts the body on the first call and runs it to its first co_yield; later calls
    /// return an iterator at the current position without running anything (as Python's
    /// iter(gen) is gen). Rethrows an exception the body lets escape before its first yield.
    iterator begin() {
        if (!frame_) return iterator{};
        if (!started_) {
            started_ = true;
            frame_.promise().advance(frame_);
        }
        return iterator{frame_};
    }
    std::default_sentinel_t end() const noexcept { return {}; }

    /// Whether this Generator owns a frame (false when default-made or moved from).
    explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

private:
    void destroy() noexcept {
        if (frame_) std::exchange(frame_, nullptr).destroy();
    }

    handle_type frame_;
    bool started_ = false;
};

namespace detail {
template <class T>
Generator<T> GeneratorPromise<T>::get_return_object() noexcept {
    return Generator<T>(std::coroutine_handle<GeneratorPromise>::from_promise(*this));
}
}  // namespace detail

}  // namespace aio
