/* tests/test_mailer_smtp.c: SMTP submission (mailer/smtp.c) against real
 * servers on loopback, started here: postfix's smtp-sink capturing each
 * transaction to a file (transcripts, 4xx/5xx/hang-ups on command), and
 * dovecot's submission service for STARTTLS, implicit TLS, certificate
 * checks and AUTH, relaying to smtp-sink. Skips visibly when either is
 * missing. Also measures messages per second. */
#include "tests/helpers/sk_test.h"

#include "mailer/sk_mailer.h"
#include "tests/helpers/dovecot.h"
#include "tests/helpers/smtp_sink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DOVECOT_BIN "/usr/sbin/dovecot"

/* sk_test_rmdir() refuses paths as short as sk_test_tmpdir() makes them
 * (/tmp/sk-test-XXXXXX): remove ours here. */
static void
rm_tmp(char **path)
{
	char cmd[700];
	if (*path && strstr(*path, "/sk-test-") && !strstr(*path, "'")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", *path);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", *path);
	}
	free(*path);
	*path = NULL;
}

/* ---- dovecot submission -------------------------------------------------------- */

/* A submission-only dovecot (tests/helpers/dovecot.c serves IMAP): the
 * test PKI from that helper, STARTTLS on port, implicit TLS on sport,
 * 127.0.0.2 with a certificate for another name, 127.0.0.3 with one from
 * an unknown CA, relaying to the sink. */
struct sub {
	char *dir;
	struct sk_test_pki pki;
	int port, sport;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	char log[700];
};

static uid_t chown_uid;
static gid_t chown_gid;

static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return lchown(path, chown_uid, chown_gid) ? -1 : 0;
}

static bool
write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	bool ok;
	if (!f)
		return false;
	ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	chmod(path, mode);
	return ok;
}

static void
sub_stop(struct sub **sp)
{
	struct sub *s = *sp;
	if (!s)
		return;
	if (s->pid > 0) {
		kill(-s->pid, SIGTERM);
		for (int i = 0; i < 200; i++) {
			if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
				s->pid = 0;
				break;
			}
			usleep(10 * 1000);
		}
		if (s->pid > 0) {
			kill(-s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
		}
	}
	sk_test_pki_release(&s->pki);
	rm_tmp(&s->dir);
	free(s);
	*sp = NULL;
}

