// Lab 02 benchmarks: the student's lab::Coro and lab::Generator, without any event loop.
//
//   coro_await_in_loop   one Coro awaits N short Coros in a loop (each returns at once): the
//                        frame's allocation, the lazy start, the await that finishes inside
//                        await_suspend (step 4's fast path), the result, the frame's end.
//   coro_await_chain     a chain of D nested Coros (each awaits the next, then adds one): the
//                        symmetric transfer back up the chain (step 3).
//   generator_sum        a range-for over a Generator of N ints (step 5).
//
// Each checks the sum it computes and fails with SkipWithError when it is wrong.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "../bench_support.hpp"
#include "coro.hpp"
#include "generator.hpp"

namespace {

using aiolab_bench::fail;
using aiolab_bench::guarded;

lab::Coro<std::int64_t> leaf(std::int64_t value) { co_return value; }

lab::Coro<std::int64_t> await_in_loop(std::int64_t count) {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < count; ++i) sum += co_await leaf(i);
    co_return sum;
}

void coro_await_in_loop(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    const std::int64_t expected = count * (count - 1) / 2;
    guarded(state, [&] {
        for (auto _ : state) {
            const std::int64_t sum = lab::sync_wait(await_in_loop(count));
            if (sum != expected) {
                fail(state, "coro_await_in_loop: wrong sum");
                break;
            }
            benchmark::DoNotOptimize(sum);
        }
        state.SetItemsProcessed(state.iterations() * count);
    });
}

lab::Coro<std::int64_t> chain(std::int64_t depth) {
    if (depth == 0) co_return 0;
    const std::int64_t below = co_await chain(depth - 1);
    co_return below + 1;
}

void coro_await_chain(benchmark::State& state) {
    const std::int64_t depth = state.range(0);
    guarded(state, [&] {
        for (auto _ : state) {
            const std::int64_t result = lab::sync_wait(chain(depth));
            if (result != depth) {
                fail(state, "coro_await_chain: wrong depth");
                break;
            }
            benchmark::DoNotOptimize(result);
        }
        state.SetItemsProcessed(state.iterations() * depth);
    });
}

lab::Generator<std::int64_t> count_up(std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) co_yield i;
}

void generator_sum(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    const std::int64_t expected = count * (count - 1) / 2;
    guarded(state, [&] {
        for (auto _ : state) {
            std::int64_t sum = 0;
            std::int64_t items = 0;
            for (std::int64_t value : count_up(count)) {
                sum += value;
                if (++items > count) break;  // a generator that never ends
            }
            if (sum != expected || items != count) {
                fail(state, "generator_sum: wrong values");
                break;
            }
            benchmark::DoNotOptimize(sum);
        }
        state.SetItemsProcessed(state.iterations() * count);
    });
}

}  // namespace

BENCHMARK(coro_await_in_loop)->Arg(10000)->ArgName("awaits");
BENCHMARK(coro_await_chain)->Arg(1000)->ArgName("depth");
BENCHMARK(generator_sum)->Arg(100000)->ArgName("values");
