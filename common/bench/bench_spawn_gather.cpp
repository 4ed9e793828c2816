// Spawn + gather: create N trivial tasks (each awaits one sleep(0) and returns an int),
// then collect all their results. Measures the whole life of a short task: frame and task
// allocation, the first step, one yield through the ready queue, completion, the done
// callback that wakes the gatherer, and destruction.
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

aio::Coro<std::int64_t> spawn_and_gather(int count) {
    std::vector<aio::Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) tasks.push_back(aio::create_task(trivial(i)));
    std::int64_t sum = 0;
#if AIO_BENCH_HAS_GATHER
    auto gathering = aio::gather(std::move(tasks));
    std::vector<int> results = co_await std::move(gathering);
    for (int result : results) sum += result;
#else
    // Awaiting in creation order costs at most one extra wake-up per task (the later ones
    // are already done when their turn comes), so this is close to what gather does.
    for (aio::Task<int>& task : tasks) sum += co_await task;
#endif
    co_return sum;
}

void spawn_gather(benchmark::State& state) {
    const int count = static_cast<int>(state.range(0));
    // One loop for all iterations: its ready queue grows once and is then reused, as in a
    // long-running program.
    aio::SelectorEventLoop loop;
    for (auto _ : state) {
        std::int64_t sum = loop.run_until_complete(spawn_and_gather(count));
        benchmark::DoNotOptimize(sum);
    }
    loop.close();
    state.SetItemsProcessed(state.iterations() * count);
    state.SetLabel(AIO_BENCH_HAS_GATHER ? "aio::gather" : "awaited one by one (no aio/gather.hpp)");
}

}  // namespace

BENCHMARK(spawn_gather)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
