/* transfer.c - the RUDP receiver's protocol logic (see transfer.h). */
#include "transfer.h"

#include <ctype.h>
#include <err.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rudp.h"
#include "util.h"

#define MAX_TRANSFERS 256 /* open files are limited: a flood of starts must not exhaust them */

struct slot { /* one buffered packet of the receive window */
    bool present;
    bool is_end;
    size_t len;
    unsigned char data[RUDP_MAX_DATAGRAM];
};

struct transfer {
    struct transfer *next;    /* all transfers form a list */
    struct sockaddr_storage peer;
    char name[INET6_ADDRSTRLEN + 8]; /* "<ip>.<port>", the output file */
    uint64_t first_seqno;     /* seqno and data of its start packet: a start */
    size_t start_len;         /* with both equal is a retransmission (RUDP-18) */
    unsigned char start_data[RUDP_MAX_DATAGRAM];
    uint64_t next_expected;   /* RUDP-13: every ack carries it */
    bool complete;            /* end delivered, file renamed */
    FILE *out;                /* "<name>.partial" while not complete */
    int64_t last_heard;       /* for the idle timeout (RUDP-15) */
    struct slot window[RUDP_WINDOW]; /* seqno s waits in window[s % RUDP_WINDOW] */
};

static struct transfer *transfers;
static int transfer_count;
static bool sack_mode;
static int64_t idle_timeout_ms = 10 * 1000;

void transfers_configure(bool sack, int64_t idle_ms)
{
    sack_mode = sack;
    idle_timeout_ms = idle_ms;
}

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

static struct transfer *find_transfer(const struct sockaddr_storage *peer)
{
    for (struct transfer *t = transfers; t; t = t->next)
        if (same_peer(&t->peer, peer))
            return t;
    return NULL;
}

static void partial_name(const struct transfer *t, char *buf, size_t size)
{
    snprintf(buf, size, "%s.partial", t->name);
}

