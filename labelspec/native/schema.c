/* Compiled JSON Schema program (see schema.h; the IR is described in validator/native/schema_program.py).
 *
 * Exactness notes (python-jsonschema Draft7Validator, no format checker):
 * - "integer" accepts floats with an integral value; booleans are neither integers nor numbers.
 * - minimum & co compare int64 and double exactly, as Python compares int and float.
 * - minLength/maxLength count code points; pattern is re.search (DFA, else the compiled re.Pattern).
 * - enum/const use lt_equal (jsonschema's `equal`: 1 == 1.0, true != 1).
 * - uniqueItems follows jsonschema's `uniq`, whose sort-based shortcut can miss duplicates among arrays;
 *   that one case is "unsure" (answer 0).
 * - additionalProperties treats a key as covered by patternProperties when "|".join(patterns) matches it,
 *   as jsonschema does (compiled as its own pattern).
 * Evaluation allocates nothing; "unsure" propagates as failure through not/if/anyOf/oneOf.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "schema.h"

#include "regex.h"

#define LS_NONE UINT32_MAX
#define IR_VERSION 1
#define UNIQUE_PAIRWISE_MAX 2048 /* longer arrays with uniqueItems are "unsure" (quadratic check) */
/* Nested node evaluations: the tape's depth (LT_MAX_DEPTH) times a few schema levels each. Deeper is
 * "unsure" rather than a stack overflow (only a malformed IR with a same-value cycle gets there). */
#define MAX_EVAL_DEPTH 8192

enum {
    OP_FALSE = 0,
    OP_TYPE,
    OP_ENUM,
    OP_CONST,
    OP_MINIMUM,
    OP_MAXIMUM,
    OP_EXCLUSIVE_MINIMUM,
    OP_EXCLUSIVE_MAXIMUM,
    OP_MIN_LENGTH,
    OP_MAX_LENGTH,
    OP_PATTERN,
    OP_MIN_ITEMS,
    OP_MAX_ITEMS,
    OP_UNIQUE_ITEMS,
    OP_ITEMS,
    OP_TUPLE_ITEMS,
    OP_MIN_PROPS,
    OP_MAX_PROPS,
    OP_OBJECT,
    OP_ALL_OF,
    OP_ANY_OF,
    OP_ONE_OF,
    OP_NOT,
    OP_IF,
    OP_COUNT
};

/* JSON Schema type bits of the IR */
enum { TY_NULL = 1, TY_BOOLEAN = 2, TY_INTEGER = 4, TY_NUMBER = 8, TY_STRING = 16, TY_ARRAY = 32, TY_OBJECT = 64 };

/* Tape-type bits a node accepts: bit LT_x, plus INTEGRAL_FLOAT for "integer" without "number". */
#define INTEGRAL_FLOAT (1u << 8)
#define ALL_TYPES 0x1FFu

/* Op groups, evaluated in this order: constants, then the ops of the value's type, then combinators. */
enum { G_CONST, G_STR, G_NUM, G_ARR, G_OBJ, G_POST, G_COUNT };

typedef struct {
    uint8_t code;
    uint8_t is_float; /* numeric bound is a double */
    uint8_t fast;     /* OP_IF: the condition is a discriminator test, n.i indexes s->conds */
    uint32_t a, b, c;
    union {
        int64_t i;
        double d;
    } n;
} lop;

typedef struct {
    uint32_t types;             /* accepted tape types (bits 1 << LT_x, INTEGRAL_FLOAT) */
    uint16_t trivial;           /* no op and every type: always valid */
    uint16_t leaf;              /* no op: only the type is checked */
    uint32_t group[G_COUNT + 1]; /* ops of group g: [group[g], group[g + 1]) */
} lsnode;

typedef struct {
    const char *key;
    uint32_t len;
    uint32_t sub; /* properties[key], or LS_NONE */
    uint32_t dep; /* index into deps, or LS_NONE */
    uint8_t required, in_props;
} lsprop;

typedef struct {
    uint32_t first, count;     /* lsprop entries */
    uint32_t table, mask;      /* hash slots in s->slots, mask = slot count - 1 */
    uint32_t seed;             /* chosen so that the keys rarely share a slot */
    uint8_t simple;            /* properties / required / dependencies only */
    uint32_t n_required;
    uint32_t pats, n_pats;     /* (pattern, node) pairs in pool */
    uint32_t additional;       /* additionalProperties node or LS_NONE */
    uint32_t additional_pattern;
    uint32_t names;            /* propertyNames node or LS_NONE */
    uint8_t additional_false;
} lsobj;

/* A hash slot holds the key's first and last 8 bytes, so most lookups touch no other memory. */
typedef struct {
    uint64_t head, tail;
    uint32_t len;
    uint32_t entry; /* lsprop index within the object + 1; 0: empty */
} lsslot;

typedef struct {
    uint32_t node;        /* schema form, or LS_NONE */
    uint32_t keys, count; /* array form: lsstr entries */
} lsdep;

typedef struct {
    const char *s;
    uint32_t len;
} lsstr;

/* An `if` that only tests one property against a string constant, {properties: {P: {const: "x"}}} with
 * optional required: [P] (how our schemas write discriminated unions): decided without evaluating nodes. */
typedef struct {
    lsstr key, value;
    uint8_t required;
} lscond;

typedef struct {
    PyObject *search; /* bound re.Pattern.search */
    ldfa *dfa;        /* NULL: always ask Python */
} lspat;

struct lschema {
    PyObject *ir, *constants;
    lsnode *nodes;
    uint32_t n_nodes;
    lop *ops;
    size_t n_ops, cap_ops;
    uint32_t *pool;
    size_t n_pool, cap_pool;
    lsobj *objs;
    size_t n_objs, cap_objs;
    lsprop *props;
    size_t n_props, cap_props;
    lsslot *slots;
    size_t n_slots, cap_slots;
    lsdep *deps;
    size_t n_deps, cap_deps;
    lsstr *strs;
    size_t n_strs, cap_strs;
    lspat *pats;
    uint32_t n_pats;
    lscond *conds;
    size_t n_conds, cap_conds;
    ltape consts;
    uint32_t *const_nodes; /* constant k -> node of the constants tape */
    uint32_t n_consts;
};

