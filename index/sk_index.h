/* index/sk_index.h: the store API (all SQL lives behind it) and search.
 *
 * The only header ingest/, web/ and mailer/ include from index/. No SQLite or
 * Xapian type appears here. A struct sk_index is one thread's handle on the
 * data directory: the SQLite store (DATA/skarbnica.db) and, when enabled, the
 * Xapian database (DATA/xapian/). Never share a handle between threads. */
#ifndef SK_INDEX_H
#define SK_INDEX_H

#include "lib/sk_base.h"

SK_BEGIN_DECLS

struct sk_index;

enum sk_index_open_flags {
	SK_INDEX_WRITE = (1 << 0),  /* the one writer: ingest, curation */
	SK_INDEX_CREATE = (1 << 1), /* create the store when missing (init) */
	SK_INDEX_NO_XAPIAN = (1 << 2), /* FTS5 only (tests, small setups) */
};

/* Open the data directory. Readers (no SK_INDEX_WRITE) see commits made
 * after they open: each search re-checks the store and reopens Xapian.
 * SK_ENOTFOUND: no store there (message says to run init).
 * SK_EAGAIN: the Xapian writer lock is held by another process.
 * SK_EDB, SK_EINDEX, SK_EIO: the store or index cannot be opened. */
enum sk_status sk_index_open(const char *data_dir, unsigned flags,
			     struct sk_index **ix_out, struct sk_err *err);
void sk_index_close(struct sk_index **ix); /* sets *ix = NULL */

/* ---- writing: messages from ingest ------------------------------------ */

enum sk_msg_flags {
	SK_MSG_MALFORMED = (1 << 0),   /* parse failed: raw kept, text partial */
	SK_MSG_SYNTHETIC_ID = (1 << 1),/* no Message-ID: made from a hash */
	SK_MSG_TRUNCATED = (1 << 2),   /* a limit cut text or parts */
	SK_MSG_HELD = (1 << 3),        /* sender outside partner domains */
	SK_MSG_CHARSET_GUESSED = (1 << 4), /* label missing or wrong */
	SK_MSG_HTML_ONLY = (1 << 5),
	SK_MSG_OFF_LIST = (1 << 6),    /* List-Id differs from the list's */
};

/* An attachment as ingest hands it over; all pointers borrowed. */
struct sk_attachment {
	const char *filename;	  /* decoded UTF-8, may be "" */
	const char *content_type; /* lowercase type/subtype */
	const void *data;	  /* decoded bytes */
	size_t size;
	const char *text;	  /* extracted UTF-8 text or NULL */
	const char *extract_status; /* "ok", "none", "failed", "skipped" */
	const char *extract_error;  /* NULL unless failed */
};

/* A parsed message as ingest hands it over; all text valid UTF-8, all
 * pointers borrowed for the duration of sk_index_add_message(). */
struct sk_message {
	const char *raw; /* the message exactly as received */
	size_t raw_len;
	const char *message_id; /* without <>; synthetic when missing */
	const char *subject;
	const char *from_name;
	const char *from_addr; /* lowercase */
	const char *to_addrs;  /* decoded, comma separated */
	const char *cc_addrs;
	time_t date; /* Date: header, else the time of ingest */
	const char *in_reply_to; /* without <>, or NULL */
	const char **references; /* oldest first, without <> */
	size_t n_references;
	const char *list_id; /* the id inside <>, or NULL */
	const char *body;    /* UTF-8 text (HTML converted, forwards read) */
	size_t quote_start;  /* byte offset of the first quoted line, or
				strlen(body) when nothing is quoted */
	const struct sk_attachment *attachments;
	size_t n_attachments;
	unsigned flags; /* enum sk_msg_flags */
	const char *parse_error; /* why SK_MSG_MALFORMED, or NULL */
};

/* Apply the Xapian updates other handles queued (the web's notes and
 * curation, a crashed run). Cheap when nothing is queued; a no-op without
 * a Xapian writer or inside a transaction. Long-running writers (ingest
 * --watch) call it while idle. */
enum sk_status sk_index_xapian_catch_up(struct sk_index *ix,
					struct sk_err *err);
/* Bulk writers (ingest): let sk_index_commit leave Xapian's inverter and
 * commit to a background thread while the next batch is stored, and read
 * the store without mmap so that memory stays flat as it grows. Other
 * handles then see a batch in Xapian up to one batch late; the store and
 * FTS5 are not affected, and sk_index_xapian_catch_up or closing waits. */
void sk_index_set_bulk(struct sk_index *ix, bool on);

/* Group many adds into one transaction (and one Xapian commit). Nesting is
 * not supported. Without begin/commit each add is its own transaction. */
enum sk_status sk_index_begin(struct sk_index *ix, struct sk_err *err);
enum sk_status sk_index_commit(struct sk_index *ix, struct sk_err *err);
void sk_index_rollback(struct sk_index *ix);

/* Store one message: raw bytes, parsed fields, attachments, threading,
 * partner attribution, topics, and both indexes. *id_out (may be NULL) gets
 * the store id. SK_EEXIST: this exact message is stored already (the same
 * raw bytes, or the same Message-ID with the same body); *id_out is the
 * stored one. Two different messages with one Message-ID are both kept. */
enum sk_status sk_index_add_message(struct sk_index *ix,
				    const struct sk_message *m,
				    int64_t *id_out, struct sk_err *err);
/* The flags the store gave the message of the last successful
 * sk_index_add_message() on this handle: m->flags plus what the store
 * decided (SK_MSG_HELD for senders outside the partners). */
unsigned sk_index_added_flags(const struct sk_index *ix);

/* ---- sources: where ingest stands ------------------------------------- */

struct sk_source_state {
	int64_t id;
	int64_t uidvalidity; /* IMAP; 0 = unknown */
	int64_t last_uid;    /* IMAP */
	int64_t mbox_offset; /* mbox: bytes done */
};

/* Find or create the row for (kind, location). kind: imap|maildir|mbox|
 * stdin. */
enum sk_status sk_index_source_get(struct sk_index *ix, const char *kind,
				   const char *location,
				   struct sk_source_state *st_out,
				   struct sk_err *err);
/* Record a new position; call inside the transaction that stored the
 * messages up to it, so both commit together. */
enum sk_status sk_index_source_set(struct sk_index *ix,
				   const struct sk_source_state *st,
				   struct sk_err *err);
/* Maildir: has this unique name been stored? */
bool sk_index_source_file_done(struct sk_index *ix, int64_t source_id,
			       const char *name);
enum sk_status sk_index_source_file_add(struct sk_index *ix,
					int64_t source_id, const char *name,
					struct sk_err *err);

/* ---- set-up: partners, topics, users ------------------------------------ */

/* Make the partners table match the config (adds and updates; partners no
 * longer configured keep their rows but lose their domains). */
enum sk_status sk_index_sync_partners(struct sk_index *ix,
				      const struct sk_partner_conf *p,
				      size_t n, struct sk_err *err);
/* Load a taxonomy text (format: schema/taxonomy.txt) into topics; existing
 * slugs are updated, none deleted. */
/* The built-in taxonomy (schema/taxonomy.txt); static storage. */
const char *sk_index_default_taxonomy(void);
enum sk_status sk_index_load_taxonomy(struct sk_index *ix, const char *text,
				      struct sk_err *err);
