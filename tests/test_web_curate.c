/* tests/test_web_curate.c: the coordinators' curation pages over
 * sk_web_route() and a real store in a temp dir (no sockets): roles
 * (coordinators only; readers 403, anonymous to the login form), CSRF on
 * every POST, post/redirect/get, Polish errors that keep what was typed
 * and change nothing, the store and the audit trail after each action
 * (topics, pins, split, join, held mail, practice records, taxonomy) and
 * undo from /dziennik. */
#include "tests/helpers/sk_test_web.h"
#include "web/private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW SK_TEST_NOW
#define READER SK_TEST_READER
#define COORD SK_TEST_COORD

struct fx {
	struct sk_test_site site;
	int n_msgs;
};

static struct fx *the_fx;

/* ---- requests ------------------------------------------------------------ */

/* A request on the group's store, with the data dir for writes. */
static void
base(struct sk_req *q, struct sk_web_settings *s, enum sk_method m,
     const char *target)
{
	sk_test_req(q, s, m, target);
	s->base_url = "https://skarbnica.example";
	q->ix = the_fx->site.ix;
	q->data_dir = the_fx->site.dir;
	q->state = the_fx->site.state;
}

static struct sk_test_res
request(enum sk_method m, const char *target, const char *cookie,
        const struct sk_param *form, size_t n_form)
{
	struct sk_req q;
	struct sk_web_settings s;

	base(&q, &s, m, target);
	q.cookie = cookie;
	q.form = form;
	q.n_form = n_form;
	return sk_test_route(&q);
}

static struct sk_test_res
get_as(const char *target, const char *cookie)
{
	return request(SK_METHOD_GET, target, cookie, NULL, 0);
}

static struct sk_test_res
post_as(const char *target, const char *cookie, const struct sk_param *form,
        size_t n)
{
	return request(SK_METHOD_POST, target, cookie, form, n);
}

static const char *
location(const struct sk_test_res *r)
{
	const char *l = sk_resp_header(&r->resp, "Location");
	return l ? l : "";
}

/* A coordinator's POST with the right token and the fields given. */
static struct sk_test_res
coord_post(const char *target, const struct sk_param *fields, size_t n)
{
	struct sk_param form[24];
	assert_true(n < SK_ARRAY_SIZE(form));
	form[0] = (struct sk_param){ "csrf", the_fx->site.coord_csrf };
	memcpy(form + 1, fields, n * sizeof(*fields));
	return post_as(target, the_fx->site.coord_cookie, form, n + 1);
}

/* ---- the store ----------------------------------------------------------- */

/* Store a message; returns its row id. parent: a Message-ID or NULL. */
static int64_t
add_msg(const char *from, const char *subject, const char *body,
        const char *parent, char mid_out[64])
{
	struct sk_index *w = sk_test_writer(the_fx->site.dir);
	struct sk_message m = { 0 };
	struct sk_err err = { 0 };
	char mid[64], raw[1024];
	int64_t row = 0;

	snprintf(mid, sizeof(mid), "w%d@%s", ++the_fx->n_msgs,
	         strchr(from, '@') + 1);
	snprintf(raw, sizeof(raw),
	         "Message-ID: <%s>\nFrom: %s\nSubject: %s\n\n%s\n", mid, from,
	         subject, body);
	m.raw = raw;
	m.raw_len = strlen(raw);
	m.message_id = mid;
	m.subject = subject;
	m.from_name = "Osoba";
	m.from_addr = from;
	m.date = 1710000000 + the_fx->n_msgs * 3600;
	m.body = body;
	m.quote_start = strlen(body);
	if (parent) {
		m.in_reply_to = parent;
		m.references = &m.in_reply_to;
		m.n_references = 1;
	}
	if (sk_index_add_message(w, &m, &row, &err))
		fail_msg("add: %s", err.msg);
	sk_index_close(&w);
	if (mid_out)
		snprintf(mid_out, 64, "%s", mid);
	return row;
}

/* The thread of message row msg (0 when hidden or gone), through the
 * reading API a coordinator uses. */
static int64_t
thread_of(int64_t msg)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { true, true };
	struct sk_thread_filter f = { .limit = 500 };
	struct sk_thread_row *rows;
	struct sk_err err = { 0 };
	size_t n;
	int64_t total, t = 0;

	assert_int_equal(sk_index_threads(the_fx->site.ix, a, &v, &f, &rows, &n,
	                                  &total, &err),
	                 SK_OK);
	for (size_t i = 0; i < n && !t; i++) {
		struct sk_thread_row tr;
		struct sk_message_row *m;
		size_t nm;
		assert_int_equal(sk_index_thread(the_fx->site.ix, a, &v,
		                                 rows[i].id, &tr, &m, &nm,
		                                 &err),
		                 SK_OK);
		for (size_t k = 0; k < nm; k++)
			if (m[k].id == msg)
				t = rows[i].id;
	}
	sk_arena_free(&a);
	return t;
}

