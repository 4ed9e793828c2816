// The event loop's rules (asyncio.BaseEventLoop), checked on both of aio's loops: the
// epoll loop on the real clock and the virtual-time loop. Rules that hold for any loop are
// TEMPLATE_TEST_CASEs; the few that need real time or real blocking name their loop.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace std::chrono_literals;
using aio_test::Events;

namespace {

/// Runs `loop` until a stop() scheduled after everything already queued.
void run_queued(aio::EventLoop& loop) {
    loop.call_soon([&loop] { loop.stop(); });
    loop.run_forever();
}

aio::Coro<int> answer() { co_return 42; }

aio::Coro<int> fail_with_logic_error() {
    throw std::logic_error("wrong");
    co_return 0;
}

}  // namespace

#define BOTH_LOOPS aio::SelectorEventLoop, aio::VirtualTimeLoop

// --- ready queue --------------------------------------------------------------------------

TEMPLATE_TEST_CASE("ready callbacks run in the order they were scheduled", "[loop][ready]",
                   BOTH_LOOPS) {
    TestType loop;
    Events events;
    for (int i = 0; i < 5; ++i) loop.call_soon([&events, i] { events.record("callback ", i); });
    run_queued(loop);
    REQUIRE(events.log ==
            std::vector<std::string>{"callback 0", "callback 1", "callback 2", "callback 3", "callback 4"});
}

TEMPLATE_TEST_CASE("a callback scheduled during an iteration runs in the next one",
                   "[loop][ready]", BOTH_LOOPS) {
    TestType loop;
    Events events;
    loop.call_soon([&] {
        events.record("first");
        loop.call_soon([&events] { events.record("scheduled by first"); });
    });
    loop.call_soon([&events] { events.record("second"); });

    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"first", "second"});
    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"first", "second", "scheduled by first"});
}

TEMPLATE_TEST_CASE("a callback that reschedules itself does not starve the others",
                   "[loop][ready]", BOTH_LOOPS) {
    TestType loop;
    int spins = 0;
    bool other_ran = false;
    struct Spinner {
        TestType* loop;
        int* spins;
        void operator()() const {
            if (++*spins < 1000) loop->call_soon(*this);
        }
    };
    loop.call_soon(Spinner{&loop, &spins});
    loop.call_soon([&] { other_ran = true; });
    loop.run_once();
    REQUIRE(other_ran);
    REQUIRE(spins == 1);
}

// --- timers -------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("timers fire in deadline order, ties in scheduling order", "[loop][timer]",
                   BOTH_LOOPS) {
    TestType loop;
    Events events;
    const aio::TimePoint base = loop.time();
    loop.call_at(base + 3ms, [&events] { events.record("3ms first"); });
    loop.call_at(base + 1ms, [&events] { events.record("1ms first"); });
    loop.call_at(base + 2ms, [&events] { events.record("2ms"); });
    loop.call_at(base + 1ms, [&events] { events.record("1ms second"); });
    loop.call_at(base + 3ms, [&] {
        events.record("3ms second");
        loop.stop();
    });
    loop.run_forever();
    REQUIRE(events.log ==
            std::vector<std::string>{"1ms first", "1ms second", "2ms", "3ms first", "3ms second"});
}

TEMPLATE_TEST_CASE("call_later fires no earlier than its handle's deadline", "[loop][timer]",
                   BOTH_LOOPS) {
    TestType loop;
    const aio::TimePoint before = loop.time();
    aio::TimePoint fired{};
    aio::TimerHandle timer = loop.call_later(0.002, [&] {
        fired = loop.time();
        loop.stop();
    });
    REQUIRE(timer.when() >= before + 2ms);
    loop.run_forever();
    REQUIRE(fired >= timer.when());
}

