/* index/facets.c: search facets counted in memory, and the store's
 * change key.
 *
 * Facets used to be three SQL joins over a JSON list of every matching
 * id (100 M of 237 M instructions for a 9,000-hit search at 10k). Here a
 * read handle keeps, per message id, its thread, partner and year, and per
 * thread its topics (thread_topics, not removed), loaded once from covering
 * indexes and reloaded when the store changes. Counting is then one pass
 * over the ids. The counts, order and labels are exactly those of the SQL
 * (kept in search.c as the fallback when the table cannot be built):
 * topics by count, then position, then slug; partners by count, then slug;
 * years newest first; messages or, collapsed, distinct threads.
 *
 * "The store changed" is the change key: PRAGMA data_version moves with
 * every commit of another connection, sqlite3_total_changes64() with every
 * row this connection writes, so a coordinator's new topic shows at once
 * on both. Under the same key the handle keeps sk_index_topics' rows
 * (every page lists them); sk_index_stats keeps its counts in store.c. */
#include "index/private.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Beyond this many ids (or threads) the dense arrays would be too big
 * for a per-handle cache: search.c counts in SQL instead. */
#define FTAB_MAX_IDS (8u << 20)

struct ftab_topic {
	int64_t id, position;
	char *slug, *name;
};

struct ftab_partner {
	int64_t id;
	char *slug, *name;
};

struct sk_ftab {
	struct sk_ix_version ver;
	uint32_t max_msg, max_thread;
	uint32_t *msg_thread;  /* [max_msg + 1], 0: no such message */
	uint16_t *msg_partner; /* 1 + partner index, 0: none */
	uint16_t *msg_year;    /* index into years */
	uint32_t *thr_first;   /* [max_thread + 2]: topics of thread t are */
	uint16_t *thr_topic;   /* thr_topic[thr_first[t] .. thr_first[t+1]) */
	uint32_t *msg_stamp, *thr_stamp, gen;
	int32_t *thr_head; /* per search: first match of the thread */
	struct ftab_topic *topics;
	struct ftab_partner *partners;
	int *years; /* newest first */
	size_t n_topics, n_partners, n_years;
	size_t last_year; /* while loading */
	bool broken;	  /* could not be built at ver: count in SQL */
};

/* ---- the change key ----------------------------------------------------- */

enum sk_status
sk_index_version(struct sk_index *ix, struct sk_ix_version *out,
		 struct sk_err *err)
{
	struct sk_err local = { 0 };
	sqlite3_stmt *st;
	int rc;

	if (!err)
		err = &local;
	st = sk_ix_stmt(ix, "PRAGMA data_version", err);
	if (!st)
		return err->code;
	rc = sqlite3_step(st);
	out->data_version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "read data_version", err);
	out->changes = (int64_t)sqlite3_total_changes64(ix->db);
	return SK_OK;
}

bool
sk_index_version_eq(const struct sk_ix_version *x,
		    const struct sk_ix_version *y)
{
	return x->data_version == y->data_version && x->changes == y->changes;
}

/* ---- building the table ------------------------------------------------- */

void
sk_ftab_free(struct sk_ftab **tp)
{
	struct sk_ftab *t = *tp;
	if (!t)
		return;
	free(t->msg_thread);
	free(t->msg_partner);
	free(t->msg_year);
	free(t->thr_first);
	free(t->thr_topic);
	free(t->msg_stamp);
	free(t->thr_stamp);
	free(t->thr_head);
	for (size_t i = 0; i < t->n_topics; i++) {
		free(t->topics[i].slug);
		free(t->topics[i].name);
	}
	for (size_t i = 0; i < t->n_partners; i++) {
		free(t->partners[i].slug);
		free(t->partners[i].name);
	}
	free(t->topics);
	free(t->partners);
	free(t->years);
	free(t);
	*tp = NULL;
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return sk_xstrdup(s ? (const char *)s : "");
}

/* A row id and its index in the table's (display-ordered) array. */
struct id_idx {
	int64_t id;
	size_t idx;
};

static int
cmp_id_idx(const void *x, const void *y)
{
	const struct id_idx *a = x, *b = y;
	return (a->id > b->id) - (a->id < b->id);
}

