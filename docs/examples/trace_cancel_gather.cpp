// Chapter 5: cancelling a task that awaits a gather cancels the gather's children; each
// child sees CancelledError at its await, and the gather, then the task, end cancelled.
// Virtual time; given a path (or AIO_TRACE) it writes its trace.
#include <aio/aio.hpp>

#include <cstdio>
#include <string>

double now() {
    return aio::to_seconds(aio::get_running_loop().time());
}

aio::Coro<void> download(std::string name, double seconds) {
    try {
        co_await aio::sleep(seconds);
    } catch (const aio::CancelledError&) {
        std::printf("%s cancelled at t=%.1f\n", name.c_str(), now());
        throw;
    }
}

aio::Coro<void> request() {
    // Named first: a compiler may evaluate gather's arguments in any order.
    auto part1 = aio::create_task(download("part 1", 2.0), "part 1");
    auto part2 = aio::create_task(download("part 2", 3.0), "part 2");
    auto part3 = aio::create_task(download("part 3", 4.0), "part 3");
    auto all = aio::gather(part1, part2, part3);
    co_await std::move(all);
}

aio::Coro<void> main_coro() {
    auto task = aio::create_task(request(), "request");
    co_await aio::sleep(1.0);
    task.cancel();  // the user gave up
    try {
        co_await task;
    } catch (const aio::CancelledError&) {
        std::printf("request cancelled at t=%.1f\n", now());
    }
}

int main(int argc, char** argv) {
    if (argc > 1) aio::trace::start(argv[1]);  // else AIO_TRACE, if set
    aio::RunOptions options;
    options.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); };
    aio::run(main_coro(), std::move(options));
    aio::trace::stop();
}
