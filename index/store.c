/* index/store.c: opening the data directory (SQLite store + Xapian),
 * transactions, the prepared-statement cache, and the small tables:
 * meta, sources, partners, users, statistics. Messages are in message.c,
 * reading for the web in read.c, topics in classify.c. */
#include "index/private.h"
#include "schema/sk_schema.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- prepared statements, cached by the address of their SQL literal ---- */

#define STMT_SLOTS 128

struct sk_stmt_cache {
	const char *sql[STMT_SLOTS];
	sqlite3_stmt *st[STMT_SLOTS];
};

enum sk_status
sk_ix_error(struct sk_index *ix, int rc, const char *what, struct sk_err *err)
{
	return sk_db_error(ix->db, rc, what, err);
}

sqlite3_stmt *
sk_ix_stmt(struct sk_index *ix, const char *sql, struct sk_err *err)
{
	struct sk_stmt_cache *c = ix->stmts;
	size_t h = ((uintptr_t)sql >> 3) % STMT_SLOTS;
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < STMT_SLOTS; i++) {
		size_t k = (h + i) % STMT_SLOTS;
		if (c->sql[k] == sql) {
			sqlite3_reset(c->st[k]);
			sqlite3_clear_bindings(c->st[k]);
			return c->st[k];
		}
		if (!c->sql[k]) {
			rc = sqlite3_prepare_v3(ix->db, sql, -1,
						SQLITE_PREPARE_PERSISTENT, &st,
						NULL);
			if (rc != SQLITE_OK) {
				sk_ix_error(ix, rc, "prepare", err);
				return NULL;
			}
			c->sql[k] = sql;
			c->st[k] = st;
			return st;
		}
	}
	/* A full cache is a bug: there are fewer statements than slots. */
	SK_BUG("statement cache full");
}

void
sk_ix_stmt_cache_free(struct sk_index *ix)
{
	if (!ix->stmts)
		return;
	for (size_t i = 0; i < STMT_SLOTS; i++)
		if (ix->stmts->st[i])
			sqlite3_finalize(ix->stmts->st[i]);
	free(ix->stmts);
	ix->stmts = NULL;
}

/* ---- open and close ---------------------------------------------------- */

static enum sk_status drain_xapian(struct sk_index *ix, bool async,
				   struct sk_err *err);
static enum sk_status settle_xapian(struct sk_index *ix, struct sk_err *err);
static enum sk_status clear_dir(const char *dir, struct sk_err *err);

/* Queue every stored message for Xapian (committed), so that the next
 * drain rebuilds a new or incomplete index from the store. */
static enum sk_status
queue_all_for_xapian(struct sk_index *ix, struct sk_err *err)
{
	return sk_db_exec(ix->db,
			  "INSERT INTO xapian_pending(message_id, seq) "
			  "SELECT id, 0 FROM messages WHERE true "
			  "ON CONFLICT(message_id) DO NOTHING",
			  err);
}

static char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = sk_xmalloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

enum sk_status
sk_index_open(const char *data_dir, unsigned flags, struct sk_index **ix_out,
	      struct sk_err *err)
{
	struct sk_index *ix;
	char *path;
	unsigned dbflags = 0;
	enum sk_status rc;

	*ix_out = NULL;
	if (flags & SK_INDEX_CREATE) {
		rc = sk_mkdir_p(data_dir, 0750, err);
		if (rc)
			return rc;
		dbflags |= SK_DB_CREATE;
	}
	/* Readers may write small things (login sessions) but never run
	 * migrations or touch Xapian for writing. */
	if (!(flags & SK_INDEX_WRITE))
		dbflags |= SK_DB_NO_MIGRATE;
	if (sodium_init() < 0)
		return sk_err_set(err, SK_EIO, "cannot initialise libsodium");

