/* index/analyze.c: the Polish analyzer — word breaking, folding, hunspell-pl
 * lemmas, diacritic restoration, stop words and the per-thread word cache.
 * It hands terms to a callback and knows nothing of Xapian or SQLite.
 *
 * The shape of the work: text is cut into tokens (words, numbers, e-mail
 * addresses, domains, hyphenated compounds); each token's raw bytes are the
 * key of a per-analyzer cache holding its whole expansion, so a word seen
 * before costs a hash, a probe and the callbacks — no allocation, no
 * iconv, no hunspell. A miss folds the token with utf8proc, asks hunspell
 * for lemmas (through iconv: the dictionary is ISO-8859-2) and tries
 * diacritic restoration for words typed in plain ASCII.
 *
 * Restoration spell-checks candidate spellings (a -> ą, l -> ł, z -> ź/ż...),
 * up to RESTORE_MAX_CANDIDATES of them: about 0.5 ms for a word that has
 * no Polish reading, which is every English word. So a process that keeps
 * restoring builds, once, a Bloom filter of every dictionary form with a
 * Polish letter (folded, and as spelled) from the .aff/.dic files, and
 * skips the candidates the filter rules out. A Bloom filter has no false
 * negatives, so the results are the same with and without it; only the
 * time differs (tests check both paths agree).
 *
 * Hunspell itself (~150 ms and 31 MB to load pl_PL) is created only when a
 * word needs it and the persistent lexicon (index/lexicon.c, written by
 * the writer) does not have the word: a reader analysing corpus words
 * never loads the dictionary, and takes the filter from the lexicon. */
#include "index/private.h"

#include <hunspell/hunspell.h>
#include <iconv.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <utf8proc.h>

/* ---- limits ----------------------------------------------------------- */

#define TERM_MAX SK_TERM_MAX
#define MAX_TERMS 40               /* terms at one position */
#define MAX_STEMS 8                /* lemmas taken from one hunspell call */
#define STEM_MAX_BYTES 60          /* longer words are not looked up */
#define FOLD_MAX_INPUT 256         /* bytes of a token that are folded */
#define RESTORE_MAX_LETTERS 24     /* longer ASCII words are not restored */
#define RESTORE_MAX_CANDIDATES 256 /* spellings tried per word */
#define RESTORE_MAX_FOUND 8        /* Polish words taken per word */
/* Brute-force restorations before the filter is built (auto mode). */
#define RESTORE_AUTO_AFTER 128
#define COMPOUND_MAX_PARTS 6
#define COMPOUND_MAX_JOINED 12 /* joined lemmas of one compound */
#define KEY_MAX 255            /* longer tokens bypass the cache */
#define EMAIL_LOCAL_MAX 64
#define DOMAIN_MAX 253
#define LABEL_MAX 63
#define NUMBER_MAX_GROUPS 16
#define CACHE_DEFAULT_ENTRIES 200000
#define CACHE_BYTES_PER_ENTRY 80 /* the slab budget per entry */

/* ---- tokens ----------------------------------------------------------- */

enum tok_kind {
	TOK_WORD = 1,
	TOK_NUMBER,
	TOK_EMAIL,
	TOK_DOMAIN,
	TOK_COMPOUND,
};

struct tok {
	enum tok_kind kind;
	size_t start, end;
};

enum cclass {
	C_SEP = 0,
	C_ALNUM,  /* letters, marks, digits */
	C_IGNORE, /* soft hyphen, zero-width characters: inside words */
	C_HYPHEN, /* U+2010, U+2011 (ASCII '-' is handled by the scanners) */
	C_NUMSP,  /* NBSP and thin spaces: digit group separators */
};

static bool
is_ascii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The class of the character at s[i]; *len gets its byte length. Invalid
 * UTF-8 is one separator byte. */
static enum cclass
char_class(const char *s, size_t n, size_t i, size_t *len)
{
	unsigned char c = (unsigned char)s[i];
	uint32_t cp;
	utf8proc_category_t cat;

	if (c < 0x80) {
		*len = 1;
		return is_ascii_alnum(c) ? C_ALNUM : C_SEP;
	}
	*len = sk_utf8_next(s + i, n - i, &cp);
	if (cp == 0xFFFD && *len == 1)
		return C_SEP;
	switch (cp) {
	case 0x00AD:
	case 0x200B:
	case 0x200C:
	case 0x200D:
	case 0x2060:
	case 0xFEFF:
		return C_IGNORE;
	case 0x2010:
	case 0x2011:
		return C_HYPHEN;
	case 0x00A0:
	case 0x2007:
	case 0x2009:
	case 0x202F:
		return C_NUMSP;
	}
	cat = utf8proc_category((utf8proc_int32_t)cp);
	return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO
	           ? C_ALNUM
	           : C_SEP;
}

enum { RUN_DIGITS = 1, RUN_ASCII = 2 };

/* The end of the run of word characters that starts at i (s[i] is one).
 * Ignorable characters are part of a run only between word characters. */
static size_t
scan_run(const char *s, size_t n, size_t i, unsigned *flags)
{
	unsigned fl = RUN_DIGITS | RUN_ASCII;
	size_t end = i;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len;
		enum cclass cl;

		if (c < 0x80) {
			if (!is_ascii_alnum(c))
				break;
			if (!is_digit(c))
				fl &= ~(unsigned)RUN_DIGITS;
			end = ++i;
			continue;
		}
		cl = char_class(s, n, i, &len);
		if (cl == C_ALNUM) {
			fl = 0;
			end = i += len;
		} else if (cl == C_IGNORE) {
			fl &= ~(unsigned)RUN_ASCII;
			i += len;
		} else {
			break;
		}
	}
	*flags = fl;
	return end;
}

/* Length of a hyphen at s[i] (ASCII or U+2010/U+2011), else 0. */
static size_t
hyphen_at(const char *s, size_t n, size_t i)
{
	size_t len;

	if (i >= n)
		return 0;
	if (s[i] == '-')
		return 1;
	if ((unsigned char)s[i] < 0x80)
		return 0;
	return char_class(s, n, i, &len) == C_HYPHEN ? len : 0;
}

static bool
alnum_at(const char *s, size_t n, size_t i)
{
	size_t len;
	return i < n && char_class(s, n, i, &len) == C_ALNUM;
}

/* Top-level domains that make a two-label name ("brzozowka.example") a
 * domain. Longer names need only an alphabetic last label. Kept short on
 * purpose: "m.in", "np.it" or "plik.txt" in Polish prose are not domains. */
static const char *const known_tlds[] = {
	"at",    "biz",       "ch",   "com", "cz",   "de",      "edu",
	"eu",    "example",   "fr",   "gov", "info", "invalid", "io",
	"local", "localhost", "lt",   "net", "nl",   "org",     "pl",
	"ru",    "sk",        "test", "ua",  "uk",   "us",
};

static bool
known_tld(const char *s, size_t n)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(known_tlds); i++)
		if (strlen(known_tlds[i]) == n &&
		    !strncasecmp(known_tlds[i], s, n))
			return true;
	return false;
}

/* A domain name starting at i: ASCII labels of letters, digits and inner
 * hyphens joined by single dots. any_tld (after '@'): any alphabetic last
 * label of two or more letters; else two labels need a known top-level
 * domain. Returns the end, or 0. */
