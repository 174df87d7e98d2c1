/* tests/helpers/sk_test_web.c: web requests, login and the starting
 * store of the web tests. */
#include "tests/helpers/sk_test_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSRF_FIELD "name=\"csrf\" value=\""

void
sk_test_req(struct sk_req *q, struct sk_web_settings *s, enum sk_method m,
            const char *target)
{
	memset(q, 0, sizeof(*q));
	memset(s, 0, sizeof(*s));
	s->backend = SK_BACKEND_FTS5;
	q->method = m;
	q->target = target;
	q->host = "skarbnica.example";
	q->client = "192.0.2.7";
	q->now = SK_TEST_NOW;
	q->settings = s;
}

struct sk_test_res
sk_test_route(const struct sk_req *q)
{
	struct sk_test_res r;

	r.a = sk_arena_new(0);
	sk_resp_init(&r.resp);
	sk_web_route(q, r.a, &r.resp);
	assert_int_equal(sk_buf_status(&r.resp.body), SK_OK);
	r.status = r.resp.status;
	r.body = r.resp.body.p ? r.resp.body.p : "";
	return r;
}

void
sk_test_res_free(struct sk_test_res *r)
{
	sk_resp_release(&r->resp);
	sk_arena_free(&r->a);
}

int
sk_test_status(struct sk_test_res r)
{
	int status = r.status;
	sk_test_res_free(&r);
	return status;
}

const char *
sk_test_cookie_line(const struct sk_test_res *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->resp.n_headers; i++)
		if (strcasecmp(r->resp.headers[i].name, "Set-Cookie") == 0 &&
		    strncmp(r->resp.headers[i].value, name, n) == 0 &&
		    r->resp.headers[i].value[n] == '=')
			return r->resp.headers[i].value;
	return NULL;
}

char *
sk_test_cookie_value(const struct sk_test_res *r, const char *name)
{
	const char *l = sk_test_cookie_line(r, name);
	if (!l)
		return NULL;
	l += strlen(name) + 1;
	return sk_xstrndup(l, strcspn(l, ";"));
}

char *
sk_test_csrf_in(const char *body)
{
	const char *f = strstr(body, CSRF_FIELD);
	assert_non_null(f);
	return sk_xstrndup(f + strlen(CSRF_FIELD), 43);
}

/* base sent as method m to target with cookie and form. */
static struct sk_test_res
send_as(const struct sk_req *base, enum sk_method m, const char *target,
        const char *cookie, const struct sk_param *form, size_t n_form)
{
	struct sk_req q = *base;

	q.method = m;
	q.target = target;
	q.cookie = cookie;
	q.form = form;
	q.n_form = n_form;
	return sk_test_route(&q);
}

char *
sk_test_login(const struct sk_req *base, const char *email, char **csrf_out)
{
	struct sk_test_res r;
	char *tok, *session, *cookie;
	char cbuf[128];
	struct sk_param form[3];

	r = send_as(base, SK_METHOD_GET, "/zaloguj", NULL, NULL, 0);
	tok = sk_test_cookie_value(&r, "sk_login");
	assert_non_null(tok);
	sk_test_res_free(&r);
	form[0] = (struct sk_param){ "csrf", tok };
	form[1] = (struct sk_param){ "email", email };
	form[2] = (struct sk_param){ "password", SK_TEST_PASSWORD };
	snprintf(cbuf, sizeof(cbuf), "sk_login=%s", tok);
	r = send_as(base, SK_METHOD_POST, "/zaloguj", cbuf, form, 3);
	assert_int_equal(r.status, 303);
	session = sk_test_cookie_value(&r, "sk_session");
	assert_non_null(session);
	sk_test_res_free(&r);
	free(tok);
	cookie = sk_xmalloc(strlen(session) + 16);
	snprintf(cookie, strlen(session) + 16, "sk_session=%s", session);
	free(session);
	if (csrf_out) {
		r = send_as(base, SK_METHOD_GET, "/konto", cookie, NULL, 0);
		assert_int_equal(r.status, 200);
		*csrf_out = sk_test_csrf_in(r.body);
		sk_test_res_free(&r);
	}
	return cookie;
}

