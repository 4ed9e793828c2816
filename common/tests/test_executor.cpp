// Executors: ThreadPoolExecutor, loop.run_in_executor() and aio::to_thread() (asyncio's
// run_in_executor and to_thread). The outcome of work on another thread comes back to the
// loop's thread; cancelling the waiter or closing the loop drops it cleanly.
//
// No test depends on timing: threads meet through std::latch, and "the completion has
// arrived" is known by awaiting a later job of the same one-thread pool (FIFO).
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "aio/executor.hpp"
#include "aio/gather.hpp"
#include "test_support.hpp"

using aio_test::Events;
using aio_test::FrameLeakCheck;

namespace {

int add(int a, int b) { return a + b; }

aio::Coro<int> sum_on_thread(int a, int b) { co_return co_await aio::to_thread(add, a, b); }

aio::Coro<std::string> throw_on_thread() {
    std::string caught;
    try {
        co_await aio::to_thread([] { throw std::domain_error("bad input"); });
    } catch (const std::domain_error& error) {
        caught = error.what();
    }
    co_return caught;
}

aio::Coro<std::thread::id> thread_of_to_thread() {
    co_return co_await aio::to_thread([] { return std::this_thread::get_id(); });
}

}  // namespace

TEST_CASE("to_thread returns the function's value", "[executor]") {
    REQUIRE(aio::run(sum_on_thread(2, 3)) == 5);
}

TEST_CASE("to_thread rethrows the function's exception in the awaiting task", "[executor]") {
    REQUIRE(aio::run(throw_on_thread()) == "bad input");
}

namespace {
aio::Coro<int> move_only_round_trip() {
    // A move-only function and a move-only argument and result travel by move.
    auto boxed = std::make_unique<int>(20);
    std::unique_ptr<int> result = co_await aio::to_thread(
        [](std::unique_ptr<int> value) {
            *value += 1;
            return value;
        },
        std::move(boxed));
    std::function<int()> copyable = [] { return 21; };
    co_return *result + co_await aio::to_thread(copyable);
}

aio::Coro<int> void_then_value() {
    int written = 0;
    co_await aio::to_thread([&written] { written = 7; });  // void: the await just returns
    co_return written;
}
}  // namespace

TEST_CASE("to_thread takes move-only functions, arguments and results, and void", "[executor]") {
    REQUIRE(aio::run(move_only_round_trip()) == 42);
    REQUIRE(aio::run(void_then_value()) == 7);
}

TEST_CASE("the function runs on another thread than the loop's", "[executor]") {
    REQUIRE(aio::run(thread_of_to_thread()) != std::this_thread::get_id());
}

namespace {
aio::Coro<int> many_to_thread(int count) {
    std::vector<aio::Task<int>> tasks;
    for (int i = 0; i < count; ++i) tasks.push_back(aio::create_task(sum_on_thread(i, 1)));
    std::vector<int> results = co_await aio::gather(std::move(tasks));
    int total = 0;
    for (int i = 0; i < count; ++i) {
        if (results[static_cast<std::size_t>(i)] != i + 1) co_return -1;  // wrong slot
        total += results[static_cast<std::size_t>(i)];
    }
    co_return total;
}
}  // namespace

TEST_CASE("many concurrent to_thread calls each get their own result", "[executor]") {
    FrameLeakCheck frames;
    REQUIRE(aio::run(many_to_thread(500)) == 500 * 501 / 2);
    REQUIRE(frames.leaked() == 0);
}

namespace {
// Each call blocks until both have arrived: with one thread they could never both finish.
aio::Coro<int> two_calls_that_meet(std::latch* both) {
    auto meet = [](std::latch* latch, int value) {
        latch->arrive_and_wait();
        return value;
    };
    aio::Task<int> first = aio::create_task(aio::to_thread(meet, both, 1));
    aio::Task<int> second = aio::create_task(aio::to_thread(meet, both, 2));
    int total = co_await first;
    total += co_await second;
    co_return total;
}
}  // namespace

TEST_CASE("two calls run in parallel: each waits for the other and both finish", "[executor]") {
    std::latch both(2);
    aio::SelectorEventLoop loop;
    loop.set_default_executor(std::make_shared<aio::ThreadPoolExecutor>(2));
    REQUIRE(loop.run_until_complete(two_calls_that_meet(&both)) == 3);
}

