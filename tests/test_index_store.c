/* tests/test_index_store.c: the store — de-duplication, threading (with
 * ghosts and the subject rule), partners and held mail, topics, reading. */
#include "tests/helpers/sk_test.h"
#include "index/sk_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx {
	char *dir;
	struct sk_index *ix;
	struct sk_arena *a;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_err err = { 0 };
	/* The config owns mutable strings; these stand in for it. */
	static char s1[] = "brzozowka", n1[] = "Gmina Brzozówka",
		    k1[] = "gmina", d1[] = "brzozowka.example";
	static char s2[] = "lakowski", n2[] = "Powiat Łąkowski",
		    k2[] = "powiat",
		    d2[] = "powiat-lakowski.example, lakowski.example";
	static const struct sk_partner_conf partners[] = {
		{ s1, n1, k1, d1 },
		{ s2, n2, k2, d2 },
	};
	fx->dir = sk_test_tmpdir();
	fx->a = sk_arena_new(0);
	if (sk_index_open(fx->dir,
			  SK_INDEX_CREATE | SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
			  &fx->ix, &err) ||
	    sk_index_load_taxonomy(fx->ix, sk_index_default_taxonomy(), &err) ||
	    sk_index_sync_partners(fx->ix, partners, 2, &err) ||
	    sk_index_meta_set(fx->ix, "list.address", "praktyki@lista.example",
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

/* A plausible message; raw differs by id so that each is distinct. */
static struct sk_message
msg(struct fx *fx, const char *id, const char *from, const char *subject,
    time_t date, const char *body)
{
	struct sk_message m = { 0 };
	m.raw = sk_arena_printf(fx->a,
				"Message-ID: <%s>\nFrom: %s\nSubject: %s\n\n%s\n",
				id, from, subject, body);
	m.raw_len = strlen(m.raw);
	m.message_id = id;
	m.subject = subject;
	m.from_name = "Anna Kowalczyk";
	m.from_addr = from;
	m.date = date;
	m.body = body;
	m.quote_start = strlen(body);
	return m;
}

static int64_t
add(struct fx *fx, struct sk_message *m)
{
	struct sk_err err = { 0 };
	int64_t id = 0;
	enum sk_status rc = sk_index_add_message(fx->ix, m, &id, &err);
	if (rc)
		fprintf(stderr, "add: %s\n", err.msg);
	assert_int_equal(rc, SK_OK);
	return id;
}

static struct sk_message_row
row(struct fx *fx, const char *mid)
{
	struct sk_message_row r;
	struct sk_viewer v = { true, true };
	struct sk_err err = { 0 };
	assert_int_equal(sk_index_message(fx->ix, fx->a, &v, mid, &r, &err),
			 SK_OK);
	return r;
}

static void
same_bytes_twice_is_stored_once(void **state)
{
	struct fx *fx = *state;
	struct sk_message m = msg(fx, "a@brzozowka.example",
				  "a.kowalczyk@brzozowka.example", "Regulamin",
				  1700000000, "Treść");
	struct sk_err err = { 0 };
	int64_t id = add(fx, &m), id2 = 0;
	struct sk_stats st;

	assert_int_equal(sk_index_add_message(fx->ix, &m, &id2, &err),
			 SK_EEXIST);
	assert_int_equal(id, id2);
	assert_int_equal(sk_index_stats(fx->ix, &st, &err), SK_OK);
	assert_int_equal(st.messages, 1);
}

static void
list_copy_and_cc_copy_are_one_message(void **state)
{
	struct fx *fx = *state;
	struct sk_message m = msg(fx, "b@brzozowka.example",
				  "a.kowalczyk@brzozowka.example", "Taryfy",
				  1700000000, "Taryfa na wodę");
	struct sk_message cc = m;
	struct sk_err err = { 0 };
	struct sk_stats st;

	add(fx, &m);
	/* The list adds headers and a subject tag: other bytes, same
	 * message. */
	cc.raw = sk_arena_printf(fx->a, "List-Id: <praktyki.lista.example>\n%s",
				 m.raw);
	cc.raw_len = strlen(cc.raw);
	cc.subject = "[Praktyki] Taryfy";
	assert_int_equal(sk_index_add_message(fx->ix, &cc, NULL, &err),
			 SK_EEXIST);
	assert_int_equal(sk_index_stats(fx->ix, &st, &err), SK_OK);
	assert_int_equal(st.messages, 1);
}

static void
two_messages_claiming_one_id_are_both_kept(void **state)
{
	struct fx *fx = *state;
	struct sk_message m1 = msg(fx, "dup@x.example",
				   "a.kowalczyk@brzozowka.example", "Jeden",
				   1700000000, "Pierwsza");
	struct sk_message m2 = msg(fx, "dup@x.example", "kto@lakowski.example",
				   "Dwa", 1700000100, "Zupełnie inna");
	struct sk_err err = { 0 };
	struct sk_stats st;

	add(fx, &m1);
	add(fx, &m2);
	assert_int_equal(sk_index_stats(fx->ix, &st, &err), SK_OK);
	assert_int_equal(st.messages, 2);
}

static void
replies_thread_by_references(void **state)
{
	struct fx *fx = *state;
	struct sk_message root = msg(fx, "root@brzozowka.example",
				     "a.kowalczyk@brzozowka.example",
				     "Plan postępowań", 1700000000, "Pytanie");
	struct sk_message reply = msg(fx, "reply@lakowski.example",
				      "p.zajac@powiat-lakowski.example",
				      "Odp: Plan postępowań", 1700003600,
				      "Odpowiedź");
	const char *refs[] = { "root@brzozowka.example" };
	struct sk_message_row r1, r2;

	reply.references = refs;
	reply.n_references = 1;
	reply.in_reply_to = "root@brzozowka.example";
	add(fx, &root);
	add(fx, &reply);
	r1 = row(fx, "root@brzozowka.example");
	r2 = row(fx, "reply@lakowski.example");
	assert_int_equal(r1.thread_id, r2.thread_id);
	assert_int_equal(r2.parent_id, r1.id);
	assert_string_equal(r2.partner_slug, "lakowski");
}

static void
late_parent_joins_its_children(void **state)
{
	struct fx *fx = *state;
	const char *refs_c1[] = { "parent@brzozowka.example" };
	const char *refs_c2[] = { "parent@brzozowka.example",
				  "c1@brzozowka.example" };
	struct sk_message c1 = msg(fx, "c1@brzozowka.example",
				   "a.kowalczyk@brzozowka.example", "Re: X",
				   1700000100, "c1");
	struct sk_message c2 = msg(fx, "c2@brzozowka.example",
				   "b.nowak@brzozowka.example", "Re: X",
				   1700000200, "c2");
	struct sk_message p = msg(fx, "parent@brzozowka.example",
				  "a.kowalczyk@brzozowka.example", "X",
				  1700000000, "parent");
	struct sk_message_row rc1, rc2, rp;

	c1.references = refs_c1;
	c1.n_references = 1;
	c2.references = refs_c2;
	c2.n_references = 2;
	/* Children first: they wait for the parent as a ghost. */
	add(fx, &c2);
	add(fx, &c1);
	add(fx, &p);
	rc1 = row(fx, "c1@brzozowka.example");
	rc2 = row(fx, "c2@brzozowka.example");
	rp = row(fx, "parent@brzozowka.example");
	assert_int_equal(rc1.thread_id, rp.thread_id);
	assert_int_equal(rc2.thread_id, rp.thread_id);
	assert_int_equal(rc1.parent_id, rp.id);
	assert_int_equal(rc2.parent_id, rc1.id);
}

static void
outlook_reply_without_headers_joins_by_subject(void **state)
{
	struct fx *fx = *state;
	struct sk_message root = msg(fx, "s1@brzozowka.example",
				     "a.kowalczyk@brzozowka.example",
				     "[Zamówienia] Regulamin zamówień poniżej "
				     "130 000 zł",
				     1700000000, "Pytanie");
	struct sk_message reply = msg(fx, "s2@lakowski.example",
				      "p.zajac@powiat-lakowski.example",
				      "RE: Odp: regulamin zamówień poniżej "
				      "130 000 zł",
				      1700090000, "Odpowiedź");
	struct sk_message other = msg(fx, "s3@lakowski.example",
				      "p.zajac@powiat-lakowski.example",
				      "Regulamin zamówień poniżej 130 000 zł",
				      1700100000, "Nowy wątek, bez Re:");
	struct sk_message_row a, b, c;

	add(fx, &root);
	add(fx, &reply);
	add(fx, &other);
	a = row(fx, "s1@brzozowka.example");
	b = row(fx, "s2@lakowski.example");
	c = row(fx, "s3@lakowski.example");
	assert_int_equal(a.thread_id, b.thread_id);
	/* Without a reply prefix it is a new thread. */
	assert_int_not_equal(a.thread_id, c.thread_id);
}

static void
mail_from_outside_partners_is_held(void **state)
{
	struct fx *fx = *state;
	struct sk_message spam = msg(fx, "offer@fotowoltaika.example",
				     "handlowiec@fotowoltaika.example",
				     "Oferta współpracy", 1700000000,
				     "Dzień dobry, czy są Państwo "
				     "zainteresowani?");
	struct sk_message coord = msg(fx, "note@lista.example",
				      "koordynator@lista.example",
				      "Notatka ze spotkania", 1700000000,
				      "Ustalenia");
	struct sk_message_row r;
	struct sk_viewer reader = { true, false };
	struct sk_err err = { 0 };
	struct sk_stats st;

	add(fx, &spam);
	add(fx, &coord);
	r = row(fx, "offer@fotowoltaika.example");
	assert_true(r.flags & SK_MSG_HELD);
	r = row(fx, "note@lista.example");
	assert_false(r.flags & SK_MSG_HELD);
	assert_int_equal(sk_index_message(fx->ix, fx->a, &reader,
					  "offer@fotowoltaika.example", &r,
					  &err),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_stats(fx->ix, &st, &err), SK_OK);
	assert_int_equal(st.held, 1);
}

static void
subject_tag_and_keywords_give_topics(void **state)
{
	struct fx *fx = *state;
	struct sk_message tagged = msg(fx, "t1@brzozowka.example",
				       "a.kowalczyk@brzozowka.example",
				       "[RODO] Pytanie", 1700000000,
				       "Krótko.");
	struct sk_message kw = msg(
		fx, "t2@brzozowka.example", "a.kowalczyk@brzozowka.example",
		"Taryfa na wodę i ścieki",
		1700000000,
		"Przygotowujemy wniosek taryfowy do Wód Polskich. Jak "
		"liczycie dopłatę do ścieków i taryfę za wodę?");
	struct sk_message_row r;

	add(fx, &tagged);
	add(fx, &kw);
	r = row(fx, "t1@brzozowka.example");
	assert_true(r.n_topics >= 1);
	assert_string_equal(r.topics[0], "rodo");
	r = row(fx, "t2@brzozowka.example");
	assert_true(r.n_topics >= 1);
	assert_string_equal(r.topics[0], "woda-scieki");
}

static void
topics_list_counts_visible_threads(void **state)
{
	struct fx *fx = *state;
	struct sk_message tagged = msg(fx, "c1@brzozowka.example",
				       "a.kowalczyk@brzozowka.example",
				       "[BIP] Deklaracja dostępności",
				       1700000000, "Treść");
	struct sk_topic_row *rows;
	struct sk_viewer v = { false, false };
	struct sk_err err = { 0 };
	size_t n;
	bool found = false;

	add(fx, &tagged);
	assert_int_equal(sk_index_topics(fx->ix, fx->a, &v, &rows, &n, &err),
			 SK_OK);
	assert_true(n > 20);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].slug, "bip")) {
			assert_int_equal(rows[i].threads, 1);
			assert_string_equal(rows[i].name,
					    "Biuletyn Informacji Publicznej");
			found = true;
		}
	assert_true(found);
}

