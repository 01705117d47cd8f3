/* labelspec._native: the native fast path of `labelspec validate` (see validator/native/fastpath.py).
 *
 * check_file() maps an export, parses it into a tape (one root-list item at a time when the schema allows
 * it, so memory stays bounded) and runs the compiled schema program and the format's rule deciders on
 * it. It answers only "certainly clean" or "not certainly clean"; the Python reference path writes the
 * findings of everything else. The small wrapper types (Schema, Regex, EncordRules, EncordOntology) are
 * built once per format/profile/ontology by validator/native/fastpath.py and also serve the tests.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coco.h"
#include "datagym_rules.h"
#include "encord_ontology.h"
#include "encord_rules.h"
#include "regex.h"
#include "schema.h"
#include "segments_rules.h"
#include "tape.h"

/* ------------------------------------------------------------------------------------ wrapper types */

typedef struct {
    PyObject_HEAD
    lschema *schema;
} SchemaObject;

typedef struct {
    PyObject_HEAD
    ldfa *dfa;
} RegexObject;

typedef struct {
    PyObject_HEAD
    lenc *rules;
} EncordRulesObject;

typedef struct {
    PyObject_HEAD
    lonto *onto;
} EncordOntologyObject;

typedef struct {
    PyObject_HEAD
    ldg *rules;
} DataGymRulesObject;

typedef struct {
    PyObject_HEAD
    lseg *rules;
} SegmentsRulesObject;

static PyTypeObject SchemaType, RegexType, EncordRulesType, EncordOntologyType, DataGymRulesType, SegmentsRulesType;

#define WRAPPER_NEW(Name, Obj, field, build)                                                            \
    static PyObject *Name##_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {                   \
        PyObject *spec;                                                                                 \
        if (kwds && PyDict_Size(kwds)) {                                                                \
            PyErr_SetString(PyExc_TypeError, #Name "() takes no keyword arguments");                    \
            return NULL;                                                                                \
        }                                                                                               \
        if (!PyArg_ParseTuple(args, "O", &spec)) return NULL;                                           \
        Obj *self = (Obj *)type->tp_alloc(type, 0);                                                     \
        if (!self) return NULL;                                                                         \
        self->field = build(spec);                                                                      \
        if (!self->field) {                                                                             \
            Py_DECREF(self);                                                                            \
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, #Name ": cannot build");           \
            return NULL;                                                                                \
        }                                                                                               \
        return (PyObject *)self;                                                                        \
    }

#define WRAPPER_DEALLOC(Name, Obj, field, release)                                                      \
    static void Name##_dealloc(Obj *self) {                                                             \
        if (self->field) release(self->field);                                                          \
        Py_TYPE(self)->tp_free((PyObject *)self);                                                       \
    }

WRAPPER_NEW(Schema, SchemaObject, schema, ls_build)
WRAPPER_DEALLOC(Schema, SchemaObject, schema, ls_free)
WRAPPER_NEW(Regex, RegexObject, dfa, ldfa_build)
WRAPPER_DEALLOC(Regex, RegexObject, dfa, ldfa_free)
WRAPPER_NEW(EncordRules, EncordRulesObject, rules, lenc_build)
WRAPPER_DEALLOC(EncordRules, EncordRulesObject, rules, lenc_free)
WRAPPER_NEW(EncordOntology, EncordOntologyObject, onto, lonto_build)
WRAPPER_DEALLOC(EncordOntology, EncordOntologyObject, onto, lonto_free)
WRAPPER_NEW(DataGymRules, DataGymRulesObject, rules, ldg_build)
WRAPPER_DEALLOC(DataGymRules, DataGymRulesObject, rules, ldg_free)
WRAPPER_NEW(SegmentsRules, SegmentsRulesObject, rules, lseg_build)
WRAPPER_DEALLOC(SegmentsRules, SegmentsRulesObject, rules, lseg_free)

/* Parse `data` as one document into `t`; 0 and a Python-free failure when it is not plain JSON. */
static int parse_bytes(ltape *t, Py_buffer *view) {
    return lt_parse_document(t, (const char *)view->buf, (size_t)view->len) == LT_OK;
}

/* The test entry points: parse `view` (released here) and ask `decide` about its root; a document the
 * parser refuses is never clean. */
typedef int (*decide_fn)(void *checker, const ltape *t, unsigned int arg);

static PyObject *decide_on_bytes(Py_buffer *view, decide_fn decide, void *checker, unsigned int arg) {
    ltape t;
    lt_init(&t);
    int ok = parse_bytes(&t, view) && decide(checker, &t, arg);
    lt_free(&t);
    PyBuffer_Release(view);
    if (PyErr_Occurred()) return NULL;
    return PyBool_FromLong(ok);
}

static int schema_valid(void *schema, const ltape *t, unsigned int entry) { return ls_valid(schema, t, 0, entry); }
static int rules_clean(void *rules, const ltape *t, unsigned int index) { return lenc_row_clean(rules, t, 0, index); }
static int onto_clean(void *onto, const ltape *t, unsigned int unused) {
    (void)unused;
    return lonto_row_clean(onto, t, 0);
}

static PyObject *Schema_valid(SchemaObject *self, PyObject *args) {
    Py_buffer view;
    unsigned int entry;
    if (!PyArg_ParseTuple(args, "y*I", &view, &entry)) return NULL;
    return decide_on_bytes(&view, schema_valid, self->schema, entry);
}

static PyObject *Regex_search(RegexObject *self, PyObject *arg) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(arg, &n);
    if (!s) return NULL;
    int found = ldfa_search(self->dfa, s, (size_t)n);
    if (found < 0) Py_RETURN_NONE;
    return PyBool_FromLong(found);
}

static PyObject *EncordRules_row_clean(EncordRulesObject *self, PyObject *args) {
    Py_buffer view;
    unsigned int index = 0;
    if (!PyArg_ParseTuple(args, "y*|I", &view, &index)) return NULL;
    return decide_on_bytes(&view, rules_clean, self->rules, index);
}

