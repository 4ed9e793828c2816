// Chapter 4: tasks run concurrently; two sleeps of 1 s take 1 s of (virtual) time, not 2.
#include <aio/aio.hpp>

#include <cstdio>
#include <string>

aio::Coro<std::string> fetch(std::string name, double delay) {
    co_await aio::sleep(delay);
    co_return name + " done";
}

aio::Coro<void> main_coro() {
    aio::Task<std::string> first = aio::create_task(fetch("a", 1.0), "fetch-a");
    aio::Task<std::string> second = aio::create_task(fetch("b", 1.0), "fetch-b");
    std::string a = co_await first;
    std::string b = co_await second;
    double now = aio::to_seconds(aio::get_running_loop().time().time_since_epoch());
    std::printf("%s, %s after %.1f s\n", a.c_str(), b.c_str(), now);
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
