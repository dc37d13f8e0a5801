/* receiver.c - RUDP receiver (spec/rudp.md).
 *
 *   rudp-receiver [-p PORT] [-t TIMEOUT_SECONDS] [-o DIR] [-k] [-d]
 *
 * One UDP socket, one thread, one transfer per source ip:port (transfer.c).
 * Each transfer is written to "<ip>.<port>.partial" in the current directory
 * (or -o DIR) and renamed to "<ip>.<port>" once its end packet has been
 * delivered. Runs until SIGTERM or SIGINT.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rudp.h"
#include "transfer.h"
#include "util.h"

#define DEFAULT_PORT 33122 /* RUDP-61 */

static volatile sig_atomic_t stopping;

static void on_stop_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-p PORT] [-t TIMEOUT_SECONDS] [-o DIR] [-k] [-d]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int port = DEFAULT_PORT, opt;
    bool sack = false;
    long timeout_s = 10; /* RUDP-15 */
    while ((opt = getopt(argc, argv, "p:t:o:kd")) != -1) {
        switch (opt) {
        case 'p':
            port = parse_port(optarg, "-p");
            break;
        case 't': {
            char *end;
            timeout_s = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || timeout_s < 1 || timeout_s > 86400)
                errx(2, "-t: '%s' is not a timeout in seconds (1-86400)", optarg);
            break;
        }
        case 'o':
            if (chdir(optarg) != 0)
                err(2, "-o %s", optarg);
            break;
        case 'k':
            sack = true;
            break;
        case 'd':
            debug_enabled = true;
            break;
        default:
            usage(argv[0]);
        }
    }
    if (optind != argc)
        usage(argv[0]);
    transfers_configure(sack, timeout_s * 1000);

    int sock = bind_all_addresses(SOCK_DGRAM, port);
    fprintf(stderr, "rudp-receiver: listening on UDP port %d%s\n", port, sack ? " (sack)" : "");

    /* RUDP-61: run until SIGTERM or SIGINT, then close the outputs (the
     * unfinished ones stay .partial) and exit 0. The signal interrupts
     * poll(), so the loop sees it at once. */
    signal(SIGTERM, on_stop_signal);
    signal(SIGINT, on_stop_signal);

    unsigned char buf[RUDP_MAX_DATAGRAM + 1], ack[RUDP_MAX_DATAGRAM];
    while (!stopping) {
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        int ready = poll(&pfd, 1, 200);
        /* Expire first, so that a packet never revives an overdue transfer. */
        transfers_expire(now_ms());
        if (ready <= 0)
            continue;
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        /* MSG_TRUNC: n is the real size, so oversized datagrams are seen */
        ssize_t n = recvfrom(sock, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&peer, &peer_len);
        if (n < 0) {
            if (errno != EINTR)
                warn("recvfrom");
            continue;
        }
        size_t ack_len = transfers_handle(buf, (size_t)n, &peer, now_ms(), ack);
        if (ack_len > 0 && sendto(sock, ack, ack_len, 0, (struct sockaddr *)&peer, peer_len) < 0)
            debugf("cannot send an ack: %s", strerror(errno));
        else if (ack_len > 0)
            debugf("sent %.*s", (int)ack_len, ack);
    }
    transfers_close_all();
    return 0;
}
