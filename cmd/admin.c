/* cmd/admin.c: the operator's commands for durability and privacy —
 * backup, forget (RODO erasure), export-person (RODO access), purge
 * (retention) and check. Thin layers over index/admin.c; no SQL here. */
#include "cmd/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Until cmd/cmd.h declares them (the lead adds them there). */

/* Copy a small file (the configuration) to dest, mode kept, fsync'ed. */
static enum sk_status
copy_file(const char *src, const char *dest, struct sk_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	enum sk_status rc = sk_read_file(src, 16u << 20, &buf, &len, err);
	int fd;

	if (rc)
		return rc;
	if (stat(src, &st) < 0)
		st.st_mode = 0600;
	fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 0777);
	if (fd < 0) {
		free(buf);
		return sk_err_set(err, SK_EIO, "cannot create '%s': %s", dest,
				  strerror(errno));
	}
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd) < 0)
		rc = sk_err_set(err, SK_EIO, "cannot write '%s': %s", dest,
				strerror(errno));
	if (close(fd) < 0 && !rc)
		rc = sk_err_set(err, SK_EIO, "cannot write '%s': %s", dest,
				strerror(errno));
	free(buf);
	return rc;
}

int
cmd_backup(struct cmd_ctx *c, int argc, char **argv)
{
	static const char help[] =
		"usage: skarbnica [-d DATA] backup DEST\n"
		"\n"
		"Copy the store online (ingest, web and mailer may keep running)\n"
		"into DEST/skarbnica.db: messages, raw mail, attachments, users,\n"
		"outbox, topics and the FTS5 index, as one consistent snapshot;\n"
		"and the configuration into DEST/skarbnica.conf. The Xapian index\n"
		"is not copied: after restoring, run 'skarbnica -d DEST reindex'.\n";
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	char path[4096];
	struct stat st;
	int rc = CMD_OK;

	if (cmd_wants_help(argc, argv))
		return cmd_usage(help, false);
	if (argc != 2)
		return cmd_usage(help, true);
	if (sk_mkdir_p(argv[1], 0750, &err)) {
		cmd_fail("backup: %s", err.msg);
		return CMD_FAIL;
	}
	if (sk_index_open(c->data_dir, SK_INDEX_NO_XAPIAN, &ix, &err)) {
		cmd_fail("backup: %s", err.msg);
		return CMD_FAIL;
	}
	snprintf(path, sizeof(path), "%s/skarbnica.db", argv[1]);
	if (sk_index_backup(ix, path, &err)) {
		cmd_fail("backup: %s", err.msg);
		rc = CMD_FAIL;
	}
	sk_index_close(&ix);
	if (rc)
		return rc;
	if (c->cfg.path && stat(c->cfg.path, &st) == 0) {
		snprintf(path, sizeof(path), "%s/skarbnica.conf", argv[1]);
		if (copy_file(c->cfg.path, path, &err)) {
			cmd_fail("backup: %s", err.msg);
			return CMD_FAIL;
		}
	}
	printf("backed up %s to %s (run 'skarbnica -d %s reindex' after "
	       "restoring)\n",
	       c->data_dir, argv[1], argv[1]);
	return CMD_OK;
}

static void
print_erase(const char *verb, const struct sk_erase_report *r)
{
	printf("%s: %lld messages (%lld bytes raw), %lld attachments "
	       "(%lld blobs), %lld threads removed, %lld threads changed\n",
	       verb, (long long)r->messages, (long long)r->raw_bytes,
	       (long long)r->attachments, (long long)r->blobs,
	       (long long)r->threads_removed, (long long)r->threads_changed);
}

