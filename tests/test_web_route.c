/* tests/test_web_route.c: sk_web_route() over a real store in a temp dir,
 * without sockets — status codes, headers, who sees what (login, public
 * mode, held mail), hostile input coming out inert, CSRF, bad encodings,
 * the JSON API and the Atom feeds. */
#include "tests/helpers/sk_test_web.h"
#include "web/private.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1735689600 /* 2025-01-01 00:00 UTC */
#define CSP_EXPECTED                                                           \
	"default-src 'none'; style-src 'self'; img-src 'self'; "               \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#define PASSWORD SK_TEST_PASSWORD

struct fx {
	struct sk_test_site site;
	int64_t thread_regulamin, thread_hostile, thread_held;
	char *held_mid;
};

static struct fx *the_fx;

/* ---- building the store -------------------------------------------------- */

static int
group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_index *w = NULL;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_err err = { 0 };
	struct sk_message_row row;
	struct sk_viewer coord = { true, true };
	static const struct sk_test_msg msgs[] = {
		{ "reg-1@brzozowka.example", "Anna Kowalczyk",
		  "a.kowalczyk@brzozowka.example",
		  "Regulamin zamówień poniżej 130 000 zł",
		  "Dzień dobry,\nczy ktoś ma regulamin zamówień poniżej "
		  "progu?\n"
		  "Nasz jest tu: https://bip.brzozowka.example/regulamin.\n"
		  "Proszę o kontakt: a.kowalczyk@brzozowka.example\n"
		  "From the minutes of our meeting: nic.\n",
		  NULL, 1705306320, NULL, NULL },
		{ "reg-2@jaskowo.example", "Piotr Zając",
		  "p.zajac@jaskowo.example",
		  "Re: Regulamin zamówień poniżej 130 000 zł",
		  "Pani Anno,\nprzesyłam nasz regulamin zamówień.\n\n"
		  "W dniu 15.01.2024 Anna Kowalczyk pisze:\n"
		  "> czy ktoś ma regulamin zamówień poniżej progu?\n"
		  "> a.kowalczyk@brzozowka.example\n",
		  "reg-1@brzozowka.example", 1705325000,
		  "regulamin-zamówień.docx", "Regulamin udzielania zamówień" },
		{ "hostile@brzozowka.example",
		  "\"><img src=x onerror=alert(1)>", "x@brzozowka.example",
		  "<script>alert(1)</script> regulamin",
		  "<b>pogrubione</b> <script>alert(2)</script> "
		  "javascript:alert(3) regulamin\n",
		  NULL, 1705400000, NULL, NULL },
		{ "held-1@spam.example", "Obcy Nadawca", "obcy@spam.example",
		  "Tajna wiadomość wstrzymana", "Kup teraz tajny regulamin.\n",
		  NULL, 1705500000, NULL, NULL },
		{ "dziwny/id+x@brzozowka.example", "Anna Kowalczyk",
		  "a.kowalczyk@brzozowka.example", "Identyfikator z ukośnikiem",
		  "Treść.\n", NULL, 1705600000, NULL, NULL },
	};
	int64_t ids[SK_ARRAY_SIZE(msgs)];

	fx->site.dir = sk_test_tmpdir();
	w = sk_test_store_new(fx->site.dir, 2, "praktyki@lista.example");
	if (!w)
		return -1;
	for (size_t i = 0; i < SK_ARRAY_SIZE(msgs); i++)
		ids[i] = sk_test_add_msg(w, a, &msgs[i]);
	(void)ids;
	if (sk_test_store_users(w, "Anna Kowalczyk", "Koordynator"))
		return -1;
	if (sk_test_site_open(&fx->site, &w))
		return -1;
	if (sk_index_message(fx->site.ix, a, &coord, "reg-1@brzozowka.example",
	                     &row, &err))
		return -1;
	fx->thread_regulamin = row.thread_id;
	if (sk_index_message(fx->site.ix, a, &coord,
	                     "hostile@brzozowka.example", &row, &err))
		return -1;
	fx->thread_hostile = row.thread_id;
	if (sk_index_message(fx->site.ix, a, &coord, "held-1@spam.example",
	                     &row, &err))
		return -1;
	fx->thread_held = row.thread_id;
	if (!(row.flags & SK_MSG_HELD)) {
		fprintf(stderr, "setup: the outsider's mail is not held\n");
		return -1;
	}
	sk_arena_free(&a);
	the_fx = fx;
	*state = fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fx *fx = *state;
	sk_test_site_close(&fx->site);
	free(fx);
	xmlCleanupParser();
	return 0;
}

/* ---- making requests ----------------------------------------------------- */

struct opts {
	bool public_mode;
	const char *cookie;
	const struct sk_param *form;
	size_t n_form;
	bool no_store; /* ix = NULL */
	int body_status;
	const char *base_url;
	const char *origin;
};

static struct sk_test_res
req_opts(enum sk_method m, const char *target, const struct opts *o)
{
	static const struct opts none;
	struct sk_test_res r;
	struct sk_req q;
	struct sk_web_settings s;

	if (!o)
		o = &none;
	sk_test_req(&q, &s, m, target);
	s.public_mode = o->public_mode;
	s.base_url = o->base_url;
	q.cookie = o->cookie;
	q.origin = o->origin;
	q.form = o->form;
	q.n_form = o->n_form;
	q.body_status = o->body_status;
	q.ix = o->no_store ? NULL : the_fx->site.ix;
	q.state = the_fx->site.state;
	r = sk_test_route(&q);
	assert_non_null(r.resp.content_type);
	return r;
}

static struct sk_test_res
get(const char *target, bool public_mode)
{
	struct opts o = { .public_mode = public_mode };
	return req_opts(SK_METHOD_GET, target, &o);
}

static const char *
hdr(const struct sk_test_res *r, const char *name)
{
	return sk_resp_header(&r->resp, name);
}

