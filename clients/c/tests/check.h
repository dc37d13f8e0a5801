/* check.h - the unit tests' one assertion: CHECK(cond) counts the check
 * and, when cond is false, prints where and what, then carries on, so a
 * run lists every failure. Each test program includes it once and ends
 * with check_summary. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond) check((cond), #cond, __FILE__, __LINE__)

static void check(int ok, const char *what, const char *file, int line)
{
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    }
}

#endif
