/* tests/test_index_analyze.c: the Polish analyzer (index/analyze.c) on real
 * inflection, restoration, acronyms, numbers, addresses and compounds.
 *
 * Also a tool: `test_index_analyze --dump [-q] TEXT...` prints the terms of
 * each TEXT, and `test_index_analyze --bench FILE...` measures tokens per
 * second, cold and cached (not a timed unit test). */
#include "tests/helpers/sk_test.h"

#include "index/private.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- collecting terms ------------------------------------------------- */

struct rterm {
	uint32_t pos;
	size_t start, end;
	bool colocated;
	char t[SK_TERM_MAX + 1];
	size_t len;
};

struct res {
	struct rterm v[1024];
	size_t n;
	uint32_t npos;
};

static int
collect(void *ctx, const char *term, size_t len, uint32_t pos, size_t start,
        size_t end, bool colocated)
{
	struct res *r = ctx;
	struct rterm *t;

	assert_true(len > 0 && len <= SK_TERM_MAX);
	assert_true(sk_utf8_valid(term, len));
	assert_int_equal(term[len], '\0');
	if (r->n == SK_ARRAY_SIZE(r->v))
		return 1;
	t = &r->v[r->n++];
	t->pos = pos;
	t->start = start;
	t->end = end;
	t->colocated = colocated;
	t->len = len;
	memcpy(t->t, term, len);
	t->t[len] = '\0';
	return 0;
}

static struct res *
run(struct sk_analyzer *an, const char *text, enum sk_analyze_mode mode)
{
	struct res *r = sk_xcalloc(1, sizeof(*r));
	r->npos = sk_analyze(an, text, strlen(text), mode, collect, r);
	return r;
}

static struct res *
index_of(const char *text)
{
	return run(sk_analyzer_thread(), text, SK_ANALYZE_INDEX);
}

static struct res *
query_of(const char *text)
{
	return run(sk_analyzer_thread(), text, SK_ANALYZE_QUERY);
}

/* The terms at pos joined with spaces (surface first). */
static const char *
at(const struct res *r, uint32_t pos)
{
	static char buf[4][2048];
	static int k;
	char *b = buf[k++ & 3];
	size_t len = 0;

	b[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].pos != pos)
			continue;
		len += (size_t)snprintf(b + len, 2048 - len, "%s%s",
		                        len ? " " : "", r->v[i].t);
	}
	return b;
}

static bool
has(const struct res *r, uint32_t pos, const char *term)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].pos == pos && !strcmp(r->v[i].t, term))
			return true;
	return false;
}

/* True when the terms at pa in a and at pb in b share one: what makes a
 * query word (its alternatives ORed) match a document word. */
static bool
meet(const struct res *a, uint32_t pa, const struct res *b, uint32_t pb)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].pos == pa && has(b, pb, a->v[i].t))
			return true;
	return false;
}

static bool
same(const struct res *a, const struct res *b)
{
	if (a->n != b->n || a->npos != b->npos)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].pos != b->v[i].pos ||
		    a->v[i].colocated != b->v[i].colocated ||
		    a->v[i].start != b->v[i].start ||
		    a->v[i].end != b->v[i].end || strcmp(a->v[i].t, b->v[i].t))
			return false;
	return true;
}

/* Print the first difference (for failing comparisons). */
static void
show_diff(const struct res *a, const struct res *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++)
		if (a->v[i].pos != b->v[i].pos ||
		    strcmp(a->v[i].t, b->v[i].t)) {
			printf("differ at %zu: %u '%s' vs %u '%s'\n", i,
			       a->v[i].pos, a->v[i].t, b->v[i].pos, b->v[i].t);
			return;
		}
	printf("differ in length: %zu vs %zu\n", a->n, b->n);
}

static int
need_lemmas(void **state)
{
	(void)state;
	if (!sk_analyzer_has_lemmas(sk_analyzer_thread()))
		printf("SKIP: hunspell-pl is not installed: no lemma tests\n");
	return 0;
}

#define NEED_LEMMAS()                                                          \
	do {                                                                   \
		if (!sk_analyzer_has_lemmas(sk_analyzer_thread())) {           \
			printf("SKIP: %s needs hunspell-pl\n", __func__);      \
			skip();                                                \
		}                                                              \
	} while (0)

/* ---- folding ---------------------------------------------------------- */

static void
folds_case_and_diacritics(void **state)
{
	struct res *r = index_of("ZAŻÓŁĆ Gęślą JAŹŃ Straße");
	(void)state;

	assert_string_equal(r->v[0].t, "zazolc");
	assert_true(has(r, 1, "gesla"));
	assert_true(has(r, 2, "jazn"));
	assert_true(has(r, 3, "strasse"));
	assert_int_equal(r->npos, 4);
	free(r);
}

