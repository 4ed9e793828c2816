// Streams (asyncio.open_connection, start_server, StreamReader, StreamWriter) on 127.0.0.1.
// Every test runs a real SelectorEventLoop; none depends on timing. CTest runs this program
// twice: on the loop's io_uring (where the kernel allows it) and with AIO_IO_URING=0, on
// epoll. Every test holds on both paths.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "aio/aio.hpp"
#include "test_support.hpp"

namespace {

/// Open file descriptors of this process (to prove nothing leaked).
std::size_t open_fd_count() {
    std::size_t count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (::readdir(dir)) ++count;
        ::closedir(dir);
    }
    return count;
}

/// Lets the loop run a few iterations (data on loopback is readable at the next one).
aio::Coro<void> spin(int iterations = 5) {
    for (int i = 0; i < iterations; ++i) co_await aio::sleep(0);
}

/// A payload whose bytes differ by position, so a reordering or a loss shows.
std::string pattern(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7919) % 26);
    return bytes;
}

// --- handlers -----------------------------------------------------------------------------

aio::Coro<void> echo_lines(aio::StreamReader reader, aio::StreamWriter writer) {
    while (true) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        writer.write(line);
        co_await writer.drain();
    }
}

aio::Coro<void> echo_chunks(aio::StreamReader reader, aio::StreamWriter writer) {
    while (true) {
        std::string chunk = co_await reader.read(64 * 1024);
        if (chunk.empty()) break;
        writer.write(chunk);
        co_await writer.drain();
    }
}

/// Sends `text` and closes (the peer sees EOF after it).
aio::Coro<void> send_then_close(std::string text, aio::StreamReader, aio::StreamWriter writer) {
    writer.write(text);
    co_await writer.drain();
}

aio::ClientConnectedCallback sender_of(std::string text) {
    // A capturing lambda that is not itself a coroutine (GCC 12): it only calls one.
    return [text](aio::StreamReader reader, aio::StreamWriter writer) {
        return send_then_close(text, std::move(reader), std::move(writer));
    };
}

/// Both ends of one connection, the server's end handed over by its handler.
struct Connected {
    aio::Server server;
    aio::StreamReader client_reader;
    aio::StreamWriter client_writer;
    aio::StreamReader server_reader;
    aio::StreamWriter server_writer;
};

struct ParkedEnd {
    std::optional<aio::StreamPair> streams;
};

aio::Coro<void> park(std::shared_ptr<ParkedEnd> slot, aio::StreamReader reader, aio::StreamWriter writer) {
    slot->streams.emplace(aio::StreamPair{std::move(reader), std::move(writer)});
    co_return;
}

aio::Coro<Connected> connected_streams(std::size_t client_limit = aio::default_stream_limit) {
    auto slot = std::make_shared<ParkedEnd>();
    auto handler = [slot](aio::StreamReader reader, aio::StreamWriter writer) {
        return park(slot, std::move(reader), std::move(writer));
    };
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), client_limit);
    while (!slot->streams) co_await aio::sleep(0);
    co_return Connected{std::move(server), std::move(reader), std::move(writer),
                        std::move(slot->streams->reader), std::move(slot->streams->writer)};
}

// --- scenarios ----------------------------------------------------------------------------

aio::Coro<bool> echo_client(std::uint16_t port, int id) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    const std::string line = "hello from client " + std::to_string(id) + "\n";
    writer.write(line);
    co_await writer.drain();
    std::string echoed = co_await reader.readline();
    writer.close();
    co_await writer.wait_closed();
    co_return echoed == line;
}

struct EchoReport {
    int good = 0;
    std::size_t active_after = 1;
};

aio::Coro<EchoReport> run_echo(int clients) {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0, aio::default_stream_limit, clients);
    std::vector<aio::Task<bool>> tasks;
    for (int i = 0; i < clients; ++i) tasks.push_back(aio::create_task(echo_client(server.port(), i)));
    EchoReport report;
    for (auto& task : tasks) report.good += (co_await task) ? 1 : 0;
    server.close();
    co_await server.wait_closed();
    report.active_after = server.active_count();
    co_return report;
}

struct EofReport {
    std::string complete_line, first_line, second_line;
    bool at_eof = false;
};

