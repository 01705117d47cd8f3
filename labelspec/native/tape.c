/* JSON -> tape parser (see tape.h). Strict RFC 8259; anything unusual is LT_DIRTY, never guessed. */
#include "tape.h"

#include <math.h>
#include <stdlib.h>

struct larena {
    struct larena *next;
    size_t used, cap;
    char data[];
};

typedef struct {
    ltape *t;
    const unsigned char *p;   /* cursor */
    const unsigned char *end; /* one past the input */
    const unsigned char *start;
    int depth;
} parser;

/* Scratch for duplicate-key detection in large objects (reused; open addressing over key indexes). */
static _Thread_local uint32_t *dup_slots;
static _Thread_local size_t dup_cap;

void lt_init(ltape *t) { memset(t, 0, sizeof *t); }

void lt_free(ltape *t) {
    free(t->n);
    for (larena *a = t->arena; a;) {
        larena *next = a->next;
        free(a);
        a = next;
    }
    memset(t, 0, sizeof *t);
}

void lt_reset(ltape *t) {
    t->count = 0;
    t->error = NULL;
    t->error_at = 0;
    for (larena *a = t->arena; a; a = a->next) a->used = 0;
}

static int dirty(parser *ps, const char *why) {
    ps->t->error = why;
    ps->t->error_at = (size_t)(ps->p - ps->start);
    return LT_DIRTY;
}

static int push(parser *ps, uint8_t type, uint32_t *index) {
    ltape *t = ps->t;
    if (t->count == t->cap) {
        if (t->cap >= UINT32_MAX / 2) return LT_DIRTY; /* beyond uint32 node indexes */
        uint32_t cap = t->cap ? t->cap * 2 : 4096;
        lnode *n = realloc(t->n, (size_t)cap * sizeof *n);
        if (!n) return LT_NOMEM;
        t->n = n;
        t->cap = cap;
    }
    *index = t->count++;
    lnode *node = &t->n[*index];
    node->type = type;
    node->flags = 0;
    node->len = 0;
    node->end = t->count;
    return LT_OK;
}

/* Room for `need` decoded bytes; decoded strings never straddle blocks. */
static char *arena_alloc(ltape *t, size_t need) {
    for (larena *a = t->arena; a; a = a->next)
        if (a->cap - a->used >= need) {
            char *out = a->data + a->used;
            a->used += need;
            return out;
        }
    size_t cap = need > 65536 ? need : 65536;
    larena *a = malloc(sizeof *a + cap);
    if (!a) return NULL;
    a->cap = cap;
    a->used = need;
    a->next = t->arena;
    t->arena = a;
    return a->data;
}