static size_t
scan_domain(const char *s, size_t n, size_t i, bool any_tld)
{
	size_t start = i, labels = 0, last = i, end = 0;

	for (;;) {
		size_t l = i;
		while (i < n &&
		       (is_ascii_alnum((unsigned char)s[i]) || s[i] == '-'))
			i++;
		if (i == l || i - l > LABEL_MAX || s[l] == '-' ||
		    s[i - 1] == '-')
			return 0;
		labels++;
		last = l;
		end = i;
		if (i + 1 < n && s[i] == '.' &&
		    is_ascii_alnum((unsigned char)s[i + 1]) &&
		    i - start < DOMAIN_MAX) {
			i++;
			continue;
		}
		break;
	}
	if (labels < 2 || end - start > DOMAIN_MAX || end - last < 2)
		return 0;
	for (size_t k = last; k < end; k++)
		if (!((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z'))
			return 0;
	if (!any_tld && labels == 2 && !known_tld(s + last, end - last))
		return 0;
	/* "gmina.pl" glued to a letter outside ASCII is not a domain. */
	if (alnum_at(s, n, end))
		return 0;
	return end;
}

static bool
is_local_char(unsigned char c)
{
	return is_ascii_alnum(c) || c == '.' || c == '_' || c == '%' ||
	       c == '+' || c == '-';
}

/* An e-mail address starting at i (an ASCII alphanumeric). Returns the
 * end, or 0. */
static size_t
scan_email(const char *s, size_t n, size_t i)
{
	size_t start = i;

	while (i < n && i - start <= EMAIL_LOCAL_MAX &&
	       is_local_char((unsigned char)s[i]))
		i++;
	if (i >= n || s[i] != '@' || i == start ||
	    i - start > EMAIL_LOCAL_MAX || s[i - 1] == '.')
		return 0;
	return scan_domain(s, n, i + 1, true);
}

/* A number starting at start whose first digit run ends at end: runs of
 * ASCII digits joined by one of . , / : - (kept), or groups of exactly
 * three digits after a space or NBSP when the integer part so far is
 * grouped that way (joined without the space). Returns the end. */
static size_t
scan_number(const char *s, size_t n, size_t start, size_t end)
{
	size_t i = end, groups = 1;
	bool spaced_ok = end - start <= 3; /* the first group has 1-3 digits */

	while (i < n && groups < NUMBER_MAX_GROUPS) {
		unsigned char c = (unsigned char)s[i];
		size_t sp = 0, j;
		unsigned fl;

		if ((c == '.' || c == ',' || c == '/' || c == ':' ||
		     c == '-') &&
		    i + 1 < n && is_digit((unsigned char)s[i + 1])) {
			j = scan_run(s, n, i + 1, &fl);
			if (!(fl & RUN_DIGITS))
				break;
			i = j;
			spaced_ok = false;
			groups++;
			continue;
		}
		if (!spaced_ok)
			break;
		if (c == ' ')
			sp = 1;
		else if (c >= 0x80 && char_class(s, n, i, &sp) != C_NUMSP)
			sp = 0;
		if (!sp || i + sp + 3 > n)
			break;
		j = i + sp;
		if (!is_digit((unsigned char)s[j]) ||
		    !is_digit((unsigned char)s[j + 1]) ||
		    !is_digit((unsigned char)s[j + 2]) || alnum_at(s, n, j + 3))
			break;
		i = j + 3;
		groups++;
	}
	return i;
}

/* A compound: runs of word characters joined by single hyphens. Returns
 * the end (end itself when there is no second part). */
static size_t
scan_compound(const char *s, size_t n, size_t end)
{
	size_t i = end, parts = 1, h;
	unsigned fl;

	while (parts < COMPOUND_MAX_PARTS) {
		h = hyphen_at(s, n, i);
		if (!h || !alnum_at(s, n, i + h))
			break;
		i = scan_run(s, n, i + h, &fl);
		parts++;
	}
	return i;
}

/* The next token at or after *pos; false at the end of the text. */
static bool
next_token(const char *s, size_t n, size_t *pos, struct tok *t)
{
	size_t i = *pos, len, end, e;
	unsigned fl;
	unsigned char c;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			if (is_ascii_alnum((unsigned char)s[i]))
				break;
			i++;
			continue;
		}
		if (char_class(s, n, i, &len) == C_ALNUM)
			break;
		i += len;
	}
	if (i >= n) {
		*pos = n;
		return false;
	}
	t->start = i;
	t->kind = TOK_WORD;
	end = scan_run(s, n, i, &fl);
	c = end < n ? (unsigned char)s[end] : 0;
	if ((fl & RUN_ASCII) && c &&
	    (c == '.' || c == '_' || c == '%' || c == '+' || c == '-' ||
	     c == '@')) {
		e = scan_email(s, n, i);
		if (e) {
			t->kind = TOK_EMAIL;
			end = e;
			goto done;
		}
	}
	if (fl & RUN_DIGITS) {
		e = scan_number(s, n, i, end);
		if (e > end) {
			t->kind = TOK_NUMBER;
			end = e;
			goto done;
		}
	}
	if ((fl & RUN_ASCII) && (c == '.' || c == '-')) {
		e = scan_domain(s, n, i, false);
		if (e) {
			t->kind = TOK_DOMAIN;
			end = e;
			goto done;
		}
	}
	e = scan_compound(s, n, end);
	if (e > end) {
		t->kind = TOK_COMPOUND;
		end = e;
	}
done:
	t->end = end;
	*pos = end;
	return true;
}

/* ---- folding ---------------------------------------------------------- */

/* Letters Unicode does not decompose but a reader sees as a base letter
 * with a stroke; ł matters, the others are cheap. Applied before case
 * folding. */
static utf8proc_int32_t
fold_custom(utf8proc_int32_t c, void *data)
{
	(void)data;
	switch (c) {
	case 0x0141:
	case 0x0142:
		return 'l'; /* Ł ł */
	case 0x0110:
	case 0x0111:
		return 'd'; /* Đ đ */
	case 0x00D8:
	case 0x00F8:
		return 'o'; /* Ø ø */
	case 0x0126:
	case 0x0127:
		return 'h'; /* Ħ ħ */
	case 0x0131:
		return 'i'; /* dotless ı */
	case 0x2010:
	case 0x2011:
		return '-';
	}
	return c;
}

#define FOLD_OPTS                                                              \
	(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |                \
	 UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)
#define FOLD_CP_MAX (FOLD_MAX_INPUT * 3)

/* Fold [s, s+n) (valid UTF-8) into out, at most cap bytes cut on a
 * character boundary. strip: the term folding (marks and ł gone), else
 * only NFKC + case fold (the form hunspell needs). Only the first
 * FOLD_MAX_INPUT bytes are read. Returns the length (0 on failure). */
static size_t
fold_into(const char *s, size_t n, bool strip, char *out, size_t cap)
{
	utf8proc_int32_t buf[FOLD_CP_MAX];
	utf8proc_option_t opts = FOLD_OPTS;
	utf8proc_ssize_t r;
	bool ascii = true;

	if (n > FOLD_MAX_INPUT)
		n = sk_utf8_clip(s, n, FOLD_MAX_INPUT);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80) {
			ascii = false;
			break;
		}
	if (ascii) {
		if (n > cap)
			n = cap;
		for (size_t i = 0; i < n; i++) {
			char c = s[i];
			out[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		return n;
	}
	if (strip)
		opts |= UTF8PROC_STRIPMARK | UTF8PROC_LUMP;
	r = utf8proc_decompose_custom((const utf8proc_uint8_t *)s,
	                              (utf8proc_ssize_t)n, buf, FOLD_CP_MAX,
	                              opts, strip ? fold_custom : NULL, NULL);
	if (r > FOLD_CP_MAX) { /* pathological decompositions: the heap */
		utf8proc_uint8_t *dst = NULL;
		r = utf8proc_map_custom((const utf8proc_uint8_t *)s,
		                        (utf8proc_ssize_t)n, &dst, opts,
		                        strip ? fold_custom : NULL, NULL);
		n = r < 0 ? 0 : sk_utf8_clip((const char *)dst, (size_t)r, cap);
		if (n)
			memcpy(out, dst, n);
		free(dst);
		return n;
	}
	if (r < 0)
		return 0;
	r = utf8proc_reencode(buf, r, opts);
	if (r < 0)
		return 0;
	n = sk_utf8_clip((const char *)buf, (size_t)r, cap);
	memcpy(out, buf, n);
	return n;
}

char *
sk_fold(struct sk_arena *a, const char *s, size_t n)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t r;
	size_t len;
	char *out;

	if (!sk_utf8_valid(s, n) || memchr(s, '\0', n))
		s = sk_utf8_sanitize(a, s, n, &n);
	r = utf8proc_map_custom(
	    (const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst,
	    FOLD_OPTS | UTF8PROC_STRIPMARK | UTF8PROC_LUMP, fold_custom, NULL);
	if (r < 0) { /* cannot happen on valid input; keep it total */
		free(dst);
		return sk_arena_strndup(a, "", 0);
	}
	len = (size_t)r;
	out = sk_arena_strndup(a, (const char *)dst, len);
	free(dst);
	return out;
}

/* ---- stop words ------------------------------------------------------- */

/* Folded, sorted (strcmp order). Short on purpose: the query compilers
 * drop these outside phrases, so a content word here would be lost. */
static const char *const stop_words[] = {
	"a",    "aby", "albo", "ale",  "ani",  "az",    "bo",   "by",   "co",
	"czy",  "dla", "do",   "gdy",  "i",    "ich",   "iz",   "jak",  "jako",
	"jego", "jej", "jest", "juz",  "lecz", "lub",   "na",   "nad",  "nie",
	"o",    "od",  "oraz", "po",   "pod",  "przez", "przy", "sa",   "sie",
	"ta",   "tak", "te",   "tego", "tej",  "ten",   "to",   "tu",   "tym",
	"u",    "w",   "we",   "wiec", "z",    "za",    "ze",   "zeby",
};

static int
stop_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

bool
sk_analyze_is_stop(const char *term, size_t len)
{
	char k[8];

	if (!len || len >= sizeof(k))
		return false;
	memcpy(k, term, len);
	k[len] = '\0';
	return bsearch(k, stop_words, SK_ARRAY_SIZE(stop_words),
	               sizeof(stop_words[0]), stop_cmp) != NULL;
}

/* ---- hashing ---------------------------------------------------------- */

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static uint64_t
hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ULL), v;

	while (n >= 8) {
		memcpy(&v, s, 8);
		h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	v = 0;
	memcpy(&v, s, n);
	return mix64(h ^ v);
}

uint64_t
sk_analyze_hash(const void *p, size_t n, uint64_t seed)
{
	return hash_bytes(p, n, seed);
}

/* ---- the restoration filter (process-wide, read-only once built) ------ */

/* A blocked Bloom filter: each key sets BLOOM_K bits in one 64-byte
 * block, so a lookup costs one cache miss. Keys: the folded ASCII form
 * (seed 1; "is there any Polish word that folds to this?") and the
 * lowercase dictionary-encoded form (seed 2; "is this candidate spelling
 * a word?"). */
#define BLOOM_K 7

struct rfilter {
	char *dict;     /* the dictionary it was built from */
	uint64_t *bits; /* nblocks * 8 words */
	size_t nblocks; /* a power of two */
	size_t keys;
};

static _Atomic(struct rfilter *) g_filter;
static pthread_mutex_t g_filter_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool g_filter_failed; /* no filter for this process */

static void
bloom_add(struct rfilter *f, uint64_t h)
{
	uint64_t *blk = f->bits + (h & (f->nblocks - 1)) * 8;
	uint64_t g = mix64(h ^ 0x5851f42d4c957f2dULL);

	for (int i = 0; i < BLOOM_K; i++) {
		unsigned bit = (unsigned)(g >> (i * 9)) & 511;
		blk[bit >> 6] |= 1ULL << (bit & 63);
	}
}

static bool
bloom_has(const struct rfilter *f, uint64_t h)
{
	const uint64_t *blk = f->bits + (h & (f->nblocks - 1)) * 8;
	uint64_t g = mix64(h ^ 0x5851f42d4c957f2dULL);

	for (int i = 0; i < BLOOM_K; i++) {
		unsigned bit = (unsigned)(g >> (i * 9)) & 511;
		if (!(blk[bit >> 6] & (1ULL << (bit & 63))))
			return false;
	}
	return true;
}

/* ---- the analyzer ----------------------------------------------------- */

/* A cache entry, byte-packed in the slab: the header, the key, then each
 * term as a length byte, the bytes and a NUL. */
struct centry {
	uint8_t kind, n, nq, keylen;
};

struct cache {
	uint64_t *slots; /* (hash >> 32) << 32 | (offset + 1); 0 = empty */
	size_t mask;
	size_t count, max_entries;
	unsigned char *slab;
	size_t used, cap, max_bytes;
};

/* The terms of one position while they are being built. */
struct exp {
	unsigned n, nq;
	uint8_t len[MAX_TERMS];
	uint16_t off[MAX_TERMS];
	size_t used;
	char buf[MAX_TERMS * (TERM_MAX + 1)];
};

struct sk_analyzer {
	char *dict; /* base path of the dictionary in use, or NULL */
	Hunhandle *hs; /* created on the first word the lexicon lacks */
	bool no_lexicon;
	iconv_t to_dic, from_dic;
	bool dic_utf8;   /* no conversion needed */
	bool restore_ok; /* single-byte dictionary with all Polish letters */
	int filter_mode; /* sk_analyzer_options.restore_filter */
	unsigned brute;  /* brute-force restorations so far */
	unsigned char upper[256], lower[256]; /* in the dictionary encoding */
	unsigned char fold[256];              /* lowercase byte -> a..z, or 0 */
	unsigned char plbyte[9]; /* ą ć ę ł ń ó ś ź ż, lowercase */
	bool is_pl[256];
	struct cache cache;
	struct sk_analyzer_stats st;
	/* An entry built outside the cache (tokens longer than KEY_MAX), one
	 * for a token and one for a part of it. */
	unsigned char scratch[2][sizeof(struct centry) + KEY_MAX +
	                         MAX_TERMS * (TERM_MAX + 2)];
	struct sk_analyzer *next, *prev; /* all live analyzers (g_mu) */
};

/* Creating and destroying hunspell handles races on a global table in
 * hunspell 1.7.1 (hunspell/hunspell#727), hence one mutex for both. It
 * also guards the list of live analyzers, which keeps the main thread's
 * analyzer reachable at exit. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sk_analyzer *g_all;
static bool g_warned;

/* base + ext into out; false when it does not fit. */
static bool
dict_path(char *out, size_t cap, const char *base, const char *ext)
{
	size_t b = strlen(base), e = strlen(ext);

	if (b + e + 1 > cap)
		return false;
	memcpy(out, base, b);
	memcpy(out + b, ext, e + 1);
	return true;
}

static const char *const default_dicts[] = {
	"/usr/share/hunspell/pl_PL",
	"/usr/share/myspell/dicts/pl_PL",
	"/usr/share/myspell/pl_PL",
};

/* ---- the cache -------------------------------------------------------- */

static const unsigned char *
entry_key(const struct centry *e)
{
	return (const unsigned char *)(e + 1);
}

static const unsigned char *
entry_terms(const struct centry *e)
{
	return entry_key(e) + e->keylen;
}

static size_t
entry_size(const struct exp *x, size_t keylen)
{
	size_t sz = sizeof(struct centry) + keylen;
	for (unsigned i = 0; i < x->n; i++)
		sz += (size_t)x->len[i] + 2;
	return sz;
}

static void
entry_write(unsigned char *p, enum tok_kind kind, const char *key,
            size_t keylen, const struct exp *x)
{
	struct centry h = { (uint8_t)kind, (uint8_t)x->n, (uint8_t)x->nq,
		            (uint8_t)keylen };
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, key, keylen);
	p += keylen;
	for (unsigned i = 0; i < x->n; i++) {
		*p++ = x->len[i];
		memcpy(p, x->buf + x->off[i], x->len[i]);
		p += x->len[i];
		*p++ = '\0';
	}
}

