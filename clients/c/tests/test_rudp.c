/* test_rudp.c - unit tests of the datagram codec (src/rudp.c).
 *
 *   bin/test-rudp [VECTORS.json]
 *
 * Expected values were computed independently (Python's zlib.crc32), so a
 * wrong CRC table or a wrong split of the fields makes these tests fail.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rudp.h"
#include "check.h"

/* Parse a C string; returns the error text (NULL = valid). */
static const char *parse_text(const char *text, struct rudp_packet *p)
{
    return rudp_parse((const unsigned char *)text, strlen(text), p);
}

static void test_checksum(void)
{
    CHECK(rudp_crc32("123456789", 9) == 3421780262u); /* the standard CRC-32 check value */
    CHECK(rudp_crc32("", 0) == 0);
    CHECK(rudp_crc32("ack|1|", 6) == 2195368786u);
    CHECK(rudp_crc32("start|0|hello|", 14) == 1374653333u);
}

static void test_encode(void)
{
    unsigned char buf[RUDP_MAX_DATAGRAM];
    size_t n = rudp_encode(buf, RUDP_START, 0, "hello", 5);
    CHECK(n == 24 && memcmp(buf, "start|0|hello|1374653333", n) == 0);
    n = rudp_encode(buf, RUDP_END, 3, "", 0);
    CHECK(n == 17 && memcmp(buf, "end|3||3344125083", n) == 0);
    n = rudp_encode_ack(buf, 1);
    CHECK(n == 16 && memcmp(buf, "ack|1|2195368786", n) == 0);
    uint64_t sacks[] = {7, 8};
    n = rudp_encode_sack(buf, 5, sacks, 2);
    CHECK(n == 21 && memcmp(buf, "sack|5;7,8|1627697274", n) == 0);
    n = rudp_encode_sack(buf, 5, NULL, 0);
    CHECK(n == 18 && memcmp(buf, "sack|5;|1828118419", n) == 0);
}

/* RUDP-5: data may contain '|', NUL and bytes >= 0x80. */
static void test_binary_round_trip(void)
{
    const unsigned char data[] = {'a', '|', 'b', 0, 0xFF, '|', '|', 0x80, '1', '|'};
    unsigned char buf[RUDP_MAX_DATAGRAM];
    size_t n = rudp_encode(buf, RUDP_DATA, 42, data, sizeof data);
    struct rudp_packet p;
    CHECK(parse_text("data|7|a|b|3661478912", &p) == NULL);
    CHECK(p.type == RUDP_DATA && p.seqno == 7 && p.len == 3 && memcmp(p.data, "a|b", 3) == 0);
    CHECK(rudp_parse(buf, n, &p) == NULL);
    CHECK(p.type == RUDP_DATA && p.seqno == 42);
    CHECK(p.len == sizeof data && memcmp(p.data, data, sizeof data) == 0);
    CHECK(parse_text("end|3||3344125083", &p) == NULL);
    CHECK(p.type == RUDP_END && p.seqno == 3 && p.len == 0);
}

/* RUDP-2, RUDP-46: a full datagram is exactly 1472 bytes at most. */
static void test_capacity(void)
{
    static unsigned char data[RUDP_MAX_DATAGRAM];
    unsigned char buf[RUDP_MAX_DATAGRAM];
    memset(data, '|', sizeof data);
    uint64_t seqnos[] = {0, 9, 10, 999999999, 18446744073709551615u};
    for (size_t i = 0; i < sizeof seqnos / sizeof *seqnos; i++)
        for (enum rudp_type t = RUDP_START; t <= RUDP_END; t++) {
            size_t cap = rudp_payload_capacity(t, seqnos[i]);
            size_t n = rudp_encode(buf, t, seqnos[i], data, cap);
            CHECK(n > 0 && n <= RUDP_MAX_DATAGRAM);
            CHECK(n >= RUDP_MAX_DATAGRAM - 9); /* only a short checksum leaves room */
            /* one byte more fits only if the checksum is short */
            n = rudp_encode(buf, t, seqnos[i], data, cap + 1);
            CHECK(n == 0 || n <= RUDP_MAX_DATAGRAM);
            CHECK(rudp_encode(buf, t, seqnos[i], data, cap + 11) == 0);
        }
    CHECK(rudp_payload_capacity(RUDP_DATA, 0) == 1472 - 18);
}

static void test_acks(void)
{
    struct rudp_packet p;
    CHECK(parse_text("ack|1|2195368786", &p) == NULL && p.type == RUDP_ACK && p.seqno == 1);
    CHECK(parse_text("sack|5;7,8|1627697274", &p) == NULL);
    CHECK(p.type == RUDP_SACK && p.seqno == 5 && p.nsacks == 2 && p.sacks[0] == 7 &&
          p.sacks[1] == 8);
    CHECK(parse_text("sack|5;|1828118419", &p) == NULL && p.seqno == 5 && p.nsacks == 0);
}

/* RUDP-8: everything here must be rejected. */
static void test_rejects(void)
{
    struct rudp_packet p;
    unsigned char buf[RUDP_MAX_DATAGRAM + 16];
    const char *bad[] = {
        "",
        "no bars at all",
        "ack|1|2195368787",       /* checksum off by one */
        "ack|1|",                 /* empty checksum */
        "ack|1| 2195368786",      /* space in the checksum */
        "Ack|1|x",                /* (bad checksum anyway) */
        "start|0|hello|99999999999", /* checksum does not fit 32 bits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(parse_text(bad[i], &p) != NULL);

    /* Well-formed checksums over malformed contents: build them here. */
    const char *bodies[] = {
        "data|1|",     /* no data field */
        "data|",       /* no seqno */
        "data|+1|x|",  /* sign */
        "data| 1|x|",  /* space */
        "data||x|",    /* empty seqno */
        "data|18446744073709551616|x|", /* 2^64 does not fit */
        "datum|1|x|",  /* unknown type */
        "|1|x|",       /* empty type */
        "ack|1|2|",    /* ack with a data field */
        "ack||",
        "sack|5;7,,8|", /* empty list entry */
        "sack|x;7|",
        "|",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        size_t n = strlen(bodies[i]);
        memcpy(buf, bodies[i], n);
        n += (size_t)sprintf((char *)buf + n, "%u", rudp_crc32(buf, n));
        const char *why = rudp_parse(buf, n, &p);
        CHECK(why != NULL);
        if (!why)
            fprintf(stderr, "  accepted: %s\n", bodies[i]);
    }

    /* 1473 bytes with a valid checksum is still too long (RUDP-2). */
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "data|1|", 7);
    buf[1462] = '|';
    sprintf((char *)buf + 1463, "%010u", rudp_crc32(buf, 1463));
    CHECK(rudp_parse(buf, 1473, &p) != NULL);
    CHECK(rudp_parse(buf, 1472, &p) != NULL); /* cut: checksum no longer matches */
}

int main(int argc, char **argv)
{
    test_checksum();
    test_encode();
    test_binary_round_trip();
    test_capacity();
    test_acks();
    test_rejects();
    (void)argc;
    (void)argv;
    if (failures) {
        fprintf(stderr, "test-rudp: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("test-rudp: all %d checks passed\n", checks);
    return 0;
}
