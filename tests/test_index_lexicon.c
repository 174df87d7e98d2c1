/* tests/test_index_lexicon.c: the persistent lexicon (index/lexicon.c).
 * A writer saves the words it analysed; a reader then analyses them, and
 * makes snippets, without creating Hunspell; the terms are those the
 * dictionary gives; damaged files are ignored without changing a term. */
#include "tests/helpers/sk_test.h"

#include "index/private.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *tmp;

static const char body[] =
    "Taryfa za wodę i ścieki na rok 2025. Zamówienie publiczne na "
    "oczyszczalnię wodno-ściekową w Krakowie ogłosiła gmina; kontakt: "
    "a.kowalczyk@brzozowka.example, bip.brzozowka.pl. RODO i BIP. "
    "Przetarg na 130 000 zł. Pisane bez ogonkow: sluzba zamowien lodz "
    "swietlica. The btrfs balance and scrub of the raid5 array.";

/* Words typed differently from the corpus, never seen, or mixed. */
static const char *const probes[] = {
	body,
	"taryfa TARYFA Taryfy zamowienie zamówień ścieki scieki",
	"wodno-sciekowa wodno-ściekowej krakow Kraków łódź",
	"from a.kowalczyk@brzozowka.example brzozowka.example",
	"nieznanesłowo qwertyuiop zamowieniami sluzbie ksiegowosc",
	"RAID5 Balance SCRUB mp3 10kg 2024-01-15",
};

struct acc {
	struct sk_buf b;
};

/* All terms of text as one string: "pos:start-end:term[+]" for each. */
static int
acc_term(void *ctx, const char *term, size_t len, uint32_t pos, size_t start,
	 size_t end, bool colocated)
{
	struct acc *a = ctx;
	sk_buf_addf(&a->b, "%u:%zu-%zu:%.*s%s ", pos, start, end, (int)len,
		    term, colocated ? "+" : "");
	return 0;
}

static char *
terms_of(struct sk_analyzer *an, const char *text, enum sk_analyze_mode mode)
{
	struct acc a;
	uint32_t n;

	sk_buf_init(&a.b, 1u << 20);
	n = sk_analyze(an, text, strlen(text), mode, acc_term, &a);
	sk_buf_addf(&a.b, "| %u", n);
	return sk_buf_take(&a.b, NULL);
}

/* The probes analysed by an (both modes) equal the dictionary's terms. */
static void
assert_same_terms(struct sk_analyzer *an, struct sk_analyzer *ref)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(probes); i++)
		for (int m = 0; m < 2; m++) {
			enum sk_analyze_mode mode =
			    m ? SK_ANALYZE_QUERY : SK_ANALYZE_INDEX;
			char *x = terms_of(an, probes[i], mode);
			char *y = terms_of(ref, probes[i], mode);
			assert_string_equal(x, y);
			free(x);
			free(y);
		}
}

static void
add_message(struct sk_index *w, const char *id, const char *text)
{
	struct sk_message m = { 0 };
	struct sk_err err = { 0 };
	char raw[256];

	snprintf(raw, sizeof(raw),
		 "Message-ID: <%s>\nFrom: A <a@b.example>\nSubject: t\n\nx",
		 id);
	m.raw = raw;
	m.raw_len = strlen(raw);
	m.message_id = id;
	m.subject = "Taryfa i ścieki";
	m.from_name = "Anna Kowalczyk";
	m.from_addr = "a.kowalczyk@brzozowka.example";
	m.to_addrs = "praktyki@lista.example";
	m.date = 1700000000;
	m.list_id = "praktyki.lista.example";
	m.body = text;
	m.quote_start = strlen(text);
	if (sk_index_begin(w, &err) || sk_index_add_message(w, &m, NULL, &err) ||
	    sk_index_commit(w, &err))
		fail_msg("add %s: %s", id, err.msg);
}

static char *
lexicon_path(void)
{
	size_t n = strlen(tmp) + 32;
	char *p = sk_xmalloc(n);
	snprintf(p, n, "%s/lexicon.bin", tmp);
	return p;
}

