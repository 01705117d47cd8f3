/* A compiled JSON Schema (draft-07) program evaluated over a tape (see tape.h).
 *
 * validator/native/schema_program.py compiles a bundled schema into an IR (its module docstring describes it);
 * ls_build loads it once. ls_valid then answers exactly what jsonschema.Draft7Validator(schema).is_valid
 * answers for the value at a tape node, stopping at the first failure. Where the answer cannot be decided
 * exactly (a rare uniqueItems corner, a Python error in a regex fallback) it answers 0 (not valid), so the
 * caller's reference path decides: 1 is always exact.
 */
#ifndef LABELSPEC_SCHEMA_H
#define LABELSPEC_SCHEMA_H

#include <stdint.h>

#include "tape.h"

typedef struct _object PyObject; /* as Python.h declares it (C11 allows the repeated typedef) */
typedef struct lschema lschema;

/* `ir` is Program.ir (or a Program, whose `ir` is used). NULL with a Python exception set on bad IR. The
 * program keeps a reference to `ir`. Needs the GIL. */
lschema *ls_build(PyObject *ir);
void ls_free(lschema *s); /* NULL is fine; needs the GIL */

/* 1: the value at tape node `node` is valid against program node `entry` (Program.entries); 0: it is not,
 * or the answer could not be decided exactly. Needs the GIL only for patterns the DFA cannot decide
 * (non-ASCII strings, unsupported patterns), which call Python's re; never leaves an exception set. */
int ls_valid(lschema *s, const ltape *t, uint32_t node, uint32_t entry);

#endif
