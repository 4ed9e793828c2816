#pragma once
// Helpers shared by lab 07's public tests. Everything runs on aio::VirtualTimeLoop, so times
// in the event logs are loop seconds and no test ever waits for real.
//
// Generator and coroutine helpers are plain functions taking their parameters by value
// (pointers to the test's Events), never capturing lambdas: a capturing coroutine lambda
// dies before its frame does (GCC 12 notes in the brief).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "aio/aio.hpp"
#include "async_generator.hpp"

namespace lab_test {

using Log = std::vector<std::string>;

/// What happened, in order; tests compare the whole log with an expected vector.
struct Events {
    Log log;

    template <class... Parts>
    void record(const Parts&... parts) {
        std::ostringstream entry;
        (entry << ... << parts);
        log.push_back(entry.str());
    }
};

/// The running loop's time in seconds.
inline double now() { return aio::to_seconds(aio::get_running_loop().time()); }

/// Runs `main` as the main task of a fresh virtual-time loop and returns its value. The loop
/// is closed before this returns, so a task left pending is destroyed here.
template <class T>
T run_virtual(aio::Coro<T> main) {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(std::move(main));
}

/// Counts the coroutine frames (aio's and the lab's) created and not freed since construction.
class FrameLeakCheck {
public:
    FrameLeakCheck() noexcept : baseline_(aio::live_coroutine_frames()) {}
    std::int64_t leaked() const noexcept { return aio::live_coroutine_frames() - baseline_; }

private:
    std::int64_t baseline_;
};

/// Records its destruction: an RAII guard in a generator body shows when cleanup runs.
struct Guard {
    Events* events;
    std::string name;
    ~Guard() { events->record(name, " destroyed"); }
};

/// An error of the tests' own, so that no test mistakes an unfinished TODO (which throws
/// aiolab::NotImplemented, a std::logic_error) for the error it expects.
struct Boom : std::runtime_error {
    explicit Boom(std::string what, int code_ = 0) : std::runtime_error(std::move(what)), code(code_) {}
    int code;
};

/// Yields 1..n, recording each yield and the end of the body.
inline lab::AsyncGenerator<int> count_to(int n, Events* events) {
    for (int i = 1; i <= n; ++i) {
        if (events) events->record("yield ", i);
        co_yield i;
    }
    if (events) events->record("body returns");
}

/// Drains `gen`, recording each value, then records the end.
inline aio::Coro<void> consume_all(lab::AsyncGenerator<int> gen, Events* events) {
    while (auto value = co_await gen.next()) events->record("got ", *value);
    events->record("exhausted");
}

/// Sleeps `interval` seconds before each of its n values.
inline lab::AsyncGenerator<int> ticking(int n, double interval, Events* events) {
    for (int i = 1; i <= n; ++i) {
        co_await aio::sleep(interval);
        events->record("yield ", i, " @", now());
        co_yield i;
    }
}

/// Yields 1..n forever after with a guard in its frame.
inline lab::AsyncGenerator<int> guarded_count(Events* events) {
    Guard guard{events, "generator guard"};
    for (int i = 1;; ++i) co_yield i;
}

/// Sends everything written to stderr (file descriptor 2) to a temporary file until text()
/// is called, to check the loop's reports (and keep them out of the test output).
class StderrCapture {
public:
    StderrCapture() {
        std::fflush(stderr);
        file_ = std::tmpfile();
        if (!file_) std::abort();
        saved_fd_ = ::dup(2);
        ::dup2(::fileno(file_), 2);
    }
    StderrCapture(const StderrCapture&) = delete;
    StderrCapture& operator=(const StderrCapture&) = delete;
    ~StderrCapture() { stop(); }

    std::string text() {
        stop();
        return text_;
    }

private:
    void stop() {
        if (saved_fd_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_fd_, 2);
        ::close(std::exchange(saved_fd_, -1));
        std::rewind(file_);
        char buffer[4096];
        std::size_t got;
        while ((got = std::fread(buffer, 1, sizeof buffer, file_)) > 0) text_.append(buffer, got);
        std::fclose(std::exchange(file_, nullptr));
    }

    std::FILE* file_ = nullptr;
    int saved_fd_ = -1;
    std::string text_;
};

}  // namespace lab_test