static void
cache_init(struct cache *c, size_t max_entries)
{
	size_t slots = 4096;

	c->max_entries = max_entries;
	c->max_bytes = max_entries * CACHE_BYTES_PER_ENTRY;
	if (c->max_bytes < 64 * 1024)
		c->max_bytes = 64 * 1024;
	c->slots = sk_xcalloc(slots, sizeof(c->slots[0]));
	c->mask = slots - 1;
	c->cap = 64 * 1024;
	c->slab = sk_xmalloc(c->cap);
	c->used = c->count = 0;
}

static void
cache_release(struct cache *c)
{
	free(c->slots);
	free(c->slab);
	memset(c, 0, sizeof(*c));
}

static void
cache_clear(struct cache *c)
{
	memset(c->slots, 0, (c->mask + 1) * sizeof(c->slots[0]));
	c->used = c->count = 0;
}

static uint64_t
key_hash(enum tok_kind kind, const char *key, size_t keylen)
{
	return hash_bytes(key, keylen, (uint64_t)kind);
}

static const struct centry *
cache_find(const struct cache *c, enum tok_kind kind, const char *key,
           size_t keylen, uint64_t h)
{
	size_t i = h & c->mask;
	uint32_t tag = (uint32_t)(h >> 32);

	for (;;) {
		uint64_t s = c->slots[i];
		const struct centry *e;

		if (!s)
			return NULL;
		if ((uint32_t)(s >> 32) == tag) {
			e = (const struct centry *)(c->slab + (uint32_t)s - 1);
			if (e->kind == kind && e->keylen == keylen &&
			    !memcmp(entry_key(e), key, keylen))
				return e;
		}
		i = (i + 1) & c->mask;
	}
}

static void
slot_put(struct cache *c, uint64_t h, size_t off)
{
	size_t i = h & c->mask;

	while (c->slots[i])
		i = (i + 1) & c->mask;
	c->slots[i] = (h >> 32 << 32) | (uint64_t)(off + 1);
}

/* Double the table (rehashing from the keys in the slab). */
static void
cache_grow_table(struct cache *c)
{
	size_t slots = (c->mask + 1) * 2;
	size_t off = 0;

	free(c->slots);
	c->slots = sk_xcalloc(slots, sizeof(c->slots[0]));
	c->mask = slots - 1;
	while (off < c->used) {
		const struct centry *e = (const struct centry *)(c->slab + off);
		const unsigned char *t = entry_terms(e);
		slot_put(
		    c, key_hash(e->kind, (const char *)entry_key(e), e->keylen),
		    off);
		for (unsigned i = 0; i < e->n; i++)
			t += (size_t)*t + 2;
		off = (size_t)(t - c->slab);
	}
}

/* Store x under the key; returns the stored entry (valid until the next
 * insertion). Clears the whole cache when it is full: on a Zipfian stream
 * the frequent words come back within a few thousand tokens. */
static const struct centry *
cache_put(struct sk_analyzer *an, enum tok_kind kind, const char *key,
          size_t keylen, uint64_t h, const struct exp *x)
{
	struct cache *c = &an->cache;
	size_t sz = entry_size(x, keylen), off;

	if (c->count >= c->max_entries || c->used + sz > c->max_bytes) {
		cache_clear(c);
		an->st.clears++;
	}
	if (c->used + sz > c->cap) {
		size_t cap = c->cap;
		while (c->used + sz > cap)
			cap *= 2;
		if (cap > c->max_bytes)
			cap = c->max_bytes;
		c->slab = sk_xrealloc(c->slab, cap);
		c->cap = cap;
	}
	if ((c->count + 1) * 2 > c->mask + 1)
		cache_grow_table(c);
	off = c->used;
	entry_write(c->slab + off, kind, key, keylen, x);
	c->used += sz;
	c->count++;
	slot_put(c, h, off);
	return (const struct centry *)(c->slab + off);
}

/* ---- building expansions ---------------------------------------------- */

static void
exp_init(struct exp *x)
{
	x->n = x->nq = 0;
	x->used = 0;
}

/* Add a term (cut to TERM_MAX on a character boundary) unless it is empty,
 * already there, or the position is full. */
static void
exp_add(struct exp *x, const char *t, size_t len)
{
	len = sk_utf8_clip(t, len, TERM_MAX);
	if (!len || x->n >= MAX_TERMS)
		return;
	for (unsigned i = 0; i < x->n; i++)
		if (x->len[i] == len && !memcmp(x->buf + x->off[i], t, len))
			return;
	memcpy(x->buf + x->used, t, len);
	x->off[x->n] = (uint16_t)x->used;
	x->len[x->n] = (uint8_t)len;
	x->used += len;
	x->n++;
}

