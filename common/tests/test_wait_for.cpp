// aio::wait_for (asyncio.wait_for with Python 3.12's semantics: built on a timeout scope),
// on the virtual-time loop: times in the event logs are loop seconds.
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

/// Records the inner coroutine's clean-up when its frame unwinds, as `finally:` would.
struct Cleanup {
    Events* events;
    ~Cleanup() { events->record("inner cleanup @", now()); }
};

/// Sleeps `delay` seconds and returns `value`, recording each step.
aio::Coro<int> inner(Events* events, double delay, int value) {
    Cleanup cleanup{events};
    events->record("inner starts @", now());
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        events->record("inner cancelled @", now());
        throw;
    }
    events->record("inner returns @", now());
    co_return value;
}

/// Sleeps `delay` seconds; when cancelled, takes `cleanup_time` more to clean up, then
/// re-raises the cancellation.
aio::Coro<int> slow_to_cancel(Events* events, double delay, double cleanup_time) {
    bool cancelled = false;
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        cancelled = true;  // no co_await in a handler: clean up below
    }
    if (cancelled) {
        events->record("task cancelled @", now());
        co_await aio::sleep(cleanup_time);
        events->record("task cleanup done @", now());
        throw aio::CancelledError();
    }
    co_return 1;
}

/// Sleeps `delay` seconds; when cancelled, returns `value_if_cancelled` instead.
aio::Coro<int> return_when_cancelled(Events* events, double delay, int value_if_cancelled) {
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        events->record("inner swallows the cancellation @", now());
        co_return value_if_cancelled;
    }
    co_return 0;
}

aio::Coro<int> fail_after(double delay) {
    co_await aio::sleep(delay);
    throw std::logic_error("inner failed");
}

}  // namespace

// --- in time ---------------------------------------------------------------------------------

namespace {
aio::Coro<void> coroutine_in_time(Events* events) {
    int value = co_await aio::wait_for(inner(events, 1, 42), 5.0);
    events->record("got ", value, " @", now());
    co_await aio::sleep(10);  // the deadline's timer is gone: nothing cancels this sleep
    events->record("slept past the deadline @", now(), " cancelling=", cancelling());
}
}  // namespace