/* The thread's topics as "a b c" (sorted as the store gives them). */
static char *
topics_of(int64_t thread)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { true, true };
	struct sk_thread_row t;
	struct sk_message_row *m;
	size_t n;
	struct sk_err err = { 0 };
	struct sk_buf b;
	char *out;
	assert_int_equal(
	    sk_index_thread(the_fx->site.ix, a, &v, thread, &t, &m, &n, &err),
	    SK_OK);
	sk_buf_init(&b, 256);
	for (size_t i = 0; i < t.n_topics; i++)
		sk_buf_addf(&b, "%s%s", i ? " " : "", t.topics[i]);
	out = sk_xstrdup(b.p ? b.p : "");
	sk_buf_release(&b);
	sk_arena_free(&a);
	return out;
}

static bool
has_topic(int64_t thread, const char *slug)
{
	char *t = topics_of(thread), *save = NULL;
	bool found = false;
	for (char *w = strtok_r(t, " ", &save); w;
	     w = strtok_r(NULL, " ", &save))
		found = found || strcmp(w, slug) == 0;
	free(t);
	return found;
}

/* The newest audit row (0 when none); action_out gets its action. */
static int64_t
last_audit(char action[64], char actor[128])
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_audit_row *rows;
	size_t n = 0;
	struct sk_err err = { 0 };
	int64_t id = 0;
	assert_int_equal(sk_index_audit_list(the_fx->site.ix, a, NULL, 0, 1,
	                                     &rows, &n, &err),
	                 SK_OK);
	if (n) {
		id = rows[0].id;
		if (action)
			snprintf(action, 64, "%s", rows[0].action);
		if (actor)
			snprintf(actor, 128, "%s", rows[0].actor);
	}
	sk_arena_free(&a);
	return id;
}

static void
assert_audited(int64_t before, const char *action)
{
	char act[64] = "", who[128] = "";
	int64_t id = last_audit(act, who);
	assert_true(id > before);
	assert_string_equal(act, action);
	assert_string_equal(who, COORD);
}

static int
group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_index *w;
	struct sk_req q;
	struct sk_web_settings s;

	fx->site.dir = sk_test_tmpdir();
	w = sk_test_store_new(fx->site.dir, 2, "praktyki@lista.example");
	if (!w ||
	    sk_test_store_users(w, "Anna Kowalczyk", "Marta Wierzbicka") ||
	    sk_test_site_open(&fx->site, &w))
		return -1;
	the_fx = fx;
	base(&q, &s, SK_METHOD_GET, "/");
	sk_test_site_login(&fx->site, &q, true);
	*state = fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fx *fx = *state;
	sk_test_site_close(&fx->site);
	free(fx);
	return 0;
}

/* A water-tariff thread: a question, a reply and a reply to the reply.
 * msgs[0..2] get the row ids. */
static int64_t
water_thread(int64_t msgs[3])
{
	char root[64], r1[64];
	msgs[0] = add_msg("a.kowalczyk@brzozowka.example", "Wniosek taryfowy",
	                  "Wody Polskie wezwały nas do uzupełnienia wniosku "
	                  "taryfowego. Jak liczycie dopłatę do ścieków?",
	                  NULL, root);
	msgs[1] = add_msg("p.zajac@jaskowo.example", "Re: Wniosek taryfowy",
	                  "U nas taryfa na wodę i ścieki: oczyszczalnia, "
	                  "wodociąg, uzupełnienie w 14 dni.",
	                  root, r1);
	msgs[2] =
	    add_msg("a.kowalczyk@brzozowka.example", "Re: Wniosek taryfowy",
	            "Dziękuję, taryfa jasna.", r1, NULL);
	return thread_of(msgs[0]);
}

/* printf into one of 8 rotating buffers: paths and ids for a request. */
__attribute__((format(printf, 1, 2))) static char *
pathf(const char *fmt, ...)
{
	static char buf[8][128];
	static int k;
	va_list ap;
	k = (k + 1) % 8;
	va_start(ap, fmt);
	vsnprintf(buf[k], sizeof(buf[k]), fmt, ap);
	va_end(ap);
	return buf[k];
}
#define path(fmt, id) pathf(fmt, (long long)(id))

/* ---- roles and CSRF -------------------------------------------------------
 */