typedef struct {
    const lschema *s;
    const ltape *t;
    int unsure;
    uint32_t depth;
    /* last discriminator lookup: consecutive `if`s of a union test the same key of the same object */
    uint32_t cached_obj;
    const char *cached_key;
    uint32_t cached_value;
} lsctx;

/* ------------------------------------------------------------------------------------------ helpers */

/* First and last 8 bytes of a key (zero-padded, both the same, when shorter than 8). */
static inline void key_words(const char *s, uint32_t n, uint64_t *head, uint64_t *tail) {
    if (n >= 8) {
        memcpy(head, s, 8);
        memcpy(tail, s + n - 8, 8);
        return;
    }
    uint64_t w = 0;
    for (uint32_t i = 0; i < n; i++) w |= (uint64_t)(unsigned char)s[i] << (8 * i);
    *head = *tail = w;
}

static inline uint32_t key_hash(uint64_t head, uint64_t tail, uint32_t n, uint32_t seed) {
    uint64_t x = head ^ (tail << 29 | tail >> 35) ^ ((uint64_t)n << 56) ^ ((uint64_t)seed * 0x9E3779B97F4A7C15u);
    x *= 0xBF58476D1CE4E5B9u;
    x ^= x >> 31;
    x *= 0x94D049BB133111EBu;
    return (uint32_t)(x >> 32);
}

static inline int is_integral(double d) {
    /* every double of magnitude >= 2^52 is an integer; below, the int64 round trip is exact */
    if (d >= 4503599627370496.0 || d <= -4503599627370496.0) return 1;
    return d == (double)(int64_t)d;
}

/* Sign of (i - d), exactly (Python's int/float comparison). d is finite or infinite, never NaN. */
static inline int cmp_int_double(int64_t i, double d) {
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    int64_t whole = (int64_t)d; /* truncates toward zero; exact in range */
    if (i != whole) return i < whole ? -1 : 1;
    double frac = d - (double)whole;
    return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

/* Sign of (value - bound) */
static inline int cmp_number(const lnode *v, const lop *op) {
    if (v->type == LT_INT) {
        if (!op->is_float) return v->v.i < op->n.i ? -1 : v->v.i > op->n.i;
        return cmp_int_double(v->v.i, op->n.d);
    }
    if (op->is_float) return v->v.d < op->n.d ? -1 : v->v.d > op->n.d;
    return -cmp_int_double(op->n.i, v->v.d);
}

/* re.search(pattern, string) is not None: 1 / 0, or -1 when undecidable (a Python error). */
static int pattern_search(const lschema *s, uint32_t index, const char *text, uint32_t len) {
    const lspat *p = &s->pats[index];
    if (p->dfa) {
        int found = ldfa_search(p->dfa, text, len);
        if (found >= 0) return found;
    }
    PyObject *str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "strict");
    if (!str) {
        PyErr_Clear();
        return -1;
    }
    PyObject *match = PyObject_CallOneArg(p->search, str);
    Py_DECREF(str);
    if (!match) {
        PyErr_Clear();
        return -1;
    }
    int found = match != Py_None;
    Py_DECREF(match);
    return found;
}

static inline int same_bytes(const char *a, const char *b, uint32_t len) {
    if (len && a[0] != b[0]) return 0;
    return memcmp(a, b, len) == 0;
}

static inline const lsprop *find_prop(const lschema *s, const lsobj *o, const char *key, uint32_t len) {
    if (!o->count) return NULL;
    uint64_t head, tail;
    key_words(key, len, &head, &tail);
    const lsslot *table = s->slots + o->table;
    for (uint32_t slot = key_hash(head, tail, len, o->seed) & o->mask;; slot = (slot + 1) & o->mask) {
        const lsslot *e = &table[slot];
        if (!e->entry) return NULL;
        if (e->len == len && e->head == head && e->tail == tail) {
            const lsprop *p = &s->props[o->first + e->entry - 1];
            if (len <= 16 || memcmp(p->key + 8, key + 8, len - 16) == 0) return p;
        }
    }
}

/* Value node of member `key` of object `obj`, or LS_NONE */
static inline uint32_t member(const ltape *t, uint32_t obj, const char *key, uint32_t len) {
    for (uint32_t k = obj + 1; k < t->n[obj].end; k = t->n[k + 1].end)
        if (t->n[k].len == len && same_bytes(t->n[k].v.s, key, len)) return k + 1;
    return LS_NONE;
}

/* The `if` condition of a discriminator test, for an object value. */
static inline int fast_cond(lsctx *c, const lscond *cond, uint32_t vi) {
    uint32_t value;
    if (c->cached_obj == vi && c->cached_key == cond->key.s) {
        value = c->cached_value;
    } else {
        value = member(c->t, vi, cond->key.s, cond->key.len);
        c->cached_obj = vi;
        c->cached_key = cond->key.s;
        c->cached_value = value;
    }
    if (value == LS_NONE) return !cond->required;
    const lnode *v = &c->t->n[value];
    return v->type == LT_STR && v->len == cond->value.len && same_bytes(v->v.s, cond->value.s, v->len);
}

/* ------------------------------------------------------------------------------------------ evaluation */

static inline int ev(lsctx *c, uint32_t ni, uint32_t vi);

static int ev_enum(lsctx *c, const lop *op, uint32_t vi) {
    const lschema *s = c->s;
    const lnode *v = &c->t->n[vi];
    const uint32_t *consts = s->pool + op->a;
    if (v->type == LT_STR) { /* a string only equals a string */
        for (uint32_t k = 0; k < op->b; k++) {
            const lnode *x = &s->consts.n[consts[k]];
            if (x->type == LT_STR && x->len == v->len && memcmp(x->v.s, v->v.s, v->len) == 0) return 1;
        }
        return 0;
    }
    for (uint32_t k = 0; k < op->b; k++)
        if (lt_equal(c->t, vi, &s->consts, consts[k])) return 1;
    return 0;
}

