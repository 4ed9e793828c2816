#include "aio/sockets.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "aio/selector_event_loop.hpp"

namespace aio {

namespace {

[[noreturn]] void throw_system_error(int error, const char* what) {
    throw std::system_error(error, std::generic_category(), what);
}

bool would_block(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK; }

// A blocking socket would block the whole loop inside the system call, which is the one
// mistake these functions exist to prevent: refuse it up front, as asyncio does in debug
// mode ("the socket must be non-blocking").
void require_nonblocking(int fd, const char* operation) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) throw_system_error(errno, operation);
    if ((flags & O_NONBLOCK) == 0)
        throw ValueError(std::string(operation) + ": the socket (fd " + std::to_string(fd) +
                         ") must be non-blocking (set O_NONBLOCK)");
}

// Removes the registration when the waiting coroutine leaves, however it leaves: normally,
// by an exception (CancelledError included), or by its frame being destroyed at close().
struct Unregister {
    EventLoop& loop;
    int fd;
    bool writer;
    ~Unregister() {
        try {
            if (writer)
                loop.remove_writer(fd);
            else
                loop.remove_reader(fd);
        } catch (...) {
            // epoll refusing to forget an fd leaves only a callback-less registration in
            // epoll; a destructor must not throw.
        }
    }
};

Coro<void> wait_fd(int fd, bool writer) {
    EventLoop& loop = get_running_loop();
    if (auto* selector = dynamic_cast<SelectorEventLoop*>(&loop)) {
        if (writer ? selector->has_writer(fd) : selector->has_reader(fd))
            throw RuntimeError(std::string(writer ? "a writer" : "a reader") +
                               " is already registered for fd " + std::to_string(fd) +
                               " (one wait per fd and direction at a time)");
    }
    Future<void> ready(loop);
    // Level-triggered: the callback can fire again before the task resumes, hence done().
    Callback wake = [ready] {
        if (!ready.done()) ready.set_result();
    };
    if (writer)
        loop.add_writer(fd, std::move(wake));
    else
        loop.add_reader(fd, std::move(wake));
    Unregister unregister{loop, fd, writer};
    co_await ready;
}

}  // namespace

Socket::Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

void Socket::close() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

int Socket::release() noexcept { return std::exchange(fd_, -1); }

Socket tcp_socket() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_system_error(errno, "socket");
    return Socket(fd);
}

sockaddr_in ipv4_address(const std::string& host, std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1)
        throw ValueError("not a dotted IPv4 address: '" + host + "'");
    return address;
}

Socket listen_tcp(const std::string& host, std::uint16_t port, int backlog) {
    const sockaddr_in address = ipv4_address(host, port);
    Socket socket = tcp_socket();
    const int on = 1;
    if (::setsockopt(socket.fd(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        throw_system_error(errno, "setsockopt(SO_REUSEADDR)");
    if (::bind(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0)
        throw_system_error(errno, "bind");
    if (::listen(socket.fd(), backlog) < 0) throw_system_error(errno, "listen");
    return socket;
}

std::uint16_t local_port(int fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) < 0)
        throw_system_error(errno, "getsockname");
    return ntohs(address.sin_port);
}

Coro<void> wait_readable(int fd) { return wait_fd(fd, false); }
Coro<void> wait_writable(int fd) { return wait_fd(fd, true); }

Coro<int> sock_accept(int listen_fd) {
    require_nonblocking(listen_fd, "sock_accept");
    while (true) {
        const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) co_return fd;
        const int error = errno;
        // A connection reset before it was accepted is not the listener's failure.
        if (error == EINTR || error == ECONNABORTED) continue;
        if (!would_block(error)) throw_system_error(error, "accept");
        auto wait = wait_readable(listen_fd);  // named: see the GCC 12 notes in the brief
        co_await std::move(wait);
    }
}

Coro<void> sock_connect(int fd, sockaddr_in address) {
    require_nonblocking(fd, "sock_connect");
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) co_return;
    const int error = errno;
    // EINTR: the connection goes on in the background, like EINPROGRESS.
    if (error != EINPROGRESS && error != EINTR) throw_system_error(error, "connect");
    auto wait = wait_writable(fd);
    co_await std::move(wait);
    int result = 0;
    socklen_t length = sizeof result;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &length) < 0) throw_system_error(errno, "getsockopt");
    if (result != 0) throw_system_error(result, "connect");
}

Coro<std::string> sock_recv(int fd, std::size_t max_bytes) {
    require_nonblocking(fd, "sock_recv");
    std::string buffer(max_bytes, '\0');
    while (true) {
        const ssize_t got = ::recv(fd, buffer.data(), max_bytes, 0);
        if (got >= 0) {
            buffer.resize(static_cast<std::size_t>(got));
            co_return buffer;
        }
        const int error = errno;
        if (error == EINTR) continue;
        if (!would_block(error)) throw_system_error(error, "recv");
        auto wait = wait_readable(fd);
        co_await std::move(wait);
    }
}

Coro<void> sock_sendall(int fd, std::string_view data) {
    require_nonblocking(fd, "sock_sendall");
    while (!data.empty()) {
        // MSG_NOSIGNAL: a closed peer gives EPIPE, not a SIGPIPE that kills the process.
        const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (sent >= 0) {
            data.remove_prefix(static_cast<std::size_t>(sent));
            continue;
        }
        const int error = errno;
        if (error == EINTR) continue;
        if (!would_block(error)) throw_system_error(error, "send");
        auto wait = wait_writable(fd);
        co_await std::move(wait);
    }
}

}  // namespace aio
