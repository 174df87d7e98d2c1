/* web/quarter.c: browsing the archive by quarter — /kwartaly lists the
 * quarters (Polish time) with exact counts of threads started and messages,
 * /kwartal/2025-1 the threads started in one quarter, oldest first, paged.
 * The route (route.c) turns "2025-1" into the index's "2025-Q1". */
#include "web/private.h"

#include <string.h>

/* "2025-Q1" -> year and quarter; false when it is not one. */
static bool
quarter_parse(const char *q, int *year, int *quarter)
{
	if (!q || strlen(q) != 7 || q[4] != '-' || q[5] != 'Q' || q[6] < '1' ||
	    q[6] > '4' || strspn(q, "0123456789") != 4)
		return false;
	*year = (q[0] - '0') * 1000 + (q[1] - '0') * 100 + (q[2] - '0') * 10 +
	        (q[3] - '0');
	*quarter = q[6] - '0';
	return true;
}

static const char *const roman[] = { "I", "II", "III", "IV" };

/* "I kwartał 2025" */
static const char *
quarter_name(struct sk_arena *a, int year, int quarter)
{
	return sk_arena_printf(a, "%s kwartał %d", roman[quarter - 1], year);
}

void
sk_page_quarters(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Archiwum według kwartałów",
		             .header_search = true };
	struct sk_quarter_row *q = NULL;
	size_t n = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	rc = sk_index_quarters(c->req->ix, c->a, &c->viewer, &q, &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "quarters");
		return;
	}
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>Archiwum według kwartałów</h1>\n<p class=\"lead\">"
	               "Wątki rozpoczęte w każdym kwartale, od najnowszego. "
	               "Kwartały liczymy według czasu polskiego.</p>\n");
	if (!n) {
		sk_buf_adds(b, "<p>Archiwum jest jeszcze puste.</p>\n");
		sk_page_end(b, &p);
		sk_ctx_html_done(c);
		return;
	}
	sk_buf_adds(b, "<table class=\"quarters\">\n<caption class=\""
	               "visually-hidden\">Liczba wątków i wiadomości w "
	               "kwartałach</caption>\n<thead><tr><th scope=\"col\">"
	               "Kwartał</th><th scope=\"col\">Nowe wątki</th><th "
	               "scope=\"col\">Wiadomości</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n; i++) {
		int year, quarter;
		if (!quarter_parse(q[i].quarter, &year, &quarter))
			continue;
		sk_buf_addf(b, "<tr><th scope=\"row\">");
		if (q[i].threads > 0)
			sk_buf_addf(b, "<a href=\"/kwartal/%d-%d\">%s</a>",
			            year, quarter,
			            quarter_name(c->a, year, quarter));
		else
			sk_buf_adds(b, quarter_name(c->a, year, quarter));
		sk_buf_adds(b, "</th><td>");
		sk_page_number(b, q[i].threads);
		sk_buf_adds(b, "</td><td>");
		sk_page_number(b, q[i].messages);
		sk_buf_adds(b, "</td></tr>\n");
	}
	sk_buf_adds(b, "</tbody>\n</table>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

void
sk_page_quarter(struct sk_ctx *c, const char *quarter)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .header_search = true };
	struct sk_topic_row *topics = NULL;
	struct sk_thread_row *rows = NULL;
	size_t n = 0, n_topics = 0;
	int64_t total = 0, page;
	int year, qn;
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (!quarter_parse(quarter, &year, &qn)) {
		sk_ctx_error(c, 400, "Nieprawidłowy kwartał w adresie.");
		return;
	}
	if (!sk_ctx_page_arg(c, &page)) {
		sk_ctx_error(c, 400, "Nieprawidłowy numer strony.");
		return;
	}
	rc = sk_index_quarter_threads(
	    c->req->ix, c->a, &c->viewer, quarter,
	    (size_t)(page - 1) * SK_WEB_THREADS_PER_PAGE,
	    SK_WEB_THREADS_PER_PAGE, &rows, &n, &total, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "quarter threads");
		return;
	}
	rc = sk_index_topics(c->req->ix, c->a, &c->viewer, &topics, &n_topics,
	                     &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "topics");
		return;
	}
	p.title = quarter_name(c->a, year, qn);
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<p class=\"crumbs\"><a href=\"/kwartaly\">Archiwum "
	               "według kwartałów</a></p>\n<h1>");
	sk_buf_adds(b, p.title);
	sk_buf_adds(b, "</h1>\n<p class=\"meta\">");
	sk_page_count(b, total, "wątek rozpoczęty", "wątki rozpoczęte",
	              "wątków rozpoczętych");
	sk_buf_adds(b, total > 1 ? " w tym kwartale, od najstarszego.</p>\n"
	                         : " w tym kwartale.</p>\n");
	sk_buf_adds(b, "<section aria-labelledby=\"watki\">\n<h2 id=\"watki\">"
	               "Wątki</h2>\n");
	if (n)
		sk_page_thread_list(c, b, rows, n, topics, n_topics, 3);
	else if (page > 1 && total > 0)
		sk_buf_adds(b, "<p>Na tej stronie nie ma już wątków.</p>\n");
	else
		sk_buf_adds(b, "<p>W tym kwartale nie rozpoczęto żadnego "
		               "wątku.</p>\n");
	int64_t pages =
	    (total + SK_WEB_THREADS_PER_PAGE - 1) / SK_WEB_THREADS_PER_PAGE;
	if (pages > SK_WEB_MAX_PAGE)
		pages = SK_WEB_MAX_PAGE;
	sk_page_pager(b, sk_arena_printf(c->a, "/kwartal/%d-%d?", year, qn),
	              page, pages);
	sk_buf_adds(b, "</section>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}
