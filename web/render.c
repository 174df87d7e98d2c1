/* web/render.c: the page layout and the pieces every page is made of —
 * Polish plural forms, numbers, dates in Warsaw time, sizes, escaped user
 * text with links, folded quotes. Everything appends to a struct sk_buf;
 * user-originated text only ever goes through the escaping functions. */
#include "web/private.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NBSP "\xc2\xa0"

/* ---- Polish plural forms and numbers ------------------------------------- */

const char *
sk_page_plural(int64_t n, const char *one, const char *few, const char *many)
{
	uint64_t u = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
	uint64_t d = u % 10, h = u % 100;

	if (u == 1)
		return one;
	if (d >= 2 && d <= 4 && !(h >= 12 && h <= 14))
		return few;
	return many;
}

void
sk_page_number(struct sk_buf *b, int64_t n)
{
	char digits[24];
	int len;
	uint64_t u = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;

	len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)u);
	if (n < 0)
		sk_buf_addc(b, '-');
	/* Four-digit numbers are not grouped in Polish ("1234"). */
	if (u < 10000) {
		sk_buf_add(b, digits, (size_t)len);
		return;
	}
	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			sk_buf_adds(b, NBSP);
		sk_buf_addc(b, digits[i]);
	}
}

void
sk_page_count(struct sk_buf *b, int64_t n, const char *one, const char *few,
              const char *many)
{
	sk_page_number(b, n);
	sk_buf_adds(b, NBSP);
	sk_buf_adds(b, sk_page_plural(n, one, few, many));
}

/* ---- dates: Europe/Warsaw computed, not looked up ------------------------ */

void
sk_page_warsaw(time_t t, struct tm *out, int *offset_out)
{
	sk_warsaw_tm(t, out, offset_out); /* lib/warsaw.c: one copy */
}

static const char *const months_gen[12] = {
	"stycznia", "lutego",       "marca",     "kwietnia",
	"maja",     "czerwca",      "lipca",     "sierpnia",
	"września", "października", "listopada", "grudnia",
};

void
sk_page_day(struct sk_buf *b, time_t t)
{
	struct tm tm;
	sk_page_warsaw(t, &tm, NULL);
	sk_buf_addf(b, "%d %s %d", tm.tm_mday, months_gen[tm.tm_mon],
	            tm.tm_year + 1900);
}

void
sk_page_date(struct sk_buf *b, time_t t)
{
	struct tm tm;
	sk_page_warsaw(t, &tm, NULL);
	sk_buf_addf(b, "%d %s %d, %02d:%02d", tm.tm_mday, months_gen[tm.tm_mon],
	            tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
}

void
sk_page_time(struct sk_buf *b, time_t t)
{
	char iso[21];
	sk_time_iso8601(t, iso);
	sk_buf_addf(b, "<time datetime=\"%s\">", iso);
	sk_page_date(b, t);
	sk_buf_adds(b, "</time>");
}

/* ---- sizes --------------------------------------------------------------- */

void
sk_page_size(struct sk_buf *b, int64_t bytes)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB" };
	double v;
	int u = -1;

	if (bytes < 0)
		bytes = 0;
	if (bytes < 1024) {
		sk_buf_addf(b, "%lld" NBSP "B", (long long)bytes);
		return;
	}
	v = (double)bytes;
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	if (v < 9.95) {
		long long tenths = (long long)(v * 10 + 0.5);
		if (tenths % 10)
			sk_buf_addf(b, "%lld,%lld" NBSP "%s", tenths / 10,
			            tenths % 10, units[u]);
		else
			sk_buf_addf(b, "%lld" NBSP "%s", tenths / 10, units[u]);
		return;
	}
	long long whole = (long long)(v + 0.5);
	if (whole >= 1024 && u < 3) {
		whole = 1;
		u++;
	}
	sk_buf_addf(b, "%lld" NBSP "%s", whole, units[u]);
}

/* ---- user text: escaping, links, hidden addresses ------------------------ */

