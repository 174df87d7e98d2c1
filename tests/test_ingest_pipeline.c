/* tests/test_ingest_pipeline.c: the run — worker pool, ordering, batches,
 * positions in the same transaction, a parser crash or hang costing one
 * message's parse (never the message), the List-Id filter, stdin. The
 * store is the in-memory fake of test_ingest_fake.h. */
#include "tests/helpers/sk_test.h"
#include "tests/test_ingest_fake.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IX ((struct sk_index *)&fx) /* the fake ignores the handle */

static int
setup(void **state)
{
	(void)state;
	fx_reset();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fx_reset();
	return 0;
}

static struct sk_ingest *
start(unsigned workers, unsigned batch, const char *list_id,
      const struct sk_limits *lim)
{
	struct sk_ingest_settings set = { .workers = workers,
		                          .batch = batch,
		                          .list_id = list_id,
		                          .quiet = true };
	struct sk_ingest *ing = NULL;
	struct sk_err err = { 0 };

	if (lim)
		set.limits = *lim;
	assert_int_equal(sk_ingest_new(IX, &set, &ing, &err), SK_OK);
	return ing;
}

static void
finish(struct sk_ingest **ing, enum sk_status want)
{
	struct sk_err err = { 0 };
	assert_int_equal(sk_ingest_finish(ing, &err), want);
	assert_null(*ing);
}

/* Message i: some big, most small, so workers finish out of order. */
static char *
make_message(int i, const char *extra)
{
	struct sk_buf b;
	sk_buf_init(&b, 1u << 24);
	sk_buf_addf(
	    &b,
	    "Message-ID: <m%d@test.example>\nFrom: Jan <jan@test.example>\n"
	    "Subject: wiadomość %d\n%s\nTreść numer %d.\n",
	    i, i, extra ? extra : "", i);
	if (i % 7 == 3)
		for (int k = 0; k < 6000; k++)
			sk_buf_adds(&b, "Długi wiersz wypełnienia treści, aby "
			                "wiadomość była duża.\n");
	return sk_buf_take(&b, NULL);
}

static void
submit(struct sk_ingest *ing, const char *raw, const struct sk_ingest_pos *pos,
       enum sk_status want)
{
	struct sk_err err = { 0 };
	assert_int_equal(sk_ingest_submit(ing, raw, strlen(raw), pos, &err),
	                 want);
}

static void
stores_in_submission_order(void **state)
{
	struct sk_ingest *ing = start(2, 7, NULL, NULL);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };

	(void)state;
	for (int i = 0; i < 60; i++) {
		char *m = make_message(i, NULL);
		submit(ing, m, NULL, SK_OK);
		free(m);
	}
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	sk_ingest_counts(ing, &n);
	assert_int_equal(n.seen, 60);
	assert_int_equal(n.stored, 60);
	assert_int_equal(n.flagged, 0);
	finish(&ing, SK_OK);
	assert_int_equal(fx.n_committed, 60);
	for (int i = 0; i < 60; i++) {
		char id[64];
		snprintf(id, sizeof(id), "m%d@test.example", i);
		assert_string_equal(fx.msgs[i].message_id, id);
	}
	assert_true(fx.commits >= 60 / 7);
	assert_false(fx.in_txn);
}

static void
keeps_a_message_that_crashes_the_parser(void **state)
{
	struct sk_ingest *ing = start(2, 0, NULL, NULL);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	size_t len;
	char *crash = sk_test_read("mime/boundary-quote-crash.eml", &len);
	char *a = make_message(1, NULL), *b = make_message(2, NULL);
	const struct fake_msg *m;

	(void)state;
	submit(ing, a, NULL, SK_OK);
	assert_int_equal(sk_ingest_submit(ing, crash, len, NULL, &err), SK_OK);
	submit(ing, b, NULL, SK_OK);
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	sk_ingest_counts(ing, &n);
	assert_int_equal(n.stored, 3);
	assert_int_equal(n.flagged, 1);
	finish(&ing, SK_OK);
	assert_string_equal(fx.msgs[0].message_id, "m1@test.example");
	assert_string_equal(fx.msgs[1].message_id, "crash-1@test.example");
	assert_string_equal(fx.msgs[2].message_id, "m2@test.example");
	m = fx_find("crash-1@test.example");
	assert_true(m->flags & SK_MSG_MALFORMED);
	/* The plain build dies of SIGSEGV; under ASan the report ends the
	 * worker with an exit status. Either way it is a crash. */
	assert_true(sk_starts_with(m->parse_error, "parser crashed ("));
	assert_string_equal(m->subject, "Granica w cudzysłowie");
	assert_int_equal(m->raw_len, len);
	assert_memory_equal(m->raw, crash, len);
	assert_false(fx_find("m2@test.example")->flags & SK_MSG_MALFORMED);
	free(crash);
	free(a);
	free(b);
}

