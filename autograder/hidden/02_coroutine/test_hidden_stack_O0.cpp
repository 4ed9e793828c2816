// Hidden tests, lab 02: constant stack in every mix of synchronous and asynchronous
// completion. Compiled at -O0 (labs/02_coroutine/CMakeLists.txt), like the public step 4.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>

#include <aio/aio.hpp>

#include "coro.hpp"

namespace {

[[gnu::noinline]] std::uintptr_t stack_position() {
    return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

lab::Coro<std::uintptr_t> where_am_i() { co_return stack_position(); }

lab::Coro<std::uintptr_t> two_levels() {
    std::uintptr_t position = co_await where_am_i();
    co_return position;
}

lab::Coro<std::uintptr_t> spread_two_levels(int count) {
    std::uintptr_t lowest = std::numeric_limits<std::uintptr_t>::max();
    std::uintptr_t highest = 0;
    for (int i = 0; i < count; ++i) {
        std::uintptr_t position = co_await two_levels();
        lowest = std::min(lowest, position);
        highest = std::max(highest, position);
    }
    co_return highest - lowest;
}

lab::Coro<int> one() { co_return 1; }

lab::Coro<int> one_sometimes_later(int i) {
    if (i % 10 == 0) co_await aio::sleep(0);  // every tenth completes asynchronously
    co_return 1;
}

aio::Coro<long> mixed_completions(int count) {
    long sum = 0;
    for (int i = 0; i < count; ++i) sum += co_await one_sometimes_later(i);
    co_return sum;
}

lab::Coro<long> lab_mixed(int count) {
    long sum = 0;
    for (int i = 0; i < count; ++i) sum += co_await one_sometimes_later(i);
    co_return sum;
}

aio::Coro<long> aio_runs_lab_mixed(int count) {
    lab::Coro<long> inner = lab_mixed(count);
    long sum = co_await std::move(inner);
    co_return sum;
}

lab::Coro<long> inner_loop(int count) {
    long sum = 0;
    for (int i = 0; i < count; ++i) sum += co_await one();
    co_return sum;
}

lab::Coro<long> loops_of_loops(int outer, int inner) {
    long sum = 0;
    for (int i = 0; i < outer; ++i) sum += co_await inner_loop(inner);
    co_return sum;
}

lab::Coro<long> throwing_one(int i) {
    if (i % 2 == 0) throw std::runtime_error("even");
    co_return 1;
}

lab::Coro<long> catch_half(int count) {
    long caught = 0;
    for (int i = 0; i < count; ++i) {
        try {
            co_await throwing_one(i);
        } catch (const std::runtime_error&) {
            ++caught;
        }
    }
    co_return caught;
}

std::unique_ptr<aio::EventLoop> virtual_time_loop() { return std::make_unique<aio::VirtualTimeLoop>(); }

}  // namespace

TEST_CASE("nested synchronous awaits keep the stack constant across iterations", "[02][step4][stack][hidden]") {
    REQUIRE(lab::sync_wait(spread_two_levels(10'000)) < 1024);
}

TEST_CASE("a loop mixing synchronous and asynchronous completions in an aio task is correct",
          "[02][step4][stack][aio][hidden]") {
    const auto frames_before = aio::live_coroutine_frames();
    REQUIRE(aio::run(mixed_completions(100'000), {.loop_factory = virtual_time_loop}) == 100'000);
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a lab Coro looping over mixed completions, awaited by an aio task, is correct",
          "[02][step4][stack][aio][hidden]") {
    REQUIRE(aio::run(aio_runs_lab_mixed(100'000), {.loop_factory = virtual_time_loop}) == 100'000);
}

TEST_CASE("a million awaits spread over nested loops do not overflow the stack", "[02][step4][stack][hidden]") {
    REQUIRE(lab::sync_wait(loops_of_loops(1000, 1000)) == 1'000'000);
}

TEST_CASE("100,000 synchronous exceptions caught in a loop do not overflow the stack",
          "[02][step4][stack][exceptions][hidden]") {
    REQUIRE(lab::sync_wait(catch_half(200'000)) == 100'000);
}
