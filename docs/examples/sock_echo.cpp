// Chapter 8: the low-level socket coroutines (asyncio's loop.sock_accept, sock_connect,
// sock_recv, sock_sendall). Each tries the system call first; only when the socket would
// block does it register a reader or writer on the loop and await readiness.
#include <aio/aio.hpp>

#include <cctype>
#include <cstdio>
#include <string>

aio::Coro<void> serve_one(int listen_fd) {
    aio::Socket client(co_await aio::sock_accept(listen_fd));  // waits until a client connects
    std::string text = co_await aio::sock_recv(client.fd(), 1024);  // waits until bytes arrive
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    co_await aio::sock_sendall(client.fd(), text);
}  // `client` closes the connection

aio::Coro<void> main_coro() {
    aio::Socket listener = aio::listen_tcp("127.0.0.1", 0);  // port 0: the system picks one
    auto server = aio::create_task(serve_one(listener.fd()));

    aio::Socket socket = aio::tcp_socket();  // non-blocking, as every sock_* call requires
    co_await aio::sock_connect(socket.fd(), aio::ipv4_address("127.0.0.1", aio::local_port(listener.fd())));
    co_await aio::sock_sendall(socket.fd(), "hello");
    std::string reply = co_await aio::sock_recv(socket.fd(), 1024);
    std::string end = co_await aio::sock_recv(socket.fd(), 1024);  // "" : the server closed
    co_await server;
    std::printf("reply '%s', then EOF: %s\n", reply.c_str(), end.empty() ? "yes" : "no");
}

int main() { aio::run(main_coro()); }
