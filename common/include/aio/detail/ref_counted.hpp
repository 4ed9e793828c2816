#pragma once
// Intrusive reference counting for aio's loop-thread objects (futures, tasks, handles).
#include <cstdint>
#include <utility>

namespace aio::detail {

/// Base of every intrusively counted object. The count is a plain integer, not an atomic:
/// like asyncio's objects, these live on their loop's thread and are never shared across
/// threads (call_soon_threadsafe moves a callback, never a counted reference, between threads).
class RefCounted {
public:
    void add_ref() const noexcept { ++references_; }
    void release() const noexcept {
        if (--references_ == 0) delete this;
    }
    std::uint32_t use_count() const noexcept { return references_; }

protected:
    RefCounted() = default;
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;
    virtual ~RefCounted() = default;

private:
    mutable std::uint32_t references_ = 0;
};

/// An owning pointer to a RefCounted object (a minimal boost::intrusive_ptr).
template <class T>
class Ref {
public:
    Ref() noexcept = default;
    explicit Ref(T* object) noexcept : object_(object) {
        if (object_) object_->add_ref();
    }
    Ref(const Ref& other) noexcept : Ref(other.object_) {}
    Ref(Ref&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
    template <class U>
    Ref(const Ref<U>& other) noexcept : Ref(other.get()) {}
    Ref& operator=(Ref other) noexcept {
        std::swap(object_, other.object_);
        return *this;
    }
    ~Ref() {
        if (object_) object_->release();
    }

    T* get() const noexcept { return object_; }
    T* operator->() const noexcept { return object_; }
    T& operator*() const noexcept { return *object_; }
    explicit operator bool() const noexcept { return object_ != nullptr; }
    void reset() noexcept { Ref().swap(*this); }
    void swap(Ref& other) noexcept { std::swap(object_, other.object_); }
    friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.object_ == b.object_; }

private:
    T* object_ = nullptr;
};

template <class T, class... Args>
Ref<T> make_ref(Args&&... args) {
    return Ref<T>(new T(std::forward<Args>(args)...));
}

}  // namespace aio::detail
