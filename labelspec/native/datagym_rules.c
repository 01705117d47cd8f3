/* The DataGym rules (validator/rules/datagym.py) as a clean decider. See datagym_rules.h.
 *
 * It mirrors the reference's walk (_build: label classes of element 0, then every task's geometries under
 * `labels` and one level of `nested_geometries`, and every classification value, children included) and
 * each rule's condition, on the tape. Where a rule's exact Python semantics would cost more than they are
 * worth, the task is declared "not certainly clean" and the reference decides: legacy `geometry` payloads,
 * rings of three vertices holding booleans (Python's == takes true for 1), integer coordinates beyond 2^53,
 * and segmentation URLs other than plain http(s) ones without escapes. Every site is tagged with the rule
 * id it mirrors.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "datagym_rules.h"

#include <stdlib.h>
#include <string.h>

const char *const LDG_RULE_IDS[] = {
    "DG-LABEL-CLASS-UNDECLARED",
    "DG-LABEL-CLASS-NOT-GEOMETRY",
    "DG-CLASSIFICATION-CLASS-UNDECLARED",
    "DG-CLASSIFICATION-CLASS-NOT-CLASSIFICATION",
    "DG-LABEL-CLASS-DUPLICATE-TYPES",
    "DG-PAYLOAD-KEY-MISMATCH",
    "DG-POLYGON-TOO-FEW-POINTS",
    "DG-LINE-TOO-FEW-POINTS",
    "DG-RECTANGLE-EMPTY",
    "DG-SEGMENTATION-RING-TOO-FEW-POINTS",
    "DG-SEGMENTATION-HOLE-OUTSIDE-OUTER",
    "DG-ANSWER-MULTIPLE-FOR-SINGLE-CHOICE",
    "DG-ANSWER-NULL-MIXED",
    "DG-ANSWER-AFTER-CHILD",
    "DG-MEDIA-ID-DUPLICATE",
    "DG-SEGMENTATIONS-WITHOUT-VALUES",
    "DG-SEGMENTATION-URL-KEY-UNKNOWN",
    "JSON-DUPLICATE-KEY", /* the parser refuses documents with a repeated key */
    NULL,
};

/* Class types (validator/rules/datagym.py GEOMETRY_TYPES, CLASSIFICATION_TYPES, SINGLE_ANSWER_TYPES). */
enum {
    K_POINT = 1u << 0,
    K_LINE = 1u << 1,
    K_POLYGON = 1u << 2,
    K_RECTANGLE = 1u << 3,
    K_SEGMENTATION = 1u << 4,
    K_SELECT = 1u << 5,
    K_CHECKLIST = 1u << 6,
    K_FREETEXT = 1u << 7,
    K_RADIO = 1u << 8,
    K_OTHER = 1u << 9,
};
#define K_GEOMETRY (K_POINT | K_LINE | K_POLYGON | K_RECTANGLE | K_SEGMENTATION)
#define K_CLASSIFICATION (K_SELECT | K_CHECKLIST | K_FREETEXT | K_RADIO)
#define K_SINGLE (K_SELECT | K_FREETEXT | K_RADIO)

/* A set of strings owned by the table (copied into `text`), each with a value and a second string. */
typedef struct {
    uint64_t hash;
    size_t at, len;           /* the key in text */
    size_t other_at, other_len; /* the first kind of a class */
    uint32_t value;
    int used;
} oslot;

typedef struct {
    oslot *slots;
    size_t cap, count; /* cap: power of two */
    char *text;
    size_t text_len, text_cap;
} oset;

struct ldg {
    int unknown_rules; /* the config names a rule this decider does not know: never clean */
    int classes_ok;    /* element 0 held a label_classes list */
    int conflict;      /* a media id was repeated */
    oset classes;      /* class_name -> kinds (K_*), first kind */
    oset media;        /* media ids of the tasks so far */
    oset segmented;    /* label keys of the current task holding an image_segmentation value */
};

