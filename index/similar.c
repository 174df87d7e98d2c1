/* index/similar.c: "similar threads" for a thread. The thread's own words
 * (subjects and unquoted bodies) go through the Polish analyzer; the terms
 * that are frequent in the thread and rare in the archive (tf-idf, document
 * frequencies from FTS5's vocabulary) form an OR query on the full-text
 * index, and the best messages are grouped by thread. Backend-independent:
 * the FTS5 index exists in every store. */
#include "index/private.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT_BYTES (24 * 1024) /* of a thread, analysed */
#define MAX_MESSAGES 100
#define QUERY_TERMS 12
#define CANDIDATES 64 /* most frequent terms whose rarity is looked up */
#define MATCH_ROWS 400 /* best messages considered before grouping */

struct collect {
	struct sk_arena *a;
	const char **terms;
	size_t n, cap;
	bool skip_pos; /* the current position's surface is a stop word */
};

static bool
useful_term(const char *t, size_t n)
{
	size_t digits = 0;
	if (n < 3)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] >= '0' && t[i] <= '9')
			digits++;
	/* Numbers, dates and hashes say little about a topic. */
	return digits * 2 < n;
}

static int
collect_term(void *ctx, const char *term, size_t len, uint32_t pos,
	     size_t start, size_t end, bool colocated)
{
	struct collect *c = ctx;
	(void)pos;
	(void)start;
	(void)end;
	if (!colocated) {
		c->skip_pos = sk_analyze_is_stop(term, len);
	}
	if (c->skip_pos || !useful_term(term, len))
		return 0;
	if (c->n == c->cap) {
		const char **nt;
		c->cap = c->cap ? c->cap * 2 : 1024;
		nt = sk_arena_alloc(c->a, c->cap * sizeof(*nt));
		if (c->n)
			memcpy(nt, c->terms, c->n * sizeof(*nt));
		c->terms = nt;
	}
	c->terms[c->n++] = sk_arena_strndup(c->a, term, len);
	return 0;
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int
cmp_score(const void *x, const void *y)
{
	const double *a = x, *b = y; /* first field of struct scored */
	return *a < *b ? 1 : *a > *b ? -1 : 0;
}

struct scored {
	double score;
	const char *term;
};

/* The thread's text: subjects once, bodies without their quoted tails. */
static enum sk_status
thread_text(struct sk_index *ix, const struct sk_viewer *v, int64_t thread,
	    struct sk_buf *b, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT subject, substr(CAST(body AS BLOB), 1, "
		"coalesce(quote_start, length(CAST(body AS BLOB)))) FROM "
		"messages WHERE thread_id = ?1 AND (?9 OR flags & 8 = 0 OR "
		"approved_at IS NOT NULL) ORDER BY date LIMIT ?2",
		err);
	int rows = 0;
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, thread);
	sqlite3_bind_int(st, 2, MAX_MESSAGES);
	sqlite3_bind_int(st, 9, v && v->coordinator);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!rows++) {
			sk_buf_adds(b, (const char *)sqlite3_column_text(st, 0));
			sk_buf_addc(b, '\n');
		}
		sk_buf_add(b, sqlite3_column_blob(st, 1),
			   (size_t)sqlite3_column_bytes(st, 1));
		sk_buf_addc(b, '\n');
		if (b->len > MAX_TEXT_BYTES)
			break;
	}
	sqlite3_reset(st);
	if (!rows)
		return sk_err_set(err, SK_ENOTFOUND, "no thread %lld",
				  (long long)thread);
	return SK_OK;
}

/* The FTS5 query: the chosen terms, each a quoted string, ORed. */
static char *
build_query(struct sk_arena *a, struct scored *s, size_t n)
{
	struct sk_buf q;
	char *out;
	sk_buf_init(&q, 64 * 1024);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sk_buf_adds(&q, " OR ");
		sk_buf_addc(&q, '"');
		for (const char *p = s[i].term; *p; p++) {
			if (*p == '"')
				sk_buf_addc(&q, '"');
			sk_buf_addc(&q, *p);
		}
		sk_buf_addc(&q, '"');
	}
	out = sk_arena_strndup(a, q.p, q.len);
	sk_buf_release(&q);
	return out;
}

