// Step 5: a TaskGroup waits for its tasks; the first failure cancels the siblings and the
// parent's body, and the errors are raised together as an aio::ExceptionGroup.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "lab06_support.hpp"
#include "task_group.hpp"

using lab_test::after;
using lab_test::cancelling;
using lab_test::Events;
using lab_test::fail_after;
using lab_test::Log;
using lab_test::now;
using lab_test::whats;

namespace {

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

aio::Coro<int> sum_body(Events* events, lab::TaskGroup& group) {
    group.create_task(after(events, "a", 2, 1));
    group.create_task(after(events, "b", 3, 2));
    events->record("body returns with ", group.size(), " tasks running @", now());
    co_return 40;
}

aio::Coro<void> group_waits(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return sum_body(events, group); };
    auto scope = lab::task_group(body);  // a named local: never co_await a lambda's call (GCC 12)
    int value = co_await std::move(scope);
    events->record("group ended with ", value, " @", now());
}

}  // namespace

TEST_CASE("a task group waits for all its tasks before it ends", "[06][step5][task_group]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(group_waits(&events));
    CHECK(events.log == Log{"body returns with 2 tasks running @0", "a starts @0", "b starts @0", "a returns 1 @2",
                            "b returns 2 @3", "group ended with 40 @3"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> failing_body(Events* events, lab::TaskGroup& group) {
    group.create_task(after(events, "sibling", 5, 1));
    group.create_task(fail_after(events, "bad", 1, "boom"));
    co_await body_sleeps(events, 10);
}

aio::Coro<void> child_failure(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return failing_body(events, group); };
    auto scope = lab::task_group(body);
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
          "[06][step5][task_group][error][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(child_failure(&events));
    CHECK(events.log == Log{"sibling starts @0", "bad starts @0", "bad raises boom @1", "sibling cancelled() @1",
                            "body cancelled @1 cancelling=1", "ExceptionGroup [boom] @1 cancelling=0",
                            "parent goes on @2"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> two_failures_body(Events* events, lab::TaskGroup& group) {
    group.create_task(fail_after(events, "first", 1, "one"));
    group.create_task(fail_after(events, "second", 1, "two"));
    group.create_task(after(events, "third", 5, 3));
    co_return;
}

aio::Coro<void> two_failures(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return two_failures_body(events, group); };
    auto scope = lab::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "] @", now(), " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("errors of tasks failing together are all raised, in completion order", "[06][step5][task_group][error]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(two_failures(&events));
    CHECK(events.log == Log{"first starts @0", "second starts @0", "third starts @0", "first raises one @1",
                            "second raises two @1", "third cancelled() @1", "ExceptionGroup [one two] @1 cancelling=0"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancelled_child_body(Events* events, lab::TaskGroup& group) {
    aio::Task<int> victim = group.create_task(after(events, "victim", 5, 1));
    group.create_task(after(events, "other", 2, 2));
    co_await aio::sleep(1);
    victim.cancel();
}

aio::Coro<void> cancelled_child(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return cancelled_child_body(events, group); };
    auto scope = lab::task_group(body);
    co_await std::move(scope);
    events->record("group ended normally @", now());
}
}  // namespace

TEST_CASE("a cancelled task is not an error of its group", "[06][step5][task_group][cancel]") {
    Events events;
    lab_test::run_virtual(cancelled_child(&events));
    CHECK(events.log == Log{"victim starts @0", "other starts @0", "victim cancelled() @1", "other returns 2 @2",
                            "group ended normally @2"});
}

namespace {
aio::Coro<void> raising_body(Events* events, lab::TaskGroup& group) {
    group.create_task(after(events, "child", 5, 1));
    co_await aio::sleep(1);
    events->record("body raises oops @", now());
    throw std::logic_error("oops");
}

aio::Coro<void> body_error(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return raising_body(events, group); };
    auto scope = lab::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "] @", now(), " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("an error in the body cancels the tasks and is raised in the ExceptionGroup",
          "[06][step5][task_group][error]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(body_error(&events));
    CHECK(events.log == Log{"child starts @0", "body raises oops @1", "child cancelled() @1",
                            "ExceptionGroup [oops] @1 cancelling=0"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> long_body(Events* events, lab::TaskGroup& group) {
    group.create_task(after(events, "a", 5, 1));
    group.create_task(after(events, "b", 6, 2));
    co_await body_sleeps(events, 10);
}

aio::Coro<void> parent_of_group(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return long_body(events, group); };
    auto scope = lab::task_group(body);
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
          "[06][step5][task_group][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(cancel_parent(&events));
    // The outside request is not the group's own: it is not withdrawn (cancelling stays 1).
    CHECK(events.log == Log{"a starts @0", "b starts @0", "body cancelled @1 cancelling=1", "a cancelled() @1",
                            "b cancelled() @1", "group raised CancelledError @1 cancelling=1",
                            "parent cancelled=1 @1"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> late_spawner(Events* events, lab::TaskGroup* group) {
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

aio::Coro<void> shutting_down_body(Events* events, lab::TaskGroup& group) {
    group.create_task(late_spawner(events, &group));
    group.create_task(fail_after(events, "bad", 1, "boom"));
    co_return;
}

aio::Coro<void> create_while_shutting_down(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return shutting_down_body(events, group); };
    auto scope = lab::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "]");
    }
}
}  // namespace

TEST_CASE("create_task on a group that is shutting down raises RuntimeError", "[06][step5][task_group]") {
    Events events;
    lab_test::run_virtual(create_while_shutting_down(&events));
    CHECK(events.log == Log{"bad starts @0", "bad raises boom @1",
                            "create_task while shutting down: TaskGroup is shutting down", "ExceptionGroup [boom]"});
}

TEST_CASE("a task group needs a parent task", "[06][step5][task_group]") {
    CHECK_THROWS_AS(lab::TaskGroup(), aio::RuntimeError);
}
