// Tests of the Hello client and server (src/hello*.js), run as processes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { challengeReply, messageText } from '../src/hello.js';
import { exited, freePort, listening, start } from './programs.js';

test('messageText: first line, blanks trimmed (HELLO-15)', () => {
  assert.equal(messageText(Buffer.from('Hello in C\r\nmore')), 'Hello in C');
  assert.equal(messageText(Buffer.from('  Hello in C\0\0\0')), 'Hello in C');
});

test('challengeReply (HELLO-20)', () => {
  assert.equal(challengeReply('Hello in Rust'), 'Goodbye Rust from JavaScript\n');
  assert.equal(challengeReply('hello IN  C++'), 'Goodbye C++ from JavaScript\n');
  assert.equal(challengeReply('Bonjour'), 'Goodbye Bonjour from JavaScript\n');
  assert.equal(challengeReply(''), 'Goodbye from JavaScript\n');
});

// exchange connects a raw socket, sends text (half-closing after it when
// halfClose is set) and resolves with everything the server sent.
async function exchange(port, text, { halfClose = false } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let reply = '';
  socket.on('data', (chunk) => (reply += chunk));
  socket.write(text);
  if (halfClose) socket.end();
  await once(socket, 'close');
  return reply;
}

test('hello server', async (t) => {
  const port = await freePort('tcp');
  const server = start('hello-server.js', [String(port)]);
  t.after(() => server.kill());
  await listening(server);

  await t.test('serves the course client (HELLO-4, HELLO-11)', async () => {
    const client = start('hello-client.js', ['localhost', String(port)]);
    assert.equal(await exited(client), 0, client.err);
    assert.equal(client.out, 'Goodbye in JavaScript\n');
    assert.match(server.out, /^Hello in JavaScript$/m);
  });

  await t.test('a silent client does not block others (HELLO-14)', async () => {
    const silent = net.connect(port, '127.0.0.1');
    await once(silent, 'connect');
    const t0 = Date.now();
    assert.equal(await exchange(port, 'Hello in Java\n'), 'Goodbye in JavaScript\n');
    assert.ok(Date.now() - t0 < 5000, 'reply took too long'); // the suite's probe allows 5 s
    silent.destroy();
  });

  await t.test('accepts a message without newline ended by half-close or idle gap (HELLO-2)', async () => {
    assert.equal(await exchange(port, 'Hello in Perl', { halfClose: true }), 'Goodbye in JavaScript\n');
    const t0 = Date.now();
    assert.equal(await exchange(port, 'Hello in Lua'), 'Goodbye in JavaScript\n');
    assert.ok(Date.now() - t0 >= 900, 'replied before the idle gap');
    assert.match(server.out, /^Hello in Perl$/m);
    assert.match(server.out, /^Hello in Lua$/m);
  });
});

test('hello server --challenge (HELLO-20, HELLO-21)', async (t) => {
  const port = await freePort('tcp');
  const server = start('hello-server.js', [String(port), '--challenge']);
  t.after(() => server.kill());
  await listening(server);
  assert.equal(await exchange(port, 'Hello in Rust\r\n'), 'Goodbye Rust from JavaScript\n');
  assert.equal(server.out, '127.0.0.1\nHello in Rust\n');
});

test('hello client', async (t) => {
  // A peer that replies without a newline and keeps the connection open,
  // one that only replies after the client half-closed, and one that never
  // replies.
  let port;
  let mode;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    if (mode === 'no-newline') socket.once('data', () => socket.write('Goodbye in Go'));
    else if (mode === 'until-eof') socket.resume().on('end', () => socket.end('Goodbye in C\n'));
    else socket.resume(); // silent: reads, never replies, never closes
  });
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = String(server.address().port);
  });
  after(() => server.close());

  await t.test('reply without newline, ended by an idle gap', async () => {
    mode = 'no-newline';
    const client = start('hello-client.js', ['127.0.0.1', port]);
    assert.equal(await exited(client), 0, client.err);
    assert.equal(client.out, 'Goodbye in Go\n');
  });

  await t.test('half-closes for a server that reads until end of file', async () => {
    mode = 'until-eof';
    const client = start('hello-client.js', ['127.0.0.1', port]);
    assert.equal(await exited(client), 0, client.err);
    assert.equal(client.out, 'Goodbye in C\n');
  });

  await t.test('fails with a message when the host name is unknown (HELLO-5, HELLO-8)', async () => {
    const client = start('hello-client.js', ['no-such-host.invalid', port]);
    assert.equal(await exited(client), 1);
    assert.match(client.err, /could not resolve host no-such-host\.invalid/);
  });

  await t.test('gives up after 10 s on a server that never replies (HELLO-8)', async () => {
    mode = 'silent';
    const t0 = Date.now();
    const client = start('hello-client.js', ['127.0.0.1', port]);
    assert.equal(await exited(client), 1);
    assert.ok(Date.now() - t0 < 15_000, 'gave up too late');
    assert.match(client.err, /no reply from 127\.0\.0\.1/);
  });

  await t.test('fails with a message when nobody listens (HELLO-8)', async () => {
    const client = start('hello-client.js', ['127.0.0.1', String(await freePort('tcp'))]);
    assert.equal(await exited(client), 1);
    assert.match(client.err, /cannot connect to 127\.0\.0\.1 port \d+: .*ECONNREFUSED/);
    assert.equal(client.out, '');
  });
});
