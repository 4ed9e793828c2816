// Step 4: stopping early. A consumer that leaves its loop (break, return, an exception) or is
// cancelled must not leak the generator: its frame is freed and the RAII objects in its body
// run, at once.
#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "aio/aio.hpp"
#include "async_generator.hpp"
#include "lab07_support.hpp"

using lab_test::Events;
using lab_test::FrameLeakCheck;
using lab_test::Log;
using lab_test::now;

namespace {

aio::Coro<void> break_early(Events* events, std::int64_t baseline) {
    {
        auto gen = lab_test::guarded_count(events);
        while (auto value = co_await gen.next()) {
            events->record("got ", *value);
            if (*value == 2) break;
        }
        // This coroutine's frame and the generator's.
        events->record("after break, frames: ", aio::live_coroutine_frames() - baseline);
    }
    events->record("generator gone, frames: ", aio::live_coroutine_frames() - baseline);
}

}  // namespace

TEST_CASE("breaking out of the consumer loop runs the generator's cleanup and frees its frame",
          "[07][step4][cleanup][frames]") {
    FrameLeakCheck frames;
    Events events;
    lab_test::run_virtual(break_early(&events, aio::live_coroutine_frames()));
    CHECK(events.log == Log{"got 1", "got 2", "after break, frames: 2", "generator guard destroyed",
                            "generator gone, frames: 1"});
    CHECK(frames.leaked() == 0);
}

TEST_CASE("an async generator that is never awaited never runs its body and frees its frame",
          "[07][step4][cleanup][frames]") {
    FrameLeakCheck frames;
    Events events;
    {
        auto gen = lab_test::count_to(3, &events);
        (void)gen;
    }
    CHECK(events.log.empty());
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> throw_from_the_loop(Events* events) {
    auto gen = lab_test::guarded_count(events);
    while (auto value = co_await gen.next()) {
        events->record("got ", *value);
        if (*value == 3) throw lab_test::Boom("consumer gives up");
    }
}

}  // namespace

TEST_CASE("an exception in the consumer's loop destroys the generator on the way out", "[07][step4][cleanup]") {
    FrameLeakCheck frames;
    Events events;
    CHECK_THROWS_AS(lab_test::run_virtual(throw_from_the_loop(&events)), lab_test::Boom);
    CHECK(events.log == Log{"got 1", "got 2", "got 3", "generator guard destroyed"});
    CHECK(frames.leaked() == 0);
}

namespace {

lab::AsyncGenerator<int> sleepy(Events* events) {
    lab_test::Guard guard{events, "generator guard"};
    co_yield 1;
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError& cancelled) {
        events->record("generator got CancelledError '", cancelled.message(), "' @", now());
        throw;
    }
    events->record("not reached: the sleep finished");
    co_yield 2;
}

aio::Coro<void> cancel_consumer(Events* events) {
    aio::Coro<void> consuming = lab_test::consume_all(sleepy(events), events);
    aio::Task<void> consumer = aio::create_task(std::move(consuming));
    co_await aio::sleep(1);
    events->record("cancel @", now());
    consumer.cancel("stop");
    try {
        co_await consumer;
        events->record("not reached: the consumer finished");
    } catch (const aio::CancelledError& cancelled) {
        events->record("the consumer ended with CancelledError '", cancelled.message(), "'");
    }
    events->record("consumer cancelled: ", consumer.cancelled());
}

}  // namespace

TEST_CASE("cancelling the consumer while the generator sleeps raises CancelledError in the generator",
          "[07][step4][cancel]") {
    FrameLeakCheck frames;
    Events events;
    lab_test::run_virtual(cancel_consumer(&events));
    CHECK(events.log == Log{"got 1", "cancel @1", "generator got CancelledError 'stop' @1", "generator guard destroyed",
                            "the consumer ended with CancelledError 'stop'", "consumer cancelled: 1"});
    CHECK(frames.leaked() == 0);
}

namespace {

lab::AsyncGenerator<int> swallows_cancel(Events* events) {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        events->record("generator swallowed CancelledError @", now());
    }
    co_yield 42;
}

aio::Coro<void> cancel_swallowed(Events* events) {
    aio::Coro<void> consuming = lab_test::consume_all(swallows_cancel(events), events);
    aio::Task<void> consumer = aio::create_task(std::move(consuming));
    co_await aio::sleep(1);
    consumer.cancel();
    co_await consumer;
    events->record("consumer cancelled: ", consumer.cancelled());
}

}  // namespace

