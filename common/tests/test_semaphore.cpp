// aio::Semaphore, aio::BoundedSemaphore, aio::Condition: asyncio's rules, in virtual time.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "aio/aio.hpp"

namespace {

using Events = std::vector<std::string>;

aio::Coro<void> use_permit(aio::Semaphore* semaphore, Events* events, std::string name,
                           double seconds) {
    co_await semaphore->acquire();
    events->push_back(name + " in");
    co_await aio::sleep(seconds);
    events->push_back(name + " out");
    semaphore->release();
}

aio::Coro<void> wait_notified(aio::Condition* condition, Events* events, std::string name) {
    auto held = co_await condition->scoped_acquire();  // released however wait() ends
    co_await condition->wait();
    events->push_back(name + " notified, holds lock: " + (condition->locked() ? "yes" : "no"));
}

}  // namespace

TEST_CASE("a semaphore lets at most its value of tasks in at once, in FIFO order",
          "[semaphore][fifo]") {
    aio::VirtualTimeLoop loop;
    aio::Semaphore semaphore(2);
    Events events;
    auto main = [](aio::Semaphore* semaphore, Events* events) -> aio::Coro<void> {
        std::vector<aio::Task<void>> tasks;
        for (const char* name : {"a", "b", "c", "d"})
            tasks.push_back(aio::create_task(use_permit(semaphore, events, name, 1)));
        for (auto& task : tasks) co_await task;
    };
    loop.run_until_complete(main(&semaphore, &events));
    CHECK(events == Events{"a in", "b in", "a out", "b out", "c in", "d in", "c out", "d out"});
    CHECK(semaphore.value() == 2);
    CHECK(loop.time() == aio::TimePoint(aio::seconds(2)));
}

TEST_CASE("a semaphore waiter cancelled after being woken gives its permit to the next",
          "[semaphore][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Semaphore semaphore(1);
    Events events;
    auto main = [](aio::Semaphore* semaphore, Events* events) -> aio::Coro<void> {
        co_await semaphore->acquire();
        auto b = aio::create_task(use_permit(semaphore, events, "b", 1));
        auto c = aio::create_task(use_permit(semaphore, events, "c", 1));
        co_await aio::sleep(0);
        semaphore->release();  // the permit is reserved for b...
        b.cancel();            // ...which is cancelled before it resumes
        try {
            co_await b;
        } catch (const aio::CancelledError&) {
            events->push_back("b cancelled");
        }
        co_await c;
    };
    loop.run_until_complete(main(&semaphore, &events));
    // c gets in before the main task, which awaits b, hears of b's end.
    CHECK(events == Events{"c in", "b cancelled", "c out"});
    CHECK(semaphore.value() == 1);
}

TEST_CASE("a semaphore with a free permit still queues newcomers behind waiters",
          "[semaphore][fifo]") {
    aio::VirtualTimeLoop loop;
    aio::Semaphore semaphore(0);
    Events events;
    auto main = [](aio::Semaphore* semaphore, Events* events) -> aio::Coro<void> {
        auto a = aio::create_task(use_permit(semaphore, events, "a", 1));
        co_await aio::sleep(0);
        semaphore->release();
        CHECK(semaphore->locked());  // the permit is a's, though a has not run yet
        auto late = aio::create_task(use_permit(semaphore, events, "late", 1));
        co_await a;
        co_await late;
    };
    loop.run_until_complete(main(&semaphore, &events));
    CHECK(events == Events{"a in", "a out", "late in", "late out"});
}

TEST_CASE("a negative initial value is a ValueError", "[semaphore]") {
    CHECK_THROWS_AS(aio::Semaphore(-1), aio::ValueError);
}

TEST_CASE("a bounded semaphore refuses to be released beyond its initial value",
          "[semaphore][bounded]") {
    aio::VirtualTimeLoop loop;
    aio::BoundedSemaphore semaphore(1);
    CHECK_THROWS_AS(semaphore.release(), aio::ValueError);
    auto main = [](aio::BoundedSemaphore* semaphore) -> aio::Coro<long> {
        co_await semaphore->acquire();
        semaphore->release();
        co_return semaphore->value();
    };
    CHECK(loop.run_until_complete(main(&semaphore)) == 1);
}

