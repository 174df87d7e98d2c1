/* web/account.c: the logged-in user's page /konto — topic digest
 * subscriptions (daily or weekly) — and the one-click unsubscribe link of
 * the digests, /wypisz?t=TOKEN (RFC 8058: POST with
 * List-Unsubscribe=One-Click; no login and no CSRF token, the token in
 * the link is the authorisation; GET shows a confirm button, because
 * mail scanners follow links). Writes go through a writable handle. */
#include "web/private.h"

#include <string.h>

static const char *
fv(const struct sk_ctx *c, const char *name)
{
	return sk_web_arg(c->req->form, c->req->n_form, name);
}

static const char *
sub_period(const struct sk_subscription_row *subs, size_t n, const char *slug)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(subs[i].topic_slug, slug) == 0)
			return sk_period_name(subs[i].period);
	return NULL;
}

static void
option(struct sk_buf *b, const char *value, const char *label,
       const char *current)
{
	sk_buf_addf(b, "<option value=\"%s\"%s>%s</option>", value,
	            (current ? strcmp(current, value) == 0
	                     : strcmp(value, "brak") == 0)
	                ? " selected"
	                : "",
	            label);
}

void
sk_account_page(struct sk_ctx *c)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Moje konto", .nav = SK_NAV_ACCOUNT,
		             .header_search = true };
	struct sk_subscription_row *subs = NULL;
	struct sk_topic_row *topics = NULL;
	size_t n_subs = 0, n_topics = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	rc = sk_index_subscriptions(c->req->ix, c->a, c->session.email, &subs,
	                            &n_subs, &err);
	if (!rc)
		rc = sk_index_topics(c->req->ix, c->a, &c->viewer, &topics,
		                     &n_topics, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "account");
		return;
	}
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>Moje konto</h1>\n<p class=\"lead\">Zalogowano "
	               "jako ");
	sk_buf_add_htmls(b, c->session.email);
	sk_buf_adds(b, " (");
	sk_buf_adds(b, c->session.role == SK_ROLE_ADMIN ? "administrator"
	               : c->session.role == SK_ROLE_COORDINATOR
	                   ? "koordynator"
	                   : "czytelnik");
	sk_buf_adds(b, ").</p>\n");
	if (sk_web_arg(c->t.args, c->t.n_args, "zapisano"))
		sk_buf_adds(b, "<p class=\"notice\" role=\"status\">Zapisano "
		               "zmiany.</p>\n");
	sk_buf_adds(b, "<section aria-labelledby=\"subskrypcje\">\n"
	               "<h2 id=\"subskrypcje\">Powiadomienia o nowych "
	               "wątkach</h2>\n<p>Wybierz tematy, o których chcesz "
	               "dostawać zestawienie e-mailem: codziennie albo raz w "
	               "tygodniu.</p>\n");
	if (n_subs) {
		sk_buf_adds(b, "<p>Subskrybujesz: ");
		sk_page_count(b, (int64_t)n_subs, "temat", "tematy", "tematów");
		sk_buf_adds(b, ".</p>\n");
	} else {
		sk_buf_adds(b, "<p>Nie subskrybujesz żadnego tematu.</p>\n");
	}
	sk_buf_adds(b, "<table class=\"subs\">\n<caption class=\"visually-"
	               "hidden\">Subskrypcje tematów</caption>\n<thead><tr>"
	               "<th scope=\"col\">Temat</th><th scope=\"col\">"
	               "Powiadomienia</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n_topics; i++) {
		const struct sk_topic_row *t = &topics[i];
		const char *cur = sub_period(subs, n_subs, t->slug);
		sk_buf_adds(b, "<tr><th scope=\"row\">");
		if (t->parent_slug)
			sk_buf_adds(b, "<span class=\"sub\">");
		sk_buf_add_htmls(b, t->name);
		if (t->parent_slug)
			sk_buf_adds(b, "</span>");
		sk_buf_adds(b, "</th><td><form class=\"inline\" method=\"post\" "
		               "action=\"/konto\">");
		sk_page_csrf_field(b, c->session.csrf);
		sk_buf_adds(b, "<input type=\"hidden\" name=\"temat\" value=\"");
		sk_buf_add_htmls(b, t->slug);
		sk_buf_addf(b, "\"><label class=\"visually-hidden\" "
		               "for=\"okres-%lld\">Powiadomienia: ",
		            (long long)t->id);
		sk_buf_add_htmls(b, t->name);
		sk_buf_addf(b, "</label><select id=\"okres-%lld\" "
		               "name=\"okres\">",
		            (long long)t->id);
		option(b, "brak", "bez powiadomień", cur);
		option(b, "daily", "codziennie", cur);
		option(b, "weekly", "co tydzień", cur);
		sk_buf_adds(b, "</select> <button type=\"submit\">Zapisz"
		               "<span class=\"visually-hidden\">: ");
		sk_buf_add_htmls(b, t->name);
		sk_buf_adds(b, "</span></button></form></td></tr>\n");
	}
	sk_buf_adds(b, "</tbody>\n</table>\n");
	if (n_subs) {
		sk_buf_adds(b, "<form method=\"post\" action=\"/konto\">");
		sk_page_csrf_field(b, c->session.csrf);
		sk_buf_adds(b, "<input type=\"hidden\" name=\"temat\" "
		               "value=\"*\"><input type=\"hidden\" "
		               "name=\"okres\" value=\"brak\"><button "
		               "type=\"submit\">Wypisz mnie ze wszystkich "
		               "tematów</button></form>\n");
	}
	sk_buf_adds(b, "</section>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
}

