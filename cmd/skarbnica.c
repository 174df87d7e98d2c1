/* cmd/skarbnica.c: the skarbnica command — global options, the data
 * directory and configuration, and the subcommands of DESIGN.md. The only
 * code that uses every module; each subcommand is a thin layer over them.
 * Exit status: 0 success, 1 failure (one line on stderr), 2 usage;
 * `ingest --stdin` uses sysexits (75 = try again later) for the MTA. */
#include "cmd/cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: skarbnica [-d DATA] [-c CONFIG] COMMAND [ARGS]\n"
	"\n"
	"Skarbnica: a good-practice knowledge base for partnerships of\n"
	"Polish local governments, built from their mailing list.\n"
	"\n"
	"commands:\n"
	"  init                          create the store, load the taxonomy\n"
	"  ingest --maildir DIR | --mbox FILE | --stdin | --imap [--watch]\n"
	"  search [--json] [--backend xapian|fts5] [--limit N] QUERY...\n"
	"  stats [--json]                counts: messages, threads, ...\n"
	"  serve [--listen ADDR:PORT] [--public]\n"
	"  user add EMAIL --role reader|coordinator|admin [--password-file F]\n"
	"  note post --file NOTE.md --as EMAIL [--quarter 2024-Q4]\n"
	"                                queue quarterly meeting notes for the list\n"
	"  mailer [--once]               send what the outbox holds\n"
	"  digest [--period daily|weekly] queue topic digests for subscribers\n"
	"  topics load FILE | classify   edit the taxonomy, classify again\n"
	"  reindex                       rebuild both indexes from the store\n"
	"  check                         integrity of the store and indexes\n"
	"  backup DEST                   online copy of the store (then reindex it)\n"
	"  forget [--dry-run] ADDRESS    erase a person's mail and account (RODO)\n"
	"  export-person ADDRESS         a person's mail as mbox (access request)\n"
	"  purge [--dry-run]             apply the [retention] periods\n"
	"  demo                          the demo corpus, served at "
	"http://127.0.0.1:8080/\n"
	"\n"
	"DATA is -d DIR, else $SKARBNICA_DATA, else ./data. CONFIG is -c FILE,\n"
	"else DATA/skarbnica.conf when it exists. 'skarbnica COMMAND --help'\n"
	"describes a command.\n";

void
cmd_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("skarbnica: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cmd_usage(const char *text, bool error)
{
	fputs(text, error ? stderr : stdout);
	return error ? CMD_USAGE : CMD_OK;
}

bool
cmd_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}

enum sk_status
cmd_load_config(struct cmd_ctx *c, struct sk_err *err)
{
	enum sk_status rc;
	char path[4096];

	sk_config_init(&c->cfg);
	if (c->config_path) {
		rc = sk_config_load(&c->cfg, c->config_path, err);
	} else {
		snprintf(path, sizeof(path), "%s/skarbnica.conf", c->data_dir);
		rc = sk_config_load(&c->cfg, path, err);
		if (rc == SK_ENOTFOUND)
			rc = SK_OK; /* no file: all defaults */
	}
	if (!rc)
		sk_log_set_level(c->cfg.log_level);
	return rc;
}

/* Open the store for writing, creating it and loading the taxonomy and
 * partners when it is new. */
enum sk_status
cmd_open_store(struct cmd_ctx *c, unsigned extra_flags, bool create,
	       struct sk_index **ix_out, struct sk_err *err)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *ix;
	struct sk_stats st;
	enum sk_status rc;
	unsigned flags = SK_INDEX_WRITE | extra_flags;

	if (create)
		flags |= SK_INDEX_CREATE;
	rc = sk_index_open(c->data_dir, flags, &ix, err);
	if (rc) {
		sk_arena_free(&a);
		return rc;
	}
	rc = sk_index_stats(ix, &st, err);
	if (!rc && st.topics == 0)
		rc = sk_index_load_taxonomy(ix, sk_index_default_taxonomy(),
					    err);
	if (!rc && c->cfg.n_partners)
		rc = sk_index_sync_partners(ix, c->cfg.partners,
					    c->cfg.n_partners, err);
	if (!rc && c->cfg.list.address) {
		const char *old = sk_index_meta_get(ix, a, "list.address");
		if (!old || strcmp(old, c->cfg.list.address))
			rc = sk_index_meta_set(ix, "list.address",
					       c->cfg.list.address, err);
	}
	sk_arena_free(&a);
	if (rc) {
		sk_index_close(&ix);
		return rc;
	}
	*ix_out = ix;
	return SK_OK;
}

