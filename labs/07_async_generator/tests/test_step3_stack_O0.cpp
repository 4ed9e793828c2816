// Step 3: values yielded without suspending must not grow the stack. A generator that always
// hands a value over by symmetric transfer (the consumer resumes the body, the body's
// co_yield resumes the consumer) nests one more call per value wherever the compiler does
// not turn the transfer into a tail call, and a million values overflow the stack.
//
// This file is compiled at -O0 (see ../CMakeLists.txt): the rule must hold in a debug build,
// where GCC does not turn symmetric transfer into a tail call.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "aio/aio.hpp"
#include "async_generator.hpp"
#include "lab07_support.hpp"

namespace {

/// Roughly where the stack is right now: the frame address of a function that is never
/// inlined. Equal values mean equal stack depth.
[[gnu::noinline]] std::uintptr_t stack_position() {
    return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

lab::AsyncGenerator<int> numbers(int count) {
    for (int i = 0; i < count; ++i) co_yield i;
}

/// How far apart (in bytes) the stack positions seen by the consumer after each value are.
aio::Coro<std::uintptr_t> stack_spread(int count) {
    std::uintptr_t lowest = std::numeric_limits<std::uintptr_t>::max();
    std::uintptr_t highest = 0;
    auto gen = numbers(count);
    while (auto value = co_await gen.next()) {
        const std::uintptr_t position = stack_position();
        lowest = std::min(lowest, position);
        highest = std::max(highest, position);
    }
    co_return highest - lowest;
}

aio::Coro<long> sum_of(int count) {
    auto gen = numbers(count);
    long sum = 0;
    while (auto value = co_await gen.next()) sum += *value;
    co_return sum;
}

}  // namespace

TEST_CASE("values yielded without suspending do not grow the consumer's stack", "[07][step3][stack]") {
    // 10,000 values: a generator that nests them uses about a megabyte, which still fits, so
    // this test fails with a clear message instead of crashing.
    CHECK(lab_test::run_virtual(stack_spread(10'000)) < 1024);
}

TEST_CASE("a million values yielded without suspending do not overflow the stack", "[07][step3][stack]") {
    CHECK(lab_test::run_virtual(sum_of(1'000'000)) == 499'999'500'000L);
}
