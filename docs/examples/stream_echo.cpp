// Chapter 8: streams (asyncio.start_server, open_connection, StreamReader, StreamWriter).
// The server runs one handler task per connection; the handler owns both halves, so the
// connection closes when it returns.
#include <aio/aio.hpp>

#include <cstdio>
#include <string>

aio::Coro<void> echo(aio::StreamReader reader, aio::StreamWriter writer) {
    while (true) {
        std::string line = co_await reader.readline();  // "" at EOF
        if (line.empty()) break;
        writer.write("echo: " + line);
        co_await writer.drain();  // flow control: waits only if the peer reads too slowly
    }
}

aio::Coro<void> main_coro() {
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());

    for (const char* word : {"hello\n", "world\n"}) {
        writer.write(word);
        co_await writer.drain();
        std::string reply = co_await reader.readline();
        std::printf("%s", reply.c_str());
    }
    writer.write_eof();  // the handler's readline() returns "" and the handler returns
    std::string rest = co_await reader.read();  // until the server closes its side
    std::printf("server closed: %s\n", reader.at_eof() && rest.empty() ? "yes" : "no");

    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();  // no connection and no handler left
    std::printf("server stopped, %zu active\n", server.active_count());
}

int main() { aio::run(main_coro()); }
