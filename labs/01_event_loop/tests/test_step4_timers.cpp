// Step 4: timers. call_at()/call_later() put a timer in the heap; each iteration moves the
// timers that are due to the ready queue, in deadline order, ties in scheduling order.
// Most tests here use ManualClockLoop (fake_clock.hpp): the test sets the clock by hand.
#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"
#include "fake_clock.hpp"

using namespace std::chrono_literals;
using lab_test::ManualClockLoop;

TEST_CASE("timers run in deadline order, not in scheduling order", "[01][step4][timers]") {
    ManualClockLoop loop;
    std::vector<int> order;
    loop.call_later(3s, [&order] { order.push_back(3); });
    loop.call_later(1s, [&order] { order.push_back(1); });
    loop.call_later(2s, [&order] { order.push_back(2); });
    loop.now += 10s;
    loop.run_once();
    REQUIRE(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("timers with the same deadline run in the order they were scheduled", "[01][step4][timers]") {
    ManualClockLoop loop;
    std::vector<int> order;
    for (int i = 0; i < 20; ++i) loop.call_later(1s, [&order, i] { order.push_back(i); });
    loop.now += 1s;
    loop.run_once();
    std::vector<int> expected;
    for (int i = 0; i < 20; ++i) expected.push_back(i);
    REQUIRE(order == expected);
}

TEST_CASE("a timer does not run before its deadline, and runs once it is due", "[01][step4][timers]") {
    ManualClockLoop loop;
    int runs = 0;
    aio::TimerHandle timer = loop.call_later(2s, [&runs] { ++runs; });
    REQUIRE(timer.when() == aio::TimePoint(2s));
    loop.now += 1999ms;
    loop.run_once();
    REQUIRE(runs == 0);
    loop.now += 1ms;  // exactly at the deadline: due
    loop.run_once();
    REQUIRE(runs == 1);
    REQUIRE(loop.timer_count() == 0);
}

TEST_CASE("a due timer runs after the callbacks that were already ready", "[01][step4][timers]") {
    ManualClockLoop loop;
    std::vector<std::string> order;
    loop.call_later(0s, [&order] { order.push_back("timer due now"); });
    loop.call_soon([&order] { order.push_back("ready callback"); });
    loop.run_once();
    REQUIRE(order == std::vector<std::string>{"ready callback", "timer due now"});
}

TEST_CASE("a cancelled timer never runs", "[01][step4][timers]") {
    ManualClockLoop loop;
    std::vector<int> order;
    loop.call_later(1s, [&order] { order.push_back(1); });
    aio::TimerHandle cancelled = loop.call_later(2s, [&order] { order.push_back(2); });
    loop.call_later(3s, [&order] { order.push_back(3); });
    cancelled.cancel();
    REQUIRE(loop.cancelled_timer_count() == 1);
    loop.now += 5s;
    loop.run_once();
    REQUIRE(order == std::vector<int>{1, 3});
    REQUIRE(loop.timer_count() == 0);
    REQUIRE(loop.cancelled_timer_count() == 0);
}

TEST_CASE("cancelled timers at the front of the heap are dropped at the next iteration",
          "[01][step4][timers][cleanup]") {
    ManualClockLoop loop;
    aio::TimerHandle first = loop.call_later(1s, [] {});
    aio::TimerHandle second = loop.call_later(2s, [] {});
    loop.call_later(3s, [] {});
    first.cancel();
    second.cancel();
    REQUIRE(loop.timer_count() == 3);  // lazily: cancel() only counts
    loop.run_once();                   // nothing is due: only the clean-up happens
    REQUIRE(loop.timer_count() == 1);
    REQUIRE(loop.cancelled_timer_count() == 0);
}

TEST_CASE("when most of many timers are cancelled, the heap is rebuilt without them",
          "[01][step4][timers][cleanup]") {
    ManualClockLoop loop;
    std::vector<aio::TimerHandle> timers;
    for (int i = 0; i < 200; ++i) timers.push_back(loop.call_later(std::chrono::seconds(1 + i), [] {}));
    for (int i = 50; i < 200; ++i) timers[static_cast<std::size_t>(i)].cancel();  // not the front
    loop.run_once();
    REQUIRE(loop.timer_count() == 50);
    REQUIRE(loop.cancelled_timer_count() == 0);
}

TEST_CASE("a few cancelled timers behind the front stay in the heap", "[01][step4][timers][cleanup]") {
    ManualClockLoop loop;
    std::vector<aio::TimerHandle> timers;
    for (int i = 0; i < 200; ++i) timers.push_back(loop.call_later(std::chrono::seconds(1 + i), [] {}));
    for (int i = 100; i < 110; ++i) timers[static_cast<std::size_t>(i)].cancel();
    loop.run_once();
    REQUIRE(loop.timer_count() == 200);  // asyncio's rule: rebuilding would cost more
    REQUIRE(loop.cancelled_timer_count() == 10);
}

TEST_CASE("on the real clock, short timers run in deadline order", "[01][step4][timers][real-clock]") {
    lab::EventLoop loop;
    std::vector<int> order;
    loop.call_later(0.020, [&] {
        order.push_back(20);
        loop.stop();
    });
    loop.call_later(0.010, [&order] { order.push_back(10); });
    loop.call_later(0.005, [&order] { order.push_back(5); });
    loop.run_forever();
    REQUIRE(order == std::vector<int>{5, 10, 20});
}

TEST_CASE("time() is monotonic and reads steady_clock", "[01][step4][timers][real-clock]") {
    lab::EventLoop loop;
    auto steady_now = [] {
        return std::chrono::steady_clock::now().time_since_epoch();
    };
    const auto before = steady_now();
    const aio::TimePoint first = loop.time();
    const aio::TimePoint second = loop.time();
    const auto after = steady_now();
    REQUIRE(first <= second);
    REQUIRE(first.time_since_epoch() >= before);
    REQUIRE(second.time_since_epoch() <= after);
}
