// Chapter 7: an async generator awaits and yields; the consumer pulls with next().
#include <aio/aio.hpp>

#include <cstdio>

aio::AsyncGenerator<int> ticks(int count) {
    for (int i = 0; i < count; ++i) {
        co_await aio::sleep(1.0);
        co_yield i;
    }
}

aio::Coro<int> main_coro() {
    aio::AsyncGenerator<int> gen = ticks(3);
    int total = 0;
    while (auto value = co_await gen.next()) {
        std::printf("tick %d\n", *value);
        total += *value;
    }
    co_return total;
}

int main() {
    aio::VirtualTimeLoop loop;
    int total = loop.run_until_complete(main_coro());
    std::printf("total=%d\n", total);
    return total == 3 ? 0 : 1;
}
