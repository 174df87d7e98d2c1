/* lib/str.c: string slices, strict number parsing, UTF-8 and time helpers. */
#include "lib/sk_base.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool
sk_str_eq(struct sk_str a, const char *lit)
{
	size_t n = strlen(lit);
	return a.n == n && memcmp(a.p, lit, n) == 0;
}

bool
sk_str_ieq(struct sk_str a, const char *lit)
{
	size_t n = strlen(lit);
	return a.n == n && strncasecmp(a.p, lit, n) == 0;
}

bool
sk_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
sk_istarts_with(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int
sk_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
sk_ascii_lower(char *s)
{
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

struct sk_str
sk_str_trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return (struct sk_str){ s, n };
}

enum sk_status
sk_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out,
	     struct sk_err *err)
{
	char *end;
	long long v;

	errno = 0;
	if (!*s || isspace((unsigned char)*s))
		return sk_err_set(err, SK_EINVAL, "'%s' is not a number", s);
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return sk_err_set(err, SK_EINVAL, "'%s' is not a number", s);
	if (v < min || v > max)
		return sk_err_set(err, SK_EINVAL,
				  "%lld is out of range %lld..%lld", v,
				  (long long)min, (long long)max);
	*out = v;
	return SK_OK;
}

enum sk_status
sk_parse_size(const char *s, uint64_t *out, struct sk_err *err)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		return sk_err_set(err, SK_EINVAL, "'%s' is not a size", s);
	v = strtoull(s, &end, 10);
	if (errno)
		return sk_err_set(err, SK_EINVAL, "'%s' is not a size", s);
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1024; end++; break;
	case 'm': case 'M': mul = 1024 * 1024; end++; break;
	case 'g': case 'G': mul = 1024ULL * 1024 * 1024; end++; break;
	default:
		return sk_err_set(err, SK_EINVAL, "'%s' is not a size", s);
	}
	if (*end || (v && mul > UINT64_MAX / v))
		return sk_err_set(err, SK_EINVAL, "'%s' is not a size", s);
	*out = v * mul;
	return SK_OK;
}

enum sk_status
sk_parse_bool(const char *s, bool *out, struct sk_err *err)
{
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
	    !strcmp(s, "1") || !strcasecmp(s, "on"))
		*out = true;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") ||
		 !strcmp(s, "0") || !strcasecmp(s, "off"))
		*out = false;
	else
		return sk_err_set(err, SK_EINVAL, "'%s' is not true or false",
				  s);
	return SK_OK;
}

/* ---- UTF-8 ---- */

size_t
sk_utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	size_t len;

	if (!n) {
		*cp = 0xFFFD;
		return 0;
	}
	c = u[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if (n < len) {
		*cp = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		c = (c << 6) | (u[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = c;
	return len;
}

size_t
sk_utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

bool
sk_utf8_valid(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t l;
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		l = sk_utf8_next(s + i, n - i, &cp);
		if (cp == 0xFFFD && l == 1)
			return false;
		i += l;
	}
	return true;
}

char *
sk_utf8_sanitize(struct sk_arena *a, const char *s, size_t n, size_t *len_out)
{
	/* Worst case: every byte becomes U+FFFD (3 bytes). */
	char *out = sk_arena_alloc(a, n * 3 + 1), *o = out;
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t l;

		if (c < 0x80) {
			if (c >= 0x20 || c == '\t' || c == '\n')
				*o++ = (char)c;
			else if (c == '\r' && !(i + 1 < n && s[i + 1] == '\n'))
				*o++ = '\n';
			i++;
			continue;
		}
		l = sk_utf8_next(s + i, n - i, &cp);
		if (cp == 0xFFFD && l == 1) {
			o += sk_utf8_encode(0xFFFD, o);
		} else {
			memcpy(o, s + i, l);
			o += l;
		}
		i += l;
	}
	*o = '\0';
	if (len_out)
		*len_out = (size_t)(o - out);
	return out;
}

size_t
sk_utf8_clip(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

size_t
sk_utf8_count(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

/* ---- time ---- */

void
sk_time_iso8601(time_t t, char out[21])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum sk_status
sk_parse_date(const char *s, size_t n, time_t *out)
{
	struct tm tm = { 0 };
	int y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return SK_EINVAL;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return SK_EINVAL;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return SK_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*out = timegm(&tm);
	/* Reject 2011-02-31 and the like: timegm normalises them. */
	{
		struct tm back;
		gmtime_r(out, &back);
		if (back.tm_mday != d)
			return SK_EINVAL;
	}
	return SK_OK;
}
