// Hidden tests, lab 06: gather edge cases. Children already done, void and move-only
// results, several awaiters, nothing leaked when nobody holds the gather or the loop closes
// under it, errors of plain aio futures, cancelling plain futures and children already done.
// Times in the logs are virtual-time loop seconds.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <aio/aio.hpp>

#include "gather.hpp"
#include "hidden06_support.hpp"

using namespace hidden06;  // the shared helpers: Events, run_virtual, after, ...

// --- gather: results -------------------------------------------------------------------------

namespace {
aio::Coro<void> gather_done_futures(Events* events) {
    aio::Future<int> first;
    aio::Future<int> second;
    first.set_result(1);
    second.set_result(2);
    auto gathering = lab::gather(std::vector<aio::Future<int>>{first, second});
    // Counted when their nodes run, one loop iteration later: not done at once.
    events->record("done at once: ", gathering.done());
    std::vector<int> results = co_await std::move(gathering);
    events->record("results ", results[0], results[1], " @", now());
}
}  // namespace

TEST_CASE("gather of futures that are already done gives their results", "[06][step1][gather][hidden]") {
    Events events;
    run_virtual(gather_done_futures(&events));
    CHECK(events.log == Log{"done at once: 0", "results 12 @0"});
}

namespace {
aio::Coro<void> tick(Events* events, std::string name, double delay) {
    co_await aio::sleep(delay);
    events->record(name, " ticks @", now());
}

aio::Coro<void> gather_voids(Events* events) {
    std::vector<aio::Coro<void>> coros;
    coros.push_back(tick(events, "a", 2));
    coros.push_back(tick(events, "b", 1));
    auto gathering = lab::gather(std::move(coros));
    std::vector<lab::VoidResult> results = co_await std::move(gathering);
    events->record(results.size(), " void results @", now());
}
}  // namespace

TEST_CASE("gather of void coroutines gives one VoidResult per child", "[06][step1][gather][hidden]") {
    Events events;
    run_virtual(gather_voids(&events));
    CHECK(events.log == Log{"b ticks @1", "a ticks @2", "2 void results @2"});
}

namespace {
aio::Coro<std::unique_ptr<int>> boxed(int value) {
    co_await aio::sleep(0);
    co_return std::make_unique<int>(value);
}

aio::Coro<std::string> spelled(std::string text) {
    co_await aio::sleep(0);
    co_return text;
}

aio::Coro<void> gather_move_only(Events* events) {
    std::vector<aio::Coro<std::unique_ptr<int>>> coros;
    coros.push_back(boxed(4));
    coros.push_back(boxed(5));
    auto gathering = lab::gather(std::move(coros));
    std::vector<std::unique_ptr<int>> results = co_await std::move(gathering);
    events->record("boxes ", *results[0], *results[1]);
    // Tasks the caller still holds: the move-only result is moved out of its task, the
    // copyable one is copied, so that the task still gives it to whoever reads it again.
    aio::Task<std::unique_ptr<int>> box = aio::create_task(boxed(7));
    aio::Task<std::string> text = aio::create_task(spelled("a string longer than any small-string buffer"));
    auto mixed = lab::gather(box, text);
    auto [pointer, copy] = co_await std::move(mixed);
    events->record("gathered ", *pointer, " [", copy, "]; the tasks still hold: ",
                   box.result() == nullptr ? "no box" : "a box", " [", text.result(), "]");
}
}  // namespace

TEST_CASE("gather moves move-only results out of the children and copies the others", "[06][step1][gather][hidden]") {
    Events events;
    run_virtual(gather_move_only(&events));
    CHECK(events.log == Log{"boxes 45", "gathered 7 [a string longer than any small-string buffer]; the tasks still "
                                        "hold: no box [a string longer than any small-string buffer]"});
}