TEST_CASE("wait_for returns the value of a coroutine that finishes in time", "[wait_for]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(coroutine_in_time(&events));
    REQUIRE(events.log == Log{"inner starts @0", "inner returns @1", "inner cleanup @1", "got 42 @1",
                              "slept past the deadline @11 cancelling=0"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<aio::AbstractTask*> which_task() { co_return aio::current_task(); }
aio::Coro<bool> runs_in_caller_task() {
    aio::AbstractTask* inside = co_await aio::wait_for(which_task(), 1.0);
    co_return inside == aio::current_task();
}
}  // namespace

TEST_CASE("wait_for runs a coroutine inline in the calling task, as Python 3.12 does", "[wait_for]") {
    REQUIRE(aio_test::run_virtual(runs_in_caller_task()));
}

namespace {
aio::Coro<void> task_and_future_in_time(Events* events) {
    aio::Task<int> task = aio::create_task(inner(events, 1, 7));
    int from_task = co_await aio::wait_for(task, 5.0);
    events->record("task gave ", from_task, " @", now());

    aio::Future<std::string> future;
    aio::get_running_loop().call_later(2.0, [future] { future.set_result("ready"); });
    std::string from_future = co_await aio::wait_for(future, aio::seconds(5));
    events->record("future gave ", from_future, " @", now());
}
}  // namespace

TEST_CASE("wait_for returns the value of a task or future that is done in time", "[wait_for]") {
    Events events;
    aio_test::run_virtual(task_and_future_in_time(&events));
    REQUIRE(events.log == Log{"inner starts @0", "inner returns @1", "inner cleanup @1", "task gave 7 @1",
                              "future gave ready @3"});
}

namespace {
aio::Coro<void> no_limit(Events* events) {
    int value = co_await aio::wait_for(inner(events, 1000, 5), std::nullopt);
    events->record("got ", value, " @", now());
}
}  // namespace

TEST_CASE("wait_for without a timeout waits as long as it takes", "[wait_for]") {
    Events events;
    aio_test::run_virtual(no_limit(&events));
    REQUIRE(events.log == Log{"inner starts @0", "inner returns @1000", "inner cleanup @1000", "got 5 @1000"});
}

TEST_CASE("wait_for can be the main coroutine of run_until_complete", "[wait_for]") {
    Events events;
    aio::VirtualTimeLoop loop;
    REQUIRE(loop.run_until_complete(aio::wait_for(inner(&events, 1, 3), 2.0)) == 3);
    REQUIRE_THROWS_AS(loop.run_until_complete(aio::wait_for(inner(&events, 5, 3), 2.0)), aio::TimeoutError);
}

// --- timing out ------------------------------------------------------------------------------

namespace {
aio::Coro<void> coroutine_times_out(Events* events) {
    try {
        co_await aio::wait_for(inner(events, 10, 1), 2.0);
        events->record("no error");
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("wait_for cancels a coroutine that overruns and raises TimeoutError after its clean-up ran",
          "[wait_for][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(coroutine_times_out(&events));
    REQUIRE(events.log == Log{"inner starts @0", "inner cancelled @2", "inner cleanup @2",
                              "TimeoutError @2 cancelling=0"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> task_times_out(Events* events) {
    aio::Task<int> task = aio::create_task(slow_to_cancel(events, 10, 3));
    try {
        co_await aio::wait_for(task, 2.0);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " task ", task.cancelled() ? "cancelled" : "not cancelled");
    }
}
}  // namespace

TEST_CASE("wait_for waits for a timed-out task's slow clean-up before raising TimeoutError",
          "[wait_for][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(task_times_out(&events));
    REQUIRE(events.log == Log{"task cancelled @2", "task cleanup done @5", "TimeoutError @5 task cancelled"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> future_times_out(Events* events) {
    aio::Future<int> future;
    try {
        co_await aio::wait_for(future, 1.0);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " future ", future.cancelled() ? "cancelled" : "not cancelled");
    }
}
}  // namespace

TEST_CASE("wait_for cancels a future that is not done in time", "[wait_for][cancel]") {
    Events events;
    aio_test::run_virtual(future_times_out(&events));
    REQUIRE(events.log == Log{"TimeoutError @1 future cancelled"});
}

namespace {
aio::Coro<void> swallowed_timeout(Events* events) {
    int from_coroutine = co_await aio::wait_for(return_when_cancelled(events, 10, -1), 2.0);
    events->record("coroutine gave ", from_coroutine, " @", now(), " cancelling=", cancelling());
    aio::Task<int> task = aio::create_task(return_when_cancelled(events, 10, -2));
    int from_task = co_await aio::wait_for(task, 2.0);
    events->record("task gave ", from_task, " @", now(), " cancelling=", cancelling());
    co_await aio::sleep(1);
    events->record("the caller sleeps on undisturbed @", now());
}
}  // namespace

TEST_CASE("wait_for returns the value of an awaitable that catches the cancellation and returns",
          "[wait_for][cancel]") {
    // Python 3.12 and later; 3.11's wait_for raised TimeoutError here.
    Events events;
    aio_test::run_virtual(swallowed_timeout(&events));
    REQUIRE(events.log == Log{"inner swallows the cancellation @2", "coroutine gave -1 @2 cancelling=0",
                              "inner swallows the cancellation @4", "task gave -2 @4 cancelling=0",
                              "the caller sleeps on undisturbed @5"});
}

namespace {
aio::Coro<void> inner_error() {
    try {
        co_await aio::wait_for(fail_after(1), 5.0);
    } catch (const std::logic_error& error) {
        throw std::runtime_error(std::string("caught: ") + error.what());
    }
}
}  // namespace

TEST_CASE("wait_for rethrows the inner coroutine's exception", "[wait_for]") {
    REQUIRE_THROWS_WITH(aio_test::run_virtual(inner_error()), "caught: inner failed");
}

// --- zero and negative timeouts ----------------------------------------------------------------

namespace {
aio::Coro<void> zero_timeout_on_done_future(Events* events, double delay) {
    aio::Future<int> future;
    future.set_result(5);
    int value = co_await aio::wait_for(future, delay);
    events->record("got ", value, " @", now());
}
}  // namespace

TEST_CASE("wait_for with a zero or negative timeout returns the result of a future already done",
          "[wait_for][zero]") {
    Events events;
    double delay = 0;
    SECTION("zero") { delay = 0; }
    SECTION("negative") { delay = -1; }
    aio_test::run_virtual(zero_timeout_on_done_future(&events, delay));
    REQUIRE(events.log == Log{"got 5 @0"});
}

namespace {
aio::Coro<void> zero_timeout_on_coroutine(Events* events, double delay) {
    try {
        co_await aio::wait_for(inner(events, 1, 1), delay);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("wait_for with a zero or negative timeout cancels a coroutine before it starts",
          "[wait_for][zero]") {
    // asyncio wraps the coroutine in a task and cancels it before its first step, so the
    // body never runs (not even its first line).
    Events events;
    aio_test::FrameLeakCheck frames;
    double delay = 0;
    SECTION("zero") { delay = 0; }
    SECTION("negative") { delay = -1; }
    aio_test::run_virtual(zero_timeout_on_coroutine(&events, delay));
    REQUIRE(events.log == Log{"TimeoutError @0 cancelling=0"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> zero_timeout_on_running_tasks(Events* events) {
    aio::Task<int> slow = aio::create_task(slow_to_cancel(events, 10, 3));
    aio::Task<int> stubborn = aio::create_task(return_when_cancelled(events, 10, 9));
    co_await aio::sleep(1);  // both tasks are started and sleeping
    try {
        co_await aio::wait_for(slow, 0.0);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
    int value = co_await aio::wait_for(stubborn, 0.0);
    events->record("got ", value, " @", now());
}
}  // namespace

TEST_CASE("wait_for with a zero timeout cancels a running task and waits until it is done",
          "[wait_for][zero]") {
    Events events;
    aio_test::run_virtual(zero_timeout_on_running_tasks(&events));
    REQUIRE(events.log == Log{"task cancelled @1", "task cleanup done @4", "TimeoutError @4",
                              "inner swallows the cancellation @4", "got 9 @4"});
}

// --- the caller is cancelled -------------------------------------------------------------------

namespace {
template <class Awaitable>
aio::Coro<void> caller(Events* events, Awaitable awaited) {
    try {
        co_await aio::wait_for(std::move(awaited), 10.0);
    } catch (const aio::TimeoutError&) {
        events->record("caller: TimeoutError");
    } catch (const aio::CancelledError&) {
        events->record("caller: CancelledError @", now());
        throw;
    }
}
aio::Coro<void> cancel_the_caller(Events* events, bool inner_is_task) {
    std::optional<aio::Task<int>> inner_task;
    std::optional<aio::Task<void>> waiting;
    if (inner_is_task) {
        inner_task = aio::create_task(inner(events, 5, 1));
        waiting = aio::create_task(caller(events, *inner_task));
    } else {
        waiting = aio::create_task(caller(events, inner(events, 5, 1)));
    }
    co_await aio::sleep(1);
    waiting->cancel();
    try {
        co_await *waiting;
    } catch (const aio::CancelledError&) {
        events->record("caller task cancelled @", now());
    }
    if (inner_task) events->record("inner task ", inner_task->cancelled() ? "cancelled" : "not cancelled");
}
}  // namespace

TEST_CASE("cancelling the caller of wait_for cancels the inner awaitable and raises CancelledError",
          "[wait_for][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    SECTION("a coroutine") {
        aio_test::run_virtual(cancel_the_caller(&events, false));
        REQUIRE(events.log == Log{"inner starts @0", "inner cancelled @1", "inner cleanup @1",
                                  "caller: CancelledError @1", "caller task cancelled @1"});
    }
    SECTION("a task") {
        aio_test::run_virtual(cancel_the_caller(&events, true));
        REQUIRE(events.log == Log{"inner starts @0", "inner cancelled @1", "inner cleanup @1",
                                  "caller: CancelledError @1", "caller task cancelled @1",
                                  "inner task cancelled"});
    }
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> zero_timeout_caller(Events* events, aio::Task<int> slow) {
    try {
        co_await aio::wait_for(slow, 0.0);
    } catch (const aio::CancelledError&) {
        events->record("caller: CancelledError @", now(), " task ", slow.done() ? "done" : "still cleaning up");
        throw;
    }
}
aio::Coro<void> cancel_during_zero_timeout(Events* events) {
    aio::Task<int> slow = aio::create_task(slow_to_cancel(events, 10, 3));
    co_await aio::sleep(1);
    aio::Task<void> waiting = aio::create_task(zero_timeout_caller(events, slow));
    co_await aio::sleep(1);
    waiting.cancel();
    try {
        co_await waiting;
    } catch (const aio::CancelledError&) {
    }
    try {
        co_await slow;
    } catch (const aio::CancelledError&) {
        events->record("task ends cancelled @", now());
    }
}
}  // namespace

TEST_CASE("cancelling the caller of a zero-timeout wait_for stops waiting for the inner task",
          "[wait_for][zero][cancel]") {
    // asyncio's _cancel_and_wait waits on a separate future so that its own caller stays
    // promptly cancellable; the inner task goes on cleaning up by itself.
    Events events;
    aio_test::run_virtual(cancel_during_zero_timeout(&events));
    REQUIRE(events.log == Log{"task cancelled @1", "caller: CancelledError @2 task still cleaning up",
                              "task cleanup done @4", "task ends cancelled @4"});
}

namespace {
aio::Coro<int> after(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}
aio::Coro<int> alternate_timeouts_and_successes(int rounds) {
    int completed = 0;
    for (int i = 0; i < rounds; ++i) {
        const double limit = i % 2 == 0 ? 0.5 : 2.0;
        try {
            completed += co_await aio::wait_for(after(1.0, 1), limit);
        } catch (const aio::TimeoutError&) {
        }
    }
    co_return completed;
}
}  // namespace

TEST_CASE("wait_for leaves no coroutine frame behind, whether it times out or not", "[wait_for][lifetime]") {
    aio_test::FrameLeakCheck frames;
    REQUIRE(aio_test::run_virtual(alternate_timeouts_and_successes(100)) == 50);
    REQUIRE(frames.leaked() == 0);
}