/* Does body show one of the senders' addresses? (Message-IDs such as
 * reg-1@brzozowka.example are identifiers, not mailboxes, and may show.) */
static bool
shows_address(const char *body)
{
	static const char *const addrs[] = { "a.kowalczyk@", "p.zajac@",
		                             "obcy@", "praktyki@" };
	for (size_t i = 0; i < SK_ARRAY_SIZE(addrs); i++)
		if (strstr(body, addrs[i]))
			return true;
	return false;
}

/* Log in as email through the form; returns the Cookie header value to
 * send afterwards (malloc'ed) and the session's CSRF token in *csrf_out. */
static char *
login(const char *email, char **csrf_out)
{
	struct sk_test_res r = get("/zaloguj", false);
	char *login_tok, *session, *cookie;
	struct sk_param form[4];
	struct opts o = { 0 };

	assert_int_equal(r.status, 200);
	login_tok = sk_test_cookie_value(&r, "sk_login");
	assert_non_null(login_tok);
	assert_non_null(strstr(r.body, login_tok)); /* the hidden field */
	sk_test_res_free(&r);

	form[0] = (struct sk_param){ "csrf", login_tok };
	form[1] = (struct sk_param){ "email", email };
	form[2] = (struct sk_param){ "password", PASSWORD };
	form[3] = (struct sk_param){ "dalej", "/watek/1?widok=plaski" };
	char cbuf[128];
	snprintf(cbuf, sizeof(cbuf), "sk_login=%s", login_tok);
	o.cookie = cbuf;
	o.form = form;
	o.n_form = 4;
	r = req_opts(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 303);
	assert_string_equal(hdr(&r, "Location"), "/watek/1?widok=plaski");
	session = sk_test_cookie_value(&r, "sk_session");
	assert_non_null(session);
	assert_int_equal(strlen(session), 43);
	assert_non_null(
	    strstr(sk_test_cookie_line(&r, "sk_session"), "HttpOnly"));
	assert_non_null(
	    strstr(sk_test_cookie_line(&r, "sk_session"), "SameSite=Lax"));
	sk_test_res_free(&r);
	free(login_tok);

	cookie = sk_xmalloc(strlen(session) + 32);
	snprintf(cookie, strlen(session) + 32, "theme=x; sk_session=%s",
	         session);
	free(session);
	if (csrf_out) {
		struct opts oo = { .cookie = cookie };
		r = req_opts(SK_METHOD_GET, "/", &oo);
		assert_int_equal(r.status, 200);
		*csrf_out = sk_test_csrf_in(r.body);
		sk_test_res_free(&r);
	}
	return cookie;
}

/* ---- parsing ------------------------------------------------------------- */

static void
targets_and_escapes_are_decoded_strictly(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_target t;

	(void)state;
	assert_string_equal(sk_web_decode(a, "a%2Fb%40c", 9, false), "a/b@c");
	assert_string_equal(sk_web_decode(a, "a+b", 3, true), "a b");
	assert_string_equal(sk_web_decode(a, "a+b", 3, false), "a+b");
	assert_string_equal(sk_web_decode(a, "%C5%BC%C3%B3%C5%82w", 19, false),
	                    "żółw");
	assert_null(sk_web_decode(a, "%", 1, false));
	assert_null(sk_web_decode(a, "%4", 2, false));
	assert_null(sk_web_decode(a, "%zz", 3, false));
	assert_null(sk_web_decode(a, "%00", 3, false));
	assert_null(sk_web_decode(a, "%0A", 3, false));
	assert_null(sk_web_decode(a, "%C3%28", 6, false));
	assert_null(sk_web_decode(a, "%E0%80%80", 9, false));

	sk_web_parse_target(a, "/szukaj?q=a+b%2Bc&strona=2&&x", &t);
	assert_false(t.bad);
	assert_int_equal(t.path_len, 7);
	assert_int_equal(t.n_args, 3);
	assert_string_equal(sk_web_arg(t.args, t.n_args, "q"), "a b+c");
	assert_string_equal(sk_web_arg(t.args, t.n_args, "strona"), "2");
	assert_string_equal(sk_web_arg(t.args, t.n_args, "x"), "");
	assert_null(sk_web_arg(t.args, t.n_args, "y"));
	sk_web_parse_target(a, "/a?q=%ZZ", &t);
	assert_true(t.bad);
	sk_web_parse_target(a, "/a#frag?x=1", &t);
	assert_int_equal(t.path_len, 2);
	assert_int_equal(t.n_args, 0);

	assert_string_equal(
	    sk_web_cookie(a, "a=1; sk_session=XYZ; b=2", "sk_session"), "XYZ");
	assert_string_equal(sk_web_cookie(a, "sk_session=\"Q\"", "sk_session"),
	                    "Q");
	assert_null(
	    sk_web_cookie(a, "xsk_session=1; sk_sessionx=2", "sk_session"));
	assert_null(sk_web_cookie(a, NULL, "sk_session"));
	sk_arena_free(&a);
}

static void
tokens_are_random_and_compared_in_constant_time(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	char *t1 = sk_web_token_new(a), *t2 = sk_web_token_new(a);

	(void)state;
	assert_int_equal(strlen(t1), 43);
	assert_string_not_equal(t1, t2);
	assert_true(sk_web_token_eq(t1, t1));
	assert_false(sk_web_token_eq(t1, t2));
	assert_false(sk_web_token_eq(t1, NULL));
	assert_false(sk_web_token_eq("", ""));
	assert_int_equal(strlen(sk_web_token_hash(a, t1)), 64);
	assert_string_equal(sk_web_token_hash(a, t1), sk_web_token_hash(a, t1));
	sk_arena_free(&a);
}

/* ---- access -------------------------------------------------------------- */

