import Glibc

/// The RUDP sender: a sliding window of 5 packets with cumulative acks, an
/// adaptive retransmission timer, fast retransmit and, with `-k`, selective
/// acks (RUDP-40..RUDP-46, RUDP-32).
///
/// One thread, no concurrency: the loop sends what the window allows, then
/// waits for an ack until the next deadline (the retransmission timer, the
/// moment a packet becomes overdue for RACK, or the tail loss probe), and
/// reacts.

/// Where the bytes to send come from: a file, standard input, or a test's array.
public protocol ByteSource {
    /// Up to `count` bytes; an empty result means the end of the input.
    mutating func read(upTo count: Int) throws -> [UInt8]
}

/// A file descriptor as a byte source (`-f FILE`, or standard input).
public struct FileSource: ByteSource {
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    /// Opens `path` for reading.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("cannot open \(path)") }
        self.fd = fd
    }

    public mutating func read(upTo count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
            if n >= 0 { return Array(buffer[..<n]) }
            if errno != EINTR { throw SystemError("reading the input") }
        }
    }
}

/// An array as a byte source.
public struct ArraySource: ByteSource {
    private var bytes: ArraySlice<UInt8>
    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }
    public mutating func read(upTo count: Int) throws -> [UInt8] {
        let chunk = bytes.prefix(count)
        bytes = bytes.dropFirst(chunk.count)
        return Array(chunk)
    }
}

/// Cuts the input into the payloads of `start`, `data`... `end` (RUDP-7),
/// each as large as a datagram allows (RUDP-46). `start` carries the first
/// payload and `end` the last one, so an empty input is an empty `start`
/// followed by an empty `end`.
public struct Segmenter<Source: ByteSource> {
    private var source: Source
    private var pending: [UInt8] = []
    private var exhausted = false
    private var started = false
    private var ended = false

    public init(_ source: Source) { self.source = source }

    /// The kind and payload of packet `seq`, the next one; nil after `end`.
    public mutating func next(seq: UInt64) throws -> (kind: Kind, payload: [UInt8])? {
        if ended { return nil }
        if !started {
            started = true
            return (.start, try take(Packet.maxPayload(.start, seq: seq)))
        }
        // `end` is shorter than `data`, so a `data`-sized payload fits it too.
        let payload = try take(Packet.maxPayload(.data, seq: seq))
        // The last payload travels in `end`: look ahead whether input is left.
        try fill(1)
        ended = pending.isEmpty
        return (ended ? .end : .data, payload)
    }

    private mutating func take(_ count: Int) throws -> [UInt8] {
        try fill(count)
        let payload = Array(pending.prefix(count))
        pending.removeFirst(payload.count)
        return payload
    }

    /// Reads until `count` bytes are pending or the input ends.
    private mutating func fill(_ count: Int) throws {
        while pending.count < count && !exhausted {
            let chunk = try source.read(upTo: 64 * 1024)
            exhausted = chunk.isEmpty
            pending += chunk
        }
    }
}

/// The sender's settings (RUDP-60).
public struct SenderConfig: Sendable {
    /// Expect `sack` answers and resend only the holes (RUDP-30, RUDP-32).
    public var sack = false
    /// One line per event on stderr.
    public var debug = false
    /// Fail after this long without cumulative-ack progress (RUDP-44).
    public var giveUp: Duration = .seconds(60)
    /// Seqno of `start` (RUDP-7).
    public var firstSeq: UInt64 = 0

    public init() {}
}

/// What a transfer took, for the debug summary.
public struct SenderStats: Sendable {
    public var packets = 0
    public var bytes = 0
    public var transmissions = 0
    public var fastRetransmits = 0
    public var probes = 0
    public var timeouts = 0
    public var srtt: Duration?
}

/// Why a transfer failed.
public enum SendError: Error, CustomStringConvertible {
    case gaveUp(after: Duration, cumulativeAck: UInt64, packetsAcked: UInt64)
    case seqnoSpaceExhausted
    case input(Error)

    public var description: String {
        switch self {
        case let .gaveUp(after, cum, acked):
            return "no acknowledgement progress for \(Int(after.seconds)) s (cumulative ack \(cum), \(acked) packets acked): giving up"
        case .seqnoSpaceExhausted:
            return "seqno space exhausted (RUDP-3)"
        case .input(let error):
            return "reading the input: \(error)"
        }
    }
}

