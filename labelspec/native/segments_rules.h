/* The Segments.ai rules (validator/rules/segments.py), as a "clean decider" over the samples of a release
 * whose header (everything but dataset.samples) the reference path found clean: 1 when a sample certainly
 * raises none of their findings, 0 when it may (the Python reference path then writes the findings). See
 * segments_rules.c for what is modelled. */
#ifndef LABELSPEC_SEGMENTS_RULES_H
#define LABELSPEC_SEGMENTS_RULES_H

#include <stdint.h>

#include "tape.h"

typedef struct _object PyObject; /* as Python.h declares it */
typedef struct lseg lseg;

/* The rule ids this decider mirrors (NULL-terminated). */
extern const char *const LSEG_RULE_IDS[];

/* `config` comes from validator/native/segments.py decider_config(). NULL + exception on a bad config. */
lseg *lseg_build(PyObject *config);
void lseg_free(lseg *r);
/* Forget the uuids and names of the previous file: before checking a file. */
void lseg_begin(lseg *r);
/* One sample (the samples of a file in order): 1 when it is certainly clean. Every sample's uuid and name stem
 * are remembered, whatever the verdict. 0 and a Python exception when out of memory. */
int lseg_sample_clean(lseg *r, const ltape *t, uint32_t sample);
/* After the last sample: a new list of the indexes (ascending) of the samples whose uuid or image name stem
 * (their 64-bit hash) another sample of this file has too: the rules comparing samples decide on them. NULL
 * and a Python exception when out of memory. */
PyObject *lseg_repeated(lseg *r);

#endif
