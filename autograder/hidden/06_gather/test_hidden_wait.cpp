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
    auto waiting = lab::wait(std::vector<aio::Future<int>>{ready, ready}, aio::seconds(10));
    auto [done, pending] = co_await std::move(waiting);
    events->record("wait returned ", done.size(), " done, ", pending.size(), " pending @", now(), ", live timers ",
                   live_timers());
}
}  // namespace

TEST_CASE("wait sees a future already done one loop iteration later and lists a repeated future once",
          "[06][step4][wait][hidden]") {
    Events events;
    run_virtual(wait_done_future(&events));
    CHECK(events.log == Log{"callback scheduled before the wait", "wait returned 1 done, 0 pending @0, live timers 0"});
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
    // The other ways a loop callback ends a plain future: cancel() at 2 s, an exception at 3 s.
    aio::Future<int> cancelled;
    aio::Future<int> failed;
    aio::get_running_loop().call_later(1.0, [cancelled]() mutable { cancelled.cancel(); });
    aio::get_running_loop().call_later(2.0, [failed] {
        failed.set_exception(std::make_exception_ptr(std::runtime_error("bad")));
    });
    auto first_error = lab::wait(std::vector<aio::Future<int>>{late, cancelled, failed}, lab::FIRST_EXCEPTION);
    auto errors = co_await std::move(first_error);
    events->record("FIRST_EXCEPTION: done ", errors.done.size(), " pending ", errors.pending.size(), " @", now());
}
}  // namespace

TEST_CASE("wait takes plain aio futures completed by loop callbacks", "[06][step4][wait][integration][hidden]") {
    Events events;
    run_virtual(wait_plain_futures(&events));
    CHECK(events.log == Log{"done 1 (1) pending 1 @1", "FIRST_EXCEPTION: done 2 pending 1 @3"});
}

namespace {
aio::Coro<void> wait_then_cancel_nothing(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 0.75, 1), spawn(events, "b", 5, 2)};
    for (int round = 0; round < 2; ++round) {
        // Round 0 times out at 0.5 s; round 1 ends at 0.75 s, when a finishes, before its timeout.
        // The live timers are the tasks' sleeps: a wait leaves none of its own behind.
        auto waiting = lab::wait(tasks, round == 0 ? 0.5 : 2.0, lab::FIRST_COMPLETED);
        auto result = co_await std::move(waiting);
        events->record("round ", round, ": done=[", names(result.done), "] @", now(), " live timers ", live_timers());
    }
    co_await aio::sleep(10);
}
}  // namespace

TEST_CASE("waiting again on the same futures after a timeout works and still cancels nothing",
          "[06][step4][wait][timeout][hidden]") {
    Events events;
    FrameLeakCheck frames;
    run_virtual(wait_then_cancel_nothing(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "round 0: done=[] @0.5 live timers 2", "a returns 1 @0.75",
                            "round 1: done=[a] @0.75 live timers 1", "b returns 2 @5"});
    CHECK(frames.leaked() == 0);
}

// --- as_completed --------------------------------------------------------------------------

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
    coros.push_back(after(events, "slow", 5, 5));
    coros.push_back(after(events, "fast", 1, 1));
    coros.push_back(after(events, "slower", 6, 6));
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
    CHECK(events.log == Log{"slow starts @0", "fast starts @0", "slower starts @0", "fast returns 1 @1", "got 1 @3",
                            "TimeoutError @3", "TimeoutError @3", "slow returns 5 @5", "slower returns 6 @6"});
}
