/* tests/test_ingest_charset.c: the pieces that turn bytes into Polish
 * text — labels, detection, RFC 2047 and 2231, addresses, dates, HTML,
 * quoting. */
#include "tests/helpers/sk_test.h"
#include "ingest/private.h"

#include <string.h>

static struct sk_arena *A;

static int
setup(void **state)
{
	(void)state;
	A = sk_arena_new(0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sk_arena_free(&A);
	return 0;
}

static const char *
text(const char *bytes, const char *label, unsigned *flags)
{
	size_t n;
	*flags = 0;
	return sk_mime_text_utf8(A, bytes, strlen(bytes), label, flags, &n);
}

/* "Zażółć gęślą jaźń" in the three charsets. */
#define PL_UTF8                                                                \
	"Za\xC5\xBC\xC3\xB3\xC5\x82\xC4\x87 g\xC4\x99\xC5\x9Bl\xC4\x85 "       \
	"ja\xC5\xBA\xC5\x84"
#define PL_ISO2 "Za\xBF\xF3\xB3\xE6 g\xEA\xB6l\xB1 ja\xBC\xF1"
#define PL_1250 "Za\xBF\xF3\xB3\xE6 g\xEA\x9Cl\xB9 ja\x9F\xF1"

static void
maps_charset_aliases(void **state)
{
	(void)state;
	assert_string_equal(sk_mime_charset_canon(A, "cp1250"), "WINDOWS-1250");
	assert_string_equal(sk_mime_charset_canon(A, "Win-1250"),
	                    "WINDOWS-1250");
	assert_string_equal(sk_mime_charset_canon(A, "\"ISO8859-2\""),
	                    "ISO-8859-2");
	assert_string_equal(sk_mime_charset_canon(A, "latin2"), "ISO-8859-2");
	assert_string_equal(sk_mime_charset_canon(A, "l2"), "ISO-8859-2");
	assert_string_equal(sk_mime_charset_canon(A, "UTF8"), "UTF-8");
	assert_string_equal(sk_mime_charset_canon(A, "us-ascii"), "US-ASCII");
	assert_string_equal(sk_mime_charset_canon(A, "koi8-r"), "koi8-r");
	assert_null(sk_mime_charset_canon(A, "x-foobar-99"));
	assert_null(sk_mime_charset_canon(A, "unknown-8bit"));
	assert_null(sk_mime_charset_canon(A, "utf-8; rm -rf /"));
	assert_null(sk_mime_charset_canon(A, ""));
	assert_null(sk_mime_charset_canon(A, NULL));
}

static void
converts_declared_charsets(void **state)
{
	unsigned f;
	(void)state;
	assert_string_equal(text(PL_ISO2, "iso-8859-2", &f), PL_UTF8);
	assert_int_equal(f, 0);
	assert_string_equal(text(PL_1250, "cp1250", &f), PL_UTF8);
	assert_int_equal(f, 0);
	assert_string_equal(text(PL_UTF8, "utf-8", &f), PL_UTF8);
	assert_int_equal(f, 0);
	assert_string_equal(text("plain ascii", NULL, &f), "plain ascii");
	assert_int_equal(f, 0);
}

static void
detects_polish_without_a_label(void **state)
{
	unsigned f;
	(void)state;
	assert_string_equal(text(PL_1250, NULL, &f), PL_UTF8);
	assert_int_equal(f, SK_MSG_CHARSET_GUESSED);
	assert_string_equal(text(PL_ISO2, NULL, &f), PL_UTF8);
	assert_string_equal(text(PL_UTF8, NULL, &f), PL_UTF8);
	assert_string_equal(text(PL_1250, "us-ascii", &f), PL_UTF8);
	assert_int_equal(f, SK_MSG_CHARSET_GUESSED);
	assert_string_equal(text(PL_ISO2, "x-unknown", &f), PL_UTF8);
}

/* ICU's detector alone calls this ISO-8859-2 (no C1 byte), giving "zšb". */
static void
tells_windows_1250_by_its_letter_a_with_ogonek(void **state)
{
	unsigned f;
	(void)state;
	assert_string_equal(sk_mime_detect("Prosz\xEA o z\xB9\x62ki", 11, true),
	                    "WINDOWS-1250");
	assert_string_equal(text("Prosz\xEA o z\xB9\x62ki", NULL, &f),
	                    "Proszę o ząbki");
}

static void
recovers_windows_1250_mislabelled_as_latin1(void **state)
{
	unsigned f;
	(void)state;
	assert_string_equal(text(PL_1250, "iso-8859-1", &f), PL_UTF8);
	assert_int_equal(f, SK_MSG_CHARSET_GUESSED);
	assert_string_equal(text(PL_1250, "windows-1252", &f), PL_UTF8);
	/* Real Latin-1 stays Latin-1. */
	assert_string_equal(
	    text("Gr\xFC\xDF\x65 aus M\xFCnchen, sch\xF6n", "iso-8859-1", &f),
	    "Grüße aus München, schön");
	assert_int_equal(f, 0);
	assert_string_equal(text("caf\xE9 cr\xE8me", "iso-8859-1", &f),
	                    "café crème");
}

static void
replaces_invalid_bytes(void **state)
{
	unsigned f;
	const char *s;
	(void)state;
	s = text("abc\xC3(def\x01\x02", "utf-8", &f);
	assert_true(sk_utf8_valid(s, strlen(s)));
	assert_non_null(strstr(s, "abc"));
	assert_null(strchr(s, '\x01'));
	/* Bytes iso-8859-8 leaves undefined. */
	s = text("a\xA1\xFB"
	         "b",
	         "iso-8859-8", &f);
	assert_true(sk_utf8_valid(s, strlen(s)));
	assert_non_null(strstr(s, "\xEF\xBF\xBD"));
}

static const char *
words(const char *s, unsigned *flags)
{
	*flags = 0;
	return sk_mime_decode_words(A, s, strlen(s), flags);
}

static void
decodes_rfc2047_words(void **state)
{
	unsigned f;
	(void)state;
	assert_string_equal(words("=?ISO-8859-2?Q?Za=BF=F3=B3=E6?= g=?x?", &f),
	                    "Zażółć g=?x?");
	assert_string_equal(words("=?utf-8?b?WmHFvMOzxYLEhw==?=", &f),
	                    "Zażółć");
	/* Adjacent words: the space between them is not text. */
	assert_string_equal(words("=?utf-8?q?a?= =?utf-8?q?b?=", &f), "ab");
	assert_string_equal(words("=?utf-8?q?a?= x =?utf-8?q?b?=", &f),
	                    "a x b");
	/* A character split across two B words. */
	assert_string_equal(words("=?UTF-8?B?xQ==?=\n =?UTF-8?B?gg==?=", &f),
	                    "ł");
	/* Mixed charsets next to each other. */
	assert_string_equal(
	    words("=?iso-8859-2?q?=A3=F3d=BC?= =?windows-1250?q?_i_=8Cl=B9sk?=",
	          &f),
	    "Łódź i Śląsk");
	/* An RFC 2231 language suffix in the charset. */
	assert_string_equal(words("=?utf-8*pl?q?ma=C5=82y?=", &f), "mały");
	/* Unknown charset: detected. */
	assert_string_equal(words("=?x-klingon?q?z=B9b?=", &f), "ząb");
	assert_int_equal(f, SK_MSG_CHARSET_GUESSED);
	/* Raw 8-bit UTF-8 is not a guess; raw windows-1250 is. */
	assert_string_equal(words("Gmina \xC5\x81\xC4\x85ka", &f),
	                    "Gmina Łąka");
	assert_int_equal(f, 0);
	assert_string_equal(words("Gmina \xA3\xB9ka", &f), "Gmina Łąka");
	assert_int_equal(f, SK_MSG_CHARSET_GUESSED);
	/* Broken words stay as they are. */
	assert_string_equal(words("=?utf-8?q?unterminated", &f),
	                    "=?utf-8?q?unterminated");
	assert_string_equal(words("=??q?x?=", &f), "=??q?x?=");
	assert_string_equal(words("  many \t  spaces\n here ", &f),
	                    "many spaces here");
}

static const char *
param(const char *field, const char *name)
{
	struct sk_mime_field f;
	unsigned flags = 0;
	sk_mime_field_parse(A, field, strlen(field), &flags, &f);
	return sk_mime_field_param(&f, name);
}

static void
decodes_rfc2231_parameters(void **state)
{
	struct sk_mime_field f;
	unsigned flags = 0;
	const char *v = "Attachment; filename*0*=utf-8'pl'%C5%81%C3%B3d; "
	                "filename*1*=%C5%BA.pdf; filename=\"stara.pdf\"";

	(void)state;
	sk_mime_field_parse(A, v, strlen(v), &flags, &f);
	assert_string_equal(f.value, "attachment");
	assert_string_equal(sk_mime_field_param(&f, "filename"), "Łódź.pdf");
	/* One character split between sections. */
	assert_string_equal(
	    param("a; name*0*=utf-8''%C5; name*1*=%81.txt", "name"), "Ł.txt");
	/* Sections given out of order; a plain section in between. */
	assert_string_equal(
	    param("a; n*2*=%21; n*0*=iso-8859-2''%A3; n*1=\"x y\"", "n"),
	    "Łx y!");
	/* A gap ends the value. */
	assert_string_equal(param("a; n*0=ab; n*2=zz", "n"), "ab");
	/* Single extended value in windows-1250. */
	assert_string_equal(
	    param("a; filename*=windows-1250''%A3%B9ka.doc", "filename"),
	    "Łąka.doc");
	/* RFC 2047 in a plain (Outlook) value. */
	assert_string_equal(
	    param("a; name=\"=?utf-8?B?xYHDs2TFui5wZGY=?=\"", "name"),
	    "Łódź.pdf");
	/* Quoted strings with escapes and ';' inside. */
	assert_string_equal(param("a; name=\"a\\\"b;c\"; x=1", "name"),
	                    "a\"b;c");
	assert_string_equal(
	    param("text/plain; charset=ISO-8859-2 (komentarz)", "charset"),
	    "ISO-8859-2 (komentarz)");
	assert_string_equal(
	    param("text/plain; boundary=\"=_?a  b?=\"", "boundary"),
	    "=_?a  b?=");
	assert_null(param("text/plain", "charset"));
}

static void
caps_rfc2231_sections(void **state)
{
	struct sk_buf b;
	(void)state;
	sk_buf_init(&b, 1u << 20);
	sk_buf_adds(&b, "a");
	for (int i = 0; i < 500; i++)
		sk_buf_addf(&b, "; n*%d=x", i);
	assert_int_equal(strlen(param(b.p, "n")), 64);
	sk_buf_release(&b);
}

static void
parses_dates_leniently(void **state)
{
	static const struct {
		const char *s;
		time_t t;
	} ok[] = {
		{ "Mon, 15 Jan 2024 09:12:00 +0100", 1705306320 },
		{ "15 Jan 2024 09:12:00 +0100 (CET)", 1705306320 },
		{ "Mon, 15 Jan 24 08:12:00 GMT", 1705306320 },
		{ "Mon, 15 Jan 2024 03:12:00 EST", 1705306320 },
		{ "Mon Jan 15 08:12:00 2024", 1705306320 },
		{ "Mon, 15-Jan-2024 09:12:00 +0100", 1705306320 },
		{ "2024-01-15T09:12:00+01:00", 1705306320 },
		{ "2024-01-15 08:12:00Z", 1705306320 },
		{ "  Mon,  15  Jan  2024  9:12  +0100 ", 1705306320 },
	};
	static const char *const bad[] = { "",
		                           "wczoraj",
		                           "32 Jan 2024 10:00",
		                           "Mon, 15 Foo 2024 10:00",
		                           "15 Jan 1800 10:00:00",
		                           "99:99" };
	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(ok); i++) {
		time_t t = 0;
		assert_true(sk_mime_date(ok[i].s, strlen(ok[i].s), &t));
		assert_int_equal(t, ok[i].t);
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(bad); i++) {
		time_t t = 0;
		assert_false(sk_mime_date(bad[i], strlen(bad[i]), &t));
	}
}

