// Step 1: the ready queue. call_soon() queues a callback; run_once() runs, in FIFO order,
// the callbacks that were ready when the iteration began.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"

namespace {

/// A Runnable that records what the loop does with it.
class ProbeNode final : public aio::Runnable {
public:
    explicit ProbeNode(std::vector<std::string>& events) : events_(&events) {}
    void run() override { events_->push_back("run"); }
    void release_from_loop() noexcept override { events_->push_back("release"); }

private:
    std::vector<std::string>* events_;
};

}  // namespace

TEST_CASE("call_soon callbacks run in FIFO order", "[01][step1][ready]") {
    lab::EventLoop loop;
    std::vector<int> order;
    for (int i = 1; i <= 5; ++i) loop.call_soon([&order, i] { order.push_back(i); });
    loop.run_once();
    REQUIRE(order == std::vector<int>{1, 2, 3, 4, 5});
}

TEST_CASE("call_soon never runs the callback inline", "[01][step1][ready]") {
    lab::EventLoop loop;
    bool ran = false;
    loop.call_soon([&ran] { ran = true; });
    REQUIRE_FALSE(ran);
    REQUIRE(loop.ready_count() == 1);
    loop.run_once();
    REQUIRE(ran);
    REQUIRE(loop.ready_count() == 0);
}

TEST_CASE("a callback scheduled during an iteration runs in the next iteration", "[01][step1][ready]") {
    lab::EventLoop loop;
    std::vector<std::string> order;
    loop.call_soon([&] {
        order.push_back("first");
        loop.call_soon([&] { order.push_back("scheduled by first"); });
    });
    loop.call_soon([&] { order.push_back("second"); });

    loop.run_once();
    REQUIRE(order == std::vector<std::string>{"first", "second"});
    loop.run_once();
    REQUIRE(order == std::vector<std::string>{"first", "second", "scheduled by first"});
}

TEST_CASE("the loop releases each node once, right after running it", "[01][step1][ready]") {
    lab::EventLoop loop;
    std::vector<std::string> events;
    ProbeNode node(events);
    loop.call_soon(node);
    REQUIRE(events.empty());
    loop.run_once();
    REQUIRE(events == std::vector<std::string>{"run", "release"});
}

TEST_CASE("a callback whose handle was cancelled does not run", "[01][step1][ready]") {
    lab::EventLoop loop;
    std::vector<int> order;
    loop.call_soon([&order] { order.push_back(1); });
    aio::Handle handle = loop.call_soon([&order] { order.push_back(2); });
    loop.call_soon([&order] { order.push_back(3); });
    handle.cancel();
    loop.run_once();
    REQUIRE(order == std::vector<int>{1, 3});
    REQUIRE(loop.ready_count() == 0);
}
