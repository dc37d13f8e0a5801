/* test_vectors.c - the suite's shared test vectors, run against the C code.
 *
 *   bin/test-vectors DATAGRAMS.json RECEIVER.json
 *
 * datagrams.json: rudp_parse must accept exactly the valid datagrams and
 * find their fields; canonical ones must come out of the encoder byte for
 * byte. receiver.json: scripted datagrams (with source address and time)
 * drive the receiver logic in transfer.c; every ack, and the files left in
 * the output directory, must be exactly as listed. Copies of the vectors
 * live in tests/vectors/ (`make vectors` refreshes them from spec/vectors/).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "rudp.h"
#include "transfer.h"

#define MAX_BYTES 4096 /* larger than any datagram or file in the vectors */

static int failures, checks;

/* Record one check; on failure print the vector's name and what differed. */
static void expect(int ok, const char *vector, const char *what)
{
    checks++;
    if (!ok) {
        failures++;
        printf("FAILED: %s: %s\n", vector, what);
    }
}

/* Decode {"base64": ...} into out; -1 if absent or malformed. */
static long bytes_of(const struct json *holder, const char *key, unsigned char *out)
{
    const char *b64 = json_string(json_get(holder, key), "base64");
    return b64 && strlen(b64) / 4 * 3 <= MAX_BYTES ? base64_decode(b64, out) : -1;
}

static int type_of(const char *name)
{
    for (int t = RUDP_START; t <= RUDP_SACK; t++)
        if (name && strcmp(name, rudp_type_name(t)) == 0)
            return t;
    return -1;
}

static void datagram_vector(const struct json *v)
{
    const char *name = json_string(v, "name");
    unsigned char dgram[MAX_BYTES], data[MAX_BYTES], again[RUDP_MAX_DATAGRAM];
    long n = bytes_of(v, "datagram", dgram);
    const struct json *valid = json_get(v, "valid");
    if (n < 0 || !valid) {
        expect(0, name, "vector has no datagram or no 'valid'");
        return;
    }
    struct rudp_packet p;
    const char *why = rudp_parse(dgram, (size_t)n, &p);
    expect((why == NULL) == valid->boolean, name, why ? why : "accepted an invalid datagram");
    const struct json *want = json_get(v, "packet");
    if (why || !want)
        return;

    char seqno[24];
    snprintf(seqno, sizeof seqno, "%" PRIu64, p.seqno);
    expect(type_of(json_string(want, "type")) == (int)p.type, name, "wrong type");
    expect(strcmp(seqno, json_string(want, "seqno") ? json_string(want, "seqno") : "") == 0,
           name, "wrong seqno");
    long data_len = bytes_of(want, "data", data);
    if (data_len >= 0)
        expect((size_t)data_len == p.len && memcmp(data, p.data, p.len) == 0, name, "wrong data");
    const struct json *sacks = json_get(want, "sacks");
    size_t i = 0;
    for (const struct json *s = sacks ? sacks->child : NULL; s; s = s->next, i++)
        expect(i < p.nsacks && strtoull(s->text, NULL, 10) == p.sacks[i], name, "wrong sack entry");
    expect(i == p.nsacks, name, "wrong number of sack entries");

    const struct json *canonical = json_get(v, "canonical");
    if (!canonical || !canonical->boolean)
        return;
    size_t len = p.type == RUDP_ACK    ? rudp_encode_ack(again, p.seqno)
                 : p.type == RUDP_SACK ? rudp_encode_sack(again, p.seqno, p.sacks, p.nsacks)
                                       : rudp_encode(again, p.type, p.seqno, p.data, p.len);
    expect(len == (size_t)n && memcmp(again, dgram, len) == 0, name, "encoder gives other bytes");
}

/* "10.0.0.1:5000" or "[2001:db8::1]:6000" as a socket address. */
static int parse_from(const char *text, struct sockaddr_storage *ss)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    size_t host_len = colon ? (size_t)(colon - text) : 0;
    if (!colon || host_len >= sizeof host)
        return -1;
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    uint16_t port = htons((uint16_t)atoi(colon + 1));
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        host[host_len - 1] = '\0';
        a->sin6_family = AF_INET6;
        a->sin6_port = port;
        return inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1 ? 0 : -1;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = port;
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

