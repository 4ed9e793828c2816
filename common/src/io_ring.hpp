#pragma once
// aio::detail::IoRing: the io_uring a SelectorEventLoop lends to its streams, private to
// aio's sources. Streams prepare RECV and SEND operations on it; the loop submits them all
// with one io_uring_enter just before it waits (SelectorEventLoop::select), and dispatches
// the completions there. Without liburing (AIO_HAVE_IO_URING undefined) create() always
// returns null and streams stay on epoll.
#include <cstddef>

#include "aio/detail/ref_counted.hpp"

namespace aio::detail {

class IoRing;

/// An operation the kernel may hold. Its address is the SQE's user_data; complete() runs
/// exactly once per operation the ring accepted, with the CQE's result (a byte count, 0
/// for EOF, or -errno: -ECANCELED after cancel()). The owner keeps the operation, and the
/// buffer it names, alive until then.
class IoOperation {
public:
    bool in_flight() const noexcept { return in_flight_; }
    virtual void complete(int result) noexcept = 0;

protected:
    IoOperation() = default;
    IoOperation(const IoOperation&) = delete;
    IoOperation& operator=(const IoOperation&) = delete;
    ~IoOperation() = default;

private:
    friend class IoRing;
    bool in_flight_ = false;
    IoOperation* previous_ = nullptr;  // the ring's list of operations in flight
    IoOperation* next_ = nullptr;
};

class IoRing final : public RefCounted {
public:
    /// A new ring, or null: liburing not compiled in, AIO_IO_URING=0 in the environment, or
    /// io_uring_queue_init refused (an old kernel, a seccomp filter, a memlock limit).
    static Ref<IoRing> create();
    ~IoRing() override;

    /// An eventfd the kernel signals whenever it posts completions (for edge-triggered epoll).
    int event_fd() const noexcept { return event_fd_; }
    /// After shutdown(): no new operation is accepted.
    bool closed() const noexcept { return closed_; }

    /// Prepare an operation (submitted by the next submit()). Return false if the ring is
    /// closed (the operation is not in flight then); throw std::system_error if no
    /// submission entry can be had.
    bool recv(IoOperation& operation, int fd, void* buffer, std::size_t size);
    bool send(IoOperation& operation, int fd, const void* data, std::size_t size);
    /// Asks the kernel to cancel `operation` (if in flight): it completes soon, with
    /// -ECANCELED, or with its own result if it finished first. Never throws.
    void cancel(IoOperation& operation) noexcept;

    /// Submits everything prepared since the last call: one system call, or none.
    void submit();
    /// Whether completions wait in the queue, or prepared operations wait for submit():
    /// either way the loop must not block.
    bool has_work_now() const noexcept;
    /// Reaps the completion queue, calling each operation's complete().
    void dispatch();

    /// Operations accepted and not yet completed (prepared ones included).
    std::size_t in_flight() const noexcept { return in_flight_; }
    /// Sockets whose streams use the ring and are still open (the loop's
    /// registered_fd_count() counts them with its epoll registrations).
    void attach_socket() noexcept { ++sockets_; }
    void detach_socket() noexcept { --sockets_; }
    std::size_t socket_count() const noexcept { return sockets_; }

    /// The loop is closing: cancels every operation in flight, waits for all of them to
    /// complete (their owners may then let go of their buffers and descriptors), and
    /// releases the ring. Never throws.
    void shutdown() noexcept;

private:
    struct State;  // liburing's struct io_uring, kept out of this header
    IoRing() = default;
    void* next_entry();
    void track(IoOperation& operation) noexcept;
    void reap(bool wait) noexcept;

    State* state_ = nullptr;
    int event_fd_ = -1;
    bool closed_ = false;
    std::size_t in_flight_ = 0;
    std::size_t sockets_ = 0;
    IoOperation* first_ = nullptr;  // operations in flight, for shutdown()
};

}  // namespace aio::detail
