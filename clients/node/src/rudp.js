// The RUDP datagram codec (spec/rudp.md): CRC-32 checksum, encoding and parsing.
//
//   start|<seqno>|<data>|<checksum>      data|...   end|...     (sender)
//   ack|<seqno>|<checksum>               sack|<cum>;<s1>,<s2>|<checksum>   (receiver)
//
// Seqnos are BigInts: a peer may pick any start number that fits in 64 bits
// (RUDP-3), beyond the 2^53 a JavaScript Number holds exactly.

export const MAX_DATAGRAM = 1472; // RUDP-2
export const SENDER_TYPES = new Set(['start', 'data', 'end']); // RUDP-1
export const MAX_SEQNO = 2n ** 64n - 1n;
const BAR = 0x7c; // '|'

// CRC-32/IEEE, reflected polynomial 0xEDB88320: the same function as zlib's
// crc32() and Go's crc32.ChecksumIEEE (RUDP-4). Node gained zlib.crc32 only in
// v20.15, and the base image may ship Node 18, so we carry the classic
// table-driven version (one table lookup per byte).
const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

export function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0; // >>> 0 makes it unsigned
}

// withChecksum appends the decimal checksum of everything so far, which must
// end in '|' (RUDP-4).
function withChecksum(head) {
  return Buffer.concat([head, Buffer.from(String(crc32(head)))]);
}

// encodePacket builds "<type>|<seqno>|<data>|<checksum>"; data is a Buffer
// and may hold any bytes, '|' included (RUDP-1, RUDP-5).
export function encodePacket(type, seqno, data = Buffer.alloc(0)) {
  return withChecksum(Buffer.concat([Buffer.from(`${type}|${seqno}|`), data, Buffer.from('|')]));
}

// encodeAck builds "ack|<next>|<checksum>", or with a sacks array (SACK mode,
// RUDP-30/31) "sack|<next>;<s1>,<s2>,...|<checksum>" (sacks in ascending order).
export function encodeAck(next, sacks) {
  const text = sacks ? `sack|${next};${sacks.join(',')}|` : `ack|${next}|`;
  return withChecksum(Buffer.from(text));
}

// maxPayload is the largest data field a packet of this type and seqno can
// carry while its datagram stays within MAX_DATAGRAM whatever its checksum
// (up to 10 digits) turns out to be (RUDP-2, RUDP-46).
export function maxPayload(type, seqno) {
  return MAX_DATAGRAM - `${type}|${seqno}|`.length - '|'.length - '4294967295'.length;
}

// ParseError says why a datagram was rejected. Its kind is one of the
// classes of spec/vectors/README.md, checked in this order: too_long,
// malformed, checksum, type, seqno, sack.
export class ParseError extends Error {
  constructor(kind, detail) {
    super(`${kind}: ${detail}`);
    this.kind = kind;
  }
}

// parseSeqno accepts 1 to 20 ASCII digits whose value fits in 64 bits: no
// sign, no spaces, not empty (RUDP-3). Leading zeros are accepted.
function parseSeqno(text, kind = 'seqno') {
  if (!/^[0-9]{1,20}$/.test(text) || BigInt(text) > MAX_SEQNO) {
    throw new ParseError(kind, `bad seqno ${JSON.stringify(text)}`);
  }
  return BigInt(text);
}

// parse decodes one datagram (a Buffer) into {type, seqno, data} for start,
// data and end, or {type, seqno, sacks} for ack and sack, or throws
// ParseError; callers drop such datagrams silently (RUDP-8).
// Splitting follows RUDP-5: type up to the first '|', seqno up to the second,
// checksum after the LAST '|', and data is everything in between, so data
// may itself contain '|' (binary-safe).
export function parse(buf) {
  if (buf.length > MAX_DATAGRAM) throw new ParseError('too_long', `${buf.length} bytes, over ${MAX_DATAGRAM}`);
  const last = buf.lastIndexOf(BAR);
  if (last < 0) throw new ParseError('malformed', "no '|'");
  // The checksum is compared as text, as the course receiver does: it must be
  // the canonical decimal form, no sign, no leading zeros (RUDP-4).
  const checksum = buf.toString('latin1', last + 1);
  if (!/^[0-9]+$/.test(checksum)) throw new ParseError('malformed', `checksum field ${JSON.stringify(checksum)}`);
  if (checksum !== String(crc32(buf.subarray(0, last + 1)))) throw new ParseError('checksum', 'checksum mismatch');
  const first = buf.indexOf(BAR);
  if (first === last) throw new ParseError('malformed', "only one '|'");

  const type = buf.toString('latin1', 0, first);
  const rest = buf.subarray(first + 1, last); // "<seqno>|<data>", "<seqno>" or "<cum>;<list>"
  if (type === 'ack' || type === 'sack') {
    if (rest.includes(BAR)) throw new ParseError('malformed', `${type} with an extra field`);
    if (type === 'ack') return { type, seqno: parseSeqno(rest.toString('latin1')), sacks: [] };
    // RUDP-30: "<cum>;<s1>,<s2>,..."; a missing ';' is read as an empty list.
    const text = rest.toString('latin1');
    const i = text.indexOf(';');
    const [cum, list] = i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
    const seqno = parseSeqno(cum);
    return { type, seqno, sacks: list ? list.split(',').map((s) => parseSeqno(s, 'sack')) : [] };
  }
  if (!SENDER_TYPES.has(type)) throw new ParseError('type', `unknown type ${JSON.stringify(type)}`);
  const second = rest.indexOf(BAR);
  if (second < 0) throw new ParseError('malformed', 'missing data field');
  return { type, seqno: parseSeqno(rest.toString('latin1', 0, second)), data: rest.subarray(second + 1) };
}
