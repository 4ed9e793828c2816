// Step 1: gather runs many awaitables at once and collects their results in argument order,
// on the virtual-time loop (times in the logs are loop seconds).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "aio/future.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "gather.hpp"
#include "lab06_support.hpp"

using lab_test::Events;
using lab_test::Log;
using lab_test::after;
using lab_test::now;

namespace {

aio::Coro<std::string> word(Events* events) {
    events->record("word starts @", now());
    co_await aio::sleep(2);
    co_return "two";
}

aio::Coro<void> nothing(Events* events) {
    events->record("nothing starts @", now());
    co_await aio::sleep(0);
}

aio::Coro<void> gather_vector(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(after(events, "a", 3, 1));
    coros.push_back(after(events, "b", 1, 2));
    coros.push_back(after(events, "c", 2, 3));
    auto gathering = lab::gather(std::move(coros));
    std::vector<int> results = co_await std::move(gathering);
    events->record("results ", results[0], results[1], results[2], " @", now());
}

}  // namespace

TEST_CASE("gather of a vector returns results in argument order, not completion order", "[06][step1][gather]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(gather_vector(&events));
    // The children run at once, side by side: the gather ends with the slowest, at 3 s.
    CHECK(events.log == Log{"a starts @0", "b starts @0", "c starts @0", "b returns 2 @1", "c returns 3 @2",
                            "a returns 1 @3", "results 123 @3"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> gather_mixed(Events* events) {
    aio::Future<double> future;
    aio::Task<int> task = aio::create_task(after(events, "task", 3, 7));
    aio::get_running_loop().call_later(1.0, [future] { future.set_result(2.5); });
    auto gathering = lab::gather(after(events, "coro", 1.5, 1), word(events), nothing(events), future, task);
    static_assert(std::is_same_v<decltype(gathering),
                                 lab::GatheringFuture<std::tuple<int, std::string, lab::VoidResult, double, int>>>);
    auto [number, text, none, real, from_task] = co_await std::move(gathering);
    static_cast<void>(none);
    events->record("results ", number, " ", text, " ", real, " ", from_task, " @", now());
}
}  // namespace

TEST_CASE("gather of different awaitables returns a tuple of their results in argument order",
          "[06][step1][gather][integration]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(gather_mixed(&events));
    // The aio task made before gather() starts first; the Coros become tasks in argument order.
    CHECK(events.log == Log{"task starts @0", "coro starts @0", "word starts @0", "nothing starts @0",
                            "coro returns 1 @1.5", "task returns 7 @3", "results 1 two 2.5 7 @3"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> gather_nothing(Events* events) {
    auto empty_tuple = lab::gather();
    auto empty_vector = lab::gather(std::vector<aio::Task<int>>{});
    events->record("done at once: ", empty_tuple.done(), " ", empty_vector.done());
    std::vector<int> results = co_await std::move(empty_vector);
    events->record("results: ", results.size(), " @", now());
}
}  // namespace

TEST_CASE("gather with nothing to gather is a future already done", "[06][step1][gather]") {
    Events events;
    lab_test::run_virtual(gather_nothing(&events));
    CHECK(events.log == Log{"done at once: 1 1", "results: 0 @0"});
}

namespace {
aio::Coro<void> gather_twice(Events* events) {
    aio::Task<int> task = aio::create_task(after(events, "once", 1, 5));
    auto gathering = lab::gather(task, task);
    auto [first, second] = co_await std::move(gathering);
    events->record("results ", first, " ", second);
}
}  // namespace

TEST_CASE("a future given to gather twice runs once and its result appears twice", "[06][step1][gather]") {
    Events events;
    lab_test::run_virtual(gather_twice(&events));
    CHECK(events.log == Log{"once starts @0", "once returns 5 @1", "results 5 5"});
}

namespace {
aio::Coro<void> watch_gathering(Events* events) {
    std::vector<aio::Task<int>> tasks{aio::create_task(after(events, "a", 1, 1)),
                                      aio::create_task(after(events, "b", 2, 2))};
    auto gathering = lab::gather(tasks);
    gathering.add_done_callback([events](const aio::Future<std::vector<int>>& done) {
        events->record("done callback sees ", done.result().size(), " results @", now());
    });
    events->record("done before: ", gathering.done());
    co_await aio::sleep(5);
    events->record("done after: ", gathering.done(), " result()[1]=", gathering.result()[1]);
}
}  // namespace

TEST_CASE("a gathering future is an aio future: done(), result() and done callbacks work on it",
          "[06][step1][gather][integration]") {
    Events events;
    lab_test::run_virtual(watch_gathering(&events));
    CHECK(events.log == Log{"done before: 0", "a starts @0", "b starts @0", "a returns 1 @1", "b returns 2 @2",
                            "done callback sees 2 results @2", "done after: 1 result()[1]=2"});
}

namespace {
aio::Coro<int> yield_then_return(int value) {
    co_await aio::sleep(0);
    co_return value;
}

aio::Coro<std::int64_t> gather_many(int count) {
    std::vector<aio::Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) tasks.push_back(aio::create_task(yield_then_return(i)));
    auto gathering = lab::gather(std::move(tasks));
    std::vector<int> results = co_await std::move(gathering);
    std::int64_t sum = 0;
    for (int value : results) sum += value;
    co_return sum;
}
}  // namespace

TEST_CASE("100,000 gathered tasks all run and their results add up", "[06][step1][gather][scale]") {
    lab_test::FrameLeakCheck frames;
    CHECK(lab_test::run_virtual(gather_many(100'000)) == std::int64_t{99'999} * 100'000 / 2);
    CHECK(frames.leaked() == 0);
}
