/* index/private.h: declarations shared inside index/ only — the Polish
 * analyzer, the query tree, the FTS5 tokenizer and the Xapian wrapper.
 * Nothing outside index/ (tests aside) includes this file. */
#ifndef SK_INDEX_PRIVATE_H
#define SK_INDEX_PRIVATE_H

#include "index/sk_index.h"

SK_BEGIN_DECLS

struct sqlite3;
struct sk_xdb;

/* The handle behind sk_index_open(); store.c owns its life. */
struct sk_index {
	char *dir;
	struct sqlite3 *db;
	struct sk_xdb *xdb; /* NULL when Xapian is off */
	unsigned flags;	    /* enum sk_index_open_flags */
	bool in_batch;
	struct sk_stmt_cache *stmts; /* prepared statements, by SQL text */
	struct sk_classifier *classifier; /* topic keywords, built lazily */
	bool has_xapian;  /* the data directory has a Xapian index */
	/* Messages whose FTS5 row is written just before COMMIT: FTS5
	 * flushes its pending terms at every statement savepoint, so
	 * writing rows last keeps a batch's terms together. */
	int64_t *fts_pending;
	size_t n_fts_pending, cap_fts_pending;
	unsigned added_flags; /* of the last message stored */
	bool dirty_failed; /* queueing a Xapian update failed: fail commit */
	/* should_hold()'s inputs (message.c), read once per transaction:
	 * nothing else writes them while it holds the write lock;
	 * sk_index_meta_set and sk_index_sync_partners invalidate. */
	bool hold_cached;
	bool hold_has_domains;
	char *hold_list_domain; /* "@domain" of list.address, or NULL */
	/* xapian_pending entries (id, seq) of the Xapian commit running in
	 * the background; deleted once it is confirmed (store.c). */
	int64_t *xap_async_ids, *xap_async_seqs;
	size_t n_xap_async, cap_xap_async;
	bool xap_background; /* sk_index_set_bulk */
	int64_t mmap_saved;  /* the store's mmap_size before bulk mode */
	/* Read-side caches (facets.c), valid while the store's change key
	 * (sk_index_version) is the one they were built at. */
	struct sk_ftab *ftab;
	struct sk_list_cache *lists; /* topics, quarters, counts (facets.c) */
	bool stats_cached;
	struct sk_ix_version {
		int64_t data_version, changes;
	} stats_ver;
	struct sk_stats stats;
};

struct sqlite3_stmt;
/* A prepared statement for sql (a string literal: the cache is keyed by
 * its address), reset and with bindings cleared. Owned by the cache; do not
 * finalize. NULL with err set when preparing fails. */
struct sqlite3_stmt *sk_ix_stmt(struct sk_index *ix, const char *sql,
				struct sk_err *err);
void sk_ix_stmt_cache_free(struct sk_index *ix);
/* Status for an SQLite result code on ix's connection. */
enum sk_status sk_ix_error(struct sk_index *ix, int rc, const char *what,
			   struct sk_err *err);

/* Run fn inside a transaction unless one is open already. */
enum sk_status sk_index_autotx(struct sk_index *ix,
			       enum sk_status (*fn)(struct sk_index *, void *,
						    struct sk_err *),
			       void *ctx, struct sk_err *err);
/* Message id's Xapian document is out of date: queue it in xapian_pending,
 * in the caller's transaction (no-op without a Xapian index). The writer
 * with a Xapian handle re-puts queued documents after each commit and when
 * it opens, so changes made on handles without Xapian (the web's) and
 * commits interrupted by a crash reach Xapian too. */
void sk_index_mark_dirty(struct sk_index *ix, int64_t id);
/* sk_index_mark_dirty for every message of thread. */
void sk_index_mark_thread_dirty(struct sk_index *ix, int64_t thread);
/* How many messages contain the FTS5 term (fts5vocab in the connection's
 * temp schema, created on first use); 0 when unknown. */
int64_t sk_index_term_docs(struct sk_index *ix, const char *term);
/* Build the Xapian document of stored message id from the store and put
 * it (message.c). */
enum sk_status sk_index_xapian_put(struct sk_index *ix, int64_t id,
				   struct sk_err *err);