namespace {
aio::Coro<int> await_shared(lab::GatheringFuture<std::vector<int>> gathering) {
    std::vector<int> results = co_await gathering;
    co_return results[0] + results[1];
}

aio::Coro<int> two_awaiters() {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(quiet(2, 10));  // the last child in argument order finishes first
    coros.push_back(quiet(1, 20));
    auto gathering = lab::gather(std::move(coros));
    aio::Task<int> first = aio::create_task(await_shared(gathering));
    aio::Task<int> second = aio::create_task(await_shared(gathering));
    int a = co_await first;
    int b = co_await second;
    co_return a + b;
}
}  // namespace

TEST_CASE("two aio tasks awaiting one gathering future both get its results", "[06][step1][gather][hidden]") {
    CHECK(run_virtual(two_awaiters()) == 60);
}

namespace {
aio::Coro<void> drop_gathering(Events* events) {
    std::weak_ptr<int> watched;
    {
        // A child already done, whose value tells when the gather's state is freed.
        aio::Future<std::shared_ptr<int>> ready;
        auto value = std::make_shared<int>(7);
        watched = value;
        ready.set_result(std::move(value));
        auto gathering = lab::gather(after(events, "a", 1, 1), after(events, "b", 2, 2), ready);
    }  // nobody holds the gathering future any more
    co_await aio::sleep(3);
    events->record("main ends @", now(), ", the gather's state freed: ", watched.expired());
}
}  // namespace

TEST_CASE("a gather nobody holds still lets its children finish, and frees everything",
          "[06][step1][gather][leak][hidden]") {
    Events events;
    FrameLeakCheck frames;
    run_virtual(drop_gathering(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "a returns 1 @1", "b returns 2 @2",
                            "main ends @3, the gather's state freed: 1"});
    CHECK(frames.leaked() == 0);
}

namespace {
aio::Coro<void> leave_gather_pending(Events* events, std::weak_ptr<int>* watched) {
    // A child already done, whose value tells when the gather's state is freed.
    aio::Future<std::shared_ptr<int>> ready;
    auto value = std::make_shared<int>(7);
    *watched = value;
    ready.set_result(std::move(value));
    auto gathering = lab::gather(after(events, "a", 10, 1), ready, after(events, "b", 20, 2));
    co_await aio::sleep(1);
    events->record("main returns with the gather pending");
}
}  // namespace

TEST_CASE("a loop closed with a gather pending frees its children and the gather",
          "[06][step1][gather][leak][hidden]") {
    Events events;
    Reports reports;
    FrameLeakCheck frames;
    std::weak_ptr<int> watched;
    {
        aio::VirtualTimeLoop loop;
        reports.install(loop);
        loop.run_until_complete(leave_gather_pending(&events, &watched));
    }
    CHECK(events.log == Log{"a starts @0", "b starts @0", "main returns with the gather pending"});
    CHECK(frames.leaked() == 0);
    CHECK(watched.expired());
}

// --- gather: errors --------------------------------------------------------------------------

namespace {
aio::Coro<void> all_failing(Events* events) {
    auto gathering = lab::gather(lab::return_exceptions, fail_after(events, "x", 2, "one"),
                                 fail_after(events, "y", 1, "two"));
    auto [x, y] = co_await std::move(gathering);
    events->record("x failed=", !x.has_value(), " y failed=", !y.has_value(), " @", now());
}
}  // namespace

TEST_CASE("gather with return_exceptions waits for every child, even when all of them fail",
          "[06][step2][gather][error][hidden]") {
    Events events;
    run_virtual(all_failing(&events));
    CHECK(events.log == Log{"x starts @0", "y starts @0", "y raises two @1", "x raises one @2", "x failed=1 y failed=1 @2"});
}

namespace {
aio::Coro<void> cancelled_plain_future(Events* events) {
    aio::Future<int> plain;
    aio::get_running_loop().call_later(1.0, [plain]() mutable { plain.cancel("gone"); });
    auto gathering = lab::gather(plain, after(events, "other", 2, 1));
    try {
        co_await std::move(gathering);
    } catch (const aio::CancelledError& cancelled) {
        events->record("CancelledError(", cancelled.message(), ") @", now());
    }
    co_await aio::sleep(2);
}
}  // namespace

