/* hello.h - what the Hello client and server share (spec/hello.md). */
#ifndef HELLO_H
#define HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HELLO_LANGUAGE "C"         /* as in interop.json "language" (HELLO-3, HELLO-4) */
#define HELLO_IDLE_MS 1000         /* a pause this long after some bytes ends a message */
#define HELLO_TIMEOUT_MS 10000     /* limit for one whole exchange */
#define HELLO_MAX_MESSAGE (64 * 1024)

/* Read one message leniently (HELLO-2). It ends at the first '\n' (kept in
 * buf), at end of stream (the peer closed or half-closed), when the peer
 * resets the connection after sending, or after HELLO_IDLE_MS without a
 * byte once bytes have arrived. Waits at most timeout_ms in total.
 * Returns the number of bytes in buf; 0 if the stream ended before any
 * byte; -1 with errno set on error: ETIMEDOUT (nothing arrived in time),
 * EMSGSIZE (more than cap bytes without an end), or a read error. */
ssize_t read_message(int fd, char *buf, size_t cap, int timeout_ms);

/* Whitespace and NUL, which receivers tolerate around and inside a message
 * (HELLO-15): C programs that send their whole buffer pad with NULs. */
bool is_blank(char c);

/* The text of a message: buf without leading and trailing blanks.
 * Returns a pointer into buf and its length in *len. */
const char *message_text(const char *buf, size_t *len);

/* HELLO-20: the challenge reply "Goodbye <ClientLanguage> from <server>\n"
 * to the message msg[0..len), in a malloc'ed string (NULL if out of memory).
 * The client's words are taken with runs of blanks as one space; after
 * "Hello in" (any letter case) they name its language, otherwise the whole
 * message is echoed, so a client that says something else sees what it
 * sent; an empty message gives "Goodbye from <server>\n". */
char *challenge_reply(const char *msg, size_t len, const char *server_language);

/* Write all of buf, retrying short writes. Returns 0, or -1 with errno set. */
int write_all(int fd, const char *buf, size_t len);

#endif
