// aio::run: asyncio.run's contract. A new loop runs the main coroutine; what is left is
// cancelled and awaited; the loop is closed; the result or error comes back to the caller.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

using aio_test::Events;

namespace {

aio::RunOptions virtual_time() {
    aio::RunOptions options;
    options.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); };
    return options;
}

aio::Coro<int> answer() { co_return 42; }

aio::Coro<int> fail() {
    throw std::domain_error("main failed");
    co_return 0;
}

/// A task left running when main returns: records how it ends.
aio::Coro<void> leftover(Events* events, std::string name) {
    try {
        co_await aio::sleep(1000.0);
        events->record(name, " finished");
    } catch (const aio::CancelledError&) {
        events->record(name, " cancelled");
        throw;
    }
}

/// A leftover task whose clean-up itself awaits.
aio::Coro<void> leftover_with_async_cleanup(Events* events) {
    bool cancelled = false;
    try {
        co_await aio::sleep(1000.0);
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) {
        co_await aio::sleep(1.0);  // no co_await in a catch block: clean up after it
        events->record("async clean-up done");
    }
}

}  // namespace

TEST_CASE("aio::run returns the value of the main coroutine", "[run]") {
    REQUIRE(aio::run(answer()) == 42);
    REQUIRE(aio::run(answer(), virtual_time()) == 42);
}

TEST_CASE("aio::run runs a Coro<void> to its end", "[run]") {
    static bool ran = false;
    auto main = []() -> aio::Coro<void> {
        co_await aio::sleep(0);
        ran = true;
    };
    aio::run(main(), virtual_time());
    REQUIRE(ran);
}

TEST_CASE("aio::run rethrows the main coroutine's exception", "[run]") {
    REQUIRE_THROWS_AS(aio::run(fail(), virtual_time()), std::domain_error);
}

TEST_CASE("aio::run cancels the tasks left at the end and lets them clean up", "[run][shutdown]") {
    static Events events;
    events.log.clear();
    auto main = []() -> aio::Coro<int> {
        aio::create_task(leftover(&events, "first"));
        aio::create_task(leftover(&events, "second"));
        co_await aio::sleep(0);  // both started
        co_return 1;
    };
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture err;
    REQUIRE(aio::run(main(), virtual_time()) == 1);
    std::vector<std::string> log = events.log;
    std::sort(log.begin(), log.end());
    REQUIRE(log == std::vector<std::string>{"first cancelled", "second cancelled"});
    REQUIRE(frames.leaked() == 0);
    REQUIRE_THAT(err.text(), !Catch::Contains("Task was destroyed"));
}

TEST_CASE("aio::run waits for a leftover task whose clean-up awaits", "[run][shutdown]") {
    static Events events;
    events.log.clear();
    auto main = []() -> aio::Coro<void> {
        aio::create_task(leftover_with_async_cleanup(&events));
        co_await aio::sleep(0);
    };
    aio::run(main(), virtual_time());
    REQUIRE(events.log == std::vector<std::string>{"async clean-up done"});
}

TEST_CASE("aio::run cancels leftover tasks even when main fails", "[run][shutdown]") {
    static Events events;
    events.log.clear();
    auto main = []() -> aio::Coro<int> {
        aio::create_task(leftover(&events, "orphan"));
        co_await aio::sleep(0);
        throw std::domain_error("main failed");
    };
    REQUIRE_THROWS_AS(aio::run(main(), virtual_time()), std::domain_error);
    REQUIRE(events.log == std::vector<std::string>{"orphan cancelled"});
}

TEST_CASE("aio::run reports a leftover task that fails while being cancelled", "[run][shutdown]") {
    auto failing_cleanup = []() -> aio::Coro<void> {
        try {
            co_await aio::sleep(1000.0);
        } catch (const aio::CancelledError&) {
            throw std::runtime_error("clean-up failed");
        }
    };
    auto main = [](aio::Coro<void> child) -> aio::Coro<void> {
        aio::create_task(std::move(child));
        co_await aio::sleep(0);
    };
    aio_test::StderrCapture err;
    aio::run(main(failing_cleanup()), virtual_time());
    const std::string text = err.text();
    REQUIRE(aio_test::count_occurrences(text, "clean-up failed") == 1);
    REQUIRE_THAT(text, Catch::Contains("unhandled exception during aio::run() shutdown"));
}

