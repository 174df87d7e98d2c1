/* tests/test_mailer_outbox.c: the outbox state machine (index/outbox.c)
 * and the sending loop (mailer/outbox.c) against postfix's smtp-sink on
 * 127.0.0.1 — retries with backoff, permanent failures, a mailer killed
 * between steps (a forked child that _exit()s at a step), the
 * exactly-once rule, notes posted into the archive, digest dedup. */
#include "tests/helpers/sk_test.h"

#include "ingest/sk_ingest.h"
#include "mailer/sk_mailer.h"
#include "tests/helpers/smtp_sink.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIST "praktyki@lista.example"
#define FROM "skarbnica@lista.example"
#define T0 ((time_t)1717372800) /* Monday 2024-06-03 00:00 UTC */

/* sk_test_rmdir() refuses paths as short as sk_test_tmpdir() makes them
 * (/tmp/sk-test-XXXXXX): remove ours here. */
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

/* ---- the fixture ------------------------------------------------------------- */

struct fx {
	char *tmp;
	char data[600];
	struct sk_sink sink;
	struct sk_mail_settings ms;
};

static time_t fake_now;

static time_t
fake_clock(void)
{
	return fake_now;
}

static struct sk_index *
open_ix(struct fx *fx)
{
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	if (sk_index_open(fx->data, SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN, &ix,
			  &err))
		fail_msg("open: %s", err.msg);
	return ix;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };

	fx->tmp = sk_test_tmpdir();
	chmod(fx->tmp, 0755);
	snprintf(fx->data, sizeof(fx->data), "%s/data", fx->tmp);
	if (sk_index_open(fx->data,
			  SK_INDEX_WRITE | SK_INDEX_CREATE | SK_INDEX_NO_XAPIAN,
			  &ix, &err) ||
	    sk_index_load_taxonomy(ix, sk_index_default_taxonomy(), &err) ||
	    sk_index_user_set(ix, "anna@stolno.pl", "Anna Wiśniewska",
			      SK_ROLE_COORDINATOR, NULL, &err) ||
	    sk_index_user_set(ix, "jan@chelmno.pl", "Jan Kowalski",
			      SK_ROLE_READER, NULL, &err) ||
	    sk_index_user_set(ix, "ewa@lisewo.pl", "", SK_ROLE_READER, NULL,
			      &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	sk_index_close(&ix);
	fx->ms.from = FROM;
	fx->ms.list_address = LIST;
	fx->ms.base_url = "https://skarbnica.example/";
	fake_now = T0;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	sk_sink_stop(&fx->sink);
	rm_tmp(&fx->tmp);
	free(fx);
	return 0;
}

static bool
start_sink(struct fx *fx, const char *opt, const char *arg)
{
	char dir[700];
	snprintf(dir, sizeof(dir), "%s/sink", fx->tmp);
	return sk_sink_start(&fx->sink, dir, opt, arg, 10);
}

static void
need_sink(struct fx *fx, const char *opt, const char *arg)
{
	if (!sk_sink_installed()) {
		printf("SKIP: smtp-sink (postfix) not installed\n");
		skip();
	}
	if (!start_sink(fx, opt, arg))
		fail_msg("smtp-sink does not start");
}

static void
restart_sink(struct fx *fx, const char *opt, const char *arg)
{
	sk_sink_stop(&fx->sink);
	if (!start_sink(fx, opt, arg))
		fail_msg("smtp-sink does not restart");
}

static struct sk_mailer_opts
opts_for(struct fx *fx)
{
	struct sk_mailer_opts o = { 0 };
	o.smtp.host = "127.0.0.1";
	o.smtp.port = (uint16_t)fx->sink.port;
	o.smtp.tls = SK_TLS_NONE;
	o.smtp.timeout_seconds = 10;
	o.once = true;
	o.retry_base_seconds = 60;
	o.clock = fake_clock;
	return o;
}

static enum sk_status
run_mailer(struct fx *fx, const struct sk_mailer_opts *o,
	   struct sk_mailer_counts *n)
{
	struct sk_err err = { 0 };
	enum sk_status rc = sk_mailer_run_opts(fx->data, o, n, &err);
	if (rc)
		printf("mailer: %s\n", err.msg);
	return rc;
}

/* Post a note (as the coordinator) and return its outbox row id. With
 * att_bytes, it carries an attachment of that size. */
static int64_t
post_note_att(struct fx *fx, const char *title, const char *topic,
	      time_t when, char mid_out[256], size_t att_bytes);

static int64_t
post_note(struct fx *fx, const char *title, const char *topic, time_t when,
	  char mid_out[256])
{
	return post_note_att(fx, title, topic, when, mid_out, 0);
}

static int64_t
post_note_att(struct fx *fx, const char *title, const char *topic,
	      time_t when, char mid_out[256], size_t att_bytes)
{
	struct sk_index *ix = open_ix(fx);
	struct sk_arena *a = sk_arena_new(0);
	const char *topics[1] = { topic };
	struct sk_note_in n = {
		.quarter = "2024-Q2",
		.title = title,
		.place = "Stolno",
		.partners_present = "Gmina Stolno, Gmina Chełmno",
		.topics = topics,
		.n_topics = topic ? 1 : 0,
		.body_md = "Omówiliśmy **wspólny przetarg** na energię.\n\n"
			   ".kropka i From na początku linii\n",
		.decisions = "- przetarg w III kwartale\n",
		.author_email = "anna@stolno.pl",
	};
	struct sk_note_posted out;
	struct sk_attachment att = { 0 };
	struct sk_err err = { 0 };
	int64_t id;

	if (att_bytes) {
		unsigned char *d = sk_arena_alloc(a, att_bytes);
		for (size_t i = 0; i < att_bytes; i++)
			d[i] = (unsigned char)(i * 2654435761u >> 13);
		att.filename = "skan protokołu.pdf";
		att.content_type = "application/pdf";
		att.data = d;
		att.size = att_bytes;
		n.attachments = &att;
		n.n_attachments = 1;
	}
	if (sk_index_note_post(ix, a, &n, sk_mail_note_compose, &fx->ms, when,
			       &out, &err))
		fail_msg("note post: %s", err.msg);
	if (mid_out)
		snprintf(mid_out, 256, "%s", out.message_id);
	id = out.outbox_id;
	sk_arena_free(&a);
	sk_index_close(&ix);
	return id;
}

static struct sk_outbox_row
get_row(struct fx *fx, struct sk_arena *a, int64_t id)
{
	struct sk_index *ix = open_ix(fx);
	struct sk_outbox_row r;
	struct sk_err err = { 0 };
	if (sk_index_outbox_get(ix, a, id, &r, &err))
		fail_msg("get row: %s", err.msg);
	sk_index_close(&ix);
	return r;
}

static int64_t
count_sql_free(struct fx *fx, int state)
{
	struct sk_index *ix = open_ix(fx);
	struct sk_arena *a = sk_arena_new(0);
	struct sk_outbox_row *rows;
	size_t n;
	assert_int_equal(sk_index_outbox_list(ix, a, state, 1000, &rows, &n,
					      NULL),
			 SK_OK);
	sk_arena_free(&a);
	sk_index_close(&ix);
	return (int64_t)n;
}

/* ---- the state machine without a server ------------------------------------------ */

static struct sk_outbox_new
simple_row(const char *mid, const char *key)
{
	static const char raw[] = "Subject: x\r\n\r\nx\r\n";
	struct sk_outbox_new q = {
		.kind = SK_OUTBOX_LOGIN,
		.message_id = mid,
		.dedup_key = key,
		.sender = FROM,
		.recipients = "jan@chelmno.pl",
		.raw = raw,
		.raw_len = sizeof(raw) - 1,
	};
	return q;
}

static void
claims_due_rows_in_order_once(void **state)
{
	struct fx *fx = *state;
	struct sk_index *ix = open_ix(fx);
	struct sk_arena *a = sk_arena_new(0);
	struct sk_outbox_new q1 = simple_row("a@x", NULL),
			     q2 = simple_row("b@x", NULL),
			     q3 = simple_row("c@x", NULL);
	struct sk_outbox_row r;
	int64_t id1, id2, id3;
	time_t due;

	q3.not_before = T0 + 100;
	assert_int_equal(sk_index_outbox_queue(ix, &q1, T0, &id1, NULL), SK_OK);
	assert_int_equal(sk_index_outbox_queue(ix, &q2, T0, &id2, NULL), SK_OK);
	assert_int_equal(sk_index_outbox_queue(ix, &q3, T0, &id3, NULL), SK_OK);
	assert_int_equal(sk_index_outbox_next_due(ix, &due, NULL), SK_OK);
	assert_int_equal(due, T0);

	assert_int_equal(sk_index_outbox_claim(ix, a, T0, &r, NULL), SK_OK);
	assert_int_equal(r.id, id1);
	assert_int_equal(r.state, SK_OUTBOX_SENDING);
	assert_int_equal(r.claimed_at, T0);
	assert_string_equal(r.raw, "Subject: x\r\n\r\nx\r\n");
	assert_int_equal(sk_index_outbox_claim(ix, a, T0, &r, NULL), SK_OK);
	assert_int_equal(r.id, id2);
	/* q3 is not due yet; claimed rows are not claimed twice. */
	assert_int_equal(sk_index_outbox_claim(ix, a, T0, &r, NULL),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_outbox_claim(ix, a, T0 + 100, &r, NULL),
			 SK_OK);
	assert_int_equal(r.id, id3);

	/* Transitions only from 'sending'. */
	assert_int_equal(sk_index_outbox_mark_dot(ix, id1, T0, NULL), SK_OK);
	assert_int_equal(sk_index_outbox_mark_sent(ix, id1, T0, "250 ok", NULL),
			 SK_OK);
	assert_int_equal(sk_index_outbox_mark_sent(ix, id1, T0, "250 ok", NULL),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_outbox_mark_retry(ix, id2, T0 + 60, "451 x",
						    NULL),
			 SK_OK);
	assert_int_equal(sk_index_outbox_mark_failed(ix, id3, false, "550 no",
						     NULL),
			 SK_OK);
	r = (struct sk_outbox_row){ 0 };
	assert_int_equal(sk_index_outbox_get(ix, a, id2, &r, NULL), SK_OK);
	assert_int_equal(r.state, SK_OUTBOX_QUEUED);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.next_attempt_at, T0 + 60);
	assert_string_equal(r.last_error, "451 x");
	assert_int_equal(sk_index_outbox_get(ix, a, id1, &r, NULL), SK_OK);
	assert_int_equal(r.state, SK_OUTBOX_SENT);
	assert_string_equal(r.reply, "250 ok");
	/* A person may send a failed one again. */
	assert_int_equal(sk_index_outbox_requeue(ix, id1, "anna@stolno.pl", T0,
						 NULL),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_outbox_requeue(ix, id3, "anna@stolno.pl", T0,
						 NULL),
			 SK_OK);
	assert_int_equal(sk_index_outbox_get(ix, a, id3, &r, NULL), SK_OK);
	assert_int_equal(r.state, SK_OUTBOX_QUEUED);
	sk_arena_free(&a);
	sk_index_close(&ix);
}

