/* cmd/serve.c: `serve` and `demo` — the web front end over a data
 * directory, and the embedded demo partnership. */
#include "cmd/cmd.h"
#include "mailer/sk_mailer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char serve_help[] =
	"usage: skarbnica [-d DATA] serve [--listen ADDR:PORT] [--public]\n"
	"\n"
	"Serve the knowledge base over HTTP (default 127.0.0.1:8080; put a\n"
	"reverse proxy with TLS in front of it). Private by default: partner\n"
	"staff log in. --public shows threads and practices to anyone, with\n"
	"e-mail addresses hidden.\n";

/* ---- the digest schedule --------------------------------------------------
 * While serving, queue the digests that are due: every DIGEST_EVERY seconds
 * a daily and a weekly run. Each run is idempotent (one digest per user and
 * period), so repeating it is harmless; `skarbnica mailer` sends them. */

#define DIGEST_EVERY (15 * 60)

struct digest_sched {
	const char *data_dir;
	const struct sk_mail_settings *ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void
digest_once(struct digest_sched *d)
{
	static const enum sk_period periods[] = { SK_PERIOD_DAILY,
						  SK_PERIOD_WEEKLY };
	struct sk_index *ix;
	struct sk_err err = { 0 };

	if (sk_index_open(d->data_dir, SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
			  &ix, &err)) {
		sk_log(SK_LOG_ERR, "digest: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(periods); i++) {
		struct sk_digest_counts n = { 0 };
		if (sk_digest_run(ix, d->ms, periods[i], time(NULL), &n, &err))
			sk_log(SK_LOG_ERR, "digest (%s): %s",
			       sk_period_name(periods[i]), err.msg);
		else
			sk_log(n.queued ? SK_LOG_INFO : SK_LOG_DEBUG,
			       "digest (%s): %lld queued, %lld subscribers",
			       sk_period_name(periods[i]), (long long)n.queued,
			       (long long)n.users);
	}
	sk_index_close(&ix);
}

static void *
digest_loop(void *arg)
{
	struct digest_sched *d = arg;
	pthread_mutex_lock(&d->mu);
	while (!d->stop) {
		struct timespec until;
		pthread_mutex_unlock(&d->mu);
		digest_once(d);
		pthread_mutex_lock(&d->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += DIGEST_EVERY;
		while (!d->stop &&
		       pthread_cond_timedwait(&d->cv, &d->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static int
serve(struct cmd_ctx *c, const char *listen, bool public_mode)
{
	struct sk_web_settings s;
	struct sk_mail_settings ms; /* lives as long as the server */
	struct sk_index *ix;
	struct sk_err err = { 0 };

	/* The web's handles never migrate: bring the store up to this
	 * binary's schema first (and fail early when there is none). */
	if (sk_index_open(c->data_dir, SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
			  &ix, &err)) {
		cmd_fail("serve: %s", err.msg);
		return CMD_FAIL;
	}
	sk_index_close(&ix);
	sk_web_settings_from_config(&s, &c->cfg);
	/* web/ cannot include mailer/: hand it the composers. Without
	 * smtp.from (and list.address for notes) they answer SK_EINVAL, so
	 * the note form and "Wyślij link" only work when those are set. */
	sk_mail_settings_from_config(&ms, &c->cfg);
	if (ms.from && *ms.from) {
		if (ms.list_address && *ms.list_address) {
			s.note_compose = sk_mail_note_compose;
			s.note_compose_ctx = &ms;
		}
		/* Links in the mail need web.base_url (never the Host
		 * header of the request). */
		if (s.base_url && *s.base_url) {
			s.login_compose = sk_mail_login_compose;
			s.login_compose_ctx = &ms;
		}
	}
	if (listen)
		s.listen = listen;
	if (public_mode)
		s.public_mode = true;

	/* Digests need a sender and links; without them `skarbnica digest`
	 * says what is missing. The thread inherits blocked SIGINT/SIGTERM,
	 * so sk_web_serve's sigwait() gets them. */
	struct digest_sched d = { .data_dir = c->data_dir, .ms = &ms };
	pthread_t th;
	bool digests = ms.from && *ms.from && ms.base_url && *ms.base_url;
	sigset_t set;
	int rc = CMD_OK;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_mutex_init(&d.mu, NULL);
	pthread_cond_init(&d.cv, NULL);
	if (digests && pthread_create(&th, NULL, digest_loop, &d) != 0) {
		sk_log(SK_LOG_WARNING, "serve: no digest schedule (thread)");
		digests = false;
	}
	if (sk_web_serve(c->data_dir, &s, &err)) {
		cmd_fail("serve: %s", err.msg);
		rc = CMD_FAIL;
	}
	if (digests) {
		pthread_mutex_lock(&d.mu);
		d.stop = true;
		pthread_cond_signal(&d.cv);
		pthread_mutex_unlock(&d.mu);
		pthread_join(th, NULL);
	}
	pthread_cond_destroy(&d.cv);
	pthread_mutex_destroy(&d.mu);
	return rc;
}

int
cmd_serve(struct cmd_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "public", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL;
	bool public_mode = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': listen = optarg; break;
		case 'p': public_mode = true; break;
		case 'h': return cmd_usage(serve_help, false);
		default: return cmd_usage(serve_help, true);
		}
	}
	if (optind < argc)
		return cmd_usage(serve_help, true);
	return serve(c, listen, public_mode);
}

/* ---- demo ---------------------------------------------------------------- */

extern const char sk_demo_mbox_2024[], sk_demo_mbox_2024_end[];
extern const char sk_demo_mbox_2025[], sk_demo_mbox_2025_end[];
extern const char sk_demo_conf[], sk_demo_conf_end[];

#define DEMO_VERSION "demo-1"
#define DEMO_COORDINATOR "koordynator@lista.example"
#define DEMO_READER "a.kowalczyk@brzozowka.example"
#define DEMO_PASSWORD "skarbnica-demo"

static enum sk_status
write_file(const char *dir, const char *name, const char *p, size_t n,
	   struct sk_err *err)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return sk_err_set(err, SK_EIO, "cannot write '%s': %s", path,
				  strerror(errno));
	if (fwrite(p, 1, n, f) != n || fclose(f) != 0)
		return sk_err_set(err, SK_EIO, "cannot write '%s'", path);
	return SK_OK;
}

static enum sk_status
load_demo(struct cmd_ctx *c, struct sk_err *err)
{
	static const struct {
		const char *name;
		const char *start, *end;
	} files[] = {
		{ "praktyki-2024.mbox", sk_demo_mbox_2024, sk_demo_mbox_2024_end },
		{ "praktyki-2025.mbox", sk_demo_mbox_2025, sk_demo_mbox_2025_end },
	};
	struct sk_ingest_settings set = { .quiet = true };
	struct sk_ingest *ing;
	struct sk_index *ix;
	struct sk_ingest_counts n;
	enum sk_status rc;
	char path[4096];

	rc = cmd_open_store(c, 0, true, &ix, err);
	if (rc)
		return rc;
	set.list_id = c->cfg.list.id;
	rc = sk_ingest_new(ix, &set, &ing, err);
	for (size_t i = 0; i < SK_ARRAY_SIZE(files) && !rc; i++) {
		rc = write_file(c->data_dir, files[i].name, files[i].start,
				(size_t)(files[i].end - files[i].start), err);
		snprintf(path, sizeof(path), "%s/%s", c->data_dir,
			 files[i].name);
		if (!rc)
			rc = sk_ingest_mbox(ing, path, err);
	}
	if (ing) {
		struct sk_err ferr = { 0 };
		enum sk_status frc;
		sk_ingest_counts(ing, &n);
		frc = sk_ingest_finish(&ing, &ferr);
		if (!rc && frc) {
			rc = frc;
			*err = ferr;
		}
		if (!rc)
			printf("demo: %lld messages loaded (%lld held for "
			       "review, %lld flagged)\n",
			       (long long)n.stored, (long long)n.held,
			       (long long)n.flagged);
	}
	if (!rc)
		rc = sk_index_user_set(ix, DEMO_COORDINATOR, "Marta Wierzbicka",
				       SK_ROLE_COORDINATOR, DEMO_PASSWORD, err);
	if (!rc)
		rc = sk_index_user_set(ix, DEMO_READER, "Anna Kowalczyk",
				       SK_ROLE_READER, DEMO_PASSWORD, err);
	if (!rc)
		rc = sk_index_meta_set(ix, "demo", DEMO_VERSION, err);
	sk_index_close(&ix);
	return rc;
}

int
cmd_demo(struct cmd_ctx *c, int argc, char **argv)
{
	static const char help[] =
		"usage: skarbnica [-d DATA] demo [--listen ADDR:PORT]\n"
		"\n"
		"Load the embedded demo corpus — two years of a fictional\n"
		"partnership of seven municipalities — into DATA (default\n"
		"./demo-data) and serve it at http://127.0.0.1:8080/.\n";
	const char *listen = NULL;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_index *ix;
	struct sk_err err = { 0 };
	const char *marker = NULL;
	char conf[4096];
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc)
			listen = argv[++i];
		else {
			sk_arena_free(&a);
			return cmd_usage(help, strcmp(argv[i], "--help") &&
						       strcmp(argv[i], "-h"));
		}
	}
	if (!c->data_dir_given)
		c->data_dir = "./demo-data";
	if (sk_index_open(c->data_dir, SK_INDEX_NO_XAPIAN, &ix, &err) == SK_OK) {
		marker = sk_index_meta_get(ix, a, "demo");
		sk_index_close(&ix);
		if (!marker) {
			cmd_fail("demo: '%s' holds a store that is not the "
				 "demo's; use -d with another directory",
				 c->data_dir);
			sk_arena_free(&a);
			return CMD_FAIL;
		}
	}
	if (sk_mkdir_p(c->data_dir, 0750, &err) ||
	    write_file(c->data_dir, "skarbnica.conf", sk_demo_conf,
		       (size_t)(sk_demo_conf_end - sk_demo_conf), &err)) {
		cmd_fail("demo: %s", err.msg);
		sk_arena_free(&a);
		return CMD_FAIL;
	}
	snprintf(conf, sizeof(conf), "%s/skarbnica.conf", c->data_dir);
	c->config_path = conf;
	if (cmd_load_config(c, &err)) {
		cmd_fail("demo: %s", err.msg);
		sk_arena_free(&a);
		return CMD_FAIL;
	}
	/* The demo sends nothing (no smtp.host), but its note form needs a
	 * sender: the mail waits in the outbox. (Login links stay off: they
	 * need web.base_url, which would also pin the Origin check to one
	 * host name.) */
	if (!c->cfg.smtp.from || !*c->cfg.smtp.from) {
		free(c->cfg.smtp.from);
		c->cfg.smtp.from = sk_xstrdup("skarbnica@lista.example");
	}
	if ((!marker || strcmp(marker, DEMO_VERSION)) && load_demo(c, &err)) {
		cmd_fail("demo: %s", err.msg);
		sk_arena_free(&a);
		return CMD_FAIL;
	}
	sk_arena_free(&a);
	printf("Skarbnica demo: http://%s/\n"
	       "  coordinator: %s / %s\n"
	       "  reader:      %s / %s\n"
	       "Stop with Ctrl-C.\n",
	       listen ? listen : c->cfg.web.listen, DEMO_COORDINATOR,
	       DEMO_PASSWORD, DEMO_READER, DEMO_PASSWORD);
	fflush(stdout);
	rc = serve(c, listen, false);
	return rc;
}
