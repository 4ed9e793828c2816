#include "aio/wait.hpp"

namespace aio::detail {

void check_wait_arguments(std::size_t count, ReturnWhen return_when) {
    if (count == 0) throw ValueError("Set of Tasks/Futures is empty.");
    if (return_when != FIRST_COMPLETED && return_when != FIRST_EXCEPTION && return_when != ALL_COMPLETED)
        throw ValueError("Invalid return_when value: " + std::to_string(static_cast<int>(return_when)));
}

// --- wait ------------------------------------------------------------------------------------

WaitCore::WaitCore(EventLoop& loop, std::size_t count, ReturnWhen return_when)
    : FanIn(static_cast<const RefCounted&>(*this)),
      waiter_(loop),
      nodes_(std::make_unique<ChildCallback[]>(count)),
      remaining_(count),
      return_when_(return_when) {
    set_nodes(nodes_.get());
}

WaitCore::~WaitCore() { timeout_handle_.cancel(); }

void WaitCore::start_timer(Duration timeout) {
    // `this` is safe in the callback: the destructor cancels the timer.
    timeout_handle_ = waiter_.get_loop().call_later(timeout, [this] { release_waiter(); });
}

void WaitCore::release_waiter() {
    if (!waiter_.done()) waiter_.set_result();
}

void WaitCore::on_child_done(std::size_t, Waitable& child) {
    --remaining_;
    bool condition_met = remaining_ == 0 || return_when_ == FIRST_COMPLETED;
    if (!condition_met && return_when_ == FIRST_EXCEPTION && !child.cancelled()) {
        // asyncio calls f.exception() here, which also marks the exception retrieved.
        condition_met = static_cast<FutureCore&>(child).exception() != nullptr;
    }
    if (condition_met) {
        timeout_handle_.cancel();
        release_waiter();
    }
}

// --- as_completed ----------------------------------------------------------------------------

AsCompletedCore::AsCompletedCore(EventLoop& loop, std::size_t count)
    : FanIn(static_cast<const RefCounted&>(*this)),
      loop_(&loop),
      count_(count),
      nodes_(std::make_unique<ChildCallback[]>(count)),
      in_todo_(count, true),
      todo_count_(count) {
    set_nodes(nodes_.get());
}

AsCompletedCore::~AsCompletedCore() { timeout_handle_.cancel(); }

void AsCompletedCore::start(std::optional<Duration> timeout) {
    for (std::size_t index = 0; index < count_; ++index) watch(index, child(index));
    // `this` is safe in the callback: the destructor cancels the timer.
    if (count_ > 0 && timeout) timeout_handle_ = loop_->call_later(*timeout, [this] { on_timeout(); });
}

void AsCompletedCore::on_child_done(std::size_t index, Waitable&) {
    if (todo_count_ == 0 || !in_todo_[index]) return;  // the timeout came first
    in_todo_[index] = false;
    --todo_count_;
    put(index);
    if (todo_count_ == 0) timeout_handle_.cancel();
}

void AsCompletedCore::on_timeout() {
    // Unwatching may release the last node, and the nodes hold the keep-alive reference:
    // hold one here so the state outlives this call.
    Ref<AsCompletedCore> self(this);
    for (std::size_t index = 0; index < count_; ++index) {
        if (!in_todo_[index]) continue;
        in_todo_[index] = false;
        unwatch(index, child(index));
        put(timed_out);  // each awaitable still unanswered raises TimeoutError
    }
    todo_count_ = 0;
}

void AsCompletedCore::put(std::size_t index) {
    completed_.push_back(index);
    wake_next_getter();
}

void AsCompletedCore::wake_next_getter() {
    // The first getter still waiting (asyncio's Queue._wakeup_next); cancelled ones are dropped.
    while (!getters_.empty()) {
        Future<void> getter = std::move(getters_.front());
        getters_.pop_front();
        if (!getter.done()) {
            getter.set_result();
            return;
        }
    }
}

Future<void> AsCompletedCore::add_getter() {
    Future<void> getter(*loop_);
    getters_.push_back(getter);
    return getter;
}

void AsCompletedCore::abandon_getter(Future<void> getter) {
    getter.cancel();  // in case it is still pending
    std::erase(getters_, getter);
    if (has_completed() && !getter.cancelled()) {
        wake_next_getter();  // it had been woken for an item it will not take: pass it on
    }
}

}  // namespace aio::detail