static void oset_clear(oset *s) {
    if (s->slots) memset(s->slots, 0, s->cap * sizeof *s->slots);
    s->count = 0;
    s->text_len = 0;
}

static void oset_free(oset *s) {
    free(s->slots);
    free(s->text);
    memset(s, 0, sizeof *s);
}

static int oset_text(oset *s, const char *bytes, size_t len, size_t *at) {
    if (s->text_len + len > s->text_cap) {
        size_t cap = s->text_cap ? s->text_cap : 4096;
        while (cap < s->text_len + len) cap *= 2;
        char *grown = realloc(s->text, cap);
        if (!grown) return 0;
        s->text = grown;
        s->text_cap = cap;
    }
    memcpy(s->text + s->text_len, bytes, len);
    *at = s->text_len;
    s->text_len += len;
    return 1;
}

static int oset_grow(oset *s) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    oslot *slots = calloc(cap, sizeof *slots);
    if (!slots) return 0;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].used) continue;
        size_t j = s->slots[i].hash & (cap - 1);
        while (slots[j].used) j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 1;
}

/* The slot of `key`, or NULL. */
static oslot *oset_find(const oset *s, const char *key, size_t len) {
    if (!s->cap) return NULL;
    uint64_t h = lt_hash(key, (uint32_t)len);
    for (size_t j = h & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
        oslot *slot = &s->slots[j];
        if (!slot->used) return NULL;
        if (slot->hash == h && slot->len == len && memcmp(s->text + slot->at, key, len) == 0) return slot;
    }
}

/* Add `key` (its slot in *slot; *added says whether it is new); 0 when out of memory. */
static int oset_add(oset *s, const char *key, size_t len, oslot **slot, int *added) {
    oslot *found = oset_find(s, key, len);
    if (found) {
        *slot = found;
        *added = 0;
        return 1;
    }
    if ((s->count + 1) * 2 > s->cap && !oset_grow(s)) return 0;
    uint64_t h = lt_hash(key, (uint32_t)len);
    size_t j = h & (s->cap - 1);
    while (s->slots[j].used) j = (j + 1) & (s->cap - 1);
    oslot *fresh = &s->slots[j];
    memset(fresh, 0, sizeof *fresh);
    if (!oset_text(s, key, len, &fresh->at)) return 0;
    fresh->hash = h;
    fresh->len = len;
    fresh->used = 1;
    s->count++;
    *slot = fresh;
    *added = 1;
    return 1;
}

/* ------------------------------------------------------------------------------------------- building */

ldg *ldg_build(PyObject *config) {
    if (!PyDict_Check(config)) {
        PyErr_SetString(PyExc_TypeError, "DataGymRules: config must be a dict");
        return NULL;
    }
    PyObject *rules = PyDict_GetItemString(config, "rules");
    if (!rules || !PyList_Check(rules)) {
        PyErr_SetString(PyExc_ValueError, "DataGymRules: config['rules'] must be a list of rule ids");
        return NULL;
    }
    ldg *r = calloc(1, sizeof *r);
    if (!r) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rules); i++) {
        const char *id = PyUnicode_AsUTF8(PyList_GET_ITEM(rules, i));
        if (!id) {
            ldg_free(r);
            return NULL;
        }
        int known = 0;
        for (const char *const *k = LDG_RULE_IDS; *k; k++) known |= strcmp(*k, id) == 0;
        if (!known) r->unknown_rules = 1; /* a rule without a twin: every task is "not sure" */
    }
    return r;
}

void ldg_free(ldg *r) {
    if (!r) return;
    oset_free(&r->classes);
    oset_free(&r->media);
    oset_free(&r->segmented);
    free(r);
}

void ldg_begin(ldg *r) {
    oset_clear(&r->classes);
    oset_clear(&r->media);
    r->classes_ok = 0;
    r->conflict = 0;
}

