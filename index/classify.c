/* index/classify.c: the topic taxonomy and automatic classification.
 *
 * A message gets a topic from a list subject tag ("[Zamówienia]", certain)
 * or from the topic's keyword lemmas found in its subject, body and
 * attachment text (weighted by field). Keywords go through the same Polish
 * analyzer as search, so "zamówienie" matches "zamówień" and "zamowien".
 * Threads take the union of their messages' topics; manual decisions
 * (source = 'manual', or removed = 1) are never overwritten. */
#include "index/private.h"
#include "schema/sk_schema.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KW_WORDS 6
#define SUBJECT_WEIGHT 3.0
#define BODY_WEIGHT 1.0
#define ATTACH_WEIGHT 0.5
#define MIN_SCORE 2.0
#define MAX_TOPICS 3

struct kw_word {
	char **terms; /* the word's analysis: surface + lemmas */
	uint64_t *hashes;
	size_t n_terms;
};

struct keyword {
	size_t topic; /* index into topics */
	struct kw_word words[MAX_KW_WORDS];
	size_t n_words;
};

struct ctopic {
	int64_t id;
	int64_t parent; /* index + 1 into topics, 0 = none */
	char **tags;	/* folded tag texts */
	size_t n_tags;
};

/* term hash -> keywords whose first word has that term */
struct entry {
	uint64_t h; /* 0 = empty slot */
	size_t *kws;
	size_t n, cap;
};

struct sk_classifier {
	struct ctopic *topics;
	size_t n_topics;
	struct keyword *kws;
	size_t n_kws;
	struct entry *table;
	size_t table_size;
};

