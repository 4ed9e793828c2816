// Step 3: cancelling a gather cancels its children, and it ends with CancelledError.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "aio/wait_for.hpp"
#include "gather.hpp"
#include "lab06_support.hpp"

using lab_test::after;
using lab_test::Events;
using lab_test::fail_after;
using lab_test::Log;
using lab_test::now;
using lab_test::stubborn;

namespace {

aio::Coro<void> cancel_gather(Events* events) {
    aio::Task<int> quick = aio::create_task(after(events, "quick", 0.5, 1));
    auto gathering = lab::gather(quick, after(events, "a", 2, 2), after(events, "b", 3, 3));
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

TEST_CASE("cancelling the gather cancels the children not done and raises CancelledError",
          "[06][step3][gather][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(cancel_gather(&events));
    CHECK(events.log == Log{"quick starts @0", "a starts @0", "b starts @0", "quick returns 1 @0.5",
                            "cancel() returns 1 @1", "a cancelled(enough) @1", "b cancelled(enough) @1",
                            "gather raised CancelledError(enough) @1 cancel() now returns 0", "quick cancelled=0"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<int> await_gather(Events* events) {
    auto gathering = lab::gather(after(events, "a", 5, 1), after(events, "b", 5, 2));
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

TEST_CASE("cancelling the task that awaits a gather cancels the gather's children", "[06][step3][gather][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(cancel_awaiting_task(&events));
    // The aio task cancels the future it waits on, through aio::Waitable::cancel: your gather.
    CHECK(events.log == Log{"a starts @0", "b starts @0", "cancel() returns 1 @1", "a cancelled() @1",
                            "b cancelled() @1", "parent sees CancelledError @1", "parent cancelled=1 @1"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancel_collecting_gather(Events* events) {
    auto gathering = lab::gather(lab::return_exceptions, after(events, "a", 5, 1), stubborn(events, "b", 1, 2));
    aio::get_running_loop().call_later(1.0, [gathering]() mutable { gathering.cancel(); });
    try {
        co_await std::move(gathering);
        events->record("no error");
    } catch (const aio::CancelledError&) {
        events->record("gather raised CancelledError @", now());
    }
}
}  // namespace

TEST_CASE("a cancelled gather raises CancelledError after its children end, even with return_exceptions",
          "[06][step3][gather][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(cancel_collecting_gather(&events));
    // b swallows the cancellation and returns a second later: the gather waits for it, then
    // raises rather than returning outcomes (asyncio issue 32684).
    CHECK(events.log == Log{"a starts @0", "b starts @0", "a cancelled() @1", "b ignores the cancellation @1",
                            "b returns 2 @2", "gather raised CancelledError @2"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancel_after_failure(Events* events) {
    auto gathering = lab::gather(fail_after(events, "bad", 1, "boom"), after(events, "other", 3, 1));
    try {
        co_await gathering;
    } catch (const std::runtime_error&) {
        events->record("cancel() after the failure returns ", gathering.cancel(), " @", now());
    }
    co_await aio::sleep(5);
}
}  // namespace

TEST_CASE("cancelling a gather that already failed cancels nothing", "[06][step3][gather][cancel]") {
    Events events;
    lab_test::run_virtual(cancel_after_failure(&events));
    CHECK(events.log == Log{"bad starts @0", "other starts @0", "bad raises boom @1",
                            "cancel() after the failure returns 0 @1", "other returns 1 @3"});
}

namespace {
aio::Coro<void> nested_gathers(Events* events) {
    auto inner = lab::gather(after(events, "inner a", 5, 1), after(events, "inner b", 5, 2));
    auto outer = lab::gather(inner, after(events, "outer c", 5, 3));
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

TEST_CASE("cancelling a gather cancels the gathers inside it", "[06][step3][gather][cancel]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(nested_gathers(&events));
    CHECK(events.log == Log{"inner a starts @0", "inner b starts @0", "outer c starts @0", "inner a cancelled(stop) @1",
                            "inner b cancelled(stop) @1", "outer c cancelled(stop) @1",
                            "outer raised CancelledError(stop) @1", "inner done=1"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> gather_with_deadline(Events* events) {
    auto gathering = lab::gather(after(events, "a", 1, 1), after(events, "b", 5, 2));
    try {
        auto limited = aio::wait_for(gathering, 2.0);
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        events->record("wait_for raised TimeoutError @", now());
    }
}
}  // namespace

TEST_CASE("aio::wait_for on a gather cancels its children when the time is up",
          "[06][step3][gather][cancel][integration]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(gather_with_deadline(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "a returns 1 @1", "b cancelled() @2",
                            "wait_for raised TimeoutError @2"});
    CHECK(frames.leaked() == 0);
}
