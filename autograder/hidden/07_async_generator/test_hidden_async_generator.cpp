// Hidden tests, lab 07: edge cases of values, exceptions, awaits, cancellation and cleanup;
// pipelines of generators, several consumers, aio integration, stress and leak checks.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "async_generator.hpp"

namespace {

using Log = std::vector<std::string>;

struct Events {
    Log log;
    template <class... Parts>
    void record(const Parts&... parts) {
        std::ostringstream entry;
        (entry << ... << parts);
        log.push_back(entry.str());
    }
};

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

template <class T>
T run_virtual(aio::Coro<T> main) {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(std::move(main));
}

struct Guard {
    Events* events;
    std::string name;
    ~Guard() { events->record(name, " destroyed"); }
};

struct Boom : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Counts its live instances.
struct Counted {
    explicit Counted(int* live_, int value_) : live(live_), value(value_) { ++*live; }
    Counted(const Counted& other) : live(other.live), value(other.value) { ++*live; }
    Counted(Counted&& other) noexcept : live(other.live), value(other.value) { ++*live; }
    ~Counted() { --*live; }
    int* live;
    int value;
};

lab::AsyncGenerator<int> ticking(int n, double interval, Events* events, std::string name) {
    Guard guard{events, name};
    for (int i = 1; i <= n; ++i) {
        co_await aio::sleep(interval);
        co_yield i;
    }
}

}  // namespace

// --- values and exceptions ------------------------------------------------------------------

namespace {
lab::AsyncGenerator<Counted> counted_values(int* live) {
    for (int i = 0; i < 100; ++i) co_yield Counted(live, i);
    Counted kept(live, 100);
    co_yield kept;
}
aio::Coro<int> consume_counted(int* live, int* live_after_loop) {
    auto gen = counted_values(live);
    int sum = 0;
    while (auto value = co_await gen.next()) sum += value->value;
    // The body has ended and the consumer holds no value: the generator, still alive, must
    // not keep a (moved-from) copy of the last value it handed over.
    *live_after_loop = *live;
    co_return sum;
}
}  // namespace

TEST_CASE("every yielded value is destroyed once the consumer is done with it", "[07][step1][values][leak][hidden]") {
    int live = 0;
    int live_after_loop = -1;
    CHECK(run_virtual(consume_counted(&live, &live_after_loop)) == 5050);
    CHECK(live_after_loop == 0);
    CHECK(live == 0);
}

namespace {
lab::AsyncGenerator<int> cancels_itself() {
    co_yield 1;
    throw aio::CancelledError("from the body");
}
aio::Coro<void> consume_self_cancelling(Events* events) {
    auto gen = cancels_itself();
    while (auto value = co_await gen.next()) events->record("got ", *value);
    events->record("not reached");
}
}  // namespace

TEST_CASE("a CancelledError thrown by the body itself ends the consumer's task cancelled",
          "[07][step2][exception][cancel][hidden]") {
    Events events;
    aio::VirtualTimeLoop loop;
    aio::Task<void> consumer = aio::create_task(loop, consume_self_cancelling(&events));
    CHECK_THROWS_AS(loop.run_until_complete(consumer), aio::CancelledError);
    CHECK(consumer.cancelled());
    CHECK(events.log == Log{"got 1"});
}

namespace {
lab::AsyncGenerator<int> throws_with_guard(Events* events) {
    Guard guard{events, "guard"};
    co_yield 1;
    throw Boom("late");
}
aio::Coro<void> error_then_drop(Events* events, std::int64_t baseline) {
    {
        auto gen = throws_with_guard(events);
        try {
            while (auto value = co_await gen.next()) events->record("got ", *value);
        } catch (const Boom& error) {
            events->record("caught ", error.what());
        }
        events->record("generator frames alive: ", aio::live_coroutine_frames() - baseline - 1);
    }
    events->record("after drop: ", aio::live_coroutine_frames() - baseline - 1);
}
}  // namespace

