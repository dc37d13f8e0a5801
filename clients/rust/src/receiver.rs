//! The RUDP receiver: one transfer per source address, a window of 5, and a
//! cumulative (or selective) ack for every valid packet.
//!
//! One thread does everything: it waits for a datagram with a short read
//! timeout, drops idle transfers, and handles the datagram. The state is a
//! map from source address to [`Transfer`], so no locks are needed.

use crate::net::{is_timeout, output_name, show};
use crate::packet::{self, Kind, Packet, WINDOW};
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// At most this many transfers at once, so a flood of `start` packets from
/// many addresses cannot use up file descriptors.
const MAX_TRANSFERS: usize = 256;

/// How often idle transfers are looked for when no datagram arrives.
const TICK: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct Config {
    /// Drop a transfer that received no valid packet for this long (RUDP-15).
    pub timeout: Duration,
    /// Answer with `sack` instead of `ack` (RUDP-30, RUDP-31).
    pub sack: bool,
    /// Print one line per datagram on stderr.
    pub debug: bool,
    /// Where output files go; the program passes its working directory (RUDP-16).
    pub outdir: PathBuf,
}

/// The state of one transfer, i.e. of one source address (RUDP-10).
struct Transfer {
    start_seq: u64,
    start_data: Vec<u8>,             // tells a retransmitted start from a new one (RUDP-18)
    next: u64,                       // next expected seqno: everything below is written
    buffered: BTreeMap<u64, Packet>, // out-of-order packets inside the window
    output: Option<Output>,          // None once the transfer is complete
    last_seen: Instant,
}

/// The file of a transfer in progress: written as `<name>.partial`, renamed
/// to `<name>` when complete.
struct Output {
    file: BufWriter<File>,
    partial: PathBuf,
    done: PathBuf,
}

impl Transfer {
    fn begin(start: &Packet, dir: &Path, peer: SocketAddr, now: Instant) -> io::Result<Transfer> {
        let done = dir.join(output_name(peer));
        let partial = dir.join(format!("{}.partial", output_name(peer)));
        let file = File::create(&partial) // truncates the file of a replaced transfer
            .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", partial.display())))?;
        Ok(Transfer {
            start_seq: start.seq,
            start_data: start.data.clone(),
            next: start.seq,
            buffered: BTreeMap::new(),
            output: Some(Output { file: BufWriter::new(file), partial, done }),
            last_seen: now,
        })
    }

    fn is_retransmitted_start(&self, p: &Packet) -> bool {
        p.seq == self.start_seq && p.data == self.start_data
    }

