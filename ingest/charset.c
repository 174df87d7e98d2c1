/* ingest/charset.c: every byte of mail text becomes valid UTF-8 here —
 * charset labels through an alias table and iconv, detection of Polish
 * 8-bit text when the label is missing or wrong. Never trusts a label
 * that the bytes contradict, never returns invalid UTF-8. */
#include "ingest/private.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicode/ucsdet.h>

/* Labels seen in Polish office mail (and the usual suspects), mapped to
 * the names glibc's iconv knows. Anything else is tried on iconv as is. */
static const struct {
	const char *label;
	const char *canon;
} aliases[] = {
	{ "utf-8", "UTF-8" },
	{ "utf8", "UTF-8" },
	{ "unicode-1-1-utf-8", "UTF-8" },
	{ "x-unicode20utf8", "UTF-8" },
	{ "us-ascii", "US-ASCII" },
	{ "ascii", "US-ASCII" },
	{ "us", "US-ASCII" },
	{ "ansi_x3.4-1968", "US-ASCII" },
	{ "iso-646-us", "US-ASCII" },
	{ "iso-8859-2", "ISO-8859-2" },
	{ "iso8859-2", "ISO-8859-2" },
	{ "iso_8859-2", "ISO-8859-2" },
	{ "iso88592", "ISO-8859-2" },
	{ "iso-88592", "ISO-8859-2" },
	{ "iso_8859-2:1987", "ISO-8859-2" },
	{ "8859-2", "ISO-8859-2" },
	{ "latin2", "ISO-8859-2" },
	{ "latin-2", "ISO-8859-2" },
	{ "l2", "ISO-8859-2" },
	{ "iso-ir-101", "ISO-8859-2" },
	{ "csisolatin2", "ISO-8859-2" },
	{ "windows-1250", "WINDOWS-1250" },
	{ "windows1250", "WINDOWS-1250" },
	{ "win-1250", "WINDOWS-1250" },
	{ "win1250", "WINDOWS-1250" },
	{ "cp1250", "WINDOWS-1250" },
	{ "cp-1250", "WINDOWS-1250" },
	{ "x-cp1250", "WINDOWS-1250" },
	{ "ms-ee", "WINDOWS-1250" },
	{ "iso-8859-1", "ISO-8859-1" },
	{ "iso8859-1", "ISO-8859-1" },
	{ "iso_8859-1", "ISO-8859-1" },
	{ "latin1", "ISO-8859-1" },
	{ "latin-1", "ISO-8859-1" },
	{ "l1", "ISO-8859-1" },
	{ "windows-1252", "WINDOWS-1252" },
	{ "cp1252", "WINDOWS-1252" },
	{ "win-1252", "WINDOWS-1252" },
	{ "iso-8859-16", "ISO-8859-16" },
	{ "latin10", "ISO-8859-16" },
	{ "gb2312", "GBK" },
	{ "ks_c_5601-1987", "CP949" },
	{ "iso-8859-8-i", "ISO-8859-8" },
	{ "windows-874", "CP874" },
};

/* Labels that say "we do not know": detect instead of failing iconv. */
static const char *const unknown_labels[] = {
	"unknown-8bit", "x-unknown",      "unknown", "default",
	"8bit",         "x-user-defined", "none",    "charset",
};

/* Charsets where pure ASCII input converts to itself, so iconv can be
 * skipped (UTF-7, UTF-16 and ISO-2022 are not among them). */
static bool
ascii_compatible(const char *canon)
{
	static const char *const prefixes[] = {
		"UTF-8", "US-ASCII", "ISO-8859", "WINDOWS-125", "KOI8",
		"CP125", "CP8",      "GBK",      "CP949"
	};
	for (size_t i = 0; i < SK_ARRAY_SIZE(prefixes); i++)
		if (sk_istarts_with(canon, prefixes[i]))
			return true;
	return false;
}

static bool
has_8bit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/* Trim quotes and white space and lowercase the label into out; false when
 * what is left cannot be a charset name (iconv gets only sane strings). */
