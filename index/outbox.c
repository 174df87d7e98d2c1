/* index/outbox.c: the SQL of outgoing mail — the outbox state machine,
 * quarterly notes (stored, archived and queued in one transaction), topic
 * subscriptions, one-click unsubscribe tokens and the digest queries.
 * It never talks SMTP and never composes MIME: mailer/ does both. */
#include "index/private.h"
#include "schema/sk_schema.h"

#include <ctype.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NOTE_TEXT ((size_t)1 << 20)
#define MAX_NOTE_ATTACHMENT_BYTES ((size_t)20 << 20)
#define MAX_NOTE_ATTACHMENTS 20
#define MAX_DIGEST_ITEMS 200

/* ---- names ------------------------------------------------------------------ */

static const char *const state_names[] = { "queued", "sending", "sent",
					   "failed" };
static const char *const kind_names[] = { "note", "digest", "login" };

const char *
sk_outbox_state_name(enum sk_outbox_state s)
{
	return (size_t)s < SK_ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

const char *
sk_outbox_kind_name(enum sk_outbox_kind k)
{
	return (size_t)k < SK_ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

const char *
sk_period_name(enum sk_period p)
{
	return p == SK_PERIOD_DAILY ? "daily" : "weekly";
}

enum sk_status
sk_period_parse(const char *s, enum sk_period *out)
{
	if (s && !strcmp(s, "daily"))
		*out = SK_PERIOD_DAILY;
	else if (s && !strcmp(s, "weekly"))
		*out = SK_PERIOD_WEEKLY;
	else
		return SK_EINVAL;
	return SK_OK;
}

static int
name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return 0;
}

/* ---- small helpers ------------------------------------------------------------ */

static const char *
col_str(struct sk_arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	if (!t)
		return NULL;
	return sk_arena_strndup(a, (const char *)t,
				(size_t)sqlite3_column_bytes(st, i));
}

/* Step a statement that returns no rows; reset it either way. */
static enum sk_status
step_done(struct sk_index *ix, sqlite3_stmt *st, const char *what,
	  struct sk_err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, what, err);
	return SK_OK;
}

static enum sk_status
stmt_fail(struct sk_err *err)
{
	return err ? err->code : SK_EDB;
}

static void
token_hash(const char *token, char out[65])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof(h), (const unsigned char *)token,
			   strlen(token), NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static enum sk_status
audit(struct sk_index *ix, time_t now, const char *actor, const char *action,
      const char *object, const char *detail, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"INSERT INTO audit(at, actor, action, object, detail) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
		err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, (int64_t)now);
	sqlite3_bind_text(st, 2, actor ? actor : "cli", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, object ? object : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
	return step_done(ix, st, "write audit", err);
}

static int64_t
user_id_by_email(struct sk_index *ix, const char *email)
{
	sqlite3_stmt *st =
		sk_ix_stmt(ix, "SELECT id FROM users WHERE email = ?1", NULL);
	int64_t id = 0;
	if (!st || !email)
		return 0;
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}


static void
need_writer(struct sk_index *ix, const char *what)
{
	if (!(ix->flags & SK_INDEX_WRITE))
		SK_BUG("%s on a read-only handle", what);
}

/* ---- queueing ------------------------------------------------------------------ */

struct queue_ctx {
	const struct sk_outbox_new *m;
	time_t now;
	int64_t id;
};

static int64_t
existing_row(struct sk_index *ix, const struct sk_outbox_new *m)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT id FROM outbox WHERE dedup_key = ?1 OR message_id = ?2 "
		"ORDER BY (dedup_key IS ?1) DESC LIMIT 1",
		NULL);
	int64_t id = 0;
	if (!st)
		return 0;
	if (m->dedup_key)
		sqlite3_bind_text(st, 1, m->dedup_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->message_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

static enum sk_status
queue_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct queue_ctx *c = vctx;
	const struct sk_outbox_new *m = c->m;
	sqlite3_stmt *st;
	int rc;

	c->id = existing_row(ix, m);
	if (c->id)
		return sk_err_set(err, SK_EEXIST, "'%s' is queued already",
				  m->dedup_key ? m->dedup_key : m->message_id);
	st = sk_ix_stmt(ix,
			"INSERT INTO outbox(kind, message_id, dedup_key, sender, "
			"recipients, raw, state, attempts, next_attempt_at, "
			"created_at, user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
			"'queued', 0, ?7, ?8, ?9)",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_text(st, 1, sk_outbox_kind_name(m->kind), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->message_id, -1, SQLITE_STATIC);
	if (m->dedup_key)
		sqlite3_bind_text(st, 3, m->dedup_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->recipients, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 6, m->raw, m->raw_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (int64_t)(m->not_before ? m->not_before
							  : c->now));
	sqlite3_bind_int64(st, 8, (int64_t)c->now);
	if (m->user_id)
		sqlite3_bind_int64(st, 9, m->user_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "queue message", err);
	c->id = sqlite3_last_insert_rowid(ix->db);

	if (m->unsubscribe_token && m->user_id) {
		char hex[65];
		token_hash(m->unsubscribe_token, hex);
		st = sk_ix_stmt(ix,
				"INSERT INTO unsubscribe_tokens(token_hash, "
				"user_id, period, created_at) "
				"VALUES (?1, ?2, ?3, ?4)",
				err);
		if (!st)
			return stmt_fail(err);
		sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, m->user_id);
		sqlite3_bind_text(st, 3, sk_period_name(m->period), -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)c->now);
		return step_done(ix, st, "store unsubscribe token", err);
	}
	return SK_OK;
}

