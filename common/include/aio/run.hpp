#pragma once
// aio::run: run a coroutine on a new loop, then clean up (asyncio.run).
#include <functional>
#include <memory>
#include <optional>

#include "coro.hpp"
#include "event_loop.hpp"
#include "selector_event_loop.hpp"
#include "task.hpp"

namespace aio {

struct RunOptions {
    /// Debug mode for the new loop (also turned on by AIO_DEBUG=1 in the environment).
    bool debug = false;
    /// Makes the loop to run on; empty: a DefaultEventLoop. Tests pass one that makes a
    /// VirtualTimeLoop (Python 3.12's loop_factory).
    std::function<std::unique_ptr<EventLoop>()> loop_factory;
};

namespace detail {
std::unique_ptr<EventLoop> make_run_loop(const RunOptions& options);
/// asyncio.run's finally block: cancel the tasks still pending, let them finish, report
/// any that failed, close the loop. Never throws.
void shut_down_run_loop(EventLoop& loop) noexcept;
}  // namespace detail

/// Creates a loop, runs `main` as a task until it is done, cancels the tasks still pending
/// and waits for them, closes the loop, and returns main's result (or rethrows its error).
/// Throws RuntimeError if a loop is already running on this thread.
template <class T>
T run(Coro<T> main, RunOptions options = {}) {
    if (try_get_running_loop())
        throw RuntimeError("aio::run() cannot be called from a running event loop");
    std::unique_ptr<EventLoop> loop = detail::make_run_loop(options);
    EventLoop* previous = nullptr;
    try {
        previous = &get_event_loop();
    } catch (const RuntimeError&) {
    }
    set_event_loop(loop.get());
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
    try {
        if constexpr (std::is_void_v<T>) {
            loop->run_until_complete(std::move(main));
            result.emplace(true);
        } else {
            result.emplace(loop->run_until_complete(std::move(main)));
        }
    } catch (...) {
        error = std::current_exception();
    }
    detail::shut_down_run_loop(*loop);
    set_event_loop(previous);
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) return std::move(*result);
}

}  // namespace aio