    /// Buffers `p` if it is inside the window, then writes every packet that is
    /// now in order. Delivering `end` completes the transfer: the file is
    /// flushed, closed and renamed before this returns, so before the ack for
    /// `end` is sent (RUDP-14). Returns whether this packet completed the transfer.
    fn accept(&mut self, p: Packet) -> io::Result<bool> {
        // u64::MAX can never be delivered: the ack after it would not fit (RUDP-3).
        let in_window = p.seq >= self.next && p.seq - self.next < WINDOW && p.seq != u64::MAX;
        if self.output.is_none() || !in_window {
            return Ok(false); // a duplicate, beyond the window, or after completion: only acked
        }
        self.buffered.entry(p.seq).or_insert(p);
        while let Some(p) = self.buffered.remove(&self.next) {
            let output = self.output.as_mut().expect("checked above");
            output.file.write_all(&p.data)?;
            self.next += 1;
            if p.kind == Kind::End {
                self.buffered.clear(); // nothing follows end (RUDP-7)
                let output = self.output.take().expect("checked above");
                let file = output.file.into_inner().map_err(|e| e.into_error())?;
                drop(file); // closes it
                fs::rename(&output.partial, &output.done)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The answer to every valid packet: the next expected seqno (RUDP-13),
    /// plus the buffered seqnos in ascending order with SACK (RUDP-31).
    fn ack(&self, sack: bool) -> Vec<u8> {
        if sack {
            let held: Vec<u64> = self.buffered.keys().copied().collect();
            packet::encode_ack(self.next, Some(&held))
        } else {
            packet::encode_ack(self.next, None)
        }
    }
}

/// The receiver's state: one [`Transfer`] per source address. It does no
/// network I/O and reads no clock, so tests can drive it step by step;
/// [`run`] connects it to a socket.
pub struct Receiver {
    config: Config,
    transfers: HashMap<SocketAddr, Transfer>,
}

impl Receiver {
    pub fn new(config: Config) -> Receiver {
        Receiver { config, transfers: HashMap::new() }
    }

    /// Handles one datagram from `peer` that arrived at `now`, and returns the
    /// ack to send back, if any.
    pub fn handle(&mut self, peer: SocketAddr, datagram: &[u8], now: Instant) -> Option<Vec<u8>> {
        let debug = self.config.debug;
        let from = show(peer);
        let p = match packet::parse(datagram) {
            Ok(p) => p,
            Err(e) => {
                // RUDP-8: dropped silently, never acked.
                crate::debug!(debug, "{from}: dropped {} bytes: {e}", datagram.len());
                return None;
            }
        };
        crate::debug!(debug, "{from}: {} {} ({} bytes of data)", p.kind.as_str(), p.seq, p.data.len());
        if matches!(p.kind, Kind::Ack | Kind::Sack) {
            crate::debug!(debug, "{from}: dropped: acks are for senders");
            return None;
        }
        // RUDP-11, RUDP-18: a start begins a transfer, unless it is a
        // retransmission of the current one's start (same seqno and data).
        let begins =
            p.kind == Kind::Start && !self.transfers.get(&peer).map_or(false, |t| t.is_retransmitted_start(&p));
        if begins {
            if !self.transfers.contains_key(&peer) && self.transfers.len() >= MAX_TRANSFERS {
                eprintln!("{from}: dropped start: already {MAX_TRANSFERS} transfers");
                return None;
            }
            // Close a replaced transfer's file first: its buffered bytes must
            // land before the new transfer truncates the same `.partial`.
            drop(self.transfers.remove(&peer));
            match Transfer::begin(&p, &self.config.outdir, peer, now) {
                Ok(t) => {
                    crate::debug!(debug, "{from}: transfer begins at seqno {}", p.seq);
                    self.transfers.insert(peer, t);
                }
                Err(e) => {
                    // Without an output file the transfer cannot complete: don't
                    // ack, so that the sender fails instead of believing it worked.
                    eprintln!("{from}: {e}");
                    return None;
                }
            }
        }
        let transfer = match self.transfers.get_mut(&peer) {
            Some(t) => t,
            None => {
                crate::debug!(debug, "{from}: dropped: no transfer (it starts with start)");
                return None;
            }
        };
        transfer.last_seen = now;
        match transfer.accept(p) {
            Ok(true) => crate::debug!(debug, "{from}: transfer complete: {}", output_name(peer)),
            Ok(false) => {}
            Err(e) => {
                // Forget it: nothing more is acked, so the sender fails rather
                // than believe a file arrived that is not there.
                eprintln!("{from}: transfer abandoned: writing the output failed: {e}");
                self.transfers.remove(&peer);
                return None;
            }
        }
        let ack = transfer.ack(self.config.sack);
        crate::debug!(debug, "{from}: -> {}", String::from_utf8_lossy(&ack));
        Some(ack)
    }

    /// RUDP-15: forgets transfers idle for the timeout. An incomplete one
    /// leaves its `.partial` file; a completed one is kept until then so that
    /// retransmissions are still acked (RUDP-17).
    pub fn expire_idle(&mut self, now: Instant) {
        let timeout = self.config.timeout;
        let debug = self.config.debug;
        self.transfers.retain(|peer, t| {
            let keep = now.saturating_duration_since(t.last_seen) < timeout;
            if !keep {
                let state = if t.output.is_some() { "incomplete, dropped" } else { "complete, forgotten" };
                crate::debug!(debug, "{}: idle for {timeout:?}: {state}", show(*peer));
            }
            keep
        });
    }
}

/// Serves on `socket` forever; returns only if the socket fails.
pub fn run(socket: UdpSocket, config: Config) -> io::Result<()> {
    let debug = config.debug;
    let mut receiver = Receiver::new(config);
    socket.set_read_timeout(Some(TICK))?;
    // One byte more than the limit, so that oversize datagrams are seen
    // whole and rejected (RUDP-2) rather than silently truncated.
    let mut buf = [0u8; packet::MAX_DATAGRAM + 1];
    loop {
        let received = socket.recv_from(&mut buf);
        let now = Instant::now();
        receiver.expire_idle(now); // first, so a late packet finds its transfer gone
        match received {
            Ok((n, peer)) => {
                if let Some(ack) = receiver.handle(peer, &buf[..n], now) {
                    if let Err(e) = socket.send_to(&ack, peer) {
                        crate::debug!(debug, "{}: sending ack: {e}", show(peer));
                    }
                }
            }
            Err(e) if is_timeout(&e) => {}
            // An ICMP error about an earlier ack (the sender is gone) is no reason to stop.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
            Err(e) => return Err(e),
        }
    }
}