	ix = sk_xcalloc(1, sizeof(*ix));
	ix->dir = sk_xstrdup(data_dir);
	ix->flags = flags;
	ix->stmts = sk_xcalloc(1, sizeof(*ix->stmts));
	sk_lexicon_open(ix); /* the analyzers' persistent lexicon */
	path = path_join(data_dir, "skarbnica.db");
	rc = sk_db_open(path, dbflags, sk_fts_register, NULL, &ix->db, err);
	free(path);
	if (!rc && !(flags & SK_INDEX_NO_XAPIAN)) {
		char *xdir = path_join(data_dir, "xapian");
		char *rev = path_join(xdir, "iamglass");
		struct stat st;
		/* A writer that finds no complete index (lost, restored from a
		 * backup, or half-cleared by a killed reindex) starts it afresh
		 * and queues every message: the drain below rebuilds it. The
		 * queue is committed before the directory is touched. */
		if ((flags & SK_INDEX_WRITE) && stat(rev, &st) != 0) {
			rc = queue_all_for_xapian(ix, err);
			if (!rc)
				rc = clear_dir(xdir, err);
		}
		free(rev);
		/* Readers of a store without a Xapian index fall back to FTS5;
		 * writers create it. */
		if (!rc && ((flags & SK_INDEX_WRITE) || stat(xdir, &st) == 0))
			rc = sk_xdb_open(xdir,
					 (flags & SK_INDEX_WRITE) ? SK_XDB_WRITE
								  : SK_XDB_READ,
					 &ix->xdb, err);
		free(xdir);
	}
	if (!rc) {
		char *xdir = path_join(data_dir, "xapian");
		struct stat st;
		ix->has_xapian = ix->xdb || stat(xdir, &st) == 0;
		free(xdir);
	}
	/* Catch up with what other handles queued, or a crash left. */
	if (!rc && ix->xdb && (flags & SK_INDEX_WRITE))
		rc = drain_xapian(ix, false, err);
	if (rc) {
		sk_index_close(&ix);
		return rc;
	}
	*ix_out = ix;
	return SK_OK;
}

void
sk_index_close(struct sk_index **ixp)
{
	struct sk_index *ix = *ixp;
	if (!ix)
		return;
	if (ix->in_batch)
		sk_index_rollback(ix);
	sk_classifier_free(&ix->classifier);
	sk_index_caches_free(ix);
	settle_xapian(ix, NULL); /* the last background commit */
	sk_ix_stmt_cache_free(ix);
	sk_db_close(&ix->db);
	if (ix->xdb)
		sk_xdb_close(&ix->xdb);
	sk_lexicon_save(ix); /* writers: the words analysed */
	free(ix->fts_pending);
	free(ix->hold_list_domain);
	free(ix->xap_async_ids);
	free(ix->xap_async_seqs);
	free(ix->dir);
	free(ix);
	*ixp = NULL;
}

/* ---- transactions -------------------------------------------------------- */

enum sk_status
sk_index_begin(struct sk_index *ix, struct sk_err *err)
{
	enum sk_status rc;
	if (ix->in_batch)
		SK_BUG("nested sk_index_begin");
	rc = sk_db_exec(ix->db, "BEGIN IMMEDIATE", err);
	if (!rc) {
		ix->in_batch = true;
		ix->hold_cached = false;
		/* The batch's texts are analysed once (terms.c). */
		sk_terms_memo_start();
	}
	return rc;
}

/* Xapian is a rebuildable cache, written after the store commits from the
 * queue the transaction filled (xapian_pending). Entries are deleted only
 * after the Xapian commit that applied them, so a crash anywhere leaves
 * them for the next writer; re-putting a document is idempotent.
 *
 * After a batch the documents are built here (replaying the batch's
 * analysis) and Xapian's own work — the inverter and the commit — runs on
 * a background thread while the next batch is stored (xap.cc); its queue
 * entries are deleted at the next drain, once sk_xdb_wait() confirms the
 * commit. */
#define DRAIN_BATCH 1000

/* Delete the queue entries a confirmed Xapian commit applied. */
static enum sk_status
drop_applied(struct sk_index *ix, const int64_t *ids, const int64_t *seqs,
	     size_t n, struct sk_err *err)
{
	enum sk_status rc = sk_db_exec(ix->db, "BEGIN IMMEDIATE", err);
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_stmt *st = sk_ix_stmt(ix,
					      "DELETE FROM xapian_pending WHERE "
					      "message_id = ?1 AND seq = ?2",
					      err);
		if (!st) {
			rc = err->code;
			break;
		}
		sqlite3_bind_int64(st, 1, ids[i]);
		sqlite3_bind_int64(st, 2, seqs[i]);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sk_ix_error(ix, sqlite3_reset(st),
					 "drain xapian queue", err);
		sqlite3_reset(st);
	}
	if (!rc)
		rc = sk_db_exec(ix->db, "COMMIT", err);
	else
		sk_db_exec(ix->db, "ROLLBACK", NULL);
	return rc;
}