static bool
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static bool
is_local_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
	       c == '-';
}

static bool
is_domain_char(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

/* Length of an e-mail address starting at s[i] (a word start), or 0. */
static size_t
addr_at(const char *s, size_t n, size_t i)
{
	size_t j = i, d, k;
	bool dot = false;

	while (j < n && is_local_char((unsigned char)s[j]))
		j++;
	if (j == i || j >= n || s[j] != '@')
		return 0;
	d = k = j + 1;
	while (k < n && is_domain_char((unsigned char)s[k]))
		k++;
	while (k > d && (s[k - 1] == '.' || s[k - 1] == '-'))
		k--;
	if (k == d || !is_alnum((unsigned char)s[d]))
		return 0;
	for (size_t x = d; x < k; x++)
		dot |= s[x] == '.';
	return dot ? k - i : 0;
}

/* Length of an http(s) URL starting at s[i], or 0. Trailing punctuation
 * that ends a sentence is not part of it; a closing parenthesis is only
 * when the URL opened one. */
static size_t
url_at(const char *s, size_t n, size_t i)
{
	size_t p, j;

	if (i > 0 && is_alnum((unsigned char)s[i - 1]))
		return 0;
	if (n - i >= 8 && strncasecmp(s + i, "https://", 8) == 0)
		p = i + 8;
	else if (n - i >= 7 && strncasecmp(s + i, "http://", 7) == 0)
		p = i + 7;
	else
		return 0;
	if (p >= n || !(is_alnum((unsigned char)s[p]) || s[p] == '[' ||
	                (unsigned char)s[p] >= 0x80))
		return 0;
	for (j = p; j < n; j++) {
		unsigned char c = (unsigned char)s[j];
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' ||
		    c == '"' || c == '`')
			break;
		/* U+00A0 and the typographic quotes end a URL too. */
		if (c == 0xc2 && j + 1 < n && (unsigned char)s[j + 1] == 0xa0)
			break;
		if (c == 0xe2 && j + 2 < n && (unsigned char)s[j + 1] == 0x80 &&
		    ((unsigned char)s[j + 2] == 0x9d ||
		     (unsigned char)s[j + 2] == 0x9e))
			break;
	}
	while (j > p) {
		char c = s[j - 1];
		if (strchr(".,;:!?'*", c)) {
			j--;
		} else if (c == ')' || c == ']') {
			char open = c == ')' ? '(' : '[';
			long depth = 0;
			for (size_t x = i; x < j; x++)
				depth += (s[x] == open) - (s[x] == c);
			if (depth < 0)
				j--;
			else
				break;
		} else {
			break;
		}
	}
	return j > p ? j - i : 0;
}

/* The one scanner behind sk_page_text() and sk_page_mask_html(): raw
 * copies plain runs verbatim (input already HTML) instead of escaping. */
static void
scan_text(struct sk_buf *b, const char *s, size_t n, unsigned flags, bool raw)
{
	size_t run = 0, i = 0, len;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if ((flags & SK_TEXT_LINKS) && (c == 'h' || c == 'H') &&
		    (len = url_at(s, n, i)) != 0 &&
		    !((flags & SK_TEXT_HIDE_ADDRS) &&
		      memchr(s + i, '@', len))) {
			sk_buf_add_html(b, s + run, i - run);
			sk_buf_adds(b, "<a href=\"");
			sk_buf_add_html(b, s + i, len);
			sk_buf_adds(b, "\" rel=\"nofollow noopener\">");
			sk_buf_add_html(b, s + i, len);
			sk_buf_adds(b, "</a>");
			i += len;
			run = i;
			continue;
		}
		if ((flags & SK_TEXT_HIDE_ADDRS) && is_local_char(c) &&
		    (i == 0 || !is_local_char((unsigned char)s[i - 1])) &&
		    (len = addr_at(s, n, i)) != 0) {
			if (raw)
				sk_buf_add(b, s + run, i - run);
			else
				sk_buf_add_html(b, s + run, i - run);
			sk_buf_adds(b, SK_ADDR_HIDDEN);
			i += len;
			run = i;
			continue;
		}
		i++;
	}
	if (raw)
		sk_buf_add(b, s + run, n - run);
	else
		sk_buf_add_html(b, s + run, n - run);
}

