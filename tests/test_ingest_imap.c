/* tests/test_ingest_imap.c: the IMAP source (ingest/imap.c) against a real
 * dovecot on 127.0.0.1 started for each test (tests/helpers/dovecot.c):
 * certificate checks before LOGIN, STARTTLS without fallback, plaintext
 * rules, incremental fetch, UIDVALIDITY, truncation, IDLE, reconnects and a
 * server killed in the middle of a fetch. */
#include "tests/helpers/sk_test.h"
#include "tests/helpers/dovecot.h"

#include "ingest/sk_ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fx {
	struct sk_dovecot *dv;
	char *data; /* the store */
	struct sk_config cfg;
	struct sk_index *ix;
	struct sk_ingest_settings set;
	unsigned next; /* next message number to deliver */
};

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? sk_xstrdup(v) : NULL;
}

/* A plausible list message, number i, with about pad bytes of body. */
static char *
make_message(unsigned i, size_t pad, size_t *len_out)
{
	struct sk_buf b;
	size_t len;
	sk_buf_init(&b, 64u << 20);
	sk_buf_addf(&b,
	            "Return-Path: <jan.kowalski@stolno.example>\n"
	            "From: Jan Kowalski <jan.kowalski@stolno.example>\n"
	            "To: praktyki@lista.example\n"
	            "Subject: =?UTF-8?Q?Zam=C3=B3wienia_publiczne_nr_%u?=\n"
	            "Date: Mon, 3 Oct 2011 10:%02u:00 +0200\n"
	            "Message-ID: <m%u@test.skarbnica>\n"
	            "MIME-Version: 1.0\n"
	            "Content-Type: text/plain; charset=utf-8\n"
	            "Content-Transfer-Encoding: 8bit\n"
	            "\n"
	            "Dzień dobry, wiadomość numer %u.\n",
	            i, i % 60, i, i);
	while (b.len < pad)
		sk_buf_addf(&b,
		            "Gmina %u przygotowała przetarg na dostawę "
		            "wody i odbiór ścieków w roku %u.\n",
		            i, 2000 + (unsigned)(b.len % 25));
	assert_int_equal(sk_buf_status(&b), SK_OK);
	*len_out = b.len;
	{
		char *p = sk_buf_take(&b, &len);
		sk_buf_release(&b);
		return p;
	}
}

static void
deliver(struct fx *fx, unsigned count, size_t pad)
{
	for (unsigned k = 0; k < count; k++) {
		size_t len;
		char *m = make_message(fx->next++, pad, &len);
		sk_dovecot_deliver(fx->dv, m, len);
		free(m);
	}
}

static int
setup(void **state)
{
	struct fx *fx = sk_xcalloc(1, sizeof(*fx));
	struct sk_err err = { 0 };
	int r = sk_dovecot_start(&fx->dv);

	*state = fx;
	if (r < 0)
		return -1;
	if (r == 0)
		return 0; /* each test skips */
	fx->data = sk_test_tmpdir();
	if (sk_index_open(fx->data,
	                  SK_INDEX_CREATE | SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
	                  &fx->ix, &err)) {
		fprintf(stderr, "store: %s\n", err.msg);
		return -1;
	}
	sk_config_init(&fx->cfg);
	set_str(&fx->cfg.imap.host, "127.0.0.1");
	fx->cfg.imap.port = (uint64_t)fx->dv->imaps_port;
	fx->cfg.imap.tls = SK_TLS_IMPLICIT;
	set_str(&fx->cfg.imap.user, fx->dv->user);
	set_str(&fx->cfg.imap.password_file, fx->dv->password_file);
	set_str(&fx->cfg.imap.ca_file, fx->dv->pki.ca);
	fx->set.workers = 2;
	fx->set.quiet = true;
	fx->next = 1;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[600];
	sk_index_close(&fx->ix);
	sk_config_release(&fx->cfg);
	sk_dovecot_stop(&fx->dv);
	/* sk_test_rmdir() keeps paths of 20 characters or fewer, which is
	 * what sk_test_tmpdir() makes under /tmp. */
	if (fx->data && strstr(fx->data, "/sk-test-")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->data);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", fx->data);
	}
	free(fx->data);
	free(fx);
	return 0;
}

