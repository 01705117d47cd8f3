/* The single-element COCO instance rules as a clean decider, and the columns of the cross-element rules
 * (see coco.h). Each check names the rule it mirrors (validator/rules/coco.py); where the Python rule
 * would read a value differently from what is modelled here (a float id, a boolean iscrowd, numbers past
 * 2^52) the decider answers "not sure" rather than guess. */
#include "coco.h"

#include <math.h>
#include <stdlib.h>

/* The rules decided here (single element) and in validator/native/coco.py (columns), by id. */
const char *const LCOCO_RULE_IDS[] = {
    "COCO-ANNOTATION-ID-MISSING",  "COCO-RLE-COUNTS-UNDECODABLE", "COCO-RLE-PIXEL-TOTAL",
    "COCO-POLYGON-ODD-COORDINATES", "COCO-POLYGON-TOO-FEW-POINTS", "COCO-CATEGORY-KEYPOINTS-NOT-LIST",
    "COCO-ISCROWD-POLYGONS",       "COCO-ISCROWD-BOOLEAN",        "COCO-RLE-NOT-CROWD",
    "COCO-BBOX-NEGATIVE-SIZE",     "COCO-AREA-NOT-POSITIVE",      "COCO-NUM-KEYPOINTS-MISMATCH",
    NULL};

/* The COCO panoptic rules decided here (per annotation); validator/native/coco.py decides the others over
 * the columns (VECTORISED_PANOPTIC), or makes the plan "not sure" (the PNG rules when a folder is given). */
const char *const LCOCO_PANOPTIC_RULE_IDS[] = {
    "COCO-PANOPTIC-SEGMENT-ID-DUPLICATE", "COCO-PANOPTIC-SEGMENT-ID-CONFLICT", "COCO-PANOPTIC-AREA-NOT-POSITIVE",
    NULL};

#define EXACT_LIMIT (INT64_C(1) << 52) /* integers up to this add exactly as doubles */
#define SIZE_LIMIT (INT64_C(1) << 31)  /* image / mask sides: products and comparisons stay exact */
#define TOTAL_LIMIT (INT64_C(1) << 62) /* run sums beyond this: not sure (Python's ints do not overflow) */

/* ------------------------------------------------------------------------------------------ columns */

static int push_i64(lcol_i64 *c, int64_t v) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        int64_t *grown = realloc(c->v, cap * sizeof *grown);
        if (!grown) return 0;
        c->v = grown;
        c->cap = cap;
    }
    c->v[c->n++] = v;
    return 1;
}

static int push_f64(lcol_f64 *c, double v) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        double *grown = realloc(c->v, cap * sizeof *grown);
        if (!grown) return 0;
        c->v = grown;
        c->cap = cap;
    }
    c->v[c->n++] = v;
    return 1;
}

void lcoco_init(lcoco *c) { memset(c, 0, sizeof *c); }

int lcoco_range(lcol_i64 *at, int64_t start, int64_t end) { return push_i64(at, start) && push_i64(at, end); }

void lcoco_free(lcoco *c) {
    lcol_i64 *ints[] = {&c->image_id,       &c->image_height,   &c->image_width,    &c->ann_id,
                        &c->ann_image,      &c->ann_category,   &c->ann_keypoints,  &c->ann_rle_height,
                        &c->ann_rle_width,  &c->category_id,    &c->category_keypoints, &c->image_at,
                        &c->ann_at,         &c->category_at,    &c->pan_image,      &c->seg_category,
                        &c->seg_image};
    lcol_f64 *reals[] = {&c->ann_x, &c->ann_y, &c->ann_w, &c->ann_h, &c->seg_x, &c->seg_y, &c->seg_w, &c->seg_h};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) free(ints[i]->v);
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) free(reals[i]->v);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------------------------------ helpers */

static int is_number(const lnode *n) { return n->type == LT_INT || n->type == LT_FLOAT; }

static double number(const lnode *n) { return n->type == LT_INT ? (double)n->v.i : n->v.d; }

/* A number Python and C add and compare alike: floats, and integers within EXACT_LIMIT. */
static int exact_number(const lnode *n) {
    return n->type == LT_FLOAT || (n->type == LT_INT && n->v.i <= EXACT_LIMIT && n->v.i >= -EXACT_LIMIT);
}

