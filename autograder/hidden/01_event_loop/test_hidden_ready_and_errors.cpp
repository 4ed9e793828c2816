// Hidden tests, lab 01: the ready queue, errors, run/stop/close edge cases.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"
#include "hidden_loops.hpp"

using namespace std::chrono_literals;

namespace {

class ProbeNode final : public aio::Runnable {
public:
    explicit ProbeNode(std::vector<std::string>& events) : events_(&events) {}
    void run() override { events_->push_back("run"); }
    void release_from_loop() noexcept override { events_->push_back("release"); }

private:
    std::vector<std::string>* events_;
};

aio::Coro<int> yield_then(int value) {
    co_await aio::sleep(0);
    co_return value;
}

aio::Coro<void> wait_forever(aio::Future<void> never_done) { co_await never_done; }

void silence(aio::EventLoop& loop, std::vector<aio::ExceptionContext>* into) {
    loop.set_exception_handler(
        [into](aio::EventLoop&, const aio::ExceptionContext& context) { into->push_back(context); });
}

}  // namespace

TEST_CASE("a callback that reschedules itself runs once per iteration and starves nobody",
          "[01][step1][ready][hidden]") {
    hidden::ManualClockLoop loop;  // its wait never blocks, whatever the queue holds
    int self_runs = 0;
    std::vector<int> others;
    std::function<void()> again = [&] {
        // Capped, so that a loop that runs what a pass schedules in the same pass fails
        // this test instead of hanging in it.
        if (++self_runs < 1000) loop.call_soon([&] { again(); });
    };
    loop.call_soon([&] { again(); });
    loop.call_soon([&] { others.push_back(1); });
    for (int i = 0; i < 5; ++i) {
        loop.run_once();
        if (i == 0) loop.call_soon([&] { others.push_back(2); });
    }
    REQUIRE(self_runs == 5);
    REQUIRE(others == std::vector<int>{1, 2});
}

TEST_CASE("10,000 callbacks run in the exact order they were scheduled", "[01][step1][ready][hidden][stress]") {
    lab::EventLoop loop;
    std::vector<int> order;
    order.reserve(10'000);
    for (int i = 0; i < 10'000; ++i) loop.call_soon([&order, i] { order.push_back(i); });
    loop.run_once();
    REQUIRE(order.size() == 10'000);
    bool in_order = true;
    for (int i = 0; i < 10'000; ++i) in_order = in_order && order[static_cast<std::size_t>(i)] == i;
    REQUIRE(in_order);
}

TEST_CASE("callbacks scheduled while the queue is being run keep FIFO order among themselves",
          "[01][step1][ready][hidden]") {
    lab::EventLoop loop;
    std::vector<std::string> order;
    loop.call_soon([&] {
        loop.call_soon([&] { order.push_back("a1"); });
        loop.call_soon([&] { order.push_back("a2"); });
    });
    loop.call_soon([&] { loop.call_soon([&] { order.push_back("b1"); }); });
    loop.run_once();
    REQUIRE(order.empty());
    loop.run_once();
    REQUIRE(order == std::vector<std::string>{"a1", "a2", "b1"});
}

TEST_CASE("a timer's error is reported as an exception in a TimerHandle callback", "[01][step2][errors][hidden]") {
    hidden::ManualClockLoop loop;
    std::vector<aio::ExceptionContext> reported;
    silence(loop, &reported);
    std::vector<int> order;
    loop.call_later(1s, [] { throw std::runtime_error("timer failed"); });
    loop.call_later(1s, [&order] { order.push_back(2); });
    loop.now += 1s;
    loop.run_once();
    REQUIRE(order == std::vector<int>{2});
    REQUIRE(reported.size() == 1);
    CHECK(reported[0].message == "Exception in callback <TimerHandle>");
}

TEST_CASE("stop() in a callback lets the rest of the iteration run", "[01][step3][run][hidden]") {
    lab::EventLoop loop;
    std::vector<int> order;
    loop.call_soon([&] {
        order.push_back(1);
        loop.stop();
    });
    loop.call_soon([&order] { order.push_back(2); });
    loop.call_soon([&order] { order.push_back(3); });
    loop.run_forever();
    REQUIRE(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("a loop runs run_until_complete several times in a row", "[01][step3][run][aio][hidden]") {
    lab::EventLoop loop;
    REQUIRE(loop.run_until_complete(yield_then(1)) == 1);
    REQUIRE(loop.run_until_complete(yield_then(2)) == 2);
    REQUIRE(loop.run_until_complete(yield_then(3)) == 3);
    REQUIRE_FALSE(loop.is_running());
}

TEST_CASE("run_forever refuses to start while another loop runs on the thread", "[01][step3][run][hidden]") {
    lab::EventLoop outer;
    lab::EventLoop inner;
    bool refused = false;
    bool inner_running_after = true;
    outer.call_soon([&] {
        try {
            inner.run_forever();
        } catch (const aio::RuntimeError&) {
            refused = true;
        }
        inner_running_after = inner.is_running();
        outer.stop();
    });
    outer.run_forever();
    REQUIRE(refused);
    REQUIRE_FALSE(inner_running_after);
    // And the refusal left nothing behind: the inner loop runs normally now.
    int ran = 0;
    inner.call_soon([&] {
        ++ran;
        inner.stop();
    });
    inner.run_forever();
    REQUIRE(ran == 1);
}

TEST_CASE("a loop whose run_forever threw is not left running and can be closed", "[01][step3][run][hidden]") {
    hidden::VirtualClockLoop loop;
    std::vector<aio::ExceptionContext> reported;
    silence(loop, &reported);
    aio::Future<void> never_done(loop);
    const auto frames_before = aio::live_coroutine_frames();
    REQUIRE_THROWS_AS(loop.run_until_complete(wait_forever(never_done)), aio::DeadlockError);
    REQUIRE_FALSE(loop.is_running());
    REQUIRE(aio::try_get_running_loop() == nullptr);
    REQUIRE_NOTHROW(loop.close());
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("close releases queued nodes without running them", "[01][step3][close][hidden]") {
    std::vector<std::string> events;
    ProbeNode node(events);
    lab::EventLoop loop;
    loop.call_soon(node);
    loop.close();
    REQUIRE(events == std::vector<std::string>{"release"});
}

TEST_CASE("close frees the callbacks of pending timers and ready handles", "[01][step3][close][leaks][hidden]") {
    auto resource = std::make_shared<int>(0);
    lab::EventLoop loop;
    loop.call_soon([resource] {});
    loop.call_later(3600.0, [resource] {});
    loop.call_later(7200.0, [resource] {});
    REQUIRE(resource.use_count() == 4);
    loop.close();
    REQUIRE(resource.use_count() == 1);
    REQUIRE(loop.timer_count() == 0);
}

TEST_CASE("destroying a loop that was never closed frees everything it held", "[01][step3][close][leaks][hidden]") {
    auto resource = std::make_shared<int>(0);
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<aio::ExceptionContext> reported;
    {
        lab::EventLoop loop;
        silence(loop, &reported);
        loop.call_soon([resource] {});
        loop.call_later(3600.0, [resource] {});
        aio::Future<void> never_done(loop);
        aio::Task<void> task = aio::create_task(loop, wait_forever(never_done));
        loop.call_soon([&loop] { loop.stop(); });
        loop.run_forever();
    }
    REQUIRE(resource.use_count() == 1);
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a closed loop refuses timers too", "[01][step3][close][hidden]") {
    lab::EventLoop loop;
    loop.close();
    REQUIRE_THROWS_AS(loop.call_later(1.0, [] {}), aio::RuntimeError);
    REQUIRE(loop.is_closed());
}
