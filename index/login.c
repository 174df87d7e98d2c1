/* index/login.c: one-time login links and the audit of logins — the store
 * side of the web's "Wyślij link" (sk_index.h, "one-time login links").
 * Tokens are stored by their hash only; using one is a single UPDATE that
 * only succeeds once. */
#include "index/private.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

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

static bool
hash_shaped(const char *h)
{
	return h && strlen(h) == 64 &&
	       strspn(h, "0123456789abcdef") == 64;
}

struct create_ctx {
	int64_t user_id;
	const char *token_hash;
	time_t now, expires_at;
	const struct sk_outbox_new *mail;
};

static enum sk_status
create_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct create_ctx *c = vctx;
	sqlite3_stmt *st;
	enum sk_status rc;

	st = sk_ix_stmt(ix,
			"DELETE FROM login_tokens WHERE expires_at < ?1",
			err);
	if (!st)
		return err ? err->code : SK_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)c->now - 24 * 3600);
	rc = step_done(ix, st, "expire login tokens", err);
	if (rc)
		return rc;
	st = sk_ix_stmt(ix,
			"INSERT INTO login_tokens(token_hash, user_id, "
			"created_at, expires_at) SELECT ?1, id, ?3, ?4 "
			"FROM users WHERE id = ?2",
			err);
	if (!st)
		return err ? err->code : SK_EDB;
	sqlite3_bind_text(st, 1, c->token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->user_id);
	sqlite3_bind_int64(st, 3, (int64_t)c->now);
	sqlite3_bind_int64(st, 4, (int64_t)c->expires_at);
	rc = step_done(ix, st, "store login token", err);
	if (rc)
		return rc;
	if (sqlite3_changes(ix->db) == 0)
		return sk_err_set(err, SK_ENOTFOUND, "no user %lld",
				  (long long)c->user_id);
	if (c->mail)
		return sk_index_outbox_queue(ix, c->mail, c->now, NULL, err);
	return SK_OK;
}

enum sk_status
sk_index_login_token_create(struct sk_index *ix, int64_t user_id,
			    const char *token_hash, time_t now,
			    time_t expires_at, const struct sk_outbox_new *mail,
			    struct sk_err *err)
{
	struct create_ctx c = { user_id, token_hash, now, expires_at, mail };

	if (!hash_shaped(token_hash))
		return sk_err_set(err, SK_EINVAL, "bad login token hash");
	return sk_index_autotx(ix, create_tx, &c, err);
}

struct use_ctx {
	const char *token_hash;
	time_t now;
	const char *email; /* of the user, from a */
	struct sk_arena *a;
};

static enum sk_status
use_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct use_ctx *c = vctx;
	sqlite3_stmt *st;
	enum sk_status rc;
	int src;

	st = sk_ix_stmt(ix,
			"UPDATE login_tokens SET used_at = ?2 WHERE "
			"token_hash = ?1 AND used_at IS NULL AND "
			"expires_at > ?2 AND user_id IN (SELECT id FROM users "
			"WHERE disabled = 0)",
			err);
	if (!st)
		return err ? err->code : SK_EDB;
	sqlite3_bind_text(st, 1, c->token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)c->now);
	rc = step_done(ix, st, "use login token", err);
	if (rc)
		return rc;
	if (sqlite3_changes(ix->db) == 0)
		return sk_err_set(err, SK_ENOTFOUND,
				  "login token unknown, used or expired");
	st = sk_ix_stmt(ix,
			"SELECT u.email FROM login_tokens t JOIN users u ON "
			"u.id = t.user_id WHERE t.token_hash = ?1",
			err);
	if (!st)
		return err ? err->code : SK_EDB;
	sqlite3_bind_text(st, 1, c->token_hash, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		c->email = sk_arena_strdup(
			c->a, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (src != SQLITE_ROW)
		return src == SQLITE_DONE
			       ? sk_err_set(err, SK_ENOTFOUND, "user went")
			       : sk_ix_error(ix, src, "read login token", err);
	return SK_OK;
}

enum sk_status
sk_index_login_token_use(struct sk_index *ix, struct sk_arena *a,
			 const char *token_hash, time_t now,
			 struct sk_user_row *user_out, struct sk_err *err)
{
	struct use_ctx c = { token_hash, now, NULL, a };
	enum sk_status rc;

	memset(user_out, 0, sizeof(*user_out));
	if (!hash_shaped(token_hash))
		return sk_err_set(err, SK_ENOTFOUND, "bad login token");
	rc = sk_index_autotx(ix, use_tx, &c, err);
	if (rc)
		return rc;
	rc = sk_index_user_find(ix, a, c.email, user_out, err);
	if (!rc && user_out->disabled)
		return sk_err_set(err, SK_ENOTFOUND, "user disabled");
	return rc;
}

enum sk_status
sk_index_audit_login(struct sk_index *ix, time_t now, const char *actor,
		     const char *action, int64_t user_id, const char *detail,
		     struct sk_err *err)
{
	char who[255], object[32] = "";
	sqlite3_stmt *st;
	size_t n = actor ? strlen(actor) : 0;

	if (n > sizeof(who) - 1)
		n = sizeof(who) - 1;
	/* Cut on a character boundary: the column holds valid UTF-8. */
	while (n > 0 && actor && ((unsigned char)actor[n] & 0xc0) == 0x80)
		n--;
	for (size_t i = 0; i < n; i++) {
		char ch = actor[i];
		who[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	who[n] = '\0';
	if (user_id > 0)
		snprintf(object, sizeof(object), "user:%lld",
			 (long long)user_id);
	st = sk_ix_stmt(ix,
			"INSERT INTO audit(at, actor, action, object, detail) "
			"VALUES (?1, ?2, ?3, ?4, ?5)",
			err);
	if (!st)
		return err ? err->code : SK_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)now);
	sqlite3_bind_text(st, 2, who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, object, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
	return step_done(ix, st, "audit login", err);
}