enum sk_status
sk_index_outbox_queue(struct sk_index *ix, const struct sk_outbox_new *m,
		      time_t now, int64_t *id_out, struct sk_err *err)
{
	struct queue_ctx c = { m, now, 0 };
	enum sk_status rc;

	need_writer(ix, "sk_index_outbox_queue");
	if (!m->message_id || !*m->message_id || !m->sender || !*m->sender ||
	    !m->recipients || !*m->recipients || !m->raw || !m->raw_len)
		return sk_err_set(err, SK_EINVAL,
				  "cannot queue: message id, sender, "
				  "recipients and text are required");
	rc = sk_index_autotx(ix, queue_tx, &c, err);
	if (id_out)
		*id_out = c.id;
	return rc;
}

bool
sk_index_outbox_has(struct sk_index *ix, const char *dedup_key)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix, "SELECT 1 FROM outbox WHERE dedup_key = ?1", NULL);
	bool has;
	if (!st || !dedup_key)
		return false;
	sqlite3_bind_text(st, 1, dedup_key, -1, SQLITE_STATIC);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return has;
}

/* ---- reading rows ------------------------------------------------------------------ */

#define ROW_COLS                                                             \
	"id, kind, state, message_id, dedup_key, sender, recipients, "       \
	"attempts, next_attempt_at, created_at, coalesce(sent_at, 0), "      \
	"coalesce(claimed_at, 0), coalesce(dot_at, 0), uncertain, "          \
	"last_error, reply, coalesce(user_id, 0)"

/* Columns of ROW_COLS from 0, then raw at column 17 when with_raw. */
static void
read_row(struct sk_arena *a, sqlite3_stmt *st, bool with_raw,
	 struct sk_outbox_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->kind = (enum sk_outbox_kind)name_index(
		kind_names, SK_ARRAY_SIZE(kind_names),
		(const char *)sqlite3_column_text(st, 1));
	r->state = (enum sk_outbox_state)name_index(
		state_names, SK_ARRAY_SIZE(state_names),
		(const char *)sqlite3_column_text(st, 2));
	r->message_id = col_str(a, st, 3);
	r->dedup_key = col_str(a, st, 4);
	r->sender = col_str(a, st, 5);
	r->recipients = col_str(a, st, 6);
	r->attempts = sqlite3_column_int(st, 7);
	r->next_attempt_at = (time_t)sqlite3_column_int64(st, 8);
	r->created_at = (time_t)sqlite3_column_int64(st, 9);
	r->sent_at = (time_t)sqlite3_column_int64(st, 10);
	r->claimed_at = (time_t)sqlite3_column_int64(st, 11);
	r->dot_at = (time_t)sqlite3_column_int64(st, 12);
	r->uncertain = sqlite3_column_int(st, 13) != 0;
	r->last_error = col_str(a, st, 14);
	r->reply = col_str(a, st, 15);
	r->user_id = sqlite3_column_int64(st, 16);
	if (with_raw) {
		size_t n = (size_t)sqlite3_column_bytes(st, 17);
		const void *p = sqlite3_column_blob(st, 17);
		char *raw = sk_arena_alloc(a, n + 1);
		if (n)
			memcpy(raw, p, n);
		r->raw = raw;
		r->raw_len = n;
	}
}

enum sk_status
sk_index_outbox_get(struct sk_index *ix, struct sk_arena *a, int64_t id,
		    struct sk_outbox_row *out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix, "SELECT " ROW_COLS ", raw FROM outbox WHERE id = ?1", err);
	int rc;
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(a, st, true, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return SK_OK;
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "no outbox row %lld",
				  (long long)id);
	return sk_ix_error(ix, rc, "read outbox", err);
}

enum sk_status
sk_index_outbox_list(struct sk_index *ix, struct sk_arena *a, int state,
		     size_t limit, struct sk_outbox_row **rows_out,
		     size_t *n_out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT " ROW_COLS " FROM outbox WHERE ?1 IS NULL OR state = ?1 "
		"ORDER BY id DESC LIMIT ?2",
		err);
	struct sk_outbox_row *rows;
	size_t n = 0;
	int rc;

	*rows_out = NULL;
	*n_out = 0;
	if (!st)
		return stmt_fail(err);
	if (!limit)
		limit = 100;
	if (state >= 0)
		sqlite3_bind_text(st, 1,
				  sk_outbox_state_name((enum sk_outbox_state)state),
				  -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)limit);
	rows = sk_arena_alloc(a, limit * sizeof(*rows));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < limit)
		read_row(a, st, false, &rows[n++]);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "list outbox", err);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

/* ---- the state machine ------------------------------------------------------------ */

struct claim_ctx {
	struct sk_arena *a;
	time_t now;
	struct sk_outbox_row *out;
};

static enum sk_status
claim_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct claim_ctx *c = vctx;
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	st = sk_ix_stmt(ix,
			"SELECT id FROM outbox WHERE state = 'queued' AND "
			"next_attempt_at <= ?1 ORDER BY next_attempt_at, id "
			"LIMIT 1",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, (int64_t)c->now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "nothing is due");
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "claim outbox row", err);
	st = sk_ix_stmt(ix,
			"UPDATE outbox SET state = 'sending', claimed_at = ?2, "
			"dot_at = NULL WHERE id = ?1 AND state = 'queued'",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)c->now);
	if ((rc = step_done(ix, st, "claim outbox row", err)))
		return rc;
	return sk_index_outbox_get(ix, c->a, id, c->out, err);
}

