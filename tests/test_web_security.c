/* tests/test_web_security.c: the web's security promises, checked through
 * sk_web_route() and over real HTTP on 127.0.0.1 (sk_web_start on port 0)
 * on a store filled by the real ingest (worker pool, NO_XAPIAN) with
 * hostile mail: stored XSS in every page that shows it, CSRF, session
 * fixation, cookie flags, path traversal, authorization, hidden
 * addresses, the login throttle and oversized requests.
 * docs/security.md lists each row with its test. */
#include "tests/helpers/live_markup.h"
#include "tests/helpers/sk_test_web.h"
#include "ingest/sk_ingest.h"
#include "web/private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NOW 1735689600 /* 2025-01-01 00:00 UTC */
#define PASSWORD SK_TEST_PASSWORD
#define XSS_MID "xss-html@brzozowka.example"
#define XSS_MID_URL "xss-html%40brzozowka.example"

struct fx {
	struct sk_test_site site;
	int64_t thread_xss;
	const char *topic; /* a topic of the hostile thread, or NULL */
	char topic_buf[80];
	struct sk_web *web;
	uint16_t port;
};

static struct fx *the_fx;

/* ---- hostile mail --------------------------------------------------------- */

static const char mail_html[] =
    "Message-ID: <" XSS_MID ">\n"
    "From: \"\\\"><img src=x onerror=alert(1)>\" "
    "<a.kowalczyk@brzozowka.example>\n"
    "To: praktyki@lista.example\n"
    "Cc: \"<script>alert(0)</script>\" <p.zajac@jaskowo.example>\n"
    "Subject: [Zamówienia] <script>alert('temat')</script> regulamin "
    "zamówień <img src=x onerror=alert(11)>\n"
    "Date: Mon, 15 Jan 2024 09:12:00 +0100\n"
    "List-Id: Praktyki <praktyki.lista.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\n"
    "\n"
    "--b1\n"
    "Content-Type: text/html; charset=utf-8\n"
    "\n"
    "<html><head><script>alert(2)</script></head><body>"
    "<p onclick=\"alert(12)\">Regulamin zamówień: "
    "<img src=x onerror=alert(3)> "
    "<a href=\"javascript:alert(4)\">kliknij tutaj</a> "
    "<a href=\"https://bip.brzozowka.example/r\">bip</a> "
    "<iframe src=\"javascript:alert(13)\"></iframe>"
    "&lt;script&gt;alert(14)&lt;/script&gt; "
    "kontakt: a.kowalczyk@brzozowka.example</p></body></html>\n"
    "--b1\n"
    "Content-Type: text/html; name=\"<script>alert(5)</script>.html\"\n"
    "Content-Disposition: attachment; "
    "filename=\"\\\"><img src=x onerror=alert(6)>.html\"\n"
    "\n"
    "<script>alert(7)</script>\n"
    "--b1\n"
    "Content-Type: application/octet-stream\n"
    "Content-Disposition: attachment; filename=\"../../../etc/passwd\"\n"
    "\n"
    "root:x:0:0:not really\n"
    "--b1\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Disposition: attachment;\n"
    " filename*=utf-8''%3Cscript%3Ealert(15)%3C%2Fscript%3E%0D%0A"
    "Set-Cookie%3A%20x%3D1.txt\n"
    "\n"
    "plik\n"
    "--b1--\n";

static const char mail_plain[] =
    "Message-ID: <xss-plain@jaskowo.example>\n"
    "From: =?utf-8?Q?=3Cscript=3Ealert(20)=3C/script=3E?= "
    "<p.zajac@jaskowo.example>\n"
    "To: praktyki@lista.example\n"
    "Subject: Re: [Zamówienia] =?utf-8?Q?=3Cscript=3Ealert('temat')"
    "=3C/script=3E?= regulamin\n"
    "In-Reply-To: <" XSS_MID ">\n"
    "References: <" XSS_MID ">\n"
    "Date: Tue, 16 Jan 2024 10:00:00 +0100\n"
    "List-Id: <praktyki.lista.example>\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Regulamin w treści: <script>alert(8)</script> "
    "<img src=x onerror=alert(9)> javascript:alert(10) "
    "<a href=\"javascript:alert(16)\">x</a>\n"
    "Pisz: p.zajac@jaskowo.example lub <mailto:p.zajac@jaskowo.example>\n"
    "\n"
    "> <script>alert(17)</script> cytat\n";

/* Every address of the fixture: none may show to anonymous visitors. */
static const char *const addresses[] = {
	"a.kowalczyk@", "p.zajac@", "praktyki@", "anna@brzozowka",
	"koordynator@",
};

static int
ingest_hostile(const char *dir)
{
	struct sk_index *w = NULL;
	struct sk_ingest *ing = NULL;
	struct sk_ingest_settings set = { .workers = 1, .quiet = true };
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };
	const char *mails[] = { mail_html, mail_plain };

	w = sk_test_store_new(dir, 2, "praktyki@lista.example");
	if (!w || sk_ingest_new(w, &set, &ing, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(mails); i++)
		if (sk_ingest_submit(ing, mails[i], strlen(mails[i]), NULL,
		                     &err)) {
			fprintf(stderr, "setup: submit: %s\n", err.msg);
			return -1;
		}
	if (sk_ingest_flush(ing, &err)) {
		fprintf(stderr, "setup: flush: %s\n", err.msg);
		return -1;
	}
	sk_ingest_counts(ing, &n);
	if (sk_ingest_finish(&ing, &err) || n.stored != 2) {
		fprintf(stderr, "setup: stored %lld of 2: %s\n",
		        (long long)n.stored, err.msg);
		return -1;
	}
	if (sk_test_store_users(w, "Anna Czytelniczka", "Koordynator"))
		return -1;
	sk_index_close(&w);
	return 0;
}