TEMPLATE_TEST_CASE("call_later accepts a chrono duration and float seconds alike",
                   "[loop][timer]", BOTH_LOOPS) {
    TestType loop;
    Events events;
    loop.call_later(aio::Duration(2ms), [&events] { events.record("duration"); });
    loop.call_later(0.001, [&events] { events.record("seconds"); });
    loop.call_later(0.003, [&loop] { loop.stop(); });
    loop.run_forever();
    REQUIRE(events.log == std::vector<std::string>{"seconds", "duration"});
}

TEMPLATE_TEST_CASE("timers with a negative delay or a past deadline run at the next iteration",
                   "[loop][timer]", BOTH_LOOPS) {
    TestType loop;
    Events events;
    loop.call_later(-5.0, [&events] { events.record("negative delay"); });
    loop.call_at(loop.time() - 1s, [&events] { events.record("past deadline"); });
    loop.run_once();
    // Both are due, so they run by deadline: the past one first.
    REQUIRE(events.log == std::vector<std::string>{"past deadline", "negative delay"});
}

TEMPLATE_TEST_CASE("a due timer runs after the callbacks that were already ready",
                   "[loop][timer][ready]", BOTH_LOOPS) {
    TestType loop;
    Events events;
    loop.call_later(0.0, [&events] { events.record("timer"); });
    loop.call_soon([&events] { events.record("ready"); });
    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"ready", "timer"});
}

// --- handles ------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("a handle cancelled before its iteration never runs", "[loop][handle][cancel]",
                   BOTH_LOOPS) {
    TestType loop;
    Events events;
    aio::Handle handle = loop.call_soon([&events] { events.record("cancelled one"); });
    loop.call_soon([&events] { events.record("other"); });
    REQUIRE_FALSE(handle.cancelled());
    handle.cancel();
    REQUIRE(handle.cancelled());
    run_queued(loop);
    REQUIRE(events.log == std::vector<std::string>{"other"});
}

TEMPLATE_TEST_CASE("a handle cancelled by an earlier callback of the same iteration never runs",
                   "[loop][handle][cancel]", BOTH_LOOPS) {
    TestType loop;
    Events events;
    aio::Handle second;
    loop.call_soon([&] {
        events.record("first");
        second.cancel();
    });
    second = loop.call_soon([&events] { events.record("second"); });
    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"first"});
}

TEMPLATE_TEST_CASE("a cancelled timer never runs", "[loop][timer][cancel]", BOTH_LOOPS) {
    TestType loop;
    Events events;
    aio::TimerHandle early = loop.call_later(0.001, [&events] { events.record("early"); });
    aio::TimerHandle cancelled_by_callback =
        loop.call_later(0.003, [&events] { events.record("late"); });
    loop.call_later(0.002, [&] {
        events.record("middle");
        cancelled_by_callback.cancel();
    });
    loop.call_later(0.004, [&loop] { loop.stop(); });
    early.cancel();
    loop.run_forever();
    REQUIRE(events.log == std::vector<std::string>{"middle"});
    REQUIRE(early.cancelled());
}

TEMPLATE_TEST_CASE("cancelling a handle after it ran, or twice, does nothing",
                   "[loop][handle][cancel]", BOTH_LOOPS) {
    TestType loop;
    int runs = 0;
    aio::Handle handle = loop.call_soon([&runs] { ++runs; });
    run_queued(loop);
    handle.cancel();
    handle.cancel();
    run_queued(loop);
    REQUIRE(runs == 1);
}

TEMPLATE_TEST_CASE("cancelling a timer drops its callback and what it captured at once",
                   "[loop][timer][cancel]", BOTH_LOOPS) {
    TestType loop;
    auto captured = std::make_shared<int>(7);
    aio::TimerHandle timer = loop.call_later(100.0, [captured] { (void)captured; });
    REQUIRE(captured.use_count() == 2);
    timer.cancel();
    REQUIRE(captured.use_count() == 1);
}

// --- lazy clean-up of cancelled timers ---------------------------------------------------

