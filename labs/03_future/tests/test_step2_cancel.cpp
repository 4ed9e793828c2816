// Step 2: a pending future can be cancelled, which is a third way of being done.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "future.hpp"
#include "lab03_support.hpp"

TEST_CASE("cancel() makes a pending future cancelled and done", "[03][step2][cancel]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    REQUIRE(future.cancel());
    CHECK(future.done());
    CHECK(future.cancelled());
    CHECK(future.waitable().describe() == "<Future cancelled>");
}

TEST_CASE("result() of a cancelled future throws CancelledError with the cancel message",
          "[03][step2][cancel]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    future.cancel("shutting down");
    try {
        future.result();
        FAIL("result() of a cancelled future returned");
    } catch (const aio::CancelledError& error) {
        CHECK(error.message() == "shutting down");
    }
    CHECK(future.cancel_message() == "shutting down");
}

TEST_CASE("exception() of a cancelled future throws CancelledError", "[03][step2][cancel]") {
    aio::VirtualTimeLoop loop;
    lab::Future<void> future(loop);
    future.cancel();
    CHECK_THROWS_AS(future.exception(), aio::CancelledError);
}

TEST_CASE("cancel() of a future that is already done returns false and changes nothing",
          "[03][step2][cancel]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    SECTION("finished with a value") {
        future.set_result(1);
        CHECK_FALSE(future.cancel());
        CHECK_FALSE(future.cancelled());
        CHECK(future.result() == 1);
    }
    SECTION("finished with an exception") {
        future.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
        CHECK_FALSE(future.cancel());
        CHECK_FALSE(future.cancelled());
    }
    SECTION("already cancelled: the first message stays") {
        future.cancel("first");
        CHECK_FALSE(future.cancel("second"));
        CHECK(future.cancel_message() == "first");
    }
}

TEST_CASE("a cancelled future cannot be finished: set_result and set_exception throw InvalidStateError",
          "[03][step2][cancel]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    future.cancel();
    CHECK_THROWS_AS(future.set_result(1), aio::InvalidStateError);
    CHECK_THROWS_AS(future.set_exception(std::make_exception_ptr(std::runtime_error("late"))),
                    aio::InvalidStateError);
    CHECK(future.cancelled());
}

TEST_CASE("cancelling through the Waitable protocol is the same cancel", "[03][step2][cancel]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    aio::Waitable& waitable = future.waitable();
    REQUIRE(waitable.cancel("from a task"));
    CHECK(waitable.cancelled());
    CHECK(future.cancelled());
    CHECK(future.cancel_message() == "from a task");
}
