/* The Encord rules that need no ontology (validator/rules/encord_rows.py), as a clean decider over one label
 * row. See encord_rules.h.
 *
 * It mirrors the reference's index of a row (validator/rules/encord_index.py _index_row: data units,
 * spaces, object_answers) and each rule's condition (every site is tagged with the rule id and the Python
 * function it mirrors), on the tape, in one walk of the row. Everything the reference reads is modelled for
 * every data type; where a value takes a form whose exact Python semantics would cost more than it is
 * worth (digit strings beyond int64, datetimes ending in a newline, RLE run values beyond 2^31, non-string
 * xpaths, frame objects without string objectHash / featureHash / known shape, ...) the row is declared
 * "not certainly clean" and the reference decides. Per-row state (hash tables of objectHashes and
 * classification-answer keys, sequence numbers) lives in the lenc and is reused: stale entries are told
 * apart by a generation number, so starting a row costs nothing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "encord_rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------ rules */

enum {
    R_ANSWER_ORPHAN,
    R_ACTION_ORPHAN,
    R_CLASS_UNANSWERED,
    R_FRAME_RANGE,
    R_IMAGE_FRAME_KEYED,
    R_SEQUENCE_DUPLICATE,
    R_SEQUENCE_FLAG,
    R_FEATURE_CHANGES,
    R_HASH_DUPLICATE,
    R_COORDINATE,
    R_BOX_NEGATIVE,
    R_POLYGON_DEGENERATE,
    R_POLYGON_ODD,
    R_POLYGON_FORMS,
    R_POLYLINE_MIXED,
    R_RLE_INVALID,
    R_BITMASK_SIZE,
    R_RANGE_REVERSED,
    R_DATETIME,
    R_FRAME_DURATION,
    R_AUDIO_RANGE,
    R_FRAME_MISMATCH,
    R_CONFIDENCE,
    R_SPACE_UNKNOWN,
    R_LAYOUT,
    R_POLYLINE_DEGENERATE,
    R_CUBOID_SIZE,
    R_CLASS_RANGE,
    R_AUDIO_SPACE_RANGE,
    R_COUNT
};

static const char *const RULE_IDS[R_COUNT] = {
    "ENC-OBJECT-ANSWER-ORPHAN", /* mirrors validator/rules/encord_rows.py::object_answer_orphan */
    "ENC-OBJECT-ACTION-ORPHAN", /* mirrors validator/rules/encord_rows.py::object_action_orphan */
    "ENC-FRAME-CLASSIFICATION-UNANSWERED", /* mirrors validator/rules/encord_rows.py::frame_classification_unanswered */
    "ENC-FRAME-OUT-OF-RANGE", /* mirrors validator/rules/encord_rows.py::frame_out_of_range */
    "ENC-IMAGE-LABELS-FRAME-KEYED", /* mirrors validator/rules/encord_rows.py::image_labels_frame_keyed */
    "ENC-IMG-GROUP-SEQUENCE-DUPLICATE", /* mirrors validator/rules/encord_rows.py::img_group_sequence_duplicate */
    "ENC-IMAGE-SEQUENCE-FLAG-MISMATCH", /* mirrors validator/rules/encord_rows.py::image_sequence_flag_mismatch */
    "ENC-OBJECT-FEATURE-CHANGES", /* mirrors validator/rules/encord_rows.py::object_feature_changes */
    "ENC-OBJECT-HASH-DUPLICATE-IN-FRAME", /* mirrors validator/rules/encord_rows.py::object_hash_duplicate_in_frame */
    "ENC-COORDINATE-OUT-OF-RANGE", /* mirrors validator/rules/encord_rows.py::coordinate_out_of_range */
    "ENC-BOX-NEGATIVE-SIZE", /* mirrors validator/rules/encord_rows.py::box_negative_size */
    "ENC-POLYGON-DEGENERATE", /* mirrors validator/rules/encord_rows.py::polygon_degenerate */
    "ENC-POLYGON-ODD-VALUES", /* mirrors validator/rules/encord_rows.py::polygon_odd_values */
    "ENC-POLYGON-FORMS-DIFFER", /* mirrors validator/rules/encord_rows.py::polygon_forms_differ */
    "ENC-POLYLINE-MIXED-DIMENSIONS", /* mirrors validator/rules/encord_rows.py::polyline_mixed_dimensions */
    "ENC-BITMASK-RLE-INVALID", /* mirrors validator/rules/encord_rows.py::bitmask_rle_invalid */
    "ENC-BITMASK-SIZE-MISMATCH", /* mirrors validator/rules/encord_rows.py::bitmask_size_mismatch */
    "ENC-RANGE-REVERSED", /* mirrors validator/rules/encord_rows.py::range_reversed */
    "ENC-DATETIME-INVALID", /* mirrors validator/rules/encord_rows.py::datetime_invalid */
    "ENC-FRAME-BEYOND-DURATION", /* mirrors validator/rules/encord_rows.py::frame_beyond_duration */
    "ENC-AUDIO-RANGE-BEYOND-DURATION", /* mirrors validator/rules/encord_rows.py::audio_range_beyond_duration */
    "ENC-OBJECT-FRAME-MISMATCH", /* mirrors validator/rules/encord_rows.py::object_frame_mismatch */
    "ENC-CONFIDENCE-OUT-OF-RANGE", /* mirrors validator/rules/encord_rows.py::confidence_out_of_range */
    "ENC-ANSWER-SPACE-UNKNOWN", /* mirrors validator/rules/encord_rows.py::answer_space_unknown */
    "ENC-GROUP-CHILD-LAYOUT-UNMATCHED", /* mirrors validator/rules/encord_rows.py::group_child_layout_unmatched */
    "ENC-POLYLINE-DEGENERATE", /* mirrors validator/rules/encord_rows.py::polyline_degenerate */
    "ENC-CUBOID-SIZE-NOT-POSITIVE", /* mirrors validator/rules/encord_rows.py::cuboid_size_not_positive */
    "ENC-CLASSIFICATION-RANGE-MISSING", /* mirrors validator/rules/encord_rows.py::classification_range_missing */
    "ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION", /* mirrors validator/rules/encord_rows.py::audio_space_range_beyond_duration */
};

/* Rules of the catalogue that the parser already enforces (it refuses documents with duplicate keys). */
static const char *const PARSER_RULE_IDS[] = {"JSON-DUPLICATE-KEY"};

/* ------------------------------------------------------------------------------------ per-row tables */

/* A set of strings (pointers into the tape of the current row), with a value per key. Slots whose `gen`
 * is not the table's are empty, so clearing is one increment. */
typedef struct {
    const char *key;
    const char *feature; /* objects: featureHash of the first frame object */
    uint32_t len, feature_len;
    uint32_t gen;
    uint32_t flags;
} sslot;

typedef struct {
    sslot *slots;
    uint32_t cap, count, gen; /* cap: power of two */
} stab;

#define F_FRAME 1u /* objectHash of a frame object */
#define F_RANGE 2u /* objectHash of a range-based object (entry of object_answers) */
#define F_UNPLACED 4u /* key of a classification_answers entry without range or space (R_CLASS_RANGE) */

typedef struct {
    int64_t key;
    uint32_t gen;
} islot;

typedef struct {
    islot *slots;
    uint32_t cap, count, gen;
} itab;

typedef struct {
    int64_t key;
    uint32_t node;
} keyed_node;

typedef struct {
    const char *key; /* space id */
    uint32_t len;
    double limit; /* duration_ms */
} audio_space;

struct lenc {
    uint32_t active;   /* bit per rule (R_*) */
    int unknown_rules; /* the config names a rule this decider does not know: never clean */
    double low, high;  /* -eps, 1 + eps */
    stab objects;      /* objectHash -> first featureHash, flags */
    stab class_keys;   /* keys of classification_answers */
    stab in_frame;     /* objectHashes of one large `objects` list */
    itab sequences;    /* data_sequence of img_group units */
    keyed_node *points;
    size_t points_cap;
    const lnode **hashes; /* objectHash nodes of one `objects` list */
    size_t hashes_cap;
    stab space_ids;       /* keys of the row's `spaces` */
    stab layouts;         /* child_info.layout_key of the row's spaces */
    audio_space *audio;   /* audio spaces with a numeric duration_ms */
    size_t audio_count, audio_cap;
};

static void stab_clear(stab *t) {
    t->count = 0;
    if (++t->gen == 0) { /* wrapped: forget every slot for real */
        if (t->slots) memset(t->slots, 0, (size_t)t->cap * sizeof *t->slots);
        t->gen = 1;
    }
}