/* Add the folded form of a UTF-8 string. */
static void
exp_add_folded(struct exp *x, const char *s, size_t n)
{
	char f[TERM_MAX];
	exp_add(x, f, fold_into(s, n, true, f, sizeof(f)));
}

/* Add every term of an entry. */
static void
exp_add_entry(struct exp *x, const struct centry *e)
{
	const unsigned char *t = entry_terms(e);
	for (unsigned i = 0; i < e->n; i++) {
		exp_add(x, (const char *)t + 1, *t);
		t += (size_t)*t + 2;
	}
}

/* UTF-8 -> the dictionary encoding; false when a character has no
 * equivalent there (such words get no lemmas). */
static bool
to_dic(struct sk_analyzer *an, const char *s, size_t n, char *out, size_t cap)
{
	char *in = (char *)s, *o = out;
	size_t il = n, ol = cap - 1;

	if (an->dic_utf8) {
		if (n >= cap)
			return false;
		memcpy(out, s, n);
		out[n] = '\0';
		return true;
	}
	iconv(an->to_dic, NULL, NULL, NULL, NULL);
	if (iconv(an->to_dic, &in, &il, &o, &ol) == (size_t)-1 || il)
		return false;
	*o = '\0';
	return true;
}

/* The dictionary encoding -> UTF-8; returns the length, 0 on failure. */
static size_t
from_dic(struct sk_analyzer *an, const char *s, char *out, size_t cap)
{
	char *in = (char *)s, *o = out;
	size_t il = strlen(s), ol = cap;

	if (an->dic_utf8) {
		if (il > cap)
			return 0;
		memcpy(out, s, il);
		return il;
	}
	iconv(an->from_dic, NULL, NULL, NULL, NULL);
	if (iconv(an->from_dic, &in, &il, &o, &ol) == (size_t)-1 || il)
		return 0;
	return (size_t)(o - out);
}

/* Add the folded stems of w (dictionary-encoded) to x. */
static void
add_stems(struct sk_analyzer *an, const char *w, struct exp *x)
{
	char **list = NULL;
	int k;

	an->st.stem_calls++;
	k = Hunspell_stem(an->hs, &list, w);
	for (int i = 0; i < k && i < MAX_STEMS; i++) {
		char u[4 * STEM_MAX_BYTES + 4];
		size_t len = from_dic(an, list[i], u, sizeof(u));
		if (len)
			exp_add_folded(x, u, len);
	}
	if (list)
		Hunspell_free_list(an->hs, &list, k);
}

/* The lowercase copy of ASCII [s, s+n). */
static void
ascii_lower_into(const char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
}

static void build_filter(struct sk_analyzer *an);

/* Install the filter saved in the lexicon as the process's filter (it is
 * the same filter build_filter would make from the same dictionary). */
static struct rfilter *
lexicon_filter(struct sk_analyzer *an)
{
	const uint64_t *bits;
	size_t nblocks, keys;
	struct rfilter *f = NULL;

	if (!an->dict || !sk_lexicon_filter(an->dict, &bits, &nblocks, &keys))
		return NULL;
	pthread_mutex_lock(&g_filter_mu);
	f = atomic_load_explicit(&g_filter, memory_order_acquire);
	if (!f) {
		f = sk_xcalloc(1, sizeof(*f));
		f->dict = sk_xstrdup(an->dict);
		f->bits = (uint64_t *)bits; /* mapped read-only: never added to */
		f->nblocks = nblocks;
		f->keys = keys;
		atomic_store_explicit(&g_filter, f, memory_order_release);
	}
	pthread_mutex_unlock(&g_filter_mu);
	return f;
}

bool
sk_analyze_filter(const char *dict, const uint64_t **bits, size_t *nblocks,
                  size_t *keys)
{
	const struct rfilter *f =
	    atomic_load_explicit(&g_filter, memory_order_acquire);

	if (!f || !dict || strcmp(f->dict, dict))
		return false;
	*bits = f->bits;
	*nblocks = f->nblocks;
	*keys = f->keys;
	return true;
}

static bool load_dictionary(struct sk_analyzer *an);

/* The hunspell handle, created on first need; false without one. */
static bool
need_hunspell(struct sk_analyzer *an)
{
	return an->hs || (an->dict && load_dictionary(an));
}

/* The lexicon's key of a plain word that is not ALL-CAPS: its ASCII
 * letters in lowercase. Such a word has the terms of its lowercase
 * spelling (the surface and the hunspell form are case folded, and
 * lowering ASCII letters keeps it out of the ALL-CAPS class), so
 * "Taryfa" and "taryfa" share an entry. ALL-CAPS words keep their bytes;
 * no key of one class equals a key of the other. */
static size_t
lexicon_key(const char *raw, size_t n, bool allcaps, char *key)
{
	if (allcaps)
		memcpy(key, raw, n);
	else
		ascii_lower_into(raw, n, key);
	return n;
}

/* Pack x's terms (length byte, bytes) for the lexicon. */
static size_t
pack_terms(const struct exp *x, unsigned char *out)
{
	size_t o = 0;
	for (unsigned i = 0; i < x->n; i++) {
		out[o++] = x->len[i];
		memcpy(out + o, x->buf + x->off[i], x->len[i]);
		o += x->len[i];
	}
	return o;
}

/* The filter if it fits this analyzer, building it first when due. */
static const struct rfilter *
filter_for(struct sk_analyzer *an)
{
	struct rfilter *f;

	if (an->filter_mode < 0)
		return NULL;
	f = atomic_load_explicit(&g_filter, memory_order_acquire);
	if (!f)
		f = lexicon_filter(an);
	if (!f && (an->filter_mode > 0 || an->brute >= RESTORE_AUTO_AFTER) &&
	    !atomic_load_explicit(&g_filter_failed, memory_order_relaxed)) {
		build_filter(an);
		f = atomic_load_explicit(&g_filter, memory_order_acquire);
	}
	if (f && strcmp(f->dict, an->dict))
		return NULL;
	return f;
}

/* Spell-check one candidate spelling (dictionary-encoded, lowercase),
 * capitalized so that proper nouns count ("lodz" -> Łódź); hunspell then
 * tries the lowercase word too. True when it is a word: its lemmas are
 * added to x. */
static bool
try_spelling(struct sk_analyzer *an, const struct rfilter *f, char *cand,
             size_t len, struct exp *x)
{
	unsigned char first = (unsigned char)cand[0];
	bool ok;

	if (f && !bloom_has(f, hash_bytes(cand, len, 2)))
		return false;
	cand[0] = (char)an->upper[first];
	an->st.spell_calls++;
	ok = Hunspell_spell(an->hs, cand) != 0;
	if (ok)
		add_stems(an, cand, x);
	cand[0] = (char)first;
	return ok;
}

/* The next d-subset of {0..k-1} in lexicographic order; false after the
 * last. */
static bool
next_subset(unsigned *idx, unsigned d, unsigned k)
{
	int j = (int)d - 1;

	while (j >= 0 && idx[j] == k - d + (unsigned)j)
		j--;
	if (j < 0)
		return false;
	idx[j]++;
	for (unsigned m = (unsigned)j + 1; m < d; m++)
		idx[m] = idx[m - 1] + 1;
	return true;
}

/* The next choice of letters for the subset (mixed radix: 'z' has two);
 * false after the last. */
static bool
next_choice(unsigned *ch, const unsigned *idx, const unsigned *nopt, unsigned d)
{
	for (int j = (int)d - 1; j >= 0; j--) {
		if (++ch[j] < nopt[idx[j]])
			return true;
		ch[j] = 0;
	}
	return false;
}

/* Diacritic restoration of w, a lowercase ASCII word of len letters: try
 * the spellings with Polish letters, fewest substitutions first (then by
 * position), up to RESTORE_MAX_CANDIDATES of them, and add the lemmas of
 * those hunspell knows. The order and the cap do not depend on the
 * filter, so neither do the results. */
static void
restore(struct sk_analyzer *an, const char *w, size_t len, struct exp *x)
{
	static const char from[] = "acelnosz";
	unsigned pos[RESTORE_MAX_LETTERS], nopt[RESTORE_MAX_LETTERS];
	unsigned idx[RESTORE_MAX_LETTERS], ch[RESTORE_MAX_LETTERS];
	unsigned char opt[RESTORE_MAX_LETTERS][2];
	unsigned k = 0, tried = 0, found = 0;
	const struct rfilter *f = filter_for(an);
	char cand[RESTORE_MAX_LETTERS + 1];

	for (size_t i = 0; i < len; i++) {
		const char *p = strchr(from, w[i]);
		if (!p)
			continue;
		pos[k] = (unsigned)i;
		opt[k][0] = an->plbyte[p - from]; /* ą ć ę ł ń ó ś ź */
		opt[k][1] = an->plbyte[8];        /* ż */
		nopt[k] = w[i] == 'z' ? 2 : 1;
		k++;
	}
	if (!k || (f && !bloom_has(f, hash_bytes(w, len, 1))))
		return;
	if (!f)
		an->brute++;
	for (unsigned d = 1; d <= k; d++) {
		for (unsigned j = 0; j < d; j++)
			idx[j] = j;
		do {
			memset(ch, 0, sizeof(ch));
			do {
				memcpy(cand, w, len);
				cand[len] = '\0';
				for (unsigned m = 0; m < d; m++)
					cand[pos[idx[m]]] =
					    (char)opt[idx[m]][ch[m]];
				if (++tried > RESTORE_MAX_CANDIDATES)
					return;
				if (try_spelling(an, f, cand, len, x) &&
				    ++found >= RESTORE_MAX_FOUND)
					return;
			} while (next_choice(ch, idx, nopt, d));
		} while (next_subset(idx, d, k));
	}
}