static PyObject *EncordOntology_row_clean(EncordOntologyObject *self, PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    return decide_on_bytes(&view, onto_clean, self->onto, 0);
}

static PyMethodDef Schema_methods[] = {
    {"valid", (PyCFunction)Schema_valid, METH_VARARGS,
     "valid(data: bytes, entry: int) -> bool: the document conforms to the program's schema `entry`."},
    {NULL, NULL, 0, NULL}};
static PyMethodDef Regex_methods[] = {
    {"search", (PyCFunction)Regex_search, METH_O,
     "search(s: str) -> bool | None: re.search(pattern, s) is not None; None when undecided (non-ASCII)."},
    {NULL, NULL, 0, NULL}};
static PyMethodDef EncordRules_methods[] = {
    {"row_clean", (PyCFunction)EncordRules_row_clean, METH_VARARGS,
     "row_clean(row: bytes, index: int = 0) -> bool: no non-ontology Encord rule fires on the row."},
    {NULL, NULL, 0, NULL}};
static PyMethodDef DataGymRules_methods[] = {{NULL, NULL, 0, NULL}};
static PyMethodDef SegmentsRules_methods[] = {{NULL, NULL, 0, NULL}};
static PyMethodDef EncordOntology_methods[] = {
    {"row_clean", (PyCFunction)EncordOntology_row_clean, METH_VARARGS,
     "row_clean(row: bytes) -> bool: no ontology rule fires on the row."},
    {NULL, NULL, 0, NULL}};

#define WRAPPER_TYPE(Name, Obj, doc)                                                                    \
    static PyTypeObject Name##Type = {                                                                  \
        PyVarObject_HEAD_INIT(NULL, 0).tp_name = "labelspec._native." #Name,                            \
        .tp_basicsize = sizeof(Obj),                                                                    \
        .tp_flags = Py_TPFLAGS_DEFAULT,                                                                 \
        .tp_doc = doc,                                                                                  \
        .tp_new = Name##_new,                                                                           \
        .tp_dealloc = (destructor)Name##_dealloc,                                                       \
        .tp_methods = Name##_methods,                                                                   \
    };

WRAPPER_TYPE(Schema, SchemaObject, "A compiled schema program (validator/native/schema_program.py builds its IR).")
WRAPPER_TYPE(Regex, RegexObject, "A pattern compiled to a DFA (validator/native/regex_dfa.py builds the tables).")
WRAPPER_TYPE(EncordRules, EncordRulesObject, "The Encord rules that need no ontology, as a clean decider.")
WRAPPER_TYPE(EncordOntology, EncordOntologyObject, "The Encord ontology rules, as a clean decider.")
WRAPPER_TYPE(DataGymRules, DataGymRulesObject, "The DataGym rules, as a clean decider (check_file's rules).")
WRAPPER_TYPE(SegmentsRules, SegmentsRulesObject, "The Segments.ai sample rules, as a clean decider (check_file's rules).")

/* ------------------------------------------------------------------------------------------ checking */

typedef struct {
    const char *data;
    size_t size;
    int fd;
    void *map;
} mapped_file;

static int map_file(PyObject *path, mapped_file *m) {
    memset(m, 0, sizeof *m);
    m->fd = -1;
    PyObject *encoded;
    if (!PyUnicode_FSConverter(path, &encoded)) return 0;
    m->fd = open(PyBytes_AS_STRING(encoded), O_RDONLY | O_CLOEXEC);
    Py_DECREF(encoded);
    struct stat st;
    if (m->fd < 0 || fstat(m->fd, &st) != 0 || !S_ISREG(st.st_mode)) return 1; /* size 0: not clean */
    m->size = (size_t)st.st_size;
    if (m->size == 0) return 1;
    m->map = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, m->fd, 0);
    if (m->map == MAP_FAILED) {
        m->map = NULL;
        m->size = 0;
        return 1;
    }
    madvise(m->map, m->size, MADV_SEQUENTIAL);
    m->data = m->map;
    return 1;
}

static void unmap_file(mapped_file *m) {
    if (m->map) munmap(m->map, m->size);
    if (m->fd >= 0) close(m->fd);
}