/* Wait for the background commit and drop what it applied. On an error
 * the entries stay queued and are put again by the next drain. */
static enum sk_status
settle_xapian(struct sk_index *ix, struct sk_err *err)
{
	struct sk_err local;
	enum sk_status rc;
	if (!ix->xdb || !ix->n_xap_async)
		return SK_OK;
	if (!err)
		err = &local;
	rc = sk_xdb_wait(ix->xdb, err);
	if (!rc)
		rc = drop_applied(ix, ix->xap_async_ids, ix->xap_async_seqs,
				  ix->n_xap_async, err);
	ix->n_xap_async = 0;
	return rc;
}

static enum sk_status
drain_xapian(struct sk_index *ix, bool async, struct sk_err *err)
{
	int64_t *ids = sk_xmalloc(DRAIN_BATCH * sizeof(int64_t));
	int64_t *seqs = sk_xmalloc(DRAIN_BATCH * sizeof(int64_t));
	enum sk_status rc = settle_xapian(ix, err);

	while (!rc) {
		sqlite3_stmt *st = sk_ix_stmt(
			ix,
			"SELECT message_id, seq FROM xapian_pending "
			"ORDER BY seq LIMIT 1000",
			err);
		size_t n = 0;
		if (!st) {
			rc = err->code;
			break;
		}
		while (n < DRAIN_BATCH && sqlite3_step(st) == SQLITE_ROW) {
			ids[n] = sqlite3_column_int64(st, 0);
			seqs[n++] = sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
		if (!n)
			break;
		for (size_t i = 0; i < n && !rc; i++)
			rc = sk_index_xapian_put(ix, ids[i], err);
		if (!rc && async && n < DRAIN_BATCH) {
			/* The last part: commit in the background. */
			rc = sk_xdb_commit_async(ix->xdb, err);
			if (!rc) {
				sk_xgrow((void **)&ix->xap_async_ids,
					 &ix->cap_xap_async, n,
					 sizeof(int64_t));
				ix->xap_async_seqs = sk_xrealloc(
					ix->xap_async_seqs,
					ix->cap_xap_async * sizeof(int64_t));
				memcpy(ix->xap_async_ids, ids,
				       n * sizeof(int64_t));
				memcpy(ix->xap_async_seqs, seqs,
				       n * sizeof(int64_t));
				ix->n_xap_async = n;
			}
			break;
		}
		if (!rc)
			rc = sk_xdb_commit(ix->xdb, err);
		if (!rc)
			rc = drop_applied(ix, ids, seqs, n, err);
		if (n < DRAIN_BATCH)
			break;
	}
	free(ids);
	free(seqs);
	return rc;
}

/* The FTS5 rows of the messages added in this transaction, in ONE
 * statement: FTS5 flushes its pending terms at every statement savepoint,
 * and each INSERT into it opens one. The field texts must be exactly those
 * of load_text() in message.c (sender "NAME ADDR"; attachments "NAME\n
 * TEXT\n" each, by position): deleting a contentless row needs them. */
static enum sk_status
write_fts_pending(struct sk_index *ix, struct sk_err *err)
{
	struct sk_buf ids;
	sqlite3_stmt *st;
	int rc;

	if (!ix->n_fts_pending)
		return SK_OK;
	sk_buf_init(&ids, (size_t)1 << 30);
	sk_buf_addc(&ids, '[');
	for (size_t i = 0; i < ix->n_fts_pending; i++)
		sk_buf_addf(&ids, "%s%lld", i ? "," : "",
			    (long long)ix->fts_pending[i]);
	sk_buf_addc(&ids, ']');
	ix->n_fts_pending = 0;
	st = sk_ix_stmt(
		ix,
		"INSERT INTO messages_fts(rowid, subject, sender, body, "
		"attachments) SELECT m.id, m.subject, m.from_name || ' ' || "
		"m.from_addr, m.body, coalesce((SELECT group_concat(filename "
		"|| char(10) || coalesce(text, '') || char(10), '') FROM "
		"(SELECT filename, text FROM attachments WHERE message_id = "
		"m.id ORDER BY position)), '') FROM messages m WHERE m.id IN "
		"(SELECT value FROM json_each(?1)) ORDER BY m.id",
		err);
	if (!st) {
		sk_buf_release(&ids);
		return err->code;
	}
	sqlite3_bind_text(st, 1, ids.p, (int)ids.len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sk_buf_release(&ids);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "update full-text index", err);
	return SK_OK;
}

void
sk_index_set_bulk(struct sk_index *ix, bool on)
{
	sqlite3_stmt *st;
	char sql[64];

	if (on == ix->xap_background)
		return;
	ix->xap_background = on;
	/* Mapped pages of the store count in the process's RSS and grow
	 * with it (raw mail included); bulk writes read little of it. */
	if (on) {
		ix->mmap_saved = 0;
		if (sqlite3_prepare_v2(ix->db, "PRAGMA mmap_size", -1, &st,
				       NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				ix->mmap_saved = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA mmap_size = %lld",
		 on ? 0LL : (long long)ix->mmap_saved);
	sk_db_exec(ix->db, sql, NULL);
}

enum sk_status
sk_index_xapian_catch_up(struct sk_index *ix, struct sk_err *err)
{
	if (!ix->xdb || ix->in_batch || !(ix->flags & SK_INDEX_WRITE))
		return SK_OK;
	return drain_xapian(ix, false, err);
}

enum sk_status
sk_index_commit(struct sk_index *ix, struct sk_err *err)
{
	enum sk_status rc;
	if (!ix->in_batch)
		SK_BUG("sk_index_commit without begin");
	if (ix->dirty_failed) {
		sk_index_rollback(ix);
		return sk_err_set(err, SK_EDB,
				  "cannot queue a Xapian update; nothing was "
				  "stored");
	}
	rc = write_fts_pending(ix, err);
	if (rc) {
		sk_index_rollback(ix);
		return rc;
	}
	rc = sk_db_exec(ix->db, "COMMIT", err);
	if (rc) {
		sk_index_rollback(ix);
		return rc;
	}
	ix->in_batch = false;
	ix->hold_cached = false;
	/* The drain replays the terms FTS5 recorded; then they go. */
	rc = ix->xdb ? drain_xapian(ix, ix->xap_background, err) : SK_OK;
	sk_terms_memo_stop();
	return rc;
}

void
sk_index_rollback(struct sk_index *ix)
{
	if (!ix->in_batch)
		return;
	sk_db_exec(ix->db, "ROLLBACK", NULL);
	ix->in_batch = false;
	ix->dirty_failed = false;
	ix->n_fts_pending = 0;
	ix->hold_cached = false;
	sk_terms_memo_stop();
}

void
sk_index_fts_queue(struct sk_index *ix, int64_t id)
{
	sk_xgrow((void **)&ix->fts_pending, &ix->cap_fts_pending,
		 ix->n_fts_pending + 1, sizeof(int64_t));
	ix->fts_pending[ix->n_fts_pending++] = id;
}

void
sk_index_mark_dirty(struct sk_index *ix, int64_t id)
{
	sqlite3_stmt *st;
	if (!ix->has_xapian)
		return;
	st = sk_ix_stmt(ix,
			"INSERT INTO xapian_pending(message_id, seq) VALUES "
			"(?1, (SELECT coalesce(max(seq), 0) + 1 FROM "
			"xapian_pending)) ON CONFLICT(message_id) DO UPDATE "
			"SET seq = excluded.seq",
			NULL);
	if (st)
		sqlite3_bind_int64(st, 1, id);
	if (!st || sqlite3_step(st) != SQLITE_DONE)
		ix->dirty_failed = true;
	if (st)
		sqlite3_reset(st);
}

/* Run fn inside a transaction unless the caller already opened one. */
enum sk_status
sk_index_autotx(struct sk_index *ix,
		enum sk_status (*fn)(struct sk_index *, void *,
				     struct sk_err *),
		void *ctx, struct sk_err *err)
{
	enum sk_status rc;
	if (ix->in_batch)
		return fn(ix, ctx, err);
	rc = sk_index_begin(ix, err);
	if (rc)
		return rc;
	rc = fn(ix, ctx, err);
	if (rc) {
		sk_index_rollback(ix);
		return rc;
	}
	return sk_index_commit(ix, err);
}

void
sk_index_mark_thread_dirty(struct sk_index *ix, int64_t thread)
{
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;

	if (!ix->has_xapian)
		return;
	st = sk_ix_stmt(ix, "SELECT id FROM messages WHERE thread_id = ?1",
			NULL);
	if (!st) {
		ix->dirty_failed = true;
		return;
	}
	sqlite3_bind_int64(st, 1, thread);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sk_xgrow((void **)&ids, &cap, n + 1, sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	/* Not while the SELECT runs: marking uses statements too. */
	for (size_t i = 0; i < n; i++)
		sk_index_mark_dirty(ix, ids[i]);
	free(ids);
}

/* ---- meta ---------------------------------------------------------------- */

enum sk_status
sk_index_meta_set(struct sk_index *ix, const char *key, const char *value,
		  struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix, "INSERT INTO meta(key, value) VALUES (?1, ?2) "
		    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		err);
	int rc;
	if (!st)
		return err ? err->code : SK_EDB;
	ix->hold_cached = false; /* list.address may change */
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "set meta", err);
	return SK_OK;
}

const char *
sk_index_meta_get(struct sk_index *ix, struct sk_arena *a, const char *key)
{
	sqlite3_stmt *st =
		sk_ix_stmt(ix, "SELECT value FROM meta WHERE key = ?1", NULL);
	const char *v = NULL;
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sk_arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return v;
}

/* ---- sources ------------------------------------------------------------- */

enum sk_status
sk_index_source_get(struct sk_index *ix, const char *kind,
		    const char *location, struct sk_source_state *out,
		    struct sk_err *err)
{
	sqlite3_stmt *st;
	int rc;

	st = sk_ix_stmt(ix, "INSERT OR IGNORE INTO sources(kind, location) "
			    "VALUES (?1, ?2)",
			err);
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, location, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "add source", err);
	st = sk_ix_stmt(ix,
			"SELECT id, coalesce(uidvalidity, 0), "
			"coalesce(last_uid, 0), coalesce(mbox_offset, 0) "
			"FROM sources WHERE kind = ?1 AND location = ?2",
			err);
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, location, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return sk_ix_error(ix, rc, "read source", err);
	}
	out->id = sqlite3_column_int64(st, 0);
	out->uidvalidity = sqlite3_column_int64(st, 1);
	out->last_uid = sqlite3_column_int64(st, 2);
	out->mbox_offset = sqlite3_column_int64(st, 3);
	sqlite3_reset(st);
	return SK_OK;
}

