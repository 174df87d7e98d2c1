/* tests/test_ingest_sources.c: Maildir (nested folders, new/ and cur/,
 * flags in names, resume, --watch) and mbox (mboxrd and mboxo quoting,
 * resume after a partial run), then the real corpora and the demo
 * corpus. The store is the in-memory fake of test_ingest_fake.h. */
#include "tests/helpers/sk_test.h"
#include "tests/test_ingest_fake.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IX ((struct sk_index *)&fx)

static char *TMP;

static int
setup(void **state)
{
	(void)state;
	fx_reset();
	TMP = sk_test_tmpdir();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	fx_reset();
	sk_test_rmdir(&TMP);
	return 0;
}

static struct sk_ingest *
start(unsigned batch)
{
	struct sk_ingest_settings set = { .workers = 2,
		                          .batch = batch,
		                          .quiet = true };
	struct sk_ingest *ing = NULL;
	struct sk_err err = { 0 };
	assert_int_equal(sk_ingest_new(IX, &set, &ing, &err), SK_OK);
	return ing;
}

static struct sk_ingest_counts
finish(struct sk_ingest **ing, enum sk_status want)
{
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	sk_ingest_counts(*ing, &n);
	assert_int_equal(sk_ingest_finish(ing, &err), want);
	return n;
}

/* Copy tests/data/REL into the temp dir; returns the copy's path. */
static const char *
copy_fixture(const char *rel)
{
	static char dst[700];
	char cmd[1600];
	snprintf(dst, sizeof(dst), "%s/%s", TMP,
	         strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel);
	snprintf(cmd, sizeof(cmd), "cp -R '%s' '%s'", sk_test_data(rel), dst);
	assert_int_equal(system(cmd), 0);
	return dst;
}

static const char *
body_of(const char *message_id)
{
	const struct fake_msg *m = fx_find(message_id);
	assert_non_null(m);
	return m->body;
}

/* ---- Maildir ------------------------------------------------------------- */

static void
reads_nested_maildir_folders(void **state)
{
	struct sk_ingest *ing = start(0);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };

	(void)state;
	assert_int_equal(
	    sk_ingest_maildir(ing, sk_test_data("maildir"), false, &err),
	    SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.seen, 4);
	assert_int_equal(n.stored, 4);
	assert_non_null(fx_find("md1@test.example"));
	assert_non_null(fx_find("md2@test.example"));
	assert_non_null(fx_find("md4@test.example"));
	assert_null(fx_find("md-tmp@test.example")); /* tmp/ is the MDA's */
	assert_string_equal(body_of("md3@test.example"),
	                    "Wniosek o dofinansowanie złożony.");
	assert_string_equal(fx_find("md3@test.example")->from_name, "Paweł");
	/* The unique name is what precedes ":2,". */
	assert_true(sk_index_source_file_done(IX, fx_source("maildir")->id,
	                                      "1705306320.M1P100.skarbnica"));
	assert_true(sk_index_source_file_done(IX, fx_source("maildir")->id,
	                                      "1705306321.M2P100.skarbnica"));
	assert_true(sk_index_source_file_done(
	    IX, fx_source("maildir")->id,
	    ".Projekty/.Archiwum/1705306324.M5P100.skarbnica"));
	assert_int_equal(fx.n_files, 4); /* not dovecot-uidlist */
}

static void
skips_maildir_mail_already_stored(void **state)
{
	const char *dir = copy_fixture("maildir");
	struct sk_ingest *ing = start(0);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	char from[1400], to[1400];

	(void)state;
	assert_int_equal(sk_ingest_maildir(ing, dir, false, &err), SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.stored, 4);
	/* The MUA reads the new message (new/ -> cur/, flags added). */
	snprintf(from, sizeof(from), "%s/new/1705306321.M2P100.skarbnica", dir);
	snprintf(to, sizeof(to), "%s/cur/1705306321.M2P100.skarbnica:2,S", dir);
	assert_int_equal(rename(from, to), 0);
	ing = start(0);
	assert_int_equal(sk_ingest_maildir(ing, dir, false, &err), SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.seen, 0);
	assert_int_equal(fx.n_committed, 4);
}