/* Classify messages (all when all is true, else those without topics) and
 * derive thread topics. Manual decisions are kept. */
enum sk_status sk_index_classify(struct sk_index *ix, bool all,
				 struct sk_err *err);

enum sk_role { SK_ROLE_READER, SK_ROLE_COORDINATOR, SK_ROLE_ADMIN };
const char *sk_role_name(enum sk_role r);
enum sk_status sk_role_parse(const char *s, enum sk_role *out);

/* Add or update a user. password may be NULL (link login only); it is hashed
 * with argon2id. SK_EINVAL for a bad address. */
enum sk_status sk_index_user_set(struct sk_index *ix, const char *email,
				 const char *name, enum sk_role role,
				 const char *password, struct sk_err *err);

/* Small facts about the store, e.g. "list.address" (mail from the list's
 * own domain is never held) or "demo". sk_index_meta_get returns NULL when
 * unset; the string is allocated from a. */
enum sk_status sk_index_meta_set(struct sk_index *ix, const char *key,
				 const char *value, struct sk_err *err);
const char *sk_index_meta_get(struct sk_index *ix, struct sk_arena *a,
			      const char *key);

/* ---- statistics ----------------------------------------------------------- */

struct sk_stats {
	int64_t messages, threads, attachments, flagged, held;
	int64_t partners, topics, users, notes;
	int64_t outbox_queued, outbox_failed;
	int64_t store_bytes, xapian_bytes;
	int64_t last_ingest; /* time of the newest message stored, 0 if none */
};
enum sk_status sk_index_stats(struct sk_index *ix, struct sk_stats *out,
			      struct sk_err *err);

/* ---- reading: what the web shows ---------------------------------------- */

/* Who is looking decides what is shown: held mail only to coordinators;
 * addresses only to logged-in partners. */
struct sk_viewer {
	bool logged_in;
	bool coordinator;
};

struct sk_topic_row {
	int64_t id;
	const char *slug, *name, *description;
	const char *parent_slug; /* NULL at the first level */
	int64_t threads;	 /* visible threads with this topic */
};

struct sk_partner_row {
	int64_t id;
	const char *slug, *name, *kind;
	int64_t messages;
};

struct sk_attachment_row {
	int64_t id;
	int position;
	const char *filename, *content_type, *sha256;
	int64_t size;
	const char *extract_status;
};

struct sk_message_row {
	int64_t id;
	const char *message_id;
	int64_t thread_id;
	int64_t parent_id; /* 0 when none */
	int depth;	   /* nesting depth in its thread view */
	const char *subject;
	const char *from_name, *from_addr;
	const char *to_addrs, *cc_addrs;
	time_t date;
	const char *body; /* NULL in list views */
	size_t quote_start;
	const char *partner_slug, *partner_name; /* NULL when none */
	unsigned flags;
	const char *parse_error;
	const struct sk_attachment_row *attachments;
	size_t n_attachments;
	const char **topics; /* slugs */
	size_t n_topics;
};

struct sk_thread_row {
	int64_t id;
	const char *subject;
	time_t first_date, last_date;
	int64_t messages;
	const char *first_from; /* display name of the starter */
	const char **topics;	/* slugs */
	size_t n_topics;
};

/* Lists fill arrays allocated from a. */
enum sk_status sk_index_topics(struct sk_index *ix, struct sk_arena *a,
			       const struct sk_viewer *v,
			       struct sk_topic_row **rows_out, size_t *n_out,
			       struct sk_err *err);
enum sk_status sk_index_partners(struct sk_index *ix, struct sk_arena *a,
				 struct sk_partner_row **rows_out,
				 size_t *n_out, struct sk_err *err);

/* Threads newest first, optionally only one topic or partner (slug or NULL).
 * *total_out gets the exact count. SK_ENOTFOUND for an unknown slug. */
struct sk_thread_filter {
	const char *topic;
	const char *partner;
	size_t offset, limit;
};
enum sk_status sk_index_threads(struct sk_index *ix, struct sk_arena *a,
				const struct sk_viewer *v,
				const struct sk_thread_filter *f,
				struct sk_thread_row **rows_out, size_t *n_out,
				int64_t *total_out, struct sk_err *err);

/* Threads about the same things as thread_id ("Podobne wątki"), best
 * first, at most limit (0 = 5). They are found from the thread's own
 * words (quoted text left out) weighted by how rare they are in the
 * archive, matched with the full-text index, so both search backends show
 * the same. An empty list when the thread has no distinctive words.
 * SK_ENOTFOUND: no such thread (or hidden from v). */
enum sk_status sk_index_similar_threads(struct sk_index *ix,
					struct sk_arena *a,
					const struct sk_viewer *v,
					int64_t thread_id, size_t limit,
					struct sk_thread_row **rows_out,
					size_t *n_out, struct sk_err *err);

/* A thread with its messages in thread order (parents before children,
 * siblings by date), bodies included. SK_ENOTFOUND when missing or hidden
 * from this viewer. */
enum sk_status sk_index_thread(struct sk_index *ix, struct sk_arena *a,
			       const struct sk_viewer *v, int64_t thread_id,
			       struct sk_thread_row *thread_out,
			       struct sk_message_row **msgs_out, size_t *n_out,
			       struct sk_err *err);

/* The message with this Message-ID (the first stored when several claim
 * it), body included. SK_ENOTFOUND when missing or hidden. */
enum sk_status sk_index_message(struct sk_index *ix, struct sk_arena *a,
				const struct sk_viewer *v,
				const char *message_id,
				struct sk_message_row *out, struct sk_err *err);

/* The raw bytes of a message, copied into a. */
enum sk_status sk_index_message_raw(struct sk_index *ix, struct sk_arena *a,
				    const struct sk_viewer *v,
				    const char *message_id, const char **raw_out,
				    size_t *len_out, struct sk_err *err);

/* ---- search --------------------------------------------------------------- */

enum sk_backend { SK_BACKEND_DEFAULT = 0, SK_BACKEND_XAPIAN, SK_BACKEND_FTS5 };
enum sk_status sk_backend_parse(const char *s, enum sk_backend *out);

struct sk_search_opts {
	const char *query;	 /* the user's query (DESIGN.md language) */
	enum sk_backend backend; /* DEFAULT: Xapian when open, else FTS5 */
	size_t offset, limit;	 /* limit 0 = 20 */
	bool sort_by_date;	 /* newest first instead of relevance */
	bool collapse_threads;	 /* one hit per thread (the best) */
	bool want_facets;
	bool no_snippets;	 /* hits get "" snippets (faster) */
	struct sk_viewer viewer;
};

struct sk_hit {
	int64_t id;
	const char *message_id; /* without <> */
	int64_t thread_id;
	const char *subject;
	const char *from_name, *from_addr;
	time_t date;
	const char *partner_slug; /* NULL when none */
	const char **topics;	  /* slugs */
	size_t n_topics;
	const char *snippet_html; /* escaped, matches in <mark> */
	const char *snippet;	  /* the same as plain text (JSON) */
	double score;
};

struct sk_facet {
	const char *value; /* slug or year */
	const char *label; /* display name */
	int64_t count;
};

