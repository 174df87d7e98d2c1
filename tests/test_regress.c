/* tests/test_regress.c: every input in tests/data/regress/ fed to the
 * entry point it once broke (or might break), as the fuzz targets feed
 * them — crashes found by `make fuzz` land here (docs/security.md).
 *
 *   regress/mime/    raw mail through the real worker pool (sk_ingest_new
 *                    on a NO_XAPIAN store): every message is stored.
 *                    FILE.crash.eml must come out flagged "parser
 *                    crashed" (a known libetpan crash, contained);
 *                    FILE.needs-fix.eml is a bug found but not fixed
 *                    yet (it may crash the worker under ASan); every
 *                    other file must parse without crashing.
 *                    The same files (but crashers and needs-fix) are
 *                    also parsed in this process from an exact-size
 *                    buffer, as fuzz_mime does, so ASan sees over-reads.
 *   regress/query/   sk_query_parse + sk_query_dump (tests/fuzz/fuzz_query.c)
 *   regress/http/    sk_web_route (tests/fuzz/fuzz_http.c, same input format)
 *   regress/config/  sk_config_load (tests/fuzz/fuzz_config.c)
 *
 * The fuzz harnesses are compiled in here, renamed, so a regression runs
 * exactly the code and the invariants the fuzzer ran. */
#include "tests/helpers/sk_test.h"

#define LLVMFuzzerTestOneInput regress_mime_one
#include "tests/fuzz/fuzz_mime.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerInitialize regress_query_init
#define LLVMFuzzerTestOneInput regress_query_one
#include "tests/fuzz/fuzz_query.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerInitialize regress_http_init
#define LLVMFuzzerTestOneInput regress_http_one
#include "tests/fuzz/fuzz_http.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerInitialize regress_config_init
#define LLVMFuzzerTestOneInput regress_config_one
#include "tests/fuzz/fuzz_config.c"
#undef LLVMFuzzerInitialize
#undef LLVMFuzzerTestOneInput

#include "ingest/sk_ingest.h"

#include <dirent.h>

/* The files of tests/data/regress/KIND, sorted (malloc'ed names). */
static size_t
list_inputs(const char *kind, char ***names_out)
{
	char rel[64];
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	snprintf(rel, sizeof(rel), "regress/%s", kind);
	d = opendir(sk_test_data(rel));
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		sk_xgrow((void **)&names, &cap, n + 1, sizeof(*names));
		names[n++] = sk_xstrdup(de->d_name);
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0;
		     j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	*names_out = names;
	return n;
}

