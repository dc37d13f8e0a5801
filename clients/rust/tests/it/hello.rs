//! Hello client and server on loopback, with well- and badly-behaved peers.

use interop_rust::hello;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

fn start_server(challenge: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || hello::serve(listener, challenge));
    port
}

/// Sends `message` raw (optionally half-closing after it) and returns the whole reply.
fn raw_exchange(port: u16, message: &[u8], half_close: bool) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(message).unwrap();
    if half_close {
        s.shutdown(Shutdown::Write).unwrap();
    }
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn client_and_server_agree() {
    let port = start_server(false);
    assert_eq!(hello::exchange("localhost", port).unwrap(), "Goodbye in Rust");
}

#[test]
fn server_replies_strictly_and_accepts_lenient_messages() {
    let port = start_server(false);
    assert_eq!(raw_exchange(port, b"Hello in C\n", false), "Goodbye in Rust\n");
    assert_eq!(raw_exchange(port, b"Hello in C", true), "Goodbye in Rust\n", "ended by half-close");
    let started = Instant::now();
    assert_eq!(raw_exchange(port, b"Hello in C", false), "Goodbye in Rust\n", "ended by the idle gap");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn challenge_names_the_client_language() {
    let port = start_server(true);
    assert_eq!(raw_exchange(port, b"Hello in Ruby\r\n", false), "Goodbye Ruby from Rust\n");
}

#[test]
fn a_silent_client_does_not_block_others() {
    let port = start_server(false);
    let _silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    assert_eq!(hello::exchange("127.0.0.1", port).unwrap(), "Goodbye in Rust");
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// A one-shot fake server: reads until '\n' (or EOF when `wait_for_eof`),
/// then sends `reply` and closes.
fn fake_server(reply: &'static [u8], wait_for_eof: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while s.read(&mut byte).unwrap() == 1 {
            got.push(byte[0]);
            if byte[0] == b'\n' && !wait_for_eof {
                break;
            }
        }
        assert_eq!(got, b"Hello in Rust\n", "HELLO-1, HELLO-3: strict message");
        s.write_all(reply).unwrap();
    });
    port
}

#[test]
fn client_accepts_a_reply_without_newline() {
    let port = fake_server(b"Goodbye in Perl", false);
    assert_eq!(hello::exchange("127.0.0.1", port).unwrap(), "Goodbye in Perl");
}

#[test]
fn client_half_closes_for_servers_that_read_until_eof() {
    let port = fake_server(b"Goodbye in Lua\n", true);
    assert_eq!(hello::exchange("127.0.0.1", port).unwrap(), "Goodbye in Lua");
}

#[test]
fn client_reports_failures() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(); // now closed
    let err = hello::exchange("127.0.0.1", closed).unwrap_err();
    assert!(err.contains("could not connect"), "{err}");
    let err = hello::exchange("no-such-host.invalid", 1).unwrap_err();
    assert!(err.contains("could not resolve"), "{err}");
    let port = fake_server(b"", false);
    let err = hello::exchange("127.0.0.1", port).unwrap_err();
    assert!(err.contains("without replying"), "{err}");
}
