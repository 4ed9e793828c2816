#pragma once
// aio::Executor, aio::ThreadPoolExecutor, loop.run_in_executor() and aio::to_thread():
// blocking or CPU-bound work on other threads, awaited from the loop (concurrent.futures'
// ThreadPoolExecutor, asyncio's loop.run_in_executor and asyncio.to_thread).
//
// How a job travels: run_in_executor() (loop thread) makes a Future and a job holding the
// function, its arguments and room for the outcome, and submits the job to the executor.
// A worker runs it and hands the job back with call_soon_threadsafe(); on the loop thread
// the job sets the future's result (or exception) unless the future was cancelled meanwhile,
// then is freed. The future is a loop-thread object: no worker ever touches it.
//
// Cancelling the future (or the task awaiting it) cannot stop a job already running, as in
// asyncio: the outcome is dropped when it arrives. A job not yet started is skipped.
// If the loop closes with jobs in flight, their outcomes are dropped too: each job reaches
// the loop through the loop's ExecutorLink, which close() detaches, so a worker finishing
// late never touches a closed or destroyed loop (see executor.cpp).
#include <atomic>
#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "callback.hpp"
#include "coro.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "future.hpp"

namespace aio {

/// Runs jobs on other threads (concurrent.futures.Executor).
class Executor {
public:
    Executor() = default;
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;
    virtual ~Executor() = default;

    /// Runs `job` once on some thread, later. Thread-safe. Callback is move-only, so it takes
    /// lambdas with move-only captures as well as a std::function. Throws RuntimeError after
    /// shutdown(). The jobs of run_in_executor() never throw; ThreadPoolExecutor reports to
    /// stderr what any other job throws.
    /// An executor may destroy a job without running it (the future of run_in_executor()
    /// then fails with RuntimeError) but must never leak one: the loop counts the job in
    /// flight until it has run or been destroyed.
    virtual void submit(Callback job) = 0;
    /// Refuses new jobs from now on; jobs already submitted still run. With `wait`, returns
    /// once they have all run and the threads have exited. Calling it again does no harm.
    virtual void shutdown(bool wait = true) = 0;
};

/// A pool of threads started on demand (concurrent.futures.ThreadPoolExecutor): a submit()
/// that finds no idle thread starts a new one, up to max_workers(); threads then stay until
/// shutdown(). Jobs run in submission order (FIFO), each on whichever thread is free.
/// The destructor shuts the pool down and waits for its threads.
class ThreadPoolExecutor final : public Executor {
public:
    /// A pool of std::thread::hardware_concurrency() threads (at least 1).
    ThreadPoolExecutor();
    /// A pool of at most `max_workers` threads. Throws ValueError if it is 0.
    explicit ThreadPoolExecutor(std::size_t max_workers);
    /// shutdown(true); a pool destroyed by one of its own jobs detaches that thread.
    ~ThreadPoolExecutor() override;

    void submit(Callback job) override;
    /// As Executor::shutdown(). Throws RuntimeError if called with `wait` from one of the
    /// pool's own threads (it would wait for itself).
    void shutdown(bool wait = true) override;

    std::size_t max_workers() const noexcept { return max_workers_; }
    /// Threads started so far (they start lazily).
    std::size_t thread_count() const;

private:
    struct Pool;
    /// Refuses new jobs, wakes the threads, and with `wait` joins them (detaching the
    /// calling thread if it is one of them).
    void stop(bool wait) noexcept;
    std::size_t max_workers_;
    std::shared_ptr<Pool> pool_;  // shared with its threads
};

/// What run_in_executor(function, args...) returns a future of: the result of calling
/// `function(args...)` with the arguments moved in, as a value.
template <class F, class... Args>
using executor_result_t = std::remove_cvref_t<std::invoke_result_t<F&&, Args&&...>>;

/// Runs `function(args...)` in the running loop's default executor and returns its value,
/// or rethrows its exception, in the awaiting task (asyncio.to_thread). `function` and
/// `args` are moved to the worker thread: pass values or std::ref() deliberately.
/// Cancelling the awaiting task does not stop the call; its outcome is then dropped.
/// Throws RuntimeError if no loop is running.
template <class F, class... Args>
    requires std::invocable<F, Args...>
Coro<executor_result_t<F, Args...>> to_thread(F function, Args... args) {
    using R = executor_result_t<F, Args...>;
    // The future is a named local: GCC 12 mishandles temporaries with non-trivial
    // destructors alive across a co_await.
    Future<R> future = get_running_loop().run_in_executor(std::move(function), std::move(args)...);
    if constexpr (std::is_void_v<R>) {
        co_await future;
    } else {
        co_return co_await future;
    }
}

// ----------------------------------------------------------------------------------------
namespace detail {

class ExecutorLink;

/// The untyped part of a job in flight between a loop and a worker thread.
class ExecutorJob {
public:
    ExecutorJob() = default;
    ExecutorJob(const ExecutorJob&) = delete;
    ExecutorJob& operator=(const ExecutorJob&) = delete;
    virtual ~ExecutorJob() = default;

