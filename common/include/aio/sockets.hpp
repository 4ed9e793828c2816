#pragma once
// Low-level socket coroutines on the running loop (asyncio's loop.sock_accept, sock_connect,
// sock_recv, sock_sendall), and a small RAII owner for socket file descriptors.
//
// Each operation first tries the system call; only when it would block does it register a
// reader or writer on the loop, await a Future that the callback completes, and unregister
// again. The registration never outlives the await: it is removed on every exit path, a
// cancellation of the awaiting task included.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "coro.hpp"

namespace aio {

/// Owns one file descriptor and closes it when destroyed. Move-only.
class Socket {
public:
    Socket() noexcept = default;
    /// Takes ownership of `fd` (-1: owns nothing).
    explicit Socket(int fd) noexcept : fd_(fd) {}
    Socket(Socket&& other) noexcept;
    Socket& operator=(Socket&& other) noexcept;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() { close(); }

    /// The descriptor, or -1.
    int fd() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    /// Closes the descriptor now (nothing if none). Unregister it from the loop first.
    void close() noexcept;
    /// Gives up ownership and returns the descriptor.
    int release() noexcept;

private:
    int fd_ = -1;
};

/// A new non-blocking, close-on-exec IPv4 TCP socket. Throws std::system_error.
Socket tcp_socket();
/// A non-blocking IPv4 TCP socket listening on `host:port` (a dotted IPv4 address; port 0
/// lets the system choose, see local_port()). SO_REUSEADDR is set. Throws std::system_error,
/// or ValueError for a host that is not a dotted IPv4 address.
Socket listen_tcp(const std::string& host = "127.0.0.1", std::uint16_t port = 0, int backlog = 128);
/// The port `fd` is bound to (getsockname). Throws std::system_error.
std::uint16_t local_port(int fd);
/// The IPv4 address `host:port`. Throws ValueError if `host` is not a dotted IPv4 address
/// (no name resolution here).
sockaddr_in ipv4_address(const std::string& host, std::uint16_t port);

/// Accepts one connection on the listening socket `listen_fd`, waiting for it if none is
/// pending (asyncio's loop.sock_accept). Returns the new socket, non-blocking and
/// close-on-exec; the caller owns it. Throws ValueError if `listen_fd` is blocking,
/// std::system_error on a failed accept.
Coro<int> sock_accept(int listen_fd);

/// Connects the non-blocking socket `fd` to `address` (copied), waiting for the connection
/// to complete (asyncio's loop.sock_connect). Throws std::system_error with the connect
/// error (ECONNREFUSED, ...), ValueError if `fd` is blocking.
Coro<void> sock_connect(int fd, sockaddr_in address);

/// Receives up to `max_bytes` from `fd`, waiting until some data (or EOF) arrives
/// (asyncio's loop.sock_recv). An empty string means the peer closed its side (EOF).
/// Throws std::system_error on a failed recv (ECONNRESET, ...), ValueError if `fd` is
/// blocking.
Coro<std::string> sock_recv(int fd, std::size_t max_bytes);

/// Sends all of `data` on `fd`, waiting as long as the socket buffer is full (asyncio's
/// loop.sock_sendall). `data` is viewed, not copied: the bytes must stay alive until the
/// returned Coro completes (fine in `co_await sock_sendall(fd, text)`; not for a temporary
/// string bound to a Coro awaited later). If cancelled, part of the data may have been
/// sent. Throws std::system_error on a failed send (EPIPE, ...; no SIGPIPE is raised),
/// ValueError if `fd` is blocking.
Coro<void> sock_sendall(int fd, std::string_view data);

/// Waits until `fd` is readable (or hung up / in error) on the running loop. At most one
/// wait per fd and direction at a time: the loop keeps one reader and one writer per fd,
/// so a second concurrent wait would replace the first one's registration; it throws
/// RuntimeError instead when the loop can tell (SelectorEventLoop).
Coro<void> wait_readable(int fd);
/// As wait_readable(), for writability.
Coro<void> wait_writable(int fd);

}  // namespace aio