static void
folds_l_stroke(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct res *r = index_of("Łódź ŁÓDŹ łódź");
	(void)state;

	const char *s = "Łódź ŁÓDŹ żłobek";
	assert_string_equal(sk_fold(a, s, strlen(s)), "lodz lodz zlobek");
	for (uint32_t p = 0; p < 3; p++)
		assert_true(has(r, p, "lodz"));
	assert_string_equal(r->v[0].t, "lodz");
	free(r);
	sk_arena_free(&a);
}

static void
folds_nfd_input_like_nfc(void **state)
{
	/* "zażółć" written with combining marks */
	struct res *r = index_of("za\x7a\xcc\x87o\xcc\x81\xc5\x82\x63\xcc\x81");
	(void)state;

	assert_int_equal(r->npos, 1);
	assert_string_equal(r->v[0].t, "zazolc");
	free(r);
}

static void
fold_replaces_invalid_utf8(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	const char bad[] = "Gm\xffina\0\x01ŁAD\xc3";
	char *f = sk_fold(a, bad, sizeof(bad) - 1);
	(void)state;

	assert_true(sk_utf8_valid(f, strlen(f)));
	assert_string_equal(f, "gm\xef\xbf\xbdina"
	                       "lad\xef\xbf\xbd");
	assert_string_equal(sk_fold(a, "", 0), "");
	sk_arena_free(&a);
}

static void
separates_words_at_invalid_bytes(void **state)
{
	const char text[] = "gmina\xff\xfepowiat \xc5 wies";
	struct res *r = run(sk_analyzer_thread(), text, SK_ANALYZE_INDEX);
	(void)state;

	assert_int_equal(r->npos, 3);
	assert_string_equal(r->v[0].t, "gmina");
	assert_true(has(r, 1, "powiat"));
	assert_true(has(r, 2, "wies"));
	free(r);
}

static void
ignores_soft_hyphens_inside_words(void **state)
{
	struct res *r = index_of("zamó\xc2\xad"
	                         "wień");
	(void)state;

	assert_int_equal(r->npos, 1);
	assert_string_equal(r->v[0].t, "zamowien");
	free(r);
}

/* ---- lemmas ----------------------------------------------------------- */

static void
lemmatizes_ambiguous_gminy(void **state)
{
	struct res *r;
	(void)state;
	NEED_LEMMAS();
	r = index_of("gminy");
	assert_int_equal(r->npos, 1);
	assert_false(r->v[0].colocated);
	assert_string_equal(r->v[0].t, "gminy");
	assert_true(has(r, 0, "gmina"));
	assert_true(has(r, 0, "gmin"));
	for (size_t i = 1; i < r->n; i++)
		assert_true(r->v[i].colocated);
	free(r);
}

static void
lemmatizes_noun_cases(void **state)
{
	struct res *r;
	(void)state;
	NEED_LEMMAS();
	r = index_of("gmina gminy gminie gminą gmin gminami Gminę");
	assert_int_equal(r->npos, 7);
	for (uint32_t p = 0; p < r->npos; p++)
		assert_true(has(r, p, "gmina"));
	/* and the query "gmin" meets "gminie" */
	struct res *q = query_of("gmin");
	assert_true(meet(q, 0, r, 2));
	free(q);
	free(r);
}

static void
lemmatizes_verbs(void **state)
{
	struct res *r;
	(void)state;
	NEED_LEMMAS();
	r = index_of("zamówić zamówił zamówiła zamawiamy zamawiali");
	assert_true(has(r, 0, "zamowic"));
	assert_true(has(r, 1, "zamowic"));
	assert_true(has(r, 2, "zamowic"));
	assert_true(has(r, 3, "zamawiac"));
	assert_true(has(r, 4, "zamawiac"));
	free(r);
}

static void
lemmatizes_adjectives(void **state)
{
	struct res *r;
	(void)state;
	NEED_LEMMAS();
	r = index_of("publiczny publicznych publicznej publicznego Publiczne");
	for (uint32_t p = 0; p < 5; p++)
		assert_true(has(r, p, "publiczny"));
	free(r);
}

static void
query_word_meets_inflected_document_word(void **state)
{
	struct res *d, *q;
	(void)state;
	NEED_LEMMAS();
	d = index_of("Wyniki zamówień publicznych w gminie");
	q = query_of("zamowienie publiczne");
	assert_true(has(d, 1, "zamowien"));
	assert_true(has(d, 1, "zamowienie"));
	assert_true(has(d, 1, "zamowic"));
	assert_true(meet(q, 0, d, 1));
	assert_true(meet(q, 1, d, 2));
	/* not by accident: the query word does not meet an unrelated one */
	assert_false(meet(q, 0, d, 0));
	free(q);
	free(d);
}

