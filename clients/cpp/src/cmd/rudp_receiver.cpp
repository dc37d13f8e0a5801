// rudp-receiver - receives files over UDP from RUDP senders (spec/rudp.md).
//
//   rudp-receiver [-p PORT] [-t TIMEOUT_SECONDS] [-o DIR] [-k] [-d]
//
// One socket, one thread, one transfer per source ip:port (receiver.cpp).
// Each transfer is written to "<ip>.<port>.partial" in the current directory
// (or -o DIR) and renamed to "<ip>.<port>" once its end has been delivered.
// Runs until SIGTERM or SIGINT, then exits 0 (RUDP-61).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "../log.hpp"
#include "../net.hpp"
#include "../receiver.hpp"

namespace {

volatile std::sig_atomic_t g_stopping = 0;

extern "C" void on_stop(int) { g_stopping = 1; }

rudp::Millis now()
{
    return std::chrono::duration_cast<rudp::Millis>(
        std::chrono::steady_clock::now().time_since_epoch());
}

int usage()
{
    std::cerr << "usage: rudp-receiver [-p PORT] [-t TIMEOUT_SECONDS] [-o DIR] [-k] [-d]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv)
{
    try {
        std::uint16_t port = 33122;  // RUDP-61
        rudp::Receiver::Options options;
        for (int opt; (opt = ::getopt(argc, argv, "p:t:o:kd")) != -1;) {
            switch (opt) {
            case 'p': port = net::parse_port(optarg); break;
            case 't': {
                char* end = nullptr;
                long seconds = std::strtol(optarg, &end, 10);
                if (*optarg == '\0' || *end != '\0' || seconds < 1 || seconds > 86400)
                    throw std::invalid_argument(std::string("-t: '") + optarg +
                                                "' is not a timeout in seconds (1-86400)");
                options.idle_timeout = std::chrono::seconds(seconds);
                break;
            }
            case 'o':
                if (::chdir(optarg) != 0)
                    throw net::os_error(std::string("-o ") + optarg);
                break;
            case 'k': options.sack = true; break;
            case 'd': debug_enabled = true; break;
            default: return usage();
            }
        }
        if (optind != argc)
            return usage();

        rudp::Receiver receiver(options, rudp::open_file);
        net::FileDescriptor sock = net::bind_all_addresses(SOCK_DGRAM, port);
        std::cerr << "rudp-receiver: listening on UDP port " << port
                  << (options.sack ? " (sack)" : "") << std::endl;

        // Not SA_RESTART: the signal interrupts poll(), so the loop sees it at once.
        struct sigaction stop {};
        stop.sa_handler = on_stop;
        ::sigaction(SIGTERM, &stop, nullptr);
        ::sigaction(SIGINT, &stop, nullptr);

        char buf[rudp::kMaxDatagram + 1];
        while (!g_stopping) {
            pollfd pfd{sock.get(), POLLIN, 0};
            int ready = ::poll(&pfd, 1, 200);
            // Expire first, so that a packet never revives an overdue transfer.
            receiver.expire(now());
            if (ready <= 0)
                continue;
            sockaddr_storage from{};
            socklen_t from_length = sizeof from;
            // MSG_TRUNC: n is the datagram's real size, so an oversized one is
            // seen as such (RUDP-2) rather than truncated to a valid-looking one.
            ssize_t n = ::recvfrom(sock.get(), buf, sizeof buf, MSG_TRUNC,
                                   reinterpret_cast<sockaddr*>(&from), &from_length);
            if (n < 0) {
                if (errno != EINTR)
                    std::cerr << "rudp-receiver: recvfrom: " << std::strerror(errno) << "\n";
                continue;
            }
            const net::Endpoint peer = net::endpoint_of(from);
            // A longer datagram stays longer than 1472 bytes: parse() drops it.
            std::string_view datagram(buf, std::min<std::size_t>(n, sizeof buf));
            auto ack = receiver.handle(datagram, peer.ip, peer.port, now());
            if (ack && ::sendto(sock.get(), ack->data(), ack->size(), 0,
                                reinterpret_cast<sockaddr*>(&from), from_length) < 0)
                debug("cannot send an ack to ", peer.ip, ": ", std::strerror(errno));
            else if (ack)
                debug("sent ", *ack, " to ", peer.ip, " port ", peer.port);
        }
        return 0;  // unfinished transfers keep their .partial files
    } catch (const std::exception& e) {
        std::cerr << "rudp-receiver: " << e.what() << "\n";
        return 1;
    }
}