/// Sends the input to the receiver `socket` is connected to, and returns
/// once `end` is acked (RUDP-45), or throws after `config.giveUp` without
/// progress (RUDP-44).
public func send(_ source: some ByteSource, over socket: UDPSocket, config: SenderConfig) throws -> SenderStats {
    var sender = Sender(socket: socket, config: config, segments: Segmenter(source))
    try sender.run()
    sender.stats.srtt = sender.rto.srtt
    return sender.stats
}

/// Duplicate acks that trigger a fast retransmit (RUDP-42: the 4th identical
/// ack), and the number of sacked packets above a hole that make it lost.
private let duplicateThreshold = 3

/// How long to wait for an ack when no timer runs.
private let idleWait: Duration = .milliseconds(200)

/// The shortest wait before a tail loss probe: on a LAN 2·SRTT is well under
/// a millisecond, less than a busy machine's scheduling hiccups.
private let minimumProbeWait: Duration = .milliseconds(10)

private typealias Instant = ContinuousClock.Instant

/// A packet sent but not yet cumulatively acked.
private struct InFlight {
    let seq: UInt64
    let wire: [UInt8]
    var sentAt: Instant = .now // last transmission
    var transmissions = 0 // Karn's rule: an RTT sample only when this is 1
    var sacked = false // the receiver holds it (listed in a sack)
    var repaired = false // retransmitted in the current recovery episode
}

private struct Sender<Source: ByteSource> {
    let socket: UDPSocket
    let config: SenderConfig
    var segments: Segmenter<Source>
    /// Seqnos cum ..< cum + inFlight.count, at most `window` of them.
    var inFlight: [InFlight] = []
    /// The lowest unacked seqno: the last cumulative ack.
    var cum: UInt64
    var nextSeq: UInt64
    var endSent = false
    /// Duplicate acks in a row (RUDP-42).
    var duplicates = 0
    /// While repairing a loss: nextSeq when the repair began (NewReno's "recover").
    var recovery: UInt64?
    var rto = RTOEstimator()
    /// When the retransmission timer fires (RUDP-41).
    var timer: Instant?
    /// When a packet with later ones acked becomes overdue (RACK).
    var rackTimer: Instant?
    /// Whether an ack arrived since the last timeout.
    var heard = false
    /// When the last ack (any, duplicates too) arrived: the tail loss probe
    /// waits for silence.
    var lastAck: Instant = .now
    /// Whether the head was probed since the cumulative ack last advanced or
    /// the timer last fired: one probe per stall, then the timer takes over.
    var probed = false
    /// When the cumulative ack last advanced (RUDP-44).
    var lastProgress: Instant = .now
    var stats = SenderStats()

    init(socket: UDPSocket, config: SenderConfig, segments: Segmenter<Source>) {
        self.socket = socket
        self.config = config
        self.segments = segments
        cum = config.firstSeq
        nextSeq = config.firstSeq
    }

    mutating func run() throws {
        var buffer = [UInt8](repeating: 0, count: maxDatagram + 1)
        while true {
            try fillWindow()
            if endSent && inFlight.isEmpty { return } // end is acked (RUDP-45)
            if lastProgress.duration(to: .now) >= config.giveUp {
                throw SendError.gaveUp(after: config.giveUp, cumulativeAck: cum, packetsAcked: cum - config.firstSeq)
            }
            let now = Instant.now
            let wake = [timer, rackTimer, probeAt, lastProgress + config.giveUp].compactMap { $0 }.min() ?? now + idleWait
            let wait = max(now.duration(to: wake), .milliseconds(1))
            if let (count, _) = socket.receive(into: &buffer, timeout: wait) {
                onDatagram(buffer[..<count])
            }
            if let rackTimer, .now >= rackTimer { detectLosses() }
            if let timer, .now >= timer {
                onTimeout()
            } else if let probeAt, .now >= probeAt {
                onProbe()
            }
        }
    }