static void
refuses_a_second_row_with_one_dedup_key(void **state)
{
	struct fx *fx = *state;
	struct sk_index *ix = open_ix(fx);
	struct sk_outbox_new q1 = simple_row("a@x", "digest:1:weekly:2024-05-27"),
			     q2 = simple_row("b@x", "digest:1:weekly:2024-05-27"),
			     q3 = simple_row("a@x", NULL);
	int64_t id1, id2 = 0;

	assert_int_equal(sk_index_outbox_queue(ix, &q1, T0, &id1, NULL), SK_OK);
	assert_int_equal(sk_index_outbox_queue(ix, &q2, T0, &id2, NULL),
			 SK_EEXIST);
	assert_int_equal(id2, id1);
	/* The Message-ID is unique too. */
	assert_int_equal(sk_index_outbox_queue(ix, &q3, T0, &id2, NULL),
			 SK_EEXIST);
	assert_true(sk_index_outbox_has(ix, "digest:1:weekly:2024-05-27"));
	assert_false(sk_index_outbox_has(ix, "digest:1:weekly:2024-06-03"));
	sk_index_close(&ix);
	assert_int_equal(count_sql_free(fx, -1), 1);
}

/* ---- notes ------------------------------------------------------------------------- */

static void
posts_a_note_into_the_archive_and_the_outbox(void **state)
{
	struct fx *fx = *state;
	struct sk_viewer v = { .logged_in = true, .coordinator = true };
	struct sk_arena *a = sk_arena_new(0);
	struct sk_message_row mr;
	struct sk_note_row *notes;
	struct sk_outbox_row r;
	struct sk_message lm;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	char mid[256], *list_copy;
	size_t n, len;
	int64_t id;

	id = post_note(fx, "Spotkanie w Stolnie", "zamowienia", T0, mid);
	ix = open_ix(fx);
	/* Visible at once, approved, filed under its topic. */
	assert_int_equal(sk_index_message(ix, a, &v, mid, &mr, &err), SK_OK);
	assert_string_equal(mr.from_addr, FROM);
	assert_non_null(strstr(mr.subject, "Spotkanie w Stolnie"));
	assert_non_null(strstr(mr.body, "wspólny przetarg"));
	{
		bool has = false;
		for (size_t i = 0; i < mr.n_topics; i++)
			has = has || !strcmp(mr.topics[i], "zamowienia");
		assert_true(has);
	}
	{
		struct sk_viewer pub = { 0 };
		struct sk_message_row pr;
		assert_int_equal(sk_index_message(ix, a, &pub, mid, &pr, &err),
				 SK_OK);
	}
	assert_int_equal(sk_index_notes_list(ix, a, NULL, &notes, &n, &err),
			 SK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(notes[0].message_id, mid);
	assert_string_equal(notes[0].author_email, "anna@stolno.pl");
	assert_string_equal(notes[0].topics, "zamowienia");
	assert_int_equal(notes[0].mail_state, SK_OUTBOX_QUEUED);
	assert_int_equal(notes[0].outbox_id, id);
	assert_true(notes[0].thread_id > 0);
	/* The outbox holds the same bytes as the archive. */
	assert_int_equal(sk_index_outbox_get(ix, a, id, &r, &err), SK_OK);
	assert_string_equal(r.message_id, mid);
	assert_string_equal(r.recipients, LIST);
	assert_string_equal(r.sender, FROM);
	{
		const char *raw;
		size_t rl;
		assert_int_equal(sk_index_message_raw(ix, a, &v, mid, &raw, &rl,
						      &err),
				 SK_OK);
		assert_int_equal(rl, r.raw_len);
		assert_memory_equal(raw, r.raw, rl);
	}

	/* The list's copy comes back through ingest: other headers, a
	 * subject tag, the same Message-ID and From. Not a new message. */
	list_copy = sk_arena_printf(
		a,
		"Return-Path: <praktyki+bounces-1@lista.example>\r\n"
		"List-Id: <praktyki.lista.example>\r\n"
		"X-Mailing-List: praktyki@lista.example\r\n%s",
		r.raw);
	{
		char *s = strstr(list_copy, "Subject: ");
		assert_non_null(s);
		list_copy = sk_arena_printf(a, "%.*sSubject: [Praktyki] %s",
					    (int)(s - list_copy), list_copy,
					    s + 9);
	}
	len = strlen(list_copy);
	memset(&lm, 0, sizeof(lm));
	sk_ingest_parse(a, NULL, list_copy, len, &lm);
	assert_string_equal(lm.message_id, mid);
	assert_int_equal(sk_index_add_message(ix, &lm, NULL, &err), SK_EEXIST);
	{
		struct sk_stats st;
		assert_int_equal(sk_index_stats(ix, &st, &err), SK_OK);
		assert_int_equal(st.messages, 1);
		assert_int_equal(st.notes, 1);
	}
	sk_arena_free(&a);
	sk_index_close(&ix);
}

static void
refuses_bad_notes_and_stores_nothing(void **state)
{
	struct fx *fx = *state;
	struct sk_index *ix = open_ix(fx);
	struct sk_arena *a = sk_arena_new(0);
	const char *bad_topic[] = { "nie-ma-takiego" };
	struct sk_note_in n = {
		.quarter = "2024-Q2",
		.title = "T",
		.body_md = "x",
		.author_email = "anna@stolno.pl",
	};
	struct sk_note_posted out;
	struct sk_stats st;
	struct sk_err err = { 0 };

	n.quarter = "2024-Q5";
	assert_int_equal(sk_index_note_post(ix, a, &n, sk_mail_note_compose,
					    &fx->ms, T0, &out, &err),
			 SK_EINVAL);
	n.quarter = "2024-Q2";
	n.author_email = "jan@chelmno.pl"; /* a reader */
	assert_int_equal(sk_index_note_post(ix, a, &n, sk_mail_note_compose,
					    &fx->ms, T0, &out, &err),
			 SK_EINVAL);
	n.author_email = "nikt@example.com";
	assert_int_equal(sk_index_note_post(ix, a, &n, sk_mail_note_compose,
					    &fx->ms, T0, &out, &err),
			 SK_ENOTFOUND);
	n.author_email = "anna@stolno.pl";
	n.topics = bad_topic;
	n.n_topics = 1;
	assert_int_equal(sk_index_note_post(ix, a, &n, sk_mail_note_compose,
					    &fx->ms, T0, &out, &err),
			 SK_EINVAL);
	assert_non_null(strstr(err.msg, "nie-ma-takiego"));
	n.n_topics = 0;
	n.title = "";
	assert_int_equal(sk_index_note_post(ix, a, &n, sk_mail_note_compose,
					    &fx->ms, T0, &out, &err),
			 SK_EINVAL);
	/* No list configured: the composer fails inside the transaction. */
	n.title = "T";
	{
		struct sk_mail_settings ms = fx->ms;
		ms.list_address = NULL;
		assert_int_equal(sk_index_note_post(ix, a, &n,
						    sk_mail_note_compose, &ms,
						    T0, &out, &err),
				 SK_EINVAL);
	}
	assert_int_equal(sk_index_stats(ix, &st, &err), SK_OK);
	assert_int_equal(st.messages, 0);
	assert_int_equal(st.notes, 0);
	assert_int_equal(st.outbox_queued, 0);
	sk_arena_free(&a);
	sk_index_close(&ix);
}

/* ---- sending ------------------------------------------------------------------------ */

static void
sends_a_note_once(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	char mid[256], *got;
	int64_t id;

	need_sink(fx, NULL, NULL);
	id = post_note(fx, "Spotkanie w Stolnie", NULL, T0, mid);
	o = opts_for(fx);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.sent, 1);
	assert_int_equal(sk_sink_count(&fx->sink), 1);
	got = sk_sink_read(&fx->sink);
	assert_non_null(strstr(got, "X-Mail-Args: <" FROM ">"));
	assert_non_null(strstr(got, "X-Rcpt-Args: <" LIST ">"));
	assert_non_null(strstr(got, mid));
	/* Dot-stuffing undone by the server: the line is intact. */
	assert_non_null(strstr(got, "=2Ekropka i From"));
	free(got);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_SENT);
	assert_int_equal(r.sent_at, T0);
	assert_non_null(strstr(r.reply, "250"));
	assert_true(r.dot_at > 0);

	/* Nothing left: another run sends nothing. */
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.sent, 0);
	assert_int_equal(sk_sink_count(&fx->sink), 1);
	sk_arena_free(&a);
}