static void
replaces_killed_workers(void **state)
{
	struct sk_ingest *ing = start(2, 0, NULL, NULL);
	struct sk_err err = { 0 };
	pid_t before[4], after[4];
	size_t nb, na;

	(void)state;
	nb = sk_ingest_worker_pids(ing, before, 4);
	assert_int_equal(nb, 2);
	for (size_t i = 0; i < nb; i++)
		kill(before[i], SIGKILL);
	usleep(100 * 1000);
	for (int i = 0; i < 10; i++) {
		char *m = make_message(i, NULL);
		submit(ing, m, NULL, SK_OK);
		free(m);
	}
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	na = sk_ingest_worker_pids(ing, after, 4);
	assert_int_equal(na, 2);
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			assert_int_not_equal(after[i], before[j]);
	finish(&ing, SK_OK);
	assert_int_equal(fx.n_committed, 10);
	/* Killed while idle: no message is blamed for it. */
	for (size_t i = 0; i < fx.n_committed; i++)
		assert_false(fx.msgs[i].flags & SK_MSG_MALFORMED);
}

static void
stores_a_message_whose_parser_hangs(void **state)
{
	struct sk_ingest *ing = start(1, 0, NULL, NULL);
	struct sk_err err = { 0 };
	pid_t pid;
	char *m = make_message(5, NULL);
	const struct fake_msg *f;

	(void)state;
	sk_ingest_set_worker_timeout(ing, 2);
	assert_int_equal(sk_ingest_worker_pids(ing, &pid, 1), 1);
	kill(pid, SIGSTOP); /* a worker that never answers */
	submit(ing, m, NULL, SK_OK);
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	finish(&ing, SK_OK);
	f = fx_find("m5@test.example");
	assert_non_null(f);
	assert_true(f->flags & SK_MSG_MALFORMED);
	assert_true(sk_starts_with(f->parse_error, "parser timed out"));
	assert_string_equal(f->subject, "wiadomość 5");
	free(m);
}

static void
skips_mail_of_other_lists(void **state)
{
	struct sk_ingest *ing = start(1, 0, "praktyki.lista.example", NULL);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	char *ours =
	    make_message(1, "List-Id: Praktyki JST <praktyki.lista.example>\n");
	char *theirs = make_message(2, "List-Id: <inna.lista.example>\n");
	char *none = make_message(3, NULL);

	(void)state;
	submit(ing, ours, NULL, SK_OK);
	submit(ing, theirs, NULL, SK_OK);
	submit(ing, none, NULL, SK_OK);
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	sk_ingest_counts(ing, &n);
	assert_int_equal(n.seen, 3);
	assert_int_equal(n.stored, 2);
	assert_int_equal(n.skipped, 1);
	finish(&ing, SK_OK);
	assert_non_null(fx_find("m1@test.example"));
	assert_null(fx_find("m2@test.example"));
	assert_non_null(fx_find("m3@test.example"));
	free(ours);
	free(theirs);
	free(none);
}

static void
counts_duplicates(void **state)
{
	struct sk_ingest *ing = start(2, 0, NULL, NULL);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	char *m = make_message(1, NULL);

	(void)state;
	submit(ing, m, NULL, SK_OK);
	submit(ing, m, NULL, SK_OK);
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	sk_ingest_counts(ing, &n);
	assert_int_equal(n.stored, 1);
	assert_int_equal(n.duplicates, 1);
	finish(&ing, SK_OK);
	free(m);
}

