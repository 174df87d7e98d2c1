/* tests/test_web_http.c: the server over real HTTP on 127.0.0.1 (port 0,
 * read back from the daemon) with a tiny socket client — headers and
 * bodies on the wire, HEAD, POST bodies and their caps, concurrent
 * requests on per-thread store handles, and shutdown by SIGTERM. */
#include "tests/helpers/sk_test.h"
#include "index/sk_index.h"
#include "web/sk_web.h"
#include "mailer/sk_mailer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct fx {
	char *dir;
	struct sk_web *web;
	uint16_t port;
};

static struct fx *the_fx;

static int
group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_index *w = NULL;
	struct sk_err err = { 0 };
	struct sk_message m = { 0 };
	struct sk_web_settings s = { 0 };
#define S(x) ((char *)(x))
	const struct sk_partner_conf partners[] = {
		{ S("brzozowka"), S("Gmina Brzozówka"), S("gmina"),
		  S("brzozowka.example") },
	};
#undef S
	static const char raw[] =
	    "Message-ID: <h-1@brzozowka.example>\r\n"
	    "From: Anna <a.kowalczyk@brzozowka.example>\r\n"
	    "Subject: Harmonogram odbioru odpadów\r\n\r\n"
	    "Harmonogram na 2024 rok.\r\n";

	fx->dir = sk_test_tmpdir();
	if (sk_index_open(fx->dir,
	                  SK_INDEX_CREATE | SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
	                  &w, &err) ||
	    sk_index_load_taxonomy(w, sk_index_default_taxonomy(), &err) ||
	    sk_index_sync_partners(w, partners, 1, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	m.raw = raw;
	m.raw_len = strlen(raw);
	m.message_id = "h-1@brzozowka.example";
	m.subject = "Harmonogram odbioru odpadów";
	m.from_name = "Anna Kowalczyk";
	m.from_addr = "a.kowalczyk@brzozowka.example";
	m.date = 1705306320;
	m.body = "Harmonogram na 2024 rok.\n";
	m.quote_start = strlen(m.body);
	if (sk_index_add_message(w, &m, NULL, &err)) {
		fprintf(stderr, "setup: add: %s\n", err.msg);
		return -1;
	}
	if (sk_index_user_set(w, "koordynator@brzozowka.example", "Koordynator",
	                      SK_ROLE_COORDINATOR, "tajne-haslo-123", &err)) {
		fprintf(stderr, "setup: user: %s\n", err.msg);
		return -1;
	}
	sk_index_close(&w);

	static struct sk_mail_settings ms = {
		.from = "skarbnica@lista.example",
		.list_address = "praktyki@lista.example",
	};
	s.note_compose = sk_mail_note_compose;
	s.note_compose_ctx = &ms;
	s.listen = "127.0.0.1:0";
	s.public_mode = true;
	s.threads = 3;
	s.request_bytes = 4096;
	s.backend = SK_BACKEND_FTS5;
	if (sk_web_start(fx->dir, &s, &fx->web, &err)) {
		fprintf(stderr, "setup: start: %s\n", err.msg);
		return -1;
	}
	fx->port = sk_web_port(fx->web);
	if (!fx->port)
		return -1;
	the_fx = fx;
	*state = fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fx *fx = *state;
	sk_web_stop(&fx->web);
	assert_null(fx->web);
	sk_test_rmdir(&fx->dir);
	free(fx);
	return 0;
}

/* ---- a tiny HTTP/1.1 client ---------------------------------------------- */

struct reply {
	int status;
	char *head; /* status line and headers */
	char *body;
	size_t body_len;
};

static void
reply_free(struct reply *r)
{
	free(r->head);
	free(r->body);
}

/* Send raw request bytes (with "Connection: close"), read to EOF. */
static struct reply
exchange(uint16_t port, const char *request, size_t len)
{
	struct reply r = { 0 };
	struct sockaddr_in sa = { 0 };
	struct timeval tv = { .tv_sec = 20 };
	struct sk_buf in;
	char buf[8192];
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	for (size_t off = 0; off < len;) {
		n = send(fd, request + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server may answer early and close */
		off += (size_t)n;
	}
	sk_buf_init(&in, 64u << 20);
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		sk_buf_add(&in, buf, (size_t)n);
	close(fd);
	char *sep = strstr(in.p, "\r\n\r\n");
	assert_non_null(sep);
	r.head = sk_xstrndup(in.p, (size_t)(sep - in.p) + 2);
	r.body_len = in.len - (size_t)(sep + 4 - in.p);
	r.body = sk_xmalloc(r.body_len + 1);
	memcpy(r.body, sep + 4, r.body_len);
	r.body[r.body_len] = '\0';
	assert_true(sscanf(r.head, "HTTP/1.1 %d", &r.status) == 1);
	sk_buf_release(&in);
	return r;
}

static struct reply
request(const char *method, const char *target, const char *extra)
{
	char req[4096];
	snprintf(req, sizeof(req),
	         "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
	         "%s\r\n",
	         method, target, extra ? extra : "");
	return exchange(the_fx->port, req, strlen(req));
}

/* The value of header name (first occurrence), malloc'ed, or NULL. */
static char *
header(const struct reply *r, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(r->head, "\r\n"); p;
	     p = strstr(p + 2, "\r\n")) {
		const char *l = p + 2;
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *v = l + n + 1, *e = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			return sk_xstrndup(v, (size_t)(e - v));
		}
	}
	return NULL;
}

