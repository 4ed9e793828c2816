// Ping-pong: two tasks hand a value back and forth through a one-slot handoff. Every
// handoff wakes the other task through the loop (a done callback scheduled with call_soon,
// then a task step), so this measures the cost of one wake-up: the latency floor of any
// producer/consumer pair, lock or queue built on aio.
//
// Two handoffs, measured separately:
//   ping_pong_future: a pair of aio::Future<int>, a fresh one per message (the asyncio way:
//     `fut = loop.create_future(); ...; await fut`). Includes one future allocation per handoff.
//   ping_pong_slot:   a reusable one-slot handoff written on aio's public future protocol
//     (aio::Waitable + the task's DoneCallback node, through detail::wait_in_current_task), as
//     a lab's own queue or event would be. No allocation per handoff.
//
// Rate reported: items_per_second = handoffs per second (two per round trip).
// Issue 3 target: >= 10,000,000 handoffs/s (asyncio 135,000; Boost.Asio coroutines 657,000).
#include <benchmark/benchmark.h>

#include <coroutine>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "aio/aio.hpp"

namespace {

// --- futures recreated per message ----------------------------------------------------

/// The two mailboxes. Each side replaces the future it just received on before replying,
/// so the next message always lands in a fresh, pending future.
struct FutureExchange {
    aio::Future<int> to_ponger;
    aio::Future<int> to_pinger;
};

// Coroutine parameters are taken by value (a pointer): references would dangle in the frame.
aio::Coro<int> future_pinger(FutureExchange* exchange, int rounds) {
    aio::EventLoop& loop = aio::get_running_loop();
    int value = 0;
    for (int i = 0; i < rounds; ++i) {
        exchange->to_pinger = aio::Future<int>(loop);
        exchange->to_ponger.set_result(value);
        aio::Future<int> reply = exchange->to_pinger;
        value = co_await reply;
    }
    co_return value;
}

aio::Coro<void> future_ponger(FutureExchange* exchange, int rounds) {
    aio::EventLoop& loop = aio::get_running_loop();
    for (int i = 0; i < rounds; ++i) {
        aio::Future<int> message = exchange->to_ponger;
        int value = co_await message;
        exchange->to_ponger = aio::Future<int>(loop);
        exchange->to_pinger.set_result(value + 1);
    }
}

aio::Coro<int> future_match(int rounds) {
    FutureExchange exchange{aio::Future<int>(aio::get_running_loop()),
                            aio::Future<int>(aio::get_running_loop())};
    aio::Task<void> ponger = aio::create_task(future_ponger(&exchange, rounds));
    aio::Task<int> pinger = aio::create_task(future_pinger(&exchange, rounds));
    int value = co_await pinger;
    co_await ponger;
    co_return value;
}

// --- a reusable one-slot handoff on the Waitable protocol -----------------------------

/// A one-slot mailbox that one task at a time awaits with `co_await slot.take()`.
/// It is a Waitable that is "done" while it holds a value: the taking task registers its
/// DoneCallback node (wait_in_current_task), put() hands that node to call_soon (never
/// resumes inline, as asyncio's futures), and take() empties the slot again. Cancelling the
/// waiting task cancels the slot, which wakes the task to receive CancelledError.
class Slot final : public aio::Waitable {
public:
    explicit Slot(aio::EventLoop& loop) : loop_(&loop) {}

    /// Stores `value` and schedules the waiting task, if any. The slot must be empty.
    void put(int value) {
        value_ = value;
        wake_waiter();
    }

    struct TakeAwaiter {
        Slot& slot;
        bool await_ready() const noexcept { return slot.value_.has_value(); }
        void await_suspend(std::coroutine_handle<> awaiting) {
            aio::detail::wait_in_current_task(slot, awaiting);
        }
        int await_resume() {
            aio::detail::throw_if_cancel_delivered();
            if (slot.cancelled_) throw aio::CancelledError();
            int value = *slot.value_;
            slot.value_.reset();
            return value;
        }
    };
    /// Waits until a value is there and takes it.
    TakeAwaiter take() noexcept { return {*this}; }

    bool done() const noexcept override { return value_.has_value() || cancelled_; }
    bool cancelled() const noexcept override { return cancelled_; }
    bool cancel(std::string = {}) override {
        if (done()) return false;
        cancelled_ = true;
        wake_waiter();
        return true;
    }
    void add_done_callback(aio::DoneCallback& callback) override {
        if (done()) {
            callback.set_completed_future(*this);
            loop_->call_soon(callback);
        } else {
            waiter_ = &callback;  // one slot, one taker
        }
    }
    bool remove_done_callback(aio::DoneCallback& callback) noexcept override {
        if (waiter_ != &callback) return false;
        waiter_ = nullptr;
        return true;
    }
    aio::EventLoop& get_loop() const noexcept override { return *loop_; }
    std::string describe() const override { return done() ? "<Slot full>" : "<Slot empty>"; }

private:
    void wake_waiter() {
        aio::DoneCallback* waiter = std::exchange(waiter_, nullptr);
        if (!waiter) return;
        waiter->set_completed_future(*this);  // what the node's on_done() will receive
        loop_->call_soon(*waiter);
    }

    aio::EventLoop* loop_;
    aio::DoneCallback* waiter_ = nullptr;
    std::optional<int> value_;
    bool cancelled_ = false;
};

aio::Coro<int> slot_pinger(Slot* to_ponger, Slot* to_pinger, int rounds) {
    int value = 0;
    for (int i = 0; i < rounds; ++i) {
        to_ponger->put(value);
        value = co_await to_pinger->take();
    }
    co_return value;
}

aio::Coro<void> slot_ponger(Slot* to_ponger, Slot* to_pinger, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        int value = co_await to_ponger->take();
        to_pinger->put(value + 1);
    }
}

aio::Coro<int> slot_match(int rounds) {
    Slot to_ponger(aio::get_running_loop());
    Slot to_pinger(aio::get_running_loop());
    aio::Task<void> ponger = aio::create_task(slot_ponger(&to_ponger, &to_pinger, rounds));
    aio::Task<int> pinger = aio::create_task(slot_pinger(&to_ponger, &to_pinger, rounds));
    int value = co_await pinger;
    co_await ponger;
    co_return value;
}

// --- the benchmarks ---------------------------------------------------------------------

constexpr int rounds_per_match = 100'000;  // 200,000 handoffs

template <aio::Coro<int> (*Match)(int)>
void ping_pong(benchmark::State& state) {
    aio::SelectorEventLoop loop;
    for (auto _ : state) {
        int value = loop.run_until_complete(Match(rounds_per_match));
        if (value != rounds_per_match) state.SkipWithError("the value got lost on the way");
        benchmark::DoNotOptimize(value);
    }
    loop.close();
    state.SetItemsProcessed(state.iterations() * 2 * rounds_per_match);
}

void ping_pong_future(benchmark::State& state) { ping_pong<future_match>(state); }
void ping_pong_slot(benchmark::State& state) { ping_pong<slot_match>(state); }

}  // namespace

BENCHMARK(ping_pong_future)->Unit(benchmark::kMillisecond);
BENCHMARK(ping_pong_slot)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