/* Write the FTS5 row of message id (delete_old: remove the old row first,
 * with the text as it was indexed). */
enum sk_status sk_index_fts_put(struct sk_index *ix, int64_t id,
				bool delete_old, struct sk_err *err);

/* Write message id's FTS5 row when the transaction commits (a new
 * message; sk_index_fts_put writes at once). */
void sk_index_fts_queue(struct sk_index *ix, int64_t id);
/* Remove the FTS5 row of message id (before its text changes or goes). */
enum sk_status sk_index_fts_delete(struct sk_index *ix, int64_t id,
				   struct sk_err *err);
/* Recompute a thread's count, dates and subject from its messages. */
enum sk_status sk_index_thread_stats(struct sk_index *ix, int64_t thread,
				     struct sk_err *err);

/* ---- read-side caches (index/facets.c) ------------------------------------ */

/* The store's change key: it moves with every commit of another connection
 * (PRAGMA data_version) and every row written through this one. err may
 * be NULL. */
enum sk_status sk_index_version(struct sk_index *ix, struct sk_ix_version *out,
				struct sk_err *err);
bool sk_index_version_eq(const struct sk_ix_version *x,
			 const struct sk_ix_version *y);
/* Topic, partner and year facets of the matching message ids (any order),
 * counted in the handle's in-memory table (built or refreshed as needed):
 * the same counts and order as the SQL of search.c, at most max each.
 * False when the table cannot be built (then count in SQL). */
bool sk_index_facets_fast(struct sk_index *ix, struct sk_arena *a,
			  const int64_t *ids, size_t n, bool by_thread,
			  size_t max, struct sk_results *out);
/* How many distinct threads the message ids belong to (the same table);
 * -1 when there is no table or an id is not in it (a stale index). */
int64_t sk_index_count_threads(struct sk_index *ix, const int64_t *ids,
			       size_t n);
/* Build or refresh the table now; false when it cannot be built. */
bool sk_index_ftab_ready(struct sk_index *ix);
/* sk_index_topics' rows (for a coordinator or not), kept per handle while
 * the store does not change: copied into a when fresh (true); else false
 * with *ver set to the key the caller's rows will be kept under. */
bool sk_index_topics_cached(struct sk_index *ix, struct sk_arena *a,
			    bool coordinator, struct sk_topic_row **rows_out,
			    size_t *n_out, struct sk_ix_version *ver);
void sk_index_topics_keep(struct sk_index *ix, bool coordinator,
			  const struct sk_topic_row *rows, size_t n,
			  const struct sk_ix_version *ver);
/* The same for sk_index_quarters' rows (/kwartaly counts every quarter
 * of the archive: 250 M instructions at 50k). */
bool sk_index_quarters_cached(struct sk_index *ix, struct sk_arena *a,
			      bool coordinator,
			      struct sk_quarter_row **rows_out, size_t *n_out,
			      struct sk_ix_version *ver);
void sk_index_quarters_keep(struct sk_index *ix, bool coordinator,
			    const struct sk_quarter_row *rows, size_t n,
			    const struct sk_ix_version *ver);
/* The thread count of a listing (sk_index_threads: topic id, partner id,
 * 0 = any; coordinator's view or not), kept the same way: true with
 * *out when fresh, else false with *ver for sk_index_count_keep. */
bool sk_index_count_cached(struct sk_index *ix, int64_t topic,
			   int64_t partner, bool coordinator, int64_t *out,
			   struct sk_ix_version *ver);
void sk_index_count_keep(struct sk_index *ix, int64_t topic, int64_t partner,
			 bool coordinator, int64_t value,
			 const struct sk_ix_version *ver);
/* Free the handle's read-side caches (sk_index_close). */
void sk_index_caches_free(struct sk_index *ix);
struct sk_ftab;
void sk_ftab_free(struct sk_ftab **t);

/* The topic slugs of a thread (read.c), allocated from a. */
void sk_index_thread_topic_slugs(struct sk_index *ix, struct sk_arena *a,
				 int64_t thread, const char ***out,
				 size_t *n_out);

