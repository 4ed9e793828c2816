// Step 1: a task runs its coroutine on the loop, from its first step to its end, and
// finishes with what the coroutine returned or threw.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "aio/detail/frame_counter.hpp"
#include "lab04_support.hpp"
#include "task.hpp"

using lab_test::Events;
using lab_test::Log;

namespace {

// Coroutines take parameters by value (a reference would dangle), and coroutine lambdas
// never capture: see the GCC 12 notes in the briefing.

aio::Coro<int> answer() { co_return 42; }

aio::Coro<void> record(Events* events, std::string what) {
    events->record(what);
    co_return;
}

aio::Coro<int> fail_with(std::string message) {
    throw std::out_of_range(message);
    co_return 0;
}

aio::Coro<int> add_one(int value) { co_return value + 1; }

aio::Coro<int> count_through_nested_coroutines(int depth) {
    int value = 0;
    for (int i = 0; i < depth; ++i) value = co_await add_one(value);
    co_return value;
}

}  // namespace

TEST_CASE("create_task does not run the coroutine inline: its first step runs on the loop",
          "[04][step1][step]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto task = lab::create_task(loop, record(&events, "body runs"));
    events.record("create_task returned");
    CHECK_FALSE(task.done());
    loop.run_until_complete(task);
    CHECK(events.log == Log{"create_task returned", "body runs"});
}

TEST_CASE("a task finishes with the value its coroutine returns", "[04][step1][step]") {
    aio::VirtualTimeLoop loop;
    auto task = lab::create_task(loop, answer());
    CHECK(loop.run_until_complete(task) == 42);
    CHECK(task.done());
    CHECK_FALSE(task.cancelled());
    CHECK(task.result() == 42);
}

TEST_CASE("a void task finishes when its coroutine returns", "[04][step1][step]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto task = lab::create_task(loop, record(&events, "ran"));
    loop.run_until_complete(task);
    CHECK(task.done());
    CHECK(task.exception() == nullptr);
    CHECK(events.log == Log{"ran"});
}

TEST_CASE("an exception thrown by the coroutine becomes the task's exception", "[04][step1][step]") {
    aio::VirtualTimeLoop loop;
    auto task = lab::create_task(loop, fail_with("no such key"));
    CHECK_THROWS_AS(loop.run_until_complete(task), std::out_of_range);
    REQUIRE(task.done());
    CHECK_FALSE(task.cancelled());
    CHECK(task.exception() != nullptr);
    CHECK_THROWS_WITH(task.result(), "no such key");
}

TEST_CASE("a coroutine that throws CancelledError ends its task cancelled", "[04][step1][step]") {
    aio::VirtualTimeLoop loop;
    auto give_up = []() -> aio::Coro<int> {
        throw aio::CancelledError("gave up");
        co_return 0;
    };
    auto task = lab::create_task(loop, give_up());
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(task.cancelled());
    CHECK(task.cancel_message() == "gave up");
}

TEST_CASE("a task is a future: its done callbacks run after it finishes", "[04][step1][step]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto task = lab::create_task(loop, answer());
    task.add_done_callback([&](const aio::Future<int>& done) { events.record("done with ", done.result()); });
    loop.run_until_complete(task);
    loop.run_until_complete(record(&events, "later"));
    CHECK(events.log == Log{"done with 42", "later"});
}

TEST_CASE("tasks take their first steps in the order they were created", "[04][step1][step]") {
    aio::VirtualTimeLoop loop;
    Events events;
    auto first = lab::create_task(loop, record(&events, "first"));
    auto second = lab::create_task(loop, record(&events, "second"));
    auto third = lab::create_task(loop, record(&events, "third"));
    loop.run_until_complete(third);
    CHECK(first.done());
    CHECK(second.done());
    CHECK(events.log == Log{"first", "second", "third"});
}

TEST_CASE("a task runs nested coroutines that finish without suspending", "[04][step1][step]") {
    aio::VirtualTimeLoop loop;
    auto task = lab::create_task(loop, count_through_nested_coroutines(1000));
    CHECK(loop.run_until_complete(task) == 1000);
}

TEST_CASE("the coroutine frame is freed when the task finishes", "[04][step1][step][leak]") {
    const auto frames_before = aio::live_coroutine_frames();
    {
        aio::VirtualTimeLoop loop;
        auto task = lab::create_task(loop, count_through_nested_coroutines(3));
        loop.run_until_complete(task);
        CHECK(aio::live_coroutine_frames() == frames_before);  // freed at the end, not with the handle
    }
    CHECK(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a finished task is freed once its last handle is gone", "[04][step1][step][leak]") {
    // A pending task keeps itself alive; a finished one must let go of itself.
    aio::VirtualTimeLoop loop;
    auto task = lab::create_task(loop, answer());
    loop.run_until_complete(task);
    CHECK(task.core().use_count() == 1);  // only this handle is left
}

TEST_CASE("tasks are named Task-N unless given a name", "[04][step1][step]") {
    aio::VirtualTimeLoop loop;
    auto named = lab::create_task(loop, answer(), "fetcher");
    auto unnamed = lab::create_task(loop, answer());
    CHECK(named.get_name() == "fetcher");
    CHECK_THAT(unnamed.get_name(), Catch::StartsWith("Task-"));
    unnamed.set_name("renamed");
    CHECK(unnamed.get_name() == "renamed");
    loop.run_until_complete(unnamed);
    loop.run_until_complete(named);
}
