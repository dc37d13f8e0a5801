//! End to end: our sender against our receiver on loopback, directly and
//! through a relay that loses, duplicates and corrupts datagrams.

use crate::common::{files_in, random_bytes, start_receiver, start_relay, Impairments};
use interop_rust::packet::{max_payload, Kind};
use interop_rust::sender::{self, Config, Segmenter};
use std::fs;
use std::io::{self, Cursor};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

fn send(to: SocketAddr, data: &[u8], sack: bool, give_up: Duration) -> io::Result<sender::Stats> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(to)?;
    let config = Config { sack, debug: false, give_up, first_seq: 1000 };
    sender::send(&socket, Cursor::new(data), &config)
}

/// Sends `data` and checks that exactly one complete file arrived, equal to it.
fn check_transfer(data: &[u8], sack: bool, impairments: Option<Impairments>) -> sender::Stats {
    let (receiver, outdir) = start_receiver(sack, Duration::from_secs(10));
    let target = impairments.map_or(receiver, |imp| start_relay(receiver, imp));
    let stats = send(target, data, sack, Duration::from_secs(30)).expect("transfer failed");
    let files: Vec<String> = files_in(&outdir).into_iter().filter(|f| !f.ends_with(".partial")).collect();
    assert_eq!(files.len(), 1, "expected one output file, got {files:?}");
    let got = fs::read(outdir.join(&files[0])).unwrap();
    assert!(got == data, "output differs: {} bytes sent, {} received", data.len(), got.len());
    stats
}

#[test]
fn segmenter_puts_first_payload_in_start_and_last_in_end() {
    let plan = |len: usize| -> Vec<(Kind, usize)> {
        let data = random_bytes(len, 1);
        let mut seg = Segmenter::new(Cursor::new(data));
        let mut out = vec![];
        for seq in 0.. {
            match seg.next(seq).unwrap() {
                Some((kind, payload)) => out.push((kind, payload.len())),
                None => return out,
            }
        }
        unreachable!()
    };
    let start = max_payload(Kind::Start, 0);
    let data = max_payload(Kind::Data, 1);
    assert_eq!(plan(0), vec![(Kind::Start, 0), (Kind::End, 0)]);
    assert_eq!(plan(1), vec![(Kind::Start, 1), (Kind::End, 0)]);
    assert_eq!(plan(start), vec![(Kind::Start, start), (Kind::End, 0)]);
    assert_eq!(plan(start + 1), vec![(Kind::Start, start), (Kind::End, 1)]);
    assert_eq!(plan(start + data), vec![(Kind::Start, start), (Kind::End, data)]);
    assert_eq!(plan(start + data + 5), vec![(Kind::Start, start), (Kind::Data, data), (Kind::End, 5)]);
}

#[test]
fn small_and_edge_sizes_arrive_intact() {
    let start = max_payload(Kind::Start, 1000);
    for &len in &[0, 1, start, start + 1, 10_000] {
        check_transfer(&random_bytes(len, len as u64), false, None);
    }
}

#[test]
fn binary_data_with_selective_acks() {
    check_transfer(&random_bytes(300_000, 7), true, None);
}

#[test]
fn survives_loss_duplication_and_corruption() {
    let imp = Impairments { loss: 20, duplicate: 10, corrupt: 5, seed: 42 };
    let stats = check_transfer(&random_bytes(150_000, 3), false, Some(imp));
    assert!(stats.transmissions > stats.packets, "the relay should have forced retransmissions");
}

#[test]
fn survives_loss_with_selective_acks() {
    let imp = Impairments { loss: 20, duplicate: 10, corrupt: 5, seed: 43 };
    check_transfer(&random_bytes(150_000, 4), true, Some(imp));
}

#[test]
fn gives_up_when_nothing_answers() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap(); // bound, never answers
    let started = Instant::now();
    let result = send(silent.local_addr().unwrap(), b"hello", false, Duration::from_secs(1));
    let err = result.expect_err("a sender without acks must fail");
    assert!(err.to_string().contains("giving up"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}
