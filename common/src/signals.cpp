// Unix signals: SelectorEventLoop's add_signal_handler, and graceful shutdown for aio::run.
//
// How a signal reaches the loop: a self-pipe, written by a sigaction handler (asyncio's way:
// signal.set_wakeup_fd plus a handler that does nothing). Not signalfd: signalfd only sees
// a signal that is blocked in *every* thread, otherwise the kernel delivers it to a thread
// that does not block it, with its ordinary disposition. Executor threads, a test runner's
// threads, a library's threads started before or after the loop would all need the mask,
// which the loop does not control. A sigaction handler works whichever thread the kernel
// picks. It does two async-signal-safe things: it sets the signal's pending flag and writes
// one byte to the owning loop's non-blocking pipe. The loop watches the pipe's read end as
// an ordinary reader: it drains the pipe, then queues the callback of each signal whose flag
// it clears. SA_RESTART keeps slow system calls in other threads from failing with EINTR.
//
// The flag, not the byte, says which signal came: a byte can be lost to a full pipe, a flag
// cannot, and a full pipe wakes the loop anyway. A handler sets the flag before it writes,
// and the loop drains before it clears flags, so a signal is never lost: either the loop's
// exchange sees the flag, or the byte written after it wakes the loop again.
#include "aio/signals.hpp"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>

#include "aio/errors.hpp"
#include "aio/run.hpp"
#include "aio/selector_event_loop.hpp"

namespace aio {

namespace {

constexpr int signal_limit = NSIG;  // valid signal numbers: 1 .. NSIG - 1

// Read by the signal handler: lock-free atomics are signal-safe ([support.signal]).
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);
// The owning loop's pipe write end plus one (zero-initialised means "no loop": 0 is a valid
// descriptor). Stored before sigaction() installs the handler and cleared after the old
// disposition is back, so a running handler finds either a live pipe or none. The one
// window left is asyncio's too: a handler already past its load on another thread while
// the loop closes its pipe.
std::atomic<int> wake_fd_plus_one[signal_limit];
// Set by the handler, cleared by the owning loop. release/acquire is enough: the flag is
// the only data passed, and the pipe's write/read (system calls) order it against the byte.
std::atomic<bool> signal_pending[signal_limit];

// Which loop handles each signal and the disposition to restore. Never touched by the
// signal handler, so a mutex is fine; loops on several threads may add handlers at once.
struct SignalSlot {
    const void* owner = nullptr;
    struct sigaction previous {};
};
std::mutex table_mutex;
SignalSlot signal_table[signal_limit];  // guarded by table_mutex

void on_signal(int sig) {
    const int saved_errno = errno;  // the interrupted code may be about to read errno
    if (sig > 0 && sig < signal_limit) {
        signal_pending[sig].store(true, std::memory_order_release);
        const int fd = wake_fd_plus_one[sig].load(std::memory_order_acquire) - 1;
        if (fd >= 0) {
            const unsigned char byte = static_cast<unsigned char>(sig);
            [[maybe_unused]] ssize_t written = ::write(fd, &byte, 1);  // EAGAIN: already awake
        }
    }
    errno = saved_errno;
}

void check_signal_number(int sig, const char* where) {
    if (sig < 1 || sig >= signal_limit)
        throw ValueError(std::string(where) + ": sig " + std::to_string(sig) + " out of range(1, " +
                         std::to_string(signal_limit) + ")");
}

/// Installs on_signal for `sig` on behalf of `owner`, writing to `write_fd`. Nothing to do if
/// `owner` already has it.
void claim_signal(int sig, const void* owner, int write_fd) {
    std::lock_guard lock(table_mutex);
    SignalSlot& slot = signal_table[sig];
    if (slot.owner == owner) return;
    if (slot.owner)
        throw RuntimeError("add_signal_handler: " + signal_name(sig) +
                           " already has a handler on another event loop (remove it there first)");
    struct sigaction action {};
    action.sa_handler = &on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    signal_pending[sig].store(false, std::memory_order_relaxed);
    wake_fd_plus_one[sig].store(write_fd + 1, std::memory_order_release);
    if (::sigaction(sig, &action, &slot.previous) < 0) {
        const int error = errno;
        wake_fd_plus_one[sig].store(0, std::memory_order_release);
        if (error == EINVAL)
            throw RuntimeError("add_signal_handler: sig " + std::to_string(sig) + " (" + signal_name(sig) +
                               ") cannot be caught");
        throw std::system_error(error, std::generic_category(), "add_signal_handler: sigaction");
    }
    slot.owner = owner;
}

/// Restores the disposition `sig` had before `owner` claimed it.
void release_signal(int sig, const void* owner) noexcept {
    std::lock_guard lock(table_mutex);
    SignalSlot& slot = signal_table[sig];
    if (slot.owner != owner) return;
    ::sigaction(sig, &slot.previous, nullptr);  // cannot fail: these values were accepted once
    wake_fd_plus_one[sig].store(0, std::memory_order_release);
    slot.owner = nullptr;
}

/// A signal's callback. Like an I/O callback it runs many times, so run() keeps it;
/// cancel() only sets a flag (the callback may be the one running, removing itself).
/// `queued` coalesces deliveries: one call in the ready queue covers every signal that
/// arrived before it runs, and it is cleared before the call, so a signal during the call
/// queues another one.
class SignalNode final : public Runnable, public detail::RefCounted {
public:
    SignalNode(int sig, Callback callback) : sig_(sig), callback_(std::move(callback)) {}

