// RUDP sender (spec/rudp.md):
//   node rudp-sender.js -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS] [-s SEQNO]
//
// Sends FILE (or stdin) reliably over UDP and exits 0 once the receiver has
// acknowledged the end packet. Exits 1 with a message on stderr when the
// receiver has not acknowledged anything new for GIVE_UP_SECONDS (60).
//
// A sliding window of 5 packets. Everything happens on Node's event loop:
// acks arrive as 'message' events, and one timer (RFC 6298 style) guards
// the oldest unacknowledged packet. Lost packets are resent on that timeout
// (all unacknowledged ones, Go-Back-N; with -k only the holes the receiver
// reports), or at once when the acks show them lost (fast retransmit).
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import fs from 'node:fs';
import { debugLogger, exitOnSignals, fail, parseCommandLine, parsePort } from './cli.js';
import { RtoEstimator } from './rto.js';
import { encodePacket, maxPayload, parse } from './rudp.js';

const PROGRAM = 'rudp-sender';
const USAGE = 'node rudp-sender.js -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS] [-s SEQNO]';
const WINDOW = 5; // RUDP-40: only seqnos < cumulative ack + 5 may be in flight
const DUP_ACKS = 3; // RUDP-42: the 3rd duplicate ack triggers a fast retransmit

exitOnSignals();
const { values } = parseCommandLine(PROGRAM, USAGE, {
  options: {
    address: { type: 'string', short: 'a' }, // RUDP-60
    port: { type: 'string', short: 'p' },
    file: { type: 'string', short: 'f' },
    sack: { type: 'boolean', short: 'k' }, // RUDP-30
    debug: { type: 'boolean', short: 'd' },
    'give-up': { type: 'string', short: 'g', default: '60' }, // RUDP-44
    seqno: { type: 'string', short: 's' }, // start seqno, random by default
  },
});
if (!values.address || !values.port) fail(PROGRAM, `-a HOST and -p PORT are required\nusage: ${USAGE}`);
const port = parsePort(PROGRAM, values.port);
const giveUpMs = Number(values['give-up']) * 1000;
if (!(giveUpMs > 0)) fail(PROGRAM, `bad -g ${JSON.stringify(values['give-up'])}: want seconds > 0`);
if (values.seqno !== undefined && !/^[0-9]{1,15}$/.test(values.seqno)) fail(PROGRAM, `bad -s ${JSON.stringify(values.seqno)}`);
const debug = debugLogger(PROGRAM, values.debug);

const input = await readInput(values.file);
const host = await resolve(values.address);
// RUDP-7: the sender picks the start seqno; -s fixes it (handy to compare
// runs), else it is random. We stay below a million so that receivers
// keeping seqnos in 32-bit integers work too.
const first = BigInt(values.seqno ?? randomInt(1_000_000));
const packets = buildPackets(input, first);

const sentAt = []; // index -> time of the last transmission (ms)
const resent = []; // index -> true once retransmitted (Karn's rule)
const sacked = new Set(); // indexes the receiver holds out of order (-k)
const rto = new RtoEstimator();
let acked = 0; // packets[0 .. acked) are cumulatively acknowledged
let next = 0; // packets[acked .. next) are in flight
let dupAcks = 0; // duplicates of the current cumulative ack
const fastResent = new Set(); // indexes fast-retransmitted since the last timeout
let lastProgress = Date.now(); // when the cumulative ack last moved (RUDP-44)
let retransmissions = 0;
let timer;

// A connected UDP socket: it only hears from the receiver, and each send
// leaves at once (no per-datagram address lookup), so the timer starts
// when the packet really goes out.
const socket = dgram.createSocket(host.family === 6 ? 'udp6' : 'udp4');
let connected = false;
socket.on('message', onDatagram);
socket.on('error', (err) => {
  if (!connected) fail(PROGRAM, `cannot send to ${host.address}:${port}: ${err.message}`);
  debug(`socket: ${err.message}`); // e.g. ICMP "port unreachable": the timer recovers
});
socket.connect(port, host.address, () => {
  connected = true;
  debug(`sending ${input.length} bytes in ${packets.length} packets to ${host.address}:${port}, first seqno ${first}`);
  fillWindow();
  restartTimer();
});

// transmit sends packets[i], remembering when and whether it is a resend.
function transmit(i) {
  if (sentAt[i] !== undefined) {
    resent[i] = true;
    retransmissions++;
  }
  sentAt[i] = performance.now();
  socket.send(packets[i]);
  debug(`${resent[i] ? 'resend' : 'send'} seqno ${first + BigInt(i)}`);
}

// fillWindow sends new packets while fewer than WINDOW are in flight
// (RUDP-40). Until start is acked it goes alone: the receiver drops every
// packet that arrives before start (RUDP-11), so a lost start would take
// the whole window with it; waiting costs one round trip and gives the
// first RTT sample.
function fillWindow() {
  const window = acked === 0 ? 1 : WINDOW;
  while (next < packets.length && next < acked + window) transmit(next++);
}

// restartTimer runs the retransmission timer while anything is in flight.
function restartTimer() {
  clearTimeout(timer);
  if (acked < next) timer = setTimeout(onTimeout, rto.rto);
}

