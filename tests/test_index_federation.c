/* tests/test_index_federation.c: search federated over the local Xapian
 * index and two xapian-tcpsrv shards on 127.0.0.1 (index/xap.cc
 * sk_xdb_open_federated/sk_xdb_fed_search, index/search.c
 * sk_index_set_shards). Three stores are built with the real store API;
 * two of them are served by xapian-tcpsrv. A query returns the union, the
 * total is exact, remote hits carry what their index holds, facets merge.
 * Skips visibly when xapian-tcpsrv (Debian: xapian-tools) is missing. */
#include "tests/helpers/sk_test.h"

#include "index/private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T2022 ((time_t)1656676800) /* 2022-07-01 12:00 UTC */
#define T2023 ((time_t)1688212800) /* 2023-07-01 */
#define T2024 ((time_t)1719835200) /* 2024-07-01 */

struct fx {
	char *tmp;
	char dir[3][512]; /* local, shard a, shard b */
	pid_t srv[2];
	int port[2];
	char spec[128];
	struct sk_arena *a;
};

static const char *
tcpsrv_path(void)
{
	static char path[512];
	const char *env = getenv("PATH");
	char *copy, *save = NULL;
	const char *ok = NULL;

	copy = strdup(env ? env : "/usr/bin:/bin");
	for (char *d = strtok_r(copy, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/xapian-tcpsrv", d);
		if (!access(path, X_OK)) {
			ok = path;
			break;
		}
	}
	free(copy);
	return ok;
}

/* A port the kernel considers free right now. */
static int
free_port(void)
{
	struct sockaddr_in sa = { 0 };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool
can_connect(int port)
{
	struct sockaddr_in sa = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (fd >= 0)
		close(fd);
	return ok;
}

static void
add(struct sk_index *ix, struct sk_arena *a, const char *mid,
    const char *from, const char *subject, time_t date, const char *body)
{
	struct sk_message m = { 0 };
	struct sk_err err = { 0 };
	m.raw = sk_arena_printf(a, "Message-ID: <%s>\nFrom: %s\nSubject: %s\n\n%s\n",
				mid, from, subject, body);
	m.raw_len = strlen(m.raw);
	m.message_id = mid;
	m.subject = subject;
	m.from_name = "Anna Kowalczyk";
	m.from_addr = from;
	m.date = date;
	m.body = body;
	m.quote_start = strlen(body);
	if (sk_index_add_message(ix, &m, NULL, &err))
		fail_msg("add %s: %s", mid, err.msg);
}

static struct sk_index *
new_store(const char *dir)
{
	static char s1[] = "brzozowka", n1[] = "Gmina Brzozówka",
		    k1[] = "gmina", d1[] = "brzozowka.example";
	static char s2[] = "lakowski", n2[] = "Powiat Łąkowski",
		    k2[] = "powiat", d2[] = "lakowski.example";
	static const struct sk_partner_conf partners[] = {
		{ s1, n1, k1, d1 },
		{ s2, n2, k2, d2 },
	};
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	if (sk_index_open(dir, SK_INDEX_CREATE | SK_INDEX_WRITE, &ix, &err) ||
	    sk_index_load_taxonomy(ix, sk_index_default_taxonomy(), &err) ||
	    sk_index_sync_partners(ix, partners, 2, &err) ||
	    sk_index_meta_set(ix, "list.address", "praktyki@lista.example",
			      &err))
		fail_msg("store %s: %s", dir, err.msg);
	return ix;
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *srv = tcpsrv_path();
	struct sk_index *ix;

	if (!srv) {
		printf("SKIP: xapian-tcpsrv not found (Debian package "
		       "xapian-tools): federation not tested\n");
		free(fx);
		*state = NULL;
		return 0;
	}
	fx->a = sk_arena_new(0);
	fx->tmp = sk_test_tmpdir();
	for (int i = 0; i < 3; i++)
		snprintf(fx->dir[i], sizeof(fx->dir[i]), "%s/%s", fx->tmp,
			 i == 0 ? "local" : i == 1 ? "a" : "b");

	ix = new_store(fx->dir[0]);
	add(ix, fx->a, "l1@brzozowka.example", "wojt@brzozowka.example",
	    "Kanalizacja w gminie", T2023,
	    "Budowa kanalizacji sanitarnej ruszy wiosną.");
	add(ix, fx->a, "l2@brzozowka.example", "wojt@brzozowka.example",
	    "Festyn gminny", T2023, "Zapraszamy na festyn.");
	sk_index_close(&ix);

	ix = new_store(fx->dir[1]);
	add(ix, fx->a, "a1@brzozowka.example", "sekretariat@brzozowka.example",
	    "Przetarg na kanalizację", T2024,
	    "Ogłaszamy przetarg na kanalizację deszczową.");
	add(ix, fx->a, "a2@brzozowka.example", "sekretariat@brzozowka.example",
	    "Odbiór kanalizacji", T2024, "Odbiór kanalizacji w czerwcu.");
	add(ix, fx->a, "a3@brzozowka.example", "sekretariat@brzozowka.example",
	    "Sesja rady", T2024, "Porządek obrad sesji.");
	sk_index_close(&ix);

	ix = new_store(fx->dir[2]);
	add(ix, fx->a, "b1@lakowski.example", "starosta@lakowski.example",
	    "Kanalizacja powiatowa", T2022,
	    "Powiat dofinansuje kanalizację.");
	sk_index_close(&ix);

	for (int i = 0; i < 2; i++) {
		char xdir[600], port[16];
		fx->port[i] = free_port();
		assert_true(fx->port[i] > 0);
		snprintf(xdir, sizeof(xdir), "%s/xapian", fx->dir[i + 1]);
		snprintf(port, sizeof(port), "%d", fx->port[i]);
		fx->srv[i] = fork();
		assert_true(fx->srv[i] >= 0);
		if (fx->srv[i] == 0) {
			/* Its own process group: on SIGTERM xapian-tcpsrv
			 * signals its whole group (its connection children),
			 * which must not include us. Its "Got exception"
			 * lines on disconnect are noise here. */
			int null = open("/dev/null", O_WRONLY);
			setpgid(0, 0);
			if (null >= 0) {
				dup2(null, 1);
				dup2(null, 2);
			}
			execl(srv, "xapian-tcpsrv", "--quiet", "--interface",
			      "127.0.0.1", "--port", port, xdir, (char *)NULL);
			_exit(127);
		}
	}
	for (int i = 0; i < 2; i++) {
		int tries;
		for (tries = 0; tries < 100 && !can_connect(fx->port[i]);
		     tries++)
			usleep(50 * 1000);
		assert_true(tries < 100);
	}
	snprintf(fx->spec, sizeof(fx->spec), "127.0.0.1:%d, 127.0.0.1:%d",
		 fx->port[0], fx->port[1]);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	if (!fx)
		return 0;
	for (int i = 0; i < 2; i++)
		if (fx->srv[i] > 0) {
			kill(-fx->srv[i], SIGTERM);
			waitpid(fx->srv[i], NULL, 0);
		}
	sk_test_rmdir(&fx->tmp);
	sk_arena_free(&fx->a);
	free(fx);
	return 0;
}

static struct sk_index *
open_federated(struct fx *fx, unsigned flags)
{
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	if (sk_index_open(fx->dir[0], flags, &ix, &err))
		fail_msg("open: %s", err.msg);
	if (sk_index_set_shards(ix, fx->spec, &err))
		fail_msg("shards '%s': %s", fx->spec, err.msg);
	return ix;
}

static void
search(struct sk_index *ix, struct sk_arena *a, const char *q, bool facets,
       bool by_date, struct sk_results *r)
{
	struct sk_search_opts o = { 0 };
	struct sk_err err = { 0 };
	o.query = q;
	o.backend = SK_BACKEND_XAPIAN;
	o.limit = 20;
	o.want_facets = facets;
	o.sort_by_date = by_date;
	o.viewer.logged_in = o.viewer.coordinator = true;
	if (sk_search(ix, a, &o, r, &err))
		fail_msg("search '%s': %s", q, err.msg);
}

static int64_t
facet_count(const struct sk_facet *f, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].value, value))
			return f[i].count;
	return 0;
}

