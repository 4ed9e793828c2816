// Chapter 6: a TaskGroup whose task fails. The failure cancels the other tasks of the group
// (and the body's own await); the group waits for them and raises an ExceptionGroup.
// Virtual time; given a path (or AIO_TRACE) it writes its trace.
#include <aio/aio.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

double now() {
    return aio::to_seconds(aio::get_running_loop().time());
}

aio::Coro<void> job(std::string name, double seconds, bool fail) {
    co_await aio::sleep(seconds);
    if (fail) throw std::runtime_error(name + " failed");
}

aio::Coro<int> start_jobs(aio::TaskGroup& group) {
    group.create_task(job("fast", 0.5, false), "fast");
    group.create_task(job("failing", 1.0, true), "failing");
    group.create_task(job("slow", 3.0, false), "slow");
    co_await aio::sleep(2.0);  // the body's own work: cancelled too
    co_return 0;
}

aio::Coro<void> main_coro() {
    try {
        auto scope = aio::task_group(start_jobs);  // named local, then await (GCC 12)
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& group) {
        std::printf("ExceptionGroup at t=%.1f: %s\n", now(),
                    aio::describe_exception(group.exceptions().front()).c_str());
    }
}

int main(int argc, char** argv) {
    if (argc > 1) aio::trace::start(argv[1]);  // else AIO_TRACE, if set
    aio::RunOptions options;
    options.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); };
    aio::run(main_coro(), std::move(options));
    aio::trace::stop();
}