struct sk_results {
	int64_t total; /* exact number of matching messages (or threads when
			  collapsed) */
	struct sk_hit *hits;
	size_t n_hits;
	struct sk_facet *topics, *partners, *years;
	size_t n_topics, n_partners, n_years;
	const char *suggestion; /* "did you mean" query, or NULL */
};

/* Run a query. Everything is allocated from a.
 * SK_EINVAL: the query is wrong; err->msg is a short Polish explanation fit
 * to show the user. SK_EAGAIN: the index kept changing; try again.
 * SK_EINDEX/SK_EDB: the backend failed. */
enum sk_status sk_search(struct sk_index *ix, struct sk_arena *a,
			 const struct sk_search_opts *o,
			 struct sk_results *out, struct sk_err *err);

/* Make a read-only handle search the shards of spec as well as its own
 * index (the [search] shards setting). Empty spec: no change. A handle without
 * Xapian federates the remote shards only. From then on sk_search() with
 * the Xapian backend returns hits of every shard: local hits as usual,
 * remote ones with id 0, thread_id 0, no snippet (render them by
 * message_id), flat by message; facets are merged, labelled by slug.
 * SK_EINVAL: a writer, or a bad spec; SK_EINDEX and friends: a shard is
 * unreachable (the handle keeps its own index then). */
enum sk_status sk_index_set_shards(struct sk_index *ix, const char *spec,
				   struct sk_err *err);

/* Rebuild both indexes from the store. progress may be NULL. */
enum sk_status sk_index_reindex(struct sk_index *ix,
				void (*progress)(int64_t done, int64_t total,
						 void *ctx),
				void *ctx, struct sk_err *err);

/* ---- requested by web/ ------------------------------------------------------
 *
 * Declared by web/ for the lead to implement (web/ links them weakly until
 * then: see web/auth.c). Users and sessions for the login; one attachment
 * for download. All of them work on READ handles (the web's per-thread
 * handles): the session writes are single-row INSERT/DELETEs that may use a
 * second, read-write connection to the same file, opened lazily, with the
 * busy timeout (never Xapian, never migrations). */

struct sk_user_row {
	int64_t id;
	const char *email;	   /* as stored */
	const char *name;	   /* "" when unknown */
	enum sk_role role;
	const char *password_hash; /* crypto_pwhash_str() output (argon2id),
				      NULL = link login only */
	const char *partner_slug;  /* NULL when none */
	bool disabled;
};

/* The user with this e-mail address (compared case-insensitively, as the
 * column's COLLATE NOCASE). Strings are allocated from a. Disabled users
 * are returned too (disabled = true); the caller refuses them.
 * SK_ENOTFOUND: no such user. SK_EDB/SK_EAGAIN: store failure. */
enum sk_status sk_index_user_find(struct sk_index *ix, struct sk_arena *a,
				  const char *email, struct sk_user_row *out,
				  struct sk_err *err);

/* Store a new login session for user_id. token_hash is the lowercase hex
 * BLAKE2b-256 of the cookie value (64 characters; web/ computes it — the
 * cookie value itself never reaches the store). csrf_token is the form
 * token tied to the session (43 base64url characters). Times are Unix
 * seconds. May also delete expired sessions (any user) as housekeeping.
 * SK_EEXIST: token_hash exists already. SK_ENOTFOUND: no such user.
 * SK_EAGAIN: the store stayed busy. SK_EDB otherwise. */
enum sk_status sk_index_session_create(struct sk_index *ix, int64_t user_id,
				       const char *token_hash,
				       const char *csrf_token,
				       time_t created_at, time_t expires_at,
				       struct sk_err *err);

struct sk_session_row {
	struct sk_user_row user;
	const char *csrf_token;
	time_t created_at, expires_at;
};

/* The live session with this token hash: expires_at > now and its user
 * not disabled, with the user's row. Strings from a. SK_ENOTFOUND
 * otherwise (missing, expired or disabled). */
enum sk_status sk_index_session_find(struct sk_index *ix, struct sk_arena *a,
				     const char *token_hash, time_t now,
				     struct sk_session_row *out,
				     struct sk_err *err);

/* Delete the session (logout). A missing session is SK_OK. */
enum sk_status sk_index_session_delete(struct sk_index *ix,
				       const char *token_hash,
				       struct sk_err *err);

/* Attachment number position (struct sk_attachment_row.position) of the
 * message with this Message-ID (the one sk_index_message() returns), its
 * decoded bytes copied into a. SK_ENOTFOUND when the message or the
 * attachment is missing or hidden from v (held mail). */
enum sk_status sk_index_attachment(struct sk_index *ix, struct sk_arena *a,
				   const struct sk_viewer *v,
				   const char *message_id, int position,
				   struct sk_attachment_row *row_out,
				   const void **data_out, size_t *len_out,
				   struct sk_err *err);

/* ---- outbox, notes, subscriptions (mailer) ---- */

/* Outgoing mail. Every message Skarbnica sends is a row in the outbox,
 * queued with its final bytes and its Message-ID (fixed when queued), and
 * sent by mailer/ (see the exactly-once rule in mailer/sk_mailer.h):
 *
 *   queued --claim--> sending --250 to the final dot--> sent
 *                        |--4xx, network, before the dot--> queued again
 *                        |    (attempts + 1, next_attempt_at later)
 *                        |--5xx--> failed (last_error: the reply)
 *                        `--no reply after the dot--> failed, uncertain
 *
 * Writers only (SK_INDEX_WRITE; the mailer opens with SK_INDEX_NO_XAPIAN).
 * Times are Unix seconds. */

enum sk_outbox_kind { SK_OUTBOX_NOTE, SK_OUTBOX_DIGEST, SK_OUTBOX_LOGIN };
enum sk_outbox_state {
	SK_OUTBOX_QUEUED,
	SK_OUTBOX_SENDING,
	SK_OUTBOX_SENT,
	SK_OUTBOX_FAILED,
};
const char *sk_outbox_state_name(enum sk_outbox_state s);
const char *sk_outbox_kind_name(enum sk_outbox_kind k);

/* Digest periods. */
enum sk_period { SK_PERIOD_DAILY, SK_PERIOD_WEEKLY };
const char *sk_period_name(enum sk_period p); /* "daily", "weekly" */
enum sk_status sk_period_parse(const char *s, enum sk_period *out);

/* A message to queue; all pointers borrowed. */
struct sk_outbox_new {
	enum sk_outbox_kind kind;
	const char *message_id;	 /* without <>; unique */
	const char *dedup_key;	 /* NULL, or unique: a second queue with the
				    same key is refused (digests) */
	const char *sender;	 /* envelope MAIL FROM */
	const char *recipients;	 /* envelope RCPT TO, comma separated */
	const char *raw;	 /* the message, CRLF line ends */
	size_t raw_len;
	time_t not_before;	 /* 0 = at once */
	int64_t user_id;	 /* the user it is for (digests), or 0 */
	/* Digests: the token of the List-Unsubscribe link (stored hashed)
	 * and the period it unsubscribes from; NULL otherwise. */
	const char *unsubscribe_token;
	enum sk_period period;
};

