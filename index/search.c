/* index/search.c: sk_search() — one query language, two backends.
 *
 * The query is parsed once (query.c). Xapian gets the tree (xap.cc
 * compiles it); FTS5 gets one SQL statement compiled here. Both compilers
 * apply the same rules, so both backends return the same set of messages
 * for every query (ranking may differ):
 *
 * - a WORD is the OR of the terms sk_analyze(QUERY) gives for it; a word
 *   that analyzes to several positions is a phrase;
 * - a word without terms ("---") imposes no condition, nor does a stop
 *   word outside a phrase unless the whole query is stop words; a node
 *   left without conditions disappears from its parent, and a query left
 *   with nothing at all matches nothing;
 * - topic:x is the thread's topic x (thread_topics, not removed): that is
 *   what the Xapian document carries as K<x> (message.c);
 * - held mail (flags & SK_MSG_HELD, not approved) only for coordinators.
 *
 * Everything after the id list is shared: rows from the store, snippets,
 * facets over the whole match set, and "did you mean". */
#include "index/private.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 1000
#define SNIPPET_CHARS 200
#define SNIPPET_SCAN_BYTES (64 * 1024)
#define SNIPPET_FIRST_BYTES (8 * 1024)
#define SNIPPET_MAX_WINDOWS 256 /* candidate windows scored per message */
#define FACET_MAX 50

/* "Few results": below this total a suggestion is looked for. */
#define SUGGEST_BELOW 3

/* ---- analysis of the tree's text leaves -------------------------------- */

/* What the analyzer says about one WORD/PHRASE leaf. */
struct leaf_info {
	const struct sk_qnode *node;
	uint32_t positions;
	bool stop;	     /* one position whose surface term is a stop word */
	const char **terms;  /* all query terms, every position */
	bool *term_stop;     /* per term: its position's surface is a stop word */
	size_t n_terms;
};

struct query_info {
	struct sk_arena *a;
	struct leaf_info leaves[SK_QUERY_MAX_NODES];
	size_t n_leaves;
	bool drop_stops;
};

struct collect {
	struct sk_arena *a;
	struct leaf_info *li;
	size_t cap;
	uint32_t last_pos;
	bool pos_stop; /* the current position's surface is a stop word */
	bool any;
};

static int
collect_term(void *vctx, const char *term, size_t len, uint32_t pos,
	     size_t start, size_t end, bool colocated)
{
	struct collect *c = vctx;
	struct leaf_info *li = c->li;
	(void)start;
	(void)end;
	if (!len)
		return 0;
	if (!c->any || pos != c->last_pos) {
		/* A new position; its first term is the surface form. */
		li->positions++;
		c->pos_stop = !colocated && sk_analyze_is_stop(term, len);
		if (li->positions == 1)
			li->stop = c->pos_stop;
	}
	c->any = true;
	c->last_pos = pos;
	for (size_t i = 0; i < li->n_terms; i++)
		if (strlen(li->terms[i]) == len &&
		    !memcmp(li->terms[i], term, len))
			return 0;
	if (li->n_terms == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		const char **t = sk_arena_alloc(c->a, cap * sizeof(*t));
		bool *s = sk_arena_alloc(c->a, cap * sizeof(*s));
		if (li->n_terms) {
			memcpy(t, li->terms, li->n_terms * sizeof(*t));
			memcpy(s, li->term_stop, li->n_terms * sizeof(*s));
		}
		li->terms = t;
		li->term_stop = s;
		c->cap = cap;
	}
	li->term_stop[li->n_terms] = c->pos_stop;
	li->terms[li->n_terms++] = sk_arena_strndup(c->a, term, len);
	return 0;
}

static void
analyze_leaves(struct query_info *qi, const struct sk_qnode *n)
{
	switch (n->kind) {
	case SK_Q_AND:
	case SK_Q_OR:
	case SK_Q_NOT:
		for (size_t i = 0; i < n->n_kids; i++)
			analyze_leaves(qi, n->kids[i]);
		return;
	case SK_Q_WORD:
	case SK_Q_PHRASE: {
		struct leaf_info *li = &qi->leaves[qi->n_leaves++];
		struct collect c = { qi->a, li, 0, 0, false, false };
		memset(li, 0, sizeof(*li));
		li->node = n;
		sk_analyze(sk_analyzer_thread(), n->text, strlen(n->text),
			   SK_ANALYZE_QUERY, collect_term, &c);
		if (li->positions != 1)
			li->stop = false;
		return;
	}
	default:
		return;
	}
}

static const struct leaf_info *
leaf_of(const struct query_info *qi, const struct sk_qnode *n)
{
	for (size_t i = 0; i < qi->n_leaves; i++)
		if (qi->leaves[i].node == n)
			return &qi->leaves[i];
	SK_BUG("leaf not analyzed");
}

/* Stop words are kept when every leaf is a stop word or has no terms (and
 * one at least is a stop word) — the rule xap.cc applies too. */
static void
analyze_query(struct query_info *qi, struct sk_arena *a,
	      const struct sk_qnode *root)
{
	bool other = false, stop = false;
	memset(qi, 0, sizeof(*qi));
	qi->a = a;
	analyze_leaves(qi, root);
	/* Any non-text leaf counts as "other". */
	struct {
		const struct sk_qnode *v[SK_QUERY_MAX_NODES];
		size_t n;
	} stack;
	stack.n = 0;
	stack.v[stack.n++] = root;
	while (stack.n) {
		const struct sk_qnode *n = stack.v[--stack.n];
		switch (n->kind) {
		case SK_Q_AND:
		case SK_Q_OR:
		case SK_Q_NOT:
			for (size_t i = 0; i < n->n_kids; i++)
				stack.v[stack.n++] = n->kids[i];
			break;
		case SK_Q_WORD: {
			const struct leaf_info *li = leaf_of(qi, n);
			if (li->stop)
				stop = true;
			else if (li->n_terms)
				other = true;
			break;
		}
		default:
			other = true;
		}
	}
	qi->drop_stops = other || !stop;
}

/* Does this text leaf impose no condition? */
static bool
leaf_absent(const struct query_info *qi, const struct sk_qnode *n)
{
	const struct leaf_info *li = leaf_of(qi, n);
	if (!li->n_terms)
		return true;
	return n->kind == SK_Q_WORD && li->stop && qi->drop_stops;
}

/* ---- the FTS5 compiler --------------------------------------------------- */

struct val {
	bool is_text;
	const char *s;
	int64_t i;
};

struct vals {
	struct val *v;
	size_t n;
};

enum cq_kind { CQ_ABSENT, CQ_POS, CQ_NEG };

/* A compiled node. For CQ_NEG the payload describes what the parent
 * subtracts. Either fts (a pure full-text expression) or sql (a condition
 * over messages m, with ? placeholders bound from vals, in order). drive
 * is set when sql is "m.id IN (MATCH drive) AND rest": the root then
 * joins on drive and ranks by it. */
struct cq {
	enum cq_kind kind;
	const char *fts;
	const char *sql;
	struct vals vals;
	const char *drive, *rest;
	struct vals rest_vals;
};

struct fts_compiler {
	struct sk_arena *a;
	const struct query_info *qi;
};

static struct vals
vals_cat(struct sk_arena *a, struct vals x, struct vals y)
{
	struct vals r = { NULL, x.n + y.n };
	if (!r.n)
		return r;
	r.v = sk_arena_alloc(a, r.n * sizeof(*r.v));
	if (x.n)
		memcpy(r.v, x.v, x.n * sizeof(*r.v));
	if (y.n)
		memcpy(r.v + x.n, y.v, y.n * sizeof(*r.v));
	return r;
}

static struct vals
vals_text(struct sk_arena *a, const char *s)
{
	struct vals r = { sk_arena_alloc(a, sizeof(struct val)), 1 };
	r.v[0].is_text = true;
	r.v[0].s = s;
	return r;
}

static struct vals
vals_int(struct sk_arena *a, int64_t i)
{
	struct vals r = { sk_arena_alloc(a, sizeof(struct val)), 1 };
	r.v[0].i = i;
	return r;
}

#define FTS_IN "m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"