namespace {
/// Schedules `count` timers far in the future, each later than the previous one.
template <class Loop>
std::vector<aio::TimerHandle> schedule_far_timers(Loop& loop, int count) {
    std::vector<aio::TimerHandle> timers;
    for (int i = 0; i < count; ++i) timers.push_back(loop.call_later(1000.0 + i, [] {}));
    return timers;
}
/// One iteration that does not wait for the far timers.
template <class Loop>
void run_one_iteration(Loop& loop) {
    loop.call_soon([] {});
    loop.run_once();
}
}  // namespace

TEMPLATE_TEST_CASE("cancelled timers stay in the heap while they are at most half of it",
                   "[loop][timer][cleanup]", BOTH_LOOPS) {
    TestType loop;
    auto timers = schedule_far_timers(loop, 200);
    for (int i = 100; i < 200; ++i) timers[i].cancel();  // exactly half, none at the head
    REQUIRE(loop.cancelled_timer_count() == 100);
    run_one_iteration(loop);
    REQUIRE(loop.timer_count() == 200);
    REQUIRE(loop.cancelled_timer_count() == 100);
}

TEMPLATE_TEST_CASE("the heap is rebuilt once cancelled timers are over half of more than 100",
                   "[loop][timer][cleanup]", BOTH_LOOPS) {
    TestType loop;
    auto timers = schedule_far_timers(loop, 200);
    for (int i = 99; i < 200; ++i) timers[i].cancel();  // 101 of 200
    run_one_iteration(loop);
    REQUIRE(loop.timer_count() == 99);
    REQUIRE(loop.cancelled_timer_count() == 0);
}

TEMPLATE_TEST_CASE("a heap of 100 timers or fewer is never rebuilt", "[loop][timer][cleanup]",
                   BOTH_LOOPS) {
    TestType loop;
    auto timers = schedule_far_timers(loop, 100);
    for (int i = 1; i < 100; ++i) timers[i].cancel();  // 99%, but the head is live
    run_one_iteration(loop);
    REQUIRE(loop.timer_count() == 100);
    REQUIRE(loop.cancelled_timer_count() == 99);
}

TEMPLATE_TEST_CASE("cancelled timers at the head of the heap are dropped at the next iteration",
                   "[loop][timer][cleanup]", BOTH_LOOPS) {
    TestType loop;
    auto timers = schedule_far_timers(loop, 5);
    timers[0].cancel();
    timers[1].cancel();
    timers[3].cancel();
    run_one_iteration(loop);
    REQUIRE(loop.timer_count() == 3);
    REQUIRE(loop.cancelled_timer_count() == 1);
}

TEMPLATE_TEST_CASE("a timer cancelled after it became due is not counted as cancelled in the heap",
                   "[loop][timer][cleanup]", BOTH_LOOPS) {
    TestType loop;
    Events events;
    aio::TimerHandle later;
    loop.call_later(0.0, [&] {
        events.record("first");
        later.cancel();  // already moved to the ready queue with this one
    });
    later = loop.call_later(0.0, [&events] { events.record("second"); });
    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"first"});
    REQUIRE(loop.timer_count() == 0);
    REQUIRE(loop.cancelled_timer_count() == 0);
}

// --- errors -------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("a throwing callback goes to the exception handler and the loop keeps running",
                   "[loop][errors]", BOTH_LOOPS) {
    TestType loop;
    Events events;
    loop.set_exception_handler([&events](aio::EventLoop&, const aio::ExceptionContext& context) {
        events.record("handler: ", aio::describe_exception(context.exception));
    });
    loop.call_soon([] { throw std::runtime_error("boom"); });
    loop.call_soon([&events] { events.record("next callback"); });
    run_queued(loop);
    REQUIRE(events.log ==
            std::vector<std::string>{"handler: std::runtime_error: boom", "next callback"});
}

