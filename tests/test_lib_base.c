/* tests/test_lib_base.c: errors, arena, the capped buffer and its escaping,
 * UTF-8 helpers, number parsing, Warsaw time and the configuration file. */
#include "tests/helpers/sk_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
err_set_formats_and_wrap_prefixes(void **state)
{
	struct sk_err err = { 0 };
	(void)state;
	assert_int_equal(sk_err_set(&err, SK_EIO, "cannot open '%s'", "x"),
			 SK_EIO);
	assert_string_equal(err.msg, "cannot open 'x'");
	sk_err_wrap(&err, "config");
	assert_string_equal(err.msg, "config: cannot open 'x'");
	assert_int_equal(sk_err_set(NULL, SK_EINVAL, "ignored"), SK_EINVAL);
}

static void
arena_strings_survive_until_free(void **state)
{
	struct sk_arena *a = sk_arena_new(64);
	char *big, *s;
	(void)state;
	s = sk_arena_printf(a, "%s-%d", "gmina", 7);
	big = sk_arena_alloc(a, 100000);
	memset(big, 'x', 100000);
	assert_string_equal(s, "gmina-7");
	assert_string_equal(sk_arena_strndup(a, "Łódź!", 7), "Łódź");
	assert_null(sk_arena_strdup(a, NULL));
	assert_true(sk_arena_used(a) >= 100000);
	sk_arena_free(&a);
	assert_null(a);
}

static void
buf_escapes_html_and_keeps_utf8(void **state)
{
	struct sk_buf b;
	(void)state;
	sk_buf_init(&b, 1024);
	sk_buf_add_htmls(&b, "<script>alert('x')</script> & \"Łódź\"");
	assert_string_equal(b.p, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script"
				 "&gt; &amp; &quot;Łódź&quot;");
	sk_buf_release(&b);
}

static void
buf_url_encodes_everything_but_unreserved(void **state)
{
	struct sk_buf b;
	(void)state;
	sk_buf_init(&b, 1024);
	sk_buf_add_url(&b, "a b/ż?&=<x@y.pl>", strlen("a b/ż?&=<x@y.pl>"));
	assert_string_equal(b.p, "a%20b%2F%C5%BC%3F%26%3D%3Cx%40y.pl%3E");
	sk_buf_release(&b);
}

static void
buf_json_escapes_controls(void **state)
{
	struct sk_buf b;
	(void)state;
	sk_buf_init(&b, 1024);
	sk_buf_add_json_str(&b, "a\"b\\c\nd\x01ż");
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\nd\\u0001ż\"");
	sk_buf_reset(&b);
	sk_buf_add_json_str(&b, NULL);
	assert_string_equal(b.p, "null");
	sk_buf_release(&b);
}

static void
buf_cap_is_sticky(void **state)
{
	struct sk_buf b;
	char *p;
	size_t n;
	(void)state;
	sk_buf_init(&b, 8);
	sk_buf_adds(&b, "12345");
	sk_buf_adds(&b, "6789");
	assert_int_equal(sk_buf_status(&b), SK_ETOOBIG);
	sk_buf_adds(&b, "x");
	assert_string_equal(b.p, "12345");
	p = sk_buf_take(&b, &n);
	assert_int_equal(n, 5);
	assert_string_equal(p, "12345");
	free(p);
	assert_int_equal(sk_buf_status(&b), SK_OK);
	assert_string_equal(b.p, "");
	sk_buf_release(&b);
}

