//! Hello Internet over TCP: the client says `Hello in Rust`, the server
//! answers `Goodbye in Rust`. Both send one line ending in `\n` (HELLO-1) and
//! read leniently: a message also ends at the peer's close or after an idle
//! gap (HELLO-2), because the course never fixed the framing.

use crate::net::{is_timeout, plain_ip, resolve, show};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// The language named in our messages (HELLO-3, HELLO-4).
pub const LANGUAGE: &str = "Rust";
/// A message without `\n` is complete after this long without a new byte (HELLO-2).
pub const IDLE_GAP: Duration = Duration::from_secs(1);
/// Longest message accepted, terminator included.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Bound on a whole exchange: the client gives up (HELLO-8), the server drops
/// a client that sent nothing (HELLO-14).
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The client half-closes only after waiting this long for a reply; see [`exchange`].
pub const HALF_CLOSE_DELAY: Duration = Duration::from_secs(3);

/// How a received message ended; only `Newline` is strict (HELLO-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Newline,
    Close,
    IdleGap,
    Reset,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let text = match self {
            Ending::Newline => "newline",
            Ending::Close => "close",
            Ending::IdleGap => "idle gap",
            Ending::Reset => "reset",
        };
        f.write_str(text)
    }
}

/// Reads one message (HELLO-2): up to and including the first `\n`, or until
/// the peer closes (or resets) the connection, or until IDLE_GAP passes with
/// no new byte once at least one byte has arrived. Before the first byte it
/// waits until `deadline`. Bytes after the `\n` are ignored: each side sends
/// one message per connection.
pub fn read_message(stream: &mut TcpStream, deadline: Instant) -> io::Result<(Vec<u8>, Ending)> {
    let mut message = Vec::new();
    let mut buf = [0u8; 512];
    let mut last_byte = Instant::now();
    loop {
        let until = if message.is_empty() { deadline } else { (last_byte + IDLE_GAP).min(deadline) };
        let now = Instant::now();
        if now >= until {
            if message.is_empty() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no message arrived in time"));
            }
            return Ok((message, Ending::IdleGap));
        }
        stream.set_read_timeout(Some(until - now))?;
        match stream.read(&mut buf) {
            Ok(0) if message.is_empty() => {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed before any byte arrived"))
            }
            Ok(0) => return Ok((message, Ending::Close)),
            Ok(n) => {
                let newline = buf[..n].iter().position(|&b| b == b'\n');
                message.extend_from_slice(&buf[..newline.map_or(n, |i| i + 1)]);
                if message.len() > MAX_MESSAGE {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "message longer than 64 KiB"));
                }
                if newline.is_some() {
                    return Ok((message, Ending::Newline));
                }
                last_byte = Instant::now();
            }
            Err(e) if is_timeout(&e) => {} // the top of the loop decides
            // A peer that closes with unread input resets the connection;
            // what arrived before the reset is intact.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !message.is_empty() => {
                return Ok((message, Ending::Reset))
            }
            Err(e) => return Err(e),
        }
    }
}

/// The text of a message: without leading and trailing whitespace, `\r`,
/// `\n` and NUL bytes (HELLO-15; C programs may pad with NULs).
pub fn text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).trim_matches(is_blank).to_string()
}

fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\0'
}

/// The challenge reply to `message` (HELLO-20): `Goodbye <X> from Rust\n`
/// where the message is `Hello in <X>` (first two words in any case, runs of
/// blanks as one space). Any other message is echoed whole as X, so the
/// client's author sees what we understood.
pub fn challenge_reply(message: &str) -> String {
    let words: Vec<&str> = message.split(is_blank).filter(|w| !w.is_empty()).collect();
    let language = match words.as_slice() {
        [hello, inn, rest @ ..]
            if !rest.is_empty() && hello.eq_ignore_ascii_case("hello") && inn.eq_ignore_ascii_case("in") =>
        {
            rest
        }
        all => all,
    };
    if language.is_empty() {
        format!("Goodbye from {LANGUAGE}\n")
    } else {
        format!("Goodbye {} from {LANGUAGE}\n", language.join(" "))
    }
}

