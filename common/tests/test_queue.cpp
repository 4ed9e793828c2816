// aio::Queue and friends: asyncio.Queue's rules (Python 3.13, with shutdown), in virtual time.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "aio/aio.hpp"

namespace {

using Events = std::vector<std::string>;

aio::Coro<void> consume(aio::Queue<int>* queue, Events* events, std::string name, int count) {
    for (int i = 0; i < count; ++i) {
        int item = co_await queue->get();
        events->push_back(name + " got " + std::to_string(item));
        queue->task_done();
    }
}

aio::Coro<void> produce(aio::Queue<int>* queue, Events* events, std::string name, int first,
                        int count) {
    for (int i = first; i < first + count; ++i) {
        co_await queue->put(i);
        events->push_back(name + " put " + std::to_string(i));
    }
}

}  // namespace

TEST_CASE("items come out of a queue in the order they went in", "[queue][fifo]") {
    aio::VirtualTimeLoop loop;
    aio::Queue<int> queue;
    Events events;
    auto main = [](aio::Queue<int>* queue, Events* events) -> aio::Coro<void> {
        co_await produce(queue, events, "p", 1, 3);
        co_await consume(queue, events, "c", 3);
    };
    loop.run_until_complete(main(&queue, &events));
    CHECK(events == Events{"p put 1", "p put 2", "p put 3", "c got 1", "c got 2", "c got 3"});
}

TEST_CASE("a full queue makes put wait until get frees a slot", "[queue][maxsize]") {
    aio::VirtualTimeLoop loop;
    aio::Queue<int> queue(1);
    Events events;
    auto main = [](aio::Queue<int>* queue, Events* events) -> aio::Coro<void> {
        auto producer = aio::create_task(produce(queue, events, "p", 1, 3));
        co_await aio::sleep(1);
        events->push_back("consumer starts");
        co_await consume(queue, events, "c", 3);
        co_await producer;
    };
    loop.run_until_complete(main(&queue, &events));
    CHECK(events == Events{"p put 1", "consumer starts", "c got 1", "p put 2", "c got 2", "p put 3",
                           "c got 3"});
}

TEST_CASE("getters are served in the order they started waiting", "[queue][fifo]") {
    aio::VirtualTimeLoop loop;
    aio::Queue<int> queue;
    Events events;
    auto main = [](aio::Queue<int>* queue, Events* events) -> aio::Coro<void> {
        auto a = aio::create_task(consume(queue, events, "a", 1));
        auto b = aio::create_task(consume(queue, events, "b", 1));
        co_await aio::sleep(0);
        queue->put_nowait(1);
        queue->put_nowait(2);
        co_await a;
        co_await b;
    };
    loop.run_until_complete(main(&queue, &events));
    CHECK(events == Events{"a got 1", "b got 2"});
}

TEST_CASE("put_nowait on a full queue raises QueueFull and get_nowait on an empty one QueueEmpty",
          "[queue]") {
    aio::Queue<int> queue(1);
    CHECK_THROWS_AS(queue.get_nowait(), aio::QueueEmpty);
    queue.put_nowait(1);
    CHECK(queue.full());
    CHECK_THROWS_AS(queue.put_nowait(2), aio::QueueFull);
    CHECK(queue.get_nowait() == 1);
    CHECK(queue.empty());
}

TEST_CASE("a getter cancelled after being woken does not swallow the item", "[queue][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Queue<int> queue;
    Events events;
    auto main = [](aio::Queue<int>* queue, Events* events) -> aio::Coro<void> {
        auto a = aio::create_task(consume(queue, events, "a", 1));
        auto b = aio::create_task(consume(queue, events, "b", 1));
        co_await aio::sleep(0);
        queue->put_nowait(7);  // wakes a...
        a.cancel();            // ...which is cancelled before it resumes
        try {
            co_await a;
        } catch (const aio::CancelledError&) {
            events->push_back("a cancelled");
        }
        co_await b;
    };
    loop.run_until_complete(main(&queue, &events));
    // b runs before the main task, which awaits a, hears of a's end.
    CHECK(events == Events{"b got 7", "a cancelled"});
}

TEST_CASE("a putter cancelled after being woken does not swallow the free slot",
          "[queue][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Queue<int> queue(1);
    Events events;
    auto main = [](aio::Queue<int>* queue, Events* events) -> aio::Coro<void> {
        queue->put_nowait(0);
        auto a = aio::create_task(produce(queue, events, "a", 1, 1));
        auto b = aio::create_task(produce(queue, events, "b", 2, 1));
        co_await aio::sleep(0);
        events->push_back("took " + std::to_string(queue->get_nowait()));  // wakes a...
        a.cancel();  // ...which is cancelled before it resumes
        try {
            co_await a;
        } catch (const aio::CancelledError&) {
            events->push_back("a cancelled");
        }
        co_await b;
        events->push_back("then " + std::to_string(queue->get_nowait()));
    };
    loop.run_until_complete(main(&queue, &events));
    CHECK(events == Events{"took 0", "b put 2", "a cancelled", "then 2"});
}

