/* tests/test_index_conformance.c: the two search backends return the same
 * set of messages for every query of tests/data/search/corpus-queries.txt
 * over whole corpora: the demo (always) and, when ../shared/corpora is
 * there, the real Polish offers of pl-lore-spam and notmuch's lkml. */
#include "tests/helpers/sk_test.h"
#include "index/sk_index.h"
#include "ingest/sk_ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static struct sk_index *ix;

static void
load(struct sk_ingest *ing, const char *path, bool maildir)
{
	struct sk_err err = { 0 };
	enum sk_status rc = maildir ? sk_ingest_maildir(ing, path, false, &err)
				    : sk_ingest_mbox(ing, path, &err);
	if (rc)
		fail_msg("ingest %s: %s", path, err.msg);
}

static int
setup(void **state)
{
	struct sk_ingest_settings set = { .quiet = true };
	struct sk_ingest *ing;
	struct sk_err err = { 0 };
	const char *spam, *lkml;
	(void)state;

	dir = sk_test_tmpdir();
	if (sk_index_open(dir, SK_INDEX_CREATE | SK_INDEX_WRITE, &ix, &err) ||
	    sk_index_load_taxonomy(ix, sk_index_default_taxonomy(), &err) ||
	    sk_ingest_new(ix, &set, &ing, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	load(ing, "demo/praktyki-2024.mbox", false);
	load(ing, "demo/praktyki-2025.mbox", false);
	spam = sk_test_corpus("pl-lore-spam/pl-lore-spam.mbox");
	if (spam)
		load(ing, spam, false);
	lkml = sk_test_corpus("notmuch-test-corpora/lkml");
	if (lkml)
		load(ing, lkml, true);
	if (sk_ingest_finish(&ing, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sk_index_close(&ix);
	sk_test_rmdir(&dir);
	return 0;
}

static int
cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

/* Every matching id (or thread id when collapsed), sorted. */
static int64_t *
ids(struct sk_arena *a, const char *q, enum sk_backend b, bool collapse,
    int64_t *total)
{
	struct sk_search_opts o = { .query = q, .backend = b, .limit = 100000,
				    .collapse_threads = collapse,
				    .no_snippets = true,
				    .viewer = { true, true } };
	struct sk_results r;
	struct sk_err err = { 0 };
	int64_t *v;

	if (sk_search(ix, a, &o, &r, &err))
		fail_msg("%s: '%s': %s",
			 b == SK_BACKEND_XAPIAN ? "xapian" : "fts5", q,
			 err.msg);
	if ((int64_t)r.n_hits != r.total)
		fail_msg("'%s': %zu hits of %lld", q, r.n_hits,
			 (long long)r.total);
	v = sk_arena_alloc(a, (r.n_hits + 1) * sizeof(*v));
	for (size_t i = 0; i < r.n_hits; i++)
		v[i] = collapse ? r.hits[i].thread_id : r.hits[i].id;
	qsort(v, r.n_hits, sizeof(*v), cmp_i64);
	*total = r.total;
	return v;
}

static void
backends_return_the_same_sets(void **state)
{
	size_t len, queries = 0, nonempty = 0;
	char *text = sk_test_read("search/corpus-queries.txt", &len);
	char *save = NULL;
	(void)state;

	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!*line || *line == '#')
			continue;
		for (int c = 0; c < 2; c++) {
			struct sk_arena *a = sk_arena_new(0);
			int64_t tx, tf;
			int64_t *x = ids(a, line, SK_BACKEND_XAPIAN, c, &tx);
			int64_t *f = ids(a, line, SK_BACKEND_FTS5, c, &tf);
			if (tx != tf || memcmp(x, f, (size_t)tx * sizeof(*x)))
				fail_msg("'%s'%s: xapian %lld, fts5 %lld", line,
					 c ? " (threads)" : "", (long long)tx,
					 (long long)tf);
			if (!c && tx)
				nonempty++;
			sk_arena_free(&a);
		}
		queries++;
	}
	printf("conformance: %zu queries, %zu with results, identical on "
	       "both backends\n",
	       queries, nonempty);
	assert_true(queries >= 60);
	assert_true(nonempty >= queries / 2);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backends_return_the_same_sets),
	};
	return cmocka_run_group_tests_name("index/conformance", tests, setup,
					   teardown);
}
