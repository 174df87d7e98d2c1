/* index/message.c: storing one message — de-duplication, partner
 * attribution, threading (References/In-Reply-To with ghost parents, plus a
 * subject rule for clients that drop the headers), attachments, the FTS5
 * row and the Xapian document. */
#include "index/private.h"
#include "schema/sk_schema.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Replies without References join a thread with the same subject only if
 * it was active within this window. */
#define SUBJECT_WINDOW (60 * 24 * 3600)
#define MAX_REFS 100

#define STEP_DONE(ix, st, what, err)                                         \
	do {                                                                 \
		int rc_ = sqlite3_step(st);                                  \
		sqlite3_reset(st);                                           \
		if (rc_ != SQLITE_DONE)                                      \
			return sk_ix_error((ix), rc_, (what), (err));        \
	} while (0)

static void
sha256_hex(const void *data, size_t n, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, n);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

/* Reply and forward prefixes used by Polish and English mail clients. */
static const char *const reply_prefixes[] = {
	"re:", "odp:", "odp.:", "pd:", "fwd:", "fw:", "aw:", "wg:", "sv:",
	"tr:", "re :", "odp :",
};

/* Strip list tags ("[Praktyki] ") and reply prefixes ("Re: Odp: ") from
 * the front of a subject; *had_prefix says whether a reply prefix was
 * seen. Returns a pointer into s. */
static const char *
strip_subject(const char *s, bool *had_prefix)
{
	bool again = true;
	*had_prefix = false;
	while (again) {
		again = false;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[') {
			const char *e = strchr(s, ']');
			if (e && e - s < 64) {
				s = e + 1;
				again = true;
				continue;
			}
		}
		for (size_t i = 0; i < SK_ARRAY_SIZE(reply_prefixes); i++) {
			size_t n = strlen(reply_prefixes[i]);
			if (!strncasecmp(s, reply_prefixes[i], n)) {
				s += n;
				*had_prefix = again = true;
				break;
			}
		}
		/* "Re[2]:" and "Re(2):" */
		if (!again && !strncasecmp(s, "re", 2) &&
		    (s[2] == '[' || s[2] == '(')) {
			const char *e = s + 3;
			while (*e >= '0' && *e <= '9')
				e++;
			if ((*e == ']' || *e == ')') && e[1] == ':') {
				s = e + 2;
				*had_prefix = again = true;
			}
		}
	}
	return s;
}

/* The subject key for the subject rule: stripped, folded, spaces collapsed. */
static char *
subject_norm(struct sk_arena *a, const char *subject, bool *had_prefix)
{
	const char *s = strip_subject(subject ? subject : "", had_prefix);
	char *f = sk_fold(a, s, strlen(s)), *o = f;
	bool space = true;
	for (const char *p = f; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			if (!space)
				*o++ = ' ';
			space = true;
		} else {
			*o++ = *p;
			space = false;
		}
	}
	if (o > f && o[-1] == ' ')
		o--;
	*o = '\0';
	return f;
}