TEMPLATE_TEST_CASE("a custom exception handler receives the loop and the whole context",
                   "[loop][errors]", BOTH_LOOPS) {
    TestType loop;
    aio::EventLoop* seen_loop = nullptr;
    aio::ExceptionContext seen;
    loop.set_exception_handler([&](aio::EventLoop& where, const aio::ExceptionContext& context) {
        seen_loop = &where;
        seen = context;
    });
    loop.call_soon([] { throw std::invalid_argument("bad argument"); });
    run_queued(loop);
    REQUIRE(seen_loop == &loop);
    REQUIRE_THAT(seen.message, Catch::Contains("Exception in callback"));
    REQUIRE(seen.source == "<Handle>");
    REQUIRE_THROWS_AS(std::rethrow_exception(seen.exception), std::invalid_argument);
}

TEMPLATE_TEST_CASE("the default exception handler writes the error to stderr", "[loop][errors]",
                   BOTH_LOOPS) {
    TestType loop;
    aio_test::StderrCapture err;
    loop.call_soon([] { throw std::runtime_error("boom from a callback"); });
    run_queued(loop);
    const std::string text = err.text();
    REQUIRE_THAT(text, Catch::Contains("Exception in callback"));
    REQUIRE_THAT(text, Catch::Contains("boom from a callback"));
}

TEMPLATE_TEST_CASE("an exception handler that throws is reported and the loop keeps running",
                   "[loop][errors]", BOTH_LOOPS) {
    TestType loop;
    bool next_ran = false;
    loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) {
        throw std::runtime_error("the handler failed");
    });
    aio_test::StderrCapture err;
    loop.call_soon([] { throw std::runtime_error("original error"); });
    loop.call_soon([&next_ran] { next_ran = true; });
    run_queued(loop);
    const std::string text = err.text();
    REQUIRE(next_ran);
    REQUIRE_THAT(text, Catch::Contains("the handler failed"));
    REQUIRE_THAT(text, Catch::Contains("original error"));
}

TEMPLATE_TEST_CASE("an empty exception handler restores the default one", "[loop][errors]",
                   BOTH_LOOPS) {
    TestType loop;
    int custom_calls = 0;
    loop.set_exception_handler([&custom_calls](aio::EventLoop&, const aio::ExceptionContext&) {
        ++custom_calls;
    });
    loop.set_exception_handler({});
    aio_test::StderrCapture err;
    loop.call_soon([] { throw std::runtime_error("to the default handler"); });
    run_queued(loop);
    REQUIRE(custom_calls == 0);
    REQUIRE_THAT(err.text(), Catch::Contains("to the default handler"));
}

// --- call_soon_threadsafe -----------------------------------------------------------------

TEST_CASE("call_soon_threadsafe from another thread wakes a loop blocked in epoll",
          "[loop][threadsafe]") {
    aio::SelectorEventLoop loop;
    Events events;
    // A safety net, so a broken wake-up fails the test instead of hanging it.
    aio::TimerHandle safety = loop.call_later(10.0, [&] {
        events.record("woken by the safety timer");
        loop.stop();
    });
    std::thread other([&loop, &events] {
        std::this_thread::sleep_for(20ms);  // long enough for the loop to block in epoll_wait
        loop.call_soon_threadsafe([&loop, &events] {
            events.record("woken by the other thread");
            loop.stop();
        });
    });
    loop.run_forever();
    other.join();
    safety.cancel();
    REQUIRE(events.log == std::vector<std::string>{"woken by the other thread"});
}

