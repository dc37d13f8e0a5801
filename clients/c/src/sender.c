/* sender.c - RUDP sender (spec/rudp.md).
 *
 *   rudp-sender -a HOST -p PORT [-f FILE] [-k] [-d] [-s START_SEQNO] [-g GIVE_UP_SECONDS]
 *
 * Sends FILE (or stdin) as start, data..., end datagrams over UDP and exits 0
 * once end is acknowledged. This file reads the input, cuts it into packets
 * and talks to the socket; window.c decides what to send when: at most 5
 * packets in flight (RUDP-40), losses repaired from the acks (fast
 * retransmit, RACK, tail loss probes) and by a retransmission timer that
 * follows the measured round-trip time (RFC 6298). With -k the receiver's
 * sacks say which packets it holds, and only the holes are resent.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rudp.h"
#include "util.h"
#include "window.h"

#define DEFAULT_GIVE_UP_SECONDS 60 /* RUDP-44 */

/* The input, read ahead far enough to know whether a packet is the last. */
struct input {
    int fd;
    const char *name;
    unsigned char buf[2 * RUDP_MAX_DATAGRAM];
    size_t len;
    bool eof;
};

/* ---- input ---- */

/* Read until at least want bytes are buffered or the input ends. */
static void input_fill(struct input *in, size_t want)
{
    while (in->len < want && !in->eof) {
        ssize_t n = read(in->fd, in->buf + in->len, sizeof in->buf - in->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            err(1, "cannot read %s", in->name);
        if (n == 0)
            in->eof = true;
        in->len += (size_t)n;
    }
}

static void input_consume(struct input *in, size_t n)
{
    memmove(in->buf, in->buf + n, in->len - n);
    in->len -= n;
}

/* ---- sending ---- */

/* The window's send function: one datagram on the connected socket. */
static void send_datagram(void *ctx, uint64_t seqno, const unsigned char *datagram, size_t len)
{
    int sock = *(int *)ctx;
    /* A refused send just means an ICMP error came back for an earlier
     * datagram (receiver not up yet?): keep going, the timer retries. */
    if (send(sock, datagram, len, 0) < 0)
        debugf("send %" PRIu64 ": %s", seqno, strerror(errno));
}

/* Build and send packet w->next. start carries the first chunk (RUDP-7);
 * end carries the last one, possibly empty, so an empty file is an empty
 * start and an empty end. Every other packet is as full as allowed (RUDP-46). */
static void send_new_packet(struct window *w, struct input *in)
{
    uint64_t seqno = w->next;
    enum rudp_type type = RUDP_DATA;
    size_t take;
    if (seqno == w->first) {
        size_t room = rudp_payload_capacity(RUDP_START, seqno);
        type = RUDP_START;
        input_fill(in, room);
        take = in->len < room ? in->len : room;
    } else {
        size_t end_room = rudp_payload_capacity(RUDP_END, seqno);
        input_fill(in, end_room + 1); /* one byte more tells if the rest fits */
        if (in->eof && in->len <= end_room) {
            type = RUDP_END;
            take = in->len;
        } else {
            take = rudp_payload_capacity(RUDP_DATA, seqno);
        }
    }
    unsigned char datagram[RUDP_MAX_DATAGRAM];
    size_t len = rudp_encode(datagram, type, seqno, in->buf, take);
    input_consume(in, take);
    debugf("send %s %" PRIu64 " (%zu bytes)", rudp_type_name(type), seqno, len);
    window_send_new(w, datagram, len, type == RUDP_END, now_ms());
}

static void receive_acks(int sock, struct window *w)
{
    unsigned char buf[RUDP_MAX_DATAGRAM + 1];
    for (;;) {
        ssize_t n = recv(sock, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
            return; /* EAGAIN: drained; ECONNREFUSED: ICMP, receiver not up yet */
        struct rudp_packet p;
        const char *why = rudp_parse(buf, (size_t)n, &p);
        if (why)
            debugf("dropped a reply of %zd bytes: %s", n, why);
        else if (p.type != RUDP_ACK && p.type != RUDP_SACK)
            debugf("dropped a %s: a sender only takes acks", rudp_type_name(p.type));
        else
            window_on_ack(w, &p, now_ms());
    }
}

/* ---- setup ---- */

/* A UDP socket connected to HOST:PORT, so that send() needs no address and
 * only the receiver's datagrams reach us. IPv4 is preferred: "localhost"
 * also means ::1, where many course receivers do not listen. */
static int connect_udp(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
    struct addrinfo *list;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0)
        errx(1, "could not resolve host %s: %s", host, gai_strerror(rc));
    struct addrinfo *ai = list;
    for (struct addrinfo *a = list; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            ai = a;
            break;
        }
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        err(1, "cannot address %s port %s", host, port);
    freeaddrinfo(list);
    return fd;
}

static uint64_t parse_number(const char *text, uint64_t max, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text < '0' || *text > '9' || *end != '\0' || errno || v > max)
        errx(2, "%s: '%s' is not a number from 0 to %" PRIu64, what, text, max);
    return v;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s -a HOST -p PORT [-f FILE] [-k] [-d] [-s START_SEQNO] [-g GIVE_UP_SECONDS]\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = NULL, *port = NULL, *file = NULL;
    struct input in = {.fd = STDIN_FILENO, .name = "stdin"};
    bool sack_mode = false, fixed_start = false;
    uint64_t first = 0;
    int64_t give_up_ms = DEFAULT_GIVE_UP_SECONDS * 1000;
    int opt;
    while ((opt = getopt(argc, argv, "a:p:f:kds:g:")) != -1) {
        switch (opt) {
        case 'a': host = optarg; break;
        case 'p': port = optarg; break;
        case 'f': file = optarg; break;
        case 'k': sack_mode = true; break;
        case 'd': debug_enabled = true; break;
        case 's':
            first = parse_number(optarg, UINT64_MAX / 2, "-s");
            fixed_start = true;
            break;
        case 'g':
            give_up_ms = (int64_t)parse_number(optarg, 86400, "-g") * 1000;
            if (give_up_ms == 0)
                errx(2, "-g: give up after at least 1 second");
            break;
        default: usage(argv[0]);
        }
    }
    if (!host || !port || optind != argc)
        usage(argv[0]);
    parse_port(port, "-p");
    if (file) { /* RUDP-60: -f FILE, else stdin */
        in.fd = open(file, O_RDONLY);
        in.name = file;
        if (in.fd < 0)
            err(1, "cannot open %s", file);
    }
    if (!fixed_start) {
        /* A random start (RUDP-7), below 10^9 so that it stays far from
         * 2^31 for receivers that keep seqnos in a 32-bit int. */
        uint32_t r;
        if (getrandom(&r, sizeof r, 0) != sizeof r)
            r = (uint32_t)getpid() ^ (uint32_t)now_ms();
        first = r % 1000000000u;
    }
    int sock = connect_udp(host, port);
    struct window w;
    window_init(&w, first, sack_mode, now_ms(), send_datagram, &sock);

    while (!window_done(&w)) { /* RUDP-45: until end is acked */
        while (window_can_send(&w)) /* RUDP-40 */
            send_new_packet(&w, &in);

        /* Sleep until an ack comes or the next timer (retransmission, RACK,
         * probe) or the give-up time is due. */
        int64_t now = now_ms();
        int64_t wake = w.last_progress + give_up_ms;
        int64_t deadline = window_deadline(&w);
        if (deadline && deadline < wake)
            wake = deadline;
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        if (poll(&pfd, 1, wake > now ? (int)(wake - now) : 0) > 0)
            receive_acks(sock, &w);

        now = now_ms();
        window_on_time(&w, now);
        if (!window_done(&w) && now - w.last_progress >= give_up_ms) /* RUDP-44 */
            errx(1, "giving up: no acknowledgement progress for %" PRId64
                    " s (acked up to seqno %" PRIu64 ", %s)",
                 give_up_ms / 1000, w.base, w.end_made ? "end sent" : "end not sent yet");
    }
    debugf("done: end %" PRIu64 " acknowledged; %" PRId64 " datagrams sent, %" PRId64
           " fast retransmits, %" PRId64 " probes, %" PRId64 " timeouts",
           w.end, w.stats.transmissions, w.stats.fast_retransmits, w.stats.probes, w.stats.timeouts);
    return 0;
}
