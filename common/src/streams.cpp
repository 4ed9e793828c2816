#include "aio/streams.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/executor.hpp"
#include "aio/future.hpp"
#include "aio/selector_event_loop.hpp"
#include "aio/sockets.hpp"
#include "aio/task.hpp"
#include "io_ring.hpp"
#include "stream_internals.hpp"

namespace aio {

namespace {

// One recv() per readiness event reads at most this much (asyncio's max_size is 256 KiB;
// 64 KiB is already far more than a loopback segment).
constexpr std::size_t read_chunk = 64 * 1024;

std::optional<SocketAddress> address_of(int fd, bool peer) {
    if (fd < 0) return std::nullopt;
    sockaddr_in address{};
    socklen_t length = sizeof address;
    const int result = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length)
                            : ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    if (result < 0 || address.sin_family != AF_INET) return std::nullopt;
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
    return SocketAddress{text, ntohs(address.sin_port)};
}

// Only aio's own loop has a ring; streams on any other EventLoop stay on epoll.
detail::Ref<detail::IoRing> ring_of(EventLoop& loop) {
    auto* selector = dynamic_cast<SelectorEventLoop*>(&loop);
    return detail::Ref<detail::IoRing>(selector ? selector->io_ring() : nullptr);
}

}  // namespace

namespace detail {

// --- StreamConnection ---------------------------------------------------------------------

StreamConnection::StreamConnection(EventLoop& loop, Socket socket, std::size_t limit,
                                   Ref<ServerState> server)
    : loop_(&loop), socket_(std::move(socket)), limit_(limit), server_(std::move(server)), ring_(ring_of(loop)) {
    start_reading();
    if (ring_) {
        ring_->attach_socket();
        socket_on_ring_ = true;
    }
    if (server_) server_->attach(*this);
}

StreamConnection::~StreamConnection() {
    // The last reference goes only when nothing is registered any more (the writer holds a
    // reference while it is, a ring operation while it is in flight), or when the loop
    // dropped every registration at close().
    if (!lost_) tear_down(nullptr);
    close_socket_if_idle();
}

void StreamConnection::start_reading() {
    if (ring_) {
        arm_recv();
        return;
    }
    // A raw pointer: the registration is removed before the connection dies (lose()).
    loop_->add_reader(socket_.fd(), [this] { on_readable(); });
    reading_ = true;
}

void StreamConnection::stop_reading() noexcept {
    if (ring_) {
        ring_->cancel(recv_);  // if in flight; on_received() then drops what it brings
        return;
    }
    if (!reading_) return;
    reading_ = false;
    try {
        loop_->remove_reader(socket_.fd());
    } catch (...) {
        // epoll refusing to forget the fd leaves a callback-less entry; nothing to do.
    }
}

void StreamConnection::resume_reading() {
    read_paused_ = false;
    if (!reading_ && !eof && !closing_) start_reading();
}

void StreamConnection::on_readable() {
    char* space = input.prepare(read_chunk);
    const ssize_t got = ::recv(socket_.fd(), space, read_chunk, 0);
    if (got > 0) {
        input.commit(static_cast<std::size_t>(got));
        wake_reader();
        // asyncio pauses the transport at twice the limit, so a peer that sends faster than
        // the task reads cannot grow the buffer without bound.
        if (input.size() > 2 * limit_) {
            read_paused_ = true;
            stop_reading();
        }
        return;
    }
    if (got == 0) {
        // EOF: the peer will send nothing more; the sending side stays open (a half-close,
        // as asyncio's stream protocol keeps it).
        eof = true;
        stop_reading();
        wake_reader();
        return;
    }
    const int error = errno;
    if (would_block(error)) return;
    lose(system_error_ptr(error, "recv"));
}

void StreamConnection::wake_reader() {
    if (read_waiter_) {
        if (!read_waiter_->done()) read_waiter_->set_result();
        read_waiter_.reset();
    }
}

Future<void> StreamConnection::wait_for_data(const char* operation) {
    if (read_waiter_ && !read_waiter_->done())
        throw RuntimeError(std::string(operation) +
                           "() called while another coroutine is already waiting for incoming data");
    // Waiting while paused would wait forever: readexactly(n) with n > 2 x limit does it.
    if (read_paused_) resume_reading();
    read_waiter_.emplace(*loop_);
    return *read_waiter_;
}

void StreamConnection::write(std::string_view data) {
    if (eof_requested_) throw RuntimeError("write() after write_eof()");
    if (closing_ || data.empty()) return;  // asyncio drops writes on a lost connection too
    if (ring_) {
        // No send() here: the SEND joins the iteration's batch (or follows the one in flight).
        output_.append(data);
        start_send();
        maybe_pause_writing();
        return;
    }
    if (output_.empty()) {
        // MSG_NOSIGNAL: a closed peer gives EPIPE, not a SIGPIPE that kills the process.
        const ssize_t sent = ::send(socket_.fd(), data.data(), data.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            const int error = errno;
            if (!would_block(error)) {
                lose(system_error_ptr(error, "send"));
                return;
            }
        } else {
            data.remove_prefix(static_cast<std::size_t>(sent));
            if (data.empty()) return;
        }
        start_writing();
    }
    output_.append(data);
    maybe_pause_writing();
}

void StreamConnection::start_writing() {
    if (writing_) return;
    // The writer holds the connection: with every handle gone, a closing connection still
    // sends its queue (asyncio's transport.close()). The cycle ends with the registration.
    loop_->add_writer(socket_.fd(), [connection = Ref<StreamConnection>(this)] { connection->on_writable(); });
    writing_ = true;
}

void StreamConnection::stop_writing() noexcept {
    if (ring_) {
        ring_->cancel(send_);  // if in flight; on_sent() then drops the queue
        return;
    }
    if (!writing_) return;
    writing_ = false;
    try {
        loop_->remove_writer(socket_.fd());  // may destroy the running callback's Ref: see IoNode
    } catch (...) {
    }
}

void StreamConnection::on_writable() {
    Ref<StreamConnection> keep(this);  // stop_writing() drops the writer's reference
    const ssize_t sent = ::send(socket_.fd(), output_.data(), output_.size(), MSG_NOSIGNAL);
    if (sent < 0) {
        const int error = errno;
        if (!would_block(error)) lose(system_error_ptr(error, "send"));
        return;
    }
    output_.consume(static_cast<std::size_t>(sent));
    maybe_resume_writing();
    if (!output_.empty()) return;
    stop_writing();
    if (closing_) {
        lose(nullptr);
    } else if (eof_requested_) {
        ::shutdown(socket_.fd(), SHUT_WR);
    }
}

void StreamConnection::maybe_pause_writing() noexcept {
    if (!write_paused_ && write_buffer_size() > high_water_) write_paused_ = true;
}

void StreamConnection::maybe_resume_writing() {
    if (write_paused_ && write_buffer_size() <= low_water_) {
        write_paused_ = false;
        drain_waiters.wake_all();
    }
}

void StreamConnection::write_eof() {
    if (closing_ || eof_requested_) return;
    eof_requested_ = true;
    if (write_buffer_size() == 0) ::shutdown(socket_.fd(), SHUT_WR);
}

void StreamConnection::close() {
    if (closing_) return;
    closing_ = true;
    stop_reading();
    if (write_buffer_size() == 0) lose(nullptr);
    // else on_writable() (on_sent()) sends the rest, then loses the connection.
}

void StreamConnection::lose(std::exception_ptr error) noexcept {
    if (lost_) return;
    Ref<StreamConnection> keep(this);  // stop_writing() may drop the last reference
    tear_down(std::move(error));
}

void StreamConnection::tear_down(std::exception_ptr error) noexcept {
    lost_ = true;
    closing_ = true;
    lost_error_ = error;
    stop_reading();
    stop_writing();
    output_.clear();  // sending_ stays the kernel's until its SEND completes (on_sent)
    close_socket_if_idle();
    try {
        if (error) {
            if (!read_error) read_error = error;
        } else {
            eof = true;
        }
        wake_reader();
        if (write_paused_) {
            write_paused_ = false;
            drain_waiters.wake_all();
        }
        close_waiters.wake_all();
    } catch (...) {
        // Only a closed loop refuses a wake-up, and then no waiter can resume anyway.
    }
    detach_from_server();
}

void StreamConnection::close_socket_if_idle() noexcept {
    // On epoll: after the registrations are removed (the number may be reused at once).
    // On the ring: after the last completion. An operation prepared but not yet submitted
    // names the fd by number, so closing earlier could let a new socket take the number
    // and receive the operation; and the kernel holds our buffer until the completion.
    if (!socket_ || recv_.in_flight() || send_.in_flight()) return;
    socket_.close();
    if (socket_on_ring_) {
        socket_on_ring_ = false;
        ring_->detach_socket();
    }
}

// --- the io_uring path --------------------------------------------------------------------
// One RECV in flight while reading (re-armed after each completion unless the buffer is
// past 2 x limit), at most one SEND. Each holds the connection (RingOperation::keep), so
// neither the connection nor the buffer the kernel uses can go before its completion.
// The loop submits what an iteration prepared in one io_uring_enter, before it waits.

void StreamConnection::arm_recv() {
    if (recv_.in_flight() || closing_) return;
    // Its own buffer, not `input`: the reader consumes `input` (which moves its offsets)
    // while the kernel may be writing.
    if (!recv_buffer_) recv_buffer_.reset(new char[read_chunk]);
    if (ring_->recv(recv_, socket_.fd(), recv_buffer_.get(), read_chunk)) recv_.keep = Ref<StreamConnection>(this);
}

void StreamConnection::on_received(int result) noexcept {
    try {
        if (closing_) {
            // close() or lose() cancelled it (or it completed first): what it brought is
            // dropped, as the epoll path stops reading at close(). The last completion of a
            // lost connection closes its socket.
            if (lost_) close_socket_if_idle();
            return;
        }
        if (result > 0) {
            input.append({recv_buffer_.get(), static_cast<std::size_t>(result)});
            wake_reader();
            // Past twice the limit, no new RECV until the reader takes data (resume_reading).
            if (input.size() > 2 * limit_) {
                read_paused_ = true;
            } else {
                arm_recv();
            }
            return;
        }
        if (result == 0) {
            eof = true;  // a half-close: the sending side stays open
            wake_reader();
            return;
        }
        if (would_block(-result)) {
            arm_recv();
            return;
        }
        if (result == -ECANCELED) return;  // the loop is closing: its ring cancelled everything
        lose(system_error_ptr(-result, "recv"));
    } catch (...) {
        lose(std::current_exception());  // a wake-up refused by a closed loop, or no memory
    }
}

void StreamConnection::start_send() {
    if (send_.in_flight()) return;
    if (sending_.empty()) sending_.swap(output_);  // write() appends to the other buffer now
    if (sending_.empty()) return;
    if (ring_->send(send_, socket_.fd(), sending_.data(), sending_.size())) send_.keep = Ref<StreamConnection>(this);
}

void StreamConnection::on_sent(int result) noexcept {
    try {
        if (lost_) {
            sending_.clear();  // lose() dropped the queue; the kernel has let go of it now
            close_socket_if_idle();
            return;
        }
        if (result == -ECANCELED) return;  // the loop is closing: the queue stays unsent
        if (result < 0) {
            if (!would_block(-result)) {
                lose(system_error_ptr(-result, "send"));
                return;
            }
        } else {
            sending_.consume(static_cast<std::size_t>(result));
        }
        start_send();  // the rest of a partial SEND, or what write() queued meanwhile
        maybe_resume_writing();
        if (write_buffer_size() != 0) return;
        if (closing_) {
            lose(nullptr);
        } else if (eof_requested_) {
            ::shutdown(socket_.fd(), SHUT_WR);
        }
    } catch (...) {
        lose(std::current_exception());
    }
}

void StreamConnection::detach_from_server() noexcept {
    if (!server_) return;
    Ref<ServerState> server = std::move(server_);
    server->detach(*this);
}

/// Waits for a wake-up from `waiters` (asyncio's `waiter = create_future(); append; await;
/// finally remove`). The list must outlive the wait: its owner is held by the caller.
Coro<void> wait_listed(WaiterList& waiters) {
    auto entry = waiters.add();
    std::exception_ptr error;
    try {
        co_await *entry;
    } catch (...) {
        error = std::current_exception();  // CancelledError: leave the list, then rethrow
    }
    waiters.erase(entry);
    if (error) std::rethrow_exception(error);
}

}  // namespace detail

