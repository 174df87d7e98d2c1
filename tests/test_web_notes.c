/* tests/test_web_notes.c: what coordinators and users write through the
 * web, over sk_web_route() and a real store in a temp dir (no sockets):
 * the quarterly note form (roles, CSRF, Polish errors, the note archived
 * and queued, "Wyślij ponownie"), topic subscriptions on /konto and the
 * one-click unsubscribe link, login by a one-time link (single use,
 * expiry, no user enumeration) and the audit rows of logins. */
#include "tests/helpers/sk_test_web.h"
#include "mailer/sk_mailer.h"
#include "web/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1735689600 /* 2025-01-01 00:00 UTC: 2025-Q1 in Warsaw */
#define PASSWORD SK_TEST_PASSWORD
#define READER SK_TEST_READER
#define COORD SK_TEST_COORD
#define OUTSIDER "ktos@gmail.example"
#define UNSUB_TOKEN "wypisz-token-0123456789abcdefghijklmnopqrstuv"

struct fx {
	struct sk_test_site site;
	struct sk_mail_settings ms;
};

static struct fx *the_fx;

/* ---- requests ------------------------------------------------------------ */

struct opts {
	const char *cookie;
	const struct sk_param *form;
	size_t n_form;
	const struct sk_upload *files;
	size_t n_files;
	time_t now; /* 0 = NOW */
	bool no_mail;
	bool no_base_url;
	const char *client;
};

/* The request o describes (NULL: the defaults) on the group's store. */
static void
base(struct sk_req *q, struct sk_web_settings *s, enum sk_method m,
     const char *target, const struct opts *o)
{
	static const struct opts none;

	if (!o)
		o = &none;
	sk_test_req(q, s, m, target);
	if (!o->no_base_url)
		s->base_url = "https://skarbnica.example";
	if (!o->no_mail) {
		s->note_compose = sk_mail_note_compose;
		s->note_compose_ctx = &the_fx->ms;
		s->login_compose = sk_mail_login_compose;
		s->login_compose_ctx = &the_fx->ms;
	}
	q->cookie = o->cookie;
	if (o->client)
		q->client = o->client;
	q->form = o->form;
	q->n_form = o->n_form;
	q->files = o->files;
	q->n_files = o->n_files;
	if (o->now)
		q->now = o->now;
	q->ix = the_fx->site.ix;
	q->data_dir = the_fx->site.dir;
	q->state = the_fx->site.state;
}

static struct sk_test_res
req_opts(enum sk_method m, const char *target, const struct opts *o)
{
	struct sk_req q;
	struct sk_web_settings s;

	base(&q, &s, m, target, o);
	return sk_test_route(&q);
}

static struct sk_test_res
get_as(const char *target, const char *cookie)
{
	struct opts o = { .cookie = cookie };
	return req_opts(SK_METHOD_GET, target, &o);
}

static struct sk_test_res
post_as(const char *target, const char *cookie, const struct sk_param *form,
        size_t n)
{
	struct opts o = { .cookie = cookie, .form = form, .n_form = n };
	return req_opts(SK_METHOD_POST, target, &o);
}

static const char *
hdr(const struct sk_test_res *r, const char *name)
{
	return sk_resp_header(&r->resp, name);
}

/* The sk_login double-submit token, from a fresh GET /zaloguj. */
static char *
login_token(void)
{
	struct sk_test_res r = get_as("/zaloguj", NULL);
	char *t = sk_test_cookie_value(&r, "sk_login");
	assert_non_null(t);
	sk_test_res_free(&r);
	return t;
}

/* Log in through the password form: the Cookie header to send later. */
static char *
login(const char *email, char **csrf_out)
{
	struct sk_req q;
	struct sk_web_settings s;

	base(&q, &s, SK_METHOD_GET, "/", NULL);
	return sk_test_login(&q, email, csrf_out);
}

/* ---- the store ----------------------------------------------------------- */