/* Pixel total of a compressed RLE string (decode_counts_slowly); 0 when it does not decode or its runs
 * may exceed TOTAL_LIMIT (not sure). */
static int compressed_total(const lnode *s, int64_t *total) {
    int64_t value = 0, last = 0, before_last = 0, sum = 0;
    size_t runs = 0;
    int shift = 0;
    for (uint32_t i = 0; i < s->len; i++) {
        int code = (unsigned char)s->v.s[i] - 48;
        if (code < 0 || code > 63) return 0; /* COCO-RLE-COUNTS-UNDECODABLE: outside '0'..'o' */
        if (shift > 55) return 0;            /* more than 60 bits in one run */
        value |= (int64_t)(code & 0x1F) << shift;
        shift += 5;
        if (code & 0x20) continue;
        if (code & 0x10) value |= (int64_t)(~UINT64_C(0) << shift);
        if (runs > 2) value += before_last;
        if (value < 0) return 0; /* COCO-RLE-COUNTS-UNDECODABLE: a negative run */
        sum += value;
        if (sum > TOTAL_LIMIT) return 0;
        before_last = last;
        last = value;
        runs++;
        value = 0;
        shift = 0;
    }
    if (shift) return 0; /* COCO-RLE-COUNTS-UNDECODABLE: ends inside a run */
    *total = sum;
    return 1;
}

/* An RLE segmentation: 1 and its size when no single-element rule fires on it. */
static int rle_clean(const ltape *t, uint32_t seg, int64_t iscrowd, int64_t *height, int64_t *width) {
    if (iscrowd == 0) return 0; /* COCO-RLE-NOT-CROWD */
    uint32_t size = LT_GET(t, seg, "size"), counts = LT_GET(t, seg, "counts");
    if (size == LT_NONE || counts == LT_NONE || t->n[size].type != LT_ARR || t->n[size].len != 2) return 0;
    const lnode *h = &t->n[size + 1], *w = &t->n[t->n[size + 1].end];
    if (h->type != LT_INT || w->type != LT_INT || h->v.i < 0 || w->v.i < 0) return 0;
    if (h->v.i >= SIZE_LIMIT || w->v.i >= SIZE_LIMIT) return 0;
    int64_t total = 0;
    const lnode *c = &t->n[counts];
    if (c->type == LT_STR) {
        if (!compressed_total(c, &total)) return 0;
    } else if (c->type == LT_ARR) {
        for (uint32_t e = counts + 1; e < c->end; e = t->n[e].end) {
            if (t->n[e].type != LT_INT || t->n[e].v.i < 0) return 0;
            total += t->n[e].v.i;
            if (total > TOTAL_LIMIT) return 0;
        }
    } else {
        return 0;
    }
    if (total != h->v.i * w->v.i) return 0; /* COCO-RLE-PIXEL-TOTAL */
    *height = h->v.i;
    *width = w->v.i;
    return 1;
}

/* ------------------------------------------------------------------------------------------ elements */

int lcoco_image(lcoco *c, const ltape *t, uint32_t node) {
    uint32_t id = LT_GET(t, node, "id"), h = LT_GET(t, node, "height"), w = LT_GET(t, node, "width");
    if (id == LT_NONE || t->n[id].type != LT_INT) return 0; /* only integer ids are indexed by the rules */
    int64_t height = 0, width = 0;
    if (h != LT_NONE && w != LT_NONE && t->n[h].type == LT_INT && t->n[w].type == LT_INT && t->n[h].v.i > 0 &&
        t->n[w].v.i > 0) {
        if (t->n[h].v.i >= SIZE_LIMIT || t->n[w].v.i >= SIZE_LIMIT) return 0;
        height = t->n[h].v.i;
        width = t->n[w].v.i;
    }
    return push_i64(&c->image_id, t->n[id].v.i) && push_i64(&c->image_height, height) &&
           push_i64(&c->image_width, width);
}

