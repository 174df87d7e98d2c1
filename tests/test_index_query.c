/* tests/test_index_query.c: the query language parser (index/query.c).
 * Trees are compared through sk_query_dump(), the canonical text form. */
#include "tests/helpers/sk_test.h"

#include "index/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse q and compare its dump with want. */
static void
parses_as(const char *q, const char *want)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_err err = { 0 };
	struct sk_qnode *root = NULL;
	enum sk_status rc = sk_query_parse(a, q, &root, &err);
	if (rc != SK_OK)
		fail_msg("'%s' failed: %s", q, err.msg);
	assert_non_null(root);
	if (strcmp(sk_query_dump(a, root), want))
		fail_msg("'%s' parsed as '%s', want '%s'", q,
			 sk_query_dump(a, root), want);
	sk_arena_free(&a);
}

/* Parse q, expect SK_EINVAL with a message containing want. */
static void
rejects(const char *q, const char *want)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_err err = { 0 };
	struct sk_qnode *root = (struct sk_qnode *)&err;
	enum sk_status rc = sk_query_parse(a, q, &root, &err);
	if (rc != SK_EINVAL)
		fail_msg("'%s' gave %d, want SK_EINVAL", q, (int)rc);
	assert_null(root);
	assert_true(sk_utf8_valid(err.msg, strlen(err.msg)));
	if (!strstr(err.msg, want))
		fail_msg("'%s': message '%s' lacks '%s'", q, err.msg, want);
	sk_arena_free(&a);
}

static void
ands_words(void **state)
{
	(void)state;
	parses_as("zamówienie", "zamówienie");
	parses_as("zamowienie publiczne", "(and zamowienie publiczne)");
	parses_as("  a\tb\nc  ", "(and a b c)");
	parses_as("Żłobek  ŁÓDŹ", "(and Żłobek ŁÓDŹ)");
	parses_as("wodno-ściekowa 130 000", "(and wodno-ściekowa 130 000)");
	parses_as("a.kowalczyk@brzozowka.example",
		  "a.kowalczyk@brzozowka.example");
	parses_as("a AND b", "(and a b)");
	parses_as("a\u00a0b", "(and a b)"); /* no-break space separates */
	parses_as("10:30 http://bip.example/x", "(and 10:30 http://bip.example/x)");
	parses_as("uwaga: dotacja", "(and uwaga: dotacja)");
}

static void
empty_query_matches_all(void **state)
{
	(void)state;
	parses_as("", "*");
	parses_as("   ", "*");
	parses_as("\"\"", "*");
	parses_as("a \"\"", "a");
	parses_as("a -\"\"", "a");
}

static void
parses_phrases(void **state)
{
	(void)state;
	parses_as("\"zamówienia publiczne\"", "\"zamówienia publiczne\"");
	parses_as("\" spaced  out \"", "\"spaced  out\"");
	parses_as("„Wody Polskie” taryfa", "(and \"Wody Polskie\" taryfa)");
	parses_as("“a b” c", "(and \"a b\" c)");
	parses_as("x\"a b\"y", "(and x \"a b\" y)");
	parses_as("\"w\"", "\"w\"");
}

static void
parses_or(void **state)
{
	(void)state;
	parses_as("a OR b", "(or a b)");
	parses_as("a | b", "(or a b)");
	parses_as("a|b", "(or a b)");
	parses_as("a OR b OR c", "(or a b c)");
	/* OR binds tighter than the implicit AND. */
	parses_as("umowa gmina OR powiat", "(and umowa (or gmina powiat))");
	parses_as("(a b) OR c", "(or (and a b) c)");
	/* Lowercase or/and/not are words. */
	parses_as("a or b", "(and a or b)");
	parses_as("a and not b", "(and a and not b)");
	parses_as("a Or b", "(and a Or b)");
}