/* 1 started, 0 skipped (printed), -1 failed. */
static int
sub_start(struct sub **out, int relay_port)
{
	struct sub *s;
	struct passwd *pw;
	struct group *gr;
	char conf[700], buf[8192], uname[64], gname[64];

	*out = NULL;
	if (access(DOVECOT_BIN, X_OK) != 0) {
		printf("SKIP: dovecot not installed (%s)\n", DOVECOT_BIN);
		return 0;
	}
	s = calloc(1, sizeof(*s));
	s->dir = sk_test_tmpdir();
	if (geteuid() == 0) {
		pw = getpwnam("nobody");
		if (!pw)
			goto fail;
		s->uid = pw->pw_uid;
		s->gid = pw->pw_gid;
	} else {
		s->uid = getuid();
		s->gid = getgid();
	}
	pw = getpwuid(s->uid);
	gr = getgrgid(s->gid);
	if (!pw || !gr)
		goto fail;
	snprintf(uname, sizeof(uname), "%s", pw->pw_name);
	snprintf(gname, sizeof(gname), "%s", gr->gr_name);
	if (!sk_test_pki_make(s->dir, &s->pki))
		goto fail;
	s->port = sk_test_free_port();
	do
		s->sport = sk_test_free_port();
	while (s->sport == s->port);
	snprintf(s->log, sizeof(s->log), "%s/dovecot.log", s->dir);
	snprintf(conf, sizeof(conf), "%s/dovecot.conf", s->dir);
	snprintf(buf, sizeof(buf),
		 "protocols = submission\n"
		 "listen = 127.0.0.1, 127.0.0.2, 127.0.0.3\n"
		 "base_dir = %s/run\n"
		 "state_dir = %s/state\n"
		 "log_path = %s\n"
		 "info_log_path = %s\n"
		 "default_internal_user = %s\n"
		 "default_internal_group = %s\n"
		 "default_login_user = %s\n"
		 "ssl = yes\n"
		 "ssl_cert = <%s\n"
		 "ssl_key = <%s\n"
		 "disable_plaintext_auth = yes\n"
		 "auth_mechanisms = plain login\n"
		 "auth_verbose = yes\n"
		 "passdb {\n"
		 "  driver = passwd-file\n"
		 "  args = scheme=PLAIN username_format=%%u %s/passwd\n"
		 "}\n"
		 "userdb {\n"
		 "  driver = static\n"
		 "  args = uid=%u gid=%u home=%s/home/%%u\n"
		 "}\n"
		 "first_valid_uid = 1\n"
		 "service anvil {\n  chroot =\n}\n"
		 "service submission-login {\n"
		 "  chroot =\n"
		 "  inet_listener submission {\n    port = %d\n  }\n"
		 "  inet_listener submissions {\n    port = %d\n"
		 "    ssl = yes\n  }\n"
		 "}\n"
		 "mail_location = maildir:~/Maildir\n"
		 "hostname = mail.test.local\n"
		 "submission_relay_host = 127.0.0.1\n"
		 "submission_relay_port = %d\n"
		 "submission_relay_trusted = yes\n"
		 "local 127.0.0.2 {\n  ssl_cert = <%s\n  ssl_key = <%s\n}\n"
		 "local 127.0.0.3 {\n  ssl_cert = <%s\n  ssl_key = <%s\n}\n",
		 s->dir, s->dir, s->log, s->log, uname, gname, uname,
		 s->pki.cert, s->pki.key, s->dir, (unsigned)s->uid,
		 (unsigned)s->gid, s->dir, s->port, s->sport, relay_port,
		 s->pki.other_cert, s->pki.key, s->pki.wrong_cert, s->pki.key);
	if (!write_text(conf, buf, 0644))
		goto fail;
	snprintf(buf, sizeof(buf), "%s/passwd", s->dir);
	if (!write_text(buf, "wojt:{PLAIN}sekret-haslo-1\n", 0600))
		goto fail;
	for (const char *const *sub = (const char *const[]){ "run", "state",
							     "home/wojt", NULL };
	     *sub; sub++) {
		snprintf(buf, sizeof(buf), "%s/%s", s->dir, *sub);
		if (sk_mkdir_p(buf, 0755, NULL))
			goto fail;
	}
	if (geteuid() == 0) {
		chown_uid = s->uid;
		chown_gid = s->gid;
		if (nftw(s->dir, chown_one, 16, FTW_PHYS) != 0)
			goto fail;
	}
	chmod(s->dir, 0755);
	s->pid = fork();
	if (s->pid == 0) {
		int fd;
		snprintf(buf, sizeof(buf), "%s/dovecot.out", s->dir);
		fd = open(buf, O_WRONLY | O_CREAT | O_APPEND, 0644);
		setpgid(0, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (geteuid() == 0 && (setgroups(0, NULL) || setgid(s->gid) ||
				       setuid(s->uid)))
			_exit(126);
		execl(DOVECOT_BIN, "dovecot", "-F", "-c", conf, (char *)NULL);
		_exit(127);
	}
	setpgid(s->pid, s->pid);
	for (int i = 0; i < 250; i++) {
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			fprintf(stderr, "dovecot exited; see %s/dovecot.out\n",
				s->dir);
			goto fail;
		}
		if (sk_test_port_open("127.0.0.1", s->port) &&
		    sk_test_port_open("127.0.0.1", s->sport) &&
		    sk_test_port_open("127.0.0.3", s->port))
			break;
		usleep(20 * 1000);
	}
	*out = s;
	return 1;
fail:
	fprintf(stderr, "cannot start dovecot submission in %s\n", s->dir);
	sub_stop(&s);
	return -1;
}

