// Step 1: cancellation as a task sees it. cancel() is a request delivered at the task's next
// await (lab::checkpoint gives code that never awaits such a point); a body that catches the
// cancellation and goes on must withdraw the request (lab::suppress_cancel does, with uncancel).
#include <catch2/catch.hpp>

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <string>

#include "aio/aio.hpp"
#include "cancellation.hpp"
#include "lab05_support.hpp"

using lab_test::Events;
using lab_test::Log;
using lab_test::cancelling;
using lab_test::now;

namespace {

aio::Coro<void> cancel_myself(Events* events) {
    aio::current_task()->cancel("by myself");
    events->record("requested, cancelling=", cancelling());
    events->record("still running");  // no await yet: nothing can interrupt this line
    try {
        co_await lab::checkpoint();
        events->record("not reached");
    } catch (const aio::CancelledError& error) {
        events->record("CancelledError '", error.message(), "' at the checkpoint");
    }
}

}  // namespace

TEST_CASE("a cancel request waits for the task's next await, and code before it runs on",
          "[05][step1][checkpoint][sticky]") {
    Events events;
    lab_test::run_virtual(cancel_myself(&events));
    CHECK(events.log ==
          Log{"requested, cancelling=1", "still running", "CancelledError 'by myself' at the checkpoint"});
}

namespace {

aio::Coro<void> busy_worker(Events* events) {
    try {
        for (int round = 1; round <= 5; ++round) {
            events->record("work ", round);
            co_await lab::checkpoint();
        }
    } catch (const aio::CancelledError&) {
        events->record("worker cancelled at its checkpoint");
        throw;
    }
}

aio::Coro<void> cancel_busy_worker(Events* events) {
    aio::Task<void> worker = aio::create_task(busy_worker(events));
    co_await lab::checkpoint();  // the worker runs its first round meanwhile
    events->record("main cancels the worker");
    worker.cancel();
    try {
        co_await worker;
    } catch (const aio::CancelledError&) {
        events->record("main: the worker ended cancelled");
    }
}

}  // namespace

TEST_CASE("a task that computes without sleeping is cancelled at its next checkpoint",
          "[05][step1][checkpoint]") {
    Events events;
    lab_test::run_virtual(cancel_busy_worker(&events));
    CHECK(events.log == Log{"work 1", "main cancels the worker", "worker cancelled at its checkpoint",
                            "main: the worker ended cancelled"});
}

namespace {

aio::Coro<void> take_turns(Events* events, std::string name) {
    for (int round = 1; round <= 3; ++round) {
        events->record(name, round);
        co_await lab::checkpoint();
    }
}

aio::Coro<void> two_workers(Events* events) {
    aio::Task<void> a = aio::create_task(take_turns(events, "a"));
    aio::Task<void> b = aio::create_task(take_turns(events, "b"));
    co_await a;
    co_await b;
    events->record("both done @", now());
}

}  // namespace

TEST_CASE("checkpoint lets every other ready task run before the task goes on", "[05][step1][checkpoint]") {
    Events events;
    lab_test::run_virtual(two_workers(&events));
    CHECK(events.log == Log{"a1", "b1", "a2", "b2", "a3", "b3", "both done @0"});
}

TEST_CASE("checkpoint awaited outside a task throws RuntimeError", "[05][step1][checkpoint][errors]") {
    auto point = lab::checkpoint();
    CHECK_FALSE(point.await_ready());
    CHECK_THROWS_AS(point.await_suspend(std::noop_coroutine()), aio::RuntimeError);
}

namespace {
aio::Coro<int> await_cancelled_future() {
    aio::Future<int> future;
    future.cancel("gone");
    co_return co_await future;
}
}  // namespace

TEST_CASE("is_cancelled_error tells a CancelledError from any other exception", "[05][step1][errors]") {
    CHECK_FALSE(lab::is_cancelled_error(nullptr));
    CHECK(lab::is_cancelled_error(std::make_exception_ptr(aio::CancelledError("stop"))));
    CHECK_FALSE(lab::is_cancelled_error(std::make_exception_ptr(aio::TimeoutError())));
    CHECK_FALSE(lab::is_cancelled_error(std::make_exception_ptr(std::runtime_error("other"))));
    // The CancelledError that aio itself raises at an await.
    std::exception_ptr raised_by_aio;
    try {
        lab_test::run_virtual(await_cancelled_future());
    } catch (...) {
        raised_by_aio = std::current_exception();
    }
    CHECK(lab::is_cancelled_error(raised_by_aio));
}

