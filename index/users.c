/* index/users.c: users, login sessions and attachment downloads — the
 * store side of the web's accounts. Passwords are argon2id hashes
 * (libsodium); sessions are stored by the hash of their cookie value. */
#include "index/private.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* ---- users ------------------------------------------------------------------ */

const char *
sk_role_name(enum sk_role r)
{
	switch (r) {
	case SK_ROLE_READER: return "reader";
	case SK_ROLE_COORDINATOR: return "coordinator";
	case SK_ROLE_ADMIN: return "admin";
	}
	return "reader";
}

enum sk_status
sk_role_parse(const char *s, enum sk_role *out)
{
	if (!strcmp(s, "reader"))
		*out = SK_ROLE_READER;
	else if (!strcmp(s, "coordinator"))
		*out = SK_ROLE_COORDINATOR;
	else if (!strcmp(s, "admin"))
		*out = SK_ROLE_ADMIN;
	else
		return SK_EINVAL;
	return SK_OK;
}

static bool
plausible_address(const char *email)
{
	const char *at = strchr(email, '@');
	size_t n = strlen(email);
	if (!at || at == email || !at[1] || strchr(at + 1, '@') || n > 254)
		return false;
	for (const char *p = email; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' ||
		    *p == '"' || *p == ',')
			return false;
	return strchr(at + 1, '.') != NULL;
}

enum sk_status
sk_index_user_set(struct sk_index *ix, const char *email, const char *name,
		  enum sk_role role, const char *password, struct sk_err *err)
{
	char hash[crypto_pwhash_STRBYTES];
	sqlite3_stmt *st;
	const char *at;
	int rc;

	if (!plausible_address(email))
		return sk_err_set(err, SK_EINVAL, "'%s' is not an e-mail address",
				  email);
	if (password) {
		if (strlen(password) < 8)
			return sk_err_set(err, SK_EINVAL,
					  "the password must have at least 8 "
					  "characters");
		if (crypto_pwhash_str(hash, password, strlen(password),
				      crypto_pwhash_OPSLIMIT_INTERACTIVE,
				      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
			return sk_err_set(err, SK_EIO,
					  "cannot hash the password (out of "
					  "memory?)");
	}
	at = strchr(email, '@');
	st = sk_ix_stmt(
		ix,
		"INSERT INTO users(email, name, role, password_hash, "
		"partner_id, created_at) VALUES (?1, ?2, ?3, ?4, "
		"(SELECT partner_id FROM partner_domains WHERE domain = "
		"lower(?5)), strftime('%s','now')) "
		"ON CONFLICT(email) DO UPDATE SET role = excluded.role, "
		"name = CASE WHEN excluded.name <> '' THEN excluded.name "
		"ELSE users.name END, "
		"password_hash = coalesce(excluded.password_hash, "
		"users.password_hash), partner_id = excluded.partner_id",
		err);
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name ? name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sk_role_name(role), -1, SQLITE_STATIC);
	if (password)
		sqlite3_bind_text(st, 4, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, at + 1, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sodium_memzero(hash, sizeof(hash));
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "store user", err);
	return SK_OK;
}

static const char *
col_str(struct sk_arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? sk_arena_strdup(a, (const char *)s) : NULL;
}

/* Columns 0..6 of a users row joined with its partner. */
#define USER_COLS                                                            \
	"u.id, u.email, u.name, u.role, u.password_hash, p.slug, u.disabled "

static void
fill_user(struct sk_arena *a, sqlite3_stmt *st, int c,
	  struct sk_user_row *u)
{
	const char *role = (const char *)sqlite3_column_text(st, c + 3);
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, c);
	u->email = col_str(a, st, c + 1);
	u->name = col_str(a, st, c + 2);
	if (!u->name)
		u->name = "";
	if (!role || sk_role_parse(role, &u->role))
		u->role = SK_ROLE_READER;
	u->password_hash = col_str(a, st, c + 4);
	u->partner_slug = col_str(a, st, c + 5);
	u->disabled = sqlite3_column_int(st, c + 6) != 0;
}

