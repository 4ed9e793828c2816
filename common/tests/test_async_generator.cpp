// aio::AsyncGenerator<T>: a coroutine that awaits and yields (Python's async generator).
//
// Coroutine helpers are free functions taking their parameters by value (pointers to the
// test's Events), never capturing lambdas: a capturing coroutine lambda dies before its frame.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/async_generator.hpp"
#include "test_support.hpp"

namespace {

using aio_test::Events;
using aio_test::FrameLeakCheck;
using Log = std::vector<std::string>;

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

/// Records its destruction: an RAII guard in a generator body shows when cleanup runs.
struct Guard {
    Events* events;
    std::string name;
    ~Guard() { events->record(name, " destroyed"); }
};

aio::AsyncGenerator<int> count_to(int n, Events* events) {
    for (int i = 1; i <= n; ++i) {
        if (events) events->record("yield ", i);
        co_yield i;
    }
    if (events) events->record("body returns");
}

/// Drains `gen`, recording each value, then records the end.
aio::Coro<void> consume_all(aio::AsyncGenerator<int> gen, Events* events) {
    while (auto value = co_await gen.next()) events->record("got ", *value);
    events->record("exhausted");
}

aio::AsyncGenerator<int> ticking(int n, double interval, Events* events) {
    for (int i = 1; i <= n; ++i) {
        co_await aio::sleep(interval);
        events->record("yield ", i, " at ", now());
        co_yield i;
    }
}

aio::AsyncGenerator<int> fail_after(int yields, Events* events) {
    for (int i = 1; i <= yields; ++i) co_yield i;
    events->record("body throws");
    throw std::runtime_error("boom");
}

/// Runs `gen` to its end; records each value, then the error it ends with, then what a
/// further next() returns.
aio::Coro<void> consume_expecting_error(aio::AsyncGenerator<int> gen, Events* events) {
    try {
        while (auto value = co_await gen.next()) events->record("got ", *value);
        events->record("no error");
    } catch (const std::runtime_error& error) {
        events->record("consumer caught ", error.what());
    }
    auto after = co_await gen.next();
    events->record("next after error has value: ", after.has_value());
}

aio::AsyncGenerator<int> guarded_count(Events* events) {
    Guard guard{events, "generator guard"};
    for (int i = 1;; ++i) co_yield i;
}

}  // namespace

TEST_CASE("an async generator yields its values in order, running its body only on demand",
          "[async_generator]") {
    Events events;
    aio::VirtualTimeLoop loop;
    auto consumer = consume_all(count_to(3, &events), &events);
    events.record("created");
    loop.run_until_complete(std::move(consumer));
    REQUIRE(events.log == Log{"created", "yield 1", "got 1", "yield 2", "got 2", "yield 3", "got 3",
                              "body returns", "exhausted"});
}

TEST_CASE("an async generator that yields nothing ends at the first next()", "[async_generator]") {
    Events events;
    aio_test::run_virtual(consume_all(count_to(0, &events), &events));
    REQUIRE(events.log == Log{"body returns", "exhausted"});
}

TEST_CASE("next() on an exhausted async generator keeps returning nothing", "[async_generator]") {
    Events events;
    auto main = [](Events* log) -> aio::Coro<void> {
        auto gen = count_to(1, nullptr);
        for (int i = 0; i < 4; ++i) {
            auto value = co_await gen.next();
            log->record(value ? std::to_string(*value) : "nothing");
        }
    };
    aio_test::run_virtual(main(&events));
    REQUIRE(events.log == Log{"1", "nothing", "nothing", "nothing"});
}

TEST_CASE("an exception thrown before the first yield comes out of the first next()",
          "[async_generator][exception]") {
    Events events;
    aio_test::run_virtual(consume_expecting_error(fail_after(0, &events), &events));
    REQUIRE(events.log ==
            Log{"body throws", "consumer caught boom", "next after error has value: 0"});
}

