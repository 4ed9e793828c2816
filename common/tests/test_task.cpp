// aio::Task<T>: a coroutine that the loop drives on its own; a task is a future; asyncio's
// names, current_task(), all_tasks(), and its reports of tasks nobody looked after.
#include <catch2/catch.hpp>

#include <algorithm>
#include <coroutine>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.hpp"

using aio_test::Events;
using aio_test::run_virtual;

namespace {

aio::Coro<void> record_steps(Events* events, std::string name, int steps) {
    for (int i = 1; i <= steps; ++i) {
        events->record(name, " step ", i);
        co_await aio::sleep(0);
    }
}

aio::Coro<int> after(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}

aio::Coro<int> fail_after(double delay, const char* what) {
    co_await aio::sleep(delay);
    throw std::runtime_error(what);
    co_return 0;  // never reached: makes the body a complete Coro<int>
}

aio::Coro<void> set_flag_after(double delay, bool* flag) {
    co_await aio::sleep(delay);
    *flag = true;
}

/// Runs one iteration as the running loop (asyncio's idiom: stop, then run_forever), so
/// that tasks stepped by hand can find their loop.
void run_one_iteration(aio::EventLoop& loop) {
    loop.stop();
    loop.run_forever();
}

}  // namespace

TEST_CASE("a task runs on its own, without being awaited", "[task]") {
    static Events events;
    events.log.clear();
    auto main = []() -> aio::Coro<void> {
        aio::Task<void> task = aio::create_task(record_steps(&events, "task", 2));
        events.record("main created the task");
        co_await aio::sleep(1.0);
        events.record("main woke");
    };
    run_virtual(main());
    REQUIRE(events.log == std::vector<std::string>{"main created the task", "task step 1",
                                                   "task step 2", "main woke"});
}

TEST_CASE("two tasks interleave at each await, in the order they were created", "[task]") {
    static Events events;
    events.log.clear();
    auto main = []() -> aio::Coro<void> {
        auto a = aio::create_task(record_steps(&events, "a", 2));
        auto b = aio::create_task(record_steps(&events, "b", 2));
        co_await a;
        co_await b;
    };
    run_virtual(main());
    REQUIRE(events.log == std::vector<std::string>{"a step 1", "b step 1", "a step 2", "b step 2"});
}

TEST_CASE("create_task schedules the first step; it never runs the body inline", "[task]") {
    aio::VirtualTimeLoop loop;
    Events events;
    aio::Task<void> task = aio::create_task(loop, record_steps(&events, "task", 1));
    REQUIRE(events.log.empty());
    REQUIRE_FALSE(task.done());
    run_one_iteration(loop);
    REQUIRE(events.log == std::vector<std::string>{"task step 1"});
    loop.run_until_complete(task);
}