static void
parses_address_lists(void **state)
{
	struct sk_mime_addr *a;
	unsigned f = 0;
	const char *s =
	    "\"Kowalska, Anna\" <A@X.example>, b@y.example (Bartek B.), "
	    "Grupa: c@z.example, =?utf-8?q?Pawe=C5=82?= <p@q.example>;, "
	    "<bare@angle.example>, Tylko Nazwa";
	size_t n = sk_mime_addresses(A, s, strlen(s), 100, &f, &a);

	(void)state;
	assert_int_equal(n, 6);
	assert_string_equal(a[0].name, "Kowalska, Anna");
	assert_string_equal(a[0].addr, "A@X.example");
	assert_string_equal(a[1].name, "Bartek B.");
	assert_string_equal(a[1].addr, "b@y.example");
	assert_string_equal(a[2].addr, "c@z.example");
	assert_string_equal(a[2].name, "");
	assert_string_equal(a[3].name, "Paweł");
	assert_string_equal(a[4].addr, "bare@angle.example");
	assert_string_equal(a[5].name, "Tylko Nazwa");
	assert_string_equal(a[5].addr, "");
	/* max caps the list */
	assert_int_equal(sk_mime_addresses(A, s, strlen(s), 2, &f, &a), 2);
}

static void
reads_msg_ids(void **state)
{
	const char **ids;
	const char *s = "<a@x> junk <b@y>\n\t<a@x> < c@z >";
	(void)state;
	assert_int_equal(sk_mime_msgids(A, s, strlen(s), 10, &ids), 3);
	assert_string_equal(ids[0], "a@x");
	assert_string_equal(ids[1], "b@y");
	assert_string_equal(ids[2], "c@z");
	assert_int_equal(sk_mime_msgids(A, "id@host", 7, 10, &ids), 1);
	assert_string_equal(ids[0], "id@host");
	assert_int_equal(sk_mime_msgids(A, "<>", 2, 10, &ids), 0);
}

