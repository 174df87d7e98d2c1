/* cmd/ingest.c: `skarbnica ingest` — read mail from a source into the
 * store. */
#include "cmd/cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
	"usage: skarbnica [-d DATA] ingest (--maildir DIR | --mbox FILE |\n"
	"                 --stdin | --imap) [--watch] [--workers N] [--quiet]\n"
	"\n"
	"Read mail into the store. Every message is kept; malformed mail is\n"
	"stored raw and flagged. Re-reading a source is harmless: each source\n"
	"resumes where it stopped and duplicates are recognised.\n"
	"\n"
	"  --maildir DIR   a Maildir tree (nested folders, new/ and cur/)\n"
	"  --mbox FILE     an mbox file (mboxrd or mboxo); never written to\n"
	"  --stdin         one message from standard input (an MTA pipe);\n"
	"                  exits 75 when the store is busy, so the MTA retries\n"
	"  --imap          the [imap] account of the configuration\n"
	"  --watch         keep running: pick up new mail (Maildir, IMAP IDLE)\n"
	"  --workers N     parser processes (default: the number of cores)\n"
	"  --quiet         no summary line\n";

static void
on_signal(int sig)
{
	(void)sig;
	sk_ingest_stop();
}

int
cmd_ingest(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "maildir", required_argument, NULL, 'm' },
		{ "mbox", required_argument, NULL, 'b' },
		{ "stdin", no_argument, NULL, 's' },
		{ "imap", no_argument, NULL, 'i' },
		{ "watch", no_argument, NULL, 'w' },
		{ "workers", required_argument, NULL, 'W' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *maildir = NULL, *mbox = NULL;
	bool use_stdin = false, imap = false, watch = false;
	struct sk_ingest_settings set = { 0 };
	struct sk_ingest_counts n;
	struct sk_ingest *ing = NULL;
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	enum sk_status rc, rc2;
	int opt, sources;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': maildir = optarg; break;
		case 'b': mbox = optarg; break;
		case 's': use_stdin = true; break;
		case 'i': imap = true; break;
		case 'w': watch = true; break;
		case 'q': set.quiet = true; break;
		case 'W': {
			int64_t v;
			if (sk_parse_i64(optarg, 1, 64, &v, &err)) {
				cmd_fail("ingest: --workers: %s", err.msg);
				return CMD_USAGE;
			}
			set.workers = (unsigned)v;
			break;
		}
		case 'h': return cmd_usage(help, false);
		default: return cmd_usage(help, true);
		}
	}
	sources = !!maildir + !!mbox + use_stdin + imap;
	if (sources != 1 || optind < argc || (watch && (mbox || use_stdin)))
		return cmd_usage(help, true);

	set.limits = c->cfg.limits;
	set.list_id = c->cfg.list.id;
	if (use_stdin)
		set.quiet = true;
	if (cmd_open_store(c, 0, true, &ix, &err)) {
		cmd_fail("ingest: %s", err.msg);
		/* The MTA keeps the message and retries later. */
		return use_stdin ? CMD_TEMPFAIL : CMD_FAIL;
	}
	rc = sk_ingest_new(ix, &set, &ing, &err);
	if (!rc) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		if (maildir)
			rc = sk_ingest_maildir(ing, maildir, watch, &err);
		else if (mbox)
			rc = sk_ingest_mbox(ing, mbox, &err);
		else if (imap)
			rc = sk_ingest_imap(ing, &c->cfg, watch, &err);
		else
			rc = sk_ingest_fd(ing, STDIN_FILENO, &err);
		sk_ingest_counts(ing, &n);
		{
			struct sk_err ferr = { 0 };
			rc2 = sk_ingest_finish(&ing, &ferr);
			if (!rc && rc2) {
				rc = rc2;
				err = ferr;
			}
		}
	}
	sk_index_close(&ix);
	if (rc) {
		cmd_fail("ingest: %s", err.msg);
		if (!use_stdin)
			return CMD_FAIL;
		/* The MTA retries on 75; a message we can never take (empty,
		 * too big) must bounce instead of looping for days. */
		return rc == SK_EINVAL || rc == SK_ETOOBIG || rc == SK_EPARSE
			       ? CMD_DATAERR
			       : CMD_TEMPFAIL;
	}
	if (!set.quiet)
		printf("ingest: %lld read, %lld new, %lld duplicates, "
		       "%lld flagged, %lld held for review, %lld skipped "
		       "(other lists)\n",
		       (long long)n.seen, (long long)n.stored,
		       (long long)n.duplicates, (long long)n.flagged,
		       (long long)n.held, (long long)n.skipped);
	return CMD_OK;
}
