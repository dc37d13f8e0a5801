/* json.c - a minimal JSON reader for the test vectors (see json.h). */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *p;
    const char *error;
};

static void skip_space(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static struct json *fail(struct parser *ps, const char *why)
{
    if (!ps->error)
        ps->error = why;
    return NULL;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string starting at the opening quote; the result is decoded UTF-8. */
static char *parse_string(struct parser *ps, size_t *len)
{
    const char *s = ++ps->p;
    char *out = malloc(strlen(s) + 1), *o = out; /* decoding never grows the text */
    while (out && *s != '"') {
        if (*s == '\0' || (unsigned char)*s < 0x20) {
            free(out);
            return (char *)fail(ps, "unterminated string");
        }
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        s++;
        const char *plain = strchr("\"\\/bfnrt", *s);
        if (*s && plain) {
            *o++ = "\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"];
            s++;
            continue;
        }
        long cp = *s == 'u' ? hex4(s + 1) : -1;
        if (cp < 0) {
            free(out);
            return (char *)fail(ps, "bad escape in string");
        }
        s += 5;
        if (cp >= 0xD800 && cp < 0xDC00 && s[0] == '\\' && s[1] == 'u') { /* surrogate pair */
            int low = hex4(s + 2);
            if (low >= 0xDC00 && low < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                s += 6;
            }
        }
        o += put_utf8(o, (unsigned long)cp);
    }
    if (!out)
        return (char *)fail(ps, "out of memory");
    *o = '\0';
    *len = (size_t)(o - out);
    ps->p = s + 1;
    return out;
}

static struct json *parse_value(struct parser *ps);

/* Elements of an array or members of an object, up to the closing bracket. */
static struct json *parse_children(struct parser *ps, struct json *j, char close)
{
    struct json **tail = &j->child;
    ps->p++;
    skip_space(ps);
    if (*ps->p == close) {
        ps->p++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len;
        skip_space(ps);
        if (j->type == JSON_OBJECT) {
            if (*ps->p != '"' || !(key = parse_string(ps, &key_len)))
                return fail(ps, "expected a member name");
            skip_space(ps);
            if (*ps->p++ != ':') {
                free(key);
                return fail(ps, "expected ':'");
            }
        }
        struct json *child = parse_value(ps);
        if (!child) {
            free(key);
            return NULL;
        }
        child->key = key;
        *tail = child;
        tail = &child->next;
        skip_space(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p++ == close)
            return j;
        return fail(ps, "expected ',' or a closing bracket");
    }
}

static struct json *parse_value(struct parser *ps)
{
    skip_space(ps);
    struct json *j = calloc(1, sizeof *j);
    if (!j)
        return fail(ps, "out of memory");
    const char *p = ps->p;
    struct json *ok = j;
    if (*p == '{' || *p == '[') {
        j->type = *p == '{' ? JSON_OBJECT : JSON_ARRAY;
        ok = parse_children(ps, j, *p == '{' ? '}' : ']');
    } else if (*p == '"') {
        j->type = JSON_STRING;
        ok = (j->text = parse_string(ps, &j->len)) ? j : NULL;
    } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        j->type = JSON_BOOL;
        j->boolean = *p == 't';
        ps->p += j->boolean ? 4 : 5;
    } else if (strncmp(p, "null", 4) == 0) {
        ps->p += 4;
    } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
        j->type = JSON_NUMBER;
        size_t n = strspn(p, "-+.eE0123456789");
        j->text = strndup(p, n);
        j->len = n;
        ps->p += n;
    } else {
        ok = fail(ps, "unexpected character");
    }
    if (!ok)
        json_free(j);
    return ok;
}

struct json *json_parse(const char *text, const char **error)
{
    struct parser ps = {.p = text};
    struct json *j = parse_value(&ps);
    if (j) {
        skip_space(&ps);
        if (*ps.p != '\0') {
            json_free(j);
            j = fail(&ps, "text after the document");
        }
    }
    if (!j && error)
        *error = ps.error;
    return j;
}

void json_free(struct json *j)
{
    while (j) {
        struct json *next = j->next;
        json_free(j->child);
        free(j->key);
        free(j->text);
        free(j);
        j = next;
    }
}

const struct json *json_get(const struct json *object, const char *key)
{
    for (const struct json *m = object ? object->child : NULL; m; m = m->next)
        if (m->key && strcmp(m->key, key) == 0)
            return m;
    return NULL;
}

const char *json_string(const struct json *object, const char *key)
{
    const struct json *m = json_get(object, key);
    return m && m->type == JSON_STRING ? m->text : NULL;
}

long base64_decode(const char *in, unsigned char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned long bits = 0;
    int nbits = 0;
    long n = 0;
    for (; *in && *in != '='; in++) {
        const char *c = strchr(alphabet, *in);
        if (!c)
            return -1;
        bits = bits << 6 | (unsigned long)(c - alphabet);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out[n++] = (unsigned char)(bits >> nbits & 0xFF);
        }
    }
    return n;
}

char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}
