// aio::Future<T>: three states, a value or an exception set once, done callbacks always
// scheduled through the loop, and asyncio's report of an exception nobody retrieved.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

using aio_test::Events;

namespace {

std::exception_ptr runtime_error(const char* what) {
    return std::make_exception_ptr(std::runtime_error(what));
}

}  // namespace

// --- states -------------------------------------------------------------------------------

TEST_CASE("a new future is pending", "[future][state]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    REQUIRE_FALSE(future.done());
    REQUIRE_FALSE(future.cancelled());
    REQUIRE(&future.get_loop() == &loop);
}

TEST_CASE("set_result makes the future done with that value", "[future][state]") {
    aio::VirtualTimeLoop loop;
    aio::Future<std::string> future(loop);
    future.set_result("value");
    REQUIRE(future.done());
    REQUIRE_FALSE(future.cancelled());
    REQUIRE(future.result() == "value");
    REQUIRE(future.exception() == nullptr);
}

TEST_CASE("a Future<void> finishes with set_result()", "[future][state]") {
    aio::VirtualTimeLoop loop;
    aio::Future<void> future(loop);
    future.set_result();
    REQUIRE(future.done());
    REQUIRE_NOTHROW(future.result());
}

TEST_CASE("set_exception makes result() rethrow it and exception() return it", "[future][state]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    future.set_exception(runtime_error("failed"));
    REQUIRE(future.done());
    REQUIRE_FALSE(future.cancelled());
    REQUIRE_THROWS_WITH(future.result(), "failed");
    REQUIRE_THROWS_AS(std::rethrow_exception(future.exception()), std::runtime_error);
}

TEST_CASE("copies of a future refer to the same future", "[future][state]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    aio::Future<int> copy = future;
    copy.set_result(4);
    REQUIRE(future.done());
    REQUIRE(future.result() == 4);
    REQUIRE(future == copy);
    REQUIRE_FALSE(future == aio::Future<int>(loop));
}

TEST_CASE("finishing a future twice raises InvalidStateError", "[future][state]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    SECTION("set_result after set_result") {
        future.set_result(1);
        REQUIRE_THROWS_AS(future.set_result(2), aio::InvalidStateError);
        REQUIRE(future.result() == 1);
    }
    SECTION("set_exception after set_result") {
        future.set_result(1);
        REQUIRE_THROWS_AS(future.set_exception(runtime_error("late")), aio::InvalidStateError);
        REQUIRE(future.result() == 1);
    }
    SECTION("set_result after set_exception") {
        future.set_exception(runtime_error("first"));
        REQUIRE_THROWS_AS(future.set_result(2), aio::InvalidStateError);
        REQUIRE_THROWS_WITH(future.result(), "first");
    }
    SECTION("set_result after cancel") {
        future.cancel();
        REQUIRE_THROWS_AS(future.set_result(2), aio::InvalidStateError);
        REQUIRE(future.cancelled());
    }
}

TEST_CASE("result() and exception() of a pending future raise InvalidStateError",
          "[future][state]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    REQUIRE_THROWS_AS(future.result(), aio::InvalidStateError);
    REQUIRE_THROWS_AS(future.exception(), aio::InvalidStateError);
}

TEST_CASE("cancel() makes the future cancelled and result() raise CancelledError with the message",
          "[future][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    REQUIRE(future.cancel("stop it"));
    REQUIRE(future.done());
    REQUIRE(future.cancelled());
    REQUIRE(future.cancel_message() == "stop it");
    try {
        future.result();
        FAIL("result() did not throw");
    } catch (const aio::CancelledError& error) {
        REQUIRE(error.message() == "stop it");
    }
    REQUIRE_THROWS_AS(future.exception(), aio::CancelledError);
}

TEST_CASE("cancel() of a done future returns false and changes nothing", "[future][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    future.set_result(3);
    REQUIRE_FALSE(future.cancel());
    REQUIRE_FALSE(future.cancelled());
    REQUIRE(future.result() == 3);
}

TEST_CASE("a CancelledError is not an aio::Error, so catching errors never swallows it",
          "[future][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    future.cancel();
    bool caught_as_error = false;
    bool caught_as_cancelled = false;
    try {
        future.result();
    } catch (const aio::Error&) {
        caught_as_error = true;
    } catch (const aio::CancelledError&) {
        caught_as_cancelled = true;
    }
    REQUIRE_FALSE(caught_as_error);
    REQUIRE(caught_as_cancelled);
}