static void
assert_header(const struct reply *r, const char *name, const char *value)
{
	char *v = header(r, name);
	if (!v)
		fprintf(stderr, "no header %s in:\n%s\n", name, r->head);
	assert_non_null(v);
	assert_string_equal(v, value);
	free(v);
}

/* ---- tests --------------------------------------------------------------- */

static void
start_page_over_http(void **state)
{
	struct reply r = request("GET", "/", NULL);
	char *len;

	(void)state;
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", "text/html; charset=utf-8");
	assert_header(&r, "X-Content-Type-Options", "nosniff");
	assert_header(&r, "Referrer-Policy", "same-origin");
	assert_header(&r, "Content-Security-Policy",
	              "default-src 'none'; style-src 'self'; img-src 'self'; "
	              "form-action 'self'; frame-ancestors 'none'; "
	              "base-uri 'none'");
	len = header(&r, "Content-Length");
	assert_non_null(len);
	assert_int_equal(strtoul(len, NULL, 10), r.body_len);
	free(len);
	assert_non_null(strstr(r.body, "<html lang=\"pl\">"));
	assert_non_null(strstr(r.body, "Harmonogram odbioru odpadów"));
	reply_free(&r);
}

static void
head_has_headers_and_no_body(void **state)
{
	struct reply g = request("GET", "/", NULL);
	struct reply h = request("HEAD", "/", NULL);
	char *len;

	(void)state;
	assert_int_equal(h.status, 200);
	assert_int_equal(h.body_len, 0);
	len = header(&h, "Content-Length");
	assert_non_null(len);
	assert_int_equal(strtoul(len, NULL, 10), g.body_len);
	free(len);
	assert_header(&h, "X-Content-Type-Options", "nosniff");
	reply_free(&g);
	reply_free(&h);
}

static void
encoded_message_ids_reach_the_router_raw(void **state)
{
	struct reply r;

	(void)state;
	r = request("GET", "/m/h-1%40brzozowka.example/", NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Harmonogram na 2024 rok."));
	assert_null(strstr(r.body, "a.kowalczyk@"));
	reply_free(&r);
	/* %2F stays inside the id: no such message, but not a bad route. */
	r = request("GET", "/m/h-1%2Fx%40brzozowka.example/", NULL);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	r = request("GET", "/m/%ZZ/", NULL);
	assert_int_equal(r.status, 400);
	reply_free(&r);
	r = request("GET", "/szukaj?q=harmonogram+odpad%C3%B3w", NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "value=\"harmonogram odpadów\""));
	reply_free(&r);
}

static void
other_methods_get_405(void **state)
{
	struct reply r;
	char *allow;

	(void)state;
	r = request("PUT", "/", "Content-Length: 3\r\n\r\nabc");
	assert_int_equal(r.status, 405);
	allow = header(&r, "Allow");
	assert_non_null(allow);
	assert_string_equal(allow, "GET, HEAD");
	free(allow);
	reply_free(&r);
	r = request("DELETE", "/watek/1", NULL);
	assert_int_equal(r.status, 405);
	reply_free(&r);
}