static uint64_t
hash_str(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* Never 0, which marks an empty table slot. */
static uint64_t
term_hash(const char *s, size_t n)
{
	uint64_t h = hash_str(s, n);
	return h ? h : 1;
}

static struct entry *
table_slot(struct sk_classifier *c, uint64_t h, bool create)
{
	size_t i = (size_t)h & (c->table_size - 1);
	for (;; i = (i + 1) & (c->table_size - 1)) {
		struct entry *e = &c->table[i];
		if (!e->h) {
			if (!create)
				return NULL;
			e->h = h;
			return e;
		}
		if (e->h == h)
			return e;
	}
}

void
sk_classifier_free(struct sk_classifier **cp)
{
	struct sk_classifier *c = *cp;
	if (!c)
		return;
	for (size_t i = 0; i < c->n_topics; i++) {
		for (size_t k = 0; k < c->topics[i].n_tags; k++)
			free(c->topics[i].tags[k]);
		free(c->topics[i].tags);
	}
	for (size_t i = 0; i < c->n_kws; i++)
		for (size_t w = 0; w < c->kws[i].n_words; w++) {
			for (size_t t = 0; t < c->kws[i].words[w].n_terms; t++)
				free(c->kws[i].words[w].terms[t]);
			free(c->kws[i].words[w].terms);
			free(c->kws[i].words[w].hashes);
		}
	for (size_t i = 0; i < c->table_size; i++)
		free(c->table[i].kws);
	free(c->table);
	free(c->topics);
	free(c->kws);
	free(c);
	*cp = NULL;
}

/* Collect the terms of one word (first position only). */
struct word_terms {
	struct kw_word *w;
	uint32_t first_pos;
	bool any;
};

static int
collect_word(void *ctx, const char *term, size_t len, uint32_t pos,
	     size_t start, size_t end, bool colocated)
{
	struct word_terms *wt = ctx;
	(void)start;
	(void)end;
	(void)colocated;
	if (!wt->any) {
		wt->first_pos = pos;
		wt->any = true;
	}
	if (pos != wt->first_pos)
		return 1;
	wt->w->terms = sk_xrealloc(wt->w->terms,
				   (wt->w->n_terms + 1) * sizeof(char *));
	wt->w->hashes = sk_xrealloc(wt->w->hashes,
				    (wt->w->n_terms + 1) * sizeof(uint64_t));
	wt->w->hashes[wt->w->n_terms] = term_hash(term, len);
	wt->w->terms[wt->w->n_terms++] = sk_xstrndup(term, len);
	return 0;
}

static void
add_keyword(struct sk_classifier *c, size_t topic, const char *kw,
	    size_t *cap)
{
	struct sk_analyzer *an = sk_analyzer_thread();
	struct keyword k = { .topic = topic };
	char *copy = sk_xstrdup(kw), *save = NULL;

	for (char *w = strtok_r(copy, "_", &save); w && k.n_words < MAX_KW_WORDS;
	     w = strtok_r(NULL, "_", &save)) {
		struct word_terms wt = { &k.words[k.n_words], 0, false };
		sk_analyze(an, w, strlen(w), SK_ANALYZE_INDEX, collect_word,
			   &wt);
		if (k.words[k.n_words].n_terms)
			k.n_words++;
	}
	free(copy);
	if (!k.n_words)
		return;
	sk_xgrow((void **)&c->kws, cap, c->n_kws + 1, sizeof(*c->kws));
	c->kws[c->n_kws++] = k;
}

static enum sk_status
build(struct sk_index *ix, struct sk_classifier **out, struct sk_err *err)
{
	struct sk_classifier *c = sk_xcalloc(1, sizeof(*c));
	struct sk_arena *a = sk_arena_new(0);
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT t.id, coalesce(p.id, 0), t.keywords, t.subject_tags "
		"FROM topics t LEFT JOIN topics p ON p.id = t.parent_id "
		"ORDER BY t.id",
		err);
	size_t kcap = 0, tcap = 0;

	if (!st) {
		free(c);
		sk_arena_free(&a);
		return err->code;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct ctopic t = { sqlite3_column_int64(st, 0),
				    sqlite3_column_int64(st, 1), NULL, 0 };
		char *kw = sk_xstrdup((const char *)sqlite3_column_text(st, 2));
		char *tags = sk_xstrdup((const char *)sqlite3_column_text(st, 3));
		char *save = NULL;
		size_t idx = c->n_topics;

		for (char *tg = strtok_r(tags, "|", &save); tg;
		     tg = strtok_r(NULL, "|", &save)) {
			char *f = sk_fold(a, tg, strlen(tg));
			if (!*f)
				continue;
			t.tags = sk_xrealloc(t.tags,
					     (t.n_tags + 1) * sizeof(char *));
			t.tags[t.n_tags++] = sk_xstrdup(f);
		}
		sk_xgrow((void **)&c->topics, &tcap, c->n_topics + 1,
			 sizeof(*c->topics));
		c->topics[c->n_topics++] = t;
		save = NULL;
		for (char *k = strtok_r(kw, " \t", &save); k;
		     k = strtok_r(NULL, " \t", &save))
			add_keyword(c, idx, k, &kcap);
		free(kw);
		free(tags);
	}
	sqlite3_reset(st);
	/* Parents are ids; turn them into indexes + 1. */
	for (size_t i = 0; i < c->n_topics; i++) {
		int64_t pid = c->topics[i].parent;
		c->topics[i].parent = 0;
		for (size_t k = 0; pid && k < c->n_topics; k++)
			if (c->topics[k].id == pid)
				c->topics[i].parent = (int64_t)k + 1;
	}
	c->table_size = 64;
	while (c->table_size < c->n_kws * 8 + 64)
		c->table_size *= 2;
	c->table = sk_xcalloc(c->table_size, sizeof(*c->table));
	for (size_t i = 0; i < c->n_kws; i++) {
		struct kw_word *w0 = &c->kws[i].words[0];
		for (size_t t = 0; t < w0->n_terms; t++) {
			struct entry *e = table_slot(c, w0->hashes[t], true);
			if (e->n && e->kws[e->n - 1] == i)
				continue;
			sk_xgrow((void **)&e->kws, &e->cap, e->n + 1,
				 sizeof(size_t));
			e->kws[e->n++] = i;
		}
	}
	sk_arena_free(&a);
	*out = c;
	return SK_OK;
}

/* ---- scoring one message --------------------------------------------------- */

struct pos_terms {
	uint64_t *hashes;
	size_t n, cap;
	size_t *start; /* index into hashes of each position, n_pos + 1 */
	size_t n_pos, cap_pos;
};