/* Topic classification (classify.c). */
struct sk_classifier;
void sk_classifier_free(struct sk_classifier **c);
/* Classify stored message id and refresh its thread's topics. */
enum sk_status sk_index_classify_message(struct sk_index *ix, int64_t id,
					 struct sk_err *err);
/* Recompute thread_topics of thread from its messages (manual rows kept);
 * marks the thread's messages dirty when the topic set changed. */
enum sk_status sk_index_thread_topics_refresh(struct sk_index *ix,
					      int64_t thread_id,
					      struct sk_err *err);

/* The text of the FTS5/Xapian "sender" field for a message. */
char *sk_index_sender_text(struct sk_arena *a, const char *name,
			   const char *addr);

/* ---- the Polish analyzer (index/analyze.c) --------------------------------
 *
 * One analyzer turns text into terms for both backends. A term is a UTF-8
 * string: NFKC, case folded, marks stripped and ł -> l (Unicode does not
 * decompose ł), at most SK_TERM_MAX bytes (longer ones are cut on a
 * character boundary), NUL-terminated. For each word the analyzer emits, at
 * the word's position, first the folded surface form, then (colocated, same
 * position) the folded lemmas hunspell-pl gives for it — all of them when
 * ambiguous — and, for a word written without Polish letters, the lemmas of
 * the Polish words it can stand for ("sluzba" -> służba -> sluzba,
 * "zamowien" -> zamówień -> zamowienie, zamowic).
 *
 * What one position holds (surface first; "index only" terms are left out
 * in SK_ANALYZE_QUERY mode, see below):
 *   word        surface, lemmas, lemmas of its restorations. Lemmas come
 *               from the lowercase word given to hunspell with a capital
 *               first letter, so proper nouns count ("krakowa" -> kraków,
 *               "Łodzi" -> łódź). ALL-CAPS words are looked up in
 *               lowercase only, never as proper nouns, and get no
 *               restoration: RODO stays "rodo" (not Roda), BIP is "bip".
 *               (A lowercase "rodo" is looked up as "Rodo" and also gets
 *               "roda".) Words with digits get no lemmas ("mp3", "10kg").
 *   compound    "wodno-ściekowa": surface "wodno-sciekowa"; the joined
 *               lemmas of the parts ("wodno-sciekowy"); index only: every
 *               part with its own expansion (wodno, sciekowa, sciekowy).
 *   number      digit groups joined by . , / : - keep their separators
 *               ("12/2011", "2024-01-15", "3,5"); groups of three digits
 *               after a space or NBSP are joined without it ("130 000" and
 *               "2 700 000,00" -> "130000", "2700000,00"); index only:
 *               each digit group ("130", "000").
 *   e-mail      "a.kowalczyk@brzozowka.example"; index only: the local
 *               part, the domain and its parent domains of two or more
 *               labels, and the words of both (a, kowalczyk, brzozowka;
 *               a known top-level label such as pl is left out).
 *   domain      "bip.brzozowka.pl" (three or more labels, or two ending in
 *               a known top-level domain such as pl, com, eu, example);
 *               index only: its parent domains and label words as above.
 *
 * Query mode gives a query word exactly the index-mode terms of the same
 * word minus the "index only" parts, so a query word ORs its alternatives
 * (the colocated terms) and is never widened to a part: the query
 * "wodno-ściekowa" does not match every "wodno", yet the query "ściekowa"
 * finds the compound, and `from:brzozowka.example` finds the address.
 * Analyze a phrase in one call: "130 000" is one position only when both
 * groups are seen together. Stop words are emitted in both modes. */

struct sk_analyzer;

/* The byte limit of a term. Only the first 256 bytes of a word are read
 * for its term; words over 60 bytes get no lemmas. */
#define SK_TERM_MAX 64

/* The calling thread's analyzer, created on first use (one hunspell handle
 * per thread, created under a global mutex when the first word missing from
 * the lexicon needs it) and freed at thread exit.
 * Never NULL: without the dictionary it still folds, with no lemmas. It
 * caches each distinct token's terms (200 000 tokens, about 20 MB at most,
 * emptied when full) next to hunspell's ~31 MB. */
