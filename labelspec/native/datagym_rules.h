/* The DataGym rules (validator/rules/datagym.py), as a "clean decider" over the tasks of a structurally valid
 * export: 1 when a task certainly raises none of their findings, 0 when it may (the Python reference path
 * then writes the findings). See datagym_rules.c for what is modelled. */
#ifndef LABELSPEC_DATAGYM_RULES_H
#define LABELSPEC_DATAGYM_RULES_H

#include <stdint.h>

#include "tape.h"

typedef struct _object PyObject; /* as Python.h declares it */
typedef struct ldg ldg;

/* The rule ids this decider mirrors (NULL-terminated). */
extern const char *const LDG_RULE_IDS[];

/* `config` comes from validator/native/datagym_rules.py decider_config(profile). NULL + exception on bad config. */
ldg *ldg_build(PyObject *config);
void ldg_free(ldg *r);
/* Forget the classes and media ids of the previous file: before checking a file. */
void ldg_begin(ldg *r);
/* Element 0 of the export (the label classes): 1 when it is certainly clean; remembers the classes. */
int ldg_head_clean(ldg *r, const ltape *t, uint32_t head);
/* One task (element 1, 2, ...): 1 when it is certainly clean. */
int ldg_task_clean(ldg *r, const ltape *t, uint32_t task);
/* 1 when a media id was seen twice in this file (DG-MEDIA-ID-DUPLICATE compares tasks: then the whole file
 * goes to the reference path). */
int ldg_items_conflict(const ldg *r);

#endif