static int64_t
lookup_i64(struct sk_index *ix, const char *sql, const char *text,
	   int64_t dflt)
{
	sqlite3_stmt *st = sk_ix_stmt(ix, sql, NULL);
	int64_t v = dflt;
	if (!st)
		return dflt;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* The partner whose domain is the sender's, or a parent domain of it. */
static int64_t
partner_for(struct sk_index *ix, const char *addr)
{
	const char *d = addr ? strrchr(addr, '@') : NULL;
	if (!d)
		return 0;
	for (d++; d && *d; d = strchr(d, '.') ? strchr(d, '.') + 1 : NULL) {
		int64_t p = lookup_i64(ix,
				       "SELECT partner_id FROM partner_domains "
				       "WHERE domain = ?1",
				       d, 0);
		if (p)
			return p;
	}
	return 0;
}

/* Is mail from addr to be held for review? Only once partner domains are
 * configured, and never for the list's own domain. Both are read once per
 * transaction (see hold_cached in private.h). */
static bool
should_hold(struct sk_index *ix, struct sk_arena *a, const char *addr,
	    int64_t partner)
{
	const char *d;
	if (partner)
		return false;
	if (!ix->hold_cached) {
		const char *list = sk_index_meta_get(ix, a, "list.address");
		const char *ld = list ? strrchr(list, '@') : NULL;
		free(ix->hold_list_domain);
		ix->hold_list_domain = ld ? sk_xstrdup(ld) : NULL;
		ix->hold_has_domains =
			lookup_i64(ix, "SELECT count(*) FROM partner_domains "
				       "WHERE ?1 IS NOT NULL",
				   "", 0) != 0;
		ix->hold_cached = ix->in_batch;
	}
	if (!ix->hold_has_domains)
		return false;
	d = addr ? strrchr(addr, '@') : NULL;
	if (d && ix->hold_list_domain && !strcasecmp(d, ix->hold_list_domain))
		return false;
	return true;
}

/* Thread ids this message belongs to by its references and by children
 * that arrived before it (ghosts). */
static size_t
thread_candidates(struct sk_index *ix, const char *mid, const char **refs,
		  size_t n_refs, int64_t *out, size_t max)
{
	size_t n = 0;
	int64_t t;

	for (size_t i = 0; i <= n_refs && n < max; i++) {
		const char *r = i < n_refs ? refs[i] : mid;
		if (i < n_refs) {
			t = lookup_i64(ix,
				       "SELECT thread_id FROM messages "
				       "WHERE message_id = ?1 LIMIT 1",
				       r, 0);
			if (!t)
				t = lookup_i64(ix,
					       "SELECT thread_id FROM ghosts "
					       "WHERE message_id = ?1",
					       r, 0);
		} else {
			t = lookup_i64(ix,
				       "SELECT thread_id FROM ghosts "
				       "WHERE message_id = ?1",
				       r, 0);
		}
		if (!t)
			continue;
		bool seen = false;
		for (size_t k = 0; k < n; k++)
			seen = seen || out[k] == t;
		if (!seen)
			out[n++] = t;
	}
	return n;
}

static int64_t
thread_by_subject(struct sk_index *ix, const char *norm, time_t date)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT thread_id FROM messages WHERE subject_norm = ?1 "
		"AND date BETWEEN ?2 AND ?3 ORDER BY abs(date - ?4) LIMIT 1",
		NULL);
	int64_t t = 0;
	if (!st || !*norm)
		return 0;
	sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)date - SUBJECT_WINDOW);
	sqlite3_bind_int64(st, 3, (int64_t)date + 24 * 3600);
	sqlite3_bind_int64(st, 4, (int64_t)date);
	if (sqlite3_step(st) == SQLITE_ROW)
		t = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return t;
}

static enum sk_status
new_thread(struct sk_index *ix, const char *subject, time_t date,
	   int64_t *out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"INSERT INTO threads(subject, first_date, last_date) "
		"VALUES (?1, ?2, ?2)",
		err);
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, subject ? subject : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)date);
	STEP_DONE(ix, st, "create thread", err);
	*out = sqlite3_last_insert_rowid(ix->db);
	return SK_OK;
}


/* Move everything of thread 'from' into 'into' (JWZ: two containers turn
 * out to be one thread once a message links them). */
static enum sk_status
merge_threads(struct sk_index *ix, int64_t into, int64_t from,
	      struct sk_err *err)
{
	static const char *const sql[] = {
		"UPDATE messages SET thread_id = ?1 WHERE thread_id = ?2",
		"UPDATE ghosts SET thread_id = ?1 WHERE thread_id = ?2",
		"INSERT OR IGNORE INTO thread_topics(thread_id, topic_id, "
		"confidence, source, removed) SELECT ?1, topic_id, confidence, "
		"source, removed FROM thread_topics WHERE thread_id = ?2",
		"DELETE FROM threads WHERE id = ?2",
	};
	for (size_t i = 0; i < SK_ARRAY_SIZE(sql); i++) {
		sqlite3_stmt *st = sk_ix_stmt(ix, sql[i], err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, into);
		sqlite3_bind_int64(st, 2, from);
		STEP_DONE(ix, st, "merge threads", err);
	}
	sk_index_mark_thread_dirty(ix, into);
	return SK_OK;
}

