/* ingest/quote.c: where quoting starts in a reply. Nothing is removed: the
 * web folds the quote and ranking weighs it less. We look for what mail
 * clients of Polish offices write: "> " blocks under an attribution line
 * ("W dniu ... pisze:", "On ... wrote:") and Outlook's "-----Original
 * Message-----" / "-----Wiadomość oryginalna-----" or its "Od: / Wysłano:"
 * header block, after which everything is the quoted original. */
#include "ingest/private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct line {
	size_t off, len; /* len without the '\n' (and a '\r') */
};

static size_t
split_lines(const char *s, size_t n, struct line **out)
{
	size_t k = 0, cap = 1;
	struct line *l;

	for (size_t i = 0; i < n; i++)
		cap += s[i] == '\n';
	l = sk_xcalloc(cap, sizeof(*l));
	for (size_t i = 0; i < n;) {
		const char *e = memchr(s + i, '\n', n - i);
		size_t end = e ? (size_t)(e - s) : n;
		l[k].off = i;
		l[k].len = end - i;
		if (l[k].len && s[end - 1] == '\r')
			l[k].len--;
		k++;
		i = end + 1;
	}
	*out = l;
	return k;
}

static struct sk_str
line_str(const char *s, const struct line *l)
{
	return sk_str_trim(s + l->off, l->len);
}

static bool
is_blank(const char *s, const struct line *l)
{
	return line_str(s, l).n == 0;
}

static bool
is_quoted(const char *s, const struct line *l)
{
	struct sk_str t = line_str(s, l);
	return t.n > 0 && t.p[0] == '>';
}

static bool
contains_ci(struct sk_str t, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= t.n; i++)
		if (!strncasecmp(t.p + i, needle, nl))
			return true;
	return false;
}

static bool
starts_ci(struct sk_str t, const char *prefix)
{
	size_t pl = strlen(prefix);
	return t.n >= pl && !strncasecmp(t.p, prefix, pl);
}

/* "-----Original Message-----" and its Polish forms. */
static bool
is_separator(const char *s, const struct line *l)
{
	static const char *const names[] = {
		"original message",     "wiadomość oryginalna",
		"oryginalna wiadomość", "wiadomosc oryginalna",
		"oryginalna wiadomosc", "ursprüngliche nachricht",
	};
	struct sk_str t = line_str(s, l);

	if (t.n < 12 || t.p[0] != '-')
		return false;
	while (t.n && (t.p[0] == '-' || t.p[0] == ' '))
		t.p++, t.n--;
	while (t.n && (t.p[t.n - 1] == '-' || t.p[t.n - 1] == ' '))
		t.n--;
	for (size_t i = 0; i < SK_ARRAY_SIZE(names); i++)
		if (t.n == strlen(names[i]) && !strncasecmp(t.p, names[i], t.n))
			return true;
	return false;
}

/* Outlook without a separator: "From:/Od:" then "Sent:/Wysłano:" within
 * the next lines (a forward's "Data:" does not count: a forward is the
 * content, not a quote). */
static bool
is_outlook_header(const char *s, const struct line *l, size_t i, size_t k)
{
	struct sk_str t = line_str(s, &l[i]);

	if (!starts_ci(t, "from:") && !starts_ci(t, "od:"))
		return false;
	if (i > 0 && !is_blank(s, &l[i - 1])) {
		struct sk_str p = line_str(s, &l[i - 1]);
		if (!(p.n >= 10 && p.p[0] == '_'))
			return false;
	}
	for (size_t j = i + 1; j < k && j <= i + 3; j++) {
		struct sk_str u = line_str(s, &l[j]);
		if (starts_ci(u, "sent:") || starts_ci(u, "wysłano:") ||
		    starts_ci(u, "wyslano:"))
			return true;
	}
	return false;
}

/* "W dniu 15.01.2024 o 09:12, Anna Kowalczyk pisze:", "On ... wrote:". */
static bool
ends_attribution(struct sk_str t)
{
	static const char *const verbs[] = { "pisze",    "napisał", "napisala",
		                             "napisała", "wrote",   "schrieb",
		                             "a écrit",  "escribió" };
	if (t.n == 0 || t.p[t.n - 1] != ':')
		return false;
	for (size_t i = 0; i < SK_ARRAY_SIZE(verbs); i++)
		if (contains_ci(t, verbs[i]))
			return true;
	return false;
}

static bool
starts_attribution(struct sk_str t)
{
	return starts_ci(t, "w dniu ") || starts_ci(t, "dnia ") ||
	       starts_ci(t, "on ") || starts_ci(t, "am ") ||
	       starts_ci(t, "le ");
}

/* The last line before the trailing footer: a signature ("-- ") or a list
 * footer ("____") after the quote is not part of the reply either. */
static size_t
skip_footer(const char *s, const struct line *l, size_t last)
{
	for (size_t back = 0; back < 15 && back <= last; back++) {
		size_t d = last - back;
		struct sk_str t = line_str(s, &l[d]);
		bool delim =
		    (l[d].len >= 2 && !memcmp(s + l[d].off, "--", 2) &&
		     t.n <= 3) ||
		    (t.n >= 10 && t.p[0] == '_' && t.p[t.n - 1] == '_');
		if (is_quoted(s, &l[d]))
			return last;
		if (!delim)
			continue;
		for (size_t j = d; j > 0; j--) {
			if (is_blank(s, &l[j - 1]))
				continue;
			return is_quoted(s, &l[j - 1]) ? j - 1 : last;
		}
		return last;
	}
	return last;
}

size_t
sk_mime_quote_start(const char *s, size_t n)
{
	struct line *l;
	size_t k = split_lines(s, n, &l), res = n, last, q;
	bool found = false;

	for (size_t i = 0; i < k; i++)
		if (is_separator(s, &l[i]) || is_outlook_header(s, l, i, k)) {
			res = l[i].off;
			/* The "____" line Outlook draws above its header. */
			if (i > 0 && !is_separator(s, &l[i]) &&
			    !is_blank(s, &l[i - 1]))
				res = l[i - 1].off;
			free(l);
			return res;
		}
	last = k;
	while (last > 0 && is_blank(s, &l[last - 1]))
		last--;
	if (last == 0) {
		free(l);
		return n;
	}
	last = skip_footer(s, l, last - 1) + 1;
	/* Back over quoted and blank lines; q is the earliest quoted one. */
	q = last;
	for (size_t i = last; i > 0; i--) {
		if (is_quoted(s, &l[i - 1])) {
			q = i - 1;
			found = true;
		} else if (!is_blank(s, &l[i - 1])) {
			break;
		}
	}
	if (!found) {
		free(l);
		return n;
	}
	res = l[q].off;
	/* The attribution above it, one blank line allowed, possibly wrapped
	 * onto two lines. */
	{
		size_t a = q;
		if (a > 0 && is_blank(s, &l[a - 1]))
			a--;
		if (a > 0 && ends_attribution(line_str(s, &l[a - 1]))) {
			res = l[a - 1].off;
			if (a > 1 &&
			    !starts_attribution(line_str(s, &l[a - 1])) &&
			    starts_attribution(line_str(s, &l[a - 2])))
				res = l[a - 2].off;
		} else if (a > 0 &&
		           starts_attribution(line_str(s, &l[a - 1])) &&
		           line_str(s, &l[a - 1]).n > 0 &&
		           line_str(s, &l[a - 1])
		                   .p[line_str(s, &l[a - 1]).n - 1] == ':') {
			res = l[a - 1].off;
		}
	}
	free(l);
	return res;
}