static void
keeps_proper_noun_lodzi(void **state)
{
	struct res *d, *q;
	(void)state;
	NEED_LEMMAS();
	d = index_of("Spotkanie w Łodzi");
	assert_true(has(d, 2, "lodzi"));
	assert_true(has(d, 2, "lodz"));
	q = query_of("lodz");
	assert_true(meet(q, 0, d, 2));
	free(q);
	q = query_of("łódź");
	assert_true(meet(q, 0, d, 2));
	free(q);
	/* a lowercase query still finds the city's other cases */
	free(d);
	d = index_of("z Krakowa");
	q = query_of("kraków");
	assert_true(meet(q, 0, d, 1));
	free(q);
	free(d);
}

static void
handles_l_stroke_trap_zlobek(void **state)
{
	struct res *d, *q;
	(void)state;
	NEED_LEMMAS();
	d = index_of("żłobek żłobkiem Żłobku");
	q = query_of("zlobek");
	for (uint32_t p = 0; p < 3; p++) {
		assert_true(has(d, p, "zlobek"));
		assert_true(meet(q, 0, d, p));
	}
	free(q);
	free(d);
}

/* ---- restoration ------------------------------------------------------ */

static void
restores_diacritics_zamowien(void **state)
{
	struct res *r;
	(void)state;
	NEED_LEMMAS();
	r = index_of("zamowien");
	assert_string_equal(r->v[0].t, "zamowien");
	assert_true(has(r, 0, "zamowienie"));
	assert_true(has(r, 0, "zamowic"));
	free(r);
}

static void
restores_diacritics_sluzba_sciekow(void **state)
{
	struct res *r, *d;
	(void)state;
	NEED_LEMMAS();
	/* służby -> służba: the lemma folds to "sluzba" */
	r = index_of("sluzby sciekow zrodlo");
	assert_true(has(r, 0, "sluzba"));
	assert_true(has(r, 1, "scieki") || has(r, 1, "sciek"));
	assert_true(has(r, 2, "zrodlo"));
	d = index_of("służbie ścieków źródłami");
	assert_true(meet(r, 0, d, 0));
	assert_true(meet(r, 1, d, 1));
	assert_true(meet(r, 2, d, 2));
	free(d);
	free(r);
}

static void
restores_capitalized_and_proper_nouns(void **state)
{
	struct res *r;
	(void)state;
	NEED_LEMMAS();
	r = index_of("Zamowienia lodzi");
	assert_true(has(r, 0, "zamowienie"));
	assert_true(has(r, 1, "lodz"));
	free(r);
}

static void
skips_restoration_for_polish_and_uppercase_words(void **state)
{
	struct res *r;
	(void)state;
	NEED_LEMMAS();
	/* ALL-CAPS: no restoration (and "zamowien" has no lemma as such) */
	r = index_of("ZAMOWIEN");
	assert_string_equal(at(r, 0), "zamowien");
	free(r);
	/* already Polish: only its own lemmas ("zamówien" is no word) */
	r = index_of("zamówien");
	assert_string_equal(at(r, 0), "zamowien");
	free(r);
}

/* ---- acronyms --------------------------------------------------------- */

static void
keeps_acronyms_without_false_lemmas(void **state)
{
	struct res *r;
	(void)state;
	NEED_LEMMAS();
	r = index_of("RODO BIP CAF PZP");
	assert_string_equal(at(r, 0), "rodo");
	assert_false(has(r, 0, "roda"));
	assert_string_equal(r->v[0].t, "rodo");
	assert_true(has(r, 1, "bip"));
	assert_string_equal(at(r, 2), "caf");
	assert_string_equal(at(r, 3), "pzp");
	free(r);
	/* shouting still gets lemmas of common words */
	r = index_of("ZAMÓWIENIA GMINY");
	assert_true(has(r, 0, "zamowienie"));
	assert_true(has(r, 1, "gmina"));
	free(r);
}

/* ---- numbers, addresses, domains, compounds --------------------------- */

static void
joins_digit_groups_of_amounts(void **state)
{
	struct res *r = index_of("130 000 zł oraz 2\xc2\xa0"
	                         "700\xc2\xa0"
	                         "000,00 USD");
	struct res *q = query_of("130 000 zł");
	(void)state;

	assert_string_equal(r->v[0].t, "130000");
	assert_true(has(r, 0, "130"));
	assert_true(has(r, 0, "000"));
	assert_int_equal(r->v[0].start, 0);
	assert_int_equal(r->v[0].end, 7);
	assert_string_equal(at(r, 1), "zl");
	assert_true(has(r, 3, "2700000,00"));
	assert_true(has(r, 3, "700"));
	/* query mode: the whole number only */
	assert_string_equal(at(q, 0), "130000");
	assert_int_equal(q->npos, 2);
	free(q);
	free(r);
}

static void
does_not_join_years_or_lists(void **state)
{
	struct res *r = index_of("w latach 2010 2011 oraz 1 2 3");
	(void)state;

	assert_int_equal(r->npos, 8);
	assert_string_equal(at(r, 2), "2010");
	assert_string_equal(at(r, 3), "2011");
	assert_string_equal(at(r, 5), "1");
	free(r);
}

