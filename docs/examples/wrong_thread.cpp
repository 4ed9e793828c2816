// Chapter 11: debug mode catches a loop method called from the wrong thread. Without debug
// mode the call would race with the loop (undefined behaviour, sometimes a crash much
// later); with it, the call throws RuntimeError at once, in the thread that made it.
#include <aio/aio.hpp>

#include <cstdio>
#include <string>
#include <thread>

aio::Coro<void> main_coro() {
    aio::EventLoop& loop = aio::get_running_loop();
    std::string error;
    bool threadsafe_ran = false;
    std::thread worker([&loop, &error, &threadsafe_ran] {
        try {
            loop.call_soon([] {});  // wrong: only call_soon_threadsafe may come from here
        } catch (const aio::RuntimeError& e) {
            error = e.what();
        }
        loop.call_soon_threadsafe([&threadsafe_ran] { threadsafe_ran = true; });  // right
    });
    worker.join();  // quick: the worker does nothing else
    co_await aio::sleep(0.01);
    std::printf("call_soon from a worker: RuntimeError: %s\n", error.c_str());
    std::printf("call_soon_threadsafe from a worker ran on the loop: %s\n", threadsafe_ran ? "yes" : "no");
}

int main() {
    aio::RunOptions options;
    options.debug = true;  // or AIO_DEBUG=1 in the environment
    aio::run(main_coro(), options);
}
