#include <catch2/catch.hpp>

#include "aio/aio.hpp"

TEST_CASE("aio::run returns the value of the main coroutine", "[run]") {
    auto main = []() -> aio::Coro<int> { co_return 42; };
    REQUIRE(aio::run(main()) == 42);
}
