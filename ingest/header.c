/* ingest/header.c: header fields of untrusted mail — splitting the block,
 * RFC 2047 words, addresses, dates, msg-ids, and Content-Type /
 * Content-Disposition parameters with RFC 2231 (which libetpan 1.9.4 does
 * not decode). Everything here is our own code over (pointer, length)
 * slices: no recursion, no NUL-terminated assumptions, no libetpan. */
#include "ingest/private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BIG ((size_t)1 << 30) /* cap of scratch buffers: inputs are capped */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- the header block ------------------------------------------------- */

/* A field name is printable ASCII without ':' (RFC 5322 ftext); "Subject :"
 * with a space before the colon is tolerated. */
static bool
field_name_ok(const char *s, size_t n, size_t *name_len)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 32 || c >= 127)
			return false;
	}
	*name_len = n;
	return true;
}

/* Offset just after the blank line that ends a header block at or after
 * from, or n when there is none. */
static size_t
find_blank_line(const char *s, size_t n, size_t from)
{
	for (size_t i = from; i < n; i++) {
		if (s[i] != '\n')
			continue;
		if (i + 1 < n && s[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
			return i + 3;
	}
	return n;
}

void
sk_mime_headers_parse(struct sk_arena *a, const char *s, size_t n, size_t max,
                      struct sk_mime_headers *out)
{
	size_t lim = n < max ? n : max, pos = 0, cap = 1;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < lim; i++)
		cap += s[i] == '\n';
	out->h = sk_arena_alloc(a, cap * sizeof(*out->h));
	/* An mbox separator that leaked into the message. */
	if (lim >= 5 && !memcmp(s, "From ", 5)) {
		const char *eol = memchr(s, '\n', lim);
		pos = eol ? (size_t)(eol - s) + 1 : lim;
	}
	while (pos < lim) {
		const char *eol = memchr(s + pos, '\n', lim - pos);
		size_t next = eol ? (size_t)(eol - s) + 1 : lim;
		size_t end = eol ? (size_t)(eol - s) : lim, name_len;
		const char *colon;

		if (end > pos && s[end - 1] == '\r')
			end--;
		if (end == pos) { /* the blank line: the body follows */
			out->end = next;
			return;
		}
		if (s[pos] == ' ' || s[pos] == '\t') {
			if (out->n > 0) { /* folded: extend the last value */
				struct sk_mime_header *h = &out->h[out->n - 1];
				h->value_len = (size_t)(s + end - h->value);
				pos = next;
				continue;
			}
		}
		colon = memchr(s + pos, ':', end - pos);
		if (!colon || !field_name_ok(s + pos, (size_t)(colon - s) - pos,
		                             &name_len)) {
			/* Not a field: the header ended without its blank
			 * line (or there was none at all). */
			out->missing = out->n == 0;
			out->end = pos;
			return;
		}
		struct sk_mime_header *h = &out->h[out->n++];
		h->name = s + pos;
		h->name_len = name_len;
		h->value = colon + 1;
		while (h->value < s + end &&
		       (*h->value == ' ' || *h->value == '\t'))
			h->value++;
		h->value_len = (size_t)(s + end - h->value);
		pos = next;
	}
	if (lim < n) {
		out->truncated = true;
		out->end = find_blank_line(s, n, lim > 0 ? lim - 1 : 0);
	} else {
		out->end = n;
	}
}

char *
sk_mime_header_get(struct sk_arena *a, const struct sk_mime_headers *hs,
                   const char *name, size_t *len_out)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < hs->n; i++) {
		const struct sk_mime_header *h = &hs->h[i];
		char *v, *o;
		if (h->name_len != nl || strncasecmp(h->name, name, nl))
			continue;
		v = o = sk_arena_alloc(a, h->value_len + 1);
		/* Unfold: drop CR and LF, keep the white space after them;
		 * NUL bytes would cut the value short, make them spaces. */
		for (size_t j = 0; j < h->value_len; j++) {
			char c = h->value[j];
			if (c == '\r' || c == '\n')
				continue;
			*o++ = c ? c : ' ';
		}
		while (o > v && is_wsp(o[-1]))
			o--;
		*o = '\0';
		if (len_out)
			*len_out = (size_t)(o - v);
		return v;
	}
	return NULL;
}