TEST_CASE("callbacks sent by several threads at once all run on the loop thread",
          "[loop][threadsafe]") {
    aio::SelectorEventLoop loop;
    constexpr int threads = 4;
    constexpr int per_thread = 2000;
    int ran = 0;  // touched by the loop thread only
    bool all_on_loop_thread = true;
    const std::thread::id loop_thread = std::this_thread::get_id();
    aio::TimerHandle safety = loop.call_later(30.0, [&loop] { loop.stop(); });
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
        senders.emplace_back([&] {
            for (int i = 0; i < per_thread; ++i) {
                loop.call_soon_threadsafe([&] {
                    all_on_loop_thread &= std::this_thread::get_id() == loop_thread;
                    if (++ran == threads * per_thread) loop.stop();
                });
            }
        });
    }
    loop.run_forever();
    for (std::thread& sender : senders) sender.join();
    safety.cancel();
    REQUIRE(ran == threads * per_thread);
    REQUIRE(all_on_loop_thread);
}

TEST_CASE("call_soon_threadsafe racing with close() either schedules or raises RuntimeError",
          "[loop][threadsafe][close]") {
    for (int round = 0; round < 20; ++round) {
        aio::SelectorEventLoop loop;
        std::atomic<bool> sent_one{false};
        std::atomic<bool> raised{false};
        std::thread sender([&] {
            try {
                while (true) {
                    loop.call_soon_threadsafe([] {});
                    sent_one.store(true);
                }
            } catch (const aio::RuntimeError&) {
                raised.store(true);
            }
        });
        while (!sent_one.load()) std::this_thread::yield();
        loop.close();
        sender.join();
        REQUIRE(raised.load());
    }
}

// --- running, stopping, closing ------------------------------------------------------------

TEMPLATE_TEST_CASE("stop() inside a callback lets the current iteration finish", "[loop][stop]",
                   BOTH_LOOPS) {
    TestType loop;
    Events events;
    loop.call_soon([&] {
        events.record("stopper");
        loop.stop();
        loop.call_soon([&events] { events.record("next iteration"); });
    });
    loop.call_soon([&events] { events.record("same iteration"); });
    loop.run_forever();
    REQUIRE(events.log == std::vector<std::string>{"stopper", "same iteration"});
}

TEMPLATE_TEST_CASE("run_forever can run again after stop and continues where it left off",
                   "[loop][stop]", BOTH_LOOPS) {
    TestType loop;
    Events events;
    loop.call_soon([&] {
        events.record("first run");
        loop.stop();
        loop.call_soon([&] {
            events.record("second run");
            loop.stop();
        });
    });
    loop.run_forever();
    REQUIRE(events.log == std::vector<std::string>{"first run"});
    loop.run_forever();
    REQUIRE(events.log == std::vector<std::string>{"first run", "second run"});
}

TEMPLATE_TEST_CASE("stop() before run_forever makes it run one iteration", "[loop][stop]",
                   BOTH_LOOPS) {
    TestType loop;
    Events events;
    loop.call_soon([&] {
        events.record("iteration 1");
        loop.call_soon([&events] { events.record("iteration 2"); });
    });
    loop.stop();
    loop.run_forever();
    REQUIRE(events.log == std::vector<std::string>{"iteration 1"});
}

TEMPLATE_TEST_CASE("is_running is true only while run_forever runs", "[loop][state]", BOTH_LOOPS) {
    TestType loop;
    bool running_inside = false;
    REQUIRE_FALSE(loop.is_running());
    loop.call_soon([&] { running_inside = loop.is_running(); });
    run_queued(loop);
    REQUIRE(running_inside);
    REQUIRE_FALSE(loop.is_running());
}

TEMPLATE_TEST_CASE("run_forever inside a callback of the same loop raises RuntimeError",
                   "[loop][state]", BOTH_LOOPS) {
    TestType loop;
    bool raised = false;
    loop.call_soon([&] {
        try {
            loop.run_forever();
        } catch (const aio::RuntimeError&) {
            raised = true;
        }
    });
    run_queued(loop);
    REQUIRE(raised);
}

TEMPLATE_TEST_CASE("running a second loop while one runs on this thread raises RuntimeError",
                   "[loop][state]", BOTH_LOOPS) {
    TestType loop;
    TestType other;
    bool raised = false;
    loop.call_soon([&] {
        try {
            other.run_forever();
        } catch (const aio::RuntimeError&) {
            raised = true;
        }
    });
    run_queued(loop);
    REQUIRE(raised);
    REQUIRE_FALSE(other.is_running());
}

