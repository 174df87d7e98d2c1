/* web/export.c: everything that is not an HTML page — raw messages, thread
 * mbox, attachment downloads, the JSON API, Atom feeds, /healthz and
 * /metrics. The JSON API uses the field names of `search --json`. */
#include "web/private.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>


#define ATTACHMENT_CSP "default-src 'none'; sandbox; frame-ancestors 'none'"
#define MBOX_MAX (256u << 20)

/* ---- raw message --------------------------------------------------------- */

/* Raw mail is whatever the sender's client wrote: 7-bit MIME usually, but
 * 8-bit ISO-8859-2 or windows-1250 bodies happen. It is served as
 * text/plain — with charset=utf-8 only when it is valid UTF-8, otherwise
 * with no charset, so the browser guesses an encoding for display but
 * never a type: nosniff forbids sniffing it into HTML, and the CSP sandbox
 * gives it a unique origin should anything try. */
void
sk_export_raw(struct sk_ctx *c, const char *message_id)
{
	const char *raw = NULL;
	size_t len = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	rc = sk_index_message_raw(c->req->ix, c->a, &c->viewer, message_id,
	                          &raw, &len, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "raw message");
		return;
	}
	c->resp->body.max = MBOX_MAX;
	sk_buf_add(&c->resp->body, raw, len);
	if (sk_buf_status(&c->resp->body)) {
		sk_ctx_error(c, 500, "Wiadomość jest zbyt duża.");
		return;
	}
	c->resp->content_type = sk_utf8_valid(raw, len)
	                            ? "text/plain; charset=utf-8"
	                            : "text/plain";
	sk_ctx_header(c, "Content-Disposition",
	              "inline; filename=\"wiadomosc.eml\"");
	sk_ctx_header(c, "Content-Security-Policy", ATTACHMENT_CSP);
}

/* ---- attachments --------------------------------------------------------- */

/* Types passed through as they are: none of them runs script in a browser.
 * Everything else (HTML, SVG, XML, JavaScript, unknown) is
 * application/octet-stream. Downloads always, never inline. */
static const char *
safe_type(const char *ct)
{
	static const char *const ok[] = {
		"application/pdf",
		"application/msword",
		"application/vnd.openxmlformats-officedocument."
		"wordprocessingml.document",
		"application/vnd.oasis.opendocument.text",
		"application/vnd.ms-excel",
		"application/vnd.openxmlformats-officedocument.spreadsheetml."
		"sheet",
		"application/vnd.oasis.opendocument.spreadsheet",
		"application/zip",
		"image/png",
		"image/jpeg",
		"image/gif",
		"text/csv",
		"text/plain",
	};
	for (size_t i = 0; ct && i < SK_ARRAY_SIZE(ok); i++)
		if (strcasecmp(ct, ok[i]) == 0)
			return ok[i];
	return "application/octet-stream";
}

/* Content-Disposition with an ASCII fallback and the UTF-8 name in
 * filename* (RFC 6266); quotes, slashes and control characters never
 * reach the header. */
static const char *
disposition(struct sk_ctx *c, const char *name, const char *fallback)
{
	struct sk_buf b;
	char *out;
	size_t n;

	if (!name || !*name)
		name = fallback;
	n = strlen(name);
	if (n > 200)
		n = sk_utf8_clip(name, n, 200);
	sk_buf_init(&b, 4096);
	sk_buf_adds(&b, "attachment; filename=\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		bool plain = (ch >= 'a' && ch <= 'z') ||
		             (ch >= 'A' && ch <= 'Z') ||
		             (ch >= '0' && ch <= '9') || ch == '.' ||
		             ch == '-' || ch == '_';
		sk_buf_addc(&b, plain ? (char)ch : '_');
	}
	sk_buf_adds(&b, "\"; filename*=UTF-8''");
	sk_buf_add_url(&b, name, n);
	out = sk_arena_strdup(c->a, b.p);
	sk_buf_release(&b);
	return out;
}

