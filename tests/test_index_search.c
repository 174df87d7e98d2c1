/* tests/test_index_search.c: sk_search() on both backends over a small
 * store built through the public API from tests/data/search/messages.txt,
 * and the conformance suite: every query of tests/data/search/queries.txt
 * must give the same set of messages on Xapian and on FTS5. */
#include "tests/helpers/sk_test.h"

#include "index/sk_index.h"
#include "schema/sk_schema.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static char *tmp;	  /* the data directory */
static struct sk_index *ix; /* the writer, Xapian on */

/* ---- the fixture ------------------------------------------------------------ */

struct fmsg {
	char *id, *from_name, *from_addr, *subject, *reply_to, *body;
	time_t date;
	struct sk_attachment att[4];
	size_t n_att;
};

static time_t
parse_when(const char *s)
{
	struct tm tm = { 0 };
	if (sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min) != 5)
		fail_msg("bad date '%s'", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static char *
trim_dup(const char *s, size_t n)
{
	struct sk_str t = sk_str_trim(s, n);
	return sk_xstrndup(t.p, t.n);
}

/* Parse messages.txt into v (malloc'ed strings, freed by free_fixture). */
static size_t
load_fixture(struct fmsg **out)
{
	size_t len, n = 0, cap = 0;
	char *text = sk_test_read("search/messages.txt", &len);
	struct fmsg *v = NULL, *m = NULL;
	char *line = text, *nl;
	bool in_body = false;
	struct sk_buf body;

	sk_buf_init(&body, 1u << 20);
	for (; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		if (ll >= 4 && !strncmp(line, "=== ", 4)) {
			if (m) {
				m->body = sk_xstrndup(body.p, body.len);
				sk_buf_reset(&body);
			}
			if (n == cap)
				sk_xgrow((void **)&v, &cap, n + 1, sizeof(*v));
			m = &v[n++];
			memset(m, 0, sizeof(*m));
			m->id = trim_dup(line + 4, ll - 4);
			in_body = false;
			continue;
		}
		if (!m || (!in_body && (ll == 0 || line[0] == '#')))
			continue;
		if (in_body) {
			sk_buf_add(&body, line, ll);
			sk_buf_addc(&body, '\n');
		} else if (!strncmp(line, "from: ", 6)) {
			char *lt = memchr(line, '<', ll), *gt = memchr(line, '>', ll);
			m->from_name = trim_dup(line + 6, (size_t)(lt - line - 6));
			m->from_addr = sk_xstrndup(lt + 1, (size_t)(gt - lt - 1));
		} else if (!strncmp(line, "date: ", 6)) {
			char *d = sk_xstrndup(line + 6, ll - 6);
			m->date = parse_when(d);
			free(d);
		} else if (!strncmp(line, "subject: ", 9)) {
			m->subject = trim_dup(line + 9, ll - 9);
		} else if (!strncmp(line, "reply-to: ", 10)) {
			m->reply_to = trim_dup(line + 10, ll - 10);
		} else if (!strncmp(line, "attach: ", 8)) {
			char *f = sk_xstrndup(line + 8, ll - 8);
			char *p1 = strchr(f, '|'), *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
			struct sk_attachment *a = &m->att[m->n_att++];
			assert_non_null(p2);
			a->filename = trim_dup(f, (size_t)(p1 - f));
			a->content_type = trim_dup(p1 + 1, (size_t)(p2 - p1 - 1));
			a->text = trim_dup(p2 + 1, strlen(p2 + 1));
			a->data = a->text;
			a->size = strlen(a->text);
			a->extract_status = "ok";
			free(f);
		} else if (!strncmp(line, "body:", 5)) {
			in_body = true;
		} else {
			fail_msg("fixture: bad line '%.*s'", (int)ll, line);
		}
	}
	if (m)
		m->body = sk_xstrndup(body.p, body.len);
	sk_buf_release(&body);
	free(text);
	*out = v;
	return n;
}

static void
free_fixture(struct fmsg *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].from_name);
		free(v[i].from_addr);
		free(v[i].subject);
		free(v[i].reply_to);
		free(v[i].body);
		for (size_t k = 0; k < v[i].n_att; k++) {
			free((char *)v[i].att[k].filename);
			free((char *)v[i].att[k].content_type);
			free((char *)v[i].att[k].text);
		}
	}
	free(v);
}

static void
add_one(struct sk_index *w, const struct fmsg *f)
{
	struct sk_message m = { 0 };
	struct sk_err err = { 0 };
	const char *refs[1];
	char *raw = sk_xstrdup("");
	const char *q = f->body ? strstr(f->body, "\n>") : NULL;
	struct sk_buf b;

	sk_buf_init(&b, 1u << 20);
	sk_buf_addf(&b, "Message-ID: <%s>\nFrom: %s <%s>\nSubject: %s\n\n%s",
		    f->id, f->from_name, f->from_addr, f->subject, f->body);
	free(raw);
	raw = sk_buf_take(&b, NULL);
	m.raw = raw;
	m.raw_len = strlen(raw);
	m.message_id = f->id;
	m.subject = f->subject;
	m.from_name = f->from_name;
	m.from_addr = f->from_addr;
	m.to_addrs = "praktyki@lista.example";
	m.date = f->date;
	if (f->reply_to) {
		m.in_reply_to = f->reply_to;
		refs[0] = f->reply_to;
		m.references = refs;
		m.n_references = 1;
	}
	m.list_id = "praktyki.lista.example";
	m.body = f->body;
	m.quote_start = q ? (size_t)(q - f->body) + 1 : strlen(f->body);
	m.attachments = f->att;
	m.n_attachments = f->n_att;
	if (sk_index_add_message(w, &m, NULL, &err))
		fail_msg("add %s: %s", f->id, err.msg);
	sk_buf_release(&b);
	free(raw);
}