static int
group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_index *w = NULL;
	struct sk_err err = { 0 };
	struct sk_req q;
	struct sk_web_settings s;

	fx->site.dir = sk_test_tmpdir();
	w = sk_test_store_new(fx->site.dir, 1, "praktyki@lista.example");
	if (!w || sk_test_store_users(w, "Anna Kowalczyk", "Marta Wierzbicka"))
		return -1;
	if (sk_index_user_set(w, OUTSIDER, "Ktoś Obcy", SK_ROLE_READER,
	                      PASSWORD, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	if (sk_test_site_open(&fx->site, &w))
		return -1;
	fx->ms.from = "skarbnica@lista.example";
	fx->ms.list_address = "praktyki@lista.example";
	fx->ms.base_url = "https://skarbnica.example";
	the_fx = fx;
	base(&q, &s, SK_METHOD_GET, "/", NULL);
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

static size_t
outbox_count(int state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *w = sk_test_writer(the_fx->site.dir);
	struct sk_outbox_row *rows;
	size_t n = 0;
	struct sk_err err = { 0 };
	assert_int_equal(sk_index_outbox_list(w, a, state, 0, &rows, &n, &err),
	                 SK_OK);
	sk_index_close(&w);
	sk_arena_free(&a);
	return n;
}

/* Does the audit trail have a row with action (and actor, when not
 * NULL)? */
static bool
audited(const char *action, const char *actor)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_audit_row *rows;
	size_t n = 0;
	struct sk_err err = { 0 };
	bool found = false;
	assert_int_equal(sk_index_audit_list(the_fx->site.ix, a, NULL, 0, 500,
	                                     &rows, &n, &err),
	                 SK_OK);
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].action, action) == 0 &&
		    (!actor || strcmp(rows[i].actor, actor) == 0))
			found = true;
	sk_arena_free(&a);
	return found;
}

/* ---- quarterly notes ----------------------------------------------------- */

static void
note_form_is_for_coordinators(void **state)
{
	struct sk_test_res r;

	(void)state;
	r = get_as("/spotkania/nowa", NULL);
	assert_int_equal(r.status, 303);
	assert_true(sk_starts_with(hdr(&r, "Location"), "/zaloguj?dalej="));
	sk_test_res_free(&r);
	assert_int_equal(sk_test_status(get_as("/spotkania/nowa",
	                                       the_fx->site.reader_cookie)),
	                 403);

	r = get_as("/spotkania/nowa", the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "enctype=\"multipart/form-data\""));
	assert_non_null(strstr(r.body, "<input id=\"kwartal\" "
	                               "name=\"kwartal\" type=\"text\" "
	                               "required aria-describedby="
	                               "\"kwartal-opis\" maxlength=\"7\" "
	                               "value=\"2025-Q1\""));
	assert_non_null(strstr(r.body, "name=\"temat\""));
	assert_non_null(strstr(r.body, "value=\"zamowienia\""));
	/* "tresc" is <main>'s id: the note text has its own. */
	assert_non_null(strstr(r.body, "<label for=\"tresc-notatki\">"));
	assert_non_null(strstr(r.body, "<textarea id=\"tresc-notatki\" "
	                               "name=\"tresc\""));
	assert_null(strstr(r.body, "id=\"tresc\" name"));
	assert_non_null(strstr(r.body, "type=\"file\""));
	sk_test_res_free(&r);

	/* The quarter follows Warsaw time. */
	struct sk_arena *a = sk_arena_new(0);
	assert_string_equal(sk_web_quarter(a, 1743465600 - 3600), "2025-Q2");
	assert_string_equal(sk_web_quarter(a, 1743465600 - 7201), "2025-Q1");
	sk_arena_free(&a);
}

