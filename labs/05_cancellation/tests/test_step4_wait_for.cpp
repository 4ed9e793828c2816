// Step 4: lab::wait_for. A time limit that gives up on slow work must stop that work, and
// wait until it has stopped, before it reports TimeoutError.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "aio/aio.hpp"
#include "lab05_support.hpp"
#include "shield.hpp"
#include "wait_for.hpp"

using lab_test::Events;
using lab_test::Log;
using lab_test::cancelling;
using lab_test::now;

// Each wait_for is bound to a named local before it is awaited: GCC 12 mishandles some
// temporaries inside a co_await expression.

namespace {

aio::Coro<void> coroutine_in_time(Events* events) {
    aio::Coro<int> limited = lab::wait_for(lab_test::inner(events, 1, 42), 5.0);
    const int value = co_await std::move(limited);
    events->record("got ", value, " @", now());
    co_await aio::sleep(10);  // the deadline's timer is gone: nothing cancels this sleep
    events->record("slept past the deadline @", now(), " cancelling=", cancelling());
}

}  // namespace

TEST_CASE("wait_for returns the value of a coroutine that finishes in time and leaves no timer",
          "[05][step4][wait_for]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(coroutine_in_time(&events));
    CHECK(events.log == Log{"inner starts @0", "inner returns @1", "inner cleanup @1", "got 42 @1",
                            "slept past the deadline @11 cancelling=0"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> task_and_future_in_time(Events* events) {
    aio::Task<int> task = aio::create_task(lab_test::inner(events, 1, 7));
    aio::Coro<int> from_task = lab::wait_for(task, 5.0);
    const int value = co_await std::move(from_task);
    events->record("task gave ", value, " @", now());

    aio::Future<std::string> future;
    aio::get_running_loop().call_later(2.0, [future] { future.set_result("ready"); });
    aio::Coro<std::string> from_future = lab::wait_for(future, aio::seconds(5));
    const std::string text = co_await std::move(from_future);
    events->record("future gave ", text, " @", now());
}

}  // namespace

TEST_CASE("wait_for returns the value of a task or future that is done in time", "[05][step4][wait_for]") {
    Events events;
    lab_test::run_virtual(task_and_future_in_time(&events));
    CHECK(events.log == Log{"inner starts @0", "inner returns @1", "inner cleanup @1", "task gave 7 @1",
                            "future gave ready @3"});
}

namespace {

aio::Coro<void> coroutine_times_out(Events* events) {
    try {
        aio::Coro<int> limited = lab::wait_for(lab_test::inner(events, 10, 1), 2.0);
        co_await std::move(limited);
        events->record("no error");
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " cancelling=", cancelling());
    }
}

}  // namespace

TEST_CASE("wait_for cancels a coroutine that overruns and raises TimeoutError after its clean-up ran",
          "[05][step4][wait_for][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(coroutine_times_out(&events));
    CHECK(events.log == Log{"inner starts @0", "inner cancelled @2", "inner cleanup @2", "TimeoutError @2 cancelling=0"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> task_times_out(Events* events) {
    aio::Task<int> task = aio::create_task(lab_test::slow_to_cancel(events, 10, 3));
    try {
        aio::Coro<int> limited = lab::wait_for(task, 2.0);
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), ", task cancelled=", task.cancelled());
    }
}

}  // namespace

TEST_CASE("wait_for waits for a timed-out task's slow clean-up before raising TimeoutError",
          "[05][step4][wait_for][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(task_times_out(&events));
    CHECK(events.log == Log{"task cancelled @2", "task cleanup done @5", "TimeoutError @5, task cancelled=1"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> swallowed_timeout(Events* events) {
    aio::Coro<int> from_coroutine = lab::wait_for(lab_test::return_when_cancelled(events, 10, -1), 2.0);
    const int first = co_await std::move(from_coroutine);
    events->record("coroutine gave ", first, " @", now());
    aio::Task<int> task = aio::create_task(lab_test::return_when_cancelled(events, 10, -2));
    aio::Coro<int> from_task = lab::wait_for(task, 2.0);
    const int second = co_await std::move(from_task);
    events->record("task gave ", second, " @", now(), " cancelling=", cancelling());
}

}  // namespace

TEST_CASE("wait_for returns the value of an awaitable that catches the cancellation and returns",
          "[05][step4][wait_for][cancel]") {
    // Python 3.12's rule (3.11 agreed for tasks): the work decided to finish, so its value counts.
    Events events;
    lab_test::run_virtual(swallowed_timeout(&events));
    CHECK(events.log == Log{"inner swallows the cancellation @2", "coroutine gave -1 @2",
                            "inner swallows the cancellation @4", "task gave -2 @4 cancelling=0"});
}

namespace {

aio::Coro<void> inner_error(Events* events) {
    try {
        aio::Coro<int> limited = lab::wait_for(lab_test::fail_after(1), 5.0);
        co_await std::move(limited);
    } catch (const lab_test::WorkFailed& error) {
        events->record("caught '", error.what(), "' @", now());
    }
}

}  // namespace

TEST_CASE("wait_for rethrows the exception the awaited work ends with", "[05][step4][wait_for]") {
    Events events;
    lab_test::run_virtual(inner_error(&events));
    CHECK(events.log == Log{"caught 'inner failed' @1"});
}

namespace {

aio::Coro<void> no_limit(Events* events) {
    aio::Coro<int> unlimited = lab::wait_for(lab_test::inner(events, 1000, 5), std::nullopt);
    const int value = co_await std::move(unlimited);
    events->record("got ", value, " @", now());
}

}  // namespace

TEST_CASE("wait_for without a timeout waits as long as it takes", "[05][step4][wait_for]") {
    Events events;
    lab_test::run_virtual(no_limit(&events));
    CHECK(events.log == Log{"inner starts @0", "inner returns @1000", "inner cleanup @1000", "got 5 @1000"});
}

namespace {

aio::Coro<void> zero_timeout(Events* events, double delay) {
    aio::Future<int> done;
    done.set_result(5);
    aio::Coro<int> from_done = lab::wait_for(done, delay);
    const int value = co_await std::move(from_done);
    events->record("done future gave ", value);
    try {
        aio::Coro<int> limited = lab::wait_for(lab_test::inner(events, 1, 1), delay);
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        events->record("coroutine: TimeoutError @", now());
    }
}

}  // namespace

TEST_CASE("wait_for with a zero or negative timeout returns a done result and never starts a coroutine",
          "[05][step4][wait_for][zero]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    double delay = 0;
    SECTION("zero") { delay = 0; }
    SECTION("negative") { delay = -1; }
    lab_test::run_virtual(zero_timeout(&events, delay));
    CHECK(events.log == Log{"done future gave 5", "coroutine: TimeoutError @0"});
    CHECK(frames.leaked() == 0);
}

namespace {

template <class Awaitable>
aio::Coro<void> limited_caller(Events* events, Awaitable awaited) {
    try {
        aio::Coro<int> limited = lab::wait_for(std::move(awaited), 10.0);
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        events->record("caller: TimeoutError");
    } catch (const aio::CancelledError&) {
        events->record("caller: CancelledError @", now());
        throw;
    }
}

aio::Coro<void> cancel_the_caller(Events* events, bool inner_is_task) {
    std::optional<aio::Task<int>> inner_task;
    std::optional<aio::Task<void>> caller;
    if (inner_is_task) {
        inner_task = aio::create_task(lab_test::slow_to_cancel(events, 5, 2));
        caller = aio::create_task(limited_caller(events, *inner_task));
    } else {
        caller = aio::create_task(limited_caller(events, lab_test::slow_to_cancel(events, 5, 2)));
    }
    co_await aio::sleep(1);
    caller->cancel();
    try {
        co_await *caller;
    } catch (const aio::CancelledError&) {
        events->record("caller task cancelled @", now());
    }
}

}  // namespace

TEST_CASE("cancelling the caller of wait_for stops the inner work first and raises CancelledError",
          "[05][step4][wait_for][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    SECTION("a coroutine") { lab_test::run_virtual(cancel_the_caller(&events, false)); }
    SECTION("a task") { lab_test::run_virtual(cancel_the_caller(&events, true)); }
    CHECK(events.log == Log{"task cancelled @1", "task cleanup done @3", "caller: CancelledError @3",
                            "caller task cancelled @3"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> time_out_a_shield(Events* events) {
    aio::Task<int> task = aio::create_task(lab_test::inner(events, 3, 7));
    try {
        aio::Coro<int> limited = lab::wait_for(lab::shield(aio::Future<int>(task)), 1.0);
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
    const int value = co_await task;
    events->record("the task still gave ", value, " @", now());
}

}  // namespace

TEST_CASE("wait_for over a shield times out without cancelling the inner task",
          "[05][step4][wait_for][shield][integration]") {
    Events events;
    lab_test::run_virtual(time_out_a_shield(&events));
    CHECK(events.log == Log{"inner starts @0", "TimeoutError @1", "inner returns @3", "inner cleanup @3",
                            "the task still gave 7 @3"});
}
