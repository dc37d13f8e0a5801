import Glibc

/// Hello Internet over TCP: the client says `Hello in Swift`, the server
/// answers `Goodbye in Swift`. Both send one line ending in `\n` (HELLO-1) and
/// read leniently: a message also ends at the peer's close or after an idle
/// gap (HELLO-2), because the course never fixed the framing.
public enum Hello {
    /// The language named in our messages (HELLO-3, HELLO-4).
    public static let language = "Swift"
    /// A message without `\n` is complete after this long without a new byte (HELLO-2).
    public static let idleGap: Duration = .seconds(1)
    /// The longest message accepted, `\n` included.
    public static let maxMessage = 64 * 1024
    /// Bound on a whole exchange: the client gives up (HELLO-8), the server
    /// drops a client that sent nothing (HELLO-14).
    public static let timeout: Duration = .seconds(10)
    /// The client half-closes only after waiting this long for the reply (HELLO-6).
    public static let halfCloseDelay: Duration = .seconds(3)

    /// How a received message ended; only `newline` is strict (HELLO-1).
    public enum Ending: String {
        case newline, close, idleGap = "idle gap", reset
    }

    public enum ReadError: Error, CustomStringConvertible {
        case nothingInTime
        case closedBeforeAnyByte
        case tooLong

        public var description: String {
            switch self {
            case .nothingInTime: return "no message arrived in time"
            case .closedBeforeAnyByte: return "connection closed before any byte arrived"
            case .tooLong: return "message longer than 64 KiB"
            }
        }
    }

