//! Socket helpers shared by the four programs: binding on all addresses,
//! resolving host names, and naming peers.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs, UdpSocket};

/// Binds a TCP listener on every address (HELLO-10): the IPv6 wildcard, which
/// on Linux also accepts IPv4 clients, or the IPv4 one if IPv6 is unavailable.
pub fn listen_tcp(port: u16) -> io::Result<TcpListener> {
    TcpListener::bind((Ipv6Addr::UNSPECIFIED, port)).or_else(|_| TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)))
}

/// Binds a UDP socket on every address (RUDP-61), like [`listen_tcp`].
pub fn bind_udp(port: u16) -> io::Result<UdpSocket> {
    UdpSocket::bind((Ipv6Addr::UNSPECIFIED, port)).or_else(|_| UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)))
}

/// Resolves `host` (a name or an address, HELLO-5) to socket addresses, IPv4
/// first: the suite's networks are IPv4, and "localhost" often lists ::1 first.
pub fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let mut addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| io::Error::new(e.kind(), format!("could not resolve host {host:?}: {e}")))?
        .collect();
    addrs.sort_by_key(|a| !a.is_ipv4()); // stable: keeps the resolver's order otherwise
    if addrs.is_empty() {
        return Err(io::Error::new(io::ErrorKind::NotFound, format!("could not resolve host {host:?}: no address")));
    }
    Ok(addrs)
}

/// The peer's IP as people write it: an IPv4 client of a dual-stack socket
/// arrives as `::ffff:a.b.c.d`, which is shown as `a.b.c.d`.
pub fn plain_ip(addr: SocketAddr) -> IpAddr {
    match addr.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// A peer for log lines: `172.18.0.3:40000` rather than `[::ffff:172.18.0.3]:40000`.
pub fn show(peer: SocketAddr) -> String {
    SocketAddr::new(plain_ip(peer), peer.port()).to_string()
}

/// The receiver's output file name for a peer: the course's `<ip>.<port>`,
/// e.g. `172.18.0.3.40000`. It is built only from the address, never from
/// packet content, and any byte that is not a letter, digit, `.` or `-` (the
/// colons of an IPv6 address) becomes `_`, so it is always a plain file name
/// inside the output directory (RUDP-16).
pub fn output_name(peer: SocketAddr) -> String {
    format!("{}.{}", plain_ip(peer), peer.port())
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
        .collect()
}

/// Whether a failed read only means "nothing arrived in time": a read timeout
/// shows up as WouldBlock or TimedOut depending on the platform, and a signal
/// can interrupt the wait. The caller just looks at its clock and reads again.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names() {
        assert_eq!(output_name("172.18.0.3:40000".parse().unwrap()), "172.18.0.3.40000");
        assert_eq!(output_name("[::ffff:10.0.0.1]:5".parse().unwrap()), "10.0.0.1.5");
        assert_eq!(output_name("[::1]:40000".parse().unwrap()), "__1.40000");
    }

    #[test]
    fn resolves_numeric_addresses() {
        assert_eq!(resolve("127.0.0.1", 9).unwrap(), vec!["127.0.0.1:9".parse().unwrap()]);
    }
}