static const struct centry *word_entry(struct sk_analyzer *an, const char *raw,
                                       size_t n);

/* A writer that records a word with Polish letters records its spelling
 * without them too ("ścieki" -> "scieki"): readers who type without
 * diacritics then find it in the lexicon. x holds the word's terms, its
 * folded surface first. */
static void
record_unaccented(struct sk_analyzer *an, const struct exp *x)
{
	const char *f = x->buf + x->off[0];
	size_t n = x->len[0];

	if (!n || n > RESTORE_MAX_LETTERS)
		return;
	for (size_t i = 0; i < n; i++)
		if (f[i] < 'a' || f[i] > 'z')
			return;
	if (!sk_lexicon_known(an->dict, f, n))
		word_entry(an, f, n); /* expands and records it */
}

/* The expansion of a plain word: surface, lemmas, restorations. */
static void
expand_word(struct sk_analyzer *an, const char *raw, size_t n, struct exp *x)
{
	char low[4 * STEM_MAX_BYTES], form[4 * STEM_MAX_BYTES + 8];
	char dic[4 * STEM_MAX_BYTES + 8], key[4 * STEM_MAX_BYTES];
	unsigned char packed[MAX_TERMS * (TERM_MAX + 1)];
	const unsigned char *lt;
	size_t lowlen, keylen, i;
	unsigned upper = 0, lower = 0, nlt;
	bool ascii_lower = true, allcaps;

	exp_add_folded(x, raw, n);
	if (!x->n || !an->dict || n > 4 * STEM_MAX_BYTES)
		goto out;
	/* Case class, and no lemmas for words with digits. */
	for (i = 0; i < n;) {
		uint32_t cp;
		size_t l = sk_utf8_next(raw + i, n - i, &cp);
		if (cp < 0x80) {
			if (is_digit((unsigned char)cp))
				goto out;
			if (cp >= 'A' && cp <= 'Z')
				upper++;
			else
				lower++;
		} else {
			utf8proc_category_t cat =
			    utf8proc_category((utf8proc_int32_t)cp);
			ascii_lower = false;
			if (cat >= UTF8PROC_CATEGORY_ND &&
			    cat <= UTF8PROC_CATEGORY_NO)
				goto out;
			if (utf8proc_isupper((utf8proc_int32_t)cp))
				upper++;
			else if (utf8proc_islower((utf8proc_int32_t)cp))
				lower++;
		}
		i += l;
	}
	lowlen = fold_into(raw, n, false, low, sizeof(low));
	if (!lowlen || lowlen > STEM_MAX_BYTES)
		goto out;
	/* Past here the word needs hunspell: the lexicon may know it. */
	allcaps = upper >= 2 && !lower;
	keylen = lexicon_key(raw, n, allcaps, key);
	if (!an->no_lexicon &&
	    sk_lexicon_find(an->dict, key, keylen, &lt, &nlt)) {
		an->st.lexicon_hits++;
		exp_init(x);
		for (unsigned k = 0; k < nlt; k++) {
			exp_add(x, (const char *)lt + 1, *lt);
			lt += (size_t)*lt + 1;
		}
		if (!ascii_lower && sk_lexicon_recording())
			record_unaccented(an, x);
		goto out;
	}
	if (!need_hunspell(an))
		goto out;
	/* ALL-CAPS (two or more capitals, nothing lowercase) is an acronym or
	 * shouting: lowercase lookup only, no proper nouns, no restoration.
	 * Otherwise look the word up capitalized: hunspell then also tries it
	 * in lowercase, and a proper noun is found whatever the case typed. */
	if (allcaps) {
		memcpy(form, low, lowlen);
		form[lowlen] = '\0';
	} else {
		uint32_t cp;
		size_t l = sk_utf8_next(low, lowlen, &cp);
		size_t ul = sk_utf8_encode(
		    (uint32_t)utf8proc_toupper((utf8proc_int32_t)cp), form);
		memcpy(form + ul, low + l, lowlen - l);
		form[ul + lowlen - l] = '\0';
	}
	if (to_dic(an, form, strlen(form), dic, sizeof(dic)))
		add_stems(an, dic, x);
	if (!an->restore_ok || allcaps || !ascii_lower ||
	    lowlen > RESTORE_MAX_LETTERS)
		goto record;
	for (i = 0; i < lowlen; i++)
		if (low[i] < 'a' || low[i] > 'z')
			goto record;
	restore(an, low, lowlen, x);
record:
	if (!an->no_lexicon &&
	    sk_lexicon_record(an->dict, key, keylen, x->n, packed,
	                      pack_terms(x, packed)) &&
	    !ascii_lower)
		record_unaccented(an, x);
out:
	x->nq = x->n;
}

/* word_entry: look up or build the expansion of a plain word, into the
 * cache when the key is short enough, else into scratch[1]. */

/* Index-only parts of a domain [s, s+n) (ASCII): its parent domains of two
 * or more labels and the expansion of each alphanumeric run of its labels,
 * except a known top-level label. */
static void
add_domain_parts(struct sk_analyzer *an, const char *s, size_t n, struct exp *x)
{
	char low[DOMAIN_MAX + 1];
	size_t last = 0, i, run;

	if (n > DOMAIN_MAX)
		n = DOMAIN_MAX;
	ascii_lower_into(s, n, low);
	for (i = 0; i < n; i++)
		if (low[i] == '.')
			last = i + 1;
	/* parents: everything after a dot that still has a dot */
	for (i = 0; i < n; i++)
		if (low[i] == '.' && memchr(low + i + 1, '.', n - i - 1))
			exp_add(x, low + i + 1, n - i - 1);
	for (i = 0; i < n;) {
		if (!is_ascii_alnum((unsigned char)low[i])) {
			i++;
			continue;
		}
		run = i;
		while (i < n && is_ascii_alnum((unsigned char)low[i]))
			i++;
		if (run == last && known_tld(low + run, i - run))
			continue;
		exp_add_entry(x, word_entry(an, s + run, i - run));
	}
}

static void
expand_email(struct sk_analyzer *an, const char *s, size_t n, struct exp *x)
{
	char low[EMAIL_LOCAL_MAX + DOMAIN_MAX + 2];
	const char *at = memchr(s, '@', n);
	size_t local = (size_t)(at - s), i, run;

	ascii_lower_into(s, n, low);
	exp_add(x, low, n);
	x->nq = x->n;
	exp_add(x, low, local);
	exp_add(x, low + local + 1, n - local - 1);
	for (i = 0; i < local;) {
		if (!is_ascii_alnum((unsigned char)low[i])) {
			i++;
			continue;
		}
		run = i;
		while (i < local && is_ascii_alnum((unsigned char)low[i]))
			i++;
		exp_add_entry(x, word_entry(an, s + run, i - run));
	}
	add_domain_parts(an, s + local + 1, n - local - 1, x);
}

static void
expand_domain(struct sk_analyzer *an, const char *s, size_t n, struct exp *x)
{
	char low[DOMAIN_MAX];

	ascii_lower_into(s, n, low);
	exp_add(x, low, n);
	x->nq = x->n;
	add_domain_parts(an, s, n, x);
}

static void
expand_number(const char *s, size_t n, struct exp *x)
{
	char whole[TERM_MAX] = { 0 };
	size_t w = 0, i = 0;

	while (i < n && w < sizeof(whole)) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80 && c != ' ')
			whole[w++] = (char)c;
		i++;
	}
	exp_add(x, whole, w);
	x->nq = x->n;
	for (i = 0; i < n;) {
		size_t run = i;
		while (i < n && is_digit((unsigned char)s[i]))
			i++;
		if (i > run)
			exp_add(x, s + run, i - run);
		else
			i++;
	}
}

/* A compound: the whole, then the parts' readings joined with hyphens
 * ("wodno" + {sciekowej, sciekowy} -> "wodno-sciekowy"), so that two
 * inflections of one compound meet; the parts themselves are index only. */
static void
expand_compound(struct sk_analyzer *an, const char *s, size_t n, struct exp *x)
{
	struct exp *part = sk_xmalloc(sizeof(*part) * COMPOUND_MAX_PARTS);
	unsigned np = 0, pick[COMPOUND_MAX_PARTS] = { 0 }, joined = 0;
	size_t i = 0;

	exp_add_folded(x, s, n);
	/* each part's own expansion */
	while (i < n && np < COMPOUND_MAX_PARTS) {
		unsigned fl;
		size_t e = scan_run(s, n, i, &fl), h;
		exp_init(&part[np]);
		exp_add_entry(&part[np], word_entry(an, s + i, e - i));
		if (part[np].n)
			np++;
		h = hyphen_at(s, n, e);
		i = e + (h ? h : 1);
	}
	for (;;) {
		char j[TERM_MAX * COMPOUND_MAX_PARTS + COMPOUND_MAX_PARTS];
		size_t jl = 0;
		int k;

		for (unsigned p = 0; p < np; p++) {
			if (p)
				j[jl++] = '-';
			memcpy(j + jl, part[p].buf + part[p].off[pick[p]],
			       part[p].len[pick[p]]);
			jl += part[p].len[pick[p]];
		}
		exp_add(x, j, jl);
		if (++joined >= COMPOUND_MAX_JOINED)
			break;
		for (k = (int)np - 1; k >= 0; k--) {
			if (++pick[k] < part[k].n)
				break;
			pick[k] = 0;
		}
		if (k < 0)
			break;
	}
	x->nq = x->n;
	for (unsigned p = 0; p < np; p++)
		for (unsigned t = 0; t < part[p].n; t++)
			exp_add(x, part[p].buf + part[p].off[t],
			        part[p].len[t]);
	free(part);
}