enum sk_status
sk_index_source_set(struct sk_index *ix, const struct sk_source_state *s,
		    struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"UPDATE sources SET uidvalidity = ?2, last_uid = ?3, "
		"mbox_offset = ?4, updated_at = strftime('%s','now') "
		"WHERE id = ?1",
		err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_int64(st, 2, s->uidvalidity);
	sqlite3_bind_int64(st, 3, s->last_uid);
	sqlite3_bind_int64(st, 4, s->mbox_offset);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "update source", err);
	return SK_OK;
}

bool
sk_index_source_file_done(struct sk_index *ix, int64_t source_id,
			  const char *name)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix, "SELECT 1 FROM source_files WHERE source_id = ?1 AND name = ?2",
		NULL);
	bool done;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, source_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	done = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return done;
}

enum sk_status
sk_index_source_file_add(struct sk_index *ix, int64_t source_id,
			 const char *name, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix, "INSERT OR IGNORE INTO source_files(source_id, name) "
		    "VALUES (?1, ?2)",
		err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, source_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "record maildir file", err);
	return SK_OK;
}

/* ---- partners -------------------------------------------------------------- */

struct sync_partners {
	const struct sk_partner_conf *p;
	size_t n;
};

static enum sk_status
sync_partners_tx(struct sk_index *ix, void *ctx, struct sk_err *err)
{
	struct sync_partners *sp = ctx;
	enum sk_status rc = sk_db_exec(ix->db, "DELETE FROM partner_domains",
				       err);
	ix->hold_cached = false;
	for (size_t i = 0; i < sp->n && !rc; i++) {
		const struct sk_partner_conf *p = &sp->p[i];
		sqlite3_stmt *st = sk_ix_stmt(
			ix,
			"INSERT INTO partners(slug, name, kind) "
			"VALUES (?1, ?2, ?3) ON CONFLICT(slug) DO UPDATE "
			"SET name = excluded.name, kind = excluded.kind",
			err);
		int64_t pid;
		char *doms, *save = NULL;
		if (!st)
			return err->code;
		sqlite3_bind_text(st, 1, p->slug, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, p->kind ? p->kind : "gmina", -1,
				  SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return sk_ix_error(ix, sqlite3_reset(st),
					   "store partner", err);
		st = sk_ix_stmt(ix, "SELECT id FROM partners WHERE slug = ?1",
				err);
		if (!st)
			return err->code;
		sqlite3_bind_text(st, 1, p->slug, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			return sk_ix_error(ix, sqlite3_reset(st),
					   "read partner", err);
		pid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		doms = sk_xstrdup(p->domains);
		for (char *d = strtok_r(doms, " ,\t", &save); d && !rc;
		     d = strtok_r(NULL, " ,\t", &save)) {
			st = sk_ix_stmt(ix,
					"INSERT OR REPLACE INTO "
					"partner_domains(domain, partner_id) "
					"VALUES (lower(?1), ?2)",
					err);
			if (!st) {
				rc = err->code;
				break;
			}
			sqlite3_bind_text(st, 1, d, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, pid);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = sk_ix_error(ix, sqlite3_reset(st),
						 "store partner domain", err);
			sqlite3_reset(st);
		}
		free(doms);
	}
	return rc;
}

enum sk_status
sk_index_sync_partners(struct sk_index *ix, const struct sk_partner_conf *p,
		       size_t n, struct sk_err *err)
{
	struct sync_partners sp = { p, n };
	return sk_index_autotx(ix, sync_partners_tx, &sp, err);
}

/* ---- statistics ---------------------------------------------------------- */

static int64_t
count(struct sk_index *ix, const char *sql)
{
	sqlite3_stmt *st = sk_ix_stmt(ix, sql, NULL);
	int64_t n = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return n;
}

/* Bytes of the regular files directly in dir (the Xapian database). */
static int64_t
dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	int64_t total = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(path))
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += st.st_size;
	}
	closedir(d);
	return total;
}