static size_t
file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static char *
log_since(const char *path, size_t from)
{
	char *buf = NULL;
	size_t len;
	if (sk_read_file(path, 16 << 20, &buf, &len, NULL))
		return sk_xstrdup("");
	if (from > len)
		from = len;
	memmove(buf, buf + from, len - from + 1);
	return buf;
}

/* ---- fixture ----------------------------------------------------------------- */

struct fx {
	char *tmp;
	struct sk_sink sink;
	struct sub *sub;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	fx->tmp = sk_test_tmpdir();
	chmod(fx->tmp, 0755);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	sub_stop(&fx->sub);
	sk_sink_stop(&fx->sink);
	rm_tmp(&fx->tmp);
	free(fx);
	return 0;
}

static void
need_sink(struct fx *fx, const char *opt, const char *arg)
{
	char dir[700];

	if (!sk_sink_installed()) {
		printf("SKIP: smtp-sink (postfix) not installed\n");
		skip();
	}
	sk_sink_stop(&fx->sink);
	snprintf(dir, sizeof(dir), "%s/sink", fx->tmp);
	if (!sk_sink_start(&fx->sink, dir, opt, arg, 50))
		fail_msg("smtp-sink does not start");
}

static void
need_dovecot(struct fx *fx)
{
	int r;
	need_sink(fx, NULL, NULL);
	r = sub_start(&fx->sub, fx->sink.port);
	if (r == 0)
		skip();
	if (r < 0)
		fail_msg("dovecot submission does not start");
}

static struct sk_smtp_settings
plain_settings(const struct fx *fx)
{
	struct sk_smtp_settings s = { 0 };
	s.host = "127.0.0.1";
	s.port = (uint16_t)fx->sink.port;
	s.tls = SK_TLS_NONE;
	s.timeout_seconds = 10;
	return s;
}

static struct sk_smtp_settings
tls_settings(const struct fx *fx)
{
	struct sk_smtp_settings s = { 0 };
	s.host = "127.0.0.1";
	s.port = (uint16_t)fx->sub->port;
	s.tls = SK_TLS_STARTTLS;
	s.ca_file = fx->sub->pki.ca;
	s.user = "wojt";
	s.password = "sekret-haslo-1";
	s.timeout_seconds = 10;
	return s;
}

static const char msg1[] =
	"From: Skarbnica <skarbnica@lista.example>\r\n"
	"To: praktyki@lista.example\r\n"
	"Subject: =?UTF-8?B?xbvDs8WCdw==?=\r\n"
	"Message-ID: <t1@lista.example>\r\n"
	"\r\n"
	"Pierwsza linia\r\n"
	".linia z kropka\r\n"
	"..dwie kropki\r\n"
	".\r\n"
	"koniec\r\n";

/* Remove CRs so captured text compares whatever its line ends. */
static char *
no_cr(const char *s)
{
	char *o = sk_xstrdup(s), *w = o;
	for (const char *p = s; *p; p++)
		if (*p != '\r')
			*w++ = *p;
	*w = '\0';
	return o;
}

/* ---- smtp-sink: transcripts and replies ------------------------------------------ */