enum sk_status
sk_index_outbox_claim(struct sk_index *ix, struct sk_arena *a, time_t now,
		      struct sk_outbox_row *out, struct sk_err *err)
{
	struct claim_ctx c = { a, now, out };
	need_writer(ix, "sk_index_outbox_claim");
	return sk_index_autotx(ix, claim_tx, &c, err);
}

enum sk_status
sk_index_outbox_next_due(struct sk_index *ix, time_t *when_out,
			 struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued'",
		err);
	int rc;
	bool none = true;
	if (!st)
		return stmt_fail(err);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*when_out = (time_t)sqlite3_column_int64(st, 0);
		none = false;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "read outbox", err);
	if (none)
		return sk_err_set(err, SK_ENOTFOUND, "nothing is queued");
	return SK_OK;
}

/* Run one UPDATE on a 'sending' row; SK_ENOTFOUND when it changed nothing. */
static enum sk_status
update_sending(struct sk_index *ix, sqlite3_stmt *st, int64_t id,
	       const char *what, struct sk_err *err)
{
	enum sk_status rc = step_done(ix, st, what, err);
	if (rc)
		return rc;
	if (sqlite3_changes(ix->db) == 0)
		return sk_err_set(err, SK_ENOTFOUND,
				  "outbox row %lld is not being sent",
				  (long long)id);
	return SK_OK;
}

enum sk_status
sk_index_outbox_mark_dot(struct sk_index *ix, int64_t id, time_t now,
			 struct sk_err *err)
{
	sqlite3_stmt *st;
	enum sk_status rc;
	bool own = !ix->in_batch;

	need_writer(ix, "sk_index_outbox_mark_dot");
	/* This mark is what keeps a message from going out twice, so it must
	 * survive a power cut as well as a kill: commit it with a full sync
	 * (the connection otherwise runs synchronous = NORMAL). */
	if (own && (rc = sk_db_exec(ix->db, "PRAGMA synchronous = FULL", err)))
		return rc;
	st = sk_ix_stmt(ix,
			"UPDATE outbox SET dot_at = ?2 WHERE id = ?1 AND "
			"state = 'sending'",
			err);
	if (!st) {
		rc = stmt_fail(err);
	} else {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (int64_t)now);
		rc = update_sending(ix, st, id, "mark the end of data", err);
	}
	if (own)
		sk_db_exec(ix->db, "PRAGMA synchronous = NORMAL", NULL);
	return rc;
}

enum sk_status
sk_index_outbox_mark_sent(struct sk_index *ix, int64_t id, time_t now,
			  const char *reply, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"UPDATE outbox SET state = 'sent', sent_at = ?2, reply = ?3, "
		"attempts = attempts + 1, last_error = NULL "
		"WHERE id = ?1 AND state = 'sending'",
		err);
	need_writer(ix, "sk_index_outbox_mark_sent");
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)now);
	if (reply)
		sqlite3_bind_text(st, 3, reply, -1, SQLITE_STATIC);
	return update_sending(ix, st, id, "mark sent", err);
}

enum sk_status
sk_index_outbox_mark_retry(struct sk_index *ix, int64_t id, time_t next,
			   const char *error, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"UPDATE outbox SET state = 'queued', attempts = attempts + 1, "
		"next_attempt_at = ?2, last_error = ?3, claimed_at = NULL, "
		"dot_at = NULL WHERE id = ?1 AND state = 'sending'",
		err);
	need_writer(ix, "sk_index_outbox_mark_retry");
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (int64_t)next);
	if (error)
		sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
	return update_sending(ix, st, id, "mark for retry", err);
}

enum sk_status
sk_index_outbox_mark_failed(struct sk_index *ix, int64_t id, bool uncertain,
			    const char *error, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"UPDATE outbox SET state = 'failed', attempts = attempts + 1, "
		"uncertain = ?2, last_error = ?3 "
		"WHERE id = ?1 AND state = 'sending'",
		err);
	need_writer(ix, "sk_index_outbox_mark_failed");
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, uncertain ? 1 : 0);
	if (error)
		sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
	return update_sending(ix, st, id, "mark failed", err);
}

struct recover_ctx {
	time_t now;
	int64_t requeued, uncertain;
};

static enum sk_status
recover_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct recover_ctx *c = vctx;
	sqlite3_stmt *st;
	enum sk_status rc;

	/* Before the dot the server cannot have accepted it: send again. */
	st = sk_ix_stmt(ix,
			"UPDATE outbox SET state = 'queued', attempts = "
			"attempts + 1, next_attempt_at = ?1, claimed_at = NULL, "
			"last_error = 'the mailer stopped before the message "
			"was sent; sending again' "
			"WHERE state = 'sending' AND dot_at IS NULL",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, (int64_t)c->now);
	if ((rc = step_done(ix, st, "recover outbox", err)))
		return rc;
	c->requeued = sqlite3_changes(ix->db);
	/* After it, only a person may decide to send it again. */
	st = sk_ix_stmt(ix,
			"UPDATE outbox SET state = 'failed', uncertain = 1, "
			"attempts = attempts + 1, last_error = 'uncertain: the "
			"mailer stopped after sending the message and before "
			"the server confirmed it; the server may have it, so it "
			"is not sent again automatically (check the list "
			"archive, then requeue by hand)' "
			"WHERE state = 'sending' AND dot_at IS NOT NULL",
			err);
	if (!st)
		return stmt_fail(err);
	if ((rc = step_done(ix, st, "recover outbox", err)))
		return rc;
	c->uncertain = sqlite3_changes(ix->db);
	return SK_OK;
}