TEST_CASE("aio::run rethrows a DeadlockError and still cancels the stuck main task",
          "[run][shutdown]") {
    static Events events;
    events.log.clear();
    auto main = []() -> aio::Coro<void> {
        aio::Future<int> never;
        try {
            co_await never;
        } catch (const aio::CancelledError&) {
            events.record("main cancelled");
            throw;
        }
    };
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture err;
    REQUIRE_THROWS_AS(aio::run(main(), virtual_time()), aio::DeadlockError);
    REQUIRE(events.log == std::vector<std::string>{"main cancelled"});
    REQUIRE(frames.leaked() == 0);
    REQUIRE_THAT(err.text(), !Catch::Contains("Task was destroyed"));
}

TEST_CASE("aio::run closes its loop and leaves no loop running", "[run]") {
    static aio::EventLoop* seen = nullptr;
    auto main = []() -> aio::Coro<void> {
        seen = &aio::get_running_loop();
        co_return;
    };
    aio::EventLoop* made = nullptr;
    aio::RunOptions options;
    options.loop_factory = [&made] {
        auto loop = std::make_unique<aio::VirtualTimeLoop>();
        made = loop.get();
        return loop;
    };
    aio::run(main(), options);
    REQUIRE(seen == made);
    REQUIRE(aio::try_get_running_loop() == nullptr);
}

TEST_CASE("aio::run restores the event loop that was set before it", "[run]") {
    aio::VirtualTimeLoop outer;
    aio::set_event_loop(&outer);
    aio::run(answer(), virtual_time());
    REQUIRE(&aio::get_event_loop() == &outer);
    aio::set_event_loop(nullptr);
}

TEST_CASE("aio::run inside a running loop raises RuntimeError", "[run]") {
    auto main = []() -> aio::Coro<bool> {
        try {
            aio::run(answer());
        } catch (const aio::RuntimeError&) {
            co_return true;
        }
        co_return false;
    };
    REQUIRE(aio::run(main(), virtual_time()));
}

TEST_CASE("aio::run uses the loop made by loop_factory", "[run][loop_factory]") {
    auto main = []() -> aio::Coro<double> {
        co_await aio::sleep(3600.0);  // instant on a virtual clock, an hour on a real one
        co_return aio::to_seconds(aio::get_running_loop().time());
    };
    REQUIRE(aio::run(main(), virtual_time()) == 3600.0);
}

TEST_CASE("aio::run raises RuntimeError when loop_factory makes no loop", "[run][loop_factory]") {
    aio::RunOptions options;
    options.loop_factory = [] { return std::unique_ptr<aio::EventLoop>(); };
    aio_test::FrameLeakCheck frames;
    REQUIRE_THROWS_AS(aio::run(answer(), options), aio::RuntimeError);
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<bool> loop_is_in_debug_mode() { co_return aio::get_running_loop().get_debug(); }

/// Sets or unsets an environment variable for the length of a scope.
class ScopedEnvironment {
public:
    ScopedEnvironment(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnvironment() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};
}  // namespace

TEST_CASE("aio::run's loop is in debug mode when RunOptions or AIO_DEBUG asks", "[run][debug]") {
    SECTION("neither") {
        ScopedEnvironment env("AIO_DEBUG", nullptr);
        REQUIRE_FALSE(aio::run(loop_is_in_debug_mode(), virtual_time()));
    }
    SECTION("RunOptions::debug") {
        ScopedEnvironment env("AIO_DEBUG", nullptr);
        aio::RunOptions options = virtual_time();
        options.debug = true;
        REQUIRE(aio::run(loop_is_in_debug_mode(), options));
    }
    SECTION("AIO_DEBUG=1") {
        ScopedEnvironment env("AIO_DEBUG", "1");
        REQUIRE(aio::run(loop_is_in_debug_mode(), virtual_time()));
    }
    SECTION("AIO_DEBUG=0 is off") {
        ScopedEnvironment env("AIO_DEBUG", "0");
        REQUIRE_FALSE(aio::run(loop_is_in_debug_mode(), virtual_time()));
    }
}