TEST_CASE("uncancel() before the next await withdraws the request, so the checkpoint passes",
          "[05][step1][checkpoint][sticky]") {
    auto main = [](Events* events) -> aio::Coro<void> {
        aio::current_task()->cancel();
        const int left = aio::current_task()->uncancel();
        co_await lab::checkpoint();
        events->record("went on, cancelling=", left);
    };
    Events events;
    lab_test::run_virtual(main(&events));
    CHECK(events.log == Log{"went on, cancelling=0"});
}

namespace {

aio::Coro<void> nap(double delay) { co_await aio::sleep(delay); }

aio::Coro<int> absorb_a_cancel(Events* events) {
    aio::Coro<bool> absorbing = lab::suppress_cancel(nap(10));
    const bool finished = co_await std::move(absorbing);
    events->record("finished=", finished, " @", now(), " cancelling=", cancelling());
    co_await aio::sleep(1);  // nothing left to deliver: this sleep is not cancelled
    events->record("slept on @", now());
    co_return 5;
}

aio::Coro<void> cancel_the_absorber(Events* events) {
    aio::Task<int> task = aio::create_task(absorb_a_cancel(events));
    co_await aio::sleep(1);
    task.cancel();
    const int value = co_await task;
    events->record("task gave ", value, ", cancelled=", task.cancelled());
}

}  // namespace

TEST_CASE("suppress_cancel absorbs the body's cancellation and withdraws the request",
          "[05][step1][suppress]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(cancel_the_absorber(&events));
    CHECK(events.log == Log{"finished=0 @1 cancelling=0", "slept on @2", "task gave 5, cancelled=0"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> quick(Events* events) {
    co_await aio::sleep(1);
    events->record("body done @", now());
}

aio::Coro<void> failing() {
    co_await aio::sleep(1);
    throw lab_test::WorkFailed("body failed");
}

aio::Coro<void> suppress_finished(Events* events) {
    aio::Coro<bool> running = lab::suppress_cancel(quick(events));
    const bool finished = co_await std::move(running);
    events->record("finished=", finished, " cancelling=", cancelling());
}

aio::Coro<void> suppress_failed(Events* events) {
    try {
        aio::Coro<bool> running = lab::suppress_cancel(failing());
        co_await std::move(running);
        events->record("no error");
    } catch (const lab_test::WorkFailed& error) {
        events->record("error went through: ", error.what());
    }
}

}  // namespace

TEST_CASE("suppress_cancel returns true for a body that finishes and lets other errors through",
          "[05][step1][suppress]") {
    Events events;
    SECTION("a body that finishes") {
        lab_test::run_virtual(suppress_finished(&events));
        CHECK(events.log == Log{"body done @1", "finished=1 cancelling=0"});
    }
    SECTION("a body that fails") {
        lab_test::run_virtual(suppress_failed(&events));
        CHECK(events.log == Log{"error went through: body failed"});
    }
}

namespace {

aio::Coro<void> absorb_then_oversleep(Events* events) {
    aio::Coro<bool> absorbing = lab::suppress_cancel(nap(10));
    const bool finished = co_await std::move(absorbing);
    events->record("absorbed @", now(), " finished=", finished);
    co_await aio::sleep(10);
    events->record("not reached: the timeout should have fired");
}

aio::Coro<void> under_an_aio_timeout(Events* events) {
    try {
        aio::Coro<void> bounded = aio::timeout(5.0, absorb_then_oversleep(events));
        co_await std::move(bounded);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    } catch (const aio::CancelledError&) {
        events->record("CancelledError @", now(), ": the timeout took its own expiry for an outside cancel");
    }
}

aio::Coro<void> cancel_once_inside_a_timeout(Events* events) {
    aio::Task<void> task = aio::create_task(under_an_aio_timeout(events));
    co_await aio::sleep(1);
    task.cancel();
    co_await task;
}

}  // namespace

TEST_CASE("after suppress_cancel an enclosing aio::timeout still raises TimeoutError when it expires",
          "[05][step1][suppress][integration]") {
    Events events;
    lab_test::run_virtual(cancel_once_inside_a_timeout(&events));
    CHECK(events.log == Log{"absorbed @1 finished=0", "TimeoutError @5"});
}