static void
splits_a_header_block(void **state)
{
	struct sk_mime_headers hs;
	const char *m = "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
	                "Subject: one\n two\r\nX-Empty:\nFrom : a@b\n\nbody\n";
	size_t n;
	(void)state;
	sk_mime_headers_parse(A, m, strlen(m), 1 << 20, &hs);
	assert_int_equal(hs.n, 3);
	assert_string_equal(sk_mime_header_get(A, &hs, "subject", &n),
	                    "one two");
	assert_string_equal(sk_mime_header_get(A, &hs, "X-Empty", &n), "");
	assert_string_equal(sk_mime_header_get(A, &hs, "FROM", &n), "a@b");
	assert_string_equal(m + hs.end, "body\n");
	assert_false(hs.truncated);
	/* No blank line: a body line ends the header. */
	m = "Subject: x\nthis is body\n";
	sk_mime_headers_parse(A, m, strlen(m), 1 << 20, &hs);
	assert_int_equal(hs.n, 1);
	assert_string_equal(m + hs.end, "this is body\n");
	/* A cap in the middle of the block: the field it cuts keeps its
	 * start (a giant Subject is still a subject). */
	m = "A: 1\nB: 23\nC: 3\n\nbody";
	sk_mime_headers_parse(A, m, strlen(m), 9, &hs);
	assert_true(hs.truncated);
	assert_int_equal(hs.n, 2);
	assert_string_equal(sk_mime_header_get(A, &hs, "B", &n), "2");
	assert_string_equal(m + hs.end, "body");
}

