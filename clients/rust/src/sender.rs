//! The RUDP sender: a sliding window of 5 packets with cumulative acks,
//! an adaptive retransmission timer, fast retransmit and (with `-k`)
//! selective acks.
//!
//! One thread, no async: the loop sends what the window allows, then waits
//! for an ack with the socket's read timeout set to the next deadline (the
//! retransmission timer, the moment a packet becomes overdue for RACK, or a
//! tail loss probe).
//!
//! Losses are repaired from the acks long before the 200 ms-minimum timer
//! fires, as the suite's Go reference does (spec/rudp.md, "How the reference
//! sender works", items 3-5): RACK (RFC 8985) on the first duplicate ack once
//! the missing packet is overdue, a tail loss probe when a repaired head gets
//! no ack within 2 SRTT, and on a timeout the whole window not known to be
//! held, with backoff only on a silent path.

use crate::net::is_timeout;
use crate::packet::{self, max_payload, Kind, Packet, MAX_DATAGRAM, WINDOW};
use crate::rto::RtoEstimator;
use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// Duplicate acks that trigger a fast retransmit (RUDP-42: the 4th identical
/// ack), also the number of sacked packets above a hole that make it lost.
const DUP_THRESHOLD: u32 = 3;

/// How long to wait for an ack when no timer runs (only while input is slow).
const IDLE_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct Config {
    /// Expect `sack` answers and retransmit only the holes (RUDP-30, RUDP-32).
    pub sack: bool,
    /// Print one line per event on stderr.
    pub debug: bool,
    /// Fail after this long without any cumulative-ack progress (RUDP-44).
    pub give_up: Duration,
    /// Seqno of the `start` packet (RUDP-7).
    pub first_seq: u64,
}

/// What a transfer took, for the debug summary.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub packets: u64,
    pub bytes: u64,
    pub transmissions: u64,
    pub fast_retransmits: u64,
    pub probes: u64,
    pub timeouts: u64,
    pub srtt: Option<Duration>,
}

/// Cuts the input into the payloads of `start`, `data`... `end` (RUDP-7),
/// each as large as a datagram allows (RUDP-46). `start` carries the first
/// payload and `end` the last one, so an empty input is an empty `start`
/// followed by an empty `end`.
pub struct Segmenter<R> {
    input: R,
    started: bool,
    ended: bool,
}

impl<R: BufRead> Segmenter<R> {
    pub fn new(input: R) -> Self {
        Segmenter { input, started: false, ended: false }
    }

    /// The kind and payload of packet `seq`, the next one; `None` after `end`.
    pub fn next(&mut self, seq: u64) -> io::Result<Option<(Kind, Vec<u8>)>> {
        if self.ended {
            return Ok(None);
        }
        if !self.started {
            self.started = true;
            return Ok(Some((Kind::Start, self.read_up_to(max_payload(Kind::Start, seq))?)));
        }
        // `end` has a shorter name than `data`, so a `data`-sized payload fits it.
        let payload = self.read_up_to(max_payload(Kind::Data, seq))?;
        // The last payload travels in `end`: peek whether any input is left.
        if self.input.fill_buf()?.is_empty() {
            self.ended = true;
            Ok(Some((Kind::End, payload)))
        } else {
            Ok(Some((Kind::Data, payload)))
        }
    }

    /// Reads `limit` bytes, or fewer at the end of the input.
    fn read_up_to(&mut self, limit: usize) -> io::Result<Vec<u8>> {
        let mut payload = Vec::with_capacity(limit);
        self.input.by_ref().take(limit as u64).read_to_end(&mut payload)?;
        Ok(payload)
    }
}

/// A packet sent but not yet cumulatively acked.
struct InFlight {
    seq: u64,
    wire: Vec<u8>,
    sent_at: Instant,   // last transmission
    transmissions: u32, // Karn's rule: measure the RTT only when this is 1
    sacked: bool,       // the receiver holds it (listed in a sack)
    repaired: bool,     // retransmitted in the current recovery episode
    probed: bool,       // its repair was probed once (tail loss probe)
}

