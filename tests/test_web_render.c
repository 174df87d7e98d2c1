/* tests/test_web_render.c: the pieces pages are made of — Polish plural
 * forms, numbers, Warsaw dates, sizes, escaping of hostile text, links,
 * hidden addresses, folded quotes, the layout — and the login throttle.
 * No store and no sockets. */
#include "tests/helpers/sk_test.h"
#include "web/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NBSP "\xc2\xa0"

/* Render with fn into a fresh buffer and compare. */
#define EXPECT_BUF(expected, ...)                                              \
	do {                                                                   \
		struct sk_buf b_;                                              \
		sk_buf_init(&b_, 1 << 20);                                     \
		__VA_ARGS__;                                                   \
		assert_int_equal(sk_buf_status(&b_), SK_OK);                   \
		assert_string_equal(b_.p, expected);                           \
		sk_buf_release(&b_);                                           \
	} while (0)

static char *
render_text(const char *s, unsigned flags)
{
	struct sk_buf b;
	sk_buf_init(&b, 1 << 20);
	sk_page_text(&b, s, strlen(s), flags);
	return sk_buf_take(&b, NULL);
}

static void
plural_forms_follow_polish_rules(void **state)
{
	static const struct {
		int64_t n;
		const char *form;
	} cases[] = {
		{ 0, "wątków" },  { 1, "wątek" },     { 2, "wątki" },
		{ 3, "wątki" },   { 4, "wątki" },     { 5, "wątków" },
		{ 11, "wątków" }, { 12, "wątków" },   { 13, "wątków" },
		{ 14, "wątków" }, { 21, "wątków" },   { 22, "wątki" },
		{ 24, "wątki" },  { 25, "wątków" },   { 101, "wątków" },
		{ 102, "wątki" }, { 112, "wątków" },  { 114, "wątków" },
		{ 122, "wątki" }, { 1000, "wątków" }, { 1002, "wątki" },
		{ -2, "wątki" },
	};
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(cases); i++)
		assert_string_equal(
		    sk_page_plural(cases[i].n, "wątek", "wątki", "wątków"),
		    cases[i].form);
	assert_string_equal(
	    sk_page_plural(1, "wiadomość", "wiadomości", "wiadomości"),
	    "wiadomość");
	assert_string_equal(
	    sk_page_plural(3, "załącznik", "załączniki", "załączników"),
	    "załączniki");
	assert_string_equal(
	    sk_page_plural(15, "załącznik", "załączniki", "załączników"),
	    "załączników");
}

static void
counts_use_number_and_no_break_space(void **state)
{
	(void)state;
	EXPECT_BUF("12" NBSP "wątków",
	           sk_page_count(&b_, 12, "wątek", "wątki", "wątków"));
	EXPECT_BUF("22" NBSP "wątki",
	           sk_page_count(&b_, 22, "wątek", "wątki", "wątków"));
	EXPECT_BUF(
	    "1" NBSP "wiadomość",
	    sk_page_count(&b_, 1, "wiadomość", "wiadomości", "wiadomości"));
	EXPECT_BUF(
	    "12" NBSP "345" NBSP "wiadomości",
	    sk_page_count(&b_, 12345, "wiadomość", "wiadomości", "wiadomości"));
}

static void
numbers_group_thousands_from_five_digits(void **state)
{
	(void)state;
	EXPECT_BUF("0", sk_page_number(&b_, 0));
	EXPECT_BUF("999", sk_page_number(&b_, 999));
	EXPECT_BUF("1234", sk_page_number(&b_, 1234));
	EXPECT_BUF("12" NBSP "345", sk_page_number(&b_, 12345));
	EXPECT_BUF("130" NBSP "000", sk_page_number(&b_, 130000));
	EXPECT_BUF("1" NBSP "234" NBSP "567", sk_page_number(&b_, 1234567));
	EXPECT_BUF("-12" NBSP "345", sk_page_number(&b_, -12345));
	EXPECT_BUF("-9" NBSP "223" NBSP "372" NBSP "036" NBSP "854" NBSP
	           "775" NBSP "808",
	           sk_page_number(&b_, INT64_MIN));
}

