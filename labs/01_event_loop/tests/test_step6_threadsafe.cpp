// Step 6: a callback sent from another thread waits until something else wakes the loop
// (the next timer, or never). call_soon_threadsafe() must queue it under a lock and wake
// the waiting loop through the eventfd that wait_for_events() watches.
//
// Every test here has a watchdog timer, so a loop that is never woken fails the test after
// two seconds instead of hanging it.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <thread>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"

using namespace std::chrono_literals;

namespace {

constexpr double watchdog_seconds = 2.0;

/// Stops the loop after watchdog_seconds and remembers that it had to.
struct Watchdog {
    bool fired = false;
    aio::TimerHandle timer;

    explicit Watchdog(aio::EventLoop& loop) {
        timer = loop.call_later(watchdog_seconds, [this, &loop] {
            fired = true;
            loop.stop();
        });
    }
};

/// Runs `body` on a new thread; keeps what it threw; joins on destruction, so the loop the
/// thread uses (declared before it) outlives it.
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

aio::Coro<int> await_value(aio::Future<int>* future) { co_return co_await *future; }

aio::Coro<int> wait_for_other_thread(lab::EventLoop* loop) {
    aio::Future<int> future(*loop);
    // The future itself stays on the loop's thread (its reference count is not atomic):
    // the other thread only sends a callback that completes it.
    aio::Task<int> waiter = aio::create_task(await_value(&future));
    Sender sender([loop, &future] {
        std::this_thread::sleep_for(5ms);
        loop->call_soon_threadsafe([&future] { future.set_result(42); });
    });
    int value = co_await waiter;
    sender.join_and_rethrow();
    co_return value;
}

}  // namespace

TEST_CASE("a callback sent from another thread wakes a loop that has nothing else to do",
          "[01][step6][threadsafe]") {
    lab::EventLoop loop;
    Watchdog watchdog(loop);
    std::atomic<bool> ran{false};
    Sender sender([&loop, &ran] {
        std::this_thread::sleep_for(10ms);  // let the loop go to sleep first
        loop.call_soon_threadsafe([&loop, &ran] {
            ran = true;
            loop.stop();
        });
    });
    loop.run_forever();
    sender.join_and_rethrow();
    REQUIRE(ran);
    REQUIRE_FALSE(watchdog.fired);
}

TEST_CASE("callbacks sent from several threads all run, each exactly once", "[01][step6][threadsafe]") {
    constexpr int threads = 4;
    constexpr int per_thread = 500;
    lab::EventLoop loop;
    Watchdog watchdog(loop);
    int received = 0;  // touched only by callbacks, on the loop's thread
    std::vector<int> last_seen(threads, -1);
    bool in_order = true;
    {
        std::vector<std::unique_ptr<Sender>> senders;
        for (int t = 0; t < threads; ++t) {
            senders.push_back(std::make_unique<Sender>([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    loop.call_soon_threadsafe([&, t, i] {
                        // One thread's callbacks keep the order in which it sent them.
                        if (last_seen[static_cast<std::size_t>(t)] != i - 1) in_order = false;
                        last_seen[static_cast<std::size_t>(t)] = i;
                        if (++received == threads * per_thread) loop.stop();
                    });
                }
            }));
        }
        loop.run_forever();
        for (auto& sender : senders) sender->join_and_rethrow();
    }
    REQUIRE(received == threads * per_thread);
    REQUIRE(in_order);
    REQUIRE_FALSE(watchdog.fired);
}

TEST_CASE("an aio future completed from another thread wakes the task awaiting it",
          "[01][step6][threadsafe][aio]") {
    lab::EventLoop loop;
    Watchdog watchdog(loop);
    REQUIRE(loop.run_until_complete(wait_for_other_thread(&loop)) == 42);
    REQUIRE_FALSE(watchdog.fired);
}

TEST_CASE("call_soon_threadsafe on a closed loop throws RuntimeError", "[01][step6][threadsafe]") {
    lab::EventLoop loop;
    loop.call_soon_threadsafe([] {});
    loop.close();
    REQUIRE_THROWS_AS(loop.call_soon_threadsafe([] {}), aio::RuntimeError);
}
