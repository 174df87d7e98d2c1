/* tests/helpers/sk_test.h: fixtures shared by the cmocka test programs. */
#ifndef SK_TEST_H
#define SK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/sk_base.h"

/* A fresh temporary directory (mkdtemp under $TMPDIR), removed with
 * sk_test_rmdir(). Returns a malloc'ed path. */
char *sk_test_tmpdir(void);
void sk_test_rmdir(char **path);
/* Path of a file under tests/data (static buffer, valid until next call). */
const char *sk_test_data(const char *rel);
/* Read a file under tests/data into a malloc'ed buffer. */
char *sk_test_read(const char *rel, size_t *len_out);
/* ../shared/corpora/REL when present, else NULL after printing a visible
 * "SKIP: ..." line (tests then call skip()). */
const char *sk_test_corpus(const char *rel);
/* The skarbnica binary for command-line tests ($SKARBNICA_BIN or
 * ./skarbnica). */
const char *sk_test_bin(void);
/* Run a shell command line, capturing stdout into *out (malloc'ed, may be
 * NULL). Returns the exit status (or -1). */
int sk_test_run(const char *cmdline, char **out);

#endif