static void
private_mode_sends_anonymous_readers_to_login(void **state)
{
	struct sk_test_res r;

	(void)state;
	r = get("/", false);
	assert_int_equal(r.status, 303);
	assert_string_equal(hdr(&r, "Location"), "/zaloguj?dalej=%2F");
	sk_test_res_free(&r);
	r = get("/szukaj?q=regulamin", false);
	assert_int_equal(r.status, 303);
	assert_string_equal(hdr(&r, "Location"),
	                    "/zaloguj?dalej=%2Fszukaj%3Fq%3Dregulamin");
	sk_test_res_free(&r);
	r = get("/api/v1/topics", false);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.resp.content_type, "application/json");
	assert_non_null(strstr(r.body, "\"error\""));
	sk_test_res_free(&r);
	r = get("/feed/temat/zamowienia.atom", false);
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);
	r = get("/healthz", false);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	sk_test_res_free(&r);
	r = get("/static/skarbnica.css", false);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.resp.content_type, "text/css; charset=utf-8");
	assert_non_null(strstr(hdr(&r, "Cache-Control"), "immutable"));
	sk_test_res_free(&r);
	r = get("/robots.txt", false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Disallow: /\n"));
	sk_test_res_free(&r);
}

static void
every_response_has_security_headers(void **state)
{
	static const char *const targets[] = {
		"/",
		"/szukaj?q=regulamin",
		"/nie-ma",
		"/m/%zz/",
		"/static/skarbnica.css",
		"/healthz",
		"/api/v1/topics",
		"/watek/999999",
		"/zaloguj",
		"x",
	};
	(void)state;
	for (int pub = 0; pub < 2; pub++) {
		for (size_t i = 0; i < SK_ARRAY_SIZE(targets); i++) {
			struct sk_test_res r = get(targets[i], pub);
			assert_string_equal(hdr(&r, "Content-Security-Policy"),
			                    CSP_EXPECTED);
			assert_string_equal(hdr(&r, "X-Content-Type-Options"),
			                    "nosniff");
			assert_string_equal(hdr(&r, "Referrer-Policy"),
			                    "same-origin");
			assert_non_null(hdr(&r, "Cache-Control"));
			sk_test_res_free(&r);
		}
	}
}

static void
error_pages_are_polish_with_the_layout(void **state)
{
	struct sk_test_res r;

	(void)state;
	r = get("/nie-ma-takiej-strony", true);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.resp.content_type, "text/html; charset=utf-8");
	assert_non_null(strstr(r.body, "<html lang=\"pl\">"));
	assert_non_null(strstr(r.body, "<h1>Nie znaleziono strony</h1>"));
	assert_non_null(strstr(r.body, "Przejdź do treści"));
	sk_test_res_free(&r);
	r = get("nie-zaczyna-sie-od-ukosnika", true);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Nieprawidłowe żądanie"));
	sk_test_res_free(&r);
}

static void
unknown_routes_and_ids_are_404(void **state)
{
	static const char *const targets[] = {
		"/nie-ma",
		"/watek/999999",
		"/watek/abc",
		"/watek/0",
		"/watek/1x",
		"/watek/",
		"/temat/nie-ma-takiego",
		"/temat/ZLY_SLUG",
		"/gmina/nie-ma",
		"/m/nie-ma@x.example/",
		"/m//",
		"/feed/temat/nie-ma.atom",
		"/feed/temat/zamowienia",
		"/api/v1/nie-ma",
		"/api/v1/thread/999999",
		"/watek/99999999999999999999",
		"/szukaj/",
	};
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(targets); i++) {
		struct sk_test_res r = get(targets[i], true);
		if (r.status != 404)
			fprintf(stderr, "%s: %d\n", targets[i], r.status);
		assert_int_equal(r.status, 404);
		sk_test_res_free(&r);
	}
}

static void
bad_encodings_are_400(void **state)
{
	static const char *const targets[] = {
		"/m/%zz/",
		"/m/%00abc/",
		"/m/%C3%28/",
		"/m/a%0D%0ASet-Cookie:x/",
		"/szukaj?q=%E0%80",
		"/szukaj?q=%",
		"/szukaj?strona=0&q=a",
		"/szukaj?strona=abc&q=a",
		"/szukaj?temat=Z%C5%81Y&q=a",
		"/szukaj?rok=20x4&q=a",
		"/temat/zamowienia?strona=-1",
	};
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(targets); i++) {
		struct sk_test_res r = get(targets[i], true);
		if (r.status != 400)
			fprintf(stderr, "%s: %d\n", targets[i], r.status);
		assert_int_equal(r.status, 400);
		assert_null(hdr(&r, "Set-Cookie"));
		sk_test_res_free(&r);
	}
}

static void
methods_other_than_get_head_post_are_refused(void **state)
{
	struct sk_test_res r;
	struct opts o = { .public_mode = true };

	(void)state;
	r = req_opts(SK_METHOD_OTHER, "/", &o);
	assert_int_equal(r.status, 405);
	assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
	sk_test_res_free(&r);
	r = req_opts(SK_METHOD_POST, "/szukaj?q=a", &o);
	assert_int_equal(r.status, 405);
	sk_test_res_free(&r);
	r = req_opts(SK_METHOD_GET, "/wyloguj", &o);
	assert_int_equal(r.status, 405);
	assert_string_equal(hdr(&r, "Allow"), "POST");
	sk_test_res_free(&r);
	r = req_opts(SK_METHOD_HEAD, "/", &o);
	assert_int_equal(r.status, 200);
	sk_test_res_free(&r);
}

static void
store_unavailable_is_503_never_500(void **state)
{
	struct opts o = { .public_mode = true, .no_store = true };
	struct sk_test_res r;

	(void)state;
	r = req_opts(SK_METHOD_GET, "/", &o);
	assert_int_equal(r.status, 503);
	assert_non_null(hdr(&r, "Retry-After"));
	assert_non_null(strstr(r.body, "chwilowo niedostępne"));
	sk_test_res_free(&r);
	r = req_opts(SK_METHOD_GET, "/healthz", &o);
	assert_int_equal(r.status, 503);
	sk_test_res_free(&r);
	r = req_opts(SK_METHOD_GET, "/static/skarbnica.css", &o);
	assert_int_equal(r.status, 200);
	sk_test_res_free(&r);
}

