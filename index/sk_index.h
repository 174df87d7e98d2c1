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

SK_END_DECLS
#endif
