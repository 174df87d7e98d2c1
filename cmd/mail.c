/* cmd/mail.c: `note post`, `mailer` and `digest` — what Skarbnica writes
 * to the list and to its users. A thin layer over index/ (the outbox) and
 * mailer/ (composing, SMTP, digests). */
#include "cmd/cmd.h"
#include "mailer/sk_mailer.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The lead adds these to cmd/cmd.h and the command table. */

#define MAX_NOTE_FILE ((size_t)1 << 20)
#define MAX_ATTACH_FILE ((size_t)20 << 20)
#define MAX_ATTACH 20
#define MAX_TOPICS 16

/* ---- note post ------------------------------------------------------------ */

static const char note_help[] =
	"usage: skarbnica [-d DATA] note post --file NOTE.md --as EMAIL\n"
	"                 [--quarter 2024-Q4] [--title T] [--place P]\n"
	"                 [--partners TEXT] [--topic SLUG]... [--decisions F]\n"
	"                 [--attach FILE]... [--reply-to MESSAGE-ID]\n"
	"\n"
	"Post the notes of a quarterly meeting: the note is stored and shown\n"
	"in Skarbnica at once (under /spotkania and in its topics), and queued\n"
	"for the list (list.address) from smtp.from; 'skarbnica mailer' sends\n"
	"it. NOTE.md is Markdown; without --title its first '# ' line is the\n"
	"title. --quarter defaults to the current quarter. EMAIL must be a\n"
	"coordinator or an admin (see 'skarbnica user add'). --partners lists\n"
	"who attended; --topic (repeatable) files the note under a topic;\n"
	"--decisions names a Markdown file with the decisions taken.\n";

