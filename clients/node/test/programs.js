// Helpers for the tests that run the four programs as child processes.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

// start runs src/<program> with node; child.out and child.err collect its
// stdout and stderr as text.
export function start(program, args, options = {}) {
  const script = fileURLToPath(new URL(`../src/${program}`, import.meta.url));
  const child = spawn(process.execPath, [script, ...args], options);
  child.out = '';
  child.err = '';
  child.stdout.setEncoding('utf8').on('data', (text) => (child.out += text));
  child.stderr.setEncoding('utf8').on('data', (text) => (child.err += text));
  return child;
}

// exited waits for child to exit and returns its exit code; after
// timeoutMs it kills the child and throws.
export async function exited(child, timeoutMs = 20_000) {
  if (child.exitCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await once(child, 'exit');
  clearTimeout(timer);
  if (signal === 'SIGKILL') throw new Error(`timed out after ${timeoutMs} ms; stderr:\n${child.err}`);
  return code;
}

// listening waits until a server child says so on stderr.
export async function listening(child, timeoutMs = 5000) {
  for (const t0 = Date.now(); !/listening on/.test(child.err); await sleep(20)) {
    if (child.exitCode !== null || Date.now() - t0 > timeoutMs) throw new Error(`server did not start:\n${child.err}`);
  }
}

// freePort returns a port that was free a moment ago, for 'tcp' or 'udp'.
export async function freePort(kind) {
  const socket = kind === 'tcp' ? net.createServer().listen(0, '127.0.0.1') : dgram.createSocket('udp4').bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.close();
  return port;
}