// --- the coroutines behind the handles' methods --------------------------------------------
// Free functions holding the connection by value, so that a read or a drain stays valid
// even if its StreamReader or StreamWriter is moved while it waits.

namespace {

using detail::Ref;
using detail::StreamConnection;

Coro<std::string> stream_read(Ref<StreamConnection> connection, std::ptrdiff_t n) {
    StreamConnection& c = *connection;
    c.after_wait();
    if (n == 0) co_return std::string();
    if (n < 0) {
        // To EOF: take what comes, chunk by chunk, so the reader never stays paused.
        std::string all;
        while (!c.eof) {
            all.append(c.input.view());
            c.input.clear();
            c.maybe_resume_reading();
            Future<void> data = c.wait_for_data("read");
            co_await data;
            c.after_wait();
        }
        all.append(c.input.view());
        c.input.clear();
        co_return all;
    }
    if (c.input.empty() && !c.eof) {
        Future<void> data = c.wait_for_data("read");
        co_await data;
        c.after_wait();
    }
    std::string bytes = c.input.take(std::min(static_cast<std::size_t>(n), c.input.size()));
    c.maybe_resume_reading();
    co_return bytes;
}

Coro<std::string> stream_readexactly(Ref<StreamConnection> connection, std::size_t n) {
    StreamConnection& c = *connection;
    c.after_wait();
    while (c.input.size() < n) {
        if (c.eof) throw IncompleteReadError(c.input.take(c.input.size()), n);
        Future<void> data = c.wait_for_data("readexactly");
        co_await data;
        c.after_wait();
    }
    std::string bytes = c.input.take(n);
    c.maybe_resume_reading();
    co_return bytes;
}

// readuntil's search, without exceptions (readline turns two of its outcomes into values).
enum class Until { found, eof, overrun_not_found, overrun_found };
struct UntilResult {
    Until outcome;
    std::size_t position;  // found: where the separator starts; overrun: the consumed count
};

Coro<UntilResult> find_separator(Ref<StreamConnection> connection, std::string separator) {
    StreamConnection& c = *connection;
    c.after_wait();
    const std::size_t length = separator.size();
    // `offset`: how far the buffer is known to hold no separator (asyncio's algorithm: a
    // separator split across two receives is found because the last length-1 bytes are
    // searched again).
    std::size_t offset = 0;
    while (true) {
        const std::size_t size = c.input.size();
        if (size - offset >= length) {
            const std::size_t at = c.input.view().find(separator, offset);
            if (at != std::string_view::npos) {
                if (at > c.limit()) co_return UntilResult{Until::overrun_found, at};
                co_return UntilResult{Until::found, at};
            }
            offset = size + 1 - length;
            if (offset > c.limit()) co_return UntilResult{Until::overrun_not_found, offset};
        }
        if (c.eof) co_return UntilResult{Until::eof, 0};
        Future<void> data = c.wait_for_data("readuntil");
        co_await data;
        c.after_wait();
    }
}

Coro<std::string> stream_readuntil(Ref<StreamConnection> connection, std::string separator) {
    if (separator.empty()) throw ValueError("Separator should be at least one-byte string");
    const std::size_t length = separator.size();
    auto search = find_separator(connection, std::move(separator));
    const UntilResult result = co_await std::move(search);
    StreamConnection& c = *connection;
    switch (result.outcome) {
        case Until::found: {
            std::string chunk = c.input.take(result.position + length);
            c.maybe_resume_reading();
            co_return chunk;
        }
        case Until::eof:
            throw IncompleteReadError(c.input.take(c.input.size()), std::nullopt);
        case Until::overrun_not_found:
            throw LimitOverrunError("Separator is not found, and chunk exceed the limit", result.position);
        case Until::overrun_found:
            break;
    }
    throw LimitOverrunError("Separator is found, but chunk is longer than limit", result.position);
}

Coro<std::string> stream_readline(Ref<StreamConnection> connection) {
    auto search = find_separator(connection, "\n");
    const UntilResult result = co_await std::move(search);
    StreamConnection& c = *connection;
    switch (result.outcome) {
        case Until::found: {
            std::string line = c.input.take(result.position + 1);
            c.maybe_resume_reading();
            co_return line;
        }
        case Until::eof:
            co_return c.input.take(c.input.size());  // the partial line, "" at a clean EOF
        case Until::overrun_found:
            c.input.consume(result.position + 1);  // the whole over-long line goes
            c.maybe_resume_reading();
            throw ValueError("Separator is found, but chunk is longer than limit");
        case Until::overrun_not_found:
            break;
    }
    c.input.clear();  // the line's end is not even here: drop what there is
    c.maybe_resume_reading();
    throw ValueError("Separator is not found, and chunk exceed the limit");
}

Coro<void> stream_drain(Ref<StreamConnection> connection) {
    StreamConnection& c = *connection;
    if (c.read_error) std::rethrow_exception(c.read_error);
    if (c.lost()) {
        if (c.lost_error()) std::rethrow_exception(c.lost_error());
        throw std::system_error(ECONNRESET, std::generic_category(), "Connection lost");
    }
    if (!c.write_paused()) co_return;
    auto waiting = wait_listed(c.drain_waiters);  // named: GCC 12 (see the brief)
    co_await std::move(waiting);
    if (c.lost_error()) std::rethrow_exception(c.lost_error());
}

Coro<void> stream_wait_closed(Ref<StreamConnection> connection) {
    StreamConnection& c = *connection;
    if (!c.lost()) {
        auto waiting = wait_listed(c.close_waiters);
        co_await std::move(waiting);
    }
    if (c.lost_error()) std::rethrow_exception(c.lost_error());
}

}  // namespace

