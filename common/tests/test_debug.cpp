// Debug mode (aio/debug.hpp): slow callbacks, never-awaited coroutines, task origins,
// wrong-thread calls, and reports that outlive their loop.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aio/debug.hpp"
#include "test_support.hpp"

namespace {

/// The reports a loop's exception handler received, as "message | source" lines.
struct Reports {
    std::vector<std::string> lines;

    /// Also sets a slow_callback_duration no step reaches, so that a test that counts every
    /// report never sees a slow-callback report from a loaded machine.
    void capture(aio::EventLoop& loop) {
        loop.slow_callback_duration = std::chrono::hours(1);
        loop.set_exception_handler([this](aio::EventLoop&, const aio::ExceptionContext& context) {
            lines.push_back(context.message + " | " + context.source);
        });
    }
    /// The lines that contain `text`.
    std::vector<std::string> with(const std::string& text) const {
        std::vector<std::string> found;
        for (const std::string& line : lines)
            if (line.find(text) != std::string::npos) found.push_back(line);
        return found;
    }
};

/// Installs a debug::report sink for the length of a test.
class SinkCapture {
public:
    SinkCapture() {
        aio::debug::set_report_sink([this](const aio::ExceptionContext& context) {
            lines.push_back(context.message + " | " + context.source);
        });
    }
    ~SinkCapture() { aio::debug::set_report_sink({}); }
    std::vector<std::string> lines;
};

/// Blocks the thread (real time) for `duration`: what a slow callback does.
void busy_wait(std::chrono::milliseconds duration) {
    const auto until = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < until) {
    }
}

aio::Coro<int> add(int a, int b) { co_return a + b; }

aio::Coro<void> block_for_a_while() {
    busy_wait(std::chrono::milliseconds(5));
    co_return;
}

aio::Coro<void> run_named_slow_task() {
    aio::Task<void> task = aio::create_task(block_for_a_while(), "slowpoke");
    co_await task;
}

}  // namespace

// --- slow callbacks ------------------------------------------------------------------------

TEST_CASE("a task step slower than slow_callback_duration is reported with the task and where it was created",
          "[debug][slow]") {
    aio::VirtualTimeLoop loop;
    loop.set_debug(true);
    Reports reports;
    reports.capture(loop);
    loop.slow_callback_duration = std::chrono::milliseconds(1);

    loop.run_until_complete(run_named_slow_task());

    // Filtered by the start: on a loaded machine another step may be slow too.
    std::vector<std::string> slow = reports.with("Executing <Task finished name='slowpoke'");
    REQUIRE(slow.size() == 1);
    CHECK_THAT(slow[0], Catch::Matches(R"(Executing <Task .*> took \d+\.\d{3} seconds \| <Task .*)"));
    // Its coroutine and the create_task call in run_named_slow_task(), in this file.
    CHECK_THAT(slow[0], Catch::Contains("coro=<block_for_a_while() at "));
    CHECK_THAT(slow[0], Catch::Contains("test_debug.cpp:"));
    CHECK_THAT(slow[0], Catch::Contains(" created at "));
}

TEST_CASE("a slow plain callback is reported as its handle", "[debug][slow]") {
    aio::VirtualTimeLoop loop;
    loop.set_debug(true);
    Reports reports;
    reports.capture(loop);
    loop.slow_callback_duration = std::chrono::milliseconds(1);

    loop.call_soon([] { busy_wait(std::chrono::milliseconds(5)); });
    loop.call_later(1.0, [&loop] {
        busy_wait(std::chrono::milliseconds(5));
        loop.stop();
    });
    loop.run_forever();

    CHECK(reports.with("Executing <Handle> took ").size() == 1);
    CHECK(reports.with("Executing <TimerHandle> took ").size() == 1);
}

TEST_CASE("callbacks faster than slow_callback_duration are not reported", "[debug][slow]") {
    aio::VirtualTimeLoop loop;
    loop.set_debug(true);
    Reports reports;
    reports.capture(loop);
    loop.slow_callback_duration = std::chrono::seconds(30);  // nothing here comes close

    loop.run_until_complete(run_named_slow_task());

    CHECK(reports.lines.empty());
}

