/* rudp.h - the datagram format of the course's reliable UDP file transfer
 * (spec/rudp.md): CRC-32 checksum, encoding and parsing.
 *
 *   start|<seqno>|<data>|<checksum>      data|...      end|...
 *   ack|<seqno>|<checksum>               sack|<cum>;<s1>,<s2>,...|<checksum>
 */
#ifndef RUDP_H
#define RUDP_H

#include <stddef.h>
#include <stdint.h>

#define RUDP_MAX_DATAGRAM 1472 /* RUDP-2: no datagram is larger */
#define RUDP_WINDOW 5          /* RUDP-12, RUDP-40: packets in flight / buffered */
#define RUDP_MAX_SACKS 32      /* sack entries we keep; more are checked, then ignored */

enum rudp_type { RUDP_START, RUDP_DATA, RUDP_END, RUDP_ACK, RUDP_SACK };

struct rudp_packet {
    enum rudp_type type;
    uint64_t seqno;            /* for ack/sack: the next expected seqno */
    const unsigned char *data; /* start/data/end: points INTO the parsed datagram */
    size_t len;
    uint64_t sacks[RUDP_MAX_SACKS]; /* sack: out-of-order seqnos held by the receiver */
    size_t nsacks;
};

/* CRC-32/IEEE as in zlib's crc32(0, buf, len) (RUDP-4). */
uint32_t rudp_crc32(const void *buf, size_t len);

/* The type's name on the wire: "start", "data", ... */
const char *rudp_type_name(enum rudp_type type);

/* Bytes of payload that fit into a start/data/end datagram with this seqno,
 * reserving room for the longest checksum (10 digits) (RUDP-2, RUDP-46). */
size_t rudp_payload_capacity(enum rudp_type type, uint64_t seqno);

/* Encode a start/data/end datagram into out (at least RUDP_MAX_DATAGRAM bytes).
 * Returns its length, or 0 if it would be longer than RUDP_MAX_DATAGRAM
 * (which depends on the checksum's digits: rudp_payload_capacity is safe). */
size_t rudp_encode(unsigned char *out, enum rudp_type type, uint64_t seqno,
                   const void *data, size_t len);

/* Encode "ack|<cum>|<checksum>" (RUDP-6) or "sack|<cum>;<s1>,...|<checksum>"
 * (RUDP-30). Return the length; out needs RUDP_MAX_DATAGRAM bytes. */
size_t rudp_encode_ack(unsigned char *out, uint64_t cum);
size_t rudp_encode_sack(unsigned char *out, uint64_t cum, const uint64_t *sacks, size_t nsacks);

/* Parse one datagram (RUDP-5). Returns NULL if it is valid, else a short
 * reason ("checksum mismatch", ...) for debug output; such datagrams are
 * dropped silently (RUDP-8). On success p->data points into buf. */
const char *rudp_parse(const unsigned char *buf, size_t len, struct rudp_packet *p);

#endif