TEST_CASE("a future made without a loop uses the one set with set_event_loop", "[future][loop]") {
    aio::VirtualTimeLoop loop;
    aio::set_event_loop(&loop);
    aio::Future<int> future;
    aio::set_event_loop(nullptr);
    REQUIRE(&future.get_loop() == &loop);
    REQUIRE_THROWS_AS(aio::Future<int>(), aio::RuntimeError);
}

// --- done callbacks -----------------------------------------------------------------------

TEST_CASE("done callbacks are scheduled through the loop, never run inline", "[future][callbacks]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    Events events;
    future.add_done_callback([&events] { events.record("callback"); });
    future.set_result(1);
    events.record("after set_result");
    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"after set_result", "callback"});
}

TEST_CASE("done callbacks run in registration order, each as its own ready callback",
          "[future][callbacks]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    Events events;
    loop.call_soon([&events] { events.record("ready before"); });
    for (int i = 1; i <= 3; ++i) future.add_done_callback([&events, i] { events.record("callback ", i); });
    future.set_result(1);
    loop.call_soon([&events] { events.record("ready after"); });
    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"ready before", "callback 1", "callback 2",
                                                   "callback 3", "ready after"});
}

TEST_CASE("done callbacks run for every way of finishing", "[future][callbacks]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    bool ran = false;
    future.add_done_callback([&ran] { ran = true; });
    SECTION("set_result") { future.set_result(1); }
    SECTION("set_exception") {
        future.set_exception(runtime_error("x"));
        (void)future.exception();
    }
    SECTION("cancel") { future.cancel(); }
    loop.run_once();
    REQUIRE(ran);
}

TEST_CASE("a done callback may take the future as its argument", "[future][callbacks]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    int seen = 0;
    future.add_done_callback([&seen](const aio::Future<int>& done) { seen = done.result(); });
    future.set_result(11);
    loop.run_once();
    REQUIRE(seen == 11);
}

TEST_CASE("remove_done_callback unregisters a callback that was not scheduled yet",
          "[future][callbacks]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    Events events;
    future.add_done_callback([&events] { events.record("kept 1"); });
    aio::DoneCallbackToken removed = future.add_done_callback([&events] { events.record("removed"); });
    future.add_done_callback([&events] { events.record("kept 2"); });
    REQUIRE(future.remove_done_callback(removed) == 1);
    REQUIRE(future.remove_done_callback(removed) == 0);
    future.set_result(1);
    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"kept 1", "kept 2"});
}

TEST_CASE("remove_done_callback frees the callback and what it captured", "[future][callbacks]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    auto captured = std::make_shared<int>(0);
    aio::DoneCallbackToken token = future.add_done_callback([captured] {});
    REQUIRE(captured.use_count() == 2);
    future.remove_done_callback(token);
    REQUIRE(captured.use_count() == 1);
}

TEST_CASE("a callback added after the future is done is scheduled, not run inline",
          "[future][callbacks]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    future.set_result(1);
    bool ran = false;
    future.add_done_callback([&ran] { ran = true; });
    REQUIRE_FALSE(ran);
    loop.run_once();
    REQUIRE(ran);
}

TEST_CASE("a done callback that throws is reported and the next callbacks still run",
          "[future][callbacks][errors]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    Events events;
    loop.set_exception_handler([&events](aio::EventLoop&, const aio::ExceptionContext& context) {
        events.record("reported: ", aio::describe_exception(context.exception));
    });
    future.add_done_callback([] { throw std::runtime_error("callback failed"); });
    future.add_done_callback([&events] { events.record("second callback"); });
    future.set_result(1);
    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"reported: std::runtime_error: callback failed",
                                                   "second callback"});
}

TEST_CASE("a future dropped while pending frees its callbacks", "[future][callbacks]") {
    aio::VirtualTimeLoop loop;
    auto captured = std::make_shared<int>(0);
    {
        aio::Future<int> future(loop);
        future.add_done_callback([captured] {});
        future.add_done_callback([captured](const aio::Future<int>&) {});
        REQUIRE(captured.use_count() == 3);
    }
    REQUIRE(captured.use_count() == 1);
}

