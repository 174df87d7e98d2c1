/* tests/test_index_fts.c: the 'skarbnica' FTS5 tokenizer (index/fts.c) on
 * the contentless table of schema/migrations/0002_fts.sql: Polish rows,
 * MATCH queries, column filters, phrases, the 'delete' command and the
 * integrity check. */
#include "tests/helpers/sk_test.h"

#include "index/private.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The table as the migration creates it; read from the migration itself
 * when the tests run from the source tree, so the two cannot drift. */
static const char fallback_sql[] =
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "subject, sender, body, attachments, content = '', "
    "tokenize = 'skarbnica');";

struct row {
	int64_t id;
	const char *subject, *sender, *body, *attachments;
};

static const struct row rows[] = {
	{ 1, "Wyniki zamówień publicznych",
	  "Anna Kowalczyk a.kowalczyk@brzozowka.example",
	  "Przesyłam zestawienie zamówień publicznych gminy za 2011 rok.", "" },
	{ 2, "Spotkanie w Łodzi", "Jan Nowak jan.nowak@stolno.pl",
	  "Zapraszamy do Łodzi na spotkanie o gospodarce wodno-ściekowej. "
	  "Koszt 130 000 zł.",
	  "" },
	{ 3, "Budżet na 2012", "Ewa Zielińska sekretariat@bip.lipno.pl",
	  "W gminie przyjęto uchwałę nr 12/2011 w sprawie zamówienia "
	  "publicznego.",
	  "Załącznik: regulamin żłobka" },
	{ 4, "RODO w urzędzie", "Piotr Wiśniewski p.wisniewski@stolno.pl",
	  "Procedury RODO i BIP; gmina przygotowała zamówienia publiczne.",
	  "" },
	{ 5, "Pan Roda", "Roda roda@example.com", "Dzień dobry.", "" },
};

static int
exec_sql(sqlite3 *db, const char *sql, bool quiet)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK && !quiet)
		printf("sql: %s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	return rc;
}

static int
exec(sqlite3 *db, const char *sql)
{
	return exec_sql(db, sql, false);
}