/// Sends everything in `input` to the peer `socket` is connected to, and
/// returns once `end` is acked (RUDP-45), or fails after `config.give_up`
/// without progress (RUDP-44).
pub fn send<R: BufRead>(socket: &UdpSocket, input: R, config: &Config) -> io::Result<Stats> {
    let mut sender = Sender::new(socket, input, config, Instant::now());
    sender.run()?;
    sender.stats.srtt = sender.rto.srtt();
    Ok(sender.stats)
}

struct Sender<'a, R> {
    socket: &'a UdpSocket,
    config: &'a Config,
    segments: Segmenter<R>,
    window: VecDeque<InFlight>, // seqnos cum .. cum+len-1, at most WINDOW of them
    cum: u64,                   // lowest unacked seqno: the last cumulative ack
    next_seq: u64,              // seqno of the next new packet
    end_sent: bool,
    dups: u32,                    // duplicate acks in a row (RUDP-42)
    sack_acks: bool,              // the last ack was a sack (else judge by duplicate acks)
    recovery: Option<u64>,        // while repairing a loss: next_seq when it began (NewReno)
    rto: RtoEstimator,            // RUDP-41
    timer: Option<Instant>,       // when the retransmission timer fires
    rack_timer: Option<Instant>,  // when a packet with later ones acked becomes overdue (RACK)
    probe_timer: Option<Instant>, // when a repaired head that got no ack is sent again (TLP)
    heard: bool,                  // an ack arrived since the last timeout
    last_progress: Instant,       // last time the cumulative ack advanced (RUDP-44)
    stats: Stats,
}

impl<'a, R: BufRead> Sender<'a, R> {
    fn new(socket: &'a UdpSocket, input: R, config: &'a Config, now: Instant) -> Self {
        Sender {
            socket,
            config,
            segments: Segmenter::new(input),
            window: VecDeque::new(),
            cum: config.first_seq,
            next_seq: config.first_seq,
            end_sent: false,
            dups: 0,
            sack_acks: false,
            recovery: None,
            rto: RtoEstimator::new(),
            timer: None,
            rack_timer: None,
            probe_timer: None,
            heard: false,
            last_progress: now,
            stats: Stats::default(),
        }
    }

