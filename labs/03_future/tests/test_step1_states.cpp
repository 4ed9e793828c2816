// Step 1: a future is pending, then finished with a value or an exception, exactly once.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "future.hpp"
#include "lab03_support.hpp"

TEST_CASE("a new future is pending", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    CHECK_FALSE(future.done());
    CHECK_FALSE(future.cancelled());
    CHECK(future.waitable().describe() == "<Future pending>");
}

TEST_CASE("set_result finishes the future and result() returns the value", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<std::string> future(loop);
    future.set_result("hello");
    REQUIRE(future.done());
    CHECK_FALSE(future.cancelled());
    CHECK(future.result() == "hello");
    CHECK(future.result() == "hello");  // result() can be read any number of times
}

TEST_CASE("a void future finishes with set_result()", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<void> future(loop);
    future.set_result();
    REQUIRE(future.done());
    REQUIRE_NOTHROW(future.result());
    CHECK(future.exception() == nullptr);
}

TEST_CASE("result() of a future finished with an exception rethrows it", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    future.set_exception(std::make_exception_ptr(std::out_of_range("no such key")));
    REQUIRE(future.done());
    CHECK_FALSE(future.cancelled());
    CHECK_THROWS_WITH(future.result(), "no such key");
    CHECK_THROWS_AS(future.result(), std::out_of_range);
}

TEST_CASE("exception() returns the exception a future finished with", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> failed(loop);
    auto error = std::make_exception_ptr(std::runtime_error("boom"));
    failed.set_exception(error);
    CHECK(failed.exception() == error);

    lab::Future<int> succeeded(loop);
    succeeded.set_result(1);
    CHECK(succeeded.exception() == nullptr);
}

TEST_CASE("result() of a pending future throws InvalidStateError", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    CHECK_THROWS_AS(future.result(), aio::InvalidStateError);
    CHECK_FALSE(future.done());
}

TEST_CASE("exception() of a pending future throws InvalidStateError", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    CHECK_THROWS_AS(future.exception(), aio::InvalidStateError);
}

TEST_CASE("a future finishes only once: a second outcome throws InvalidStateError", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    future.set_result(1);
    SECTION("set_result twice") { CHECK_THROWS_AS(future.set_result(2), aio::InvalidStateError); }
    SECTION("set_exception after set_result") {
        CHECK_THROWS_AS(future.set_exception(std::make_exception_ptr(std::runtime_error("late"))),
                        aio::InvalidStateError);
    }
    CHECK(future.result() == 1);  // the first outcome stays
}

TEST_CASE("set_exception rejects a null exception_ptr", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    CHECK_THROWS_AS(future.set_exception(nullptr), std::invalid_argument);
    CHECK_FALSE(future.done());
}

TEST_CASE("copies of a future share one state", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    lab::Future<int> copy = future;
    CHECK(copy == future);
    copy.set_result(7);
    REQUIRE(future.done());
    CHECK(future.result() == 7);
}

TEST_CASE("a move-only value can be moved out of result()", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<std::unique_ptr<int>> future(loop);
    future.set_result(std::make_unique<int>(5));
    std::unique_ptr<int> value = std::move(future.result());
    REQUIRE(value);
    CHECK(*value == 5);
}

TEST_CASE("describe() names the state and the exception", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> with_value(loop);
    with_value.set_result(1);
    CHECK(with_value.waitable().describe() == "<Future finished>");

    lab::Future<int> with_error(loop);
    with_error.set_exception(std::make_exception_ptr(aio::RuntimeError("broken")));
    CHECK_THAT(with_error.waitable().describe(),
               Catch::StartsWith("<Future finished exception=") && Catch::Contains("broken"));
}

TEST_CASE("a future made without a loop uses aio::get_event_loop()", "[03][step1][state]") {
    aio::VirtualTimeLoop loop;
    aio::set_event_loop(&loop);
    lab::Future<int> future;
    aio::set_event_loop(nullptr);
    CHECK(&future.get_loop() == &loop);
    future.set_result(3);
    CHECK(future.result() == 3);
}
