// aio::timeout / aio::timeout_at scopes (asyncio.timeout, Python 3.11+ with 3.12's nesting
// rule), on the virtual-time loop: times in the event logs are loop seconds.
#include <catch2/catch.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/aio.hpp"
#include "test_support.hpp"

using aio_test::Events;
using Log = std::vector<std::string>;

namespace {

double now() { return aio::to_seconds(aio::get_running_loop().time()); }
int cancelling() { return aio::current_task()->cancelling(); }
const char* expired_word(const aio::Timeout& scope) { return scope.expired() ? "expired" : "not expired"; }

/// Records its clean-up when the body's frame unwinds, as a `finally:` block would.
struct Cleanup {
    Events* events;
    ~Cleanup() { events->record("body cleanup @", now()); }
};

/// Sleeps `delay` seconds and returns `value`, recording each step.
aio::Coro<int> sleepy(Events* events, double delay, int value) {
    Cleanup cleanup{events};
    events->record("body starts @", now());
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        events->record("body cancelled @", now());
        throw;
    }
    events->record("body returns @", now());
    co_return value;
}

aio::Coro<int> answer() { co_return 42; }

/// Sleeps `delay` seconds of virtual time (the main task of a test that drives the loop).
aio::Coro<void> idle(double delay) { co_await aio::sleep(delay); }

}  // namespace

// --- the body and the deadline ----------------------------------------------------------

namespace {
aio::Coro<void> finish_in_time(Events* events) {
    int value = co_await aio::timeout(5.0, sleepy(events, 1, 42));
    events->record("got ", value, " @", now());
    co_await aio::sleep(10);  // the scope's timer is gone: nothing cancels this sleep
    events->record("slept past the old deadline @", now(), " cancelling=", cancelling());
}
}  // namespace

