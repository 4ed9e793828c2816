// Step 2: an exception the generator's body lets escape comes out of the consumer's next(),
// once; after it the generator is exhausted.
#include <catch2/catch.hpp>

#include <string>

#include "aio/aio.hpp"
#include "async_generator.hpp"
#include "lab07_support.hpp"

using lab_test::Boom;
using lab_test::Events;
using lab_test::Log;

namespace {

lab::AsyncGenerator<int> fail_after(int yields, Events* events) {
    for (int i = 1; i <= yields; ++i) co_yield i;
    events->record("body throws");
    throw Boom("boom", 42);
}

/// Runs `gen` to its end; records each value, then the error it ends with, then what a
/// further next() returns.
aio::Coro<void> consume_expecting_error(lab::AsyncGenerator<int> gen, Events* events) {
    try {
        while (auto value = co_await gen.next()) events->record("got ", *value);
        events->record("no error");
    } catch (const Boom& error) {
        events->record("consumer caught ", error.what(), " code ", error.code);
    }
    auto after = co_await gen.next();
    events->record("next after the error has a value: ", after.has_value());
}

}  // namespace

TEST_CASE("an exception thrown before the first yield comes out of the first next()",
          "[07][step2][exception]") {
    Events events;
    aio::Coro<void> consumer = consume_expecting_error(fail_after(0, &events), &events);
    lab_test::run_virtual(std::move(consumer));
    CHECK(events.log == Log{"body throws", "consumer caught boom code 42", "next after the error has a value: 0"});
}

TEST_CASE("an exception thrown after some yields comes out of next() after those values",
          "[07][step2][exception]") {
    Events events;
    aio::Coro<void> consumer = consume_expecting_error(fail_after(2, &events), &events);
    lab_test::run_virtual(std::move(consumer));
    CHECK(events.log == Log{"got 1", "got 2", "body throws", "consumer caught boom code 42",
                            "next after the error has a value: 0"});
}

namespace {

aio::Coro<int> sum_all(lab::AsyncGenerator<int> gen) {
    int sum = 0;
    while (auto value = co_await gen.next()) sum += *value;
    co_return sum;
}

}  // namespace

TEST_CASE("an exception the consumer does not catch ends the consumer's task with it",
          "[07][step2][exception]") {
    Events events;
    aio::VirtualTimeLoop loop;
    aio::Task<int> consumer = aio::create_task(loop, sum_all(fail_after(3, &events)));
    CHECK_THROWS_AS(loop.run_until_complete(consumer), Boom);
    CHECK(consumer.done());
    CHECK_FALSE(consumer.cancelled());
    CHECK(events.log == Log{"body throws"});
}

namespace {

lab::AsyncGenerator<int> yields_then_catches(Events* events) {
    try {
        co_yield 1;
        throw Boom("inner");
    } catch (const Boom& error) {
        events->record("generator handled ", error.what());
    }
    co_yield 2;
}

}  // namespace

TEST_CASE("an exception the body catches itself never reaches the consumer", "[07][step2][exception]") {
    Events events;
    aio::Coro<void> consumer = lab_test::consume_all(yields_then_catches(&events), &events);
    lab_test::run_virtual(std::move(consumer));
    CHECK(events.log == Log{"got 1", "generator handled inner", "got 2", "exhausted"});
}
