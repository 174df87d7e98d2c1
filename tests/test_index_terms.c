/* tests/test_index_terms.c: the writer's analysis memo (index/terms.c).
 * A replayed analysis must be the analyzer's own, term for term (text,
 * position, offsets, colocation, return value, early stops), and an index
 * written with the memo must hold exactly the FTS5 postings and Xapian
 * documents of one written without it. */
#include "tests/helpers/sk_test.h"

#include "index/private.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const texts[] = {
	"Wyniki zamówień publicznych gminy Brzozówka za 2011 rok.",
	"Zapraszamy do Łodzi na spotkanie o gospodarce wodno-ściekowej. "
	"Koszt 130 000 zł, czyli 2 700 000,00 w skali powiatu.",
	"Anna Kowalczyk a.kowalczyk@brzozowka.example",
	"Procedury RODO i BIP; zob. bip.brzozowka.pl oraz uchwała nr "
	"12/2011 z 2024-01-15.",
	"sluzba zamowien --- mp3 10kg Łąkowski\n> cytat z poprzedniej "
	"wiadomości\n",
	"---",
	"btrfs: fix a deadlock in the extent allocator (v2)",
};

/* Every term a call gives, one line each, and the return value. */
struct collected {
	struct sk_buf b;
	size_t n, stop_after; /* stop_after 0: never stop */
};

static int
collect(void *ctx, const char *term, size_t len, uint32_t pos, size_t start,
        size_t end, bool colocated)
{
	struct collected *c = ctx;
	sk_buf_add(&c->b, term, len);
	sk_buf_addf(&c->b, " %u %zu %zu %d\n", pos, start, end, colocated);
	return ++c->n == c->stop_after;
}

static char *
run(bool memo, const char *text, size_t stop_after, uint32_t *ret)
{
	struct collected c = { .stop_after = stop_after };
	sk_buf_init(&c.b, 1 << 20);
	if (memo)
		*ret = sk_analyze_doc(text, strlen(text), collect, &c);
	else
		*ret = sk_analyze(sk_analyzer_thread(), text, strlen(text),
		                  SK_ANALYZE_INDEX, collect, &c);
	return sk_buf_take(&c.b, NULL);
}

static void
test_replay_is_the_analysis(void **state)
{
	struct sk_terms_memo_stats st0, st;
	(void)state;

	assert_false(sk_terms_memo_get_stats(&st0));
	sk_terms_memo_start();
	for (size_t i = 0; i < SK_ARRAY_SIZE(texts); i++) {
		uint32_t r0, r1, r2;
		char *direct = run(false, texts[i], 0, &r0);
		char *first = run(true, texts[i], 0, &r1);
		char *again = run(true, texts[i], 0, &r2);
		assert_string_equal(first, direct);
		assert_string_equal(again, direct);
		assert_int_equal(r1, r0);
		assert_int_equal(r2, r0);
		free(direct);
		free(first);
		free(again);
	}
	assert_true(sk_terms_memo_get_stats(&st));
	/* "---" has no terms but is still one text. */
	assert_int_equal(st.misses - st0.misses, SK_ARRAY_SIZE(texts));
	assert_int_equal(st.hits - st0.hits, SK_ARRAY_SIZE(texts));
	assert_true(st.bytes > 0);
	sk_terms_memo_stop();
	assert_false(sk_terms_memo_get_stats(&st));
	assert_int_equal(st.bytes, 0);
}

/* A caller that stops early (a full Xapian field) gets what the analyzer
 * gives it, whether its call records or replays; a later caller still
 * gets every term. */
static void
test_early_stop(void **state)
{
	static const size_t stops[] = { 1, 2, 5, 9 };
	const char *text = texts[1];
	(void)state;

	for (size_t k = 0; k < SK_ARRAY_SIZE(stops); k++) {
		uint32_t r0, r1, r2, r3, rf;
		char *direct, *rec, *rep, *full, *all;
		sk_terms_memo_start();
		direct = run(false, text, stops[k], &r0);
		rec = run(true, text, stops[k], &r1);
		rep = run(true, text, stops[k], &r2);
		full = run(true, text, 0, &r3);
		all = run(false, text, 0, &rf);
		assert_string_equal(rec, direct);
		assert_string_equal(rep, direct);
		assert_string_equal(full, all);
		assert_int_equal(r1, r0);
		assert_int_equal(r2, r0);
		assert_int_equal(r3, rf);
		sk_terms_memo_stop();
		free(direct);
		free(rec);
		free(rep);
		free(full);
		free(all);
	}
}

/* ---- an index written both ways --------------------------------------- */

static const char *const bodies[] = {
	"Przesyłam zestawienie zamówień publicznych gminy za 2011 rok.\n",
	"Zapraszamy do Łodzi na spotkanie o gospodarce wodno-ściekowej.\n"
	"Koszt 130 000 zł.\n\n> Czy spotkanie w Łodzi jest aktualne?\n"
	"> Pozdrawiam\n",
	"W gminie przyjęto uchwałę nr 12/2011 w sprawie zamówienia "
	"publicznego; RODO i BIP bez zmian.\n",
};