static void
note_post_refuses_readers_bad_csrf_and_bad_fields(void **state)
{
	struct sk_param form[5];
	struct sk_test_res r;
	size_t before = outbox_count(-1);

	(void)state;
	form[0] = (struct sk_param){ "csrf", the_fx->site.reader_csrf };
	form[1] = (struct sk_param){ "kwartal", "2025-Q1" };
	form[2] = (struct sk_param){ "tytul", "Spotkanie w Brzozówce" };
	form[3] = (struct sk_param){ "tresc", "Omówiliśmy regulaminy." };
	form[4] = (struct sk_param){ "temat", "zamowienia" };
	assert_int_equal(
	    sk_test_status(post_as("/spotkania/nowa",
	                           the_fx->site.reader_cookie, form, 5)),
	    403);

	/* A coordinator without the CSRF token. */
	form[0] = (struct sk_param){ "csrf", "x" };
	r = post_as("/spotkania/nowa", the_fx->site.coord_cookie, form, 5);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "Formularz wygasł"));
	sk_test_res_free(&r);
	assert_int_equal(
	    sk_test_status(post_as("/spotkania/nowa", the_fx->site.coord_cookie,
	                           form + 1, 4)),
	    403);

	/* A bad quarter: 400, the Polish message, the form refilled. */
	form[0] = (struct sk_param){ "csrf", the_fx->site.coord_csrf };
	form[1] = (struct sk_param){ "kwartal", "2025-Q7" };
	r = post_as("/spotkania/nowa", the_fx->site.coord_cookie, form, 5);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "role=\"alert\""));
	assert_non_null(
	    strstr(r.body, "Kwartał musi mieć postać RRRR-QN, np. 2024-Q2."));
	assert_non_null(strstr(r.body, "value=\"2025-Q7\""));
	assert_non_null(strstr(r.body, "value=\"Spotkanie w Brzozówce\""));
	assert_non_null(strstr(r.body, "Omówiliśmy regulaminy.</textarea>"));
	assert_non_null(strstr(r.body, "value=\"zamowienia\" checked"));
	sk_test_res_free(&r);

	/* No body, an unknown topic. */
	form[1] = (struct sk_param){ "kwartal", "2025-Q1" };
	form[3] = (struct sk_param){ "tresc", "   " };
	r = post_as("/spotkania/nowa", the_fx->site.coord_cookie, form, 5);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Treść notatki jest wymagana."));
	sk_test_res_free(&r);
	form[3] = (struct sk_param){ "tresc", "Treść." };
	form[4] = (struct sk_param){ "temat", "nie-ma-takiego" };
	r = post_as("/spotkania/nowa", the_fx->site.coord_cookie, form, 5);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Nieznany temat &#39;nie-ma-takiego&#39;.") ||
	                strstr(r.body, "Nieznany temat &#x27;nie-ma-takiego&#x27;."));
	sk_test_res_free(&r);

	/* Without a composer (no smtp.from): 503, nothing stored. */
	struct opts o = { .cookie = the_fx->site.coord_cookie,
		          .form = form,
		          .n_form = 4,
		          .no_mail = true };
	r = req_opts(SK_METHOD_POST, "/spotkania/nowa", &o);
	assert_int_equal(r.status, 503);
	sk_test_res_free(&r);
	assert_int_equal(outbox_count(-1), before);
}

static int64_t note_outbox_id;