struct collect {
	struct pos_terms *p;
	uint32_t last_pos;
	bool started;
};

static int
collect_pos(void *ctx, const char *term, size_t len, uint32_t pos,
	    size_t start, size_t end, bool colocated)
{
	struct collect *c = ctx;
	struct pos_terms *p = c->p;
	(void)start;
	(void)end;
	(void)colocated;
	if (!c->started || pos != c->last_pos) {
		sk_xgrow((void **)&p->start, &p->cap_pos, p->n_pos + 2,
			 sizeof(size_t));
		p->start[p->n_pos++] = p->n;
		c->last_pos = pos;
		c->started = true;
	}
	sk_xgrow((void **)&p->hashes, &p->cap, p->n + 1, sizeof(uint64_t));
	p->hashes[p->n++] = term_hash(term, len);
	return 0;
}

static bool
pos_has(const struct pos_terms *p, size_t pos, const struct kw_word *w)
{
	size_t end = pos + 1 < p->n_pos ? p->start[pos + 1] : p->n;
	for (size_t t = 0; t < w->n_terms; t++)
		for (size_t i = p->start[pos]; i < end; i++)
			if (p->hashes[i] == w->hashes[t])
				return true;
	return false;
}

/* Add weight * (keyword hits) to scores for one field's text. */
static void
score_text(struct sk_classifier *c, const char *text, size_t n,
	   double weight, double *scores, unsigned *hits)
{
	struct pos_terms p = { 0 };
	struct collect col = { &p, 0, false };
	struct sk_analyzer *an = sk_analyzer_thread();
	size_t *seen;

	if (!n)
		return;
	sk_analyze(an, text, n, SK_ANALYZE_INDEX, collect_pos, &col);
	memset(hits, 0, c->n_kws * sizeof(*hits));
	seen = sk_xcalloc(c->n_kws + 1, sizeof(*seen));
	for (size_t pos = 0; pos < p.n_pos; pos++) {
		size_t end = pos + 1 < p.n_pos ? p.start[pos + 1] : p.n;
		for (size_t i = p.start[pos]; i < end; i++) {
			struct entry *e = table_slot(c, p.hashes[i], false);
			for (size_t j = 0; e && j < e->n; j++) {
				struct keyword *kw = &c->kws[e->kws[j]];
				bool ok = pos + kw->n_words <= p.n_pos;
				for (size_t w = 1; ok && w < kw->n_words; w++)
					ok = pos_has(&p, pos + w, &kw->words[w]);
				/* Two terms of one word may both hit: count
				 * a position once. */
				if (ok && seen[e->kws[j]] != pos + 1) {
					seen[e->kws[j]] = pos + 1;
					hits[e->kws[j]]++;
				}
			}
		}
	}
	for (size_t k = 0; k < c->n_kws; k++)
		if (hits[k])
			scores[c->kws[k].topic] +=
				weight * (1.0 + log((double)hits[k])) *
				(c->kws[k].n_words > 1 ? 1.5 : 1.0);
	free(seen);
	free(p.hashes);
	free(p.start);
}

static bool
subject_has_tag(struct sk_arena *a, const char *subject,
		const struct ctopic *t)
{
	/* Tags are bracketed at the front: "[Zamówienia] Re: ..." */
	const char *s = subject;
	while (s && (s = strchr(s, '[')) != NULL) {
		const char *e = strchr(s, ']');
		char *f;
		if (!e)
			break;
		f = sk_fold(a, s + 1, (size_t)(e - s - 1));
		for (size_t i = 0; i < t->n_tags; i++)
			if (!strcmp(f, t->tags[i]))
				return true;
		s = e + 1;
	}
	return false;
}