enum sk_status
sk_index_outbox_recover(struct sk_index *ix, time_t now,
			int64_t *requeued_out, int64_t *uncertain_out,
			struct sk_err *err)
{
	struct recover_ctx c = { now, 0, 0 };
	enum sk_status rc;
	need_writer(ix, "sk_index_outbox_recover");
	rc = sk_index_autotx(ix, recover_tx, &c, err);
	if (requeued_out)
		*requeued_out = rc ? 0 : c.requeued;
	if (uncertain_out)
		*uncertain_out = rc ? 0 : c.uncertain;
	return rc;
}

enum sk_status
sk_index_outbox_note_error(struct sk_index *ix, time_t now, const char *error,
			   struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"UPDATE outbox SET last_error = ?2 WHERE state = 'queued' AND "
		"next_attempt_at <= ?1",
		err);
	need_writer(ix, "sk_index_outbox_note_error");
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, (int64_t)now);
	sqlite3_bind_text(st, 2, error ? error : "", -1, SQLITE_STATIC);
	return step_done(ix, st, "note outbox error", err);
}

struct requeue_ctx {
	int64_t id;
	const char *actor;
	time_t now;
};

static enum sk_status
requeue_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct requeue_ctx *c = vctx;
	sqlite3_stmt *st;
	enum sk_status rc;
	char obj[32];

	st = sk_ix_stmt(ix,
			"UPDATE outbox SET state = 'queued', next_attempt_at = ?2, "
			"uncertain = 0, claimed_at = NULL, dot_at = NULL "
			"WHERE id = ?1 AND state = 'failed'",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_int64(st, 2, (int64_t)c->now);
	if ((rc = step_done(ix, st, "requeue", err)))
		return rc;
	if (sqlite3_changes(ix->db) == 0)
		return sk_err_set(err, SK_ENOTFOUND, "no failed outbox row %lld",
				  (long long)c->id);
	snprintf(obj, sizeof(obj), "outbox:%lld", (long long)c->id);
	return audit(ix, c->now, c->actor, "outbox.requeue", obj, "", err);
}

enum sk_status
sk_index_outbox_requeue(struct sk_index *ix, int64_t id, const char *actor,
			time_t now, struct sk_err *err)
{
	struct requeue_ctx c = { id, actor, now };
	need_writer(ix, "sk_index_outbox_requeue");
	return sk_index_autotx(ix, requeue_tx, &c, err);
}

/* ---- notes ------------------------------------------------------------------------ */

static bool
valid_quarter(const char *q)
{
	return q && strlen(q) == 7 && isdigit((unsigned char)q[0]) &&
	       isdigit((unsigned char)q[1]) && isdigit((unsigned char)q[2]) &&
	       isdigit((unsigned char)q[3]) && q[4] == '-' &&
	       (q[5] == 'Q' || q[5] == 'q') && q[6] >= '1' && q[6] <= '4';
}

struct post_ctx {
	struct sk_arena *a;
	const struct sk_note_in *n;
	sk_note_compose_fn *compose;
	void *compose_ctx;
	time_t now;
	struct sk_note_posted *out;
};

/* The thread of the message being answered: its references, then it. */
static void
reply_references(struct sk_index *ix, struct sk_arena *a, const char *mid,
		 const char ***refs_out, size_t *n_out)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT ref FROM message_refs WHERE message_id = (SELECT id "
		"FROM messages WHERE message_id = ?1 ORDER BY id LIMIT 1) "
		"ORDER BY pos",
		NULL);
	const char **refs = sk_arena_alloc(a, 101 * sizeof(*refs));
	size_t n = 0;
	if (st) {
		sqlite3_bind_text(st, 1, mid, -1, SQLITE_STATIC);
		while (n < 99 && sqlite3_step(st) == SQLITE_ROW)
			refs[n++] = col_str(a, st, 0);
		sqlite3_reset(st);
	}
	refs[n++] = mid;
	*refs_out = refs;
	*n_out = n;
}