    /// The loop: send what the window allows, wait for an ack or the next
    /// deadline, handle it. Every step below takes the time as an argument
    /// instead of reading the clock, so the unit tests can play them out
    /// with made-up times.
    fn run(&mut self) -> io::Result<()> {
        let mut buf = [0u8; MAX_DATAGRAM + 1];
        loop {
            self.fill_window(Instant::now())?;
            if self.end_sent && self.window.is_empty() {
                return Ok(()); // the ack for end arrived (RUDP-45)
            }
            let now = Instant::now();
            if now.duration_since(self.last_progress) >= self.config.give_up {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "no acknowledgement progress for {} s (cumulative ack {}, {} packets acked): giving up",
                        self.config.give_up.as_secs(),
                        self.cum,
                        self.cum - self.config.first_seq
                    ),
                ));
            }
            let wake = self.deadline().unwrap_or(now + IDLE_WAIT).min(self.last_progress + self.config.give_up);
            let wait = wake.saturating_duration_since(now).max(Duration::from_millis(1));
            self.socket.set_read_timeout(Some(wait))?;
            match self.socket.recv(&mut buf) {
                Ok(n) => self.on_datagram(&buf[..n], Instant::now()),
                Err(e) if is_timeout(&e) => {}
                // ICMP "port unreachable": the receiver is not (yet) there. Keep
                // trying, as during any blackout (RUDP-44).
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(io::Error::new(e.kind(), format!("waiting for acks: {e}"))),
            }
            self.on_time(Instant::now());
        }
    }

    /// The earliest of the three timers, if any runs.
    fn deadline(&self) -> Option<Instant> {
        [self.timer, self.rack_timer, self.probe_timer].iter().flatten().min().copied()
    }

    /// Runs the timers that are due at `now`.
    fn on_time(&mut self, now: Instant) {
        if self.rack_timer.map_or(false, |t| now >= t) {
            self.detect_losses(now); // a suspected loss is overdue now (RACK)
        }
        if self.probe_timer.map_or(false, |t| now >= t) {
            self.on_probe(now);
        }
        if self.timer.map_or(false, |t| now >= t) {
            self.on_timeout(now);
        }
    }

    /// Sends new packets while fewer than WINDOW are unacked (RUDP-40). Until
    /// `start` is acked only `start` is sent: a receiver drops whatever arrives
    /// before it (RUDP-11), so a lost `start` would take the window with it.
    fn fill_window(&mut self, now: Instant) -> io::Result<()> {
        let window = if self.cum == self.config.first_seq { 1 } else { WINDOW };
        while !self.end_sent && self.next_seq < self.cum.saturating_add(window) {
            let seq = self.next_seq;
            if seq == u64::MAX {
                // RUDP-3: the ack after this packet would not fit in 64 bits.
                return Err(io::Error::new(io::ErrorKind::Other, "seqno space exhausted"));
            }
            let next =
                self.segments.next(seq).map_err(|e| io::Error::new(e.kind(), format!("reading the input: {e}")))?;
            let (kind, payload) = match next {
                Some(next) => next,
                None => break,
            };
            self.end_sent = kind == Kind::End;
            self.next_seq += 1;
            self.stats.packets += 1;
            self.stats.bytes += payload.len() as u64;
            self.window.push_back(InFlight {
                seq,
                wire: packet::encode_segment(kind, seq, &payload),
                sent_at: now,
                transmissions: 0,
                sacked: false,
                repaired: false,
                probed: false,
            });
            self.transmit(self.window.len() - 1, "new", now);
        }
        Ok(())
    }

    fn transmit(&mut self, index: usize, why: &str, now: Instant) {
        let p = &mut self.window[index];
        if let Err(e) = self.socket.send(&p.wire) {
            // Not fatal (e.g. ICMP unreachable from an earlier datagram): the
            // timer retransmits.
            crate::debug!(self.config.debug, "send {}: {e}", p.seq);
        }
        p.transmissions += 1;
        p.sent_at = now;
        self.stats.transmissions += 1;
        crate::debug!(self.config.debug, "-> {} ({why}, try {}, rto {:?})", p.seq, p.transmissions, self.rto.rto());
        if self.timer.is_none() {
            self.timer = Some(now + self.rto.rto()); // RFC 6298 (5.1)
        }
    }

    fn retransmit(&mut self, index: usize, why: &str, now: Instant) {
        self.window[index].repaired = true;
        self.transmit(index, why, now);
        if index == 0 {
            self.timer = Some(now + self.rto.rto()); // the repaired head gets a full timeout
        }
    }

    fn on_datagram(&mut self, datagram: &[u8], now: Instant) {
        let ack = match packet::parse(datagram) {
            Ok(p) if matches!(p.kind, Kind::Ack | Kind::Sack) => p,
            Ok(p) => {
                crate::debug!(self.config.debug, "dropped a {} packet", p.kind.as_str());
                return;
            }
            Err(e) => {
                crate::debug!(self.config.debug, "dropped an ack: {e}"); // RUDP-8
                return;
            }
        };
        crate::debug!(self.config.debug, "<- {} {} {:?}", ack.kind.as_str(), ack.seq, ack.sacks);
        self.heard = true; // the path works, whatever this ack says
        if ack.seq > self.next_seq || ack.seq < self.cum {
            return; // acks something never sent (bogus) or older than we know (reordered)
        }
        if ack.seq > self.cum {
            self.on_progress(ack.seq, now);
        } else if !self.window.is_empty() {
            self.dups += 1;
        }
        // A receiver without SACK answers with plain acks even with -k: then
        // judge by duplicate acks, as without SACK.
        self.sack_acks = self.config.sack && ack.kind == Kind::Sack;
        if self.sack_acks {
            self.mark_sacked(&ack);
        }
        self.detect_losses(now);
    }

    /// The cumulative ack advanced from `self.cum` to `ack`.
    fn on_progress(&mut self, ack: u64, now: Instant) {
        let acked: Vec<InFlight> = self.window.drain(..(ack - self.cum) as usize).collect();
        // Karn's rule (RUDP-41): no sample if any newly acked packet was sent
        // twice, since the ack may be for either copy. The oldest one's time
        // errs on the long side, the safe side for a timeout.
        if acked.iter().all(|p| p.transmissions == 1) {
            self.rto.sample(now.saturating_duration_since(acked[0].sent_at));
        }
        self.cum = ack;
        self.dups = 0;
        self.last_progress = now;
        self.rto.reset_backoff();
        self.timer = if self.window.is_empty() { None } else { Some(now + self.rto.rto()) };
        if self.recovery.map_or(false, |recover| ack >= recover) {
            self.recovery = None; // everything sent before the loss is acked
        }
        // After a partial ack (still in recovery) new packets go out; their
        // duplicate acks expose the next hole, which is overdue by then, so
        // detect_losses repairs it within about a round trip. Resending it at
        // once (NewReno) would save little and looks, on the wire, like a
        // timer firing far too early.
    }

    fn enter_recovery(&mut self) {
        self.recovery = Some(self.next_seq);
        for p in &mut self.window {
            p.repaired = false;
        }
    }

    fn mark_sacked(&mut self, ack: &Packet) {
        // The head (seqno cum) cannot be held: the ack would have moved past it.
        for &seq in ack.sacks.iter().filter(|&&seq| seq != self.cum) {
            if let Some(p) = self.window.iter_mut().find(|p| p.seq == seq) {
                p.sacked = true;
            }
        }
    }

    /// Loss detection after every ack, so that losses are repaired without
    /// waiting for the timer (RUDP-42, RUDP-32). A packet the receiver is not
    /// known to hold is lost when packets sent after it are known to have
    /// arrived (duplicate acks, or sacked packets above it), and either
    /// - three of them did: the 4th identical ack, or 3 sacked above it (RFC
    ///   6675); or
    /// - at least one did and it has been out longer than a round trip plus a
    ///   margin for reordering (RACK, RFC 8985). With a window of 5 there are
    ///   often fewer than 3 duplicates, or they were lost too.
    ///
    /// Each packet is resent this way once per recovery episode; if that
    /// repair is lost too, the tail loss probe or the timer resends it.
    /// Sacked packets are never resent (RUDP-32).
    fn detect_losses(&mut self, now: Instant) {
        let reorder_window = self.reorder_window();
        self.rack_timer = None;
        let mut sacked_above = 0;
        for i in (0..self.window.len()).rev() {
            let p = &self.window[i];
            if p.sacked {
                sacked_above += 1;
                continue;
            }
            // Without sacks only the head can be judged: duplicate acks say
            // that something after the head arrived, not what.
            let evidence = if !self.sack_acks && i == 0 { self.dups } else { sacked_above };
            if evidence == 0 || p.repaired {
                continue;
            }
            let due = reorder_window.map(|w| p.sent_at + w);
            let overdue = due.map_or(false, |due| now >= due);
            if evidence >= DUP_THRESHOLD || overdue {
                if self.recovery.is_none() {
                    self.enter_recovery();
                }
                self.stats.fast_retransmits += 1;
                self.retransmit(i, if overdue { "overdue (RACK)" } else { "fast retransmit" }, now);
                if i == 0 {
                    self.arm_probe(now);
                }
            } else if let Some(due) = due {
                // Look again when it will be overdue, even if no ack comes.
                self.rack_timer = Some(self.rack_timer.map_or(due, |t| t.min(due)));
            }
        }
    }

    /// RACK's reordering window (RFC 8985): how long a packet may still arrive
    /// after a later one did, SRTT plus a quarter of it (at least 2 ms). None
    /// before the first RTT sample: then only the duplicate-ack rule applies.
    fn reorder_window(&self) -> Option<Duration> {
        self.rto.srtt().map(|srtt| srtt + (srtt / 4).max(Duration::from_millis(2)))
    }

    /// The probe timeout: two smoothed RTTs, at least 10 ms (as the reference).
    fn probe_timeout(&self) -> Option<Duration> {
        self.rto.srtt().map(|srtt| (srtt * 2).max(Duration::from_millis(10)))
    }

    /// Tail loss probe (RFC 8985 section 7): the head was just repaired. The
    /// window cannot move until it arrives, so if the repair or its ack is
    /// lost no further ack comes, and the timer would cost 200 ms or more
    /// (RUDP-41). Probe after 2 SRTT instead.
    fn arm_probe(&mut self, now: Instant) {
        if let Some(pto) = self.probe_timeout() {
            self.window[0].probed = false;
            self.probe_timer = Some(now + pto);
        }
    }

    /// The probe timer fired: send the repaired head once more if no ack
    /// covered it. Its ack (or the duplicate ack it causes) restarts the ack
    /// clock whether the repair or only its ack was lost.
    fn on_probe(&mut self, now: Instant) {
        self.probe_timer = None;
        let pto = match self.probe_timeout() {
            Some(pto) => pto,
            None => return,
        };
        match self.window.front() {
            // Not if it was acked meanwhile (a new head) or sent again since.
            Some(p) if p.repaired && !p.probed && now.saturating_duration_since(p.sent_at) >= pto => {}
            _ => return,
        }
        self.window[0].probed = true;
        self.stats.probes += 1;
        self.retransmit(0, "tail loss probe", now);
    }

    /// The retransmission timer fired (RUDP-41). A whole RTO without progress
    /// says nothing is known to have arrived, so, as TCP does after a timeout
    /// (RFC 6675 5.1), resend every unacked packet the receiver is not known
    /// to hold (RUDP-32); without SACK that is the whole window, as in the
    /// course's Go-Back-N sender.
    fn on_timeout(&mut self, now: Instant) {
        self.timer = None;
        if self.window.is_empty() {
            return;
        }
        self.stats.timeouts += 1;
        // RFC 6298 (5.5) doubles the RTO. Only while the path is silent,
        // though: acks (even duplicates) since the last timeout mean the
        // losses are random, not an outage, and doubling would only stretch
        // every later wait (at 50 % loss most rounds fail).
        if self.heard {
            self.rto.reset_backoff();
        } else {
            self.rto.back_off();
        }
        self.heard = false;
        self.dups = 0;
        self.enter_recovery();
        let resend: Vec<usize> = (0..self.window.len()).filter(|&i| !self.window[i].sacked).collect();
        for &i in &resend {
            self.retransmit(i, "timeout", now);
        }
        if resend.len() == 1 {
            // A lone packet (a last SACK hole, or the last packet) goes twice:
            // its repair needs it and one ack to get through, and under heavy
            // loss a second copy nearly halves the rounds that bring no ack.
            // That also keeps the receiver from timing out the transfer.
            self.retransmit(resend[0], "timeout, second copy", now);
        }
        self.timer = Some(now + self.rto.rto()); // RFC 6298 (5.6)
    }
}

