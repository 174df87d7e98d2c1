/* index/admin.c: hardening — the online backup of the store, erasing a
 * person (RODO art. 17), exporting a person's mail (art. 15) and the
 * retention purge. All SQL of those lives here; the command is cmd/admin.c.
 * Xapian is never written here: deletions go through xapian_pending, which
 * the writer drains after the commit (store.c). */
#include "index/private.h"
#include "schema/sk_schema.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- backup ---------------------------------------------------------------- */

static void
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

enum sk_status
sk_index_backup(struct sk_index *ix, const char *dest_path,
		struct sk_err *err)
{
	size_t n = strlen(dest_path) + 8;
	char *tmp = sk_xmalloc(n), *dir, *slash;
	sqlite3 *dst = NULL;
	sqlite3_backup *bk;
	enum sk_status rc = SK_OK;
	int src;

	snprintf(tmp, n, "%s.tmp", dest_path);
	unlink(tmp);
	/* Personal data: the copy is readable by the owner and group only
	 * (SQLite keeps the mode of a file that exists). */
	{
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0640);
		if (fd < 0) {
			rc = sk_err_set(err, SK_EIO, "cannot create '%s': %s",
					tmp, strerror(errno));
			goto out;
		}
		close(fd);
	}
	src = sqlite3_open_v2(tmp, &dst,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (src != SQLITE_OK) {
		rc = sk_err_set(err, SK_EIO, "cannot create '%s': %s", tmp,
				dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(dst, 10000);
	bk = sqlite3_backup_init(dst, "main", ix->db, "main");
	if (!bk) {
		rc = sk_err_set(err, SK_EDB, "cannot start backup: %s",
				sqlite3_errmsg(dst));
		goto out;
	}
	/* One step copies every page inside one read transaction: in WAL
	 * mode writers go on meanwhile and the copy is one consistent
	 * snapshot (stepping in pieces would restart on every foreign
	 * write and might never finish under a busy ingest). */
	for (int tries = 0;; tries++) {
		src = sqlite3_backup_step(bk, -1);
		if (src == SQLITE_DONE)
			break;
		if ((src == SQLITE_BUSY || src == SQLITE_LOCKED) &&
		    tries < 100) {
			sqlite3_sleep(100);
			continue;
		}
		break;
	}
	sqlite3_backup_finish(bk);
	if (src != SQLITE_DONE) {
		int e = sqlite3_errcode(dst);
		rc = sk_err_set(err,
				src == SQLITE_FULL || e == SQLITE_FULL ||
						src == SQLITE_IOERR
					? SK_EIO
					: (src == SQLITE_BUSY ? SK_EAGAIN
							      : SK_EDB),
				"backup to '%s' failed: %s", tmp,
				sqlite3_errstr(src));
		goto out;
	}
	/* The copy is a rollback-journal file until someone opens it in
	 * WAL mode; check it before it takes the final name. */
	{
		sqlite3_stmt *st = NULL;
		const char *res = NULL;
		if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &st,
				       NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			res = (const char *)sqlite3_column_text(st, 0);
		if (!res || strcmp(res, "ok"))
			rc = sk_err_set(err, SK_EDB,
					"backup '%s' fails its check: %s", tmp,
					res ? res : sqlite3_errmsg(dst));
		sqlite3_finalize(st);
	}
	if (rc)
		goto out;
	if (sqlite3_close(dst) != SQLITE_OK) {
		rc = sk_err_set(err, SK_EIO, "cannot close '%s'", tmp);
		dst = NULL;
		goto out;
	}
	dst = NULL;
	fsync_path(tmp);
	if (rename(tmp, dest_path) < 0) {
		rc = sk_err_set(err, SK_EIO, "cannot rename '%s': %s", tmp,
				strerror(errno));
		goto out;
	}
	dir = sk_xstrdup(dest_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	fsync_path(slash ? (*dir ? dir : "/") : ".");
	free(dir);
out:
	if (dst)
		sqlite3_close(dst);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* ---- deleting messages (forget, retention) ---------------------------------- */

#define STEP_OK(ix, st, what, err)                                           \
	do {                                                                 \
		int rc_ = sqlite3_step(st);                                  \
		sqlite3_reset(st);                                           \
		if (rc_ != SQLITE_DONE)                                      \
			return sk_ix_error((ix), rc_, (what), (err));        \
	} while (0)

struct idlist {
	int64_t *v;
	size_t n, cap;
};

static void
idlist_add(struct idlist *l, int64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == id)
			return;
	sk_xgrow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = id;
}

static int64_t
scalar_i64(struct sk_index *ix, const char *sql, int64_t p1, const char *p2)
{
	sqlite3_stmt *st = sk_ix_stmt(ix, sql, NULL);
	int64_t v = 0;
	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, p1);
	if (p2)
		sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

static enum sk_status
exec_i64(struct sk_index *ix, const char *sql, int64_t p1, const char *p2,
	 int64_t *changes_out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(ix, sql, err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, p1);
	if (p2)
		sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "erase", err);
	if (changes_out)
		*changes_out += sqlite3_changes64(ix->db);
	return SK_OK;
}

/* Delete stored messages ids (inside the caller's transaction): their FTS5
 * rows (with the indexed text, before it goes), the rows, their raw bytes,
 * attachment blobs no other message uses, ghosts that only they wanted;
 * Message-IDs that remaining mail still references become ghosts again
 * (the thread keeps its shape), emptied threads go, the others get fresh
 * statistics and topics, and the Xapian documents are queued for deletion.
 * Counts go to *rep. */
static enum sk_status
delete_messages(struct sk_index *ix, const struct idlist *ids,
		struct sk_erase_report *rep, struct sk_err *err)
{
	struct idlist threads = { 0 }, raws = { 0 };
	char **blobs = NULL, **mids = NULL;
	size_t n_blobs = 0, cap_blobs = 0, n_mids = 0, cap_mids = 0;
	enum sk_status rc = SK_OK;
	sqlite3_stmt *st;
	bool relabel = false;

	for (size_t i = 0; i < ids->n && !rc; i++) {
		int64_t id = ids->v[i];
		idlist_add(&threads,
			   scalar_i64(ix,
				      "SELECT thread_id FROM messages "
				      "WHERE id = ?1",
				      id, NULL));
		idlist_add(&raws, scalar_i64(ix,
					     "SELECT raw_id FROM messages "
					     "WHERE id = ?1",
					     id, NULL));
		relabel = relabel ||
			  scalar_i64(ix,
				     "SELECT count(*) FROM topic_model_labels "
				     "WHERE message_id = ?1",
				     id, NULL) > 0;
		st = sk_ix_stmt(ix,
				"SELECT sha256, size FROM attachments "
				"WHERE message_id = ?1",
				err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, id);
		while (sqlite3_step(st) == SQLITE_ROW) {
			sk_xgrow((void **)&blobs, &cap_blobs, n_blobs + 1,
				 sizeof(*blobs));
			blobs[n_blobs++] = sk_xstrdup(
				(const char *)sqlite3_column_text(st, 0));
			rep->attachments++;
		}
		sqlite3_reset(st);
		rep->raw_bytes += scalar_i64(
			ix,
			"SELECT r.size FROM raw_messages r JOIN messages m "
			"ON m.raw_id = r.id WHERE m.id = ?1",
			id, NULL);
		st = sk_ix_stmt(ix,
				"SELECT message_id FROM messages WHERE id = ?1",
				err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			sk_xgrow((void **)&mids, &cap_mids, n_mids + 1,
				 sizeof(*mids));
			mids[n_mids++] = sk_xstrdup(
				(const char *)sqlite3_column_text(st, 0));
		}
		sqlite3_reset(st);
		if (!rc)
			rc = sk_index_fts_delete(ix, id, err);
		if (!rc)
			rc = exec_i64(ix, "DELETE FROM messages WHERE id = ?1",
				      id, NULL, &rep->messages, err);
		if (!rc)
			sk_index_mark_dirty(ix, id);
	}
	for (size_t i = 0; i < raws.n && !rc; i++)
		rc = exec_i64(ix, "DELETE FROM raw_messages WHERE id = ?1",
			      raws.v[i], NULL, NULL, err);
	/* A Message-ID that remaining mail still refers to waits as a ghost
	 * again (JWZ containers); ghosts nobody refers to any more go. */
	for (size_t i = 0; i < n_mids && !rc; i++)
		rc = exec_i64(ix,
			      "INSERT OR IGNORE INTO ghosts(message_id, "
			      "thread_id) SELECT r.ref, o.thread_id FROM "
			      "message_refs r JOIN messages o ON o.id = "
			      "r.message_id WHERE r.ref = ?2 AND NOT EXISTS "
			      "(SELECT 1 FROM messages WHERE message_id = ?2) "
			      "LIMIT 1",
			      0, mids[i], NULL, err);
	if (!rc && n_mids)
		rc = sk_db_exec(ix->db,
				"DELETE FROM ghosts WHERE message_id NOT IN "
				"(SELECT ref FROM message_refs)",
				err);
	for (size_t i = 0; i < n_blobs && !rc; i++) {
		st = sk_ix_stmt(ix,
				"DELETE FROM blobs WHERE sha256 = ?1 AND NOT "
				"EXISTS (SELECT 1 FROM attachments "
				"WHERE sha256 = ?1)",
				err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_text(st, 1, blobs[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sk_ix_error(ix, sqlite3_reset(st), "erase blob",
					 err);
		else
			rep->blobs += sqlite3_changes64(ix->db);
		sqlite3_reset(st);
	}
	for (size_t i = 0; i < threads.n && !rc; i++) {
		int64_t t = threads.v[i];
		if (!scalar_i64(ix,
				"SELECT count(*) FROM messages "
				"WHERE thread_id = ?1",
				t, NULL)) {
			rc = exec_i64(ix, "DELETE FROM threads WHERE id = ?1", t,
				      NULL, &rep->threads_removed, err);
			continue;
		}
		rep->threads_changed++;
		rc = sk_index_thread_stats(ix, t, err);
		if (!rc)
			rc = sk_index_thread_topics_refresh(ix, t, err);
	}
	/* The topic model counted their text: recount without it. */
	if (!rc && relabel)
		rc = sk_index_model_rebuild(ix, err);
	for (size_t i = 0; i < n_blobs; i++)
		free(blobs[i]);
	free(blobs);
	for (size_t i = 0; i < n_mids; i++)
		free(mids[i]);
	free(mids);
	free(threads.v);
	free(raws.v);
	if (!rc && ix->dirty_failed)
		rc = sk_err_set(err, SK_EDB, "cannot queue Xapian deletions");
	return rc;
}

/* ---- forget ------------------------------------------------------------------ */

/* A lowercase, trimmed copy of an address, or NULL when it is not one. */
static char *
norm_address(const char *in)
{
	char *s, *e;
	if (!in)
		return NULL;
	while (*in == ' ' || *in == '\t' || *in == '<')
		in++;
	s = sk_xstrdup(in);
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '>'))
		*--e = '\0';
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!*s || !strchr(s, '@') || strchr(s, '@') == s ||
	    strchr(s, ' ') || strchr(s, ',')) {
		free(s);
		return NULL;
	}
	return s;
}

void
sk_index_address_hash(const char *address, char out[65])
{
	char *a = norm_address(address);
	unsigned char h[crypto_hash_sha256_BYTES];
	const char *s = a ? a : (address ? address : "");
	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(out, 65, h, sizeof(h));
	free(a);
}

struct forget_ctx {
	const char *addr;
	const char *actor;
	struct sk_erase_report *rep;
};

static enum sk_status
forget_tx(struct sk_index *ix, struct forget_ctx *c, struct sk_err *err)
{
	struct sk_erase_report *rep = c->rep;
	struct idlist ids = { 0 };
	enum sk_status rc = SK_OK;
	sqlite3_stmt *st;
	int64_t uid;
	char hash[65];

	/* 1. Their messages. */
	st = sk_ix_stmt(ix,
			"SELECT id FROM messages WHERE from_addr = ?1 "
			"COLLATE NOCASE ORDER BY id",
			err);
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, c->addr, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		idlist_add(&ids, sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	rc = delete_messages(ix, &ids, rep, err);
	free(ids.v);

	/* 2. Their account: sessions, subscriptions and unsubscribe tokens
	 * go with it (ON DELETE CASCADE); notes and outbox rows keep a NULL
	 * author/user. Digests addressed to them go too. */
	uid = scalar_i64(ix,
			 "SELECT coalesce((SELECT id FROM users WHERE email = "
			 "?2), 0)",
			 0, c->addr);
	if (!rc && uid) {
		rep->sessions = scalar_i64(
			ix, "SELECT count(*) FROM sessions WHERE user_id = ?1",
			uid, NULL);
		rep->subscriptions = scalar_i64(
			ix,
			"SELECT count(*) FROM subscriptions WHERE user_id = ?1",
			uid, NULL);
		rc = exec_i64(ix,
			      "DELETE FROM outbox WHERE user_id = ?1 AND "
			      "kind <> 'note'",
			      uid, NULL, &rep->outbox, err);
		if (!rc)
			rc = exec_i64(ix, "DELETE FROM users WHERE id = ?1",
				      uid, NULL, &rep->users, err);
	}
	if (!rc)
		rc = exec_i64(ix,
			      "DELETE FROM outbox WHERE kind <> 'note' AND "
			      "lower(recipients) = ?2",
			      0, c->addr, &rep->outbox, err);

	/* 3. Where they appear in other people's mail: To/Cc are redacted
	 * (shown on the web); bodies and raw copies are the other authors'
	 * words and stay (docs/privacy.md); the dry run counts them. */
	if (!rc)
		rc = exec_i64(
			ix,
			"UPDATE messages SET "
			"to_addrs = replace(replace(to_addrs, ?2, "
			"'[usunięto]'), upper(?2), '[usunięto]'), "
			"cc_addrs = replace(replace(cc_addrs, ?2, "
			"'[usunięto]'), upper(?2), '[usunięto]') "
			"WHERE instr(lower(to_addrs), ?2) OR "
			"instr(lower(cc_addrs), ?2)",
			0, c->addr, &rep->redacted, err);
	/* Mixed case left by replace() above: lower() the whole field,
	 * then redact (addresses are case-insensitive in practice). */
	if (!rc)
		rc = exec_i64(
			ix,
			"UPDATE messages SET "
			"to_addrs = replace(lower(to_addrs), ?2, '[usunięto]'), "
			"cc_addrs = replace(lower(cc_addrs), ?2, '[usunięto]') "
			"WHERE instr(lower(to_addrs), ?2) OR "
			"instr(lower(cc_addrs), ?2)",
			0, c->addr, NULL, err);
	if (!rc)
		rep->mentions = scalar_i64(
			ix,
			"SELECT count(*) FROM messages WHERE "
			"instr(lower(body), ?2)",
			0, c->addr);
	if (!rc)
		rc = exec_i64(ix,
			      "UPDATE practices SET contact_name = '', "
			      "contact_email = '' WHERE lower(contact_email) = "
			      "?2",
			      0, c->addr, &rep->practices, err);
	sk_index_address_hash(c->addr, hash);
	/* Their own curation actions keep a pseudonym, not the address. */
	if (!rc) {
		st = sk_ix_stmt(ix,
				"UPDATE audit SET actor = 'usunięty:' || "
				"substr(?2, 1, 12) WHERE lower(actor) = ?1",
				err);
		if (!st)
			rc = err->code;
		else {
			sqlite3_bind_text(st, 1, c->addr, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = sk_ix_error(ix, sqlite3_reset(st),
						 "erase audit actor", err);
			else
				rep->audit_actor = sqlite3_changes64(ix->db);
			sqlite3_reset(st);
		}
	}
	/* 4. The audit entry: the address only as its SHA-256. */
	if (!rc) {
		char detail[256];
		snprintf(detail, sizeof(detail),
			 "messages=%lld attachments=%lld blobs=%lld "
			 "users=%lld sessions=%lld subscriptions=%lld "
			 "outbox=%lld redacted=%lld",
			 (long long)rep->messages, (long long)rep->attachments,
			 (long long)rep->blobs, (long long)rep->users,
			 (long long)rep->sessions,
			 (long long)rep->subscriptions, (long long)rep->outbox,
			 (long long)rep->redacted);
		st = sk_ix_stmt(ix,
				"INSERT INTO audit(at, actor, action, object, "
				"detail) VALUES (strftime('%s','now'), ?1, "
				"'forget', 'person:sha256:' || ?2, ?3)",
				err);
		if (!st)
			return err->code;
		sqlite3_bind_text(st, 1, c->actor ? c->actor : "cli", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, detail, -1, SQLITE_TRANSIENT);
		STEP_OK(ix, st, "write audit entry", err);
	}
	return rc;
}

enum sk_status
sk_index_forget(struct sk_index *ix, const char *address, const char *actor,
		bool dry_run, struct sk_erase_report *out, struct sk_err *err)
{
	struct forget_ctx c = { 0 };
	char *addr = norm_address(address);
	enum sk_status rc;

	memset(out, 0, sizeof(*out));
	if (!(ix->flags & SK_INDEX_WRITE))
		SK_BUG("sk_index_forget on a read-only handle");
	if (!addr)
		return sk_err_set(err, SK_EINVAL, "'%s' is not an e-mail address",
				  address ? address : "");
	c.addr = addr;
	c.actor = actor;
	c.rep = out;
	rc = sk_index_begin(ix, err);
	if (!rc)
		rc = forget_tx(ix, &c, err);
	/* The dry run does all of it and rolls back: the counts are the
	 * real ones, nothing changes (Xapian is written only after a
	 * commit). */
	if (rc || dry_run)
		sk_index_rollback(ix);
	else
		rc = sk_index_commit(ix, err);
	free(addr);
	return rc;
}

/* ---- export (right of access) --------------------------------------------------- */

enum sk_status
sk_index_export_person(struct sk_index *ix, const char *address,
		       sk_export_fn *fn, void *ctx, int64_t *n_out,
		       struct sk_err *err)
{
	char *addr = norm_address(address);
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	if (!addr)
		return sk_err_set(err, SK_EINVAL, "'%s' is not an e-mail address",
				  address ? address : "");
	st = sk_ix_stmt(ix,
			"SELECT m.message_id, m.date, r.raw FROM messages m "
			"JOIN raw_messages r ON r.id = m.raw_id WHERE "
			"m.from_addr = ?1 COLLATE NOCASE ORDER BY m.date, m.id",
			err);
	if (!st) {
		free(addr);
		return err->code;
	}
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *raw = sqlite3_column_blob(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		n++;
		if (fn && fn(ctx, (const char *)sqlite3_column_text(st, 0),
			     (time_t)sqlite3_column_int64(st, 1),
			     raw ? raw : "", len))
			break;
	}
	sqlite3_reset(st);
	free(addr);
	if (n_out)
		*n_out = n;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "export messages", err);
	return SK_OK;
}

/* ---- retention ---------------------------------------------------------------- */

static enum sk_status
purge_tx(struct sk_index *ix, const struct sk_retention *r, time_t now,
	 struct sk_purge_report *rep, struct sk_err *err)
{
	enum sk_status rc = SK_OK;
	struct idlist ids = { 0 };

	if (r->held_days > 0) {
		sqlite3_stmt *st = sk_ix_stmt(
			ix,
			"SELECT id FROM messages WHERE flags & 8 AND "
			"approved_at IS NULL AND ingested_at < ?1",
			err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, (int64_t)now - r->held_days * 86400);
		while (sqlite3_step(st) == SQLITE_ROW)
			idlist_add(&ids, sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
		rc = delete_messages(ix, &ids, &rep->held, err);
		free(ids.v);
	}
	/* Expired sessions always go; live ones once older than the limit. */
	if (!rc) {
		sqlite3_stmt *st = sk_ix_stmt(
			ix,
			"DELETE FROM sessions WHERE expires_at < ?1 OR "
			"(?2 > 0 AND created_at < ?1 - ?2 * 86400)",
			err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, (int64_t)now);
		sqlite3_bind_int64(st, 2, r->sessions_days);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sk_ix_error(ix, sqlite3_reset(st),
					 "purge sessions", err);
		else
			rep->sessions = sqlite3_changes64(ix->db);
		sqlite3_reset(st);
	}
	if (!rc && r->audit_days > 0) {
		int64_t cut = (int64_t)now - r->audit_days * 86400;
		/* Undo links into the purged range are cut first. */
		rc = exec_i64(ix,
			      "UPDATE audit SET undo_of = NULL WHERE undo_of "
			      "IN (SELECT id FROM audit WHERE at < ?1)",
			      cut, NULL, NULL, err);
		if (!rc)
			rc = exec_i64(ix,
				      "UPDATE audit SET undone_by = NULL WHERE "
				      "undone_by IN (SELECT id FROM audit "
				      "WHERE at < ?1)",
				      cut, NULL, NULL, err);
		if (!rc)
			rc = exec_i64(ix, "DELETE FROM audit WHERE at < ?1",
				      cut, NULL, &rep->audit, err);
	}
	if (!rc && r->outbox_days > 0)
		rc = exec_i64(ix,
			      "DELETE FROM outbox WHERE state = 'sent' AND "
			      "coalesce(sent_at, created_at) < ?1",
			      (int64_t)now - r->outbox_days * 86400, NULL,
			      &rep->outbox, err);
	return rc;
}

enum sk_status
sk_index_purge(struct sk_index *ix, const struct sk_retention *r, time_t now,
	       bool dry_run, struct sk_purge_report *out, struct sk_err *err)
{
	enum sk_status rc;
	memset(out, 0, sizeof(*out));
	if (!(ix->flags & SK_INDEX_WRITE))
		SK_BUG("sk_index_purge on a read-only handle");
	rc = sk_index_begin(ix, err);
	if (rc)
		return rc;
	rc = purge_tx(ix, r, now, out, err);
	if (!rc && !dry_run && (out->held.messages || out->audit)) {
		char detail[160];
		sqlite3_stmt *st;
		snprintf(detail, sizeof(detail),
			 "held=%lld sessions=%lld audit=%lld outbox=%lld",
			 (long long)out->held.messages,
			 (long long)out->sessions, (long long)out->audit,
			 (long long)out->outbox);
		st = sk_ix_stmt(ix,
				"INSERT INTO audit(at, actor, action, object, "
				"detail) VALUES (?1, 'cli', 'purge', "
				"'retention', ?2)",
				err);
		if (!st)
			rc = err->code;
		else {
			sqlite3_bind_int64(st, 1, (int64_t)now);
			sqlite3_bind_text(st, 2, detail, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = sk_ix_error(ix, sqlite3_reset(st),
						 "write audit entry", err);
			sqlite3_reset(st);
		}
	}
	if (rc || dry_run)
		sk_index_rollback(ix);
	else
		rc = sk_index_commit(ix, err);
	return rc;
}

/* ---- checks ------------------------------------------------------------------- */

enum sk_status
sk_index_check(struct sk_index *ix, struct sk_check_report *out,
	       struct sk_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sqlite3_prepare_v2(ix->db, "PRAGMA integrity_check", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return sk_ix_error(ix, rc, "integrity check", err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		if (r && strcmp(r, "ok"))
			out->integrity_errors++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "integrity check", err);
	rc = sqlite3_exec(ix->db,
			  "INSERT INTO messages_fts(messages_fts) "
			  "VALUES ('integrity-check')",
			  NULL, NULL, NULL);
	out->fts_ok = rc == SQLITE_OK;
	out->messages = scalar_i64(ix, "SELECT count(*) + 0 * ?1 FROM messages",
				   0, NULL);
	out->duplicate_raw = scalar_i64(
		ix,
		"SELECT count(*) + 0 * ?1 FROM (SELECT sha256 FROM raw_messages "
		"GROUP BY sha256 HAVING count(*) > 1)",
		0, NULL);
	out->orphan_raw = scalar_i64(
		ix,
		"SELECT count(*) + 0 * ?1 FROM raw_messages WHERE id NOT IN "
		"(SELECT raw_id FROM messages)",
		0, NULL);
	out->orphan_blobs = scalar_i64(
		ix,
		"SELECT count(*) + 0 * ?1 FROM blobs WHERE sha256 NOT IN "
		"(SELECT sha256 FROM attachments)",
		0, NULL);
	out->bad_threads = scalar_i64(
		ix,
		"SELECT count(*) + 0 * ?1 FROM threads t WHERE message_count <> "
		"(SELECT count(*) FROM messages WHERE thread_id = t.id)",
		0, NULL);
	out->bad_ghosts = scalar_i64(
		ix,
		"SELECT count(*) + 0 * ?1 FROM ghosts g WHERE NOT EXISTS "
		"(SELECT 1 FROM message_refs WHERE ref = g.message_id) OR "
		"EXISTS (SELECT 1 FROM messages WHERE message_id = "
		"g.message_id)",
		0, NULL);
	out->xapian_pending = scalar_i64(
		ix, "SELECT count(*) + 0 * ?1 FROM xapian_pending", 0, NULL);
	out->xapian_docs = ix->xdb ? sk_xdb_doccount(ix->xdb) : -1;
	return SK_OK;
}
