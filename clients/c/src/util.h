/* util.h - small helpers shared by the four programs. */
#ifndef UTIL_H
#define UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Milliseconds on a clock that never jumps (not the wall clock). */
int64_t now_ms(void);

/* Set by -d: debugf() then prints to stderr (stdout stays quiet). */
extern bool debug_enabled;
void debugf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a decimal port 1..65535 or exit with a message naming what. */
int parse_port(const char *text, const char *what);

/* "1.2.3.4" or "::1" (IPv4-mapped IPv6 addresses are shown as IPv4) and the
 * port of a socket address. ip needs INET6_ADDRSTRLEN bytes. */
void address_text(const struct sockaddr *sa, char *ip, unsigned *port);

/* A socket of the given type (SOCK_STREAM or SOCK_DGRAM) bound to the port
 * on all addresses: IPv6 "::" accepting IPv4 too, or IPv4 "0.0.0.0" where
 * the kernel has no IPv6. Exits with a message on failure. */
int bind_all_addresses(int socktype, int port);

#endif
