/* hello_client.c - Hello Internet client (spec/hello.md).
 *
 *   hello-client HOST PORT
 *
 * Connects, sends "Hello in C\n", prints the server's reply on stdout and
 * exits 0; on any failure prints why on stderr and exits 1 (HELLO-5..8).
 */
#include <err.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hello.h"
#include "util.h"

#define HALF_CLOSE_DELAY_MS 3000 /* the longest idle gap (2 s) + 1 s */

static const char *volatile step = "resolving the host name";

/* One alarm bounds the whole conversation, DNS lookup and connect included:
 * both can hang far longer than we want to wait. */
static void on_alarm(int sig)
{
    (void)sig;
    static const char prefix[] = "hello-client: no answer within 10 s while ";
    write(STDERR_FILENO, prefix, sizeof prefix - 1);
    write(STDERR_FILENO, step, strlen(step));
    write(STDERR_FILENO, "\n", 1);
    _exit(1);
}

/* Try every address the name resolves to (IPv4 and IPv6) until one accepts. */
static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list;
    int rc = getaddrinfo(host, port, &hints, &list); /* HELLO-5: names, not only IPs */
    if (rc != 0)
        errx(1, "could not resolve host %s: %s", host, gai_strerror(rc));
    step = "connecting";
    int fd = -1;
    for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0)
        err(1, "could not connect to %s port %s", host, port); /* HELLO-8 */
    freeaddrinfo(list);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 2;
    }
    const char *host = argv[1], *port = argv[2];
    parse_port(port, "PORT");
    signal(SIGPIPE, SIG_IGN); /* a closed connection is an error, not a crash */
    signal(SIGALRM, on_alarm);
    alarm(HELLO_TIMEOUT_MS / 1000);

    int fd = connect_to(host, port);

    step = "sending";
    static const char message[] = "Hello in " HELLO_LANGUAGE "\n"; /* HELLO-1, HELLO-3 */
    if (write_all(fd, message, sizeof message - 1) != 0)
        err(1, "could not send to %s port %s", host, port);
    /* HELLO-6: a server that reads until end of stream needs our
     * half-close to see the message end, but some servers treat that as
     * "client gone" and never reply. So, like the Go reference, give the
     * server HALF_CLOSE_DELAY_MS to start replying first. */
    step = "waiting for the reply";
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, HALF_CLOSE_DELAY_MS) == 0)
        shutdown(fd, SHUT_WR);

    static char reply[HELLO_MAX_MESSAGE];
    ssize_t len = read_message(fd, reply, sizeof reply, HELLO_TIMEOUT_MS);
    if (len < 0)
        err(1, "no reply from %s port %s", host, port);
    if (len == 0)
        errx(1, "server %s port %s closed the connection without replying", host, port);
    close(fd);

    size_t text_len = (size_t)len; /* HELLO-7, HELLO-15: the reply's text */
    const char *text = message_text(reply, &text_len);
    fwrite(text, 1, text_len, stdout);
    putchar('\n');
    return fflush(stdout) == 0 ? 0 : 1;
}
