// Step 5: a synchronous generator. co_yield hands a value to the range-for loop and pauses
// the body until the loop asks for the next one.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <aio/detail/frame_counter.hpp>

#include "generator.hpp"

namespace {

lab::Generator<int> count_to(int n) {
    for (int i = 1; i <= n; ++i) co_yield i;
}

lab::Generator<int> logged_values(std::vector<std::string>* log) {
    log->push_back("start");
    for (int i = 1; i <= 2; ++i) {
        log->push_back("yield " + std::to_string(i));
        co_yield i;
    }
    log->push_back("end");
}

lab::Generator<long> fibonacci() {
    long a = 0;
    long b = 1;
    while (true) {
        co_yield a;
        long next = a + b;
        a = b;
        b = next;
    }
}

lab::Generator<int> yields_nothing() { co_return; }

lab::Generator<int> fails_after(int good_values) {
    for (int i = 0; i < good_values; ++i) co_yield i;
    throw std::runtime_error("generator failed");
}

struct Guard {
    std::vector<std::string>* log;
    ~Guard() { log->push_back("guard destroyed"); }
};

lab::Generator<int> guarded(std::vector<std::string>* log) {
    Guard guard{log};
    for (int i = 0;; ++i) {
        co_yield i;
        log->push_back("resumed after " + std::to_string(i));
    }
}

lab::Generator<std::string> words() {
    co_yield "temporary";       // a std::string made from a literal, alive until resumed
    std::string local = "local";
    co_yield local;
}

}  // namespace

TEST_CASE("a generator yields its values to a range-for loop, in order", "[02][step5][generator]") {
    std::vector<int> seen;
    for (int value : count_to(5)) seen.push_back(value);
    REQUIRE(seen == std::vector<int>{1, 2, 3, 4, 5});
}

TEST_CASE("a generator's body runs only when the loop asks for the next value", "[02][step5][generator][lazy]") {
    std::vector<std::string> log;
    lab::Generator<int> generator = logged_values(&log);
    REQUIRE(log.empty());
    for (int value : generator) log.push_back("got " + std::to_string(value));
    REQUIRE(log == std::vector<std::string>{"start", "yield 1", "got 1", "yield 2", "got 2", "end"});
}

TEST_CASE("an endless generator can be consumed in part", "[02][step5][generator]") {
    std::vector<long> seen;
    for (long value : fibonacci()) {
        if (seen.size() == 10) break;
        seen.push_back(value);
    }
    REQUIRE(seen == std::vector<long>{0, 1, 1, 2, 3, 5, 8, 13, 21, 34});
}

TEST_CASE("a generator that yields nothing makes an empty loop", "[02][step5][generator]") {
    int iterations = 0;
    for ([[maybe_unused]] int value : yields_nothing()) ++iterations;
    REQUIRE(iterations == 0);
}

TEST_CASE("an exception thrown by the body comes out of the loop", "[02][step5][generator][exceptions]") {
    std::vector<int> seen;
    auto consume = [&seen] {
        for (int value : fails_after(2)) seen.push_back(value);
    };
    REQUIRE_THROWS_WITH(consume(), "generator failed");
    REQUIRE(seen == std::vector<int>{0, 1});
}

TEST_CASE("leaving the loop early destroys the body's locals and frees the frame",
          "[02][step5][generator][frames]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<std::string> log;
    for (int value : guarded(&log)) {
        if (value == 1) break;
    }
    REQUIRE(log == std::vector<std::string>{"resumed after 0", "guard destroyed"});
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a generator frees its frame when it is never iterated, or iterated to the end",
          "[02][step5][generator][frames]") {
    const auto frames_before = aio::live_coroutine_frames();
    {
        lab::Generator<int> unused = count_to(3);  // never iterated
    }
    REQUIRE(aio::live_coroutine_frames() == frames_before);
    int sum = 0;
    for (int value : count_to(3)) sum += value;
    REQUIRE(sum == 6);
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a generator can yield temporaries and locals", "[02][step5][generator]") {
    std::vector<std::string> seen;
    for (const std::string& word : words()) seen.push_back(word);
    REQUIRE(seen == std::vector<std::string>{"temporary", "local"});
}
