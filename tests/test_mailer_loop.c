/* tests/test_mailer_loop.c: the whole loop with a real mailing-list
 * manager — a note posted (as the web form does) -> the outbox -> SMTP ->
 * mlmmj (subject tag, List-Id, footer, VERP) -> the subscriber's dovecot
 * mailbox -> IMAP ingest -> exactly one message in Skarbnica.
 *
 * The two MTA hops are played by smtp-sink plus a few lines here: what the
 * mailer submits is piped into mlmmj-receive (as an MTA's pipe transport
 * would, with Return-Path), and what mlmmj sends is written into the
 * Maildir (as an MDA would). Skips visibly without smtp-sink, mlmmj or
 * dovecot. */
#include "tests/helpers/sk_test.h"

#include "ingest/sk_ingest.h"
#include "mailer/sk_mailer.h"
#include "tests/helpers/dovecot.h"
#include "tests/helpers/smtp_sink.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MLMMJ_DIR "/usr/bin"
#define LIST "praktyki@lista.example"
#define FROM "skarbnica@lista.example"
#define SUBSCRIBER "radny@gmina.test"

/* ---- helpers --------------------------------------------------------------- */

static void
rm_tmp(char **path)
{
	char cmd[700];
	if (*path && strstr(*path, "/sk-test-") && !strstr(*path, "'")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", *path);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", *path);
	}
	free(*path);
	*path = NULL;
}

static bool
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok;
	if (!f)
		return false;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}

/* Run a command with text on its standard input; true on exit 0. */
static bool
pipe_into(const char *cmd, const char *text)
{
	FILE *p = popen(cmd, "w");
	if (!p)
		return false;
	fputs(text, p);
	return pclose(p) == 0;
}

/* ---- the fixture ------------------------------------------------------------------ */

struct fx {
	char *tmp;
	char data[600], list[900];
	struct sk_sink to_list, from_list;
	struct sk_dovecot *dv;
	struct sk_config cfg; /* [imap] of the subscriber's mailbox */
};

/* Write one of the list's control files. */
static void
control(struct fx *fx, const char *name, const char *text)
{
	size_t n = strlen(fx->list) + strlen(name) + 16;
	char *path = sk_xmalloc(n);
	snprintf(path, n, "%s/control/%s", fx->list, name);
	if (!write_text(path, text))
		fprintf(stderr, "cannot write %s\n", path);
	free(path);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char path[800], cmd[1200];
	int r;

	*state = fx;
	if (!sk_sink_installed() || access(MLMMJ_DIR "/mlmmj-receive", X_OK)) {
		printf("SKIP: smtp-sink or mlmmj not installed\n");
		return 0;
	}
	r = sk_dovecot_start(&fx->dv);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	fx->tmp = sk_test_tmpdir();
	chmod(fx->tmp, 0755);
	snprintf(fx->data, sizeof(fx->data), "%s/data", fx->tmp);
	snprintf(path, sizeof(path), "%s/to-list", fx->tmp);
	if (!sk_sink_start(&fx->to_list, path, NULL, NULL, 10))
		return -1;
	snprintf(path, sizeof(path), "%s/from-list", fx->tmp);
	if (!sk_sink_start(&fx->from_list, path, NULL, NULL, 10))
		return -1;

	/* The list: mlmmj with a subject tag, List-Id, a footer and one
	 * subscriber; it sends through the second sink. */
	snprintf(path, sizeof(path), "%s/spool", fx->tmp);
	mkdir(path, 0755);
	snprintf(cmd, sizeof(cmd),
		 "printf 'lista.example\\nowner@lista.example\\nen\\n' | "
		 MLMMJ_DIR "/mlmmj-make-ml -L praktyki -s '%s' >/dev/null 2>&1",
		 path);
	if (system(cmd) != 0)
		return -1;
	snprintf(fx->list, sizeof(fx->list), "%s/praktyki", path);
	snprintf(cmd, sizeof(cmd), "%d\n", fx->from_list.port);
	control(fx, "smtpport", cmd);
	control(fx, "relayhost", "127.0.0.1\n");
	control(fx, "prefix", "[Praktyki]\n");
	control(fx, "customheaders", "List-Id: <praktyki.lista.example>\n");
	control(fx, "footer", "-- \nLista praktyki partnerstwa\n");
	snprintf(cmd, sizeof(cmd),
		 MLMMJ_DIR "/mlmmj-sub -L '%s' -a " SUBSCRIBER
			   " -f -q -s >/dev/null 2>&1",
		 fx->list);
	if (system(cmd) != 0)
		return -1;

	sk_config_init(&fx->cfg);
	fx->cfg.imap.host = sk_xstrdup("127.0.0.1");
	fx->cfg.imap.port = (uint64_t)fx->dv->imap_port;
	fx->cfg.imap.tls = SK_TLS_STARTTLS;
	fx->cfg.imap.user = sk_xstrdup(fx->dv->user);
	fx->cfg.imap.password_file = sk_xstrdup(fx->dv->password_file);
	fx->cfg.imap.ca_file = sk_xstrdup(fx->dv->pki.ca);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	sk_sink_stop(&fx->to_list);
	sk_sink_stop(&fx->from_list);
	if (fx->dv)
		sk_config_release(&fx->cfg);
	sk_dovecot_stop(&fx->dv);
	rm_tmp(&fx->tmp);
	free(fx);
	return 0;
}

