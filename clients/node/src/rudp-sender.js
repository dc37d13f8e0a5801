// RUDP sender (spec/rudp.md):
//   node rudp-sender.js -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS] [-s SEQNO]
//
// Sends FILE (or stdin) reliably over UDP and exits 0 once the receiver has
// acknowledged the end packet. Exits 1 with a message on stderr when the
// receiver has not acknowledged anything new for GIVE_UP_SECONDS (60).
//
// The logic (window, timers, loss repair) is in sender.js, without I/O; this
// file is the command line, the socket and the one Node timer around it.
// Everything happens on Node's event loop: acks arrive as 'message' events,
// and a single setTimeout wakes the sender for whichever of its timers
// (retransmission, RACK loss check, tail loss probe) is due first.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import fs from 'node:fs';
import { debugLogger, exitOnSignals, fail, parseCommandLine, parsePort } from './cli.js';
import { encodePacket, maxPayload, parse } from './rudp.js';
import { Sender } from './sender.js';

const PROGRAM = 'rudp-sender';
const USAGE = 'node rudp-sender.js -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS] [-s SEQNO]';

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

const sender = new Sender(packets.length, { sack: values.sack });
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
  send(sender.start(performance.now()));
});

// send transmits the packets the sender asked for, then sets the one Node
// timer to the sender's earliest timer.
function send(indexes) {
  for (const i of indexes) {
    const again = sender.transmissions[i] > 1;
    if (again) retransmissions++;
    socket.send(packets[i]);
    debug(`${again ? 'resend' : 'send'} seqno ${first + BigInt(i)}`);
  }
  clearTimeout(timer);
  const at = sender.nextTimer();
  if (at !== undefined) timer = setTimeout(onTimer, Math.max(1, Math.ceil(at - performance.now())));
}

function onTimer() {
  const now = performance.now();
  if (now - sender.lastProgress >= giveUpMs) {
    fail(PROGRAM, `giving up: no acknowledgement from ${values.address}:${port} for ${Math.round((now - sender.lastProgress) / 1000)} s ` +
      `(${sender.acked} of ${packets.length} packets acknowledged)`); // RUDP-44
  }
  send(sender.onTimers(now));
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
  // one past the last packet we sent (the sender ignores stale ones).
  if (ack.seqno < first || ack.seqno > first + BigInt(packets.length)) return debug(`ignored ack ${ack.seqno}: not in flight`);
  const sacks = (ack.sacks ?? []).filter((s) => s > first && s < first + BigInt(packets.length)).map((s) => Number(s - first));
  debug(`got ${ack.type} ${ack.seqno}${ack.sacks?.length ? ` sacks ${ack.sacks.join(',')}` : ''}`);
  const out = sender.onAck(performance.now(), Number(ack.seqno - first), sacks, ack.type === 'sack');
  if (sender.done) return finish(); // RUDP-45: the end packet is acked
  send(out);
}

function finish() {
  clearTimeout(timer);
  socket.close();
  debug(`done: ${packets.length} packets, ${retransmissions} retransmissions, final RTO ${Math.round(sender.rto.rto)} ms`);
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
