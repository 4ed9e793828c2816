// Hidden tests, lab 04: edge cases of stepping and cancellation, reports, lab::run, aio
// integration, stress and leak checks.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "task.hpp"

namespace {

using Log = std::vector<std::string>;

aio::RunOptions virtual_time() {
    return {.debug = false, .loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }};
}

struct Reports {
    std::vector<aio::ExceptionContext> contexts;
    void install(aio::EventLoop& loop) {
        loop.set_exception_handler(
            [this](aio::EventLoop&, const aio::ExceptionContext& context) { contexts.push_back(context); });
    }
};

/// Counts its live instances: a local of a coroutine body, to see when the frame dies.
struct Guard {
    explicit Guard(int* live) : live_(live) { ++*live_; }
    Guard(const Guard&) = delete;
    ~Guard() { --*live_; }
    int* live_;
};

aio::Coro<int> sleep_then_return(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}

aio::Coro<int> fail_after(double delay, std::string message) {
    co_await aio::sleep(delay);
    throw std::runtime_error(message);
}

aio::Coro<void> guarded_sleep(int* live, double delay) {
    Guard guard(live);
    co_await aio::sleep(delay);
}

aio::Coro<int> await_future(aio::Future<int> future) {
    int value = co_await future;
    co_return value;
}

aio::Coro<int> await_lab_task(lab::Task<int> task) {
    int value = co_await task;
    co_return value;
}

}  // namespace

// --- stepping ------------------------------------------------------------------------------

TEST_CASE("create_task on a closed loop throws RuntimeError and frees the frame", "[04][step1][step][leak][hidden]") {
    aio::VirtualTimeLoop loop;
    loop.close();
    const auto frames_before = aio::live_coroutine_frames();
    CHECK_THROWS_AS(lab::create_task(loop, sleep_then_return(1, 1)), aio::RuntimeError);
    CHECK(aio::live_coroutine_frames() == frames_before);
    CHECK(lab::all_tasks(loop).empty());
}

TEST_CASE("a task whose handle is dropped at once still runs to its end", "[04][step1][step][hidden]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> done(loop);
    auto body = [](aio::Future<int> report) -> aio::Coro<void> {
        co_await aio::sleep(1);
        report.set_result(1);
    };
    (void)lab::create_task(loop, body(done));
    CHECK(loop.run_until_complete(done) == 1);
}

TEST_CASE("describe() shows the state and the name", "[04][step1][step][hidden]") {
    aio::VirtualTimeLoop loop;
    auto task = lab::create_task(loop, sleep_then_return(1, 1), "worker");
    CHECK(task.waitable().describe() == "<Task pending name='worker'>");
    loop.run_until_complete(task);
    CHECK(task.waitable().describe() == "<Task finished name='worker'>");
}

TEST_CASE("a task that yields 100000 times keeps a flat stack and lets others run", "[04][step2][sleep][stress][hidden]") {
    aio::VirtualTimeLoop loop;
    auto spinner = [](int* count, int times) -> aio::Coro<void> {
        for (int i = 0; i < times; ++i) {
            ++*count;
            co_await aio::sleep(0);
        }
    };
    int a = 0;
    int b = 0;
    auto first = lab::create_task(loop, spinner(&a, 100000));
    auto second = lab::create_task(loop, spinner(&b, 100000));
    loop.run_until_complete(first);
    CHECK(a == 100000);
    CHECK(b >= 99999);
    loop.run_until_complete(second);
}

TEST_CASE("10000 lab tasks sleeping different times all finish at their deadlines", "[04][step2][sleep][stress][hidden]") {
    aio::VirtualTimeLoop loop;
    std::vector<lab::Task<int>> tasks;
    for (int i = 0; i < 10000; ++i) tasks.push_back(lab::create_task(loop, sleep_then_return((i * 7919) % 1000 / 10.0, i)));
    auto last = lab::create_task(loop, sleep_then_return(200, -1));
    loop.run_until_complete(last);
    for (int i = 0; i < 10000; ++i) {
        REQUIRE(tasks[static_cast<std::size_t>(i)].done());
        CHECK(tasks[static_cast<std::size_t>(i)].result() == i);
    }
    CHECK(lab::all_tasks(loop).empty());
}

TEST_CASE("a chain of 2000 lab tasks, each awaiting the next, finishes", "[04][step2][await][stress][hidden]") {
    aio::VirtualTimeLoop loop;
    lab::Task<int> next = lab::create_task(loop, sleep_then_return(1, 0));
    for (int i = 0; i < 2000; ++i) next = lab::create_task(loop, await_lab_task(next));
    CHECK(loop.run_until_complete(next) == 0);
}

