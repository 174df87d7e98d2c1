/* cmd/query.c: `search`, `stats`, `user` and `reindex` — the operator's
 * read and maintenance commands. The command line sees everything,
 * including mail held for review. */
#include "cmd/cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char search_help[] =
	"usage: skarbnica [-d DATA] search [--json] [--backend xapian|fts5]\n"
	"                 [--limit N] [--offset N] [--sort date] QUERY...\n"
	"\n"
	"Search the store. Words are ANDed; \"a phrase\"; OR; -word or NOT word;\n"
	"parentheses; fields from: subject: topic:SLUG partner:SLUG\n"
	"date:2024-01-01..2024-06-30 has:attachment (Polish: od: temat: gmina:\n"
	"data:). Polish inflection and missing diacritics are handled:\n"
	"'zamowienie publiczne' finds \"zamówień publicznych\".\n"
	"\n"
	"--json prints {\"total\": N, \"results\": [{\"message_id\", \"thread_id\",\n"
	"\"subject\", \"from\", \"date\", \"partner\", \"topics\", \"snippet\"}]}.\n";

static void
print_from(struct sk_buf *b, const struct sk_hit *h)
{
	if (h->from_name && *h->from_name)
		sk_buf_addf(b, "%s <%s>", h->from_name, h->from_addr);
	else
		sk_buf_adds(b, h->from_addr);
}

static void
json_results(const struct sk_results *r)
{
	struct sk_buf b, from;
	char date[21];

	sk_buf_init(&b, (size_t)1 << 30);
	sk_buf_init(&from, 4096);
	sk_buf_addf(&b, "{\"total\": %lld, \"results\": [", (long long)r->total);
	for (size_t i = 0; i < r->n_hits; i++) {
		const struct sk_hit *h = &r->hits[i];
		sk_buf_reset(&from);
		print_from(&from, h);
		sk_time_iso8601(h->date, date);
		sk_buf_adds(&b, i ? ",\n  {" : "\n  {");
		sk_buf_adds(&b, "\"message_id\": ");
		sk_buf_add_json_str(&b, h->message_id);
		sk_buf_addf(&b, ", \"thread_id\": %lld, \"subject\": ",
			    (long long)h->thread_id);
		sk_buf_add_json_str(&b, h->subject);
		sk_buf_adds(&b, ", \"from\": ");
		sk_buf_add_json_str(&b, from.p);
		sk_buf_addf(&b, ", \"date\": \"%s\", \"partner\": ", date);
		sk_buf_add_json_str(&b, h->partner_slug);
		sk_buf_adds(&b, ", \"topics\": [");
		for (size_t t = 0; t < h->n_topics; t++) {
			if (t)
				sk_buf_adds(&b, ", ");
			sk_buf_add_json_str(&b, h->topics[t]);
		}
		sk_buf_adds(&b, "], \"snippet\": ");
		sk_buf_add_json_str(&b, h->snippet);
		sk_buf_addc(&b, '}');
	}
	sk_buf_adds(&b, r->n_hits ? "\n]}\n" : "]}\n");
	fwrite(b.p, 1, b.len, stdout);
	sk_buf_release(&b);
	sk_buf_release(&from);
}

static void
text_results(const struct sk_results *r)
{
	struct sk_buf from;
	sk_buf_init(&from, 4096);
	for (size_t i = 0; i < r->n_hits; i++) {
		const struct sk_hit *h = &r->hits[i];
		char date[21];
		sk_time_iso8601(h->date, date);
		sk_buf_reset(&from);
		print_from(&from, h);
		printf("%.10s  thread:%-6lld %-30.30s  %s\n", date,
		       (long long)h->thread_id, from.p, h->subject);
	}
	printf("%lld matching message%s\n", (long long)r->total,
	       r->total == 1 ? "" : "s");
	if (r->suggestion)
		printf("did you mean: %s\n", r->suggestion);
	sk_buf_release(&from);
}

