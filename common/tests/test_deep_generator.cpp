// Generators that produce a million values must run in constant stack at every optimisation
// level. GCC turns symmetric transfer into a nested call at -O0, so this file is meant to be
// built twice, at -O0 and -O2, like test_deep_chain.cpp.
//
// A value produced without suspending returns into the consumer's await_suspend (no transfer
// at all); a value produced after a real suspension resumes the consumer by symmetric
// transfer, whose nesting is bounded by the number of generators in the chain, never by the
// number of values. A regression overflows the 8 MB stack long before a million.
#include <catch2/catch.hpp>

#include "aio/async_generator.hpp"
#include "aio/generator.hpp"
#include "test_support.hpp"

namespace {

aio::Generator<int> count_to(int n) {
    for (int i = 1; i <= n; ++i) co_yield i;
}

aio::AsyncGenerator<int> count_to_async(int n) {
    for (int i = 1; i <= n; ++i) co_yield i;
}

aio::AsyncGenerator<int> count_after_each_yield_to_loop(int n) {
    for (int i = 1; i <= n; ++i) {
        co_await aio::sleep(0);
        co_yield i;
    }
}

/// Forwards every value of `inner`: a chain of two generators between producer and consumer.
aio::AsyncGenerator<int> forward(aio::AsyncGenerator<int> inner) {
    while (auto value = co_await inner.next()) co_yield *value;
}

aio::Coro<long long> sum_all(aio::AsyncGenerator<int> gen) {
    long long sum = 0;
    while (auto value = co_await gen.next()) sum += *value;
    co_return sum;
}

}  // namespace

TEST_CASE("a generator of a million values runs in constant stack", "[generator][deep]") {
    long long sum = 0;
    for (int value : count_to(1'000'000)) sum += value;
    REQUIRE(sum == 500'000'500'000LL);
}

TEST_CASE("an async generator of a million synchronously produced values runs in constant stack",
          "[async_generator][deep]") {
    aio_test::FrameLeakCheck frames;
    REQUIRE(aio_test::run_virtual(sum_all(count_to_async(1'000'000))) == 500'000'500'000LL);
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a million values forwarded through a second async generator run in constant stack",
          "[async_generator][deep]") {
    REQUIRE(aio_test::run_virtual(sum_all(forward(count_to_async(1'000'000)))) == 500'000'500'000LL);
}

TEST_CASE("values produced after a real suspension resume the consumer without nesting",
          "[async_generator][deep]") {
    // 200,000 loop iterations: enough to overflow if each transfer nested, quick to run.
    REQUIRE(aio_test::run_virtual(sum_all(forward(count_after_each_yield_to_loop(200'000)))) ==
            20'000'100'000LL);
}
