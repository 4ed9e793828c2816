// Step 3: co_await inside the generator. The body waits (aio::sleep, aio::Future, aio::Coro,
// another generator), the consumer's task waits with it, and the body's next co_yield wakes
// the consumer.
#include <catch2/catch.hpp>

#include <string>

#include "aio/aio.hpp"
#include "async_generator.hpp"
#include "lab07_support.hpp"

using lab_test::Events;
using lab_test::Log;
using lab_test::now;

namespace {

aio::Coro<void> consume_ticks(Events* events) {
    auto gen = lab_test::ticking(3, 1.5, events);
    while (auto value = co_await gen.next()) events->record("got ", *value, " @", now());
    events->record("exhausted @", now());
}

}  // namespace

TEST_CASE("a generator that sleeps between yields delivers each value at its virtual time",
          "[07][step3][await][time]") {
    Events events;
    lab_test::run_virtual(consume_ticks(&events));
    CHECK(events.log == Log{"yield 1 @1.5", "got 1 @1.5", "yield 2 @3", "got 2 @3", "yield 3 @4.5", "got 3 @4.5",
                            "exhausted @4.5"});
}

namespace {

aio::Coro<int> plus_one(int value) { co_return value + 1; }

aio::Coro<int> later_plus_one(int value) {
    co_await aio::sleep(1);
    co_return value + 1;
}

lab::AsyncGenerator<int> from_awaits(aio::Future<int> later, Events* events) {
    aio::Coro<int> at_once = plus_one(1);  // a named local: no co_await on a call with temporaries
    const int from_coro = co_await std::move(at_once);
    co_yield from_coro;
    aio::Coro<int> slowly = later_plus_one(10);
    const int from_slow_coro = co_await std::move(slowly);
    co_yield from_slow_coro;
    const int from_future = co_await later;
    events->record("future done @", now());
    co_yield from_future;
}

aio::Coro<void> awaits_inside(Events* events) {
    aio::Future<int> later(aio::get_running_loop());
    aio::get_running_loop().call_later(3.0, [later] { later.set_result(7); });
    auto gen = from_awaits(later, events);
    while (auto value = co_await gen.next()) events->record("got ", *value, " @", now());
}

}  // namespace

TEST_CASE("an async generator can await coroutines and futures between yields", "[07][step3][await][integration]") {
    Events events;
    lab_test::run_virtual(awaits_inside(&events));
    CHECK(events.log == Log{"got 2 @0", "got 11 @1", "future done @3", "got 7 @3"});
}

namespace {

lab::AsyncGenerator<int> reports_task(Events* events) {
    events->record("body runs in the consumer's task: ", aio::current_task()->get_name() == "consumer");
    co_await aio::sleep(1);
    events->record("still after a sleep: ", aio::current_task()->get_name() == "consumer");
    co_yield 1;
}

aio::Coro<void> run_consumer_task(Events* events) {
    aio::Coro<void> consuming = lab_test::consume_all(reports_task(events), events);
    aio::Task<void> consumer = aio::create_task(std::move(consuming), "consumer");
    co_await consumer;
}

}  // namespace

TEST_CASE("an async generator's body runs in the consumer's task", "[07][step3][await]") {
    Events events;
    lab_test::run_virtual(run_consumer_task(&events));
    CHECK(events.log == Log{"body runs in the consumer's task: 1", "still after a sleep: 1", "got 1", "exhausted"});
}

namespace {

aio::Coro<void> other_work(Events* events) {
    for (int i = 0; i < 3; ++i) {
        co_await aio::sleep(1);
        events->record("other task @", now());
    }
}

aio::Coro<void> consume_beside_other_work(Events* events) {
    aio::Task<void> other = aio::create_task(other_work(events));
    auto gen = lab_test::ticking(2, 1.25, events);
    while (auto value = co_await gen.next()) events->record("got ", *value, " @", now());
    co_await other;
}

}  // namespace

TEST_CASE("other tasks run while the generator waits", "[07][step3][await]") {
    Events events;
    lab_test::run_virtual(consume_beside_other_work(&events));
    CHECK(events.log == Log{"other task @1", "yield 1 @1.25", "got 1 @1.25", "other task @2", "yield 2 @2.5",
                            "got 2 @2.5", "other task @3"});
}

namespace {

lab::AsyncGenerator<int> doubled(lab::AsyncGenerator<int> inner) {
    while (auto value = co_await inner.next()) co_yield *value * 2;
}

}  // namespace

TEST_CASE("an async generator can consume another one, suspending through both", "[07][step3][await]") {
    Events events;
    aio::Coro<void> consumer = lab_test::consume_all(doubled(lab_test::ticking(3, 1.0, &events)), &events);
    lab_test::run_virtual(std::move(consumer));
    CHECK(events.log == Log{"yield 1 @1", "got 2", "yield 2 @2", "got 4", "yield 3 @3", "got 6", "exhausted"});
}

namespace {

lab::AsyncGenerator<int> fail_after_sleep(Events* events) {
    co_yield 1;
    co_await aio::sleep(2);
    events->record("body throws @", now());
    throw lab_test::Boom("late boom");
}

aio::Coro<void> consume_late_error(Events* events) {
    auto gen = fail_after_sleep(events);
    try {
        while (auto value = co_await gen.next()) events->record("got ", *value, " @", now());
    } catch (const lab_test::Boom& error) {
        events->record("consumer caught ", error.what(), " @", now());
    }
}

}  // namespace

TEST_CASE("an exception thrown after an await reaches the waiting consumer", "[07][step3][await][exception]") {
    Events events;
    lab_test::run_virtual(consume_late_error(&events));
    CHECK(events.log == Log{"got 1 @0", "body throws @2", "consumer caught late boom @2"});
}

namespace {

aio::Coro<void> pull_one(lab::AsyncGenerator<int>* gen, Events* events) {
    auto value = co_await gen->next();
    events->record("first consumer got ", *value);
}

aio::Coro<void> second_consumer(Events* events) {
    auto gen = lab_test::ticking(1, 1.0, events);
    aio::Task<void> first = aio::create_task(pull_one(&gen, events));
    co_await aio::sleep(0.5);  // the first consumer now waits inside the generator
    try {
        auto second = gen.next();
        (void)second;
        events->record("no error");
    } catch (const aio::RuntimeError& error) {
        events->record("second next(): ", error.what());
    }
    co_await first;
}

}  // namespace

TEST_CASE("next() while another next() is in flight raises RuntimeError", "[07][step3][await][errors]") {
    Events events;
    lab_test::run_virtual(second_consumer(&events));
    CHECK(events.log == Log{"second next(): anext(): asynchronous generator is already running", "yield 1 @1",
                            "first consumer got 1"});
}