static int
group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_arena *a = sk_arena_new(0);
	struct sk_err err = { 0 };
	struct sk_message_row row;
	struct sk_thread_row th;
	struct sk_message_row *msgs;
	size_t n;
	struct sk_viewer coord = { true, true };
	struct sk_web_settings s = { 0 };

	fx->site.dir = sk_test_tmpdir();
	/* The ingest forks its workers: before any thread starts. */
	if (ingest_hostile(fx->site.dir))
		return -1;
	if (sk_test_site_open(&fx->site, NULL) ||
	    sk_index_message(fx->site.ix, a, &coord, XSS_MID, &row, &err)) {
		fprintf(stderr, "setup: reader: %s\n", err.msg);
		return -1;
	}
	fx->thread_xss = row.thread_id;
	if (sk_index_thread(fx->site.ix, a, &coord, row.thread_id, &th, &msgs,
	                    &n, &err) == SK_OK &&
	    th.n_topics > 0) {
		snprintf(fx->topic_buf, sizeof(fx->topic_buf), "%s",
		         th.topics[0]);
		fx->topic = fx->topic_buf;
	}

	s.listen = "127.0.0.1:0";
	s.public_mode = true;
	s.threads = 2;
	s.request_bytes = 256 * 1024;
	s.timeout_seconds = 5;
	s.backend = SK_BACKEND_FTS5;
	if (sk_web_start(fx->site.dir, &s, &fx->web, &err)) {
		fprintf(stderr, "setup: start: %s\n", err.msg);
		return -1;
	}
	fx->port = sk_web_port(fx->web);
	sk_arena_free(&a);
	the_fx = fx;
	*state = fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fx *fx = *state;
	sk_web_stop(&fx->web);
	sk_test_site_close(&fx->site);
	free(fx);
	return 0;
}

/* ---- requests through sk_web_route ---------------------------------------- */

struct opts {
	bool public_mode;
	const char *cookie;
	const struct sk_param *form;
	size_t n_form;
	const char *base_url;
	const char *client;
	struct sk_web_state *state; /* NULL: the group's */
};

static struct sk_test_res
req(enum sk_method m, const char *target, const struct opts *o)
{
	static const struct opts none;
	struct sk_req q;
	struct sk_web_settings s;

	if (!o)
		o = &none;
	sk_test_req(&q, &s, m, target);
	s.public_mode = o->public_mode;
	s.base_url = o->base_url;
	q.method_name = m == SK_METHOD_POST ? "POST" : "GET";
	q.cookie = o->cookie;
	if (o->client)
		q.client = o->client;
	q.form = o->form;
	q.n_form = o->n_form;
	q.ix = the_fx->site.ix;
	q.state = o->state ? o->state : the_fx->site.state;
	return sk_test_route(&q);
}

static struct sk_test_res
get(const char *target, const char *cookie, bool public_mode)
{
	struct opts o = { .public_mode = public_mode, .cookie = cookie };
	return req(SK_METHOD_GET, target, &o);
}

/* Log in through the form as email from client; returns the Cookie header
 * to send afterwards (malloc'ed); *res_out (may be NULL) keeps the POST's
 * response. pre_cookie is sent along with the login cookie. */
static char *
login_as(const char *email, const char *pre_cookie, const char *base_url,
         struct sk_test_res *res_out)
{
	struct opts o = { .base_url = base_url };
	struct sk_test_res r = req(SK_METHOD_GET, "/zaloguj", &o);
	struct sk_param form[3];
	char *tok, *session, *cookie;
	char cbuf[512];

	assert_int_equal(r.status, 200);
	tok = sk_test_cookie_value(&r, "sk_login");
	assert_non_null(tok);
	sk_test_res_free(&r);
	form[0] = (struct sk_param){ "csrf", tok };
	form[1] = (struct sk_param){ "email", email };
	form[2] = (struct sk_param){ "password", PASSWORD };
	snprintf(cbuf, sizeof(cbuf), "%s%ssk_login=%s",
	         pre_cookie ? pre_cookie : "", pre_cookie ? "; " : "", tok);
	o.cookie = cbuf;
	o.form = form;
	o.n_form = 3;
	o.client = "198.51.100.1"; /* not the brute-force test's address */
	r = req(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 303);
	session = sk_test_cookie_value(&r, "sk_session");
	assert_non_null(session);
	assert_int_equal(strlen(session), 43);
	cookie = sk_xmalloc(strlen(session) + 16);
	snprintf(cookie, strlen(session) + 16, "sk_session=%s", session);
	free(session);
	free(tok);
	if (res_out)
		*res_out = r;
	else
		sk_test_res_free(&r);
	return cookie;
}

/* The CSRF token in a page's forms (malloc'ed), or NULL. */
static char *
csrf_of(const char *cookie)
{
	struct sk_test_res r = get("/", cookie, false);
	const char *f = strstr(r.body, "name=\"csrf\" value=\"");
	char *t = NULL;
	if (f)
		t = sk_xstrndup(f + strlen("name=\"csrf\" value=\""), 43);
	sk_test_res_free(&r);
	return t;
}