static void
coordinator_posts_a_note(void **state)
{
	struct sk_param form[8];
	struct sk_upload up = { "zalacznik", "C:\\Dokumenty\\lista obecności.pdf",
		                "application/pdf", "%PDF-1.4 fake", 13 };
	struct opts o = { 0 };
	struct sk_arena *a = sk_arena_new(0);
	struct sk_note_row *notes;
	struct sk_outbox_row ob;
	struct sk_err err = { 0 };
	size_t n = 0;
	struct sk_test_res r;
	const char *loc;
	struct sk_index *w;

	(void)state;
	form[0] = (struct sk_param){ "csrf", the_fx->site.coord_csrf };
	form[1] = (struct sk_param){ "kwartal", " 2025-Q1 " };
	form[2] = (struct sk_param){ "tytul", "Spotkanie w Brzozówce" };
	form[3] = (struct sk_param){ "miejsce", "Urząd Gminy Brzozówka" };
	form[4] = (struct sk_param){ "obecni", "Gmina Brzozówka, Gmina Jaśkowo" };
	form[5] = (struct sk_param){ "temat", "zamowienia" };
	form[6] = (struct sk_param){ "ustalenia", "- wspólny regulamin" };
	form[7] = (struct sk_param){ "tresc",
		                     "Omówiliśmy **regulaminy** zamówień." };
	o.cookie = the_fx->site.coord_cookie;
	o.form = form;
	o.n_form = 8;
	o.files = &up;
	o.n_files = 1;
	r = req_opts(SK_METHOD_POST, "/spotkania/nowa", &o);
	assert_int_equal(r.status, 303);
	loc = hdr(&r, "Location");
	assert_true(sk_starts_with(loc, "/watek/"));
	char *thread = sk_xstrdup(loc);
	sk_test_res_free(&r);

	/* The note row, with its mail queued. */
	assert_int_equal(
	    sk_index_notes_list(the_fx->site.ix, a, NULL, &notes, &n, &err),
	    SK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(notes[0].quarter, "2025-Q1");
	assert_string_equal(notes[0].title, "Spotkanie w Brzozówce");
	assert_string_equal(notes[0].topics, "zamowienia");
	assert_int_equal(notes[0].mail_state, SK_OUTBOX_QUEUED);
	assert_true(notes[0].outbox_id > 0);
	note_outbox_id = notes[0].outbox_id;
	w = sk_test_writer(the_fx->site.dir);
	assert_int_equal(sk_index_outbox_get(w, a, note_outbox_id, &ob, &err),
	                 SK_OK);
	assert_int_equal(ob.kind, SK_OUTBOX_NOTE);
	assert_string_equal(ob.recipients, "praktyki@lista.example");
	/* The attachment, its path gone (RFC 2231 name). */
	assert_non_null(strstr(ob.raw, "application/pdf"));
	assert_non_null(strstr(ob.raw, "lista%20obecno"));
	assert_null(strstr(ob.raw, "Dokumenty"));
	sk_index_close(&w);

	/* Visible at once: the thread, the list of notes. */
	r = get_as(thread, the_fx->site.reader_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Spotkanie w Brzozówce"));
	assert_non_null(strstr(r.body, "<strong>regulaminy</strong>") ||
	                strstr(r.body, "regulaminy"));
	sk_test_res_free(&r);
	r = get_as("/spotkania", the_fx->site.reader_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Spotkanie w Brzozówce"));
	assert_null(strstr(r.body, "czeka w kolejce")); /* coordinators only */
	assert_null(strstr(r.body, "/spotkania/nowa"));
	sk_test_res_free(&r);
	r = get_as("/spotkania", the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "czeka w kolejce"));
	assert_non_null(strstr(r.body, "href=\"/spotkania/nowa\""));
	assert_null(strstr(r.body, "Wyślij ponownie"));
	sk_test_res_free(&r);
	free(thread);
	sk_arena_free(&a);
}

static void
failed_note_mail_can_be_sent_again(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *w = sk_test_writer(the_fx->site.dir);
	struct sk_outbox_row ob;
	struct sk_err err = { 0 };
	struct sk_param form[2];
	struct sk_test_res r;
	char id[32];

	(void)state;
	assert_int_equal(sk_index_outbox_claim(w, a, NOW + 10, &ob, &err),
	                 SK_OK);
	assert_int_equal(ob.id, note_outbox_id);
	assert_int_equal(sk_index_outbox_mark_failed(w, ob.id, false,
	                                             "550 <b>odrzucono</b>",
	                                             &err),
	                 SK_OK);
	sk_index_close(&w);

	r = get_as("/spotkania", the_fx->site.coord_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "nie wysłano"));
	assert_non_null(strstr(r.body, "550 &lt;b&gt;odrzucono&lt;/b&gt;"));
	assert_non_null(strstr(r.body, "action=\"/spotkania/ponow\""));
	assert_non_null(strstr(r.body, "Wyślij ponownie"));
	sk_test_res_free(&r);

	snprintf(id, sizeof(id), "%lld", (long long)note_outbox_id);
	form[0] = (struct sk_param){ "csrf", "zly" };
	form[1] = (struct sk_param){ "id", id };
	assert_int_equal(
	    sk_test_status(post_as("/spotkania/ponow",
	                           the_fx->site.coord_cookie, form, 2)),
	    403);
	form[0] = (struct sk_param){ "csrf", the_fx->site.reader_csrf };
	assert_int_equal(
	    sk_test_status(post_as("/spotkania/ponow",
	                           the_fx->site.reader_cookie, form, 2)),
	    403);
	form[0] = (struct sk_param){ "csrf", the_fx->site.coord_csrf };
	r = post_as("/spotkania/ponow", the_fx->site.coord_cookie, form, 2);
	assert_int_equal(r.status, 303);
	assert_string_equal(hdr(&r, "Location"), "/spotkania");
	sk_test_res_free(&r);
	/* Only failed rows: a second time is 404. */
	assert_int_equal(
	    sk_test_status(post_as("/spotkania/ponow",
	                           the_fx->site.coord_cookie, form, 2)),
	    404);

	w = sk_test_writer(the_fx->site.dir);
	assert_int_equal(sk_index_outbox_get(w, a, note_outbox_id, &ob, &err),
	                 SK_OK);
	assert_int_equal(ob.state, SK_OUTBOX_QUEUED);
	sk_index_close(&w);
	assert_true(audited("outbox.requeue", COORD));
	sk_arena_free(&a);
}

/* ---- subscriptions ------------------------------------------------------- */

static size_t
subscriptions_of(const char *email, const char *slug, const char **period)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_subscription_row *rows;
	size_t n = 0, found = 0;
	struct sk_err err = { 0 };
	assert_int_equal(
	    sk_index_subscriptions(the_fx->site.ix, a, email, &rows, &n, &err),
	    SK_OK);
	for (size_t i = 0; i < n; i++) {
		if (!slug || strcmp(rows[i].topic_slug, slug) == 0) {
			found++;
			if (period)
				*period = sk_period_name(rows[i].period);
		}
	}
	sk_arena_free(&a);
	return found;
}