static void
refused_bodies_get_their_status(void **state)
{
	struct opts o = { .public_mode = true, .body_status = 413 };
	struct sk_test_res r = req_opts(SK_METHOD_POST, "/zaloguj", &o);

	(void)state;
	assert_int_equal(r.status, 413);
	assert_non_null(strstr(r.body, "Za duże żądanie"));
	sk_test_res_free(&r);
}

/* ---- pages --------------------------------------------------------------- */

static void
start_page_lists_topics_threads_and_partners(void **state)
{
	struct sk_test_res r = get("/", true);

	(void)state;
	assert_int_equal(r.status, 200);
	assert_string_equal(r.resp.content_type, "text/html; charset=utf-8");
	assert_non_null(strstr(r.body, "<html lang=\"pl\">"));
	assert_non_null(strstr(r.body, "<h1>Skarbnica dobrych praktyk</h1>"));
	assert_non_null(strstr(r.body, "<label for=\"q\">"));
	assert_non_null(
	    strstr(r.body, "Regulamin zamówień poniżej 130 000 zł"));
	assert_non_null(strstr(r.body, "href=\"/gmina/brzozowka\""));
	assert_non_null(strstr(r.body, "Gmina Jaśkowo"));
	assert_non_null(strstr(r.body, "aria-current=\"page\">Strona główna"));
	assert_non_null(strstr(r.body, "Zaloguj się"));
	/* Held mail is not listed for readers. */
	assert_null(strstr(r.body, "Tajna wiadomość"));
	sk_test_res_free(&r);
}

static void
public_mode_hides_addresses(void **state)
{
	struct fx *fx = *state;
	char target[64];
	static const char *const pages[] = {
		"/",
		"/szukaj?q=regulamin",
		"/gmina/brzozowka",
		"/m/reg-2%40jaskowo.example/",
		"/api/v1/search?q=regulamin",
		"/feed/szukaj.atom?q=regulamin",
		"/feed/temat/zamowienia.atom",
	};

	snprintf(target, sizeof(target), "/watek/%lld",
	         (long long)fx->thread_regulamin);
	struct sk_test_res r = get(target, true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Anna Kowalczyk"));
	assert_non_null(strstr(r.body, "Piotr Zając"));
	assert_false(shows_address(r.body));
	assert_non_null(strstr(r.body, SK_ADDR_HIDDEN));
	sk_test_res_free(&r);

	snprintf(target, sizeof(target), "/api/v1/thread/%lld",
	         (long long)fx->thread_regulamin);
	r = get(target, true);
	assert_int_equal(r.status, 200);
	assert_false(shows_address(r.body));
	assert_non_null(strstr(r.body, SK_ADDR_HIDDEN));
	sk_test_res_free(&r);

	for (size_t i = 0; i < SK_ARRAY_SIZE(pages); i++) {
		r = get(pages[i], true);
		if (r.status != 200)
			fprintf(stderr, "%s: %d\n", pages[i], r.status);
		assert_int_equal(r.status, 200);
		if (shows_address(r.body)) {
			fprintf(stderr, "%s shows an address\n", pages[i]);
			fail();
		}
		sk_test_res_free(&r);
	}
}

static void
similar_threads_have_their_own_page(void **state)
{
	struct fx *fx = *state;
	char target[64];
	struct sk_test_res r;

	snprintf(target, sizeof(target), "/watek/%lld",
	         (long long)fx->thread_regulamin);
	r = get(target, true);
	assert_int_equal(r.status, 200);
	snprintf(target, sizeof(target), "/watek/%lld/podobne",
	         (long long)fx->thread_regulamin);
	assert_non_null(strstr(r.body, target));
	sk_test_res_free(&r);
	r = get(target, true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1>Podobne wątki</h1>"));
	assert_non_null(strstr(r.body, "Regulamin zamówień"));
	sk_test_res_free(&r);
	r = get("/watek/999999/podobne", true);
	assert_int_equal(r.status, 404);
	sk_test_res_free(&r);
}

static void
thread_page_nests_folds_and_links(void **state)
{
	struct fx *fx = *state;
	char target[64];
	struct sk_test_res r;

	snprintf(target, sizeof(target), "/watek/%lld",
	         (long long)fx->thread_regulamin);
	r = get(target, true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1>Regulamin zamówień poniżej 130 000 "
	                               "zł</h1>"));
	assert_non_null(strstr(r.body, "2"
	                               "\xc2\xa0"
	                               "wiadomości"));
	assert_non_null(strstr(r.body, "class=\"msg d0\""));
	assert_non_null(strstr(r.body, "class=\"msg d1\""));
	assert_non_null(strstr(r.body, "<details class=\"quote\"><summary>"
	                               "Pokaż cytat"));
	assert_non_null(strstr(r.body,
	                       "<a href=\"https://bip.brzozowka.example"
	                       "/regulamin\" rel=\"nofollow noopener\">"));
	assert_non_null(strstr(r.body, "15 stycznia 2024, 09:12"));
	assert_non_null(
	    strstr(r.body, "href=\"/m/reg-1%40brzozowka.example/\""));
	assert_non_null(strstr(r.body, "regulamin-zamówień.docx"));
	assert_non_null(
	    strstr(r.body, "/m/reg-2%40jaskowo.example/zalacznik/"));
	assert_non_null(strstr(r.body, "dokument Word (DOCX)"));
	/* Anonymous readers get no raw or mbox links. */
	assert_null(strstr(r.body, ".mbox"));
	assert_null(strstr(r.body, "/raw\""));
	assert_non_null(strstr(r.body, "aria-current=\"page\">wątkowy"));
	sk_test_res_free(&r);

	snprintf(target, sizeof(target), "/watek/%lld?widok=plaski",
	         (long long)fx->thread_regulamin);
	r = get(target, true);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "class=\"msg d1\""));
	assert_non_null(strstr(r.body, "aria-current=\"page\">według daty"));
	assert_non_null(strstr(r.body, "w odpowiedzi na <a href=\"#m-"));
	sk_test_res_free(&r);
}