int ldg_items_conflict(const ldg *r) { return r->conflict; }

static uint32_t kind_bit(const lnode *kind) {
    static const struct {
        const char *name;
        uint32_t bit;
    } kinds[] = {{"point", K_POINT},         {"line", K_LINE},         {"polygon", K_POLYGON},
                 {"rectangle", K_RECTANGLE}, {"image_segmentation", K_SEGMENTATION},
                 {"select", K_SELECT},       {"checklist", K_CHECKLIST}, {"freetext", K_FREETEXT},
                 {"radio", K_RADIO}};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (lt_str_eq(kind, kinds[i].name, strlen(kinds[i].name))) return kinds[i].bit;
    return K_OTHER;
}

int ldg_head_clean(ldg *r, const ltape *t, uint32_t head) {
    if (r->unknown_rules) return 0;
    uint32_t list = LT_GET(t, head, "label_classes");
    if (list == LT_NONE || t->n[list].type != LT_ARR) return 1; /* no classes: every task is "not sure" */
    for (uint32_t e = list + 1; e < t->n[list].end; e = t->n[e].end) {
        uint32_t name = LT_GET(t, e, "class_name");
        if (name == LT_NONE || t->n[name].type != LT_STR) continue;
        /* kind = label_class.get("geometry_type", label_class.get("classification_type")) */
        uint32_t kind = LT_GET(t, e, "geometry_type");
        if (kind == LT_NONE) kind = LT_GET(t, e, "classification_type");
        if (kind == LT_NONE || t->n[kind].type != LT_STR) continue;
        const lnode *k = &t->n[kind], *n = &t->n[name];
        oslot *slot;
        int added;
        if (!oset_add(&r->classes, n->v.s, n->len, &slot, &added)) return 0;
        if (added) {
            if (!oset_text(&r->classes, k->v.s, k->len, &slot->other_at)) return 0;
            slot->other_len = k->len;
        } else if (slot->other_len != k->len || memcmp(r->classes.text + slot->other_at, k->v.s, k->len) != 0) {
            return 0; /* DG-LABEL-CLASS-DUPLICATE-TYPES: the same class_name with another type */
        }
        slot->value |= kind_bit(k);
    }
    r->classes_ok = 1;
    return 1;
}

/* The kinds of class `key` (a string node), 0 when it is not a class_name of label_classes. */
static uint32_t kinds_of(const ldg *r, const lnode *key) {
    oslot *slot = oset_find(&r->classes, key->v.s, key->len);
    return slot ? slot->value : 0;
}

/* ------------------------------------------------------------------------------------------- tasks */

/* One classification value (an array) under class `key` (validator/rules/datagym.py answer rules). */
static int classification_clean(const ldg *r, const ltape *t, uint32_t key, uint32_t value) {
    uint32_t kinds = kinds_of(r, &t->n[key]);
    if (!kinds) return 0;                      /* DG-CLASSIFICATION-CLASS-UNDECLARED */
    if (!(kinds & K_CLASSIFICATION)) return 0; /* DG-CLASSIFICATION-CLASS-NOT-CLASSIFICATION */
    int child_seen = 0, has_null = 0;
    uint32_t answers = 0;
    for (uint32_t e = value + 1; e < t->n[value].end; e = t->n[e].end) {
        uint8_t type = t->n[e].type;
        if (type == LT_OBJ) {
            child_seen = 1;
        } else if (type == LT_STR) {
            if (child_seen) return 0; /* DG-ANSWER-AFTER-CHILD */
            answers++;
        } else if (type == LT_NULL) {
            has_null = 1;
        }
    }
    if (has_null && answers) return 0;                       /* DG-ANSWER-NULL-MIXED */
    if (!(kinds & ~K_SINGLE) && answers > 1) return 0;       /* DG-ANSWER-MULTIPLE-FOR-SINGLE-CHOICE */
    return 1;
}

