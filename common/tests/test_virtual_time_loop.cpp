// The virtual-time loop: the clock jumps to the next timer when nothing is ready, so tests
// of time take no real time, and a wait that nothing can ever end is a DeadlockError
// instead of a hang.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

using namespace std::chrono_literals;
using aio_test::Events;

namespace {

aio::Coro<double> sleep_an_hour() {
    co_await aio::sleep(3600);
    co_return aio::to_seconds(aio::get_running_loop().time());
}

aio::Coro<int> wait_forever(aio::Future<int> never) { co_return co_await never; }

aio::Coro<void> sleep_then_record(double delay, Events* events) {
    co_await aio::sleep(delay);
    events->record(aio::to_seconds(aio::get_running_loop().time()));
}

}  // namespace

TEST_CASE("virtual time starts at zero", "[virtual_time]") {
    aio::VirtualTimeLoop loop;
    REQUIRE(loop.time() == aio::TimePoint{});
}

TEST_CASE("sleep(3600) completes at once with the clock at exactly 3600 seconds",
          "[virtual_time][sleep]") {
    const auto real_start = std::chrono::steady_clock::now();
    REQUIRE(aio_test::run_virtual(sleep_an_hour()) == 3600.0);
    // Generous bound: it must not wait for real, not be fast on a busy machine.
    REQUIRE(std::chrono::steady_clock::now() - real_start < 10s);
}

TEST_CASE("virtual time does not move while callbacks are ready", "[virtual_time]") {
    aio::VirtualTimeLoop loop;
    std::vector<aio::TimePoint> seen;
    loop.call_later(5.0, [] {});
    loop.call_soon([&] {
        seen.push_back(loop.time());
        loop.call_soon([&] {
            seen.push_back(loop.time());
            loop.stop();
        });
    });
    loop.run_forever();
    REQUIRE(seen == std::vector<aio::TimePoint>{aio::TimePoint{}, aio::TimePoint{}});
}

TEST_CASE("the clock jumps exactly to each timer's deadline", "[virtual_time][timer]") {
    aio::VirtualTimeLoop loop;
    std::vector<double> fired_at;
    for (double delay : {2.5, 0.25, 1.0}) {
        loop.call_later(delay, [&fired_at, &loop] { fired_at.push_back(aio::to_seconds(loop.time())); });
    }
    loop.call_later(3.0, [&loop] { loop.stop(); });
    loop.run_forever();
    REQUIRE(fired_at == std::vector<double>{0.25, 1.0, 2.5});
    REQUIRE(loop.time() == aio::TimePoint(3s));
}

TEST_CASE("many timers fire at their deadlines in deadline order, ties in scheduling order",
          "[virtual_time][timer]") {
    aio::VirtualTimeLoop loop;
    std::mt19937 random(20240611);
    std::uniform_int_distribution<int> millisecond(0, 200);  // few values: many ties
    struct Fired {
        aio::TimePoint when;
        int order;
        aio::TimePoint at;
    };
    std::vector<Fired> fired;
    constexpr int timer_count = 5000;
    for (int order = 0; order < timer_count; ++order) {
        const aio::TimePoint when = aio::TimePoint(std::chrono::milliseconds(millisecond(random)));
        loop.call_at(when, [&fired, &loop, when, order] { fired.push_back({when, order, loop.time()}); });
    }
    loop.call_at(aio::TimePoint(1s), [&loop] { loop.stop(); });
    loop.run_forever();

    REQUIRE(fired.size() == timer_count);
    const bool in_order = std::is_sorted(fired.begin(), fired.end(), [](const Fired& a, const Fired& b) {
        return std::pair(a.when, a.order) < std::pair(b.when, b.order);
    });
    REQUIRE(in_order);
    const bool on_time = std::all_of(fired.begin(), fired.end(), [](const Fired& f) { return f.at == f.when; });
    REQUIRE(on_time);
}

TEST_CASE("sleeping tasks wake in the order of their deadlines", "[virtual_time][sleep]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto slow = aio::create_task(loop, sleep_then_record(3.0, &events));
    auto fast = aio::create_task(loop, sleep_then_record(1.0, &events));
    auto middle = aio::create_task(loop, sleep_then_record(2.0, &events));
    loop.run_until_complete(slow);
    REQUIRE(events.log == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("advance() moves the clock without running anything", "[virtual_time]") {
    aio::VirtualTimeLoop loop;
    bool ran = false;
    loop.call_later(1.0, [&ran] { ran = true; });
    loop.advance(5s);
    REQUIRE(loop.time() == aio::TimePoint(5s));
    REQUIRE_FALSE(ran);
    loop.call_soon([] {});
    loop.run_once();  // the timer is overdue now: it runs at the next iteration
    REQUIRE(ran);
    REQUIRE(loop.time() == aio::TimePoint(5s));
}

TEST_CASE("waiting on a future nobody completes raises DeadlockError", "[virtual_time][deadlock]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> never(loop);
    aio_test::StderrCapture err;  // closing the loop reports the task left pending
    REQUIRE_THROWS_AS(loop.run_until_complete(wait_forever(never)), aio::DeadlockError);
    REQUIRE_FALSE(loop.is_running());
    loop.close();
    REQUIRE_THAT(err.text(), Catch::Contains("Task was destroyed but it is pending!"));
}

TEST_CASE("a DeadlockError is a RuntimeError", "[virtual_time][deadlock]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> never(loop);
    REQUIRE_THROWS_AS(loop.run_until_complete(never), aio::RuntimeError);
}

TEST_CASE("a pending timer is not a deadlock, even one far away", "[virtual_time][deadlock]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> later(loop);
    loop.call_later(1e6, [later] { later.set_result(5); });
    REQUIRE(loop.run_until_complete(later) == 5);
    REQUIRE(loop.time() == aio::TimePoint(1000000s));
}

TEST_CASE("a cancelled timer does not keep a virtual-time loop from deadlocking",
          "[virtual_time][deadlock]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> never(loop);
    aio::TimerHandle timer = loop.call_later(10.0, [never] { never.set_result(1); });
    timer.cancel();
    REQUIRE_THROWS_AS(loop.run_until_complete(never), aio::DeadlockError);
    REQUIRE(loop.time() == aio::TimePoint{});
}