/* Queue one message (its own transaction unless one is open). *id_out
 * (may be NULL) gets the row id. SK_EEXIST: the dedup_key or Message-ID
 * is queued already (*id_out is that row). SK_EINVAL: a field is
 * missing. SK_EAGAIN: the store stayed busy. */
enum sk_status sk_index_outbox_queue(struct sk_index *ix,
				     const struct sk_outbox_new *m, time_t now,
				     int64_t *id_out, struct sk_err *err);
/* Is a row with this dedup key queued (in any state)? */
bool sk_index_outbox_has(struct sk_index *ix, const char *dedup_key);

struct sk_outbox_row {
	int64_t id;
	enum sk_outbox_kind kind;
	enum sk_outbox_state state;
	const char *message_id, *dedup_key; /* dedup_key may be NULL */
	const char *sender, *recipients;
	const char *raw; /* NULL in lists */
	size_t raw_len;
	int attempts;
	time_t next_attempt_at, created_at, sent_at, claimed_at, dot_at;
	bool uncertain;		/* failed: the server may have it */
	const char *last_error; /* NULL when none */
	const char *reply;	/* sent: the server's 250 reply */
	int64_t user_id;
};

/* Claim the oldest queued row with next_attempt_at <= now: in one
 * transaction it becomes 'sending' with claimed_at = now. Strings and raw
 * are allocated from a. SK_ENOTFOUND: nothing is due. */
enum sk_status sk_index_outbox_claim(struct sk_index *ix, struct sk_arena *a,
				     time_t now, struct sk_outbox_row *out,
				     struct sk_err *err);
/* When the next queued row is due (it may be <= now). SK_ENOTFOUND when
 * nothing is queued. */
enum sk_status sk_index_outbox_next_due(struct sk_index *ix, time_t *when_out,
					struct sk_err *err);
/* Record, and commit, that the final dot of DATA is about to be written
 * for row id (state 'sending'). SK_ENOTFOUND: the row is not 'sending'. */
enum sk_status sk_index_outbox_mark_dot(struct sk_index *ix, int64_t id,
					time_t now, struct sk_err *err);
/* 'sending' -> 'sent' with the server's reply (may be NULL). */
enum sk_status sk_index_outbox_mark_sent(struct sk_index *ix, int64_t id,
					 time_t now, const char *reply,
					 struct sk_err *err);
/* 'sending' -> 'queued', attempts + 1, next_attempt_at = next, last_error
 * = error. */
enum sk_status sk_index_outbox_mark_retry(struct sk_index *ix, int64_t id,
					  time_t next, const char *error,
					  struct sk_err *err);
/* 'sending' -> 'failed', attempts + 1, with error (the server's reply).
 * uncertain: the server may have accepted it. */
enum sk_status sk_index_outbox_mark_failed(struct sk_index *ix, int64_t id,
					   bool uncertain, const char *error,
					   struct sk_err *err);
/* At mailer start, under the mailer lock: every row still 'sending' was
 * left by a mailer that died. Without dot_at it goes back to 'queued'
 * (due at once; the server cannot have it); with dot_at it becomes
 * 'failed' with uncertain = 1. Counts (may be NULL) say how many. */
enum sk_status sk_index_outbox_recover(struct sk_index *ix, time_t now,
				       int64_t *requeued_out,
				       int64_t *uncertain_out,
				       struct sk_err *err);
/* The server could not be reached: note error in last_error of every
 * queued row that is due, without changing its state or attempts. */
enum sk_status sk_index_outbox_note_error(struct sk_index *ix, time_t now,
					  const char *error,
					  struct sk_err *err);
/* A person's decision to send a failed row (uncertain ones included)
 * again: 'failed' -> 'queued', due at once, audited with actor.
 * SK_ENOTFOUND: no failed row with this id. */
enum sk_status sk_index_outbox_requeue(struct sk_index *ix, int64_t id,
				       const char *actor, time_t now,
				       struct sk_err *err);
/* One row (raw included) or SK_ENOTFOUND. */
enum sk_status sk_index_outbox_get(struct sk_index *ix, struct sk_arena *a,
				   int64_t id, struct sk_outbox_row *out,
				   struct sk_err *err);
/* Rows newest first, only those in state when state >= 0 (an enum
 * sk_outbox_state), at most limit (0 = 100); raw is not loaded. */
enum sk_status sk_index_outbox_list(struct sk_index *ix, struct sk_arena *a,
				    int state, size_t limit,
				    struct sk_outbox_row **rows_out,
				    size_t *n_out, struct sk_err *err);

/* ---- quarterly meeting notes ---- */

/* A note as a coordinator posts it (web form or `skarbnica note post`).
 * All strings UTF-8 and borrowed. */
struct sk_note_in {
	const char *quarter;	      /* "2024-Q2" (required) */
	const char *title;	      /* required, one line */
	const char *place;	      /* NULL or "" */
	const char *partners_present; /* free text: "Gmina Stolno, Powiat
					 Chełmiński"; NULL or "" */
	const char *const *topics;    /* topic slugs (must exist); set on
					 the archived message by hand */
	size_t n_topics;
	const char *decisions;	      /* Markdown, NULL or "" */
	const char *body_md;	      /* Markdown (required) */
	const char *author_email;     /* a coordinator or admin (required) */
	const struct sk_attachment *attachments; /* filename, content_type,
						    data, size */
	size_t n_attachments;
	const char *in_reply_to; /* a Message-ID (without <>) to answer */
};

/* What sk_index_note_post hands the composer. */
struct sk_note_mail {
	const struct sk_note_in *note;
	const char *author_name;	/* users.name, "" when unknown */
	const char *const *topic_names; /* display names of note->topics */
	const char *const *references;	/* thread of in_reply_to, oldest first
					   (in_reply_to last); may be empty */
	size_t n_references;
	time_t date;			/* the Date: to use */
};

/* A composed message: what to send, and what to store in the archive. */
struct sk_composed {
	const char *raw; /* CRLF */
	size_t raw_len;
	const char *message_id; /* without <> */
	const char *sender;	/* envelope MAIL FROM */
	const char *recipients; /* comma separated */
	struct sk_message archive; /* the same message as ingest would see
				      it (raw = the bytes above) */
};

/* Builds the message of a note (mailer/ provides sk_mail_note_compose).
 * Everything it returns is allocated from a. */
typedef enum sk_status sk_note_compose_fn(void *ctx, struct sk_arena *a,
					  const struct sk_note_mail *nm,
					  struct sk_composed *out,
					  struct sk_err *err);

struct sk_note_posted {
	int64_t note_id;
	int64_t outbox_id;
	int64_t message_row_id; /* the archived message (messages.id) */
	int64_t thread_id;
	const char *message_id; /* without <>, allocated from a */
};

