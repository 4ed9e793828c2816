// Hidden tests, lab 01: more of aio running on the lab loop.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"
#include "hidden_loops.hpp"

using namespace std::chrono_literals;

namespace {

aio::Coro<int> sleep_forever() {
    co_await aio::sleep(1e6);
    co_return 0;
}

aio::Coro<std::string> timed_out_after(double limit) {
    aio::Coro<int> slow = sleep_forever();
    aio::Coro<int> limited = aio::wait_for(std::move(slow), limit);
    bool timed_out = false;
    try {
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        timed_out = true;  // no co_await in a catch block: set a flag
    }
    co_return timed_out ? "timeout" : "finished";
}

aio::Coro<void> wait_event(aio::Event* event, std::vector<std::string>* log, std::string name) {
    co_await event->wait();
    log->push_back(name);
}

aio::Coro<void> set_event_later(aio::Event* event, std::vector<std::string>* log) {
    co_await aio::sleep(2.0);
    log->push_back("set");
    event->set();
}

aio::Coro<void> event_round(std::vector<std::string>* log) {
    aio::Event event;
    aio::Task<void> a = aio::create_task(wait_event(&event, log, "a"));
    aio::Task<void> b = aio::create_task(wait_event(&event, log, "b"));
    aio::Task<void> setter = aio::create_task(set_event_later(&event, log));
    co_await a;
    co_await b;
    co_await setter;
}

aio::Coro<int> cancel_a_sleeper(lab::EventLoop* loop) {
    aio::Task<int> sleeper = aio::create_task(sleep_forever());
    co_await aio::sleep(1.0);
    sleeper.cancel();
    int outcome = 0;
    try {
        co_await sleeper;
    } catch (const aio::CancelledError&) {
        outcome = 1;
    }
    // The sleeper's timer was cancelled: at most it waits in the heap as a cancelled timer.
    co_return outcome + static_cast<int>(loop->timer_count() - loop->cancelled_timer_count());
}

aio::Coro<void> clean_up_slowly(bool* cleaned_up) {
    bool cancelled = false;
    try {
        co_await aio::sleep(1e6);
    } catch (const aio::CancelledError&) {
        cancelled = true;  // no co_await in a catch block: set a flag
    }
    if (cancelled) {
        co_await aio::sleep(0);
        *cleaned_up = true;
    }
}

aio::Coro<int> main_leaving_a_task(bool* cleaned_up) {
    aio::Task<void> background = aio::create_task(clean_up_slowly(cleaned_up));
    co_await aio::sleep(0.001);
    co_return 5;
}

}  // namespace

TEST_CASE("aio::wait_for times out on the lab loop at the right virtual time", "[01][step5][aio][hidden]") {
    hidden::VirtualClockLoop loop;
    REQUIRE(loop.run_until_complete(timed_out_after(1.5)) == "timeout");
    REQUIRE(loop.now == aio::TimePoint(1500ms));
}

TEST_CASE("an aio::Event set by one task wakes the tasks waiting on it, on the lab loop",
          "[01][step5][aio][hidden]") {
    hidden::VirtualClockLoop loop;
    std::vector<std::string> log;
    loop.run_until_complete(event_round(&log));
    REQUIRE(log == std::vector<std::string>{"set", "a", "b"});
    REQUIRE(loop.now == aio::TimePoint(2s));
}

TEST_CASE("cancelling a sleeping aio task on the lab loop leaves no live timer behind",
          "[01][step5][aio][cleanup][hidden]") {
    hidden::VirtualClockLoop loop;
    REQUIRE(loop.run_until_complete(cancel_a_sleeper(&loop)) == 1);
}

TEST_CASE("aio::run on the lab loop returns the result and lets the tasks it cancels at the end finish",
          "[01][step5][aio][hidden]") {
    // After main, aio::run cancels the task still pending and runs the loop again until it
    // is done: two more iterations here, as the task awaits once more while it cleans up.
    bool cleaned_up = false;
    int result = aio::run(main_leaving_a_task(&cleaned_up),
                          {.loop_factory = [] { return std::make_unique<lab::EventLoop>(); }});
    REQUIRE(result == 5);
    REQUIRE(cleaned_up);
}