/* ---- RFC 2047 ---------------------------------------------------------- */

struct eword {
	const char *charset; /* not terminated */
	size_t charset_len;
	char enc; /* 'Q' or 'B' */
	const char *text;
	size_t text_len;
	size_t end; /* offset after "?=" */
};

/* An encoded word "=?charset?Q?text?=" at s[i]. Spaces inside the text
 * are tolerated (broken encoders emit them); line breaks are not. */
static bool
parse_eword(const char *s, size_t n, size_t i, struct eword *w)
{
	size_t j = i + 2, k;

	if (i + 2 > n || s[i] != '=' || s[i + 1] != '?')
		return false;
	w->charset = s + j;
	while (j < n && s[j] != '?' && !is_wsp(s[j]) && j - i < 66)
		j++;
	w->charset_len = (size_t)(s + j - w->charset);
	if (j + 2 >= n || s[j] != '?' || w->charset_len == 0)
		return false;
	w->enc = (char)(s[j + 1] & ~0x20);
	if ((w->enc != 'Q' && w->enc != 'B') || s[j + 2] != '?')
		return false;
	k = j + 3;
	w->text = s + k;
	while (k + 1 < n && !(s[k] == '?' && s[k + 1] == '=')) {
		if (s[k] == '\r' || s[k] == '\n' || s[k] == '\t' ||
		    k - (j + 3) > 1024)
			return false;
		k++;
	}
	if (k + 1 >= n)
		return false;
	w->text_len = (size_t)(s + k - w->text);
	w->end = k + 2;
	return true;
}

static void
decode_q(struct sk_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '_') {
			sk_buf_addc(b, ' ');
		} else if (s[i] == '=' && i + 2 < n &&
		           (h = sk_hex_digit(s[i + 1])) >= 0 &&
		           (l = sk_hex_digit(s[i + 2])) >= 0) {
			sk_buf_addc(b, (char)(h * 16 + l));
			i += 2;
		} else {
			sk_buf_addc(b, s[i]);
		}
	}
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Lenient base64: characters outside the alphabet are skipped, missing
 * padding is fine. */
static void
decode_b(struct sk_buf *b, const char *s, size_t n)
{
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int v;
		if (s[i] == '=')
			break;
		v = b64val(s[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sk_buf_addc(b, (char)((acc >> bits) & 0xFF));
		}
	}
}

/* The state of one decode_words() call: output so far, the decoded bytes of
 * the current run of encoded words and the raw bytes seen since. */
struct words {
	struct sk_arena *a;
	unsigned *flags;
	struct sk_buf out;
	struct sk_buf enc;
	char charset[72];
	struct sk_buf raw;
};

static void
flush_enc(struct words *w)
{
	char *u;
	size_t ul;

	if (w->enc.len == 0)
		return;
	u = sk_mime_text_utf8(w->a, w->enc.p, w->enc.len, w->charset, w->flags,
	                      &ul);
	sk_buf_add(&w->out, u, ul);
	sk_buf_reset(&w->enc);
}

static void
flush_raw(struct words *w)
{
	char *u;
	size_t ul;
	const char *cs;

	if (w->raw.len == 0)
		return;
	cs = sk_mime_detect(w->raw.p, w->raw.len, false);
	if (strcmp(cs, "UTF-8"))
		*w->flags |= SK_MSG_CHARSET_GUESSED;
	if (!sk_mime_convert(w->a, w->raw.p, w->raw.len, cs, &u, &ul))
		u = sk_utf8_sanitize(w->a, w->raw.p, w->raw.len, &ul);
	sk_buf_add(&w->out, u, ul);
	sk_buf_reset(&w->raw);
}

