#pragma once
// A FIFO ring buffer that grows by doubling: the loop's ready queue.
#include <cstddef>
#include <memory>
#include <utility>

namespace aio::detail {

/// Like std::deque for trivially copyable T, but one contiguous block that is reused, so a
/// steady stream of push/pop never allocates.
template <class T>
class RingQueue {
public:
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }

    void push_back(T value) {
        if (size_ == capacity_) grow();
        items_[(head_ + size_) & (capacity_ - 1)] = value;
        ++size_;
    }
    T pop_front() noexcept {
        T value = items_[head_];
        head_ = (head_ + 1) & (capacity_ - 1);
        --size_;
        return value;
    }

private:
    void grow() {
        std::size_t capacity = capacity_ ? capacity_ * 2 : 64;
        auto items = std::make_unique<T[]>(capacity);
        for (std::size_t i = 0; i < size_; ++i) items[i] = items_[(head_ + i) & (capacity_ - 1)];
        items_ = std::move(items);
        capacity_ = capacity;
        head_ = 0;
    }

    std::unique_ptr<T[]> items_;
    std::size_t capacity_ = 0;  // a power of two
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

}  // namespace aio::detail