/* jsonschema's uniq(): sorted() then equal() on neighbours, or pairwise equal() when sorting raises
 * TypeError. Sorting raises whenever the array holds null, a boolean or an object, or mixes strings,
 * numbers and arrays, so then (and for all-strings / all-numbers, where sorting is consistent with equal)
 * "duplicates exist" is exact. An all-arrays list with duplicates may sort without error and the
 * neighbour test can then miss them (equal() tells true from 1 inside arrays, sorting does not): unsure. */
static int ev_unique(lsctx *c, uint32_t vi) {
    const ltape *t = c->t;
    const lnode *v = &t->n[vi];
    if (v->len < 2) return 1;
    if (v->len > UNIQUE_PAIRWISE_MAX) {
        c->unsure = 1;
        return 0;
    }
    unsigned classes = 0; /* 1 string, 2 number, 4 array, 8 other */
    int duplicate = 0;
    for (uint32_t e = vi + 1; e < v->end; e = t->n[e].end) {
        uint8_t type = t->n[e].type;
        classes |= type == LT_STR ? 1u : (type == LT_INT || type == LT_FLOAT) ? 2u : type == LT_ARR ? 4u : 8u;
        for (uint32_t f = t->n[e].end; !duplicate && f < v->end; f = t->n[f].end)
            duplicate = lt_equal(t, e, t, f);
    }
    if (!duplicate) return 1;
    if (classes == 4u) c->unsure = 1;
    return 0;
}

static int ev_dependency(lsctx *c, const lsdep *d, uint32_t vi) {
    if (d->node != LS_NONE) return ev(c, d->node, vi);
    for (uint32_t j = 0; j < d->count; j++) {
        const lsstr *need = &c->s->strs[d->keys + j];
        if (member(c->t, vi, need->s, need->len) == LS_NONE) return 0;
    }
    return 1;
}

/* Few schema entries and few members: look each entry up by a scan rather than hashing every key. */
static int ev_object_small(lsctx *c, const lsobj *o, uint32_t vi) {
    const lschema *s = c->s;
    for (uint32_t j = 0; j < o->count; j++) {
        const lsprop *p = &s->props[o->first + j];
        uint32_t value = member(c->t, vi, p->key, p->len);
        if (value == LS_NONE) {
            if (p->required) return 0;
            continue;
        }
        if (p->sub != LS_NONE && !ev(c, p->sub, value)) return 0;
        if (p->dep != LS_NONE && !ev_dependency(c, &s->deps[p->dep], vi)) return 0;
    }
    return 1;
}

static int ev_object(lsctx *c, const lsobj *o, uint32_t vi) {
    const lschema *s = c->s;
    const ltape *t = c->t;
    const lnode *v = &t->n[vi];
    if (v->len < o->n_required) return 0;
    if (o->simple && (uint64_t)o->count * v->len <= 16) return ev_object_small(c, o, vi);
    uint32_t found = 0;
    for (uint32_t k = vi + 1; k < v->end; k = t->n[k + 1].end) {
        const lnode *key = &t->n[k];
        const lsprop *p = find_prop(s, o, key->v.s, key->len);
        if (p) {
            if (p->sub != LS_NONE && !ev(c, p->sub, k + 1)) return 0;
            found += p->required;
            if (p->dep != LS_NONE && !ev_dependency(c, &s->deps[p->dep], vi)) return 0;
        }
        for (uint32_t j = 0; j < o->n_pats; j++) {
            const uint32_t *pair = s->pool + o->pats + 2 * j;
            int match = pattern_search(s, pair[0], key->v.s, key->len);
            if (match < 0) {
                c->unsure = 1;
                return 0;
            }
            if (match && !ev(c, pair[1], k + 1)) return 0;
        }
        if (o->additional != LS_NONE && !(p && p->in_props)) {
            int covered = 0;
            if (o->additional_pattern != LS_NONE) {
                covered = pattern_search(s, o->additional_pattern, key->v.s, key->len);
                if (covered < 0) {
                    c->unsure = 1;
                    return 0;
                }
            }
            if (!covered && (o->additional_false || !ev(c, o->additional, k + 1))) return 0;
        }
        if (o->names != LS_NONE && !ev(c, o->names, k)) return 0;
    }
    return found == o->n_required;
}

