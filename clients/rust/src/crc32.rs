//! CRC-32 (IEEE 802.3, the one in zlib, PNG and Go's `hash/crc32.ChecksumIEEE`).
//!
//! RUDP-4: the checksum of a datagram is the decimal text of this CRC over every
//! byte up to and including the last `|`. The standard library has no CRC, so
//! here is the classic table-driven version (reflected polynomial 0xEDB88320,
//! initial value and final XOR 0xFFFFFFFF).

/// One entry per byte value, computed at compile time.
const TABLE: [u32; 256] = make_table();

const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// Returns the CRC-32 of `bytes`.
pub fn checksum(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc = TABLE[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::checksum;

    #[test]
    fn standard_check_value() {
        // The "check" value every CRC-32/IEEE implementation must produce.
        assert_eq!(checksum(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn empty_input() {
        assert_eq!(checksum(b""), 0);
    }
}