static void
thread_is_read_parents_first(void **state)
{
	struct fx *fx = *state;
	const char *r1[] = { "o1@brzozowka.example" };
	const char *r2[] = { "o1@brzozowka.example", "o2@brzozowka.example" };
	struct sk_message m1 = msg(fx, "o1@brzozowka.example",
				   "a.kowalczyk@brzozowka.example", "Wątek",
				   1700000000, "1");
	struct sk_message m2 = msg(fx, "o2@brzozowka.example",
				   "a.kowalczyk@brzozowka.example", "Re: Wątek",
				   1700000300, "2");
	struct sk_message m3 = msg(fx, "o3@brzozowka.example",
				   "a.kowalczyk@brzozowka.example", "Re: Wątek",
				   1700000200, "3: answers 1 directly");
	struct sk_message m4 = msg(fx, "o4@brzozowka.example",
				   "a.kowalczyk@brzozowka.example", "Re: Wątek",
				   1700000400, "4: answers 2");
	struct sk_thread_row t;
	struct sk_message_row *rows;
	struct sk_viewer v = { true, false };
	struct sk_err err = { 0 };
	size_t n;

	m2.references = r1;
	m2.n_references = 1;
	m3.references = r1;
	m3.n_references = 1;
	m4.references = r2;
	m4.n_references = 2;
	add(fx, &m1);
	add(fx, &m2);
	add(fx, &m3);
	add(fx, &m4);
	assert_int_equal(sk_index_thread(fx->ix, fx->a, &v,
					 row(fx, "o1@brzozowka.example").thread_id,
					 &t, &rows, &n, &err),
			 SK_OK);
	assert_int_equal(n, 4);
	/* 1, then its replies by date (3 before 2), with 4 under 2. */
	assert_string_equal(rows[0].message_id, "o1@brzozowka.example");
	assert_string_equal(rows[1].message_id, "o3@brzozowka.example");
	assert_string_equal(rows[2].message_id, "o2@brzozowka.example");
	assert_string_equal(rows[3].message_id, "o4@brzozowka.example");
	assert_int_equal(rows[0].depth, 0);
	assert_int_equal(rows[1].depth, 1);
	assert_int_equal(rows[3].depth, 2);
	assert_string_equal(t.subject, "Wątek");
	assert_int_equal(t.messages, 4);
}

