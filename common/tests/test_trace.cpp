// aio::Tracer (aio/trace.hpp): the Chrome trace a loop writes, parsed back with nlohmann_json.
// VirtualTimeLoop throughout: "ts" is loop time, so the timestamps are exact.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/trace.hpp"
#include "test_support.hpp"

using Json = nlohmann::json;
using Log = std::vector<std::string>;

namespace {

Json parse(const aio::Tracer& tracer) {
    return Json::parse(tracer.to_json());
}

/// The tid of the lane a thread_name metadata event gives `name`.
std::uint64_t lane_of(const Json& trace, const std::string& name) {
    for (const Json& event : trace["traceEvents"])
        if (event["ph"] == "M" && event["name"] == "thread_name" && event["args"]["name"] == name)
            return event["tid"].get<std::uint64_t>();
    FAIL("no lane named " << name);
    return 0;
}

/// "<ph> <cat> <name> @<ts>" for the events of one lane with a category in `categories`, in order.
Log lane_events(const Json& trace, std::uint64_t tid, const std::vector<std::string>& categories) {
    Log log;
    for (const Json& event : trace["traceEvents"]) {
        if (event["ph"] == "M" || event["tid"].get<std::uint64_t>() != tid) continue;
        const std::string category = event["cat"];
        if (std::find(categories.begin(), categories.end(), category) == categories.end()) continue;
        std::ostringstream line;
        line.precision(15);  // whole microseconds print as integers
        line << event["ph"].get<std::string>() << ' ' << category << ' '
             << event["name"].get<std::string>() << " @" << event["ts"].get<double>();
        if (event.contains("dur")) line << " +" << event["dur"].get<double>();
        if (event.contains("args") && event["args"].contains("awaits"))
            line << " -> " << event["args"]["awaits"].get<std::string>();
        log.push_back(line.str());
    }
    return log;
}

/// The events with phase `phase` and category `category`.
std::vector<Json> events_of(const Json& trace, const std::string& phase,
                            const std::string& category) {
    std::vector<Json> found;
    for (const Json& event : trace["traceEvents"])
        if (event["ph"] == phase && event.value("cat", "") == category) found.push_back(event);
    return found;
}

aio::Coro<void> sleep_twice() {
    co_await aio::sleep(1.0);
    co_await aio::sleep(0.5);
}

aio::Coro<void> spawn_worker() {
    auto worker = aio::create_task(sleep_twice(), "worker");
    co_await worker;
}

}  // namespace

TEST_CASE("a traced task's lane reads step, wait, step in loop time", "[trace]") {
    aio::VirtualTimeLoop loop;
    auto tracer = std::make_shared<aio::Tracer>();
    loop.set_tracer(tracer);
    loop.run_until_complete(aio::create_task(loop, spawn_worker(), "main"));
    const Json trace = parse(*tracer);

    CHECK(lane_events(trace, lane_of(trace, "worker"), {"step", "wait"}) ==
          Log{"X step worker @0 +0 -> sleep", "X wait sleep @0 +1000000",
              "X step worker @1000000 +0 -> sleep", "X wait sleep @1000000 +500000",
              "X step worker @1500000 +0 -> done"});
    CHECK(lane_events(trace, lane_of(trace, "main"), {"step", "wait", "task"}) ==
          Log{"b task main @0", "X step main @0 +0 -> Task 'worker'", "i task create worker @0",
              "X wait Task 'worker' @0 +1500000", "X step main @1500000 +0 -> done",
              "e task main @1500000"});
}

