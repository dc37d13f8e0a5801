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
