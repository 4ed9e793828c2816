// Hidden tests, lab 01: call_soon_threadsafe. Each has a watchdog timer, so a loop that is
// never woken fails within two seconds instead of hanging.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"
#include "hidden_loops.hpp"

using namespace std::chrono_literals;

namespace {

struct Watchdog {
    bool fired = false;
    aio::TimerHandle timer;
    explicit Watchdog(aio::EventLoop& loop, double seconds = 2.0) {
        timer = loop.call_later(seconds, [this, &loop] {
            fired = true;
            loop.stop();
        });
    }
};

class Sender {
public:
    template <class F>
    explicit Sender(F body)
        : thread_([this, body]() mutable {
              try {
                  body();
              } catch (...) {
                  error_ = std::current_exception();
              }
          }) {}
    void join_and_rethrow() {
        thread_.join();
        if (error_) std::rethrow_exception(error_);
    }

private:
    std::exception_ptr error_;
    std::jthread thread_;
};

}  // namespace

TEST_CASE("call_soon_threadsafe from the loop's own thread runs at the next iteration",
          "[01][step6][threadsafe][hidden]") {
    lab::EventLoop loop;
    Watchdog watchdog(loop);
    std::vector<int> order;
    loop.call_soon_threadsafe([&order] { order.push_back(1); });
    loop.call_soon_threadsafe([&] {
        order.push_back(2);
        loop.stop();
    });
    loop.run_forever();
    REQUIRE(order == std::vector<int>{1, 2});
    REQUIRE_FALSE(watchdog.fired);
}

TEST_CASE("a callback sent while the loop is busy in a callback is not lost", "[01][step6][threadsafe][hidden]") {
    lab::EventLoop loop;
    Watchdog watchdog(loop);
    std::atomic<bool> loop_busy{false};
    bool ran = false;
    std::unique_ptr<Sender> sender;
    loop.call_soon([&] {
        sender = std::make_unique<Sender>([&] {
            while (!loop_busy) std::this_thread::yield();
            loop.call_soon_threadsafe([&] {
                ran = true;
                loop.stop();
            });
        });
        loop_busy = true;
        std::this_thread::sleep_for(20ms);  // the send happens while we are busy here
    });
    loop.run_forever();
    sender->join_and_rethrow();
    REQUIRE(ran);
    REQUIRE_FALSE(watchdog.fired);
}

TEST_CASE("every one of many wake-ups is delivered, none lost between two waits", "[01][step6][threadsafe][hidden][stress]") {
    // The sender waits for each callback to run before sending the next, so every send
    // meets a loop that is (about to be) asleep: a lost wake-up shows up as the watchdog.
    lab::EventLoop loop;
    Watchdog watchdog(loop, 5.0);
    constexpr int rounds = 300;
    std::atomic<int> delivered{0};
    std::atomic<bool> loop_returned{false};  // lets the sender give up instead of hanging
    Sender sender([&] {
        for (int i = 0; i < rounds; ++i) {
            loop.call_soon_threadsafe([&] {
                if (delivered.fetch_add(1) + 1 == rounds) loop.stop();
            });
            while (delivered.load() <= i) {
                if (loop_returned) return;
                std::this_thread::yield();
            }
        }
    });
    loop.run_forever();
    loop_returned = true;
    sender.join_and_rethrow();
    REQUIRE(delivered == rounds);
    REQUIRE_FALSE(watchdog.fired);
}

TEST_CASE("the loop blocks again after a wake-up has been handled", "[01][step6][threadsafe][real-clock][hidden]") {
    // If the eventfd is not read back, it stays readable and every later wait returns at
    // once: the loop spins until the timer.
    hidden::CountingLoop loop;
    Watchdog watchdog(loop);
    loop.call_soon_threadsafe([] {});
    loop.call_later(0.030, [&loop] { loop.stop(); });
    loop.run_forever();
    REQUIRE(loop.wait_calls >= 1);
    REQUIRE(loop.wait_calls <= 6);
    REQUIRE_FALSE(watchdog.fired);
}

TEST_CASE("callbacks sent before close are dropped and their captures freed", "[01][step6][threadsafe][leaks][hidden]") {
    auto resource = std::make_shared<int>(0);
    {
        lab::EventLoop loop;
        loop.call_soon_threadsafe([resource] {});
        loop.call_soon_threadsafe([resource] {});
        loop.close();
        REQUIRE(resource.use_count() == 1);
    }
    REQUIRE(resource.use_count() == 1);
}