/* ---- what "no live markup" means ------------------------------------------ */

/* A tag that came from mail rather than from us: a script, an image, a
 * frame, an event handler, or a javascript:/vbscript:/data: URL in an
 * href, src or action attribute. */
static const char *
live_markup(const char *html, size_t n)
{
	static const char *const tags[] = { "<script", "<img", "<iframe",
		                            "<svg", "<object", "<embed" };
	for (const char *p = memchr(html, '<', n); p;
	     p = memchr(p + 1, '<', n - (size_t)(p + 1 - html))) {
		size_t rest = n - (size_t)(p - html);
		const char *e = memchr(p, '>', rest);
		size_t len = e ? (size_t)(e - p) : rest;
		for (size_t i = 0; i < SK_ARRAY_SIZE(tags); i++)
			if (rest >= strlen(tags[i]) &&
			    strncasecmp(p, tags[i], strlen(tags[i])) == 0)
				return p;
		if (sk_test_live_tag(p, len))
			return p;
		if (!e)
			break;
	}
	return NULL;
}

static void
assert_inert_html(const char *what, const char *body)
{
	const char *bad = live_markup(body, strlen(body));
	if (bad) {
		fprintf(stderr, "live markup in %s: %.80s\n", what, bad);
		fail();
	}
}

/* XML text back to what a feed reader sees. */
static char *
xml_unescape(const char *s, size_t n)
{
	static const struct {
		const char *ent, *ch;
	} ents[] = { { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		     { "&apos;", "'" }, { "&#39;", "'" }, { "&amp;", "&" } };
	char *o = sk_xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		bool done = false;
		for (size_t e = 0; e < SK_ARRAY_SIZE(ents) && !done; e++) {
			size_t l = strlen(ents[e].ent);
			if (i + l <= n && memcmp(s + i, ents[e].ent, l) == 0) {
				o[k++] = ents[e].ch[0];
				i += l;
				done = true;
			}
		}
		if (!done)
			o[k++] = s[i++];
	}
	o[k] = '\0';
	return o;
}

/* Atom: no live tag in the XML, and none in what type="html" elements
 * hold once the XML escaping is undone. */
static void
assert_inert_atom(const char *what, const char *body)
{
	const char *p = body;
	assert_inert_html(what, body);
	while ((p = strstr(p, "type=\"html\">"))) {
		const char *start = p + strlen("type=\"html\">");
		const char *end = strchr(start, '<');
		char *html;
		assert_non_null(end);
		html = xml_unescape(start, (size_t)(end - start));
		assert_inert_html(what, html);
		free(html);
		p = end;
	}
}

/* JSON: served as JSON that browsers never sniff, and any field meant as
 * HTML (..._html) is inert. */
static void
check_json_value(const char *what, const char *key, json_t *v)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
			check_json_value(what, k, x);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			check_json_value(what, key, x);
	} else if (json_is_string(v) && key && strstr(key, "html")) {
		assert_inert_html(what, json_string_value(v));
	}
}

static void
assert_inert_json(const char *what, const struct sk_test_res *r)
{
	json_error_t je;
	json_t *root;
	assert_string_equal(r->resp.content_type, "application/json");
	assert_string_equal(sk_resp_header(&r->resp, "X-Content-Type-Options"),
	                    "nosniff");
	root = json_loads(r->body, 0, &je);
	assert_non_null(root);
	check_json_value(what, NULL, root);
	json_decref(root);
}

static bool
shows_address(const char *body)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(addresses); i++)
		if (strstr(body, addresses[i]))
			return true;
	return false;
}

/* Every page that shows the hostile mail, as target + kind. */
struct page {
	const char *target;
	char kind; /* h html, a atom, j json */
};

static size_t
hostile_pages(struct sk_arena *a, struct page *out)
{
	size_t n = 0;
	long long t = (long long)the_fx->thread_xss;
	out[n++] = (struct page){ "/", 'h' };
	out[n++] = (struct page){ sk_arena_printf(a, "/watek/%lld", t), 'h' };
	out[n++] = (struct page){
		sk_arena_printf(a, "/watek/%lld?widok=plaski", t), 'h'
	};
	out[n++] = (struct page){ "/m/" XSS_MID_URL "/", 'h' };
	out[n++] = (struct page){ "/m/xss-plain%40jaskowo.example/", 'h' };
	out[n++] = (struct page){ "/szukaj?q=regulamin", 'h' };
	out[n++] = (struct page){ "/szukaj?q=script", 'h' };
	out[n++] = (struct page){ "/szukaj?q=alert", 'h' };
	out[n++] = (struct page){ "/szukaj?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		                  'h' };
	out[n++] = (struct page){ "/gmina/brzozowka", 'h' };
	out[n++] = (struct page){ "/gmina/jaskowo", 'h' };
	out[n++] = (struct page){ "/feed/szukaj.atom?q=regulamin", 'a' };
	out[n++] = (struct page){ "/feed/szukaj.atom?q=alert", 'a' };
	out[n++] = (struct page){ "/api/v1/search?q=regulamin", 'j' };
	out[n++] = (struct page){ sk_arena_printf(a, "/api/v1/thread/%lld", t),
		                  'j' };
	if (the_fx->topic) {
		out[n++] = (struct page){
			sk_arena_printf(a, "/temat/%s", the_fx->topic), 'h'
		};
		out[n++] = (struct page){
			sk_arena_printf(a, "/feed/temat/%s.atom", the_fx->topic),
			'a'
		};
	}
	return n;
}

/* ---- stored XSS ----------------------------------------------------------- */

static void
the_markup_check_catches_live_tags(void **state)
{
	static const char *const live[] = {
		"<p>x<script>alert(1)</script>",
		"<IMG SRC=x>",
		"<p onclick=\"alert(1)\">",
		"<div\tOnMouseOver=x>",
		"<a href=\" JavaScript:alert(1)\">",
		"<a href='javascript:alert(1)'>",
		"<form action=\"data:text/html,x\">",
		"<iframe src=x>",
	};
	static const char *const inert[] = {
		"<p>&lt;script&gt;alert(1)&lt;/script&gt; javascript:x "
		"onerror=alert(1)</p>",
		"<a title=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\" "
		"href=\"/watek/1\">x</a>",
		"<input type=\"hidden\" name=\"dalej\" "
		"value=\"/wjavascript:atek\">",
		"<a href=\"https://bip.example/javascript:x\">",
	};
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(live); i++)
		assert_non_null(live_markup(live[i], strlen(live[i])));
	for (size_t i = 0; i < SK_ARRAY_SIZE(inert); i++)
		assert_null(live_markup(inert[i], strlen(inert[i])));
}

