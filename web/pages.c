/* web/pages.c: the HTML pages people read — start, search, topic, partner,
 * thread and message. Each is a run of sk_buf calls over rows from the
 * index API; every piece of user text goes through an escaping helper. */
#include "web/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- shared bits --------------------------------------------------------- */

struct topic_names {
	struct sk_topic_row *rows;
	size_t n;
};

static const struct sk_topic_row *
topic_find(const struct topic_names *t, const char *slug)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (strcmp(t->rows[i].slug, slug) == 0)
			return &t->rows[i];
	return NULL;
}

static const char *
topic_label(const struct topic_names *t, const char *slug)
{
	const struct sk_topic_row *r = topic_find(t, slug);
	return r && r->name && *r->name ? r->name : slug;
}

static unsigned
text_flags(const struct sk_ctx *c)
{
	return SK_TEXT_LINKS | (c->hide_addrs ? SK_TEXT_HIDE_ADDRS : 0);
}

/* A sender: the name; the address only for logged-in readers. */
static void
person(struct sk_ctx *c, struct sk_buf *b, const char *name, const char *addr,
       bool with_addr)
{
	bool has_name = name && *name;

	if (has_name)
		sk_page_text(b, name, strlen(name),
		             c->hide_addrs ? SK_TEXT_HIDE_ADDRS : 0);
	if (!c->hide_addrs && addr && *addr && (with_addr || !has_name)) {
		if (has_name)
			sk_buf_adds(b, " &lt;");
		sk_buf_add_htmls(b, addr);
		if (has_name)
			sk_buf_adds(b, "&gt;");
	} else if (!has_name) {
		sk_buf_adds(b, "(nadawca bez nazwy)");
	}
}

static void
subject(struct sk_buf *b, const char *s)
{
	if (s && *s)
		sk_buf_add_htmls(b, s);
	else
		sk_buf_adds(b, "(bez tematu)");
}

static void
url_topic(struct sk_buf *b, const char *slug)
{
	sk_buf_adds(b, "/temat/");
	sk_buf_add_url(b, slug, strlen(slug));
}

static void
url_message(struct sk_buf *b, const char *mid)
{
	sk_buf_adds(b, "/m/");
	sk_buf_add_url(b, mid, strlen(mid));
	sk_buf_addc(b, '/');
}

static void
topic_links(struct sk_buf *b, const struct topic_names *names,
            const char **slugs, size_t n)
{
	if (!n)
		return;
	sk_buf_adds(b, "<p class=\"meta\">");
	sk_buf_adds(b, n == 1 ? "Temat: " : "Tematy: ");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sk_buf_adds(b, ", ");
		sk_buf_adds(b, "<a href=\"");
		url_topic(b, slugs[i]);
		sk_buf_adds(b, "\">");
		sk_buf_add_htmls(b, topic_label(names, slugs[i]));
		sk_buf_adds(b, "</a>");
	}
	sk_buf_adds(b, "</p>\n");
}

static void
thread_list(struct sk_ctx *c, struct sk_buf *b, const struct sk_thread_row *t,
            size_t n, const struct topic_names *names, int heading)
{
	sk_buf_adds(b, "<ul class=\"threads\">\n");
	for (size_t i = 0; i < n; i++) {
		sk_buf_addf(b, "<li><h%d><a href=\"/watek/%lld\">", heading,
		            (long long)t[i].id);
		subject(b, t[i].subject);
		sk_buf_addf(b, "</a></h%d>\n<p class=\"meta\">", heading);
		person(c, b, t[i].first_from, NULL, false);
		sk_buf_adds(b, " · ");
		sk_page_time(b, t[i].first_date);
		sk_buf_adds(b, " · ");
		sk_page_count(b, t[i].messages, "wiadomość", "wiadomości",
		              "wiadomości");
		if (t[i].messages > 1 && t[i].last_date > t[i].first_date) {
			sk_buf_adds(b, " · ostatnia ");
			sk_page_time(b, t[i].last_date);
		}
		sk_buf_adds(b, "</p>\n");
		topic_links(b, names, t[i].topics, t[i].n_topics);
		sk_buf_adds(b, "</li>\n");
	}
	sk_buf_adds(b, "</ul>\n");
}

static bool
load_topics(struct sk_ctx *c, struct topic_names *out)
{
	struct sk_err err = { 0 };
	enum sk_status rc = sk_index_topics(c->req->ix, c->a, &c->viewer,
	                                    &out->rows, &out->n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "topics");
		return false;
	}
	return true;
}

void
sk_page_thread_list(struct sk_ctx *c, struct sk_buf *b,
                    const struct sk_thread_row *t, size_t n,
                    const struct sk_topic_row *topics, size_t n_topics,
                    int heading)
{
	/* topic_names only reads its rows. */
	struct topic_names names = { (struct sk_topic_row *)topics, n_topics };
	thread_list(c, b, t, n, &names, heading);
}

void
sk_page_topic_links(struct sk_buf *b, const struct sk_topic_row *topics,
                    size_t n_topics, const char **slugs, size_t n)
{
	struct topic_names names = { (struct sk_topic_row *)topics, n_topics };
	topic_links(b, &names, slugs, n);
}

/* ---- start --------------------------------------------------------------- */

static void search_form(struct sk_buf *b, const char *label,
                        const struct sk_search_args *sa, bool invalid);

