// Chapter 1: callbacks on the event loop, in virtual time (no real waiting).
#include <aio/aio.hpp>

#include <cstdio>

int main() {
    aio::VirtualTimeLoop loop;
    // call_later runs in deadline order; call_soon runs in FIFO order in the next iteration.
    loop.call_later(0.2, [&loop] {
        std::printf("t=%.1f timer at 0.2\n", aio::to_seconds(loop.time().time_since_epoch()));
        loop.stop();
    });
    loop.call_later(0.1, [&loop] {
        std::printf("t=%.1f timer at 0.1\n", aio::to_seconds(loop.time().time_since_epoch()));
    });
    loop.call_soon([] { std::printf("soon 1\n"); });
    loop.call_soon([] { std::printf("soon 2\n"); });
    loop.run_forever();
    loop.close();
}
