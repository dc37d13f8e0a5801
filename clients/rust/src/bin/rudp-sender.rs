//! RUDP sender: `rudp-sender -a HOST -p PORT [-f FILE] [-k] [-d] [-t GIVE_UP_SECONDS]`
//! (RUDP-60). Sends FILE, or stdin without `-f`; exits 0 once `end` is acked.

use interop_rust::sender::{self, Config};
use interop_rust::{cli, net};
use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process;
use std::time::{Duration, Instant};

const USAGE: &str = "rudp-sender -a HOST -p PORT [-f FILE] [-k] [-d] [-t GIVE_UP_SECONDS]";

fn main() {
    let (mut host, mut port, mut file) = (None, None, None);
    let mut config = Config { sack: false, debug: false, give_up: Duration::from_secs(60), first_seq: random_start() };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-a" => host = Some(cli::flag_value(&mut args, "-a", USAGE)),
            "-p" => port = Some(cli::parse_value::<u16>(&cli::flag_value(&mut args, "-p", USAGE), "port", USAGE)),
            "-f" => file = Some(cli::flag_value(&mut args, "-f", USAGE)),
            "-k" => config.sack = true,
            "-d" => config.debug = true,
            "-t" => {
                let secs = cli::parse_value::<u64>(&cli::flag_value(&mut args, "-t", USAGE), "give-up time", USAGE);
                config.give_up = Duration::from_secs(secs);
            }
            _ => cli::usage_error(&format!("unexpected argument {arg:?}"), USAGE),
        }
    }
    let host = host.unwrap_or_else(|| cli::usage_error("-a HOST is required", USAGE));
    let port = port.unwrap_or_else(|| cli::usage_error("-p PORT is required", USAGE));
    if let Err(e) = run(&host, port, file.as_deref(), &config) {
        eprintln!("rudp-sender: {e}");
        process::exit(1);
    }
}

fn run(host: &str, port: u16, file: Option<&str>, config: &Config) -> io::Result<()> {
    let input: Box<dyn BufRead> = match file {
        Some(path) => Box::new(BufReader::new(
            File::open(path).map_err(|e| io::Error::new(e.kind(), format!("cannot open {path}: {e}")))?,
        )),
        None => Box::new(io::stdin().lock()),
    };
    let peer = net::resolve(host, port)?[0];
    // Connected: the kernel then delivers only the receiver's datagrams to us.
    let local: SocketAddr = if peer.is_ipv4() { "0.0.0.0:0".parse() } else { "[::]:0".parse() }.expect("valid literal");
    let socket = UdpSocket::bind(local)?;
    socket.connect(peer)?;

    let started = Instant::now();
    let stats = sender::send(&socket, input, config)?;
    interop_rust::debug!(
        config.debug,
        "done: {} bytes in {} packets ({} sent, {} fast retransmits, {} probes, {} timeouts), {:?}, srtt {:?}",
        stats.bytes,
        stats.packets,
        stats.transmissions,
        stats.fast_retransmits,
        stats.probes,
        stats.timeouts,
        started.elapsed(),
        stats.srtt
    );
    Ok(())
}

/// A random start seqno (RUDP-7), small enough for any receiver's integer
/// type. The standard library has no RNG, but its hash maps are seeded from
/// the OS's randomness.
fn random_start() -> u64 {
    RandomState::new().build_hasher().finish() % 1_000_000
}