static void
keeps_dates_and_resolution_numbers(void **state)
{
	struct res *r =
	    index_of("Uchwała nr 12/2011 z 2024-01-15, godz. 10:30, "
	             "stawka 3,5%.");
	struct res *q = query_of("12/2011");
	(void)state;

	assert_string_equal(r->v[0].t, "uchwala");
	assert_true(has(r, 2, "12/2011"));
	assert_true(has(r, 2, "2011"));
	assert_true(has(r, 4, "2024-01-15"));
	assert_true(has(r, 4, "2024"));
	assert_true(has(r, 6, "10:30"));
	assert_true(has(r, 8, "3,5"));
	assert_string_equal(at(q, 0), "12/2011");
	free(q);
	free(r);
}

static void
splits_email_address_into_colocated_parts(void **state)
{
	const char *text = "Anna Kowalczyk <A.Kowalczyk@Brzozowka.example>";
	struct res *r = index_of(text);
	struct res *q;
	(void)state;

	assert_int_equal(r->npos, 3);
	assert_true(has(r, 2, "a.kowalczyk@brzozowka.example"));
	assert_true(has(r, 2, "a.kowalczyk"));
	assert_true(has(r, 2, "brzozowka.example"));
	assert_true(has(r, 2, "kowalczyk"));
	assert_true(has(r, 2, "brzozowka"));
	assert_false(has(r, 2, "example"));
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].pos == 2) {
			assert_int_equal(r->v[i].start, 16);
			assert_int_equal(r->v[i].end, strlen(text) - 1);
			assert_int_equal(
			    r->v[i].colocated,
			    strcmp(r->v[i].t,
			           "a.kowalczyk@brzozowka.example") != 0);
		}
	/* the parts meet the queries from:brzozowka.example and the name */
	q = query_of("brzozowka.example");
	assert_string_equal(at(q, 0), "brzozowka.example");
	assert_true(meet(q, 0, r, 2));
	free(q);
	q = query_of("a.kowalczyk@brzozowka.example");
	assert_string_equal(at(q, 0), "a.kowalczyk@brzozowka.example");
	free(q);
	q = query_of("kowalczyk");
	assert_true(meet(q, 0, r, 1));
	assert_true(meet(q, 0, r, 2));
	free(q);
	free(r);
}

static void
keeps_domain_names(void **state)
{
	struct res *r =
	    index_of("Zobacz bip.brzozowka.pl oraz https://www.gov.pl/web.");
	(void)state;

	assert_string_equal(r->v[0].t, "zobacz");
	assert_true(has(r, 1, "bip.brzozowka.pl"));
	assert_true(has(r, 1, "brzozowka.pl"));
	assert_true(has(r, 1, "brzozowka"));
	assert_false(has(r, 1, "pl"));
	assert_true(has(r, 4, "www.gov.pl"));
	assert_true(has(r, 5, "web"));
	free(r);
}

static void
does_not_take_abbreviations_for_domains(void **state)
{
	struct res *r = index_of("m.in. planu.Wniosek plik.txt");
	(void)state;

	assert_int_equal(r->npos, 6);
	assert_string_equal(r->v[0].t, "m");
	assert_true(has(r, 1, "in"));
	assert_true(has(r, 3, "wniosek"));
	assert_true(has(r, 5, "txt"));
	free(r);
}

static void
expands_hyphenated_compounds(void **state)
{
	struct res *d, *q, *q2;
	(void)state;
	NEED_LEMMAS();
	d = index_of("gospodarka wodno-ściekowa");
	assert_int_equal(d->npos, 2);
	assert_string_equal(d->v[0].t, "gospodarka");
	assert_true(has(d, 1, "wodno-sciekowa"));
	assert_true(has(d, 1, "wodno-sciekowy"));
	assert_true(has(d, 1, "wodno"));
	assert_true(has(d, 1, "sciekowa"));
	assert_true(has(d, 1, "sciekowy"));
	/* the query keeps the compound whole: no bare "wodno" alternative */
	q = query_of("wodno-ściekowej");
	assert_false(has(q, 0, "wodno"));
	assert_true(has(q, 0, "wodno-sciekowy"));
	assert_true(meet(q, 0, d, 1));
	/* a part alone finds the compound; so does the compound typed
	 * without diacritics */
	q2 = query_of("ściekowej");
	assert_true(meet(q2, 0, d, 1));
	free(q2);
	q2 = query_of("wodno-sciekowa");
	assert_true(meet(q2, 0, d, 1));
	free(q2);
	free(q);
	free(d);
}

/* ---- positions, offsets, stop words, limits --------------------------- */

