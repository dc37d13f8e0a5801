// RUDP receiver (spec/rudp.md): node rudp-receiver.js [-p PORT] [-t TIMEOUT] [-k] [-d]
//
// Receives files over UDP from any number of senders at once and writes
// each transfer into the current directory as "<ip>.<port>" of its sender
// ("<ip>.<port>.partial" while in progress). Runs until killed.
//
// One event loop does everything: each datagram is handled to the end
// (written, renamed, acked) before the next, so the state needs no locks.
// Files are written with synchronous calls: a few kilobytes per datagram
// cost microseconds, and it makes "the file is complete before end is
// acked" (RUDP-14) obvious.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { debugLogger, exitOnSignals, fail, parseCommandLine, parsePort } from './cli.js';
import { Receiver, outputFileName } from './receiver.js';

const PROGRAM = 'rudp-receiver';
const USAGE = 'node rudp-receiver.js [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d]';

exitOnSignals({ server: true }); // the .partial files stay (RUDP-15)
const { values } = parseCommandLine(PROGRAM, USAGE, {
  options: {
    port: { type: 'string', short: 'p', default: '33122' }, // RUDP-61
    timeout: { type: 'string', short: 't', default: '10' }, // seconds, RUDP-15
    sack: { type: 'boolean', short: 'k' }, // RUDP-30
    debug: { type: 'boolean', short: 'd' },
  },
});
const port = parsePort(PROGRAM, values.port);
const timeoutSeconds = Number(values.timeout);
if (!(timeoutSeconds > 0)) fail(PROGRAM, `bad timeout ${JSON.stringify(values.timeout)}: want seconds > 0`);
const debug = debugLogger(PROGRAM, values.debug);

const receiver = new Receiver({ sack: values.sack, idleTimeoutMs: timeoutSeconds * 1000 });
const outputs = new Map(); // source -> { fd, name, bytes } of each transfer in progress

const socket = dgram.createSocket('udp4');
socket.on('error', (err) => fail(PROGRAM, `UDP port ${port}: ${err.message}`));
socket.on('message', (datagram, { address, port: sourcePort }) => {
  const source = `${address}:${sourcePort}`;
  const step = receiver.handle(Date.now(), source, datagram);
  if (step.drop) return debug(`${source}: dropped ${datagram.length} bytes: ${step.drop}`);
  try {
    writeStep(source, outputFileName(address, sourcePort), step);
  } catch (err) {
    // The transfer cannot complete: forget it so that nothing more is acked
    // and its sender gives up, rather than ack a file that is not there.
    console.error(`${PROGRAM}: ${source}: ${err.message}`);
    receiver.forget(source);
    closeOutput(source);
    return;
  }
  debug(`${source}: ${step.packet.type} ${step.packet.seqno} (${step.packet.data.length} bytes), answer ${step.ack}`);
  socket.send(step.ack, sourcePort, address);
});
socket.on('listening', () => console.error(`${PROGRAM}: listening on UDP port ${port}`));
socket.bind(port); // all IPv4 addresses (RUDP-61)

// Twice a second, drop the transfers idle for the timeout, leaving their
// files as "*.partial": a transfer goes between T and T + 0.5 s of silence,
// inside the T + 1 s that RUDP-15 allows.
setInterval(() => {
  for (const source of receiver.expire(Date.now())) {
    if (outputs.has(source)) console.error(`${PROGRAM}: ${source}: idle for ${timeoutSeconds} s, transfer dropped`);
    closeOutput(source);
  }
}, 500);

// writeStep carries out the file work of one step (RUDP-14, RUDP-18).
function writeStep(source, name, { begin, deliver, complete, packet }) {
  if (begin) {
    if (outputs.has(source)) console.error(`${PROGRAM}: ${source}: new start, previous transfer dropped`);
    closeOutput(source);
    outputs.set(source, { fd: fs.openSync(`${name}.partial`, 'w'), name, bytes: 0 });
    console.error(`${PROGRAM}: ${source}: transfer started at seqno ${packet.seqno}, writing ${name}.partial`);
  }
  const output = outputs.get(source);
  if (!output) return; // a retransmission after completion: only the ack (RUDP-17)
  for (const data of deliver) {
    for (let off = 0; off < data.length; ) off += fs.writeSync(output.fd, data, off);
    output.bytes += data.length;
  }
  if (complete) {
    outputs.delete(source);
    fs.closeSync(output.fd);
    fs.renameSync(`${name}.partial`, name);
    console.error(`${PROGRAM}: ${source}: transfer complete, ${output.bytes} bytes in ${name}`);
  }
}

function closeOutput(source) {
  const output = outputs.get(source);
  if (!output) return;
  outputs.delete(source);
  fs.closeSync(output.fd);
}
