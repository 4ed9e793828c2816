// Hidden tests, lab 07: constant stack in every mix of values produced with and without
// waiting. Compiled at -O0 (labs/07_async_generator/CMakeLists.txt), like the public
// [stack] tests.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>

#include <aio/aio.hpp>

#include "async_generator.hpp"

namespace {

[[gnu::noinline]] std::uintptr_t stack_position() {
    return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

template <class T>
T run_virtual(aio::Coro<T> main) {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(std::move(main));
}

/// Sleeps once, then yields `count` values without waiting.
lab::AsyncGenerator<int> sleep_then_burst(int count) {
    co_await aio::sleep(1);
    for (int i = 0; i < count; ++i) co_yield 1;
}

/// Yields `count` values, sleeping 0 (one loop iteration) before every `every`-th one.
lab::AsyncGenerator<int> yield_now_and_then(int count, int every) {
    for (int i = 0; i < count; ++i) {
        if (i % every == 0) co_await aio::sleep(0);
        co_yield 1;
    }
}

lab::AsyncGenerator<int> relay(lab::AsyncGenerator<int> inner) {
    while (auto value = co_await inner.next()) co_yield *value;
}

aio::Coro<std::uintptr_t> spread(lab::AsyncGenerator<int> gen, long* total) {
    std::uintptr_t lowest = std::numeric_limits<std::uintptr_t>::max();
    std::uintptr_t highest = 0;
    long sum = 0;
    while (auto value = co_await gen.next()) {
        sum += *value;
        const std::uintptr_t position = stack_position();
        lowest = std::min(lowest, position);
        highest = std::max(highest, position);
    }
    *total = sum;
    co_return highest - lowest;
}

}  // namespace

TEST_CASE("a million values yielded without waiting after one sleep use constant stack",
          "[07][step3][stack][hidden]") {
    long total = 0;
    aio::Coro<std::uintptr_t> measuring = spread(sleep_then_burst(1'000'000), &total);
    // After the sleep the consumer was resumed by the body (one transfer); everything after
    // must stay at that depth.
    CHECK(run_virtual(std::move(measuring)) < 1024);
    CHECK(total == 1'000'000);
}

TEST_CASE("values mixing yields to the loop and synchronous ones keep the stack bounded",
          "[07][step3][stack][hidden]") {
    long total = 0;
    aio::Coro<std::uintptr_t> measuring = spread(yield_now_and_then(200'000, 1000), &total);
    CHECK(run_virtual(std::move(measuring)) < 4096);
    CHECK(total == 200'000);
}

TEST_CASE("a relay generator passing on a million synchronous values does not overflow the stack",
          "[07][step3][stack][hidden]") {
    long total = 0;
    aio::Coro<std::uintptr_t> measuring = spread(relay(relay(yield_now_and_then(1'000'000, 1'000'000))), &total);
    CHECK(run_virtual(std::move(measuring)) < 1024);
    CHECK(total == 1'000'000);
}