static int
cmd_init(struct cmd_ctx *c, int argc, char **argv)
{
	static const char help[] =
		"usage: skarbnica [-d DATA] init\n"
		"\n"
		"Create the store in DATA (SQLite and Xapian), load the default\n"
		"topic taxonomy and the partners of the configuration. Running it\n"
		"again is harmless: it updates topics and partners.\n";
	struct sk_index *ix;
	struct sk_err err = { 0 };

	if (cmd_wants_help(argc, argv))
		return cmd_usage(help, false);
	if (argc > 1)
		return cmd_usage(help, true);
	if (cmd_open_store(c, 0, true, &ix, &err)) {
		cmd_fail("init: %s", err.msg);
		return CMD_FAIL;
	}
	/* Re-running init refreshes the taxonomy from the built-in file. */
	if (sk_index_load_taxonomy(ix, sk_index_default_taxonomy(), &err)) {
		cmd_fail("init: %s", err.msg);
		sk_index_close(&ix);
		return CMD_FAIL;
	}
	sk_index_close(&ix);
	printf("initialised %s\n", c->data_dir);
	return CMD_OK;
}

static const struct cmd {
	const char *name;
	int (*run)(struct cmd_ctx *c, int argc, char **argv);
} commands[] = {
	{ "init", cmd_init },	    { "ingest", cmd_ingest },
	{ "search", cmd_search },   { "stats", cmd_stats },
	{ "serve", cmd_serve },	    { "user", cmd_user },
	{ "reindex", cmd_reindex }, { "demo", cmd_demo },
	{ "note", cmd_note },	    { "mailer", cmd_mailer },
	{ "digest", cmd_digest },   { "topics", cmd_topics },
	{ "backup", cmd_backup },   { "forget", cmd_forget },
	{ "export-person", cmd_export_person },
	{ "purge", cmd_purge },	    { "check", cmd_check },
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_ctx c = { 0 };
	struct sk_err err = { 0 };
	int opt, rc;

	/* Options before the command only ('+'): the rest is the
	 * command's. */
	while ((opt = getopt_long(argc, argv, "+d:c:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			c.data_dir = optarg;
			break;
		case 'c':
			c.config_path = optarg;
			break;
		case 'h':
			return cmd_usage(usage_text, false);
		case 'V':
			printf("skarbnica %s\n", SK_VERSION);
			return CMD_OK;
		default:
			return cmd_usage(usage_text, true);
		}
	}
	if (optind >= argc)
		return cmd_usage(usage_text, true);
	if (!c.data_dir)
		c.data_dir = getenv("SKARBNICA_DATA");
	c.data_dir_given = c.data_dir && *c.data_dir;
	if (!c.data_dir_given)
		c.data_dir = "./data";

	for (size_t i = 0; i < SK_ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		/* demo carries its own configuration. */
		if (strcmp(commands[i].name, "demo") &&
		    cmd_load_config(&c, &err)) {
			cmd_fail("%s", err.msg);
			return strcmp(commands[i].name, "ingest") ? CMD_FAIL
								   : CMD_TEMPFAIL;
		}
		optind++;
		rc = commands[i].run(&c, argc - optind + 1, argv + optind - 1);
		sk_config_release(&c.cfg);
		return rc;
	}
	cmd_fail("'%s' is not a skarbnica command; see 'skarbnica --help'",
		 argv[optind]);
	return CMD_USAGE;
}