static void
hostile_mail_is_stored_and_shown(void **state)
{
	struct sk_test_res r;
	(void)state;
	/* The pages below must really show the hostile text (escaped),
	 * or the XSS checks would prove nothing. */
	r = get("/m/" XSS_MID_URL "/", NULL, true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "&lt;script&gt;alert("));
	assert_non_null(strstr(r.body, "Regulamin zamówień"));
	sk_test_res_free(&r);
	r = get("/szukaj?q=regulamin", NULL, true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "&lt;script&gt;"));
	sk_test_res_free(&r);
}

static void
no_page_shows_live_markup_from_mail(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct page pages[24];
	size_t n = hostile_pages(a, pages);
	char *reader = login_as("anna@brzozowka.example", NULL, NULL, NULL);
	char *coord = login_as("koordynator@lista.example", NULL, NULL, NULL);
	const char *who[] = { NULL, reader, coord };

	(void)state;
	if (!the_fx->topic)
		printf("SKIP: the hostile thread got no topic: topic page and "
		       "feed not checked\n");
	for (size_t w = 0; w < SK_ARRAY_SIZE(who); w++) {
		for (size_t i = 0; i < n; i++) {
			struct sk_test_res r =
			    get(pages[i].target, who[w], true);
			if (r.status != 200) {
				fprintf(stderr, "%s: %d\n", pages[i].target,
				        r.status);
				fail();
			}
			if (pages[i].kind == 'h')
				assert_inert_html(pages[i].target, r.body);
			else if (pages[i].kind == 'a')
				assert_inert_atom(pages[i].target, r.body);
			else
				assert_inert_json(pages[i].target, &r);
			sk_test_res_free(&r);
		}
	}
	free(reader);
	free(coord);
	sk_arena_free(&a);
}

static void
attachment_names_cannot_inject_headers_or_markup(void **state)
{
	char *reader = login_as("anna@brzozowka.example", NULL, NULL, NULL);
	int seen = 0;

	(void)state;
	for (int pos = 0; pos < 6; pos++) {
		char t[128];
		struct sk_test_res r;
		const char *cd, *ct;
		snprintf(t, sizeof(t), "/m/%s/zalacznik/%d", XSS_MID_URL, pos);
		r = get(t, reader, false);
		if (r.status == 404) {
			sk_test_res_free(&r);
			continue;
		}
		assert_int_equal(r.status, 200);
		seen++;
		cd = sk_resp_header(&r.resp, "Content-Disposition");
		ct = r.resp.content_type;
		assert_non_null(cd);
		assert_true(sk_starts_with(cd, "attachment;"));
		/* No line breaks (header injection), no raw quote inside the
		 * quoted name, no path. */
		assert_null(strpbrk(cd, "\r\n"));
		assert_null(strstr(cd, "../"));
		assert_null(strstr(cd, "<script"));
		{
			const char *q = strstr(cd, "filename=\"");
			if (q) {
				q += 10;
				const char *e = strchr(q, '"');
				assert_non_null(e);
				assert_true(e[1] == '\0' || e[1] == ';');
			}
		}
		/* Never rendered as a page of ours. */
		assert_null(strstr(ct, "text/html"));
		assert_non_null(strstr(sk_resp_header(&r.resp,
		                                      "Content-Security-Policy"),
		                       "sandbox"));
		sk_test_res_free(&r);
	}
	assert_true(seen >= 3);
	free(reader);
}

/* ---- CSRF ----------------------------------------------------------------- */

