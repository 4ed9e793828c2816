// aio::Server and start_server (asyncio's base_events.Server and streams.start_server).
#include <arpa/inet.h>
#include <sys/socket.h>

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "aio/errors.hpp"
#include "aio/event_loop.hpp"
#include "aio/future.hpp"
#include "aio/sockets.hpp"
#include "aio/streams.hpp"
#include "aio/task.hpp"
#include "stream_internals.hpp"

namespace aio {

namespace detail {

// --- ServerState --------------------------------------------------------------------------

void ServerState::start_serving() {
    loop_->add_reader(listener_.fd(), [this] { on_acceptable(); });
}

void ServerState::close() noexcept {
    if (closed()) return;
    try {
        loop_->remove_reader(listener_.fd());
    } catch (...) {
    }
    listener_.close();
    accept_retry_.cancel();
    if (serving_forever && !serving_forever->done()) serving_forever->cancel();
    if (finished()) wake_closed_waiters();
}

void ServerState::on_acceptable() {
    Ref<ServerState> keep(this);
    // Up to `backlog` connections per readiness event, as asyncio's _accept_connection.
    for (int i = 0; i < backlog_ && !closed(); ++i) {
        const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            const int error = errno;
            if (error == EINTR || error == ECONNABORTED) continue;
            if (would_block(error)) return;
            if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
                // Out of descriptors: stop accepting for a second rather than spin on a
                // listener that stays readable (asyncio's ACCEPT_RETRY_DELAY).
                loop_->call_exception_handler(
                    {"socket.accept() out of system resource", system_error_ptr(error, "accept"), "<Server>"});
                loop_->remove_reader(listener_.fd());
                accept_retry_ = loop_->call_later(1.0, [this] {
                    if (!closed()) start_serving();
                });
                return;
            }
            loop_->call_exception_handler({"Error on accept()", system_error_ptr(error, "accept"), "<Server>"});
            return;
        }
        Socket socket(fd);
        set_no_delay(fd);
        auto connection = make_ref<StreamConnection>(*loop_, std::move(socket), limit_, keep);
        StreamPair streams = StreamAccess::pair(std::move(connection));
        create_task(*loop_, serve_client(keep, std::move(streams)));
    }
}

// --- the handler task ---------------------------------------------------------------------

/// Counts a handler task as active until its frame goes, however it goes.
struct HandlerGuard {
    Ref<ServerState> server;
    ~HandlerGuard() { server->release_one(); }
};

Coro<void> serve_client(Ref<ServerState> server, StreamPair streams) {
    server->add_handler();
    HandlerGuard guard{server};
    std::exception_ptr error;
    bool cancelled = false;
    try {
        // The handler owns the streams (by value, in its frame): the connection closes when
        // `body`, and with it the frame, goes at the end of this block.
        Coro<void> body = server->handler()(std::move(streams.reader), std::move(streams.writer));
        co_await std::move(body);
    } catch (const CancelledError&) {
        cancelled = true;
        error = std::current_exception();
    } catch (...) {
        error = std::current_exception();
    }
    if (cancelled) std::rethrow_exception(error);
    if (error) {
        // Reported, not raised: nobody awaits this task (asyncio 3.12's done callback).
        server->loop().call_exception_handler({"Unhandled exception in client_connected_cb", error, "<Server>"});
    }
}

}  // namespace detail

// --- Server -------------------------------------------------------------------------------

Server::Server(detail::Ref<detail::ServerState> state) noexcept : state_(std::move(state)) {}

Server::Server() noexcept = default;
Server::Server(Server&& other) noexcept = default;

Server& Server::operator=(Server&& other) noexcept {
    if (this != &other) {
        if (state_) state_->close();
        state_ = std::move(other.state_);
    }
    return *this;
}

Server::~Server() {
    if (state_) state_->close();
}

detail::ServerState& Server::state() const {
    if (!state_) detail::throw_empty("Server");
    return *state_;
}

void Server::close() { state().close(); }

namespace {
Coro<void> wait_server_closed(detail::Ref<detail::ServerState> state) {
    if (state->finished()) co_return;
    auto waiting = wait_listed(state->close_waiters);
    co_await std::move(waiting);
}
}  // namespace

Coro<void> Server::wait_closed() { return wait_server_closed(detail::Ref<detail::ServerState>(&state())); }

namespace {
Coro<void> serve_server_forever(detail::Ref<detail::ServerState> state) {
    if (state->serving_forever)
        throw RuntimeError("the server is already being awaited on serve_forever()");
    if (state->closed()) throw RuntimeError("the server is closed");
    Future<void> forever(state->loop());
    state->serving_forever = forever;
    std::exception_ptr cancelled;
    try {
        co_await forever;
    } catch (...) {
        cancelled = std::current_exception();  // only a cancellation can finish `forever`
    }
    state->serving_forever.reset();
    // Closed from outside (close() cancels `forever`) or cancelled: close, then wait for the
    // connections, then raise the cancellation (asyncio's serve_forever).
    state->close();
    std::exception_ptr wait_error;
    try {
        auto waiting = wait_server_closed(state);
        co_await std::move(waiting);
    } catch (...) {
        wait_error = std::current_exception();  // a second cancellation: give up waiting
    }
    std::rethrow_exception(wait_error ? wait_error : cancelled);
}
}  // namespace

Coro<void> Server::serve_forever() {
    return serve_server_forever(detail::Ref<detail::ServerState>(&state()));
}

void Server::close_clients() {
    for (auto& connection : state().clients()) connection->close();
}
void Server::abort_clients() {
    for (auto& connection : state().clients()) connection->lose(nullptr);
}
bool Server::is_serving() const { return !state().closed(); }
std::uint16_t Server::port() const {
    const auto& s = state();
    return s.closed() ? 0 : local_port(s.listen_fd());
}
std::vector<int> Server::sockets() const {
    const auto& s = state();
    if (s.closed()) return {};
    return {s.listen_fd()};
}
std::size_t Server::active_count() const { return state().active(); }
EventLoop& Server::get_loop() const { return state().loop(); }

Coro<Server> start_server(ClientConnectedCallback handler, std::string host, std::uint16_t port,
                          std::size_t limit, int backlog) {
    if (!handler) throw ValueError("start_server: the handler is empty");
    if (limit == 0) throw ValueError("Limit cannot be <= 0");
    EventLoop& loop = get_running_loop();
    auto resolving = detail::resolve_ipv4(host, port);
    const sockaddr_in address = co_await std::move(resolving);
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
    Socket listener = listen_tcp(text, port, backlog);
    auto state = detail::make_ref<detail::ServerState>(loop, std::move(listener), std::move(handler), limit, backlog);
    state->start_serving();
    co_return detail::StreamAccess::server(std::move(state));
}

}  // namespace aio
