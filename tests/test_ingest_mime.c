/* tests/test_ingest_mime.c: what sk_ingest_parse() makes of hostile and
 * broken mail (tests/data/mime/, made by make-fixtures.py). Each fixture
 * has an assertion on its outcome; every message must come out with valid
 * UTF-8 everywhere. The libetpan crash fixture is not parsed here (it
 * would take the test down): test_ingest_pipeline.c feeds it to a
 * worker. */
#include "tests/helpers/sk_test.h"
#include "ingest/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fx {
	struct sk_arena *a;
	char *raw;
	struct sk_message m;
};

static int
setup(void **state)
{
	struct fx *f = sk_xcalloc(1, sizeof(*f));
	f->a = sk_arena_new(0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	sk_arena_free(&f->a);
	free(f->raw);
	free(f);
	return 0;
}

static void
assert_utf8(const char *s)
{
	if (s)
		assert_true(sk_utf8_valid(s, strlen(s)));
}

/* Every text field valid UTF-8, the id set, quote_start in range. */
static void
assert_sane(const struct sk_message *m)
{
	assert_non_null(m->message_id);
	assert_true(m->message_id[0] != '\0');
	assert_utf8(m->message_id);
	assert_utf8(m->subject);
	assert_utf8(m->from_name);
	assert_utf8(m->from_addr);
	assert_utf8(m->to_addrs);
	assert_utf8(m->cc_addrs);
	assert_utf8(m->in_reply_to);
	assert_utf8(m->list_id);
	assert_utf8(m->body);
	assert_utf8(m->parse_error);
	assert_true(m->quote_start <= strlen(m->body));
	for (size_t i = 0; i < m->n_references; i++)
		assert_utf8(m->references[i]);
	for (size_t i = 0; i < m->n_attachments; i++) {
		assert_utf8(m->attachments[i].filename);
		assert_utf8(m->attachments[i].text);
		assert_non_null(m->attachments[i].extract_status);
	}
}

static const struct sk_message *
parse_lim(struct fx *f, const char *name, const struct sk_limits *lim)
{
	char rel[256];
	size_t len;

	snprintf(rel, sizeof(rel), "mime/%s", name);
	free(f->raw);
	f->raw = sk_test_read(rel, &len);
	sk_ingest_parse(f->a, lim, f->raw, len, &f->m);
	assert_sane(&f->m);
	assert_ptr_equal(f->m.raw, f->raw);
	assert_int_equal(f->m.raw_len, len);
	return &f->m;
}

static const struct sk_message *
parse(struct fx *f, const char *name)
{
	return parse_lim(f, name, NULL);
}

static void
reads_the_envelope(void **state)
{
	const struct sk_message *m = parse(*state, "alternative.eml");
	assert_string_equal(m->message_id, "alt@test.example");
	assert_string_equal(m->from_name, "Anna Kowalczyk");
	assert_string_equal(m->from_addr, "a.kowalczyk@brzozowka.example");
	assert_string_equal(m->to_addrs, "praktyki@lista.example");
	assert_string_equal(m->subject, "Alternatywa");
	assert_int_equal(m->date, 1705306320); /* 2024-01-15 08:12 UTC */
	assert_null(m->in_reply_to);
	assert_null(m->list_id);
}

static void
prefers_plain_text_in_alternative(void **state)
{
	const struct sk_message *m = parse(*state, "alternative.eml");
	assert_string_equal(m->body, "Wersja tekstowa.");
	assert_false(m->flags & SK_MSG_HTML_ONLY);
	assert_int_equal(m->flags, 0);
}

static void
keeps_parts_when_final_boundary_is_missing(void **state)
{
	const struct sk_message *m =
	    parse(*state, "missing-final-boundary.eml");
	assert_string_equal(m->body, "Treść wiadomości bez końcowej granicy.");
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0].filename, "dane.bin");
	assert_int_equal(m->attachments[0].size, 9);
	assert_memory_equal(m->attachments[0].data,
	                    "\x00\x01\x02"
	                    "binary",
	                    9);
}

