/* tests/fuzz/fuzz_http.c: sk_web_route() — the whole HTTP layer without
 * sockets — over a small store built once at start-up (hostile mail
 * included). An input is a flags byte, then lines:
 *
 *   FLAGS METHOD \n TARGET \n COOKIE \n ORIGIN \n BODY...
 *
 * BODY is an application/x-www-form-urlencoded form, decoded the way the
 * server hands it over (a value that is not UTF-8 or holds NUL refuses
 * the body with 400). FLAGS: 1 public mode, 2 https base_url, 4 add a
 * reader's session cookie, 8 a coordinator's, 16 add that session's CSRF
 * token to the form, 32 no store (the 503 paths).
 * Invariants: a known status, a content type, the security headers, and
 * no live markup from the hostile mail in any HTML page. */
#include "fuzz_common.h"
#include "tests/helpers/live_markup.h"
#include "index/sk_index.h"
#include "web/private.h"

#include <stdint.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1735689600 /* 2025-01-01 */
/* Session tokens (43 base64url characters) the seeds may use. */
#define READER_TOKEN "fuzzReaderSessionToken0000000000000000000000"
#define COORD_TOKEN "fuzzCoordSessionToken00000000000000000000000"
#define READER_CSRF "fuzzReaderCsrfToken000000000000000000000000"
#define COORD_CSRF "fuzzCoordCsrfToken0000000000000000000000000"

static char store_dir[64];
static struct sk_index *store_ix;
static struct sk_web_state *web_state;

static void
add(struct sk_index *w, struct sk_arena *a, const char *id, const char *name,
    const char *addr, const char *subject, const char *body,
    const char *irt, time_t date, const char *file)
{
	struct sk_message m = { 0 };
	struct sk_attachment at = { 0 };
	struct sk_err err = { 0 };

	m.raw = sk_arena_printf(a,
	                        "Message-ID: <%s>\nFrom: %s <%s>\n"
	                        "Subject: %s\n\n%s\n",
	                        id, name, addr, subject, body);
	m.raw_len = strlen(m.raw);
	m.message_id = id;
	m.subject = subject;
	m.from_name = name;
	m.from_addr = addr;
	m.to_addrs = "praktyki@lista.example";
	m.cc_addrs = "";
	m.date = date;
	m.in_reply_to = irt;
	if (irt) {
		m.references = sk_arena_alloc(a, sizeof(char *));
		m.references[0] = irt;
		m.n_references = 1;
	}
	m.list_id = "praktyki.lista.example";
	m.body = body;
	m.quote_start = strlen(body);
	if (file) {
		at.filename = file;
		at.content_type = "text/html";
		at.data = "<script>alert(1)</script>";
		at.size = strlen(at.data);
		at.text = "regulamin";
		at.extract_status = "ok";
		m.attachments = &at;
		m.n_attachments = 1;
	}
	if (sk_index_add_message(w, &m, NULL, &err)) {
		fprintf(stderr, "fuzz_http: add %s: %s\n", id, err.msg);
		abort();
	}
}