static void
dates_are_polish_in_warsaw_time(void **state)
{
	(void)state;
	/* 2024-01-15 08:12 UTC: winter, CET. */
	EXPECT_BUF("15 stycznia 2024, 09:12", sk_page_date(&b_, 1705306320));
	EXPECT_BUF("15 stycznia 2024", sk_page_day(&b_, 1705306320));
	/* 2024-06-12 10:00 UTC: summer, CEST. */
	EXPECT_BUF("12 czerwca 2024, 12:00", sk_page_date(&b_, 1718186400));
	/* New year's eve in UTC is already the new year in Warsaw. */
	EXPECT_BUF("1 stycznia 2024, 00:30", sk_page_date(&b_, 1704065400));
	EXPECT_BUF("<time datetime=\"2024-01-15T08:12:00Z\">15 stycznia "
	           "2024, 09:12</time>",
	           sk_page_time(&b_, 1705306320));
	/* Genitive month names. */
	EXPECT_BUF("3 września 2025, 10:00", sk_page_date(&b_, 1756886400));
	EXPECT_BUF("5 października 2025, 10:00", sk_page_date(&b_, 1759651200));
}

static void
summer_time_switches_on_last_sundays(void **state)
{
	struct tm tm;
	int off;

	(void)state;
	/* 2024-03-31 00:59:59 UTC is 01:59:59 CET; a second later 03:00
	 * CEST. */
	sk_page_warsaw(1711846799, &tm, &off);
	assert_int_equal(off, 3600);
	assert_int_equal(tm.tm_hour, 1);
	assert_int_equal(tm.tm_min, 59);
	sk_page_warsaw(1711846800, &tm, &off);
	assert_int_equal(off, 7200);
	assert_int_equal(tm.tm_hour, 3);
	/* 2024-10-27 00:59:59 UTC is 02:59:59 CEST; then 02:00 CET. */
	sk_page_warsaw(1729990799, &tm, &off);
	assert_int_equal(off, 7200);
	assert_int_equal(tm.tm_hour, 2);
	assert_int_equal(tm.tm_min, 59);
	sk_page_warsaw(1729990800, &tm, &off);
	assert_int_equal(off, 3600);
	assert_int_equal(tm.tm_hour, 2);
	assert_int_equal(tm.tm_min, 0);
}

/* Our CET/CEST arithmetic against the system's tz database over thirty
 * years, every 61 minutes (so every hour-of-day is hit). */