static void
utf8_validation_rejects_overlongs_and_surrogates(void **state)
{
	(void)state;
	assert_true(sk_utf8_valid("zażółć gęślą jaźń", strlen("zażółć gęślą jaźń")));
	assert_false(sk_utf8_valid("\xc0\xaf", 2));	/* overlong '/' */
	assert_false(sk_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(sk_utf8_valid("\xb3", 1));	/* ł in ISO-8859-2 */
	assert_false(sk_utf8_valid("\xc5", 1));	/* truncated */
}

static void
utf8_sanitize_replaces_invalid_and_drops_controls(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	size_t n;
	char *s;
	(void)state;
	s = sk_utf8_sanitize(a, "a\xb3" "b\0c\r\nd\x7f", 9, &n);
	assert_string_equal(s, "a\xef\xbf\xbd" "bc\nd\x7f");
	assert_true(sk_utf8_valid(s, n));
	sk_arena_free(&a);
}

static void
utf8_clip_never_splits_a_character(void **state)
{
	const char *s = "żółw";
	(void)state;
	assert_int_equal(sk_utf8_clip(s, strlen(s), 1), 0);
	assert_int_equal(sk_utf8_clip(s, strlen(s), 3), 2);
	assert_int_equal(sk_utf8_clip(s, strlen(s), 100), strlen(s));
	assert_int_equal(sk_utf8_count(s, strlen(s)), 4);
}

static void
numbers_and_sizes_parse_strictly(void **state)
{
	struct sk_err err = { 0 };
	int64_t v;
	uint64_t sz;
	bool b;
	(void)state;
	assert_int_equal(sk_parse_i64("42", 0, 100, &v, &err), SK_OK);
	assert_int_equal(v, 42);
	assert_int_equal(sk_parse_i64("42x", 0, 100, &v, &err), SK_EINVAL);
	assert_int_equal(sk_parse_i64(" 4", 0, 100, &v, &err), SK_EINVAL);
	assert_int_equal(sk_parse_i64("101", 0, 100, &v, &err), SK_EINVAL);
	assert_int_equal(sk_parse_size("25M", &sz, &err), SK_OK);
	assert_int_equal(sz, 25u << 20);
	assert_int_equal(sk_parse_size("1T", &sz, &err), SK_EINVAL);
	assert_int_equal(sk_parse_bool("yes", &b, &err), SK_OK);
	assert_true(b);
	assert_int_equal(sk_parse_bool("maybe", &b, &err), SK_EINVAL);
}

static void
dates_parse_and_reject_impossible_days(void **state)
{
	time_t t;
	char iso[21];
	(void)state;
	assert_int_equal(sk_parse_date("2024-02-29", 10, &t), SK_OK);
	sk_time_iso8601(t, iso);
	assert_string_equal(iso, "2024-02-29T00:00:00Z");
	assert_int_equal(sk_parse_date("2023-02-29", 10, &t), SK_EINVAL);
	assert_int_equal(sk_parse_date("2024-13-01", 10, &t), SK_EINVAL);
	assert_int_equal(sk_parse_date("24-01-01", 8, &t), SK_EINVAL);
}

/* Summer time starts and ends at 01:00 UTC on the last Sundays of March
 * and October: 2025-03-30, 2025-10-26, 2026-03-29, 2026-10-25. */
static void
warsaw_time_switches_on_last_sundays(void **state)
{
	static const struct {
		time_t t;
		int off, hour, min, mday;
	} cases[] = {
		{ 1743296400 - 1, 3600, 1, 59, 30 }, /* 01:59:59 CET */
		{ 1743296400, 7200, 3, 0, 30 },	     /* then 03:00 CEST */
		{ 1761440400 - 1, 7200, 2, 59, 26 }, /* 02:59:59 CEST */
		{ 1761440400, 3600, 2, 0, 26 },	     /* then 02:00 CET */
		{ 1774746000 - 1, 3600, 1, 59, 29 },
		{ 1774746000, 7200, 3, 0, 29 },
		{ 1792890000 - 1, 7200, 2, 59, 25 },
		{ 1792890000, 3600, 2, 0, 25 },
		/* New year's eve 23:00 UTC is already 2026 in Warsaw. */
		{ 1767222000, 3600, 0, 0, 1 },
	};
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(cases); i++) {
		struct tm tm;
		int off = 0;
		sk_warsaw_tm(cases[i].t, &tm, &off);
		assert_int_equal(off, cases[i].off);
		assert_int_equal(tm.tm_hour, cases[i].hour);
		assert_int_equal(tm.tm_min, cases[i].min);
		assert_int_equal(tm.tm_mday, cases[i].mday);
		assert_int_equal(tm.tm_isdst, cases[i].off == 7200);
	}
	sk_warsaw_tm(1767222000, &(struct tm){ 0 }, NULL); /* offset optional */
}