/* The node as an SQL condition (its positive form). */
static void
as_sql(struct fts_compiler *fc, const struct cq *c, const char **sql,
       struct vals *v)
{
	if (c->fts) {
		*sql = FTS_IN;
		*v = vals_text(fc->a, c->fts);
	} else {
		*sql = c->sql;
		*v = c->vals;
	}
}

/* One word or phrase as an FTS5 string: "..." with quotes doubled, after
 * a column filter. The 'skarbnica' tokenizer in query mode expands the
 * text exactly as sk_analyze(QUERY) does for Xapian. */
static const char *
fts_string(struct sk_arena *a, const struct sk_qnode *n)
{
	struct sk_buf b;
	const char *s;
	char *out;
	sk_buf_init(&b, 64 * 1024);
	if (n->field == SK_QF_SUBJECT)
		sk_buf_adds(&b, "subject : ");
	else if (n->field == SK_QF_FROM)
		sk_buf_adds(&b, "sender : ");
	sk_buf_addc(&b, '"');
	for (s = n->text; *s; s++) {
		if (*s == '"')
			sk_buf_addc(&b, '"');
		sk_buf_addc(&b, *s);
	}
	sk_buf_addc(&b, '"');
	out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return out;
}

/* "((a) OP (b) OP (c))": always safe to embed (SQL and FTS5 alike). */
static const char *
join_exprs(struct sk_arena *a, const char **v, size_t n, const char *op)
{
	struct sk_buf b;
	char *out;
	if (n == 1)
		return v[0];
	sk_buf_init(&b, 1u << 20);
	sk_buf_addc(&b, '(');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sk_buf_addf(&b, " %s ", op);
		sk_buf_addf(&b, "(%s)", v[i]);
	}
	sk_buf_addc(&b, ')');
	out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return out;
}

static struct cq compile_fts(struct fts_compiler *fc, const struct sk_qnode *n);

static struct cq
sql_node(const char *sql, struct vals v)
{
	struct cq c = { 0 };
	c.kind = CQ_POS;
	c.sql = sql;
	c.vals = v;
	return c;
}

static struct cq
compile_and(struct fts_compiler *fc, const struct sk_qnode *n)
{
	struct sk_arena *a = fc->a;
	const char **pf = sk_arena_alloc(a, n->n_kids * sizeof(*pf));
	const char **nf = sk_arena_alloc(a, n->n_kids * sizeof(*nf));
	const char **ps = sk_arena_alloc(a, (n->n_kids + 1) * sizeof(*ps));
	struct vals psv = { 0 };
	size_t n_pf = 0, n_nf = 0, n_ps = 0;
	struct cq c = { 0 };
	const char *merged = NULL;

	for (size_t i = 0; i < n->n_kids; i++) {
		struct cq k = compile_fts(fc, n->kids[i]);
		const char *sql;
		struct vals v;
		if (k.kind == CQ_ABSENT)
			continue;
		if (k.fts) {
			if (k.kind == CQ_POS)
				pf[n_pf++] = k.fts;
			else
				nf[n_nf++] = k.fts;
			continue;
		}
		as_sql(fc, &k, &sql, &v);
		ps[n_ps++] = k.kind == CQ_POS
				     ? sql
				     : sk_arena_printf(a, "NOT (%s)", sql);
		psv = vals_cat(a, psv, v);
	}
	if (!n_pf && !n_nf && !n_ps)
		return c; /* absent */
	if (n_pf) {
		merged = join_exprs(a, pf, n_pf, "AND");
		if (n_nf)
			merged = sk_arena_printf(a, "(%s) NOT (%s)", merged,
						 join_exprs(a, nf, n_nf, "OR"));
		if (!n_ps) {
			c.kind = CQ_POS;
			c.fts = merged;
			return c;
		}
		c.kind = CQ_POS;
		c.drive = merged;
		c.rest = join_exprs(a, ps, n_ps, "AND");
		c.rest_vals = psv;
		c.sql = sk_arena_printf(a, "(" FTS_IN " AND (%s))", c.rest);
		c.vals = vals_cat(a, vals_text(a, merged), psv);
		return c;
	}
	if (!n_ps) {
		/* Only exclusions: the parent subtracts their union. */
		c.kind = CQ_NEG;
		c.fts = join_exprs(a, nf, n_nf, "OR");
		return c;
	}
	if (n_nf) {
		ps[n_ps++] = "NOT (" FTS_IN ")";
		psv = vals_cat(a, psv,
			       vals_text(a, join_exprs(a, nf, n_nf, "OR")));
	}
	return sql_node(join_exprs(a, ps, n_ps, "AND"), psv);
}

static struct cq
compile_or(struct fts_compiler *fc, const struct sk_qnode *n)
{
	struct sk_arena *a = fc->a;
	const char **pf = sk_arena_alloc(a, n->n_kids * sizeof(*pf));
	const char **ps = sk_arena_alloc(a, (n->n_kids + 1) * sizeof(*ps));
	struct vals psv = { 0 };
	size_t n_pf = 0, n_ps = 0;
	struct cq c = { 0 };

	for (size_t i = 0; i < n->n_kids; i++) {
		struct cq k = compile_fts(fc, n->kids[i]);
		const char *sql;
		struct vals v;
		if (k.kind == CQ_ABSENT)
			continue;
		if (k.fts && k.kind == CQ_POS) {
			pf[n_pf++] = k.fts;
			continue;
		}
		as_sql(fc, &k, &sql, &v);
		ps[n_ps++] = k.kind == CQ_POS
				     ? sql
				     : sk_arena_printf(a, "NOT (%s)", sql);
		psv = vals_cat(a, psv, v);
	}
	if (!n_pf && !n_ps)
		return c;
	if (!n_ps) {
		c.kind = CQ_POS;
		c.fts = join_exprs(a, pf, n_pf, "OR");
		return c;
	}
	if (n_pf) {
		ps[n_ps++] = FTS_IN;
		psv = vals_cat(a, psv,
			       vals_text(a, join_exprs(a, pf, n_pf, "OR")));
	}
	return sql_node(join_exprs(a, ps, n_ps, "OR"), psv);
}

static struct cq
compile_fts(struct fts_compiler *fc, const struct sk_qnode *n)
{
	struct sk_arena *a = fc->a;
	struct cq c = { 0 };

	switch (n->kind) {
	case SK_Q_WORD:
	case SK_Q_PHRASE:
		if (leaf_absent(fc->qi, n))
			return c;
		c.kind = CQ_POS;
		c.fts = fts_string(a, n);
		return c;
	case SK_Q_NOT:
		c = compile_fts(fc, n->kids[0]);
		if (c.kind == CQ_POS)
			c.kind = CQ_NEG;
		else if (c.kind == CQ_NEG)
			c.kind = CQ_POS;
		c.drive = NULL; /* the parent sees only sql/fts */
		return c;
	case SK_Q_AND:
		return compile_and(fc, n);
	case SK_Q_OR:
		return compile_or(fc, n);
	case SK_Q_TOPIC:
		return sql_node("EXISTS (SELECT 1 FROM thread_topics tt JOIN "
				"topics t ON t.id = tt.topic_id WHERE "
				"tt.thread_id = m.thread_id AND tt.removed = 0 "
				"AND t.slug = ?)",
				vals_text(a, n->text));
	case SK_Q_PARTNER:
		/* EXISTS, never "= (SELECT ...)": NULL would poison NOT. */
		return sql_node("EXISTS (SELECT 1 FROM partners p WHERE "
				"p.id = m.partner_id AND p.slug = ?)",
				vals_text(a, n->text));
	case SK_Q_HAS_ATTACHMENT:
		return sql_node("EXISTS (SELECT 1 FROM attachments x WHERE "
				"x.message_id = m.id)",
				(struct vals){ 0 });
	case SK_Q_DATE:
		if (n->date_from && n->date_to)
			return sql_node("(m.date >= ? AND m.date < ?)",
					vals_cat(a, vals_int(a, n->date_from),
						 vals_int(a, n->date_to)));
		if (n->date_from)
			return sql_node("m.date >= ?",
					vals_int(a, n->date_from));
		if (n->date_to)
			return sql_node("m.date < ?", vals_int(a, n->date_to));
		return sql_node("1", (struct vals){ 0 });
	case SK_Q_ALL:
		return sql_node("1", (struct vals){ 0 });
	}
	return c;
}

