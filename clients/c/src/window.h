/* window.h - the RUDP sender's protocol logic (spec/rudp.md RUDP-40..RUDP-45,
 * RUDP-32): the packets in flight, what the acks say about them, and when to
 * send one again. Like transfer.h for the receiver, it does no network I/O
 * and reads no clock: the caller passes the time (in ms) to every call and
 * gives a function that puts a datagram on the wire. So tests/test_window.c
 * can drive it through losses packet by packet, without sockets or sleeps.
 *
 * The caller's loop (src/sender.c):
 *   while (!window_done(&w)) {
 *       while (window_can_send(&w)) window_send_new(&w, datagram, ...);
 *       wait for an ack until window_deadline(&w);
 *       window_on_ack(&w, &ack, now)  for each ack;
 *       window_on_time(&w, now);
 *   }
 */
#ifndef WINDOW_H
#define WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rudp.h"

#define RTO_INITIAL_MS 500 /* RUDP-41: the course's fixed timeout, our first guess */
#define RTO_MIN_MS 200     /* RUDP-41 floor (Linux's): loopback RTTs are ~0 ms, but busy hosts stall */
#define RTO_MAX_MS 1000    /* backoff cap: probe every second in an outage (RUDP-44) */
#define DUP_ACKS_FOR_FAST_RETRANSMIT 3 /* RUDP-42: the 4th identical ack */
#define HELD_ABOVE_FOR_LOSS 3          /* with sacks: 3 held packets above a hole (RFC 6675) */

/* Puts one datagram (packet seqno) on the wire. */
typedef void send_fn(void *ctx, uint64_t seqno, const unsigned char *datagram, size_t len);

/* A sent packet that is not yet cumulatively acknowledged. */
struct sent_packet {
    unsigned char buf[RUDP_MAX_DATAGRAM];
    size_t len;
    int64_t sent_at;   /* last (re)transmission */
    int transmissions; /* Karn's rule: its ack gives an RTT sample only if 1 */
    bool sacked;       /* the receiver says it holds it (-k, RUDP-32) */
    bool repaired;     /* resent for loss in the current recovery episode */
    bool probed;       /* its repair was probed once (tail loss probe) */
};

/* RFC 6298 retransmission timeout estimator (RUDP-41). */
struct rto_estimator {
    double srtt, rttvar; /* smoothed RTT and its variation, ms */
    bool measured;       /* srtt holds a sample */
    int64_t base;        /* timeout from the estimate, ms */
    int64_t rto;         /* current timeout: base, doubled per silent timeout */
};

/* What a transfer took (for -d and the tests). */
struct window_stats {
    int64_t transmissions, fast_retransmits, probes, timeouts;
};

struct window {
    bool sack_mode;    /* -k: expect sacks, resend only holes (RUDP-32) */
    bool sack_acks;    /* the last ack was a sack (a plain-ack receiver: judge by dups) */
    uint64_t first;    /* seqno of start */
    uint64_t base;     /* last cumulative ack = oldest unacknowledged seqno */
    uint64_t next;     /* next new seqno to send */
    bool end_made;     /* the end packet exists ... */
    uint64_t end;      /* ... and has this seqno */
    struct sent_packet packets[RUDP_WINDOW]; /* seqno s lives in packets[s % RUDP_WINDOW] */
    int dup_acks;      /* duplicate acks in a row (RUDP-42) */
    bool in_recovery;  /* between a loss repair and the ack of everything sent before it */
    uint64_t recover;  /* next when the recovery began (as in NewReno) */
    bool heard;        /* an ack arrived since the last timeout */
    struct rto_estimator rto;
    int64_t timer;       /* retransmission timer (RFC 6298); 0 = stopped */
    int64_t loss_timer;  /* when a suspected loss becomes overdue (RACK); 0 = none */
    int64_t probe_timer; /* when a repaired head is probed (TLP); 0 = none */
    uint64_t probe_seqno;/* the head the probe timer is for */
    int64_t last_progress; /* last time the cumulative ack advanced (RUDP-44) */
    struct window_stats stats;
    send_fn *send;
    void *send_ctx;
};

/* An empty window whose start packet will have seqno first. */
void window_init(struct window *w, uint64_t first, bool sack_mode, int64_t now,
                 send_fn *send, void *send_ctx);

/* May the next new packet (seqno w->next) go out now? (RUDP-40, start alone) */
bool window_can_send(const struct window *w);

/* Send the encoded packet w->next (is_end: it is the end packet). */
void window_send_new(struct window *w, const unsigned char *datagram, size_t len, bool is_end,
                     int64_t now);

/* Handle an ack or sack from the receiver. */
void window_on_ack(struct window *w, const struct rudp_packet *ack, int64_t now);

/* When window_on_time wants to be called next; 0 if no timer runs. */
int64_t window_deadline(const struct window *w);

/* Run the timers that are due at now. */
void window_on_time(struct window *w, int64_t now);

/* Is end acknowledged? (RUDP-45) */
bool window_done(const struct window *w);

#endif