static int
group_setup(void **state)
{
#define P(slug, name, kind, dom) \
	{ (char *)slug, (char *)name, (char *)kind, (char *)dom }
	struct sk_partner_conf partners[] = {
		P("brzozowka", "Gmina Brzozówka", "gmina", "brzozowka.example"),
		P("jaskowo", "Gmina Jaśkowo", "gmina", "jaskowo.example"),
		P("zielonka", "Miasto Zielonka Wielka", "gmina",
		  "zielonka-wielka.example"),
		P("lakowski", "Powiat Łąkowski", "powiat",
		  "powiat-lakowski.example"),
	};
#undef P
	struct sk_err err = { 0 };
	struct fmsg *v;
	size_t n;
	(void)state;

	tmp = sk_test_tmpdir();
	if (sk_index_open(tmp, SK_INDEX_CREATE | SK_INDEX_WRITE, &ix, &err) ||
	    sk_index_sync_partners(ix, partners,
				   SK_ARRAY_SIZE(partners), &err) ||
	    sk_index_load_taxonomy(ix, sk_schema_taxonomy, &err) ||
	    sk_index_meta_set(ix, "list.address", "praktyki@lista.example",
			      &err) ||
	    sk_index_begin(ix, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	n = load_fixture(&v);
	for (size_t i = 0; i < n; i++)
		add_one(ix, &v[i]);
	free_fixture(v, n);
	if (sk_index_commit(ix, &err)) {
		fprintf(stderr, "commit: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	sk_index_close(&ix);
	sk_test_rmdir(&tmp);
	return 0;
}

static double
now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

/* ---- running searches -------------------------------------------------------- */

static const char *const backend_name[] = { "default", "xapian", "fts5" };

struct q {
	enum sk_backend backend;
	bool reader;	/* a plain logged-in reader (else a coordinator) */
	bool collapse, by_date, facets;
	size_t offset, limit;
};

static enum sk_status
run(struct sk_index *x, struct sk_arena *a, const char *query,
    const struct q *o, struct sk_results *r, struct sk_err *err)
{
	struct sk_search_opts so = { 0 };
	so.query = query;
	so.backend = o->backend;
	so.offset = o->offset;
	so.limit = o->limit ? o->limit : 1000;
	so.sort_by_date = o->by_date;
	so.collapse_threads = o->collapse;
	so.want_facets = o->facets;
	so.viewer.logged_in = true;
	so.viewer.coordinator = !o->reader;
	return sk_search(x, a, &so, r, err);
}

static struct sk_results
must(struct sk_arena *a, const char *query, const struct q *o)
{
	struct sk_results r;
	struct sk_err err = { 0 };
	if (run(ix, a, query, o, &r, &err))
		fail_msg("%s: '%s': %s", backend_name[o->backend], query,
			 err.msg);
	return r;
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The hits as sorted Message-IDs ("a b c"), or thread ids when threads. */
static const char *
set_of(struct sk_arena *a, const struct sk_results *r, bool threads)
{
	const char **v = sk_arena_alloc(a, (r->n_hits + 1) * sizeof(*v));
	struct sk_buf b;
	char *out;
	for (size_t i = 0; i < r->n_hits; i++)
		v[i] = threads ? sk_arena_printf(a, "t%lld",
						 (long long)r->hits[i].thread_id)
			       : r->hits[i].message_id;
	qsort(v, r->n_hits, sizeof(*v), cmp_str);
	sk_buf_init(&b, 1u << 20);
	for (size_t i = 0; i < r->n_hits; i++)
		sk_buf_addf(&b, "%s%s", i ? " " : "", v[i]);
	out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return out;
}

/* The set on both backends (asserting they agree). */
static const char *
both(struct sk_arena *a, const char *query, struct q o)
{
	struct sk_results rx, rf;
	const char *sx, *sf;
	o.backend = SK_BACKEND_XAPIAN;
	rx = must(a, query, &o);
	o.backend = SK_BACKEND_FTS5;
	rf = must(a, query, &o);
	/* Collapsed, the message standing for a thread follows the ranking,
	 * which may differ: compare threads. */
	sx = set_of(a, &rx, o.collapse);
	sf = set_of(a, &rf, o.collapse);
	if (strcmp(sx, sf) || rx.total != rf.total)
		fail_msg("'%s': xapian %lld [%s] != fts5 %lld [%s]", query,
			 (long long)rx.total, sx, (long long)rf.total, sf);
	return sx;
}

static void
finds(const char *query, const char *want)
{
	struct sk_arena *a = sk_arena_new(0);
	struct q o = { .reader = true };
	const char *got = both(a, query, o);
	if (strcmp(got, want))
		fail_msg("'%s' found [%s], want [%s]", query, got, want);
	sk_arena_free(&a);
}

/* ---- behaviour ------------------------------------------------------------------ */

static void
finds_inflected_and_folded_words(void **state)
{
	(void)state;
	/* DESIGN.md's example: plain ASCII finds the inflected form. */
	finds("zamowienie publiczne",
	      "zam-1@brzozowka.example zam-2@jaskowo.example");
	finds("zamówień publicznych -from:jaskowo.example",
	      "zam-1@brzozowka.example");
	finds("wodociągowej", "woda-1@zielonka-wielka.example");
	finds("scieki taryfa",
	      "woda-1@zielonka-wielka.example woda-2@powiat-lakowski.example "
	      "woda-3@jaskowo.example");
	/* A word typed without diacritics in the mail is found with them. */
	finds("opłata ścieki",
	      "woda-3@jaskowo.example");
	/* Phrases match position by position over the lemmas too. */
	finds("\"służba porządkowa\"",
	      "imp-1@jaskowo.example imp-2@brzozowka.example");
	finds("\"porządkowa służba\"", "");
}

static void
searches_fields(void **state)
{
	(void)state;
	finds("from:kowalczyk zezwolenie", "imp-2@brzozowka.example");
	finds("od:a.kowalczyk@brzozowka.example regulamin",
	      "zam-1@brzozowka.example zam-3@brzozowka.example");
	finds("subject:rodo",
	      "rodo-1@powiat-lakowski.example rodo-2@brzozowka.example");
	finds("subject:\"Dni Gminy\" from:zielonka-wielka.example",
	      "imp-3@zielonka-wielka.example");
	finds("has:attachment",
	      "imp-2@brzozowka.example ngo-1@brzozowka.example "
	      "zam-2@jaskowo.example");
	finds("paragraf", "zam-2@jaskowo.example"); /* attachment text */
	finds("plan-ewakuacji.pdf", "imp-2@brzozowka.example");
	finds("partner:lakowski date:2025",
	      "ngo-2@powiat-lakowski.example");
	finds("date:2023", "bud-1@zielonka-wielka.example "
			   "bud-2@jaskowo.example");
	finds("date:2024-01-16..2024-01-17",
	      "zam-3@brzozowka.example zam-4@zielonka-wielka.example");
}

static void
hides_held_mail_from_readers(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct q o = { .reader = true };
	(void)state;
	assert_string_equal(both(a, "tonery", o), "");
	o.reader = false;
	assert_string_equal(both(a, "tonery", o),
			    "spam-1@hurtownia-biurowa.example");
	o.reader = true;
	assert_string_equal(both(a, "\"\" -date:2024", o),
			    "bip-1@jaskowo.example bip-2@zielonka-wielka.example "
			    "bud-1@zielonka-wielka.example bud-2@jaskowo.example "
			    "kadry-1@brzozowka.example ngo-1@brzozowka.example "
			    "ngo-2@powiat-lakowski.example");
	sk_arena_free(&a);
}

static void
fills_hits_from_the_store(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	(void)state;
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		struct q o = { .backend = b, .reader = true };
		struct sk_results r = must(a, "subject:mierniki from:jaskowo", &o);
		const struct sk_hit *h;
		assert_int_equal(r.total, 1);
		assert_int_equal(r.n_hits, 1);
		h = &r.hits[0];
		assert_string_equal(h->message_id, "bud-2@jaskowo.example");
		assert_string_equal(h->subject,
				    "Re: Budżet zadaniowy – mierniki realizacji zadań");
		assert_string_equal(h->from_name, "Piotr Zając");
		assert_string_equal(h->from_addr, "p.zajac@jaskowo.example");
		assert_string_equal(h->partner_slug, "jaskowo");
		assert_int_equal(h->date, parse_when("2023-11-21 10:00"));
		assert_true(h->thread_id > 0);
		assert_true(h->n_topics >= 1);
		bool budget = false;
		for (size_t i = 0; i < h->n_topics; i++)
			budget |= !strcmp(h->topics[i], "budzet-zadaniowy");
		assert_true(budget);
		assert_non_null(strstr(h->snippet_html, "<mark>Mierniki</mark>"));
		assert_true(h->score > 0);
	}
	sk_arena_free(&a);
}

static void
ranks_and_sorts(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	(void)state;
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		struct q o = { .backend = b, .reader = true };
		struct sk_results r = must(a, "regulamin", &o);
		/* The subject weighs most: the procurement thread leads. */
		assert_true(r.n_hits >= 4);
		assert_true(!strncmp(r.hits[0].message_id, "zam-", 4));
		for (size_t i = 1; i < r.n_hits; i++)
			assert_true(r.hits[i - 1].score >= r.hits[i].score);
		o.by_date = true;
		r = must(a, "regulamin", &o);
		for (size_t i = 1; i < r.n_hits; i++)
			assert_true(r.hits[i - 1].date >= r.hits[i].date);
		/* No text: newest first. */
		o.by_date = false;
		r = must(a, "partner:jaskowo", &o);
		assert_true(r.n_hits > 2);
		for (size_t i = 1; i < r.n_hits; i++)
			assert_true(r.hits[i - 1].date >= r.hits[i].date);
	}
	sk_arena_free(&a);
}

static void
pages_and_collapses(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	(void)state;
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		struct q o = { .backend = b, .reader = true, .by_date = true };
		struct sk_results all = must(a, "gmina", &o), page;
		assert_true(all.total >= 6);
		assert_int_equal((int64_t)all.n_hits, all.total);
		o.offset = 2;
		o.limit = 3;
		page = must(a, "gmina", &o);
		assert_int_equal(page.total, all.total);
		assert_int_equal(page.n_hits, 3);
		for (size_t i = 0; i < 3; i++)
			assert_string_equal(page.hits[i].message_id,
					    all.hits[i + 2].message_id);
		o.offset = 1000;
		page = must(a, "gmina", &o);
		assert_int_equal(page.n_hits, 0);
		assert_int_equal(page.total, all.total);

		/* One hit per thread; the total counts threads. */
		o.offset = 0;
		o.limit = 0;
		o.collapse = true;
		page = must(a, "regulamin", &o);
		/* zam, imp, rodo (the spam is held) */
		assert_int_equal(page.total, 3);
		assert_int_equal(page.n_hits, 3);
		/* By date, the newest message represents its thread. */
		assert_string_equal(page.hits[0].message_id,
				    "rodo-1@powiat-lakowski.example");
		assert_string_equal(page.hits[1].message_id,
				    "imp-3@zielonka-wielka.example");
		assert_string_equal(page.hits[2].message_id,
				    "zam-4@zielonka-wielka.example");
	}
	sk_arena_free(&a);
}

static const struct sk_facet *
facet_find(const struct sk_facet *v, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].value, value))
			return &v[i];
	return NULL;
}

