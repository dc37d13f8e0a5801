/* sender.c - RUDP sender (spec/rudp.md).
 *
 *   rudp-sender -a HOST -p PORT [-f FILE] [-k] [-d] [-s START_SEQNO] [-g GIVE_UP_SECONDS]
 *
 * Sends FILE (or stdin) as start, data..., end datagrams over UDP and exits 0
 * once end is acknowledged. At most 5 packets are in flight (RUDP-40). Lost
 * packets are found by a retransmission timer whose timeout follows the
 * measured round-trip time (RFC 6298) and by three duplicate acks (fast
 * retransmit). With -k the receiver's sacks say which packets it holds, and
 * only the holes are resent.
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

#define RTO_INITIAL_MS 500 /* RUDP-41: the course's fixed timeout, our first guess */
#define RTO_MIN_MS 200     /* RUDP-41 floor (Linux's): loopback RTTs are ~0 ms, but busy hosts stall */
#define RTO_MAX_MS 1000    /* backoff cap: probe every second in an outage (RUDP-44) */
#define DUP_ACKS_FOR_FAST_RETRANSMIT 3 /* RUDP-42: the 4th identical ack */
#define HELD_ABOVE_FOR_LOSS 3          /* with sacks: 3 held packets above a hole (RFC 6675) */
#define DEFAULT_GIVE_UP_SECONDS 60     /* RUDP-44 */

/* The input, read ahead far enough to know whether a packet is the last. */
struct input {
    int fd;
    const char *name;
    unsigned char buf[2 * RUDP_MAX_DATAGRAM];
    size_t len;
    bool eof;
};

/* A sent packet that is not yet cumulatively acknowledged. */
struct packet {
    unsigned char buf[RUDP_MAX_DATAGRAM];
    size_t len;
    int64_t sent_at;    /* last (re)transmission */
    bool retransmitted; /* Karn's rule: its ack gives no RTT sample */
    bool sacked;        /* the receiver says it holds it (-k) */
    bool fast_resent;   /* already repaired from ack evidence: next time the timer does it */
};

/* RFC 6298 retransmission timeout estimator (RUDP-41). */
struct rto_estimator {
    double srtt, rttvar; /* smoothed RTT and its variation, ms */
    bool measured;
    int64_t base;        /* timeout from the estimate, ms */
    int64_t rto;         /* current timeout: base, doubled per timeout */
};

struct sender {
    int sock;
    bool sack_mode;
    struct input in;
    uint64_t first;   /* seqno of start */
    uint64_t base;    /* last cumulative ack = oldest unacknowledged seqno */
    uint64_t next;    /* next new seqno to send */
    bool end_made;    /* the end packet exists ... */
    uint64_t end;     /* ... and has this seqno */
    struct packet window[RUDP_WINDOW]; /* seqno s lives in window[s % RUDP_WINDOW] */
    int dup_acks;
    bool heard;       /* an ack arrived since the last timeout */
    struct rto_estimator rto;
    int64_t timer;    /* when the retransmission timer fires (now_ms() time); 0 = stopped */
    int64_t last_progress;
};

static struct packet *packet_of(struct sender *s, uint64_t seqno)
{
    return &s->window[seqno % RUDP_WINDOW];
}

/* ---- RTO estimator (RFC 6298 section 2, with alpha 1/8, beta 1/4, K 4) ---- */

static void rto_update(struct rto_estimator *r, int64_t rtt_ms)
{
    double rtt = (double)rtt_ms;
    if (!r->measured) {
        r->srtt = rtt;
        r->rttvar = rtt / 2;
        r->measured = true;
    } else {
        double delta = r->srtt > rtt ? r->srtt - rtt : rtt - r->srtt;
        r->rttvar = 0.75 * r->rttvar + 0.25 * delta;
        r->srtt = 0.875 * r->srtt + 0.125 * rtt;
    }
    int64_t rto = (int64_t)(r->srtt + 4 * r->rttvar + 1); /* +1: clock granularity */
    r->base = r->rto = rto < RTO_MIN_MS ? RTO_MIN_MS : rto > RTO_MAX_MS ? RTO_MAX_MS : rto;
}

static void rto_backoff(struct rto_estimator *r) /* RFC 6298 (5.5) */
{
    r->rto = r->rto * 2 > RTO_MAX_MS ? RTO_MAX_MS : r->rto * 2;
}

/* New data was acknowledged: the path works again, so the backoff ends
 * (as in Linux TCP). RFC 6298 keeps it until a clean RTT sample, but with
 * heavy loss Karn's rule makes clean samples rare and the timeout would
 * stay at its maximum. */
static void rto_end_backoff(struct rto_estimator *r)
{
    r->rto = r->base;
}

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