TEST_CASE("notify wakes waiters one at a time in FIFO order, each holding the lock",
          "[condition][fifo]") {
    aio::VirtualTimeLoop loop;
    aio::Condition condition;
    Events events;
    auto main = [](aio::Condition* condition, Events* events) -> aio::Coro<void> {
        auto a = aio::create_task(wait_notified(condition, events, "a"));
        auto b = aio::create_task(wait_notified(condition, events, "b"));
        co_await aio::sleep(1);
        co_await condition->acquire();
        condition->notify(1);
        condition->release();
        co_await a;
        events->push_back(b.done() ? "b done" : "b still waits");
        co_await condition->acquire();
        condition->notify_all();
        condition->release();
        co_await b;
    };
    loop.run_until_complete(main(&condition, &events));
    CHECK(events == Events{"a notified, holds lock: yes", "b still waits",
                           "b notified, holds lock: yes"});
}

TEST_CASE("waiting on or notifying a condition without its lock raises RuntimeError",
          "[condition]") {
    aio::VirtualTimeLoop loop;
    aio::Condition condition;
    CHECK_THROWS_AS(condition.notify(), aio::RuntimeError);
    auto main = [](aio::Condition* condition) -> aio::Coro<void> { co_await condition->wait(); };
    CHECK_THROWS_AS(loop.run_until_complete(main(&condition)), aio::RuntimeError);
}

TEST_CASE("a cancelled condition waiter takes the lock back before it sees the cancellation",
          "[condition][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Condition condition;
    Events events;
    auto waiter = [](aio::Condition* condition, Events* events) -> aio::Coro<void> {
        co_await condition->acquire();
        try {
            co_await condition->wait();
        } catch (const aio::CancelledError&) {
            events->push_back(std::string("cancelled, holds lock: ") +
                              (condition->locked() ? "yes" : "no"));
        }
        condition->release();
    };
    auto main = [](aio::Condition* condition, Events* events, decltype(waiter) make) -> aio::Coro<void> {
        auto a = aio::create_task(make(condition, events));
        co_await aio::sleep(1);
        a.cancel();
        co_await a;
    };
    loop.run_until_complete(main(&condition, &events, waiter));
    CHECK(events == Events{"cancelled, holds lock: yes"});
    CHECK_FALSE(condition.locked());
}

TEST_CASE("a notified waiter that is cancelled passes the notification on", "[condition][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Condition condition;
    Events events;
    auto main = [](aio::Condition* condition, Events* events) -> aio::Coro<void> {
        auto a = aio::create_task(wait_notified(condition, events, "a"));
        auto b = aio::create_task(wait_notified(condition, events, "b"));
        co_await aio::sleep(1);
        co_await condition->acquire();
        condition->notify(1);  // meant for a...
        a.cancel();            // ...which is cancelled before it resumes
        condition->release();
        try {
            co_await a;
        } catch (const aio::CancelledError&) {
            events->push_back("a cancelled");
        }
        co_await b;
    };
    loop.run_until_complete(main(&condition, &events));
    // b runs before the main task, which awaits a, hears of a's end.
    CHECK(events == Events{"b notified, holds lock: yes", "a cancelled"});
}

TEST_CASE("wait_for returns once the predicate holds", "[condition]") {
    aio::VirtualTimeLoop loop;
    aio::Condition condition;
    int value = 0;
    auto consumer = [](aio::Condition* condition, int* value) -> aio::Coro<int> {
        auto held = co_await condition->scoped_acquire();
        // Named first: GCC 12 miscompiles a capturing lambda and co_await in one expression.
        auto reached_three = [value] { return *value >= 3; };
        co_await condition->wait_for(reached_three);
        co_return *value;
    };
    auto main = [](aio::Condition* condition, int* value, decltype(consumer) make) -> aio::Coro<int> {
        auto task = aio::create_task(make(condition, value));
        for (int i = 0; i < 3; ++i) {
            co_await aio::sleep(1);
            co_await condition->acquire();
            ++*value;
            condition->notify_all();
            condition->release();
        }
        co_return co_await task;
    };
    CHECK(loop.run_until_complete(main(&condition, &value, consumer)) == 3);
    CHECK(loop.time() == aio::TimePoint(aio::seconds(3)));
}
