/* Search DFAs for `pattern` regexes: see regex.h, and validator/native/regex_dfa.py for the table format. */
#define PY_SSIZE_T_CLEAN
#include "regex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LDFA_VERSION 1
#define LDFA_MAX_STATES 4096
#define LDFA_STOP_STATES 3 /* 0 undecided (-1), 1 match (1), 2 no match (0) */
#define LDFA_HEADER 12
#define LDFA_ASCII 128

struct ldfa {
    uint32_t start;
    uint32_t states;
    const uint8_t *accept_at_end; /* [states] */
    /* [states][256]: bytes >= 0x80 go to state 0. One of the two is set: 8-bit entries when the states
     * fit (a quarter of the cache footprint of 16-bit ones for the usual small patterns). */
    const uint8_t *next8;
    const uint16_t *next16;
};

static const int ldfa_answer[LDFA_STOP_STATES] = {-1, 1, 0};

static unsigned read_u16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }

static ldfa *build_from(const unsigned char *blob, size_t size) {
    if (size < LDFA_HEADER || memcmp(blob, "LDFA", 4) != 0 || read_u16(blob + 4) != LDFA_VERSION) {
        PyErr_SetString(PyExc_ValueError, "regex DFA tables: bad header or version");
        return NULL;
    }
    size_t states = read_u16(blob + 6), start = read_u16(blob + 8);
    if (states < LDFA_STOP_STATES || states > LDFA_MAX_STATES || start >= states ||
        size != LDFA_HEADER + states * LDFA_ASCII * 2 + states) {
        PyErr_SetString(PyExc_ValueError, "regex DFA tables: bad state count, start state or size");
        return NULL;
    }
    const unsigned char *rows = blob + LDFA_HEADER, *accept = rows + states * LDFA_ASCII * 2;
    for (size_t i = 0; i < states * LDFA_ASCII; i++) {
        if (read_u16(rows + 2 * i) >= states) {
            PyErr_SetString(PyExc_ValueError, "regex DFA tables: transition to a missing state");
            return NULL;
        }
    }
    for (size_t i = 0; i < states; i++) {
        if (accept[i] > 1) {
            PyErr_SetString(PyExc_ValueError, "regex DFA tables: accept flag not 0/1");
            return NULL;
        }
    }
    int narrow = states <= 256;
    size_t entry = narrow ? 1 : 2;
    /* One block: struct, then the transition table (aligned for uint16), then the accept flags. */
    size_t table_at = (sizeof(ldfa) + 15) & ~(size_t)15;
    size_t accept_at = table_at + states * 256 * entry;
    unsigned char *block = malloc(accept_at + states);
    if (!block) {
        PyErr_NoMemory();
        return NULL;
    }
    ldfa *d = (ldfa *)block;
    d->start = (uint32_t)start;
    d->states = (uint32_t)states;
    memcpy(block + accept_at, accept, states);
    d->accept_at_end = block + accept_at;
    d->next8 = NULL;
    d->next16 = NULL;
    if (narrow) {
        uint8_t *next = block + table_at;
        memset(next, 0, states * 256);
        for (size_t s = 0; s < states; s++)
            for (size_t b = 0; b < LDFA_ASCII; b++)
                next[s * 256 + b] = (uint8_t)read_u16(rows + 2 * (s * LDFA_ASCII + b));
        d->next8 = next;
    } else {
        uint16_t *next = (uint16_t *)(void *)(block + table_at);
        memset(next, 0, states * 256 * sizeof(uint16_t));
        for (size_t s = 0; s < states; s++)
            for (size_t b = 0; b < LDFA_ASCII; b++)
                next[s * 256 + b] = (uint16_t)read_u16(rows + 2 * (s * LDFA_ASCII + b));
        d->next16 = next;
    }
    /* The stop states are absorbing whatever their rows say: the search returns on entering them. */
    return d;
}

ldfa *ldfa_build(PyObject *tables) {
    PyObject *source = tables;
    Py_INCREF(source);
    if (!PyObject_CheckBuffer(source)) {
        Py_DECREF(source);
        source = PyObject_GetAttrString(tables, "blob");
        if (!source && !PyErr_ExceptionMatches(PyExc_AttributeError)) return NULL;
        if (!source || !PyObject_CheckBuffer(source)) {
            PyErr_Clear();
            Py_XDECREF(source);
            PyErr_SetString(PyExc_TypeError, "regex DFA tables: expected bytes or an object with .blob");
            return NULL;
        }
    }
    Py_buffer view;
    if (PyObject_GetBuffer(source, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(source);
        return NULL;
    }
    ldfa *d = build_from(view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    Py_DECREF(source);
    return d;
}

void ldfa_free(ldfa *d) { free(d); }

int ldfa_search(const ldfa *d, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    unsigned state = d->start;
    if (state < LDFA_STOP_STATES) return ldfa_answer[state];
    if (d->next8) {
        const uint8_t *next = d->next8;
        for (; p < end; p++) {
            state = next[state << 8 | *p];
            if (state < LDFA_STOP_STATES) return ldfa_answer[state];
        }
    } else {
        const uint16_t *next = d->next16;
        for (; p < end; p++) {
            state = next[state << 8 | *p];
            if (state < LDFA_STOP_STATES) return ldfa_answer[state];
        }
    }
    return d->accept_at_end[state];
}