static struct sk_index *
open_ix(struct fx *fx, unsigned flags)
{
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	if (sk_index_open(fx->data, SK_INDEX_WRITE | flags, &ix, &err))
		fail_msg("open: %s", err.msg);
	return ix;
}

static enum sk_status
ingest_imap(struct fx *fx, struct sk_ingest_counts *n, struct sk_err *err)
{
	struct sk_index *ix = open_ix(fx, 0);
	struct sk_ingest_settings set = { .workers = 1, .quiet = true };
	struct sk_ingest *ing = NULL;
	struct sk_err ferr = { 0 };
	enum sk_status rc, frc;

	memset(n, 0, sizeof(*n));
	rc = sk_ingest_new(ix, &set, &ing, err);
	if (!rc) {
		rc = sk_ingest_imap(ing, &fx->cfg, false, err);
		sk_ingest_counts(ing, n);
		frc = sk_ingest_finish(&ing, &ferr);
		if (!rc && frc) {
			rc = frc;
			*err = ferr;
		}
	}
	sk_index_close(&ix);
	return rc;
}

/* Is message row id queued for Xapian (xapian_pending)? */
static bool
note_pending(struct fx *fx, int64_t id)
{
	char path[700];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	bool yes = false;

	snprintf(path, sizeof(path), "%s/skarbnica.db", fx->data);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db,
			       "SELECT 1 FROM xapian_pending WHERE message_id = ?1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return yes;
}

/* ---- the loop --------------------------------------------------------------------- */