TEST_CASE("a generator that threw runs its destructors at once and frees its frame with the generator",
          "[07][step4][exception][frames][hidden]") {
    Events events;
    const auto before = aio::live_coroutine_frames();
    run_virtual(error_then_drop(&events, aio::live_coroutine_frames()));
    CHECK(events.log == Log{"got 1", "guard destroyed", "caught late", "generator frames alive: 1", "after drop: 0"});
    CHECK(aio::live_coroutine_frames() == before);
}

// --- awaits ----------------------------------------------------------------------------------

namespace {
aio::Coro<int> compute(int value) {
    co_await aio::sleep(1);
    co_return value * 10;
}
lab::AsyncGenerator<int> awaits_tasks() {
    for (int i = 1; i <= 3; ++i) {
        aio::Task<int> task = aio::create_task(compute(i));
        const int value = co_await task;
        co_yield value;
    }
}
aio::Coro<void> consume_task_results(Events* events) {
    auto gen = awaits_tasks();
    while (auto value = co_await gen.next()) events->record("got ", *value, " @", now());
}
}  // namespace

TEST_CASE("a generator can await aio tasks it creates", "[07][step3][await][integration][hidden]") {
    Events events;
    run_virtual(consume_task_results(&events));
    CHECK(events.log == Log{"got 10 @1", "got 20 @2", "got 30 @3"});
}

namespace {
lab::AsyncGenerator<int> add_offset(lab::AsyncGenerator<int> inner, int offset) {
    while (auto value = co_await inner.next()) {
        co_await aio::sleep(0.5);
        co_yield *value + offset;
    }
}
aio::Coro<void> pipeline(Events* events) {
    auto gen = add_offset(add_offset(ticking(3, 1.0, events, "source"), 10), 100);
    while (auto value = co_await gen.next()) events->record("got ", *value, " @", now());
}
}  // namespace

TEST_CASE("a pipeline of three generators with awaits in each delivers every value in order and frees every frame",
          "[07][step3][await][frames][hidden]") {
    Events events;
    const auto before = aio::live_coroutine_frames();
    run_virtual(pipeline(&events));
    CHECK(events.log == Log{"got 111 @2", "got 112 @4", "got 113 @6", "source destroyed"});
    CHECK(aio::live_coroutine_frames() == before);
}

namespace {
aio::Coro<void> named_consumer(Events* events, std::string name, double interval) {
    auto gen = ticking(2, interval, events, name + " generator");
    while (auto value = co_await gen.next()) events->record(name, " got ", *value, " @", now());
}
aio::Coro<void> two_consumers(Events* events) {
    aio::Task<void> a = aio::create_task(named_consumer(events, "a", 1.0));
    aio::Task<void> b = aio::create_task(named_consumer(events, "b", 1.5));
    co_await a;
    co_await b;
}
}  // namespace

TEST_CASE("two consumer tasks with a generator each interleave by virtual time", "[07][step3][await][hidden]") {
    Events events;
    run_virtual(two_consumers(&events));
    CHECK(events.log == Log{"a got 1 @1", "b got 1 @1.5", "a got 2 @2", "a generator destroyed", "b got 2 @3",
                            "b generator destroyed"});
}

namespace {
aio::Coro<void> pull_and_report(lab::AsyncGenerator<int>* gen, Events* events) {
    auto value = co_await gen->next();
    events->record("first got ", *value);
}
aio::Coro<void> aclose_while_running(Events* events) {
    auto gen = ticking(1, 1.0, events, "generator");
    aio::Task<void> first = aio::create_task(pull_and_report(&gen, events));
    co_await aio::sleep(0.5);
    try {
        auto closing = gen.aclose();
        (void)closing;
        events->record("no error");
    } catch (const aio::RuntimeError& error) {
        events->record("aclose(): ", error.what());
    }
    co_await first;
}
}  // namespace