/* Positive text leaves (not under NOT), for ranking and highlighting. */
static void
positive_leaves(const struct query_info *qi, const struct sk_qnode *n,
		bool negated, const struct leaf_info **out, size_t *n_out)
{
	switch (n->kind) {
	case SK_Q_AND:
	case SK_Q_OR:
		for (size_t i = 0; i < n->n_kids; i++)
			positive_leaves(qi, n->kids[i], negated, out, n_out);
		return;
	case SK_Q_NOT:
		positive_leaves(qi, n->kids[0], !negated, out, n_out);
		return;
	case SK_Q_WORD:
	case SK_Q_PHRASE:
		if (!negated && !leaf_absent(qi, n))
			out[(*n_out)++] = leaf_of(qi, n);
		return;
	default:
		return;
	}
}

/* ---- running a backend: ordered (id, thread, score) rows ----------------- */

struct row {
	int64_t id, thread;
	double score;
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static void
rows_add(struct rows *r, int64_t id, int64_t thread, double score)
{
	if (r->n == r->cap)
		sk_xgrow((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v));
	r->v[r->n].id = id;
	r->v[r->n].thread = thread;
	r->v[r->n].score = score;
	r->n++;
}

static enum sk_status
bind_vals(struct sk_index *ix, sqlite3_stmt *st, const struct vals *v,
	  int *idx, struct sk_err *err)
{
	for (size_t i = 0; i < v->n; i++) {
		int rc = v->v[i].is_text
				 ? sqlite3_bind_text(st, ++*idx, v->v[i].s, -1,
						     SQLITE_STATIC)
				 : sqlite3_bind_int64(st, ++*idx, v->v[i].i);
		if (rc != SQLITE_OK)
			return sk_ix_error(ix, rc, "bind search", err);
	}
	return SK_OK;
}

/* An FTS5 syntax error means the query text (CONVENTIONS.md: SK_EINVAL);
 * our quoting should make it impossible, so the log gets the details. */
static enum sk_status
fts_error(struct sk_index *ix, int rc, struct sk_err *err)
{
	const char *m = sqlite3_errmsg(ix->db);
	if ((rc & 0xff) == SQLITE_ERROR && m && strstr(m, "fts5")) {
		sk_log(SK_LOG_DEBUG, "fts5 rejected a compiled query: %s", m);
		return sk_err_set(err, SK_EINVAL,
				  "Tego zapytania nie da się wykonać w "
				  "indeksie pełnotekstowym.");
	}
	return sk_ix_error(ix, rc, "search full-text index", err);
}

static enum sk_status
run_fts(struct sk_index *ix, struct sk_arena *a, const struct query_info *qi,
	const struct sk_qnode *root, const struct sk_search_opts *o,
	struct rows *out, struct sk_err *err)
{
	struct fts_compiler fc = { a, qi };
	struct cq c = compile_fts(&fc, root);
	const struct leaf_info *pos[SK_QUERY_MAX_NODES];
	size_t n_pos = 0;
	struct sk_buf sql;
	struct vals pre = { 0 }, post = { 0 };
	const char *visible = o->viewer.coordinator
				      ? ""
				      : " AND (m.flags & 8 = 0 OR "
					"m.approved_at IS NOT NULL)";
	const char *order;
	sqlite3_stmt *st = NULL;
	enum sk_status rc = SK_OK;
	int src, idx = 0;
	bool ranked = true;