int
cmd_forget(struct cmd_ctx *c, int argc, char **argv)
{
	static const char help[] =
		"usage: skarbnica [-d DATA] forget [--dry-run] [--as ACTOR] "
		"ADDRESS\n"
		"\n"
		"Erase a person (RODO art. 17): every message they sent (raw,\n"
		"text, attachments, both search indexes), their account, sessions\n"
		"and subscriptions; their address in other messages' To/Cc is\n"
		"replaced by [usunięto]. --dry-run shows the counts and changes\n"
		"nothing. The audit log records the SHA-256 of the address only.\n"
		"See docs/privacy.md.\n";
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "as", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	struct sk_erase_report r;
	const char *actor = "cli";
	bool dry = false;
	char hash[65];
	int opt;

	if (cmd_wants_help(argc, argv))
		return cmd_usage(help, false);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "na:", opts, NULL)) != -1) {
		if (opt == 'n')
			dry = true;
		else if (opt == 'a')
			actor = optarg;
		else
			return cmd_usage(help, true);
	}
	if (optind != argc - 1)
		return cmd_usage(help, true);
	if (cmd_open_store(c, 0, false, &ix, &err) ||
	    sk_index_forget(ix, argv[optind], actor, dry, &r, &err)) {
		cmd_fail("forget: %s", err.msg);
		sk_index_close(&ix);
		return err.code == SK_EINVAL ? CMD_USAGE : CMD_FAIL;
	}
	sk_index_close(&ix);
	sk_index_address_hash(argv[optind], hash);
	print_erase(dry ? "would erase" : "erased", &r);
	printf("account: %lld (sessions %lld, subscriptions %lld), outbox "
	       "rows %lld, practice contacts %lld, audit actor %lld\n",
	       (long long)r.users, (long long)r.sessions,
	       (long long)r.subscriptions, (long long)r.outbox,
	       (long long)r.practices, (long long)r.audit_actor);
	printf("redacted in To/Cc of %lld other messages; named in the body "
	       "of %lld other messages (kept, see docs/privacy.md)\n",
	       (long long)r.redacted, (long long)r.mentions);
	printf("audit object: person:sha256:%s%s\n", hash,
	       dry ? " (dry run: nothing changed)" : "");
	return CMD_OK;
}

struct export_ctx {
	FILE *f;
	bool failed;
};

/* mboxrd: "From " lines (and ">From ") in the body get one more '>'. */
static int
export_one(void *vctx, const char *message_id, time_t date, const char *raw,
	   size_t len)
{
	struct export_ctx *x = vctx;
	struct tm tm;
	char when[64];
	const char *p = raw, *end = raw + len;

	(void)message_id;
	gmtime_r(&date, &tm);
	strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
	fprintf(x->f, "From MAILER-DAEMON %s\n", when);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		const char *q = p;
		while (q < p + n && *q == '>')
			q++;
		if ((size_t)(p + n - q) >= 5 && !memcmp(q, "From ", 5))
			fputc('>', x->f);
		fwrite(p, 1, n, x->f);
		p += n;
	}
	if (len && raw[len - 1] != '\n')
		fputc('\n', x->f);
	fputc('\n', x->f);
	if (ferror(x->f)) {
		x->failed = true;
		return 1;
	}
	return 0;
}

int
cmd_export_person(struct cmd_ctx *c, int argc, char **argv)
{
	static const char help[] =
		"usage: skarbnica [-d DATA] export-person ADDRESS > FILE.mbox\n"
		"\n"
		"Write every message from ADDRESS, exactly as received, as an\n"
		"mbox (mboxrd) on standard output: the answer to a data subject's\n"
		"request for access (RODO art. 15). See docs/privacy.md.\n";
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	struct export_ctx x = { stdout, false };
	int64_t n = 0;

	if (cmd_wants_help(argc, argv))
		return cmd_usage(help, false);
	if (argc != 2)
		return cmd_usage(help, true);
	if (sk_index_open(c->data_dir, SK_INDEX_NO_XAPIAN, &ix, &err) ||
	    sk_index_export_person(ix, argv[1], export_one, &x, &n, &err)) {
		cmd_fail("export-person: %s", err.msg);
		sk_index_close(&ix);
		return err.code == SK_EINVAL ? CMD_USAGE : CMD_FAIL;
	}
	sk_index_close(&ix);
	if (x.failed || fflush(stdout) != 0) {
		cmd_fail("export-person: cannot write: %s", strerror(errno));
		return CMD_FAIL;
	}
	fprintf(stderr, "skarbnica: exported %lld messages\n", (long long)n);
	return CMD_OK;
}

static bool
parse_days(const char *s, int64_t *out)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return false;
	*out = v;
	return true;
}

