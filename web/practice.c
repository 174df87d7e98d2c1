/* web/practice.c: what everyone reads of the curated side of the archive —
 * good-practice records (/praktyki, /praktyka/ID, their JSON and Atom
 * feed), the newcomers' path (/dla-nowych) and the glossary (/slownik),
 * plus the sections the start, topic and partner pages of pages.c show
 * (browsing by quarter is in quarter.c, the coordinators' forms in
 * curate.c). Who sees what is the index's business (drafts and
 * archived records for coordinators only, the contact person for logged-in
 * viewers only); this file adds that anonymous readers of a public archive
 * never see an e-mail address in the text either. */
#include "web/private.h"

#include <stdio.h>
#include <string.h>

#define PRACTICES_PER_PAGE SK_WEB_PER_PAGE
#define API_LIMIT_MAX 100

/* ---- shared bits --------------------------------------------------------- */

/* The Polish names of the statuses, as shown and as ?stan= values. */
static const struct {
	enum sk_practice_status status;
	const char *param, *label;
} statuses[] = {
	{ SK_PRACTICE_DRAFT, "szkic", "szkic" },
	{ SK_PRACTICE_VALIDATED, "zatwierdzona", "zatwierdzona" },
	{ SK_PRACTICE_ARCHIVED, "archiwalna", "archiwalna" },
};

static const char *
status_label(enum sk_practice_status s)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(statuses); i++)
		if (statuses[i].status == s)
			return statuses[i].label;
	return "szkic";
}

static unsigned
text_flags(const struct sk_ctx *c)
{
	return SK_TEXT_LINKS | (c->hide_addrs ? SK_TEXT_HIDE_ADDRS : 0);
}

/* Escaped one-line text, addresses hidden from anonymous readers. */
static void
line(struct sk_ctx *c, struct sk_buf *b, const char *s)
{
	if (s)
		sk_page_text(b, s, strlen(s),
		             c->hide_addrs ? SK_TEXT_HIDE_ADDRS : 0);
}

/* A long field, read as the little Markdown people type: paragraphs at
 * blank lines (lines in between are one paragraph), "- " or "* " lines a
 * list (indented lines continue an item); the rest is escaped as typed. */
static void
long_text(struct sk_ctx *c, struct sk_buf *b, const char *s)
{
	bool in_par = false, in_list = false;
	const char *p = s;

	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		struct sk_str t = sk_str_trim(p, len);
		bool item = t.n > 2 && (t.p[0] == '-' || t.p[0] == '*') &&
		            t.p[1] == ' ';
		bool indented = len && (p[0] == ' ' || p[0] == '\t');

		p = e ? e + 1 : p + len;
		if (in_list && t.n && !item && indented) {
			sk_buf_addc(b, ' '); /* an item goes on */
			sk_page_text(b, t.p, t.n, text_flags(c));
			continue;
		}
		if ((t.n == 0 || item) && in_par) {
			sk_buf_adds(b, "</p>\n");
			in_par = false;
		}
		if (in_list && (t.n == 0 || item || !indented)) {
			sk_buf_adds(b, "</li>\n");
			if (!item) {
				sk_buf_adds(b, "</ul>\n");
				in_list = false;
			}
		}
		if (item) {
			if (!in_list)
				sk_buf_adds(b, "<ul>\n");
			in_list = true;
			sk_buf_adds(b, "<li>");
			sk_page_text(b, t.p + 2, t.n - 2, text_flags(c));
		} else if (t.n) {
			sk_buf_adds(b, in_par ? " " : "<p>");
			in_par = true;
			sk_page_text(b, t.p, t.n, text_flags(c));
		}
	}
	if (in_par)
		sk_buf_adds(b, "</p>\n");
	if (in_list)
		sk_buf_adds(b, "</li>\n</ul>\n");
}

static bool
load_topics(struct sk_ctx *c, struct sk_topic_row **rows, size_t *n)
{
	struct sk_err err = { 0 };
	enum sk_status rc =
	    sk_index_topics(c->req->ix, c->a, &c->viewer, rows, n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "topics");
		return false;
	}
	return true;
}

static const char *
topic_name(const struct sk_topic_row *t, size_t n, const char *slug)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].slug, slug) == 0)
			return t[i].name;
	return slug;
}

static void
partner_link(struct sk_buf *b, const char *slug, const char *name)
{
	sk_buf_adds(b, "<a href=\"/gmina/");
	sk_buf_add_url(b, slug, strlen(slug));
	sk_buf_adds(b, "\">");
	sk_buf_add_htmls(b, name && *name ? name : slug);
	sk_buf_adds(b, "</a>");
}

