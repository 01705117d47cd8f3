/* The Encord rules that need the ontology, as a clean decider over one label row (see encord_ontology.h).
 *
 * Mirrors validator/rules/encord_index.py and encord_ontology.py (every site is tagged with the rule id and
 * the Python function it mirrors): the row index (_index_row: frame objects and classifications of the
 * data units and spaces, object_features, classification_features, range objects), the answer lists
 * (_answer_lists / _answered) and the rules ENC-OBJECT-FEATURE-UNKNOWN, ENC-CLASSIFICATION-FEATURE-UNKNOWN,
 * ENC-SHAPE-MISMATCH, ENC-ATTRIBUTE-UNKNOWN, ENC-OPTION-UNKNOWN, ENC-ANSWER-TYPE-MISMATCH,
 * ENC-RADIO-ANSWER-COUNT, ENC-NESTED-ANSWER-UNSELECTED, ENC-DYNAMIC-ANSWER-STATIC,
 * ENC-DYNAMIC-ANSWER-OVERRIDDEN, ENC-REQUIRED-ATTRIBUTE-UNANSWERED and ENC-SKELETON-TEMPLATE-MISMATCH (point
 * count and point featureHashes against the class's skeleton template). It reads defensively, as the
 * reference does, so it never relies on the row being structurally valid. What it does not model: owner
 * lookups by str() of a float, list or object featureHash (`ontology.objects.get(str(x))`), and a ranged
 * dynamic answer in object_answers (ENC-DYNAMIC-ANSWER-OVERRIDDEN compares it with object_actions): 0.
 *
 * The ontology (validator/native/encord_ontology.py tables) is interned once: every string gets a sid,
 * and (owner, attribute sid), (attribute, option sid), (owner, option sid) pairs live in one hash table.
 * Per row, a small string map (reset by a generation counter, so no clearing and no malloc once warm)
 * holds objectHash / classificationHash -> first featureHash, range-object and seen flags, and the
 * answer entries of each instance.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encord_ontology.h"

enum { AT_OTHER = 0, AT_RADIO = 1, AT_CHECKLIST = 2, AT_TEXT = 3, AT_NUMERIC = 4 };

/* data_type, as far as the reference distinguishes it */
enum { DT_OTHER, DT_IMAGE, DT_IMG_GROUP, DT_GROUP, DT_AUDIO, DT_PLAIN_TEXT, DT_FRAME_KEYED };

/* pair-table tags */
enum { PT_OWNER_ATTR = 1, PT_ATTR_OPTION = 2, PT_OWNER_NESTED = 3 };

/* where an answer entry comes from */
enum { SEC_OBJECT_ANSWERS, SEC_OBJECT_ACTIONS, SEC_CLASSIFICATION_ANSWERS };

/* per-row map namespaces */
enum { NS_OBJECT = 1, NS_CLASSIFICATION = 2 };

#define NO_INDEX UINT32_MAX

typedef struct {
    int32_t hash_sid;
    int32_t parent_sid; /* the radio option it hangs under, -1 when top level */
    uint8_t type, required, dynamic;
    uint32_t opt_start, opt_count; /* option sids in pool */
} lattr;

typedef struct {
    int32_t shape_sid; /* -1: the class has no shape */
    uint32_t top_start, top_count; /* attribute indexes in pool */
    uint8_t any_required;          /* some attribute of its tree is required */
    int32_t skel_count;            /* points of its skeleton template, -1: none */
    uint32_t skel_start, skel_n;   /* the template's point featureHash sids in pool */
} lowner;

typedef struct {
    uint32_t start, count;
} lspan;

typedef struct {
    const char *s;
    uint32_t len, hash;
    uint8_t ns, range, seen;
    uint32_t feat; /* tape node: first featureHash (object_features / classification_features) */
    uint32_t head; /* first answer entry (links) */
} ritem;

typedef struct {
    uint32_t gen, item;
} rslot;

typedef struct {
    uint32_t node, next;
    uint8_t section;
} rlink;

typedef struct {
    uint32_t item;
    int32_t owner;
} rinst;

const char *const LONTO_RULE_IDS[] = {
    "ENC-OBJECT-FEATURE-UNKNOWN", /* mirrors validator/rules/encord_ontology.py::object_feature_unknown */
    "ENC-CLASSIFICATION-FEATURE-UNKNOWN", /* mirrors validator/rules/encord_ontology.py::classification_feature_unknown */
    "ENC-SHAPE-MISMATCH", /* mirrors validator/rules/encord_ontology.py::shape_mismatch */
    "ENC-ATTRIBUTE-UNKNOWN", /* mirrors validator/rules/encord_ontology.py::attribute_unknown */
    "ENC-OPTION-UNKNOWN", /* mirrors validator/rules/encord_ontology.py::option_unknown */
    "ENC-ANSWER-TYPE-MISMATCH", /* mirrors validator/rules/encord_ontology.py::answer_type_mismatch */
    "ENC-RADIO-ANSWER-COUNT", /* mirrors validator/rules/encord_ontology.py::radio_answer_count */
    "ENC-NESTED-ANSWER-UNSELECTED", /* mirrors validator/rules/encord_ontology.py::nested_answer_unselected */
    "ENC-DYNAMIC-ANSWER-STATIC", /* mirrors validator/rules/encord_ontology.py::dynamic_answer_static */
    "ENC-DYNAMIC-ANSWER-OVERRIDDEN", /* mirrors validator/rules/encord_ontology.py::dynamic_answer_overridden */
    "ENC-REQUIRED-ATTRIBUTE-UNANSWERED", /* mirrors validator/rules/encord_ontology.py::required_attribute_unanswered */
    "ENC-SKELETON-TEMPLATE-MISMATCH", /* mirrors validator/rules/encord_ontology.py::skeleton_template_mismatch */
    NULL,
};

struct lonto {
    int present;
    int unknown_rules; /* the tables name a rule this decider does not mirror: never clean */
    /* interned ontology strings */
    int32_t nstr;
    char *bytes;
    uint32_t *str_off, *str_len;
    int32_t *str_slots; /* sid or -1 */
    uint32_t str_mask;
    int32_t *obj_owner, *cls_owner; /* by sid: owner index or -1 */
    int32_t sid_none, sid_true, sid_false;
    /* owners and attributes */
    lowner *owners;
    int32_t nowners;
    lattr *attrs;
    int32_t nattrs;
    uint32_t *pool;
    uint32_t npool, cap_pool;
    lspan *nested;
    uint32_t nnested, cap_nested;
    uint64_t *pair_keys;
    uint32_t *pair_vals;
    uint32_t pair_mask, npairs;
    /* scratch, reused across rows */
    uint32_t *mark; /* by sid: answered features / selected options of the current generation */
    uint32_t mark_gen;
    uint32_t *visit; /* by attribute */
    uint32_t visit_gen;
    uint32_t *stack;
    rslot *rslots;
    uint32_t rmask, rgen;
    ritem *items;
    uint32_t nitems, cap_items;
    rlink *links;
    uint32_t nlinks, cap_links;
    rinst *insts;
    uint32_t ninsts, cap_insts;
};

/* ------------------------------------------------------------------------------------------- hashing */

static inline uint32_t str_hash(const char *s, uint32_t n) {
    return (uint32_t)((lt_hash(s, n) * 0x9E3779B97F4A7C15ull) >> 32);
}

static inline uint32_t pair_hash(uint64_t key) { return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32); }