static void
sends_transactions_smtp_sink_records(void **state)
{
	struct fx *fx = *state;
	struct sk_smtp_settings s;
	struct sk_smtp_result res;
	struct sk_smtp *c;
	struct sk_err err = { 0 };
	char *all, *want, *got;

	need_sink(fx, NULL, NULL);
	s = plain_settings(fx);
	assert_int_equal(sk_smtp_open(&s, &c, &err), SK_OK);
	assert_false(sk_smtp_tls(c));
	assert_int_equal(sk_smtp_send(c, "skarbnica@lista.example",
				      "praktyki@lista.example, "
				      "kopia@lista.example",
				      msg1, strlen(msg1), NULL, NULL, &res,
				      &err),
			 SK_OK);
	assert_int_equal(res.code, 250);
	assert_true(res.after_dot);
	assert_non_null(strstr(res.reply, "250 2.0.0"));
	/* The same session takes a second message. */
	assert_true(sk_smtp_usable(c));
	assert_int_equal(sk_smtp_send(c, "skarbnica@lista.example",
				      "jan@chelmno.pl", "Subject: b\r\n\r\nb",
				      strlen("Subject: b\r\n\r\nb"), NULL, NULL,
				      &res, &err),
			 SK_OK);
	sk_smtp_close(&c);
	assert_null(c);
	assert_true(sk_sink_wait(&fx->sink, 2, 5000));
	all = sk_sink_read(&fx->sink);
	got = no_cr(all);
	assert_non_null(strstr(got, "X-Helo-Args: "));
	assert_non_null(strstr(got, "X-Mail-Args: <skarbnica@lista.example>"));
	assert_non_null(strstr(got, "X-Rcpt-Args: <praktyki@lista.example>"));
	assert_non_null(strstr(got, "X-Rcpt-Args: <kopia@lista.example>"));
	assert_non_null(strstr(got, "X-Rcpt-Args: <jan@chelmno.pl>"));
	/* The message arrives byte for byte: dot-stuffing undone, no line
	 * added at the end. */
	want = no_cr(msg1);
	assert_non_null(strstr(got, want));
	{
		const char *p = strstr(got, want) + strlen(want);
		/* smtp-sink ends each captured message with a newline. */
		if (*p == '\n')
			p++;
		if (*p && !sk_starts_with(p, "X-Client-Addr"))
			fail_msg("after the message: '%.40s'", p);
	}
	free(want);
	free(got);
	free(all);
}

static void
refuses_plaintext_off_loopback(void **state)
{
	struct sk_smtp_settings s = { .host = "smtp.example.com",
				      .tls = SK_TLS_NONE };
	struct sk_smtp *c = (struct sk_smtp *)&s;
	struct sk_err err = { 0 };
	(void)state;

	assert_int_equal(sk_smtp_open(&s, &c, &err), SK_EINVAL);
	assert_null(c);
	assert_non_null(strstr(err.msg, "tls = none"));
	/* A user without a password is a configuration error too. */
	s.host = "127.0.0.1";
	s.user = "wojt";
	assert_int_equal(sk_smtp_open(&s, &c, &err), SK_EINVAL);
}

static void
requires_starttls_by_default(void **state)
{
	struct fx *fx = *state;
	struct sk_smtp_settings s;
	struct sk_smtp *c;
	struct sk_err err = { 0 };

	need_sink(fx, NULL, NULL); /* smtp-sink offers no STARTTLS */
	s = plain_settings(fx);
	s.tls = SK_TLS_DEFAULT;
	assert_int_equal(sk_smtp_open(&s, &c, &err), SK_ESMTP);
	assert_non_null(strstr(err.msg, "STARTTLS"));
	assert_null(c);
}

/* Open a session to the sink started with opt/arg and send msg1. */
static enum sk_status
send_to_sink(struct fx *fx, const char *opt, const char *arg,
	     struct sk_smtp_result *res, bool *usable, struct sk_err *err)
{
	struct sk_smtp_settings s;
	struct sk_smtp *c;
	enum sk_status rc;

	need_sink(fx, opt, arg);
	s = plain_settings(fx);
	rc = sk_smtp_open(&s, &c, err);
	if (rc)
		return rc;
	rc = sk_smtp_send(c, "skarbnica@lista.example", "jan@chelmno.pl", msg1,
			  strlen(msg1), NULL, NULL, res, err);
	*usable = sk_smtp_usable(c);
	sk_smtp_close(&c);
	return rc;
}