/* Index of id in v (sorted by id), or -1. */
static long
find_id(const struct id_idx *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].id < id)
			lo = mid + 1;
		else if (v[mid].id > id)
			hi = mid;
		else
			return (long)v[mid].idx;
	}
	return -1;
}

/* id -> index lookup of n rows whose ids are at stride bytes apart. */
static struct id_idx *
id_index(const void *rows, size_t n, size_t stride)
{
	struct id_idx *v = sk_xmalloc((n + 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i].id = *(const int64_t *)(const void *)((const char *)rows +
							    i * stride);
		v[i].idx = i;
	}
	qsort(v, n, sizeof(*v), cmp_id_idx);
	return v;
}

static int
cmp_topic_order(const void *x, const void *y)
{
	const struct ftab_topic *a = x, *b = y;
	if (a->position != b->position)
		return a->position < b->position ? -1 : 1;
	return strcmp(a->slug, b->slug);
}

static int
cmp_partner_order(const void *x, const void *y)
{
	const struct ftab_partner *a = x, *b = y;
	return strcmp(a->slug, b->slug);
}

static int
cmp_year_desc(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;
	return (a < b) - (a > b);
}

/* One scalar of a one-row statement. */
static bool
scalar(struct sk_index *ix, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = sk_ix_stmt(ix, sql, NULL);
	bool ok;
	if (!st)
		return false;
	ok = sqlite3_step(st) == SQLITE_ROW;
	*out = ok ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return ok;
}

/* Small lookup tables: topics and partners by id (sorted), years. */
static bool
load_names(struct sk_index *ix, struct sk_ftab *t)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	st = sk_ix_stmt(ix,
			"SELECT id, slug, name, position FROM topics",
			NULL);
	if (!st)
		return false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && t->n_topics < 65535) {
		struct ftab_topic *p;
		if (t->n_topics == cap)
			sk_xgrow((void **)&t->topics, &cap, t->n_topics + 1,
				 sizeof(*t->topics));
		p = &t->topics[t->n_topics++];
		p->id = sqlite3_column_int64(st, 0);
		p->slug = col_dup(st, 1);
		p->name = col_dup(st, 2);
		p->position = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return false;
	cap = 0;
	st = sk_ix_stmt(ix, "SELECT id, slug, name FROM partners", NULL);
	if (!st)
		return false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	       t->n_partners < 65535) {
		struct ftab_partner *p;
		if (t->n_partners == cap)
			sk_xgrow((void **)&t->partners, &cap,
				 t->n_partners + 1, sizeof(*t->partners));
		p = &t->partners[t->n_partners++];
		p->id = sqlite3_column_int64(st, 0);
		p->slug = col_dup(st, 1);
		p->name = col_dup(st, 2);
	}
	sqlite3_reset(st);
	/* Display order: ties of a facet's count keep it. */
	if (t->n_topics)
		qsort(t->topics, t->n_topics, sizeof(*t->topics),
		      cmp_topic_order);
	if (t->n_partners)
		qsort(t->partners, t->n_partners, sizeof(*t->partners),
		      cmp_partner_order);
	return rc == SQLITE_DONE;
}

/* Year index of a date, adding the year to t->years (unsorted yet). */
static bool
year_index(struct sk_ftab *t, size_t *cap, time_t date, uint16_t *out)
{
	struct tm tm;
	int y = gmtime_r(&date, &tm) ? tm.tm_year + 1900 : 1970;
	/* Mail comes in date runs: the last year found is the likely one. */
	if (t->last_year < t->n_years && t->years[t->last_year] == y) {
		*out = (uint16_t)t->last_year;
		return true;
	}
	for (size_t i = 0; i < t->n_years; i++)
		if (t->years[i] == y) {
			*out = (uint16_t)(t->last_year = i);
			return true;
		}
	if (t->n_years >= 65535)
		return false;
	if (t->n_years == *cap)
		sk_xgrow((void **)&t->years, cap, t->n_years + 1,
			 sizeof(*t->years));
	t->years[t->n_years] = y;
	*out = (uint16_t)(t->last_year = t->n_years++);
	return true;
}

