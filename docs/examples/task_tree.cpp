// Chapter 11: "what is my program waiting for?" aio::format_task_tree() draws every pending
// task and what it awaits (Python 3.14's asyncio.print_call_graph).
#include <aio/aio.hpp>

#include <cstdio>
#include <memory>
#include <string>

aio::Coro<int> fetch(int page, double delay) {
    co_await aio::sleep(delay);
    co_return page;
}

aio::Coro<int> fetch_both() {
    auto inner = aio::create_task(fetch(3, 5.0), "fetch 3");
    auto pages = aio::gather(fetch(1, 1.0), fetch(2, 2.0));
    auto [a, b] = co_await std::move(pages);
    co_return a + b + co_await inner;
}

aio::Coro<void> watcher() {
    co_await aio::sleep(1.5);  // fetch 1 is done, the others still wait
    std::printf("%s", aio::format_task_tree().c_str());
}

aio::Coro<void> main_coro() {
    auto watching = aio::create_task(watcher(), "watcher");
    auto work = aio::create_task(fetch_both(), "fetch_both");
    const int sum = co_await work;
    co_await watching;
    std::printf("sum %d\n", sum);
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