static void
maps_server_replies(void **state)
{
	struct fx *fx = *state;
	struct sk_smtp_result res;
	struct sk_err err = { 0 };
	bool usable;

	/* 4xx: temporary, the session survives (RSET). */
	assert_int_equal(send_to_sink(fx, "-r", "mail", &res, &usable, &err),
			 SK_EAGAIN);
	assert_int_equal(res.code, 450);
	assert_non_null(strstr(err.msg, "450 4.3.0"));
	assert_false(res.after_dot);
	assert_true(usable);
	/* 5xx: permanent, with the reply. */
	assert_int_equal(send_to_sink(fx, "-f", "rcpt", &res, &usable, &err),
			 SK_ESMTP);
	assert_int_equal(res.code, 500);
	assert_non_null(strstr(err.msg, "500 5.3.0"));
	/* 421 and a hang-up: temporary, the session is gone. */
	assert_int_equal(send_to_sink(fx, "-Q", "rcpt", &res, &usable, &err),
			 SK_EAGAIN);
	assert_false(usable);
	/* A hang-up at DATA: before the dot, so certain not to be sent. */
	assert_int_equal(send_to_sink(fx, "-q", "data", &res, &usable, &err),
			 SK_EAGAIN);
	assert_false(res.after_dot);
	assert_int_equal(sk_sink_count(&fx->sink), 0);
	/* 4xx to the dot: refused, not accepted (smtp-sink still writes
	 * its capture file, so it is not counted here). */
	assert_int_equal(send_to_sink(fx, "-r", ".", &res, &usable, &err),
			 SK_EAGAIN);
	assert_true(res.after_dot);
	assert_int_equal(res.code, 450);
	/* 5xx to the dot. */
	assert_int_equal(send_to_sink(fx, "-f", ".", &res, &usable, &err),
			 SK_ESMTP);
	/* No reply to the dot: the server has it; we cannot know. */
	assert_int_equal(send_to_sink(fx, "-q", ".", &res, &usable, &err),
			 SK_EIO);
	assert_true(res.after_dot);
	assert_int_equal(res.code, 0);
	assert_true(sk_sink_wait(&fx->sink, 1, 5000));
	assert_non_null(strstr(err.msg, "may have been accepted"));
}

static enum sk_status
refuse_predot(void *ctx, struct sk_err *err)
{
	(*(int *)ctx)++;
	return sk_err_set(err, SK_EDB, "store busy");
}

static void
sends_no_dot_when_the_store_cannot_record_it(void **state)
{
	struct fx *fx = *state;
	struct sk_smtp_settings s;
	struct sk_smtp_result res;
	struct sk_smtp *c;
	struct sk_err err = { 0 };
	int calls = 0;

	need_sink(fx, NULL, NULL);
	s = plain_settings(fx);
	assert_int_equal(sk_smtp_open(&s, &c, &err), SK_OK);
	assert_int_equal(sk_smtp_send(c, "skarbnica@lista.example",
				      "jan@chelmno.pl", msg1, strlen(msg1),
				      refuse_predot, &calls, &res, &err),
			 SK_EDB);
	assert_int_equal(calls, 1);
	assert_false(res.after_dot);
	assert_false(sk_smtp_usable(c));
	sk_smtp_close(&c);
	usleep(200 * 1000);
	assert_int_equal(sk_sink_count(&fx->sink), 0);
}

static void
refuses_bad_envelopes(void **state)
{
	struct fx *fx = *state;
	struct sk_smtp_settings s;
	struct sk_smtp *c;
	struct sk_err err = { 0 };

	need_sink(fx, NULL, NULL);
	s = plain_settings(fx);
	assert_int_equal(sk_smtp_open(&s, &c, &err), SK_OK);
	assert_int_equal(sk_smtp_send(c, "a@b.pl>\r\nRCPT TO:<x@y.pl",
				      "jan@chelmno.pl", msg1, strlen(msg1),
				      NULL, NULL, NULL, &err),
			 SK_EINVAL);
	assert_int_equal(sk_smtp_send(c, "a@b.pl", "jan@chelmno.pl>\r\nDATA",
				      msg1, strlen(msg1), NULL, NULL, NULL,
				      &err),
			 SK_EINVAL);
	assert_int_equal(sk_smtp_send(c, "a@b.pl", " , ", msg1, strlen(msg1),
				      NULL, NULL, NULL, &err),
			 SK_EINVAL);
	/* Still usable after the refusals. */
	assert_int_equal(sk_smtp_send(c, "a@b.pl", "jan@chelmno.pl", msg1,
				      strlen(msg1), NULL, NULL, NULL, &err),
			 SK_OK);
	sk_smtp_close(&c);
}

/* ---- dovecot: STARTTLS, certificates, AUTH ------------------------------------ */