static void
account_page_subscribes_and_unsubscribes(void **state)
{
	struct sk_param form[3];
	const char *period = NULL;
	struct sk_test_res r;

	(void)state;
	assert_int_equal(sk_test_status(get_as("/konto", NULL)), 303);
	r = get_as("/konto", the_fx->site.reader_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Nie subskrybujesz żadnego tematu."));
	assert_non_null(strstr(r.body, "<option value=\"weekly\">"));
	assert_non_null(strstr(r.body, "aria-current=\"page\">Moje konto"));
	sk_test_res_free(&r);

	form[0] = (struct sk_param){ "csrf", the_fx->site.reader_csrf };
	form[1] = (struct sk_param){ "temat", "zamowienia" };
	form[2] = (struct sk_param){ "okres", "weekly" };
	r = post_as("/konto", the_fx->site.reader_cookie, form, 3);
	assert_int_equal(r.status, 303);
	assert_string_equal(hdr(&r, "Location"), "/konto?zapisano=1");
	sk_test_res_free(&r);
	assert_int_equal(subscriptions_of(READER, "zamowienia", &period), 1);
	assert_string_equal(period, "weekly");
	form[2] = (struct sk_param){ "okres", "daily" };
	assert_int_equal(sk_test_status(post_as(
	                     "/konto", the_fx->site.reader_cookie, form, 3)),
	                 303);
	assert_int_equal(subscriptions_of(READER, "zamowienia", &period), 1);
	assert_string_equal(period, "daily");

	r = get_as("/konto?zapisano=1", the_fx->site.reader_cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Zapisano zmiany."));
	assert_non_null(strstr(r.body, "Subskrybujesz: 1\xc2\xa0temat."));
	assert_non_null(
	    strstr(r.body, "<option value=\"daily\" selected>codziennie"));
	sk_test_res_free(&r);

	/* CSRF, bad input, unknown topic. */
	form[0] = (struct sk_param){ "csrf", the_fx->site.coord_csrf };
	assert_int_equal(sk_test_status(post_as(
	                     "/konto", the_fx->site.reader_cookie, form, 3)),
	                 403);
	form[0] = (struct sk_param){ "csrf", the_fx->site.reader_csrf };
	form[2] = (struct sk_param){ "okres", "monthly" };
	assert_int_equal(sk_test_status(post_as(
	                     "/konto", the_fx->site.reader_cookie, form, 3)),
	                 400);
	form[1] = (struct sk_param){ "temat", "nie-ma-takiego" };
	form[2] = (struct sk_param){ "okres", "weekly" };
	assert_int_equal(sk_test_status(post_as(
	                     "/konto", the_fx->site.reader_cookie, form, 3)),
	                 404);

	form[1] = (struct sk_param){ "temat", "zamowienia" };
	form[2] = (struct sk_param){ "okres", "brak" };
	assert_int_equal(sk_test_status(post_as(
	                     "/konto", the_fx->site.reader_cookie, form, 3)),
	                 303);
	assert_int_equal(subscriptions_of(READER, NULL, NULL), 0);
}

static void
one_click_unsubscribe_needs_only_the_token(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *w = sk_test_writer(the_fx->site.dir);
	struct sk_user_row u;
	struct sk_outbox_new m = { 0 };
	struct sk_err err = { 0 };
	struct sk_param body = { "List-Unsubscribe", "One-Click" };
	struct sk_test_res r;

	(void)state;
	assert_int_equal(sk_index_user_find(w, a, READER, &u, &err), SK_OK);
	assert_int_equal(sk_index_subscribe(w, READER, "zamowienia",
	                                    SK_PERIOD_WEEKLY, NOW, &err),
	                 SK_OK);
	m.kind = SK_OUTBOX_DIGEST;
	m.message_id = "digest-1@lista.example";
	m.sender = "skarbnica@lista.example";
	m.recipients = READER;
	m.raw = "Subject: x\r\n\r\nx\r\n";
	m.raw_len = strlen(m.raw);
	m.user_id = u.id;
	m.unsubscribe_token = UNSUB_TOKEN;
	m.period = SK_PERIOD_WEEKLY;
	assert_int_equal(sk_index_outbox_queue(w, &m, NOW, NULL, &err), SK_OK);
	sk_index_close(&w);

	/* GET only asks (mail scanners follow links). */
	r = get_as("/wypisz?t=" UNSUB_TOKEN, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(
	    strstr(r.body, "<form method=\"post\" action=\"/wypisz?t=" UNSUB_TOKEN));
	assert_string_equal(hdr(&r, "Referrer-Policy"), "no-referrer");
	sk_test_res_free(&r);
	assert_int_equal(subscriptions_of(READER, NULL, NULL), 1);

	/* POST without login or CSRF token (RFC 8058). */
	r = post_as("/wypisz?t=" UNSUB_TOKEN, NULL, &body, 1);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1>Wypisano</h1>"));
	sk_test_res_free(&r);
	assert_int_equal(subscriptions_of(READER, NULL, NULL), 0);
	assert_int_equal(
	    sk_test_status(post_as("/wypisz?t=" UNSUB_TOKEN, NULL, &body, 1)),
	    200);

	assert_int_equal(
	    sk_test_status(post_as("/wypisz?t=nieznany-token-0123456789abcdef",
	                           NULL, &body, 1)),
	    404);
	r = get_as("/wypisz?t=%3Cx%3E", NULL);
	assert_int_equal(r.status, 404);
	assert_null(strstr(r.body, "<x>"));
	sk_test_res_free(&r);
	sk_arena_free(&a);
}

/* ---- login by link ------------------------------------------------------- */

struct link_req {
	int status;
	char *body;
	size_t queued; /* login mails queued by it */
};

static size_t
login_mails(void)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *w = sk_test_writer(the_fx->site.dir);
	struct sk_outbox_row *rows;
	size_t n = 0, k = 0;
	struct sk_err err = { 0 };
	assert_int_equal(sk_index_outbox_list(w, a, -1, 0, &rows, &n, &err),
	                 SK_OK);
	for (size_t i = 0; i < n; i++)
		k += rows[i].kind == SK_OUTBOX_LOGIN;
	sk_index_close(&w);
	sk_arena_free(&a);
	return k;
}

static struct link_req
ask_link(const char *email, const char *client)
{
	static char lt[64];
	char cbuf[128];
	struct sk_param form[2];
	struct opts o = { 0 };
	struct link_req out;
	size_t before = login_mails();
	struct sk_test_res r;

	if (!lt[0]) {
		char *t = login_token();
		snprintf(lt, sizeof(lt), "%s", t);
		free(t);
	}
	snprintf(cbuf, sizeof(cbuf), "sk_login=%s", lt);
	form[0] = (struct sk_param){ "csrf", lt };
	form[1] = (struct sk_param){ "email", email };
	o.cookie = cbuf;
	o.form = form;
	o.n_form = 2;
	o.client = client;
	r = req_opts(SK_METHOD_POST, "/zaloguj/wyslij-link", &o);
	out.status = r.status;
	out.body = sk_xstrdup(r.body);
	sk_test_res_free(&r);
	out.queued = login_mails() - before;
	return out;
}

/* The token in the newest login mail to rcpt (quoted-printable decoded). */
static char *
token_from_mail(const char *rcpt)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *w = sk_test_writer(the_fx->site.dir);
	struct sk_outbox_row *rows, ob;
	size_t n = 0;
	struct sk_err err = { 0 };
	struct sk_buf dec;
	char *tok = NULL;

	assert_int_equal(sk_index_outbox_list(w, a, -1, 0, &rows, &n, &err),
	                 SK_OK);
	for (size_t i = 0; i < n && !tok; i++) {
		if (rows[i].kind != SK_OUTBOX_LOGIN ||
		    strcmp(rows[i].recipients, rcpt) != 0)
			continue;
		assert_int_equal(sk_index_outbox_get(w, a, rows[i].id, &ob,
		                                     &err),
		                 SK_OK);
		sk_buf_init(&dec, 1u << 20);
		for (size_t j = 0; j < ob.raw_len; j++) {
			if (ob.raw[j] == '=' && j + 2 < ob.raw_len &&
			    ob.raw[j + 1] == '\r' && ob.raw[j + 2] == '\n') {
				j += 2;
			} else if (ob.raw[j] == '=' && j + 2 < ob.raw_len &&
			           ob.raw[j + 1] == '3' && ob.raw[j + 2] == 'D') {
				sk_buf_addc(&dec, '=');
				j += 2;
			} else {
				sk_buf_addc(&dec, ob.raw[j]);
			}
		}
		const char *p =
		    strstr(dec.p, "https://skarbnica.example/zaloguj/link?t=");
		assert_non_null(p);
		p = strstr(p, "/zaloguj/link?t=");
		assert_non_null(p);
		assert_non_null(strstr(dec.p, "Link do logowania"));
		assert_non_null(strstr(dec.p, "Auto-Submitted: auto-generated"));
		tok = sk_xstrndup(p + strlen("/zaloguj/link?t="), 43);
		sk_buf_release(&dec);
	}
	sk_index_close(&w);
	sk_arena_free(&a);
	assert_non_null(tok);
	return tok;
}

/* Use a link token: the status, and the new session cookie (or NULL). */
static int
use_link(const char *token, time_t now, char **session_out)
{
	char *lt = login_token();
	char cbuf[128];
	struct sk_param form[2] = { { "csrf", lt }, { "t", token } };
	struct opts o = { 0 };
	struct sk_test_res r;
	int status;

	snprintf(cbuf, sizeof(cbuf), "sk_login=%s", lt);
	o.cookie = cbuf;
	o.form = form;
	o.n_form = 2;
	o.now = now;
	o.client = "198.51.100.9";
	r = req_opts(SK_METHOD_POST, "/zaloguj/link", &o);
	status = r.status;
	if (session_out)
		*session_out = sk_test_cookie_value(&r, "sk_session");
	if (status == 403)
		assert_non_null(strstr(r.body, "wygasł albo został już użyty"));
	sk_test_res_free(&r);
	free(lt);
	return status;
}

static void
link_login_is_single_use_and_expires(void **state)
{
	struct link_req lr;
	char *tok, *session = NULL;
	struct sk_test_res r;

	(void)state;
	r = get_as("/zaloguj", NULL);
	assert_non_null(strstr(r.body, "action=\"/zaloguj/wyslij-link\""));
	sk_test_res_free(&r);

	lr = ask_link("Anna@Brzozowka.example", NULL);
	assert_int_equal(lr.status, 200);
	assert_int_equal(lr.queued, 1);
	assert_non_null(strstr(lr.body, "wysłaliśmy na niego link"));
	free(lr.body);
	tok = token_from_mail(READER);
	assert_int_equal(strlen(tok), 43);

	/* GET shows a button and uses nothing. */
	char target[128];
	snprintf(target, sizeof(target), "/zaloguj/link?t=%s", tok);
	r = get_as(target, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "action=\"/zaloguj/link\""));
	assert_string_equal(hdr(&r, "Referrer-Policy"), "no-referrer");
	sk_test_res_free(&r);

	assert_int_equal(use_link(tok, NOW + 60, &session), 303);
	assert_non_null(session);
	assert_int_equal(strlen(session), 43);
	/* The session works. */
	char cookie[128];
	snprintf(cookie, sizeof(cookie), "sk_session=%s", session);
	r = get_as("/konto", cookie);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, READER));
	sk_test_res_free(&r);
	free(session);
	/* Once only. */
	assert_int_equal(use_link(tok, NOW + 61, NULL), 403);
	free(tok);

	/* Expired after 15 minutes. */
	lr = ask_link(READER, NULL);
	assert_int_equal(lr.queued, 1);
	free(lr.body);
	tok = token_from_mail(READER);
	assert_int_equal(use_link(tok, NOW + SK_LOGIN_LINK_SECONDS + 1, NULL),
	                 403);
	assert_int_equal(use_link(tok, NOW + 60, &session), 303);
	free(session);
	free(tok);

	/* A made-up token. */
	assert_int_equal(
	    use_link("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NOW, NULL),
	    403);
	assert_true(audited("login.link", READER));
	assert_true(audited("login.link.sent", READER));
	assert_true(audited("login.link.failed", NULL));
}