static void
hostile_subjects_and_bodies_come_out_inert(void **state)
{
	struct fx *fx = *state;
	char target[64];
	const char *pages[] = { "/",
		                target,
		                "/szukaj?q=regulamin",
		                "/m/hostile%40brzozowka.example/",
		                "/gmina/brzozowka",
		                "/szukaj?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		                "/szukaj?q=%22%3E%3Cimg+src%3Dx%3E" };

	snprintf(target, sizeof(target), "/watek/%lld",
	         (long long)fx->thread_hostile);
	for (size_t i = 0; i < SK_ARRAY_SIZE(pages); i++) {
		struct sk_test_res r = get(pages[i], true);
		assert_true(r.status == 200 || r.status == 400);
		assert_null(strstr(r.body, "<script"));
		assert_null(strstr(r.body, "<img"));
		assert_null(strstr(r.body, "<b>pogrubione"));
		assert_null(strstr(r.body, "href=\"javascript"));
		assert_null(strstr(r.body, "onerror=alert(1)>"));
		sk_test_res_free(&r);
	}
	struct sk_test_res r = get(target, true);
	assert_non_null(
	    strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(r.body, "&quot;&gt;&lt;img src=x "
	                               "onerror=alert(1)&gt;"));
	sk_test_res_free(&r);
}

static void
held_mail_is_hidden_from_readers(void **state)
{
	struct fx *fx = *state;
	char target[64];
	struct sk_test_res r;

	snprintf(target, sizeof(target), "/watek/%lld",
	         (long long)fx->thread_held);
	r = get(target, true);
	assert_int_equal(r.status, 404);
	sk_test_res_free(&r);
	r = get("/m/held-1%40spam.example/", true);
	assert_int_equal(r.status, 404);
	sk_test_res_free(&r);
	r = get("/szukaj?q=tajna", true);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "Tajna wiadomość"));
	sk_test_res_free(&r);
}