enum sk_status
sk_index_stats(struct sk_index *ix, struct sk_stats *out, struct sk_err *err)
{
	char path[4096];
	struct stat st;
	struct sk_ix_version v = { 0 };
	/* The counts scan the store (the start page asked per request):
	 * kept per handle until the store changes (facets.c). */
	bool have_v = sk_index_version(ix, &v, NULL) == SK_OK;

	if (have_v && ix->stats_cached &&
	    sk_index_version_eq(&ix->stats_ver, &v)) {
		*out = ix->stats;
		goto sizes;
	}
	memset(out, 0, sizeof(*out));
	out->messages = count(ix, "SELECT count(*) FROM messages");
	out->threads = count(ix, "SELECT count(*) FROM threads");
	out->attachments = count(ix, "SELECT count(*) FROM attachments");
	out->flagged = count(ix, "SELECT count(*) FROM messages "
				 "WHERE flags & 1");
	out->held = count(ix, "SELECT count(*) FROM messages WHERE flags & 8 "
			      "AND approved_at IS NULL");
	out->partners = count(ix, "SELECT count(*) FROM partners");
	out->topics = count(ix, "SELECT count(*) FROM topics");
	out->users = count(ix, "SELECT count(*) FROM users");
	out->notes = count(ix, "SELECT count(*) FROM notes");
	out->outbox_queued = count(ix, "SELECT count(*) FROM outbox "
				       "WHERE state IN ('queued','sending')");
	out->outbox_failed = count(ix, "SELECT count(*) FROM outbox "
				       "WHERE state = 'failed'");
	out->last_ingest = count(ix, "SELECT coalesce(max(ingested_at), 0) "
				     "FROM messages");
	ix->stats = *out;
	ix->stats_ver = v;
	ix->stats_cached = have_v;
sizes:
	out->store_bytes = 0;
	snprintf(path, sizeof(path), "%s/skarbnica.db", ix->dir);
	if (stat(path, &st) == 0)
		out->store_bytes = st.st_size;
	snprintf(path, sizeof(path), "%s/skarbnica.db-wal", ix->dir);
	if (stat(path, &st) == 0)
		out->store_bytes += st.st_size;
	snprintf(path, sizeof(path), "%s/xapian", ix->dir);
	out->xapian_bytes = dir_bytes(path);
	(void)err;
	return SK_OK;
}

