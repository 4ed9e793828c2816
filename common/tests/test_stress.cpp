// Storms: many tasks, random sleeps, random awaits on each other, random cancellations, for
// several seeds. Whatever happens, every task ends, nothing stays pending, no frame leaks,
// and nothing is reported on stderr. Virtual time, so a storm is deterministic per seed.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/gather.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;

namespace {

struct Storm {
    std::vector<aio::Task<int>> tasks;  // reserved up front: tasks hold pointers into it
    int cancels_sent = 0;
};

enum class Response { rethrow, suppress_and_return, uncancel_and_continue };

/// One task of the storm: a few random steps, each a sleep, a yield, or an await on a
/// lower-numbered task (so the awaits form no cycle). A CancelledError is answered at random:
/// passed on, swallowed (the task returns), or withdrawn with uncancel() (the task goes on).
aio::Coro<int> storm_task(Storm* storm, int index, std::uint32_t seed) {
    std::mt19937 random(seed);
    int value = index;
    const int steps = static_cast<int>(random() % 5);
    for (int step = 0; step < steps; ++step) {
        const auto kind = random() % 3;
        std::exception_ptr cancelled;
        try {
            if (kind == 0) {
                co_await aio::sleep(std::chrono::milliseconds(random() % 50));
            } else if (kind == 1 && index > 0) {
                aio::Task<int> other = storm->tasks[random() % static_cast<std::uint32_t>(index)];
                value += co_await other;
            } else {
                co_await aio::sleep(0);
            }
        } catch (const aio::CancelledError&) {
            cancelled = std::current_exception();
        } catch (const std::runtime_error&) {
            // A task we awaited failed: carry on.
        }
        if (!cancelled) continue;
        switch (static_cast<Response>(random() % 3)) {
            case Response::rethrow: std::rethrow_exception(cancelled);
            case Response::suppress_and_return: co_return -value;
            case Response::uncancel_and_continue: aio::current_task()->uncancel(); break;
        }
    }
    if (random() % 10 == 0) throw std::runtime_error("storm failure");
    co_return value;
}

/// Cancels random tasks (pending or not) at random moments.
aio::Coro<void> storm_driver(Storm* storm, std::uint32_t seed, int cancels) {
    std::mt19937 random(seed);
    for (int i = 0; i < cancels; ++i) {
        co_await aio::sleep(std::chrono::microseconds(random() % 100));
        const auto victim = random() % static_cast<std::uint32_t>(storm->tasks.size());
        if (storm->tasks[victim].cancel()) ++storm->cancels_sent;
    }
}

struct StormOutcome {
    int succeeded = 0;
    int failed = 0;
    int cancelled = 0;
    int not_done = 0;
    std::size_t pending_at_end = 0;
};

aio::Coro<StormOutcome> run_storm(std::uint32_t seed, int task_count, int cancels) {
    Storm storm;
    storm.tasks.reserve(static_cast<std::size_t>(task_count));
    std::mt19937 seeds(seed);
    for (int i = 0; i < task_count; ++i) storm.tasks.push_back(aio::create_task(storm_task(&storm, i, seeds())));
    aio::Task<void> driver = aio::create_task(storm_driver(&storm, seeds(), cancels));
    co_await driver;

    StormOutcome outcome;
    for (aio::Task<int>& task : storm.tasks) {
        try {
            co_await task;
        } catch (const aio::CancelledError&) {
        } catch (const std::runtime_error&) {
        }
        if (!task.done())
            ++outcome.not_done;
        else if (task.cancelled())
            ++outcome.cancelled;
        else if (task.exception())
            ++outcome.failed;
        else
            ++outcome.succeeded;
    }
    outcome.pending_at_end = aio::all_tasks().size();  // this task only
    co_return outcome;
}

}  // namespace

TEST_CASE("a seeded cancellation storm of 10,000 tasks ends every task and leaks nothing",
          "[stress][cancel]") {
    const std::uint32_t seed = GENERATE(1u, 2u, 3u, 4u, 5u);
    CAPTURE(seed);
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture err;
    StormOutcome outcome = aio_test::run_virtual(run_storm(seed, 10'000, 3'000));
    const std::string reports = err.text();

    REQUIRE(outcome.not_done == 0);
    REQUIRE(outcome.pending_at_end == 1);
    REQUIRE(outcome.succeeded + outcome.failed + outcome.cancelled == 10'000);
    // The storm really stormed: each way of ending happened.
    REQUIRE(outcome.succeeded > 0);
    REQUIRE(outcome.failed > 0);
    REQUIRE(outcome.cancelled > 0);
    REQUIRE(frames.leaked() == 0);
    REQUIRE(reports.empty());
}

TEST_CASE("a storm leaves nothing behind even when its loop closes with tasks pending",
          "[stress][cancel]") {
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture err;
    {
        aio::VirtualTimeLoop loop;
        Storm storm;
        storm.tasks.reserve(2000);
        std::mt19937 seeds(99);
        for (int i = 0; i < 2000; ++i)
            storm.tasks.push_back(aio::create_task(loop, storm_task(&storm, i, seeds())));
        auto driver = aio::create_task(loop, storm_driver(&storm, seeds(), 500));
        loop.call_later(0.01, [&loop] { loop.stop(); });  // stop in the middle of the storm
        loop.run_forever();
        REQUIRE_FALSE(aio::all_tasks(loop).empty());
        loop.close();
        for (aio::Task<int>& task : storm.tasks) {
            REQUIRE(task.done());
            if (!task.cancelled()) (void)task.exception();  // retrieved: no report on destruction
        }
    }
    REQUIRE(frames.leaked() == 0);
    REQUIRE_THAT(err.text(), Catch::Contains("Task was destroyed but it is pending!"));
}

namespace {

aio::Coro<int> yield_once_and_return(int value) {
    co_await aio::sleep(0);
    co_return value;
}

aio::Coro<std::int64_t> gather_a_million() {
    constexpr int count = 1'000'000;
    std::vector<aio::Task<int>> tasks;
    tasks.reserve(count);
    for (int i = 0; i < count; ++i) tasks.push_back(aio::create_task(yield_once_and_return(i)));
    // Named first: GCC 12 mishandles temporaries with destructors inside a co_await.
    auto gathering = aio::gather(std::move(tasks));
    std::vector<int> results = co_await std::move(gathering);
    std::int64_t sum = 0;
    bool in_order = results.size() == count;
    for (int i = 0; in_order && i < count; ++i) {
        in_order = results[static_cast<std::size_t>(i)] == i;
        sum += results[static_cast<std::size_t>(i)];
    }
    co_return in_order ? sum : -1;
}

}  // namespace

TEST_CASE("1,000,000 tasks that each yield once are gathered with their results in order",
          "[stress][gather]") {
    aio_test::FrameLeakCheck frames;
    constexpr std::int64_t count = 1'000'000;
    REQUIRE(aio_test::run_virtual(gather_a_million()) == count * (count - 1) / 2);
    REQUIRE(frames.leaked() == 0);
}
