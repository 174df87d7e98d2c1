/* bench/inproc.c: in-process search latency — the web's path without
 * HTTP. Opens the data directory once, read-only, then runs every query
 * of a TSV file RUNS times through sk_search() (a fresh arena per call, as
 * a request has) and prints, per query, the match count and the p50, p99
 * and mean latency in milliseconds, then the pooled p50/p99 over all
 * calls.
 *
 * usage: inproc -d DATA [-n RUNS] [-w WARM] [--backend xapian|fts5]
 *               [--limit N] [--no-facets] [--flat] QUERIES.tsv
 * QUERIES.tsv: "id<TAB>kind<TAB>query" lines; '#' lines are comments.
 * Defaults are the web search page: 20 hits, collapsed by thread, facets,
 * a coordinator's view (held mail included), 20 runs after 2 warm-ups.
 * Output (TSV on stdout): id, total, p50_ms, p99_ms, mean_ms, then a line
 * "ALL" with the pooled figures. Exit 1 on any search error. */
#include "index/sk_index.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_QUERIES 256

struct query {
	char *id, *text;
};

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double
pct(const double *v, size_t n, double p)
{
	size_t k;
	if (!n)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static size_t
read_queries(const char *path, struct query *q, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t n = 0;

	if (!f) {
		perror(path);
		exit(2);
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		char *tab1, *tab2, *end;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		end = line + strcspn(line, "\r\n");
		*end = '\0';
		tab1 = strchr(line, '\t');
		tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
		if (!tab2)
			continue;
		*tab1 = '\0';
		q[n].id = strdup(line);
		q[n].text = strdup(tab2 + 1);
		/* Only the third column: later ones are notes. */
		q[n].text[strcspn(q[n].text, "\t")] = '\0';
		n++;
	}
	fclose(f);
	return n;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "limit", required_argument, NULL, 'l' },
		{ "no-facets", no_argument, NULL, 'F' },
		{ "flat", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL;
	struct query q[MAX_QUERIES];
	size_t nq, runs = 20, warm = 2, limit = 20, n_all = 0;
	bool facets = true, collapse = true;
	enum sk_backend backend = SK_BACKEND_DEFAULT;
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	double *all, *t;
	int opt, status = 0;

	while ((opt = getopt_long(argc, argv, "d:n:w:", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': data = optarg; break;
		case 'n': runs = strtoul(optarg, NULL, 10); break;
		case 'w': warm = strtoul(optarg, NULL, 10); break;
		case 'l': limit = strtoul(optarg, NULL, 10); break;
		case 'F': facets = false; break;
		case 'f': collapse = false; break;
		case 'b':
			if (sk_backend_parse(optarg, &backend)) {
				fprintf(stderr, "inproc: bad backend\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: inproc -d DATA [-n RUNS] "
					"[-w WARM] [--backend xapian|fts5] "
					"[--limit N] [--no-facets] [--flat] "
					"QUERIES.tsv\n");
			return 2;
		}
	}
	if (!data || optind + 1 != argc || !runs) {
		fprintf(stderr, "inproc: need -d DATA and one QUERIES.tsv\n");
		return 2;
	}
	nq = read_queries(argv[optind], q, MAX_QUERIES);
	if (sk_index_open(data,
			  backend == SK_BACKEND_FTS5 ? SK_INDEX_NO_XAPIAN : 0,
			  &ix, &err)) {
		fprintf(stderr, "inproc: %s\n", err.msg);
		return 1;
	}
	all = calloc(nq * runs + 1, sizeof(*all));
	t = calloc(runs + 1, sizeof(*t));
	printf("id\ttotal\tp50_ms\tp99_ms\tmean_ms\n");
	for (size_t i = 0; i < nq; i++) {
		int64_t total = -1;
		double sum = 0;
		for (size_t r = 0; r < warm + runs; r++) {
			struct sk_search_opts o = { 0 };
			struct sk_results res;
			struct sk_arena *a;
			double t0 = now_ms(), dt;

			o.query = q[i].text;
			o.backend = backend;
			o.limit = limit;
			o.want_facets = facets;
			o.collapse_threads = collapse;
			o.viewer.logged_in = o.viewer.coordinator = true;
			a = sk_arena_new(0);
			if (sk_search(ix, a, &o, &res, &err)) {
				fprintf(stderr, "inproc: %s: '%s': %s\n",
					q[i].id, q[i].text, err.msg);
				sk_arena_free(&a);
				status = 1;
				break;
			}
			total = res.total;
			sk_arena_free(&a);
			dt = now_ms() - t0;
			if (r >= warm) {
				t[r - warm] = dt;
				all[n_all++] = dt;
				sum += dt;
			}
		}
		qsort(t, runs, sizeof(*t), cmp_double);
		printf("%s\t%lld\t%.3f\t%.3f\t%.3f\n", q[i].id, (long long)total,
		       pct(t, runs, 50), pct(t, runs, 99), sum / (double)runs);
	}
	qsort(all, n_all, sizeof(*all), cmp_double);
	printf("ALL\t-\t%.3f\t%.3f\t-\n", pct(all, n_all, 50),
	       pct(all, n_all, 99));
	for (size_t i = 0; i < nq; i++) {
		free(q[i].id);
		free(q[i].text);
	}
	free(all);
	free(t);
	sk_index_close(&ix);
	return status;
}