static void
retries_4xx_with_growing_delays(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	int64_t id;

	need_sink(fx, "-r", "rcpt");
	id = post_note(fx, "Zwłoka", NULL, T0, NULL);
	o = opts_for(fx);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.retried, 1);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_QUEUED);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.next_attempt_at, T0 + 60);
	assert_non_null(strstr(r.last_error, "450"));

	/* Not due yet: no attempt at all. */
	fake_now = T0 + 59;
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.retried + c.sent, 0);
	/* Due: fails again, the delay doubles. */
	fake_now = T0 + 60;
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.retried, 1);
	r = get_row(fx, a, id);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(r.next_attempt_at, T0 + 60 + 120);
	assert_int_equal(sk_sink_count(&fx->sink), 0);

	/* The server recovers. */
	restart_sink(fx, NULL, NULL);
	fake_now = T0 + 180;
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.sent, 1);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_SENT);
	assert_int_equal(r.attempts, 3);
	assert_null(r.last_error);
	assert_int_equal(sk_sink_count(&fx->sink), 1);
	sk_arena_free(&a);
}

static void
gives_up_on_4xx_after_the_limit(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	int64_t id;

	need_sink(fx, "-r", "data");
	id = post_note(fx, "Zwłoka", NULL, T0, NULL);
	o = opts_for(fx);
	o.give_up_seconds = 3600;
	fake_now = T0 + 3600;
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.failed, 1);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_FAILED);
	assert_false(r.uncertain);
	assert_non_null(strstr(r.last_error, "gave up"));
	sk_arena_free(&a);
}