function onTimeout() {
  const silentMs = Date.now() - lastProgress;
  if (silentMs >= giveUpMs) {
    fail(PROGRAM, `giving up: no acknowledgement from ${values.address}:${port} for ${Math.round(silentMs / 1000)} s ` +
      `(${acked} of ${packets.length} packets acknowledged)`); // RUDP-44
  }
  rto.backOff();
  debug(`timeout, resending from seqno ${first + BigInt(acked)}, next timeout ${Math.round(rto.rto)} ms`);
  // Resend every packet in flight (Go-Back-N), or with -k those the
  // receiver did not report holding (RUDP-32). Packets already
  // cumulatively acked are never resent (RUDP-43).
  for (let i = acked; i < next; i++) if (!sacked.has(i)) transmit(i);
  dupAcks = 0;
  fastResent.clear(); // a new recovery: the acks may show losses again
  restartTimer();
}

function onDatagram(datagram) {
  let ack;
  try {
    ack = parse(datagram);
  } catch (err) {
    return debug(`dropped reply: ${err.message}`); // RUDP-8
  }
  if (ack.type !== 'ack' && ack.type !== 'sack') return debug(`dropped reply of type ${ack.type}`);
  // The ack carries the next seqno the receiver expects (RUDP-13): at most
  // one past the last packet we sent.
  if (ack.seqno < first || ack.seqno > first + BigInt(next)) return debug(`ignored ack ${ack.seqno}: not in flight`);
  const n = Number(ack.seqno - first);
  if (values.sack) {
    for (const s of ack.sacks) if (s > ack.seqno && s < first + BigInt(next)) sacked.add(Number(s - first));
  }
  debug(`got ${ack.type} ${ack.seqno}${ack.sacks?.length ? ` sacks ${ack.sacks.join(',')}` : ''}`);

  if (n > acked) {
    // New data acknowledged. Karn's rule: measure the round trip only when
    // no newly acked packet was retransmitted (RUDP-41). We time the oldest
    // of them, which errs on the long side: the safe side for a timeout.
    // Either way progress ends any backoff.
    if (!resent.slice(acked, n).some(Boolean)) rto.sample(performance.now() - sentAt[acked]);
    else rto.endBackOff();
    acked = n;
    dupAcks = 0;
    lastProgress = Date.now();
    for (const i of sacked) if (i < acked) sacked.delete(i);
    if (acked === packets.length) return finish(); // RUDP-45: the end packet is acked
    fillWindow();
    restartTimer();
  } else if (n === acked && acked < next) {
    dupAcks++;
  }
  fastRetransmit();
}

// fastRetransmit resends, once per recovery, the packets the acks show lost
// before their timer expires: the first missing one on the 3rd duplicate
// ack (RUDP-42), and with -k every hole that has 3 or more packets above it
// that the receiver holds (RFC 6675; this also works when some of the
// duplicate acks were lost). Packets the receiver holds are never resent
// (RUDP-32).
function fastRetransmit() {
  const lost = [];
  if (dupAcks >= DUP_ACKS) lost.push(acked);
  if (values.sack) {
    let held = 0; // packets above i that the receiver holds
    for (let i = next - 1; i >= acked; i--) {
      if (sacked.has(i)) held++;
      else if (held >= DUP_ACKS) lost.push(i);
    }
  }
  for (const i of new Set(lost)) {
    if (fastResent.has(i)) continue;
    fastResent.add(i);
    debug(`fast retransmit of seqno ${first + BigInt(i)}`);
    transmit(i);
    if (i === acked) restartTimer(); // the resent head gets a full timeout
  }
}

function finish() {
  clearTimeout(timer);
  socket.close();
  debug(`done: ${packets.length} packets, ${retransmissions} retransmissions, final RTO ${Math.round(rto.rto)} ms`);
}

// buildPackets cuts data into datagrams (RUDP-1, RUDP-7, RUDP-46): "start"
// with the first chunk, "data" with the rest, each as large as allowed,
// then an empty "end". An empty file is an empty start, then end.
function buildPackets(data, seqno) {
  const packets = [];
  let offset = 0;
  do {
    const type = offset === 0 ? 'start' : 'data';
    const size = maxPayload(type, seqno);
    packets.push(encodePacket(type, seqno++, data.subarray(offset, offset + size)));
    offset += size;
  } while (offset < data.length);
  packets.push(encodePacket('end', seqno));
  return packets;
}

async function readInput(file) {
  try {
    if (file !== undefined) return fs.readFileSync(file);
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks);
  } catch (err) {
    fail(PROGRAM, `cannot read ${file ?? 'stdin'}: ${err.message}`);
  }
}

// resolve looks the host name up, preferring an IPv4 address: most
// receivers listen on IPv4 only, and "localhost" may resolve to ::1 first.
async function resolve(name) {
  try {
    const addresses = await dns.lookup(name, { all: true });
    return addresses.find((a) => a.family === 4) ?? addresses[0];
  } catch (err) {
    fail(PROGRAM, `cannot resolve host ${name}: ${err.message}`);
  }
}