static void
curation_pages_are_for_coordinators(void **state)
{
	int64_t m[3], t = water_thread(m);
	const char *pages[] = { path("/watek/%lld/porzadkuj", t),
		                "/wstrzymane",
		                "/dziennik",
		                "/tematy/edytuj",
		                "/praktyka/nowa",
		                path("/praktyka/nowa?watek=%lld", t) };
	const char *posts[] = { path("/watek/%lld/porzadkuj", t),
		                "/wstrzymane",
		                "/dziennik/cofnij",
		                "/tematy/edytuj",
		                "/praktyka/nowa",
		                "/praktyka/1/edytuj",
		                "/praktyka/1/stan" };
	struct sk_param form[3] = { { "csrf", NULL },
		                    { "akcja", "temat-dodaj" },
		                    { "temat", "bip" } };
	int64_t before = last_audit(NULL, NULL); /* the logins */
	struct sk_test_res r;

	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(pages); i++) {
		r = get_as(pages[i], NULL);
		assert_int_equal(r.status, 303);
		assert_true(sk_starts_with(location(&r), "/zaloguj?dalej="));
		sk_test_res_free(&r);
		r = get_as(pages[i], the_fx->site.reader_cookie);
		assert_int_equal(r.status, 403);
		assert_non_null(strstr(r.body, "tylko koordynatorzy"));
		sk_test_res_free(&r);
		r = get_as(pages[i], the_fx->site.coord_cookie);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body, "name=\"csrf\""));
		sk_test_res_free(&r);
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(posts); i++) {
		form[0].value = the_fx->site.reader_csrf;
		assert_int_equal(
		    sk_test_status(
		        post_as(posts[i], the_fx->site.reader_cookie, form, 3)),
		    403);
		r = post_as(posts[i], NULL, form + 1, 2);
		assert_int_equal(r.status, 303);
		assert_true(sk_starts_with(location(&r), "/zaloguj"));
		sk_test_res_free(&r);
	}
	assert_false(has_topic(t, "bip"));
	assert_int_equal(last_audit(NULL, NULL), before);

	/* The thread page: the panel for coordinators only. */
	r = get_as(path("/watek/%lld", t), the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h2 id=\"porzadkowanie\">"));
	assert_non_null(
	    strstr(r.body, path("href=\"/watek/%lld/porzadkuj\"", t)));
	assert_non_null(strstr(r.body, "href=\"/dziennik\">Koordynacja</a>"));
	sk_test_res_free(&r);
	r = get_as(path("/watek/%lld", t), the_fx->site.reader_cookie);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "porzadkowanie"));
	assert_null(strstr(r.body, "Koordynacja"));
	sk_test_res_free(&r);

	/* Unknown thread; GET on a POST-only path. */
	assert_int_equal(sk_test_status(get_as("/watek/999999/porzadkuj",
	                                       the_fx->site.coord_cookie)),
	                 404);
	assert_int_equal(sk_test_status(get_as("/dziennik/cofnij",
	                                       the_fx->site.coord_cookie)),
	                 405);
}

static void
csrf_is_checked_on_every_form(void **state)
{
	int64_t m[3], t = water_thread(m);
	const char *posts[] = { path("/watek/%lld/porzadkuj", t), "/wstrzymane",
		                "/dziennik/cofnij", "/tematy/edytuj",
		                "/praktyka/nowa" };
	struct sk_param form[6] = {
		{ "csrf", "zly-token" },   { "akcja", "temat-dodaj" },
		{ "temat", "bip" },        { "nazwa", "Nowa nazwa" },
		{ "adres", "nowy-temat" }, { "nowy", "1" }
	};
	int64_t before = last_audit(NULL, NULL);

	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(posts); i++) {
		assert_int_equal(
		    sk_test_status(
		        post_as(posts[i], the_fx->site.coord_cookie, form, 6)),
		    403);
		assert_int_equal(
		    sk_test_status(post_as(posts[i], the_fx->site.coord_cookie,
		                           form + 1, 5)),
		    403);
	}
	assert_false(has_topic(t, "bip"));
	assert_int_equal(last_audit(NULL, NULL), before);
}

/* ---- the thread -----------------------------------------------------------
 */

static void
topics_are_added_and_removed(void **state)
{
	int64_t m[3], t = water_thread(m), before;
	const char *target = path("/watek/%lld/porzadkuj", t);
	struct sk_param add[2] = { { "akcja", "temat-dodaj" },
		                   { "temat", "bip" } };
	struct sk_param del[2] = { { "akcja", "temat-usun" },
		                   { "temat", "bip" } };
	struct sk_test_res r;

	(void)state;
	before = last_audit(NULL, NULL);
	r = coord_post(target, add, 2);
	assert_int_equal(r.status, 303);
	assert_string_equal(
	    location(&r),
	    path("/watek/%lld/porzadkuj?zrobione=temat-dodany", t));
	sk_test_res_free(&r);
	assert_true(has_topic(t, "bip"));
	assert_audited(before, "thread.topic");
	r = get_as(path("/watek/%lld/porzadkuj?zrobione=temat-dodany", t),
	           the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Dodano temat do wątku."));
	assert_non_null(strstr(r.body, "value=\"temat-usun\""));
	sk_test_res_free(&r);

	/* An unknown topic: 400, Polish, nothing changes. */
	before = last_audit(NULL, NULL);
	add[1].value = "nie-ma-takiego";
	r = coord_post(target, add, 2);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Nie ma takiego tematu."));
	sk_test_res_free(&r);
	add[1].value = "";
	r = coord_post(target, add, 2);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Wybierz temat z listy."));
	sk_test_res_free(&r);
	assert_int_equal(last_audit(NULL, NULL), before);

	assert_int_equal(sk_test_status(coord_post(target, del, 2)), 303);
	assert_false(has_topic(t, "bip"));
	assert_audited(before, "thread.topic");

	/* "The topics are right": audited; with none, a Polish refusal. */
	struct sk_param confirm[1] = { { "akcja", "tematy-potwierdz" } };
	int64_t bare =
	    thread_of(add_msg("a.kowalczyk@brzozowka.example", "Pytanie",
	                      "Dzień dobry.", NULL, NULL));
	char *none = topics_of(bare);
	assert_string_equal(none, "");
	free(none);
	before = last_audit(NULL, NULL);
	r = coord_post(path("/watek/%lld/porzadkuj", bare), confirm, 1);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "role=\"alert\""));
	sk_test_res_free(&r);
	assert_int_equal(last_audit(NULL, NULL), before);
	assert_true(has_topic(t, "woda-scieki"));
	r = coord_post(target, confirm, 1);
	assert_int_equal(r.status, 303);
	assert_string_equal(
	    location(&r),
	    path("/watek/%lld/porzadkuj?zrobione=potwierdzone", t));
	sk_test_res_free(&r);
	assert_audited(before, "thread.confirm");

	/* A nonexistent thread. */
	assert_int_equal(
	    sk_test_status(coord_post("/watek/987654/porzadkuj", add, 2)), 404);
}