static const char *
guess_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".pdf", "application/pdf" },
		{ ".odt", "application/vnd.oasis.opendocument.text" },
		{ ".ods", "application/vnd.oasis.opendocument.spreadsheet" },
		{ ".doc", "application/msword" },
		{ ".docx", "application/vnd.openxmlformats-officedocument."
			   "wordprocessingml.document" },
		{ ".xls", "application/vnd.ms-excel" },
		{ ".xlsx", "application/vnd.openxmlformats-officedocument."
			   "spreadsheetml.sheet" },
		{ ".txt", "text/plain" },
		{ ".csv", "text/csv" },
		{ ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" },
		{ ".png", "image/png" },
		{ ".zip", "application/zip" },
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < SK_ARRAY_SIZE(types); i++)
		if (!strcasecmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

static char *
current_quarter(void)
{
	time_t now = time(NULL);
	struct tm tm;
	char buf[32];
	gmtime_r(&now, &tm);
	snprintf(buf, sizeof(buf), "%d-Q%d", tm.tm_year + 1900,
		 tm.tm_mon / 3 + 1);
	return sk_xstrdup(buf);
}

/* Take a leading "# Title" line out of body (in place) as the title. */
static char *
split_title(char *body)
{
	char *p = body, *nl;
	while (*p == '\n' || *p == '\r' || *p == ' ')
		p++;
	if (p[0] != '#' || p[1] != ' ')
		return NULL;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	{
		char *t = sk_xstrdup(p + 2);
		size_t n = strlen(t);
		while (n && (t[n - 1] == '\r' || t[n - 1] == ' '))
			t[--n] = '\0';
		memmove(body, nl ? nl + 1 : p + strlen(p),
			strlen(nl ? nl + 1 : p + strlen(p)) + 1);
		return t;
	}
}

static int
note_post(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "as", required_argument, NULL, 'a' },
		{ "quarter", required_argument, NULL, 'q' },
		{ "title", required_argument, NULL, 't' },
		{ "place", required_argument, NULL, 'p' },
		{ "partners", required_argument, NULL, 'P' },
		{ "topic", required_argument, NULL, 'T' },
		{ "decisions", required_argument, NULL, 'D' },
		{ "attach", required_argument, NULL, 'A' },
		{ "reply-to", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sk_note_in n = { 0 };
	struct sk_attachment atts[MAX_ATTACH];
	const char *topics[MAX_TOPICS], *file = NULL, *decisions_file = NULL;
	const char *attach_files[MAX_ATTACH];
	char *body = NULL, *decisions = NULL, *title = NULL, *quarter = NULL;
	size_t n_att = 0, len;
	struct sk_mail_settings ms;
	struct sk_note_posted out;
	struct sk_index *ix = NULL;
	struct sk_arena *a = NULL;
	struct sk_err err = { 0 };
	int opt, ret = CMD_FAIL;

	memset(atts, 0, sizeof(atts));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': file = optarg; break;
		case 'a': n.author_email = optarg; break;
		case 'q': n.quarter = optarg; break;
		case 't': n.title = optarg; break;
		case 'p': n.place = optarg; break;
		case 'P': n.partners_present = optarg; break;
		case 'D': decisions_file = optarg; break;
		case 'r': n.in_reply_to = optarg; break;
		case 'T':
			if (n.n_topics == MAX_TOPICS) {
				cmd_fail("note post: at most %d topics",
					 MAX_TOPICS);
				return CMD_USAGE;
			}
			topics[n.n_topics++] = optarg;
			break;
		case 'A':
			if (n_att == MAX_ATTACH) {
				cmd_fail("note post: at most %d attachments",
					 MAX_ATTACH);
				return CMD_USAGE;
			}
			attach_files[n_att++] = optarg;
			break;
		case 'h': return cmd_usage(note_help, false);
		default: return cmd_usage(note_help, true);
		}
	}
	if (optind != argc || !file || !n.author_email)
		return cmd_usage(note_help, true);

	if (sk_read_file(file, MAX_NOTE_FILE, &body, &len, &err) ||
	    (decisions_file &&
	     sk_read_file(decisions_file, MAX_NOTE_FILE, &decisions, &len,
			  &err))) {
		cmd_fail("note post: %s", err.msg);
		goto out;
	}
	if (!sk_utf8_valid(body, strlen(body)) ||
	    (decisions && !sk_utf8_valid(decisions, strlen(decisions)))) {
		cmd_fail("note post: '%s' is not UTF-8 text", file);
		goto out;
	}
	title = split_title(body);
	if (!n.title)
		n.title = title;
	if (!n.title) {
		cmd_fail("note post: no title: give --title or start '%s' "
			 "with a '# ' line",
			 file);
		ret = CMD_USAGE;
		goto out;
	}
	if (!n.quarter)
		n.quarter = quarter = current_quarter();
	n.body_md = body;
	n.decisions = decisions;
	n.topics = topics;
	for (size_t i = 0; i < n_att; i++) {
		char *data = NULL;
		size_t dlen = 0;
		if (sk_read_file(attach_files[i], MAX_ATTACH_FILE, &data, &dlen,
				 &err)) {
			cmd_fail("note post: %s", err.msg);
			n.n_attachments = i;
			goto out;
		}
		atts[i].filename = strrchr(attach_files[i], '/')
					   ? strrchr(attach_files[i], '/') + 1
					   : attach_files[i];
		atts[i].content_type = guess_type(attach_files[i]);
		atts[i].data = data;
		atts[i].size = dlen;
		n.n_attachments = i + 1;
	}
	n.attachments = atts;

	sk_mail_settings_from_config(&ms, &c->cfg);
	if (cmd_open_store(c, SK_INDEX_NO_XAPIAN, false, &ix, &err)) {
		cmd_fail("note post: %s", err.msg);
		goto out;
	}
	a = sk_arena_new(0);
	if (sk_index_note_post(ix, a, &n, sk_mail_note_compose, &ms, time(NULL),
			       &out, &err)) {
		cmd_fail("note post: %s", err.msg);
		ret = err.code == SK_EINVAL ? CMD_USAGE : CMD_FAIL;
		goto out;
	}
	printf("posted note %lld <%s>, thread %lld; queued for %s\n",
	       (long long)out.note_id, out.message_id, (long long)out.thread_id,
	       ms.list_address);
	ret = CMD_OK;