struct delivery {
	char dir[700];
};

/* Deliver a message the Maildir way (tmp/, then rename into new/) and a
 * new folder, then stop the watch. */
static void *
deliver_later(void *arg)
{
	struct delivery *d = arg;
	char tmp[1000], dst[1000], folder[1000];
	FILE *f;

	usleep(300 * 1000);
	snprintf(tmp, sizeof(tmp), "%s/tmp/1705400000.M9P9.skarbnica", d->dir);
	snprintf(dst, sizeof(dst), "%s/new/1705400000.M9P9.skarbnica", d->dir);
	f = fopen(tmp, "w");
	fputs("From: ewa@sosnica.example\nMessage-ID: <live@test.example>\n"
	      "Subject: Na żywo\n\nDostarczona podczas obserwacji.\n",
	      f);
	fclose(f);
	rename(tmp, dst);
	usleep(300 * 1000);
	snprintf(folder, sizeof(folder), "%s/.Nowy", d->dir);
	mkdir(folder, 0700);
	snprintf(folder, sizeof(folder), "%s/.Nowy/cur", d->dir);
	mkdir(folder, 0700);
	usleep(300 * 1000);
	snprintf(dst, sizeof(dst), "%s/.Nowy/cur/1705400001.M9P9.skarbnica:2,S",
	         d->dir);
	f = fopen(dst, "w");
	fputs("From: jan@jaskowo.example\nMessage-ID: <live2@test.example>\n"
	      "Subject: W nowym folderze\n\nTreść.\n",
	      f);
	fclose(f);
	/* Stop once both are committed (or after 15 s: the test fails). */
	for (int i = 0;
	     i < 150 && __atomic_load_n(&fx.n_committed, __ATOMIC_SEQ_CST) < 6;
	     i++)
		usleep(100 * 1000);
	sk_ingest_stop();
	return NULL;
}

static void
picks_up_new_mail_while_watching(void **state)
{
	struct delivery d;
	struct sk_ingest *ing;
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	pthread_t t;

	(void)state;
	snprintf(d.dir, sizeof(d.dir), "%s", copy_fixture("maildir"));
	ing = start(0);
	assert_int_equal(pthread_create(&t, NULL, deliver_later, &d), 0);
	assert_int_equal(sk_ingest_maildir(ing, d.dir, true, &err), SK_OK);
	pthread_join(t, NULL);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.stored, 6);
	assert_string_equal(body_of("live@test.example"),
	                    "Dostarczona podczas obserwacji.");
	assert_non_null(fx_find("live2@test.example"));
}

/* ---- mbox ---------------------------------------------------------------- */

static void
unescapes_mboxrd(void **state)
{
	struct sk_ingest *ing = start(0);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };

	(void)state;
	assert_int_equal(
	    sk_ingest_mbox(ing, sk_test_data("mbox/mboxrd.mbox"), &err), SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.stored, 3);
	assert_string_equal(body_of("rd2@test.example"),
	                    "From the start of a line\n>From quoted once\n"
	                    ">>From quoted twice\nNot >From the start");
	assert_string_equal(body_of("rd3@test.example"), "Koniec.");
	/* The separator's blank line is not part of a message. */
	{
		const char *r = fx_find("rd1@test.example")->raw;
		size_t l = strlen(r);
		assert_true(l > 2 && r[l - 1] == '\n' && r[l - 2] != '\n');
		assert_false(sk_starts_with(r, "From "));
	}
}

static void
unescapes_mboxo(void **state)
{
	struct sk_ingest *ing = start(0);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };

	(void)state;
	assert_int_equal(
	    sk_ingest_mbox(ing, sk_test_data("mbox/mboxo.mbox"), &err), SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.stored, 3);
	assert_string_equal(body_of("o1@test.example"),
	                    "From escaped\n>>From kept as is");
	assert_string_equal(
	    body_of("o2@test.example"),
	    "Bez pustej linii na końcu.\nFrom here on it is body text");
	assert_string_equal(body_of("o3@test.example"), "Ostatnia.");
}