static bool
clean_label(const char *label, char out[64])
{
	size_t n = strlen(label), j = 0;
	struct sk_str t = sk_str_trim(label, n);

	while (t.n && (t.p[0] == '"' || t.p[0] == '\''))
		t.p++, t.n--;
	while (t.n && (t.p[t.n - 1] == '"' || t.p[t.n - 1] == '\''))
		t.n--;
	t = sk_str_trim(t.p, t.n);
	if (t.n == 0 || t.n >= 64)
		return false;
	for (size_t i = 0; i < t.n; i++) {
		unsigned char c = (unsigned char)t.p[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && !strchr("-_.:()+", c))
			return false;
		out[j++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[j] = '\0';
	return true;
}

const char *
sk_mime_charset_canon(struct sk_arena *a, const char *label)
{
	char l[64];
	iconv_t cd;

	if (!label || !clean_label(label, l))
		return NULL;
	for (size_t i = 0; i < SK_ARRAY_SIZE(aliases); i++)
		if (!strcmp(l, aliases[i].label))
			return aliases[i].canon;
	for (size_t i = 0; i < SK_ARRAY_SIZE(unknown_labels); i++)
		if (!strcmp(l, unknown_labels[i]))
			return NULL;
	cd = iconv_open("UTF-8", l);
	if (cd == (iconv_t)-1)
		return NULL;
	iconv_close(cd);
	return sk_ascii_lower(sk_arena_strdup(a, l));
}

bool
sk_mime_convert(struct sk_arena *a, const char *s, size_t n, const char *canon,
                char **out, size_t *len_out)
{
	iconv_t cd;
	char *buf, *in, *o;
	size_t cap, inleft, outleft;

	if (!strcmp(canon, "UTF-8") ||
	    (!has_8bit(s, n) && ascii_compatible(canon))) {
		*out = sk_utf8_sanitize(a, s, n, len_out);
		return true;
	}
	cd = iconv_open("UTF-8", canon);
	if (cd == (iconv_t)-1)
		return false;
	/* Four output bytes per input byte cover every charset we meet (and
	 * U+FFFD for a rejected byte); E2BIG grows the buffer anyway. */
	cap = n * 4 + 16;
	buf = sk_xmalloc(cap);
	in = (char *)s;
	inleft = n;
	o = buf;
	outleft = cap;
	while (inleft > 0) {
		size_t r = iconv(cd, &in, &inleft, &o, &outleft);
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG) {
			size_t used = (size_t)(o - buf);
			cap *= 2;
			buf = sk_xrealloc(buf, cap);
			o = buf + used;
			outleft = cap - used;
		} else if (errno == EILSEQ || errno == EINVAL) {
			/* A byte the charset does not define, or a sequence
			 * cut at the end: replace it and go on. */
			if (outleft < 4) {
				size_t used = (size_t)(o - buf);
				cap *= 2;
				buf = sk_xrealloc(buf, cap);
				o = buf + used;
				outleft = cap - used;
			}
			size_t k = sk_utf8_encode(0xFFFD, o);
			o += k;
			outleft -= k;
			in++;
			inleft--;
			iconv(cd, NULL, NULL, NULL, NULL); /* reset state */
		} else {
			break;
		}
	}
	/* Flush a stateful encoding's shift sequence. */
	if (outleft >= 16)
		iconv(cd, NULL, NULL, &o, &outleft);
	iconv_close(cd);
	*out = sk_utf8_sanitize(a, buf, (size_t)(o - buf), len_out);
	free(buf);
	return true;
}

/* ICU's choice among ISO-8859-2 and windows-1250, or NULL. */
static const char *
icu_detect(const char *s, size_t n)
{
	UErrorCode st = U_ZERO_ERROR;
	UCharsetDetector *d = ucsdet_open(&st);
	const UCharsetMatch **m;
	const char *pick = NULL;
	int32_t nm = 0;

	if (U_FAILURE(st))
		return NULL;
	/* A sample is enough and keeps the cost flat on big parts. */
	ucsdet_setText(d, s, (int32_t)(n > 65536 ? 65536 : n), &st);
	m = ucsdet_detectAll(d, &nm, &st);
	for (int32_t i = 0; U_SUCCESS(st) && i < nm && !pick; i++) {
		const char *name = ucsdet_getName(m[i], &st);
		if (!name)
			continue;
		if (!strcasecmp(name, "ISO-8859-2"))
			pick = "ISO-8859-2";
		else if (!strcasecmp(name, "windows-1250"))
			pick = "WINDOWS-1250";
	}
	ucsdet_close(d);
	return pick;
}

/* Polish letters that only one of the two charsets has at a byte: ą ś ź
 * Ą Ś Ź sit at B9 9C 9F A5 8C 8F in windows-1250 and at B1 B6 BC A1 A6
 * AC in ISO-8859-2 (the other letters share their bytes). ICU decides
 * between the two on C1 bytes alone, so windows-1250 text whose only
 * telling letter is "ą" (0xB9) comes out as ISO-8859-2 "š" there; the
 * counts below catch that. */
static void
polish_scores(const char *s, size_t n, size_t *cp, size_t *l2, size_t *c1)
{
	*cp = *l2 = *c1 = 0;
	for (size_t i = 0; i < n; i++) {
		switch ((unsigned char)s[i]) {
		case 0xB9:
		case 0x9C:
		case 0x9F:
		case 0xA5:
		case 0x8C:
		case 0x8F:
			(*cp)++;
			break;
		case 0xB1:
		case 0xB6:
		case 0xBC:
		case 0xA1:
		case 0xA6:
		case 0xAC:
			(*l2)++;
			break;
		}
		if ((unsigned char)s[i] >= 0x80 && (unsigned char)s[i] <= 0x9F)
			(*c1)++;
	}
}

const char *
sk_mime_detect(const char *s, size_t n, bool use_icu)
{
	size_t cp, l2, c1;
	const char *icu;

	if (sk_utf8_valid(s, n))
		return "UTF-8";
	polish_scores(s, n, &cp, &l2, &c1);
	if (cp > l2)
		return "WINDOWS-1250";
	if (l2 > cp)
		return "ISO-8859-2";
	if (c1 > 0) /* printable only in windows-1250 */
		return "WINDOWS-1250";
	if (use_icu && n >= 64) {
		icu = icu_detect(s, n);
		if (icu)
			return icu;
	}
	return "WINDOWS-1250";
}

bool
sk_mime_looks_cp1250(const char *s, size_t n)
{
	size_t high = 0, telling = 0;

	/* Bytes that are common Polish letters in windows-1250 or
	 * ISO-8859-2 but rare symbols in Latin-1 (¹ ³ £ ¥ œ Ÿ Œ ± ¶ ¼ ¦ ¬):
	 * a German or French text has almost none of them. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80)
			continue;
		high++;
		switch (c) {
		case 0xB9:
		case 0xB3:
		case 0xA3:
		case 0xA5:
		case 0x9C:
		case 0x9F:
		case 0x8C:
		case 0x8F:
		case 0xB1:
		case 0xB6:
		case 0xBC:
		case 0xA6:
		case 0xAC:
			telling++;
			break;
		}
	}
	return telling > 0 && telling * 5 >= high;
}

/* The charset to convert with, given the label and the bytes. */
static const char *
choose_charset(struct sk_arena *a, const char *s, size_t n, const char *label,
               unsigned *flags)
{
	const char *canon = sk_mime_charset_canon(a, label);

	if (!canon || !strcmp(canon, "US-ASCII")) {
		*flags |= SK_MSG_CHARSET_GUESSED;
		return sk_mime_detect(s, n, true);
	}
	if (!strcmp(canon, "ISO-8859-1") || !strcmp(canon, "WINDOWS-1252")) {
		if (sk_utf8_valid(s, n)) {
			*flags |= SK_MSG_CHARSET_GUESSED;
			return "UTF-8";
		}
		if (sk_mime_looks_cp1250(s, n)) {
			*flags |= SK_MSG_CHARSET_GUESSED;
			return sk_mime_detect(s, n, true);
		}
		return canon;
	}
	if (!strcmp(canon, "UTF-8") && !sk_utf8_valid(s, n)) {
		/* "UTF-8" over windows-1250 bytes happens too (webmail
		 * forms); a stray bad byte in real UTF-8 stays UTF-8. */
		size_t bad = 0, i = 0;
		while (i < n) {
			uint32_t cpt;
			size_t l = sk_utf8_next(s + i, n - i, &cpt);
			if (cpt == 0xFFFD && l == 1)
				bad++;
			i += l;
		}
		if (bad > 2) {
			*flags |= SK_MSG_CHARSET_GUESSED;
			return sk_mime_detect(s, n, true);
		}
	}
	return canon;
}

char *
sk_mime_text_utf8(struct sk_arena *a, const char *s, size_t n,
                  const char *label, unsigned *flags, size_t *len_out)
{
	const char *cs;
	char *out;

	/* Pure ASCII needs no label, and a missing one is not a guess. */
	if (!has_8bit(s, n)) {
		const char *canon = sk_mime_charset_canon(a, label);
		if (!canon || ascii_compatible(canon))
			return sk_utf8_sanitize(a, s, n, len_out);
	}
	cs = choose_charset(a, s, n, label, flags);
	if (sk_mime_convert(a, s, n, cs, &out, len_out))
		return out;
	/* iconv knew the label a moment ago but cannot open it now (or a
	 * canon from the table is missing in this libc): detect. */
	*flags |= SK_MSG_CHARSET_GUESSED;
	cs = sk_mime_detect(s, n, true);
	if (sk_mime_convert(a, s, n, cs, &out, len_out))
		return out;
	return sk_utf8_sanitize(a, s, n, len_out);
}