void
sk_export_attachment(struct sk_ctx *c, const char *message_id, int position)
{
	struct sk_attachment_row row;
	const void *data = NULL;
	size_t len = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	memset(&row, 0, sizeof(row));
	rc = sk_index_attachment(c->req->ix, c->a, &c->viewer, message_id,
	                         position, &row, &data, &len, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "attachment");
		return;
	}
	c->resp->body.max = MBOX_MAX;
	sk_buf_add(&c->resp->body, data, len);
	if (sk_buf_status(&c->resp->body)) {
		sk_ctx_error(c, 500, "Załącznik jest zbyt duży.");
		return;
	}
	c->resp->content_type = safe_type(row.content_type);
	sk_ctx_header(
	    c, "Content-Disposition",
	    disposition(c, row.filename,
	                sk_arena_printf(c->a, "zalacznik-%d", position)));
	sk_ctx_header(c, "Content-Security-Policy", ATTACHMENT_CSP);
}

/* ---- mbox ---------------------------------------------------------------- */

/* One message in mboxrd: a From_ line, the raw text with CRLF as LF and
 * every line matching ^>*From  quoted with one more '>', a blank line. */
static void
mboxrd_add(struct sk_buf *b, const char *sender, time_t date, const char *raw,
           size_t len)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed",
		                          "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr",
		                           "May", "Jun", "Jul", "Aug",
		                           "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	size_t i = 0;

	gmtime_r(&date, &tm);
	sk_buf_adds(b, "From ");
	if (sender && *sender && !strpbrk(sender, " \t\r\n"))
		sk_buf_adds(b, sender);
	else
		sk_buf_adds(b, "MAILER-DAEMON");
	sk_buf_addf(b, " %s %s %2d %02d:%02d:%02d %d\n", wd[tm.tm_wday],
	            mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
	            tm.tm_sec, tm.tm_year + 1900);
	while (i < len) {
		const char *nl = memchr(raw + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - raw) : len;
		size_t k = i, line_end = e;

		while (k < e && raw[k] == '>')
			k++;
		if (e - k >= 5 && memcmp(raw + k, "From ", 5) == 0)
			sk_buf_addc(b, '>');
		if (line_end > i && raw[line_end - 1] == '\r')
			line_end--;
		sk_buf_add(b, raw + i, line_end - i);
		sk_buf_addc(b, '\n');
		i = nl ? e + 1 : len;
	}
	sk_buf_addc(b, '\n');
}

void
sk_export_mbox(struct sk_ctx *c, int64_t thread_id)
{
	struct sk_thread_row t;
	struct sk_message_row *m = NULL;
	size_t n = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;
	struct sk_buf *b = &c->resp->body;

	memset(&t, 0, sizeof(t));
	rc = sk_index_thread(c->req->ix, c->a, &c->viewer, thread_id, &t, &m,
	                     &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "mbox: thread");
		return;
	}
	b->max = MBOX_MAX;
	for (size_t i = 0; i < n; i++) {
		const char *raw = NULL;
		size_t len = 0;
		/* NEEDSWORK: by Message-ID, so of two stored messages sharing
		 * one id the first is exported twice; a raw-by-store-id call
		 * in index/ would be exact. */
		rc = sk_index_message_raw(c->req->ix, c->a, &c->viewer,
		                          m[i].message_id, &raw, &len, &err);
		if (rc == SK_ENOTFOUND)
			continue;
		if (rc) {
			sk_ctx_fail(c, rc, &err, "mbox: raw");
			return;
		}
		mboxrd_add(b, m[i].from_addr, m[i].date, raw, len);
	}
	if (sk_buf_status(b)) {
		sk_ctx_error(c, 500, "Wątek jest zbyt duży, by go pobrać.");
		return;
	}
	c->resp->content_type = "application/mbox";
	sk_ctx_header(
	    c, "Content-Disposition",
	    sk_arena_printf(c->a, "attachment; filename=\"watek-%lld.mbox\"",
	                    (long long)thread_id));
	sk_ctx_header(c, "Content-Security-Policy", ATTACHMENT_CSP);
}

/* ---- JSON ---------------------------------------------------------------- */

void
sk_export_json_error(struct sk_ctx *c, int status, const char *message)
{
	c->json = true;
	sk_ctx_error(c, status, message);
}

static void
json_done(struct sk_ctx *c)
{
	c->resp->content_type = "application/json";
	if (sk_buf_status(&c->resp->body))
		sk_export_json_error(c, 500, "Odpowiedź jest zbyt duża.");
}

