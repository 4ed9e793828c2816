// Chapter 9: CPU-bound work. A computation run inline in a task holds the loop's thread for
// as long as it takes: a ticker task that should tick every 10 ms stalls, and debug mode
// reports the slow step. The same computation through aio::to_thread runs on a worker
// thread; the loop's thread stays free and the ticker keeps ticking.
#include <aio/aio.hpp>

#include <chrono>
#include <cstdio>

namespace {

int ticks = 0;

aio::Coro<void> ticker() {
    while (true) {
        co_await aio::sleep(0.01);
        ++ticks;
    }
}

// Pure computation, no system call: counts the primes below `limit` by trial division
// (about a tenth of a second for 500,000 on an idle machine).
long count_primes(long limit) {
    long count = 0;
    for (long n = 2; n < limit; ++n) {
        bool prime = true;
        for (long d = 2; d * d <= n; ++d) {
            if (n % d == 0) {
                prime = false;
                break;
            }
        }
        count += prime ? 1 : 0;
    }
    return count;
}

constexpr long limit = 500'000;

aio::Coro<void> main_coro() {
    aio::EventLoop& loop = aio::get_running_loop();
    // Debug mode (aio::run's options below) reports any step longer than this; the report
    // goes to the exception handler, printed here on stdout with the rest.
    loop.slow_callback_duration = std::chrono::milliseconds(10);
    loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext& context) {
        std::printf("debug mode: %s\n", context.message.c_str());
    });
    aio::Task<void> ticking = aio::create_task(ticker());
    co_await aio::sleep(0.05);  // the ticker is running

    int before = ticks;
    const long inline_result = count_primes(limit);  // wrong: the loop waits for this
    std::printf("inline: %d ticks during the call\n", ticks - before);
    co_await aio::sleep(0);  // this step ends here: debug mode reports how long it took

    before = ticks;
    const long threaded_result = co_await aio::to_thread(count_primes, limit);
    std::printf("to_thread: %d ticks during the call, same result: %s\n", ticks - before,
                threaded_result == inline_result ? "yes" : "no");
    ticking.cancel();
}

}  // namespace

int main() {
    aio::RunOptions options;
    options.debug = true;
    aio::run(main_coro(), options);
}