static void
counts_facets_over_all_matches(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	(void)state;
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		struct q o = { .backend = b, .reader = true, .facets = true,
			       .limit = 1 };
		struct sk_results r = must(a, "\"\"", &o);
		const struct sk_facet *f;
		int64_t sum = 0;

		assert_int_equal(r.total, 23); /* 24 minus the held one */
		assert_int_equal(r.n_hits, 1);
		/* Years: 2023: 2, 2024: 16 (17 minus held), 2025: 5. */
		assert_int_equal(r.n_years, 3);
		assert_string_equal(r.years[0].value, "2025");
		assert_int_equal(r.years[0].count, 5);
		assert_int_equal(facet_find(r.years, r.n_years, "2024")->count, 16);
		assert_int_equal(facet_find(r.years, r.n_years, "2023")->count, 2);
		/* Partners, with their names. */
		f = facet_find(r.partners, r.n_partners, "brzozowka");
		assert_non_null(f);
		assert_string_equal(f->label, "Gmina Brzozówka");
		assert_int_equal(f->count, 7);
		for (size_t i = 0; i < r.n_partners; i++)
			sum += r.partners[i].count;
		assert_int_equal(sum, 23);
		/* Topics: the four messages of the procurement thread. */
		f = facet_find(r.topics, r.n_topics, "zamowienia");
		assert_non_null(f);
		assert_string_equal(f->label, "Zamówienia publiczne");
		assert_int_equal(f->count, 4);

		/* Collapsed: counts are threads. */
		o.collapse = true;
		r = must(a, "\"\"", &o);
		assert_int_equal(r.total, 10);
		assert_int_equal(facet_find(r.topics, r.n_topics, "zamowienia")->count, 1);
		assert_int_equal(facet_find(r.years, r.n_years, "2024")->count, 6);

		/* A query narrows them. */
		o.collapse = false;
		r = must(a, "taryfa", &o);
		f = facet_find(r.topics, r.n_topics, "woda-scieki");
		assert_non_null(f);
		assert_int_equal(f->count, 3);
		assert_null(facet_find(r.topics, r.n_topics, "zamowienia"));
		assert_int_equal(r.n_partners, 3);
		assert_null(facet_find(r.partners, r.n_partners, "brzozowka"));
	}
	sk_arena_free(&a);
}