static bool
all_space(const struct sk_buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (!is_wsp(b->p[i]))
			return false;
	return true;
}

/* Collapse white space runs (including no-break spaces) into one space and
 * trim, into a. */
static char *
collapse_space(struct sk_arena *a, const char *s, size_t n)
{
	char *out = sk_arena_alloc(a, n + 1), *o = out;
	bool space = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ws = is_wsp((char)c) || c == '\v' || c == '\f';
		if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
			ws = true;
			i++;
		}
		if (ws) {
			space = o > out;
			continue;
		}
		if (space)
			*o++ = ' ';
		space = false;
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

char *
sk_mime_decode_words(struct sk_arena *a, const char *s, size_t n,
                     unsigned *flags)
{
	struct words w = { .a = a, .flags = flags };
	bool after_word = false;
	char *res;
	size_t i = 0;

	sk_buf_init(&w.out, BIG);
	sk_buf_init(&w.enc, BIG);
	sk_buf_init(&w.raw, BIG);
	while (i < n) {
		struct eword ew;
		if (s[i] == '=' && parse_eword(s, n, i, &ew)) {
			size_t cl = ew.charset_len;
			const char *star = memchr(ew.charset, '*', cl);
			if (star) /* RFC 2231 language: "utf-8*pl" */
				cl = (size_t)(star - ew.charset);
			/* White space between two encoded words is not
			 * text (RFC 2047 section 6.2). */
			if (after_word && all_space(&w.raw))
				sk_buf_reset(&w.raw);
			flush_raw(&w);
			if (w.enc.len &&
			    (strlen(w.charset) != cl ||
			     strncasecmp(w.charset, ew.charset, cl)))
				flush_enc(&w);
			memcpy(w.charset, ew.charset, cl);
			w.charset[cl] = '\0';
			if (ew.enc == 'Q')
				decode_q(&w.enc, ew.text, ew.text_len);
			else
				decode_b(&w.enc, ew.text, ew.text_len);
			after_word = true;
			i = ew.end;
			continue;
		}
		if (!is_wsp(s[i])) {
			flush_enc(&w);
			after_word = false;
		}
		sk_buf_addc(&w.raw, s[i]);
		i++;
	}
	flush_enc(&w);
	flush_raw(&w);
	res = collapse_space(a, w.out.p, w.out.len);
	sk_buf_release(&w.out);
	sk_buf_release(&w.enc);
	sk_buf_release(&w.raw);
	return res;
}

/* ---- addresses ----------------------------------------------------------- */

/* One address being read: text outside <> (quotes removed), text inside
 * <>, and comment text. */
struct addr_acc {
	struct sk_buf name, angle, comment;
	bool has_angle;
};

static void
addr_acc_reset(struct addr_acc *acc)
{
	sk_buf_reset(&acc->name);
	sk_buf_reset(&acc->angle);
	sk_buf_reset(&acc->comment);
	acc->has_angle = false;
}

/* The address itself: no white space, valid UTF-8. */
static char *
clean_addr(struct sk_arena *a, const char *s, size_t n)
{
	char *tmp = sk_arena_alloc(a, n + 1), *o = tmp;
	for (size_t i = 0; i < n; i++)
		if (!is_wsp(s[i]) && s[i] != '"' && s[i] != '\0')
			*o++ = s[i];
	return sk_utf8_sanitize(a, tmp, (size_t)(o - tmp), NULL);
}

/* Turn the accumulated pieces into an entry; false when empty. */
static bool
addr_finish(struct sk_arena *a, struct addr_acc *acc, unsigned *flags,
            struct sk_mime_addr *out)
{
	const char *name_src = acc->name.p;
	size_t name_n = acc->name.len;

