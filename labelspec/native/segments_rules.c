/* The Segments.ai rules (validator/rules/segments.py) as a clean decider. See segments_rules.h.
 *
 * It mirrors the reference's walk (_Walker.samples / label / payload / sequence / multisensor / annotations /
 * shape / links / attribute_values / point_annotations / bitmap) over one sample of a release whose header the
 * reference path judged clean, for every task type (the label's, and each sensor's in multi-sensor
 * sequences). The header's tables (categories with their attribute definitions, labelsets, image
 * attributes, the shapes each task type allows) come from Python, computed with the reference's own helpers.
 * Where exact Python semantics would cost more than they are worth, the sample is "not certainly clean" and
 * the reference decides: float ids (Python's int(1.0) == 1), floats and booleans in point_annotations (set()
 * keeps the first of 1, 1.0 and True), sensor names or task types that are not both strings (or both absent),
 * a multi-sensor payload inside a sensor, and label bitmaps whose URL may name a local file or a data:
 * payload (only those are decoded). Every site is tagged with the rule id it mirrors.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "segments_rules.h"

#include <stdlib.h>
#include <string.h>

const char *const LSEG_RULE_IDS[] = {
    "SEG-CATEGORY-UNDECLARED", /* mirrors validator/rules/segments.py::check_seg_category_undeclared */
    "SEG-ANNOTATION-ID-DUPLICATE", /* mirrors validator/rules/segments.py::check_seg_annotation_id_duplicate */
    "SEG-LABELSET-UNDECLARED", /* mirrors validator/rules/segments.py::check_seg_labelset_undeclared */
    "SEG-LABELSET-MISSING", /* mirrors validator/rules/segments.py::check_seg_labelset_missing */
    "SEG-SAMPLE-UUID-DUPLICATE", /* mirrors validator/rules/segments.py::check_seg_sample_uuid_duplicate */
    "SEG-SAMPLE-NAME-COLLISION", /* mirrors validator/rules/segments.py::check_seg_sample_name_collision */
    "SEG-SHAPE-POINT-COUNT", /* mirrors validator/rules/segments.py::check_seg_shape_point_count */
    "SEG-SHAPE-VERTEX-DIMENSION", /* mirrors validator/rules/segments.py::check_seg_shape_vertex_dimension */
    "SEG-SHAPE-NOT-ALLOWED", /* mirrors validator/rules/segments.py::check_seg_shape_not_allowed */
    "SEG-ATTRIBUTE-VALUE-INVALID", /* mirrors validator/rules/segments.py::check_seg_attribute_value_invalid */
    "SEG-ATTRIBUTE-UNDECLARED", /* mirrors validator/rules/segments.py::check_seg_attribute_undeclared */
    "SEG-ATTRIBUTE-MANDATORY-MISSING", /* mirrors validator/rules/segments.py::check_seg_attribute_mandatory_missing */
    "SEG-TRACK-ID-MISMATCH", /* mirrors validator/rules/segments.py::check_seg_track_id_mismatch */
    "SEG-LINK-OBJECT-UNKNOWN", /* mirrors validator/rules/segments.py::check_seg_link_object_unknown */
    "SEG-LINK-CATEGORY-RESTRICTED", /* mirrors validator/rules/segments.py::check_seg_link_category_restricted */
    "SEG-BITMAP-UNREADABLE", /* mirrors validator/rules/segments.py::check_seg_bitmap_unreadable */
    "SEG-BITMAP-ID-UNANNOTATED", /* mirrors validator/rules/segments.py::check_seg_bitmap_id_unannotated */
    "SEG-ANNOTATION-NOT-IN-BITMAP", /* mirrors validator/rules/segments.py::check_seg_annotation_not_in_bitmap */
    "SEG-BITMAP-SIZE-MISMATCH", /* mirrors validator/rules/segments.py::check_seg_bitmap_size_mismatch */
    "SEG-FRAME-COUNT-MISMATCH", /* mirrors validator/rules/segments.py::check_seg_frame_count_mismatch */
    "SEG-TRACK-CATEGORY-CHANGED", /* mirrors validator/rules/segments.py::check_seg_track_category_changed */
    "SEG-TRACK-DUPLICATE", /* mirrors validator/rules/segments.py::check_seg_track_duplicate */
    "SEG-SENSOR-MISMATCH", /* mirrors validator/rules/segments.py::check_seg_sensor_mismatch */
    "SEG-POINT-ANNOTATION-UNKNOWN", /* mirrors validator/rules/segments.py::check_seg_point_annotation_unknown */
    "SEG-ANNOTATION-WITHOUT-POINTS", /* mirrors validator/rules/segments.py::check_seg_annotation_without_points */
    "JSON-DUPLICATE-KEY", /* the parser refuses documents with a repeated key */
    NULL,
};

/* Attribute input types (validator/rules/segments.py _value_problem); the numbers are decider_config's. */
enum { A_OTHER = 0, A_SELECT, A_MULTISELECT, A_TEXT, A_NUMBER, A_CHECKBOX };
/* Shapes a task type allows (ALLOWED_SHAPES); SHAPES_ANY: no restriction. */
enum { S_BBOX = 1, S_POINT = 2, SHAPES_ANY = -1 };

typedef struct {
    char *s;
    size_t len;
} sstr;

typedef struct {
    sstr name;
    int kind;
    sstr *choices; /* NULL when the definition has no `values` list */
    size_t nchoices;
    int has_min, has_max;
    double min, max;
    int mandatory;
} sdef;

typedef struct {
    sdef *v;
    size_t n;
} sdefs;

typedef struct {
    int64_t id;
    sdefs attributes, link_attributes;
    int restricted; /* link_category_restrictions is a non-empty list */
    int64_t *allowed;
    size_t nallowed;
} scat;

/* The 64-bit hashes of strings (sample uuids, name stems), appended in file order with their sample's index,
 * and compared once at the end (a sorted copy): a hash table probed per sample costs a cache miss each. Two
 * keys with one hash count as a repeat (their samples then go to the reference path, so a rare false repeat
 * costs time, never a finding). */
typedef struct {
    uint64_t *v;
    uint32_t *sample; /* the index of the sample each hash belongs to */
    size_t n, cap;
} hvec;