static void
resumes_an_mbox_after_a_partial_run(void **state)
{
	const char *path = copy_fixture("mbox/mboxrd.mbox");
	struct sk_ingest *ing = start(1);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	int64_t offset;

	(void)state;
	fx.fail_at = 1; /* the store fails on the second message */
	assert_int_equal(sk_ingest_mbox(ing, path, &err), SK_EDB);
	finish(&ing, SK_EDB);
	assert_int_equal(fx.n_committed, 1);
	offset = fx_source("mbox")->mbox_offset;
	assert_true(offset > 0);
	fx.fail_at = -1;
	ing = start(1);
	assert_int_equal(sk_ingest_mbox(ing, path, &err), SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.seen, 2); /* only what was left */
	assert_int_equal(n.stored, 2);
	assert_int_equal(n.duplicates, 0);
	assert_int_equal(fx.n_committed, 3);
	/* A third run has nothing to do. */
	ing = start(1);
	assert_int_equal(sk_ingest_mbox(ing, path, &err), SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.seen, 0);
}

static void
rereads_an_mbox_whose_position_is_stale(void **state)
{
	const char *path = copy_fixture("mbox/mboxo.mbox");
	struct sk_ingest *ing = start(0);
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	struct sk_source_state st;
	char real[1000];

	(void)state;
	assert_int_equal(sk_ingest_mbox(ing, path, &err), SK_OK);
	finish(&ing, SK_OK);
	/* The file was rewritten; the recorded offset is mid-message. */
	assert_non_null(realpath(path, real));
	assert_int_equal(sk_index_source_get(IX, "mbox", real, &st, &err),
	                 SK_OK);
	st.mbox_offset = 17;
	assert_int_equal(sk_index_source_set(IX, &st, &err), SK_OK);
	ing = start(0);
	assert_int_equal(sk_ingest_mbox(ing, path, &err), SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.seen, 3);
	assert_int_equal(n.duplicates, 3);
}

static void
refuses_a_file_that_is_not_an_mbox(void **state)
{
	struct sk_ingest *ing = start(0);
	struct sk_err err = { 0 };

	(void)state;
	assert_int_equal(
	    sk_ingest_mbox(ing, sk_test_data("mbox/not-an-mbox.txt"), &err),
	    SK_EPARSE);
	assert_int_equal(sk_ingest_mbox(ing, "/no/such/file", &err),
	                 SK_ENOTFOUND);
	assert_int_equal(sk_ingest_maildir(ing, "/no/such/dir", false, &err),
	                 SK_ENOTFOUND);
	finish(&ing, SK_OK);
}

/* ---- corpora ----------------------------------------------------------------
 */

static void
reads_the_notmuch_corpus(void **state)
{
	const char *dir = sk_test_corpus("notmuch-test-corpora/default");
	struct sk_ingest *ing;
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };

	(void)state;
	if (!dir)
		skip();
	ing = start(0);
	assert_int_equal(sk_ingest_maildir(ing, dir, false, &err), SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.seen, 53);
	assert_int_equal(n.stored + n.duplicates, 53);
	assert_int_equal(n.flagged, 0);
	for (size_t i = 0; i < fx.n_committed; i++)
		assert_false(fx.msgs[i].flags & SK_MSG_SYNTHETIC_ID);
}