TEST_CASE("a task's life is an async slice that ends with its outcome", "[trace]") {
    aio::VirtualTimeLoop loop;
    auto tracer = std::make_shared<aio::Tracer>();
    loop.set_tracer(tracer);
    auto body = [](aio::EventLoop* on) -> aio::Coro<void> {
        auto failing = []() -> aio::Coro<void> {
            co_await aio::sleep(0.25);
            throw std::runtime_error("boom");
        };
        auto sleeping = aio::create_task(*on, sleep_twice(), "sleeping");
        auto failing_task = aio::create_task(*on, failing(), "failing");
        co_await aio::sleep(0.5);
        sleeping.cancel();
        try {
            co_await failing_task;
        } catch (const std::runtime_error&) {
        }
        try {
            co_await sleeping;
        } catch (const aio::CancelledError&) {
        }
    };
    loop.run_until_complete(aio::create_task(loop, body(&loop), "main"));
    const Json trace = parse(*tracer);

    Log lives;
    for (const Json& begin : events_of(trace, "b", "task")) {
        for (const Json& end : events_of(trace, "e", "task")) {
            if (end["id"] != begin["id"]) continue;
            std::ostringstream line;
            line << begin["name"].get<std::string>() << " " << begin["ts"].get<double>() << ".."
                 << end["ts"].get<double>() << " " << end["args"]["outcome"].get<std::string>();
            if (end["args"].contains("error"))
                line << " (" << end["args"]["error"].get<std::string>() << ")";
            lives.push_back(line.str());
        }
    }
    CHECK(lives == Log{"main 0..500000 finished", "sleeping 0..500000 cancelled",
                       "failing 0..250000 failed (std::runtime_error: boom)"});
}

TEST_CASE("timers are recorded when scheduled and when they fire", "[trace]") {
    aio::VirtualTimeLoop loop;
    auto tracer = std::make_shared<aio::Tracer>();
    loop.set_tracer(tracer);
    int fired = 0;
    loop.call_later(0.5, [&] { ++fired; });
    loop.call_later(0.75, [&] { loop.stop(); });
    loop.run_forever();
    REQUIRE(fired == 1);
    const Json trace = parse(*tracer);

    std::vector<Json> scheduled = events_of(trace, "i", "timer");
    REQUIRE(scheduled.size() == 2);
    CHECK(scheduled[0]["name"] == "timer scheduled");
    CHECK(scheduled[0]["args"]["due_us"].get<double>() == 500000);
    CHECK(scheduled[1]["args"]["delay_us"].get<double>() == 750000);
    Log fired_at;
    for (const Json& timer : events_of(trace, "X", "timer"))
        fired_at.push_back(timer["name"].get<std::string>() + " @" +
                           std::to_string(timer["ts"].get<int>()));
    CHECK(fired_at == Log{"timer @500000", "timer @750000"});
    // No task ran: every event is on the loop's own lane.
    CHECK(lane_of(trace, "event loop") == scheduled[0]["tid"].get<std::uint64_t>());
}

TEST_CASE("plain callbacks appear on the event loop lane under their description", "[trace]") {
    aio::VirtualTimeLoop loop;
    auto tracer = std::make_shared<aio::Tracer>();
    loop.set_tracer(tracer);
    loop.call_soon([] {});
    loop.call_soon([&] { loop.stop(); });
    loop.run_forever();
    const Json trace = parse(*tracer);
    CHECK(lane_events(trace, lane_of(trace, "event loop"), {"callback"}) ==
          Log{"X callback <Handle> @0 +0", "X callback <Handle> @0 +0"});
}

TEST_CASE("I/O waits are async slices from add_reader to remove_reader", "[trace]") {
    aio::VirtualTimeLoop loop;
    auto tracer = std::make_shared<aio::Tracer>();
    loop.set_tracer(tracer);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    loop.add_reader(fds[0], [&] {
        char byte;
        REQUIRE(::read(fds[0], &byte, 1) == 1);
        loop.remove_reader(fds[0]);
        loop.stop();
    });
    loop.call_later(2.0, [&] { REQUIRE(::write(fds[1], "x", 1) == 1); });
    loop.run_forever();
    ::close(fds[0]);
    ::close(fds[1]);
    const Json trace = parse(*tracer);

    const std::string name = "fd " + std::to_string(fds[0]) + " readable";
    std::vector<Json> begins = events_of(trace, "b", "io");
    std::vector<Json> ends = events_of(trace, "e", "io");
    REQUIRE(begins.size() == 1);
    REQUIRE(ends.size() == 1);
    CHECK(begins[0]["name"] == name);
    CHECK(ends[0]["name"] == name);
    CHECK(begins[0]["id"] == ends[0]["id"]);
    CHECK(begins[0]["ts"].get<double>() == 0);
    CHECK(ends[0]["ts"].get<double>() >= 2000000);
}

