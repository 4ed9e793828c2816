// aio::gather (asyncio.gather, Python 3.12), on the virtual-time loop: times in the event
// logs are loop seconds.
#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "aio/aio.hpp"
#include "test_support.hpp"

using aio_test::Events;
using Log = std::vector<std::string>;

namespace {

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

/// Sleeps `delay` seconds and returns `value`, recording each step (and a cancellation).
aio::Coro<int> after(Events* events, std::string name, double delay, int value) {
    events->record(name, " starts @", now());
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError& cancelled) {
        events->record(name, " cancelled(", cancelled.message(), ") @", now());
        throw;
    }
    events->record(name, " returns ", value, " @", now());
    co_return value;
}

/// Sleeps `delay` seconds, then throws std::runtime_error(what).
aio::Coro<int> fail_after(Events* events, std::string name, double delay, std::string what) {
    events->record(name, " starts @", now());
    co_await aio::sleep(delay);
    events->record(name, " raises ", what, " @", now());
    throw std::runtime_error(what);
}

/// Catches the first cancellation, sleeps `grace` more seconds, and returns `value` anyway.
aio::Coro<int> stubborn(Events* events, std::string name, double grace, int value) {
    events->record(name, " starts @", now());
    try {
        co_await aio::sleep(100);
    } catch (const aio::CancelledError&) {
        events->record(name, " ignores the cancellation @", now());
    }
    co_await aio::sleep(grace);
    events->record(name, " returns ", value, " @", now());
    co_return value;
}

aio::Coro<std::string> word(Events* events) {
    events->record("word starts @", now());
    co_await aio::sleep(2);
    co_return "two";
}

aio::Coro<void> nothing(Events* events) {
    events->record("nothing starts @", now());
    co_await aio::sleep(0);
}

int cancelling() { return aio::current_task()->cancelling(); }

/// A value that counts its copies, to show gather moves results.
struct Tracked {
    static inline int copies = 0;
    int value = 0;
    explicit Tracked(int v) : value(v) {}
    Tracked(const Tracked& other) : value(other.value) { ++copies; }
    Tracked(Tracked&&) noexcept = default;
    Tracked& operator=(const Tracked& other) {
        value = other.value;
        ++copies;
        return *this;
    }
    Tracked& operator=(Tracked&&) noexcept = default;
};

aio::Coro<Tracked> tracked(int value) {
    co_await aio::sleep(0);
    co_return Tracked(value);
}

}  // namespace

// --- results -------------------------------------------------------------------------------

namespace {
aio::Coro<void> gather_mixed(Events* events) {
    aio::Future<double> future;
    aio::Task<int> task = aio::create_task(after(events, "task", 3, 7));
    aio::get_running_loop().call_later(1.0, [future] { future.set_result(2.5); });
    auto gathering = aio::gather(after(events, "coro", 1.5, 1), word(events), nothing(events), future, task);
    static_assert(std::is_same_v<decltype(gathering),
                                 aio::GatheringFuture<std::tuple<int, std::string, aio::VoidResult, double, int>>>);
    auto [number, text, none, real, from_task] = co_await std::move(gathering);
    static_assert(std::is_same_v<decltype(none), aio::VoidResult>);
    events->record("results ", number, " ", text, " ", real, " ", from_task, " @", now());
}
}  // namespace