static enum sk_status
post_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct post_ctx *c = vctx;
	const struct sk_note_in *n = c->n;
	struct sk_note_mail nm = { 0 };
	struct sk_composed comp;
	struct sk_outbox_new q = { 0 };
	struct sk_buf topics;
	const char **names;
	int64_t author, *topic_ids, msg_row = 0, thread = 0;
	size_t n_ids = 0;
	const char *role;
	sqlite3_stmt *st;
	enum sk_status rc;
	int step;

	/* The author: a coordinator or an admin, not disabled. */
	st = sk_ix_stmt(ix,
			"SELECT id, name, role, disabled FROM users "
			"WHERE email = ?1",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_text(st, 1, n->author_email, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		sqlite3_reset(st);
		if (step != SQLITE_DONE)
			return sk_ix_error(ix, step, "read user", err);
		return sk_err_set(err, SK_ENOTFOUND,
				  "nie ma użytkownika '%s'", n->author_email);
	}
	author = sqlite3_column_int64(st, 0);
	nm.author_name = col_str(c->a, st, 1);
	role = col_str(c->a, st, 2);
	if (sqlite3_column_int(st, 3) || !role || !strcmp(role, "reader")) {
		sqlite3_reset(st);
		return sk_err_set(err, SK_EINVAL,
				  "'%s' nie może zamieszczać notatek (tylko "
				  "koordynatorzy)",
				  n->author_email);
	}
	sqlite3_reset(st);

	/* Topics by slug. */
	names = sk_arena_alloc(c->a, (n->n_topics + 1) * sizeof(*names));
	topic_ids = sk_arena_alloc(c->a, (n->n_topics + 1) * sizeof(int64_t));
	sk_buf_init(&topics, 1 << 16);
	for (size_t i = 0; i < n->n_topics; i++) {
		st = sk_ix_stmt(ix, "SELECT id, name FROM topics WHERE slug = ?1",
				err);
		if (!st) {
			sk_buf_release(&topics);
			return stmt_fail(err);
		}
		sqlite3_bind_text(st, 1, n->topics[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			sk_buf_release(&topics);
			return sk_err_set(err, SK_EINVAL, "nieznany temat '%s'",
					  n->topics[i]);
		}
		topic_ids[i] = sqlite3_column_int64(st, 0);
		names[i] = col_str(c->a, st, 1);
		sqlite3_reset(st);
		sk_buf_addf(&topics, "%s%s", i ? " " : "", n->topics[i]);
	}
	/* Every note also belongs to the partnership's meetings topic,
	 * when the taxonomy has one. */
	{
		int64_t meet = 0;
		st = sk_ix_stmt(ix, "SELECT id FROM topics WHERE slug = "
				    "'spotkania'",
				err);
		if (!st) {
			sk_buf_release(&topics);
			return stmt_fail(err);
		}
		if (sqlite3_step(st) == SQLITE_ROW)
			meet = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		for (size_t i = 0; i < n->n_topics && meet; i++)
			if (topic_ids[i] == meet)
				meet = 0;
		n_ids = n->n_topics;
		if (meet)
			topic_ids[n_ids++] = meet;
	}
	nm.note = n;
	nm.topic_names = names;
	nm.date = c->now;
	if (n->in_reply_to && *n->in_reply_to) {
		const char **refs;
		reply_references(ix, c->a, n->in_reply_to, &refs,
				 &nm.n_references);
		nm.references = refs;
	}

	/* The message, composed once: the same bytes go to the archive and
	 * to the list. */
	rc = c->compose(c->compose_ctx, c->a, &nm, &comp, err);
	if (rc)
		goto out;
	rc = sk_index_add_message(ix, &comp.archive, &msg_row, err);
	if (rc == SK_EEXIST)
		rc = sk_err_set(err, SK_EEXIST, "message <%s> exists already",
				comp.message_id);
	if (rc)
		goto out;

	/* Approved (a coordinator wrote it), with its topics set by hand. */
	st = sk_ix_stmt(ix,
			"UPDATE messages SET approved_at = ?2 WHERE id = ?1 "
			"AND approved_at IS NULL",
			err);
	if (!st) {
		rc = stmt_fail(err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, msg_row);
	sqlite3_bind_int64(st, 2, (int64_t)c->now);
	if ((rc = step_done(ix, st, "approve note", err)))
		goto out;
	for (size_t i = 0; i < n_ids && !rc; i++) {
		st = sk_ix_stmt(ix,
				"INSERT OR REPLACE INTO message_topics(message_id, "
				"topic_id, confidence, source) "
				"VALUES (?1, ?2, 1.0, 'manual')",
				err);
		if (!st) {
			rc = stmt_fail(err);
			goto out;
		}
		sqlite3_bind_int64(st, 1, msg_row);
		sqlite3_bind_int64(st, 2, topic_ids[i]);
		rc = step_done(ix, st, "set note topics", err);
	}
	st = sk_ix_stmt(ix, "SELECT thread_id FROM messages WHERE id = ?1", err);
	if (!rc && !st)
		rc = stmt_fail(err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, msg_row);
		if (sqlite3_step(st) == SQLITE_ROW)
			thread = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (n_ids)
			rc = sk_index_thread_topics_refresh(ix, thread, err);
		if (!rc)
			sk_index_mark_thread_dirty(ix, thread);
	}
	if (rc)
		goto out;

	/* The note itself. */
	st = sk_ix_stmt(ix,
			"INSERT INTO notes(quarter, title, place, body_md, "
			"author_id, message_id, created_at, partners_present, "
			"topics, decisions) VALUES (upper(?1), ?2, ?3, ?4, ?5, "
			"?6, ?7, ?8, ?9, ?10)",
			err);
	if (!st) {
		rc = stmt_fail(err);
		goto out;
	}
	sqlite3_bind_text(st, 1, n->quarter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->place ? n->place : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->body_md, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, author);
	sqlite3_bind_text(st, 6, comp.message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (int64_t)c->now);
	sqlite3_bind_text(st, 8, n->partners_present ? n->partners_present : "",
			  -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, topics.p, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, n->decisions ? n->decisions : "", -1,
			  SQLITE_STATIC);
	if ((rc = step_done(ix, st, "store note", err)))
		goto out;
	c->out->note_id = sqlite3_last_insert_rowid(ix->db);

	/* And the mail to the list. */
	q.kind = SK_OUTBOX_NOTE;
	q.message_id = comp.message_id;
	q.dedup_key = sk_arena_printf(c->a, "note:%lld",
				      (long long)c->out->note_id);
	q.sender = comp.sender;
	q.recipients = comp.recipients;
	q.raw = comp.raw;
	q.raw_len = comp.raw_len;
	q.user_id = author;
	{
		struct queue_ctx qc = { &q, c->now, 0 };
		rc = queue_tx(ix, &qc, err);
		c->out->outbox_id = qc.id;
	}
	if (!rc)
		rc = audit(ix, c->now, n->author_email, "note.post",
			   comp.message_id, n->title, err);
	c->out->message_row_id = msg_row;
	c->out->thread_id = thread;
	c->out->message_id = comp.message_id;
out:
	sk_buf_release(&topics);
	return rc;
}

enum sk_status
sk_index_note_post(struct sk_index *ix, struct sk_arena *a,
		   const struct sk_note_in *n, sk_note_compose_fn *compose,
		   void *compose_ctx, time_t now, struct sk_note_posted *out,
		   struct sk_err *err)
{
	struct post_ctx c = { a, n, compose, compose_ctx, now, out };
	size_t att_bytes = 0;

	need_writer(ix, "sk_index_note_post");
	memset(out, 0, sizeof(*out));
	if (!compose)
		SK_BUG("sk_index_note_post without a composer");
	if (!valid_quarter(n->quarter))
		return sk_err_set(err, SK_EINVAL,
				  "kwartał musi mieć postać RRRR-QN, np. "
				  "2024-Q2");
	if (!n->title || !sk_str_trim(n->title, strlen(n->title)).n)
		return sk_err_set(err, SK_EINVAL, "tytuł jest wymagany");
	if (strlen(n->title) > 300 || strpbrk(n->title, "\r\n"))
		return sk_err_set(err, SK_EINVAL,
				  "tytuł musi być jedną linią (do 300 znaków)");
	if (!n->body_md || !sk_str_trim(n->body_md, strlen(n->body_md)).n)
		return sk_err_set(err, SK_EINVAL, "treść notatki jest wymagana");
	if (!n->author_email || !*n->author_email)
		return sk_err_set(err, SK_EINVAL, "autor jest wymagany");
	if (strlen(n->body_md) > MAX_NOTE_TEXT ||
	    (n->decisions && strlen(n->decisions) > MAX_NOTE_TEXT))
		return sk_err_set(err, SK_ETOOBIG, "notatka jest za długa");
	if (n->n_attachments > MAX_NOTE_ATTACHMENTS)
		return sk_err_set(err, SK_ETOOBIG,
				  "za dużo załączników (najwyżej %d)",
				  MAX_NOTE_ATTACHMENTS);
	for (size_t i = 0; i < n->n_attachments; i++)
		att_bytes += n->attachments[i].size;
	if (att_bytes > MAX_NOTE_ATTACHMENT_BYTES)
		return sk_err_set(err, SK_ETOOBIG,
				  "załączniki są za duże (razem najwyżej "
				  "20 MiB)");
	for (const char *const *t = n->topics; t && t < n->topics + n->n_topics;
	     t++)
		if (!*t || !**t)
			return sk_err_set(err, SK_EINVAL, "pusty temat");
	return sk_index_autotx(ix, post_tx, &c, err);
}

#define NOTE_COLS                                                            \
	"n.id, n.quarter, n.title, n.place, n.partners_present, n.topics, "  \
	"n.decisions, u.email, u.name, n.message_id, coalesce((SELECT "     \
	"thread_id FROM messages WHERE message_id = n.message_id ORDER BY " \
	"id LIMIT 1), 0), n.created_at, o.state, coalesce(o.uncertain, 0), " \
	"o.last_error, coalesce(o.id, 0)"
#define NOTE_FROM                                                            \
	" FROM notes n LEFT JOIN users u ON u.id = n.author_id LEFT JOIN "   \
	"outbox o ON o.message_id = n.message_id "

static void
read_note(struct sk_arena *a, sqlite3_stmt *st, struct sk_note_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->quarter = col_str(a, st, 1);
	r->title = col_str(a, st, 2);
	r->place = col_str(a, st, 3);
	r->partners_present = col_str(a, st, 4);
	r->topics = col_str(a, st, 5);
	r->decisions = col_str(a, st, 6);
	r->author_email = col_str(a, st, 7);
	r->author_name = col_str(a, st, 8);
	r->message_id = col_str(a, st, 9);
	r->thread_id = sqlite3_column_int64(st, 10);
	r->created_at = (time_t)sqlite3_column_int64(st, 11);
	r->mail_state = (enum sk_outbox_state)name_index(
		state_names, SK_ARRAY_SIZE(state_names),
		(const char *)sqlite3_column_text(st, 12));
	r->mail_uncertain = sqlite3_column_int(st, 13) != 0;
	r->mail_error = col_str(a, st, 14);
	r->outbox_id = sqlite3_column_int64(st, 15);
}

enum sk_status
sk_index_notes_list(struct sk_index *ix, struct sk_arena *a,
		    const char *quarter, struct sk_note_row **rows_out,
		    size_t *n_out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT " NOTE_COLS NOTE_FROM
		"WHERE ?1 IS NULL OR n.quarter = upper(?1) "
		"ORDER BY n.quarter DESC, n.created_at DESC, n.id DESC",
		err);
	struct sk_note_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*rows_out = NULL;
	*n_out = 0;
	if (!st)
		return stmt_fail(err);
	if (quarter)
		sqlite3_bind_text(st, 1, quarter, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct sk_note_row *nr =
				sk_arena_alloc(a, ncap * sizeof(*nr));
			if (n)
				memcpy(nr, rows, n * sizeof(*nr));
			rows = nr;
			cap = ncap;
		}
		read_note(a, st, &rows[n++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "list notes", err);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

enum sk_status
sk_index_note_get(struct sk_index *ix, struct sk_arena *a, int64_t id,
		  struct sk_note_row *out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix, "SELECT " NOTE_COLS ", n.body_md" NOTE_FROM "WHERE n.id = ?1",
		err);
	int rc;
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_note(a, st, out);
		out->body_md = col_str(a, st, 16);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return SK_OK;
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "no note %lld",
				  (long long)id);
	return sk_ix_error(ix, rc, "read note", err);
}