static void
remove_store(void)
{
	char cmd[128];
	sk_index_close(&store_ix);
	sk_web_state_free(&web_state);
	if (store_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", store_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz_http: cannot remove %s\n", store_dir);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sk_index *w = NULL;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_err err = { 0 };
	struct sk_user_row u;
#define S(x) ((char *)(x))
	const struct sk_partner_conf partners[] = {
		{ S("brzozowka"), S("Gmina Brzozówka"), S("gmina"),
		  S("brzozowka.example") },
		{ S("jaskowo"), S("Gmina Jaśkowo"), S("gmina"),
		  S("jaskowo.example") },
	};
#undef S

	(void)argc;
	(void)argv;
	sk_log_set_level(SK_LOG_ERR);
	snprintf(store_dir, sizeof(store_dir), "/tmp/sk-fuzz-http.XXXXXX");
	if (!mkdtemp(store_dir))
		abort();
	atexit(remove_store);
	if (sk_index_open(store_dir,
	                  SK_INDEX_CREATE | SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
	                  &w, &err) ||
	    sk_index_load_taxonomy(w, sk_index_default_taxonomy(), &err) ||
	    sk_index_sync_partners(w, partners, 2, &err) ||
	    sk_index_meta_set(w, "list.address", "praktyki@lista.example",
	                      &err)) {
		fprintf(stderr, "fuzz_http: setup: %s\n", err.msg);
		abort();
	}
	add(w, a, "reg-1@brzozowka.example", "Anna Kowalczyk",
	    "a.kowalczyk@brzozowka.example", "Regulamin zamówień",
	    "Czy ktoś ma regulamin zamówień? https://bip.example/r\n"
	    "a.kowalczyk@brzozowka.example\n",
	    NULL, 1705306320, NULL);
	add(w, a, "reg-2@jaskowo.example", "Piotr Zając",
	    "p.zajac@jaskowo.example", "Re: Regulamin zamówień",
	    "Przesyłam regulamin.\n> Czy ktoś ma regulamin?\n",
	    "reg-1@brzozowka.example", 1705325000,
	    "\"><img src=x onerror=alert(1)>.docx");
	add(w, a, "hostile@brzozowka.example", "\"><img src=x onerror=alert(1)>",
	    "x@brzozowka.example", "<script>alert(1)</script> regulamin",
	    "<a href=\"javascript:alert(3)\">x</a> <script>alert(2)</script> "
	    "regulamin\n",
	    NULL, 1705400000, "<script>.html");
	add(w, a, "held@spam.example", "Obcy", "obcy@spam.example",
	    "Wstrzymana", "Kup regulamin.\n", NULL, 1705500000, NULL);
	if (sk_index_user_set(w, "anna@brzozowka.example", "Anna",
	                      SK_ROLE_READER, NULL, &err) ||
	    sk_index_user_set(w, "koordynator@lista.example", "Koordynator",
	                      SK_ROLE_COORDINATOR, NULL, &err)) {
		fprintf(stderr, "fuzz_http: users: %s\n", err.msg);
		abort();
	}
	if (sk_index_user_find(w, a, "anna@brzozowka.example", &u, &err) ||
	    sk_index_session_create(w, u.id,
	                            sk_web_token_hash(a, READER_TOKEN),
	                            READER_CSRF, NOW - 60, NOW + 86400,
	                            &err) ||
	    sk_index_user_find(w, a, "koordynator@lista.example", &u, &err) ||
	    sk_index_session_create(w, u.id, sk_web_token_hash(a, COORD_TOKEN),
	                            COORD_CSRF, NOW - 60, NOW + 86400, &err)) {
		fprintf(stderr, "fuzz_http: sessions: %s\n", err.msg);
		abort();
	}
	sk_index_close(&w);
	if (sk_index_open(store_dir, SK_INDEX_NO_XAPIAN, &store_ix, &err)) {
		fprintf(stderr, "fuzz_http: reader: %s\n", err.msg);
		abort();
	}
	web_state = sk_web_state_new();
	sk_arena_free(&a);
	return 0;
}

/* Take the next line of [*p, end). */
static char *
next_line(struct sk_arena *a, const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *e = nl ? nl : end;
	char *s = sk_arena_strndup(a, *p, (size_t)(e - *p));
	*p = nl ? nl + 1 : end;
	return s;
}

