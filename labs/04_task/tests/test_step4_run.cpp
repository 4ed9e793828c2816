// Step 4: what nobody waits for. An exception no one retrieved is reported when its task
// goes away; lab::run() cancels the tasks main left behind; a task the loop can never run
// again is destroyed and reported.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "aio/sleep.hpp"
#include "lab04_support.hpp"
#include "task.hpp"

using lab_test::Events;
using lab_test::Log;
using lab_test::Reports;
using lab_test::virtual_time;

namespace {

aio::Coro<int> fail_with(std::string message) {
    throw std::out_of_range(message);
    co_return 0;
}

aio::Coro<int> sleep_then_return(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}

aio::Coro<void> sleep_and_record(Events* events, std::string name, double delay) {
    try {
        co_await aio::sleep(delay);
        events->record(name, " slept");
    } catch (const aio::CancelledError&) {
        events->record(name, " cancelled");
        throw;
    }
}

/// main for lab::run: starts a task it never awaits, then returns.
aio::Coro<int> leave_a_task_behind(Events* events) {
    lab::create_task(sleep_and_record(events, "left behind", 100));
    co_await aio::sleep(1);
    events->record("main returns");
    co_return 3;
}

}  // namespace

TEST_CASE("an exception nobody retrieved is reported when the task goes away", "[04][step4][report]") {
    aio::VirtualTimeLoop loop;
    Reports reports;
    reports.install(loop);
    {
        auto task = lab::create_task(loop, fail_with("nobody looked"), "careless");
        loop.run_until_done(task.waitable());  // finishes the task without reading its result
        CHECK(reports.contexts.empty());       // not while someone could still look
    }
    REQUIRE(reports.contexts.size() == 1);
    const aio::ExceptionContext& report = reports.contexts[0];
    CHECK(report.message == "Task exception was never retrieved");
    CHECK_THAT(aio::describe_exception(report.exception), Catch::Contains("nobody looked"));
    CHECK_THAT(report.source, Catch::Contains("name='careless'"));
}

TEST_CASE("a retrieved exception is not reported", "[04][step4][report]") {
    aio::VirtualTimeLoop loop;
    Reports reports;
    reports.install(loop);
    {
        auto task = lab::create_task(loop, fail_with("seen"));
        loop.run_until_done(task.waitable());
        SECTION("through exception()") { CHECK(task.exception() != nullptr); }
        SECTION("through result()") { CHECK_THROWS_AS(task.result(), std::out_of_range); }
    }
    CHECK(reports.contexts.empty());
}

TEST_CASE("an exception is reported when the last handle goes, even if the task finished long before",
          "[04][step4][report]") {
    aio::VirtualTimeLoop loop;
    Reports reports;
    reports.install(loop);
    auto task = lab::create_task(loop, fail_with("late report"));
    loop.run_until_done(task.waitable());
    loop.run_until_complete(sleep_then_return(5, 0));  // the loop goes on
    CHECK(reports.contexts.empty());
    task = lab::create_task(loop, sleep_then_return(0, 0));  // drops the last handle of the first task
    REQUIRE(reports.contexts.size() == 1);
    CHECK(reports.contexts[0].message == "Task exception was never retrieved");
    loop.run_until_complete(task);
}

TEST_CASE("all_tasks lists the pending lab tasks of a loop", "[04][step4][run]") {
    aio::VirtualTimeLoop loop;
    aio::VirtualTimeLoop other_loop;
    auto first = lab::create_task(loop, sleep_then_return(1, 1));
    auto second = lab::create_task(loop, sleep_then_return(2, 2));
    auto elsewhere = lab::create_task(other_loop, sleep_then_return(1, 3));
    CHECK(lab::all_tasks(loop) == std::vector<lab::TaskBase*>{&first.base(), &second.base()});
    loop.run_until_complete(first);
    CHECK(lab::all_tasks(loop) == std::vector<lab::TaskBase*>{&second.base()});
    loop.run_until_complete(second);
    CHECK(lab::all_tasks(loop).empty());
    other_loop.run_until_complete(elsewhere);
}

TEST_CASE("lab::run returns the value of its main coroutine", "[04][step4][run]") {
    CHECK(lab::run(sleep_then_return(30, 8), virtual_time()) == 8);
    CHECK(aio::try_get_running_loop() == nullptr);
}

TEST_CASE("lab::run rethrows the exception of its main coroutine", "[04][step4][run]") {
    CHECK_THROWS_WITH(lab::run(fail_with("main failed"), virtual_time()), "main failed");
}

TEST_CASE("lab::run runs main as a lab task", "[04][step4][run]") {
    auto main = []() -> aio::Coro<bool> {
        co_return lab::all_tasks(aio::get_running_loop()).size() == 1 && aio::current_task() != nullptr;
    };
    CHECK(lab::run(main(), virtual_time()));
}

TEST_CASE("lab::run cancels the tasks main left behind and lets them finish", "[04][step4][run]") {
    Events events;
    const auto frames_before = aio::live_coroutine_frames();
    CHECK(lab::run(leave_a_task_behind(&events), virtual_time()) == 3);
    CHECK(events.log == Log{"main returns", "left behind cancelled"});
    CHECK(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("lab::run cancels the aio tasks main left behind too", "[04][step4][run][integration]") {
    auto main = [](Events* log) -> aio::Coro<void> {
        aio::create_task(sleep_and_record(log, "aio task", 100));
        co_await aio::sleep(1);
    };
    Events events;
    lab::run(main(&events), virtual_time());
    CHECK(events.log == Log{"aio task cancelled"});
}

TEST_CASE("lab::run cannot be called while a loop runs", "[04][step4][run]") {
    aio::VirtualTimeLoop loop;
    auto nested = []() -> aio::Coro<void> {
        CHECK_THROWS_AS(lab::run(sleep_then_return(1, 1)), aio::RuntimeError);
        co_return;
    };
    loop.run_until_complete(lab::create_task(loop, nested()));
}

TEST_CASE("a task whose step is still queued when its loop closes is destroyed and reported",
          "[04][step4][run][leak]") {
    Reports reports;
    Events events;
    const auto frames_before = aio::live_coroutine_frames();
    {
        aio::VirtualTimeLoop loop;
        reports.install(loop);
        auto task = lab::create_task(loop, sleep_and_record(&events, "never", 1), "orphan");
        loop.close();
        CHECK(task.cancelled());
    }
    REQUIRE(reports.contexts.size() == 1);
    CHECK(reports.contexts[0].message == "Task was destroyed but it is pending!");
    CHECK_THAT(reports.contexts[0].source, Catch::Contains("name='orphan'"));
    CHECK(events.log.empty());
    CHECK(aio::live_coroutine_frames() == frames_before);
}