static void
warsaw_midnights_make_23_and_25_hour_days(void **state)
{
	(void)state;
	/* 2025: 00:00 CET on 30 March is 23:00 UTC the day before; the day
	 * has 23 hours, and 31 March starts at 22:00 UTC (CEST). */
	assert_int_equal(sk_warsaw_midnight(2025, 3, 30), 1743289200);
	assert_int_equal(sk_warsaw_midnight(2025, 3, 31), 1743372000);
	assert_int_equal(sk_warsaw_midnight(2025, 10, 26), 1761429600);
	assert_int_equal(sk_warsaw_midnight(2025, 10, 27), 1761519600);
	assert_int_equal(sk_warsaw_midnight(2025, 10, 27) -
				 sk_warsaw_midnight(2025, 10, 26),
			 25 * 3600);
	assert_int_equal(sk_warsaw_midnight(2026, 3, 29), 1774738800);
	assert_int_equal(sk_warsaw_midnight(2026, 3, 30), 1774821600);
	assert_int_equal(sk_warsaw_midnight(2026, 3, 30) -
				 sk_warsaw_midnight(2026, 3, 29),
			 23 * 3600);
	assert_int_equal(sk_warsaw_midnight(2026, 10, 25), 1792879200);
	assert_int_equal(sk_warsaw_midnight(2026, 10, 26), 1792969200);
	/* Days outside the month count on: 1 January 2026, 29 February and
	 * 1 March 2024, 31 December 2024. */
	assert_int_equal(sk_warsaw_midnight(2025, 12, 32), 1767222000);
	assert_int_equal(sk_warsaw_midnight(2026, 1, 1), 1767222000);
	assert_int_equal(sk_warsaw_midnight(2024, 2, 29), 1709161200);
	assert_int_equal(sk_warsaw_midnight(2024, 2, 30), 1709247600);
	assert_int_equal(sk_warsaw_midnight(2024, 3, 0), 1709161200);
	assert_int_equal(sk_warsaw_midnight(2025, 1, 0),
			 sk_warsaw_midnight(2024, 12, 31));
	assert_int_equal(sk_warsaw_midnight(2025, 1, -6),
			 sk_warsaw_midnight(2024, 12, 25));
}

/* Both functions against the system's tz database, 1997-2037: every
 * midnight, and every 61 minutes (each hour of the day is hit). */