struct sk_analyzer *sk_analyzer_thread(void);
/* True when hunspell-pl was found (lemmas available). */
bool sk_analyzer_has_lemmas(struct sk_analyzer *an);

/* A private analyzer, for tests and benchmarks (opt may be NULL). */
struct sk_analyzer_options {
	const char *dictionary; /* "/dir/pl_PL" (.aff and .dic added); NULL:
				   /usr/share/hunspell/pl_PL and friends */
	size_t cache_entries;	/* 0: 200 000 words; cleared when full */
	int restore_filter;	/* 0: auto, 1: build it now, -1: never (see
				   analyze.c; results are the same) */
	bool no_lexicon;	/* never look words up in the lexicon */
};
struct sk_analyzer *sk_analyzer_new(const struct sk_analyzer_options *opt);
void sk_analyzer_free(struct sk_analyzer **an); /* sets *an = NULL */

struct sk_analyzer_stats {
	uint64_t lookups;      /* cache lookups: tokens, and the parts of
				  compounds and addresses */
	uint64_t hits, misses; /* of those lookups */
	uint64_t clears;       /* times the full cache was emptied */
	uint64_t stem_calls, spell_calls; /* hunspell calls */
	size_t cache_entries, cache_bytes; /* bytes: slab + table */
	bool restore_filter;		   /* the filter is in use */
	bool hunspell;			   /* the handle was created */
	uint64_t lexicon_hits;		   /* words found in the lexicon */
};
void sk_analyzer_get_stats(struct sk_analyzer *an,
			   struct sk_analyzer_stats *st);
/* Forget every cached word (benchmarks of the cold path). */
void sk_analyzer_clear_cache(struct sk_analyzer *an);

enum sk_analyze_mode {
	SK_ANALYZE_INDEX, /* every word with surface, lemmas, restorations */
	SK_ANALYZE_QUERY, /* the same expansion for a query's words */
};

/* Called once per term. pos counts words from 0 within one call (the
 * caller adds a base per field). colocated is false for the first term of
 * a position and true for the others at the same position; no term comes
 * twice at one position. [start, end) are the word's byte offsets in the
 * input text. term is valid until the callback returns. Return non-zero to
 * stop. The callback must not call sk_analyze() on the same analyzer. */
typedef int sk_term_fn(void *ctx, const char *term, size_t len, uint32_t pos,
		       size_t start, size_t end, bool colocated);

/* Analyze text of n bytes (UTF-8; invalid bytes separate words like
 * punctuation). Returns the number of positions used (the position of the
 * term that stopped it counts). Words that fold to nothing take no
 * position. Stop words are emitted too (phrases need them);
 * sk_analyze_is_stop tells which surface terms are stop words. */
uint32_t sk_analyze(struct sk_analyzer *an, const char *text, size_t n,
		    enum sk_analyze_mode mode, sk_term_fn *fn, void *ctx);
/* True for a folded term on the Polish stop list ("i", "w", "ze", "sie",
 * "nie", ...). Ask it about the surface term of a position (the first). */
bool sk_analyze_is_stop(const char *term, size_t len);

/* Fold one string the way terms are folded (NFKC, case fold, strip marks,
 * ł -> l), into an arena string. Invalid UTF-8 is replaced by U+FFFD and
 * control characters other than \t and \n are dropped first. No length
 * limit (terms are cut at SK_TERM_MAX, this is not). */
char *sk_fold(struct sk_arena *a, const char *s, size_t n);

/* ---- the writer's analysis memo (index/terms.c) ----------------------- */

/* Between start and stop (a write batch: sk_index_begin to the end of
 * sk_index_commit or sk_index_rollback), the calling thread analyses each
 * distinct document text once: sk_analyze_doc() records the terms and
 * replays them when the same bytes come again (classifier, FTS5, Xapian).
 * Stopping frees the memo. Outside a batch sk_analyze_doc() is
 * sk_analyze(sk_analyzer_thread(), ..., SK_ANALYZE_INDEX, ...). */
void sk_terms_memo_start(void);
void sk_terms_memo_stop(void);
/* Process-wide switch (default on) so tests and benchmarks can compare
 * the memo's terms with the analyzer's own; off, start does nothing. */