static size_t skip_ws(const char *s, size_t pos, size_t len) {
    while (pos < len && (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t')) pos++;
    return pos;
}

/* The result of check_file (see its docstring in module_methods). */
static PyObject *verdict(int complete, const char *reason, size_t where, Py_ssize_t items, PyObject *dirty, size_t open,
                         size_t close) {
    return Py_BuildValue("{s:N,s:s,s:n,s:n,s:O,s:n,s:n}", "complete", PyBool_FromLong(complete), "reason",
                         reason ? reason : "", "offset", (Py_ssize_t)where, "items", items, "dirty", dirty ? dirty : Py_None,
                         "open", (Py_ssize_t)open, "close", (Py_ssize_t)close);
}

/* A complete verdict that also says where the list's first element is (start, end): the context that the
 * reference path needs to judge the other elements of a list whose head is special (DataGym). */
static PyObject *verdict_with_head(PyObject *result, size_t head_start, size_t head_end) {
    if (!result) return NULL;
    PyObject *range = Py_BuildValue("(nn)", (Py_ssize_t)head_start, (Py_ssize_t)head_end);
    if (!range || PyDict_SetItemString(result, "head", range) < 0) Py_CLEAR(result);
    Py_XDECREF(range);
    return result;
}

/* The already checked part of the mapping leaves the page cache accounting of this process (RSS). */
static void release_done(mapped_file *m, size_t done) {
    long page = sysconf(_SC_PAGESIZE);
    size_t upto = done / (size_t)page * (size_t)page;
    if (upto) madvise(m->map, upto, MADV_DONTNEED);
}

/* Add (index, start, end) to `dirty`; 0 on a Python error. */
static int note_dirty(PyObject *dirty, Py_ssize_t index, size_t start, size_t end) {
    PyObject *entry = Py_BuildValue("(nnn)", index, (Py_ssize_t)start, (Py_ssize_t)end);
    int ok = entry && PyList_Append(dirty, entry) == 0;
    Py_XDECREF(entry);
    return ok;
}

static PyObject *check_file(PyObject *self, PyObject *args, PyObject *kwds) {
    (void)self;
    static char *kwlist[] = {"path",  "schema", "root",     "items",         "rules", "ontology", "max_dirty",
                             "start", "stop",   "progress", "progress_step", "head",  "list_at", NULL};
    PyObject *path, *rules_obj = Py_None, *onto_obj = Py_None, *progress = Py_None;
    SchemaObject *schema;
    int root, items, head = -1;
    Py_ssize_t max_dirty = 0, start_at = -1, stop_at = -1, progress_step = 4 << 20, list_at = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!ii|OOnnnOnin", kwlist, &path, &SchemaType, &schema, &root, &items,
                                     &rules_obj, &onto_obj, &max_dirty, &start_at, &stop_at, &progress,
                                     &progress_step, &head, &list_at))
        return NULL;
    if (progress != Py_None && !PyCallable_Check(progress)) return PyErr_Format(PyExc_TypeError, "progress");
    if (progress_step < 1) progress_step = 1;
    lenc *rules = NULL;
    lonto *onto = NULL;
    ldg *datagym = NULL;
    lseg *segments = NULL;
    if (rules_obj != Py_None) {
        if (PyObject_TypeCheck(rules_obj, &DataGymRulesType)) datagym = ((DataGymRulesObject *)rules_obj)->rules;
        else if (PyObject_TypeCheck(rules_obj, &SegmentsRulesType)) segments = ((SegmentsRulesObject *)rules_obj)->rules;
        else if (PyObject_TypeCheck(rules_obj, &EncordRulesType)) rules = ((EncordRulesObject *)rules_obj)->rules;
        else return PyErr_Format(PyExc_TypeError, "rules");
    }
    /* a list whose first element is special (head) is checked from its start, by one process */
    if ((head >= 0 || datagym) && (start_at >= 0 || stop_at >= 0))
        return PyErr_Format(PyExc_ValueError, "a list with a head is checked whole");
    /* a list inside the document (list_at: the offset of its '['; Segments' dataset.samples) is checked whole,
     * by one process; what surrounds it is the caller's to judge */
    if ((list_at >= 0 || segments) && (start_at >= 0 || stop_at >= 0 || head >= 0 || list_at < 0))
        return PyErr_Format(PyExc_ValueError, "a nested list is checked whole, from list_at");
    if (datagym) ldg_begin(datagym);
    if (segments) lseg_begin(segments);
    size_t head_start = 0, head_end = 0;
    if (onto_obj != Py_None) {
        if (!PyObject_TypeCheck(onto_obj, &EncordOntologyType)) return PyErr_Format(PyExc_TypeError, "ontology");
        onto = ((EncordOntologyObject *)onto_obj)->onto;
    }
    mapped_file m;
    if (!map_file(path, &m)) return NULL;
    PyObject *result = NULL, *dirty = PyList_New(0);
    ltape t;
    lt_init(&t);
    if (!dirty) goto done;
    if (!m.data) {
        result = verdict(0, "not a readable, non-empty regular file", 0, 0, NULL, 0, 0);
        goto done;
    }
    if (items < 0) { /* the whole document at once; per-item deciders need item mode */
        if (rules || onto || datagym || segments) {
            result = verdict(0, "rule deciders need item mode", 0, 0, NULL, 0, 0);
            goto done;
        }
        int rc = lt_parse_document(&t, m.data, m.size);
        if (rc != LT_OK) {
            result = verdict(0, rc == LT_NOMEM ? "out of memory" : t.error, t.error_at, 0, NULL, 0, 0);
            goto done;
        }
        int ok = ls_valid(schema->schema, &t, 0, (uint32_t)root);
        if (PyErr_Occurred()) goto done;
        result = verdict(ok, ok ? NULL : "structure", 0, 0, dirty, 0, 0);
        goto done;
    }
    /* A part of the list (start/stop: offsets of item starts, -1: from the '[' / to the ']') or all of it. */
    size_t pos = skip_ws(m.data, list_at >= 0 ? (size_t)list_at : 0, m.size), released = 0, open = pos;
    if (list_at >= 0 && (size_t)list_at >= m.size) {
        result = verdict(0, "list_at is past the end", 0, 0, NULL, 0, 0);
        goto done;
    }
    if (start_at >= 0) {
        pos = open = (size_t)start_at;
    } else {
        if (pos >= m.size || m.data[pos] != '[') {
            result = verdict(0, "not a list", pos, 0, NULL, 0, 0);
            goto done;
        }
        pos = skip_ws(m.data, pos + 1, m.size);
    }
    Py_ssize_t count = 0;
    size_t reported = pos; /* progress(offset) is called each time progress_step more bytes are read */
    const char *first_failure = NULL;
    if (start_at < 0 && pos < m.size && m.data[pos] == ']') {
        pos++;
    } else {
        for (;;) {
            size_t start = pos;
            lt_reset(&t);
            int rc = lt_parse_value(&t, m.data, m.size, &pos);
            if (rc != LT_OK) {
                result = verdict(0, rc == LT_NOMEM ? "out of memory" : t.error, t.error_at, count, NULL, 0, 0);
                goto done;
            }
            const char *failed = NULL;
            int first = count == 0 && start_at < 0;
            uint32_t entry = (uint32_t)(first && head >= 0 ? head : items);
            if (first) {
                head_start = start;
                head_end = pos;
            }
            /* the DataGym decider sees every element, valid or not: it collects the ids that rules comparing
             * elements look at (a repeat anywhere sends the whole file to the reference path) */
            int datagym_clean = !datagym || (first ? ldg_head_clean(datagym, &t, 0) : ldg_task_clean(datagym, &t, 0));
            /* so does the Segments decider (sample uuids and name stems) */
            if (segments && !lseg_sample_clean(segments, &t, 0)) {
                if (PyErr_Occurred()) goto done;
                datagym_clean = 0;
            }
            if (!ls_valid(schema->schema, &t, 0, entry)) failed = "structure";
            else if (rules && !lenc_row_clean(rules, &t, 0, (uint32_t)count)) failed = "rules";
            else if (onto && !lonto_row_clean(onto, &t, 0)) failed = "ontology rules";
            else if (!datagym_clean) failed = "rules";
            if (PyErr_Occurred()) goto done;
            if (failed && first && (head >= 0 || datagym)) {
                /* the head is the context of every other element: the reference path judges the file */
                result = verdict(0, failed, start, count, NULL, 0, 0);
                goto done;
            }
            if (datagym && ldg_items_conflict(datagym)) {
                result = verdict(0, "an id is repeated (a rule comparing items decides)", start, count, NULL, 0, 0);
                goto done;
            }
            if (failed) {
                if (!first_failure) first_failure = failed;
                if (PyList_GET_SIZE(dirty) >= max_dirty) {
                    result = verdict(0, failed, start, count, NULL, 0, 0);
                    goto done;
                }
                if (!note_dirty(dirty, count, start, pos)) goto done;
            }
            count++;
            if (pos - released > (16u << 20)) {
                release_done(&m, pos);
                released = pos;
            }
            if (progress != Py_None && pos - reported >= (size_t)progress_step) {
                reported = pos;
                PyObject *ignored = PyObject_CallFunction(progress, "n", (Py_ssize_t)pos);
                if (!ignored) goto done;
                Py_DECREF(ignored);
            }
            pos = skip_ws(m.data, pos, m.size);
            if (pos < m.size && m.data[pos] == ',') {
                pos = skip_ws(m.data, pos + 1, m.size);
                if (stop_at >= 0 && pos >= (size_t)stop_at) {
                    /* the part ends where the next one starts: only then were both splits item starts */
                    if (pos == (size_t)stop_at) {
                        result = verdict(1, first_failure, 0, count, dirty, open, 0);
                    } else {
                        result = verdict(0, "the split is not at an item", pos, count, NULL, 0, 0);
                    }
                    goto done;
                }
                continue;
            }
            if (pos < m.size && m.data[pos] == ']' && stop_at < 0) {
                pos++;
                break;
            }
            result = verdict(0, stop_at < 0 ? "expected ',' or ']'" : "the split is not at an item", pos, count,
                             NULL, 0, 0);
            goto done;
        }
    }
    size_t close = pos - 1;
    pos = skip_ws(m.data, pos, m.size);
    if (segments) { /* the samples whose uuid or name stem repeats go to the reference path with the dirty ones */
        PyObject *repeated = lseg_repeated(segments);
        if (!repeated) goto done;
        result = verdict(1, first_failure, 0, count, dirty, open, close);
        if (result && PyDict_SetItemString(result, "repeated", repeated) < 0) Py_CLEAR(result);
        Py_DECREF(repeated);
    } else if (list_at >= 0) result = verdict(1, first_failure, 0, count, dirty, open, close);
    else if (pos == m.size) result = verdict_with_head(verdict(1, first_failure, 0, count, dirty, open, close), head_start, head_end);
    else result = verdict(0, "data after the document", pos, count, NULL, 0, 0);
done:
    Py_XDECREF(dirty);
    lt_free(&t);
    unmap_file(&m);
    return result;
}