// --- handles ------------------------------------------------------------------------------

namespace detail {
StreamHandle::StreamHandle() noexcept = default;
StreamHandle::StreamHandle(Ref<StreamConnection> connection) noexcept : connection_(std::move(connection)) {
    connection_->add_handle();
}
StreamHandle::StreamHandle(StreamHandle&& other) noexcept = default;
StreamHandle& StreamHandle::operator=(StreamHandle&& other) noexcept {
    if (this != &other) {
        if (connection_) connection_->drop_handle();
        connection_ = std::move(other.connection_);
    }
    return *this;
}
StreamHandle::~StreamHandle() {
    if (connection_) connection_->drop_handle();
}
StreamConnection& StreamHandle::connection(const char* type) const {
    if (!connection_) throw_empty(type);
    return *connection_;
}
}  // namespace detail

// --- StreamReader -------------------------------------------------------------------------

StreamReader::StreamReader(detail::Ref<detail::StreamConnection> connection) noexcept
    : StreamHandle(std::move(connection)) {}

Coro<std::string> StreamReader::read(std::ptrdiff_t n) {
    connection();
    return stream_read(connection_, n);
}
Coro<std::string> StreamReader::readexactly(std::size_t n) {
    connection();
    return stream_readexactly(connection_, n);
}
Coro<std::string> StreamReader::readline() {
    connection();
    return stream_readline(connection_);
}
Coro<std::string> StreamReader::readuntil(std::string separator) {
    connection();
    return stream_readuntil(connection_, std::move(separator));
}
bool StreamReader::at_eof() const {
    const auto& c = connection();
    return c.eof && c.input.empty();
}
std::exception_ptr StreamReader::exception() const { return connection().read_error; }
std::size_t StreamReader::limit() const { return connection().limit(); }
std::size_t StreamReader::buffered_size() const { return connection().input.size(); }