enum sk_status
sk_index_classify_message(struct sk_index *ix, int64_t id, struct sk_err *err)
{
	struct sk_classifier *c;
	struct sk_arena *a;
	sqlite3_stmt *st;
	double *scores;
	unsigned *hits;
	bool *tagged;
	const char *subject, *body, *att;
	int64_t thread, quote;
	enum sk_status rc = SK_OK;

	if (!ix->classifier && (rc = build(ix, &ix->classifier, err)))
		return rc;
	c = ix->classifier;
	if (!c->n_topics)
		return SK_OK;
	a = sk_arena_new(0);
	st = sk_ix_stmt(ix,
			"SELECT subject, body, thread_id, coalesce(quote_start, "
			"length(CAST(body AS BLOB))), (SELECT group_concat("
			"coalesce(text, ''), char(10)) FROM attachments "
			"WHERE message_id = m.id) FROM messages m WHERE id = ?1",
			err);
	if (!st) {
		sk_arena_free(&a);
		return err->code;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		sk_arena_free(&a);
		return sk_err_set(err, SK_ENOTFOUND, "no message %lld",
				  (long long)id);
	}
	subject = sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
	body = sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 1));
	thread = sqlite3_column_int64(st, 2);
	quote = sqlite3_column_int64(st, 3);
	att = sk_arena_strdup(a, sqlite3_column_text(st, 4)
					 ? (const char *)sqlite3_column_text(st, 4)
					 : "");
	sqlite3_reset(st);

	scores = sk_arena_alloc(a, c->n_topics * sizeof(double));
	tagged = sk_arena_alloc(a, c->n_topics * sizeof(bool));
	hits = sk_arena_alloc(a, (c->n_kws + 1) * sizeof(unsigned));
	for (size_t i = 0; i < c->n_topics; i++)
		tagged[i] = subject_has_tag(a, subject, &c->topics[i]);
	/* Only the author's own words count: quoted text belongs to the
	 * message it quotes. */
	if (quote < 0 || (size_t)quote > strlen(body))
		quote = (int64_t)strlen(body);
	score_text(c, subject, strlen(subject), SUBJECT_WEIGHT, scores, hits);
	score_text(c, body, (size_t)quote, BODY_WEIGHT, scores, hits);
	score_text(c, att, strlen(att), ATTACH_WEIGHT, scores, hits);
	/* A subtopic's evidence supports its parent. */
	for (size_t i = 0; i < c->n_topics; i++)
		if (c->topics[i].parent) {
			scores[c->topics[i].parent - 1] += scores[i];
			tagged[c->topics[i].parent - 1] |= tagged[i];
		}

	st = sk_ix_stmt(ix,
			"DELETE FROM message_topics WHERE message_id = ?1 "
			"AND source <> 'manual'",
			err);
	if (!st) {
		rc = err->code;
		goto out;
	}
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sk_ix_error(ix, sqlite3_reset(st), "classify", err);
		goto out;
	}
	sqlite3_reset(st);
	for (int round = 0; round < MAX_TOPICS; round++) {
		size_t best = c->n_topics;
		double best_score = 0;
		for (size_t i = 0; i < c->n_topics; i++) {
			double s = tagged[i] ? 1e6 + scores[i] : scores[i];
			if (s > best_score &&
			    (tagged[i] || scores[i] >= MIN_SCORE)) {
				best = i;
				best_score = s;
			}
		}
		if (best == c->n_topics)
			break;
		st = sk_ix_stmt(ix,
				"INSERT OR IGNORE INTO message_topics(message_id, "
				"topic_id, confidence, source) VALUES "
				"(?1, ?2, ?3, ?4)",
				err);
		if (!st) {
			rc = err->code;
			goto out;
		}
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, c->topics[best].id);
		sqlite3_bind_double(st, 3,
				    tagged[best] ? 1.0
						 : scores[best] /
							   (scores[best] + 4.0));
		sqlite3_bind_text(st, 4, tagged[best] ? "tag" : "keyword", -1,
				  SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = sk_ix_error(ix, sqlite3_reset(st), "classify", err);
			goto out;
		}
		sqlite3_reset(st);
		/* Keep a second topic only if it is nearly as strong. */
		if (!tagged[best] && round == 0)
			for (size_t i = 0; i < c->n_topics; i++)
				if (!tagged[i] && scores[i] < best_score * 0.5)
					scores[i] = 0;
		scores[best] = 0;
		tagged[best] = false;
	}
	rc = sk_index_thread_topics_refresh(ix, thread, err);
out:
	sk_arena_free(&a);
	return rc;
}