static inline uint64_t pair_key(unsigned tag, uint32_t a, uint32_t sid) {
    return ((uint64_t)tag << 62) | ((uint64_t)a << 31) | sid;
}

static int32_t sid_lookup(const lonto *o, const char *s, uint32_t len) {
    if (!o->str_slots) return -1;
    for (uint32_t i = str_hash(s, len) & o->str_mask;; i = (i + 1) & o->str_mask) {
        int32_t sid = o->str_slots[i];
        if (sid < 0) return -1;
        if (o->str_len[sid] == len && memcmp(o->bytes + o->str_off[sid], s, len) == 0) return sid;
    }
}

static inline int32_t sid_of(const lonto *o, const lnode *str) { return sid_lookup(o, str->v.s, str->len); }

static uint32_t pair_get(const lonto *o, uint64_t key) {
    if (!o->pair_keys) return NO_INDEX;
    for (uint32_t i = pair_hash(key) & o->pair_mask;; i = (i + 1) & o->pair_mask) {
        if (o->pair_keys[i] == key) return o->pair_vals[i];
        if (o->pair_keys[i] == 0) return NO_INDEX;
    }
}

/* 0: already present (first value kept, as the reference's first-wins dicts); 1: added; -1: the table is
 * full (size_pairs undercounted), which would otherwise make the probe loop forever. */
static int pair_put(lonto *o, uint64_t key, uint32_t value) {
    if (o->npairs >= o->pair_mask) return -1;
    for (uint32_t i = pair_hash(key) & o->pair_mask;; i = (i + 1) & o->pair_mask) {
        if (o->pair_keys[i] == key) return 0;
        if (o->pair_keys[i] == 0) {
            o->pair_keys[i] = key;
            o->pair_vals[i] = value;
            o->npairs++;
            return 1;
        }
    }
}

/* -------------------------------------------------------------------------------- building the tables */

static int bad_tables(const char *why) {
    PyErr_Format(PyExc_ValueError, "EncordOntology tables: %s", why);
    return 0;
}

/* An index in [lo, limit) (lo is -1 for "none" or 0). */
static int get_index(PyObject *value, long lo, long limit, long *out) {
    if (!PyLong_Check(value)) return bad_tables("an index is not an int");
    long v = PyLong_AsLong(value);
    if (v == -1 && PyErr_Occurred()) return 0;
    if (v < lo || v >= limit) return bad_tables("an index is out of range");
    *out = v;
    return 1;
}

static PyObject *get_item(PyObject *dict, const char *key) {
    PyObject *value = PyDict_GetItemString(dict, key); /* borrowed */
    if (!value) bad_tables(key);
    return value;
}

static int pool_push(lonto *o, uint32_t value) {
    if (o->npool == o->cap_pool) {
        uint32_t cap = o->cap_pool ? o->cap_pool * 2 : 256;
        uint32_t *pool = realloc(o->pool, (size_t)cap * sizeof *pool);
        if (!pool) return (PyErr_NoMemory(), 0);
        o->pool = pool;
        o->cap_pool = cap;
    }
    o->pool[o->npool++] = value;
    return 1;
}

static uint32_t pow2_at_least(size_t n) {
    uint32_t cap = 16;
    while (cap < n) cap <<= 1;
    return cap;
}

static int build_strings(lonto *o, PyObject *strings) {
    PyObject *seq = PySequence_Fast(strings, "strings must be a list");
    if (!seq) return 0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    int ok = 0;
    if (n >= INT32_MAX / 4) {
        bad_tables("too many strings");
        goto done;
    }
    size_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyBytes_Check(item)) {
            bad_tables("a string is not bytes");
            goto done;
        }
        total += (size_t)PyBytes_GET_SIZE(item);
    }
    if (total >= UINT32_MAX) {
        bad_tables("strings too long");
        goto done;
    }
    uint32_t cap = pow2_at_least((size_t)n * 2 + 1);
    o->nstr = (int32_t)n;
    o->bytes = malloc(total ? total : 1);
    o->str_off = malloc(((size_t)n + 1) * sizeof *o->str_off);
    o->str_len = malloc(((size_t)n + 1) * sizeof *o->str_len);
    o->str_slots = malloc((size_t)cap * sizeof *o->str_slots);
    o->obj_owner = malloc(((size_t)n + 1) * sizeof *o->obj_owner);
    o->cls_owner = malloc(((size_t)n + 1) * sizeof *o->cls_owner);
    o->mark = calloc((size_t)n + 1, sizeof *o->mark);
    if (!o->bytes || !o->str_off || !o->str_len || !o->str_slots || !o->obj_owner || !o->cls_owner || !o->mark) {
        PyErr_NoMemory();
        goto done;
    }
    o->str_mask = cap - 1;
    memset(o->str_slots, 0xff, (size_t)cap * sizeof *o->str_slots);
    size_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        uint32_t len = (uint32_t)PyBytes_GET_SIZE(item);
        memcpy(o->bytes + at, PyBytes_AS_STRING(item), len);
        o->str_off[i] = (uint32_t)at;
        o->str_len[i] = len;
        o->obj_owner[i] = o->cls_owner[i] = -1;
        if (sid_lookup(o, o->bytes + at, len) >= 0) {
            bad_tables("a string is listed twice");
            goto done;
        }
        uint32_t slot = str_hash(o->bytes + at, len) & o->str_mask;
        while (o->str_slots[slot] >= 0) slot = (slot + 1) & o->str_mask;
        o->str_slots[slot] = (int32_t)i;
        at += len;
    }
    o->sid_none = sid_lookup(o, "None", 4);
    o->sid_true = sid_lookup(o, "True", 4);
    o->sid_false = sid_lookup(o, "False", 5);
    ok = 1;
done:
    Py_DECREF(seq);
    return ok;
}

/* objects / classifications: [(sid, owner)] */
static int build_owner_map(lonto *o, PyObject *entries, int32_t *by_sid) {
    PyObject *seq = PySequence_Fast(entries, "objects / classifications must be lists");
    if (!seq) return 0;
    int ok = 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *pair = PySequence_Fast_GET_ITEM(seq, i);
        long sid, owner;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            bad_tables("an owner entry is not a pair");
            goto done;
        }
        if (!get_index(PyTuple_GET_ITEM(pair, 0), 0, o->nstr, &sid) ||
            !get_index(PyTuple_GET_ITEM(pair, 1), 0, o->nowners, &owner))
            goto done;
        if (by_sid[sid] < 0) by_sid[sid] = (int32_t)owner;
    }
    ok = 1;
done:
    Py_DECREF(seq);
    return ok;
}

/* A list of indexes in [0, limit) appended to the pool; *start / *count describe it. */
static int pool_list(lonto *o, PyObject *list, long limit, uint32_t *start, uint32_t *count) {
    PyObject *seq = PySequence_Fast(list, "an index list must be a list");
    if (!seq) return 0;
    int ok = 0;
    *start = o->npool;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        long v;
        if (!get_index(PySequence_Fast_GET_ITEM(seq, i), 0, limit, &v) || !pool_push(o, (uint32_t)v)) goto done;
    }
    *count = o->npool - *start;
    ok = 1;
done:
    Py_DECREF(seq);
    return ok;
}