// --- StreamWriter -------------------------------------------------------------------------

StreamWriter::StreamWriter(detail::Ref<detail::StreamConnection> connection) noexcept
    : StreamHandle(std::move(connection)) {}

void StreamWriter::write(std::string_view data) { connection().write(data); }
Coro<void> StreamWriter::drain() {
    connection();
    return stream_drain(connection_);
}
void StreamWriter::close() { connection().close(); }
void StreamWriter::abort() { connection().lose(nullptr); }
Coro<void> StreamWriter::wait_closed() {
    connection();
    return stream_wait_closed(connection_);
}
bool StreamWriter::is_closing() const { return connection().closing(); }
void StreamWriter::write_eof() { connection().write_eof(); }
void StreamWriter::set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low) {
    const std::size_t low_mark = low.value_or(high / 4);
    if (low_mark > high)
        throw ValueError("high (" + std::to_string(high) + ") must be >= low (" + std::to_string(low_mark) + ")");
    connection().set_write_buffer_limits(high, low_mark);
}
std::size_t StreamWriter::write_buffer_size() const { return connection().write_buffer_size(); }
std::optional<SocketAddress> StreamWriter::peername() const { return address_of(connection().fd(), true); }
std::optional<SocketAddress> StreamWriter::sockname() const { return address_of(connection().fd(), false); }