/* ------------------------------------------------------------------------------------------ COCO */

/* One member of the root object the schema names: its whole value's node, its elements' node (-1: not
 * streamed element by element), and the COCO section its elements belong to. */
typedef enum { SECTION_NONE, SECTION_IMAGES, SECTION_ANNOTATIONS, SECTION_CATEGORIES } coco_section;

typedef struct {
    const char *key;
    Py_ssize_t len;
    int value, items;
    coco_section section;
    PyObject *samples; /* (start, end) of the first elements (annotations, categories): format detection */
} root_member;

static coco_section section_of(const char *key, Py_ssize_t len) {
    if (len == 6 && memcmp(key, "images", 6) == 0) return SECTION_IMAGES;
    if (len == 11 && memcmp(key, "annotations", 11) == 0) return SECTION_ANNOTATIONS;
    if (len == 10 && memcmp(key, "categories", 10) == 0) return SECTION_CATEGORIES;
    return SECTION_NONE;
}

/* 1: clean; 0: not sure (the rules); 2: an annotation of the other COCO format (instance / panoptic). */
static int element_clean(lcoco *c, coco_section section, int panoptic, const ltape *t, uint32_t node) {
    switch (section) {
    case SECTION_IMAGES: return lcoco_image(c, t, node);
    case SECTION_ANNOTATIONS: return panoptic ? lcoco_panoptic_annotation(c, t, node) : lcoco_annotation(c, t, node);
    case SECTION_CATEGORIES: return lcoco_category(c, t, node);
    default: return 1;
    }
}

static const char *element_reason(int verdict) { return verdict == 2 ? "an annotation of the other COCO format" : "rules"; }

/* An annotation of the other COCO format (panoptic ones list segments_info): asked before the schema, whose
 * annotation entry is the format's own. */
static int other_format(coco_section section, int panoptic, const ltape *t, uint32_t node) {
    if (section != SECTION_ANNOTATIONS || t->n[node].type != LT_OBJ) return 0;
    return (LT_GET(t, node, "segments_info") != LT_NONE) != (panoptic != 0);
}

static PyObject *column_bytes(const void *v, size_t n) {
    return PyBytes_FromStringAndSize(v ? (const char *)v : "", (Py_ssize_t)(n * 8));
}