int lcoco_category(lcoco *c, const ltape *t, uint32_t node) {
    uint32_t id = LT_GET(t, node, "id"), names = LT_GET(t, node, "keypoints");
    if (id == LT_NONE || t->n[id].type != LT_INT) return 0;
    int64_t keypoints = -1;
    if (names != LT_NONE) {
        if (t->n[names].type == LT_STR) return 0; /* COCO-CATEGORY-KEYPOINTS-NOT-LIST */
        if (t->n[names].type == LT_ARR) keypoints = t->n[names].len;
    }
    return push_i64(&c->category_id, t->n[id].v.i) && push_i64(&c->category_keypoints, keypoints);
}

int lcoco_annotation(lcoco *c, const ltape *t, uint32_t node) {
    if (t->n[node].type != LT_OBJ) return 0;
    if (LT_GET(t, node, "segments_info") != LT_NONE) return 2; /* a panoptic annotation: not this format */
    uint32_t id = LT_GET(t, node, "id"), image = LT_GET(t, node, "image_id");
    uint32_t category = LT_GET(t, node, "category_id"), crowd = LT_GET(t, node, "iscrowd");
    if (id == LT_NONE) return 0; /* COCO-ANNOTATION-ID-MISSING */
    if (t->n[id].type != LT_INT) return 0;
    if (image == LT_NONE || t->n[image].type != LT_INT || category == LT_NONE || t->n[category].type != LT_INT)
        return 0;
    int64_t iscrowd = -1; /* absent */
    if (crowd != LT_NONE) {
        if (t->n[crowd].type != LT_INT) return 0; /* COCO-ISCROWD-BOOLEAN (and 0.0 / 1.0: not modelled) */
        iscrowd = t->n[crowd].v.i;
    }

    int64_t rle_height = -1, rle_width = -1;
    uint32_t seg = LT_GET(t, node, "segmentation");
    if (seg != LT_NONE && t->n[seg].type == LT_ARR) {
        if (iscrowd == 1 && t->n[seg].len > 0) return 0; /* COCO-ISCROWD-POLYGONS */
        for (uint32_t p = seg + 1; p < t->n[seg].end; p = t->n[p].end) {
            if (t->n[p].type != LT_ARR) return 0;
            if (t->n[p].len % 2) return 0; /* COCO-POLYGON-ODD-COORDINATES */
            if (t->n[p].len < 6) return 0; /* COCO-POLYGON-TOO-FEW-POINTS */
        }
    } else if (seg != LT_NONE && t->n[seg].type == LT_OBJ) {
        if (!rle_clean(t, seg, iscrowd, &rle_height, &rle_width)) return 0;
    } else if (seg != LT_NONE) {
        return 0;
    }

    double box[4] = {NAN, NAN, NAN, NAN};
    uint32_t bbox = LT_GET(t, node, "bbox");
    if (bbox != LT_NONE) {
        if (t->n[bbox].type != LT_ARR || t->n[bbox].len != 4) return 0;
        int k = 0;
        for (uint32_t e = bbox + 1; e < t->n[bbox].end; e = t->n[e].end) {
            if (!exact_number(&t->n[e])) return 0;
            box[k++] = number(&t->n[e]);
        }
        if (box[2] < 0 || box[3] < 0) return 0; /* COCO-BBOX-NEGATIVE-SIZE */
    }

    uint32_t area = LT_GET(t, node, "area");
    if (area != LT_NONE && is_number(&t->n[area])) {
        if (t->n[area].type == LT_INT ? t->n[area].v.i <= 0 : t->n[area].v.d <= 0) return 0; /* COCO-AREA-NOT-POSITIVE */
    }

    int64_t keypoints = -1;
    uint32_t kp = LT_GET(t, node, "keypoints");
    if (kp != LT_NONE && t->n[kp].type == LT_ARR) {
        keypoints = t->n[kp].len;
        uint32_t declared = LT_GET(t, node, "num_keypoints");
        if (declared != LT_NONE && t->n[declared].type == LT_INT && keypoints % 3 == 0) {
            /* COCO-NUM-KEYPOINTS-MISMATCH: visibility flags (every third number) above 0 */
            int64_t labelled = 0, position = 0;
            int numbers = 1;
            for (uint32_t e = kp + 1; e < t->n[kp].end; e = t->n[e].end, position++) {
                if (position % 3 != 2) continue;
                if (!is_number(&t->n[e])) {
                    numbers = 0;
                    break;
                }
                labelled += t->n[e].type == LT_INT ? t->n[e].v.i > 0 : t->n[e].v.d > 0;
            }
            if (numbers && labelled != t->n[declared].v.i) return 0;
        }
    }

    return push_i64(&c->ann_id, t->n[id].v.i) && push_i64(&c->ann_image, t->n[image].v.i) &&
           push_i64(&c->ann_category, t->n[category].v.i) && push_i64(&c->ann_keypoints, keypoints) &&
           push_i64(&c->ann_rle_height, rle_height) && push_i64(&c->ann_rle_width, rle_width) &&
           push_f64(&c->ann_x, box[0]) && push_f64(&c->ann_y, box[1]) && push_f64(&c->ann_w, box[2]) &&
           push_f64(&c->ann_h, box[3]);
}