/* Practice list rows (no long fields) as a list of headed items. */
static void
practice_list(struct sk_ctx *c, struct sk_buf *b, const struct sk_practice *r,
              size_t n, const struct sk_topic_row *topics, size_t n_topics,
              int heading)
{
	sk_buf_adds(b, "<ul class=\"threads practices\">\n");
	for (size_t i = 0; i < n; i++) {
		sk_buf_addf(b, "<li><h%d><a href=\"/praktyka/%lld\">", heading,
		            (long long)r[i].id);
		line(c, b, r[i].title);
		sk_buf_addf(b, "</a></h%d>\n<p class=\"meta\">", heading);
		if (r[i].partner_slug) {
			partner_link(b, r[i].partner_slug, r[i].partner_name);
			sk_buf_adds(b, " · ");
		}
		sk_buf_adds(b, "zaktualizowano ");
		sk_page_time(b, r[i].updated_at);
		if (r[i].status != SK_PRACTICE_VALIDATED) {
			sk_buf_adds(b, " · <strong>");
			sk_buf_adds(b, status_label(r[i].status));
			sk_buf_adds(b, "</strong>");
		}
		sk_buf_adds(b, "</p>\n");
		sk_page_topic_links(b, topics, n_topics, r[i].topics,
		                    r[i].n_topics);
		sk_buf_adds(b, "</li>\n");
	}
	sk_buf_adds(b, "</ul>\n");
}

/* Pinned threads with the coordinator's note. */
static void
pin_list(struct sk_ctx *c, struct sk_buf *b, const struct sk_pin_row *r,
         size_t n, int heading)
{
	sk_buf_adds(b, "<ul class=\"threads pins\">\n");
	for (size_t i = 0; i < n; i++) {
		const struct sk_thread_row *t = &r[i].thread;
		sk_buf_addf(b, "<li><h%d><a href=\"/watek/%lld\">", heading,
		            (long long)t->id);
		if (t->subject && *t->subject)
			line(c, b, t->subject);
		else
			sk_buf_adds(b, "(bez tematu)");
		sk_buf_addf(b, "</a></h%d>\n", heading);
		if (r[i].note && *r[i].note) {
			sk_buf_adds(b, "<p>");
			line(c, b, r[i].note);
			sk_buf_adds(b, "</p>\n");
		}
		sk_buf_adds(b, "<p class=\"meta\">");
		sk_page_count(b, t->messages, "wiadomość", "wiadomości",
		              "wiadomości");
		sk_buf_adds(b, " · od ");
		sk_page_time(b, t->first_date);
		sk_buf_adds(b, "</p>\n</li>\n");
	}
	sk_buf_adds(b, "</ul>\n");
}

/* ?temat=, ?gmina=, ?stan= and ?strona= of the list, its JSON and the
 * filter form. false: a 400 answer is set already. */
struct list_args {
	const char *topic, *partner, *status_param;
	struct sk_practice_filter f;
	int64_t page;
};