#define NEED_DOVECOT(fx)                                                       \
	do {                                                                   \
		if (!(fx)->dv)                                                 \
			skip();                                                \
	} while (0)

/* One non-watch run on the fixture's store. */
static enum sk_status
ingest(struct fx *fx, struct sk_ingest_counts *n, struct sk_err *err)
{
	struct sk_ingest *ing = NULL;
	struct sk_err ferr = { 0 };
	enum sk_status rc, frc;

	memset(err, 0, sizeof(*err));
	memset(n, 0, sizeof(*n));
	rc = sk_ingest_new(fx->ix, &fx->set, &ing, err);
	if (rc)
		return rc;
	rc = sk_ingest_imap(ing, &fx->cfg, false, err);
	sk_ingest_counts(ing, n); /* complete: the source flushes */
	frc = sk_ingest_finish(&ing, &ferr);
	if (!rc && frc) {
		rc = frc;
		*err = ferr;
	}
	return rc;
}

static int64_t
stored(struct sk_index *ix)
{
	struct sk_stats st;
	struct sk_err err = { 0 };
	assert_int_equal(sk_index_stats(ix, &st, &err), SK_OK);
	return st.messages;
}

static bool
has_message(struct sk_index *ix, unsigned i)
{
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { .logged_in = true, .coordinator = true };
	struct sk_message_row row;
	struct sk_err err = { 0 };
	char id[64];
	bool ok;
	snprintf(id, sizeof(id), "m%u@test.skarbnica", i);
	ok = sk_index_message(ix, a, &v, id, &row, &err) == SK_OK;
	sk_arena_free(&a);
	return ok;
}

/* Capture our stderr (the log) into a file while f runs, to check that the
 * password never shows. */
struct capture {
	int saved;
	char path[64];
};

static void
capture_start(struct capture *c)
{
	int fd;
	snprintf(c->path, sizeof(c->path), "/tmp/sk-imap-log-XXXXXX");
	fd = mkstemp(c->path);
	assert_true(fd >= 0);
	fflush(stderr);
	c->saved = dup(2);
	dup2(fd, 2);
	close(fd);
}

static char *
capture_end(struct capture *c)
{
	struct sk_err err = { 0 };
	char *log = NULL;
	size_t n;
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	assert_int_equal(sk_read_file(c->path, 1u << 20, &log, &n, &err),
	                 SK_OK);
	unlink(c->path);
	fputs(log, stderr); /* still show it */
	return log;
}

/* ---- certificates and the way in
 * --------------------------------------------- */

static void
fetches_over_imaps_with_test_ca(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	struct capture cap;
	size_t off;
	char *log;

	NEED_DOVECOT(fx);
	deliver(fx, 2, 0);
	off = sk_dovecot_log_size(fx->dv);
	capture_start(&cap);
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	log = capture_end(&cap);
	assert_null(strstr(log, fx->dv->password));
	free(log);
	assert_int_equal(n.seen, 2);
	assert_int_equal(n.stored, 2);
	assert_int_equal(stored(fx->ix), 2);
	assert_true(has_message(fx->ix, 1));
	assert_true(has_message(fx->ix, 2));
	assert_true(
	    sk_dovecot_log_wait(fx->dv, off, "Login: user=<wojt>", 3000));
}

static void
fetches_over_starttls(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	size_t off;

	NEED_DOVECOT(fx);
	off = sk_dovecot_log_size(fx->dv);
	deliver(fx, 1, 0);
	fx->cfg.imap.tls = SK_TLS_STARTTLS;
	fx->cfg.imap.port = (uint64_t)fx->dv->imap_port;
	/* The host name form: SNI is sent and the DNS SAN matches. */
	set_str(&fx->cfg.imap.host, "localhost");
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(stored(fx->ix), 1);
	/* The login happened inside TLS. */
	assert_true(
	    sk_dovecot_log_wait(fx->dv, off, "Login: user=<wojt>", 3000));
	assert_true(sk_dovecot_log_wait(fx->dv, off, "TLS", 3000));
}