static PyObject *coco_columns(const lcoco *c) {
    return Py_BuildValue(
        "{s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N}", "image_id",
        column_bytes(c->image_id.v, c->image_id.n), "image_height", column_bytes(c->image_height.v, c->image_height.n),
        "image_width", column_bytes(c->image_width.v, c->image_width.n), "ann_id", column_bytes(c->ann_id.v, c->ann_id.n),
        "ann_image", column_bytes(c->ann_image.v, c->ann_image.n), "ann_category",
        column_bytes(c->ann_category.v, c->ann_category.n), "ann_keypoints",
        column_bytes(c->ann_keypoints.v, c->ann_keypoints.n), "ann_rle_height",
        column_bytes(c->ann_rle_height.v, c->ann_rle_height.n), "ann_rle_width",
        column_bytes(c->ann_rle_width.v, c->ann_rle_width.n), "ann_x", column_bytes(c->ann_x.v, c->ann_x.n), "ann_y",
        column_bytes(c->ann_y.v, c->ann_y.n), "ann_w", column_bytes(c->ann_w.v, c->ann_w.n), "ann_h",
        column_bytes(c->ann_h.v, c->ann_h.n), "category_id", column_bytes(c->category_id.v, c->category_id.n),
        "category_keypoints", column_bytes(c->category_keypoints.v, c->category_keypoints.n));
}

/* The offsets columns (image_at, annotation_at, category_at), added to the columns dict `cols`. */
static int add_ranges(PyObject *cols, const lcoco *c) {
    const char *names[] = {"image_at", "annotation_at", "category_at"};
    const lcol_i64 *at[] = {&c->image_at, &c->ann_at, &c->category_at};
    for (int i = 0; i < 3; i++) {
        PyObject *value = column_bytes(at[i]->v, at[i]->n);
        if (!value || PyDict_SetItemString(cols, names[i], value) < 0) {
            Py_XDECREF(value);
            return 0;
        }
        Py_DECREF(value);
    }
    return 1;
}

static lcol_i64 *range_column(lcoco *c, coco_section section) {
    switch (section) {
    case SECTION_IMAGES: return &c->image_at;
    case SECTION_ANNOTATIONS: return &c->ann_at;
    case SECTION_CATEGORIES: return &c->category_at;
    default: return NULL;
    }
}

static PyObject *panoptic_columns(const lcoco *c) {
    return Py_BuildValue(
        "{s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N}", "image_id", column_bytes(c->image_id.v, c->image_id.n),
        "image_height", column_bytes(c->image_height.v, c->image_height.n), "image_width",
        column_bytes(c->image_width.v, c->image_width.n), "category_id", column_bytes(c->category_id.v, c->category_id.n),
        "pan_image", column_bytes(c->pan_image.v, c->pan_image.n), "seg_category",
        column_bytes(c->seg_category.v, c->seg_category.n), "seg_image", column_bytes(c->seg_image.v, c->seg_image.n),
        "seg_x", column_bytes(c->seg_x.v, c->seg_x.n), "seg_y", column_bytes(c->seg_y.v, c->seg_y.n), "seg_w",
        column_bytes(c->seg_w.v, c->seg_w.n), "seg_h", column_bytes(c->seg_h.v, c->seg_h.n));
}

static PyObject *coco_verdict(const char *reason, size_t where) {
    return Py_BuildValue("{s:O,s:s,s:n}", "complete", Py_False, "reason", reason, "offset", (Py_ssize_t)where);
}

#define MAX_ROOT_KEYS 4096

static PyObject *check_coco(PyObject *self, PyObject *args, PyObject *kwds) {
    (void)self;
    static char *kwlist[] = {"path", "schema", "members", "deny", "samples", "progress", "progress_step", "ranges",
                             "panoptic", NULL};
    PyObject *path, *members_obj, *deny, *progress = Py_None;
    SchemaObject *schema;
    Py_ssize_t sample_limit = 5, progress_step = 4 << 20;
    int ranges = 0, panoptic = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!O!O!|nOnpp", kwlist, &path, &SchemaType, &schema, &PyDict_Type,
                                     &members_obj, &PyTuple_Type, &deny, &sample_limit, &progress, &progress_step,
                                     &ranges, &panoptic))
        return NULL;
    if (progress != Py_None && !PyCallable_Check(progress)) return PyErr_Format(PyExc_TypeError, "progress");
    if (progress_step < 1) progress_step = 1;
    Py_ssize_t member_count = PyDict_Size(members_obj), at = 0, index = 0;
    root_member *members = PyMem_Calloc((size_t)member_count + 1, sizeof *members);
    if (!members) return PyErr_NoMemory();
    PyObject *key_obj, *spec, *result = NULL, *keys = PyList_New(0), *samples = PyDict_New();
    while (PyDict_Next(members_obj, &at, &key_obj, &spec)) {
        root_member *m = &members[index++];
        m->key = PyUnicode_AsUTF8AndSize(key_obj, &m->len);
        if (!m->key || !PyArg_ParseTuple(spec, "ii", &m->value, &m->items)) goto fail;
        m->section = section_of(m->key, m->len);
        if (m->section == SECTION_ANNOTATIONS || m->section == SECTION_CATEGORIES) {
            m->samples = PyList_New(0);
            if (!m->samples || PyDict_SetItem(samples, key_obj, m->samples) < 0) goto fail;
            Py_DECREF(m->samples); /* the dict holds it */
        }
    }
    mapped_file mf;
    if (!keys || !samples || !map_file(path, &mf)) goto fail;
    lcoco columns;
    lcoco_init(&columns);
    ltape t;
    lt_init(&t);
    const char *data = mf.data;
    size_t size = mf.size, pos = skip_ws(data, 0, size), released = 0, reported = 0;