    // One job per round trip: from the loop thread's BlockCache. A job freed by its worker
    // (its loop closed first) joins that thread's cache, which BlockCache allows.
    static void* operator new(std::size_t size) { return BlockCache::allocate(size); }
    static void operator delete(void* job, std::size_t size) noexcept { BlockCache::deallocate(job, size); }

    /// Worker thread: calls the function unless the future was cancelled before.
    void run_on_worker() noexcept;
    /// Loop thread: sets the future's outcome (unless it is done), releases it.
    virtual void complete_on_loop() noexcept = 0;
    /// Loop thread: lets go of the future (the loop closed, or the job is done with it) and
    /// returns the reference it held, for the caller to drop where it is safe to.
    virtual Ref<FutureCore> take_future() noexcept = 0;

    /// Set by the future's cancel() on the loop thread, read by the worker: relaxed is
    /// enough, it only lets the worker skip work whose outcome would be dropped anyway.
    std::atomic<bool> cancel_requested{false};

protected:
    /// Worker thread: calls the function, storing its value or its exception.
    virtual void invoke() noexcept = 0;

private:
    friend class ExecutorLink;
    friend void submit_job(EventLoop& loop, Executor& executor, ExecutorJob* job);
    std::shared_ptr<ExecutorLink> link_;  // moved out by the worker when it hands the job back
    // The loop's list of jobs in flight (loop thread only).
    ExecutorJob* previous_ = nullptr;
    ExecutorJob* next_ = nullptr;
    bool delivered_ = false;  // the worker handed it to the loop (guarded by the link's mutex)
};

/// Loop thread: registers `job` with the loop's link (counting it in flight) and submits it.
/// On failure (the executor was shut down) frees the job and rethrows.
void submit_job(EventLoop& loop, Executor& executor, ExecutorJob* job);

/// The future a job completes: a plain future that also tells its job about cancel().
template <class R>
class ExecutorFutureState final : public FutureCore, public ResultSlot<R> {
public:
    using FutureCore::FutureCore;
    bool cancel(std::string message = {}) override {
        if (!FutureCore::cancel(std::move(message))) return false;
        if (job) job->cancel_requested.store(true, std::memory_order_relaxed);
        return true;
    }
    ExecutorJob* job = nullptr;  // loop thread only; cleared when the job lets go
};

/// The Future<R> handle on an ExecutorFutureState (Future's state constructor is protected).
template <class R>
class ExecutorFuture : public Future<R> {
public:
    explicit ExecutorFuture(ExecutorFutureState<R>* state) : Future<R>(state) {}
};

template <class R, class F, class... Args>
class TypedExecutorJob final : public ExecutorJob {
public:
    TypedExecutorJob(Future<R> future, ExecutorFutureState<R>* state, F function, Args... args)
        : future_(std::move(future)), state_(state), function_(std::move(function)),
          arguments_(std::move(args)...) {
        state_->job = this;
    }

    void complete_on_loop() noexcept override {
        if (future_ && !future_->done()) {
            if (error_) {
                future_->set_exception(std::move(error_));
            } else if (dropped_by_executor()) {
                future_->set_exception(std::make_exception_ptr(
                    RuntimeError("run_in_executor: the executor dropped the job without running it")));
            } else if constexpr (std::is_void_v<R>) {
                future_->set_result();
            } else {
                future_->set_result(std::move(*value_));
            }
        }
        take_future();
    }
    Ref<FutureCore> take_future() noexcept override {
        if (!future_) return {};
        state_->job = nullptr;
        Ref<FutureCore> core(&future_->core());
        future_.reset();
        return core;
    }

private:
    void invoke() noexcept override {
        try {
            if constexpr (std::is_void_v<R>) {
                std::apply(std::move(function_), std::move(arguments_));
                value_.emplace(true);
            } else {
                value_.emplace(std::apply(std::move(function_), std::move(arguments_)));
            }
        } catch (...) {
            error_ = std::current_exception();
        }
    }
    bool dropped_by_executor() const noexcept { return !value_; }

    std::optional<Future<R>> future_;  // loop thread only
    ExecutorFutureState<R>* state_;    // kept alive by future_
    F function_;
    std::tuple<Args...> arguments_;
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value_;  // written by the worker
    std::exception_ptr error_;                                              // written by the worker
};

}  // namespace detail

// Declared in event_loop.hpp with a deduced return type, so that header needs neither
// Future nor executor_result_t: both return Future<executor_result_t<F, Args...>>.
template <class F, class... Args>
    requires std::invocable<F, Args...>
auto EventLoop::run_in_executor(Executor& executor, F function, Args... args) {
    using R = executor_result_t<F, Args...>;
    auto* state = new detail::ExecutorFutureState<R>(*this);
    detail::ExecutorFuture<R> future(state);
    auto* job = new detail::TypedExecutorJob<R, F, Args...>(future, state, std::move(function), std::move(args)...);
    detail::submit_job(*this, executor, job);
    return Future<R>(future);
}

template <class F, class... Args>
    requires std::invocable<F, Args...>
auto EventLoop::run_in_executor(F function, Args... args) {
    return run_in_executor(default_executor(), std::move(function), std::move(args)...);
}

}  // namespace aio