void
sk_page_text(struct sk_buf *b, const char *s, size_t n, unsigned flags)
{
	if (!flags) {
		sk_buf_add_html(b, s, n);
		return;
	}
	scan_text(b, s, n, flags, false);
}

void
sk_page_mask_html(struct sk_buf *b, const char *html, size_t n)
{
	scan_text(b, html, n, SK_TEXT_HIDE_ADDRS, true);
}

void
sk_page_html_to_text(struct sk_buf *b, const char *html, size_t n)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = { { "amp;", '&' },  { "lt;", '<' },   { "gt;", '>' },
		     { "quot;", '"' }, { "#39;", '\'' }, { "apos;", '\'' } };
	size_t i = 0;

	while (i < n) {
		if (html[i] == '<') {
			const char *e = memchr(html + i, '>', n - i);
			i = e ? (size_t)(e - html) + 1 : n;
			continue;
		}
		if (html[i] == '&') {
			bool done = false;
			for (size_t k = 0; k < SK_ARRAY_SIZE(ents); k++) {
				size_t l = strlen(ents[k].name);
				if (n - i - 1 >= l &&
				    memcmp(html + i + 1, ents[k].name, l) ==
				        0) {
					sk_buf_addc(b, ents[k].c);
					i += 1 + l;
					done = true;
					break;
				}
			}
			if (done)
				continue;
		}
		sk_buf_addc(b, html[i]);
		i++;
	}
}

void
sk_page_xml(struct sk_buf *b, const char *s)
{
	size_t start = 0, i;

	if (!s)
		return;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			sk_buf_add_html(b, s + start, i - start);
			start = i + 1;
		}
	}
	sk_buf_add_html(b, s + start, i - start);
}

/* ---- message bodies with folded quotes ----------------------------------- */

/* Trim blank lines at both ends of a block; keep the indentation of its
 * first line. */
static void
trim_block(const char **s, size_t *n)
{
	const char *p = *s, *e = *s + *n;
	const char *q = p;

	/* Skip whole blank lines at the start. */
	while (q < e) {
		const char *l = q;
		while (l < e && (*l == ' ' || *l == '\t' || *l == '\r'))
			l++;
		if (l < e && *l == '\n')
			q = l + 1;
		else
			break;
	}
	p = q;
	while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' ||
	                 e[-1] == '\t'))
		e--;
	*s = p;
	*n = (size_t)(e - p);
}

static void
text_block(struct sk_buf *b, const char *s, size_t n, unsigned flags)
{
	trim_block(&s, &n);
	if (!n)
		return;
	sk_buf_adds(b, "<div class=\"text\">");
	sk_page_text(b, s, n, flags);
	sk_buf_adds(b, "</div>\n");
}

static void
quote_block(struct sk_buf *b, const char *s, size_t n, unsigned flags)
{
	int64_t lines = 1;

	trim_block(&s, &n);
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		lines += s[i] == '\n';
	sk_buf_adds(b, "<details class=\"quote\"><summary>Pokaż cytat (");
	sk_page_count(b, lines, "wiersz", "wiersze", "wierszy");
	sk_buf_adds(b, ")</summary><div class=\"text\">");
	sk_page_text(b, s, n, flags);
	sk_buf_adds(b, "</div></details>\n");
}

static bool
blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Where the author's signature starts in the reply [0, n): the usenet
 * delimiter line "-- " (or "--") among the last lines, else n. */