static void
free_inputs(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Feed each file of regress/KIND to one(). */
static void
run_kind(const char *kind, int (*one)(const uint8_t *, size_t))
{
	char **names;
	size_t n = list_inputs(kind, &names);

	for (size_t i = 0; i < n; i++) {
		char rel[300];
		size_t len;
		char *data;
		snprintf(rel, sizeof(rel), "regress/%s/%s", kind, names[i]);
		data = sk_test_read(rel, &len);
		printf("regress: %s\n", rel);
		assert_int_equal(one((const uint8_t *)data, len), 0);
		free(data);
	}
	assert_true(n > 0);
	free_inputs(names, n);
}

static void
queries_that_once_broke_the_parser(void **state)
{
	(void)state;
	run_kind("query", regress_query_one);
}

static void
configs_that_once_broke_the_loader(void **state)
{
	(void)state;
	regress_config_init(NULL, NULL);
	run_kind("config", regress_config_one);
	/* And the answer is a clear error, not a wrapped-around size. */
	{
		struct sk_config c;
		struct sk_err err = { 0 };
		sk_config_init(&c);
		assert_int_equal(sk_config_load(&c,
		                                sk_test_data("regress/config/"
		                                             "huge-size"),
		                                &err),
		                 SK_EINVAL);
		assert_non_null(strstr(err.msg, "is not a size"));
		sk_config_release(&c);
	}
}

static void
requests_that_once_broke_the_router(void **state)
{
	(void)state;
	regress_http_init(NULL, NULL);
	run_kind("http", regress_http_one);
}

/* The Message-ID of a raw message (between < and > on its header line),
 * or NULL. */
static char *
message_id_of(const char *raw)
{
	const char *h = strstr(raw, "Message-ID: <");
	const char *e;
	if (!h)
		return NULL;
	h += strlen("Message-ID: <");
	e = strchr(h, '>');
	return e ? sk_xstrndup(h, (size_t)(e - h)) : NULL;
}

static void
mail_that_once_broke_the_parser_is_stored(void **state)
{
	char *dir = sk_test_tmpdir();
	struct sk_index *w = NULL;
	struct sk_ingest *ing = NULL;
	struct sk_ingest_settings set = { .workers = 2, .quiet = true };
	struct sk_ingest_counts counts;
	struct sk_err err = { 0 };
	struct sk_stats st;
	char **names;
	size_t n = list_inputs("mime", &names);

	(void)state;
	assert_int_equal(sk_index_open(dir,
	                               SK_INDEX_CREATE | SK_INDEX_WRITE |
	                                   SK_INDEX_NO_XAPIAN,
	                               &w, &err),
	                 SK_OK);
	assert_int_equal(sk_ingest_new(w, &set, &ing, &err), SK_OK);
	for (size_t i = 0; i < n; i++) {
		char rel[300];
		size_t len;
		char *raw;
		snprintf(rel, sizeof(rel), "regress/mime/%s", names[i]);
		raw = sk_test_read(rel, &len);
		assert_int_equal(sk_ingest_submit(ing, raw, len, NULL, &err),
		                 SK_OK);
		free(raw);
	}
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	sk_ingest_counts(ing, &counts);
	assert_int_equal(sk_ingest_finish(&ing, &err), SK_OK);
	assert_int_equal(counts.seen, n);
	assert_int_equal(counts.stored + counts.duplicates, n);
	assert_int_equal(counts.failed, 0);
	assert_int_equal(sk_index_stats(w, &st, &err), SK_OK);
	assert_int_equal(st.messages, counts.stored);

	/* Each message is there; the known crashers are flagged as such. */
	for (size_t i = 0; i < n; i++) {
		struct sk_arena *a = sk_arena_new(0);
		struct sk_viewer coord = { true, true };
		struct sk_message_row row;
		char rel[300];
		size_t len;
		char *raw, *mid;
		snprintf(rel, sizeof(rel), "regress/mime/%s", names[i]);
		raw = sk_test_read(rel, &len);
		mid = message_id_of(raw);
		if (mid) {
			assert_int_equal(sk_index_message(w, a, &coord, mid,
			                                  &row, &err),
			                 SK_OK);
			printf("regress: %s: flags %u%s%s\n", rel, row.flags,
			       row.parse_error ? ", " : "",
			       row.parse_error ? row.parse_error : "");
			if (strstr(names[i], ".crash.")) {
				assert_true(row.flags & SK_MSG_MALFORMED);
				assert_non_null(row.parse_error);
				assert_true(sk_starts_with(row.parse_error,
				                           "parser crashed"));
			} else if (!strstr(names[i], ".needs-fix.")) {
				assert_false(row.parse_error &&
				             sk_starts_with(row.parse_error,
				                            "parser crashed"));
			}
			assert_true(
			    sk_utf8_valid(row.body, strlen(row.body)));
		} else {
			assert_false(strstr(names[i], ".crash."));
		}
		free(mid);
		free(raw);
		sk_arena_free(&a);
	}
	sk_index_close(&w);
	free_inputs(names, n);
	sk_test_rmdir(&dir);
}

static void
mail_that_once_broke_the_parser_parses_in_process(void **state)
{
	char **names;
	size_t n = list_inputs("mime", &names);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		char rel[300];
		size_t len;
		char *raw, *exact;
		if (strstr(names[i], ".crash.") || strstr(names[i], ".needs-fix."))
			continue;
		snprintf(rel, sizeof(rel), "regress/mime/%s", names[i]);
		raw = sk_test_read(rel, &len);
		exact = sk_xmalloc(len ? len : 1); /* no NUL after it */
		memcpy(exact, raw, len);
		printf("regress: %s in process\n", rel);
		assert_int_equal(regress_mime_one((const uint8_t *)exact, len),
		                 0);
		free(exact);
		free(raw);
	}
	free_inputs(names, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* First: the pool forks, before fuzz_http's store exists. */
		cmocka_unit_test(mail_that_once_broke_the_parser_is_stored),
		cmocka_unit_test(mail_that_once_broke_the_parser_parses_in_process),
		cmocka_unit_test(queries_that_once_broke_the_parser),
		cmocka_unit_test(configs_that_once_broke_the_loader),
		cmocka_unit_test(requests_that_once_broke_the_router),
	};
	return cmocka_run_group_tests_name("regress", tests, NULL, NULL);
}
