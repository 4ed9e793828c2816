#pragma once
// What streams.cpp and stream_server.cpp share, private to aio's sources: the connection
// (asyncio's selector transport and StreamReaderProtocol in one), the server's state, and
// the helpers both use. Not installed, not included by any public header.
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <vector>

#include "aio/detail/waiter_list.hpp"
#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "aio/sockets.hpp"
#include "aio/streams.hpp"
#include "io_ring.hpp"

namespace aio::detail {

// EAGAIN or EINTR: nothing happened, try at the next readiness event (level-triggered epoll
// reports the fd again while it is ready).
inline bool would_block(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

inline std::exception_ptr system_error_ptr(int error, const char* what) {
    return std::make_exception_ptr(std::system_error(error, std::generic_category(), what));
}

// asyncio sets TCP_NODELAY on every TCP transport: a small write goes out at once instead of
// waiting for the previous segment's acknowledgement (Nagle).
inline void set_no_delay(int fd) noexcept {
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

/// A byte queue: appended at the end, consumed from the front, without zero-filling what
/// recv() will overwrite (std::string::resize would) and without moving the rest on every
/// consume (the front offset moves; the bytes move only when space runs out).
class ByteBuffer {
public:
    std::size_t size() const noexcept { return end_ - begin_; }
    bool empty() const noexcept { return begin_ == end_; }
    const char* data() const noexcept { return storage_.get() + begin_; }
    std::string_view view() const noexcept { return {data(), size()}; }

    /// Room for `count` more bytes at the end; commit() what was written there.
    char* prepare(std::size_t count) {
        if (capacity_ - end_ < count) {
            const std::size_t used = size();
            if (used + count <= capacity_ && begin_ >= used) {
                std::memcpy(storage_.get(), data(), used);  // no overlap: begin_ >= used
            } else if (used + count <= capacity_) {
                std::memmove(storage_.get(), data(), used);
            } else {
                const std::size_t capacity = std::max(capacity_ * 2, used + count);
                std::unique_ptr<char[]> grown(new char[capacity]);
                if (used) std::memcpy(grown.get(), data(), used);
                storage_ = std::move(grown);
                capacity_ = capacity;
            }
            begin_ = 0;
            end_ = used;
        }
        return storage_.get() + end_;
    }
    void commit(std::size_t count) noexcept { end_ += count; }
    void append(std::string_view bytes) {
        std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
        commit(bytes.size());
    }
    void consume(std::size_t count) noexcept {
        begin_ += count;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    /// The first `count` bytes, removed.
    std::string take(std::size_t count) {
        std::string bytes(data(), count);
        consume(count);
        return bytes;
    }
    void clear() noexcept { begin_ = end_ = 0; }
    void swap(ByteBuffer& other) noexcept {
        storage_.swap(other.storage_);
        std::swap(capacity_, other.capacity_);
        std::swap(begin_, other.begin_);
        std::swap(end_, other.end_);
    }

private:
    std::unique_ptr<char[]> storage_;
    std::size_t capacity_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

[[noreturn]] inline void throw_empty(const char* type) {
    throw RuntimeError(std::string("an empty ") + type + " (moved from?)");
}

/// Waits for a wake-up from `waiters`; see streams.cpp.
Coro<void> wait_listed(WaiterList& waiters);

// --- the connection: asyncio's selector transport and StreamReaderProtocol in one -----------
//
// Two transports in one class. On epoll (any loop; aio's own when it has no io_uring) the
// connection keeps a reader registered and calls recv()/send() when the fd is ready. On
// the io_uring of aio's SelectorEventLoop it keeps one RECV in flight and at most one SEND;
// see "the io_uring path" in streams.cpp.

class StreamConnection final : public RefCounted {
public:
    StreamConnection(EventLoop& loop, Socket socket, std::size_t limit, Ref<ServerState> server);
    ~StreamConnection() override;

    EventLoop& loop() const noexcept { return *loop_; }
    int fd() const noexcept { return socket_.fd(); }
    std::size_t limit() const noexcept { return limit_; }

    // --- the reading side (asyncio's StreamReader state) ---
    ByteBuffer input;
    bool eof = false;
    std::exception_ptr read_error;

    /// A future the next readiness event completes; the caller awaits it, then calls
    /// after_wait(). Throws RuntimeError if another read already waits (asyncio's rule).
    Future<void> wait_for_data(const char* operation);
    /// After a wait: rethrows the error the connection failed with, if any.
    void after_wait() const {
        if (read_error) std::rethrow_exception(read_error);
    }
    /// Reading paused at 2 x limit resumes once the buffer is back at or below the limit.
    void maybe_resume_reading() {
        if (read_paused_ && input.size() <= limit_) resume_reading();
    }

    // --- the writing side (the transport's write buffer and FlowControlMixin) ---
    void write(std::string_view data);
    void write_eof();
    void close();
    /// Closes the socket now: registrations removed, queued bytes dropped, readers see EOF
    /// (or `error`), drain() and wait_closed() waiters woken. Never throws.
    void lose(std::exception_ptr error) noexcept;
    bool closing() const noexcept { return closing_; }
    bool lost() const noexcept { return lost_; }
    const std::exception_ptr& lost_error() const noexcept { return lost_error_; }
    bool write_paused() const noexcept { return write_paused_; }
    /// Queued bytes: those a SEND in flight still has to send included.
    std::size_t write_buffer_size() const noexcept { return output_.size() + sending_.size(); }
    /// Whether this connection runs on the loop's io_uring (else on epoll).
    bool uses_io_uring() const noexcept { return static_cast<bool>(ring_); }
    void set_write_buffer_limits(std::size_t high, std::size_t low) {
        high_water_ = high;
        low_water_ = low;
        maybe_pause_writing();
        maybe_resume_writing();
    }
    WaiterList drain_waiters;
    WaiterList close_waiters;

    // The handles (StreamReader, StreamWriter) alive: the last one to go closes.
    void add_handle() noexcept { ++handles_; }
    void drop_handle() noexcept {
        if (--handles_ == 0) {
            try {
                close();
            } catch (...) {
                lose(std::current_exception());
            }
        }
    }

private:
    friend class ServerState;
    void on_readable();
    void on_writable();
    void start_reading();
    void stop_reading() noexcept;
    void resume_reading();
    void start_writing();
    void stop_writing() noexcept;
    void wake_reader();
    void maybe_pause_writing() noexcept;
    void maybe_resume_writing();
    void detach_from_server() noexcept;
    // lose()'s body, without the reference lose() takes (the destructor calls it).
    void tear_down(std::exception_ptr error) noexcept;
    // Closes the socket unless a ring operation may still name its fd (see streams.cpp).
    void close_socket_if_idle() noexcept;

    // --- the io_uring path ---
    void arm_recv();
    void start_send();
    void on_received(int result) noexcept;
    void on_sent(int result) noexcept;

    /// A RECV or a SEND on the ring. While the kernel holds it, `keep` holds the
    /// connection, and with it the buffer the operation names (recv_buffer_, sending_).
    class RingOperation final : public IoOperation {
    public:
        using Handler = void (StreamConnection::*)(int) noexcept;
        explicit RingOperation(Handler handler) noexcept : handler_(handler) {}
        void complete(int result) noexcept override {
            // Perhaps the last reference: the connection (and this member) goes after
            // the handler, and nothing here is touched after that.
            Ref<StreamConnection> connection = std::move(keep);
            ((*connection).*handler_)(result);
        }
        Ref<StreamConnection> keep;

    private:
        Handler handler_;
    };

    EventLoop* loop_;
    Socket socket_;
    std::size_t limit_;
    std::optional<Future<void>> read_waiter_;
    bool reading_ = false;      // a reader is registered
    bool read_paused_ = false;  // the buffer passed 2 x limit: reader removed until read
    ByteBuffer output_;
    std::size_t high_water_ = StreamWriter::default_high_water;
    std::size_t low_water_ = StreamWriter::default_low_water;
    bool writing_ = false;       // a writer is registered
    bool write_paused_ = false;  // above the high-water mark: drain() waits
    bool eof_requested_ = false;
    bool closing_ = false;
    bool lost_ = false;
    std::exception_ptr lost_error_;
    int handles_ = 0;
    Ref<ServerState> server_;  // the server that accepted it, until the connection is lost

    // The io_uring path (ring_ null: epoll). The kernel writes into recv_buffer_ while
    // recv_ is in flight, and reads sending_ while send_ is; write() appends to output_,
    // which becomes sending_ when the SEND before it is done. Nothing else touches them.
    Ref<IoRing> ring_;
    RingOperation recv_{&StreamConnection::on_received};
    RingOperation send_{&StreamConnection::on_sent};
    std::unique_ptr<char[]> recv_buffer_;
    ByteBuffer sending_;
    bool socket_on_ring_ = false;  // counted in the ring's socket_count() until closed
};

// --- the server ---------------------------------------------------------------------------

class ServerState final : public RefCounted {
public:
    ServerState(EventLoop& loop, Socket listener, ClientConnectedCallback handler, std::size_t limit,
                int backlog)
        : loop_(&loop), listener_(std::move(listener)), handler_(std::move(handler)), limit_(limit),
          backlog_(backlog) {}
    ~ServerState() override { close(); }

    EventLoop& loop() const noexcept { return *loop_; }
    void start_serving();
    void close() noexcept;
    bool closed() const noexcept { return !listener_; }
    int listen_fd() const noexcept { return listener_.fd(); }
    /// Closed, with no connection and no handler left: wait_closed() returns.
    bool finished() const noexcept { return closed() && active_ == 0; }
    std::size_t active() const noexcept { return active_; }
    const ClientConnectedCallback& handler() const noexcept { return handler_; }

    void attach(StreamConnection& connection) {
        clients_.insert(&connection);
        ++active_;
    }
    void detach(StreamConnection& connection) noexcept {
        clients_.erase(&connection);
        release_one();
    }
    void add_handler() noexcept { ++active_; }
    void release_one() noexcept {
        --active_;
        if (finished()) wake_closed_waiters();
    }
    /// Every connection still open, kept alive for the caller.
    std::vector<Ref<StreamConnection>> clients() const {
        std::vector<Ref<StreamConnection>> list;
        for (StreamConnection* connection : clients_) list.emplace_back(connection);
        return list;
    }

    WaiterList close_waiters;
    std::optional<Future<void>> serving_forever;

private:
    void on_acceptable();
    void wake_closed_waiters() noexcept {
        try {
            close_waiters.wake_all();
        } catch (...) {
            // Only a closed loop refuses a wake-up, and then nobody can resume anyway.
        }
    }

    EventLoop* loop_;
    Socket listener_;
    ClientConnectedCallback handler_;
    std::size_t limit_;
    int backlog_;
    std::size_t active_ = 0;
    std::unordered_set<StreamConnection*> clients_;
    TimerHandle accept_retry_;
};

// Builds the public handles, whose constructors are private.
struct StreamAccess {
    static StreamPair pair(Ref<StreamConnection> connection) {
        StreamReader reader(connection);
        StreamWriter writer(std::move(connection));
        return StreamPair{std::move(reader), std::move(writer)};
    }
    static Server server(Ref<ServerState> state) { return Server(std::move(state)); }
};

/// The task that runs a server's handler on one connection (stream_server.cpp).
Coro<void> serve_client(Ref<ServerState> server, StreamPair streams);

}  // namespace aio::detail