/* Refused before LOGIN: nothing stored, and dovecot saw no attempt. */
static void
assert_refused_before_login(struct fx *fx, size_t off, const char *lip)
{
	char needle[64], *log;
	snprintf(needle, sizeof(needle), "lip=%s", lip);
	assert_int_equal(stored(fx->ix), 0);
	assert_true(sk_dovecot_log_wait(fx->dv, off, needle, 3000));
	log = sk_dovecot_log_since(fx->dv, off);
	assert_null(strstr(log, "Login: user="));
	assert_null(strstr(log, "auth failed"));
	assert_null(strstr(log, "user=<wojt>"));
	free(log);
}

static void
refuses_certificate_from_wrong_ca(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	size_t off;

	NEED_DOVECOT(fx);
	deliver(fx, 1, 0);
	/* A server whose certificate another CA issued (127.0.0.3). */
	off = sk_dovecot_log_size(fx->dv);
	set_str(&fx->cfg.imap.host, "127.0.0.3");
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "issuer is unknown"));
	assert_int_equal(n.seen, 0);
	assert_refused_before_login(fx, off, "127.0.0.3");

	/* The same through STARTTLS. */
	off = sk_dovecot_log_size(fx->dv);
	fx->cfg.imap.tls = SK_TLS_STARTTLS;
	fx->cfg.imap.port = (uint64_t)fx->dv->imap_port;
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "issuer is unknown"));
	assert_refused_before_login(fx, off, "127.0.0.3");

	/* The right server, but we trust another CA. */
	off = sk_dovecot_log_size(fx->dv);
	set_str(&fx->cfg.imap.host, "127.0.0.1");
	set_str(&fx->cfg.imap.ca_file, fx->dv->pki.wrong_ca);
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "issuer is unknown"));
	assert_refused_before_login(fx, off, "127.0.0.1");

	/* No ca_file: the system store does not know the test CA. */
	set_str(&fx->cfg.imap.ca_file, NULL);
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "not trusted"));
	assert_int_equal(stored(fx->ix), 0);
}

static void
refuses_wrong_host_name(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	size_t off;

	NEED_DOVECOT(fx);
	deliver(fx, 1, 0);
	/* 127.0.0.2 presents a certificate of the right CA for
	 * "wrong.example" only. */
	off = sk_dovecot_log_size(fx->dv);
	set_str(&fx->cfg.imap.host, "127.0.0.2");
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "name does not match '127.0.0.2'"));
	assert_null(strstr(err.msg, "issuer"));
	assert_refused_before_login(fx, off, "127.0.0.2");
}

static char *
spki_pin(const char *pem)
{
	char cmd[512], *out = NULL;
	size_t n;
	snprintf(cmd, sizeof(cmd),
	         "openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin "
	         "-outform DER | openssl dgst -sha256 -binary | base64",
	         pem);
	assert_int_equal(sk_test_run(cmd, &out), 0);
	n = strlen(out);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	return out;
}

static void
checks_pin(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	char *pin, wrong[80];
	size_t off;

	NEED_DOVECOT(fx);
	deliver(fx, 1, 0);
	pin = spki_pin(fx->dv->pki.cert);
	/* A pin that is not the server's: refused before LOGIN. */
	snprintf(wrong, sizeof(wrong), "%c%s", pin[0] == 'A' ? 'B' : 'A',
	         pin + 1);
	set_str(&fx->cfg.imap.pin_sha256, wrong);
	off = sk_dovecot_log_size(fx->dv);
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "pin_sha256"));
	assert_refused_before_login(fx, off, "127.0.0.1");
	/* The server's key pin. */
	set_str(&fx->cfg.imap.pin_sha256, pin);
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(stored(fx->ix), 1);
	free(pin);
}

static void
refuses_plaintext_to_remote_host(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;

	NEED_DOVECOT(fx);
	deliver(fx, 1, 0);
	fx->cfg.imap.tls = SK_TLS_NONE;
	fx->cfg.imap.port = (uint64_t)fx->dv->imap_port;
	/* Refused before any connection (the name need not resolve). */
	set_str(&fx->cfg.imap.host, "imap.gmina.invalid");
	assert_int_equal(ingest(fx, &n, &err), SK_EINVAL);
	assert_non_null(strstr(err.msg, "allow_plaintext"));
	assert_non_null(strstr(err.msg, "imap.gmina.invalid"));
	/* Loopback is allowed without allow_plaintext. */
	set_str(&fx->cfg.imap.host, "127.0.0.1");
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(stored(fx->ix), 1);
}