TEST_CASE("gather of different awaitables returns a tuple of their results in argument order", "[gather]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(gather_mixed(&events));
    // The task made before gather() starts first; the Coros become tasks in argument order.
    REQUIRE(events.log == Log{"task starts @0", "coro starts @0", "word starts @0", "nothing starts @0",
                              "coro returns 1 @1.5", "task returns 7 @3", "results 1 two 2.5 7 @3"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> gather_vector(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(after(events, "a", 3, 1));
    coros.push_back(after(events, "b", 1, 2));
    coros.push_back(after(events, "c", 2, 3));
    auto gathering = aio::gather(std::move(coros));
    std::vector<int> results = co_await std::move(gathering);
    events->record("results ", results[0], results[1], results[2], " @", now());
}
}  // namespace

TEST_CASE("gather of a vector returns results in argument order, not completion order", "[gather]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(gather_vector(&events));
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "c starts @0", "b returns 2 @1", "c returns 3 @2",
                              "a returns 1 @3", "results 123 @3"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> gather_nothing(Events* events) {
    auto empty_tuple = aio::gather();
    auto empty_vector = aio::gather(std::vector<aio::Task<int>>{});
    events->record("done at once: ", empty_tuple.done(), " ", empty_vector.done());
    std::tuple<> none = co_await std::move(empty_tuple);
    std::vector<int> results = co_await std::move(empty_vector);
    static_cast<void>(none);
    events->record("results: ", results.size(), " @", now());
}
}  // namespace

TEST_CASE("gather with nothing to gather is a future already done", "[gather]") {
    Events events;
    aio_test::run_virtual(gather_nothing(&events));
    REQUIRE(events.log == Log{"done at once: 1 1", "results: 0 @0"});
}

namespace {
aio::Coro<void> gather_done_futures(Events* events) {
    aio::Future<int> first;
    aio::Future<int> second;
    first.set_result(1);
    second.set_result(2);
    auto gathering = aio::gather(std::vector<aio::Future<int>>{first, second});
    events->record("done at once: ", gathering.done());
    std::vector<int> results = co_await std::move(gathering);
    events->record("results ", results[0], results[1]);
}
}  // namespace

TEST_CASE("gather of futures already done is done at once, as in Python 3.12", "[gather]") {
    Events events;
    aio_test::run_virtual(gather_done_futures(&events));
    REQUIRE(events.log == Log{"done at once: 1", "results 12"});
}

namespace {
aio::Coro<void> gather_twice(Events* events) {
    aio::Task<int> task = aio::create_task(after(events, "once", 1, 5));
    auto gathering = aio::gather(task, task);
    auto [first, second] = co_await std::move(gathering);
    events->record("results ", first, " ", second);
}
}  // namespace

TEST_CASE("a future given to gather twice runs once and its result appears twice", "[gather]") {
    Events events;
    aio_test::run_virtual(gather_twice(&events));
    REQUIRE(events.log == Log{"once starts @0", "once returns 5 @1", "results 5 5"});
}

// --- failures --------------------------------------------------------------------------------

namespace {
aio::Coro<void> first_error(Events* events) {
    auto gathering = aio::gather(after(events, "slow", 3, 1), fail_after(events, "bad", 1, "boom"),
                                 fail_after(events, "worse", 2, "bang"), after(events, "slower", 5, 2));
    try {
        co_await std::move(gathering);
    } catch (const std::runtime_error& error) {
        events->record("gather raised ", error.what(), " @", now());
    }
    co_await aio::sleep(10);  // the other children go on: they were not cancelled
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("the first child exception reaches the gather's awaiter at once and the others keep running",
          "[gather][error]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture err;
    aio_test::run_virtual(first_error(&events));
    // The later failure ("bang") was consumed by gather: nothing is reported as never retrieved.
    REQUIRE(err.text().empty());
    REQUIRE(events.log == Log{"slow starts @0", "bad starts @0", "worse starts @0", "slower starts @0",
                              "bad raises boom @1", "gather raised boom @1", "worse raises bang @2",
                              "slow returns 1 @3", "slower returns 2 @5", "main ends @11"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancelled_child(Events* events) {
    aio::Task<int> victim = aio::create_task(after(events, "victim", 5, 1));
    auto gathering = aio::gather(victim, after(events, "sibling", 3, 2));
    aio::get_running_loop().call_later(1.0, [victim] { victim.cancel("stop"); });
    try {
        co_await gathering;
    } catch (const aio::CancelledError& cancelled) {
        events->record("gather raised CancelledError(", cancelled.message(), ") @", now(),
                       " gather cancelled=", gathering.cancelled(), " main cancelling=", cancelling());
    }
    co_await aio::sleep(10);
    events->record("main ends @", now());
}
}  // namespace

TEST_CASE("a cancelled child makes gather raise CancelledError without cancelling the gather or its siblings",
          "[gather][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancelled_child(&events));
    REQUIRE(events.log == Log{"victim starts @0", "sibling starts @0", "victim cancelled(stop) @1",
                              "gather raised CancelledError(stop) @1 gather cancelled=0 main cancelling=0",
                              "sibling returns 2 @3", "main ends @11"});
    REQUIRE(frames.leaked() == 0);
}

// --- return_exceptions -----------------------------------------------------------------------

namespace {
aio::Coro<void> collect_everything(Events* events) {
    aio::Task<int> victim = aio::create_task(after(events, "victim", 5, 1));
    aio::get_running_loop().call_later(1.0, [victim] { victim.cancel("stop"); });
    auto gathering = aio::gather(aio::return_exceptions, after(events, "good", 3, 7),
                                 fail_after(events, "bad", 2, "boom"), victim, nothing(events));
    auto [good, bad, cancelled, none] = co_await std::move(gathering);
    static_assert(std::is_same_v<decltype(none), aio::Outcome<void>>);
    events->record("good: has_value=", good.has_value(), " value=", good.value());
    try {
        bad.value();
    } catch (const std::runtime_error& error) {
        events->record("bad: has_value=", bad.has_value(), " value() rethrows ", error.what());
    }
    events->record("victim: cancelled=", cancelled.cancelled(), " has_value=", cancelled.has_value());
    events->record("none: has_value=", none.has_value(), " @", now());
}
}  // namespace

TEST_CASE("gather with return_exceptions collects values, exceptions and cancellations in argument order",
          "[gather][error][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(collect_everything(&events));
    REQUIRE(events.log == Log{"victim starts @0", "good starts @0", "bad starts @0", "nothing starts @0",
                              "victim cancelled(stop) @1", "bad raises boom @2", "good returns 7 @3",
                              "good: has_value=1 value=7", "bad: has_value=0 value() rethrows boom",
                              "victim: cancelled=1 has_value=0", "none: has_value=1 @3"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> vector_outcomes(Events* events) {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(after(events, "a", 1, 1));
    coros.push_back(fail_after(events, "b", 2, "boom"));
    auto gathering = aio::gather(aio::return_exceptions, std::move(coros));
    std::vector<aio::Outcome<int>> outcomes = co_await std::move(gathering);
    events->record("a: ", outcomes[0].value(), " b failed: ", !outcomes[1], " @", now());
}
}  // namespace

TEST_CASE("gather of a vector with return_exceptions gives a vector of outcomes", "[gather][error]") {
    Events events;
    aio_test::run_virtual(vector_outcomes(&events));
    REQUIRE(events.log ==
            Log{"a starts @0", "b starts @0", "a returns 1 @1", "b raises boom @2", "a: 1 b failed: 1 @2"});
}

// --- cancelling the gather -------------------------------------------------------------------

namespace {
aio::Coro<void> cancel_gather(Events* events) {
    aio::Task<int> quick = aio::create_task(after(events, "quick", 0.5, 1));
    auto gathering = aio::gather(quick, after(events, "a", 2, 2), after(events, "b", 3, 3));
    aio::get_running_loop().call_later(1.0, [events, gathering]() mutable {
        events->record("cancel() returns ", gathering.cancel("enough"), " @", now());
    });
    try {
        co_await gathering;
    } catch (const aio::CancelledError& cancelled) {
        events->record("gather raised CancelledError(", cancelled.message(), ") @", now(),
                       " cancel() now returns ", gathering.cancel());
    }
    events->record("quick cancelled=", quick.cancelled());
}
}  // namespace

TEST_CASE("cancelling the gather cancels the children not done and raises CancelledError", "[gather][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancel_gather(&events));
    REQUIRE(events.log == Log{"quick starts @0", "a starts @0", "b starts @0", "quick returns 1 @0.5",
                              "cancel() returns 1 @1", "a cancelled(enough) @1", "b cancelled(enough) @1",
                              "gather raised CancelledError(enough) @1 cancel() now returns 0",
                              "quick cancelled=0"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<int> await_gather(Events* events) {
    auto gathering = aio::gather(after(events, "a", 5, 1), after(events, "b", 5, 2));
    try {
        auto [a, b] = co_await std::move(gathering);
        co_return a + b;
    } catch (const aio::CancelledError&) {
        events->record("parent sees CancelledError @", now());
        throw;
    }
}

aio::Coro<void> cancel_awaiting_task(Events* events) {
    aio::Task<int> parent = aio::create_task(await_gather(events));
    co_await aio::sleep(1);
    events->record("cancel() returns ", parent.cancel(), " @", now());
    try {
        co_await parent;
    } catch (const aio::CancelledError&) {
        events->record("parent cancelled=", parent.cancelled(), " @", now());
    }
}
}  // namespace

TEST_CASE("cancelling the task that awaits a gather cancels the gather's children", "[gather][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancel_awaiting_task(&events));
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "cancel() returns 1 @1", "a cancelled() @1",
                              "b cancelled() @1", "parent sees CancelledError @1", "parent cancelled=1 @1"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancel_collecting_gather(Events* events) {
    auto gathering = aio::gather(aio::return_exceptions, after(events, "a", 5, 1), stubborn(events, "b", 1, 2));
    aio::get_running_loop().call_later(1.0, [gathering]() mutable { gathering.cancel(); });
    try {
        co_await std::move(gathering);
        events->record("no error");
    } catch (const aio::CancelledError&) {
        events->record("gather raised CancelledError @", now());
    }
}
}  // namespace

TEST_CASE("a cancelled gather raises CancelledError after its children end even with return_exceptions",
          "[gather][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(cancel_collecting_gather(&events));
    // b swallows the cancellation and returns a second later: the gather still waits for
    // it, then raises (asyncio issue 32684), rather than returning outcomes.
    REQUIRE(events.log == Log{"a starts @0", "b starts @0", "a cancelled() @1", "b ignores the cancellation @1",
                              "b returns 2 @2", "gather raised CancelledError @2"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancel_after_failure(Events* events) {
    auto gathering = aio::gather(fail_after(events, "bad", 1, "boom"), after(events, "other", 3, 1));
    try {
        co_await gathering;
    } catch (const std::runtime_error&) {
        events->record("cancel() after the failure returns ", gathering.cancel(), " @", now());
    }
    co_await aio::sleep(5);
}
}  // namespace

TEST_CASE("cancelling a gather that already failed cancels nothing", "[gather][cancel]") {
    Events events;
    aio_test::run_virtual(cancel_after_failure(&events));
    REQUIRE(events.log == Log{"bad starts @0", "other starts @0", "bad raises boom @1",
                              "cancel() after the failure returns 0 @1", "other returns 1 @3"});
}

namespace {
aio::Coro<void> nested_gathers(Events* events) {
    auto inner = aio::gather(after(events, "inner a", 5, 1), after(events, "inner b", 5, 2));
    auto outer = aio::gather(inner, after(events, "outer c", 5, 3));
    aio::get_running_loop().call_later(1.0, [outer]() mutable { outer.cancel("stop"); });
    try {
        co_await std::move(outer);
    } catch (const aio::CancelledError& cancelled) {
        events->record("outer raised CancelledError(", cancelled.message(), ") @", now());
    }
    co_await aio::sleep(0);  // let the inner gather see its children's end
    events->record("inner done=", inner.done());
}
}  // namespace

TEST_CASE("cancelling a gather cancels the gathers inside it", "[gather][cancel]") {
    Events events;
    aio_test::FrameLeakCheck frames;
    aio_test::run_virtual(nested_gathers(&events));
    REQUIRE(events.log == Log{"inner a starts @0", "inner b starts @0", "outer c starts @0",
                              "inner a cancelled(stop) @1", "inner b cancelled(stop) @1",
                              "outer c cancelled(stop) @1", "outer raised CancelledError(stop) @1",
                              "inner done=1"});
    REQUIRE(frames.leaked() == 0);
}

// --- moving results ------------------------------------------------------------------------

namespace {
aio::Coro<int> gather_tracked() {
    std::vector<aio::Coro<Tracked>> coros;
    for (int i = 1; i <= 3; ++i) coros.push_back(tracked(i));
    auto gathering = aio::gather(std::move(coros));
    std::vector<Tracked> results = co_await std::move(gathering);
    co_return results[0].value + results[1].value + results[2].value;
}

aio::Coro<int> gather_shared_task() {
    aio::Task<Tracked> task = aio::create_task(tracked(5));
    auto gathering = aio::gather(task);
    auto [result] = co_await std::move(gathering);
    co_return result.value + task.result().value;  // the task still has its own value
}

aio::Coro<int> await_lvalue_gathering() {
    auto gathering = aio::gather(tracked(4));
    auto [result] = co_await gathering;
    co_return result.value + std::get<0>(gathering.result()).value;
}
}  // namespace

TEST_CASE("gather moves the results of tasks nobody else holds", "[gather]") {
    Tracked::copies = 0;
    REQUIRE(aio_test::run_virtual(gather_tracked()) == 6);
    REQUIRE(Tracked::copies == 0);
}

TEST_CASE("gather copies a result that another handle can still read", "[gather]") {
    Tracked::copies = 0;
    REQUIRE(aio_test::run_virtual(gather_shared_task()) == 10);
    REQUIRE(Tracked::copies == 1);
}

TEST_CASE("awaiting a gathering future by name copies its results and keeps them readable", "[gather]") {
    Tracked::copies = 0;
    REQUIRE(aio_test::run_virtual(await_lvalue_gathering()) == 8);
    REQUIRE(Tracked::copies == 1);
}

// --- misuse --------------------------------------------------------------------------------

namespace {
aio::Coro<void> foreign_future(Events* events, aio::EventLoop* other) {
    aio::Future<int> local;
    aio::Future<int> foreign(*other);
    try {
        auto gathering = aio::gather(local, foreign);
        events->record("no error");
    } catch (const aio::ValueError&) {
        events->record("ValueError");
    }
    co_return;
}
}  // namespace

TEST_CASE("gather refuses a future of another loop with ValueError", "[gather]") {
    Events events;
    aio::VirtualTimeLoop other;
    aio_test::run_virtual(foreign_future(&events, &other));
    REQUIRE(events.log == Log{"ValueError"});
}

// --- scale -----------------------------------------------------------------------------------

namespace {
aio::Coro<int> yield_then_return(int value) {
    co_await aio::sleep(0);
    co_return value;
}

aio::Coro<std::int64_t> gather_a_million() {
    constexpr int count = 1'000'000;
    std::vector<aio::Task<int>> tasks;
    tasks.reserve(count);
    for (int i = 0; i < count; ++i) tasks.push_back(aio::create_task(yield_then_return(i)));
    auto gathering = aio::gather(std::move(tasks));
    std::vector<int> results = co_await std::move(gathering);
    std::int64_t sum = 0;
    for (int value : results) sum += value;
    co_return sum;
}
}  // namespace

TEST_CASE("a million gathered tasks all run and their results add up", "[gather][scale]") {
    aio_test::FrameLeakCheck frames;
    REQUIRE(aio_test::run_virtual(gather_a_million()) == std::int64_t{999'999} * 1'000'000 / 2);
    REQUIRE(frames.leaked() == 0);
}