static int ev_op(lsctx *c, const lop *op, uint32_t vi) {
    const lschema *s = c->s;
    const ltape *t = c->t;
    const lnode *v = &t->n[vi];
    switch (op->code) {
    case OP_ENUM: return ev_enum(c, op, vi);
    case OP_CONST: {
        const lnode *x = &s->consts.n[op->a];
        if (v->type == LT_STR) return x->type == LT_STR && x->len == v->len && memcmp(x->v.s, v->v.s, v->len) == 0;
        return lt_equal(t, vi, &s->consts, op->a);
    }
    case OP_MINIMUM: return cmp_number(v, op) >= 0;
    case OP_MAXIMUM: return cmp_number(v, op) <= 0;
    case OP_EXCLUSIVE_MINIMUM: return cmp_number(v, op) > 0;
    case OP_EXCLUSIVE_MAXIMUM: return cmp_number(v, op) < 0;
    case OP_MIN_LENGTH: /* code points <= bytes: counted only when the byte length does not decide */
        return (int64_t)v->len >= op->n.i && (!(v->flags & LT_NONASCII) || (int64_t)lt_codepoints(v) >= op->n.i);
    case OP_MAX_LENGTH: return (int64_t)v->len <= op->n.i || (int64_t)lt_codepoints(v) <= op->n.i;
    case OP_PATTERN: {
        int found = pattern_search(s, op->a, v->v.s, v->len);
        if (found < 0) c->unsure = 1;
        return found > 0;
    }
    case OP_MIN_ITEMS:
    case OP_MIN_PROPS: return (int64_t)v->len >= op->n.i;
    case OP_MAX_ITEMS:
    case OP_MAX_PROPS: return (int64_t)v->len <= op->n.i;
    case OP_UNIQUE_ITEMS: return ev_unique(c, vi);
    case OP_ITEMS:
        for (uint32_t e = vi + 1; e < v->end; e = t->n[e].end)
            if (!ev(c, op->a, e)) return 0;
        return 1;
    case OP_TUPLE_ITEMS: {
        uint32_t index = 0, e = vi + 1;
        for (; e < v->end && index < op->b; e = t->n[e].end, index++)
            if (!ev(c, s->pool[op->a + index], e)) return 0;
        if (op->c != LS_NONE)
            for (; e < v->end; e = t->n[e].end)
                if (!ev(c, op->c, e)) return 0;
        return 1;
    }
    case OP_OBJECT: return ev_object(c, &s->objs[op->a], vi);
    case OP_ALL_OF:
        for (uint32_t j = 0; j < op->b; j++)
            if (!ev(c, s->pool[op->a + j], vi)) return 0;
        return 1;
    case OP_ANY_OF:
        for (uint32_t j = 0; j < op->b; j++) {
            if (ev(c, s->pool[op->a + j], vi)) return 1;
            if (c->unsure) return 0;
        }
        return 0;
    case OP_ONE_OF: {
        uint32_t valid = 0;
        for (uint32_t j = 0; j < op->b && valid < 2; j++) {
            valid += (uint32_t)ev(c, s->pool[op->a + j], vi);
            if (c->unsure) return 0;
        }
        return valid == 1;
    }
    case OP_NOT: {
        int inner = ev(c, op->a, vi);
        return !c->unsure && !inner;
    }
    case OP_IF: {
        int cond = op->fast && v->type == LT_OBJ ? fast_cond(c, &s->conds[op->n.i], vi) : ev(c, op->a, vi);
        if (c->unsure) return 0;
        uint32_t next = cond ? op->b : op->c;
        return next == LS_NONE || ev(c, next, vi);
    }
    default: return 0; /* OP_FALSE */
    }
}

static inline int type_ok(const lsnode *n, const lnode *v) {
    return (n->types & (1u << v->type)) || (v->type == LT_FLOAT && (n->types & INTEGRAL_FLOAT) && is_integral(v->v.d));
}

static int ev_node(lsctx *c, const lsnode *n, uint32_t vi);

/* Most schemas are a bare type check: decided here without a call. */
static inline int ev(lsctx *c, uint32_t ni, uint32_t vi) {
    const lsnode *n = &c->s->nodes[ni];
    if (n->leaf) return type_ok(n, &c->t->n[vi]);
    return ev_node(c, n, vi);
}

static int ev_ops(lsctx *c, const lsnode *n, uint32_t vi) {
    const lnode *v = &c->t->n[vi];
    uint8_t type = v->type;
    const lop *ops = c->s->ops;
    for (uint32_t j = n->group[G_CONST]; j < n->group[G_CONST + 1]; j++)
        if (!ev_op(c, &ops[j], vi)) return 0;
    int g = type == LT_STR ? G_STR : type == LT_INT || type == LT_FLOAT ? G_NUM : type == LT_ARR ? G_ARR
          : type == LT_OBJ ? G_OBJ : -1;
    if (g >= 0)
        for (uint32_t j = n->group[g]; j < n->group[g + 1]; j++)
            if (!ev_op(c, &ops[j], vi)) return 0;
    for (uint32_t j = n->group[G_POST]; j < n->group[G_POST + 1]; j++)
        if (!ev_op(c, &ops[j], vi)) return 0;
    return 1;
}

static int ev_node(lsctx *c, const lsnode *n, uint32_t vi) {
    if (!type_ok(n, &c->t->n[vi])) return 0;
    if (++c->depth > MAX_EVAL_DEPTH) {
        c->unsure = 1;
        return 0;
    }
    int ok = ev_ops(c, n, vi);
    c->depth--;
    return ok;
}

int ls_valid(lschema *s, const ltape *t, uint32_t node, uint32_t entry) {
    if (!s || !t || entry >= s->n_nodes || node >= t->count) return 0;
    lsctx c = {s, t, 0, 0, LS_NONE, NULL, LS_NONE};
    int ok = ev(&c, entry, node);
    return ok && !c.unsure;
}

/* ------------------------------------------------------------------------------------------ loading */

static int bad(const char *what) {
    PyErr_Format(PyExc_ValueError, "schema IR: %s", what);
    return 0;
}

static int grow(void **items, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 1;
    size_t next = *cap ? *cap * 2 : 64;
    while (next < need) next *= 2;
    void *p = PyMem_Realloc(*items, next * size);
    if (!p) {
        PyErr_NoMemory();
        return 0;
    }
    *items = p;
    *cap = next;
    return 1;
}
#define GROW(s, name, extra) grow((void **)&(s)->name, &(s)->cap_##name, (s)->n_##name + (extra), sizeof *(s)->name)

static int get_i64(PyObject *o, int64_t *out) {
    if (!PyLong_Check(o) || PyBool_Check(o)) return bad("expected an integer");
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (value == -1 && PyErr_Occurred())) return bad("integer out of range");
    *out = value;
    return 1;
}

/* A node index, or LS_NONE for -1 when `optional`. */
static int get_node(const lschema *s, PyObject *o, int optional, uint32_t *out) {
    int64_t value;
    if (!get_i64(o, &value)) return 0;
    if (value == -1 && optional) {
        *out = LS_NONE;
        return 1;
    }
    if (value < 0 || value >= (int64_t)s->n_nodes) return bad("node index out of range");
    *out = (uint32_t)value;
    return 1;
}