/// The client's side (HELLO-5..8): connects to `host:port`, sends `Hello in
/// Rust\n`, and returns the reply's text. Errors are meant for a person.
///
/// It waits HALF_CLOSE_DELAY for the reply with the connection fully open, and
/// only then half-closes its sending side. The half-close rescues servers that
/// read until EOF, but doing it at once would upset servers that take EOF as
/// "client gone" before they answer (a Node server, by default).
pub fn exchange(host: &str, port: u16) -> Result<String, String> {
    let deadline = Instant::now() + TIMEOUT;
    let mut stream = connect(host, port, deadline)?;
    let peer = format!("{host}:{port}");
    stream.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    stream
        .write_all(format!("Hello in {LANGUAGE}\n").as_bytes())
        .map_err(|e| format!("could not send the message to {peer}: {e}"))?;

    let first_wait = (Instant::now() + HALF_CLOSE_DELAY).min(deadline);
    let result = match read_message(&mut stream, first_wait) {
        Err(e) if e.kind() == io::ErrorKind::TimedOut && first_wait < deadline => {
            let _ = stream.shutdown(Shutdown::Write);
            read_message(&mut stream, deadline)
        }
        other => other,
    };
    match result {
        Ok((reply, _)) => Ok(text(&reply)),
        Err(e) => Err(match e.kind() {
            io::ErrorKind::TimedOut => format!("no reply from {peer} within {} s", TIMEOUT.as_secs()),
            io::ErrorKind::UnexpectedEof => format!("server {peer} closed the connection without replying"),
            _ => format!("reading the reply from {peer}: {e}"),
        }),
    }
}

/// Connects to the first address of `host` that accepts (HELLO-5: names are resolved).
fn connect(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, String> {
    let mut last_error = String::from("no address");
    for addr in resolve(host, port).map_err(|e| e.to_string())? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = format!("{addr}: {e}"),
        }
    }
    Err(format!("could not connect to {host}:{port}: {last_error}"))
}

/// The server's side (HELLO-10..14): serves every client in its own thread,
/// forever, so that a slow or silent client never blocks another.
pub fn serve(listener: TcpListener, challenge: bool) -> io::Result<()> {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                // A failed spawn (e.g. the sandbox's process limit) costs one
                // client, not the server: the connection is closed, we go on.
                if let Err(e) = thread::Builder::new().spawn(move || serve_client(stream, challenge)) {
                    eprintln!("cannot start a thread for a client: {e}");
                }
            }
            Err(e) => {
                // E.g. out of file descriptors: wait a little and keep serving.
                eprintln!("accept: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
    Ok(())
}

/// One exchange: read the message, print it, reply, close (HELLO-11, HELLO-12).
fn serve_client(mut stream: TcpStream, challenge: bool) {
    let addr = match stream.peer_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("client gone before we looked: {e}");
            return;
        }
    };
    let peer = show(addr);
    let (raw, ending) = match read_message(&mut stream, Instant::now() + TIMEOUT) {
        Ok(message) => message,
        Err(e) => {
            eprintln!("{peer}: no reply sent: {e}");
            return;
        }
    };
    let message = text(&raw);
    let reply = if challenge { challenge_reply(&message) } else { format!("Goodbye in {LANGUAGE}\n") };

    // Printed before replying, so it is on stdout by the time the client has
    // its reply. One lock for both lines: clients' lines never interleave.
    {
        let mut out = io::stdout().lock();
        if challenge {
            let _ = writeln!(out, "{}", plain_ip(addr)); // HELLO-21
        }
        let _ = writeln!(out, "{message}");
        let _ = out.flush();
    }

    let sent = stream.set_write_timeout(Some(TIMEOUT)).and_then(|_| stream.write_all(reply.as_bytes()));
    match sent {
        Ok(()) => eprintln!("{peer}: got {:?} (ended by {ending}), replied {reply:?}", String::from_utf8_lossy(&raw)),
        Err(e) => {
            eprintln!("{peer}: sending the reply: {e}");
            return;
        }
    }

    // Closing a socket that still holds unread input makes the kernel reset
    // the connection, and the client may lose our reply. So: half-close (the
    // client sees EOF after the reply), discard whatever it still sends until
    // it closes or stays quiet for two idle gaps (64 KiB at most), then close.
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(2 * IDLE_GAP));
    let _ = io::copy(&mut stream.take(MAX_MESSAGE as u64), &mut io::sink());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_replies() {
        assert_eq!(challenge_reply("Hello in C++"), "Goodbye C++ from Rust\n");
        assert_eq!(challenge_reply("hello  IN\tJava Script"), "Goodbye Java Script from Rust\n");
        assert_eq!(challenge_reply("Hi there"), "Goodbye Hi there from Rust\n");
        assert_eq!(challenge_reply("Hello in"), "Goodbye Hello in from Rust\n");
        assert_eq!(challenge_reply(""), "Goodbye from Rust\n");
    }

    #[test]
    fn text_trims_blanks_and_nuls() {
        assert_eq!(text(b" Hello in C\r\n\0\0"), "Hello in C");
    }
}
