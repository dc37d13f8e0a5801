/* hello_server.c - Hello Internet server (spec/hello.md).
 *
 *   hello-server PORT [--challenge]
 *
 * Listens on all addresses and serves clients forever, each in its own
 * thread so that a silent client never blocks the others (HELLO-13, HELLO-14):
 * read the message, print it, reply "Goodbye in C\n", close.
 * --challenge: reply "Goodbye <ClientLanguage> from C\n" and also print the
 * client's IP address (HELLO-20, HELLO-21).
 */
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hello.h"
#include "util.h"

static bool challenge;

struct connection {
    int fd;
    char ip[INET6_ADDRSTRLEN];
    unsigned port;
};

/* HELLO-12: close gracefully. Send our FIN, then read (and discard) what the
 * client still sends until it closes, for at most 2 s. Closing with unread
 * bytes would make the kernel send a reset, which can destroy our reply
 * before the client has read it. */
static void close_gracefully(int fd)
{
    char sink[512];
    int64_t deadline = now_ms() + 2000;
    shutdown(fd, SHUT_WR);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    for (int64_t left; (left = deadline - now_ms()) > 0;)
        if (poll(&pfd, 1, (int)left) <= 0 || read(fd, sink, sizeof sink) <= 0)
            break;
    close(fd);
}

static void *serve(void *arg)
{
    struct connection *c = arg;
    char *msg = malloc(HELLO_MAX_MESSAGE);
    char *reply = NULL; /* challenge mode: allocated */
    if (!msg) {
        warnx("out of memory for client %s", c->ip);
        goto done;
    }
    ssize_t len = read_message(c->fd, msg, HELLO_MAX_MESSAGE, HELLO_TIMEOUT_MS);
    if (len <= 0) { /* no reply to a client that sent no message */
        warnx("client %s port %u sent no message: %s", c->ip, c->port,
              len == 0 ? "it closed the connection"
              : errno == ETIMEDOUT ? "nothing arrived within 10 s"
              : errno == EMSGSIZE ? "it sent more than 64 KiB without a newline"
              : strerror(errno));
        goto done;
    }
    size_t text_len = (size_t)len;
    const char *text = message_text(msg, &text_len);

    /* HELLO-11 (and HELLO-21: the IP alone on the line before): one locked
     * block, so lines of concurrent clients never interleave, flushed at
     * once for whoever reads stdout through a pipe. */
    flockfile(stdout);
    if (challenge)
        fprintf(stdout, "%s\n", c->ip);
    fwrite(text, 1, text_len, stdout);
    putc_unlocked('\n', stdout);
    fflush(stdout);
    funlockfile(stdout);

    static const char goodbye[] = "Goodbye in " HELLO_LANGUAGE "\n"; /* HELLO-1, HELLO-4 */
    const char *answer = challenge ? (reply = challenge_reply(msg, (size_t)len, HELLO_LANGUAGE)) : goodbye;
    if (!answer)
        warnx("out of memory for client %s", c->ip);
    else if (write_all(c->fd, answer, strlen(answer)) != 0)
        warn("could not reply to client %s port %u", c->ip, c->port);
done:
    close_gracefully(c->fd); /* HELLO-12 */
    free(reply);
    free(msg);
    free(c);
    return NULL;
}

/* The suite stops servers with SIGTERM (HELLO-13). As PID 1 of a container
 * a process without a handler ignores it, and would wait for SIGKILL.
 * Every printed line is already flushed, so just exit. */
static void on_stop_signal(int sig)
{
    (void)sig;
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[2], "--challenge") == 0)
        challenge = true;
    else if (argc != 2) {
        fprintf(stderr, "usage: %s PORT [--challenge]\n", argv[0]);
        return 2;
    }
    int port = parse_port(argv[1], "PORT");
    signal(SIGPIPE, SIG_IGN); /* a client that vanished must not kill the server */
    signal(SIGTERM, on_stop_signal);
    signal(SIGINT, on_stop_signal);

    int listener = bind_all_addresses(SOCK_STREAM, port); /* HELLO-10 */
    if (listen(listener, 64) != 0)
        err(1, "listen on port %d", port);
    fprintf(stderr, "hello-server: listening on port %d%s\n", port,
            challenge ? " (challenge mode)" : "");

    /* Threads are detached: nobody joins them. Small stacks, because the
     * sandbox limits memory and each connection needs only a little. */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);

    for (;;) { /* HELLO-13: forever */
        struct sockaddr_storage addr;
        socklen_t addrlen = sizeof addr;
        int fd = accept(listener, (struct sockaddr *)&addr, &addrlen);
        if (fd < 0) {
            if (errno != EINTR && errno != ECONNABORTED) {
                warn("accept");
                sleep(1); /* e.g. out of file descriptors: let threads finish */
            }
            continue;
        }
        struct connection *c = malloc(sizeof *c);
        if (!c) {
            warnx("out of memory: dropping a client");
            close(fd);
            continue;
        }
        c->fd = fd;
        address_text((struct sockaddr *)&addr, c->ip, &c->port);
        pthread_t thread;
        int rc = pthread_create(&thread, &attr, serve, c); /* HELLO-14 */
        if (rc != 0) {
            warnx("cannot start a thread for client %s: %s", c->ip, strerror(rc));
            close(fd);
            free(c);
        }
    }
}