static bool
valid_slug(const char *s)
{
	return *s && strlen(s) <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

static bool
list_args(struct sk_ctx *c, struct list_args *la)
{
	const struct sk_param *args = c->t.args;
	size_t n = c->t.n_args;
	const char *st = sk_web_arg(args, n, "stan");

	memset(la, 0, sizeof(*la));
	la->topic = sk_web_arg(args, n, "temat");
	la->partner = sk_web_arg(args, n, "gmina");
	la->f.status = -1;
	if (la->topic && !*la->topic)
		la->topic = NULL;
	if (la->partner && !*la->partner)
		la->partner = NULL;
	if (st && *st) {
		for (size_t i = 0; i < SK_ARRAY_SIZE(statuses); i++)
			if (strcmp(st, statuses[i].param) == 0) {
				la->f.status = (int)statuses[i].status;
				la->status_param = statuses[i].param;
			}
	}
	if ((la->topic && !valid_slug(la->topic)) ||
	    (la->partner && !valid_slug(la->partner)) ||
	    (st && *st && !la->status_param) ||
	    !sk_ctx_page_arg(c, &la->page)) {
		sk_ctx_error(c, 400,
		             "Nieprawidłowy filtr albo numer strony "
		             "w adresie.");
		return false;
	}
	la->f.topic = la->topic;
	la->f.partner = la->partner;
	return true;
}

/* "/praktyki?temat=...&" for the pager (slugs and params are URL-safe). */
static const char *
list_url(struct sk_ctx *c, const struct list_args *la)
{
	return sk_arena_printf(
	    c->a, "/praktyki?%s%s%s%s%s%s%s", la->topic ? "temat=" : "",
	    la->topic ? la->topic : "", la->topic ? "&" : "",
	    la->partner ? "gmina=" : "", la->partner ? la->partner : "",
	    la->partner ? "&" : "",
	    la->status_param
	        ? sk_arena_printf(c->a, "stan=%s&", la->status_param)
	        : "");
}

/* ---- /praktyki ----------------------------------------------------------- */

static void
filter_form(struct sk_ctx *c, struct sk_buf *b, const struct list_args *la,
            const struct sk_topic_row *topics, size_t n_topics,
            const struct sk_partner_row *partners, size_t n_partners)
{
	sk_buf_adds(b, "<form class=\"search filters\" method=\"get\" "
	               "action=\"/praktyki\">\n<div class=\"field\">"
	               "<label for=\"f-temat\">Temat</label>\n<select "
	               "id=\"f-temat\" name=\"temat\"><option value=\"\">"
	               "wszystkie tematy</option>");
	for (size_t i = 0; i < n_topics; i++) {
		const struct sk_topic_row *t = &topics[i];
		sk_buf_adds(b, "<option value=\"");
		sk_buf_add_htmls(b, t->slug);
		sk_buf_addf(b, "\"%s>%s",
		            la->topic && strcmp(la->topic, t->slug) == 0
		                ? " selected"
		                : "",
		            t->parent_slug ? "– " : "");
		sk_buf_add_htmls(b, t->name);
		sk_buf_adds(b, "</option>");
	}
	sk_buf_adds(b, "</select></div>\n<div class=\"field\"><label "
	               "for=\"f-gmina\">Partner</label>\n<select "
	               "id=\"f-gmina\" name=\"gmina\"><option value=\"\">"
	               "wszyscy partnerzy</option>");
	for (size_t i = 0; i < n_partners; i++) {
		sk_buf_adds(b, "<option value=\"");
		sk_buf_add_htmls(b, partners[i].slug);
		sk_buf_addf(b, "\"%s>",
		            la->partner &&
		                    strcmp(la->partner, partners[i].slug) == 0
		                ? " selected"
		                : "");
		sk_buf_add_htmls(b, partners[i].name);
		sk_buf_adds(b, "</option>");
	}
	sk_buf_adds(b, "</select></div>\n");
	if (c->viewer.coordinator) {
		sk_buf_adds(b, "<div class=\"field\"><label for=\"f-stan\">"
		               "Stan</label>\n<select id=\"f-stan\" "
		               "name=\"stan\"><option value=\"\">wszystkie"
		               "</option>");
		for (size_t i = 0; i < SK_ARRAY_SIZE(statuses); i++)
			sk_buf_addf(b, "<option value=\"%s\"%s>%s</option>",
			            statuses[i].param,
			            la->status_param &&
			                    strcmp(la->status_param,
			                           statuses[i].param) == 0
			                ? " selected"
			                : "",
			            statuses[i].label);
		sk_buf_adds(b, "</select></div>\n");
	}
	sk_buf_adds(b, "<button type=\"submit\">Pokaż</button>\n</form>\n");
}

void
sk_page_practices(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Dobre praktyki",
		             .nav = SK_NAV_PRACTICES,
		             .header_search = true,
		             .feed_url = "/feed/praktyki.atom",
		             .feed_title = "Nowe dobre praktyki" };
	struct sk_topic_row *topics = NULL;
	struct sk_partner_row *partners = NULL;
	struct sk_practice *rows = NULL;
	size_t n_topics = 0, n_partners = 0, n = 0;
	int64_t total = 0;
	struct list_args la;
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (!list_args(c, &la) || !load_topics(c, &topics, &n_topics))
		return;
	rc = sk_index_partners(c->req->ix, c->a, &partners, &n_partners, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "practices: partners");
		return;
	}
	la.f.offset = (size_t)(la.page - 1) * PRACTICES_PER_PAGE;
	la.f.limit = PRACTICES_PER_PAGE;
	rc = sk_index_practices(c->req->ix, c->a, &c->viewer, &la.f, &rows, &n,
	                        &total, &err);
	if (rc == SK_ENOTFOUND) {
		sk_ctx_error(c, 404, "Nie ma takiego tematu albo partnera.");
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "practices");
		return;
	}
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>Dobre praktyki</h1>\n<p class=\"lead\">Opisane "
	               "rozwiązania, które sprawdziły się w urzędach "
	               "partnerstwa: problem, rozwiązanie, rezultaty i koszty, "
	               "z odnośnikiem do dyskusji na liście.</p>\n");
	filter_form(c, b, &la, topics, n_topics, partners, n_partners);
	sk_buf_adds(b, "<p role=\"status\">");
	if (total > 0) {
		sk_buf_adds(b, "Znaleziono ");
		sk_page_count(b, total, "praktykę", "praktyki", "praktyk");
		sk_buf_adds(b, ".");
	} else if (la.topic || la.partner || la.status_param) {
		sk_buf_adds(b, "Brak praktyk spełniających te warunki.");
	} else {
		sk_buf_adds(b, "Nie opisano jeszcze żadnej praktyki.");
	}
	sk_buf_adds(b, "</p>\n");
	if (n) {
		sk_buf_adds(b, "<section aria-labelledby=\"lista\">\n<h2 "
		               "id=\"lista\" class=\"visually-hidden\">Lista "
		               "praktyk</h2>\n");
		practice_list(c, b, rows, n, topics, n_topics, 3);
		sk_buf_adds(b, "</section>\n");
	} else if (total > 0) {
		sk_buf_adds(b, "<p>Na tej stronie nie ma już praktyk.</p>\n");
	}
	int64_t pages = (total + PRACTICES_PER_PAGE - 1) / PRACTICES_PER_PAGE;
	if (pages > SK_WEB_MAX_PAGE)
		pages = SK_WEB_MAX_PAGE;
	sk_page_pager(b, list_url(c, &la), la.page, pages);
	sk_buf_adds(b, "<p class=\"meta\"><a href=\"/feed/praktyki.atom\">"
	               "Kanał Atom z nowymi praktykami</a> · <a href=\"/api/"
	               "v1/praktyki\">JSON</a></p>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

/* ---- /praktyka/ID -------------------------------------------------------- */

static void
field_section(struct sk_ctx *c, struct sk_buf *b, const char *id,
              const char *title, const char *text)
{
	if (!text || !*text)
		return;
	sk_buf_addf(b,
	            "<section aria-labelledby=\"%s\">\n<h2 id=\"%s\">%s"
	            "</h2>\n",
	            id, id, title);
	long_text(c, b, text);
	sk_buf_adds(b, "</section>\n");
}

static void
contact(struct sk_ctx *c, struct sk_buf *b, const struct sk_practice *p)
{
	bool has_name = p->contact_name && *p->contact_name;
	bool has_mail = p->contact_email && *p->contact_email;

	sk_buf_adds(b, "<section aria-labelledby=\"kontakt\">\n<h2 "
	               "id=\"kontakt\">Osoba do kontaktu</h2>\n");
	/* The index gives the contact to logged-in viewers only; the page
	 * asks the session as well, so an anonymous reader never gets it. */
	if (!c->viewer.logged_in || !c->session.valid) {
		sk_buf_addf(b,
		            "<p>Dane osoby do kontaktu widzą zalogowani "
		            "pracownicy urzędów partnerstwa. <a href=\""
		            "/zaloguj?dalej=/praktyka/%lld\">Zaloguj się</a>"
		            "</p>\n",
		            (long long)p->id);
	} else if (!has_name && !has_mail) {
		sk_buf_adds(b, "<p>Nie podano osoby do kontaktu.</p>\n");
	} else {
		sk_buf_adds(b, "<p>");
		if (has_name)
			sk_buf_add_htmls(b, p->contact_name);
		if (has_mail) {
			sk_buf_adds(b, has_name ? ", <a href=\"mailto:"
			                        : "<a href=\"mailto:");
			sk_buf_add_htmls(b, p->contact_email);
			sk_buf_adds(b, "\">");
			sk_buf_add_htmls(b, p->contact_email);
			sk_buf_adds(b, "</a>");
		}
		sk_buf_adds(b, "</p>\n");
	}
	sk_buf_adds(b, "</section>\n");
}

static void
practice_attachments(struct sk_buf *b, const struct sk_practice *p)
{
	if (!p->n_attachments)
		return;
	sk_buf_adds(b, "<section aria-labelledby=\"zalaczniki\">\n<h2 "
	               "id=\"zalaczniki\">Załączniki</h2>\n<ul "
	               "class=\"attachments\">\n");
	for (size_t i = 0; i < p->n_attachments; i++) {
		const struct sk_practice_attachment *at = &p->attachments[i];
		sk_page_attachment_item(b, at->message_id, at->position,
		                        at->filename, at->content_type,
		                        at->size);
	}
	sk_buf_adds(b, "</ul>\n</section>\n");
}

bool
sk_practice_load(struct sk_ctx *c, int64_t id, struct sk_practice *p,
                 sk_error_page *page, const char *what)
{
	struct sk_err err = { 0 };
	enum sk_status rc;

	memset(p, 0, sizeof(*p));
	rc = sk_index_practice_get(c->req->ix, c->a, &c->viewer, id, p, &err);
	if (rc == SK_ENOTFOUND) {
		page(c, 404, "Nie ma takiej praktyki.");
		return false;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, what);
		return false;
	}
	return true;
}