TEMPLATE_TEST_CASE("close() on a running loop raises RuntimeError", "[loop][close]", BOTH_LOOPS) {
    TestType loop;
    bool raised = false;
    loop.call_soon([&] {
        try {
            loop.close();
        } catch (const aio::RuntimeError&) {
            raised = true;
        }
    });
    run_queued(loop);
    REQUIRE(raised);
    REQUIRE_FALSE(loop.is_closed());
}

TEMPLATE_TEST_CASE("is_closed is true after close, and closing twice does nothing",
                   "[loop][close]", BOTH_LOOPS) {
    TestType loop;
    REQUIRE_FALSE(loop.is_closed());
    loop.close();
    REQUIRE(loop.is_closed());
    REQUIRE_NOTHROW(loop.close());
    REQUIRE(loop.is_closed());
}

TEMPLATE_TEST_CASE("close() drops pending callbacks and timers without running them",
                   "[loop][close]", BOTH_LOOPS) {
    TestType loop;
    auto captured = std::make_shared<int>(0);
    loop.call_soon([captured] { ++*captured; });
    loop.call_later(1.0, [captured] { ++*captured; });
    REQUIRE(captured.use_count() == 3);
    loop.close();
    REQUIRE(*captured == 0);
    REQUIRE(captured.use_count() == 1);
}

TEMPLATE_TEST_CASE("every scheduling method of a closed loop raises RuntimeError",
                   "[loop][close]", BOTH_LOOPS) {
    TestType loop;
    loop.close();
    SECTION("call_soon") { REQUIRE_THROWS_AS(loop.call_soon([] {}), aio::RuntimeError); }
    SECTION("call_later") { REQUIRE_THROWS_AS(loop.call_later(1.0, [] {}), aio::RuntimeError); }
    SECTION("call_at") { REQUIRE_THROWS_AS(loop.call_at(loop.time(), [] {}), aio::RuntimeError); }
    SECTION("call_soon_threadsafe") {
        REQUIRE_THROWS_AS(loop.call_soon_threadsafe([] {}), aio::RuntimeError);
    }
    SECTION("run_forever") { REQUIRE_THROWS_AS(loop.run_forever(), aio::RuntimeError); }
    SECTION("run_until_complete, without leaking the coroutine") {
        aio_test::FrameLeakCheck frames;
        REQUIRE_THROWS_AS(loop.run_until_complete(answer()), aio::RuntimeError);
        REQUIRE(frames.leaked() == 0);
    }
}

TEST_CASE("the selector loop's time() never goes backwards", "[loop][time]") {
    aio::SelectorEventLoop loop;
    aio::TimePoint previous = loop.time();
    for (int i = 0; i < 10000; ++i) {
        const aio::TimePoint now = loop.time();
        REQUIRE(now >= previous);
        previous = now;
    }
    std::this_thread::sleep_for(2ms);
    REQUIRE(loop.time() - previous >= 2ms);
}

// --- run_until_complete --------------------------------------------------------------------

TEMPLATE_TEST_CASE("run_until_complete returns the value of a Coro, a Future or a Task",
                   "[loop][run_until_complete]", BOTH_LOOPS) {
    TestType loop;
    SECTION("a Coro") { REQUIRE(loop.run_until_complete(answer()) == 42); }
    SECTION("a Future") {
        aio::Future<int> future(loop);
        loop.call_later(0.001, [future] { future.set_result(7); });
        REQUIRE(loop.run_until_complete(future) == 7);
    }
    SECTION("a Task") {
        aio::Task<int> task = aio::create_task(loop, answer());
        REQUIRE(loop.run_until_complete(task) == 42);
    }
}

