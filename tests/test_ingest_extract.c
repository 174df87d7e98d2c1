/* tests/test_ingest_extract.c: attachment text — documents made here
 * (PDF by hand, DOCX/ODT/XLSX/PPTX with libzip), zip bombs, entity bombs,
 * RTF, and the subprocess caps (time, output). */
#include "tests/helpers/sk_test.h"
#include "ingest/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

static struct sk_arena *A;
static char *TMP;

static int
setup(void **state)
{
	(void)state;
	A = sk_arena_new(0);
	TMP = sk_test_tmpdir();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sk_arena_free(&A);
	sk_test_rmdir(&TMP);
	return 0;
}

/* A ZIP archive with the given members, read back into memory. */
static char *
make_zip(const char *const *names, const char *const *bodies, size_t k,
         size_t *len)
{
	char path[600];
	zip_t *z;
	int e = 0;
	char *buf;
	struct sk_err err = { 0 };

	snprintf(path, sizeof(path), "%s/doc.zip", TMP);
	unlink(path);
	z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &e);
	assert_non_null(z);
	for (size_t i = 0; i < k; i++) {
		zip_source_t *s =
		    zip_source_buffer(z, bodies[i], strlen(bodies[i]), 0);
		assert_non_null(s);
		assert_true(zip_file_add(z, names[i], s, ZIP_FL_OVERWRITE) >=
		            0);
	}
	assert_int_equal(zip_close(z), 0);
	assert_int_equal(sk_read_file(path, 1u << 30, &buf, len, &err), SK_OK);
	return buf;
}

