/* schema/sk_schema.h: opening the SQLite store and migrating it.
 *
 * Migrations are schema/migrations/NNNN_what.sql, compiled into the binary;
 * each runs in its own transaction and PRAGMA user_version records the last
 * one applied. Only schema/ and index/ include this header (they speak SQL). */
#ifndef SK_SCHEMA_H
#define SK_SCHEMA_H

#include "lib/sk_base.h"

SK_BEGIN_DECLS

struct sqlite3;

/* Called on every new connection before migrations run (index/ registers
 * the FTS5 tokenizer here, which the migrations' virtual tables need).
 * Returns an SQLite result code. */
typedef int sk_db_connect_fn(struct sqlite3 *db, void *ctx);

enum sk_db_open_flags {
	SK_DB_READONLY = (1 << 0), /* web readers: no migrations, no writes */
	SK_DB_CREATE = (1 << 1),   /* create the file when missing */
	SK_DB_NO_MIGRATE = (1 << 2), /* read-write, but leave the schema
					alone (the web's handles) */
};

/* Open the store at path: WAL, foreign keys, busy timeout, then (unless
 * read-only) apply pending migrations. SK_ENOTFOUND when the file is missing
 * and SK_DB_CREATE is not given; SK_EINVAL when the file is from a newer
 * Skarbnica; SK_EAGAIN when locked; SK_EDB otherwise. */
enum sk_status sk_db_open(const char *path, unsigned flags,
			  sk_db_connect_fn *on_connect, void *ctx,
			  struct sqlite3 **db_out, struct sk_err *err);
void sk_db_close(struct sqlite3 **db);

/* Map an SQLite result code to a status with sqlite3_errmsg() in err:
 * BUSY/LOCKED -> SK_EAGAIN, CONSTRAINT -> SK_EEXIST, FULL -> SK_EIO,
 * anything else -> SK_EDB. what says what was being done. */
enum sk_status sk_db_error(struct sqlite3 *db, int rc, const char *what,
			   struct sk_err *err);

/* Run SQL text with no results (DDL, BEGIN/COMMIT). */
enum sk_status sk_db_exec(struct sqlite3 *db, const char *sql,
			  struct sk_err *err);

/* The newest migration number compiled in. */
int sk_db_schema_version(void);

/* The default topic taxonomy (schema/taxonomy.txt), NUL-terminated. */
extern const char sk_schema_taxonomy[];

SK_END_DECLS
#endif
