/* index/classify.c: the topic taxonomy and automatic classification.
 *
 * Evidence for a message's topics, strongest first:
 *  - a list subject tag ("[Zamówienia]"): certain;
 *  - the topic's keywords (lemmas) in the author's own words — quoted text
 *    belongs to the message it quotes — weighted by field: subject 3, body
 *    1, attachment text 0.5, and by the keyword's own weight ("ankieta:0.5"
 *    in the taxonomy). Keywords go through the Polish analyzer, so
 *    "zamówienie" matches "zamówień" and "zamowien". Where keywords overlap
 *    the longest match wins: "deklaracja dostępności" is evidence for BIP,
 *    not for a waste declaration ("deklaracja");
 *  - a multinomial naive Bayes model over lemmas, trained on the
 *    coordinators' confirmed labels (manual topics), once it has enough of
 *    them; its posterior is added to the keyword score.
 * A subtopic's evidence supports its parent. Threads take the topics of
 * their messages (union, highest confidence). Manual decisions (source =
 * 'manual', or removed = 1) are never overwritten. docs/topics.md has the
 * measurements behind the constants below. */
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
#define PHRASE_BONUS 1.5 /* a multi-word keyword is stronger evidence */
#define MIN_SCORE 2.0	 /* below this a topic is not assigned */
#define SECOND_RATIO 0.5 /* further topics need this share of the best */
#define TAG_SCORE 8.0	 /* a tagged topic counts at least this much */
#define MAX_TOPICS 3
#define THREAD_SHARE 0.4 /* of the strongest topic's weight in a thread */
/* Only so much text is read: the first pages say what a message is about,
 * and a 300-page attachment must not cost seconds. */
#define BODY_MAX (48 * 1024)
#define ATTACH_MAX (32 * 1024)

/* The model: used once MODEL_MIN_TOTAL messages are labelled, for topics
 * with MODEL_MIN_DOCS labelled messages at least (and two such topics). */
#define MODEL_MIN_DOCS 5
#define MODEL_MIN_TOTAL 50
#define MODEL_LAMBDA 0.5  /* keyword evidence kept for a topic it rules out */
#define MODEL_FALLBACK 0.6 /* posterior to assign a topic without keywords */
#define MODEL_KAPPA 20.0  /* effective tokens: tempers NB's overconfidence */
#define SUBJECT_REPEAT 2  /* subject terms count twice in the model */
#define MODEL_ALPHA 1.0   /* additive smoothing: 1 = Laplace */

enum model_mode { MODEL_AUTO, MODEL_OFF, MODEL_ONLY };

struct kw_word {
	uint64_t *hashes; /* the word's analysis: surface + lemmas */
	size_t n_terms;
};

struct keyword {
	size_t topic; /* index into topics */
	double weight;
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

/* The model, in memory: for each term hash the topics that saw it. */
struct mpair {
	uint32_t topic; /* index into topics */
	uint32_t n;
};
struct mslot {
	uint64_t h; /* 0 = empty */
	uint32_t off, cnt; /* into pairs */
};

struct sk_classifier {
	struct ctopic *topics;
	size_t n_topics;
	struct keyword *kws;
	size_t n_kws;
	struct entry *table;
	size_t table_size;
	char *generation; /* meta topics.generation when built */