static void
pins_keep_typed_values_on_error(void **state)
{
	int64_t m[3], t = water_thread(m), before;
	const char *target = path("/watek/%lld/porzadkuj", t);
	char long_note[400];
	struct sk_param pin[4] = { { "akcja", "przypnij" },
		                   { "temat", "woda-scieki" },
		                   { "notatka", "Wzór <wniosku> taryfowego" },
		                   { "pozycja", "x7" } };
	struct sk_param unpin[2] = { { "akcja", "odepnij" },
		                     { "temat", "woda-scieki" } };
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { true, false };
	struct sk_pin_row *pins;
	size_t n;
	struct sk_err err = { 0 };
	struct sk_test_res r;

	(void)state;
	before = last_audit(NULL, NULL);
	r = coord_post(target, pin, 4);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Pozycja to liczba od 0 do 1000."));
	assert_non_null(strstr(r.body, "value=\"Wzór &lt;wniosku&gt; "
	                               "taryfowego\""));
	assert_non_null(strstr(r.body, "value=\"x7\""));
	sk_test_res_free(&r);
	memset(long_note, 'a', sizeof(long_note) - 1);
	long_note[sizeof(long_note) - 1] = '\0';
	pin[2].value = long_note;
	pin[3].value = "";
	r = coord_post(target, pin, 4);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "najwyżej 300 znaków"));
	sk_test_res_free(&r);
	r = coord_post(target, unpin, 2);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "nie jest przypięty"));
	sk_test_res_free(&r);
	assert_int_equal(last_audit(NULL, NULL), before);

	pin[2].value = "Wzór wniosku taryfowego";
	pin[3].value = "2";
	assert_int_equal(sk_test_status(coord_post(target, pin, 4)), 303);
	assert_audited(before, "topic.pin");
	assert_int_equal(sk_index_topic_pins(the_fx->site.ix, a, &v,
	                                     "woda-scieki", &pins, &n, &err),
	                 SK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(pins[0].thread.id, t);
	assert_int_equal(pins[0].position, 2);
	assert_string_equal(pins[0].note, "Wzór wniosku taryfowego");
	assert_string_equal(pins[0].pinned_by, COORD);
	r = get_as(target, the_fx->site.coord_cookie);
	assert_non_null(strstr(r.body, "(pozycja 2): Wzór wniosku taryfowego"));
	sk_test_res_free(&r);

	assert_int_equal(sk_test_status(coord_post(target, unpin, 2)), 303);
	assert_audited(before, "topic.unpin");
	assert_int_equal(sk_index_topic_pins(the_fx->site.ix, a, &v,
	                                     "woda-scieki", &pins, &n, &err),
	                 SK_OK);
	assert_int_equal(n, 0);
	sk_arena_free(&a);
}