/* Annotation (or track) ids of one scope -> their category id (has_cid 0: none), cleared by generation;
 * `used`: the mark of the point_annotations list that names the id. */
typedef struct {
    int64_t id, cid;
    uint32_t gen, used;
    int has_cid;
} islot;

typedef struct {
    islot *slots;
    size_t cap, count;
    uint32_t gen;
} itab;

/* What a payload's task type selects in _Walker.payload / sequence / annotations / shape. */
typedef struct {
    int multisensor;  /* "multisensor-sequence": _Walker.multisensor */
    int sequence;     /* ends with "-sequence": a list of frames goes through _Walker.sequence */
    int three_d;      /* starts with "pointcloud" / "multisensor": 3D vertices */
    int shapes;       /* ALLOWED_SHAPES of the task type (SHAPES_ANY: none) */
    int bitmap;       /* BITMAP_TASK_TYPES: the label's segmentation_bitmap */
    int frame_bitmap; /* "image-segmentation-sequence": each frame's segmentation_bitmap */
    int points;       /* "pointcloud-segmentation": the label's point_annotations */
    int frame_points; /* "pointcloud-segmentation-sequence": each frame's point_annotations */
} tkind;

typedef struct {
    sstr name;
    int mask;
} sshapes;

struct lseg {
    int unknown_rules; /* the config names a rule this decider does not know: never clean */
    int image;
    sshapes *shape_types; /* ALLOWED_SHAPES */
    size_t nshape_types;
    sstr *bitmap_types; /* BITMAP_TASK_TYPES */
    size_t nbitmap_types;
    tkind kind; /* of the dataset's task_type */
    int has_labelsets;
    sstr *labelsets;
    size_t nlabelsets;
    int report_undeclared; /* a complete category list is declared */
    scat *cats;            /* sorted by id */
    size_t ncats;
    sdefs image_attributes;
    hvec uuids, stems;
    uint32_t samples; /* samples seen since lseg_begin */
    /* scopes: the label's ids (the union over frames or sensors), one sensor's, one frame's; the tracks of a
     * sequence (track id -> category) and those of one frame */
    itab label, sensor, frame, tracks, frame_tracks;
    uint32_t mark;
};

/* ------------------------------------------------------------------------------------------- tables */

static void hvec_free(hvec *h) {
    free(h->v);
    free(h->sample);
    memset(h, 0, sizeof *h);
}

/* lt_hash spreads poorly into the low bits on keys that differ only near their end (uuids, numbered
 * names): finish it with murmur3's mixer before masking. */
static uint64_t spread(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static int hvec_add(hvec *h, const char *key, size_t len, uint32_t sample) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 4096;
        uint64_t *grown = realloc(h->v, cap * sizeof *grown);
        if (!grown) return 0;
        h->v = grown;
        uint32_t *owners = realloc(h->sample, cap * sizeof *owners);
        if (!owners) return 0;
        h->sample = owners;
        h->cap = cap;
    }
    h->v[h->n] = lt_hash(key, (uint32_t)len);
    h->sample[h->n++] = sample;
    return 1;
}

static int hash_order(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Mark (flags[sample] = 1) every sample whose hash another entry has too: a sorted copy of the hashes (a radix
 * sort, 4 passes of 16 bits) gives the repeated values, looked up for each entry only when there are any.
 * 0 when out of memory. */
static int hvec_mark_repeats(const hvec *h, unsigned char *flags) {
    if (h->n < 2) return 1;
    uint64_t *sorted = malloc(h->n * sizeof *sorted), *tmp = malloc(h->n * sizeof *tmp);
    size_t *count = malloc(65536 * sizeof *count);
    int ok = sorted && tmp && count;
    if (ok) {
        memcpy(sorted, h->v, h->n * sizeof *sorted);
        uint64_t *from = sorted, *to = tmp;
        for (int shift = 0; shift < 64; shift += 16) {
            memset(count, 0, 65536 * sizeof *count);
            for (size_t i = 0; i < h->n; i++) count[(from[i] >> shift) & 0xFFFF]++;
            size_t at = 0;
            for (size_t d = 0; d < 65536; d++) {
                size_t c = count[d];
                count[d] = at;
                at += c;
            }
            for (size_t i = 0; i < h->n; i++) to[count[(from[i] >> shift) & 0xFFFF]++] = from[i];
            uint64_t *swap = from;
            from = to;
            to = swap;
        }
        /* after an even number of passes the sorted hashes are back in `sorted`; keep the repeated ones */
        size_t repeats = 0;
        for (size_t i = 1; i < h->n; i++)
            if (sorted[i] == sorted[i - 1] && (repeats == 0 || tmp[repeats - 1] != sorted[i])) tmp[repeats++] = sorted[i];
        for (size_t i = 0; repeats && i < h->n; i++)
            if (bsearch(&h->v[i], tmp, repeats, sizeof *tmp, hash_order)) flags[h->sample[i]] = 1;
    }
    free(sorted);
    free(tmp);
    free(count);
    return ok;
}

static uint64_t mix64(int64_t v) { return spread((uint64_t)v); }

static void itab_clear(itab *t) {
    t->count = 0;
    if (++t->gen == 0) { /* wrapped: forget every stamp */
        if (t->slots) memset(t->slots, 0, t->cap * sizeof *t->slots);
        t->gen = 1;
    }
}

static islot *itab_find(const itab *t, int64_t id) {
    if (!t->cap) return NULL;
    for (size_t j = mix64(id) & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        islot *slot = &t->slots[j];
        if (slot->gen != t->gen) return NULL;
        if (slot->id == id) return slot;
    }
}

static int itab_grow(itab *t) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    islot *slots = calloc(cap, sizeof *slots);
    if (!slots) return 0;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].gen != t->gen) continue;
        size_t j = mix64(t->slots[i].id) & (cap - 1);
        while (slots[j].gen == t->gen) j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 1;
}

/* Insert a new id (the caller checked it is absent); 0 out of memory. */
static int itab_add(itab *t, int64_t id, int has_cid, int64_t cid) {
    if ((t->count + 1) * 2 > t->cap && !itab_grow(t)) return 0;
    size_t j = mix64(id) & (t->cap - 1);
    while (t->slots[j].gen == t->gen) j = (j + 1) & (t->cap - 1);
    t->slots[j] = (islot){.id = id, .cid = cid, .gen = t->gen, .used = 0, .has_cid = has_cid};
    t->count++;
    return 1;
}