TEST_CASE("without debug mode a slow callback is not reported", "[debug][slow]") {
    aio::VirtualTimeLoop loop;
    loop.set_debug(false);  // even if AIO_DEBUG is set where the tests run
    Reports reports;
    reports.capture(loop);
    loop.slow_callback_duration = std::chrono::milliseconds(1);

    loop.run_until_complete(run_named_slow_task());

    CHECK(reports.lines.empty());
}

// --- never-awaited coroutines ----------------------------------------------------------------

namespace {
aio::Coro<void> drop_a_coroutine() {
    aio::Coro<int> forgotten = add(1, 2);  // created, never awaited
    co_return;
}

aio::Coro<int> await_and_spawn() {
    aio::Coro<int> awaited = add(1, 2);
    int sum = co_await std::move(awaited);
    aio::Task<int> task = aio::create_task(add(3, 4));
    sum += co_await task;
    co_return sum;
}
}  // namespace

TEST_CASE("a coroutine created in debug mode and dropped unawaited is reported with its origin",
          "[debug][never-awaited]") {
    aio_test::FrameLeakCheck frames;
    aio::VirtualTimeLoop loop;
    loop.set_debug(true);
    Reports reports;
    reports.capture(loop);

    loop.run_until_complete(drop_a_coroutine());

    REQUIRE(reports.lines.size() == 1);
    CHECK_THAT(reports.lines[0], Catch::StartsWith("coroutine 'add' was never awaited | created at "));
    CHECK_THAT(reports.lines[0], Catch::Contains("test_debug.cpp:"));
    CHECK_THAT(reports.lines[0], Catch::Contains("add(int, int)"));
    CHECK_THAT(reports.lines[0], Catch::Contains("dropped in task 'Task-"));
    loop.close();
    CHECK(frames.leaked() == 0);
}

TEST_CASE("awaited coroutines and coroutines run as tasks are not reported as never awaited",
          "[debug][never-awaited]") {
    aio::VirtualTimeLoop loop;
    loop.set_debug(true);
    Reports reports;
    reports.capture(loop);

    CHECK(loop.run_until_complete(await_and_spawn()) == 10);
    CHECK(reports.lines.empty());
}

TEST_CASE("without debug mode a dropped coroutine is not reported", "[debug][never-awaited]") {
    aio::VirtualTimeLoop loop;
    loop.set_debug(false);
    Reports reports;
    reports.capture(loop);

    loop.run_until_complete(drop_a_coroutine());

    CHECK(reports.lines.empty());
}

TEST_CASE("a coroutine created while no debug loop runs is not tracked", "[debug][never-awaited]") {
    SinkCapture sink;
    aio::VirtualTimeLoop loop;
    loop.set_debug(true);  // the loop is not running yet: tracking starts with run_forever()
    {
        aio::Coro<int> outside = add(1, 2);
    }
    CHECK(sink.lines.empty());
}

TEST_CASE("set_debug(true) on a running loop turns coroutine tracking on at once",
          "[debug][never-awaited]") {
    aio::VirtualTimeLoop loop;
    Reports reports;
    reports.capture(loop);

    loop.run_until_complete([]() -> aio::Coro<void> {
        aio::get_running_loop().set_debug(true);
        aio::Coro<int> forgotten = add(5, 6);
        co_return;
    }());

    CHECK(reports.with("coroutine 'add' was never awaited").size() == 1);
}

TEST_CASE("a tracked coroutine dropped after its loop stopped is reported to the report sink",
          "[debug][never-awaited]") {
    SinkCapture sink;
    std::optional<aio::Coro<int>> kept;
    {
        aio::VirtualTimeLoop loop;
        loop.set_debug(true);
        loop.run_until_complete([](std::optional<aio::Coro<int>>* slot) -> aio::Coro<void> {
            slot->emplace(add(7, 8));  // created while the debug loop runs
            co_return;
        }(&kept));
    }
    REQUIRE(sink.lines.empty());
    kept.reset();
    REQUIRE(sink.lines.size() == 1);
    CHECK_THAT(sink.lines[0], Catch::StartsWith("coroutine 'add' was never awaited"));
}

// --- task origins in other reports ---------------------------------------------------------

namespace {
aio::Coro<int> fail_later() {
    co_await aio::sleep(1.0);
    throw aio::ValueError("boom");
}

aio::Coro<void> start_and_forget_a_failing_task() {
    aio::Task<int> task = aio::create_task(fail_later(), "doomed");
    co_await aio::sleep(2.0);  // the task fails meanwhile; its handle goes away unread
}
}  // namespace

