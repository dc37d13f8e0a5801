/* util.c - small helpers shared by the four programs. */
#include "util.h"

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool debug_enabled;

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void debugf(const char *fmt, ...)
{
    if (!debug_enabled)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int parse_port(const char *text, const char *what)
{
    char *end;
    long port = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || port < 1 || port > 65535)
        errx(2, "%s: '%s' is not a port number (1-65535)", what, text);
    return (int)port;
}

void address_text(const struct sockaddr *sa, char *ip, unsigned *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, INET6_ADDRSTRLEN);
        *port = ntohs(in->sin_port);
        return;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) /* ::ffff:1.2.3.4 on a dual-stack socket */
        inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, INET6_ADDRSTRLEN);
    else
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, INET6_ADDRSTRLEN);
    *port = ntohs(in6->sin6_port);
}

int bind_all_addresses(int socktype, int port)
{
    int one = 1, zero = 0;
    int fd = socket(AF_INET6, socktype, 0);
    if (fd >= 0) {
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port),
                                  .sin6_addr = IN6ADDR_ANY_INIT};
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero); /* dual stack */
        if (socktype == SOCK_STREAM) /* restart at once despite old connections */
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0)
            return fd;
        if (errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT)
            err(1, "bind to port %d", port);
        close(fd);
    }
    fd = socket(AF_INET, socktype, 0); /* no IPv6 here: IPv4 only */
    if (fd < 0)
        err(1, "socket");
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (socktype == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a4, sizeof a4) != 0)
        err(1, "bind to port %d", port);
    return fd;
}