void
sk_page_practice(struct sk_ctx *c, int64_t id)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .nav = SK_NAV_PRACTICES, .header_search = true };
	struct sk_topic_row *topics = NULL;
	size_t n_topics = 0;
	struct sk_practice pr;

	if (!sk_practice_load(c, id, &pr, sk_ctx_error, "practice"))
		return;
	if (!load_topics(c, &topics, &n_topics))
		return;
	p.title = pr.title;
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<p class=\"crumbs\"><a href=\"/praktyki\">Dobre "
	               "praktyki</a></p>\n<article aria-labelledby=\"tytul\">"
	               "\n<h1 id=\"tytul\">");
	line(c, b, pr.title);
	sk_buf_adds(b, "</h1>\n");
	if (pr.status != SK_PRACTICE_VALIDATED)
		sk_buf_addf(b,
		            "<p class=\"notice\">Stan: <strong>%s</strong>. "
		            "Tę praktykę widzą tylko koordynatorzy.</p>\n",
		            status_label(pr.status));
	sk_buf_adds(b, "<dl class=\"headers\">\n");
	if (pr.partner_slug) {
		sk_buf_adds(b, "<dt>Samorząd</dt><dd>");
		partner_link(b, pr.partner_slug, pr.partner_name);
		sk_buf_adds(b, "</dd>\n");
	}
	if (pr.n_topics) {
		sk_buf_adds(b, pr.n_topics == 1 ? "<dt>Temat</dt><dd>"
		                                : "<dt>Tematy</dt><dd>");
		for (size_t i = 0; i < pr.n_topics; i++) {
			sk_buf_adds(b, i ? ", <a href=\"/temat/"
			                 : "<a href=\"/temat/");
			sk_buf_add_url(b, pr.topics[i], strlen(pr.topics[i]));
			sk_buf_adds(b, "\">");
			sk_buf_add_htmls(
			    b, topic_name(topics, n_topics, pr.topics[i]));
			sk_buf_adds(b, "</a>");
		}
		sk_buf_adds(b, "</dd>\n");
	}
	if (pr.period && *pr.period) {
		sk_buf_adds(b, "<dt>Okres realizacji</dt><dd>");
		line(c, b, pr.period);
		sk_buf_adds(b, "</dd>\n");
	}
	sk_buf_addf(b, "<dt>Stan</dt><dd>%s</dd>\n<dt>Dodano</dt><dd>",
	            status_label(pr.status));
	sk_page_time(b, pr.created_at);
	sk_buf_adds(b, "</dd>\n");
	if (pr.updated_at > pr.created_at) {
		sk_buf_adds(b, "<dt>Zaktualizowano</dt><dd>");
		sk_page_time(b, pr.updated_at);
		sk_buf_adds(b, "</dd>\n");
	}
	sk_buf_adds(b, "</dl>\n");
	field_section(c, b, "problem", "Problem", pr.problem);
	field_section(c, b, "rozwiazanie", "Rozwiązanie", pr.solution);
	field_section(c, b, "rezultaty", "Rezultaty", pr.results);
	field_section(c, b, "koszty", "Koszty i źródła finansowania", pr.costs);
	field_section(c, b, "uczestnicy", "Kto brał udział", pr.stakeholders);
	field_section(c, b, "wnioski", "Trudności i wnioski", pr.lessons);
	contact(c, b, &pr);
	practice_attachments(b, &pr);
	if (pr.source_thread_id > 0) {
		sk_buf_addf(b,
		            "<section aria-labelledby=\"zrodlo\">\n<h2 "
		            "id=\"zrodlo\">Dyskusja na liście</h2>\n<p><a "
		            "href=\"/watek/%lld\">",
		            (long long)pr.source_thread_id);
		if (pr.source_subject && *pr.source_subject)
			line(c, b, pr.source_subject);
		else
			sk_buf_adds(b, "(bez tematu)");
		sk_buf_adds(b, "</a></p>\n</section>\n");
	}
	sk_buf_adds(b, "</article>\n");
	sk_page_practice_actions(c, b, &pr);
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

