// Executor round trips: aio::to_thread of a trivial function, from the loop to a worker
// thread and back (submit, a worker wakes, runs it, call_soon_threadsafe wakes the loop's
// eventfd, the completion sets the future, the task resumes). This is the price of
// leaving the loop for a blocking call: the work itself is nothing here.
//
//   to_thread_sequential:   one task awaits to_thread calls one after the other; each round
//                           trip is two thread wake-ups (the worker, then the loop).
//   to_thread_in_flight/N:  N tasks each await to_thread in a loop, so N calls are in flight
//                           at once and the wake-ups are shared (a woken worker finds
//                           more jobs queued; the loop takes several completions per wake).
//
// Rate reported: items_per_second = round trips per second. The default executor has
// hardware_concurrency() threads, made once per loop (the loop lives across iterations).
#include <benchmark/benchmark.h>

#include <vector>

#include "aio/executor.hpp"
#include "aio/selector_event_loop.hpp"
#include "aio/task.hpp"

namespace {

int increment(int value) { return value + 1; }

aio::Coro<int> calls_in_sequence(int calls) {
    int value = 0;
    for (int i = 0; i < calls; ++i) value = co_await aio::to_thread(increment, value);
    co_return value;
}

aio::Coro<int> calls_in_flight(int tasks, int calls_per_task) {
    std::vector<aio::Task<int>> workers;
    workers.reserve(static_cast<std::size_t>(tasks));
    for (int i = 0; i < tasks; ++i) workers.push_back(aio::create_task(calls_in_sequence(calls_per_task)));
    int total = 0;
    for (aio::Task<int>& worker : workers) total += co_await worker;
    co_return total;
}

constexpr int calls_per_iteration = 20'000;

void to_thread_sequential(benchmark::State& state) {
    aio::SelectorEventLoop loop;
    for (auto _ : state) {
        int value = loop.run_until_complete(calls_in_sequence(calls_per_iteration));
        if (value != calls_per_iteration) state.SkipWithError("a result got lost");
    }
    loop.close();
    state.SetItemsProcessed(state.iterations() * calls_per_iteration);
}

void to_thread_in_flight(benchmark::State& state) {
    const int tasks = static_cast<int>(state.range(0));
    const int calls_per_task = calls_per_iteration / tasks;
    aio::SelectorEventLoop loop;
    for (auto _ : state) {
        int total = loop.run_until_complete(calls_in_flight(tasks, calls_per_task));
        if (total != tasks * calls_per_task) state.SkipWithError("a result got lost");
    }
    loop.close();
    state.SetItemsProcessed(state.iterations() * tasks * calls_per_task);
}

}  // namespace

BENCHMARK(to_thread_sequential)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(to_thread_in_flight)->Arg(4)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