TEST_CASE("a timeout scope returns the body's value when it finishes in time and leaves no timer",
          "[timeout]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(finish_in_time(&events));
    REQUIRE(events.log == Log{"body starts @0", "body returns @1", "body cleanup @1", "got 42 @1",
                              "slept past the old deadline @11 cancelling=0"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> expire(Events* events) {
    aio::Timeout scope = aio::timeout(2.0);
    try {
        co_await scope.run(sleepy(events, 10, 1));
        events->record("no error");
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " ", expired_word(scope), " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("a timeout scope that expires cancels the body, lets it clean up, then raises TimeoutError",
          "[timeout][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(expire(&events));
    REQUIRE(events.log == Log{"body starts @0", "body cancelled @2", "body cleanup @2",
                              "TimeoutError @2 expired cancelling=0"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<std::size_t> count_tasks_and_check_current(aio::AbstractTask* outside, bool* same_task) {
    *same_task = aio::current_task() == outside;
    co_await aio::sleep(1);
    co_return aio::all_tasks().size();
}
aio::Coro<std::size_t> run_body_in_scope(bool* same_task) {
    co_return co_await aio::timeout(5.0, count_tasks_and_check_current(aio::current_task(), same_task));
}
}  // namespace

TEST_CASE("a timeout scope runs its body inline in the current task, creating no task", "[timeout]") {
    bool same_task = false;
    REQUIRE(aio_test::run_virtual(run_body_in_scope(&same_task)) == 1);
    REQUIRE(same_task);
}

namespace {
aio::Coro<void> sleep_in_scope(Events* events, double deadline_delay) {
    aio::Timeout scope = aio::timeout(deadline_delay);
    try {
        co_await scope.run(sleepy(events, 10, 1));
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    } catch (const aio::CancelledError&) {
        events->record("CancelledError @", now(), " ", expired_word(scope), " cancelling=", cancelling());
        throw;
    }
}
aio::Coro<void> cancel_from_outside(Events* events) {
    aio::Task<void> task = aio::create_task(sleep_in_scope(events, 5));
    co_await aio::sleep(1);
    task.cancel();
    try {
        co_await task;
    } catch (const aio::CancelledError&) {
        events->record("the task ended cancelled @", now());
    }
}
}  // namespace

TEST_CASE("an outside cancel inside a timeout scope stays CancelledError", "[timeout][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancel_from_outside(&events));
    REQUIRE(events.log == Log{"body starts @0", "body cancelled @1", "body cleanup @1",
                              "CancelledError @1 not expired cancelling=1", "the task ended cancelled @1"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancel_at_the_deadline(Events* events) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Task<void> task = aio::create_task(sleep_in_scope(events, 2));
    // Scheduled before the task enters its scope, so at t=2 this cancel() runs first and the
    // scope's own timer right after it, in the same iteration.
    loop.call_at(loop.time() + aio::seconds(2), [task] { task.cancel(); });
    try {
        co_await task;
    } catch (const aio::CancelledError&) {
        events->record("the task ended cancelled @", now());
    }
}
}  // namespace

TEST_CASE("an outside cancel in the same iteration as the deadline stays CancelledError",
          "[timeout][cancel]") {
    Events events;
    aio_test::run_virtual(cancel_at_the_deadline(&events));
    REQUIRE(events.log == Log{"body starts @0", "body cancelled @2", "body cleanup @2",
                              "CancelledError @2 expired cancelling=1", "the task ended cancelled @2"});
}

namespace {
aio::Coro<int> swallow_cancellation(Events* events) {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        events->record("body swallows the cancellation @", now());
    }
    co_return -1;
}
aio::Coro<void> swallowed_expiry(Events* events) {
    aio::Timeout scope = aio::timeout(2.0);
    int value = co_await scope.run(swallow_cancellation(events));
    events->record("got ", value, " @", now(), " ", expired_word(scope), " cancelling=", cancelling());
    co_await aio::sleep(1);
    events->record("the task sleeps on undisturbed @", now());
}
}  // namespace

TEST_CASE("a body that catches the cancellation and returns ends the scope with its value",
          "[timeout][cancel]") {
    Events events;
    aio_test::run_virtual(swallowed_expiry(&events));
    REQUIRE(events.log == Log{"body swallows the cancellation @2", "got -1 @2 expired cancelling=0",
                              "the task sleeps on undisturbed @3"});
}

namespace {
aio::Coro<int> fail_when_cancelled() {
    bool cancelled = false;
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) throw std::logic_error("clean-up failed");
    co_return 0;
}
aio::Coro<void> other_error_after_expiry(Events* events) {
    aio::Timeout scope = aio::timeout(2.0);
    try {
        co_await scope.run(fail_when_cancelled());
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError");
    } catch (const std::logic_error& error) {
        events->record("logic_error '", error.what(), "' @", now(), " ", expired_word(scope),
                       " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("an error other than CancelledError from an expired body propagates unchanged",
          "[timeout][cancel]") {
    Events events;
    aio_test::run_virtual(other_error_after_expiry(&events));
    REQUIRE(events.log == Log{"logic_error 'clean-up failed' @2 expired cancelling=0"});
}

// --- zero, negative and absent deadlines --------------------------------------------------

namespace {
aio::Coro<void> zero_deadline_without_suspension(Events* events) {
    int value = co_await aio::timeout(0.0, answer());
    events->record("got ", value, " @", now());
    co_await aio::sleep(1);
    events->record("slept @", now());
}
}  // namespace

TEST_CASE("a zero timeout does not interrupt a body that never suspends", "[timeout]") {
    Events events;
    aio_test::run_virtual(zero_deadline_without_suspension(&events));
    REQUIRE(events.log == Log{"got 42 @0", "slept @1"});
}

namespace {
aio::Coro<void> expire_at_once(Events* events, double delay) {
    try {
        co_await aio::timeout(delay, sleepy(events, 10, 1));
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("a zero or negative timeout expires at the body's first suspension", "[timeout]") {
    Events events;
    double delay = 0;
    SECTION("zero") { delay = 0; }
    SECTION("negative") { delay = -1; }
    aio_test::run_virtual(expire_at_once(&events, delay));
    REQUIRE(events.log == Log{"body starts @0", "body cancelled @0", "body cleanup @0",
                              "TimeoutError @0 cancelling=0"});
}

namespace {
aio::Coro<void> no_deadline(Events* events) {
    aio::Timeout scope = aio::timeout(std::nullopt);
    int value = co_await scope.run(sleepy(events, 1000, 5));
    events->record("got ", value, " @", now(), " ", expired_word(scope), " when=",
                   scope.when() ? "set" : "none");
}
}  // namespace

TEST_CASE("a timeout scope without a deadline never expires", "[timeout]") {
    Events events;
    aio_test::run_virtual(no_deadline(&events));
    REQUIRE(events.log ==
            Log{"body starts @0", "body returns @1000", "body cleanup @1000", "got 5 @1000 not expired when=none"});
}

namespace {
aio::Coro<void> absolute_deadline(Events* events) {
    aio::TimePoint deadline = aio::get_running_loop().time() + aio::seconds(3);
    co_await aio::sleep(1);
    aio::Timeout scope = aio::timeout_at(deadline);
    events->record("when=", aio::to_seconds(*scope.when()), " @", now());
    try {
        co_await scope.run(sleepy(events, 10, 1));
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
}
}  // namespace

TEST_CASE("timeout_at expires at an absolute loop time", "[timeout]") {
    Events events;
    aio_test::run_virtual(absolute_deadline(&events));
    REQUIRE(events.log == Log{"when=3 @1", "body starts @1", "body cancelled @3", "body cleanup @3",
                              "TimeoutError @3"});
}

// --- nesting --------------------------------------------------------------------------------

namespace {
aio::Coro<int> body_with_short_inner_scope(Events* events) {
    try {
        co_await aio::timeout(1.0, sleepy(events, 5, 0));
    } catch (const aio::TimeoutError&) {
        events->record("inner TimeoutError @", now(), " cancelling=", cancelling());
    }
    co_await aio::sleep(1);
    events->record("outer body returns @", now());
    co_return 3;
}
aio::Coro<void> inner_expires(Events* events) {
    aio::Timeout outer = aio::timeout(10.0);
    int value = co_await outer.run(body_with_short_inner_scope(events));
    events->record("outer got ", value, " @", now(), " outer ", expired_word(outer));
}
}  // namespace

TEST_CASE("an inner timeout that expires raises TimeoutError inside the outer scope, which goes on",
          "[timeout][nested]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(inner_expires(&events));
    REQUIRE(events.log == Log{"body starts @0", "body cancelled @1", "body cleanup @1",
                              "inner TimeoutError @1 cancelling=0", "outer body returns @2",
                              "outer got 3 @2 outer not expired"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<int> body_with_long_inner_scope(Events* events, aio::Timeout* inner) {
    try {
        co_await inner->run(sleepy(events, 5, 0));
    } catch (const aio::CancelledError&) {
        events->record("inner scope lets CancelledError through @", now(), " inner ", expired_word(*inner));
        throw;
    }
    co_return 0;
}
aio::Coro<void> outer_expires(Events* events, double outer_delay, double inner_delay) {
    aio::TimePoint start = aio::get_running_loop().time();
    aio::Timeout outer = aio::timeout_at(start + aio::seconds(outer_delay));
    aio::Timeout inner = aio::timeout_at(start + aio::seconds(inner_delay));
    try {
        co_await outer.run(body_with_long_inner_scope(events, &inner));
    } catch (const aio::TimeoutError&) {
        events->record("outer TimeoutError @", now(), " outer ", expired_word(outer),
                       " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("an outer timeout that expires crosses the inner scope as CancelledError and ends as TimeoutError",
          "[timeout][nested]") {
    Events events;
    aio_test::run_virtual(outer_expires(&events, 1, 10));
    REQUIRE(events.log == Log{"body starts @0", "body cancelled @1", "body cleanup @1",
                              "inner scope lets CancelledError through @1 inner not expired",
                              "outer TimeoutError @1 outer expired cancelling=0"});
}

TEST_CASE("when nested timeouts expire in the same iteration only the outer one raises TimeoutError",
          "[timeout][nested]") {
    // The outer scope was entered first, so its timer fires first; the inner scope sees a
    // second cancel() request that is not its own and lets CancelledError through.
    Events events;
    aio_test::run_virtual(outer_expires(&events, 2, 2));
    REQUIRE(events.log == Log{"body starts @0", "body cancelled @2", "body cleanup @2",
                              "inner scope lets CancelledError through @2 inner expired",
                              "outer TimeoutError @2 outer expired cancelling=0"});
}

// --- reschedule, when, expired ------------------------------------------------------------

namespace {
aio::Coro<int> extend_own_deadline(aio::Timeout* scope, Events* events) {
    events->record("deadline ", aio::to_seconds(*scope->when()), " @", now());
    co_await aio::sleep(1);
    scope->reschedule(*scope->when() + aio::seconds(5));
    events->record("rescheduled to ", aio::to_seconds(*scope->when()), " @", now());
    co_await aio::sleep(3);
    events->record("body returns @", now());
    co_return 7;
}
aio::Coro<void> reschedule_later(Events* events) {
    // Named locals: a capturing lambda must not share a full-expression with co_await (GCC 12).
    auto make_body = [events](aio::Timeout& scope) { return extend_own_deadline(&scope, events); };
    aio::Coro<int> guarded = aio::timeout(2.0, make_body);
    int value = co_await std::move(guarded);
    events->record("got ", value, " @", now());
}
}  // namespace

TEST_CASE("reschedule moves the deadline later so the body can finish", "[timeout][reschedule]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(reschedule_later(&events));
    REQUIRE(events.log ==
            Log{"deadline 2 @0", "rescheduled to 7 @1", "body returns @4", "got 7 @4"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<int> move_deadline_to_the_past(aio::Timeout* scope, Events* events) {
    co_await aio::sleep(1);
    scope->reschedule(aio::get_running_loop().time() - aio::seconds(1));
    events->record("rescheduled to the past @", now(), " ", expired_word(*scope));
    co_await aio::sleep(0);  // the expiry goes through the ready queue
    events->record("not reached");
    co_return 0;
}
aio::Coro<int> disable_deadline(aio::Timeout* scope, Events* events) {
    co_await aio::sleep(1);
    scope->reschedule(std::nullopt);
    co_await aio::sleep(10);
    events->record("body returns @", now(), " when=", scope->when() ? "set" : "none");
    co_return 1;
}
template <aio::Coro<int> (*body)(aio::Timeout*, Events*)>
aio::Coro<void> run_rescheduling_body(Events* events) {
    auto make_body = [events](aio::Timeout& scope) { return body(&scope, events); };
    aio::Coro<int> guarded = aio::timeout(2.0, make_body);
    try {
        int value = co_await std::move(guarded);
        events->record("got ", value, " @", now());
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
}
}  // namespace

TEST_CASE("reschedule to a deadline already past expires in the next iteration", "[timeout][reschedule]") {
    Events events;
    aio_test::run_virtual(run_rescheduling_body<move_deadline_to_the_past>(&events));
    REQUIRE(events.log == Log{"rescheduled to the past @1 not expired", "TimeoutError @1"});
}

TEST_CASE("reschedule to no deadline disables the timeout", "[timeout][reschedule]") {
    Events events;
    aio_test::run_virtual(run_rescheduling_body<disable_deadline>(&events));
    REQUIRE(events.log == Log{"body returns @11 when=none", "got 1 @11"});
}

namespace {
aio::Coro<void> reschedule_outside_the_scope(Events* events) {
    aio::Timeout scope = aio::timeout(1.0);
    try {
        scope.reschedule(std::nullopt);
    } catch (const aio::RuntimeError& error) {
        events->record("before: ", error.what());
    }
    co_await scope.run(answer());
    try {
        scope.reschedule(std::nullopt);
    } catch (const aio::RuntimeError&) {
        events->record("after: RuntimeError");
    }
}
}  // namespace

TEST_CASE("reschedule throws RuntimeError before the scope is entered and after it is left",
          "[timeout][reschedule]") {
    Events events;
    aio_test::run_virtual(reschedule_outside_the_scope(&events));
    REQUIRE(events.log == Log{"before: Timeout has not been entered", "after: RuntimeError"});
}

namespace {
aio::Coro<int> report_expired_when_cancelled(aio::Timeout* scope, Events* events) {
    events->record("in the body: ", expired_word(*scope));
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        events->record("on CancelledError @", now(), ": ", expired_word(*scope));
        throw;
    }
    co_return 0;
}
}  // namespace

TEST_CASE("expired() turns true when the deadline cancels the body, before the scope is left",
          "[timeout]") {
    Events events;
    aio_test::run_virtual(run_rescheduling_body<report_expired_when_cancelled>(&events));
    REQUIRE(events.log == Log{"in the body: not expired", "on CancelledError @2: expired", "TimeoutError @2"});
}

namespace {
aio::Coro<int> describe_while_running(aio::Timeout* scope, Events* events) {
    events->record(scope->describe());
    co_await aio::sleep(5);
    co_return 0;
}
aio::Coro<void> describe_each_state(Events* events) {
    aio::Timeout scope = aio::timeout(2.0);
    events->record(scope.describe());
    try {
        co_await scope.run(describe_while_running(&scope, events));
    } catch (const aio::TimeoutError&) {
    }
    events->record(scope.describe());
    aio::Timeout finished = aio::timeout(std::nullopt);
    co_await finished.run(answer());
    events->record(finished.describe());
}
}  // namespace

TEST_CASE("describe() shows a timeout's state and, while active, its deadline", "[timeout]") {
    Events events;
    aio_test::run_virtual(describe_each_state(&events));
    REQUIRE(events.log == Log{"<Timeout [created]>", "<Timeout [active] when=2.000>", "<Timeout [expired]>",
                              "<Timeout [finished]>"});
}

// --- misuse and lifetime ------------------------------------------------------------------

TEST_CASE("a timeout scope can only be entered inside a task", "[timeout][errors]") {
    aio::Timeout scope(std::nullopt);
    REQUIRE_THROWS_AS(scope.enter(), aio::RuntimeError);
}

TEST_CASE("timeout(delay) needs a running loop, as in asyncio", "[timeout][errors]") {
    REQUIRE_THROWS_AS(aio::timeout(1.0), aio::RuntimeError);
    REQUIRE_THROWS_AS(aio::timeout(std::nullopt), aio::RuntimeError);
}

namespace {
aio::Coro<void> enter_twice(Events* events) {
    aio::Timeout scope = aio::timeout(1.0);
    co_await scope.run(answer());
    try {
        co_await scope.run(answer());
    } catch (const aio::RuntimeError& error) {
        events->record(error.what());
    }
}
}  // namespace

TEST_CASE("a Timeout can be entered only once", "[timeout][errors]") {
    Events events;
    aio_test::run_virtual(enter_twice(&events));
    REQUIRE(events.log == Log{"Timeout has already been entered"});
}

namespace {
aio::Coro<int> slow_task_body(Events* events) {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        events->record("task cancelled @", now());
        throw;
    }
    co_return 1;
}
aio::Coro<void> task_as_body(Events* events) {
    aio::Task<int> task = aio::create_task(slow_task_body(events));
    try {
        co_await aio::timeout(1.0, task);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " task ", task.cancelled() ? "cancelled" : "not cancelled");
    }
}
}  // namespace

TEST_CASE("a timeout scope around a task cancels that task on expiry", "[timeout][cancel]") {
    Events events;
    aio_test::run_virtual(task_as_body(&events));
    REQUIRE(events.log == Log{"task cancelled @1", "TimeoutError @1 task cancelled"});
}

namespace {
aio::Coro<void> wait_in_scope_forever(aio::Future<void> never) { co_await aio::timeout(5.0, never); }
}  // namespace

TEST_CASE("a task destroyed inside a timeout scope leaves no timer and no frame behind",
          "[timeout][lifetime]") {
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture stderr_capture;
    {
        aio::VirtualTimeLoop loop;
        aio::Future<void> never(loop);
        aio::Task<void> task = aio::create_task(loop, wait_in_scope_forever(never));
        loop.run_until_complete(idle(1));
        loop.close();  // destroys the pending task, and with it the scope, mid-body
        REQUIRE(task.cancelled());
    }
    REQUIRE_THAT(stderr_capture.text(), Catch::Contains("Task was destroyed but it is pending!"));
    REQUIRE(frames.leaked() == 0);
}
