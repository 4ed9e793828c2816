// aio::timed and aio::async_timed (aio/timed.hpp): start and end reports with loop-time
// durations, exact on the virtual-time loop.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "aio/timed.hpp"
#include "test_support.hpp"

namespace {

/// Records every TimedEvent as "started NAME at T" / "finished NAME after D s [ERROR]", in
/// loop seconds, and restores the default sink when it goes away.
class TimedCapture {
public:
    explicit TimedCapture(aio_test::Events& events) {
        aio::set_timed_sink([&events](const aio::TimedEvent& event) {
            if (event.phase == aio::TimedEvent::Phase::started) {
                events.record("started ", event.name, " at ", aio::to_seconds(event.started_at));
                return;
            }
            // Appended in steps: GCC 12 at -O3 flags `" " + std::string` with a false
            // -Wstringop-overflow.
            std::string line = "finished " + event.name;
            line += " after ";
            events.record(line, aio::to_seconds(event.elapsed), " s");
            if (event.error) events.log.back() += ' ' + aio::describe_exception(event.error);
        });
    }
    TimedCapture(const TimedCapture&) = delete;
    TimedCapture& operator=(const TimedCapture&) = delete;
    ~TimedCapture() { aio::set_timed_sink({}); }
};

aio::Coro<int> slow_add(int a, int b) {
    co_await aio::sleep(1.5);
    co_return a + b;
}

aio::Coro<int> fail_after(double delay) {
    co_await aio::sleep(delay);
    throw aio::ValueError("bad input");
}

aio::Coro<void> nap(double delay) { co_await aio::sleep(delay); }

}  // namespace

TEST_CASE("timed reports the start and the end of an await with its loop-time duration", "[timed]") {
    aio_test::Events events;
    TimedCapture capture(events);

    int sum = aio_test::run_virtual([](aio_test::Events* log) -> aio::Coro<int> {
        co_await aio::sleep(0.5);
        int value = co_await aio::timed(slow_add(2, 3), "slow_add");
        log->record("returned ", value);
        co_return value;
    }(&events));

    CHECK(sum == 5);
    CHECK(events.log == std::vector<std::string>{
                            "started slow_add at 0.5",
                            "finished slow_add after 1.5 s",
                            "returned 5",
                        });
}

TEST_CASE("timed reports a failure, then rethrows it", "[timed]") {
    aio_test::Events events;
    TimedCapture capture(events);

    CHECK_THROWS_WITH(aio_test::run_virtual(aio::timed(fail_after(0.25), "parse")), "bad input");

    CHECK(events.log == std::vector<std::string>{
                            "started parse at 0",
                            "finished parse after 0.25 s aio::ValueError: bad input",
                        });
}

TEST_CASE("a timed await that is cancelled reports CancelledError and the task ends cancelled",
          "[timed][cancel]") {
    aio_test::Events events;
    TimedCapture capture(events);

    aio_test::run_virtual([]() -> aio::Coro<void> {
        aio::Task<void> task = aio::create_task(aio::timed(nap(10.0), "nap"));
        co_await aio::sleep(1.0);
        task.cancel();
        co_await aio::sleep(0);
        co_await aio::sleep(0);
        REQUIRE(task.cancelled());
    }());

    REQUIRE(events.log.size() == 2);
    CHECK(events.log[0] == "started nap at 0");
    CHECK_THAT(events.log[1], Catch::StartsWith("finished nap after 1 s aio::CancelledError"));
}

TEST_CASE("timed accepts a future and a task", "[timed]") {
    aio_test::Events events;
    TimedCapture capture(events);

    aio_test::run_virtual([](aio_test::Events* log) -> aio::Coro<void> {
        aio::EventLoop& loop = aio::get_running_loop();
        aio::Future<int> future(loop);
        loop.call_later(2.0, [future] { future.set_result(42); });
        int from_future = co_await aio::timed(future, "future");
        aio::Task<int> task = aio::create_task(slow_add(1, 1));
        int from_task = co_await aio::timed(task, "task");
        log->record("values ", from_future, " ", from_task);
    }(&events));

    CHECK(events.log == std::vector<std::string>{
                            "started future at 0",
                            "finished future after 2 s",
                            "started task at 2",
                            "finished task after 1.5 s",
                            "values 42 2",
                        });
}

TEST_CASE("async_timed wraps a coroutine function as the decorator does", "[timed]") {
    aio_test::Events events;
    TimedCapture capture(events);

    int total = aio_test::run_virtual([]() -> aio::Coro<int> {
        auto timed_add = aio::async_timed("slow_add", slow_add);
        int first = co_await timed_add(1, 2);
        int second = co_await timed_add(3, 4);
        int third = co_await aio::async_timed("once", slow_add(5, 6));
        co_return first + second + third;
    }());

    CHECK(total == 21);
    CHECK(events.log == std::vector<std::string>{
                            "started slow_add at 0",
                            "finished slow_add after 1.5 s",
                            "started slow_add at 1.5",
                            "finished slow_add after 1.5 s",
                            "started once at 3",
                            "finished once after 1.5 s",
                        });
}

TEST_CASE("the default timed sink writes the decorator's two lines to stderr", "[timed]") {
    aio::set_timed_sink({});
    aio_test::StderrCapture err;
    aio_test::run_virtual(aio::timed(nap(1.5), "nap"));
    CHECK(err.text() == "starting nap\nfinished nap in 1.5000 second(s)\n");
}

TEST_CASE("timed frees every frame it creates", "[timed][frames]") {
    aio_test::FrameLeakCheck frames;
    aio_test::Events events;
    TimedCapture capture(events);
    aio_test::run_virtual(aio::timed(nap(1.0), "nap"));
    CHECK_THROWS_AS(aio_test::run_virtual(aio::timed(fail_after(1.0), "fail")), aio::ValueError);
    CHECK(frames.leaked() == 0);
}