/* A minimal one-page PDF with a line of Helvetica text. */
static char *
make_pdf(const char *line, size_t *len)
{
	struct sk_buf b;
	size_t off[6];
	char stream[512];
	int sl = snprintf(stream, sizeof(stream),
	                  "BT /F1 12 Tf 72 770 Td (%s) Tj ET", line);

	sk_buf_init(&b, 1u << 20);
	sk_buf_adds(&b, "%PDF-1.4\n");
	off[1] = b.len;
	sk_buf_adds(&b, "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
	off[2] = b.len;
	sk_buf_adds(
	    &b, "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n");
	off[3] = b.len;
	sk_buf_adds(
	    &b, "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
	        "/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> "
	        "endobj\n");
	off[4] = b.len;
	sk_buf_addf(&b,
	            "4 0 obj << /Length %d >>\nstream\n%s\nendstream endobj\n",
	            sl, stream);
	off[5] = b.len;
	sk_buf_adds(
	    &b, "5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
	        ">> endobj\n");
	size_t xref = b.len;
	sk_buf_adds(&b, "xref\n0 6\n0000000000 65535 f \n");
	for (int i = 1; i <= 5; i++)
		sk_buf_addf(&b, "%010zu 00000 n \n", off[i]);
	sk_buf_addf(
	    &b, "trailer << /Size 6 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
	    xref);
	return sk_buf_take(&b, len);
}

static struct sk_attachment
extract(const char *filename, const char *type, const void *data, size_t size,
        const char *charset, const struct sk_limits *lim_in, unsigned *flags)
{
	static const struct sk_limits none;
	struct sk_limits lim = sk_limits_effective(lim_in ? lim_in : &none);
	struct sk_extract_budget budget = { 60 };
	struct sk_attachment att = { .filename = filename,
		                     .content_type = type,
		                     .data = data,
		                     .size = size };
	unsigned f = 0;

	sk_mime_extract(A, &lim, &budget, &att, charset, flags ? flags : &f);
	return att;
}

static void
reads_pdf_text_through_pdftotext(void **state)
{
	size_t len;
	char *pdf = make_pdf("Sprawozdanie z realizacji zadania", &len);
	struct sk_attachment a =
	    extract("s.pdf", "application/pdf", pdf, len, NULL, NULL, NULL);
	(void)state;
	assert_string_equal(a.extract_status, "ok");
	assert_null(a.extract_error);
	assert_non_null(strstr(a.text, "Sprawozdanie z realizacji zadania"));
	free(pdf);
}

static void
reads_docx_runs_and_paragraphs(void **state)
{
	const char *names[] = { "[Content_Types].xml", "word/document.xml" };
	const char *bodies[] = {
		"<?xml version=\"1.0\"?><Types/>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<w:document xmlns:w=\"http://schemas.openxmlformats.org/"
		"wordprocessingml/2006/main\"><w:body>"
		"<w:p><w:r><w:t>Regulamin </w:t></w:r><w:r><w:t>zamówień</w:t>"
		"</w:r></w:p><w:p><w:r><w:t>§ 1.</w:t><w:tab/><w:t>Zakres</w:t>"
		"</w:r></w:p><w:p/><w:p><w:r><w:instrText>PAGE</w:instrText>"
		"<w:t>koniec</w:t></w:r></w:p></w:body></w:document>"
	};
	size_t len;
	char *z = make_zip(names, bodies, 2, &len);
	struct sk_attachment a = extract("r.docx", "application/octet-stream",
	                                 z, len, NULL, NULL, NULL);
	(void)state;
	assert_string_equal(a.extract_status, "ok");
	assert_string_equal(a.text,
	                    "Regulamin zamówień\n§ 1.\tZakres\n\nkoniec\n");
	free(z);
}

static void
reads_odt_spaces_tabs_and_breaks(void **state)
{
	const char *names[] = { "mimetype", "content.xml" };
	const char *bodies[] = {
		"application/vnd.oasis.opendocument.text",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<office:document-content xmlns:office=\"urn:oasis:names:tc:"
		"opendocument:xmlns:office:1.0\" "
		"xmlns:text=\"urn:oasis:names:tc:"
		"opendocument:xmlns:text:1.0\"><office:body><office:text>"
		"<text:h>Lista kontrolna</text:h><text:p>a<text:s "
		"text:c=\"3\"/>b"
		"<text:tab/>c<text:line-break/>d</text:p></office:text></"
		"office:body>"
		"</office:document-content>"
	};
	size_t len;
	char *z = make_zip(names, bodies, 2, &len);
	struct sk_attachment a =
	    extract("l.odt", "application/vnd.oasis.opendocument.text", z, len,
	            NULL, NULL, NULL);
	(void)state;
	assert_string_equal(a.extract_status, "ok");
	assert_string_equal(a.text, "Lista kontrolna\na   b\tc\nd\n");
	free(z);
}

static void
reads_xlsx_shared_strings(void **state)
{
	const char *names[] = { "xl/workbook.xml", "xl/sharedStrings.xml",
		                "xl/worksheets/sheet1.xml" };
	const char *bodies[] = {
		"<workbook/>",
		"<sst><si><t>Dział</t></si><si><r><t>Roz</t></r><r><t>dział</t>"
		"</r></si></sst>",
		"<worksheet><sheetData><row><c t=\"s\"><v>0</v></c><c "
		"t=\"inlineStr\">"
		"<is><t>Kwota</t></is></c></row></sheetData></worksheet>"
	};
	size_t len;
	char *z = make_zip(names, bodies, 3, &len);
	struct sk_attachment a = extract("k.xlsx",
	                                 "application/vnd.openxmlformats-"
	                                 "officedocument.spreadsheetml.sheet",
	                                 z, len, NULL, NULL, NULL);
	(void)state;
	assert_string_equal(a.extract_status, "ok");
	assert_non_null(strstr(a.text, "Dział\nRozdział\n"));
	assert_non_null(strstr(a.text, "Kwota"));
	free(z);
}

static void
leaves_an_ordinary_zip_alone(void **state)
{
	const char *names[] = { "zdjecie.jpg" };
	const char *bodies[] = { "not really a jpeg" };
	size_t len;
	char *z = make_zip(names, bodies, 1, &len);
	struct sk_attachment a =
	    extract("zdjecia.zip", "application/zip", z, len, NULL, NULL, NULL);
	(void)state;
	assert_string_equal(a.extract_status, "none");
	assert_null(a.text);
	free(z);
}

static void
refuses_a_docx_that_unpacks_too_far(void **state)
{
	struct sk_limits lim = { .extract_output_bytes = 64 << 10 };
	char *big = sk_xmalloc((4u << 20) + 1);
	const char *names[] = { "word/document.xml" };
	const char *bodies[] = { big };
	size_t len;
	char *z;
	struct sk_attachment a;

	(void)state;
	memset(big, ' ', 4u << 20);
	memcpy(big, "<w:document>", 12);
	big[4u << 20] = '\0';
	z = make_zip(names, bodies, 1, &len);
	assert_true(len < 64 << 10); /* it packs small */
	a = extract("b.docx", "application/octet-stream", z, len, NULL, &lim,
	            NULL);
	assert_string_equal(a.extract_status, "failed");
	assert_non_null(strstr(a.extract_error, "limit"));
	free(z);
	free(big);
}

static void
does_not_expand_xml_entities(void **state)
{
	const char *names[] = { "word/document.xml" };
	const char *bodies[] = {
		"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
		"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
		"<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
		"<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
		"<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
		"<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
		"<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		"<w:document xmlns:w=\"w\"><w:p><w:t>&g;&x;tekst</w:t></w:p>"
		"</w:document>"
	};
	size_t len;
	char *z = make_zip(names, bodies, 1, &len);
	time_t t0 = time(NULL);
	struct sk_attachment a = extract("e.docx", "application/octet-stream",
	                                 z, len, NULL, NULL, NULL);
	(void)state;
	assert_true(time(NULL) - t0 < 5);
	assert_true(!a.text || strlen(a.text) < 1000);
	assert_true(!a.text || !strstr(a.text, "root:"));
	free(z);
}

static void
strips_rtf(void **state)
{
	const char *rtf =
	    "{\\rtf1\\ansi\\ansicpg1250\\deff0{\\fonttbl{\\f0 Arial;}}"
	    "{\\colortbl;\\red0\\green0\\blue0;}{\\*\\generator x;}"
	    "\\pard Gmina \\'a3\\'b9ka\\par Zadanie\\tab 1\\par "
	    "Unicode: \\u321?\\u243?d\\u378?\\par}";
	struct sk_attachment a = extract("x.rtf", "application/rtf", rtf,
	                                 strlen(rtf), NULL, NULL, NULL);
	(void)state;
	assert_string_equal(a.extract_status, "ok");
	assert_string_equal(a.text, "Gmina Łąka\nZadanie\t1\nUnicode: Łódź\n");
}

static void
converts_text_attachments(void **state)
{
	const char *csv = "Dzia\xB3;Kwota\nO\x9Cwiata;100\n";
	unsigned flags = 0;
	struct sk_attachment a = extract("k.csv", "text/csv", csv, strlen(csv),
	                                 "windows-1250", NULL, &flags);
	(void)state;
	assert_string_equal(a.text, "Dział;Kwota\nOświata;100\n");
	a = extract("k.csv", "text/csv", csv, strlen(csv), NULL, NULL, &flags);
	assert_string_equal(a.text, "Dział;Kwota\nOświata;100\n");
	assert_true(flags & SK_MSG_CHARSET_GUESSED);
	/* Text files that mailers call octet-stream. */
	a = extract("konfiguracja.yaml", "application/octet-stream", "a: 1\n",
	            5, NULL, NULL, &flags);
	assert_string_equal(a.extract_status, "ok");
	assert_string_equal(a.text, "a: 1\n");
	a = extract("dane.json", "application/octet-stream", "{\0}", 3, NULL,
	            NULL, &flags);
	assert_string_equal(a.extract_status, "none");
}

static void
reads_nothing_from_images(void **state)
{
	struct sk_attachment a = extract("logo.png", "image/png", "\x89PNG\r\n",
	                                 6, NULL, NULL, NULL);
	(void)state;
	assert_string_equal(a.extract_status, "none");
	assert_null(a.text);
	assert_null(a.extract_error);
}

static void
kills_a_tool_that_runs_too_long(void **state)
{
	const char *argv[] = { "sleep", "30", NULL };
	char *out, why[128];
	size_t len;
	bool cut;
	time_t t0 = time(NULL);

	(void)state;
	assert_false(sk_mime_run_tool(A, argv, 1, 1000, &out, &len, &cut, why));
	assert_non_null(strstr(why, "timed out"));
	assert_true(time(NULL) - t0 < 5);
}

static void
caps_a_tool_output(void **state)
{
	const char *argv[] = { "yes", "tak", NULL };
	char *out, why[128];
	size_t len;
	bool cut;

	(void)state;
	assert_true(sk_mime_run_tool(A, argv, 10, 1000, &out, &len, &cut, why));
	assert_true(cut);
	assert_int_equal(len, 1000);
	assert_true(sk_starts_with(out, "tak\ntak\n"));
}

static void
reports_a_tool_that_fails(void **state)
{
	const char *argv[] = { "false", NULL };
	const char *missing[] = { "no-such-extractor-here", NULL };
	char *out, why[128];
	size_t len;
	bool cut;

	(void)state;
	assert_false(sk_mime_run_tool(A, argv, 5, 1000, &out, &len, &cut, why));
	assert_string_equal(why, "false exited with status 1");
	assert_false(
	    sk_mime_run_tool(A, missing, 5, 1000, &out, &len, &cut, why));
	assert_string_equal(why, "cannot run no-such-extractor-here");
}

static void
skips_tools_when_the_message_budget_is_spent(void **state)
{
	struct sk_limits lim = sk_limits_effective(&(struct sk_limits){ 0 });
	struct sk_extract_budget budget = { 0.5 };
	size_t len;
	char *pdf = make_pdf("x", &len);
	struct sk_attachment a = { .filename = "a.pdf",
		                   .content_type = "application/pdf",
		                   .data = pdf,
		                   .size = len };
	unsigned f = 0;

	(void)state;
	sk_mime_extract(A, &lim, &budget, &a, NULL, &f);
	assert_string_equal(a.extract_status, "skipped");
	assert_non_null(strstr(a.extract_error, "used up"));
	free(pdf);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(reads_pdf_text_through_pdftotext),
		T(reads_docx_runs_and_paragraphs),
		T(reads_odt_spaces_tabs_and_breaks),
		T(reads_xlsx_shared_strings),
		T(leaves_an_ordinary_zip_alone),
		T(refuses_a_docx_that_unpacks_too_far),
		T(does_not_expand_xml_entities),
		T(strips_rtf),
		T(converts_text_attachments),
		T(reads_nothing_from_images),
		T(kills_a_tool_that_runs_too_long),
		T(caps_a_tool_output),
		T(reports_a_tool_that_fails),
		T(skips_tools_when_the_message_budget_is_spent),
	};
	return cmocka_run_group_tests_name("ingest/extract", tests, NULL, NULL);
}
