// Hidden tests, lab 02: lab::Generator edge cases.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <aio/detail/frame_counter.hpp>

#include "generator.hpp"

namespace {

struct CopyCounter {
    static inline int copies = 0;
    int value = 0;
    explicit CopyCounter(int v) : value(v) {}
    CopyCounter(const CopyCounter& other) : value(other.value) { ++copies; }
    CopyCounter(CopyCounter&& other) noexcept : value(other.value) {}
    CopyCounter& operator=(const CopyCounter&) = delete;
};

/// Move-only, and counts its moves: the loop must read the very object the body yielded.
struct MoveOnly {
    static inline int moves = 0;
    int value = 0;
    explicit MoveOnly(int v) : value(v) {}
    MoveOnly(MoveOnly&& other) noexcept : value(other.value) { ++moves; }
    MoveOnly(const MoveOnly&) = delete;
    MoveOnly& operator=(const MoveOnly&) = delete;
    MoveOnly& operator=(MoveOnly&&) = delete;
};

lab::Generator<MoveOnly> owned_values(int n) {
    for (int i = 0; i < n; ++i) co_yield MoveOnly(i * 10);
}

lab::Generator<int> throws_at_once() {
    throw std::runtime_error("before the first value");
    co_yield 1;
}

lab::Generator<int> range(int n) {
    for (int i = 0; i < n; ++i) co_yield i;
}

lab::Generator<int> squares_of(int n) {
    for (int value : range(n)) co_yield value * value;
}

lab::Generator<CopyCounter> counters(int n) {
    for (int i = 0; i < n; ++i) {
        CopyCounter local(i);
        co_yield local;
    }
}

lab::Generator<int> fails_after_two() {
    co_yield 1;
    co_yield 2;
    throw std::logic_error("third");
}

}  // namespace

TEST_CASE("a generator can yield move-only values that the loop reads by reference",
          "[02][step5][generator][hidden]") {
    MoveOnly::moves = 0;
    std::vector<int> seen;
    for (const MoveOnly& value : owned_values(3)) seen.push_back(value.value);
    REQUIRE(seen == std::vector<int>{0, 10, 20});
    REQUIRE(MoveOnly::moves == 0);  // the temporary is read where it lives, in the frame
}

TEST_CASE("a generator that throws before its first value throws from begin()", "[02][step5][generator][exceptions][hidden]") {
    const auto frames_before = aio::live_coroutine_frames();
    {
        lab::Generator<int> generator = throws_at_once();
        REQUIRE_THROWS_WITH(generator.begin(), "before the first value");
    }
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a moved-from generator is empty and the moved-to one carries on", "[02][step5][generator][hidden]") {
    lab::Generator<int> first = range(3);
    lab::Generator<int> second = std::move(first);
    int in_first = 0;
    for ([[maybe_unused]] int value : first) ++in_first;  // NOLINT(bugprone-use-after-move)
    std::vector<int> in_second;
    for (int value : second) in_second.push_back(value);
    REQUIRE(in_first == 0);
    REQUIRE(in_second == std::vector<int>{0, 1, 2});
}

TEST_CASE("a generator can consume another generator", "[02][step5][generator][hidden]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<int> seen;
    for (int value : squares_of(5)) seen.push_back(value);
    REQUIRE(seen == std::vector<int>{0, 1, 4, 9, 16});
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("yielded values are not copied", "[02][step5][generator][hidden]") {
    CopyCounter::copies = 0;
    int sum = 0;
    for (const CopyCounter& counter : counters(100)) sum += counter.value;
    REQUIRE(sum == 4950);
    REQUIRE(CopyCounter::copies == 0);
}

TEST_CASE("an exception in the middle of the loop frees the generator's frame", "[02][step5][generator][exceptions][frames][hidden]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<int> seen;
    try {
        for (int value : fails_after_two()) seen.push_back(value);
    } catch (const std::logic_error&) {
    }
    REQUIRE(seen == std::vector<int>{1, 2});
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}