TEST_CASE("a plain aio future cancelled under a gather makes it raise CancelledError with its message",
          "[06][step2][gather][cancel][hidden]") {
    Events events;
    run_virtual(cancelled_plain_future(&events));
    CHECK(events.log == Log{"other starts @0", "CancelledError(gone) @1", "other returns 1 @2"});
}

namespace {
aio::Coro<void> error_of_a_future(Events* events) {
    aio::Future<int> plain;
    aio::get_running_loop().call_later(1.0, [plain] {
        plain.set_exception(std::make_exception_ptr(std::out_of_range("bad index")));
    });
    std::vector<aio::Future<int>> futures{plain, aio::create_task(after(events, "task", 3, 1))};
    auto gathering = lab::gather(futures);
    try {
        co_await std::move(gathering);
    } catch (const std::out_of_range& error) {
        events->record("out_of_range ", error.what(), " @", now());
    }
    co_await aio::sleep(3);
}
}  // namespace

TEST_CASE("gather raises the very exception type a plain aio future failed with",
          "[06][step2][gather][error][hidden]") {
    Events events;
    run_virtual(error_of_a_future(&events));
    CHECK(events.log == Log{"task starts @0", "out_of_range bad index @1", "task returns 1 @3"});
}

// --- gather: cancellation --------------------------------------------------------------------

namespace {
aio::Coro<void> cancel_plain_children(Events* events) {
    aio::Future<int> first;
    aio::Future<int> second;
    auto gathering = lab::gather(std::vector<aio::Future<int>>{first, second});
    events->record("cancel() returns ", gathering.cancel("halt"));
    events->record("children cancelled: ", first.cancelled(), " ", second.cancelled());
    try {
        co_await std::move(gathering);
    } catch (const aio::CancelledError& cancelled) {
        events->record("CancelledError(", cancelled.message(), ")");
    }
}
}  // namespace

TEST_CASE("cancelling a gather of plain aio futures cancels them at once", "[06][step3][gather][cancel][hidden]") {
    Events events;
    run_virtual(cancel_plain_children(&events));
    CHECK(events.log == Log{"cancel() returns 1", "children cancelled: 1 1", "CancelledError(halt)"});
}

namespace {
aio::Coro<void> cancel_counted_too_late(Events* events) {
    aio::Future<int> first;
    aio::Future<int> second;
    auto gathering = lab::gather(std::vector<aio::Future<int>>{first, second});
    first.set_result(1);
    second.set_result(2);
    // Both children are done, but their callbacks have not run: no child accepts the cancel.
    events->record("cancel() returns ", gathering.cancel());
    std::vector<int> results = co_await std::move(gathering);
    events->record("results ", results[0], results[1]);
}
}  // namespace

TEST_CASE("cancelling a gather whose children are all done cancels nothing and it still succeeds",
          "[06][step3][gather][cancel][hidden]") {
    Events events;
    run_virtual(cancel_counted_too_late(&events));
    CHECK(events.log == Log{"cancel() returns 0", "results 12"});
}

namespace {
aio::Coro<void> cancel_gathering_task_vector(Events* events) {
    std::vector<aio::Task<int>> tasks{spawn(events, "a", 2, 1), spawn(events, "b", 3, 2)};
    auto gathering = lab::gather(lab::return_exceptions, tasks);
    aio::get_running_loop().call_later(1.0, [gathering]() mutable { gathering.cancel("why"); });
    try {
        co_await std::move(gathering);
        events->record("no error");
    } catch (const aio::CancelledError& cancelled) {
        events->record("CancelledError(", cancelled.message(), ") @", now(), " tasks cancelled: ",
                       tasks[0].cancelled(), tasks[1].cancelled());
    }
}
}  // namespace

TEST_CASE("cancelling a gather with return_exceptions cancels its tasks with the message and raises",
          "[06][step3][gather][cancel][hidden]") {
    Events events;
    FrameLeakCheck frames;
    run_virtual(cancel_gathering_task_vector(&events));
    CHECK(events.log == Log{"a starts @0", "b starts @0", "a cancelled(why) @1", "b cancelled(why) @1",
                            "CancelledError(why) @1 tasks cancelled: 11"});
    CHECK(frames.leaked() == 0);
}