/* dst.ids.update(src.ids); dst.categories.update(src.categories) (_Walker.sequence / multisensor). */
static int itab_merge(itab *dst, const itab *src) {
    for (size_t i = 0; i < src->cap; i++) {
        const islot *s = &src->slots[i];
        if (s->gen != src->gen) continue;
        islot *d = itab_find(dst, s->id);
        if (!d) {
            if (!itab_add(dst, s->id, s->has_cid, s->cid)) return 0;
        } else if (s->has_cid) {
            d->cid = s->cid;
            d->has_cid = 1;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------- building */

static int copy_str(PyObject *obj, sstr *out) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
    if (!s) return 0;
    out->s = malloc((size_t)n + 1);
    if (!out->s) {
        PyErr_NoMemory();
        return 0;
    }
    memcpy(out->s, s, (size_t)n);
    out->len = (size_t)n;
    return 1;
}

static void free_defs(sdefs *d) {
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].name.s);
        for (size_t k = 0; k < d->v[i].nchoices; k++) free(d->v[i].choices[k].s);
        free(d->v[i].choices);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

static int bound(PyObject *value, int *has, double *out) {
    if (value == Py_None) return 1;
    *out = PyFloat_AsDouble(value);
    if (*out == -1.0 && PyErr_Occurred()) return 0;
    *has = 1;
    return 1;
}

/* defs: tuple of (name, kind, choices | None, min | None, max | None, mandatory). */
static int build_defs(PyObject *spec, sdefs *out) {
    if (!PyTuple_Check(spec)) {
        PyErr_SetString(PyExc_TypeError, "SegmentsRules: definitions must be a tuple");
        return 0;
    }
    out->n = (size_t)PyTuple_GET_SIZE(spec);
    out->v = calloc(out->n + 1, sizeof *out->v);
    if (!out->v) {
        PyErr_NoMemory();
        return 0;
    }
    for (size_t i = 0; i < out->n; i++) {
        sdef *d = &out->v[i];
        PyObject *name, *choices, *low, *high;
        int mandatory;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(spec, i), "UiOOOp", &name, &d->kind, &choices, &low, &high, &mandatory))
            return 0;
        d->mandatory = mandatory;
        if (!copy_str(name, &d->name) || !bound(low, &d->has_min, &d->min) || !bound(high, &d->has_max, &d->max))
            return 0;
        if (choices != Py_None) {
            if (!PyTuple_Check(choices)) {
                PyErr_SetString(PyExc_TypeError, "SegmentsRules: choices must be a tuple");
                return 0;
            }
            d->nchoices = (size_t)PyTuple_GET_SIZE(choices);
            d->choices = calloc(d->nchoices + 1, sizeof *d->choices); /* non-NULL even when empty */
            if (!d->choices) {
                PyErr_NoMemory();
                return 0;
            }
            for (size_t k = 0; k < d->nchoices; k++)
                if (!copy_str(PyTuple_GET_ITEM(choices, k), &d->choices[k])) return 0;
        }
    }
    return 1;
}

static int cat_order(const void *a, const void *b) {
    int64_t x = ((const scat *)a)->id, y = ((const scat *)b)->id;
    return (x > y) - (x < y);
}

static int build_categories(lseg *r, PyObject *spec) {
    if (!PyTuple_Check(spec)) {
        PyErr_SetString(PyExc_TypeError, "SegmentsRules: categories must be a tuple");
        return 0;
    }
    r->ncats = (size_t)PyTuple_GET_SIZE(spec);
    r->cats = calloc(r->ncats + 1, sizeof *r->cats);
    if (!r->cats) {
        PyErr_NoMemory();
        return 0;
    }
    for (size_t i = 0; i < r->ncats; i++) {
        scat *c = &r->cats[i];
        long long id;
        PyObject *attributes, *links, *allowed;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(spec, i), "LOOO", &id, &attributes, &links, &allowed)) return 0;
        c->id = (int64_t)id;
        if (!build_defs(attributes, &c->attributes) || !build_defs(links, &c->link_attributes)) return 0;
        if (allowed != Py_None) {
            if (!PyTuple_Check(allowed)) {
                PyErr_SetString(PyExc_TypeError, "SegmentsRules: allowed must be a tuple");
                return 0;
            }
            c->restricted = 1;
            c->nallowed = (size_t)PyTuple_GET_SIZE(allowed);
            c->allowed = calloc(c->nallowed + 1, sizeof *c->allowed);
            if (!c->allowed) {
                PyErr_NoMemory();
                return 0;
            }
            for (size_t k = 0; k < c->nallowed; k++) {
                long long v = PyLong_AsLongLong(PyTuple_GET_ITEM(allowed, k));
                if (v == -1 && PyErr_Occurred()) return 0;
                c->allowed[k] = (int64_t)v;
            }
        }
    }
    qsort(r->cats, r->ncats, sizeof *r->cats, cat_order);
    for (size_t i = 1; i < r->ncats; i++)
        if (r->cats[i].id == r->cats[i - 1].id) {
            PyErr_SetString(PyExc_ValueError, "SegmentsRules: repeated category id");
            return 0;
        }
    return 1;
}

static int flag(PyObject *config, const char *key, int *out) {
    PyObject *v = PyDict_GetItemString(config, key);
    if (!v) {
        PyErr_Format(PyExc_KeyError, "SegmentsRules: config[%s]", key);
        return 0;
    }
    *out = PyObject_IsTrue(v);
    return *out >= 0;
}

static int is(const char *s, size_t n, const char *literal) { return n == strlen(literal) && memcmp(s, literal, n) == 0; }

static int starts(const char *s, size_t n, const char *literal) {
    size_t m = strlen(literal);
    return n >= m && memcmp(s, literal, m) == 0;
}