static void
fails_5xx_with_the_reply(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	struct sk_note_row *notes;
	struct sk_index *ix;
	size_t n;
	int64_t id;

	need_sink(fx, "-f", ".");
	id = post_note(fx, "Odmowa", NULL, T0, NULL);
	o = opts_for(fx);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.failed, 1);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_FAILED);
	assert_false(r.uncertain);
	assert_non_null(strstr(r.last_error, "500 5.3.0"));
	/* The coordinator sees it with the note. */
	ix = open_ix(fx);
	assert_int_equal(sk_index_notes_list(ix, a, "2024-q2", &notes, &n, NULL),
			 SK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(notes[0].mail_state, SK_OUTBOX_FAILED);
	assert_non_null(strstr(notes[0].mail_error, "500"));
	sk_index_close(&ix);
	/* Permanent: later runs leave it alone. */
	fake_now += 86400;
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.failed + c.sent + c.retried, 0);
	sk_arena_free(&a);
}

static void
server_aborting_mid_data_is_retried(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	int64_t id;

	/* smtp-sink -A 0: 354, then at once 550, a hang-up and no more
	 * reading, while a large message is still being written. */
	need_sink(fx, "-A", "0");
	id = post_note_att(fx, "Przerwane", NULL, T0, NULL, 12 << 20);
	o = opts_for(fx);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_QUEUED);
	assert_int_equal(r.dot_at, 0);
	assert_int_equal(sk_sink_count(&fx->sink), 0);
	restart_sink(fx, NULL, NULL);
	fake_now = r.next_attempt_at;
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.sent, 1);
	assert_int_equal(sk_sink_count(&fx->sink), 1);
	sk_arena_free(&a);
}

static void
server_hanging_up_at_data_is_retried(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	int64_t id;

	need_sink(fx, "-q", "data");
	id = post_note(fx, "Rozłączone", NULL, T0, NULL);
	o = opts_for(fx);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.retried, 1);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_QUEUED);
	assert_int_equal(r.dot_at, 0);
	assert_int_equal(sk_sink_count(&fx->sink), 0);
	sk_arena_free(&a);
}

static void
server_dying_after_the_dot_is_uncertain_never_resent(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	int64_t id;

	/* smtp-sink -q .: takes the message, hangs up without a reply. */
	need_sink(fx, "-q", ".");
	id = post_note(fx, "Bez odpowiedzi", NULL, T0, NULL);
	o = opts_for(fx);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.uncertain, 1);
	assert_int_equal(sk_sink_count(&fx->sink), 1);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_FAILED);
	assert_true(r.uncertain);
	assert_non_null(strstr(r.last_error, "uncertain"));
	restart_sink(fx, NULL, NULL);
	fake_now += 7 * 86400;
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.sent, 0);
	assert_int_equal(sk_sink_count(&fx->sink), 1);
	sk_arena_free(&a);
}

/* ---- a mailer killed between steps ---------------------------------------------------- */

static enum sk_mailer_step kill_at;

static void
die_at(enum sk_mailer_step step, int64_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	if (step == kill_at)
		_exit(9); /* no cleanup at all: a kill */
}

/* Run the mailer in a child that dies at step; return its exit code. */
static int
run_and_die(struct fx *fx, enum sk_mailer_step step)
{
	struct sk_mailer_opts o = opts_for(fx);
	pid_t pid;
	int st;

	kill_at = step;
	o.test_hook = die_at;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct sk_err err = { 0 };
		sk_mailer_run_opts(fx->data, &o, NULL, &err);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
killed_after_claim_sends_once_on_restart(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	int64_t id;

	need_sink(fx, NULL, NULL);
	id = post_note(fx, "Kill 1", NULL, T0, NULL);
	assert_int_equal(run_and_die(fx, SK_MAILER_CLAIMED), 9);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_SENDING);
	assert_int_equal(sk_sink_count(&fx->sink), 0);
	o = opts_for(fx);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.recovered, 1);
	assert_int_equal(c.sent, 1);
	assert_int_equal(sk_sink_count(&fx->sink), 1);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_SENT);
	sk_arena_free(&a);
}

static void
killed_before_the_dot_is_uncertain_and_not_sent(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	struct sk_index *ix;
	int64_t id;

	need_sink(fx, NULL, NULL);
	id = post_note(fx, "Kill 2", NULL, T0, NULL);
	assert_int_equal(run_and_die(fx, SK_MAILER_PREDOT), 9);
	/* The dot never left: the server discarded the transaction. */
	assert_int_equal(sk_sink_count(&fx->sink), 0);
	o = opts_for(fx);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.sent, 0);
	assert_int_equal(c.uncertain, 1);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_FAILED);
	assert_true(r.uncertain);
	/* The rule is conservative: a person decides, and then it goes. */
	ix = open_ix(fx);
	assert_int_equal(sk_index_outbox_requeue(ix, id, "anna@stolno.pl", T0,
						 NULL),
			 SK_OK);
	sk_index_close(&ix);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.sent, 1);
	assert_int_equal(sk_sink_count(&fx->sink), 1);
	sk_arena_free(&a);
}

static void
killed_after_the_reply_never_sends_twice(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_outbox_row r;
	int64_t id, id2;

	need_sink(fx, NULL, NULL);
	id = post_note(fx, "Kill 3", NULL, T0, NULL);
	id2 = post_note(fx, "Kill 3b", NULL, T0 + 1, NULL);
	fake_now = T0 + 1;
	assert_int_equal(run_and_die(fx, SK_MAILER_REPLIED), 9);
	/* The server has the first; the store could not record it. */
	assert_int_equal(sk_sink_count(&fx->sink), 1);
	o = opts_for(fx);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.uncertain, 1);
	assert_int_equal(c.sent, 1); /* the second one, untouched */
	assert_int_equal(sk_sink_count(&fx->sink), 2);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_FAILED);
	assert_true(r.uncertain);
	r = get_row(fx, a, id2);
	assert_int_equal(r.state, SK_OUTBOX_SENT);
	fake_now += 86400;
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(sk_sink_count(&fx->sink), 2);
	sk_arena_free(&a);
}

static void
refuses_a_second_mailer(void **state)
{
	struct fx *fx = *state;
	struct sk_mailer_opts o = opts_for(fx);
	struct sk_err err = { 0 };
	char path[700];
	int fd;

	snprintf(path, sizeof(path), "%s/mailer.lock", fx->data);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(sk_mailer_run_opts(fx->data, &o, NULL, &err),
			 SK_EAGAIN);
	assert_non_null(strstr(err.msg, "another mailer"));
	close(fd);
}

static void
unreachable_server_leaves_rows_queued_with_the_reason(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_opts o = opts_for(fx);
	struct sk_outbox_row r;
	struct sk_err err = { 0 };
	int64_t id;

	id = post_note(fx, "Nikt nie słucha", NULL, T0, NULL);
	o.smtp.port = (uint16_t)sk_test_free_port();
	assert_int_equal(sk_mailer_run_opts(fx->data, &o, NULL, &err),
			 SK_EAGAIN);
	r = get_row(fx, a, id);
	assert_int_equal(r.state, SK_OUTBOX_QUEUED);
	assert_int_equal(r.attempts, 0);
	assert_non_null(strstr(r.last_error, "cannot connect"));
	sk_arena_free(&a);
}

/* ---- digests ------------------------------------------------------------------------ */

