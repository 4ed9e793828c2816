#pragma once
// What an event loop runs: intrusive Runnable nodes, and the Handle / TimerHandle that
// call_soon / call_later return (asyncio.Handle, asyncio.TimerHandle).
#include <cstdint>
#include <string>

#include "callback.hpp"
#include "detail/block_cache.hpp"
#include "detail/ref_counted.hpp"
#include "time.hpp"

namespace aio {

class EventLoop;

/// Something the loop can run once from its ready queue. It is intrusive: the object lives
/// elsewhere (in a task, a future, a handle) and the loop only stores a pointer, so
/// scheduling a task step allocates nothing.
///
/// Contract with the loop: after run() returns or throws, the loop calls
/// release_from_loop() and forgets the pointer; a loop that closes with the node still
/// queued calls release_from_loop() without run(). The node must stay alive until then.
class Runnable {
public:
    /// Does the work. An exception escaping here goes to the loop's exception handler.
    virtual void run() = 0;
    /// The loop is done with this node (ran it, or dropped it at close()).
    virtual void release_from_loop() noexcept {}
    /// A name for error reports and traces.
    virtual std::string describe() const { return "<runnable>"; }

protected:
    ~Runnable() = default;
};

namespace detail {

/// The node behind a Handle: a callback that can be cancelled before it runs.
class CallbackNode : public Runnable, public RefCounted {
public:
    explicit CallbackNode(Callback callback) : callback_(std::move(callback)) {}

    // Every call_soon/call_later allocates one node: from the thread's BlockCache.
    static void* operator new(std::size_t size) { return BlockCache::allocate(size); }
    static void operator delete(void* node, std::size_t size) noexcept { BlockCache::deallocate(node, size); }

    void run() override {
        if (cancelled_) return;
        Callback callback = std::move(callback_);  // runs once; frees captures promptly
        callback();
    }
    void release_from_loop() noexcept override { RefCounted::release(); }
    std::string describe() const override { return "<Handle>"; }

    virtual void cancel() noexcept {
        cancelled_ = true;
        callback_.reset();  // asyncio drops the callback and its arguments on cancel
    }
    bool cancelled() const noexcept { return cancelled_; }

private:
    Callback callback_;
    bool cancelled_ = false;
};

/// The node behind a TimerHandle. The loop keeps it in its timer heap until it is due or
/// until lazy clean-up drops it after cancel() (asyncio's rule: a cancelled timer is not
/// removed from the heap at once, only counted).
class TimerNode final : public CallbackNode {
public:
    TimerNode(EventLoop& loop, TimePoint when, Callback callback)
        : CallbackNode(std::move(callback)), loop_(&loop), when_(when) {}

    void cancel() noexcept override;
    TimePoint when() const noexcept { return when_; }
    std::string describe() const override { return "<TimerHandle>"; }

    /// Set by the loop while the node is in its heap: cancel() then tells the loop, which
    /// counts cancelled timers to decide when to rebuild the heap.
    bool scheduled = false;
    /// Set by the loop when the node enters its heap, for the loop's use: aio's loops order
    /// timers with equal deadlines by it (scheduling order). Kept here, not in the heap
    /// entry, so that an entry is 16 bytes and four of them fill one cache line.
    std::uint64_t sequence = 0;

private:
    EventLoop* loop_;
    TimePoint when_;
};

}  // namespace detail

/// A callback scheduled by call_soon(); cancel() before it runs and it never runs.
/// Copies refer to the same scheduled callback. A default-constructed Handle refers to none.
class Handle {
public:
    Handle() = default;
    explicit Handle(detail::Ref<detail::CallbackNode> node) : node_(std::move(node)) {}

    /// Cancels the callback if it has not run yet. Cancelling twice, or after it ran, does nothing.
    void cancel() noexcept {
        if (node_) node_->cancel();
    }
    bool cancelled() const noexcept { return node_ && node_->cancelled(); }
    explicit operator bool() const noexcept { return static_cast<bool>(node_); }

protected:
    detail::Ref<detail::CallbackNode> node_;
};

/// A callback scheduled by call_at() / call_later(), with its deadline.
class TimerHandle : public Handle {
public:
    TimerHandle() = default;
    explicit TimerHandle(detail::Ref<detail::TimerNode> node) : Handle(std::move(node)) {}
    /// The loop time at which the callback is due.
    TimePoint when() const noexcept { return static_cast<detail::TimerNode*>(node_.get())->when(); }
};

}  // namespace aio
