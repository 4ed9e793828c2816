#pragma once
// Helpers for the grader's per-lab benchmarks (autograder/bench/NN_name/bench_*.cpp).
//
// Every benchmark checks its own answer and fails with state.SkipWithError() when it is
// wrong, so a submission cannot score by skipping work: the grader then reports "benchmark
// ... did not run against the submission" and awards no performance points. The same
// happens when the submission throws (the starter's NotImplemented, say): the exception is
// caught here, never left to reach std::terminate.
//
// Benchmarks must stay deterministic and bounded: they run on a virtual clock (lab 01's own
// loop with its clock replaced, aio::VirtualTimeLoop elsewhere), never really sleep, and
// give up with an error after a fixed number of loop iterations instead of hanging.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include <aio/errors.hpp>
#include <aio/event_loop.hpp>
#include <aio/virtual_time_loop.hpp>

namespace aiolab_bench {

/// Marks the benchmark as failed (no timing reaches the grader) with `why`.
inline void fail(benchmark::State& state, const std::string& why) { state.SkipWithError(why.c_str()); }

/// Runs `body()` (which contains the `for (auto _ : state)` loop); an exception becomes
/// SkipWithError with its message.
template <class Body>
void guarded(benchmark::State& state, Body&& body) {
    try {
        std::forward<Body>(body)();
    } catch (const std::exception& error) {
        fail(state, std::string("the code under test threw: ") + error.what());
    } catch (...) {
        fail(state, "the code under test threw something that is not a std::exception");
    }
}

/// Records the first error a loop's exception handler receives (a throwing callback, a
/// task exception never retrieved) instead of printing it: none is expected, and one of
/// them per iteration would flood the output.
class LoopErrors {
public:
    explicit LoopErrors(aio::EventLoop& loop) : loop_(loop) {
        loop.set_exception_handler([this](aio::EventLoop&, const aio::ExceptionContext& context) {
            if (!first_.empty()) return;  // the first error is the one to report
            first_ = context.message.empty() ? "an error" : context.message;
            if (context.exception) {
                try {
                    std::rethrow_exception(context.exception);
                } catch (const std::exception& error) {
                    first_ += std::string(": ") + error.what();
                } catch (...) {
                }
            }
        });
    }
    LoopErrors(const LoopErrors&) = delete;
    LoopErrors& operator=(const LoopErrors&) = delete;
    ~LoopErrors() { loop_.set_exception_handler({}); }  // the handler points to this object

    bool any() const noexcept { return !first_.empty(); }
    const std::string& first() const noexcept { return first_; }

private:
    aio::EventLoop& loop_;
    std::string first_;
};

/// aio::VirtualTimeLoop (time costs nothing) that runs at most `budget` iterations per
/// run(): a broken submission that keeps rescheduling itself fails with an error instead of
/// spinning for the grader's whole benchmark timeout. Errors sent to its exception handler
/// are kept in `errors`, and run() fails if there is one.
class BoundedLoop final : public aio::VirtualTimeLoop {
public:
    explicit BoundedLoop(long budget) noexcept : budget_(budget) {}
    BoundedLoop(const BoundedLoop&) = delete;
    BoundedLoop& operator=(const BoundedLoop&) = delete;
    ~BoundedLoop() override {
        try {
            if (!is_closed() && !is_running()) close();
        } catch (...) {
        }
    }

    /// run_until_complete(awaitable) with a fresh budget of iterations; the awaitable
    /// returns a value (a checksum for the benchmark to check).
    template <class Awaitable>
    auto run(Awaitable&& awaitable) {
        left_ = budget_;
        auto result = run_until_complete(std::forward<Awaitable>(awaitable));
        if (errors.any()) throw aio::RuntimeError("the loop reported an error: " + errors.first());
        return result;
    }

    LoopErrors errors{*this};

protected:
    void select(aio::Duration timeout) override {
        if (--left_ < 0)
            throw aio::RuntimeError("the benchmark ran " + std::to_string(budget_) +
                                    " loop iterations without finishing: the work never ends");
        aio::VirtualTimeLoop::select(timeout);
    }

private:
    long budget_;
    long left_ = 0;
};

/// The shape of most benchmarks: each iteration runs the coroutine `make_main(loop)` on one
/// BoundedLoop (allowed `budget` iterations of the loop per run) and compares what it
/// returns with `expected`; `items` is the work one iteration does, for items/s. The
/// coroutine does its own checks and returns something else than `expected` (-1, say) when
/// one fails; `checked` says what the result is, for the error ("gather: the sum of the
/// results").
template <class MakeMain>
void run_and_check(benchmark::State& state, const std::string& checked, long budget, std::int64_t expected,
                   std::int64_t items, MakeMain make_main) {
    guarded(state, [&] {
        BoundedLoop loop(budget);
        for (auto _ : state) {
            const std::int64_t result = loop.run(make_main(static_cast<aio::EventLoop&>(loop)));
            if (result != expected) {
                fail(state, checked + " is " + std::to_string(result) + ", expected " + std::to_string(expected));
                break;
            }
        }
        state.SetItemsProcessed(state.iterations() * items);
    });
}

/// A deterministic pseudo-random sequence (64-bit LCG, Knuth's MMIX constants).
class Lcg {
public:
    explicit Lcg(std::uint64_t seed) noexcept : state_(seed) {}
    std::uint64_t next() noexcept {
        state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        return state_ >> 33;
    }

private:
    std::uint64_t state_;
};

}  // namespace aiolab_bench