static void
split_and_join_check_their_input(void **state)
{
	int64_t m[3], t = water_thread(m), o[3], other = water_thread(o);
	int64_t before = last_audit(NULL, NULL), nt, undo_id;
	const char *target = path("/watek/%lld/porzadkuj", t);
	struct sk_param split[2] = { { "akcja", "podziel" },
		                     { "wiadomosc", path("%lld", o[1]) } };
	struct sk_param join[2] = { { "akcja", "polacz" },
		                    { "cel", "/watek/999999" } };
	struct sk_param undo[1] = { { "id", NULL } };
	struct sk_test_res r;

	(void)state;
	/* A message of another thread. */
	r = coord_post(target, split, 2);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Ta wiadomość nie należy do tego "
	                               "wątku."));
	sk_test_res_free(&r);
	assert_int_equal(thread_of(o[1]), other);
	/* A thread that does not exist, a target that is not one, itself. */
	r = coord_post(target, join, 2);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Nie ma wątku o numerze 999999."));
	assert_non_null(strstr(r.body, "value=\"/watek/999999\""));
	sk_test_res_free(&r);
	join[1].value = "wątek dwunasty";
	r = coord_post(target, join, 2);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Podaj numer wątku docelowego"));
	sk_test_res_free(&r);
	join[1].value = path("%lld", t);
	assert_int_equal(sk_test_status(coord_post(target, join, 2)), 400);
	assert_int_equal(last_audit(NULL, NULL), before);

	/* Split at the reply: it and its reply form a new thread. */
	split[1].value = path("%lld", m[1]);
	r = coord_post(target, split, 2);
	assert_int_equal(r.status, 303);
	assert_non_null(strstr(location(&r), "zrobione=podzielony&nowy="));
	sk_test_res_free(&r);
	assert_audited(before, "thread.split");
	nt = thread_of(m[1]);
	assert_true(nt != t && nt > 0);
	assert_int_equal(thread_of(m[2]), nt);
	assert_int_equal(thread_of(m[0]), t);

	/* Undo it from the log: the thread is whole again. */
	undo_id = last_audit(NULL, NULL);
	r = get_as("/dziennik", the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Podział wątku"));
	assert_non_null(
	    strstr(r.body, path("name=\"id\" value=\"%lld\"", undo_id)));
	sk_test_res_free(&r);
	undo[0].value = path("%lld", undo_id);
	r = coord_post("/dziennik/cofnij", undo, 1);
	assert_int_equal(r.status, 303);
	assert_string_equal(location(&r),
	                    path("/dziennik?cofnieto=%lld", undo_id));
	sk_test_res_free(&r);
	assert_int_equal(thread_of(m[1]), t);
	assert_int_equal(thread_of(m[2]), t);
	assert_audited(undo_id, "undo");
	r = get_as(path("/dziennik?cofnieto=%lld", undo_id),
	           the_fx->site.coord_cookie);
	assert_non_null(
	    strstr(r.body, path("Cofnięto zmianę nr %lld.", undo_id)));
	assert_non_null(strstr(r.body, "Cofnięcie zmiany"));
	sk_test_res_free(&r);
	/* Twice: refused with the store's Polish reason. */
	r = coord_post("/dziennik/cofnij", undo, 1);
	assert_int_equal(r.status, 409);
	assert_non_null(strstr(r.body, "została już cofnięta"));
	sk_test_res_free(&r);
	undo[0].value = "abc";
	assert_int_equal(
	    sk_test_status(coord_post("/dziennik/cofnij", undo, 1)), 400);

	/* Join the other thread into this one (by URL). */
	before = last_audit(NULL, NULL);
	join[1].value = path("https://skarbnica.example/watek/%lld", t);
	r = coord_post(path("/watek/%lld/porzadkuj", other), join, 2);
	assert_int_equal(r.status, 303);
	assert_string_equal(
	    location(&r), path("/watek/%lld/porzadkuj?zrobione=polaczony", t));
	sk_test_res_free(&r);
	assert_audited(before, "thread.join");
	assert_int_equal(thread_of(o[0]), t);
	assert_int_equal(thread_of(o[2]), t);
}

static void
held_mail_is_approved_from_queue_and_thread(void **state)
{
	char root[64];
	int64_t ok = add_msg("a.kowalczyk@brzozowka.example", "Fotowoltaika",
	                     "Kto ma panele na szkole?", NULL, root);
	int64_t held = add_msg("oferta@firma.example", "Re: Fotowoltaika",
	                       "Oferta na <b>panele</b>.", root, NULL);
	int64_t t = thread_of(ok), before = last_audit(NULL, NULL);
	struct sk_param form[2] = { { "wiadomosc", path("%lld", held) },
		                    { "powrot", path("/watek/%lld", t) } };
	struct sk_test_res r;

	(void)state;
	r = get_as("/wstrzymane", the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "oferta@firma.example"));
	assert_non_null(
	    strstr(r.body, path("name=\"wiadomosc\" value=\"%lld\"", held)));
	sk_test_res_free(&r);
	r = get_as(path("/watek/%lld", t), the_fx->site.coord_cookie);
	assert_non_null(strstr(r.body, "Wiadomości wstrzymane w tym wątku"));
	assert_non_null(strstr(r.body, "Wiadomość wstrzymana"));
	sk_test_res_free(&r);
	r = get_as(path("/watek/%lld", t), the_fx->site.reader_cookie);
	assert_null(strstr(r.body, "panele</b>"));
	assert_null(strstr(r.body, "Oferta na"));
	sk_test_res_free(&r);

	/* Bad number; a message that is not held. */
	form[0].value = "-1";
	assert_int_equal(sk_test_status(coord_post("/wstrzymane", form, 2)),
	                 400);
	form[0].value = path("%lld", ok);
	r = coord_post("/wstrzymane", form, 2);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "nie czeka na zatwierdzenie"));
	sk_test_res_free(&r);
	assert_int_equal(last_audit(NULL, NULL), before);

	/* Approve from the thread page: back there. A foreign "powrot" is
	 * never followed. */
	form[0].value = path("%lld", held);
	r = coord_post("/wstrzymane", form, 2);
	assert_int_equal(r.status, 303);
	assert_string_equal(location(&r),
	                    path("/watek/%lld?zrobione=zatwierdzona", t));
	sk_test_res_free(&r);
	assert_audited(before, "message.approve");
	r = get_as(path("/watek/%lld", t), the_fx->site.reader_cookie);
	assert_non_null(strstr(r.body, "Oferta na"));
	/* No "held" notice once approved. */
	assert_null(strstr(r.body, "Wiadomość wstrzymana"));
	sk_test_res_free(&r);
	r = get_as("/wstrzymane", the_fx->site.coord_cookie);
	assert_non_null(strstr(r.body, "Nic nie czeka na zatwierdzenie."));
	sk_test_res_free(&r);
	held = add_msg("inna@firma.example", "Re: Fotowoltaika",
	               "Druga oferta.", root, NULL);
	form[0].value = path("%lld", held);
	form[1].value = "//zly.example/";
	r = coord_post("/wstrzymane", form, 2);
	assert_int_equal(r.status, 303);
	assert_string_equal(location(&r), "/wstrzymane?zrobione=zatwierdzona");
	sk_test_res_free(&r);
}