/* "from" as search --json has it: "Name <addr>", for anonymous readers of
 * a public archive the name only (null when there is none). */
static void
json_from(struct sk_ctx *c, struct sk_buf *b, const char *name,
          const char *addr)
{
	struct sk_buf t;
	bool has_name = name && *name;

	sk_buf_init(&t, 64 << 10);
	if (c->hide_addrs) {
		if (has_name)
			sk_page_mask_html(&t, name, strlen(name));
	} else if (has_name && addr && *addr) {
		sk_buf_addf(&t, "%s <%s>", name, addr);
	} else {
		sk_buf_adds(&t, has_name ? name : addr ? addr : "");
	}
	if (t.len)
		sk_buf_add_json_str(b, t.p);
	else
		sk_buf_adds(b, "null");
	sk_buf_release(&t);
}

static void
json_date(struct sk_buf *b, time_t t)
{
	char iso[21];
	sk_time_iso8601(t, iso);
	sk_buf_addf(b, "\"%s\"", iso);
}

static void
json_slugs(struct sk_buf *b, const char **s, size_t n)
{
	sk_buf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sk_buf_addc(b, ',');
		sk_buf_add_json_str(b, s[i]);
	}
	sk_buf_addc(b, ']');
}

/* Text that may hold addresses (bodies, snippets) for JSON: masked for
 * anonymous readers; html says whether it is escaped HTML (a snippet) to
 * turn back into text. */
static void
json_text(struct sk_ctx *c, struct sk_buf *b, const char *s, bool html)
{
	struct sk_buf t, u;

	if (!s) {
		sk_buf_adds(b, "null");
		return;
	}
	sk_buf_init(&t, SK_WEB_PAGE_MAX);
	sk_buf_init(&u, SK_WEB_PAGE_MAX);
	if (c->hide_addrs)
		sk_page_mask_html(&t, s, strlen(s));
	else
		sk_buf_adds(&t, s);
	if (html) {
		sk_page_html_to_text(&u, t.p, t.len);
		sk_buf_add_json_str(b, u.p);
	} else {
		sk_buf_add_json_str(b, t.p);
	}
	sk_buf_release(&t);
	sk_buf_release(&u);
}

void
sk_export_api_search(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_search_args sa;
	struct sk_search_opts o = { 0 };
	struct sk_results r;
	struct sk_err err = { 0 };
	const char *lim = sk_web_arg(c->t.args, c->t.n_args, "limit");
	int64_t limit = SK_WEB_PER_PAGE;
	enum sk_status rc;

	if (!sk_web_search_args(c, &sa))
		return;
	if (lim && sk_parse_i64(lim, 1, 100, &limit, NULL)) {
		sk_export_json_error(c, 400,
		                     "Parametr limit musi być liczbą "
		                     "od 1 do 100.");
		return;
	}
	if (!*sa.effective) {
		sk_export_json_error(c, 400, "Podaj zapytanie w parametrze q.");
		return;
	}
	o.query = sa.effective;
	o.backend =
	    c->req->settings ? c->req->settings->backend : SK_BACKEND_DEFAULT;
	o.offset = (size_t)((sa.page - 1) * limit);
	o.limit = (size_t)limit;
	o.sort_by_date = sa.by_date;
	o.viewer = c->viewer;
	memset(&r, 0, sizeof(r));
	rc = sk_search(c->req->ix, c->a, &o, &r, &err);
	if (rc == SK_EINVAL) {
		sk_export_json_error(c, 400, err.msg);
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "api search");
		return;
	}
	sk_buf_addf(b, "{\"total\":%lld,\"results\":[", (long long)r.total);
	for (size_t i = 0; i < r.n_hits; i++) {
		const struct sk_hit *h = &r.hits[i];
		if (i)
			sk_buf_addc(b, ',');
		sk_buf_adds(b, "{\"message_id\":");
		sk_buf_add_json_str(b, h->message_id);
		sk_buf_addf(b, ",\"thread_id\":%lld,\"subject\":",
		            (long long)h->thread_id);
		sk_buf_add_json_str(b, h->subject ? h->subject : "");
		sk_buf_adds(b, ",\"from\":");
		json_from(c, b, h->from_name, h->from_addr);
		sk_buf_adds(b, ",\"date\":");
		json_date(b, h->date);
		sk_buf_adds(b, ",\"partner\":");
		sk_buf_add_json_str(b, h->partner_slug);
		sk_buf_adds(b, ",\"topics\":");
		json_slugs(b, h->topics, h->n_topics);
		sk_buf_adds(b, ",\"snippet\":");
		json_text(c, b, h->snippet_html ? h->snippet_html : "", true);
		sk_buf_addc(b, '}');
	}
	sk_buf_adds(b, "]}\n");
	json_done(c);
}