static int64_t
add(struct sk_index *ix, int i, struct sk_arena *a)
{
	static const struct sk_attachment att[] = {
		{ "regulamin żłobka.pdf", "application/pdf", "%PDF", 4,
		  "Regulamin żłobka gminnego w Brzozówce, 2024-01-15.", "ok",
		  NULL },
		{ "plan.txt", "text/plain", "plan", 4, "Plan zamówień", "ok",
		  NULL },
	};
	static const char *const subjects[] = {
		"Wyniki zamówień publicznych",
		"Re: Spotkanie w Łodzi",
		"Budżet na 2012 — [Praktyki] uchwała",
	};
	struct sk_message m = { 0 };
	struct sk_err err = { 0 };
	int64_t id = 0;
	const char *q;

	m.message_id = sk_arena_printf(a, "m%d@brzozowka.example", i);
	m.raw = sk_arena_printf(a, "Message-ID: <%s>\n\n%s", m.message_id,
	                        bodies[i]);
	m.raw_len = strlen(m.raw);
	m.subject = subjects[i];
	m.from_name = "Anna Kowalczyk";
	m.from_addr = "a.kowalczyk@brzozowka.example";
	m.date = 1700000000 + i * 3600;
	m.body = bodies[i];
	q = strstr(bodies[i], "\n> ");
	m.quote_start = q ? (size_t)(q - bodies[i]) + 1 : strlen(bodies[i]);
	if (i == 2) {
		m.attachments = att;
		m.n_attachments = SK_ARRAY_SIZE(att);
	}
	if (sk_index_add_message(ix, &m, &id, &err))
		fail_msg("add: %s", err.msg);
	return id;
}

/* The FTS5 postings (term, row, column, offset) and every Xapian
 * document, as text. */
static char *
dump(struct sk_index *ix, const int64_t *ids, size_t n)
{
	struct sk_buf b;
	sqlite3_stmt *st;
	struct sk_err err = { 0 };

	sk_buf_init(&b, 16 << 20);
	assert_int_equal(sqlite3_exec(ix->db,
	                              "CREATE VIRTUAL TABLE temp.inst USING "
	                              "fts5vocab(main, messages_fts, instance)",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(ix->db,
	                       "SELECT term, doc, col, offset "
	                       "FROM temp.inst ORDER BY 2, 3, 4, 1",
	                       -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		sk_buf_addf(&b, "%s %lld %s %d\n", sqlite3_column_text(st, 0),
		            (long long)sqlite3_column_int64(st, 1),
		            sqlite3_column_text(st, 2),
		            sqlite3_column_int(st, 3));
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		sk_buf_addf(&b, "== xapian %lld\n", (long long)ids[i]);
		if (sk_xdb_doc_dump(ix->xdb, ids[i], &b, &err))
			fail_msg("dump: %s", err.msg);
		sk_buf_addc(&b, '\n');
	}
	assert_int_equal(sk_buf_status(&b), SK_OK);
	return sk_buf_take(&b, NULL);
}

static char *
build(bool memo, struct sk_terms_memo_stats *used)
{
	char *dir = sk_test_tmpdir(), *out;
	struct sk_index *ix = NULL;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_err err = { 0 };
	struct sk_terms_memo_stats st0;
	int64_t ids[SK_ARRAY_SIZE(bodies)];

	sk_terms_memo_set_enabled(memo);
	if (sk_index_open(dir, SK_INDEX_CREATE | SK_INDEX_WRITE, &ix, &err) ||
	    sk_index_load_taxonomy(ix, sk_index_default_taxonomy(), &err))
		fail_msg("open: %s", err.msg);
	sk_terms_memo_get_stats(&st0);
	/* One batch for all but the last: replays cross messages. */
	assert_int_equal(sk_index_begin(ix, &err), SK_OK);
	for (size_t i = 0; i + 1 < SK_ARRAY_SIZE(bodies); i++)
		ids[i] = add(ix, (int)i, a);
	assert_int_equal(sk_index_commit(ix, &err), SK_OK);
	ids[SK_ARRAY_SIZE(bodies) - 1] =
	    add(ix, (int)SK_ARRAY_SIZE(bodies) - 1, a);
	sk_terms_memo_get_stats(used);
	used->hits -= st0.hits;
	used->misses -= st0.misses;
	out = dump(ix, ids, SK_ARRAY_SIZE(ids));
	sk_index_close(&ix);
	sk_arena_free(&a);
	sk_test_rmdir(&dir);
	sk_terms_memo_set_enabled(true);
	return out;
}

static void
test_index_same_both_ways(void **state)
{
	struct sk_terms_memo_stats with, without;
	char *old_path, *new_path;
	(void)state;

	old_path = build(false, &without);
	new_path = build(true, &with);
	assert_int_equal(without.hits + without.misses, 0);
	/* Subject, sender, body and attachments of each message are
	 * analysed once, by the classifier or FTS5, and replayed for the
	 * other and for Xapian: 16 replays of 27 texts here (a quoted body's
	 * unquoted part and the classifier's attachment text are texts of
	 * their own). */
	assert_true(with.hits >= 12);
	assert_true(with.misses > 0);
	assert_non_null(strstr(old_path, "zamowienie"));
	assert_non_null(strstr(old_path, "zlobek"));
	assert_non_null(strstr(old_path, "\nSzamowienie "));
	assert_non_null(strstr(old_path, "\nAkowalczyk "));
	assert_string_equal(new_path, old_path);
	free(old_path);
	free(new_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_is_the_analysis),
		cmocka_unit_test(test_early_stop),
		cmocka_unit_test(test_index_same_both_ways),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
