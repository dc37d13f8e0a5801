//! The RUDP sender: a sliding window of 5 packets with cumulative acks,
//! an adaptive retransmission timer, fast retransmit and (with `-k`)
//! selective acks.
//!
//! One thread, no async: the loop sends what the window allows, then waits
//! for an ack with the socket's read timeout set to the next deadline (the
//! retransmission timer, or the moment a packet becomes overdue for RACK).

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
}

/// Sends everything in `input` to the peer `socket` is connected to, and
/// returns once `end` is acked (RUDP-45), or fails after `config.give_up`
/// without progress (RUDP-44).
pub fn send<R: BufRead>(socket: &UdpSocket, input: R, config: &Config) -> io::Result<Stats> {
    let mut sender = Sender {
        socket,
        config,
        segments: Segmenter::new(input),
        window: VecDeque::new(),
        cum: config.first_seq,
        next_seq: config.first_seq,
        end_sent: false,
        dups: 0,
        recovery: None,
        rto: RtoEstimator::new(),
        timer: None,
        rack_timer: None,
        heard: false,
        last_progress: Instant::now(),
        stats: Stats::default(),
    };
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
    dups: u32,                   // duplicate acks in a row (RUDP-42)
    recovery: Option<u64>,       // while repairing a loss: next_seq when it began (NewReno)
    rto: RtoEstimator,           // RUDP-41
    timer: Option<Instant>,      // when the retransmission timer fires
    rack_timer: Option<Instant>, // when a packet with later ones acked becomes overdue (RACK)
    heard: bool,                 // an ack arrived since the last timeout
    last_progress: Instant,      // last time the cumulative ack advanced (RUDP-44)
    stats: Stats,
}

