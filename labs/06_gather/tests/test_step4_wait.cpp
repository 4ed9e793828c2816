// Step 4: wait() returns {done, pending} when its condition holds; as_completed() hands out
// results in completion order. Neither cancels anything.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "aio/future.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "lab06_support.hpp"
#include "wait.hpp"

using lab_test::after;
using lab_test::Events;
using lab_test::fail_after;
using lab_test::Log;
using lab_test::now;

namespace {

/// The names of `tasks`, in order: "a b".
std::string names(const std::vector<aio::Task<int>>& tasks) {
    std::string text;
    for (const aio::Task<int>& task : tasks) text += (text.empty() ? "" : " ") + task.get_name();
    return text;
}

std::string describe(const lab::WaitResult<aio::Task<int>>& result) {
    return "done=[" + names(result.done) + "] pending=[" + names(result.pending) + "]";
}

aio::Task<int> spawn(Events* events, std::string name, double delay, int value) {
    return aio::create_task(after(events, name, delay, value), name);
}
aio::Task<int> spawn_failing(Events* events, std::string name, double delay, std::string what) {
    return aio::create_task(fail_after(events, name, delay, std::move(what)), name);
}

aio::Coro<void> wait_all(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "c", 3, 3), spawn(events, "a", 1, 1),
                                      spawn_failing(events, "b", 2, "boom")};
    auto waiting = lab::wait(tasks);
    auto [done, pending] = co_await std::move(waiting);
    events->record("wait returned done=[", names(done), "] pending=[", names(pending), "] @", now());
    events->record("b failed: ", done[2].exception() != nullptr);
}

}  // namespace

TEST_CASE("wait with ALL_COMPLETED returns when every future is done, failures included", "[06][step4][wait]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(wait_all(&events));
    // done keeps the argument order, not the completion order; wait() raises nothing.
    CHECK(events.log == Log{"c starts @0", "a starts @0", "b starts @0", "a returns 1 @1", "b raises boom @2",
                            "c returns 3 @3", "wait returned done=[c a b] pending=[] @3", "b failed: 1"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> wait_first(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 2, 1), spawn(events, "b", 1, 2), spawn(events, "c", 3, 3)};
    auto waiting = lab::wait(tasks, lab::FIRST_COMPLETED);
    auto result = co_await std::move(waiting);
    events->record("wait returned ", describe(result), " @", now());
    co_await aio::sleep(5);  // nothing was cancelled: the others finish
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("wait with FIRST_COMPLETED returns when the first future is done and cancels nothing",
          "[06][step4][wait]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(wait_first(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "c starts @0", "b returns 2 @1",
                            "wait returned done=[b] pending=[a c] @1", "a returns 1 @2", "c returns 3 @3",
                            "main ends @6"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> wait_first_exception(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "victim", 5, 1), spawn(events, "fine", 0.5, 2),
                                      spawn_failing(events, "bad", 2, "boom"), spawn(events, "slow", 3, 3)};
    aio::Task<int> victim = tasks[0];
    aio::get_running_loop().call_later(1.0, [victim] { victim.cancel(); });
    auto waiting = lab::wait(tasks, lab::FIRST_EXCEPTION);
    auto result = co_await std::move(waiting);
    events->record("wait returned ", describe(result), " @", now());
    co_await aio::sleep(5);
}
}  // namespace