out:
	for (size_t i = 0; i < n.n_attachments; i++)
		free((void *)atts[i].data);
	sk_arena_free(&a);
	sk_index_close(&ix);
	free(body);
	free(decisions);
	free(title);
	free(quarter);
	return ret;
}

int
cmd_note(struct cmd_ctx *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "post"))
		return note_post(c, argc - 1, argv + 1);
	if (cmd_wants_help(argc, argv))
		return cmd_usage(note_help, false);
	return cmd_usage(note_help, true);
}

/* ---- mailer ----------------------------------------------------------------- */

static const char mailer_help[] =
	"usage: skarbnica [-d DATA] mailer [--once]\n"
	"       skarbnica [-d DATA] mailer --list [queued|sending|sent|failed]\n"
	"       skarbnica [-d DATA] mailer --requeue ID\n"
	"\n"
	"Send what the outbox holds through the [smtp] server (STARTTLS and a\n"
	"verified certificate unless smtp.tls says otherwise). Runs until\n"
	"SIGINT or SIGTERM; --once sends what is due and exits (for cron and\n"
	"tests). Temporary failures (4xx, network) are retried with growing\n"
	"delays; permanent ones (5xx) fail with the server's reply. A message\n"
	"whose end the server received without confirming it is marked\n"
	"'uncertain' and never resent by itself: check the list archive, then\n"
	"--requeue it. --list shows the outbox, newest first.\n";

static volatile int mailer_stop;

static void
on_stop(int sig)
{
	(void)sig;
	mailer_stop = 1;
}

static int
mailer_list(struct cmd_ctx *c, const char *state)
{
	struct sk_outbox_row *rows;
	struct sk_index *ix;
	struct sk_arena *a;
	struct sk_err err = { 0 };
	size_t n;
	int st = -1;

	if (state) {
		for (int i = SK_OUTBOX_QUEUED; i <= SK_OUTBOX_FAILED; i++)
			if (!strcmp(state, sk_outbox_state_name(
						   (enum sk_outbox_state)i)))
				st = i;
		if (st < 0)
			return cmd_usage(mailer_help, true);
	}
	if (sk_index_open(c->data_dir, SK_INDEX_NO_XAPIAN, &ix, &err)) {
		cmd_fail("mailer: %s", err.msg);
		return CMD_FAIL;
	}
	a = sk_arena_new(0);
	if (sk_index_outbox_list(ix, a, st, 1000, &rows, &n, &err)) {
		cmd_fail("mailer: %s", err.msg);
		sk_arena_free(&a);
		sk_index_close(&ix);
		return CMD_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		char date[21];
		sk_time_iso8601(rows[i].created_at, date);
		printf("%-6lld %-7s %-8s%s %.10s  %-30s <%s>%s%s\n",
		       (long long)rows[i].id, sk_outbox_kind_name(rows[i].kind),
		       sk_outbox_state_name(rows[i].state),
		       rows[i].uncertain ? "?" : " ", date, rows[i].recipients,
		       rows[i].message_id, rows[i].last_error ? "  " : "",
		       rows[i].last_error ? rows[i].last_error : "");
	}
	sk_arena_free(&a);
	sk_index_close(&ix);
	return CMD_OK;
}