int
cmd_search(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "backend", required_argument, NULL, 'b' },
		{ "limit", required_argument, NULL, 'l' },
		{ "offset", required_argument, NULL, 'o' },
		{ "sort", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sk_search_opts o = { 0 };
	struct sk_results r;
	struct sk_index *ix;
	struct sk_arena *a;
	struct sk_err err = { 0 };
	struct sk_buf q;
	bool json = false;
	int opt;
	int64_t v;

	optind = 1;
	if (sk_backend_parse(c->cfg.search.backend, &o.backend))
		o.backend = SK_BACKEND_DEFAULT;
	o.limit = 20;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 'b':
			if (sk_backend_parse(optarg, &o.backend)) {
				cmd_fail("search: --backend must be xapian or fts5");
				return CMD_USAGE;
			}
			break;
		case 'l':
		case 'o':
			if (sk_parse_i64(optarg, opt == 'l' ? 1 : 0, 100000, &v,
					 &err)) {
				cmd_fail("search: %s", err.msg);
				return CMD_USAGE;
			}
			if (opt == 'l')
				o.limit = (size_t)v;
			else
				o.offset = (size_t)v;
			break;
		case 's':
			if (strcmp(optarg, "date") && strcmp(optarg, "relevance")) {
				cmd_fail("search: --sort must be date or relevance");
				return CMD_USAGE;
			}
			o.sort_by_date = !strcmp(optarg, "date");
			break;
		case 'h': return cmd_usage(search_help, false);
		default: return cmd_usage(search_help, true);
		}
	}
	if (optind >= argc)
		return cmd_usage(search_help, true);
	sk_buf_init(&q, 64 * 1024);
	for (int i = optind; i < argc; i++) {
		if (i > optind)
			sk_buf_addc(&q, ' ');
		sk_buf_adds(&q, argv[i]);
	}
	o.query = q.p;
	o.want_facets = false;
	o.no_snippets = !json; /* the text output shows none */
	o.viewer.logged_in = o.viewer.coordinator = true;
	if (sk_index_open(c->data_dir,
			  o.backend == SK_BACKEND_FTS5 ? SK_INDEX_NO_XAPIAN : 0,
			  &ix, &err)) {
		cmd_fail("search: %s", err.msg);
		sk_buf_release(&q);
		return CMD_FAIL;
	}
	if (c->cfg.search.shards && *c->cfg.search.shards &&
	    o.backend != SK_BACKEND_FTS5 &&
	    sk_index_set_shards(ix, c->cfg.search.shards, &err)) {
		cmd_fail("search: %s", err.msg);
		sk_index_close(&ix);
		sk_buf_release(&q);
		return CMD_FAIL;
	}
	a = sk_arena_new(0);
	if (sk_search(ix, a, &o, &r, &err)) {
		cmd_fail("search: %s", err.msg);
		sk_arena_free(&a);
		sk_index_close(&ix);
		sk_buf_release(&q);
		return err.code == SK_EINVAL ? CMD_USAGE : CMD_FAIL;
	}
	if (json)
		json_results(&r);
	else
		text_results(&r);
	sk_arena_free(&a);
	sk_index_close(&ix);
	sk_buf_release(&q);
	return CMD_OK;
}

static const char stats_help[] =
	"usage: skarbnica [-d DATA] stats [--json]\n"
	"\n"
	"Counts: messages (every distinct message, malformed ones included),\n"
	"threads, attachments, flagged (malformed), held (for review),\n"
	"partners, topics, users, and the size of the store and index.\n";

int
cmd_stats(struct cmd_ctx *c, int argc, char **argv)
{
	struct sk_index *ix;
	struct sk_stats s;
	struct sk_err err = { 0 };
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return cmd_usage(stats_help, false);
		else
			return cmd_usage(stats_help, true);
	}
	if (sk_index_open(c->data_dir, SK_INDEX_NO_XAPIAN, &ix, &err) ||
	    sk_index_stats(ix, &s, &err)) {
		cmd_fail("stats: %s", err.msg);
		sk_index_close(&ix);
		return CMD_FAIL;
	}
	sk_index_close(&ix);
	if (json) {
		printf("{\"messages\": %lld, \"threads\": %lld, "
		       "\"attachments\": %lld, \"flagged\": %lld, "
		       "\"held\": %lld, \"partners\": %lld, \"topics\": %lld, "
		       "\"users\": %lld, \"notes\": %lld, "
		       "\"outbox_queued\": %lld, \"outbox_failed\": %lld, "
		       "\"store_bytes\": %lld, \"xapian_bytes\": %lld}\n",
		       (long long)s.messages, (long long)s.threads,
		       (long long)s.attachments, (long long)s.flagged,
		       (long long)s.held, (long long)s.partners,
		       (long long)s.topics, (long long)s.users,
		       (long long)s.notes, (long long)s.outbox_queued,
		       (long long)s.outbox_failed, (long long)s.store_bytes,
		       (long long)s.xapian_bytes);
	} else {
		printf("messages     %lld\nthreads      %lld\n"
		       "attachments  %lld\nflagged      %lld\n"
		       "held         %lld\npartners     %lld\n"
		       "topics       %lld\nusers        %lld\n"
		       "store        %.1f MiB\nxapian       %.1f MiB\n",
		       (long long)s.messages, (long long)s.threads,
		       (long long)s.attachments, (long long)s.flagged,
		       (long long)s.held, (long long)s.partners,
		       (long long)s.topics, (long long)s.users,
		       (double)s.store_bytes / 1048576.0,
		       (double)s.xapian_bytes / 1048576.0);
	}
	return CMD_OK;
}

