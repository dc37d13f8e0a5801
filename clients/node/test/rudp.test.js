// Tests of the datagram codec (src/rudp.js). Run: node --test test/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_DATAGRAM, ParseError, crc32, encodeAck, encodePacket, maxPayload, parse } from '../src/rudp.js';

const bytes = (text) => Buffer.from(text, 'latin1');

test('crc32 is CRC-32/IEEE (check value of "123456789")', () => {
  assert.equal(crc32(bytes('123456789')), 0xcbf43926);
  assert.equal(crc32(bytes('')), 0);
});

test("spec/rudp.md's worked examples (RUDP-4, RUDP-5)", () => {
  // The checksum covers every byte up to and including the last '|'.
  assert.equal(crc32(bytes('start|0|hello|')), 0x51ef8b95);
  assert.deepEqual(encodePacket('start', 0n, bytes('hello')), bytes('start|0|hello|1374653333'));
  assert.deepEqual(parse(bytes('start|0|hello|1374653333')), { type: 'start', seqno: 0n, data: bytes('hello') });
  // Above 2^31: a signed 32-bit integer would print -2099598510.
  assert.deepEqual(encodeAck(1n), bytes('ack|1|2195368786'));
  // Data is everything between the second and the last '|'.
  assert.deepEqual(parse(bytes('data|7|a|b|3661478912')), { type: 'data', seqno: 7n, data: bytes('a|b') });
  assert.deepEqual(encodeAck(3n, [5n, 6n]), bytes('sack|3;5,6|2211952226'));
});

test('data may contain |, NUL and bytes >= 0x80 (RUDP-5)', () => {
  const data = Buffer.from([0x7c, 0x00, 0xff, 0x7c, 0x7c, 0x80, 0x31, 0x7c]);
  const packet = parse(encodePacket('data', 42n, data));
  assert.equal(packet.type, 'data');
  assert.equal(packet.seqno, 42n);
  assert.deepEqual(packet.data, data);
});

test('empty data and 64-bit seqnos round-trip', () => {
  const max = 2n ** 64n - 1n;
  assert.deepEqual(parse(encodePacket('end', max)), { type: 'end', seqno: max, data: Buffer.alloc(0) });
});

test('acks and sacks', () => {
  assert.deepEqual(encodeAck(7n), bytes(`ack|7|${crc32(bytes('ack|7|'))}`));
  assert.deepEqual(parse(encodeAck(7n)), { type: 'ack', seqno: 7n, sacks: [] });
  assert.deepEqual(encodeAck(7n, [9n, 10n]), bytes(`sack|7;9,10|${crc32(bytes('sack|7;9,10|'))}`));
  assert.deepEqual(parse(encodeAck(7n, [9n, 10n])), { type: 'sack', seqno: 7n, sacks: [9n, 10n] });
  assert.deepEqual(parse(encodeAck(7n, [])), { type: 'sack', seqno: 7n, sacks: [] });
});

// withSum appends the right checksum to a datagram's text, so that each
// case below fails for the reason it names and not for its checksum.
const withSum = (text) => bytes(`${text}${crc32(bytes(text))}`);

test('parse rejects malformed datagrams (RUDP-8)', () => {
  const bad = {
    'no bar': bytes('hello'),
    'wrong checksum': bytes('data|1|x|123'),
    'checksum with leading zero': bytes(`data|1|x|0${crc32(bytes('data|1|x|'))}`),
    'checksum not decimal': bytes('data|1|x|-5'),
    'empty checksum': bytes('data|1|x|'),
    'unknown type': withSum('blob|1|x|'),
    'missing data field': withSum('data|1|'),
    'only one bar': withSum('data|'),
    'signed seqno': withSum('data|+1|x|'),
    'seqno with space': withSum('data| 1|x|'),
    'empty seqno': withSum('data||x|'),
    'seqno over 64 bits': withSum('data|18446744073709551616|x|'),
    'ack with data': withSum('ack|1|x|'),
    'ack with sack list': withSum('ack|1;2|'),
    'sack with bad list': withSum('sack|1;2,,3|'),
    'too long': encodePacket('data', 1n, Buffer.alloc(MAX_DATAGRAM)),
  };
  for (const [why, datagram] of Object.entries(bad)) {
    assert.throws(() => parse(datagram), ParseError, why);
  }
});

test('maxPayload fills a datagram to at most 1472 bytes (RUDP-2, RUDP-46)', () => {
  for (const seqno of [0n, 9n, 123456n, 2n ** 64n - 1n]) {
    const size = maxPayload('data', seqno);
    const longest = encodePacket('data', seqno, Buffer.alloc(size, 0xff));
    assert.ok(longest.length <= MAX_DATAGRAM && longest.length >= MAX_DATAGRAM - 9, `seqno ${seqno}`);
  }
  // Worst case: a 10-digit checksum makes the datagram exactly 1472 bytes.
  assert.equal(maxPayload('start', 0n), MAX_DATAGRAM - 'start|0|'.length - 1 - 10);
});