static size_t
signature_start(const char *s, size_t n)
{
	size_t end = n, lines = 0;

	while (end > 0 && lines < 15) {
		size_t start = end;
		while (start > 0 && s[start - 1] != '\n')
			start--;
		if ((end - start == 3 && !memcmp(s + start, "-- ", 3)) ||
		    (end - start == 2 && !memcmp(s + start, "--", 2)))
			return start;
		if (start == 0)
			break;
		end = start - 1;
		lines++;
	}
	return n;
}

void
sk_page_body(struct sk_buf *b, const char *body, size_t n, size_t quote_start,
             unsigned flags)
{
	size_t sig;

	if (quote_start > n)
		quote_start = n;
	sk_buf_adds(b, "<div class=\"msg-body\">\n");
	sig = signature_start(body, quote_start);
	text_block(b, body, sig, flags);
	if (sig < quote_start) {
		/* Kept and shown (who to ask is worth knowing), but set apart
		 * from what the author wrote. */
		sk_buf_adds(b, "<div class=\"sig\" aria-label=\"Podpis\">");
		text_block(b, body + sig, quote_start - sig, flags);
		sk_buf_adds(b, "</div>\n");
	}
	if (quote_start < n && body[quote_start] != '>') {
		/* "-----Original Message-----" or an attribution line: the
		 * rest is the quoted message. */
		quote_block(b, body + quote_start, n - quote_start, flags);
	} else {
		size_t i = quote_start;
		while (i < n) {
			bool quoted = body[i] == '>';
			size_t start = i;
			while (i < n) {
				const char *nl = memchr(body + i, '\n', n - i);
				size_t e = nl ? (size_t)(nl - body) : n;
				bool blank = blank_line(body + i, e - i);
				if (!blank && (body[i] == '>') != quoted)
					break;
				i = nl ? e + 1 : n;
			}
			if (quoted)
				quote_block(b, body + start, i - start, flags);
			else
				text_block(b, body + start, i - start, flags);
		}
	}
	sk_buf_adds(b, "</div>\n");
}

/* ---- the layout ---------------------------------------------------------- */

static void
nav_item(struct sk_buf *b, const struct sk_page *p, enum sk_nav which,
         const char *href, const char *label)
{
	sk_buf_addf(b, "<li><a href=\"%s\"%s>%s</a></li>\n", href,
	            p->nav == which ? " aria-current=\"page\"" : "", label);
}

void
sk_page_begin(struct sk_buf *b, const struct sk_page *p)
{
	sk_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"pl\">\n<head>\n"
	               "<meta charset=\"utf-8\">\n"
	               "<meta name=\"viewport\" content=\"width=device-width, "
	               "initial-scale=1\">\n<title>");
	if (p->title && *p->title) {
		sk_buf_add_htmls(b, p->title);
		sk_buf_adds(b, " – ");
	}
	sk_buf_adds(b, "Skarbnica</title>\n");
	sk_buf_addf(b,
	            "<link rel=\"stylesheet\" "
	            "href=\"/static/skarbnica.css?v=%s\">\n",
	            sk_web_css_version());
	if (p->feed_url) {
		sk_buf_adds(b, "<link rel=\"alternate\" "
		               "type=\"application/atom+xml\" title=\"");
		sk_buf_add_htmls(b, p->feed_title ? p->feed_title : "Atom");
		sk_buf_adds(b, "\" href=\"");
		sk_buf_add_htmls(b, p->feed_url);
		sk_buf_adds(b, "\">\n");
	}
	sk_buf_adds(b,
	            "</head>\n<body>\n"
	            "<a class=\"skip\" href=\"#tresc\">Przejdź do treści</a>\n"
	            "<header class=\"site\">\n<div class=\"wrap\">\n"
	            "<p class=\"brand\"><a href=\"/\">Skarbnica</a>"
	            " <span>dobre praktyki partnerstwa samorządów</span>"
	            "</p>\n<nav aria-label=\"Menu główne\">\n<ul>\n");
	nav_item(b, p, SK_NAV_START, "/", "Strona główna");
	nav_item(b, p, SK_NAV_SEARCH, "/szukaj", "Szukaj");
	nav_item(b, p, SK_NAV_PRACTICES, "/praktyki", "Dobre praktyki");
	nav_item(b, p, SK_NAV_NEWCOMERS, "/dla-nowych", "Dla nowych");
	nav_item(b, p, SK_NAV_MEETINGS, "/spotkania", "Spotkania");
	if (p->coordinator)
		nav_item(b, p, SK_NAV_CURATE, "/dziennik", "Koordynacja");
	if (p->user_name) {
		nav_item(b, p, SK_NAV_ACCOUNT, "/konto", "Moje konto");
		sk_buf_adds(b, "<li><form class=\"logout\" method=\"post\" "
		               "action=\"/wyloguj\">");
		sk_page_csrf_field(b, p->csrf);
		sk_buf_adds(b, "<button type=\"submit\">Wyloguj się"
		               "<span class=\"who\"> (");
		sk_buf_add_htmls(b, p->user_name);
		sk_buf_adds(b, ")</span></button></form></li>\n");
	} else if (p->show_login) {
		nav_item(b, p, SK_NAV_LOGIN, "/zaloguj", "Zaloguj się");
	}
	sk_buf_adds(b, "</ul>\n</nav>\n");
	if (p->header_search)
		sk_buf_adds(b, "<form class=\"search-mini\" role=\"search\" "
		               "action=\"/szukaj\" method=\"get\">"
		               "<label for=\"q-top\">Szukaj w archiwum</label>"
		               "<input id=\"q-top\" name=\"q\" type=\"search\">"
		               "<button type=\"submit\">Szukaj</button>"
		               "</form>\n");
	sk_buf_adds(b, "</div>\n</header>\n"
	               "<main id=\"tresc\" tabindex=\"-1\">\n"
	               "<div class=\"wrap\">\n");
}