static bool
load_messages(struct sk_index *ix, struct sk_ftab *t)
{
	int64_t max_id, ids_n;
	sqlite3_stmt *st;
	size_t ycap = 0;
	int rc;
	int *remap = NULL;
	struct id_idx *pids;

	if (!scalar(ix, "SELECT coalesce(max(id), 0) FROM messages", &max_id) ||
	    max_id < 0 || (uint64_t)max_id >= FTAB_MAX_IDS)
		return false;
	t->max_msg = (uint32_t)max_id;
	ids_n = max_id + 1;
	t->msg_thread = calloc((size_t)ids_n, sizeof(*t->msg_thread));
	t->msg_partner = calloc((size_t)ids_n, sizeof(*t->msg_partner));
	t->msg_year = calloc((size_t)ids_n, sizeof(*t->msg_year));
	t->msg_stamp = calloc((size_t)ids_n, sizeof(*t->msg_stamp));
	if (!t->msg_thread || !t->msg_partner || !t->msg_year ||
	    !t->msg_stamp)
		return false;
	/* A full scan of the covering index messages_thread(thread_id,
	 * date): the table itself holds the bodies. */
	st = sk_ix_stmt(ix, "SELECT id, thread_id, date FROM messages", NULL);
	if (!st)
		return false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		int64_t th = sqlite3_column_int64(st, 1);
		if (id < 1 || id > max_id)
			continue; /* written since max(id): next reload */
		if (th < 1 || (uint64_t)th >= FTAB_MAX_IDS ||
		    !year_index(t, &ycap, (time_t)sqlite3_column_int64(st, 2),
				&t->msg_year[id])) {
			sqlite3_reset(st);
			return false;
		}
		t->msg_thread[id] = (uint32_t)th;
		if ((uint32_t)th > t->max_thread)
			t->max_thread = (uint32_t)th;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return false;
	/* Years newest first. */
	if (t->n_years) {
		int *sorted = sk_xmalloc(t->n_years * sizeof(*sorted));
		memcpy(sorted, t->years, t->n_years * sizeof(*sorted));
		qsort(sorted, t->n_years, sizeof(*sorted), cmp_year_desc);
		remap = sk_xmalloc(t->n_years * sizeof(*remap));
		for (size_t i = 0; i < t->n_years; i++)
			for (size_t j = 0; j < t->n_years; j++)
				if (sorted[j] == t->years[i])
					remap[i] = (int)j;
		for (int64_t id = 1; id <= max_id; id++)
			if (t->msg_thread[id])
				t->msg_year[id] =
					(uint16_t)remap[t->msg_year[id]];
		free(t->years);
		t->years = sorted;
		free(remap);
	}
	st = sk_ix_stmt(ix,
			"SELECT id, partner_id FROM messages "
			"WHERE partner_id IS NOT NULL",
			NULL);
	if (!st)
		return false;
	pids = id_index(t->partners, t->n_partners, sizeof(*t->partners));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		int64_t pid = sqlite3_column_int64(st, 1);
		long k;
		if (id < 1 || id > max_id)
			continue;
		k = find_id(pids, t->n_partners, pid);
		if (k >= 0)
			t->msg_partner[id] = (uint16_t)(k + 1);
	}
	sqlite3_reset(st);
	free(pids);
	return rc == SQLITE_DONE;
}

static bool
load_thread_topics(struct sk_index *ix, struct sk_ftab *t)
{
	size_t nt = (size_t)t->max_thread + 2, n = 0, cap = 0;
	struct id_idx *topic_ids;
	sqlite3_stmt *st;
	int rc;

	t->thr_first = calloc(nt, sizeof(*t->thr_first));
	t->thr_stamp = calloc(nt, sizeof(*t->thr_stamp));
	t->thr_head = calloc(nt, sizeof(*t->thr_head));
	if (!t->thr_first || !t->thr_stamp || !t->thr_head)
		return false;
	topic_ids = id_index(t->topics, t->n_topics, sizeof(*t->topics));
	/* In (thread, topic) order: the primary key's index. */
	st = sk_ix_stmt(ix,
			"SELECT thread_id, topic_id FROM thread_topics "
			"WHERE removed = 0 ORDER BY thread_id, topic_id",
			NULL);
	if (!st) {
		free(topic_ids);
		return false;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t th = sqlite3_column_int64(st, 0);
		long k = find_id(topic_ids, t->n_topics,
				 sqlite3_column_int64(st, 1));
		/* Threads without messages are never counted. */
		if (th < 1 || th > (int64_t)t->max_thread || k < 0)
			continue;
		if (n == cap)
			sk_xgrow((void **)&t->thr_topic, &cap, n + 1,
				 sizeof(*t->thr_topic));
		t->thr_topic[n++] = (uint16_t)k;
		t->thr_first[th + 1]++; /* a count for now */
	}
	sqlite3_reset(st);
	free(topic_ids);
	if (rc != SQLITE_DONE)
		return false;
	for (size_t i = 1; i < nt; i++)
		t->thr_first[i] += t->thr_first[i - 1];
	return true;
}

