/* tests/test_index_xapian.c: the Xapian wrapper (index/xap.cc): documents
 * put and replaced by id, deletes, readers reopening, the writer lock,
 * error mapping, and the query tree compiled to Xapian. */
#include "tests/helpers/sk_test.h"

#include "index/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct fx {
	char *tmp;
	char *dir; /* the Xapian directory */
	struct sk_xdb *w;
	struct sk_arena *a;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_err err = { 0 };
	fx->tmp = sk_test_tmpdir();
	fx->dir = sk_arena_printf(fx->a = sk_arena_new(0), "%s/xapian",
				  fx->tmp);
	if (sk_xdb_open(fx->dir, SK_XDB_WRITE, &fx->w, &err)) {
		fprintf(stderr, "open: %s\n", err.msg);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	sk_xdb_close(&fx->w);
	sk_test_rmdir(&fx->tmp);
	sk_arena_free(&fx->a);
	free(fx);
	return 0;
}

/* 2024-03-15 12:00 UTC and friends. */
#define DAY 86400
#define T2024_03_15 ((time_t)1710504000)

static void
put(struct fx *fx, int64_t id, int64_t thread, time_t date,
    const char *subject, const char *sender, const char *body)
{
	struct sk_xdoc d = { 0 };
	struct sk_err err = { 0 };
	d.id = id;
	d.thread_id = thread;
	d.date = date;
	d.subject = subject;
	d.sender = sender;
	d.body = body;
	if (sk_xdb_put(fx->w, &d, &err))
		fail_msg("put %lld: %s", (long long)id, err.msg);
}

static void
put_doc(struct fx *fx, const struct sk_xdoc *d)
{
	struct sk_err err = { 0 };
	if (sk_xdb_put(fx->w, d, &err))
		fail_msg("put %lld: %s", (long long)d->id, err.msg);
}

static void
commit(struct fx *fx)
{
	struct sk_err err = { 0 };
	if (sk_xdb_commit(fx->w, &err))
		fail_msg("commit: %s", err.msg);
}

struct run {
	bool sort_by_date, collapse, include_held;
	size_t offset, limit;
};

static int
cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

/* Run q on db; returns the page ids in rank order as "1 2 3" (or sorted
 * when sorted is true), the total in *total. */
static const char *
search_on(struct fx *fx, struct sk_xdb *db, const char *q,
	  const struct run *r, bool sorted, int64_t *total)
{
	struct sk_xsearch s = { 0 };
	struct sk_qnode *root;
	struct sk_err err = { 0 };
	int64_t *ids, *all, t;
	size_t n, n_all;
	struct sk_buf b;
	char *out;

	if (sk_query_parse(fx->a, q, &root, &err))
		fail_msg("parse '%s': %s", q, err.msg);
	s.query = root;
	s.offset = r ? r->offset : 0;
	s.limit = r && r->limit ? r->limit : 100;
	s.sort_by_date = r && r->sort_by_date;
	s.collapse_threads = r && r->collapse;
	s.include_held = r && r->include_held;
	if (sk_xdb_search(db, fx->a, &s, &ids, &n, &t, &all, &n_all, &err))
		fail_msg("search '%s': %s", q, err.msg);
	if (total)
		*total = t;
	if (sorted)
		qsort(ids, n, sizeof(*ids), cmp_i64);
	sk_buf_init(&b, 1u << 20);
	for (size_t i = 0; i < n; i++)
		sk_buf_addf(&b, "%s%lld", i ? " " : "", (long long)ids[i]);
	out = sk_arena_strndup(fx->a, b.p, b.len);
	sk_buf_release(&b);
	return out;
}

static const char *
ids_of(struct fx *fx, const char *q)
{
	return search_on(fx, fx->w, q, NULL, true, NULL);
}

#define assert_ids(fx, q, want) assert_string_equal(ids_of(fx, q), want)

/* ---- documents ------------------------------------------------------------- */

static void
replaces_documents_by_id(void **state)
{
	struct fx *fx = *state;
	put(fx, 7, 1, T2024_03_15, "Kanalizacja", "Anna <a@x.example>",
	    "stara treść o przetargu");
	put(fx, 7, 1, T2024_03_15, "Kanalizacja", "Anna <a@x.example>",
	    "nowa treść o festynie");
	put(fx, 7, 1, T2024_03_15, "Kanalizacja", "Anna <a@x.example>",
	    "nowa treść o festynie");
	commit(fx);
	assert_int_equal(sk_xdb_doccount(fx->w), 1);
	assert_ids(fx, "festynie", "7");
	assert_ids(fx, "przetargu", "");
}

