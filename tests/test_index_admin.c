/* tests/test_index_admin.c: backup and restore (compared table by table and
 * by search results after reindex), forget (RODO erasure: nothing of the
 * person found by either backend afterwards) and the retention purge
 * (index/admin.c). The demo corpus is loaded with the real binary. */
#include "tests/helpers/sk_test.h"
#include "index/sk_index.h"

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct fx {
	char *tmp;
	char data[600], cmd[2048];
};

static int
sh(struct fx *fx, const char *verb, const char *arg)
{
	snprintf(fx->cmd, sizeof(fx->cmd), "%s -d %s %s%s >/dev/null",
		 sk_test_bin(), fx->data, verb, arg ? arg : "");
	return sk_test_run(fx->cmd, NULL);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	fx->tmp = sk_test_tmpdir();
	snprintf(fx->data, sizeof(fx->data), "%s/data", fx->tmp);
	if (sh(fx, "init", NULL) != 0 ||
	    sh(fx, "ingest --mbox ", "demo/praktyki-2024.mbox") != 0) {
		print_error("cannot load the demo corpus with %s\n",
			    sk_test_bin());
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	sk_test_rmdir(&fx->tmp);
	free(fx);
	return 0;
}

/* SHA-256 over every column of every row of sql (read-only, no FTS5), as
 * hex; *rows_out gets the row count. */
static void
digest(const char *db_path, const char *sql, char out[65], int64_t *rows_out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	crypto_hash_sha256_state h;
	unsigned char d[crypto_hash_sha256_BYTES];
	int64_t rows = 0;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY,
					 NULL),
			 SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	crypto_hash_sha256_init(&h);
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const void *p = sqlite3_column_blob(st, i);
			int n = sqlite3_column_bytes(st, i);
			crypto_hash_sha256_update(&h, (const unsigned char *)&n,
						  sizeof(n));
			if (p)
				crypto_hash_sha256_update(&h, p, (size_t)n);
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(out, 65, d, sizeof(d));
	*rows_out = rows;
}

static const char *const compare_sql[] = {
	/* messages with their raw bytes and thread */
	"SELECT m.id, m.message_id, m.subject, m.from_name, m.from_addr, "
	"m.to_addrs, m.cc_addrs, m.date, m.body, m.flags, m.parent_id, "
	"t.subject, t.message_count, r.sha256, r.raw FROM messages m "
	"JOIN raw_messages r ON r.id = m.raw_id JOIN threads t "
	"ON t.id = m.thread_id ORDER BY m.id",
	/* attachments with their blobs */
	"SELECT m.message_id, a.position, a.filename, a.content_type, a.size, "
	"a.text, b.data FROM attachments a JOIN messages m ON m.id = "
	"a.message_id JOIN blobs b ON b.sha256 = a.sha256 "
	"ORDER BY a.message_id, a.position",
	"SELECT email, name, role, password_hash, disabled FROM users "
	"ORDER BY email",
	"SELECT token_hash, user_id, expires_at FROM sessions ORDER BY 1",
	"SELECT message_id, kind, state, recipients, raw, user_id FROM outbox "
	"ORDER BY message_id",
	"SELECT slug, name, keywords FROM topics ORDER BY slug",
	"SELECT thread_id, topic_id, source, removed FROM thread_topics "
	"ORDER BY 1, 2",
	"SELECT user_id, topic_id, period FROM subscriptions ORDER BY 1, 2",
	"SELECT message_id, thread_id FROM ghosts ORDER BY 1",
	"SELECT id, actor, action, object, detail FROM audit ORDER BY id",
};

static void
assert_same_store(const char *a, const char *b)
{
	for (size_t i = 0; i < sizeof(compare_sql) / sizeof(*compare_sql);
	     i++) {
		char ha[65], hb[65];
		int64_t ra, rb;
		digest(a, compare_sql[i], ha, &ra);
		digest(b, compare_sql[i], hb, &rb);
		if (ra != rb || strcmp(ha, hb))
			fail_msg("differs (%lld vs %lld rows): %s",
				 (long long)ra, (long long)rb, compare_sql[i]);
	}
}

