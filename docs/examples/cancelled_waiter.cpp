// Chapter 10: the cancelled-waiter subtlety. release() wakes the first waiter, B, by setting
// its future; B is cancelled before it gets to run. If B simply left, nobody would take the
// lock and C would wait forever. aio's acquire() notices it was woken and hands the wake-up
// to the next waiter, as asyncio's Lock does.
#include <aio/aio.hpp>

#include <cstdio>
#include <string>

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

aio::Coro<void> take(aio::Lock& lock, std::string name) {
    try {
        co_await lock.acquire();
    } catch (const aio::CancelledError&) {
        std::printf("%s cancelled while waiting\n", name.c_str());
        throw;
    }
    std::printf("%s has the lock at t=%.1f\n", name.c_str(), now());
    co_await aio::sleep(1.0);
    lock.release();
}

aio::Coro<void> main_coro() {
    aio::Lock lock;
    co_await lock.acquire();  // A (this task) holds the lock
    auto b = aio::create_task(take(lock, "B"));
    auto c = aio::create_task(take(lock, "C"));
    co_await aio::sleep(0.5);  // B and C queue up, in that order

    lock.release();  // wakes B: its future is done, but B has not run yet...
    b.cancel();      // ...and is cancelled before it does
    co_await c;      // C still gets the lock
    std::printf("C done at t=%.1f, B cancelled: %s\n", now(), b.cancelled() ? "yes" : "no");
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