/* Every classification value of a map, children included (_collect_classifications). */
static int classifications_clean(const ldg *r, const ltape *t, uint32_t map) {
    if (map == LT_NONE || t->n[map].type != LT_OBJ) return 1;
    for (uint32_t k = map + 1; k < t->n[map].end; k = t->n[k + 1].end) {
        uint32_t value = k + 1;
        if (t->n[value].type != LT_ARR) continue;
        if (!classification_clean(r, t, k, value)) return 0;
        if (t->n[value].len > 1) /* children follow the answers; a one-element value has none */
            for (uint32_t e = value + 1; e < t->n[value].end; e = t->n[e].end)
                if (t->n[e].type == LT_OBJ && t->n[e].len && !classifications_clean(r, t, e)) return 0;
    }
    return 1;
}

static int is_number(const lnode *n) { return n->type == LT_INT || n->type == LT_FLOAT; }

static int is_zero(const lnode *n) { return n->type == LT_INT ? n->v.i == 0 : n->v.d == 0.0; }

/* 1 when the subtree at `i` holds a boolean. */
static int has_bool(const ltape *t, uint32_t i) {
    for (uint32_t j = i; j < t->n[i].end; j++)
        if (t->n[j].type == LT_TRUE || t->n[j].type == LT_FALSE) return 1;
    return 0;
}

typedef struct {
    double x0, y0, x1, y1;
    int any;
} bounds;

/* _bounds of a ring: min/max of the x and y of its {x, y} points whose coordinates are numbers; 0 when a
 * coordinate is an integer that a double does not hold exactly (the reference compares exactly). */
static int ring_bounds(const ltape *t, uint32_t ring, bounds *b) {
    b->any = 0;
    if (t->n[ring].type != LT_ARR) return 1;
    for (uint32_t e = ring + 1; e < t->n[ring].end; e = t->n[e].end) {
        uint32_t x = LT_GET(t, e, "x"), y = LT_GET(t, e, "y");
        if (x == LT_NONE || y == LT_NONE || !is_number(&t->n[x]) || !is_number(&t->n[y])) continue;
        double v[2];
        const lnode *c[2] = {&t->n[x], &t->n[y]};
        for (int k = 0; k < 2; k++) {
            if (c[k]->type == LT_INT) {
                if (c[k]->v.i > (1LL << 53) || c[k]->v.i < -(1LL << 53)) return 0;
                v[k] = (double)c[k]->v.i;
            } else {
                v[k] = c[k]->v.d;
            }
        }
        if (!b->any) {
            b->x0 = b->x1 = v[0];
            b->y0 = b->y1 = v[1];
            b->any = 1;
            continue;
        }
        if (v[0] < b->x0) b->x0 = v[0];
        if (v[0] > b->x1) b->x1 = v[0];
        if (v[1] < b->y0) b->y0 = v[1];
        if (v[1] > b->y1) b->y1 = v[1];
    }
    return 1;
}

/* The rings of an image_segmentation payload. */
static int rings_clean(const ltape *t, uint32_t rings) {
    if (t->n[rings].type != LT_ARR) return 1;
    bounds outer = {0}, hole;
    int number = 0;
    for (uint32_t ring = rings + 1; ring < t->n[rings].end; ring = t->n[ring].end, number++) {
        const lnode *n = &t->n[ring];
        if (n->type == LT_ARR) {
            /* DG-SEGMENTATION-RING-TOO-FEW-POINTS: fewer than 3 vertices, a closing vertex not counted
             * (_ring_length: ring[0] == ring[-1], Python's equality) */
            if (n->len < 3) return 0;
            if (n->len == 3) {
                uint32_t first = ring + 1, last = t->n[t->n[first].end].end;
                if (has_bool(t, first) || has_bool(t, last) || lt_equal(t, first, t, last)) return 0;
            }
        }
        /* DG-SEGMENTATION-HOLE-OUTSIDE-OUTER */
        if (number == 0) {
            if (!ring_bounds(t, ring, &outer)) return 0;
            continue;
        }
        if (!outer.any) continue;
        if (!ring_bounds(t, ring, &hole)) return 0;
        if (hole.any && (hole.x0 < outer.x0 || hole.y0 < outer.y0 || hole.x1 > outer.x1 || hole.y1 > outer.y1))
            return 0;
    }
    return 1;
}

