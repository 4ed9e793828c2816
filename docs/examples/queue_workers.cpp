// Chapter 10: a bounded queue between a producer and three workers. put() waits while the
// queue is full (back-pressure), join() waits until every item is task_done(), and
// shutdown() (Python 3.13) makes the idle workers' get() raise QueueShutDown so they exit.
#include <aio/aio.hpp>

#include <cstdio>
#include <vector>

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

aio::Coro<int> worker(aio::Queue<int>& jobs, int id) {
    int handled = 0;
    while (true) {
        int job = 0;
        try {
            job = co_await jobs.get();
        } catch (const aio::QueueShutDown&) {
            break;  // shut down and empty: no more work will come
        }
        co_await aio::sleep(1.0);  // process the job
        ++handled;
        jobs.task_done();
        std::printf("worker %d finished job %d at t=%.1f\n", id, job, now());
    }
    co_return handled;
}

aio::Coro<void> main_coro() {
    aio::Queue<int> jobs(2);  // asyncio.Queue(maxsize=2)
    std::vector<aio::Task<int>> workers;
    for (int id = 0; id < 3; ++id) workers.push_back(aio::create_task(worker(jobs, id)));

    for (int job = 0; job < 6; ++job) co_await jobs.put(job);  // waits while 2 are queued
    std::printf("all 6 jobs queued at t=%.1f\n", now());
    co_await jobs.join();
    std::printf("all jobs done at t=%.1f\n", now());

    jobs.shutdown();
    int handled = 0;
    for (auto& task : workers) handled += co_await task;
    std::printf("workers stopped, %d jobs handled\n", handled);

    // The other orders: a stack, and the smallest first.
    aio::LifoQueue<int> stack;
    aio::PriorityQueue<std::pair<int, const char*>> urgent;
    for (int i = 1; i <= 3; ++i) stack.put_nowait(i);
    urgent.put_nowait({2, "later"});
    urgent.put_nowait({1, "first"});
    const int top = stack.get_nowait();
    std::printf("lifo gives %d, priority gives %s\n", top, urgent.get_nowait().second);
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