static void
emits_positions_and_byte_offsets(void **state)
{
	const char *text = "  Żółta łódź, (gminy) -- 2011.";
	struct res *r = index_of(text);
	uint32_t last = 0;
	(void)state;

	assert_int_equal(r->npos, 4);
	assert_int_equal(r->v[0].pos, 0);
	assert_false(r->v[0].colocated);
	assert_int_equal(r->v[0].start, 2);
	assert_int_equal(r->v[0].end, 2 + strlen("Żółta"));
	for (size_t i = 0; i < r->n; i++) {
		const struct rterm *t = &r->v[i];
		/* the first term of each position is not colocated */
		assert_int_equal(t->colocated,
		                 i > 0 && r->v[i - 1].pos == t->pos);
		assert_true(t->pos == last || t->pos == last + 1);
		last = t->pos;
		for (size_t j = i + 1; j < r->n && r->v[j].pos == t->pos; j++)
			assert_string_not_equal(t->t, r->v[j].t);
	}
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].pos == 2) {
			assert_int_equal(r->v[i].start,
			                 strlen("  Żółta łódź, ("));
			assert_int_equal(r->v[i].end,
			                 strlen("  Żółta łódź, (gminy"));
		}
	assert_string_equal(at(r, 3), "2011");
	free(r);
}

static void
emits_stop_words_and_flags_them(void **state)
{
	struct res *r = index_of("Gmina w Polsce i się że ZE");
	(void)state;

	assert_int_equal(r->npos, 7);
	assert_true(has(r, 1, "w"));
	assert_true(sk_analyze_is_stop("w", 1));
	assert_true(sk_analyze_is_stop("i", 1));
	assert_true(sk_analyze_is_stop("sie", 3));
	assert_true(sk_analyze_is_stop("ze", 2));
	assert_false(sk_analyze_is_stop("gmina", 5));
	assert_false(sk_analyze_is_stop("", 0));
	assert_false(sk_analyze_is_stop("wiecej", 6));
	/* every word of the list, found by its binary search */
	static const char *const all[] = {
		"a",     "aby",  "albo", "ale", "ani",  "az",   "bo",   "by",
		"co",    "czy",  "dla",  "do",  "gdy",  "i",    "ich",  "iz",
		"jak",   "jako", "jego", "jej", "jest", "juz",  "lecz", "lub",
		"na",    "nad",  "nie",  "o",   "od",   "oraz", "po",   "pod",
		"przez", "przy", "sa",   "sie", "ta",   "tak",  "te",   "tego",
		"tej",   "ten",  "to",   "tu",  "tym",  "u",    "w",    "we",
		"wiec",  "z",    "za",   "ze",  "zeby",
	};
	for (size_t i = 0; i < SK_ARRAY_SIZE(all); i++)
		assert_true(sk_analyze_is_stop(all[i], strlen(all[i])));
	free(r);
	/* query mode emits them as well; the compilers decide */
	r = query_of("w");
	assert_string_equal(r->v[0].t, "w");
	free(r);
}

static void
cuts_long_terms_on_a_character_boundary(void **state)
{
	char text[400], *p = text;
	struct res *r;
	(void)state;

	for (int i = 0; i < 45; i++) { /* Cyrillic ж: 2 bytes, not folded */
		memcpy(p, "ж", 2);
		p += 2;
	}
	*p = '\0';
	r = index_of(text);
	assert_int_equal(r->npos, 1);
	assert_int_equal(r->v[0].len, 64);
	assert_true(sk_utf8_valid(r->v[0].t, r->v[0].len));
	assert_int_equal(r->v[0].end, 90);
	free(r);
	/* 3-byte characters: cut at 63 bytes */
	p = text;
	for (int i = 0; i < 30; i++) {
		memcpy(p, "\xe2\xb4\x80", 3); /* U+2D00 Georgian */
		p += 3;
	}
	*p = '\0';
	r = index_of(text);
	assert_int_equal(r->v[0].len, 63);
	free(r);
	/* a very long run (no cache) still gives one cut term */
	char *big = sk_xmalloc(100001);
	memset(big, 'a', 100000);
	big[100000] = '\0';
	r = index_of(big);
	assert_int_equal(r->npos, 1);
	assert_int_equal(r->v[0].len, 64);
	free(r);
	free(big);
}

static void
takes_no_position_for_empty_words(void **state)
{
	/* a lone combining mark is a word character that folds to nothing */
	struct res *r = index_of("a \xcc\x81 b");
	(void)state;

	assert_int_equal(r->npos, 2);
	assert_string_equal(at(r, 1), "b");
	free(r);
}

static int
stop_after_three(void *ctx, const char *term, size_t len, uint32_t pos,
                 size_t start, size_t end, bool colocated)
{
	int *n = ctx;
	(void)term, (void)len, (void)pos, (void)start, (void)end;
	(void)colocated;
	return ++*n >= 3;
}

static void
stops_when_the_callback_asks(void **state)
{
	int n = 0;
	uint32_t used = sk_analyze(sk_analyzer_thread(), "a b c d e", 9,
	                           SK_ANALYZE_INDEX, stop_after_three, &n);
	(void)state;

	assert_int_equal(n, 3);
	assert_int_equal(used, 3);
}

