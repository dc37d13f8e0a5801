// Small helpers shared by the four programs' command lines.
import { constants } from 'node:os';
import { parseArgs } from 'node:util';

// fail prints "<program>: <message>" on stderr and exits 1; stdout stays
// for the protocol's output only (MANIFEST-14).
export function fail(program, message) {
  console.error(`${program}: ${message}`);
  process.exit(1);
}

// parseCommandLine wraps util.parseArgs so that a bad command line is reported
// with the usage text instead of a stack trace.
export function parseCommandLine(program, usage, config) {
  try {
    return parseArgs({ ...config, strict: true });
  } catch (err) {
    fail(program, `${err.message}\nusage: ${usage}`);
  }
}

// parsePort accepts a decimal TCP/UDP port number 1..65535.
export function parsePort(program, text) {
  const port = Number(text);
  if (!/^[0-9]+$/.test(text ?? '') || port < 1 || port > 65535) {
    fail(program, `bad port ${JSON.stringify(text)}: want a number from 1 to 65535`);
  }
  return port;
}

// exitOnSignals makes SIGTERM and SIGINT end the program at once. Servers
// and receivers are stopped that way when their work is done, so they exit
// 0 (RUDP-61); clients and senders exit with the shell's usual status
// 128 + signal number, since a killed client did not succeed. This matters
// in a container, where the program is PID 1: the kernel never applies a
// signal's default action to PID 1, so without a handler the suite's
// SIGTERM would be ignored until its SIGKILL 2 s later.
export function exitOnSignals({ server = false } = {}) {
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => process.exit(server ? 0 : 128 + constants.signals[signal]));
  }
}

// debugLogger returns a function that logs to stderr when enabled (-d).
export function debugLogger(program, enabled) {
  return enabled ? (message) => console.error(`${program}: ${message}`) : () => {};
}