#define GIVE_UP(why, where)                                                                             \
    do {                                                                                                \
        result = coco_verdict((why), (where));                                                          \
        goto done;                                                                                      \
    } while (0)
    if (!data) GIVE_UP("not a readable, non-empty regular file", 0);
    if (pos >= size || data[pos] != '{') GIVE_UP("not an object", pos);
    pos = skip_ws(data, pos + 1, size);
    if (pos < size && data[pos] == '}') pos++;
    else for (;;) {
        size_t key_at = pos;
        lt_reset(&t);
        if (pos >= size || data[pos] != '"' || lt_parse_value(&t, data, size, &pos) != LT_OK)
            GIVE_UP(t.error ? t.error : "a key does not parse", key_at);
        PyObject *key = PyUnicode_DecodeUTF8(t.n[0].v.s, t.n[0].len, NULL);
        if (!key) goto done;
        int seen = PySequence_Contains(keys, key), denied = seen == 0 ? PySequence_Contains(deny, key) : 0;
        if (seen < 0 || denied < 0 || PyList_Append(keys, key) < 0) {
            Py_DECREF(key);
            goto done;
        }
        Py_DECREF(key);
        if (seen) GIVE_UP("duplicate key", key_at); /* JSON-DUPLICATE-KEY */
        if (denied) GIVE_UP("a key of another format", key_at);
        if (PyList_GET_SIZE(keys) > MAX_ROOT_KEYS) GIVE_UP("too many keys", key_at);
        root_member *m = NULL;
        for (Py_ssize_t i = 0; i < member_count && !m; i++)
            if (lt_str_eq(&t.n[0], members[i].key, (size_t)members[i].len)) m = &members[i];
        pos = skip_ws(data, pos, size);
        if (pos >= size || data[pos] != ':') GIVE_UP("expected ':'", pos);
        pos = skip_ws(data, pos + 1, size);
        if (m && m->items >= 0 && pos < size && data[pos] == '[') {
            /* the elements one at a time: the member's schema is "an array of items" */
            pos = skip_ws(data, pos + 1, size);
            if (pos < size && data[pos] == ']') {
                pos++;
            } else for (Py_ssize_t count = 0;; count++) {
                size_t start = pos;
                lt_reset(&t);
                int rc = lt_parse_value(&t, data, size, &pos);
                if (rc != LT_OK) GIVE_UP(rc == LT_NOMEM ? "out of memory" : t.error, t.error_at);
                if (other_format(m->section, panoptic, &t, 0)) GIVE_UP(element_reason(2), start);
                if (!ls_valid(schema->schema, &t, 0, (uint32_t)m->items)) {
                    if (PyErr_Occurred()) goto done;
                    GIVE_UP("structure", start);
                }
                int verdict = element_clean(&columns, m->section, panoptic, &t, 0);
                if (verdict != 1) GIVE_UP(element_reason(verdict), start);
                lcol_i64 *at = ranges ? range_column(&columns, m->section) : NULL;
                if (at && !lcoco_range(at, (int64_t)start, (int64_t)pos)) GIVE_UP("out of memory", start);
                if (m->samples && count < sample_limit) {
                    PyObject *range = Py_BuildValue("(nn)", (Py_ssize_t)start, (Py_ssize_t)pos);
                    if (!range || PyList_Append(m->samples, range) < 0) {
                        Py_XDECREF(range);
                        goto done;
                    }
                    Py_DECREF(range);
                }
                if (pos - released > (16u << 20)) {
                    release_done(&mf, pos);
                    released = pos;
                }
                if (progress != Py_None && pos - reported >= (size_t)progress_step) {
                    reported = pos;
                    PyObject *ignored = PyObject_CallFunction(progress, "n", (Py_ssize_t)pos);
                    if (!ignored) goto done;
                    Py_DECREF(ignored);
                }
                pos = skip_ws(data, pos, size);
                if (pos < size && data[pos] == ',') {
                    pos = skip_ws(data, pos + 1, size);
                    continue;
                }
                if (pos < size && data[pos] == ']') {
                    pos++;
                    break;
                }
                GIVE_UP("expected ',' or ']'", pos);
            }
        } else {
            size_t start = pos;
            lt_reset(&t);
            int rc = lt_parse_value(&t, data, size, &pos);
            if (rc != LT_OK) GIVE_UP(rc == LT_NOMEM ? "out of memory" : t.error, t.error_at);
            if (m && !ls_valid(schema->schema, &t, 0, (uint32_t)m->value)) {
                if (PyErr_Occurred()) goto done;
                GIVE_UP("structure", start);
            }
            if (m && m->section != SECTION_NONE) {
                /* a section not streamed (its schema is not "an array of items"): its elements here */
                if (t.n[0].type != LT_ARR) GIVE_UP("structure", start);
                for (uint32_t e = 1; e < t.n[0].end; e = t.n[e].end) {
                    int verdict = element_clean(&columns, m->section, panoptic, &t, e);
                    if (verdict != 1) GIVE_UP(element_reason(verdict), start);
                }
            }
        }
        pos = skip_ws(data, pos, size);
        if (pos < size && data[pos] == ',') {
            pos = skip_ws(data, pos + 1, size);
            continue;
        }
        if (pos < size && data[pos] == '}') {
            pos++;
            break;
        }
        GIVE_UP("expected ',' or '}'", pos);
    }
    pos = skip_ws(data, pos, size);
    if (pos != size) GIVE_UP("data after the document", pos);
    {
        PyObject *cols = panoptic ? panoptic_columns(&columns) : coco_columns(&columns);
        if (cols && !add_ranges(cols, &columns)) Py_CLEAR(cols);
        if (cols)
            result = Py_BuildValue("{s:O,s:s,s:n,s:O,s:O,s:N}", "complete", Py_True, "reason", "", "offset", (Py_ssize_t)0,
                                   "keys", keys, "samples", samples, "columns", cols);
    }
#undef GIVE_UP
done:
    lt_free(&t);
    lcoco_free(&columns);
    unmap_file(&mf);
