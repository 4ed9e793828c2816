#include "io_ring.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#ifdef AIO_HAVE_IO_URING
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace aio::detail {

#ifdef AIO_HAVE_IO_URING

namespace {
// Submission entries: far more than one iteration prepares in the benchmark (50 clients
// x (RECV + SEND) per side); when the queue fills up, next_entry() submits early. The
// completion queue is twice as long, and kernels since 5.5 keep what overflows it.
constexpr unsigned ring_entries = 1024;
}  // namespace

struct IoRing::State {
    io_uring ring;
};

Ref<IoRing> IoRing::create() {
    if (const char* setting = std::getenv("AIO_IO_URING"); setting && std::strcmp(setting, "0") == 0) return {};
    Ref<IoRing> created(new IoRing());
    auto state = new State();
    if (::io_uring_queue_init(ring_entries, &state->ring, 0) < 0) {
        delete state;
        return {};
    }
    created->state_ = state;
    created->event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (created->event_fd_ < 0 || ::io_uring_register_eventfd(&state->ring, created->event_fd_) < 0) {
        created->closed_ = true;  // nothing in flight: the destructor releases what exists
        return {};
    }
    return created;
}

IoRing::~IoRing() {
    // shutdown() ran already (the loop's close()), unless no operation was ever accepted.
    if (state_) {
        ::io_uring_queue_exit(&state_->ring);
        delete state_;
    }
    if (event_fd_ >= 0) ::close(event_fd_);
}

void* IoRing::next_entry() {
    io_uring_sqe* entry = ::io_uring_get_sqe(&state_->ring);
    if (!entry) {
        // The submission queue is full: hand it to the kernel now, then take a free entry.
        submit();
        entry = ::io_uring_get_sqe(&state_->ring);
        if (!entry) throw std::system_error(EBUSY, std::generic_category(), "io_uring_get_sqe");
    }
    return entry;
}

void IoRing::track(IoOperation& operation) noexcept {
    operation.in_flight_ = true;
    operation.previous_ = nullptr;
    operation.next_ = first_;
    if (first_) first_->previous_ = &operation;
    first_ = &operation;
    ++in_flight_;
}

bool IoRing::recv(IoOperation& operation, int fd, void* buffer, std::size_t size) {
    if (closed_) return false;
    auto* entry = static_cast<io_uring_sqe*>(next_entry());
    ::io_uring_prep_recv(entry, fd, buffer, size, 0);
    ::io_uring_sqe_set_data(entry, &operation);
    track(operation);
    return true;
}

bool IoRing::send(IoOperation& operation, int fd, const void* data, std::size_t size) {
    if (closed_) return false;
    auto* entry = static_cast<io_uring_sqe*>(next_entry());
    // MSG_NOSIGNAL: a closed peer gives -EPIPE, not a SIGPIPE that kills the process.
    ::io_uring_prep_send(entry, fd, data, size, MSG_NOSIGNAL);
    ::io_uring_sqe_set_data(entry, &operation);
    track(operation);
    return true;
}

void IoRing::cancel(IoOperation& operation) noexcept {
    // Closed: shutdown() cancelled everything already and waited for it.
    if (closed_ || !operation.in_flight_) return;
    try {
        auto* entry = static_cast<io_uring_sqe*>(next_entry());
        // If the operation is still only prepared, it goes to the kernel in the same
        // submission, before this entry: the kernel issues entries in order, so the
        // cancellation finds it.
        ::io_uring_prep_cancel(entry, &operation, 0);
        ::io_uring_sqe_set_data(entry, nullptr);  // its own completion is ignored
    } catch (...) {
        // No entry even after submitting: the operation completes by itself (data, EOF,
        // or the peer's reset); its owner only waits longer to close the descriptor.
    }
}

void IoRing::submit() {
    if (!state_ || ::io_uring_sq_ready(&state_->ring) == 0) return;
    // -EINTR, -EAGAIN, -EBUSY (completions to reap first): the entries stay queued and
    // has_work_now() keeps the loop from blocking until they are in.
    [[maybe_unused]] const int submitted = ::io_uring_submit(&state_->ring);
}

bool IoRing::has_work_now() const noexcept {
    if (!state_) return false;
    return ::io_uring_cq_ready(&state_->ring) > 0 || ::io_uring_sq_ready(&state_->ring) > 0;
}

void IoRing::reap(bool wait) noexcept {
    while (true) {
        io_uring_cqe* completion = nullptr;
        // io_uring_peek_cqe also flushes completions the kernel kept aside when the queue
        // overflowed; io_uring_wait_cqe blocks (shutdown() only, for cancelled operations).
        const int status = wait ? ::io_uring_wait_cqe(&state_->ring, &completion)
                                : ::io_uring_peek_cqe(&state_->ring, &completion);
        if (status == -EINTR) continue;
        if (status < 0 || !completion) return;
        auto* operation = static_cast<IoOperation*>(::io_uring_cqe_get_data(completion));
        const int result = completion->res;
        ::io_uring_cqe_seen(&state_->ring, completion);  // the entry is free before complete() runs
        if (!operation) continue;                       // a cancellation's own completion
        if (operation->previous_) {
            operation->previous_->next_ = operation->next_;
        } else {
            first_ = operation->next_;
        }
        if (operation->next_) operation->next_->previous_ = operation->previous_;
        operation->in_flight_ = false;
        --in_flight_;
        operation->complete(result);  // may prepare new operations, or free its owner
        if (wait) return;
    }
}

void IoRing::dispatch() {
    if (state_) reap(false);
}

void IoRing::shutdown() noexcept {
    if (closed_ || !state_) {
        closed_ = true;
        return;
    }
    // Cancel everything, then wait: the kernel holds each operation's buffer until its
    // completion, and each owner closes its descriptor only after its last one.
    for (IoOperation* operation = first_; operation; operation = operation->next_) cancel(*operation);
    closed_ = true;  // from here, complete() cannot start new operations
    while (in_flight_ > 0) {
        submit();
        const std::size_t before = in_flight_;
        reap(true);
        if (in_flight_ == before) break;  // the kernel failed the wait: nothing more will come
    }
    ::io_uring_queue_exit(&state_->ring);
    delete state_;
    state_ = nullptr;
    ::close(event_fd_);  // the loop's epoll goes too; streams still open keep only this object
    event_fd_ = -1;
}

#else  // no liburing: streams always use epoll

struct IoRing::State {};
Ref<IoRing> IoRing::create() { return {}; }
IoRing::~IoRing() = default;
void* IoRing::next_entry() { return nullptr; }
void IoRing::track(IoOperation&) noexcept {}
bool IoRing::recv(IoOperation&, int, void*, std::size_t) { return false; }
bool IoRing::send(IoOperation&, int, const void*, std::size_t) { return false; }
void IoRing::cancel(IoOperation&) noexcept {}
void IoRing::submit() {}
bool IoRing::has_work_now() const noexcept { return false; }
void IoRing::reap(bool) noexcept {}
void IoRing::dispatch() {}
void IoRing::shutdown() noexcept { closed_ = true; }

#endif

}  // namespace aio::detail