static inline void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++;
}

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), 0 if invalid (overlong, surrogate, >10FFFF). */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end) {
    unsigned c = s[0];
    size_t avail = (size_t)(end - s);
    if (c >= 0xC2 && c <= 0xDF) return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* UTF-16 surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;
        if (c == 0xF4 && s[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

static int hex4(const unsigned char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

/* 1 for bytes that end the fast scan inside a string: '"', '\\', control characters, non-ASCII. */
static const unsigned char string_stop[256] = {
    [0 ... 31] = 1, ['"'] = 1, ['\\'] = 1, [128 ... 255] = 1,
};

/* Decode an escaped string whose raw bytes are [from, to) into the arena. */
static int decode_escaped(parser *ps, const unsigned char *from, const unsigned char *to, lnode *node) {
    char *out = arena_alloc(ps->t, (size_t)(to - from));
    if (!out) return LT_NOMEM;
    char *o = out;
    for (const unsigned char *s = from; s < to;) {
        if (*s != '\\') {
            *o++ = (char)*s++;
            continue;
        }
        s++;
        switch (*s++) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp;
            hex4(s, &cp); /* checked by the scanner */
            s += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned low;
                if (s + 6 > to || s[0] != '\\' || s[1] != 'u' || !hex4(s + 2, &low) || low < 0xDC00 ||
                    low > 0xDFFF)
                    return dirty(ps, "lone UTF-16 surrogate escape");
                s += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return dirty(ps, "lone UTF-16 surrogate escape");
            }
            if (cp >= 0x80) node->flags |= LT_NONASCII;
            if (cp < 0x80) *o++ = (char)cp;
            else if (cp < 0x800) {
                *o++ = (char)(0xC0 | (cp >> 6));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | (cp >> 12));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (cp >> 18));
                *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: return dirty(ps, "invalid escape");
        }
    }
    node->v.s = out;
    node->len = (uint32_t)(o - out);
    return LT_OK;
}

static int parse_string(parser *ps, uint32_t *index) {
    int rc = push(ps, LT_STR, index);
    if (rc) return rc;
    const unsigned char *s = ++ps->p, *end = ps->end; /* past the opening quote */
    unsigned char flags = 0;
    for (;;) {
        while (s < end && !string_stop[*s]) s++;
        if (s >= end) return dirty(ps, "unterminated string");
        unsigned char c = *s;
        if (c == '"') break;
        if (c == '\\') {
            flags |= LT_ESCAPED;
            if (s + 1 >= end) return dirty(ps, "unterminated string");
            if (s[1] == 'u') {
                unsigned cp;
                if (s + 6 > end || !hex4(s + 2, &cp)) return dirty(ps, "invalid \\u escape");
                s += 6;
            } else {
                s += 2;
            }
            continue;
        }
        if (c < 0x20) {
            ps->p = s;
            return dirty(ps, "control character in string");
        }
        size_t n = utf8_seq(s, end);
        if (!n) {
            ps->p = s;
            return dirty(ps, "invalid UTF-8");
        }
        flags |= LT_NONASCII;
        s += n;
    }
    lnode *node = &ps->t->n[*index];
    size_t raw = (size_t)(s - ps->p);
    if (raw > UINT32_MAX) return dirty(ps, "string too long");
    node->flags = flags;
    if (flags & LT_ESCAPED) {
        rc = decode_escaped(ps, ps->p, s, node);
        if (rc) return rc;
        node = &ps->t->n[*index];
        node->flags = flags & (unsigned char)~LT_NONASCII; /* NONASCII: recomputed from the decoded bytes */
        for (uint32_t i = 0; i < node->len; i++)
            if ((unsigned char)node->v.s[i] >= 0x80) {
                node->flags |= LT_NONASCII;
                break;
            }
    } else {
        node->v.s = (const char *)ps->p;
        node->len = (uint32_t)raw;
    }
    ps->p = s + 1;
    return LT_OK;
}

static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int parse_number(parser *ps, uint32_t *index) {
    const unsigned char *s = ps->p, *end = ps->end, *begin = s;
    int negative = 0;
    if (*s == '-') {
        negative = 1;
        s++;
    }
    if (s >= end || *s < '0' || *s > '9') return dirty(ps, "invalid number");
    uint64_t mantissa = 0;
    int digits = 0; /* significant digits accumulated into mantissa (at most 19) */
    int dropped = 0; /* digits beyond 19: the fast path does not apply */
    if (*s == '0') {
        s++;
        if (s < end && *s >= '0' && *s <= '9') return dirty(ps, "leading zero");
    } else {
        while (s < end && *s >= '0' && *s <= '9') {
            if (digits < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*s - '0');
                if (mantissa) digits++;
            } else {
                dropped = 1;
            }
            s++;
        }
    }
    int is_float = 0, exp10 = 0;
    if (s < end && *s == '.') {
        is_float = 1;
        s++;
        if (s >= end || *s < '0' || *s > '9') return dirty(ps, "invalid number");
        while (s < end && *s >= '0' && *s <= '9') {
            if (digits < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*s - '0');
                if (mantissa) digits++;
                exp10--;
            } else {
                dropped = 1;
            }
            s++;
        }
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        is_float = 1;
        s++;
        int exp_negative = 0, e = 0;
        if (s < end && (*s == '+' || *s == '-')) exp_negative = *s++ == '-';
        if (s >= end || *s < '0' || *s > '9') return dirty(ps, "invalid number");
        while (s < end && *s >= '0' && *s <= '9') {
            if (e < 100000) e = e * 10 + (*s - '0');
            s++;
        }
        exp10 += exp_negative ? -e : e;
    }
    uint32_t i;
    int rc = push(ps, is_float ? LT_FLOAT : LT_INT, &i);
    if (rc) return rc;
    lnode *node = &ps->t->n[i];
    *index = i;
    if (!is_float) {
        /* int64 only: a larger integer is valid JSON, but rare; let the reference path judge it. */
        if (dropped || mantissa > (uint64_t)INT64_MAX + (uint64_t)negative) return dirty(ps, "integer beyond int64");
        node->v.i = negative ? (int64_t)(0 - mantissa) : (int64_t)mantissa;
    } else if (!dropped && mantissa < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        /* Clinger's fast path: both operands exact, one correctly rounded operation. */
        double d = (double)mantissa;
        d = exp10 < 0 ? d / exact_pow10[-exp10] : d * exact_pow10[exp10];
        node->v.d = negative ? -d : d;
    } else {
        char text[64];
        size_t n = (size_t)(s - begin);
        if (n >= sizeof text) return dirty(ps, "number too long");
        memcpy(text, begin, n);
        text[n] = 0;
        double d = strtod(text, NULL);
        if (!isfinite(d)) return dirty(ps, "number out of range");
        node->v.d = d;
    }
    ps->p = s;
    return LT_OK;
}