/* The table of ix, reloaded when the store changed; NULL when it cannot
 * be built (then the caller counts in SQL). */
static struct sk_ftab *
ftab_get(struct sk_index *ix)
{
	struct sk_ix_version v;
	struct sk_ftab *t;
	struct sk_err err = { 0 };
	bool began, ok;

	if (sk_index_version(ix, &v, &err))
		return NULL;
	if (ix->ftab && sk_index_version_eq(&ix->ftab->ver, &v))
		return ix->ftab->broken ? NULL : ix->ftab;
	sk_ftab_free(&ix->ftab);
	t = sk_xcalloc(1, sizeof(*t));
	/* One read transaction, so the parts agree with each other (inside
	 * the caller's when one is open). */
	began = sqlite3_get_autocommit(ix->db) &&
		sqlite3_exec(ix->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	ok = load_names(ix, t) && load_messages(ix, t) &&
	     load_thread_topics(ix, t);
	if (began)
		sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
	if (!ok) {
		/* Not again until the store changes. */
		sk_log(SK_LOG_DEBUG, "facets: in-memory table not built; "
				     "counting in SQL");
		sk_ftab_free(&t);
		t = sk_xcalloc(1, sizeof(*t));
		t->broken = true;
		t->ver = v;
		ix->ftab = t;
		return NULL;
	}
	t->ver = v;
	ix->ftab = t;
	return t;
}

/* ---- counting ----------------------------------------------------------- */

struct fcount {
	size_t idx;
	int64_t count;
};

/* By count, then by the table's order (topics by position and slug,
 * partners by slug): the SQL's ORDER BY. */
static int
cmp_fcount(const void *x, const void *y)
{
	const struct fcount *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* The non-zero counts. */
static struct fcount *
nonzero(const int64_t *c, size_t n, size_t *n_out)
{
	struct fcount *v = sk_xmalloc((n + 1) * sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			v[k++] = (struct fcount){ i, c[i] };
	*n_out = k;
	return v;
}

static void
emit_topics(struct sk_arena *a, const struct sk_ftab *t, const int64_t *c,
	    size_t max, struct sk_results *out)
{
	size_t n;
	struct fcount *v = nonzero(c, t->n_topics, &n);
	qsort(v, n, sizeof(*v), cmp_fcount);
	if (n > max)
		n = max;
	out->topics = sk_arena_alloc(a, (n + 1) * sizeof(*out->topics));
	for (size_t i = 0; i < n; i++) {
		out->topics[i].value =
			sk_arena_strdup(a, t->topics[v[i].idx].slug);
		out->topics[i].label =
			sk_arena_strdup(a, t->topics[v[i].idx].name);
		out->topics[i].count = v[i].count;
	}
	out->n_topics = n;
	free(v);
}

static void
emit_partners(struct sk_arena *a, const struct sk_ftab *t, const int64_t *c,
	      size_t max, struct sk_results *out)
{
	size_t n;
	struct fcount *v = nonzero(c, t->n_partners, &n);
	qsort(v, n, sizeof(*v), cmp_fcount);
	if (n > max)
		n = max;
	out->partners = sk_arena_alloc(a, (n + 1) * sizeof(*out->partners));
	for (size_t i = 0; i < n; i++) {
		out->partners[i].value =
			sk_arena_strdup(a, t->partners[v[i].idx].slug);
		out->partners[i].label =
			sk_arena_strdup(a, t->partners[v[i].idx].name);
		out->partners[i].count = v[i].count;
	}
	out->n_partners = n;
	free(v);
}

static void
emit_years(struct sk_arena *a, const struct sk_ftab *t, const int64_t *c,
	   size_t max, struct sk_results *out)
{
	size_t k = 0;
	out->years = sk_arena_alloc(a, (max + 1) * sizeof(*out->years));
	for (size_t i = 0; i < t->n_years && k < max; i++) {
		if (!c[i])
			continue;
		out->years[k].value = sk_arena_printf(a, "%04d", t->years[i]);
		out->years[k].label = out->years[k].value;
		out->years[k].count = c[i];
		k++;
	}
	out->n_years = k;
}

/* A fresh stamp for this search (the arrays are zeroed on wrap-around). */
static uint32_t
next_gen(struct sk_ftab *t)
{
	if (++t->gen == 0) {
		memset(t->msg_stamp, 0,
		       ((size_t)t->max_msg + 1) * sizeof(*t->msg_stamp));
		memset(t->thr_stamp, 0,
		       ((size_t)t->max_thread + 2) * sizeof(*t->thr_stamp));
		t->gen = 1;
	}
	return t->gen;
}

bool
sk_index_facets_fast(struct sk_index *ix, struct sk_arena *a,
		     const int64_t *ids, size_t n, bool by_thread,
		     size_t max, struct sk_results *out)
{
	struct sk_ftab *t = ftab_get(ix);
	int64_t *tc, *pc, *yc;
	uint32_t gen;

	if (!t)
		return false;
	tc = sk_xcalloc(t->n_topics + 1, sizeof(*tc));
	pc = sk_xcalloc(t->n_partners + 1, sizeof(*pc));
	yc = sk_xcalloc(t->n_years + 1, sizeof(*yc));
	gen = next_gen(t);
	if (!by_thread) {
		for (size_t i = 0; i < n; i++) {
			int64_t id = ids[i];
			uint32_t th;
			if (id < 1 || id > (int64_t)t->max_msg ||
			    !(th = t->msg_thread[id]) ||
			    t->msg_stamp[id] == gen)
				continue;
			t->msg_stamp[id] = gen;
			for (uint32_t k = t->thr_first[th];
			     k < t->thr_first[th + 1]; k++)
				tc[t->thr_topic[k]]++;
			if (t->msg_partner[id])
				pc[t->msg_partner[id] - 1]++;
			yc[t->msg_year[id]]++;
		}
	} else {
		/* Distinct threads; each thread's matches chained through
		 * next[], so that a partner or year counts a thread once. */
		int32_t *next = sk_xmalloc((n + 1) * sizeof(*next));
		uint32_t *threads = sk_xmalloc((n + 1) * sizeof(*threads));
		uint32_t *pseen = sk_xcalloc(t->n_partners + 1, sizeof(*pseen));
		uint32_t *yseen = sk_xcalloc(t->n_years + 1, sizeof(*yseen));
		size_t nt = 0;

		for (size_t i = 0; i < n; i++) {
			int64_t id = ids[i];
			uint32_t th;
			next[i] = -1;
			if (id < 1 || id > (int64_t)t->max_msg ||
			    !(th = t->msg_thread[id]) ||
			    t->msg_stamp[id] == gen)
				continue;
			t->msg_stamp[id] = gen;
			if (t->thr_stamp[th] != gen) {
				t->thr_stamp[th] = gen;
				t->thr_head[th] = -1;
				threads[nt++] = th;
			}
			next[i] = t->thr_head[th];
			t->thr_head[th] = (int32_t)i;
		}
		for (size_t j = 0; j < nt; j++) {
			uint32_t th = threads[j], mark = (uint32_t)j + 1;
			for (uint32_t k = t->thr_first[th];
			     k < t->thr_first[th + 1]; k++)
				tc[t->thr_topic[k]]++;
			for (int32_t i = t->thr_head[th]; i >= 0; i = next[i]) {
				int64_t id = ids[i];
				uint16_t p = t->msg_partner[id];
				uint16_t y = t->msg_year[id];
				if (p && pseen[p - 1] != mark) {
					pseen[p - 1] = mark;
					pc[p - 1]++;
				}
				if (yseen[y] != mark) {
					yseen[y] = mark;
					yc[y]++;
				}
			}
		}
		free(next);
		free(threads);
		free(pseen);
		free(yseen);
	}
	emit_topics(a, t, tc, max, out);
	emit_partners(a, t, pc, max, out);
	emit_years(a, t, yc, max, out);
	free(tc);
	free(pc);
	free(yc);
	return true;
}

bool
sk_index_ftab_ready(struct sk_index *ix)
{
	return ftab_get(ix) != NULL;
}

int64_t
sk_index_count_threads(struct sk_index *ix, const int64_t *ids, size_t n)
{
	struct sk_ftab *t = ftab_get(ix);
	uint32_t gen;
	int64_t count = 0;

	if (!t)
		return -1;
	gen = next_gen(t);
	for (size_t i = 0; i < n; i++) {
		uint32_t th;
		if (ids[i] < 1 || ids[i] > (int64_t)t->max_msg ||
		    !(th = t->msg_thread[ids[i]]))
			return -1;
		if (t->thr_stamp[th] != gen) {
			t->thr_stamp[th] = gen;
			count++;
		}
	}
	return count;
}

/* ---- sk_index_topics' rows ----------------------------------------------- */

/* Thread counts kept per handle: topic pages, partner pages, the start
 * page's sections. */
#define LIST_COUNTS 64

struct sk_list_cache {
	struct {
		bool valid;
		struct sk_ix_version ver;
		struct sk_topic_row *rows;
		size_t n;
	} kind[2]; /* [coordinator] */
	struct {
		bool valid;
		struct sk_ix_version ver;
		struct sk_quarter_row *rows;
		size_t n;
	} quarters[2];
	struct {
		bool valid, coordinator;
		struct sk_ix_version ver;
		int64_t topic, partner, value;
	} counts[LIST_COUNTS];
	size_t next_count; /* the slot to reuse next (round robin) */
};

static void
topic_rows_free(struct sk_topic_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)rows[i].slug);
		free((char *)rows[i].name);
		free((char *)rows[i].description);
		free((char *)rows[i].parent_slug);
	}
	free(rows);
}

