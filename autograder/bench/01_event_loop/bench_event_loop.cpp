// Lab 01 benchmarks: the student's lab::EventLoop, on a virtual clock (time() and
// wait_for_events() replaced, as the lab's tests do), so nothing really sleeps and every
// run is the same.
//
//   event_loop_call_soon_fifo   N intrusive callbacks that reschedule themselves for R
//                               rounds: the ready queue's push and pop and run_once's pass
//                               (no allocation: the nodes are the benchmark's).
//   event_loop_timers           N call_at() timers with pseudo-random deadlines (many
//                               equal), three in four cancelled before they are due: heap
//                               push, cancel counting, lazy clean-up, due timers in order.
//   event_loop_aio_tasks        aio tasks that each yield (sleep(0)) R times, run with
//                               run_until_complete(): what aio's tasks cost on this loop.
//
// Each checks its answer (run counts, FIFO and deadline order, iteration counts) and fails
// with SkipWithError when it is wrong; each loop is bounded by a budget of iterations.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <aio/errors.hpp>
#include <aio/sleep.hpp>
#include <aio/task.hpp>

#include "../bench_support.hpp"
#include "event_loop.hpp"

namespace {

using aiolab_bench::fail;
using aiolab_bench::guarded;

/// The student's loop on a virtual clock: waiting for a timer jumps the clock to it. It
/// throws after `iterations_left` waits (one per iteration), so a loop that never finishes
/// its work cannot hang the grader, and instead of waiting forever.
class VirtualClockLoop final : public lab::EventLoop {
public:
    aio::TimePoint now{};
    long iterations_left = 0;