static void
expect_window(enum sk_period p, time_t now, time_t from, time_t to,
	      const char *key)
{
	time_t f, t;
	char k[11];
	sk_digest_window(p, now, &f, &t);
	sk_digest_period_key(p, now, k);
	if (f != from || t != to || strcmp(k, key))
		fail_msg("%s at %lld: [%lld, %lld) %s, want [%lld, %lld) %s",
			 sk_period_name(p), (long long)now, (long long)f,
			 (long long)t, k, (long long)from, (long long)to, key);
}

/* Periods are Warsaw calendar days and weeks (the UTC values were
 * checked against tzdata with Python's zoneinfo). */
static void
computes_digest_windows(void **state)
{
	const time_t h = 3600;
	(void)state;
	/* Wednesday 2024-06-05 10:00 UTC: Tuesday, 00:00 CEST = 22:00 UTC. */
	expect_window(SK_PERIOD_DAILY, T0 + 2 * 86400 + 36000, 1717452000,
		      1717538400, "2024-06-04");
	expect_window(SK_PERIOD_WEEKLY, T0 + 2 * 86400 + 36000, 1716760800,
		      1717365600, "2024-05-27");
	/* On Monday itself: the week that just ended. */
	expect_window(SK_PERIOD_WEEKLY, T0, 1716760800, 1717365600,
		      "2024-05-27");
	/* Sunday 23:30 UTC is Monday 01:30 in Warsaw: that week is over. */
	expect_window(SK_PERIOD_WEEKLY, 1717371000, 1716760800, 1717365600,
		      "2024-05-27");
	/* The first and the last second of a Warsaw day. */
	expect_window(SK_PERIOD_DAILY, 1717538400, 1717452000, 1717538400,
		      "2024-06-04");
	expect_window(SK_PERIOD_DAILY, 1717538400 - 1, 1717365600, 1717452000,
		      "2024-06-03");
	/* New year's eve 23:30 UTC is already 2026 in Warsaw. */
	expect_window(SK_PERIOD_DAILY, 1767223800, 1767135600, 1767222000,
		      "2025-12-31");
	/* Summer time starts: 30 March 2025 and 29 March 2026 have 23
	 * hours; ends: 26 October 2025 and 25 October 2026 have 25. */
	expect_window(SK_PERIOD_DAILY, 1743415200, 1743289200, 1743372000,
		      "2025-03-30");
	expect_window(SK_PERIOD_DAILY, 1761559200, 1761429600, 1761519600,
		      "2025-10-26");
	expect_window(SK_PERIOD_DAILY, 1774864800, 1774738800, 1774821600,
		      "2026-03-29");
	expect_window(SK_PERIOD_DAILY, 1793008800, 1792879200, 1792969200,
		      "2026-10-25");
	/* Weeks over a switch: 7 days less or more an hour. */
	expect_window(SK_PERIOD_WEEKLY, 1743595200, 1742770800, 1743372000,
		      "2025-03-24");
	expect_window(SK_PERIOD_WEEKLY, 1793188800, 1792360800, 1792969200,
		      "2026-10-19");
	assert_int_equal(1743372000 - 1742770800, 7 * 86400 - h);
	assert_int_equal(1792969200 - 1792360800, 7 * 86400 + h);
	/* Every hour of 2025-2026: the window ends at the last Warsaw
	 * midnight (or Monday midnight), the key is its start's date, and a
	 * day is 23, 24 or 25 hours. */
	for (time_t t = 1735686000; t < 1798758000; t += h) {
		time_t f, to;
		struct tm now_tm, from_tm;
		char k[11], want[11];
		sk_digest_window(SK_PERIOD_DAILY, t, &f, &to);
		sk_warsaw_tm(t, &now_tm, NULL);
		sk_warsaw_tm(f, &from_tm, NULL);
		assert_true(to <= t && t - to < 25 * h);
		assert_true(to - f == 23 * h || to - f == 24 * h ||
			    to - f == 25 * h);
		assert_int_equal(from_tm.tm_hour, 0);
		assert_int_equal(from_tm.tm_min, 0);
		sk_digest_period_key(SK_PERIOD_DAILY, t, k);
		strftime(want, sizeof(want), "%Y-%m-%d", &from_tm);
		assert_string_equal(k, want);
		sk_digest_window(SK_PERIOD_WEEKLY, t, &f, &to);
		sk_warsaw_tm(f, &from_tm, NULL);
		assert_int_equal(from_tm.tm_wday, 1);
		assert_int_equal(from_tm.tm_hour, 0);
		assert_true(to <= t && t - to < 7 * 24 * h + h);
	}
}

static const char *
token_in(struct sk_arena *a, const char *raw)
{
	const char *p = strstr(raw, "wypisz?t=");
	assert_non_null(p);
	return sk_arena_strndup(a, p + 9, 43);
}

