// aio::Coro<T>: lazy, move-only, awaitable once, returning a value or an exception, and
// never leaking its frame.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

using aio_test::Events;
using aio_test::run_virtual;

namespace {

aio::Coro<int> record_and_return(Events* events, int value) {
    events->record("body ran");
    co_return value;
}

aio::Coro<void> set_flag(bool* flag) {
    *flag = true;
    co_return;
}

aio::Coro<std::unique_ptr<int>> make_unique_int(int value) { co_return std::make_unique<int>(value); }

aio::Coro<int> throw_runtime_error() {
    throw std::runtime_error("from the body");
    co_return 0;
}

aio::Coro<int> keep_alive(std::shared_ptr<int> held) { co_return *held; }

}  // namespace

TEST_CASE("calling a coroutine function does not start its body", "[coro][lazy]") {
    Events events;
    aio::Coro<int> coro = record_and_return(&events, 1);
    REQUIRE(events.log.empty());
    REQUIRE(coro);
    REQUIRE_FALSE(coro.done());
}

TEST_CASE("awaiting a Coro runs its body and returns its value", "[coro][value]") {
    static Events events;
    events.log.clear();
    auto main = []() -> aio::Coro<int> {
        aio::Coro<int> coro = record_and_return(&events, 5);
        events.record("before await");
        int value = co_await std::move(coro);
        events.record("after await");
        co_return value;
    };
    REQUIRE(run_virtual(main()) == 5);
    REQUIRE(events.log == std::vector<std::string>{"before await", "body ran", "after await"});
}

TEST_CASE("a Coro<void> runs to its end when awaited", "[coro][value]") {
    static bool flag = false;
    auto main = []() -> aio::Coro<bool> {
        co_await set_flag(&flag);
        co_return flag;
    };
    REQUIRE(run_virtual(main()));
}

TEST_CASE("a move-only value is moved out to the awaiter", "[coro][value]") {
    auto main = []() -> aio::Coro<int> {
        std::unique_ptr<int> value = co_await make_unique_int(9);
        co_return value ? *value : -1;
    };
    REQUIRE(run_virtual(main()) == 9);
}

namespace {
/// A value with no default constructor: a Coro must not need one.
struct Point {
    explicit Point(int x_value) : x(x_value) {}
    int x;
};
aio::Coro<Point> make_point(int x) { co_return Point(x); }
}  // namespace

TEST_CASE("a Coro can return a type that has no default constructor", "[coro][value]") {
    auto main = []() -> aio::Coro<int> {
        Point point = co_await make_point(4);
        co_return point.x;
    };
    REQUIRE(run_virtual(main()) == 4);
}

TEST_CASE("an exception thrown in a Coro propagates to its awaiter", "[coro][exception]") {
    auto main = []() -> aio::Coro<std::string> {
        try {
            co_await throw_runtime_error();
        } catch (const std::runtime_error& error) {
            co_return error.what();
        }
        co_return "no exception";
    };
    REQUIRE(run_virtual(main()) == "from the body");
}

TEST_CASE("an exception from a Coro that the awaiter does not catch fails the task",
          "[coro][exception]") {
    auto main = []() -> aio::Coro<int> { co_return co_await throw_runtime_error(); };
    REQUIRE_THROWS_WITH(run_virtual(main()), "from the body");
}

TEST_CASE("awaiting a Coro twice raises RuntimeError", "[coro][once]") {
    auto main = []() -> aio::Coro<bool> {
        bool flag = false;
        aio::Coro<void> coro = set_flag(&flag);
        co_await coro;
        try {
            co_await coro;
        } catch (const aio::RuntimeError&) {
            co_return flag;
        }
        co_return false;
    };
    REQUIRE(run_virtual(main()));
}

TEST_CASE("awaiting a moved-from Coro raises RuntimeError", "[coro][once]") {
    auto main = []() -> aio::Coro<bool> {
        bool flag = false;
        aio::Coro<void> coro = set_flag(&flag);
        aio::Coro<void> other = std::move(coro);
        try {
            co_await coro;  // NOLINT(bugprone-use-after-move): the point of the test
        } catch (const aio::RuntimeError&) {
            co_return !flag;
        }
        co_return false;
    };
    REQUIRE(run_virtual(main()));
}

TEST_CASE("destroying a never-awaited Coro frees its frame and its parameters",
          "[coro][frames]") {
    aio_test::FrameLeakCheck frames;
    auto held = std::make_shared<int>(3);
    {
        // No frame count here: clang may elide the allocation of a frame that does not
        // escape (HALO), and then the counter never sees it.
        aio::Coro<int> coro = keep_alive(held);
        REQUIRE(held.use_count() == 2);  // the parameter copy lives in the frame
    }
    REQUIRE(frames.leaked() == 0);
    REQUIRE(held.use_count() == 1);
}

TEST_CASE("move-assigning over a Coro frees the frame it owned", "[coro][frames]") {
    aio_test::FrameLeakCheck frames;
    auto first = std::make_shared<int>(1);
    aio::Coro<int> coro = keep_alive(first);
    auto second = std::make_shared<int>(2);
    coro = keep_alive(second);
    REQUIRE(first.use_count() == 1);
    REQUIRE(second.use_count() == 2);
    coro = aio::Coro<int>();
    REQUIRE(second.use_count() == 1);
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("an awaited Coro frees its frame when the awaiting expression ends", "[coro][frames]") {
    aio_test::FrameLeakCheck frames;
    auto main = []() -> aio::Coro<long> {
        const auto inside = aio::live_coroutine_frames();
        // A named argument: GCC 12 mishandles temporaries with destructors around co_await.
        auto value = std::make_shared<int>(0);
        co_await keep_alive(value);
        co_return aio::live_coroutine_frames() - inside;
    };
    REQUIRE(run_virtual(main()) == 0);
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("Coro::done tells whether the body ran to its end", "[coro]") {
    auto main = []() -> aio::Coro<bool> {
        bool flag = false;
        aio::Coro<void> coro = set_flag(&flag);
        const bool done_before = coro.done();
        co_await coro;
        co_return !done_before && coro.done();
    };
    REQUIRE(run_virtual(main()));
}

namespace {
aio::Coro<int> level_three(Events* events) {
    events->record("three starts");
    co_await aio::sleep(1.0);  // really suspends: the task resumes this frame later
    events->record("three ends");
    co_return 3;
}
aio::Coro<int> level_two(Events* events) {
    events->record("two starts");
    int below = co_await level_three(events);
    events->record("two ends");
    co_return 2 + below;
}
aio::Coro<int> level_one(Events* events) {
    events->record("one starts");
    int below = co_await level_two(events);
    events->record("one ends");
    co_return 1 + below;
}
aio::Coro<bool> same_task_everywhere(aio::AbstractTask* outer) {
    co_return aio::current_task() == outer;
}
}  // namespace

TEST_CASE("nested awaits run in order and hand values back up through a real suspension",
          "[coro][nested]") {
    Events events;
    REQUIRE(run_virtual(level_one(&events)) == 6);
    REQUIRE(events.log == std::vector<std::string>{"one starts", "two starts", "three starts",
                                                   "three ends", "two ends", "one ends"});
}

TEST_CASE("an awaited Coro runs inline in the awaiting task", "[coro][nested]") {
    auto main = []() -> aio::Coro<bool> {
        aio::AbstractTask* outer = aio::current_task();
        bool same = co_await same_task_everywhere(outer);
        co_return outer != nullptr && same;
    };
    REQUIRE(run_virtual(main()));
}
