#pragma once
// aio streams: asyncio's high-level TCP API (asyncio.open_connection, start_server,
// StreamReader, StreamWriter, Server) on the running loop.
//
// A connection is one socket with two buffers: bytes received and not yet read, bytes
// written and not yet sent. While the connection is open the loop keeps its reader
// registered (level-triggered epoll), and each readiness event runs one recv() into the read
// buffer, as asyncio's selector transport does: a read() that finds data buffered costs no
// system call, and a stream never re-registers its interest per read. write() sends at once
// when nothing is queued, and registers a writer only for what the kernel did not take.
//
// Lifetimes (the C++ twist on asyncio's garbage-collected transports):
//  - StreamReader and StreamWriter are move-only handles on one shared connection. The
//    connection closes (gracefully: queued bytes are still sent) when its last handle is
//    destroyed or writer.close() is called; the socket is closed once the queue is empty.
//  - A server calls its handler with both handles by value, so they live in the handler's
//    coroutine frame: the connection closes when the handler returns or is cancelled.
//  - Streams and servers must not outlive their loop (as a transport needs its loop).
//  - Cancelling any operation leaves no registration and no descriptor behind once the
//    handles are gone: a cancelled read leaves the connection open and registered exactly
//    as asyncio does, and a cancelled open_connection() closes its socket.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coro.hpp"
#include "detail/ref_counted.hpp"

namespace aio {

class EventLoop;

/// asyncio's default buffer limit for a StreamReader (64 KiB): the longest line readline()
/// and readuntil() accept, and half the read buffer size at which reading pauses.
inline constexpr std::size_t default_stream_limit = 64 * 1024;

namespace detail {
class StreamConnection;
class ServerState;
struct StreamAccess;  // src/stream_internals.hpp: builds handles from a connection

/// What StreamReader and StreamWriter share: a counted, move-only handle on a connection.
/// The connection closes when the last handle on it goes. Members are defined in
/// streams.cpp, where the connection's type is complete.
class StreamHandle {
public:
    explicit operator bool() const noexcept { return static_cast<bool>(connection_); }

protected:
    StreamHandle() noexcept;
    explicit StreamHandle(Ref<StreamConnection> connection) noexcept;
    StreamHandle(StreamHandle&& other) noexcept;
    StreamHandle& operator=(StreamHandle&& other) noexcept;
    ~StreamHandle();
    /// The connection; throws RuntimeError naming `type` if this handle is empty.
    StreamConnection& connection(const char* type) const;
    Ref<StreamConnection> connection_;
};
}  // namespace detail

/// An IPv4 address as asyncio's get_extra_info('peername') gives it: (host, port).
struct SocketAddress {
    std::string host;
    std::uint16_t port = 0;
    friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

/// The reading half of a connection (asyncio.StreamReader). Only one read may wait for data
/// at a time; a second one raises RuntimeError, as in asyncio.
class StreamReader : public detail::StreamHandle {
public:
    /// An empty handle (every operation throws RuntimeError). Move-only; destroying the
    /// last handle on a connection closes it.
    StreamReader() noexcept = default;

    /// Up to `n` bytes, as soon as at least one is buffered; n = -1 reads until EOF.
    /// An empty string means EOF (or n == 0). Throws the connection's error if it failed
    /// (std::system_error: ECONNRESET, ...).
    Coro<std::string> read(std::ptrdiff_t n = -1);
    /// Exactly `n` bytes. Throws IncompleteReadError (with the bytes read so far, which are
    /// consumed) if EOF comes first.
    Coro<std::string> readexactly(std::size_t n);
    /// A line ending with '\n' (included). At EOF returns what is left without the newline,
    /// "" if nothing is. A line longer than limit() throws ValueError and is discarded (the
    /// whole buffer if its end was not found yet).
    Coro<std::string> readline();
    /// The bytes up to and including `separator`. Throws ValueError for an empty separator,
    /// IncompleteReadError (holding everything buffered, consumed) at EOF without it, and
    /// LimitOverrunError if more than limit() bytes come before it (the data stays
    /// buffered).
    Coro<std::string> readuntil(std::string separator = "\n");

    /// Whether EOF was received and the buffer is empty.
    bool at_eof() const;
    /// The error the connection failed with, or nullptr.
    std::exception_ptr exception() const;
    /// The buffer limit given to open_connection() or start_server().
    std::size_t limit() const;
    /// Bytes received and not read yet.
    std::size_t buffered_size() const;

private:
    friend struct detail::StreamAccess;
    explicit StreamReader(detail::Ref<detail::StreamConnection> connection) noexcept;
    detail::StreamConnection& connection() const { return StreamHandle::connection("StreamReader"); }
};

/// The writing half of a connection (asyncio.StreamWriter).
class StreamWriter : public detail::StreamHandle {
public:
    /// asyncio's write-buffer limits: drain() waits above `high` until the buffer is at or
    /// below `low`.
    static constexpr std::size_t default_high_water = 64 * 1024;
    static constexpr std::size_t default_low_water = default_high_water / 4;

    /// An empty handle. Move-only; destroying the last handle on a connection closes it
    /// (gracefully: queued bytes are still sent).
    StreamWriter() noexcept = default;

