// aio::shield (asyncio.shield), on the virtual-time loop: times in the event logs are loop
// seconds.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "test_support.hpp"

using aio_test::Events;
using Log = std::vector<std::string>;

namespace {

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

/// Sleeps `delay` seconds and returns `value`, recording each step.
aio::Coro<int> inner(Events* events, double delay, int value) {
    events->record("inner starts @", now());
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        events->record("inner cancelled @", now());
        throw;
    }
    events->record("inner returns @", now());
    co_return value;
}

aio::Coro<int> fail_after(Events* events, double delay) {
    co_await aio::sleep(delay);
    events->record("inner fails @", now());
    throw std::logic_error("inner failed");
}

/// Awaits `shielded` and records what it got.
aio::Coro<void> await_shield(Events* events, aio::Future<int> shielded) {
    try {
        int value = co_await shielded;
        events->record("waiter got ", value, " @", now());
    } catch (const aio::CancelledError&) {
        events->record("waiter: CancelledError @", now());
        throw;
    } catch (const std::logic_error& error) {
        events->record("waiter: logic_error '", error.what(), "' @", now());
    }
}

}  // namespace

namespace {
aio::Coro<void> value_passes_through(Events* events) {
    aio::Task<int> task = aio::create_task(inner(events, 2, 7));
    co_await await_shield(events, aio::shield(task));
}
}  // namespace

TEST_CASE("a shield passes the inner task's value to its awaiter", "[shield]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(value_passes_through(&events));
    REQUIRE(events.log == Log{"inner starts @0", "inner returns @2", "waiter got 7 @2"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancel_the_waiter(Events* events) {
    aio::Task<int> task = aio::create_task(inner(events, 2, 7));
    aio::Task<void> waiter = aio::create_task(await_shield(events, aio::shield(task)));
    co_await aio::sleep(1);
    waiter.cancel();
    try {
        co_await waiter;
    } catch (const aio::CancelledError&) {
        events->record("main: the waiter ended cancelled @", now());
    }
    int value = co_await task;
    events->record("main: the inner task gave ", value, " @", now());
}
}  // namespace

TEST_CASE("cancelling the task that awaits a shield leaves the inner task running to its end",
          "[shield][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancel_the_waiter(&events));
    REQUIRE(events.log == Log{"inner starts @0", "waiter: CancelledError @1",
                              "main: the waiter ended cancelled @1", "inner returns @2",
                              "main: the inner task gave 7 @2"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> failing_inner(Events* events) {
    aio::Task<int> task = aio::create_task(fail_after(events, 1));
    co_await await_shield(events, aio::shield(task));
}
}  // namespace

TEST_CASE("a shield passes the inner task's exception to its awaiter", "[shield]") {
    Events events;
    aio_test::StderrCapture stderr_capture;
    aio_test::run_virtual(failing_inner(&events));
    REQUIRE(events.log == Log{"inner fails @1", "waiter: logic_error 'inner failed' @1"});
    // The shield retrieved the exception, so it is not reported as lost.
    REQUIRE(stderr_capture.text().find("never retrieved") == std::string::npos);
}

namespace {
aio::Coro<void> cancel_the_inner(Events* events) {
    aio::Task<int> task = aio::create_task(inner(events, 5, 7));
    aio::Task<void> waiter = aio::create_task(await_shield(events, aio::shield(task)));
    co_await aio::sleep(1);
    task.cancel();
    try {
        co_await waiter;
    } catch (const aio::CancelledError&) {
        events->record("main: the waiter ended cancelled @", now());
    }
}
}  // namespace

TEST_CASE("cancelling the inner task itself cancels the shield", "[shield][cancel]") {
    Events events;
    aio_test::run_virtual(cancel_the_inner(&events));
    REQUIRE(events.log == Log{"inner starts @0", "inner cancelled @1", "waiter: CancelledError @1",
                              "main: the waiter ended cancelled @1"});
}

namespace {
aio::Coro<void> shielded_coroutine(Events* events) {
    aio::Task<void> waiter = aio::create_task(await_shield(events, aio::shield(inner(events, 2, 7))));
    co_await aio::sleep(1);
    waiter.cancel();
    try {
        co_await waiter;
    } catch (const aio::CancelledError&) {
    }
    co_await aio::sleep(5);
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("a shielded coroutine becomes a task that outlives the cancelled shield", "[shield][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(shielded_coroutine(&events));
    REQUIRE(events.log ==
            Log{"inner starts @0", "waiter: CancelledError @1", "inner returns @2", "main ends @6"});
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a shield of a future already done is that future", "[shield]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> done(loop);
    done.set_result(3);
    REQUIRE(aio::shield(done) == done);
    aio::Future<int> pending(loop);
    REQUIRE_FALSE(aio::shield(pending) == pending);
    // The shield and `pending` hold each other through their callbacks until one is done
    // (see shield.hpp); finishing `pending` lets both go when the loop drops the callbacks.
    pending.cancel();
}

namespace {
aio::Coro<void> time_out_a_shield(Events* events) {
    aio::Task<int> task = aio::create_task(inner(events, 3, 7));
    try {
        co_await aio::wait_for(aio::shield(task), 1.0);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
    int value = co_await task;
    events->record("the task still gave ", value, " @", now());
}
}  // namespace

TEST_CASE("wait_for over a shield times out without cancelling the inner task", "[shield][wait_for]") {
    Events events;
    aio_test::run_virtual(time_out_a_shield(&events));
    REQUIRE(events.log ==
            Log{"inner starts @0", "TimeoutError @1", "inner returns @3", "the task still gave 7 @3"});
}

namespace {
aio::Coro<void> fail_after_the_shield_was_cancelled(Events* events) {
    aio::Task<int> task = aio::create_task(fail_after(events, 2));
    aio::Task<void> waiter = aio::create_task(await_shield(events, aio::shield(task)));
    co_await aio::sleep(1);
    waiter.cancel();
    co_await aio::sleep(5);
    events->record("main ends @", now(), " task ", task.done() ? "done" : "pending");
}
}  // namespace

TEST_CASE("an inner task that fails after its shield was cancelled reports its exception as never retrieved",
          "[shield][cancel]") {
    // asyncio unhooks the inner future once the shield is cancelled, so nobody retrieves
    // a later exception and the task reports it when it goes away.
    Events events;
    aio_test::StderrCapture stderr_capture;
    aio_test::run_virtual(fail_after_the_shield_was_cancelled(&events));
    REQUIRE(events.log == Log{"waiter: CancelledError @1", "inner fails @2", "main ends @6 task done"});
    const std::string reports = stderr_capture.text();
    REQUIRE(aio_test::count_occurrences(reports, "Task exception was never retrieved") == 1);
    REQUIRE_THAT(reports, Catch::Contains("inner failed"));
}

namespace {
struct MoveOnly {
    explicit MoveOnly(int v) : value(v) {}
    MoveOnly(MoveOnly&&) = default;
    MoveOnly& operator=(MoveOnly&&) = default;
    int value;
};
aio::Coro<MoveOnly> make_move_only() {
    co_await aio::sleep(1);
    co_return MoveOnly(11);
}
aio::Coro<int> shield_move_only() {
    MoveOnly got = co_await aio::shield(make_move_only());
    co_return got.value;
}
}  // namespace

TEST_CASE("a shield passes a move-only value through", "[shield]") {
    REQUIRE(aio_test::run_virtual(shield_move_only()) == 11);
}