namespace {
struct CancelScene {
    aio::ThreadPoolExecutor pool{1};
    std::latch started{1};
    std::latch release{1};
    std::weak_ptr<int> result;  // written by the worker, read after a later job came back
    Events events;
};

aio::Coro<void> await_blocked_job(CancelScene* scene) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<std::shared_ptr<int>> future = loop.run_in_executor(scene->pool, [scene] {
        scene->started.count_down();
        scene->release.wait();
        auto value = std::make_shared<int>(42);
        scene->result = value;
        return value;
    });
    std::shared_ptr<int> value = co_await future;
    scene->events.record("got ", *value);  // never: cancelled first
}

aio::Coro<void> cancel_while_running(CancelScene* scene) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Task<void> waiter = aio::create_task(await_blocked_job(scene));
    co_await aio::sleep(0);  // the waiter submits its job
    scene->started.wait();   // the job is running now
    waiter.cancel();
    bool cancelled = false;
    try {
        co_await waiter;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    scene->events.record("waiter cancelled: ", cancelled, ", jobs in flight: ", loop.executor_jobs_in_flight());
    scene->release.count_down();  // the job finishes now, for nobody
    // The pool has one thread and runs jobs in order: when this one is back, so is the
    // cancelled job's completion (queued first), which dropped the result.
    co_await loop.run_in_executor(scene->pool, [] {});
    scene->events.record("jobs in flight: ", loop.executor_jobs_in_flight(),
                         ", result freed: ", scene->result.expired());
}
}  // namespace

TEST_CASE("a cancelled waiter does not stop the thread, and the result is dropped when it arrives",
          "[executor][cancel]") {
    FrameLeakCheck frames;
    CancelScene scene;
    aio::run(cancel_while_running(&scene));
    REQUIRE(scene.events.log == std::vector<std::string>{"waiter cancelled: 1, jobs in flight: 1",
                                                         "jobs in flight: 0, result freed: 1"});
    REQUIRE(frames.leaked() == 0);
}

namespace {
aio::Coro<void> cancel_before_start(aio::ThreadPoolExecutor* pool, std::latch* release, Events* events) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<void> blocker = loop.run_in_executor(*pool, [release] { release->wait(); });
    aio::Future<void> queued = loop.run_in_executor(*pool, [events] { events->record("queued job ran"); });
    queued.cancel();            // still in the queue, behind the blocker
    release->count_down();
    co_await blocker;
    co_await loop.run_in_executor(*pool, [events] { events->record("later job ran"); });
}
}  // namespace

TEST_CASE("a job whose future is cancelled before it starts is skipped", "[executor][cancel]") {
    aio::ThreadPoolExecutor pool(1);
    std::latch release(1);
    Events events;  // written by the one worker only, read after it is done
    aio::run(cancel_before_start(&pool, &release, &events));
    REQUIRE(events.log == std::vector<std::string>{"later job ran"});
}

namespace {
aio::Coro<void> start_blocked_job(aio::ThreadPoolExecutor* pool, CancelScene* scene) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<std::shared_ptr<int>> future = loop.run_in_executor(*pool, [scene] {
        scene->started.count_down();
        scene->release.wait();
        auto value = std::make_shared<int>(1);
        scene->result = value;
        return value;
    });
    co_await future;  // never: the loop closes first
}
}  // namespace

TEST_CASE("a job still running when its loop is closed and destroyed is dropped safely",
          "[executor][close]") {
    FrameLeakCheck frames;
    aio::ThreadPoolExecutor pool(1);  // outlives the loop: destroying the loop waits for nothing
    CancelScene scene;
    {
        aio::SelectorEventLoop loop;
        aio::Task<void> task = aio::create_task(loop, start_blocked_job(&pool, &scene));
        loop.call_soon([&loop] { loop.stop(); });
        loop.run_forever();  // the task submitted its job
        scene.started.wait();
        REQUIRE(loop.executor_jobs_in_flight() == 1);
        aio_test::StderrCapture err;  // the pending task is reported as destroyed
        loop.close();
        REQUIRE(loop.executor_jobs_in_flight() == 0);
        (void)err.text();
    }
    scene.release.count_down();  // the worker finishes after the loop is gone
    pool.shutdown(true);
    REQUIRE(scene.result.expired());  // the worker freed its job and the result
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a result handed back but not yet run when the loop closes is freed by close()",
          "[executor][close]") {
    aio::ThreadPoolExecutor pool(1);
    std::weak_ptr<int> result;
    {
        aio::SelectorEventLoop loop;
        aio::Future<std::shared_ptr<int>> future = loop.run_in_executor(pool, [&result] {
            auto value = std::make_shared<int>(1);
            result = value;
            return value;
        });
        pool.shutdown(true);  // the job ran and its completion waits in the loop's inbox
        REQUIRE_FALSE(result.expired());
        loop.close();
        REQUIRE_FALSE(future.done());  // dropped, not delivered
    }
    REQUIRE(result.expired());
}

