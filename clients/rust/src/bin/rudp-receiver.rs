//! RUDP receiver: `rudp-receiver [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d]`
//! (RUDP-61). Writes each transfer into the working directory; runs until killed.

use interop_rust::receiver::{self, Config};
use interop_rust::{cli, net};
use std::path::PathBuf;
use std::process;
use std::time::Duration;

const USAGE: &str = "rudp-receiver [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d]";

fn main() {
    let mut port: u16 = 33122;
    let mut config = Config { timeout: Duration::from_secs(10), sack: false, debug: false, outdir: PathBuf::from(".") };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-p" => port = cli::parse_value(&cli::flag_value(&mut args, "-p", USAGE), "port", USAGE),
            "-t" => {
                let secs: u64 = cli::parse_value(&cli::flag_value(&mut args, "-t", USAGE), "timeout", USAGE);
                config.timeout = Duration::from_secs(secs);
            }
            "-k" => config.sack = true,
            "-d" => config.debug = true,
            _ => cli::usage_error(&format!("unexpected argument {arg:?}"), USAGE),
        }
    }
    let result = net::bind_udp(port).and_then(|socket| {
        eprintln!("rudp-receiver: listening on UDP port {port}");
        receiver::run(socket, config)
    });
    if let Err(e) = result {
        eprintln!("rudp-receiver: port {port}: {e}");
        process::exit(1);
    }
}
