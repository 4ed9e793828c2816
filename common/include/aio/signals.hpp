#pragma once
// Unix signals in aio: what a SIGINT or SIGTERM does to a running program.
//
// Two layers, as in asyncio:
//   - loop.add_signal_handler(sig, callback) / remove_signal_handler(sig) (declared in
//     event_loop.hpp, implemented by SelectorEventLoop in signals.cpp): the callback runs in
//     the loop's thread as an ordinary callback, never inside the signal handler itself.
//   - graceful shutdown for aio::run (asyncio.Runner's Ctrl-C handling, generalised):
//
//         int code = aio::run(serve(), {.shutdown_signals = {SIGINT, SIGTERM},
//                                       .shutdown_grace = aio::seconds(5)});
//
//     The first of those signals cancels the main task (CancelledError at its await point),
//     so main can stop accepting work and wind down what it started; when main is done, the
//     tasks still pending are cancelled and awaited as at the end of any aio::run. All of it
//     must fit in the grace period, counted from the signal. When the period runs out, or
//     at a second signal, the loop stops at once: the tasks still pending are destroyed
//     (their frames unwound, each reported as "Task was destroyed but it is pending!").
//     aio::run then returns main's value if main returned one (it caught the cancellation
//     and finished), and otherwise throws aio::Interrupted, which says which signal came
//     and whether tasks were cut off.
#include <signal.h>

#include <exception>
#include <string>
#include <vector>

#include "detail/ref_counted.hpp"
#include "event_loop.hpp"
#include "handle.hpp"
#include "time.hpp"

namespace aio {

/// Thrown by aio::run() when a shutdown signal (RunOptions::shutdown_signals) ended the main
/// task: main let the CancelledError through, or was cut off. Like CancelledError (and
/// Python's KeyboardInterrupt) it does not derive from aio::Error, so a
/// `catch (const aio::Error&)` does not swallow a Ctrl-C.
class Interrupted : public std::exception {
public:
    Interrupted(int signal, bool forced);
    /// The signal that started the shutdown (SIGINT, SIGTERM, ...).
    int signal() const noexcept { return signal_; }
    /// True if tasks were cut off: the grace period ran out, or a second signal came.
    bool forced() const noexcept { return forced_; }
    /// "interrupted by SIGINT", or "... (tasks cut off)" when forced().
    const char* what() const noexcept override { return message_.c_str(); }

private:
    int signal_;
    bool forced_;
    std::string message_;
};

/// The signal's name: "SIGINT", "SIGUSR1", ..., or "signal 40" for one without a name.
std::string signal_name(int sig);

namespace detail {

/// RunOptions::shutdown_signals at work, for aio::run() (one per run, on its stack). Does
/// nothing at all when `signals` is empty.
class ShutdownOnSignals {
public:
    ShutdownOnSignals(EventLoop& loop, std::vector<int> signals, Duration grace) noexcept;
    ShutdownOnSignals(const ShutdownOnSignals&) = delete;
    ShutdownOnSignals& operator=(const ShutdownOnSignals&) = delete;
    /// Removes the handlers still installed (a closed loop has removed them already).
    ~ShutdownOnSignals();

    /// Installs the handlers; `main` is the task the first signal cancels. Throws what
    /// add_signal_handler() throws (ValueError, RuntimeError for a loop without signals).
    void start(TaskBase& main);
    /// What aio::run() throws for `error`, main's exception or run_until_complete()'s:
    /// Interrupted if a signal caused it (a cancellation, a cut-off), else `error` itself.
    std::exception_ptr translate(std::exception_ptr error) const;
    /// aio::run()'s clean-up: shut_down_run_loop(), or after a cut-off only close(), which
    /// destroys the tasks still pending. Never throws.
    void shut_down_loop() noexcept;

private:
    void on_signal(int sig);
    void cut_off();

    EventLoop& loop_;
    std::vector<int> signals_;
    Duration grace_;
    Ref<TaskBase> main_;
    TimerHandle grace_timer_;
    int first_signal_ = 0;  // 0: no shutdown signal yet
    bool forced_ = false;   // the loop was stopped to cut tasks off
};

}  // namespace detail
}  // namespace aio
