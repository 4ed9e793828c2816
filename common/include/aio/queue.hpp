#pragma once
// aio::Queue<T>, LifoQueue<T>, PriorityQueue<T>: queues between tasks (asyncio.Queue,
// with Python 3.13's shutdown()).
//
// put() waits while the queue is full, get() while it is empty; each wakes the longest
// waiting task on the other side. A waiter that is woken but cancelled before it resumes
// wakes the next one in its place, so a cancellation never swallows an item or a free slot.
#include <algorithm>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <vector>

#include "coro.hpp"
#include "detail/waiter_list.hpp"
#include "errors.hpp"
#include "event.hpp"

namespace aio {

/// get_nowait() on an empty queue (asyncio.QueueEmpty).
class QueueEmpty : public Error {
public:
    QueueEmpty() : Error("QueueEmpty") {}
};
/// put_nowait() on a full queue (asyncio.QueueFull).
class QueueFull : public Error {
public:
    QueueFull() : Error("QueueFull") {}
};
/// put() or get() on a queue that was shut down (asyncio.QueueShutDown, Python 3.13).
class QueueShutDown : public Error {
public:
    QueueShutDown() : Error("QueueShutDown") {}
};

namespace detail {

/// The order items leave a queue in: first in first out.
template <class T>
struct FifoOrder {
    std::deque<T> items;
    void push(T item) { items.push_back(std::move(item)); }
    T pop() {
        T item = std::move(items.front());
        items.pop_front();
        return item;
    }
};

/// Last in first out.
template <class T>
struct LifoOrder {
    std::vector<T> items;
    void push(T item) { items.push_back(std::move(item)); }
    T pop() {
        T item = std::move(items.back());
        items.pop_back();
        return item;
    }
};

/// Smallest first (Python's heapq), by `Compare` (std::less: smallest first).
template <class T, class Compare = std::less<T>>
struct PriorityOrder {
    std::vector<T> items;
    // std::*_heap keep the largest by the comparison on top: invert it.
    static bool later(const T& a, const T& b) { return Compare{}(b, a); }
    void push(T item) {
        items.push_back(std::move(item));
        std::push_heap(items.begin(), items.end(), later);
    }
    T pop() {
        std::pop_heap(items.begin(), items.end(), later);
        T item = std::move(items.back());
        items.pop_back();
        return item;
    }
};

}  // namespace detail

template <class T, class Order = detail::FifoOrder<T>>
class BasicQueue {
public:
    /// `maxsize` <= 0 means unbounded.
    explicit BasicQueue(long maxsize = 0) : maxsize_(maxsize) {}

    std::size_t qsize() const noexcept { return order_.items.size(); }
    long maxsize() const noexcept { return maxsize_; }
    bool empty() const noexcept { return order_.items.empty(); }
    bool full() const noexcept { return maxsize_ > 0 && qsize() >= static_cast<std::size_t>(maxsize_); }

    /// Puts `item`, waiting for a free slot while the queue is full.
    /// Throws QueueShutDown if the queue is (or gets) shut down.
    Coro<void> put(T item) {
        while (full()) {
            if (shut_down_) throw QueueShutDown();
            co_await wait_in(putters_, &BasicQueue::has_room);
        }
        put_nowait(std::move(item));
    }

    /// Puts `item` at once. Throws QueueFull, or QueueShutDown.
    void put_nowait(T item) {
        if (shut_down_) throw QueueShutDown();
        if (full()) throw QueueFull();
        order_.push(std::move(item));
        ++unfinished_tasks_;
        finished_.clear();
        getters_.wake_first();
    }

    /// Takes an item, waiting while the queue is empty. Throws QueueShutDown once the queue
    /// is shut down and empty.
    Coro<T> get() {
        while (empty()) {
            if (shut_down_) throw QueueShutDown();
            co_await wait_in(getters_, &BasicQueue::has_items);
        }
        co_return get_nowait();
    }

    /// Takes an item at once. Throws QueueEmpty, or QueueShutDown if shut down and empty.
    T get_nowait() {
        if (empty()) {
            if (shut_down_) throw QueueShutDown();
            throw QueueEmpty();
        }
        T item = order_.pop();
        putters_.wake_first();
        return item;
    }

    /// Marks one item taken by get() as processed. Throws ValueError if called more times
    /// than items were put.
    void task_done() {
        if (unfinished_tasks_ == 0) throw ValueError("task_done() called too many times");
        if (--unfinished_tasks_ == 0) finished_.set();
    }

    /// Waits until every item put has been marked task_done().
    Coro<void> join() {
        if (unfinished_tasks_ > 0) co_await finished_.wait();
    }

    /// Shuts the queue down: put() raises QueueShutDown from now on, and get() too once the
    /// queue is empty. `immediate` also drops the items left (counting them as done), so
    /// join() returns and get() raises at once. Every blocked put() and get() wakes up.
    void shutdown(bool immediate = false) {
        shut_down_ = true;
        if (immediate) {
            while (!empty()) {
                order_.pop();
                if (unfinished_tasks_ > 0) --unfinished_tasks_;
            }
            if (unfinished_tasks_ == 0) finished_.set();
        }
        getters_.wake_all();
        putters_.wake_all();
    }
    bool is_shut_down() const noexcept { return shut_down_; }

private:
    bool has_room() const noexcept { return !full(); }
    bool has_items() const noexcept { return !empty(); }

    /// Waits in `waiters` for a wake-up. If cancelled after being woken while `can_proceed`
    /// still holds, passes the wake-up on, so the slot or item is not lost.
    /// (A member pointer rather than a lambda: GCC 12 miscompiles a capturing lambda and a
    /// co_await in one expression.)
    Coro<void> wait_in(detail::WaiterList& waiters, bool (BasicQueue::*can_proceed)() const noexcept) {
        auto entry = waiters.add();
        std::exception_ptr error;
        try {
            co_await *entry;
        } catch (...) {
            error = std::current_exception();
        }
        const bool was_woken = entry->done() && !entry->cancelled();
        waiters.erase(entry);
        if (error) {
            if (was_woken && (this->*can_proceed)()) waiters.wake_first();
            std::rethrow_exception(error);
        }
    }

    Order order_;
    long maxsize_;
    std::size_t unfinished_tasks_ = 0;
    Event finished_;
    detail::WaiterList getters_;
    detail::WaiterList putters_;
    bool shut_down_ = false;
};

/// First in, first out.
template <class T>
using Queue = BasicQueue<T, detail::FifoOrder<T>>;
/// Last in, first out (a stack).
template <class T>
using LifoQueue = BasicQueue<T, detail::LifoOrder<T>>;
/// Smallest item first, by `Compare` (use std::pair<priority, value> as in Python).
template <class T, class Compare = std::less<T>>
using PriorityQueue = BasicQueue<T, detail::PriorityOrder<T, Compare>>;

}  // namespace aio