/* Compare the directory's files with the vector's "files", then empty it. */
static void check_files(const struct json *v, const char *name)
{
    const struct json *files = json_get(v, "files");
    size_t wanted = 0, found = 0;
    char what[600];
    for (const struct json *f = files ? files->child : NULL; f; f = f->next, wanted++) {
        const char *fname = json_string(f, "name");
        unsigned char want[MAX_BYTES], got[MAX_BYTES];
        long want_len = bytes_of(f, "content", want);
        FILE *in = fname ? fopen(fname, "rb") : NULL;
        size_t got_len = in ? fread(got, 1, sizeof got, in) : 0;
        snprintf(what, sizeof what, "file %s missing or with other content", fname);
        expect(in && want_len == (long)got_len && memcmp(want, got, got_len) == 0, name, what);
        if (in)
            fclose(in);
    }
    DIR *dir = opendir(".");
    for (struct dirent *e; dir && (e = readdir(dir));) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        found++;
        unlink(e->d_name);
    }
    if (dir)
        closedir(dir);
    snprintf(what, sizeof what, "%zu files in the output directory, want %zu", found, wanted);
    expect(found == wanted, name, what);
}

static void receiver_vector(const struct json *v)
{
    const char *name = json_string(v, "name");
    const struct json *sack = json_get(v, "sack"), *idle = json_get(v, "idle_timeout_ms");
    transfers_configure(sack && sack->boolean, idle ? atol(idle->text) : 10000);
    int step_no = 0;
    const struct json *steps = json_get(v, "steps");
    for (const struct json *s = steps ? steps->child : NULL; s; s = s->next) {
        char what[200];
        snprintf(what, sizeof what, "step %d: wrong answer", ++step_no);
        struct sockaddr_storage from;
        unsigned char dgram[MAX_BYTES], want[MAX_BYTES], ack[RUDP_MAX_DATAGRAM];
        long len = bytes_of(s, "datagram", dgram);
        const char *at = json_string(s, "at_ms");
        const struct json *at_num = json_get(s, "at_ms");
        int64_t now = at ? atoll(at) : at_num ? atoll(at_num->text) : 0;
        if (len < 0 || parse_from(json_string(s, "from"), &from) != 0) {
            expect(0, name, "bad step");
            continue;
        }
        long want_len = bytes_of(s, "ack", want); /* absent or null: no answer */
        transfers_expire(now); /* as rudp-receiver does before each datagram */
        size_t got = transfers_handle(dgram, (size_t)len, &from, now, ack);
        if (want_len < 0)
            expect(got == 0, name, what);
        else
            expect(got == (size_t)want_len && memcmp(ack, want, got) == 0, name, what);
        if (want_len >= 0 && (got != (size_t)want_len || memcmp(ack, want, got) != 0))
            printf("  got %.*s, want %.*s\n", (int)got, ack, (int)want_len, want);
    }
    transfers_close_all(); /* like SIGTERM: unfinished outputs stay .partial */
    check_files(v, name);
}

static struct json *load(const char *path)
{
    char *text = read_file(path);
    const char *error = "cannot read the file";
    struct json *doc = text ? json_parse(text, &error) : NULL;
    free(text);
    if (!doc)
        printf("test-vectors: %s: %s\n", path, error);
    return doc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATAGRAMS.json RECEIVER.json\n", argv[0]);
        return 2;
    }
    struct json *datagrams = load(argv[1]), *receiver = load(argv[2]);
    if (!datagrams || !receiver)
        return 1;
    int ndatagram = 0, nreceiver = 0;
    const struct json *list = json_get(datagrams, "vectors");
    for (const struct json *v = list ? list->child : NULL; v; v = v->next, ndatagram++)
        datagram_vector(v);

    /* The receiver writes into the current directory: use a fresh one,
     * and keep its log lines (stderr) out of the test output. */
    char dir[] = "/tmp/test-vectors.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) {
        perror("test-vectors: temporary directory");
        return 1;
    }
    fflush(stderr);
    if (!freopen("/dev/null", "w", stderr))
        return 1;
    list = json_get(receiver, "vectors");
    for (const struct json *v = list ? list->child : NULL; v; v = v->next, nreceiver++)
        receiver_vector(v);
    if (chdir("/") != 0 || rmdir(dir) != 0)
        printf("test-vectors: could not remove %s\n", dir);
    json_free(datagrams);
    json_free(receiver);

    if (ndatagram == 0 || nreceiver == 0)
        failures++, printf("FAILED: no vectors found\n");
    printf("test-vectors: %d datagram and %d receiver vectors, %d checks, %d failed\n",
           ndatagram, nreceiver, checks, failures);
    return failures ? 1 : 0;
}