static int build_attributes(lonto *o, PyObject *entries) {
    PyObject *seq = PySequence_Fast(entries, "attributes must be a list");
    if (!seq) return 0;
    int ok = 0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n >= INT32_MAX / 4) {
        bad_tables("too many attributes");
        goto done;
    }
    o->nattrs = (int32_t)n;
    o->attrs = calloc((size_t)n + 1, sizeof *o->attrs);
    o->visit = calloc((size_t)n + 1, sizeof *o->visit);
    o->stack = malloc(((size_t)n + 1) * sizeof *o->stack);
    if (!o->attrs || !o->visit || !o->stack) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        long hash, type, parent;
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 6) {
            bad_tables("an attribute is not a 6-tuple");
            goto done;
        }
        lattr *a = &o->attrs[i];
        int required = PyObject_IsTrue(PyTuple_GET_ITEM(item, 2));
        int dynamic = PyObject_IsTrue(PyTuple_GET_ITEM(item, 3));
        if (required < 0 || dynamic < 0) goto done;
        if (!get_index(PyTuple_GET_ITEM(item, 0), 0, o->nstr, &hash) ||
            !get_index(PyTuple_GET_ITEM(item, 1), 0, AT_NUMERIC + 1, &type) ||
            !get_index(PyTuple_GET_ITEM(item, 4), -1, o->nstr, &parent) ||
            !pool_list(o, PyTuple_GET_ITEM(item, 5), o->nstr, &a->opt_start, &a->opt_count))
            goto done;
        a->hash_sid = (int32_t)hash;
        a->type = (uint8_t)type;
        a->required = (uint8_t)required;
        a->dynamic = (uint8_t)dynamic;
        a->parent_sid = (int32_t)parent;
    }
    ok = 1;
done:
    Py_DECREF(seq);
    return ok;
}

/* owners: [(shape_sid, top, [(sid, attr)], [(option_sid, [attr])], skeleton)], skeleton -1 or
 * (point count, [point featureHash sid]); also fills the pair table. */
static int build_owners(lonto *o, PyObject *entries) {
    PyObject *seq = PySequence_Fast(entries, "owners must be a list");
    if (!seq) return 0;
    int ok = 0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        long shape;
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 5) {
            bad_tables("an owner is not a 5-tuple");
            goto done;
        }
        lowner *w = &o->owners[i];
        if (!get_index(PyTuple_GET_ITEM(item, 0), -1, o->nstr, &shape) ||
            !pool_list(o, PyTuple_GET_ITEM(item, 1), o->nattrs, &w->top_start, &w->top_count))
            goto done;
        w->shape_sid = (int32_t)shape;
        w->skel_count = -1;
        PyObject *skeleton = PyTuple_GET_ITEM(item, 4);
        if (PyTuple_Check(skeleton)) {
            long count;
            if (PyTuple_GET_SIZE(skeleton) != 2 || !get_index(PyTuple_GET_ITEM(skeleton, 0), 0, INT32_MAX, &count) ||
                !pool_list(o, PyTuple_GET_ITEM(skeleton, 1), o->nstr, &w->skel_start, &w->skel_n)) {
                if (!PyErr_Occurred()) bad_tables("an owner skeleton is not (count, [sid])");
                goto done;
            }
            w->skel_count = (int32_t)count;
        }
        PyObject *by_hash = PySequence_Fast(PyTuple_GET_ITEM(item, 2), "owner attributes must be a list");
        if (!by_hash) goto done;
        for (Py_ssize_t k = 0; k < PySequence_Fast_GET_SIZE(by_hash); k++) {
            PyObject *pair = PySequence_Fast_GET_ITEM(by_hash, k);
            long sid, attr;
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
                !get_index(PyTuple_GET_ITEM(pair, 0), 0, o->nstr, &sid) ||
                !get_index(PyTuple_GET_ITEM(pair, 1), 0, o->nattrs, &attr)) {
                if (!PyErr_Occurred()) bad_tables("an owner attribute is not a pair");
                Py_DECREF(by_hash);
                goto done;
            }
            if (pair_put(o, pair_key(PT_OWNER_ATTR, (uint32_t)i, (uint32_t)sid), (uint32_t)attr) < 0) {
                bad_tables("the pair table is full");
                Py_DECREF(by_hash);
                goto done;
            }
            if (o->attrs[attr].required) w->any_required = 1;
        }
        Py_DECREF(by_hash);
        PyObject *nested = PySequence_Fast(PyTuple_GET_ITEM(item, 3), "owner nested must be a list");
        if (!nested) goto done;
        for (Py_ssize_t k = 0; k < PySequence_Fast_GET_SIZE(nested); k++) {
            PyObject *pair = PySequence_Fast_GET_ITEM(nested, k);
            long sid;
            lspan span;
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
                !get_index(PyTuple_GET_ITEM(pair, 0), 0, o->nstr, &sid) ||
                !pool_list(o, PyTuple_GET_ITEM(pair, 1), o->nattrs, &span.start, &span.count)) {
                if (!PyErr_Occurred()) bad_tables("an owner nested entry is not a pair");
                Py_DECREF(nested);
                goto done;
            }
            for (uint32_t j = 0; j < span.count; j++)
                if (o->attrs[o->pool[span.start + j]].required) w->any_required = 1;
            if (o->nnested == o->cap_nested) {
                uint32_t cap = o->cap_nested ? o->cap_nested * 2 : 64;
                lspan *grown = realloc(o->nested, (size_t)cap * sizeof *grown);
                if (!grown) {
                    PyErr_NoMemory();
                    Py_DECREF(nested);
                    goto done;
                }
                o->nested = grown;
                o->cap_nested = cap;
            }
            int added = pair_put(o, pair_key(PT_OWNER_NESTED, (uint32_t)i, (uint32_t)sid), o->nnested);
            if (added < 0) {
                bad_tables("the pair table is full");
                Py_DECREF(nested);
                goto done;
            }
            if (added) o->nested[o->nnested++] = span;
        }
        Py_DECREF(nested);
        for (uint32_t j = 0; j < w->top_count; j++)
            if (o->attrs[o->pool[w->top_start + j]].required) w->any_required = 1;
    }
    ok = 1;
done:
    Py_DECREF(seq);
    return ok;
}

/* Room in the pair table for every (owner, attribute), (attribute, option) and (owner, option) pair. */
static int size_pairs(lonto *o, PyObject *owners, PyObject *attributes) {
    size_t count = 0;
    Py_ssize_t n = PyList_Check(owners) ? PyList_GET_SIZE(owners) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(owners, i);
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 5) { /* build_owners refuses other shapes */
            Py_ssize_t a = PyObject_Length(PyTuple_GET_ITEM(item, 2));
            Py_ssize_t b = PyObject_Length(PyTuple_GET_ITEM(item, 3));
            if (a < 0 || b < 0) return 0;
            count += (size_t)a + (size_t)b;
        }
    }
    n = PyList_Check(attributes) ? PyList_GET_SIZE(attributes) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(attributes, i);
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 6) {
            Py_ssize_t a = PyObject_Length(PyTuple_GET_ITEM(item, 5));
            if (a < 0) return 0;
            count += (size_t)a;
        }
    }
    if (count >= (1u << 30)) return bad_tables("too many pairs");
    uint32_t cap = pow2_at_least(count * 2 + 1);
    o->pair_keys = calloc(cap, sizeof *o->pair_keys);
    o->pair_vals = calloc(cap, sizeof *o->pair_vals);
    if (!o->pair_keys || !o->pair_vals) return (PyErr_NoMemory(), 0);
    o->pair_mask = cap - 1;
    return 1;
}

