// The suite's language-neutral vectors (spec/vectors/, described in its
// README.md) run against our codec and receiver state machine. The files
// are copied into test/vectors/ so that the tests also run inside
// `docker build`, whose context is this folder only; the last test checks
// that the copies are still identical to the spec's when the repository is
// around.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { Receiver, outputFileName } from '../src/receiver.js';
import { ParseError, encodeAck, encodePacket, parse } from '../src/rudp.js';

const here = new URL('vectors/', import.meta.url);
const spec = new URL('../../../spec/vectors/', import.meta.url);
const load = (name) => JSON.parse(fs.readFileSync(new URL(name, here), 'utf8'));
const bytes = (b) => Buffer.from(b.base64, 'base64'); // a vector's byte string

test('datagram vectors (RUDP-1..RUDP-8, RUDP-30)', async (t) => {
  for (const v of load('datagrams.json').vectors) {
    await t.test(v.name, () => {
      const datagram = bytes(v.datagram);
      if (!v.valid) {
        assert.throws(() => parse(datagram), (err) => err instanceof ParseError && err.kind === v.error);
        return;
      }
      const { type, seqno, data, sacks = [] } = v.packet;
      const want = ['ack', 'sack'].includes(type)
        ? { type, seqno: BigInt(seqno), sacks: sacks.map(BigInt) }
        : { type, seqno: BigInt(seqno), data: bytes(data) };
      assert.deepEqual(parse(datagram), want);
      if (v.canonical) {
        const encoded = type === 'ack' || type === 'sack'
          ? encodeAck(BigInt(seqno), type === 'sack' ? sacks.map(BigInt) : undefined)
          : encodePacket(type, BigInt(seqno), bytes(data));
        assert.deepEqual(encoded, datagram);
      }
    });
  }
});

// splitAddress turns "10.0.0.1:5000" or "[::1]:5000" into [address, port].
const splitAddress = (from) => from.match(/^\[?(.*?)\]?:(\d+)$/).slice(1);

test('receiver vectors (RUDP-8..RUDP-18, RUDP-30, RUDP-31)', async (t) => {
  for (const v of load('receiver.json').vectors) {
    await t.test(v.name, () => {
      const receiver = new Receiver({ sack: v.sack, idleTimeoutMs: v.idle_timeout_ms });
      const transfers = []; // as the vector lists them, in the order they begin
      const current = new Map(); // source -> its transfer in `transfers`
      for (const [i, step] of v.steps.entries()) {
        receiver.expire(step.at_ms); // what the receiver's 1 s sweep does (RUDP-15)
        const result = receiver.handle(step.at_ms, step.from, bytes(step.datagram));
        if (result.begin) {
          const transfer = { from: step.from, start_seqno: String(result.packet.seqno), complete: false, output: [] };
          transfers.push(transfer);
          current.set(step.from, transfer);
        }
        if (result.deliver?.length) current.get(step.from).output.push(...result.deliver);
        if (result.complete) current.get(step.from).complete = true;
        assert.deepEqual(result.ack ?? null, step.ack && bytes(step.ack), `step ${i} (${step.datagram.escaped})`);
      }
      const got = transfers.map((tr) => ({ ...tr, output: Buffer.concat(tr.output) }));
      assert.deepEqual(got, v.transfers.map((tr) => ({ ...tr, output: bytes(tr.output) })));

      // The files our receiver would leave: each transfer's output under its
      // name, ".partial" while incomplete; a later one from the same source
      // replaces the earlier one's file.
      const files = new Map();
      for (const tr of got) {
        const name = outputFileName(...splitAddress(tr.from));
        if (tr.complete) files.delete(`${name}.partial`);
        files.set(tr.complete ? name : `${name}.partial`, tr.output);
      }
      const want = new Map(v.files.map((f) => [f.name, bytes(f.content)]));
      assert.deepEqual(files, want);
    });
  }
});

test('the copies in test/vectors/ match spec/vectors/', { skip: !fs.existsSync(spec) && 'spec/vectors/ not found' }, () => {
  for (const name of ['datagrams.json', 'receiver.json']) {
    assert.ok(fs.readFileSync(new URL(name, here)).equals(fs.readFileSync(new URL(name, spec))), `${name} is stale: copy it again`);
  }
});
