// Tests of the sender's logic (src/sender.js), without sockets: the time is
// passed by hand, and each call returns the packet indexes to send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RTO_MS } from '../src/rto.js';
import { Sender } from '../src/sender.js';

const RTT = 10; // ms: the round trip of start, the first RTT sample
const OVERDUE = RTT + Math.max(RTT / 4, 2); // RACK: SRTT + max(SRTT/4, 2 ms)

// started returns a sender whose start was acked after RTT, so packets 1..5
// are in flight, sent at time RTT.
function started({ count = 20, sack = false } = {}) {
  const s = new Sender(count, { sack });
  assert.deepEqual(s.start(0), [0]); // start goes alone (RUDP-11)
  assert.equal(s.rtoAt, 500); // RUDP-41: 500 ms before any sample
  const out = s.onAck(RTT, 1);
  assert.deepEqual(out, [1, 2, 3, 4, 5].filter((i) => i < count));
  assert.equal(s.rto.srtt, RTT);
  return s;
}

// wait runs the sender's timers until `until`, returning what they sent.
function wait(s, until) {
  const sent = [];
  for (let t = s.nextTimer(); t !== undefined && t <= until; t = s.nextTimer()) sent.push(...s.onTimers(t));
  return sent;
}

test('window of five beyond the cumulative ack (RUDP-40)', () => {
  const s = started();
  assert.deepEqual(s.onAck(RTT + 5, 3), [6, 7]);
});

test('fast retransmit on the 3rd duplicate ack, once (RUDP-42)', () => {
  const s = started();
  const t = RTT + 1; // too soon for RACK: only the count can tell
  assert.deepEqual(s.onAck(t, 1), []);
  assert.deepEqual(s.onAck(t, 1), []);
  assert.deepEqual(s.onAck(t, 1), [1]); // the 4th identical ack
  assert.deepEqual(s.onAck(t, 1), []); // not on every later duplicate
});

test('RACK: the 1st duplicate is enough once the packet is overdue (RFC 8985)', () => {
  const s = started();
  assert.deepEqual(s.onAck(RTT + 2, 1), []); // 1 may still be on its way
  assert.equal(s.lossCheckAt, RTT + OVERDUE);
  assert.deepEqual(wait(s, RTT + OVERDUE - 1), []);
  assert.deepEqual(wait(s, RTT + OVERDUE), [1]);
  assert.equal(s.rtoAt, RTT + OVERDUE + s.rto.rto); // the repaired head gets a full timeout
});

test('a duplicate long after the packet was sent repairs at once', () => {
  const s = started();
  assert.deepEqual(s.onAck(RTT + 100, 1), [1]);
});

test('tail loss probe: a repaired head without an ack in 2 SRTT is sent once more', () => {
  const s = started();
  const t = RTT + 100;
  assert.deepEqual(s.onAck(t, 1), [1]);
  assert.deepEqual(wait(s, t + 2 * RTT - 1), []);
  assert.deepEqual(wait(s, t + 2 * RTT), [1]);
  assert.deepEqual(wait(s, t + 2 * RTT + 50), []); // once; the timer does the rest
  assert.deepEqual(wait(s, t + 2 * RTT + s.rto.rto), [1, 2, 3, 4, 5]);
});

test('no probe once the repair is acked', () => {
  const s = started();
  const t = RTT + 100;
  assert.deepEqual(s.onAck(t, 1), [1]);
  s.onAck(t + 5, 6);
  assert.equal(s.probeAt !== undefined && wait(s, t + 50).length, 0);
});

test('stale and impossible acks are ignored', () => {
  const s = started();
  s.onAck(RTT + 5, 3);
  assert.deepEqual(s.onAck(RTT + 6, 2), []);
  assert.deepEqual(s.onAck(RTT + 6, 9), []);
  assert.equal(s.acked, 3);
  assert.equal(s.dupAcks, 0);
});

test('timeout resends the window, never acked packets (RUDP-41, RUDP-43)', () => {
  const s = started();
  assert.deepEqual(s.onAck(RTT + 5, 3), [6, 7]);
  assert.deepEqual(wait(s, RTT + 5 + s.rto.rto), [3, 4, 5, 6, 7]);
});

test('backoff only while no ack comes (RUDP-41)', () => {
  const s = started();
  const base = s.rto.rto;
  let t = RTT + base;
  assert.deepEqual(wait(s, t), [1, 2, 3, 4, 5]);
  assert.equal(s.rto.rto, base); // start's ack came before: no doubling
  wait(s, (t += base));
  assert.equal(s.rto.rto, 2 * base); // a silent round: back off
  for (let i = 0; i < 5; i++) wait(s, (t += s.rto.rto));
  assert.equal(s.rto.rto, MAX_RTO_MS); // the cap
  s.onAck(t, 1); // a duplicate: the path works again
  wait(s, (t += s.rto.rto));
  assert.equal(s.rto.rto, base);
});

test('start lost: the first timeout is at 500 ms, then 1 s', () => {
  const s = new Sender(3);
  assert.deepEqual(s.start(0), [0]);
  assert.deepEqual(wait(s, 499), []);
  assert.deepEqual(wait(s, 500), [0, 0]); // a lone packet goes twice
  assert.equal(s.rtoAt, 1500);
});

test('with -k a timeout skips held packets (RUDP-32)', () => {
  const s = started({ sack: true });
  s.onAck(RTT + 1, 1, [3, 4], true);
  const out = [];
  s.onTimeout(RTT + 2, out);
  assert.deepEqual(out, [1, 2, 5]);
});

test('with -k a hole with 3 held above is resent at once (RFC 6675)', () => {
  const s = started({ sack: true });
  assert.deepEqual(s.onAck(RTT + 1, 1, [3, 4], true), []);
  assert.deepEqual(s.onAck(RTT + 1, 1, [3, 4, 5], true), [1, 2]);
});

test('with -k a hole below one held packet is resent once overdue', () => {
  const s = started({ sack: true });
  assert.deepEqual(s.onAck(RTT + 1, 1, [3], true), []);
  assert.deepEqual(wait(s, RTT + OVERDUE), [1, 2]); // both holes, never the held 3
  assert.deepEqual(wait(s, RTT + OVERDUE + 2 * RTT), [1]); // the head's probe
});

test('with -k a lone hole goes twice on a timeout', () => {
  const s = started({ sack: true });
  assert.deepEqual(s.onAck(RTT + 1, 1, [2, 3, 5], true), [1]); // 3 held above 1
  s.onAck(RTT + 2, 4, [5], true); // 1 arrived: 1..3 delivered, 4 missing, 5 held
  assert.deepEqual(wait(s, RTT + 2 + s.rto.rto), [4, 4]);
});

test('with -k plain acks count as duplicates (RUDP-30)', () => {
  const s = started({ sack: true });
  assert.deepEqual(s.onAck(RTT + 1, 1), []);
  assert.deepEqual(s.onAck(RTT + 1, 1), []);
  assert.deepEqual(s.onAck(RTT + 1, 1), [1]);
});

test('done only when end is acked; then no timer runs (RUDP-45)', () => {
  const s = started({ count: 3 });
  s.onAck(RTT + 2, 2);
  assert.equal(s.done, false);
  s.onAck(RTT + 3, 3);
  assert.equal(s.done, true);
  assert.equal(s.rtoAt, undefined);
});
