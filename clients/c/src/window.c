/* window.c - the RUDP sender's protocol logic (see window.h).
 *
 * Losses are repaired from the acks long before the 200 ms-minimum timer
 * would fire, as the Go reference does (spec/rudp.md, "How the reference
 * sender works", items 3-5):
 *   - fast retransmit on the 3rd duplicate ack (RUDP-42), or on the 1st once
 *     the missing packet has been out for SRTT + max(SRTT/4, 2 ms): RACK,
 *     RFC 8985. With a window of 5 there are often fewer than 3 duplicates;
 *   - a tail loss probe (TLP, RFC 8985 section 7): a repaired head that gets
 *     no ack within 2*SRTT is sent once more;
 *   - on a timeout, every packet not known to be held is resent, and the
 *     timeout doubles only if no ack at all came since the previous one.
 */
#include "window.h"

#include <inttypes.h>
#include <string.h>

#include "util.h"

static struct sent_packet *packet_of(struct window *w, uint64_t seqno)
{
    return &w->packets[seqno % RUDP_WINDOW];
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
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

/* The path works (acks arrive): the backoff ends, as in Linux TCP. RFC 6298
 * keeps it until a clean RTT sample, but with heavy loss Karn's rule makes
 * clean samples rare and the timeout would stay at its maximum. */
static void rto_end_backoff(struct rto_estimator *r)
{
    r->rto = r->base;
}

/* RACK's reordering window (RFC 8985): how long after its last transmission
 * a packet counts as lost once a packet sent after it has arrived. One
 * smoothed RTT plus a quarter of it for reordering, at least 2 ms. */
static int64_t overdue_after(const struct window *w)
{
    double srtt = w->rto.srtt;
    return (int64_t)(srtt + (srtt / 4 > 2 ? srtt / 4 : 2));
}

/* ---- sending ---- */

static void transmit(struct window *w, uint64_t seqno, int64_t now)
{
    struct sent_packet *p = packet_of(w, seqno);
    w->send(w->send_ctx, seqno, p->buf, p->len);
    p->transmissions++;
    p->sent_at = now;
    w->stats.transmissions++;
    if (!w->timer) /* RFC 6298 (5.1) */
        w->timer = now + w->rto.rto;
}

static void retransmit(struct window *w, uint64_t seqno, const char *why, int64_t now)
{
    debugf("resend %" PRIu64 " (%s, rto %" PRId64 " ms)", seqno, why, w->rto.rto);
    packet_of(w, seqno)->repaired = true;
    transmit(w, seqno, now);
    if (seqno == w->base)
        w->timer = now + w->rto.rto; /* the repaired head gets a full timeout */
}

void window_init(struct window *w, uint64_t first, bool sack_mode, int64_t now,
                 send_fn *send, void *send_ctx)
{
    memset(w, 0, sizeof *w);
    w->sack_mode = sack_mode;
    w->first = w->base = w->next = first;
    w->rto.base = w->rto.rto = RTO_INITIAL_MS;
    w->last_progress = now;
    w->send = send;
    w->send_ctx = send_ctx;
}

bool window_can_send(const struct window *w)
{
    /* RUDP-40: only seqnos below the last cumulative ack + 5. And start goes
     * alone: the receiver drops whatever arrives before it (RUDP-11), so a
     * lost start would waste the whole window. */
    bool start_acked = w->base > w->first;
    return !w->end_made && w->next < w->base + RUDP_WINDOW && (start_acked || w->next == w->first);
}

void window_send_new(struct window *w, const unsigned char *datagram, size_t len, bool is_end,
                     int64_t now)
{
    struct sent_packet *p = packet_of(w, w->next);
    memcpy(p->buf, datagram, len);
    p->len = len;
    p->transmissions = 0;
    p->sacked = p->repaired = p->probed = false;
    if (is_end) {
        w->end_made = true;
        w->end = w->next;
    }
    transmit(w, w->next++, now);
}

bool window_done(const struct window *w)
{
    return w->end_made && w->base > w->end;
}

/* ---- loss repair ---- */

/* A loss repair begins: every packet may be repaired once in it. */
static void enter_recovery(struct window *w)
{
    w->in_recovery = true;
    w->recover = w->next;
    for (uint64_t q = w->base; q < w->next; q++)
        packet_of(w, q)->repaired = false;
}

/* Judge packet seqno, not known to be held, after `later` packets sent
 * after it are known to have arrived (duplicate acks, or sacked above it).
 * It is lost on the 3rd such packet (RUDP-42 without sack, RFC 6675 with),
 * or on the 1st once it is overdue (RACK, RFC 8985): that also catches a
 * loss whose duplicate acks were lost too. Otherwise the loss timer looks
 * again when it will be overdue, even if no further ack comes. */
static void judge(struct window *w, uint64_t seqno, int later, int64_t now)
{
    struct sent_packet *p = packet_of(w, seqno);
    if (p->repaired || later == 0)
        return; /* once per recovery episode; if the repair is lost, TLP or the timer resend it */
    int64_t due = p->sent_at + overdue_after(w);
    if (later < DUP_ACKS_FOR_FAST_RETRANSMIT && (!w->rto.measured || now < due)) {
        if (w->rto.measured && (!w->loss_timer || due < w->loss_timer))
            w->loss_timer = due;
        return;
    }
    if (!w->in_recovery)
        enter_recovery(w);
    w->stats.fast_retransmits++;
    retransmit(w, seqno, later >= DUP_ACKS_FOR_FAST_RETRANSMIT ? "3 later packets arrived" : "overdue (RACK)", now);
    if (seqno == w->base && w->rto.measured) {
        /* Tail loss probe (RFC 8985 section 7): the window cannot move until
         * the head is repaired, so if this repair or its ack is lost, no
         * further ack comes. Probe after 2*SRTT (at least 10 ms, as the Go
         * reference) instead of waiting for the timer's 200 ms or more. */
        p->probed = false;
        w->probe_seqno = seqno;
        w->probe_timer = now + max64((int64_t)(2 * w->rto.srtt), 10);
    }
}

/* RUDP-42 / RUDP-32: resend the packets the acks show to be lost, at once.
 * Without sacks only the head can be judged: duplicate acks say that some
 * later packet arrived. With sacks every hole below a sacked packet is, and
 * a sacked packet is never resent. */
static void detect_losses(struct window *w, int64_t now)
{
    w->loss_timer = 0;
    if (w->base == w->next)
        return;
    if (w->sack_acks) {
        int held_above = 0;
        for (uint64_t q = w->next; q-- > w->base;) {
            if (packet_of(w, q)->sacked)
                held_above++;
            else
                judge(w, q, held_above, now);
        }
    } else {
        judge(w, w->base, w->dup_acks, now);
    }
}

/* The probe timer fired: send the repaired head once more if no ack came
 * for it (its ack, or the duplicate ack it causes, restarts the ack clock
 * whether the repair or only its ack was lost). */
static void on_probe(struct window *w, int64_t now)
{
    w->probe_timer = 0;
    if (w->base == w->next || w->base != w->probe_seqno)
        return; /* acked meanwhile */
    struct sent_packet *p = packet_of(w, w->base);
    if (!p->repaired || p->probed || now - p->sent_at < (int64_t)(2 * w->rto.srtt))
        return; /* repaired again since */
    p->probed = true;
    w->stats.probes++;
    retransmit(w, w->base, "tail loss probe", now);
}

/* The retransmission timer fired (RUDP-41): nothing moved for a whole RTO. */
static void on_timeout(struct window *w, int64_t now)
{
    w->timer = 0;
    if (w->base == w->next)
        return;
    w->stats.timeouts++;
    /* RFC 6298 (5.5) doubles the timeout, but like the Go reference we do so
     * only while the path is silent (an outage). If acks came since the
     * last timeout the losses are random, and doubling would only stretch
     * every later wait. */
    if (w->heard)
        rto_end_backoff(&w->rto);
    else
        rto_backoff(&w->rto);
    w->heard = false;
    w->dup_acks = 0;
    enter_recovery(w);
    /* RFC 6298 (5.4) resends the oldest packet. A whole RTO without progress
     * says nothing is known to have arrived, so, as TCP does after a timeout
     * (RFC 6675 5.1), resend every packet not known to be held (RUDP-32):
     * without sack the whole window, as in Go-Back-N. */
    int resent = 0;
    for (uint64_t q = w->base; q < w->next; q++) {
        if (!packet_of(w, q)->sacked) {
            retransmit(w, q, "timeout", now);
            resent++;
        }
    }
    /* A lone packet (the last one, or a single hole) goes twice: its repair
     * needs it and one ack to get through, and under heavy loss a second
     * copy nearly halves the rounds that bring no ack at all. */
    if (resent == 1)
        retransmit(w, w->base, "timeout, second copy", now);
    w->timer = now + w->rto.rto; /* RFC 6298 (5.6) */
}

/* The cumulative ack moved from w->base to cum. */
static void on_progress(struct window *w, uint64_t cum, int64_t now)
{
    /* Karn's rule (RUDP-41): an RTT sample only if nothing this ack covers
     * was ever resent (the ack may answer either copy). The oldest newly
     * acked packet most likely triggered the ack; its time errs on the long
     * side, the safe side for a timeout. */
    bool clean = true;
    for (uint64_t q = w->base; q < cum; q++)
        clean = clean && packet_of(w, q)->transmissions == 1;
    if (clean)
        rto_update(&w->rto, now - packet_of(w, w->base)->sent_at);
    rto_end_backoff(&w->rto); /* progress: the path works again */
    debugf("ack %" PRIu64 "%s, rto %" PRId64 " ms", cum, clean ? "" : " (no rtt sample)", w->rto.rto);
    w->base = cum;
    w->dup_acks = 0;
    w->last_progress = now;
    w->timer = w->base < w->next ? now + w->rto.rto : 0; /* RFC 6298 (5.2), (5.3) */
    if (w->in_recovery && cum >= w->recover)
        w->in_recovery = false; /* everything sent before the loss is acked */
    /* After a partial ack (still in recovery) new packets go out; their
     * duplicate acks expose the next hole, which is overdue by then, so
     * detect_losses repairs it within about one RTT. */
}

void window_on_ack(struct window *w, const struct rudp_packet *ack, int64_t now)
{
    uint64_t cum = ack->seqno;
    w->heard = true; /* the path works, whatever this ack says */
    if (cum < w->base || cum > w->next) { /* stale, or acks what was never sent */
        debugf("ignore %s %" PRIu64 " (window %" PRIu64 "..%" PRIu64 ")",
               rudp_type_name(ack->type), cum, w->base, w->next);
        return;
    }
    if (cum > w->base)
        on_progress(w, cum, now);
    else if (w->base < w->next)
        w->dup_acks++; /* a duplicate ack: a later packet arrived, the head did not */
    /* A receiver without SACK answers with plain acks even with -k: then
     * judge by duplicate acks as without SACK. */
    w->sack_acks = w->sack_mode && ack->type == RUDP_SACK;
    for (size_t i = 0; w->sack_acks && i < ack->nsacks; i++)
        if (ack->sacks[i] > cum && ack->sacks[i] < w->next)
            packet_of(w, ack->sacks[i])->sacked = true;
    detect_losses(w, now);
}

/* ---- timers ---- */

int64_t window_deadline(const struct window *w)
{
    int64_t next = 0;
    int64_t timers[] = {w->timer, w->loss_timer, w->probe_timer};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++)
        if (timers[i] && (!next || timers[i] < next))
            next = timers[i];
    return next;
}

void window_on_time(struct window *w, int64_t now)
{
    if (w->loss_timer && now >= w->loss_timer)
        detect_losses(w, now); /* a suspected loss is overdue now (RACK) */
    if (w->probe_timer && now >= w->probe_timer)
        on_probe(w, now);
    if (w->timer && now >= w->timer)
        on_timeout(w, now);
}