	if (acc->has_angle) {
		out->addr = clean_addr(a, acc->angle.p, acc->angle.len);
	} else {
		/* No <>: "a@b (Name)" or a bare "a@b"; a token without
		 * '@' is a name without an address. */
		const char *at = memchr(acc->name.p, '@', acc->name.len);
		if (at) {
			const char *b = at, *e = at;
			while (b > acc->name.p && !is_wsp(b[-1]))
				b--;
			while (e < acc->name.p + acc->name.len && !is_wsp(*e))
				e++;
			out->addr = clean_addr(a, b, (size_t)(e - b));
			name_src = acc->comment.p;
			name_n = acc->comment.len;
		} else {
			out->addr = "";
		}
	}
	if (sk_str_trim(name_src, name_n).n == 0) {
		name_src = acc->comment.p;
		name_n = acc->comment.len;
	}
	out->name = sk_mime_decode_words(a, name_src, name_n, flags);
	/* A name that merely repeats the address adds nothing. */
	if (!strcmp(out->name, out->addr))
		out->name = "";
	return out->addr[0] || out->name[0];
}

size_t
sk_mime_addresses(struct sk_arena *a, const char *s, size_t n, size_t max,
                  unsigned *flags, struct sk_mime_addr **out)
{
	struct addr_acc acc;
	size_t cap = 1, count = 0;
	struct sk_mime_addr *res;

	for (size_t i = 0; i < n; i++)
		cap += s[i] == ',' || s[i] == ';';
	if (cap > max)
		cap = max;
	res = sk_arena_alloc(a, (cap ? cap : 1) * sizeof(*res));
	sk_buf_init(&acc.name, BIG);
	sk_buf_init(&acc.angle, BIG);
	sk_buf_init(&acc.comment, BIG);
	acc.has_angle = false;
	for (size_t i = 0; i <= n && count < cap; i++) {
		char c = i < n ? s[i] : ',';
		if (c == ',' || c == ';') {
			if (addr_finish(a, &acc, flags, &res[count]))
				count++;
			addr_acc_reset(&acc);
		} else if (c == '"') {
			/* Quoted string: copied without quotes, \x -> x. */
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				sk_buf_addc(acc.has_angle ? &acc.angle
				                          : &acc.name,
				            s[i]);
			}
		} else if (c == '(') {
			int depth = 1;
			for (i++; i < n && depth > 0; i++) {
				if (s[i] == '\\' && i + 1 < n) {
					i++;
				} else if (s[i] == '(') {
					depth++;
				} else if (s[i] == ')') {
					if (--depth == 0)
						break;
				}
				sk_buf_addc(&acc.comment, s[i]);
			}
			sk_buf_addc(&acc.comment, ' ');
		} else if (c == '<') {
			acc.has_angle = true;
			sk_buf_reset(&acc.angle);
			for (i++; i < n && s[i] != '>'; i++)
				sk_buf_addc(&acc.angle, s[i]);
		} else if (c == ':' && !acc.has_angle &&
		           !memchr(acc.name.p, '@', acc.name.len)) {
			/* "Group name:" — the label is not an address. */
			sk_buf_reset(&acc.name);
		} else {
			sk_buf_addc(&acc.name, c);
		}
	}
	sk_buf_release(&acc.name);
	sk_buf_release(&acc.angle);
	sk_buf_release(&acc.comment);
	*out = res;
	return count;
}

/* ---- dates --------------------------------------------------------------- */

static int
month_index(const char *s, size_t n)
{
	static const char *const m[] = { "jan", "feb", "mar", "apr",
		                         "may", "jun", "jul", "aug",
		                         "sep", "oct", "nov", "dec" };
	if (n < 3)
		return -1;
	for (int i = 0; i < 12; i++)
		if (!strncasecmp(s, m[i], 3))
			return i;
	return -1;
}