/* ---- sections of other pages --------------------------------------------- */

void
sk_page_practices_section(struct sk_ctx *c, struct sk_buf *b, const char *topic,
                          const char *partner, size_t limit,
                          const struct sk_topic_row *topics, size_t n_topics)
{
	struct sk_practice_filter f = { .topic = topic,
		                        .partner = partner,
		                        .status = SK_PRACTICE_VALIDATED,
		                        .limit = limit };
	struct sk_practice *rows = NULL;
	size_t n = 0;
	int64_t total = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;
	bool latest = !topic && !partner;

	rc = sk_index_practices(c->req->ix, c->a, &c->viewer, &f, &rows, &n,
	                        &total, &err);
	if (rc) {
		if (rc != SK_ENOTFOUND)
			sk_log(SK_LOG_WARNING, "web: practices section: %s",
			       err.msg);
		return;
	}
	if (!n)
		return;
	sk_buf_addf(b,
	            "<section aria-labelledby=\"praktyki\">\n<h2 "
	            "id=\"praktyki\">%s</h2>\n",
	            latest ? "Najnowsze dobre praktyki" : "Dobre praktyki");
	practice_list(c, b, rows, n, topics, n_topics, 3);
	sk_buf_adds(b, "<p><a href=\"/praktyki");
	if (topic) {
		sk_buf_adds(b, "?temat=");
		sk_buf_add_url(b, topic, strlen(topic));
	} else if (partner) {
		sk_buf_adds(b, "?gmina=");
		sk_buf_add_url(b, partner, strlen(partner));
	}
	sk_buf_adds(b, "\">");
	if (latest) {
		sk_buf_adds(b, "Wszystkie dobre praktyki</a> (");
		sk_page_number(b, total);
		sk_buf_adds(b, ") · <a href=\"/dla-nowych\">Dla nowych "
		               "pracowników</a> · <a href=\"/slownik\">Słownik "
		               "skrótów</a> · <a href=\"/kwartaly\">Archiwum "
		               "według kwartałów</a></p>\n");
	} else {
		sk_buf_adds(b, "Wszystkie praktyki");
		sk_buf_adds(b, topic ? " w tym temacie" : " tego partnera");
		sk_buf_adds(b, "</a> (");
		sk_page_number(b, total);
		sk_buf_adds(b, ")</p>\n");
	}
	sk_buf_adds(b, "</section>\n");
}