    /// Reads one message (HELLO-2): up to and including the first `\n`, or
    /// until the peer closes (or resets) the connection, or until `idleGap`
    /// passes with no new byte once at least one byte has arrived. Before the
    /// first byte it waits until `deadline`. Bytes after the `\n` are not part
    /// of the message: each side sends one message per connection.
    public static func readMessage(from connection: TCPConnection, deadline: ContinuousClock.Instant) throws -> (message: [UInt8], ending: Ending) {
        var message: [UInt8] = []
        var lastByte = ContinuousClock.now
        while true {
            let until = message.isEmpty ? deadline : min(lastByte + idleGap, deadline)
            let left = ContinuousClock.now.duration(to: until)
            if left <= .zero {
                if message.isEmpty { throw ReadError.nothingInTime }
                return (message, .idleGap)
            }
            switch try connection.read(limit: 512, timeout: left) {
            case .timedOut:
                continue // the top of the loop decides
            case .endOfFile:
                if message.isEmpty { throw ReadError.closedBeforeAnyByte }
                return (message, .close)
            case .reset:
                // A peer that closes with unread input resets the connection;
                // what arrived before the reset is intact.
                if message.isEmpty { throw SystemError("recv", code: ECONNRESET) }
                return (message, .reset)
            case .bytes(let bytes):
                if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) {
                    message += bytes[...newline]
                    return (message, .newline)
                }
                message += bytes
                if message.count > maxMessage { throw ReadError.tooLong }
                lastByte = .now
            }
        }
    }

    /// The text of a message without whitespace, `\r`, `\n` and NUL bytes
    /// around it (HELLO-15; C programs may pad with NULs).
    public static func text(_ raw: [UInt8]) -> String {
        let text = String(decoding: raw, as: UTF8.self)
        return String(text.drop(while: isBlank).reversed().drop(while: isBlank).reversed())
    }

    static func isBlank(_ c: Character) -> Bool {
        c.isWhitespace || c == "\0"
    }

    /// The challenge reply to `message` (HELLO-20): `Goodbye <X> from Swift`,
    /// where the message is `Hello in <X>` (the first two words in any case,
    /// runs of blanks as one space). Any other message is echoed whole as X,
    /// so that the client's author sees what we understood.
    public static func challengeReply(to message: String) -> String {
        let words = message.split(whereSeparator: isBlank)
        var client = words[...]
        if words.count >= 3 && words[0].lowercased() == "hello" && words[1].lowercased() == "in" {
            client = words.dropFirst(2)
        }
        if client.isEmpty { return "Goodbye from \(language)" }
        return "Goodbye \(client.joined(separator: " ")) from \(language)"
    }

    // MARK: - Client

    public struct ClientError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The client's side (HELLO-5..HELLO-8): connects to `host:port`, sends
    /// `Hello in Swift\n` and returns the reply's text.
    ///
    /// It waits `halfCloseDelay` for the reply with the connection fully open,
    /// and only then half-closes its sending side (HELLO-6). The half-close
    /// rescues servers that read until end-of-file, but doing it at once would
    /// upset servers that take EOF as "client gone" before they answer.
    public static func exchange(host: String, port: UInt16) throws -> String {
        let deadline = ContinuousClock.now + timeout
        let peer = "\(host):\(port)"
        let connection: TCPConnection
        do {
            connection = try TCPConnection.connect(to: resolve(host, port: port, type: Int32(SOCK_STREAM.rawValue)), deadline: deadline)
        } catch {
            throw ClientError(description: "could not connect to \(peer): \(error)")
        }
        do {
            try connection.write(Array("Hello in \(language)\n".utf8))
        } catch {
            throw ClientError(description: "could not send the message to \(peer): \(error)")
        }
        let firstWait = min(ContinuousClock.now + halfCloseDelay, deadline)
        do {
            let reply: [UInt8]
            do {
                reply = try readMessage(from: connection, deadline: firstWait).message
            } catch ReadError.nothingInTime where firstWait < deadline {
                connection.shutdownWrite()
                reply = try readMessage(from: connection, deadline: deadline).message
            }
            return text(reply)
        } catch ReadError.nothingInTime {
            throw ClientError(description: "no reply from \(peer) within \(Int(timeout.seconds)) s")
        } catch ReadError.closedBeforeAnyByte {
            throw ClientError(description: "server \(peer) closed the connection without replying")
        } catch {
            throw ClientError(description: "reading the reply from \(peer): \(error)")
        }
    }

    // MARK: - Server

    /// The server's side (HELLO-10..HELLO-14): serves every client on its own
    /// thread, forever, so that a slow or silent client never blocks another.
    public static func serve(_ listener: TCPListener, challenge: Bool) -> Never {
        while true {
            do {
                let connection = try listener.accept()
                // A failed thread start (e.g. the sandbox's process limit)
                // costs one client, not the server.
                if !startThread({ serveClient(connection, challenge: challenge) }) {
                    printError("cannot start a thread for a client")
                }
            } catch {
                // E.g. out of file descriptors: wait a little and keep serving.
                printError("\(error)")
                usleep(100_000)
            }
        }
    }

    /// One exchange: read the message, print it, reply, close (HELLO-11, HELLO-12).
    static func serveClient(_ connection: TCPConnection, challenge: Bool) {
        guard let address = connection.peer else { return }
        let raw: [UInt8]
        let ending: Ending
        do {
            (raw, ending) = try readMessage(from: connection, deadline: .now + timeout)
        } catch {
            printError("\(address): no reply sent: \(error)")
            return
        }
        let message = text(raw)
        let reply = (challenge ? challengeReply(to: message) : "Goodbye in \(language)") + "\n"

        // Printed and flushed before replying, so that it is on stdout by the
        // time the client has its reply (HELLO-11). One lock for both lines:
        // the lines of concurrent clients never interleave.
        flockfile(stdout)
        if challenge {
            fputs(address.ip + "\n", stdout) // HELLO-21
        }
        fputs(message + "\n", stdout)
        fflush(stdout)
        funlockfile(stdout)

        do {
            try connection.write(Array(reply.utf8))
        } catch {
            printError("\(address): sending the reply: \(error)")
            return
        }
        printError("\(address): got \(String(reflecting: String(decoding: raw, as: UTF8.self))) (ended by \(ending.rawValue)), replied \(String(reflecting: reply))")

        // Closing a socket that still holds unread input makes the kernel
        // reset the connection, and the client may lose the reply (HELLO-12).
        // So: half-close (the client reads EOF after the reply), discard what
        // it still sends until it closes or stays quiet for 2 s (64 KiB at
        // most), then close.
        connection.shutdownWrite()
        var discarded = 0
        let quietUntil = ContinuousClock.now + idleGap * 2
        while discarded < maxMessage, ContinuousClock.now < quietUntil {
            guard case .bytes(let bytes) = try? connection.read(timeout: ContinuousClock.now.duration(to: quietUntil)) else { break }
            discarded += bytes.count
        }
    }
}

/// Runs `body` on a new detached POSIX thread; false if none could be started.
/// (Foundation's `Thread` would do the same, at the cost of loading
/// Foundation at every start.)
public func startThread(_ body: @escaping () -> Void) -> Bool {
    final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<Box>.fromOpaque(context).release()
        return false
    }
    pthread_detach(thread)
    return true
}
