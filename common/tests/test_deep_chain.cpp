// Awaiting coroutines must not grow the stack with the number of awaits. CMake builds this
// file twice, at -O0 (aio_test_deep_chain_O0) and -O2 (aio_test_deep_chain_O2): GCC drops
// symmetric transfer's tail call at -O0, so a design that relies on it alone overflows there.
#include <catch2/catch.hpp>

#include <pthread.h>

#include <cstdint>
#include <exception>
#include <stdexcept>

#include "test_support.hpp"

using aio_test::run_virtual;

namespace {

aio::Coro<int> value_at_once(int value) { co_return value; }

aio::Coro<std::int64_t> sum_of_synchronous_coroutines(int count) {
    std::int64_t sum = 0;
    for (int i = 0; i < count; ++i) sum += co_await value_at_once(i);
    co_return sum;
}

aio::Coro<int> yield_then_return(int value) {
    co_await aio::sleep(0);
    co_return value;
}

aio::Coro<std::int64_t> sum_of_suspending_coroutines(int count) {
    std::int64_t sum = 0;
    for (int i = 0; i < count; ++i) sum += co_await yield_then_return(i);
    co_return sum;
}

/// A chain `depth` awaits deep that really suspends at the bottom, so the way back up goes
/// through final_suspend's transfer to each awaiter, one level at a time.
aio::Coro<int> descend(int depth) {
    if (depth == 0) {
        co_await aio::sleep(0);
        co_return 0;
    }
    int below = co_await descend(depth - 1);
    co_return below + 1;
}

aio::Coro<int> throw_at_the_bottom(int depth) {
    if (depth == 0) {
        co_await aio::sleep(0);
        throw aio::Error("bottom");
    }
    co_return co_await throw_at_the_bottom(depth - 1);
}

/// Runs `function` on a thread with a stack of `bytes` and waits for it; rethrows what it
/// throws. The way *down* a chain of nested awaits is ordinary recursion (each level is an
/// await_suspend that resumes the next body): 64 bytes a level at -O2, but 864 under
/// AddressSanitizer at -O2, so 10,000 levels would not fit the default 8 MiB there. The
/// rule under test is the way back *up*, which must work whatever the depth's stack cost.
template <class Function>
void run_with_stack(std::size_t bytes, Function function) {
    struct Job {
        Function function;
        std::exception_ptr error;
        static void* run(void* self) {
            Job& job = *static_cast<Job*>(self);
            try {
                job.function();
            } catch (...) {
                job.error = std::current_exception();
            }
            return nullptr;
        }
    } job{std::move(function), nullptr};
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, bytes);
    pthread_t thread;
    const int failed = pthread_create(&thread, &attributes, &Job::run, &job);
    pthread_attr_destroy(&attributes);
    if (failed) throw std::runtime_error("pthread_create failed");
    pthread_join(thread, nullptr);
    if (job.error) std::rethrow_exception(job.error);
}

constexpr std::size_t big_stack = 64u << 20;

}  // namespace

TEST_CASE("awaiting 1,000,000 synchronously completing coroutines in a loop keeps the stack flat",
          "[coro][deep]") {
    aio_test::FrameLeakCheck frames;
    constexpr int count = 1'000'000;
    REQUIRE(run_virtual(sum_of_synchronous_coroutines(count)) ==
            std::int64_t{count} * (count - 1) / 2);
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("awaiting 100,000 coroutines that each suspend once keeps the stack flat",
          "[coro][deep]") {
    aio_test::FrameLeakCheck frames;
    constexpr int count = 100'000;
    REQUIRE(run_virtual(sum_of_suspending_coroutines(count)) ==
            std::int64_t{count} * (count - 1) / 2);
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a chain of 10,000 nested awaits that suspends at the bottom unwinds to the top",
          "[coro][deep]") {
    aio_test::FrameLeakCheck frames;
    int result = -1;
    run_with_stack(big_stack, [&result] { result = run_virtual(descend(10'000)); });
    REQUIRE(result == 10'000);
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("an exception thrown at the bottom of a 10,000-deep chain reaches the top",
          "[coro][deep][exception]") {
    aio_test::FrameLeakCheck frames;
    REQUIRE_THROWS_WITH(run_with_stack(big_stack, [] { run_virtual(throw_at_the_bottom(10'000)); }),
                        "bottom");
    REQUIRE(frames.leaked() == 0);
}