static void
parses_negation(void **state)
{
	(void)state;
	parses_as("a -b", "(and a (not b))");
	parses_as("a NOT b", "(and a (not b))");
	parses_as("a -\"b c\"", "(and a (not \"b c\"))");
	parses_as("a -(b OR c)", "(and a (not (or b c)))");
	parses_as("a NOT NOT b", "(and a b)");
	parses_as("a NOT -b", "(and a b)");
	parses_as("a -from:x", "(and a (not from:x))");
	parses_as("a - b", "(and a - b)"); /* a lone dash is a word */
	parses_as("a --- b --c", "(and a --- b --c)");
	parses_as("wodno-ściekowa -5", "(and wodno-ściekowa (not 5))");
	parses_as("a OR -b", "(or a (not b))");
	parses_as("topic:bip -a -b", "(and topic:bip (not a) (not b))");
}

static void
parses_parentheses(void **state)
{
	(void)state;
	parses_as("(a)", "a");
	parses_as("((a b))", "(and a b)");
	parses_as("a (b OR (c d))", "(and a (or b (and c d)))");
	parses_as("(a b) (c d)", "(and a b c d)");
	parses_as("(a OR b) OR (c OR d)", "(or a b c d)");
}

static void
parses_fields(void **state)
{
	(void)state;
	parses_as("from:kowalczyk", "from:kowalczyk");
	parses_as("od:a.kowalczyk@brzozowka.example",
		  "from:a.kowalczyk@brzozowka.example");
	parses_as("OD:brzozowka.example", "from:brzozowka.example");
	parses_as("from:\"Anna Kowalczyk\"", "from:\"Anna Kowalczyk\"");
	parses_as("subject:regulamin", "subject:regulamin");
	parses_as("tytuł:regulamin tytul:taryfa",
		  "(and subject:regulamin subject:taryfa)");
	/* temat: is the Polish mail header label "Temat" (the subject). */
	parses_as("temat:regulamin Temat:taryfa",
		  "(and subject:regulamin subject:taryfa)");
	parses_as("subject:\"plan postępowań\"", "subject:\"plan postępowań\"");
	parses_as("subject:(taryfa OR regulamin)",
		  "(or subject:taryfa subject:regulamin)");
	parses_as("subject:(a from:b)", "(and subject:a from:b)");
	parses_as("subject:(a -b)", "(and subject:a (not subject:b))");
	parses_as("topic:zamowienia", "topic:zamowienia");
	parses_as("kategoria:Zamówienia", "topic:zamowienia");
	parses_as("kategoria:budżet-zadaniowy", "topic:budzet-zadaniowy");
	parses_as("topic:\"woda-scieki\"", "topic:woda-scieki");
	parses_as("topic:(bip OR rodo)", "(or topic:bip topic:rodo)");
	parses_as("partner:brzozowka", "partner:brzozowka");
	parses_as("gmina:Jaśkowo", "partner:jaskowo");
	parses_as("has:attachment", "has:attachment");
	parses_as("ma:załącznik", "has:attachment");
	parses_as("ma:zalacznik Has:Attachments",
		  "(and has:attachment has:attachment)");
	parses_as("a -has:attachment", "(and a (not has:attachment))");
}

static void
parses_dates(void **state)
{
	(void)state;
	parses_as("date:2011-01-01..2011-06-30", "date:2011-01-01..2011-06-30");
	parses_as("data:2024-01-01..", "date:2024-01-01..");
	parses_as("date:..2024-06-30", "date:..2024-06-30");
	parses_as("date:2024", "date:2024-01-01..2024-12-31");
	parses_as("date:2024-02", "date:2024-02-01..2024-02-29");
	parses_as("date:2023-02", "date:2023-02-01..2023-02-28");
	parses_as("date:2024-03-15", "date:2024-03-15..2024-03-15");
	parses_as("date:2024..2025", "date:2024-01-01..2025-12-31");
	parses_as("date:2024-12..", "date:2024-12-01..");
	parses_as("date:2024.03.15", "date:2024-03-15..2024-03-15");
	parses_as("date:\"2024-01-01..2024-01-31\"",
		  "date:2024-01-01..2024-01-31");
	parses_as("date:(2024 OR 2011)",
		  "(or date:2024-01-01..2024-12-31 date:2011-01-01..2011-12-31)");

	/* The node holds [from, to) in UTC seconds; 0 is an open end. */
	struct sk_arena *a = sk_arena_new(0);
	struct sk_qnode *n;
	assert_int_equal(sk_query_parse(a, "date:2024-01-01..", &n, NULL),
			 SK_OK);
	assert_int_equal(n->kind, SK_Q_DATE);
	assert_int_equal(n->date_from, 1704067200);
	assert_int_equal(n->date_to, 0);
	assert_int_equal(sk_query_parse(a, "date:..2024-01-01", &n, NULL),
			 SK_OK);
	assert_int_equal(n->date_from, 0);
	assert_int_equal(n->date_to, 1704067200 + 86400);
	sk_arena_free(&a);
}

