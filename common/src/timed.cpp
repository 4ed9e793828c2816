#include "aio/timed.hpp"

#include <cstdio>
#include <mutex>

#include "aio/errors.hpp"

namespace aio {

namespace {
// Built on first use and never destroyed: a timed await may end during static destruction.
std::mutex& sink_mutex() {
    static auto* mutex = new std::mutex;
    return *mutex;
}
TimedSink& timed_sink() {
    static auto* sink = new TimedSink;
    return *sink;
}

/// The course's decorator prints these two lines.
void write_to_stderr(const TimedEvent& event) {
    if (event.phase == TimedEvent::Phase::started) {
        std::fprintf(stderr, "starting %s\n", event.name.c_str());
        return;
    }
    std::string line = "finished " + event.name + " in ";
    char seconds_text[32];
    std::snprintf(seconds_text, sizeof seconds_text, "%.4f", to_seconds(event.elapsed));
    line += seconds_text;
    line += " second(s)";
    if (event.error) line += " with " + describe_exception(event.error);
    std::fprintf(stderr, "%s\n", line.c_str());
}
}  // namespace

void set_timed_sink(TimedSink sink) {
    std::lock_guard lock(sink_mutex());
    timed_sink() = std::move(sink);
}

void detail::report_timed(const TimedEvent& event) noexcept {
    try {
        TimedSink sink;
        {
            std::lock_guard lock(sink_mutex());
            sink = timed_sink();  // a copy: the sink may be replaced while it runs
        }
        if (sink) {
            sink(event);
        } else {
            write_to_stderr(event);
        }
    } catch (...) {
        std::fprintf(stderr, "aio::timed: the sink threw %s\n", describe_exception(std::current_exception()).c_str());
    }
}

}  // namespace aio