static void
query_mode_equals_index_mode_for_plain_words(void **state)
{
	const char *text =
	    "Gminy zamówień publicznych w Łodzi, sluzba zlobek RODO";
	struct res *a = index_of(text), *b = query_of(text);
	(void)state;

	assert_true(same(a, b));
	free(a);
	free(b);
}

/* ---- the cache and analyzers ------------------------------------------ */

static const char sample_pl[] =
    "Szanowni Państwo, w imieniu Gminy Brzozówka zapraszam na spotkanie "
    "partnerskie w Łodzi dotyczące zamówień publicznych i gospodarki "
    "wodno-ściekowej. Wartość zamówienia to 130 000 zł brutto (uchwała nr "
    "12/2011 z dnia 2011-03-15). RODO i BIP: prosimy o kontakt pod adresem "
    "a.kowalczyk@brzozowka.example lub sekretariat@bip.brzozowka.pl. "
    "Pozdrawiam serdecznie, Anna Kowalczyk, kierownik referatu. "
    "Przepraszam za brak polskich liter: zamowienia publiczne, sluzba "
    "zdrowia, oczyszczalnia sciekow, zlobek w gminie, wladze powiatu, "
    "mieszkancy zglaszaja problemy z odbiorem odpadow komunalnych.";

static const char sample_en[] =
    "The btrfs filesystem reported a checksum error while scrubbing the "
    "device; please apply the patch and rerun the balance with -dusage=50. "
    "Signed-off-by: Someone <someone@example.com>";

static void
cache_returns_identical_results(void **state)
{
	struct sk_analyzer_options o = { .cache_entries = 16 };
	struct sk_analyzer *small = sk_analyzer_new(&o), *an;
	struct sk_analyzer_stats st0, st1;
	struct res *cold, *warm, *tiny, *cleared;
	(void)state;

	an = sk_analyzer_new(NULL);
	cold = run(an, sample_pl, SK_ANALYZE_INDEX);
	sk_analyzer_get_stats(an, &st0);
	warm = run(an, sample_pl, SK_ANALYZE_INDEX);
	sk_analyzer_get_stats(an, &st1);
	assert_true(same(cold, warm));
	/* the second pass was all hits */
	assert_int_equal(st1.misses, st0.misses);
	assert_true(st1.hits - st0.hits >= cold->npos);
	/* a cache that keeps being cleared gives the same terms */
	tiny = run(small, sample_pl, SK_ANALYZE_INDEX);
	if (!same(cold, tiny))
		show_diff(cold, tiny);
	assert_true(same(cold, tiny));
	sk_analyzer_get_stats(small, &st0);
	assert_true(st0.clears > 0);
	assert_true(st0.cache_entries <= 16);
	sk_analyzer_clear_cache(an);
	cleared = run(an, sample_pl, SK_ANALYZE_INDEX);
	assert_true(same(cold, cleared));
	free(cold);
	free(warm);
	free(tiny);
	free(cleared);
	sk_analyzer_free(&an);
	sk_analyzer_free(&small);
	assert_null(small);
}

/* The ASCII-only (diacritics folded) form of text, with each word kept. */
static char *
strip_diacritics(struct sk_arena *a, const char *text, size_t n)
{
	return sk_fold(a, text, n);
}

static void
compare_filter_paths(const char *text, size_t n)
{
	struct sk_analyzer_options brute = { .restore_filter = -1 };
	struct sk_analyzer_options filt = { .restore_filter = 1 };
	struct sk_analyzer *a = sk_analyzer_new(&brute);
	struct sk_analyzer *b = sk_analyzer_new(&filt);
	struct sk_analyzer_stats sa, sb;
	size_t off = 0;

	/* in slices: a result holds at most 1024 terms */
	while (off < n) {
		size_t len = n - off < 600 ? n - off : 600;
		char *s;
		struct res *ra, *rb;

		while (off + len < n &&
		       ((unsigned char)text[off + len] & 0xC0) == 0x80)
			len++;
		s = sk_xstrndup(text + off, len);
		ra = run(a, s, SK_ANALYZE_INDEX);
		rb = run(b, s, SK_ANALYZE_INDEX);
		if (!same(ra, rb)) {
			show_diff(ra, rb);
			printf("in: %s\n", s);
		}
		assert_true(same(ra, rb));
		free(ra);
		free(rb);
		free(s);
		off += len;
	}
	sk_analyzer_get_stats(a, &sa);
	sk_analyzer_get_stats(b, &sb);
	assert_false(sa.restore_filter);
	assert_true(sb.restore_filter);
	/* the filter spares most spell checks */
	assert_true(sb.spell_calls <= sa.spell_calls);
	sk_analyzer_free(&a);
	sk_analyzer_free(&b);
}

