/* transfer.h - the RUDP receiver's protocol logic: one transfer per source
 * address (spec/rudp.md RUDP-8..RUDP-18, RUDP-31). It does no network I/O
 * and reads no clock: the caller passes each datagram with the time, and
 * sends the ack it gets back. So the tests can drive it with the vectors in
 * spec/vectors/receiver.json. Output files go into the current directory.
 */
#ifndef TRANSFER_H
#define TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* sack: answer with sack packets (-k); idle_ms: the idle timeout (-t). */
void transfers_configure(bool sack, int64_t idle_ms);

/* Handle one datagram from peer, received at now_ms. Returns the length of
 * the ack to send back, written to ack (RUDP_MAX_DATAGRAM bytes), or 0 if
 * the datagram is dropped without an answer. */
size_t transfers_handle(const unsigned char *datagram, size_t len,
                        const struct sockaddr_storage *peer, int64_t now_ms,
                        unsigned char *ack);

/* RUDP-15: forget transfers that were silent for the idle timeout. */
void transfers_expire(int64_t now_ms);

/* Forget all transfers, closing unfinished outputs (as .partial files). */
void transfers_close_all(void);

#endif