/* Post a quarterly note, in ONE transaction: the notes row, the message
 * itself in the archive (sk_index_add_message with the composed bytes, so
 * the note is visible and searchable at once — approved, never held —
 * with note->topics set by hand), and the outbox row that sends the same
 * bytes to the list. The list's copy later arrives through ingest with the
 * same Message-ID and From address and is recognised as this message (no
 * duplicate). Either all of it is stored or none.
 *
 * ix must be writable (SK_INDEX_WRITE). The web's handles are read-only:
 * open a separate handle with SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN for the
 * post (Xapian's single writer is ingest); the note is then in SQLite and
 * FTS5 at once, and in Xapian when a Xapian writer catches up.
 * compose is sk_mail_note_compose with a struct sk_mail_settings as ctx
 * (cmd/ hands it to web/). now is the note's time.
 * SK_EINVAL: a bad field (quarter not YYYY-Qn, empty title or body, an
 *   unknown topic, in_reply_to not in the archive is fine), with a Polish
 *   message fit for the form.
 * SK_ENOTFOUND: author_email is not a user. SK_EINVAL also when the user is
 *   disabled or only a reader.
 * SK_EAGAIN: the store stayed busy; nothing was stored. */
enum sk_status sk_index_note_post(struct sk_index *ix, struct sk_arena *a,
				  const struct sk_note_in *note,
				  sk_note_compose_fn *compose,
				  void *compose_ctx, time_t now,
				  struct sk_note_posted *out,
				  struct sk_err *err);

struct sk_note_row {
	int64_t id;
	const char *quarter, *title, *place, *partners_present;
	const char *topics;	/* slugs, space separated */
	const char *decisions;	/* Markdown */
	const char *body_md;	/* NULL in lists */
	const char *author_email, *author_name; /* NULL when the user went */
	const char *message_id;
	int64_t thread_id;	/* 0 when the message is not in the archive */
	time_t created_at;
	/* The mail's fate (from the outbox row). */
	enum sk_outbox_state mail_state;
	bool mail_uncertain;
	const char *mail_error; /* NULL when none */
	int64_t outbox_id;
};

/* Notes newest first (by quarter, then time), only of quarter when not
 * NULL. Strings from a. */
enum sk_status sk_index_notes_list(struct sk_index *ix, struct sk_arena *a,
				   const char *quarter,
				   struct sk_note_row **rows_out,
				   size_t *n_out, struct sk_err *err);
/* One note with its body. SK_ENOTFOUND when missing. */
enum sk_status sk_index_note_get(struct sk_index *ix, struct sk_arena *a,
				 int64_t id, struct sk_note_row *out,
				 struct sk_err *err);

/* ---- topic subscriptions and digests ---- */

/* Subscribe the user to a topic's digest (or change its period).
 * SK_ENOTFOUND: no such user or topic. */
enum sk_status sk_index_subscribe(struct sk_index *ix, const char *email,
				  const char *topic_slug, enum sk_period p,
				  time_t now, struct sk_err *err);
/* Remove one subscription (topic_slug) or all of them (NULL). A missing
 * subscription is SK_OK; SK_ENOTFOUND: no such user. */
enum sk_status sk_index_unsubscribe(struct sk_index *ix, const char *email,
				    const char *topic_slug,
				    struct sk_err *err);

struct sk_subscription_row {
	const char *topic_slug, *topic_name;
	enum sk_period period;
};
enum sk_status sk_index_subscriptions(struct sk_index *ix, struct sk_arena *a,
				      const char *email,
				      struct sk_subscription_row **rows_out,
				      size_t *n_out, struct sk_err *err);

/* One-click unsubscribe (RFC 8058) with the token of a digest's
 * List-Unsubscribe link: removes that user's subscriptions of the digest's
 * period. Using a token twice is SK_OK. SK_ENOTFOUND: unknown token. The
 * web calls this for POST /wypisz (List-Unsubscribe=One-Click), on a
 * writable handle like sk_index_note_post. */
enum sk_status sk_index_unsubscribe_token(struct sk_index *ix,
					  const char *token, time_t now,
					  struct sk_err *err);

struct sk_digest_user {
	int64_t id;
	const char *email, *name;
};
/* Users (not disabled) with at least one subscription of period p. */
enum sk_status sk_index_digest_users(struct sk_index *ix, struct sk_arena *a,
				     enum sk_period p,
				     struct sk_digest_user **users_out,
				     size_t *n_out, struct sk_err *err);

struct sk_digest_item {
	const char *topic_slug, *topic_name;
	int64_t thread_id;
	const char *subject;
	time_t first_date, last_date;
	int64_t messages; /* in the window */
	bool is_new;	  /* the thread started in the window */
	const char *partner_name; /* of the starter, NULL when none */
};
/* Threads of the user's topics (of period p) with messages dated in
 * [from, to), held mail excluded; ordered by topic position, then newest
 * first. A thread in several subscribed topics is listed under the first
 * only. */
enum sk_status sk_index_digest_items(struct sk_index *ix, struct sk_arena *a,
				     int64_t user_id, enum sk_period p,
				     time_t from, time_t to,
				     struct sk_digest_item **items_out,
				     size_t *n_out, struct sk_err *err);

/* A practice record for a digest: what the mail shows, and no contact
 * data (mail is forwarded; the record's page shows the contact person to
 * logged-in partners). */
struct sk_digest_practice {
	int64_t id;
	const char *title;
	const char *partner_name; /* the municipality, NULL when none */
	const char *topics;	  /* all its topic names, ", "-separated */
	time_t validated_at;
};
/* Practice records of the user's topics (of period p) published in
 * [from, to): those that became validated then (the audit entry of the
 * change of status: created as validated, updated, or an undo) and are
 * validated still. Newest first, each record once. */
enum sk_status sk_index_digest_practices(struct sk_index *ix,
					 struct sk_arena *a, int64_t user_id,
					 enum sk_period p, time_t from,
					 time_t to,
					 struct sk_digest_practice **rows_out,
					 size_t *n_out, struct sk_err *err);

/* ---- curation and practice records (topics issue) ---- */

/* The topic model: multinomial naive Bayes over lemmas, learnt from the
 * coordinators' confirmed labels — every message of a thread with a manual
 * topic (sk_index_thread_topic, sk_index_thread_topics_confirm) and every
 * manual message topic (meeting notes), minus manual "not this topic".
 * Classification uses it once 50 messages are labelled, for the topics
 * with 5 labelled messages or more: keyword evidence for a topic the model
 * finds unlikely counts less, and a message without keyword evidence gets
 * the model's best topic when it is sure (docs/topics.md). The meta key
 * classify.model selects "auto" (default), "off" (keywords and tags only)
 * or "only" (the model alone, for evaluation). A change of the labels
 * takes effect for new mail at once; sk_index_classify(ix, true, ...)
 * applies it to the archive. */

/* Learn the labels given and forget the ones taken back since the last
 * update (the curation functions call it in their transaction). Writers
 * only. SK_EDB/SK_EAGAIN: store failure, nothing changed. */
enum sk_status sk_index_model_update(struct sk_index *ix, struct sk_err *err);
/* Forget everything and learn all labels again (after a change of the
 * analyzer or dictionary, or after messages were deleted). */
enum sk_status sk_index_model_rebuild(struct sk_index *ix, struct sk_err *err);

struct sk_model_stats {
	int64_t labelled_messages; /* distinct messages with a label */
	int64_t labels;		   /* (message, topic) pairs learnt */
	int64_t topics_covered;	   /* topics with enough labels */
	int64_t vocabulary;	   /* distinct terms */
	bool active;		   /* classification uses the model now */
	int64_t min_labels, min_per_topic; /* the thresholds */
};
enum sk_status sk_index_model_stats(struct sk_index *ix,
				    struct sk_model_stats *out,
				    struct sk_err *err);