int
cmd_purge(struct cmd_ctx *c, int argc, char **argv)
{
	static const char help[] =
		"usage: skarbnica [-d DATA] purge [--dry-run] [--held-days N]\n"
		"       [--sessions-days N] [--audit-days N] [--outbox-days N]\n"
		"\n"
		"Apply the retention periods (days; 0 or absent keeps for ever):\n"
		"held mail never approved, login sessions (expired ones always\n"
		"go), audit entries, sent outbox rows. The [retention] section\n"
		"of the configuration gives the defaults; options override them.\n"
		"Run it daily from cron.\n";
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "held-days", required_argument, NULL, 'H' },
		{ "sessions-days", required_argument, NULL, 'S' },
		{ "audit-days", required_argument, NULL, 'A' },
		{ "outbox-days", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	struct sk_retention r = {
		.held_days = (int64_t)c->cfg.retention.held_days,
		.sessions_days = (int64_t)c->cfg.retention.sessions_days,
		.audit_days = (int64_t)c->cfg.retention.audit_days,
		.outbox_days = (int64_t)c->cfg.retention.outbox_days,
	};
	struct sk_purge_report rep;
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	bool dry = false, ok = true;
	int opt;

	if (cmd_wants_help(argc, argv))
		return cmd_usage(help, false);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "n", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			dry = true;
			break;
		case 'H':
			ok = ok && parse_days(optarg, &r.held_days);
			break;
		case 'S':
			ok = ok && parse_days(optarg, &r.sessions_days);
			break;
		case 'A':
			ok = ok && parse_days(optarg, &r.audit_days);
			break;
		case 'O':
			ok = ok && parse_days(optarg, &r.outbox_days);
			break;
		default:
			return cmd_usage(help, true);
		}
	}
	if (!ok || optind != argc)
		return cmd_usage(help, true);
	if (cmd_open_store(c, 0, false, &ix, &err) ||
	    sk_index_purge(ix, &r, time(NULL), dry, &rep, &err)) {
		cmd_fail("purge: %s", err.msg);
		sk_index_close(&ix);
		return CMD_FAIL;
	}
	sk_index_close(&ix);
	printf("%s: %lld held messages, %lld sessions, %lld audit entries, "
	       "%lld outbox rows\n",
	       dry ? "would purge" : "purged", (long long)rep.held.messages,
	       (long long)rep.sessions, (long long)rep.audit,
	       (long long)rep.outbox);
	return CMD_OK;
}

int
cmd_check(struct cmd_ctx *c, int argc, char **argv)
{
	static const char help[] =
		"usage: skarbnica [-d DATA] check\n"
		"\n"
		"Check the store: SQLite integrity, the FTS5 index, raw mail\n"
		"stored once, thread counts, and the Xapian queue. Exit 1 when\n"
		"something is wrong (see docs/operations.md, Recovery).\n";
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	struct sk_check_report r;
	bool bad;

	if (cmd_wants_help(argc, argv))
		return cmd_usage(help, false);
	if (argc != 1)
		return cmd_usage(help, true);
	if (sk_index_open(c->data_dir, SK_INDEX_NO_XAPIAN, &ix, &err) ||
	    sk_index_check(ix, &r, &err)) {
		cmd_fail("check: %s", err.msg);
		sk_index_close(&ix);
		return CMD_FAIL;
	}
	sk_index_close(&ix);
	bad = r.integrity_errors || !r.fts_ok || r.duplicate_raw ||
	      r.bad_threads;
	printf("messages %lld, integrity %s, fts5 %s, duplicate raw %lld, "
	       "orphan raw %lld, orphan blobs %lld, bad thread counts %lld, "
	       "xapian queue %lld\n",
	       (long long)r.messages, r.integrity_errors ? "FAILED" : "ok",
	       r.fts_ok ? "ok" : "FAILED (run reindex)",
	       (long long)r.duplicate_raw, (long long)r.orphan_raw,
	       (long long)r.orphan_blobs, (long long)r.bad_threads,
	       (long long)r.xapian_pending);
	return bad ? CMD_FAIL : CMD_OK;
}