fail:
    Py_XDECREF(keys);
    Py_XDECREF(samples);
    PyMem_Free(members);
    return result;
}

static PyObject *id_tuple(const char *const *ids) {
    Py_ssize_t count = 0;
    while (ids[count]) count++;
    PyObject *out = PyTuple_New(count);
    for (Py_ssize_t i = 0; out && i < count; i++) {
        PyObject *id = PyUnicode_FromString(ids[i]);
        if (!id) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(out, i, id);
    }
    return out;
}

static PyObject *coco_rule_ids(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return id_tuple(LCOCO_RULE_IDS);
}

static PyObject *coco_panoptic_rule_ids(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return id_tuple(LCOCO_PANOPTIC_RULE_IDS);
}

/* (start, end) byte ranges of the first `limit` items of a root list, or None: a cheap probe for format
 * detection without parsing the whole file. */
static PyObject *head_items(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *path;
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "On", &path, &limit)) return NULL;
    mapped_file m;
    if (!map_file(path, &m)) return NULL;
    PyObject *out = NULL;
    ltape t;
    lt_init(&t);
    size_t pos = skip_ws(m.data, 0, m.size);
    if (!m.data || pos >= m.size || m.data[pos] != '[') {
        out = Py_NewRef(Py_None);
        goto done;
    }
    out = PyList_New(0);
    pos = skip_ws(m.data, pos + 1, m.size);
    while (out && PyList_GET_SIZE(out) < limit && pos < m.size && m.data[pos] != ']') {
        size_t start = pos;
        lt_reset(&t);
        if (lt_parse_value(&t, m.data, m.size, &pos) != LT_OK) {
            Py_SETREF(out, Py_NewRef(Py_None));
            break;
        }
        PyObject *range = Py_BuildValue("(nn)", (Py_ssize_t)start, (Py_ssize_t)pos);
        if (!range || PyList_Append(out, range) < 0) Py_CLEAR(out);
        Py_XDECREF(range);
        pos = skip_ws(m.data, pos, m.size);
        if (pos < m.size && m.data[pos] == ',') pos = skip_ws(m.data, pos + 1, m.size);
    }
done:
    lt_free(&t);
    unmap_file(&m);
    return out;
}

/* (ok, reason, offset) for parsing `data` as one document: the parser's own verdict, for tests. */
static PyObject *parse_check(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    ltape t;
    lt_init(&t);
    int rc = lt_parse_document(&t, (const char *)view.buf, (size_t)view.len);
    PyObject *result = Py_BuildValue("(Nsn)", PyBool_FromLong(rc == LT_OK), rc == LT_OK ? "" : t.error ? t.error : "out of memory",
                                     (Py_ssize_t)t.error_at);
    lt_free(&t);
    PyBuffer_Release(&view);
    return result;
}

/* True when both JSON documents are equal as python-jsonschema compares values (for tests of lt_equal). */
static PyObject *json_equal(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer a, b;
    if (!PyArg_ParseTuple(args, "y*y*", &a, &b)) return NULL;
    ltape ta, tb;
    lt_init(&ta);
    lt_init(&tb);
    PyObject *result;
    if (!parse_bytes(&ta, &a) || !parse_bytes(&tb, &b)) {
        result = NULL;
        PyErr_SetString(PyExc_ValueError, "not plain JSON");
    } else {
        result = PyBool_FromLong(lt_equal(&ta, 0, &tb, 0));
    }
    lt_free(&ta);
    lt_free(&tb);
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    return result;
}

static PyObject *rule_id_tuple(const char *const *ids) {
    Py_ssize_t count = 0;
    while (ids[count]) count++;
    PyObject *out = PyTuple_New(count);
    if (!out) return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *id = PyUnicode_FromString(ids[i]);
        if (!id) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, i, id);
    }
    return out;
}

static PyObject *row_rule_ids(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return lenc_rule_ids();
}

static PyObject *ontology_rule_ids(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return rule_id_tuple(LONTO_RULE_IDS);
}

static PyObject *datagym_rule_ids(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return rule_id_tuple(LDG_RULE_IDS);
}

static PyObject *segments_rule_ids(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return rule_id_tuple(LSEG_RULE_IDS);
}

/* The offset just past the JSON value at `pos` (strings and brackets matched, nothing else checked: the caller
 * parses what it keeps), or 0 when it does not end. No tape: a big value costs one scan, no memory. */
static size_t skip_value(const char *data, size_t size, size_t pos) {
    size_t depth = 0;
    while (pos < size) {
        char c = data[pos++];
        if (c == '"') {
            while (pos < size && data[pos] != '"') pos += data[pos] == '\\' ? 2 : 1;
            if (pos >= size) return 0;
            pos++;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (depth == 0) return pos - 1; /* the end of a scalar (or nothing: the caller sees the bracket) */
            depth--;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
            return pos - 1; /* the end of a scalar */
        }
        if (depth == 0 && (c == '"' || c == ']' || c == '}')) return pos;
    }
    return 0;
}

/* The offset of the '[' of the array at /<outer>/<inner> of a root object (Segments: /dataset/samples), found
 * by parsing the members before it; None when there is no such array within the first `limit` bytes or
 * anything before it is not plain JSON. */