    void run() override {
        queued = false;
        if (!cancelled_) callback_();
    }
    void release_from_loop() noexcept override { RefCounted::release(); }
    std::string describe() const override { return "<Handle (signal " + signal_name(sig_) + ")>"; }

    void cancel() noexcept { cancelled_ = true; }
    bool queued = false;

private:
    int sig_;
    Callback callback_;
    bool cancelled_ = false;
};

}  // namespace

// --- SelectorEventLoop's side ------------------------------------------------------------

class SelectorEventLoop::SignalHandlers {
public:
    SignalHandlers() {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
            throw std::system_error(errno, std::generic_category(), "add_signal_handler: pipe2");
        read_fd = fds[0];
        write_fd = fds[1];
    }
    SignalHandlers(const SignalHandlers&) = delete;
    SignalHandlers& operator=(const SignalHandlers&) = delete;
    ~SignalHandlers() {
        ::close(read_fd);
        ::close(write_fd);
    }

    int read_fd = -1;
    int write_fd = -1;
    std::map<int, detail::Ref<SignalNode>> callbacks;  // by signal number
};

void SelectorEventLoop::add_signal_handler(int sig, Callback callback) {
    check_signal_number(sig, "add_signal_handler");
    require_open();
    if (!signals_) signals_ = new SignalHandlers();
    SignalHandlers& handlers = *signals_;
    const bool first = handlers.callbacks.empty();
    // The pipe is watched only while some handler exists: waits_for_io() must stay false
    // otherwise (a VirtualTimeLoop's deadlock check, the fast path of a zero-timeout poll).
    // Qualified call: the pipe is the loop's own business, not a subclass's reader.
    if (first) SelectorEventLoop::add_reader(handlers.read_fd, [this] { dispatch_signals(); });
    try {
        claim_signal(sig, this, handlers.write_fd);
    } catch (...) {
        if (first) SelectorEventLoop::remove_reader(handlers.read_fd);
        throw;
    }
    detail::Ref<SignalNode>& slot = handlers.callbacks[sig];
    if (slot) slot->cancel();  // replaced: a queued call of the old callback does not run
    slot = detail::make_ref<SignalNode>(sig, std::move(callback));
}

bool SelectorEventLoop::remove_signal_handler(int sig) {
    check_signal_number(sig, "remove_signal_handler");
    if (!signals_) return false;
    auto found = signals_->callbacks.find(sig);
    if (found == signals_->callbacks.end()) return false;
    release_signal(sig, this);
    found->second->cancel();
    signals_->callbacks.erase(found);
    // The pipe stays open until close(): a handler still running on another thread may
    // write to it; only the watch goes.
    if (signals_->callbacks.empty()) SelectorEventLoop::remove_reader(signals_->read_fd);
    return true;
}

bool SelectorEventLoop::has_signal_handler(int sig) const noexcept {
    return signals_ && signals_->callbacks.count(sig) != 0;
}

