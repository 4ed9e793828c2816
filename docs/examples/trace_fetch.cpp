// Chapter 0: three "fetches" (sleeps standing for network round trips), first one after the
// other, then all at once with gather. Virtual time: the run takes microseconds, and its
// trace (given a path, or AIO_TRACE) is the same on every machine.
#include <aio/aio.hpp>

#include <cstdio>
#include <string>
#include <vector>

aio::Coro<int> fetch(int page, double seconds) {
    co_await aio::sleep(seconds);  // waiting for the server: the thread is free
    co_return page;
}

double now() {
    return aio::to_seconds(aio::get_running_loop().time());
}

aio::Coro<void> main_coro() {
    const double delays[] = {1.0, 0.6, 0.8};
    // Sequential: each fetch starts when the previous one is done.
    for (int page = 1; page <= 3; ++page) {
        auto task =
            aio::create_task(fetch(page, delays[page - 1]), "sequential " + std::to_string(page));
        co_await task;
    }
    const double sequential = now();
    // Concurrent: all three wait at the same time.
    std::vector<aio::Task<int>> tasks;
    for (int page = 1; page <= 3; ++page)
        tasks.push_back(
            aio::create_task(fetch(page, delays[page - 1]), "concurrent " + std::to_string(page)));
    auto all = aio::gather(std::move(tasks));
    co_await std::move(all);
    std::printf("sequential: %.1f s, concurrent: %.1f s\n", sequential, now() - sequential);
}

int main(int argc, char** argv) {
    if (argc > 1) aio::trace::start(argv[1]);  // else AIO_TRACE, if set
    aio::RunOptions options;
    options.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); };
    aio::run(main_coro(), std::move(options));
    aio::trace::stop();
}
