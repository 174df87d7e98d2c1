/* tests/test_index_bulk.c: bulk mode (sk_index_set_bulk), where Xapian's
 * commit of a batch runs on a background thread while the next batch is
 * stored. The queue entries of a batch stay in xapian_pending until that
 * commit is confirmed (the next drain, a catch-up or close), so a crash
 * at any moment loses nothing; afterwards Xapian holds every message. */
#include "tests/helpers/sk_test.h"

#include "index/private.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx {
	char *dir;
	struct sk_index *ix;
	struct sk_arena *a;
	int next;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_err err = { 0 };
	fx->dir = sk_test_tmpdir();
	fx->a = sk_arena_new(0);
	if (sk_index_open(fx->dir, SK_INDEX_CREATE | SK_INDEX_WRITE, &fx->ix,
	                  &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	sk_index_close(&fx->ix);
	sk_arena_free(&fx->a);
	sk_test_rmdir(&fx->dir);
	free(fx);
	return 0;
}

static void
add(struct fx *fx)
{
	struct sk_message m = { 0 };
	struct sk_err err = { 0 };
	int i = fx->next++;

	m.message_id = sk_arena_printf(fx->a, "bulk-%d@brzozowka.example", i);
	m.body = sk_arena_printf(fx->a,
	                         "Harmonogram odbioru odpadów, część %d.\n", i);
	m.raw = sk_arena_printf(fx->a, "Message-ID: <%s>\n\n%s", m.message_id,
	                        m.body);
	m.raw_len = strlen(m.raw);
	m.subject = sk_arena_printf(fx->a, "Odpady %d", i);
	m.from_name = "Anna Kowalczyk";
	m.from_addr = "a.kowalczyk@brzozowka.example";
	m.date = 1700000000 + i * 60;
	m.quote_start = strlen(m.body);
	if (sk_index_add_message(fx->ix, &m, NULL, &err))
		fail_msg("add: %s", err.msg);
}

static void
batch(struct fx *fx, int n)
{
	struct sk_err err = { 0 };
	assert_int_equal(sk_index_begin(fx->ix, &err), SK_OK);
	for (int i = 0; i < n; i++)
		add(fx);
	if (sk_index_commit(fx->ix, &err))
		fail_msg("commit: %s", err.msg);
}

static int64_t
pending(struct sk_index *ix)
{
	sqlite3_stmt *st;
	int64_t n = -1;
	assert_int_equal(
	    sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM xapian_pending",
	                       -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Documents in the committed Xapian index, as a new reader sees it. */
static int64_t
xapian_docs(struct fx *fx)
{
	struct sk_xdb *r = NULL;
	struct sk_err err = { 0 };
	char *dir = sk_arena_printf(fx->a, "%s/xapian", fx->dir);
	int64_t n;
	if (sk_xdb_open(dir, SK_XDB_READ, &r, &err))
		fail_msg("open: %s", err.msg);
	n = sk_xdb_doccount(r);
	sk_xdb_close(&r);
	return n;
}

static int64_t
mmap_size(struct sk_index *ix)
{
	sqlite3_stmt *st;
	int64_t n = -1;
	assert_int_equal(
	    sqlite3_prepare_v2(ix->db, "PRAGMA mmap_size", -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
test_queue_kept_until_confirmed(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	int64_t mm = mmap_size(fx->ix);

	sk_index_set_bulk(fx->ix, true);
	assert_int_equal(mmap_size(fx->ix), 0);
	batch(fx, 3);
	/* The commit may still run: its entries stay queued. */
	assert_int_equal(fx->ix->n_xap_async, 3);
	assert_int_equal(pending(fx->ix), 3);
	/* The next batch's drain confirms the first and queues its own. */
	batch(fx, 2);
	assert_int_equal(pending(fx->ix), 2);
	/* The first commit is done; the second may be. */
	int64_t docs = xapian_docs(fx);
	assert_true(docs == 3 || docs == 5);
	/* A catch-up waits for everything. */
	assert_int_equal(sk_index_xapian_catch_up(fx->ix, &err), SK_OK);
	assert_int_equal(pending(fx->ix), 0);
	assert_int_equal(fx->ix->n_xap_async, 0);
	assert_int_equal(xapian_docs(fx), 5);
	sk_index_set_bulk(fx->ix, false);
	assert_int_equal(mmap_size(fx->ix), mm);
	/* Out of bulk mode a commit is synchronous again. */
	batch(fx, 1);
	assert_int_equal(pending(fx->ix), 0);
	assert_int_equal(xapian_docs(fx), 6);
}

/* Closing applies and confirms the last background commit; a writer
 * opened afterwards has nothing left to do. */
static void
test_close_confirms(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };

	sk_index_set_bulk(fx->ix, true);
	batch(fx, 4);
	batch(fx, 4);
	sk_index_close(&fx->ix);
	assert_int_equal(xapian_docs(fx), 8);
	assert_int_equal(sk_index_open(fx->dir, SK_INDEX_WRITE, &fx->ix, &err),
	                 SK_OK);
	assert_int_equal(pending(fx->ix), 0);
}

/* Entries whose commit was never confirmed (a crash) are put again by the
 * next writer: simulated by forgetting the confirmation. */
static void
test_unconfirmed_entries_are_redone(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };

	sk_index_set_bulk(fx->ix, true);
	batch(fx, 3);
	assert_int_equal(sk_xdb_wait(fx->ix->xdb, &err), SK_OK);
	fx->ix->n_xap_async = 0; /* as if killed before the next drain */
	sk_index_close(&fx->ix);
	assert_int_equal(
	    sk_index_open(fx->dir, SK_INDEX_NO_XAPIAN, &fx->ix, &err), SK_OK);
	assert_int_equal(pending(fx->ix), 3);
	sk_index_close(&fx->ix);
	/* The next writer drains the queue when it opens. */
	assert_int_equal(sk_index_open(fx->dir, SK_INDEX_WRITE, &fx->ix, &err),
	                 SK_OK);
	assert_int_equal(pending(fx->ix), 0);
	assert_int_equal(xapian_docs(fx), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queue_kept_until_confirmed,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_confirms, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(
		    test_unconfirmed_entries_are_redone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