void
sk_export_api_topics(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_topic_row *t = NULL;
	size_t n = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	rc = sk_index_topics(c->req->ix, c->a, &c->viewer, &t, &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "api topics");
		return;
	}
	sk_buf_adds(b, "{\"topics\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sk_buf_addc(b, ',');
		sk_buf_adds(b, "{\"slug\":");
		sk_buf_add_json_str(b, t[i].slug);
		sk_buf_adds(b, ",\"name\":");
		sk_buf_add_json_str(b, t[i].name);
		sk_buf_adds(b, ",\"description\":");
		sk_buf_add_json_str(b,
		                    t[i].description ? t[i].description : "");
		sk_buf_adds(b, ",\"parent\":");
		sk_buf_add_json_str(b, t[i].parent_slug);
		sk_buf_addf(b, ",\"threads\":%lld}", (long long)t[i].threads);
	}
	sk_buf_adds(b, "]}\n");
	json_done(c);
}

void
sk_export_api_thread(struct sk_ctx *c, int64_t thread_id)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_thread_row t;
	struct sk_message_row *m = NULL;
	size_t n = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	memset(&t, 0, sizeof(t));
	rc = sk_index_thread(c->req->ix, c->a, &c->viewer, thread_id, &t, &m,
	                     &n, &err);
	if (rc == SK_ENOTFOUND) {
		sk_export_json_error(c, 404, "Nie ma takiego wątku.");
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "api thread");
		return;
	}
	sk_buf_addf(b, "{\"id\":%lld,\"subject\":", (long long)t.id);
	sk_buf_add_json_str(b, t.subject ? t.subject : "");
	sk_buf_adds(b, ",\"first_date\":");
	json_date(b, t.first_date);
	sk_buf_adds(b, ",\"last_date\":");
	json_date(b, t.last_date);
	sk_buf_adds(b, ",\"topics\":");
	json_slugs(b, t.topics, t.n_topics);
	sk_buf_adds(b, ",\"messages\":[");
	for (size_t i = 0; i < n; i++) {
		const struct sk_message_row *x = &m[i];
		const struct sk_message_row *parent = NULL;
		for (size_t k = 0; x->parent_id && k < n; k++)
			if (m[k].id == x->parent_id)
				parent = &m[k];
		if (i)
			sk_buf_addc(b, ',');
		sk_buf_adds(b, "{\"message_id\":");
		sk_buf_add_json_str(b, x->message_id);
		sk_buf_adds(b, ",\"in_reply_to\":");
		sk_buf_add_json_str(b, parent ? parent->message_id : NULL);
		sk_buf_addf(b, ",\"depth\":%d,\"subject\":", x->depth);
		sk_buf_add_json_str(b, x->subject ? x->subject : "");
		sk_buf_adds(b, ",\"from\":");
		json_from(c, b, x->from_name, x->from_addr);
		sk_buf_adds(b, ",\"date\":");
		json_date(b, x->date);
		sk_buf_adds(b, ",\"partner\":");
		sk_buf_add_json_str(b, x->partner_slug);
		sk_buf_adds(b, ",\"topics\":");
		json_slugs(b, x->topics, x->n_topics);
		sk_buf_adds(b, ",\"body\":");
		json_text(c, b, x->body, false);
		sk_buf_addf(b, ",\"quote_start\":%zu,\"attachments\":[",
		            x->quote_start);
		for (size_t k = 0; k < x->n_attachments; k++) {
			const struct sk_attachment_row *at = &x->attachments[k];
			if (k)
				sk_buf_addc(b, ',');
			sk_buf_addc(b, '{');
			sk_export_json_attachment(b, at->position, at->filename,
			                          at->content_type, at->size);
		}
		sk_buf_adds(b, "]}");
	}
	sk_buf_adds(b, "]}\n");
	json_done(c);
}