static int get_pattern(const lschema *s, PyObject *o, int optional, uint32_t *out) {
    int64_t value;
    if (!get_i64(o, &value)) return 0;
    if (value == -1 && optional) {
        *out = LS_NONE;
        return 1;
    }
    if (value < 0 || value >= (int64_t)s->n_pats) return bad("pattern index out of range");
    *out = (uint32_t)value;
    return 1;
}

static int get_str(PyObject *o, const char **out, uint32_t *len) {
    if (!PyUnicode_Check(o)) return bad("expected a string");
    Py_ssize_t n;
    const char *text = PyUnicode_AsUTF8AndSize(o, &n); /* cached in the str, which the IR keeps alive */
    if (!text) return 0;
    if ((size_t)n > UINT32_MAX) return bad("string too long");
    *out = text;
    *len = (uint32_t)n;
    return 1;
}

static PyObject *tuple_arg(PyObject *op, Py_ssize_t index) {
    PyObject *item = PyTuple_GET_ITEM(op, index);
    if (!PyTuple_Check(item)) {
        bad("expected a tuple");
        return NULL;
    }
    return item;
}

/* Node indexes of a tuple appended to the pool; first index in *first, count in *count. */
static int load_node_list(lschema *s, PyObject *list, uint32_t *first, uint32_t *count) {
    Py_ssize_t n = PyTuple_GET_SIZE(list);
    if (!GROW(s, pool, (size_t)n)) return 0;
    *first = (uint32_t)s->n_pool;
    *count = (uint32_t)n;
    for (Py_ssize_t j = 0; j < n; j++) {
        uint32_t node;
        if (!get_node(s, PyTuple_GET_ITEM(list, j), 0, &node)) return 0;
        s->pool[s->n_pool++] = node;
    }
    return 1;
}

static lsprop *prop_entry(lschema *s, lsobj *o, const char *key, uint32_t len) {
    for (uint32_t j = 0; j < o->count; j++) {
        lsprop *p = &s->props[o->first + j];
        if (p->len == len && memcmp(p->key, key, len) == 0) return p;
    }
    if (!GROW(s, props, 1)) return NULL;
    lsprop *p = &s->props[s->n_props++];
    o->count++;
    p->key = key;
    p->len = len;
    p->sub = LS_NONE;
    p->dep = LS_NONE;
    p->required = 0;
    p->in_props = 0;
    return p;
}

/* Extra probes the keys take with `seed` in a table of `size` slots (a power of two): 0 is perfect. */
static uint32_t fill_slots(const lschema *s, const lsobj *o, uint32_t seed, uint32_t size, lsslot *table) {
    uint32_t extra = 0;
    memset(table, 0, size * sizeof *table);
    for (uint32_t j = 0; j < o->count; j++) {
        const lsprop *p = &s->props[o->first + j];
        uint64_t head, tail;
        key_words(p->key, p->len, &head, &tail);
        uint32_t slot = key_hash(head, tail, p->len, seed) & (size - 1);
        while (table[slot].entry) {
            slot = (slot + 1) & (size - 1);
            extra++;
        }
        table[slot] = (lsslot){head, tail, p->len, j + 1};
    }
    return extra;
}

/* Open-addressing table over the entries: the seed and size (at most half full) with the fewest probes. */
static int hash_entries(lschema *s, lsobj *o) {
    uint32_t size = 4;
    while (size < 2 * o->count) size *= 2;
    uint32_t best_seed = 0, best_size = size, best = UINT32_MAX;
    if (!GROW(s, slots, 8 * (size_t)size)) return 0;
    lsslot *trial = s->slots + s->n_slots;
    for (uint32_t n = size; n <= 4 * size && best; n *= 2)
        for (uint32_t seed = 0; seed < 64 && best; seed++) {
            uint32_t extra = fill_slots(s, o, seed, n, trial);
            if (extra < best) {
                best = extra;
                best_seed = seed;
                best_size = n;
            }
        }
    o->seed = best_seed;
    o->mask = best_size - 1;
    o->table = (uint32_t)s->n_slots;
    fill_slots(s, o, best_seed, best_size, s->slots + s->n_slots);
    s->n_slots += best_size;
    return 1;
}

