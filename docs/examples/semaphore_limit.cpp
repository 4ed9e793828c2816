// Chapter 10: an Event starts every task at the same moment; a Semaphore lets at most two of
// them download at once. Waiters are served in arrival order, so the finishing order is fixed.
#include <aio/aio.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

struct Crawler {
    aio::Event start;       // asyncio.Event()
    aio::Semaphore slots{2};  // asyncio.Semaphore(2)
    int in_flight = 0;
    int peak = 0;
};

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

aio::Coro<void> download(Crawler& crawler, int id) {
    co_await crawler.start.wait();
    auto slot = co_await crawler.slots.scoped_acquire();  // `async with slots:`
    crawler.peak = std::max(crawler.peak, ++crawler.in_flight);
    co_await aio::sleep(1.0);  // the request
    --crawler.in_flight;
    std::printf("download %d done at t=%.1f\n", id, now());
}  // `slot` releases the permit here, waking the longest-waiting task

aio::Coro<void> main_coro() {
    Crawler crawler;
    std::vector<aio::Task<void>> tasks;
    for (int id = 0; id < 5; ++id) tasks.push_back(aio::create_task(download(crawler, id)));
    co_await aio::sleep(0.5);
    crawler.start.set();  // every waiter wakes up
    for (auto& task : tasks) co_await task;
    std::printf("peak concurrency %d, all done at t=%.1f\n", crawler.peak, now());
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