bool
sk_index_topics_cached(struct sk_index *ix, struct sk_arena *a,
		       bool coordinator, struct sk_topic_row **rows_out,
		       size_t *n_out, struct sk_ix_version *ver)
{
	struct sk_list_cache *c = ix->lists;
	struct sk_topic_row *v;

	if (sk_index_version(ix, ver, NULL)) {
		memset(ver, 0, sizeof(*ver));
		return false;
	}
	if (!c || !c->kind[coordinator].valid ||
	    !sk_index_version_eq(&c->kind[coordinator].ver, ver))
		return false;
	*n_out = c->kind[coordinator].n;
	v = sk_arena_alloc(a, (*n_out + 1) * sizeof(*v));
	for (size_t i = 0; i < *n_out; i++) {
		const struct sk_topic_row *r = &c->kind[coordinator].rows[i];
		v[i] = *r;
		v[i].slug = sk_arena_strdup(a, r->slug);
		v[i].name = sk_arena_strdup(a, r->name);
		v[i].description = sk_arena_strdup(a, r->description);
		v[i].parent_slug =
			r->parent_slug ? sk_arena_strdup(a, r->parent_slug)
				       : NULL;
	}
	*rows_out = v;
	return true;
}

void
sk_index_topics_keep(struct sk_index *ix, bool coordinator,
		     const struct sk_topic_row *rows, size_t n,
		     const struct sk_ix_version *ver)
{
	struct sk_list_cache *c = ix->lists;
	struct sk_topic_row *v;

	if (!ver->data_version && !ver->changes)
		return; /* no key was read */
	if (!c)
		c = ix->lists = sk_xcalloc(1, sizeof(*c));
	topic_rows_free(c->kind[coordinator].rows, c->kind[coordinator].n);
	v = sk_xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i] = rows[i];
		v[i].slug = sk_xstrdup(rows[i].slug ? rows[i].slug : "");
		v[i].name = sk_xstrdup(rows[i].name ? rows[i].name : "");
		v[i].description = sk_xstrdup(
			rows[i].description ? rows[i].description : "");
		v[i].parent_slug = rows[i].parent_slug
					   ? sk_xstrdup(rows[i].parent_slug)
					   : NULL;
	}
	c->kind[coordinator].rows = v;
	c->kind[coordinator].n = n;
	c->kind[coordinator].ver = *ver;
	c->kind[coordinator].valid = true;
}