void
sk_page_start(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = NULL, .nav = SK_NAV_START };
	struct topic_names names = { 0 };
	struct sk_thread_row *latest = NULL, *notes = NULL;
	size_t n_latest = 0, n_notes = 0, n_partners = 0;
	struct sk_partner_row *partners = NULL;
	struct sk_thread_filter f = { .limit = 10 };
	struct sk_stats st;
	struct sk_err err = { 0 };
	int64_t total = 0;
	enum sk_status rc;

	if (!load_topics(c, &names))
		return;
	rc = sk_index_threads(c->req->ix, c->a, &c->viewer, &f, &latest,
	                      &n_latest, &total, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "start: threads");
		return;
	}
	f.topic = "spotkania";
	f.limit = 5;
	rc = sk_index_threads(c->req->ix, c->a, &c->viewer, &f, &notes,
	                      &n_notes, &total, &err);
	if (rc && rc != SK_ENOTFOUND) {
		sk_ctx_fail(c, rc, &err, "start: notes");
		return;
	}
	rc = sk_index_partners(c->req->ix, c->a, &partners, &n_partners, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "start: partners");
		return;
	}
	memset(&st, 0, sizeof(st));
	rc = sk_index_stats(c->req->ix, &st, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "start: stats");
		return;
	}

	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b,
	            "<h1>Skarbnica dobrych praktyk</h1>\n"
	            "<p class=\"lead\">Archiwum listy dyskusyjnej "
	            "partnerstwa samorządów: jak inne urzędy rozwiązały ten "
	            "sam problem, notatki ze spotkań, wzory dokumentów.</p>\n");
	search_form(b, "Czego szukasz?", NULL, false);

	int64_t visible = st.messages - (c->viewer.coordinator ? 0 : st.held);
	sk_buf_adds(b, "<ul class=\"stats\" aria-label=\"Archiwum w "
	               "liczbach\">\n<li><strong>");
	sk_page_number(b, visible);
	sk_buf_addf(
	    b, "</strong> %s</li>\n<li><strong>",
	    sk_page_plural(visible, "wiadomość", "wiadomości", "wiadomości"));
	sk_page_number(b, st.threads);
	sk_buf_addf(b, "</strong> %s</li>\n<li><strong>",
	            sk_page_plural(st.threads, "wątek", "wątki", "wątków"));
	sk_page_number(b, st.attachments);
	sk_buf_addf(b, "</strong> %s</li>\n<li><strong>",
	            sk_page_plural(st.attachments, "załącznik", "załączniki",
	                           "załączników"));
	sk_page_number(b, (int64_t)n_partners);
	sk_buf_addf(b, "</strong> %s</li>\n</ul>\n",
	            sk_page_plural((int64_t)n_partners, "partner", "partnerów",
	                           "partnerów"));

	sk_buf_adds(b,
	            "<section aria-labelledby=\"tematy\">\n"
	            "<h2 id=\"tematy\">Tematy</h2>\n<ul class=\"topics\">\n");
	for (size_t i = 0; i < names.n; i++) {
		const struct sk_topic_row *t = &names.rows[i];
		if (t->parent_slug || t->threads <= 0)
			continue;
		sk_buf_adds(b, "<li><a href=\"");
		url_topic(b, t->slug);
		sk_buf_adds(b, "\">");
		sk_buf_add_htmls(b, t->name);
		sk_buf_adds(b, "</a> <span class=\"muted\">(");
		sk_page_count(b, t->threads, "wątek", "wątki", "wątków");
		sk_buf_adds(b, ")</span></li>\n");
	}
	sk_buf_adds(b, "</ul>\n</section>\n");

	sk_buf_adds(b, "<section aria-labelledby=\"najnowsze\">\n"
	               "<h2 id=\"najnowsze\">Najnowsze wątki</h2>\n");
	if (n_latest)
		thread_list(c, b, latest, n_latest, &names, 3);
	else
		sk_buf_adds(b, "<p>Archiwum jest jeszcze puste.</p>\n");
	sk_buf_adds(b, "</section>\n");
	sk_page_practices_section(c, b, NULL, NULL, 5, names.rows, names.n);

	if (n_notes) {
		sk_buf_adds(b, "<section aria-labelledby=\"notatki\">\n"
		               "<h2 id=\"notatki\">Notatki ze spotkań</h2>\n");
		thread_list(c, b, notes, n_notes, &names, 3);
		sk_buf_adds(b, "<p><a href=\"/spotkania\">Wszystkie notatki "
		               "ze spotkań</a></p>\n</section>\n");
	}

	if (n_partners) {
		sk_buf_adds(b, "<section aria-labelledby=\"partnerzy\">\n"
		               "<h2 id=\"partnerzy\">Partnerzy</h2>\n"
		               "<ul class=\"topics\">\n");
		for (size_t i = 0; i < n_partners; i++) {
			sk_buf_adds(b, "<li><a href=\"/gmina/");
			sk_buf_add_url(b, partners[i].slug,
			               strlen(partners[i].slug));
			sk_buf_adds(b, "\">");
			sk_buf_add_htmls(b, partners[i].name);
			sk_buf_adds(b, "</a> <span class=\"muted\">(");
			sk_page_count(b, partners[i].messages, "wiadomość",
			              "wiadomości", "wiadomości");
			sk_buf_adds(b, ")</span></li>\n");
		}
		sk_buf_adds(b, "</ul>\n</section>\n");
	}
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

/* ---- search -------------------------------------------------------------- */

