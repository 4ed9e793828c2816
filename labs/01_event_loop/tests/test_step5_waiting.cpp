// Step 5: the loop spins at 100% CPU while it waits for a timer. Each iteration must call
// wait_for_events() once, with the right timeout: zero when callbacks are ready (or the
// loop is stopping), the time left until the next timer, or no limit when nothing is
// scheduled. ManualClockLoop and VirtualClockLoop (fake_clock.hpp) record those timeouts.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <tuple>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"
#include "fake_clock.hpp"

using namespace std::chrono_literals;
using lab_test::CountingLoop;
using lab_test::ManualClockLoop;
using lab_test::VirtualClockLoop;

namespace {

aio::Coro<void> sleep_then_log(std::vector<std::string>* log, std::string name, double delay) {
    co_await aio::sleep(delay);
    log->push_back(name);
}

aio::Coro<void> three_sleepers(std::vector<std::string>* log, double a, double b, double c) {
    aio::Task<void> first = aio::create_task(sleep_then_log(log, "a", a));
    aio::Task<void> second = aio::create_task(sleep_then_log(log, "b", b));
    aio::Task<void> third = aio::create_task(sleep_then_log(log, "c", c));
    co_await first;
    co_await second;
    co_await third;
}

aio::Coro<int> sleep_then_return(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}

aio::Coro<std::tuple<int, int, int>> gather_three_sleepers() {
    auto gathering = aio::gather(sleep_then_return(3.0, 1), sleep_then_return(1.0, 2), sleep_then_return(2.0, 3));
    std::tuple<int, int, int> results = co_await std::move(gathering);
    co_return results;
}

}  // namespace

TEST_CASE("with callbacks ready, the loop does not wait", "[01][step5][wait]") {
    ManualClockLoop loop;
    loop.call_later(5s, [] {});
    loop.call_soon([] {});
    loop.run_once();
    REQUIRE(loop.waits == std::vector<aio::Duration>{0s});
}

TEST_CASE("with only a timer pending, the loop waits exactly until it is due", "[01][step5][wait]") {
    ManualClockLoop loop;
    loop.call_later(5s, [] {});
    loop.now += 2s;
    loop.run_once();
    REQUIRE(loop.waits == std::vector<aio::Duration>{3s});
}

TEST_CASE("with nothing scheduled, the loop waits without a time limit", "[01][step5][wait]") {
    ManualClockLoop loop;
    loop.run_once();
    REQUIRE(loop.waits == std::vector<aio::Duration>{aio::Duration::max()});
}

TEST_CASE("a timer already overdue makes the loop wait zero, never a negative time", "[01][step5][wait]") {
    ManualClockLoop loop;
    int runs = 0;
    loop.call_later(1s, [&runs] { ++runs; });
    loop.now += 5s;
    loop.run_once();
    REQUIRE(loop.waits == std::vector<aio::Duration>{0s});
    REQUIRE(runs == 1);
}

TEST_CASE("a cancelled timer at the front does not shorten the wait", "[01][step5][wait][cleanup]") {
    ManualClockLoop loop;
    aio::TimerHandle soon = loop.call_later(1s, [] {});
    loop.call_later(4s, [] {});
    soon.cancel();
    loop.run_once();
    REQUIRE(loop.waits == std::vector<aio::Duration>{4s});
}

TEST_CASE("a loop that was told to stop does not wait", "[01][step5][wait]") {
    ManualClockLoop loop;
    loop.call_later(10s, [] {});
    loop.stop();
    loop.run_forever();
    REQUIRE(loop.waits == std::vector<aio::Duration>{0s});
}

TEST_CASE("the lab loop runs aio sleeps in virtual time, in deadline order", "[01][step5][wait][aio]") {
    VirtualClockLoop loop;
    std::vector<std::string> log;
    loop.run_until_complete(three_sleepers(&log, 3600.0, 1.0, 60.0));
    REQUIRE(log == std::vector<std::string>{"b", "c", "a"});
    REQUIRE(loop.now == aio::TimePoint(3600s));
}

TEST_CASE("aio::gather on the lab loop runs its children concurrently", "[01][step5][wait][aio]") {
    VirtualClockLoop loop;
    auto results = loop.run_until_complete(gather_three_sleepers());
    REQUIRE(results == std::make_tuple(1, 2, 3));  // argument order, not finishing order
    REQUIRE(loop.now == aio::TimePoint(3s));       // 3 s in all, not 1 + 2 + 3
}

TEST_CASE("a real loop waiting for four timers wakes up about once per timer",
          "[01][step5][wait][real-clock]") {
    CountingLoop loop;
    std::vector<int> fired;
    for (int ms = 8; ms <= 32; ms += 8) {
        loop.call_later(std::chrono::milliseconds(ms), [&loop, &fired, ms] {
            fired.push_back(ms);
            if (ms == 32) loop.stop();
        });
    }
    loop.run_forever();
    REQUIRE(fired == std::vector<int>{8, 16, 24, 32});
    // One wait per timer, and a little slack. A spinning loop wakes thousands of times; one
    // that rounds its timeout down to whole milliseconds wakes early, then spins through
    // the last fraction of a millisecond before each timer.
    REQUIRE(loop.wait_calls >= 1);
    REQUIRE(loop.wait_calls <= 8);
}

TEST_CASE("a real loop runs aio sleeps in deadline order", "[01][step5][wait][aio][real-clock]") {
    lab::EventLoop loop;
    std::vector<std::string> log;
    loop.run_until_complete(three_sleepers(&log, 0.030, 0.010, 0.020));
    REQUIRE(log == std::vector<std::string>{"b", "c", "a"});
}