static void
test_union(void **state)
{
	struct fx *fx = *state;
	struct sk_index *ix;
	struct sk_results r;
	int local = 0, remote = 0;

	if (!fx)
		skip();
	ix = open_federated(fx, 0);
	search(ix, fx->a, "kanalizacja", true, false, &r);
	assert_int_equal(r.total, 4);
	assert_int_equal(r.n_hits, 4);
	for (size_t i = 0; i < r.n_hits; i++) {
		const struct sk_hit *h = &r.hits[i];
		assert_non_null(h->subject);
		assert_non_null(strstr(h->subject, "anali")); /* kanaliz... */
		if (h->id > 0) {
			/* The local shard: a full hit from the store. */
			local++;
			assert_string_equal(h->message_id,
					    "l1@brzozowka.example");
			assert_true(h->thread_id > 0);
			assert_non_null(strstr(h->snippet_html, "<mark>"));
		} else {
			remote++;
			assert_int_equal(h->thread_id, 0);
			assert_true(h->date == T2024 || h->date == T2022);
			/* Message-ID once sk_xdoc carries it. */
			assert_true(!*h->message_id ||
				    strstr(h->message_id, "@"));
		}
	}
	assert_int_equal(local, 1);
	assert_int_equal(remote, 3);

	/* Facets merge: years from every shard, partners by slug. */
	assert_int_equal(facet_count(r.years, r.n_years, "2022"), 1);
	assert_int_equal(facet_count(r.years, r.n_years, "2023"), 1);
	assert_int_equal(facet_count(r.years, r.n_years, "2024"), 2);
	assert_int_equal(facet_count(r.partners, r.n_partners, "brzozowka"),
			 3);
	assert_int_equal(facet_count(r.partners, r.n_partners, "lakowski"),
			 1);
	sk_index_close(&ix);
}

