// Tests of the retransmission timeout estimator (src/rto.js, RUDP-41).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RTO_MS, MIN_RTO_MS, RtoEstimator } from '../src/rto.js';

test('starts at 500 ms and backs off exponentially up to the ceiling', () => {
  const rto = new RtoEstimator();
  assert.equal(rto.rto, 500);
  rto.backOff();
  assert.equal(rto.rto, 1000);
  for (let i = 0; i < 10; i++) rto.backOff();
  assert.equal(rto.rto, MAX_RTO_MS);
  rto.endBackOff(); // no sample yet: back to the initial timeout
  assert.equal(rto.rto, 500);
});

test('follows RFC 6298: RTO = SRTT + 4 RTTVAR, never below the floor', () => {
  const rto = new RtoEstimator();
  rto.sample(100); // first sample: SRTT = 100, RTTVAR = 50
  assert.equal(rto.rto, 100 + 4 * 50);
  rto.sample(200); // RTTVAR = 0.75*50 + 0.25*100 = 62.5, SRTT = 87.5 + 25 = 112.5
  assert.equal(rto.rto, 112.5 + 4 * 62.5);
  rto.backOff();
  assert.equal(rto.rto, 2 * (112.5 + 4 * 62.5));
  rto.endBackOff();
  assert.equal(rto.rto, 112.5 + 4 * 62.5);
  const fast = new RtoEstimator();
  for (let i = 0; i < 50; i++) fast.sample(1);
  assert.equal(fast.rto, MIN_RTO_MS);
});