static void
reports_bad_settings(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	struct capture cap;
	char *log;

	NEED_DOVECOT(fx);
	set_str(&fx->cfg.imap.password_file, NULL);
	assert_int_equal(ingest(fx, &n, &err), SK_EINVAL);
	assert_non_null(strstr(err.msg, "password_file"));
	/* A wrong password: refused by the server, and never logged. */
	{
		char path[512];
		FILE *f;
		snprintf(path, sizeof(path), "%s/bad-password", fx->data);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs("zle-haslo-42\n", f);
		fclose(f);
		chmod(path, 0600);
		set_str(&fx->cfg.imap.password_file, path);
	}
	capture_start(&cap);
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	log = capture_end(&cap);
	assert_non_null(strstr(err.msg, "login as 'wojt' refused"));
	assert_null(strstr(err.msg, "zle-haslo-42"));
	assert_null(strstr(log, "zle-haslo-42"));
	free(log);
	/* A folder that does not exist. */
	set_str(&fx->cfg.imap.password_file, fx->dv->password_file);
	set_str(&fx->cfg.imap.folder, "Nie-ma-takiego");
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "EXAMINE"));
	/* Nobody listening. */
	set_str(&fx->cfg.imap.folder, "INBOX");
	fx->cfg.imap.port = 1;
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "cannot connect"));
}

/* A server that does not offer STARTTLS (as a stripping attacker would
 * present it) must not get the password in clear text. */
struct stripper {
	int lfd;
	int port;
	char got[4096];
	size_t got_len;
};

static void *
stripper_main(void *arg)
{
	struct stripper *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	static const char greeting[] = "* OK IMAP4rev1 ready\r\n";
	char line[512];
	ssize_t r;

	if (fd < 0)
		return NULL;
	if (write(fd, greeting, sizeof(greeting) - 1) < 0)
		goto out;
	while ((r = read(fd, line, sizeof(line) - 1)) > 0) {
		char tag[32] = "";
		char reply[256];
		line[r] = '\0';
		if (s->got_len + (size_t)r < sizeof(s->got)) {
			memcpy(s->got + s->got_len, line, (size_t)r);
			s->got_len += (size_t)r;
		}
		sscanf(line, "%31s", tag);
		if (strstr(line, "CAPABILITY"))
			snprintf(reply, sizeof(reply),
			         "* CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE\r\n"
			         "%s OK done\r\n",
			         tag);
		else
			snprintf(reply, sizeof(reply), "%s OK whatever\r\n",
			         tag);
		if (write(fd, reply, strlen(reply)) < 0)
			break;
	}
out:
	close(fd);
	return NULL;
}