	if (c.kind == CQ_ABSENT)
		return SK_OK; /* nothing to search for */
	order = o->sort_by_date ? "m.date DESC, rank, m.id DESC"
				: "rank, m.date DESC, m.id DESC";
	sk_buf_init(&sql, 4u << 20);
	if (c.kind == CQ_POS && (c.fts || c.drive)) {
		/* The text drives: join its matches, rank by bm25. */
		sk_buf_adds(&sql,
			    "SELECT m.id, m.thread_id, f.rank AS rank FROM "
			    "(SELECT rowid AS id, bm25(messages_fts, 3.0, 1.0, "
			    "1.0, 0.5) AS rank FROM messages_fts WHERE "
			    "messages_fts MATCH ?) f JOIN messages m ON "
			    "m.id = f.id WHERE ");
		pre = vals_text(a, c.fts ? c.fts : c.drive);
		if (c.fts) {
			sk_buf_adds(&sql, "1");
		} else {
			sk_buf_addf(&sql, "(%s)", c.rest);
			post = c.rest_vals;
		}
	} else {
		const char *cond;
		struct vals cv;
		positive_leaves(qi, root, false, pos, &n_pos);
		as_sql(&fc, &c, &cond, &cv);
		if (c.kind == CQ_NEG)
			cond = sk_arena_printf(a, "NOT (%s)", cond);
		if (n_pos) {
			/* Rank by the positive words wherever they are. */
			const char **f = sk_arena_alloc(a, n_pos * sizeof(*f));
			for (size_t i = 0; i < n_pos; i++)
				f[i] = fts_string(a, pos[i]->node);
			sk_buf_adds(&sql,
				    "SELECT m.id, m.thread_id, "
				    "coalesce(f.rank, 0) AS rank FROM messages m "
				    "LEFT JOIN (SELECT rowid AS id, "
				    "bm25(messages_fts, 3.0, 1.0, 1.0, 0.5) AS "
				    "rank FROM messages_fts WHERE messages_fts "
				    "MATCH ?) f ON f.id = m.id WHERE ");
			pre = vals_text(a, join_exprs(a, f, n_pos, "OR"));
		} else {
			ranked = false;
			sk_buf_adds(&sql, "SELECT m.id, m.thread_id, 0 AS rank "
					  "FROM messages m WHERE ");
		}
		sk_buf_addf(&sql, "(%s)", cond);
		post = cv;
	}
	sk_buf_adds(&sql, visible);
	sk_buf_addf(&sql, " ORDER BY %s",
		    ranked ? order : "m.date DESC, m.id DESC");
	if (sk_buf_status(&sql)) {
		sk_buf_release(&sql);
		return sk_err_set(err, SK_EINVAL,
				  "Zapytanie jest zbyt złożone.");
	}
	if (sk_log_enabled(SK_LOG_DEBUG))
		sk_log(SK_LOG_DEBUG, "search sql: %s", sql.p);
	src = sqlite3_prepare_v2(ix->db, sql.p, (int)sql.len, &st, NULL);
	sk_buf_release(&sql);
	if (src != SQLITE_OK)
		return fts_error(ix, src, err);
	rc = bind_vals(ix, st, &pre, &idx, err);
	if (!rc)
		rc = bind_vals(ix, st, &post, &idx, err);
	while (!rc && (src = sqlite3_step(st)) == SQLITE_ROW)
		rows_add(out, sqlite3_column_int64(st, 0),
			 sqlite3_column_int64(st, 1),
			 -sqlite3_column_double(st, 2));
	if (!rc && src != SQLITE_DONE)
		rc = fts_error(ix, src, err);
	sqlite3_finalize(st);
	return rc;
}

/* ---- small helpers -------------------------------------------------------- */

static const char *
col_str(struct sk_arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return sk_arena_strdup(a, s ? (const char *)s : "");
}

/* A JSON array of ids, for json_each(). Caller frees. */
static char *
ids_json(const int64_t *ids, size_t n)
{
	/* By hand: printf per id was 60 instructions a digit (facets of a
	 * 10,000-message result list 10,000 ids). */
	char *out = sk_xmalloc(n * 21 + 3), *p = out;
	*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		char d[24];
		size_t k = 0;
		uint64_t v;
		if (i)
			*p++ = ',';
		if (ids[i] < 0)
			*p++ = '-';
		v = ids[i] < 0 ? (uint64_t)0 - (uint64_t)ids[i]
			       : (uint64_t)ids[i];
		do {
			d[k++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (k)
			*p++ = d[--k];
	}
	*p++ = ']';
	*p = '\0';
	return out;
}

/* ---- snippets -------------------------------------------------------------- */

/* The query's positive terms, sorted for bsearch. */
struct termset {
	const char **v;
	size_t *len; /* strlen of each: the word scan compares millions */
	size_t n;
	bool first[256]; /* first bytes of the terms */
};

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void
termset_build(struct sk_arena *a, const struct query_info *qi,
	      const struct sk_qnode *root, struct termset *ts)
{
	const struct leaf_info *pos[SK_QUERY_MAX_NODES];
	size_t n_pos = 0, n = 0, k = 0;

	positive_leaves(qi, root, false, pos, &n_pos);
	for (size_t i = 0; i < n_pos; i++)
		n += pos[i]->n_terms;
	ts->v = sk_arena_alloc(a, (n + 1) * sizeof(*ts->v));
	for (size_t i = 0; i < n_pos; i++)
		for (size_t j = 0; j < pos[i]->n_terms; j++)
			/* Stop words inside phrases are not highlighted
			 * alone, unless the query is all stop words. */
			if (!pos[i]->term_stop[j] || !qi->drop_stops)
				ts->v[k++] = pos[i]->terms[j];
	qsort(ts->v, k, sizeof(*ts->v), cmp_str);
	n = 0;
	for (size_t i = 0; i < k; i++)
		if (!n || strcmp(ts->v[n - 1], ts->v[i]))
			ts->v[n++] = ts->v[i];
	ts->n = n;
	ts->len = sk_arena_alloc(a, (n + 1) * sizeof(*ts->len));
	memset(ts->first, 0, sizeof(ts->first));
	for (size_t i = 0; i < n; i++) {
		ts->len[i] = strlen(ts->v[i]);
		ts->first[(unsigned char)ts->v[i][0]] = true;
	}
}

static bool
termset_has(const struct termset *ts, const char *t, size_t len)
{
	size_t lo = 0, hi = ts->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(ts->v[mid], t, len);
		if (!c && ts->v[mid][len])
			c = 1;
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* A cheap word scan for choosing the window: words are runs of letters
 * and digits; a word is a candidate when its folded first bytes equal a
 * query term's. The exact check (sk_analyze on the window) follows. */
struct sword {
	size_t start, end;
	/* Characters (sk_utf8_count) of the text before start and before
	 * end, so that a window's length is a subtraction. */
	size_t cstart, cend;
	bool candidate, quoted;
};

/* sk_utf8_next with ASCII inline: most bytes of most mail. */
static inline size_t
utf8_step(const char *s, size_t n, uint32_t *c)
{
	if ((unsigned char)*s < 0x80) {
		*c = (unsigned char)*s;
		return 1;
	}
	return sk_utf8_next(s, n, c);
}

static inline bool
cheap_wordch(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9');
	if (c < 0xc0 || c == 0xd7 || c == 0xf7)
		return false;
	if ((c >= 0x2000 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) ||
	    c == 0xfeff || c == 0xfffd)
		return false;
	return true;
}

/* Fold the first bytes of a word: ASCII lowercase and Polish letters
 * without marks, enough to compare with a term's beginning. */
static size_t
cheap_fold(const char *s, size_t n, char *out, size_t max)
{
	static const struct {
		uint32_t cp;
		char c;
	} pl[] = {
		{ 0x105, 'a' }, { 0x104, 'a' }, { 0x107, 'c' }, { 0x106, 'c' },
		{ 0x119, 'e' }, { 0x118, 'e' }, { 0x142, 'l' }, { 0x141, 'l' },
		{ 0x144, 'n' }, { 0x143, 'n' }, { 0xf3, 'o' },	{ 0xd3, 'o' },
		{ 0x15b, 's' }, { 0x15a, 's' }, { 0x17a, 'z' }, { 0x179, 'z' },
		{ 0x17c, 'z' }, { 0x17b, 'z' },
	};
	size_t i = 0, k = 0;
	while (i < n && k < max) {
		uint32_t c;
		size_t l = utf8_step(s + i, n - i, &c);
		if (!l)
			break;
		if (c < 0x80) {
			out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		} else {
			char f = 0;
			for (size_t j = 0; j < SK_ARRAY_SIZE(pl); j++)
				if (pl[j].cp == c)
					f = pl[j].c;
			if (f) {
				out[k++] = f;
			} else {
				/* Other letters: compare their bytes as is. */
				if (k + l > max)
					break;
				memcpy(out + k, s + i, l);
				k += l;
			}
		}
		i += l;
	}
	return k;
}

#define PREFIX_BYTES 4

static bool
cheap_candidate(const struct termset *ts, const char *w, size_t n)
{
	char f[PREFIX_BYTES + 4];
	unsigned char b = (unsigned char)*w;
	size_t k;
	bool whole;

	/* Most words start with an ASCII byte no term starts with. */
	if (b < 0x80 && !ts->first[b >= 'A' && b <= 'Z' ? b + 32 : b])
		return false;
	k = cheap_fold(w, n, f, PREFIX_BYTES);
	whole = k < PREFIX_BYTES;
	for (size_t i = 0; i < ts->n; i++) {
		const char *t = ts->v[i];
		size_t tl = ts->len[i];
		if (whole ? (tl >= k && !memcmp(t, f, k) && tl <= k + 2)
			  : (tl >= k && !memcmp(t, f, k)))
			return true;
	}
	return false;
}

static size_t
scan_words(const char *s, size_t n, const struct termset *ts,
	   struct sword **out)
{
	size_t cap = 64, k = 0, i = 0, line = 0, chars = 0;
	struct sword *w = sk_xmalloc(cap * sizeof(*w));
	bool quoted = false, line_known = false;

	while (i < n) {
		uint32_t c;
		size_t l = utf8_step(s + i, n - i, &c), st, cst;
		if (!l)
			break;
		if (c == '\n') {
			line = i + 1;
			line_known = false;
			i += l;
			chars++;
			continue;
		}
		if (!line_known) {
			size_t j = line;
			while (j < n && (s[j] == ' ' || s[j] == '\t'))
				j++;
			quoted = j < n && s[j] == '>';
			line_known = true;
		}
		if (!cheap_wordch(c)) {
			i += l;
			chars++;
			continue;
		}
		st = i;
		cst = chars;
		while (i < n) {
			l = utf8_step(s + i, n - i, &c);
			if (!l || !cheap_wordch(c))
				break;
			i += l;
			chars++;
		}
		if (k == cap)
			sk_xgrow((void **)&w, &cap, k + 1, sizeof(*w));
		w[k].start = st;
		w[k].end = i;
		w[k].cstart = cst;
		w[k].cend = chars;
		w[k].quoted = quoted;
		w[k].candidate = cheap_candidate(ts, s + st, i - st);
		k++;
	}
	*out = w;
	return k;
}

/* Exact marks in [ws, we): the analyzer's offsets of words whose terms
 * are among the query's. */
struct marks {
	size_t (*r)[2];
	size_t n, cap;
	size_t base;
	const struct termset *ts;
};

static int
mark_term(void *vctx, const char *term, size_t len, uint32_t pos,
	  size_t start, size_t end, bool colocated)
{
	struct marks *m = vctx;
	(void)pos;
	(void)colocated;
	if (!termset_has(m->ts, term, len))
		return 0;
	if (m->n == m->cap)
		sk_xgrow((void **)&m->r, &m->cap, m->n + 1, sizeof(*m->r));
	m->r[m->n][0] = m->base + start;
	m->r[m->n][1] = m->base + end;
	m->n++;
	return 0;
}

static int
cmp_range(const void *x, const void *y)
{
	const size_t *a = x, *b = y;
	return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : (a[1] > b[1]) - (a[1] < b[1]);
}

/* Render [ws, we) of s: white space runs become one space, everything is
 * escaped, marks wrapped in <mark>, "…" where text was cut. */
struct out_text {
	struct sk_buf b;
	bool started, space;
};

static void
emit(struct out_text *o, const char *s, size_t n, bool mark)
{
	if (!n)
		return;
	if (o->space && o->started)
		sk_buf_addc(&o->b, ' ');
	o->space = false;
	o->started = true;
	if (mark)
		sk_buf_adds(&o->b, "<mark>");
	sk_buf_add_html(&o->b, s, n);
	if (mark)
		sk_buf_adds(&o->b, "</mark>");
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char *
render(struct sk_arena *a, const char *s, size_t n, size_t ws, size_t we,
       struct marks *mk)
{
	struct out_text o = { .started = false, .space = false };
	size_t i = ws, mi = 0;
	char *out;

	if (mk->n)
		qsort(mk->r, mk->n, sizeof(*mk->r), cmp_range);
	sk_buf_init(&o.b, 64 * 1024);
	for (size_t j = 0; j < ws; j++)
		if (!is_ws(s[j])) {
			sk_buf_adds(&o.b, "…");
			break;
		}
	while (i < we) {
		size_t next = we;
		while (mi < mk->n && mk->r[mi][1] <= i)
			mi++;
		if (mi < mk->n && mk->r[mi][0] <= i) {
			size_t e = mk->r[mi][1];
			/* Merge overlapping marks. */
			while (mi + 1 < mk->n && mk->r[mi + 1][0] < e) {
				mi++;
				if (mk->r[mi][1] > e)
					e = mk->r[mi][1];
			}
			if (e > we)
				e = we;
			emit(&o, s + i, e - i, true);
			i = e;
			continue;
		}
		if (mi < mk->n && mk->r[mi][0] < next)
			next = mk->r[mi][0];
		while (i < next) {
			size_t j = i;
			if (is_ws(s[i])) {
				o.space = true;
				i++;
				continue;
			}
			while (j < next && !is_ws(s[j]))
				j++;
			emit(&o, s + i, j - i, false);
			i = j;
		}
	}
	for (size_t j = we; j < n; j++)
		if (!is_ws(s[j])) {
			sk_buf_adds(&o.b, "…");
			break;
		}
	out = sk_arena_strndup(a, o.b.p, o.b.len);
	sk_buf_release(&o.b);
	return out;
}

/* The window [ws, we) of about SNIPPET_CHARS characters starting up to
 * context characters before word anchor; *last is its last word. The
 * words' character offsets make it two binary searches (counting the
 * characters of every window was 14 M instructions a search). */
static void
window_at(const struct sword *w, size_t nw, size_t anchor, size_t context,
	  size_t *ws, size_t *we, size_t *last)
{
	size_t lo = 0, hi = anchor, first;
	/* The first word whose start is at most context characters before
	 * the anchor's. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w[anchor].cstart - w[mid].cstart > context)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	/* The last word ending at most SNIPPET_CHARS after first's start
	 * (first itself whatever its length). */
	lo = first;
	hi = nw - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		if (w[mid].cend - w[first].cstart > SNIPPET_CHARS)
			hi = mid - 1;
		else
			lo = mid;
	}
	*ws = w[first].start;
	*we = w[lo].end;
	*last = lo;
}


/* The snippet as plain text (for JSON and terminals): marks dropped and
 * the five escapes of sk_buf_add_html undone. */
static const char *
snippet_text(struct sk_arena *a, const char *html)
{
	static const struct {
		const char *esc;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		     { "&quot;", '"' }, { "&#39;", '\'' } };
	char *out = sk_arena_alloc(a, strlen(html) + 1), *o = out;

	for (const char *p = html; *p;) {
		if (sk_starts_with(p, "<mark>")) {
			p += 6;
			continue;
		}
		if (sk_starts_with(p, "</mark>")) {
			p += 7;
			continue;
		}
		if (*p == '&') {
			size_t k;
			for (k = 0; k < SK_ARRAY_SIZE(ents); k++)
				if (sk_starts_with(p, ents[k].esc))
					break;
			if (k < SK_ARRAY_SIZE(ents)) {
				*o++ = ents[k].c;
				p += strlen(ents[k].esc);
				continue;
			}
		}
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* The best window of the scanned words by candidate score, checked
 * exactly (up to three tries, best score first); false when none holds a
 * query term. *unquoted: the window has a candidate outside quotes. */
static bool
best_window(const char *body, struct sword *w, size_t nw, struct marks *mk,
	    size_t *ws, size_t *we, bool *unquoted)
{
	size_t last;
	for (int attempt = 0; attempt < 3; attempt++) {
		size_t best = (size_t)-1, tried = 0;
		long best_score = 0;
		/* Unquoted candidates count four times a quoted one. */
		for (size_t i = 0; i < nw && tried < SNIPPET_MAX_WINDOWS; i++) {
			long score = 0;
			if (!w[i].candidate)
				continue;
			tried++;
			window_at(w, nw, i, 40, ws, we, &last);
			for (size_t j = i; j <= last; j++)
				if (w[j].candidate)
					score += w[j].quoted ? 1 : 4;
			if (score > best_score) {
				best_score = score;
				best = i;
			}
		}
		if (best == (size_t)-1)
			return false;
		window_at(w, nw, best, 40, ws, we, &last);
		mk->n = 0;
		mk->base = *ws;
		sk_analyze(sk_analyzer_thread(), body + *ws, *we - *ws,
			   SK_ANALYZE_INDEX, mark_term, mk);
		if (mk->n) {
			*unquoted = false;
			for (size_t j = best; j <= last; j++)
				if (w[j].candidate && !w[j].quoted)
					*unquoted = true;
			return true;
		}
		/* False candidates: drop them and try again. */
		for (size_t j = best; j <= last; j++)
			w[j].candidate = false;
	}
	return false;
}

/* Body text [0, n) around the query's terms. The first SNIPPET_FIRST_BYTES
 * are scanned first; the rest of the first SNIPPET_SCAN_BYTES only when
 * they hold no match outside quotes (long patches and logs made the full
 * scan most of a search's time). */
static const char *
make_snippet(struct sk_arena *a, const char *body, size_t n,
	     const struct termset *ts)
{
	size_t lim = n, first, nw = 0, ws = 0, we = 0, last;
	struct sword *w = NULL;
	struct marks mk = { .ts = ts };
	bool found = false, unquoted = false;
	char *out;

	if (lim > SNIPPET_SCAN_BYTES)
		lim = sk_utf8_clip(body, lim, SNIPPET_SCAN_BYTES);
	first = lim > SNIPPET_FIRST_BYTES
			? sk_utf8_clip(body, lim, SNIPPET_FIRST_BYTES)
			: lim;
	for (size_t scan = first;; scan = lim) {
		free(w);
		nw = scan_words(body, scan, ts, &w);
		found = nw && best_window(body, w, nw, &mk, &ws, &we,
					  &unquoted);
		if ((found && unquoted) || scan == lim)
			break;
	}
	if (!nw) {
		free(w);
		return "";
	}
	if (!found) {
		/* No match in the text shown: the start, skipping quotes. */
		size_t start = 0;
		while (start < nw && w[start].quoted)
			start++;
		if (start == nw)
			start = 0;
		window_at(w, nw, start, 0, &ws, &we, &last);
		mk.n = 0;
	}
	out = render(a, body, n, ws, we, &mk);
	free(mk.r);
	free(w);
	return out;
}

/* ---- hits from the store ---------------------------------------------------- */


static enum sk_status
fill_hits(struct sk_index *ix, struct sk_arena *a,
	  const struct sk_search_opts *o, const struct row *page, size_t n,
	  const struct termset *ts, struct sk_results *out,
	  struct sk_err *err)
{
	int64_t *ids = sk_arena_alloc(a, (n + 1) * sizeof(*ids));
	struct sk_hit *hits = sk_arena_alloc(a, (n + 1) * sizeof(*hits));
	bool *found = sk_arena_alloc(a, n + 1);
	sqlite3_stmt *st;
	char *json;
	int src;
	size_t k = 0;

	out->hits = hits;
	out->n_hits = 0;
	if (!n)
		return SK_OK;
	for (size_t i = 0; i < n; i++)
		ids[i] = page[i].id;
	json = ids_json(ids, n);
	st = sk_ix_stmt(
		ix,
		"SELECT m.id, m.message_id, m.thread_id, m.subject, "
		"m.from_name, m.from_addr, m.date, p.slug, m.body, "
		"(m.flags & 8 <> 0 AND m.approved_at IS NULL) "
		"FROM json_each(?1) j JOIN messages m ON m.id = j.value "
		"LEFT JOIN partners p ON p.id = m.partner_id",
		err);
	if (!st) {
		free(json);
		return err->code;
	}
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		size_t i;
		for (i = 0; i < n && (ids[i] != id || found[i]); i++)
			;
		if (i == n)
			continue;
		if (sqlite3_column_int(st, 9) && !o->viewer.coordinator)
			continue; /* the store says held: it wins */
		found[i] = true;
		hits[i].id = id;
		hits[i].message_id = col_str(a, st, 1);
		hits[i].thread_id = sqlite3_column_int64(st, 2);
		hits[i].subject = col_str(a, st, 3);
		hits[i].from_name = col_str(a, st, 4);
		hits[i].from_addr = col_str(a, st, 5);
		hits[i].date = (time_t)sqlite3_column_int64(st, 6);
		hits[i].partner_slug =
			sqlite3_column_type(st, 7) == SQLITE_NULL
				? NULL
				: col_str(a, st, 7);
		/* Snippets analyse text: skip them when nobody shows them.
		 * Made here, from SQLite's copy of the body. */
		hits[i].snippet_html =
			o->no_snippets
				? ""
				: make_snippet(a,
					       (const char *)sqlite3_column_text(
						       st, 8),
					       (size_t)sqlite3_column_bytes(st, 8),
					       ts);
		hits[i].score = page[i].score;
	}
	sqlite3_reset(st);
	free(json);
	if (src != SQLITE_DONE)
		return sk_ix_error(ix, src, "read search hits", err);
	/* Keep rank order; ids the store lacks (a stale index) are skipped. */
	for (size_t i = 0; i < n; i++) {
		if (!found[i])
			continue;
		hits[k] = hits[i];
		sk_index_thread_topic_slugs(ix, a, hits[k].thread_id,
					    &hits[k].topics, &hits[k].n_topics);
		hits[k].snippet = snippet_text(a, hits[k].snippet_html);
		k++;
	}
	out->hits = hits;
	out->n_hits = k;
	return SK_OK;
}

/* ---- facets ----------------------------------------------------------------- */

/* Counts over every matching message; when threads are collapsed, the
 * unit is the thread (as for the total). Two literal variants each,
 * because the statement cache is keyed by the literal. */
#define FACET_TOPICS(unit)                                                    \
	"SELECT t.slug, t.name, count(DISTINCT " unit ") AS c FROM "          \
	"json_each(?1) j JOIN messages m ON m.id = j.value JOIN "             \
	"thread_topics tt ON tt.thread_id = m.thread_id AND tt.removed = 0 "  \
	"JOIN topics t ON t.id = tt.topic_id GROUP BY t.id "                  \
	"ORDER BY c DESC, t.position, t.slug"
#define FACET_PARTNERS(unit)                                                  \
	"SELECT p.slug, p.name, count(DISTINCT " unit ") AS c FROM "          \
	"json_each(?1) j JOIN messages m ON m.id = j.value JOIN partners p "   \
	"ON p.id = m.partner_id GROUP BY p.id ORDER BY c DESC, p.slug"
static const char *const facet_sql[2][2] = {
	{ FACET_TOPICS("m.id"), FACET_PARTNERS("m.id") },
	{ FACET_TOPICS("m.thread_id"), FACET_PARTNERS("m.thread_id") },
};

static enum sk_status
facet(struct sk_index *ix, struct sk_arena *a, const char *sql,
      const char *json, struct sk_facet **out, size_t *n_out,
      struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(ix, sql, err);
	struct sk_facet *v;
	size_t n = 0;
	int src;

	*out = NULL;
	*n_out = 0;
	if (!st)
		return err->code;
	v = sk_arena_alloc(a, FACET_MAX * sizeof(*v));
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW && n < FACET_MAX) {
		v[n].value = col_str(a, st, 0);
		v[n].label = col_str(a, st, 1);
		v[n].count = sqlite3_column_int64(st, 2);
		n++;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		return sk_ix_error(ix, src, "count facets", err);
	*out = v;
	*n_out = n;
	return SK_OK;
}

static int
cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return a < b ? -1 : a > b;
}

struct year_unit {
	int year;
	int64_t unit;
};

/* Newest year first, then by unit. */
static int
cmp_year_unit(const void *x, const void *y)
{
	const struct year_unit *a = x, *b = y;
	if (a->year != b->year)
		return a->year > b->year ? -1 : 1;
	return a->unit < b->unit ? -1 : a->unit > b->unit;
}

/* Years, counted in C: FACET_YEARS's strftime() twice per row was most of
 * the facets' cost on big result lists (55 M instructions for 9,000 hits).
 * The same rows, order and counts as FACET_YEARS (UTC years, newest first,
 * distinct messages or threads). */
static enum sk_status
year_facet(struct sk_index *ix, struct sk_arena *a, const char *json,
	   bool by_thread, struct sk_facet **out, size_t *n_out,
	   struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT m.date, m.thread_id, m.id FROM json_each(?1) j "
		"JOIN messages m ON m.id = j.value",
		err);
	struct year_unit *v = NULL;
	struct sk_facet *f;
	size_t n = 0, cap = 0, k = 0;
	int src;

	*out = NULL;
	*n_out = 0;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		time_t t = (time_t)sqlite3_column_int64(st, 0);
		struct tm tm;
		if (n == cap)
			sk_xgrow((void **)&v, &cap, n + 1, sizeof(*v));
		v[n].year = gmtime_r(&t, &tm) ? tm.tm_year + 1900 : 1970;
		v[n].unit = sqlite3_column_int64(st, by_thread ? 1 : 2);
		n++;
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE) {
		free(v);
		return sk_ix_error(ix, src, "count facets", err);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_year_unit);
	f = sk_arena_alloc(a, FACET_MAX * sizeof(*f));
	for (size_t i = 0; i < n && k <= FACET_MAX;) {
		size_t j = i;
		int64_t c = 0;
		for (; j < n && v[j].year == v[i].year; j++)
			if (j == i || v[j].unit != v[j - 1].unit)
				c++;
		if (k == FACET_MAX)
			break;
		f[k].value = sk_arena_printf(a, "%04d", v[i].year);
		f[k].label = f[k].value;
		f[k].count = c;
		k++;
		i = j;
	}
	free(v);
	*out = f;
	*n_out = k;
	return SK_OK;
}

static enum sk_status
facets(struct sk_index *ix, struct sk_arena *a, int64_t *ids, size_t n,
       bool by_thread, struct sk_results *out, struct sk_err *err)
{
	char *json;
	/* The handle's in-memory table when it can be built: no SQL. */
	if (sk_index_facets_fast(ix, a, ids, n, by_thread, FACET_MAX, out))
		return SK_OK;
	/* In id order the joins walk the messages table sequentially. */
	if (n)
		qsort(ids, n, sizeof(*ids), cmp_i64);
	json = ids_json(ids, n);
	const char *const *sql = facet_sql[by_thread];
	enum sk_status rc;

	rc = facet(ix, a, sql[0], json, &out->topics, &out->n_topics, err);
	if (!rc)
		rc = facet(ix, a, sql[1], json, &out->partners,
			   &out->n_partners, err);
	if (!rc)
		rc = year_facet(ix, a, json, by_thread, &out->years,
				&out->n_years, err);
	free(json);
	return rc;
}

/* ---- did you mean ------------------------------------------------------------ */

/* The vocabulary of the FTS5 index (fts5vocab in the connection's temp
 * schema, created once per connection; read-only stores can still write
 * temp). Both backends index the same terms, so one vocabulary serves
 * both. */
static bool
vocab_ready(struct sk_index *ix)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(ix->db,
				    "SELECT 1 FROM temp.sqlite_master WHERE "
				    "name = 'sk_vocab'",
				    -1, &st, NULL);
	bool have = false;
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		have = true;
	sqlite3_finalize(st);
	if (have)
		return true;
	return sqlite3_exec(ix->db,
			    "CREATE VIRTUAL TABLE temp.sk_vocab USING "
			    "fts5vocab(main, messages_fts, row)",
			    NULL, NULL, NULL) == SQLITE_OK;
}