TEST_CASE("an exception thrown after some yields comes out of next() after those values",
          "[async_generator][exception]") {
    Events events;
    aio_test::run_virtual(consume_expecting_error(fail_after(2, &events), &events));
    REQUIRE(events.log == Log{"got 1", "got 2", "body throws", "consumer caught boom",
                              "next after error has value: 0"});
}

namespace {
aio::Coro<void> break_early(Events* events, std::int64_t baseline) {
    {
        auto gen = guarded_count(events);
        while (auto value = co_await gen.next()) {
            events->record("got ", *value);
            if (*value == 2) break;
        }
        // This coroutine's frame and the generator's.
        events->record("after break, frames: ", aio::live_coroutine_frames() - baseline);
    }
    events->record("generator gone, frames: ", aio::live_coroutine_frames() - baseline);
}
}  // namespace

TEST_CASE("breaking out of the consumer loop runs the generator's cleanup and frees its frame",
          "[async_generator][frames]") {
    FrameLeakCheck frames;
    Events events;
    aio_test::run_virtual(break_early(&events, aio::live_coroutine_frames()));
    REQUIRE(events.log == Log{"got 1", "got 2", "after break, frames: 2", "generator guard destroyed",
                              "generator gone, frames: 1"});
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("an async generator that is never awaited never runs its body and frees its frame",
          "[async_generator][frames]") {
    FrameLeakCheck frames;
    Events events;
    {
        auto gen = count_to(3, &events);
        // No assertion that the frame is counted here: clang may elide the allocation
        // of a frame that never escapes this scope (HALO).
        (void)gen;
    }
    REQUIRE(events.log.empty());
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a generator that sleeps between yields delivers each value at its virtual time",
          "[async_generator][time]") {
    Events events;
    auto main = [](Events* log) -> aio::Coro<void> {
        auto gen = ticking(3, 1.5, log);
        while (auto value = co_await gen.next()) log->record("got ", *value, " at ", now());
        log->record("exhausted at ", now());
    };
    aio_test::run_virtual(main(&events));
    REQUIRE(events.log == Log{"yield 1 at 1.5", "got 1 at 1.5", "yield 2 at 3", "got 2 at 3",
                              "yield 3 at 4.5", "got 3 at 4.5", "exhausted at 4.5"});
}

namespace {
aio::AsyncGenerator<int> sleepy(Events* events) {
    Guard guard{events, "generator guard"};
    co_yield 1;
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError& cancelled) {
        events->record("generator got CancelledError '", cancelled.message(), "' at ", now());
        throw;
    }
    events->record("unreachable: sleep finished");
    co_yield 2;
}

aio::Coro<void> cancel_consumer(Events* events) {
    auto consumer = aio::create_task(consume_all(sleepy(events), events));
    co_await aio::sleep(1);
    events->record("cancel at ", now());
    consumer.cancel("stop");
    try {
        co_await consumer;
        events->record("unreachable: consumer finished");
    } catch (const aio::CancelledError& cancelled) {
        events->record("awaiting the consumer raised CancelledError '", cancelled.message(), "'");
    }
    events->record("consumer cancelled: ", consumer.cancelled());
}
}  // namespace