/* (OP_OBJECT, properties, required, pattern_properties, additional, additional_pattern, names, deps) */
static int load_object(lschema *s, PyObject *op, uint32_t *index) {
    if (PyTuple_GET_SIZE(op) != 8) return bad("OP_OBJECT takes 7 arguments");
    PyObject *props = tuple_arg(op, 1), *required = tuple_arg(op, 2), *pats = tuple_arg(op, 3),
             *deps = tuple_arg(op, 7);
    if (!props || !required || !pats || !deps) return 0;
    lsobj o;
    memset(&o, 0, sizeof o);
    o.first = (uint32_t)s->n_props;
    if (!get_node(s, PyTuple_GET_ITEM(op, 4), 1, &o.additional) ||
        !get_pattern(s, PyTuple_GET_ITEM(op, 5), 1, &o.additional_pattern) ||
        !get_node(s, PyTuple_GET_ITEM(op, 6), 1, &o.names))
        return 0;
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(props); j++) {
        PyObject *pair = PyTuple_GET_ITEM(props, j);
        const char *key;
        uint32_t len, node;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) return bad("properties: (key, node) pairs");
        if (!get_str(PyTuple_GET_ITEM(pair, 0), &key, &len) || !get_node(s, PyTuple_GET_ITEM(pair, 1), 0, &node))
            return 0;
        lsprop *p = prop_entry(s, &o, key, len);
        if (!p) return 0;
        p->sub = node; /* trivial ones are dropped once every node is loaded (finish_objects) */
        p->in_props = 1;
    }
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(required); j++) {
        const char *key;
        uint32_t len;
        if (!get_str(PyTuple_GET_ITEM(required, j), &key, &len)) return 0;
        lsprop *p = prop_entry(s, &o, key, len);
        if (!p) return 0;
        if (!p->required) o.n_required++;
        p->required = 1;
    }
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(deps); j++) {
        PyObject *pair = PyTuple_GET_ITEM(deps, j);
        const char *key;
        uint32_t len;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) return bad("dependencies: (key, dep) pairs");
        if (!get_str(PyTuple_GET_ITEM(pair, 0), &key, &len)) return 0;
        if (!GROW(s, deps, 1)) return 0;
        lsdep d = {LS_NONE, 0, 0};
        PyObject *dep = PyTuple_GET_ITEM(pair, 1);
        if (PyTuple_Check(dep)) {
            Py_ssize_t n = PyTuple_GET_SIZE(dep);
            if (!GROW(s, strs, (size_t)n)) return 0;
            d.keys = (uint32_t)s->n_strs;
            d.count = (uint32_t)n;
            for (Py_ssize_t i = 0; i < n; i++) {
                lsstr *str = &s->strs[s->n_strs++];
                if (!get_str(PyTuple_GET_ITEM(dep, i), &str->s, &str->len)) return 0;
            }
        } else if (!get_node(s, dep, 0, &d.node)) {
            return 0;
        }
        lsprop *p = prop_entry(s, &o, key, len);
        if (!p) return 0;
        if (p->dep != LS_NONE) return bad("dependencies: repeated key");
        p->dep = (uint32_t)s->n_deps;
        s->deps[s->n_deps++] = d;
    }
    Py_ssize_t n_pats = PyTuple_GET_SIZE(pats);
    if (!GROW(s, pool, 2 * (size_t)n_pats)) return 0;
    o.pats = (uint32_t)s->n_pool;
    o.n_pats = (uint32_t)n_pats;
    for (Py_ssize_t j = 0; j < n_pats; j++) {
        PyObject *pair = PyTuple_GET_ITEM(pats, j);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) return bad("patternProperties: pairs");
        uint32_t pattern, node;
        if (!get_pattern(s, PyTuple_GET_ITEM(pair, 0), 0, &pattern) || !get_node(s, PyTuple_GET_ITEM(pair, 1), 0, &node))
            return 0;
        s->pool[s->n_pool++] = pattern;
        s->pool[s->n_pool++] = node;
    }
    if (!hash_entries(s, &o)) return 0;
    o.simple = !o.n_pats && o.additional == LS_NONE && o.names == LS_NONE;
    if (!GROW(s, objs, 1)) return 0;
    *index = (uint32_t)s->n_objs;
    s->objs[s->n_objs++] = o;
    return 1;
}

static int op_group(uint8_t code) {
    switch (code) {
    case OP_ENUM:
    case OP_CONST: return G_CONST;
    case OP_MINIMUM:
    case OP_MAXIMUM:
    case OP_EXCLUSIVE_MINIMUM:
    case OP_EXCLUSIVE_MAXIMUM: return G_NUM;
    case OP_MIN_LENGTH:
    case OP_MAX_LENGTH:
    case OP_PATTERN: return G_STR;
    case OP_MIN_ITEMS:
    case OP_MAX_ITEMS:
    case OP_UNIQUE_ITEMS:
    case OP_ITEMS:
    case OP_TUPLE_ITEMS: return G_ARR;
    case OP_MIN_PROPS:
    case OP_MAX_PROPS:
    case OP_OBJECT: return G_OBJ;
    default: return G_POST;
    }
}

static uint32_t tape_types(int64_t mask) {
    uint32_t types = 0;
    if (mask & TY_NULL) types |= 1u << LT_NULL;
    if (mask & TY_BOOLEAN) types |= 1u << LT_FALSE | 1u << LT_TRUE;
    if (mask & TY_INTEGER) types |= 1u << LT_INT | INTEGRAL_FLOAT;
    if (mask & TY_NUMBER) types |= 1u << LT_INT | 1u << LT_FLOAT | INTEGRAL_FLOAT;
    if (mask & TY_STRING) types |= 1u << LT_STR;
    if (mask & TY_ARRAY) types |= 1u << LT_ARR;
    if (mask & TY_OBJECT) types |= 1u << LT_OBJ;
    return types;
}