// --- opening ------------------------------------------------------------------------------

namespace detail {

namespace {
// What a worker thread's getaddrinfo found: an address, or the reason there is none.
struct Resolved {
    std::optional<sockaddr_in> address;
    std::string error;
};

// Runs on a worker thread (getaddrinfo blocks): touches nothing but its arguments.
Resolved lookup_ipv4(std::string host, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (status != 0) return {std::nullopt, ::gai_strerror(status)};
    sockaddr_in address{};
    std::memcpy(&address, found->ai_addr, sizeof address);
    ::freeaddrinfo(found);
    address.sin_port = htons(port);
    return {address, {}};
}
}  // namespace

Coro<sockaddr_in> resolve_ipv4(std::string host, std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    // A dotted address, and the one name every machine has, need no resolver thread.
    if (host.empty() || host == "localhost") host = "127.0.0.1";
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) == 1) co_return address;
    auto resolving = to_thread(&lookup_ipv4, host, port);  // named: GCC 12 (see the brief)
    Resolved resolved = co_await std::move(resolving);
    if (!resolved.address) throw ValueError("cannot resolve host '" + host + "': " + resolved.error);
    co_return *resolved.address;
}

}  // namespace detail

Coro<StreamPair> open_connection(std::string host, std::uint16_t port, std::size_t limit) {
    if (limit == 0) throw ValueError("Limit cannot be <= 0");
    EventLoop& loop = get_running_loop();
    auto resolving = detail::resolve_ipv4(std::move(host), port);  // named: GCC 12 (see brief)
    const sockaddr_in address = co_await std::move(resolving);
    Socket socket = tcp_socket();  // closed by its destructor if the connect fails or is cancelled
    detail::set_no_delay(socket.fd());
    auto connecting = sock_connect(socket.fd(), address);
    co_await std::move(connecting);
    auto connection = detail::make_ref<detail::StreamConnection>(loop, std::move(socket), limit,
                                                                 detail::Ref<detail::ServerState>());
    co_return detail::StreamAccess::pair(std::move(connection));
}

}  // namespace aio