/* What task type `s` (NULL: not a string) selects, as _Walker.payload / sequence / annotations / shape read it. */
static tkind kind_of(const lseg *r, const char *s, size_t n) {
    tkind k = {.shapes = SHAPES_ANY};
    if (!s) return k;
    k.multisensor = is(s, n, "multisensor-sequence");
    k.sequence = n >= 9 && memcmp(s + n - 9, "-sequence", 9) == 0;
    k.three_d = starts(s, n, "pointcloud") || starts(s, n, "multisensor");
    for (size_t i = 0; i < r->nshape_types; i++)
        if (n == r->shape_types[i].name.len && memcmp(s, r->shape_types[i].name.s, n) == 0) k.shapes = r->shape_types[i].mask;
    for (size_t i = 0; i < r->nbitmap_types; i++)
        if (n == r->bitmap_types[i].len && memcmp(s, r->bitmap_types[i].s, n) == 0) k.bitmap = 1;
    k.frame_bitmap = is(s, n, "image-segmentation-sequence");
    k.points = is(s, n, "pointcloud-segmentation");
    k.frame_points = is(s, n, "pointcloud-segmentation-sequence");
    return k;
}

/* A tuple of str (NULL-safe counts): the bitmap task types. */
static int build_strs(PyObject *spec, sstr **out, size_t *n) {
    if (!PyTuple_Check(spec)) {
        PyErr_SetString(PyExc_TypeError, "SegmentsRules: expected a tuple of str");
        return 0;
    }
    size_t count = (size_t)PyTuple_GET_SIZE(spec);
    *out = calloc(count + 1, sizeof **out);
    if (!*out) {
        PyErr_NoMemory();
        return 0;
    }
    *n = count; /* after the allocation: lseg_free walks n entries */
    for (size_t i = 0; i < *n; i++)
        if (!copy_str(PyTuple_GET_ITEM(spec, i), &(*out)[i])) return 0;
    return 1;
}

/* A tuple of (task type, shape mask): ALLOWED_SHAPES. */
static int build_shapes(lseg *r, PyObject *spec) {
    if (!PyTuple_Check(spec)) {
        PyErr_SetString(PyExc_TypeError, "SegmentsRules: shapes must be a tuple");
        return 0;
    }
    size_t count = (size_t)PyTuple_GET_SIZE(spec);
    r->shape_types = calloc(count + 1, sizeof *r->shape_types);
    if (!r->shape_types) {
        PyErr_NoMemory();
        return 0;
    }
    r->nshape_types = count;
    for (size_t i = 0; i < r->nshape_types; i++) {
        PyObject *name;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(spec, i), "Ui", &name, &r->shape_types[i].mask)) return 0;
        if (!copy_str(name, &r->shape_types[i].name)) return 0;
    }
    return 1;
}

lseg *lseg_build(PyObject *config) {
    if (!PyDict_Check(config)) {
        PyErr_SetString(PyExc_TypeError, "SegmentsRules: config must be a dict");
        return NULL;
    }
    lseg *r = calloc(1, sizeof *r);
    if (!r) {
        PyErr_NoMemory();
        return NULL;
    }
    PyObject *rules = PyDict_GetItemString(config, "rules");
    PyObject *task_type = PyDict_GetItemString(config, "task_type");
    PyObject *shapes = PyDict_GetItemString(config, "shapes");
    PyObject *bitmaps = PyDict_GetItemString(config, "bitmap_task_types");
    PyObject *labelsets = PyDict_GetItemString(config, "labelsets");
    PyObject *categories = PyDict_GetItemString(config, "categories");
    PyObject *image = PyDict_GetItemString(config, "image_attributes");
    if (!rules || !PyList_Check(rules) || !task_type || !shapes || !bitmaps || !labelsets || !categories || !image) {
        PyErr_SetString(PyExc_ValueError, "SegmentsRules: incomplete config");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rules); i++) {
        const char *id = PyUnicode_AsUTF8(PyList_GET_ITEM(rules, i));
        if (!id) goto fail;
        int known = 0;
        for (const char *const *k = LSEG_RULE_IDS; *k; k++) known |= strcmp(*k, id) == 0;
        if (!known) r->unknown_rules = 1; /* a rule without a twin: every sample is "not sure" */
    }
    if (!flag(config, "image", &r->image) || !flag(config, "report_undeclared", &r->report_undeclared)) goto fail;
    if (!build_shapes(r, shapes) || !build_strs(bitmaps, &r->bitmap_types, &r->nbitmap_types)) goto fail;
    if (task_type == Py_None) r->kind = kind_of(r, NULL, 0);
    else {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(task_type, &n);
        if (!s) goto fail;
        r->kind = kind_of(r, s, (size_t)n);
    }
    if (labelsets != Py_None) {
        if (!PyTuple_Check(labelsets)) {
            PyErr_SetString(PyExc_TypeError, "SegmentsRules: labelsets must be a tuple or None");
            goto fail;
        }
        r->has_labelsets = 1;
        if (!build_strs(labelsets, &r->labelsets, &r->nlabelsets)) goto fail;
    }
    if (!build_categories(r, categories) || !build_defs(image, &r->image_attributes)) goto fail;
    r->label.gen = r->sensor.gen = r->frame.gen = r->tracks.gen = r->frame_tracks.gen = 1;
    return r;
fail:
    lseg_free(r);
    return NULL;
}

void lseg_free(lseg *r) {
    if (!r) return;
    for (size_t i = 0; i < r->nlabelsets; i++) free(r->labelsets[i].s);
    free(r->labelsets);
    for (size_t i = 0; i < r->nshape_types; i++) free(r->shape_types[i].name.s);
    free(r->shape_types);
    for (size_t i = 0; i < r->nbitmap_types; i++) free(r->bitmap_types[i].s);
    free(r->bitmap_types);
    for (size_t i = 0; i < r->ncats; i++) {
        free_defs(&r->cats[i].attributes);
        free_defs(&r->cats[i].link_attributes);
        free(r->cats[i].allowed);
    }
    free(r->cats);
    free_defs(&r->image_attributes);
    hvec_free(&r->uuids);
    hvec_free(&r->stems);
    itab *tabs[] = {&r->label, &r->sensor, &r->frame, &r->tracks, &r->frame_tracks};
    for (size_t i = 0; i < sizeof tabs / sizeof *tabs; i++) free(tabs[i]->slots);
    free(r);
}