static const char *
html(const char *s, const char *label)
{
	unsigned f = 0;
	size_t n;
	return sk_mime_html_text(A, s, strlen(s), label, 1 << 20, &f, &n);
}

static void
turns_html_into_text(void **state)
{
	(void)state;
	assert_string_equal(html("<p>a</p><p>b</p>", NULL), "a\n\nb");
	assert_string_equal(html("a<br>b<br><br>c", NULL), "a\nb\n\nc");
	assert_string_equal(html("<a href='http://x.pl/a'>strona</a>", NULL),
	                    "strona (http://x.pl/a)");
	assert_string_equal(html("<a href='mailto:a@b.pl'>a@b.pl</a>", NULL),
	                    "a@b.pl");
	assert_string_equal(html("<a href='javascript:x()'>klik</a>", NULL),
	                    "klik");
	assert_string_equal(
	    html("<style>x{}</style><script>y()</script>z", NULL), "z");
	assert_string_equal(html("a&nbsp;&nbsp;b &amp; c", NULL), "a b & c");
	assert_string_equal(
	    html("<blockquote><p>q1</p><p>q2</p></blockquote>r", NULL),
	    "> q1\n>\n> q2\n\nr");
	assert_string_equal(html("<pre>a  b\n c</pre>", NULL), "a  b\n c");
	assert_string_equal(html("<p>\xA3\xF3\x64\xBC</p>", "iso-8859-2"),
	                    "Łódź");
	assert_string_equal(
	    html("<meta charset=windows-1250><p>\xA3\xB9ka</p>", NULL), "Łąka");
}

