// Lab 04 benchmarks: the student's lab::Task, on aio's VirtualTimeLoop. The main coroutine
// is itself a lab task, so awaiting a task also goes through the student's wait_on.
//
//   task_spawn_await      N lab tasks, each yields once (sleep(0)) and returns its number;
//                         the main task awaits them in order: the whole life of a short
//                         task (creation, first step, a yield, the result, destruction).
//   task_yield_steps      T lab tasks that each yield R times: one step per yield, through
//                         yield_now and the ready queue.
//   task_wake_on_future   a lab task awaits N aio futures in turn, each finished by a loop
//                         callback: wait_on, the wake-up node, the next step.
//
// Each checks the sum of the results and fails with SkipWithError when it is wrong.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <aio/future.hpp>
#include <aio/sleep.hpp>

#include "../bench_support.hpp"
#include "task.hpp"

namespace {

using aiolab_bench::run_and_check;

aio::Coro<std::int64_t> yield_then_return(std::int64_t value, std::int64_t yields) {
    for (std::int64_t i = 0; i < yields; ++i) co_await aio::sleep(0);
    co_return value;
}

aio::Coro<std::int64_t> spawn_and_await(aio::EventLoop* loop, std::int64_t count, std::int64_t yields) {
    std::vector<lab::Task<std::int64_t>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) tasks.push_back(lab::create_task(*loop, yield_then_return(i, yields)));
    std::int64_t sum = 0;
    for (lab::Task<std::int64_t>& task : tasks) sum += co_await task;
    co_return sum;
}

/// Runs `main` as a lab task: the coroutine the benchmark's loop runs.
aio::Coro<std::int64_t> in_lab_task(aio::EventLoop& loop, aio::Coro<std::int64_t> main) {
    lab::Task<std::int64_t> task = lab::create_task(loop, std::move(main));
    co_return co_await task;
}

void task_spawn_await(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "task_spawn_await: the sum of the results", 100, count * (count - 1) / 2, count,
                  [count](aio::EventLoop& loop) { return in_lab_task(loop, spawn_and_await(&loop, count, 1)); });
}

void task_yield_steps(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    const std::int64_t yields = state.range(1);
    run_and_check(state, "task_yield_steps: the sum of the results", 2 * yields + 100, count * (count - 1) / 2,
                  count * yields,
                  [count, yields](aio::EventLoop& loop) { return in_lab_task(loop, spawn_and_await(&loop, count, yields)); });
}

aio::Coro<std::int64_t> await_futures(aio::EventLoop* loop, std::int64_t count) {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        aio::Future<std::int64_t> future(*loop);
        loop->call_soon([future, i] { future.set_result(i); });
        sum += co_await future;
    }
    co_return sum;
}

void task_wake_on_future(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "task_wake_on_future: the sum of the results", 2 * count + 10, count * (count - 1) / 2, count,
                  [count](aio::EventLoop& loop) { return in_lab_task(loop, await_futures(&loop, count)); });
}

}  // namespace

BENCHMARK(task_spawn_await)->Arg(10000)->ArgName("tasks");
BENCHMARK(task_yield_steps)->Args({100, 100})->ArgNames({"tasks", "yields"});
BENCHMARK(task_wake_on_future)->Arg(10000)->ArgName("futures");