enum sk_status
sk_backend_parse(const char *s, enum sk_backend *out)
{
	if (!strcmp(s, "xapian"))
		*out = SK_BACKEND_XAPIAN;
	else if (!strcmp(s, "fts5"))
		*out = SK_BACKEND_FTS5;
	else
		return SK_EINVAL;
	return SK_OK;
}

char *
sk_index_sender_text(struct sk_arena *a, const char *name, const char *addr)
{
	return sk_arena_printf(a, "%s %s", name ? name : "", addr ? addr : "");
}

/* ---- rebuilding both indexes from the store --------------------------------- */

static enum sk_status
clear_dir(const char *dir, struct sk_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	if (!d)
		return errno == ENOENT ? SK_OK
				       : sk_err_set(err, SK_EIO,
						    "cannot open '%s': %s", dir,
						    strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(path))
			continue;
		if (unlink(path) < 0) {
			closedir(d);
			return sk_err_set(err, SK_EIO, "cannot remove '%s': %s",
					  path, strerror(errno));
		}
	}
	closedir(d);
	return SK_OK;
}

enum sk_status
sk_index_reindex(struct sk_index *ix,
		 void (*progress)(int64_t done, int64_t total, void *ctx),
		 void *ctx, struct sk_err *err)
{
	sqlite3_stmt *st;
	int64_t *ids = NULL, total;
	size_t n = 0, cap = 0;
	enum sk_status rc;

	if (!(ix->flags & SK_INDEX_WRITE))
		SK_BUG("reindex on a read-only handle");
	/* Queue every message before the index is emptied: a reindex killed
	 * anywhere below leaves work the next writer finishes. */
	if (ix->xdb && ((rc = settle_xapian(ix, err)) ||
			(rc = queue_all_for_xapian(ix, err))))
		return rc;
	if (ix->xdb) {
		char *xdir = path_join(ix->dir, "xapian");
		sk_xdb_close(&ix->xdb);
		rc = clear_dir(xdir, err);
		if (!rc)
			rc = sk_xdb_open(xdir, SK_XDB_WRITE, &ix->xdb, err);
		free(xdir);
		if (rc)
			return rc;
	}
	st = sk_ix_stmt(ix, "SELECT id FROM messages ORDER BY id", err);
	if (!st)
		return err->code;
	while (sqlite3_step(st) == SQLITE_ROW) {
		sk_xgrow((void **)&ids, &cap, n + 1, sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	total = (int64_t)n;
	rc = sk_index_begin(ix, err);
	if (!rc)
		rc = sk_db_exec(ix->db,
				"INSERT INTO messages_fts(messages_fts) "
				"VALUES ('delete-all')",
				err);
	for (size_t i = 0; i < n && !rc; i++) {
		/* Xapian: every message was queued above. */
		rc = sk_index_fts_put(ix, ids[i], false, err);
		if (!rc && (i + 1) % 2000 == 0) {
			rc = sk_index_commit(ix, err);
			if (!rc)
				rc = sk_index_begin(ix, err);
			if (progress)
				progress((int64_t)i + 1, total, ctx);
		}
	}
	if (rc)
		sk_index_rollback(ix);
	else
		rc = sk_index_commit(ix, err);
	if (!rc && progress)
		progress(total, total, ctx);
	free(ids);
	return rc;
}