static void
makes_escaped_snippets(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	(void)state;
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		struct q o = { .backend = b, .reader = true };
		struct sk_results r = must(a, "audyt deklaracja", &o);
		const char *s;
		assert_int_equal(r.n_hits, 1);
		s = r.hits[0].snippet_html;
		assert_non_null(strstr(s, "<mark>audyt</mark>"));
		assert_non_null(strstr(s, "&lt;b&gt;bez&lt;/b&gt;"));
		assert_non_null(strstr(s, "&amp; tabele"));
		assert_null(strstr(s, "<script"));
		assert_null(strstr(s, "<b>"));
		/* Inflected forms are highlighted too. */
		assert_non_null(strstr(s, "<mark>deklarację</mark>"));

		/* Quoted lines are skipped when the reply has the word. */
		r = must(a, "from:jaskowo.example regulamin przyjęty", &o);
		assert_int_equal(r.n_hits, 1);
		s = r.hits[0].snippet_html;
		assert_non_null(strstr(s, "<mark>regulamin</mark> "
					  "<mark>przyjęty</mark>"));
		assert_null(strstr(s, "&gt;"));

		/* A long body is cut to a window with ellipses. */
		r = must(a, "ewakuacji stadionu", &o);
		assert_int_equal(r.n_hits, 1); /* in the attachment */
		s = r.hits[0].snippet_html;
		assert_true(sk_utf8_count(s, strlen(s)) < 300);
		assert_true(sk_utf8_valid(s, strlen(s)));
		r = must(a, "egzekucja", &o);
		assert_int_equal(r.n_hits, 1);
		s = r.hits[0].snippet_html;
		assert_true(!strncmp(s, "…", strlen("…")));
		assert_non_null(strstr(s, "<mark>egzekucja</mark>"));
		/* Only text matches: no <mark> but the body's start. */
		r = must(a, "topic:bip from:zielonka-wielka.example", &o);
		assert_int_equal(r.n_hits, 1);
		assert_true(!strncmp(r.hits[0].snippet_html, "Deklarację "
					  "aktualizujemy", 24));
		assert_null(strstr(r.hits[0].snippet_html, "<mark>"));
	}
	sk_arena_free(&a);
}

static void
suggests_corrections(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	(void)state;
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		struct q o = { .backend = b, .reader = true };
		struct sk_results r = must(a, "regulamim zamowien", &o);
		assert_int_equal(r.total, 0);
		assert_non_null(r.suggestion);
		assert_string_equal(r.suggestion, "regulamin zamowien");
		r = must(a, "subject:taryfy  mierniky", &o);
		assert_non_null(r.suggestion);
		assert_string_equal(r.suggestion, "subject:taryfy  mierniki");
		/* Many results, or nothing close: no suggestion. */
		r = must(a, "regulamin", &o);
		assert_null(r.suggestion);
		r = must(a, "xyzzyq", &o);
		assert_null(r.suggestion);
	}
	sk_arena_free(&a);
}

/* Candidates come from Xapian's term list when the handle has the index,
 * from fts5vocab without it: the same suggestion either way. */
static void
suggestions_agree_without_xapian(void **state)
{
	static const char *const typos[] = {
		"regulamim zamowien", "subject:taryfy  mierniky", "harmonogran",
		"odpadky",	      "przetarh",		  "budzed",
		"wodociagy kanalizacje", "szkolenia rodo inspektorr",
	};
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *plain = NULL;
	struct sk_err err = { 0 };
	struct q o = { .backend = SK_BACKEND_FTS5, .reader = true };
	size_t seen = 0;
	(void)state;
	assert_int_equal(sk_index_open(tmp, SK_INDEX_NO_XAPIAN, &plain, &err),
			 SK_OK);
	for (size_t i = 0; i < SK_ARRAY_SIZE(typos); i++) {
		struct sk_results with = must(a, typos[i], &o), without;
		assert_int_equal(run(plain, a, typos[i], &o, &without, &err),
				 SK_OK);
		if (!with.suggestion || !without.suggestion) {
			assert_ptr_equal(with.suggestion, without.suggestion);
			continue;
		}
		assert_string_equal(with.suggestion, without.suggestion);
		seen++;
	}
	assert_true(seen >= 3);
	sk_index_close(&plain);
	sk_arena_free(&a);
}

