// Step 4: aio tasks co_await a lab future. The future's state is an aio::Waitable, and its
// awaiter hands it to the running task (aio::detail::wait_in_current_task).
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "aio/sleep.hpp"
#include "aio/virtual_time_loop.hpp"
#include "aio/wait_for.hpp"
#include "future.hpp"
#include "lab03_support.hpp"

using lab_test::Events;
using lab_test::Log;

namespace {

// Coroutines take their parameters by value: a reference parameter would dangle once the
// caller's full-expression ends (and coroutine lambdas must not capture, see the GCC 12 notes).

aio::Coro<int> await_value(lab::Future<int> future) {
    int value = co_await future;
    co_return value;
}

aio::Coro<void> await_and_record(lab::Future<int> future, Events* events, std::string name) {
    int value = co_await future;
    events->record(name, " got ", value);
}

}  // namespace

TEST_CASE("an aio task awaits a lab future that a call_later completes", "[03][step4][await]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    loop.call_later(1.5, [future] { future.set_result(42); });
    CHECK(loop.run_until_complete(await_value(future)) == 42);
    CHECK(aio::to_seconds(loop.time()) == Approx(1.5));
}

TEST_CASE("an aio task awaiting a lab future gets the exception it finished with", "[03][step4][await]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    loop.call_later(1.0, [future] { future.set_exception(std::make_exception_ptr(std::out_of_range("late"))); });
    CHECK_THROWS_AS(loop.run_until_complete(await_value(future)), std::out_of_range);
}

TEST_CASE("awaiting a lab future that is already done does not suspend the task", "[03][step4][await]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> future(loop);
    future.set_result(5);
    auto main = [](lab::Future<int> done, Events* log, aio::EventLoop* on) -> aio::Coro<void> {
        on->call_soon([log] { log->record("other callback"); });
        int value = co_await done;  // ready: no trip through the loop
        log->record("got ", value);
    };
    loop.run_until_complete(main(future, &events, &loop));
    // Had the task suspended, the wake-up would have queued behind "other callback".
    CHECK(events.log == Log{"got 5", "other callback"});
}

TEST_CASE("aio tasks waiting on one lab future wake in the order they started waiting",
          "[03][step4][await]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> future(loop);
    auto first = aio::create_task(loop, await_and_record(future, &events, "first"));
    auto second = aio::create_task(loop, await_and_record(future, &events, "second"));
    loop.call_later(1.0, [future] { future.set_result(7); });
    loop.run_until_complete(second);
    loop.run_until_complete(first);
    CHECK(events.log == Log{"first got 7", "second got 7"});
}

TEST_CASE("cancelling the lab future raises CancelledError in the aio task that awaits it",
          "[03][step4][await][cancel]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    loop.call_later(1.0, [future] { future.cancel("no longer needed"); });
    auto task = aio::create_task(loop, await_value(future));
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(task.cancelled());
}

TEST_CASE("cancelling an aio task that awaits a lab future cancels the lab future",
          "[03][step4][await][cancel]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    auto task = aio::create_task(loop, await_value(future));
    loop.call_later(1.0, [task] { task.cancel("stop waiting"); });
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(future.cancelled());
    CHECK(future.cancel_message() == "stop waiting");
    CHECK(task.cancelled());
}

TEST_CASE("a move-only value is moved to the awaiting task", "[03][step4][await]") {
    aio::VirtualTimeLoop loop;
    lab::Future<std::unique_ptr<int>> future(loop);
    loop.call_later(0.5, [future] { future.set_result(std::make_unique<int>(8)); });
    auto main = [](lab::Future<std::unique_ptr<int>> pending) -> aio::Coro<int> {
        std::unique_ptr<int> value = co_await pending;
        co_return *value;
    };
    CHECK(loop.run_until_complete(main(future)) == 8);
}