static int load_op(lschema *s, lsnode *node, PyObject *item, lop *op) {
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) < 1) return bad("an op is a non-empty tuple");
    int64_t code;
    if (!get_i64(PyTuple_GET_ITEM(item, 0), &code)) return 0;
    if (code < 0 || code >= OP_COUNT) return bad("unknown opcode");
    static const Py_ssize_t arity[OP_COUNT] = {
        [OP_FALSE] = 0,         [OP_TYPE] = 1,       [OP_ENUM] = 1,      [OP_CONST] = 1,
        [OP_MINIMUM] = 1,       [OP_MAXIMUM] = 1,    [OP_EXCLUSIVE_MINIMUM] = 1,
        [OP_EXCLUSIVE_MAXIMUM] = 1, [OP_MIN_LENGTH] = 1, [OP_MAX_LENGTH] = 1, [OP_PATTERN] = 1,
        [OP_MIN_ITEMS] = 1,     [OP_MAX_ITEMS] = 1,  [OP_UNIQUE_ITEMS] = 0, [OP_ITEMS] = 1,
        [OP_TUPLE_ITEMS] = 2,   [OP_MIN_PROPS] = 1,  [OP_MAX_PROPS] = 1, [OP_OBJECT] = 7,
        [OP_ALL_OF] = 1,        [OP_ANY_OF] = 1,     [OP_ONE_OF] = 1,    [OP_NOT] = 1,
        [OP_IF] = 3,
    };
    if (PyTuple_GET_SIZE(item) != arity[code] + 1) return bad("wrong number of op arguments");
    memset(op, 0, sizeof *op);
    op->code = (uint8_t)code;
    PyObject *arg = arity[code] ? PyTuple_GET_ITEM(item, 1) : NULL;
    switch (code) {
    case OP_FALSE: node->types = 0; return 1;
    case OP_TYPE: {
        int64_t mask;
        if (!get_i64(arg, &mask)) return 0;
        node->types &= tape_types(mask);
        return 1;
    }
    case OP_ENUM: {
        if (!PyTuple_Check(arg)) return bad("enum: a tuple of constants");
        Py_ssize_t n = PyTuple_GET_SIZE(arg);
        if (!GROW(s, pool, (size_t)n)) return 0;
        op->a = (uint32_t)s->n_pool;
        op->b = (uint32_t)n;
        for (Py_ssize_t j = 0; j < n; j++) {
            int64_t k;
            if (!get_i64(PyTuple_GET_ITEM(arg, j), &k)) return 0;
            if (k < 0 || k >= (int64_t)s->n_consts) return bad("constant index out of range");
            s->pool[s->n_pool++] = s->const_nodes[k];
        }
        return 1;
    }
    case OP_CONST: {
        int64_t k;
        if (!get_i64(arg, &k)) return 0;
        if (k < 0 || k >= (int64_t)s->n_consts) return bad("constant index out of range");
        op->a = s->const_nodes[k];
        return 1;
    }
    case OP_MINIMUM:
    case OP_MAXIMUM:
    case OP_EXCLUSIVE_MINIMUM:
    case OP_EXCLUSIVE_MAXIMUM:
        if (PyFloat_Check(arg)) {
            op->is_float = 1;
            op->n.d = PyFloat_AS_DOUBLE(arg);
            if (op->n.d != op->n.d) return bad("NaN bound");
            return 1;
        }
        return get_i64(arg, &op->n.i);
    case OP_MIN_LENGTH:
    case OP_MAX_LENGTH:
    case OP_MIN_ITEMS:
    case OP_MAX_ITEMS:
    case OP_MIN_PROPS:
    case OP_MAX_PROPS: return get_i64(arg, &op->n.i);
    case OP_PATTERN: return get_pattern(s, arg, 0, &op->a);
    case OP_UNIQUE_ITEMS: return 1;
    case OP_ITEMS:
    case OP_NOT: return get_node(s, arg, 0, &op->a);
    case OP_TUPLE_ITEMS:
        if (!PyTuple_Check(arg)) return bad("items: a tuple of nodes");
        return load_node_list(s, arg, &op->a, &op->b) && get_node(s, PyTuple_GET_ITEM(item, 2), 1, &op->c);
    case OP_OBJECT: return load_object(s, item, &op->a);
    case OP_ALL_OF:
    case OP_ANY_OF:
    case OP_ONE_OF:
        if (!PyTuple_Check(arg)) return bad("allOf/anyOf/oneOf: a tuple of nodes");
        return load_node_list(s, arg, &op->a, &op->b);
    case OP_IF:
        return get_node(s, arg, 0, &op->a) && get_node(s, PyTuple_GET_ITEM(item, 2), 1, &op->b) &&
               get_node(s, PyTuple_GET_ITEM(item, 3), 1, &op->c);
    }
    return bad("unknown opcode");
}

static int load_constants(lschema *s, PyObject *blob) {
    if (!PyBytes_Check(blob)) return bad("constants must be bytes");
    s->constants = Py_NewRef(blob); /* the constants tape points into it */
    if (lt_parse_document(&s->consts, PyBytes_AS_STRING(blob), (size_t)PyBytes_GET_SIZE(blob)) != LT_OK)
        return bad("constants are not plain JSON");
    if (s->consts.count == 0 || s->consts.n[0].type != LT_ARR) return bad("constants must be a JSON array");
    s->n_consts = s->consts.n[0].len;
    s->const_nodes = PyMem_Malloc((s->n_consts ? s->n_consts : 1) * sizeof *s->const_nodes);
    if (!s->const_nodes) {
        PyErr_NoMemory();
        return 0;
    }
    uint32_t k = 0;
    for (uint32_t e = 1; e < s->consts.n[0].end; e = s->consts.n[e].end) s->const_nodes[k++] = e;
    return 1;
}

static int load_patterns(lschema *s, PyObject *patterns) {
    if (!PyTuple_Check(patterns)) return bad("patterns must be a tuple");
    Py_ssize_t n = PyTuple_GET_SIZE(patterns);
    s->pats = PyMem_Calloc(n ? (size_t)n : 1, sizeof *s->pats);
    if (!s->pats) {
        PyErr_NoMemory();
        return 0;
    }
    s->n_pats = (uint32_t)n;
    for (Py_ssize_t j = 0; j < n; j++) {
        PyObject *entry = PyTuple_GET_ITEM(patterns, j);
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 3) return bad("pattern: (source, re.Pattern, tables)");
        s->pats[j].search = PyObject_GetAttrString(PyTuple_GET_ITEM(entry, 1), "search");
        if (!s->pats[j].search) return 0;
        PyObject *tables = PyTuple_GET_ITEM(entry, 2);
        if (tables != Py_None) {
            s->pats[j].dfa = ldfa_build(tables);
            if (!s->pats[j].dfa) return 0;
        }
    }
    return 1;
}

static int load_nodes(lschema *s, PyObject *nodes) {
    Py_ssize_t n = PyTuple_GET_SIZE(nodes);
    /* a node's ops, bucketed by group before they are appended in group order */
    lop *scratch = NULL;
    size_t cap_scratch = 0;
    int ok = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        lsnode *node = &s->nodes[i];
        PyObject *ops = PyTuple_GET_ITEM(nodes, i);
        if (!PyTuple_Check(ops)) {
            bad("a node is a tuple of ops");
            goto done;
        }
        Py_ssize_t count = PyTuple_GET_SIZE(ops);
        if (!grow((void **)&scratch, &cap_scratch, (size_t)count, sizeof *scratch)) goto done;
        node->types = ALL_TYPES;
        size_t kept = 0;
        for (Py_ssize_t j = 0; j < count; j++) {
            PyObject *item = PyTuple_GET_ITEM(ops, j);
            if (!load_op(s, node, item, &scratch[kept])) goto done;
            if (scratch[kept].code != OP_FALSE && scratch[kept].code != OP_TYPE) kept++;
        }
        if (!GROW(s, ops, kept)) goto done;
        for (int g = 0; g < G_COUNT; g++) {
            node->group[g] = (uint32_t)s->n_ops;
            for (size_t j = 0; j < kept; j++)
                if (op_group(scratch[j].code) == g) s->ops[s->n_ops++] = scratch[j];
        }
        node->group[G_COUNT] = (uint32_t)s->n_ops;
        node->leaf = kept == 0;
        node->trivial = node->leaf && node->types == ALL_TYPES;
    }
    ok = 1;
