// Step 2: a task waits for what its coroutine awaits (aio futures and tasks, aio::sleep,
// other lab tasks) and resumes when it is done; aio awaiters find it as the current task.
#include <catch2/catch.hpp>

#include <coroutine>
#include <stdexcept>
#include <string>

#include "aio/sleep.hpp"
#include "lab04_support.hpp"
#include "task.hpp"

using lab_test::Events;
using lab_test::Log;

namespace {

aio::Coro<int> await_future(aio::Future<int> future) {
    int value = co_await future;
    co_return value;
}

aio::Coro<void> tick(Events* events, std::string name, int steps) {
    for (int i = 0; i < steps; ++i) {
        events->record(name, i);
        co_await aio::sleep(0);
    }
}

aio::Coro<int> sleep_then_return(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}

aio::Coro<int> await_lab_task(lab::Task<int> task) {
    int value = co_await task;
    co_return value + 1;
}

/// Awaits the task it runs in, through the task protocol.
struct AwaitCurrentTask {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> awaiting) const {
        aio::detail::wait_in_current_task(aio::current_task()->as_future(), awaiting);
    }
    void await_resume() const { aio::detail::throw_if_cancel_delivered(); }
};

}  // namespace

TEST_CASE("a lab task awaits an aio future that a call_later completes", "[04][step2][await]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    loop.call_later(2.5, [future] { future.set_result(7); });
    auto task = lab::create_task(loop, await_future(future));
    CHECK(loop.run_until_complete(task) == 7);
    CHECK(aio::to_seconds(loop.time()) == Approx(2.5));
}

TEST_CASE("a lab task gets the exception of the aio future it awaits", "[04][step2][await]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    loop.call_later(1.0, [future] { future.set_exception(std::make_exception_ptr(std::out_of_range("gone"))); });
    auto task = lab::create_task(loop, await_future(future));
    CHECK_THROWS_AS(loop.run_until_complete(task), std::out_of_range);
    CHECK_THROWS_AS(task.result(), std::out_of_range);
}

TEST_CASE("a lab task sleeps with aio::sleep in virtual time", "[04][step2][await][sleep]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto sleeper = [](Events* log, aio::EventLoop* on) -> aio::Coro<void> {
        for (double delay : {1.0, 0.5, 3.0}) {
            co_await aio::sleep(delay);
            log->record("woke at ", aio::to_seconds(on->time()));
        }
    };
    auto task = lab::create_task(loop, sleeper(&events, &loop));
    loop.run_until_complete(task);
    CHECK(events.log == Log{"woke at 1", "woke at 1.5", "woke at 4.5"});
}

TEST_CASE("aio::sleep(0) lets the other tasks run before the next step", "[04][step2][await][sleep]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto a = lab::create_task(loop, tick(&events, "a", 3));
    auto b = lab::create_task(loop, tick(&events, "b", 3));
    loop.run_until_complete(b);
    loop.run_until_complete(a);
    CHECK(events.log == Log{"a0", "b0", "a1", "b1", "a2", "b2"});
}

TEST_CASE("several lab tasks sleeping for different times wake in deadline order",
          "[04][step2][await][sleep]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto sleeper = [](Events* log, std::string name, double delay) -> aio::Coro<void> {
        co_await aio::sleep(delay);
        log->record(name);
    };
    auto slow = lab::create_task(loop, sleeper(&events, "slow", 3));
    auto fast = lab::create_task(loop, sleeper(&events, "fast", 1));
    auto middle = lab::create_task(loop, sleeper(&events, "middle", 2));
    loop.run_until_complete(slow);
    CHECK(fast.done());
    CHECK(middle.done());
    CHECK(events.log == Log{"fast", "middle", "slow"});
    CHECK(aio::to_seconds(loop.time()) == Approx(3.0));
}