/* Remember that the task's labels hold an image_segmentation value under class `key`. */
static int segmented_add(ldg *r, const lnode *key) {
    oslot *slot;
    int added;
    return oset_add(&r->segmented, key->v.s, key->len, &slot, &added);
}

/* One geometry entry under class `key` (_collect_geometries and the geometry rules). */
static int geometry_clean(ldg *r, const ltape *t, uint32_t key, uint32_t entry, int nested) {
    uint32_t kinds = kinds_of(r, &t->n[key]);
    if (!kinds) return 0;                /* DG-LABEL-CLASS-UNDECLARED */
    if (!(kinds & K_GEOMETRY)) return 0; /* DG-LABEL-CLASS-NOT-GEOMETRY */
    static const struct {
        const char *name;
        uint32_t bit;
    } payloads[] = {{"point", K_POINT},         {"line", K_LINE},     {"polygon", K_POLYGON},
                    {"rectangle", K_RECTANGLE}, {"image_segmentation", K_SEGMENTATION}, {"geometry", 0}};
    int found = -1, count = 0;
    uint32_t payload = LT_NONE;
    for (int i = 0; i < 6; i++) {
        uint32_t value = lt_get(t, entry, payloads[i].name, strlen(payloads[i].name));
        if (value != LT_NONE) {
            found = i;
            payload = value;
            count++;
        }
    }
    if (count == 1) {
        uint32_t bit = payloads[found].bit;
        if (bit == 0) return 0;       /* DG-PAYLOAD-KEY-MISMATCH: a legacy `geometry` payload */
        if (!(kinds & bit)) return 0; /* DG-PAYLOAD-KEY-MISMATCH */
        if (bit == K_SEGMENTATION) {
            if (!rings_clean(t, payload)) return 0;
            if (!nested && !segmented_add(r, &t->n[key])) return 0;
        }
        const lnode *p = &t->n[payload];
        if (bit == K_POLYGON && p->type == LT_ARR && p->len < 3) return 0; /* DG-POLYGON-TOO-FEW-POINTS */
        if (bit == K_LINE && p->type == LT_ARR && p->len < 2) return 0;    /* DG-LINE-TOO-FEW-POINTS */
        if (bit == K_RECTANGLE && p->type == LT_ARR) {
            for (uint32_t e = payload + 1; e < p->end; e = t->n[e].end) {
                uint32_t w = LT_GET(t, e, "w"), h = LT_GET(t, e, "h");
                if (w == LT_NONE || h == LT_NONE || !is_number(&t->n[w]) || !is_number(&t->n[h])) continue;
                if (is_zero(&t->n[w]) || is_zero(&t->n[h])) return 0; /* DG-RECTANGLE-EMPTY */
            }
        }
    }
    if (!classifications_clean(r, t, LT_GET(t, entry, "classifications"))) return 0;
    if (nested) return 1;
    uint32_t children = LT_GET(t, entry, "nested_geometries");
    if (children == LT_NONE || t->n[children].type != LT_OBJ) return 1;
    for (uint32_t k = children + 1; k < t->n[children].end; k = t->n[k + 1].end) {
        uint32_t list = k + 1;
        if (t->n[list].type != LT_ARR) continue;
        for (uint32_t e = list + 1; e < t->n[list].end; e = t->n[e].end)
            if (t->n[e].type == LT_OBJ && !geometry_clean(r, t, k, e, 1)) return 0;
    }
    return 1;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* _url_key of a plain URL into `out` (`cap` bytes): "http(s)://", printable ASCII without brackets or
 * backslashes (for which urlsplit does nothing surprising), then the last segment of the path, trailing
 * slashes removed, unquote_plus'd ('+' is a space, %XX a byte: only ASCII bytes, so that no UTF-8 decoding
 * with replacement is involved). 0 for any other URL (the reference decides). */