static void
queues_one_digest_per_user_and_period(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_digest_counts n;
	struct sk_outbox_row *rows, r;
	struct sk_subscription_row *subs;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	size_t k;
	time_t week = T0 - 5 * 86400; /* Wednesday of the week before */

	/* Two notes in the week, one about procurement. */
	post_note(fx, "Przetarg na energię", "zamowienia", week, NULL);
	post_note(fx, "Taryfy za wodę", "woda-scieki", week + 3600, NULL);
	/* Too old for the window. */
	post_note(fx, "Stary przetarg", "zamowienia", T0 - 30 * 86400, NULL);
	ix = open_ix(fx);
	assert_int_equal(sk_index_subscribe(ix, "jan@chelmno.pl", "zamowienia",
					    SK_PERIOD_WEEKLY, T0, &err),
			 SK_OK);
	assert_int_equal(sk_index_subscribe(ix, "jan@chelmno.pl", "woda-scieki",
					    SK_PERIOD_WEEKLY, T0, &err),
			 SK_OK);
	/* Subscribed to something quiet: no empty digest. */
	assert_int_equal(sk_index_subscribe(ix, "ewa@lisewo.pl", "edukacja",
					    SK_PERIOD_WEEKLY, T0, &err),
			 SK_OK);
	assert_int_equal(sk_index_subscribe(ix, "nikt@x.pl", "zamowienia",
					    SK_PERIOD_WEEKLY, T0, &err),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_subscribe(ix, "ewa@lisewo.pl", "brak",
					    SK_PERIOD_WEEKLY, T0, &err),
			 SK_ENOTFOUND);

	assert_int_equal(sk_digest_run(ix, &fx->ms, SK_PERIOD_WEEKLY,
				       T0 + 3600, &n, &err),
			 SK_OK);
	assert_int_equal(n.users, 2);
	assert_int_equal(n.queued, 1);
	assert_int_equal(n.empty, 1);
	assert_int_equal(sk_index_outbox_list(ix, a, SK_OUTBOX_QUEUED, 100,
					      &rows, &k, &err),
			 SK_OK);
	/* 3 notes + 1 digest. */
	assert_int_equal(k, 4);
	assert_int_equal(rows[0].kind, SK_OUTBOX_DIGEST);
	assert_string_equal(rows[0].recipients, "jan@chelmno.pl");
	assert_string_equal(rows[0].dedup_key, "digest:2:weekly:2024-05-27");
	assert_int_equal(sk_index_outbox_get(ix, a, rows[0].id, &r, &err),
			 SK_OK);
	assert_non_null(strstr(r.raw, "List-Unsubscribe: <https://"
				      "skarbnica.example/wypisz?t="));
	assert_non_null(strstr(r.raw, "List-Unsubscribe-Post: "
				      "List-Unsubscribe=One-Click"));
	assert_non_null(strstr(r.raw, "https://skarbnica.example/watek/"));
	assert_non_null(strstr(r.raw, "Przetarg na energi"));
	assert_null(strstr(r.raw, "Stary przetarg"));

	/* Repeated (or resumed after a crash): nothing new. */
	assert_int_equal(sk_digest_run(ix, &fx->ms, SK_PERIOD_WEEKLY,
				       T0 + 7200, &n, &err),
			 SK_OK);
	assert_int_equal(n.queued, 0);
	assert_int_equal(n.already, 1);
	/* A new subscriber joins before the resumed run: only theirs. */
	assert_int_equal(sk_index_subscribe(ix, "anna@stolno.pl", "zamowienia",
					    SK_PERIOD_WEEKLY, T0, &err),
			 SK_OK);
	assert_int_equal(sk_digest_run(ix, &fx->ms, SK_PERIOD_WEEKLY,
				       T0 + 7200, &n, &err),
			 SK_OK);
	assert_int_equal(n.queued, 1);
	assert_int_equal(n.already, 1);
	/* Daily digests are a different period. */
	assert_int_equal(sk_digest_run(ix, &fx->ms, SK_PERIOD_DAILY, T0 + 3600,
				       &n, &err),
			 SK_OK);
	assert_int_equal(n.users, 0);

	/* One click unsubscribes Jan from weekly digests. */
	assert_int_equal(sk_index_unsubscribe_token(ix, token_in(a, r.raw),
						    T0 + 9000, &err),
			 SK_OK);
	assert_int_equal(sk_index_subscriptions(ix, a, "jan@chelmno.pl", &subs,
						&k, &err),
			 SK_OK);
	assert_int_equal(k, 0);
	assert_int_equal(sk_index_unsubscribe_token(ix, token_in(a, r.raw),
						    T0 + 9001, &err),
			 SK_OK);
	assert_int_equal(sk_index_unsubscribe_token(
				 ix, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
				 T0, &err),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_subscriptions(ix, a, "anna@stolno.pl", &subs,
						&k, &err),
			 SK_OK);
	assert_int_equal(k, 1);
	assert_string_equal(subs[0].topic_slug, "zamowienia");
	sk_index_close(&ix);
	sk_arena_free(&a);
}

/* The raw message with quoted-printable undone (soft breaks joined,
 * =XX decoded), to look for text in the parts; malloc'ed. */