/* Forget a transfer. An unfinished one leaves its ".partial" file behind. */
static void drop_transfer(struct transfer *t)
{
    for (struct transfer **p = &transfers; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    if (t->out)
        fclose(t->out);
    free(t);
    transfer_count--;
}

/* RUDP-18: a start is a retransmission of the transfer's own start only if
 * seqno and data are the same; any other start begins a new transfer. */
static bool is_new_start(const struct transfer *t, const struct rudp_packet *p)
{
    return !t || p->seqno != t->first_seqno || p->len != t->start_len ||
           memcmp(p->data, t->start_data, p->len) != 0;
}

/* RUDP-10, RUDP-11, RUDP-18: a start packet begins a transfer, replacing any
 * earlier one from the same address. Returns NULL if the file can't be made. */
static struct transfer *begin_transfer(struct transfer *old, const struct sockaddr_storage *peer,
                                       const struct rudp_packet *start)
{
    if (old)
        drop_transfer(old);
    if (transfer_count >= MAX_TRANSFERS) {
        warnx("too many transfers at once: ignoring a start");
        return NULL;
    }
    struct transfer *t = calloc(1, sizeof *t);
    if (!t) {
        warnx("out of memory: ignoring a start");
        return NULL;
    }
    t->peer = *peer;
    unsigned port;
    address_text((const struct sockaddr *)peer, t->name, &port);
    /* RUDP-16: the name comes from the source address, never from the
     * packet, so nothing on the wire can choose where we write. Like the
     * Go reference, keep only [A-Za-z0-9.-]: "::1" becomes "__1". */
    for (char *c = t->name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-')
            *c = '_';
    snprintf(t->name + strlen(t->name), sizeof t->name - strlen(t->name), ".%u", port);
    char partial[sizeof t->name + 8];
    partial_name(t, partial, sizeof partial);
    t->out = fopen(partial, "wb");
    if (!t->out) {
        warn("cannot create %s", partial);
        free(t);
        return NULL;
    }
    t->first_seqno = t->next_expected = start->seqno;
    t->start_len = start->len;
    memcpy(t->start_data, start->data, start->len);
    t->next = transfers;
    transfers = t;
    transfer_count++;
    debugf("%s: new transfer, start seqno %" PRIu64, t->name, start->seqno);
    return t;
}

/* RUDP-14: the file is complete - closed and renamed - before end is acked. */
static bool finish_transfer(struct transfer *t)
{
    char partial[sizeof t->name + 8];
    partial_name(t, partial, sizeof partial);
    long size = ftell(t->out);
    int rc = fclose(t->out);
    t->out = NULL;
    if (rc != 0 || rename(partial, t->name) != 0) {
        warn("cannot complete %s", t->name);
        return false;
    }
    t->complete = true;
    fprintf(stderr, "rudp-receiver: received %s (%ld bytes)\n", t->name, size);
    return true;
}

/* Buffer a start/data/end packet if it is inside the window, then write
 * every packet that is now in order. Returns false if the transfer failed
 * (and was dropped); then nothing may be acked. */
static bool accept_packet(struct transfer *t, const struct rudp_packet *p)
{
    /* RUDP-12: window = next_expected .. next_expected+4; the rest (old
     * duplicates, or too far ahead) is dropped but still answered. */
    if (p->seqno < t->next_expected || p->seqno - t->next_expected >= RUDP_WINDOW ||
        p->seqno == UINT64_MAX) /* its ack, seqno+1, would not fit in 64 bits */
        return true;
    struct slot *s = &t->window[p->seqno % RUDP_WINDOW];
    if (!s->present) {
        memcpy(s->data, p->data, p->len);
        s->len = p->len;
        s->is_end = p->type == RUDP_END;
        s->present = true;
    }
    /* RUDP-14: write in order, as far as the buffered packets reach. */
    for (s = &t->window[t->next_expected % RUDP_WINDOW]; s->present;
         s = &t->window[t->next_expected % RUDP_WINDOW]) {
        if (fwrite(s->data, 1, s->len, t->out) != s->len) {
            warn("cannot write %s.partial", t->name);
            drop_transfer(t);
            return false;
        }
        s->present = false;
        t->next_expected++;
        if (s->is_end) {
            if (!finish_transfer(t)) {
                drop_transfer(t);
                return false;
            }
            memset(t->window, 0, sizeof t->window); /* nothing comes after end */
            break;
        }
    }
    return true;
}

/* RUDP-13 / RUDP-31: a cumulative ack, or with -k a sack listing the
 * buffered out-of-order seqnos in ascending order. */
static size_t make_ack(const struct transfer *t, unsigned char *ack)
{
    if (!sack_mode)
        return rudp_encode_ack(ack, t->next_expected);
    uint64_t held[RUDP_WINDOW];
    size_t n = 0;
    for (uint64_t s = t->next_expected + 1; s < t->next_expected + RUDP_WINDOW; s++)
        if (t->window[s % RUDP_WINDOW].present)
            held[n++] = s;
    return rudp_encode_sack(ack, t->next_expected, held, n);
}

size_t transfers_handle(const unsigned char *datagram, size_t len,
                        const struct sockaddr_storage *peer, int64_t now_ms,
                        unsigned char *ack)
{
    struct rudp_packet p;
    const char *why = rudp_parse(datagram, len, &p);
    if (why) { /* RUDP-8: silently dropped, never acked */
        debugf("dropped a datagram of %zu bytes: %s", len, why);
        return 0;
    }
    if (p.type == RUDP_ACK || p.type == RUDP_SACK) {
        debugf("dropped an %s: a receiver only takes start/data/end", rudp_type_name(p.type));
        return 0;
    }
    struct transfer *t = find_transfer(peer);
    if (p.type == RUDP_START && is_new_start(t, &p))
        t = begin_transfer(t, peer, &p);
    if (!t) { /* RUDP-11 */
        debugf("dropped %s %" PRIu64 ": no transfer from that address", rudp_type_name(p.type),
               p.seqno);
        return 0;
    }
    debugf("%s: got %s %" PRIu64 " (%zu bytes)", t->name, rudp_type_name(p.type), p.seqno, p.len);
    t->last_heard = now_ms;
    if (!t->complete && !accept_packet(t, &p))
        return 0;
    return make_ack(t, ack); /* RUDP-17: completed transfers are still acked */
}

void transfers_expire(int64_t now_ms)
{
    struct transfer *t = transfers, *next;
    for (; t; t = next) {
        next = t->next;
        if (now_ms - t->last_heard < idle_timeout_ms)
            continue;
        if (!t->complete)
            fprintf(stderr, "rudp-receiver: %s idle for %" PRId64 " ms: dropped, %s.partial kept\n",
                    t->name, idle_timeout_ms, t->name);
        drop_transfer(t);
    }
}

void transfers_close_all(void)
{
    while (transfers)
        drop_transfer(transfers);
}