void
sk_account_post(struct sk_ctx *c)
{
	const char *slug = fv(c, "temat");
	const char *okres = fv(c, "okres");
	struct sk_err err = { 0 };
	struct sk_index *w;
	enum sk_period period = SK_PERIOD_WEEKLY;
	bool all;
	enum sk_status rc;

	if (!sk_auth_check_csrf(c))
		return;
	if (!slug || !okres || !*slug || strlen(slug) > 64 ||
	    (strcmp(okres, "brak") != 0 &&
	     sk_period_parse(okres, &period) != SK_OK)) {
		sk_ctx_error(c, 400, "Wybierz temat i częstotliwość.");
		return;
	}
	all = strcmp(slug, "*") == 0;
	if (all && strcmp(okres, "brak") != 0) {
		sk_ctx_error(c, 400, "Wybierz temat.");
		return;
	}
	w = sk_ctx_writer(c);
	if (!w)
		return;
	if (strcmp(okres, "brak") == 0)
		rc = sk_index_unsubscribe(w, c->session.email,
		                          all ? NULL : slug, &err);
	else
		rc = sk_index_subscribe(w, c->session.email, slug, period,
		                        c->req->now, &err);
	if (rc == SK_ENOTFOUND) {
		sk_ctx_error(c, 404, "Nie ma takiego tematu.");
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "subscribe");
		return;
	}
	sk_ctx_redirect(c, 303, "/konto?zapisano=1");
}

static bool
unsub_token_shaped(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	return n >= 16 && n <= 128 &&
	       strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789-_") == n;
}

static void
unsub_page(struct sk_ctx *c, int status, const char *title,
           const char *text, const char *token)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = title };

	c->resp->status = status;
	sk_buf_reset(b);
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>");
	sk_buf_add_htmls(b, title);
	sk_buf_adds(b, "</h1>\n<p class=\"lead\">");
	sk_buf_add_htmls(b, text);
	sk_buf_adds(b, "</p>\n");
	if (token) {
		sk_buf_adds(b, "<form method=\"post\" action=\"/wypisz?t=");
		sk_buf_add_url(b, token, strlen(token));
		sk_buf_adds(b, "\"><input type=\"hidden\" "
		               "name=\"List-Unsubscribe\" value=\"One-Click\">"
		               "<button type=\"submit\">Wypisz mnie</button>"
		               "</form>\n");
	}
	sk_buf_adds(b, "<p>Subskrypcje zmienisz też na stronie <a "
	               "href=\"/konto\">Moje konto</a>.</p>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
	sk_ctx_header(c, "Cache-Control", "no-store");
	/* The token must not leak to other sites through Referer. */
	sk_ctx_header(c, "Referrer-Policy", "no-referrer");
}

void
sk_account_unsubscribe(struct sk_ctx *c)
{
	const char *token = sk_web_arg(c->t.args, c->t.n_args, "t");
	struct sk_err err = { 0 };
	struct sk_index *w;
	enum sk_status rc;

	if (!token && c->req->method == SK_METHOD_POST)
		token = fv(c, "t");
	if (!unsub_token_shaped(token)) {
		unsub_page(c, 404, "Nieprawidłowy link",
		           "Ten link do wypisania jest niepełny albo "
		           "nieprawidłowy.",
		           NULL);
		return;
	}
	if (c->req->method != SK_METHOD_POST) {
		unsub_page(c, 200, "Wypisanie z powiadomień",
		           "Czy na pewno chcesz przestać dostawać to "
		           "zestawienie e-mailem?",
		           token);
		return;
	}
	w = sk_ctx_writer(c);
	if (!w)
		return;
	rc = sk_index_unsubscribe_token(w, token, c->req->now, &err);
	if (rc == SK_ENOTFOUND) {
		unsub_page(c, 404, "Nieprawidłowy link",
		           "Ten link do wypisania jest nieaktualny albo "
		           "nieprawidłowy.",
		           NULL);
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "unsubscribe by token");
		return;
	}
	unsub_page(c, 200, "Wypisano",
	           "Nie będziesz już dostawać tego zestawienia.", NULL);
}