impl<R: BufRead> Sender<'_, R> {
    fn run(&mut self) -> io::Result<()> {
        let mut buf = [0u8; MAX_DATAGRAM + 1];
        loop {
            self.fill_window()?;
            if self.end_sent && self.window.is_empty() {
                return Ok(()); // the ack for end arrived (RUDP-45)
            }
            if self.last_progress.elapsed() >= self.config.give_up {
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
            let now = Instant::now();
            let wake = [self.timer, self.rack_timer, Some(self.last_progress + self.config.give_up)]
                .iter()
                .flatten()
                .min()
                .copied()
                .unwrap_or(now + IDLE_WAIT);
            let wait = wake.saturating_duration_since(now).max(Duration::from_millis(1));
            self.socket.set_read_timeout(Some(wait))?;
            match self.socket.recv(&mut buf) {
                Ok(n) => self.on_datagram(&buf[..n]),
                Err(e) if is_timeout(&e) => {}
                // ICMP "port unreachable": the receiver is not (yet) there. Keep
                // trying, as during any blackout (RUDP-44).
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(io::Error::new(e.kind(), format!("waiting for acks: {e}"))),
            }
            if self.rack_timer.map_or(false, |t| Instant::now() >= t) {
                self.detect_losses();
            }
            if self.timer.map_or(false, |t| Instant::now() >= t) {
                self.on_timeout();
            }
        }
    }

    /// Sends new packets while fewer than WINDOW are unacked (RUDP-40). Until
    /// `start` is acked only `start` is sent: a receiver drops whatever arrives
    /// before it (RUDP-11), so a lost `start` would take the window with it.
    fn fill_window(&mut self) -> io::Result<()> {
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
                sent_at: Instant::now(),
                transmissions: 0,
                sacked: false,
                repaired: false,
            });
            self.transmit(self.window.len() - 1, "new");
        }
        Ok(())
    }

    fn transmit(&mut self, index: usize, why: &str) {
        let p = &mut self.window[index];
        if let Err(e) = self.socket.send(&p.wire) {
            // Not fatal (e.g. ICMP unreachable from an earlier datagram): the
            // timer retransmits.
            crate::debug!(self.config.debug, "send {}: {e}", p.seq);
        }
        p.transmissions += 1;
        p.sent_at = Instant::now();
        self.stats.transmissions += 1;
        crate::debug!(self.config.debug, "-> {} ({why}, try {}, rto {:?})", p.seq, p.transmissions, self.rto.rto());
        if self.timer.is_none() {
            self.timer = Some(p.sent_at + self.rto.rto()); // RFC 6298 (5.1)
        }
    }

    fn retransmit(&mut self, index: usize, why: &str) {
        self.window[index].repaired = true;
        self.transmit(index, why);
        if index == 0 {
            self.timer = Some(Instant::now() + self.rto.rto()); // the repaired head gets a full timeout
        }
    }

    fn on_datagram(&mut self, datagram: &[u8]) {
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
        if ack.seq > self.next_seq || ack.seq < self.cum {
            return; // acks something never sent (bogus) or older than we know (reordered)
        }
        self.heard = true;
        if ack.seq > self.cum {
            self.on_progress(ack.seq);
        } else if !self.window.is_empty() {
            self.dups += 1;
        }
        if self.config.sack && ack.kind == Kind::Sack {
            self.mark_sacked(&ack);
        }
        self.detect_losses();
    }

    /// The cumulative ack advanced from `self.cum` to `ack`.
    fn on_progress(&mut self, ack: u64) {
        let acked: Vec<InFlight> = self.window.drain(..(ack - self.cum) as usize).collect();
        // Karn's rule (RUDP-41): no sample if any newly acked packet was sent
        // twice, since the ack may be for either copy. The oldest one's time
        // errs on the long side, the safe side for a timeout.
        if acked.iter().all(|p| p.transmissions == 1) {
            self.rto.sample(acked[0].sent_at.elapsed());
        }
        self.cum = ack;
        self.dups = 0;
        self.last_progress = Instant::now();
        self.rto.reset_backoff();
        self.timer = if self.window.is_empty() { None } else { Some(Instant::now() + self.rto.rto()) };
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
    /// - it has been out longer than a round trip plus a margin for reordering
    ///   (RACK, RFC 8985), which also repairs a loss whose duplicate acks were
    ///   lost too.
    ///
    /// Each packet is resent this way once per recovery episode; if that
    /// repair is lost too, the timer resends it. Sacked packets are never
    /// resent (RUDP-32).
    fn detect_losses(&mut self) {
        let reorder_window = self.reorder_window();
        self.rack_timer = None;
        let mut sacked_above = 0;
        for i in (0..self.window.len()).rev() {
            let p = &self.window[i];
            if p.sacked {
                sacked_above += 1;
                continue;
            }
            // Duplicate acks only say that something after the head arrived.
            let evidence = if i == 0 { sacked_above.max(self.dups) } else { sacked_above };
            if evidence == 0 || p.repaired {
                continue;
            }
            let due = reorder_window.map(|w| p.sent_at + w);
            let overdue = due.map_or(false, |due| Instant::now() >= due);
            if evidence >= DUP_THRESHOLD || overdue {
                if self.recovery.is_none() {
                    self.enter_recovery();
                }
                self.stats.fast_retransmits += 1;
                self.retransmit(i, "fast retransmit");
            } else if let Some(due) = due {
                // Look again when it will be overdue, even if no ack comes.
                self.rack_timer = Some(self.rack_timer.map_or(due, |t| t.min(due)));
            }
        }
    }

    /// RACK's reordering window: how long a packet may still arrive after a
    /// later one did, SRTT plus a quarter of it (at least 2 ms). None before
    /// the first RTT sample: then only the duplicate-ack rule applies.
    fn reorder_window(&self) -> Option<Duration> {
        self.rto.srtt().map(|srtt| srtt + (srtt / 4).max(Duration::from_millis(2)))
    }

    /// The retransmission timer fired (RUDP-41). A whole RTO without progress
    /// says nothing is known to have arrived, so, as TCP does after a timeout
    /// (RFC 6675 5.1), resend every unacked packet the receiver is not known
    /// to hold; without SACK that is the whole window, as in the course's
    /// Go-Back-N sender. Only packets out for about an RTO, as the head is,
    /// are due (one round trip less, so that those sent right after the
    /// timer was armed count too); one sent later may still be acked in time.
    fn on_timeout(&mut self) {
        self.timer = None;
        if self.window.is_empty() {
            return;
        }
        self.stats.timeouts += 1;
        let due = self.rto.rto().saturating_sub(self.rto.srtt().unwrap_or_default());
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
        let resend: Vec<usize> = (0..self.window.len())
            .filter(|&i| !self.window[i].sacked && (i == 0 || self.window[i].sent_at.elapsed() >= due))
            .collect();
        for &i in &resend {
            self.retransmit(i, "timeout");
        }
        if resend.len() == 1 {
            // A lone packet (a last SACK hole, or the last packet) goes twice:
            // its repair needs it and one ack to get through, and under heavy
            // loss a second copy nearly halves the rounds that bring no ack.
            // That also keeps the receiver from timing out the transfer.
            self.retransmit(resend[0], "timeout, second copy");
        }
    }
}
