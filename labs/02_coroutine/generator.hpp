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
#include <aiolab/todo.hpp>

namespace lab {

template <class T>
class [[nodiscard]] Generator {
public:
    using value_type = std::remove_cvref_t<T>;
    using reference = const value_type&;

    // CountedFrame counts frames for the leak tests: keep it as a base class.
    class promise_type : public aio::detail::CountedFrame {
    public:
        /// TODO(step 5): return the Generator that owns this frame. (It must not throw:
        /// the starter returns an empty Generator, so the frame leaks until you do.)
        Generator get_return_object() noexcept { return Generator(); }
        /// Lazy, and the frame is kept after the end: the Generator frees it.
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }

        /// TODO(step 5): remember where the yielded value is (it stays alive in the frame
        ///               while the body is suspended), and suspend.
        std::suspend_always yield_value(const value_type& value) {
            (void)value;
            aiolab::todo("step 5: yield_value keeps the value for the loop");
        }
        std::suspend_always yield_value(value_type&& value) {
            (void)value;
            aiolab::todo("step 5: yield_value keeps the value for the loop");
        }
        void return_void() noexcept {}
        /// TODO(step 5): keep the exception; the iterator rethrows it.
        void unhandled_exception() {
            aiolab::todo("step 5: unhandled_exception stores the exception");
        }

        /// A generator body has no task to suspend in: co_await is a compile error.
        template <class U>
        std::suspend_never await_transform(U&&) = delete;

        /// The last yielded value.
        reference value() const noexcept { return *current_; }
        /// TODO(step 5): rethrow the stored exception, if any.
        void rethrow_if_failed() const {}

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
        /// TODO(step 5): run the body to its next co_yield (or its end); rethrow its
        ///               exception if it ended by one.
        iterator& operator++() { aiolab::todo("step 5: ++ resumes the body"); }
        void operator++(int) { ++*this; }
        /// TODO(step 5): at the end when there is no frame or the body is done.
        friend bool operator==(const iterator& it, std::default_sentinel_t) {
            (void)it;
            aiolab::todo("step 5: the iterator is at the end once the body is done");
        }

    private:
        handle_type frame_;
    };

    Generator() noexcept = default;
    explicit Generator(handle_type frame) noexcept : frame_(frame) {}
    /// TODO(step 5): move the frame; the moved-from Generator is empty.
    Generator(Generator&& other) {
        (void)other;
        aiolab::todo("step 5: move constructor");
    }
    Generator& operator=(Generator&& other) {
        (void)other;
        aiolab::todo("step 5: move assignment");
    }
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;
    /// Destroys the frame wherever the body is: finished, suspended at a co_yield, or never
    /// started. The body's locals are destroyed; no more of the body runs.
    ~Generator() {
        // TODO(step 5): destroy the frame if this Generator owns one.
    }

    /// Runs the body to its first co_yield and returns an iterator on that value (or end()
    /// if it yielded nothing). Rethrows the body's exception. Call it once.
    iterator begin() { aiolab::todo("step 5: begin runs the body to its first co_yield"); }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    handle_type frame_;
};

}  // namespace lab