/* ---- Atom ---------------------------------------------------------------- */

static void
atom_date(struct sk_buf *b, time_t t)
{
	char iso[21];
	sk_time_iso8601(t, iso);
	sk_buf_adds(b, iso);
}

static void
atom_begin(struct sk_ctx *c, const char *title, const char *self,
           const char *alternate, time_t updated)
{
	struct sk_buf *b = &c->resp->body;
	const char *base = sk_ctx_base_url(c);

	sk_buf_adds(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	               "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	               "xml:lang=\"pl\">\n<title>");
	sk_page_xml(b, title);
	sk_buf_adds(b, "</title>\n<id>");
	sk_page_xml(b, base);
	sk_page_xml(b, self);
	sk_buf_adds(b, "</id>\n<link rel=\"self\" href=\"");
	sk_page_xml(b, base);
	sk_page_xml(b, self);
	sk_buf_adds(b, "\"/>\n<link rel=\"alternate\" type=\"text/html\" "
	               "href=\"");
	sk_page_xml(b, base);
	sk_page_xml(b, alternate);
	sk_buf_adds(b, "\"/>\n<updated>");
	atom_date(b, updated);
	sk_buf_adds(b, "</updated>\n<generator>Skarbnica</generator>\n");
}

static void
atom_author(struct sk_ctx *c, struct sk_buf *b, const char *name)
{
	struct sk_buf t;

	sk_buf_adds(b, "<author><name>");
	if (name && *name) {
		sk_buf_init(&t, 64 << 10);
		if (c->hide_addrs)
			sk_page_mask_html(&t, name, strlen(name));
		else
			sk_buf_adds(&t, name);
		sk_page_xml(b, t.p);
		sk_buf_release(&t);
	} else {
		sk_buf_adds(b, "Uczestnik listy");
	}
	sk_buf_adds(b, "</name></author>\n");
}

static void
atom_done(struct sk_ctx *c)
{
	sk_buf_adds(&c->resp->body, "</feed>\n");
	if (sk_buf_status(&c->resp->body)) {
		sk_ctx_error(c, 500, "Kanał jest zbyt duży.");
		return;
	}
	c->resp->content_type = "application/atom+xml; charset=utf-8";
}

void
sk_export_feed_topic(struct sk_ctx *c, const char *slug)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_topic_row *topics = NULL;
	const struct sk_topic_row *t = NULL;
	size_t n_topics = 0, n = 0;
	struct sk_thread_filter f = { .topic = slug,
		                      .limit = SK_WEB_FEED_ENTRIES };
	struct sk_thread_row *rows = NULL;
	int64_t total = 0;
	time_t updated = c->req->now;
	struct sk_err err = { 0 };
	enum sk_status rc;
	const char *base = sk_ctx_base_url(c);

	rc = sk_index_topics(c->req->ix, c->a, &c->viewer, &topics, &n_topics,
	                     &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "feed: topics");
		return;
	}
	for (size_t i = 0; i < n_topics; i++)
		if (strcmp(topics[i].slug, slug) == 0)
			t = &topics[i];
	if (!t) {
		sk_ctx_error(c, 404, "Nie ma takiego tematu.");
		return;
	}
	rc = sk_index_threads(c->req->ix, c->a, &c->viewer, &f, &rows, &n,
	                      &total, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "feed: threads");
		return;
	}
	if (n)
		updated = rows[0].last_date;
	for (size_t i = 0; i < n; i++)
		if (rows[i].last_date > updated)
			updated = rows[i].last_date;
	atom_begin(c, sk_arena_printf(c->a, "Skarbnica – %s", t->name),
	           sk_arena_printf(c->a, "/feed/temat/%s.atom", slug),
	           sk_arena_printf(c->a, "/temat/%s", slug), updated);
	for (size_t i = 0; i < n; i++) {
		sk_buf_adds(b, "<entry>\n<title>");
		sk_page_xml(b, rows[i].subject && *rows[i].subject
		                   ? rows[i].subject
		                   : "(bez tematu)");
		sk_buf_adds(b, "</title>\n<id>");
		sk_page_xml(b, base);
		sk_buf_addf(b,
		            "/watek/%lld</id>\n<link rel=\"alternate\" "
		            "type=\"text/html\" href=\"",
		            (long long)rows[i].id);
		sk_page_xml(b, base);
		sk_buf_addf(b, "/watek/%lld\"/>\n<published>",
		            (long long)rows[i].id);
		atom_date(b, rows[i].first_date);
		sk_buf_adds(b, "</published>\n<updated>");
		atom_date(b, rows[i].last_date);
		sk_buf_adds(b, "</updated>\n");
		atom_author(c, b, rows[i].first_from);
		sk_buf_adds(b, "<summary>");
		sk_page_count(b, rows[i].messages, "wiadomość", "wiadomości",
		              "wiadomości");
		sk_buf_adds(b, " w wątku</summary>\n</entry>\n");
	}
	atom_done(c);
}