/* ---- subscriptions ------------------------------------------------------------------ */

enum sk_status
sk_index_subscribe(struct sk_index *ix, const char *email,
		   const char *topic_slug, enum sk_period p, time_t now,
		   struct sk_err *err)
{
	int64_t user = user_id_by_email(ix, email);
	sqlite3_stmt *st;
	enum sk_status rc;

	need_writer(ix, "sk_index_subscribe");
	if (!user)
		return sk_err_set(err, SK_ENOTFOUND, "no user '%s'",
				  email ? email : "");
	st = sk_ix_stmt(ix,
			"INSERT INTO subscriptions(user_id, topic_id, period, "
			"created_at) SELECT ?1, id, ?3, ?4 FROM topics "
			"WHERE slug = ?2 ON CONFLICT(user_id, topic_id) "
			"DO UPDATE SET period = excluded.period",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_text(st, 2, topic_slug ? topic_slug : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sk_period_name(p), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)now);
	rc = step_done(ix, st, "subscribe", err);
	if (!rc && sqlite3_changes(ix->db) == 0)
		return sk_err_set(err, SK_ENOTFOUND, "no topic '%s'",
				  topic_slug ? topic_slug : "");
	return rc;
}

enum sk_status
sk_index_unsubscribe(struct sk_index *ix, const char *email,
		     const char *topic_slug, struct sk_err *err)
{
	int64_t user = user_id_by_email(ix, email);
	sqlite3_stmt *st;

	need_writer(ix, "sk_index_unsubscribe");
	if (!user)
		return sk_err_set(err, SK_ENOTFOUND, "no user '%s'",
				  email ? email : "");
	st = sk_ix_stmt(ix,
			"DELETE FROM subscriptions WHERE user_id = ?1 AND "
			"(?2 IS NULL OR topic_id = (SELECT id FROM topics "
			"WHERE slug = ?2))",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, user);
	if (topic_slug)
		sqlite3_bind_text(st, 2, topic_slug, -1, SQLITE_STATIC);
	return step_done(ix, st, "unsubscribe", err);
}