static const char user_help[] =
	"usage: skarbnica [-d DATA] user add EMAIL --role reader|coordinator|admin\n"
	"                 [--name NAME] [--password-file FILE]\n"
	"\n"
	"Add or update a user. Without --password-file the user logs in with a\n"
	"one-time link sent by e-mail. The password file (mode 0600) holds the\n"
	"password on its first line; it is stored as an argon2id hash.\n";

int
cmd_user(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'n' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role_s = NULL, *name = NULL, *pwfile = NULL;
	char *password = NULL;
	enum sk_role role;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	int opt, rc = CMD_OK;

	if (argc < 2 || strcmp(argv[1], "add"))
		return cmd_usage(user_help, !cmd_wants_help(argc, argv));
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': role_s = optarg; break;
		case 'n': name = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'h': return cmd_usage(user_help, false);
		default: return cmd_usage(user_help, true);
		}
	}
	if (optind + 1 != argc || !role_s)
		return cmd_usage(user_help, true);
	if (sk_role_parse(role_s, &role)) {
		cmd_fail("user: the role must be reader, coordinator or admin");
		return CMD_USAGE;
	}
	if (pwfile && sk_read_secret_file(pwfile, &password, &err)) {
		cmd_fail("user: %s", err.msg);
		return CMD_FAIL;
	}
	if (cmd_open_store(c, SK_INDEX_NO_XAPIAN, false, &ix, &err) ||
	    sk_index_user_set(ix, argv[optind], name, role, password, &err)) {
		cmd_fail("user: %s", err.msg);
		rc = CMD_FAIL;
	} else {
		printf("user %s: %s\n", argv[optind], sk_role_name(role));
	}
	sk_index_close(&ix);
	free(password);
	return rc;
}

static void
reindex_progress(int64_t done, int64_t total, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "\rreindex: %lld/%lld", (long long)done,
		(long long)total);
	if (done == total)
		fputc('\n', stderr);
}

int
cmd_reindex(struct cmd_ctx *c, int argc, char **argv)
{
	static const char help[] =
		"usage: skarbnica [-d DATA] reindex\n"
		"\n"
		"Rebuild the Xapian and FTS5 indexes from the store (after an\n"
		"upgrade of the analyzer, or when the Xapian directory was lost).\n";
	struct sk_index *ix;
	struct sk_err err = { 0 };
	time_t t0 = time(NULL);

	if (cmd_wants_help(argc, argv))
		return cmd_usage(help, false);
	if (argc > 1)
		return cmd_usage(help, true);
	if (cmd_open_store(c, 0, false, &ix, &err) ||
	    sk_index_reindex(ix, isatty(2) ? reindex_progress : NULL, NULL,
			     &err)) {
		cmd_fail("reindex: %s", err.msg);
		sk_index_close(&ix);
		return CMD_FAIL;
	}
	sk_index_close(&ix);
	printf("reindexed in %lld s\n", (long long)(time(NULL) - t0));
	return CMD_OK;
}

static const char topics_help[] =
	"usage: skarbnica [-d DATA] topics load FILE\n"
	"       skarbnica [-d DATA] topics classify\n"
	"\n"
	"load: replace the topic taxonomy with FILE (the format of\n"
	"schema/taxonomy.txt: topics are added or updated, none deleted),\n"
	"then classify every message again.\n"
	"classify: retrain the topic model on the coordinators' confirmed\n"
	"labels and classify every message again. Manual decisions stay.\n";

int
cmd_topics(struct cmd_ctx *c, int argc, char **argv)
{
	struct sk_index *ix = NULL;
	struct sk_err err = { 0 };
	char *text = NULL;
	size_t len;
	bool load;

	if (cmd_wants_help(argc, argv))
		return cmd_usage(topics_help, false);
	load = argc == 3 && !strcmp(argv[1], "load");
	if (!load && !(argc == 2 && !strcmp(argv[1], "classify")))
		return cmd_usage(topics_help, true);
	if (load && sk_read_file(argv[2], 4u << 20, &text, &len, &err)) {
		cmd_fail("topics: %s", err.msg);
		return CMD_FAIL;
	}
	if (cmd_open_store(c, 0, false, &ix, &err) ||
	    (load && sk_index_load_taxonomy(ix, text, &err)) ||
	    sk_index_model_rebuild(ix, &err) ||
	    sk_index_classify(ix, true, &err)) {
		cmd_fail("topics: %s", err.msg);
		sk_index_close(&ix);
		free(text);
		return CMD_FAIL;
	}
	sk_index_close(&ix);
	free(text);
	printf("topics: %s\n", load ? "taxonomy loaded, messages classified"
				    : "messages classified");
	return CMD_OK;
}