TEST_CASE("in debug mode 'Task exception was never retrieved' says where the task was created",
          "[debug][origin]") {
    aio::VirtualTimeLoop loop;
    loop.set_debug(true);
    Reports reports;
    reports.capture(loop);

    loop.run_until_complete(start_and_forget_a_failing_task());

    std::vector<std::string> lost = reports.with("Task exception was never retrieved");
    REQUIRE(lost.size() == 1);
    CHECK_THAT(lost[0], Catch::Contains("name='doomed' coro=<fail_later() at "));
    CHECK_THAT(lost[0], Catch::Contains(" created at "));
    CHECK_THAT(lost[0], Catch::Contains("test_debug.cpp:"));
}

TEST_CASE("without debug mode a task's description has no origin", "[debug][origin]") {
    aio::VirtualTimeLoop loop;
    loop.set_debug(false);
    Reports reports;
    reports.capture(loop);

    loop.run_until_complete(start_and_forget_a_failing_task());

    std::vector<std::string> lost = reports.with("Task exception was never retrieved");
    REQUIRE(lost.size() == 1);
    CHECK_THAT(lost[0], !Catch::Contains("created at"));
}

// --- wrong-thread calls --------------------------------------------------------------------

namespace {
constexpr const char* wrong_thread_message =
    "Non-thread-safe operation invoked on an event loop other than the current one";

/// What each call from the other thread did: "name: ok" or "name: <what()>".
template <class F>
void try_call(aio_test::Events& events, const char* name, F call) {
    try {
        call();
        events.record(name, ": ok");
    } catch (const aio::RuntimeError& error) {
        events.record(name, ": ", error.what());
    }
}

aio::Coro<int> wait_for_future(aio::Future<int> future) { co_return co_await future; }

aio::Coro<void> call_from_another_thread(aio_test::Events* events, int fd) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> future(loop);
    aio::Task<int> waiter = aio::create_task(wait_for_future(future));
    co_await aio::sleep(0);  // the waiter now waits on the future (its callback is registered)
    bool threadsafe_ran = false;
    // The loop waits, blocked in this step, while the other thread calls it: it is running.
    std::thread other([&] {
        try_call(*events, "call_soon", [&] { loop.call_soon([] {}); });
        try_call(*events, "call_later", [&] { loop.call_later(1.0, [] {}); });
        try_call(*events, "create_task", [&] { aio::create_task(loop, add(1, 2)); });
        try_call(*events, "set_result", [&] { future.set_result(1); });
        try_call(*events, "cancel", [&] { future.cancel(); });
        try_call(*events, "add_reader", [&] { loop.add_reader(fd, [] {}); });
        try_call(*events, "call_soon_threadsafe",
                 [&] { loop.call_soon_threadsafe([&threadsafe_ran] { threadsafe_ran = true; }); });
    });
    other.join();
    co_await aio::sleep(0);
    co_await aio::sleep(0);  // the threadsafe callback has run by now
    events->record("threadsafe callback ran: ", threadsafe_ran);
    events->record("future still pending: ", !future.done());
    future.set_result(7);  // from the loop's thread
    int got = co_await waiter;  // a named local, not co_await among call arguments (GCC 12)
    events->record("waiter got ", got);
}
}  // namespace

TEST_CASE("in debug mode, loop methods called from another thread raise RuntimeError",
          "[debug][thread]") {
    aio_test::FrameLeakCheck frames;
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    {
        aio::VirtualTimeLoop loop;
        loop.set_debug(true);
        aio_test::Events events;
        loop.run_until_complete(call_from_another_thread(&events, pipe_fds[0]));
        const std::string refused = std::string(": ") + wrong_thread_message +
                                    " (the loop runs on another thread: use call_soon_threadsafe)";
        CHECK(events.log == std::vector<std::string>{
                                "call_soon" + refused,
                                "call_later" + refused,
                                "create_task" + refused,
                                "set_result" + refused,
                                "cancel" + refused,
                                "add_reader" + refused,
                                "call_soon_threadsafe: ok",
                                "threadsafe callback ran: 1",
                                "future still pending: 1",
                                "waiter got 7",
                            });
        CHECK(loop.registered_fd_count() == 0);
    }
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    CHECK(frames.leaked() == 0);  // the refused create_task freed its coroutine
}