static void
keeps_text_as_typed(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_qnode *n;
	(void)state;
	assert_int_equal(sk_query_parse(a, "subject:\"Plan  Zamówień\"", &n,
					NULL),
			 SK_OK);
	assert_int_equal(n->kind, SK_Q_PHRASE);
	assert_int_equal(n->field, SK_QF_SUBJECT);
	assert_string_equal(n->text, "Plan  Zamówień");
	assert_int_equal(sk_query_parse(a, "-Żłobek", &n, NULL), SK_EINVAL);
	assert_int_equal(sk_query_parse(a, "x -Żłobek", &n, NULL), SK_OK);
	assert_int_equal(n->kind, SK_Q_AND);
	assert_int_equal(n->kids[1]->kind, SK_Q_NOT);
	assert_string_equal(n->kids[1]->kids[0]->text, "Żłobek");
	assert_int_equal(n->kids[1]->kids[0]->field, SK_QF_ANY);
	sk_arena_free(&a);
}

static void
rejects_bad_syntax(void **state)
{
	(void)state;
	rejects("\"zamówienia publiczne", "Niezamknięty cudzysłów w zapytaniu.");
	rejects("a „b", "Niezamknięty cudzysłów");
	rejects("(a b", "Niezamknięty nawias w zapytaniu.");
	rejects("((a) b", "Niezamknięty nawias");
	rejects("a b)", "Nadmiarowy nawias zamykający");
	rejects(")", "Nadmiarowy nawias");
	rejects("a () b", "Puste nawiasy");
	rejects("a OR", "Operator OR wymaga słowa po obu stronach.");
	rejects("OR a", "Operator OR wymaga");
	rejects("a OR OR b", "Operator OR wymaga");
	rejects("(a OR) b", "Operator OR wymaga");
	rejects("a | ", "Operator OR wymaga");
	rejects("a AND", "Operator AND wymaga");
	rejects("AND a", "Operator AND wymaga");
	rejects("a AND OR b", "Operator AND wymaga");
	rejects("a NOT", "Po „NOT” brakuje słowa do wykluczenia.");
	rejects("a -(", "Niezamknięty nawias");
	rejects("a -)", "Nadmiarowy nawias");
	rejects("a NOT )", "Po „NOT” brakuje");
	rejects("a -OR b", "Po „-” brakuje słowa do wykluczenia.");
	rejects("a -NOT b", "Po „-” brakuje");
	rejects("a NOT OR b", "Po „NOT” brakuje");
}

static void
rejects_bad_fields(void **state)
{
	(void)state;
	rejects("foo:bar",
		"Nieznane pole „foo:”. Dostępne: od:, temat:, kategoria:, "
		"gmina:, data:");
	rejects("ważne:tak", "Nieznane pole „ważne:”.");
	rejects("from:", "Brak wartości po „from:”.");
	rejects("od: kowalczyk", "Brak wartości po „od:”.");
	rejects("subject:\"\"", "Brak wartości po „subject:”.");
	rejects("has:pdf",
		"Nieznana wartość „pdf” (dostępne: ma:załącznik, "
		"has:attachment).");
	rejects("topic:zamówienia!", "Błędny identyfikator tematu „zamówienia!”");
	rejects("topic:\"woda i ścieki\"", "Błędny identyfikator tematu");
	rejects("gmina:a/b", "Błędny identyfikator gminy „a/b”");
}

