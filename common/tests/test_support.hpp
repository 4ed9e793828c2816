#pragma once
// Small helpers shared by aio's own tests. Each one exists because several test files need
// it; anything used by one file stays in that file.
//
//   Events          an ordered log of what happened, compared whole with an expected vector
//   run_virtual     runs a coroutine on a fresh VirtualTimeLoop and returns its value
//   FrameLeakCheck  remembers live_coroutine_frames() and tells how many frames leaked since
//   StderrCapture   redirects file descriptor 2 to a file, to assert on the loop's reports
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

// The core headers only (not aio/aio.hpp), so these tests build while other parts of aio
// are being written.
#include "aio/coro.hpp"
#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "aio/run.hpp"
#include "aio/selector_event_loop.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "aio/virtual_time_loop.hpp"

namespace aio_test {

/// What happened, in order. Tests compare `events.log` with the whole expected sequence,
/// so a wrong order fails as clearly as a missing step.
struct Events {
    std::vector<std::string> log;

    /// Appends one entry; arguments are streamed together: record("tick ", 3) -> "tick 3".
    template <class... Parts>
    void record(const Parts&... parts) {
        std::ostringstream entry;
        (entry << ... << parts);
        log.push_back(entry.str());
    }
};

/// Runs `coro` as the main task of a new VirtualTimeLoop and returns its value (or rethrows
/// its exception). The loop is closed before this returns, so a task left pending is
/// destroyed (and reported) here, not in a later test.
template <class T>
T run_virtual(aio::Coro<T> coro) {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(std::move(coro));
}

/// Counts the coroutine frames created and not freed since construction:
///     aio_test::FrameLeakCheck frames;
///     ... run coroutines, close their loop ...
///     REQUIRE(frames.leaked() == 0);
/// Only meaningful once every loop involved is closed (a closing loop frees pending tasks).
class FrameLeakCheck {
public:
    FrameLeakCheck() noexcept : baseline_(aio::live_coroutine_frames()) {}
    /// Frames alive now minus frames alive at construction.
    std::int64_t leaked() const noexcept { return aio::live_coroutine_frames() - baseline_; }

private:
    std::int64_t baseline_;
};

/// Sends everything written to stderr (file descriptor 2, so C stdio, iostreams and the
/// loop's default exception handler alike) to a temporary file until text() is called.
///     aio_test::StderrCapture err;
///     ... something that reports ...
///     REQUIRE_THAT(err.text(), Catch::Contains("exception was never retrieved"));
/// The destructor restores stderr if text() was never called.
class StderrCapture {
public:
    StderrCapture() {
        std::fflush(stderr);
        file_ = std::tmpfile();
        if (!file_) std::abort();  // no temp dir: the test cannot mean anything
        saved_fd_ = ::dup(2);
        ::dup2(::fileno(file_), 2);
    }
    StderrCapture(const StderrCapture&) = delete;
    StderrCapture& operator=(const StderrCapture&) = delete;
    ~StderrCapture() { stop(); }

    /// Restores stderr and returns what was written while it was captured. Later calls
    /// return the same text.
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

/// How many times `needle` occurs in `haystack` (to check a report is made exactly once).
inline std::size_t count_occurrences(const std::string& haystack, const std::string& needle) {
    std::size_t count = 0;
    for (std::size_t at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size()))
        ++count;
    return count;
}

}  // namespace aio_test