void sk_terms_memo_set_enabled(bool on);
/* sk_analyze() in SK_ANALYZE_INDEX mode on the thread's analyzer, with the
 * same terms, positions, offsets and return value. */
uint32_t sk_analyze_doc(const char *text, size_t n, sk_term_fn *fn,
			void *ctx);
struct sk_terms_memo_stats {
	uint64_t hits, misses; /* the thread's texts replayed / recorded */
	size_t bytes;	       /* held now */
};
/* The thread's counts so far; returns false when its memo is off. */
bool sk_terms_memo_get_stats(struct sk_terms_memo_stats *st);

/* Bump when the terms sk_analyze gives for a word change: lexicons
 * written by another version are ignored. */
#define SK_ANALYZER_VERSION 1
/* The analyzer's 64-bit hash of n bytes (not for security). */
uint64_t sk_analyze_hash(const void *p, size_t n, uint64_t seed);
/* The process's restoration filter when it is built for dict (blocks of
 * 64 bytes, read-only), for saving it; false when there is none. */
bool sk_analyze_filter(const char *dict, const uint64_t **bits,
		       size_t *nblocks, size_t *keys);

/* ---- the persistent lexicon (index/lexicon.c) ----------------------------
 *
 * DATA/lexicon.bin: the terms of every corpus word that needed hunspell,
 * and the restoration filter, so readers analyse corpus words without
 * creating Hunspell or building the filter. Results never depend on it. */

/* At sk_index_open: attach the directory's lexicon for this process's
 * analyzers (cheap when unchanged); a writer with Xapian starts recording
 * the words its analyzers look up with hunspell. */
void sk_lexicon_open(struct sk_index *ix);
/* At sk_index_close of a writer with Xapian: write the lexicon (old
 * entries plus the recorded words, atomically) when it grew. */
void sk_lexicon_save(struct sk_index *ix);
/* The analysis of a word (key: see analyze.c) in the attached lexicon
 * for dictionary dict: *n terms, each a length byte and its bytes. */
bool sk_lexicon_find(const char *dict, const char *key, size_t keylen,
		     const unsigned char **terms, unsigned *n);
/* Record a word analysed with hunspell (writers only; else a no-op and
 * false). */
bool sk_lexicon_record(const char *dict, const char *key, size_t keylen,
		       unsigned n, const unsigned char *terms, size_t termlen);
/* True in a writer that records words. */
bool sk_lexicon_recording(void);
/* True when the word is in the attached lexicon or recorded. */
bool sk_lexicon_known(const char *dict, const char *key, size_t keylen);
/* The attached lexicon's restoration filter for dict, once its checksum
 * has been verified. */
bool sk_lexicon_filter(const char *dict, const uint64_t **bits,
		       size_t *nblocks, size_t *keys);
struct sk_lexicon_stats {
	bool attached, has_filter;
	size_t words;	 /* in the attached file */
	size_t recorded; /* waiting for the next save */
};
void sk_lexicon_get_stats(struct sk_lexicon_stats *st);

/* ---- the FTS5 tokenizer (index/fts.c) ----------------------------------- */

/* Register the 'skarbnica' FTS5 tokenizer on a connection (an
 * sk_db_connect_fn). It takes no arguments and tokenizes with
 * sk_analyzer_thread(): documents in SK_ANALYZE_INDEX mode, queries in
 * SK_ANALYZE_QUERY mode (colocated tokens are alternatives), prefix
 * queries ("zamow*") with the folded surface only. Returns an SQLite
 * result code. */
int sk_fts_register(struct sqlite3 *db, void *unused);

/* ---- the query language (index/query.c) --------------------------------
 *
 * One parser builds one tree; each backend compiles it. */

enum sk_qnode_kind {
	SK_Q_AND,
	SK_Q_OR,
	SK_Q_NOT,     /* one child */
	SK_Q_WORD,    /* text: one word (or a hyphenated compound) */
	SK_Q_PHRASE,  /* text: several words, in order */
	SK_Q_TOPIC,   /* text: slug */
	SK_Q_PARTNER, /* text: slug */
	SK_Q_DATE,    /* date_from/date_to, 0 = open end */
	SK_Q_HAS_ATTACHMENT,
	SK_Q_ALL,     /* matches everything (an empty query) */
};

