// Step 4: a loop that awaits a million coroutines which finish at once overflows the
// stack. In step 3 a finished body resumes its awaiter from inside the awaiter's own
// await_suspend, so every await adds stack frames that are only unwound at the very end.
//
// This file is compiled at -O0 (see ../CMakeLists.txt): the rule must hold in a debug
// build, where GCC does not turn symmetric transfer into a tail call.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <memory>

#include <aio/aio.hpp>

#include "coro.hpp"

namespace {

/// Roughly where the stack is right now: the frame address of a function that is never
/// inlined. Equal values mean equal stack depth.
[[gnu::noinline]] std::uintptr_t stack_position() {
    return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

lab::Coro<std::uintptr_t> where_am_i() { co_return stack_position(); }

/// How far apart (in bytes) the stack positions seen by `count` awaited bodies are.
lab::Coro<std::uintptr_t> stack_spread(int count) {
    std::uintptr_t lowest = std::numeric_limits<std::uintptr_t>::max();
    std::uintptr_t highest = 0;
    for (int i = 0; i < count; ++i) {
        std::uintptr_t position = co_await where_am_i();
        lowest = std::min(lowest, position);
        highest = std::max(highest, position);
    }
    co_return highest - lowest;
}

lab::Coro<int> one() { co_return 1; }

lab::Coro<long> sum_of_ones(int count) {
    long sum = 0;
    for (int i = 0; i < count; ++i) sum += co_await one();
    co_return sum;
}

aio::Coro<long> aio_sums_lab_ones(int count) {
    long sum = 0;
    for (int i = 0; i < count; ++i) sum += co_await one();
    co_return sum;
}

lab::Coro<void> nothing() { co_return; }

lab::Coro<int> await_nothing(int count) {
    int done = 0;
    for (int i = 0; i < count; ++i) {
        co_await nothing();
        ++done;
    }
    co_return done;
}

std::unique_ptr<aio::EventLoop> virtual_time_loop() { return std::make_unique<aio::VirtualTimeLoop>(); }

}  // namespace

TEST_CASE("awaiting coroutines that finish at once does not grow the stack", "[02][step4][stack]") {
    // 10,000 awaits: a Coro that nests them uses about a megabyte, which still fits, so this
    // test fails with a clear message instead of crashing.
    REQUIRE(lab::sync_wait(stack_spread(10'000)) < 1024);
}

TEST_CASE("a million awaits of coroutines that finish at once do not overflow the stack",
          "[02][step4][stack]") {
    const auto frames_before = aio::live_coroutine_frames();
    REQUIRE(lab::sync_wait(sum_of_ones(1'000'000)) == 1'000'000);
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

// The next two use 300,000 awaits: still far more stack than a nesting Coro can get, and
// quick enough under the sanitizers at -O0.
TEST_CASE("awaits of Coro<void> that finish at once do not overflow the stack", "[02][step4][stack]") {
    REQUIRE(lab::sync_wait(await_nothing(300'000)) == 300'000);
}

TEST_CASE("an aio task can await 300,000 lab coroutines in a loop", "[02][step4][stack][aio]") {
    REQUIRE(aio::run(aio_sums_lab_ones(300'000), {.loop_factory = virtual_time_loop}) == 300'000);
}