static void
post_bodies_are_capped_and_typed(void **state)
{
	char req[1024];
	struct reply r;

	(void)state;
	/* Announced as too big: refused before the body is read. */
	snprintf(req, sizeof(req),
	         "POST /zaloguj HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	         "Content-Type: application/x-www-form-urlencoded\r\n"
	         "Content-Length: 100000\r\n\r\nemail=a");
	r = exchange(the_fx->port, req, strlen(req));
	assert_int_equal(r.status, 413);
	reply_free(&r);

	/* Chunked, growing past the cap while it is read. */
	struct sk_buf big;
	sk_buf_init(&big, 1 << 20);
	sk_buf_adds(&big, "POST /zaloguj HTTP/1.1\r\nHost: x\r\n"
	                  "Connection: close\r\nContent-Type: "
	                  "application/x-www-form-urlencoded\r\n"
	                  "Transfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 8; i++) {
		sk_buf_adds(&big, "400\r\n");
		for (int k = 0; k < 1024; k++)
			sk_buf_addc(&big, 'a');
		sk_buf_adds(&big, "\r\n");
	}
	sk_buf_adds(&big, "0\r\n\r\n");
	r = exchange(the_fx->port, big.p, big.len);
	assert_int_equal(r.status, 413);
	reply_free(&r);
	sk_buf_release(&big);

	/* Not a form. */
	snprintf(req, sizeof(req),
	         "POST /zaloguj HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	         "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"
	         "{}");
	r = exchange(the_fx->port, req, strlen(req));
	assert_int_equal(r.status, 415);
	reply_free(&r);

	/* A proper form without the login cookie: refused by CSRF (or 503
	 * while index/ has no sessions), never a 500. */
	static const char form[] = "email=a%40b.example&password=x&csrf=";
	snprintf(req, sizeof(req),
	         "POST /zaloguj HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	         "Content-Type: application/x-www-form-urlencoded\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         strlen(form), form);
	r = exchange(the_fx->port, req, strlen(req));
	assert_true(r.status == 403 || r.status == 503);
	reply_free(&r);
}

static void
healthz_and_metrics(void **state)
{
	struct reply r;

	(void)state;
	r = request("GET", "/healthz", NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	reply_free(&r);
	r = request("GET", "/metrics", NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "skarbnica_http_requests_total{route="
	                               "\"start\",status=\"200\"}"));
	assert_non_null(strstr(r.body, "skarbnica_http_request_duration_"
	                               "seconds_bucket{route=\"start\""));
	assert_non_null(strstr(r.body, "skarbnica_messages 1\n"));
	reply_free(&r);
}

static void *
hammer(void *arg)
{
	static const char *const targets[] = { "/", "/szukaj?q=harmonogram",
		                               "/m/h-1%40brzozowka.example/",
		                               "/api/v1/topics", "/healthz" };
	intptr_t bad = 0;
	(void)arg;
	for (int i = 0; i < 20; i++) {
		const char *t = targets[i % SK_ARRAY_SIZE(targets)];
		char req[512];
		snprintf(req, sizeof(req),
		         "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		         "\r\n",
		         t);
		struct reply r = exchange(the_fx->port, req, strlen(req));
		if (r.status != 200)
			bad++;
		reply_free(&r);
	}
	return (void *)bad;
}

static void
concurrent_requests_use_their_own_handles(void **state)
{
	pthread_t th[6];
	void *bad;

	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(th); i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (size_t i = 0; i < SK_ARRAY_SIZE(th); i++) {
		assert_int_equal(pthread_join(th[i], &bad), 0);
		assert_int_equal((intptr_t)bad, 0);
	}
}

static void
missing_store_is_503_not_a_crash(void **state)
{
	char *empty = sk_test_tmpdir();
	struct sk_web_settings s = { .listen = "127.0.0.1:0",
		                     .public_mode = true };
	struct sk_web *web = NULL;
	struct sk_err err = { 0 };
	char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: "
	             "close\r\n\r\n";
	char req2[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct reply r;

	(void)state;
	assert_int_equal(sk_web_start(empty, &s, &web, &err), SK_OK);
	r = exchange(sk_web_port(web), req, strlen(req));
	assert_int_equal(r.status, 503);
	reply_free(&r);
	r = exchange(sk_web_port(web), req2, strlen(req2));
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.body, "<html lang=\"pl\">"));
	reply_free(&r);
	sk_web_stop(&web);
	sk_test_rmdir(&empty);
}