TEST_CASE("aclose() while a step is in flight raises RuntimeError", "[07][step5][aclose][errors][hidden]") {
    Events events;
    run_virtual(aclose_while_running(&events));
    CHECK(events.log == Log{"aclose(): aclose(): asynchronous generator is already running", "first got 1",
                            "generator destroyed"});
}

// --- cancellation and cleanup -----------------------------------------------------------

namespace {
aio::Coro<void> consumer_sleeps_between(Events* events) {
    auto gen = ticking(10, 0.5, events, "generator");
    while (auto value = co_await gen.next()) {
        events->record("got ", *value, " @", now());
        co_await aio::sleep(10);  // the consumer is cancelled here, outside the generator
    }
}
aio::Coro<void> cancel_between_values(Events* events) {
    aio::Task<void> consumer = aio::create_task(consumer_sleeps_between(events));
    co_await aio::sleep(2);
    consumer.cancel();
    try {
        co_await consumer;
    } catch (const aio::CancelledError&) {
        events->record("consumer cancelled @", now());
    }
}
}  // namespace

TEST_CASE("a consumer cancelled between two next() calls destroys the generator suspended at its yield",
          "[07][step4][cancel][hidden]") {
    Events events;
    const auto before = aio::live_coroutine_frames();
    run_virtual(cancel_between_values(&events));
    CHECK(events.log == Log{"got 1 @0.5", "generator destroyed", "consumer cancelled @2"});
    CHECK(aio::live_coroutine_frames() == before);
}

namespace {
lab::AsyncGenerator<int> catches_once(Events* events) {
    Guard guard{events, "generator guard"};
    bool cancelled = false;
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) {
        events->record("first cancel caught @", now());
        aio::current_task()->uncancel();
    }
    co_yield 42;
    co_await aio::sleep(10);
    events->record("not reached");
    co_yield 43;
}
aio::Coro<void> consume_catcher(Events* events) {
    auto gen = catches_once(events);
    while (auto value = co_await gen.next()) events->record("got ", *value, " @", now());
}
aio::Coro<void> cancel_twice(Events* events) {
    aio::Task<void> consumer = aio::create_task(consume_catcher(events));
    co_await aio::sleep(1);
    consumer.cancel();
    co_await aio::sleep(1);
    consumer.cancel();
    try {
        co_await consumer;
    } catch (const aio::CancelledError&) {
        events->record("consumer cancelled @", now());
    }
}
}  // namespace

TEST_CASE("a generator that caught one cancellation still gets the next one at its next await",
          "[07][step4][cancel][hidden]") {
    Events events;
    run_virtual(cancel_twice(&events));
    CHECK(events.log == Log{"first cancel caught @1", "got 42 @1", "generator guard destroyed", "consumer cancelled @2"});
}

namespace {
lab::AsyncGenerator<int> awaits_future(aio::Future<int> future) {
    const int value = co_await future;
    co_yield value;
}
aio::Coro<void> consume_future_generator(aio::Future<int> future) {
    auto gen = awaits_future(future);
    while (auto value = co_await gen.next()) {
    }
}
aio::Coro<void> cancel_future_consumer(Events* events) {
    aio::Future<int> future(aio::get_running_loop());
    aio::Task<void> consumer = aio::create_task(consume_future_generator(future));
    co_await aio::sleep(1);
    consumer.cancel("enough");
    try {
        co_await consumer;
    } catch (const aio::CancelledError&) {
    }
    events->record("future cancelled=", future.cancelled(), " message '", future.cancel_message(), "'");
}
}  // namespace

TEST_CASE("cancelling the consumer cancels the aio future the generator awaits", "[07][step4][cancel][integration][hidden]") {
    Events events;
    run_virtual(cancel_future_consumer(&events));
    CHECK(events.log == Log{"future cancelled=1 message 'enough'"});
}

