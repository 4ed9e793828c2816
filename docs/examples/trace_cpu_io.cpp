// Chapter 0: one thread, three tasks. Each task alternates a CPU-bound step (a busy loop of
// about ten milliseconds: nothing else can run meanwhile) with an I/O-bound wait (a sleep: the
// thread is free for the others). Run with a path, or AIO_TRACE=path, to write its trace;
// docs/tools/trace_svg.py draws it (docs/figures/trace_cpu_io.svg).
#include <aio/aio.hpp>

#include <chrono>
#include <cstdio>
#include <string>

// Burns `milliseconds` of CPU without giving the loop a chance to run anything else.
void busy(double milliseconds) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::duration<double, std::milli>(milliseconds);
    while (std::chrono::steady_clock::now() < until) {
    }
}

aio::Coro<int> worker(double cpu_ms, double io_ms) {
    for (int round = 0; round < 3; ++round) {
        busy(cpu_ms);                       // CPU-bound: holds the thread
        co_await aio::sleep(io_ms / 1000);  // I/O-bound: hands the thread back
    }
    co_return 3;
}

aio::Coro<void> main_coro() {
    auto a = aio::create_task(worker(10, 25), "worker A");
    auto b = aio::create_task(worker(8, 30), "worker B");
    auto c = aio::create_task(worker(12, 20), "worker C");
    int rounds = co_await a;
    rounds += co_await b;
    rounds += co_await c;
    std::printf("3 workers, %d rounds in all, on one thread\n", rounds);
}

int main(int argc, char** argv) {
    if (argc > 1) aio::trace::start(argv[1]);  // else AIO_TRACE, if set
    aio::run(main_coro());
    aio::trace::stop();
}
