/* lib/err.c: error values, fatal bugs and the allocation wrappers that abort
 * on out-of-memory (we are a supervised service; see CONVENTIONS.md). */
#include "lib/sk_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sk_status
sk_err_set(struct sk_err *err, enum sk_status code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

enum sk_status
sk_err_wrap(struct sk_err *err, const char *fmt, ...)
{
	char prefix[128], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return SK_EINVAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is fine: the message is for people. */
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old) < 0)
		err->msg[0] = '\0';
	return err->code;
}

const char *
sk_status_name(enum sk_status code)
{
	switch (code) {
	case SK_OK: return "ok";
	case SK_EINVAL: return "invalid input";
	case SK_ENOTFOUND: return "not found";
	case SK_EEXIST: return "already exists";
	case SK_EPARSE: return "malformed input";
	case SK_ETOOBIG: return "limit exceeded";
	case SK_EAGAIN: return "busy, try again";
	case SK_EIO: return "i/o error";
	case SK_EDB: return "database error";
	case SK_EINDEX: return "index error";
	case SK_ESMTP: return "smtp error";
	case SK_ENOMEM: return "out of memory";
	}
	return "unknown error";
}

void
sk_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "<2>skarbnica: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static SK_NORETURN void
oom(size_t n)
{
	fprintf(stderr, "<2>skarbnica: out of memory allocating %zu bytes\n",
		n);
	abort();
}

void *
sk_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *
sk_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *
sk_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *
sk_xstrdup(const char *s)
{
	return sk_xstrndup(s, strlen(s));
}

char *
sk_xstrndup(const char *s, size_t n)
{
	char *p = sk_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
sk_xgrow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap;
	if (need <= c)
		return;
	if (c < 8)
		c = 8;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			oom(SIZE_MAX);
		c *= 2;
	}
	*p = sk_xrealloc(*p, c * size);
	*cap = c;
}