TEMPLATE_TEST_CASE("run_until_complete leaves the result in a future it did not create",
                   "[loop][run_until_complete]", BOTH_LOOPS) {
    TestType loop;
    aio::Future<std::string> future(loop);
    loop.call_soon([future] { future.set_result("still here"); });
    REQUIRE(loop.run_until_complete(future) == "still here");
    REQUIRE(future.result() == "still here");
}

TEMPLATE_TEST_CASE("run_until_complete rethrows the coroutine's exception",
                   "[loop][run_until_complete]", BOTH_LOOPS) {
    TestType loop;
    REQUIRE_THROWS_AS(loop.run_until_complete(fail_with_logic_error()), std::logic_error);
}

TEMPLATE_TEST_CASE("run_until_complete raises RuntimeError if the loop stops first",
                   "[loop][run_until_complete]", BOTH_LOOPS) {
    TestType loop;
    aio::Future<int> never(loop);
    loop.call_soon([&loop] { loop.stop(); });
    REQUIRE_THROWS_AS(loop.run_until_complete(never), aio::RuntimeError);
    REQUIRE_FALSE(loop.is_running());
    // The loop still works, and the stopper left behind does not stop the next run.
    loop.call_soon([never] { never.set_result(1); });
    REQUIRE(loop.run_until_complete(never) == 1);
}

TEMPLATE_TEST_CASE("run_until_complete on a running loop raises and never runs the coroutine",
                   "[loop][run_until_complete]", BOTH_LOOPS) {
    static bool body_ran = false;
    body_ran = false;
    auto body = []() -> aio::Coro<int> {
        body_ran = true;
        co_return 1;
    };
    TestType loop;
    TestType other;
    bool same_loop_raised = false;
    bool other_loop_raised = false;
    loop.call_soon([&] {
        try {
            loop.run_until_complete(body());
        } catch (const aio::RuntimeError&) {
            same_loop_raised = true;
        }
        try {
            other.run_until_complete(body());
        } catch (const aio::RuntimeError&) {
            other_loop_raised = true;
        }
    });
    run_queued(loop);
    run_queued(loop);  // a task created anyway would have run by now
    REQUIRE(same_loop_raised);
    REQUIRE(other_loop_raised);
    REQUIRE_FALSE(body_ran);
    REQUIRE(aio::all_tasks(loop).empty());
    REQUIRE(aio::all_tasks(other).empty());
}

TEMPLATE_TEST_CASE("run_until_complete of a future of another loop raises ValueError",
                   "[loop][run_until_complete]", BOTH_LOOPS) {
    TestType loop;
    TestType other;
    aio::Future<int> foreign(other);
    loop.call_soon([foreign] { foreign.set_result(1); });  // would complete it, on the wrong loop
    REQUIRE_THROWS_AS(loop.run_until_complete(foreign), aio::ValueError);
}

TEST_CASE("get_running_loop outside a running loop raises RuntimeError", "[loop][running]") {
    REQUIRE_THROWS_AS(aio::get_running_loop(), aio::RuntimeError);
    REQUIRE(aio::try_get_running_loop() == nullptr);
}

TEMPLATE_TEST_CASE("get_running_loop inside a callback returns the loop that runs it",
                   "[loop][running]", BOTH_LOOPS) {
    TestType loop;
    aio::EventLoop* seen = nullptr;
    loop.call_soon([&seen] { seen = &aio::get_running_loop(); });
    run_queued(loop);
    REQUIRE(seen == &loop);
    REQUIRE(aio::try_get_running_loop() == nullptr);
}

TEST_CASE("get_event_loop returns the loop set with set_event_loop when none runs",
          "[loop][running]") {
    aio::VirtualTimeLoop loop;
    aio::set_event_loop(&loop);
    REQUIRE(&aio::get_event_loop() == &loop);
    aio::set_event_loop(nullptr);
    REQUIRE_THROWS_AS(aio::get_event_loop(), aio::RuntimeError);
}
