// aio::wait and aio::as_completed (asyncio.wait, asyncio.as_completed, Python 3.12), on the
// virtual-time loop: times in the event logs are loop seconds.
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

/// The names of `tasks`, in order: "a b".
std::string names(const std::vector<aio::Task<int>>& tasks) {
    std::string text;
    for (const aio::Task<int>& task : tasks) text += (text.empty() ? "" : " ") + task.get_name();
    return text;
}

std::string describe(const aio::WaitResult<aio::Task<int>>& result) {
    return "done=[" + names(result.done) + "] pending=[" + names(result.pending) + "] @" + std::to_string(now()).substr(0, 3);
}

aio::Task<int> spawn(Events* events, std::string name, double delay, int value) {
    return aio::create_task(after(events, name, delay, value), name);
}
aio::Task<int> spawn_failing(Events* events, std::string name, double delay, std::string what) {
    return aio::create_task(fail_after(events, name, delay, std::move(what)), name);
}

}  // namespace

// --- wait: return_when -------------------------------------------------------------------

namespace {
aio::Coro<void> wait_all(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "c", 3, 3), spawn(events, "a", 1, 1),
                                      spawn_failing(events, "b", 2, "boom")};
    auto waiting = aio::wait(tasks);
    auto [done, pending] = co_await std::move(waiting);
    events->record("wait returned done=[", names(done), "] pending=[", names(pending), "] @", now());
    events->record("b failed: ", done[2].exception() != nullptr);  // retrieved: not reported
}
}  // namespace

TEST_CASE("wait with ALL_COMPLETED returns when every future is done, failures included", "[wait]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(wait_all(&events));
    // done keeps the argument order, not the completion order.
    REQUIRE(events.log == Log{"c starts @0", "a starts @0", "b starts @0", "a returns 1 @1", "b raises boom @2",
                              "c returns 3 @3", "wait returned done=[c a b] pending=[] @3",
                              "b failed: 1"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> wait_first(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 2, 1), spawn(events, "b", 1, 2), spawn(events, "c", 3, 3)};
    auto waiting = aio::wait(tasks, aio::FIRST_COMPLETED);
    auto result = co_await std::move(waiting);
    events->record("wait returned ", describe(result));
    co_await aio::sleep(5);  // nothing was cancelled: the others finish
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("wait with FIRST_COMPLETED returns when the first future is done and cancels nothing", "[wait]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(wait_first(&events));
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "c starts @0", "b returns 2 @1",
                              "wait returned done=[b] pending=[a c] @1.0", "a returns 1 @2", "c returns 3 @3",
                              "main ends @6"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> wait_first_exception(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "victim", 5, 1), spawn(events, "fine", 0.5, 2),
                                      spawn_failing(events, "bad", 2, "boom"), spawn(events, "slow", 3, 3)};
    aio::Task<int> victim = tasks[0];
    aio::get_running_loop().call_later(1.0, [victim] { victim.cancel(); });
    auto waiting = aio::wait(tasks, aio::FIRST_EXCEPTION);
    auto result = co_await std::move(waiting);
    events->record("wait returned ", describe(result));
    co_await aio::sleep(5);
}
}  // namespace

TEST_CASE("wait with FIRST_EXCEPTION returns at the first exception, and a cancellation is not one",
          "[wait][error][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(wait_first_exception(&events));
    REQUIRE(events.log == Log{"victim starts @0", "fine starts @0", "bad starts @0", "slow starts @0",
                              "fine returns 2 @0.5", "victim cancelled @1", "bad raises boom @2",
                              "wait returned done=[victim fine bad] pending=[slow] @2.0", "slow returns 3 @3"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> wait_first_exception_none(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 1, 1), spawn(events, "b", 2, 2)};
    auto waiting = aio::wait(tasks, aio::FIRST_EXCEPTION);
    auto result = co_await std::move(waiting);
    events->record("wait returned ", describe(result));
}
}  // namespace