TEST_CASE("closing a loop shuts its default executor down without waiting", "[executor][close]") {
    std::latch release(1);
    std::atomic<bool> finished{false};
    auto loop = std::make_unique<aio::SelectorEventLoop>();
    {
        aio::Future<void> future = loop->run_in_executor([&] {
            release.wait();
            finished = true;
        });
        loop->close();  // returns while the job still waits
        REQUIRE_FALSE(finished);
        REQUIRE_FALSE(future.done());
        REQUIRE_THROWS_AS(loop->run_in_executor([] {}), aio::RuntimeError);
    }
    release.count_down();
    loop.reset();  // the default executor's destructor joins its thread
    REQUIRE(finished);
}

namespace {
struct RunShutdownScene {
    std::latch started{1};
    std::latch release{1};
    std::atomic<bool> finished{false};
    aio::EventLoop* loop = nullptr;
};

aio::Coro<void> wait_for_job_that_needs_the_loop(RunShutdownScene* scene) {
    try {
        co_await aio::to_thread([scene] {
            scene->started.count_down();
            scene->release.wait();
            // Needs the loop to keep running while aio::run shuts the executor down.
            std::latch ran(1);
            scene->loop->call_soon_threadsafe([&ran] { ran.count_down(); });
            ran.wait();
            scene->finished = true;
        });
    } catch (...) {
        scene->release.count_down();  // cancelled by aio::run's shutdown: let the job go on
        throw;
    }
}

aio::Coro<void> leave_job_running(RunShutdownScene* scene) {
    scene->loop = &aio::get_running_loop();
    aio::create_task(wait_for_job_that_needs_the_loop(scene));
    co_await aio::sleep(0);  // the task submits its job
    // Running, not just queued: a job cancelled before it starts is skipped.
    scene->started.wait();
}
}  // namespace

TEST_CASE("aio::run waits for the default executor's threads while the loop keeps running",
          "[executor][run]") {
    RunShutdownScene scene;
    aio::run(leave_job_running(&scene));
    REQUIRE(scene.finished);
}

namespace {
aio::Coro<void> to_thread_beside_a_sleeper(Events* events) {
    aio::EventLoop& loop = aio::get_running_loop();
    auto sleeper = [](Events* log) -> aio::Coro<void> {
        co_await aio::sleep(10);
        log->record("sleeper woke at ", aio::to_seconds(aio::get_running_loop().time()));
    };
    aio::Task<void> task = aio::create_task(sleeper(events));
    int value = co_await aio::to_thread(add, 1, 2);
    events->record("to_thread returned ", value, " at ", aio::to_seconds(loop.time()));
    co_await task;
}

aio::Coro<int> only_to_thread() { co_return co_await aio::to_thread(add, 20, 22); }
}  // namespace

TEST_CASE("under VirtualTimeLoop, to_thread waits in real time with the clock stopped",
          "[executor][virtual_time]") {
    SECTION("with nothing else to do, the loop waits for the thread instead of reporting a deadlock") {
        REQUIRE(aio_test::run_virtual(only_to_thread()) == 42);
    }
    SECTION("a pending timer does not fire before the thread's result arrives") {
        Events events;
        aio_test::run_virtual(to_thread_beside_a_sleeper(&events));
        REQUIRE(events.log == std::vector<std::string>{"to_thread returned 3 at 0", "sleeper woke at 10"});
    }
}

namespace {
/// Runs each job on a new thread of its own, and counts them.
class ThreadPerJobExecutor final : public aio::Executor {
public:
    ~ThreadPerJobExecutor() override { shutdown(true); }
    void submit(aio::Callback job) override {
        std::lock_guard lock(mutex_);
        if (shut_down_) throw aio::RuntimeError("ThreadPerJobExecutor: shut down");
        ++submitted;
        threads_.emplace_back([job = std::move(job)]() mutable { job(); });
    }
    void shutdown(bool wait) override {
        std::vector<std::thread> threads;
        {
            std::lock_guard lock(mutex_);
            shut_down_ = true;
            threads.swap(threads_);
        }
        for (std::thread& thread : threads) wait ? thread.join() : thread.detach();
    }
    std::atomic<int> submitted{0};

private:
    std::mutex mutex_;
    std::vector<std::thread> threads_;
    bool shut_down_ = false;
};

/// Accepts every job and destroys it at once without running it.
class DroppingExecutor final : public aio::Executor {
public:
    void submit(aio::Callback) override {}
    void shutdown(bool) override {}
};

aio::Coro<int> run_on(aio::Executor* executor) {
    co_return co_await aio::get_running_loop().run_in_executor(*executor, add, 40, 2);
}
}  // namespace