static void
link_requests_do_not_tell_which_addresses_exist(void **state)
{
	struct link_req known, unknown, outsider;

	(void)state;
	known = ask_link(READER, "203.0.113.1");
	unknown = ask_link("nikt@brzozowka.example", "203.0.113.2");
	outsider = ask_link(OUTSIDER, "203.0.113.3");
	assert_int_equal(known.queued, 1);
	assert_int_equal(unknown.queued, 0);
	assert_int_equal(outsider.queued, 0); /* not a partner domain */
	assert_int_equal(known.status, unknown.status);
	assert_int_equal(known.status, outsider.status);
	assert_string_equal(known.body, unknown.body);
	assert_string_equal(known.body, outsider.body);
	assert_true(audited("login.link.refused", "nikt@brzozowka.example"));
	free(known.body);
	free(unknown.body);
	free(outsider.body);

	/* Without web.base_url no link is made: a link built from the
	 * Host header could point to another site. */
	{
		char *lt = login_token();
		char cbuf[128];
		struct sk_param f[2] = { { "csrf", lt }, { "email", READER } };
		struct opts o = { .form = f, .n_form = 2, .no_base_url = true };
		size_t before = login_mails();
		struct sk_test_res r;
		snprintf(cbuf, sizeof(cbuf), "sk_login=%s", lt);
		o.cookie = cbuf;
		r = req_opts(SK_METHOD_GET, "/zaloguj", &o);
		assert_null(strstr(r.body, "wyslij-link"));
		sk_test_res_free(&r);
		r = req_opts(SK_METHOD_POST, "/zaloguj/wyslij-link", &o);
		assert_int_equal(r.status, 503);
		sk_test_res_free(&r);
		assert_int_equal(login_mails(), before);
		free(lt);
	}

	/* Throttled per address (SK_WEB_LINK_MAILS a quarter of an hour;
	 * and per client), whether it exists or not. */
	int last = 0;
	for (int i = 0; i < SK_WEB_LINK_MAILS + 1; i++) {
		char client[32];
		struct link_req lr;
		snprintf(client, sizeof(client), "203.0.113.%d", 50 + i);
		lr = ask_link("nikt2@brzozowka.example", client);
		last = lr.status;
		free(lr.body);
	}
	assert_int_equal(last, 429);
}

