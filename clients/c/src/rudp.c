/* rudp.c - datagram codec (spec/rudp.md, RUDP-1..RUDP-6, RUDP-30). */
#include "rudp.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {"start", "data", "end", "ack", "sack"};

const char *rudp_type_name(enum rudp_type type) { return type_names[type]; }

/* Table-driven CRC-32 with the reflected IEEE polynomial 0xEDB88320, the one
 * zlib, PNG and Ethernet use. The table is built on first use (not
 * thread-safe, which is fine: the RUDP programs are single-threaded). */
uint32_t rudp_crc32(const void *buf, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        ready = 1;
    }
    const unsigned char *p = buf;
    uint32_t crc = 0xFFFFFFFFu;
    while (len--)
        crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

static size_t decimal_digits(uint64_t n)
{
    size_t d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

size_t rudp_payload_capacity(enum rudp_type type, uint64_t seqno)
{
    /* "<type>|<seqno>|" + data + "|" + up to 10 checksum digits */
    size_t overhead = strlen(rudp_type_name(type)) + 1 + decimal_digits(seqno) + 1 + 1 + 10;
    return RUDP_MAX_DATAGRAM - overhead;
}

/* Append "<crc of out[0..len)>" and return the new length, or 0 if the
 * datagram would not fit (RUDP-4: the checksum covers every byte up to and
 * including the last '|'). */
static size_t append_checksum(unsigned char *out, size_t len)
{
    char sum[16];
    size_t n = (size_t)sprintf(sum, "%" PRIu32, rudp_crc32(out, len));
    if (len + n > RUDP_MAX_DATAGRAM)
        return 0;
    memcpy(out + len, sum, n);
    return len + n;
}

size_t rudp_encode(unsigned char *out, enum rudp_type type, uint64_t seqno,
                   const void *data, size_t len)
{
    char header[32];
    size_t n = (size_t)sprintf(header, "%s|%" PRIu64 "|", rudp_type_name(type), seqno);
    if (n + len + 1 > RUDP_MAX_DATAGRAM)
        return 0;
    memcpy(out, header, n);
    memcpy(out + n, data, len); /* binary-safe: data may hold '|' or NUL */
    n += len;
    out[n++] = '|';
    return append_checksum(out, n);
}

size_t rudp_encode_ack(unsigned char *out, uint64_t cum)
{
    size_t n = (size_t)sprintf((char *)out, "ack|%" PRIu64 "|", cum);
    return append_checksum(out, n);
}

size_t rudp_encode_sack(unsigned char *out, uint64_t cum, const uint64_t *sacks, size_t nsacks)
{
    size_t n = (size_t)sprintf((char *)out, "sack|%" PRIu64 ";", cum);
    /* 32 bytes keep room for one more entry, '|' and the checksum */
    for (size_t i = 0; i < nsacks && n + 32 < RUDP_MAX_DATAGRAM; i++)
        n += (size_t)sprintf((char *)out + n, i ? ",%" PRIu64 : "%" PRIu64, sacks[i]);
    out[n++] = '|';
    return append_checksum(out, n);
}

/* RUDP-3: only ASCII digits, no sign, no spaces, not empty, and the value
 * must not exceed max. Returns 0 on success. */
static int parse_decimal(const unsigned char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned digit = s[i] - '0';
        if (v > (max - digit) / 10)
            return -1; /* would overflow */
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

/* "<cum>;<s1>,<s2>,..." - the list may be empty, and so may the ";" part. */
static const char *parse_sack_field(const unsigned char *s, size_t len, struct rudp_packet *p)
{
    const unsigned char *semi = memchr(s, ';', len);
    size_t cum_len = semi ? (size_t)(semi - s) : len;
    if (parse_decimal(s, cum_len, UINT64_MAX, &p->seqno))
        return "bad cumulative seqno in sack";
    p->nsacks = 0;
    if (!semi || semi + 1 == s + len)
        return NULL;
    const unsigned char *item = semi + 1, *end = s + len;
    for (;;) {
        const unsigned char *comma = memchr(item, ',', (size_t)(end - item));
        const unsigned char *stop = comma ? comma : end;
        uint64_t v;
        if (parse_decimal(item, (size_t)(stop - item), UINT64_MAX, &v))
            return "bad seqno in sack list";
        if (p->nsacks < RUDP_MAX_SACKS)
            p->sacks[p->nsacks++] = v;
        if (!comma)
            return NULL;
        item = comma + 1;
    }
}

const char *rudp_parse(const unsigned char *buf, size_t len, struct rudp_packet *p)
{
    if (len > RUDP_MAX_DATAGRAM)
        return "datagram longer than 1472 bytes";

    /* RUDP-5: the checksum follows the LAST '|' ... */
    const unsigned char *last = NULL;
    for (size_t i = len; i-- > 0;)
        if (buf[i] == '|') {
            last = buf + i;
            break;
        }
    if (!last)
        return "no '|'";
    /* RUDP-4: compared as text, as the course receiver does, so the field
     * must be the canonical decimal form: no sign, no leading zeros. */
    size_t covered = (size_t)(last - buf) + 1, field_len = len - covered;
    char want[16];
    int want_len = sprintf(want, "%" PRIu32, rudp_crc32(buf, covered));
    for (size_t i = 0; i < field_len; i++)
        if (last[1 + i] < '0' || last[1 + i] > '9')
            return "checksum field is not a decimal number";
    if (field_len == 0)
        return "empty checksum field";
    if (field_len != (size_t)want_len || memcmp(last + 1, want, field_len) != 0)
        return "checksum mismatch";

    /* ... the type runs to the FIRST '|' ... */
    const unsigned char *first = memchr(buf, '|', len);
    size_t type_len = (size_t)(first - buf);
    int type = -1;
    for (int t = RUDP_START; t <= RUDP_SACK; t++)
        if (strlen(type_names[t]) == type_len && memcmp(buf, type_names[t], type_len) == 0)
            type = t;
    if (type < 0)
        return "unknown packet type";
    p->type = (enum rudp_type)type;
    p->data = NULL;
    p->len = 0;
    p->nsacks = 0;

    if (first == last)
        return "missing seqno field";
    /* Between the first and the last '|': "<seqno>" for ack, "<cum>;<list>"
     * for sack, "<seqno>|<data>" for start/data/end. */
    const unsigned char *rest = first + 1;
    size_t rest_len = (size_t)(last - rest);

    if (p->type == RUDP_ACK)
        return parse_decimal(rest, rest_len, UINT64_MAX, &p->seqno) ? "bad ack seqno" : NULL;
    if (p->type == RUDP_SACK)
        return parse_sack_field(rest, rest_len, p);

    /* ... the seqno to the second '|', and the data is everything in
     * between, so the data may itself contain '|' (binary-safe). */
    const unsigned char *second = memchr(rest, '|', (size_t)(last - rest) + 1);
    if (second == last)
        return "missing data field";
    if (parse_decimal(rest, (size_t)(second - rest), UINT64_MAX, &p->seqno))
        return "bad seqno";
    p->data = second + 1;
    p->len = (size_t)(last - p->data);
    return NULL;
}
