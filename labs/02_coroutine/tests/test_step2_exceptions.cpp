// Step 2: an exception that escapes the body is kept in the promise and rethrown to whoever
// waits for the result; the frame is freed as on any other path.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <aio/detail/frame_counter.hpp>

#include "coro.hpp"

namespace {

lab::Coro<int> throw_runtime_error(std::string message) {
    throw std::runtime_error(message);
    co_return 0;
}

lab::Coro<void> throw_after_logging(std::vector<std::string>* log) {
    log->push_back("before");
    throw std::logic_error("void body failed");
    co_return;
}

/// Logs its destruction, to see that the body's locals are destroyed.
struct Guard {
    std::vector<std::string>* log;
    ~Guard() { log->push_back("guard destroyed"); }
};

lab::Coro<int> throw_with_local(std::vector<std::string>* log) {
    Guard guard{log};
    throw std::runtime_error("with a local");
    co_return 1;
}

}  // namespace

TEST_CASE("an exception thrown by the body comes out of sync_wait", "[02][step2][exceptions]") {
    REQUIRE_THROWS_AS(lab::sync_wait(throw_runtime_error("boom")), std::runtime_error);
    REQUIRE_THROWS_WITH(lab::sync_wait(throw_runtime_error("boom")), "boom");
}

TEST_CASE("a Coro<void> that throws rethrows its exception", "[02][step2][exceptions]") {
    std::vector<std::string> log;
    REQUIRE_THROWS_AS(lab::sync_wait(throw_after_logging(&log)), std::logic_error);
    REQUIRE(log == std::vector<std::string>{"before"});
}

TEST_CASE("a body that throws destroys its locals and frees its frame", "[02][step2][exceptions][frames]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<std::string> log;
    REQUIRE_THROWS_WITH(lab::sync_wait(throw_with_local(&log)), "with a local");
    REQUIRE(log == std::vector<std::string>{"guard destroyed"});
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}