/* Offset in minutes east of UTC for a zone name, or false. */
static bool
zone_offset(const char *s, size_t n, int *minutes)
{
	static const struct {
		const char *name;
		int hours;
	} z[] = { { "UT", 0 },   { "UTC", 0 },  { "GMT", 0 },  { "Z", 0 },
		  { "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		  { "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
		  { "CET", 1 },  { "CEST", 2 }, { "MET", 1 },  { "MEST", 2 },
		  { "BST", 1 },  { "EET", 2 },  { "EEST", 3 }, { "WET", 0 } };
	for (size_t i = 0; i < SK_ARRAY_SIZE(z); i++)
		if (strlen(z[i].name) == n && !strncasecmp(s, z[i].name, n)) {
			*minutes = z[i].hours * 60;
			return true;
		}
	return false;
}

static bool
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n && i < 9; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

struct date_parts {
	int year, mon, day, hour, min, sec, zone;
	bool have_year, have_mon, have_day, have_time, have_zone;
};

/* "hh:mm[:ss]" */
static bool
parse_time(const char *s, size_t n, struct date_parts *d)
{
	int v[3] = { 0, 0, 0 }, k = 0;
	size_t i = 0;

	while (i < n && k < 3) {
		size_t st = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == st || i - st > 2)
			return false;
		v[k++] = num(s + st, i - st);
		if (i < n && s[i] != ':' && s[i] != '.')
			return false;
		if (i < n)
			i++;
	}
	if (k < 2 || v[0] > 23 || v[1] > 59 || v[2] > 60)
		return false;
	d->hour = v[0];
	d->min = v[1];
	d->sec = v[2];
	d->have_time = true;
	return true;
}

/* ISO 8601 "2024-01-15T09:12:00+01:00" (and "2024-01-15 09:12"). */
static bool
parse_iso(const char *s, size_t n, struct date_parts *d)
{
	size_t i = 10;

	if (n < 16 || !all_digits(s, 4) || s[4] != '-' ||
	    !all_digits(s + 5, 2) || s[7] != '-' || !all_digits(s + 8, 2) ||
	    (s[10] != 'T' && s[10] != ' '))
		return false;
	d->year = num(s, 4);
	d->mon = num(s + 5, 2) - 1;
	d->day = num(s + 8, 2);
	d->have_year = d->have_mon = d->have_day = true;
	i = 11;
	size_t st = i;
	while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == ':'))
		i++;
	if (!parse_time(s + st, i - st, d))
		return false;
	if (i < n && (s[i] == '.')) /* fractions */
		while (++i < n && s[i] >= '0' && s[i] <= '9')
			;
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		d->have_zone = true;
		d->zone = 0;
	} else if (i + 5 <= n && (s[i] == '+' || s[i] == '-')) {
		int h = num(s + i + 1, 2);
		int m = s[i + 3] == ':' ? num(s + i + 4, 2) : num(s + i + 3, 2);
		d->zone = (s[i] == '-' ? -1 : 1) * (h * 60 + m);
		d->have_zone = true;
	}
	return true;
}

static void
date_token(const char *t, size_t tn, struct date_parts *d)
{
	int m;

	if ((t[0] == '+' || t[0] == '-') && tn == 5 && all_digits(t + 1, 4)) {
		int h = num(t + 1, 2), mm = num(t + 3, 2);
		if (h <= 14 && mm < 60) {
			d->zone = (t[0] == '-' ? -1 : 1) * (h * 60 + mm);
			d->have_zone = true;
		}
	} else if (memchr(t, ':', tn)) {
		if (!d->have_time)
			parse_time(t, tn, d);
	} else if (all_digits(t, tn)) {
		int v = num(t, tn);
		if (tn == 4) {
			d->year = v;
			d->have_year = true;
		} else if (!d->have_day && tn <= 2 && v >= 1 && v <= 31) {
			d->day = v;
			d->have_day = true;
		} else if (!d->have_year && tn <= 3) {
			d->year = tn == 3  ? 1900 + v
			          : v < 50 ? 2000 + v
			                   : 1900 + v;
			d->have_year = true;
		}
	} else if ((m = month_index(t, tn)) >= 0 && !d->have_mon) {
		d->mon = m;
		d->have_mon = true;
	} else if (!d->have_zone && zone_offset(t, tn, &m)) {
		d->zone = m;
		d->have_zone = true;
	} else if (tn == 2 && !strncasecmp(t, "pm", 2) && d->have_time &&
	           d->hour < 12) {
		d->hour += 12;
	}
}