static void
refuses_server_without_starttls(void **state)
{
	struct fx *fx = *state;
	struct stripper s = { .got_len = 0 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct sk_ingest_counts n;
	struct sk_err err;
	pthread_t th;

	NEED_DOVECOT(fx);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(s.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s.lfd, 1), 0);
	assert_int_equal(getsockname(s.lfd, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(pthread_create(&th, NULL, stripper_main, &s), 0);
	fx->cfg.imap.tls = SK_TLS_STARTTLS;
	fx->cfg.imap.port = ntohs(a.sin_port);
	assert_int_equal(ingest(fx, &n, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "does not offer STARTTLS"));
	pthread_join(th, NULL);
	close(s.lfd);
	s.got[s.got_len] = '\0';
	assert_null(strstr(s.got, "LOGIN"));
	assert_null(strstr(s.got, fx->dv->password));
}

/* ---- fetching
 * ------------------------------------------------------------------ */

static void
fetches_incrementally(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	struct sk_source_state st;

	NEED_DOVECOT(fx);
	deliver(fx, 3, 2000);
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(n.seen, 3);
	assert_int_equal(n.stored, 3);
	deliver(fx, 2, 2000);
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	/* Only the new ones were fetched: no duplicates at all. */
	assert_int_equal(n.seen, 2);
	assert_int_equal(n.stored, 2);
	assert_int_equal(n.duplicates, 0);
	assert_int_equal(stored(fx->ix), 5);
	for (unsigned i = 1; i <= 5; i++)
		assert_true(has_message(fx->ix, i));
	/* A run with nothing new fetches nothing ("UID 6:*" still answers
	 * with UID 5, which must be dropped). */
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(n.seen, 0);
	assert_int_equal(stored(fx->ix), 5);
	/* The position is in the store. */
	assert_int_equal(sk_index_source_get(fx->ix, "imap",
	                                     "imap://wojt@127.0.0.1/INBOX", &st,
	                                     &err),
	                 SK_OK);
	assert_int_equal(st.last_uid, 5);
	assert_true(st.uidvalidity > 0);
}

static void
rereads_folder_after_uidvalidity_change(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	struct sk_source_state st;

	NEED_DOVECOT(fx);
	deliver(fx, 3, 0);
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(n.stored, 3);
	/* The server renumbers the folder: every UID means something else
	 * now, so the old position is worthless. */
	assert_true(sk_dovecot_set_uidvalidity(fx->dv, 777));
	deliver(fx, 1, 0);
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(n.seen, 4);       /* all of it read again... */
	assert_int_equal(n.duplicates, 3); /* ...and recognised */
	assert_int_equal(n.stored, 1);
	assert_int_equal(stored(fx->ix), 4);
	assert_int_equal(sk_index_source_get(fx->ix, "imap",
	                                     "imap://wojt@127.0.0.1/INBOX", &st,
	                                     &err),
	                 SK_OK);
	assert_int_equal(st.uidvalidity, 777);
	assert_int_equal(st.last_uid, 4);
	/* And from then on incrementally again. */
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(n.seen, 0);
}

static void
reads_folder_with_polish_name(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	size_t len;
	char *m;

	NEED_DOVECOT(fx);
	/* On the wire: "Spo&AUI-eczno&AVs-ci &- wys&AUI-ane". */
	m = make_message(41, 0, &len);
	assert_true(sk_dovecot_save(fx->dv, "Społeczności & wysłane", m, len));
	free(m);
	deliver(fx, 1, 0); /* INBOX: not read */
	set_str(&fx->cfg.imap.folder, "Społeczności & wysłane");
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(n.stored, 1);
	assert_true(has_message(fx->ix, 41));
	assert_false(has_message(fx->ix, 1));
}

static void
truncates_message_over_limit(void **state)
{
	struct fx *fx = *state;
	struct sk_ingest_counts n;
	struct sk_err err;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_viewer v = { .logged_in = true, .coordinator = true };
	struct sk_message_row row;
	const char *raw;
	size_t len;

	NEED_DOVECOT(fx);
	fx->set.limits.message_bytes = 64 * 1024;
	deliver(fx, 1, 0);
	deliver(fx, 1, 300 * 1024); /* m2: over the limit */
	deliver(fx, 1, 0);
	assert_int_equal(ingest(fx, &n, &err), SK_OK);
	assert_int_equal(n.seen, 3);
	assert_int_equal(stored(fx->ix), 3);
	assert_int_equal(
	    sk_index_message(fx->ix, a, &v, "m2@test.skarbnica", &row, &err),
	    SK_OK);
	assert_true(row.flags & SK_MSG_TRUNCATED);
	assert_int_equal(sk_index_message_raw(fx->ix, a, &v,
	                                      "m2@test.skarbnica", &raw, &len,
	                                      &err),
	                 SK_OK);
	assert_true(len <= 64 * 1024);
	assert_true(len > 60 * 1024);
	/* LF line ends, as in the Maildir file. */
	assert_null(memchr(raw, '\r', len));
	assert_int_equal(
	    sk_index_message(fx->ix, a, &v, "m3@test.skarbnica", &row, &err),
	    SK_OK);
	assert_false(row.flags & SK_MSG_TRUNCATED);
	sk_arena_free(&a);
}

/* Store count as another handle sees it (the run has its own). */
static bool
wait_stored(const char *data, int64_t want, double seconds)
{
	struct sk_index *rd = NULL;
	struct sk_err err = { 0 };
	double end = now() + seconds;
	bool ok = false;

	while (now() < end) {
		if (!rd && sk_index_open(data, SK_INDEX_NO_XAPIAN, &rd, &err)) {
			rd = NULL;
		} else if (rd) {
			struct sk_stats st;
			if (sk_index_stats(rd, &st, &err) == SK_OK &&
			    st.messages >= want) {
				ok = st.messages == want;
				break;
			}
		}
		usleep(50 * 1000);
	}
	sk_index_close(&rd);
	return ok;
}

/* ---- the server goes away
 * ------------------------------------------------------- */

struct run_thread {
	struct fx *fx;
	bool watch;
	enum sk_status rc;
	struct sk_err err;
	struct sk_ingest_counts n;
	double seconds;
};

static void *
run_main(void *arg)
{
	struct run_thread *t = arg;
	struct sk_ingest *ing = NULL;
	struct sk_err ferr = { 0 };
	double t0 = now();

	t->rc = sk_ingest_new(t->fx->ix, &t->fx->set, &ing, &t->err);
	if (t->rc)
		return NULL;
	t->rc = sk_ingest_imap(ing, &t->fx->cfg, t->watch, &t->err);
	sk_ingest_counts(ing, &t->n);
	if (sk_ingest_finish(&ing, &ferr) && !t->rc) {
		t->rc = ferr.code;
		t->err = ferr;
	}
	t->seconds = now() - t0;
	return NULL;
}

static void
loses_nothing_when_server_dies_mid_fetch(void **state)
{
	struct fx *fx = *state;
	enum { N = 2000 };
	struct run_thread t = { .fx = fx };
	struct sk_index *rd = NULL;
	struct sk_err err = { 0 };
	struct sk_ingest_counts n;
	pthread_t th;
	int64_t first;

	NEED_DOVECOT(fx);
	deliver(fx, N, 6000);
	fx->set.batch = 50;
	/* Let dovecot index the new mail first, so that the kill lands in
	 * the fetch and not in its first sync. */
	assert_true(sk_dovecot_sync(fx->dv));

	assert_int_equal(pthread_create(&th, NULL, run_main, &t), 0);
	assert_int_equal(sk_index_open(fx->data, SK_INDEX_NO_XAPIAN, &rd, &err),
	                 SK_OK);
	for (double end = now() + 30; now() < end;) {
		struct sk_stats st;
		assert_int_equal(sk_index_stats(rd, &st, &err), SK_OK);
		if (st.messages >= 100)
			break;
		usleep(2 * 1000);
	}
	sk_dovecot_kill(fx->dv); /* SIGKILL, mid-fetch */
	pthread_join(th, NULL);
	sk_index_close(&rd);
	first = stored(fx->ix);
	printf("# killed after %lld of %d messages were stored\n",
	       (long long)first, N);
	assert_int_equal(t.rc, SK_EIO);
	assert_true(first >= 100 && first < N);
	assert_int_equal(t.n.stored, first);

	assert_true(sk_dovecot_restart(fx->dv));
	{
		double t0 = now();
		assert_int_equal(ingest(fx, &n, &err), SK_OK);
		printf("# second run: %lld messages (%.1f MB) in %.2f s, "
		       "%.0f messages/s\n",
		       (long long)n.seen, (double)n.seen * 6000 / 1e6,
		       now() - t0, (double)n.seen / (now() - t0));
	}
	/* Exactly once: the second run started where the store stood. */
	assert_int_equal(n.duplicates, 0);
	assert_int_equal(n.stored, N - first);
	assert_int_equal(stored(fx->ix), N);
	for (unsigned i = 1; i <= N; i++)
		if (!has_message(fx->ix, i))
			fail_msg("message %u is missing", i);
}

/* Watch mode in a child process stopped by SIGTERM, as the daemon is. */
static void
on_term(int sig)
{
	(void)sig;
	sk_ingest_stop();
}

static pid_t
watch_child(struct fx *fx)
{
	pid_t pid;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sk_index *ix = NULL;
		struct sk_ingest *ing = NULL;
		struct sk_err err = { 0 }, ferr = { 0 };
		enum sk_status rc;

		signal(SIGTERM, on_term);
		rc = sk_index_open(
		    fx->data, SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN, &ix, &err);
		if (!rc)
			rc = sk_ingest_new(ix, &fx->set, &ing, &err);
		if (!rc)
			rc = sk_ingest_imap(ing, &fx->cfg, true, &err);
		if (rc)
			fprintf(stderr, "watch child: %s\n", err.msg);
		if (ing && sk_ingest_finish(&ing, &ferr) && !rc)
			rc = ferr.code;
		sk_index_close(&ix);
		exit(rc ? 1 : 0);
	}
	return pid;
}

static int
stop_child(pid_t pid, double *seconds)
{
	int st = 0;
	double t0 = now();
	kill(pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		usleep(10 * 1000);
	}
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return -1;
	}
	*seconds = now() - t0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
reconnects_after_server_restart(void **state)
{
	struct fx *fx = *state;
	double stop_s = 0;
	pid_t pid;

	NEED_DOVECOT(fx);
	deliver(fx, 1, 0);
	sk_index_close(&fx->ix); /* the child is the writer now */
	pid = watch_child(fx);
	assert_true(wait_stored(fx->data, 1, 15));
	sk_dovecot_kill(fx->dv);
	usleep(300 * 1000);
	assert_true(sk_dovecot_restart(fx->dv));
	deliver(fx, 1, 0);
	/* Backoff starts at 1 s: the message arrives within a few. */
	assert_true(wait_stored(fx->data, 2, 20));
	assert_int_equal(stop_child(pid, &stop_s), 0);
	assert_true(stop_s < 5);
	assert_int_equal(sk_index_open(fx->data,
	                               SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
	                               &fx->ix, NULL),
	                 SK_OK);
	assert_true(has_message(fx->ix, 2));
}

/* Last in the list: sk_ingest_stop() cannot be undone in this process. */
static void
idle_delivers_new_mail(void **state)
{
	struct fx *fx = *state;
	struct run_thread t = { .fx = fx, .watch = true };
	pthread_t th;
	double t0, stop_at;

	NEED_DOVECOT(fx);
	deliver(fx, 1, 0);
	/* Re-IDLE every 2 s, to go through it at least once. */
	fx->cfg.imap.idle_seconds = 2;
	assert_int_equal(pthread_create(&th, NULL, run_main, &t), 0);
	assert_true(wait_stored(fx->data, 1, 15));
	usleep(300 * 1000); /* it is in IDLE now */
	t0 = now();
	deliver(fx, 1, 0);
	assert_true(wait_stored(fx->data, 2, 10));
	printf("# IDLE: stored %.2f s after delivery\n", now() - t0);
	usleep(2500 * 1000); /* through a re-IDLE */
	deliver(fx, 1, 0);
	assert_true(wait_stored(fx->data, 3, 10));
	stop_at = now();
	sk_ingest_stop();
	pthread_join(th, NULL);
	printf("# stopped %.2f s after sk_ingest_stop()\n", now() - stop_at);
	assert_true(now() - stop_at < 4);
	assert_int_equal(t.rc, SK_OK);
	assert_int_equal(t.n.stored, 3);
	assert_int_equal(stored(fx->ix), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fetches_over_imaps_with_test_ca,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(fetches_over_starttls, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(
		    refuses_certificate_from_wrong_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_wrong_host_name, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(checks_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    refuses_plaintext_to_remote_host, setup, teardown),
		cmocka_unit_test_setup_teardown(reports_bad_settings, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(refuses_server_without_starttls,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(fetches_incrementally, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(
		    rereads_folder_after_uidvalidity_change, setup, teardown),
		cmocka_unit_test_setup_teardown(reads_folder_with_polish_name,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(truncates_message_over_limit,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(
		    loses_nothing_when_server_dies_mid_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(reconnects_after_server_restart,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(idle_delivers_new_mail, setup,
		                                teardown),
	};
	return cmocka_run_group_tests_name("ingest/imap", tests, NULL, NULL);
}