static void
test_filters_and_sort(void **state)
{
	struct fx *fx = *state;
	struct sk_index *ix;
	struct sk_results r;

	if (!fx)
		skip();
	ix = open_federated(fx, 0);
	/* Filters run on each shard. */
	search(ix, fx->a, "kanalizacja data:2024", false, false, &r);
	assert_int_equal(r.total, 2);
	search(ix, fx->a, "kanalizacja -przetarg", false, false, &r);
	assert_int_equal(r.total, 3);
	search(ix, fx->a, "temat:sesja OR festyn", false, false, &r);
	assert_int_equal(r.total, 2);
	search(ix, fx->a, "od:lakowski.example", false, false, &r);
	assert_int_equal(r.total, 1);
	assert_string_equal(r.hits[0].subject, "Kanalizacja powiatowa");
	/* Newest first across shards. */
	search(ix, fx->a, "kanalizacja", false, true, &r);
	assert_int_equal(r.n_hits, 4);
	for (size_t i = 1; i < r.n_hits; i++)
		assert_true(r.hits[i - 1].date >= r.hits[i].date);
	assert_int_equal(r.hits[3].date, T2022);
	/* Paging over the merged ranking. */
	{
		struct sk_search_opts o = { 0 };
		struct sk_err err = { 0 };
		o.query = "kanalizacja";
		o.backend = SK_BACKEND_XAPIAN;
		o.sort_by_date = true;
		o.offset = 3;
		o.limit = 10;
		o.viewer.logged_in = o.viewer.coordinator = true;
		assert_int_equal(sk_search(ix, fx->a, &o, &r, &err), SK_OK);
		assert_int_equal(r.total, 4);
		assert_int_equal(r.n_hits, 1);
		assert_int_equal(r.hits[0].date, T2022);
	}
	/* Everything: 6 messages in three stores. */
	search(ix, fx->a, "", false, false, &r);
	assert_int_equal(r.total, 6);
	sk_index_close(&ix);
}

static void
test_remote_only_and_errors(void **state)
{
	struct fx *fx = *state;
	struct sk_xdb *db = NULL;
	struct sk_xsearch s = { 0 };
	struct sk_xfed_results fr;
	struct sk_qnode *root;
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	char spec[64];

	if (!fx)
		skip();
	/* The wrapper alone, remote shards only. */
	assert_int_equal(sk_xdb_open_federated(NULL, fx->spec, &db, &err),
			 SK_OK);
	assert_int_equal(sk_xdb_shard_count(db), 2);
	assert_false(sk_xdb_has_local(db));
	assert_int_equal(sk_xdb_doccount(db), 4);
	assert_int_equal(sk_query_parse(fx->a, "kanalizacja", &root, &err),
			 SK_OK);
	s.query = root;
	s.limit = 10;
	s.include_held = true;
	assert_int_equal(sk_xdb_fed_search(db, fx->a, &s, true, &fr, &err),
			 SK_OK);
	assert_int_equal(fr.total, 3);
	for (size_t i = 0; i < fr.n_hits; i++) {
		/* (shard, id) maps back: shard 0 = a (ids 1, 2), 1 = b. */
		assert_true(fr.hits[i].shard < 2);
		assert_true(fr.hits[i].id >= 1 && fr.hits[i].id <= 2);
		assert_true(fr.hits[i].shard == 1 || fr.hits[i].date == T2024);
		assert_true(fr.hits[i].shard == 0 || fr.hits[i].id == 1);
		assert_non_null(strstr(fr.hits[i].shard_name, "127.0.0.1:"));
	}
	/* The plain entry point refuses a federation. */
	{
		int64_t *ids, total;
		size_t n;
		assert_int_equal(sk_xdb_search(db, fx->a, &s, &ids, &n, &total,
					       NULL, NULL, &err),
				 SK_EINVAL);
	}
	sk_xdb_close(&db);
	assert_null(db);

	/* Bad specs. */
	assert_int_equal(sk_xdb_open_federated(NULL, "localhost", &db, &err),
			 SK_EINVAL);
	assert_int_equal(sk_xdb_open_federated(NULL, "h:99999", &db, &err),
			 SK_EINVAL);
	assert_int_equal(sk_xdb_open_federated(NULL, " , ", &db, &err),
			 SK_EINVAL);
	assert_null(db);
	/* Nobody listens: a clear error naming the shard. */
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", free_port());
	assert_int_not_equal(sk_xdb_open_federated(NULL, spec, &db, &err),
			     SK_OK);
	assert_non_null(strstr(err.msg, spec));
	assert_null(db);

	/* Writers do not federate; an empty spec changes nothing. */
	if (sk_index_open(fx->dir[0], SK_INDEX_WRITE, &ix, &err))
		fail_msg("open: %s", err.msg);
	assert_int_equal(sk_index_set_shards(ix, fx->spec, &err), SK_EINVAL);
	sk_index_close(&ix);
	if (sk_index_open(fx->dir[0], 0, &ix, &err))
		fail_msg("open: %s", err.msg);
	assert_int_equal(sk_index_set_shards(ix, "", &err), SK_OK);
	sk_index_close(&ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_union),
		cmocka_unit_test(test_filters_and_sort),
		cmocka_unit_test(test_remote_only_and_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