static void
quarter_rows_free(struct sk_quarter_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)rows[i].quarter);
	free(rows);
}

bool
sk_index_quarters_cached(struct sk_index *ix, struct sk_arena *a,
			 bool coordinator, struct sk_quarter_row **rows_out,
			 size_t *n_out, struct sk_ix_version *ver)
{
	struct sk_list_cache *c = ix->lists;
	struct sk_quarter_row *v;

	if (sk_index_version(ix, ver, NULL)) {
		memset(ver, 0, sizeof(*ver));
		return false;
	}
	if (!c || !c->quarters[coordinator].valid ||
	    !sk_index_version_eq(&c->quarters[coordinator].ver, ver))
		return false;
	*n_out = c->quarters[coordinator].n;
	v = sk_arena_alloc(a, (*n_out + 1) * sizeof(*v));
	for (size_t i = 0; i < *n_out; i++) {
		v[i] = c->quarters[coordinator].rows[i];
		v[i].quarter = sk_arena_strdup(a, v[i].quarter);
	}
	*rows_out = *n_out ? v : NULL;
	return true;
}

void
sk_index_quarters_keep(struct sk_index *ix, bool coordinator,
		       const struct sk_quarter_row *rows, size_t n,
		       const struct sk_ix_version *ver)
{
	struct sk_list_cache *c = ix->lists;
	struct sk_quarter_row *v;

	if (!ver->data_version && !ver->changes)
		return;
	if (!c)
		c = ix->lists = sk_xcalloc(1, sizeof(*c));
	quarter_rows_free(c->quarters[coordinator].rows,
			  c->quarters[coordinator].n);
	v = sk_xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i] = rows[i];
		v[i].quarter = sk_xstrdup(rows[i].quarter ? rows[i].quarter
							  : "");
	}
	c->quarters[coordinator].rows = v;
	c->quarters[coordinator].n = n;
	c->quarters[coordinator].ver = *ver;
	c->quarters[coordinator].valid = true;
}

