/// The RUDP datagram codec: `<type>|<seqno>|<data>|<checksum>` (RUDP-1), the
/// acks `ack|<seqno>|<checksum>` (RUDP-6) and, in SACK mode,
/// `sack|<cum>;<s1>,<s2>,...|<checksum>` (RUDP-30).
///
/// Datagrams are `[UInt8]`, never `String`: data is binary (RUDP-5).

/// The largest datagram either side may send or accept (RUDP-2).
public let maxDatagram = 1472

/// The window, in packets: the receiver buffers next-expected ... +4
/// (RUDP-12) and the sender never sends seqno >= cumulative ack + 5 (RUDP-40).
public let window: UInt64 = 5

/// The longest checksum text: UInt32.max is 4294967295, ten digits.
private let maxChecksumDigits = 10

private let pipe = UInt8(ascii: "|")

/// The packet types. Senders send `start`, `data` and `end`; receivers answer
/// with `ack`, or `sack` when selective acks are on.
public enum Kind: String, Sendable {
    case start, data, end, ack, sack

    /// Whether this is a receiver's answer rather than part of a file.
    public var isAck: Bool { self == .ack || self == .sack }
}

/// One decoded datagram. For acks `seq` is the next seqno the receiver
/// expects (RUDP-13), `data` is empty, and `sacks` lists held seqnos (sack only).
public struct Packet: Equatable, Sendable {
    public var kind: Kind
    public var seq: UInt64
    public var data: [UInt8]
    public var sacks: [UInt64]

    public init(kind: Kind, seq: UInt64, data: [UInt8] = [], sacks: [UInt64] = []) {
        self.kind = kind
        self.seq = seq
        self.data = data
        self.sacks = sacks
    }
}

/// Why a datagram was rejected, named as the classes in spec/vectors/README.md.
/// Both programs drop such datagrams silently (RUDP-8); the reason only shows
/// in debug output and tests.
public enum ParseError: Error, Equatable, CustomStringConvertible {
    case tooLong
    case malformed(String)
    case checksum
    case type
    case seqno
    case sack

    /// The error class of spec/vectors/datagrams.json.
    public var errorClass: String {
        switch self {
        case .tooLong: return "too_long"
        case .malformed: return "malformed"
        case .checksum: return "checksum"
        case .type: return "type"
        case .seqno: return "seqno"
        case .sack: return "sack"
        }
    }

    public var description: String {
        switch self {
        case .tooLong: return "datagram longer than \(maxDatagram) bytes"
        case .malformed(let why): return "malformed datagram: \(why)"
        case .checksum: return "checksum mismatch"
        case .type: return "unknown packet type"
        case .seqno: return "seqno is not a decimal number below 2^64"
        case .sack: return "malformed sack list"
        }
    }
}

extension Packet {
    /// Encodes a `start`, `data` or `end` datagram.
    public static func segment(_ kind: Kind, seq: UInt64, data: [UInt8]) -> [UInt8] {
        var out = Array("\(kind.rawValue)|\(seq)|".utf8)
        out.reserveCapacity(out.count + data.count + 1 + maxChecksumDigits)
        out += data
        out.append(pipe)
        return withChecksum(out)
    }

    /// Encodes a cumulative ack, or a selective ack when `sacks` is given
    /// (ascending, RUDP-31), e.g. `sack|3;5,6|2211952226`.
    public static func ack(next: UInt64, sacks: [UInt64]? = nil) -> [UInt8] {
        guard let sacks else { return withChecksum(Array("ack|\(next)|".utf8)) }
        let list = sacks.map(String.init).joined(separator: ",")
        return withChecksum(Array("sack|\(next);\(list)|".utf8))
    }

    /// Appends the checksum of everything so far, which ends with the last `|` (RUDP-4).
    private static func withChecksum(_ bytes: [UInt8]) -> [UInt8] {
        bytes + Array(String(CRC32.checksum(bytes)).utf8)
    }

    /// How many data bytes a `kind` datagram with this seqno can carry so that
    /// it never exceeds `maxDatagram`, whatever its checksum (RUDP-2, RUDP-46).
    public static func maxPayload(_ kind: Kind, seq: UInt64) -> Int {
        let header = kind.rawValue.utf8.count + 1 + String(seq).utf8.count + 1 // "data|17|"
        return maxDatagram - header - 1 - maxChecksumDigits // "|4294967295"
    }

    /// Decodes a datagram as RUDP-5 says: the type runs to the first `|`, the
    /// seqno to the second, the checksum follows the LAST `|`, and the data is
    /// everything in between, so data may itself contain `|` or any byte.
    public init(parsing datagram: some Collection<UInt8>) throws {
        let bytes = Array(datagram)
        guard bytes.count <= maxDatagram else { throw ParseError.tooLong }
        guard let last = bytes.lastIndex(of: pipe) else { throw ParseError.malformed("no '|'") }
        let checksum = bytes[(last + 1)...]
        guard !checksum.isEmpty, checksum.allSatisfy(isDigit) else {
            throw ParseError.malformed("checksum field is not a decimal number")
        }
        let first = bytes.firstIndex(of: pipe)!
        guard first != last else { throw ParseError.malformed("only one '|'") }
        // "<seq>|<data>" for start/data/end, "<seq>" for ack, "<cum>;<list>" for sack.
        let middle = bytes[(first + 1)..<last]
        let kind = Kind(rawValue: String(decoding: bytes[..<first], as: UTF8.self))
        let second = middle.firstIndex(of: pipe)
        switch kind {
        case .start?, .data?, .end?:
            if second == nil { throw ParseError.malformed("no data field") }
        case .ack?, .sack?:
            if second != nil { throw ParseError.malformed("an ack has three fields") }
        case nil:
            break
        }
        // Compared as text, like the course receiver: only the canonical
        // decimal form is valid, so no leading zeros (RUDP-4).
        guard checksum.elementsEqual(String(CRC32.checksum(bytes[...last])).utf8) else {
            throw ParseError.checksum
        }
        guard let kind else { throw ParseError.type }

        switch kind {
        case .start, .data, .end:
            let second = second!
            guard let seq = parseSeqno(middle[..<second]) else { throw ParseError.seqno }
            self.init(kind: kind, seq: seq, data: Array(middle[(second + 1)...]))
        case .ack:
            guard let seq = parseSeqno(middle) else { throw ParseError.seqno }
            self.init(kind: .ack, seq: seq)
        case .sack:
            // `<cum>;<s1>,<s2>`; the list may be empty and the `;` absent (RUDP-30).
            let semicolon = middle.firstIndex(of: UInt8(ascii: ";")) ?? middle.endIndex
            guard let cum = parseSeqno(middle[..<semicolon]) else { throw ParseError.seqno }
            var sacks: [UInt64] = []
            if semicolon < middle.endIndex, semicolon + 1 < middle.endIndex {
                let items = middle[(semicolon + 1)...].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
                for item in items {
                    guard let seq = parseSeqno(item) else { throw ParseError.sack }
                    sacks.append(seq)
                }
            }
            self.init(kind: .sack, seq: cum, sacks: sacks)
        }
    }
}

private func isDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
}

/// 1 to 20 ASCII digits (leading zeros allowed), no sign or space, with a
/// value below 2^64 (RUDP-3). `UInt64("+1")` would accept a sign, so the
/// digits are checked first.
func parseSeqno(_ text: some Collection<UInt8>) -> UInt64? {
    guard (1...20).contains(text.count), text.allSatisfy(isDigit) else { return nil }
    return UInt64(String(decoding: text, as: UTF8.self))
}
