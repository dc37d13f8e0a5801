/* test_hello.c - unit tests of the Hello message handling (src/hello.c):
 * the lenient reader on a socket pair (HELLO-2), trimming (HELLO-15) and the
 * challenge reply (HELLO-20, examples from spec/hello.md).
 *
 *   bin/test-hello      (takes about 2 s: it waits out idle gaps)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hello.h"
#include "util.h"
#include "check.h"

static void test_challenge_n(const char *msg, size_t len, const char *want)
{
    char *got = challenge_reply(msg, len, "C");
    int ok = got && strcmp(got, want) == 0;
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  challenge_reply(\"%s\") = \"%s\", want \"%s\"\n", msg, got, want);
    free(got);
}

static void test_challenge(const char *msg, const char *want)
{
    test_challenge_n(msg, strlen(msg), want);
}

/* What a writer thread sends to one end of a socket pair: pieces with
 * pauses before them, then a half-close if asked. */
struct script {
    int fd;
    const char *pieces[4];
    int pause_ms[4];
    int half_close;
};

static void *writer(void *arg)
{
    struct script *s = arg;
    for (int i = 0; i < 4 && s->pieces[i]; i++) {
        usleep((useconds_t)s->pause_ms[i] * 1000);
        write_all(s->fd, s->pieces[i], strlen(s->pieces[i]));
    }
    if (s->half_close)
        shutdown(s->fd, SHUT_WR);
    return NULL;
}

/* Run a script against read_message; returns its result, the bytes in buf
 * and the elapsed time. */
static ssize_t run(struct script s, char *buf, size_t cap, int timeout_ms, int64_t *elapsed)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        exit(1);
    }
    s.fd = sv[1];
    pthread_t t;
    pthread_create(&t, NULL, writer, &s);
    int64_t start = now_ms();
    ssize_t n = read_message(sv[0], buf, cap, timeout_ms);
    *elapsed = now_ms() - start;
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
    return n;
}

static void test_read_message(void)
{
    char buf[64];
    int64_t ms;
    ssize_t n;

    /* A newline ends the message at once; what follows is not part of it. */
    n = run((struct script){.pieces = {"Hello in Go\nBye!\n"}}, buf, sizeof buf, 5000, &ms);
    CHECK(n == 12 && memcmp(buf, "Hello in Go\n", 12) == 0 && ms < 500);

    /* The network splits a message: pauses under 1 s do not end it. */
    n = run((struct script){.pieces = {"Hel", "lo in ", "Go\n"}, .pause_ms = {0, 400, 400}},
            buf, sizeof buf, 5000, &ms);
    CHECK(n == 12 && memcmp(buf, "Hello in Go\n", 12) == 0);

    /* No newline: the half-close ends it. */
    n = run((struct script){.pieces = {"Hello in Go"}, .half_close = 1}, buf, sizeof buf, 5000, &ms);
    CHECK(n == 11 && memcmp(buf, "Hello in Go", 11) == 0 && ms < 500);

    /* No newline, no close: 1 s of silence ends it (but not less). */
    n = run((struct script){.pieces = {"Hello in Go"}}, buf, sizeof buf, 5000, &ms);
    CHECK(n == 11 && ms >= HELLO_IDLE_MS && ms < HELLO_IDLE_MS + 500);

    /* Closed before any byte: no message. */
    n = run((struct script){.half_close = 1}, buf, sizeof buf, 5000, &ms);
    CHECK(n == 0);

    /* Nothing at all: the overall timeout, with ETIMEDOUT. */
    n = run((struct script){0}, buf, sizeof buf, 300, &ms);
    CHECK(n == -1 && errno == ETIMEDOUT && ms >= 300);

    /* More than the buffer holds without an end: refused. */
    n = run((struct script){.pieces = {"0123456789abcdefX"}}, buf, 16, 5000, &ms);
    CHECK(n == -1 && errno == EMSGSIZE);
}

static void test_message_text(void)
{
    const char raw[] = " \t\0Hello in C \r\n\0\0";
    size_t len = sizeof raw - 1;
    const char *text = message_text(raw, &len);
    CHECK(len == 10 && memcmp(text, "Hello in C", 10) == 0);
    len = 3;
    message_text(" \r\n", &len);
    CHECK(len == 0);
}

int main(void)
{
    test_challenge("Hello in Rust", "Goodbye Rust from C\n");
    test_challenge("Hello in Objective  C", "Goodbye Objective C from C\n");
    test_challenge("hello in rust", "Goodbye rust from C\n");
    test_challenge("  Hello\tin Go\r\n", "Goodbye Go from C\n");
    test_challenge_n("Hello in C\0\0\0", 13, "Goodbye C from C\n"); /* a C client's whole buffer */
    test_challenge("Hi from Ruby", "Goodbye Hi from Ruby from C\n");
    test_challenge("Hello in", "Goodbye Hello in from C\n");
    test_challenge(" \r\n", "Goodbye from C\n");
    test_message_text();
    test_read_message();
    if (failures) {
        fprintf(stderr, "test-hello: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("test-hello: all %d checks passed\n", checks);
    return 0;
}