static int literal(parser *ps, const char *word, size_t n, uint8_t type, uint32_t *index) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return dirty(ps, "invalid literal");
    ps->p += n;
    return push(ps, type, index);
}

static int keys_equal(const lnode *a, const lnode *b) {
    return a->len == b->len && memcmp(a->v.s, b->v.s, a->len) == 0;
}

/* Repeated keys: Python keeps the last, the reference reports JSON-DUPLICATE-KEY; either way not clean. */
static int has_duplicate_keys(const ltape *t, uint32_t obj) {
    uint32_t members = t->n[obj].len;
    if (members < 2) return 0;
    if (members <= 16) {
        for (uint32_t a = obj + 1; a < t->n[obj].end; a = t->n[a + 1].end)
            for (uint32_t b = t->n[a + 1].end; b < t->n[obj].end; b = t->n[b + 1].end)
                if (keys_equal(&t->n[a], &t->n[b])) return 1;
        return 0;
    }
    size_t cap = 64;
    while (cap < (size_t)members * 2) cap *= 2;
    if (cap > dup_cap) {
        uint32_t *slots = realloc(dup_slots, cap * sizeof *slots);
        if (!slots) return 1; /* cannot check: not clean */
        dup_slots = slots;
        dup_cap = cap;
    }
    memset(dup_slots, 0xFF, cap * sizeof *dup_slots);
    for (uint32_t k = obj + 1; k < t->n[obj].end; k = t->n[k + 1].end) {
        size_t slot = (size_t)lt_hash(t->n[k].v.s, t->n[k].len) & (cap - 1);
        while (dup_slots[slot] != LT_NONE) {
            if (keys_equal(&t->n[dup_slots[slot]], &t->n[k])) return 1;
            slot = (slot + 1) & (cap - 1);
        }
        dup_slots[slot] = k;
    }
    return 0;
}

static int parse_value(parser *ps, uint32_t *index);

static int parse_array(parser *ps, uint32_t *index) {
    uint32_t i;
    int rc = push(ps, LT_ARR, &i);
    if (rc) return rc;
    *index = i;
    if (++ps->depth > LT_MAX_DEPTH) return dirty(ps, "nested too deeply");
    ps->p++;
    skip_ws(ps);
    uint32_t count = 0;
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            uint32_t child;
            rc = parse_value(ps, &child);
            if (rc) return rc;
            count++;
            skip_ws(ps);
            if (ps->p >= ps->end) return dirty(ps, "unterminated array");
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == ']') {
                ps->p++;
                break;
            }
            return dirty(ps, "expected ',' or ']'");
        }
    }
    ps->depth--;
    ps->t->n[i].len = count;
    ps->t->n[i].end = ps->t->count;
    return LT_OK;
}