TEST_CASE("wait with FIRST_EXCEPTION and no exception waits for every future", "[wait]") {
    Events events;
    aio_test::run_virtual(wait_first_exception_none(&events));
    REQUIRE(events.log ==
            Log{"a starts @0", "b starts @0", "a returns 1 @1", "b returns 2 @2", "wait returned done=[a b] pending=[] @2.0"});
}

// --- wait: timeout and cancellation ----------------------------------------------------------

namespace {
aio::Coro<void> wait_timeout(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 1, 1), spawn(events, "b", 5, 2), spawn(events, "c", 7, 3)};
    auto waiting = aio::wait(tasks, 2.0);
    auto result = co_await std::move(waiting);
    events->record("wait returned ", describe(result));
    co_await aio::sleep(10);
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("wait with a timeout returns the unfinished futures as pending, raises nothing and cancels nothing",
          "[wait][timeout]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(wait_timeout(&events));
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "c starts @0", "a returns 1 @1",
                              "wait returned done=[a] pending=[b c] @2.0", "b returns 2 @5", "c returns 3 @7",
                              "main ends @12"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> wait_before_timeout(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 1, 1)};
    auto waiting = aio::wait(tasks, aio::seconds(100), aio::ALL_COMPLETED);
    auto result = co_await std::move(waiting);
    events->record("wait returned ", describe(result));
    // The timer was cancelled with the wait: the virtual clock has nothing left to jump to.
    auto& loop = dynamic_cast<aio::SelectorEventLoop&>(aio::get_running_loop());
    events->record("live timers ", loop.timer_count() - loop.cancelled_timer_count());
}
}  // namespace

TEST_CASE("wait that ends before its timeout cancels its timer", "[wait][timeout]") {
    Events events;
    aio_test::run_virtual(wait_before_timeout(&events));
    REQUIRE(events.log == Log{"a starts @0", "a returns 1 @1", "wait returned done=[a] pending=[] @1.0", "live timers 0"});
}

