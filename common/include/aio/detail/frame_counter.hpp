#pragma once
// Counts live coroutine frames so tests can prove that no frame is ever leaked.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace aio::detail {

/// Frames allocated by aio's promise types and not yet freed, across all threads.
/// Relaxed ordering is enough: the count is only read by tests after the work is joined.
inline std::atomic<std::int64_t> live_frames{0};

/// Mixed into every aio promise type: its operator new/delete count the frame.
struct CountedFrame {
    static void* operator new(std::size_t size) {
        void* frame = ::operator new(size);
        live_frames.fetch_add(1, std::memory_order_relaxed);
        return frame;
    }
    static void operator delete(void* frame, std::size_t) noexcept {
        live_frames.fetch_sub(1, std::memory_order_relaxed);
        ::operator delete(frame);  // unsized: clang declares the sized form only with -fsized-deallocation
    }
};

}  // namespace aio::detail

namespace aio {
/// The number of aio coroutine frames alive right now (Coro, Generator, AsyncGenerator).
inline std::int64_t live_coroutine_frames() noexcept {
    return detail::live_frames.load(std::memory_order_relaxed);
}
}  // namespace aio