static void transmit(struct sender *s, uint64_t seqno)
{
    struct packet *p = packet_of(s, seqno);
    /* A refused send just means an ICMP error came back for an earlier
     * datagram (receiver not up yet?): keep going, the timer retries. */
    if (send(s->sock, p->buf, p->len, 0) < 0)
        debugf("send %" PRIu64 ": %s", seqno, strerror(errno));
    p->sent_at = now_ms();
    if (!s->timer) /* RFC 6298 (5.1) */
        s->timer = p->sent_at + s->rto.rto;
}

static void retransmit(struct sender *s, uint64_t seqno, const char *why)
{
    debugf("resend %" PRIu64 " (%s, rto %" PRId64 " ms)", seqno, why, s->rto.rto);
    packet_of(s, seqno)->retransmitted = true;
    transmit(s, seqno);
}

/* Build and send packet s->next. start carries the first chunk (RUDP-7);
 * end carries the last one, possibly empty, so an empty file is an empty
 * start and an empty end. Every other packet is as full as allowed (RUDP-46). */
static void send_new_packet(struct sender *s)
{
    uint64_t seqno = s->next;
    enum rudp_type type = RUDP_DATA;
    size_t take;
    if (seqno == s->first) {
        size_t room = rudp_payload_capacity(RUDP_START, seqno);
        type = RUDP_START;
        input_fill(&s->in, room);
        take = s->in.len < room ? s->in.len : room;
    } else {
        size_t end_room = rudp_payload_capacity(RUDP_END, seqno);
        input_fill(&s->in, end_room + 1); /* one byte more tells if the rest fits */
        if (s->in.eof && s->in.len <= end_room) {
            type = RUDP_END;
            take = s->in.len;
            s->end_made = true;
            s->end = seqno;
        } else {
            take = rudp_payload_capacity(RUDP_DATA, seqno);
        }
    }
    struct packet *p = packet_of(s, seqno);
    p->len = rudp_encode(p->buf, type, seqno, s->in.buf, take);
    p->retransmitted = p->sacked = p->fast_resent = false;
    input_consume(&s->in, take);
    s->next++;
    debugf("send %s %" PRIu64 " (%zu bytes)", rudp_type_name(type), seqno, p->len);
    transmit(s, seqno);
}

/* RUDP-42 / RUDP-32: resend packets the acks show to be lost, at once,
 * without waiting for the timer. Without sack the only evidence is the 3rd
 * duplicate ack, and it names the oldest packet. With sack, a hole is lost
 * once 3 packets above it are held (RFC 6675): duplicate sacks alone say
 * nothing new, the network may simply have duplicated a packet. Each packet
 * is repaired this way once; if the repair is lost too, the timer resends it. */
static void fast_retransmit(struct sender *s, bool three_dups)
{
    int held_above = 0;
    for (uint64_t q = s->next; q-- > s->base;) {
        struct packet *p = packet_of(s, q);
        bool lost = s->sack_mode ? held_above >= HELD_ABOVE_FOR_LOSS : q == s->base && three_dups;
        if (p->sacked)
            held_above++;
        else if (lost && !p->fast_resent) {
            p->fast_resent = true;
            retransmit(s, q, s->sack_mode ? "3 held above it" : "3 duplicate acks");
            if (q == s->base)
                s->timer = now_ms() + s->rto.rto; /* the head was just sent again */
        }
    }
}

/* The timer fired: the oldest packet's ack is overdue. Without sack we
 * cannot know which of the packets in flight arrived, so all are resent
 * (Go-Back-N); with sack only those the receiver does not hold (RUDP-32). */
static void on_timeout(struct sender *s)
{
    /* RFC 6298 (5.5) doubles the timeout, but like the Go reference we
     * do so only while the path is silent (an outage). If acks came since
     * the last timeout the losses are random, and doubling would only
     * stretch every later wait. */
    if (s->heard)
        rto_end_backoff(&s->rto);
    else
        rto_backoff(&s->rto);
    s->heard = false;

    int resent = 0;
    for (uint64_t q = s->base; q < s->next; q++) {
        struct packet *p = packet_of(s, q);
        p->fast_resent = false; /* a new round: acks may repair it again */
        if (q == s->base || !p->sacked) {
            retransmit(s, q, "timeout");
            resent++;
        }
    }
    /* A lone packet (the last one, or a single hole) goes twice: its
     * repair needs it and one ack to get through, and under heavy loss a
     * second copy nearly halves the rounds that bring no ack at all. */
    if (resent == 1)
        retransmit(s, s->base, "timeout, second copy");
    s->dup_acks = 0;
    s->timer = now_ms() + s->rto.rto; /* RFC 6298 (5.6) */
}