	enum model_mode mode;
	bool model_active;
	bool *covered;	    /* per topic: enough labels */
	double *log_prior;  /* per covered topic */
	double *log_denom;  /* log(tokens + vocabulary) */
	struct mslot *slots;
	size_t n_slots;
	struct mpair *pairs;
	size_t n_pairs;
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

static const struct mslot *
model_slot(const struct sk_classifier *c, uint64_t h)
{
	if (!c->n_slots)
		return NULL;
	for (size_t i = (size_t)h & (c->n_slots - 1);;
	     i = (i + 1) & (c->n_slots - 1)) {
		if (!c->slots[i].h)
			return NULL;
		if (c->slots[i].h == h)
			return &c->slots[i];
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
	for (size_t i = 0; i < c->n_kws; i++) {
		for (size_t w = 0; w < c->kws[i].n_words; w++)
			free(c->kws[i].words[w].hashes);
	}
	for (size_t i = 0; i < c->table_size; i++)
		free(c->table[i].kws);
	free(c->table);
	free(c->topics);
	free(c->kws);
	free(c->generation);
	free(c->covered);
	free(c->log_prior);
	free(c->log_denom);
	free(c->slots);
	free(c->pairs);
	free(c);
	*cp = NULL;
}

/* An uncached statement, for the rare ones (the cache has few slots). */
static sqlite3_stmt *
prepare(struct sk_index *ix, const char *sql, struct sk_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sk_ix_error(ix, rc, "prepare", err);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

static enum sk_status
exec1(struct sk_index *ix, sqlite3_stmt *st, const char *what,
      struct sk_err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, what, err);
	return SK_OK;
}

/* ---- analysing text ------------------------------------------------------- */

/* One analysis of a text: the terms of each position (surface first),
 * and whether the position gives the model a feature. */
struct analysis {
	uint64_t *h;
	const char **s; /* term texts, only when a is set (training) */
	size_t n, cap, cap_s;
	size_t *start; /* first term of each position; start[n_pos] = n */
	unsigned char *skip;
	size_t n_pos, cap_pos, cap_skip;
	struct sk_arena *a;
};

/* Stop words, numbers, addresses and domains say nothing about a topic. */
static bool
no_feature(const char *t, size_t n)
{
	if (n < 2 || sk_analyze_is_stop(t, n))
		return true;
	for (size_t i = 0; i < n; i++)
		if ((t[i] >= '0' && t[i] <= '9') || t[i] == '@' || t[i] == '.')
			return true;
	return false;
}

static int
collect(void *ctx, const char *term, size_t len, uint32_t pos, size_t start,
	size_t end, bool colocated)
{
	struct analysis *an = ctx;
	(void)pos;
	(void)start;
	(void)end;
	if (!colocated || !an->n_pos) {
		sk_xgrow((void **)&an->start, &an->cap_pos, an->n_pos + 2,
			 sizeof(size_t));
		sk_xgrow((void **)&an->skip, &an->cap_skip, an->n_pos + 2, 1);
		an->start[an->n_pos] = an->n;
		an->skip[an->n_pos] = no_feature(term, len);
		an->n_pos++;
	}
	sk_xgrow((void **)&an->h, &an->cap, an->n + 1, sizeof(uint64_t));
	if (an->a) {
		sk_xgrow((void **)&an->s, &an->cap_s, an->n + 1,
			 sizeof(char *));
		an->s[an->n] = sk_arena_strndup(an->a, term, len);
	}
	an->h[an->n++] = term_hash(term, len);
	return 0;
}

static void
analyze(struct analysis *an, struct sk_arena *a, const char *text, size_t n)
{
	memset(an, 0, sizeof(*an));
	an->a = a;
	if (n)
		sk_analyze_doc(text, n, collect, an);
	sk_xgrow((void **)&an->start, &an->cap_pos, an->n_pos + 1,
		 sizeof(size_t));
	an->start[an->n_pos] = an->n;
}

static void
analysis_release(struct analysis *an)
{
	free(an->h);
	free(an->s);
	free(an->start);
	free(an->skip);
	memset(an, 0, sizeof(*an));
}

/* The model's features of position p: its lemmas (and compound parts)
 * when the analyzer found any, else the word itself. [*b, *e) index h. */
static bool
features_at(const struct analysis *an, size_t p, size_t *b, size_t *e)
{
	if (an->skip[p])
		return false;
	*b = an->start[p];
	*e = an->start[p + 1];
	if (*e - *b > 1)
		(*b)++;
	return true;
}

/* ---- building the classifier ----------------------------------------------- */

struct word_terms {
	struct kw_word *w;
	bool any;
};

static int
collect_word(void *ctx, const char *term, size_t len, uint32_t pos,
	     size_t start, size_t end, bool colocated)
{
	struct word_terms *wt = ctx;
	(void)pos;
	(void)start;
	(void)end;
	if (!colocated && wt->any)
		return 1; /* the next word: keywords are single words here */
	wt->any = true;
	wt->w->hashes = sk_xrealloc(wt->w->hashes,
				    (wt->w->n_terms + 1) * sizeof(uint64_t));
	wt->w->hashes[wt->w->n_terms++] = term_hash(term, len);
	return 0;
}

/* One keyword of the taxonomy: words joined by '_', optionally ":weight"
 * ("budżet_obywatelski", "ankieta:0.5"). */
static void
add_keyword(struct sk_classifier *c, size_t topic, const char *kw,
	    size_t *cap)
{
	struct sk_analyzer *an = sk_analyzer_thread();
	struct keyword k = { .topic = topic, .weight = 1.0 };
	char *copy = sk_xstrdup(kw), *colon = strrchr(copy, ':');
	const char *w = copy;

	if (colon) {
		char *end = NULL;
		double v = strtod(colon + 1, &end);
		if (end && !*end && end != colon + 1 && v > 0 && v <= 10) {
			k.weight = v;
			*colon = '\0';
		}
	}
	while (*w && k.n_words < MAX_KW_WORDS) {
		const char *u = strchr(w, '_');
		size_t len = u ? (size_t)(u - w) : strlen(w);
		struct word_terms wt = { &k.words[k.n_words], false };
		sk_analyze(an, w, len, SK_ANALYZE_QUERY, collect_word, &wt);
		if (k.words[k.n_words].n_terms)
			k.n_words++;
		w += len + (u ? 1 : 0);
	}
	free(copy);
	if (!k.n_words)
		return;
	sk_xgrow((void **)&c->kws, cap, c->n_kws + 1, sizeof(*c->kws));
	c->kws[c->n_kws++] = k;
}

static int
cmp_u64_pair(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;
	return a[0] < b[0] ? -1 : a[0] > b[0];
}

static size_t
topic_index(const struct sk_classifier *c, int64_t id)
{
	for (size_t i = 0; i < c->n_topics; i++)
		if (c->topics[i].id == id)
			return i;
	return c->n_topics;
}

static int64_t
query_i64(struct sk_index *ix, const char *sql)
{
	sqlite3_stmt *st = prepare(ix, sql, NULL);
	int64_t v = 0;
	if (!st)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Load the naive Bayes counts (topic_model_*) of the covered topics. */
static enum sk_status
load_model(struct sk_index *ix, struct sk_classifier *c, struct sk_err *err)
{
	struct sk_arena *a = sk_arena_new(0);
	const char *mode = sk_index_meta_get(ix, a, "classify.model");
	sqlite3_stmt *st;
	int64_t total, vocab;
	double sum_docs = 0;
	size_t n_cov = 0, n_rows = 0, cap_rows = 0;
	uint64_t *rows = NULL; /* (hash, topic << 32 | n) */
	int64_t *docs;

	c->mode = !mode || !strcmp(mode, "auto") ? MODEL_AUTO
		  : !strcmp(mode, "only")	 ? MODEL_ONLY
						 : MODEL_OFF;
	sk_arena_free(&a);
	if (c->mode == MODEL_OFF)
		return SK_OK;
	total = query_i64(ix, "SELECT count(DISTINCT message_id) FROM "
			      "topic_model_labels");
	if (total < MODEL_MIN_TOTAL)
		return SK_OK;
	c->covered = sk_xcalloc(c->n_topics + 1, sizeof(bool));
	c->log_prior = sk_xcalloc(c->n_topics + 1, sizeof(double));
	c->log_denom = sk_xcalloc(c->n_topics + 1, sizeof(double));
	docs = sk_xcalloc(c->n_topics + 1, sizeof(int64_t));
	vocab = query_i64(ix, "SELECT count(DISTINCT term) FROM "
			      "topic_model_terms WHERE n > 0");
	st = prepare(ix, "SELECT topic_id, docs, tokens FROM topic_model_docs",
		     err);
	if (!st) {
		free(docs);
		return err->code;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t t = topic_index(c, sqlite3_column_int64(st, 0));
		if (t == c->n_topics ||
		    sqlite3_column_int64(st, 1) < MODEL_MIN_DOCS)
			continue;
		c->covered[t] = true;
		docs[t] = sqlite3_column_int64(st, 1);
		c->log_denom[t] = log((double)sqlite3_column_int64(st, 2) +
				      MODEL_ALPHA * (double)(vocab + 1));
		sum_docs += (double)docs[t];
		n_cov++;
	}
	sqlite3_finalize(st);
	if (n_cov < 2) {
		free(docs);
		return SK_OK;
	}
	for (size_t t = 0; t < c->n_topics; t++)
		if (c->covered[t])
			c->log_prior[t] = log((double)docs[t] / sum_docs);
	free(docs);

	st = prepare(ix, "SELECT topic_id, term, n FROM topic_model_terms "
			 "WHERE n > 0",
		     err);
	if (!st)
		return err->code;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t t = topic_index(c, sqlite3_column_int64(st, 0));
		const char *term = (const char *)sqlite3_column_text(st, 1);
		int64_t n = sqlite3_column_int64(st, 2);
		if (t == c->n_topics || !c->covered[t] || !term)
			continue;
		if (n > UINT32_MAX)
			n = UINT32_MAX;
		sk_xgrow((void **)&rows, &cap_rows, 2 * n_rows + 2,
			 sizeof(uint64_t));
		rows[2 * n_rows] = term_hash(term, strlen(term));
		rows[2 * n_rows + 1] = (uint64_t)t << 32 | (uint64_t)n;
		n_rows++;
	}
	sqlite3_finalize(st);
	qsort(rows, n_rows, 2 * sizeof(uint64_t), cmp_u64_pair);
	c->pairs = sk_xcalloc(n_rows + 1, sizeof(*c->pairs));
	c->n_slots = 64;
	while (c->n_slots < n_rows * 2 + 64)
		c->n_slots *= 2;
	c->slots = sk_xcalloc(c->n_slots, sizeof(*c->slots));
	for (size_t i = 0; i < n_rows;) {
		uint64_t h = rows[2 * i];
		size_t k = (size_t)h & (c->n_slots - 1);
		while (c->slots[k].h)
			k = (k + 1) & (c->n_slots - 1);
		c->slots[k].h = h;
		c->slots[k].off = (uint32_t)c->n_pairs;
		for (; i < n_rows && rows[2 * i] == h; i++) {
			c->pairs[c->n_pairs].topic =
				(uint32_t)(rows[2 * i + 1] >> 32);
			c->pairs[c->n_pairs].n =
				(uint32_t)(rows[2 * i + 1] & 0xffffffffu);
			c->n_pairs++;
		}
		c->slots[k].cnt = (uint32_t)c->n_pairs - c->slots[k].off;
	}
	free(rows);
	c->model_active = true;
	return SK_OK;
}

static enum sk_status
build(struct sk_index *ix, struct sk_classifier **out, struct sk_err *err)
{
	struct sk_classifier *c = sk_xcalloc(1, sizeof(*c));
	struct sk_arena *a = sk_arena_new(0);
	sqlite3_stmt *st = prepare(
		ix,
		"SELECT t.id, coalesce(p.id, 0), t.keywords, t.subject_tags "
		"FROM topics t LEFT JOIN topics p ON p.id = t.parent_id "
		"ORDER BY t.id",
		err);
	size_t kcap = 0, tcap = 0;
	const char *gen;
	enum sk_status rc;

	if (!st) {
		free(c);
		sk_arena_free(&a);
		return err->code;
	}
	gen = sk_index_meta_get(ix, a, "topics.generation");
	c->generation = sk_xstrdup(gen ? gen : "");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct ctopic t = { sqlite3_column_int64(st, 0),
				    sqlite3_column_int64(st, 1), NULL, 0 };
		char *kw = sk_xstrdup((const char *)sqlite3_column_text(st, 2));
		char *tags = sk_xstrdup((const char *)sqlite3_column_text(st, 3));
		size_t idx = c->n_topics;

		for (char *tg = tags; tg && *tg;) {
			char *bar = strchr(tg, '|');
			size_t len = bar ? (size_t)(bar - tg) : strlen(tg);
			struct sk_str ts = sk_str_trim(tg, len);
			char *f = sk_fold(a, ts.p, ts.n);
			if (*f) {
				t.tags = sk_xrealloc(t.tags, (t.n_tags + 1) *
								     sizeof(char *));
				t.tags[t.n_tags++] = sk_xstrdup(f);
			}
			tg = bar ? bar + 1 : NULL;
		}
		sk_xgrow((void **)&c->topics, &tcap, c->n_topics + 1,
			 sizeof(*c->topics));
		c->topics[c->n_topics++] = t;
		for (char *k = kw; *k;) {
			size_t len = strcspn(k, " \t\n");
			if (len) {
				char save = k[len];
				k[len] = '\0';
				add_keyword(c, idx, k, &kcap);
				k[len] = save;
			}
			k += len;
			k += strspn(k, " \t\n");
		}
		free(kw);
		free(tags);
	}
	sqlite3_finalize(st);
	/* Parents are ids; turn them into indexes + 1. */
	for (size_t i = 0; i < c->n_topics; i++) {
		int64_t pid = c->topics[i].parent;
		size_t k = pid ? topic_index(c, pid) : c->n_topics;
		c->topics[i].parent = k < c->n_topics ? (int64_t)k + 1 : 0;
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
	rc = load_model(ix, c, err);
	if (rc) {
		sk_classifier_free(&c);
		return rc;
	}
	*out = c;
	return SK_OK;
}

/* The classifier of ix, rebuilt when the taxonomy or the model changed
 * (in this process or another: topics.generation in meta). */
static enum sk_status
classifier(struct sk_index *ix, struct sk_classifier **out,
	   struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix, "SELECT value FROM meta WHERE key = 'topics.generation'",
		err);
	bool stale = false;
	if (!st)
		return err->code;
	if (ix->classifier) {
		const char *g = "";
		if (sqlite3_step(st) == SQLITE_ROW)
			g = (const char *)sqlite3_column_text(st, 0);
		stale = strcmp(g ? g : "", ix->classifier->generation) != 0;
	}
	sqlite3_reset(st);
	if (stale)
		sk_classifier_free(&ix->classifier);
	if (!ix->classifier) {
		enum sk_status rc = build(ix, &ix->classifier, err);
		if (rc)
			return rc;
	}
	*out = ix->classifier;
	return SK_OK;
}

/* Something the classifier depends on changed: every handle rebuilds. */
static enum sk_status
bump_generation(struct sk_index *ix, struct sk_err *err)
{
	sqlite3_stmt *st = prepare(
		ix,
		"INSERT INTO meta(key, value) VALUES ('topics.generation', '1') "
		"ON CONFLICT(key) DO UPDATE SET value = "
		"CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
		err);
	enum sk_status rc;
	if (!st)
		return err->code;
	rc = exec1(ix, st, "bump topics generation", err);
	sqlite3_finalize(st);
	sk_classifier_free(&ix->classifier);
	return rc;
}

/* ---- scoring one message --------------------------------------------------- */

static bool
pos_has(const struct analysis *an, size_t pos, const struct kw_word *w)
{
	for (size_t t = 0; t < w->n_terms; t++)
		for (size_t i = an->start[pos]; i < an->start[pos + 1]; i++)
			if (an->h[i] == w->hashes[t])
				return true;
	return false;
}

struct match {
	size_t kw, pos, len;
};

/* Add weight * keyword evidence of one field to scores. A match inside a
 * longer match (of any topic) does not count. */
static void
score_keywords(struct sk_classifier *c, const struct analysis *an,
	       double weight, double *scores)
{
	struct match *m = NULL;
	size_t n_m = 0, cap_m = 0;
	unsigned char *cover;
	unsigned *hits;
	size_t *seen;

	if (!an->n_pos)
		return;
	for (size_t pos = 0; pos < an->n_pos; pos++)
		for (size_t i = an->start[pos]; i < an->start[pos + 1]; i++) {
			struct entry *e = table_slot(c, an->h[i], false);
			for (size_t j = 0; e && j < e->n; j++) {
				struct keyword *kw = &c->kws[e->kws[j]];
				bool ok = pos + kw->n_words <= an->n_pos;
				for (size_t w = 1; ok && w < kw->n_words; w++)
					ok = pos_has(an, pos + w, &kw->words[w]);
				if (!ok)
					continue;
				/* Two terms of one word may both hit. */
				if (n_m && m[n_m - 1].kw == e->kws[j] &&
				    m[n_m - 1].pos == pos)
					continue;
				sk_xgrow((void **)&m, &cap_m, n_m + 1,
					 sizeof(*m));
				m[n_m++] = (struct match){ e->kws[j], pos,
							   kw->n_words };
			}
		}
	if (!n_m) {
		free(m);
		return;
	}
	cover = sk_xcalloc(an->n_pos, 1);
	for (size_t i = 0; i < n_m; i++)
		for (size_t p = m[i].pos; p < m[i].pos + m[i].len; p++)
			if (cover[p] < m[i].len)
				cover[p] = (unsigned char)m[i].len;
	hits = sk_xcalloc(c->n_kws, sizeof(*hits));
	seen = sk_xcalloc(c->n_kws, sizeof(*seen));
	for (size_t i = 0; i < n_m; i++) {
		bool longest = true;
		for (size_t p = m[i].pos; p < m[i].pos + m[i].len; p++)
			longest = longest && cover[p] <= m[i].len;
		if (longest && seen[m[i].kw] != m[i].pos + 1) {
			seen[m[i].kw] = m[i].pos + 1;
			hits[m[i].kw]++;
		}
	}
	for (size_t k = 0; k < c->n_kws; k++)
		if (hits[k])
			scores[c->kws[k].topic] +=
				weight * c->kws[k].weight *
				(1.0 + log((double)hits[k])) *
				(c->kws[k].n_words > 1 ? PHRASE_BONUS : 1.0);
	free(cover);
	free(hits);
	free(seen);
	free(m);
}

/* Naive Bayes: accumulate the features of one field, times repeat. */
static void
model_accumulate(const struct sk_classifier *c, const struct analysis *an,
		 double repeat, double *acc, double *known)
{
	for (size_t p = 0; p < an->n_pos; p++) {
		size_t b, e;
		if (!features_at(an, p, &b, &e))
			continue;
		for (size_t i = b; i < e; i++) {
			const struct mslot *s = model_slot(c, an->h[i]);
			if (!s)
				continue; /* unseen in training: no evidence */
			*known += repeat;
			for (uint32_t k = 0; k < s->cnt; k++) {
				const struct mpair *pr = &c->pairs[s->off + k];
				acc[pr->topic] += repeat * (log((double)pr->n + MODEL_ALPHA) - log(MODEL_ALPHA));
			}
		}
	}
}

/* The model's posterior over covered topics into p (0 elsewhere). The
 * log-likelihood is scaled to MODEL_KAPPA tokens: multinomial NB is far
 * too sure of itself on long texts. Returns false when it has nothing to
 * say (no known term). */
static bool
model_posterior(const struct sk_classifier *c, const struct analysis *fields,
		const double *repeat, size_t n_fields, double *p)
{
	double *acc = sk_xcalloc(c->n_topics, sizeof(double));
	double known = 0, max = -INFINITY, sum = 0;

	for (size_t f = 0; f < n_fields; f++)
		model_accumulate(c, &fields[f], repeat[f], acc, &known);
	memset(p, 0, c->n_topics * sizeof(double));
	if (known <= 0) {
		free(acc);
		return false;
	}
	for (size_t t = 0; t < c->n_topics; t++) {
		if (!c->covered[t])
			continue;
		p[t] = c->log_prior[t] +
		       MODEL_KAPPA * (acc[t] + known * (log(MODEL_ALPHA) - c->log_denom[t])) / known;
		if (p[t] > max)
			max = p[t];
	}
	for (size_t t = 0; t < c->n_topics; t++)
		if (c->covered[t]) {
			p[t] = exp(p[t] - max);
			sum += p[t];
		}
	for (size_t t = 0; t < c->n_topics; t++)
		if (c->covered[t])
			p[t] /= sum;
	free(acc);
	return true;
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

/* The text a message is classified (and the model trained) by. */
struct msg_text {
	const char *subject, *body, *att;
	size_t body_n, att_n;
	int64_t thread;
};

static enum sk_status
load_text(struct sk_index *ix, struct sk_arena *a, int64_t id,
	  struct msg_text *t, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT subject, body, thread_id, coalesce(quote_start, "
		"length(CAST(body AS BLOB))), (SELECT group_concat("
		"coalesce(text, ''), char(10)) FROM attachments "
		"WHERE message_id = m.id) FROM messages m WHERE id = ?1",
		err);
	int64_t quote;
	size_t len;
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return sk_err_set(err, SK_ENOTFOUND, "no message %lld",
				  (long long)id);
	}
	t->subject = sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
	t->body = sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 1));
	t->thread = sqlite3_column_int64(st, 2);
	quote = sqlite3_column_int64(st, 3);
	t->att = sk_arena_strdup(a, sqlite3_column_text(st, 4)
					    ? (const char *)sqlite3_column_text(st, 4)
					    : "");
	sqlite3_reset(st);
	if (!t->subject)
		t->subject = "";
	if (!t->body)
		t->body = "";
	/* Only the author's own words count: quoted text belongs to the
	 * message it quotes. */
	len = strlen(t->body);
	t->body_n = quote < 0 || (size_t)quote > len ? len : (size_t)quote;
	t->body_n = sk_utf8_clip(t->body, t->body_n, BODY_MAX);
	t->att_n = sk_utf8_clip(t->att, strlen(t->att), ATTACH_MAX);
	return SK_OK;
}