static void
reports_query_errors_in_polish(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_results r;
	struct sk_err err = { 0 };
	struct q o = { .backend = SK_BACKEND_FTS5 };
	(void)state;
	assert_int_equal(run(ix, a, "\"niezamknięty", &o, &r, &err), SK_EINVAL);
	assert_string_equal(err.msg, "Niezamknięty cudzysłów w zapytaniu.");
	o.backend = SK_BACKEND_XAPIAN;
	assert_int_equal(run(ix, a, "-regulamin", &o, &r, &err), SK_EINVAL);
	assert_non_null(strstr(err.msg, "wyłącznie z wykluczeń"));
	assert_int_equal(run(ix, a, "foo:bar", &o, &r, &err), SK_EINVAL);
	assert_non_null(strstr(err.msg, "Nieznane pole „foo:”"));
	sk_arena_free(&a);
}

/* A reader handle sees what the writer commits afterwards. */
static void
readers_see_new_commits(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *r = NULL;
	struct sk_err err = { 0 };
	struct fmsg f = { 0 };
	(void)state;

	assert_int_equal(sk_index_open(tmp, 0, &r, &err), SK_OK);
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		struct sk_results res;
		struct q o = { .backend = b, .reader = true };
		assert_int_equal(run(r, a, "hulajnogi", &o, &res, &err), SK_OK);
		assert_int_equal(res.total, 0);
	}
	f.id = (char *)"late-1@jaskowo.example";
	f.from_name = (char *)"Jan Kaminski";
	f.from_addr = (char *)"j.kaminski@jaskowo.example";
	f.subject = (char *)"Hulajnogi elektryczne na chodnikach";
	f.date = parse_when("2025-04-01 10:00");
	f.body = (char *)"Czy ktoś wprowadził strefy parkowania hulajnóg?\n";
	add_one(ix, &f);
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		struct sk_results res;
		struct q o = { .backend = b, .reader = true };
		assert_int_equal(run(r, a, "hulajnogi", &o, &res, &err), SK_OK);
		assert_int_equal(res.total, 1);
		assert_string_equal(res.hits[0].message_id,
				    "late-1@jaskowo.example");
	}
	sk_index_close(&r);
	sk_arena_free(&a);
}

/* ---- facets against a plain SQL count ------------------------------------- */

/* The facets as the SQL joins count them over the ids of the match set:
 * "slug|label|count;..." in their order. unit is m.id or m.thread_id. */
static const char *
sql_facets(struct sk_arena *a, sqlite3 *db, const char *kind,
	   const char *unit, const char *json)
{
	const char *sql;
	sqlite3_stmt *st;
	struct sk_buf b;
	const char *out;

	if (!strcmp(kind, "topics"))
		sql = sk_arena_printf(
			a,
			"SELECT t.slug, t.name, count(DISTINCT %s) AS c FROM "
			"json_each(?1) j JOIN messages m ON m.id = j.value "
			"JOIN thread_topics tt ON tt.thread_id = m.thread_id "
			"AND tt.removed = 0 JOIN topics t ON t.id = "
			"tt.topic_id GROUP BY t.id ORDER BY c DESC, "
			"t.position, t.slug",
			unit);
	else if (!strcmp(kind, "partners"))
		sql = sk_arena_printf(
			a,
			"SELECT p.slug, p.name, count(DISTINCT %s) AS c FROM "
			"json_each(?1) j JOIN messages m ON m.id = j.value "
			"JOIN partners p ON p.id = m.partner_id GROUP BY p.id "
			"ORDER BY c DESC, p.slug",
			unit);
	else
		sql = sk_arena_printf(
			a,
			"SELECT strftime('%%Y', m.date, 'unixepoch') AS y, "
			"strftime('%%Y', m.date, 'unixepoch'), count(DISTINCT "
			"%s) FROM json_each(?1) j JOIN messages m ON m.id = "
			"j.value GROUP BY y ORDER BY y DESC",
			unit);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	sk_buf_init(&b, 1u << 20);
	while (sqlite3_step(st) == SQLITE_ROW)
		sk_buf_addf(&b, "%s|%s|%lld;", sqlite3_column_text(st, 0),
			    sqlite3_column_text(st, 1),
			    (long long)sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return out;
}

static const char *
facets_str(struct sk_arena *a, const struct sk_facet *v, size_t n)
{
	struct sk_buf b;
	const char *out;
	sk_buf_init(&b, 1u << 20);
	for (size_t i = 0; i < n; i++)
		sk_buf_addf(&b, "%s|%s|%lld;", v[i].value, v[i].label,
			    (long long)v[i].count);
	out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return out;
}

/* Every facet of query q on handle x (both backends, messages and
 * threads, reader and coordinator) equals the SQL count over its match
 * set. Returns the collapsed topic facet of the coordinator's FTS5 run. */
static const char *
facets_match_sql(struct sk_arena *a, struct sk_index *x, sqlite3 *db,
		 const char *query)
{
	const char *topics = "";
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++)
		for (int view = 0; view < 4; view++) {
			struct q o = { .backend = b, .reader = view & 1,
				       .limit = 1000 };
			struct sk_results all, r;
			struct sk_err err = { 0 };
			struct sk_buf json;
			const char *unit = view & 2 ? "m.thread_id" : "m.id";

			if (run(x, a, query, &o, &all, &err))
				fail_msg("'%s': %s", query, err.msg);
			assert_int_equal(all.total, (int64_t)all.n_hits);
			sk_buf_init(&json, 1u << 20);
			sk_buf_adds(&json, "[");
			for (size_t i = 0; i < all.n_hits; i++)
				sk_buf_addf(&json, "%s%lld", i ? "," : "",
					    (long long)all.hits[i].id);
			sk_buf_adds(&json, "]");
			o.facets = true;
			o.collapse = view & 2;
			o.limit = 3;
			if (run(x, a, query, &o, &r, &err))
				fail_msg("'%s': %s", query, err.msg);
			assert_string_equal(
				facets_str(a, r.topics, r.n_topics),
				sql_facets(a, db, "topics", unit, json.p));
			assert_string_equal(
				facets_str(a, r.partners, r.n_partners),
				sql_facets(a, db, "partners", unit, json.p));
			assert_string_equal(
				facets_str(a, r.years, r.n_years),
				sql_facets(a, db, "years", unit, json.p));
			if (b == SK_BACKEND_FTS5 && view == 2)
				topics = facets_str(a, r.topics, r.n_topics);
			sk_buf_release(&json);
		}
	return topics;
}