static bool
valid_slug(const char *s)
{
	return s && *s && strlen(s) <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

static bool
valid_year(const char *s)
{
	return s && strlen(s) == 4 && strspn(s, "0123456789") == 4 &&
	       s[0] >= '1';
}

bool
sk_web_search_args(struct sk_ctx *c, struct sk_search_args *sa)
{
	const struct sk_param *args = c->t.args;
	size_t n = c->t.n_args;
	const char *q = sk_web_arg(args, n, "q");
	const char *sort = sk_web_arg(args, n, "sort");
	struct sk_buf e;

	memset(sa, 0, sizeof(*sa));
	if (q) {
		struct sk_str t = sk_str_trim(q, strlen(q));
		q = sk_arena_strndup(c->a, t.p, t.n);
	}
	sa->q = q ? q : "";
	sa->topic = sk_web_arg(args, n, "temat");
	sa->partner = sk_web_arg(args, n, "gmina");
	sa->year = sk_web_arg(args, n, "rok");
	if (sa->topic && !*sa->topic)
		sa->topic = NULL;
	if (sa->partner && !*sa->partner)
		sa->partner = NULL;
	if (sa->year && !*sa->year)
		sa->year = NULL;
	sa->by_date = sort && strcmp(sort, "data") == 0;
	if (strlen(sa->q) > SK_WEB_QUERY_MAX) {
		sk_ctx_error(c, 400,
		             "Zapytanie jest za długie: wpisz najwyżej "
		             "500 znaków.");
		return false;
	}
	if ((sa->topic && !valid_slug(sa->topic)) ||
	    (sa->partner && !valid_slug(sa->partner)) ||
	    (sa->year && !valid_year(sa->year)) ||
	    !sk_ctx_page_arg(c, &sa->page)) {
		sk_ctx_error(c, 400,
		             "Nieprawidłowy filtr albo numer strony "
		             "w adresie.");
		return false;
	}
	sk_buf_init(&e, 4096);
	sk_buf_adds(&e, sa->q);
	if (sa->topic)
		sk_buf_addf(&e, "%stopic:%s", e.len ? " " : "", sa->topic);
	if (sa->partner)
		sk_buf_addf(&e, "%spartner:%s", e.len ? " " : "", sa->partner);
	if (sa->year)
		sk_buf_addf(&e, "%sdate:%s-01-01..%s-12-31", e.len ? " " : "",
		            sa->year, sa->year);
	sa->effective = sk_arena_strdup(c->a, e.p);
	sk_buf_release(&e);
	return true;
}

/* "/szukaj?q=...&temat=..." with the given q and the current filters;
 * for_pager leaves a final '&' for "strona=N". Returned raw (URL-safe);
 * escape it for HTML. */
static char *
search_url_ex(struct sk_ctx *c, const char *path, const char *q,
              const struct sk_search_args *sa, bool keep_sort, bool for_pager)
{
	struct sk_buf u;
	char *out;

	sk_buf_init(&u, 8192);
	sk_buf_adds(&u, path);
	sk_buf_adds(&u, "?q=");
	sk_buf_add_url(&u, q, strlen(q));
	if (sa->topic)
		sk_buf_addf(&u, "&temat=%s", sa->topic);
	if (sa->partner)
		sk_buf_addf(&u, "&gmina=%s", sa->partner);
	if (sa->year)
		sk_buf_addf(&u, "&rok=%s", sa->year);
	if (keep_sort && sa->by_date)
		sk_buf_adds(&u, "&sort=data");
	if (for_pager)
		sk_buf_addc(&u, '&');
	out = sk_arena_strdup(c->a, u.p);
	sk_buf_release(&u);
	return out;
}

static char *
search_url(struct sk_ctx *c, const char *path, const char *q,
           const struct sk_search_args *sa, bool keep_sort)
{
	return search_url_ex(c, path, q, sa, keep_sort, false);
}

/* Is term (e.g. "topic:zamowienia") a whole word of q already? */
static bool
has_term(const char *q, const char *term)
{
	size_t l = strlen(term);
	for (const char *p = strstr(q, term); p; p = strstr(p + 1, term)) {
		bool start = p == q || p[-1] == ' ' || p[-1] == '(';
		bool end = p[l] == '\0' || p[l] == ' ' || p[l] == ')';
		if (start && end)
			return true;
	}
	return false;
}

/* A facet value is offered when it narrows the results: present in some
 * but not all of them, and not already a term of the query. */
static void
facet_group(struct sk_ctx *c, struct sk_buf *b, const char *title,
            const struct sk_facet *f, size_t n, const char *field,
            const struct sk_search_args *sa, int64_t total)
{
	bool any = false;

	for (size_t i = 0; i < n && !any; i++)
		any = f[i].count > 0 && f[i].count < total;
	if (!any)
		return;
	sk_buf_adds(b, "<h3>");
	sk_buf_adds(b, title);
	sk_buf_adds(b, "</h3>\n<ul>\n");
	for (size_t i = 0; i < n; i++) {
		char *term;
		if (f[i].count <= 0 || f[i].count >= total || !f[i].value)
			continue;
		if (strcmp(field, "date") == 0) {
			if (!valid_year(f[i].value))
				continue;
			term = sk_arena_printf(c->a, "date:%s-01-01..%s-12-31",
			                       f[i].value, f[i].value);
		} else {
			if (!valid_slug(f[i].value))
				continue;
			term =
			    sk_arena_printf(c->a, "%s:%s", field, f[i].value);
		}
		if (has_term(sa->effective, term))
			continue;
		char *q = sk_arena_printf(c->a, "%s%s%s", sa->q,
		                          *sa->q ? " " : "", term);
		sk_buf_adds(b, "<li><a href=\"");
		sk_buf_add_htmls(b, search_url(c, "/szukaj", q, sa, true));
		sk_buf_adds(b, "\">");
		sk_buf_add_htmls(b, f[i].label && *f[i].label ? f[i].label
		                                              : f[i].value);
		sk_buf_adds(b, "</a> <span class=\"muted\">(");
		sk_page_number(b, f[i].count);
		sk_buf_adds(b, ")</span></li>\n");
	}
	sk_buf_adds(b, "</ul>\n");
}

static bool
narrows(const struct sk_facet *f, size_t n, int64_t total)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].count > 0 && f[i].count < total)
			return true;
	return false;
}

static const char *
facet_label(const struct sk_facet *f, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].value && strcmp(f[i].value, value) == 0 &&
		    f[i].label && *f[i].label)
			return f[i].label;
	return value;
}

static void
active_filters(struct sk_ctx *c, struct sk_buf *b,
               const struct sk_search_args *sa)
{
	struct sk_search_args without;

	if (!sa->topic && !sa->partner && !sa->year)
		return;
	sk_buf_adds(b, "<p class=\"meta\">Filtry: ");
	for (int k = 0; k < 3; k++) {
		const char *v = k == 0   ? sa->topic
		                : k == 1 ? sa->partner
		                         : sa->year;
		if (!v)
			continue;
		without = *sa;
		if (k == 0)
			without.topic = NULL;
		else if (k == 1)
			without.partner = NULL;
		else
			without.year = NULL;
		sk_buf_adds(b, k == 0   ? "temat "
		               : k == 1 ? "partner "
		                        : "rok ");
		sk_buf_add_htmls(b, v);
		sk_buf_adds(b, " (<a href=\"");
		sk_buf_add_htmls(
		    b, search_url(c, "/szukaj", sa->q, &without, true));
		sk_buf_adds(b, "\">usuń filtr</a>) ");
	}
	sk_buf_adds(b, "</p>\n");
}

static void
search_hidden_filters(struct sk_buf *b, const struct sk_search_args *sa)
{
	/* Keep the filters when the query is edited in the form. */
	if (sa->topic)
		sk_buf_addf(b,
		            "<input type=\"hidden\" name=\"temat\" "
		            "value=\"%s\">\n",
		            sa->topic);
	if (sa->partner)
		sk_buf_addf(b,
		            "<input type=\"hidden\" name=\"gmina\" "
		            "value=\"%s\">\n",
		            sa->partner);
	if (sa->year)
		sk_buf_addf(b,
		            "<input type=\"hidden\" name=\"rok\" "
		            "value=\"%s\">\n",
		            sa->year);
}

