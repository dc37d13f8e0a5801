import Glibc

/// The RUDP receiver: one transfer per source address, a window of 5, and a
/// cumulative (or selective) ack for every valid packet (RUDP-10..RUDP-18,
/// RUDP-30, RUDP-31).
///
/// `Receiver` is the state machine: it does no network I/O and reads no
/// clock, so the tests drive it with the suite's vectors and a fake clock.
/// `serve(on:)` connects it to a socket; one thread does everything.

/// The receiver's settings (RUDP-61).
public struct ReceiverConfig: Sendable {
    /// Drop a transfer that received no valid packet for this long (RUDP-15).
    public var timeout: Duration = .seconds(10)
    /// Answer with `sack` instead of `ack` (RUDP-30, RUDP-31).
    public var sack = false
    /// One line per datagram on stderr.
    public var debug = false
    /// Where the files go: the working directory by default (RUDP-16).
    public var outputDirectory = "."

    public init() {}
}

/// The output file of a transfer in progress: written as `<name>.partial`,
/// renamed to `<name>` once complete (RUDP-15).
private final class OutputFile {
    let partialPath: String
    let finalPath: String
    private var fd: Int32

    init(directory: String, name: String) throws {
        finalPath = directory + "/" + name
        partialPath = finalPath + ".partial"
        // O_TRUNC: a replaced transfer (RUDP-18) starts its file afresh.
        fd = open(partialPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("cannot create \(partialPath)") }
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("writing \(partialPath)")
            }
            offset += n
        }
    }

    /// Closes the file and gives it its final name (RUDP-14).
    func complete() throws {
        let fd = self.fd
        self.fd = -1
        guard close(fd) == 0 else { throw SystemError("closing \(partialPath)") }
        guard rename(partialPath, finalPath) == 0 else { throw SystemError("renaming \(partialPath)") }
    }

    deinit {
        if fd >= 0 { close(fd) } // an abandoned transfer keeps its .partial name
    }
}

/// The state of one transfer, i.e. of one source address (RUDP-10).
private final class Transfer {
    let startSeq: UInt64
    /// Tells a retransmitted `start` from a new one (RUDP-18).
    let startData: [UInt8]
    /// The next expected seqno: everything below it is written.
    var next: UInt64
    /// Out-of-order packets inside the window (RUDP-12).
    var buffered: [UInt64: Packet] = [:]
    /// nil once the transfer is complete.
    var output: OutputFile?
    var lastSeen: ContinuousClock.Instant

    init(start: Packet, output: OutputFile, now: ContinuousClock.Instant) {
        startSeq = start.seq
        startData = start.data
        next = start.seq
        self.output = output
        lastSeen = now
    }

    func isRetransmittedStart(_ p: Packet) -> Bool {
        p.kind == .start && p.seq == startSeq && p.data == startData
    }

    /// Buffers `p` if it is inside the window, then writes every packet now in
    /// order. Delivering `end` completes the transfer: the file is closed and
    /// renamed before this returns, so before `end`'s ack is sent (RUDP-14).
    /// Returns whether this packet completed the transfer.
    func accept(_ p: Packet) throws -> Bool {
        // UInt64.max can never be delivered: the ack after it would not fit (RUDP-3).
        let inWindow = p.seq >= next && p.seq - next < window && p.seq != .max
        guard let output, inWindow else {
            return false // a duplicate, beyond the window, or after completion: only acked
        }
        if buffered[p.seq] == nil { buffered[p.seq] = p } // at most once per seqno
        while let p = buffered.removeValue(forKey: next) {
            try output.write(p.data)
            next += 1
            if p.kind == .end {
                buffered.removeAll() // nothing follows end (RUDP-7)
                self.output = nil
                try output.complete()
                return true
            }
        }
        return false
    }

    /// The answer to every valid packet: the next expected seqno (RUDP-13),
    /// and with SACK the held seqnos in ascending order (RUDP-31).
    func ack(sack: Bool) -> [UInt8] {
        Packet.ack(next: next, sacks: sack ? buffered.keys.sorted() : nil)
    }
}