void SelectorEventLoop::dispatch_signals() {
    if (!signals_) return;
    // Drain first, then look at the flags (see the top of this file).
    unsigned char bytes[256];
    while (::read(signals_->read_fd, bytes, sizeof bytes) > 0) {
    }
    for (auto& [sig, node] : signals_->callbacks) {
        if (!signal_pending[sig].exchange(false, std::memory_order_acq_rel) || node->queued) continue;
        node->queued = true;
        node->add_ref();  // the ready queue's reference, dropped by release_from_loop()
        call_soon(static_cast<Runnable&>(*node));
    }
}

void SelectorEventLoop::close_signals() noexcept {
    if (!signals_) return;
    for (auto& [sig, node] : signals_->callbacks) {
        release_signal(sig, this);
        node->cancel();
    }
    // The pipe's reader goes with the other I/O registrations (close() drops them next).
    delete std::exchange(signals_, nullptr);
}

// --- aio::Interrupted, signal_name ---------------------------------------------------------

std::string signal_name(int sig) {
    // sigabbrev_np (glibc 2.32) knows the names without the "SIG" prefix.
    if (const char* abbreviation = ::sigabbrev_np(sig)) return std::string("SIG") + abbreviation;
    return "signal " + std::to_string(sig);
}

Interrupted::Interrupted(int signal, bool forced)
    : signal_(signal),
      forced_(forced),
      message_("interrupted by " + signal_name(signal) + (forced ? " (tasks cut off)" : "")) {}

// --- graceful shutdown for aio::run --------------------------------------------------------

namespace detail {

ShutdownOnSignals::ShutdownOnSignals(EventLoop& loop, std::vector<int> signals, Duration grace) noexcept
    : loop_(loop), signals_(std::move(signals)), grace_(grace) {}

ShutdownOnSignals::~ShutdownOnSignals() {
    grace_timer_.cancel();
    if (loop_.is_closed()) return;  // close() removed the handlers
    for (int sig : signals_) {
        try {
            loop_.remove_signal_handler(sig);
        } catch (...) {  // a loop without signals: start() failed, nothing was installed
        }
    }
}

void ShutdownOnSignals::start(TaskBase& main) {
    main_ = Ref<TaskBase>(&main);
    // The callback captures `this` and the number, which fits Callback's inline buffer.
    for (int sig : signals_) loop_.add_signal_handler(sig, [this, sig] { on_signal(sig); });
}

void ShutdownOnSignals::on_signal(int sig) {
    if (first_signal_ != 0) {
        cut_off();  // a second signal: no more waiting
        return;
    }
    first_signal_ = sig;
    // Main first, as asyncio.Runner does for Ctrl-C: main decides how to wind down what it
    // started, and aio::run cancels whatever is left when main is done.
    if (main_ && !main_->done()) main_->cancel("shutdown: " + signal_name(sig) + " received");
    grace_timer_ = loop_.call_later(grace_, [this] { cut_off(); });
}

void ShutdownOnSignals::cut_off() {
    forced_ = true;
    // run_until_complete() (main still pending) then throws, which translate() turns into
    // Interrupted; shut_down_run_loop()'s run (main done, others pending) just returns.
    loop_.stop();
}

std::exception_ptr ShutdownOnSignals::translate(std::exception_ptr error) const {
    if (first_signal_ == 0) return error;
    if (forced_) return std::make_exception_ptr(Interrupted(first_signal_, true));
    try {
        std::rethrow_exception(error);
    } catch (const CancelledError&) {
        return std::make_exception_ptr(Interrupted(first_signal_, false));
    } catch (...) {
    }
    return error;  // main's clean-up failed: that error is what the caller needs
}

void ShutdownOnSignals::shut_down_loop() noexcept {
    if (!forced_) {
        // A signal during this may still cut it short: the handlers stay until close().
        shut_down_run_loop(loop_);
        return;
    }
    // Cut off: running the loop again would give the stubborn tasks more time. close()
    // destroys them, reporting each one.
    try {
        loop_.close();
    } catch (...) {
        EventLoop::default_exception_handler(
            {"error while closing the loop after a shutdown signal", std::current_exception(), {}});
    }
}

}  // namespace detail
}  // namespace aio