TEST_CASE("run_in_executor runs the function on the executor it is given", "[executor]") {
    ThreadPerJobExecutor executor;
    REQUIRE(aio::run(run_on(&executor)) == 42);
    REQUIRE(executor.submitted == 1);
}

TEST_CASE("to_thread uses the executor set with set_default_executor", "[executor]") {
    auto executor = std::make_shared<ThreadPerJobExecutor>();
    aio::SelectorEventLoop loop;
    loop.set_default_executor(executor);
    REQUIRE(loop.run_until_complete(sum_on_thread(1, 1)) == 2);
    REQUIRE(executor->submitted == 1);
}

TEST_CASE("a job its executor drops unrun fails its future instead of hanging", "[executor]") {
    DroppingExecutor executor;
    REQUIRE_THROWS_WITH(aio_test::run_virtual(run_on(&executor)),
                        Catch::Contains("dropped the job without running it"));
}

TEST_CASE("the default executor is made on first use, once per loop", "[executor]") {
    aio::SelectorEventLoop loop;
    REQUIRE_FALSE(loop.has_default_executor());
    REQUIRE(loop.run_until_complete(sum_on_thread(1, 2)) == 3);
    REQUIRE(loop.has_default_executor());
    aio::Executor* first = &loop.default_executor();
    REQUIRE(loop.run_until_complete(sum_on_thread(1, 2)) == 3);
    REQUIRE(&loop.default_executor() == first);
    aio::SelectorEventLoop other;
    REQUIRE(&other.default_executor() != first);
}

TEST_CASE("ThreadPoolExecutor starts its threads on demand, up to max_workers", "[executor]") {
    aio::ThreadPoolExecutor pool(3);
    REQUIRE(pool.max_workers() == 3);
    REQUIRE(pool.thread_count() == 0);
    std::latch all(6);
    for (int i = 0; i < 6; ++i) pool.submit([&all] { all.count_down(); });
    all.wait();
    REQUIRE(pool.thread_count() >= 1);
    REQUIRE(pool.thread_count() <= 3);
    REQUIRE(aio::ThreadPoolExecutor().max_workers() >= 1);
    REQUIRE_THROWS_AS(aio::ThreadPoolExecutor(0), aio::ValueError);
}

namespace {
aio::Coro<void> yield_once() { co_await aio::sleep(0); }
}  // namespace

TEST_CASE("shutdown runs the jobs already queued, then refuses new ones", "[executor][shutdown]") {
    aio::ThreadPoolExecutor pool(1);
    std::atomic<int> ran{0};
    for (int i = 0; i < 10; ++i) pool.submit([&ran] { ++ran; });
    pool.shutdown(true);
    REQUIRE(ran == 10);
    REQUIRE_THROWS_WITH(pool.submit([] {}), Catch::Contains("after shutdown"));
    pool.shutdown(true);  // again: nothing to do

    SECTION("run_in_executor on a shut down executor throws, and leaves nothing in flight") {
        FrameLeakCheck frames;
        aio::VirtualTimeLoop loop;
        REQUIRE_THROWS_AS(loop.run_in_executor(pool, [] { return 1; }), aio::RuntimeError);
        loop.run_until_complete(yield_once());  // the refused job's hand-back runs
        REQUIRE(loop.executor_jobs_in_flight() == 0);
        loop.close();
        REQUIRE(frames.leaked() == 0);
    }
}

namespace {
aio::Coro<bool> to_thread_after_shutdown() {
    co_await aio::get_running_loop().shutdown_default_executor();
    bool refused = false;
    try {
        co_await aio::to_thread([] {});
    } catch (const aio::RuntimeError&) {
        refused = true;
    }
    co_return refused;
}
}  // namespace

TEST_CASE("after shutdown_default_executor, to_thread raises RuntimeError", "[executor][shutdown]") {
    REQUIRE(aio::run(to_thread_after_shutdown()));
}

TEST_CASE("a job cannot shut its own pool down with wait=true", "[executor][shutdown]") {
    aio::ThreadPoolExecutor pool(1);
    std::latch done(1);
    bool refused = false;
    pool.submit([&] {
        try {
            pool.shutdown(true);
        } catch (const aio::RuntimeError&) {
            refused = true;
        }
        done.count_down();
    });
    done.wait();
    REQUIRE(refused);
}
