//! Hello server: `hello-server PORT [--challenge]` (HELLO-30). Runs until killed.

use interop_rust::{cli, hello, net};
use std::process;

const USAGE: &str = "hello-server PORT [--challenge]";

fn main() {
    let mut port = None;
    let mut challenge = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--challenge" => challenge = true, // HELLO-20
            _ if port.is_none() => port = Some(cli::parse_value::<u16>(&arg, "port", USAGE)),
            _ => cli::usage_error(&format!("unexpected argument {arg:?}"), USAGE),
        }
    }
    let port = port.unwrap_or_else(|| cli::usage_error("expected a port", USAGE));
    let result = net::listen_tcp(port).and_then(|listener| {
        eprintln!("hello-server: listening on port {port}");
        hello::serve(listener, challenge)
    });
    if let Err(e) = result {
        eprintln!("hello-server: port {port}: {e}");
        process::exit(1);
    }
}
