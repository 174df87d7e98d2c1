/* tests/test_ingest_store.c: ingest into the real store (index/), end to
 * end: the hostile corpus lands whole (malformed mail raw and flagged, the
 * parser crash included), re-reading adds nothing, the raw bytes come back
 * as they were. */
#include "tests/helpers/sk_test.h"
#include "ingest/sk_ingest.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *TMP;

static int
setup(void **state)
{
	(void)state;
	TMP = sk_test_tmpdir();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sk_test_rmdir(&TMP);
	return 0;
}

static struct sk_index *
open_store(void)
{
	char dir[600];
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };

	snprintf(dir, sizeof(dir), "%s/data", TMP);
	assert_int_equal(
	    sk_index_open(dir,
	                  SK_INDEX_WRITE | SK_INDEX_CREATE | SK_INDEX_NO_XAPIAN,
	                  &ix, &err),
	    SK_OK);
	return ix;
}

/* A Maildir holding every fixture of tests/data/mime; returns how many. */
static int
make_maildir(char path[600])
{
	char cmd[2000];
	DIR *d;
	struct dirent *de;
	int k = 0;

	snprintf(path, 600, "%s/Maildir", TMP);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/cur' '%s/new' '%s/tmp'", path,
	         path, path);
	assert_int_equal(system(cmd), 0);
	d = opendir(sk_test_data("mime"));
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strstr(de->d_name, ".eml"))
			continue;
		snprintf(
		    cmd, sizeof(cmd), "cp '%s/%s' '%s/cur/%d.M%dP1.test:2,S'",
		    sk_test_data("mime"), de->d_name, path, 1700000000 + k, k);
		assert_int_equal(system(cmd), 0);
		k++;
	}
	closedir(d);
	return k;
}

static struct sk_ingest_counts
ingest_maildir(struct sk_index *ix, const char *dir)
{
	struct sk_ingest_settings set = { .workers = 2, .quiet = true };
	struct sk_ingest *ing = NULL;
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };

	assert_int_equal(sk_ingest_new(ix, &set, &ing, &err), SK_OK);
	assert_int_equal(sk_ingest_maildir(ing, dir, false, &err), SK_OK);
	sk_ingest_counts(ing, &n);
	assert_int_equal(sk_ingest_finish(&ing, &err), SK_OK);
	return n;
}

static void
stores_the_hostile_corpus_whole(void **state)
{
	struct sk_index *ix = open_store();
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { .logged_in = true, .coordinator = true };
	struct sk_message_row row;
	struct sk_ingest_counts n;
	struct sk_stats st;
	struct sk_err err = { 0 };
	char dir[600];
	const char *raw;
	size_t raw_len, file_len;
	char *file;
	int files = make_maildir(dir);

	(void)state;
	n = ingest_maildir(ix, dir);
	assert_int_equal(n.seen, files);
	assert_int_equal(n.stored, files);
	assert_int_equal(n.failed, 0);
	assert_int_equal(sk_index_stats(ix, &st, &err), SK_OK);
	assert_int_equal(st.messages, files);
	assert_int_equal(st.flagged, n.flagged);
	assert_true(st.flagged >= 3);

	/* The message that crashes libetpan: kept raw, flagged, readable. */
	assert_int_equal(
	    sk_index_message(ix, a, &v, "crash-1@test.example", &row, &err),
	    SK_OK);
	assert_true(row.flags & SK_MSG_MALFORMED);
	assert_true(sk_starts_with(row.parse_error, "parser crashed ("));
	assert_string_equal(row.subject, "Granica w cudzysłowie");
	assert_int_equal(sk_index_message_raw(ix, a, &v, "crash-1@test.example",
	                                      &raw, &raw_len, &err),
	                 SK_OK);
	file = sk_test_read("mime/boundary-quote-crash.eml", &file_len);
	assert_int_equal(raw_len, file_len);
	assert_memory_equal(raw, file, file_len);
	free(file);

	/* Text from attachments and charsets made it in. */
	assert_int_equal(
	    sk_index_message(ix, a, &v, "rfc2231@test.example", &row, &err),
	    SK_OK);
	assert_int_equal(row.n_attachments, 1);
	assert_string_equal(row.attachments[0].filename,
	                    "Łódź – regulamin zamówień.pdf");
	assert_string_equal(row.attachments[0].extract_status, "ok");

	/* Reading the Maildir again stores nothing twice. */
	n = ingest_maildir(ix, dir);
	assert_int_equal(n.seen, 0);
	assert_int_equal(sk_index_stats(ix, &st, &err), SK_OK);
	assert_int_equal(st.messages, files);

	sk_arena_free(&a);
	sk_index_close(&ix);
}

static void
resumes_an_mbox_in_the_real_store(void **state)
{
	struct sk_index *ix = open_store();
	struct sk_ingest_settings set = { .workers = 1, .quiet = true };
	struct sk_ingest *ing = NULL;
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };

	(void)state;
	for (int run = 0; run < 2; run++) {
		assert_int_equal(sk_ingest_new(ix, &set, &ing, &err), SK_OK);
		assert_int_equal(
		    sk_ingest_mbox(ing, sk_test_data("mbox/mboxrd.mbox"), &err),
		    SK_OK);
		sk_ingest_counts(ing, &n);
		assert_int_equal(sk_ingest_finish(&ing, &err), SK_OK);
		assert_int_equal(n.seen, run == 0 ? 3 : 0);
		assert_int_equal(n.stored, run == 0 ? 3 : 0);
	}
	sk_index_close(&ix);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(stores_the_hostile_corpus_whole),
		T(resumes_an_mbox_in_the_real_store),
	};
	return cmocka_run_group_tests_name("ingest/store", tests, NULL, NULL);
}
