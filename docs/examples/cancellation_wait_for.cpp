// Chapter 5: wait_for cancels the slow work and raises TimeoutError; cleanup still runs.
#include <aio/aio.hpp>

#include <cstdio>

aio::Coro<int> slow() {
    try {
        co_await aio::sleep(10.0);
    } catch (const aio::CancelledError&) {
        // No co_await in a catch block (C++20 forbids it): only record, then rethrow.
        std::printf("slow: cancelled, cleaning up\n");
        throw;
    }
    co_return 1;
}

aio::Coro<void> main_coro() {
    bool timed_out = false;
    try {
        auto limited = aio::wait_for(slow(), 0.5);  // named local: see the GCC 12 pitfalls
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        timed_out = true;
    }
    double now = aio::to_seconds(aio::get_running_loop().time().time_since_epoch());
    std::printf("timed out: %s at t=%.1f\n", timed_out ? "yes" : "no", now);
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