namespace {
lab::AsyncGenerator<int> guarded_layer(lab::AsyncGenerator<int> inner, Events* events, std::string name) {
    Guard guard{events, name};
    while (auto value = co_await inner.next()) co_yield *value;
}
aio::Coro<void> consume_layers(Events* events) {
    auto gen = guarded_layer(guarded_layer(ticking(5, 1.0, events, "innermost"), events, "middle"), events, "outer");
    while (auto value = co_await gen.next()) events->record("got ", *value);
}
aio::Coro<void> cancel_layers(Events* events) {
    aio::Task<void> consumer = aio::create_task(consume_layers(events));
    co_await aio::sleep(1.5);
    consumer.cancel();
    try {
        co_await consumer;
    } catch (const aio::CancelledError&) {
        events->record("consumer cancelled");
    }
}
}  // namespace

TEST_CASE("cancelling a consumer of nested generators unwinds them innermost first", "[07][step4][cancel][hidden]") {
    Events events;
    const auto before = aio::live_coroutine_frames();
    run_virtual(cancel_layers(&events));
    CHECK(events.log == Log{"got 1", "innermost destroyed", "middle destroyed", "outer destroyed", "consumer cancelled"});
    CHECK(aio::live_coroutine_frames() == before);
}

namespace {
aio::Coro<std::string> next_after_move() {
    auto original = ticking(1, 1.0, nullptr, "unused");
    lab::AsyncGenerator<int> moved = std::move(original);
    try {
        auto never = original.next();  // NOLINT(bugprone-use-after-move): the contract under test
        (void)never;
    } catch (const aio::RuntimeError&) {
        co_return "RuntimeError";
    }
    co_return "no error";
}
}  // namespace

TEST_CASE("next() of a moved-from generator throws RuntimeError", "[07][step4][move][hidden]") {
    // The moved-from generator's guard would record into a null Events: it never runs.
    CHECK(run_virtual(next_after_move()) == "RuntimeError");
}

namespace {
aio::Coro<void> self_assign(Events* events) {
    auto gen = ticking(2, 1.0, events, "generator");
    auto first = co_await gen.next();
    lab::AsyncGenerator<int>* alias = &gen;
    gen = std::move(*alias);  // self-move through an alias: must keep the frame
    auto second = co_await gen.next();
    events->record("got ", *first, " then ", second ? *second : -1);
}
}  // namespace

TEST_CASE("move-assigning a generator to itself keeps its frame", "[07][step4][move][hidden]") {
    Events events;
    run_virtual(self_assign(&events));
    CHECK(events.log == Log{"got 1 then 2", "generator destroyed"});
}

TEST_CASE("aclose() of an empty generator does nothing", "[07][step5][aclose][hidden]") {
    auto main = []() -> aio::Coro<int> {
        lab::AsyncGenerator<int> empty;
        co_await empty.aclose();
        co_return 1;
    };
    CHECK(run_virtual(main()) == 1);
}

// --- stress ------------------------------------------------------------------------------

namespace {
aio::Coro<int> consumer_of_ticks(Events* events, int id) {
    auto gen = ticking(5, 0.001 * (id % 7 + 1), events, "g");
    int sum = 0;
    while (auto value = co_await gen.next()) sum += *value;
    co_return sum;
}
aio::Coro<int> many_consumers(Events* events) {
    std::vector<aio::Task<int>> consumers;
    for (int id = 0; id < 1000; ++id) consumers.push_back(aio::create_task(consumer_of_ticks(events, id)));
    int total = 0;
    for (auto& consumer : consumers) total += co_await consumer;
    co_return total;
}
}  // namespace

TEST_CASE("1000 consumer tasks, each with a sleeping generator, all finish and free every frame",
          "[07][step3][await][stress][hidden]") {
    Events events;
    const auto before = aio::live_coroutine_frames();
    CHECK(run_virtual(many_consumers(&events)) == 1000 * 15);
    CHECK(events.log.size() == 1000);
    CHECK(aio::live_coroutine_frames() == before);
}