static const char *const queries[] = {
	"zamowienie publiczne", "from:debowa-gora.example", "has:attachment",
	"kanalizacja OR woda",	"\"gospodarka odpadami\"", "rodo -bip",
};

/* The Message-IDs a query finds, joined by spaces (from a). */
static const char *
found(struct sk_index *ix, struct sk_arena *a, const char *q,
      enum sk_backend b, int64_t *total_out)
{
	struct sk_search_opts o = { .query = q, .backend = b, .limit = 1000 };
	struct sk_results r;
	struct sk_err err = { 0 };
	const char *s = "";
	o.viewer.logged_in = o.viewer.coordinator = true;
	if (sk_search(ix, a, &o, &r, &err))
		fail_msg("search '%s': %s", q, err.msg);
	for (size_t i = 0; i < r.n_hits; i++)
		s = sk_arena_printf(a, "%s %s", s, r.hits[i].message_id);
	if (total_out)
		*total_out = r.total;
	return s;
}

static void
copy_file(const char *from, const char *to)
{
	char *buf;
	size_t len;
	int fd;
	assert_int_equal(sk_read_file(from, 1u << 30, &buf, &len, NULL), SK_OK);
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
}

static int64_t
count_sql(const char *db_path, const char *sql, const char *p)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;
	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY,
					 NULL),
			 SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (p)
		sqlite3_bind_text(st, 1, p, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Backup while another process ingests; then a quiet backup restored
 * elsewhere equals the source in every table and, after reindex, in the
 * results of both backends. */
static void
backup_restores_everything(void **state)
{
	struct fx *fx = *state;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	struct sk_check_report ck;
	char bk1[700], bk2[700], rdir[700], src[800], path[800], rpath[800];
	struct sk_arena *a = sk_arena_new(0);
	int64_t before, after, n1;
	pid_t pid;
	int status;
	char h[65];
	struct sk_outbox_new om = {
		.kind = SK_OUTBOX_DIGEST, .message_id = "d1@test.example",
		.sender = "skarbnica@test.example",
		.recipients = "anna@stolno.pl", .raw = "Subject: x\r\n\r\nx\r\n",
		.raw_len = 17,
	};

	assert_int_equal(sk_index_open(fx->data, SK_INDEX_WRITE, &ix, &err),
			 SK_OK);
	assert_int_equal(sk_index_user_set(ix, "anna@stolno.pl", "Anna",
					   SK_ROLE_COORDINATOR, "haslo123",
					   &err),
			 SK_OK);
	assert_int_equal(sk_index_subscribe(ix, "anna@stolno.pl",
					    "zamowienia-publiczne",
					    SK_PERIOD_WEEKLY, 1700000000, &err) ==
				 SK_OK ||
				 err.code == SK_ENOTFOUND,
			 1);
	assert_int_equal(sk_index_outbox_queue(ix, &om, 1700000000, NULL,
					       &err),
			 SK_OK);
	sk_index_close(&ix);
	snprintf(src, sizeof(src), "%s/skarbnica.db", fx->data);
	digest(src, compare_sql[0], h, &before);

	/* 1. During a concurrent ingest of the second year. */
	pid = fork();
	if (pid == 0) {
		execl(sk_test_bin(), "skarbnica", "-d", fx->data, "ingest",
		      "--mbox", "demo/praktyki-2025.mbox", (char *)NULL);
		_exit(127);
	}
	/* Back up once the ingest has committed something, while it goes
	 * on. */
	for (int i = 0; i < 500; i++) {
		if (count_sql(src, "SELECT count(*) FROM messages", NULL) >
		    before)
			break;
		usleep(10 * 1000);
	}
	snprintf(bk1, sizeof(bk1), "%s/bk1", fx->tmp);
	mkdir(bk1, 0700);
	snprintf(path, sizeof(path), "%s/skarbnica.db", bk1);
	assert_int_equal(sk_index_open(fx->data, SK_INDEX_NO_XAPIAN, &ix, &err),
			 SK_OK);
	assert_int_equal(sk_index_backup(ix, path, &err), SK_OK);
	sk_index_close(&ix);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	digest(src, compare_sql[0], h, &after);
	digest(path, compare_sql[0], h, &n1);
	printf("# backup during ingest: %lld messages (before %lld, after "
	       "%lld)\n",
	       (long long)n1, (long long)before, (long long)after);
	assert_true(n1 >= before && n1 <= after && after > before);
	assert_int_equal(sk_index_open(bk1, SK_INDEX_NO_XAPIAN, &ix, &err),
			 SK_OK);
	assert_int_equal(sk_index_check(ix, &ck, &err), SK_OK);
	assert_int_equal(ck.integrity_errors, 0);
	assert_true(ck.fts_ok);
	assert_int_equal(ck.messages, n1);
	assert_int_equal(ck.duplicate_raw + ck.orphan_raw + ck.bad_threads, 0);
	sk_index_close(&ix);

	/* 2. Quiet: restore and compare everything. */
	snprintf(bk2, sizeof(bk2), "%s/bk2", fx->tmp);
	mkdir(bk2, 0700);
	snprintf(path, sizeof(path), "%s/skarbnica.db", bk2);
	assert_int_equal(sk_index_open(fx->data, SK_INDEX_NO_XAPIAN, &ix, &err),
			 SK_OK);
	assert_int_equal(sk_index_backup(ix, path, &err), SK_OK);
	sk_index_close(&ix);
	snprintf(rdir, sizeof(rdir), "%s/restored", fx->tmp);
	mkdir(rdir, 0700);
	snprintf(rpath, sizeof(rpath), "%s/skarbnica.db", rdir);
	copy_file(path, rpath);
	assert_same_store(src, rpath);

	/* After reindex the restored copy answers as the source does. */
	{
		struct sk_index *rix, *six;
		assert_int_equal(sk_index_open(rdir, SK_INDEX_WRITE, &rix, &err),
				 SK_OK);
		assert_int_equal(sk_index_reindex(rix, NULL, NULL, &err), SK_OK);
		sk_index_close(&rix);
		assert_int_equal(sk_index_open(rdir, 0, &rix, &err), SK_OK);
		assert_int_equal(sk_index_open(fx->data, 0, &six, &err), SK_OK);
		for (size_t i = 0; i < sizeof(queries) / sizeof(*queries); i++) {
			for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5;
			     b++) {
				int64_t t1, t2;
				const char *r1 = found(six, a, queries[i], b, &t1);
				const char *r2 = found(rix, a, queries[i], b, &t2);
				assert_int_equal(t1, t2);
				assert_string_equal(r1, r2);
				if (i == 0)
					assert_true(t1 > 0);
			}
		}
		sk_index_close(&rix);
		sk_index_close(&six);
	}
	sk_arena_free(&a);
}

