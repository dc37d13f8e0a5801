// What the Hello client and server share (spec/hello.md): the language name,
// the lenient message reader and the challenge reply.

export const LANGUAGE = 'JavaScript';
export const MAX_MESSAGE = 64 * 1024; // bytes; a peer that never sends '\n' cannot fill our memory
export const IDLE_GAP_MS = 1000; // HELLO-2: some bytes, then this long silent = message complete
export const TIMEOUT_MS = 10_000; // a whole exchange gives up after this long

// readMessage resolves with the text of the first message the peer sends on
// socket (see messageText). Strictly a message is one line ending in '\n'
// (HELLO-1), but we also accept one ended by the peer's half-close or by an
// idle gap after some bytes arrived (HELLO-2). It rejects when the
// connection fails, or closes or times out before any byte arrived.
export function readMessage(socket, { idleGapMs = IDLE_GAP_MS, timeoutMs = TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let idleTimer;

    const finish = (error) => {
      clearTimeout(idleTimer);
      clearTimeout(overallTimer);
      // Stop listening; the socket keeps flowing, so anything after the
      // message is read and thrown away, and the peer's close still counts.
      socket.off('data', onData).off('end', onEnd).off('error', onError);
      if (error) return reject(error);
      resolve(messageText(Buffer.concat(chunks)));
    };
    const onData = (chunk) => {
      chunks.push(chunk);
      size += chunk.length;
      if (chunk.includes(0x0a) || size >= MAX_MESSAGE) return finish();
      clearTimeout(idleTimer);
      idleTimer = setTimeout(finish, idleGapMs);
    };
    const onEnd = () => finish(size > 0 ? undefined : new Error('connection closed before any byte arrived'));
    const onError = (err) => finish(size > 0 ? undefined : err); // e.g. a reset right after the message
    const overallTimer = setTimeout(
      () => finish(size > 0 ? undefined : new Error(`nothing received within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );

    socket.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

// Blanks, for HELLO-15: white space, and NUL bytes (a C program that sends
// its whole char buffer pads the message with them).
const BLANKS = /[\s\0]+/;

// messageText returns the first line of bytes (at most MAX_MESSAGE bytes) as
// text, without its '\n' and without leading and trailing blanks such as
// the '\r' of "\r\n", which receivers tolerate (HELLO-15).
export function messageText(bytes) {
  const end = bytes.indexOf(0x0a);
  const line = bytes.subarray(0, end < 0 ? MAX_MESSAGE : end).toString('utf8');
  return line.replace(/^[\s\0]+|[\s\0]+$/g, '');
}

// challengeReply answers a client's message in the challenge variant
// (HELLO-20): "Goodbye <ClientLanguage> from JavaScript\n", where
// ClientLanguage is X from "Hello in X" (words compared case-insensitively,
// runs of blanks counted as one space) or else the whole trimmed message, so
// a client that says something else sees its own words echoed back. This is
// the rule of the Go reference (reference/hello).
export function challengeReply(message) {
  let words = message.split(BLANKS).filter(Boolean);
  if (words.length >= 3 && /^hello$/i.test(words[0]) && /^in$/i.test(words[1])) words = words.slice(2);
  return words.length ? `Goodbye ${words.join(' ')} from ${LANGUAGE}\n` : `Goodbye from ${LANGUAGE}\n`;
}
