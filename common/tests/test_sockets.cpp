// I/O on the event loop: add_reader & co. on the epoll loop, and the sock_* coroutines
// (asyncio's loop.sock_accept, sock_connect, sock_recv, sock_sendall) on 127.0.0.1.
// Every test uses a real SelectorEventLoop and finishes in well under a second.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "aio/aio.hpp"

namespace {

/// A connected pair of non-blocking AF_UNIX stream sockets, for the callback-level tests
/// (the sock_* tests use TCP on 127.0.0.1).
struct SocketPair {
    aio::Socket a, b;
    SocketPair() {
        int fds[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
        a = aio::Socket(fds[0]);
        b = aio::Socket(fds[1]);
    }
};

void write_byte(int fd) { REQUIRE(::write(fd, "x", 1) == 1); }

/// One iteration that never blocks: a queued no-op makes the loop poll instead of wait.
void poll_once(aio::SelectorEventLoop& loop) {
    loop.call_soon([] {});
    loop.run_once();
}

/// A connected TCP pair on 127.0.0.1: {client side, server side}.
aio::Coro<std::pair<aio::Socket, aio::Socket>> tcp_pair() {
    aio::Socket listener = aio::listen_tcp("127.0.0.1", 0);
    aio::Socket client = aio::tcp_socket();
    auto connecting = aio::create_task(
        aio::sock_connect(client.fd(), aio::ipv4_address("127.0.0.1", aio::local_port(listener.fd()))));
    aio::Socket server(co_await aio::sock_accept(listener.fd()));
    co_await connecting;
    co_return std::pair<aio::Socket, aio::Socket>(std::move(client), std::move(server));
}

/// Reads from `fd` until `size` bytes (or EOF) arrived.
aio::Coro<std::string> recv_exactly(int fd, std::size_t size) {
    std::string data;
    while (data.size() < size) {
        std::string chunk = co_await aio::sock_recv(fd, size - data.size());
        if (chunk.empty()) break;
        data += chunk;
    }
    co_return data;
}

/// Reads from `fd` until a newline (included) or EOF.
aio::Coro<std::string> recv_line(int fd) {
    std::string line;
    while (line.empty() || line.back() != '\n') {
        std::string chunk = co_await aio::sock_recv(fd, 256);
        if (chunk.empty()) break;
        line += chunk;
    }
    co_return line;
}

// --- echo server: one task per connection -------------------------------------------------

aio::Coro<void> echo_one_line(int fd) {
    aio::Socket connection(fd);
    std::string line = co_await recv_line(connection.fd());
    co_await aio::sock_sendall(connection.fd(), line);
}

aio::Coro<void> echo_server(int listen_fd, int connections) {
    std::vector<aio::Task<void>> handlers;
    for (int i = 0; i < connections; ++i) {
        int fd = co_await aio::sock_accept(listen_fd);
        handlers.push_back(aio::create_task(echo_one_line(fd)));
    }
    for (auto& handler : handlers) co_await handler;
}

aio::Coro<bool> echo_client(std::uint16_t port, int id) {
    aio::Socket socket = aio::tcp_socket();
    co_await aio::sock_connect(socket.fd(), aio::ipv4_address("127.0.0.1", port));
    const std::string line = "hello from client " + std::to_string(id) + "\n";
    co_await aio::sock_sendall(socket.fd(), line);
    std::string echoed = co_await recv_line(socket.fd());
    co_return echoed == line;
}

aio::Coro<int> run_echo(int clients) {
    aio::Socket listener = aio::listen_tcp("127.0.0.1", 0, clients);
    const std::uint16_t port = aio::local_port(listener.fd());
    auto server = aio::create_task(echo_server(listener.fd(), clients));
    std::vector<aio::Task<bool>> tasks;
    for (int i = 0; i < clients; ++i) tasks.push_back(aio::create_task(echo_client(port, i)));
    int good = 0;
    for (auto& task : tasks) good += (co_await task) ? 1 : 0;
    co_await server;
    co_return good;
}

// --- big payload --------------------------------------------------------------------------

aio::Coro<void> send_and_close(int fd, std::string data) {
    co_await aio::sock_sendall(fd, data);
    ::shutdown(fd, SHUT_WR);
}

aio::Coro<bool> big_payload_round(std::size_t size) {
    auto [client, server] = co_await tcp_pair();
    std::string payload(size, '\0');
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + (i * 7919) % 26);
    auto sender = aio::create_task(send_and_close(client.fd(), payload));
    std::string received = co_await recv_exactly(server.fd(), size + 1);  // +1: reads to EOF
    co_await sender;
    co_return received == payload;
}

// --- cancellation -------------------------------------------------------------------------

struct CancelReport {
    std::size_t registered_while_waiting = 0;
    std::size_t registered_after = 0;
    bool got_cancelled_error = false;
};

aio::Coro<std::string> recv_some(int fd) { co_return co_await aio::sock_recv(fd, 100); }

aio::Coro<CancelReport> cancel_pending_recv(aio::SelectorEventLoop* loop) {
    auto [client, server] = co_await tcp_pair();
    CancelReport report;
    auto reading = aio::create_task(recv_some(server.fd()));
    co_await aio::sleep(0);
    co_await aio::sleep(0);
    report.registered_while_waiting = loop->registered_fd_count();
    reading.cancel();
    try {
        co_await reading;
    } catch (const aio::CancelledError&) {
        report.got_cancelled_error = true;
    }
    report.registered_after = loop->registered_fd_count();
    co_return report;
}

aio::Coro<std::string> recv_after_peer_closes() {
    auto [client, server] = co_await tcp_pair();
    client.close();
    co_return co_await aio::sock_recv(server.fd(), 100);
}

aio::Coro<std::string> recv_after_peer_closes_while_waiting() {
    auto [client, server] = co_await tcp_pair();
    auto reading = aio::create_task(recv_some(server.fd()));
    co_await aio::sleep(0);
    client.close();
    co_return co_await reading;
}

aio::Coro<std::string> recv_on_fd(int fd) { co_return co_await aio::sock_recv(fd, 10); }

aio::Coro<void> connect_to(std::uint16_t port) {
    aio::Socket socket = aio::tcp_socket();
    co_await aio::sock_connect(socket.fd(), aio::ipv4_address("127.0.0.1", port));
}

aio::Coro<bool> second_wait_on_same_fd_raises() {
    auto [client, server] = co_await tcp_pair();
    auto first = aio::create_task(recv_some(server.fd()));
    co_await aio::sleep(0);
    bool raised = false;
    try {
        co_await aio::sock_recv(server.fd(), 10);
    } catch (const aio::RuntimeError&) {
        raised = true;
    }
    co_await aio::sock_sendall(client.fd(), "ok");
    std::string got = co_await first;  // the first wait is intact
    co_return raised && got == "ok";
}

aio::Coro<int> accept_one(int listen_fd) { co_return co_await aio::sock_accept(listen_fd); }

aio::Coro<std::size_t> cancel_pending_accept(aio::SelectorEventLoop* loop) {
    aio::Socket listener = aio::listen_tcp("127.0.0.1", 0);
    auto accepting = aio::create_task(accept_one(listener.fd()));
    co_await aio::sleep(0);
    co_await aio::sleep(0);
    const std::size_t registered = loop->registered_fd_count();
    accepting.cancel();
    try {
        co_await accepting;
    } catch (const aio::CancelledError&) {
    }
    co_return registered * 10 + loop->registered_fd_count();  // 10: one while waiting, none after
}

aio::Coro<void> start_recv_and_leave(int fd) {
    aio::create_task(recv_some(fd));
    co_await aio::sleep(0);
    co_await aio::sleep(0);
}

}  // namespace