static void
parent_loop_does_not_hang(void **state)
{
	struct fx *fx = *state;
	const char *ra[] = { "loop-b@x.example" };
	const char *rb[] = { "loop-a@x.example" };
	struct sk_message a = msg(fx, "loop-a@x.example",
				  "a.kowalczyk@brzozowka.example", "Pętla",
				  1700000000, "a");
	struct sk_message b = msg(fx, "loop-b@x.example",
				  "a.kowalczyk@brzozowka.example", "Re: Pętla",
				  1700000100, "b");
	struct sk_thread_row t;
	struct sk_message_row *rows;
	struct sk_viewer v = { true, true };
	struct sk_err err = { 0 };
	size_t n;

	a.references = ra;
	a.n_references = 1;
	b.references = rb;
	b.n_references = 1;
	add(fx, &a);
	add(fx, &b);
	assert_int_equal(sk_index_thread(fx->ix, fx->a, &v,
					 row(fx, "loop-a@x.example").thread_id,
					 &t, &rows, &n, &err),
			 SK_OK);
	assert_int_equal(n, 2);
}

static void
threads_filter_by_partner_and_unknown_slug(void **state)
{
	struct fx *fx = *state;
	struct sk_message m = msg(fx, "p1@lakowski.example",
				  "p.zajac@lakowski.example", "Drogi powiatowe",
				  1700000000, "Zimowe utrzymanie dróg");
	struct sk_thread_filter f = { .partner = "lakowski" };
	struct sk_thread_row *rows;
	struct sk_viewer v = { true, false };
	struct sk_err err = { 0 };
	size_t n;
	int64_t total;

	add(fx, &m);
	assert_int_equal(sk_index_threads(fx->ix, fx->a, &v, &f, &rows, &n,
					  &total, &err),
			 SK_OK);
	assert_int_equal(total, 1);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].subject, "Drogi powiatowe");
	f.partner = "nie-ma-takiej";
	assert_int_equal(sk_index_threads(fx->ix, fx->a, &v, &f, &rows, &n,
					  &total, &err),
			 SK_ENOTFOUND);
}