enum sk_status
sk_index_thread_stats(struct sk_index *ix, int64_t thread, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"UPDATE threads SET "
		"message_count = (SELECT count(*) FROM messages "
		"  WHERE thread_id = ?1), "
		"first_date = coalesce((SELECT min(date) FROM messages "
		"  WHERE thread_id = ?1), 0), "
		"last_date = coalesce((SELECT max(date) FROM messages "
		"  WHERE thread_id = ?1), 0), "
		"subject = coalesce((SELECT subject FROM messages "
		"  WHERE thread_id = ?1 ORDER BY (parent_id IS NOT NULL), "
		"  date, id LIMIT 1), subject) "
		"WHERE id = ?1",
		err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, thread);
	STEP_DONE(ix, st, "update thread", err);
	return SK_OK;
}

/* Is a stored message with this Message-ID the same message delivered
 * again (the list copy and a CC copy differ only in transport headers)? */
static int64_t
same_message(struct sk_index *ix, const struct sk_message *m)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT id FROM messages WHERE message_id = ?1 "
		"AND (from_addr = ?2 OR body = ?3) LIMIT 1",
		NULL);
	int64_t id = 0;
	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->from_addr ? m->from_addr : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->body ? m->body : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

static enum sk_status
store_attachment(struct sk_index *ix, int64_t msg, int pos,
		 const struct sk_attachment *at, struct sk_err *err)
{
	char hex[65];
	sqlite3_stmt *st;

	sha256_hex(at->data ? at->data : "", at->size, hex);
	st = sk_ix_stmt(ix,
			"INSERT OR IGNORE INTO blobs(sha256, size, data) "
			"VALUES (?1, ?2, ?3)",
			err);
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)at->size);
	sqlite3_bind_blob64(st, 3, at->data ? at->data : "", at->size,
			    SQLITE_STATIC);
	STEP_DONE(ix, st, "store attachment", err);
	st = sk_ix_stmt(ix,
			"INSERT INTO attachments(message_id, position, "
			"filename, content_type, size, sha256, text, "
			"extract_status, extract_error) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, msg);
	sqlite3_bind_int(st, 2, pos);
	sqlite3_bind_text(st, 3, at->filename ? at->filename : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 4,
			  at->content_type ? at->content_type
					   : "application/octet-stream",
			  -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)at->size);
	sqlite3_bind_text(st, 6, hex, -1, SQLITE_STATIC);
	if (at->text)
		sqlite3_bind_text(st, 7, at->text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8,
			  at->extract_status ? at->extract_status : "none", -1,
			  SQLITE_STATIC);
	if (at->extract_error)
		sqlite3_bind_text(st, 9, at->extract_error, -1, SQLITE_STATIC);
	STEP_DONE(ix, st, "store attachment", err);
	return SK_OK;
}

struct add_ctx {
	const struct sk_message *m;
	int64_t id;
	bool duplicate;
};

