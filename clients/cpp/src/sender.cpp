// sender.cpp - see sender.hpp. The design is the Go reference's
// (spec/rudp.md, "How the reference sender works"): start alone, a window of
// 5, an adaptive timer, fast retransmit on duplicate acks or overdue holes,
// a tail loss probe, and with -k only the holes are repaired.
#include "sender.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <vector>

#include "log.hpp"
#include "net.hpp"

namespace rudp {

using namespace std::chrono_literals;

namespace {
constexpr int kDupThresh = 3;  // RUDP-42: the 4th identical ack; also the SACK loss threshold

Micros since(Clock::time_point t)
{
    return std::chrono::duration_cast<Micros>(Clock::now() - t);
}
}  // namespace

// ---- Chunker ----

std::string Chunker::read_up_to(std::size_t size, bool& eof)
{
    std::string buf(size, '\0');
    std::size_t got = 0;
    eof = false;
    while (got < size) {
        ssize_t n = ::read(fd_, buf.data() + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw net::os_error("cannot read the input");
        if (n == 0) {
            eof = true;
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    buf.resize(got);
    return buf;
}

void Chunker::refill()
{
    bool eof = false;
    if (index_ == 0) {  // start carries the first piece (RUDP-7)
        current_ = read_up_to(max_payload(Type::start, first_), eof);
        index_ = 1;
        if (eof) {  // the whole input fits in start: end follows, empty
            ready_.push_back({std::move(current_)});
            ready_.push_back({"", true});
            return;
        }
    }
    std::string next = read_up_to(max_payload(Type::data, first_ + index_), eof);
    ++index_;
    if (eof && next.empty()) {
        // current_ is the last piece; end carries it unless it is start's.
        if (index_ == 2) {
            ready_.push_back({std::move(current_)});
            ready_.push_back({"", true});
        } else {
            ready_.push_back({std::move(current_), true});
        }
        return;
    }
    ready_.push_back({std::move(current_)});
    if (eof)
        ready_.push_back({std::move(next), true});
    else
        current_ = std::move(next);
}

Chunker::Chunk Chunker::next()
{
    if (ready_.empty())
        refill();
    Chunk c = std::move(ready_.front());
    ready_.pop_front();
    return c;
}

// ---- RttEstimator (RFC 6298 section 2: alpha 1/8, beta 1/4, K 4) ----

void RttEstimator::sample(Micros rtt)
{
    if (!measured_) {
        srtt_ = rtt;
        rttvar_ = rtt / 2;
        measured_ = true;
        return;
    }
    Micros delta = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
    rttvar_ = (3 * rttvar_ + delta) / 4;
    srtt_ = (7 * srtt_ + rtt) / 8;
}

Micros RttEstimator::rto() const
{
    if (!measured_)
        return kInitial;
    // G, the clock granularity, taken as 1 ms.
    return std::clamp(srtt_ + std::max<Micros>(1ms, 4 * rttvar_), kMin, kMax);
}

Micros RttEstimator::overdue() const
{
    if (!measured_)
        return Micros{0};
    return srtt_ + std::max<Micros>(srtt_ / 4, 2ms);
}

// ---- Sender ----

Sender::Sender(int socket, Options options)
    : socket_(socket), options_(options), cum_(options.first_seqno), next_seq_(options.first_seqno)
{
}

void Sender::send(Chunker& input)
{
    last_progress_ = Clock::now();
    for (;;) {
        // RUDP-40: a new packet only while fewer than 5 are in flight. And
        // nothing after start until start is acked: a receiver drops what
        // arrives before start (RUDP-11), so a lost start would take the
        // rest of the window with it.
        const bool start_acked = cum_ > options_.first_seqno;
        while (!end_sent_ && window_.size() < kWindow &&
               (next_seq_ == options_.first_seqno || start_acked))
            send_new(input.next());

        Clock::time_point wake = last_progress_ + options_.give_up;
        for (const auto& t : {timer_, loss_timer_, probe_timer_})
            if (t && *t < wake)
                wake = *t;
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now());
        pollfd pfd{socket_, POLLIN, 0};
        int ready = ::poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(wait.count(), 0)));
        if (ready < 0 && errno != EINTR)
            throw net::os_error("poll");
        if (ready > 0) {
            bool done = false;
            receive_acks(done);
            if (done)
                return;
        }

        const auto now = Clock::now();
        if (now - last_progress_ >= options_.give_up)
            give_up();
        if (timer_ && now >= *timer_) {
            timer_.reset();
            on_timeout();
        }
        if (loss_timer_ && now >= *loss_timer_) {
            loss_timer_.reset();
            detect_losses();
        }
        if (probe_timer_ && now >= *probe_timer_) {
            probe_timer_.reset();
            on_probe();
        }
    }
}

void Sender::give_up() const
{
    auto seconds = std::to_string(options_.give_up.count());
    if (cum_ == options_.first_seqno)
        throw GiveUp("giving up: the receiver never acknowledged start within " + seconds +
                     " s (is it listening on that address and port?)");
    throw GiveUp("giving up: no acknowledgement progress for " + seconds + " s (" +
                 std::to_string(cum_ - options_.first_seqno) + " packets acknowledged, seqno " +
                 std::to_string(cum_) + " is not)");
}

void Sender::send_new(Chunker::Chunk chunk)
{
    if (next_seq_ == std::numeric_limits<std::uint64_t>::max())  // RUDP-3: its ack would not fit
        throw std::runtime_error("seqno space exhausted: choose a smaller start seqno");
    Type type = chunk.last                              ? Type::end    // RUDP-7: end is last
                : next_seq_ == options_.first_seqno ? Type::start  // start is first
                                                        : Type::data;
    InFlight p{next_seq_, encode(Packet{type, next_seq_, std::move(chunk.data)})};
    ++next_seq_;
    end_sent_ = chunk.last;
    ++stats_.packets;
    window_.push_back(std::move(p));
    transmit(window_.back(), "new");
}

void Sender::transmit(InFlight& p, const char* why)
{
    // A refused send only means an ICMP error came back for an earlier
    // datagram (receiver not up yet?): not fatal, the timer retries (RUDP-44).
    if (::send(socket_, p.wire.data(), p.wire.size(), 0) < 0)
        debug("send ", p.seqno, ": ", std::strerror(errno));
    ++p.transmissions;
    p.sent = Clock::now();
    ++stats_.transmissions;
    debug("sent ", p.seqno, " (", why, ", tx ", p.transmissions, ", cum ", cum_, ", rto ",
          rto_.count() / 1000, " ms)");
    if (!timer_)  // RFC 6298 (5.1)
        arm_timer();
}

void Sender::retransmit(InFlight& p, const char* why)
{
    p.marked = true;
    transmit(p, why);
    if (p.seqno == cum_)
        arm_timer();  // the repaired head gets a full timeout
}

void Sender::receive_acks(bool& done)
{
    char buf[kMaxDatagram + 1];
    for (;;) {
        ssize_t n = ::recv(socket_, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
            return;  // drained (EAGAIN), or an ICMP error (ECONNREFUSED): the timer retries
        ParseResult parsed = parse(std::string_view(buf, static_cast<std::size_t>(n)));
        const Packet* ack = std::get_if<Packet>(&parsed);
        if (!ack || !ack->is_ack()) {  // RUDP-6: drop what is not a valid ack
            debug("dropped a reply of ", n, " bytes");
            continue;
        }
        if (on_ack(*ack)) {
            done = true;
            return;
        }
    }
}

// Handles one ack or sack; true once end is acked.
bool Sender::on_ack(const Packet& ack)
{
    heard_ = true;  // the path works, whatever this ack says
    if (ack.seqno > next_seq_ || ack.seqno < cum_) {
        debug("ignored ack ", ack.seqno, " (cum ", cum_, ", next ", next_seq_, ")");
        return false;  // acks what was never sent, or stale
    }
    if (ack.seqno > cum_) {
        if (end_sent_ && ack.seqno == next_seq_) {
            debug("end acked");
            return true;  // RUDP-45
        }
        on_progress(ack.seqno);
    } else if (!window_.empty()) {
        ++dups_;
    }
    // A receiver that does not do SACK answers with plain acks; then judge
    // by duplicate acks as without -k.
    sack_acks_ = options_.sack && ack.type == Type::sack;
    if (sack_acks_)
        for (std::uint64_t s : ack.sacks)
            if (s >= cum_ && s - cum_ < window_.size())
                window_[s - cum_].sacked = true;
    detect_losses();
    return false;
}

void Sender::on_progress(std::uint64_t ack)
{
    const auto n = static_cast<std::size_t>(ack - cum_);
    // Karn's rule (RUDP-41): sample only if none of the newly acked packets
    // was ever resent; the oldest of them most likely caused the ack.
    bool clean = std::all_of(window_.begin(), window_.begin() + n,
                             [](const InFlight& p) { return p.transmissions == 1; });
    if (clean)
        rtt_.sample(since(window_.front().sent));
    // Progress also ends any backoff: the path works again (as Linux does).
    rto_ = rtt_.rto();
    window_.erase(window_.begin(), window_.begin() + n);
    cum_ = ack;
    dups_ = 0;
    last_progress_ = Clock::now();
    if (window_.empty())
        timer_.reset();  // RFC 6298 (5.2)
    else
        arm_timer();  // RFC 6298 (5.3)
    if (in_recovery_ && ack >= recover_)
        in_recovery_ = false;
}

void Sender::enter_recovery()
{
    in_recovery_ = true;
    recover_ = next_seq_;
    for (auto& p : window_)
        p.marked = false;
}

// RUDP-42, RUDP-32: resend what the acks show to be lost, without waiting
// for the timer. A packet not yet resent in this recovery episode is lost
// when packets sent after it arrived, and either there are 3 of them (the
// 3rd duplicate ack, or 3 sacked above it as in RFC 6675), or it is overdue
// (RACK): that repairs losses whose duplicate acks were themselves lost.
// Without sacks only the head can be judged; with them every hole.
void Sender::detect_losses()
{
    if (window_.empty())
        return;
    const auto now = Clock::now();
    std::optional<Clock::time_point> next_due;
    auto check = [&](InFlight& p, int evidence) {
        if (p.marked || evidence == 0)
            return;
        const auto due = p.sent + rtt_.overdue();
        if (evidence < kDupThresh && (!rtt_.measured() || now < due)) {
            if (rtt_.measured() && (!next_due || due < *next_due))
                next_due = due;
            return;
        }
        if (!in_recovery_)
            enter_recovery();
        ++stats_.fast_retransmits;
        retransmit(p, "fast");
        if (p.seqno == cum_ && rtt_.measured()) {
            // Tail loss probe: the window cannot move until the head is
            // repaired, so if this repair or its ack is lost no ack will
            // come. Probe after 2 SRTT rather than wait for the timer.
            p.probed = false;
            probe_seq_ = p.seqno;
            probe_timer_ = now + std::max<Micros>(2 * rtt_.srtt(), 10ms);
        }
    };
    if (sack_acks_) {
        int above = 0;
        for (auto it = window_.rbegin(); it != window_.rend(); ++it) {
            if (it->sacked)
                ++above;
            else
                check(*it, above);
        }
    } else {
        check(window_.front(), dups_);
    }
    if (next_due)
        loss_timer_ = next_due;
}

void Sender::on_probe()
{
    if (window_.empty())
        return;
    InFlight& p = window_.front();
    if (p.seqno != probe_seq_ || !p.marked || p.probed || since(p.sent) < 2 * rtt_.srtt())
        return;  // acked meanwhile, or repaired again since
    p.probed = true;
    ++stats_.probes;
    retransmit(p, "probe");
}

// The retransmission timer expired (RUDP-41).
void Sender::on_timeout()
{
    if (window_.empty())
        return;
    ++stats_.timeouts;
    // RFC 6298 (5.5) doubles the timeout, but only while the path is
    // silent: if acks came since the last timeout the losses are random,
    // and doubling would only stretch every later wait.
    rto_ = heard_ ? rtt_.rto() : std::min(2 * rto_, RttEstimator::kMax);
    heard_ = false;
    enter_recovery();
    dups_ = 0;
    // A whole RTO without progress: nothing is known to have arrived, so
    // resend every packet not known to be held (sacked ones never, RUDP-32).
    // A lone packet goes twice: under heavy loss a second copy nearly
    // halves the rounds that bring no ack at all.
    std::vector<InFlight*> resend;
    for (auto& p : window_)
        if (!p.sacked)
            resend.push_back(&p);
    if (resend.size() == 1)
        resend.push_back(resend.front());
    for (InFlight* p : resend)
        retransmit(*p, "timeout");
    arm_timer();  // RFC 6298 (5.6)
}

}  // namespace rudp
