//! The receiver, driven by hand-made datagrams from a UDP socket.

use crate::common::{files_in, start_receiver};
use interop_rust::packet::{encode_segment, parse, Kind};
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

/// A fake sender talking to a fresh receiver.
struct Peer {
    socket: UdpSocket,
    outdir: PathBuf,
}

impl Peer {
    fn new(sack: bool) -> Peer {
        Self::with_timeout(sack, Duration::from_secs(10))
    }

    fn with_timeout(sack: bool, timeout: Duration) -> Peer {
        let (receiver, outdir) = start_receiver(sack, timeout);
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.connect(receiver).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        Peer { socket, outdir }
    }

    fn send(&self, kind: Kind, seq: u64, data: &[u8]) {
        self.socket.send(&encode_segment(kind, seq, data)).unwrap();
    }

    /// The next ack as text, or None if none came.
    fn ack(&self) -> Option<String> {
        let mut buf = [0u8; 2048];
        let n = self.socket.recv(&mut buf).ok()?;
        let wire = &buf[..n];
        parse(wire).expect("the receiver sent an invalid datagram");
        let last = wire.iter().rposition(|&b| b == b'|').unwrap();
        Some(String::from_utf8(wire[..last].to_vec()).unwrap())
    }

    fn output_name(&self) -> String {
        let addr: SocketAddr = self.socket.local_addr().unwrap();
        format!("{}.{}", addr.ip(), addr.port())
    }
}

#[test]
fn writes_in_order_and_renames_when_end_arrives() {
    let p = Peer::new(false);
    p.send(Kind::Start, 5, b"a|b");
    assert_eq!(p.ack().as_deref(), Some("ack|6"));
    assert_eq!(files_in(&p.outdir), vec![format!("{}.partial", p.output_name())]);
    p.send(Kind::End, 7, b"!");
    assert_eq!(p.ack().as_deref(), Some("ack|6"), "out of order: buffered, cumulative ack unchanged");
    p.send(Kind::Data, 6, b"\0|\xff");
    assert_eq!(p.ack().as_deref(), Some("ack|8"));
    assert_eq!(files_in(&p.outdir), vec![p.output_name()]);
    assert_eq!(fs::read(p.outdir.join(p.output_name())).unwrap(), b"a|b\0|\xff!");
    // RUDP-17: retransmissions after completion are still acked.
    p.send(Kind::End, 7, b"!");
    assert_eq!(p.ack().as_deref(), Some("ack|8"));
    p.send(Kind::Start, 5, b"a|b");
    assert_eq!(p.ack().as_deref(), Some("ack|8"), "a retransmitted start is no new transfer");
}

#[test]
fn drops_what_is_not_part_of_a_transfer() {
    let p = Peer::new(false);
    p.send(Kind::Data, 1, b"x");
    assert_eq!(p.ack(), None, "RUDP-11: no transfer without start");
    p.socket.send(b"start|1|x|123").unwrap();
    assert_eq!(p.ack(), None, "RUDP-8: bad checksum, no ack");
    p.socket.send(b"garbage").unwrap();
    assert_eq!(p.ack(), None);
    assert!(files_in(&p.outdir).is_empty());
}

#[test]
fn window_of_five_and_selective_acks() {
    let p = Peer::new(true);
    p.send(Kind::Start, 0, b"s");
    assert_eq!(p.ack().as_deref(), Some("sack|1;"));
    p.send(Kind::Data, 6, b"too far");
    assert_eq!(p.ack().as_deref(), Some("sack|1;"), "RUDP-12: outside the window, dropped but acked");
    p.send(Kind::Data, 5, b"5");
    p.ack();
    p.send(Kind::Data, 3, b"3");
    assert_eq!(p.ack().as_deref(), Some("sack|1;3,5"), "RUDP-31: ascending");
    for seq in [1, 2, 4] {
        p.send(Kind::Data, seq, seq.to_string().as_bytes());
        p.ack();
    }
    p.send(Kind::Data, 6, b"6");
    assert_eq!(p.ack().as_deref(), Some("sack|7;"));
    p.send(Kind::End, 7, b"");
    assert_eq!(p.ack().as_deref(), Some("sack|8;"));
    assert_eq!(fs::read(p.outdir.join(p.output_name())).unwrap(), b"s123456");
}

#[test]
fn a_new_start_begins_a_new_transfer() {
    let p = Peer::new(false);
    p.send(Kind::Start, 10, b"old");
    p.ack();
    p.send(Kind::Start, 20, b"new");
    assert_eq!(p.ack().as_deref(), Some("ack|21"), "RUDP-18");
    p.send(Kind::End, 21, b"");
    assert_eq!(p.ack().as_deref(), Some("ack|22"));
    assert_eq!(fs::read(p.outdir.join(p.output_name())).unwrap(), b"new");
}

#[test]
fn idle_transfers_are_dropped_leaving_the_partial_file() {
    let p = Peer::with_timeout(false, Duration::from_secs(1));
    p.send(Kind::Start, 0, b"x");
    assert_eq!(p.ack().as_deref(), Some("ack|1"));
    std::thread::sleep(Duration::from_millis(1500));
    p.send(Kind::End, 1, b"");
    assert_eq!(p.ack(), None, "RUDP-15: the transfer was dropped");
    assert_eq!(files_in(&p.outdir), vec![format!("{}.partial", p.output_name())]);
}
