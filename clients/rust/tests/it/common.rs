//! Helpers shared by the integration tests: scratch directories, test data,
//! a receiver on loopback, and a lossy relay standing in for the network.

use interop_rust::receiver::{self, Config};
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A fresh, empty directory under the system's temp dir.
pub fn scratch_dir() -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("interop-rust-test-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A small deterministic generator (xorshift64*), so failures can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
}

/// `len` bytes of random binary data: every byte value, `|` and NUL included.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// Starts a receiver on 127.0.0.1 writing into a fresh directory.
pub fn start_receiver(sack: bool, timeout: Duration) -> (SocketAddr, PathBuf) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let outdir = scratch_dir();
    let config = Config { timeout, sack, debug: false, outdir: outdir.clone() };
    thread::spawn(move || receiver::run(socket, config));
    (addr, outdir)
}

/// The files in `dir`, sorted by name.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// What the relay does to each datagram, in percent, in both directions.
#[derive(Clone, Copy)]
pub struct Impairments {
    pub loss: u64,
    pub duplicate: u64,
    pub corrupt: u64,
    pub seed: u64,
}

/// A UDP relay between a sender and `upstream` that drops, duplicates and
/// corrupts datagrams. Returns the address the sender should use.
pub fn start_relay(upstream: SocketAddr, imp: Impairments) -> SocketAddr {
    let front = UdpSocket::bind("127.0.0.1:0").unwrap();
    let back = UdpSocket::bind("127.0.0.1:0").unwrap();
    back.connect(upstream).unwrap();
    let addr = front.local_addr().unwrap();
    let sender: Arc<Mutex<Option<SocketAddr>>> = Arc::default();

    let (front2, back2, sender2) = (front.try_clone().unwrap(), back.try_clone().unwrap(), sender.clone());
    thread::spawn(move || {
        let mut rng = Rng::new(imp.seed);
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = front2.recv_from(&mut buf) {
            *sender2.lock().unwrap() = Some(from);
            for copy in impair(&buf[..n], imp, &mut rng) {
                let _ = back2.send(&copy);
            }
        }
    });
    thread::spawn(move || {
        let mut rng = Rng::new(imp.seed + 1);
        let mut buf = [0u8; 2048];
        while let Ok(n) = back.recv(&mut buf) {
            let to = *sender.lock().unwrap();
            for copy in impair(&buf[..n], imp, &mut rng) {
                let _ = front.send_to(&copy, to.unwrap());
            }
        }
    });
    addr
}

fn impair(datagram: &[u8], imp: Impairments, rng: &mut Rng) -> Vec<Vec<u8>> {
    if rng.percent(imp.loss) {
        return vec![];
    }
    let mut copy = datagram.to_vec();
    if rng.percent(imp.corrupt) && !copy.is_empty() {
        let i = rng.next() as usize % copy.len();
        copy[i] ^= 1 << (rng.next() % 8);
    }
    if rng.percent(imp.duplicate) {
        vec![datagram.to_vec(), copy] // the original, then maybe corrupted copy
    } else {
        vec![copy]
    }
}
