// Every way a task can be cancelled (asyncio's Task.cancel): the request is one flag plus
// a counter, delivered as CancelledError at the task's current await point.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "test_support.hpp"

using aio_test::Events;

namespace {

/// Runs one iteration as the running loop (asyncio's idiom: stop, then run_forever).
void run_one_iteration(aio::EventLoop& loop) {
    loop.stop();
    loop.run_forever();
}

aio::Coro<int> sleep_then_return(double delay, int value, Events* events) {
    events->record("started");
    co_await aio::sleep(delay);
    events->record("woke");
    co_return value;
}

aio::Coro<int> await_future(aio::Future<int> future) { co_return co_await future; }

aio::Coro<int> await_task(aio::Task<int> inner) { co_return co_await inner; }

}  // namespace

TEST_CASE("a task cancelled before it starts never runs its body and ends cancelled",
          "[cancel][task]") {
    aio_test::FrameLeakCheck frames;
    Events events;
    {
        aio::VirtualTimeLoop loop;
        auto task = aio::create_task(loop, sleep_then_return(1.0, 1, &events));
        REQUIRE(task.cancel());
        REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
        REQUIRE(task.cancelled());
    }
    REQUIRE(events.log.empty());
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("cancelling a task that awaits a future cancels that future", "[cancel][future]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    auto task = aio::create_task(loop, await_future(future));
    run_one_iteration(loop);
    REQUIRE(task.cancel("stop waiting"));
    REQUIRE(future.cancelled());
    REQUIRE(future.cancel_message() == "stop waiting");
    REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    REQUIRE(task.cancelled());
}

TEST_CASE("cancelling a task that awaits another task cancels the inner task", "[cancel][task]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto inner = aio::create_task(loop, sleep_then_return(10.0, 1, &events));
    auto outer = aio::create_task(loop, await_task(inner));
    run_one_iteration(loop);
    REQUIRE(outer.cancel());
    REQUIRE(inner.cancelling() == 1);
    REQUIRE_THROWS_AS(loop.run_until_complete(outer), aio::CancelledError);
    REQUIRE(inner.cancelled());
    REQUIRE(outer.cancelled());
    REQUIRE(events.log == std::vector<std::string>{"started"});
    REQUIRE(loop.time() == aio::TimePoint{});  // nobody waited for the 10 s sleep
}

TEST_CASE("cancelling a task twice counts two requests and cancels it once", "[cancel][task]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto task = aio::create_task(loop, sleep_then_return(10.0, 1, &events));
    run_one_iteration(loop);
    REQUIRE(task.cancel());
    REQUIRE(task.cancel());
    REQUIRE(task.cancelling() == 2);
    REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    REQUIRE(task.cancelled());
}

TEST_CASE("a task that catches CancelledError and returns a value is not cancelled",
          "[cancel][task]") {
    auto body = []() -> aio::Coro<int> {
        try {
            co_await aio::sleep(10.0);
        } catch (const aio::CancelledError&) {
            co_return 7;
        }
        co_return 0;
    };
    aio::VirtualTimeLoop loop;
    auto task = aio::create_task(loop, body());
    run_one_iteration(loop);
    task.cancel();
    REQUIRE(loop.run_until_complete(task) == 7);
    REQUIRE_FALSE(task.cancelled());
    REQUIRE(task.cancelling() == 1);  // asyncio: only uncancel() lowers the count
}

TEST_CASE("a task that catches CancelledError and calls uncancel() keeps awaiting normally",
          "[cancel][uncancel]") {
    static int remaining_after_uncancel = -1;
    auto body = []() -> aio::Coro<int> {
        bool caught = false;
        try {
            co_await aio::sleep(10.0);
        } catch (const aio::CancelledError&) {
            caught = true;
        }
        if (!caught) co_return 0;
        remaining_after_uncancel = aio::current_task()->uncancel();
        co_await aio::sleep(5.0);  // not cancelled again
        co_return 1;
    };
    aio::VirtualTimeLoop loop;
    auto task = aio::create_task(loop, body());
    run_one_iteration(loop);
    task.cancel();
    REQUIRE(loop.run_until_complete(task) == 1);
    REQUIRE(remaining_after_uncancel == 0);
    REQUIRE(task.cancelling() == 0);
    REQUIRE(loop.time() == aio::TimePoint(std::chrono::seconds(5)));
}

TEST_CASE("uncancel() down to zero withdraws a cancellation not yet delivered",
          "[cancel][uncancel]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto task = aio::create_task(loop, sleep_then_return(0, 3, &events));
    run_one_iteration(loop);  // the task is ready to run again after its sleep(0)
    task.cancel();
    REQUIRE(task.uncancel() == 0);
    REQUIRE(loop.run_until_complete(task) == 3);
    REQUIRE(events.log == std::vector<std::string>{"started", "woke"});
}

TEST_CASE("the cancel message reaches CancelledError::message() in the task and in result()",
          "[cancel][message]") {
    static std::string seen_inside;
    auto body = []() -> aio::Coro<void> {
        try {
            co_await aio::sleep(10.0);
        } catch (const aio::CancelledError& error) {
            seen_inside = error.message();
            throw;
        }
    };
    SECTION("while awaiting") {
        aio::VirtualTimeLoop loop;
        auto task = aio::create_task(loop, body());
        run_one_iteration(loop);
        task.cancel("because");
        try {
            loop.run_until_complete(task);
            FAIL("the task was not cancelled");
        } catch (const aio::CancelledError& error) {
            REQUIRE(error.message() == "because");
        }
        REQUIRE(seen_inside == "because");
    }
    SECTION("before the first step") {
        aio::VirtualTimeLoop loop;
        auto task = aio::create_task(loop, body());
        task.cancel("early");
        REQUIRE_THROWS_WITH(loop.run_until_complete(task), "early");
        REQUIRE(task.cancel_message() == "early");
    }
}

TEST_CASE("a cancellation is sticky until delivered: a ready-to-run task gets it at its next step",
          "[cancel][sticky]") {
    static Events events;
    events.log.clear();
    auto body = []() -> aio::Coro<void> {
        events.record("step 1");
        try {
            co_await aio::sleep(0);
            events.record("step 2 ran normally");
        } catch (const aio::CancelledError&) {
            events.record("step 2 got CancelledError");
            throw;
        }
    };
    aio::VirtualTimeLoop loop;
    auto task = aio::create_task(loop, body());
    // Runs after the task's first step, in the same iteration: the task is in the ready
    // queue, waiting on nothing, so the request can only be remembered.
    loop.call_soon([task] { task.cancel(); });
    REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    REQUIRE(events.log == std::vector<std::string>{"step 1", "step 2 got CancelledError"});
}

TEST_CASE("a task that cancels itself gets CancelledError at its next await", "[cancel][sticky]") {
    static aio::Future<int>* awaited = nullptr;
    auto body = []() -> aio::Coro<int> {
        aio::current_task()->cancel("self");
        co_return co_await *awaited;  // must not wait: the future is cancelled at once
    };
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    awaited = &future;
    auto task = aio::create_task(loop, body());
    REQUIRE_THROWS_WITH(loop.run_until_complete(task), "self");
    REQUIRE(future.cancelled());
}

TEST_CASE("a cancel that arrives after the awaited future finished still raises at that await",
          "[cancel][sticky]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    auto task = aio::create_task(loop, await_future(future));
    run_one_iteration(loop);
    future.set_result(1);  // wakes the task at the next iteration
    REQUIRE(task.cancel());
    REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    REQUIRE(task.cancelled());
}

TEST_CASE("cancel after the coroutine's last await cancels the task anyway", "[cancel][task]") {
    static bool returned = false;
    auto body = []() -> aio::Coro<int> {
        co_await aio::sleep(0);
        aio::current_task()->cancel();
        returned = true;
        co_return 5;
    };
    aio::VirtualTimeLoop loop;
    auto task = aio::create_task(loop, body());
    REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    REQUIRE(returned);
    REQUIRE(task.cancelled());
}

TEST_CASE("cancel of a done task returns false and counts nothing", "[cancel][task]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto task = aio::create_task(loop, sleep_then_return(0, 1, &events));
    loop.run_until_complete(task);
    REQUIRE_FALSE(task.cancel());
    REQUIRE(task.cancelling() == 0);
    REQUIRE_FALSE(task.cancelled());
    REQUIRE(task.result() == 1);
}

TEST_CASE("cancelling a sleeping task wakes it at once and drops its timer", "[cancel][sleep]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto task = aio::create_task(loop, sleep_then_return(100.0, 1, &events));
    run_one_iteration(loop);
    REQUIRE(loop.timer_count() == 1);
    task.cancel();
    REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    REQUIRE(loop.time() == aio::TimePoint{});
    run_one_iteration(loop);  // lazy clean-up: the cancelled timer was at the head
    REQUIRE(loop.timer_count() == 0);
}

TEST_CASE("CancelledError unwinds nested coroutines, running their destructors innermost first",
          "[cancel][coro]") {
    static Events events;
    events.log.clear();
    struct Guard {
        const char* name;
        ~Guard() { events.record(name, " cleaned up"); }
    };
    auto inner = []() -> aio::Coro<void> {
        Guard guard{"inner"};
        co_await aio::sleep(10.0);
    };
    auto outer = [](aio::Coro<void> nested) -> aio::Coro<void> {
        Guard guard{"outer"};
        co_await std::move(nested);
    };
    aio::VirtualTimeLoop loop;
    auto task = aio::create_task(loop, outer(inner()));
    run_one_iteration(loop);
    task.cancel();
    REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    REQUIRE(events.log == std::vector<std::string>{"inner cleaned up", "outer cleaned up"});
}

TEST_CASE("a future cancelled under an awaiting task ends the task cancelled without a request",
          "[cancel][future]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    auto task = aio::create_task(loop, await_future(future));
    run_one_iteration(loop);
    future.cancel();
    REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    REQUIRE(task.cancelled());
    REQUIRE(task.cancelling() == 0);
}

TEST_CASE("cancelling the outer task returns the inner value when the inner task suppresses it",
          "[cancel][task]") {
    auto stubborn = []() -> aio::Coro<int> {
        try {
            co_await aio::sleep(10.0);
        } catch (const aio::CancelledError&) {
        }
        co_return 42;
    };
    aio::VirtualTimeLoop loop;
    auto inner = aio::create_task(loop, stubborn());
    auto outer = aio::create_task(loop, await_task(inner));
    run_one_iteration(loop);
    outer.cancel();
    REQUIRE(loop.run_until_complete(outer) == 42);  // asyncio: the outer task is not cancelled
    REQUIRE_FALSE(outer.cancelled());
}