static void
restoration_filter_agrees_with_brute_force(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	char *s;
	const char *corpus;
	(void)state;
	NEED_LEMMAS();

	s = strip_diacritics(a, sample_pl, strlen(sample_pl));
	compare_filter_paths(s, strlen(s));
	compare_filter_paths(sample_en, strlen(sample_en));
	corpus = sk_test_corpus("pl-lore-spam/pl-lore-spam.mbox");
	if (corpus) {
		char *buf;
		size_t len;
		assert_int_equal(
		    sk_read_file(corpus, 1u << 20, &buf, &len, NULL), SK_OK);
		if (len > 6000)
			len = 6000;
		len = sk_utf8_clip(buf, len, len);
		s = sk_utf8_sanitize(a, buf, len, &len);
		s = strip_diacritics(a, s, len);
		compare_filter_paths(s, strlen(s));
		free(buf);
	}
	sk_arena_free(&a);
}

static void
works_without_a_dictionary(void **state)
{
	struct sk_analyzer_options o = { .dictionary = "/nonexistent/pl_PL" };
	struct sk_analyzer *an = sk_analyzer_new(&o);
	struct res *r =
	    run(an, "Gminy ŁÓDŹ zamowien 130 000", SK_ANALYZE_INDEX);
	(void)state;

	assert_false(sk_analyzer_has_lemmas(an));
	assert_string_equal(at(r, 0), "gminy");
	assert_string_equal(at(r, 1), "lodz");
	assert_string_equal(at(r, 2), "zamowien");
	assert_true(has(r, 3, "130000"));
	free(r);
	sk_analyzer_free(&an);
}

struct thread_arg {
	struct sk_analyzer *an;
	struct res *r;
};

static void *
thread_main(void *p)
{
	struct thread_arg *t = p;
	t->an = sk_analyzer_thread();
	assert_ptr_equal(t->an, sk_analyzer_thread());
	t->r = run(t->an, sample_pl, SK_ANALYZE_INDEX);
	return NULL;
}

static void
gives_each_thread_its_own_analyzer(void **state)
{
	struct thread_arg t[2] = { { 0 } };
	pthread_t th[2];
	struct res *mine = index_of(sample_pl);
	(void)state;

	for (int i = 0; i < 2; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, thread_main, &t[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_ptr_not_equal(t[0].an, t[1].an);
	assert_ptr_not_equal(t[0].an, sk_analyzer_thread());
	assert_true(same(t[0].r, t[1].r));
	assert_true(same(t[0].r, mine));
	free(t[0].r);
	free(t[1].r);
	free(mine);
}

static void
analyzes_english_mail_without_lemmas_noise(void **state)
{
	struct res *r = index_of(sample_en);
	(void)state;

	assert_string_equal(r->v[0].t, "the");
	assert_true(has(r, 1, "btrfs"));
	for (size_t i = 0; i < r->n; i++)
		assert_true(r->v[i].len <= SK_TERM_MAX);
	assert_true(has(r, r->npos - 1, "someone@example.com"));
	free(r);
}

/* ---- tools: --dump and --bench ---------------------------------------- */

static int
print_term(void *ctx, const char *term, size_t len, uint32_t pos, size_t start,
           size_t end, bool colocated)
{
	(void)ctx;
	printf("%s%u [%zu,%zu) %.*s\n", colocated ? "    + " : "", pos, start,
	       end, (int)len, term);
	return 0;
}

static int
dump(int argc, char **argv)
{
	enum sk_analyze_mode mode = SK_ANALYZE_INDEX;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-q")) {
			mode = SK_ANALYZE_QUERY;
			continue;
		}
		sk_analyze(sk_analyzer_thread(), argv[i], strlen(argv[i]), mode,
		           print_term, NULL);
	}
	return 0;
}