static void
deletes_documents(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	put(fx, 1, 1, T2024_03_15, "jeden", "", "kanalizacja");
	put(fx, 2, 2, T2024_03_15, "dwa", "", "kanalizacja");
	commit(fx);
	assert_ids(fx, "kanalizacja", "1 2");
	assert_int_equal(sk_xdb_delete(fx->w, 1, &err), SK_OK);
	assert_int_equal(sk_xdb_delete(fx->w, 99, &err), SK_OK); /* absent */
	commit(fx);
	assert_int_equal(sk_xdb_doccount(fx->w), 1);
	assert_ids(fx, "kanalizacja", "2");
}

static void
reader_sees_commits_after_reopen(void **state)
{
	struct fx *fx = *state;
	struct sk_xdb *r = NULL;
	struct sk_err err = { 0 };

	put(fx, 1, 1, T2024_03_15, "jeden", "", "wodociąg");
	commit(fx);
	assert_int_equal(sk_xdb_open(fx->dir, SK_XDB_READ, &r, &err), SK_OK);
	assert_string_equal(search_on(fx, r, "wodociąg", NULL, true, NULL),
			    "1");
	put(fx, 2, 2, T2024_03_15, "dwa", "", "wodociąg");
	commit(fx);
	assert_int_equal(sk_xdb_reopen(r, &err), SK_OK);
	assert_string_equal(search_on(fx, r, "wodociąg", NULL, true, NULL),
			    "1 2");
	assert_int_equal(sk_xdb_doccount(r), 2);
	/* Readers cannot write. */
	struct sk_xdoc d = { .id = 3, .subject = "x" };
	assert_int_equal(sk_xdb_put(r, &d, &err), SK_EINVAL);
	assert_int_equal(sk_xdb_delete(r, 1, &err), SK_EINVAL);
	assert_int_equal(sk_xdb_commit(r, &err), SK_EINVAL);
	sk_xdb_close(&r);
	assert_null(r);
	sk_xdb_close(&r); /* closing twice is harmless */
}

/* A reader that falls many commits behind hits DatabaseModifiedError (its
 * revision's blocks are reused); the wrapper reopens and retries, so the
 * search succeeds and sees the latest commit. (The same sequence on bare
 * Xapian throws "The revision being read has been discarded".) */
static void
reader_retries_when_modified(void **state)
{
	struct fx *fx = *state;
	struct sk_xdb *r = NULL;
	struct sk_err err = { 0 };
	char body[64];
	int64_t total = 0;

	for (int i = 1; i <= 3000; i++) {
		snprintf(body, sizeof(body), "przegląd numer%d", i);
		put(fx, i, i, T2024_03_15 + i, "x", "", body);
	}
	commit(fx);
	assert_int_equal(sk_xdb_open(fx->dir, SK_XDB_READ, &r, &err), SK_OK);
	assert_string_equal(search_on(fx, r, "numer5", NULL, false, &total),
			    "5");
	for (int round = 0; round < 4; round++) {
		for (int i = 1; i <= 3000; i++) {
			snprintf(body, sizeof(body), "przegląd runda%d n%d",
				 round, i);
			put(fx, i, i, T2024_03_15 + i, "x", "", body);
		}
		commit(fx);
	}
	search_on(fx, r, "przegląd", NULL, false, &total);
	assert_int_equal(total, 3000);
	search_on(fx, r, "runda3", NULL, false, &total);
	assert_int_equal(total, 3000);
	sk_xdb_close(&r);
}

static void
second_writer_gets_eagain(void **state)
{
	struct fx *fx = *state;
	struct sk_xdb *w2 = NULL;
	struct sk_err err = { 0 };

	assert_int_equal(sk_xdb_open(fx->dir, SK_XDB_WRITE, &w2, &err),
			 SK_EAGAIN);
	assert_null(w2);
	assert_non_null(strstr(err.msg, "locked by another writer"));
	/* Readers are fine meanwhile. */
	assert_int_equal(sk_xdb_open(fx->dir, SK_XDB_READ, &w2, &err), SK_OK);
	sk_xdb_close(&w2);
}