static void
warsaw_time_matches_tzdata(void **state)
{
	const char *old = getenv("TZ");
	char *saved = old ? sk_xstrdup(old) : NULL;

	(void)state;
	if (access("/usr/share/zoneinfo/Europe/Warsaw", R_OK) != 0) {
		printf("SKIP: no tzdata for Europe/Warsaw\n");
		free(saved);
		skip();
	}
	setenv("TZ", "Europe/Warsaw", 1);
	tzset();
	for (time_t t = 852076800; t < 1798761600; t += 61 * 60) {
		struct tm ours, sys;
		int off;
		sk_page_warsaw(t, &ours, &off);
		localtime_r(&t, &sys);
		if (ours.tm_hour != sys.tm_hour ||
		    ours.tm_mday != sys.tm_mday || ours.tm_min != sys.tm_min ||
		    off != sys.tm_gmtoff) {
			fprintf(stderr, "mismatch at %lld\n", (long long)t);
			fail();
		}
	}
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static void
sizes_use_decimal_comma_and_binary_units(void **state)
{
	(void)state;
	EXPECT_BUF("0" NBSP "B", sk_page_size(&b_, 0));
	EXPECT_BUF("532" NBSP "B", sk_page_size(&b_, 532));
	EXPECT_BUF("1023" NBSP "B", sk_page_size(&b_, 1023));
	EXPECT_BUF("1" NBSP "kB", sk_page_size(&b_, 1024));
	EXPECT_BUF("1,5" NBSP "kB", sk_page_size(&b_, 1536));
	EXPECT_BUF("12" NBSP "kB", sk_page_size(&b_, 12 * 1024));
	EXPECT_BUF("340" NBSP "kB", sk_page_size(&b_, 340 * 1024 + 100));
	EXPECT_BUF("1,2" NBSP "MB", sk_page_size(&b_, 1258291));
	EXPECT_BUF("10" NBSP "MB", sk_page_size(&b_, 10 * 1024 * 1024));
	EXPECT_BUF("1" NBSP "MB", sk_page_size(&b_, 1024 * 1024 - 10));
	EXPECT_BUF("2,5" NBSP "GB",
	           sk_page_size(&b_, (int64_t)5 * 512 * 1024 * 1024));
}

static void
hostile_text_comes_out_inert(void **state)
{
	static const char *const hostile[] = {
		"<script>alert(1)</script>",
		"\"><img src=x onerror=alert(1)>",
		"'><svg onload=alert(1)>",
		"<a href=\"javascript:alert(1)\">x</a>",
		"https://x.example/\"><script>alert(1)</script>",
		"http://x.example/'onmouseover='alert(1)",
	};
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(hostile); i++) {
		for (unsigned flags = 0; flags < 4; flags++) {
			char *out = render_text(hostile[i], flags);
			/* No markup of the input survives: every '<' we see
			 * is one of our own <a> tags. */
			for (const char *p = strchr(out, '<'); p;
			     p = strchr(p + 1, '<'))
				assert_true(strncmp(p, "<a href=\"", 9) == 0 ||
				            strncmp(p, "</a>", 4) == 0);
			assert_null(strstr(out, "<script"));
			assert_null(strstr(out, "<img"));
			assert_null(strstr(out, "<svg"));
			assert_null(strstr(out, "href=\"javascript"));
			/* Attribute values never end early. */
			for (const char *p = strstr(out, "href=\""); p;
			     p = strstr(p + 1, "href=\"")) {
				const char *end = strchr(p + 6, '"');
				assert_non_null(end);
				assert_true(strncmp(end, "\" rel=", 6) == 0);
			}
			free(out);
		}
	}
	char *out = render_text("\"><img src=x onerror=alert(1)>", 0);
	assert_string_equal(out,
	                    "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
	free(out);
}

static void
only_http_urls_become_links(void **state)
{
	char *out;

	(void)state;
	out = render_text("Zob. https://bip.example.pl/a?b=1&c=2.",
	                  SK_TEXT_LINKS);
	assert_string_equal(out,
	                    "Zob. <a href=\"https://bip.example.pl/a?b=1&amp;"
	                    "c=2\" rel=\"nofollow noopener\">"
	                    "https://bip.example.pl/a?b=1&amp;c=2</a>.");
	free(out);
	out = render_text("(http://x.example/wiki/A_(b)) i HTTP://Y.EXAMPLE",
	                  SK_TEXT_LINKS);
	assert_string_equal(
	    out, "(<a href=\"http://x.example/wiki/A_(b)\" "
	         "rel=\"nofollow noopener\">http://x.example/wiki/A_(b)</a>)"
	         " i <a href=\"HTTP://Y.EXAMPLE\" rel=\"nofollow noopener\">"
	         "HTTP://Y.EXAMPLE</a>");
	free(out);
	out =
	    render_text("javascript:alert(1) ftp://x.example data:text/html,x "
	                "xhttp://a.example http:// https://",
	                SK_TEXT_LINKS);
	assert_null(strstr(out, "<a"));
	free(out);
	/* Polish quotes end a URL. */
	out = render_text("„https://a.example/x”", SK_TEXT_LINKS);
	assert_string_equal(out, "„<a href=\"https://a.example/x\" "
	                         "rel=\"nofollow noopener\">"
	                         "https://a.example/x</a>”");
	free(out);
}

static void
addresses_are_hidden_when_asked(void **state)
{
	char *out;

	(void)state;
	out = render_text("Pisze a.kowalczyk@brzozowka.example: tak. "
	                  "Kontakt: <p.zajac@jaskowo.example>.",
	                  SK_TEXT_HIDE_ADDRS);
	assert_string_equal(out, "Pisze " SK_ADDR_HIDDEN
	                         ": tak. Kontakt: &lt;" SK_ADDR_HIDDEN "&gt;.");
	free(out);
	out = render_text("a.kowalczyk@brzozowka.example", 0);
	assert_string_equal(out, "a.kowalczyk@brzozowka.example");
	free(out);
	/* Not addresses: a lone @, a handle, no dot in the domain. */
	out = render_text("@ x@ @y spotkanie@14:00 a@localhost",
	                  SK_TEXT_HIDE_ADDRS);
	assert_string_equal(out, "@ x@ @y spotkanie@14:00 a@localhost");
	free(out);
	/* An address inside a URL is not given away by the link. */
	out = render_text("https://x.example/?m=a@b.example",
	                  SK_TEXT_LINKS | SK_TEXT_HIDE_ADDRS);
	assert_null(strstr(out, "a@b.example"));
	assert_null(strstr(out, "<a "));
	free(out);
}

static void
snippets_keep_marks_and_lose_addresses(void **state)
{
	static const char snip[] = "napisz do <mark>anna</mark>.k@brzozowka."
	                           "example lub x.y@jaskowo.example &amp; "
	                           "<mark>regulamin</mark>";
	struct sk_buf b;

	(void)state;
	sk_buf_init(&b, 1 << 20);
	sk_page_mask_html(&b, snip, strlen(snip));
	assert_null(strstr(b.p, "brzozowka.example"));
	assert_null(strstr(b.p, "x.y@"));
	assert_non_null(strstr(b.p, "<mark>regulamin</mark>"));
	assert_non_null(strstr(b.p, "&amp;"));
	sk_buf_release(&b);

	EXPECT_BUF(
	    "a & b <c> 'd' \"e\"",
	    sk_page_html_to_text(&b_,
	                         "a &amp; <mark>b</mark> &lt;c&gt; "
	                         "&#39;d&#39; &quot;e&quot;",
	                         strlen("a &amp; <mark>b</mark> &lt;c&gt; "
	                                "&#39;d&#39; &quot;e&quot;")));
}

static void
quotes_are_folded_and_replies_shown(void **state)
{
	static const char body[] = "Dzień dobry,\nprzesyłam regulamin.\n\n"
	                           "> Czy ktoś ma regulamin?\n>\n> Anna\n\n"
	                           "A tu jeszcze <uwaga>.\n";
	struct sk_buf b;
	const char *q = strstr(body, "> Czy");
	const char *details, *after;

	(void)state;
	sk_buf_init(&b, 1 << 20);
	sk_page_body(&b, body, strlen(body), (size_t)(q - body), SK_TEXT_LINKS);
	assert_int_equal(sk_buf_status(&b), SK_OK);
	details =
	    strstr(b.p, "<details class=\"quote\"><summary>Pokaż cytat (3" NBSP
	                "wiersze)</summary>");
	assert_non_null(details);
	assert_true(strstr(b.p, "przesyłam regulamin.") < details);
	assert_non_null(strstr(details, "&gt; Czy ktoś ma regulamin?"));
	after = strstr(b.p, "</details>");
	assert_non_null(after);
	assert_non_null(strstr(after, "A tu jeszcze &lt;uwaga&gt;."));
	assert_null(strstr(b.p, "<uwaga>"));
	sk_buf_release(&b);
}

static void
outlook_quote_is_folded_to_the_end(void **state)
{
	static const char body[] = "Przesyłam.\n\n-----Original Message-----\n"
	                           "From: x\nSubject: y\n\nstary tekst\n";
	struct sk_buf b;
	const char *q = strstr(body, "-----Original");

	(void)state;
	sk_buf_init(&b, 1 << 20);
	sk_page_body(&b, body, strlen(body), (size_t)(q - body), 0);
	const char *d = strstr(b.p, "<details");
	assert_non_null(d);
	assert_non_null(strstr(d, "stary tekst"));
	assert_true(strstr(b.p, "Przesyłam.") < d);
	sk_buf_release(&b);

	/* Nothing quoted: no <details>; quote_start past the end is fine. */
	sk_buf_init(&b, 1 << 20);
	sk_page_body(&b, body, strlen(body), strlen(body) + 100, 0);
	assert_null(strstr(b.p, "<details"));
	sk_buf_release(&b);
	sk_buf_init(&b, 1 << 20);
	sk_page_body(&b, "", 0, 0, 0);
	assert_string_equal(b.p, "<div class=\"msg-body\">\n</div>\n");
	sk_buf_release(&b);
}

static void
signature_is_set_apart_but_kept(void **state)
{
	static const char body[] = "Przesyłam regulamin.\n\n-- \nAnna "
	                           "Kowalczyk\ntel. 81 566 90 80\n";
	static const char early[] = "-- \n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	                            "11\n12\n13\n14\n15\n16\n17\n";
	struct sk_buf b;
	const char *sig;

	(void)state;
	sk_buf_init(&b, 1 << 20);
	sk_page_body(&b, body, strlen(body), strlen(body), 0);
	sig = strstr(b.p, "<div class=\"sig\"");
	assert_non_null(sig);
	assert_true(strstr(b.p, "Przesyłam regulamin.") < sig);
	assert_non_null(strstr(sig, "Anna Kowalczyk"));
	sk_buf_release(&b);
	/* A "-- " line far above the end is not a signature. */
	sk_buf_init(&b, 1 << 20);
	sk_page_body(&b, early, strlen(early), strlen(early), 0);
	assert_null(strstr(b.p, "class=\"sig\""));
	sk_buf_release(&b);
}

static void
layout_has_language_landmarks_and_skip_link(void **state)
{
	struct sk_buf b;
	struct sk_page p = { .title = "<script>alert(1)</script>",
		             .nav = SK_NAV_SEARCH,
		             .user_name = "\"><b>Anna</b>",
		             .csrf = "tok\"en" };

	(void)state;
	sk_buf_init(&b, 1 << 20);
	sk_page_begin(&b, &p);
	sk_buf_adds(&b, "<h1>x</h1>");
	sk_page_end(&b, &p);
	assert_int_equal(sk_buf_status(&b), SK_OK);
	assert_true(sk_starts_with(b.p, "<!DOCTYPE html>\n<html lang=\"pl\">"));
	assert_non_null(strstr(b.p, "<title>&lt;script&gt;alert(1)&lt;/script"
	                            "&gt; – Skarbnica</title>"));
	assert_non_null(strstr(b.p, "<a class=\"skip\" href=\"#tresc\">"
	                            "Przejdź do treści</a>"));
	assert_non_null(strstr(b.p, "<header class=\"site\">"));
	assert_non_null(strstr(b.p, "<nav aria-label=\"Menu główne\">"));
	assert_non_null(strstr(b.p, "<main id=\"tresc\""));
	assert_non_null(strstr(b.p, "<footer class=\"site\">"));
	assert_non_null(strstr(b.p, "<a href=\"/szukaj\" aria-current=\"page\">"
	                            "Szukaj</a>"));
	assert_non_null(strstr(b.p, "name=\"csrf\" value=\"tok&quot;en\""));
	assert_null(strstr(b.p, "<b>Anna"));
	assert_null(strstr(b.p, "<script"));
	assert_null(strstr(b.p, "style="));
	assert_non_null(strstr(b.p, sk_web_css_version()));
	sk_buf_release(&b);
}

static void
pager_marks_the_current_page(void **state)
{
	struct sk_buf b;

	(void)state;
	sk_buf_init(&b, 1 << 20);
	sk_page_pager(&b, "/szukaj?q=a&", 1, 1);
	assert_string_equal(b.p, "");
	sk_page_pager(&b, "/szukaj?q=a&", 5, 20);
	assert_non_null(strstr(b.p, "href=\"/szukaj?q=a&amp;strona=5\" "
	                            "aria-current=\"page\">5</a>"));
	assert_non_null(strstr(b.p, "rel=\"prev\" href=\"/szukaj?q=a&amp;"
	                            "strona=4\""));
	assert_non_null(strstr(b.p, "rel=\"next\" href=\"/szukaj?q=a&amp;"
	                            "strona=6\""));
	assert_non_null(strstr(b.p, "strona=20\">20</a>"));
	assert_non_null(strstr(b.p, "strona=1\">1</a>"));
	assert_null(strstr(b.p, "strona=9\""));
	sk_buf_release(&b);
}

static void
xml_text_drops_forbidden_controls(void **state)
{
	(void)state;
	EXPECT_BUF("a&lt;b&gt;&amp;c&quot;d&#39;e\tfg",
	           sk_page_xml(&b_, "a<b>&c\"d'e\t\x01"
	                            "f\x0b"
	                            "g"));
}

static void
login_throttle_counts_failures_in_a_window(void **state)
{
	struct sk_web_state *st = sk_web_state_new();
	time_t now = 1700000000;

	(void)state;
	for (int i = 0; i < SK_WEB_LOGIN_FAILS; i++) {
		assert_false(sk_web_throttled(st, "ip:10.0.0.1", now));
		sk_web_throttle_fail(st, "ip:10.0.0.1", now);
	}
	assert_true(sk_web_throttled(st, "ip:10.0.0.1", now + 60));
	assert_false(sk_web_throttled(st, "ip:10.0.0.2", now + 60));
	/* The window passes. */
	assert_false(
	    sk_web_throttled(st, "ip:10.0.0.1", now + SK_WEB_LOGIN_WINDOW + 1));
	sk_web_throttle_reset(st, "ip:10.0.0.1");
	assert_false(sk_web_throttled(st, "ip:10.0.0.1", now + 60));
	/* Many keys do not break it. */
	for (int i = 0; i < 5000; i++) {
		char key[32];
		snprintf(key, sizeof(key), "ip:k%d", i);
		sk_web_throttle_fail(st, key, now);
	}
	for (int i = 0; i < SK_WEB_LOGIN_CONCURRENT; i++)
		assert_true(sk_web_verify_begin(st));
	assert_false(sk_web_verify_begin(st));
	sk_web_verify_end(st);
	assert_true(sk_web_verify_begin(st));
	sk_web_state_free(&st);
	assert_null(st);
}

static void
metrics_count_routes_and_latency(void **state)
{
	struct sk_web_state *st = sk_web_state_new();
	struct sk_buf b;

	(void)state;
	sk_web_state_record(st, "thread", 200, 0.004);
	sk_web_state_record(st, "thread", 200, 0.2);
	sk_web_state_record(st, "thread", 404, 0.001);
	sk_web_state_record(st, "no-such-route", 418, 0.001);
	sk_buf_init(&b, 1 << 20);
	sk_web_metrics_requests(st, &b);
	assert_non_null(strstr(b.p, "skarbnica_http_requests_total{route="
	                            "\"thread\",status=\"200\"} 2\n"));
	assert_non_null(strstr(b.p, "skarbnica_http_requests_total{route="
	                            "\"thread\",status=\"404\"} 1\n"));
	assert_non_null(strstr(b.p, "skarbnica_http_requests_total{route="
	                            "\"other\",status=\"other\"} 1\n"));
	assert_non_null(strstr(b.p, "duration_seconds_bucket{route=\"thread\","
	                            "le=\"0.005\"} 2\n"));
	assert_non_null(strstr(b.p, "duration_seconds_bucket{route=\"thread\","
	                            "le=\"0.25\"} 3\n"));
	assert_non_null(strstr(b.p, "duration_seconds_count{route=\"thread\"} "
	                            "3\n"));
	assert_null(strstr(b.p, "route=\"search\""));
	sk_buf_release(&b);
	sk_web_state_free(&st);
}

static void
css_is_served_compiled_in(void **state)
{
	(void)state;
	assert_true(sk_web_css_len() > 1000);
	assert_int_equal(strlen(sk_web_css_version()), 8);
	assert_non_null(strstr(sk_web_css, ":focus"));
	assert_non_null(strstr(sk_web_css, "white-space:pre-wrap"));
	assert_null(strstr(sk_web_css, "url("));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plural_forms_follow_polish_rules),
		cmocka_unit_test(counts_use_number_and_no_break_space),
		cmocka_unit_test(numbers_group_thousands_from_five_digits),
		cmocka_unit_test(dates_are_polish_in_warsaw_time),
		cmocka_unit_test(summer_time_switches_on_last_sundays),
		cmocka_unit_test(warsaw_time_matches_tzdata),
		cmocka_unit_test(sizes_use_decimal_comma_and_binary_units),
		cmocka_unit_test(hostile_text_comes_out_inert),
		cmocka_unit_test(only_http_urls_become_links),
		cmocka_unit_test(addresses_are_hidden_when_asked),
		cmocka_unit_test(snippets_keep_marks_and_lose_addresses),
		cmocka_unit_test(quotes_are_folded_and_replies_shown),
		cmocka_unit_test(outlook_quote_is_folded_to_the_end),
		cmocka_unit_test(layout_has_language_landmarks_and_skip_link),
		cmocka_unit_test(pager_marks_the_current_page),
		cmocka_unit_test(xml_text_drops_forbidden_controls),
		cmocka_unit_test(login_throttle_counts_failures_in_a_window),
		cmocka_unit_test(metrics_count_routes_and_latency),
		cmocka_unit_test(css_is_served_compiled_in),
		cmocka_unit_test(signature_is_set_apart_but_kept),
	};
	return cmocka_run_group_tests_name("web/render", tests, NULL, NULL);
}