static void
submits_with_starttls_and_auth(void **state)
{
	struct fx *fx = *state;
	struct sk_smtp_settings s;
	struct sk_smtp_result res;
	struct sk_smtp *c;
	struct sk_err err = { 0 };
	char *all;

	need_dovecot(fx);
	s = tls_settings(fx);
	if (sk_smtp_open(&s, &c, &err))
		fail_msg("open: %s\n%s", err.msg, log_since(fx->sub->log, 0));
	assert_true(sk_smtp_tls(c));
	assert_int_equal(sk_smtp_send(c, "skarbnica@lista.example",
				      "praktyki@lista.example", msg1,
				      strlen(msg1), NULL, NULL, &res, &err),
			 SK_OK);
	sk_smtp_close(&c);
	assert_true(sk_sink_wait(&fx->sink, 1, 5000));
	all = sk_sink_read(&fx->sink);
	assert_non_null(strstr(all, "X-Mail-Args: <skarbnica@lista.example>"));
	assert_non_null(strstr(all, "Message-ID: <t1@lista.example>"));
	free(all);

	/* The name "localhost" is in the certificate as well. */
	s.host = "localhost";
	assert_int_equal(sk_smtp_open(&s, &c, &err), SK_OK);
	sk_smtp_close(&c);
}

static void
submits_with_implicit_tls(void **state)
{
	struct fx *fx = *state;
	struct sk_smtp_settings s;
	struct sk_smtp *c;
	struct sk_err err = { 0 };

	need_dovecot(fx);
	s = tls_settings(fx);
	s.tls = SK_TLS_IMPLICIT;
	s.port = (uint16_t)fx->sub->sport;
	if (sk_smtp_open(&s, &c, &err))
		fail_msg("open: %s", err.msg);
	assert_true(sk_smtp_tls(c));
	assert_int_equal(sk_smtp_send(c, "skarbnica@lista.example",
				      "praktyki@lista.example", msg1,
				      strlen(msg1), NULL, NULL, NULL, &err),
			 SK_OK);
	sk_smtp_close(&c);
	assert_true(sk_sink_wait(&fx->sink, 1, 5000));
}

/* Open with s, expect SK_ESMTP naming the certificate, and check that the
 * server never saw a login attempt. */
