// rudp-sender - sends a file over UDP to an RUDP receiver (spec/rudp.md).
//
//   rudp-sender -a HOST -p PORT [-f FILE] [-k] [-d] [-s START_SEQNO] [-g GIVE_UP_SECONDS]
//
// Reads FILE (standard input without -f), exits 0 once the receiver has
// acknowledged end, 1 with a message on stderr when it fails (RUDP-45,
// RUDP-60).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <iostream>
#include <optional>
#include <random>
#include <string>

#include "../log.hpp"
#include "../net.hpp"
#include "../sender.hpp"

namespace {

std::uint64_t parse_number(const char* text, std::uint64_t max, const char* flag)
{
    std::size_t used = 0;
    std::uint64_t value = 0;
    try {
        if (*text >= '0' && *text <= '9')
            value = std::stoull(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || text[used] != '\0' || value > max)
        throw std::invalid_argument(std::string(flag) + ": '" + text +
                                    "' is not a number from 0 to " + std::to_string(max));
    return value;
}

int usage()
{
    std::cerr << "usage: rudp-sender -a HOST -p PORT [-f FILE] [-k] [-d] [-s START_SEQNO] "
                 "[-g GIVE_UP_SECONDS]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv)
{
    try {
        std::string host, port;
        std::optional<std::string> file;
        std::optional<std::uint64_t> first;
        rudp::Sender::Options options;
        for (int opt; (opt = ::getopt(argc, argv, "a:p:f:kds:g:")) != -1;) {
            switch (opt) {
            case 'a': host = optarg; break;
            case 'p': port = optarg; break;
            case 'f': file = optarg; break;
            case 'k': options.sack = true; break;
            case 'd': debug_enabled = true; break;
            case 's': first = parse_number(optarg, UINT64_MAX / 2, "-s"); break;
            case 'g':
                options.give_up = std::chrono::seconds(parse_number(optarg, 86400, "-g"));
                if (options.give_up.count() == 0)
                    throw std::invalid_argument("-g: give up after at least 1 second");
                break;
            default: return usage();
            }
        }
        if (host.empty() || port.empty() || optind != argc)
            return usage();
        net::parse_port(port);

        // RUDP-60: -f FILE, else standard input.
        net::FileDescriptor input(file ? ::open(file->c_str(), O_RDONLY) : ::dup(STDIN_FILENO));
        if (!input)
            throw net::os_error("cannot open " + file.value_or("standard input"));

        // RUDP-18: a random start seqno makes a mix-up with an older transfer
        // from the same port practically impossible. Below 10^9, so that
        // receivers keeping seqnos in a 32-bit int cope too.
        std::random_device entropy;
        options.first_seqno =
            first.value_or(std::uniform_int_distribution<std::uint64_t>(0, 999'999'999)(entropy));

        net::FileDescriptor sock = net::connect_udp(host, port);
        rudp::Chunker chunks(input.get(), options.first_seqno);
        rudp::Sender sender(sock.get(), options);
        const auto began = std::chrono::steady_clock::now();
        sender.send(chunks);

        const auto& s = sender.stats();
        debug("done in ",
              std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - began)
                  .count(),
              " ms: ", s.packets, " packets, ", s.transmissions, " transmissions, ",
              s.fast_retransmits, " fast retransmits, ", s.probes, " probes, ", s.timeouts,
              " timeouts");
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "rudp-sender: " << e.what() << "\n";
        return 1;
    }
}