static int
group_setup(void **state)
{
	struct sk_index *w = NULL;
	struct sk_err err = { 0 };
	(void)state;

	tmp = sk_test_tmpdir();
	if (sk_index_open(tmp, SK_INDEX_CREATE | SK_INDEX_WRITE, &w, &err)) {
		fprintf(stderr, "open: %s\n", err.msg);
		return -1;
	}
	add_message(w, "m1@test", body);
	sk_index_close(&w);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	sk_test_rmdir(&tmp);
	return 0;
}

/* Attach the directory's lexicon as sk_index_open does for a reader. */
static void
attach(void)
{
	struct sk_index ix = { .dir = tmp, .flags = 0 };
	sk_lexicon_open(&ix);
}

static void
writer_saves_the_vocabulary(void **state)
{
	struct sk_lexicon_stats ls;
	struct stat st;
	char *p = lexicon_path();
	(void)state;

	if (!sk_analyzer_has_lemmas(sk_analyzer_thread()))
		skip();
	assert_int_equal(stat(p, &st), 0);
	attach();
	sk_lexicon_get_stats(&ls);
	assert_true(ls.attached);
	assert_true(ls.words >= 20);
	assert_int_equal(ls.recorded, 0); /* saved, so forgotten */
	free(p);
}

static void
lexicon_terms_are_the_dictionarys(void **state)
{
	struct sk_analyzer_options no = { .no_lexicon = true };
	struct sk_analyzer *an = sk_analyzer_new(NULL);
	struct sk_analyzer *ref = sk_analyzer_new(&no);
	struct sk_analyzer_stats st;
	char *t;
	(void)state;

	if (!sk_analyzer_has_lemmas(ref)) {
		sk_analyzer_free(&an);
		sk_analyzer_free(&ref);
		skip();
	}
	attach();
	/* The corpus itself needs no hunspell at all. */
	t = terms_of(an, body, SK_ANALYZE_INDEX);
	free(t);
	sk_analyzer_get_stats(an, &st);
	assert_false(st.hunspell);
	assert_int_equal(st.stem_calls, 0);
	assert_true(st.lexicon_hits >= 20);
	/* Other spellings, unknown words: the same terms either way. */
	sk_analyzer_clear_cache(an);
	assert_same_terms(an, ref);
	sk_analyzer_get_stats(an, &st);
	assert_true(st.hunspell); /* the unknown words needed it */
	sk_analyzer_free(&an);
	sk_analyzer_free(&ref);
}

struct reader_run {
	const char *query;
	int64_t total;
	bool marked;
	struct sk_analyzer_stats st;
};

static void *
reader_thread(void *p)
{
	struct reader_run *r = p;
	struct sk_index *ix = NULL;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_search_opts o = { .query = r->query };
	struct sk_results res;
	struct sk_err err = { 0 };

	if (sk_index_open(tmp, 0, &ix, &err) ||
	    sk_search(ix, a, &o, &res, &err))
		fail_msg("search: %s", err.msg);
	r->total = res.total;
	r->marked = res.n_hits && strstr(res.hits[0].snippet_html, "<mark>");
	sk_analyzer_get_stats(sk_analyzer_thread(), &r->st);
	sk_index_close(&ix);
	sk_arena_free(&a);
	return NULL;
}

/* A fresh thread (a new analyzer) searches corpus words and makes their
 * snippets with no hunspell call: so it cannot have built the filter
 * either (building needs the dictionary handle). */
static void
readers_need_no_hunspell(void **state)
{
	static const char *const queries[] = {
		"taryfa", "ścieki", "publiczne", "sluzba", "balance",
		"wodno-ściekową",
		/* typed without the corpus's diacritics */
		"scieki", "zamowienie publiczne", "oczyszczalnie",
	};
	(void)state;

	if (!sk_analyzer_has_lemmas(sk_analyzer_thread()))
		skip();
	for (size_t i = 0; i < SK_ARRAY_SIZE(queries); i++) {
		struct reader_run r = { .query = queries[i] };
		pthread_t th;

		assert_int_equal(
		    pthread_create(&th, NULL, reader_thread, &r), 0);
		assert_int_equal(pthread_join(th, NULL), 0);
		assert_int_equal(r.total, 1);
		assert_true(r.marked);
		assert_false(r.st.hunspell);
		assert_int_equal(r.st.stem_calls + r.st.spell_calls, 0);
	}
}