static void
maps_open_errors(void **state)
{
	struct fx *fx = *state;
	struct sk_xdb *x = (struct sk_xdb *)1;
	struct sk_err err = { 0 };
	char *p = sk_arena_printf(fx->a, "%s/absent", fx->tmp);
	FILE *f;

	assert_int_equal(sk_xdb_open(p, SK_XDB_READ, &x, &err), SK_ENOTFOUND);
	assert_null(x);
	assert_non_null(strstr(err.msg, "absent"));

	/* A directory that is not a Xapian database. */
	p = sk_arena_printf(fx->a, "%s/junk", fx->tmp);
	assert_int_equal(mkdir(p, 0700), 0);
	f = fopen(sk_arena_printf(fx->a, "%s/iamglass", p), "w");
	assert_non_null(f);
	fputs("this is not a database", f);
	fclose(f);
	assert_int_equal(sk_xdb_open(p, SK_XDB_READ, &x, &err), SK_EINDEX);
	assert_null(x);

	/* A path below a regular file cannot be created. */
	p = sk_arena_printf(fx->a, "%s/junk/iamglass/sub", fx->tmp);
	assert_int_not_equal(sk_xdb_open(p, SK_XDB_WRITE, &x, &err), SK_OK);
	assert_null(x);
}

static void
rejects_ids_outside_docid_range(void **state)
{
	struct fx *fx = *state;
	struct sk_xdoc d = { .subject = "x" };
	struct sk_err err = { 0 };
	d.id = 0;
	assert_int_equal(sk_xdb_put(fx->w, &d, &err), SK_EINVAL);
	d.id = (int64_t)1 << 33;
	assert_int_equal(sk_xdb_put(fx->w, &d, &err), SK_EINVAL);
}

/* The analyzer cuts long words (SK_TERM_MAX); the wrapper also skips any
 * term Xapian would refuse, so nothing throws either way. */
static void
accepts_overlong_words(void **state)
{
	struct fx *fx = *state;
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(fx, 1, 1, T2024_03_15, big, big, big);
	commit(fx);
	assert_int_equal(sk_xdb_doccount(fx->w), 1);
	assert_ids(fx, big, "1");
}

/* ---- the query tree in Xapian ---------------------------------------------- */

static void
load_small_corpus(struct fx *fx)
{
	const char *t1[] = { "zamowienia" }, *t2[] = { "woda-scieki", "bip" };
	struct sk_xdoc d;

	memset(&d, 0, sizeof(d));
	d = (struct sk_xdoc){ .id = 1, .thread_id = 10, .date = T2024_03_15,
			      .subject = "Regulamin przetargu",
			      .sender = "Anna Kowalczyk <a.kowalczyk@brzozowka.example>",
			      .body = "Czy ktoś ma regulamin kanalizacja?",
			      .partner = "brzozowka", .topics = t1, .n_topics = 1 };
	put_doc(fx, &d);
	d = (struct sk_xdoc){ .id = 2, .thread_id = 10, .date = T2024_03_15 + DAY,
			      .subject = "Re: Regulamin przetargu",
			      .sender = "Piotr Zając <p.zajac@jaskowo.example>",
			      .body = "Przesyłam nasz regulamin w załączniku.",
			      .attachments = "regulamin.docx\nParagraf pierwszy festyn",
			      .has_attachment = true, .partner = "jaskowo",
			      .topics = t1, .n_topics = 1 };
	put_doc(fx, &d);
	d = (struct sk_xdoc){ .id = 3, .thread_id = 11, .date = T2024_03_15 + 40 * DAY,
			      .subject = "Taryfa kanalizacja",
			      .sender = "Ewa Nowak <e.nowak@jaskowo.example>",
			      .body = "Wniosek taryfowy do Wód Polskich. Kowalczyk pisał o tym.",
			      .partner = "jaskowo", .topics = t2, .n_topics = 2 };
	put_doc(fx, &d);
	d = (struct sk_xdoc){ .id = 4, .thread_id = 12, .date = T2024_03_15 - 400 * DAY,
			      .subject = "Festyn gminny",
			      .sender = "Spamer <spam@elsewhere.example>",
			      .body = "Kup teraz festyn kanalizacja",
			      .held = true };
	put_doc(fx, &d);
	commit(fx);
}

