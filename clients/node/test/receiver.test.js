// Tests of the receiver's state machine (src/receiver.js), without sockets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Receiver } from '../src/receiver.js';
import { encodePacket } from '../src/rudp.js';

const A = '10.0.0.1:4000';
const B = '10.0.0.2:4000';
const packet = (type, seqno, text = '') => encodePacket(type, BigInt(seqno), Buffer.from(text));
const text = (step) => Buffer.concat(step.deliver).toString();
const ackText = (step) => step.ack?.toString().replace(/\|[0-9]+$/, ''); // without the checksum

test('in-order transfer: start, data, end', () => {
  const r = new Receiver();
  let step = r.handle(0, A, packet('start', 100, 'ab'));
  assert.equal(step.begin, true);
  assert.equal(text(step), 'ab');
  assert.equal(ackText(step), 'ack|101'); // RUDP-13: the next expected seqno
  step = r.handle(0, A, packet('data', 101, 'c|d'));
  assert.equal(text(step), 'c|d');
  step = r.handle(0, A, packet('end', 102));
  assert.equal(step.complete, true);
  assert.equal(ackText(step), 'ack|103');
});

test('out-of-order packets inside the window are buffered (RUDP-12)', () => {
  const r = new Receiver({ sack: true });
  r.handle(0, A, packet('start', 0, 'a'));
  let step = r.handle(0, A, packet('data', 3, 'd'));
  assert.equal(text(step), '');
  assert.equal(ackText(step), 'sack|1;3'); // RUDP-31
  step = r.handle(0, A, packet('data', 2, 'c'));
  assert.equal(ackText(step), 'sack|1;2,3');
  step = r.handle(0, A, packet('data', 6, 'g')); // beyond next+4: dropped, but acked
  assert.equal(ackText(step), 'sack|1;2,3');
  step = r.handle(0, A, packet('data', 1, 'b'));
  assert.equal(text(step), 'bcd');
  assert.equal(ackText(step), 'sack|4;');
});

test('duplicates are acked and not delivered twice (RUDP-13, RUDP-17)', () => {
  const r = new Receiver();
  r.handle(0, A, packet('start', 5, 'x'));
  let step = r.handle(0, A, packet('start', 5, 'x')); // retransmitted start
  assert.equal(step.begin, false);
  assert.equal(text(step), '');
  assert.equal(ackText(step), 'ack|6');
  r.handle(0, A, packet('end', 6));
  step = r.handle(0, A, packet('end', 6)); // after completion
  assert.equal(step.complete, false);
  assert.equal(ackText(step), 'ack|7');
});

test('a new start begins a new transfer (RUDP-18); sources stay apart (RUDP-10)', () => {
  const r = new Receiver();
  r.handle(0, A, packet('start', 5, 'x'));
  r.handle(0, A, packet('end', 6));
  r.handle(0, B, packet('start', 50, 'other'));
  const step = r.handle(0, A, packet('start', 9, 'y'));
  assert.equal(step.begin, true);
  assert.equal(ackText(step), 'ack|10');
  assert.equal(ackText(r.handle(0, B, packet('data', 51, 'z'))), 'ack|52');
});

test('drops: bad checksum, no transfer, acks (RUDP-8, RUDP-11)', () => {
  const r = new Receiver();
  const corrupt = packet('start', 1, 'abc');
  corrupt[7] ^= 1;
  assert.ok(r.handle(0, A, corrupt).drop);
  assert.ok(r.handle(0, A, packet('data', 2, 'x')).drop); // no start yet
  assert.equal(r.handle(0, A, packet('data', 2, 'x')).ack, undefined);
});

test('idle transfers expire (RUDP-15)', () => {
  const r = new Receiver({ idleTimeoutMs: 1000 });
  r.handle(0, A, packet('start', 1, 'a'));
  r.handle(500, B, packet('start', 1, 'b'));
  assert.deepEqual(r.expire(999), []);
  assert.deepEqual(r.expire(1000), [A]);
  assert.ok(r.handle(1000, A, packet('data', 2, 'x')).drop);
  assert.equal(ackText(r.handle(1000, B, packet('data', 2, 'x'))), 'ack|3');
});