aio::Coro<EofReport> readline_until_peer_closes() {
    aio::Server server = co_await aio::start_server(sender_of("one\npartial"), "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    EofReport report;
    report.complete_line = co_await reader.readline();
    report.first_line = co_await reader.readline();
    report.second_line = co_await reader.readline();
    report.at_eof = reader.at_eof();
    co_return report;
}

aio::Coro<std::pair<std::string, std::size_t>> readexactly_past_eof() {
    aio::Server server = co_await aio::start_server(sender_of("abc"), "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    std::pair<std::string, std::size_t> seen{"", 0};
    try {
        co_await reader.readexactly(10);
    } catch (const aio::IncompleteReadError& error) {
        seen = {error.partial(), error.expected().value_or(0)};
    }
    co_return seen;
}

struct LimitReport {
    std::size_t consumed = 0;
    std::size_t buffered_after_overrun = 0;
    bool readline_raised_value_error = false;
    std::string next_line;
};

aio::Coro<LimitReport> overrun_the_limit() {
    // 40 bytes before the newline, on a reader whose limit is 16.
    aio::Server server = co_await aio::start_server(sender_of(std::string(40, 'x') + "\nok\n"), "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port(), 16);
    LimitReport report;
    try {
        co_await reader.readuntil("\n");
    } catch (const aio::LimitOverrunError& error) {
        report.consumed = error.consumed();
    }
    report.buffered_after_overrun = reader.buffered_size();  // the data stays for another try
    try {
        co_await reader.readline();  // readline discards the over-long line
    } catch (const aio::ValueError&) {
        report.readline_raised_value_error = true;
    }
    report.next_line = co_await reader.readline();
    co_return report;
}

/// Writes until the writer queues more than the high-water mark (the peer reads nothing),
/// the kernel's buffers full. On the ring, write() only queues: the SEND goes at the next
/// iteration, so the loop runs between rounds until the queue stays above the mark.
aio::Coro<std::size_t> fill_writer(aio::StreamWriter& writer) {
    const std::string chunk(64 * 1024, 'z');
    std::size_t written = 0;
    while (written < (std::size_t{256} << 20)) {
        while (writer.write_buffer_size() <= aio::StreamWriter::default_high_water) {
            writer.write(chunk);
            written += chunk.size();
        }
        co_await spin();
        if (writer.write_buffer_size() > aio::StreamWriter::default_high_water) break;
    }
    co_return written;
}

aio::Coro<void> drain_and_log(aio::StreamWriter* writer, aio_test::Events* events) {
    co_await writer->drain();
    events->record("drain returned");
}

aio::Coro<std::vector<std::string>> drain_waits_for_slow_reader() {
    Connected c = co_await connected_streams();
    aio_test::Events events;
    // The kernel's buffers full, and more than the high-water mark queued: the peer reads
    // nothing yet.
    const std::size_t written = co_await fill_writer(c.server_writer);
    auto draining = aio::create_task(drain_and_log(&c.server_writer, &events));
    co_await spin(20);
    events.record(draining.done() ? "drain done early" : "drain waiting");
    std::size_t read = 0;
    events.record("peer reads");
    while (read < written) read += (co_await c.client_reader.read(1 << 20)).size();
    co_await draining;
    events.record(read == written ? "all bytes arrived" : "bytes lost");
    co_return events.log;
}

aio::Coro<void> send_all_then_eof(aio::StreamWriter* writer, std::string payload) {
    writer->write(payload);
    co_await writer->drain();
    writer->write_eof();
}

aio::Coro<bool> megabyte_both_ways() {
    aio::Server server = co_await aio::start_server(echo_chunks, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    const std::string payload = pattern(1 << 20);
    auto sending = aio::create_task(send_all_then_eof(&writer, payload));
    std::string echoed = co_await reader.read();  // to EOF: the server closes after echoing
    co_await sending;
    server.close();
    co_await server.wait_closed();
    co_return echoed == payload;
}

aio::Coro<std::string> read_forever(std::uint16_t port) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    co_return co_await reader.read(100);
}

struct CancelReport {
    std::size_t registered_while_reading = 0;
    bool cancelled = false;
    std::size_t registered_after = 99;
    std::size_t fds_leaked = 99;
};

aio::Coro<CancelReport> cancel_pending_read(aio::SelectorEventLoop* loop) {
    loop->uses_io_uring();  // the loop's own ring (and its eventfd), if any, is no leak
    const std::size_t fds_before = open_fd_count();
    CancelReport report;
    {
        aio::Server server = co_await aio::start_server(echo_chunks, "127.0.0.1", 0);
        auto reading = aio::create_task(read_forever(server.port()));
        co_await spin();
        // The listener, the client's connection and the server's connection.
        report.registered_while_reading = loop->registered_fd_count();
        reading.cancel();
        try {
            co_await reading;
        } catch (const aio::CancelledError&) {
            report.cancelled = true;
        }
        server.close();
        co_await server.wait_closed();  // the server's end saw EOF, its handler returned
    }
    report.registered_after = loop->registered_fd_count();
    report.fds_leaked = open_fd_count() - fds_before;
    co_return report;
}

aio::Coro<void> drain_of(aio::StreamWriter* writer) { co_await writer->drain(); }

struct DrainCancelReport {
    bool was_waiting = false;
    bool cancelled = false;
    std::size_t registered_after = 99;
    std::size_t fds_leaked = 99;
};

aio::Coro<DrainCancelReport> cancel_pending_drain(aio::SelectorEventLoop* loop) {
    loop->uses_io_uring();
    const std::size_t fds_before = open_fd_count();
    DrainCancelReport report;
    {
        Connected c = co_await connected_streams();
        co_await fill_writer(c.server_writer);
        auto draining = aio::create_task(drain_of(&c.server_writer));
        co_await spin();
        report.was_waiting = !draining.done();
        draining.cancel();
        try {
            co_await draining;
        } catch (const aio::CancelledError&) {
            report.cancelled = true;
        }
        c.server_writer.abort();  // drop the queue: the peer never reads it
        c.server.close();
    }  // every handle goes: both connections close
    // On the ring a socket closes at its cancelled operations' completions: an iteration.
    co_await spin();
    report.registered_after = loop->registered_fd_count();
    report.fds_leaked = open_fd_count() - fds_before;
    co_return report;
}

aio::Coro<void> leave_a_read_pending(std::uint16_t port) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    co_await reader.read(100);  // nothing ever comes: the loop closes under it
}

aio::Coro<void> start_reader_and_return(aio::Server* server) {
    *server = co_await aio::start_server(echo_chunks, "127.0.0.1", 0);
    aio::create_task(leave_a_read_pending(server->port()));
    co_await spin();
}

aio::Coro<std::size_t> cancel_open_connection_before_it_runs(aio::SelectorEventLoop* loop) {
    aio::Server server = co_await aio::start_server(echo_chunks, "127.0.0.1", 0);
    auto opening = aio::create_task(aio::open_connection("127.0.0.1", server.port()));
    opening.cancel();
    try {
        co_await opening;
    } catch (const aio::CancelledError&) {
    }
    server.close();
    co_await server.wait_closed();
    co_return loop->registered_fd_count();
}

struct CloseReport {
    bool serving_after_close = true;
    std::uint16_t port_after_close = 1;
    bool refused = false;
    bool waited_while_client_open = false;
    std::size_t active_after = 99;
};

aio::Coro<void> wait_closed_of(aio::Server* server) { co_await server->wait_closed(); }

aio::Coro<CloseReport> close_then_wait_closed() {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    const std::uint16_t port = server.port();
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write("ping\n");
    std::string pong = co_await reader.readline();
    server.close();
    CloseReport report;
    report.serving_after_close = server.is_serving();
    report.port_after_close = server.port();
    try {
        co_await aio::open_connection("127.0.0.1", port);
    } catch (const std::system_error&) {
        report.refused = true;
    }
    auto waiting = aio::create_task(wait_closed_of(&server));
    co_await spin();
    report.waited_while_client_open = !waiting.done() && pong == "ping\n";
    writer.close();  // the handler's readline sees EOF, returns, and its connection closes
    co_await waiting;
    report.active_after = server.active_count();
    co_return report;
}

aio::Coro<bool> close_clients_ends_handlers() {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    co_await spin();
    server.close();
    server.close_clients();  // the server's end closes: its reads see EOF
    co_await server.wait_closed();
    std::string rest = co_await reader.read();  // and the client sees EOF too
    co_return rest.empty() && server.active_count() == 0;
}

struct PortReport {
    std::uint16_t port = 0;
    std::optional<aio::SocketAddress> client_peer;
    std::optional<aio::SocketAddress> server_local;
};

aio::Coro<PortReport> port_zero() {
    Connected c = co_await connected_streams();
    PortReport report{c.server.port(), c.client_writer.peername(), c.server_writer.sockname()};
    co_return report;
}

aio::Coro<bool> serve_forever_cancelled() {
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    auto serving = aio::create_task(server.serve_forever());
    co_await spin();
    serving.cancel();
    bool cancelled = false;
    try {
        co_await serving;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    co_return cancelled && !server.is_serving();
}

aio::Coro<void> failing_handler(aio::StreamReader, aio::StreamWriter) {
    throw aio::ValueError("handler failed");
    co_return;
}

aio::Coro<std::string> handler_error_is_reported() {
    aio::Server server = co_await aio::start_server(failing_handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    std::string rest = co_await reader.read();  // EOF: the failed handler's connection closed
    server.close();
    co_await server.wait_closed();
    co_return rest;
}

aio::Coro<bool> second_reader_raises() {
    Connected c = co_await connected_streams();
    auto first = aio::create_task(c.client_reader.read(10));
    co_await spin();
    bool raised = false;
    try {
        co_await c.client_reader.read(10);
    } catch (const aio::RuntimeError&) {
        raised = true;
    }
    c.server_writer.write("ok");
    std::string got = co_await first;
    co_return raised && got == "ok";
}

aio::Coro<std::string> drain_after_close() {
    Connected c = co_await connected_streams();
    c.server_writer.close();
    try {
        co_await c.server_writer.drain();
    } catch (const std::system_error& error) {
        co_return std::string(error.what());
    }
    co_return "no error";
}

aio::Coro<std::string> localhost_connects() {
    aio::Server server = co_await aio::start_server(echo_lines, "localhost", 0);
    auto [reader, writer] = co_await aio::open_connection("localhost", server.port());
    writer.write("via localhost\n");
    std::string line = co_await reader.readline();
    writer.close();
    server.close();
    co_await server.wait_closed();  // the handler saw EOF and returned
    co_return line;
}

/// What a blocking getaddrinfo says `host` is (the first IPv4 address), if anything.
std::optional<in_addr_t> blocking_lookup(const char* host) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host, nullptr, &hints, &found) != 0) return std::nullopt;
    const in_addr_t address = reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr.s_addr;
    ::freeaddrinfo(found);
    return address;
}

aio::Coro<void> connect_to_unresolvable() { co_await aio::open_connection("no-such-host.invalid", 80); }

// --- the io_uring transport (each holds on epoll too) -----------------------------------

/// AIO_IO_URING=0 in the environment (the second CTest run of this program).
bool ring_switched_off() {
    const char* setting = std::getenv("AIO_IO_URING");
    return setting && std::string(setting) == "0";
}

struct PartialReport {
    std::size_t total = 0;
    std::size_t queued_while_blocked = 0;
    bool intact = false;
    std::size_t queued_after = 99;
};

aio::Coro<PartialReport> one_big_write(aio::SelectorEventLoop* loop) {
    Connected c = co_await connected_streams();
    PartialReport report;
    // Far more than loopback's socket buffers take: the kernel takes part of it (a short
    // send(), or a SEND completing with fewer bytes), the rest waits for the peer.
    const std::string payload = pattern(16 << 20);
    report.total = payload.size();
    c.server_writer.write(payload);
    co_await spin();
    report.queued_while_blocked = c.server_writer.write_buffer_size();
    std::string received;
    while (received.size() < payload.size()) {
        std::string chunk = co_await c.client_reader.read(1 << 20);
        if (chunk.empty()) break;
        received += chunk;
    }
    co_await c.server_writer.drain();
    report.intact = received == payload;
    report.queued_after = c.server_writer.write_buffer_size();
    (void)loop;
    co_return report;
}

struct CloseInFlightReport {
    bool recv_in_flight = false;
    std::size_t fds_open_after = 99;
    std::size_t ring_fds_after = 99;
    std::size_t expected_ring_fds_after = 0;
    std::string peer_saw;
};

aio::Coro<CloseInFlightReport> close_with_recv_in_flight(aio::SelectorEventLoop* loop) {
    loop->uses_io_uring();
    CloseInFlightReport report;
    Connected c = co_await connected_streams();
    const std::size_t fds_with_both = open_fd_count();
    // Each end of an open stream keeps a RECV in flight (on epoll: a reader registered).
    report.recv_in_flight = loop->io_uring_fd_count() == (loop->uses_io_uring() ? 2u : 0u) &&
                            loop->registered_fd_count() == 3;
    {
        // Every handle of the client's end goes while its RECV is in flight: close()
        // cancels it, and the socket closes at its completion, which also drops the
        // operation's reference to the connection (the sanitizer builds would report the
        // connection if it leaked).
        aio::StreamReader reader = std::move(c.client_reader);
        aio::StreamWriter writer = std::move(c.client_writer);
        writer.write("last words");
        writer.close();
    }
    report.peer_saw = co_await c.server_reader.read();  // to EOF: the client's socket closed
    report.fds_open_after = fds_with_both - open_fd_count();
    report.ring_fds_after = loop->io_uring_fd_count();  // the server's end, on the ring
    report.expected_ring_fds_after = loop->uses_io_uring() ? 1 : 0;
    co_return report;
}

aio::Coro<std::pair<bool, std::string>> cancelled_read_loses_nothing() {
    Connected c = co_await connected_streams();
    auto reading = aio::create_task(c.client_reader.read(100));
    co_await spin();  // the task waits; on the ring, a RECV is in flight
    reading.cancel();
    bool cancelled = false;
    try {
        co_await reading;
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    // The RECV stays in flight for the next read: what arrives now is not lost.
    c.server_writer.write("after the cancellation");
    std::string got = co_await c.client_reader.readexactly(22);
    co_return std::pair<bool, std::string>{cancelled, got};
}

aio::Coro<Connected> connected_with_traffic_pending() {
    Connected c = co_await connected_streams();
    c.client_writer.write("queued, perhaps not yet sent");
    auto blocked = aio::create_task(c.server_reader.read(1 << 20));
    co_await aio::sleep(0);
    co_return c;
}

aio::Coro<std::string> echo_once(std::uint16_t port) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    writer.write("tick\n");
    co_await writer.drain();
    co_return co_await reader.readline();
}

aio::Coro<std::vector<std::string>> streams_and_timers_on_virtual_time(aio::VirtualTimeLoop* loop) {
    std::vector<std::string> log;
    aio::Server server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    const aio::TimePoint start = loop->time();
    co_await aio::sleep(3600);  // virtual: no real time, with the listener's I/O waiting
    log.push_back(co_await echo_once(server.port()));
    Connected c = co_await connected_streams();
    try {
        // Nothing ever comes: the read's RECV stays in flight while the clock jumps.
        co_await aio::wait_for(c.client_reader.read(10), 5.0);
        log.push_back("data?");
    } catch (const aio::TimeoutError&) {
        log.push_back("timed out");
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(loop->time() - start).count();
    log.push_back(std::to_string(elapsed) + " s");
    server.close();
    co_return log;
}

}  // namespace

TEST_CASE("an echo server serves 100 concurrent stream clients", "[streams][echo]") {
    aio::SelectorEventLoop loop;
    aio_test::FrameLeakCheck frames;
    EchoReport report = loop.run_until_complete(run_echo(100));
    CHECK(report.good == 100);
    CHECK(report.active_after == 0);
    CHECK(loop.registered_fd_count() == 0);
    loop.close();
    CHECK(frames.leaked() == 0);
}

TEST_CASE("readline returns the partial line when the peer closes mid-line", "[streams][eof]") {
    aio::SelectorEventLoop loop;
    EofReport report = loop.run_until_complete(readline_until_peer_closes());
    CHECK(report.complete_line == "one\n");
    CHECK(report.first_line == "partial");
    CHECK(report.second_line.empty());
    CHECK(report.at_eof);
}

TEST_CASE("readexactly raises IncompleteReadError with the bytes read before EOF", "[streams][eof]") {
    aio::SelectorEventLoop loop;
    auto [partial, expected] = loop.run_until_complete(readexactly_past_eof());
    CHECK(partial == "abc");
    CHECK(expected == 10);
}

TEST_CASE("readuntil past the limit raises LimitOverrunError and keeps the data", "[streams][limit]") {
    aio::SelectorEventLoop loop;
    LimitReport report = loop.run_until_complete(overrun_the_limit());
    CHECK(report.consumed > 16);
    CHECK(report.buffered_after_overrun >= 17);
    CHECK(report.readline_raised_value_error);
    CHECK(report.next_line == "ok\n");
}

TEST_CASE("drain waits while the peer reads nothing and returns once it reads", "[streams][drain]") {
    aio::SelectorEventLoop loop;
    auto log = loop.run_until_complete(drain_waits_for_slow_reader());
    CHECK(log == std::vector<std::string>{"drain waiting", "peer reads", "drain returned", "all bytes arrived"});
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("1 MiB goes to an echo server and comes back intact", "[streams][big]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(megabyte_both_ways()));
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("cancelling a pending read leaves no registration and no descriptor", "[streams][cancel]") {
    aio::SelectorEventLoop loop;
    aio_test::FrameLeakCheck frames;
    CancelReport report = loop.run_until_complete(cancel_pending_read(&loop));
    CHECK(report.registered_while_reading == 3);
    CHECK(report.cancelled);
    CHECK(report.registered_after == 0);
    CHECK(report.fds_leaked == 0);
    loop.close();
    CHECK(frames.leaked() == 0);
}

TEST_CASE("cancelling a pending drain leaves no registration and no descriptor", "[streams][cancel][drain]") {
    aio::SelectorEventLoop loop;
    DrainCancelReport report = loop.run_until_complete(cancel_pending_drain(&loop));
    CHECK(report.was_waiting);
    CHECK(report.cancelled);
    CHECK(report.registered_after == 0);
    CHECK(report.fds_leaked == 0);
}

TEST_CASE("closing the loop with a stream read pending closes every socket", "[streams][close]") {
    const std::size_t fds_before = open_fd_count();
    aio_test::FrameLeakCheck frames;
    {
        aio::SelectorEventLoop loop;
        loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) {});  // "destroyed but pending"
        aio::Server server;
        loop.run_until_complete(start_reader_and_return(&server));
        REQUIRE(loop.registered_fd_count() == 3);  // listener, client, server's end
        server = aio::Server();                     // closes the listener while the loop is open
        loop.close();  // destroys the pending tasks: their streams close their sockets
        CHECK(loop.registered_fd_count() == 0);
    }
    CHECK(frames.leaked() == 0);
    CHECK(open_fd_count() == fds_before);
}

TEST_CASE("open_connection cancelled before it runs leaves nothing registered", "[streams][cancel]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(cancel_open_connection_before_it_runs(&loop)) == 0);
}

TEST_CASE("server close stops listening and wait_closed waits for the connections", "[streams][server]") {
    aio::SelectorEventLoop loop;
    CloseReport report = loop.run_until_complete(close_then_wait_closed());
    CHECK_FALSE(report.serving_after_close);
    CHECK(report.port_after_close == 0);
    CHECK(report.refused);
    CHECK(report.waited_while_client_open);
    CHECK(report.active_after == 0);
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("close_clients closes the connections so that handlers finish", "[streams][server]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(close_clients_ends_handlers()));
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("port 0 listens on a port the system chose", "[streams][server]") {
    aio::SelectorEventLoop loop;
    PortReport report = loop.run_until_complete(port_zero());
    CHECK(report.port != 0);
    REQUIRE(report.client_peer);
    CHECK(*report.client_peer == aio::SocketAddress{"127.0.0.1", report.port});
    REQUIRE(report.server_local);
    CHECK(report.server_local->port == report.port);
}

TEST_CASE("a cancelled serve_forever closes the server and raises CancelledError", "[streams][server]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(serve_forever_cancelled()));
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("a handler's exception is reported and closes its connection", "[streams][server]") {
    aio::SelectorEventLoop loop;
    std::vector<std::string> reports;
    loop.set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext& context) {
        reports.push_back(context.message + ": " + aio::describe_exception(context.exception));
    });
    CHECK(loop.run_until_complete(handler_error_is_reported()).empty());
    REQUIRE(reports.size() == 1);
    CHECK_THAT(reports[0], Catch::StartsWith("Unhandled exception in client_connected_cb") &&
                               Catch::Contains("handler failed"));
}

TEST_CASE("a second read waiting on one stream raises RuntimeError", "[streams][errors]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(second_reader_raises()));
}

TEST_CASE("drain after the connection was closed raises Connection lost", "[streams][errors]") {
    aio::SelectorEventLoop loop;
    CHECK_THAT(loop.run_until_complete(drain_after_close()), Catch::Contains("Connection lost"));
}

TEST_CASE("localhost connects without a resolver thread", "[streams][resolve]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(localhost_connects()) == "via localhost\n");
}

TEST_CASE("other host names resolve through getaddrinfo on a worker thread", "[streams][resolve]") {
    char name[256] = {};
    REQUIRE(::gethostname(name, sizeof name - 1) == 0);
    std::optional<in_addr_t> expected = blocking_lookup(name);
    if (!expected) SUCCEED("this machine cannot resolve its own name; nothing to compare");
    aio::SelectorEventLoop loop;
    if (expected) {
        sockaddr_in resolved = loop.run_until_complete(aio::detail::resolve_ipv4(name, 8080));
        CHECK(resolved.sin_addr.s_addr == *expected);
        CHECK(ntohs(resolved.sin_port) == 8080);
    }
    // .invalid never resolves (RFC 6761).
    CHECK_THROWS_AS(loop.run_until_complete(connect_to_unresolvable()), aio::ValueError);
}

TEST_CASE("a write larger than the socket buffers goes out in parts and arrives intact", "[streams][io_uring]") {
    aio::SelectorEventLoop loop;
    PartialReport report = loop.run_until_complete(one_big_write(&loop));
    CHECK(report.queued_while_blocked > 0);  // the kernel took only part of it so far
    CHECK(report.queued_while_blocked < report.total);
    CHECK(report.intact);
    CHECK(report.queued_after == 0);
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("closing a stream whose RECV is in flight closes its socket and lets the connection go",
          "[streams][io_uring][close]") {
    aio::SelectorEventLoop loop;
    aio_test::FrameLeakCheck frames;
    CloseInFlightReport report = loop.run_until_complete(close_with_recv_in_flight(&loop));
    CHECK(report.recv_in_flight);
    CHECK(report.peer_saw == "last words");
    CHECK(report.fds_open_after == 1);        // the client's socket: closed
    CHECK(report.ring_fds_after == report.expected_ring_fds_after);
    loop.close();
    CHECK(frames.leaked() == 0);
}

TEST_CASE("a read cancelled while its RECV is in flight loses no data for the next read",
          "[streams][io_uring][cancel]") {
    aio::SelectorEventLoop loop;
    auto [cancelled, got] = loop.run_until_complete(cancelled_read_loses_nothing());
    CHECK(cancelled);
    CHECK(got == "after the cancellation");
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("streams that outlive their closed loop close their sockets when they go", "[streams][io_uring][close]") {
    const std::size_t fds_before = open_fd_count();
    {
        aio::SelectorEventLoop loop;
        loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) {});  // "destroyed but pending"
        {
            Connected c = loop.run_until_complete(connected_with_traffic_pending());
            loop.close();  // a RECV and perhaps a SEND in flight: cancelled, waited for
            CHECK(loop.registered_fd_count() == 0);
        }  // the handles go: the sockets close now
    }
    CHECK(open_fd_count() == fds_before);
}

TEST_CASE("AIO_IO_URING=0 keeps streams on epoll", "[streams][io_uring]") {
    aio::SelectorEventLoop loop;
    Connected c = loop.run_until_complete(connected_streams());
    CHECK(loop.registered_fd_count() == 3);
    if (ring_switched_off()) {
        CHECK_FALSE(loop.uses_io_uring());
        CHECK(loop.io_uring_fd_count() == 0);
    } else if (loop.uses_io_uring()) {
        CHECK(loop.io_uring_fd_count() == 2);  // both ends on the ring, the listener on epoll
    } else {
        WARN("io_uring is unavailable here (no liburing, or the kernel refuses it): epoll only");
    }
}

TEST_CASE("streams run on a virtual-time loop, whose clock jumps while a RECV waits",
          "[streams][io_uring][virtual]") {
    aio::VirtualTimeLoop loop;
    auto log = loop.run_until_complete(streams_and_timers_on_virtual_time(&loop));
    CHECK(log == std::vector<std::string>{"tick\n", "timed out", "3605 s"});
}