static sqlite3 *
open_sql(void)
{
	char path[4096];
	sqlite3 *db = NULL;
	snprintf(path, sizeof(path), "%s/skarbnica.db", tmp);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		fail_msg("open %s", path);
	return db;
}

static const char *const facet_queries[] = {
	"\"\"", "odpady", "taryfa", "gmina", "budżet", "zamówienie",
	"od:brzozowka.example", "ma:załącznik", "RODO -szkolenie",
	"kategoria:zamowienia", "data:2024-01-01..2024-12-31", "woda OR odpady",
};

static void
facets_equal_sql_counts(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	sqlite3 *db = open_sql();
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(facet_queries); i++)
		facets_match_sql(a, ix, db, facet_queries[i]);
	sqlite3_close(db);
	sk_arena_free(&a);
}

/* Threads of topic slug as sk_index_topics() counts them for a reader. */
static int64_t
topic_threads(struct sk_index *x, const char *slug)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { .logged_in = true };
	struct sk_topic_row *rows;
	struct sk_err err = { 0 };
	size_t n;
	int64_t c = -1;
	assert_int_equal(sk_index_topics(x, a, &v, &rows, &n, &err), SK_OK);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].slug, slug))
			c = rows[i].threads;
	sk_arena_free(&a);
	return c;
}

/* The total of a topic's thread listing (sk_index_threads) for a reader. */
static int64_t
listing_total(struct sk_index *x, const char *slug)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { .logged_in = true };
	struct sk_thread_filter f = { .topic = slug, .limit = 5 };
	struct sk_thread_row *rows;
	struct sk_err err = { 0 };
	size_t n;
	int64_t total = -1;
	assert_int_equal(sk_index_threads(x, a, &v, &f, &rows, &n, &total,
					  &err),
			 SK_OK);
	assert_true((int64_t)n <= total);
	sk_arena_free(&a);
	return total;
}

/* A coordinator's topic decision shows in the facets and the topic
 * counts at once: on the handle that made it and on a reader opened
 * before it (both cache them). */
static void
facets_follow_curation(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *r = NULL;
	struct sk_err err = { 0 };
	sqlite3 *db = open_sql();
	struct q o = { .backend = SK_BACKEND_FTS5, .limit = 1 };
	struct sk_results res;
	const char *before, *added;
	int64_t n0;
	(void)state;

	assert_int_equal(sk_index_open(tmp, 0, &r, &err), SK_OK);
	before = facets_match_sql(a, r, db, "taryfa");
	facets_match_sql(a, ix, db, "taryfa");
	res = must(a, "taryfa", &o);
	assert_int_equal(res.n_hits, 1);
	assert_null(strstr(before, "imprezy-masowe|"));
	n0 = topic_threads(r, "imprezy-masowe");
	assert_true(n0 >= 0);
	assert_int_equal(topic_threads(r, "imprezy-masowe"), n0); /* cached */
	assert_int_equal(topic_threads(ix, "imprezy-masowe"), n0);
	assert_int_equal(listing_total(r, "imprezy-masowe"), n0);
	assert_int_equal(listing_total(r, "imprezy-masowe"), n0); /* cached */
	assert_int_equal(sk_index_thread_topic(ix, res.hits[0].thread_id,
					       "imprezy-masowe", SK_TOPIC_ADD,
					       "test", NULL, &err),
			 SK_OK);
	assert_int_equal(topic_threads(r, "imprezy-masowe"), n0 + 1);
	assert_int_equal(topic_threads(ix, "imprezy-masowe"), n0 + 1);
	assert_int_equal(listing_total(r, "imprezy-masowe"), n0 + 1);
	assert_int_equal(listing_total(ix, "imprezy-masowe"), n0 + 1);
	added = facets_match_sql(a, ix, db, "taryfa");
	assert_non_null(strstr(added, "imprezy-masowe|"));
	assert_string_equal(facets_match_sql(a, r, db, "taryfa"), added);
	assert_int_equal(sk_index_thread_topic(ix, res.hits[0].thread_id,
					       "imprezy-masowe",
					       SK_TOPIC_REMOVE, "test", NULL,
					       &err),
			 SK_OK);
	assert_string_equal(facets_match_sql(a, r, db, "taryfa"), before);
	assert_string_equal(facets_match_sql(a, ix, db, "taryfa"), before);
	assert_int_equal(topic_threads(r, "imprezy-masowe"), n0);
	assert_int_equal(topic_threads(ix, "imprezy-masowe"), n0);
	assert_int_equal(listing_total(r, "imprezy-masowe"), n0);
	sk_index_close(&r);
	sqlite3_close(db);
	sk_arena_free(&a);
}

/* Messages of quarter q ("2025-Q2") in sk_index_quarters(), 0 if absent. */
static int64_t
quarter_messages(struct sk_index *x, const char *q)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { .logged_in = true };
	struct sk_quarter_row *rows;
	struct sk_err err = { 0 };
	size_t n;
	int64_t c = 0;
	assert_int_equal(sk_index_quarters(x, a, &v, &rows, &n, &err), SK_OK);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].quarter, q))
			c = rows[i].messages;
	sk_arena_free(&a);
	return c;
}

/* The start page's counts and the quarters' are cached per handle: a new
 * message shows at once on the writer and on a reader that cached them
 * before. */