static void
posts_without_the_right_token_are_refused(void **state)
{
	char *cookie = login_as("anna@brzozowka.example", NULL, NULL, NULL);
	char *csrf = csrf_of(cookie);
	struct sk_param wrong[] = {
		{ "csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }
	};
	struct opts o = { .cookie = cookie };
	struct sk_test_res r;

	(void)state;
	assert_non_null(csrf);
	/* Logout without a token, with a wrong one: 403, still logged in. */
	r = req(SK_METHOD_POST, "/wyloguj", &o);
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);
	o.form = wrong;
	o.n_form = 1;
	r = req(SK_METHOD_POST, "/wyloguj", &o);
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);
	r = get("/", cookie, false);
	assert_int_equal(r.status, 200);
	sk_test_res_free(&r);
	/* The login form's own token: missing or not the cookie's. */
	{
		struct sk_param f[] = { { "email", "anna@brzozowka.example" },
			                { "password", PASSWORD },
			                { "csrf", "x" } };
		struct opts lo = { .form = f, .n_form = 2 };
		r = req(SK_METHOD_POST, "/zaloguj", &lo);
		assert_int_equal(r.status, 403);
		assert_null(sk_test_cookie_line(&r, "sk_session"));
		sk_test_res_free(&r);
		lo.n_form = 3;
		lo.cookie = "sk_login=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
		r = req(SK_METHOD_POST, "/zaloguj", &lo);
		assert_int_equal(r.status, 403);
		assert_null(sk_test_cookie_line(&r, "sk_session"));
		sk_test_res_free(&r);
	}
	/* A coordinator's form without its token. */
	{
		char *coord = login_as("koordynator@lista.example", NULL, NULL,
		                       NULL);
		struct sk_param f[] = { { "tytul", "Notatka" },
			                { "tresc", "treść" } };
		struct opts co = { .cookie = coord, .form = f, .n_form = 2 };
		r = req(SK_METHOD_POST, "/spotkania/nowa", &co);
		if (r.status == 404)
			printf("SKIP: no /spotkania/nowa route yet\n");
		else
			assert_int_equal(r.status, 403);
		sk_test_res_free(&r);
		free(coord);
	}
	free(csrf);
	free(cookie);
}

/* ---- sessions and cookies ------------------------------------------------- */

static void
session_fixation_is_not_possible(void **state)
{
	const char *planted =
	    "sk_session=PlantedByAttackerPlantedByAttacker012345678";
	struct sk_test_res r;
	char *cookie, *again;

	(void)state;
	/* A made-up token is no session. */
	r = get("/", planted, false);
	assert_int_equal(r.status, 303);
	sk_test_res_free(&r);
	/* Logging in with it planted issues a different, fresh token. */
	cookie = login_as("anna@brzozowka.example", planted, NULL, NULL);
	assert_string_not_equal(cookie, planted);
	r = get("/", planted, false);
	assert_int_equal(r.status, 303);
	sk_test_res_free(&r);
	r = get("/", cookie, false);
	assert_int_equal(r.status, 200);
	sk_test_res_free(&r);
	/* Logging in again with a valid session still issues a new token. */
	again = login_as("anna@brzozowka.example", cookie, NULL, NULL);
	assert_string_not_equal(again, cookie);
	free(again);
	free(cookie);
}

static void
cookies_are_httponly_samesite_and_secure_on_https(void **state)
{
	struct sk_test_res r;
	struct opts o = { .base_url = "https://praktyki.example" };
	const char *l;
	char *c;

	(void)state;
	r = req(SK_METHOD_GET, "/zaloguj", NULL);
	l = sk_test_cookie_line(&r, "sk_login");
	assert_non_null(l);
	assert_non_null(strstr(l, "HttpOnly"));
	assert_non_null(strstr(l, "SameSite=Strict"));
	assert_null(strstr(l, "Secure"));
	sk_test_res_free(&r);
	r = req(SK_METHOD_GET, "/zaloguj", &o);
	l = sk_test_cookie_line(&r, "sk_login");
	assert_non_null(strstr(l, "; Secure"));
	sk_test_res_free(&r);

	c = login_as("anna@brzozowka.example", NULL, NULL, &r);
	l = sk_test_cookie_line(&r, "sk_session");
	assert_non_null(strstr(l, "HttpOnly"));
	assert_non_null(strstr(l, "SameSite=Lax"));
	assert_non_null(strstr(l, "Path=/"));
	assert_null(strstr(l, "Secure"));
	sk_test_res_free(&r);
	free(c);
	c = login_as("anna@brzozowka.example", NULL,
	             "https://praktyki.example", &r);
	l = sk_test_cookie_line(&r, "sk_session");
	assert_non_null(strstr(l, "HttpOnly"));
	assert_non_null(strstr(l, "SameSite=Lax"));
	assert_non_null(strstr(l, "; Secure"));
	sk_test_res_free(&r);
	free(c);
}

/* ---- path traversal ------------------------------------------------------- */

static void
traversal_in_message_and_attachment_routes_finds_nothing(void **state)
{
	static const char *const targets[] = {
		"/m/../../../etc/passwd/raw",
		"/m/..%2f..%2f..%2fetc%2fpasswd/raw",
		"/m/%2e%2e%2f%2e%2e%2fetc%2fpasswd/raw",
		"/m/%2e%2e/raw",
		"/m/..%5c..%5cetc%5cpasswd/raw",
		"/m/" XSS_MID_URL "%00/raw",
		"/m/" XSS_MID_URL "%00.html/",
		"/m/%00/",
		"/m/" XSS_MID_URL "/zalacznik/../../raw",
		"/m/" XSS_MID_URL "/zalacznik/..%2f0",
		"/m/" XSS_MID_URL "/zalacznik/%2e%2e",
		"/m/" XSS_MID_URL "/zalacznik/-1",
		"/m/" XSS_MID_URL "/zalacznik/0%00",
		"/m/" XSS_MID_URL "/zalacznik/99999999999999999999",
		"/m/" XSS_MID_URL "/../../etc/passwd",
		"/static/../../etc/passwd",
		"/static/%2e%2e/%2e%2e/etc/passwd",
		"/static/skarbnica.css/../../../etc/passwd",
		"/watek/..%2f1",
		"/watek/1%00.mbox",
		"/feed/temat/..%2f..%2fetc.atom",
		"/temat/%2e%2e",
		"/gmina/..%2f..",
	};
	char *cookie = login_as("anna@brzozowka.example", NULL, NULL, NULL);

	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(targets); i++) {
		struct sk_test_res r = get(targets[i], cookie, false);
		if (r.status != 400 && r.status != 404) {
			fprintf(stderr, "%s: %d\n", targets[i], r.status);
			fail();
		}
		assert_null(strstr(r.body, "root:x:0"));
		sk_test_res_free(&r);
	}
	free(cookie);
}

