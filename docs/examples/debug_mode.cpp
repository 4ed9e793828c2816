// Troubleshooting: debug mode names a task that blocks the loop and a coroutine that was
// called but never awaited, and says where each came from.
#include <aio/aio.hpp>

#include <chrono>
#include <cstdio>
#include <memory>

aio::Coro<int> compute(int x) { co_return x * 2; }

aio::Coro<void> blocker() {
    // A blocking call inside a coroutine (a busy loop stands in for a slow computation or a
    // synchronous read): no other task runs meanwhile.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
    while (std::chrono::steady_clock::now() < until) {
    }
    co_return;
}

aio::Coro<void> main_coro() {
    aio::EventLoop& loop = aio::get_running_loop();
    loop.slow_callback_duration = std::chrono::milliseconds(10);  // default: 100 ms
    loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext& context) {
        std::printf("%s\n  %s\n", context.message.c_str(), context.source.c_str());
    });
    aio::Task<void> task = aio::create_task(blocker(), "blocker");
    co_await task;
    aio::Coro<int> forgotten = compute(21);  // the bug: `co_await` is missing
}

int main() {
    aio::RunOptions options;
    options.debug = true;  // or AIO_DEBUG=1 in the environment
    options.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); };
    aio::run(main_coro(), options);
}
