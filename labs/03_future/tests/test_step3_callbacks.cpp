// Step 3: done callbacks, each handed to loop.call_soon() when the future completes, in
// registration order, and never run inline.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "future.hpp"
#include "lab03_support.hpp"

using lab_test::Events;
using lab_test::Log;
using lab_test::run_one_iteration;

TEST_CASE("done callbacks do not run inside set_result", "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> future(loop);
    future.add_done_callback([&] { events.record("callback"); });
    future.set_result(1);
    events.record("set_result returned");
    run_one_iteration(loop);
    CHECK(events.log == Log{"set_result returned", "callback"});
}

TEST_CASE("done callbacks run in registration order", "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> future(loop);
    for (int i = 1; i <= 4; ++i) future.add_done_callback([&events, i] { events.record("callback ", i); });
    future.set_result(0);
    run_one_iteration(loop);
    CHECK(events.log == Log{"callback 1", "callback 2", "callback 3", "callback 4"});
}

TEST_CASE("done callbacks are scheduled with call_soon when the future completes",
          "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> future(loop);
    future.add_done_callback([&] { events.record("done callback A"); });
    future.add_done_callback([&] { events.record("done callback B"); });
    loop.call_soon([&] { events.record("scheduled before set_result"); });
    future.set_result(1);
    loop.call_soon([&] { events.record("scheduled after set_result"); });
    run_one_iteration(loop);
    CHECK(events.log == Log{"scheduled before set_result", "done callback A", "done callback B",
                            "scheduled after set_result"});
}

TEST_CASE("a callback added to a done future is scheduled, not run inline", "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> future(loop);
    future.set_result(1);
    future.add_done_callback([&] { events.record("callback"); });
    events.record("add_done_callback returned");
    run_one_iteration(loop);
    CHECK(events.log == Log{"add_done_callback returned", "callback"});
}

TEST_CASE("set_exception and cancel schedule the done callbacks too", "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> failed(loop);
    lab::Future<int> cancelled(loop);
    failed.add_done_callback([&] { events.record("failed"); });
    cancelled.add_done_callback([&] { events.record("cancelled"); });
    failed.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    cancelled.cancel();
    run_one_iteration(loop);
    CHECK(events.log == Log{"failed", "cancelled"});
}

TEST_CASE("a done callback can take the future as its argument", "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> future(loop);
    future.add_done_callback([&](const lab::Future<int>& done) { events.record("result ", done.result()); });
    future.set_result(42);
    run_one_iteration(loop);
    CHECK(events.log == Log{"result 42"});
}

TEST_CASE("each done callback runs once", "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    int runs = 0;
    lab::Future<int> future(loop);
    future.add_done_callback([&] { ++runs; });
    future.set_result(1);
    run_one_iteration(loop);
    run_one_iteration(loop);
    CHECK(runs == 1);
}

TEST_CASE("remove_done_callback unregisters a callback that was not scheduled yet",
          "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> future(loop);
    future.add_done_callback([&] { events.record("kept 1"); });
    lab::CallbackToken removed = future.add_done_callback([&] { events.record("removed"); });
    future.add_done_callback([&] { events.record("kept 2"); });
    CHECK(future.remove_done_callback(removed) == 1);
    CHECK(future.remove_done_callback(removed) == 0);  // only once
    future.set_result(1);
    run_one_iteration(loop);
    CHECK(events.log == Log{"kept 1", "kept 2"});
}

TEST_CASE("a callback already scheduled cannot be removed", "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    Events events;
    lab::Future<int> future(loop);
    lab::CallbackToken token = future.add_done_callback([&] { events.record("callback"); });
    future.set_result(1);
    CHECK(future.remove_done_callback(token) == 0);
    run_one_iteration(loop);
    CHECK(events.log == Log{"callback"});
}

TEST_CASE("a throwing done callback is reported and the other callbacks still run",
          "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    Events events;
    loop.set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& context) {
        events.record("handler: ", aio::describe_exception(context.exception));
    });
    lab::Future<int> future(loop);
    future.add_done_callback([&] { events.record("first"); });
    future.add_done_callback([] { throw std::runtime_error("callback failed"); });
    future.add_done_callback([&] { events.record("third"); });
    future.set_result(1);
    run_one_iteration(loop);
    REQUIRE(events.log.size() == 3);
    CHECK(events.log[0] == "first");
    CHECK_THAT(events.log[1], Catch::Contains("callback failed"));
    CHECK(events.log[2] == "third");
}

TEST_CASE("dropping a pending future frees the callbacks it holds", "[03][step3][callbacks]") {
    aio::VirtualTimeLoop loop;
    auto sentinel = std::make_shared<int>(0);
    {
        lab::Future<int> future(loop);
        future.add_done_callback([sentinel] {});
        future.add_done_callback([sentinel] {});
        REQUIRE(sentinel.use_count() == 3);
    }
    CHECK(sentinel.use_count() == 1);
}

TEST_CASE("an aio loop can run until a lab future is done", "[03][step3][callbacks][waitable]") {
    // run_until_done() registers an aio::DoneCallback through the Waitable protocol.
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    loop.call_later(2.0, [future] { future.set_result(9); });
    loop.run_until_done(future.waitable());
    CHECK(future.result() == 9);
    CHECK(loop.time() == aio::TimePoint(aio::seconds(2.0)));
}