static void
expand(struct sk_analyzer *an, enum tok_kind kind, const char *raw, size_t n,
       struct exp *x)
{
	exp_init(x);
	switch (kind) {
	case TOK_WORD:
		expand_word(an, raw, n, x);
		break;
	case TOK_NUMBER:
		expand_number(raw, n, x);
		break;
	case TOK_EMAIL:
		expand_email(an, raw, n, x);
		break;
	case TOK_DOMAIN:
		expand_domain(an, raw, n, x);
		break;
	case TOK_COMPOUND:
		expand_compound(an, raw, n, x);
		break;
	}
}

/* The entry for a token: from the cache, or built (and cached when the
 * key is at most KEY_MAX bytes, else built in scratch[slot]). */
static const struct centry *
token_entry(struct sk_analyzer *an, enum tok_kind kind, const char *raw,
            size_t n, int slot)
{
	const struct centry *e;
	struct exp x;
	uint64_t h = 0;

	an->st.lookups++;
	if (n <= KEY_MAX) {
		h = key_hash(kind, raw, n);
		e = cache_find(&an->cache, kind, raw, n, h);
		if (e) {
			an->st.hits++;
			return e;
		}
	}
	an->st.misses++;
	expand(an, kind, raw, n, &x);
	if (n <= KEY_MAX)
		return cache_put(an, kind, raw, n, h, &x);
	entry_write(an->scratch[slot], kind, "", 0, &x);
	return (const struct centry *)an->scratch[slot];
}

static const struct centry *
word_entry(struct sk_analyzer *an, const char *raw, size_t n)
{
	return token_entry(an, TOK_WORD, raw, n, 1);
}

uint32_t
sk_analyze(struct sk_analyzer *an, const char *text, size_t n,
           enum sk_analyze_mode mode, sk_term_fn *fn, void *ctx)
{
	size_t i = 0;
	uint32_t pos = 0;
	struct tok t;

	if (!text)
		return 0;
	while (pos < UINT32_MAX && next_token(text, n, &i, &t)) {
		const struct centry *e =
		    token_entry(an, t.kind, text + t.start, t.end - t.start, 0);
		unsigned cnt = mode == SK_ANALYZE_QUERY ? e->nq : e->n;
		const unsigned char *p = entry_terms(e);

		if (!cnt)
			continue;
		for (unsigned k = 0; k < cnt; k++) {
			if (fn(ctx, (const char *)p + 1, *p, pos, t.start,
			       t.end, k > 0))
				return pos + 1;
			p += (size_t)*p + 2;
		}
		pos++;
	}
	return pos;
}

/* ---- building the restoration filter ---------------------------------- */

/* One affix rule of the .aff file. */
struct affix {
	bool pfx, cross;
	unsigned char strip[16], add[32];
	size_t nstrip, nadd;
	uint64_t (*cond)[4]; /* one 256-bit set per condition character */
	size_t ncond;
};

struct affixes {
	struct affix *v;
	size_t n, cap;
	size_t *byflag[256], nbyflag[256], capbyflag[256]; /* rule indices */
	size_t *pfx[256], npfx[256]; /* prefix rules only */
	/* Suffix rules by flag and by the last byte their condition admits:
	 * sfx_idx[sfx_start[flag][b] .. sfx_start[flag][b + 1]). */
	uint32_t (*sfx_start)[257];
	uint32_t *sfx_idx;
};

static bool
cond_has(const uint64_t set[4], unsigned char c)
{
	return set[c >> 6] >> (c & 63) & 1;
}

/* Parse a hunspell condition ("[^l]ąc", ".", "y") into sets. */
static bool
parse_cond(const char *s, struct affix *a)
{
	size_t n = strlen(s), k = 0;

	a->cond = sk_xcalloc(n + 1, sizeof(*a->cond));
	for (size_t i = 0; i < n; k++) {
		uint64_t *set = a->cond[k];
		if (s[i] == '.') {
			memset(set, 0xff, 4 * sizeof(uint64_t));
			i++;
		} else if (s[i] == '[') {
			bool neg = s[i + 1] == '^';
			size_t j = i + 1 + neg;
			uint64_t m[4] = { 0 };
			while (j < n && s[j] != ']') {
				unsigned char c = (unsigned char)s[j++];
				m[c >> 6] |= 1ULL << (c & 63);
			}
			if (j >= n)
				return false;
			for (int w = 0; w < 4; w++)
				set[w] = neg ? ~m[w] : m[w];
			i = j + 1;
		} else {
			unsigned char c = (unsigned char)s[i++];
			set[c >> 6] |= 1ULL << (c & 63);
		}
	}
	a->ncond = k;
	return true;
}

static void
affixes_release(struct affixes *A)
{
	for (size_t i = 0; i < A->n; i++)
		free(A->v[i].cond);
	free(A->v);
	for (int f = 0; f < 256; f++)
		free(A->byflag[f]);
	for (int f = 0; f < 256; f++)
		free(A->pfx[f]);
	free(A->sfx_start);
	free(A->sfx_idx);
}

/* The suffix buckets: an entry only meets the rules whose condition ends
 * in its last byte (about 1 in 20 of its flags' rules). */
static void
bucket_suffixes(struct affixes *A)
{
	size_t total = 0;

	A->sfx_start = sk_xcalloc(256, sizeof(*A->sfx_start));
	for (int fl = 0; fl < 256; fl++) {
		for (size_t r = 0; r < A->nbyflag[fl]; r++)
			if (A->v[A->byflag[fl][r]].pfx) {
				A->pfx[fl] =
				    sk_xrealloc(A->pfx[fl], (A->npfx[fl] + 1) *
				                                sizeof(size_t));
				A->pfx[fl][A->npfx[fl]++] = A->byflag[fl][r];
			}
	}
	/* count into sfx_start[fl][b + 1] */
	for (int fl = 0; fl < 256; fl++)
		for (size_t r = 0; r < A->nbyflag[fl]; r++) {
			const struct affix *a = &A->v[A->byflag[fl][r]];
			for (int b = 0; b < 256 && !a->pfx; b++)
				if (!a->ncond || cond_has(a->cond[a->ncond - 1],
				                          (unsigned char)b)) {
					A->sfx_start[fl][b + 1]++;
					total++;
				}
		}
	A->sfx_idx = sk_xmalloc((total ? total : 1) * sizeof(uint32_t));
	/* counts -> starts; filling moves [b + 1] to the end of bucket b */
	total = 0;
	for (int fl = 0; fl < 256; fl++) {
		uint32_t *st = A->sfx_start[fl];
		st[0] = (uint32_t)total;
		for (int b = 0; b < 256; b++) {
			uint32_t c = st[b + 1];
			st[b + 1] = (uint32_t)total;
			total += c;
		}
		for (size_t r = 0; r < A->nbyflag[fl]; r++) {
			const struct affix *a = &A->v[A->byflag[fl][r]];
			for (int b = 0; b < 256 && !a->pfx; b++)
				if (!a->ncond || cond_has(a->cond[a->ncond - 1],
				                          (unsigned char)b))
					A->sfx_idx[st[b + 1]++] =
					    (uint32_t)A->byflag[fl][r];
		}
	}
}

/* The next line of a NUL-terminated buffer, cut in place; NULL at the
 * end. */