/* Curation (index/curate.c). Every change is a coordinator's action on a
 * writable handle: the web opens one per request with SK_INDEX_WRITE |
 * SK_INDEX_NO_XAPIAN, like sk_index_note_post; the Xapian documents it
 * outdates wait in the store (xapian_pending) for the next writer that has
 * Xapian open. actor is the user's e-mail address (or "cli"). Each change
 * runs in one transaction (the caller's when one is open), is recorded in
 * the audit trail with its old and new values as JSON, and can be undone
 * with sk_index_audit_undo(). *audit_id_out (may be NULL) gets the audit
 * row. Statuses: SK_ENOTFOUND for an unknown thread, message, topic,
 * partner or practice; SK_EINVAL for a change that makes no sense (with a
 * Polish message fit to show); SK_EAGAIN when the store stayed busy;
 * SK_EDB otherwise. Nothing changes on failure. */

enum sk_topic_decision {
	SK_TOPIC_ADD,	 /* "this thread is about the topic" (manual) */
	SK_TOPIC_REMOVE, /* "it is not" (manual, removed = 1) */
	SK_TOPIC_AUTO,	 /* forget the manual decision: classification decides */
};
/* A manual decision on a thread's topic. It wins over classification for
 * good, and it is a label the topic model learns from. */
enum sk_status sk_index_thread_topic(struct sk_index *ix, int64_t thread_id,
				     const char *topic_slug,
				     enum sk_topic_decision d,
				     const char *actor, int64_t *audit_id_out,
				     struct sk_err *err);
/* "The topics are right": the thread's current topics become manual
 * decisions (labels for the model). SK_EINVAL when it has none. */
enum sk_status sk_index_thread_topics_confirm(struct sk_index *ix,
					      int64_t thread_id,
					      const char *actor,
					      int64_t *audit_id_out,
					      struct sk_err *err);
/* Split a thread at a message: the message and its replies (its
 * descendants by In-Reply-To/References) become a new thread,
 * *new_thread_out (may be NULL). The new thread starts with automatic topics only.
 * SK_EINVAL when nothing would be left of the old thread. */
enum sk_status sk_index_thread_split(struct sk_index *ix,
				     int64_t message_row_id, const char *actor,
				     int64_t *new_thread_out,
				     int64_t *audit_id_out, struct sk_err *err);
/* Join thread from into thread into (from goes away; its manual topics,
 * pins and practices move along, into's decisions win on conflict). */
enum sk_status sk_index_thread_join(struct sk_index *ix, int64_t into,
				    int64_t from, const char *actor,
				    int64_t *audit_id_out, struct sk_err *err);
/* Pin a thread as "start here" reading for a topic, at position (smaller
 * first; pinning again moves it and replaces the note). note may be NULL.
 * Unpinning a thread that is not pinned is SK_ENOTFOUND. */
enum sk_status sk_index_topic_pin(struct sk_index *ix, const char *topic_slug,
				  int64_t thread_id, int position,
				  const char *note, const char *actor,
				  int64_t *audit_id_out, struct sk_err *err);
enum sk_status sk_index_topic_unpin(struct sk_index *ix,
				    const char *topic_slug, int64_t thread_id,
				    const char *actor, int64_t *audit_id_out,
				    struct sk_err *err);
/* Approve held mail (approved_at = now): readers see it from now on.
 * SK_EINVAL when it is not held or approved already. */
enum sk_status sk_index_message_approve(struct sk_index *ix,
					int64_t message_row_id,
					const char *actor,
					int64_t *audit_id_out,
					struct sk_err *err);

/* Held mail still waiting for a coordinator (held, not approved), oldest
 * first: of one thread (thread_id > 0) or all. List rows: no body, no
 * attachments, no topics. limit 0 = 50, at most 500; *total_out (may be
 * NULL) the exact count. */
enum sk_status sk_index_held_messages(struct sk_index *ix, struct sk_arena *a,
				      int64_t thread_id, size_t offset,
				      size_t limit,
				      struct sk_message_row **rows_out,
				      size_t *n_out, int64_t *total_out,
				      struct sk_err *err);

/* The taxonomy, edited by coordinators (issue 5, "web for
 * coordinators"; operators may also load a file, sk_index_load_taxonomy).
 * A topic's fields as schema/taxonomy.txt has them. */
struct sk_topic_def {
	const char *slug;	  /* [a-z0-9-], 1..63 bytes */
	const char *name;	  /* required, one line, <= 120 bytes */
	const char *parent_slug;  /* NULL or "" at the first level */
	const char *description;  /* <= 2000 bytes */
	const char *keywords;	  /* lemmas, space separated, "x:0.5" weighs
				     one (0 < w <= 10); <= 8000 bytes */
	const char *subject_tags; /* '|' separated, <= 1000 bytes */
};
/* One topic's definition, strings from a. SK_ENOTFOUND: unknown slug. */
enum sk_status sk_index_topic_def(struct sk_index *ix, struct sk_arena *a,
				  const char *slug, struct sk_topic_def *out,
				  struct sk_err *err);
/* Change topic d->slug (create: add it, last in the taxonomy). Audited as
 * "topic.edit" / "topic.add" (object "topic:SLUG") and undoable; undoing
 * an addition deletes the topic, refused while a manual decision, a pin or
 * a practice record uses it. SK_EEXIST: create with a slug in use. Every
 * handle's classifier picks the change up for new mail;
 * sk_index_classify(ix, true, ...) applies it to the archive. */
enum sk_status sk_index_topic_save(struct sk_index *ix,
				   const struct sk_topic_def *d, bool create,
				   const char *actor, int64_t *audit_id_out,
				   struct sk_err *err);

/* ---- good-practice records ---- */

enum sk_practice_status {
	SK_PRACTICE_DRAFT,     /* being written: coordinators only */
	SK_PRACTICE_VALIDATED, /* checked by a coordinator: shown to all */
	SK_PRACTICE_ARCHIVED,  /* out of date: coordinators only */
};
const char *sk_practice_status_name(enum sk_practice_status s);
enum sk_status sk_practice_status_parse(const char *s,
					enum sk_practice_status *out);

struct sk_practice_attachment {
	int64_t id;		/* attachments.id */
	const char *message_id; /* of the mail it came with (download link:
				   sk_index_attachment(message_id, position)) */
	int position;
	const char *filename, *content_type;
	int64_t size;
};

/* A good-practice record: the fields of the Polish Bank of Good Practices
 * and of Interreg Europe's good-practice database. The same struct goes in
 * (create, update: the "in" fields) and comes out (get, list). Text is
 * UTF-8, Markdown allowed in the long fields.
 *
 * The contact person (name and e-mail) is personal data: reading functions
 * return it only to logged-in viewers (NULL otherwise), and the web shows
 * it only to logged-in partners, never in public mode. */