/* Write bytes as dir's lexicon (a new file renamed over the old one). */
static void
put_file(const char *path, const unsigned char *p, size_t n)
{
	size_t tl = strlen(path) + 8;
	char *t = sk_xmalloc(tl);
	FILE *f;

	snprintf(t, tl, "%s.t", path);
	f = fopen(t, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(t, path), 0);
	free(t);
}

static void
damaged_files_change_no_term(void **state)
{
	struct sk_analyzer_options no = { .no_lexicon = true };
	struct sk_analyzer *an = sk_analyzer_new(NULL);
	struct sk_analyzer *ref = sk_analyzer_new(&no);
	char *path = lexicon_path(), *good;
	size_t len, cuts[] = { 0, 1, 7, 100, 200, 0, 0, 0 };
	unsigned char *bad;
	struct sk_lexicon_stats ls;
	(void)state;

	if (!sk_analyzer_has_lemmas(ref)) {
		sk_analyzer_free(&an);
		sk_analyzer_free(&ref);
		free(path);
		skip();
	}
	assert_int_equal(sk_read_file(path, 1u << 30, &good, &len, NULL),
			 SK_OK);
	cuts[5] = len / 2;
	cuts[6] = len - 1;
	cuts[7] = len + 1;
	bad = sk_xmalloc(len + 1);
	/* truncated (and one byte too long): the size check refuses it */
	for (size_t i = 0; i < SK_ARRAY_SIZE(cuts); i++) {
		memcpy(bad, good, len);
		bad[len] = 'x';
		put_file(path, bad, cuts[i]);
		attach();
		sk_lexicon_get_stats(&ls);
		assert_false(ls.attached);
		sk_analyzer_clear_cache(an);
		assert_same_terms(an, ref);
	}
	/* one flipped byte anywhere: header, slots, entries */
	for (size_t off = 3; off < len; off += len / 23 + 1) {
		memcpy(bad, good, len);
		bad[off] ^= 0x5a;
		put_file(path, bad, len);
		attach();
		sk_analyzer_clear_cache(an);
		assert_same_terms(an, ref);
	}
	/* garbage of the right size */
	for (size_t i = 0; i < len; i++)
		bad[i] = (unsigned char)(i * 131 + 7);
	put_file(path, bad, len);
	attach();
	sk_lexicon_get_stats(&ls);
	assert_false(ls.attached);
	/* the good file again */
	put_file(path, (const unsigned char *)good, len);
	attach();
	sk_lexicon_get_stats(&ls);
	assert_true(ls.attached);
	sk_analyzer_clear_cache(an);
	assert_same_terms(an, ref);
	free(bad);
	free(good);
	free(path);
	sk_analyzer_free(&an);
	sk_analyzer_free(&ref);
}

/* The lexicon keys a word that is not ALL-CAPS by its ASCII letters in
 * lowercase: such a word must have exactly the terms of that spelling. */