static void
message_ids_round_trip_percent_encoded(void **state)
{
	struct sk_test_res r;

	(void)state;
	r = get("/m/dziwny%2Fid%2Bx%40brzozowka.example/", true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Identyfikator z ukośnikiem"));
	sk_test_res_free(&r);
	r = get("/m/%3Cdziwny%2Fid%2Bx%40brzozowka.example%3E/", true);
	assert_int_equal(r.status, 200);
	sk_test_res_free(&r);
	r = get("/m/dziwny%2Fid%2Bx%40brzozowka.example", true);
	assert_int_equal(r.status, 301);
	assert_string_equal(hdr(&r, "Location"),
	                    "/m/dziwny%2Fid%2Bx%40brzozowka.example/");
	sk_test_res_free(&r);
	/* '+' in a path is a plus, not a space. */
	r = get("/m/dziwny%2Fid+x%40brzozowka.example/", true);
	assert_int_equal(r.status, 200);
	sk_test_res_free(&r);
}

static void
topic_and_partner_pages_count_threads(void **state)
{
	struct sk_test_res r;

	(void)state;
	r = get("/temat/zamowienia", true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1>Zamówienia publiczne</h1>"));
	assert_non_null(strstr(r.body, "wątk"));
	assert_non_null(strstr(r.body, "type=\"application/atom+xml\""));
	sk_test_res_free(&r);
	r = get("/gmina/brzozowka", true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1>Gmina Brzozówka</h1>"));
	assert_non_null(strstr(r.body, "Regulamin zamówień"));
	sk_test_res_free(&r);
	r = get("/spotkania", true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1>Notatki ze spotkań</h1>"));
	assert_non_null(strstr(r.body, "aria-current=\"page\">Spotkania"));
	sk_test_res_free(&r);
	r = get("/temat/zamowienia?strona=400", true);
	assert_int_equal(r.status, 200);
	sk_test_res_free(&r);
}

/* ---- search -------------------------------------------------------------- */

static void
search_shows_results_facets_and_help(void **state)
{
	struct sk_test_res r;

	(void)state;
	r = get("/szukaj", true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Jak szukać"));
	sk_test_res_free(&r);

	r = get("/szukaj?q=regulamin", true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Znaleziono"));
	assert_non_null(strstr(r.body, "<mark>"));
	assert_non_null(strstr(r.body, "value=\"regulamin\""));
	assert_non_null(
	    strstr(r.body, "href=\"/m/reg-1%40brzozowka.example/\""));
	assert_non_null(strstr(r.body, "Zawęź wyniki"));
	assert_non_null(strstr(r.body, "partner%3Abrzozowka"));
	assert_non_null(strstr(r.body, "/feed/szukaj.atom?q=regulamin"));
	sk_test_res_free(&r);

	r = get("/szukaj?q=regulamin&gmina=jaskowo&sort=data", true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Filtry: partner jaskowo"));
	assert_null(strstr(r.body, "/m/reg-1%40brzozowka.example/\""));
	assert_non_null(strstr(r.body, "<option value=\"data\" selected>"));
	sk_test_res_free(&r);

	r = get("/szukaj?q=zzzyyyxxx", true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Nic nie znaleziono"));
	assert_non_null(strstr(r.body, "Jak szukać"));
	sk_test_res_free(&r);
}

static void
bad_queries_are_400_with_a_polish_message(void **state)
{
	static const char *const targets[] = {
		"/szukaj?q=regulamin+OR",    "/szukaj?q=%22niezamkni%C4%99ty",
		"/szukaj?q=nieznane%3Apole", "/api/v1/search?q=a+OR",
		"/feed/szukaj.atom?q=a+OR",
	};
	char big[700];
	struct sk_test_res r;

	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(targets); i++) {
		r = get(targets[i], true);
		if (r.status != 400)
			fprintf(stderr, "%s: %d\n", targets[i], r.status);
		assert_int_equal(r.status, 400);
		sk_test_res_free(&r);
	}
	r = get("/szukaj?q=regulamin+OR", true);
	assert_non_null(strstr(r.body, "role=\"alert\""));
	assert_non_null(strstr(r.body, "aria-invalid=\"true\""));
	assert_non_null(strstr(r.body, "Jak szukać"));
	sk_test_res_free(&r);
	memcpy(big, "/szukaj?q=", 10);
	memset(big + 10, 'a', sizeof(big) - 11);
	big[sizeof(big) - 1] = '\0';
	r = get(big, true);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "za długie"));
	sk_test_res_free(&r);
}

static void
api_search_has_the_cli_fields(void **state)
{
	static const char *const keys[] = { "message_id", "thread_id",
		                            "subject",    "from",
		                            "date",       "partner",
		                            "topics",     "snippet" };
	struct sk_test_res r;
	json_t *j, *results;
	json_error_t je;

	(void)state;
	r = get("/api/v1/search?q=regulamin&limit=5", true);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.resp.content_type, "application/json");
	j = json_loads(r.body, 0, &je);
	assert_non_null(j);
	assert_true(json_integer_value(json_object_get(j, "total")) >= 2);
	results = json_object_get(j, "results");
	assert_true(json_is_array(results));
	assert_true(json_array_size(results) >= 2);
	for (size_t i = 0; i < json_array_size(results); i++) {
		json_t *h = json_array_get(results, i);
		assert_int_equal(json_object_size(h), SK_ARRAY_SIZE(keys));
		for (size_t k = 0; k < SK_ARRAY_SIZE(keys); k++)
			assert_non_null(json_object_get(h, keys[k]));
		const char *date =
		    json_string_value(json_object_get(h, "date"));
		assert_int_equal(strlen(date), 20);
		assert_int_equal(date[19], 'Z');
		const char *mid =
		    json_string_value(json_object_get(h, "message_id"));
		assert_true(mid[0] != '<');
		assert_null(
		    strstr(json_string_value(json_object_get(h, "snippet")),
		           "<mark>"));
	}
	json_decref(j);
	sk_test_res_free(&r);

	r = get("/api/v1/search", true);
	assert_int_equal(r.status, 400);
	j = json_loads(r.body, 0, &je);
	assert_non_null(json_object_get(j, "error"));
	json_decref(j);
	sk_test_res_free(&r);
	r = get("/api/v1/search?q=a&limit=1000", true);
	assert_int_equal(r.status, 400);
	sk_test_res_free(&r);
}

static void
api_topics_and_thread_are_json(void **state)
{
	struct fx *fx = *state;
	char target[64];
	struct sk_test_res r;
	json_t *j;
	json_error_t je;

	r = get("/api/v1/topics", true);
	assert_int_equal(r.status, 200);
	j = json_loads(r.body, 0, &je);
	assert_non_null(j);
	assert_true(json_array_size(json_object_get(j, "topics")) > 10);
	json_decref(j);
	sk_test_res_free(&r);

	snprintf(target, sizeof(target), "/api/v1/thread/%lld",
	         (long long)fx->thread_regulamin);
	r = get(target, true);
	assert_int_equal(r.status, 200);
	j = json_loads(r.body, 0, &je);
	assert_non_null(j);
	json_t *msgs = json_object_get(j, "messages");
	assert_int_equal(json_array_size(msgs), 2);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(msgs, 1), "in_reply_to")),
	                    "reg-1@brzozowka.example");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(msgs, 0), "from")),
	    "Anna Kowalczyk");
	json_decref(j);
	sk_test_res_free(&r);
}

static void
feeds_are_well_formed_atom(void **state)
{
	static const char *const targets[] = {
		"/feed/temat/zamowienia.atom",
		"/feed/szukaj.atom?q=regulamin",
		"/feed/szukaj.atom?q=%3Cscript%3E",
	};
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(targets); i++) {
		struct opts o = { .public_mode = true,
			          .base_url = "https://praktyki.example" };
		struct sk_test_res r = req_opts(SK_METHOD_GET, targets[i], &o);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.resp.content_type,
		                    "application/atom+xml; charset=utf-8");
		xmlDocPtr doc = xmlReadMemory(
		    r.body, (int)strlen(r.body), "feed.xml", NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		assert_non_null(doc);
		xmlFreeDoc(doc);
		assert_non_null(strstr(r.body, "https://praktyki.example/"));
		assert_null(strstr(r.body, "<script"));
		sk_test_res_free(&r);
	}
}

/* ---- login, sessions, CSRF ----------------------------------------------- */

