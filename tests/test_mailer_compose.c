/* tests/test_mailer_compose.c: composing mail (mailer/compose.c) — the
 * RFC 2047 encoder, RFC 2231 file names, quoted-printable text, and whole
 * messages parsed back with libetpan (as ingest and mail readers will). */
#include "tests/helpers/sk_test.h"

#include "mailer/sk_mailer.h"

#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* Every line ends in CRLF and is at most max characters. */
static void
assert_lines(const char *s, size_t n, size_t max)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		if (i == 0 || s[i - 1] != '\r')
			fail_msg("bare LF at byte %zu", i);
		if (i - 1 - start > max)
			fail_msg("line of %zu characters (max %zu): %.*s",
				 i - 1 - start, max, (int)(i - 1 - start),
				 s + start);
		start = i + 1;
	}
	if (start != n)
		fail_msg("text does not end with CRLF");
}

/* Unfold a header value and decode its encoded words with libetpan. */
static char *
decode_header(const char *v)
{
	char *unf = malloc(strlen(v) + 1), *o = unf, *out = NULL;
	size_t idx = 0;
	for (const char *p = v; *p; p++) {
		if (*p == '\r' && p[1] == '\n') {
			p++;
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	assert_int_equal(mailmime_encoded_phrase_parse("utf-8", unf,
						       strlen(unf), &idx,
						       "utf-8", &out),
			 MAILIMF_NO_ERROR);
	free(unf);
	return out; /* free() */
}

/* Check the encoded words of an encoded header value one by one: at most
 * 75 characters, each valid UTF-8 when decoded on its own. */
static void
assert_words(const char *v)
{
	const char *p = v;
	while ((p = strstr(p, "=?")) != NULL) {
		const char *e = strstr(p + 10, "?=");
		size_t idx = 0;
		char *dec = NULL;
		assert_non_null(e);
		e += 2;
		if ((size_t)(e - p) > 75)
			fail_msg("encoded word of %zu characters",
				 (size_t)(e - p));
		assert_int_equal(mailmime_encoded_phrase_parse(
					 "utf-8", p, (size_t)(e - p), &idx,
					 "utf-8", &dec),
				 MAILIMF_NO_ERROR);
		assert_true(sk_utf8_valid(dec, strlen(dec)));
		free(dec);
		p = e;
	}
}

/* ---- RFC 2047 ------------------------------------------------------------ */

static void
encodes_long_polish_subject_in_whole_characters(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	const char *subj =
		"Zażółć gęślą jaźń: sprawozdanie z zamówień publicznych "
		"na żłobki w Łodzi, Gdańsku i Częstochowie — ÓŚĆ ŹĘŃ ąęłńóś "
		"(wersja ostateczna po konsultacjach z mieszkańcami) 🌳";
	char *enc, *line, *dec;
	(void)state;

	for (size_t col = 0; col < 80; col += 7) {
		enc = sk_mail_encode_header(a, subj, col, false);
		/* The first line gets what the header name leaves. */
		line = sk_arena_printf(a, "%*s%s\r\n", (int)col, "", enc);
		assert_lines(line, strlen(line), col > 70 ? col : 76);
		assert_words(enc);
		dec = decode_header(enc);
		assert_string_equal(dec, subj);
		free(dec);
	}
	sk_arena_free(&a);
}

static void
keeps_ascii_subject_plain_and_folds_it(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	const char *s = "Budget meeting notes for the second quarter of the "
			"year with all partners present and accounted for";
	char *enc;
	(void)state;

	enc = sk_mail_encode_header(a, "Spotkanie w Stolnie", 9, false);
	assert_string_equal(enc, "Spotkanie w Stolnie");
	enc = sk_mail_encode_header(a, s, 9, false);
	assert_null(strstr(enc, "=?"));
	assert_non_null(strstr(enc, "\r\n "));
	{
		char *line = sk_arena_printf(a, "Subject: %s\r\n", enc);
		assert_lines(line, strlen(line), 78);
		char *dec = decode_header(enc);
		assert_string_equal(dec, s);
		free(dec);
	}
	/* Something that looks like an encoded word is encoded. */
	enc = sk_mail_encode_header(a, "a =?x?Q?y?= b", 9, false);
	assert_true(sk_starts_with(enc, "=?UTF-8?B?"));
	/* A display name with specials is quoted. */
	enc = sk_mail_encode_header(a, "Kowalski, Jan \"Wójt\"", 6, true);
	assert_true(sk_starts_with(enc, "=?UTF-8?B?"));
	enc = sk_mail_encode_header(a, "Kowalski, Jan \"J.\"", 6, true);
	assert_string_equal(enc, "\"Kowalski, Jan \\\"J.\\\"\"");
	sk_arena_free(&a);
}

/* ---- RFC 2231 ------------------------------------------------------------ */

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Reassemble filename*N*= / filename*= parameters the way an RFC 2231
 * reader does: sections in order, percent-decoded, charset from the
 * first. */
static char *
decode_2231(const char *params)
{
	char *out = calloc(1, strlen(params) + 1), *o = out;
	const char *p = params;
	int want = 0;
	while ((p = strstr(p, "filename*")) != NULL) {
		const char *v;
		int n = 0;
		p += 9;
		if (*p == '=') {
			n = 0;
		} else {
			n = (int)strtol(p, (char **)&v, 10);
			p = v;
			assert_int_equal(*p, '*');
			p++;
		}
		assert_int_equal(n, want);
		want++;
		assert_int_equal(*p, '=');
		p++;
		if (n == 0) {
			assert_true(sk_starts_with(p, "utf-8''"));
			p += 7;
		}
		for (; *p && *p != ';' && *p != '\r'; p++) {
			if (*p == '%') {
				*o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
				p += 2;
			} else {
				*o++ = *p;
			}
		}
	}
	*o = '\0';
	return out;
}

static void
writes_rfc2231_file_names(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	const char *longname = "Sprawozdanie z przetargu na żłobek w Łodzi — "
			       "wersja ostateczna po uwagach RIO (2024).pdf";
	char *p, *dec;
	(void)state;

	assert_string_equal(sk_mail_filename_param(a, "plan.pdf"),
			    "filename=\"plan.pdf\"");
	assert_string_equal(sk_mail_filename_param(a, "../../etc/passwd"),
			    "filename=\"passwd\"");
	p = sk_mail_filename_param(a, "żłobek.pdf");
	assert_string_equal(p, "filename*=utf-8''%C5%BC%C5%82obek.pdf");
	p = sk_mail_filename_param(a, longname);
	assert_non_null(strstr(p, "filename*0*=utf-8''"));
	assert_non_null(strstr(p, "filename*1*="));
	{
		char *line = sk_arena_printf(a, " %s\r\n", p);
		assert_lines(line, strlen(line), 78);
	}
	dec = decode_2231(p);
	assert_string_equal(dec, longname);
	free(dec);
	/* Every section holds whole characters. */
	for (const char *s = p; (s = strstr(s, "*=")) != NULL; s += 2) {
		const char *e = s + 2;
		char *sec, *o;
		while (*e && *e != ';')
			e++;
		sec = calloc(1, (size_t)(e - s) + 1);
		o = sec;
		for (const char *q = s + 2; q < e; q++) {
			if (*q == '%') {
				*o++ = (char)(hexval(q[1]) * 16 + hexval(q[2]));
				q += 2;
			} else {
				*o++ = *q;
			}
		}
		assert_true(sk_utf8_valid(sec, strlen(sec)));
		free(sec);
	}
	sk_arena_free(&a);
}

/* ---- quoted-printable -------------------------------------------------------- */

static void
encodes_quoted_printable_that_decodes_back(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	const char *text =
		"Dzień dobry,\n"
		".kropka na początku linii\n"
		"From the minutes: a line that starts with From\n"
		"trailing spaces   \n"
		"=== równa się ===\n"
		"Bardzo długa linia: zażółć gęślą jaźń, zażółć gęślą jaźń, "
		"zażółć gęślą jaźń, zażółć gęślą jaźń, zażółć gęślą jaźń.\n"
		"\n"
		"tab\tinside and at end\t\n"
		"no newline at the end";
	size_t n, idx = 0, dlen;
	char *qp = sk_mail_qp(a, text, strlen(text), &n), *dec;
	(void)state;

	assert_lines(qp, n, 76);
	assert_null(strstr(qp, "\r\n.")); /* no dot-stuffing needed */
	assert_null(strstr(qp, "\r\nFrom "));
	assert_int_equal(mailmime_part_parse(qp, n, &idx,
					     MAILMIME_MECHANISM_QUOTED_PRINTABLE,
					     &dec, &dlen),
			 MAILIMF_NO_ERROR);
	{
		/* Decoded CRLF back to LF; the final line gained a CRLF. */
		char *want = sk_arena_printf(a, "%s\n", text);
		char *got = sk_arena_strndup(a, dec, dlen), *o = got;
		for (char *s = got; *s; s++)
			if (!(s[0] == '\r' && s[1] == '\n'))
				*o++ = *s;
		*o = '\0';
		assert_string_equal(got, want);
	}
	mmap_string_unref(dec);
	sk_arena_free(&a);
}

/* ---- whole messages ------------------------------------------------------------ */

struct walk {
	int singles;
	char *plain, *html; /* decoded, malloc'ed */
	char *att_params;   /* raw disposition parameters, malloc'ed */
	char *att_data;
	size_t att_len;
	char types[256];
};

static char *
decode_single(struct mailmime *mm, size_t *len_out)
{
	struct mailmime_data *d = mm->mm_data.mm_single;
	size_t idx = 0, len;
	char *out, *copy;
	assert_int_equal(mailmime_part_parse(d->dt_data.dt_text.dt_data,
					     d->dt_data.dt_text.dt_length, &idx,
					     d->dt_encoding, &out, &len),
			 MAILIMF_NO_ERROR);
	copy = malloc(len + 1);
	memcpy(copy, out, len);
	copy[len] = '\0';
	mmap_string_unref(out);
	if (len_out)
		*len_out = len;
	return copy;
}

static void
walk_mime(struct mailmime *mm, struct walk *w)
{
	struct mailmime_content *ct = mm->mm_content_type;
	const char *sub = ct ? ct->ct_subtype : "?";
	size_t l = strlen(w->types);
	snprintf(w->types + l, sizeof(w->types) - l, "%s%s", l ? " " : "",
		 sub);
	switch (mm->mm_type) {
	case MAILMIME_MESSAGE:
		walk_mime(mm->mm_data.mm_message.mm_msg_mime, w);
		break;
	case MAILMIME_MULTIPLE:
		for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
		     it; it = clist_next(it))
			walk_mime(clist_content(it), w);
		break;
	case MAILMIME_SINGLE:
		w->singles++;
		if (!strcmp(sub, "plain") && !w->plain) {
			w->plain = decode_single(mm, NULL);
		} else if (!strcmp(sub, "html") && !w->html) {
			w->html = decode_single(mm, NULL);
		} else {
			struct sk_buf b;
			sk_buf_init(&b, 1 << 16);
			for (clistiter *it = clist_begin(mm->mm_mime_fields->fld_list);
			     it; it = clist_next(it)) {
				struct mailmime_field *f = clist_content(it);
				if (f->fld_type != MAILMIME_FIELD_DISPOSITION)
					continue;
				for (clistiter *pi = clist_begin(
					     f->fld_data.fld_disposition->dsp_parms);
				     pi; pi = clist_next(pi)) {
					struct mailmime_disposition_parm *dp =
						clist_content(pi);
					if (dp->pa_type ==
					    MAILMIME_DISPOSITION_PARM_PARAMETER)
						sk_buf_addf(
							&b, "%s=%s; ",
							dp->pa_data.pa_parameter->pa_name,
							dp->pa_data.pa_parameter->pa_value);
					else if (dp->pa_type ==
						 MAILMIME_DISPOSITION_PARM_FILENAME)
						sk_buf_addf(&b, "filename=%s; ",
							    dp->pa_data.pa_filename);
				}
			}
			w->att_params = sk_buf_take(&b, NULL);
			sk_buf_release(&b);
			w->att_data = decode_single(mm, &w->att_len);
		}
		break;
	}
}

static const char *
imf_field(struct mailmime *msg, int type)
{
	struct mailimf_fields *f = msg->mm_data.mm_message.mm_fields;
	for (clistiter *it = clist_begin(f->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *x = clist_content(it);
		if (x->fld_type != type)
			continue;
		switch (type) {
		case MAILIMF_FIELD_SUBJECT:
			return x->fld_data.fld_subject->sbj_value;
		case MAILIMF_FIELD_MESSAGE_ID:
			return x->fld_data.fld_message_id->mid_value;
		case MAILIMF_FIELD_IN_REPLY_TO:
			return clist_content(clist_begin(
				x->fld_data.fld_in_reply_to->mid_list));
		case MAILIMF_FIELD_FROM: {
			struct mailimf_mailbox *mb = clist_content(clist_begin(
				x->fld_data.fld_from->frm_mb_list->mb_list));
			return mb->mb_display_name;
		}
		}
	}
	return NULL;
}

static const char *
optional_field(struct mailmime *msg, const char *name)
{
	struct mailimf_fields *f = msg->mm_data.mm_message.mm_fields;
	for (clistiter *it = clist_begin(f->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *x = clist_content(it);
		if (x->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD &&
		    !strcasecmp(x->fld_data.fld_optional_field->fld_name, name))
			return x->fld_data.fld_optional_field->fld_value;
	}
	return NULL;
}

static void
composes_a_message_that_parses_back(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	static const char pdf[] = "%PDF-1.4\n\x00\x01\x02 binary \xff\xfe żółw";
	struct sk_attachment att = {
		.filename = "Protokół ze spotkania w Stolnie — 2024-Q2.pdf",
		.content_type = "application/pdf",
		.data = pdf,
		.size = sizeof(pdf) - 1,
	};
	const char *refs[] = { "root@stolno.pl", "parent@chelmno.pl" };
	struct sk_mail m = {
		.from_name = "Anna Wiśniewska (Skarbnica)",
		.from_addr = "skarbnica@lista.example",
		.to_addr = "praktyki@lista.example",
		.subject = "Notatka ze spotkania 2024-Q2: gospodarka wodno-"
			   "ściekowa i zamówienia publiczne w gminach",
		.message_id = "note-1@lista.example",
		.date = 1717416000, /* 2024-06-03 12:00 UTC */
		.in_reply_to = "parent@chelmno.pl",
		.references = refs,
		.n_references = 2,
		.markdown = "# Spotkanie\n\nUstalenia **ważne**:\n\n"
			    "- zamówienia publiczne\n- żłobki\n\n"
			    "<script>alert(1)</script>\n\n"
			    "[klik](javascript:alert(1))\n",
		.attachments = &att,
		.n_attachments = 1,
		.list_unsubscribe_url = "https://skarbnica.example/wypisz?t=abc",
		.auto_generated = true,
	};
	struct mailmime *mm = NULL;
	struct walk w = { 0 };
	const char *mid;
	char *raw, *dec;
	size_t len, idx = 0;
	(void)state;

	assert_int_equal(sk_mail_compose(a, &m, &raw, &len, &mid, NULL), SK_OK);
	assert_string_equal(mid, "note-1@lista.example");
	{
		/* Header lines within 78 characters, body lines within 76. */
		char *sep = strstr(raw, "\r\n\r\n");
		assert_non_null(sep);
		assert_lines(raw, (size_t)(sep - raw) + 2, 78);
		assert_lines(raw, len, 998);
	}
	assert_non_null(strstr(raw, "Date: Mon, 03 Jun 2024 12:00:00 +0000\r\n"));
	assert_non_null(strstr(raw, "List-Unsubscribe: "
				    "<https://skarbnica.example/wypisz?t=abc>\r\n"));
	assert_non_null(strstr(raw, "List-Unsubscribe-Post: "
				    "List-Unsubscribe=One-Click\r\n"));
	assert_non_null(strstr(raw, "Auto-Submitted: auto-generated\r\n"));
	assert_non_null(strstr(raw, "References: <root@stolno.pl> "
				    "<parent@chelmno.pl>\r\n"));

	assert_int_equal(mailmime_parse(raw, len, &idx, &mm), MAILIMF_NO_ERROR);
	assert_int_equal(mm->mm_type, MAILMIME_MESSAGE);
	dec = decode_header(imf_field(mm, MAILIMF_FIELD_SUBJECT));
	assert_string_equal(dec, m.subject);
	free(dec);
	dec = decode_header(imf_field(mm, MAILIMF_FIELD_FROM));
	assert_string_equal(dec, m.from_name);
	free(dec);
	assert_string_equal(imf_field(mm, MAILIMF_FIELD_MESSAGE_ID),
			    "note-1@lista.example");
	assert_string_equal(imf_field(mm, MAILIMF_FIELD_IN_REPLY_TO),
			    "parent@chelmno.pl");
	assert_non_null(optional_field(mm, "List-Unsubscribe-Post"));

	walk_mime(mm, &w);
	assert_string_equal(w.types, "rfc822 mixed alternative plain html pdf");
	assert_int_equal(w.singles, 3);
	assert_non_null(strstr(w.plain, "Ustalenia **ważne**"));
	assert_non_null(strstr(w.html, "<strong>ważne</strong>"));
	assert_non_null(strstr(w.html, "<meta charset=\"utf-8\">"));
	/* cmark's safe mode: no raw HTML, no javascript: link. */
	assert_null(strstr(w.html, "<script"));
	assert_null(strstr(w.html, "javascript:"));
	assert_int_equal(w.att_len, att.size);
	assert_memory_equal(w.att_data, pdf, att.size);
	/* libetpan 1.9.4 leaves RFC 2231 sections raw: reassemble them. */
	{
		char *fn = decode_2231(w.att_params);
		assert_string_equal(fn, att.filename);
		free(fn);
	}
	free(w.plain);
	free(w.html);
	free(w.att_params);
	free(w.att_data);
	mailmime_free(mm);
	sk_arena_free(&a);
}

static void
composes_plain_text_only(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mail m = {
		.from_addr = "skarbnica@lista.example",
		.to_name = "Jan Kowalski",
		.to_addr = "jan@stolno.pl",
		.subject = "Twój link do logowania",
		.text = "Kliknij: https://skarbnica.example/login?t=x\n",
	};
	const char *mid;
	char *raw;
	size_t len;
	(void)state;

	assert_int_equal(sk_mail_compose(a, &m, &raw, &len, &mid, NULL), SK_OK);
	assert_non_null(strstr(raw, "Content-Type: text/plain; charset=utf-8"));
	assert_null(strstr(raw, "multipart"));
	assert_null(strstr(raw, "List-Unsubscribe"));
	assert_lines(raw, len, 998);
	/* A generated Message-ID under the sender's domain. */
	assert_non_null(strstr(mid, "@lista.example"));
	assert_non_null(strstr(raw, mid));
	sk_arena_free(&a);
}

static void
refuses_header_injection_and_bad_addresses(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_err err = { 0 };
	struct sk_mail m = {
		.from_addr = "skarbnica@lista.example",
		.to_addr = "praktyki@lista.example",
		.subject = "a\r\nBcc: ofiara@example.com",
		.text = "x",
	};
	char *raw;
	size_t len;
	const char *mid;
	(void)state;

	/* A subject with a line break is encoded, never a new header. */
	assert_int_equal(sk_mail_compose(a, &m, &raw, &len, &mid, &err), SK_OK);
	assert_null(strstr(raw, "\r\nBcc:"));
	m.from_name = "Zły\r\nBcc: x@y.pl";
	assert_int_equal(sk_mail_compose(a, &m, &raw, &len, &mid, &err),
			 SK_EINVAL);
	m.from_name = NULL;
	m.to_addr = "a@b.pl>\r\nBcc: <x@y.pl";
	assert_int_equal(sk_mail_compose(a, &m, &raw, &len, &mid, &err),
			 SK_EINVAL);
	m.to_addr = "praktyki@lista.example";
	m.list_unsubscribe_url = "http://insecure.example/x";
	assert_int_equal(sk_mail_compose(a, &m, &raw, &len, &mid, &err),
			 SK_EINVAL);
	m.list_unsubscribe_url = NULL;
	m.in_reply_to = "bad id with spaces";
	assert_int_equal(sk_mail_compose(a, &m, &raw, &len, &mid, &err),
			 SK_EINVAL);
	sk_arena_free(&a);
}

static void
composes_a_note_with_its_archive_copy(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_mail_settings ms = {
		.from = "Skarbnica@Lista.example",
		.list_address = "praktyki@lista.example",
	};
	const char *topics[] = { "zamowienia" }, *names[] = { "Zamówienia publiczne" };
	struct sk_note_in n = {
		.quarter = "2024-Q2",
		.title = "Spotkanie w Stolnie",
		.place = "Stolno, urząd gminy",
		.partners_present = "Gmina Stolno, Powiat Chełmiński",
		.topics = topics,
		.n_topics = 1,
		.decisions = "- wspólny przetarg na energię\n",
		.body_md = "Omówiliśmy **przetargi**.",
		.author_email = "anna@stolno.pl",
	};
	struct sk_note_mail nm = {
		.note = &n,
		.author_name = "Anna Wiśniewska",
		.topic_names = names,
		.date = 1717416000,
	};
	struct sk_composed c;
	struct sk_err err = { 0 };
	(void)state;

	assert_int_equal(sk_mail_note_compose(&ms, a, &nm, &c, &err), SK_OK);
	assert_string_equal(c.recipients, "praktyki@lista.example");
	assert_string_equal(c.sender, "Skarbnica@Lista.example");
	assert_string_equal(c.archive.message_id, c.message_id);
	assert_string_equal(c.archive.from_addr, "skarbnica@lista.example");
	assert_string_equal(c.archive.from_name, "Anna Wiśniewska (Skarbnica)");
	assert_ptr_equal(c.archive.raw, c.raw);
	assert_non_null(strstr(c.archive.body, "- Tematy: Zamówienia publiczne"));
	assert_non_null(strstr(c.archive.body, "## Ustalenia"));
	assert_non_null(strstr(c.archive.subject, "2024-Q2"));
	assert_non_null(strstr(c.message_id, "@lista.example"));
	assert_non_null(strstr(c.raw, c.message_id));
	ms.list_address = NULL;
	assert_int_equal(sk_mail_note_compose(&ms, a, &nm, &c, &err), SK_EINVAL);
	sk_arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encodes_long_polish_subject_in_whole_characters),
		cmocka_unit_test(keeps_ascii_subject_plain_and_folds_it),
		cmocka_unit_test(writes_rfc2231_file_names),
		cmocka_unit_test(encodes_quoted_printable_that_decodes_back),
		cmocka_unit_test(composes_a_message_that_parses_back),
		cmocka_unit_test(composes_plain_text_only),
		cmocka_unit_test(refuses_header_injection_and_bad_addresses),
		cmocka_unit_test(composes_a_note_with_its_archive_copy),
	};
	return cmocka_run_group_tests_name("mailer/compose", tests, NULL, NULL);
}
