// Step 1: a lazy coroutine type. Calling a Coro function only creates its frame; the Coro
// owns that frame and frees it; sync_wait() runs the body and returns its co_return value.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <aio/detail/frame_counter.hpp>

#include "coro.hpp"

namespace {

lab::Coro<int> log_and_return(std::vector<std::string>* log, int value) {
    log->push_back("body runs");
    co_return value;
}

lab::Coro<void> log_only(std::vector<std::string>* log) {
    log->push_back("void body runs");
    co_return;
}

lab::Coro<std::unique_ptr<std::string>> make_owned(std::string text) {
    co_return std::make_unique<std::string>(std::move(text));
}

}  // namespace

TEST_CASE("calling a Coro function does not run its body", "[02][step1][lazy]") {
    std::vector<std::string> log;
    lab::Coro<int> coro = log_and_return(&log, 7);
    REQUIRE(log.empty());
    REQUIRE(static_cast<bool>(coro));
}

TEST_CASE("sync_wait runs the body and returns the co_returned value", "[02][step1][lazy]") {
    std::vector<std::string> log;
    lab::Coro<int> coro = log_and_return(&log, 7);
    REQUIRE(lab::sync_wait(std::move(coro)) == 7);
    REQUIRE(log == std::vector<std::string>{"body runs"});
}

TEST_CASE("a Coro<void> runs to its end under sync_wait", "[02][step1][lazy]") {
    std::vector<std::string> log;
    lab::sync_wait(log_only(&log));
    REQUIRE(log == std::vector<std::string>{"void body runs"});
}

TEST_CASE("a Coro can co_return a move-only value", "[02][step1][lazy]") {
    std::unique_ptr<std::string> owned = lab::sync_wait(make_owned("mine"));
    REQUIRE(owned);
    REQUIRE(*owned == "mine");
}

TEST_CASE("a Coro that is never awaited frees its frame without running the body",
          "[02][step1][frames]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<std::string> log;
    {
        // (No check of the count in here: clang may allocate a frame whose lifetime it can
        // see on the stack instead, and then it is not counted.)
        lab::Coro<int> coro = log_and_return(&log, 1);
        REQUIRE(static_cast<bool>(coro));
    }
    REQUIRE(aio::live_coroutine_frames() == frames_before);
    REQUIRE(log.empty());
}

TEST_CASE("a Coro frees its frame after it ran", "[02][step1][frames]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<std::string> log;
    REQUIRE(lab::sync_wait(log_and_return(&log, 3)) == 3);
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("moving a Coro moves its frame and leaves the moved-from Coro empty", "[02][step1][frames]") {
    const auto frames_before = aio::live_coroutine_frames();
    std::vector<std::string> log;
    lab::Coro<int> first = log_and_return(&log, 5);
    lab::Coro<int> second = std::move(first);
    REQUIRE_FALSE(static_cast<bool>(first));  // NOLINT(bugprone-use-after-move): the rule under test
    REQUIRE(static_cast<bool>(second));
    lab::Coro<int> third = log_and_return(&log, 6);
    third = std::move(second);  // third's own frame is freed here
    REQUIRE(aio::live_coroutine_frames() == frames_before + 1);
    REQUIRE(lab::sync_wait(std::move(third)) == 5);
    REQUIRE(aio::live_coroutine_frames() == frames_before);
}
