// receiver.hpp - the RUDP receiver's protocol logic (spec/rudp.md
// RUDP-8..RUDP-18, RUDP-30, RUDP-31): one transfer per source address.
//
// It does no network I/O and reads no clock: the caller hands in each
// datagram with its source and the time, and sends back the ack it gets.
// That is how the tests drive it with spec/vectors/receiver.json.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "codec.hpp"

namespace rudp {

using Millis = std::chrono::milliseconds;

// Where one transfer's bytes go, in order.
class Output {
public:
    virtual ~Output() = default;
    virtual void write(std::string_view bytes) = 0;
    // Every byte is written: make the result final (RUDP-14). Throws on failure.
    virtual void complete() = 0;
};

// Makes the output of a new transfer, given the name derived from its source.
using OutputFactory = std::function<std::unique_ptr<Output>(const std::string& name)>;

// Writes "<name>.partial" in the current directory and renames it to
// "<name>" once complete (RUDP-15, MANIFEST-11).
std::unique_ptr<Output> open_file(const std::string& name);

// RUDP-16: the output name comes only from the source address, never from a
// datagram: the IP with anything but [A-Za-z0-9.-] replaced by '_' (so the
// ':' of IPv6 goes), a dot, and the port, e.g. "172.18.0.3.41234".
std::string output_name(const std::string& ip, std::uint16_t port);

class Receiver {
public:
    struct Options {
        bool sack = false;           // -k: answer with sacks (RUDP-30)
        Millis idle_timeout{10000};  // -t (RUDP-15)
    };

    Receiver(Options options, OutputFactory make_output);

    // Handle one datagram from ip:port that arrived at `now`. Returns the ack
    // to send back to it, or nothing when the datagram is dropped silently.
    std::optional<std::string> handle(std::string_view datagram, const std::string& ip,
                                      std::uint16_t port, Millis now);

    // RUDP-15: forget the transfers that have been idle for the timeout.
    void expire(Millis now);

    std::size_t transfers() const { return transfers_.size(); }

private:
    struct Held {  // an out-of-order packet buffered inside the window
        Type type;
        std::string data;
    };
    struct Transfer {
        std::string name;
        std::uint64_t start_seqno = 0;
        std::string start_data;
        std::uint64_t next_expected = 0;  // RUDP-13: every ack carries it
        bool complete = false;
        std::unique_ptr<Output> output;
        Millis last_heard{0};
        std::map<std::uint64_t, Held> held;  // at most kWindow - 1 entries (RUDP-12)
    };

    Transfer* begin(const std::string& key, const std::string& name, Packet&& start);
    void accept(Transfer& t, Packet&& p);
    std::string ack_for(const Transfer& t) const;

    Options options_;
    OutputFactory make_output_;
    std::map<std::string, Transfer> transfers_;  // by "ip|port"
};

}  // namespace rudp