/* The search form. On the start page (sa NULL) a box and a button; on the
 * search page also the order, the filters kept as hidden fields and, for
 * a query that was not understood, the error state of the box. */
static void
search_form(struct sk_buf *b, const char *label,
            const struct sk_search_args *sa, bool invalid)
{
	bool by_date = sa && sa->by_date;

	sk_buf_addf(b,
	            "<form class=\"search\" role=\"search\" action=\"/szukaj\" "
	            "method=\"get\">\n<div class=\"field\"><label for=\"q\">"
	            "%s</label>\n<input id=\"q\" name=\"q\" type=\"search\" "
	            "maxlength=\"%d\" value=\"",
	            label, SK_WEB_QUERY_MAX);
	sk_buf_add_htmls(b, sa ? sa->q : "");
	sk_buf_addf(b, "\"%s></div>\n",
	            invalid ? " aria-invalid=\"true\" "
	                      "aria-describedby=\"blad-zapytania\""
	                    : "");
	if (sa) {
		search_hidden_filters(b, sa);
		sk_buf_addf(b,
		            "<div class=\"field-sort\"><label for=\"sort\">"
		            "Kolejność</label>\n<select id=\"sort\" "
		            "name=\"sort\"><option value=\"\"%s>najtrafniejsze"
		            "</option><option value=\"data\"%s>najnowsze"
		            "</option></select></div>\n",
		            by_date ? "" : " selected",
		            by_date ? " selected" : "");
	}
	sk_buf_adds(b, "<button type=\"submit\">Szukaj</button>\n</form>\n");
}