static void
reads_the_polish_spam_mbox(void **state)
{
	const char *path = sk_test_corpus("pl-lore-spam/pl-lore-spam.mbox");
	struct sk_ingest *ing;
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	bool polish = false;

	(void)state;
	if (!path)
		skip();
	ing = start(0);
	assert_int_equal(sk_ingest_mbox(ing, path, &err), SK_OK);
	n = finish(&ing, SK_OK);
	assert_int_equal(n.seen, 44);
	assert_int_equal(n.stored + n.duplicates, 44);
	for (size_t i = 0; i < fx.n_committed; i++) {
		assert_true(
		    sk_utf8_valid(fx.msgs[i].body, strlen(fx.msgs[i].body)));
		polish |=
		    strstr(fx.msgs[i].subject, "Nawiązanie współpracy") != NULL;
	}
	assert_true(polish);
}

/* Signs of windows-1250 read as Latin-1 or ISO-8859-2: ê for ę, œ for
 * ś, š for ą, ³ for ł after a letter (m³ is fine), ¹ for ą after a letter
 * (art. 18¹ is fine), or replacement characters. */
static bool
mojibake(const char *s)
{
	if (strstr(s, "\xC3\xAA") || strstr(s, "\xC5\x93") ||
	    strstr(s, "\xC5\xA1") || strstr(s, "\xEF\xBF\xBD"))
		return true;
	for (const char *p = s + 1; *p; p++)
		if (p[0] == '\xC2' && (p[1] == '\xB9' || p[1] == '\xB3') &&
		    ((p[-1] >= 'a' && p[-1] <= 'z' && p[-1] != 'm') ||
		     (unsigned char)p[-1] >= 0x80))
			return true;
	return false;
}

/* The demo corpus (the mbox files in demo/, generated by demo/generate.py):
 * every encoding its generator writes must come out as correct Polish. */
static void
reads_the_demo_corpus_in_polish(void **state)
{
	static const char *const files[] = { "demo/praktyki-2024.mbox",
		                             "demo/praktyki-2025.mbox" };
	size_t guessed = 0, html = 0, docs = 0;

	(void)state;
	if (access(files[0], R_OK) != 0) {
		printf("SKIP: demo corpus absent\n");
		skip();
	}
	for (size_t k = 0; k < SK_ARRAY_SIZE(files); k++) {
		struct sk_ingest *ing = start(0);
		struct sk_ingest_counts n;
		struct sk_err err = { 0 };
		if (access(files[k], R_OK) != 0)
			continue;
		assert_int_equal(sk_ingest_mbox(ing, files[k], &err), SK_OK);
		n = finish(&ing, SK_OK);
		assert_true(n.seen > 50);
		assert_int_equal(n.stored + n.duplicates, n.seen);
		assert_int_equal(n.flagged, 0);
	}
	for (size_t i = 0; i < fx.n_committed; i++) {
		const struct fake_msg *m = &fx.msgs[i];
		assert_true(sk_utf8_valid(m->body, strlen(m->body)));
		assert_false(mojibake(m->body));
		assert_false(mojibake(m->subject));
		assert_null(strstr(m->subject, "=?"));
		assert_true(m->from_addr[0] != '\0');
		guessed += (m->flags & SK_MSG_CHARSET_GUESSED) != 0;
		html += (m->flags & SK_MSG_HTML_ONLY) != 0;
		if (m->att_text && m->att_status &&
		    !strcmp(m->att_status, "ok"))
			docs++;
		if (m->flags & SK_MSG_HTML_ONLY)
			assert_null(strstr(m->body, "<p>"));
	}
	assert_true(guessed > 0);
	assert_true(html > 0);
	assert_true(docs > 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(reads_nested_maildir_folders),
		T(skips_maildir_mail_already_stored),
		T(picks_up_new_mail_while_watching),
		T(unescapes_mboxrd),
		T(unescapes_mboxo),
		T(resumes_an_mbox_after_a_partial_run),
		T(rereads_an_mbox_whose_position_is_stale),
		T(refuses_a_file_that_is_not_an_mbox),
		T(reads_the_notmuch_corpus),
		T(reads_the_polish_spam_mbox),
		T(reads_the_demo_corpus_in_polish),
	};
	return cmocka_run_group_tests_name("ingest/sources", tests, NULL, NULL);
}