static void
rejects_bad_dates(void **state)
{
	(void)state;
	rejects("date:2024-13-01",
		"Błędna data „2024-13-01” (oczekiwano RRRR-MM-DD).");
	rejects("date:2023-02-29", "Błędna data „2023-02-29”");
	rejects("date:2024-04-31", "Błędna data „2024-04-31”");
	rejects("date:wczoraj", "Błędna data „wczoraj”");
	rejects("date:24-01-01", "Błędna data");
	rejects("date:2024-01-01..2024-1-5", "Błędna data „2024-1-5”");
	rejects("date:1969", "Błędna data");
	rejects("data:..", "Zakres dat „..” nie ma żadnego końca");
	rejects("date:2024-06-01..2024-01-01",
		"Odwrócony zakres dat „2024-06-01..2024-01-01”.");
	rejects("date:2024-01-02..2024-01-01", "Odwrócony zakres dat");
}

static void
rejects_only_exclusions(void **state)
{
	(void)state;
	const char *msg = "Zapytanie nie może składać się wyłącznie z "
			  "wykluczeń (-słowo).";
	rejects("-a", msg);
	rejects("-a -b", msg);
	rejects("NOT a", msg);
	rejects("(-a) OR (-b)", msg);
	rejects("-has:attachment", msg);
	parses_as("-a \"\"", "(and (not a) *)");
	parses_as("\"\" -a -b", "(and (not a) (not b) *)");
	parses_as("-a b", "(and (not a) b)");
}

static void
enforces_limits(void **state)
{
	struct sk_buf b;
	(void)state;

	/* Bytes: exactly the maximum is fine, one more is not. */
	sk_buf_init(&b, 1u << 20);
	while (b.len < SK_QUERY_MAX_BYTES)
		sk_buf_addc(&b, 'x');
	parses_as(b.p, b.p);
	sk_buf_addc(&b, 'x');
	rejects(b.p, "Zapytanie jest za długie (najwyżej 1024 bajtów).");
	sk_buf_release(&b);
}

/* Node and depth limits. */
static void
enforces_node_and_depth_limits(void **state)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_qnode *n;
	struct sk_buf b;
	(void)state;

	/* SK_QUERY_MAX_NODES - 1 words + the AND node: just fits. */
	sk_buf_init(&b, 1u << 20);
	for (int i = 0; i < SK_QUERY_MAX_NODES - 1; i++)
		sk_buf_adds(&b, "w ");
	assert_int_equal(sk_query_parse(a, b.p, &n, NULL), SK_OK);
	assert_int_equal(n->n_kids, SK_QUERY_MAX_NODES - 1);
	sk_buf_adds(&b, "w ");
	rejects(b.p, "Zapytanie ma za dużo elementów (najwyżej 64).");
	sk_buf_release(&b);

	/* Depth: nested parentheses and negations. */
	sk_buf_init(&b, 1u << 20);
	sk_buf_adds(&b, "x ");
	for (int i = 0; i < SK_QUERY_MAX_DEPTH - 2; i++)
		sk_buf_adds(&b, "(a ");
	sk_buf_adds(&b, "b");
	for (int i = 0; i < SK_QUERY_MAX_DEPTH - 2; i++)
		sk_buf_addc(&b, ')');
	assert_int_equal(sk_query_parse(a, b.p, &n, NULL), SK_OK);
	sk_buf_reset(&b);
	for (int i = 0; i < 200; i++)
		sk_buf_addc(&b, '(');
	rejects(b.p, "Zapytanie jest zbyt głęboko zagnieżdżone (najwyżej 16");
	sk_buf_reset(&b);
	sk_buf_adds(&b, "x ");
	for (int i = 0; i < 200; i++)
		sk_buf_adds(&b, "NOT ");
	sk_buf_adds(&b, "y");
	rejects(b.p, "zbyt głęboko");
	sk_buf_reset(&b);
	/* Alternating AND/OR nesting deeper than the limit. */
	sk_buf_adds(&b, "z ");
	for (int i = 0; i < SK_QUERY_MAX_DEPTH + 2; i++)
		sk_buf_adds(&b, "(a OR (b ");
	rejects(b.p, "zbyt głęboko");
	sk_buf_release(&b);
	sk_arena_free(&a);
}