static int stab_grow(stab *t) {
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    if (cap == 0 || cap > (1u << 30)) return 0;
    sslot *slots = calloc(cap, sizeof *slots);
    if (!slots) return 0;
    for (uint32_t i = 0; i < t->cap; i++) {
        sslot *old = &t->slots[i];
        if (old->gen != t->gen) continue;
        uint32_t j = (uint32_t)lt_hash(old->key, old->len) & (cap - 1);
        while (slots[j].gen == t->gen) j = (j + 1) & (cap - 1);
        slots[j] = *old;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 1;
}

/* The slot of `key`, added (flags 0) when absent; NULL when out of memory. */
static sslot *stab_upsert(stab *t, const char *key, uint32_t len, int *added) {
    if ((t->count + 1) * 2 > t->cap && !stab_grow(t)) return NULL;
    uint32_t mask = t->cap - 1, j = (uint32_t)lt_hash(key, len) & mask;
    for (;;) {
        sslot *s = &t->slots[j];
        if (s->gen != t->gen) {
            s->gen = t->gen;
            s->key = key;
            s->len = len;
            s->flags = 0;
            s->feature = NULL;
            s->feature_len = 0;
            t->count++;
            *added = 1;
            return s;
        }
        if (s->len == len && memcmp(s->key, key, len) == 0) {
            *added = 0;
            return s;
        }
        j = (j + 1) & mask;
    }
}

static const sslot *stab_find(const stab *t, const char *key, uint32_t len) {
    if (!t->count) return NULL;
    uint32_t mask = t->cap - 1, j = (uint32_t)lt_hash(key, len) & mask;
    for (;;) {
        const sslot *s = &t->slots[j];
        if (s->gen != t->gen) return NULL;
        if (s->len == len && memcmp(s->key, key, len) == 0) return s;
        j = (j + 1) & mask;
    }
}

static void itab_clear(itab *t) {
    t->count = 0;
    if (++t->gen == 0) {
        if (t->slots) memset(t->slots, 0, (size_t)t->cap * sizeof *t->slots);
        t->gen = 1;
    }
}

/* 1: added; 0: already there; -1: out of memory. */
static int itab_add(itab *t, int64_t key) {
    if ((t->count + 1) * 2 > t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        if (cap == 0 || cap > (1u << 30)) return -1;
        islot *slots = calloc(cap, sizeof *slots);
        if (!slots) return -1;
        for (uint32_t i = 0; i < t->cap; i++) {
            if (t->slots[i].gen != t->gen) continue;
            uint32_t j = (uint32_t)lt_hash((const char *)&t->slots[i].key, 8) & (cap - 1);
            while (slots[j].gen == t->gen) j = (j + 1) & (cap - 1);
            slots[j] = t->slots[i];
        }
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    uint32_t mask = t->cap - 1, j = (uint32_t)lt_hash((const char *)&key, 8) & mask;
    for (;;) {
        islot *s = &t->slots[j];
        if (s->gen != t->gen) {
            s->gen = t->gen;
            s->key = key;
            t->count++;
            return 1;
        }
        if (s->key == key) return 0;
        j = (j + 1) & mask;
    }
}

static int reserve(void **buffer, size_t *cap, size_t want, size_t size) {
    if (want <= *cap) return 1;
    size_t n = *cap ? *cap : 64;
    while (n < want) n *= 2;
    void *p = realloc(*buffer, n * size);
    if (!p) return 0;
    *buffer = p;
    *cap = n;
    return 1;
}

/* --------------------------------------------------------------------------------------- value helpers */

#define NODE(i) (&t->n[(i)])
#define IS(i, kind) ((i) != LT_NONE && t->n[(i)].type == (kind))
#define FOR_MEMBERS(obj, k) for (uint32_t k = (obj) + 1; k < t->n[(obj)].end; k = t->n[k + 1].end)
#define FOR_ITEMS(arr, e) for (uint32_t e = (arr) + 1; e < t->n[(arr)].end; e = t->n[e].end)
#define KEY_IS(k, literal) LT_STR_EQ(&t->n[(k)], literal)

/* _num(): a finite int or float (never a bool). */
static inline int number(const lnode *n, double *out) {
    if (n->type == LT_FLOAT) {
        *out = n->v.d;
        return 1;
    }
    if (n->type == LT_INT) {
        *out = (double)n->v.i;
        return 1;
    }
    return 0;
}

static inline int all_digits(const char *s, uint32_t n) {
    if (!n) return 0;
    for (uint32_t i = 0; i < n; i++)
        if ((unsigned char)(s[i] - '0') > 9) return 0;
    return 1;
}

enum { INT_NONE, INT_OK, INT_BIG };

/* _int(): an int (not bool), or a string of ASCII digits as int() reads it; INT_BIG for digit strings
 * beyond int64, which the caller treats as undecidable. */
static int py_int(const ltape *t, uint32_t i, int64_t *out) {
    if (i == LT_NONE) return INT_NONE;
    const lnode *n = NODE(i);
    if (n->type == LT_INT) {
        *out = n->v.i;
        return INT_OK;
    }
    if (n->type != LT_STR || !all_digits(n->v.s, n->len)) return INT_NONE;
    const char *s = n->v.s;
    uint32_t len = n->len;
    while (len > 1 && *s == '0') s++, len--;
    if (len > 18) return INT_BIG;
    int64_t v = 0;
    for (uint32_t j = 0; j < len; j++) v = v * 10 + (s[j] - '0');
    *out = v;
    return INT_OK;
}

/* Python truthiness of a JSON value. */
static int truthy(const ltape *t, uint32_t i) {
    if (i == LT_NONE) return 0;
    const lnode *n = NODE(i);
    switch (n->type) {
    case LT_NULL:
    case LT_FALSE: return 0;
    case LT_TRUE: return 1;
    case LT_INT: return n->v.i != 0;
    case LT_FLOAT: return n->v.d != 0.0;
    default: return n->len != 0; /* strings: bytes; arrays, objects: members */
    }
}

/* -------------------------------------------------------------------------------------------- datetimes */

static inline int dig2(const unsigned char *s) {
    unsigned a = (unsigned)s[0] - '0', b = (unsigned)s[1] - '0';
    return a <= 9 && b <= 9 ? (int)(a * 10 + b) : -1;
}

static inline int dig4(const unsigned char *s) {
    int hi = dig2(s), lo = dig2(s + 2);
    return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

static int real_date(int year, int month, int day) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || month < 1 || month > 12 || day < 1) return 0;
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return day <= days[month - 1] + (month == 2 && leap);
}

#define NAME3(a, b, c) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16)

static int month_index(const unsigned char *s) {
    switch (NAME3(s[0], s[1], s[2])) {
    case NAME3('J', 'a', 'n'): return 1;
    case NAME3('F', 'e', 'b'): return 2;
    case NAME3('M', 'a', 'r'): return 3;
    case NAME3('A', 'p', 'r'): return 4;
    case NAME3('M', 'a', 'y'): return 5;
    case NAME3('J', 'u', 'n'): return 6;
    case NAME3('J', 'u', 'l'): return 7;
    case NAME3('A', 'u', 'g'): return 8;
    case NAME3('S', 'e', 'p'): return 9;
    case NAME3('O', 'c', 't'): return 10;
    case NAME3('N', 'o', 'v'): return 11;
    case NAME3('D', 'e', 'c'): return 12;
    default: return 0;
    }
}

static int weekday_name(const unsigned char *s) {
    switch (NAME3(s[0], s[1], s[2])) {
    case NAME3('M', 'o', 'n'):
    case NAME3('T', 'u', 'e'):
    case NAME3('W', 'e', 'd'):
    case NAME3('T', 'h', 'u'):
    case NAME3('F', 'r', 'i'):
    case NAME3('S', 'a', 't'):
    case NAME3('S', 'u', 'n'): return 1;
    default: return 0;
    }
}

enum { DT_NO_MATCH, DT_REAL, DT_NOT_REAL };

/* _DATETIME_PATTERN matched against the whole of s (no newline rule) and, when it matches, whether
 * _datetime_error finds it real. The forms are told apart as the pattern's alternatives are. */
static int datetime_verdict(const unsigned char *s, size_t n) {
    if (n == 29 && s[3] == ',' && s[4] == ' ') { /* "Thu, 07 Sep 2023 09:47:35 GMT" */
        if (!weekday_name(s) || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
            s[22] != ':' || s[25] != ' ')
            return DT_NO_MATCH;
        int day = dig2(s + 5), month = month_index(s + 8), year = dig4(s + 12);
        int hour = dig2(s + 17), minute = dig2(s + 20), second = dig2(s + 23);
        if (day < 0 || !month || year < 0 || hour < 0 || minute < 0 || second < 0) return DT_NO_MATCH;
        if (memcmp(s + 26, "GMT", 3) != 0 && memcmp(s + 26, "UTC", 3) != 0) return DT_NO_MATCH;
        /* datetime(year, month, day, H, M, S): the weekday is not checked */
        return real_date(year, month, day) && hour <= 23 && minute <= 59 && second <= 59 ? DT_REAL
                                                                                        : DT_NOT_REAL;
    }
    if (n < 10 || s[4] != '-' || s[7] != '-') return DT_NO_MATCH;
    int year = dig4(s), month = dig2(s + 5), day = dig2(s + 8);
    if (year < 0 || month < 0 || day < 0) return DT_NO_MATCH;
    int date_ok = real_date(year, month, day);
    if (n == 10) return date_ok ? DT_REAL : DT_NOT_REAL; /* date only: fromisoformat */
    if (s[10] == ' ') { /* "YYYY-MM-DD HH:MM:SS(.f+)": fromisoformat(text[:19]) */
        if (n < 19 || s[13] != ':' || s[16] != ':') return DT_NO_MATCH;
        int hour = dig2(s + 11), minute = dig2(s + 14), second = dig2(s + 17);
        if (hour < 0 || minute < 0 || second < 0) return DT_NO_MATCH;
        if (n > 19) {
            if (s[19] != '.' || n == 20) return DT_NO_MATCH;
            for (size_t i = 20; i < n; i++)
                if ((unsigned)s[i] - '0' > 9) return DT_NO_MATCH;
        }
        return date_ok && hour <= 23 && minute <= 59 && second <= 59 ? DT_REAL : DT_NOT_REAL;
    }
    /* ISO 8601: fromisoformat(text.replace("Z", "+00:00")) */
    if (s[10] != 'T' || n < 16 || s[13] != ':') return DT_NO_MATCH;
    int hour = dig2(s + 11), minute = dig2(s + 14), second = 0;
    if (hour < 0 || minute < 0) return DT_NO_MATCH;
    size_t p = 16;
    if (p < n && s[p] == ':') {
        if (p + 3 > n || (second = dig2(s + p + 1)) < 0) return DT_NO_MATCH;
        p += 3;
        if (p < n && s[p] == '.') {
            size_t q = p + 1;
            while (q < n && (unsigned)s[q] - '0' <= 9) q++;
            if (q == p + 1) return DT_NO_MATCH;
            p = q;
        }
    }
    int offset_ok = 1;
    if (p < n) {
        if (s[p] == 'Z') {
            if (p + 1 != n) return DT_NO_MATCH;
        } else if (s[p] == '+' || s[p] == '-') {
            int oh, om = 0;
            if (p + 3 > n || (oh = dig2(s + p + 1)) < 0) return DT_NO_MATCH;
            p += 3;
            if (p < n) {
                if (s[p] == ':') p++;
                if (p + 2 != n || (om = dig2(s + p)) < 0) return DT_NO_MATCH;
            }
            offset_ok = oh * 60 + om < 24 * 60; /* a timedelta strictly within a day */
        } else {
            return DT_NO_MATCH;
        }
    }
    return date_ok && hour <= 23 && minute <= 59 && second <= 59 && offset_ok ? DT_REAL : DT_NOT_REAL;
}

/* 1: ENC-DATETIME-INVALID certainly has nothing to say about this string. */
static int datetime_clean(const lnode *n) {
    const unsigned char *s = (const unsigned char *)n->v.s;
    size_t len = n->len;
    if (len && s[len - 1] == '\n') /* `$` also matches before a final newline: not modelled */
        return datetime_verdict(s, len - 1) == DT_NO_MATCH;
    return datetime_verdict(s, len) != DT_NOT_REAL;
}

/* -------------------------------------------------------------------------------------------- bitmasks */

#define RLE_VALUE_LIMIT ((int64_t)1 << 31)
#define RLE_SUM_LIMIT ((int64_t)1 << 62)

/* 1 and the pixel count when decode_rle_string() decodes `s` without error; 0 when it raises, or when a run
 * value is so large that the reference's numpy and Python paths could disagree (not modelled). */
static int rle_total(const char *s, uint32_t n, int64_t *total) {
    int64_t before_last = 0, last = 0, sum = 0;
    uint32_t counts = 0;
    uint64_t x = 0;
    int shift = 0, groups = 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i] - 48u;
        if (c > 63) return 0;
        x |= (uint64_t)(c & 0x1F) << shift;
        shift += 5;
        groups++;
        if (c & 0x20) {
            if (groups >= 12) return 0; /* more than 60 bits */
            continue;
        }
        int64_t value = (int64_t)x;
        if (c & 0x10) value -= (int64_t)1 << shift;
        if (value > RLE_VALUE_LIMIT || value < -RLE_VALUE_LIMIT) return 0;
        if (counts > 2) value += before_last;
        if (value < 0 || value > RLE_SUM_LIMIT) return 0;
        sum += value;
        if (sum > RLE_SUM_LIMIT) return 0;
        before_last = last;
        last = value;
        counts++;
        x = 0;
        shift = groups = 0;
    }
    if (groups) return 0; /* ends inside a number */
    *total = sum;
    return 1;
}

