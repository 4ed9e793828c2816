// Chapter 9: a thread that is not the loop's hands results to the loop. Only
// call_soon_threadsafe may be called from another thread; the callback it queues runs on
// the loop's thread, where it may touch the queue (aio's queues are not thread-safe).
#include <aio/aio.hpp>

#include <cstdio>
#include <thread>

aio::Coro<void> main_coro() {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Queue<int> results;
    const auto loop_thread = std::this_thread::get_id();
    bool all_on_loop_thread = true;

    std::thread worker([&loop, &results, &all_on_loop_thread, loop_thread] {
        for (int i = 1; i <= 3; ++i) {
            const int value = i * i;  // some work on the worker thread
            // results.put_nowait(value) here would race with the loop: hand it over instead.
            loop.call_soon_threadsafe([&results, &all_on_loop_thread, loop_thread, value] {
                all_on_loop_thread = all_on_loop_thread && std::this_thread::get_id() == loop_thread;
                results.put_nowait(value);
            });
        }
    });

    int sum = 0;
    for (int i = 0; i < 3; ++i) sum += co_await results.get();
    worker.join();  // it has posted its last value: joining does not block the loop for long
    std::printf("sum of squares %d, every put on the loop thread: %s\n", sum,
                all_on_loop_thread ? "yes" : "no");
}

int main() { aio::run(main_coro()); }