void
sk_page_pins_section(struct sk_ctx *c, struct sk_buf *b, const char *topic)
{
	struct sk_pin_row *pins = NULL;
	size_t n = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	rc = sk_index_topic_pins(c->req->ix, c->a, &c->viewer, topic, &pins, &n,
	                         &err);
	if (rc) {
		if (rc != SK_ENOTFOUND)
			sk_log(SK_LOG_WARNING, "web: pins section: %s",
			       err.msg);
		return;
	}
	if (!n)
		return;
	sk_buf_adds(b, "<section aria-labelledby=\"zacznij\">\n<h2 "
	               "id=\"zacznij\">Zacznij tutaj</h2>\n<p class=\"meta\">"
	               "Wątki, które koordynatorzy polecają na początek."
	               "</p>\n");
	pin_list(c, b, pins, n, 3);
	sk_buf_adds(b, "</section>\n");
}

/* ---- /dla-nowych --------------------------------------------------------- */

void
sk_page_onboarding(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Dla nowych pracowników",
		             .nav = SK_NAV_NEWCOMERS,
		             .header_search = true };
	struct sk_onboarding_topic *o = NULL;
	struct sk_topic_row *topics = NULL;
	size_t n = 0, n_topics = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	rc = sk_index_onboarding(c->req->ix, c->a, &c->viewer, 5, &o, &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "onboarding");
		return;
	}
	if (!load_topics(c, &topics, &n_topics))
		return;
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>Dla nowych pracowników</h1>\n<p class=\"lead\">"
	               "Zaczynasz pracę w urzędzie albo przejmujesz nowe "
	               "sprawy? Tu znajdziesz dla każdego tematu krótki opis, "
	               "wątki polecane przez koordynatorów, opisane dobre "
	               "praktyki i dyskusje, do których partnerzy wracają "
	               "najczęściej.</p>\n<p>Nie znasz skrótu? Zajrzyj do "
	               "<a href=\"/slownik\">słownika skrótów</a> (BIP, CAF, "
	               "RODO, PZP, JST…).</p>\n");
	if (!n) {
		sk_buf_adds(b, "<p>W archiwum nie ma jeszcze nic do "
		               "polecenia.</p>\n");
		sk_page_end(b, &p);
		sk_ctx_html_done(c);
		return;
	}
	sk_buf_adds(b, "<nav class=\"toc\" aria-labelledby=\"spis\">\n<h2 "
	               "id=\"spis\">Spis tematów</h2>\n<ol>\n");
	for (size_t i = 0; i < n; i++) {
		sk_buf_addf(b, "<li><a href=\"#t-%s\">", o[i].topic.slug);
		sk_buf_add_htmls(b, o[i].topic.name);
		sk_buf_adds(b, "</a></li>\n");
	}
	sk_buf_adds(b, "</ol>\n</nav>\n");
	for (size_t i = 0; i < n; i++) {
		const struct sk_onboarding_topic *t = &o[i];
		/* Slugs are [a-z0-9-] (the taxonomy loader checks). */
		sk_buf_addf(b,
		            "<section aria-labelledby=\"t-%s\">\n<h2 "
		            "id=\"t-%s\" tabindex=\"-1\">",
		            t->topic.slug, t->topic.slug);
		sk_buf_add_htmls(b, t->topic.name);
		sk_buf_adds(b, "</h2>\n");
		if (t->topic.description && *t->topic.description) {
			sk_buf_adds(b, "<p>");
			sk_buf_add_htmls(b, t->topic.description);
			sk_buf_adds(b, "</p>\n");
		}
		if (t->n_pinned) {
			sk_buf_adds(b, "<h3>Zacznij tutaj</h3>\n");
			pin_list(c, b, t->pinned, t->n_pinned, 4);
		}
		if (t->n_practices) {
			sk_buf_adds(b, "<h3>Dobre praktyki</h3>\n");
			practice_list(c, b, t->practices, t->n_practices,
			              topics, n_topics, 4);
		}
		if (t->n_threads) {
			sk_buf_adds(b, "<h3>Najczęściej omawiane</h3>\n");
			sk_page_thread_list(c, b, t->threads, t->n_threads,
			                    topics, n_topics, 4);
		}
		sk_buf_adds(b, "<p><a href=\"/temat/");
		sk_buf_add_url(b, t->topic.slug, strlen(t->topic.slug));
		sk_buf_adds(b, "\">Wszystkie wątki: ");
		sk_buf_add_htmls(b, t->topic.name);
		sk_buf_adds(b, "</a> (");
		sk_page_count(b, t->topic.threads, "wątek", "wątki", "wątków");
		sk_buf_adds(b, ") · <a href=\"#spis\">do spisu tematów</a>"
		               "</p>\n</section>\n");
	}
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

/* ---- /slownik ------------------------------------------------------------ */