bool
sk_mime_date(const char *s, size_t n, time_t *out)
{
	struct date_parts d = { 0 };
	struct sk_str t = sk_str_trim(s, n);
	struct tm tm = { 0 };
	time_t v;

	if (t.n > 200)
		return false;
	if (!parse_iso(t.p, t.n, &d)) {
		memset(&d, 0, sizeof(d));
		for (size_t i = 0; i < t.n;) {
			size_t st;
			if (t.p[i] == '(') { /* a comment such as "(CET)" */
				while (i < t.n && t.p[i] != ')')
					i++;
				i++;
				continue;
			}
			if (is_wsp(t.p[i]) || t.p[i] == ',') {
				i++;
				continue;
			}
			st = i;
			while (i < t.n && !is_wsp(t.p[i]) && t.p[i] != ',' &&
			       t.p[i] != '(')
				i++;
			/* "15-Jan-2024" (some gateways) splits on '-'. */
			if (i - st > 5 &&
			    memchr(t.p + st + 1, '-', i - st - 1) &&
			    t.p[st] != '-' && t.p[st] != '+') {
				size_t k = st;
				while (k < i) {
					size_t ks = k;
					while (k < i && t.p[k] != '-')
						k++;
					if (k > ks)
						date_token(t.p + ks, k - ks,
						           &d);
					k++;
				}
				continue;
			}
			date_token(t.p + st, i - st, &d);
		}
	}
	if (!d.have_year || !d.have_mon || !d.have_day || d.year < 1970 ||
	    d.year > 2199 || d.day > 31)
		return false;
	tm.tm_year = d.year - 1900;
	tm.tm_mon = d.mon;
	tm.tm_mday = d.day;
	tm.tm_hour = d.hour;
	tm.tm_min = d.min;
	tm.tm_sec = d.sec;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return false;
	*out = v - (time_t)d.zone * 60;
	return true;
}

/* ---- msg-ids ----------------------------------------------------------- */

size_t
sk_mime_msgids(struct sk_arena *a, const char *s, size_t n, size_t max,
               const char ***out)
{
	const char **all;
	size_t cap = 1, count = 0, keep;
	const char **res;

	for (size_t i = 0; i < n; i++)
		cap += s[i] == '<' || s[i] == ' ';
	all = sk_xcalloc(cap, sizeof(*all));
	for (size_t i = 0; i < n && count < cap; i++) {
		const char *close;
		struct sk_str id;
		if (s[i] != '<')
			continue;
		close = memchr(s + i + 1, '>', n - i - 1);
		if (!close)
			break;
		id = sk_str_trim(s + i + 1, (size_t)(close - s) - i - 1);
		if (id.n > 0 && id.n <= 250 && !memchr(id.p, '<', id.n))
			all[count++] = clean_addr(a, id.p, id.n);
		i = (size_t)(close - s);
	}
	if (count == 0) {
		/* No brackets: "id@host" tokens as some gateways write. */
		for (size_t i = 0; i < n && count < cap;) {
			size_t st;
			while (i < n && is_wsp(s[i]))
				i++;
			st = i;
			while (i < n && !is_wsp(s[i]))
				i++;
			if (i > st && i - st <= 250 &&
			    memchr(s + st, '@', i - st))
				all[count++] = clean_addr(a, s + st, i - st);
		}
	}
	/* Drop repeats, keep the first of each. */
	{
		size_t k = 0;
		for (size_t i = 0; i < count; i++) {
			bool seen = !all[i][0];
			for (size_t j = (k > 200 ? k - 200 : 0); j < k && !seen;
			     j++)
				seen = !strcmp(all[j], all[i]);
			if (!seen)
				all[k++] = all[i];
		}
		count = k;
	}
	keep = count > max ? max : count;
	res = sk_arena_alloc(a, (keep ? keep : 1) * sizeof(*res));
	if (count <= max) {
		memcpy(res, all, count * sizeof(*res));
	} else if (max > 0) {
		res[0] = all[0];
		memcpy(res + 1, all + count - (max - 1),
		       (max - 1) * sizeof(*res));
	}
	free(all);
	*out = res;
	return keep;
}

