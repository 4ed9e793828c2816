// Chapter 6: gather runs awaitables concurrently and returns their results in argument order.
#include <aio/aio.hpp>

#include <cstdio>
#include <stdexcept>
#include <tuple>

aio::Coro<int> after(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}

aio::Coro<int> failing() {
    co_await aio::sleep(0.1);
    throw std::runtime_error("boom");
}

aio::Coro<void> main_coro() {
    auto both = aio::gather(after(0.3, 1), after(0.1, 2));
    auto [x, y] = co_await std::move(both);
    std::printf("results %d %d\n", x, y);

    // return_exceptions: errors come back as Outcome values instead of being raised.
    auto mixed = aio::gather(aio::return_exceptions, after(0.1, 3), failing());
    auto [ok, bad] = co_await std::move(mixed);
    std::printf("ok=%d failed=%s\n", ok.value(), bad.has_value() ? "no" : "yes");
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
