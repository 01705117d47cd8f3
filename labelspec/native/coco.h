/* The COCO instance rules (validator/rules/coco.py) over one element at a time of the images, annotations
 * and categories arrays of a structurally valid file, as a "clean decider" plus compact columns.
 *
 * Rules that look at one element are decided here: 1 when the element certainly raises none of their
 * findings, 0 when it may (the Python reference path then writes the findings of the whole file). Rules
 * that compare elements (duplicate ids, unknown references, boxes and masks against their image's size,
 * keypoints against their category) read the columns this file fills, vectorised in Python
 * (validator/native/coco.py). LCOCO_RULE_IDS lists the rules mirrored here, each C site names its rule.
 */
#ifndef LABELSPEC_COCO_H
#define LABELSPEC_COCO_H

#include <stddef.h>
#include <stdint.h>

#include "tape.h"

extern const char *const LCOCO_RULE_IDS[];
/* The COCO panoptic rules decided per element here (lcoco_panoptic_annotation). */
extern const char *const LCOCO_PANOPTIC_RULE_IDS[];

typedef struct {
    int64_t *v;
    size_t n, cap;
} lcol_i64;

typedef struct {
    double *v;
    size_t n, cap;
} lcol_f64;

/* One column per field: row k of every column of a section belongs to its k-th element. */
typedef struct {
    /* images: id; height and width when both are positive integers, else 0 */
    lcol_i64 image_id, image_height, image_width;
    /* annotations: id, image_id, category_id; keypoints length (-1: no list); RLE size (-1: no RLE) */
    lcol_i64 ann_id, ann_image, ann_category, ann_keypoints, ann_rle_height, ann_rle_width;
    /* annotations: bbox x, y, w, h (NaN: no bbox) */
    lcol_f64 ann_x, ann_y, ann_w, ann_h;
    /* categories: id; number of keypoint names (-1: no list) */
    lcol_i64 category_id, category_keypoints;
    /* (start, end) byte offsets of each streamed element, pairs in one column; filled by the pass in
     * module.c only when asked (check_coco(..., ranges=True): the converters read elements by them) */
    lcol_i64 image_at, ann_at, category_at;
    /* panoptic annotations: image_id; their segments: category_id (segments that have an integer one) */
    lcol_i64 pan_image, seg_category;
    /* panoptic segments with a bbox of four numbers: their annotation's image_id and the bbox */
    lcol_i64 seg_image;
    lcol_f64 seg_x, seg_y, seg_w, seg_h;
} lcoco;

void lcoco_init(lcoco *c);
void lcoco_free(lcoco *c);
/* Append the (start, end) byte offsets of an element to its section's offsets column; 0: out of memory. */
int lcoco_range(lcol_i64 *at, int64_t start, int64_t end);

/* 1: the element at tape node `node` certainly raises no single-element finding (its columns appended);
 * 0: it may, or memory ran out (then the file goes to the reference path). No GIL needed. */
int lcoco_image(lcoco *c, const ltape *t, uint32_t node);
int lcoco_annotation(lcoco *c, const ltape *t, uint32_t node);
int lcoco_category(lcoco *c, const ltape *t, uint32_t node);
/* A panoptic annotation (image_id, file_name, segments_info); 2: an instance annotation (no
 * segments_info), as lcoco_annotation answers 2 for a panoptic one: the file is of the other format. */
int lcoco_panoptic_annotation(lcoco *c, const ltape *t, uint32_t node);

#endif
