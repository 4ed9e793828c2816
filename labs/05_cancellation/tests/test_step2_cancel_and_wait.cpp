// Step 2: cancel() only asks. lab::cancel_and_wait cancels a future or task and returns once
// it has really stopped, while its own caller stays promptly cancellable.
#include <catch2/catch.hpp>

#include <string>

#include "aio/aio.hpp"
#include "cancellation.hpp"
#include "lab05_support.hpp"

using lab_test::Events;
using lab_test::Log;
using lab_test::now;

namespace {

aio::Coro<void> stop_a_slow_task(Events* events) {
    aio::Task<int> task = aio::create_task(lab_test::slow_to_cancel(events, 10, 3));
    co_await aio::sleep(1);
    aio::Coro<void> stopping = lab::cancel_and_wait(aio::Future<int>(task));
    co_await std::move(stopping);
    events->record("cancel_and_wait returned @", now(), ", task cancelled=", task.cancelled());
}

}  // namespace

TEST_CASE("cancel_and_wait returns only after the cancelled task has finished its clean-up",
          "[05][step2][cancel_and_wait]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(stop_a_slow_task(&events));
    CHECK(events.log == Log{"task cancelled @1", "task cleanup done @4", "cancel_and_wait returned @4, task cancelled=1"});
    CHECK(frames.leaked() == 0);
}

namespace {

aio::Coro<int> report_cancel_message(Events* events) {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError& error) {
        events->record("task got CancelledError '", error.message(), "'");
        throw;
    }
    co_return 0;
}

aio::Coro<void> cancel_with_message(Events* events) {
    aio::Task<int> task = aio::create_task(report_cancel_message(events));
    co_await aio::sleep(1);
    aio::Coro<void> stopping = lab::cancel_and_wait(aio::Future<int>(task), "shutting down");
    co_await std::move(stopping);
    events->record("task cancel message '", task.cancel_message(), "'");
}

}  // namespace

TEST_CASE("cancel_and_wait passes its message to the cancelled task", "[05][step2][cancel_and_wait]") {
    Events events;
    lab_test::run_virtual(cancel_with_message(&events));
    CHECK(events.log == Log{"task got CancelledError 'shutting down'", "task cancel message 'shutting down'"});
}

namespace {

aio::Coro<void> stop_a_stubborn_task(Events* events) {
    aio::Task<int> task = aio::create_task(lab_test::return_when_cancelled(events, 10, 7));
    co_await aio::sleep(1);
    aio::Coro<void> stopping = lab::cancel_and_wait(aio::Future<int>(task));
    co_await std::move(stopping);
    events->record("returned @", now(), ", task gave ", task.result(), ", cancelled=", task.cancelled());
}

}  // namespace

TEST_CASE("cancel_and_wait returns once a task that swallows the cancellation has finished with its value",
          "[05][step2][cancel_and_wait]") {
    Events events;
    lab_test::run_virtual(stop_a_stubborn_task(&events));
    CHECK(events.log == Log{"inner swallows the cancellation @1", "returned @1, task gave 7, cancelled=0"});
}

namespace {

aio::Coro<void> stop_plain_futures(Events* events) {
    aio::Future<int> pending;
    aio::Coro<void> first = lab::cancel_and_wait(pending);
    co_await std::move(first);
    events->record("pending future: cancelled=", pending.cancelled(), " @", now());

    aio::Future<int> done;
    done.set_result(3);
    aio::Coro<void> second = lab::cancel_and_wait(done);
    co_await std::move(second);
    events->record("done future: cancelled=", done.cancelled(), ", result ", done.result());
}

}  // namespace

TEST_CASE("cancel_and_wait cancels a pending future and leaves a done one alone", "[05][step2][cancel_and_wait]") {
    Events events;
    lab_test::run_virtual(stop_plain_futures(&events));
    CHECK(events.log == Log{"pending future: cancelled=1 @0", "done future: cancelled=0, result 3"});
}

namespace {

aio::Coro<void> wait_for_the_stop(Events* events, aio::Task<int> slow) {
    try {
        aio::Coro<void> stopping = lab::cancel_and_wait(aio::Future<int>(slow));
        co_await std::move(stopping);
        events->record("not reached");
    } catch (const aio::CancelledError&) {
        events->record("caller: CancelledError @", now(), ", task cancelling=", slow.cancelling(),
                       ", task done=", slow.done());
        throw;
    }
}

aio::Coro<void> cancel_the_waiting_caller(Events* events) {
    aio::Task<int> slow = aio::create_task(lab_test::slow_to_cancel(events, 10, 3));
    co_await aio::sleep(1);
    aio::Task<void> caller = aio::create_task(wait_for_the_stop(events, slow));
    co_await aio::sleep(1);
    caller.cancel();
    try {
        co_await caller;
    } catch (const aio::CancelledError&) {
        events->record("main: caller ended cancelled @", now());
    }
    try {
        co_await slow;
    } catch (const aio::CancelledError&) {
        events->record("main: task ended cancelled @", now());
    }
}

}  // namespace

TEST_CASE("cancelling the caller of cancel_and_wait ends its wait at once without cancelling the task again",
          "[05][step2][cancel_and_wait]") {
    Events events;
    lab_test::run_virtual(cancel_the_waiting_caller(&events));
    CHECK(events.log == Log{"task cancelled @1", "caller: CancelledError @2, task cancelling=1, task done=0",
                            "main: caller ended cancelled @2", "task cleanup done @4",
                            "main: task ended cancelled @4"});
}

namespace {

aio::Coro<void> stop_before_start(Events* events) {
    aio::Task<int> task = aio::create_task(lab_test::inner(events, 1, 1));
    aio::Coro<void> stopping = lab::cancel_and_wait(aio::Future<int>(task));
    co_await std::move(stopping);
    events->record("task cancelled=", task.cancelled(), " @", now());
}

}  // namespace

TEST_CASE("cancel_and_wait on a task that has not started ends it before its body runs",
          "[05][step2][cancel_and_wait]") {
    Events events;
    lab_test::FrameLeakCheck frames;
    lab_test::run_virtual(stop_before_start(&events));
    CHECK(events.log == Log{"task cancelled=1 @0"});
    CHECK(frames.leaked() == 0);
}
