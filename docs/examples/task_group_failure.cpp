// Chapter 6: a TaskGroup whose task fails: the group cancels its other tasks, waits for them,
// and raises an ExceptionGroup with the failures.
#include <aio/aio.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

aio::Coro<void> worker(std::string name, double delay, bool fail) {
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        std::printf("%s cancelled\n", name.c_str());
        throw;  // let the cancellation through: swallowing it would make the group wait forever
    }
    if (fail) throw std::runtime_error(name + " failed");
    std::printf("%s finished\n", name.c_str());
}

// The body of the group: a coroutine that does not capture and takes the group the
// task_group() call hands it (the group lives in task_group's frame, longer than the body).
aio::Coro<int> start_workers(aio::TaskGroup& group) {
    group.create_task(worker("fast", 0.1, false));
    group.create_task(worker("failing", 0.5, true));
    group.create_task(worker("slow", 2.0, false));
    co_return 0;
}

aio::Coro<void> main_coro() {
    try {
        auto scope = aio::task_group(start_workers);  // named local, then await (GCC 12)
        co_await std::move(scope);
    } catch (const aio::ExceptionGroup& group) {
        std::printf("ExceptionGroup with %zu error(s): %s\n", group.exceptions().size(),
                    aio::describe_exception(group.exceptions().front()).c_str());
    }
    double now = aio::to_seconds(aio::get_running_loop().time().time_since_epoch());
    std::printf("done at t=%.1f\n", now);
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