/// The loss-repair rules, played out packet by packet. The sender talks to
/// a socket on loopback, from which each test reads what it sent; acks are
/// handed to it directly, at made-up times, so nothing sleeps and the
/// tests are exact on any machine.
#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The receiver's end of the wire: the seqnos sent since the last call.
    struct Wire(UdpSocket);

    impl Wire {
        fn sent(&self) -> Vec<u64> {
            let mut buf = [0u8; MAX_DATAGRAM + 1];
            let mut seqs = Vec::new();
            while let Ok(n) = self.0.recv(&mut buf) {
                seqs.push(packet::parse(&buf[..n]).expect("a valid datagram").seq);
            }
            seqs
        }
    }

    fn sockets() -> (UdpSocket, Wire) {
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_nonblocking(true).unwrap();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.connect(peer.local_addr().unwrap()).unwrap();
        (socket, Wire(peer))
    }

    fn config(sack: bool) -> Config {
        Config { sack, debug: false, give_up: Duration::from_secs(60), first_seq: 0 }
    }

    type TestSender<'a> = Sender<'a, Cursor<Vec<u8>>>;

    /// 20 full packets of input. `start` (seqno 0) goes out at t0 and is
    /// acked at 10 ms (SRTT 10 ms); then 1..5 go out at 10 ms.
    fn started<'a>(socket: &'a UdpSocket, wire: &Wire, config: &'a Config, t0: Instant) -> TestSender<'a> {
        let mut s = Sender::new(socket, Cursor::new(vec![b'x'; 20 * 1400]), config, t0);
        s.fill_window(t0).unwrap();
        assert_eq!(wire.sent(), [0], "start goes alone (RUDP-11)");
        ack(&mut s, 1, t0 + ms(10));
        s.fill_window(t0 + ms(10)).unwrap();
        assert_eq!(wire.sent(), [1, 2, 3, 4, 5], "a window of 5 (RUDP-40)");
        s
    }

    fn ack(s: &mut TestSender, next: u64, at: Instant) {
        s.on_datagram(&packet::encode_ack(next, None), at);
    }

    fn sack(s: &mut TestSender, next: u64, held: &[u64], at: Instant) {
        s.on_datagram(&packet::encode_ack(next, Some(held)), at);
    }

    #[test]
    fn rtt_sample_and_the_200_ms_floor() {
        let (socket, wire) = sockets();
        let config = config(false);
        let t0 = Instant::now();
        let s = started(&socket, &wire, &config, t0);
        assert_eq!(s.rto.srtt(), Some(ms(10)));
        assert_eq!(s.timer, Some(t0 + ms(10) + ms(200)));
    }

    #[test]
    fn third_duplicate_ack_resends_at_once_and_only_once() {
        let (socket, wire) = sockets();
        let config = config(false);
        let t0 = Instant::now();
        let mut s = started(&socket, &wire, &config, t0);
        ack(&mut s, 1, t0 + ms(11));
        ack(&mut s, 1, t0 + ms(11));
        assert!(wire.sent().is_empty(), "2 duplicates 1 ms after sending: not yet");
        ack(&mut s, 1, t0 + ms(11));
        assert_eq!(wire.sent(), [1], "RUDP-42: the 3rd duplicate");
        ack(&mut s, 1, t0 + ms(11));
        assert!(wire.sent().is_empty(), "once per recovery episode");
    }

    #[test]
    fn rack_resends_on_one_duplicate_once_overdue() {
        let (socket, wire) = sockets();
        let config = config(false);
        let t0 = Instant::now();
        let mut s = started(&socket, &wire, &config, t0);
        ack(&mut s, 1, t0 + ms(12)); // 2 arrived, 1 did not
        assert!(wire.sent().is_empty());
        // Overdue at SRTT + max(SRTT/4, 2 ms) after sending: 10 + 12.5 ms, long before the RTO.
        assert_eq!(s.deadline(), Some(t0 + ms(10) + Duration::from_micros(12_500)));
        s.on_time(t0 + ms(22));
        assert!(wire.sent().is_empty());
        s.on_time(t0 + ms(23));
        assert_eq!(wire.sent(), [1]);
        assert_eq!((s.stats.fast_retransmits, s.stats.timeouts), (1, 0));
    }

    #[test]
    fn tail_loss_probe_after_two_srtt_once() {
        let (socket, wire) = sockets();
        let config = config(false);
        let t0 = Instant::now();
        let mut s = started(&socket, &wire, &config, t0);
        ack(&mut s, 1, t0 + ms(12));
        s.on_time(t0 + ms(23));
        assert_eq!(wire.sent(), [1]);
        assert_eq!(s.probe_timer, Some(t0 + ms(43)), "2 SRTT after the repair");
        s.on_time(t0 + ms(42));
        assert!(wire.sent().is_empty());
        s.on_time(t0 + ms(43));
        assert_eq!(wire.sent(), [1], "no ack came: the repair is probed");
        s.on_time(t0 + ms(100));
        assert!(wire.sent().is_empty(), "only once; then it is the timer's turn");
        ack(&mut s, 6, t0 + ms(101));
        assert_eq!((s.cum, s.timer, s.recovery), (6, None, None));
    }

    #[test]
    fn no_probe_once_the_repair_is_acked() {
        let (socket, wire) = sockets();
        let config = config(false);
        let t0 = Instant::now();
        let mut s = started(&socket, &wire, &config, t0);
        ack(&mut s, 1, t0 + ms(12));
        s.on_time(t0 + ms(23));
        assert_eq!(wire.sent(), [1]);
        ack(&mut s, 6, t0 + ms(30));
        s.on_time(t0 + ms(43));
        assert!(wire.sent().is_empty());
    }

    #[test]
    fn timeout_resends_the_window_and_backs_off_only_on_a_silent_path() {
        let (socket, wire) = sockets();
        let config = config(false);
        let t0 = Instant::now();
        let mut s = started(&socket, &wire, &config, t0);
        ack(&mut s, 3, t0 + ms(20)); // 3, 4 and 5 are lost, and their acks
        s.fill_window(t0 + ms(20)).unwrap();
        assert_eq!(wire.sent(), [6, 7]);
        let rto = s.rto.rto();
        s.on_time(s.timer.unwrap());
        assert_eq!(wire.sent(), [3, 4, 5, 6, 7], "every packet not acked, none acked (RUDP-43)");
        assert_eq!(s.rto.rto(), rto, "an ack came since: no doubling");
        s.on_time(s.timer.unwrap());
        assert_eq!(wire.sent(), [3, 4, 5, 6, 7]);
        assert_eq!(s.rto.rto(), 2 * rto, "a silent path: RFC 6298 (5.5)");
        ack(&mut s, 4, t0 + ms(1000));
        assert_eq!(s.rto.rto(), rto, "progress ends the backoff");
    }

    #[test]
    fn karn_no_sample_from_a_resent_packet() {
        let (socket, wire) = sockets();
        let config = config(false);
        let t0 = Instant::now();
        let mut s = started(&socket, &wire, &config, t0);
        for _ in 0..3 {
            ack(&mut s, 1, t0 + ms(11));
        }
        assert_eq!(wire.sent(), [1]);
        ack(&mut s, 6, t0 + ms(500));
        assert_eq!(s.rto.srtt(), Some(ms(10)));
    }

    #[test]
    fn sack_resends_only_the_holes() {
        let (socket, wire) = sockets();
        let config = config(true);
        let t0 = Instant::now();
        let mut s = started(&socket, &wire, &config, t0);
        sack(&mut s, 1, &[2, 4, 5], t0 + ms(11));
        assert_eq!(wire.sent(), [1], "3 held above 1 (RFC 6675)");
        s.on_time(t0 + ms(23));
        assert_eq!(wire.sent(), [3], "2 held above 3, and it is overdue (RACK)");
        s.on_time(t0 + ms(31));
        assert_eq!(wire.sent(), [1], "the repaired head, probed after 2 SRTT");
        s.on_time(s.timer.unwrap());
        assert_eq!(wire.sent(), [1, 3], "RUDP-32: never a held packet");
    }

    #[test]
    fn sack_mode_with_a_plain_ack_receiver() {
        let (socket, wire) = sockets();
        let config = config(true);
        let t0 = Instant::now();
        let mut s = started(&socket, &wire, &config, t0);
        for _ in 0..3 {
            ack(&mut s, 1, t0 + ms(11));
        }
        assert_eq!(wire.sent(), [1], "judged by duplicate acks");
    }
}