/* ---- authorization -------------------------------------------------------- */

static void
readers_cannot_reach_coordinator_pages(void **state)
{
	char *reader = login_as("anna@brzozowka.example", NULL, NULL, NULL);
	char *csrf = csrf_of(reader);
	struct sk_param f[] = { { "csrf", csrf },
		                { "tytul", "Notatka czytelnika" },
		                { "tresc", "Nie powinna powstać." },
		                { "kwartal", "2024-Q4" } };
	struct opts o = { .cookie = reader, .form = f, .n_form = 4 };
	struct sk_test_res r;

	(void)state;
	assert_non_null(csrf);
	r = req(SK_METHOD_POST, "/spotkania/nowa", &o);
	if (r.status == 404) {
		sk_test_res_free(&r);
		free(csrf);
		free(reader);
		printf("SKIP: no /spotkania/nowa route yet\n");
		skip();
	}
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);
	r = get("/spotkania/nowa", reader, false);
	assert_int_equal(r.status, 403);
	sk_test_res_free(&r);
	r = req(SK_METHOD_POST, "/spotkania/ponow", &o);
	assert_true(r.status == 403 || r.status == 404);
	sk_test_res_free(&r);
	/* Anonymous: to the login form, never the page. */
	r = get("/spotkania/nowa", NULL, true);
	assert_int_equal(r.status, 303);
	sk_test_res_free(&r);
	free(csrf);
	free(reader);
}

static void
anonymous_visitors_never_see_addresses(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct page pages[24];
	size_t n = hostile_pages(a, pages);

	(void)state;
	for (int pub = 0; pub < 2; pub++) {
		for (size_t i = 0; i < n; i++) {
			struct sk_test_res r = get(pages[i].target, NULL, pub);
			if (shows_address(r.body)) {
				fprintf(stderr, "%s (public=%d) shows an "
				                "address\n",
				        pages[i].target, pub);
				fail();
			}
			sk_test_res_free(&r);
		}
	}
	/* Raw mail and mbox carry every address: login only. */
	{
		struct sk_test_res r =
		    get("/m/" XSS_MID_URL "/raw", NULL, true);
		assert_int_equal(r.status, 303);
		assert_false(shows_address(r.body));
		sk_test_res_free(&r);
		r = get(sk_arena_printf(a, "/watek/%lld.mbox",
		                        (long long)the_fx->thread_xss),
		        NULL, true);
		assert_int_equal(r.status, 303);
		sk_test_res_free(&r);
	}
	sk_arena_free(&a);
}

/* ---- login throttle ------------------------------------------------------- */

static void
repeated_failed_logins_get_429(void **state)
{
	struct sk_web_state *st = sk_web_state_new();
	const char *tok = "LoginTokenLoginTokenLoginTokenLoginToken123";
	char cbuf[80];
	struct sk_param f[] = { { "csrf", tok },
		                { "email", "anna@brzozowka.example" },
		                { "password", "zle-haslo" } };
	struct opts o = { .form = f, .n_form = 3, .cookie = cbuf,
		          .client = "203.0.113.9", .state = st };
	struct sk_test_res r;
	int i;

	(void)state;
	snprintf(cbuf, sizeof(cbuf), "sk_login=%s", tok);
	for (i = 0; i < SK_WEB_LOGIN_FAILS; i++) {
		r = req(SK_METHOD_POST, "/zaloguj", &o);
		assert_int_equal(r.status, 403);
		sk_test_res_free(&r);
	}
	r = req(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 429);
	sk_test_res_free(&r);
	/* Even the right password is refused while throttled. */
	f[2].value = PASSWORD;
	r = req(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 429);
	assert_null(sk_test_cookie_line(&r, "sk_session"));
	sk_test_res_free(&r);
	/* Per address too: another client guessing the same mailbox. */
	o.client = "203.0.113.10";
	f[2].value = "inne-zle-haslo";
	r = req(SK_METHOD_POST, "/zaloguj", &o);
	assert_int_equal(r.status, 429);
	sk_test_res_free(&r);
	sk_web_state_free(&st);
}

/* ---- over real HTTP ------------------------------------------------------- */

