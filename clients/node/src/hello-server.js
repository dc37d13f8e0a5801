// Hello server (spec/hello.md): node hello-server.js PORT [--challenge]
//
// Serves clients forever: prints each client's message on stdout, replies
// "Goodbye in JavaScript\n" and closes that connection. With --challenge it
// replies "Goodbye <ClientLanguage> from JavaScript\n" and also prints the
// client's IP address.
//
// Concurrency comes from Node's event loop: each connection is an
// independent chain of callbacks with its own timers, so a client that
// sends nothing only holds its own socket and never blocks the others
// (HELLO-14). No threads needed.
import net from 'node:net';
import { exitOnSignals, fail, parseCommandLine, parsePort } from './cli.js';
import { LANGUAGE, TIMEOUT_MS, challengeReply, readMessage } from './hello.js';

const PROGRAM = 'hello-server';
// After the reply we half-close, then read and discard until the client
// closes, for at most this long: closing with unread input would reset the
// connection, and a reset may destroy the reply before the client reads it
// (HELLO-12).
const LINGER_MS = 2000;

exitOnSignals({ server: true });
const { values, positionals } = parseCommandLine(PROGRAM, 'node hello-server.js PORT [--challenge]', {
  options: { challenge: { type: 'boolean' } },
  allowPositionals: true,
});
if (positionals.length !== 1) fail(PROGRAM, 'usage: node hello-server.js PORT [--challenge]');
const port = parsePort(PROGRAM, positionals[0]); // HELLO-30: server PORT

// allowHalfOpen: a client may half-close right after its message (HELLO-2);
// we must still be able to send the reply on that connection.
const server = net.createServer({ allowHalfOpen: true }, async (socket) => {
  const client = plainAddress(socket.remoteAddress);
  // A connection silent for TIMEOUT_MS is dropped, whatever its state.
  socket.setTimeout(TIMEOUT_MS);
  socket.on('timeout', () => socket.destroy());
  socket.on('error', (err) => console.error(`${PROGRAM}: ${client}: ${err.message}`));
  try {
    const message = await readMessage(socket);
    // console.log to a pipe or a file is synchronous in Node: nothing waits in a buffer.
    if (values.challenge) console.log(client); // HELLO-21, before the message as the Go reference does
    console.log(message); // HELLO-11
    socket.end(values.challenge ? challengeReply(message) : `Goodbye in ${LANGUAGE}\n`); // HELLO-4, HELLO-12
    socket.setTimeout(LINGER_MS); // the socket closes when the client does, or after this
  } catch (err) {
    console.error(`${PROGRAM}: ${client}: ${err.message}`);
    socket.destroy();
  }
});
server.on('error', (err) => fail(PROGRAM, `cannot listen on port ${port}: ${err.message}`));
// No host: Node listens on all addresses, IPv6 and IPv4 (HELLO-10), or on
// all IPv4 addresses where IPv6 is off.
server.listen(port, () => console.error(`${PROGRAM}: listening on TCP port ${port}`));

// plainAddress turns an IPv4-mapped IPv6 address (how a dual-stack socket
// shows an IPv4 client, "::ffff:172.18.0.3") back into "172.18.0.3".
function plainAddress(address = 'unknown') {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