TEST_CASE("a generator that catches the cancellation goes on, like a task that catches it", "[07][step4][cancel]") {
    Events events;
    lab_test::run_virtual(cancel_swallowed(&events));
    CHECK(events.log == Log{"generator swallowed CancelledError @1", "got 42", "exhausted", "consumer cancelled: 0"});
}

namespace {

aio::Coro<int> sum_slowly(lab::AsyncGenerator<int> gen) {
    int sum = 0;
    while (auto value = co_await gen.next()) sum += *value;
    co_return sum;
}

lab::AsyncGenerator<int> guarded_ticks(Events* events) {
    lab_test::Guard guard{events, "generator guard"};
    for (int i = 1; i <= 10; ++i) {
        co_await aio::sleep(1);
        co_yield i;
    }
}

aio::Coro<void> time_out_a_consumer(Events* events) {
    aio::Coro<int> consuming = sum_slowly(guarded_ticks(events));
    aio::Coro<int> limited = aio::wait_for(std::move(consuming), 3.5);
    try {
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
}

}  // namespace

TEST_CASE("aio::wait_for on a consumer cancels the generator at its await and runs its cleanup",
          "[07][step4][cancel][integration]") {
    FrameLeakCheck frames;
    Events events;
    lab_test::run_virtual(time_out_a_consumer(&events));
    CHECK(events.log == Log{"generator guard destroyed", "TimeoutError @3.5"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> move_midway(Events* events) {
    auto original = lab_test::count_to(3, nullptr);
    auto first = co_await original.next();
    events->record("original got ", *first);
    lab::AsyncGenerator<int> moved = std::move(original);
    events->record("moved-from owns a frame: ", static_cast<bool>(original));  // NOLINT(bugprone-use-after-move)
    while (auto value = co_await moved.next()) events->record("moved got ", *value);
}

}  // namespace

TEST_CASE("a moved async generator continues where the original left off", "[07][step4][move]") {
    FrameLeakCheck frames;
    Events events;
    lab_test::run_virtual(move_midway(&events));
    CHECK(events.log == Log{"original got 1", "moved-from owns a frame: 0", "moved got 2", "moved got 3"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> assign_over_started(Events* events) {
    auto target = lab_test::guarded_count(events);
    auto first = co_await target.next();
    events->record("got ", *first);
    target = lab_test::count_to(1, nullptr);
    events->record("assigned");
    auto replaced = co_await target.next();
    events->record("new generator got ", *replaced);
}

}  // namespace

TEST_CASE("move-assigning an async generator destroys the frame it replaces", "[07][step4][move]") {
    FrameLeakCheck frames;
    Events events;
    lab_test::run_virtual(assign_over_started(&events));
    CHECK(events.log == Log{"got 1", "generator guard destroyed", "assigned", "new generator got 1"});
    CHECK(frames.leaked() == 0);
}

namespace {

lab::AsyncGenerator<int> waits_forever(aio::Future<void> never, Events* events) {
    lab_test::Guard guard{events, "generator guard"};
    co_await never;
    co_yield 1;
}

aio::Coro<void> consume_one(lab::AsyncGenerator<int> gen, Events* events) {
    auto value = co_await gen.next();
    events->record("not reached: got ", value.has_value());
}

aio::Coro<void> start_and_leave(Events* events) {
    aio::Future<void> never(aio::get_running_loop());
    aio::Coro<void> consuming = consume_one(waits_forever(never, events), events);
    aio::Task<void> consumer = aio::create_task(std::move(consuming));
    co_await aio::sleep(1);  // the consumer now waits inside the generator
    events->record("main returns");
}

}  // namespace

TEST_CASE("a pending consumer destroyed by the closing loop frees the generator suspended in an await",
          "[07][step4][cleanup][frames]") {
    FrameLeakCheck frames;
    Events events;
    lab_test::StderrCapture err;
    {
        aio::VirtualTimeLoop loop;
        loop.run_until_complete(start_and_leave(&events));
        events.record("closing the loop");
    }
    CHECK_THAT(err.text(), Catch::Contains("Task was destroyed but it is pending!"));
    CHECK(events.log == Log{"main returns", "closing the loop", "generator guard destroyed"});
    CHECK(frames.leaked() == 0);
}