void
sk_page_glossary(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Słownik skrótów",
		             .nav = SK_NAV_NEWCOMERS,
		             .header_search = true };
	struct sk_glossary_row *g = NULL;
	struct sk_topic_row *topics = NULL;
	size_t n = 0, n_topics = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	rc = sk_index_glossary(c->req->ix, c->a, &g, &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "glossary");
		return;
	}
	if (!load_topics(c, &topics, &n_topics))
		return;
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>Słownik skrótów</h1>\n<p class=\"lead\">Skróty "
	               "i pojęcia, które padają na liście, z wyjaśnieniem i "
	               "tematem, w którym warto szukać dalej.</p>\n");
	if (!n) {
		sk_buf_adds(b, "<p>Słownik jest jeszcze pusty.</p>\n");
	} else {
		sk_buf_adds(b, "<dl class=\"glossary\">\n");
		for (size_t i = 0; i < n; i++) {
			sk_buf_adds(b, "<dt><strong>");
			sk_buf_add_htmls(b, g[i].term);
			sk_buf_adds(b, "</strong>");
			if (g[i].expansion && *g[i].expansion) {
				sk_buf_adds(b, " – ");
				sk_buf_add_htmls(b, g[i].expansion);
			}
			sk_buf_adds(b, "</dt>\n<dd>");
			if (g[i].description && *g[i].description)
				sk_buf_add_htmls(b, g[i].description);
			if (g[i].topic_slug && *g[i].topic_slug) {
				sk_buf_adds(b, " <span class=\"meta\">Temat: "
				               "<a href=\"/temat/");
				sk_buf_add_url(b, g[i].topic_slug,
				               strlen(g[i].topic_slug));
				sk_buf_adds(b, "\">");
				sk_buf_add_htmls(b,
				                 topic_name(topics, n_topics,
				                            g[i].topic_slug));
				sk_buf_adds(b, "</a></span>");
			}
			sk_buf_adds(b, "</dd>\n");
		}
		sk_buf_adds(b, "</dl>\n");
	}
	sk_buf_adds(b, "<p><a href=\"/dla-nowych\">Dla nowych pracowników"
	               "</a></p>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

/* ---- JSON ---------------------------------------------------------------- */

static void
json_practice(struct sk_ctx *c, struct sk_buf *b, const struct sk_practice *p,
              bool full)
{
	sk_buf_addf(b, "{\"id\":%lld,\"title\":", (long long)p->id);
	sk_export_json_text(c, b, p->title ? p->title : "");
	sk_buf_adds(b, ",\"partner\":");
	sk_buf_add_json_str(b, p->partner_slug);
	sk_buf_adds(b, ",\"partner_name\":");
	sk_buf_add_json_str(b, p->partner_name);
	sk_buf_adds(b, ",\"topics\":");
	sk_export_json_slugs(b, p->topics, p->n_topics);
	sk_buf_adds(b, ",\"status\":");
	sk_buf_add_json_str(b, sk_practice_status_name(p->status));
	if (p->source_thread_id > 0)
		sk_buf_addf(b, ",\"thread_id\":%lld",
		            (long long)p->source_thread_id);
	else
		sk_buf_adds(b, ",\"thread_id\":null");
	sk_buf_adds(b, ",\"created\":");
	sk_export_json_date(b, p->created_at);
	sk_buf_adds(b, ",\"updated\":");
	sk_export_json_date(b, p->updated_at);
	if (full) {
		static const char *const names[] = {
			"problem", "solution",     "results",
			"costs",   "stakeholders", "lessons"
		};
		const char *vals[] = {
			p->problem, p->solution,     p->results,
			p->costs,   p->stakeholders, p->lessons
		};
		for (size_t i = 0; i < SK_ARRAY_SIZE(names); i++) {
			sk_buf_addf(b, ",\"%s\":", names[i]);
			sk_export_json_text(c, b, vals[i] ? vals[i] : "");
		}
		sk_buf_adds(b, ",\"period\":");
		sk_export_json_text(c, b, p->period ? p->period : "");
		sk_buf_adds(b, ",\"thread_subject\":");
		sk_export_json_text(c, b, p->source_subject);
		sk_buf_adds(b, ",\"contact\":");
		if (c->viewer.logged_in && c->session.valid &&
		    ((p->contact_name && *p->contact_name) ||
		     (p->contact_email && *p->contact_email))) {
			sk_buf_adds(b, "{\"name\":");
			sk_buf_add_json_str(b, p->contact_name);
			sk_buf_adds(b, ",\"email\":");
			sk_buf_add_json_str(b, p->contact_email);
			sk_buf_addc(b, '}');
		} else {
			sk_buf_adds(b, "null");
		}
		sk_buf_adds(b, ",\"attachments\":[");
		for (size_t k = 0; k < p->n_attachments; k++) {
			const struct sk_practice_attachment *at =
			    &p->attachments[k];
			if (k)
				sk_buf_addc(b, ',');
			sk_buf_adds(b, "{\"message_id\":");
			sk_buf_add_json_str(b, at->message_id);
			sk_buf_addc(b, ',');
			sk_export_json_attachment(b, at->position, at->filename,
			                          at->content_type, at->size);
		}
		sk_buf_addc(b, ']');
	}
	sk_buf_addc(b, '}');
}

static void
json_done(struct sk_ctx *c)
{
	c->resp->content_type = "application/json";
	if (sk_buf_status(&c->resp->body))
		sk_export_json_error(c, 500, "Odpowiedź jest zbyt duża.");
}

void
sk_export_api_practices(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	const char *lim = sk_web_arg(c->t.args, c->t.n_args, "limit");
	int64_t limit = PRACTICES_PER_PAGE, total = 0;
	struct sk_practice *rows = NULL;
	struct list_args la;
	size_t n = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (!list_args(c, &la))
		return;
	if (lim && sk_parse_i64(lim, 1, API_LIMIT_MAX, &limit, NULL)) {
		sk_export_json_error(c, 400,
		                     "Parametr limit musi być liczbą "
		                     "od 1 do 100.");
		return;
	}
	la.f.offset = (size_t)((la.page - 1) * limit);
	la.f.limit = (size_t)limit;
	rc = sk_index_practices(c->req->ix, c->a, &c->viewer, &la.f, &rows, &n,
	                        &total, &err);
	if (rc == SK_ENOTFOUND) {
		sk_export_json_error(c, 404,
		                     "Nie ma takiego tematu albo partnera.");
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "api practices");
		return;
	}
	sk_buf_addf(b, "{\"total\":%lld,\"practices\":[", (long long)total);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sk_buf_addc(b, ',');
		json_practice(c, b, &rows[i], false);
	}
	sk_buf_adds(b, "]}\n");
	json_done(c);
}