void
sk_page_search(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Szukaj", .nav = SK_NAV_SEARCH };
	struct sk_search_args sa;
	struct sk_search_opts o = { 0 };
	struct sk_results r;
	struct sk_err err = { 0 };
	enum sk_status rc = SK_OK;
	bool searched = false;

	if (!sk_web_search_args(c, &sa))
		return;
	memset(&r, 0, sizeof(r));
	if (*sa.effective) {
		o.query = sa.effective;
		o.backend = c->req->settings ? c->req->settings->backend
		                             : SK_BACKEND_DEFAULT;
		o.offset = (size_t)(sa.page - 1) * SK_WEB_PER_PAGE;
		o.limit = SK_WEB_PER_PAGE;
		o.sort_by_date = sa.by_date;
		o.want_facets = true;
		o.viewer = c->viewer;
		rc = sk_search(c->req->ix, c->a, &o, &r, &err);
		if (rc != SK_OK && rc != SK_EINVAL) {
			sk_ctx_fail(c, rc, &err, "search");
			return;
		}
		searched = rc == SK_OK;
		p.title =
		    sk_arena_printf(c->a, "%s – wyniki wyszukiwania", sa.q);
		p.feed_url =
		    search_url(c, "/feed/szukaj.atom", sa.q, &sa, false);
		p.feed_title = "Nowe wiadomości dla tego wyszukiwania";
	}

	if (rc == SK_EINVAL)
		c->resp->status = 400;
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, *sa.effective ? "<h1>Wyniki wyszukiwania</h1>\n"
	                             : "<h1>Szukaj w archiwum</h1>\n");
	search_form(b, "Szukane słowa", &sa, rc == SK_EINVAL);
	active_filters(c, b, &sa);

	if (rc == SK_EINVAL) {
		sk_buf_adds(b, "<div class=\"error\" role=\"alert\" "
		               "id=\"blad-zapytania\"><p><strong>Nie rozumiemy "
		               "tego zapytania.</strong> ");
		sk_buf_add_htmls(b, err.msg);
		sk_buf_adds(b, "</p></div>\n");
		sk_page_search_help(b);
		sk_page_end(b, &p);
		sk_ctx_html_done(c);
		return;
	}
	if (!searched) {
		sk_page_search_help(b);
		sk_page_end(b, &p);
		sk_ctx_html_done(c);
		return;
	}

	if (r.suggestion && *r.suggestion) {
		sk_buf_adds(b, "<p class=\"suggest\">Czy chodziło Ci o: <a "
		               "href=\"");
		sk_buf_add_htmls(
		    b, search_url(c, "/szukaj", r.suggestion, &sa, true));
		sk_buf_adds(b, "\"><strong>");
		sk_buf_add_htmls(b, r.suggestion);
		sk_buf_adds(b, "</strong></a>?</p>\n");
	}
	sk_buf_adds(b, "<p role=\"status\">");
	if (r.total > 0) {
		sk_buf_adds(b, "Znaleziono ");
		sk_page_count(b, r.total, "wiadomość", "wiadomości",
		              "wiadomości");
		sk_buf_adds(b, ".");
	} else {
		sk_buf_adds(b, "Nic nie znaleziono.");
	}
	sk_buf_adds(b, "</p>\n");

	if (r.total <= 0) {
		sk_buf_adds(b, "<div class=\"notice\"><p>Spróbuj innych lub "
		               "mniej licznych słów, usuń filtry albo pomiń "
		               "polskie znaki.</p></div>\n");
		sk_page_search_help(b);
		sk_page_end(b, &p);
		sk_ctx_html_done(c);
		return;
	}

	sk_buf_adds(b, "<div class=\"layout\">\n<section aria-labelledby="
	               "\"wyniki\">\n<h2 id=\"wyniki\">Wyniki</h2>\n");
	sk_buf_addf(b, "<ol class=\"results\" start=\"%lld\">\n",
	            (long long)((sa.page - 1) * SK_WEB_PER_PAGE + 1));
	for (size_t i = 0; i < r.n_hits; i++) {
		const struct sk_hit *h = &r.hits[i];
		sk_buf_adds(b, "<li><h3><a href=\"");
		url_message(b, h->message_id);
		sk_buf_adds(b, "\">");
		subject(b, h->subject);
		sk_buf_adds(b, "</a></h3>\n<p class=\"meta\">");
		person(c, b, h->from_name, h->from_addr, false);
		sk_buf_adds(b, " · ");
		sk_page_time(b, h->date);
		if (h->partner_slug) {
			sk_buf_adds(b, " · <a href=\"/gmina/");
			sk_buf_add_url(b, h->partner_slug,
			               strlen(h->partner_slug));
			sk_buf_adds(b, "\">");
			sk_buf_add_htmls(b,
			                 facet_label(r.partners, r.n_partners,
			                             h->partner_slug));
			sk_buf_adds(b, "</a>");
		}
		sk_buf_addf(b,
		            " · <a href=\"/watek/%lld#m-%lld\">cały "
		            "wątek</a></p>\n",
		            (long long)h->thread_id, (long long)h->id);
		if (h->snippet_html && *h->snippet_html) {
			/* Escaped by index/ with matches in <mark>. */
			sk_buf_adds(b, "<p class=\"snippet\">");
			if (c->hide_addrs)
				sk_page_mask_html(b, h->snippet_html,
				                  strlen(h->snippet_html));
			else
				sk_buf_adds(b, h->snippet_html);
			sk_buf_adds(b, "</p>\n");
		}
		if (h->n_topics) {
			sk_buf_adds(b, "<p class=\"meta\">");
			sk_buf_adds(b,
			            h->n_topics == 1 ? "Temat: " : "Tematy: ");
			for (size_t k = 0; k < h->n_topics; k++) {
				if (k)
					sk_buf_adds(b, ", ");
				sk_buf_adds(b, "<a href=\"");
				url_topic(b, h->topics[k]);
				sk_buf_adds(b, "\">");
				sk_buf_add_htmls(b, facet_label(r.topics,
				                                r.n_topics,
				                                h->topics[k]));
				sk_buf_adds(b, "</a>");
			}
			sk_buf_adds(b, "</p>\n");
		}
		sk_buf_adds(b, "</li>\n");
	}
	sk_buf_adds(b, "</ol>\n");
	int64_t pages = (r.total + SK_WEB_PER_PAGE - 1) / SK_WEB_PER_PAGE;
	if (pages > SK_WEB_MAX_PAGE)
		pages = SK_WEB_MAX_PAGE;
	sk_page_pager(b, search_url_ex(c, "/szukaj", sa.q, &sa, true, true),
	              sa.page, pages);
	sk_buf_adds(b, "</section>\n");

	if (narrows(r.topics, r.n_topics, r.total) ||
	    narrows(r.partners, r.n_partners, r.total) ||
	    narrows(r.years, r.n_years, r.total)) {
		sk_buf_adds(b,
		            "<aside class=\"facets\" aria-labelledby="
		            "\"zawez\">\n<h2 id=\"zawez\">Zawęź wyniki</h2>\n");
		facet_group(c, b, "Temat", r.topics, r.n_topics, "topic", &sa,
		            r.total);
		facet_group(c, b, "Partner", r.partners, r.n_partners,
		            "partner", &sa, r.total);
		facet_group(c, b, "Rok", r.years, r.n_years, "date", &sa,
		            r.total);
		sk_buf_adds(b, "</aside>\n");
	}
	sk_buf_adds(b, "</div>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

/* ---- topic and partner pages --------------------------------------------- */

static void
threads_section(struct sk_ctx *c, struct sk_buf *b, struct sk_thread_row *rows,
                size_t n, int64_t total, int64_t page, const char *base,
                const struct topic_names *names)
{
	sk_buf_adds(b, "<section aria-labelledby=\"watki\">\n"
	               "<h2 id=\"watki\">Wątki <span class=\"muted\">(");
	sk_page_number(b, total);
	sk_buf_adds(b, ")</span></h2>\n");
	if (n)
		thread_list(c, b, rows, n, names, 3);
	else if (page > 1)
		sk_buf_adds(b, "<p>Na tej stronie nie ma już wątków.</p>\n");
	else
		sk_buf_adds(b, "<p>Nie ma jeszcze wątków.</p>\n");
	int64_t pages =
	    (total + SK_WEB_THREADS_PER_PAGE - 1) / SK_WEB_THREADS_PER_PAGE;
	if (pages > SK_WEB_MAX_PAGE)
		pages = SK_WEB_MAX_PAGE;
	sk_page_pager(b, base, page, pages);
	sk_buf_adds(b, "</section>\n");
}

void
sk_page_topic(struct sk_ctx *c, const char *slug, bool meetings)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .nav = meetings ? SK_NAV_MEETINGS : SK_NAV_NONE,
		             .header_search = true };
	struct topic_names names = { 0 };
	const struct sk_topic_row *t;
	struct sk_thread_filter f = { .topic = slug,
		                      .limit = SK_WEB_THREADS_PER_PAGE };
	struct sk_thread_row *rows = NULL;
	size_t n = 0;
	int64_t total = 0, page;
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (!sk_ctx_page_arg(c, &page)) {
		sk_ctx_error(c, 400, "Nieprawidłowy numer strony.");
		return;
	}
	if (!load_topics(c, &names))
		return;
	t = topic_find(&names, slug);
	if (!t && !meetings) {
		sk_ctx_error(c, 404, "Nie ma takiego tematu.");
		return;
	}
	f.offset = (size_t)(page - 1) * SK_WEB_THREADS_PER_PAGE;
	if (t) {
		rc = sk_index_threads(c->req->ix, c->a, &c->viewer, &f, &rows,
		                      &n, &total, &err);
		if (rc) {
			sk_ctx_fail(c, rc, &err, "topic threads");
			return;
		}
	}
	p.title = meetings ? "Notatki ze spotkań" : t->name;
	p.feed_url = sk_arena_printf(c->a, "/feed/temat/%s.atom", slug);
	p.feed_title =
	    sk_arena_printf(c->a, "Nowe wątki: %s", t ? t->name : slug);
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>");
	sk_buf_add_htmls(b, meetings ? "Notatki ze spotkań" : t->name);
	sk_buf_adds(b, "</h1>\n");
	if (meetings) {
		sk_buf_adds(b, "<p class=\"lead\">Notatki z kwartalnych "
		               "spotkań partnerstwa, rozsyłane przez "
		               "koordynatora na listę.</p>\n");
		sk_notes_section(c, b);
	} else if (t->description && *t->description) {
		sk_buf_adds(b, "<p class=\"lead\">");
		sk_buf_add_htmls(b, t->description);
		sk_buf_adds(b, "</p>\n");
	}
	if (t && t->parent_slug) {
		sk_buf_adds(b, "<p class=\"meta\">Część tematu <a href=\"");
		url_topic(b, t->parent_slug);
		sk_buf_adds(b, "\">");
		sk_buf_add_htmls(b, topic_label(&names, t->parent_slug));
		sk_buf_adds(b, "</a>.</p>\n");
	}
	bool any_child = false;
	for (size_t i = 0; t && i < names.n; i++) {
		const struct sk_topic_row *k = &names.rows[i];
		if (!k->parent_slug || strcmp(k->parent_slug, slug) != 0)
			continue;
		if (!any_child)
			sk_buf_adds(b, "<h2>Podtematy</h2>\n<ul class="
			               "\"topics\">\n");
		any_child = true;
		sk_buf_adds(b, "<li><a href=\"");
		url_topic(b, k->slug);
		sk_buf_adds(b, "\">");
		sk_buf_add_htmls(b, k->name);
		sk_buf_adds(b, "</a> <span class=\"muted\">(");
		sk_page_count(b, k->threads, "wątek", "wątki", "wątków");
		sk_buf_adds(b, ")</span></li>\n");
	}
	if (any_child)
		sk_buf_adds(b, "</ul>\n");
	sk_buf_adds(b, "<p class=\"meta\">");
	sk_page_count(b, total, "wątek", "wątki", "wątków");
	sk_buf_adds(b, " · <a href=\"/szukaj?temat=");
	sk_buf_add_url(b, slug, strlen(slug));
	sk_buf_adds(b, "&amp;sort=data\">Szukaj w tym temacie</a> · "
	               "<a href=\"");
	sk_buf_add_htmls(b, p.feed_url);
	sk_buf_adds(b, "\">Kanał Atom</a></p>\n");
	if (!meetings && page == 1) {
		sk_page_pins_section(c, b, slug);
		sk_page_practices_section(c, b, slug, NULL, 5, names.rows,
		                          names.n);
	}
	threads_section(c, b, rows, n, total, page,
	                meetings ? "/spotkania?"
	                         : sk_arena_printf(c->a, "/temat/%s?", slug),
	                &names);
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

