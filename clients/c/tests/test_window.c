/* test_window.c - unit tests of the sender's protocol logic (src/window.c).
 *
 *   bin/test-window
 *
 * The window reads no clock and owns no socket, so each test plays the
 * receiver by hand: it sends packets at chosen times (in ms), hands the
 * window the acks a receiver would send, and checks which seqnos went out.
 * Nothing sleeps, so the tests are exact on any machine.
 */
#include <stdio.h>
#include <string.h>

#include "rudp.h"
#include "window.h"
#include "check.h"

/* ---- a fake wire: records the seqnos the window sends ---- */

static uint64_t wire[256];
static size_t nwire;

static void record(void *ctx, uint64_t seqno, const unsigned char *datagram, size_t len)
{
    (void)ctx, (void)datagram, (void)len;
    if (nwire < sizeof wire / sizeof wire[0])
        wire[nwire++] = seqno;
}

/* The seqnos sent since the last call, e.g. "3 4" ("" for none). */
static const char *sent(void)
{
    static char text[1024];
    static size_t seen;
    size_t at = 0;
    text[0] = '\0';
    for (; seen < nwire; seen++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%s%llu", at ? " " : "",
                               (unsigned long long)wire[seen]);
    return text;
}

/* Send new packets (all data, none end) while the window allows. */
static void fill(struct window *w, int64_t now)
{
    while (window_can_send(w)) {
        unsigned char datagram[RUDP_MAX_DATAGRAM];
        size_t len = rudp_encode(datagram, w->next == w->first ? RUDP_START : RUDP_DATA, w->next, "x", 1);
        window_send_new(w, datagram, len, false, now);
    }
}

static void ack(struct window *w, uint64_t cum, int64_t now)
{
    struct rudp_packet p = {.type = RUDP_ACK, .seqno = cum};
    window_on_ack(w, &p, now);
}

static void sack(struct window *w, uint64_t cum, const uint64_t *held, size_t n, int64_t now)
{
    struct rudp_packet p = {.type = RUDP_SACK, .seqno = cum, .nsacks = n};
    memcpy(p.sacks, held, n * sizeof *held);
    window_on_ack(w, &p, now);
}

/* A window with start (seqno 0) sent at 0 and acked at 10 ms (SRTT 10 ms),
 * then 1..5 sent at 10 ms. */
static void setup(struct window *w, bool sack_mode)
{
    window_init(w, 0, sack_mode, 0, record, NULL);
    sent();
    fill(w, 0);
    ack(w, 1, 10);
    fill(w, 10);
    sent();
}

/* ---- tests ---- */

static void test_start_alone_then_a_window_of_5(void)
{
    struct window w;
    window_init(&w, 100, false, 0, record, NULL);
    sent();
    fill(&w, 0);
    CHECK(strcmp(sent(), "100") == 0); /* start goes alone (RUDP-11) */
    CHECK(w.timer == RTO_INITIAL_MS);  /* RUDP-41: 500 ms before any sample */
    ack(&w, 101, 10);
    CHECK(w.rto.measured && w.rto.srtt == 10);
    CHECK(w.rto.rto == RTO_MIN_MS); /* 10 + 4*5 + 1 ms, raised to the 200 ms floor */
    fill(&w, 10);
    CHECK(strcmp(sent(), "101 102 103 104 105") == 0); /* RUDP-40: below 101 + 5 */
    ack(&w, 103, 20);
    fill(&w, 20);
    CHECK(strcmp(sent(), "106 107") == 0);
}

static void test_three_duplicate_acks_resend_at_once(void)
{
    struct window w;
    setup(&w, false);
    ack(&w, 1, 11);
    ack(&w, 1, 11);
    CHECK(strcmp(sent(), "") == 0); /* 2 duplicates, 1 ms after sending: not yet */
    ack(&w, 1, 11);
    CHECK(strcmp(sent(), "1") == 0); /* RUDP-42: the 3rd duplicate */
    ack(&w, 1, 11);
    CHECK(strcmp(sent(), "") == 0); /* once per recovery episode */
}

static void test_rack_resends_on_one_duplicate_once_overdue(void)
{
    struct window w;
    setup(&w, false); /* SRTT 10 ms: overdue 10 + max(2.5, 2) ms after sending */
    ack(&w, 1, 12);   /* 2 arrived, 1 did not */
    CHECK(strcmp(sent(), "") == 0);
    CHECK(window_deadline(&w) == 10 + 12); /* the loss timer, far before the RTO */
    window_on_time(&w, 21);
    CHECK(strcmp(sent(), "") == 0);
    window_on_time(&w, 22);
    CHECK(strcmp(sent(), "1") == 0); /* RACK: overdue with a later packet arrived */
    CHECK(w.stats.fast_retransmits == 1 && w.stats.timeouts == 0);
}