static void
keeps_text_when_boundary_never_occurs(void **state)
{
	const struct sk_message *m = parse(*state, "boundary-never-found.eml");
	assert_true(m->flags & SK_MSG_MALFORMED);
	assert_non_null(m->parse_error);
	assert_non_null(strstr(m->body, "To jest tekst, który powinien zostać "
	                                "zachowany."));
}

static void
stops_at_the_depth_limit(void **state)
{
	const struct sk_message *m = parse(*state, "deep-nesting.eml");
	assert_true(m->flags & SK_MSG_TRUNCATED);
	assert_string_equal(m->subject, "Głęboko");
}

static void
reads_deep_nesting_within_a_raised_limit(void **state)
{
	struct sk_limits lim = { .depth = 2000 };
	const struct sk_message *m =
	    parse_lim(*state, "deep-nesting.eml", &lim);
	assert_false(m->flags & SK_MSG_TRUNCATED);
	assert_string_equal(m->body, "najgłębszy tekst");
}

static void
stops_at_the_part_limit(void **state)
{
	const struct sk_message *m = parse(*state, "many-parts.eml");
	assert_true(m->flags & SK_MSG_TRUNCATED);
	assert_true(sk_starts_with(m->body, "część 0\n\nczęść 1\n"));
	assert_null(strstr(m->body, "część 11999"));
}

static void
caps_a_huge_header(void **state)
{
	const struct sk_message *m = parse(*state, "huge-header.eml");
	assert_true(m->flags & SK_MSG_TRUNCATED);
	assert_true(strlen(m->subject) <= 1000);
	assert_true(sk_starts_with(m->subject, "Bardzo długi temat"));
	assert_string_equal(m->message_id, "huge@test.example");
	assert_string_equal(m->body, "Treść po ogromnym nagłówku.");
}

static void
drops_nul_bytes(void **state)
{
	const struct sk_message *m = parse(*state, "nul-bytes.eml");
	assert_string_equal(m->subject, "ma le");
	assert_string_equal(m->body, "przedpo NUL");
	assert_string_equal(m->from_addr, "nul@test.example");
}

static void
decodes_bad_base64_leniently(void **state)
{
	const struct sk_message *m = parse(*state, "bad-base64.eml");
	assert_true(sk_starts_with(m->body, "Zażółć gęślą ja"));
	assert_false(m->flags & SK_MSG_MALFORMED);
}

static void
detects_an_unknown_charset(void **state)
{
	const struct sk_message *m = parse(*state, "unknown-charset.eml");
	assert_true(m->flags & SK_MSG_CHARSET_GUESSED);
	assert_string_equal(m->body, "Zażółć gęślą jaźń, dzień dobry.");
}

static void
keeps_a_message_without_header(void **state)
{
	const struct sk_message *m = parse(*state, "missing-headers.eml");
	assert_true(m->flags & SK_MSG_MALFORMED);
	assert_true(m->flags & SK_MSG_SYNTHETIC_ID);
	assert_string_equal(m->body, "Tylko treść, bez żadnego nagłówka.\n"
	                             "Druga linia.");
	assert_string_equal(m->subject, "");
	assert_string_equal(m->from_addr, "");
}

static void
makes_a_stable_synthetic_id(void **state)
{
	struct fx *f = *state;
	const struct sk_message *m = parse(f, "no-message-id.eml");
	char *first = sk_arena_strdup(f->a, m->message_id);

	assert_true(m->flags & SK_MSG_SYNTHETIC_ID);
	assert_true(sk_starts_with(first, "sha256-"));
	assert_int_equal(strlen(first), 7 + 64 + strlen("@skarbnica.invalid"));
	assert_non_null(strstr(first, "@skarbnica.invalid"));
	/* The same message read again, with a Received line added on the
	 * way, gets the same id. */
	{
		size_t len;
		char *raw = sk_test_read("mime/no-message-id.eml", &len);
		char *more =
		    sk_arena_printf(f->a,
		                    "Received: from x by y; Mon, 15 Jan "
		                    "2024 10:00:00 +0100\n%s",
		                    raw);
		struct sk_message m2;
		sk_ingest_parse(f->a, NULL, more, strlen(more), &m2);
		assert_string_equal(m2.message_id, first);
		free(raw);
	}
}

