// Step 3: lab::shield. Cancelling whoever awaits a shield must not cancel the work behind it.
#include <catch2/catch.hpp>

#include <string>

#include "aio/aio.hpp"
#include "lab05_support.hpp"
#include "shield.hpp"

using lab_test::Events;
using lab_test::Log;
using lab_test::now;

namespace {

/// Sleeps `delay` seconds and returns `value` (no clean-up record: shields never cancel it).
aio::Coro<int> work(Events* events, double delay, int value) {
    events->record("work starts @", now());
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        events->record("work cancelled @", now());
        throw;
    }
    events->record("work returns @", now());
    co_return value;
}

/// Awaits `shielded` and records what it got.
aio::Coro<void> await_shield(Events* events, aio::Future<int> shielded) {
    try {
        const int value = co_await shielded;
        events->record("waiter got ", value, " @", now());
    } catch (const aio::CancelledError&) {
        events->record("waiter: CancelledError @", now());
        throw;
    } catch (const lab_test::WorkFailed& error) {
        events->record("waiter: WorkFailed '", error.what(), "' @", now());
    }
}

aio::Coro<void> value_passes_through(Events* events) {
    aio::Task<int> task = aio::create_task(work(events, 2, 7));
    aio::Future<int> shielded = lab::shield(aio::Future<int>(task));
    aio::Coro<void> waiting = await_shield(events, shielded);
    co_await std::move(waiting);
}

}  // namespace

TEST_CASE("a shield passes the inner task's value to its awaiter", "[05][step3][shield]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(value_passes_through(&events));
    CHECK(events.log == Log{"work starts @0", "work returns @2", "waiter got 7 @2"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> cancel_the_waiter(Events* events) {
    aio::Task<int> task = aio::create_task(work(events, 2, 7));
    aio::Future<int> shielded = lab::shield(aio::Future<int>(task));
    aio::Task<void> waiter = aio::create_task(await_shield(events, shielded));
    co_await aio::sleep(1);
    waiter.cancel();
    try {
        co_await waiter;
    } catch (const aio::CancelledError&) {
        events->record("main: the waiter ended cancelled @", now());
    }
    const int value = co_await task;
    events->record("main: the inner task gave ", value, " @", now());
}

}  // namespace

TEST_CASE("cancelling the task that awaits a shield leaves the inner task running to its end",
          "[05][step3][shield][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(cancel_the_waiter(&events));
    CHECK(events.log == Log{"work starts @0", "waiter: CancelledError @1", "main: the waiter ended cancelled @1",
                            "work returns @2", "main: the inner task gave 7 @2"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> failing_inner(Events* events) {
    aio::Task<int> task = aio::create_task(lab_test::fail_after(1));
    aio::Future<int> shielded = lab::shield(aio::Future<int>(task));
    aio::Coro<void> waiting = await_shield(events, shielded);
    co_await std::move(waiting);
}

}  // namespace

TEST_CASE("a shield passes the inner task's exception to its awaiter", "[05][step3][shield]") {
    Events events;
    lab_test::run_virtual(failing_inner(&events));
    CHECK(events.log == Log{"waiter: WorkFailed 'inner failed' @1"});
}

namespace {

aio::Coro<void> cancel_the_inner(Events* events) {
    aio::Task<int> task = aio::create_task(work(events, 5, 7));
    aio::Future<int> shielded = lab::shield(aio::Future<int>(task));
    aio::Task<void> waiter = aio::create_task(await_shield(events, shielded));
    co_await aio::sleep(1);
    task.cancel();
    try {
        co_await waiter;
    } catch (const aio::CancelledError&) {
        events->record("main: the waiter ended cancelled @", now());
    }
}

}  // namespace

TEST_CASE("cancelling the inner task itself cancels the shield", "[05][step3][shield][cancel]") {
    Events events;
    lab_test::run_virtual(cancel_the_inner(&events));
    CHECK(events.log == Log{"work starts @0", "work cancelled @1", "waiter: CancelledError @1",
                            "main: the waiter ended cancelled @1"});
}

namespace {

aio::Coro<void> shielded_coroutine(Events* events) {
    aio::Future<int> shielded = lab::shield(work(events, 2, 7));
    aio::Task<void> waiter = aio::create_task(await_shield(events, shielded));
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

TEST_CASE("a shielded coroutine becomes a task that outlives the cancelled shield", "[05][step3][shield][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(shielded_coroutine(&events));
    CHECK(events.log == Log{"work starts @0", "waiter: CancelledError @1", "work returns @2", "main ends @6"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> one_iteration() { co_await aio::sleep(0); }
}  // namespace

TEST_CASE("a shield of a future already done is that future, of a pending one a new future",
          "[05][step3][shield]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> done(loop);
    done.set_result(3);
    CHECK(lab::shield(done) == done);
    aio::Future<int> pending(loop);
    aio::Future<int> outer = lab::shield(pending);
    CHECK_FALSE(outer == pending);
    CHECK_FALSE(outer.done());
    // Cancelling the shield leaves the inner future alone.
    outer.cancel();
    CHECK(outer.cancelled());
    CHECK_FALSE(pending.done());
    pending.set_result(4);
    loop.run_until_complete(one_iteration());  // lets the done callbacks run
    CHECK(pending.result() == 4);
}