done:
    PyMem_Free(scratch);
    return ok;
}

/* Whether node `ni` is {properties: {P: {const: "x"}}, required: [P] or nothing}, with nothing else. */
static int discriminator(const lschema *s, uint32_t ni, lscond *out) {
    const lsnode *n = &s->nodes[ni];
    if (n->types != ALL_TYPES || n->group[G_COUNT] - n->group[0] != 1 || n->group[G_OBJ + 1] - n->group[G_OBJ] != 1)
        return 0;
    const lop *op = &s->ops[n->group[G_OBJ]];
    if (op->code != OP_OBJECT) return 0;
    const lsobj *o = &s->objs[op->a];
    if (o->count != 1 || o->n_pats || o->additional != LS_NONE || o->names != LS_NONE) return 0;
    const lsprop *p = &s->props[o->first];
    if (p->dep != LS_NONE || p->sub == LS_NONE || !p->in_props) return 0;
    const lsnode *sub = &s->nodes[p->sub];
    if (sub->types != ALL_TYPES || sub->group[G_COUNT] - sub->group[0] != 1 ||
        sub->group[G_CONST + 1] - sub->group[G_CONST] != 1)
        return 0;
    const lop *k = &s->ops[sub->group[G_CONST]];
    if (k->code != OP_CONST || s->consts.n[k->a].type != LT_STR) return 0;
    out->key.s = p->key;
    out->key.len = p->len;
    out->value.s = s->consts.n[k->a].v.s;
    out->value.len = s->consts.n[k->a].len;
    out->required = p->required;
    return 1;
}

/* What needs every node loaded: skip always-valid property schemas, spot additionalProperties: false,
 * recognise discriminator tests. */
static int finish(lschema *s) {
    for (size_t j = 0; j < s->n_props; j++)
        if (s->props[j].sub != LS_NONE && s->nodes[s->props[j].sub].trivial) s->props[j].sub = LS_NONE;
    for (size_t j = 0; j < s->n_objs; j++) {
        lsobj *o = &s->objs[j];
        o->additional_false = o->additional != LS_NONE && s->nodes[o->additional].types == 0;
    }
    for (size_t j = 0; j < s->n_ops; j++) {
        lscond cond;
        if (s->ops[j].code != OP_IF || !discriminator(s, s->ops[j].a, &cond)) continue;
        if (!GROW(s, conds, 1)) return 0;
        s->ops[j].fast = 1;
        s->ops[j].n.i = (int64_t)s->n_conds;
        s->conds[s->n_conds++] = cond;
    }
    return 1;
}

lschema *ls_build(PyObject *ir) {
    PyObject *owned = NULL;
    if (!PyTuple_Check(ir)) { /* a Program: use its `ir` */
        owned = PyObject_GetAttrString(ir, "ir");
        if (!owned) return NULL;
        ir = owned;
    }
    lschema *s = PyMem_Calloc(1, sizeof *s);
    if (!s) {
        Py_XDECREF(owned);
        PyErr_NoMemory();
        return NULL;
    }
    lt_init(&s->consts);
    s->ir = Py_NewRef(ir);
    Py_XDECREF(owned);
    if (!PyTuple_Check(ir) || PyTuple_GET_SIZE(ir) != 5) {
        bad("expected (\"lsir\", version, nodes, constants, patterns)");
        goto fail;
    }
    PyObject *magic = PyTuple_GET_ITEM(ir, 0), *version = PyTuple_GET_ITEM(ir, 1),
             *nodes = PyTuple_GET_ITEM(ir, 2);
    if (!PyUnicode_Check(magic) || PyUnicode_CompareWithASCIIString(magic, "lsir") != 0) {
        bad("not a schema program");
        goto fail;
    }
    if (!PyLong_Check(version) || PyLong_AsLong(version) != IR_VERSION) {
        PyErr_Clear();
        bad("unsupported IR version");
        goto fail;
    }
    if (!PyTuple_Check(nodes) || PyTuple_GET_SIZE(nodes) == 0 || PyTuple_GET_SIZE(nodes) >= (Py_ssize_t)LS_NONE) {
        bad("nodes must be a non-empty tuple");
        goto fail;
    }
    s->n_nodes = (uint32_t)PyTuple_GET_SIZE(nodes);
    s->nodes = PyMem_Calloc(s->n_nodes, sizeof *s->nodes);
    if (!s->nodes) {
        PyErr_NoMemory();
        goto fail;
    }
    if (!load_constants(s, PyTuple_GET_ITEM(ir, 3)) || !load_patterns(s, PyTuple_GET_ITEM(ir, 4)) ||
        !load_nodes(s, nodes) || !finish(s))
        goto fail;
    return s;
fail:
    ls_free(s);
    return NULL;
}

void ls_free(lschema *s) {
    if (!s) return;
    for (uint32_t j = 0; s->pats && j < s->n_pats; j++) {
        Py_XDECREF(s->pats[j].search);
        ldfa_free(s->pats[j].dfa);
    }
    PyMem_Free(s->pats);
    PyMem_Free(s->nodes);
    PyMem_Free(s->ops);
    PyMem_Free(s->pool);
    PyMem_Free(s->objs);
    PyMem_Free(s->props);
    PyMem_Free(s->deps);
    PyMem_Free(s->strs);
    PyMem_Free(s->slots);
    PyMem_Free(s->conds);
    PyMem_Free(s->const_nodes);
    lt_free(&s->consts);
    Py_XDECREF(s->constants);
    Py_XDECREF(s->ir);
    PyMem_Free(s);
}