struct sk_index *
sk_test_store_new(const char *dir, size_t n_partners, const char *list_address)
{
	struct sk_index *w = NULL;
	struct sk_err err = { 0 };
#define S(x) ((char *)(x))
	const struct sk_partner_conf partners[] = {
		{ S("brzozowka"), S("Gmina Brzozówka"), S("gmina"),
		  S("brzozowka.example") },
		{ S("jaskowo"), S("Gmina Jaśkowo"), S("gmina"),
		  S("jaskowo.example") },
	};
#undef S

	if (n_partners > SK_ARRAY_SIZE(partners))
		n_partners = SK_ARRAY_SIZE(partners);
	if (sk_index_open(dir,
	                  SK_INDEX_CREATE | SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
	                  &w, &err) ||
	    sk_index_load_taxonomy(w, sk_index_default_taxonomy(), &err) ||
	    sk_index_sync_partners(w, partners, n_partners, &err) ||
	    (list_address &&
	     sk_index_meta_set(w, "list.address", list_address, &err))) {
		fprintf(stderr, "setup: %s\n", err.msg);
		sk_index_close(&w);
		return NULL;
	}
	return w;
}

int
sk_test_store_users(struct sk_index *w, const char *reader_name,
                    const char *coord_name)
{
	struct sk_err err = { 0 };
	if (sk_index_user_set(w, SK_TEST_READER, reader_name, SK_ROLE_READER,
	                      SK_TEST_PASSWORD, &err) ||
	    sk_index_user_set(w, SK_TEST_COORD, coord_name, SK_ROLE_COORDINATOR,
	                      SK_TEST_PASSWORD, &err)) {
		fprintf(stderr, "setup: users: %s\n", err.msg);
		return -1;
	}
	return 0;
}

struct sk_index *
sk_test_writer(const char *dir)
{
	struct sk_index *w = NULL;
	struct sk_err err = { 0 };
	if (sk_index_open(dir, SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN, &w, &err))
		fail_msg("writer: %s", err.msg);
	return w;
}

int
sk_test_site_open(struct sk_test_site *site, struct sk_index **w)
{
	struct sk_err err = { 0 };

	if (w)
		sk_index_close(w);
	if (sk_index_open(site->dir, SK_INDEX_NO_XAPIAN, &site->ix, &err)) {
		fprintf(stderr, "setup: reader: %s\n", err.msg);
		return -1;
	}
	site->state = sk_web_state_new();
	return 0;
}

void
sk_test_site_login(struct sk_test_site *site, const struct sk_req *base,
                   bool csrf)
{
	site->reader_cookie = sk_test_login(base, SK_TEST_READER,
	                                    csrf ? &site->reader_csrf : NULL);
	site->coord_cookie =
	    sk_test_login(base, SK_TEST_COORD, csrf ? &site->coord_csrf : NULL);
}

void
sk_test_site_close(struct sk_test_site *site)
{
	sk_index_close(&site->ix);
	sk_web_state_free(&site->state);
	sk_test_rmdir(&site->dir);
	free(site->reader_cookie);
	free(site->reader_csrf);
	free(site->coord_cookie);
	free(site->coord_csrf);
}

int64_t
sk_test_add_msg(struct sk_index *w, struct sk_arena *a,
                const struct sk_test_msg *s)
{
	struct sk_message m = { 0 };
	struct sk_attachment at = { 0 };
	struct sk_err err = { 0 };
	int64_t id = 0;
	const char *q;

	m.raw = sk_arena_printf(a,
	                        "Message-ID: <%s>\r\nFrom: %s <%s>\r\n"
	                        "To: praktyki@lista.example\r\nSubject: %s\r\n"
	                        "%s%s%s\r\n%s\r\n",
	                        s->id, s->from_name, s->from_addr, s->subject,
	                        s->in_reply_to ? "In-Reply-To: <" : "",
	                        s->in_reply_to ? s->in_reply_to : "",
	                        s->in_reply_to ? ">\r\n" : "", s->body);
	m.raw_len = strlen(m.raw);
	m.message_id = s->id;
	m.subject = s->subject;
	m.from_name = s->from_name;
	m.from_addr = s->from_addr;
	m.to_addrs = "praktyki@lista.example";
	m.cc_addrs = "";
	m.date = s->date;
	m.in_reply_to = s->in_reply_to;
	if (s->in_reply_to) {
		m.references = sk_arena_alloc(a, sizeof(char *));
		m.references[0] = s->in_reply_to;
		m.n_references = 1;
	}
	m.list_id = "praktyki.lista.example";
	m.body = s->body;
	q = strstr(s->body, "\n>");
	m.quote_start = q ? (size_t)(q - s->body) + 1 : strlen(s->body);
	if (s->attach) {
		at.filename = s->attach;
		at.content_type = "application/vnd.openxmlformats-"
		                  "officedocument.wordprocessingml.document";
		at.data = "PK\003\004 not really a docx";
		at.size = strlen(at.data);
		at.text = s->attach_text;
		at.extract_status = "ok";
		m.attachments = &at;
		m.n_attachments = 1;
	}
	if (sk_index_add_message(w, &m, &id, &err)) {
		fprintf(stderr, "add %s: %s\n", s->id, err.msg);
		abort();
	}
	return id;
}
