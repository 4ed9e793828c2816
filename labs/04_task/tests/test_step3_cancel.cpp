// Step 3: cancel() raises CancelledError at the coroutine's await point; a request made
// while nothing is awaited is kept until the next step delivers it.
#include <catch2/catch.hpp>

#include <string>

#include "aio/sleep.hpp"
#include "aio/wait_for.hpp"
#include "lab04_support.hpp"
#include "task.hpp"

using lab_test::Events;
using lab_test::Log;

namespace {

aio::Coro<int> sleep_then_return(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}

aio::Coro<void> sleep_and_record(Events* events, double delay) {
    try {
        co_await aio::sleep(delay);
        events->record("slept");
    } catch (const aio::CancelledError& error) {
        events->record("cancelled: ", error.message());
        throw;
    }
}

aio::Coro<int> await_future(aio::Future<int> future) {
    int value = co_await future;
    co_return value;
}

}  // namespace

TEST_CASE("cancel raises CancelledError at the await point and the task ends cancelled",
          "[04][step3][cancel]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto task = lab::create_task(loop, sleep_and_record(&events, 10));
    loop.call_later(1.0, [task] { CHECK(task.cancel("enough")); });
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(task.cancelled());
    CHECK(task.cancel_message() == "enough");
    CHECK(events.log == Log{"cancelled: enough"});
    CHECK(aio::to_seconds(loop.time()) == Approx(1.0));
}

TEST_CASE("cancelling a task cancels the future it waits on", "[04][step3][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    auto task = lab::create_task(loop, await_future(future));
    loop.call_later(1.0, [task] { task.cancel("stop"); });
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(future.cancelled());
    CHECK(future.cancel_message() == "stop");
}

TEST_CASE("a task cancelled before its first step never runs its body", "[04][step3][cancel]") {
    aio::VirtualTimeLoop loop;
    Events events;
    const auto frames_before = aio::live_coroutine_frames();
    auto task = lab::create_task(loop, sleep_and_record(&events, 1));
    CHECK(task.cancel());
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(task.cancelled());
    CHECK(events.log.empty());
    CHECK(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a cancel made while the task is ready is delivered at its next await", "[04][step3][cancel]") {
    // The task is in the ready queue (after sleep(0)): nothing to cancel but the task itself,
    // so the request must stick until the next step delivers it.
    aio::VirtualTimeLoop loop;
    Events events;
    auto yielder = [](Events* log) -> aio::Coro<void> {
        log->record("step 1");
        try {
            co_await aio::sleep(0);
            log->record("step 2 resumed normally");
        } catch (const aio::CancelledError&) {
            log->record("step 2 got CancelledError");
            throw;
        }
    };
    auto task = lab::create_task(loop, yielder(&events));
    loop.call_soon([task] { task.cancel(); });  // runs right after step 1
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(events.log == Log{"step 1", "step 2 got CancelledError"});
}

TEST_CASE("a task that catches CancelledError can go on and finish with a value", "[04][step3][cancel]") {
    aio::VirtualTimeLoop loop;
    auto stubborn = []() -> aio::Coro<int> {
        bool was_cancelled = false;
        try {
            co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
            was_cancelled = true;  // no co_await in a handler: C++ forbids it
        }
        if (was_cancelled) co_await aio::sleep(1);  // clean-up that takes time
        co_return was_cancelled ? 1 : 0;
    };
    auto task = lab::create_task(loop, stubborn());
    loop.call_later(2.0, [task] { task.cancel(); });
    CHECK(loop.run_until_complete(task) == 1);
    CHECK_FALSE(task.cancelled());
    CHECK(aio::to_seconds(loop.time()) == Approx(3.0));
}

TEST_CASE("cancel() of a task that is done returns false", "[04][step3][cancel]") {
    aio::VirtualTimeLoop loop;
    auto task = lab::create_task(loop, sleep_then_return(1, 5));
    loop.run_until_complete(task);
    CHECK_FALSE(task.cancel());
    CHECK_FALSE(task.cancelled());
    CHECK(task.cancelling() == 0);
}

TEST_CASE("cancelling() counts the cancel requests and uncancel() withdraws one", "[04][step3][cancel]") {
    aio::VirtualTimeLoop loop;
    auto task = lab::create_task(loop, sleep_then_return(1, 5));
    CHECK(task.cancelling() == 0);
    task.cancel();
    task.cancel();
    CHECK(task.cancelling() == 2);
    CHECK(task.uncancel() == 1);
    CHECK(task.cancelling() == 1);
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);  // one request is left
}

TEST_CASE("uncancel() down to zero withdraws a cancellation not delivered yet", "[04][step3][cancel]") {
    aio::VirtualTimeLoop loop;
    auto task = lab::create_task(loop, sleep_then_return(1, 5));
    task.cancel();
    CHECK(task.uncancel() == 0);
    CHECK(loop.run_until_complete(task) == 5);
    CHECK_FALSE(task.cancelled());
}

TEST_CASE("a cancel that arrives after the last await still cancels the task", "[04][step3][cancel]") {
    aio::VirtualTimeLoop loop;
    auto cancels_itself = []() -> aio::Coro<int> {
        co_await aio::sleep(1);
        aio::current_task()->cancel("from inside");
        co_return 1;  // no await left to deliver it at
    };
    auto task = lab::create_task(loop, cancels_itself());
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(task.cancelled());
}

TEST_CASE("a task cancelled during its own step gets CancelledError at its next await at once",
          "[04][step3][cancel]") {
    aio::VirtualTimeLoop loop;
    auto cancels_itself = []() -> aio::Coro<int> {
        aio::current_task()->cancel();
        co_await aio::sleep(100);  // the sleep is cancelled as soon as the task waits on it
        co_return 1;
    };
    auto task = lab::create_task(loop, cancels_itself());
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(aio::to_seconds(loop.time()) == Approx(0.0));
}

TEST_CASE("an aio task cancelled while awaiting a lab task cancels the lab task",
          "[04][step3][cancel][integration]") {
    aio::VirtualTimeLoop loop;
    auto lab_task = lab::create_task(loop, sleep_then_return(10, 1));
    auto waiter = [](lab::Task<int> awaited) -> aio::Coro<int> { co_return co_await awaited; };
    auto aio_task = aio::create_task(loop, waiter(lab_task));
    loop.call_later(1.0, [aio_task] { aio_task.cancel(); });
    CHECK_THROWS_AS(loop.run_until_complete(aio_task), aio::CancelledError);
    CHECK_THROWS_AS(loop.run_until_complete(lab_task), aio::CancelledError);
    CHECK(lab_task.cancelled());
}

TEST_CASE("aio::wait_for cancels a lab task that takes too long", "[04][step3][cancel][integration]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto slow = lab::create_task(loop, sleep_and_record(&events, 10));
    auto limit = [](lab::Task<void> task) -> aio::Coro<void> {
        // Named local, not co_await on a call's result: GCC 12 (see wait_for.hpp).
        aio::Coro<void> limited = aio::wait_for(aio::Future<void>(task), 2.0);
        co_await std::move(limited);
    };
    auto main = lab::create_task(loop, limit(slow));
    CHECK_THROWS_AS(loop.run_until_complete(main), aio::TimeoutError);
    CHECK(slow.cancelled());
    REQUIRE(events.log.size() == 1);
    CHECK_THAT(events.log[0], Catch::StartsWith("cancelled"));
    CHECK(aio::to_seconds(loop.time()) == Approx(2.0));
}
