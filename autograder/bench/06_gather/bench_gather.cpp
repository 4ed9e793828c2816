// Lab 06 benchmarks: the student's gather, as_completed and TaskGroup, on aio's tasks and
// VirtualTimeLoop.
//
//   gather_coroutines     lab::gather of N coroutines (each yields once and returns its
//                         number): N aio tasks, one done callback each, the results in
//                         argument order.
//   as_completed_order    N tasks that sleep N..1 ms, taken with lab::as_completed: the
//                         results come in completion order (here the reverse of the input).
//   task_group_spawn      a lab::TaskGroup with N tasks (each yields once), joined.
//
// Each checks the results (values, order, counts) and fails with SkipWithError when one
// is wrong.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include <aio/sleep.hpp>
#include <aio/task.hpp>

#include "../bench_support.hpp"
#include "gather.hpp"
#include "task_group.hpp"
#include "wait.hpp"

namespace {

using aiolab_bench::run_and_check;

aio::Coro<std::int64_t> yield_then_return(std::int64_t value) {
    co_await aio::sleep(0);
    co_return value;
}

aio::Coro<std::int64_t> gather_coroutines_of(std::int64_t count) {
    std::vector<aio::Coro<std::int64_t>> children;
    children.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) children.push_back(yield_then_return(i));
    auto gathering = lab::gather(std::move(children));
    std::vector<std::int64_t> results = co_await std::move(gathering);
    if (results.size() != static_cast<std::size_t>(count)) co_return -1;
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        if (results[static_cast<std::size_t>(i)] != i) co_return -1;  // argument order
        sum += i;
    }
    co_return sum;
}

void gather_coroutines(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "gather_coroutines: the sum of the results (-1: not in argument order)", 100,
                  count * (count - 1) / 2, count, [count](aio::EventLoop&) { return gather_coroutines_of(count); });
}

aio::Coro<std::int64_t> sleep_then_return(std::int64_t value, std::int64_t milliseconds) {
    co_await aio::sleep(std::chrono::milliseconds(milliseconds));
    co_return value;
}

aio::Coro<std::int64_t> take_as_completed(aio::EventLoop* loop, std::int64_t count) {
    std::vector<aio::Task<std::int64_t>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) tasks.push_back(aio::create_task(*loop, sleep_then_return(i, count - i)));
    std::int64_t expected_next = count - 1;  // the shortest sleep is the last task's
    std::int64_t in_order = 0;
    for (auto next : lab::as_completed(std::move(tasks))) {
        const std::int64_t value = co_await std::move(next);
        if (value == expected_next) ++in_order;
        --expected_next;
    }
    co_return in_order;
}

void as_completed_order(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "as_completed_order: the number of results in completion order", 4 * count + 100, count,
                  count, [count](aio::EventLoop& loop) { return take_as_completed(&loop, count); });
}

aio::Coro<void> add_after_yield(std::int64_t value, std::int64_t* sum) {
    co_await aio::sleep(0);
    *sum += value;
}

aio::Coro<std::int64_t> run_group(std::int64_t count) {
    std::int64_t sum = 0;
    lab::TaskGroup group;
    for (std::int64_t i = 0; i < count; ++i) group.create_task(add_after_yield(i, &sum));
    auto leaving = group.join();
    co_await std::move(leaving);
    co_return group.size() == 0 ? sum : -1;
}

void task_group_spawn(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "task_group_spawn: the sum the group's tasks added (-1: tasks left)", 100,
                  count * (count - 1) / 2, count, [count](aio::EventLoop&) { return run_group(count); });
}

}  // namespace

BENCHMARK(gather_coroutines)->Arg(10000)->ArgName("children");
BENCHMARK(as_completed_order)->Arg(1000)->ArgName("tasks");
BENCHMARK(task_group_spawn)->Arg(10000)->ArgName("tasks");