static void on_ack(struct sender *s, const struct rudp_packet *ack)
{
    uint64_t cum = ack->seqno;
    s->heard = true; /* the path works, whatever this ack says */
    if (cum < s->base || cum > s->next) { /* stale, or acks what was never sent */
        debugf("ignore %s %" PRIu64 " (window %" PRIu64 "..%" PRIu64 ")",
               rudp_type_name(ack->type), cum, s->base, s->next);
        return;
    }
    for (size_t i = 0; s->sack_mode && i < ack->nsacks; i++)
        if (ack->sacks[i] > cum && ack->sacks[i] < s->next)
            packet_of(s, ack->sacks[i])->sacked = true;

    if (cum == s->base) { /* a duplicate ack: something is missing */
        if (s->base < s->next)
            fast_retransmit(s, ++s->dup_acks >= DUP_ACKS_FOR_FAST_RETRANSMIT);
        return;
    }
    /* New data acknowledged. Karn's rule: measure the RTT only if nothing
     * this ack covers was ever resent - otherwise we could not tell which
     * transmission the ack answers, or it was held up by an earlier hole. */
    int64_t now = now_ms();
    bool clean = true;
    for (uint64_t q = s->base; q < cum; q++)
        clean = clean && !packet_of(s, q)->retransmitted;
    if (clean)
        rto_update(&s->rto, now - packet_of(s, cum - 1)->sent_at);
    else
        rto_end_backoff(&s->rto);
    debugf("ack %" PRIu64 "%s, rto %" PRId64 " ms", cum, clean ? "" : " (no rtt sample)",
           s->rto.rto);
    s->base = cum;
    s->dup_acks = 0;
    s->last_progress = now;
    s->timer = s->base < s->next ? now + s->rto.rto : 0; /* RFC 6298 (5.2), (5.3) */
    if (s->sack_mode)
        fast_retransmit(s, false); /* a partial ack may show holes above it */
}

static void receive_acks(struct sender *s)
{
    unsigned char buf[RUDP_MAX_DATAGRAM + 1];
    for (;;) {
        ssize_t n = recv(s->sock, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
            return; /* EAGAIN: drained; ECONNREFUSED: ICMP, receiver not up yet */
        struct rudp_packet p;
        const char *why = rudp_parse(buf, (size_t)n, &p);
        if (why)
            debugf("dropped a reply of %zd bytes: %s", n, why);
        else if (p.type != RUDP_ACK && p.type != RUDP_SACK)
            debugf("dropped a %s: a sender only takes acks", rudp_type_name(p.type));
        else
            on_ack(s, &p);
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
    struct sender s = {.in = {.fd = STDIN_FILENO, .name = "stdin"},
                       .rto = {.base = RTO_INITIAL_MS, .rto = RTO_INITIAL_MS}};
    bool fixed_start = false;
    int64_t give_up_ms = DEFAULT_GIVE_UP_SECONDS * 1000;
    int opt;
    while ((opt = getopt(argc, argv, "a:p:f:kds:g:")) != -1) {
        switch (opt) {
        case 'a': host = optarg; break;
        case 'p': port = optarg; break;
        case 'f': file = optarg; break;
        case 'k': s.sack_mode = true; break;
        case 'd': debug_enabled = true; break;
        case 's':
            s.first = parse_number(optarg, UINT64_MAX / 2, "-s");
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
        s.in.fd = open(file, O_RDONLY);
        s.in.name = file;
        if (s.in.fd < 0)
            err(1, "cannot open %s", file);
    }
    if (!fixed_start) {
        /* A random start (RUDP-7), below 10^9 so that it stays far from
         * 2^31 for receivers that keep seqnos in a 32-bit int. */
        uint32_t r;
        if (getrandom(&r, sizeof r, 0) != sizeof r)
            r = (uint32_t)getpid() ^ (uint32_t)now_ms();
        s.first = r % 1000000000u;
    }
    s.base = s.next = s.first;
    s.sock = connect_udp(host, port);
    s.last_progress = now_ms();

    while (!s.end_made || s.base <= s.end) { /* RUDP-45: until end is acked */
        /* RUDP-40: new packets only while seqno < last cumulative ack + 5.
         * And start goes alone: the receiver drops whatever arrives before
         * it (RUDP-11), so a lost start would waste the whole window. */
        bool start_acked = s.base > s.first;
        while (!s.end_made && s.next < s.base + RUDP_WINDOW && (start_acked || s.next == s.first))
            send_new_packet(&s);

        int64_t now = now_ms();
        int64_t wake = s.last_progress + give_up_ms;
        if (s.timer && s.timer < wake)
            wake = s.timer;
        struct pollfd pfd = {.fd = s.sock, .events = POLLIN};
        if (poll(&pfd, 1, wake > now ? (int)(wake - now) : 0) > 0)
            receive_acks(&s);

        now = now_ms();
        if (s.timer && now >= s.timer)
            on_timeout(&s);
        if (now - s.last_progress >= give_up_ms) /* RUDP-44 */
            errx(1, "giving up: no acknowledgement progress for %" PRId64
                    " s (acked up to seqno %" PRIu64 ", %s)",
                 give_up_ms / 1000, s.base, s.end_made ? "end sent" : "end not sent yet");
    }
    debugf("done: end %" PRIu64 " acknowledged", s.end);
    return 0;
}
