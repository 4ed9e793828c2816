// Lab 03 benchmarks: the student's lab::Future, awaited by aio tasks on aio's
// VirtualTimeLoop.
//
//   future_set_result_await   one task awaits N futures in turn, each finished by a loop
//                             callback: the future's state, the awaiter registering the
//                             task's done callback, set_result scheduling it, the result.
//   future_done_callbacks     N futures with K done callbacks each, finished with
//                             set_result: the callback list and one call_soon per callback.
//   future_fan_out            N tasks await one future; set_result wakes them all.
//
// Each checks the values it gets and fails with SkipWithError when one is wrong.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <aio/sleep.hpp>
#include <aio/task.hpp>

#include "../bench_support.hpp"
#include "future.hpp"

namespace {

using aiolab_bench::run_and_check;

aio::Coro<std::int64_t> set_result_await(aio::EventLoop* loop, std::int64_t count) {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        lab::Future<std::int64_t> future(*loop);
        loop->call_soon([future, i] { future.set_result(i); });
        sum += co_await future;
    }
    co_return sum;
}

void future_set_result_await(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "future_set_result_await: the sum of the results", 2 * count + 10, count * (count - 1) / 2,
                  count, [count](aio::EventLoop& loop) { return set_result_await(&loop, count); });
}

aio::Coro<std::int64_t> done_callbacks(aio::EventLoop* loop, std::int64_t count, std::int64_t callbacks) {
    std::int64_t calls = 0;
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        lab::Future<std::int64_t> future(*loop);
        for (std::int64_t k = 0; k < callbacks; ++k)
            future.add_done_callback([&calls, &sum](const lab::Future<std::int64_t>& done) {
                ++calls;
                sum += done.result();
            });
        future.set_result(i);
        // The callbacks were handed to call_soon in set_result; this task's next step is
        // queued behind them.
        co_await aio::sleep(0);
    }
    co_return calls == count * callbacks ? sum : -1;
}

void future_done_callbacks(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    const std::int64_t callbacks = state.range(1);
    run_and_check(state, "future_done_callbacks: the sum of the results the callbacks saw (-1: not run once each)",
                  2 * count + 10, callbacks * count * (count - 1) / 2, count * callbacks,
                  [count, callbacks](aio::EventLoop& loop) { return done_callbacks(&loop, count, callbacks); });
}

aio::Coro<std::int64_t> waiter(lab::Future<std::int64_t> future, std::int64_t id) {
    const std::int64_t value = co_await future;
    co_return value + id;
}

aio::Coro<std::int64_t> fan_out(aio::EventLoop* loop, std::int64_t count) {
    lab::Future<std::int64_t> future(*loop);
    std::vector<aio::Task<std::int64_t>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) tasks.push_back(aio::create_task(*loop, waiter(future, i)));
    co_await aio::sleep(0);  // every waiter is now suspended on the future
    future.set_result(1);
    std::int64_t sum = 0;
    for (aio::Task<std::int64_t>& task : tasks) sum += co_await task;
    co_return sum;
}

void future_fan_out(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "future_fan_out: the sum of the results", 100, count + count * (count - 1) / 2, count,
                  [count](aio::EventLoop& loop) { return fan_out(&loop, count); });
}

}  // namespace

BENCHMARK(future_set_result_await)->Arg(10000)->ArgName("futures");
BENCHMARK(future_done_callbacks)->Args({1000, 10})->ArgNames({"futures", "callbacks"});
BENCHMARK(future_fan_out)->Arg(10000)->ArgName("waiters");
