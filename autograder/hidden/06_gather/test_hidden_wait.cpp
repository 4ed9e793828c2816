// Hidden tests, lab 06: wait and as_completed edge cases. Futures already done or given
// twice, timers left behind, plain aio futures, waiting again after a timeout, results read
// after the deadline. Times in the logs are virtual-time loop seconds.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <aio/aio.hpp>

#include "wait.hpp"
#include "hidden06_support.hpp"

using namespace hidden06;  // the shared helpers: Events, run_virtual, after, ...

// --- wait --------------------------------------------------------------------------------------

namespace {
std::string names(const std::vector<aio::Task<int>>& tasks) {
    std::string text;
    for (const aio::Task<int>& task : tasks) text += (text.empty() ? "" : " ") + task.get_name();
    return text;
}

aio::Coro<void> wait_done_future(Events* events) {
    aio::Future<int> ready;
    ready.set_result(1);
    aio::get_running_loop().call_soon([events] { events->record("callback scheduled before the wait"); });
    auto waiting = lab::wait(std::vector<aio::Future<int>>{ready, ready});
    auto [done, pending] = co_await std::move(waiting);
    events->record("wait returned ", done.size(), " done, ", pending.size(), " pending");
}
}  // namespace

TEST_CASE("wait sees a future already done one loop iteration later and lists a repeated future once",
          "[06][step4][wait][hidden]") {
    Events events;
    run_virtual(wait_done_future(&events));
    CHECK(events.log == Log{"callback scheduled before the wait", "wait returned 1 done, 0 pending"});
}

namespace {
aio::Coro<void> wait_before_timeout(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 1, 1)};
    auto waiting = lab::wait(tasks, aio::seconds(100), lab::ALL_COMPLETED);
    auto result = co_await std::move(waiting);
    events->record("wait returned done=[", names(result.done), "] @", now(), " live timers ", live_timers());
}
}  // namespace

TEST_CASE("wait that ends before its timeout cancels its timer", "[06][step4][wait][timeout][hidden]") {
    Events events;
    run_virtual(wait_before_timeout(&events));
    CHECK(events.log == Log{"a starts @0", "a returns 1 @1", "wait returned done=[a] @1 live timers 0"});
}

namespace {
aio::Coro<void> wait_first_exception_none(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 1, 1), spawn(events, "b", 2, 2)};
    auto waiting = lab::wait(tasks, lab::FIRST_EXCEPTION);
    auto result = co_await std::move(waiting);
    events->record("wait returned done=[", names(result.done), "] pending=[", names(result.pending), "] @", now());
}
}  // namespace

TEST_CASE("wait with FIRST_EXCEPTION and no exception waits for every future", "[06][step4][wait][hidden]") {
    Events events;
    run_virtual(wait_first_exception_none(&events));
    CHECK(events.log ==
          Log{"a starts @0", "b starts @0", "a returns 1 @1", "b returns 2 @2", "wait returned done=[a b] pending=[] @2"});
}

namespace {
aio::Coro<void> wait_plain_futures(Events* events) {
    aio::Future<int> early;
    aio::Future<int> late;
    aio::get_running_loop().call_later(1.0, [early] { early.set_result(1); });
    aio::get_running_loop().call_later(4.0, [late] { late.set_result(2); });
    auto waiting = lab::wait(std::vector<aio::Future<int>>{late, early}, lab::FIRST_COMPLETED);
    auto result = co_await std::move(waiting);
    events->record("done ", result.done.size(), " (", result.done[0].result(), ") pending ", result.pending.size(),
                   " @", now());
}
}  // namespace

TEST_CASE("wait takes plain aio futures completed by loop callbacks", "[06][step4][wait][integration][hidden]") {
    Events events;
    run_virtual(wait_plain_futures(&events));
    CHECK(events.log == Log{"done 1 (1) pending 1 @1"});
}

namespace {
aio::Coro<void> wait_then_cancel_nothing(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 0.75, 1), spawn(events, "b", 5, 2)};
    for (int round = 0; round < 2; ++round) {
        auto waiting = lab::wait(tasks, 0.5);
        auto result = co_await std::move(waiting);
        events->record("round ", round, ": done=[", names(result.done), "] @", now());
    }
    co_await aio::sleep(10);
}
}  // namespace

TEST_CASE("waiting again on the same futures after a timeout works and still cancels nothing",
          "[06][step4][wait][timeout][hidden]") {
    Events events;
    FrameLeakCheck frames;
    run_virtual(wait_then_cancel_nothing(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "round 0: done=[] @0.5", "a returns 1 @0.75",
                            "round 1: done=[a] @1", "b returns 2 @5"});
    CHECK(frames.leaked() == 0);
}

// --- as_completed --------------------------------------------------------------------------

namespace {
aio::Coro<void> as_completed_cancelled(Events* events) {
    aio::Task<int> victim = spawn(events, "victim", 5, 1);
    std::vector<aio::Task<int>> tasks{victim, spawn(events, "fine", 2, 2), victim};
    aio::get_running_loop().call_later(1.0, [victim] { victim.cancel(); });
    auto results = lab::as_completed(tasks);
    events->record("awaitables: ", results.size());
    for (auto next : results) {
        try {
            int value = co_await std::move(next);
            events->record("got ", value, " @", now());
        } catch (const aio::CancelledError&) {
            events->record("CancelledError @", now());
        }
    }
}
}  // namespace

TEST_CASE("as_completed raises CancelledError in turn for a cancelled future and counts a repeated one once",
          "[06][step4][as_completed][cancel][hidden]") {
    Events events;
    run_virtual(as_completed_cancelled(&events));
    CHECK(events.log == Log{"awaitables: 2", "victim starts @0", "fine starts @0", "victim cancelled() @1",
                            "CancelledError @1", "fine returns 2 @2", "got 2 @2"});
}

namespace {
aio::Coro<void> as_completed_in_time(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(quiet(1, 1));
    coros.push_back(quiet(2, 2));
    int sum = 0;
    for (auto next : lab::as_completed(std::move(coros), 50.0)) {
        int value = co_await std::move(next);
        sum += value;
    }
    co_await aio::sleep(0);
    events->record("sum ", sum, " @", now(), " live timers ", live_timers());
}
}  // namespace

TEST_CASE("as_completed whose futures all finish in time leaves no timer behind",
          "[06][step4][as_completed][timeout][hidden]") {
    Events events;
    run_virtual(as_completed_in_time(&events));
    CHECK(events.log == Log{"sum 3 @2 live timers 0"});
}

namespace {
aio::Coro<void> as_completed_read_late(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(quiet(5, 5));
    coros.push_back(quiet(1, 1));
    coros.push_back(quiet(6, 6));
    auto results = lab::as_completed(std::move(coros), 2.0);
    co_await aio::sleep(3);  // read only after the deadline
    for (auto next : results) {
        try {
            int value = co_await std::move(next);
            events->record("got ", value, " @", now());
        } catch (const aio::TimeoutError&) {
            events->record("TimeoutError @", now());
        }
    }
    co_await aio::sleep(5);  // let the late ones finish: nothing left pending at the end
}
}  // namespace

TEST_CASE("as_completed read after its deadline gives what finished in time, then TimeoutErrors",
          "[06][step4][as_completed][timeout][hidden]") {
    Events events;
    run_virtual(as_completed_read_late(&events));
    CHECK(events.log == Log{"got 1 @3", "TimeoutError @3", "TimeoutError @3"});
}
