// Step 5: lab::timeout, a deadline for code running in the current task. It interrupts the
// body by cancelling the task, and tells its own cancellation from anyone else's with
// cancelling() and uncancel(): TimeoutError for its own, CancelledError stays CancelledError.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "aio/aio.hpp"
#include "lab05_support.hpp"
#include "timeout.hpp"

using lab_test::Events;
using lab_test::Log;
using lab_test::cancelling;
using lab_test::now;

namespace {

const char* expired_word(const lab::Timeout& scope) { return scope.expired() ? "expired" : "not expired"; }

/// Sleeps `delay` seconds and returns `value`, recording each step.
aio::Coro<int> body(Events* events, double delay, int value) {
    lab_test::Cleanup cleanup{events, "body"};
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

aio::Coro<void> finish_in_time(Events* events) {
    aio::Coro<int> guarded = lab::timeout(5.0, body(events, 1, 42));
    const int value = co_await std::move(guarded);
    events->record("got ", value, " @", now());
    co_await aio::sleep(10);  // the scope's timer is gone: nothing cancels this sleep
    events->record("slept past the old deadline @", now(), " cancelling=", cancelling());
}

}  // namespace

TEST_CASE("a timeout scope returns the body's value when it finishes in time and leaves no timer",
          "[05][step5][timeout]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(finish_in_time(&events));
    CHECK(events.log == Log{"body starts @0", "body returns @1", "body cleanup @1", "got 42 @1",
                            "slept past the old deadline @11 cancelling=0"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> expire(Events* events) {
    lab::Timeout scope = lab::timeout(2.0);
    try {
        aio::Coro<int> guarded = scope.run(body(events, 10, 1));
        co_await std::move(guarded);
        events->record("no error");
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " ", expired_word(scope), " cancelling=", cancelling());
    }
}

}  // namespace

TEST_CASE("a timeout scope that expires cancels the body, lets it clean up, then raises TimeoutError",
          "[05][step5][timeout][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(expire(&events));
    CHECK(events.log == Log{"body starts @0", "body cancelled @2", "body cleanup @2",
                            "TimeoutError @2 expired cancelling=0"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<std::size_t> count_tasks(aio::AbstractTask* outside, bool* same_task) {
    *same_task = aio::current_task() == outside;
    co_await aio::sleep(1);
    co_return aio::all_tasks().size();
}

aio::Coro<std::size_t> run_body_in_scope(bool* same_task) {
    aio::Coro<std::size_t> guarded = lab::timeout(5.0, count_tasks(aio::current_task(), same_task));
    co_return co_await std::move(guarded);
}

}  // namespace

TEST_CASE("a timeout scope runs its body inline in the current task, creating no task", "[05][step5][timeout]") {
    bool same_task = false;
    CHECK(lab_test::run_virtual(run_body_in_scope(&same_task)) == 1);
    CHECK(same_task);
}

namespace {

aio::Coro<void> sleep_in_scope(Events* events, double deadline_delay) {
    lab::Timeout scope = lab::timeout(deadline_delay);
    try {
        aio::Coro<int> guarded = scope.run(body(events, 10, 1));
        co_await std::move(guarded);
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

TEST_CASE("an outside cancel inside a timeout scope stays CancelledError", "[05][step5][timeout][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(cancel_from_outside(&events));
    CHECK(events.log == Log{"body starts @0", "body cancelled @1", "body cleanup @1",
                            "CancelledError @1 not expired cancelling=1", "the task ended cancelled @1"});
    CHECK(frames.leaked() == 0);
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
          "[05][step5][timeout][cancel]") {
    Events events;
    lab_test::run_virtual(cancel_at_the_deadline(&events));
    CHECK(events.log == Log{"body starts @0", "body cancelled @2", "body cleanup @2",
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
    lab::Timeout scope = lab::timeout(2.0);
    aio::Coro<int> guarded = scope.run(swallow_cancellation(events));
    const int value = co_await std::move(guarded);
    events->record("got ", value, " @", now(), " ", expired_word(scope), " cancelling=", cancelling());
    co_await aio::sleep(1);
    events->record("the task sleeps on undisturbed @", now());
}

}  // namespace

TEST_CASE("a body that catches the cancellation and returns ends the scope with its value",
          "[05][step5][timeout][cancel]") {
    Events events;
    lab_test::run_virtual(swallowed_expiry(&events));
    CHECK(events.log == Log{"body swallows the cancellation @2", "got -1 @2 expired cancelling=0",
                            "the task sleeps on undisturbed @3"});
}

namespace {

aio::Coro<int> body_with_short_inner_scope(Events* events) {
    try {
        aio::Coro<int> inner = lab::timeout(1.0, body(events, 5, 0));
        co_await std::move(inner);
    } catch (const aio::TimeoutError&) {
        events->record("inner TimeoutError @", now(), " cancelling=", cancelling());
    }
    co_await aio::sleep(1);
    events->record("outer body returns @", now());
    co_return 3;
}

aio::Coro<void> inner_expires(Events* events) {
    lab::Timeout outer = lab::timeout(10.0);
    aio::Coro<int> guarded = outer.run(body_with_short_inner_scope(events));
    const int value = co_await std::move(guarded);
    events->record("outer got ", value, " @", now(), " outer ", expired_word(outer));
}

}  // namespace

TEST_CASE("an inner timeout that expires raises TimeoutError inside the outer scope, which goes on",
          "[05][step5][timeout][nested]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(inner_expires(&events));
    CHECK(events.log == Log{"body starts @0", "body cancelled @1", "body cleanup @1",
                            "inner TimeoutError @1 cancelling=0", "outer body returns @2",
                            "outer got 3 @2 outer not expired"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<int> body_with_long_inner_scope(Events* events, lab::Timeout* inner) {
    try {
        aio::Coro<int> guarded = inner->run(body(events, 5, 0));
        co_await std::move(guarded);
    } catch (const aio::CancelledError&) {
        events->record("inner scope lets CancelledError through @", now(), " inner ", expired_word(*inner));
        throw;
    }
    co_return 0;
}

aio::Coro<void> outer_expires(Events* events, double outer_delay, double inner_delay) {
    const aio::TimePoint start = aio::get_running_loop().time();
    lab::Timeout outer = lab::timeout_at(start + aio::seconds(outer_delay));
    lab::Timeout inner = lab::timeout_at(start + aio::seconds(inner_delay));
    try {
        aio::Coro<int> guarded = outer.run(body_with_long_inner_scope(events, &inner));
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("outer TimeoutError @", now(), " outer ", expired_word(outer), " cancelling=", cancelling());
    }
}

}  // namespace

TEST_CASE("an outer timeout that expires crosses the inner scope as CancelledError and ends as TimeoutError",
          "[05][step5][timeout][nested]") {
    Events events;
    lab_test::run_virtual(outer_expires(&events, 1, 10));
    CHECK(events.log == Log{"body starts @0", "body cancelled @1", "body cleanup @1",
                            "inner scope lets CancelledError through @1 inner not expired",
                            "outer TimeoutError @1 outer expired cancelling=0"});
}

TEST_CASE("when nested timeouts expire in the same iteration only the outer one raises TimeoutError",
          "[05][step5][timeout][nested]") {
    // The outer scope was entered first, so its timer fires first; the inner scope then sees
    // a cancel request that is not its own and lets CancelledError through.
    Events events;
    lab_test::run_virtual(outer_expires(&events, 2, 2));
    CHECK(events.log == Log{"body starts @0", "body cancelled @2", "body cleanup @2",
                            "inner scope lets CancelledError through @2 inner expired",
                            "outer TimeoutError @2 outer expired cancelling=0"});
}

namespace {

aio::Coro<void> zero_deadline(Events* events, double delay) {
    try {
        aio::Coro<int> guarded = lab::timeout(delay, body(events, 10, 1));
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " cancelling=", cancelling());
    }
}

}  // namespace

TEST_CASE("a zero or negative timeout expires at the body's first suspension", "[05][step5][timeout]") {
    Events events;
    double delay = 0;
    SECTION("zero") { delay = 0; }
    SECTION("negative") { delay = -1; }
    lab_test::run_virtual(zero_deadline(&events, delay));
    CHECK(events.log == Log{"body starts @0", "body cancelled @0", "body cleanup @0", "TimeoutError @0 cancelling=0"});
}

namespace {

aio::Coro<void> without_deadline(Events* events) {
    lab::Timeout scope = lab::timeout(std::nullopt);
    aio::Coro<int> guarded = scope.run(body(events, 1000, 5));
    const int value = co_await std::move(guarded);
    events->record("got ", value, " @", now(), " ", expired_word(scope), " when=", scope.when() ? "set" : "none");
}

aio::Coro<void> absolute_deadline(Events* events) {
    const aio::TimePoint deadline = aio::get_running_loop().time() + aio::seconds(3);
    co_await aio::sleep(1);
    try {
        aio::Coro<int> guarded = lab::timeout_at(deadline, body(events, 10, 1));
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
}

}  // namespace

TEST_CASE("a timeout without a deadline never expires, timeout_at expires at an absolute time",
          "[05][step5][timeout]") {
    Events events;
    SECTION("no deadline") {
        lab_test::run_virtual(without_deadline(&events));
        CHECK(events.log == Log{"body starts @0", "body returns @1000", "body cleanup @1000",
                                "got 5 @1000 not expired when=none"});
    }
    SECTION("timeout_at") {
        lab_test::run_virtual(absolute_deadline(&events));
        CHECK(events.log == Log{"body starts @1", "body cancelled @3", "body cleanup @3", "TimeoutError @3"});
    }
}

namespace {

aio::Coro<int> extend_own_deadline(lab::Timeout* scope, Events* events) {
    events->record("deadline ", aio::to_seconds(*scope->when()), " @", now());
    co_await aio::sleep(1);
    scope->reschedule(*scope->when() + aio::seconds(5));
    events->record("rescheduled to ", aio::to_seconds(*scope->when()), " @", now());
    co_await aio::sleep(3);
    events->record("body returns @", now());
    co_return 7;
}

aio::Coro<void> reschedule_later(Events* events) {
    lab::Timeout scope = lab::timeout(2.0);
    aio::Coro<int> guarded = scope.run(extend_own_deadline(&scope, events));
    const int value = co_await std::move(guarded);
    events->record("got ", value, " @", now());
}

}  // namespace

TEST_CASE("reschedule moves the deadline later so the body can finish", "[05][step5][timeout][reschedule]") {
    Events events;
    lab_test::run_virtual(reschedule_later(&events));
    CHECK(events.log == Log{"deadline 2 @0", "rescheduled to 7 @1", "body returns @4", "got 7 @4"});
}

namespace {

aio::Coro<int> answer() { co_return 42; }

aio::Coro<void> misuse(Events* events) {
    lab::Timeout scope = lab::timeout(1.0);
    try {
        scope.reschedule(std::nullopt);
    } catch (const aio::RuntimeError&) {
        events->record("reschedule before entry: RuntimeError");
    }
    aio::Coro<int> first = scope.run(answer());
    co_await std::move(first);
    try {
        scope.reschedule(std::nullopt);
    } catch (const aio::RuntimeError&) {
        events->record("reschedule after exit: RuntimeError");
    }
    try {
        aio::Coro<int> second = scope.run(answer());
        co_await std::move(second);
    } catch (const aio::RuntimeError&) {
        events->record("second entry: RuntimeError");
    }
}

}  // namespace

TEST_CASE("a Timeout is entered once, and reschedule works only while it is active",
          "[05][step5][timeout][errors]") {
    Events events;
    lab_test::run_virtual(misuse(&events));
    CHECK(events.log == Log{"reschedule before entry: RuntimeError", "reschedule after exit: RuntimeError",
                            "second entry: RuntimeError"});
}

TEST_CASE("a timeout scope can only be entered inside a task", "[05][step5][timeout][errors]") {
    lab::Timeout scope(std::nullopt);
    CHECK_THROWS_AS(scope.enter(), aio::RuntimeError);
}
