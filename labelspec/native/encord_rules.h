/* The Encord rules that need no ontology (validator/rules/encord_rows.py), as a "clean decider" over one label
 * row of a structurally valid export: 1 when the row certainly raises none of their findings, 0 when it
 * may (the Python reference path then writes the findings). See encord_rules.c for what is modelled. */
#ifndef LABELSPEC_ENCORD_RULES_H
#define LABELSPEC_ENCORD_RULES_H

#include <stdint.h>

#include "tape.h"

typedef struct _object PyObject; /* as Python.h declares it (C11 allows the repeated typedef) */
typedef struct lenc lenc;

/* `config` comes from validator/native/encord_rows.py decider_config(profile). NULL + exception on bad config. */
lenc *lenc_build(PyObject *config);
void lenc_free(lenc *r);
/* 1: the label row at node `row` certainly raises none of the rules' findings; 0 otherwise. Needs no GIL
 * and sets no Python exception; the lenc holds per-row scratch tables, so one lenc serves one thread at a
 * time. `row_index` is unused (every rule looks at one row). */
int lenc_row_clean(lenc *r, const ltape *t, uint32_t row, uint32_t row_index);
/* The ids of the rules this decider mirrors (and those the parser enforces), as a new tuple; NULL + exception
 * on failure. A catalogued rule missing here makes every row "not certainly clean". */
PyObject *lenc_rule_ids(void);

#endif
