// Memory: bytes per suspended task. 200,000 tasks are created and left suspended; the
// growth of the process's resident set (RSS, from /proc/self/statm) divided by 200,000 is
// the cost of one suspended task: its task object, its coroutine frame and whatever it
// waits on (for sleep: the wake-up future lives in the frame, the timer handle on the heap;
// its 16-byte entry in the loop's timer heap is not counted, see the warm-up below).
//
// Two ways to be suspended:
//   memory_sleeping_task:       `co_await aio::sleep(3600)`  (task + frame + timer);
//   memory_future_waiting_task: `co_await gate` on one shared aio::Future<void> (task + frame).
//
// Counters (per task):
//   bytes_per_task       RSS growth / tasks. Issue 3 target: <= 256 B (asyncio 1,486 B).
//   heap_bytes_per_task  growth of malloc's bytes in use (mallinfo2) / tasks: the same
//                        without page granularity and malloc's free lists, for comparison.
// The task handles are dropped at once (a pending task keeps itself alive), so the numbers
// do not include a vector of handles. The loop is warmed up first with the same workload, so
// its ready queue and timer heap have already grown: the numbers are the steady-state cost of
// one more task, not the loop's one-off growth.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "aio/aio.hpp"

namespace {

constexpr std::int64_t task_count = 200'000;

std::int64_t resident_bytes() {
    long total_pages = 0;
    long resident_pages = 0;
    std::FILE* statm = std::fopen("/proc/self/statm", "r");
    if (!statm) return 0;
    if (std::fscanf(statm, "%ld %ld", &total_pages, &resident_pages) != 2) resident_pages = 0;
    std::fclose(statm);
    return static_cast<std::int64_t>(resident_pages) * ::sysconf(_SC_PAGESIZE);
}

std::int64_t heap_bytes_in_use() { return static_cast<std::int64_t>(::mallinfo2().uordblks); }

struct Footprint {
    std::int64_t resident = 0;
    std::int64_t heap = 0;
};

Footprint measure() { return {resident_bytes(), heap_bytes_in_use()}; }

aio::Coro<void> sleep_an_hour() { co_await aio::sleep(3600.0); }

aio::Coro<void> wait_for_gate(aio::Future<void> gate) { co_await gate; }

/// Cancels every other task of the loop and lets them finish.
aio::Coro<void> cancel_the_others() {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::AbstractTask* self = aio::current_task();
    for (aio::TaskBase* task : aio::all_tasks(loop))
        if (task != self) task->cancel();
    while (aio::all_tasks(loop).size() > 1) co_await aio::sleep(0);
}

/// Creates the tasks, lets them suspend, and returns the growth in footprint per task.
aio::Coro<Footprint> suspend_tasks(bool on_future) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<void> gate(loop);
    // Give back what earlier rounds freed, so that RSS grows by this round's memory: aio's
    // block cache first (it keeps freed task states, frames and timer handles), then malloc.
    aio::detail::BlockCache::trim();
    ::malloc_trim(0);
    const Footprint before = measure();
    for (std::int64_t i = 0; i < task_count; ++i) {
        if (on_future)
            aio::create_task(wait_for_gate(gate));
        else
            aio::create_task(sleep_an_hour());
    }
    co_await aio::sleep(0);  // every task has now run its first step and is suspended
    const Footprint after = measure();
    if (on_future) {
        gate.set_result();
        while (aio::all_tasks(loop).size() > 1) co_await aio::sleep(0);
    } else {
        auto cancelling = cancel_the_others();
        co_await std::move(cancelling);
    }
    co_return Footprint{(after.resident - before.resident) / task_count, (after.heap - before.heap) / task_count};
}

void memory(benchmark::State& state, bool on_future) {
    aio::SelectorEventLoop loop;
    loop.run_until_complete(suspend_tasks(on_future));  // warm-up: grow the loop's queues
    Footprint total;
    for (auto _ : state) {
        Footprint per_task = loop.run_until_complete(suspend_tasks(on_future));
        total.resident += per_task.resident;
        total.heap += per_task.heap;
    }
    loop.close();
    const auto iterations = static_cast<double>(state.iterations());
    state.counters["bytes_per_task"] = static_cast<double>(total.resident) / iterations;
    state.counters["heap_bytes_per_task"] = static_cast<double>(total.heap) / iterations;
    state.SetItemsProcessed(state.iterations() * task_count);
}

void memory_sleeping_task(benchmark::State& state) { memory(state, false); }
void memory_future_waiting_task(benchmark::State& state) { memory(state, true); }

}  // namespace

BENCHMARK(memory_sleeping_task)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(memory_future_waiting_task)->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
