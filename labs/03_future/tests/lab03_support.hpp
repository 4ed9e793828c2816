#pragma once
// Helpers shared by lab 03's public tests.
#include <sstream>
#include <string>
#include <vector>

#include "aio/aio.hpp"

namespace lab_test {

/// What happened, in order. Tests compare the whole log with an expected vector, so a
/// callback that runs too early, too late or twice fails as clearly as a missing one.
struct Events {
    std::vector<std::string> log;

    template <class... Parts>
    void record(const Parts&... parts) {
        std::ostringstream entry;
        (entry << ... << parts);
        log.push_back(entry.str());
    }
};

/// Runs one iteration of `loop`: everything already in its ready queue, nothing that those
/// callbacks schedule in turn.
inline void run_one_iteration(aio::EventLoop& loop) {
    loop.call_soon([&loop] { loop.stop(); });
    loop.run_forever();
}

using Log = std::vector<std::string>;

}  // namespace lab_test