void
sk_export_feed_search(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_search_args sa;
	struct sk_search_opts o = { 0 };
	struct sk_results r;
	struct sk_err err = { 0 };
	enum sk_status rc;
	const char *base = sk_ctx_base_url(c);
	struct sk_buf self, alt;

	if (!sk_web_search_args(c, &sa))
		return;
	if (!*sa.effective) {
		sk_ctx_error(c, 400, "Podaj zapytanie w parametrze q.");
		return;
	}
	o.query = sa.effective;
	o.backend =
	    c->req->settings ? c->req->settings->backend : SK_BACKEND_DEFAULT;
	o.limit = SK_WEB_FEED_ENTRIES;
	o.sort_by_date = true;
	o.viewer = c->viewer;
	memset(&r, 0, sizeof(r));
	rc = sk_search(c->req->ix, c->a, &o, &r, &err);
	if (rc == SK_EINVAL) {
		sk_ctx_error(c, 400, err.msg);
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "feed: search");
		return;
	}
	sk_buf_init(&self, 8192);
	sk_buf_init(&alt, 8192);
	sk_buf_adds(&self, "/feed/szukaj.atom?q=");
	sk_buf_add_url(&self, sa.effective, strlen(sa.effective));
	sk_buf_adds(&alt, "/szukaj?sort=data&q=");
	sk_buf_add_url(&alt, sa.effective, strlen(sa.effective));
	atom_begin(
	    c,
	    sk_arena_printf(c->a, "Skarbnica – wyszukiwanie: %s", sa.effective),
	    self.p, alt.p, r.n_hits ? r.hits[0].date : c->req->now);
	sk_buf_release(&self);
	sk_buf_release(&alt);
	for (size_t i = 0; i < r.n_hits; i++) {
		const struct sk_hit *h = &r.hits[i];
		struct sk_buf link, snip;

		sk_buf_init(&link, 8192);
		sk_buf_adds(&link, base);
		sk_buf_adds(&link, "/m/");
		sk_buf_add_url(&link, h->message_id, strlen(h->message_id));
		sk_buf_addc(&link, '/');
		sk_buf_adds(b, "<entry>\n<title>");
		sk_page_xml(b, h->subject && *h->subject ? h->subject
		                                         : "(bez tematu)");
		sk_buf_adds(b, "</title>\n<id>");
		sk_page_xml(b, link.p);
		sk_buf_adds(b, "</id>\n<link rel=\"alternate\" "
		               "type=\"text/html\" href=\"");
		sk_page_xml(b, link.p);
		sk_buf_adds(b, "\"/>\n<updated>");
		atom_date(b, h->date);
		sk_buf_adds(b, "</updated>\n");
		atom_author(c, b, h->from_name);
		/* The snippet is HTML (escaped text with <mark>): as Atom
		 * type="html" it is escaped once more. */
		sk_buf_init(&snip, 1 << 20);
		if (c->hide_addrs)
			sk_page_mask_html(
			    &snip, h->snippet_html ? h->snippet_html : "",
			    h->snippet_html ? strlen(h->snippet_html) : 0);
		else
			sk_buf_adds(&snip, h->snippet_html);
		sk_buf_adds(b, "<summary type=\"html\">");
		sk_page_xml(b, snip.p);
		sk_buf_adds(b, "</summary>\n</entry>\n");
		sk_buf_release(&snip);
		sk_buf_release(&link);
	}
	atom_done(c);
}