TEST_CASE("in debug mode a loop that is not running may be called from any thread", "[debug][thread]") {
    aio::VirtualTimeLoop loop;
    loop.set_debug(true);
    bool ran = false;
    std::thread other([&] { loop.call_soon([&ran] { ran = true; }); });  // asyncio allows it too
    other.join();
    loop.run_until_complete([]() -> aio::Coro<void> { co_await aio::sleep(0); }());
    CHECK(ran);
}

// --- reports that outlive their loop -------------------------------------------------------

TEST_CASE("a failed future that outlives its loop reports its exception to the report sink",
          "[debug][lifetime]") {
    SinkCapture sink;
    auto loop = std::make_unique<aio::VirtualTimeLoop>();
    std::optional<aio::Future<int>> future(std::in_place, *loop);
    future->set_exception(std::make_exception_ptr(aio::ValueError("lost")));
    loop.reset();  // the loop goes first: reporting through it would read freed memory

    future.reset();

    REQUIRE(sink.lines.size() == 1);
    CHECK_THAT(sink.lines[0], Catch::StartsWith("Future exception was never retrieved | <Future finished"));
}

TEST_CASE("a failed task that outlives its loop reports to stderr by default", "[debug][lifetime]") {
    auto loop = std::make_unique<aio::VirtualTimeLoop>();
    std::optional<aio::Task<int>> task(aio::create_task(*loop, fail_later(), "outliver"));
    loop->run_until_complete([]() -> aio::Coro<void> { co_await aio::sleep(2.0); }());
    REQUIRE(task->done());
    loop.reset();

    aio_test::StderrCapture err;
    task.reset();
    const std::string text = err.text();
    CHECK(aio_test::count_occurrences(text, "Task exception was never retrieved") == 1);
    CHECK_THAT(text, Catch::Contains("name='outliver'"));
}

TEST_CASE("a failed future reports to its own loop while that loop exists", "[debug][lifetime]") {
    SinkCapture sink;
    aio::VirtualTimeLoop loop;
    Reports reports;
    reports.capture(loop);
    {
        aio::Future<int> future(loop);
        future.set_exception(std::make_exception_ptr(aio::ValueError("lost")));
    }
    CHECK(reports.with("Future exception was never retrieved").size() == 1);
    CHECK(sink.lines.empty());
}

// --- turning debug mode on -----------------------------------------------------------------

namespace {
/// Sets AIO_DEBUG for the length of a test, then restores it.
class ScopedDebugEnvironment {
public:
    explicit ScopedDebugEnvironment(const char* value) {
        if (const char* old = std::getenv("AIO_DEBUG")) saved_ = old;
        if (value) {
            ::setenv("AIO_DEBUG", value, 1);
        } else {
            ::unsetenv("AIO_DEBUG");
        }
    }
    ~ScopedDebugEnvironment() {
        if (saved_) {
            ::setenv("AIO_DEBUG", saved_->c_str(), 1);
        } else {
            ::unsetenv("AIO_DEBUG");
        }
    }

private:
    std::optional<std::string> saved_;
};
}  // namespace

TEST_CASE("AIO_DEBUG in the environment turns debug mode on for new loops", "[debug][mode]") {
    SECTION("AIO_DEBUG=1") {
        ScopedDebugEnvironment env("1");
        aio::VirtualTimeLoop loop;
        CHECK(loop.get_debug());
    }
    SECTION("AIO_DEBUG=0") {
        ScopedDebugEnvironment env("0");
        aio::VirtualTimeLoop loop;
        CHECK_FALSE(loop.get_debug());
    }
    SECTION("unset") {
        ScopedDebugEnvironment env(nullptr);
        aio::VirtualTimeLoop loop;
        CHECK_FALSE(loop.get_debug());
    }
}

TEST_CASE("aio::run with debug = true runs main on a loop in debug mode", "[debug][mode]") {
    ScopedDebugEnvironment env(nullptr);
    auto main_coro = []() -> aio::Coro<bool> { co_return aio::get_running_loop().get_debug(); };
    aio::RunOptions options;
    options.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); };
    CHECK_FALSE(aio::run(main_coro(), options));
    options.debug = true;
    CHECK(aio::run(main_coro(), options));
}