static char *
unqp(const char *raw)
{
	char *out = sk_xmalloc(strlen(raw) + 1), *o = out;
	for (const char *p = raw; *p; p++) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 2;
		} else if (p[0] == '=' && sk_hex_digit(p[1]) >= 0 &&
			   sk_hex_digit(p[2]) >= 0) {
			*o++ = (char)(sk_hex_digit(p[1]) * 16 + sk_hex_digit(p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* Run SQL with one integer parameter on the store. */
static void
store_sql(struct fx *fx, const char *sql, int64_t arg)
{
	char path[700];
	sqlite3 *db;
	sqlite3_stmt *st;
	snprintf(path, sizeof(path), "%s/skarbnica.db", fx->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, arg);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int64_t
new_practice(struct sk_index *ix, const char *title, const char *topic,
	     enum sk_practice_status status)
{
	const char *topics[2] = { topic, "woda-scieki" };
	struct sk_practice p = {
		.title = title,
		.partner_slug = "chelmno",
		.topics = topics,
		.n_topics = 2,
		.problem = "Drogie przetargi.",
		.contact_name = "Piotr Tajny",
		.contact_email = "piotr.tajny@chelmno.pl",
		.status = status,
	};
	struct sk_err err = { 0 };
	int64_t id = 0;
	if (sk_index_practice_create(ix, &p, "anna@stolno.pl", &id, NULL, &err))
		fail_msg("practice: %s", err.msg);
	return id;
}

static void
set_practice_status(struct sk_index *ix, int64_t id,
		    enum sk_practice_status status)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { .logged_in = true, .coordinator = true };
	struct sk_practice p;
	struct sk_err err = { 0 };
	assert_int_equal(sk_index_practice_get(ix, a, &v, id, &p, &err), SK_OK);
	p.status = status;
	p.attachment_ids = NULL;
	p.n_attachment_ids = 0;
	if (sk_index_practice_update(ix, &p, "anna@stolno.pl", NULL, &err))
		fail_msg("practice update: %s", err.msg);
	sk_arena_free(&a);
}

/* A record is in the digest of the period in which it was published
 * (became validated), if it is still validated; a digest with records
 * and no threads is sent; contact data never goes into mail. */
static void
digests_list_practices_published_in_the_period(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	char slug[] = "chelmno", name[] = "Gmina Chełmno", kind[] = "gmina",
	     domains[] = "chelmno.pl";
	struct sk_partner_conf chelmno = { .slug = slug,
					   .name = name,
					   .kind = kind,
					   .domains = domains };
	/* Run on Monday 2024-06-03 03:00 Warsaw: the day is Sunday,
	 * [1717279200, 1717365600). */
	const time_t from = 1717279200, to = 1717365600, now = T0 + 3600;
	struct sk_digest_counts n;
	struct sk_outbox_row *rows, r;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	int64_t p1, p2, p3, p4, p5, p6;
	size_t k;
	char *text, url[128];

	ix = open_ix(fx);
	assert_int_equal(sk_index_sync_partners(ix, &chelmno, 1, &err), SK_OK);
	p1 = new_practice(ix, "Wspólny zakup energii", "zamowienia",
			  SK_PRACTICE_VALIDATED);
	p2 = new_practice(ix, "Szkic: wspólne przetargi", "zamowienia",
			  SK_PRACTICE_DRAFT);
	p3 = new_practice(ix, "Grupa zakupowa paliw", "zamowienia",
			  SK_PRACTICE_DRAFT);
	set_practice_status(ix, p3, SK_PRACTICE_VALIDATED);
	p4 = new_practice(ix, "Zarchiwizowana praktyka", "zamowienia",
			  SK_PRACTICE_VALIDATED);
	set_practice_status(ix, p4, SK_PRACTICE_ARCHIVED);
	p5 = new_practice(ix, "Praktyka z soboty", "zamowienia",
			  SK_PRACTICE_VALIDATED);
	p6 = new_practice(ix, "Praktyka o szkołach", "edukacja",
			  SK_PRACTICE_VALIDATED);
	/* Jan follows procurement, Ewa only the schools' topic. */
	assert_int_equal(sk_index_subscribe(ix, "jan@chelmno.pl", "zamowienia",
					    SK_PERIOD_DAILY, T0, &err),
			 SK_OK);
	assert_int_equal(sk_index_subscribe(ix, "ewa@lisewo.pl", "edukacja",
					    SK_PERIOD_DAILY, T0, &err),
			 SK_OK);
	sk_index_close(&ix);
	/* The changes happened on that Sunday: p3's validation in its last
	 * second, p5's on Saturday, p6 an hour into Monday. */
	store_sql(fx,
		  "UPDATE audit SET at = ?1 + 43200 WHERE object LIKE "
		  "'practice:%'",
		  from);
	store_sql(fx,
		  "UPDATE audit SET at = ?1 - 1 WHERE action = "
		  "'practice.update' AND new_json LIKE '%Grupa zakupowa%'",
		  to);
	store_sql(fx, "UPDATE audit SET at = ?1 - 1 WHERE detail = "
		      "'Praktyka z soboty'",
		  from);
	store_sql(fx, "UPDATE audit SET at = ?1 + 3600 WHERE detail = "
		      "'Praktyka o szkołach'",
		  to);

	ix = open_ix(fx);
	{
		struct sk_digest_practice *pr;
		assert_int_equal(sk_index_digest_practices(
					 ix, a, 2, SK_PERIOD_DAILY, from, to,
					 &pr, &k, &err),
				 SK_OK);
		assert_int_equal(k, 2);
		assert_int_equal(pr[0].id, p3); /* newest first */
		assert_int_equal(pr[0].validated_at, to - 1);
		assert_int_equal(pr[1].id, p1);
		assert_string_equal(pr[1].title, "Wspólny zakup energii");
		assert_string_equal(pr[1].partner_name, "Gmina Chełmno");
		assert_string_equal(pr[1].topics,
				    "Zamówienia publiczne, Wodociągi i "
				    "kanalizacja");
		/* Weekly subscribers of the topic: none. */
		assert_int_equal(sk_index_digest_practices(
					 ix, a, 2, SK_PERIOD_WEEKLY, from, to,
					 &pr, &k, &err),
				 SK_OK);
		assert_int_equal(k, 0);
	}
	assert_int_equal(sk_digest_run(ix, &fx->ms, SK_PERIOD_DAILY, now, &n,
				       &err),
			 SK_OK);
	assert_int_equal(n.users, 2);
	assert_int_equal(n.queued, 1);
	assert_int_equal(n.empty, 1); /* Ewa's record came on Monday */
	assert_int_equal(sk_index_outbox_list(ix, a, SK_OUTBOX_QUEUED, 10,
					      &rows, &k, &err),
			 SK_OK);
	assert_int_equal(k, 1);
	assert_string_equal(rows[0].recipients, "jan@chelmno.pl");
	assert_string_equal(rows[0].dedup_key, "digest:2:daily:2024-06-02");
	assert_int_equal(sk_index_outbox_get(ix, a, rows[0].id, &r, &err),
			 SK_OK);
	text = unqp(r.raw);
	assert_non_null(strstr(text, "Content-Type: text/html"));
	assert_non_null(strstr(text, "W obserwowanych przez Ciebie tematach: "
				     "2 nowe dobre praktyki (2 czerwca 2024)"));
	assert_non_null(strstr(text, "Nowe dobre praktyki"));
	assert_non_null(strstr(text, "  * Grupa zakupowa paliw (Gmina "
				     "Chełmno; tematy: Zamówienia publiczne, "
				     "Wodociągi i kanalizacja)"));
	/* Both parts link each listed record. */
	for (int64_t id = 1; id <= p6; id++) {
		const char *p = text;
		int count = 0;
		snprintf(url, sizeof(url),
			 "https://skarbnica.example/praktyka/%lld\r\n",
			 (long long)id);
		url[strlen(url) - 2] = '\0';
		while ((p = strstr(p, url)) != NULL) {
			p += strlen(url);
			if (!isdigit((unsigned char)*p))
				count++;
		}
		if (id == p1 || id == p3)
			assert_int_equal(count, 2);
		else
			assert_int_equal(count, 0);
	}
	(void)p2;
	(void)p4;
	(void)p5;
	assert_null(strstr(text, "Tajny"));
	assert_null(strstr(text, "piotr.tajny"));
	assert_null(strstr(text, "/watek/"));
	free(text);

	/* Monday's digest: only Ewa's record; Jan's are not repeated. */
	assert_int_equal(sk_digest_run(ix, &fx->ms, SK_PERIOD_DAILY,
				       now + 86400, &n, &err),
			 SK_OK);
	assert_int_equal(n.queued, 1);
	assert_int_equal(n.empty, 1);
	assert_int_equal(sk_index_outbox_list(ix, a, SK_OUTBOX_QUEUED, 10,
					      &rows, &k, &err),
			 SK_OK);
	assert_int_equal(k, 2);
	for (size_t i = 0; i < k; i++)
		if (!strcmp(rows[i].recipients, "ewa@lisewo.pl"))
			assert_string_equal(rows[i].dedup_key,
					    "digest:3:daily:2024-06-03");
	sk_index_close(&ix);
	sk_arena_free(&a);
}

/* On the day summer time ends (25 hours) a daily digest takes mail from
 * 00:00 CEST (22:00 UTC the day before) to 24:00 CET (23:00 UTC). */
static void
daily_digest_covers_a_25_hour_warsaw_day(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_digest_counts n;
	struct sk_outbox_row *rows, r;
	struct sk_index *ix;
	size_t k;
	char *text;

	/* 2025-10-26 00:30 CEST, 23:30 CET, and 2025-10-27 00:30 CET. */
	post_note(fx, "Tuż po północy", "zamowienia", 1761431400, NULL);
	post_note(fx, "Przed północą", "zamowienia", 1761517800, NULL);
	post_note(fx, "Już poniedziałek", "zamowienia", 1761521400, NULL);
	ix = open_ix(fx);
	assert_int_equal(sk_index_subscribe(ix, "jan@chelmno.pl", "zamowienia",
					    SK_PERIOD_DAILY, T0, NULL),
			 SK_OK);
	/* Run at 2025-10-27 10:00 UTC. */
	assert_int_equal(sk_digest_run(ix, &fx->ms, SK_PERIOD_DAILY,
				       1761559200, &n, NULL),
			 SK_OK);
	assert_int_equal(n.queued, 1);
	assert_int_equal(sk_index_outbox_list(ix, a, SK_OUTBOX_QUEUED, 10,
					      &rows, &k, NULL),
			 SK_OK);
	for (size_t i = 0; i < k; i++)
		if (rows[i].kind == SK_OUTBOX_DIGEST)
			assert_int_equal(sk_index_outbox_get(ix, a, rows[i].id,
							     &r, NULL),
					 SK_OK);
	assert_string_equal(r.dedup_key, "digest:2:daily:2025-10-26");
	text = unqp(r.raw);
	assert_non_null(strstr(text, "2 wątki (26 października 2025)"));
	assert_non_null(strstr(text, "Tuż po północy"));
	assert_non_null(strstr(text, "Przed północą"));
	assert_null(strstr(text, "Już poniedziałek"));
	free(text);
	sk_index_close(&ix);
	sk_arena_free(&a);
}

/* `serve` queues the digests of the Warsaw day that ended, once: its
 * schedule and the dedup key use the same period (sk_digest_period_key).
 * Runs the binary ($SKARBNICA_BIN) on real time. */
static void
serve_queues_the_last_warsaw_day(void **state)
{
	struct fx *fx = *state;
	time_t from, to, now = time(NULL);
	char conf[700], listen[64], key[2][11], want[2][64];
	const char *bin = sk_test_bin();
	struct sk_index *ix;
	FILE *f;
	pid_t pid;
	bool got = false;

	if (access(bin, X_OK) != 0) {
		printf("SKIP: no binary %s (set SKARBNICA_BIN)\n", bin);
		skip();
	}
	/* A note in yesterday's Warsaw day, a daily subscriber. */
	sk_digest_window(SK_PERIOD_DAILY, now, &from, &to);
	sk_digest_period_key(SK_PERIOD_DAILY, now, key[0]);
	post_note(fx, "Wczorajszy przetarg", "zamowienia", from + 60, NULL);
	ix = open_ix(fx);
	assert_int_equal(sk_index_subscribe(ix, "jan@chelmno.pl", "zamowienia",
					    SK_PERIOD_DAILY, now, NULL),
			 SK_OK);
	sk_index_close(&ix);
	snprintf(conf, sizeof(conf), "%s/skarbnica.conf", fx->data);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", sk_test_free_port());
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f,
		"[web]\nbase_url = https://skarbnica.example\nlisten = %s\n"
		"[search]\nbackend = fts5\n[list]\naddress = " LIST "\n"
		"[smtp]\nfrom = " FROM "\n",
		listen);
	assert_int_equal(fclose(f), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, "skarbnica", "-d", fx->data, "serve", (char *)NULL);
		_exit(127);
	}
	/* It runs at start; allow for a test that straddles midnight. */
	for (int i = 0; i < 500 && !got; i++) {
		sk_digest_period_key(SK_PERIOD_DAILY, time(NULL), key[1]);
		for (int k = 0; k < 2; k++)
			snprintf(want[k], sizeof(want[k]), "digest:2:daily:%s",
				 key[k]);
		if (sk_index_open(fx->data, SK_INDEX_NO_XAPIAN, &ix, NULL) ==
		    SK_OK) {
			got = sk_index_outbox_has(ix, want[0]) ||
			      sk_index_outbox_has(ix, want[1]);
			sk_index_close(&ix);
		}
		if (!got)
			usleep(20 * 1000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	if (!got)
		fail_msg("serve queued no digest with key %s", want[0]);
	{
		struct sk_arena *a = sk_arena_new(0);
		struct sk_outbox_row *rows;
		size_t k, digests = 0;
		ix = open_ix(fx);
		assert_int_equal(sk_index_outbox_list(ix, a, SK_OUTBOX_QUEUED,
						      10, &rows, &k, NULL),
				 SK_OK);
		for (size_t i = 0; i < k; i++)
			digests += rows[i].kind == SK_OUTBOX_DIGEST;
		assert_int_equal(digests, 1);
		sk_index_close(&ix);
		sk_arena_free(&a);
	}
}

static void
sends_digests_through_the_outbox(void **state)
{
	struct fx *fx = *state;
	struct sk_digest_counts n;
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_index *ix;
	char *got;

	need_sink(fx, NULL, NULL);
	post_note(fx, "Przetarg", "zamowienia", T0 - 86400, NULL);
	ix = open_ix(fx);
	assert_int_equal(sk_index_subscribe(ix, "ewa@lisewo.pl", "zamowienia",
					    SK_PERIOD_DAILY, T0, NULL),
			 SK_OK);
	assert_int_equal(sk_digest_run(ix, &fx->ms, SK_PERIOD_DAILY, T0 + 60,
				       &n, NULL),
			 SK_OK);
	assert_int_equal(n.queued, 1);
	sk_index_close(&ix);
	o = opts_for(fx);
	fake_now = T0 + 60;
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	assert_int_equal(c.sent, 2); /* the note and the digest */
	assert_int_equal(sk_sink_count(&fx->sink), 2);
	got = sk_sink_read(&fx->sink);
	assert_non_null(got);
	free(got);
}

static void
measures_outbox_throughput(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mailer_counts c;
	struct sk_mailer_opts o;
	struct sk_index *ix;
	struct timespec t0, t1;
	enum { N = 300 };
	double secs;

	need_sink(fx, NULL, NULL);
	ix = open_ix(fx);
	assert_int_equal(sk_index_begin(ix, NULL), SK_OK);
	for (int i = 0; i < N; i++) {
		struct sk_mail m = {
			.from_addr = FROM,
			.to_addr = "jan@chelmno.pl",
			.subject = "Skarbnica: nowości",
			.markdown = "## Zamówienia publiczne\n\n- [Przetarg]"
				    "(https://s.example/watek/1)\n",
			.auto_generated = true,
		};
		struct sk_outbox_new q = { .kind = SK_OUTBOX_DIGEST,
					   .sender = FROM,
					   .recipients = "jan@chelmno.pl" };
		char *raw;
		size_t len;
		const char *mid;
		assert_int_equal(sk_mail_compose(a, &m, &raw, &len, &mid, NULL),
				 SK_OK);
		q.message_id = mid;
		q.raw = raw;
		q.raw_len = len;
		assert_int_equal(sk_index_outbox_queue(ix, &q, T0, NULL, NULL),
				 SK_OK);
	}
	assert_int_equal(sk_index_commit(ix, NULL), SK_OK);
	sk_index_close(&ix);
	o = opts_for(fx);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(run_mailer(fx, &o, &c), SK_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(c.sent, N);
	assert_int_equal(sk_sink_count(&fx->sink), N);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# outbox to smtp-sink (claim, dot mark with fsync, sent: 3 "
	       "commits a message): %d in %.2f s = %.0f messages/s\n",
	       N, secs, N / secs);
	sk_arena_free(&a);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(claims_due_rows_in_order_once),
		T(refuses_a_second_row_with_one_dedup_key),
		T(posts_a_note_into_the_archive_and_the_outbox),
		T(refuses_bad_notes_and_stores_nothing),
		T(sends_a_note_once),
		T(retries_4xx_with_growing_delays),
		T(gives_up_on_4xx_after_the_limit),
		T(fails_5xx_with_the_reply),
		T(server_aborting_mid_data_is_retried),
		T(server_hanging_up_at_data_is_retried),
		T(server_dying_after_the_dot_is_uncertain_never_resent),
		T(killed_after_claim_sends_once_on_restart),
		T(killed_before_the_dot_is_uncertain_and_not_sent),
		T(killed_after_the_reply_never_sends_twice),
		T(refuses_a_second_mailer),
		T(unreachable_server_leaves_rows_queued_with_the_reason),
		cmocka_unit_test(computes_digest_windows),
		T(queues_one_digest_per_user_and_period),
		T(digests_list_practices_published_in_the_period),
		T(daily_digest_covers_a_25_hour_warsaw_day),
		T(serve_queues_the_last_warsaw_day),
		T(sends_digests_through_the_outbox),
		T(measures_outbox_throughput),
	};
	sk_log_set_level(SK_LOG_WARNING); /* not a line per message sent */
	return cmocka_run_group_tests_name("mailer/outbox", tests, NULL, NULL);
}
