#pragma once
// Helpers shared by lab 06's hidden tests: an ordered event log, the virtual-time runner,
// leak and report checks, and the children the tests gather.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

namespace hidden06 {

using Log = std::vector<std::string>;

struct Events {
    Log log;
    template <class... Parts>
    void record(const Parts&... parts) {
        std::ostringstream entry;
        (entry << ... << parts);
        log.push_back(entry.str());
    }
};

inline double now() { return aio::to_seconds(aio::get_running_loop().time()); }
inline int cancelling() { return aio::current_task()->cancelling(); }

template <class T>
T run_virtual(aio::Coro<T> coro) {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(std::move(coro));
}

class FrameLeakCheck {
public:
    FrameLeakCheck() noexcept : baseline_(aio::live_coroutine_frames()) {}
    std::int64_t leaked() const noexcept { return aio::live_coroutine_frames() - baseline_; }

private:
    std::int64_t baseline_;
};

struct Reports {
    std::vector<std::string> messages;
    void install(aio::EventLoop& loop) {
        loop.set_exception_handler(
            [this](aio::EventLoop&, const aio::ExceptionContext& context) { messages.push_back(context.message); });
    }
};

inline std::string whats(const aio::ExceptionGroup& group) {
    std::string text;
    for (const std::exception_ptr& error : group.exceptions()) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            text += (text.empty() ? "" : " ") + std::string(e.what());
        }
    }
    return text;
}

/// Live timers of the running loop (a VirtualTimeLoop is a SelectorEventLoop).
inline std::size_t live_timers() {
    auto& loop = dynamic_cast<aio::SelectorEventLoop&>(aio::get_running_loop());
    return loop.timer_count() - loop.cancelled_timer_count();
}

inline aio::Coro<int> after(Events* events, std::string name, double delay, int value) {
    events->record(name, " starts @", now());
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError& cancelled) {
        events->record(name, " cancelled(", cancelled.message(), ") @", now());
        throw;
    }
    events->record(name, " returns ", value, " @", now());
    co_return value;
}

inline aio::Coro<int> fail_after(Events* events, std::string name, double delay, std::string what) {
    events->record(name, " starts @", now());
    co_await aio::sleep(delay);
    events->record(name, " raises ", what, " @", now());
    throw std::runtime_error(what);
}

inline aio::Coro<int> quiet(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}

inline aio::Task<int> spawn(Events* events, std::string name, double delay, int value) {
    return aio::create_task(after(events, name, delay, value), name);
}

}  // namespace hidden06

