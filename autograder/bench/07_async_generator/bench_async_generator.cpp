// Lab 07 benchmarks: the student's lab::AsyncGenerator, drained by an aio task on aio's
// VirtualTimeLoop.
//
//   async_generator_items          N values that need no waiting: next() resumes the
//                                  body, co_yield hands the value back (no loop trip).
//   async_generator_through_loop   N values, the body yields to the loop (sleep(0)) before
//                                  each: a real suspension of the consumer's task per item.
//   async_generator_pipeline       N values through a generator that awaits another
//                                  generator's next() and yields twice the value: nested
//                                  generators in one task.
//
// Each checks the sum and count of the values and fails with SkipWithError when wrong.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <string>

#include <aio/sleep.hpp>

#include "../bench_support.hpp"
#include "async_generator.hpp"

namespace {

using aiolab_bench::run_and_check;

lab::AsyncGenerator<std::int64_t> count_up(std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) co_yield i;
}

lab::AsyncGenerator<std::int64_t> count_up_through_loop(std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) {
        co_await aio::sleep(0);
        co_yield i;
    }
}

lab::AsyncGenerator<std::int64_t> doubled(lab::AsyncGenerator<std::int64_t> source) {
    while (true) {
        auto next = source.next();  // a named local: no temporary alive across the await
        std::optional<std::int64_t> value = co_await std::move(next);
        if (!value) co_return;
        co_yield 2 * *value;
    }
}

/// Sums the values; -1 if there are more than `limit` (a generator that never ends).
aio::Coro<std::int64_t> drain(lab::AsyncGenerator<std::int64_t> generator, std::int64_t limit) {
    std::int64_t sum = 0;
    std::int64_t items = 0;
    while (true) {
        auto next = generator.next();
        std::optional<std::int64_t> value = co_await std::move(next);
        if (!value) break;
        if (++items > limit) co_return -1;
        sum += *value;
    }
    co_return items == limit ? sum : -1;
}

template <class MakeGenerator>
void drain_benchmark(benchmark::State& state, const char* name, std::int64_t multiplier, long budget,
                     MakeGenerator make) {
    const std::int64_t count = state.range(0);
    run_and_check(state, std::string(name) + ": the sum of the values (-1: not exactly N values)", budget,
                  multiplier * count * (count - 1) / 2, count,
                  [count, make](aio::EventLoop&) { return drain(make(count), count); });
}

void async_generator_items(benchmark::State& state) {
    drain_benchmark(state, "async_generator_items", 1, 10, count_up);
}

void async_generator_through_loop(benchmark::State& state) {
    drain_benchmark(state, "async_generator_through_loop", 1, 2 * state.range(0) + 10, count_up_through_loop);
}

void async_generator_pipeline(benchmark::State& state) {
    drain_benchmark(state, "async_generator_pipeline", 2, 10,
                    [](std::int64_t count) { return doubled(count_up(count)); });
}

}  // namespace

BENCHMARK(async_generator_items)->Arg(100000)->ArgName("values");
BENCHMARK(async_generator_through_loop)->Arg(10000)->ArgName("values");
BENCHMARK(async_generator_pipeline)->Arg(100000)->ArgName("values");
