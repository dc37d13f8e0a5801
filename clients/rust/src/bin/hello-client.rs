//! Hello client: `hello-client HOST PORT` (HELLO-30). Prints the server's reply.

use interop_rust::{cli, hello};
use std::process;

const USAGE: &str = "hello-client HOST PORT";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 2 {
        cli::usage_error("expected a host and a port", USAGE);
    }
    let port: u16 = cli::parse_value(&args[1], "port", USAGE);
    match hello::exchange(&args[0], port) {
        Ok(reply) => println!("{reply}"), // HELLO-7
        Err(e) => {
            eprintln!("hello-client: {e}"); // HELLO-8
            process::exit(1);
        }
    }
}