enum sk_qfield {
	SK_QF_ANY = 0, /* subject, sender, body, attachments */
	SK_QF_SUBJECT,
	SK_QF_FROM,
};

struct sk_qnode {
	enum sk_qnode_kind kind;
	enum sk_qfield field; /* WORD, PHRASE */
	const char *text;     /* as typed (UTF-8), for WORD/PHRASE/slugs */
	time_t date_from, date_to; /* DATE: [from, to) in UTC seconds */
	struct sk_qnode **kids;
	size_t n_kids;
};

/* Query limits: longer or deeper queries are SK_EINVAL. */
#define SK_QUERY_MAX_BYTES 1024
#define SK_QUERY_MAX_NODES 64
#define SK_QUERY_MAX_DEPTH 16

/* Parse q into a tree allocated from a. SK_EINVAL with a Polish message
 * for the user on syntax errors (unbalanced parentheses or quotes, a
 * dangling OR, an unknown field, a bad date, a query of only NOT terms...).
 * An empty query gives SK_Q_ALL. */
enum sk_status sk_query_parse(struct sk_arena *a, const char *q,
			      struct sk_qnode **root_out, struct sk_err *err);
/* A canonical text form of a tree (for tests and logs). */
char *sk_query_dump(struct sk_arena *a, const struct sk_qnode *n);

/* ---- the Xapian wrapper (index/xap.cc, the only C++ file) --------------
 *
 * Documents are messages keyed by the store id. Terms come from
 * sk_analyze(); field prefixes and value slots are fixed in xap.cc. No
 * exception crosses into C: every entry point returns a status. */

enum sk_xdb_mode { SK_XDB_READ, SK_XDB_WRITE };

/* SK_EAGAIN when another process holds the writer lock. */
enum sk_status sk_xdb_open(const char *dir, enum sk_xdb_mode mode,
			   struct sk_xdb **db_out, struct sk_err *err);
void sk_xdb_close(struct sk_xdb **db);
/* Readers: see the latest commit (cheap when nothing changed). */
enum sk_status sk_xdb_reopen(struct sk_xdb *db, struct sk_err *err);

/* What a message document holds; all strings UTF-8. */
struct sk_xdoc {
	int64_t id;
	int64_t thread_id;
	time_t date;
	const char *subject, *sender, *body, *attachments;
	const char *partner;	/* slug or NULL */
	const char **topics;	/* slugs */
	size_t n_topics;
	bool has_attachment;
	bool held;		/* SK_MSG_HELD and not approved */
	const char *message_id;	/* without <> (federated results show it) */
};

/* Add or replace (by id) a document. Writers only. */
enum sk_status sk_xdb_put(struct sk_xdb *db, const struct sk_xdoc *d,
			  struct sk_err *err);
enum sk_status sk_xdb_delete(struct sk_xdb *db, int64_t id,
			     struct sk_err *err);
enum sk_status sk_xdb_commit(struct sk_xdb *db, struct sk_err *err);
/* Writers: queue a commit for a background thread and return; from then
 * on puts and deletes are queued too and applied in order, and every
 * other entry point first waits for the queue. sk_xdb_wait() waits and
 * returns the first error since the last wait (then cleared);
 * sk_xdb_commit() is both. Close applies what is queued. */
enum sk_status sk_xdb_commit_async(struct sk_xdb *db, struct sk_err *err);
enum sk_status sk_xdb_wait(struct sk_xdb *db, struct sk_err *err);
/* Append document id as text to out: each term with its wdf and
 * positions, the values, the data (tests compare indexing paths).
 * SK_EINDEX: no such document. */
enum sk_status sk_xdb_doc_dump(struct sk_xdb *db, int64_t id,
			       struct sk_buf *out, struct sk_err *err);
int64_t sk_xdb_doccount(struct sk_xdb *db);
/* Call fn for every unprefixed term starting with prefix, in order, with
 * the number of documents holding it (read from the term list: no posting
 * list is read). Stops when fn returns non-zero. SK_EINVAL on a federated
 * database (the term lists are remote). */
