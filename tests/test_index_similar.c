/* tests/test_index_similar.c: "similar threads" on the demo corpus. */
#include "tests/helpers/sk_test.h"
#include "index/sk_index.h"
#include "ingest/sk_ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static struct sk_index *ix;

static int
setup(void **state)
{
	struct sk_ingest_settings set = { .quiet = true, .workers = 1 };
	struct sk_ingest *ing;
	struct sk_err err = { 0 };
	(void)state;
	dir = sk_test_tmpdir();
	if (sk_index_open(dir, SK_INDEX_CREATE | SK_INDEX_WRITE |
				       SK_INDEX_NO_XAPIAN,
			  &ix, &err) ||
	    sk_index_load_taxonomy(ix, sk_index_default_taxonomy(), &err) ||
	    sk_ingest_new(ix, &set, &ing, &err) ||
	    sk_ingest_mbox(ing, "demo/praktyki-2024.mbox", &err) ||
	    sk_ingest_finish(&ing, &err)) {
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

/* The thread of the first message whose subject contains s. */
static int64_t
thread_about(struct sk_arena *a, const char *q)
{
	struct sk_search_opts o = { .query = q, .limit = 1,
				    .backend = SK_BACKEND_FTS5,
				    .viewer = { true, true } };
	struct sk_results r;
	struct sk_err err = { 0 };
	assert_int_equal(sk_search(ix, a, &o, &r, &err), SK_OK);
	assert_true(r.n_hits >= 1);
	return r.hits[0].thread_id;
}

static void
finds_threads_on_the_same_subject(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { true, false };
	struct sk_thread_row *rows;
	struct sk_err err = { 0 };
	size_t n;
	int64_t t = thread_about(a, "temat:wniosek temat:taryfowy");
	bool water = false;
	(void)state;

	assert_int_equal(sk_index_similar_threads(ix, a, &v, t, 5, &rows, &n,
						  &err),
			 SK_OK);
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		printf("similar: %s\n", rows[i].subject);
		assert_int_not_equal(rows[i].id, t);
		for (size_t k = 0; k < rows[i].n_topics; k++)
			water = water ||
				!strcmp(rows[i].topics[k], "woda-scieki");
	}
	/* Another water-tariff thread is among the closest. */
	assert_true(water);
	sk_arena_free(&a);
}

static void
unknown_thread_is_not_found(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { true, false };
	struct sk_thread_row *rows;
	struct sk_err err = { 0 };
	size_t n;
	(void)state;
	assert_int_equal(sk_index_similar_threads(ix, a, &v, 999999, 5, &rows,
						  &n, &err),
			 SK_ENOTFOUND);
	sk_arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_threads_on_the_same_subject),
		cmocka_unit_test(unknown_thread_is_not_found),
	};
	return cmocka_run_group_tests_name("index/similar", tests, setup,
					   teardown);
}