static void
survives_deeply_nested_html(void **state)
{
	struct sk_buf b;
	const char *t;
	(void)state;
	sk_buf_init(&b, 1u << 24);
	for (int i = 0; i < 100000; i++)
		sk_buf_adds(&b, "<div><blockquote>");
	sk_buf_adds(&b, "dno");
	t = html(b.p, "utf-8");
	assert_true(sk_utf8_valid(t, strlen(t)));
	sk_buf_release(&b);
}

static size_t
qs(const char *s)
{
	return sk_mime_quote_start(s, strlen(s));
}

static void
finds_where_quoting_starts(void **state)
{
	const char *s;
	(void)state;
	s = "Odpowiedź.\n\nOn Mon, Jan 15, 2024 at 9:12 AM Anna <a@b> "
	    "wrote:\n> pytanie\n";
	assert_true(sk_starts_with(s + qs(s), "On Mon"));
	s = "Odpowiedź.\n\nDnia 15.01.2024 Anna napisała:\n\n> pytanie\n>\n> "
	    "x\n";
	assert_true(sk_starts_with(s + qs(s), "Dnia"));
	s = "Tekst.\n\n> cytat bez atrybucji\n";
	assert_true(sk_starts_with(s + qs(s), "> cytat"));
	/* Interleaved replies: nothing trails. */
	s = "> pytanie 1\nodpowiedź 1\n> pytanie 2\nodpowiedź 2\n";
	assert_int_equal(qs(s), strlen(s));
	/* A signature or list footer after the quote does not hide it. */
	s = "Tak.\n\nW dniu 1.02.2024 Jan pisze:\n> x\n\n-- \nlista@example\n";
	assert_true(sk_starts_with(s + qs(s), "W dniu"));
	s = "Tak.\n\n> x\n_______________________________________________\n"
	    "Lista mailing list\n";
	assert_true(sk_starts_with(s + qs(s), "> x"));
	/* Outlook's header block under a line. */
	s = "Dzięki.\n\n________________________________\nOd: Anna\nWysłano: "
	    "wtorek\nDo: lista\nTemat: x\n\ntreść\n";
	assert_true(sk_starts_with(s + qs(s), "_____"));
	s = "Dzięki.\n\n-----Original Message-----\nFrom: x\n";
	assert_true(sk_starts_with(s + qs(s), "-----Original"));
	assert_int_equal(qs(""), 0);
	s = "Bez cytatu.\n";
	assert_int_equal(qs(s), strlen(s));
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(maps_charset_aliases),
		T(converts_declared_charsets),
		T(detects_polish_without_a_label),
		T(tells_windows_1250_by_its_letter_a_with_ogonek),
		T(recovers_windows_1250_mislabelled_as_latin1),
		T(replaces_invalid_bytes),
		T(decodes_rfc2047_words),
		T(decodes_rfc2231_parameters),
		T(caps_rfc2231_sections),
		T(parses_dates_leniently),
		T(parses_address_lists),
		T(reads_msg_ids),
		T(splits_a_header_block),
		T(turns_html_into_text),
		T(survives_deeply_nested_html),
		T(finds_where_quoting_starts),
	};
	return cmocka_run_group_tests_name("ingest/charset", tests, NULL, NULL);
}