TEST_CASE("a future whose handles are dropped stays alive until its callbacks ran",
          "[future][callbacks]") {
    aio::VirtualTimeLoop loop;
    int seen = 0;
    {
        aio::Future<int> future(loop);
        future.add_done_callback([&seen](const aio::Future<int>& done) { seen = done.result(); });
        future.set_result(8);
    }
    loop.run_once();
    REQUIRE(seen == 8);
}

// --- awaiting -----------------------------------------------------------------------------

namespace {
aio::Coro<int> await_future(aio::Future<int> future) { co_return co_await future; }
aio::Coro<std::unique_ptr<int>> await_unique(aio::Future<std::unique_ptr<int>> future) {
    co_return co_await future;
}
}  // namespace

TEST_CASE("co_await of a future returns its value once it is set", "[future][await]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    loop.call_later(1.0, [future] { future.set_result(21); });
    REQUIRE(loop.run_until_complete(await_future(future)) == 21);
    REQUIRE(loop.time() == aio::TimePoint(std::chrono::seconds(1)));
}

TEST_CASE("co_await of a done future returns at once", "[future][await]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    future.set_result(5);
    REQUIRE(loop.run_until_complete(await_future(future)) == 5);
}

TEST_CASE("co_await of a failed future rethrows its exception", "[future][await]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    loop.call_soon([future] { future.set_exception(runtime_error("await me")); });
    REQUIRE_THROWS_WITH(loop.run_until_complete(await_future(future)), "await me");
}

TEST_CASE("co_await of a cancelled future raises CancelledError", "[future][await][cancel]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    loop.call_soon([future]() mutable { future.cancel("gone"); });
    REQUIRE_THROWS_AS(loop.run_until_complete(await_future(future)), aio::CancelledError);
}

TEST_CASE("co_await of a future with a move-only value moves it to the awaiter", "[future][await]") {
    aio::VirtualTimeLoop loop;
    aio::Future<std::unique_ptr<int>> future(loop);
    loop.call_soon([future] { future.set_result(std::make_unique<int>(6)); });
    std::unique_ptr<int> value = loop.run_until_complete(await_unique(future));
    REQUIRE(value);
    REQUIRE(*value == 6);
}

TEST_CASE("co_await of a future outside a task raises RuntimeError", "[future][await]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    aio::Coro<int> coro = await_future(future);
    // Resumed by hand, outside any task: the awaiter refuses to suspend.
    auto frame = coro.release();
    frame.resume();
    REQUIRE(frame.done());
    REQUIRE_THROWS_AS(frame.promise().take_result(), aio::RuntimeError);
    frame.destroy();
}

// --- reports ------------------------------------------------------------------------------

TEST_CASE("a failed future dropped unobserved reports 'exception was never retrieved'",
          "[future][report]") {
    aio::VirtualTimeLoop loop;
    aio_test::StderrCapture err;
    {
        aio::Future<int> future(loop);
        future.set_exception(runtime_error("nobody looked"));
    }
    const std::string text = err.text();
    REQUIRE(aio_test::count_occurrences(text, "Future exception was never retrieved") == 1);
    REQUIRE_THAT(text, Catch::Contains("nobody looked"));
}

TEST_CASE("a failed future whose exception was retrieved is not reported", "[future][report]") {
    aio::VirtualTimeLoop loop;
    aio_test::StderrCapture err;
    {
        aio::Future<int> future(loop);
        future.set_exception(runtime_error("looked at"));
        SECTION("through result()") { REQUIRE_THROWS(future.result()); }
        SECTION("through exception()") { REQUIRE(future.exception()); }
        SECTION("through co_await") {
            REQUIRE_THROWS(loop.run_until_complete(await_future(future)));
        }
    }
    REQUIRE_THAT(err.text(), !Catch::Contains("never retrieved"));
}

TEST_CASE("the unretrieved exception report goes to the loop's exception handler",
          "[future][report]") {
    aio::VirtualTimeLoop loop;
    std::vector<std::string> messages;
    loop.set_exception_handler([&messages](aio::EventLoop&, const aio::ExceptionContext& context) {
        messages.push_back(context.message + " | " + aio::describe_exception(context.exception));
    });
    {
        aio::Future<int> future(loop);
        future.set_exception(runtime_error("handled"));
    }
    REQUIRE(messages ==
            std::vector<std::string>{"Future exception was never retrieved | std::runtime_error: handled"});
}