static void
login_shows_addresses_and_raw_mail(void **state)
{
	struct fx *fx = *state;
	char target[96], *csrf = NULL, *cookie;
	struct opts o = { 0 };
	struct sk_test_res r;
	cookie = login("anna@brzozowka.example", &csrf);
	o.cookie = cookie;
	snprintf(target, sizeof(target), "/watek/%lld",
	         (long long)fx->thread_regulamin);
	r = req_opts(SK_METHOD_GET, target, &o);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "a.kowalczyk@brzozowka.example"));
	assert_non_null(strstr(r.body, "Wyloguj się"));
	assert_non_null(strstr(r.body, ".mbox\""));
	assert_string_equal(hdr(&r, "Cache-Control"), "private, no-store");
	sk_test_res_free(&r);

	r = req_opts(SK_METHOD_GET, "/m/reg-1%40brzozowka.example/raw", &o);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.resp.content_type, "text/plain; charset=utf-8");
	assert_non_null(strstr(hdr(&r, "Content-Disposition"), "inline"));
	assert_non_null(strstr(hdr(&r, "Content-Security-Policy"), "sandbox"));
	assert_true(sk_starts_with(r.body, "Message-ID: <reg-1@"));
	sk_test_res_free(&r);

	snprintf(target, sizeof(target), "/watek/%lld.mbox",
	         (long long)fx->thread_regulamin);
	r = req_opts(SK_METHOD_GET, target, &o);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.resp.content_type, "application/mbox");
	assert_non_null(strstr(hdr(&r, "Content-Disposition"), "attachment"));
	assert_true(
	    sk_starts_with(r.body, "From a.kowalczyk@brzozowka.example "));
	assert_non_null(strstr(r.body, "\n>From the minutes"));
	assert_null(strstr(r.body, "\r\n"));
	assert_non_null(strstr(r.body, "\n\nFrom p.zajac@jaskowo.example "));
	sk_test_res_free(&r);

	/* Readers still do not see held mail. */
	snprintf(target, sizeof(target), "/watek/%lld",
	         (long long)fx->thread_held);
	r = req_opts(SK_METHOD_GET, target, &o);
	assert_int_equal(r.status, 404);
	sk_test_res_free(&r);
	free(csrf);
	free(cookie);
}

static void
coordinators_see_held_mail(void **state)
{
	struct fx *fx = *state;
	char target[64], *cookie;
	struct opts o = { 0 };
	struct sk_test_res r;
	cookie = login("koordynator@lista.example", NULL);
	o.cookie = cookie;
	snprintf(target, sizeof(target), "/watek/%lld",
	         (long long)fx->thread_held);
	r = req_opts(SK_METHOD_GET, target, &o);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Wiadomość wstrzymana"));
	sk_test_res_free(&r);
	free(cookie);
}

static void
raw_and_mbox_need_login_even_in_public_mode(void **state)
{
	struct fx *fx = *state;
	char target[64];
	struct sk_test_res r;

	r = get("/m/reg-1%40brzozowka.example/raw", true);
	assert_int_equal(r.status, 303);
	assert_true(sk_starts_with(hdr(&r, "Location"), "/zaloguj?dalej="));
	sk_test_res_free(&r);
	snprintf(target, sizeof(target), "/watek/%lld.mbox",
	         (long long)fx->thread_regulamin);
	r = get(target, true);
	assert_int_equal(r.status, 303);
	sk_test_res_free(&r);
}

static void
login_refuses_bad_password_csrf_and_redirects(void **state)
{
	struct sk_param form[4];
	struct opts o = { 0 };
	struct sk_test_res r;
	char *tok, cbuf[128];

	(void)state;
	r = get("/zaloguj?dalej=%2Fszukaj", false);
	tok = sk_test_cookie_value(&r, "sk_login");
	assert_non_null(
	    strstr(sk_test_cookie_line(&r, "sk_login"), "Path=/zaloguj"));
	assert_non_null(strstr(r.body, "value=\"/szukaj\""));
	assert_non_null(strstr(r.body, "<label for=\"email\">"));
	assert_non_null(strstr(r.body, "<label for=\"password\">"));
	sk_test_res_free(&r);
	snprintf(cbuf, sizeof(cbuf), "sk_login=%s", tok);

	/* Wrong password. */
	form[0] = (struct sk_param){ "csrf", tok };
	form[1] = (struct sk_param){ "email", "anna@brzozowka.example" };
	form[2] = (struct sk_param){ "password", "zle" };
	form[3] = (struct sk_param){ "dalej", "//evil.example/" };
	o.cookie = cbuf;
	o.form = form;
	o.n_form = 4;
	r = req_opts(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 403);
	assert_null(sk_test_cookie_line(&r, "sk_session"));
	assert_non_null(strstr(r.body, "Nieprawidłowy adres e-mail lub hasło"));
	assert_non_null(strstr(r.body, "value=\"anna@brzozowka.example\""));
	sk_test_res_free(&r);

	/* Unknown user: the same answer. */
	form[1].value = "nikt@brzozowka.example";
	r = req_opts(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);

	/* Missing or foreign CSRF token. */
	form[1].value = "anna@brzozowka.example";
	form[2].value = PASSWORD;
	form[0].value = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	r = req_opts(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 403);
	assert_null(sk_test_cookie_line(&r, "sk_session"));
	sk_test_res_free(&r);
	o.cookie = NULL;
	form[0].value = tok;
	r = req_opts(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);

	/* Right: an open redirect in dalej goes to the start page. */
	o.cookie = cbuf;
	r = req_opts(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 303);
	assert_string_equal(hdr(&r, "Location"), "/");
	assert_non_null(sk_test_cookie_line(&r, "sk_session"));
	assert_null(strstr(sk_test_cookie_line(&r, "sk_session"), "Secure"));
	sk_test_res_free(&r);

	/* Secure cookies behind https. */
	o.base_url = "https://praktyki.example";
	r = req_opts(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 303);
	assert_non_null(
	    strstr(sk_test_cookie_line(&r, "sk_session"), "; Secure"));
	sk_test_res_free(&r);
	free(tok);
}

static void
logout_needs_the_session_csrf_token(void **state)
{
	char *csrf = NULL, *cookie;
	struct sk_param form[1];
	struct opts o = { 0 };
	struct sk_test_res r;

	(void)state;
	cookie = login("anna@brzozowka.example", &csrf);
	o.cookie = cookie;
	form[0] = (struct sk_param){ "csrf", "zly-token" };
	o.form = form;
	o.n_form = 1;
	r = req_opts(SK_METHOD_POST, "/wyloguj", &o);
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);
	/* Still logged in. */
	r = req_opts(SK_METHOD_GET, "/", &o);
	assert_int_equal(r.status, 200);
	sk_test_res_free(&r);

	form[0].value = csrf;
	r = req_opts(SK_METHOD_POST, "/wyloguj", &o);
	assert_int_equal(r.status, 303);
	assert_string_equal(hdr(&r, "Location"), "/");
	assert_non_null(
	    strstr(sk_test_cookie_line(&r, "sk_session"), "Max-Age=0"));
	sk_test_res_free(&r);
	/* The old cookie no longer works. */
	r = req_opts(SK_METHOD_GET, "/", &o);
	assert_int_equal(r.status, 303);
	sk_test_res_free(&r);
	free(csrf);
	free(cookie);
}