static enum sk_status
add_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct add_ctx *c = vctx;
	const struct sk_message *m = c->m;
	struct sk_arena *a = sk_arena_new(0);
	const char **refs;
	size_t n_refs = 0;
	char hex[65];
	int64_t raw_id, partner, thread = 0, parent = 0, cand[16];
	size_t n_cand;
	bool reply;
	char *norm;
	unsigned flags = m->flags;
	sqlite3_stmt *st;
	enum sk_status rc = SK_OK;

	/* 1. The same bytes again, or the same message by another route. */
	sha256_hex(m->raw, m->raw_len, hex);
	c->id = lookup_i64(ix,
			   "SELECT m.id FROM raw_messages r JOIN messages m "
			   "ON m.raw_id = r.id WHERE r.sha256 = ?1",
			   hex, 0);
	if (!c->id)
		c->id = same_message(ix, m);
	if (c->id) {
		c->duplicate = true;
		goto out;
	}

	/* 2. The raw message, verbatim. */
	st = sk_ix_stmt(ix,
			"INSERT INTO raw_messages(sha256, size, raw, "
			"received_at) VALUES (?1, ?2, ?3, strftime('%s','now'))",
			err);
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)m->raw_len);
	sqlite3_bind_blob64(st, 3, m->raw, m->raw_len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sk_ix_error(ix, sqlite3_reset(st), "store raw message",
				 err);
		goto out;
	}
	sqlite3_reset(st);
	raw_id = sqlite3_last_insert_rowid(ix->db);

	/* 3. Who sent it. */
	partner = partner_for(ix, m->from_addr);
	if (should_hold(ix, a, m->from_addr, partner))
		flags |= SK_MSG_HELD;

	/* 4. Threading: references (with In-Reply-To last), ghosts, then
	 * the subject rule for replies whose client dropped the headers. */
	refs = sk_arena_alloc(a, (MAX_REFS + 1) * sizeof(*refs));
	for (size_t i = 0; i < m->n_references && n_refs < MAX_REFS; i++)
		if (m->references[i] && *m->references[i] &&
		    strcmp(m->references[i], m->message_id))
			refs[n_refs++] = m->references[i];
	if (m->in_reply_to && *m->in_reply_to &&
	    strcmp(m->in_reply_to, m->message_id) &&
	    (!n_refs || strcmp(refs[n_refs - 1], m->in_reply_to))) {
		/* A wrong order in References is common; In-Reply-To
		 * names the parent, so it goes last. */
		size_t k = 0;
		for (size_t i = 0; i < n_refs; i++)
			if (strcmp(refs[i], m->in_reply_to))
				refs[k++] = refs[i];
		n_refs = k;
		refs[n_refs++] = m->in_reply_to;
	}
	norm = subject_norm(a, m->subject, &reply);
	n_cand = thread_candidates(ix, m->message_id, refs, n_refs, cand,
				   SK_ARRAY_SIZE(cand));
	if (n_cand) {
		thread = cand[0];
		for (size_t i = 1; i < n_cand; i++)
			if (cand[i] < thread)
				thread = cand[i];
		for (size_t i = 0; i < n_cand; i++)
			if (cand[i] != thread &&
			    (rc = merge_threads(ix, thread, cand[i], err)))
				goto out;
	} else if (reply) {
		thread = thread_by_subject(ix, norm, m->date);
	}
	if (!thread && (rc = new_thread(ix, m->subject, m->date, &thread, err)))
		goto out;
	for (size_t i = n_refs; i-- > 0 && !parent;)
		parent = lookup_i64(ix,
				    "SELECT id FROM messages WHERE "
				    "message_id = ?1 ORDER BY id LIMIT 1",
				    refs[i], 0);

	/* 5. The message row. */
	st = sk_ix_stmt(
		ix,
		"INSERT INTO messages(message_id, raw_id, thread_id, "
		"parent_id, subject, subject_norm, from_name, from_addr, "
		"to_addrs, cc_addrs, date, in_reply_to, list_id, body, "
		"quote_start, partner_id, flags, parse_error, ingested_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
		"?13, ?14, ?15, ?16, ?17, ?18, strftime('%s','now'))",
		err);
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, raw_id);
	sqlite3_bind_int64(st, 3, thread);
	if (parent)
		sqlite3_bind_int64(st, 4, parent);
	sqlite3_bind_text(st, 5, m->subject ? m->subject : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 6, norm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->from_name ? m->from_name : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 8, m->from_addr ? m->from_addr : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 9, m->to_addrs ? m->to_addrs : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 10, m->cc_addrs ? m->cc_addrs : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, (int64_t)m->date);
	if (m->in_reply_to)
		sqlite3_bind_text(st, 12, m->in_reply_to, -1, SQLITE_STATIC);
	if (m->list_id)
		sqlite3_bind_text(st, 13, m->list_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, m->body ? m->body : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, (int64_t)m->quote_start);
	if (partner)
		sqlite3_bind_int64(st, 16, partner);
	sqlite3_bind_int(st, 17, (int)flags);
	if (m->parse_error)
		sqlite3_bind_text(st, 18, m->parse_error, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sk_ix_error(ix, sqlite3_reset(st), "store message", err);
		goto out;
	}
	sqlite3_reset(st);
	c->id = sqlite3_last_insert_rowid(ix->db);

	for (size_t i = 0; i < n_refs; i++) {
		st = sk_ix_stmt(ix,
				"INSERT INTO message_refs(message_id, pos, ref) "
				"VALUES (?1, ?2, ?3)",
				err);
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, c->id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sqlite3_bind_text(st, 3, refs[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = sk_ix_error(ix, sqlite3_reset(st),
					 "store references", err);
			goto out;
		}
		sqlite3_reset(st);
		/* A parent not received (yet) waits as a ghost. */
		if (!lookup_i64(ix,
				"SELECT 1 FROM messages WHERE message_id = ?1",
				refs[i], 0)) {
			st = sk_ix_stmt(ix,
					"INSERT OR REPLACE INTO ghosts"
					"(message_id, thread_id) VALUES (?1, ?2)",
					err);
			if (!st)
				goto fail;
			sqlite3_bind_text(st, 1, refs[i], -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, thread);
			if (sqlite3_step(st) != SQLITE_DONE) {
				rc = sk_ix_error(ix, sqlite3_reset(st),
						 "store ghost", err);
				goto out;
			}
			sqlite3_reset(st);
		}
	}

	/* 6. Children that arrived first now get their parent. */
	st = sk_ix_stmt(
		ix,
		"UPDATE messages SET parent_id = ?2 WHERE parent_id IS NULL "
		"AND id IN (SELECT r.message_id FROM message_refs r "
		"WHERE r.ref = ?1 AND r.pos = (SELECT max(pos) FROM "
		"message_refs WHERE message_id = r.message_id))",
		err);
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sk_ix_error(ix, sqlite3_reset(st), "link children", err);
		goto out;
	}
	sqlite3_reset(st);
	st = sk_ix_stmt(ix, "DELETE FROM ghosts WHERE message_id = ?1", err);
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sk_ix_error(ix, sqlite3_reset(st), "drop ghost", err);
		goto out;
	}
	sqlite3_reset(st);

	/* 7. Attachments, text index, topics, thread summary. */
	for (size_t i = 0; i < m->n_attachments && !rc; i++)
		rc = store_attachment(ix, c->id, (int)i, &m->attachments[i],
				      err);
	if (!rc) {
		sk_index_fts_queue(ix, c->id);
		rc = sk_index_thread_stats(ix, thread, err);
	}
	if (!rc)
		rc = sk_index_classify_message(ix, c->id, err);
	if (!rc) {
		sk_index_mark_dirty(ix, c->id);
		ix->added_flags = flags;
	}
	goto out;