static void
lowercase_key_keeps_the_terms(void **state)
{
	static const char *const words[] = {
		"Taryfa", "Kraków", "Łodzi", "mRNA",  "iPhone", "Zamówień",
		"SluzBa", "Lodz",   "A",     "Ab",    "ŚCieki", "Wodno-Ściekowa",
	};
	struct sk_analyzer_options no = { .no_lexicon = true };
	struct sk_analyzer *ref = sk_analyzer_new(&no);
	(void)state;

	for (size_t i = 0; i < SK_ARRAY_SIZE(words); i++) {
		char low[64], *x, *y;
		size_t n = strlen(words[i]);

		for (size_t k = 0; k <= n; k++)
			low[k] = words[i][k] >= 'A' && words[i][k] <= 'Z'
				     ? (char)(words[i][k] + 32)
				     : words[i][k];
		x = terms_of(ref, words[i], SK_ANALYZE_INDEX);
		y = terms_of(ref, low, SK_ANALYZE_INDEX);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	sk_analyzer_free(&ref);
}

/* A lexicon of another analyzer version is ignored by readers, and the
 * next writer analyses its words again and writes them all. */
static void
stale_files_are_rebuilt(void **state)
{
	struct sk_analyzer_options no = { .no_lexicon = true };
	struct sk_analyzer *an = sk_analyzer_new(NULL);
	struct sk_analyzer *ref = sk_analyzer_new(&no);
	struct sk_lexicon_stats ls;
	struct sk_index *w = NULL;
	struct sk_err err = { 0 };
	char *path = lexicon_path(), *good;
	size_t len, words;
	uint32_t version = SK_ANALYZER_VERSION + 1;
	(void)state;

	if (!sk_analyzer_has_lemmas(ref)) {
		sk_analyzer_free(&an);
		sk_analyzer_free(&ref);
		free(path);
		skip();
	}
	attach();
	sk_lexicon_get_stats(&ls);
	assert_true(ls.attached);
	words = ls.words;
	assert_int_equal(sk_read_file(path, 1u << 30, &good, &len, NULL),
			 SK_OK);
	memcpy(good + 12, &version, 4); /* the header's analyzer version */
	put_file(path, (const unsigned char *)good, len);
	attach();
	sk_lexicon_get_stats(&ls);
	assert_false(ls.attached);
	/* a writer that adds nothing still rebuilds it */
	assert_int_equal(sk_index_open(tmp, SK_INDEX_WRITE, &w, &err), SK_OK);
	sk_index_close(&w);
	attach();
	sk_lexicon_get_stats(&ls);
	assert_true(ls.attached);
	assert_int_equal(ls.words, words);
	sk_analyzer_clear_cache(an);
	assert_same_terms(an, ref);
	free(good);
	free(path);
	sk_analyzer_free(&an);
	sk_analyzer_free(&ref);
}

/* In a child process (fresh globals): run fn, exit 0 when it returns
 * true. */
static bool
in_child(bool (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid)
		_exit(fn() ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A writer that has the restoration filter saves it with the words. */
static bool
save_with_filter(void)
{
	struct sk_analyzer_options o = { .restore_filter = 1 };
	struct sk_analyzer *an = sk_analyzer_new(&o);
	struct sk_analyzer_stats st;
	struct sk_index *w = NULL;
	struct sk_err err = { 0 };
	struct sk_lexicon_stats ls;

	sk_analyzer_get_stats(an, &st);
	sk_analyzer_free(&an);
	if (!st.restore_filter ||
	    sk_index_open(tmp, SK_INDEX_WRITE, &w, &err))
		return false;
	add_message(w, "m2@test", "Nowy wyraz: kanalizacja deszczowa.");
	sk_index_close(&w);
	attach();
	sk_lexicon_get_stats(&ls);
	return ls.attached && ls.has_filter;
}

/* A reader restores an unknown ASCII word with the saved filter: in use
 * after one restoration, long before the process would build its own. */
static bool
load_filter(void)
{
	struct sk_analyzer_options no = { .no_lexicon = true,
					  .restore_filter = -1 };
	struct sk_analyzer *an, *ref = sk_analyzer_new(&no);
	struct sk_analyzer_stats st;
	bool ok;
	char *x, *y;

	attach();
	an = sk_analyzer_new(NULL);
	x = terms_of(an, "wodociagow", SK_ANALYZE_QUERY);
	y = terms_of(ref, "wodociagow", SK_ANALYZE_QUERY);
	sk_analyzer_get_stats(an, &st);
	ok = st.restore_filter && st.hunspell && !strcmp(x, y) &&
	     strstr(x, "wodociag+");

	free(x);
	free(y);
	sk_analyzer_free(&an);
	sk_analyzer_free(&ref);
	return ok;
}

static void
saves_and_loads_the_filter(void **state)
{
	struct sk_analyzer_stats st;
	(void)state;

	if (!sk_analyzer_has_lemmas(sk_analyzer_thread()))
		skip();
	/* The children inherit no filter. */
	sk_analyzer_get_stats(sk_analyzer_thread(), &st);
	assert_false(st.restore_filter);
	assert_true(in_child(save_with_filter));
	assert_true(in_child(load_filter));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writer_saves_the_vocabulary),
		cmocka_unit_test(lexicon_terms_are_the_dictionarys),
		cmocka_unit_test(readers_need_no_hunspell),
		cmocka_unit_test(lowercase_key_keeps_the_terms),
		cmocka_unit_test(saves_and_loads_the_filter),
		/* Last: its many restorations build the filter here. */
		cmocka_unit_test(damaged_files_change_no_term),
		cmocka_unit_test(stale_files_are_rebuilt),
	};
	return cmocka_run_group_tests_name("index/lexicon", tests, group_setup,
					   group_teardown);
}
