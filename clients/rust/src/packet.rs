//! The RUDP datagram codec: `<type>|<seqno>|<data>|<checksum>` (RUDP-1) and
//! the acks `ack|<seqno>|<checksum>` (RUDP-6) and `sack|<cum>;<s1>,<s2>|<checksum>` (RUDP-30).

use crate::crc32;
use std::fmt;

/// The largest datagram either side may send (RUDP-2).
pub const MAX_DATAGRAM: usize = 1472;

/// The window, in packets: the receiver buffers next-expected .. next-expected+4
/// (RUDP-12) and the sender never sends a seqno >= cumulative ack + 5 (RUDP-40).
pub const WINDOW: u64 = 5;

/// The longest checksum text: u32::MAX is 4294967295, ten digits.
const MAX_CHECKSUM_DIGITS: usize = 10;

/// The packet types. The sender sends `Start`, `Data` and `End`; the receiver
/// answers with `Ack`, or `Sack` when selective acks are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Start,
    Data,
    End,
    Ack,
    Sack,
}

impl Kind {
    /// The type as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Start => "start",
            Kind::Data => "data",
            Kind::End => "end",
            Kind::Ack => "ack",
            Kind::Sack => "sack",
        }
    }

    fn from_wire(text: &[u8]) -> Option<Kind> {
        match text {
            b"start" => Some(Kind::Start),
            b"data" => Some(Kind::Data),
            b"end" => Some(Kind::End),
            b"ack" => Some(Kind::Ack),
            b"sack" => Some(Kind::Sack),
            _ => None,
        }
    }
}

/// One decoded datagram. `data` is empty for acks; `sacks` is only used by `Sack`.
/// For acks `seq` is the next seqno the receiver expects (RUDP-13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub kind: Kind,
    pub seq: u64,
    pub data: Vec<u8>,
    pub sacks: Vec<u64>,
}

/// Why a datagram was rejected. Both programs drop such datagrams silently
/// (RUDP-8); the reason only shows up in debug output and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    TooLong,
    Malformed(&'static str),
    BadChecksum,
    UnknownType,
    BadSeqno,
    BadSackList,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ParseError::TooLong => write!(f, "datagram longer than {MAX_DATAGRAM} bytes"),
            ParseError::Malformed(why) => write!(f, "malformed datagram: {why}"),
            ParseError::BadChecksum => write!(f, "checksum mismatch"),
            ParseError::UnknownType => write!(f, "unknown packet type"),
            ParseError::BadSeqno => write!(f, "seqno is not a decimal number"),
            ParseError::BadSackList => write!(f, "malformed sack list"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Encodes a `start`, `data` or `end` datagram carrying `data`.
pub fn encode_segment(kind: Kind, seq: u64, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 32);
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(format!("|{seq}|").as_bytes());
    out.extend_from_slice(data);
    out.push(b'|');
    append_checksum(out)
}

/// Encodes a cumulative ack, or a selective ack when `sacks` is `Some`
/// (the list must already be in ascending order, RUDP-31).
pub fn encode_ack(next: u64, sacks: Option<&[u64]>) -> Vec<u8> {
    let text = match sacks {
        None => format!("ack|{next}|"),
        Some(list) => {
            let list: Vec<String> = list.iter().map(u64::to_string).collect();
            format!("sack|{next};{}|", list.join(","))
        }
    };
    append_checksum(text.into_bytes())
}

/// Appends the checksum of everything so far, which ends with the last `|` (RUDP-4).
fn append_checksum(mut out: Vec<u8>) -> Vec<u8> {
    let sum = crc32::checksum(&out);
    out.extend_from_slice(sum.to_string().as_bytes());
    out
}

/// How many data bytes a `kind` datagram with this seqno can carry so that
/// it never exceeds [`MAX_DATAGRAM`], whatever its checksum (RUDP-2, RUDP-46).
pub fn max_payload(kind: Kind, seq: u64) -> usize {
    let header = kind.as_str().len() + 1 + seq.to_string().len() + 1; // "data|17|"
    MAX_DATAGRAM - header - 1 - MAX_CHECKSUM_DIGITS // "|4294967295"
}

/// Decodes one datagram as RUDP-5 says: the type runs to the first `|`, the
/// seqno to the second, the checksum follows the LAST `|`, and the data is
/// everything in between, so data may itself contain `|` or any other byte.
pub fn parse(datagram: &[u8]) -> Result<Packet, ParseError> {
    if datagram.len() > MAX_DATAGRAM {
        return Err(ParseError::TooLong);
    }
    let last = rfind(datagram, b'|').ok_or(ParseError::Malformed("no '|'"))?;
    let sum = &datagram[last + 1..];
    if sum.is_empty() || !sum.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::Malformed("checksum field"));
    }
    // Compared as text: only the canonical decimal form is valid (no leading
    // zeros), as in the course receiver, which compares strings.
    if sum != crc32::checksum(&datagram[..=last]).to_string().as_bytes() {
        return Err(ParseError::BadChecksum);
    }
    let first = find(datagram, b'|').unwrap_or(last);
    let kind = Kind::from_wire(&datagram[..first]).ok_or(ParseError::UnknownType)?;
    if first == last {
        return Err(ParseError::Malformed("only one '|'"));
    }
    // "<seq>|<data>" for start/data/end, "<seq>" for ack, "<cum>;<list>" for sack.
    let middle = &datagram[first + 1..last];
    if matches!(kind, Kind::Ack | Kind::Sack) && find(middle, b'|').is_some() {
        return Err(ParseError::Malformed("acks have three fields"));
    }
    match kind {
        Kind::Ack => Ok(Packet {
            kind,
            seq: parse_decimal(middle).ok_or(ParseError::BadSeqno)?,
            data: Vec::new(),
            sacks: Vec::new(),
        }),
        Kind::Sack => parse_sack(middle),
        Kind::Start | Kind::Data | Kind::End => {
            let second = find(middle, b'|').ok_or(ParseError::Malformed("missing data field"))?;
            Ok(Packet {
                kind,
                seq: parse_decimal(&middle[..second]).ok_or(ParseError::BadSeqno)?,
                data: middle[second + 1..].to_vec(),
                sacks: Vec::new(),
            })
        }
    }
}