/* ------------------------------------------------------------------------------------------ panoptic */

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int lcoco_panoptic_annotation(lcoco *c, const ltape *t, uint32_t node) {
    if (t->n[node].type != LT_OBJ) return 0;
    uint32_t segments = LT_GET(t, node, "segments_info"), image = LT_GET(t, node, "image_id");
    if (segments == LT_NONE) return 2; /* an instance annotation: not this format */
    if (t->n[segments].type != LT_ARR) return 0;
    /* the rules index integer image ids only; any other image_id: not modelled */
    if (image == LT_NONE || t->n[image].type != LT_INT) return 0;
    int64_t image_id = t->n[image].v.i;
    uint32_t count = t->n[segments].len;
    int64_t *ids = count ? malloc(count * sizeof *ids) : NULL;
    if (count && !ids) return 0;
    size_t n_ids = 0;
    int clean = 1;
    for (uint32_t s = segments + 1; clean && s < t->n[segments].end; s = t->n[s].end) {
        if (t->n[s].type != LT_OBJ) { clean = 0; break; }
        uint32_t id = LT_GET(t, s, "id"), category = LT_GET(t, s, "category_id");
        uint32_t area = LT_GET(t, s, "area"), bbox = LT_GET(t, s, "bbox");
        if (id != LT_NONE) {
            if (t->n[id].type != LT_INT) { clean = 0; break; } /* a float or boolean id: not modelled */
            ids[n_ids++] = t->n[id].v.i;
        }
        if (category != LT_NONE) {
            if (t->n[category].type != LT_INT) { clean = 0; break; }
            if (!push_i64(&c->seg_category, t->n[category].v.i)) { clean = 0; break; }
        }
        /* COCO-PANOPTIC-AREA-NOT-POSITIVE: a number (not a boolean) at most 0 */
        if (area != LT_NONE && is_number(&t->n[area]) &&
            (t->n[area].type == LT_INT ? t->n[area].v.i <= 0 : t->n[area].v.d <= 0)) { clean = 0; break; }
        /* COCO-PANOPTIC-BBOX-OUTSIDE-IMAGE reads a bbox of four numbers (columns, vectorised) */
        if (bbox != LT_NONE && t->n[bbox].type == LT_ARR && t->n[bbox].len == 4) {
            double box[4];
            int k = 0, numbers = 1;
            for (uint32_t e = bbox + 1; e < t->n[bbox].end; e = t->n[e].end) {
                if (!is_number(&t->n[e])) { numbers = 0; break; }
                if (!exact_number(&t->n[e])) { clean = 0; break; }
                box[k++] = number(&t->n[e]);
            }
            if (!clean) break;
            if (numbers && !(push_i64(&c->seg_image, image_id) && push_f64(&c->seg_x, box[0]) &&
                             push_f64(&c->seg_y, box[1]) && push_f64(&c->seg_w, box[2]) && push_f64(&c->seg_h, box[3]))) {
                clean = 0;
                break;
            }
        }
    }
    if (clean && n_ids > 1) {
        /* COCO-PANOPTIC-SEGMENT-ID-DUPLICATE / COCO-PANOPTIC-SEGMENT-ID-CONFLICT: an integer id listed twice in
         * one annotation (same category: duplicate; another: conflict) */
        qsort(ids, n_ids, sizeof *ids, compare_i64);
        for (size_t k = 1; k < n_ids; k++)
            if (ids[k] == ids[k - 1]) { clean = 0; break; }
    }
    free(ids);
    return clean && push_i64(&c->pan_image, image_id);
}
