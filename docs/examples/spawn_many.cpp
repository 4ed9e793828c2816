// Chapter 0: a small workload to profile: spawn many tasks that each sleep once, and gather
// them. Virtual time, so the profile shows the runtime's own costs, not waiting.
#include <aio/aio.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

aio::Coro<int> nap(int id) {
    co_await aio::sleep(1.0);
    co_return id;
}

aio::Coro<long> spawn_and_gather(int count) {
    std::vector<aio::Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (int id = 0; id < count; ++id) tasks.push_back(aio::create_task(nap(id)));
    auto everything = aio::gather(std::move(tasks));
    std::vector<int> ids = co_await std::move(everything);
    long sum = 0;
    for (int id : ids) sum += id;
    co_return sum;
}

int main(int argc, char** argv) {
    const int count = argc > 1 ? std::atoi(argv[1]) : 10000;
    aio::VirtualTimeLoop loop;
    const long sum = loop.run_until_complete(spawn_and_gather(count));
    const double now = aio::to_seconds(loop.time().time_since_epoch());
    std::printf("%d tasks, sum of ids %ld, virtual time %.1f s\n", count, sum, now);
    loop.close();
    return sum == static_cast<long>(count) * (count - 1) / 2 ? 0 : 1;
}