int64_t
sk_index_term_docs(struct sk_index *ix, const char *term)
{
	if (!vocab_ready(ix))
		return 0;
	sqlite3_stmt *st = sk_ix_stmt(
		ix, "SELECT doc FROM temp.sk_vocab WHERE term = ?1", NULL);
	int64_t n = 0;
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, term, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* Levenshtein distance over code points, giving up above max. */
static size_t
edit_distance(const char *x, const char *y, size_t max)
{
	uint32_t a[64], b[64];
	size_t na = 0, nb = 0, i, j, prev[65], cur[65];
	for (i = 0; x[i] && na < 64;) {
		i += sk_utf8_next(x + i, strlen(x + i), &a[na]);
		na++;
	}
	for (i = 0; y[i] && nb < 64;) {
		i += sk_utf8_next(y + i, strlen(y + i), &b[nb]);
		nb++;
	}
	if ((na > nb ? na - nb : nb - na) > max)
		return max + 1;
	for (j = 0; j <= nb; j++)
		prev[j] = j;
	for (i = 1; i <= na; i++) {
		size_t lo = (size_t)-1;
		cur[0] = i;
		for (j = 1; j <= nb; j++) {
			size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
			if (d < lo)
				lo = d;
		}
		if (lo > max)
			return max + 1;
		memcpy(prev, cur, (nb + 1) * sizeof(*prev));
	}
	return prev[nb];
}

/* Closer first, then more frequent, then nearer the typed length, then
 * alphabetical: deterministic. */
static bool
better(size_t d, int64_t docs, size_t len, const char *t, size_t best_d,
       int64_t best_docs, const char *best, size_t want_len)
{
	size_t dl, bl;
	if (!best || d != best_d)
		return !best || d < best_d;
	if (docs != best_docs)
		return docs > best_docs;
	dl = len > want_len ? len - want_len : want_len - len;
	bl = strlen(best) > want_len ? strlen(best) - want_len
				     : want_len - strlen(best);
	if (dl != bl)
		return dl < bl;
	return strcmp(t, best) < 0;
}

/* The search for the closest term: the word, its limits, the best so far. */
struct closest {
	struct sk_arena *a;
	const char *word;
	size_t wl, max, best_d;
	int64_t best_docs;
	const char *best;
};

static int
consider_term(void *ctx, const char *t, int64_t docs)
{
	struct closest *c = ctx;
	size_t tl = t ? strlen(t) : 0, d;

	if (!tl || tl + 2 < c->wl || tl > c->wl + 4)
		return 0;
	d = edit_distance(c->word, t, c->max);
	if (d == 0 || d > c->max)
		return 0;
	if (better(d, docs, tl, t, c->best_d, c->best_docs, c->best, c->wl)) {
		c->best_d = d;
		c->best_docs = docs;
		c->best = sk_arena_strdup(c->a, t);
	}
	return 0;
}

/* The most frequent vocabulary term within a small edit distance of word
 * (folded), sharing its first letter; NULL when none. The candidates come
 * from Xapian's term list when the handle has a local index: fts5vocab
 * reads every candidate's whole posting list to count its documents
 * (55-60 ms for a common first letter at 100k messages). Both indexes hold
 * the same unprefixed terms. */
static const char *
closest_term(struct sk_index *ix, struct sk_arena *a, const char *word)
{
	struct closest c = { .a = a, .word = word, .wl = strlen(word) };
	size_t chars = sk_utf8_count(word, c.wl);
	uint32_t cp;
	size_t l = sk_utf8_next(word, c.wl, &cp);
	char lo[8], hi[8];
	sqlite3_stmt *st;

	c.max = chars >= 8 ? 2 : 1;
	c.best_d = c.max + 1;
	if (!l || l > 4)
		return NULL;
	memcpy(lo, word, l);
	lo[l] = '\0';
	if (ix->xdb && sk_xdb_terms(ix->xdb, lo, consider_term, &c, NULL) ==
			   SK_OK)
		return c.best;
	st = sk_ix_stmt(ix,
			"SELECT term, doc FROM temp.sk_vocab WHERE term >= ?1 "
			"AND term < ?2",
			NULL);
	if (!st)
		return NULL;
	memcpy(hi, lo, l + 1);
	hi[l - 1]++;
	sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW)
		consider_term(&c, (const char *)sqlite3_column_text(st, 0),
			      sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	return c.best;
}

/* Words of the query (positive, in any field) that no message contains,
 * replaced by their closest frequent term, in the query as typed. */
static const char *
suggest(struct sk_index *ix, struct sk_arena *a, const char *q,
	const struct query_info *qi, const struct sk_qnode *root)
{
	const struct leaf_info *pos[SK_QUERY_MAX_NODES];
	size_t n_pos = 0;
	struct sk_buf b;
	const char *cursor = q;
	bool changed = false;
	char *out;

	positive_leaves(qi, root, false, pos, &n_pos);
	if (!n_pos || !vocab_ready(ix))
		return NULL;
	sk_buf_init(&b, 4 * SK_QUERY_MAX_BYTES);
	for (size_t i = 0; i < n_pos; i++) {
		const struct leaf_info *li = pos[i];
		const char *at, *fix = NULL, *folded;
		bool known = false;

		if (li->node->kind != SK_Q_WORD || li->positions != 1)
			continue;
		at = strstr(cursor, li->node->text);
		if (!at)
			continue;
		for (size_t j = 0; j < li->n_terms && !known; j++)
			known = sk_index_term_docs(ix, li->terms[j]) > 0;
		folded = sk_fold(a, li->node->text, strlen(li->node->text));
		if (!known && sk_utf8_count(folded, strlen(folded)) >= 4)
			fix = closest_term(ix, a, folded);
		sk_buf_add(&b, cursor, (size_t)(at - cursor));
		if (fix) {
			sk_buf_adds(&b, fix);
			changed = true;
		} else {
			sk_buf_adds(&b, li->node->text);
		}
		cursor = at + strlen(li->node->text);
	}
	sk_buf_adds(&b, cursor);
	out = changed && !sk_buf_status(&b) ? sk_arena_strndup(a, b.p, b.len)
					    : NULL;
	sk_buf_release(&b);
	return out;
}

/* ---- sk_search ---------------------------------------------------------------- */

/* Thread ids seen while collapsing: open addressing, at most half full
 * (a linear list was quadratic: 44,000 hits in 6,600 threads at 50k). */
struct thread_set {
	int64_t *v; /* 0: empty slot (thread ids are positive) */
	size_t mask;
	bool has_zero;
};

static void
thread_set_init(struct thread_set *s, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	s->v = sk_xcalloc(cap, sizeof(*s->v));
	s->mask = cap - 1;
	s->has_zero = false;
}

/* True when t was not in the set yet. */
static bool
thread_set_add(struct thread_set *s, int64_t t)
{
	size_t h;
	if (!t) {
		bool added = !s->has_zero;
		s->has_zero = true;
		return added;
	}
	h = (size_t)((uint64_t)t * 0x9E3779B97F4A7C15u >> 17) & s->mask;
	while (s->v[h]) {
		if (s->v[h] == t)
			return false;
		h = (h + 1) & s->mask;
	}
	s->v[h] = t;
	return true;
}

static enum sk_status
run_xapian(struct sk_index *ix, struct sk_arena *a, const struct sk_qnode *root,
	   const struct sk_search_opts *o, size_t limit, bool want_all,
	   struct rows *page, int64_t *total, int64_t **all, size_t *n_all,
	   struct sk_err *err)
{
	struct sk_xsearch s = { 0 };
	int64_t *ids;
	size_t n;
	enum sk_status rc;

	/* Readers see the latest commit. */
	rc = sk_xdb_reopen(ix->xdb, err);
	if (rc)
		return rc;
	s.query = root;
	s.offset = o->offset;
	s.limit = limit;
	s.sort_by_date = o->sort_by_date;
	s.collapse_threads = o->collapse_threads;
	s.include_held = o->viewer.coordinator;
	/* Collapsed totals from the in-memory table when there is one. */
	s.caller_counts_threads = o->collapse_threads &&
				  sk_index_ftab_ready(ix);
	if (s.caller_counts_threads)
		want_all = true;
	rc = sk_xdb_search(ix->xdb, a, &s, &ids, &n, total,
			   want_all ? all : NULL, want_all ? n_all : NULL,
			   err);
	if (rc)
		return rc;
	if (s.caller_counts_threads) {
		int64_t threads = sk_index_count_threads(ix, *all, *n_all);
		if (threads < 0) {
			/* An id the table lacks (an index ahead of or behind
			 * the store): let Xapian count, as before. */
			s.caller_counts_threads = false;
			rc = sk_xdb_search(ix->xdb, a, &s, &ids, &n, total,
					   all, n_all, err);
			if (rc)
				return rc;
		} else {
			*total = threads;
		}
	}
	/* The wrapper gives ranks, not weights: the score falls with rank. */
	for (size_t i = 0; i < n; i++)
		rows_add(page, ids[i], 0, 1.0 / (double)(o->offset + i + 1));
	return SK_OK;
}

/* ---- federation: the local index plus xapian-tcpsrv shards ----------------- */

enum sk_status
sk_index_set_shards(struct sk_index *ix, const char *spec, struct sk_err *err)
{
	struct sk_xdb *fed = NULL;
	char xdir[4096];
	enum sk_status rc;

	if (ix->flags & SK_INDEX_WRITE)
		return sk_err_set(err, SK_EINVAL,
				  "search shards: only for read-only handles");
	if (!spec || !*spec)
		return SK_OK;
	if (ix->xdb && (size_t)snprintf(xdir, sizeof(xdir), "%s/xapian",
					ix->dir) >= sizeof(xdir))
		return sk_err_set(err, SK_EINVAL, "data directory path too long");
	rc = sk_xdb_open_federated(ix->xdb ? xdir : NULL, spec, &fed, err);
	if (rc)
		return rc;
	sk_xdb_close(&ix->xdb);
	ix->xdb = fed;
	return SK_OK;
}

/* A federated search: one Xapian ranking over every shard; local hits are
 * filled from the store (snippets, topics), remote ones from what their
 * index holds. Remote hits have id 0 and thread_id 0 (their ids belong to
 * another store): render them by message_id. Facet labels are the slugs. */
static enum sk_status
run_federated(struct sk_index *ix, struct sk_arena *a,
	      const struct sk_qnode *root, struct query_info *qi,
	      const struct sk_search_opts *o, size_t limit,
	      struct sk_results *out, struct sk_err *err)
{
	struct sk_xsearch s = { 0 };
	struct sk_xfed_results fr;
	struct sk_results local = { 0 };
	struct rows page = { 0 };
	struct termset ts;
	bool has_local = sk_xdb_has_local(ix->xdb);
	enum sk_status rc;

	rc = sk_xdb_reopen(ix->xdb, err);
	if (rc)
		return rc;
	s.query = root;
	s.offset = o->offset;
	s.limit = limit;
	s.sort_by_date = o->sort_by_date;
	s.include_held = o->viewer.coordinator;
	rc = sk_xdb_fed_search(ix->xdb, a, &s, o->want_facets, &fr, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < fr.n_hits; i++)
		if (has_local && fr.hits[i].shard == 0)
			rows_add(&page, fr.hits[i].id, 0, fr.hits[i].weight);
	termset_build(a, qi, root, &ts);
	rc = fill_hits(ix, a, o, page.v, page.n, &ts, &local, err);
	free(page.v);
	if (rc)
		return rc;
	out->total = fr.total;
	out->hits = sk_arena_alloc(a, (fr.n_hits + 1) * sizeof(*out->hits));
	for (size_t i = 0; i < fr.n_hits; i++) {
		const struct sk_xfed_hit *f = &fr.hits[i];
		struct sk_hit *h = &out->hits[out->n_hits];
		size_t j;

		if (has_local && f->shard == 0) {
			for (j = 0; j < local.n_hits &&
				    local.hits[j].id != f->id;
			     j++)
				;
			if (j < local.n_hits) /* else gone since indexed */
				out->hits[out->n_hits++] = local.hits[j];
			continue;
		}
		h->id = 0;
		h->message_id = f->message_id;
		h->thread_id = 0;
		h->subject = f->subject;
		h->from_name = "";
		h->from_addr = f->sender;
		h->date = f->date;
		h->partner_slug = f->partner;
		h->topics = f->topics;
		h->n_topics = f->n_topics;
		h->snippet_html = "";
		h->snippet = "";
		h->score = f->weight;
		out->n_hits++;
	}
	if (o->want_facets) {
		struct {
			struct sk_xfed_facet *in;
			size_t n;
			struct sk_facet **out;
			size_t *n_out;
		} fs[] = {
			{ fr.topics, fr.n_topics, &out->topics, &out->n_topics },
			{ fr.partners, fr.n_partners, &out->partners,
			  &out->n_partners },
			{ fr.years, fr.n_years, &out->years, &out->n_years },
		};
		for (size_t k = 0; k < sizeof(fs) / sizeof(fs[0]); k++) {
			*fs[k].out = sk_arena_alloc(a, (fs[k].n + 1) *
							       sizeof(**fs[k].out));
			for (size_t i = 0; i < fs[k].n; i++) {
				(*fs[k].out)[i].value = fs[k].in[i].value;
				(*fs[k].out)[i].label = fs[k].in[i].value;
				(*fs[k].out)[i].count = fs[k].in[i].count;
			}
			*fs[k].n_out = fs[k].n;
		}
	}
	return SK_OK;
}

enum sk_status
sk_search(struct sk_index *ix, struct sk_arena *a,
	  const struct sk_search_opts *o, struct sk_results *out,
	  struct sk_err *err)
{
	struct sk_qnode *root;
	struct query_info *qi;
	struct termset ts;
	struct rows page = { 0 }, all = { 0 };
	int64_t *all_ids = NULL, total = 0;
	size_t n_all = 0, limit = o->limit ? o->limit : DEFAULT_LIMIT;
	bool xapian;
	enum sk_status rc;

	memset(out, 0, sizeof(*out));
	if (limit > MAX_LIMIT)
		limit = MAX_LIMIT;
	rc = sk_query_parse(a, o->query ? o->query : "", &root, err);
	if (rc)
		return rc;
	switch (o->backend) {
	case SK_BACKEND_XAPIAN:
		if (!ix->xdb)
			return sk_err_set(err, SK_EINDEX,
					  "the xapian index is not open "
					  "(run 'skarbnica reindex' or use "
					  "--backend fts5)");
		xapian = true;
		break;
	case SK_BACKEND_FTS5:
		xapian = false;
		break;
	default:
		xapian = ix->xdb != NULL;
	}
	qi = sk_arena_alloc(a, sizeof(*qi));
	analyze_query(qi, a, root);

	if (xapian && sk_xdb_is_federated(ix->xdb))
		return run_federated(ix, a, root, qi, o, limit, out, err);
	if (xapian) {
		rc = run_xapian(ix, a, root, o, limit, o->want_facets, &page,
				&total, &all_ids, &n_all, err);
		if (rc)
			goto out;
	} else {
		size_t kept = 0;
		rc = run_fts(ix, a, qi, root, o, &all, err);
		if (rc)
			goto out;
		/* Collapse in rank order: the first message of each thread. */
		if (o->collapse_threads) {
			struct thread_set seen;
			struct row *best = sk_xmalloc((all.n + 1) *
						      sizeof(*best));
			thread_set_init(&seen, all.n);
			for (size_t i = 0; i < all.n; i++)
				if (thread_set_add(&seen, all.v[i].thread))
					best[kept++] = all.v[i];
			free(seen.v);
			total = (int64_t)kept;
			for (size_t i = o->offset; i < kept && page.n < limit;
			     i++)
				rows_add(&page, best[i].id, best[i].thread,
					 best[i].score);
			free(best);
		} else {
			total = (int64_t)all.n;
			for (size_t i = o->offset; i < all.n && page.n < limit;
			     i++)
				rows_add(&page, all.v[i].id, all.v[i].thread,
					 all.v[i].score);
		}
		if (o->want_facets) {
			all_ids = sk_arena_alloc(a, (all.n + 1) *
							    sizeof(*all_ids));
			for (size_t i = 0; i < all.n; i++)
				all_ids[i] = all.v[i].id;
			n_all = all.n;
		}
	}
	out->total = total;
	termset_build(a, qi, root, &ts);
	rc = fill_hits(ix, a, o, page.v, page.n, &ts, out, err);
	if (!rc && o->want_facets)
		rc = facets(ix, a, all_ids, n_all, o->collapse_threads, out,
			    err);
	if (!rc && total < SUGGEST_BELOW)
		out->suggestion = suggest(ix, a, o->query ? o->query : "", qi,
					  root);
out:
	free(page.v);
	free(all.v);
	return rc;
}