TEST_CASE("cancelling the consumer while the generator sleeps raises CancelledError in the generator",
          "[async_generator][cancel]") {
    FrameLeakCheck frames;
    Events events;
    aio_test::run_virtual(cancel_consumer(&events));
    REQUIRE(events.log == Log{"got 1", "cancel at 1", "generator got CancelledError 'stop' at 1",
                              "generator guard destroyed",
                              "awaiting the consumer raised CancelledError 'stop'",
                              "consumer cancelled: 1"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::AsyncGenerator<int> swallows_cancel(Events* events) {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        events->record("generator swallowed CancelledError");
    }
    co_yield 42;
}

aio::Coro<void> cancel_swallowed(Events* events) {
    auto consumer = aio::create_task(consume_all(swallows_cancel(events), events));
    co_await aio::sleep(1);
    consumer.cancel();
    co_await consumer;
    events->record("consumer cancelled: ", consumer.cancelled());
}
}  // namespace

TEST_CASE("a generator that catches the cancellation goes on, like a task that catches it",
          "[async_generator][cancel]") {
    Events events;
    aio_test::run_virtual(cancel_swallowed(&events));
    REQUIRE(events.log ==
            Log{"generator swallowed CancelledError", "got 42", "exhausted", "consumer cancelled: 0"});
}

namespace {
aio::Coro<void> move_midway(Events* events) {
    auto original = count_to(3, nullptr);
    auto first = co_await original.next();
    events->record("original got ", *first);
    aio::AsyncGenerator<int> moved = std::move(original);
    try {
        auto not_run = original.next();  // NOLINT(bugprone-use-after-move): the contract under test
        (void)not_run;
    } catch (const aio::RuntimeError&) {
        events->record("moved-from next() raised RuntimeError");
    }
    while (auto value = co_await moved.next()) events->record("moved got ", *value);
}
}  // namespace

TEST_CASE("a moved async generator continues where the original left off", "[async_generator][move]") {
    FrameLeakCheck frames;
    Events events;
    aio_test::run_virtual(move_midway(&events));
    REQUIRE(events.log == Log{"original got 1", "moved-from next() raised RuntimeError", "moved got 2",
                              "moved got 3"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> assign_over_started(Events* events) {
    auto target = guarded_count(events);
    auto first = co_await target.next();
    events->record("got ", *first);
    target = count_to(1, nullptr);
    events->record("assigned");
    auto replaced = co_await target.next();
    events->record("new generator got ", *replaced);
}
}  // namespace

TEST_CASE("move-assigning an async generator destroys the frame it replaces", "[async_generator][move]") {
    FrameLeakCheck frames;
    Events events;
    aio_test::run_virtual(assign_over_started(&events));
    REQUIRE(events.log == Log{"got 1", "generator guard destroyed", "assigned", "new generator got 1"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<int> plus_one(int value) { co_return value + 1; }

aio::AsyncGenerator<int> from_awaits(aio::Future<int> later, Events* events) {
    // Named local first: GCC 12 mishandles some temporaries inside a co_await operand.
    auto step = plus_one(1);
    int from_coro = co_await std::move(step);
    co_yield from_coro;
    int from_future = co_await later;
    events->record("future done at ", now());
    co_yield from_future;
}

aio::Coro<void> awaits_inside(Events* events) {
    aio::Future<int> later(aio::get_running_loop());
    aio::get_running_loop().call_later(2.0, [later] { later.set_result(7); });
    auto gen = from_awaits(later, events);
    while (auto value = co_await gen.next()) events->record("got ", *value, " at ", now());
}
}  // namespace

TEST_CASE("an async generator can await coroutines and futures between yields", "[async_generator]") {
    Events events;
    aio_test::run_virtual(awaits_inside(&events));
    REQUIRE(events.log == Log{"got 2 at 0", "future done at 2", "got 7 at 2"});
}

namespace {
aio::AsyncGenerator<int> reports_task(Events* events) {
    events->record("generator runs in the consumer's task: ",
                   aio::current_task() != nullptr && aio::current_task()->get_name() == "consumer");
    co_await aio::sleep(1);
    events->record("still after a sleep: ", aio::current_task()->get_name() == "consumer");
    co_yield 1;
}
aio::Coro<void> run_consumer_task(Events* events) {
    auto consumer = aio::create_task(consume_all(reports_task(events), events), "consumer");
    co_await consumer;
}
}  // namespace

TEST_CASE("an async generator's body runs in the consumer's task", "[async_generator]") {
    Events events;
    aio_test::run_virtual(run_consumer_task(&events));
    REQUIRE(events.log == Log{"generator runs in the consumer's task: 1", "still after a sleep: 1",
                              "got 1", "exhausted"});
}

namespace {
aio::AsyncGenerator<int> doubled(aio::AsyncGenerator<int> inner) {
    while (auto value = co_await inner.next()) co_yield *value * 2;
}
}  // namespace

TEST_CASE("an async generator can consume another one, suspending through both", "[async_generator]") {
    FrameLeakCheck frames;
    Events events;
    aio_test::run_virtual(consume_all(doubled(ticking(3, 1.0, &events)), &events));
    REQUIRE(events.log == Log{"yield 1 at 1", "got 2", "yield 2 at 2", "got 4", "yield 3 at 3", "got 6",
                              "exhausted"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> pull_one(aio::AsyncGenerator<int>* gen, Events* events) {
    auto value = co_await gen->next();
    events->record("first consumer got ", *value);
}

aio::Coro<void> second_consumer(Events* events) {
    auto gen = ticking(1, 1.0, events);
    auto first = aio::create_task(pull_one(&gen, events));
    co_await aio::sleep(0.5);
    try {
        auto second = gen.next();
        (void)second;
    } catch (const aio::RuntimeError& error) {
        events->record("second next(): ", error.what());
    }
    try {
        auto close = gen.aclose();
        (void)close;
    } catch (const aio::RuntimeError& error) {
        events->record("aclose(): ", error.what());
    }
    co_await first;
}
}  // namespace

TEST_CASE("next() while another next() is in flight raises RuntimeError", "[async_generator][errors]") {
    Events events;
    aio_test::run_virtual(second_consumer(&events));
    REQUIRE(events.log == Log{"second next(): anext(): asynchronous generator is already running",
                              "aclose(): aclose(): asynchronous generator is already running",
                              "yield 1 at 1", "first consumer got 1"});
}

namespace {
struct Tracked {
    int* copies;
    explicit Tracked(int* counter) : copies(counter) {}
    Tracked(const Tracked& other) : copies(other.copies) { ++*copies; }
    Tracked(Tracked&&) noexcept = default;
};

aio::AsyncGenerator<Tracked> lvalue_then_rvalue(int* copies) {
    Tracked kept(copies);
    co_yield kept;               // copied: the body still owns `kept`
    co_yield Tracked(copies);    // moved out: nobody else can see the temporary
    co_yield std::move(kept);    // moved out: the body said so
}

aio::Coro<void> count_copies(int* copies, Events* events) {
    auto gen = lvalue_then_rvalue(copies);
    while (auto value = co_await gen.next()) events->record("copies so far: ", *copies);
}
}  // namespace

TEST_CASE("a yielded lvalue is copied to the consumer, a yielded rvalue is moved", "[async_generator][values]") {
    int copies = 0;
    Events events;
    aio_test::run_virtual(count_copies(&copies, &events));
    REQUIRE(events.log == Log{"copies so far: 1", "copies so far: 1", "copies so far: 1"});
}

TEST_CASE("an async generator of move-only values hands each one out", "[async_generator][values]") {
    auto make = []() -> aio::AsyncGenerator<std::unique_ptr<int>> {
        for (int i = 1; i <= 3; ++i) co_yield std::make_unique<int>(i);
    };
    auto main = [](aio::AsyncGenerator<std::unique_ptr<int>> gen) -> aio::Coro<int> {
        int sum = 0;
        while (auto value = co_await gen.next()) sum += **value;
        co_return sum;
    };
    REQUIRE(aio_test::run_virtual(main(make())) == 6);
}

// --- aclose ----------------------------------------------------------------------------------

namespace {
aio::AsyncGenerator<int> with_async_cleanup(Events* events) {
    bool closing = false;
    try {
        for (int i = 1;; ++i) co_yield i;
    } catch (const aio::GeneratorExit&) {
        events->record("generator got GeneratorExit at ", now());
        closing = true;  // no co_await in a handler (C++20): clean up after it
    }
    if (closing) {
        co_await aio::sleep(2);
        events->record("async cleanup done at ", now());
    }
}

aio::Coro<void> close_after_one(Events* events) {
    auto gen = with_async_cleanup(events);
    auto first = co_await gen.next();
    events->record("got ", *first);
    co_await gen.aclose();
    events->record("aclose returned at ", now());
    auto after = co_await gen.next();
    events->record("next after aclose has value: ", after.has_value());
    co_await gen.aclose();
    events->record("second aclose did nothing");
}
}  // namespace

TEST_CASE("aclose() throws GeneratorExit at the co_yield and waits for the generator's async cleanup",
          "[async_generator][aclose]") {
    FrameLeakCheck frames;
    Events events;
    aio_test::run_virtual(close_after_one(&events));
    REQUIRE(events.log == Log{"got 1", "generator got GeneratorExit at 0", "async cleanup done at 2",
                              "aclose returned at 2", "next after aclose has value: 0",
                              "second aclose did nothing"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> close_unstarted(Events* events) {
    auto gen = count_to(3, events);
    co_await gen.aclose();
    auto after = co_await gen.next();
    events->record("next after aclose has value: ", after.has_value());
}
}  // namespace

TEST_CASE("aclose() on a generator that never started does not run its body", "[async_generator][aclose]") {
    Events events;
    aio_test::run_virtual(close_unstarted(&events));
    REQUIRE(events.log == Log{"next after aclose has value: 0"});
}

namespace {
aio::AsyncGenerator<int> ignores_exit(Events* events) {
    Guard guard{events, "generator guard"};
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
    events->record("next after aclose has value: ", after.has_value());
}
}  // namespace

TEST_CASE("aclose() raises RuntimeError when the generator yields after GeneratorExit",
          "[async_generator][aclose]") {
    FrameLeakCheck frames;
    Events events;
    aio_test::run_virtual(close_stubborn(&events));
    REQUIRE(events.log == Log{"got 1", "generator ignores GeneratorExit",
                              "aclose raised: async generator ignored GeneratorExit",
                              "next after aclose has value: 0", "generator guard destroyed"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::AsyncGenerator<int> fails_in_cleanup() {
    try {
        co_yield 1;
    } catch (const aio::GeneratorExit&) {
        throw std::runtime_error("cleanup failed");
    }
}

aio::Coro<void> close_failing(Events* events) {
    auto gen = fails_in_cleanup();
    auto first = co_await gen.next();
    (void)first;
    try {
        co_await gen.aclose();
    } catch (const std::runtime_error& error) {
        events->record("aclose raised: ", error.what());
    }
}
}  // namespace

TEST_CASE("aclose() rethrows an error the generator raises while closing", "[async_generator][aclose]") {
    Events events;
    aio_test::run_virtual(close_failing(&events));
    REQUIRE(events.log == Log{"aclose raised: cleanup failed"});
}

// --- frames ----------------------------------------------------------------------------------

namespace {
aio::AsyncGenerator<int> waits_forever(aio::Future<void> never, Events* events) {
    Guard guard{events, "generator guard"};
    co_await never;
    co_yield 1;
}

aio::Coro<void> consume_one(aio::AsyncGenerator<int> gen, Events* events) {
    auto value = co_await gen.next();
    events->record("unreachable: got ", value.has_value());
}

aio::Coro<void> start_and_leave(Events* events) {
    aio::Future<void> never(aio::get_running_loop());
    auto consumer = aio::create_task(consume_one(waits_forever(never, events), events));
    co_await aio::sleep(1);  // the consumer is now waiting inside the generator
    events->record("main returns");
}
}  // namespace

TEST_CASE("a pending consumer destroyed by the closing loop frees the generator suspended in an await",
          "[async_generator][frames]") {
    FrameLeakCheck frames;
    Events events;
    aio_test::StderrCapture err;
    {
        aio::VirtualTimeLoop loop;
        loop.run_until_complete(start_and_leave(&events));
        events.record("closing the loop");
    }
    REQUIRE(aio_test::count_occurrences(err.text(), "Task was destroyed but it is pending!") == 1);
    REQUIRE(events.log == Log{"main returns", "closing the loop", "generator guard destroyed"});
    REQUIRE(frames.leaked() == 0);
}
