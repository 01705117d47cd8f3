/* The Encord rules that need the ontology (validator/rules/encord_ontology.py: unknown features, shape mismatch,
 * attribute / option / answer-form checks, dynamic answers, required attributes), as a "clean decider" over
 * one label row of a structurally valid export: 1 when the row certainly raises none of their findings, 0
 * when it may (the Python reference path then writes the findings). The ontology arrives as the tables of
 * validator/native/encord_ontology.py ontology_tables(). See encord_ontology.c for what is modelled. */
#ifndef LABELSPEC_ENCORD_ONTOLOGY_H
#define LABELSPEC_ENCORD_ONTOLOGY_H

#include <stdint.h>

#include "tape.h"

typedef struct _object PyObject; /* as Python.h declares it (C11 allows the repeated typedef) */
typedef struct lonto lonto;

/* The rule ids this decider mirrors (NULL-terminated). A rule of the tables' "rules" list (every catalogued
 * rule that needs an ontology) missing here makes the decider answer "not sure" for every row. */
extern const char *const LONTO_RULE_IDS[];

/* NULL + Python exception on bad tables. */
lonto *lonto_build(PyObject *tables);
void lonto_free(lonto *o);
/* 1: the label row at node `row` certainly raises none of the ontology rules' findings; 0 otherwise. */
int lonto_row_clean(lonto *o, const ltape *t, uint32_t row);

#endif
