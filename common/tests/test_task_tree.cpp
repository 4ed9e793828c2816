// aio::format_task_tree (asyncio.format_call_graph, drawn from the top): every pending task
// and what it awaits, compared as whole strings.
#include <catch2/catch.hpp>

#include <string>

#include "aio/gather.hpp"
#include "aio/task_tree.hpp"
#include "test_support.hpp"

namespace {

aio::Coro<void> sleep_for(double seconds) {
    co_await aio::sleep(seconds);
}
aio::Coro<void> await_future(aio::Future<void> future) {
    co_await future;
}
aio::Coro<void> await_task(aio::Task<void> task) {
    co_await task;
}

/// Waits a second, draws the tree into `*tree`, then lets `release` finish.
aio::Coro<void> draw_tree(std::string* tree, aio::Future<void> release) {
    co_await aio::sleep(1.0);
    *tree = aio::format_task_tree();
    release.set_result();
}

}  // namespace

TEST_CASE("the tree shows a task awaiting a gather of tasks, a nested task and a future",
          "[task_tree]") {
    auto body = [](std::string* tree) -> aio::Coro<void> {
        aio::EventLoop& loop = aio::get_running_loop();
        aio::Future<void> release(loop);
        aio::Future<void> finished(loop);
        finished.set_result();
        auto inner = aio::create_task(await_future(release), "inner");
        auto drawer = aio::create_task(draw_tree(tree, release), "drawer");
        auto gathering = aio::gather(aio::create_task(sleep_for(10), "fetch 1"),
                                     aio::create_task(await_task(inner), "fetch 2"), finished);
        co_await std::move(gathering);
        co_await drawer;
    };
    std::string tree;
    aio::VirtualTimeLoop loop;
    loop.run_until_complete(aio::create_task(loop, body(&tree), "main"));

    CHECK(tree ==
          "Task(name='main')\n"
          "└── gather(3 children)\n"
          "    ├── Task(name='fetch 1') awaiting sleep\n"
          "    ├── Task(name='fetch 2')\n"
          "    │   └── Task(name='inner') awaiting <Future pending>\n"
          "    └── <Future finished>\n"
          "Task(name='drawer') running\n");
}

TEST_CASE("a task scheduled but not yet stepped is ready, a done child says so", "[task_tree]") {
    auto body = []() -> aio::Coro<std::string> {
        auto quick = aio::create_task(sleep_for(0), "quick");
        auto slow = aio::create_task(sleep_for(5), "slow");
        co_await aio::sleep(1);  // quick is done, slow sleeps
        auto gathering = aio::gather(quick, slow);
        auto late = aio::create_task(sleep_for(1), "late");
        std::string tree = aio::format_task_tree();
        co_await std::move(gathering);
        co_await late;
        co_return tree;
    };
    aio::VirtualTimeLoop loop;
    std::string tree = loop.run_until_complete(aio::create_task(loop, body(), "main"));
    CHECK(tree ==
          "Task(name='main') running\n"
          "Task(name='slow') awaiting sleep\n"
          "Task(name='late') ready\n");
}

TEST_CASE("a gather's done child and a task awaited twice are drawn once", "[task_tree]") {
    auto body = [](std::string* tree) -> aio::Coro<void> {
        aio::EventLoop& loop = aio::get_running_loop();
        aio::Future<void> release(loop);
        auto shared = aio::create_task(await_future(release), "shared");
        auto quick = aio::create_task(sleep_for(0), "quick");
        auto first = aio::create_task(await_task(shared), "first");
        auto drawer = aio::create_task(draw_tree(tree, release), "drawer");
        co_await aio::sleep(0.5);
        auto gathering = aio::gather(quick, first, shared);
        co_await std::move(gathering);
        co_await drawer;
    };
    std::string tree;
    aio::VirtualTimeLoop loop;
    loop.run_until_complete(aio::create_task(loop, body(&tree), "main"));
    CHECK(tree ==
          "Task(name='main')\n"
          "└── gather(3 children)\n"
          "    ├── Task(name='quick') done\n"
          "    ├── Task(name='first')\n"
          "    │   └── Task(name='shared') awaiting <Future pending>\n"
          "    └── Task(name='shared') (shown above)\n"
          "Task(name='drawer') running\n");
}

TEST_CASE("print_task_tree writes the tree, and outside a loop there is no tree", "[task_tree]") {
    CHECK_THROWS_AS(aio::format_task_tree(), aio::RuntimeError);
    auto body = []() -> aio::Coro<void> {
        aio_test::StderrCapture captured;
        aio::print_task_tree(stderr);
        CHECK(captured.text() == "Task(name='main') running\n");
        co_return;
    };
    aio::VirtualTimeLoop loop;
    loop.run_until_complete(aio::create_task(loop, body(), "main"));
}

TEST_CASE("describe_awaited names sleeps, tasks, gathers and futures", "[task_tree]") {
    aio::VirtualTimeLoop loop;
    aio::Future<int> future(loop);
    auto task = aio::create_task(loop, sleep_for(0), "child");
    auto gathering = aio::gather(task);
    CHECK(aio::describe_awaited(future.waitable()) == "<Future pending>");
    CHECK(aio::describe_awaited(task.waitable()) == "Task 'child'");
    CHECK(aio::describe_awaited(gathering.waitable()) == "gather");
    loop.run_until_complete(gathering);
    // A loop whose tasks are done has an empty tree.
    CHECK(aio::format_task_tree(loop).empty());
}