TEST_CASE("the lab task is aio::current_task() during its steps, and only then",
          "[04][step2][await]") {
    aio::VirtualTimeLoop loop;
    auto check = [](aio::Future<aio::AbstractTask*> seen) -> aio::Coro<void> {
        aio::AbstractTask* before = aio::current_task();
        co_await aio::sleep(1);
        CHECK(aio::current_task() == before);
        seen.set_result(before);
    };
    aio::Future<aio::AbstractTask*> seen(loop);
    auto task = lab::create_task(loop, check(seen));
    CHECK(aio::current_task() == nullptr);
    loop.run_until_complete(task);
    CHECK(seen.result() == static_cast<aio::AbstractTask*>(&task.base()));
    CHECK(aio::current_task() == nullptr);
}

TEST_CASE("an aio task awaits a lab task", "[04][step2][await][integration]") {
    aio::VirtualTimeLoop loop;
    auto lab_task = lab::create_task(loop, sleep_then_return(2.0, 41));
    auto aio_task = aio::create_task(loop, await_lab_task(lab_task));
    CHECK(loop.run_until_complete(aio_task) == 42);
    CHECK(aio::to_seconds(loop.time()) == Approx(2.0));
}

TEST_CASE("a lab task awaits another lab task, which awaits an aio task", "[04][step2][await][integration]") {
    aio::VirtualTimeLoop loop;
    auto innermost = aio::create_task(loop, sleep_then_return(1.0, 1));
    auto relay = [](aio::Task<int> inner) -> aio::Coro<int> {
        int value = co_await inner;
        co_return value * 10;
    };
    auto middle = lab::create_task(loop, relay(innermost));
    auto outer = lab::create_task(loop, await_lab_task(middle));
    CHECK(loop.run_until_complete(outer) == 11);
}

TEST_CASE("a task that awaits itself gets RuntimeError at that await", "[04][step2][await][errors]") {
    aio::VirtualTimeLoop loop;
    auto narcissus = []() -> aio::Coro<std::string> {
        try {
            co_await AwaitCurrentTask{};
        } catch (const aio::RuntimeError& error) {
            co_return std::string("RuntimeError: ") + error.what();
        }
        co_return "no error";
    };
    auto task = lab::create_task(loop, narcissus());
    CHECK_THAT(loop.run_until_complete(task), Catch::StartsWith("RuntimeError: "));
}

TEST_CASE("awaiting a future of another loop raises RuntimeError in the task", "[04][step2][await][errors]") {
    aio::VirtualTimeLoop loop;
    aio::VirtualTimeLoop other_loop;
    aio::Future<int> foreign(other_loop);
    auto task = lab::create_task(loop, await_future(foreign));
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::RuntimeError);
    CHECK(task.done());
}

TEST_CASE("a task suspended by an awaitable that ignores the task protocol fails instead of hanging",
          "[04][step2][await][errors]") {
    aio::VirtualTimeLoop loop;
    auto lost = []() -> aio::Coro<void> { co_await std::suspend_always{}; };
    auto task = lab::create_task(loop, lost());
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::RuntimeError);
}

// aio::gather joined the runtime while this lab was written; the test below needs it.
#if __has_include("aio/gather.hpp")
#include "aio/gather.hpp"

TEST_CASE("aio::gather waits for lab tasks and returns their values in order",
          "[04][step2][await][integration]") {
    aio::VirtualTimeLoop loop;
    std::vector<lab::Task<int>> tasks{lab::create_task(loop, sleep_then_return(3.0, 1)),
                                      lab::create_task(loop, sleep_then_return(1.0, 2)),
                                      lab::create_task(loop, sleep_then_return(2.0, 3))};
    auto main = [](std::vector<lab::Task<int>> children) -> aio::Coro<std::vector<int>> {
        std::vector<aio::Future<int>> futures(children.begin(), children.end());
        auto gathering = aio::gather(std::move(futures));
        co_return co_await std::move(gathering);
    };
    auto collected = lab::create_task(loop, main(tasks));
    CHECK(loop.run_until_complete(collected) == std::vector<int>{1, 2, 3});
    CHECK(aio::to_seconds(loop.time()) == Approx(3.0));
}
#endif
