/* web/route.c: one request in, one response out — no sockets, no MHD.
 * Parses the request target, finds who is looking (session cookie), picks
 * the handler, enforces who may see what, and puts the security headers on
 * every answer. Pages themselves live in pages.c, export.c and auth.c. */
#include "web/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSP                                                                    \
	"default-src 'none'; style-src 'self'; img-src 'self'; "               \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* ---- response basics ----------------------------------------------------- */

void
sk_resp_init(struct sk_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->route = "other";
	sk_buf_init(&r->body, SK_WEB_PAGE_MAX);
}

void
sk_resp_release(struct sk_resp *r)
{
	sk_buf_release(&r->body);
}

const char *
sk_resp_header(const struct sk_resp *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

void
sk_ctx_header(struct sk_ctx *c, const char *name, const char *value)
{
	struct sk_resp *r = c->resp;

	for (size_t i = 0; i < r->n_headers; i++) {
		if (strcasecmp(r->headers[i].name, name) == 0 &&
		    strcasecmp(name, "Set-Cookie") != 0) {
			r->headers[i].value = value;
			return;
		}
	}
	if (r->n_headers == SK_RESP_MAX_HEADERS)
		SK_BUG("too many response headers");
	r->headers[r->n_headers].name = name;
	r->headers[r->n_headers].value = value;
	r->n_headers++;
}

/* ---- request target ------------------------------------------------------ */

char *
sk_web_decode(struct sk_arena *a, const char *s, size_t n, bool plus_space)
{
	char *out = sk_arena_alloc(a, n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return NULL;
			hi = sk_hex_digit(s[i + 1]);
			lo = sk_hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return NULL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (!sk_utf8_valid(out, o))
		return NULL;
	return out;
}

void
sk_web_parse_target(struct sk_arena *a, const char *target,
                    struct sk_target *out)
{
	const char *q = strchr(target, '?');
	const char *hash = strchr(target, '#');
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (hash && (!q || hash < q))
		q = NULL;
	out->path = target;
	out->path_len = q ? (size_t)(q - target)
	                  : (hash ? (size_t)(hash - target) : strlen(target));
	if (!q)
		return;
	q++;
	size_t qlen = hash && hash > q ? (size_t)(hash - q) : strlen(q);
	for (size_t i = 0; i < qlen; i++)
		cap += q[i] == '&';
	cap++;
	if (cap > 64) {
		out->bad = true;
		return;
	}
	out->args = sk_arena_alloc(a, cap * sizeof(*out->args));
	for (size_t i = 0; i < qlen;) {
		const char *p = q + i;
		const char *amp = memchr(p, '&', qlen - i);
		size_t len = amp ? (size_t)(amp - p) : qlen - i;
		const char *eq = memchr(p, '=', len);
		i += len + 1;
		if (!len)
			continue;
		size_t klen = eq ? (size_t)(eq - p) : len;
		char *k = sk_web_decode(a, p, klen, true);
		char *v = eq ? sk_web_decode(a, eq + 1, len - klen - 1, true)
		             : sk_arena_strdup(a, "");
		if (!k || !v) {
			out->bad = true;
			continue;
		}
		out->args[out->n_args].name = k;
		out->args[out->n_args].value = v;
		out->n_args++;
	}
}

const char *
sk_web_arg(const struct sk_param *args, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(args[i].name, name) == 0)
			return args[i].value;
	return NULL;
}

/* ---- pages shared by every handler --------------------------------------- */

const char *
sk_ctx_base_url(struct sk_ctx *c)
{
	const struct sk_web_settings *s = c->req->settings;
	const char *host = c->req->host;

	if (s && s->base_url && *s->base_url)
		return s->base_url;
	/* Only a plausible host name goes into links we build from it. */
	if (!host || !*host || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789.-:[]") != strlen(host))
		host = "localhost";
	return sk_arena_printf(c->a, "http://%s", host);
}

bool
sk_ctx_page_arg(struct sk_ctx *c, int64_t *page_out)
{
	const char *v = sk_web_arg(c->t.args, c->t.n_args, "strona");

	*page_out = 1;
	if (!v || !*v)
		return true;
	return sk_parse_i64(v, 1, SK_WEB_MAX_PAGE, page_out, NULL) == SK_OK;
}

void
sk_ctx_page_begin(struct sk_ctx *c, struct sk_page *p)
{
	if (c->session.valid) {
		p->user_name = c->session.name && *c->session.name
		                   ? c->session.name
		                   : c->session.email;
		p->csrf = c->session.csrf;
		p->coordinator = c->viewer.coordinator;
	} else {
		p->show_login = true;
	}
	sk_page_begin(&c->resp->body, p);
}

void
sk_ctx_html_done(struct sk_ctx *c)
{
	c->resp->content_type = "text/html; charset=utf-8";
	if (sk_buf_status(&c->resp->body) != SK_OK) {
		sk_log(SK_LOG_ERR, "web: page for '%s' over %u bytes",
		       c->req->target, SK_WEB_PAGE_MAX);
		sk_buf_release(&c->resp->body);
		sk_buf_init(&c->resp->body, SK_WEB_PAGE_MAX);
		sk_ctx_error(c, 500,
		             "Ta strona jest zbyt duża, by ją "
		             "pokazać.");
	}
}

static const struct {
	int status;
	const char *title;
	const char *text;
} errors[] = {
	{ 400, "Nieprawidłowe żądanie",
	  "Adres strony albo dane formularza zawierają błąd. Sprawdź adres "
	  "lub wróć i spróbuj jeszcze raz." },
	{ 403, "Brak dostępu", "Nie masz dostępu do tej strony." },
	{ 404, "Nie znaleziono strony",
	  "Pod tym adresem nic nie ma. Link mógł być niepełny albo "
	  "wiadomość nie jest dostępna." },
	{ 405, "Niedozwolona metoda",
	  "Ta strona nie obsługuje takiego żądania." },
	{ 413, "Za duże żądanie", "Wysłane dane są zbyt duże." },
	{ 415, "Nieobsługiwany format danych",
	  "Formularz został wysłany w formacie, którego nie obsługujemy." },
	{ 429, "Zbyt wiele prób",
	  "Zbyt wiele nieudanych prób. Odczekaj kwadrans i spróbuj "
	  "ponownie." },
	{ 500, "Błąd serwera",
	  "Coś poszło nie tak po naszej stronie. Spróbuj ponownie za "
	  "chwilę." },
	{ 503, "Serwis chwilowo niedostępny",
	  "Archiwum jest chwilowo niedostępne. Spróbuj ponownie za "
	  "chwilę." },
};

void
sk_ctx_error(struct sk_ctx *c, int status, const char *message)
{
	struct sk_buf *b = &c->resp->body;
	const char *title = "Błąd", *text = "";
	struct sk_page p = { 0 };

	for (size_t i = 0; i < SK_ARRAY_SIZE(errors); i++) {
		if (errors[i].status == status) {
			title = errors[i].title;
			text = errors[i].text;
		}
	}
	if (message)
		text = message;
	c->resp->status = status;
	sk_buf_release(b); /* also clears a sticky SK_ETOOBIG */
	if (status == 503)
		sk_ctx_header(c, "Retry-After", "30");
	if (c->json) {
		sk_buf_adds(b, "{\"error\":");
		sk_buf_add_json_str(b, text);
		sk_buf_adds(b, "}\n");
		c->resp->content_type = "application/json";
		return;
	}
	if (c->plain) {
		sk_buf_adds(b, title);
		sk_buf_adds(b, ": ");
		sk_buf_adds(b, text);
		sk_buf_addc(b, '\n');
		c->resp->content_type = "text/plain; charset=utf-8";
		return;
	}
	p.title = title;
	p.header_search = true;
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>");
	sk_buf_add_htmls(b, title);
	sk_buf_adds(b, "</h1>\n<p class=\"lead\">");
	sk_buf_add_htmls(b, text);
	sk_buf_adds(b, "</p>\n<p><a href=\"/\">Strona główna</a> · "
	               "<a href=\"/szukaj\">Wyszukiwarka</a></p>\n");
	sk_page_end(b, &p);
	c->resp->content_type = "text/html; charset=utf-8";
}

void
sk_ctx_fail(struct sk_ctx *c, enum sk_status rc, const struct sk_err *err,
            const char *what)
{
	switch (rc) {
	case SK_ENOTFOUND:
		sk_ctx_error(c, 404, NULL);
		return;
	case SK_EINVAL:
		sk_ctx_error(c, 400, NULL);
		return;
	case SK_EAGAIN:
		sk_ctx_error(c, 503, NULL);
		return;
	default:
		sk_log(SK_LOG_ERR, "web: %s: %s", what,
		       err && err->msg[0] ? err->msg : sk_status_name(rc));
		sk_ctx_error(c, 500, NULL);
		return;
	}
}

struct sk_index *
sk_ctx_writer(struct sk_ctx *c)
{
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (c->wix)
		return c->wix;
	if (!c->req->data_dir) {
		sk_ctx_error(c, 503, NULL);
		return NULL;
	}
	rc = sk_index_open(c->req->data_dir,
	                   SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN, &c->wix, &err);
	if (rc) {
		c->wix = NULL;
		sk_ctx_fail(c, rc == SK_ENOTFOUND ? SK_EIO : rc, &err,
		            "open the store for writing");
		return NULL;
	}
	return c->wix;
}

void
sk_ctx_redirect(struct sk_ctx *c, int status, const char *location)
{
	c->resp->status = status;
	sk_buf_release(&c->resp->body);
	sk_ctx_header(c, "Location", location);
	c->resp->content_type = "text/plain; charset=utf-8";
	sk_buf_adds(&c->resp->body, "Przekierowanie\n");
}

/* ---- access -------------------------------------------------------------- */

/* Send a browser to the login form; it comes back here afterwards. */
static void
to_login(struct sk_ctx *c)
{
	struct sk_buf b;
	const char *q = strchr(c->req->target, '?');

	sk_buf_init(&b, 4096);
	sk_buf_adds(&b, "/zaloguj?dalej=");
	sk_buf_add_url(&b, c->t.path, c->t.path_len);
	if (q && strlen(q) < 2000)
		sk_buf_add_url(&b, q, strlen(q));
	c->json = c->plain = false;
	sk_ctx_redirect(c, 303,
	                sk_buf_status(&b) == SK_OK ? sk_arena_strdup(c->a, b.p)
	                                           : "/zaloguj");
	sk_buf_release(&b);
}

/* Threads, messages and search: logged in, or anyone in public mode.
 * Otherwise HTML pages go to the login form; API and feed clients get
 * 403. */
static bool
may_read(struct sk_ctx *c)
{
	const struct sk_web_settings *s = c->req->settings;

	if (c->viewer.logged_in || (s && s->public_mode))
		return true;
	if (c->json || c->plain)
		sk_ctx_error(c, 403, "Zaloguj się, aby zobaczyć archiwum.");
	else
		to_login(c);
	return false;
}

/* Raw mail and mbox carry every address: logged-in partners only, also in
 * public mode. People get there by clicking a link, so they are sent to
 * the login form. */
static bool
may_read_raw(struct sk_ctx *c)
{
	if (c->viewer.logged_in)
		return true;
	to_login(c);
	return false;
}

/* Coordinators and admins: others go to the login form or get 403. */
static bool
may_coordinate(struct sk_ctx *c)
{
	if (!c->viewer.logged_in) {
		to_login(c);
		return false;
	}
	if (c->session.role == SK_ROLE_READER) {
		sk_ctx_error(c, 403,
		             "Tę stronę widzą tylko koordynatorzy "
		             "partnerstwa.");
		return false;
	}
	return true;
}

/* Any logged-in user. */
static bool
may_account(struct sk_ctx *c)
{
	if (c->viewer.logged_in)
		return true;
	to_login(c);
	return false;
}

static bool
need_store(struct sk_ctx *c)
{
	if (c->req->ix)
		return true;
	sk_ctx_error(c, 503, NULL);
	return false;
}

/* ---- path pieces --------------------------------------------------------- */

/* Does the path start with lit? Then *rest is what follows. */
static bool
path_prefix(struct sk_ctx *c, const char *lit, const char **rest,
            size_t *rest_len)
{
	size_t l = strlen(lit);
	if (c->t.path_len < l || memcmp(c->t.path, lit, l) != 0)
		return false;
	*rest = c->t.path + l;
	*rest_len = c->t.path_len - l;
	return true;
}

static bool
path_is(struct sk_ctx *c, const char *lit)
{
	return c->t.path_len == strlen(lit) &&
	       memcmp(c->t.path, lit, c->t.path_len) == 0;
}

/* A slug segment: decoded, [a-z0-9-], 1..64 bytes. NULL otherwise. */
static const char *
slug_of(struct sk_ctx *c, const char *s, size_t n)
{
	char *d = sk_web_decode(c->a, s, n, false);
	if (!d || !*d || strlen(d) > 64 ||
	    strspn(d, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(d))
		return NULL;
	return d;
}

/* Decimal digits only, at most 18 of them (no sign, no overflow). */
static bool
number_of(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* A store id: a number from 1. */
static bool
id_of(const char *s, size_t n, int64_t *out)
{
	return number_of(s, n, out) && *out > 0;
}

/* ---- dispatch ------------------------------------------------------------ */

enum allow { ALLOW_GET, ALLOW_POST, ALLOW_GET_POST };

static bool
method_ok(struct sk_ctx *c, enum allow allow)
{
	enum sk_method m = c->req->method;
	bool ok = false;

	switch (allow) {
	case ALLOW_GET:
		ok = m == SK_METHOD_GET || m == SK_METHOD_HEAD;
		break;
	case ALLOW_POST:
		ok = m == SK_METHOD_POST;
		break;
	case ALLOW_GET_POST:
		ok = m == SK_METHOD_GET || m == SK_METHOD_HEAD ||
		     m == SK_METHOD_POST;
		break;
	}
	if (ok)
		return true;
	sk_ctx_header(c, "Allow",
	              allow == ALLOW_GET    ? "GET, HEAD"
	              : allow == ALLOW_POST ? "POST"
	                                    : "GET, HEAD, POST");
	sk_ctx_error(c, 405, NULL);
	return false;
}

static void
robots(struct sk_ctx *c)
{
	const struct sk_web_settings *s = c->req->settings;
	c->resp->content_type = "text/plain; charset=utf-8";
	if (s && s->public_mode)
		sk_buf_adds(&c->resp->body,
		            "User-agent: *\nDisallow: /szukaj\n"
		            "Disallow: /feed/szukaj.atom\nDisallow: /api/\n"
		            "Disallow: /zaloguj\nDisallow: /konto\n"
		            "Disallow: /wypisz\nDisallow: /spotkania/nowa\n");
	else
		sk_buf_adds(&c->resp->body, "User-agent: *\nDisallow: /\n");
}

static void
css(struct sk_ctx *c)
{
	c->resp->content_type = "text/css; charset=utf-8";
	sk_ctx_header(c, "Cache-Control",
	              "public, max-age=31536000, immutable");
	sk_buf_add(&c->resp->body, sk_web_css, sk_web_css_len());
}

/* /m/MESSAGE-ID/..., the Message-ID percent-encoded. */
static void
message_routes(struct sk_ctx *c, const char *rest, size_t n)
{
	const char *slash = memchr(rest, '/', n);
	size_t seg = slash ? (size_t)(slash - rest) : n;
	const char *tail = slash ? slash : rest + n;
	size_t tail_len = n - seg;
	char *mid;

	c->resp->route = "message";
	mid = sk_web_decode(c->a, rest, seg, false);
	if (!mid || strlen(mid) > 998) {
		sk_ctx_error(c, 400,
		             "Nieprawidłowy identyfikator wiadomości "
		             "w adresie.");
		return;
	}
	if (mid[0] == '<' && mid[1] && mid[strlen(mid) - 1] == '>') {
		mid[strlen(mid) - 1] = '\0';
		mid++;
	}
	if (!*mid) {
		sk_ctx_error(c, 404, NULL);
		return;
	}
	if (tail_len == 0) {
		struct sk_buf b;
		sk_buf_init(&b, 4096);
		sk_buf_adds(&b, "/m/");
		sk_buf_add_url(&b, mid, strlen(mid));
		sk_buf_addc(&b, '/');
		sk_ctx_redirect(c, 301, sk_arena_strdup(c->a, b.p));
		sk_buf_release(&b);
		return;
	}
	if (tail_len == 1) {
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_page_message(c, mid);
		return;
	}
	if (tail_len == 4 && memcmp(tail, "/raw", 4) == 0) {
		c->resp->route = "message_raw";
		c->plain = true;
		if (method_ok(c, ALLOW_GET) && may_read_raw(c) && need_store(c))
			sk_export_raw(c, mid);
		return;
	}
	if (tail_len > 11 && memcmp(tail, "/zalacznik/", 11) == 0) {
		int64_t pos;
		c->resp->route = "attachment";
		if (!number_of(tail + 11, tail_len - 11, &pos) ||
		    pos > 100000) {
			sk_ctx_error(c, 404, NULL);
			return;
		}
		c->plain = true;
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_export_attachment(c, mid, (int)pos);
		return;
	}
	sk_ctx_error(c, 404, NULL);
}

static void
dispatch(struct sk_ctx *c)
{
	const char *rest;
	size_t n;
	int64_t id;

	/* Routes open to everyone. */
	if (path_is(c, "/static/skarbnica.css")) {
		c->resp->route = "static";
		if (method_ok(c, ALLOW_GET))
			css(c);
		return;
	}
	if (path_is(c, "/robots.txt")) {
		c->resp->route = "static";
		if (method_ok(c, ALLOW_GET))
			robots(c);
		return;
	}
	if (path_is(c, "/healthz")) {
		c->resp->route = "healthz";
		c->plain = true;
		if (method_ok(c, ALLOW_GET))
			sk_export_healthz(c);
		return;
	}
	if (path_is(c, "/metrics")) {
		c->resp->route = "metrics";
		c->plain = true;
		if (method_ok(c, ALLOW_GET) && need_store(c))
			sk_export_metrics(c);
		return;
	}
	if (path_is(c, "/zaloguj")) {
		c->resp->route = "login";
		if (!method_ok(c, ALLOW_GET_POST) || !need_store(c))
			return;
		if (c->req->method == SK_METHOD_POST)
			sk_auth_login_post(c);
		else
			sk_auth_login_form(c);
		return;
	}
	if (path_is(c, "/zaloguj/wyslij-link")) {
		c->resp->route = "login_link_request";
		if (method_ok(c, ALLOW_POST) && need_store(c))
			sk_auth_link_request(c);
		return;
	}
	if (path_is(c, "/zaloguj/link")) {
		c->resp->route = "login_link";
		if (!method_ok(c, ALLOW_GET_POST) || !need_store(c))
			return;
		if (c->req->method == SK_METHOD_POST)
			sk_auth_link_post(c);
		else
			sk_auth_link_form(c);
		return;
	}
	if (path_is(c, "/wypisz")) {
		/* RFC 8058 one-click: the token is the authorisation. */
		c->resp->route = "unsubscribe";
		if (method_ok(c, ALLOW_GET_POST) && need_store(c))
			sk_account_unsubscribe(c);
		return;
	}
	if (path_is(c, "/konto")) {
		c->resp->route = "account";
		if (!method_ok(c, ALLOW_GET_POST) || !need_store(c) ||
		    !may_account(c))
			return;
		if (c->req->method == SK_METHOD_POST)
			sk_account_post(c);
		else
			sk_account_page(c);
		return;
	}
	if (path_is(c, "/spotkania/nowa")) {
		c->resp->route = "note_new";
		if (!method_ok(c, ALLOW_GET_POST) || !need_store(c) ||
		    !may_coordinate(c))
			return;
		if (c->req->method == SK_METHOD_POST)
			sk_notes_post(c);
		else
			sk_notes_form(c);
		return;
	}
	if (path_is(c, "/spotkania/ponow")) {
		c->resp->route = "note_requeue";
		if (method_ok(c, ALLOW_POST) && need_store(c) &&
		    may_coordinate(c))
			sk_notes_requeue(c);
		return;
	}
	if (sk_curate_path(c)) {
		/* Coordinators' curation pages (curate.c). */
		if (method_ok(c, ALLOW_GET_POST) && need_store(c) &&
		    may_coordinate(c))
			sk_curate_dispatch(c);
		return;
	}
	if (path_is(c, "/wyloguj")) {
		c->resp->route = "logout";
		if (method_ok(c, ALLOW_POST) && need_store(c))
			sk_auth_logout_post(c);
		return;
	}

	/* The archive: readers only (or everyone in public mode). */
	if (path_is(c, "/")) {
		c->resp->route = "start";
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_page_start(c);
		return;
	}
	if (path_is(c, "/szukaj")) {
		c->resp->route = "search";
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_page_search(c);
		return;
	}
	if (path_is(c, "/spotkania")) {
		c->resp->route = "meetings";
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_page_topic(c, "spotkania", true);
		return;
	}
	if (path_prefix(c, "/temat/", &rest, &n)) {
		const char *slug = slug_of(c, rest, n);
		c->resp->route = "topic";
		if (!slug)
			sk_ctx_error(c, 404, NULL);
		else if (method_ok(c, ALLOW_GET) && may_read(c) &&
		         need_store(c))
			sk_page_topic(c, slug, false);
		return;
	}
	if (path_prefix(c, "/gmina/", &rest, &n)) {
		const char *slug = slug_of(c, rest, n);
		c->resp->route = "partner";
		if (!slug)
			sk_ctx_error(c, 404, NULL);
		else if (method_ok(c, ALLOW_GET) && may_read(c) &&
		         need_store(c))
			sk_page_partner(c, slug);
		return;
	}
	if (path_is(c, "/praktyki")) {
		c->resp->route = "practices";
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_page_practices(c);
		return;
	}
	if (path_prefix(c, "/praktyka/", &rest, &n) && n > 0 &&
	    !memchr(rest, '/', n)) {
		c->resp->route = "practice";
		if (!id_of(rest, n, &id))
			sk_ctx_error(c, 400,
			             "Nieprawidłowy numer praktyki w adresie.");
		else if (method_ok(c, ALLOW_GET) && may_read(c) &&
		         need_store(c))
			sk_page_practice(c, id);
		return;
	}
	if (path_is(c, "/dla-nowych")) {
		c->resp->route = "onboarding";
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_page_onboarding(c);
		return;
	}
	if (path_is(c, "/slownik")) {
		c->resp->route = "glossary";
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_page_glossary(c);
		return;
	}
	if (path_is(c, "/kwartaly")) {
		c->resp->route = "quarters";
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_page_quarters(c);
		return;
	}
	if (path_prefix(c, "/kwartal/", &rest, &n)) {
		/* /kwartal/2025-1: the year, a hyphen, the quarter 1-4. */
		int64_t year;
		c->resp->route = "quarter";
		if (n != 6 || rest[4] != '-' || rest[5] < '1' ||
		    rest[5] > '4' || !number_of(rest, 4, &year) || year < 1970)
			sk_ctx_error(c, 400,
			             "Nieprawidłowy kwartał w adresie: "
			             "podaj rok i numer kwartału, np. "
			             "/kwartal/2025-1.");
		else if (method_ok(c, ALLOW_GET) && may_read(c) &&
		         need_store(c))
			sk_page_quarter(c, sk_arena_printf(c->a, "%lld-Q%c",
			                                   (long long)year,
			                                   rest[5]));
		return;
	}
	if (path_prefix(c, "/watek/", &rest, &n)) {
		if (n > 5 && memcmp(rest + n - 5, ".mbox", 5) == 0) {
			c->resp->route = "thread_mbox";
			c->plain = true;
			if (!id_of(rest, n - 5, &id))
				sk_ctx_error(c, 404, NULL);
			else if (method_ok(c, ALLOW_GET) && may_read_raw(c) &&
			         need_store(c))
				sk_export_mbox(c, id);
			return;
		}
		if (n > 8 && memcmp(rest + n - 8, "/podobne", 8) == 0) {
			c->resp->route = "thread_similar";
			if (!id_of(rest, n - 8, &id))
				sk_ctx_error(c, 404, NULL);
			else if (method_ok(c, ALLOW_GET) && may_read(c) &&
			         need_store(c))
				sk_page_similar(c, id);
			return;
		}
		c->resp->route = "thread";
		if (!id_of(rest, n, &id))
			sk_ctx_error(c, 404, NULL);
		else if (method_ok(c, ALLOW_GET) && may_read(c) &&
		         need_store(c))
			sk_page_thread(c, id);
		return;
	}
	if (path_prefix(c, "/m/", &rest, &n)) {
		message_routes(c, rest, n);
		return;
	}
	if (path_prefix(c, "/feed/temat/", &rest, &n)) {
		const char *slug = NULL;
		c->resp->route = "feed_topic";
		c->plain = true;
		if (n > 5 && memcmp(rest + n - 5, ".atom", 5) == 0)
			slug = slug_of(c, rest, n - 5);
		if (!slug)
			sk_ctx_error(c, 404, NULL);
		else if (method_ok(c, ALLOW_GET) && may_read(c) &&
		         need_store(c))
			sk_export_feed_topic(c, slug);
		return;
	}
	if (path_is(c, "/feed/praktyki.atom")) {
		c->resp->route = "feed_practices";
		c->plain = true;
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_export_feed_practices(c);
		return;
	}
	if (path_is(c, "/feed/szukaj.atom")) {
		c->resp->route = "feed_search";
		c->plain = true;
		if (method_ok(c, ALLOW_GET) && may_read(c) && need_store(c))
			sk_export_feed_search(c);
		return;
	}
	if (path_prefix(c, "/api/v1/", &rest, &n)) {
		c->json = true;
		if (n == 6 && memcmp(rest, "search", 6) == 0) {
			c->resp->route = "api_search";
			if (method_ok(c, ALLOW_GET) && may_read(c) &&
			    need_store(c))
				sk_export_api_search(c);
			return;
		}
		if (n == 6 && memcmp(rest, "topics", 6) == 0) {
			c->resp->route = "api_topics";
			if (method_ok(c, ALLOW_GET) && may_read(c) &&
			    need_store(c))
				sk_export_api_topics(c);
			return;
		}
		if (n > 7 && memcmp(rest, "thread/", 7) == 0) {
			c->resp->route = "api_thread";
			if (!id_of(rest + 7, n - 7, &id))
				sk_ctx_error(c, 404, "Nie ma takiego wątku.");
			else if (method_ok(c, ALLOW_GET) && may_read(c) &&
			         need_store(c))
				sk_export_api_thread(c, id);
			return;
		}
		if (n == 8 && memcmp(rest, "praktyki", 8) == 0) {
			c->resp->route = "api_practices";
			if (method_ok(c, ALLOW_GET) && may_read(c) &&
			    need_store(c))
				sk_export_api_practices(c);
			return;
		}
		if (n > 9 && memcmp(rest, "praktyka/", 9) == 0) {
			c->resp->route = "api_practice";
			if (!id_of(rest + 9, n - 9, &id))
				sk_ctx_error(c, 400,
				             "Nieprawidłowy numer praktyki.");
			else if (method_ok(c, ALLOW_GET) && may_read(c) &&
			         need_store(c))
				sk_export_api_practice(c, id);
			return;
		}
		c->resp->route = "not_found";
		sk_ctx_error(c, 404, "Nie ma takiego zasobu API.");
		return;
	}
	c->resp->route = "not_found";
	sk_ctx_error(c, 404, NULL);
}

/* host[:port] of an origin or base URL ("https://x.example:8443/..."). */
static struct sk_str
url_host(const char *u)
{
	const char *p = strstr(u, "://");
	struct sk_str h;

	p = p ? p + 3 : u;
	h.p = p;
	h.n = strcspn(p, "/?#");
	return h;
}

/* A browser names the page a POST comes from in Origin. When it does, it
 * must be us: defence in depth next to the CSRF tokens and SameSite. Only
 * host[:port] is compared, so a TLS-terminating proxy in front (https
 * outside, http here) does not matter. No Origin (old clients, curl):
 * the CSRF token decides alone. */
static bool
same_origin(const struct sk_req *req)
{
	const struct sk_web_settings *s = req->settings;
	struct sk_str o, ours;

	if (!req->origin)
		return true;
	if (strcmp(req->origin, "null") == 0)
		return false;
	o = url_host(req->origin);
	if (s && s->base_url && *s->base_url)
		ours = url_host(s->base_url);
	else if (req->host)
		ours = (struct sk_str){ req->host, strlen(req->host) };
	else
		return false;
	return o.n == ours.n && strncasecmp(o.p, ours.p, o.n) == 0;
}

static enum sk_method
method_from_name(const char *m)
{
	if (!m)
		return SK_METHOD_OTHER;
	if (strcmp(m, "GET") == 0)
		return SK_METHOD_GET;
	if (strcmp(m, "HEAD") == 0)
		return SK_METHOD_HEAD;
	if (strcmp(m, "POST") == 0)
		return SK_METHOD_POST;
	return SK_METHOD_OTHER;
}

void
sk_web_route(const struct sk_req *req, struct sk_arena *a, struct sk_resp *resp)
{
	struct sk_ctx c = { .req = req, .a = a, .resp = resp };
	struct sk_req fixed;
	struct sk_err err = { 0 };
	const char *target = req->target ? req->target : "";

	if (req->method == SK_METHOD_OTHER && req->method_name) {
		fixed = *req;
		fixed.method = method_from_name(req->method_name);
		c.req = &fixed;
	}
	resp->status = 200;
	resp->route = "other";
	sk_web_parse_target(a, target, &c.t);

	if (req->ix && req->cookie) {
		enum sk_status rc = sk_web_session(c.req, a, &c.session, &err);
		if (rc != SK_OK) {
			sk_log(SK_LOG_WARNING, "web: session lookup: %s",
			       err.msg);
			memset(&c.session, 0, sizeof(c.session));
		}
	}
	c.viewer.logged_in = c.session.valid;
	c.viewer.coordinator =
	    c.session.valid && c.session.role != SK_ROLE_READER;
	c.hide_addrs = !c.session.valid;

	if (target[0] != '/') {
		sk_ctx_error(&c, 400, NULL);
	} else if (c.t.bad) {
		sk_ctx_error(&c, 400,
		             "Adres zawiera nieprawidłowo zakodowane "
		             "znaki.");
	} else if (req->body_status) {
		sk_ctx_error(&c, req->body_status, NULL);
	} else if (c.req->method == SK_METHOD_POST && !same_origin(c.req)) {
		resp->route = "other";
		sk_ctx_error(&c, 403, "Formularz wysłano z innej strony.");
	} else {
		dispatch(&c);
	}
	sk_index_close(&c.wix);

	/* Every response, errors included. A handler may tighten the CSP. */
	if (!sk_resp_header(resp, "Content-Security-Policy"))
		sk_ctx_header(&c, "Content-Security-Policy", CSP);
	sk_ctx_header(&c, "X-Content-Type-Options", "nosniff");
	if (!sk_resp_header(resp, "Referrer-Policy"))
		sk_ctx_header(&c, "Referrer-Policy", "same-origin");
	sk_ctx_header(&c, "X-Frame-Options", "DENY");
	if (!sk_resp_header(resp, "Cache-Control"))
		sk_ctx_header(&c, "Cache-Control",
		              c.session.valid ? "private, no-store"
		                              : "no-cache");
	if (!resp->content_type)
		resp->content_type = "text/html; charset=utf-8";
}
