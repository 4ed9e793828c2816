// aio::TaskGroup (asyncio.TaskGroup, Python 3.11+), on the virtual-time loop: times in the
// event logs are loop seconds.
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
int cancelling() { return aio::current_task()->cancelling(); }

/// Sleeps `delay` seconds and returns `value`, recording each step (and a cancellation).
aio::Coro<int> after(Events* events, std::string name, double delay, int value) {
    events->record(name, " starts @", now());
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        events->record(name, " cancelled @", now());
        throw;
    }
    events->record(name, " returns ", value, " @", now());
    co_return value;
}

/// Sleeps `delay` seconds, then throws std::runtime_error(what).
aio::Coro<int> fail_after(Events* events, std::string name, double delay, std::string what) {
    events->record(name, " starts @", now());
    co_await aio::sleep(delay);
    events->record(name, " raises ", what, " @", now());
    throw std::runtime_error(what);
}

/// The what() of each error in `group`, space separated.
std::string whats(const aio::ExceptionGroup& group) {
    std::string text;
    for (const std::exception_ptr& error : group.exceptions()) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            text += (text.empty() ? "" : " ") + std::string(e.what());
        }
    }
    return text;
}

/// The parent's body: sleeps `delay` seconds, recording whether it was interrupted.
aio::Coro<void> body_sleeps(Events* events, double delay) {
    try {
        co_await aio::sleep(delay);
        events->record("body slept until @", now());
    } catch (const aio::CancelledError&) {
        events->record("body cancelled @", now(), " cancelling=", cancelling());
        throw;
    }
}

}  // namespace

// --- the group waits ---------------------------------------------------------------------------

namespace {
aio::Coro<int> sum_body(Events* events, aio::TaskGroup& group) {
    aio::Task<int> a = group.create_task(after(events, "a", 2, 1));
    aio::Task<int> b = group.create_task(after(events, "b", 3, 2));
    events->record("body returns with ", group.size(), " tasks running @", now());
    co_return 40;
}

struct SumBody {
    Events* events;
    aio::Coro<int> operator()(aio::TaskGroup& group) const { return sum_body(events, group); }
};

aio::Coro<void> group_waits(Events* events) {
    auto scope = aio::task_group(SumBody{events});
    int value = co_await std::move(scope);
    events->record("group ended with ", value, " @", now());
}
}  // namespace

TEST_CASE("a task group waits for all its tasks before it ends", "[task_group]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(group_waits(&events));
    REQUIRE(events.log == Log{"body returns with 2 tasks running @0", "a starts @0", "b starts @0", "a returns 1 @2",
                              "b returns 2 @3", "group ended with 40 @3"});
    REQUIRE(frames.leaked() == 0);
}

// --- a failing task ----------------------------------------------------------------------------

namespace {
aio::Coro<void> failing_body(Events* events, aio::TaskGroup& group) {
    group.create_task(after(events, "sibling", 5, 1));
    group.create_task(fail_after(events, "bad", 1, "boom"));
    co_await body_sleeps(events, 10);
}

aio::Coro<void> child_failure(Events* events) {
    auto body = [events](aio::TaskGroup& group) { return failing_body(events, group); };
    auto scope = aio::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "] @", now(), " cancelling=", cancelling());
    }
    co_await aio::sleep(1);  // the parent was uncancelled: it goes on normally
    events->record("parent goes on @", now());
}
}  // namespace