    /// Sends new packets while fewer than `window` are unacked (RUDP-40).
    /// Until `start` is acked only `start` goes out: a receiver drops what
    /// arrives before it (RUDP-11), so a lost `start` would take the whole
    /// window with it.
    mutating func fillWindow() throws {
        let limit = cum == config.firstSeq ? 1 : window
        while !endSent && nextSeq < cum &+ limit {
            // RUDP-3: the ack after the last packet must fit in 64 bits too.
            guard nextSeq < UInt64.max else { throw SendError.seqnoSpaceExhausted }
            let next: (kind: Kind, payload: [UInt8])?
            do { next = try segments.next(seq: nextSeq) } catch { throw SendError.input(error) }
            guard let (kind, payload) = next else { break }
            endSent = kind == .end
            inFlight.append(InFlight(seq: nextSeq, wire: Packet.segment(kind, seq: nextSeq, data: payload)))
            nextSeq += 1
            stats.packets += 1
            stats.bytes += payload.count
            transmit(inFlight.count - 1, why: "new")
        }
    }

    mutating func transmit(_ index: Int, why: String) {
        if !socket.send(inFlight[index].wire) {
            // Not fatal (e.g. ICMP unreachable after an earlier datagram): the timer resends it.
            debug("send \(inFlight[index].seq): \(SystemError("send"))")
        }
        inFlight[index].transmissions += 1
        inFlight[index].sentAt = .now
        stats.transmissions += 1
        debug("-> \(inFlight[index].seq) (\(why), try \(inFlight[index].transmissions), rto \(rto.rto))")
        if timer == nil {
            timer = inFlight[index].sentAt + rto.rto // RFC 6298 (5.1)
        }
    }

    mutating func retransmit(_ index: Int, why: String) {
        inFlight[index].repaired = true
        transmit(index, why: why)
        if index == 0 {
            timer = .now + rto.rto // the repaired head gets a whole timeout
        }
    }

    mutating func onDatagram(_ datagram: ArraySlice<UInt8>) {
        let ack: Packet
        do {
            ack = try Packet(parsing: datagram)
        } catch {
            debug("dropped an ack: \(error)") // RUDP-6, RUDP-8
            return
        }
        guard ack.kind.isAck else {
            debug("dropped a \(ack.kind.rawValue) packet")
            return
        }
        debug("<- \(ack.kind.rawValue) \(ack.seq) \(ack.sacks)")
        // Acks for seqnos never sent are bogus; older than cum, reordered.
        guard ack.seq >= cum && ack.seq <= nextSeq else { return }
        heard = true
        lastAck = .now
        if ack.seq > cum {
            onProgress(to: ack.seq)
        } else if !inFlight.isEmpty {
            duplicates += 1
        }
        if config.sack && ack.kind == .sack {
            // The head (seqno cum) cannot be held, or the ack would be past it.
            for seq in ack.sacks where seq > cum && seq < nextSeq {
                inFlight[Int(seq - cum)].sacked = true
            }
        }
        detectLosses()
    }

    /// The cumulative ack advanced from `cum` to `ack`.
    mutating func onProgress(to ack: UInt64) {
        let acked = inFlight.prefix(Int(ack - cum))
        // Karn's rule (RUDP-41): no sample if a newly acked packet was sent
        // twice, since the ack may be for either copy. The oldest one's time
        // errs on the long side, the safe side for a timeout.
        if acked.allSatisfy({ $0.transmissions == 1 }), let oldest = acked.first {
            rto.sample(oldest.sentAt.duration(to: .now))
        }
        inFlight.removeFirst(acked.count)
        cum = ack
        duplicates = 0
        probed = false
        lastProgress = .now
        rto.resetBackoff()
        timer = inFlight.isEmpty ? nil : .now + rto.rto
        if let recover = recovery, ack >= recover {
            recovery = nil // everything sent before the loss is acked
        }
    }

    mutating func enterRecovery() {
        recovery = nextSeq
        for i in inFlight.indices { inFlight[i].repaired = false }
    }