static void
posts_from_another_origin_are_refused(void **state)
{
	struct opts o = { .public_mode = true };
	struct sk_test_res r;

	(void)state;
	o.origin = "https://evil.example";
	r = req_opts(SK_METHOD_POST, "/wyloguj", &o);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "z innej strony"));
	sk_test_res_free(&r);
	o.origin = "null";
	r = req_opts(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);
	/* Our own host, whatever the scheme (TLS ends at the proxy). */
	o.origin = "https://skarbnica.example";
	r = req_opts(SK_METHOD_POST, "/wyloguj", &o);
	assert_int_equal(r.status, 303);
	sk_test_res_free(&r);
	o.origin = "https://praktyki.example";
	o.base_url = "https://praktyki.example/";
	r = req_opts(SK_METHOD_POST, "/wyloguj", &o);
	assert_int_equal(r.status, 303);
	sk_test_res_free(&r);
	/* GET is not affected. */
	o.origin = "https://evil.example";
	r = req_opts(SK_METHOD_GET, "/", &o);
	assert_int_equal(r.status, 200);
	sk_test_res_free(&r);
}

static void
attachments_download_safely(void **state)
{
	struct sk_test_res r;
	const char *cd;

	(void)state;
	r = get("/m/reg-2%40jaskowo.example/zalacznik/0", true);
	if (r.status == 503) {
		printf("SKIP: index/ has no sk_index_attachment yet\n");
		sk_test_res_free(&r);
		skip();
	}
	if (r.status == 404) {
		sk_test_res_free(&r);
		r = get("/m/reg-2%40jaskowo.example/zalacznik/1", true);
	}
	assert_int_equal(r.status, 200);
	cd = hdr(&r, "Content-Disposition");
	assert_true(sk_starts_with(cd, "attachment; filename=\""));
	assert_non_null(strstr(cd, "filename*=UTF-8''regulamin-zam%C3%B3wie"));
	assert_non_null(strstr(hdr(&r, "Content-Security-Policy"), "sandbox"));
	sk_test_res_free(&r);
	r = get("/m/reg-2%40jaskowo.example/zalacznik/99", true);
	assert_true(r.status == 404);
	sk_test_res_free(&r);
}

static void
metrics_report_store_and_requests(void **state)
{
	struct sk_test_res r;

	(void)state;
	sk_web_state_record(the_fx->site.state, "start", 200, 0.01);
	r = get("/metrics", false);
	assert_int_equal(r.status, 200);
	assert_true(sk_starts_with(r.resp.content_type, "text/plain"));
	assert_non_null(strstr(r.body, "skarbnica_messages 5\n"));
	assert_non_null(strstr(r.body, "skarbnica_messages_held 1\n"));
	assert_non_null(strstr(r.body, "skarbnica_ingest_lag_seconds "));
	assert_non_null(
	    strstr(r.body, "skarbnica_index_bytes{part=\"store\"}"));
	assert_non_null(strstr(r.body, "skarbnica_http_requests_total{route="
	                               "\"start\",status=\"200\"}"));
	sk_test_res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(targets_and_escapes_are_decoded_strictly),
		cmocka_unit_test(
		    tokens_are_random_and_compared_in_constant_time),
		cmocka_unit_test(private_mode_sends_anonymous_readers_to_login),
		cmocka_unit_test(every_response_has_security_headers),
		cmocka_unit_test(error_pages_are_polish_with_the_layout),
		cmocka_unit_test(unknown_routes_and_ids_are_404),
		cmocka_unit_test(bad_encodings_are_400),
		cmocka_unit_test(methods_other_than_get_head_post_are_refused),
		cmocka_unit_test(store_unavailable_is_503_never_500),
		cmocka_unit_test(refused_bodies_get_their_status),
		cmocka_unit_test(start_page_lists_topics_threads_and_partners),
		cmocka_unit_test(public_mode_hides_addresses),
		cmocka_unit_test(thread_page_nests_folds_and_links),
		cmocka_unit_test(similar_threads_have_their_own_page),
		cmocka_unit_test(hostile_subjects_and_bodies_come_out_inert),
		cmocka_unit_test(held_mail_is_hidden_from_readers),
		cmocka_unit_test(message_ids_round_trip_percent_encoded),
		cmocka_unit_test(topic_and_partner_pages_count_threads),
		cmocka_unit_test(search_shows_results_facets_and_help),
		cmocka_unit_test(bad_queries_are_400_with_a_polish_message),
		cmocka_unit_test(api_search_has_the_cli_fields),
		cmocka_unit_test(api_topics_and_thread_are_json),
		cmocka_unit_test(feeds_are_well_formed_atom),
		cmocka_unit_test(raw_and_mbox_need_login_even_in_public_mode),
		cmocka_unit_test(login_shows_addresses_and_raw_mail),
		cmocka_unit_test(coordinators_see_held_mail),
		cmocka_unit_test(login_refuses_bad_password_csrf_and_redirects),
		cmocka_unit_test(logout_needs_the_session_csrf_token),
		cmocka_unit_test(posts_from_another_origin_are_refused),
		cmocka_unit_test(attachments_download_safely),
		cmocka_unit_test(metrics_report_store_and_requests),
	};
	return cmocka_run_group_tests_name("web/route", tests, group_setup,
	                                   group_teardown);
}
