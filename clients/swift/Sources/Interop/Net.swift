import Glibc

/// Thin, safe wrappers around the BSD socket calls the four programs need.
/// Foundation on Linux has no UDP sockets, so this uses Glibc directly.

/// A failed system call, with `errno`'s text.
public struct SystemError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

/// An IPv4 or IPv6 socket address (IP and port), usable as a dictionary key:
/// the receiver keeps one transfer per source address (RUDP-10).
public struct SocketAddress: Hashable, CustomStringConvertible, Sendable {
    /// The raw `sockaddr_in` / `sockaddr_in6` bytes.
    fileprivate var storage: [UInt8]

    fileprivate init(_ pointer: UnsafePointer<sockaddr>, length: socklen_t) {
        storage = Array(UnsafeRawBufferPointer(start: pointer, count: Int(length)))
    }

    /// Parses `1.2.3.4:5` or `[::1]:5` (numeric only; tests use it).
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &a.sin6_addr) == 1 else { return nil }
            storage = withUnsafeBytes(of: a) { Array($0) }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &a.sin_addr) == 1 else { return nil }
            storage = withUnsafeBytes(of: a) { Array($0) }
        }
    }

    var family: Int32 {
        storage.withUnsafeBytes { Int32($0.load(fromByteOffset: 0, as: sockaddr.self).sa_family) }
    }

    public var port: UInt16 {
        // sin_port and sin6_port are at the same offset, in network byte order.
        storage.withUnsafeBytes { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
    }

    /// The IP as people write it. An IPv4 client of a dual-stack socket
    /// arrives as `::ffff:a.b.c.d`, which is shown as `a.b.c.d` (HELLO-21).
    public var ip: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        storage.withUnsafeBytes { raw in
            if family == AF_INET {
                var a = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
            } else {
                var a = raw.load(as: sockaddr_in6.self).sin6_addr
                let bytes = withUnsafeBytes(of: a) { Array($0) }
                if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                    var v4 = in_addr()
                    withUnsafeMutableBytes(of: &v4) { $0.copyBytes(from: bytes[12...]) }
                    _ = inet_ntop(AF_INET, &v4, &text, socklen_t(text.count))
                } else {
                    _ = inet_ntop(AF_INET6, &a, &text, socklen_t(text.count))
                }
            }
        }
        return String(cString: text)
    }

    /// `172.18.0.3:40000`, or `[fd00::1]:40000`.
    public var description: String { ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)" }

    /// The receiver's output file name: the course's `<ip>.<port>`, e.g.
    /// `172.18.0.3.40000`. Built only from the address, never from packet
    /// content, and every character other than a letter, digit, `.` or `-`
    /// (an IPv6 address's colons) becomes `_`, so it is always a plain file
    /// name inside the output directory (RUDP-16).
    public var fileName: String {
        String("\(ip).\(port)".map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") ? $0 : "_" })
    }

    fileprivate func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) rethrows -> T {
        try storage.withUnsafeBytes { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
    }
}

/// Resolves `host` (a name or an address, HELLO-5) for `port`, IPv4 first:
/// the suite's networks are IPv4, and `localhost` often lists ::1 first.
public func resolve(_ host: String, port: UInt16, type: Int32) throws -> [SocketAddress] {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = type
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0 else {
        throw ResolveError(host: host, reason: String(cString: gai_strerror(status)))
    }
    defer { freeaddrinfo(list) }
    var addresses: [SocketAddress] = []
    var entry = list
    while let info = entry?.pointee {
        if let address = info.ai_addr {
            addresses.append(SocketAddress(address, length: info.ai_addrlen))
        }
        entry = info.ai_next
    }
    guard !addresses.isEmpty else { throw ResolveError(host: host, reason: "no address") }
    return addresses.filter { $0.family == AF_INET } + addresses.filter { $0.family != AF_INET }
}

public struct ResolveError: Error, CustomStringConvertible {
    public let host: String
    public let reason: String
    public var description: String { "could not resolve host \"\(host)\": \(reason)" }
}

/// Owns one socket descriptor and closes it when released.
public class Socket {
    public let fd: Int32

    required init(family: Int32, type: Int32) throws {
        let fd = socket(family, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        self.fd = fd
    }

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Binds to `port` on every address (HELLO-10, RUDP-61): the IPv6 wildcard,
    /// which on Linux also takes IPv4, or the IPv4 one if IPv6 is unavailable.
    static func bound(port: UInt16, type: Int32) throws -> Self {
        if let socket = try? Self(family: AF_INET6, type: type) {
            var off: Int32 = 0
            setsockopt(socket.fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
            if (try? socket.bind(port: port, family: AF_INET6)) != nil { return socket }
        }
        let socket = try Self(family: AF_INET, type: type)
        try socket.bind(port: port, family: AF_INET)
        return socket
    }

    private func bind(port: UInt16, family: Int32) throws {
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let result: Int32
        if family == AF_INET6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            a.sin6_addr = in6addr_any
            result = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            result = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard result == 0 else { throw SystemError("bind to port \(port)") }
    }

    /// The port the socket is bound to (useful after binding port 0).
    public var localPort: UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0, length: length) }
        }.port
    }

    /// Waits until the socket is readable or `timeout` passes; true if readable.
    /// A signal that interrupts the wait counts as a timeout: callers loop.
    public func waitReadable(timeout: Duration) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, timeout.pollMilliseconds) > 0
    }
}