enum sk_status
sk_index_similar_threads(struct sk_index *ix, struct sk_arena *a,
			 const struct sk_viewer *v, int64_t thread_id,
			 size_t limit, struct sk_thread_row **rows_out,
			 size_t *n_out, struct sk_err *err)
{
	struct collect c = { .a = a };
	struct sk_buf text;
	struct scored *sc;
	size_t n_sc = 0, n = 0;
	int64_t total;
	sqlite3_stmt *st;
	const char *q;
	enum sk_status rc;

	*rows_out = NULL;
	*n_out = 0;
	if (!limit)
		limit = 5;
	if (limit > 50)
		limit = 50;
	sk_buf_init(&text, 2 * MAX_TEXT_BYTES);
	rc = thread_text(ix, v, thread_id, &text, err);
	if (!rc)
		sk_analyze(sk_analyzer_thread(), text.p, text.len,
			   SK_ANALYZE_INDEX, collect_term, &c);
	sk_buf_release(&text);
	if (rc)
		return rc;
	if (!c.n)
		return SK_OK;

	/* Term frequencies: sort, then count runs. */
	qsort(c.terms, c.n, sizeof(*c.terms), cmp_str);
	total = 0;
	st = sk_ix_stmt(ix, "SELECT count(*) FROM messages", err);
	if (!st)
		return err->code;
	if (sqlite3_step(st) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	/* Term frequencies (runs of the sorted list), most frequent first;
	 * only those get the (index) lookup of their rarity: a page view
	 * must stay cheap on long threads. */
	sc = sk_arena_alloc(a, c.n * sizeof(*sc));
	for (size_t i = 0; i < c.n;) {
		size_t j = i;
		while (j < c.n && !strcmp(c.terms[j], c.terms[i]))
			j++;
		sc[n_sc].term = c.terms[i];
		sc[n_sc++].score = (double)(j - i);
		i = j;
	}
	qsort(sc, n_sc, sizeof(*sc), cmp_score);
	if (n_sc > CANDIDATES)
		n_sc = CANDIDATES;
	{
		size_t k = 0;
		for (size_t i = 0; i < n_sc; i++) {
			int64_t df = sk_index_term_docs(ix, sc[i].term);
			/* Words only this thread has, or that every fourth
			 * message has, find nothing useful. */
			if (df < 2 || df * 4 > total)
				continue;
			sc[k].term = sc[i].term;
			sc[k++].score = (1.0 + log(sc[i].score)) *
					log((double)total / (double)df);
		}
		n_sc = k;
	}
	if (!n_sc)
		return SK_OK;
	qsort(sc, n_sc, sizeof(*sc), cmp_score);
	q = build_query(a, sc, n_sc < QUERY_TERMS ? n_sc : QUERY_TERMS);

	st = sk_ix_stmt(
		ix,
		"SELECT th.id, th.subject, th.first_date, th.last_date, "
		"th.message_count, (SELECT from_name FROM messages WHERE "
		"thread_id = th.id ORDER BY date LIMIT 1), best.score FROM "
		"(SELECT m.thread_id AS tid, sum(hit.score) AS score FROM "
		"(SELECT rowid AS id, -bm25(messages_fts, 3.0, 1.0, 1.0, 0.5) "
		"AS score FROM messages_fts WHERE messages_fts MATCH ?1 "
		"ORDER BY rank LIMIT ?4) hit JOIN messages m ON m.id = hit.id "
		"WHERE m.thread_id <> ?2 AND (?9 OR m.flags & 8 = 0 OR "
		"m.approved_at IS NOT NULL) GROUP BY m.thread_id) best "
		"JOIN threads th ON th.id = best.tid "
		"ORDER BY best.score DESC, th.last_date DESC LIMIT ?3",
		err);
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, thread_id);
	sqlite3_bind_int64(st, 3, (int64_t)limit);
	sqlite3_bind_int(st, 4, MATCH_ROWS);
	sqlite3_bind_int(st, 9, v && v->coordinator);
	*rows_out = sk_arena_alloc(a, limit * sizeof(**rows_out));
	while (n < limit && sqlite3_step(st) == SQLITE_ROW) {
		struct sk_thread_row *r = &(*rows_out)[n++];
		r->id = sqlite3_column_int64(st, 0);
		r->subject = sk_arena_strdup(
			a, (const char *)sqlite3_column_text(st, 1));
		r->first_date = (time_t)sqlite3_column_int64(st, 2);
		r->last_date = (time_t)sqlite3_column_int64(st, 3);
		r->messages = sqlite3_column_int64(st, 4);
		r->first_from = sqlite3_column_text(st, 5)
					? sk_arena_strdup(a, (const char *)
								     sqlite3_column_text(st, 5))
					: "";
	}
	rc = sqlite3_errcode(ix->db);
	sqlite3_reset(st);
	if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "similar threads", err);
	for (size_t i = 0; i < n; i++)
		sk_index_thread_topic_slugs(ix, a, (*rows_out)[i].id,
					    &(*rows_out)[i].topics,
					    &(*rows_out)[i].n_topics);
	*n_out = n;
	return SK_OK;
}