/* ----------------------------------------------------------------------------------------- the walk */

enum {
    T_IMAGE,
    T_IMG_GROUP,
    T_VIDEO,
    T_DICOM,
    T_DICOM_STUDY,
    T_NIFTI,
    T_AUDIO,
    T_PLAIN_TEXT,
    T_PDF,
    T_SCENE,
    T_GROUP,
    T_UNKNOWN
};

static int data_type_of(const lnode *n) {
    static const char *const names[] = {"image", "img_group", "video", "dicom", "dicom_study", "nifti",
                                        "audio", "plain_text", "pdf", "scene", "group"};
    if (n->type != LT_STR) return T_UNKNOWN;
    for (int i = 0; i < T_UNKNOWN; i++)
        if (lt_str_eq(n, names[i], strlen(names[i]))) return i;
    return T_UNKNOWN;
}

typedef struct {
    lenc *r;
    const ltape *t;
    int data_type;
    int range_type;   /* audio, plain_text */
    int64_t frame;    /* the frame key of the blob being walked, -1 when it is not frame-keyed */
    int has_spaces;   /* the row has a `spaces` object */
    int has_audio;    /* audio row with a numeric positive data_duration */
    double audio_ms;  /* that duration in milliseconds */
} walk;

#define ON(rule) (w->r->active & (1u << (rule)))

static inline int outside(const lenc *r, double v) { return v < r->low || v > r->high; }

/* _vertex(): (x, y) of a dict with numeric x and y and no z. */
static int vertex_xy(const ltape *t, uint32_t v, double *x, double *y) {
    if (!IS(v, LT_OBJ)) return 0;
    int has_x = 0, has_y = 0;
    FOR_MEMBERS(v, k) {
        const lnode *key = NODE(k);
        if (key->len != 1) continue;
        char c = key->v.s[0];
        if (c == 'x') has_x = number(NODE(k + 1), x);
        else if (c == 'y') has_y = number(NODE(k + 1), y);
        else if (c == 'z') return 0;
    }
    return has_x && has_y;
}

