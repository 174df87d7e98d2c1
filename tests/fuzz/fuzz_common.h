/* tests/fuzz/fuzz_common.h: small helpers shared by the libFuzzer targets
 * (tests/fuzz/fuzz_*.c). A violated invariant aborts, so libFuzzer keeps
 * the input as a crash like any sanitizer report. */
#ifndef SK_FUZZ_COMMON_H
#define SK_FUZZ_COMMON_H

#include "lib/sk_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz: invariant failed: %s (%s:%d)\n",\
			        #cond, __FILE__, __LINE__);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* NULL or valid UTF-8. */
static inline int
fuzz_utf8_ok(const char *s)
{
	return !s || sk_utf8_valid(s, strlen(s));
}

/* The input as a NUL-terminated string (cut at the first NUL). */
static inline char *
fuzz_cstr(const unsigned char *data, size_t size)
{
	return sk_xstrndup((const char *)data, size);
}

#endif