/* ---- practice records -----------------------------------------------------
 */

static int64_t
practice_id_of(const char *loc)
{
	int64_t id = 0;
	assert_true(sk_starts_with(loc, "/praktyka/"));
	id = strtoll(loc + 10, NULL, 10);
	assert_true(id > 0);
	return id;
}

static void
practices_are_promoted_edited_and_escaped(void **state)
{
	int64_t m[3], t = water_thread(m), before = last_audit(NULL, NULL), id;
	struct sk_param promote[2] = { { "watek", path("%lld", t) },
		                       { "promuj", "1" } };
	struct sk_param edit[9] = {
		{ "tytul", "Taryfa <script>alert(1)</script>" },
		{ "gmina", "jaskowo" },
		{ "temat", "woda-scieki" },
		{ "problem", "Problem & \"cudzysłów\" <b>" },
		{ "rozwiazanie", "Rozwiązanie</textarea><script>" },
		{ "kontakt_imie", "Piotr Zając" },
		{ "kontakt_email", "p.zajac@jaskowo.example" },
		{ "watek", path("/watek/%lld", t) },
		{ "stan", "validated" },
	};
	struct sk_param status[2] = { { "stan", "archived" },
		                      { "powrot", NULL } };
	char long_title[400];
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { true, true };
	struct sk_practice p;
	struct sk_err err = { 0 };
	struct sk_test_res r;

	(void)state;
	r = get_as(path("/praktyka/nowa?watek=%lld", t),
	           the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Wniosek taryfowy"));
	sk_test_res_free(&r);
	assert_int_equal(sk_test_status(get_as("/praktyka/nowa?watek=999999",
	                                       the_fx->site.coord_cookie)),
	                 404);
	r = coord_post("/praktyka/nowa", promote, 2);
	assert_int_equal(r.status, 303);
	id = practice_id_of(location(&r));
	assert_string_equal(
	    location(&r), path("/praktyka/%lld/edytuj?zrobione=utworzona", id));
	sk_test_res_free(&r);
	assert_audited(before, "practice.promote");
	memset(&p, 0, sizeof(p));
	assert_int_equal(
	    sk_index_practice_get(the_fx->site.ix, a, &v, id, &p, &err), SK_OK);
	assert_int_equal(p.status, SK_PRACTICE_DRAFT);
	assert_int_equal(p.source_thread_id, t);

	/* The edit form is prefilled from the draft. */
	r = get_as(path("/praktyka/%lld/edytuj", id),
	           the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "value=\"Wniosek taryfowy\""));
	assert_non_null(strstr(r.body, "Wody Polskie wezwały"));
	assert_non_null(strstr(r.body, "<option value=\"draft\" selected>"));
	sk_test_res_free(&r);

	/* Over-long title, unknown topic, bad thread, bad status: 400,
	 * Polish, values kept, nothing changed. */
	before = last_audit(NULL, NULL);
	memset(long_title, 'x', sizeof(long_title) - 1);
	long_title[sizeof(long_title) - 1] = '\0';
	edit[0].value = long_title;
	r = coord_post(path("/praktyka/%lld/edytuj", id), edit, 9);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Pole „tytuł” jest za długie (najwyżej "
	                               "300 znaków)."));
	assert_non_null(strstr(r.body, "Piotr Zając"));
	sk_test_res_free(&r);
	edit[0].value = "Taryfa <script>alert(1)</script>";
	edit[2].value = "nie-ma-takiego";
	r = coord_post(path("/praktyka/%lld/edytuj", id), edit, 9);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Nie ma tematu „nie-ma-takiego”."));
	sk_test_res_free(&r);
	edit[2].value = "woda-scieki";
	edit[7].value = "/watek/999999";
	r = coord_post(path("/praktyka/%lld/edytuj", id), edit, 9);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Nie ma wątku o numerze 999999."));
	sk_test_res_free(&r);
	edit[7].value = path("/watek/%lld", t);
	edit[8].value = "opublikowana";
	r = coord_post(path("/praktyka/%lld/edytuj", id), edit, 9);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Wybierz stan praktyki z listy."));
	sk_test_res_free(&r);
	edit[8].value = "validated";
	edit[6].value = "bez-malpy";
	r = coord_post(path("/praktyka/%lld/edytuj", id), edit, 9);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Adres e-mail osoby do kontaktu"));
	sk_test_res_free(&r);
	edit[6].value = "p.zajac@jaskowo.example";
	assert_int_equal(last_audit(NULL, NULL), before);

	/* Hostile text is stored as typed and comes out escaped. */
	r = coord_post(path("/praktyka/%lld/edytuj", id), edit, 9);
	assert_int_equal(r.status, 303);
	assert_string_equal(
	    location(&r), path("/praktyka/%lld/edytuj?zrobione=zapisana", id));
	sk_test_res_free(&r);
	assert_audited(before, "practice.update");
	memset(&p, 0, sizeof(p));
	assert_int_equal(
	    sk_index_practice_get(the_fx->site.ix, a, &v, id, &p, &err), SK_OK);
	assert_string_equal(p.title, "Taryfa <script>alert(1)</script>");
	assert_string_equal(p.partner_slug, "jaskowo");
	assert_int_equal(p.status, SK_PRACTICE_VALIDATED);
	r = get_as(path("/praktyka/%lld/edytuj", id),
	           the_fx->site.coord_cookie);
	assert_null(strstr(r.body, "<script>"));
	assert_non_null(strstr(r.body, "Taryfa &lt;script&gt;alert(1)"
	                               "&lt;/script&gt;"));
	assert_non_null(strstr(r.body, "Problem &amp; &quot;cudzysłów&quot; "
	                               "&lt;b&gt;</textarea>"));
	assert_non_null(strstr(r.body, "Rozwiązanie&lt;/textarea&gt;"
	                               "&lt;script&gt;</textarea>"));
	assert_non_null(strstr(r.body, "<option value=\"jaskowo\" selected>"));
	assert_non_null(strstr(r.body, "value=\"woda-scieki\" checked"));
	sk_test_res_free(&r);

	/* Status: archived, then undo puts it back. */
	before = last_audit(NULL, NULL);
	status[1].value = path("/praktyka/%lld", id);
	r = coord_post(path("/praktyka/%lld/stan", id), status, 2);
	assert_int_equal(r.status, 303);
	assert_string_equal(location(&r),
	                    path("/praktyka/%lld?zrobione=stan", id));
	sk_test_res_free(&r);
	assert_audited(before, "practice.update");
	assert_int_equal(
	    sk_index_practice_get(the_fx->site.ix, a, &v, id, &p, &err), SK_OK);
	assert_int_equal(p.status, SK_PRACTICE_ARCHIVED);
	status[0].value = "usunieta";
	assert_int_equal(sk_test_status(coord_post(
	                     path("/praktyka/%lld/stan", id), status, 2)),
	                 400);
	assert_int_equal(
	    sk_test_status(coord_post("/praktyka/999999/stan", status, 2)),
	    404);
	struct sk_param undo[1] = { { "id",
		                      path("%lld", last_audit(NULL, NULL)) } };
	assert_int_equal(
	    sk_test_status(coord_post("/dziennik/cofnij", undo, 1)), 303);
	assert_int_equal(
	    sk_index_practice_get(the_fx->site.ix, a, &v, id, &p, &err), SK_OK);
	assert_int_equal(p.status, SK_PRACTICE_VALIDATED);

	/* A new record from the blank form. */
	struct sk_param fresh[3] = { { "tytul", "  Wspólny przetarg  " },
		                     { "stan", "draft" },
		                     { "problem", "Drogi wywóz." } };
	before = last_audit(NULL, NULL);
	r = coord_post("/praktyka/nowa", fresh, 3);
	assert_int_equal(r.status, 303);
	id = practice_id_of(location(&r));
	sk_test_res_free(&r);
	assert_audited(before, "practice.create");
	assert_int_equal(
	    sk_index_practice_get(the_fx->site.ix, a, &v, id, &p, &err), SK_OK);
	assert_string_equal(p.title, "Wspólny przetarg");
	fresh[0].value = " ";
	r = coord_post("/praktyka/nowa", fresh, 3);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Podaj tytuł praktyki."));
	assert_non_null(strstr(r.body, "Drogi wywóz.</textarea>"));
	sk_test_res_free(&r);
	sk_arena_free(&a);
}