/* ---- Content-Type / Content-Disposition ---------------------------------- */

#define MAX_PARAMS 64
#define MAX_SECTIONS 64

struct raw_param {
	char name[64]; /* base name, lowercase */
	int section;   /* -1 when not a continuation */
	bool extended; /* name ended in '*': charset'lang'%xx */
	const char *value;
	size_t value_len;
};

static void
pct_decode(struct sk_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (s[i] == '%' && i + 2 < n && (h = sk_hex_digit(s[i + 1])) >= 0 &&
		    (l = sk_hex_digit(s[i + 2])) >= 0) {
			sk_buf_addc(b, (char)(h * 16 + l));
			i += 2;
		} else {
			sk_buf_addc(b, s[i]);
		}
	}
}

/* Unquote a parameter value into the arena (quotes and \ escapes). */
static const char *
unquote(struct sk_arena *a, const char *s, size_t n, size_t *len_out)
{
	char *o, *r;

	if (n < 1 || s[0] != '"') {
		*len_out = n;
		return s;
	}
	r = o = sk_arena_alloc(a, n + 1);
	for (size_t i = 1; i < n && s[i] != '"'; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		*o++ = s[i];
	}
	*len_out = (size_t)(o - r);
	return r;
}

/* Split "name*3*" into base name, section and the extended mark. */
static bool
split_param_name(const char *s, size_t n, struct raw_param *p)
{
	const char *star = memchr(s, '*', n);
	size_t base = star ? (size_t)(star - s) : n;

	if (base == 0 || base >= sizeof(p->name))
		return false;
	for (size_t i = 0; i < base; i++)
		p->name[i] =
		    (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	p->name[base] = '\0';
	p->section = -1;
	p->extended = false;
	if (!star)
		return true;
	if (n > 0 && s[n - 1] == '*') {
		p->extended = true;
		n--;
	}
	if (n > base + 1) { /* "*<digits>" */
		if (!all_digits(s + base + 1, n - base - 1) || n - base - 1 > 3)
			return false;
		p->section = num(s + base + 1, n - base - 1);
	}
	return true;
}

/* Read the raw parameters after the first ';' (lenient: unquoted values
 * with spaces run to the next ';'). */
static size_t
read_params(struct sk_arena *a, const char *s, size_t n, struct raw_param *ps)
{
	size_t i = 0, count = 0;

	while (i < n && count < MAX_PARAMS) {
		size_t ns, ne, vs;
		while (i < n && (s[i] == ';' || is_wsp(s[i])))
			i++;
		ns = i;
		while (i < n && s[i] != '=' && s[i] != ';')
			i++;
		if (i >= n || s[i] != '=')
			continue;
		ne = i;
		while (ne > ns && is_wsp(s[ne - 1]))
			ne--;
		i++;
		while (i < n && is_wsp(s[i]))
			i++;
		vs = i;
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (i < n)
				i++;
		} else {
			while (i < n && s[i] != ';')
				i++;
		}
		if (!split_param_name(s + ns, ne - ns, &ps[count]))
			continue;
		size_t ve = i > n ? n : i;
		struct sk_str v = sk_str_trim(s + vs, ve - vs);
		ps[count].value = unquote(a, v.p, v.n, &ps[count].value_len);
		count++;
	}
	return count;
}

/* Join the RFC 2231 pieces of one parameter: sections 0..k in order (a gap
 * ends it), all percent-decoded, then converted once with the charset of
 * the first piece. */