static int
connect_local(void)
{
	struct sockaddr_in sa = { 0 };
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(the_fx->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Send head (and body_len bytes of 'x' after it, as far as the server
 * takes them), read the answer until the server closes. Returns the
 * status (0: closed without an answer); *resp_out (may be NULL) gets the
 * response, malloc'ed. */
static int
http_raw(const char *head, size_t body_len, char **resp_out)
{
	int fd = connect_local();
	struct sk_buf in;
	char buf[16384];
	size_t sent = 0;
	int status = 0;

	sk_buf_init(&in, 1u << 24);
	if (send(fd, head, strlen(head), MSG_NOSIGNAL) < 0)
		goto read_answer;
	memset(buf, 'x', sizeof(buf));
	while (sent < body_len) {
		size_t n = body_len - sent < sizeof(buf) ? body_len - sent
		                                         : sizeof(buf);
		struct pollfd p = { fd, POLLIN, 0 };
		/* Stop sending once the server has answered. */
		if (poll(&p, 1, 0) == 1)
			break;
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		sent += (size_t)w;
	}
read_answer:
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		sk_buf_add(&in, buf, (size_t)n);
	}
	close(fd);
	if (in.len > 12 && sk_starts_with(in.p, "HTTP/1."))
		status = (int)strtol(in.p + 9, NULL, 10);
	if (resp_out)
		*resp_out = sk_buf_take(&in, NULL);
	sk_buf_release(&in);
	return status;
}

static int
http_get(const char *target, char **resp_out)
{
	char head[4096];
	snprintf(head, sizeof(head),
	         "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
	         "\r\n",
	         target);
	return http_raw(head, 0, resp_out);
}

static void
server_stays_up(void)
{
	char *resp = NULL;
	assert_int_equal(http_get("/healthz", &resp), 200);
	assert_non_null(strstr(resp, "\r\n\r\nok\n"));
	free(resp);
}

static void
oversized_requests_are_refused_and_the_server_stays_up(void **state)
{
	struct sk_buf b;
	int st;
	char *resp = NULL;

	(void)state;
	/* A 200 kB header line. */
	sk_buf_init(&b, 1u << 20);
	sk_buf_adds(&b, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                "Connection: close\r\nX-Huge: ");
	for (int i = 0; i < 200 * 1024; i++)
		sk_buf_addc(&b, 'a');
	sk_buf_adds(&b, "\r\n\r\n");
	st = http_raw(b.p, 0, NULL);
	assert_true(st == 0 || st == 413 || st == 431 || st == 400);
	sk_buf_release(&b);
	server_stays_up();

	/* A 200 kB request target. */
	sk_buf_init(&b, 1u << 20);
	sk_buf_adds(&b, "GET /szukaj?q=");
	for (int i = 0; i < 200 * 1024; i++)
		sk_buf_addc(&b, 'a');
	sk_buf_adds(&b, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
	                "\r\n\r\n");
	st = http_raw(b.p, 0, NULL);
	assert_true(st == 0 || st == 413 || st == 414 || st == 431 ||
	            st == 400);
	sk_buf_release(&b);
	server_stays_up();

	/* Many headers. */
	sk_buf_init(&b, 1u << 22);
	sk_buf_adds(&b, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                "Connection: close\r\n");
	for (int i = 0; i < 20000; i++)
		sk_buf_addf(&b, "X-H%d: %d\r\n", i, i);
	sk_buf_adds(&b, "\r\n");
	st = http_raw(b.p, 0, NULL);
	assert_true(st == 0 || st == 413 || st == 431 || st == 400);
	sk_buf_release(&b);
	server_stays_up();

	/* A body declared over the cap: refused before it is read. */
	st = http_raw("POST /zaloguj HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	              "Connection: close\r\n"
	              "Content-Type: application/x-www-form-urlencoded\r\n"
	              "Content-Length: 10000000\r\n\r\n",
	              10000000, &resp);
	assert_true(st == 0 || st == 413);
	free(resp);
	resp = NULL;
	server_stays_up();

	/* A chunked body that grows past the cap. */
	{
		struct sk_buf c;
		sk_buf_init(&c, 1u << 22);
		sk_buf_adds(&c, "POST /zaloguj HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		                "Connection: close\r\n"
		                "Content-Type: application/"
		                "x-www-form-urlencoded\r\n"
		                "Transfer-Encoding: chunked\r\n\r\n"
		                "6\r\nemail=\r\n");
		for (int i = 0; i < 80; i++) {
			sk_buf_adds(&c, "1000\r\n");
			for (int k = 0; k < 4096; k++)
				sk_buf_addc(&c, 'a');
			sk_buf_adds(&c, "\r\n");
		}
		sk_buf_adds(&c, "0\r\n\r\n");
		st = http_raw(c.p, 0, &resp);
		if (!(st == 0 || st == 413)) {
			fprintf(stderr, "chunked body over the cap: %.300s\n",
			        resp);
			fail();
		}
		free(resp);
		resp = NULL;
		sk_buf_release(&c);
	}
	server_stays_up();

	/* One form field over 64 KiB, and 70 fields: 413. A value that is
	 * not UTF-8, or holds NUL: 400. */
	{
		static const char *const bodies[] = { NULL, NULL,
			                              "email=%FF%FE&x=1",
			                              "email=a%00b" };
		const int want[] = { 413, 413, 400, 400 };
		for (size_t k = 0; k < SK_ARRAY_SIZE(bodies); k++) {
			struct sk_buf f, h;
			sk_buf_init(&f, 1u << 20);
			if (k == 0) {
				sk_buf_adds(&f, "email=");
				for (int i = 0; i < 100 * 1024; i++)
					sk_buf_addc(&f, 'a');
			} else if (k == 1) {
				for (int i = 0; i < 70; i++)
					sk_buf_addf(&f, "%sf%d=%d",
					            i ? "&" : "", i, i);
			} else {
				sk_buf_adds(&f, bodies[k]);
			}
			sk_buf_init(&h, 1u << 21);
			sk_buf_addf(&h,
			            "POST /zaloguj HTTP/1.1\r\n"
			            "Host: 127.0.0.1\r\nConnection: close\r\n"
			            "Content-Type: application/"
			            "x-www-form-urlencoded\r\n"
			            "Content-Length: %zu\r\n\r\n",
			            f.len);
			sk_buf_add(&h, f.p, f.len);
			st = http_raw(h.p, 0, NULL);
			if (st != want[k]) {
				fprintf(stderr, "form %zu: %d, want %d\n", k,
				        st, want[k]);
				fail();
			}
			sk_buf_release(&f);
			sk_buf_release(&h);
		}
	}
	server_stays_up();
}

static void
odd_targets_and_ids_are_refused(void **state)
{
	struct sk_buf b;
	struct sk_test_res r;

	(void)state;
	r = get("x", NULL, true);
	assert_int_equal(r.status, 400);
	sk_test_res_free(&r);
	r = get("", NULL, true);
	assert_int_equal(r.status, 400);
	sk_test_res_free(&r);
	/* 65 query arguments. */
	sk_buf_init(&b, 1u << 16);
	sk_buf_adds(&b, "/szukaj?q=a");
	for (int i = 0; i < 64; i++)
		sk_buf_addf(&b, "&a%d=1", i);
	r = get(b.p, NULL, true);
	assert_int_equal(r.status, 400);
	sk_test_res_free(&r);
	sk_buf_release(&b);
	/* A Message-ID over 998 bytes. */
	sk_buf_init(&b, 1u << 16);
	sk_buf_adds(&b, "/m/");
	for (int i = 0; i < 1000; i++)
		sk_buf_addc(&b, 'a');
	sk_buf_adds(&b, "%40x/");
	r = get(b.p, NULL, true);
	assert_int_equal(r.status, 400);
	sk_test_res_free(&r);
	sk_buf_release(&b);
	/* A search query over the form's limit: a Polish 400, not a 500. */
	sk_buf_init(&b, 1u << 16);
	sk_buf_adds(&b, "/szukaj?q=");
	for (int i = 0; i < SK_WEB_QUERY_MAX + 10; i++)
		sk_buf_addc(&b, 'a');
	r = get(b.p, NULL, true);
	assert_int_equal(r.status, 400);
	sk_test_res_free(&r);
	sk_buf_release(&b);
	/* A page number that is not one. */
	r = get("/szukaj?q=regulamin&strona=-1", NULL, true);
	assert_int_equal(r.status, 400);
	sk_test_res_free(&r);
	r = get("/szukaj?q=regulamin&strona=99999999999999999999", NULL, true);
	assert_int_equal(r.status, 400);
	sk_test_res_free(&r);
}

static void
bad_requests_over_http_get_errors_not_files(void **state)
{
	static const char *const targets[] = {
		"/m/..%2f..%2fetc%2fpasswd/raw",
		"/static/../../../../etc/passwd",
		"/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/../../../../etc/passwd",
		"/m/%00/",
		"/szukaj?q=%",
		"/szukaj?q=%C3%28",
	};
	char *resp = NULL;
	int st;

	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(targets); i++) {
		st = http_get(targets[i], &resp);
		if (!(st == 400 || st == 404 || st == 303)) {
			fprintf(stderr, "%s: %d\n", targets[i], st);
			fail();
		}
		assert_null(strstr(resp, "root:x:0"));
		free(resp);
		resp = NULL;
	}
	/* Unknown and odd methods. */
	st = http_raw("BREW / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	              "Connection: close\r\n\r\n",
	              0, NULL);
	assert_true(st == 405 || st == 501 || st == 400);
	st = http_raw("DELETE /watek/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	              "Connection: close\r\n\r\n",
	              0, NULL);
	assert_true(st == 405 || st == 501);
	st = http_raw("TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	              "Connection: close\r\n\r\n",
	              0, &resp);
	assert_true(st == 405 || st == 501 || st == 400);
	assert_null(strstr(resp ? resp : "", "TRACE / HTTP"));
	free(resp);
	resp = NULL;
	/* Garbage instead of a request line. */
	st = http_raw("\x01\x02\x03 not http at all\r\n\r\n", 0, NULL);
	assert_true(st == 0 || st == 400);
	server_stays_up();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_markup_check_catches_live_tags),
		cmocka_unit_test(hostile_mail_is_stored_and_shown),
		cmocka_unit_test(no_page_shows_live_markup_from_mail),
		cmocka_unit_test(attachment_names_cannot_inject_headers_or_markup),
		cmocka_unit_test(posts_without_the_right_token_are_refused),
		cmocka_unit_test(session_fixation_is_not_possible),
		cmocka_unit_test(cookies_are_httponly_samesite_and_secure_on_https),
		cmocka_unit_test(traversal_in_message_and_attachment_routes_finds_nothing),
		cmocka_unit_test(odd_targets_and_ids_are_refused),
		cmocka_unit_test(readers_cannot_reach_coordinator_pages),
		cmocka_unit_test(anonymous_visitors_never_see_addresses),
		cmocka_unit_test(repeated_failed_logins_get_429),
		cmocka_unit_test(oversized_requests_are_refused_and_the_server_stays_up),
		cmocka_unit_test(bad_requests_over_http_get_errors_not_files),
	};
	return cmocka_run_group_tests_name("web/security", tests, group_setup,
	                                   group_teardown);
}