void
sk_page_partner(struct sk_ctx *c, const char *slug)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .header_search = true };
	struct topic_names names = { 0 };
	struct sk_partner_row *partners = NULL, *pr = NULL;
	size_t n_partners = 0, n = 0;
	struct sk_thread_filter f = { .partner = slug,
		                      .limit = SK_WEB_THREADS_PER_PAGE };
	struct sk_thread_row *rows = NULL;
	int64_t total = 0, page;
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (!sk_ctx_page_arg(c, &page)) {
		sk_ctx_error(c, 400, "Nieprawidłowy numer strony.");
		return;
	}
	rc = sk_index_partners(c->req->ix, c->a, &partners, &n_partners, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "partners");
		return;
	}
	for (size_t i = 0; i < n_partners; i++)
		if (strcmp(partners[i].slug, slug) == 0)
			pr = &partners[i];
	if (!pr) {
		sk_ctx_error(c, 404, "Nie ma takiego partnera.");
		return;
	}
	if (!load_topics(c, &names))
		return;
	f.offset = (size_t)(page - 1) * SK_WEB_THREADS_PER_PAGE;
	rc = sk_index_threads(c->req->ix, c->a, &c->viewer, &f, &rows, &n,
	                      &total, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "partner threads");
		return;
	}
	p.title = pr->name;
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>");
	sk_buf_add_htmls(b, pr->name);
	sk_buf_adds(b, "</h1>\n<p class=\"meta\">");
	if (pr->kind && *pr->kind) {
		sk_buf_add_htmls(b, pr->kind);
		sk_buf_adds(b, " · ");
	}
	sk_page_count(b, pr->messages, "wiadomość", "wiadomości", "wiadomości");
	sk_buf_adds(b, " na liście · <a href=\"/szukaj?gmina=");
	sk_buf_add_url(b, slug, strlen(slug));
	sk_buf_adds(b, "&amp;sort=data\">Szukaj w wiadomościach partnera"
	               "</a></p>\n");
	if (page == 1)
		sk_page_practices_section(c, b, NULL, slug, 5, names.rows,
		                          names.n);
	threads_section(c, b, rows, n, total, page,
	                sk_arena_printf(c->a, "/gmina/%s?", slug), &names);
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

/* ---- a thread and a message ---------------------------------------------- */

static const char *
type_label(const char *ct)
{
	static const struct {
		const char *type, *label;
	} types[] = {
		{ "application/pdf", "PDF" },
		{ "application/msword", "dokument Word (DOC)" },
		{ "application/vnd.openxmlformats-officedocument."
		  "wordprocessingml.document",
		  "dokument Word (DOCX)" },
		{ "application/vnd.oasis.opendocument.text",
		  "dokument tekstowy (ODT)" },
		{ "application/vnd.ms-excel", "arkusz Excel (XLS)" },
		{ "application/vnd.openxmlformats-officedocument."
		  "spreadsheetml.sheet",
		  "arkusz Excel (XLSX)" },
		{ "application/vnd.oasis.opendocument.spreadsheet",
		  "arkusz (ODS)" },
		{ "text/plain", "tekst" },
		{ "text/csv", "CSV" },
		{ "application/zip", "archiwum ZIP" },
		{ "image/jpeg", "obraz JPEG" },
		{ "image/png", "obraz PNG" },
	};
	for (size_t i = 0; ct && i < SK_ARRAY_SIZE(types); i++)
		if (strcasecmp(ct, types[i].type) == 0)
			return types[i].label;
	return NULL;
}

void
sk_page_attachment_item(struct sk_buf *b, const char *message_id,
                        int position, const char *filename,
                        const char *content_type, int64_t size)
{
	const char *label = type_label(content_type);

	sk_buf_adds(b, "<li><a href=\"");
	url_message(b, message_id);
	sk_buf_addf(b, "zalacznik/%d\" download>", position);
	if (filename && *filename)
		sk_buf_add_htmls(b, filename);
	else
		sk_buf_addf(b, "załącznik %d", position);
	sk_buf_adds(b, "</a> <span class=\"muted\">(");
	if (label)
		sk_buf_adds(b, label);
	else
		sk_buf_add_htmls(b, content_type);
	sk_buf_adds(b, ", ");
	sk_page_size(b, size);
	sk_buf_adds(b, ")</span></li>\n");
}