bool
sk_index_count_cached(struct sk_index *ix, int64_t topic, int64_t partner,
		      bool coordinator, int64_t *out,
		      struct sk_ix_version *ver)
{
	struct sk_list_cache *c = ix->lists;

	if (sk_index_version(ix, ver, NULL)) {
		memset(ver, 0, sizeof(*ver));
		return false;
	}
	if (!c)
		return false;
	for (size_t i = 0; i < LIST_COUNTS; i++)
		if (c->counts[i].valid && c->counts[i].topic == topic &&
		    c->counts[i].partner == partner &&
		    c->counts[i].coordinator == coordinator &&
		    sk_index_version_eq(&c->counts[i].ver, ver)) {
			*out = c->counts[i].value;
			return true;
		}
	return false;
}

void
sk_index_count_keep(struct sk_index *ix, int64_t topic, int64_t partner,
		    bool coordinator, int64_t value,
		    const struct sk_ix_version *ver)
{
	struct sk_list_cache *c = ix->lists;
	size_t slot;

	if (!ver->data_version && !ver->changes)
		return;
	if (!c)
		c = ix->lists = sk_xcalloc(1, sizeof(*c));
	/* A stale entry for the same key first, else round robin. */
	for (slot = 0; slot < LIST_COUNTS; slot++)
		if (c->counts[slot].valid && c->counts[slot].topic == topic &&
		    c->counts[slot].partner == partner &&
		    c->counts[slot].coordinator == coordinator)
			break;
	if (slot == LIST_COUNTS) {
		slot = c->next_count;
		c->next_count = (c->next_count + 1) % LIST_COUNTS;
	}
	c->counts[slot].valid = true;
	c->counts[slot].coordinator = coordinator;
	c->counts[slot].topic = topic;
	c->counts[slot].partner = partner;
	c->counts[slot].value = value;
	c->counts[slot].ver = *ver;
}

void
sk_index_caches_free(struct sk_index *ix)
{
	sk_ftab_free(&ix->ftab);
	if (ix->lists) {
		for (int k = 0; k < 2; k++) {
			topic_rows_free(ix->lists->kind[k].rows,
					ix->lists->kind[k].n);
			quarter_rows_free(ix->lists->quarters[k].rows,
					  ix->lists->quarters[k].n);
		}
		free(ix->lists);
		ix->lists = NULL;
	}
}