static void
practice_actions_are_for_coordinators(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_resp resp;
	struct sk_ctx c = { .a = a, .resp = &resp };
	struct sk_practice p = { .id = 42, .status = SK_PRACTICE_DRAFT };
	struct sk_buf b;

	(void)state;
	sk_resp_init(&resp);
	sk_buf_init(&b, 4096);
	c.session.valid = true;
	c.session.csrf = "token";
	c.viewer.logged_in = true;
	sk_page_practice_actions(&c, &b, &p);
	assert_int_equal(b.len, 0);
	c.viewer.coordinator = true;
	sk_page_practice_actions(&c, &b, &p);
	assert_non_null(strstr(b.p, "href=\"/praktyka/42/edytuj\""));
	assert_non_null(strstr(b.p, "action=\"/praktyka/42/stan\""));
	assert_non_null(strstr(b.p, "name=\"csrf\" value=\"token\""));
	assert_non_null(strstr(b.p, "value=\"validated\""));
	assert_null(strstr(b.p, "value=\"draft\""));
	assert_non_null(strstr(b.p, "<strong>szkic</strong>"));
	sk_buf_release(&b);
	sk_resp_release(&resp);
	sk_arena_free(&a);
}

/* ---- the taxonomy ---------------------------------------------------------
 */

static void
taxonomy_is_edited_and_undone(void **state)
{
	int64_t before = last_audit(NULL, NULL), edit_id;
	struct sk_param form[6] = { { "temat", "bip" },
		                    { "nazwa", "BIP i <jawność>" },
		                    { "nadrzedny", "" },
		                    { "opis",
		                      "Biuletyn Informacji Publicznej." },
		                    { "slowa", "bip biuletyn:zle" },
		                    { "znaczniki", "BIP" } };
	struct sk_param add[6] = { { "nowy", "1" },
		                   { "adres", "wody-opadowe" },
		                   { "nazwa", "Wody opadowe" },
		                   { "nadrzedny", "woda-scieki" },
		                   { "slowa", "deszczówka wody_opadowe:0.8" },
		                   { "znaczniki", "Deszczówka" } };
	struct sk_param undo[1] = { { "id", NULL } };
	struct sk_arena *a = sk_arena_new(0);
	struct sk_topic_def d;
	struct sk_err err = { 0 };
	struct sk_test_res r;

	(void)state;
	r = get_as("/tematy/edytuj?temat=bip", the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "name=\"slowa\""));
	sk_test_res_free(&r);
	assert_int_equal(sk_test_status(get_as("/tematy/edytuj?temat=nie-ma",
	                                       the_fx->site.coord_cookie)),
	                 404);

	/* Bad keywords: 400, the typed values back (escaped). */
	r = coord_post("/tematy/edytuj", form, 6);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Słowa kluczowe: wagę podaj"));
	assert_non_null(strstr(r.body, "value=\"BIP i &lt;jawność&gt;\""));
	assert_non_null(strstr(r.body, "bip biuletyn:zle</textarea>"));
	sk_test_res_free(&r);
	assert_int_equal(last_audit(NULL, NULL), before);

	form[4].value = "bip biuletyn:0.7";
	r = coord_post("/tematy/edytuj", form, 6);
	assert_int_equal(r.status, 303);
	assert_string_equal(location(&r),
	                    "/tematy/edytuj?temat=bip&zrobione=temat-zapisany");
	sk_test_res_free(&r);
	assert_audited(before, "topic.edit");
	edit_id = last_audit(NULL, NULL);
	assert_int_equal(
	    sk_index_topic_def(the_fx->site.ix, a, "bip", &d, &err), SK_OK);
	assert_string_equal(d.name, "BIP i <jawność>");
	assert_string_equal(d.keywords, "bip biuletyn:0.7");

	/* Add a subtopic; the same address twice is refused. */
	assert_int_equal(sk_test_status(coord_post("/tematy/edytuj", add, 6)),
	                 303);
	assert_audited(edit_id, "topic.add");
	assert_int_equal(
	    sk_index_topic_def(the_fx->site.ix, a, "wody-opadowe", &d, &err),
	    SK_OK);
	assert_string_equal(d.parent_slug, "woda-scieki");
	r = coord_post("/tematy/edytuj", add, 6);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "już istnieje"));
	assert_non_null(strstr(r.body, "value=\"wody-opadowe\""));
	sk_test_res_free(&r);
	add[1].value = "Wody Opadowe!";
	r = coord_post("/tematy/edytuj", add, 6);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Adres tematu"));
	sk_test_res_free(&r);
	r = get_as("/dziennik", the_fx->site.coord_cookie);
	assert_non_null(strstr(r.body, "Dodanie tematu do taksonomii"));
	assert_non_null(strstr(r.body, "Zmiana tematu w taksonomii"));
	sk_test_res_free(&r);

	/* Undo the edit: the old name is back. */
	undo[0].value = path("%lld", edit_id);
	assert_int_equal(
	    sk_test_status(coord_post("/dziennik/cofnij", undo, 1)), 303);
	assert_int_equal(
	    sk_index_topic_def(the_fx->site.ix, a, "bip", &d, &err), SK_OK);
	assert_string_not_equal(d.name, "BIP i <jawność>");
	sk_arena_free(&a);
}