TEST_CASE("a failing task cancels its siblings and the parent's body, and the group raises ExceptionGroup",
          "[task_group][error][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(child_failure(&events));
    REQUIRE(events.log == Log{"sibling starts @0", "bad starts @0", "bad raises boom @1", "sibling cancelled @1",
                              "body cancelled @1 cancelling=1", "ExceptionGroup [boom] @1 cancelling=0",
                              "parent goes on @2"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> two_failures_body(Events* events, aio::TaskGroup& group) {
    group.create_task(fail_after(events, "first", 1, "one"));
    group.create_task(fail_after(events, "second", 1, "two"));
    group.create_task(after(events, "third", 5, 3));
    co_return;
}

aio::Coro<void> two_failures(Events* events) {
    auto body = [events](aio::TaskGroup& group) { return two_failures_body(events, group); };
    auto scope = aio::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "] @", now(), " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("errors of tasks failing together are all raised, in completion order", "[task_group][error]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(two_failures(&events));
    // The parent already waits in the group's end when the first task fails: that wait is
    // what the group cancels, and then withdraws.
    REQUIRE(events.log == Log{"first starts @0", "second starts @0", "third starts @0", "first raises one @1",
                              "second raises two @1", "third cancelled @1", "ExceptionGroup [one two] @1 cancelling=0"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancelled_child_body(Events* events, aio::TaskGroup& group) {
    aio::Task<int> victim = group.create_task(after(events, "victim", 5, 1));
    group.create_task(after(events, "other", 2, 2));
    co_await aio::sleep(1);
    victim.cancel();
}

aio::Coro<void> cancelled_child(Events* events) {
    auto body = [events](aio::TaskGroup& group) { return cancelled_child_body(events, group); };
    auto scope = aio::task_group(body);
    co_await std::move(scope);
    events->record("group ended normally @", now());
}
}  // namespace

TEST_CASE("a cancelled task is not an error of its group", "[task_group][cancel]") {
    Events events;
    aio_test::run_virtual(cancelled_child(&events));
    REQUIRE(events.log == Log{"victim starts @0", "other starts @0", "victim cancelled @1", "other returns 2 @2",
                              "group ended normally @2"});
}

// --- the body raises ---------------------------------------------------------------------------

namespace {
aio::Coro<void> raising_body(Events* events, aio::TaskGroup& group) {
    group.create_task(after(events, "child", 5, 1));
    co_await aio::sleep(1);
    events->record("body raises oops @", now());
    throw std::logic_error("oops");
}

aio::Coro<void> body_error(Events* events) {
    auto body = [events](aio::TaskGroup& group) { return raising_body(events, group); };
    auto scope = aio::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "] @", now(), " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("an error in the body cancels the tasks and is raised in the ExceptionGroup", "[task_group][error]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(body_error(&events));
    REQUIRE(events.log == Log{"child starts @0", "body raises oops @1", "child cancelled @1",
                              "ExceptionGroup [oops] @1 cancelling=0"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> failing_then_raising_body(Events* events, aio::TaskGroup& group) {
    group.create_task(fail_after(events, "bad", 1, "boom"));
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        events->record("body turns the cancellation into oops @", now());
    }
    throw std::logic_error("oops");
}

aio::Coro<void> both_errors(Events* events) {
    auto body = [events](aio::TaskGroup& group) { return failing_then_raising_body(events, group); };
    auto scope = aio::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "] cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("the body's error comes after the tasks' errors in the ExceptionGroup", "[task_group][error]") {
    Events events;
    aio_test::run_virtual(both_errors(&events));
    REQUIRE(events.log == Log{"bad starts @0", "bad raises boom @1", "body turns the cancellation into oops @1",
                              "ExceptionGroup [boom oops] cancelling=0"});
}

// --- cancellation from outside -----------------------------------------------------------------

namespace {
aio::Coro<void> long_body(Events* events, aio::TaskGroup& group) {
    group.create_task(after(events, "a", 5, 1));
    group.create_task(after(events, "b", 6, 2));
    co_await body_sleeps(events, 10);
}

aio::Coro<void> parent_of_group(Events* events) {
    auto body = [events](aio::TaskGroup& group) { return long_body(events, group); };
    auto scope = aio::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::CancelledError&) {
        events->record("group raised CancelledError @", now(), " cancelling=", cancelling());
        throw;
    }
}

aio::Coro<void> cancel_parent(Events* events) {
    aio::Task<void> parent = aio::create_task(parent_of_group(events));
    co_await aio::sleep(1);
    parent.cancel();
    try {
        co_await parent;
    } catch (const aio::CancelledError&) {
        events->record("parent cancelled=", parent.cancelled(), " @", now());
    }
}
}  // namespace

TEST_CASE("cancelling the parent from outside cancels the group's tasks and raises CancelledError",
          "[task_group][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancel_parent(&events));
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "body cancelled @1 cancelling=1", "a cancelled @1",
                              "b cancelled @1", "group raised CancelledError @1 cancelling=1",
                              "parent cancelled=1 @1"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> quick_body(Events* events, aio::TaskGroup& group) {
    group.create_task(after(events, "a", 5, 1));
    co_return;
}

aio::Coro<void> parent_waiting_in_group(Events* events) {
    auto body = [events](aio::TaskGroup& group) { return quick_body(events, group); };
    auto scope = aio::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::CancelledError&) {
        events->record("group raised CancelledError @", now());
        throw;
    }
}

aio::Coro<void> cancel_parent_while_joining(Events* events) {
    aio::Task<void> parent = aio::create_task(parent_waiting_in_group(events));
    co_await aio::sleep(1);
    parent.cancel();
    try {
        co_await parent;
    } catch (const aio::CancelledError&) {
        events->record("parent cancelled=", parent.cancelled());
    }
}
}  // namespace

TEST_CASE("cancelling the parent while the group waits for its tasks cancels them and raises CancelledError",
          "[task_group][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancel_parent_while_joining(&events));
    REQUIRE(events.log ==
            Log{"a starts @0", "a cancelled @1", "group raised CancelledError @1", "parent cancelled=1"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
/// Catches the cancellation and fails while cleaning up.
aio::Coro<int> fails_on_cancel(Events* events) {
    bool cancelled = false;
    try {
        co_await aio::sleep(5);
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) {
        events->record("child fails while cancelled @", now());
        throw std::runtime_error("cleanup failed");
    }
    co_return 0;
}

aio::Coro<void> cleanup_failure_body(Events* events, aio::TaskGroup& group) {
    group.create_task(fails_on_cancel(events));
    co_await body_sleeps(events, 10);
}

aio::Coro<void> parent_with_failing_cleanup(Events* events) {
    auto body = [events](aio::TaskGroup& group) { return cleanup_failure_body(events, group); };
    auto scope = aio::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "] cancelling=", cancelling());
    }
}

aio::Coro<void> errors_before_cancellation(Events* events) {
    aio::Task<void> parent = aio::create_task(parent_with_failing_cleanup(events));
    co_await aio::sleep(1);
    parent.cancel();
    co_await parent;
}
}  // namespace

TEST_CASE("a task's error takes priority over a cancellation of the parent from outside",
          "[task_group][error][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(errors_before_cancellation(&events));
    // The outside request is not withdrawn: the parent still counts it in cancelling().
    REQUIRE(events.log == Log{"body cancelled @1 cancelling=1", "child fails while cancelled @1",
                              "ExceptionGroup [cleanup failed] cancelling=1"});
    REQUIRE(frames.leaked() == 0);
}

// --- create_task rules -------------------------------------------------------------------------

namespace {
aio::Coro<void> late_spawner(Events* events, aio::TaskGroup* group) {
    try {
        co_await aio::sleep(5);
    } catch (const aio::CancelledError&) {
        try {
            group->create_task(after(events, "late", 1, 0));
        } catch (const aio::RuntimeError& error) {
            events->record("create_task while shutting down: ", error.what());
        }
        throw;
    }
}

aio::Coro<void> shutting_down_body(Events* events, aio::TaskGroup& group) {
    group.create_task(late_spawner(events, &group));
    group.create_task(fail_after(events, "bad", 1, "boom"));
    co_return;
}

aio::Coro<void> create_while_shutting_down(Events* events) {
    auto body = [events](aio::TaskGroup& group) { return shutting_down_body(events, group); };
    auto scope = aio::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "]");
    }
}

aio::Coro<void> create_after_join(Events* events) {
    aio::TaskGroup group;
    group.create_task(after(events, "only", 1, 1));
    co_await group.join();
    try {
        group.create_task(after(events, "too late", 1, 2));
    } catch (const aio::RuntimeError& error) {
        events->record("create_task after the end: ", error.what());
    }
}
}  // namespace

TEST_CASE("create_task on a group that is shutting down raises RuntimeError", "[task_group]") {
    Events events;
    aio_test::run_virtual(create_while_shutting_down(&events));
    REQUIRE(events.log == Log{"bad starts @0", "bad raises boom @1",
                              "create_task while shutting down: TaskGroup is shutting down", "ExceptionGroup [boom]"});
}

TEST_CASE("create_task on a group that has ended raises RuntimeError", "[task_group]") {
    Events events;
    aio_test::run_virtual(create_after_join(&events));
    REQUIRE(events.log == Log{"only starts @0", "only returns 1 @1", "create_task after the end: TaskGroup is finished"});
}

TEST_CASE("a task group needs a parent task", "[task_group]") {
    REQUIRE_THROWS_AS(aio::TaskGroup(), aio::RuntimeError);
}

// --- the explicit form -------------------------------------------------------------------------

namespace {
aio::Coro<void> explicit_group(Events* events) {
    aio::TaskGroup group;
    std::exception_ptr error;
    try {
        group.create_task(after(events, "a", 2, 1));
        group.create_task(fail_after(events, "bad", 1, "boom"));
        co_await body_sleeps(events, 10);
    } catch (...) {
        error = std::current_exception();  // no co_await in a handler: join below
    }
    try {
        co_await group.join(error);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("join raised ExceptionGroup [", whats(errors), "] cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("join() ends a group as async with would, given what the body raised", "[task_group][error]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(explicit_group(&events));
    REQUIRE(events.log == Log{"a starts @0", "bad starts @0", "bad raises boom @1", "a cancelled @1",
                              "body cancelled @1 cancelling=1", "join raised ExceptionGroup [boom] cancelling=0"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> abandoned_group(Events* events) {
    {
        aio::TaskGroup group;
        group.create_task(after(events, "orphan", 5, 1));
        // Left without join(), as if an exception had skipped it.
    }
    events->record("group destroyed @", now());
    co_await aio::sleep(1);
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("a group destroyed without join cancels its tasks", "[task_group][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(abandoned_group(&events));
    // Cancelled before its first step, the orphan never starts.
    REQUIRE(events.log == Log{"group destroyed @0", "main ends @1"});
    REQUIRE(frames.leaked() == 0);
}
