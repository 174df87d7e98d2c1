/* lib/buf.c: the one growable string buffer (git's strbuf invariant, curl's
 * mandatory cap, SQLite's sticky error) and its escaping helpers. */
#include "lib/sk_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char empty[1];

void
sk_buf_init(struct sk_buf *b, size_t max)
{
	b->p = empty;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->status = SK_OK;
}

/* Make room for n more bytes; false (and sticky SK_ETOOBIG) over the cap. */
static bool
reserve(struct sk_buf *b, size_t n)
{
	size_t want;

	if (b->status != SK_OK)
		return false;
	if (n > b->max - b->len || b->len > b->max) {
		b->status = SK_ETOOBIG;
		return false;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return true;
	if (b->p == empty) {
		size_t cap = 0;
		char *p = NULL;
		sk_xgrow((void **)&p, &cap, want < 64 ? 64 : want, 1);
		p[0] = '\0';
		b->p = p;
		b->cap = cap;
	} else {
		sk_xgrow((void **)&b->p, &b->cap, want, 1);
	}
	return true;
}

void
sk_buf_add(struct sk_buf *b, const void *s, size_t n)
{
	if (!n || !reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
sk_buf_adds(struct sk_buf *b, const char *s)
{
	if (s)
		sk_buf_add(b, s, strlen(s));
}

void
sk_buf_addc(struct sk_buf *b, char c)
{
	sk_buf_add(b, &c, 1);
}

void
sk_buf_vaddf(struct sk_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		SK_BUG("bad format '%s'", fmt);
	if (!reserve(b, (size_t)n))
		return;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
sk_buf_addf(struct sk_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sk_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void
sk_buf_add_html(struct sk_buf *b, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		sk_buf_add(b, s + start, i - start);
		sk_buf_adds(b, rep);
		start = i + 1;
	}
	sk_buf_add(b, s + start, n - start);
}

void
sk_buf_add_htmls(struct sk_buf *b, const char *s)
{
	if (s)
		sk_buf_add_html(b, s, strlen(s));
}

void
sk_buf_add_url(struct sk_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			sk_buf_addc(b, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			sk_buf_add(b, e, 3);
		}
	}
}

void
sk_buf_add_json(struct sk_buf *b, const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		const char *rep = NULL;

		if (c == '"')
			rep = "\\\"";
		else if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '\r')
			rep = "\\r";
		else if (c == '\t')
			rep = "\\t";
		else if (c == '<') /* inert even if someone serves it as HTML */
			rep = "\\u003c";
		else if (c == '>')
			rep = "\\u003e";
		else if (c == '&')
			rep = "\\u0026";
		else if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			rep = tmp;
		} else
			continue;
		sk_buf_add(b, s + start, i - start);
		sk_buf_adds(b, rep);
		start = i + 1;
	}
	sk_buf_add(b, s + start, n - start);
}

void
sk_buf_add_json_str(struct sk_buf *b, const char *s)
{
	if (!s) {
		sk_buf_adds(b, "null");
		return;
	}
	sk_buf_addc(b, '"');
	sk_buf_add_json(b, s, strlen(s));
	sk_buf_addc(b, '"');
}

void
sk_buf_truncate(struct sk_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

void
sk_buf_reset(struct sk_buf *b)
{
	sk_buf_truncate(b, 0);
}

enum sk_status
sk_buf_status(const struct sk_buf *b)
{
	return b->status;
}

char *
sk_buf_take(struct sk_buf *b, size_t *len_out)
{
	char *p = b->p == empty ? sk_xstrndup("", 0) : b->p;
	if (len_out)
		*len_out = b->len;
	sk_buf_init(b, b->max);
	return p;
}

void
sk_buf_release(struct sk_buf *b)
{
	if (b->p != empty)
		free(b->p);
	sk_buf_init(b, b->max);
}