void
sk_export_api_practice(struct sk_ctx *c, int64_t id)
{
	struct sk_practice pr;

	if (!sk_practice_load(c, id, &pr, sk_export_json_error, "api practice"))
		return;
	json_practice(c, &c->resp->body, &pr, true);
	sk_buf_addc(&c->resp->body, '\n');
	json_done(c);
}

/* ---- Atom ---------------------------------------------------------------- */

void
sk_export_feed_practices(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_practice_filter f = { .status = SK_PRACTICE_VALIDATED,
		                        .limit = SK_WEB_FEED_ENTRIES };
	struct sk_practice *rows = NULL;
	struct sk_topic_row *topics = NULL;
	size_t n = 0, n_topics = 0;
	int64_t total = 0;
	time_t updated = c->req->now;
	const char *base = sk_ctx_base_url(c);
	struct sk_err err = { 0 };
	enum sk_status rc;

	rc = sk_index_practices(c->req->ix, c->a, &c->viewer, &f, &rows, &n,
	                        &total, &err);
	if (!rc)
		rc = sk_index_topics(c->req->ix, c->a, &c->viewer, &topics,
		                     &n_topics, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "feed: practices");
		return;
	}
	if (n)
		updated = rows[0].updated_at; /* newest first */
	sk_export_atom_begin(c, "Skarbnica – dobre praktyki",
	                     "/feed/praktyki.atom", "/praktyki", updated);
	for (size_t i = 0; i < n; i++) {
		struct sk_buf t;
		sk_buf_adds(b, "<entry>\n<title>");
		sk_buf_init(&t, 64 << 10);
		if (c->hide_addrs)
			sk_page_mask_html(&t, rows[i].title,
			                  strlen(rows[i].title));
		else
			sk_buf_adds(&t, rows[i].title);
		sk_page_xml(b, t.p);
		sk_buf_release(&t);
		sk_buf_adds(b, "</title>\n<id>");
		sk_page_xml(b, base);
		sk_buf_addf(b,
		            "/praktyka/%lld</id>\n<link rel=\"alternate\" "
		            "type=\"text/html\" href=\"",
		            (long long)rows[i].id);
		sk_page_xml(b, base);
		sk_buf_addf(b, "/praktyka/%lld\"/>\n<published>",
		            (long long)rows[i].id);
		char iso[21];
		sk_time_iso8601(rows[i].created_at, iso);
		sk_buf_adds(b, iso);
		sk_buf_adds(b, "</published>\n<updated>");
		sk_time_iso8601(rows[i].updated_at, iso);
		sk_buf_adds(b, iso);
		sk_buf_adds(b, "</updated>\n<author><name>");
		sk_page_xml(b, rows[i].partner_name ? rows[i].partner_name
		                                    : "Partnerstwo");
		sk_buf_adds(b, "</name></author>\n<summary>");
		for (size_t k = 0; k < rows[i].n_topics; k++) {
			sk_buf_adds(b, k ? ", " : "Tematy: ");
			sk_page_xml(
			    b, topic_name(topics, n_topics, rows[i].topics[k]));
		}
		sk_buf_adds(b, "</summary>\n</entry>\n");
	}
	sk_export_atom_done(c);
}