struct sk_practice {
	int64_t id;			/* out; update: which one */
	const char *title;		/* required, one line, <= 300 bytes */
	const char *partner_slug;	/* the municipality, or NULL */
	const char *partner_name;	/* out */
	const char **topics;		/* slugs */
	size_t n_topics;
	const char *problem, *solution, *results;
	const char *costs;		/* costs and sources of funding */
	const char *period;		/* when: "2023–2024" */
	const char *stakeholders;	/* who took part */
	const char *lessons;		/* difficulties, what to repeat */
	const char *contact_name, *contact_email; /* see above */
	const int64_t *attachment_ids;	/* in: attachments.id of archived mail */
	size_t n_attachment_ids;
	const struct sk_practice_attachment *attachments; /* out */
	size_t n_attachments;
	int64_t source_thread_id;	/* 0 = none */
	const char *source_subject;	/* out: that thread's subject */
	enum sk_practice_status status;
	const char *created_by, *updated_by; /* out */
	time_t created_at, updated_at;	     /* out */
};

/* Create a record from p (p->id ignored); *id_out gets its id. */
enum sk_status sk_index_practice_create(struct sk_index *ix,
					const struct sk_practice *p,
					const char *actor, int64_t *id_out,
					int64_t *audit_id_out,
					struct sk_err *err);
/* Replace every "in" field of record p->id. */
enum sk_status sk_index_practice_update(struct sk_index *ix,
					const struct sk_practice *p,
					const char *actor,
					int64_t *audit_id_out,
					struct sk_err *err);
/* Promote a thread to a draft record, prefilled from it: title from the
 * subject, problem from the first message (the author's own words),
 * solution, municipality and contact person from the longest reply of
 * another partner, the thread's topics and attachments. The coordinator
 * edits it (sk_index_practice_update) and validates it. */
enum sk_status sk_index_practice_promote(struct sk_index *ix,
					 int64_t thread_id, const char *actor,
					 int64_t *id_out, int64_t *audit_id_out,
					 struct sk_err *err);
/* One record, everything allocated from a. SK_ENOTFOUND when missing or
 * hidden from v (drafts and archived records: coordinators only). */
enum sk_status sk_index_practice_get(struct sk_index *ix, struct sk_arena *a,
				     const struct sk_viewer *v, int64_t id,
				     struct sk_practice *out,
				     struct sk_err *err);

struct sk_practice_filter {
	const char *topic;   /* slug or NULL (a parent includes subtopics) */
	const char *partner; /* slug or NULL */
	int status;	     /* an enum sk_practice_status, or -1: what v may
				see (validated; coordinators: all) */
	size_t offset, limit; /* limit 0 = 20, at most 500 */
};
/* Records newest first (by update); *total_out the exact count. List
 * rows carry no long fields (problem... lessons are NULL) and no
 * attachments. SK_ENOTFOUND for an unknown topic or partner slug. */
enum sk_status sk_index_practices(struct sk_index *ix, struct sk_arena *a,
				  const struct sk_viewer *v,
				  const struct sk_practice_filter *f,
				  struct sk_practice **rows_out, size_t *n_out,
				  int64_t *total_out, struct sk_err *err);

/* ---- reading: pins, onboarding, glossary, quarters, audit ---- */

struct sk_pin_row {
	struct sk_thread_row thread;
	int position;
	const char *note; /* "" when none */
	const char *pinned_by;
	time_t pinned_at;
};
/* The "start here" threads of a topic, in order (threads hidden from v
 * left out). SK_ENOTFOUND: unknown topic. */
enum sk_status sk_index_topic_pins(struct sk_index *ix, struct sk_arena *a,
				   const struct sk_viewer *v,
				   const char *topic_slug,
				   struct sk_pin_row **rows_out, size_t *n_out,
				   struct sk_err *err);

/* The "Dla nowych pracowników" path: for each topic with something to
 * read, in taxonomy order, its description, its pinned threads and
 * validated practice records first, then its most-referenced threads
 * (most messages and partners taking part; pinned ones not repeated), at
 * most per_topic of each (0 = 5). */
struct sk_onboarding_topic {
	struct sk_topic_row topic;
	struct sk_pin_row *pinned;
	size_t n_pinned;
	struct sk_practice *practices; /* list rows, as sk_index_practices */
	size_t n_practices;
	struct sk_thread_row *threads;
	size_t n_threads;
};
enum sk_status sk_index_onboarding(struct sk_index *ix, struct sk_arena *a,
				   const struct sk_viewer *v, size_t per_topic,
				   struct sk_onboarding_topic **topics_out,
				   size_t *n_out, struct sk_err *err);

/* The glossary of acronyms (BIP, CAF, RODO, PZP, JST...), by term. */
struct sk_glossary_row {
	const char *term, *expansion, *description;
	const char *topic_slug; /* "" when none */
};
enum sk_status sk_index_glossary(struct sk_index *ix, struct sk_arena *a,
				 struct sk_glossary_row **rows_out,
				 size_t *n_out, struct sk_err *err);

/* Quarters (Polish time) with the exact number of threads started in
 * each and of messages dated in each, as v sees them, newest first;
 * quarters without either are left out. */
struct sk_quarter_row {
	const char *quarter; /* "2024-Q2" */
	time_t from, to;     /* [from, to) */
	int64_t threads, messages;
};
enum sk_status sk_index_quarters(struct sk_index *ix, struct sk_arena *a,
				 const struct sk_viewer *v,
				 struct sk_quarter_row **rows_out,
				 size_t *n_out, struct sk_err *err);
/* The threads started in quarter ("2024-Q2"), oldest first, a page of
 * them (limit 0 = 20, at most 500); *total_out the exact count.
 * SK_EINVAL: not a quarter. */
enum sk_status sk_index_quarter_threads(struct sk_index *ix,
					struct sk_arena *a,
					const struct sk_viewer *v,
					const char *quarter, size_t offset,
					size_t limit,
					struct sk_thread_row **rows_out,
					size_t *n_out, int64_t *total_out,
					struct sk_err *err);

struct sk_audit_row {
	int64_t id;
	time_t at;
	const char *actor;
	const char *action; /* "thread.topic", "thread.split", ... */
	const char *object; /* "thread:12", "thread:12 thread:57" */
	const char *detail; /* short, for people */
	const char *old_json, *new_json; /* NULL when not recorded */
	int64_t undo_of;   /* this row undid that one (0 = none) */
	int64_t undone_by; /* this row was undone by that one (0 = none) */
	bool can_undo;	   /* sk_index_audit_undo would try */
};
/* Audit rows newest first, only those about object ("thread:12",
 * "practice:3", "topic:rodo", "message:77") when not NULL. */
enum sk_status sk_index_audit_list(struct sk_index *ix, struct sk_arena *a,
				   const char *object, size_t offset,
				   size_t limit, struct sk_audit_row **rows_out,
				   size_t *n_out, struct sk_err *err);
/* Undo the change recorded in audit row audit_id, as actor; the undo is an
 * audit row itself. A change can be undone while no later change (not
 * undone) touches the same objects — undo those first — and only once.
 * SK_ENOTFOUND: no such row. SK_EINVAL: it is an undo, undone already,
 * not a curation change, or later changes are in the way (the message
 * says which). */
enum sk_status sk_index_audit_undo(struct sk_index *ix, int64_t audit_id,
				   const char *actor, struct sk_err *err);

/* ---- one-time login links (web) ---- */