static int
mailer_requeue(struct cmd_ctx *c, const char *id_s)
{
	struct sk_index *ix;
	struct sk_err err = { 0 };
	int64_t id;

	if (sk_parse_i64(id_s, 1, INT64_MAX, &id, &err)) {
		cmd_fail("mailer: --requeue: %s", err.msg);
		return CMD_USAGE;
	}
	if (sk_index_open(c->data_dir, SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN, &ix,
			  &err) ||
	    sk_index_outbox_requeue(ix, id, "cli", time(NULL), &err)) {
		cmd_fail("mailer: %s", err.msg);
		sk_index_close(&ix);
		return CMD_FAIL;
	}
	sk_index_close(&ix);
	printf("outbox row %lld queued again\n", (long long)id);
	return CMD_OK;
}

int
cmd_mailer(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "list", no_argument, NULL, 'l' },
		{ "requeue", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sk_mailer_counts n;
	struct sk_err err = { 0 };
	struct sigaction sa;
	bool once = false, list = false;
	const char *requeue = NULL;
	enum sk_status rc;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': once = true; break;
		case 'l': list = true; break;
		case 'r': requeue = optarg; break;
		case 'h': return cmd_usage(mailer_help, false);
		default: return cmd_usage(mailer_help, true);
		}
	}
	if (list)
		return optind + 1 >= argc ? mailer_list(c, argv[optind])
					  : cmd_usage(mailer_help, true);
	if (optind != argc)
		return cmd_usage(mailer_help, true);
	if (requeue)
		return mailer_requeue(c, requeue);

	/* Finish the message being sent, then stop. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!once)
		sk_log(SK_LOG_INFO, "mailer: running on %s", c->data_dir);
	rc = sk_mailer_run(c->data_dir, &c->cfg, once, &mailer_stop, &n, &err);
	if (once || n.sent || n.failed || n.uncertain || n.retried)
		printf("sent %lld, to retry %lld, failed %lld, uncertain %lld\n",
		       (long long)n.sent, (long long)n.retried,
		       (long long)n.failed, (long long)n.uncertain);
	if (rc) {
		cmd_fail("mailer: %s", err.msg);
		return CMD_FAIL;
	}
	return CMD_OK;
}

/* ---- digest -------------------------------------------------------------------- */

static const char digest_help[] =
	"usage: skarbnica [-d DATA] digest [--period daily|weekly]\n"
	"\n"
	"Queue the topic digests of the last whole day (daily) or week, Monday\n"
	"to Sunday (weekly, the default), in Polish time (Europe/Warsaw): one\n"
	"mail per user subscribed to topics for that period, listing the\n"
	"practice records published and the threads active in those topics,\n"
	"with links under web.base_url and a one-click unsubscribe link (none\n"
	"when there is nothing new). Running it again (or after a crash)\n"
	"never queues a second digest for the same user and period.\n"
	"'skarbnica mailer' sends them.\n";

int
cmd_digest(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum sk_period p = SK_PERIOD_WEEKLY;
	struct sk_digest_counts n;
	struct sk_mail_settings ms;
	struct sk_index *ix;
	struct sk_err err = { 0 };
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (sk_period_parse(optarg, &p)) {
				cmd_fail("digest: --period must be daily or "
					 "weekly");
				return CMD_USAGE;
			}
			break;
		case 'h': return cmd_usage(digest_help, false);
		default: return cmd_usage(digest_help, true);
		}
	}
	if (optind != argc)
		return cmd_usage(digest_help, true);
	sk_mail_settings_from_config(&ms, &c->cfg);
	if (sk_index_open(c->data_dir, SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN, &ix,
			  &err)) {
		cmd_fail("digest: %s", err.msg);
		return CMD_FAIL;
	}
	if (sk_digest_run(ix, &ms, p, time(NULL), &n, &err)) {
		cmd_fail("digest: %s", err.msg);
		sk_index_close(&ix);
		return CMD_FAIL;
	}
	sk_index_close(&ix);
	printf("%s digests: %lld queued, %lld already queued, %lld with "
	       "nothing new (%lld subscribers)\n",
	       sk_period_name(p), (long long)n.queued, (long long)n.already,
	       (long long)n.empty, (long long)n.users);
	return CMD_OK;
}