void lseg_begin(lseg *r) {
    r->uuids.n = 0;
    r->stems.n = 0;
    r->samples = 0;
}

PyObject *lseg_repeated(lseg *r) {
    unsigned char *flags = calloc((size_t)r->samples + 1, 1);
    if (!flags || !hvec_mark_repeats(&r->uuids, flags) || !hvec_mark_repeats(&r->stems, flags)) {
        free(flags);
        return PyErr_NoMemory();
    }
    PyObject *out = PyList_New(0);
    for (uint32_t i = 0; out && i < r->samples; i++) {
        if (!flags[i]) continue;
        PyObject *index = PyLong_FromUnsignedLong(i);
        if (!index || PyList_Append(out, index) < 0) Py_CLEAR(out);
        Py_XDECREF(index);
    }
    free(flags);
    return out;
}

/* ------------------------------------------------------------------------------------------- deciding */

/* An id as _integral reads it: 1 with *out for an integer, 0 for none (bool, string, null, absent...); -1
 * for a float (int(1.0) == 1: not modelled, the sample is not sure). */
static int integral(const ltape *t, uint32_t node, int64_t *out) {
    if (node == LT_NONE) return 0;
    if (t->n[node].type == LT_INT) {
        *out = t->n[node].v.i;
        return 1;
    }
    return t->n[node].type == LT_FLOAT ? -1 : 0;
}

