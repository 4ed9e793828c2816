#pragma once
// aio::Callback: the move-only `void()` function object that the loop schedules.
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace aio {

/// A move-only callable `void()` with a small buffer, so that callbacks capturing up to
/// three pointers (the common case: a few references or a Ref) never allocate.
/// std::function would force copyable captures, std::move_only_function is C++23.
class Callback {
public:
    Callback() noexcept = default;
    Callback(std::nullptr_t) noexcept {}

    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, Callback> && std::is_invocable_v<F&>)
    Callback(F&& function) {  // NOLINT(google-explicit-constructor): used like std::function
        using Stored = std::decay_t<F>;
        if constexpr (fits_inline<Stored>) {
            ::new (static_cast<void*>(buffer_)) Stored(std::forward<F>(function));
            operations_ = &inline_operations<Stored>;
        } else {
            *reinterpret_cast<Stored**>(buffer_) = new Stored(std::forward<F>(function));
            operations_ = &heap_operations<Stored>;
        }
    }

    Callback(Callback&& other) noexcept : operations_(std::exchange(other.operations_, nullptr)) {
        if (operations_) operations_->move(buffer_, other.buffer_);
    }
    Callback& operator=(Callback&& other) noexcept {
        if (this != &other) {
            reset();
            operations_ = std::exchange(other.operations_, nullptr);
            if (operations_) operations_->move(buffer_, other.buffer_);
        }
        return *this;
    }
    ~Callback() { reset(); }

    void operator()() { operations_->invoke(buffer_); }
    explicit operator bool() const noexcept { return operations_ != nullptr; }
    void reset() noexcept {
        if (operations_) std::exchange(operations_, nullptr)->destroy(buffer_);
    }

private:
    static constexpr std::size_t buffer_size = 3 * sizeof(void*);

    struct Operations {
        void (*invoke)(void* storage);
        void (*move)(void* destination, void* source) noexcept;  // also destroys the source
        void (*destroy)(void* storage) noexcept;
    };

    template <class F>
    static constexpr bool fits_inline = sizeof(F) <= buffer_size &&
                                        alignof(F) <= alignof(std::max_align_t) &&
                                        std::is_nothrow_move_constructible_v<F>;

    template <class F>
    static constexpr Operations inline_operations{
        [](void* s) { (*std::launder(static_cast<F*>(s)))(); },
        [](void* d, void* s) noexcept {
            F* source = std::launder(static_cast<F*>(s));
            ::new (d) F(std::move(*source));
            source->~F();
        },
        [](void* s) noexcept { std::launder(static_cast<F*>(s))->~F(); },
    };

    template <class F>
    static constexpr Operations heap_operations{
        [](void* s) { (**static_cast<F**>(s))(); },
        [](void* d, void* s) noexcept { *static_cast<F**>(d) = *static_cast<F**>(s); },
        [](void* s) noexcept { delete *static_cast<F**>(s); },
    };

    alignas(std::max_align_t) unsigned char buffer_[buffer_size];
    const Operations* operations_ = nullptr;
};

}  // namespace aio