static void
audit_log_is_paged_and_filtered(void **state)
{
	struct sk_test_res r;

	(void)state;
	r = get_as("/dziennik?obiekt=topic:bip", the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Tylko zmiany dotyczące"));
	assert_null(strstr(r.body, "Podział wątku"));
	sk_test_res_free(&r);
	assert_int_equal(sk_test_status(get_as("/dziennik?obiekt=%3Cscript%3E",
	                                       the_fx->site.coord_cookie)),
	                 400);
	assert_int_equal(sk_test_status(get_as("/dziennik?strona=0",
	                                       the_fx->site.coord_cookie)),
	                 400);
	r = get_as("/dziennik?strona=400", the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Brak wpisów."));
	assert_non_null(strstr(r.body, "rel=\"prev\""));
	sk_test_res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(curation_pages_are_for_coordinators),
		cmocka_unit_test(csrf_is_checked_on_every_form),
		cmocka_unit_test(topics_are_added_and_removed),
		cmocka_unit_test(pins_keep_typed_values_on_error),
		cmocka_unit_test(split_and_join_check_their_input),
		cmocka_unit_test(held_mail_is_approved_from_queue_and_thread),
		cmocka_unit_test(practices_are_promoted_edited_and_escaped),
		cmocka_unit_test(practice_actions_are_for_coordinators),
		cmocka_unit_test(taxonomy_is_edited_and_undone),
		cmocka_unit_test(audit_log_is_paged_and_filtered),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
