/* json.h - a minimal JSON reader, just enough for the files in spec/vectors.
 * Test code: the programs themselves never read JSON. */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    char *key;           /* member name, for members of an object */
    char *text;          /* string (decoded, NUL-terminated) or number text */
    size_t len;          /* length of text */
    bool boolean;
    struct json *child;  /* first element or member */
    struct json *next;   /* next sibling */
};

/* Parse a whole document; NULL on error, with *error saying where. */
struct json *json_parse(const char *text, const char **error);
void json_free(struct json *j);

/* Member of an object by name, or NULL. */
const struct json *json_get(const struct json *object, const char *key);
/* String member of an object, or NULL if absent or not a string. */
const char *json_string(const struct json *object, const char *key);

/* Decode base64 into out (at least 3/4 of the input length); returns the
 * decoded length or -1 on bad input. */
long base64_decode(const char *in, unsigned char *out);

/* Read a whole file into a NUL-terminated buffer (free it); NULL on error. */
char *read_file(const char *path);

#endif
