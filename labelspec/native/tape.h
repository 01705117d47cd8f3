/* A JSON document parsed into a flat "tape" of nodes, without Python objects.
 *
 * The native fast path (labelspec._native) parses export bytes into a tape and runs the compiled schema
 * program (schema.c) and a format's rule decider (e.g. encord_rules.c) over it. It only ever answers
 * "certainly clean" or "not certainly clean": anything it cannot decide exactly sends the document to the
 * Python reference path, which writes the findings. So the parser refuses (LT_DIRTY) everything that is
 * not plain RFC 8259 JSON that orjson would parse to the same values: syntax errors, a BOM, duplicate
 * keys, integers outside int64, non-finite numbers, invalid UTF-8, nesting deeper than LT_MAX_DEPTH.
 *
 * Layout: a value is one node followed by its descendants (pre-order). `end` is the index one past the
 * value's last descendant, so siblings are reached by jumping to `end`. An object's members are stored as
 * a key node (LT_STR) immediately followed by the value's subtree.
 *
 *   arrays:  for (uint32_t e = i + 1; e < t->n[i].end; e = t->n[e].end) ...
 *   objects: for (uint32_t k = i + 1; k < t->n[i].end; k = t->n[k + 1].end) { key = k; value = k + 1; }
 */
#ifndef LABELSPEC_TAPE_H
#define LABELSPEC_TAPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { LT_NULL = 0, LT_FALSE, LT_TRUE, LT_INT, LT_FLOAT, LT_STR, LT_ARR, LT_OBJ };

#define LT_ESCAPED 1u  /* string: had escape sequences; s points into the tape's arena (decoded) */
#define LT_NONASCII 2u /* string: contains bytes >= 0x80 (always valid UTF-8) */

#define LT_NONE UINT32_MAX /* "no such node" (lt_get on a missing key) */
#define LT_MAX_DEPTH 512

/* Parser results. */
#define LT_OK 0
#define LT_DIRTY 1 /* not plain JSON the fast path can decide on: let the reference path report it */
#define LT_NOMEM 2

typedef struct {
    uint8_t type;
    uint8_t flags;
    uint16_t reserved;
    uint32_t len; /* LT_STR: decoded byte length; LT_ARR: element count; LT_OBJ: member count */
    uint32_t end; /* index one past this value's subtree */
    uint32_t reserved2;
    union {
        int64_t i;     /* LT_INT */
        double d;      /* LT_FLOAT (finite, correctly rounded as strtod / orjson) */
        const char *s; /* LT_STR: `len` decoded UTF-8 bytes, not NUL-terminated */
    } v;
} lnode;

typedef struct larena larena;

typedef struct {
    lnode *n;
    uint32_t count, cap;
    larena *arena;     /* decoded escaped strings */
    const char *error; /* why LT_DIRTY (static text), for tests and LABELSPEC_NATIVE_DEBUG */
    size_t error_at;   /* byte offset of the problem */
} ltape;

void lt_init(ltape *t);
void lt_free(ltape *t);
/* Forget the nodes and decoded strings (keeps the allocations): before parsing the next value. */
void lt_reset(ltape *t);

/* Parse exactly one JSON value starting at buf[*pos] (leading whitespace skipped) and append it to the
 * tape. On LT_OK, *pos is just past the value (trailing whitespace not consumed); the value's root node
 * is the node that was t->count before the call. Strings point into `buf`, which must outlive the tape's
 * use. */
int lt_parse_value(ltape *t, const char *buf, size_t len, size_t *pos);

/* Parse a whole document (one value, only whitespace around it). Root node is 0. */
int lt_parse_document(ltape *t, const char *buf, size_t len);

/* ------------------------------------------------------------------------------------------ accessors */

static inline int lt_str_eq(const lnode *n, const char *s, size_t len) {
    return n->type == LT_STR && n->len == len && memcmp(n->v.s, s, len) == 0;
}
#define LT_STR_EQ(node, literal) lt_str_eq((node), (literal), sizeof(literal) - 1)

/* The value node of member `key` of object node `obj`, or LT_NONE (also when `obj` is not an object). */
static inline uint32_t lt_get(const ltape *t, uint32_t obj, const char *key, size_t len) {
    if (obj == LT_NONE || t->n[obj].type != LT_OBJ) return LT_NONE;
    for (uint32_t k = obj + 1; k < t->n[obj].end; k = t->n[k + 1].end)
        if (lt_str_eq(&t->n[k], key, len)) return k + 1;
    return LT_NONE;
}
#define LT_GET(t, obj, literal) lt_get((t), (obj), (literal), sizeof(literal) - 1)

/* Number of Unicode code points of a string node (what Python's len() gives). */
static inline size_t lt_codepoints(const lnode *n) {
    if (!(n->flags & LT_NONASCII)) return n->len;
    size_t count = 0;
    for (uint32_t i = 0; i < n->len; i++) count += ((unsigned char)n->v.s[i] & 0xC0) != 0x80;
    return count;
}

/* A fast 64-bit hash of bytes, for the hash tables of the native checks (not for anything persistent). */
static inline uint64_t lt_hash(const char *s, uint32_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

/* JSON value equality as python-jsonschema's `equal`: 1 == 1.0, true != 1, objects unordered. */
int lt_equal(const ltape *a, uint32_t i, const ltape *b, uint32_t j);

#endif