static void
ends_the_run_when_the_store_fails(void **state)
{
	struct sk_ingest *ing = start(2, 2, NULL, NULL);
	struct sk_source_state st;
	struct sk_err err = { 0 };
	enum sk_status rc = SK_OK;

	(void)state;
	assert_int_equal(sk_index_source_get(IX, "mbox", "/x", &st, &err),
	                 SK_OK);
	fx.fail_at = 3; /* the fourth add */
	for (int i = 0; i < 6 && !rc; i++) {
		struct sk_ingest_pos pos = { .source_id = st.id,
			                     .mbox_offset = 100 * (i + 1) };
		char *m = make_message(i, NULL);
		rc = sk_ingest_submit(ing, m, strlen(m), &pos, &err);
		free(m);
	}
	if (!rc)
		rc = sk_ingest_flush(ing, &err);
	assert_int_equal(rc, SK_EDB);
	assert_string_equal(err.msg, "disk on fire");
	finish(&ing, SK_EDB);
	/* The first batch (two messages) is in, with its position; the
	 * failed batch left nothing behind. */
	assert_int_equal(fx.n_committed, 2);
	assert_int_equal(fx.n, 2);
	assert_int_equal(fx_source("mbox")->mbox_offset, 200);
	assert_false(fx.in_txn);
}

static void
stores_the_whole_of_an_oversized_message(void **state)
{
	struct sk_limits lim = { .message_bytes = 1000 };
	struct sk_ingest *ing = start(1, 0, NULL, &lim);
	struct sk_err err = { 0 };
	char *m = make_message(3, NULL); /* a big one */
	const struct fake_msg *f;

	(void)state;
	submit(ing, m, NULL, SK_OK);
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	finish(&ing, SK_OK);
	f = fx_find("m3@test.example");
	assert_non_null(f);
	assert_true(f->flags & SK_MSG_TRUNCATED);
	assert_int_equal(f->raw_len, strlen(m));
	free(m);
}

static void
reads_one_message_from_a_pipe(void **state)
{
	struct sk_ingest *ing = start(1, 0, NULL, NULL);
	struct sk_err err = { 0 };
	char *m = make_message(9, NULL);
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], m, strlen(m)), (ssize_t)strlen(m));
	close(fds[1]);
	assert_int_equal(sk_ingest_fd(ing, fds[0], &err), SK_OK);
	close(fds[0]);
	assert_int_equal(pipe(fds), 0);
	close(fds[1]);
	assert_int_equal(sk_ingest_fd(ing, fds[0], &err), SK_EINVAL);
	close(fds[0]);
	finish(&ing, SK_OK);
	assert_int_equal(fx.n_committed, 1);
	assert_string_equal(fx.msgs[0].message_id, "m9@test.example");
	free(m);
}

/* Every hostile fixture through the pool: all stored, none lost. */
static void
stores_every_hostile_message(void **state)
{
	struct sk_ingest *ing = start(2, 5, NULL, NULL);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	DIR *d = opendir(sk_test_data("mime"));
	struct dirent *de;
	int files = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		char rel[300];
		size_t len;
		char *raw;
		if (!strstr(de->d_name, ".eml"))
			continue;
		snprintf(rel, sizeof(rel), "mime/%s", de->d_name);
		raw = sk_test_read(rel, &len);
		assert_int_equal(sk_ingest_submit(ing, raw, len, NULL, &err),
		                 SK_OK);
		free(raw);
		files++;
	}
	closedir(d);
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	sk_ingest_counts(ing, &n);
	assert_int_equal(n.seen, files);
	assert_int_equal(n.stored, files);
	assert_int_equal(n.failed, 0);
	assert_true(n.flagged >= 3); /* crash, no header, lost boundary */
	finish(&ing, SK_OK);
	assert_int_equal(fx.n_committed, (size_t)files);
	for (size_t i = 0; i < fx.n_committed; i++) {
		assert_true(
		    sk_utf8_valid(fx.msgs[i].body, strlen(fx.msgs[i].body)));
		assert_true(fx.msgs[i].quote_start <= strlen(fx.msgs[i].body));
	}
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(stores_in_submission_order),
		T(keeps_a_message_that_crashes_the_parser),
		T(replaces_killed_workers),
		T(stores_a_message_whose_parser_hangs),
		T(skips_mail_of_other_lists),
		T(counts_duplicates),
		T(ends_the_run_when_the_store_fails),
		T(stores_the_whole_of_an_oversized_message),
		T(reads_one_message_from_a_pipe),
		T(stores_every_hostile_message),
	};
	return cmocka_run_group_tests_name("ingest/pipeline", tests, NULL,
	                                   NULL);
}