enum sk_status sk_xdb_terms(struct sk_xdb *db, const char *prefix,
			    int (*fn)(void *ctx, const char *term,
				      int64_t docs),
			    void *ctx, struct sk_err *err);

struct sk_xsearch {
	const struct sk_qnode *query;
	size_t offset, limit;
	bool sort_by_date;
	bool collapse_threads;
	bool include_held;
	/* Collapsed, but the caller counts the threads from all_ids (the
	 * thread value spy was 12 M instructions a search at 50k):
	 * *total_out is then the number of matching messages. */
	bool caller_counts_threads;
};

/* Run a query: ids of the page in rank order into ids_out (allocated from
 * a), the exact total into *total_out. When all_ids_out is not NULL it gets
 * every matching id (for facets), in no particular order.
 * SK_EAGAIN: DatabaseModifiedError persisted after reopen-and-retry. */
enum sk_status sk_xdb_search(struct sk_xdb *db, struct sk_arena *a,
			     const struct sk_xsearch *s, int64_t **ids_out,
			     size_t *n_out, int64_t *total_out,
			     int64_t **all_ids_out, size_t *n_all_out,
			     struct sk_err *err);

/* ---- federated search over xapian-tcpsrv shards (index/xap.cc) ---- */
/* One hit of a federated search. Strings live in the caller's arena. */
struct sk_xfed_hit {
	unsigned shard;		/* position in the shard list: 0 is the
				   local index when there is one */
	const char *shard_name;	/* "local" or "host:port" */
	int64_t id;		/* the message id in that shard's store */
	const char *message_id;	/* without <>; "" when the shard's index
				   predates it (reindex the shard) */
	int64_t thread_id;	/* in that shard's store */
	time_t date;
	const char *subject, *sender; /* as indexed ("" in old indexes) */
	const char *partner;	/* slug or NULL */
	const char **topics;	/* slugs */
	size_t n_topics;
	double weight;
};

struct sk_xfed_facet {
	const char *value; /* slug, or a year "2024" */
	int64_t count;	   /* matching messages, summed over shards */
};

struct sk_xfed_results {
	int64_t total; /* exact number of matching messages, all shards */
	struct sk_xfed_hit *hits;
	size_t n_hits;
	struct sk_xfed_facet *topics, *partners, *years;
	size_t n_topics, n_partners, n_years;
};

/* Open, read-only, one database made of the Xapian index in local_dir
 * (NULL: none) and the shards of spec, "host:port, host:port" (commas or
 * blanks between; [v6]:port), each served by xapian-tcpsrv. The remote
 * protocol has no authentication: private networks or SSH only.
 * SK_EINVAL: a bad spec. SK_ENOTFOUND/SK_EINDEX: a shard cannot be
 * reached or opened (the message names it). Close with sk_xdb_close();
 * sk_xdb_reopen() and sk_xdb_doccount() work on it; sk_xdb_search() does
 * not (SK_EINVAL): use sk_xdb_fed_search(). */
enum sk_status sk_xdb_open_federated(const char *local_dir, const char *spec,
				     struct sk_xdb **db_out,
				     struct sk_err *err);
/* True for a database opened by sk_xdb_open_federated(). */
bool sk_xdb_is_federated(struct sk_xdb *db);
/* 1 for a plain index, else the number of shards (local included). */
size_t sk_xdb_shard_count(struct sk_xdb *db);
/* True for a plain index and for a federation with a local shard 0. */
bool sk_xdb_has_local(struct sk_xdb *db);

/* Run s over every shard: one ranking (Xapian merges the shards' weights
 * with global statistics), flat by message (s->collapse_threads is
 * ignored: thread ids are per store), the exact total, and with
 * want_facets the topic, partner and year counts merged over the shards
 * (from value slots; an index written before them gives no topic or
 * partner counts). SK_EAGAIN: the index kept changing; SK_EINDEX: a shard
 * failed (network errors included). */
enum sk_status sk_xdb_fed_search(struct sk_xdb *db, struct sk_arena *a,
				 const struct sk_xsearch *s, bool want_facets,
				 struct sk_xfed_results *out,
				 struct sk_err *err);

SK_END_DECLS
#endif