    /// Loss detection after every ack, so that losses are repaired without
    /// waiting for the timer (RUDP-42, RUDP-32). A packet the receiver is not
    /// known to hold is lost when packets sent after it are known to have
    /// arrived (duplicate acks, or sacked packets above it), and either
    /// - three of them did: the 4th identical ack, or 3 sacked above it
    ///   (RFC 6675); or
    /// - it has been out longer than a round trip plus a margin for
    ///   reordering (RACK, RFC 8985), which also repairs a loss whose
    ///   duplicate acks were lost too.
    /// Each packet is resent this way once per recovery episode; if that
    /// repair is lost as well, the timer resends it. Sacked packets are never
    /// resent (RUDP-32).
    mutating func detectLosses() {
        let reorderWindow = rto.srtt.map { $0 + max($0 / 4, .milliseconds(2)) }
        rackTimer = nil
        var sackedAbove = 0
        for i in inFlight.indices.reversed() {
            if inFlight[i].sacked {
                sackedAbove += 1
                continue
            }
            // Duplicate acks only say that something after the head arrived.
            let evidence = i == 0 ? max(sackedAbove, duplicates) : sackedAbove
            if evidence == 0 || inFlight[i].repaired { continue }
            let due = reorderWindow.map { inFlight[i].sentAt + $0 }
            if evidence >= duplicateThreshold || due.map({ .now >= $0 }) == true {
                if recovery == nil { enterRecovery() }
                stats.fastRetransmits += 1
                retransmit(i, why: "fast retransmit")
            } else if let due {
                // Look again when it will be overdue, even if no ack comes.
                rackTimer = min(rackTimer ?? due, due)
            }
        }
    }

    /// When to send a tail loss probe (RFC 8985, section 7, "TLP"): once
    /// nothing at all has come back for two round trips since the head was
    /// last sent. With a window of 5 a lost repair, a lost last packet or a
    /// run of lost acks leaves no later packet to cause the duplicate acks
    /// that RACK needs, and the timer's 200 ms floor (RUDP-41) is a hundred
    /// round trips on a LAN. Resending the head then restarts the ack clock:
    /// its ack, or the duplicate ack it causes, tells what is missing. Not
    /// before the first RTT sample, and once per stall (see `probed`). The
    /// idea is the reference's probe timer and clients/java's probeAt.
    var probeAt: Instant? {
        guard !probed, let head = inFlight.first, let srtt = rto.srtt else { return nil }
        return max(head.sentAt, lastAck) + max(srtt * 2, minimumProbeWait)
    }

    /// The tail loss probe is due: resend the head once. It counts as a
    /// repair (a recovery episode starts if none runs), and, as any
    /// retransmission of the head, restarts the retransmission timer.
    mutating func onProbe() {
        guard !inFlight.isEmpty else { return }
        probed = true
        stats.probes += 1
        if recovery == nil { enterRecovery() }
        retransmit(0, why: "tail loss probe")
    }

    /// The retransmission timer fired (RUDP-41). A whole RTO without progress
    /// says nothing is known to have arrived, so, as TCP does after a timeout
    /// (RFC 5681 3.1, RFC 6675 5.1), resend every unacked packet the receiver
    /// is not known to hold (RUDP-32): without SACK the whole window, as the
    /// course's Go-Back-N sender does. With the window stuck behind a lost
    /// repair, resending the head alone would need both it and its ack to get
    /// through, and under heavy loss would wait out timer after timer
    /// (spec/rudp.md, "The reference ... follows the rules above", item 3).
    mutating func onTimeout() {
        timer = nil
        guard !inFlight.isEmpty else { return }
        stats.timeouts += 1
        // RFC 6298 (5.5) doubles the RTO, but only while the path is silent:
        // acks (even duplicates) since the last timeout mean the losses are
        // random, not an outage, and doubling would stretch every later wait.
        if heard { rto.resetBackoff() } else { rto.backOff() }
        heard = false
        duplicates = 0
        // The resent window may stall again: allow one more probe.
        probed = false
        enterRecovery()
        let resend = inFlight.indices.filter { !inFlight[$0].sacked }
        for i in resend { retransmit(i, why: "timeout") }
        if resend.count == 1 {
            // A lone packet (a last hole, or the last packet) goes twice: its
            // repair needs it and one ack to get through, and under heavy loss
            // a second copy nearly halves the rounds that bring no ack.
            retransmit(resend[0], why: "timeout, second copy")
        }
    }

    func debug(_ message: @autoclosure () -> String) {
        if config.debug { printError(message()) }
    }
}

/// Writes one line to stderr (diagnostics, MANIFEST-14).
public func printError(_ message: String) {
    fputs(message + "\n", stderr)
}
