import XCTest
import Interop

final class PacketTests: XCTestCase {
    func testCRC32CheckValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([]), 0)
    }

    /// The worked examples of RUDP-4 and RUDP-5.
    func testWorkedExamples() throws {
        XCTAssertEqual(Packet.segment(.start, seq: 0, data: Array("hello".utf8)), Array("start|0|hello|1374653333".utf8))
        XCTAssertEqual(Packet.ack(next: 1), Array("ack|1|2195368786".utf8)) // above 2^31: printed unsigned
        XCTAssertEqual(Packet.ack(next: 3, sacks: [5, 6]), Array("sack|3;5,6|2211952226".utf8))
        let p = try Packet(parsing: Array("data|7|a|b|3661478912".utf8))
        XCTAssertEqual(p, Packet(kind: .data, seq: 7, data: Array("a|b".utf8)))
    }

    func testBinaryDataRoundTrips() throws {
        let data: [UInt8] = Array("a|b||".utf8) + [0, 0xFF, 0x80, 0x7C, 0x0A, 0x0D]
        let p = try Packet(parsing: Packet.segment(.start, seq: 7, data: data))
        XCTAssertEqual(p, Packet(kind: .start, seq: 7, data: data))
        XCTAssertEqual(try Packet(parsing: Packet.segment(.end, seq: 3, data: [])), Packet(kind: .end, seq: 3))
    }

    func testSackRoundTrips() throws {
        XCTAssertEqual(try Packet(parsing: Packet.ack(next: 9, sacks: [11, 13])), Packet(kind: .sack, seq: 9, sacks: [11, 13]))
        XCTAssertEqual(try Packet(parsing: Packet.ack(next: 9, sacks: [])), Packet(kind: .sack, seq: 9))
    }

    func testRejectsCorruption() {
        var wire = Packet.segment(.data, seq: 1, data: Array("x".utf8))
        wire[7] = UInt8(ascii: "y")
        XCTAssertThrowsError(try Packet(parsing: wire)) { XCTAssertEqual($0 as? ParseError, .checksum) }
        let oversize = Packet.segment(.data, seq: 1, data: [UInt8](repeating: 1, count: maxDatagram))
        XCTAssertThrowsError(try Packet(parsing: oversize)) { XCTAssertEqual($0 as? ParseError, .tooLong) }
    }

    /// RUDP-46: datagrams are filled, and never exceed 1472 bytes whatever the checksum.
    func testMaxPayloadFillsButNeverExceeds() {
        for (kind, seq) in [(Kind.start, UInt64(0)), (.data, 99), (.data, 100), (.end, UInt64.max - 1)] {
            let n = Packet.maxPayload(kind, seq: seq)
            XCTAssertEqual(kind.rawValue.count + String(seq).count + 2 + n + 1 + 10, maxDatagram)
            XCTAssertLessThanOrEqual(Packet.segment(kind, seq: seq, data: [UInt8](repeating: 0xAB, count: n)).count, maxDatagram)
        }
    }

    /// Every vector of spec/vectors/datagrams.json: accepted or rejected as
    /// the spec says, with the decoded fields and the error class.
    func testDatagramVectors() throws {
        let vectors = try Vectors.load("datagrams.json")
        XCTAssertGreaterThan(vectors.count, 30)
        for vector in vectors {
            let name = vector["name"] as! String
            let datagram = Vectors.bytes(vector["datagram"])!
            if vector["valid"] as! Bool {
                let expected = vector["packet"] as! [String: Any]
                guard let p = XCTAssertNoThrowValue(try Packet(parsing: datagram), name) else { continue }
                XCTAssertEqual(p.kind.rawValue, expected["type"] as? String, name)
                XCTAssertEqual(String(p.seq), expected["seqno"] as? String, name)
                XCTAssertEqual(p.data, Vectors.bytes(expected["data"]) ?? [], name)
                XCTAssertEqual(p.sacks.map(String.init), expected["sacks"] as? [String] ?? [], name)
                if vector["canonical"] as? Bool == true {
                    let encoded = p.kind.isAck ? Packet.ack(next: p.seq, sacks: p.kind == .sack ? p.sacks : nil)
                                               : Packet.segment(p.kind, seq: p.seq, data: p.data)
                    XCTAssertEqual(encoded, datagram, "\(name): encoding")
                }
            } else {
                XCTAssertThrowsError(try Packet(parsing: datagram), name) { error in
                    XCTAssertEqual((error as? ParseError)?.errorClass, vector["error"] as? String, name)
                }
            }
        }
    }
}

func XCTAssertNoThrowValue<T>(_ expression: @autoclosure () throws -> T, _ message: String,
                              file: StaticString = #filePath, line: UInt = #line) -> T? {
    do {
        return try expression()
    } catch {
        XCTFail("\(message): \(error)", file: file, line: line)
        return nil
    }
}