TEST_CASE("wait with FIRST_EXCEPTION returns at the first exception, and a cancellation is not one",
          "[06][step4][wait][error][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(wait_first_exception(&events));
    CHECK(events.log == Log{"victim starts @0", "fine starts @0", "bad starts @0", "slow starts @0",
                            "fine returns 2 @0.5", "victim cancelled() @1", "bad raises boom @2",
                            "wait returned done=[victim fine bad] pending=[slow] @2", "slow returns 3 @3"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> wait_timeout(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 1, 1), spawn(events, "b", 5, 2), spawn(events, "c", 7, 3)};
    auto waiting = lab::wait(tasks, 2.0);
    auto result = co_await std::move(waiting);
    events->record("wait returned ", describe(result), " @", now());
    co_await aio::sleep(10);
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("wait with a timeout returns the unfinished futures as pending, raises nothing and cancels nothing",
          "[06][step4][wait][timeout]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(wait_timeout(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "c starts @0", "a returns 1 @1",
                            "wait returned done=[a] pending=[b c] @2", "b returns 2 @5", "c returns 3 @7",
                            "main ends @12"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> waiter(Events* events, std::vector<aio::Task<int>> tasks) {
    try {
        auto waiting = lab::wait(std::move(tasks));
        co_await std::move(waiting);
    } catch (const aio::CancelledError&) {
        events->record("wait raised CancelledError @", now());
        throw;
    }
}

aio::Coro<void> cancel_waiter(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 2, 1), spawn(events, "b", 3, 2)};
    aio::Task<void> waiting_task = aio::create_task(waiter(events, tasks));
    co_await aio::sleep(1);
    waiting_task.cancel();
    try {
        co_await waiting_task;
    } catch (const aio::CancelledError&) {
        events->record("waiting task cancelled=", waiting_task.cancelled());
    }
    co_await aio::sleep(5);
}
}  // namespace

TEST_CASE("cancelling the task in wait ends the wait and leaves the futures running", "[06][step4][wait][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(cancel_waiter(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "wait raised CancelledError @1", "waiting task cancelled=1",
                            "a returns 1 @2", "b returns 2 @3"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> wait_nothing(Events* events) {
    try {
        auto waiting = lab::wait(std::vector<aio::Task<int>>{});
        co_await std::move(waiting);
        events->record("no error");
    } catch (const aio::ValueError&) {
        events->record("ValueError");
    }
}
}  // namespace

TEST_CASE("wait with no futures raises ValueError", "[06][step4][wait]") {
    Events events;
    lab_test::run_virtual(wait_nothing(&events));
    CHECK(events.log == Log{"ValueError"});
}

// --- as_completed ------------------------------------------------------------------------------

namespace {
aio::Coro<void> in_completion_order(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(after(events, "a", 3, 1));
    coros.push_back(fail_after(events, "b", 2, "boom"));
    coros.push_back(after(events, "c", 1, 3));
    for (auto next : lab::as_completed(std::move(coros))) {
        try {
            int value = co_await std::move(next);
            events->record("got ", value, " @", now());
        } catch (const std::runtime_error& error) {
            events->record("got error ", error.what(), " @", now());
        }
    }
}
}  // namespace

TEST_CASE("as_completed yields results, and errors, in completion order", "[06][step4][as_completed]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(in_completion_order(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "c starts @0", "c returns 3 @1", "got 3 @1",
                            "b raises boom @2", "got error boom @2", "a returns 1 @3", "got 1 @3"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> with_deadline(Events* events) {
    aio::Future<int> from_callback;
    aio::get_running_loop().call_later(0.5, [from_callback] { from_callback.set_result(5); });
    std::vector<aio::Future<int>> futures{spawn(events, "a", 1, 1), spawn(events, "b", 4, 2), from_callback,
                                          spawn(events, "c", 6, 3)};
    auto results = lab::as_completed(futures, 2.0);
    events->record("awaitables: ", results.size());
    for (auto next : results) {
        try {
            int value = co_await std::move(next);
            events->record("got ", value, " @", now());
        } catch (const aio::TimeoutError&) {
            events->record("TimeoutError @", now());
        }
    }
    co_await aio::sleep(10);  // the timeout cancelled nothing
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("as_completed with a timeout raises TimeoutError for the futures not done in time, and cancels none",
          "[06][step4][as_completed][timeout][integration]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(with_deadline(&events));
    CHECK(events.log == Log{"awaitables: 4", "a starts @0", "b starts @0", "c starts @0", "got 5 @0.5",
                            "a returns 1 @1", "got 1 @1", "TimeoutError @2", "TimeoutError @2", "b returns 2 @4",
                            "c returns 3 @6", "main ends @12"});
    CHECK(frames.leaked() == 0);
}