static void
attachments(struct sk_ctx *c, struct sk_buf *b, const struct sk_message_row *m,
            int heading)
{
	(void)c;
	if (!m->n_attachments)
		return;
	sk_buf_addf(b, "<h%d class=\"meta\">", heading);
	sk_page_count(b, (int64_t)m->n_attachments, "załącznik", "załączniki",
	              "załączników");
	sk_buf_addf(b, "</h%d>\n<ul class=\"attachments\">\n", heading);
	for (size_t i = 0; i < m->n_attachments; i++) {
		const struct sk_attachment_row *at = &m->attachments[i];
		sk_page_attachment_item(b, m->message_id, at->position,
		                        at->filename, at->content_type,
		                        at->size);
	}
	sk_buf_adds(b, "</ul>\n");
}

static void
message_notes(struct sk_buf *b, const struct sk_message_row *m)
{
	if (m->flags & SK_MSG_HELD)
		sk_buf_adds(b, "<p class=\"notice\">Wiadomość wstrzymana: "
		               "nadawca spoza domen partnerów. Widzą ją tylko "
		               "koordynatorzy.</p>\n");
	if (m->flags & SK_MSG_MALFORMED)
		sk_buf_adds(b, "<p class=\"notice\">Wiadomość była uszkodzona; "
		               "pokazujemy to, co udało się odczytać.</p>\n");
	else if (m->flags & SK_MSG_TRUNCATED)
		sk_buf_adds(b, "<p class=\"notice\">Wiadomość była zbyt duża "
		               "i została skrócona.</p>\n");
}

/* Strip reply and list prefixes ("Re:", "Odp:", "[Tag]") for comparing
 * subjects. */
static const char *
bare_subject(const char *s)
{
	static const char *const pfx[] = { "re:", "odp:", "odp.:", "fwd:",
		                           "fw:", "pd:",  "aw:",   "wg:" };
	bool again = true;

	if (!s)
		return "";
	while (again) {
		again = false;
		while (*s == ' ')
			s++;
		for (size_t i = 0; i < SK_ARRAY_SIZE(pfx); i++) {
			if (sk_istarts_with(s, pfx[i])) {
				s += strlen(pfx[i]);
				again = true;
			}
		}
		if (*s == '[') {
			const char *e = strchr(s, ']');
			if (e) {
				s = e + 1;
				again = true;
			}
		}
	}
	return s;
}

static const struct sk_message_row *
find_msg(const struct sk_message_row *m, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].id == id)
			return &m[i];
	return NULL;
}

void
sk_page_thread(struct sk_ctx *c, int64_t id)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .header_search = true };
	struct topic_names names = { 0 };
	struct sk_thread_row t;
	struct sk_message_row *m = NULL;
	size_t n = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;
	const char *view = sk_web_arg(c->t.args, c->t.n_args, "widok");
	bool flat = view && strcmp(view, "plaski") == 0;

	memset(&t, 0, sizeof(t));
	rc =
	    sk_index_thread(c->req->ix, c->a, &c->viewer, id, &t, &m, &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "thread");
		return;
	}
	if (!load_topics(c, &names))
		return;
	if (flat) {
		/* Date order; insertion sort keeps thread order for ties. */
		for (size_t i = 1; i < n; i++) {
			struct sk_message_row x = m[i];
			size_t j = i;
			while (j > 0 && m[j - 1].date > x.date) {
				m[j] = m[j - 1];
				j--;
			}
			m[j] = x;
		}
	}
	p.title = t.subject && *t.subject ? t.subject : "(bez tematu)";
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>");
	subject(b, t.subject);
	sk_buf_adds(b, "</h1>\n<p class=\"meta\">");
	sk_page_count(b, (int64_t)n, "wiadomość", "wiadomości", "wiadomości");
	if (n) {
		sk_buf_adds(b, " · od ");
		sk_page_time(b, t.first_date);
		if (t.last_date > t.first_date) {
			sk_buf_adds(b, " do ");
			sk_page_time(b, t.last_date);
		}
	}
	sk_buf_adds(b, "</p>\n");
	topic_links(b, &names, t.topics, t.n_topics);
	sk_buf_addf(b,
	            "<ul class=\"plain meta view-switch\"><li>Widok: "
	            "<a href=\"/watek/%lld\"%s>wątkowy</a> · "
	            "<a href=\"/watek/%lld?widok=plaski\"%s>według daty"
	            "</a>",
	            (long long)id, flat ? "" : " aria-current=\"page\"",
	            (long long)id, flat ? " aria-current=\"page\"" : "");
	if (c->viewer.logged_in)
		sk_buf_addf(b,
		            " · <a href=\"/watek/%lld.mbox\">pobierz "
		            "wątek (mbox)</a>",
		            (long long)id);
	sk_buf_adds(b, "</li></ul>\n");
	sk_curate_thread_panel(c, b, id);

	for (size_t i = 0; i < n; i++) {
		const struct sk_message_row *x = &m[i];
		int depth = flat || x->depth < 0 ? 0
		            : x->depth > 8       ? 8
		                                 : x->depth;
		sk_buf_addf(b,
		            "<article class=\"msg d%d\" id=\"m-%lld\" "
		            "aria-labelledby=\"h-%lld\">\n<header>\n"
		            "<h2 id=\"h-%lld\">",
		            depth, (long long)x->id, (long long)x->id,
		            (long long)x->id);
		person(c, b, x->from_name, x->from_addr, false);
		if (x->partner_name) {
			sk_buf_adds(b, " <span class=\"muted\">(");
			sk_buf_add_htmls(b, x->partner_name);
			sk_buf_adds(b, ")</span>");
		}
		sk_buf_adds(b, "</h2>\n<p class=\"meta\">");
		sk_page_time(b, x->date);
		if (!c->hide_addrs && x->from_addr && *x->from_addr) {
			sk_buf_adds(b, " · ");
			sk_buf_add_htmls(b, x->from_addr);
		}
		const struct sk_message_row *parent =
		    x->parent_id ? find_msg(m, n, x->parent_id) : NULL;
		if (parent && (flat || i == 0 || &m[i - 1] != parent)) {
			sk_buf_addf(b,
			            " · w odpowiedzi na <a href=\"#m-%lld\">",
			            (long long)parent->id);
			person(c, b, parent->from_name, parent->from_addr,
			       false);
			sk_buf_adds(b, "</a>");
		}
		sk_buf_adds(b, "</p>\n");
		if (strcmp(bare_subject(x->subject), bare_subject(t.subject))) {
			sk_buf_adds(b, "<p class=\"meta\">Temat: ");
			subject(b, x->subject);
			sk_buf_adds(b, "</p>\n");
		}
		sk_buf_adds(b, "</header>\n");
		message_notes(b, x);
		if (x->body)
			sk_page_body(b, x->body, strlen(x->body),
			             x->quote_start, text_flags(c));
		attachments(c, b, x, 3);
		sk_buf_adds(b, "<ul class=\"plain meta msg-links\"><li><a "
		               "href=\"");
		url_message(b, x->message_id);
		sk_buf_adds(b, "\">Link do tej wiadomości</a>");
		if (c->viewer.logged_in) {
			sk_buf_adds(b, " · <a href=\"");
			url_message(b, x->message_id);
			sk_buf_adds(b, "raw\">źródło wiadomości</a>");
		}
		sk_buf_adds(b, "</li></ul>\n</article>\n");
	}
	sk_buf_addf(b, "<p><a href=\"/watek/%lld/podobne\">Podobne wątki</a>"
	               "</p>\n", (long long)id);
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

