// Lab 05 benchmarks: the student's cancellation tools, on aio's tasks and VirtualTimeLoop
// (an hour of sleep costs no real time).
//
//   cancel_and_wait_sleepers   N aio tasks sleep for an hour; lab::cancel_and_wait stops
//                              each one and returns once it is done.
//   wait_for_expiring          N lab::wait_for calls on work that sleeps for an hour, with a
//                              1 ms limit: each cancels its work, waits for it, and raises
//                              TimeoutError (the expiry path).
//   timeout_not_expiring       N lab::timeout(1 s, body) scopes around a body that yields
//                              once and returns: the cost of the timer and the bookkeeping
//                              when the deadline is not reached (the common case).
//
// Each checks its counts (tasks cancelled, TimeoutErrors, results) and fails with
// SkipWithError when one is wrong.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include <aio/errors.hpp>
#include <aio/sleep.hpp>
#include <aio/task.hpp>

#include "../bench_support.hpp"
#include "cancellation.hpp"
#include "timeout.hpp"
#include "wait_for.hpp"

namespace {

using aiolab_bench::run_and_check;

constexpr auto an_hour = std::chrono::hours(1);

aio::Coro<void> sleep_an_hour() { co_await aio::sleep(an_hour); }

/// The number of tasks cancelled; -1 if the (virtual) clock moved: nothing waits an hour.
aio::Coro<std::int64_t> cancel_sleepers(aio::EventLoop* loop, std::int64_t count) {
    const aio::TimePoint start = loop->time();
    std::vector<aio::Task<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) tasks.push_back(aio::create_task(*loop, sleep_an_hour()));
    co_await aio::sleep(0);  // every task is asleep now
    std::int64_t cancelled = 0;
    for (aio::Task<void>& task : tasks) {
        aio::Coro<void> stopping = lab::cancel_and_wait(aio::Future<void>(task));
        co_await std::move(stopping);
        if (task.done() && task.cancelled()) ++cancelled;
    }
    co_return loop->time() == start ? cancelled : -1;
}

void cancel_and_wait_sleepers(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "cancel_and_wait_sleepers: the number of tasks cancelled without waiting", 4 * count + 10,
                  count, count, [count](aio::EventLoop& loop) { return cancel_sleepers(&loop, count); });
}

aio::Coro<std::int64_t> slow_value() {
    co_await aio::sleep(an_hour);
    co_return -1;
}

/// The number of TimeoutErrors; -1 if the waits did not take exactly 1 ms of (virtual)
/// time each (none may wait for the hour).
aio::Coro<std::int64_t> expiring_waits(aio::EventLoop* loop, std::int64_t count) {
    const aio::TimePoint start = loop->time();
    std::int64_t timeouts = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        aio::Coro<std::int64_t> limited =
            lab::wait_for(slow_value(), std::optional<aio::Duration>(std::chrono::milliseconds(1)));
        try {
            (void)co_await std::move(limited);
        } catch (const aio::TimeoutError&) {
            ++timeouts;
        }
    }
    co_return loop->time() - start == count * aio::Duration(std::chrono::milliseconds(1)) ? timeouts : -1;
}

void wait_for_expiring(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "wait_for_expiring: the number of TimeoutErrors, each after 1 ms", 8 * count + 10, count,
                  count, [count](aio::EventLoop& loop) { return expiring_waits(&loop, count); });
}

aio::Coro<std::int64_t> quick_value(std::int64_t value) {
    co_await aio::sleep(0);
    co_return value;
}

/// The sum of the bodies' results; -1 if the (virtual) clock moved: no scope waits for its
/// deadline.
aio::Coro<std::int64_t> scopes_not_expiring(aio::EventLoop* loop, std::int64_t count) {
    const aio::TimePoint start = loop->time();
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        aio::Coro<std::int64_t> limited = lab::timeout(std::optional<aio::Duration>(std::chrono::seconds(1)), quick_value(i));
        sum += co_await std::move(limited);
    }
    co_return loop->time() == start ? sum : -1;
}

void timeout_not_expiring(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    run_and_check(state, "timeout_not_expiring: the sum of the results, without waiting", 4 * count + 10,
                  count * (count - 1) / 2, count,
                  [count](aio::EventLoop& loop) { return scopes_not_expiring(&loop, count); });
}

}  // namespace

BENCHMARK(cancel_and_wait_sleepers)->Arg(1000)->ArgName("tasks");
BENCHMARK(wait_for_expiring)->Arg(1000)->ArgName("waits");
BENCHMARK(timeout_not_expiring)->Arg(1000)->ArgName("scopes");