static PyObject *nested_list_at(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *path;
    const char *outer, *inner;
    Py_ssize_t limit = 16 << 20;
    if (!PyArg_ParseTuple(args, "Oss|n", &path, &outer, &inner, &limit)) return NULL;
    mapped_file m;
    if (!map_file(path, &m)) return NULL;
    ltape t;
    lt_init(&t);
    Py_ssize_t found = -1;
    const char *data = m.data, *want = outer;
    size_t size = m.size, pos = data ? skip_ws(data, 0, size) : 0;
    int depth = 0; /* 0: in the root object, 1: in /<outer> */
    if (!data || pos >= size || data[pos] != '{') goto done;
    pos = skip_ws(data, pos + 1, size);
    while (pos < size && data[pos] == '"' && pos < (size_t)limit) {
        lt_reset(&t);
        if (lt_parse_value(&t, data, size, &pos) != LT_OK) goto done;
        int match = lt_str_eq(&t.n[0], want, strlen(want));
        pos = skip_ws(data, pos, size);
        if (pos >= size || data[pos] != ':') goto done;
        pos = skip_ws(data, pos + 1, size);
        if (match && depth == 1) {
            if (pos < size && data[pos] == '[') found = (Py_ssize_t)pos;
            goto done;
        }
        if (match && pos < size && data[pos] == '{') { /* into /<outer> */
            depth = 1;
            want = inner;
            pos = skip_ws(data, pos + 1, size);
            continue;
        }
        if (pos >= (size_t)limit || !(pos = skip_value(data, size, pos))) goto done;
        pos = skip_ws(data, pos, size);
        if (pos < size && data[pos] == ',') pos = skip_ws(data, pos + 1, size);
        else goto done;
    }
done:
    lt_free(&t);
    unmap_file(&m);
    if (found < 0) Py_RETURN_NONE;
    return PyLong_FromSsize_t(found);
}

static PyMethodDef module_methods[] = {
    {"check_file", (PyCFunction)(void (*)(void))check_file, METH_VARARGS | METH_KEYWORDS,
     "check_file(path, schema, root, items, rules=None, ontology=None, max_dirty=0, start=-1, stop=-1, progress=None, "
     "progress_step=4 MiB, head=-1) -> dict\n\n"
     "complete: the whole file was read and every item is either certified clean or listed in dirty "
     "(index, start, end) -- at most max_dirty of them; otherwise the reference path must judge the whole "
     "file (reason, offset say why). open/close: offsets of the root list's brackets. start/stop: check only "
     "the items from offset start (an item's first byte) up to offset stop, which must be where an item starts "
     "(else complete is false): a part of the list for another process; item indexes are then local. progress: "
     "called with the byte offset reached each time progress_step more bytes are read. head: the schema entry "
     "of the list's first element (DataGym's label classes; -1: every element is checked against items); then "
     "the result also has head: (start, end) of that element, and the whole list is checked by one process. "
     "rules: an EncordRules, a DataGymRules or a SegmentsRules decider. list_at: the offset of the '[' of a "
     "list inside the document (Segments' dataset.samples): only that list is checked (from there to its ']'; "
     "close is its offset), not what surrounds it. With a SegmentsRules decider the result also has repeated: "
     "the indexes of the samples whose uuid or image name stem another sample has too."},
    {"check_coco", (PyCFunction)(void (*)(void))check_coco, METH_VARARGS | METH_KEYWORDS,
     "check_coco(path, schema, members, deny, samples=5, progress=None, progress_step=4 MiB, ranges=False) -> "
     "dict\n\n"
     "A COCO instance file whose root object's members are checked as `members` says ({key: (value node, "
     "items node or -1)}; items: stream the array element by element); images, annotations and categories "
     "also through the COCO deciders (coco.c). Stops at the first element that is not certainly clean "
     "(complete false; reason, offset) or at a key in `deny`. Complete: keys (root keys in order), samples "
     "({annotations|categories: [(start, end) of the first elements]}), columns ({name: int64/float64 bytes}). "
     "progress: as check_file's. ranges: also the (start, end) byte offsets of every streamed element, as int64 "
     "pairs in the columns image_at, annotation_at, category_at (empty when not asked or not streamed)."},
    {"coco_rule_ids", coco_rule_ids, METH_NOARGS, "coco_rule_ids() -> tuple of the COCO rules coco.c mirrors"},
    {"coco_panoptic_rule_ids", coco_panoptic_rule_ids, METH_NOARGS,
     "coco_panoptic_rule_ids() -> tuple of the COCO panoptic rules coco.c mirrors"},
    {"head_items", head_items, METH_VARARGS, "head_items(path, limit) -> [(start, end), ...] | None"},
    {"segments_rule_ids", segments_rule_ids, METH_NOARGS,
     "segments_rule_ids() -> tuple of the rules the SegmentsRules decider mirrors"},
    {"nested_list_at", nested_list_at, METH_VARARGS,
     "nested_list_at(path, outer, inner, limit=16 MiB) -> offset of the '[' of /outer/inner of a root object "
     "(within the first limit bytes), or None"},
    {"datagym_rule_ids", datagym_rule_ids, METH_NOARGS,
     "datagym_rule_ids() -> tuple of the rules the DataGymRules decider mirrors"},
    {"row_rule_ids", row_rule_ids, METH_NOARGS,
     "row_rule_ids() -> tuple of the rules the EncordRules decider mirrors (or the parser enforces)"},
    {"ontology_rule_ids", ontology_rule_ids, METH_NOARGS,
     "ontology_rule_ids() -> tuple of the ontology rules the EncordOntology decider mirrors"},
    {"parse_check", parse_check, METH_O, "parse_check(data) -> (ok, reason, offset)"},
    {"json_equal", json_equal, METH_VARARGS, "json_equal(a: bytes, b: bytes) -> bool"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef native_module = {PyModuleDef_HEAD_INIT, "labelspec._native",
                                           "The native fast path of labelspec validate.", -1, module_methods,
                                           NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native(void) {
    PyTypeObject *types[] = {&SchemaType,         &RegexType,        &EncordRulesType,
                             &EncordOntologyType, &DataGymRulesType, &SegmentsRulesType};
    const char *names[] = {"Schema", "Regex", "EncordRules", "EncordOntology", "DataGymRules", "SegmentsRules"};
    PyObject *module = PyModule_Create(&native_module);
    if (!module) return NULL;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        if (PyType_Ready(types[i]) < 0 || PyModule_AddObjectRef(module, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(module);
            return NULL;
        }
    }
    return module;
}