    /// Sends `data` now if nothing is queued, and queues what the kernel did not take
    /// (copied; `data` may die at once). Never waits: call drain() for flow control.
    /// Ignored once the connection is closing or lost (asyncio drops it too; drain() then
    /// raises). Throws RuntimeError after write_eof(). A send error loses the connection:
    /// the next drain() and every read raise it.
    void write(std::string_view data);
    /// Waits while the write buffer is above the high-water mark, until it is at or below
    /// the low-water mark. Throws the connection's error, or std::system_error(ECONNRESET,
    /// "Connection lost") if it was closed before.
    Coro<void> drain();
    /// Closes the connection: reading stops, queued bytes are still sent, then the socket is
    /// closed. Reads then see EOF once the buffer is empty. Idempotent.
    void close();
    /// Closes at once, dropping queued bytes (asyncio's transport.abort()).
    void abort();
    /// Waits until the socket is closed (close() sent the queue, or the connection failed).
    /// Rethrows the error a failed connection was lost with.
    Coro<void> wait_closed();
    /// Whether close() was called or the connection was lost.
    bool is_closing() const;
    /// Shuts the sending side down once the queue is sent (the peer reads EOF); reading
    /// goes on. Nothing once closing.
    void write_eof();
    bool can_write_eof() const noexcept { return true; }

    /// Sets the flow-control marks; `low` defaults to high / 4. Throws ValueError if low > high.
    void set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low = {});
    /// Bytes queued and not sent yet (asyncio's transport.get_write_buffer_size()).
    std::size_t write_buffer_size() const;
    /// The peer's address (asyncio's get_extra_info('peername')); empty once closed.
    std::optional<SocketAddress> peername() const;
    /// The local address (get_extra_info('sockname')); empty once closed.
    std::optional<SocketAddress> sockname() const;

private:
    friend struct detail::StreamAccess;
    explicit StreamWriter(detail::Ref<detail::StreamConnection> connection) noexcept;
    detail::StreamConnection& connection() const { return StreamHandle::connection("StreamWriter"); }
};

/// What open_connection() returns: `auto [reader, writer] = co_await open_connection(...)`.
struct StreamPair {
    StreamReader reader;
    StreamWriter writer;
};

/// Connects to `host:port` and returns the connection's two halves (asyncio.open_connection).
/// `host` is a dotted IPv4 address or a name (see detail::resolve_ipv4). `limit` is the
/// reader's buffer limit. Throws std::system_error (ECONNREFUSED, ...), ValueError for a
/// zero limit or a host that cannot be resolved. Cancelled, it closes its socket.
Coro<StreamPair> open_connection(std::string host, std::uint16_t port,
                                 std::size_t limit = default_stream_limit);

/// What a server runs for each client. It receives both halves by value and owns them:
/// make it a coroutine (so they live in its frame) or move them on into one. The
/// connection closes when both are gone. An exception escaping it is reported to the loop's
/// exception handler ("Unhandled exception in client_connected_cb") and closes the
/// connection; the server goes on.
using ClientConnectedCallback = std::function<Coro<void>(StreamReader, StreamWriter)>;

/// A listening TCP server (asyncio.Server), serving from the moment start_server() returns.
/// Each accepted connection runs `handler` in a new task.
///
/// close() stops listening at once and leaves the connections and handler tasks running
/// (asyncio 3.12+); wait_closed() returns when the server is closed and every connection
/// is closed and every handler task finished. close_clients() / abort_clients() (3.13)
/// close the connections, so that handlers waiting for data see EOF. Destroying a Server
/// closes it (stops listening) and leaves its handlers running.
class Server {
public:
    Server() noexcept;
    Server(Server&& other) noexcept;
    Server& operator=(Server&& other) noexcept;
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server();

    /// Stops listening (closes the listening socket) and cancels a pending serve_forever().
    /// Connections already accepted stay open. Idempotent.
    void close();
    /// Waits until the server is closed and no connection or handler task is left.
    Coro<void> wait_closed();
    /// Waits until the server is closed (or the awaiting task cancelled: then closes it and
    /// waits for wait_closed() first). Like asyncio, raises CancelledError in both cases.
    /// Throws RuntimeError if the server is closed or another task already awaits it.
    Coro<void> serve_forever();
    /// Closes every connection gracefully (asyncio 3.13's close_clients()).
    void close_clients();
    /// Closes every connection at once, dropping queued output (abort_clients()).
    void abort_clients();

    /// Whether the server accepts connections.
    bool is_serving() const;
    /// The port the server listens on (the system's choice if 0 was asked); 0 once closed.
    std::uint16_t port() const;
    /// The listening descriptors (one for an IPv4 address); empty once closed.
    std::vector<int> sockets() const;
    /// Open connections plus running handler tasks.
    std::size_t active_count() const;
    EventLoop& get_loop() const;
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }

private:
    friend struct detail::StreamAccess;
    explicit Server(detail::Ref<detail::ServerState> state) noexcept;
    detail::ServerState& state() const;
    detail::Ref<detail::ServerState> state_;
};

/// Listens on `host:port` (port 0: the system chooses, see Server::port()) and serves each
/// connection with `handler` in its own task (asyncio.start_server). `backlog` is listen()'s.
/// Throws std::system_error (EADDRINUSE, ...), ValueError for an empty handler, a zero limit
/// or a host that cannot be resolved.
Coro<Server> start_server(ClientConnectedCallback handler, std::string host, std::uint16_t port,
                          std::size_t limit = default_stream_limit, int backlog = 100);

namespace detail {
/// Resolves `host` to an IPv4 address: a dotted address directly, "localhost" to 127.0.0.1,
/// any other name with getaddrinfo on a worker thread (aio::to_thread: getaddrinfo blocks,
/// as asyncio's loop.getaddrinfo runs it in the default executor). Throws ValueError if it
/// cannot be resolved.
Coro<sockaddr_in> resolve_ipv4(std::string host, std::uint16_t port);
}  // namespace detail

}  // namespace aio
