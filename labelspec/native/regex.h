/* Search DFAs for JSON Schema `pattern` regexes (re.search semantics), built by
 * labelspec.validator.native.regex_dfa.compile_pattern.
 *
 * The DFA reads ASCII bytes only: it answers 1 (a match exists) or 0 (none) exactly as Python's
 * re.search(pattern, s) would, or -1 when it reached a byte >= 0x80 before the answer was known (the
 * caller then asks Python's re). An answer found before such a byte is exact whatever follows.
 */
#ifndef LABELSPEC_REGEX_H
#define LABELSPEC_REGEX_H

#include <Python.h>
#include <stddef.h>

typedef struct ldfa ldfa;

/* `tables` is DfaTables.blob (any bytes-like object) or an object with a bytes-like `blob` attribute
 * (a DfaTables). Returns NULL with a Python exception set when the tables are malformed or memory runs
 * out. Needs the GIL; the result is immutable and may be shared between threads. */
ldfa *ldfa_build(PyObject *tables);
void ldfa_free(ldfa *d); /* NULL is fine */

/* 1 match, 0 no match, -1 cannot decide (a byte >= 0x80 was reached). Does not need the GIL. */
int ldfa_search(const ldfa *d, const char *s, size_t n);

#endif