enum sk_status
sk_index_subscriptions(struct sk_index *ix, struct sk_arena *a,
		       const char *email, struct sk_subscription_row **rows_out,
		       size_t *n_out, struct sk_err *err)
{
	int64_t user = user_id_by_email(ix, email);
	sqlite3_stmt *st;
	struct sk_subscription_row *rows;
	size_t n = 0, cap = 0;
	int rc;

	*rows_out = NULL;
	*n_out = 0;
	if (!user)
		return sk_err_set(err, SK_ENOTFOUND, "no user '%s'",
				  email ? email : "");
	st = sk_ix_stmt(ix,
			"SELECT count(*) FROM subscriptions WHERE user_id = ?1",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, user);
	if (sqlite3_step(st) == SQLITE_ROW)
		cap = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	rows = sk_arena_alloc(a, (cap + 1) * sizeof(*rows));
	st = sk_ix_stmt(ix,
			"SELECT t.slug, t.name, s.period FROM subscriptions s "
			"JOIN topics t ON t.id = s.topic_id WHERE s.user_id = ?1 "
			"ORDER BY t.position, t.id",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, user);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < cap) {
		rows[n].topic_slug = col_str(a, st, 0);
		rows[n].topic_name = col_str(a, st, 1);
		sk_period_parse((const char *)sqlite3_column_text(st, 2),
				&rows[n].period);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "list subscriptions", err);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

struct token_ctx {
	const char *token;
	time_t now;
};

static enum sk_status
token_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct token_ctx *c = vctx;
	char hex[65], obj[32];
	sqlite3_stmt *st;
	int64_t user;
	char period[8];
	enum sk_status rc;
	int step;

	token_hash(c->token, hex);
	st = sk_ix_stmt(ix,
			"SELECT user_id, period FROM unsubscribe_tokens "
			"WHERE token_hash = ?1",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		sqlite3_reset(st);
		if (step != SQLITE_DONE)
			return sk_ix_error(ix, step, "read token", err);
		return sk_err_set(err, SK_ENOTFOUND, "unknown unsubscribe link");
	}
	user = sqlite3_column_int64(st, 0);
	snprintf(period, sizeof(period), "%s",
		 (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);

	st = sk_ix_stmt(ix,
			"DELETE FROM subscriptions WHERE user_id = ?1 AND "
			"period = ?2",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, user);
	sqlite3_bind_text(st, 2, period, -1, SQLITE_TRANSIENT);
	if ((rc = step_done(ix, st, "unsubscribe", err)))
		return rc;
	st = sk_ix_stmt(ix,
			"UPDATE unsubscribe_tokens SET used_at = "
			"coalesce(used_at, ?2) WHERE token_hash = ?1",
			err);
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (int64_t)c->now);
	if ((rc = step_done(ix, st, "unsubscribe", err)))
		return rc;
	snprintf(obj, sizeof(obj), "user:%lld", (long long)user);
	return audit(ix, c->now, "one-click", "digest.unsubscribe", obj, period,
		     err);
}

enum sk_status
sk_index_unsubscribe_token(struct sk_index *ix, const char *token, time_t now,
			   struct sk_err *err)
{
	struct token_ctx c = { token, now };
	need_writer(ix, "sk_index_unsubscribe_token");
	if (!token || strlen(token) < 16 || strlen(token) > 128)
		return sk_err_set(err, SK_ENOTFOUND, "unknown unsubscribe link");
	return sk_index_autotx(ix, token_tx, &c, err);
}

/* ---- digests --------------------------------------------------------------------------- */

