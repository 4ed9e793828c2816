// Chapter 8: the lecture's example. Fetch 20 pages from a slow server (each answer takes
// 50 ms) three ways: one after the other, one std::thread per page (blocking sockets), and
// one aio task per page (open_connection) on a single thread. The server is started here,
// on aio, on a port the system chooses; the blocking fetches run on a worker thread
// (aio::to_thread) so that the loop goes on serving while they wait.
#include <aio/aio.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

constexpr int page_count = 20;
constexpr double server_delay = 0.05;  // seconds before each answer

// --- the server: a minimal HTTP/1.0 responder --------------------------------------------

aio::Coro<void> serve_page(aio::StreamReader reader, aio::StreamWriter writer) {
    std::string request = co_await reader.readuntil("\r\n\r\n");  // "GET /page/7 HTTP/1.0..."
    const std::string path = request.substr(4, request.find(' ', 4) - 4);
    co_await aio::sleep(server_delay);  // a slow backend: the loop serves others meanwhile
    const std::string body = "<h1>" + path + "</h1>\n";
    writer.write("HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    co_await writer.drain();
}  // the handler owns the streams: returning closes the connection (the page's end)

// --- a client with blocking sockets (for the sequential and threaded fetches) ---------------

bool blocking_fetch(std::uint16_t port, int page) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string response;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        const std::string request = "GET /page/" + std::to_string(page) + " HTTP/1.0\r\n\r\n";
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
            char buffer[4096];
            ssize_t got;
            while ((got = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, static_cast<std::size_t>(got));
        }
    }
    ::close(fd);
    return response.find("<h1>/page/" + std::to_string(page) + "</h1>") != std::string::npos;
}

int fetch_sequentially(std::uint16_t port) {
    int good = 0;
    for (int page = 0; page < page_count; ++page) good += blocking_fetch(port, page) ? 1 : 0;
    return good;
}

int fetch_with_threads(std::uint16_t port) {
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int page = 0; page < page_count; ++page)
        threads.emplace_back([&good, port, page] { good += blocking_fetch(port, page) ? 1 : 0; });
    for (std::thread& thread : threads) thread.join();
    return good;
}

// --- a client on aio ----------------------------------------------------------------------

aio::Coro<bool> aio_fetch(std::uint16_t port, int page) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write("GET /page/" + std::to_string(page) + " HTTP/1.0\r\n\r\n");
    co_await writer.drain();
    std::string response = co_await reader.read();  // to EOF: the server closes after the page
    co_return response.find("<h1>/page/" + std::to_string(page) + "</h1>") != std::string::npos;
}

aio::Coro<int> fetch_with_tasks(std::uint16_t port) {
    std::vector<aio::Task<bool>> tasks;
    for (int page = 0; page < page_count; ++page) tasks.push_back(aio::create_task(aio_fetch(port, page)));
    int good = 0;
    for (auto& task : tasks) good += (co_await task) ? 1 : 0;
    co_return good;
}

// --- the three runs -----------------------------------------------------------------------

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

aio::Coro<void> main_coro() {
    aio::Server server = co_await aio::start_server(serve_page, "127.0.0.1", 0);
    const std::uint16_t port = server.port();

    auto start = std::chrono::steady_clock::now();
    int good = co_await aio::to_thread(fetch_sequentially, port);
    std::printf("sequential: %d pages in %.2f s\n", good, seconds_since(start));

    start = std::chrono::steady_clock::now();
    good = co_await aio::to_thread(fetch_with_threads, port);
    std::printf("threads:    %d pages in %.2f s\n", good, seconds_since(start));

    start = std::chrono::steady_clock::now();
    good = co_await fetch_with_tasks(port);
    std::printf("aio tasks:  %d pages in %.2f s\n", good, seconds_since(start));

    server.close();
    co_await server.wait_closed();
}

int main() { aio::run(main_coro()); }