    aio::TimePoint time() const override { return now; }

protected:
    void wait_for_events(aio::Duration timeout) override {
        if (--iterations_left < 0)
            throw aio::RuntimeError("the loop ran more iterations than the work needs");
        if (timeout == aio::Duration::max())
            throw aio::DeadlockError("the loop would wait forever with work still to do");
        if (timeout > aio::Duration::zero()) now += timeout;
    }
};

/// Closes the loop at the end of a benchmark (errors from a broken close() are ignored:
/// the benchmark has failed already if it matters).
struct CloseAtEnd {
    lab::EventLoop& loop;
    ~CloseAtEnd() {
        try {
            if (!loop.is_closed() && !loop.is_running()) loop.close();
        } catch (...) {
        }
    }
};

// --- call_soon: the ready queue ------------------------------------------------------------

struct Ring;

/// A callback the benchmark owns: running it records the run and queues it again.
struct RingNode final : aio::Runnable {
    Ring* ring = nullptr;
    std::int64_t index = 0;
    void run() override;
};

struct Ring {
    lab::EventLoop* loop = nullptr;
    std::vector<RingNode> nodes;
    std::int64_t rounds = 0;
    std::int64_t runs = 0;
    bool out_of_order = false;
};

void RingNode::run() {
    const auto count = static_cast<std::int64_t>(ring->nodes.size());
    if (ring->runs % count != index) ring->out_of_order = true;  // FIFO: 0, 1, ..., N-1, 0, ...
    ++ring->runs;
    if (ring->runs <= count * (ring->rounds - 1)) ring->loop->call_soon(*this);
}

void event_loop_call_soon_fifo(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    const std::int64_t rounds = state.range(1);
    guarded(state, [&] {
        VirtualClockLoop loop;
        aiolab_bench::LoopErrors errors(loop);
        CloseAtEnd closer{loop};
        Ring ring;
        ring.loop = &loop;
        ring.rounds = rounds;
        ring.nodes.resize(static_cast<std::size_t>(count));
        for (std::int64_t i = 0; i < count; ++i) {
            ring.nodes[static_cast<std::size_t>(i)].ring = &ring;
            ring.nodes[static_cast<std::size_t>(i)].index = i;
        }
        for (auto _ : state) {
            ring.runs = 0;
            for (RingNode& node : ring.nodes) loop.call_soon(node);
            // One pass per round: what a pass schedules runs in the next one.
            loop.iterations_left = rounds + 1;
            std::int64_t passes = 0;
            while (ring.runs < count * rounds && passes <= rounds) {
                loop.run_once();
                ++passes;
            }
            if (ring.runs != count * rounds || passes != rounds || ring.out_of_order || loop.ready_count() != 0 ||
                errors.any()) {
                fail(state, "call_soon: wrong number of runs, passes or FIFO order" +
                                (errors.any() ? ": " + errors.first() : std::string()));
                break;
            }
        }
        state.SetItemsProcessed(state.iterations() * count * rounds);
    });
}

// --- timers ----------------------------------------------------------------------------------

struct TimerCheck {
    aio::TimePoint last_when{};
    std::int64_t last_index = -1;
    std::int64_t fired = 0;
    bool out_of_order = false;
};

void event_loop_timers(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    guarded(state, [&] {
        VirtualClockLoop loop;
        aiolab_bench::LoopErrors errors(loop);
        CloseAtEnd closer{loop};
        // Deadlines over one (virtual) second, in steps of a millisecond, so about ten timers
        // share each deadline and ties must keep scheduling order.
        std::vector<aio::Duration> offsets;
        aiolab_bench::Lcg random(12345);
        for (std::int64_t i = 0; i < count; ++i)
            offsets.push_back(std::chrono::milliseconds(1 + static_cast<std::int64_t>(random.next() % 1000)));
        std::vector<aio::TimerHandle> handles(static_cast<std::size_t>(count));
        TimerCheck check;
        for (auto _ : state) {
            check = TimerCheck{};
            const aio::TimePoint base = loop.now;
            for (std::int64_t i = 0; i < count; ++i) {
                const aio::TimePoint when = base + offsets[static_cast<std::size_t>(i)];
                handles[static_cast<std::size_t>(i)] = loop.call_at(when, [&check, when, i] {
                    if (when < check.last_when || (when == check.last_when && i < check.last_index))
                        check.out_of_order = true;
                    check.last_when = when;
                    check.last_index = i;
                    ++check.fired;
                });
            }
            // Cancel three in four: more than half of more than 100 timers are cancelled,
            // which is asyncio's rule for rebuilding the heap.
            for (std::int64_t i = 0; i < count; ++i)
                if (i % 4 != 0) handles[static_cast<std::size_t>(i)].cancel();
            const std::int64_t expected = (count + 3) / 4;
            loop.iterations_left = 1010;  // at most one per distinct deadline, and a few more
            while (check.fired < expected && loop.timer_count() > 0) loop.run_once();
            if (check.fired != expected || check.out_of_order || loop.timer_count() != 0 ||
                loop.cancelled_timer_count() != 0 || errors.any()) {
                fail(state, "timers: wrong timers fired, wrong order, or cancelled timers left in the heap" +
                                (errors.any() ? ": " + errors.first() : std::string()));
                break;
            }
        }
        handles.clear();
        state.SetItemsProcessed(state.iterations() * count);
    });
}

// --- aio tasks on the student's loop -------------------------------------------------------

aio::Coro<std::int64_t> yielder(std::int64_t id, std::int64_t rounds) {
    for (std::int64_t i = 0; i < rounds; ++i) co_await aio::sleep(0);
    co_return id;
}

aio::Coro<std::int64_t> spawn_yielders(aio::EventLoop* loop, std::int64_t count, std::int64_t rounds) {
    std::vector<aio::Task<std::int64_t>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) tasks.push_back(aio::create_task(*loop, yielder(i, rounds)));
    std::int64_t sum = 0;
    for (aio::Task<std::int64_t>& task : tasks) sum += co_await task;
    co_return sum;
}

void event_loop_aio_tasks(benchmark::State& state) {
    const std::int64_t count = state.range(0);
    const std::int64_t rounds = state.range(1);
    guarded(state, [&] {
        VirtualClockLoop loop;
        aiolab_bench::LoopErrors errors(loop);
        CloseAtEnd closer{loop};
        const std::int64_t expected = count * (count - 1) / 2;
        for (auto _ : state) {
            loop.iterations_left = 2 * rounds + 100;
            const std::int64_t sum = loop.run_until_complete(spawn_yielders(&loop, count, rounds));
            if (sum != expected || errors.any()) {
                fail(state, "aio tasks: wrong sum of results" + (errors.any() ? ": " + errors.first() : std::string()));
                break;
            }
        }
        state.SetItemsProcessed(state.iterations() * count * rounds);
    });
}

}  // namespace

BENCHMARK(event_loop_call_soon_fifo)->Args({1000, 100})->ArgNames({"callbacks", "rounds"});
BENCHMARK(event_loop_timers)->Arg(10000)->ArgName("timers");
BENCHMARK(event_loop_aio_tasks)->Args({100, 100})->ArgNames({"tasks", "yields"});