/// A UDP socket: bound on every address for the receiver, connected to the
/// receiver for the sender (the kernel then passes it only the peer's datagrams).
public final class UDPSocket: Socket {
    public static func listening(port: UInt16) throws -> UDPSocket {
        try bound(port: port, type: Int32(SOCK_DGRAM.rawValue))
    }

    public static func connected(to peer: SocketAddress) throws -> UDPSocket {
        let socket = try UDPSocket(family: peer.family, type: Int32(SOCK_DGRAM.rawValue))
        let result = peer.withSockaddr { connect(socket.fd, $0, $1) }
        guard result == 0 else { throw SystemError("connect to \(peer)") }
        return socket
    }

    /// Sends one datagram on a connected socket.
    @discardableResult
    public func send(_ datagram: [UInt8]) -> Bool {
        datagram.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) } == datagram.count
    }

    /// Sends one datagram to `peer`.
    @discardableResult
    public func send(_ datagram: [UInt8], to peer: SocketAddress) -> Bool {
        let sent = datagram.withUnsafeBytes { bytes in
            peer.withSockaddr { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, $1) }
        }
        return sent == datagram.count
    }

    /// Receives one datagram into `buffer` if one arrives within `timeout`.
    /// Errors such as ICMP "port unreachable" for an earlier datagram (a
    /// receiver not there yet, a sender gone) are reported as nothing received.
    public func receive(into buffer: inout [UInt8], timeout: Duration) -> (count: Int, from: SocketAddress)? {
        guard waitReadable(timeout: timeout) else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let count = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, &length)
                }
            }
        }
        guard count >= 0 else { return nil }
        let from = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0, length: length) }
        }
        return (count, from)
    }
}

/// A TCP connection (Hello client and server).
public final class TCPConnection: Socket {
    /// The peer's address.
    public fileprivate(set) var peer: SocketAddress?

    /// Connects to the first of `addresses` that accepts before `deadline`.
    public static func connect(to addresses: [SocketAddress], deadline: ContinuousClock.Instant) throws -> TCPConnection {
        var lastError: Error = SystemError("connect", code: ETIMEDOUT)
        for address in addresses {
            do {
                let connection = try TCPConnection(family: address.family, type: Int32(SOCK_STREAM.rawValue))
                try connection.connect(address, deadline: deadline)
                connection.peer = address
                return connection
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// A non-blocking connect that waits at most until `deadline`.
    private func connect(_ address: SocketAddress, deadline: ContinuousClock.Instant) throws {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 { return }
        guard errno == EINPROGRESS else { throw SystemError("connect to \(address)") }
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        while true {
            let left = deadline - .now
            guard left > .zero else { throw SystemError("connect to \(address)", code: ETIMEDOUT) }
            if poll(&entry, 1, left.pollMilliseconds) > 0 { break }
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else { throw SystemError("connect to \(address)", code: error) }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("send")
            }
            offset += n
        }
    }

    public enum ReadResult {
        case bytes([UInt8])
        case endOfFile
        case reset
        case timedOut
    }

    /// One read of at most `limit` bytes, waiting at most `timeout`.
    public func read(limit: Int = 4096, timeout: Duration) throws -> ReadResult {
        guard waitReadable(timeout: timeout) else { return .timedOut }
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n > 0 { return .bytes(Array(buffer[..<n])) }
        if n == 0 { return .endOfFile }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR: return .timedOut
        case ECONNRESET: return .reset
        default: throw SystemError("recv")
        }
    }

    /// Half-closes: the peer reads end-of-file, and can still send to us.
    public func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }
}

/// A TCP listening socket on every address (HELLO-10).
public final class TCPListener: Socket {
    public static func listening(port: UInt16) throws -> TCPListener {
        let listener = try bound(port: port, type: Int32(SOCK_STREAM.rawValue))
        guard listen(listener.fd, 128) == 0 else { throw SystemError("listen on port \(port)") }
        return listener
    }

    /// Waits for the next client.
    public func accept() throws -> TCPConnection {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(self.fd, $0, &length) }
        }
        guard fd >= 0 else { throw SystemError("accept") }
        let connection = TCPConnection(fd: fd)
        connection.peer = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0, length: length) }
        }
        return connection
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so that a wait never ends early, for `poll`.
    var pollMilliseconds: Int32 {
        guard self > .zero else { return 0 }
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }

    /// The duration in seconds, for messages.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