static void
taxonomy_errors_name_the_line(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	assert_int_equal(sk_index_load_taxonomy(fx->ix,
						"[ok]\nname = OK\n[Zły]\n",
						&err),
			 SK_EINVAL);
	assert_non_null(strstr(err.msg, "taxonomy:3"));
	assert_int_equal(sk_index_load_taxonomy(
				 fx->ix, "[a]\nname = A\nparent = b\n", &err),
			 SK_EINVAL);
	assert_non_null(strstr(err.msg, "unknown parent"));
}

static void
users_get_argon2id_hashes(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	assert_int_equal(sk_index_user_set(fx->ix, "a.kowalczyk@brzozowka.example",
					   "Anna", SK_ROLE_READER,
					   "bardzo-tajne-haslo", &err),
			 SK_OK);
	assert_int_equal(sk_index_user_set(fx->ix, "nie-adres", "X",
					   SK_ROLE_READER, NULL, &err),
			 SK_EINVAL);
	assert_int_equal(sk_index_user_set(fx->ix, "b@brzozowka.example", "B",
					   SK_ROLE_READER, "krotkie", &err),
			 SK_EINVAL);
}

static void
sources_remember_positions(void **state)
{
	struct fx *fx = *state;
	struct sk_source_state s, again;
	struct sk_err err = { 0 };

	assert_int_equal(sk_index_source_get(fx->ix, "mbox", "/x.mbox", &s,
					     &err),
			 SK_OK);
	assert_int_equal(s.mbox_offset, 0);
	s.mbox_offset = 12345;
	assert_int_equal(sk_index_source_set(fx->ix, &s, &err), SK_OK);
	assert_int_equal(sk_index_source_get(fx->ix, "mbox", "/x.mbox",
					     &again, &err),
			 SK_OK);
	assert_int_equal(again.id, s.id);
	assert_int_equal(again.mbox_offset, 12345);
	assert_false(sk_index_source_file_done(fx->ix, s.id, "1.abc"));
	assert_int_equal(sk_index_source_file_add(fx->ix, s.id, "1.abc", &err),
			 SK_OK);
	assert_true(sk_index_source_file_done(fx->ix, s.id, "1.abc"));
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(same_bytes_twice_is_stored_once),
		T(list_copy_and_cc_copy_are_one_message),
		T(two_messages_claiming_one_id_are_both_kept),
		T(replies_thread_by_references),
		T(late_parent_joins_its_children),
		T(outlook_reply_without_headers_joins_by_subject),
		T(mail_from_outside_partners_is_held),
		T(subject_tag_and_keywords_give_topics),
		T(topics_list_counts_visible_threads),
		T(thread_is_read_parents_first),
		T(parent_loop_does_not_hang),
		T(threads_filter_by_partner_and_unknown_slug),
		T(taxonomy_errors_name_the_line),
		T(users_get_argon2id_hashes),
		T(sources_remember_positions),
	};
	return cmocka_run_group_tests_name("index/store", tests, NULL, NULL);
}