static void
decodes_raw_8bit_windows_1250_headers(void **state)
{
	const struct sk_message *m =
	    parse(*state, "raw-8bit-cp1250-headers.eml");
	assert_string_equal(m->subject, "Sprawozdanie z gminy Łąka");
	assert_string_equal(m->from_name, "Paweł Łęcki");
	assert_true(m->flags & SK_MSG_CHARSET_GUESSED);
}

static void
joins_adjacent_encoded_words(void **state)
{
	const struct sk_message *m = parse(*state, "rfc2047-adjacent.eml");
	assert_string_equal(m->subject, "Zażółć gęślą jaźń i święto");
	assert_string_equal(m->from_name, "Paweł Łęcki");
	assert_string_equal(m->from_addr, "p.lecki@test.example");
}

static void
decodes_rfc2231_continuations(void **state)
{
	const struct sk_message *m = parse(*state, "rfc2231-filename.eml");
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0].filename,
	                    "Łódź – regulamin zamówień.pdf");
	assert_string_equal(m->attachments[0].content_type, "application/pdf");
	assert_string_equal(m->attachments[0].extract_status, "ok");
	assert_non_null(
	    strstr(m->attachments[0].text, "Regulamin zamowien Lodz"));
	assert_string_equal(m->body, "W załączeniu.");
}

static void
refuses_a_zip_bomb(void **state)
{
	const struct sk_message *m = parse(*state, "zipbomb-docx.eml");
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0].extract_status, "failed");
	assert_non_null(strstr(m->attachments[0].extract_error, "limit"));
	assert_string_equal(m->body, "Proszę otworzyć.");
}

static void
refuses_a_zip_bomb_that_lies_about_its_size(void **state)
{
	const struct sk_message *m = parse(*state, "zipbomb-liar-docx.eml");
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0].extract_status, "failed");
	assert_null(m->attachments[0].text);
}

static void
records_a_broken_pdf_and_goes_on(void **state)
{
	const struct sk_message *m = parse(*state, "broken-pdf.eml");
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0].extract_status, "failed");
	assert_non_null(strstr(m->attachments[0].extract_error, "pdftotext"));
	assert_string_equal(m->body, "W załączeniu protokół.");
	assert_false(m->flags & SK_MSG_MALFORMED);
}

static void
reads_html_only_mail_without_scripts(void **state)
{
	const struct sk_message *m = parse(*state, "html-only-script.eml");
	assert_true(m->flags & SK_MSG_HTML_ONLY);
	assert_null(strstr(m->body, "alert"));
	assert_null(strstr(m->body, "document.write"));
	assert_null(strstr(m->body, "color"));
	assert_null(strstr(m->body, "Tytuł"));
	assert_true(sk_starts_with(m->body, "Dzień dobry,\n\nzapraszamy na "
	                                    "spotkanie (https://gmina.example/"
	                                    "spotkanie) oraz na "
	                                    "https://bip.example/."));
	assert_non_null(strstr(m->body, "\n- punkt pierwszy\n- punkt drugi\n"));
	assert_non_null(strstr(m->body, "Pozdrawiam\nAnna"));
}

static void
honours_the_html_meta_charset(void **state)
{
	const struct sk_message *m = parse(*state, "html-iso2-meta.eml");
	assert_string_equal(m->body, "Łódź i Kraków - spotkanie.");
	assert_true(m->flags & SK_MSG_HTML_ONLY);
}

static void
recovers_windows_1250_labelled_latin1(void **state)
{
	const struct sk_message *m = parse(*state, "cp1250-as-latin1.eml");
	assert_true(m->flags & SK_MSG_CHARSET_GUESSED);
	assert_string_equal(m->body, "Proszę o przesłanie sprawozdania. "
	                             "Dziękuję, ząb i śnieg.");
}

static void
reads_a_forwarded_message(void **state)
{
	const struct sk_message *m = parse(*state, "forwarded-rfc822.eml");
	assert_true(sk_starts_with(m->body, "Przesyłam dalej.\n\n"));
	assert_non_null(
	    strstr(m->body, "Od: Piotr Zając <p.zajac@jaskowo.example>"));
	assert_non_null(strstr(m->body, "Temat: Regulamin zamówień"));
	assert_non_null(strstr(m->body, "Regulamin w załączeniu, pozdrawiam."));
	assert_int_equal(m->n_attachments, 0);
}

