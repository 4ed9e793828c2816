#pragma once
// aio::run: run a coroutine on a new loop, then clean up (asyncio.run).
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <vector>

#include "coro.hpp"
#include "event_loop.hpp"
#include "selector_event_loop.hpp"
#include "signals.hpp"
#include "task.hpp"

namespace aio {

struct RunOptions {
    /// Debug mode for the new loop (also turned on by AIO_DEBUG=1 in the environment).
    bool debug = false;
    /// Makes the loop to run on; empty: a DefaultEventLoop. Tests pass one that makes a
    /// VirtualTimeLoop (Python 3.12's loop_factory).
    std::function<std::unique_ptr<EventLoop>()> loop_factory{};  // {}: designated initializers may skip it
    /// Signals that shut the run down gracefully (aio/signals.hpp), e.g. {SIGINT, SIGTERM};
    /// empty (the default): signals keep their dispositions. The first one cancels main;
    /// what main started is cancelled when main is done; a second signal, or the end of
    /// `shutdown_grace` (counted from the first), cuts the tasks still pending off. run()
    /// then returns main's value if main returned one, else throws aio::Interrupted.
    std::vector<int> shutdown_signals{};
    Duration shutdown_grace = seconds(5.0);
};

namespace detail {
std::unique_ptr<EventLoop> make_run_loop(const RunOptions& options);
/// asyncio.run's finally block: cancel the tasks still pending, let them finish, report
/// any that failed, shut the default executor down (waiting for its threads), close the
/// loop. Never throws.
void shut_down_run_loop(EventLoop& loop) noexcept;
}  // namespace detail

/// Creates a loop, runs `main` as a task until it is done, cancels the tasks still pending
/// and waits for them, closes the loop, and returns main's result (or rethrows its error).
/// Throws RuntimeError if a loop is already running on this thread.
template <class T>
T run(Coro<T> main, RunOptions options = {},
      std::source_location created_at = std::source_location::current()) {
    if (try_get_running_loop())
        throw RuntimeError("aio::run() cannot be called from a running event loop");
    std::unique_ptr<EventLoop> loop = detail::make_run_loop(options);
    EventLoop* previous = nullptr;
    try {
        previous = &get_event_loop();
    } catch (const RuntimeError&) {
    }
    set_event_loop(loop.get());
    detail::ShutdownOnSignals shutdown(*loop, std::move(options.shutdown_signals), options.shutdown_grace);
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
    try {
        Task<T> task = create_task(*loop, std::move(main), {}, created_at);  // debug mode's origin
        shutdown.start(task.base());  // the first shutdown signal cancels this task
        loop->run_until_done(task.waitable());
        if constexpr (std::is_void_v<T>) {
            task.result();  // rethrows main's exception
            result.emplace(true);
        } else {
            result.emplace(std::move(task.result()));  // nobody else sees main's task
        }
    } catch (...) {
        error = shutdown.translate(std::current_exception());
    }
    shutdown.shut_down_loop();  // detail::shut_down_run_loop(), or close() after a cut-off
    set_event_loop(previous);
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) return std::move(*result);
}

}  // namespace aio