namespace {
aio::Coro<void> waiter(Events* events, std::vector<aio::Task<int>> tasks) {
    try {
        auto waiting = aio::wait(std::move(tasks));
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

TEST_CASE("cancelling the task in wait ends the wait and leaves the futures running", "[wait][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancel_waiter(&events));
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "wait raised CancelledError @1",
                              "waiting task cancelled=1", "a returns 1 @2", "b returns 2 @3"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> wait_done_future(Events* events) {
    aio::Future<int> ready;
    ready.set_result(1);
    aio::get_running_loop().call_soon([events] { events->record("callback scheduled before the wait"); });
    auto waiting = aio::wait(std::vector<aio::Future<int>>{ready, ready});
    auto [done, pending] = co_await std::move(waiting);
    events->record("wait returned ", done.size(), " done, ", pending.size(), " pending");
}
}  // namespace

TEST_CASE("wait sees a future already done one loop iteration later and lists a repeated future once", "[wait]") {
    Events events;
    aio_test::run_virtual(wait_done_future(&events));
    REQUIRE(events.log == Log{"callback scheduled before the wait", "wait returned 1 done, 0 pending"});
}

namespace {
aio::Coro<void> wait_nothing(Events* events) {
    try {
        auto waiting = aio::wait(std::vector<aio::Task<int>>{});
        co_await std::move(waiting);
    } catch (const aio::ValueError& error) {
        events->record("ValueError: ", error.what());
    }
}
}  // namespace

TEST_CASE("wait with no futures raises ValueError", "[wait]") {
    Events events;
    aio_test::run_virtual(wait_nothing(&events));
    REQUIRE(events.log == Log{"ValueError: Set of Tasks/Futures is empty."});
}

// --- as_completed ------------------------------------------------------------------------------

namespace {
aio::Coro<void> completion_order(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(after(events, "a", 3, 1));
    coros.push_back(after(events, "b", 1, 2));
    coros.push_back(fail_after(events, "c", 2, "boom"));
    aio::AsCompleted<int> results = aio::as_completed(std::move(coros));
    events->record("iteration begins, ", results.size(), " awaitables");
    for (auto next : results) {
        try {
            int value = co_await next;
            events->record("got ", value, " @", now());
        } catch (const std::runtime_error& error) {
            events->record("got error ", error.what(), " @", now());
        }
    }
}
}  // namespace

TEST_CASE("as_completed hands out results and errors in completion order", "[as_completed]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(completion_order(&events));
    // The coros became tasks in as_completed(), before the iteration began.
    REQUIRE(events.log == Log{"iteration begins, 3 awaitables", "a starts @0", "b starts @0", "c starts @0",
                              "b returns 2 @1", "got 2 @1", "c raises boom @2", "got error boom @2",
                              "a returns 1 @3", "got 1 @3"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> completion_timeout(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 1, 1), spawn(events, "b", 5, 2), spawn(events, "c", 7, 3)};
    for (auto next : aio::as_completed(tasks, 2.0)) {
        try {
            int value = co_await next;
            events->record("got ", value, " @", now());
        } catch (const aio::TimeoutError&) {
            events->record("TimeoutError @", now());
        }
    }
    co_await aio::sleep(10);  // the futures were not cancelled
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("as_completed raises TimeoutError for every result still missing at the timeout and cancels nothing",
          "[as_completed][timeout]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(completion_timeout(&events));
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "c starts @0", "a returns 1 @1", "got 1 @1",
                              "TimeoutError @2", "TimeoutError @2", "b returns 2 @5", "c returns 3 @7",
                              "main ends @12"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> completion_break(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 1, 1), spawn(events, "b", 2, 2)};
    for (auto next : aio::as_completed(tasks)) {
        int value = co_await next;
        events->record("got ", value, " and stop iterating @", now());
        break;
    }
    co_await aio::sleep(5);
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("leaving an as_completed loop early leaks nothing and lets the rest finish", "[as_completed]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(completion_break(&events));
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "a returns 1 @1", "got 1 and stop iterating @1",
                              "b returns 2 @2", "main ends @6"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> consume(Events* events, std::vector<aio::Task<int>> tasks) {
    try {
        for (auto next : aio::as_completed(std::move(tasks))) {
            int value = co_await next;
            events->record("got ", value, " @", now());
        }
    } catch (const aio::CancelledError&) {
        events->record("consumer cancelled @", now());
        throw;
    }
}

aio::Coro<void> cancel_consumer(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 1, 1), spawn(events, "b", 3, 2)};
    aio::Task<void> consumer = aio::create_task(consume(events, tasks));
    co_await aio::sleep(2);
    consumer.cancel();
    try {
        co_await consumer;
    } catch (const aio::CancelledError&) {
    }
    co_await aio::sleep(5);
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("cancelling a task waiting in as_completed cancels the task only", "[as_completed][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancel_consumer(&events));
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "a returns 1 @1", "got 1 @1", "consumer cancelled @2",
                              "b returns 2 @3", "main ends @7"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> completion_nothing(Events* events) {
    aio::AsCompleted<int> results = aio::as_completed(std::vector<aio::Task<int>>{});
    int count = 0;
    for (auto next : results) {
        static_cast<void>(next);
        ++count;
    }
    events->record("awaitables: ", count);
    co_return;
}
}  // namespace

TEST_CASE("as_completed of nothing yields nothing", "[as_completed]") {
    Events events;
    aio_test::run_virtual(completion_nothing(&events));
    REQUIRE(events.log == Log{"awaitables: 0"});
}

namespace {
aio::Coro<void> completion_duplicates(Events* events) {
    aio::Task<int> task = spawn(events, "a", 1, 1);
    aio::AsCompleted<int> results = aio::as_completed(std::vector<aio::Task<int>>{task, task});
    events->record("awaitables: ", results.size());
    for (auto next : results) {
        int value = co_await next;
        events->record("got ", value, " @", now());
    }
}
}  // namespace

TEST_CASE("as_completed yields once per distinct future", "[as_completed]") {
    Events events;
    aio_test::run_virtual(completion_duplicates(&events));
    REQUIRE(events.log == Log{"awaitables: 1", "a starts @0", "a returns 1 @1", "got 1 @1"});
}
