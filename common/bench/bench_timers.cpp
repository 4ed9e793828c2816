// Timers: N timers whose deadlines are spread evenly over 50 ms, run until the last fires.
// Measures the timer path: handle allocation, heap push, the loop finding due timers, heap
// pop, running the callback (or waking a sleeping task), and freeing the handle.
//
// Two kinds of timer:
//   *_call_later: N loop.call_at() callbacks (the timer machinery alone);
//   *_sleep:      N tasks, each `co_await aio::sleep(its delay)` once (adds the task's frame,
//                 its wake-up future and the step that resumes it).
// Two ways to measure the overhead, both reported:
//   *_real:    on the real SelectorEventLoop. The benchmark's time is the wall time beyond
//              the 50 ms that the deadlines span (manual time): what the timers cost on top
//              of the waiting. While the work is smaller than 50 ms it overlaps the waiting
//              and this mostly measures how late the last timer fires (epoll's millisecond
//              resolution), so the counter `timers_per_cpu_second` (N over the thread's CPU
//              time, which excludes time asleep in epoll) is given too.
//   *_virtual: on VirtualTimeLoop, where the 50 ms cost no real time: all the time measured
//              is overhead.
//
// Rate reported: items_per_second = timers per second of overhead.
// Issue 3 target: >= 3,000,000 timers/s (asyncio 31,000; Boost.Asio coroutines 223,000).
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "aio/aio.hpp"

namespace {

constexpr aio::Duration spread = std::chrono::milliseconds(50);

/// The deadline offset of timer `i` of `count`: evenly spread over [0, 50 ms).
aio::Duration offset(std::int64_t i, std::int64_t count) { return spread * i / count; }

double thread_cpu_seconds() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// --- the workloads: each returns when the last timer has fired ------------------------

void run_call_later(aio::EventLoop& loop, std::int64_t count) {
    std::int64_t remaining = count;
    const aio::TimePoint base = loop.time();
    for (std::int64_t i = 0; i < count; ++i) {
        // Dropping the TimerHandle is fine: the loop keeps the timer until it fires.
        loop.call_at(base + offset(i, count), [&remaining, &loop] {
            if (--remaining == 0) loop.stop();
        });
    }
    loop.run_forever();
}

aio::Coro<void> sleeper(aio::Duration delay) { co_await aio::sleep(delay); }

aio::Coro<void> sleepers(std::int64_t count) {
    std::vector<aio::Task<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) tasks.push_back(aio::create_task(sleeper(offset(i, count))));
    // They finish in creation order, so each await below wakes this task at most once.
    for (aio::Task<void>& task : tasks) co_await task;
}

void run_sleep(aio::EventLoop& loop, std::int64_t count) { loop.run_until_complete(sleepers(count)); }

// --- the two ways to measure ------------------------------------------------------------

template <void (*Workload)(aio::EventLoop&, std::int64_t)>
void on_real_loop(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    aio::SelectorEventLoop loop;
    double cpu_seconds = 0;
    double late_seconds = 0;
    for (auto _ : state) {
        const double cpu_before = thread_cpu_seconds();
        const auto start = std::chrono::steady_clock::now();
        Workload(loop, count);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        cpu_seconds += thread_cpu_seconds() - cpu_before;
        const double beyond = std::chrono::duration<double>(elapsed - spread).count();
        late_seconds += beyond;
        // The time beyond the 50 ms is the overhead; it cannot be zero or less in practice
        // (the last deadline is at 50 ms * (N-1)/N), but keep the clock monotonic anyway.
        state.SetIterationTime(beyond > 1e-9 ? beyond : 1e-9);
    }
    loop.close();
    const auto timers = static_cast<double>(state.iterations() * count);
    state.SetItemsProcessed(state.iterations() * count);
    state.counters["timers_per_cpu_second"] = benchmark::Counter(timers / cpu_seconds);
    state.counters["ms_beyond_50ms"] =
        benchmark::Counter(late_seconds * 1e3 / static_cast<double>(state.iterations()));
}

template <void (*Workload)(aio::EventLoop&, std::int64_t)>
void on_virtual_loop(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    aio::VirtualTimeLoop loop;
    for (auto _ : state) Workload(loop, count);
    loop.close();
    state.SetItemsProcessed(state.iterations() * count);
}

void timers_call_later_real(benchmark::State& state) { on_real_loop<run_call_later>(state); }
void timers_sleep_real(benchmark::State& state) { on_real_loop<run_sleep>(state); }
void timers_call_later_virtual(benchmark::State& state) { on_virtual_loop<run_call_later>(state); }
void timers_sleep_virtual(benchmark::State& state) { on_virtual_loop<run_sleep>(state); }

}  // namespace

// Fixed iteration counts on the real loop: with manual time, Google Benchmark would
// otherwise repeat the 50 ms wait until the (much smaller) overhead adds up to its minimum.
BENCHMARK(timers_call_later_real)->Arg(100'000)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(timers_call_later_real)->Arg(1'000'000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(timers_sleep_real)->Arg(100'000)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(timers_sleep_real)->Arg(1'000'000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(timers_call_later_virtual)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);
BENCHMARK(timers_sleep_virtual)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