fail:
	rc = err ? err->code : SK_EDB;
out:
	sk_arena_free(&a);
	return rc;
}

unsigned
sk_index_added_flags(const struct sk_index *ix)
{
	return ix->added_flags;
}

enum sk_status
sk_index_add_message(struct sk_index *ix, const struct sk_message *m,
		     int64_t *id_out, struct sk_err *err)
{
	struct add_ctx c = { m, 0, false };
	struct sk_err local;
	enum sk_status rc;

	if (!err)
		err = &local;

	if (!(ix->flags & SK_INDEX_WRITE))
		SK_BUG("sk_index_add_message on a read-only handle");
	if (!m->message_id || !*m->message_id)
		return sk_err_set(err, SK_EINVAL, "message has no Message-ID");
	rc = sk_index_autotx(ix, add_tx, &c, err);
	if (id_out)
		*id_out = c.id;
	if (!rc && c.duplicate)
		return sk_err_set(err, SK_EEXIST, "message <%s> is stored already",
				  m->message_id);
	return rc;
}

/* ---- the text of a stored message, as both indexes see it ---------------- */

struct indexed_text {
	const char *message_id;
	const char *subject, *sender, *body, *attachments;
	int64_t thread_id, date, flags, approved;
	const char *partner;
};

static enum sk_status
load_text(struct sk_index *ix, struct sk_arena *a, int64_t id,
	  struct indexed_text *t, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT m.subject, m.from_name, m.from_addr, m.body, "
		"m.thread_id, m.date, m.flags, m.approved_at IS NOT NULL, "
		"p.slug, m.message_id FROM messages m LEFT JOIN partners p "
		"ON p.id = m.partner_id WHERE m.id = ?1",
		err);
	struct sk_buf b;
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return sk_err_set(err, SK_ENOTFOUND, "no message %lld",
				  (long long)id);
	}
	t->subject = sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
	t->sender = sk_index_sender_text(a,
					 (const char *)sqlite3_column_text(st, 1),
					 (const char *)sqlite3_column_text(st, 2));
	t->body = sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 3));
	t->thread_id = sqlite3_column_int64(st, 4);
	t->date = sqlite3_column_int64(st, 5);
	t->flags = sqlite3_column_int64(st, 6);
	t->approved = sqlite3_column_int64(st, 7);
	t->partner = sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 8));
	t->message_id = sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 9));
	sqlite3_reset(st);

	/* Attachment names and extracted text form one field. */
	st = sk_ix_stmt(ix,
			"SELECT filename, coalesce(text, '') FROM attachments "
			"WHERE message_id = ?1 ORDER BY position",
			err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	sk_buf_init(&b, 64u << 20);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sk_buf_adds(&b, (const char *)sqlite3_column_text(st, 0));
		sk_buf_addc(&b, '\n');
		sk_buf_adds(&b, (const char *)sqlite3_column_text(st, 1));
		sk_buf_addc(&b, '\n');
	}
	sqlite3_reset(st);
	t->attachments = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return SK_OK;
}