static char *
next_line(char **p)
{
	char *s = *p, *e;

	if (!*s)
		return NULL;
	e = strchr(s, '\n');
	if (e) {
		*e = '\0';
		*p = e + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

/* Split a line in place on blanks into at most max fields. */
static int
split_fields(char *s, char **f, int max)
{
	int n = 0;

	while (*s && n < max) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			*s++ = '\0';
		if (!*s)
			break;
		f[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
	}
	while (*s == ' ' || *s == '\t' || *s == '\r')
		*s++ = '\0';
	return n;
}

static void
add_rule_index(struct affixes *A, unsigned char fl, size_t i)
{
	if (A->nbyflag[fl] == A->capbyflag[fl]) {
		A->capbyflag[fl] = A->capbyflag[fl] ? A->capbyflag[fl] * 2 : 16;
		A->byflag[fl] = sk_xrealloc(A->byflag[fl],
		                            A->capbyflag[fl] * sizeof(size_t));
	}
	A->byflag[fl][A->nbyflag[fl]++] = i;
}

/* Read the .aff file (single-character flags). False when it uses anything
 * that makes hunspell accept forms we would not generate — compounding,
 * continuation classes, other flag types, input conversion — and then no
 * filter is built. */
static bool
parse_aff(char *text, struct affixes *A)
{
	/* Directives that only steer suggestions, charsets or rejections. */
	static const char *const harmless[] = {
		"SET",           "TRY",          "MAP",         "KEY",
		"REP",           "WORDCHARS",    "NOSUGGEST",   "MAXDIFF",
		"ONLYMAXDIFF",   "MAXNGRAMSUGS", "NOSPLITSUGS", "SUGSWITHDOTS",
		"NAME",          "VERSION",      "HOME",        "LANG",
		"FORBIDDENWORD", "PHONE",        "MAXCPDSUGS",  "BREAK",
	};
	char *p = text, *line;
	size_t left = 0; /* rules still to come after the last header */
	bool left_pfx = false, cross = false;
	unsigned char left_flag = 0;

	while ((line = next_line(&p)) != NULL) {
		char *f[6];
		int nf = split_fields(line, f, 6);
		bool pfx;
		struct affix *a;

		if (!nf || f[0][0] == '#')
			continue;
		pfx = !strcmp(f[0], "PFX");
		if (!pfx && strcmp(f[0], "SFX")) {
			bool ok = false;
			for (size_t i = 0; i < SK_ARRAY_SIZE(harmless); i++)
				if (!strcmp(f[0], harmless[i]))
					ok = true;
			if (!ok)
				return false;
			continue;
		}
		if (nf < 4 || strlen(f[1]) != 1)
			return false;
		if (!left) { /* a header: PFX flag Y|N count */
			left = strtoul(f[3], NULL, 10);
			left_pfx = pfx;
			left_flag = (unsigned char)f[1][0];
			cross = f[2][0] == 'Y';
			continue;
		}
		if (pfx != left_pfx || (unsigned char)f[1][0] != left_flag ||
		    strchr(f[3], '/'))
			return false; /* continuation classes */
		left--;
		if (A->n == A->cap) {
			A->cap = A->cap ? A->cap * 2 : 1024;
			A->v = sk_xrealloc(A->v, A->cap * sizeof(*A->v));
		}
		a = &A->v[A->n];
		memset(a, 0, sizeof(*a));
		a->pfx = pfx;
		a->cross = cross;
		if (strcmp(f[2], "0")) {
			a->nstrip = strlen(f[2]);
			if (a->nstrip > sizeof(a->strip))
				return false;
			memcpy(a->strip, f[2], a->nstrip);
		}
		if (strcmp(f[3], "0")) {
			a->nadd = strlen(f[3]);
			if (a->nadd > sizeof(a->add))
				return false;
			memcpy(a->add, f[3], a->nadd);
		}
		A->n++;
		if (!parse_cond(nf > 4 ? f[4] : ".", a))
			return false;
		add_rule_index(A, left_flag, A->n - 1);
	}
	return true;
}

static bool
sfx_applies(const struct affix *a, const unsigned char *w, size_t n)
{
	if (n < a->ncond || n < a->nstrip)
		return false;
	for (size_t i = 0; i < a->nstrip; i++)
		if (w[n - a->nstrip + i] != a->strip[i])
			return false;
	for (size_t i = 0; i < a->ncond; i++)
		if (!cond_has(a->cond[i], w[n - a->ncond + i]))
			return false;
	return true;
}

static bool
pfx_applies(const struct affix *a, const unsigned char *w, size_t n)
{
	if (n < a->ncond || n < a->nstrip)
		return false;
	for (size_t i = 0; i < a->nstrip; i++)
		if (w[i] != a->strip[i])
			return false;
	for (size_t i = 0; i < a->ncond; i++)
		if (!cond_has(a->cond[i], w[i]))
			return false;
	return true;
}

#define FBATCH 64

struct fbuild {
	struct sk_analyzer *an;
	struct rfilter *f;
	uint64_t pending[FBATCH]; /* hashes whose blocks are being fetched */
	size_t npending;
};

/* Add the pending keys; their blocks were prefetched when queued, so the
 * cache misses overlap instead of coming one by one. */
static void
filter_flush(struct fbuild *b)
{
	for (size_t i = 0; i < b->npending; i++)
		bloom_add(b->f, b->pending[i]);
	b->npending = 0;
}

static void
filter_queue(struct fbuild *b, uint64_t h)
{
	if (b->npending == FBATCH)
		filter_flush(b);
	__builtin_prefetch(b->f->bits + (h & (b->f->nblocks - 1)) * 8, 1);
	b->pending[b->npending++] = h;
}

/* Add one dictionary form (any case) to the filter when it has a Polish
 * letter and otherwise only ASCII letters. */
static void
filter_form(struct fbuild *b, const unsigned char *w, size_t n)
{
	unsigned char low[128], fold[128];
	bool pl = false;

	if (n > RESTORE_MAX_LETTERS || n >= sizeof(low))
		return;
	for (size_t i = 0; i < n; i++) {
		low[i] = b->an->lower[w[i]];
		fold[i] = b->an->fold[low[i]];
		if (!fold[i])
			return;
		pl |= b->an->is_pl[low[i]];
	}
	if (!pl)
		return;
	filter_queue(b, hash_bytes(fold, n, 1));
	filter_queue(b, hash_bytes(low, n, 2));
	b->f->keys += 2;
}

/* Every form of one .dic entry: the root, root+suffix, prefix+root and,
 * where both rules allow it, prefix+root+suffix. */
static void
filter_entry(struct fbuild *b, const struct affixes *A, const unsigned char *w,
             size_t n, const unsigned char *flags, size_t nflags)
{
	unsigned char form[256], cross[320];

	filter_form(b, w, n);
	for (size_t fi = 0; fi < nflags; fi++) {
		unsigned char fl = flags[fi];
		const uint32_t *st = A->sfx_start[fl];
		for (uint32_t r = n ? st[w[n - 1]] : 0;
		     n && r < st[w[n - 1] + 1]; r++) {
			const struct affix *a = &A->v[A->sfx_idx[r]];
			size_t m;

			if (a->pfx || !sfx_applies(a, w, n))
				continue;
			m = n - a->nstrip;
			if (m + a->nadd > sizeof(form))
				continue;
			memcpy(form, w, m);
			memcpy(form + m, a->add, a->nadd);
			m += a->nadd;
			filter_form(b, form, m);
			if (!a->cross)
				continue;
			for (size_t pj = 0; pj < nflags; pj++) {
				unsigned char pf = flags[pj];
				for (size_t q = 0; q < A->npfx[pf]; q++) {
					const struct affix *p =
					    &A->v[A->pfx[pf][q]];
					size_t c;
					if (!p->pfx || !p->cross ||
					    !pfx_applies(p, w, n) ||
					    p->nstrip > m ||
					    p->nadd + m > sizeof(cross))
						continue;
					memcpy(cross, p->add, p->nadd);
					memcpy(cross + p->nadd,
					       form + p->nstrip, m - p->nstrip);
					c = p->nadd + m - p->nstrip;
					filter_form(b, cross, c);
				}
			}
		}
	}
	for (size_t fi = 0; fi < nflags; fi++) {
		unsigned char fl = flags[fi];
		for (size_t r = 0; r < A->npfx[fl]; r++) {
			const struct affix *a = &A->v[A->pfx[fl][r]];
			size_t m;
			if (!pfx_applies(a, w, n) ||
			    a->nadd + n - a->nstrip > sizeof(form))
				continue;
			memcpy(form, a->add, a->nadd);
			memcpy(form + a->nadd, w + a->nstrip, n - a->nstrip);
			m = a->nadd + n - a->nstrip;
			filter_form(b, form, m);
		}
	}
}

static size_t
next_pow2(size_t v)
{
	size_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

/* Build the process-wide filter from an's dictionary (once; a thread that
 * finds another building it goes on without). */
static void
build_filter(struct sk_analyzer *an)
{
	struct affixes A;
	struct rfilter *f = NULL;
	struct fbuild b;
	char path[4096], *aff = NULL, *dic = NULL, *p, *line;
	size_t len, entries;
	bool ok = false;

	if (!an->restore_ok || pthread_mutex_trylock(&g_filter_mu))
		return;
	if (atomic_load(&g_filter_failed) ||
	    atomic_load_explicit(&g_filter, memory_order_acquire))
		goto unlock;
	memset(&A, 0, sizeof(A));
	if (!dict_path(path, sizeof(path), an->dict, ".aff") ||
	    sk_read_file(path, 16u << 20, &aff, &len, NULL) != SK_OK)
		goto done;
	if (!dict_path(path, sizeof(path), an->dict, ".dic") ||
	    sk_read_file(path, 256u << 20, &dic, &len, NULL) != SK_OK)
		goto done;
	if (!parse_aff(aff, &A))
		goto done;
	bucket_suffixes(&A);
	entries = strtoul(dic, NULL, 10);
	if (entries < 1000)
		entries = 1000;
	f = sk_xcalloc(1, sizeof(*f));
	/* About 13 forms per entry in pl_PL, two keys per form with a Polish
	 * letter: 16 bytes an entry keeps the false positives near 1%. */
	f->nblocks = next_pow2(entries * 16 / 64);
	f->bits = sk_xcalloc(f->nblocks * 8, sizeof(uint64_t));
	f->dict = sk_xstrdup(an->dict);
	b.an = an;
	b.f = f;
	b.npending = 0;
	p = dic;
	next_line(&p); /* the count */
	while ((line = next_line(&p)) != NULL) {
		char *slash = NULL, *e = line;
		size_t wl, fl = 0;

		/* "word/FLAGS", maybe followed by morphology after a tab */
		while (*e && *e != '\t' && *e != ' ' && *e != '\r') {
			if (*e == '/' && e > line && e[-1] != '\\' && !slash)
				slash = e;
			e++;
		}
		wl = (size_t)((slash ? slash : e) - line);
		if (slash)
			fl = (size_t)(e - slash - 1);
		filter_entry(&b, &A, (const unsigned char *)line, wl,
		             (const unsigned char *)(slash ? slash + 1 : e),
		             fl);
	}
	filter_flush(&b);
	ok = true;
done:
	affixes_release(&A);
	free(aff);
	free(dic);
	if (ok) {
		atomic_store_explicit(&g_filter, f, memory_order_release);
	} else {
		atomic_store(&g_filter_failed, true);
		if (f) {
			free(f->bits);
			free(f->dict);
			free(f);
		}
	}
unlock:
	pthread_mutex_unlock(&g_filter_mu);
}

/* ---- creating analyzers ----------------------------------------------- */

/* Tables for a single-byte dictionary encoding: case mapping, the folded
 * letter, and the bytes of the Polish letters. Leaves restore_ok false
 * when the encoding is not single-byte or lacks a Polish letter. */
static void
init_tables(struct sk_analyzer *an)
{
	static const char *const pl[9] = { "ą", "ć", "ę", "ł", "ń",
		                           "ó", "ś", "ź", "ż" };
	char out[8];

	for (int b = 0; b < 256; b++) {
		an->upper[b] = an->lower[b] = (unsigned char)b;
		an->fold[b] = 0;
	}
	if (an->dic_utf8)
		return;
	for (int b = 1; b < 256; b++) {
		char in[2] = { (char)b, 0 }, u[8], *ip = in, *op = u;
		size_t il = 1, ol = sizeof(u), ul;
		uint32_t cp;
		char enc[8];

		iconv(an->from_dic, NULL, NULL, NULL, NULL);
		if (iconv(an->from_dic, &ip, &il, &op, &ol) == (size_t)-1)
			continue;
		ul = (size_t)(op - u);
		if (sk_utf8_next(u, ul, &cp) != ul)
			continue;
		/* upper and lower, when they exist as one byte */
		for (int up = 0; up < 2; up++) {
			utf8proc_int32_t m =
			    up ? utf8proc_toupper((utf8proc_int32_t)cp)
			       : utf8proc_tolower((utf8proc_int32_t)cp);
			size_t ml = sk_utf8_encode((uint32_t)m, enc);
			enc[ml] = '\0';
			if (to_dic(an, enc, ml, out, sizeof(out)) &&
			    strlen(out) == 1) {
				if (up)
					an->upper[b] = (unsigned char)out[0];
				else
					an->lower[b] = (unsigned char)out[0];
			}
		}
		if (b >= 'a' && b <= 'z')
			an->fold[b] = (unsigned char)b;
	}
	for (int i = 0; i < 9; i++) {
		unsigned char c;
		char f[8];
		if (!to_dic(an, pl[i], strlen(pl[i]), out, sizeof(out)) ||
		    strlen(out) != 1)
			return;
		c = (unsigned char)out[0];
		an->plbyte[i] = c;
		an->is_pl[c] = true;
		if (fold_into(pl[i], strlen(pl[i]), true, f, sizeof(f)) != 1)
			return;
		an->fold[c] = (unsigned char)f[0];
	}
	an->restore_ok = true;
}

/* Find the dictionary's files (an->dict); hunspell loads them later. */
static void
find_dictionary(struct sk_analyzer *an, const char *base)
{
	char aff[4096], dic[4096];

	if (base) {
		if (!dict_path(aff, sizeof(aff), base, ".aff") ||
		    !dict_path(dic, sizeof(dic), base, ".dic") ||
		    access(aff, R_OK) || access(dic, R_OK))
			return;
	} else {
		for (size_t i = 0; i < SK_ARRAY_SIZE(default_dicts); i++) {
			dict_path(aff, sizeof(aff), default_dicts[i], ".aff");
			dict_path(dic, sizeof(dic), default_dicts[i], ".dic");
			if (!access(aff, R_OK) && !access(dic, R_OK)) {
				base = default_dicts[i];
				break;
			}
		}
		if (!base)
			return;
	}
	an->dict = sk_xstrdup(base);
}

/* Create the hunspell handle for an->dict, its iconv pair and tables.
 * On failure the analyzer goes on without lemmas (an->dict cleared). */
static bool
load_dictionary(struct sk_analyzer *an)
{
	char aff[4096], dic[4096];
	const char *enc;

	if (!dict_path(aff, sizeof(aff), an->dict, ".aff") ||
	    !dict_path(dic, sizeof(dic), an->dict, ".dic"))
		goto fail;
	pthread_mutex_lock(&g_mu);
	an->hs = Hunspell_create(aff, dic);
	pthread_mutex_unlock(&g_mu);
	if (!an->hs)
		goto fail;
	enc = Hunspell_get_dic_encoding(an->hs);
	if (!enc || !strcasecmp(enc, "UTF-8") || !strcasecmp(enc, "UTF8")) {
		an->dic_utf8 = true;
	} else {
		an->to_dic = iconv_open(enc, "UTF-8");
		an->from_dic = iconv_open("UTF-8", enc);
		if (an->to_dic == (iconv_t)-1 || an->from_dic == (iconv_t)-1) {
			if (an->to_dic != (iconv_t)-1)
				iconv_close(an->to_dic);
			if (an->from_dic != (iconv_t)-1)
				iconv_close(an->from_dic);
			an->to_dic = an->from_dic = (iconv_t)-1;
			pthread_mutex_lock(&g_mu);
			Hunspell_destroy(an->hs);
			pthread_mutex_unlock(&g_mu);
			an->hs = NULL;
			goto fail;
		}
	}
	init_tables(an);
	return true;
fail:
	sk_log(SK_LOG_WARNING, "cannot load the dictionary %s: search "
	                       "without lemmas",
	       an->dict);
	free(an->dict);
	an->dict = NULL;
	return false;
}

struct sk_analyzer *
sk_analyzer_new(const struct sk_analyzer_options *opt)
{
	struct sk_analyzer *an = sk_xcalloc(1, sizeof(*an));
	size_t entries = opt && opt->cache_entries ? opt->cache_entries
	                                           : CACHE_DEFAULT_ENTRIES;

	an->to_dic = an->from_dic = (iconv_t)-1;
	an->filter_mode = opt ? opt->restore_filter : 0;
	an->no_lexicon = opt && opt->no_lexicon;
	find_dictionary(an, opt ? opt->dictionary : NULL);
	if (!an->dict && (!opt || !opt->dictionary)) {
		pthread_mutex_lock(&g_mu);
		if (!g_warned)
			sk_log(SK_LOG_WARNING,
			       "hunspell-pl not found: search without lemmas");
		g_warned = true;
		pthread_mutex_unlock(&g_mu);
	}
	if (entries < 16)
		entries = 16;
	if (entries > 20000000) /* slab offsets are 32-bit */
		entries = 20000000;
	cache_init(&an->cache, entries);
	if (an->filter_mode > 0 && need_hunspell(an))
		build_filter(an);
	pthread_mutex_lock(&g_mu);
	an->next = g_all;
	if (g_all)
		g_all->prev = an;
	g_all = an;
	pthread_mutex_unlock(&g_mu);
	return an;
}

void
sk_analyzer_free(struct sk_analyzer **anp)
{
	struct sk_analyzer *an = *anp;

	if (!an)
		return;
	pthread_mutex_lock(&g_mu);
	if (an->hs)
		Hunspell_destroy(an->hs);
	if (an->prev)
		an->prev->next = an->next;
	else
		g_all = an->next;
	if (an->next)
		an->next->prev = an->prev;
	pthread_mutex_unlock(&g_mu);
	if (an->to_dic != (iconv_t)-1)
		iconv_close(an->to_dic);
	if (an->from_dic != (iconv_t)-1)
		iconv_close(an->from_dic);
	cache_release(&an->cache);
	free(an->dict);
	free(an);
	*anp = NULL;
}

bool
sk_analyzer_has_lemmas(struct sk_analyzer *an)
{
	return need_hunspell(an);
}

void
sk_analyzer_get_stats(struct sk_analyzer *an, struct sk_analyzer_stats *st)
{
	const struct rfilter *f =
	    atomic_load_explicit(&g_filter, memory_order_acquire);

	*st = an->st;
	st->cache_entries = an->cache.count;
	st->cache_bytes = an->cache.cap + (an->cache.mask + 1) * 8;
	st->restore_filter =
	    an->filter_mode >= 0 && f && an->dict && !strcmp(f->dict, an->dict);
	st->hunspell = an->hs != NULL;
}

void
sk_analyzer_clear_cache(struct sk_analyzer *an)
{
	cache_clear(&an->cache);
}

static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;

static void
thread_free(void *p)
{
	struct sk_analyzer *an = p;
	sk_analyzer_free(&an);
}

static void
key_init(void)
{
	if (pthread_key_create(&g_key, thread_free))
		SK_BUG("pthread_key_create failed");
}

struct sk_analyzer *
sk_analyzer_thread(void)
{
	struct sk_analyzer *an;

	pthread_once(&g_key_once, key_init);
	an = pthread_getspecific(g_key);
	if (!an) {
		an = sk_analyzer_new(NULL);
		if (pthread_setspecific(g_key, an))
			SK_BUG("pthread_setspecific failed");
	}
	return an;
}
