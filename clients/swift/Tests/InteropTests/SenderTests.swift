import Glibc
import XCTest
import Interop

final class SenderTests: XCTestCase {
    func testRTOStartsAt500msAndFollowsRFC6298() {
        var rto = RTOEstimator()
        XCTAssertEqual(rto.rto, .milliseconds(500))
        rto.sample(.milliseconds(100)) // SRTT 100, RTTVAR 50: 100 + 4*50
        XCTAssertEqual(rto.rto, .milliseconds(300))
        for _ in 0..<50 { rto.sample(.milliseconds(1)) }
        XCTAssertEqual(rto.rto, RTOEstimator.minimum)
    }

    func testBackoffDoublesUpToTheCapAndResets() {
        var rto = RTOEstimator()
        rto.backOff()
        XCTAssertEqual(rto.rto, .seconds(1))
        for _ in 0..<40 { rto.backOff() }
        XCTAssertEqual(rto.rto, RTOEstimator.maximum)
        rto.resetBackoff()
        XCTAssertEqual(rto.rto, .milliseconds(500))
    }

    /// RUDP-7: start first, end last, full payloads, and the input intact.
    func testSegmenterSplitsAsTheReferenceDoes() throws {
        XCTAssertEqual(try segments(of: []).map(\.kind), [.start, .end])
        XCTAssertEqual(try segments(of: [1, 2, 3]).map(\.kind), [.start, .end])
        XCTAssertEqual(try segments(of: [1, 2, 3]).map(\.payload), [[1, 2, 3], []])

        let input = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let parts = try segments(of: input)
        XCTAssertEqual(parts.first?.kind, .start)
        XCTAssertEqual(parts.last?.kind, .end)
        XCTAssert(parts.dropFirst().dropLast().allSatisfy { $0.kind == .data })
        XCTAssertEqual(parts[0].payload.count, Packet.maxPayload(.start, seq: 100))
        XCTAssertEqual(parts[1].payload.count, Packet.maxPayload(.data, seq: 101))
        XCTAssertEqual(parts.flatMap(\.payload), input)
    }

    // Loss repair against a scripted receiver on 127.0.0.1. Seqnos are
    // offsets from `start` (0); the window after start is 1...5. The checks
    // count the copies the receiver got: a timeout resends the whole window,
    // so "packet 2 went once" means the timer never fired. (Only a stall of
    // the machine longer than the 200 ms timer could fail them.)

    /// RUDP-42 with RACK (RFC 8985): one duplicate ack is enough to repair
    /// a packet that has been out longer than SRTT + max(SRTT/4, 2 ms).
    func testOneDuplicateAckRepairsAnOverdueHead() throws {
        let copies = try scriptedTransfer(
            dropData: { seq, copy in seq == 1 && copy == 1 },
            dropAck: { seq, copy in (3...5).contains(seq) && copy == 1 }) // one duplicate ack only
        XCTAssertGreaterThanOrEqual(copies[1, default: 0], 2)
        XCTAssertEqual(copies[2, default: 0], 1, "the window was resent: the timer fired instead of RACK")
    }

    /// Tail loss probe (RFC 8985, section 7): a repair that is lost too gets
    /// no ack at all; it is sent again after 2·SRTT (at least 10 ms), long
    /// before the timer.
    func testLostRepairIsProbedBeforeTheTimer() throws {
        let copies = try scriptedTransfer(
            dropData: { seq, copy in seq == 1 && copy <= 2 },
            dropAck: { seq, copy in (3...5).contains(seq) && copy == 1 })
        XCTAssertEqual(copies[1, default: 0], 3) // new, fast retransmit, probe
        XCTAssertEqual(copies[2, default: 0], 1, "the window was resent: the timer fired instead of the probe")
    }

    /// RUDP-41 on a silent path: each expiry resends the whole window
    /// (spec/rudp.md, the reference's rule 3), a probe goes between expiries,
    /// and the sender gives up (RUDP-44).
    func testSilentPathGetsWholeWindowResendsAndProbes() throws {
        let copies = try scriptedTransfer(giveUp: .seconds(1), dropData: { seq, _ in seq > 0 }, dropAck: { _, _ in false })
        XCTAssertGreaterThanOrEqual(copies[5, default: 0], 2, "a timeout resends the whole window")
        XCTAssertGreaterThan(copies[1, default: 0], copies[2, default: 0], "probes resend the head between timeouts")
    }

    /// Sends about ten packets to a receiver that holds the window and acks
    /// cumulatively (RUDP-12, RUDP-13), except that it ignores the packets
    /// `dropData` names and sends no ack for those `dropAck` names (by seqno
    /// offset and copy number, from 1). Returns the copies of each seqno that
    /// arrived, once the sender has been silent for 2 s.
    private func scriptedTransfer(giveUp: Duration = .seconds(20),
                                  dropData: (UInt64, Int) -> Bool,
                                  dropAck: (UInt64, Int) -> Bool) throws -> [UInt64: Int] {
        let first: UInt64 = 500
        let receiver = try UDPSocket.listening(port: 0)
        let peer = try resolve("127.0.0.1", port: receiver.localPort, type: Int32(SOCK_DGRAM.rawValue))[0]
        let socket = try UDPSocket.connected(to: peer)
        var config = SenderConfig()
        config.firstSeq = first
        config.giveUp = giveUp
        let input = [UInt8](repeating: 42, count: 14_000)
        XCTAssert(startThread { _ = try? send(ArraySource(input), over: socket, config: config) })

        var copies: [UInt64: Int] = [:]
        var held = Set<UInt64>()
        var next = first
        var buffer = [UInt8](repeating: 0, count: maxDatagram + 1)
        var lastHeard = ContinuousClock.now
        while lastHeard.duration(to: .now) < .seconds(2) {
            guard let (count, from) = receiver.receive(into: &buffer, timeout: .milliseconds(100)),
                  let packet = try? Packet(parsing: buffer[..<count]) else { continue }
            lastHeard = .now
            let seq = packet.seq - first
            copies[seq, default: 0] += 1
            if dropData(seq, copies[seq]!) { continue }
            if packet.seq >= next && packet.seq < next + window { held.insert(packet.seq) }
            while held.remove(next) != nil { next += 1 }
            if !dropAck(seq, copies[seq]!) { receiver.send(Packet.ack(next: next), to: from) }
        }
        return copies
    }

    private func segments(of input: [UInt8]) throws -> [(kind: Kind, payload: [UInt8])] {
        var segmenter = Segmenter(ArraySource(input))
        var result: [(kind: Kind, payload: [UInt8])] = []
        var seq: UInt64 = 100
        while let next = try segmenter.next(seq: seq) {
            result.append(next)
            seq += 1
        }
        return result
    }
}