static int
write_row(sqlite3 *db, const struct row *r, bool delete)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(
	    db,
	    delete ? "INSERT INTO messages_fts(messages_fts, rowid, subject, "
	             "sender, body, attachments) "
	             "VALUES('delete', ?1, ?2, ?3, ?4, ?5)"
	           : "INSERT INTO messages_fts(rowid, subject, sender, body, "
	             "attachments) VALUES(?1, ?2, ?3, ?4, ?5)",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_text(st, 2, r->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->body, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->attachments, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
setup(void **state)
{
	sqlite3 *db = NULL;
	char *sql = NULL;
	size_t len;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return -1;
	if (sk_fts_register(db, NULL) != SQLITE_OK)
		return -1;
	if (sk_read_file("schema/migrations/0002_fts.sql", 1u << 20, &sql, &len,
	                 NULL) != SK_OK)
		sql = NULL;
	if (exec(db, sql ? sql : fallback_sql) != SQLITE_OK) {
		free(sql);
		return -1;
	}
	free(sql);
	for (size_t i = 0; i < SK_ARRAY_SIZE(rows); i++)
		if (write_row(db, &rows[i], false) != SQLITE_OK)
			return -1;
	*state = db;
	return 0;
}

static int
teardown(void **state)
{
	sqlite3_close(*state);
	return 0;
}

/* The matching rowids in order, as "1 3 4"; "error: ..." on an error. */
static const char *
ids(sqlite3 *db, const char *match)
{
	static char buf[256];
	sqlite3_stmt *st;
	size_t len = 0;
	int rc;

	buf[0] = '\0';
	rc = sqlite3_prepare_v2(db,
	                        "SELECT rowid FROM messages_fts WHERE "
	                        "messages_fts MATCH ?1 ORDER BY rowid",
	                        -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(buf, sizeof(buf), "error: %s", sqlite3_errmsg(db));
		return buf;
	}
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%lld",
		                        len ? " " : "",
		                        (long long)sqlite3_column_int64(st, 0));
	if (rc != SQLITE_DONE)
		snprintf(buf, sizeof(buf), "error: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return buf;
}

static bool
lemmas(void)
{
	if (sk_analyzer_has_lemmas(sk_analyzer_thread()))
		return true;
	printf("SKIP: hunspell-pl is not installed\n");
	return false;
}

static void
finds_inflected_forms_through_lemmas(void **state)
{
	sqlite3 *db = *state;

	if (!lemmas())
		skip();
	assert_string_equal(ids(db, "zamowienie"), "1 3 4");
	assert_string_equal(ids(db, "zamowienie publiczne"), "1 3 4");
	assert_string_equal(ids(db, "zamówień"), "1 3 4");
	assert_string_equal(ids(db, "gmin"), "1 3 4");
	assert_string_equal(ids(db, "spotkania"), "2");
}

static void
finds_lodzi_by_lodz(void **state)
{
	sqlite3 *db = *state;

	if (!lemmas())
		skip();
	assert_string_equal(ids(db, "lodz"), "2");
	assert_string_equal(ids(db, "Łódź"), "2");
	assert_string_equal(ids(db, "zlobek"), "3");
}

static void
matches_phrases_of_lemmas_in_order(void **state)
{
	sqlite3 *db = *state;

	if (!lemmas())
		skip();
	/* A phrase matches the same lemmas in the same order, whatever the
	 * inflection: "zamówień publicznych", "zamówienia publicznego". */
	assert_string_equal(ids(db, "\"zamówienia publiczne\""), "1 3 4");
	assert_string_equal(ids(db, "\"zamowienia publicznego\""), "1 3 4");
	assert_string_equal(ids(db, "\"publiczne zamówienia\""), "");
	assert_string_equal(ids(db, "\"w gminie przyjęto\""), "3");
}

static void
filters_by_column(void **state)
{
	sqlite3 *db = *state;

	if (!lemmas())
		skip();
	assert_string_equal(ids(db, "subject : zamowienie"), "1");
	assert_string_equal(ids(db, "body : zamowienie"), "1 3 4");
	assert_string_equal(ids(db, "attachments : zlobek"), "3");
	assert_string_equal(ids(db, "{subject body} : lodz"), "2");
}

static void
finds_senders_by_address_domain_and_name(void **state)
{
	sqlite3 *db = *state;

	assert_string_equal(
	    ids(db, "sender : \"a.kowalczyk@brzozowka.example\""), "1");
	assert_string_equal(ids(db, "sender : \"brzozowka.example\""), "1");
	assert_string_equal(ids(db, "sender : kowalczyk"), "1");
	assert_string_equal(ids(db, "sender : \"stolno.pl\""), "2 4");
	assert_string_equal(ids(db, "sender : \"lipno.pl\""), "3");
	assert_string_equal(ids(db, "sender : \"jan.nowak@stolno.pl\""), "2");
}

static void
finds_numbers(void **state)
{
	sqlite3 *db = *state;

	assert_string_equal(ids(db, "\"130 000\""), "2");
	assert_string_equal(ids(db, "130000"), "2");
	assert_string_equal(ids(db, "\"12/2011\""), "3");
	assert_string_equal(ids(db, "2011"), "1 3");
}

static void
finds_compounds_whole_and_by_parts(void **state)
{
	sqlite3 *db = *state;

	if (!lemmas())
		skip();
	assert_string_equal(ids(db, "\"wodno-ściekowa\""), "2");
	assert_string_equal(ids(db, "\"wodno-sciekowej\""), "2");
	assert_string_equal(ids(db, "sciekowa"), "2");
}

static void
keeps_acronyms_apart_from_names(void **state)
{
	sqlite3 *db = *state;

	if (!lemmas())
		skip();
	assert_string_equal(ids(db, "RODO"), "4");
	assert_string_equal(ids(db, "body : BIP"), "4");
	/* and "bip" is also a label of sekretariat@bip.lipno.pl */
	assert_string_equal(ids(db, "BIP"), "3 4");
	/* the name Roda is not the acronym */
	assert_string_equal(ids(db, "Roda"), "5");
	assert_string_equal(ids(db, "subject : RODO"), "4");
}

static void
folds_prefix_queries(void **state)
{
	sqlite3 *db = *state;

	assert_string_equal(ids(db, "zamow*"), "1 3 4");
	assert_string_equal(ids(db, "ŁÓD*"), "2");
}

static void
combines_with_fts5_operators(void **state)
{
	sqlite3 *db = *state;

	if (!lemmas())
		skip();
	assert_string_equal(ids(db, "zamowienie OR lodz"), "1 2 3 4");
	assert_string_equal(ids(db, "zamowienie NOT rodo"), "1 3");
	assert_string_equal(ids(db, "NEAR(gmina zamowienie, 3)"), "1 4");
	assert_string_equal(ids(db, "NEAR(gmina zamowienie, 8)"), "1 3 4");
}

static void
passes_integrity_check_after_deletes(void **state)
{
	sqlite3 *db = *state;

	assert_int_equal(exec(db, "INSERT INTO messages_fts(messages_fts) "
	                          "VALUES('integrity-check')"),
	                 SQLITE_OK);
	assert_int_equal(write_row(db, &rows[1], true), SQLITE_OK);
	assert_int_equal(write_row(db, &rows[4], true), SQLITE_OK);
	assert_int_equal(exec(db, "INSERT INTO messages_fts(messages_fts) "
	                          "VALUES('integrity-check')"),
	                 SQLITE_OK);
	assert_string_equal(ids(db, "130000"), "");
	assert_string_equal(ids(db, "\"stolno.pl\""), "4");
	/* re-insert: found again, still consistent */
	assert_int_equal(write_row(db, &rows[1], false), SQLITE_OK);
	assert_string_equal(ids(db, "130000"), "2");
	assert_int_equal(exec(db, "INSERT INTO messages_fts(messages_fts) "
	                          "VALUES('integrity-check')"),
	                 SQLITE_OK);
}

static void
rejects_tokenizer_arguments(void **state)
{
	sqlite3 *db = *state;

	assert_int_not_equal(exec_sql(db,
	                              "CREATE VIRTUAL TABLE t2 USING "
	                              "fts5(x, tokenize = 'skarbnica "
	                              "remove_diacritics 2')",
	                              true),
	                     SQLITE_OK);
	assert_int_equal(exec(db, "CREATE VIRTUAL TABLE t3 USING "
	                          "fts5(x, tokenize = 'skarbnica')"),
	                 SQLITE_OK);
}

static void
tokenizes_invalid_utf8_without_harm(void **state)
{
	sqlite3 *db = *state;
	sqlite3_stmt *st;

	assert_int_equal(exec(db, "CREATE VIRTUAL TABLE t4 USING "
	                          "fts5(x, tokenize = 'skarbnica')"),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t4(x) VALUES(?1)",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_blob(st, 1,
	                  "gmina\xff\xfe"
	                  "powiat\0wie\xc5",
	                  17, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(
	    exec(db, "INSERT INTO t4(t4) VALUES('integrity-check')"),
	    SQLITE_OK);
}

static void *
query_in_thread(void *p)
{
	static char out[256];
	snprintf(out, sizeof(out), "%s", ids(p, "lodz"));
	return out;
}

static void
tokenizes_from_other_threads(void **state)
{
	sqlite3 *db = *state;
	pthread_t th;
	void *res;

	if (!lemmas())
		skip();
	assert_int_equal(pthread_create(&th, NULL, query_in_thread, db), 0);
	assert_int_equal(pthread_join(th, &res), 0);
	assert_string_equal(res, "2");
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(finds_inflected_forms_through_lemmas),
		T(finds_lodzi_by_lodz),
		T(matches_phrases_of_lemmas_in_order),
		T(filters_by_column),
		T(finds_senders_by_address_domain_and_name),
		T(finds_numbers),
		T(finds_compounds_whole_and_by_parts),
		T(keeps_acronyms_apart_from_names),
		T(folds_prefix_queries),
		T(combines_with_fts5_operators),
		T(passes_integrity_check_after_deletes),
		T(rejects_tokenizer_arguments),
		T(tokenizes_invalid_utf8_without_harm),
		T(tokenizes_from_other_threads),
	};
#undef T
	return cmocka_run_group_tests_name("index/fts", tests, NULL, NULL);
}