static enum sk_status
fts_write(struct sk_index *ix, int64_t id, const struct indexed_text *t,
	  bool is_delete, struct sk_err *err)
{
	sqlite3_stmt *st;
	if (is_delete)
		st = sk_ix_stmt(ix,
				"INSERT INTO messages_fts(messages_fts, rowid, "
				"subject, sender, body, attachments) "
				"VALUES ('delete', ?1, ?2, ?3, ?4, ?5)",
				err);
	else
		st = sk_ix_stmt(ix,
				"INSERT INTO messages_fts(rowid, subject, "
				"sender, body, attachments) "
				"VALUES (?1, ?2, ?3, ?4, ?5)",
				err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, t->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->body, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, t->attachments, -1, SQLITE_STATIC);
	STEP_DONE(ix, st, "update full-text index", err);
	return SK_OK;
}

enum sk_status
sk_index_fts_put(struct sk_index *ix, int64_t id, bool delete_old,
		 struct sk_err *err)
{
	struct sk_arena *a = sk_arena_new(0);
	struct indexed_text t;
	enum sk_status rc = load_text(ix, a, id, &t, err);
	if (!rc && delete_old)
		rc = fts_write(ix, id, &t, true, err);
	if (!rc)
		rc = fts_write(ix, id, &t, false, err);
	sk_arena_free(&a);
	return rc;
}

enum sk_status
sk_index_fts_delete(struct sk_index *ix, int64_t id, struct sk_err *err)
{
	struct sk_arena *a = sk_arena_new(0);
	struct indexed_text t;
	enum sk_status rc = load_text(ix, a, id, &t, err);
	if (!rc)
		rc = fts_write(ix, id, &t, true, err);
	sk_arena_free(&a);
	return rc;
}

enum sk_status
sk_index_xapian_put(struct sk_index *ix, int64_t id, struct sk_err *err)
{
	struct sk_arena *a;
	struct indexed_text t;
	struct sk_xdoc d = { 0 };
	sqlite3_stmt *st;
	enum sk_status rc;
	size_t cap = 8;

	if (!ix->xdb)
		return SK_OK;
	a = sk_arena_new(0);
	rc = load_text(ix, a, id, &t, err);
	if (rc == SK_ENOTFOUND) {
		/* Deleted since it was queued. */
		sk_arena_free(&a);
		return sk_xdb_delete(ix->xdb, id, err);
	}
	if (rc)
		goto out;
	d.id = id;
	d.message_id = t.message_id;
	d.thread_id = t.thread_id;
	d.date = (time_t)t.date;
	d.subject = t.subject;
	d.sender = t.sender;
	d.body = t.body;
	d.attachments = t.attachments;
	d.partner = t.partner;
	d.held = (t.flags & SK_MSG_HELD) && !t.approved;
	d.has_attachment = lookup_i64(ix,
				      "SELECT count(*) FROM attachments "
				      "WHERE message_id = CAST(?1 AS INTEGER)",
				      sk_arena_printf(a, "%lld", (long long)id),
				      0) > 0;
	d.topics = sk_arena_alloc(a, cap * sizeof(*d.topics));
	st = sk_ix_stmt(ix,
			"SELECT t.slug FROM thread_topics tt JOIN topics t "
			"ON t.id = tt.topic_id WHERE tt.thread_id = ?1 "
			"AND tt.removed = 0",
			err);
	if (!st) {
		rc = err->code;
		goto out;
	}
	sqlite3_bind_int64(st, 1, t.thread_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (d.n_topics == cap) {
			const char **nt = sk_arena_alloc(a, 2 * cap * sizeof(*nt));
			memcpy(nt, d.topics, cap * sizeof(*nt));
			d.topics = nt;
			cap *= 2;
		}
		d.topics[d.n_topics++] =
			sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	rc = sk_xdb_put(ix->xdb, &d, err);
out:
	sk_arena_free(&a);
	return rc;
}
