// Step 3: one Coro awaits another. The awaited body runs at once, inline; when it ends, it
// hands control back to its awaiter (its continuation). This is also how a lab::Coro
// joins aio: an aio task can co_await it, and inside it you can co_await aio futures and
// sleeps, because the body runs in the awaiting task.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "coro.hpp"

using namespace std::chrono_literals;

namespace {

lab::Coro<int> twice(int value) { co_return 2 * value; }

lab::Coro<int> add_twice(int a, int b) {
    int x = co_await twice(a);
    int y = co_await twice(b);
    co_return x + y;
}

lab::Coro<std::string> logged(std::vector<std::string>* log, std::string name) {
    log->push_back(name + " runs");
    co_return name;
}

lab::Coro<void> await_in_order(std::vector<std::string>* log) {
    log->push_back("outer starts");
    std::string first = co_await logged(log, "first");
    log->push_back("outer got " + first);
    std::string second = co_await logged(log, "second");
    log->push_back("outer got " + second);
}

lab::Coro<int> fail_deep(int depth) {
    if (depth == 0) throw std::runtime_error("from the bottom");
    // A named local rather than `co_return co_await fail_deep(...)`: GCC 12 mishandles
    // some temporaries that live across a co_await.
    lab::Coro<int> below = fail_deep(depth - 1);
    co_return co_await std::move(below);
}

lab::Coro<std::string> catch_below() {
    try {
        lab::Coro<int> failing = fail_deep(3);
        co_await std::move(failing);
    } catch (const std::runtime_error& error) {
        co_return std::string("caught: ") + error.what();
    }
    co_return "not caught";
}

lab::Coro<int> count_down(int depth) {
    if (depth == 0) co_return 0;
    int below = co_await count_down(depth - 1);
    co_return below + 1;
}

lab::Coro<void> await_twice() {
    lab::Coro<int> once = twice(1);
    co_await std::move(once);
    co_await std::move(once);  // NOLINT(bugprone-use-after-move): the rule under test
}

// --- with aio ------------------------------------------------------------------------------

lab::Coro<int> sleep_then_double(int value, double delay) {
    co_await aio::sleep(delay);  // suspends the aio task that runs this body
    co_return 2 * value;
}

lab::Coro<int> wait_for_future(aio::Future<int> future) {
    int value = co_await future;
    co_return value + 1;
}

aio::Coro<void> set_later(aio::Future<int> future, int value) {
    co_await aio::sleep(1.0);
    future.set_result(value);
}

aio::Coro<int> aio_awaits_lab(std::vector<double>* times) {
    aio::EventLoop& loop = aio::get_running_loop();
    times->push_back(aio::to_seconds(loop.time()));
    int a = co_await sleep_then_double(5, 10.0);
    times->push_back(aio::to_seconds(loop.time()));
    aio::Future<int> future(loop);
    aio::Task<void> setter = aio::create_task(set_later(future, 41));
    int b = co_await wait_for_future(future);
    times->push_back(aio::to_seconds(loop.time()));
    co_await setter;
    co_return a + b;
}

lab::Coro<int> lab_awaits_aio(int value) {
    auto inner = [](int v) -> aio::Coro<int> { co_return v * 3; };  // no captures: safe
    aio::Coro<int> tripled = inner(value);
    co_return co_await std::move(tripled);
}

aio::Coro<int> run_lab_awaits_aio() {
    lab::Coro<int> lab_coro = lab_awaits_aio(4);
    co_return co_await std::move(lab_coro);
}

aio::Coro<void> await_lab_forever(aio::Future<int> never_done) {
    lab::Coro<int> waiting = wait_for_future(never_done);
    co_await std::move(waiting);
}

std::unique_ptr<aio::EventLoop> virtual_time_loop() { return std::make_unique<aio::VirtualTimeLoop>(); }

}  // namespace

TEST_CASE("awaiting a Coro returns its co_returned value", "[02][step3][await]") {
    REQUIRE(lab::sync_wait(add_twice(3, 4)) == 14);
}

TEST_CASE("an awaited body runs at once, before its awaiter continues", "[02][step3][await]") {
    std::vector<std::string> log;
    lab::sync_wait(await_in_order(&log));
    REQUIRE(log == std::vector<std::string>{"outer starts", "first runs", "outer got first", "second runs",
                                            "outer got second"});
}

TEST_CASE("an exception travels up through a chain of awaits", "[02][step3][await][exceptions]") {
    REQUIRE_THROWS_WITH(lab::sync_wait(fail_deep(5)), "from the bottom");
    REQUIRE(lab::sync_wait(catch_below()) == "caught: from the bottom");
}

TEST_CASE("a chain of 1000 nested awaits returns through every level and frees every frame",
          "[02][step3][await][frames]") {
    const auto frames_before = aio::live_coroutine_frames();
    REQUIRE(lab::sync_wait(count_down(1000)) == 1000);
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("awaiting a Coro a second time throws RuntimeError", "[02][step3][await]") {
    REQUIRE_THROWS_AS(lab::sync_wait(await_twice()), aio::RuntimeError);
}

TEST_CASE("an aio task can await a lab Coro that awaits aio sleeps and futures", "[02][step3][await][aio]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<double> times;
    int result = aio::run(aio_awaits_lab(&times), {.loop_factory = virtual_time_loop});
    REQUIRE(result == 10 + 42);
    REQUIRE(times == std::vector<double>{0.0, 10.0, 11.0});
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a lab Coro can await an aio Coro", "[02][step3][await][aio]") {
    REQUIRE(aio::run(run_lab_awaits_aio()) == 12);
}

TEST_CASE("a lab Coro suspended in an aio task is freed when the task is destroyed",
          "[02][step3][await][aio][frames]") {
    const auto frames_before = aio::live_coroutine_frames();
    {
        aio::VirtualTimeLoop loop;
        loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) {});
        aio::Future<int> never_done(loop);
        aio::Task<void> task = aio::create_task(loop, await_lab_forever(never_done));
        loop.call_soon([&loop] { loop.stop(); });
        loop.run_forever();  // the task starts; the lab body waits on the future
        REQUIRE(aio::live_coroutine_frames() == frames_before + 2);
        loop.close();        // destroys the pending task, its frame, and the lab frame in it
    }
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}
