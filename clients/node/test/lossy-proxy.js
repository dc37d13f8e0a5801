// A small unreliable network for the tests: a UDP proxy on 127.0.0.1 that
// forwards between one sender and a receiver, dropping, duplicating,
// corrupting and delaying (hence reordering) datagrams in both directions,
// from a seeded random generator so that a failing run can be repeated.
// (The suite's own simulator is conformance/cmd/netsim; this one needs
// nothing but Node, so it also runs inside `docker build`.)
import dgram from 'node:dgram';
import { once } from 'node:events';

// mulberry32: a tiny seeded generator of floats in [0, 1).
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export async function startProxy({ upstreamPort, drop = 0, duplicate = 0, corrupt = 0, maxDelayMs = 0, seed = 1, blackout }) {
  const rand = random(seed);
  const front = dgram.createSocket('udp4'); // faces the sender
  const back = dgram.createSocket('udp4'); // faces the receiver
  const started = Date.now();
  let sender; // {address, port} of the sender, learned from its first datagram
  let closed = false;
  const stats = { forwarded: 0, dropped: 0 };

  const blackedOut = () => blackout && Date.now() - started >= blackout.fromMs && Date.now() - started < blackout.toMs;
  const forward = (socket, datagram, port) => {
    if (blackedOut() || rand() < drop) return stats.dropped++;
    const copies = rand() < duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const copy = Buffer.from(datagram); // never alter the original
      if (rand() < corrupt) copy[Math.floor(rand() * copy.length)] ^= 1 << Math.floor(rand() * 8);
      setTimeout(() => closed || socket.send(copy, port, '127.0.0.1'), rand() * maxDelayMs);
      stats.forwarded++;
    }
  };
  front.on('message', (datagram, from) => {
    sender = from;
    forward(back, datagram, upstreamPort);
  });
  back.on('message', (datagram) => sender && forward(front, datagram, sender.port));

  front.bind(0, '127.0.0.1');
  back.bind(0, '127.0.0.1');
  await Promise.all([once(front, 'listening'), once(back, 'listening')]);
  return {
    port: front.address().port,
    stats,
    close: () => {
      closed = true;
      front.close();
      back.close();
    },
  };
}