TEST_CASE("create_task outside a running loop raises RuntimeError without leaking the coroutine",
          "[task]") {
    aio_test::FrameLeakCheck frames;
    REQUIRE_THROWS_AS(aio::create_task(after(1.0, 1)), aio::RuntimeError);
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("create_task with an empty Coro raises RuntimeError", "[task]") {
    aio::VirtualTimeLoop loop;
    REQUIRE_THROWS_AS(aio::create_task(loop, aio::Coro<int>()), aio::RuntimeError);
}

TEST_CASE("create_task with a Coro that was already awaited raises RuntimeError", "[task]") {
    auto main = []() -> aio::Coro<bool> {
        aio::Coro<int> coro = after(0, 1);
        co_await coro;
        try {
            aio::create_task(std::move(coro));  // asyncio: cannot reuse already awaited coroutine
        } catch (const aio::RuntimeError&) {
            co_return true;
        }
        co_return false;
    };
    REQUIRE(run_virtual(main()));
}

// --- names ---------------------------------------------------------------------------------

TEST_CASE("a task without a name is called Task-N, with N counting up", "[task][name]") {
    aio::VirtualTimeLoop loop;
    auto first = aio::create_task(loop, after(0, 1));
    auto second = aio::create_task(loop, after(0, 2));
    const std::string name = first.get_name();
    REQUIRE(name.rfind("Task-", 0) == 0);
    const int n = std::stoi(name.substr(5));
    REQUIRE(second.get_name() == "Task-" + std::to_string(n + 1));
    loop.run_until_complete(second);
}

TEST_CASE("create_task's name argument names the task, and set_name renames it", "[task][name]") {
    aio::VirtualTimeLoop loop;
    auto task = aio::create_task(loop, after(0, 1), "worker");
    REQUIRE(task.get_name() == "worker");
    task.set_name("renamed");
    REQUIRE(task.get_name() == "renamed");
    REQUIRE_THAT(task.base().describe(), Catch::Contains("name='renamed'"));
    loop.run_until_complete(task);
}

// --- current_task and all_tasks -------------------------------------------------------------

TEST_CASE("current_task is the running task inside it and null outside any task",
          "[task][current]") {
    static aio::AbstractTask* seen_inside = nullptr;
    static aio::AbstractTask* seen_in_callback = reinterpret_cast<aio::AbstractTask*>(1);
    auto body = []() -> aio::Coro<void> {
        seen_inside = aio::current_task();
        aio::get_running_loop().call_soon([] { seen_in_callback = aio::current_task(); });
        co_await aio::sleep(0);
    };
    aio::VirtualTimeLoop loop;
    REQUIRE(aio::current_task() == nullptr);
    auto task = aio::create_task(loop, body());
    loop.run_until_complete(task);
    REQUIRE(seen_inside == &task.base());
    REQUIRE(seen_in_callback == nullptr);
    REQUIRE(aio::current_task() == nullptr);
}

TEST_CASE("all_tasks lists the pending tasks of the loop, the current one included",
          "[task][all_tasks]") {
    auto main = []() -> aio::Coro<bool> {
        auto done_soon = aio::create_task(after(0, 1));
        auto sleeper = aio::create_task(after(10.0, 2));
        co_await done_soon;
        std::vector<aio::TaskBase*> tasks = aio::all_tasks();
        auto contains = [&tasks](aio::TaskBase* task) {
            return std::find(tasks.begin(), tasks.end(), task) != tasks.end();
        };
        const bool current_listed = std::any_of(tasks.begin(), tasks.end(), [](aio::TaskBase* task) {
            return static_cast<aio::AbstractTask*>(task) == aio::current_task();
        });
        const bool right = tasks.size() == 2 && current_listed && contains(&sleeper.base()) &&
                           !contains(&done_soon.base());
        sleeper.cancel();
        co_return right;
    };
    REQUIRE(run_virtual(main()));
}

TEST_CASE("all_tasks(loop) is empty once every task is done", "[task][all_tasks]") {
    aio::VirtualTimeLoop loop;
    auto task = aio::create_task(loop, after(1.0, 1));
    REQUIRE(aio::all_tasks(loop).size() == 1);
    loop.run_until_complete(task);
    REQUIRE(aio::all_tasks(loop).empty());
}

// --- a task is a future ----------------------------------------------------------------------

TEST_CASE("a task is a future: its done callbacks run when it finishes", "[task][future]") {
    aio::VirtualTimeLoop loop;
    Events events;
    aio::Task<int> task = aio::create_task(loop, after(2.0, 5));
    task.add_done_callback([&events](const aio::Future<int>& done) {
        events.record("done with ", done.result());
    });
    aio::Future<int> as_future = task;
    loop.run_until_complete(as_future);
    loop.call_soon([&loop] { loop.stop(); });  // the callback was scheduled after the stopper
    loop.run_forever();
    REQUIRE(events.log == std::vector<std::string>{"done with 5"});
    REQUIRE(as_future.result() == 5);
}

TEST_CASE("awaiting another task returns its result", "[task][await]") {
    auto main = []() -> aio::Coro<int> {
        auto task = aio::create_task(after(3.0, 7));
        int value = co_await task;
        co_return value + (task.done() ? 100 : 0);
    };
    REQUIRE(run_virtual(main()) == 107);
}

TEST_CASE("awaiting a failed task rethrows its exception", "[task][await]") {
    auto main = []() -> aio::Coro<std::string> {
        auto task = aio::create_task(fail_after(1.0, "inner failure"));
        try {
            co_await task;
        } catch (const std::runtime_error& error) {
            co_return error.what();
        }
        co_return "nothing";
    };
    REQUIRE(run_virtual(main()) == "inner failure");
}

TEST_CASE("several tasks may await the same task", "[task][await]") {
    static int total = 0;
    total = 0;
    auto waiter = [](aio::Task<int> task) -> aio::Coro<void> { total += co_await task; };
    aio::VirtualTimeLoop loop;
    auto shared = aio::create_task(loop, after(1.0, 10));
    auto first = aio::create_task(loop, waiter(shared));
    auto second = aio::create_task(loop, waiter(shared));
    loop.run_until_complete(second);
    REQUIRE(first.done());
    REQUIRE(total == 20);
}

TEST_CASE("a task awaiting itself raises RuntimeError at that await", "[task][await]") {
    struct Shared {
        std::optional<aio::Task<bool>> self;
    };
    static Shared shared;
    auto body = []() -> aio::Coro<bool> {
        co_await aio::sleep(0);  // let create_task's caller store the handle
        try {
            co_await *shared.self;
        } catch (const aio::RuntimeError&) {
            co_return true;
        }
        co_return false;
    };
    aio::VirtualTimeLoop loop;
    shared.self = aio::create_task(loop, body());
    aio::Task<bool> task = *shared.self;
    const bool raised = loop.run_until_complete(task);
    shared.self.reset();
    REQUIRE(raised);
}

TEST_CASE("a task awaiting a future of another loop raises RuntimeError", "[task][await]") {
    static aio::VirtualTimeLoop* other_loop = nullptr;
    auto body = []() -> aio::Coro<bool> {
        aio::Future<int> foreign(*other_loop);
        try {
            co_await foreign;
        } catch (const aio::RuntimeError&) {
            co_return true;
        }
        co_return false;
    };
    aio::VirtualTimeLoop other;
    other_loop = &other;
    REQUIRE(run_virtual(body()));
}

TEST_CASE("a task that suspends on an awaitable outside aio's protocol fails with RuntimeError",
          "[task][await]") {
    aio_test::FrameLeakCheck frames;
    auto body = []() -> aio::Coro<int> {
        co_await std::suspend_always{};  // nobody will ever resume this
        co_return 1;
    };
    {
        aio::VirtualTimeLoop loop;
        auto task = aio::create_task(loop, body());
        REQUIRE_THROWS_AS(loop.run_until_complete(task), aio::RuntimeError);
    }
    REQUIRE(frames.leaked() == 0);
}

// --- lifetime and reports --------------------------------------------------------------------

TEST_CASE("dropping every Task handle does not destroy a running task", "[task][lifetime]") {
    static bool finished = false;
    auto main = []() -> aio::Coro<void> {
        {
            auto dropped = aio::create_task(set_flag_after(5.0, &finished));
        }
        co_await aio::sleep(10.0);
    };
    aio_test::FrameLeakCheck frames;
    run_virtual(main());
    REQUIRE(finished);
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a failed task nobody awaited reports 'Task exception was never retrieved'",
          "[task][report]") {
    aio_test::StderrCapture err;
    auto main = []() -> aio::Coro<void> {
        {
            auto forgotten = aio::create_task(fail_after(1.0, "forgotten failure"));
        }
        co_await aio::sleep(2.0);
    };
    run_virtual(main());
    const std::string text = err.text();
    REQUIRE(aio_test::count_occurrences(text, "Task exception was never retrieved") == 1);
    REQUIRE_THAT(text, Catch::Contains("forgotten failure"));
}

TEST_CASE("a failed task whose exception was retrieved is not reported", "[task][report]") {
    aio_test::StderrCapture err;
    auto main = []() -> aio::Coro<void> {
        auto awaited = aio::create_task(fail_after(1.0, "seen"));
        try {
            co_await awaited;
        } catch (const std::runtime_error&) {
        }
    };
    run_virtual(main());
    REQUIRE_THAT(err.text(), !Catch::Contains("never retrieved"));
}

TEST_CASE("closing a loop with a pending task reports it and frees its frame",
          "[task][report][lifetime]") {
    aio_test::FrameLeakCheck frames;
    auto held = std::make_shared<int>(0);
    auto hold_forever = [](std::shared_ptr<int> kept) -> aio::Coro<void> {
        co_await aio::sleep(1e6);
        ++*kept;
    };
    aio_test::StderrCapture err;
    {
        aio::VirtualTimeLoop loop;
        auto task = aio::create_task(loop, hold_forever(held), "stuck");
        run_one_iteration(loop);
        REQUIRE(held.use_count() == 2);
        loop.close();
        REQUIRE(task.cancelled());
    }
    const std::string text = err.text();
    REQUIRE(aio_test::count_occurrences(text, "Task was destroyed but it is pending!") == 1);
    REQUIRE_THAT(text, Catch::Contains("name='stuck'"));
    REQUIRE(held.use_count() == 1);
    REQUIRE(*held == 0);  // the body never resumed: only its destructors ran
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a task that never started is also reported when its loop closes", "[task][report]") {
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture err;
    {
        aio::VirtualTimeLoop loop;
        auto task = aio::create_task(loop, after(1.0, 1));
    }
    REQUIRE_THAT(err.text(), Catch::Contains("Task was destroyed but it is pending!"));
    REQUIRE(frames.leaked() == 0);
}
