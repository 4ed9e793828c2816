// aio::Lock, aio::Event: asyncio's rules, in virtual time.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "aio/aio.hpp"

namespace {

using Events = std::vector<std::string>;

aio::Coro<void> hold_lock(aio::Lock* lock, Events* events, std::string name, double seconds) {
    co_await lock->acquire();
    events->push_back(name + " acquired");
    co_await aio::sleep(seconds);
    events->push_back(name + " releases");
    lock->release();
}

aio::Coro<void> wait_for_event(aio::Event* event, Events* events, std::string name) {
    bool result = co_await event->wait();
    events->push_back(name + (result ? " woke" : " woke with false"));
}

}  // namespace

TEST_CASE("a lock is granted to waiters in the order they asked", "[lock][fifo]") {
    aio::VirtualTimeLoop loop;
    aio::Lock lock;
    Events events;
    auto main = [](aio::Lock* lock, Events* events) -> aio::Coro<void> {
        auto a = aio::create_task(hold_lock(lock, events, "a", 1));
        auto b = aio::create_task(hold_lock(lock, events, "b", 1));
        auto c = aio::create_task(hold_lock(lock, events, "c", 1));
        co_await a;
        co_await b;
        co_await c;
    };
    loop.run_until_complete(main(&lock, &events));
    CHECK(events == Events{"a acquired", "a releases", "b acquired", "b releases", "c acquired",
                           "c releases"});
    CHECK_FALSE(lock.locked());
    CHECK(loop.time() == aio::TimePoint(aio::seconds(3)));
}

TEST_CASE("releasing an unlocked lock raises RuntimeError", "[lock]") {
    aio::Lock lock;
    CHECK_THROWS_AS(lock.release(), aio::RuntimeError);
}

TEST_CASE("a scoped acquire releases the lock at the end of the scope", "[lock]") {
    aio::VirtualTimeLoop loop;
    aio::Lock lock;
    auto main = [](aio::Lock* lock) -> aio::Coro<bool> {
        {
            auto held = co_await lock->scoped_acquire();
            if (!lock->locked()) co_return false;
        }
        co_return !lock->locked();
    };
    CHECK(loop.run_until_complete(main(&lock)));
}

TEST_CASE("a waiter cancelled after the lock was released to it passes the lock on",
          "[lock][cancel]") {
    // a holds the lock; b and c wait. a releases (b is woken) and, in the same step, b is
    // cancelled before it can run. The lock must still reach c.
    aio::VirtualTimeLoop loop;
    aio::Lock lock;
    Events events;
    auto main = [](aio::Lock* lock, Events* events) -> aio::Coro<void> {
        co_await lock->acquire();
        auto b = aio::create_task(hold_lock(lock, events, "b", 1));
        auto c = aio::create_task(hold_lock(lock, events, "c", 1));
        co_await aio::sleep(0);  // b and c now wait
        lock->release();         // wakes b...
        b.cancel();              // ...which is cancelled before it resumes
        try {
            co_await b;
        } catch (const aio::CancelledError&) {
            events->push_back("b cancelled");
        }
        co_await c;
    };
    loop.run_until_complete(main(&lock, &events));
    // c runs before the main task, which awaits b, hears of b's end.
    CHECK(events == Events{"c acquired", "b cancelled", "c releases"});
    CHECK_FALSE(lock.locked());
}

TEST_CASE("a task arriving while others wait does not jump the queue", "[lock][fifo]") {
    aio::VirtualTimeLoop loop;
    aio::Lock lock;
    Events events;
    auto main = [](aio::Lock* lock, Events* events) -> aio::Coro<void> {
        co_await lock->acquire();
        auto b = aio::create_task(hold_lock(lock, events, "b", 1));
        co_await aio::sleep(0);
        lock->release();  // b is woken but has not run yet: the lock looks free
        auto late = aio::create_task(hold_lock(lock, events, "late", 1));
        co_await b;
        co_await late;
    };
    loop.run_until_complete(main(&lock, &events));
    CHECK(events == Events{"b acquired", "b releases", "late acquired", "late releases"});
}

TEST_CASE("setting an event wakes every waiter, and later waits return at once", "[event]") {
    aio::VirtualTimeLoop loop;
    aio::Event event;
    Events events;
    auto main = [](aio::Event* event, Events* events) -> aio::Coro<void> {
        auto a = aio::create_task(wait_for_event(event, events, "a"));
        auto b = aio::create_task(wait_for_event(event, events, "b"));
        co_await aio::sleep(1);
        events->push_back("set");
        event->set();
        co_await a;
        co_await b;
        co_await wait_for_event(event, events, "late");
    };
    loop.run_until_complete(main(&event, &events));
    CHECK(events == Events{"set", "a woke", "b woke", "late woke"});
    CHECK(event.is_set());
}

TEST_CASE("a waiter woken by set returns true even if the event was cleared meanwhile",
          "[event]") {
    aio::VirtualTimeLoop loop;
    aio::Event event;
    Events events;
    auto main = [](aio::Event* event, Events* events) -> aio::Coro<void> {
        auto a = aio::create_task(wait_for_event(event, events, "a"));
        co_await aio::sleep(0);
        event->set();
        event->clear();
        co_await a;
    };
    loop.run_until_complete(main(&event, &events));
    CHECK(events == Events{"a woke"});
    CHECK_FALSE(event.is_set());
}

TEST_CASE("a cancelled event waiter leaves no trace and the others still wake", "[event][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Event event;
    Events events;
    auto main = [](aio::Event* event, Events* events) -> aio::Coro<void> {
        auto a = aio::create_task(wait_for_event(event, events, "a"));
        auto b = aio::create_task(wait_for_event(event, events, "b"));
        co_await aio::sleep(0);
        a.cancel();
        co_await aio::sleep(0);
        event->set();
        co_await b;
        events->push_back(a.cancelled() ? "a cancelled" : "a not cancelled");
    };
    loop.run_until_complete(main(&event, &events));
    CHECK(events == Events{"b woke", "a cancelled"});
}