void
sk_page_end(struct sk_buf *b, const struct sk_page *p)
{
	(void)p;
	sk_buf_adds(b, "</div>\n</main>\n<footer class=\"site\">\n"
	               "<div class=\"wrap\">\n"
	               "<p>Skarbnica — archiwum listy dyskusyjnej partnerstwa "
	               "samorządów: dobre praktyki, notatki ze spotkań, "
	               "odpowiedzi koleżanek i kolegów z urzędów.</p>\n"
	               "<p><a href=\"/szukaj\">Jak szukać</a> · "
	               "<a href=\"/api/v1/topics\">API</a></p>\n"
	               "</div>\n</footer>\n</body>\n</html>\n");
}

void
sk_page_csrf_field(struct sk_buf *b, const char *token)
{
	sk_buf_adds(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	sk_buf_add_htmls(b, token ? token : "");
	sk_buf_adds(b, "\">");
}

void
sk_page_form_field(struct sk_buf *b, const struct sk_form_field *f)
{
	const char *id = f->id ? f->id : f->name;

	sk_buf_addf(b, "<label for=\"%s\">", id);
	sk_buf_adds(b, f->label);
	if (f->required)
		sk_buf_adds(b, " <span class=\"req\">(wymagane)</span>");
	sk_buf_adds(b, "</label>\n");
	if (f->hint)
		sk_buf_addf(b, "<p class=\"hint\" id=\"%s-opis\">%s</p>\n", id,
		            f->hint);
	if (f->rows)
		sk_buf_addf(b, "<textarea id=\"%s\" name=\"%s\" rows=\"%u\"%s",
		            id, f->name, f->rows,
		            f->required ? " required" : "");
	else
		sk_buf_addf(b, "<input id=\"%s\" name=\"%s\" type=\"text\"%s",
		            id, f->name, f->required ? " required" : "");
	if (f->hint)
		sk_buf_addf(b, " aria-describedby=\"%s-opis\"", id);
	if (f->rows) {
		sk_buf_adds(b, ">");
		sk_buf_add_htmls(b, f->value ? f->value : "");
		sk_buf_adds(b, "</textarea>\n");
	} else {
		sk_buf_addf(b, " maxlength=\"%u\" value=\"", f->maxlen);
		sk_buf_add_htmls(b, f->value ? f->value : "");
		sk_buf_adds(b, "\">\n");
	}
}

void
sk_page_text_input(struct sk_buf *b, const char *name, const char *label,
                   const char *hint, const char *value, bool required,
                   unsigned maxlen)
{
	struct sk_form_field f = { .name = name,
		                   .label = label,
		                   .hint = hint,
		                   .value = value,
		                   .required = required,
		                   .maxlen = maxlen };
	sk_page_form_field(b, &f);
}

static void
pager_link(struct sk_buf *b, const char *base, int64_t page, int64_t current)
{
	sk_buf_adds(b, "<li><a href=\"");
	sk_buf_add_htmls(b, base);
	sk_buf_addf(b, "strona=%lld\"", (long long)page);
	if (page == current)
		sk_buf_adds(b, " aria-current=\"page\"");
	sk_buf_addf(b, ">%lld</a></li>", (long long)page);
}

void
sk_page_pager(struct sk_buf *b, const char *base, int64_t page, int64_t pages)
{
	int64_t from, to;

	if (pages <= 1)
		return;
	sk_buf_adds(b, "<nav class=\"pager\" aria-label=\"Strony\">\n<ul>");
	if (page > 1) {
		sk_buf_adds(b, "<li><a rel=\"prev\" href=\"");
		sk_buf_add_htmls(b, base);
		sk_buf_addf(b, "strona=%lld\">‹ Poprzednia</a></li>",
		            (long long)(page - 1));
	}
	from = page - 2 > 1 ? page - 2 : 1;
	to = page + 2 < pages ? page + 2 : pages;
	if (from > 1) {
		pager_link(b, base, 1, page);
		if (from > 2)
			sk_buf_adds(b, "<li class=\"gap\">…</li>");
	}
	for (int64_t i = from; i <= to; i++)
		pager_link(b, base, i, page);
	if (to < pages) {
		if (to < pages - 1)
			sk_buf_adds(b, "<li class=\"gap\">…</li>");
		pager_link(b, base, pages, page);
	}
	if (page < pages) {
		sk_buf_adds(b, "<li><a rel=\"next\" href=\"");
		sk_buf_add_htmls(b, base);
		sk_buf_addf(b, "strona=%lld\">Następna ›</a></li>",
		            (long long)(page + 1));
	}
	sk_buf_adds(b, "</ul>\n</nav>\n");
}

void
sk_page_search_help(struct sk_buf *b)
{
	sk_buf_adds(
	    b, "<section class=\"help\" aria-labelledby=\"jak-szukac\">\n"
	       "<h2 id=\"jak-szukac\">Jak szukać</h2>\n<ul>\n"
	       "<li>Wpisz kilka słów: znajdziemy wiadomości zawierające "
	       "wszystkie, w dowolnej odmianie — <code>regulamin "
	       "zamówień</code> znajdzie też „regulaminu zamówienia”.</li>\n"
	       "<li>Polskie znaki można pominąć: <code>zamowienie "
	       "publiczne</code>.</li>\n"
	       "<li>Dokładna fraza w cudzysłowie: <code>\"budżet "
	       "obywatelski\"</code>.</li>\n"
	       "<li>Jedno z kilku słów: <code>kompostownik OR "
	       "bioodpady</code>; bez słowa: <code>-impreza</code> lub "
	       "<code>NOT impreza</code>; nawiasy grupują.</li>\n"
	       "<li>Pola: <code>od:kowalczyk</code> (nadawca), "
	       "<code>temat:regulamin</code> (temat wiadomości), "
	       "<code>kategoria:zamowienia</code> (dziedzina), "
	       "<code>gmina:jaskowo</code> (partner), "
	       "<code>data:2024-01-01..2024-06-30</code>, "
	       "<code>ma:załącznik</code> (z załącznikiem).</li>\n"
	       "</ul>\n</section>\n");
}