/// Parses `<cum>;<s1>,<s2>,...` (the list may be empty, and the `;` absent).
fn parse_sack(field: &[u8]) -> Result<Packet, ParseError> {
    let (cum, list) = match find(field, b';') {
        Some(i) => (&field[..i], &field[i + 1..]),
        None => (field, &[][..]),
    };
    let seq = parse_decimal(cum).ok_or(ParseError::BadSeqno)?;
    let sacks = if list.is_empty() {
        Vec::new()
    } else {
        list.split(|&b| b == b',').map(parse_decimal).collect::<Option<Vec<u64>>>().ok_or(ParseError::BadSackList)?
    };
    Ok(Packet { kind: Kind::Sack, seq, data: Vec::new(), sacks })
}

/// Accepts only ASCII digits, 1 to 20 of them (leading zeros allowed), no
/// sign or spaces, whose value fits in a u64 (RUDP-3).
fn parse_decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn find(bytes: &[u8], byte: u8) -> Option<usize> {
    bytes.iter().position(|&b| b == byte)
}

fn rfind(bytes: &[u8], byte: u8) -> Option<usize> {
    bytes.iter().rposition(|&b| b == byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_round_trip() {
        let wire = encode_segment(Kind::Data, 42, b"hello");
        let p = parse(&wire).unwrap();
        assert_eq!((p.kind, p.seq, p.data.as_slice()), (Kind::Data, 42, &b"hello"[..]));
    }

    #[test]
    fn data_may_contain_pipes_and_any_byte() {
        let data = b"a|b||\0\xff\x80|";
        let wire = encode_segment(Kind::Start, 7, data);
        let p = parse(&wire).unwrap();
        assert_eq!(p.kind, Kind::Start);
        assert_eq!(p.seq, 7);
        assert_eq!(p.data, data);
    }

    #[test]
    fn empty_data_is_valid() {
        let p = parse(&encode_segment(Kind::End, 3, b"")).unwrap();
        assert_eq!((p.kind, p.seq, p.data.len()), (Kind::End, 3, 0));
    }

    #[test]
    fn acks_round_trip() {
        assert_eq!(parse(&encode_ack(9, None)).unwrap().seq, 9);
        let p = parse(&encode_ack(9, Some(&[11, 13]))).unwrap();
        assert_eq!((p.kind, p.seq, p.sacks), (Kind::Sack, 9, vec![11, 13]));
        let p = parse(&encode_ack(9, Some(&[]))).unwrap();
        assert_eq!((p.kind, p.sacks.len()), (Kind::Sack, 0));
        assert_eq!(encode_ack(9, Some(&[11, 13]))[..12], b"sack|9;11,13"[..]);
    }

    #[test]
    fn rejects_bad_datagrams() {
        let mut wire = encode_segment(Kind::Data, 1, b"x");
        wire[6] = b'y'; // corrupt the data: checksum no longer matches
        assert_eq!(parse(&wire), Err(ParseError::BadChecksum));
        assert_eq!(parse(&with_checksum("nope|1|x|")), Err(ParseError::UnknownType));
        assert_eq!(parse(&with_checksum("data|-1|x|")), Err(ParseError::BadSeqno));
        assert_eq!(parse(&with_checksum("data| 1|x|")), Err(ParseError::BadSeqno));
        assert_eq!(parse(&with_checksum("data|1|")), Err(ParseError::Malformed("missing data field")));
        assert_eq!(parse(&with_checksum("ack|")), Err(ParseError::Malformed("only one '|'")));
        assert_eq!(parse(&with_checksum("ack|1|2|")), Err(ParseError::Malformed("acks have three fields")));
        assert_eq!(parse(&with_checksum("sack|1;2,,3|")), Err(ParseError::BadSackList));
        assert_eq!(parse(b"data|1|x|"), Err(ParseError::Malformed("checksum field")));
        assert_eq!(parse(b"no pipes at all"), Err(ParseError::Malformed("no '|'")));
        assert_eq!(parse(&encode_segment(Kind::Data, 1, &[b'x'; MAX_DATAGRAM])), Err(ParseError::TooLong));
    }

    #[test]
    fn max_payload_fills_but_never_exceeds_a_datagram() {
        for &(kind, seq) in &[(Kind::Start, 0), (Kind::Data, 99), (Kind::Data, 100), (Kind::End, u64::MAX)] {
            let n = max_payload(kind, seq);
            let header = kind.as_str().len() + seq.to_string().len() + 2;
            assert_eq!(header + n + 1 + MAX_CHECKSUM_DIGITS, MAX_DATAGRAM);
            assert!(encode_segment(kind, seq, &vec![0xAB; n]).len() <= MAX_DATAGRAM);
        }
    }

    fn with_checksum(text: &str) -> Vec<u8> {
        append_checksum(text.as_bytes().to_vec())
    }
}
