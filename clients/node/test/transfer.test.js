// End-to-end tests: src/rudp-sender.js sends files to src/rudp-receiver.js
// over loopback, directly or through a lossy proxy (test/lossy-proxy.js).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { encodePacket } from '../src/rudp.js';
import { startProxy } from './lossy-proxy.js';
import { exited, freePort, listening, start } from './programs.js';

// withReceiver starts a receiver in a fresh directory and calls
// fn({port, dir, receiver}); the receiver is killed afterwards.
async function withReceiver(t, args, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rudp-test-'));
  const port = await freePort('udp');
  const receiver = start('rudp-receiver.js', ['-p', String(port), ...args], { cwd: dir });
  t.after(() => {
    receiver.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await listening(receiver);
  await fn({ port, dir, receiver });
}

// send runs the sender on data towards port and checks that the receiver
// wrote exactly one new complete file holding the same bytes.
async function send(dir, port, data, args = []) {
  const before = new Set(fs.readdirSync(dir));
  const input = path.join(dir, `input-${before.size}.partial`); // ".partial": not an output file
  fs.writeFileSync(input, data);
  const sender = start('rudp-sender.js', ['-a', '127.0.0.1', '-p', String(port), '-f', input, '-s', '100000', ...args]);
  assert.equal(await exited(sender, 60_000), 0, sender.err);
  const outputs = fs.readdirSync(dir).filter((name) => !before.has(name) && !name.endsWith('.partial'));
  assert.equal(outputs.length, 1, `output files: ${outputs}`);
  assert.ok(fs.readFileSync(path.join(dir, outputs[0])).equals(data), 'received file differs');
  return sender;
}

// With start seqno 100000 the start packet carries up to 1472 - "start|100000|".length
// - "|".length - 10 checksum digits = 1448 bytes (RUDP-46); data packets 1449.
// Each case: [file size, packets the sender must use, end included].
const sizes = {
  empty: [0, 2],
  'one byte': [1, 2],
  'exactly one packet': [1448, 2],
  'one packet and one byte': [1449, 3],
  '300 KiB': [300 << 10, 2 + Math.ceil(((300 << 10) - 1448) / 1449)],
};

test('transfers over a perfect network', async (t) => {
  await withReceiver(t, [], async ({ port, dir }) => {
    for (const [name, [size, packets]] of Object.entries(sizes)) {
      await t.test(name, async () => {
        const sender = await send(dir, port, randomBytes(size), ['-d']);
        assert.match(sender.err, new RegExp(`in ${packets} packets`));
        // start goes alone: the next packet only after start's ack
        assert.match(sender.err, /send seqno 100000\n.*got ack 100001\n.*send seqno 100001\n/s);
      });
    }
    await t.test('binary data full of separators', () => send(dir, port, Buffer.alloc(5000, '|\0\xff')));
  });
});

const bad = { drop: 0.15, duplicate: 0.1, corrupt: 0.05, maxDelayMs: 30 };

test('transfers over a lossy network (Go-Back-N)', async (t) => {
  await withReceiver(t, [], async ({ port, dir }) => {
    const proxy = await startProxy({ upstreamPort: port, seed: 7, ...bad });
    t.after(proxy.close);
    await send(dir, proxy.port, randomBytes(200 << 10));
    assert.ok(proxy.stats.dropped > 0, 'the proxy dropped nothing');
  });
});

test('transfers over a lossy network with selective acks (-k)', async (t) => {
  await withReceiver(t, ['-k'], async ({ port, dir }) => {
    const proxy = await startProxy({ upstreamPort: port, seed: 8, ...bad });
    t.after(proxy.close);
    await send(dir, proxy.port, randomBytes(200 << 10), ['-k']);
  });
});

test('survives a 3 s blackout (RUDP-44)', async (t) => {
  await withReceiver(t, [], async ({ port, dir }) => {
    const proxy = await startProxy({ upstreamPort: port, seed: 9, blackout: { fromMs: 200, toMs: 3200 } });
    t.after(proxy.close);
    await send(dir, proxy.port, randomBytes(100 << 10));
  });
});

test('the sender gives up when nobody answers (RUDP-44, RUDP-45)', async () => {
  const port = await freePort('udp');
  const sender = start('rudp-sender.js', ['-a', 'localhost', '-p', String(port), '-g', '1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  sender.stdin.end('some data from stdin');
  assert.equal(await exited(sender), 1);
  assert.match(sender.err, /giving up/);
});

test('the receiver exits 0 on SIGTERM and leaves an incomplete transfer as .partial (RUDP-15, RUDP-61)', async (t) => {
  await withReceiver(t, [], async ({ port, dir, receiver }) => {
    const socket = dgram.createSocket('udp4');
    t.after(() => socket.close());
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    socket.send(encodePacket('start', 7n, Buffer.from('half a file')), port, '127.0.0.1');
    const [ack] = await once(socket, 'message');
    assert.match(ack.toString(), /^ack\|8\|/);
    receiver.kill('SIGTERM');
    assert.equal(await exited(receiver), 0);
    const name = `127.0.0.1.${socket.address().port}.partial`;
    assert.deepEqual(fs.readdirSync(dir), [name]);
    assert.equal(fs.readFileSync(path.join(dir, name), 'utf8'), 'half a file');
  });
});
