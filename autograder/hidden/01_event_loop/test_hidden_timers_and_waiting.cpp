// Hidden tests, lab 01: timers (order, ties, clean-up) and waiting, with seeded stress.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"
#include "hidden_loops.hpp"

using namespace std::chrono_literals;

namespace {

aio::Coro<void> sleep_and_record(std::vector<std::pair<long, int>>* log, long millis, int id) {
    co_await aio::sleep(std::chrono::milliseconds(millis));
    log->emplace_back(millis, id);
}

aio::Coro<void> many_sleepers(std::vector<std::pair<long, int>>* log, std::vector<long> delays) {
    std::vector<aio::Task<void>> tasks;
    for (std::size_t i = 0; i < delays.size(); ++i)
        tasks.push_back(aio::create_task(sleep_and_record(log, delays[i], static_cast<int>(i))));
    for (auto& task : tasks) co_await task;
}

}  // namespace

TEST_CASE("10,000 timers with many equal deadlines run by deadline, ties in scheduling order",
          "[01][step4][timers][hidden][stress]") {
    hidden::ManualClockLoop loop;
    std::mt19937 random(20240601);
    std::uniform_int_distribution<int> deadline_ms(0, 50);  // few distinct deadlines: many ties
    std::vector<std::pair<int, int>> expected;
    std::vector<std::pair<int, int>> ran;
    for (int i = 0; i < 10'000; ++i) {
        int ms = deadline_ms(random);
        expected.emplace_back(ms, i);
        loop.call_later(std::chrono::milliseconds(ms), [&ran, ms, i] { ran.emplace_back(ms, i); });
    }
    std::stable_sort(expected.begin(), expected.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    loop.now += 1s;
    loop.run_once();
    REQUIRE(ran.size() == expected.size());
    REQUIRE(ran == expected);
}

TEST_CASE("a timer scheduled in the past runs at the next iteration, before later ones",
          "[01][step4][timers][hidden]") {
    hidden::ManualClockLoop loop;
    loop.now = aio::TimePoint(100s);
    std::vector<std::string> order;
    loop.call_at(aio::TimePoint(100s), [&order] { order.push_back("now"); });
    loop.call_at(aio::TimePoint(50s), [&order] { order.push_back("past"); });
    loop.run_once();
    REQUIRE(order == std::vector<std::string>{"past", "now"});
}

TEST_CASE("a timer that a timer callback schedules for now runs in the next iteration",
          "[01][step4][timers][hidden]") {
    hidden::ManualClockLoop loop;
    std::vector<std::string> order;
    loop.call_later(1s, [&] {
        order.push_back("first");
        loop.call_later(0s, [&order] { order.push_back("scheduled for now"); });
    });
    loop.now += 1s;
    loop.run_once();
    REQUIRE(order == std::vector<std::string>{"first"});
    loop.run_once();
    REQUIRE(order == std::vector<std::string>{"first", "scheduled for now"});
}

TEST_CASE("cancelling a timer that already ran changes nothing", "[01][step4][timers][cleanup][hidden]") {
    hidden::ManualClockLoop loop;
    int runs = 0;
    aio::TimerHandle timer = loop.call_later(1s, [&runs] { ++runs; });
    loop.now += 1s;
    loop.run_once();
    timer.cancel();
    REQUIRE(runs == 1);
    REQUIRE(loop.cancelled_timer_count() == 0);
    REQUIRE(loop.timer_count() == 0);
}

TEST_CASE("a timer cancelled by an earlier callback of the same iteration does not run",
          "[01][step4][timers][hidden]") {
    hidden::ManualClockLoop loop;
    std::vector<int> order;
    aio::TimerHandle second;
    loop.call_later(1s, [&] {
        order.push_back(1);
        second.cancel();
    });
    second = loop.call_later(1s, [&order] { order.push_back(2); });
    loop.call_later(1s, [&order] { order.push_back(3); });
    loop.now += 1s;
    loop.run_once();
    REQUIRE(order == std::vector<int>{1, 3});
    REQUIRE(loop.cancelled_timer_count() == 0);
}

TEST_CASE("after a heap rebuild the remaining timers still run in order", "[01][step4][timers][cleanup][hidden]") {
    hidden::ManualClockLoop loop;
    std::mt19937 random(7);
    std::vector<aio::TimerHandle> timers(300);
    std::vector<int> ran;
    std::vector<int> ids(300);
    for (int i = 0; i < 300; ++i) ids[static_cast<std::size_t>(i)] = i;
    // Scheduled in shuffled order, so that the heap's array is not simply sorted: dropping
    // entries from it leaves a valid heap only if the heap is rebuilt afterwards.
    std::shuffle(ids.begin(), ids.end(), random);
    for (int i : ids)
        timers[static_cast<std::size_t>(i)] =
            loop.call_later(std::chrono::seconds(1 + i), [&ran, i] { ran.push_back(i); });
    std::shuffle(ids.begin(), ids.end(), random);
    std::vector<int> kept(ids.begin() + 200, ids.end());
    for (auto it = ids.begin(); it != ids.begin() + 200; ++it) timers[static_cast<std::size_t>(*it)].cancel();
    std::sort(kept.begin(), kept.end());

    loop.run_once();  // the clean-up
    REQUIRE(loop.timer_count() == 100);
    loop.now += 1000s;
    loop.run_once();
    REQUIRE(ran == kept);
    REQUIRE(loop.timer_count() == 0);
}

TEST_CASE("cancelled timers that reach their deadline are dropped, not run", "[01][step4][timers][cleanup][hidden]") {
    hidden::ManualClockLoop loop;
    std::vector<aio::TimerHandle> timers;
    int runs = 0;
    for (int i = 0; i < 50; ++i) timers.push_back(loop.call_later(std::chrono::seconds(10 + i % 3), [&runs] { ++runs; }));
    for (std::size_t i = 0; i < timers.size(); i += 2) timers[i].cancel();
    loop.call_later(1s, [] {});  // keeps the cancelled ones off the front for the first pass
    loop.now += 100s;
    loop.run_once();
    REQUIRE(runs == 25);
    REQUIRE(loop.timer_count() == 0);
    REQUIRE(loop.cancelled_timer_count() == 0);
}

TEST_CASE("between two timers the loop waits exactly the time to the next one", "[01][step5][wait][hidden]") {
    hidden::VirtualClockLoop loop;
    loop.call_later(2s, [] {});
    loop.call_later(5s, [&loop] { loop.stop(); });
    loop.run_forever();
    REQUIRE(loop.waits == std::vector<aio::Duration>{2s, 3s});
}

TEST_CASE("a wait is computed after cancelled timers are dropped, even many of them",
          "[01][step5][wait][cleanup][hidden]") {
    hidden::ManualClockLoop loop;
    std::vector<aio::TimerHandle> early;
    for (int i = 0; i < 10; ++i) early.push_back(loop.call_later(std::chrono::milliseconds(100 + i), [] {}));
    loop.call_later(7s, [] {});
    for (auto& timer : early) timer.cancel();
    loop.run_once();
    REQUIRE(loop.waits == std::vector<aio::Duration>{7s});
}

TEST_CASE("1,000 aio tasks sleeping seeded random times wake in deadline order", "[01][step5][wait][aio][hidden][stress]") {
    hidden::VirtualClockLoop loop;
    std::mt19937 random(99);
    std::uniform_int_distribution<long> delay_ms(1, 100'000);
    std::vector<long> delays;
    for (int i = 0; i < 1000; ++i) delays.push_back(delay_ms(random));
    std::vector<std::pair<long, int>> log;
    loop.run_until_complete(many_sleepers(&log, delays));
    REQUIRE(log.size() == 1000);
    REQUIRE(std::is_sorted(log.begin(), log.end()));
    REQUIRE(loop.now == aio::TimePoint(std::chrono::milliseconds(*std::max_element(delays.begin(), delays.end()))));
}

TEST_CASE("a real loop sleeping in aio for 20 ms wakes up only a few times", "[01][step5][wait][aio][real-clock][hidden]") {
    // Four sleeps of 5 ms: each ends with the last fraction of a millisecond before its
    // deadline, which a loop that rounds its timeout down spends spinning. Four chances to
    // see it, so that a loop descheduled through one of them (a busy machine) is still seen.
    hidden::CountingLoop loop;
    auto sleeper = []() -> aio::Coro<void> {
        for (int i = 0; i < 4; ++i) co_await aio::sleep(0.005);
    };
    loop.run_until_complete(sleeper());
    REQUIRE(loop.wait_calls >= 4);
    REQUIRE(loop.wait_calls <= 16);
}

TEST_CASE("a real loop with nothing ready blocks instead of polling", "[01][step5][wait][real-clock][hidden]") {
    // 25 ms with one timer: a loop that waits with a zero timeout would iterate thousands
    // of times; CPU time stays far below the wall time for one that blocks.
    hidden::CountingLoop loop;
    loop.call_later(0.025, [&loop] { loop.stop(); });
    const std::clock_t cpu_before = std::clock();
    loop.run_forever();
    const double cpu_ms = 1000.0 * static_cast<double>(std::clock() - cpu_before) / CLOCKS_PER_SEC;
    REQUIRE(loop.wait_calls >= 1);
    REQUIRE(loop.wait_calls <= 5);
    REQUIRE(cpu_ms < 20.0);
}