enum sk_status
sk_index_digest_users(struct sk_index *ix, struct sk_arena *a,
		      enum sk_period p, struct sk_digest_user **users_out,
		      size_t *n_out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT u.id, u.email, u.name FROM users u WHERE u.disabled = 0 "
		"AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = "
		"u.id AND s.period = ?1) ORDER BY u.id",
		err);
	struct sk_digest_user *users = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*users_out = NULL;
	*n_out = 0;
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_text(st, 1, sk_period_name(p), -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct sk_digest_user *nu =
				sk_arena_alloc(a, ncap * sizeof(*nu));
			if (n)
				memcpy(nu, users, n * sizeof(*nu));
			users = nu;
			cap = ncap;
		}
		users[n].id = sqlite3_column_int64(st, 0);
		users[n].email = col_str(a, st, 1);
		users[n].name = col_str(a, st, 2);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "list digest users", err);
	*users_out = users;
	*n_out = n;
	return SK_OK;
}

enum sk_status
sk_index_digest_items(struct sk_index *ix, struct sk_arena *a, int64_t user_id,
		      enum sk_period p, time_t from, time_t to,
		      struct sk_digest_item **items_out, size_t *n_out,
		      struct sk_err *err)
{
	/* Visible messages only: held mail that nobody approved stays out. */
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT * FROM (SELECT t.slug, t.name, th.id, th.subject, "
		"th.first_date, th.last_date, (SELECT count(*) FROM messages m "
		"WHERE m.thread_id = th.id AND m.date >= ?3 AND m.date < ?4 "
		"AND (m.flags & 8 = 0 OR m.approved_at IS NOT NULL)) AS n, "
		"(SELECT p.name FROM messages m JOIN partners p ON p.id = "
		"m.partner_id WHERE m.thread_id = th.id ORDER BY m.date, m.id "
		"LIMIT 1), t.position, t.id AS tid "
		"FROM subscriptions s JOIN topics t ON t.id = s.topic_id "
		"JOIN thread_topics tt ON tt.topic_id = t.id AND tt.removed = 0 "
		"JOIN threads th ON th.id = tt.thread_id "
		"WHERE s.user_id = ?1 AND s.period = ?2 AND th.last_date >= ?3 "
		"AND th.first_date < ?4) WHERE n > 0 "
		"ORDER BY position, tid, 6 DESC, 3 DESC",
		err);
	struct sk_digest_item *items;
	size_t n = 0;
	int rc;

	*items_out = NULL;
	*n_out = 0;
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, sk_period_name(p), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)from);
	sqlite3_bind_int64(st, 4, (int64_t)to);
	items = sk_arena_alloc(a, MAX_DIGEST_ITEMS * sizeof(*items));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < MAX_DIGEST_ITEMS) {
		int64_t thread = sqlite3_column_int64(st, 2);
		bool seen = false;
		for (size_t i = 0; i < n && !seen; i++)
			seen = items[i].thread_id == thread;
		if (seen)
			continue; /* listed under an earlier topic */
		items[n].topic_slug = col_str(a, st, 0);
		items[n].topic_name = col_str(a, st, 1);
		items[n].thread_id = thread;
		items[n].subject = col_str(a, st, 3);
		items[n].first_date = (time_t)sqlite3_column_int64(st, 4);
		items[n].last_date = (time_t)sqlite3_column_int64(st, 5);
		items[n].messages = sqlite3_column_int64(st, 6);
		items[n].partner_name = col_str(a, st, 7);
		items[n].is_new = items[n].first_date >= from;
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "digest items", err);
	*items_out = items;
	*n_out = n;
	return SK_OK;
}

enum sk_status
sk_index_digest_practices(struct sk_index *ix, struct sk_arena *a,
			  int64_t user_id, enum sk_period p, time_t from,
			  time_t to, struct sk_digest_practice **rows_out,
			  size_t *n_out, struct sk_err *err)
{
	/* A record has no "validated at" column: the audit trail has the
	 * moment of every change of its status (create, update, undo), with
	 * the old and new values. Only records still validated now. */
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT * FROM (SELECT p.id, p.title, pa.name, "
		"(SELECT group_concat(name, ', ') FROM (SELECT t.name FROM "
		"practice_topics pt JOIN topics t ON t.id = pt.topic_id WHERE "
		"pt.practice_id = p.id ORDER BY t.position)), "
		"(SELECT max(au.at) FROM audit au WHERE au.object = "
		"'practice:' || p.id AND au.at >= ?3 AND au.at < ?4 AND "
		"json_extract(au.new_json, '$.status') = 'validated' AND "
		"coalesce(json_extract(au.old_json, '$.status'), '') <> "
		"'validated') AS v "
		"FROM practices p LEFT JOIN partners pa ON pa.id = p.partner_id "
		"WHERE p.status = 'validated' AND EXISTS (SELECT 1 FROM "
		"practice_topics pt JOIN subscriptions s ON s.topic_id = "
		"pt.topic_id WHERE pt.practice_id = p.id AND s.user_id = ?1 "
		"AND s.period = ?2)) WHERE v IS NOT NULL "
		"ORDER BY v DESC, 1 DESC",
		err);
	struct sk_digest_practice *rows;
	size_t n = 0;
	int rc;

	*rows_out = NULL;
	*n_out = 0;
	if (!st)
		return stmt_fail(err);
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, sk_period_name(p), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)from);
	sqlite3_bind_int64(st, 4, (int64_t)to);
	rows = sk_arena_alloc(a, MAX_DIGEST_ITEMS * sizeof(*rows));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < MAX_DIGEST_ITEMS) {
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].title = col_str(a, st, 1);
		rows[n].partner_name = col_str(a, st, 2);
		rows[n].topics = col_str(a, st, 3);
		rows[n].validated_at = (time_t)sqlite3_column_int64(st, 4);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "digest practices", err);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}