static void test_tail_loss_probe(void)
{
    struct window w;
    setup(&w, false);
    ack(&w, 1, 12);
    window_on_time(&w, 22);
    CHECK(strcmp(sent(), "1") == 0);
    CHECK(w.probe_timer == 22 + 20); /* 2 SRTT */
    window_on_time(&w, 41);
    CHECK(strcmp(sent(), "") == 0);
    window_on_time(&w, 42);
    CHECK(strcmp(sent(), "1") == 0); /* no ack came: the repair is probed */
    CHECK(w.stats.probes == 1);
    window_on_time(&w, 100);
    CHECK(strcmp(sent(), "") == 0); /* only once; then the timer's turn */
    ack(&w, 6, 101);
    CHECK(w.base == 6 && w.timer == 0 && !w.in_recovery);
}

static void test_probe_not_sent_when_the_repair_is_acked(void)
{
    struct window w;
    setup(&w, false);
    ack(&w, 1, 12);
    window_on_time(&w, 22);
    CHECK(strcmp(sent(), "1") == 0);
    ack(&w, 6, 30);
    window_on_time(&w, 42);
    CHECK(strcmp(sent(), "") == 0);
}

static void test_timeout_resends_the_window_and_backs_off_only_when_silent(void)
{
    struct window w;
    setup(&w, false);
    ack(&w, 3, 20); /* 1 and 2 arrive; 3, 4 and 5 are lost with their acks */
    sent();
    int64_t rto = w.rto.rto;
    window_on_time(&w, w.timer);
    CHECK(strcmp(sent(), "3 4 5") == 0); /* everything not acked, nothing acked (RUDP-43) */
    CHECK(w.rto.rto == rto);             /* an ack came since: no doubling */
    window_on_time(&w, w.timer);
    CHECK(strcmp(sent(), "3 4 5") == 0);
    CHECK(w.rto.rto == 2 * rto); /* a silent path: RFC 6298 (5.5) */
    ack(&w, 4, 1000);
    CHECK(w.rto.rto == rto); /* progress ends the backoff */
}

static void test_lone_packet_goes_twice_on_timeout(void)
{
    struct window w;
    setup(&w, false);
    ack(&w, 5, 20);
    window_on_time(&w, w.timer);
    CHECK(strcmp(sent(), "5 5") == 0);
}

static void test_karn_no_sample_from_a_resent_packet(void)
{
    struct window w;
    setup(&w, false);
    double srtt = w.rto.srtt;
    for (int i = 0; i < 3; i++)
        ack(&w, 1, 11);
    CHECK(strcmp(sent(), "1") == 0);
    ack(&w, 6, 500); /* covers the resent 1: its time says nothing */
    CHECK(w.rto.srtt == srtt);
}

static void test_sack_resends_only_holes(void)
{
    struct window w;
    setup(&w, true);
    uint64_t held[] = {2, 4, 5};
    sack(&w, 1, held, 3, 11);
    CHECK(strcmp(sent(), "1") == 0); /* 3 held above 1 (RFC 6675) */
    window_on_time(&w, 22);
    CHECK(strcmp(sent(), "3") == 0); /* 3: 2 held above, overdue now (RACK) */
    window_on_time(&w, 31);
    CHECK(strcmp(sent(), "1") == 0); /* the repaired head, probed after 2 SRTT */
    window_on_time(&w, w.timer);
    CHECK(strcmp(sent(), "1 3") == 0); /* RUDP-32: never a held packet */
}

static void test_sack_mode_with_a_plain_ack_receiver(void)
{
    struct window w;
    setup(&w, true);
    for (int i = 0; i < 3; i++)
        ack(&w, 1, 11);
    CHECK(strcmp(sent(), "1") == 0); /* judged by duplicate acks */
}

static void test_end_acked_is_done(void)
{
    struct window w;
    window_init(&w, 7, false, 0, record, NULL);
    unsigned char datagram[RUDP_MAX_DATAGRAM];
    size_t len = rudp_encode(datagram, RUDP_START, 7, "", 0);
    window_send_new(&w, datagram, len, false, 0);
    ack(&w, 8, 1);
    len = rudp_encode(datagram, RUDP_END, 8, "", 0);
    window_send_new(&w, datagram, len, true, 1);
    CHECK(!window_can_send(&w) && !window_done(&w));
    ack(&w, 9, 2);
    CHECK(window_done(&w)); /* RUDP-45 */
    ack(&w, 100, 3);        /* never sent: ignored */
    CHECK(w.base == 9);
}

int main(void)
{
    test_start_alone_then_a_window_of_5();
    test_three_duplicate_acks_resend_at_once();
    test_rack_resends_on_one_duplicate_once_overdue();
    test_tail_loss_probe();
    test_probe_not_sent_when_the_repair_is_acked();
    test_timeout_resends_the_window_and_backs_off_only_when_silent();
    test_lone_packet_goes_twice_on_timeout();
    test_karn_no_sample_from_a_resent_packet();
    test_sack_resends_only_holes();
    test_sack_mode_with_a_plain_ack_receiver();
    test_end_acked_is_done();
    printf("test-window: %d checks, %d failed\n", checks, failures);
    return failures != 0;
}
