/* hello.c - lenient message reading shared by the Hello client and server. */
#include "hello.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util.h"

ssize_t read_message(int fd, char *buf, size_t cap, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    size_t len = 0;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            break;
        /* Before the first byte we wait for the whole time left; after
         * it, a short idle gap ends a message that has no '\n'. */
        int wait = (int)(len > 0 && left > HELLO_IDLE_MS ? HELLO_IDLE_MS : left);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, wait);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            return -1;
        if (ready == 0) {
            if (len > 0)
                return (ssize_t)len; /* idle gap: the message is complete */
            continue;                /* nothing yet: wait until the deadline */
        }
        if (len == cap) {
            errno = EMSGSIZE;
            return -1;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ECONNRESET && len > 0)
            return (ssize_t)len; /* reset after the message: it is intact */
        if (n < 0)
            return -1;
        if (n == 0)
            return (ssize_t)len; /* end of stream: close or half-close */
        char *newline = memchr(buf + len, '\n', (size_t)n);
        if (newline) /* strict framing: one line (HELLO-1); the rest is ignored */
            return newline + 1 - buf;
        len += (size_t)n;
    }
    if (len == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return (ssize_t)len; /* a peer still trickling bytes at the deadline */
}

bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' || c == '\0';
}

const char *message_text(const char *buf, size_t *len)
{
    size_t n = *len;
    while (n > 0 && is_blank(*buf)) {
        buf++;
        n--;
    }
    while (n > 0 && is_blank(buf[n - 1]))
        n--;
    *len = n;
    return buf;
}

int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

char *challenge_reply(const char *msg, size_t len, const char *server_language)
{
    char *words = malloc(len + 1);
    if (!words)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (!is_blank(msg[i]))
            words[n++] = msg[i];
        else if (n > 0 && words[n - 1] != ' ')
            words[n++] = ' ';
    if (n > 0 && words[n - 1] == ' ')
        n--;
    const char *lang = words;
    static const char hello_in[] = "hello in ";
    if (n > strlen(hello_in) && strncasecmp(words, hello_in, strlen(hello_in)) == 0) {
        lang += strlen(hello_in);
        n -= strlen(hello_in);
    }
    char *reply = malloc(n + strlen(server_language) + 16);
    if (reply && n == 0)
        sprintf(reply, "Goodbye from %s\n", server_language);
    else if (reply)
        sprintf(reply, "Goodbye %.*s from %s\n", (int)n, lang, server_language);
    free(words);
    return reply;
}
