// Step 2: the first error reaches the gather's awaiter at once; return_exceptions collects
// every outcome instead.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "gather.hpp"
#include "lab06_support.hpp"

using lab_test::after;
using lab_test::cancelling;
using lab_test::Events;
using lab_test::fail_after;
using lab_test::Log;
using lab_test::now;

namespace {

aio::Coro<void> first_error(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(after(events, "slow", 3, 1));
    coros.push_back(fail_after(events, "bad", 1, "boom"));
    coros.push_back(fail_after(events, "worse", 2, "bang"));
    coros.push_back(after(events, "slower", 5, 2));
    auto gathering = lab::gather(std::move(coros));
    try {
        co_await std::move(gathering);
    } catch (const std::runtime_error& error) {
        events->record("gather raised ", error.what(), " @", now());
    }
    co_await aio::sleep(10);  // the other children go on: they were not cancelled
    events->record("main ends @", now());
}

}  // namespace

TEST_CASE("the first child exception reaches the gather's awaiter at once and the others keep running",
          "[06][step2][gather][error]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(first_error(&events));
    // Awaiting the children one by one would report "boom" only at 3 s, after "slow".
    CHECK(events.log == Log{"slow starts @0", "bad starts @0", "worse starts @0", "slower starts @0",
                            "bad raises boom @1", "gather raised boom @1", "worse raises bang @2",
                            "slow returns 1 @3", "slower returns 2 @5", "main ends @11"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancelled_child(Events* events) {
    aio::Task<int> victim = aio::create_task(after(events, "victim", 5, 1));
    auto gathering = lab::gather(victim, after(events, "sibling", 3, 2));
    aio::get_running_loop().call_later(1.0, [victim] { victim.cancel("stop"); });
    try {
        co_await gathering;
    } catch (const aio::CancelledError& cancelled) {
        events->record("gather raised CancelledError(", cancelled.message(), ") @", now(),
                       " gather cancelled=", gathering.cancelled(), " main cancelling=", cancelling());
    }
    co_await aio::sleep(10);
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("a cancelled child makes gather raise CancelledError without cancelling the gather or its siblings",
          "[06][step2][gather][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(cancelled_child(&events));
    CHECK(events.log == Log{"victim starts @0", "sibling starts @0", "victim cancelled(stop) @1",
                            "gather raised CancelledError(stop) @1 gather cancelled=0 main cancelling=0",
                            "sibling returns 2 @3", "main ends @11"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> nothing(Events* events) {
    events->record("nothing starts @", now());
    co_await aio::sleep(0);
}

aio::Coro<void> collect_everything(Events* events) {
    aio::Task<int> victim = aio::create_task(after(events, "victim", 5, 1));
    aio::get_running_loop().call_later(1.0, [victim] { victim.cancel("stop"); });
    auto gathering = lab::gather(lab::return_exceptions, after(events, "good", 3, 7),
                                 fail_after(events, "bad", 2, "boom"), victim, nothing(events));
    auto [good, bad, cancelled, none] = co_await std::move(gathering);
    static_assert(std::is_same_v<decltype(none), lab::Outcome<void>>);
    events->record("good: has_value=", good.has_value(), " value=", good.value());
    try {
        bad.value();
    } catch (const std::runtime_error& error) {
        events->record("bad: has_value=", bad.has_value(), " value() rethrows ", error.what());
    }
    events->record("victim: cancelled=", cancelled.cancelled(), " has_value=", cancelled.has_value());
    events->record("none: has_value=", none.has_value(), " @", now());
}
}  // namespace

TEST_CASE("gather with return_exceptions collects values, exceptions and cancellations in argument order",
          "[06][step2][gather][error][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(collect_everything(&events));
    CHECK(events.log == Log{"victim starts @0", "good starts @0", "bad starts @0", "nothing starts @0",
                            "victim cancelled(stop) @1", "bad raises boom @2", "good returns 7 @3",
                            "good: has_value=1 value=7", "bad: has_value=0 value() rethrows boom",
                            "victim: cancelled=1 has_value=0", "none: has_value=1 @3"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> vector_outcomes(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(after(events, "a", 1, 1));
    coros.push_back(fail_after(events, "b", 2, "boom"));
    auto gathering = lab::gather(lab::return_exceptions, std::move(coros));
    std::vector<lab::Outcome<int>> outcomes = co_await std::move(gathering);
    events->record("a: ", outcomes[0].value(), " b failed: ", !outcomes[1], " @", now());
}
}  // namespace

TEST_CASE("gather of a vector with return_exceptions gives a vector of outcomes", "[06][step2][gather][error]") {
    Events events;
    lab_test::run_virtual(vector_outcomes(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "a returns 1 @1", "b raises boom @2", "a: 1 b failed: 1 @2"});
}

namespace {
aio::Coro<void> two_failures(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(fail_after(events, "bad", 1, "boom"));
    coros.push_back(fail_after(events, "worse", 2, "bang"));
    auto gathering = lab::gather(std::move(coros));
    try {
        co_await std::move(gathering);
    } catch (const std::runtime_error& error) {
        events->record("gather raised ", error.what(), " @", now());
    }
    co_await aio::sleep(5);
}
}  // namespace

TEST_CASE("an error that gather did not raise is consumed, not reported as never retrieved",
          "[06][step2][gather][error]") {
    Events events;
    lab_test::Reports reports;
    {
        aio::VirtualTimeLoop loop;
        reports.install(loop);
        loop.run_until_complete(two_failures(&events));
    }
    CHECK(events.log == Log{"bad starts @0", "worse starts @0", "bad raises boom @1", "gather raised boom @1",
                            "worse raises bang @2"});
    // asyncio's gather calls exception() on a child that fails after the gather failed,
    // which marks the error retrieved: "bang" is not reported when its task is freed.
    CHECK(reports.messages.empty());
}
