#pragma once
// lab::Generator<T>: a synchronous generator (Python's generator function), consumed with
// a range-for loop:
//
//     lab::Generator<int> count_to(int n) { for (int i = 1; i <= n; ++i) co_yield i; }
//     for (int i : count_to(3)) ...   // 1, 2, 3
//
// Lazy: the body runs only when the loop asks for the next value, up to the next co_yield.
// An exception thrown by the body comes out of the loop's begin() or ++. Leaving the loop
// early (break, return, an exception) destroys the Generator, which destroys the suspended
// frame: the body's locals are destroyed and nothing more of the body runs.
// A generator cannot co_await (there is no task to wait in): that is lab 07's async generator.
#include <coroutine>
#include <exception>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

#include <aio/detail/frame_counter.hpp>

namespace lab {

template <class T>
class [[nodiscard]] Generator {
public:
    using value_type = std::remove_cvref_t<T>;
    using reference = const value_type&;

    class promise_type : public aio::detail::CountedFrame {
    public:
        Generator get_return_object() noexcept {
            return Generator(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }

        /// Keeps a pointer to the yielded value rather than a copy: the value (a local, or
        /// a temporary of the co_yield expression) lives in the suspended frame until the
        /// consumer asks for the next one.
        std::suspend_always yield_value(const value_type& value) noexcept {
            current_ = std::addressof(value);
            return {};
        }
        std::suspend_always yield_value(value_type&& value) noexcept {
            current_ = std::addressof(value);
            return {};
        }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { exception_ = std::current_exception(); }

        /// A generator body has no task to suspend in: co_await is a compile error.
        template <class U>
        std::suspend_never await_transform(U&&) = delete;

        reference value() const noexcept { return *current_; }
        void rethrow_if_failed() const {
            if (exception_) std::rethrow_exception(exception_);
        }

    private:
        const value_type* current_ = nullptr;
        std::exception_ptr exception_;
    };

    using handle_type = std::coroutine_handle<promise_type>;

    /// An input iterator over the yielded values; equal to end() once the body finished.
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using difference_type = std::ptrdiff_t;
        using value_type = Generator::value_type;
        using reference = Generator::reference;
        using pointer = const value_type*;

        iterator() noexcept = default;
        explicit iterator(handle_type frame) noexcept : frame_(frame) {}

        /// The value of the last co_yield.
        reference operator*() const noexcept { return frame_.promise().value(); }
        pointer operator->() const noexcept { return std::addressof(**this); }
        /// Runs the body to its next co_yield (or its end); rethrows the body's exception.
        iterator& operator++() {
            advance(frame_);
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
            return !it.frame_ || it.frame_.done();
        }

    private:
        handle_type frame_;
    };

    Generator() noexcept = default;
    explicit Generator(handle_type frame) noexcept : frame_(frame) {}
    Generator(Generator&& other) noexcept : frame_(std::exchange(other.frame_, nullptr)) {}
    Generator& operator=(Generator&& other) noexcept {
        if (this != &other) {
            destroy();
            frame_ = std::exchange(other.frame_, nullptr);
        }
        return *this;
    }
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;
    /// Destroys the frame wherever the body is: finished, suspended at a co_yield, or never
    /// started. The body's locals are destroyed; no more of the body runs.
    ~Generator() { destroy(); }

    /// Runs the body to its first co_yield and returns an iterator on that value (or end()
    /// if it yielded nothing). Rethrows the body's exception. Call it once.
    iterator begin() {
        if (frame_) advance(frame_);
        return iterator(frame_);
    }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    static void advance(handle_type frame) {
        frame.resume();
        if (frame.done()) frame.promise().rethrow_if_failed();
    }
    void destroy() noexcept {
        if (frame_) std::exchange(frame_, nullptr).destroy();
    }

    handle_type frame_;
};

}  // namespace lab