lonto *lonto_build(PyObject *tables) {
    lonto *o = calloc(1, sizeof *o);
    if (!o) return (PyErr_NoMemory(), NULL);
    o->sid_none = o->sid_true = o->sid_false = -1;
    if (!PyDict_Check(tables)) {
        bad_tables("not a dict");
        goto fail;
    }
    PyObject *version = get_item(tables, "version");
    if (!version) goto fail;
    if (!PyLong_Check(version) || PyLong_AsLong(version) != 2) {
        bad_tables("unknown version");
        goto fail;
    }
    PyObject *present = get_item(tables, "present");
    if (!present) goto fail;
    int is_present = PyObject_IsTrue(present);
    if (is_present < 0) goto fail;
    o->present = is_present;
    if (!o->present) return o;
    PyObject *rules = get_item(tables, "rules");
    if (!rules) goto fail;
    if (!PyList_Check(rules)) {
        bad_tables("rules is not a list");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rules); i++) {
        PyObject *item = PyList_GET_ITEM(rules, i);
        const char *id = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
        if (!id) {
            if (!PyErr_Occurred()) bad_tables("a rule id is not a str");
            goto fail;
        }
        int known = 0;
        for (int j = 0; LONTO_RULE_IDS[j] && !known; j++) known = strcmp(id, LONTO_RULE_IDS[j]) == 0;
        if (!known) o->unknown_rules = 1;
    }
    PyObject *strings = get_item(tables, "strings"), *objects = get_item(tables, "objects"),
             *classifications = get_item(tables, "classifications"), *owners = get_item(tables, "owners"),
             *attributes = get_item(tables, "attributes");
    if (!strings || !objects || !classifications || !owners || !attributes) goto fail;
    if (!PyList_Check(owners) || !PyList_Check(attributes)) {
        bad_tables("owners and attributes must be lists");
        goto fail;
    }
    Py_ssize_t nowners = PyList_GET_SIZE(owners);
    if (nowners >= INT32_MAX / 4) {
        bad_tables("too many owners");
        goto fail;
    }
    o->nowners = (int32_t)nowners;
    o->owners = calloc((size_t)nowners + 1, sizeof *o->owners);
    if (!o->owners) {
        PyErr_NoMemory();
        goto fail;
    }
    if (!build_strings(o, strings) || !size_pairs(o, owners, attributes) || !build_attributes(o, attributes) ||
        !build_owners(o, owners) || !build_owner_map(o, objects, o->obj_owner) ||
        !build_owner_map(o, classifications, o->cls_owner))
        goto fail;
    for (int32_t i = 0; i < o->nattrs; i++) {
        lattr *a = &o->attrs[i];
        for (uint32_t j = 0; j < a->opt_count; j++)
            if (pair_put(o, pair_key(PT_ATTR_OPTION, (uint32_t)i, o->pool[a->opt_start + j]), 1) < 0) {
                bad_tables("the pair table is full");
                goto fail;
            }
    }
    return o;
fail:
    lonto_free(o);
    return NULL;
}

void lonto_free(lonto *o) {
    if (!o) return;
    free(o->bytes);
    free(o->str_off);
    free(o->str_len);
    free(o->str_slots);
    free(o->obj_owner);
    free(o->cls_owner);
    free(o->owners);
    free(o->attrs);
    free(o->pool);
    free(o->nested);
    free(o->pair_keys);
    free(o->pair_vals);
    free(o->mark);
    free(o->visit);
    free(o->stack);
    free(o->rslots);
    free(o->items);
    free(o->links);
    free(o->insts);
    free(o);
}

/* ------------------------------------------------------------------------------------- per-row scratch */

static uint32_t next_mark(lonto *o) {
    if (++o->mark_gen == 0) {
        memset(o->mark, 0, ((size_t)o->nstr + 1) * sizeof *o->mark);
        o->mark_gen = 1;
    }
    return o->mark_gen;
}

static uint32_t next_visit(lonto *o) {
    if (++o->visit_gen == 0) {
        memset(o->visit, 0, ((size_t)o->nattrs + 1) * sizeof *o->visit);
        o->visit_gen = 1;
    }
    return o->visit_gen;
}

static int row_reset(lonto *o) {
    o->nitems = o->nlinks = o->ninsts = 0;
    if (!o->rslots) {
        o->rslots = calloc(64, sizeof *o->rslots);
        if (!o->rslots) return 0;
        o->rmask = 63;
    }
    if (++o->rgen == 0) {
        memset(o->rslots, 0, ((size_t)o->rmask + 1) * sizeof *o->rslots);
        o->rgen = 1;
    }
    return 1;
}

static int grow(void **array, uint32_t *cap, size_t size) {
    uint32_t next = *cap ? *cap * 2 : 64;
    if (next <= *cap) return 0;
    void *grown = realloc(*array, (size_t)next * size);
    if (!grown) return 0;
    *array = grown;
    *cap = next;
    return 1;
}

static int rehash(lonto *o) {
    uint32_t cap = (o->rmask + 1) * 2;
    if (cap == 0) return 0;
    rslot *slots = calloc(cap, sizeof *slots);
    if (!slots) return 0;
    free(o->rslots);
    o->rslots = slots;
    o->rmask = cap - 1;
    o->rgen = 1;
    for (uint32_t k = 0; k < o->nitems; k++) {
        uint32_t i = o->items[k].hash & o->rmask;
        while (slots[i].gen == 1) i = (i + 1) & o->rmask;
        slots[i].gen = 1;
        slots[i].item = k;
    }
    return 1;
}

/* The row item for string node `key` in namespace `ns`: found, or added when `add`; NO_INDEX when absent
 * (or out of memory, which the callers treat as "not clean"). */
static uint32_t ritem_at(lonto *o, uint8_t ns, const lnode *key, int add) {
    uint32_t h = str_hash(key->v.s, key->len) ^ ns;
    uint32_t i = h & o->rmask;
    for (;; i = (i + 1) & o->rmask) {
        rslot *slot = &o->rslots[i];
        if (slot->gen != o->rgen) break;
        ritem *it = &o->items[slot->item];
        if (it->hash == h && it->ns == ns && it->len == key->len && memcmp(it->s, key->v.s, key->len) == 0)
            return slot->item;
    }
    if (!add) return NO_INDEX;
    if (o->nitems == o->cap_items && !grow((void **)&o->items, &o->cap_items, sizeof *o->items)) return NO_INDEX;
    if ((o->nitems + 1) * 2 > o->rmask + 1) {
        if (!rehash(o)) return NO_INDEX;
        i = h & o->rmask;
        while (o->rslots[i].gen == o->rgen) i = (i + 1) & o->rmask;
    }
    uint32_t k = o->nitems++;
    o->items[k] = (ritem){key->v.s, key->len, h, ns, 0, 0, LT_NONE, NO_INDEX};
    o->rslots[i].gen = o->rgen;
    o->rslots[i].item = k;
    return k;
}

static int add_link(lonto *o, uint32_t item, uint32_t node, uint8_t section) {
    if (o->nlinks == o->cap_links && !grow((void **)&o->links, &o->cap_links, sizeof *o->links)) return 0;
    /* appended at the tail would keep order; order does not change the verdict, so push at the head */
    o->links[o->nlinks] = (rlink){node, o->items[item].head, section};
    o->items[item].head = o->nlinks++;
    return 1;
}