static int url_key(const lnode *url, char *out, size_t cap, size_t *len) {
    const char *s = url->v.s;
    size_t n = url->len, at;
    if (n >= 7 && memcmp(s, "http://", 7) == 0) at = 7;
    else if (n >= 8 && memcmp(s, "https://", 8) == 0) at = 8;
    else return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '\\') return 0;
    }
    while (at < n && s[at] != '/' && s[at] != '?' && s[at] != '#') at++; /* the netloc */
    size_t end = at;
    while (end < n && s[end] != '?' && s[end] != '#') end++; /* the path is s[at:end] */
    while (end > at && s[end - 1] == '/') end--;
    size_t start = end;
    while (start > at && s[start - 1] != '/') start--;
    size_t k = 0;
    for (size_t i = start; i < end; i++) {
        if (k >= cap) return 0;
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < end ? hex_digit(s[i + 1]) : -1, lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || hi >= 8) return 0; /* not an escape of an ASCII byte */
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        out[k++] = c;
    }
    *len = k;
    return 1;
}

int ldg_task_clean(ldg *r, const ltape *t, uint32_t task) {
    if (r->unknown_rules || !r->classes_ok) return 0;
    if (t->n[task].type != LT_OBJ) return 1; /* the rules skip what is not a task object */
    oset_clear(&r->segmented);
    /* DG-MEDIA-ID-DUPLICATE (_media_id: the first of the two keys holding a string) */
    static const char *const media_keys[] = {"internal_media_ID", "internal_image_ID"};
    for (int i = 0; i < 2; i++) {
        uint32_t id = lt_get(t, task, media_keys[i], strlen(media_keys[i]));
        if (id == LT_NONE || t->n[id].type != LT_STR) continue;
        oslot *slot;
        int added;
        /* out of memory: later repeats could go unseen, so the whole file goes to the reference path */
        if (!oset_add(&r->media, t->n[id].v.s, t->n[id].len, &slot, &added) || !added) {
            r->conflict = 1;
            return 0;
        }
        break;
    }
    if (!classifications_clean(r, t, LT_GET(t, task, "global_classifications"))) return 0;
    uint32_t labels = LT_GET(t, task, "labels");
    if (labels != LT_NONE && t->n[labels].type == LT_OBJ) {
        for (uint32_t k = labels + 1; k < t->n[labels].end; k = t->n[k + 1].end) {
            uint32_t list = k + 1;
            if (t->n[list].type != LT_ARR) continue;
            for (uint32_t e = list + 1; e < t->n[list].end; e = t->n[e].end)
                if (t->n[e].type == LT_OBJ && !geometry_clean(r, t, k, e, 0)) return 0;
        }
    }
    uint32_t urls = LT_GET(t, task, "segmentations");
    if (urls == LT_NONE || t->n[urls].type != LT_ARR || !t->n[urls].len) return 1;
    if (!r->segmented.count) return 0; /* DG-SEGMENTATIONS-WITHOUT-VALUES */
    for (uint32_t e = urls + 1; e < t->n[urls].end; e = t->n[e].end) {
        if (t->n[e].type != LT_STR) continue;
        char key[512];
        size_t len;
        if (!url_key(&t->n[e], key, sizeof key, &len)) return 0; /* not a plain URL: the reference decides */
        if (!oset_find(&r->segmented, key, len)) return 0;       /* DG-SEGMENTATION-URL-KEY-UNKNOWN */
    }
    return 1;
}