TEST_CASE("join waits until every item is marked done", "[queue][join]") {
    aio::VirtualTimeLoop loop;
    aio::Queue<int> queue;
    Events events;
    auto worker = [](aio::Queue<int>* queue, Events* events) -> aio::Coro<void> {
        while (true) {
            int item = co_await queue->get();
            co_await aio::sleep(1);
            events->push_back("done " + std::to_string(item));
            queue->task_done();
        }
    };
    auto main = [](aio::Queue<int>* queue, Events* events, decltype(worker) make) -> aio::Coro<void> {
        for (int i = 1; i <= 3; ++i) queue->put_nowait(i);
        auto task = aio::create_task(make(queue, events));
        co_await queue->join();
        events->push_back("joined");
        task.cancel();
    };
    loop.run_until_complete(main(&queue, &events, worker));
    CHECK(events == Events{"done 1", "done 2", "done 3", "joined"});
    CHECK(loop.time() == aio::TimePoint(aio::seconds(3)));
}

TEST_CASE("task_done called more often than items were put raises ValueError", "[queue][join]") {
    aio::Queue<int> queue;
    CHECK_THROWS_AS(queue.task_done(), aio::ValueError);
}

TEST_CASE("after shutdown, put raises QueueShutDown and get drains then raises",
          "[queue][shutdown]") {
    aio::VirtualTimeLoop loop;
    aio::Queue<int> queue;
    auto main = [](aio::Queue<int>* queue) -> aio::Coro<std::vector<std::string>> {
        std::vector<std::string> seen;
        queue->put_nowait(1);
        queue->shutdown();
        try {
            co_await queue->put(2);
        } catch (const aio::QueueShutDown&) {
            seen.push_back("put refused");
        }
        seen.push_back("got " + std::to_string(co_await queue->get()));
        try {
            co_await queue->get();
        } catch (const aio::QueueShutDown&) {
            seen.push_back("get refused");
        }
        co_return seen;
    };
    CHECK(loop.run_until_complete(main(&queue)) ==
          std::vector<std::string>{"put refused", "got 1", "get refused"});
}

TEST_CASE("shutdown wakes blocked getters with QueueShutDown", "[queue][shutdown]") {
    aio::VirtualTimeLoop loop;
    aio::Queue<int> queue;
    Events events;
    auto main = [](aio::Queue<int>* queue, Events* events) -> aio::Coro<void> {
        auto getter = aio::create_task(consume(queue, events, "a", 1));
        co_await aio::sleep(1);
        queue->shutdown();
        try {
            co_await getter;
        } catch (const aio::QueueShutDown&) {
            events->push_back("getter saw shutdown");
        }
    };
    loop.run_until_complete(main(&queue, &events));
    CHECK(events == Events{"getter saw shutdown"});
}

TEST_CASE("an immediate shutdown drops the items left and releases join", "[queue][shutdown]") {
    aio::VirtualTimeLoop loop;
    aio::Queue<int> queue;
    auto main = [](aio::Queue<int>* queue) -> aio::Coro<bool> {
        queue->put_nowait(1);
        queue->put_nowait(2);
        auto joiner = aio::create_task(queue->join());
        co_await aio::sleep(1);
        queue->shutdown(true);
        co_await joiner;
        co_return queue->empty();
    };
    CHECK(loop.run_until_complete(main(&queue)));
}

TEST_CASE("a LIFO queue returns the newest item first", "[queue][lifo]") {
    aio::LifoQueue<int> queue;
    for (int i = 1; i <= 3; ++i) queue.put_nowait(i);
    CHECK(queue.get_nowait() == 3);
    CHECK(queue.get_nowait() == 2);
    CHECK(queue.get_nowait() == 1);
}

TEST_CASE("a priority queue returns the smallest item first", "[queue][priority]") {
    aio::PriorityQueue<std::pair<int, std::string>> queue;
    queue.put_nowait({3, "low"});
    queue.put_nowait({1, "high"});
    queue.put_nowait({2, "middle"});
    CHECK(queue.get_nowait().second == "high");
    CHECK(queue.get_nowait().second == "middle");
    CHECK(queue.get_nowait().second == "low");
}