static int add_inst(lonto *o, uint32_t item, int32_t owner) {
    if (!o->owners[owner].any_required) return 1; /* nothing of it can be unanswered-but-required */
    if (o->ninsts == o->cap_insts && !grow((void **)&o->insts, &o->cap_insts, sizeof *o->insts)) return 0;
    o->insts[o->ninsts++] = (rinst){item, owner};
    return 1;
}

/* --------------------------------------------------------------------------------------- tape helpers */

#define KEY_IS(node, literal) ((node)->len == sizeof(literal) - 1 && memcmp((node)->v.s, literal, sizeof(literal) - 1) == 0)

static inline int is_str(const ltape *t, uint32_t i) { return i != LT_NONE && t->n[i].type == LT_STR; }
static inline int is_obj(const ltape *t, uint32_t i) { return i != LT_NONE && t->n[i].type == LT_OBJ; }
static inline int is_arr(const ltape *t, uint32_t i) { return i != LT_NONE && t->n[i].type == LT_ARR; }

/* Python truthiness of a JSON value (LT_NONE: absent, i.e. dict.get() -> None). */
static int truthy(const ltape *t, uint32_t i) {
    if (i == LT_NONE) return 0;
    const lnode *n = &t->n[i];
    switch (n->type) {
    case LT_TRUE: return 1;
    case LT_INT: return n->v.i != 0;
    case LT_FLOAT: return n->v.d != 0.0;
    case LT_STR:
    case LT_ARR:
    case LT_OBJ: return n->len != 0;
    default: return 0;
    }
}

static int all_digits(const lnode *key) {
    if (key->len == 0) return 0;
    for (uint32_t i = 0; i < key->len; i++)
        if (key->v.s[i] < '0' || key->v.s[i] > '9') return 0;
    return 1;
}

static inline int str_is_sid(const lonto *o, const lnode *s, int32_t sid) {
    return o->str_len[sid] == s->len && memcmp(o->bytes + o->str_off[sid], s->v.s, s->len) == 0;
}

/* ontology.<objects|classifications>.get(str(value)) for node `i` (LT_NONE: absent, str(None)): the owner,
 * -1 for none, -2 when str() of this value is not modelled (floats, lists, objects). */
static int32_t owner_by_pystr(const lonto *o, const ltape *t, uint32_t i, const int32_t *by_sid) {
    int32_t sid;
    if (i == LT_NONE) {
        sid = o->sid_none;
    } else {
        const lnode *n = &t->n[i];
        switch (n->type) {
        case LT_STR: sid = sid_of(o, n); break;
        case LT_NULL: sid = o->sid_none; break;
        case LT_TRUE: sid = o->sid_true; break;
        case LT_FALSE: sid = o->sid_false; break;
        case LT_INT: {
            char text[24];
            int len = snprintf(text, sizeof text, "%lld", (long long)n->v.i);
            sid = sid_lookup(o, text, (uint32_t)len);
            break;
        }
        default: return -2;
        }
    }
    return sid < 0 ? -1 : by_sid[sid];
}

/* The owner ontology.<...>.get(feature) finds for a string node, -1 when none. */
static inline int32_t owner_by_str(const lonto *o, const lnode *s, const int32_t *by_sid) {
    int32_t sid = sid_of(o, s);
    return sid < 0 ? -1 : by_sid[sid];
}

/* ------------------------------------------------------------------------------------ frame labels */

/* ENC-SKELETON-TEMPLATE-MISMATCH: mirrors validator/rules/encord_ontology.py::skeleton_template_mismatch */
/* A skeleton object of a class with a template has the template's number of points, and every string point
 * featureHash is one of the template's (when it names any). */
static int skeleton_matches(const lonto *o, const ltape *t, const lowner *w, uint32_t shape, uint32_t skeleton) {
    const lnode *n = t->n;
    if (w->skel_count < 0 || !is_str(t, shape) || !LT_STR_EQ(&n[shape], "skeleton") || skeleton == LT_NONE ||
        n[skeleton].type != LT_OBJ)
        return 1;
    if (n[skeleton].len != (uint32_t)w->skel_count) return 0;
    if (!w->skel_n) return 1;
    for (uint32_t k = skeleton + 1; k < n[skeleton].end; k = n[k + 1].end) {
        uint32_t point = k + 1;
        if (n[point].type != LT_OBJ) continue;
        uint32_t feature = LT_GET(t, point, "featureHash");
        if (!is_str(t, feature)) continue;
        int32_t sid = sid_of(o, &n[feature]);
        int found = 0;
        for (uint32_t j = 0; j < w->skel_n && !found; j++) found = sid >= 0 && o->pool[w->skel_start + j] == (uint32_t)sid;
        if (!found) return 0;
    }
    return 1;
}

/* One entry of a frame's `objects`: ENC-OBJECT-FEATURE-UNKNOWN, ENC-SHAPE-MISMATCH,
 * ENC-SKELETON-TEMPLATE-MISMATCH; indexes the instance. */
static int frame_object(lonto *o, const ltape *t, uint32_t obj) {
    const lnode *n = t->n;
    uint32_t object_hash = LT_NONE, feature = LT_NONE, shape = LT_NONE, skeleton = LT_NONE;
    int wanted = 4;
    for (uint32_t k = obj + 1; k < n[obj].end && wanted; k = n[k + 1].end) {
        const lnode *key = &n[k];
        if (key->len == 10 && KEY_IS(key, "objectHash")) object_hash = k + 1, wanted--;
        else if (key->len == 11 && KEY_IS(key, "featureHash")) feature = k + 1, wanted--;
        else if (key->len == 5 && KEY_IS(key, "shape")) shape = k + 1, wanted--;
        else if (key->len == 8 && KEY_IS(key, "skeleton")) skeleton = k + 1, wanted--;
    }
    int32_t owner;
    if (is_str(t, feature)) {
        owner = owner_by_str(o, &n[feature], o->obj_owner);
        if (owner < 0) return 0; /* ENC-OBJECT-FEATURE-UNKNOWN: mirrors validator/rules/encord_ontology.py::object_feature_unknown */
    } else {
        owner = owner_by_pystr(o, t, feature, o->obj_owner);
        if (owner == -2) return 0;
    }
    if (owner >= 0 && o->owners[owner].shape_sid >= 0 && is_str(t, shape) &&
        !str_is_sid(o, &n[shape], o->owners[owner].shape_sid))
        return 0; /* ENC-SHAPE-MISMATCH: mirrors validator/rules/encord_ontology.py::shape_mismatch */
    if (owner >= 0 && !skeleton_matches(o, t, &o->owners[owner], shape, skeleton)) return 0;
    if (is_str(t, object_hash)) {
        uint32_t item = ritem_at(o, NS_OBJECT, &n[object_hash], 1);
        if (item == NO_INDEX) return 0;
        ritem *it = &o->items[item];
        if (it->feat == LT_NONE && is_str(t, feature)) it->feat = feature; /* object_features.setdefault */
        if (!it->seen) {
            it->seen = 1; /* the first frame object of the instance decides its class for the required rule */
            if (owner >= 0 && !add_inst(o, item, owner)) return 0;
        }
    }
    return 1;
}