static void
bad_listen_addresses_are_refused(void **state)
{
	static const char *const bad[] = { "127.0.0.1", "127.0.0.1:99999",
		                           "[::1:80", "127.0.0.1:x" };
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(bad); i++) {
		struct sk_web_settings s = { .listen = bad[i] };
		struct sk_web *web = NULL;
		struct sk_err err = { 0 };
		assert_int_equal(sk_web_start(the_fx->dir, &s, &web, &err),
		                 SK_EINVAL);
		assert_null(web);
		assert_true(err.msg[0] != '\0');
	}
}

struct serve_arg {
	const char *dir;
	enum sk_status rc;
};

static void *
serve_thread(void *p)
{
	struct serve_arg *a = p;
	struct sk_web_settings s = { .listen = "127.0.0.1:0" };
	struct sk_err err = { 0 };
	a->rc = sk_web_serve(a->dir, &s, &err);
	return NULL;
}

static void
serve_stops_on_sigterm(void **state)
{
	struct serve_arg a = { the_fx->dir, SK_EIO };
	sigset_t term, old;
	pthread_t th;

	(void)state;
	/* Blocked here first, so the new thread starts with it blocked and
	 * an early signal waits for sigwait() instead of killing us. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	assert_int_equal(pthread_create(&th, NULL, serve_thread, &a), 0);
	usleep(200 * 1000);
	assert_int_equal(pthread_kill(th, SIGTERM), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(a.rc, SK_OK);
}


/* The value of cookie name from the Set-Cookie headers of r (malloc'ed). */
static char *
reply_cookie(const struct reply *r, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(r->head, "\r\n"); p;
	     p = strstr(p + 2, "\r\n")) {
		const char *l = p + 2;
		if (strncasecmp(l, "Set-Cookie: ", 12) == 0 &&
		    strncmp(l + 12, name, n) == 0 && l[12 + n] == '=') {
			const char *v = l + 12 + n + 1;
			return sk_xstrndup(v, strcspn(v, ";\r"));
		}
	}
	return NULL;
}

/* A multipart/form-data POST of the note form with one file of size
 * bytes. */
static struct reply
post_note(const char *cookie, const char *csrf, size_t size)
{
	struct sk_buf body, req;
	struct reply r;
	const char *bd = "----skarbnica-granica";
	static const char *const fields[][2] = {
		{ "kwartal", "2024-Q1" },
		{ "tytul", "Spotkanie z załącznikiem" },
		{ "temat", "zamowienia" },
		{ "tresc", "Notatka z *plikiem*." },
	};

	sk_buf_init(&body, 1u << 20);
	sk_buf_addf(&body,
	            "--%s\r\nContent-Disposition: form-data; name=\"csrf\"\r\n"
	            "\r\n%s\r\n",
	            bd, csrf);
	for (size_t i = 0; i < SK_ARRAY_SIZE(fields); i++)
		sk_buf_addf(&body,
		            "--%s\r\nContent-Disposition: form-data; "
		            "name=\"%s\"\r\n\r\n%s\r\n",
		            bd, fields[i][0], fields[i][1]);
	sk_buf_addf(&body,
	            "--%s\r\nContent-Disposition: form-data; "
	            "name=\"zalacznik\"; filename=\"lista.txt\"\r\n"
	            "Content-Type: text/plain\r\n\r\n",
	            bd);
	for (size_t i = 0; i < size; i++)
		sk_buf_addc(&body, i % 64 ? 'x' : '\n');
	sk_buf_addf(&body,
	            "\r\n--%s\r\nContent-Disposition: form-data; "
	            "name=\"zalacznik\"; filename=\"\"\r\n"
	            "Content-Type: application/octet-stream\r\n\r\n\r\n--%s--"
	            "\r\n",
	            bd, bd);
	sk_buf_init(&req, 2u << 20);
	sk_buf_addf(&req,
	            "POST /spotkania/nowa HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	            "Connection: close\r\nCookie: %s\r\n"
	            "Content-Type: multipart/form-data; boundary=%s\r\n"
	            "Content-Length: %zu\r\n\r\n",
	            cookie, bd, body.len);
	sk_buf_add(&req, body.p, body.len);
	r = exchange(the_fx->port, req.p, req.len);
	sk_buf_release(&body);
	sk_buf_release(&req);
	return r;
}