static void
rejects_invalid_utf8(void **state)
{
	(void)state;
	rejects("zam\xf3wienie", "UTF-8");
	rejects("a \xc0\xaf", "UTF-8");		/* overlong '/' */
	rejects("\xed\xa0\x80", "UTF-8");	/* surrogate */
	rejects("abc \xe2\x80", "UTF-8");	/* truncated */
}

/* Long user text in a message is clipped on a character boundary. */
static void
clips_user_text_in_messages(void **state)
{
	struct sk_buf b;
	(void)state;
	sk_buf_init(&b, 1u << 20);
	sk_buf_adds(&b, "date:");
	for (int i = 0; i < 200; i++)
		sk_buf_adds(&b, "ż");
	rejects(b.p, "Błędna data „żżż");
	sk_buf_release(&b);
}

/* ---- fuzz: random input never crashes, and errors are well formed -------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static const char *const pieces[] = {
	"a", "zamówienie", " ", " ", "  ", "(", ")", "\"", "„", "”", "-",
	"NOT ", " OR ", "|", " AND ", "from:", "od:", "subject:", "tytuł:",
	"topic:", "kategoria:", "temat:", "partner:", "gmina:", "date:", "data:", "has:",
	"ma:", "attachment", "załącznik", "2024", "2024-01", "2024-01-01",
	"..", ":", "x:y", "foo:", "ł", "\xc5", "\xff", "\t", "\n", "*", "\\",
	"'", "bip", "a.b@c.example", "wodno-ściekowa", "\xe2\x80\x9c",
};

static void
check_one(const char *q, size_t n)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_err err = { 0 };
	struct sk_qnode *root = NULL;
	char *s = sk_arena_strndup(a, q, n);
	enum sk_status rc = sk_query_parse(a, s, &root, &err);

	if (rc == SK_OK) {
		assert_non_null(root);
		char *d = sk_query_dump(a, root);
		assert_non_null(d);
		/* The dump of a valid tree parses again (words are printed
		 * as typed, which may not round-trip exactly; only no crash
		 * is required here). */
		struct sk_qnode *again;
		(void)sk_query_parse(a, d, &again, NULL);
	} else {
		assert_int_equal(rc, SK_EINVAL);
		assert_null(root);
		assert_true(err.msg[0] != '\0');
		assert_true(sk_utf8_valid(err.msg, strlen(err.msg)));
	}
	sk_arena_free(&a);
}

static void
survives_random_input(void **state)
{
	char buf[2048];
	(void)state;

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 0;
		if (iter % 3 == 0) {
			/* raw bytes */
			size_t len = rnd() % 64;
			for (size_t i = 0; i < len; i++)
				buf[n++] = (char)(rnd() % 255 + 1);
		} else {
			/* token soup */
			size_t k = rnd() % (iter % 50 == 0 ? 600 : 24);
			for (size_t i = 0; i < k; i++) {
				const char *p = pieces[rnd() %
						       SK_ARRAY_SIZE(pieces)];
				size_t l = strlen(p);
				if (n + l >= sizeof(buf))
					break;
				memcpy(buf + n, p, l);
				n += l;
			}
		}
		check_one(buf, n);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ands_words),
		cmocka_unit_test(empty_query_matches_all),
		cmocka_unit_test(parses_phrases),
		cmocka_unit_test(parses_or),
		cmocka_unit_test(parses_negation),
		cmocka_unit_test(parses_parentheses),
		cmocka_unit_test(parses_fields),
		cmocka_unit_test(parses_dates),
		cmocka_unit_test(keeps_text_as_typed),
		cmocka_unit_test(rejects_bad_syntax),
		cmocka_unit_test(rejects_bad_fields),
		cmocka_unit_test(rejects_bad_dates),
		cmocka_unit_test(rejects_only_exclusions),
		cmocka_unit_test(enforces_limits),
		cmocka_unit_test(enforces_node_and_depth_limits),
		cmocka_unit_test(rejects_invalid_utf8),
		cmocka_unit_test(clips_user_text_in_messages),
		cmocka_unit_test(survives_random_input),
	};
	return cmocka_run_group_tests_name("index/query", tests, NULL, NULL);
}
