/* tests/test_index_curate.c: curation — topic decisions, confirming,
 * split and join, pins, approving held mail, practice records (and
 * promoting a thread to one) — each with its audit row and its undo; the
 * Xapian documents kept in step; and the reading side: pins, practices,
 * the onboarding path, the glossary, quarters, the audit list. */
#include "tests/helpers/sk_test.h"
#include "index/private.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct sk_partner_conf partners[] = {
	{ (char *)"brzozowka", (char *)"Gmina Brzozówka", (char *)"gmina",
	  (char *)"brzozowka.example" },
	{ (char *)"jaskowo", (char *)"Gmina Jaśkowo", (char *)"gmina",
	  (char *)"jaskowo.example" },
	{ (char *)"lakowski", (char *)"Powiat Łąkowski", (char *)"powiat",
	  (char *)"powiat-lakowski.example" },
};

static const struct sk_viewer anon = { false, false };
static const struct sk_viewer partner = { true, false };
static const struct sk_viewer coord = { true, true };

#define ACTOR "koordynator@lista.example"

struct fx {
	char *dir;
	struct sk_index *ix;
	struct sk_arena *a;
	int n;
};

static int
open_fx(void **state, unsigned flags)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_err err = { 0 };
	fx->dir = sk_test_tmpdir();
	fx->a = sk_arena_new(0);
	if (sk_index_open(fx->dir, SK_INDEX_CREATE | SK_INDEX_WRITE | flags,
			  &fx->ix, &err) ||
	    sk_index_load_taxonomy(fx->ix, sk_index_default_taxonomy(), &err) ||
	    sk_index_sync_partners(fx->ix, partners, SK_ARRAY_SIZE(partners),
				   &err) ||
	    sk_index_meta_set(fx->ix, "list.address", "praktyki@lista.example",
			      &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
setup(void **state)
{
	return open_fx(state, SK_INDEX_NO_XAPIAN);
}

static int
setup_xapian(void **state)
{
	return open_fx(state, 0);
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

struct att {
	const char *name, *text;
};

/* Store a message from addr ("who@domain"); parent: a Message-ID or
 * NULL. Returns the row id; *mid_out (may be NULL) the Message-ID. */
static int64_t
add_full(struct fx *fx, const char *addr, const char *subject,
	 const char *body, const char *quote, const char *parent,
	 time_t date, const struct att *att, const char **mid_out)
{
	struct sk_message m = { 0 };
	struct sk_attachment at = { 0 };
	struct sk_err err = { 0 };
	const char *id = sk_arena_printf(fx->a, "c%d@%s", ++fx->n,
					 strchr(addr, '@') + 1);
	const char *text = quote ? sk_arena_printf(fx->a, "%s\n\n%s", body, quote)
				 : body;
	int64_t row = 0;
	enum sk_status rc;

	m.raw = sk_arena_printf(fx->a, "Message-ID: <%s>\nFrom: %s\nSubject: "
				       "%s\n\n%s\n",
				id, addr, subject, text);
	m.raw_len = strlen(m.raw);
	m.message_id = id;
	m.subject = subject;
	m.from_name = sk_arena_printf(fx->a, "Osoba %d", fx->n);
	m.from_addr = addr;
	m.date = date ? date : 1710000000 + fx->n * 3600;
	m.body = text;
	m.quote_start = quote ? strlen(body) + 2 : strlen(text);
	if (parent) {
		m.in_reply_to = parent;
		m.references = &m.in_reply_to;
		m.n_references = 1;
	}
	if (att) {
		at.filename = att->name;
		at.content_type = "text/plain";
		at.data = att->text;
		at.size = strlen(att->text);
		at.text = att->text;
		at.extract_status = "ok";
		m.attachments = &at;
		m.n_attachments = 1;
	}
	rc = sk_index_add_message(fx->ix, &m, &row, &err);
	if (rc)
		fprintf(stderr, "add: %s\n", err.msg);
	assert_int_equal(rc, SK_OK);
	if (mid_out)
		*mid_out = id;
	return row;
}

static int64_t
add(struct fx *fx, const char *addr, const char *subject, const char *body,
    const char *parent, const char **mid_out)
{
	return add_full(fx, addr, subject, body, NULL, parent, 0, NULL,
			mid_out);
}

static int64_t
q64(struct fx *fx, const char *sql, int64_t arg)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	assert_int_equal(sqlite3_prepare_v2(fx->ix->db, sql, -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t
thread_of(struct fx *fx, int64_t msg)
{
	return q64(fx, "SELECT thread_id FROM messages WHERE id = ?1", msg);
}

static const char *
thread_topics(struct fx *fx, int64_t thread)
{
	sqlite3_stmt *st;
	struct sk_buf b;
	const char *out;
	sqlite3_prepare_v2(fx->ix->db,
			   "SELECT t.slug FROM thread_topics tt JOIN topics t ON "
			   "t.id = tt.topic_id WHERE tt.thread_id = ?1 AND "
			   "tt.removed = 0 ORDER BY t.slug",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, thread);
	sk_buf_init(&b, 4096);
	while (sqlite3_step(st) == SQLITE_ROW)
		sk_buf_addf(&b, "%s%s", b.len ? " " : "",
			    sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	out = sk_arena_strdup(fx->a, b.p);
	sk_buf_release(&b);
	return out;
}

/* A water-tariff question with two replies. */
static int64_t
water_thread(struct fx *fx, int64_t *reply_out)
{
	const char *root, *r1;
	int64_t m = add(fx, "a.kowalczyk@brzozowka.example",
			"Wniosek taryfowy",
			"Wody Polskie wezwały nas do uzupełnienia wniosku "
			"taryfowego. Jak liczycie dopłatę do ścieków?",
			NULL, &root);
	int64_t r = add(fx, "p.zajac@jaskowo.example", "Re: Wniosek taryfowy",
			"U nas taryfa na wodę i ścieki: oczyszczalnia, "
			"wodociąg, uzupełnienie w 14 dni.",
			root, &r1);
	add(fx, "k.nowak@powiat-lakowski.example", "Re: Wniosek taryfowy",
	    "Dziękuję, taryfa za ścieki u nas podobnie.", r1, NULL);
	if (reply_out)
		*reply_out = r;
	return thread_of(fx, m);
}

/* ---- topic decisions ------------------------------------------------------- */

static void
topic_decisions_are_audited_and_undone_in_order(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	int64_t thread = water_thread(fx, NULL), a1, a2, a3;
	struct sk_audit_row *rows;
	size_t n;

	assert_string_equal(thread_topics(fx, thread), "woda-scieki");
	assert_int_equal(sk_index_thread_topic(fx->ix, thread, "rodo",
					       SK_TOPIC_ADD, ACTOR, &a1, &err),
			 SK_OK);
	assert_int_equal(sk_index_thread_topic(fx->ix, thread, "woda-scieki",
					       SK_TOPIC_REMOVE, ACTOR, &a2, &err),
			 SK_OK);
	assert_string_equal(thread_topics(fx, thread), "rodo");
	/* The same decision again changes nothing and records nothing. */
	assert_int_equal(sk_index_thread_topic(fx->ix, thread, "rodo",
					       SK_TOPIC_ADD, ACTOR, &a3, &err),
			 SK_OK);
	assert_int_equal(a3, 0);
	assert_int_equal(sk_index_thread_topic(fx->ix, thread, "nie-ma",
					       SK_TOPIC_ADD, ACTOR, NULL, &err),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_thread_topic(fx->ix, 999999, "rodo",
					       SK_TOPIC_ADD, ACTOR, NULL, &err),
			 SK_ENOTFOUND);

	/* The audit rows: who, what, old and new values. */
	assert_int_equal(sk_index_audit_list(fx->ix, fx->a,
					     sk_arena_printf(fx->a, "thread:%lld",
							     (long long)thread),
					     0, 10, &rows, &n, &err),
			 SK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].id, a2);
	assert_string_equal(rows[0].actor, ACTOR);
	assert_string_equal(rows[0].action, "thread.topic");
	assert_non_null(strstr(rows[0].old_json, "\"woda-scieki\":null"));
	assert_non_null(strstr(rows[0].new_json, "\"woda-scieki\":\"remove\""));
	assert_true(rows[0].can_undo);
	assert_false(rows[1].can_undo); /* a later change is in the way */

	/* Out of order: refused, and says which change to undo first. */
	assert_int_equal(sk_index_audit_undo(fx->ix, a1, ACTOR, &err),
			 SK_EINVAL);
	assert_non_null(strstr(err.msg, "Najpierw cofnij"));
	assert_int_equal(sk_index_audit_undo(fx->ix, a2, ACTOR, &err), SK_OK);
	assert_string_equal(thread_topics(fx, thread), "rodo woda-scieki");
	assert_int_equal(sk_index_audit_undo(fx->ix, a2, ACTOR, &err),
			 SK_EINVAL); /* only once */
	assert_int_equal(sk_index_audit_undo(fx->ix, a1, ACTOR, &err), SK_OK);
	assert_string_equal(thread_topics(fx, thread), "woda-scieki");
	assert_int_equal(q64(fx, "SELECT count(*) FROM thread_topics WHERE "
				 "source = 'manual' AND thread_id = ?1",
			     thread),
			 0);
	/* The undo rows themselves cannot be undone. */
	assert_int_equal(sk_index_audit_list(fx->ix, fx->a, NULL, 0, 10, &rows,
					     &n, &err),
			 SK_OK);
	assert_int_equal(n, 4);
	assert_string_equal(rows[0].action, "undo");
	assert_int_equal(rows[0].undo_of, a1);
	assert_false(rows[0].can_undo);
	assert_int_equal(sk_index_audit_undo(fx->ix, rows[0].id, ACTOR, &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_audit_undo(fx->ix, 424242, ACTOR, &err),
			 SK_ENOTFOUND);
}

static void
confirming_topics_makes_labels(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_model_stats ms;
	int64_t thread = water_thread(fx, NULL), audit = 0;
	int64_t empty = thread_of(fx, add(fx, "a@brzozowka.example", "Hej",
					  "Dzień dobry.", NULL, NULL));

	assert_int_equal(sk_index_thread_topics_confirm(fx->ix, empty, ACTOR,
							NULL, &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_thread_topics_confirm(fx->ix, thread, ACTOR,
							&audit, &err),
			 SK_OK);
	assert_true(audit > 0);
	assert_int_equal(q64(fx, "SELECT count(*) FROM thread_topics WHERE "
				 "source = 'manual' AND thread_id = ?1",
			     thread),
			 1);
	assert_int_equal(sk_index_model_stats(fx->ix, &ms, &err), SK_OK);
	assert_int_equal(ms.labelled_messages, 3);
	assert_int_equal(sk_index_audit_undo(fx->ix, audit, ACTOR, &err), SK_OK);
	assert_int_equal(sk_index_model_stats(fx->ix, &ms, &err), SK_OK);
	assert_int_equal(ms.labelled_messages, 0);
	assert_string_equal(thread_topics(fx, thread), "woda-scieki");
}

/* ---- split and join ---------------------------------------------------------- */

static void
split_takes_the_message_and_its_replies(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	const char *a, *b, *c;
	int64_t ma = add(fx, "a@brzozowka.example", "Taryfa na wodę",
			 "Wniosek taryfowy do Wód Polskich: taryfa za ścieki?",
			 NULL, &a);
	int64_t mb = add(fx, "b@jaskowo.example", "Re: Taryfa na wodę",
			 "Przy okazji: rejestr czynności przetwarzania RODO "
			 "i inspektor ochrony danych — jak u Was?",
			 a, &b);
	int64_t mc = add(fx, "c@powiat-lakowski.example", "Re: Taryfa na wodę",
			 "Rejestr czynności przetwarzania prowadzi u nas "
			 "inspektor ochrony danych.",
			 b, &c);
	int64_t md = add(fx, "d@jaskowo.example", "Re: Taryfa na wodę",
			 "Taryfa na ścieki u nas na trzy lata.", a, NULL);
	int64_t me = add(fx, "e@brzozowka.example", "Re: Taryfa na wodę",
			 "RODO: klauzula informacyjna też.", c, NULL);
	int64_t thread = thread_of(fx, ma), nt = 0, audit = 0, thread_b;
	struct sk_thread_row tr;
	struct sk_message_row *msgs;
	size_t n;

	assert_int_equal(q64(fx, "SELECT message_count FROM threads WHERE id = ?1",
			     thread),
			 5);
	assert_int_equal(sk_index_thread_split(fx->ix, ma, ACTOR, NULL, NULL,
					       &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_thread_split(fx->ix, 999999, ACTOR, NULL,
					       NULL, &err),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_thread_split(fx->ix, mb, ACTOR, &nt, &audit,
					       &err),
			 SK_OK);
	assert_true(nt > 0 && nt != thread);
	thread_b = thread_of(fx, mb);
	assert_int_equal(thread_b, nt);
	assert_int_equal(thread_of(fx, mc), nt);
	assert_int_equal(thread_of(fx, me), nt);
	assert_int_equal(thread_of(fx, md), thread);
	assert_int_equal(thread_of(fx, ma), thread);
	assert_int_equal(q64(fx, "SELECT message_count FROM threads WHERE id = ?1",
			     thread),
			 2);
	assert_int_equal(q64(fx, "SELECT message_count FROM threads WHERE id = ?1",
			     nt),
			 3);
	/* Each part has the topics of its own messages now (the new one
	 * keeps the subject about water tariffs). */
	assert_string_equal(thread_topics(fx, thread), "woda-scieki");
	assert_non_null(strstr(thread_topics(fx, nt), "rodo"));
	assert_int_equal(sk_index_thread(fx->ix, fx->a, &coord, nt, &tr, &msgs,
					 &n, &err),
			 SK_OK);
	assert_int_equal(n, 3);
	assert_int_equal(msgs[0].id, mb);
	assert_string_equal(tr.subject, "Re: Taryfa na wodę");

	assert_int_equal(sk_index_audit_undo(fx->ix, audit, ACTOR, &err), SK_OK);
	assert_int_equal(thread_of(fx, mb), thread);
	assert_int_equal(thread_of(fx, me), thread);
	assert_int_equal(q64(fx, "SELECT count(*) FROM threads WHERE id = ?1",
			     nt),
			 0);
	assert_int_equal(q64(fx, "SELECT message_count FROM threads WHERE id = ?1",
			     thread),
			 5);
	assert_string_equal(thread_topics(fx, thread), "rodo woda-scieki");
}

static void
join_moves_everything_and_undo_restores_it(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	int64_t into = water_thread(fx, NULL), m1, from, audit, pid = 0;
	int64_t other = thread_of(fx, add(fx, "x@brzozowka.example",
					  "Inny wątek", "Festyn rodzinny i "
					  "impreza masowa na stadionie.",
					  NULL, NULL));
	struct sk_practice p = { 0 };
	const char *topics[] = { "rodo" };

	m1 = add(fx, "z@jaskowo.example", "Dopłata do ścieków",
		 "Uchwała o dopłacie do ścieków i taryfa: jak rozliczacie?",
		 NULL, NULL);
	(void)other;
	from = thread_of(fx, m1);
	assert_int_equal(sk_index_thread_topic(fx->ix, from, "rodo",
					       SK_TOPIC_ADD, ACTOR, NULL, &err),
			 SK_OK);
	assert_int_equal(sk_index_topic_pin(fx->ix, "woda-scieki", from, 1,
					    "Od tego zacznij", ACTOR, NULL, &err),
			 SK_OK);
	p.title = "Dopłata do ścieków";
	p.topics = topics;
	p.n_topics = 1;
	p.source_thread_id = from;
	assert_int_equal(sk_index_practice_create(fx->ix, &p, ACTOR, &pid, NULL,
						  &err),
			 SK_OK);

	assert_int_equal(sk_index_thread_join(fx->ix, into, into, ACTOR, NULL,
					      &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_thread_join(fx->ix, into, from, ACTOR, &audit,
					      &err),
			 SK_OK);
	assert_int_equal(thread_of(fx, m1), into);
	assert_int_equal(q64(fx, "SELECT count(*) FROM threads WHERE id = ?1",
			     from),
			 0);
	assert_int_equal(q64(fx, "SELECT message_count FROM threads WHERE id = ?1",
			     into),
			 4);
	assert_string_equal(thread_topics(fx, into), "rodo woda-scieki");
	assert_int_equal(q64(fx, "SELECT count(*) FROM topic_pins WHERE "
				 "thread_id = ?1",
			     into),
			 1);
	assert_int_equal(q64(fx, "SELECT source_thread_id FROM practices WHERE "
				 "id = ?1",
			     pid),
			 into);

	assert_int_equal(sk_index_audit_undo(fx->ix, audit, ACTOR, &err), SK_OK);
	assert_int_equal(thread_of(fx, m1), from); /* the same id again */
	assert_int_equal(q64(fx, "SELECT message_count FROM threads WHERE id = ?1",
			     into),
			 3);
	assert_int_equal(q64(fx, "SELECT message_count FROM threads WHERE id = ?1",
			     from),
			 1);
	assert_string_equal(thread_topics(fx, into), "woda-scieki");
	assert_string_equal(thread_topics(fx, from), "rodo woda-scieki");
	assert_int_equal(q64(fx, "SELECT count(*) FROM topic_pins WHERE "
				 "thread_id = ?1",
			     into),
			 0);
	assert_int_equal(q64(fx, "SELECT count(*) FROM topic_pins WHERE "
				 "thread_id = ?1",
			     from),
			 1);
	assert_int_equal(q64(fx, "SELECT source_thread_id FROM practices WHERE "
				 "id = ?1",
			     pid),
			 from);
}

static void
split_and_join_keep_xapian_in_step(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_search_opts o = { 0 };
	struct sk_results r;
	int64_t reply, thread = water_thread(fx, &reply), nt = 0, audit;

	o.backend = SK_BACKEND_XAPIAN;
	o.viewer = coord;
	o.query = "topic:rodo";
	assert_int_equal(sk_search(fx->ix, fx->a, &o, &r, &err), SK_OK);
	assert_int_equal(r.total, 0);
	/* A topic decision re-puts the thread's documents at commit. */
	assert_int_equal(sk_index_thread_topic(fx->ix, thread, "rodo",
					       SK_TOPIC_ADD, ACTOR, &audit, &err),
			 SK_OK);
	assert_int_equal(sk_search(fx->ix, fx->a, &o, &r, &err), SK_OK);
	assert_int_equal(r.total, 3);
	assert_int_equal(sk_index_audit_undo(fx->ix, audit, ACTOR, &err), SK_OK);
	assert_int_equal(sk_search(fx->ix, fx->a, &o, &r, &err), SK_OK);
	assert_int_equal(r.total, 0);
	/* A split changes the thread ids in the documents. */
	assert_int_equal(sk_index_thread_split(fx->ix, reply, ACTOR, &nt, &audit,
					       &err),
			 SK_OK);
	o.query = "oczyszczalnia";
	assert_int_equal(sk_search(fx->ix, fx->a, &o, &r, &err), SK_OK);
	assert_int_equal(r.n_hits, 1);
	assert_int_equal(r.hits[0].thread_id, nt);
	assert_int_equal(sk_index_audit_undo(fx->ix, audit, ACTOR, &err), SK_OK);
	assert_int_equal(sk_search(fx->ix, fx->a, &o, &r, &err), SK_OK);
	assert_int_equal(r.n_hits, 1);
	assert_int_equal(r.hits[0].thread_id, thread);
	/* With Xapian open, nothing waits for another writer. */
	assert_int_equal(q64(fx, "SELECT count(*) FROM xapian_pending WHERE ?1",
			     1),
			 0);
}

static void
curation_without_xapian_handle_queues_documents(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_index *web = NULL;
	int64_t thread = water_thread(fx, NULL);
	sqlite3_stmt *st;
	int64_t pending = 0;

	/* The web's curation handle: the store only. */
	assert_int_equal(sk_index_open(fx->dir,
				       SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN, &web,
				       &err),
			 SK_OK);
	assert_int_equal(sk_index_thread_topic(web, thread, "rodo", SK_TOPIC_ADD,
					       ACTOR, NULL, &err),
			 SK_OK);
	sqlite3_prepare_v2(web->db, "SELECT count(*) FROM xapian_pending", -1,
			   &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		pending = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(pending, 3);
	sk_index_close(&web);
}

/* ---- pins and held mail ----------------------------------------------------------- */

static void
pins_order_and_undo(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	int64_t t1 = water_thread(fx, NULL), t2 = water_thread(fx, NULL), a;
	struct sk_pin_row *pins;
	size_t n;

	assert_int_equal(sk_index_topic_pin(fx->ix, "woda-scieki", t1, 2, NULL,
					    ACTOR, NULL, &err),
			 SK_OK);
	assert_int_equal(sk_index_topic_pin(fx->ix, "woda-scieki", t2, 1,
					    "Najlepsze omówienie taryf", ACTOR,
					    NULL, &err),
			 SK_OK);
	assert_int_equal(sk_index_topic_pins(fx->ix, fx->a, &anon,
					     "woda-scieki", &pins, &n, &err),
			 SK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(pins[0].thread.id, t2);
	assert_string_equal(pins[0].note, "Najlepsze omówienie taryf");
	assert_string_equal(pins[0].pinned_by, ACTOR);
	assert_int_equal(pins[0].thread.messages, 3);
	assert_int_equal(pins[0].thread.n_topics, 1);
	assert_int_equal(pins[1].thread.id, t1);
	assert_int_equal(sk_index_topic_unpin(fx->ix, "woda-scieki", t2, ACTOR,
					      &a, &err),
			 SK_OK);
	assert_int_equal(sk_index_topic_unpin(fx->ix, "woda-scieki", t2, ACTOR,
					      NULL, &err),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_topic_pins(fx->ix, fx->a, &anon,
					     "woda-scieki", &pins, &n, &err),
			 SK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(sk_index_audit_undo(fx->ix, a, ACTOR, &err), SK_OK);
	assert_int_equal(sk_index_topic_pins(fx->ix, fx->a, &anon,
					     "woda-scieki", &pins, &n, &err),
			 SK_OK);
	assert_int_equal(n, 2);
	assert_string_equal(pins[0].note, "Najlepsze omówienie taryf");
	assert_int_equal(sk_index_topic_pins(fx->ix, fx->a, &anon, "nie-ma",
					     &pins, &n, &err),
			 SK_ENOTFOUND);
	/* Moving a pin, and undoing the move and the pin itself. */
	assert_int_equal(sk_index_topic_pin(fx->ix, "woda-scieki", t1, 0, NULL,
					    ACTOR, &a, &err),
			 SK_OK);
	assert_int_equal(sk_index_topic_pins(fx->ix, fx->a, &anon,
					     "woda-scieki", &pins, &n, &err),
			 SK_OK);
	assert_int_equal(pins[0].thread.id, t1);
	assert_int_equal(sk_index_audit_undo(fx->ix, a, ACTOR, &err), SK_OK);
	assert_int_equal(sk_index_topic_pins(fx->ix, fx->a, &anon,
					     "woda-scieki", &pins, &n, &err),
			 SK_OK);
	assert_int_equal(pins[0].thread.id, t2);
	assert_int_equal(pins[1].position, 2);
}

static void
approving_held_mail_shows_it(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_thread_filter f = { 0 };
	struct sk_thread_row *rows, tr;
	struct sk_message_row *msgs;
	int64_t total, audit;
	size_t n;
	int64_t held = add(fx, "oferta@firma.example", "Fotowoltaika",
			   "Oferta na panele fotowoltaiczne.", NULL, NULL);
	int64_t ok = add(fx, "a@brzozowka.example", "Taryfa",
			 "Wniosek taryfowy.", NULL, NULL);

	assert_int_equal(sk_index_threads(fx->ix, fx->a, &partner, &f, &rows,
					  &n, &total, &err),
			 SK_OK);
	assert_int_equal(total, 1);
	/* The queue lists it, all or by thread. */
	assert_int_equal(sk_index_held_messages(fx->ix, fx->a, 0, 0, 0, &msgs,
						&n, &total, &err),
			 SK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(total, 1);
	assert_int_equal(msgs[0].id, held);
	assert_string_equal(msgs[0].from_addr, "oferta@firma.example");
	assert_int_equal(sk_index_held_messages(fx->ix, fx->a, thread_of(fx, ok),
						0, 0, &msgs, &n, &total, &err),
			 SK_OK);
	assert_int_equal(n, 0);
	assert_int_equal(total, 0);
	assert_int_equal(sk_index_message_approve(fx->ix, ok, ACTOR, NULL, &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_message_approve(fx->ix, held, ACTOR, &audit,
						  &err),
			 SK_OK);
	assert_int_equal(sk_index_message_approve(fx->ix, held, ACTOR, NULL,
						  &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_threads(fx->ix, fx->a, &partner, &f, &rows,
					  &n, &total, &err),
			 SK_OK);
	assert_int_equal(total, 2);
	assert_int_equal(sk_index_held_messages(fx->ix, fx->a, 0, 0, 0, &msgs,
						&n, NULL, &err),
			 SK_OK);
	assert_int_equal(n, 0);
	assert_int_equal(sk_index_audit_undo(fx->ix, audit, ACTOR, &err), SK_OK);
	assert_int_equal(sk_index_thread(fx->ix, fx->a, &partner,
					 thread_of(fx, held), &tr, &msgs, &n,
					 &err),
			 SK_ENOTFOUND);
}

/* ---- practice records -------------------------------------------------------------- */

static void
practice_records_and_their_visibility(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	const char *topics[] = { "woda-scieki", "zamowienia" };
	const char *bad_topics[] = { "nie-ma" };
	struct sk_practice p = { 0 }, got, *rows;
	struct sk_practice_filter f = { NULL, NULL, -1, 0, 0 };
	int64_t id = 0, a_create, a_update, total;
	size_t n;

	p.title = "  Wspólny przetarg na odbiór ścieków  ";
	p.partner_slug = "jaskowo";
	p.topics = topics;
	p.n_topics = 2;
	p.problem = "Małe gminy płaciły dużo za wywóz nieczystości.";
	p.solution = "Trzy gminy ogłosiły wspólny przetarg.";
	p.results = "Cena niższa o 18%.";
	p.costs = "Bez dodatkowych kosztów; obsługa prawna 4 000 zł.";
	p.period = "2023–2024";
	p.stakeholders = "Gmina Jaśkowo, Gmina Brzozówka, Powiat Łąkowski";
	p.lessons = "Porozumienie międzygminne trzeba przyjąć uchwałami.";
	p.contact_name = "Piotr Zając";
	p.contact_email = "p.zajac@jaskowo.example";
	p.status = SK_PRACTICE_DRAFT;
	assert_int_equal(sk_index_practice_create(fx->ix, &p, ACTOR, &id,
						  &a_create, &err),
			 SK_OK);
	assert_true(id > 0);

	/* A draft: coordinators only. */
	assert_int_equal(sk_index_practice_get(fx->ix, fx->a, &partner, id, &got,
					       &err),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_practice_get(fx->ix, fx->a, &coord, id, &got,
					       &err),
			 SK_OK);
	assert_string_equal(got.title, "Wspólny przetarg na odbiór ścieków");
	assert_string_equal(got.partner_slug, "jaskowo");
	assert_string_equal(got.partner_name, "Gmina Jaśkowo");
	assert_int_equal(got.n_topics, 2);
	assert_string_equal(got.results, "Cena niższa o 18%.");
	assert_string_equal(got.created_by, ACTOR);
	assert_int_equal(got.status, SK_PRACTICE_DRAFT);

	p.id = id;
	p.status = SK_PRACTICE_VALIDATED;
	assert_int_equal(sk_index_practice_update(fx->ix, &p, ACTOR, &a_update,
						  &err),
			 SK_OK);
	assert_true(a_update > 0);
	/* Validated: everyone; the contact person only when logged in. */
	assert_int_equal(sk_index_practice_get(fx->ix, fx->a, &anon, id, &got,
					       &err),
			 SK_OK);
	assert_null(got.contact_name);
	assert_null(got.contact_email);
	assert_int_equal(sk_index_practice_get(fx->ix, fx->a, &partner, id, &got,
					       &err),
			 SK_OK);
	assert_string_equal(got.contact_email, "p.zajac@jaskowo.example");

	/* Lists by topic (a parent includes its subtopics) and partner. */
	f.topic = "woda-scieki";
	assert_int_equal(sk_index_practices(fx->ix, fx->a, &anon, &f, &rows, &n,
					    &total, &err),
			 SK_OK);
	assert_int_equal(total, 1);
	assert_int_equal(n, 1);
	assert_null(rows[0].problem);
	assert_null(rows[0].contact_email);
	f.topic = "rodo";
	assert_int_equal(sk_index_practices(fx->ix, fx->a, &anon, &f, &rows, &n,
					    &total, &err),
			 SK_OK);
	assert_int_equal(total, 0);
	f.topic = NULL;
	f.partner = "jaskowo";
	assert_int_equal(sk_index_practices(fx->ix, fx->a, &partner, &f, &rows,
					    &n, &total, &err),
			 SK_OK);
	assert_int_equal(total, 1);
	f.partner = "nie-ma";
	assert_int_equal(sk_index_practices(fx->ix, fx->a, &partner, &f, &rows,
					    &n, &total, &err),
			 SK_ENOTFOUND);

	/* Refusals say why, in Polish. */
	p.contact_email = "nie adres";
	assert_int_equal(sk_index_practice_update(fx->ix, &p, ACTOR, NULL, &err),
			 SK_EINVAL);
	p.contact_email = "p.zajac@jaskowo.example";
	p.title = " ";
	assert_int_equal(sk_index_practice_update(fx->ix, &p, ACTOR, NULL, &err),
			 SK_EINVAL);
	assert_non_null(strstr(err.msg, "tytuł"));
	p.title = "Tytuł";
	p.topics = bad_topics;
	p.n_topics = 1;
	assert_int_equal(sk_index_practice_update(fx->ix, &p, ACTOR, NULL, &err),
			 SK_ENOTFOUND);
	p.id = 424242;
	p.topics = topics;
	assert_int_equal(sk_index_practice_update(fx->ix, &p, ACTOR, NULL, &err),
			 SK_ENOTFOUND);

	/* Undo: the update first, then the creation. */
	assert_int_equal(sk_index_audit_undo(fx->ix, a_create, ACTOR, &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_audit_undo(fx->ix, a_update, ACTOR, &err),
			 SK_OK);
	assert_int_equal(sk_index_practice_get(fx->ix, fx->a, &coord, id, &got,
					       &err),
			 SK_OK);
	assert_int_equal(got.status, SK_PRACTICE_DRAFT);
	assert_int_equal(sk_index_audit_undo(fx->ix, a_create, ACTOR, &err),
			 SK_OK);
	assert_int_equal(sk_index_practice_get(fx->ix, fx->a, &coord, id, &got,
					       &err),
			 SK_ENOTFOUND);
}

static void
promoting_a_thread_prefills_a_draft(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	const struct att doc = { "regulamin-taryfy.txt",
				 "Regulamin dopłat do ścieków, wzór uchwały." };
	const char *root;
	int64_t m = add_full(fx, "a.kowalczyk@brzozowka.example",
			     "[Woda] Re: Dopłata do ścieków",
			     "Jak rozliczacie dopłatę do ścieków dla "
			     "gospodarstw domowych?",
			     NULL, NULL, 0, NULL, &root);
	int64_t thread = thread_of(fx, m), id = 0;
	struct sk_practice got;

	add_full(fx, "p.zajac@jaskowo.example", "Re: Dopłata do ścieków",
		 "U nas dopłata jest w uchwale na rok; spółka składa "
		 "co miesiąc wniosek z liczbą metrów sześciennych, a my "
		 "płacimy w 14 dni. Wzór uchwały w załączniku.\n\n"
		 "W dniu 12.03.2024 Anna Kowalczyk pisze:",
		 "> Jak rozliczacie dopłatę?", root, 0, &doc, NULL);
	add_full(fx, "b.nowak@brzozowka.example", "Re: Dopłata do ścieków",
		 "Dziękujemy!", NULL, root, 0, NULL, NULL);
	assert_int_equal(sk_index_practice_promote(fx->ix, thread, ACTOR, &id,
						   NULL, &err),
			 SK_OK);
	assert_int_equal(sk_index_practice_get(fx->ix, fx->a, &coord, id, &got,
					       &err),
			 SK_OK);
	assert_string_equal(got.title, "Dopłata do ścieków");
	assert_string_equal(got.problem,
			    "Jak rozliczacie dopłatę do ścieków dla "
			    "gospodarstw domowych?");
	assert_non_null(strstr(got.solution, "płacimy w 14 dni"));
	assert_null(strstr(got.solution, "pisze:"));
	assert_null(strstr(got.solution, "> Jak"));
	assert_string_equal(got.partner_slug, "jaskowo");
	assert_string_equal(got.contact_email, "p.zajac@jaskowo.example");
	assert_int_equal(got.source_thread_id, thread);
	assert_int_equal(got.status, SK_PRACTICE_DRAFT);
	assert_int_equal(got.n_topics, 1);
	assert_string_equal(got.topics[0], "woda-scieki");
	assert_int_equal(got.n_attachments, 1);
	assert_string_equal(got.attachments[0].filename, "regulamin-taryfy.txt");
	assert_int_equal(sk_index_practice_promote(fx->ix, 999999, ACTOR, NULL,
						   NULL, &err),
			 SK_ENOTFOUND);
	/* Promoting is undone like a creation. */
	{
		struct sk_audit_row *rows;
		size_t n;
		assert_int_equal(sk_index_audit_list(
					 fx->ix, fx->a,
					 sk_arena_printf(fx->a, "practice:%lld",
							 (long long)id),
					 0, 10, &rows, &n, &err),
				 SK_OK);
		assert_int_equal(n, 1);
		assert_string_equal(rows[0].action, "practice.promote");
		assert_int_equal(sk_index_audit_undo(fx->ix, rows[0].id, ACTOR,
						     &err),
				 SK_OK);
		assert_int_equal(sk_index_practice_get(fx->ix, fx->a, &coord, id,
						       &got, &err),
				 SK_ENOTFOUND);
	}
}

/* ---- reading: onboarding, glossary, quarters ------------------------------------------- */

static void
onboarding_path_on_a_small_store(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_onboarding_topic *o;
	struct sk_practice p = { 0 };
	const char *topics[] = { "woda-scieki" };
	int64_t small = water_thread(fx, NULL), big, pid;
	const char *root;
	size_t n;
	bool seen = false;

	/* A bigger water thread (most referenced) and a procurement one. */
	big = thread_of(fx, add(fx, "a@brzozowka.example", "Taryfa 2025",
				"Wniosek taryfowy, taryfa na wodę i ścieki.",
				NULL, &root));
	for (int i = 0; i < 4; i++)
		add(fx, i % 2 ? "b@jaskowo.example" : "c@powiat-lakowski.example",
		    "Re: Taryfa 2025", "Taryfa na ścieki u nas też.", root, NULL);
	add(fx, "a@brzozowka.example", "Plan postępowań",
	    "Plan postępowań o udzielenie zamówień publicznych: przetarg.",
	    NULL, NULL);
	assert_int_equal(sk_index_topic_pin(fx->ix, "woda-scieki", small, 1,
					    "Zacznij tutaj", ACTOR, NULL, &err),
			 SK_OK);
	p.title = "Taryfa krok po kroku";
	p.partner_slug = "brzozowka";
	p.topics = topics;
	p.n_topics = 1;
	p.status = SK_PRACTICE_VALIDATED;
	assert_int_equal(sk_index_practice_create(fx->ix, &p, ACTOR, &pid, NULL,
						  &err),
			 SK_OK);
	p.title = "Szkic";
	p.status = SK_PRACTICE_DRAFT;
	assert_int_equal(sk_index_practice_create(fx->ix, &p, ACTOR, NULL, NULL,
						  &err),
			 SK_OK);

	assert_int_equal(sk_index_onboarding(fx->ix, fx->a, &coord, 3, &o, &n,
					     &err),
			 SK_OK);
	assert_int_equal(n, 2); /* topics with something to read */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(o[i].topic.slug, "woda-scieki"))
			continue;
		seen = true;
		assert_true(strlen(o[i].topic.description) > 20);
		assert_int_equal(o[i].n_pinned, 1);
		assert_int_equal(o[i].pinned[0].thread.id, small);
		assert_int_equal(o[i].n_practices, 1); /* validated only */
		assert_int_equal(o[i].practices[0].id, pid);
		assert_int_equal(o[i].n_threads, 1); /* the pinned one not again */
		assert_int_equal(o[i].threads[0].id, big);
	}
	assert_true(seen);
}

static void
glossary_explains_acronyms(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_glossary_row *g;
	size_t n;
	const char *want[] = { "BIP", "CAF", "RODO", "PZP", "JST", "SWZ", "WPF",
			       "EZD", "JRWA", "ePUAP", "IOD", "UODO", "KPO",
			       "FEnIKS", "PSZOK", "BDO", "GOPS", "PCPR", "ZUD" };

	assert_int_equal(sk_index_glossary(fx->ix, fx->a, &g, &n, &err), SK_OK);
	assert_true(n >= SK_ARRAY_SIZE(want));
	for (size_t w = 0; w < SK_ARRAY_SIZE(want); w++) {
		bool found = false;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(g[i].term, want[w])) {
				found = true;
				assert_true(strlen(g[i].expansion) > 3);
				assert_true(strlen(g[i].description) > 20);
			}
		if (!found)
			fprintf(stderr, "glossary lacks %s\n", want[w]);
		assert_true(found);
	}
}

static void
quarters_count_exactly_in_polish_time(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_quarter_row *q;
	struct sk_thread_row *rows;
	int64_t total;
	size_t n;

	/* 2023-12-31 23:30 UTC is 1 January 2024, 00:30 in Poland (CET);
	 * 2024-03-31 22:30 UTC is 1 April, 00:30 (CEST). */
	add_full(fx, "a@brzozowka.example", "Nowy rok", "Treść.", NULL, NULL,
		 1704065400, NULL, NULL);
	add_full(fx, "a@brzozowka.example", "Koniec marca", "Treść.", NULL, NULL,
		 1711920600 - 3600, NULL, NULL);
	add_full(fx, "a@brzozowka.example", "Kwiecień", "Treść.", NULL, NULL,
		 1711924200, NULL, NULL);
	add_full(fx, "a@brzozowka.example", "Grudzień", "Treść.", NULL, NULL,
		 1703980800, NULL, NULL);
	add_full(fx, "spam@firma.example", "Oferta", "Oferta.", NULL, NULL,
		 1711924300, NULL, NULL); /* held */

	assert_int_equal(sk_index_quarters(fx->ix, fx->a, &partner, &q, &n, &err),
			 SK_OK);
	assert_int_equal(n, 3);
	assert_string_equal(q[0].quarter, "2024-Q2");
	assert_int_equal(q[0].threads, 1);
	assert_int_equal(q[0].messages, 1);
	assert_string_equal(q[1].quarter, "2024-Q1");
	assert_int_equal(q[1].threads, 2);
	assert_string_equal(q[2].quarter, "2023-Q4");
	assert_int_equal(q[2].threads, 1);
	assert_int_equal(sk_index_quarters(fx->ix, fx->a, &coord, &q, &n, &err),
			 SK_OK);
	assert_int_equal(q[0].threads, 2); /* held mail for coordinators */

	assert_int_equal(sk_index_quarter_threads(fx->ix, fx->a, &partner,
						  "2024-Q1", 0, 1, &rows, &n,
						  &total, &err),
			 SK_OK);
	assert_int_equal(total, 2);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].subject, "Nowy rok");
	assert_int_equal(sk_index_quarter_threads(fx->ix, fx->a, &partner,
						  "2024-Q1", 1, 1, &rows, &n,
						  &total, &err),
			 SK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].subject, "Koniec marca");
	assert_int_equal(sk_index_quarter_threads(fx->ix, fx->a, &partner,
						  "2024-Q5", 0, 0, &rows, &n,
						  &total, &err),
			 SK_EINVAL);
}

/* ---- the taxonomy ---------------------------------------------------------- */

static void
taxonomy_edits_are_checked_audited_and_undone(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_topic_def d = { 0 }, got;
	struct sk_audit_row *rows;
	size_t n;
	int64_t edit_id = 0, add_id = 0, thread, gen0, gen1;
	char long_text[2 * 300 + 1];
	const char *before;

	assert_int_equal(sk_index_topic_def(fx->ix, fx->a, "woda-scieki", &got,
					    &err),
			 SK_OK);
	before = got.keywords;
	assert_non_null(strstr(before, "wodociąg"));
	assert_null(got.parent_slug);
	gen0 = q64(fx, "SELECT CAST(value AS INTEGER) + 0 * ?1 FROM meta "
		       "WHERE key = 'topics.generation'", 0);

	/* Edit: the classifier uses the new keywords for new mail. */
	d = got;
	d.name = "Woda i ścieki";
	d.keywords = "kanalizacja deszczówka:0.9";
	assert_int_equal(sk_index_topic_save(fx->ix, &d, false, ACTOR,
					     &edit_id, &err),
			 SK_OK);
	assert_true(edit_id > 0);
	gen1 = q64(fx, "SELECT CAST(value AS INTEGER) + 0 * ?1 FROM meta "
		       "WHERE key = 'topics.generation'", 0);
	assert_true(gen1 > gen0);
	thread = thread_of(fx, add(fx, "a.kowalczyk@brzozowka.example",
				   "Opłata za deszczówkę",
				   "Jak naliczacie opłatę za deszczówkę?", NULL,
				   NULL));
	assert_string_equal(thread_topics(fx, thread), "woda-scieki");
	assert_int_equal(sk_index_audit_list(fx->ix, fx->a, "topic:woda-scieki",
					     0, 10, &rows, &n, &err),
			 SK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].action, "topic.edit");
	assert_string_equal(rows[0].actor, ACTOR);
	assert_true(rows[0].can_undo);

	/* Bad input changes nothing. */
	d.keywords = "przetarg:dużo";
	assert_int_equal(sk_index_topic_save(fx->ix, &d, false, ACTOR, NULL,
					     &err),
			 SK_EINVAL);
	d.keywords = "ok";
	d.parent_slug = "nie-ma-takiego";
	assert_int_equal(sk_index_topic_save(fx->ix, &d, false, ACTOR, NULL,
					     &err),
			 SK_EINVAL);
	d.parent_slug = "zamowienia-ponizej-progu"; /* a second level one */
	assert_int_equal(sk_index_topic_save(fx->ix, &d, false, ACTOR, NULL,
					     &err),
			 SK_EINVAL);
	d.parent_slug = NULL;
	d.name = " ";
	assert_int_equal(sk_index_topic_save(fx->ix, &d, false, ACTOR, NULL,
					     &err),
			 SK_EINVAL);
	/* Limits count characters: 121 "ż" (242 bytes) are one too many. */
	for (size_t i = 0; i < 121; i++)
		memcpy(long_text + 2 * i, "ż", 2);
	long_text[2 * 121] = '\0';
	d.name = long_text;
	assert_int_equal(sk_index_topic_save(fx->ix, &d, false, ACTOR, NULL,
					     &err),
			 SK_ETOOBIG);
	assert_non_null(strstr(err.msg, "najwyżej 120 znaków"));
	d.name = "Nazwa\nw dwóch liniach";
	assert_int_equal(sk_index_topic_save(fx->ix, &d, false, ACTOR, NULL,
					     &err),
			 SK_EINVAL);
	d.name = "x";
	d.slug = "nie-ma-takiego";
	assert_int_equal(sk_index_topic_save(fx->ix, &d, false, ACTOR, NULL,
					     &err),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_topic_def(fx->ix, fx->a, "woda-scieki", &got,
					    &err),
			 SK_OK);
	assert_string_equal(got.name, "Woda i ścieki");

	/* Add a subtopic; a second one with the same slug is refused. */
	memset(&d, 0, sizeof(d));
	d.slug = "deszczowka";
	d.name = "Wody opadowe";
	d.parent_slug = "woda-scieki";
	d.description = "Opłaty za odprowadzanie wód opadowych.";
	d.subject_tags = "Deszczówka";
	d.keywords = "deszczówka wody_opadowe";
	assert_int_equal(sk_index_topic_save(fx->ix, &d, true, ACTOR, &add_id,
					     &err),
			 SK_OK);
	assert_int_equal(sk_index_topic_save(fx->ix, &d, true, ACTOR, NULL,
					     &err),
			 SK_EEXIST);
	d.slug = "Zła Nazwa";
	assert_int_equal(sk_index_topic_save(fx->ix, &d, true, ACTOR, NULL,
					     &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_topic_def(fx->ix, fx->a, "deszczowka", &got,
					    &err),
			 SK_OK);
	assert_string_equal(got.parent_slug, "woda-scieki");
	assert_string_equal(got.subject_tags, "Deszczówka");
	/* The parent now has a subtopic: it cannot get a parent itself. */
	assert_int_equal(sk_index_topic_def(fx->ix, fx->a, "woda-scieki", &d,
					    &err),
			 SK_OK);
	d.parent_slug = "zamowienia";
	assert_int_equal(sk_index_topic_save(fx->ix, &d, false, ACTOR, NULL,
					     &err),
			 SK_EINVAL);

	/* A pin on the new topic blocks undoing its addition. Its note has
	 * the 300 characters a note may have, in 600 bytes. */
	for (size_t i = 0; i < 300; i++)
		memcpy(long_text + 2 * i, "ą", 2);
	long_text[2 * 300] = '\0';
	assert_int_equal(sk_index_topic_pin(fx->ix, "deszczowka", thread, 0,
					    long_text, ACTOR, NULL, &err),
			 SK_OK);
	assert_int_equal(sk_index_audit_undo(fx->ix, add_id, ACTOR, &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_topic_unpin(fx->ix, "deszczowka", thread,
					      ACTOR, NULL, &err),
			 SK_OK);
	assert_int_equal(sk_index_audit_undo(fx->ix, add_id, ACTOR, &err),
			 SK_OK);
	assert_int_equal(sk_index_topic_def(fx->ix, fx->a, "deszczowka", &got,
					    &err),
			 SK_ENOTFOUND);

	/* Undo the edit: the old definition is back. */
	assert_int_equal(sk_index_audit_undo(fx->ix, edit_id, ACTOR, &err),
			 SK_OK);
	assert_int_equal(sk_index_topic_def(fx->ix, fx->a, "woda-scieki", &got,
					    &err),
			 SK_OK);
	assert_string_equal(got.name, "Wodociągi i kanalizacja");
	assert_string_equal(got.keywords, before);
	assert_int_equal(sk_index_audit_undo(fx->ix, edit_id, ACTOR, &err),
			 SK_EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TX(f) cmocka_unit_test_setup_teardown(f, setup_xapian, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(topic_decisions_are_audited_and_undone_in_order),
		T(confirming_topics_makes_labels),
		T(split_takes_the_message_and_its_replies),
		T(join_moves_everything_and_undo_restores_it),
		TX(split_and_join_keep_xapian_in_step),
		TX(curation_without_xapian_handle_queues_documents),
		T(pins_order_and_undo),
		T(approving_held_mail_shows_it),
		T(practice_records_and_their_visibility),
		T(promoting_a_thread_prefills_a_draft),
		T(onboarding_path_on_a_small_store),
		T(glossary_explains_acronyms),
		T(quarters_count_exactly_in_polish_time),
		T(taxonomy_edits_are_checked_audited_and_undone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