static void
matches_fields(void **state)
{
	struct fx *fx = *state;
	load_small_corpus(fx);
	assert_ids(fx, "regulamin", "1 2");
	assert_ids(fx, "subject:regulamin", "1 2");
	assert_ids(fx, "kowalczyk", "1 3");	/* sender and body */
	assert_ids(fx, "from:kowalczyk", "1");
	assert_ids(fx, "od:jaskowo.example", "2 3");
	assert_ids(fx, "subject:kanalizacja", "3");
	assert_ids(fx, "festyn", "2");		/* attachment text; 4 held */
	assert_ids(fx, "regulamin.docx", "2");
}

static void
phrases_never_cross_fields(void **state)
{
	struct fx *fx = *state;
	load_small_corpus(fx);
	assert_ids(fx, "\"regulamin przetargu\"", "1 2");
	assert_ids(fx, "\"przetargu anna\"", "");	/* subject|sender */
	assert_ids(fx, "\"kowalczyk czy\"", "");	/* sender|body */
	assert_ids(fx, "\"załączniku regulamin\"", ""); /* body|attachments */
	assert_ids(fx, "\"wniosek taryfowy\"", "3");
	assert_ids(fx, "\"taryfowy wniosek\"", "");
	assert_ids(fx, "subject:\"taryfa kanalizacja\"", "3");
	assert_ids(fx, "from:\"ewa nowak\"", "3");
}

static void
applies_operators(void **state)
{
	struct fx *fx = *state;
	load_small_corpus(fx);
	assert_ids(fx, "regulamin kanalizacja", "1");
	assert_ids(fx, "regulamin OR taryfa", "1 2 3");
	assert_ids(fx, "kanalizacja -regulamin", "3");
	assert_ids(fx, "kanalizacja NOT subject:taryfa", "1");
	assert_ids(fx, "(regulamin OR taryfa) -jaskowo.example", "1");
	assert_ids(fx, "taryfa OR -regulamin", "3");
	assert_ids(fx, "kanalizacja -(regulamin OR wniosek)", "");
	assert_ids(fx, "kanalizacja -nic -(nic OR nigdzie)", "1 3");
}

static void
applies_filters(void **state)
{
	struct fx *fx = *state;
	load_small_corpus(fx);
	assert_ids(fx, "topic:zamowienia", "1 2");
	assert_ids(fx, "topic:bip", "3");
	assert_ids(fx, "topic:bip OR topic:zamowienia", "1 2 3");
	assert_ids(fx, "topic:nieznany", "");
	assert_ids(fx, "partner:jaskowo", "2 3");
	assert_ids(fx, "partner:jaskowo -has:attachment", "3");
	assert_ids(fx, "has:attachment", "2");
	assert_ids(fx, "regulamin -has:attachment", "1");
	assert_ids(fx, "date:2024-03-15", "1");
	assert_ids(fx, "date:2024-03", "1 2");
	assert_ids(fx, "date:2024-03-16..", "2 3");
	assert_ids(fx, "date:..2024-03-16", "1 2");
	assert_ids(fx, "date:2023", "");	/* 4 is held */
	assert_ids(fx, "date:2024 kanalizacja", "1 3");
	assert_ids(fx, "\"\"", "1 2 3");
}

static void
hides_held_unless_asked(void **state)
{
	struct fx *fx = *state;
	struct run r = { .include_held = true };
	load_small_corpus(fx);
	assert_ids(fx, "kanalizacja", "1 3");
	assert_string_equal(search_on(fx, fx->w, "kanalizacja", &r, true, NULL),
			    "1 3 4");
	assert_string_equal(search_on(fx, fx->w, "date:2023", &r, true, NULL),
			    "4");
}

static void
drops_stop_words_outside_phrases(void **state)
{
	struct fx *fx = *state;
	put(fx, 1, 1, T2024_03_15, "a", "", "Opłata w gminie");
	put(fx, 2, 2, T2024_03_15, "b", "", "Opłata gminie");
	commit(fx);
	/* "w" is a stop word: dropped from an AND, kept in a phrase. */
	assert_ids(fx, "opłata w gminie", "1 2");
	assert_ids(fx, "\"opłata w gminie\"", "1");
	/* A query of stop words only still searches them. */
	assert_ids(fx, "w", "1");
	assert_ids(fx, "opłata -w", "1 2");
	/* Words without terms are ignored; alone they match nothing. */
	assert_ids(fx, "opłata ---", "1 2");
	assert_ids(fx, "---", "");
}