struct chosen {
	size_t t;
	double score, conf;
	const char *source;
};

static int
cmp_chosen(const void *x, const void *y)
{
	const struct chosen *a = x, *b = y;
	return a->score < b->score ? 1 : a->score > b->score ? -1 : 0;
}

/* Decide the topics of one message from its scores. */
static size_t
decide(const struct sk_classifier *c, const double *scores,
       const bool *tagged, struct chosen *out)
{
	struct chosen *cand = sk_xcalloc(c->n_topics + 1, sizeof(*cand));
	size_t n = 0, k = 0;
	double ref = 0;

	for (size_t i = 0; i < c->n_topics; i++) {
		double s = tagged[i] && scores[i] < TAG_SCORE ? TAG_SCORE
							      : scores[i];
		if (!tagged[i] && scores[i] < MIN_SCORE)
			continue;
		cand[n].t = i;
		cand[n].score = tagged[i] ? 1e6 + s : s;
		cand[n].conf = tagged[i] ? 1.0 : s / (s + 4.0);
		cand[n].source = tagged[i] ? "tag" : "keyword";
		if (s > ref)
			ref = s;
		n++;
	}
	qsort(cand, n, sizeof(*cand), cmp_chosen);
	for (size_t i = 0; i < n && k < MAX_TOPICS; i++) {
		bool tag = cand[i].score >= 1e6;
		if (!tag && cand[i].score < SECOND_RATIO * ref)
			continue;
		out[k++] = cand[i];
	}
	free(cand);
	return k;
}