/* ---- health and metrics -------------------------------------------------- */

void
sk_export_healthz(struct sk_ctx *c)
{
	sk_ctx_header(c, "Cache-Control", "no-store");
	if (!c->req->ix) {
		c->resp->status = 503;
		c->resp->content_type = "text/plain; charset=utf-8";
		sk_buf_adds(&c->resp->body, "store unavailable\n");
		return;
	}
	c->resp->content_type = "text/plain; charset=utf-8";
	sk_buf_adds(&c->resp->body, "ok\n");
}

static void
gauge(struct sk_buf *b, const char *name, const char *help, int64_t v)
{
	sk_buf_addf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help,
	            name, name, (long long)v);
}

void
sk_export_metrics(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_stats st;
	struct sk_err err = { 0 };
	enum sk_status rc;

	memset(&st, 0, sizeof(st));
	rc = sk_index_stats(c->req->ix, &st, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "metrics: stats");
		return;
	}
	sk_web_metrics_requests(c->req->state, b);
	gauge(b, "skarbnica_messages",
	      "Messages in the store, held and flagged included.", st.messages);
	gauge(b, "skarbnica_threads", "Threads in the store.", st.threads);
	gauge(b, "skarbnica_attachments", "Attachments in the store.",
	      st.attachments);
	gauge(b, "skarbnica_messages_flagged",
	      "Messages kept raw because they could not be parsed.",
	      st.flagged);
	gauge(b, "skarbnica_messages_held", "Messages held for a coordinator.",
	      st.held);
	gauge(b, "skarbnica_outbox_queued", "Outgoing mail waiting.",
	      st.outbox_queued);
	gauge(b, "skarbnica_outbox_failed", "Outgoing mail that failed.",
	      st.outbox_failed);
	gauge(b, "skarbnica_last_ingest_timestamp_seconds",
	      "Time of the newest stored message (0: none).", st.last_ingest);
	sk_buf_adds(b, "# HELP skarbnica_ingest_lag_seconds Seconds since the "
	               "newest stored message (NaN: none).\n"
	               "# TYPE skarbnica_ingest_lag_seconds gauge\n");
	if (st.last_ingest > 0)
		sk_buf_addf(b, "skarbnica_ingest_lag_seconds %lld\n",
		            (long long)(c->req->now - st.last_ingest));
	else
		sk_buf_adds(b, "skarbnica_ingest_lag_seconds NaN\n");
	sk_buf_addf(b,
	            "# HELP skarbnica_index_bytes Size on disk.\n"
	            "# TYPE skarbnica_index_bytes gauge\n"
	            "skarbnica_index_bytes{part=\"store\"} %lld\n"
	            "skarbnica_index_bytes{part=\"xapian\"} %lld\n",
	            (long long)st.store_bytes, (long long)st.xapian_bytes);
	c->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	sk_ctx_header(c, "Cache-Control", "no-store");
}

/* ---- pieces for practice.c ----------------------------------------------- */

void
sk_export_json_text(struct sk_ctx *c, struct sk_buf *b, const char *s)
{
	json_text(c, b, s, false);
}

void
sk_export_json_date(struct sk_buf *b, time_t t)
{
	json_date(b, t);
}

void
sk_export_json_slugs(struct sk_buf *b, const char **s, size_t n)
{
	json_slugs(b, s, n);
}

void
sk_export_json_attachment(struct sk_buf *b, int position, const char *filename,
                          const char *content_type, int64_t size)
{
	sk_buf_addf(b, "\"position\":%d,\"filename\":", position);
	sk_buf_add_json_str(b, filename ? filename : "");
	sk_buf_adds(b, ",\"content_type\":");
	sk_buf_add_json_str(b, content_type);
	sk_buf_addf(b, ",\"size\":%lld}", (long long)size);
}

void
sk_export_atom_begin(struct sk_ctx *c, const char *title, const char *self,
                     const char *alternate, time_t updated)
{
	atom_begin(c, title, self, alternate, updated);
}

void
sk_export_atom_done(struct sk_ctx *c)
{
	atom_done(c);
}