/* Login by a link sent by e-mail (web/ "Wyślij link"). web/ makes the
 * token (32 random bytes, base64url) and hands the store only its
 * lowercase hex BLAKE2b-256 (64 characters), as for sessions. These work
 * on any handle (the web's read handles may write these single rows, as
 * sessions do) but the table comes with migration 6: open a writable
 * handle once (any SK_INDEX_WRITE open migrates) before using them. */

#define SK_LOGIN_LINK_SECONDS (15 * 60) /* a link is good this long */

/* Store a new login token for user_id, good until expires_at, and (when
 * mail is not NULL) queue the mail that carries it (kind SK_OUTBOX_LOGIN,
 * user_id set), both in ONE transaction. Also deletes tokens that expired
 * a day ago (housekeeping). mail needs a writable handle (outbox rule).
 * SK_EEXIST: token_hash exists already. SK_ENOTFOUND: no such user.
 * SK_EINVAL: a field of mail is missing. SK_EAGAIN: the store stayed busy. */
enum sk_status sk_index_login_token_create(struct sk_index *ix,
					   int64_t user_id,
					   const char *token_hash,
					   time_t now, time_t expires_at,
					   const struct sk_outbox_new *mail,
					   struct sk_err *err);

/* Use a login token: if token_hash names a token that is not used, not
 * expired (expires_at > now) and whose user is not disabled, mark it used
 * (so a second use fails) and fill *user_out (strings from a).
 * SK_ENOTFOUND otherwise — unknown, used, expired or disabled alike. */
enum sk_status sk_index_login_token_use(struct sk_index *ix,
					struct sk_arena *a,
					const char *token_hash, time_t now,
					struct sk_user_row *user_out,
					struct sk_err *err);

/* Audit one login event (issue 8): a row in audit with at = now, actor =
 * the address typed (lowercased, at most 254 bytes; "" when none), action
 * such as "login.password", "login.password.failed", "login.link",
 * "login.link.failed", "login.link.sent", object "user:ID" when the user
 * is known (user_id > 0) else "", and detail (client address, reason).
 * Works on read handles too. SK_EAGAIN/SK_EDB: store failure. */
enum sk_status sk_index_audit_login(struct sk_index *ix, time_t now,
				    const char *actor, const char *action,
				    int64_t user_id, const char *detail,
				    struct sk_err *err);

/* The mail that carries a login link (mailer/ provides
 * sk_mail_login_compose, cmd/ hands it to web/). All strings borrowed. */
struct sk_login_mail {
	const char *to_addr;
	const char *to_name;	/* "" or NULL when unknown */
	const char *url;	/* base_url + "/zaloguj/link?t=TOKEN" */
	time_t expires_at;
	time_t date;		/* the Date: to use */
};
/* Composes a login mail into out (raw, message_id, sender, recipients;
 * out->archive is not used). Everything allocated from a. */
typedef enum sk_status sk_login_compose_fn(void *ctx, struct sk_arena *a,
					   const struct sk_login_mail *lm,
					   struct sk_composed *out,
					   struct sk_err *err);

/* ---- backup, forget, retention (hardening) ---- */

/* Copy the store (everything: messages, raw bytes, attachment blobs, users,
 * outbox, topics, FTS5) into dest_path with SQLite's online backup, as one
 * consistent snapshot while other processes go on writing (WAL). Written to
 * dest_path.tmp, checked (quick_check), fsync'ed and renamed. Xapian is not
 * copied: run `skarbnica reindex` on the restored copy.
 * SK_EIO: dest cannot be written (disk full); SK_EAGAIN: busy; SK_EDB. */
enum sk_status sk_index_backup(struct sk_index *ix, const char *dest_path,
			       struct sk_err *err);

/* What erasing removed (or, in a dry run, would remove). */
struct sk_erase_report {
	int64_t messages, attachments, blobs, raw_bytes;
	int64_t threads_changed, threads_removed;
	int64_t users, sessions, subscriptions, outbox;
	int64_t redacted;    /* other messages whose To/Cc named them */
	int64_t mentions;    /* other messages whose body names the address
				(kept; the operator decides, docs/privacy.md) */
	int64_t practices;   /* practice records whose contact they were */
	int64_t audit_actor; /* audit rows whose actor was them (pseudonymised) */
};

/* Erase a person (RODO art. 17): every message from address (raw, parsed,
 * attachments whose blobs no other message uses, FTS5 rows, Xapian
 * documents via the queue; threads, ghosts and the topic model made
 * consistent), their user account with sessions and subscriptions, digests
 * addressed to them; the address in other messages' To/Cc is replaced by
 * "[usunięto]". Writes an audit entry (actor, or "cli" when NULL) whose
 * object is the SHA-256 of the address and whose detail holds only counts.
 * dry_run: the same work in a transaction rolled back; *out has the counts.
 * SK_EINVAL: address is not one. Writers only. */
enum sk_status sk_index_forget(struct sk_index *ix, const char *address,
			       const char *actor, bool dry_run,
			       struct sk_erase_report *out, struct sk_err *err);
/* The hex SHA-256 of an address as sk_index_forget() records it (trimmed,
 * lowercase). */
void sk_index_address_hash(const char *address, char out[65]);

/* Called once per message of a person: raw bytes (valid during the call).
 * Return non-zero to stop. */
typedef int sk_export_fn(void *ctx, const char *message_id, time_t date,
			 const char *raw, size_t len);
/* Every message from address, oldest first (RODO art. 15); *n_out (may be
 * NULL) gets the number. SK_EINVAL: not an address. */
enum sk_status sk_index_export_person(struct sk_index *ix,
				      const char *address, sk_export_fn *fn,
				      void *ctx, int64_t *n_out,
				      struct sk_err *err);

/* Retention, in days; 0 keeps for ever. */
struct sk_retention {
	int64_t held_days;     /* held mail never approved (by ingest time) */
	int64_t sessions_days; /* login sessions (expired ones always go) */
	int64_t audit_days;    /* audit entries */
	int64_t outbox_days;   /* sent outbox rows (the raw mail) */
};
struct sk_purge_report {
	struct sk_erase_report held;
	int64_t sessions, audit, outbox;
};
/* Delete what is older than r allows, as of now; an audit entry records
 * the counts. dry_run: count only. Writers only. */
enum sk_status sk_index_purge(struct sk_index *ix, const struct sk_retention *r,
			      time_t now, bool dry_run,
			      struct sk_purge_report *out, struct sk_err *err);

/* The health of a store (tests, `skarbnica check`). */
struct sk_check_report {
	int64_t integrity_errors; /* PRAGMA integrity_check lines not "ok" */
	bool fts_ok;		  /* FTS5 'integrity-check' passed */
	int64_t messages;
	int64_t duplicate_raw;	  /* raw bytes stored twice (must be 0) */
	int64_t orphan_raw;	  /* raw rows without a message */
	int64_t orphan_blobs;	  /* blobs no attachment uses */
	int64_t bad_threads;	  /* message_count not matching */
	int64_t bad_ghosts;	  /* ghosts nobody refers to, or received */
	int64_t xapian_pending;	  /* queued Xapian updates */
	int64_t xapian_docs;	  /* -1 without a Xapian handle */
};
enum sk_status sk_index_check(struct sk_index *ix,
			      struct sk_check_report *out, struct sk_err *err);

SK_END_DECLS
#endif