static int64_t
topic_set_hash(struct sk_index *ix, int64_t thread)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT coalesce(sum(topic_id * 2654435761 % 1000000007), 0), "
		"count(*) FROM thread_topics WHERE thread_id = ?1 AND removed = 0",
		NULL);
	int64_t h = 0;
	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, thread);
	if (sqlite3_step(st) == SQLITE_ROW)
		h = sqlite3_column_int64(st, 0) * 31 + sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return h;
}

enum sk_status
sk_index_thread_topics_refresh(struct sk_index *ix, int64_t thread,
			       struct sk_err *err)
{
	static const char *const sql[] = {
		"DELETE FROM thread_topics WHERE thread_id = ?1 "
		"AND source <> 'manual' AND removed = 0",
		"INSERT OR IGNORE INTO thread_topics(thread_id, topic_id, "
		"confidence, source) SELECT ?1, mt.topic_id, max(mt.confidence), "
		"CASE WHEN sum(mt.source = 'tag') > 0 THEN 'tag' ELSE "
		"'keyword' END FROM message_topics mt JOIN messages m "
		"ON m.id = mt.message_id WHERE m.thread_id = ?1 "
		"GROUP BY mt.topic_id",
	};
	int64_t before = topic_set_hash(ix, thread), after;
	sqlite3_stmt *st;

	for (size_t i = 0; i < SK_ARRAY_SIZE(sql); i++) {
		int rc;
		st = sk_ix_stmt(ix, sql[i], err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, thread);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return sk_ix_error(ix, rc, "thread topics", err);
	}
	after = topic_set_hash(ix, thread);
	if (before != after && ix->xdb) {
		st = sk_ix_stmt(ix, "SELECT id FROM messages WHERE thread_id = ?1",
				err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, thread);
		while (sqlite3_step(st) == SQLITE_ROW)
			sk_index_mark_dirty(ix, sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
	}
	return SK_OK;
}

/* ---- reclassifying many ---------------------------------------------------- */

enum sk_status
sk_index_classify(struct sk_index *ix, bool all, struct sk_err *err)
{
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	enum sk_status rc = SK_OK;

	sk_classifier_free(&ix->classifier);
	st = sk_ix_stmt(ix,
			all ? "SELECT id FROM messages ORDER BY id"
			    : "SELECT id FROM messages m WHERE NOT EXISTS "
			      "(SELECT 1 FROM message_topics WHERE "
			      "message_id = m.id) ORDER BY id",
			err);
	if (!st)
		return err->code;
	while (sqlite3_step(st) == SQLITE_ROW) {
		sk_xgrow((void **)&ids, &cap, n + 1, sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n && !rc; i += 1000) {
		rc = sk_index_begin(ix, err);
		for (size_t k = i; k < n && k < i + 1000 && !rc; k++)
			rc = sk_index_classify_message(ix, ids[k], err);
		if (rc)
			sk_index_rollback(ix);
		else
			rc = sk_index_commit(ix, err);
	}
	free(ids);
	return rc;
}

/* ---- the taxonomy file ------------------------------------------------------ */

struct tax_topic {
	char slug[64];
	char *name, *parent, *description, *tags, *keywords;
	int line;
};

static bool
valid_slug(const char *s)
{
	if (!*s || strlen(s) >= 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-'))
			return false;
	return true;
}

static enum sk_status
store_topic(struct sk_index *ix, const struct tax_topic *t, int position,
	    struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"INSERT INTO topics(slug, name, description, keywords, "
		"subject_tags, position) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		"ON CONFLICT(slug) DO UPDATE SET name = excluded.name, "
		"description = excluded.description, keywords = "
		"excluded.keywords, subject_tags = excluded.subject_tags, "
		"position = excluded.position",
		err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, t->slug, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->description ? t->description : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->keywords ? t->keywords : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 5, t->tags ? t->tags : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, position);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "store topic", err);
	return SK_OK;
}

static enum sk_status
link_parent(struct sk_index *ix, const struct tax_topic *t,
	    struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"UPDATE topics SET parent_id = (SELECT id FROM topics "
		"WHERE slug = ?2) WHERE slug = ?1",
		err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, t->slug, -1, SQLITE_STATIC);
	if (t->parent)
		sqlite3_bind_text(st, 2, t->parent, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "link topic parent", err);
	return SK_OK;
}

