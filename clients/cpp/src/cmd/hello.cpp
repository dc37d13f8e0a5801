// hello - the Hello Internet client and server (spec/hello.md).
//
//   hello client HOST PORT             say "Hello in C++", print the reply
//   hello server PORT [--challenge]    serve clients until stopped
//
// The client exits 0 once it has printed the reply, 1 with a message on
// stderr when it cannot connect or gets no reply (HELLO-7, HELLO-8). The
// server serves every connection in its own thread (HELLO-13, HELLO-14).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <exception>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../message.hpp"
#include "../net.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// HELLO-6: wait this long for the reply with the connection fully open
// before half-closing (the longest idle gap, 2 s, plus a second), so servers
// that take EOF as "client gone" still answer, and those that read until
// EOF get it.
constexpr auto kHalfCloseDelay = 3s;

// What the client is doing, for the watchdog's message.
std::atomic<const char*> g_step{"resolving the host name"};

// HELLO-8: one watchdog bounds the whole conversation. Name lookup and
// connect() can block far longer than we may wait, and have no timeout of
// their own; SIGALRM interrupts them.
extern "C" void on_alarm(int)
{
    const char* step = g_step.load();
    static const char prefix[] = "hello client: gave up after 12 s while ";
    ::write(STDERR_FILENO, prefix, sizeof prefix - 1);
    ::write(STDERR_FILENO, step, std::strlen(step));
    ::write(STDERR_FILENO, "\n", 1);
    ::_exit(1);
}

int run_client(const std::string& host, const std::string& port)
{
    net::parse_port(port);
    std::signal(SIGPIPE, SIG_IGN);  // a closed connection is an error, not a crash
    std::signal(SIGALRM, on_alarm);
    ::alarm(12);

    net::FileDescriptor sock = net::connect_tcp(host, port);
    g_step = "sending";
    const std::string message = "Hello in " + std::string(hello::kLanguage) + "\n";  // HELLO-1, HELLO-3
    hello::write_all(sock.get(), message);

    g_step = "waiting for the reply";
    const auto deadline = Clock::now() + hello::kTimeout;
    pollfd pfd{sock.get(), POLLIN, 0};
    if (::poll(&pfd, 1, std::chrono::milliseconds(kHalfCloseDelay).count()) == 0)
        ::shutdown(sock.get(), SHUT_WR);  // HELLO-6

    hello::Message reply;
    try {
        reply = hello::read_message(sock.get(), deadline);
    } catch (const hello::NoMessage& e) {
        std::cerr << "hello client: no reply from " << host << " port " << port << ": "
                  << e.what() << "\n";
        return 1;
    }
    std::cout << hello::trim(reply.bytes) << std::endl;  // HELLO-7, flushed
    return std::cout ? 0 : 1;
}

// HELLO-12: close gracefully. Send our FIN, then read and discard what the
// client still sends until it closes, for at most 2 s: closing a socket with
// unread input makes the kernel reset the connection, which can destroy the
// reply before the client has read it.
void close_gracefully(net::FileDescriptor sock)
{
    ::shutdown(sock.get(), SHUT_WR);
    const auto deadline = Clock::now() + 2s;
    char sink[512];
    for (;;) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd pfd{sock.get(), POLLIN, 0};
        if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0 ||
            ::read(sock.get(), sink, sizeof sink) <= 0)
            return;
    }
}

std::mutex g_stdout;  // one client's lines never interleave with another's

void serve(net::FileDescriptor sock, net::Endpoint peer, bool challenge)
{
    try {
        hello::Message message = hello::read_message(sock.get(), Clock::now() + hello::kTimeout);
        std::string_view text = hello::trim(message.bytes);
        {
            // HELLO-11 (and HELLO-21: the address alone on the line before),
            // flushed before we reply.
            std::lock_guard<std::mutex> lock(g_stdout);
            if (challenge)
                std::cout << peer.ip << '\n';
            std::cout << text << std::endl;
        }
        std::string reply = challenge ? hello::challenge_reply(message.bytes, hello::kLanguage)
                                      : "Goodbye in " + std::string(hello::kLanguage);
        hello::write_all(sock.get(), reply + "\n");  // HELLO-1, HELLO-4, HELLO-20
    } catch (const std::exception& e) {
        // No message: no reply (spec/hello.md, "How a receiver ends a message").
        std::cerr << "hello server: client " << peer.ip << " port " << peer.port << ": "
                  << e.what() << "\n";
    }
    close_gracefully(std::move(sock));
}

// The suite stops servers with SIGTERM (HELLO-13). As PID 1 of a container
// a process without a handler ignores it. Every line is already flushed.
extern "C" void on_stop(int) { ::_exit(0); }

int run_server(const std::string& port_text, bool challenge)
{
    const std::uint16_t port = net::parse_port(port_text);
    std::signal(SIGPIPE, SIG_IGN);  // a vanished client must not kill the server
    std::signal(SIGTERM, on_stop);
    std::signal(SIGINT, on_stop);

    net::FileDescriptor listener = net::bind_all_addresses(SOCK_STREAM, port);  // HELLO-10
    if (::listen(listener.get(), 64) != 0)
        throw net::os_error("listen on port " + port_text);
    std::cerr << "hello server: listening on port " << port
              << (challenge ? " (challenge mode)" : "") << std::endl;

    for (;;) {  // HELLO-13: until stopped
        sockaddr_storage address{};
        socklen_t length = sizeof address;
        net::FileDescriptor sock(
            ::accept(listener.get(), reinterpret_cast<sockaddr*>(&address), &length));
        if (!sock) {
            if (errno != EINTR && errno != ECONNABORTED) {
                std::cerr << "hello server: accept: " << std::strerror(errno) << "\n";
                std::this_thread::sleep_for(1s);  // e.g. out of descriptors: let threads finish
            }
            continue;
        }
        try {
            // HELLO-14: one thread per connection; nobody joins it.
            std::thread(serve, std::move(sock), net::endpoint_of(address), challenge).detach();
        } catch (const std::system_error& e) {
            std::cerr << "hello server: cannot start a thread for a client: " << e.what() << "\n";
        }
    }
}

int usage()
{
    std::cerr << "usage: hello client HOST PORT\n"
                 "       hello server PORT [--challenge]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv)
{
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 3 && args[0] == "client")
            return run_client(args[1], args[2]);
        if (args.size() == 2 && args[0] == "server")
            return run_server(args[1], false);
        if (args.size() == 3 && args[0] == "server" && args[2] == "--challenge")
            return run_server(args[1], true);
        return usage();
    } catch (const std::exception& e) {
        std::cerr << "hello " << (args.empty() ? "" : args[0]) << ": " << e.what() << "\n";
        return 1;
    }
}
