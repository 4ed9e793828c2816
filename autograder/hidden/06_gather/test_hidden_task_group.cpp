// Hidden tests, lab 06: TaskGroup edge cases. Order and priority of errors, cancellation
// while joining, the explicit join() form and its rules, a group destroyed without join,
// size(), and 10,000 tasks gathered inside a group. Times in the logs are virtual-time loop
// seconds.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <aio/aio.hpp>

#include "gather.hpp"
#include "task_group.hpp"
#include "hidden06_support.hpp"

using namespace hidden06;  // the shared helpers: Events, run_virtual, after, ...

// --- TaskGroup ---------------------------------------------------------------------------------

namespace {
aio::Coro<void> body_sleeps(Events* events, double delay) {
    try {
        co_await aio::sleep(delay);
        events->record("body slept until @", now());
    } catch (const aio::CancelledError&) {
        events->record("body cancelled @", now(), " cancelling=", cancelling());
        throw;
    }
}

aio::Coro<void> failing_then_raising_body(Events* events, lab::TaskGroup& group) {
    group.create_task(fail_after(events, "bad", 1, "boom"));
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        events->record("body turns the cancellation into oops @", now());
    }
    throw std::logic_error("oops");
}

aio::Coro<void> both_errors(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return failing_then_raising_body(events, group); };
    auto scope = lab::task_group(body);
    try {
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("ExceptionGroup [", whats(errors), "] cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("the body's error comes after the tasks' errors in the ExceptionGroup", "[06][step5][task_group][error][hidden]") {
    Events events;
    run_virtual(both_errors(&events));
    CHECK(events.log == Log{"bad starts @0", "bad raises boom @1", "body turns the cancellation into oops @1",
                            "ExceptionGroup [boom oops] cancelling=0"});
}

namespace {
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

aio::Coro<void> cleanup_failure_body(Events* events, lab::TaskGroup& group) {
    group.create_task(fails_on_cancel(events));
    co_await body_sleeps(events, 10);
}

aio::Coro<void> parent_with_failing_cleanup(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return cleanup_failure_body(events, group); };
    auto scope = lab::task_group(body);
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
          "[06][step5][task_group][error][cancel][hidden]") {
    Events events;
    FrameLeakCheck frames;
    run_virtual(errors_before_cancellation(&events));
    CHECK(events.log == Log{"body cancelled @1 cancelling=1", "child fails while cancelled @1",
                            "ExceptionGroup [cleanup failed] cancelling=1"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> quick_body(Events* events, lab::TaskGroup& group) {
    group.create_task(after(events, "a", 5, 1));
    co_return;
}

aio::Coro<void> parent_waiting_in_group(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return quick_body(events, group); };
    auto scope = lab::task_group(body);
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
          "[06][step5][task_group][cancel][hidden]") {
    Events events;
    FrameLeakCheck frames;
    run_virtual(cancel_parent_while_joining(&events));
    CHECK(events.log == Log{"a starts @0", "a cancelled() @1", "group raised CancelledError @1", "parent cancelled=1"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> create_after_join(Events* events) {
    lab::TaskGroup group;
    group.create_task(after(events, "only", 1, 1));
    auto leave = group.join();  // a named local, as the GCC 12 rules ask
    co_await std::move(leave);
    try {
        group.create_task(after(events, "too late", 1, 2));
    } catch (const aio::RuntimeError& error) {
        events->record("create_task after the end: ", error.what());
    }
}
}  // namespace

TEST_CASE("create_task on a group that has ended raises RuntimeError", "[06][step5][task_group][hidden]") {
    Events events;
    run_virtual(create_after_join(&events));
    CHECK(events.log == Log{"only starts @0", "only returns 1 @1", "create_task after the end: TaskGroup is finished"});
}

namespace {
aio::Coro<void> explicit_group(Events* events) {
    lab::TaskGroup group;
    std::exception_ptr error;
    try {
        group.create_task(after(events, "a", 2, 1));
        group.create_task(fail_after(events, "bad", 1, "boom"));
        co_await body_sleeps(events, 10);
    } catch (...) {
        error = std::current_exception();  // no co_await in a handler: join below
    }
    try {
        auto leave = group.join(error);
        co_await std::move(leave);
    } catch (const aio::ExceptionGroup& errors) {
        events->record("join raised ExceptionGroup [", whats(errors), "] cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("join() ends a group as async with would, given what the body raised", "[06][step5][task_group][error][hidden]") {
    Events events;
    FrameLeakCheck frames;
    run_virtual(explicit_group(&events));
    CHECK(events.log == Log{"a starts @0", "bad starts @0", "bad raises boom @1", "a cancelled() @1",
                            "body cancelled @1 cancelling=1", "join raised ExceptionGroup [boom] cancelling=0"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> abandoned_group(Events* events) {
    {
        lab::TaskGroup group;
        group.create_task(after(events, "orphan", 5, 1));
        // Left without join(), as if an exception had skipped it.
    }
    events->record("group destroyed @", now());
    co_await aio::sleep(1);
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("a group destroyed without join cancels its tasks", "[06][step5][task_group][cancel][hidden]") {
    Events events;
    FrameLeakCheck frames;
    run_virtual(abandoned_group(&events));
    // Cancelled before its first step, the orphan never starts.
    CHECK(events.log == Log{"group destroyed @0", "main ends @1"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> join_twice(Events* events) {
    lab::TaskGroup group;
    group.create_task(after(events, "a", 1, 1));
    auto leave = group.join();
    co_await std::move(leave);
    try {
        auto again = group.join();
        co_await std::move(again);
        events->record("second join returned");
    } catch (const aio::RuntimeError&) {
        events->record("second join raised RuntimeError");
    }
}
}  // namespace

TEST_CASE("joining a group twice raises RuntimeError", "[06][step5][task_group][hidden]") {
    Events events;
    run_virtual(join_twice(&events));
    CHECK(events.log == Log{"a starts @0", "a returns 1 @1", "second join raised RuntimeError"});
}

namespace {
aio::Coro<void> counting_body(Events* events, lab::TaskGroup& group) {
    group.create_task(quiet(1, 1));
    group.create_task(quiet(2, 2));
    events->record("size ", group.size());
    co_await aio::sleep(1.5);
    events->record("size ", group.size(), " @", now());
}

aio::Coro<void> group_size(Events* events) {
    auto body = [events](lab::TaskGroup& group) { return counting_body(events, group); };
    auto scope = lab::task_group(body);
    co_await std::move(scope);
    events->record("ended @", now());
}
}  // namespace

TEST_CASE("size() counts the group's tasks that are not done yet", "[06][step5][task_group][hidden]") {
    Events events;
    run_virtual(group_size(&events));
    CHECK(events.log == Log{"size 2", "size 1 @1.5", "ended @2"});
}

namespace {
aio::Coro<std::int64_t> many_body(lab::TaskGroup& group) {
    std::vector<aio::Task<int>> tasks;
    // The even-numbered tasks sleep 1 s, the odd ones finish at once: the last task in
    // argument order is not the last to finish.
    for (int i = 0; i < 10'000; ++i) tasks.push_back(group.create_task(quiet(i % 2 == 0 ? 1 : 0, i)));
    // The group's tasks are aio tasks: lab::gather takes them.
    auto gathering = lab::gather(std::move(tasks));
    std::vector<int> results = co_await std::move(gathering);
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i] != static_cast<int>(i)) co_return -1;  // not in argument order
        sum += results[i];
    }
    co_return sum;
}

aio::Coro<std::int64_t> many_tasks() {
    auto body = [](lab::TaskGroup& group) { return many_body(group); };
    auto scope = lab::task_group(body);
    std::int64_t sum = co_await std::move(scope);
    co_return sum;
}
}  // namespace

TEST_CASE("a task group of 10,000 tasks, gathered inside it, waits for them all",
          "[06][step5][task_group][scale][integration][hidden]") {
    FrameLeakCheck frames;
    CHECK(run_virtual(many_tasks()) == std::int64_t{9'999} * 10'000 / 2);
    CHECK(frames.leaked() == 0);
}