/* One entry of a frame's `classifications`: ENC-CLASSIFICATION-FEATURE-UNKNOWN; indexes the instance. */
static int frame_classification(lonto *o, const ltape *t, uint32_t obj) {
    const lnode *n = t->n;
    uint32_t class_hash = LT_NONE, feature = LT_NONE;
    int wanted = 2;
    for (uint32_t k = obj + 1; k < n[obj].end && wanted; k = n[k + 1].end) {
        const lnode *key = &n[k];
        if (key->len == 18 && KEY_IS(key, "classificationHash")) class_hash = k + 1, wanted--;
        else if (key->len == 11 && KEY_IS(key, "featureHash")) feature = k + 1, wanted--;
    }
    if (is_str(t, feature) && owner_by_str(o, &n[feature], o->cls_owner) < 0)
        return 0; /* ENC-CLASSIFICATION-FEATURE-UNKNOWN: mirrors validator/rules/encord_ontology.py::classification_feature_unknown */
    if (is_str(t, class_hash)) {
        uint32_t item = ritem_at(o, NS_CLASSIFICATION, &n[class_hash], 1);
        if (item == NO_INDEX) return 0;
        ritem *it = &o->items[item];
        if (it->feat == LT_NONE && is_str(t, feature)) it->feat = feature;
        if (!it->seen) {
            it->seen = 1;
            int32_t owner = owner_by_pystr(o, t, feature, o->cls_owner);
            if (owner == -2) return 0;
            if (owner >= 0 && !add_inst(o, item, owner)) return 0;
        }
    }
    return 1;
}

/* _index_blob: the `objects` and `classifications` lists of one labels blob. */
static int blob(lonto *o, const ltape *t, uint32_t b) {
    const lnode *n = t->n;
    for (uint32_t k = b + 1; k < n[b].end; k = n[k + 1].end) {
        const lnode *key = &n[k];
        uint32_t v = k + 1;
        if (n[v].type != LT_ARR) continue;
        if (key->len == 7 && KEY_IS(key, "objects")) {
            for (uint32_t e = v + 1; e < n[v].end; e = n[e].end)
                if (n[e].type == LT_OBJ && !frame_object(o, t, e)) return 0;
        } else if (key->len == 15 && KEY_IS(key, "classifications")) {
            for (uint32_t e = v + 1; e < n[v].end; e = n[e].end)
                if (n[e].type == LT_OBJ && !frame_classification(o, t, e)) return 0;
        }
    }
    return 1;
}

static int has_key(const ltape *t, uint32_t obj, const char *key, size_t len) {
    return lt_get(t, obj, key, len) != LT_NONE;
}

/* The `labels` of one data unit, laid out by data type as _index_row reads them. */
static int unit_labels(lonto *o, const ltape *t, uint32_t labels, int dt) {
    const lnode *n = t->n;
    int blob_like = dt != DT_FRAME_KEYED && (has_key(t, labels, "objects", 7) || has_key(t, labels, "classifications", 15));
    if (dt == DT_IMAGE || dt == DT_IMG_GROUP || dt == DT_GROUP || blob_like) {
        if (!blob(o, t, labels)) return 0;
        if (dt == DT_IMAGE || dt == DT_IMG_GROUP)
            for (uint32_t k = labels + 1; k < n[labels].end; k = n[k + 1].end)
                if (all_digits(&n[k]) && n[k + 1].type == LT_OBJ && !blob(o, t, k + 1)) return 0;
        return 1;
    }
    for (uint32_t k = labels + 1; k < n[labels].end; k = n[k + 1].end)
        if (n[k + 1].type == LT_OBJ && !blob(o, t, k + 1)) return 0;
    return 1;
}