TEST_CASE("aio::wait_for returns the value of a lab future that finishes in time",
          "[03][step4][await][integration]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    loop.call_later(1.0, [future] { future.set_result(3); });
    auto main = [](lab::Future<int> pending) -> aio::Coro<int> {
        aio::Coro<int> awaiting = await_value(pending);
        // Named locals, not co_await on a call's result: GCC 12 (see wait_for.hpp).
        aio::Coro<int> limited = aio::wait_for(std::move(awaiting), 5.0);
        co_return co_await std::move(limited);
    };
    CHECK(loop.run_until_complete(main(future)) == 3);
    CHECK(aio::to_seconds(loop.time()) == Approx(1.0));
}

TEST_CASE("aio::wait_for gives up on a lab future that is too slow and cancels it",
          "[03][step4][await][integration][cancel]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    auto main = [](lab::Future<int> pending) -> aio::Coro<int> {
        aio::Coro<int> awaiting = await_value(pending);
        // Named locals, not co_await on a call's result: GCC 12 (see wait_for.hpp).
        aio::Coro<int> limited = aio::wait_for(std::move(awaiting), 2.0);
        co_return co_await std::move(limited);
    };
    CHECK_THROWS_AS(loop.run_until_complete(main(future)), aio::TimeoutError);
    CHECK(future.cancelled());
    CHECK(aio::to_seconds(loop.time()) == Approx(2.0));
}

TEST_CASE("an aio task can await a lab future, then sleep, then await another",
          "[03][step4][await][integration]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> first(loop);
    lab::Future<int> second(loop);
    loop.call_later(1.0, [first] { first.set_result(1); });
    loop.call_later(4.0, [second] { second.set_result(2); });
    auto main = [](lab::Future<int> a, lab::Future<int> b, Events* log, aio::EventLoop* on) -> aio::Coro<void> {
        int x = co_await a;
        log->record("a=", x, " at ", aio::to_seconds(on->time()));
        co_await aio::sleep(1.0);
        log->record("slept until ", aio::to_seconds(on->time()));
        int y = co_await b;
        log->record("b=", y, " at ", aio::to_seconds(on->time()));
    };
    loop.run_until_complete(main(first, second, &events, &loop));
    CHECK(events.log == Log{"a=1 at 1", "slept until 2", "b=2 at 4"});
}

// aio::gather joined the runtime while this lab was written; the tests below need it.
#if __has_include("aio/gather.hpp")
#include "aio/gather.hpp"

TEST_CASE("aio::gather collects the values of lab futures awaited by coroutines",
          "[03][step4][await][integration]") {
    aio::VirtualTimeLoop loop;
    aio::set_event_loop(&loop);  // gather makes its tasks on aio::get_event_loop()
    std::vector<lab::Future<int>> futures{lab::Future<int>(loop), lab::Future<int>(loop), lab::Future<int>(loop)};
    loop.call_later(3.0, [f = futures[0]] { f.set_result(10); });
    loop.call_later(1.0, [f = futures[1]] { f.set_result(20); });
    loop.call_later(2.0, [f = futures[2]] { f.set_result(30); });
    std::vector<aio::Coro<int>> waiting;
    for (const auto& future : futures) waiting.push_back(await_value(future));
    auto gathering = aio::gather(std::move(waiting));
    std::vector<int> values = loop.run_until_complete(gathering);
    aio::set_event_loop(nullptr);
    CHECK(values == std::vector<int>{10, 20, 30});
    CHECK(aio::to_seconds(loop.time()) == Approx(3.0));
}

TEST_CASE("cancelling an aio::gather cancels the lab futures its children await",
          "[03][step4][await][integration][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::set_event_loop(&loop);
    lab::Future<int> first(loop);
    lab::Future<int> second(loop);
    auto gathering = aio::gather(await_value(first), await_value(second));
    loop.call_later(1.0, [gathering]() mutable { gathering.cancel(); });
    CHECK_THROWS_AS(loop.run_until_complete(gathering), aio::CancelledError);
    aio::set_event_loop(nullptr);
    CHECK(first.cancelled());
    CHECK(second.cancelled());
}
#endif
