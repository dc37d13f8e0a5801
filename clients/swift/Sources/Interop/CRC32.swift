/// CRC-32 (IEEE 802.3), the one in zlib, PNG and Go's `crc32.ChecksumIEEE`.
///
/// RUDP-4: a datagram's checksum is the decimal text of this CRC over every
/// byte up to and including the last `|`. The standard library has no CRC,
/// so this is the classic table-driven version: reflected polynomial
/// 0xEDB88320, initial value and final XOR 0xFFFFFFFF.
public enum CRC32 {
    /// One entry per byte value, computed once on first use.
    private static let table: [UInt32] = (0..<256).map { index in
        var c = UInt32(index)
        for _ in 0..<8 {
            c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1
        }
        return c
    }

    /// The CRC-32 of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        return ~crc
    }
}