static void
stats_follow_new_messages(void **state)
{
	struct sk_index *r = NULL;
	struct sk_err err = { 0 };
	struct sk_stats w0, r0, w1, r1;
	struct fmsg f = { 0 };
	int64_t q0;
	(void)state;

	assert_int_equal(sk_index_open(tmp, 0, &r, &err), SK_OK);
	assert_int_equal(sk_index_stats(ix, &w0, &err), SK_OK);
	assert_int_equal(sk_index_stats(r, &r0, &err), SK_OK);
	assert_int_equal(sk_index_stats(r, &r1, &err), SK_OK); /* cached */
	assert_int_equal(r1.messages, r0.messages);
	assert_int_equal(r0.messages, w0.messages);
	assert_true(r0.threads > 0);
	q0 = quarter_messages(r, "2025-Q2");
	assert_int_equal(quarter_messages(r, "2025-Q2"), q0); /* cached */
	assert_int_equal(quarter_messages(ix, "2025-Q2"), q0);
	f.id = (char *)"late-stats@brzozowka.example";
	f.from_name = (char *)"Anna Kowalczyk";
	f.from_addr = (char *)"a.kowalczyk@brzozowka.example";
	f.subject = (char *)"Nowy wątek o statystykach";
	f.date = parse_when("2025-05-01 10:00");
	f.body = (char *)"Ile wiadomości liczy archiwum?\n";
	add_one(ix, &f);
	assert_int_equal(sk_index_stats(ix, &w1, &err), SK_OK);
	assert_int_equal(sk_index_stats(r, &r1, &err), SK_OK);
	assert_int_equal(w1.messages, w0.messages + 1);
	assert_int_equal(w1.threads, w0.threads + 1);
	assert_int_equal(r1.messages, r0.messages + 1);
	assert_int_equal(r1.threads, r0.threads + 1);
	assert_true(r1.last_ingest >= r0.last_ingest);
	assert_int_equal(quarter_messages(r, "2025-Q2"), q0 + 1);
	assert_int_equal(quarter_messages(ix, "2025-Q2"), q0 + 1);
	sk_index_close(&r);
}

static void
needs_an_open_xapian_for_xapian(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *r = NULL;
	struct sk_err err = { 0 };
	struct sk_results res;
	struct q o = { .backend = SK_BACKEND_XAPIAN };
	(void)state;
	assert_int_equal(sk_index_open(tmp, SK_INDEX_NO_XAPIAN, &r, &err),
			 SK_OK);
	assert_int_equal(run(r, a, "regulamin", &o, &res, &err), SK_EINDEX);
	o.backend = SK_BACKEND_DEFAULT; /* falls back to FTS5 */
	assert_int_equal(run(r, a, "regulamin", &o, &res, &err), SK_OK);
	assert_true(res.total >= 4);
	sk_index_close(&r);
	sk_arena_free(&a);
}

/* A huge body full of matches costs a bounded amount of work. */
static void
snippets_stay_cheap_on_huge_bodies(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct fmsg f = { 0 };
	struct sk_buf b;
	(void)state;

	sk_buf_init(&b, 8u << 20);
	for (int i = 0; i < 40000; i++)
		sk_buf_adds(&b, i % 7 ? "sprawozdanie kwartalne " : "\n> cytat ");
	f.id = (char *)"huge-1@jaskowo.example";
	f.from_name = (char *)"Jan Kaminski";
	f.from_addr = (char *)"j.kaminski@jaskowo.example";
	f.subject = (char *)"Sprawozdania";
	f.date = parse_when("2025-04-02 10:00");
	f.body = b.p;
	add_one(ix, &f);
	for (int bk = SK_BACKEND_XAPIAN; bk <= SK_BACKEND_FTS5; bk++) {
		struct q o = { .backend = bk, .reader = true };
		double t0 = now_ms();
		struct sk_results r = must(a, "sprawozdanie kwartalne", &o);
		double ms = now_ms() - t0;
		assert_int_equal(r.n_hits, 1);
		assert_non_null(strstr(r.hits[0].snippet_html,
				       "<mark>sprawozdanie</mark> "
				       "<mark>kwartalne</mark>"));
		assert_true(sk_utf8_count(r.hits[0].snippet_html,
					  strlen(r.hits[0].snippet_html)) < 600);
		printf("huge body (%zu bytes): %s %.1f ms\n", b.len,
		       backend_name[bk], ms);
	}
	sk_buf_release(&b);
	sk_arena_free(&a);
}

/* ---- conformance --------------------------------------------------------------- */

static void
backends_agree_on_every_query(void **state)
{
	size_t len, n_queries = 0, n_nonempty = 0;
	char *text = sk_test_read("search/queries.txt", &len);
	char *line, *save = NULL;
	double t_x = 0, t_f = 0;
	(void)state;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct sk_arena *a = sk_arena_new(0);
		char *tab = strchr(line, '\t');
		long want = -1;
		if (!*line || line[0] == '#') {
			sk_arena_free(&a);
			continue;
		}
		if (tab) {
			*tab = '\0';
			want = strtol(tab + 1, NULL, 10);
		}
		n_queries++;
		for (int view = 0; view < 4; view++) {
			struct q o = { .reader = !(view & 1),
				       .collapse = view & 2, .facets = true };
			struct sk_results rx, rf;
			double t0;
			o.backend = SK_BACKEND_XAPIAN;
			t0 = now_ms();
			rx = must(a, line, &o);
			t_x += now_ms() - t0;
			o.backend = SK_BACKEND_FTS5;
			t0 = now_ms();
			rf = must(a, line, &o);
			t_f += now_ms() - t0;
			const char *sx = set_of(a, &rx, o.collapse);
			const char *sf = set_of(a, &rf, o.collapse);
			if (strcmp(sx, sf) || rx.total != rf.total)
				fail_msg("'%s' (%s%s): xapian %lld [%s] != "
					 "fts5 %lld [%s]",
					 line, o.reader ? "reader" : "coordinator",
					 o.collapse ? ", threads" : "",
					 (long long)rx.total, sx,
					 (long long)rf.total, sf);
			/* Facets agree too. */
			assert_int_equal(rx.n_topics, rf.n_topics);
			assert_int_equal(rx.n_partners, rf.n_partners);
			assert_int_equal(rx.n_years, rf.n_years);
			for (size_t i = 0; i < rx.n_years; i++)
				assert_int_equal(rx.years[i].count,
						 rf.years[i].count);
			if (view == 0 && rx.total > 0)
				n_nonempty++;
			if (view == 0 && want >= 0 && rx.total != want)
				fail_msg("'%s': %lld results, want %ld", line,
					 (long long)rx.total, want);
			if (getenv("SK_SEARCH_VERBOSE") && view == 0)
				printf("%-50s %3lld  %s\n", line,
				       (long long)rx.total, sx);
		}
		sk_arena_free(&a);
	}
	free(text);
	printf("conformance: %zu queries (%zu with results), 4 views each; "
	       "mean latency xapian %.3f ms, fts5 %.3f ms\n",
	       n_queries, n_nonempty, t_x / (double)(n_queries * 4),
	       t_f / (double)(n_queries * 4));
	assert_true(n_queries >= 60);
	assert_true(n_nonempty >= n_queries * 2 / 3);
}

