// Hello client (spec/hello.md): node hello-client.js HOST PORT
//
// Connects, sends "Hello in JavaScript\n", prints the server's reply on
// stdout and exits 0; on any failure it explains on stderr and exits 1.
import net from 'node:net';
import { exitOnSignals, fail, parsePort } from './cli.js';
import { LANGUAGE, readMessage } from './hello.js';

const PROGRAM = 'hello-client';
// A server that reads until end-of-file never sees one from a client that
// waits for the reply with its side open. If no reply byte came within this
// long (longer than any conforming server's idle gap), we half-close our
// side, as the Go reference client does (HELLO-6).
const HALF_CLOSE_DELAY_MS = 3000;

exitOnSignals();
const [host, portText, ...extra] = process.argv.slice(2); // HELLO-30: client HOST PORT
if (!host || extra.length > 0) fail(PROGRAM, 'usage: node hello-client.js HOST PORT');
const port = parsePort(PROGRAM, portText);

// net.connect resolves host names itself (HELLO-5); autoSelectFamily tries
// IPv6 and IPv4 addresses alike ("localhost" may resolve to ::1 first).
const socket = net.connect({ host, port, autoSelectFamily: true });
socket.write(`Hello in ${LANGUAGE}\n`); // HELLO-1, HELLO-3: one line ending in '\n'
const halfClose = setTimeout(() => socket.end(), HALF_CLOSE_DELAY_MS);
socket.once('data', () => clearTimeout(halfClose));

let connected = false;
socket.once('connect', () => (connected = true));

try {
  const reply = await readMessage(socket); // HELLO-6: a line, a close or an idle gap
  console.log(reply); // HELLO-7
} catch (err) {
  // HELLO-8: say which: no such host, no connection, or no reply.
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') fail(PROGRAM, `could not resolve host ${host}: ${err.message}`);
  if (!connected) fail(PROGRAM, `cannot connect to ${host} port ${port}: ${err.message}`);
  fail(PROGRAM, `no reply from ${host} port ${port}: ${err.message}`);
} finally {
  clearTimeout(halfClose);
  socket.destroy();
}
