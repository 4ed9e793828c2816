// An echo server that shuts down gracefully on Ctrl-C (SIGINT) or SIGTERM.
//
// aio::run's shutdown_signals turn the first signal into a cancellation of main. main then
// stops listening and waits for the open connections to finish, all within the grace
// period; a second Ctrl-C, or the end of the period, cuts whatever is left off (aio::run
// then throws aio::Interrupted).
//
// So that the book's tests can run it, this program is also its own client: after two round
// trips it sends itself SIGINT, exactly what Ctrl-C does, then finishes its conversation.
// Delete the client task to get a server that runs until you press Ctrl-C.
#include <aio/aio.hpp>

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

aio::Event shutting_down;  // set by main once the shutdown has begun (for the demo client)

aio::Coro<void> echo(aio::StreamReader reader, aio::StreamWriter writer) {
    std::printf("server: client connected\n");
    while (true) {
        std::string line = co_await reader.readline();  // "" at EOF
        if (line.empty()) break;
        writer.write("echo: " + line);
        co_await writer.drain();
    }
    std::printf("server: client disconnected\n");
}

aio::Coro<void> demo_client(std::uint16_t port) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    for (const char* word : {"hello\n", "world\n"}) {
        writer.write(word);
        co_await writer.drain();
        std::string reply = co_await reader.readline();
        std::printf("client got: %s", reply.c_str());
    }
    std::printf("client: Ctrl-C (SIGINT to this process)\n");
    ::raise(SIGINT);
    co_await shutting_down.wait();
    // The server no longer accepts connections, but this one is still served.
    writer.write("bye\n");
    co_await writer.drain();
    std::string reply = co_await reader.readline();
    std::printf("client got: %s", reply.c_str());
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<int> serve() {
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0);
    std::printf("serving on 127.0.0.1\n");
    aio::create_task(demo_client(server.port()));

    bool cancelled = false;
    try {
        co_await aio::sleep(1e9);  // serve until a shutdown signal cancels main
    } catch (const aio::CancelledError& error) {
        std::printf("server: %s: no new connections\n", error.what());
        cancelled = true;
    }
    if (cancelled) {  // no co_await inside the catch block (GCC 12): wind down after it
        server.close();
        shutting_down.set();
        co_await server.wait_closed();  // every connection closed, every handler returned
        std::printf("server: stopped cleanly\n");
    }
    co_return 0;
}

}  // namespace

int main() {
    using namespace std::chrono_literals;
    try {
        const int code = aio::run(serve(), {.shutdown_signals = {SIGINT, SIGTERM},
                                            .shutdown_grace = 5s});
        std::printf("exit code %d\n", code);
        return code;
    } catch (const aio::Interrupted& interrupted) {
        // main let the cancellation through, or was cut off after the grace period.
        std::printf("%s\n", interrupted.what());
        return 128 + interrupted.signal();  // what a shell reports for a killed process
    }
}
