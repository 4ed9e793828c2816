#pragma once
// Helpers shared by lab 04's public tests.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "aio/event_loop.hpp"
#include "aio/run.hpp"
#include "aio/virtual_time_loop.hpp"

namespace lab_test {

/// What happened, in order. Tests compare the whole log with an expected vector.
struct Events {
    std::vector<std::string> log;

    template <class... Parts>
    void record(const Parts&... parts) {
        std::ostringstream entry;
        (entry << ... << parts);
        log.push_back(entry.str());
    }
};

using Log = std::vector<std::string>;

/// lab::run / aio::run options that make a VirtualTimeLoop: sleeps cost no real time.
inline aio::RunOptions virtual_time() {
    return {.debug = false, .loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }};
}

/// Collects what a loop reports to its exception handler (instead of printing it).
struct Reports {
    std::vector<aio::ExceptionContext> contexts;

    void install(aio::EventLoop& loop) {
        loop.set_exception_handler(
            [this](aio::EventLoop&, const aio::ExceptionContext& context) { contexts.push_back(context); });
    }
};

}  // namespace lab_test