public final class Receiver {
    /// At most this many transfers at once, so that a flood of `start`s from
    /// many addresses cannot use up file descriptors.
    public static let maxTransfers = 256

    public let config: ReceiverConfig
    private var transfers: [SocketAddress: Transfer] = [:]

    public init(config: ReceiverConfig) {
        self.config = config
    }

    /// Handles one datagram from `peer` that arrived at `now`; returns the
    /// ack to send back, if any.
    public func handle(_ datagram: some Collection<UInt8>, from peer: SocketAddress, at now: ContinuousClock.Instant) -> [UInt8]? {
        let p: Packet
        do {
            p = try Packet(parsing: datagram)
        } catch {
            debug("\(peer): dropped \(datagram.count) bytes: \(error)") // RUDP-8: silently, no ack
            return nil
        }
        debug("\(peer): \(p.kind.rawValue) \(p.seq) (\(p.data.count) bytes of data)")
        guard !p.kind.isAck else {
            debug("\(peer): dropped: acks are for senders") // RUDP-6
            return nil
        }
        // RUDP-11, RUDP-18: a start begins a transfer, unless it repeats the
        // current transfer's start (same seqno and data).
        if p.kind == .start && transfers[peer]?.isRetransmittedStart(p) != true {
            guard transfers[peer] != nil || transfers.count < Self.maxTransfers else {
                printError("\(peer): dropped start: already \(Self.maxTransfers) transfers")
                return nil
            }
            // Close a replaced transfer's file before the new one truncates it.
            transfers[peer] = nil
            do {
                let output = try OutputFile(directory: config.outputDirectory, name: peer.fileName)
                transfers[peer] = Transfer(start: p, output: output, now: now)
                debug("\(peer): transfer begins at seqno \(p.seq)")
            } catch {
                // Without a file the transfer cannot complete: no ack, so that
                // the sender fails rather than believe it worked.
                printError("\(peer): \(error)")
                return nil
            }
        }
        guard let transfer = transfers[peer] else {
            debug("\(peer): dropped: no transfer (it begins with start)") // RUDP-11
            return nil
        }
        transfer.lastSeen = now // any valid packet is activity (RUDP-15)
        do {
            if try transfer.accept(p) {
                debug("\(peer): transfer complete: \(peer.fileName)")
            }
        } catch {
            // Forget it: nothing more is acked, so the sender fails rather
            // than believe a file arrived that is not there.
            printError("\(peer): transfer abandoned: \(error)")
            transfers[peer] = nil
            return nil
        }
        let ack = transfer.ack(sack: config.sack)
        debug("\(peer): -> \(String(decoding: ack, as: UTF8.self))")
        return ack
    }

    /// Forgets transfers idle for the timeout (RUDP-15). An incomplete one
    /// leaves its `.partial` file; a complete one was kept until now so that
    /// its retransmissions were still acked (RUDP-17).
    public func expireIdle(at now: ContinuousClock.Instant) {
        for (peer, transfer) in transfers where transfer.lastSeen.duration(to: now) >= config.timeout {
            debug("\(peer): idle for \(config.timeout): \(transfer.output == nil ? "complete, forgotten" : "incomplete, dropped")")
            transfers[peer] = nil
        }
    }

    /// Serves on `socket` forever.
    public func serve(on socket: UDPSocket) -> Never {
        // One byte more than the limit, so that an oversize datagram is seen
        // whole and rejected (RUDP-2) rather than silently truncated.
        var buffer = [UInt8](repeating: 0, count: maxDatagram + 1)
        while true {
            let received = socket.receive(into: &buffer, timeout: .milliseconds(200))
            let now = ContinuousClock.now
            expireIdle(at: now) // first, so that a late packet finds its transfer gone
            if let (count, peer) = received, let ack = handle(buffer[..<count], from: peer, at: now) {
                if !socket.send(ack, to: peer) {
                    debug("\(peer): sending the ack: \(SystemError("sendto"))")
                }
            }
        }
    }

    private func debug(_ message: @autoclosure () -> String) {
        if config.debug { printError(message()) }
    }
}