TEST_CASE("a lab task awaited by two aio tasks wakes both", "[04][step2][await][integration][hidden]") {
    aio::VirtualTimeLoop loop;
    auto shared = lab::create_task(loop, sleep_then_return(2, 21));
    auto a = aio::create_task(loop, await_lab_task(shared));
    auto b = aio::create_task(loop, await_lab_task(shared));
    CHECK(loop.run_until_complete(a) + loop.run_until_complete(b) == 42);
}

TEST_CASE("the current task is restored after a lab task awaited inside an aio task's step", "[04][step2][await][hidden]") {
    aio::VirtualTimeLoop loop;
    auto check = []() -> aio::Coro<bool> {
        aio::AbstractTask* me = aio::current_task();
        auto child = lab::create_task(sleep_then_return(0, 1));
        co_await child;
        co_return aio::current_task() == me && me != nullptr;
    };
    CHECK(loop.run_until_complete(check()));
    CHECK(aio::current_task() == nullptr);
}

// --- cancellation --------------------------------------------------------------------------

TEST_CASE("two cancels before delivery raise one CancelledError; after it the task runs on",
          "[04][step3][cancel][hidden]") {
    aio::VirtualTimeLoop loop;
    auto survivor = []() -> aio::Coro<int> {
        int caught = 0;
        try {
            co_await aio::sleep(0);
        } catch (const aio::CancelledError&) {
            ++caught;
        }
        co_await aio::sleep(1);  // not cancelled again
        co_return caught;
    };
    auto task = lab::create_task(loop, survivor());
    loop.call_soon([task] {
        task.cancel();
        task.cancel();
    });
    CHECK(loop.run_until_complete(task) == 1);
    CHECK(task.cancelling() == 2);
}

TEST_CASE("a cancel that arrives while the wake-up is queued is still delivered",
          "[04][step3][cancel][hidden]") {
    // The awaited future finished, the wake-up is queued, then cancel(): the future cannot be
    // cancelled any more, so the request sticks and the wake-up step delivers it.
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    auto task = lab::create_task(loop, await_future(future));
    loop.call_later(1.0, [future, task] {
        future.set_result(1);
        task.cancel("too late to wait");
    });
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(task.cancelled());
    CHECK_FALSE(future.cancelled());
}