static void
sorts_and_collapses(void **state)
{
	struct fx *fx = *state;
	struct run r = { 0 };
	int64_t total = 0;

	put(fx, 1, 100, T2024_03_15, "plan", "", "plan plan plan");
	put(fx, 2, 100, T2024_03_15 + 3 * DAY, "x", "", "plan");
	put(fx, 3, 200, T2024_03_15 + 1 * DAY, "x", "", "plan i jeszcze więcej");
	put(fx, 4, 300, T2024_03_15 + 2 * DAY, "x", "", "coś innego");
	commit(fx);

	r.sort_by_date = true;
	assert_string_equal(search_on(fx, fx->w, "plan", &r, false, &total),
			    "2 3 1");
	assert_int_equal(total, 3);
	/* Relevance: the subject and the repeated word win. */
	r.sort_by_date = false;
	assert_string_equal(search_on(fx, fx->w, "plan", &r, false, &total),
			    "1 2 3");
	/* No text: relevance ties, newest first. */
	assert_string_equal(search_on(fx, fx->w, "\"\"", &r, false, &total),
			    "2 4 3 1");
	/* Collapsed: one per thread, total counts threads. */
	r.collapse = true;
	r.sort_by_date = true;
	assert_string_equal(search_on(fx, fx->w, "plan", &r, false, &total),
			    "2 3");
	assert_int_equal(total, 2);
	/* Paging. */
	r.collapse = false;
	r.offset = 1;
	r.limit = 1;
	assert_string_equal(search_on(fx, fx->w, "plan", &r, false, &total),
			    "3");
	assert_int_equal(total, 3);
	r.offset = 10;
	assert_string_equal(search_on(fx, fx->w, "plan", &r, false, &total),
			    "");
	assert_int_equal(total, 3);
}

/* all_ids_out holds every match, collapsed or not, beyond the page. */
static void
returns_all_ids_for_facets(void **state)
{
	struct fx *fx = *state;
	struct sk_xsearch s = { 0 };
	struct sk_qnode *root;
	int64_t *ids, *all, total;
	size_t n, n_all;
	struct sk_err err = { 0 };
	char body[64];

	for (int i = 1; i <= 300; i++) {
		snprintf(body, sizeof(body), "sprawozdanie %s",
			 i % 3 ? "roczne" : "kwartalne");
		put(fx, i, i % 50, T2024_03_15 + i, "x", "", body);
	}
	commit(fx);
	assert_int_equal(sk_query_parse(fx->a, "roczne", &root, &err), SK_OK);
	s.query = root;
	s.limit = 5;
	assert_int_equal(sk_xdb_search(fx->w, fx->a, &s, &ids, &n, &total,
				       &all, &n_all, &err),
			 SK_OK);
	assert_int_equal(n, 5);
	assert_int_equal(total, 200);
	assert_int_equal(n_all, 200);
	qsort(all, n_all, sizeof(*all), cmp_i64);
	for (size_t i = 0, want = 1; i < n_all; i++, want++) {
		if (want % 3 == 0)
			want++;
		assert_int_equal(all[i], want);
	}
	s.collapse_threads = true;
	assert_int_equal(sk_xdb_search(fx->w, fx->a, &s, &ids, &n, &total,
				       &all, &n_all, &err),
			 SK_OK);
	/* Threads i % 50 with some i % 3 != 0 below 300: all 50. */
	assert_int_equal(total, 50);
	assert_int_equal(n_all, 200);
	/* NULL all_ids_out is fine. */
	assert_int_equal(sk_xdb_search(fx->w, fx->a, &s, &ids, &n, &total,
				       NULL, NULL, &err),
			 SK_OK);
	assert_int_equal(total, 50);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(replaces_documents_by_id),
		T(deletes_documents),
		T(reader_sees_commits_after_reopen),
		T(reader_retries_when_modified),
		T(second_writer_gets_eagain),
		T(maps_open_errors),
		T(rejects_ids_outside_docid_range),
		T(accepts_overlong_words),
		T(matches_fields),
		T(phrases_never_cross_fields),
		T(applies_operators),
		T(applies_filters),
		T(hides_held_unless_asked),
		T(drops_stop_words_outside_phrases),
		T(sorts_and_collapses),
		T(returns_all_ids_for_facets),
	};
	return cmocka_run_group_tests_name("index/xapian", tests, NULL, NULL);
}