static void
reads_a_base64_forwarded_message(void **state)
{
	const struct sk_message *m =
	    parse(*state, "forwarded-base64-rfc822.eml");
	assert_non_null(
	    strstr(m->body, "Od: Ewa Nowak <e.nowak@sosnica.example>"));
	assert_non_null(strstr(m->body, "Taryfa dla wody – szczegóły."));
}

static void
decodes_iso_8859_2_quoted_printable(void **state)
{
	const struct sk_message *m = parse(*state, "iso2-qp.eml");
	assert_string_equal(m->body, "Zażółć gęślą jaźń");
	assert_false(m->flags & SK_MSG_CHARSET_GUESSED);
}

static void
decodes_windows_1250_base64(void **state)
{
	const struct sk_message *m = parse(*state, "cp1250-b64.eml");
	assert_string_equal(m->body, "Zażółć gęślą jaźń – Śląsk, Źródło.");
	assert_false(m->flags & SK_MSG_CHARSET_GUESSED);
}

static void
marks_where_an_outlook_quote_starts(void **state)
{
	const struct sk_message *m = parse(*state, "outlook-quote.eml");
	assert_true(sk_starts_with(m->body + m->quote_start,
	                           "-----Wiadomość oryginalna-----"));
	assert_non_null(strstr(m->body, "Czy ktoś ma wzór?"));
}

static void
marks_the_attribution_above_a_quote(void **state)
{
	const struct sk_message *m = parse(*state, "quoted-reply.eml");
	assert_true(
	    sk_starts_with(m->body + m->quote_start,
	                   "W dniu 15.01.2024 o 09:12, Anna Kowalczyk\n"));
	assert_string_equal(m->in_reply_to, "q0@test.example");
	assert_int_equal(m->n_references, 2);
	assert_string_equal(m->references[0], "root@test.example");
	assert_string_equal(m->references[1], "q0@test.example");
}

static void
decodes_encoded_words_in_quoted_names(void **state)
{
	const struct sk_message *m = parse(*state, "quoted-encoded-name.eml");
	assert_string_equal(m->from_name, "Paweł Zając");
	assert_string_equal(m->from_addr, "p.zajac@jaskowo.example");
	assert_string_equal(
	    m->to_addrs,
	    "\"Kowalska, Anna\" <a@x.example>, Bartek <b@y.example>");
}

static void
uses_ingest_time_for_a_garbled_date(void **state)
{
	time_t before = time(NULL);
	const struct sk_message *m = parse(*state, "garbled-date.eml");
	assert_true(m->date >= before && m->date <= time(NULL) + 1);
	assert_false(m->flags & SK_MSG_MALFORMED);
}

static void
caps_references_keeping_the_root(void **state)
{
	const struct sk_message *m = parse(*state, "many-references.eml");
	assert_int_equal(m->n_references, 100);
	assert_string_equal(m->references[0], "r0@test.example");
	assert_string_equal(m->references[1], "r201@test.example");
	assert_string_equal(m->references[99], "r299@test.example");
}

static void
unwraps_format_flowed(void **state)
{
	const struct sk_message *m = parse(*state, "flowed.eml");
	assert_string_equal(m->body,
	                    "To jest długi akapit, który klient poczty "
	                    "podzielił na kilka linii.\n\n> cytat dalej");
	assert_true(sk_starts_with(m->body + m->quote_start, "> cytat"));
}

static void
records_a_fake_word_document(void **state)
{
	const struct sk_message *m = parse(*state, "fake-doc.eml");
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0].extract_status, "failed");
	assert_non_null(m->attachments[0].extract_error);
}

static void
skips_an_attachment_over_the_limit(void **state)
{
	struct sk_limits lim = { .attachment_bytes = 100 };
	const struct sk_message *m =
	    parse_lim(*state, "rfc2231-filename.eml", &lim);
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0].extract_status, "skipped");
	assert_int_equal(m->attachments[0].size, 0);
	assert_true(m->flags & SK_MSG_TRUNCATED);
}