static void
backup_to_unwritable_place_fails_cleanly(void **state)
{
	struct fx *fx = *state;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	assert_int_equal(sk_index_open(fx->data, SK_INDEX_NO_XAPIAN, &ix, &err),
			 SK_OK);
	assert_int_not_equal(sk_index_backup(ix, "/nonexistent/dir/x.db", &err),
			     SK_OK);
	assert_non_null(strstr(err.msg, "/nonexistent/dir/x.db"));
	sk_index_close(&ix);
}

/* The sender with the most messages that has an attachment. */
static char *
victim(const char *db_path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *v = NULL;
	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY,
					 NULL),
			 SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(
			db,
			"SELECT from_addr FROM messages WHERE from_addr IN "
			"(SELECT m.from_addr FROM messages m JOIN attachments a "
			"ON a.message_id = m.id) AND from_addr IN (SELECT "
			"from_addr FROM messages WHERE parent_id IS NULL) "
			"GROUP BY from_addr ORDER BY count(*) DESC LIMIT 1",
			-1, &st, NULL),
		SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_non_null(v);
	return v;
}

static void
forget_erases_a_person_everywhere(void **state)
{
	struct fx *fx = *state;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	struct sk_erase_report dry, r;
	struct sk_check_report ck;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { true, true };
	struct sk_message_row row;
	struct sk_user_row u;
	char src[700], hash[65], *addr, **mids;
	int64_t n_mids, total, msgs_before, blobs_before;
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(src, sizeof(src), "%s/skarbnica.db", fx->data);
	addr = victim(src);
	n_mids = count_sql(src, "SELECT count(*) FROM messages WHERE "
				"from_addr = ?1",
			   addr);
	assert_true(n_mids > 0);
	mids = calloc((size_t)n_mids, sizeof(*mids));
	assert_int_equal(sqlite3_open_v2(src, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	sqlite3_prepare_v2(db,
			   "SELECT message_id FROM messages WHERE from_addr = ?1",
			   -1, &st, NULL);
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	for (int64_t i = 0; i < n_mids && sqlite3_step(st) == SQLITE_ROW; i++)
		mids[i] = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	msgs_before = count_sql(src, "SELECT count(*) FROM messages", NULL);
	blobs_before = count_sql(src, "SELECT count(*) FROM blobs", NULL);

	assert_int_equal(sk_index_open(fx->data, SK_INDEX_WRITE, &ix, &err),
			 SK_OK);
	/* They have an account, a session and a subscription. */
	assert_int_equal(sk_index_user_set(ix, addr, "Osoba", SK_ROLE_READER,
					   NULL, &err),
			 SK_OK);
	assert_int_equal(sk_index_user_find(ix, a, addr, &u, &err), SK_OK);
	assert_int_equal(sk_index_session_create(
				 ix, u.id,
				 "00112233445566778899aabbccddeeff00112233445566"
				 "778899aabbccddeeff",
				 "csrf", 1700000000, 4000000000, &err),
			 SK_OK);
	sk_index_subscribe(ix, addr, "zamowienia-publiczne", SK_PERIOD_DAILY,
			   1700000000, &err);
	assert_int_equal(sk_index_forget(ix, "not an address", NULL, false,
					 &dry, &err),
			 SK_EINVAL);

	/* The dry run counts and changes nothing. */
	assert_int_equal(sk_index_forget(ix, addr, "admin@test", true, &dry,
					 &err),
			 SK_OK);
	assert_int_equal(dry.messages, n_mids);
	assert_int_equal(dry.users, 1);
	assert_int_equal(dry.sessions, 1);
	assert_true(dry.attachments > 0);
	assert_int_equal(count_sql(src, "SELECT count(*) FROM messages", NULL),
			 msgs_before);
	assert_int_equal(sk_index_user_find(ix, a, addr, &u, &err), SK_OK);

	/* Upper case and angle brackets name the same person. */
	{
		char *up = sk_arena_printf(a, " <%s> ", addr);
		for (char *p = up; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 32);
		assert_int_equal(sk_index_forget(ix, up, "admin@test", false, &r,
						 &err),
				 SK_OK);
	}
	assert_memory_equal(&r, &dry, sizeof(r));
	printf("# forget: %lld messages, %lld attachments, %lld blobs, "
	       "%lld threads removed, %lld changed, %lld redacted\n",
	       (long long)r.messages, (long long)r.attachments,
	       (long long)r.blobs, (long long)r.threads_removed,
	       (long long)r.threads_changed, (long long)r.redacted);

	/* Nothing of theirs is found by either backend or by Message-ID. */
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		found(ix, a, sk_arena_printf(a, "from:%s", addr), b, &total);
		assert_int_equal(total, 0);
	}
	for (int64_t i = 0; i < n_mids; i++) {
		assert_int_equal(sk_index_message(ix, a, &v, mids[i], &row, &err),
				 SK_ENOTFOUND);
		free(mids[i]);
	}
	free(mids);
	assert_int_equal(sk_index_user_find(ix, a, addr, &u, &err),
			 SK_ENOTFOUND);
	assert_int_equal(sk_index_check(ix, &ck, &err), SK_OK);
	assert_int_equal(ck.integrity_errors, 0);
	assert_true(ck.fts_ok);
	assert_int_equal(ck.messages, msgs_before - n_mids);
	assert_int_equal(ck.orphan_raw + ck.orphan_blobs + ck.bad_threads +
				 ck.bad_ghosts,
			 0);
	assert_int_equal(ck.xapian_pending, 0);
	assert_int_equal(ck.xapian_docs, ck.messages);
	sk_index_close(&ix);

	assert_int_equal(count_sql(src, "SELECT count(*) FROM blobs", NULL),
			 blobs_before - r.blobs);
	assert_int_equal(count_sql(src,
				   "SELECT count(*) FROM messages WHERE "
				   "instr(lower(to_addrs || cc_addrs), ?1)",
				   addr),
			 0);
	assert_int_equal(count_sql(src,
				   "SELECT count(*) FROM raw_messages r WHERE "
				   "NOT EXISTS (SELECT 1 FROM messages m "
				   "WHERE m.raw_id = r.id)",
				   NULL),
			 0);
	/* The audit entry holds the hash, never the address. */
	sk_index_address_hash(addr, hash);
	assert_int_equal(count_sql(src,
				   "SELECT count(*) FROM audit WHERE action = "
				   "'forget' AND object = 'person:sha256:' || ?1",
				   hash),
			 1);
	assert_int_equal(count_sql(src,
				   "SELECT count(*) FROM audit WHERE "
				   "instr(actor || object || detail, ?1)",
				   addr),
			 0);
	/* Search for it by the address words too. */
	assert_int_equal(sk_index_open(fx->data, 0, &ix, &err), SK_OK);
	for (int b = SK_BACKEND_XAPIAN; b <= SK_BACKEND_FTS5; b++) {
		found(ix, a, sk_arena_printf(a, "from:%s", addr), b, &total);
		assert_int_equal(total, 0);
	}
	sk_index_close(&ix);
	free(addr);
	sk_arena_free(&a);
}

static void
purge_applies_retention(void **state)
{
	struct fx *fx = *state;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	struct sk_purge_report rep;
	struct sk_check_report ck;
	struct sk_retention r = { .held_days = 30, .sessions_days = 90,
				  .audit_days = 365 };
	char src[700];
	sqlite3 *db;
	time_t now = 2000000000;
	int64_t before;

	snprintf(src, sizeof(src), "%s/skarbnica.db", fx->data);
	before = count_sql(src, "SELECT count(*) FROM messages", NULL);
	/* Five messages held and never approved, ingested long ago. */
	assert_int_equal(sqlite3_open(src, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "UPDATE messages SET flags = flags | 8, "
			     "ingested_at = 1000 WHERE id IN (SELECT id FROM "
			     "messages ORDER BY id DESC LIMIT 5);"
			     "INSERT INTO audit(at, actor, action) VALUES "
			     "(1000, 'cli', 'old'), (1999999000, 'cli', 'new');",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(sk_index_open(fx->data, SK_INDEX_WRITE, &ix, &err),
			 SK_OK);
	assert_int_equal(sk_index_purge(ix, &r, now, true, &rep, &err), SK_OK);
	assert_int_equal(rep.held.messages, 5);
	assert_int_equal(rep.audit, 1);
	assert_int_equal(count_sql(src, "SELECT count(*) FROM messages", NULL),
			 before);
	assert_int_equal(sk_index_purge(ix, &r, now, false, &rep, &err), SK_OK);
	assert_int_equal(rep.held.messages, 5);
	assert_int_equal(sk_index_check(ix, &ck, &err), SK_OK);
	assert_int_equal(ck.messages, before - 5);
	assert_true(ck.fts_ok);
	assert_int_equal(ck.integrity_errors + ck.bad_threads + ck.orphan_raw,
			 0);
	assert_int_equal(ck.xapian_docs, ck.messages);
	sk_index_close(&ix);
	assert_int_equal(count_sql(src,
				   "SELECT count(*) FROM audit WHERE action = "
				   "'old'",
				   NULL),
			 0);
	assert_int_equal(count_sql(src,
				   "SELECT count(*) FROM audit WHERE action IN "
				   "('new', 'purge')",
				   NULL),
			 2);
}

/* The commands themselves (cmd/admin.c), once skarbnica.c lists them. */
static void
commands_backup_check_forget(void **state)
{
	struct fx *fx = *state;
	char dest[700], path[800], *out = NULL, *addr;
	int rc;

	snprintf(path, sizeof(path), "%s/skarbnica.conf", fx->data);
	{
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs("[search]\nbackend = fts5\n", f);
		fclose(f);
	}
	snprintf(dest, sizeof(dest), "%s/kopia", fx->tmp);
	snprintf(fx->cmd, sizeof(fx->cmd), "%s -d %s backup %s 2>&1",
		 sk_test_bin(), fx->data, dest);
	rc = sk_test_run(fx->cmd, &out);
	if (rc == 2 && out && strstr(out, "not a skarbnica command")) {
		printf("SKIP: %s has no 'backup' command yet (cmd/skarbnica.c "
		       "table)\n",
		       sk_test_bin());
		free(out);
		skip();
	}
	assert_int_equal(rc, 0);
	free(out);
	snprintf(path, sizeof(path), "%s/skarbnica.conf", dest);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/skarbnica.db", fx->data);
	addr = victim(path);
	snprintf(fx->cmd, sizeof(fx->cmd),
		 "%s -d %s reindex >/dev/null && %s -d %s check >/dev/null",
		 sk_test_bin(), dest, sk_test_bin(), dest);
	assert_int_equal(sk_test_run(fx->cmd, NULL), 0);

	snprintf(fx->cmd, sizeof(fx->cmd), "%s -d %s forget --dry-run %s",
		 sk_test_bin(), dest, addr);
	assert_int_equal(sk_test_run(fx->cmd, &out), 0);
	assert_non_null(strstr(out, "would erase"));
	free(out);
	snprintf(fx->cmd, sizeof(fx->cmd), "%s -d %s export-person %s",
		 sk_test_bin(), dest, addr);
	assert_int_equal(sk_test_run(fx->cmd, &out), 0);
	assert_non_null(strstr(out, "From "));
	free(out);
	snprintf(fx->cmd, sizeof(fx->cmd), "%s -d %s forget %s >/dev/null",
		 sk_test_bin(), dest, addr);
	assert_int_equal(sk_test_run(fx->cmd, NULL), 0);
	for (int b = 0; b < 2; b++) {
		snprintf(fx->cmd, sizeof(fx->cmd),
			 "%s -d %s search --json --backend %s from:%s",
			 sk_test_bin(), dest, b ? "fts5" : "xapian", addr);
		assert_int_equal(sk_test_run(fx->cmd, &out), 0);
		assert_non_null(strstr(out, "\"total\": 0"));
		free(out);
	}
	snprintf(fx->cmd, sizeof(fx->cmd), "%s -d %s export-person %s",
		 sk_test_bin(), dest, addr);
	assert_int_equal(sk_test_run(fx->cmd, &out), 0);
	assert_true(!out || !*out);
	free(out);
	snprintf(fx->cmd, sizeof(fx->cmd),
		 "%s -d %s purge --dry-run --held-days 30 >/dev/null && "
		 "%s -d %s check >/dev/null",
		 sk_test_bin(), dest, sk_test_bin(), dest);
	assert_int_equal(sk_test_run(fx->cmd, NULL), 0);
	snprintf(fx->cmd, sizeof(fx->cmd), "%s -d %s forget 'nie adres' "
		 "2>/dev/null", sk_test_bin(), dest);
	assert_int_equal(sk_test_run(fx->cmd, NULL), 2);
	free(addr);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(backup_restores_everything),
		T(backup_to_unwritable_place_fails_cleanly),
		T(forget_erases_a_person_everywhere),
		T(purge_applies_retention),
		T(commands_backup_check_forget),
	};
	if (access(sk_test_bin(), X_OK) != 0) {
		printf("SKIP: %s not built\n", sk_test_bin());
		return 0;
	}
	return cmocka_run_group_tests_name("index/admin", tests, NULL, NULL);
}