static void
refused_before_auth(struct fx *fx, const struct sk_smtp_settings *s,
		    const char *why)
{
	struct sk_smtp *c;
	struct sk_err err = { 0 };
	size_t off = file_size(fx->sub->log);
	char *log, *save = NULL;

	assert_int_equal(sk_smtp_open(s, &c, &err), SK_ESMTP);
	assert_null(c);
	if (!strstr(err.msg, "certificate"))
		fail_msg("'%s': %s", why, err.msg);
	usleep(100 * 1000);
	log = log_since(fx->sub->log, off);
	/* Every connection ended "no auth attempts"; no login, no user. */
	if (strstr(log, "wojt") || strstr(log, "Login:") ||
	    strstr(log, "auth failed"))
		fail_msg("'%s': the server saw a login: %s", why, log);
	for (char *l = strtok_r(log, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		if (strstr(l, "Disconnected") && !strstr(l, "no auth attempts"))
			fail_msg("'%s': %s", why, l);
	free(log);
}

static void
refuses_wrong_certificates_before_auth(void **state)
{
	struct fx *fx = *state;
	struct sk_smtp_settings s;

	need_dovecot(fx);
	s = tls_settings(fx);
	s.host = "127.0.0.3"; /* issued by a CA we do not trust */
	refused_before_auth(fx, &s, "unknown CA");
	s.host = "127.0.0.2"; /* our CA, but for wrong.example */
	refused_before_auth(fx, &s, "wrong name");
	s.host = "127.0.0.1";
	s.ca_file = NULL; /* the system store does not know the test CA */
	refused_before_auth(fx, &s, "system store");
	s.ca_file = fx->sub->pki.ca;
	s.pin_sha256 = "00112233445566778899aabbccddeeff00112233445566778899"
		       "aabbccddeeff";
	refused_before_auth(fx, &s, "pin");
	s.tls = SK_TLS_IMPLICIT;
	s.port = (uint16_t)fx->sub->sport;
	s.pin_sha256 = NULL;
	s.host = "127.0.0.3";
	refused_before_auth(fx, &s, "implicit TLS, unknown CA");
}

static void
refuses_a_wrong_password(void **state)
{
	struct fx *fx = *state;
	struct sk_smtp_settings s;
	struct sk_smtp *c;
	struct sk_err err = { 0 };

	need_dovecot(fx);
	s = tls_settings(fx);
	s.password = "zle-haslo";
	assert_int_equal(sk_smtp_open(&s, &c, &err), SK_ESMTP);
	assert_non_null(strstr(err.msg, "AUTH"));
	assert_non_null(strstr(err.msg, "535"));
	assert_null(strstr(err.msg, "zle-haslo"));
}

/* ---- numbers ------------------------------------------------------------------------ */

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
measures_messages_per_second(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_smtp_settings s;
	struct sk_smtp *c;
	struct sk_err err = { 0 };
	struct sk_mail m = {
		.from_name = "Skarbnica",
		.from_addr = "skarbnica@lista.example",
		.to_addr = "jan@chelmno.pl",
		.subject = "Skarbnica: przegląd tygodnia 27 maja – 2 czerwca 2024",
		.markdown = "Dzień dobry!\n\n## Zamówienia publiczne\n\n"
			    "- [Przetarg na energię](https://s.example/watek/1)"
			    " — Gmina Stolno, 3 wiadomości\n",
	};
	struct timespec t0;
	char *raw;
	size_t len;
	const char *mid;
	enum { N = 1000, NT = 200 };
	double secs;

	need_sink(fx, NULL, NULL);
	assert_int_equal(sk_mail_compose(a, &m, &raw, &len, &mid, &err), SK_OK);
	s = plain_settings(fx);
	assert_int_equal(sk_smtp_open(&s, &c, &err), SK_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++)
		if (sk_smtp_send(c, "skarbnica@lista.example", "jan@chelmno.pl",
				 raw, len, NULL, NULL, NULL, &err))
			fail_msg("send %d: %s", i, err.msg);
	secs = seconds_since(&t0);
	sk_smtp_close(&c);
	printf("# smtp-sink, one plain session: %d messages of %zu bytes in "
	       "%.2f s = %.0f messages/s\n",
	       N, len, secs, N / secs);

	if (sub_start(&fx->sub, fx->sink.port) == 1) {
		s = tls_settings(fx);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(sk_smtp_open(&s, &c, &err), SK_OK);
		for (int i = 0; i < NT; i++)
			if (sk_smtp_send(c, "skarbnica@lista.example",
					 "jan@chelmno.pl", raw, len, NULL, NULL,
					 NULL, &err))
				fail_msg("send %d: %s", i, err.msg);
		sk_smtp_close(&c);
		secs = seconds_since(&t0);
		printf("# dovecot submission (STARTTLS, AUTH, relay to "
		       "smtp-sink): %d messages in %.2f s = %.0f messages/s\n",
		       NT, secs, NT / secs);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < 20; i++) {
			assert_int_equal(sk_smtp_open(&s, &c, &err), SK_OK);
			sk_smtp_close(&c);
		}
		printf("# session set-up (connect, STARTTLS, verify, AUTH, "
		       "QUIT): %.1f ms\n",
		       seconds_since(&t0) * 1000 / 20);
	}
	sk_arena_free(&a);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(sends_transactions_smtp_sink_records),
		T(refuses_plaintext_off_loopback),
		T(requires_starttls_by_default),
		T(maps_server_replies),
		T(sends_no_dot_when_the_store_cannot_record_it),
		T(refuses_bad_envelopes),
		T(submits_with_starttls_and_auth),
		T(submits_with_implicit_tls),
		T(refuses_wrong_certificates_before_auth),
		T(refuses_a_wrong_password),
		T(measures_messages_per_second),
	};
	return cmocka_run_group_tests_name("mailer/smtp", tests, NULL, NULL);
}
