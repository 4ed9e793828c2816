// Chapter 8: flow control. write() never waits: what the kernel does not take is queued in
// the writer. drain() waits while that queue is above the high-water mark (64 KiB), so a
// fast producer cannot fill the memory when the peer reads slowly.
#include <aio/aio.hpp>

#include <cstdio>
#include <string>

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

double reading_started = 0;

aio::Coro<void> slow_reader(aio::StreamReader reader, aio::StreamWriter writer) {
    co_await aio::sleep(0.2);  // a busy peer: reads nothing for 0.2 s
    reading_started = now();
    std::size_t total = 0;
    while (true) {
        std::string chunk = co_await reader.read(64 * 1024);
        if (chunk.empty()) break;
        total += chunk.size();
    }
    writer.write(std::to_string(total));
}

aio::Coro<void> main_coro() {
    aio::Server server = co_await aio::start_server(slow_reader, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());

    const std::string block(32 * 1024 * 1024, 'x');  // more than the kernel's socket buffers
    writer.write(block);
    std::printf("queued in the writer: more than 64 KiB: %s\n",
                writer.write_buffer_size() > aio::StreamWriter::default_high_water ? "yes" : "no");
    co_await writer.drain();  // resumes once the reader has taken enough
    std::printf("drain waited for the reader: %s\n", now() >= reading_started && reading_started > 0 ? "yes" : "no");

    writer.write_eof();
    std::string count = co_await reader.read();
    std::printf("the server read %s bytes\n", count.c_str());
    writer.close();
    server.close();
    co_await server.wait_closed();
}

int main() { aio::run(main_coro()); }