static void
note_with_an_attachment_over_http(void **state)
{
	struct reply r;
	char extra[512], *login, *session, *csrf, cookie[128];
	static const char form_fmt[] =
	    "csrf=%s&email=koordynator%%40brzozowka.example"
	    "&password=tajne-haslo-123";
	char form[256], req[2048];
	const char *f;

	(void)state;
	r = request("GET", "/zaloguj", NULL);
	login = reply_cookie(&r, "sk_login");
	assert_non_null(login);
	reply_free(&r);
	snprintf(form, sizeof(form), form_fmt, login);
	snprintf(req, sizeof(req),
	         "POST /zaloguj HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	         "Connection: close\r\nCookie: sk_login=%s\r\n"
	         "Content-Type: application/x-www-form-urlencoded\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         login, strlen(form), form);
	r = exchange(the_fx->port, req, strlen(req));
	assert_int_equal(r.status, 303);
	session = reply_cookie(&r, "sk_session");
	assert_non_null(session);
	reply_free(&r);
	snprintf(cookie, sizeof(cookie), "sk_session=%s", session);
	snprintf(extra, sizeof(extra), "Cookie: %s\r\n", cookie);
	r = request("GET", "/spotkania/nowa", extra);
	assert_int_equal(r.status, 200);
	f = strstr(r.body, "name=\"csrf\" value=\"");
	assert_non_null(f);
	csrf = sk_xstrndup(f + strlen("name=\"csrf\" value=\""), 43);
	reply_free(&r);

	/* Over the cap (request_bytes is 4096 here): refused. */
	r = post_note(cookie, csrf, 5000);
	assert_int_equal(r.status, 413);
	reply_free(&r);

	/* A small file reaches the note, the empty file part is dropped. */
	r = post_note(cookie, csrf, 700);
	if (r.status != 303)
		fprintf(stderr, "%s\n%s\n", r.head, r.body);
	assert_int_equal(r.status, 303);
	char *loc = header(&r, "Location");
	assert_true(sk_starts_with(loc, "/watek/"));
	free(loc);
	reply_free(&r);

	struct sk_index *w = NULL;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_outbox_row *rows, ob;
	size_t n = 0;
	struct sk_err err = { 0 };
	enum sk_status rc_pos;
	assert_int_equal(sk_index_open(the_fx->dir,
	                               SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN, &w,
	                               &err),
	                 SK_OK);
	assert_int_equal(sk_index_outbox_list(w, a, -1, 0, &rows, &n, &err),
	                 SK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(sk_index_outbox_get(w, a, rows[0].id, &ob, &err),
	                 SK_OK);
	assert_non_null(strstr(ob.raw, "filename=\"lista.txt\""));
	/* The archived copy holds the file, byte for byte. */
	struct sk_viewer v = { true, true };
	struct sk_attachment_row ar;
	const void *data = NULL;
	size_t len = 0;
	rc_pos = sk_index_attachment(w, a, &v, ob.message_id, 0, &ar, &data,
	                             &len, &err);
	if (rc_pos == SK_ENOTFOUND)
		rc_pos = sk_index_attachment(w, a, &v, ob.message_id, 1, &ar,
		                             &data, &len, &err);
	assert_int_equal(rc_pos, SK_OK);
	assert_int_equal(len, 700);
	assert_string_equal(ar.filename, "lista.txt");
	sk_index_close(&w);
	sk_arena_free(&a);
	free(login);
	free(session);
	free(csrf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(start_page_over_http),
		cmocka_unit_test(head_has_headers_and_no_body),
		cmocka_unit_test(encoded_message_ids_reach_the_router_raw),
		cmocka_unit_test(other_methods_get_405),
		cmocka_unit_test(post_bodies_are_capped_and_typed),
		cmocka_unit_test(healthz_and_metrics),
		cmocka_unit_test(concurrent_requests_use_their_own_handles),
		cmocka_unit_test(missing_store_is_503_not_a_crash),
		cmocka_unit_test(bad_listen_addresses_are_refused),
		cmocka_unit_test(serve_stops_on_sigterm),
		/* Last: it adds a message the counts above do not expect. */
		cmocka_unit_test(note_with_an_attachment_over_http),
	};
	return cmocka_run_group_tests_name("web/http", tests, group_setup,
	                                   group_teardown);
}