enum sk_status
sk_index_classify_message(struct sk_index *ix, int64_t id, struct sk_err *err)
{
	struct sk_classifier *c;
	struct sk_arena *a;
	struct msg_text t;
	struct analysis f[3];
	double *scores, *model = NULL, pmax = 0;
	bool *tagged;
	struct chosen *ch;
	size_t n_ch;
	sqlite3_stmt *st;
	enum sk_status rc;

	if ((rc = classifier(ix, &c, err)))
		return rc;
	if (!c->n_topics)
		return SK_OK;
	a = sk_arena_new(0);
	if ((rc = load_text(ix, a, id, &t, err))) {
		sk_arena_free(&a);
		return rc;
	}
	scores = sk_arena_alloc(a, c->n_topics * sizeof(double));
	tagged = sk_arena_alloc(a, c->n_topics * sizeof(bool));
	ch = sk_arena_alloc(a, (MAX_TOPICS + 1) * sizeof(*ch));
	analyze(&f[0], NULL, t.subject, strlen(t.subject));
	analyze(&f[1], NULL, t.body, t.body_n);
	analyze(&f[2], NULL, t.att, t.att_n);
	if (c->mode != MODEL_ONLY) {
		for (size_t i = 0; i < c->n_topics; i++)
			tagged[i] = subject_has_tag(a, t.subject, &c->topics[i]);
		score_keywords(c, &f[0], SUBJECT_WEIGHT, scores);
		score_keywords(c, &f[1], BODY_WEIGHT, scores);
		score_keywords(c, &f[2], ATTACH_WEIGHT, scores);
	}
	if (c->model_active) {
		static const double repeat[3] = { SUBJECT_REPEAT, 1, 1 };
		model = sk_arena_alloc(a, c->n_topics * sizeof(double));
		if (!model_posterior(c, f, repeat, 3, model))
			model = NULL;
		for (size_t i = 0; model && i < c->n_topics; i++)
			if (model[i] > pmax)
				pmax = model[i];
		/* Keyword evidence for a topic the model finds unlikely
		 * counts less: MODEL_LAMBDA of it when the model gives the
		 * topic nothing, all of it for the model's best topic. */
		for (size_t i = 0; model && i < c->n_topics; i++)
			if (c->covered[i])
				scores[i] *= MODEL_LAMBDA + (1 - MODEL_LAMBDA) *
								model[i] / pmax;
	}
	for (int i = 0; i < 3; i++)
		analysis_release(&f[i]);
	/* A subtopic's evidence supports its parent. */
	for (size_t i = 0; i < c->n_topics; i++)
		if (c->topics[i].parent) {
			scores[c->topics[i].parent - 1] += scores[i];
			tagged[c->topics[i].parent - 1] |= tagged[i];
		}
	if (c->mode == MODEL_ONLY) {
		/* The model alone (evaluation): its best topic. */
		n_ch = 0;
		for (size_t i = 0; model && !n_ch && i < c->n_topics; i++)
			if (model[i] == pmax)
				ch[n_ch++] = (struct chosen){ i, pmax, pmax,
							      "model" };
	} else {
		n_ch = decide(c, scores, tagged, ch);
		/* Nothing in the taxonomy's words, but the labels say: the
		 * model's best topic when it is sure enough. */
		if (!n_ch && model && pmax >= MODEL_FALLBACK)
			for (size_t i = 0; i < c->n_topics; i++)
				if (model[i] == pmax) {
					ch[n_ch++] = (struct chosen){
						i, pmax, pmax * 0.8, "model"
					};
					break;
				}
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
	if ((rc = exec1(ix, st, "classify", err)))
		goto out;
	for (size_t i = 0; i < n_ch; i++) {
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
		sqlite3_bind_int64(st, 2, c->topics[ch[i].t].id);
		sqlite3_bind_double(st, 3, ch[i].conf);
		sqlite3_bind_text(st, 4, ch[i].source, -1, SQLITE_STATIC);
		if ((rc = exec1(ix, st, "classify", err)))
			goto out;
	}
	rc = sk_index_thread_topics_refresh(ix, t.thread, err);
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
	/* A thread has the topics of its messages that carry weight in it:
	 * the summed confidence over its messages is THREAD_SHARE of the
	 * strongest topic's at least — one reply that mentions procurement
	 * does not make a thread about waste a procurement thread. Tags and
	 * a person's decision on a message (a meeting note's topics) always
	 * count; the latter is 'manual-message', which follows the message,
	 * unlike a manual decision on the thread itself. */
	static const char *const sql[] = {
		"DELETE FROM thread_topics WHERE thread_id = ?1 "
		"AND source <> 'manual' AND removed = 0",
		"WITH per AS (SELECT mt.topic_id, max(mt.confidence) AS mx, "
		"sum(mt.confidence) AS sm, sum(mt.source = 'manual') AS man, "
		"sum(mt.source = 'tag') AS tag, sum(mt.source = 'model') AS mdl "
		"FROM message_topics mt JOIN messages m ON m.id = mt.message_id "
		"WHERE m.thread_id = ?1 GROUP BY mt.topic_id) "
		"INSERT OR IGNORE INTO thread_topics(thread_id, topic_id, "
		"confidence, source) SELECT ?1, topic_id, mx, CASE WHEN man > 0 "
		"THEN 'manual-message' WHEN tag > 0 THEN 'tag' WHEN mdl > 0 "
		"THEN 'model' ELSE 'keyword' END FROM per WHERE man + tag > 0 "
		"OR sm >= ?2 * (SELECT max(sm) FROM per)",
	};
	int64_t before = topic_set_hash(ix, thread), after;
	sqlite3_stmt *st;
	enum sk_status rc;

	for (size_t i = 0; i < SK_ARRAY_SIZE(sql); i++) {
		st = sk_ix_stmt(ix, sql[i], err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, thread);
		if (i == 1)
			sqlite3_bind_double(st, 2, THREAD_SHARE);
		if ((rc = exec1(ix, st, "thread topics", err)))
			return rc;
	}
	after = topic_set_hash(ix, thread);
	if (before == after)
		return SK_OK;
	/* The messages' Xapian documents carry the thread's topics. */
	sk_index_mark_thread_dirty(ix, thread);
	return SK_OK;
}

/* ---- reclassifying many ---------------------------------------------------- */

enum sk_status
sk_index_classify(struct sk_index *ix, bool all, struct sk_err *err)
{
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	enum sk_status rc;

	/* The model learns the labels given since it last did. */
	if ((rc = sk_index_model_update(ix, err)))
		return rc;
	sk_classifier_free(&ix->classifier);
	st = prepare(ix,
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
	sqlite3_finalize(st);
	for (size_t i = 0; i < n && !rc; i += 1000) {
		bool own = !ix->in_batch;
		if (own)
			rc = sk_index_begin(ix, err);
		for (size_t k = i; k < n && k < i + 1000 && !rc; k++)
			rc = sk_index_classify_message(ix, ids[k], err);
		if (own && rc)
			sk_index_rollback(ix);
		else if (own)
			rc = sk_index_commit(ix, err);
	}
	free(ids);
	return rc;
}

/* ---- the model: learning the confirmed labels ------------------------------ */

/* A label is (message, topic): every message of a thread with a manual
 * topic, and every manual message topic (a meeting note's), unless the
 * thread says "not this topic". The model counts each label once;
 * topic_model_labels records which it has counted. */
#define LABELS                                                              \
	"WITH labels(message_id, topic_id) AS ("                             \
	"SELECT m.id, tt.topic_id FROM thread_topics tt JOIN messages m "    \
	"ON m.thread_id = tt.thread_id WHERE tt.source = 'manual' "          \
	"AND tt.removed = 0 UNION SELECT mt.message_id, mt.topic_id "        \
	"FROM message_topics mt WHERE mt.source = 'manual' AND NOT EXISTS (" \
	"SELECT 1 FROM messages m JOIN thread_topics tt ON tt.thread_id = "  \
	"m.thread_id WHERE m.id = mt.message_id AND tt.topic_id = "          \
	"mt.topic_id AND tt.removed = 1)) "

struct label {
	int64_t msg, topic;
	int sign; /* +1 learn, -1 forget */
};

static int
cmp_label(const void *x, const void *y)
{
	const struct label *a = x, *b = y;
	return a->msg < b->msg ? -1 : a->msg > b->msg;
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The model's features of a message, sorted (equal terms adjacent). */
static enum sk_status
message_features(struct sk_index *ix, struct sk_arena *a, int64_t id,
		 const char ***out, size_t *n_out, struct sk_err *err)
{
	struct msg_text t;
	struct analysis f[3];
	const char **v = NULL;
	size_t n = 0;
	enum sk_status rc = load_text(ix, a, id, &t, err);

	if (rc)
		return rc;
	analyze(&f[0], a, t.subject, strlen(t.subject));
	analyze(&f[1], a, t.body, t.body_n);
	analyze(&f[2], a, t.att, t.att_n);
	v = sk_arena_alloc(a, (SUBJECT_REPEAT * f[0].n + f[1].n + f[2].n + 1) *
				      sizeof(*v));
	for (int k = 0; k < 3; k++) {
		int rep = k == 0 ? SUBJECT_REPEAT : 1;
		for (size_t p = 0; p < f[k].n_pos; p++) {
			size_t b, e;
			if (!features_at(&f[k], p, &b, &e))
				continue;
			for (int r = 0; r < rep; r++)
				for (size_t i = b; i < e; i++)
					v[n++] = f[k].s[i];
		}
		analysis_release(&f[k]);
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	*n_out = n;
	return SK_OK;
}

static enum sk_status
learn(struct sk_index *ix, sqlite3_stmt *const *sts, const struct label *l,
      const char **terms, size_t n_terms, struct sk_err *err)
{
	enum sk_status rc = SK_OK;
	/* sts: 0 term upsert, 1 docs upsert, 2 label insert, 3 label delete */
	for (size_t i = 0; i < n_terms && !rc;) {
		size_t j = i;
		while (j < n_terms && !strcmp(terms[j], terms[i]))
			j++;
		sqlite3_bind_int64(sts[0], 1, l->topic);
		sqlite3_bind_text(sts[0], 2, terms[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(sts[0], 3, l->sign * (int64_t)(j - i));
		rc = exec1(ix, sts[0], "update topic model", err);
		i = j;
	}
	if (rc)
		return rc;
	sqlite3_bind_int64(sts[1], 1, l->topic);
	sqlite3_bind_int64(sts[1], 2, l->sign);
	sqlite3_bind_int64(sts[1], 3, l->sign * (int64_t)n_terms);
	if ((rc = exec1(ix, sts[1], "update topic model", err)))
		return rc;
	sqlite3_bind_int64(sts[l->sign > 0 ? 2 : 3], 1, l->msg);
	sqlite3_bind_int64(sts[l->sign > 0 ? 2 : 3], 2, l->topic);
	return exec1(ix, sts[l->sign > 0 ? 2 : 3], "update topic model", err);
}

static enum sk_status
model_update_tx(struct sk_index *ix, void *ctx, struct sk_err *err)
{
	static const char *const diff[2] = {
		LABELS "SELECT message_id, topic_id FROM labels EXCEPT "
		       "SELECT message_id, topic_id FROM topic_model_labels",
		LABELS "SELECT message_id, topic_id FROM topic_model_labels "
		       "EXCEPT SELECT message_id, topic_id FROM labels",
	};
	static const char *const upd[4] = {
		"INSERT INTO topic_model_terms(topic_id, term, n) VALUES "
		"(?1, ?2, ?3) ON CONFLICT(topic_id, term) DO UPDATE SET "
		"n = n + excluded.n",
		"INSERT INTO topic_model_docs(topic_id, docs, tokens) VALUES "
		"(?1, ?2, ?3) ON CONFLICT(topic_id) DO UPDATE SET "
		"docs = docs + excluded.docs, tokens = tokens + excluded.tokens",
		"INSERT INTO topic_model_labels(message_id, topic_id) "
		"VALUES (?1, ?2)",
		"DELETE FROM topic_model_labels WHERE message_id = ?1 "
		"AND topic_id = ?2",
	};
	struct label *l = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *sts[4] = { 0 };
	enum sk_status rc = SK_OK;
	bool *changed = ctx;

	for (int k = 0; k < 2 && !rc; k++) {
		sqlite3_stmt *st = prepare(ix, diff[k], err);
		if (!st)
			return err->code;
		while (sqlite3_step(st) == SQLITE_ROW) {
			sk_xgrow((void **)&l, &cap, n + 1, sizeof(*l));
			l[n++] = (struct label){ sqlite3_column_int64(st, 0),
						 sqlite3_column_int64(st, 1),
						 k == 0 ? 1 : -1 };
		}
		sqlite3_finalize(st);
	}
	if (!n)
		return SK_OK;
	*changed = true;
	qsort(l, n, sizeof(*l), cmp_label);
	for (int k = 0; k < 4 && !rc; k++)
		if (!(sts[k] = prepare(ix, upd[k], err)))
			rc = err->code;
	for (size_t i = 0; i < n && !rc;) {
		struct sk_arena *a = sk_arena_new(0);
		const char **terms = NULL;
		size_t n_terms = 0, j = i;
		rc = message_features(ix, a, l[i].msg, &terms, &n_terms, err);
		if (rc == SK_ENOTFOUND) { /* gone: only the label row is left */
			rc = SK_OK;
			n_terms = 0;
		}
		for (; j < n && l[j].msg == l[i].msg && !rc; j++)
			rc = learn(ix, sts, &l[j], terms, n_terms, err);
		sk_arena_free(&a);
		i = j;
	}
	for (int k = 0; k < 4; k++)
		sqlite3_finalize(sts[k]);
	if (!rc)
		rc = sk_db_exec(ix->db,
				"DELETE FROM topic_model_terms WHERE n <= 0; "
				"DELETE FROM topic_model_docs WHERE docs <= 0",
				err);
	free(l);
	if (!rc)
		rc = bump_generation(ix, err);
	return rc;
}

enum sk_status
sk_index_model_update(struct sk_index *ix, struct sk_err *err)
{
	bool changed = false;
	return sk_index_autotx(ix, model_update_tx, &changed, err);
}

static enum sk_status
model_rebuild_tx(struct sk_index *ix, void *ctx, struct sk_err *err)
{
	enum sk_status rc = sk_db_exec(ix->db,
				       "DELETE FROM topic_model_labels; "
				       "DELETE FROM topic_model_terms; "
				       "DELETE FROM topic_model_docs",
				       err);
	if (!rc)
		rc = model_update_tx(ix, ctx, err);
	if (!rc)
		rc = bump_generation(ix, err);
	return rc;
}

enum sk_status
sk_index_model_rebuild(struct sk_index *ix, struct sk_err *err)
{
	bool changed = false;
	return sk_index_autotx(ix, model_rebuild_tx, &changed, err);
}

enum sk_status
sk_index_model_stats(struct sk_index *ix, struct sk_model_stats *out,
		     struct sk_err *err)
{
	sqlite3_stmt *st = prepare(
		ix,
		"SELECT (SELECT count(DISTINCT message_id) FROM "
		"topic_model_labels), (SELECT count(*) FROM topic_model_labels), "
		"(SELECT count(*) FROM topic_model_docs WHERE docs >= ?1), "
		"(SELECT count(DISTINCT term) FROM topic_model_terms)",
		err);
	struct sk_classifier *c;
	enum sk_status rc;
	int src;

	memset(out, 0, sizeof(*out));
	if (!st)
		return err->code;
	sqlite3_bind_int(st, 1, MODEL_MIN_DOCS);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		out->labelled_messages = sqlite3_column_int64(st, 0);
		out->labels = sqlite3_column_int64(st, 1);
		out->topics_covered = sqlite3_column_int64(st, 2);
		out->vocabulary = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (src != SQLITE_ROW)
		return sk_ix_error(ix, src, "model statistics", err);
	if ((rc = classifier(ix, &c, err)))
		return rc;
	out->active = c->model_active;
	out->min_labels = MODEL_MIN_TOTAL;
	out->min_per_topic = MODEL_MIN_DOCS;
	return SK_OK;
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
	if (!rc)
		rc = bump_generation(ix, err);
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