TEST_CASE("a loop records nothing once its tracer is removed or stopped", "[trace]") {
    aio::VirtualTimeLoop loop;
    auto tracer = std::make_shared<aio::Tracer>();
    loop.set_tracer(tracer);
    loop.run_until_complete(sleep_twice());
    const std::size_t traced = tracer->event_count();
    CHECK(traced > 0);

    tracer->stop();
    CHECK_FALSE(tracer->recording());
    loop.run_until_complete(sleep_twice());
    CHECK(tracer->event_count() == traced);

    loop.set_tracer(nullptr);
    CHECK(loop.tracer() == nullptr);
    loop.run_until_complete(sleep_twice());
    CHECK(tracer->event_count() == traced);
}

TEST_CASE("trace::start traces the loops created afterwards and stop writes the file", "[trace]") {
    char path[] = "/tmp/aio_test_trace_XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);

    aio::trace::start(path);
    REQUIRE(aio::trace::active() != nullptr);
    aio::RunOptions options;
    options.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); };
    aio::run(spawn_worker(), std::move(options));
    aio::trace::stop();
    CHECK(aio::trace::active() == nullptr);

    std::ifstream in(path);
    const Json trace = Json::parse(in);
    std::remove(path);
    Log processes;
    for (const Json& event : trace["traceEvents"])
        if (event["ph"] == "M" && event["name"] == "process_name")
            processes.push_back(event["args"]["name"]);
    CHECK(processes.size() == 1);
    CHECK(lane_events(trace, lane_of(trace, "worker"), {"step"}).size() == 3);
    CHECK(trace["otherData"]["generator"] == "aio::Tracer");
}

TEST_CASE("trace::start during a run also traces the running loop", "[trace]") {
    auto body = []() -> aio::Coro<void> {
        aio::trace::start("");  // in memory only: no path
        co_await aio::sleep(1.0);
    };
    aio::VirtualTimeLoop loop;
    loop.run_until_complete(body());
    std::shared_ptr<aio::Tracer> tracer = aio::trace::active();
    REQUIRE(tracer != nullptr);
    CHECK(loop.tracer() == tracer.get());
    aio::trace::stop();
    const Json trace = parse(*tracer);
    CHECK(events_of(trace, "X", "timer").size() == 1);
}

TEST_CASE("a task renamed after creation gets its new name on its lane", "[trace]") {
    aio::VirtualTimeLoop loop;
    auto tracer = std::make_shared<aio::Tracer>();
    loop.set_tracer(tracer);
    auto task = aio::create_task(loop, sleep_twice(), "before");
    task.set_name("after");
    loop.run_until_complete(task);
    const Json trace = parse(*tracer);
    CHECK(lane_events(trace, lane_of(trace, "after"), {"step"}).size() == 3);
}

TEST_CASE("a virtual-time loop destroyed with a task pending leaves no event at a real-clock time", "[trace]") {
    auto tracer = std::make_shared<aio::Tracer>();
    {
        aio_test::StderrCapture reports;  // "Task was destroyed but it is pending!"
        aio::VirtualTimeLoop loop;
        loop.set_tracer(tracer);
        auto forever = aio::create_task(loop, sleep_twice(), "pending");
        loop.run_until_complete(sleep_twice());
        (void)forever;
    }
    const Json trace = parse(*tracer);
    double latest = 0;
    for (const Json& event : trace["traceEvents"])
        if (event["ph"] != "M") latest = std::max(latest, event["ts"].get<double>());
    CHECK(latest == 1500000);
}