static const scat *category(const lseg *r, int64_t id) {
    size_t lo = 0, hi = r->ncats;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->cats[mid].id == id) return &r->cats[mid];
        if (r->cats[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static int in_choices(const sdef *d, const lnode *s) {
    for (size_t k = 0; k < d->nchoices; k++)
        if (lt_str_eq(s, d->choices[k].s, d->choices[k].len)) return 1;
    return 0;
}

/* _value_problem(value, definition) is None. */
static int value_fits(const ltape *t, uint32_t v, const sdef *d) {
    const lnode *n = &t->n[v];
    switch (d->kind) {
    case A_SELECT:
        if (n->type != LT_STR) return 0;
        return !d->choices || n->len == 0 || in_choices(d, n);
    case A_MULTISELECT:
        if (n->type != LT_ARR) return 0;
        for (uint32_t e = v + 1; e < n->end; e = t->n[e].end) {
            if (t->n[e].type != LT_STR) return 0;
            if (d->choices && !in_choices(d, &t->n[e])) return 0;
        }
        return 1;
    case A_TEXT: return n->type == LT_STR;
    case A_NUMBER: {
        double x;
        if (n->type == LT_INT) x = (double)n->v.i;
        else if (n->type == LT_FLOAT) x = n->v.d;
        else return 0;
        return !(d->has_min && x < d->min) && !(d->has_max && x > d->max);
    }
    case A_CHECKBOX: return n->type == LT_TRUE || n->type == LT_FALSE;
    default: return 1;
    }
}

static const sdef *definition(const sdefs *defs, const lnode *key) {
    for (size_t i = 0; i < defs->n; i++)
        if (lt_str_eq(key, defs->v[i].name.s, defs->v[i].name.len)) return &defs->v[i];
    return NULL;
}

/* _Walker.attribute_values finds nothing (`values`: a node, or LT_NONE for an absent key = null). */
static int values_clean(const ltape *t, uint32_t values, const sdefs *defs, int done) {
    int null = values == LT_NONE || t->n[values].type == LT_NULL;
    if (!null && t->n[values].type != LT_OBJ) return 1;
    if (!null)
        for (uint32_t k = values + 1; k < t->n[values].end; k = t->n[k + 1].end) {
            const sdef *d = definition(defs, &t->n[k]);
            /* SEG-ATTRIBUTE-UNDECLARED: mirrors validator/rules/segments.py::check_seg_attribute_undeclared */
            if (!d) return 0;
            /* SEG-ATTRIBUTE-VALUE-INVALID: mirrors validator/rules/segments.py::check_seg_attribute_value_invalid */
            if (t->n[k + 1].type != LT_NULL && !value_fits(t, k + 1, d)) return 0;
        }
    if (done)
        for (size_t i = 0; i < defs->n; i++) {
            if (!defs->v[i].mandatory) continue;
            uint32_t v = null ? LT_NONE : lt_get(t, values, defs->v[i].name.s, defs->v[i].name.len);
            /* SEG-ATTRIBUTE-MANDATORY-MISSING: mirrors validator/rules/segments.py::check_seg_attribute_mandatory_missing */
            if (v == LT_NONE || t->n[v].type == LT_NULL) return 0;
        }
    return 1;
}

/* _Walker.shape finds nothing. */
static int shape_clean(const ltape *t, const tkind *k, const lnode *shape, uint32_t points) {
    int bit = LT_STR_EQ(shape, "bbox") ? S_BBOX : LT_STR_EQ(shape, "point") ? S_POINT : 0;
    /* SEG-SHAPE-NOT-ALLOWED: mirrors validator/rules/segments.py::check_seg_shape_not_allowed */
    if (k->shapes != SHAPES_ANY && !(bit & k->shapes)) return 0;
    if (t->n[points].type != LT_ARR) return 1;
    uint32_t n = t->n[points].len;
    /* SEG-SHAPE-POINT-COUNT: mirrors validator/rules/segments.py::check_seg_shape_point_count */
    if (bit == S_BBOX && n != 2) return 0;
    if (bit == S_POINT && n != 1) return 0;
    if (LT_STR_EQ(shape, "polyline") && n < 2) return 0;
    if (LT_STR_EQ(shape, "polygon") && n < 3) return 0;
    uint32_t dims = k->three_d ? 3 : 2;
    for (uint32_t e = points + 1; e < t->n[points].end; e = t->n[e].end)
        /* SEG-SHAPE-VERTEX-DIMENSION: mirrors validator/rules/segments.py::check_seg_shape_vertex_dimension */
        if (t->n[e].type == LT_ARR && t->n[e].len != dims) return 0;
    return 1;
}

static int added(itab *t, int64_t id, int has_cid, int64_t cid) {
    if (itab_add(t, id, has_cid, cid)) return 1;
    PyErr_NoMemory();
    return 0;
}

/* _Walker.annotations finds nothing; fills `scope` (annotation id -> category id) for the links. `tracks`:
 * the sequence's track id -> category (NULL outside sequences). */
static int annotations_clean(lseg *r, const ltape *t, uint32_t list, const tkind *k, itab *scope, itab *tracks, int done) {
    if (list == LT_NONE || t->n[list].type != LT_ARR) return 1;
    if (tracks) itab_clear(&r->frame_tracks);
    for (uint32_t a = list + 1; a < t->n[list].end; a = t->n[a].end) {
        if (t->n[a].type != LT_OBJ) continue;
        int64_t aid = 0, cid = 0, tid = 0;
        int has_aid = integral(t, LT_GET(t, a, "id"), &aid);
        int has_cid = integral(t, LT_GET(t, a, "category_id"), &cid);
        int has_tid = integral(t, LT_GET(t, a, "track_id"), &tid);
        if (has_aid < 0 || has_cid < 0 || has_tid < 0) return 0;
        if (has_aid) {
            /* SEG-ANNOTATION-ID-DUPLICATE: mirrors validator/rules/segments.py::check_seg_annotation_id_duplicate */
            if (itab_find(scope, aid)) return 0;
            if (!added(scope, aid, has_cid, cid)) return 0;
        }
        const scat *c = has_cid ? category(r, cid) : NULL;
        /* SEG-CATEGORY-UNDECLARED: mirrors validator/rules/segments.py::check_seg_category_undeclared */
        if (has_cid && r->report_undeclared && !c) return 0;
        if (c && !values_clean(t, LT_GET(t, a, "attributes"), &c->attributes, done)) return 0;
        if (tracks && has_tid) {
            /* SEG-TRACK-DUPLICATE: mirrors validator/rules/segments.py::check_seg_track_duplicate */
            if (itab_find(&r->frame_tracks, tid)) return 0;
            if (!added(&r->frame_tracks, tid, 0, 0)) return 0;
            if (has_cid) {
                const islot *seen = itab_find(tracks, tid);
                /* SEG-TRACK-CATEGORY-CHANGED: mirrors validator/rules/segments.py::check_seg_track_category_changed */
                if (seen && seen->cid != cid) return 0;
                if (!seen && !added(tracks, tid, 1, cid)) return 0;
            }
        }
        /* SEG-TRACK-ID-MISMATCH: mirrors validator/rules/segments.py::check_seg_track_id_mismatch */
        else if (!tracks && has_tid && has_aid && tid != aid) return 0;
        uint32_t shape = LT_GET(t, a, "type"), points = LT_GET(t, a, "points");
        if (shape != LT_NONE && t->n[shape].type == LT_STR && points != LT_NONE &&
            !shape_clean(t, k, &t->n[shape], points))
            return 0;
    }
    return 1;
}

/* The category of id `id` of `scope` (scope.categories), or NULL. */
static const scat *category_of(const lseg *r, const itab *scope, int has, int64_t id) {
    if (!has) return NULL;
    const islot *slot = itab_find(scope, id);
    return slot && slot->has_cid ? category(r, slot->cid) : NULL;
}

/* _Walker.links finds nothing. */
static int links_clean(const lseg *r, const ltape *t, uint32_t list, const itab *scope) {
    if (list == LT_NONE || t->n[list].type != LT_ARR) return 1;
    for (uint32_t l = list + 1; l < t->n[list].end; l = t->n[l].end) {
        if (t->n[l].type != LT_OBJ) continue;
        int64_t from = 0, to = 0;
        int has_from = integral(t, LT_GET(t, l, "from_id"), &from);
        int has_to = integral(t, LT_GET(t, l, "to_id"), &to);
        if (has_from < 0 || has_to < 0) return 0;
        /* SEG-LINK-OBJECT-UNKNOWN: mirrors validator/rules/segments.py::check_seg_link_object_unknown */
        if ((has_from && !itab_find(scope, from)) || (has_to && !itab_find(scope, to))) return 0;
        const scat *source = category_of(r, scope, has_from, from);
        if (!source) continue;
        if (!values_clean(t, LT_GET(t, l, "attributes"), &source->link_attributes, 0)) return 0;
        uint32_t frames = LT_GET(t, l, "frames");
        if (frames != LT_NONE && t->n[frames].type == LT_ARR)
            for (uint32_t f = frames + 1; f < t->n[frames].end; f = t->n[f].end)
                if (t->n[f].type == LT_OBJ && !values_clean(t, LT_GET(t, f, "attributes"), &source->link_attributes, 0))
                    return 0;
        const islot *target = has_to ? itab_find(scope, to) : NULL;
        if (source->restricted && target && target->has_cid) {
            int allowed = 0;
            for (size_t k = 0; k < source->nallowed; k++) allowed |= source->allowed[k] == target->cid;
            /* SEG-LINK-CATEGORY-RESTRICTED: mirrors validator/rules/segments.py::check_seg_link_category_restricted */
            if (!allowed) return 0;
        }
    }
    return 1;
}

static int alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* local_asset(url) is certainly None: the URL has a scheme other than data: and file: (and is no Windows
 * drive path), or is empty. Anything else may name a local file: not sure. */
static int certainly_remote(const lnode *url) {
    const char *s = url->v.s;
    size_t n = url->len, i = 1;
    if (n == 0) return 1;
    if (!alpha(s[0])) return 0;
    while (i < n && (alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '.' || s[i] == '-')) i++;
    if (i >= n || s[i] != ':') return 0;
    if (i == 1 && n > 2 && (s[2] == '\\' || s[2] == '/')) return 0; /* C:\ or C:/ */
    if (i == 4 && (strncasecmp(s, "data", 4) == 0 || strncasecmp(s, "file", 4) == 0)) return 0;
    return 1;
}

/* _Walker.bitmap finds nothing on `holder` (a label payload, or a frame of a segmentation sequence): only a
 * local bitmap is decoded. */
static int bitmap_clean(const ltape *t, uint32_t holder) {
    uint32_t url = LT_GET(t, LT_GET(t, holder, "segmentation_bitmap"), "url");
    /* SEG-BITMAP-UNREADABLE: mirrors validator/rules/segments.py::check_seg_bitmap_unreadable */
    /* SEG-BITMAP-ID-UNANNOTATED: mirrors validator/rules/segments.py::check_seg_bitmap_id_unannotated */
    /* SEG-ANNOTATION-NOT-IN-BITMAP: mirrors validator/rules/segments.py::check_seg_annotation_not_in_bitmap */
    /* SEG-BITMAP-SIZE-MISMATCH: mirrors validator/rules/segments.py::check_seg_bitmap_size_mismatch */
    return url == LT_NONE || t->n[url].type != LT_STR || certainly_remote(&t->n[url]);
}

/* _Walker.point_annotations finds nothing on `holder` (a label payload, or a frame) with the ids of `scope`. */
static int points_clean(lseg *r, const ltape *t, uint32_t holder, itab *scope) {
    uint32_t list = LT_GET(t, holder, "point_annotations");
    if (list == LT_NONE || t->n[list].type != LT_ARR) return 1;
    if (++r->mark == 0) r->mark = 1; /* slots are added unmarked (0) */
    size_t marked = 0;
    for (uint32_t e = list + 1; e < t->n[list].end; e = t->n[e].end) {
        int type = t->n[e].type;
        /* set(values) keeps the first of 1, 1.0 and True, and bools are not ids there: not modelled */
        if (type == LT_FLOAT || type == LT_TRUE || type == LT_FALSE) return 0;
        if (type != LT_INT) continue; /* strings, null, lists, objects: never ids */
        int64_t v = t->n[e].v.i;
        islot *slot = itab_find(scope, v);
        /* SEG-POINT-ANNOTATION-UNKNOWN: mirrors validator/rules/segments.py::check_seg_point_annotation_unknown */
        if (!slot && v != 0) return 0;
        if (slot && slot->used != r->mark) {
            slot->used = r->mark;
            marked++;
        }
    }
    /* SEG-ANNOTATION-WITHOUT-POINTS: mirrors validator/rules/segments.py::check_seg_annotation_without_points */
    return marked == scope->count;
}

static int image_attributes_clean(const lseg *r, const ltape *t, uint32_t holder, int done) {
    uint32_t image = LT_GET(t, holder, "image_attributes");
    return image == LT_NONE || t->n[image].type == LT_NULL || values_clean(t, image, &r->image_attributes, done);
}

static int payload_clean(lseg *r, const ltape *t, uint32_t attrs, const tkind *k, uint32_t sample_attrs, itab *out, int done);

/* _Walker.sequence finds nothing; `out` gets every id of the frames and every track with a category. */
static int sequence_clean(lseg *r, const ltape *t, uint32_t attrs, uint32_t frames, const tkind *k, uint32_t sample_attrs,
                          itab *out, int done) {
    uint32_t sample_frames = LT_GET(t, sample_attrs, "frames");
    /* SEG-FRAME-COUNT-MISMATCH: mirrors validator/rules/segments.py::check_seg_frame_count_mismatch */
    if (sample_frames != LT_NONE && t->n[sample_frames].type == LT_ARR && t->n[sample_frames].len != t->n[frames].len)
        return 0;
    itab_clear(&r->tracks);
    for (uint32_t f = frames + 1; f < t->n[frames].end; f = t->n[f].end) {
        if (t->n[f].type != LT_OBJ) continue;
        itab_clear(&r->frame);
        if (!annotations_clean(r, t, LT_GET(t, f, "annotations"), k, &r->frame, &r->tracks, done)) return 0;
        if (!itab_merge(out, &r->frame)) {
            PyErr_NoMemory();
            return 0;
        }
        if (!image_attributes_clean(r, t, f, done) || !links_clean(r, t, LT_GET(t, f, "links"), &r->frame)) return 0;
        if (k->frame_bitmap && !bitmap_clean(t, f)) return 0;
        if (k->frame_points && !points_clean(r, t, f, &r->frame)) return 0;
    }
    /* the tracks join the ids the sequence's links may name (setdefault: an id's own category first) */
    for (size_t i = 0; i < r->tracks.cap; i++) {
        const islot *track = &r->tracks.slots[i];
        if (track->gen != r->tracks.gen) continue;
        islot *known = itab_find(out, track->id);
        if (!known && !added(out, track->id, 1, track->cid)) return 0;
        if (known && !known->has_cid) {
            known->has_cid = 1;
            known->cid = track->cid;
        }
    }
    return links_clean(r, t, LT_GET(t, attrs, "links"), out);
}

/* `a` == `b` as Python compares them, for values both absent/null or both strings; anything else is "not
 * sure" (0), so is a difference. */
static int same_name(const ltape *t, uint32_t a, uint32_t b) {
    int none_a = a == LT_NONE || t->n[a].type == LT_NULL, none_b = b == LT_NONE || t->n[b].type == LT_NULL;
    if (none_a || none_b) return none_a && none_b;
    return t->n[a].type == LT_STR && t->n[b].type == LT_STR && t->n[a].len == t->n[b].len &&
           memcmp(t->n[a].v.s, t->n[b].v.s, t->n[a].len) == 0;
}

/* _Walker.multisensor finds nothing; `out` gets the union of the sensors' ids. */
static int multisensor_clean(lseg *r, const ltape *t, uint32_t attrs, uint32_t sample_attrs, itab *out, int done) {
    uint32_t sensors = LT_GET(t, attrs, "sensors");
    if (sensors == LT_NONE || t->n[sensors].type != LT_ARR) return 1;
    uint32_t sample_sensors = LT_GET(t, sample_attrs, "sensors");
    if (sample_sensors != LT_NONE && t->n[sample_sensors].type != LT_ARR) sample_sensors = LT_NONE;
    uint32_t counterpart = sample_sensors == LT_NONE ? LT_NONE : sample_sensors + 1, index = 0;
    for (uint32_t s = sensors + 1; s < t->n[sensors].end; s = t->n[s].end, index++) {
        uint32_t twin = LT_NONE; /* sample sensor `index` */
        if (sample_sensors != LT_NONE && index < t->n[sample_sensors].len) {
            twin = counterpart;
            counterpart = t->n[counterpart].end;
        }
        if (t->n[s].type != LT_OBJ) continue;
        uint32_t name = LT_GET(t, s, "name"), kind = LT_GET(t, s, "task_type");
        if (sample_sensors != LT_NONE) {
            /* SEG-SENSOR-MISMATCH: mirrors validator/rules/segments.py::check_seg_sensor_mismatch */
            if (twin == LT_NONE || t->n[twin].type != LT_OBJ || !same_name(t, name, LT_GET(t, twin, "name")) ||
                !same_name(t, kind, LT_GET(t, twin, "task_type")))
                return 0;
        }
        uint32_t sensor_attrs = LT_GET(t, s, "attributes");
        if (sensor_attrs == LT_NONE || t->n[sensor_attrs].type != LT_OBJ || kind == LT_NONE || t->n[kind].type != LT_STR)
            continue;
        tkind sensor_kind = kind_of(r, t->n[kind].v.s, t->n[kind].len);
        if (sensor_kind.multisensor) return 0; /* a multi-sensor payload inside a sensor: not modelled */
        uint32_t twin_attrs = twin != LT_NONE ? LT_GET(t, twin, "attributes") : LT_NONE;
        itab_clear(&r->sensor);
        if (!payload_clean(r, t, sensor_attrs, &sensor_kind, twin_attrs, &r->sensor, done)) return 0;
        if (!itab_merge(out, &r->sensor)) {
            PyErr_NoMemory();
            return 0;
        }
    }
    /* SEG-SENSOR-MISMATCH: mirrors validator/rules/segments.py::check_seg_sensor_mismatch */
    if (sample_sensors != LT_NONE && t->n[sample_sensors].len > t->n[sensors].len) return 0;
    return links_clean(r, t, LT_GET(t, attrs, "links"), out);
}

/* _Walker.payload finds nothing; `out` (cleared by the caller) gets the ids its links may name. */
static int payload_clean(lseg *r, const ltape *t, uint32_t attrs, const tkind *k, uint32_t sample_attrs, itab *out, int done) {
    if (k->multisensor) return multisensor_clean(r, t, attrs, sample_attrs, out, done);
    if (!image_attributes_clean(r, t, attrs, done)) return 0;
    uint32_t frames = LT_GET(t, attrs, "frames");
    if (k->sequence && frames != LT_NONE && t->n[frames].type == LT_ARR)
        return sequence_clean(r, t, attrs, frames, k, sample_attrs, out, done);
    if (!annotations_clean(r, t, LT_GET(t, attrs, "annotations"), k, out, NULL, done)) return 0;
    if (!links_clean(r, t, LT_GET(t, attrs, "links"), out)) return 0;
    if (k->bitmap) return bitmap_clean(t, attrs);
    if (k->points) return points_clean(r, t, attrs, out);
    return 1;
}

/* posixpath.splitext(name)[0]: the length of the stem. */
static size_t stem_length(const char *s, size_t n) {
    size_t sep = 0, dot = 0;
    int has_sep = 0, has_dot = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/') sep = i, has_sep = 1;
        else if (s[i] == '.') dot = i, has_dot = 1;
    }
    if (!has_dot || (has_sep && dot < sep)) return n;
    for (size_t i = has_sep ? sep + 1 : 0; i < dot; i++)
        if (s[i] != '.') return dot;
    return n;
}

static int remember(hvec *set, const char *s, size_t n, uint32_t sample) {
    if (hvec_add(set, s, n, sample)) return 1;
    PyErr_NoMemory();
    return 0;
}

int lseg_sample_clean(lseg *r, const ltape *t, uint32_t sample) {
    uint32_t index = r->samples++;
    if (t->n[sample].type != LT_OBJ) return 0;
    uint32_t uuid = LT_GET(t, sample, "uuid"), name = LT_GET(t, sample, "name");
    /* SEG-SAMPLE-UUID-DUPLICATE: mirrors validator/rules/segments.py::check_seg_sample_uuid_duplicate */
    if (uuid != LT_NONE && t->n[uuid].type == LT_STR &&
        !remember(&r->uuids, t->n[uuid].v.s, t->n[uuid].len, index))
        return 0;
    /* SEG-SAMPLE-NAME-COLLISION: mirrors validator/rules/segments.py::check_seg_sample_name_collision */
    if (r->image && name != LT_NONE && t->n[name].type == LT_STR &&
        !remember(&r->stems, t->n[name].v.s, stem_length(t->n[name].v.s, t->n[name].len), index))
        return 0;
    if (r->unknown_rules) return 0;
    uint32_t labels = LT_GET(t, sample, "labels");
    if (labels == LT_NONE || t->n[labels].type != LT_OBJ) return 1;
    if (r->has_labelsets) {
        for (size_t i = 0; i < r->nlabelsets; i++)
            /* SEG-LABELSET-MISSING: mirrors validator/rules/segments.py::check_seg_labelset_missing */
            if (lt_get(t, labels, r->labelsets[i].s, r->labelsets[i].len) == LT_NONE) return 0;
        /* every declared labelset has its key: one key more is one not declared */
        /* SEG-LABELSET-UNDECLARED: mirrors validator/rules/segments.py::check_seg_labelset_undeclared */
        if (t->n[labels].len != r->nlabelsets) {
            for (uint32_t k = labels + 1; k < t->n[labels].end; k = t->n[k + 1].end) {
                int declared = 0;
                for (size_t i = 0; i < r->nlabelsets && !declared; i++)
                    declared = lt_str_eq(&t->n[k], r->labelsets[i].s, r->labelsets[i].len);
                if (!declared) return 0;
            }
        }
    }
    uint32_t sample_attrs = LT_GET(t, sample, "attributes");
    for (uint32_t k = labels + 1; k < t->n[labels].end; k = t->n[k + 1].end) {
        uint32_t label = k + 1, attrs = LT_GET(t, label, "attributes");
        if (attrs == LT_NONE || t->n[attrs].type != LT_OBJ) continue;
        uint32_t status = LT_GET(t, label, "label_status");
        int done = status != LT_NONE && (LT_STR_EQ(&t->n[status], "LABELED") || LT_STR_EQ(&t->n[status], "REVIEWED") ||
                                         LT_STR_EQ(&t->n[status], "VERIFIED"));
        itab_clear(&r->label);
        if (!payload_clean(r, t, attrs, &r->kind, sample_attrs, &r->label, done)) return 0;
    }
    return 1;
}