static int
hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode like MHD's post processor: %XX and '+'; *len_out bytes. */
static char *
form_decode(struct sk_arena *a, const char *s, size_t n, size_t *len_out)
{
	char *o = sk_arena_alloc(a, n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 &&
		    hexv(s[i + 2]) >= 0) {
			o[k++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
			i += 2;
		} else {
			o[k++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	*len_out = k;
	return o;
}

/* Does a tag the page emits carry something live from the hostile mail? */
static int
live_markup(const char *html)
{
	for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		const char *e = strchr(p, '>');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!strncasecmp(p, "<script", 7) || !strncasecmp(p, "<img", 4) ||
		    !strncasecmp(p, "<iframe", 7))
			return 1;
		if (sk_test_live_tag(p, n))
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct sk_arena *a;
	struct sk_req q = { 0 };
	struct sk_resp resp;
	struct sk_web_settings s = { 0 };
	struct sk_param *form = NULL;
	size_t n_form = 0;
	unsigned flags;
	char *method, *target, *cookie, *origin;
	int st;

	if (size < 1 || size > 65536)
		return 0;
	flags = data[0];
	p++;
	a = sk_arena_new(0);
	method = next_line(a, &p, end);
	target = next_line(a, &p, end);
	cookie = next_line(a, &p, end);
	origin = next_line(a, &p, end);
	if (flags & (4 | 8))
		cookie = sk_arena_printf(a, "%s; sk_session=%s", cookie,
		                         flags & 8 ? COORD_TOKEN : READER_TOKEN);
	/* The form: name=value pairs separated by '&'. */
	{
		size_t n = (size_t)(end - p), cap = 1;
		for (size_t i = 0; i < n; i++)
			cap += p[i] == '&';
		cap++;
		form = sk_arena_alloc(a, cap * sizeof(*form));
		while (p < end && n_form < cap - 1 && n_form < 64) {
			const char *amp = memchr(p, '&', (size_t)(end - p));
			const char *e = amp ? amp : end;
			const char *eq = memchr(p, '=', (size_t)(e - p));
			size_t kl, vl;
			char *k = form_decode(a, p, (size_t)((eq ? eq : e) - p),
			                      &kl);
			char *v = eq ? form_decode(a, eq + 1,
			                           (size_t)(e - eq - 1), &vl)
			             : (vl = 0, sk_arena_strdup(a, ""));
			if (!sk_utf8_valid(v, vl) || strlen(v) != vl)
				q.body_status = 400;
			form[n_form].name = k;
			form[n_form].value = v;
			n_form++;
			p = amp ? amp + 1 : end;
		}
		if (flags & 16)
			form[n_form++] = (struct sk_param){
				"csrf", flags & 8 ? COORD_CSRF : READER_CSRF
			};
	}

	s.public_mode = flags & 1;
	s.base_url = flags & 2 ? "https://skarbnica.example" : NULL;
	s.backend = SK_BACKEND_FTS5;
	q.method = SK_METHOD_OTHER;
	q.method_name = method;
	q.target = target;
	q.cookie = *cookie ? cookie : NULL;
	q.host = "skarbnica.example";
	q.origin = *origin ? origin : NULL;
	q.client = "127.0.0.1";
	q.form = form;
	q.n_form = n_form;
	q.now = NOW;
	q.ix = flags & 32 ? NULL : store_ix;
	q.settings = &s;
	q.state = web_state;

	sk_resp_init(&resp);
	sk_web_route(&q, a, &resp);
	st = resp.status;
	FUZZ_CHECK(st == 200 || st == 301 || st == 303 || st == 400 ||
	           st == 403 || st == 404 || st == 405 || st == 413 ||
	           st == 415 || st == 429 || st == 500 || st == 503);
	FUZZ_CHECK(resp.content_type);
	FUZZ_CHECK(sk_buf_status(&resp.body) == SK_OK);
	FUZZ_CHECK(sk_resp_header(&resp, "Content-Security-Policy"));
	FUZZ_CHECK(sk_resp_header(&resp, "X-Content-Type-Options"));
	if (!strncmp(resp.content_type, "text/html", 9) ||
	    !strncmp(resp.content_type, "application/atom", 16))
		FUZZ_CHECK(!live_markup(resp.body.p));
	if (st == 301 || st == 303) {
		const char *loc = sk_resp_header(&resp, "Location");
		/* Redirects stay on this site. */
		FUZZ_CHECK(loc && loc[0] == '/' && loc[1] != '/' &&
		           loc[1] != '\\');
	}
	sk_resp_release(&resp);
	sk_arena_free(&a);
	return 0;
}