enum sk_status
sk_index_user_find(struct sk_index *ix, struct sk_arena *a, const char *email,
		   struct sk_user_row *out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(ix,
				      "SELECT " USER_COLS "FROM users u LEFT JOIN "
				      "partners p ON p.id = u.partner_id "
				      "WHERE u.email = ?1",
				      err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill_user(a, st, 0, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "no user '%s'", email);
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "find user", err);
	return SK_OK;
}

enum sk_status
sk_index_session_create(struct sk_index *ix, int64_t user_id,
			const char *token_hash, const char *csrf_token,
			time_t created_at, time_t expires_at,
			struct sk_err *err)
{
	sqlite3_stmt *st;
	int rc;

	/* Housekeeping first: expired sessions go. */
	st = sk_ix_stmt(ix, "DELETE FROM sessions WHERE expires_at <= ?1", err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, (int64_t)created_at);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "expire sessions", err);
	st = sk_ix_stmt(ix,
			"INSERT INTO sessions(token_hash, user_id, csrf_token, "
			"created_at, expires_at) SELECT ?1, id, ?3, ?4, ?5 "
			"FROM users WHERE id = ?2",
			err);
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, csrf_token, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)created_at);
	sqlite3_bind_int64(st, 5, (int64_t)expires_at);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "store session", err);
	if (sqlite3_changes(ix->db) == 0)
		return sk_err_set(err, SK_ENOTFOUND, "no user %lld",
				  (long long)user_id);
	return SK_OK;
}

enum sk_status
sk_index_session_find(struct sk_index *ix, struct sk_arena *a,
		      const char *token_hash, time_t now,
		      struct sk_session_row *out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT s.csrf_token, s.created_at, s.expires_at, " USER_COLS
		"FROM sessions s JOIN users u ON u.id = s.user_id "
		"LEFT JOIN partners p ON p.id = u.partner_id "
		"WHERE s.token_hash = ?1 AND s.expires_at > ?2 "
		"AND u.disabled = 0",
		err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->csrf_token = col_str(a, st, 0);
		out->created_at = (time_t)sqlite3_column_int64(st, 1);
		out->expires_at = (time_t)sqlite3_column_int64(st, 2);
		fill_user(a, st, 3, &out->user);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "no session");
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "find session", err);
	return SK_OK;
}

enum sk_status
sk_index_session_delete(struct sk_index *ix, const char *token_hash,
			struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix, "DELETE FROM sessions WHERE token_hash = ?1", err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "delete session", err);
	return SK_OK;
}

enum sk_status
sk_index_attachment(struct sk_index *ix, struct sk_arena *a,
		    const struct sk_viewer *v, const char *message_id,
		    int position, struct sk_attachment_row *row_out,
		    const void **data_out, size_t *len_out, struct sk_err *err)
{
	/* The message sk_index_message() shows: the first visible one. */
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT t.id, t.position, t.filename, t.content_type, "
		"t.sha256, t.size, t.extract_status, b.data FROM attachments t "
		"JOIN blobs b ON b.sha256 = t.sha256 WHERE t.position = ?2 "
		"AND t.message_id = (SELECT m.id FROM messages m WHERE "
		"m.message_id = ?1 AND (?9 OR m.flags & 8 = 0 OR "
		"m.approved_at IS NOT NULL) ORDER BY m.id LIMIT 1)",
		err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, position);
	sqlite3_bind_int(st, 9, v && v->coordinator);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 7);
		row_out->id = sqlite3_column_int64(st, 0);
		row_out->position = sqlite3_column_int(st, 1);
		row_out->filename = col_str(a, st, 2);
		row_out->content_type = col_str(a, st, 3);
		row_out->sha256 = col_str(a, st, 4);
		row_out->size = sqlite3_column_int64(st, 5);
		row_out->extract_status = col_str(a, st, 6);
		*data_out = sk_arena_memdup(a, sqlite3_column_blob(st, 7), n);
		*len_out = n;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND,
				  "no attachment %d of <%s>", position,
				  message_id);
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "read attachment", err);
	return SK_OK;
}