/* The values of a dict, or the items of a list (_vertices()): `v` is each vertex node. */
#define FOR_VERTICES(container, v)                                                                      \
    for (uint32_t v##_skip = NODE(container)->type == LT_OBJ, v = (container) + 1 + v##_skip;            \
         v - v##_skip < NODE(container)->end; v = NODE(v)->end + v##_skip)

/* No vertex of the container (dict or list) has a coordinate outside [0, 1] (3-D vertices excepted). */
static int vertices_inside(const walk *w, uint32_t container) {
    const ltape *t = w->t;
    if (!IS(container, LT_OBJ) && !IS(container, LT_ARR)) return 1;
    FOR_VERTICES(container, v) {
        double x, y;
        if (vertex_xy(t, v, &x, &y) && (outside(w->r, x) || outside(w->r, y))) return 0;
    }
    return 1;
}

/* Every numeric item of a list within [0, 1]. */
static int numbers_inside(const walk *w, uint32_t list) {
    const ltape *t = w->t;
    if (!IS(list, LT_ARR)) return 1;
    FOR_ITEMS(list, e) {
        double v;
        if (number(NODE(e), &v) && outside(w->r, v)) return 0;
    }
    return 1;
}

static int all_numbers(const ltape *t, uint32_t list) {
    FOR_ITEMS(list, e) {
        if (NODE(e)->type != LT_INT && NODE(e)->type != LT_FLOAT) return 0;
    }
    return 1;
}

enum { BOX_X, BOX_Y, BOX_W, BOX_H };

static void box_sides(const ltape *t, uint32_t box, double side[4], int has[4]) {
    has[0] = has[1] = has[2] = has[3] = 0;
    FOR_MEMBERS(box, k) {
        const lnode *key = NODE(k);
        if (key->len != 1) continue;
        int which = key->v.s[0] == 'x' ? BOX_X : key->v.s[0] == 'y' ? BOX_Y : key->v.s[0] == 'w' ? BOX_W
                                                                  : key->v.s[0] == 'h' ? BOX_H : -1;
        if (which >= 0) has[which] = number(NODE(k + 1), &side[which]);
    }
}

static int bounding_box_clean(const walk *w, uint32_t box, int world, int rotatable) {
    const ltape *t = w->t;
    if (!IS(box, LT_OBJ)) return 1; /* both rules skip it */
    double v[4];
    int has[4];
    box_sides(t, box, v, has);
    /* ENC-BOX-NEGATIVE-SIZE: mirrors validator/rules/encord_rows.py::box_negative_size */
    if (ON(R_BOX_NEGATIVE) && ((has[BOX_W] && v[BOX_W] < 0) || (has[BOX_H] && v[BOX_H] < 0))) return 0;
    /* ENC-COORDINATE-OUT-OF-RANGE: mirrors validator/rules/encord_rows.py::coordinate_out_of_range */
    if (world || !ON(R_COORDINATE)) return 1;
    const lenc *r = w->r;
    if ((has[BOX_X] && outside(r, v[BOX_X])) || (has[BOX_Y] && outside(r, v[BOX_Y]))) return 0;
    if (rotatable) /* _coordinates(): w and h themselves, unless negative */
        return !((has[BOX_W] && !(v[BOX_W] < 0) && outside(r, v[BOX_W])) ||
                 (has[BOX_H] && !(v[BOX_H] < 0) && outside(r, v[BOX_H])));
    /* _box_edges_out_of_range(): the right and bottom edges */
    if (has[BOX_X] && has[BOX_W] && v[BOX_W] >= 0 && outside(r, v[BOX_X] + v[BOX_W])) return 0;
    if (has[BOX_Y] && has[BOX_H] && v[BOX_H] >= 0 && outside(r, v[BOX_Y] + v[BOX_H])) return 0;
    return 1;
}

static int keyed_node_less(const keyed_node *a, const keyed_node *b) { return a->key < b->key; }

/* ENC-POLYGON-FORMS-DIFFER for an object with both `polygon` and `polygons`. */
static int polygon_forms_agree(walk *w, uint32_t legacy, uint32_t polygons) {
    const ltape *t = w->t;
    lenc *r = w->r;
    size_t count = 0;
    if (IS(legacy, LT_OBJ)) { /* points in int(key) order: a stable sort of the keys */
        if (!reserve((void **)&r->points, &r->points_cap, NODE(legacy)->len + 1, sizeof *r->points)) return 0;
        FOR_MEMBERS(legacy, k) {
            int64_t key;
            if (!all_digits(NODE(k)->v.s, NODE(k)->len) || py_int(t, k, &key) != INT_OK)
                return 0; /* int() of other keys: not modelled */
            keyed_node item = {key, k + 1};
            size_t at = count++;
            while (at > 0 && keyed_node_less(&item, &r->points[at - 1])) {
                r->points[at] = r->points[at - 1];
                at--;
            }
            r->points[at] = item;
        }
    } else if (IS(legacy, LT_ARR)) {
        if (!reserve((void **)&r->points, &r->points_cap, NODE(legacy)->len + 1, sizeof *r->points)) return 0;
        FOR_ITEMS(legacy, e) r->points[count++] = (keyed_node){0, e};
    } else {
        return 1;
    }
    for (size_t i = 0; i < count; i++) {
        double x, y;
        if (!vertex_xy(t, r->points[i].node, &x, &y)) return 1; /* the rule gives up */
    }
    if (!IS(polygons, LT_ARR) || NODE(polygons)->len == 0) return 1;
    uint32_t first = polygons + 1;
    if (!IS(first, LT_ARR) || NODE(first)->len == 0) return 1;
    uint32_t ring = first + 1;
    if (!IS(ring, LT_ARR) || !all_numbers(t, ring)) return 1;
    if (NODE(ring)->len != 2 * count) return 0;
    uint32_t e = ring + 1;
    for (size_t i = 0; i < count; i++) {
        double xy[2] = {0, 0}, value = 0;
        vertex_xy(t, r->points[i].node, &xy[0], &xy[1]);
        for (int c = 0; c < 2; c++, e = NODE(e)->end) {
            number(NODE(e), &value);
            if (fabs(xy[c] - value) > 1e-9) return 0;
        }
    }
    return 1;
}

static int polygon_clean(walk *w, uint32_t legacy, uint32_t polygons, int world) {
    const ltape *t = w->t;
    if (legacy != LT_NONE) {
        const lnode *n = NODE(legacy);
        /* ENC-POLYGON-DEGENERATE: mirrors validator/rules/encord_rows.py::polygon_degenerate */
        if (ON(R_POLYGON_DEGENERATE) && (n->type == LT_OBJ || n->type == LT_ARR) && n->len > 0 && n->len < 3)
            return 0;
        /* ENC-COORDINATE-OUT-OF-RANGE: mirrors validator/rules/encord_rows.py::coordinate_out_of_range */
        if (!world && ON(R_COORDINATE) && !vertices_inside(w, legacy)) return 0;
    }
    if (IS(polygons, LT_ARR)) {
        FOR_ITEMS(polygons, polygon) {
            if (NODE(polygon)->type != LT_ARR) continue;
            FOR_ITEMS(polygon, ring) {
                if (NODE(ring)->type != LT_ARR) continue;
                /* ENC-POLYGON-ODD-VALUES: mirrors validator/rules/encord_rows.py::polygon_odd_values */
                if (ON(R_POLYGON_ODD) && all_numbers(t, ring) && NODE(ring)->len % 2) return 0;
                /* ENC-POLYGON-DEGENERATE: mirrors validator/rules/encord_rows.py::polygon_degenerate */
                if (ON(R_POLYGON_DEGENERATE) && all_numbers(t, ring) && !(NODE(ring)->len % 2) &&
                    NODE(ring)->len < 6)
                    return 0;
                /* ENC-COORDINATE-OUT-OF-RANGE: mirrors validator/rules/encord_rows.py::coordinate_out_of_range */
                if (!world && ON(R_COORDINATE) && !numbers_inside(w, ring)) return 0;
            }
        }
    }
    /* ENC-POLYGON-FORMS-DIFFER: mirrors validator/rules/encord_rows.py::polygon_forms_differ */
    if (ON(R_POLYGON_FORMS) && legacy != LT_NONE && polygons != LT_NONE && !polygon_forms_agree(w, legacy, polygons))
        return 0;
    return 1;
}

static int polyline_clean(const walk *w, uint32_t line, int world) {
    const ltape *t = w->t;
    if (!IS(line, LT_OBJ) && !IS(line, LT_ARR)) return 1;
    /* ENC-POLYLINE-DEGENERATE: mirrors validator/rules/encord_rows.py::polyline_degenerate */
    if (ON(R_POLYLINE_DEGENERATE) && NODE(line)->len < 2) return 0;
    /* ENC-POLYLINE-MIXED-DIMENSIONS: mirrors validator/rules/encord_rows.py::polyline_mixed_dimensions */
    if (ON(R_POLYLINE_MIXED)) {
        int flat = 0, deep = 0;
        FOR_VERTICES(line, v) {
            if (NODE(v)->type != LT_OBJ) continue;
            if (LT_GET(t, v, "z") != LT_NONE) deep = 1;
            else flat = 1;
        }
        if (flat && deep) return 0;
    }
    /* ENC-COORDINATE-OUT-OF-RANGE: mirrors validator/rules/encord_rows.py::coordinate_out_of_range */
    return world || !ON(R_COORDINATE) || vertices_inside(w, line);
}

static int bitmask_clean(const walk *w, uint32_t mask, int64_t unit_width, int64_t unit_height) {
    const ltape *t = w->t;
    if (!IS(mask, LT_OBJ)) return 1;
    uint32_t rle = LT_NONE, width_at = LT_NONE, height_at = LT_NONE;
    FOR_MEMBERS(mask, k) {
        if (KEY_IS(k, "rleString")) rle = k + 1;
        else if (KEY_IS(k, "width")) width_at = k + 1;
        else if (KEY_IS(k, "height")) height_at = k + 1;
    }
    int64_t width = 0, height = 0;
    int width_kind = py_int(t, width_at, &width), height_kind = py_int(t, height_at, &height);
    if (width_kind == INT_BIG || height_kind == INT_BIG) return 0;
    int sized = width_kind == INT_OK && height_kind == INT_OK;
    /* ENC-BITMASK-RLE-INVALID: mirrors validator/rules/encord_rows.py::bitmask_rle_invalid */
    if (ON(R_RLE_INVALID) && IS(rle, LT_STR)) {
        int64_t total;
        if (!rle_total(NODE(rle)->v.s, NODE(rle)->len, &total)) return 0;
        if (sized) {
            if (width < 0 || height < 0) return 0; /* not modelled */
            int64_t area;
            if (!__builtin_mul_overflow(width, height, &area) && total > area) return 0;
        }
    }
    /* ENC-BITMASK-SIZE-MISMATCH: mirrors validator/rules/encord_rows.py::bitmask_size_mismatch */
    if (ON(R_BITMASK_SIZE) && unit_width && unit_height && sized && (width != unit_width || height != unit_height))
        return 0;
    return 1;
}

enum {
    S_BOUNDING_BOX,
    S_ROTATABLE_BOUNDING_BOX,
    S_POLYGON,
    S_POLYLINE,
    S_POINT,
    S_SKELETON,
    S_BITMASK,
    S_CUBOID,
    S_CUBOID_2D,
    S_SEGMENTATION,
    S_UNKNOWN
};

static int shape_of(const lnode *n) {
    static const char *const names[] = {"bounding_box", "rotatable_bounding_box", "polygon", "polyline",
                                        "point",        "skeleton",               "bitmask", "cuboid",
                                        "cuboid_2d",    "segmentation"};
    for (int i = 0; i < S_UNKNOWN; i++)
        if (lt_str_eq(n, names[i], strlen(names[i]))) return i;
    return S_UNKNOWN;
}

/* Members of a frame object that the rules read. */
enum {
    K_OBJECT_HASH,
    K_FEATURE_HASH,
    K_SHAPE,
    K_CREATED_AT,
    K_LAST_EDITED_AT,
    K_BOUNDING_BOX,
    K_ROTATABLE_BOUNDING_BOX,
    K_POLYGON,
    K_POLYGONS,
    K_POLYLINE,
    K_POINT,
    K_SKELETON,
    K_BITMASK,
    K_SEGMENTATION,
    K_CUBOID_2D,
    K_FRAME,
    K_CONFIDENCE,
    K_CUBOID,
    K_COUNT,
    K_OTHER = K_COUNT
};

static int object_key(const lnode *key) {
    const char *s = key->v.s;
#define K(literal, id)                                                                                  \
    if (memcmp(s, literal, sizeof(literal) - 1) == 0) return id;
    switch (key->len) {
    case 5:
        K("shape", K_SHAPE)
        K("point", K_POINT)
        K("frame", K_FRAME)
        break;
    case 6: K("cuboid", K_CUBOID) break;
    case 7:
        K("polygon", K_POLYGON)
        K("bitmask", K_BITMASK)
        break;
    case 8:
        K("polygons", K_POLYGONS)
        K("polyline", K_POLYLINE)
        K("skeleton", K_SKELETON)
        break;
    case 9:
        K("createdAt", K_CREATED_AT)
        K("cuboid_2d", K_CUBOID_2D)
        break;
    case 10:
        K("objectHash", K_OBJECT_HASH)
        K("confidence", K_CONFIDENCE)
        break;
    case 11:
        K("featureHash", K_FEATURE_HASH)
        K("boundingBox", K_BOUNDING_BOX)
        break;
    case 12:
        K("lastEditedAt", K_LAST_EDITED_AT)
        K("segmentation", K_SEGMENTATION)
        break;
    case 20: K("rotatableBoundingBox", K_ROTATABLE_BOUNDING_BOX) break;
    default: break;
    }
#undef K
    return K_OTHER;
}

static int datetime_member_clean(const walk *w, uint32_t value) {
    const ltape *t = w->t;
    /* ENC-DATETIME-INVALID: mirrors validator/rules/encord_rows.py::datetime_invalid */
    return !ON(R_DATETIME) || !IS(value, LT_STR) || datetime_clean(NODE(value));
}

/* ENC-CONFIDENCE-OUT-OF-RANGE: a numeric confidence within [0, 1] (other values are not checked). */
static int confidence_clean(const walk *w, uint32_t value) {
    const ltape *t = w->t;
    double v = 0;
    /* ENC-CONFIDENCE-OUT-OF-RANGE: mirrors validator/rules/encord_rows.py::confidence_out_of_range */
    return !ON(R_CONFIDENCE) || value == LT_NONE || !number(NODE(value), &v) || (v >= 0 && v <= 1);
}

/* ENC-CUBOID-SIZE-NOT-POSITIVE: every numeric item of the cuboid's size is positive. */
static int cuboid_clean(const walk *w, uint32_t cuboid) {
    const ltape *t = w->t;
    /* ENC-CUBOID-SIZE-NOT-POSITIVE: mirrors validator/rules/encord_rows.py::cuboid_size_not_positive */
    if (!ON(R_CUBOID_SIZE) || !IS(cuboid, LT_OBJ)) return 1;
    uint32_t size = LT_GET(t, cuboid, "size");
    if (!IS(size, LT_ARR)) return 1;
    FOR_ITEMS(size, e) {
        double v;
        if (number(NODE(e), &v) && v <= 0) return 0;
    }
    return 1;
}

/* One frame object (a dict). */
static int object_clean(walk *w, uint32_t obj, int64_t width, int64_t height, int world, const lnode **hash_out) {
    const ltape *t = w->t;
    uint32_t at[K_COUNT + 1];
    for (int i = 0; i < K_COUNT; i++) at[i] = LT_NONE;
    FOR_MEMBERS(obj, k) at[object_key(NODE(k))] = k + 1;
    /* Objects without these strings are indexed differently by the reference: not modelled. */
    if (!IS(at[K_OBJECT_HASH], LT_STR) || !IS(at[K_FEATURE_HASH], LT_STR) || !IS(at[K_SHAPE], LT_STR)) return 0;
    int shape = shape_of(NODE(at[K_SHAPE]));
    if (shape == S_UNKNOWN) return 0;

    const lnode *hash = NODE(at[K_OBJECT_HASH]), *feature = NODE(at[K_FEATURE_HASH]);
    *hash_out = hash;
    int added;
    sslot *slot = stab_upsert(&w->r->objects, hash->v.s, hash->len, &added);
    if (!slot) return 0;
    if (added || !(slot->flags & F_FRAME)) {
        slot->flags |= F_FRAME;
        slot->feature = feature->v.s;
        slot->feature_len = feature->len;
    /* ENC-OBJECT-FEATURE-CHANGES: mirrors validator/rules/encord_rows.py::object_feature_changes */
    } else if (ON(R_FEATURE_CHANGES) &&
               (slot->feature_len != feature->len || memcmp(slot->feature, feature->v.s, feature->len) != 0)) {
        return 0;
    }
    if (!datetime_member_clean(w, at[K_CREATED_AT]) || !datetime_member_clean(w, at[K_LAST_EDITED_AT])) return 0;
    if (!confidence_clean(w, at[K_CONFIDENCE])) return 0;
    /* ENC-OBJECT-FRAME-MISMATCH: mirrors validator/rules/encord_rows.py::object_frame_mismatch */
    if (w->frame >= 0 && at[K_FRAME] != LT_NONE && ON(R_FRAME_MISMATCH)) {
        int64_t stated;
        int kind = py_int(t, at[K_FRAME], &stated);
        if (kind == INT_BIG || (kind == INT_OK && stated != w->frame)) return 0;
    }

    switch (shape) {
    case S_BOUNDING_BOX: return bounding_box_clean(w, at[K_BOUNDING_BOX], world, 0);
    case S_ROTATABLE_BOUNDING_BOX: return bounding_box_clean(w, at[K_ROTATABLE_BOUNDING_BOX], world, 1);
    case S_POLYGON: return polygon_clean(w, at[K_POLYGON], at[K_POLYGONS], world);
    case S_POLYLINE: return polyline_clean(w, at[K_POLYLINE], world);
    /* ENC-COORDINATE-OUT-OF-RANGE: mirrors validator/rules/encord_rows.py::coordinate_out_of_range */
    case S_POINT: return world || !ON(R_COORDINATE) || at[K_POINT] == LT_NONE || vertices_inside(w, at[K_POINT]);
    case S_SKELETON:
        return world || !ON(R_COORDINATE) || at[K_SKELETON] == LT_NONE || vertices_inside(w, at[K_SKELETON]);
    case S_CUBOID_2D:
        /* ENC-COORDINATE-OUT-OF-RANGE: mirrors validator/rules/encord_rows.py::coordinate_out_of_range */
        return world || !ON(R_COORDINATE) || !IS(at[K_CUBOID_2D], LT_OBJ) ||
               numbers_inside(w, LT_GET(t, at[K_CUBOID_2D], "front"));
    case S_BITMASK: return bitmask_clean(w, at[K_BITMASK], width, height);
    case S_SEGMENTATION: {
        int64_t total;
        uint32_t rle = at[K_SEGMENTATION];
        /* ENC-BITMASK-RLE-INVALID: mirrors validator/rules/encord_rows.py::bitmask_rle_invalid */
        return !ON(R_RLE_INVALID) || !IS(rle, LT_STR) || rle_total(NODE(rle)->v.s, NODE(rle)->len, &total);
    }
    case S_CUBOID: return cuboid_clean(w, at[K_CUBOID]);
    default: return 1;
    }
}

/* No objectHash twice in one `objects` list (ENC-OBJECT-HASH-DUPLICATE-IN-FRAME). */
static int hashes_distinct(walk *w, size_t count) {
    const lnode **h = w->r->hashes;
    if (count <= 12) {
        for (size_t i = 1; i < count; i++)
            for (size_t j = 0; j < i; j++)
                if (h[i]->len == h[j]->len && memcmp(h[i]->v.s, h[j]->v.s, h[i]->len) == 0) return 0;
        return 1;
    }
    stab *seen = &w->r->in_frame;
    stab_clear(seen);
    for (size_t i = 0; i < count; i++) {
        int added;
        if (!stab_upsert(seen, h[i]->v.s, h[i]->len, &added) || !added) return 0;
    }
    return 1;
}

/* An {objects, classifications} blob (_index_blob), a dict. */
static int blob_clean(walk *w, uint32_t blob, int64_t width, int64_t height, int world) {
    const ltape *t = w->t;
    lenc *r = w->r;
    uint32_t objects = LT_NONE, classifications = LT_NONE;
    FOR_MEMBERS(blob, k) {
        if (KEY_IS(k, "objects")) objects = k + 1;
        else if (KEY_IS(k, "classifications")) classifications = k + 1;
    }
    if (IS(objects, LT_ARR)) {
        size_t count = 0;
        if (!reserve((void **)&r->hashes, &r->hashes_cap, NODE(objects)->len + 1, sizeof *r->hashes)) return 0;
        FOR_ITEMS(objects, obj) {
            if (NODE(obj)->type != LT_OBJ) continue;
            if (!object_clean(w, obj, width, height, world, &r->hashes[count++])) return 0;
        }
        /* ENC-OBJECT-HASH-DUPLICATE-IN-FRAME: mirrors validator/rules/encord_rows.py::object_hash_duplicate_in_frame */
        if (ON(R_HASH_DUPLICATE) && count > 1 && !hashes_distinct(w, count)) return 0;
    }
    if (IS(classifications, LT_ARR)) {
        FOR_ITEMS(classifications, c) {
            if (NODE(c)->type != LT_OBJ) continue;
            FOR_MEMBERS(c, k) {
                uint32_t v = k + 1;
                if (KEY_IS(k, "classificationHash")) {
                    if (NODE(v)->type == LT_STR) {
                        const sslot *answer = stab_find(&r->class_keys, NODE(v)->v.s, NODE(v)->len);
                        /* ENC-FRAME-CLASSIFICATION-UNANSWERED: mirrors validator/rules/encord_rows.py::frame_classification_unanswered */
                        if (answer ? (answer->flags & F_UNPLACED) != 0 : ON(R_CLASS_UNANSWERED)) return 0;
                    }
                } else if (KEY_IS(k, "createdAt") || KEY_IS(k, "lastEditedAt")) {
                    if (!datetime_member_clean(w, v)) return 0;
                } else if (KEY_IS(k, "confidence")) {
                    if (!confidence_clean(w, v)) return 0;
                }
            }
        }
    }
    return 1;
}

static int64_t dimension(const ltape *t, uint32_t value, int *big) {
    int64_t v = 0;
    int kind = py_int(t, value, &v);
    if (kind == INT_BIG) *big = 1;
    return kind == INT_OK ? v : 0; /* _dim(): 0 means unknown, as a missing value */
}

/* ENC-GROUP-CHILD-LAYOUT-UNMATCHED: every string layout_key of the unit's metadata.children is a space's. */
static int children_placed(const walk *w, uint32_t metadata) {
    const ltape *t = w->t;
    if (!IS(metadata, LT_OBJ)) return 1;
    uint32_t children = LT_GET(t, metadata, "children");
    if (!IS(children, LT_ARR)) return 1;
    FOR_ITEMS(children, child) {
        if (NODE(child)->type != LT_OBJ) continue;
        uint32_t layout = LT_GET(t, child, "layout_key");
        if (IS(layout, LT_STR) && !stab_find(&w->r->layouts, NODE(layout)->v.s, NODE(layout)->len)) return 0;
    }
    return 1;
}

static int data_units_clean(walk *w, uint32_t units) {
    const ltape *t = w->t;
    lenc *r = w->r;
    int image = w->data_type == T_IMAGE || w->data_type == T_IMG_GROUP;
    itab_clear(&r->sequences);
    FOR_MEMBERS(units, k) {
        uint32_t unit = k + 1;
        if (NODE(unit)->type != LT_OBJ) continue;
        uint32_t labels = LT_NONE, width_at = LT_NONE, height_at = LT_NONE, sequence_at = LT_NONE;
        uint32_t fps_at = LT_NONE, duration_at = LT_NONE, metadata = LT_NONE;
        FOR_MEMBERS(unit, m) {
            if (KEY_IS(m, "labels")) labels = m + 1;
            else if (KEY_IS(m, "width")) width_at = m + 1;
            else if (KEY_IS(m, "height")) height_at = m + 1;
            else if (KEY_IS(m, "data_sequence")) sequence_at = m + 1;
            else if (KEY_IS(m, "data_fps")) fps_at = m + 1;
            else if (KEY_IS(m, "data_duration")) duration_at = m + 1;
            else if (KEY_IS(m, "metadata")) metadata = m + 1;
        }
        /* ENC-GROUP-CHILD-LAYOUT-UNMATCHED: mirrors validator/rules/encord_rows.py::group_child_layout_unmatched */
        if (w->data_type == T_GROUP && w->has_spaces && ON(R_LAYOUT) && !children_placed(w, metadata)) return 0;
        /* ENC-IMG-GROUP-SEQUENCE-DUPLICATE: mirrors validator/rules/encord_rows.py::img_group_sequence_duplicate */
        if (w->data_type == T_IMG_GROUP && ON(R_SEQUENCE_DUPLICATE)) {
            int64_t sequence;
            int kind = py_int(t, sequence_at, &sequence);
            if (kind == INT_BIG || (kind == INT_OK && itab_add(&r->sequences, sequence) != 1)) return 0;
        }
        if (!IS(labels, LT_OBJ) || w->range_type) continue;
        int big = 0;
        int64_t width = dimension(t, width_at, &big), height = dimension(t, height_at, &big);
        if (big) return 0;
        if (image || w->data_type == T_GROUP) {
            if (!blob_clean(w, labels, width, height, 0)) return 0;
            if (!image) continue;
            FOR_MEMBERS(labels, m) {
                if (!all_digits(NODE(m)->v.s, NODE(m)->len)) continue;
                /* ENC-IMAGE-LABELS-FRAME-KEYED: mirrors validator/rules/encord_rows.py::image_labels_frame_keyed */
                if (ON(R_IMAGE_FRAME_KEYED)) return 0;
                if (NODE(m + 1)->type == LT_OBJ && !blob_clean(w, m + 1, width, height, 0)) return 0;
            }
        } else { /* frame-keyed: video, dicom, dicom_study, nifti, pdf, scene */
            int world = w->data_type == T_SCENE;
            double limit = -1; /* ENC-FRAME-BEYOND-DURATION: ceil(fps * duration) of a video unit */
            /* ENC-FRAME-BEYOND-DURATION: mirrors validator/rules/encord_rows.py::frame_beyond_duration */
            if (w->data_type == T_VIDEO && ON(R_FRAME_DURATION) && fps_at != LT_NONE && duration_at != LT_NONE) {
                double fps, duration;
                if (number(NODE(fps_at), &fps) && number(NODE(duration_at), &duration) && fps > 0 && duration > 0 &&
                    isfinite(fps * duration))
                    limit = ceil(fps * duration);
            }
            FOR_MEMBERS(labels, m) {
                int64_t frame = -1;
                int kind = py_int(t, m, &frame);
                if (kind == INT_BIG) return 0;
                if (kind != INT_OK) frame = -1;
                if (limit >= 0 && frame >= 0) {
                    if (frame > ((int64_t)1 << 53)) return 0; /* not exact as a double: not modelled */
                    if ((double)frame >= limit) return 0;
                }
                if (NODE(m + 1)->type != LT_OBJ) continue;
                w->frame = frame;
                int clean = blob_clean(w, m + 1, width, height, world);
                w->frame = -1;
                if (!clean) return 0;
            }
        }
    }
    return 1;
}

static int space_clean(walk *w, uint32_t space) {
    const ltape *t = w->t;
    uint32_t labels = LT_NONE, type_at = LT_NONE, width_at = LT_NONE, height_at = LT_NONE;
    uint32_t frames_at = LT_NONE, pages_at = LT_NONE, stack_at = LT_NONE;
    FOR_MEMBERS(space, k) {
        uint32_t v = k + 1;
        if (KEY_IS(k, "labels")) labels = v;
        else if (KEY_IS(k, "space_type")) type_at = v;
        else if (KEY_IS(k, "width")) width_at = v;
        else if (KEY_IS(k, "height")) height_at = v;
        else if (KEY_IS(k, "number_of_frames")) frames_at = v;
        else if (KEY_IS(k, "number_of_pages")) pages_at = v;
        else if (KEY_IS(k, "frames")) stack_at = v;
    }
    if (!IS(labels, LT_OBJ)) return 1;
    int big = 0;
    int64_t width = dimension(t, width_at, &big), height = dimension(t, height_at, &big);
    if (big) return 0;
    const lnode *type = type_at != LT_NONE ? NODE(type_at) : NULL;
    if (type && (LT_STR_EQ(type, "point_cloud") || LT_STR_EQ(type, "scene_image")))
        return blob_clean(w, labels, width, height, LT_STR_EQ(type, "point_cloud"));
    int64_t limit = 0;
    int limited = 0;
    if (type && (LT_STR_EQ(type, "video") || LT_STR_EQ(type, "image_sequence") || LT_STR_EQ(type, "medical_file") ||
                 LT_STR_EQ(type, "pdf"))) {
        int kind = py_int(t, LT_STR_EQ(type, "pdf") ? pages_at : frames_at, &limit);
        if (kind == INT_BIG) return 0;
        limited = kind == INT_OK;
    } else if (type && LT_STR_EQ(type, "medical_stack") && IS(stack_at, LT_ARR)) {
        limit = NODE(stack_at)->len;
        limited = 1;
    } else if (type && LT_STR_EQ(type, "image")) {
        limit = 1;
        limited = 1;
    }
    FOR_MEMBERS(labels, k) {
        int64_t frame = -1;
        int kind = py_int(t, k, &frame);
        if (kind == INT_BIG) return 0;
        if (kind != INT_OK) frame = -1;
        /* ENC-FRAME-OUT-OF-RANGE: mirrors validator/rules/encord_rows.py::frame_out_of_range */
        if (limited && ON(R_FRAME_RANGE) && frame >= limit) return 0;
        if (NODE(k + 1)->type != LT_OBJ) continue;
        w->frame = frame;
        int clean = blob_clean(w, k + 1, width, height, 0);
        w->frame = -1;
        if (!clean) return 0;
    }
    return 1;
}

/* No [start, end] pair of a `range` list starts after it ends. */
static int ranges_clean(const walk *w, uint32_t ranges) {
    const ltape *t = w->t;
    /* ENC-RANGE-REVERSED: mirrors validator/rules/encord_rows.py::range_reversed */
    if (!ON(R_RANGE_REVERSED) || !IS(ranges, LT_ARR)) return 1;
    FOR_ITEMS(ranges, pair) {
        if (NODE(pair)->type != LT_ARR || NODE(pair)->len != 2) continue;
        int64_t start, end;
        int a = py_int(t, pair + 1, &start), b = py_int(t, NODE(pair + 1)->end, &end);
        if (a == INT_BIG || b == INT_BIG) return 0;
        if (a == INT_OK && b == INT_OK && start > end) return 0;
    }
    return 1;
}

/* An HTML span from position `from` to `to` does not run backwards within one node. */
static int span_clean(const walk *w, uint32_t from, uint32_t to) {
    const ltape *t = w->t;
    if (!IS(from, LT_OBJ)) return 1; /* _dict(): no xpath */
    uint32_t xpath = LT_GET(t, from, "xpath");
    if (xpath == LT_NONE || NODE(xpath)->type == LT_NULL) return 1;
    uint32_t other = IS(to, LT_OBJ) ? LT_GET(t, to, "xpath") : LT_NONE;
    if (NODE(xpath)->type != LT_STR) return 0; /* Python equality of other values: not modelled */
    if (other == LT_NONE || NODE(other)->type != LT_STR) return 1;
    if (NODE(other)->len != NODE(xpath)->len || memcmp(NODE(other)->v.s, NODE(xpath)->v.s, NODE(xpath)->len) != 0)
        return 1;
    int64_t first, last;
    int a = py_int(t, LT_GET(t, from, "offset"), &first), b = py_int(t, LT_GET(t, to, "offset"), &last);
    if (a == INT_BIG || b == INT_BIG) return 0;
    return !(a == INT_OK && b == INT_OK && first > last);
}

/* The `range` and `spaces` of an object_answers or classification_answers entry (_range_lists, _html_spans). */
static int entry_ranges_clean(const walk *w, uint32_t range, uint32_t spaces, uint32_t range_html, int answers) {
    const ltape *t = w->t;
    if (!ranges_clean(w, range)) return 0;
    /* ENC-RANGE-REVERSED: mirrors validator/rules/encord_rows.py::range_reversed */
    if (!ON(R_RANGE_REVERSED)) return 1;
    if (IS(spaces, LT_OBJ)) {
        FOR_MEMBERS(spaces, k) {
            uint32_t space = k + 1;
            if (NODE(space)->type != LT_OBJ) continue;
            uint32_t type = LT_GET(t, space, "type");
            if (type == LT_NONE) continue;
            if (LT_STR_EQ(NODE(type), "frame")) {
                if (!ranges_clean(w, LT_GET(t, space, "range"))) return 0;
            } else if (answers && LT_STR_EQ(NODE(type), "html")) {
                uint32_t spans = LT_GET(t, space, "range");
                if (!IS(spans, LT_ARR)) continue;
                FOR_ITEMS(spans, span) {
                    if (NODE(span)->type != LT_ARR || NODE(span)->len != 2) continue;
                    if (!span_clean(w, span + 1, NODE(span + 1)->end)) return 0;
                }
            }
        }
    }
    if (answers && IS(range_html, LT_ARR)) {
        FOR_ITEMS(range_html, span) {
            if (NODE(span)->type != LT_OBJ) continue;
            if (!span_clean(w, LT_GET(t, span, "start"), LT_GET(t, span, "end"))) return 0;
        }
    }
    return 1;
}

typedef struct {
    uint32_t object_hash, range, spaces, range_html, created_at, last_edited_at, confidence, feature_hash;
} answer_members;

static void answer_scan(const ltape *t, uint32_t entry, answer_members *a) {
    a->object_hash = a->range = a->spaces = a->range_html = a->created_at = a->last_edited_at = LT_NONE;
    a->confidence = a->feature_hash = LT_NONE;
    FOR_MEMBERS(entry, k) {
        uint32_t v = k + 1;
        const lnode *key = NODE(k);
        switch (key->len) {
        case 5:
            if (KEY_IS(k, "range")) a->range = v;
            break;
        case 6:
            if (KEY_IS(k, "spaces")) a->spaces = v;
            break;
        case 9:
            if (KEY_IS(k, "createdAt")) a->created_at = v;
            break;
        case 10:
            if (KEY_IS(k, "range_html")) a->range_html = v;
            else if (KEY_IS(k, "objectHash")) a->object_hash = v;
            else if (KEY_IS(k, "confidence")) a->confidence = v;
            break;
        case 11:
            if (KEY_IS(k, "featureHash")) a->feature_hash = v;
            break;
        case 12:
            if (KEY_IS(k, "lastEditedAt")) a->last_edited_at = v;
            break;
        default: break;
        }
    }
}

/* No [start, end] pair of a range list ends after `limit` (ms). */
static int range_ends_within(const ltape *t, uint32_t ranges, double limit) {
    if (!IS(ranges, LT_ARR)) return 1;
    FOR_ITEMS(ranges, pair) {
        if (NODE(pair)->type != LT_ARR || NODE(pair)->len != 2) continue;
        double end;
        if (number(NODE(NODE(pair + 1)->end), &end) && end > limit) return 0;
    }
    return 1;
}

/* What every answer entry (object_answers, classification_answers) is checked for beyond ranges and
 * datetimes: confidence, the spaces it is placed on (ENC-ANSWER-SPACE-UNKNOWN) and audio lengths
 * (ENC-AUDIO-RANGE-BEYOND-DURATION for audio rows, ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION for audio spaces). */
static int answer_entry_clean(const walk *w, const answer_members *a) {
    const ltape *t = w->t;
    lenc *r = w->r;
    if (!confidence_clean(w, a->confidence)) return 0;
    /* ENC-AUDIO-RANGE-BEYOND-DURATION: mirrors validator/rules/encord_rows.py::audio_range_beyond_duration */
    if (w->has_audio && ON(R_AUDIO_RANGE) && !range_ends_within(t, a->range, w->audio_ms)) return 0;
    if (!IS(a->spaces, LT_OBJ)) return 1;
    FOR_MEMBERS(a->spaces, k) {
        const lnode *id = NODE(k);
        /* ENC-ANSWER-SPACE-UNKNOWN: mirrors validator/rules/encord_rows.py::answer_space_unknown */
        if (ON(R_SPACE_UNKNOWN) && w->data_type != T_SCENE && !stab_find(&r->space_ids, id->v.s, id->len)) return 0;
        /* ENC-AUDIO-SPACE-RANGE-BEYOND-DURATION: mirrors validator/rules/encord_rows.py::audio_space_range_beyond_duration */
        if (!ON(R_AUDIO_SPACE_RANGE) || NODE(k + 1)->type != LT_OBJ) continue;
        for (size_t i = 0; i < r->audio_count; i++) {
            if (r->audio[i].len != id->len || memcmp(r->audio[i].key, id->v.s, id->len) != 0) continue;
            if (!range_ends_within(t, LT_GET(t, k + 1, "range"), r->audio[i].limit)) return 0;
            break;
        }
    }
    return 1;
}

/* _str(entry.get("objectHash")) or key */
static const lnode *owner_hash(const ltape *t, uint32_t key, uint32_t object_hash) {
    if (IS(object_hash, LT_STR) && NODE(object_hash)->len) return NODE(object_hash);
    return NODE(key);
}

/* ENC-CLASSIFICATION-RANGE-MISSING, conservatively: a classification_answers entry of a frame-based row with a
 * truthy featureHash, no non-empty `range` and no space id other than "root" is marked F_UNPLACED; a frame
 * classification naming it makes the row "not sure" (the reference exempts rows with a root space,
 * continuous scenes and global classifications of the ontology). */
static int classification_placed(const walk *w, const answer_members *a) {
    const ltape *t = w->t;
    /* ENC-CLASSIFICATION-RANGE-MISSING: mirrors validator/rules/encord_rows.py::classification_range_missing */
    if (!ON(R_CLASS_RANGE) || w->range_type || w->data_type == T_AUDIO || w->data_type == T_PLAIN_TEXT) return 1;
    if (!truthy(t, a->feature_hash)) return 1;
    if (IS(a->range, LT_ARR) && NODE(a->range)->len > 0) return 1;
    if (IS(a->spaces, LT_OBJ)) {
        FOR_MEMBERS(a->spaces, k) {
            if (!LT_STR_EQ(NODE(k), "root")) return 1;
        }
    }
    return 0;
}

static int classification_answers_clean(walk *w, uint32_t answers) {
    const ltape *t = w->t;
    stab *keys = &w->r->class_keys;
    stab_clear(keys);
    if (!IS(answers, LT_OBJ)) return 1;
    FOR_MEMBERS(answers, k) {
        int added;
        sslot *slot = stab_upsert(keys, NODE(k)->v.s, NODE(k)->len, &added);
        if (!slot) return 0;
        uint32_t entry = k + 1;
        if (NODE(entry)->type != LT_OBJ) continue;
        answer_members a;
        answer_scan(t, entry, &a);
        if (!datetime_member_clean(w, a.created_at) || !datetime_member_clean(w, a.last_edited_at)) return 0;
        if (!entry_ranges_clean(w, a.range, a.spaces, LT_NONE, 0)) return 0;
        if (!answer_entry_clean(w, &a)) return 0;
        if (!classification_placed(w, &a)) slot->flags |= F_UNPLACED;
    }
    return 1;
}

static int object_answers_clean(walk *w, uint32_t answers) {
    const ltape *t = w->t;
    stab *objects = &w->r->objects;
    if (!IS(answers, LT_OBJ)) return 1;
    int unmatched = 0; /* answers of frame objects whose objectHash is not (yet) known */
    FOR_MEMBERS(answers, k) {
        uint32_t entry = k + 1;
        if (NODE(entry)->type != LT_OBJ) continue;
        answer_members a;
        answer_scan(t, entry, &a);
        const lnode *owner = owner_hash(t, k, a.object_hash);
        if (w->range_type || truthy(t, a.spaces) || a.range_html != LT_NONE) {
            int added;
            sslot *slot = stab_upsert(objects, owner->v.s, owner->len, &added);
            if (!slot) return 0;
            slot->flags |= F_RANGE;
        } else if (!stab_find(objects, owner->v.s, owner->len)) {
            unmatched = 1;
        }
        if (!datetime_member_clean(w, a.created_at) || !datetime_member_clean(w, a.last_edited_at)) return 0;
        if (!entry_ranges_clean(w, a.range, a.spaces, a.range_html, 1)) return 0;
        if (!answer_entry_clean(w, &a)) return 0;
    }
    /* ENC-OBJECT-ANSWER-ORPHAN: mirrors validator/rules/encord_rows.py::object_answer_orphan */
    if (unmatched && ON(R_ANSWER_ORPHAN) && !w->range_type) { /* range objects listed later count too */
        FOR_MEMBERS(answers, k) {
            uint32_t entry = k + 1;
            if (NODE(entry)->type != LT_OBJ) continue;
            const lnode *owner = owner_hash(t, k, LT_GET(t, entry, "objectHash"));
            if (!stab_find(objects, owner->v.s, owner->len)) return 0;
        }
    }
    return 1;
}

static int object_actions_clean(walk *w, uint32_t actions) {
    const ltape *t = w->t;
    if (!IS(actions, LT_OBJ)) return 1;
    FOR_MEMBERS(actions, k) {
        uint32_t entry = k + 1;
        if (NODE(entry)->type != LT_OBJ) continue;
        uint32_t object_hash = LT_NONE, list = LT_NONE;
        FOR_MEMBERS(entry, m) {
            if (KEY_IS(m, "objectHash")) object_hash = m + 1;
            else if (KEY_IS(m, "actions")) list = m + 1;
        }
        const lnode *owner = owner_hash(t, k, object_hash);
        /* ENC-OBJECT-ACTION-ORPHAN: mirrors validator/rules/encord_rows.py::object_action_orphan */
        if (ON(R_ACTION_ORPHAN) && !stab_find(&w->r->objects, owner->v.s, owner->len)) return 0;
        /* ENC-RANGE-REVERSED: mirrors validator/rules/encord_rows.py::range_reversed */
        if (ON(R_RANGE_REVERSED) && IS(list, LT_ARR)) {
            FOR_ITEMS(list, action) {
                if (NODE(action)->type == LT_OBJ && !ranges_clean(w, LT_GET(t, action, "range"))) return 0;
            }
        }
    }
    return 1;
}

/* The row's space ids, the layout keys its spaces fill and its audio spaces' lengths; 0 when out of memory. */
static int index_spaces(walk *w, uint32_t spaces) {
    const ltape *t = w->t;
    lenc *r = w->r;
    stab_clear(&r->space_ids);
    stab_clear(&r->layouts);
    r->audio_count = 0;
    w->has_spaces = IS(spaces, LT_OBJ);
    if (!w->has_spaces) return 1;
    FOR_MEMBERS(spaces, k) {
        int added;
        if (!stab_upsert(&r->space_ids, NODE(k)->v.s, NODE(k)->len, &added)) return 0;
        uint32_t space = k + 1;
        if (NODE(space)->type != LT_OBJ) continue;
        uint32_t child = LT_GET(t, space, "child_info"), type = LT_GET(t, space, "space_type");
        if (IS(child, LT_OBJ)) {
            uint32_t layout = LT_GET(t, child, "layout_key");
            if (IS(layout, LT_STR) && !stab_upsert(&r->layouts, NODE(layout)->v.s, NODE(layout)->len, &added))
                return 0;
        }
        double limit;
        uint32_t duration = LT_GET(t, space, "duration_ms");
        if (IS(type, LT_STR) && LT_STR_EQ(NODE(type), "audio") && duration != LT_NONE &&
            number(NODE(duration), &limit)) {
            if (!reserve((void **)&r->audio, &r->audio_cap, r->audio_count + 1, sizeof *r->audio)) return 0;
            r->audio[r->audio_count++] = (audio_space){NODE(k)->v.s, NODE(k)->len, limit};
        }
    }
    return 1;
}

/* An audio row's length from its first data unit's data_duration (s), as ENC-AUDIO-RANGE-BEYOND-DURATION. */
static int audio_row_length(walk *w, uint32_t units) {
    const ltape *t = w->t;
    w->has_audio = 0;
    if (w->data_type != T_AUDIO || !IS(units, LT_OBJ) || NODE(units)->len == 0) return 1;
    uint32_t first = units + 2; /* the value of the first member */
    double duration;
    uint32_t at = LT_GET(t, first, "data_duration");
    if (at != LT_NONE && number(NODE(at), &duration) && duration > 0) {
        w->has_audio = 1;
        w->audio_ms = duration * 1000;
    }
    return 1;
}

int lenc_row_clean(lenc *r, const ltape *t, uint32_t row, uint32_t row_index) {
    (void)row_index; /* every rule looks at one row at a time */
    if (r->unknown_rules || !IS(row, LT_OBJ)) return 0;
    uint32_t data_type = LT_NONE, units = LT_NONE, spaces = LT_NONE, object_answers = LT_NONE;
    uint32_t classification_answers = LT_NONE, object_actions = LT_NONE, flag = LT_NONE;
    walk walker = {r, t, T_UNKNOWN, 0, -1, 0, 0, 0}, *w = &walker;
    FOR_MEMBERS(row, k) {
        uint32_t v = k + 1;
        switch (NODE(k)->len) {
        case 6:
            if (KEY_IS(k, "spaces")) spaces = v;
            break;
        case 9:
            if (KEY_IS(k, "data_type")) data_type = v;
            break;
        case 10:
            if (KEY_IS(k, "created_at")) {
                if (!datetime_member_clean(w, v)) return 0;
            } else if (KEY_IS(k, "data_units")) {
                units = v;
            }
            break;
        case 14:
            if (KEY_IS(k, "last_edited_at")) {
                if (!datetime_member_clean(w, v)) return 0;
            } else if (KEY_IS(k, "object_answers")) {
                object_answers = v;
            } else if (KEY_IS(k, "object_actions")) {
                object_actions = v;
            }
            break;
        case 17:
            if (KEY_IS(k, "is_image_sequence")) flag = v;
            break;
        case 22:
            if (KEY_IS(k, "classification_answers")) classification_answers = v;
            break;
        default: break;
        }
    }
    if (data_type == LT_NONE || (w->data_type = data_type_of(NODE(data_type))) == T_UNKNOWN) return 0;
    w->range_type = w->data_type == T_AUDIO || w->data_type == T_PLAIN_TEXT;
    /* ENC-IMAGE-SEQUENCE-FLAG-MISMATCH: mirrors validator/rules/encord_rows.py::image_sequence_flag_mismatch */
    if (flag != LT_NONE && ON(R_SEQUENCE_FLAG)) {
        uint8_t type = NODE(flag)->type;
        if (w->data_type == T_IMG_GROUP ? type == LT_NULL : (type == LT_TRUE || type == LT_FALSE)) return 0;
    }
    stab_clear(&r->objects);
    if (!index_spaces(w, spaces) || !audio_row_length(w, units)) return 0;
    if (!classification_answers_clean(w, classification_answers)) return 0;
    if (IS(units, LT_OBJ) && !data_units_clean(w, units)) return 0;
    if (IS(spaces, LT_OBJ)) {
        FOR_MEMBERS(spaces, k) {
            if (NODE(k + 1)->type == LT_OBJ && !space_clean(w, k + 1)) return 0;
        }
    }
    if (!object_answers_clean(w, object_answers)) return 0;
    return object_actions_clean(w, object_actions);
}

/* ------------------------------------------------------------------------------------------- building */

lenc *lenc_build(PyObject *config) {
    if (!PyDict_Check(config)) {
        PyErr_SetString(PyExc_TypeError, "EncordRules config must be a dict");
        return NULL;
    }
    PyObject *rules = PyDict_GetItemString(config, "rules"); /* borrowed */
    PyObject *eps = PyDict_GetItemString(config, "eps");
    if (!rules || !PyList_Check(rules) || !eps || !PyFloat_Check(eps)) {
        PyErr_SetString(PyExc_ValueError, "EncordRules config needs 'rules' (list of str) and 'eps' (float)");
        return NULL;
    }
    lenc *r = calloc(1, sizeof *r);
    if (!r) {
        PyErr_NoMemory();
        return NULL;
    }
    double e = PyFloat_AS_DOUBLE(eps);
    r->low = -e;
    r->high = 1 + e;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rules); i++) {
        const char *id = PyUnicode_Check(PyList_GET_ITEM(rules, i)) ? PyUnicode_AsUTF8(PyList_GET_ITEM(rules, i)) : NULL;
        if (!id) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "EncordRules config: rule ids must be str");
            lenc_free(r);
            return NULL;
        }
        int known = 0;
        for (int j = 0; j < R_COUNT && !known; j++) {
            if (strcmp(id, RULE_IDS[j]) == 0) {
                r->active |= 1u << j;
                known = 1;
            }
        }
        for (size_t j = 0; j < sizeof PARSER_RULE_IDS / sizeof *PARSER_RULE_IDS && !known; j++)
            known = strcmp(id, PARSER_RULE_IDS[j]) == 0;
        if (!known) r->unknown_rules = 1; /* a rule this decider cannot vouch for */
    }
    return r;
}

PyObject *lenc_rule_ids(void) {
    Py_ssize_t parser = (Py_ssize_t)(sizeof PARSER_RULE_IDS / sizeof *PARSER_RULE_IDS);
    PyObject *out = PyTuple_New(R_COUNT + parser);
    if (!out) return NULL;
    for (Py_ssize_t i = 0; i < R_COUNT + parser; i++) {
        PyObject *id = PyUnicode_FromString(i < R_COUNT ? RULE_IDS[i] : PARSER_RULE_IDS[i - R_COUNT]);
        if (!id) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, i, id);
    }
    return out;
}

void lenc_free(lenc *r) {
    if (!r) return;
    free(r->objects.slots);
    free(r->class_keys.slots);
    free(r->in_frame.slots);
    free(r->sequences.slots);
    free(r->points);
    free(r->hashes);
    free(r->space_ids.slots);
    free(r->layouts.slots);
    free(r->audio);
    free(r);
}