static int parse_object(parser *ps, uint32_t *index) {
    uint32_t i;
    int rc = push(ps, LT_OBJ, &i);
    if (rc) return rc;
    *index = i;
    if (++ps->depth > LT_MAX_DEPTH) return dirty(ps, "nested too deeply");
    ps->p++;
    skip_ws(ps);
    uint32_t count = 0;
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"') return dirty(ps, "expected a key");
            uint32_t key, value;
            rc = parse_string(ps, &key);
            if (rc) return rc;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') return dirty(ps, "expected ':'");
            ps->p++;
            rc = parse_value(ps, &value);
            if (rc) return rc;
            count++;
            skip_ws(ps);
            if (ps->p >= ps->end) return dirty(ps, "unterminated object");
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == '}') {
                ps->p++;
                break;
            }
            return dirty(ps, "expected ',' or '}'");
        }
    }
    ps->depth--;
    ps->t->n[i].len = count;
    ps->t->n[i].end = ps->t->count;
    if (has_duplicate_keys(ps->t, i)) return dirty(ps, "repeated key in an object");
    return LT_OK;
}

static int parse_value(parser *ps, uint32_t *index) {
    skip_ws(ps);
    if (ps->p >= ps->end) return dirty(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{': return parse_object(ps, index);
    case '[': return parse_array(ps, index);
    case '"': return parse_string(ps, index);
    case 't': return literal(ps, "true", 4, LT_TRUE, index);
    case 'f': return literal(ps, "false", 5, LT_FALSE, index);
    case 'n': return literal(ps, "null", 4, LT_NULL, index);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, index);
        return dirty(ps, "unexpected character");
    }
}

int lt_parse_value(ltape *t, const char *buf, size_t len, size_t *pos) {
    parser ps = {t, (const unsigned char *)buf + *pos, (const unsigned char *)buf + len,
                 (const unsigned char *)buf, 0};
    uint32_t root;
    int rc = parse_value(&ps, &root);
    if (rc == LT_OK) *pos = (size_t)(ps.p - ps.start);
    return rc;
}

int lt_parse_document(ltape *t, const char *buf, size_t len) {
    size_t pos = 0;
    int rc = lt_parse_value(t, buf, len, &pos);
    if (rc) return rc;
    while (pos < len && (buf[pos] == ' ' || buf[pos] == '\n' || buf[pos] == '\r' || buf[pos] == '\t')) pos++;
    if (pos != len) {
        t->error = "data after the document";
        t->error_at = pos;
        return LT_DIRTY;
    }
    return LT_OK;
}

/* ------------------------------------------------------------------------------------------ equality */

static int number_equal(const lnode *a, const lnode *b) {
    if (a->type == LT_INT && b->type == LT_INT) return a->v.i == b->v.i;
    if (a->type == LT_FLOAT && b->type == LT_FLOAT) return a->v.d == b->v.d;
    const lnode *in = a->type == LT_INT ? a : b, *fl = a->type == LT_INT ? b : a;
    double d = fl->v.d;
    /* Exact, as Python compares int and float: only an integral double within int64 can be equal. */
    if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) return 0;
    return (int64_t)d == in->v.i;
}

int lt_equal(const ltape *a, uint32_t i, const ltape *b, uint32_t j) {
    const lnode *x = &a->n[i], *y = &b->n[j];
    int xnum = x->type == LT_INT || x->type == LT_FLOAT, ynum = y->type == LT_INT || y->type == LT_FLOAT;
    if (xnum || ynum) return xnum && ynum && number_equal(x, y);
    if (x->type != y->type) return 0;
    switch (x->type) {
    case LT_STR: return x->len == y->len && memcmp(x->v.s, y->v.s, x->len) == 0;
    case LT_ARR: {
        if (x->len != y->len) return 0;
        for (uint32_t e = i + 1, f = j + 1; e < x->end; e = a->n[e].end, f = b->n[f].end)
            if (!lt_equal(a, e, b, f)) return 0;
        return 1;
    }
    case LT_OBJ: {
        if (x->len != y->len) return 0; /* keys are unique (duplicates are refused) */
        for (uint32_t k = i + 1; k < x->end; k = a->n[k + 1].end) {
            uint32_t other = lt_get(b, j, a->n[k].v.s, a->n[k].len);
            if (other == LT_NONE || !lt_equal(a, k + 1, b, other)) return 0;
        }
        return 1;
    }
    default: return 1; /* null, true, false */
    }
}