static void
cuts_the_body_at_its_limit(void **state)
{
	struct sk_limits lim = { .body_text_bytes = 10 };
	const struct sk_message *m = parse_lim(*state, "cp1250-b64.eml", &lim);
	assert_true(strlen(m->body) <= 10);
	assert_true(sk_starts_with(m->body, "Zażółć"));
	assert_true(m->flags & SK_MSG_TRUNCATED);
}

static void
parses_only_the_first_bytes_of_a_huge_message(void **state)
{
	struct sk_limits lim = { .message_bytes = 2000 };
	const struct sk_message *m = parse_lim(*state, "many-parts.eml", &lim);
	assert_true(m->flags & SK_MSG_TRUNCATED);
	assert_string_equal(m->message_id, "many@test.example");
	assert_int_equal(m->raw_len, 529136); /* raw is kept whole */
}

static void
keeps_files_from_the_alternative_not_read(void **state)
{
	const struct sk_message *m =
	    parse(*state, "attachment-in-html-alternative.eml");
	assert_string_equal(m->body, "W załączeniu program.");
	assert_int_equal(m->n_attachments, 1);
	assert_string_equal(m->attachments[0].filename, "program.pdf");
	assert_non_null(strstr(m->attachments[0].text, "Program spotkania"));
	assert_false(m->flags & SK_MSG_HTML_ONLY);
}

static void
does_not_count_a_signature_as_attachment(void **state)
{
	const struct sk_message *m = parse(*state, "pgp-signed.eml");
	assert_string_equal(m->body, "Treść podpisana.");
	assert_int_equal(m->n_attachments, 0);
}

static void
parses_headers_only_after_a_crash(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *raw = sk_test_read("mime/boundary-quote-crash.eml", &len);
	struct sk_message m;

	/* The fallback never calls libetpan, so this input is safe here. */
	sk_mime_parse_headers_only(f->a, NULL, raw, len, &m);
	assert_sane(&m);
	assert_true(m.flags & SK_MSG_MALFORMED);
	assert_string_equal(m.message_id, "crash-1@test.example");
	assert_string_equal(m.subject, "Granica w cudzysłowie");
	assert_non_null(strstr(m.body, "hello"));
	free(raw);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(reads_the_envelope),
		T(prefers_plain_text_in_alternative),
		T(keeps_parts_when_final_boundary_is_missing),
		T(keeps_text_when_boundary_never_occurs),
		T(stops_at_the_depth_limit),
		T(reads_deep_nesting_within_a_raised_limit),
		T(stops_at_the_part_limit),
		T(caps_a_huge_header),
		T(drops_nul_bytes),
		T(decodes_bad_base64_leniently),
		T(detects_an_unknown_charset),
		T(keeps_a_message_without_header),
		T(makes_a_stable_synthetic_id),
		T(decodes_raw_8bit_windows_1250_headers),
		T(joins_adjacent_encoded_words),
		T(decodes_rfc2231_continuations),
		T(refuses_a_zip_bomb),
		T(refuses_a_zip_bomb_that_lies_about_its_size),
		T(records_a_broken_pdf_and_goes_on),
		T(reads_html_only_mail_without_scripts),
		T(honours_the_html_meta_charset),
		T(recovers_windows_1250_labelled_latin1),
		T(reads_a_forwarded_message),
		T(reads_a_base64_forwarded_message),
		T(decodes_iso_8859_2_quoted_printable),
		T(decodes_windows_1250_base64),
		T(marks_where_an_outlook_quote_starts),
		T(marks_the_attribution_above_a_quote),
		T(decodes_encoded_words_in_quoted_names),
		T(uses_ingest_time_for_a_garbled_date),
		T(caps_references_keeping_the_root),
		T(unwraps_format_flowed),
		T(records_a_fake_word_document),
		T(skips_an_attachment_over_the_limit),
		T(cuts_the_body_at_its_limit),
		T(parses_only_the_first_bytes_of_a_huge_message),
		T(keeps_files_from_the_alternative_not_read),
		T(does_not_count_a_signature_as_attachment),
		T(parses_headers_only_after_a_crash),
	};
	return cmocka_run_group_tests_name("ingest/mime", tests, NULL, NULL);
}
