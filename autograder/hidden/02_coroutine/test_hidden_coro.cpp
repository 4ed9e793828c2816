// Hidden tests, lab 02: lab::Coro edge cases, frames on every path, aio integration.
#include <catch2/catch.hpp>

#include <coroutine>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "coro.hpp"

namespace {

struct Guard {
    std::vector<std::string>* log;
    std::string name;
    ~Guard() { log->push_back(name); }
};

lab::Coro<int> seven() { co_return 7; }

lab::Coro<void> await_moved_from() {
    lab::Coro<int> original = seven();
    lab::Coro<int> taken = std::move(original);
    co_await std::move(original);  // NOLINT(bugprone-use-after-move): the rule under test
}

lab::Coro<int> suspend_forever(std::vector<std::string>* log) {
    Guard guard{log, "suspended body's local"};
    co_await std::suspend_always{};
    co_return 1;
}

lab::Coro<int> translate_error() {
    try {
        lab::Coro<int> failing = []() -> lab::Coro<int> {
            throw std::logic_error("inner");
            co_return 0;
        }();
        co_await std::move(failing);
    } catch (const std::logic_error& error) {
        throw std::runtime_error(std::string("outer saw ") + error.what());
    }
    co_return 0;
}

// --- aio ---------------------------------------------------------------------------------

lab::Coro<int> level(std::vector<std::string>* log, int depth, aio::Future<int> never_done) {
    Guard guard{log, "level " + std::to_string(depth)};
    if (depth == 0) {
        int value = co_await never_done;
        co_return value;
    }
    lab::Coro<int> below = level(log, depth - 1, never_done);
    int value = co_await std::move(below);
    co_return value;
}

aio::Coro<void> chain_in_task(std::vector<std::string>* log, aio::Future<int> never_done) {
    lab::Coro<int> top = level(log, 2, never_done);
    co_await std::move(top);
}

aio::Coro<int> aio_three() {
    co_await aio::sleep(0.5);
    co_return 3;
}

lab::Coro<int> lab_awaits_task() {
    aio::Task<int> task = aio::create_task(aio_three());
    int value = co_await task;
    co_return value * 2;
}

aio::Coro<int> run_lab_awaits_task() {
    lab::Coro<int> coro = lab_awaits_task();
    int value = co_await std::move(coro);
    co_return value;
}

lab::Coro<void> sleep_and_see_cancel(bool* saw_cancel) {
    try {
        co_await aio::sleep(10.0);
    } catch (const aio::CancelledError&) {
        *saw_cancel = true;
        throw;
    }
}

aio::Coro<void> outer_of_cancel(bool* saw_cancel) {
    lab::Coro<void> inner = sleep_and_see_cancel(saw_cancel);
    co_await std::move(inner);
}

aio::Coro<bool> cancel_in_a_second(bool* saw_cancel) {
    aio::Task<void> task = aio::create_task(outer_of_cancel(saw_cancel));
    co_await aio::sleep(1.0);
    task.cancel();
    bool cancelled = false;
    try {
        co_await task;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    co_return cancelled;
}

lab::Coro<void> void_fails() {
    co_await aio::sleep(0);
    throw std::runtime_error("void failed after a sleep");
}

aio::Coro<void> aio_awaits_failing_void() {
    lab::Coro<void> failing = void_fails();
    co_await std::move(failing);
}

std::unique_ptr<aio::EventLoop> virtual_time_loop() { return std::make_unique<aio::VirtualTimeLoop>(); }

}  // namespace

TEST_CASE("sync_wait on an empty Coro throws RuntimeError", "[02][step1][lazy][hidden]") {
    lab::Coro<int> empty;
    REQUIRE_FALSE(static_cast<bool>(empty));
    REQUIRE_THROWS_AS(lab::sync_wait(std::move(empty)), aio::RuntimeError);
}

TEST_CASE("awaiting a moved-from Coro throws RuntimeError", "[02][step3][await][hidden]") {
    const auto frames_before = aio::live_coroutine_frames();
    REQUIRE_THROWS_AS(lab::sync_wait(await_moved_from()), aio::RuntimeError);
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("sync_wait of a body that suspends throws RuntimeError and frees the frame",
          "[02][step1][frames][hidden]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<std::string> log;
    REQUIRE_THROWS_AS(lab::sync_wait(suspend_forever(&log)), aio::RuntimeError);
    REQUIRE(log == std::vector<std::string>{"suspended body's local"});
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a caller can catch an awaited exception and throw another", "[02][step3][exceptions][hidden]") {
    REQUIRE_THROWS_WITH(lab::sync_wait(translate_error()), "outer saw inner");
}

TEST_CASE("a chain of lab Coros suspended in an aio task is destroyed level by level",
          "[02][step3][aio][frames][hidden]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<std::string> log;
    {
        aio::VirtualTimeLoop loop;
        loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) {});
        aio::Future<int> never_done(loop);
        aio::Task<void> task = aio::create_task(loop, chain_in_task(&log, never_done));
        loop.call_soon([&loop] { loop.stop(); });
        loop.run_forever();
        REQUIRE(aio::live_coroutine_frames() == frames_before + 4);
        loop.close();
    }
    REQUIRE(log.size() == 3);
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a lab Coro can await an aio Task", "[02][step3][aio][hidden]") {
    REQUIRE(aio::run(run_lab_awaits_task(), {.loop_factory = virtual_time_loop}) == 6);
}

TEST_CASE("cancelling the aio task raises CancelledError inside the lab Coro it awaits",
          "[02][step3][aio][hidden]") {
    bool saw_cancel = false;
    REQUIRE(aio::run(cancel_in_a_second(&saw_cancel), {.loop_factory = virtual_time_loop}));
    REQUIRE(saw_cancel);
}

TEST_CASE("a Coro<void> that fails after suspending fails the aio task awaiting it", "[02][step3][aio][hidden]") {
    REQUIRE_THROWS_WITH(aio::run(aio_awaits_failing_void(), {.loop_factory = virtual_time_loop}),
                        "void failed after a sleep");
}