static const char *
join_2231(struct sk_arena *a, const struct raw_param *ps, size_t np,
          const char *name, unsigned *flags)
{
	const struct raw_param *sec[MAX_SECTIONS] = { 0 };
	const struct raw_param *single = NULL;
	struct sk_buf bytes;
	char charset[64] = "";
	const char *res;
	size_t rl;

	for (size_t i = 0; i < np; i++) {
		if (strcmp(ps[i].name, name))
			continue;
		if (ps[i].section < 0 && ps[i].extended)
			single = &ps[i];
		else if (ps[i].section >= 0 && ps[i].section < MAX_SECTIONS &&
		         !sec[ps[i].section])
			sec[ps[i].section] = &ps[i];
	}
	if (!single && !sec[0])
		return NULL;
	sk_buf_init(&bytes, BIG);
	for (int k = 0; k < MAX_SECTIONS; k++) {
		const struct raw_param *p =
		    single ? (k ? NULL : single) : sec[k];
		const char *v;
		size_t vn;
		if (!p)
			break;
		v = p->value;
		vn = p->value_len;
		if (p->extended && k == 0) {
			/* charset'language'value */
			const char *q1 = memchr(v, '\'', vn), *q2;
			if (q1 && (q2 = memchr(q1 + 1, '\'',
			                       vn - (size_t)(q1 + 1 - v)))) {
				size_t cl = (size_t)(q1 - v);
				if (cl < sizeof(charset)) {
					memcpy(charset, v, cl);
					charset[cl] = '\0';
				}
				vn -= (size_t)(q2 + 1 - v);
				v = q2 + 1;
			}
		}
		if (p->extended)
			pct_decode(&bytes, v, vn);
		else
			sk_buf_add(&bytes, v, vn);
	}
	if (charset[0])
		res = sk_mime_text_utf8(a, bytes.p, bytes.len, charset, flags,
		                        &rl);
	else
		res = sk_mime_decode_words(a, bytes.p, bytes.len, flags);
	sk_buf_release(&bytes);
	return res;
}

void
sk_mime_field_parse(struct sk_arena *a, const char *s, size_t n,
                    unsigned *flags, struct sk_mime_field *out)
{
	struct raw_param *ps = sk_xcalloc(MAX_PARAMS, sizeof(*ps));
	const char *semi = memchr(s, ';', n);
	size_t vn = semi ? (size_t)(semi - s) : n, np;
	struct sk_str v = sk_str_trim(s, vn);
	char *val = sk_arena_alloc(a, v.n + 1), *o = val;

	/* The value without comments or spaces, lowercase. */
	for (size_t i = 0; i < v.n; i++) {
		char c = v.p[i];
		if (c == '(')
			break;
		if (is_wsp(c) || c == '"')
			continue;
		*o++ = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	*o = '\0';
	out->value = sk_utf8_sanitize(a, val, (size_t)(o - val), NULL);
	np = semi ? read_params(a, semi, n - vn, ps) : 0;
	out->params = sk_arena_alloc(a, (np ? np : 1) * sizeof(*out->params));
	out->n_params = 0;
	for (size_t i = 0; i < np; i++) {
		struct sk_mime_param *p;
		bool done = false;
		for (size_t j = 0; j < out->n_params && !done; j++)
			done = !strcmp(out->params[j].name, ps[i].name);
		if (done)
			continue;
		p = &out->params[out->n_params++];
		p->name = sk_arena_strdup(a, ps[i].name);
		/* An RFC 2231 form wins over a plain one of the same name
		 * (mailers send both for old readers). */
		p->value = join_2231(a, ps, np, ps[i].name, flags);
		/* A boundary is compared byte for byte: no decoding. */
		if (!p->value && !strcmp(p->name, "boundary"))
			p->value = sk_utf8_sanitize(a, ps[i].value,
			                            ps[i].value_len, NULL);
		else if (!p->value)
			p->value = sk_mime_decode_words(a, ps[i].value,
			                                ps[i].value_len, flags);
	}
	free(ps);
}

const char *
sk_mime_field_param(const struct sk_mime_field *f, const char *name)
{
	for (size_t i = 0; i < f->n_params; i++)
		if (!strcmp(f->params[i].name, name))
			return f->params[i].value;
	return NULL;
}
