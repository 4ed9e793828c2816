// Step 5: aclose(). Destroying a generator runs its destructors but cannot await anything;
// aclose() throws aio::GeneratorExit at the body's co_yield instead, so the body can await
// its cleanup before it ends, as Python's aclose() does.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "aio/aio.hpp"
#include "async_generator.hpp"
#include "lab07_support.hpp"

using lab_test::Events;
using lab_test::FrameLeakCheck;
using lab_test::Log;
using lab_test::now;

namespace {

lab::AsyncGenerator<int> with_async_cleanup(Events* events) {
    bool closing = false;
    try {
        for (int i = 1;; ++i) co_yield i;
    } catch (const aio::GeneratorExit&) {
        events->record("generator got GeneratorExit @", now());
        closing = true;  // no co_await in a handler (C++20): clean up after it
    }
    if (closing) {
        co_await aio::sleep(2);
        events->record("async cleanup done @", now());
    }
}

aio::Coro<void> close_after_one(Events* events) {
    auto gen = with_async_cleanup(events);
    auto first = co_await gen.next();
    events->record("got ", *first);
    co_await gen.aclose();
    events->record("aclose returned @", now());
    auto after = co_await gen.next();
    events->record("next after aclose has a value: ", after.has_value());
    co_await gen.aclose();
    events->record("second aclose did nothing");
}

}  // namespace

TEST_CASE("aclose() throws GeneratorExit at the co_yield and waits for the generator's async cleanup",
          "[07][step5][aclose]") {
    FrameLeakCheck frames;
    Events events;
    lab_test::run_virtual(close_after_one(&events));
    CHECK(events.log == Log{"got 1", "generator got GeneratorExit @0", "async cleanup done @2", "aclose returned @2",
                            "next after aclose has a value: 0", "second aclose did nothing"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<void> close_unstarted(Events* events) {
    auto gen = lab_test::count_to(3, events);
    co_await gen.aclose();
    auto after = co_await gen.next();
    events->record("next after aclose has a value: ", after.has_value());
}

aio::Coro<void> close_finished(Events* events) {
    auto gen = lab_test::count_to(1, events);
    while (auto value = co_await gen.next()) events->record("got ", *value);
    co_await gen.aclose();
    events->record("aclose of a finished generator returned");
}

}  // namespace

TEST_CASE("aclose() does not run a generator that never started or has finished", "[07][step5][aclose]") {
    Events events;
    SECTION("never started") {
        lab_test::run_virtual(close_unstarted(&events));
        CHECK(events.log == Log{"next after aclose has a value: 0"});
    }
    SECTION("finished") {
        lab_test::run_virtual(close_finished(&events));
        CHECK(events.log == Log{"yield 1", "got 1", "body returns", "aclose of a finished generator returned"});
    }
}

namespace {

lab::AsyncGenerator<int> ignores_exit(Events* events) {
    lab_test::Guard guard{events, "generator guard"};
    for (int i = 1;; ++i) {
        try {
            co_yield i;
        } catch (const aio::GeneratorExit&) {
            events->record("generator ignores GeneratorExit");
        }
    }
}

aio::Coro<void> close_stubborn(Events* events) {
    auto gen = ignores_exit(events);
    auto first = co_await gen.next();
    events->record("got ", *first);
    try {
        co_await gen.aclose();
    } catch (const aio::RuntimeError& error) {
        events->record("aclose raised: ", error.what());
    }
    auto after = co_await gen.next();
    events->record("next after aclose has a value: ", after.has_value());
}

}  // namespace

TEST_CASE("aclose() raises RuntimeError when the generator yields after GeneratorExit", "[07][step5][aclose]") {
    FrameLeakCheck frames;
    Events events;
    lab_test::run_virtual(close_stubborn(&events));
    CHECK(events.log == Log{"got 1", "generator ignores GeneratorExit",
                            "aclose raised: async generator ignored GeneratorExit", "next after aclose has a value: 0",
                            "generator guard destroyed"});
    CHECK(frames.leaked() == 0);
}

namespace {

lab::AsyncGenerator<int> fails_in_cleanup() {
    try {
        co_yield 1;
    } catch (const aio::GeneratorExit&) {
        throw lab_test::Boom("cleanup failed");
    }
}

aio::Coro<void> close_failing(Events* events) {
    auto gen = fails_in_cleanup();
    auto first = co_await gen.next();
    (void)first;
    try {
        co_await gen.aclose();
        events->record("no error");
    } catch (const lab_test::Boom& error) {
        events->record("aclose raised: ", error.what());
    }
}

}  // namespace

TEST_CASE("aclose() rethrows an error the generator raises while closing", "[07][step5][aclose]") {
    Events events;
    lab_test::run_virtual(close_failing(&events));
    CHECK(events.log == Log{"aclose raised: cleanup failed"});
}