static void
logins_are_audited(void **state)
{
	char *lt = login_token();
	char cbuf[128];
	struct sk_param form[3] = { { "csrf", lt },
		                    { "email", COORD },
		                    { "password", "zle-haslo-0000" } };
	struct opts o = { 0 };
	struct sk_test_res r;

	(void)state;
	snprintf(cbuf, sizeof(cbuf), "sk_login=%s", lt);
	o.cookie = cbuf;
	o.form = form;
	o.n_form = 3;
	o.client = "192.0.2.99";
	r = req_opts(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);
	assert_true(audited("login.password.failed", COORD));
	/* Successful password logins of the setup. */
	assert_true(audited("login.password", READER));
	assert_true(audited("login.password", COORD));

	/* The detail names the client and the reason, never the password. */
	struct sk_arena *a = sk_arena_new(0);
	struct sk_audit_row *rows;
	size_t n = 0;
	struct sk_err err = { 0 };
	bool seen = false;
	assert_int_equal(sk_index_audit_list(the_fx->site.ix, a, NULL, 0, 500,
	                                     &rows, &n, &err),
	                 SK_OK);
	for (size_t i = 0; i < n; i++) {
		assert_null(strstr(rows[i].detail, "zle-haslo"));
		if (!strcmp(rows[i].action, "login.password.failed")) {
			assert_non_null(strstr(rows[i].detail, "192.0.2.99"));
			assert_non_null(strstr(rows[i].detail, "wrong password"));
			assert_true(sk_starts_with(rows[i].object, "user:"));
			seen = true;
		}
	}
	assert_true(seen);
	sk_arena_free(&a);
	free(lt);

	/* Logging out is recorded too. */
	char *csrf, *cookie = login(READER, &csrf);
	struct sk_param out = { "csrf", csrf };
	assert_int_equal(sk_test_status(post_as("/wyloguj", cookie, &out, 1)),
	                 303);
	assert_true(audited("logout", READER));
	free(csrf);
	free(cookie);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(note_form_is_for_coordinators),
		cmocka_unit_test(
		    note_post_refuses_readers_bad_csrf_and_bad_fields),
		cmocka_unit_test(coordinator_posts_a_note),
		cmocka_unit_test(failed_note_mail_can_be_sent_again),
		cmocka_unit_test(account_page_subscribes_and_unsubscribes),
		cmocka_unit_test(one_click_unsubscribe_needs_only_the_token),
		cmocka_unit_test(link_login_is_single_use_and_expires),
		cmocka_unit_test(link_requests_do_not_tell_which_addresses_exist),
		cmocka_unit_test(logins_are_audited),
	};
	return cmocka_run_group_tests_name("web/notes", tests, group_setup,
	                                   group_teardown);
}
