// Chapter 3: a Future is completed once; its done callbacks go through call_soon.
#include <aio/aio.hpp>

#include <cstdio>

aio::Coro<int> main_coro() {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> answer(loop);
    answer.add_done_callback([](const aio::Future<int>& done) { std::printf("callback sees %d\n", done.result()); });
    // Someone else completes it later: here, a timer at t=1.
    loop.call_later(1.0, [answer]() mutable { answer.set_result(42); });
    int value = co_await answer;  // suspends this task until set_result
    std::printf("awaited %d at t=%.0f\n", value, aio::to_seconds(loop.time().time_since_epoch()));
    co_return value;
}

int main() {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(main_coro()) == 42 ? 0 : 1;
}