static int space_labels(lonto *o, const ltape *t, uint32_t space) {
    const lnode *n = t->n;
    uint32_t labels = LT_GET(t, space, "labels");
    if (!is_obj(t, labels)) return 1;
    uint32_t type = LT_GET(t, space, "space_type");
    if (is_str(t, type) && (LT_STR_EQ(&n[type], "point_cloud") || LT_STR_EQ(&n[type], "scene_image")))
        return blob(o, t, labels);
    for (uint32_t k = labels + 1; k < n[labels].end; k = n[k + 1].end)
        if (n[k + 1].type == LT_OBJ && !blob(o, t, k + 1)) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------ answers */

typedef struct {
    uint32_t object_hash, feature, spaces, answers, track_hash, range, range_html, created_by;
} fields;

static void scan(const ltape *t, uint32_t obj, fields *f) {
    const lnode *n = t->n;
    *f = (fields){LT_NONE, LT_NONE, LT_NONE, LT_NONE, LT_NONE, LT_NONE, LT_NONE, LT_NONE};
    for (uint32_t k = obj + 1; k < n[obj].end; k = n[k + 1].end) {
        const lnode *key = &n[k];
        switch (key->len) {
        case 5:
            if (KEY_IS(key, "range")) f->range = k + 1;
            break;
        case 6:
            if (KEY_IS(key, "spaces")) f->spaces = k + 1;
            break;
        case 7:
            if (KEY_IS(key, "answers")) f->answers = k + 1;
            break;
        case 9:
            if (KEY_IS(key, "trackHash")) f->track_hash = k + 1;
            else if (KEY_IS(key, "createdBy")) f->created_by = k + 1;
            break;
        case 10:
            if (KEY_IS(key, "objectHash")) f->object_hash = k + 1;
            else if (KEY_IS(key, "range_html")) f->range_html = k + 1;
            break;
        case 11:
            if (KEY_IS(key, "featureHash")) f->feature = k + 1;
            break;
        }
    }
}

/* The answer list of an entry: `classifications` of object / classification answers, `actions` of actions. */
static uint32_t entry_list(const ltape *t, uint32_t entry, int section) {
    return section == SEC_OBJECT_ACTIONS ? LT_GET(t, entry, "actions") : LT_GET(t, entry, "classifications");
}

/* _str(entry["objectHash"]) or key */
static uint32_t owner_hash_node(const ltape *t, const fields *f, uint32_t key) {
    return is_str(t, f->object_hash) && t->n[f->object_hash].len ? f->object_hash : key;
}

static void mark_sid(lonto *o, const lnode *s, uint32_t gen) {
    int32_t sid = sid_of(o, s);
    if (sid >= 0) o->mark[sid] = gen;
}

/* Every option featureHash chosen anywhere in an answer list (ENC-NESTED-ANSWER-UNSELECTED's `selected`). */
static void mark_selected(lonto *o, const ltape *t, uint32_t list, uint32_t gen) {
    const lnode *n = t->n;
    for (uint32_t e = list + 1; e < n[list].end; e = n[e].end) {
        if (n[e].type != LT_OBJ) continue;
        uint32_t answers = LT_GET(t, e, "answers");
        if (!is_arr(t, answers)) continue;
        for (uint32_t p = answers + 1; p < n[answers].end; p = n[p].end) {
            uint32_t feature = LT_GET(t, p, "featureHash");
            if (is_str(t, feature)) mark_sid(o, &n[feature], gen);
        }
    }
}

/* The answers of one list whose owner is known (_answered), against every answer rule. */
static int answer_list(lonto *o, const ltape *t, int32_t owner, uint32_t list, int dynamic, int static_objects) {
    const lnode *n = t->n;
    uint32_t selected = 0; /* generation of the `selected` marks, 0 until needed */
    for (uint32_t e = list + 1; e < n[list].end; e = n[e].end) {
        if (n[e].type != LT_OBJ) continue;
        fields f;
        scan(t, e, &f);
        if (!is_str(t, f.feature)) continue;
        int32_t sid = sid_of(o, &n[f.feature]);
        uint32_t index = sid < 0 ? NO_INDEX : pair_get(o, pair_key(PT_OWNER_ATTR, (uint32_t)owner, (uint32_t)sid));
        if (index == NO_INDEX) return 0; /* ENC-ATTRIBUTE-UNKNOWN: mirrors validator/rules/encord_ontology.py::attribute_unknown */
        const lattr *a = &o->attrs[index];
        uint32_t answers = f.answers;
        if ((a->type == AT_RADIO || a->type == AT_CHECKLIST) && is_arr(t, answers)) {
            for (uint32_t p = answers + 1; p < n[answers].end; p = n[p].end) {
                uint32_t option = LT_GET(t, p, "featureHash");
                if (!is_str(t, option)) continue;
                int32_t option_sid = sid_of(o, &n[option]);
                if (option_sid < 0 ||
                    pair_get(o, pair_key(PT_ATTR_OPTION, (uint32_t)index, (uint32_t)option_sid)) == NO_INDEX)
                    return 0; /* ENC-OPTION-UNKNOWN: mirrors validator/rules/encord_ontology.py::option_unknown */
            }
        }
        if (a->type != AT_OTHER && answers != LT_NONE) {
            uint8_t type = n[answers].type;
            int fits = a->type == AT_TEXT      ? type == LT_STR
                       : a->type == AT_NUMERIC ? type == LT_INT || type == LT_FLOAT
                                               : type == LT_ARR;
            if (!fits) return 0; /* ENC-ANSWER-TYPE-MISMATCH: mirrors validator/rules/encord_ontology.py::answer_type_mismatch */
        }
        if (a->type == AT_RADIO && is_arr(t, answers) && n[answers].len != 1) return 0; /* ENC-RADIO-ANSWER-COUNT: mirrors validator/rules/encord_ontology.py::radio_answer_count */
        if (a->parent_sid >= 0 && !dynamic) {
            if (!selected) {
                selected = next_mark(o);
                mark_selected(o, t, list, selected);
            }
            if (o->mark[a->parent_sid] != selected) return 0; /* ENC-NESTED-ANSWER-UNSELECTED: mirrors validator/rules/encord_ontology.py::nested_answer_unselected */
        }
        if (static_objects && a->dynamic) {
            if (f.range == LT_NONE) return 0; /* ENC-DYNAMIC-ANSWER-STATIC: mirrors validator/rules/encord_ontology.py::dynamic_answer_static */
            /* a ranged dynamic answer in object_answers is compared with object_actions by the reference path:
               the decider is not sure */
            return 0; /* ENC-DYNAMIC-ANSWER-OVERRIDDEN: mirrors validator/rules/encord_ontology.py::dynamic_answer_overridden */
        }
    }
    return 1;
}

/* _answered_features of one instance: every attribute and option featureHash of its answer entries. */
static void mark_answered(lonto *o, const ltape *t, uint32_t item, uint32_t gen) {
    const lnode *n = t->n;
    for (uint32_t l = o->items[item].head; l != NO_INDEX; l = o->links[l].next) {
        uint32_t list = entry_list(t, o->links[l].node, o->links[l].section);
        if (!is_arr(t, list)) continue;
        for (uint32_t e = list + 1; e < n[list].end; e = n[e].end) {
            if (n[e].type != LT_OBJ) continue;
            uint32_t feature = LT_GET(t, e, "featureHash");
            if (!is_str(t, feature)) continue;
            mark_sid(o, &n[feature], gen);
            uint32_t answers = LT_GET(t, e, "answers");
            if (!is_arr(t, answers)) continue;
            for (uint32_t p = answers + 1; p < n[answers].end; p = n[p].end) {
                uint32_t option = LT_GET(t, p, "featureHash");
                if (is_str(t, option)) mark_sid(o, &n[option], gen);
            }
        }
    }
}

/* _missing_required as a yes/no question: walk the attributes reachable through answered attributes and
 * their answered options; any reached attribute that is unanswered and required fires the rule. */
static int required_answered(lonto *o, const ltape *t, const rinst *inst) {
    uint32_t gen = next_mark(o);
    mark_answered(o, t, inst->item, gen);
    uint32_t seen = next_visit(o);
    uint32_t top = 0;
    const lowner *w = &o->owners[inst->owner];
    for (uint32_t j = 0; j < w->top_count; j++) {
        uint32_t a = o->pool[w->top_start + j];
        if (o->visit[a] != seen) o->visit[a] = seen, o->stack[top++] = a;
    }
    while (top) {
        const lattr *a = &o->attrs[o->stack[--top]];
        if (o->mark[a->hash_sid] != gen) {
            if (a->required) return 0; /* ENC-REQUIRED-ATTRIBUTE-UNANSWERED: mirrors validator/rules/encord_ontology.py::required_attribute_unanswered */
            continue;
        }
        for (uint32_t j = 0; j < a->opt_count; j++) {
            uint32_t option = o->pool[a->opt_start + j];
            if (o->mark[option] != gen) continue;
            uint32_t span = pair_get(o, pair_key(PT_OWNER_NESTED, (uint32_t)inst->owner, option));
            if (span == NO_INDEX) continue;
            for (uint32_t k = 0; k < o->nested[span].count; k++) {
                uint32_t b = o->pool[o->nested[span].start + k];
                if (o->visit[b] != seen) o->visit[b] = seen, o->stack[top++] = b;
            }
        }
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------------- rows */

static int data_type_kind(const ltape *t, uint32_t i) {
    if (!is_str(t, i)) return DT_OTHER;
    const lnode *s = &t->n[i];
    if (LT_STR_EQ(s, "video") || LT_STR_EQ(s, "dicom") || LT_STR_EQ(s, "dicom_study") || LT_STR_EQ(s, "nifti") ||
        LT_STR_EQ(s, "pdf") || LT_STR_EQ(s, "scene"))
        return DT_FRAME_KEYED;
    if (LT_STR_EQ(s, "image")) return DT_IMAGE;
    if (LT_STR_EQ(s, "img_group")) return DT_IMG_GROUP;
    if (LT_STR_EQ(s, "group")) return DT_GROUP;
    if (LT_STR_EQ(s, "audio")) return DT_AUDIO;
    if (LT_STR_EQ(s, "plain_text")) return DT_PLAIN_TEXT;
    return DT_OTHER;
}

int lonto_row_clean(lonto *o, const ltape *t, uint32_t row) {
    if (!o->present) return 1; /* without an ontology none of these rules runs */
    if (o->unknown_rules) return 0; /* a rule without a C twin: only the reference can say */
    const lnode *n = t->n;
    if (n[row].type != LT_OBJ) return 1; /* the reference indexes only dict rows */
    uint32_t data_type = LT_NONE, units = LT_NONE, spaces = LT_NONE, object_answers = LT_NONE,
             classification_answers = LT_NONE, object_actions = LT_NONE;
    for (uint32_t k = row + 1; k < n[row].end; k = n[k + 1].end) {
        const lnode *key = &n[k];
        if (KEY_IS(key, "data_type")) data_type = k + 1;
        else if (KEY_IS(key, "data_units")) units = k + 1;
        else if (KEY_IS(key, "spaces")) spaces = k + 1;
        else if (KEY_IS(key, "object_answers")) object_answers = k + 1;
        else if (KEY_IS(key, "classification_answers")) classification_answers = k + 1;
        else if (KEY_IS(key, "object_actions")) object_actions = k + 1;
    }
    int dt = data_type_kind(t, data_type);
    int range_type = dt == DT_AUDIO || dt == DT_PLAIN_TEXT;
    if (!row_reset(o)) return 0;

    /* frame objects and classifications: data units, then spaces (the reference's order) */
    if (is_obj(t, units) && !range_type)
        for (uint32_t k = units + 1; k < n[units].end; k = n[k + 1].end) {
            uint32_t labels = LT_GET(t, k + 1, "labels");
            if (is_obj(t, labels) && !unit_labels(o, t, labels, dt)) return 0;
        }
    if (is_obj(t, spaces))
        for (uint32_t k = spaces + 1; k < n[spaces].end; k = n[k + 1].end)
            if (n[k + 1].type == LT_OBJ && !space_labels(o, t, k + 1)) return 0;

    /* object_answers: range objects (object_features completed) and the answer entries of each instance */
    fields f;
    if (is_obj(t, object_answers))
        for (uint32_t k = object_answers + 1; k < n[object_answers].end; k = n[k + 1].end) {
            uint32_t entry = k + 1;
            if (n[entry].type != LT_OBJ) continue;
            scan(t, entry, &f);
            uint32_t item = ritem_at(o, NS_OBJECT, &n[owner_hash_node(t, &f, k)], 1);
            if (item == NO_INDEX) return 0;
            if (range_type || truthy(t, f.spaces) || f.range_html != LT_NONE) {
                o->items[item].range = 1;
                if (o->items[item].feat == LT_NONE && is_str(t, f.feature)) o->items[item].feat = f.feature;
            }
            if (!add_link(o, item, entry, SEC_OBJECT_ANSWERS)) return 0;
        }
    if (is_obj(t, object_actions))
        for (uint32_t k = object_actions + 1; k < n[object_actions].end; k = n[k + 1].end) {
            uint32_t entry = k + 1;
            if (n[entry].type != LT_OBJ) continue;
            scan(t, entry, &f);
            uint32_t item = ritem_at(o, NS_OBJECT, &n[owner_hash_node(t, &f, k)], 1);
            if (item == NO_INDEX || !add_link(o, item, entry, SEC_OBJECT_ACTIONS)) return 0;
        }
    if (is_obj(t, classification_answers))
        for (uint32_t k = classification_answers + 1; k < n[classification_answers].end; k = n[k + 1].end) {
            uint32_t entry = k + 1;
            if (n[entry].type != LT_OBJ) continue;
            scan(t, entry, &f);
            if (is_str(t, f.feature) && owner_by_str(o, &n[f.feature], o->cls_owner) < 0)
                return 0; /* ENC-CLASSIFICATION-FEATURE-UNKNOWN: mirrors validator/rules/encord_ontology.py::classification_feature_unknown */
            uint32_t item = ritem_at(o, NS_CLASSIFICATION, &n[k], 1);
            if (item == NO_INDEX || !add_link(o, item, entry, SEC_CLASSIFICATION_ANSWERS)) return 0;
            if (f.created_by != LT_NONE) { /* an instance of its own */
                ritem *it = &o->items[item];
                if (it->feat == LT_NONE && is_str(t, f.feature)) it->feat = f.feature;
                if (!it->seen) {
                    it->seen = 1;
                    int32_t owner = owner_by_pystr(o, t, f.feature, o->cls_owner);
                    if (owner == -2) return 0;
                    if (owner >= 0 && !add_inst(o, item, owner)) return 0;
                }
            }
        }

    /* range objects (_range_object_answers), then the object answer lists */
    if (is_obj(t, object_answers))
        for (uint32_t k = object_answers + 1; k < n[object_answers].end; k = n[k + 1].end) {
            uint32_t entry = k + 1;
            if (n[entry].type != LT_OBJ) continue;
            scan(t, entry, &f);
            uint32_t item = ritem_at(o, NS_OBJECT, &n[owner_hash_node(t, &f, k)], 0);
            if (item == NO_INDEX) return 0; /* cannot happen: added above */
            if (o->items[item].range) {
                int32_t owner = owner_by_pystr(o, t, f.feature, o->obj_owner);
                if (owner == -2) return 0;
                if (range_type) {
                    if (is_str(t, f.feature) && owner < 0) return 0; /* ENC-OBJECT-FEATURE-UNKNOWN: mirrors validator/rules/encord_ontology.py::object_feature_unknown */
                    int32_t shape = owner >= 0 ? o->owners[owner].shape_sid : -1;
                    if (shape >= 0) {
                        const char *expected = dt == DT_AUDIO ? "audio" : "text";
                        uint32_t len = (uint32_t)strlen(expected);
                        if (o->str_len[shape] != len || memcmp(o->bytes + o->str_off[shape], expected, len) != 0)
                            return 0; /* ENC-SHAPE-MISMATCH: mirrors validator/rules/encord_ontology.py::shape_mismatch */
                    }
                }
                if (owner >= 0 && !o->items[item].seen) {
                    o->items[item].seen = 1;
                    if (!add_inst(o, item, owner)) return 0;
                }
            }
            const ritem *it = &o->items[item];
            uint32_t feature = it->feat != LT_NONE && n[it->feat].len ? it->feat : f.feature;
            if (!is_str(t, feature) || !n[feature].len) continue;
            int32_t owner = owner_by_str(o, &n[feature], o->obj_owner);
            uint32_t list = entry_list(t, entry, SEC_OBJECT_ANSWERS);
            if (owner >= 0 && is_arr(t, list) && !answer_list(o, t, owner, list, 0, 1)) return 0;
        }
    if (is_obj(t, object_actions))
        for (uint32_t k = object_actions + 1; k < n[object_actions].end; k = n[k + 1].end) {
            uint32_t entry = k + 1;
            if (n[entry].type != LT_OBJ) continue;
            scan(t, entry, &f);
            uint32_t item = ritem_at(o, NS_OBJECT, &n[owner_hash_node(t, &f, k)], 0);
            if (item == NO_INDEX) return 0;
            const ritem *it = &o->items[item];
            uint32_t feature = it->feat != LT_NONE && n[it->feat].len ? it->feat : f.feature;
            if (!is_str(t, feature) || !n[feature].len) continue;
            int32_t owner = owner_by_str(o, &n[feature], o->obj_owner);
            uint32_t list = entry_list(t, entry, SEC_OBJECT_ACTIONS);
            if (owner >= 0 && is_arr(t, list) && !answer_list(o, t, owner, list, 1, 0)) return 0;
        }
    if (is_obj(t, classification_answers))
        for (uint32_t k = classification_answers + 1; k < n[classification_answers].end; k = n[k + 1].end) {
            uint32_t entry = k + 1;
            if (n[entry].type != LT_OBJ) continue;
            scan(t, entry, &f);
            uint32_t feature = f.feature;
            if (!is_str(t, feature) || !n[feature].len) {
                uint32_t item = ritem_at(o, NS_CLASSIFICATION, &n[k], 0);
                feature = item == NO_INDEX ? LT_NONE : o->items[item].feat;
            }
            if (!is_str(t, feature) || !n[feature].len) continue;
            int32_t owner = owner_by_str(o, &n[feature], o->cls_owner);
            uint32_t list = entry_list(t, entry, SEC_CLASSIFICATION_ANSWERS);
            if (owner >= 0 && is_arr(t, list) && !answer_list(o, t, owner, list, 0, 0)) return 0;
        }

    /* ENC-REQUIRED-ATTRIBUTE-UNANSWERED, per instance whose class has a required attribute */
    for (uint32_t i = 0; i < o->ninsts; i++)
        if (!required_answered(o, t, &o->insts[i])) return 0;
    return 1;
}