// --- add_reader & co. ---------------------------------------------------------------------

TEST_CASE("a reader callback runs when its fd becomes readable", "[io][reader]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    int calls = 0;
    loop.add_reader(pair.a.fd(), [&] {
        ++calls;
        loop.stop();
    });
    write_byte(pair.b.fd());
    loop.run_forever();
    CHECK(calls == 1);
    CHECK(loop.remove_reader(pair.a.fd()));
}

TEST_CASE("a reader callback runs once per iteration while data stays unread", "[io][reader]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    int calls = 0;
    loop.add_reader(pair.a.fd(), [&] { ++calls; });
    write_byte(pair.b.fd());
    for (int i = 0; i < 3; ++i) loop.run_once();
    CHECK(calls == 3);  // level-triggered, as asyncio's selectors
    loop.remove_reader(pair.a.fd());
}

TEST_CASE("remove_reader stops the callback", "[io][reader]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    int calls = 0;
    loop.add_reader(pair.a.fd(), [&] { ++calls; });
    write_byte(pair.b.fd());
    loop.run_once();
    REQUIRE(calls == 1);
    CHECK(loop.remove_reader(pair.a.fd()));
    poll_once(loop);
    poll_once(loop);
    CHECK(calls == 1);
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("remove_reader and remove_writer return false when nothing is registered", "[io][reader]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    CHECK_FALSE(loop.remove_reader(pair.a.fd()));
    loop.add_reader(pair.a.fd(), [] {});
    CHECK_FALSE(loop.remove_writer(pair.a.fd()));
    CHECK(loop.remove_reader(pair.a.fd()));
    CHECK_FALSE(loop.remove_reader(pair.a.fd()));
}

TEST_CASE("a reader may remove itself from its own callback", "[io][reader]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    int calls = 0;
    loop.add_reader(pair.a.fd(), [&] {
        ++calls;
        loop.remove_reader(pair.a.fd());
    });
    write_byte(pair.b.fd());
    loop.run_once();
    poll_once(loop);
    CHECK(calls == 1);
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("a reader removed by an earlier callback of the same iteration does not run", "[io][reader]") {
    aio::SelectorEventLoop loop;
    SocketPair first, second;
    int calls = 0;
    // Whichever runs first removes the other, which was already queued.
    loop.add_reader(first.a.fd(), [&] {
        ++calls;
        loop.remove_reader(second.a.fd());
    });
    loop.add_reader(second.a.fd(), [&] {
        ++calls;
        loop.remove_reader(first.a.fd());
    });
    write_byte(first.b.fd());
    write_byte(second.b.fd());
    loop.run_once();
    CHECK(calls == 1);
    CHECK(loop.registered_fd_count() == 1);
}

TEST_CASE("adding a second reader for an fd replaces the first", "[io][reader]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    int first = 0, second = 0;
    loop.add_reader(pair.a.fd(), [&] { ++first; });
    loop.add_reader(pair.a.fd(), [&] { ++second; });
    write_byte(pair.b.fd());
    loop.run_once();
    CHECK(first == 0);
    CHECK(second == 1);
    CHECK(loop.registered_fd_count() == 1);
}

TEST_CASE("a writer callback runs when its fd is writable", "[io][writer]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    int calls = 0;
    loop.add_writer(pair.a.fd(), [&] { ++calls; });
    loop.run_once();
    CHECK(calls == 1);
    CHECK(loop.has_writer(pair.a.fd()));
    CHECK_FALSE(loop.has_reader(pair.a.fd()));
    CHECK(loop.remove_writer(pair.a.fd()));
}

TEST_CASE("a reader and a writer on one fd are one registration with both callbacks", "[io][writer]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    int reads = 0, writes = 0;
    loop.add_reader(pair.a.fd(), [&] { ++reads; });
    loop.add_writer(pair.a.fd(), [&] { ++writes; });
    CHECK(loop.registered_fd_count() == 1);
    loop.run_once();  // writable, not readable
    CHECK(writes == 1);
    CHECK(reads == 0);
    CHECK(loop.remove_writer(pair.a.fd()));  // the reader stays watched (epoll MOD)
    write_byte(pair.b.fd());
    loop.run_once();
    CHECK(reads == 1);
    CHECK(writes == 1);
    CHECK(loop.registered_fd_count() == 1);
    CHECK(loop.remove_reader(pair.a.fd()));
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("a hang-up wakes both the reader and the writer", "[io][hangup]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    int reads = 0, writes = 0;
    loop.add_reader(pair.a.fd(), [&] { ++reads; });
    pair.b.close();
    loop.run_once();
    CHECK(reads == 1);
    loop.add_writer(pair.a.fd(), [&] { ++writes; });
    loop.run_once();
    CHECK(writes == 1);
    loop.remove_reader(pair.a.fd());
    loop.remove_writer(pair.a.fd());
}

TEST_CASE("waits_for_io keeps a virtual-time loop waiting for a registered fd", "[io][virtual]") {
    // With a reader registered the loop is not deadlocked: it waits for the fd, which a
    // timer makes readable.
    aio::VirtualTimeLoop loop;
    SocketPair pair;
    bool read = false;
    loop.add_reader(pair.a.fd(), [&] {
        read = true;
        loop.remove_reader(pair.a.fd());
        loop.stop();
    });
    loop.call_later(1.0, [&] { write_byte(pair.b.fd()); });
    loop.run_forever();  // would throw DeadlockError if the fd were ignored
    CHECK(read);
}

TEST_CASE("close() drops every registration", "[io][close]") {
    aio::SelectorEventLoop loop;
    SocketPair pair;
    loop.add_reader(pair.a.fd(), [] {});
    loop.add_writer(pair.b.fd(), [] {});
    REQUIRE(loop.registered_fd_count() == 2);
    loop.close();
    CHECK(loop.registered_fd_count() == 0);
    CHECK_FALSE(loop.remove_reader(pair.a.fd()));
    CHECK_THROWS_AS(loop.add_reader(pair.a.fd(), [] {}), aio::RuntimeError);
}

TEST_CASE("add_reader rejects an fd epoll cannot watch", "[io][errors]") {
    aio::SelectorEventLoop loop;
    CHECK_THROWS_AS(loop.add_reader(-1, [] {}), aio::ValueError);
    CHECK_THROWS_AS(loop.add_reader(999999, [] {}), std::system_error);  // EBADF
    CHECK(loop.registered_fd_count() == 0);
}

// --- sock_* coroutines --------------------------------------------------------------------

TEST_CASE("an echo server serves 100 concurrent clients", "[io][sockets][echo]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(run_echo(100)) == 100);
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("a 1 MiB payload goes through sock_sendall and sock_recv intact", "[io][sockets]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(big_payload_round(1 << 20)));
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("cancelling a pending sock_recv leaves no reader registered", "[io][sockets][cancel]") {
    aio::SelectorEventLoop loop;
    const auto frames_before = aio::live_coroutine_frames();
    CancelReport report = loop.run_until_complete(cancel_pending_recv(&loop));
    CHECK(report.registered_while_waiting == 1);
    CHECK(report.got_cancelled_error);
    CHECK(report.registered_after == 0);
    CHECK(aio::live_coroutine_frames() == frames_before);
}

TEST_CASE("sock_recv returns an empty string when the peer has closed", "[io][sockets][eof]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(recv_after_peer_closes()).empty());
}

TEST_CASE("a pending sock_recv returns an empty string when the peer closes", "[io][sockets][eof]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(recv_after_peer_closes_while_waiting()).empty());
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("sock_recv on a blocking socket raises ValueError", "[io][sockets][errors]") {
    aio::SelectorEventLoop loop;
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    aio::Socket a(fds[0]), b(fds[1]);
    CHECK_THROWS_AS(loop.run_until_complete(recv_on_fd(a.fd())), aio::ValueError);
}

TEST_CASE("sock_connect to a closed port raises the connect error", "[io][sockets][errors]") {
    aio::SelectorEventLoop loop;
    std::uint16_t port;
    {
        aio::Socket listener = aio::listen_tcp("127.0.0.1", 0);
        port = aio::local_port(listener.fd());
    }  // closed: nothing listens there now
    CHECK_THROWS_AS(loop.run_until_complete(connect_to(port)), std::system_error);
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("a second concurrent wait on the same fd raises RuntimeError", "[io][sockets][errors]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(second_wait_on_same_fd_raises()));
    CHECK(loop.registered_fd_count() == 0);
}

TEST_CASE("cancelling a pending sock_accept leaves no reader registered", "[io][sockets][cancel]") {
    aio::SelectorEventLoop loop;
    CHECK(loop.run_until_complete(cancel_pending_accept(&loop)) == 10);
}

TEST_CASE("closing the loop with a sock_recv pending destroys it cleanly", "[io][sockets][close]") {
    aio::SelectorEventLoop loop;
    loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) {});  // "destroyed but pending"
    SocketPair pair;
    const auto frames_before = aio::live_coroutine_frames();
    loop.run_until_complete(start_recv_and_leave(pair.a.fd()));
    REQUIRE(loop.registered_fd_count() == 1);
    loop.close();  // drops the registration, then destroys the task (its frame unregisters)
    CHECK(loop.registered_fd_count() == 0);
    CHECK(aio::live_coroutine_frames() == frames_before);
}
