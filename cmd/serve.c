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
 * look whether a Warsaw day (daily) or Monday-to-Sunday week (weekly) has
 * ended since the last complete run (sk_digest_period_key changed), and
 * run that period once. A failed run is tried again next time; a run
 * repeated anyway (a restart) is harmless, as the outbox keeps one digest
 * per user and period. `skarbnica mailer` sends them. */

#define DIGEST_EVERY (15 * 60)

struct digest_sched {
	const char *data_dir;
	const struct sk_mail_settings *ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	char done[2][11]; /* period key of the last complete run, by period */
};

static void
digest_once(struct digest_sched *d)
{
	static const enum sk_period periods[] = { SK_PERIOD_DAILY,
						  SK_PERIOD_WEEKLY };
	time_t now = time(NULL); /* one instant for the key and the run */
	char key[2][11];
	bool due = false;
	struct sk_index *ix;
	struct sk_err err = { 0 };

	for (size_t i = 0; i < SK_ARRAY_SIZE(periods); i++) {
		sk_digest_period_key(periods[i], now, key[i]);
		due |= strcmp(key[i], d->done[i]) != 0;
	}
	if (!due)
		return;
	if (sk_index_open(d->data_dir, SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
			  &ix, &err)) {
		sk_log(SK_LOG_ERR, "digest: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(periods); i++) {
		struct sk_digest_counts n = { 0 };
		if (!strcmp(key[i], d->done[i]))
			continue;
		if (sk_digest_run(ix, d->ms, periods[i], now, &n, &err)) {
			sk_log(SK_LOG_ERR, "digest (%s): %s",
			       sk_period_name(periods[i]), err.msg);
			continue;
		}
		memcpy(d->done[i], key[i], sizeof(key[i]));
		sk_log(n.queued ? SK_LOG_INFO : SK_LOG_DEBUG,
		       "digest (%s %s): %lld queued, %lld subscribers",
		       sk_period_name(periods[i]), key[i], (long long)n.queued,
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
extern const char sk_demo_curation[], sk_demo_curation_end[];

/* Bumped when the demo's content changes, so older demo stores are
 * rebuilt: demo-2 brought the curation (pins, practice records). */
#define DEMO_VERSION "demo-2"
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

/* ---- the demo's curation (demo/curation.txt; the format is described at
 * the top of that file) ---- */

enum seed_field {
	SEED_TOPIC, SEED_THREAD, SEED_NOTE, SEED_TITLE, SEED_PARTNER,
	SEED_TOPICS, SEED_PERIOD, SEED_STATUS, SEED_CONTACT, SEED_PROBLEM,
	SEED_SOLUTION, SEED_RESULTS, SEED_COSTS, SEED_STAKEHOLDERS,
	SEED_LESSONS, SEED_N
};
static const char *const seed_keys[SEED_N] = {
	"topic", "thread", "note", "title", "partner", "topics", "period",
	"status", "contact", "problem", "solution", "results", "costs",
	"stakeholders", "lessons",
};

struct seed {
	int kind; /* 0 none, 1 pin, 2 practice */
	int line;
	struct sk_buf f[SEED_N];
	bool set[SEED_N];
};

static const char *
seed_get(struct sk_arena *a, struct seed *s, enum seed_field k)
{
	struct sk_str t;

	if (!s->set[k])
		return NULL;
	t = sk_str_trim(s->f[k].p ? s->f[k].p : "", s->f[k].len);
	return sk_arena_strndup(a, t.p, t.n);
}

/* Split "a b c" into an arena array. */
static const char **
seed_words(struct sk_arena *a, const char *s, size_t *n_out)
{
	const char **v = sk_arena_alloc(a, (strlen(s) / 2 + 2) * sizeof(*v));
	size_t n = 0;

	for (const char *p = s; *p;) {
		size_t l;
		p += strspn(p, " \t");
		l = strcspn(p, " \t");
		if (l)
			v[n++] = sk_arena_strndup(a, p, l);
		p += l;
	}
	*n_out = n;
	return v;
}

static enum sk_status
seed_thread(struct sk_index *ix, struct sk_arena *a, const char *mid,
	    int64_t *thread_out, struct sk_err *err)
{
	static const struct sk_viewer all = { true, true };
	struct sk_message_row m;
	enum sk_status rc;

	if (!mid)
		return sk_err_set(err, SK_EINVAL, "no thread");
	rc = sk_index_message(ix, a, &all, mid, &m, err);
	if (!rc)
		*thread_out = m.thread_id;
	return rc;
}

static enum sk_status
seed_apply(struct sk_index *ix, struct sk_arena *a, struct seed *s,
	   int *pin_pos, struct sk_err *err)
{
	static const struct sk_viewer all = { true, true };
	int64_t thread = 0, id = 0;
	struct sk_practice p;
	enum sk_status rc;
	const char *v;

	rc = seed_thread(ix, a, seed_get(a, s, SEED_THREAD), &thread, err);
	if (rc)
		return rc;
	if (s->kind == 1)
		return sk_index_topic_pin(ix, seed_get(a, s, SEED_TOPIC) ?
					  seed_get(a, s, SEED_TOPIC) : "",
					  thread, ++*pin_pos,
					  seed_get(a, s, SEED_NOTE), "demo",
					  NULL, err);
	/* A practice: promoted (topics, attachments, source), then the
	 * coordinator's text. */
	rc = sk_index_practice_promote(ix, thread, "demo", &id, NULL, err);
	if (!rc)
		rc = sk_index_practice_get(ix, a, &all, id, &p, err);
	if (rc)
		return rc;
	int64_t *att = sk_arena_alloc(a, (p.n_attachments + 1) * sizeof(*att));
	for (size_t i = 0; i < p.n_attachments; i++)
		att[i] = p.attachments[i].id;
	p.attachment_ids = att;
	p.n_attachment_ids = p.n_attachments;
	if ((v = seed_get(a, s, SEED_TITLE)))
		p.title = v;
	if ((v = seed_get(a, s, SEED_PARTNER)))
		p.partner_slug = v;
	if ((v = seed_get(a, s, SEED_TOPICS)))
		p.topics = seed_words(a, v, &p.n_topics);
	if ((v = seed_get(a, s, SEED_PERIOD)))
		p.period = v;
	if ((v = seed_get(a, s, SEED_PROBLEM)))
		p.problem = v;
	if ((v = seed_get(a, s, SEED_SOLUTION)))
		p.solution = v;
	if ((v = seed_get(a, s, SEED_RESULTS)))
		p.results = v;
	if ((v = seed_get(a, s, SEED_COSTS)))
		p.costs = v;
	if ((v = seed_get(a, s, SEED_STAKEHOLDERS)))
		p.stakeholders = v;
	if ((v = seed_get(a, s, SEED_LESSONS)))
		p.lessons = v;
	if ((v = seed_get(a, s, SEED_CONTACT))) {
		/* "Name <address>" */
		const char *lt = strchr(v, '<'), *gt = strrchr(v, '>');
		if (lt && gt && gt > lt) {
			struct sk_str nm = sk_str_trim(v, (size_t)(lt - v));
			p.contact_name = sk_arena_strndup(a, nm.p, nm.n);
			p.contact_email = sk_arena_strndup(a, lt + 1,
							   (size_t)(gt - lt - 1));
		} else {
			p.contact_name = v;
			p.contact_email = NULL;
		}
	}
	p.status = SK_PRACTICE_VALIDATED;
	if ((v = seed_get(a, s, SEED_STATUS)) &&
	    sk_practice_status_parse(v, &p.status))
		return sk_err_set(err, SK_EINVAL, "bad status '%s'", v);
	return sk_index_practice_update(ix, &p, "demo", NULL, err);
}

static void
seed_reset(struct seed *s, int kind, int line)
{
	for (size_t i = 0; i < SEED_N; i++) {
		sk_buf_release(&s->f[i]);
		sk_buf_init(&s->f[i], 64 << 10);
		s->set[i] = false;
	}
	s->kind = kind;
	s->line = line;
}

/* Apply the curation in text[0..n) as the demo's coordinator. */
static enum sk_status
load_curation(struct sk_index *ix, const char *text, size_t n,
	      struct sk_err *err)
{
	struct sk_arena *a = sk_arena_new(0);
	struct seed s;
	struct { char topic[65]; int pos; } pins[64];
	size_t n_pins = 0, n_practices = 0, n_pinned = 0;
	int open = -1, lineno = 0;
	enum sk_status rc = SK_OK;

	/* A store loaded before (an older demo version) keeps the records
	 * it has: applying them again would make copies. */
	static const struct sk_viewer all = { true, true };
	struct sk_practice_filter pf = { .status = -1, .limit = 500 };
	struct sk_practice *have = NULL;
	size_t n_have = 0;
	int64_t total = 0;
	bool skip_practices = false;
	rc = sk_index_practices(ix, a, &all, &pf, &have, &n_have, &total, err);
	for (size_t i = 0; !rc && i < n_have; i++)
		skip_practices |= !strcmp(have[i].created_by, "demo");
	memset(&s, 0, sizeof(s));
	seed_reset(&s, 0, 0);
	for (size_t i = 0; i <= n && !rc; lineno++) {
		const char *l = text + i;
		const char *e = i < n ? memchr(l, '\n', n - i) : NULL;
		size_t len = e ? (size_t)(e - l) : n - i;
		bool eof = i >= n;
		i += e ? len + 1 : len;
		if (!eof && len && l[0] == '#')
			continue;
		if (!eof && len >= 2 && l[0] == ' ' && l[1] == ' ' && open >= 0) {
			sk_buf_add(&s.f[open], l + 2, len - 2);
			sk_buf_addc(&s.f[open], '\n');
			continue;
		}
		if (eof || (len >= 4 && memcmp(l, "=== ", 4) == 0)) {
			if (s.kind) {
				int *pos = NULL;
				const char *t = seed_get(a, &s, SEED_TOPIC);
				for (size_t k = 0; s.kind == 1 && t && k < n_pins; k++)
					if (!strcmp(pins[k].topic, t))
						pos = &pins[k].pos;
				if (s.kind == 1 && !pos && t && n_pins < 64 &&
				    strlen(t) <= 64) {
					memcpy(pins[n_pins].topic, t,
					       strlen(t) + 1);
					pins[n_pins].pos = 0;
					pos = &pins[n_pins++].pos;
				}
				if (s.kind == 1 && !pos)
					rc = sk_err_set(err, SK_EINVAL,
							"bad pin topic");
				else if (s.kind == 2 && skip_practices)
					s.kind = 0;
				else
					rc = seed_apply(ix, a, &s, pos, err);
				if (rc) {
					struct sk_err e2 = *err;
					sk_err_set(err, rc,
						   "demo/curation.txt:%d: %s",
						   s.line, e2.msg);
					break;
				}
				n_pinned += s.kind == 1;
				n_practices += s.kind == 2;
			}
			if (eof)
				break;
			open = -1;
			if (len == 7 && memcmp(l, "=== pin", 7) == 0)
				seed_reset(&s, 1, lineno + 1);
			else if (len == 12 && memcmp(l, "=== practice", 12) == 0)
				seed_reset(&s, 2, lineno + 1);
			else
				rc = sk_err_set(err, SK_EINVAL,
						"demo/curation.txt:%d: unknown "
						"record", lineno + 1);
			continue;
		}
		struct sk_str t = sk_str_trim(l, len);
		if (!t.n)
			continue;
		const char *colon = memchr(l, ':', len);
		size_t k = 0;
		for (; colon && k < SEED_N; k++)
			if (strlen(seed_keys[k]) == (size_t)(colon - l) &&
			    !memcmp(l, seed_keys[k], (size_t)(colon - l)))
				break;
		if (!colon || k == SEED_N || !s.kind) {
			rc = sk_err_set(err, SK_EINVAL,
					"demo/curation.txt:%d: not a field",
					lineno + 1);
			break;
		}
		struct sk_str v = sk_str_trim(colon + 1,
					      len - (size_t)(colon + 1 - l));
		sk_buf_reset(&s.f[k]);
		sk_buf_add(&s.f[k], v.p, v.n);
		s.set[k] = true;
		open = v.n ? -1 : (int)k;
	}
	for (size_t i = 0; i < SEED_N; i++)
		sk_buf_release(&s.f[i]);
	sk_arena_free(&a);
	if (!rc)
		printf("demo: %zu threads pinned, %zu practice records\n",
		       n_pinned, n_practices);
	return rc;
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
		rc = load_curation(ix, sk_demo_curation,
				   (size_t)(sk_demo_curation_end -
					    sk_demo_curation),
				   err);
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
