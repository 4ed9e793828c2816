// Chapter 9: run_in_executor with an executor of our own. Four 0.1 s calls on a pool of two
// threads take 0.2 s. A timeout cancels the future, not the call: a function running on a
// thread cannot be interrupted, so it runs to its end and its result is dropped.
#include <aio/aio.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>
#include <vector>

int slow_square(int x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // blocking work
    return x * x;
}

void slow_job(std::atomic<bool>& finished) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    finished = true;
}

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

aio::Coro<void> main_coro() {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::ThreadPoolExecutor pool(2);  // concurrent.futures.ThreadPoolExecutor(max_workers=2)

    const double start = now();
    std::vector<aio::Future<int>> jobs;
    for (int x = 1; x <= 4; ++x) jobs.push_back(loop.run_in_executor(pool, slow_square, x));
    auto all = aio::gather(std::move(jobs));
    std::vector<int> squares = co_await std::move(all);
    std::printf("squares %d %d %d %d in %.1f s on %zu threads\n", squares[0], squares[1], squares[2],
                squares[3], now() - start, pool.thread_count());

    std::atomic<bool> finished{false};
    aio::Future<void> job = loop.run_in_executor(pool, slow_job, std::ref(finished));
    bool timed_out = false;
    try {
        auto limited = aio::wait_for(job, 0.05);
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        timed_out = true;
    }
    std::printf("timed out: %s, job finished then: %s\n", timed_out ? "yes" : "no",
                finished ? "yes" : "no");
    // The call goes on: it ends about 0.15 s later. Polled (at most 5 s), so that a loaded
    // machine cannot make the sample print a wrong answer.
    for (int i = 0; i < 100 && !finished; ++i) co_await aio::sleep(0.05);
    std::printf("job finished later: %s\n", finished ? "yes" : "no");
}  // `pool` is destroyed here: shutdown(wait=true) joins its threads

int main() { aio::run(main_coro()); }