static int
count_term(void *ctx, const char *term, size_t len, uint32_t pos, size_t start,
           size_t end, bool colocated)
{
	uint64_t *n = ctx;
	(void)term, (void)len, (void)pos, (void)start, (void)end;
	(void)colocated;
	(*n)++;
	return 0;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Analyze text in 4 KiB slices (like message bodies); returns positions. */
static uint64_t
bench_pass(struct sk_analyzer *an, const char *text, size_t n, uint64_t *terms)
{
	uint64_t pos = 0;
	size_t off = 0;

	while (off < n) {
		size_t len = n - off < 4096 ? n - off : 4096;
		while (off + len < n &&
		       ((unsigned char)text[off + len] & 0xC0) == 0x80)
			len++;
		pos += sk_analyze(an, text + off, len, SK_ANALYZE_INDEX,
		                  count_term, terms);
		off += len;
	}
	return pos;
}

static int
bench(int argc, char **argv)
{
	struct sk_analyzer_options o = { .restore_filter = 1 };
	struct sk_analyzer *an;
	double t0, t1;
	uint64_t terms = 0;

	/* hunspell alone, then the filter (built once per process) */
	t0 = now();
	an = sk_analyzer_new(NULL);
	t1 = now();
	printf("analyzer (hunspell-pl) created in %.3f s\n", t1 - t0);
	sk_analyzer_free(&an);
	t0 = now();
	an = sk_analyzer_new(&o);
	t1 = now();
	printf("analyzer with the restoration filter built in %.3f s\n",
	       t1 - t0);
	sk_analyzer_free(&an);

	for (int i = 0; i < argc; i++) {
		char *buf, *text;
		size_t len;
		struct sk_err err = { 0 };
		struct sk_arena *a = sk_arena_new(0);
		struct sk_analyzer_stats st;
		uint64_t pos;

		if (sk_read_file(argv[i], 1u << 30, &buf, &len, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		text = sk_utf8_sanitize(a, buf, len, &len);
		free(buf);
		an = sk_analyzer_new(NULL);
		terms = 0;
		t0 = now();
		pos = bench_pass(an, text, len, &terms);
		t1 = now();
		sk_analyzer_get_stats(an, &st);
		printf("%s: %.1f MB, %" PRIu64 " tokens, %.2f terms/token, "
		       "%zu distinct cached\n",
		       argv[i], (double)len / 1e6, pos,
		       (double)terms / (double)pos, st.cache_entries);
		printf("  cold (first pass): %.3f s, %.0f tokens/s, %" PRIu64
		       " misses, %" PRIu64 " stems, %" PRIu64
		       " spell checks, %" PRIu64 " clears\n",
		       t1 - t0, (double)pos / (t1 - t0), st.misses,
		       st.stem_calls, st.spell_calls, st.clears);
		for (int k = 0; k < 3; k++) {
			terms = 0;
			t0 = now();
			pos = bench_pass(an, text, len, &terms);
			t1 = now();
			printf("  cached pass %d: %.3f s, %.0f tokens/s, %.1f "
			       "MB/s\n",
			       k + 1, t1 - t0, (double)pos / (t1 - t0),
			       (double)len / 1e6 / (t1 - t0));
		}
		sk_analyzer_get_stats(an, &st);
		printf("  cache: %zu entries, %.1f MB (slab + table), "
		       "filter %s\n",
		       st.cache_entries, (double)st.cache_bytes / 1e6,
		       st.restore_filter ? "on" : "off");
		sk_analyzer_free(&an);
		sk_arena_free(&a);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(folds_case_and_diacritics),
		cmocka_unit_test(folds_l_stroke),
		cmocka_unit_test(folds_nfd_input_like_nfc),
		cmocka_unit_test(fold_replaces_invalid_utf8),
		cmocka_unit_test(separates_words_at_invalid_bytes),
		cmocka_unit_test(ignores_soft_hyphens_inside_words),
		cmocka_unit_test(lemmatizes_ambiguous_gminy),
		cmocka_unit_test(lemmatizes_noun_cases),
		cmocka_unit_test(lemmatizes_verbs),
		cmocka_unit_test(lemmatizes_adjectives),
		cmocka_unit_test(query_word_meets_inflected_document_word),
		cmocka_unit_test(keeps_proper_noun_lodzi),
		cmocka_unit_test(handles_l_stroke_trap_zlobek),
		cmocka_unit_test(restores_diacritics_zamowien),
		cmocka_unit_test(restores_diacritics_sluzba_sciekow),
		cmocka_unit_test(restores_capitalized_and_proper_nouns),
		cmocka_unit_test(
		    skips_restoration_for_polish_and_uppercase_words),
		cmocka_unit_test(keeps_acronyms_without_false_lemmas),
		cmocka_unit_test(joins_digit_groups_of_amounts),
		cmocka_unit_test(does_not_join_years_or_lists),
		cmocka_unit_test(keeps_dates_and_resolution_numbers),
		cmocka_unit_test(splits_email_address_into_colocated_parts),
		cmocka_unit_test(keeps_domain_names),
		cmocka_unit_test(does_not_take_abbreviations_for_domains),
		cmocka_unit_test(expands_hyphenated_compounds),
		cmocka_unit_test(emits_positions_and_byte_offsets),
		cmocka_unit_test(emits_stop_words_and_flags_them),
		cmocka_unit_test(cuts_long_terms_on_a_character_boundary),
		cmocka_unit_test(takes_no_position_for_empty_words),
		cmocka_unit_test(stops_when_the_callback_asks),
		cmocka_unit_test(query_mode_equals_index_mode_for_plain_words),
		cmocka_unit_test(cache_returns_identical_results),
		cmocka_unit_test(restoration_filter_agrees_with_brute_force),
		cmocka_unit_test(works_without_a_dictionary),
		cmocka_unit_test(gives_each_thread_its_own_analyzer),
		cmocka_unit_test(analyzes_english_mail_without_lemmas_noise),
	};

	if (argc > 1 && !strcmp(argv[1], "--dump"))
		return dump(argc - 2, argv + 2);
	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench(argc - 2, argv + 2);
	return cmocka_run_group_tests_name("index/analyze", tests, need_lemmas,
	                                   NULL);
}
