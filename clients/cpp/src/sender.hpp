// sender.hpp - the RUDP sender (spec/rudp.md RUDP-40..RUDP-46): sends a
// byte stream as start, data..., end and returns once end is acked.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>

#include "codec.hpp"

namespace rudp {

using Clock = std::chrono::steady_clock;
using Micros = std::chrono::microseconds;

// Cuts an input (a file descriptor) into payloads as large as a datagram
// allows (RUDP-46). It reads one payload ahead, because the last payload
// travels in `end` (RUDP-7), so it must be known to be last before it goes.
class Chunker {
public:
    struct Chunk {
        std::string data;
        bool last = false;  // goes out as end
    };

    Chunker(int fd, std::uint64_t first_seqno) : fd_(fd), first_(first_seqno) {}
    Chunk next();  // not after the last chunk

private:
    std::string read_up_to(std::size_t size, bool& eof);
    void refill();

    int fd_;
    std::uint64_t first_;
    std::uint64_t index_ = 0;  // packets read so far
    std::string current_;
    std::deque<Chunk> ready_;
};

// RFC 6298's retransmission timeout (RUDP-41): 500 ms until the first sample,
// then SRTT + 4 RTTVAR within [200 ms, 1 s].
class RttEstimator {
public:
    static constexpr Micros kInitial = std::chrono::milliseconds(500);  // the course's timeout
    static constexpr Micros kMin = std::chrono::milliseconds(200);      // Linux's floor
    static constexpr Micros kMax = std::chrono::seconds(1);  // keep probing in an outage (RUDP-44)

    void sample(Micros rtt);
    bool measured() const { return measured_; }
    Micros srtt() const { return srtt_; }
    Micros rto() const;  // without backoff
    // How long after its last transmission a packet counts as lost once a
    // later one has arrived: SRTT plus a quarter for reordering (RACK, RFC 8985).
    Micros overdue() const;

private:
    bool measured_ = false;
    Micros srtt_{0}, rttvar_{0};
};

class GiveUp : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Sender {
public:
    struct Options {
        bool sack = false;                       // -k (RUDP-30, RUDP-32)
        std::uint64_t first_seqno = 0;           // RUDP-7
        std::chrono::seconds give_up{60};        // RUDP-44
    };
    struct Stats {
        std::uint64_t packets = 0, transmissions = 0, fast_retransmits = 0, probes = 0,
                      timeouts = 0;
    };

    // socket: a UDP socket connected to the receiver.
    Sender(int socket, Options options);

    // Sends everything the chunker yields; returns once end is acked
    // (RUDP-45). Throws GiveUp after options.give_up without progress.
    void send(Chunker& input);

    const Stats& stats() const { return stats_; }

private:
    struct InFlight {
        std::uint64_t seqno;
        std::string wire;
        Clock::time_point sent{};
        int transmissions = 0;
        bool sacked = false;  // listed in a sack: never resent (RUDP-32)
        bool marked = false;  // resent for loss in this recovery episode
        bool probed = false;  // its repair was probed once (tail loss probe)
    };

    void send_new(Chunker::Chunk chunk);
    void transmit(InFlight& p, const char* why);
    void retransmit(InFlight& p, const char* why);
    void arm_timer() { timer_ = Clock::now() + rto_; }
    void receive_acks(bool& done);
    bool on_ack(const Packet& ack);
    void on_progress(std::uint64_t ack);
    void detect_losses();
    void enter_recovery();
    void on_timeout();
    void on_probe();
    [[noreturn]] void give_up() const;

    int socket_;
    Options options_;
    Stats stats_;

    std::deque<InFlight> window_;  // cum_ .. cum_ + size - 1, at most kWindow (RUDP-40)
    std::uint64_t cum_;            // the last cumulative ack: lowest unacked seqno
    std::uint64_t next_seq_;       // seqno of the next new packet
    bool end_sent_ = false;

    int dups_ = 0;             // duplicate acks in a row (RUDP-42)
    bool sack_acks_ = false;   // the last ack was a sack
    bool in_recovery_ = false; // between a loss repair and the ack covering recover_
    std::uint64_t recover_ = 0;

    RttEstimator rtt_;
    Micros rto_ = RttEstimator::kInitial;  // current timeout, backoff included
    bool heard_ = false;                   // an ack arrived since the last timeout
    std::optional<Clock::time_point> timer_;       // retransmission timer (RFC 6298)
    std::optional<Clock::time_point> loss_timer_;  // a suspected hole becomes overdue
    std::optional<Clock::time_point> probe_timer_; // a repaired head got no ack
    std::uint64_t probe_seq_ = 0;
    Clock::time_point last_progress_;
};

}  // namespace rudp
