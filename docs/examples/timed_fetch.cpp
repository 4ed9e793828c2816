// Chapter 11: aio::timed and aio::async_timed, the course's @async_timed() decorator: a
// report when an await starts and when it ends, with the loop time it took. On a
// VirtualTimeLoop the durations are exact.
#include <aio/aio.hpp>

#include <cstdio>
#include <memory>
#include <string>

aio::Coro<std::string> fetch(std::string url, double delay) {
    co_await aio::sleep(delay);  // the network
    co_return "<html>" + url + "</html>";
}

aio::Coro<void> main_coro() {
    // The default sink writes to stderr; this one prints on stdout with the rest.
    aio::set_timed_sink([](const aio::TimedEvent& event) {
        if (event.phase == aio::TimedEvent::Phase::started)
            std::printf("starting %s\n", event.name.c_str());
        else
            std::printf("finished %s in %.4f second(s)\n", event.name.c_str(), aio::to_seconds(event.elapsed));
    });

    // One await:
    auto one = aio::timed(fetch("example.com", 1.0), "fetch example.com");
    std::string page = co_await std::move(one);

    // The decorator form: every call of timed_fetch is timed.
    auto timed_fetch = aio::async_timed("fetch", fetch);
    auto both = aio::gather(timed_fetch("a.org", 0.5), timed_fetch("b.org", 2.0));
    auto all = aio::timed(std::move(both), "gather");
    co_await std::move(all);
    aio::set_timed_sink({});
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