/* Random queries from the fixture's words, fields and operators: every
 * one that parses gives the same set on both backends, and none crashes. */
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void
backends_agree_on_random_queries(void **state)
{
	static const char *const atoms[] = {
		"regulamin", "gminy", "taryfa", "w", "i", "na", "---", "budżet",
		"zamowienie", "\"platforma zakupowa\"", "\"w BIP\"",
		"from:kowalczyk", "od:jaskowo.example", "subject:regulamin",
		"tytuł:taryfa", "topic:zamowienia", "temat:woda-scieki",
		"topic:rodo", "partner:brzozowka", "gmina:jaskowo",
		"partner:nieznana", "date:2024", "date:2024-01..2024-05",
		"date:..2024-03-05", "data:2025-01-13..", "has:attachment",
		"ma:załącznik", "\"\"", "funds", "the", "130 000", "wodno-ściekowa",
		"a.kowalczyk@brzozowka.example", "policja", "oferta", "tonery",
	};
	static const char *const ops[] = { " ", " ", " ", " OR ", " | ",
					   " AND ", " -", " NOT " };
	struct sk_buf b;
	int parsed = 0, iters = 400;
	(void)state;

	/* SK_RANDOM_QUERIES=N runs more (a longer local hunt). */
	if (getenv("SK_RANDOM_QUERIES"))
		iters = (int)strtol(getenv("SK_RANDOM_QUERIES"), NULL, 10);

	if (getenv("SK_DEBUG_Q")) {
		struct sk_arena *a = sk_arena_new(0);
		struct q o = { .reader = true };
		struct sk_results r;
		sk_log_set_level(SK_LOG_DEBUG);
		for (int bk = SK_BACKEND_XAPIAN; bk <= SK_BACKEND_FTS5; bk++) {
			o.backend = bk;
			r = must(a, getenv("SK_DEBUG_Q"), &o);
			printf("%s: %lld [%s]\n", backend_name[bk],
			       (long long)r.total, set_of(a, &r, false));
		}
		sk_log_set_level(SK_LOG_WARNING);
		sk_arena_free(&a);
	}
	sk_buf_init(&b, 4096);
	for (int iter = 0; iter < iters; iter++) {
		struct sk_arena *a = sk_arena_new(0);
		struct sk_results r;
		struct sk_err err = { 0 };
		int n = 1 + (int)(rnd() % 5), open = 0;
		struct q o = { .reader = rnd() % 2, .collapse = rnd() % 4 == 0 };

		sk_buf_reset(&b);
		for (int i = 0; i < n; i++) {
			if (i)
				sk_buf_adds(&b, ops[rnd() % SK_ARRAY_SIZE(ops)]);
			if (rnd() % 5 == 0) {
				sk_buf_adds(&b, rnd() % 2 ? "(" : "-(");
				open++;
			}
			sk_buf_adds(&b, atoms[rnd() % SK_ARRAY_SIZE(atoms)]);
			if (open && rnd() % 2) {
				sk_buf_addc(&b, ')');
				open--;
			}
		}
		while (open--)
			sk_buf_addc(&b, ')');
		o.backend = SK_BACKEND_FTS5;
		if (run(ix, a, b.p, &o, &r, &err) == SK_OK) {
			parsed++;
			both(a, b.p, o); /* asserts agreement */
		} else {
			assert_int_equal(err.code, SK_EINVAL);
			o.backend = SK_BACKEND_XAPIAN;
			assert_int_equal(run(ix, a, b.p, &o, &r, &err),
					 SK_EINVAL);
		}
		sk_arena_free(&a);
	}
	sk_buf_release(&b);
	printf("random: %d of %d queries parsed; backends agreed\n", parsed,
	       iters);
	assert_true(parsed > iters / 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_inflected_and_folded_words),
		cmocka_unit_test(searches_fields),
		cmocka_unit_test(hides_held_mail_from_readers),
		cmocka_unit_test(fills_hits_from_the_store),
		cmocka_unit_test(ranks_and_sorts),
		cmocka_unit_test(pages_and_collapses),
		cmocka_unit_test(counts_facets_over_all_matches),
		cmocka_unit_test(facets_equal_sql_counts),
		cmocka_unit_test(makes_escaped_snippets),
		cmocka_unit_test(suggests_corrections),
		cmocka_unit_test(suggestions_agree_without_xapian),
		cmocka_unit_test(reports_query_errors_in_polish),
		cmocka_unit_test(backends_agree_on_every_query),
		cmocka_unit_test(backends_agree_on_random_queries),
		cmocka_unit_test(needs_an_open_xapian_for_xapian),
		/* Last: they add messages. */
		cmocka_unit_test(readers_see_new_commits),
		cmocka_unit_test(facets_follow_curation),
		cmocka_unit_test(stats_follow_new_messages),
		cmocka_unit_test(snippets_stay_cheap_on_huge_bodies),
	};
	return cmocka_run_group_tests_name("index/search", tests, group_setup,
					   group_teardown);
}