TEST_CASE("a cancelled task frees its frame and the frame's locals", "[04][step3][cancel][leak][hidden]") {
    aio::VirtualTimeLoop loop;
    int live = 0;
    const auto frames_before = aio::live_coroutine_frames();
    auto task = lab::create_task(loop, guarded_sleep(&live, 100));
    loop.call_later(1.0, [task] { task.cancel(); });
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(live == 0);
    CHECK(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a task cancelled before its first step counts the request and runs its done callbacks",
          "[04][step3][cancel][hidden]") {
    aio::VirtualTimeLoop loop;
    bool called = false;
    auto task = lab::create_task(loop, sleep_then_return(1, 1));
    task.add_done_callback([&called] { called = true; });
    task.cancel("early");
    CHECK(task.cancelling() == 1);
    CHECK_THROWS_AS(loop.run_until_complete(task), aio::CancelledError);
    CHECK(called);
    CHECK(task.cancel_message() == "early");
}

TEST_CASE("aio::wait_for returns the value of a lab task that finishes after ignoring the cancellation",
          "[04][step3][cancel][integration][hidden]") {
    aio::VirtualTimeLoop loop;
    auto stubborn = []() -> aio::Coro<int> {
        bool cancelled = false;
        try {
            co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
            cancelled = true;
        }
        co_return cancelled ? 7 : 0;
    };
    auto task = lab::create_task(loop, stubborn());
    auto limit = [](lab::Task<int> awaited) -> aio::Coro<int> {
        aio::Coro<int> limited = aio::wait_for(aio::Future<int>(awaited), 1.0);
        co_return co_await std::move(limited);
    };
    CHECK(loop.run_until_complete(limit(task)) == 7);
}

TEST_CASE("uncancel() after a delivered cancellation lets the task be cancelled again later",
          "[04][step3][cancel][hidden]") {
    aio::VirtualTimeLoop loop;
    auto twice = []() -> aio::Coro<int> {
        int caught = 0;
        for (int round = 0; round < 2; ++round) {
            try {
                co_await aio::sleep(10);
            } catch (const aio::CancelledError&) {
                ++caught;
                aio::current_task()->uncancel();
            }
        }
        co_return caught;
    };
    auto task = lab::create_task(loop, twice());
    loop.call_later(1.0, [task] { task.cancel(); });
    loop.call_later(2.0, [task] { task.cancel(); });
    CHECK(loop.run_until_complete(task) == 2);
    CHECK(task.cancelling() == 0);
}

// --- reports and run -----------------------------------------------------------------------

TEST_CASE("an exception retrieved by an aio task awaiting the lab task is not reported", "[04][step4][report][hidden]") {
    Reports reports;
    {
        aio::VirtualTimeLoop loop;
        reports.install(loop);
        auto failing = lab::create_task(loop, fail_after(1, "seen by the awaiter"));
        auto waiter = aio::create_task(loop, await_lab_task(failing));
        CHECK_THROWS_AS(loop.run_until_complete(waiter), std::runtime_error);
    }
    CHECK(reports.contexts.empty());
}

TEST_CASE("a never-retrieved exception is reported exactly once", "[04][step4][report][hidden]") {
    aio::VirtualTimeLoop loop;
    Reports reports;
    reports.install(loop);
    {
        auto task = lab::create_task(loop, fail_after(1, "once"));
        auto copy = task;
        loop.run_until_done(task.waitable());
    }
    CHECK(reports.contexts.size() == 1);
}

TEST_CASE("lab::run restores the event loop that was set before it", "[04][step4][run][hidden]") {
    aio::VirtualTimeLoop outer;
    aio::set_event_loop(&outer);
    CHECK(lab::run(sleep_then_return(1, 2), virtual_time()) == 2);
    CHECK(&aio::get_event_loop() == &outer);
    aio::set_event_loop(nullptr);
}

TEST_CASE("lab::run returns a move-only value", "[04][step4][run][hidden]") {
    auto main = []() -> aio::Coro<std::unique_ptr<int>> {
        co_await aio::sleep(1);
        co_return std::make_unique<int>(6);
    };
    std::unique_ptr<int> value = lab::run(main(), virtual_time());
    REQUIRE(value);
    CHECK(*value == 6);
}

TEST_CASE("lab::run reports a left-behind task that fails while it is cancelled", "[04][step4][run][hidden]") {
    auto bad_loser = []() -> aio::Coro<void> {
        bool cancelled = false;
        try {
            co_await aio::sleep(100);
        } catch (const aio::CancelledError&) {
            cancelled = true;
        }
        if (cancelled) throw std::runtime_error("failed during cleanup");
    };
    auto main = [](aio::Coro<void> (*make)()) -> aio::Coro<void> {
        lab::create_task(make());
        co_await aio::sleep(1);
    };
    std::vector<aio::ExceptionContext> seen;
    aio::RunOptions options = virtual_time();
    options.loop_factory = [&seen] {
        auto loop = std::make_unique<aio::VirtualTimeLoop>();
        loop->set_exception_handler(
            [&seen](aio::EventLoop&, const aio::ExceptionContext& context) { seen.push_back(context); });
        return loop;
    };
    lab::run(main(+bad_loser), options);
    REQUIRE(seen.size() == 1);
    CHECK_THAT(seen[0].message, Catch::Contains("shutdown"));
    CHECK_THAT(aio::describe_exception(seen[0].exception), Catch::Contains("failed during cleanup"));
}

TEST_CASE("lab::run frees every frame of nested tasks left behind", "[04][step4][run][leak][hidden]") {
    auto spawner = [](int depth) -> aio::Coro<void> {
        co_await aio::sleep(1000);
        (void)depth;
    };
    auto main = [](aio::Coro<void> (*make)(int)) -> aio::Coro<int> {
        for (int i = 0; i < 50; ++i) lab::create_task(make(i));
        for (int i = 0; i < 50; ++i) aio::create_task(make(i));
        co_await aio::sleep(1);
        co_return 0;
    };
    const auto frames_before = aio::live_coroutine_frames();
    lab::run(main(+spawner), virtual_time());
    CHECK(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("a task waiting on a future when its loop is closed by lab::run's shutdown is cancelled, not leaked",
          "[04][step4][run][leak][hidden]") {
    auto waits_forever = [](aio::Future<int> never) -> aio::Coro<void> {
        int live = 0;
        Guard guard(&live);
        co_await never;
    };
    auto main = [](aio::Coro<void> (*make)(aio::Future<int>)) -> aio::Coro<void> {
        aio::Future<int> never;
        lab::create_task(make(never));
        co_await aio::sleep(1);
    };
    const auto frames_before = aio::live_coroutine_frames();
    lab::run(main(+waits_forever), virtual_time());
    CHECK(aio::live_coroutine_frames() == frames_before);
}

// aio::gather joined the runtime while this lab was written.
#if __has_include(<aio/gather.hpp>)
TEST_CASE("gather(return_exceptions) over lab tasks collects values and errors", "[04][step2][await][integration][hidden]") {
    aio::VirtualTimeLoop loop;
    auto good = lab::create_task(loop, sleep_then_return(1, 5));
    auto bad = lab::create_task(loop, fail_after(2, "bad child"));
    auto main = [](lab::Task<int> a, lab::Task<int> b) -> aio::Coro<int> {
        auto gathering = aio::gather(aio::return_exceptions, aio::Future<int>(a), aio::Future<int>(b));
        auto results = co_await std::move(gathering);
        int score = std::get<0>(results).value();
        if (std::get<1>(results).exception()) score += 100;
        co_return score;
    };
    CHECK(loop.run_until_complete(main(good, bad)) == 105);
}
#endif