static void
warsaw_time_matches_tzdata(void **state)
{
	const char *old = getenv("TZ");
	char *saved = old ? sk_xstrdup(old) : NULL;
	int days = 0;

	(void)state;
	if (access("/usr/share/zoneinfo/Europe/Warsaw", R_OK) != 0) {
		printf("SKIP: no tzdata for Europe/Warsaw\n");
		free(saved);
		skip();
	}
	setenv("TZ", "Europe/Warsaw", 1);
	tzset();
	for (time_t t = 852076800; t < 2145916800; t += 61 * 60) {
		struct tm ours, sys;
		int off;
		sk_warsaw_tm(t, &ours, &off);
		localtime_r(&t, &sys);
		if (ours.tm_hour != sys.tm_hour || ours.tm_mday != sys.tm_mday ||
		    ours.tm_min != sys.tm_min || ours.tm_mon != sys.tm_mon ||
		    ours.tm_year != sys.tm_year || off != sys.tm_gmtoff)
			fail_msg("sk_warsaw_tm differs at %lld", (long long)t);
	}
	for (int y = 1997; y < 2038; y++) {
		for (int d = 1; d <= 366; d++) {
			struct tm tm = { .tm_year = y - 1900, .tm_mday = d,
					 .tm_isdst = -1 };
			time_t sys = mktime(&tm);
			if (tm.tm_year != y - 1900)
				break;
			if (sk_warsaw_midnight(y, 1, d) != sys)
				fail_msg("sk_warsaw_midnight(%d, 1, %d) is %lld, "
					 "tzdata says %lld",
					 y, d,
					 (long long)sk_warsaw_midnight(y, 1, d),
					 (long long)sys);
			days++;
		}
	}
	assert_int_equal(days, 41 * 365 + 10); /* 10 leap years */
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static char *
write_conf(const char *dir, const char *text)
{
	char *path = malloc(strlen(dir) + 32);
	FILE *f;
	snprintf(path, strlen(dir) + 32, "%s/skarbnica.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
config_reads_sections_and_partners(void **state)
{
	char *dir = sk_test_tmpdir();
	char *path = write_conf(
		dir, "# comment\n[web]\nlisten = 127.0.0.1:9000\npublic = true\n"
		     "[search]\nbackend = fts5\n"
		     "[list]\naddress = praktyki@lista.example\n"
		     "[imap]\nhost = imap.example\ntls = starttls\nport = 143\n"
		     "[partner \"stolno\"]\nname = Gmina Stolno\nkind = gmina\n"
		     "domains = stolno.pl, stolno.example\n"
		     "[limits]\nmessage_bytes = 10M\nparts = 500\n");
	struct sk_config c;
	struct sk_err err = { 0 };
	struct sk_limits l;
	(void)state;

	sk_config_init(&c);
	assert_int_equal(sk_config_load(&c, path, &err), SK_OK);
	assert_string_equal(c.web.listen, "127.0.0.1:9000");
	assert_true(c.web.public_mode);
	assert_string_equal(c.search.backend, "fts5");
	assert_int_equal(c.imap.tls, SK_TLS_STARTTLS);
	assert_int_equal(c.imap.port, 143);
	assert_int_equal(c.n_partners, 1);
	assert_string_equal(c.partners[0].slug, "stolno");
	assert_string_equal(c.partners[0].name, "Gmina Stolno");
	l = sk_limits_effective(&c.limits);
	assert_int_equal(l.message_bytes, 10u << 20);
	assert_int_equal(l.parts, 500);
	assert_int_equal(l.depth, 100);
	sk_config_release(&c);
	free(path);
	sk_test_rmdir(&dir);
}

static void
config_rejects_unknown_keys_with_line(void **state)
{
	char *dir = sk_test_tmpdir();
	char *path = write_conf(dir, "[web]\nlisten = x\nlistne = y\n");
	struct sk_config c;
	struct sk_err err = { 0 };
	(void)state;

	sk_config_init(&c);
	assert_int_equal(sk_config_load(&c, path, &err), SK_EINVAL);
	assert_non_null(strstr(err.msg, ":3:"));
	assert_non_null(strstr(err.msg, "listne"));
	sk_config_release(&c);
	free(path);
	path = write_conf(dir, "[imap]\ntls = maybe\n");
	sk_config_init(&c);
	assert_int_equal(sk_config_load(&c, path, &err), SK_EINVAL);
	sk_config_release(&c);
	free(path);
	path = write_conf(dir, "[partner \"x\"]\nname = X\n");
	sk_config_init(&c);
	assert_int_equal(sk_config_load(&c, path, &err), SK_EINVAL);
	assert_non_null(strstr(err.msg, "domains"));
	sk_config_release(&c);
	free(path);
	sk_config_init(&c);
	assert_int_equal(sk_config_load(&c, "/nonexistent/x.conf", &err),
			 SK_ENOTFOUND);
	sk_config_release(&c);
	sk_test_rmdir(&dir);
}

static void
secret_files_must_be_private(void **state)
{
	char *dir = sk_test_tmpdir();
	char *path = write_conf(dir, "tajne-haslo\nsecond line\n");
	struct sk_err err = { 0 };
	char *secret = NULL;
	(void)state;

	chmod(path, 0644);
	assert_int_equal(sk_read_secret_file(path, &secret, &err), SK_EINVAL);
	chmod(path, 0600);
	assert_int_equal(sk_read_secret_file(path, &secret, &err), SK_OK);
	assert_string_equal(secret, "tajne-haslo");
	free(secret);
	free(path);
	sk_test_rmdir(&dir);
}

static void
loopback_hosts_are_recognised(void **state)
{
	(void)state;
	assert_true(sk_host_is_loopback("127.0.0.1"));
	assert_true(sk_host_is_loopback("localhost"));
	assert_true(sk_host_is_loopback("::1"));
	assert_false(sk_host_is_loopback("imap.stolno.pl"));
	assert_false(sk_host_is_loopback(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(err_set_formats_and_wrap_prefixes),
		cmocka_unit_test(arena_strings_survive_until_free),
		cmocka_unit_test(buf_escapes_html_and_keeps_utf8),
		cmocka_unit_test(buf_url_encodes_everything_but_unreserved),
		cmocka_unit_test(buf_json_escapes_controls),
		cmocka_unit_test(buf_cap_is_sticky),
		cmocka_unit_test(utf8_validation_rejects_overlongs_and_surrogates),
		cmocka_unit_test(utf8_sanitize_replaces_invalid_and_drops_controls),
		cmocka_unit_test(utf8_clip_never_splits_a_character),
		cmocka_unit_test(numbers_and_sizes_parse_strictly),
		cmocka_unit_test(dates_parse_and_reject_impossible_days),
		cmocka_unit_test(warsaw_time_switches_on_last_sundays),
		cmocka_unit_test(warsaw_midnights_make_23_and_25_hour_days),
		cmocka_unit_test(warsaw_time_matches_tzdata),
		cmocka_unit_test(config_reads_sections_and_partners),
		cmocka_unit_test(config_rejects_unknown_keys_with_line),
		cmocka_unit_test(secret_files_must_be_private),
		cmocka_unit_test(loopback_hosts_are_recognised),
	};
	return cmocka_run_group_tests_name("lib/base", tests, NULL, NULL);
}
