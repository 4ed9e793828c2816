// Step 3: run_forever() / stop() / close(). With them, aio's run_until_complete() works on
// your loop, and so do aio tasks: your loop now runs real asynchronous code.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"

namespace {

// Coroutines are named functions taking their parameters by value: a coroutine lambda's
// captures would die before its frame resumes.
aio::Coro<int> add_later(int a, int b) {
    co_await aio::sleep(0);  // one trip through the ready queue
    co_return a + b;
}

aio::Coro<int> sum_in_tasks() {
    aio::Task<int> first = aio::create_task(add_later(1, 2));
    aio::Task<int> second = aio::create_task(add_later(10, 20));
    int a = co_await first;
    int b = co_await second;
    co_return a + b;
}

aio::Coro<void> ping_pong(std::vector<std::string>* log, std::string name, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        log->push_back(name + std::to_string(i));
        co_await aio::sleep(0);
    }
}

aio::Coro<void> interleave(std::vector<std::string>* log) {
    aio::Task<void> a = aio::create_task(ping_pong(log, "a", 3));
    aio::Task<void> b = aio::create_task(ping_pong(log, "b", 3));
    co_await a;
    co_await b;
}

aio::Coro<int> fail_with(std::string message) {
    co_await aio::sleep(0);
    throw std::runtime_error(message);
}

aio::Coro<void> wait_forever(aio::Future<void> never_done) { co_await never_done; }

}  // namespace

TEST_CASE("run_until_complete runs aio tasks on the lab loop and returns the result",
          "[01][step3][run][aio]") {
    lab::EventLoop loop;
    REQUIRE(loop.run_until_complete(sum_in_tasks()) == 33);
    REQUIRE_FALSE(loop.is_running());
}

TEST_CASE("aio tasks that yield with sleep(0) take turns on the lab loop", "[01][step3][run][aio]") {
    lab::EventLoop loop;
    std::vector<std::string> log;
    loop.run_until_complete(interleave(&log));
    REQUIRE(log == std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"});
}

TEST_CASE("run_until_complete rethrows the exception of the coroutine", "[01][step3][run][aio]") {
    lab::EventLoop loop;
    REQUIRE_THROWS_WITH(loop.run_until_complete(fail_with("task failed")), "task failed");
}

TEST_CASE("stop() makes run_forever return after the current iteration", "[01][step3][run]") {
    lab::EventLoop loop;
    std::vector<std::string> order;
    loop.call_soon([&] {
        order.push_back("stops");
        loop.stop();
        loop.call_soon([&] {
            order.push_back("next iteration");
            loop.stop();
        });
    });
    loop.call_soon([&] { order.push_back("same iteration"); });

    loop.run_forever();
    REQUIRE(order == std::vector<std::string>{"stops", "same iteration"});
    REQUIRE(loop.ready_count() == 1);

    loop.run_forever();  // stop() is forgotten once run_forever returns
    REQUIRE(order == std::vector<std::string>{"stops", "same iteration", "next iteration"});
}

TEST_CASE("stop() before run_forever makes it run exactly one iteration", "[01][step3][run]") {
    lab::EventLoop loop;
    int runs = 0;
    loop.call_soon([&] {
        ++runs;
        loop.call_soon([&] { ++runs; });
    });
    loop.stop();
    loop.run_forever();
    REQUIRE(runs == 1);
}

TEST_CASE("is_running is true only while run_forever runs", "[01][step3][run]") {
    lab::EventLoop loop;
    bool running_inside = false;
    loop.call_soon([&] {
        running_inside = loop.is_running();
        loop.stop();
    });
    REQUIRE_FALSE(loop.is_running());
    loop.run_forever();
    REQUIRE(running_inside);
    REQUIRE_FALSE(loop.is_running());
}

TEST_CASE("run_forever on a loop that is already running throws RuntimeError", "[01][step3][run]") {
    lab::EventLoop loop;
    bool threw = false;
    loop.call_soon([&] {
        try {
            loop.run_forever();
        } catch (const aio::RuntimeError&) {
            threw = true;
        }
        loop.stop();
    });
    loop.run_forever();
    REQUIRE(threw);
}

TEST_CASE("close drops the pending callbacks without running them", "[01][step3][close]") {
    lab::EventLoop loop;
    bool ran = false;
    loop.call_soon([&ran] { ran = true; });
    loop.close();
    REQUIRE(loop.is_closed());
    REQUIRE_FALSE(ran);
    REQUIRE(loop.ready_count() == 0);
    REQUIRE_NOTHROW(loop.close());  // closing twice does nothing
}

TEST_CASE("a running loop cannot be closed", "[01][step3][close]") {
    lab::EventLoop loop;
    bool threw = false;
    loop.call_soon([&] {
        try {
            loop.close();
        } catch (const aio::RuntimeError&) {
            threw = true;
        }
        loop.stop();
    });
    loop.run_forever();
    REQUIRE(threw);
    REQUIRE_FALSE(loop.is_closed());
}

TEST_CASE("a closed loop refuses new callbacks and refuses to run", "[01][step3][close]") {
    lab::EventLoop loop;
    loop.close();
    REQUIRE_THROWS_AS(loop.call_soon([] {}), aio::RuntimeError);
    REQUIRE_THROWS_AS(loop.run_forever(), aio::RuntimeError);
}

TEST_CASE("close destroys the aio tasks still pending and frees their frames", "[01][step3][close][aio]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<std::string> reports;
    {
        lab::EventLoop loop;
        loop.set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext& context) {
            reports.push_back(context.message);
        });
        aio::Future<void> never_done(loop);
        aio::Task<void> task = aio::create_task(loop, wait_forever(never_done));
        loop.call_soon([&loop] { loop.stop(); });
        loop.run_forever();  // the task starts and waits on the future
        REQUIRE_FALSE(task.done());
        loop.close();
        REQUIRE(task.done());
    }
    REQUIRE(aio::live_coroutine_frames() == frames_before);
    REQUIRE(reports == std::vector<std::string>{"Task was destroyed but it is pending!"});
}