static void
a_posted_note_comes_back_from_the_list_as_the_same_message(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mail_settings ms = { .from = FROM, .list_address = LIST,
				       .base_url = "https://s.example" };
	const char *topics[] = { "zamowienia" };
	struct sk_note_in note = {
		.quarter = "2024-Q3",
		.title = "Wspólny przetarg na energię — ustalenia",
		.place = "Chełmno",
		.partners_present = "Gmina Stolno, Gmina Chełmno, Gmina Lisewo",
		.topics = topics,
		.n_topics = 1,
		.body_md = "Uzgodniliśmy **wspólny przetarg** na dostawy "
			   "energii elektrycznej na 2025 rok.\n",
		.decisions = "- liderem jest Gmina Chełmno\n",
		.author_email = "anna@stolno.pl",
	};
	struct sk_mailer_opts o = { 0 };
	struct sk_mailer_counts mc;
	struct sk_ingest_counts ic;
	struct sk_note_posted posted;
	struct sk_viewer v = { .logged_in = true, .coordinator = true };
	struct sk_message_row row;
	struct sk_stats st;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	char *msgs[4], *in, *cmd;
	int n;

	if (!fx->dv) {
		skip();
		return;
	}
	/* The store (with Xapian), a coordinator; then the note on a
	 * writable handle without Xapian, as the web's note form does while
	 * ingest holds the Xapian writer. */
	ix = NULL;
	if (sk_index_open(fx->data, SK_INDEX_WRITE | SK_INDEX_CREATE, &ix,
			  &err) ||
	    sk_index_load_taxonomy(ix, sk_index_default_taxonomy(), &err) ||
	    sk_index_user_set(ix, "anna@stolno.pl", "Anna Wiśniewska",
			      SK_ROLE_COORDINATOR, NULL, &err))
		fail_msg("store: %s", err.msg);
	sk_index_close(&ix);
	ix = open_ix(fx, SK_INDEX_NO_XAPIAN);
	if (sk_index_note_post(ix, a, &note, sk_mail_note_compose, &ms,
			       time(NULL), &posted, &err))
		fail_msg("post: %s", err.msg);
	sk_index_close(&ix);

	/* The mailer submits it. */
	o.smtp.host = "127.0.0.1";
	o.smtp.port = (uint16_t)fx->to_list.port;
	o.smtp.tls = SK_TLS_NONE;
	o.once = true;
	assert_int_equal(sk_mailer_run_opts(fx->data, &o, &mc, &err), SK_OK);
	assert_int_equal(mc.sent, 1);
	assert_true(sk_sink_wait(&fx->to_list, 1, 10000));
	assert_int_equal(sk_sink_messages(&fx->to_list, msgs, 4), 1);

	/* The MTA hands it to the list (mlmmj drops mail without a
	 * Return-Path). */
	in = sk_arena_printf(a, "Return-Path: <%s>\n%s", FROM, msgs[0]);
	free(msgs[0]);
	cmd = sk_arena_printf(a, MLMMJ_DIR "/mlmmj-receive -L '%s' -F",
			      fx->list);
	assert_true(pipe_into(cmd, in));

	/* The list sends its copy to the subscriber; an MDA files it. */
	assert_true(sk_sink_wait(&fx->from_list, 1, 10000));
	n = sk_sink_messages(&fx->from_list, msgs, 4);
	assert_int_equal(n, 1);
	assert_non_null(strstr(msgs[0], "[Praktyki]"));
	assert_non_null(strstr(msgs[0], "List-Id: <praktyki.lista.example>"));
	assert_non_null(strstr(msgs[0], posted.message_id));
	sk_dovecot_deliver(fx->dv, msgs[0], strlen(msgs[0]));
	free(msgs[0]);

	/* Ingest reads the mailbox: the list copy is the note itself. */
	if (ingest_imap(fx, &ic, &err))
		fail_msg("ingest: %s", err.msg);
	assert_int_equal(ic.seen, 1);
	assert_int_equal(ic.duplicates, 1);
	assert_int_equal(ic.stored, 0);
	ix = open_ix(fx, SK_INDEX_NO_XAPIAN);
	assert_int_equal(sk_index_stats(ix, &st, &err), SK_OK);
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.notes, 1);
	assert_int_equal(sk_index_message(ix, a, &v, posted.message_id, &row,
					  &err),
			 SK_OK);
	assert_non_null(strstr(row.subject, "Wspólny przetarg"));
	sk_index_close(&ix);

	/* Both backends find it, once. */
	for (int b = 0; b < 2; b++) {
		struct sk_search_opts so = {
			.query = "wspólny przetarg energia",
			.backend = b ? SK_BACKEND_XAPIAN : SK_BACKEND_FTS5,
			.viewer = v,
		};
		struct sk_results r;
		ix = NULL;
		assert_int_equal(sk_index_open(fx->data, 0, &ix, &err), SK_OK);
		if (sk_search(ix, a, &so, &r, &err))
			fail_msg("search: %s", err.msg);
		sk_index_close(&ix);
		/* The ingest run above had the Xapian handle: it drained
		 * the queue the web-side post left in xapian_pending. */
		assert_false(note_pending(fx, posted.message_row_id));
		if (r.total != 1)
			fail_msg("%s finds %lld", b ? "xapian" : "fts5",
				 (long long)r.total);
	}

	/* Again: nothing new. */
	assert_int_equal(ingest_imap(fx, &ic, &err), SK_OK);
	assert_int_equal(ic.stored, 0);
	sk_arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			a_posted_note_comes_back_from_the_list_as_the_same_message,
			setup, teardown),
	};
	sk_log_set_level(SK_LOG_WARNING);
	return cmocka_run_group_tests_name("mailer/loop", tests, NULL, NULL);
}