void
sk_page_similar(struct sk_ctx *c, int64_t id)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .header_search = true };
	struct topic_names names = { 0 };
	struct sk_thread_row t, *rows = NULL;
	struct sk_message_row *msgs;
	struct sk_err err = { 0 };
	size_t n = 0, n_msgs;
	enum sk_status rc;

	rc = sk_index_thread(c->req->ix, c->a, &c->viewer, id, &t, &msgs,
	                     &n_msgs, &err);
	if (!rc)
		rc = sk_index_similar_threads(c->req->ix, c->a, &c->viewer, id,
		                              10, &rows, &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "similar threads");
		return;
	}
	if (!load_topics(c, &names))
		return;
	p.title = "Podobne wątki";
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>Podobne wątki</h1>\n<p class=\"meta\">Do wątku "
	               "<a href=\"");
	sk_buf_addf(b, "/watek/%lld\">", (long long)id);
	subject(b, t.subject);
	sk_buf_adds(b, "</a>: wątki o tych samych sprawach, znalezione po "
	               "najbardziej charakterystycznych słowach.</p>\n");
	if (n)
		thread_list(c, b, rows, n, &names, 2);
	else
		sk_buf_adds(b, "<p>Nie znaleziono podobnych wątków.</p>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

void
sk_page_message(struct sk_ctx *c, const char *message_id)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .header_search = true };
	struct topic_names names = { 0 };
	struct sk_message_row m;
	struct sk_err err = { 0 };
	enum sk_status rc;

	memset(&m, 0, sizeof(m));
	rc = sk_index_message(c->req->ix, c->a, &c->viewer, message_id, &m,
	                      &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "message");
		return;
	}
	if (!load_topics(c, &names))
		return;
	p.title = m.subject && *m.subject ? m.subject : "(bez tematu)";
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<article class=\"msg\" aria-labelledby=\"tytul\">\n"
	               "<h1 id=\"tytul\">");
	subject(b, m.subject);
	sk_buf_adds(b, "</h1>\n<dl class=\"headers\">\n<dt>Od</dt><dd>");
	person(c, b, m.from_name, m.from_addr, true);
	sk_buf_adds(b, "</dd>\n<dt>Data</dt><dd>");
	sk_page_time(b, m.date);
	sk_buf_adds(b, "</dd>\n");
	if (!c->hide_addrs && m.to_addrs && *m.to_addrs) {
		sk_buf_adds(b, "<dt>Do</dt><dd>");
		sk_buf_add_htmls(b, m.to_addrs);
		sk_buf_adds(b, "</dd>\n");
	}
	if (!c->hide_addrs && m.cc_addrs && *m.cc_addrs) {
		sk_buf_adds(b, "<dt>Kopia</dt><dd>");
		sk_buf_add_htmls(b, m.cc_addrs);
		sk_buf_adds(b, "</dd>\n");
	}
	if (m.partner_slug) {
		sk_buf_adds(b, "<dt>Partner</dt><dd><a href=\"/gmina/");
		sk_buf_add_url(b, m.partner_slug, strlen(m.partner_slug));
		sk_buf_adds(b, "\">");
		sk_buf_add_htmls(b, m.partner_name ? m.partner_name
		                                   : m.partner_slug);
		sk_buf_adds(b, "</a></dd>\n");
	}
	if (m.n_topics) {
		sk_buf_adds(b, "<dt>Tematy</dt><dd>");
		for (size_t i = 0; i < m.n_topics; i++) {
			if (i)
				sk_buf_adds(b, ", ");
			sk_buf_adds(b, "<a href=\"");
			url_topic(b, m.topics[i]);
			sk_buf_adds(b, "\">");
			sk_buf_add_htmls(b, topic_label(&names, m.topics[i]));
			sk_buf_adds(b, "</a>");
		}
		sk_buf_adds(b, "</dd>\n");
	}
	sk_buf_addf(b,
	            "<dt>Wątek</dt><dd><a href=\"/watek/%lld#m-%lld\">"
	            "pokaż w wątku</a></dd>\n",
	            (long long)m.thread_id, (long long)m.id);
	if (!c->hide_addrs) {
		sk_buf_adds(b, "<dt>Message-ID</dt><dd><code>");
		sk_buf_add_htmls(b, m.message_id);
		sk_buf_adds(b, "</code></dd>\n");
	}
	sk_buf_adds(b, "</dl>\n");
	message_notes(b, &m);
	if (m.body)
		sk_page_body(b, m.body, strlen(m.body), m.quote_start,
		             text_flags(c));
	attachments(c, b, &m, 2);
	if (c->viewer.logged_in) {
		sk_buf_adds(b, "<p class=\"meta\"><a href=\"");
		url_message(b, m.message_id);
		sk_buf_adds(b, "raw\">Źródło wiadomości</a></p>\n");
	}
	sk_buf_adds(b, "</article>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}
