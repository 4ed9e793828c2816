// Spawn + gather: create N trivial tasks (each awaits one sleep(0) and returns an int),
// then collect all their results. Measures the whole life of a short task: frame and task
// allocation, the first step, one yield through the ready queue, completion, the done
// callback that wakes the gatherer, and destruction.
//
// spawn_gather collects with aio::gather(std::vector<aio::Task<int>>) (aio/gather.hpp; the
// benchmark is left out if that header does not exist); spawn_await_each awaits the tasks
// one by one, for comparison.
//
// Rate reported: items_per_second = tasks spawned and gathered per second.
// Issue 3 target: >= 5,000,000 tasks/s (asyncio 53,000; Boost.Asio coroutines 278,000).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "aio/aio.hpp"

#if __has_include("aio/gather.hpp")
#include "aio/gather.hpp"
#define AIO_BENCH_HAS_GATHER 1
#else
#define AIO_BENCH_HAS_GATHER 0
#endif

namespace {

aio::Coro<int> trivial(int value) {
    co_await aio::sleep(0);
    co_return value;
}

std::vector<aio::Task<int>> spawn(int count) {
    std::vector<aio::Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) tasks.push_back(aio::create_task(trivial(i)));
    return tasks;
}

#if AIO_BENCH_HAS_GATHER
aio::Coro<std::int64_t> spawn_and_gather(int count) {
    auto gathering = aio::gather(spawn(count));
    std::vector<int> results = co_await std::move(gathering);
    std::int64_t sum = 0;
    for (int result : results) sum += result;
    co_return sum;
}
#endif

/// The same without gather: await the tasks one by one, in creation order. That costs at
/// most one wake-up of the awaiting task per task (the later ones are already done when
/// their turn comes), so it is close to gather's cost without its bookkeeping.
aio::Coro<std::int64_t> spawn_and_await_each(int count) {
    std::vector<aio::Task<int>> tasks = spawn(count);
    std::int64_t sum = 0;
    for (aio::Task<int>& task : tasks) sum += co_await task;
    co_return sum;
}

template <aio::Coro<std::int64_t> (*Collect)(int)>
void run(benchmark::State& state) {
    const int count = static_cast<int>(state.range(0));
    // One loop for all iterations: its ready queue grows once and is then reused, as in a
    // long-running program.
    aio::SelectorEventLoop loop;
    const std::int64_t expected = std::int64_t{count} * (count - 1) / 2;
    for (auto _ : state) {
        std::int64_t sum = loop.run_until_complete(Collect(count));
        if (sum != expected) state.SkipWithError("wrong sum of the results");
        benchmark::DoNotOptimize(sum);
    }
    loop.close();
    state.SetItemsProcessed(state.iterations() * count);
}

#if AIO_BENCH_HAS_GATHER
void spawn_gather(benchmark::State& state) { run<spawn_and_gather>(state); }
#endif
void spawn_await_each(benchmark::State& state) { run<spawn_and_await_each>(state); }

}  // namespace

#if AIO_BENCH_HAS_GATHER
BENCHMARK(spawn_gather)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);
#endif
BENCHMARK(spawn_await_each)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