struct tax_ctx {
	struct tax_topic *t;
	size_t n;
};

static enum sk_status
taxonomy_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct tax_ctx *c = vctx;
	enum sk_status rc = SK_OK;
	for (size_t i = 0; i < c->n && !rc; i++)
		rc = store_topic(ix, &c->t[i], (int)i, err);
	for (size_t i = 0; i < c->n && !rc; i++)
		rc = link_parent(ix, &c->t[i], err);
	return rc;
}

static struct tax_topic *
find_topic(struct tax_topic *t, size_t n, const char *slug)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].slug, slug))
			return &t[i];
	return NULL;
}

const char *
sk_index_default_taxonomy(void)
{
	return sk_schema_taxonomy;
}

enum sk_status
sk_index_load_taxonomy(struct sk_index *ix, const char *text,
		       struct sk_err *err)
{
	struct sk_arena *a = sk_arena_new(0);
	struct tax_topic *t = NULL, *cur = NULL;
	size_t n = 0, cap = 0;
	int line = 0;
	enum sk_status rc = SK_OK;

	for (const char *p = text; *p && !rc;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		struct sk_str l = sk_str_trim(p, len);
		line++;
		p += len + (e ? 1 : 0);
		if (!l.n || l.p[0] == '#')
			continue;
		if (l.p[0] == '[') {
			if (l.p[l.n - 1] != ']' || l.n - 2 >= 64) {
				rc = sk_err_set(err, SK_EINVAL,
						"taxonomy:%d: bad section", line);
				break;
			}
			sk_xgrow((void **)&t, &cap, n + 1, sizeof(*t));
			cur = &t[n++];
			memset(cur, 0, sizeof(*cur));
			memcpy(cur->slug, l.p + 1, l.n - 2);
			cur->line = line;
			if (!valid_slug(cur->slug))
				rc = sk_err_set(err, SK_EINVAL,
						"taxonomy:%d: bad slug '%s'",
						line, cur->slug);
			continue;
		}
		const char *eq = memchr(l.p, '=', l.n);
		if (!eq || !cur) {
			rc = sk_err_set(err, SK_EINVAL,
					"taxonomy:%d: expected key = value",
					line);
			break;
		}
		struct sk_str k = sk_str_trim(l.p, (size_t)(eq - l.p));
		struct sk_str v = sk_str_trim(eq + 1, l.n - (size_t)(eq - l.p) - 1);
		char *val = sk_arena_strndup(a, v.p, v.n);
		if (sk_str_eq(k, "name"))
			cur->name = val;
		else if (sk_str_eq(k, "parent"))
			cur->parent = val;
		else if (sk_str_eq(k, "description"))
			cur->description = val;
		else if (sk_str_eq(k, "tags"))
			cur->tags = val;
		else if (sk_str_eq(k, "keywords"))
			cur->keywords = val;
		else
			rc = sk_err_set(err, SK_EINVAL,
					"taxonomy:%d: unknown key '%.*s'", line,
					(int)k.n, k.p);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct tax_topic *par;
		if (!t[i].name)
			rc = sk_err_set(err, SK_EINVAL,
					"taxonomy:%d: topic '%s' has no name",
					t[i].line, t[i].slug);
		else if (find_topic(t, i, t[i].slug))
			rc = sk_err_set(err, SK_EINVAL,
					"taxonomy:%d: topic '%s' twice",
					t[i].line, t[i].slug);
		else if (t[i].parent) {
			par = find_topic(t, n, t[i].parent);
			if (!par)
				rc = sk_err_set(err, SK_EINVAL,
						"taxonomy:%d: unknown parent "
						"'%s'",
						t[i].line, t[i].parent);
			else if (par->parent)
				rc = sk_err_set(err, SK_EINVAL,
						"taxonomy:%d: topics have two "
						"levels at most",
						t[i].line);
		}
	}
	if (!rc) {
		struct tax_ctx c = { t, n };
		rc = sk_index_autotx(ix, taxonomy_tx, &c, err);
		sk_classifier_free(&ix->classifier);
	}
	free(t);
	sk_arena_free(&a);
	return rc;
}
