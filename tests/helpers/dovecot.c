/* tests/helpers/dovecot.c: start and stop a throwaway dovecot on loopback
 * (see DEPENDENCIES.md §7) and make the test PKI with openssl. Test code:
 * failures print a reason and return, they never abort the program. */
#include "tests/helpers/dovecot.h"

#include "lib/sk_base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef DOVECOT_BIN
#define DOVECOT_BIN "/usr/sbin/dovecot"
#endif
#define DOVEADM_BIN "/usr/bin/doveadm"

static char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = sk_xmalloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static bool
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t n = strlen(text), off = 0;
	if (fd < 0) {
		fprintf(stderr, "dovecot helper: cannot write %s: %s\n", path,
		        strerror(errno));
		return false;
	}
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return false;
		}
		off += (size_t)w;
	}
	fchmod(fd, mode);
	return close(fd) == 0;
}

/* Run a shell command; true when it exits 0. */
static bool shell(const char *fmt, ...) SK_PRINTF(1, 2);
static bool
shell(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- the PKI --------------------------------------------------------------
 */

bool
sk_test_pki_make(const char *dir, struct sk_test_pki *out)
{
	/* EC keys: RSA key generation would cost a second per key. */
	static const char script[] =
	    "set -e; cd '%s'; exec 2>pki.log;"
	    "EC='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';"
	    "CAEXT='-addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign,cRLSign';"
	    "openssl req -x509 $EC -keyout ca.key -out ca.pem -days 3 "
	    "  -subj '/CN=Skarbnica Test CA' $CAEXT;"
	    "openssl req -x509 $EC -keyout wca.key -out wrong-ca.pem -days 3 "
	    "  -subj '/CN=Skarbnica Wrong CA' $CAEXT;"
	    "printf 'basicConstraints=critical,CA:TRUE\\n"
	    "keyUsage=critical,keyCertSign,cRLSign\\n' >int.ext;"
	    "openssl req -new $EC -keyout int.key -out int.csr "
	    "  -subj '/CN=Skarbnica Test Intermediate';"
	    "openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key "
	    "  -set_serial 10 -days 3 -extfile int.ext -out int-ca.pem;"
	    "openssl req -new $EC -keyout key.pem -out srv.csr "
	    "  -subj /CN=localhost;"
	    "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n"
	    "basicConstraints=CA:FALSE\\n"
	    "keyUsage=critical,digitalSignature\\n"
	    "extendedKeyUsage=serverAuth\\n' >srv.ext;"
	    "printf 'subjectAltName=DNS:wrong.example\\n"
	    "basicConstraints=CA:FALSE\\n"
	    "keyUsage=critical,digitalSignature\\n"
	    "extendedKeyUsage=serverAuth\\n' >other.ext;"
	    "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
	    "  -set_serial 20 -days 3 -extfile srv.ext -out cert.pem;"
	    "openssl x509 -req -in srv.csr -CA wrong-ca.pem -CAkey wca.key "
	    "  -set_serial 21 -days 3 -extfile srv.ext -out wrong-cert.pem;"
	    "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
	    "  -set_serial 22 -days 3 -extfile other.ext -out other-cert.pem;"
	    "openssl x509 -req -in srv.csr -CA int-ca.pem -CAkey int.key "
	    "  -set_serial 23 -days 3 -extfile srv.ext -out int-cert.pem;"
	    "rm -f ca.key wca.key int.key int.csr srv.csr;";

	memset(out, 0, sizeof(*out));
	if (!shell(script, dir)) {
		fprintf(stderr,
		        "dovecot helper: openssl failed (see %s/pki.log)\n",
		        dir);
		return false;
	}
	out->ca = path_join(dir, "ca.pem");
	out->wrong_ca = path_join(dir, "wrong-ca.pem");
	out->cert = path_join(dir, "cert.pem");
	out->key = path_join(dir, "key.pem");
	out->wrong_cert = path_join(dir, "wrong-cert.pem");
	out->other_cert = path_join(dir, "other-cert.pem");
	out->int_ca = path_join(dir, "int-ca.pem");
	out->int_cert = path_join(dir, "int-cert.pem");
	return true;
}

void
sk_test_pki_release(struct sk_test_pki *p)
{
	free(p->ca);
	free(p->wrong_ca);
	free(p->cert);
	free(p->key);
	free(p->wrong_cert);
	free(p->other_cert);
	free(p->int_ca);
	free(p->int_cert);
	memset(p, 0, sizeof(*p));
}

/* ---- the server -----------------------------------------------------------
 */

/* A port nobody listens on now (the kernel's choice for port 0). */
static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool
port_open(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	inet_pton(AF_INET, ip, &a.sin_addr);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (lchown(path, chown_uid, chown_gid) != 0)
		return -1;
	return 0;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static bool
write_config(struct sk_dovecot *d, const char *uname, const char *gname)
{
	struct sk_buf b;
	bool ok;

	sk_buf_init(&b, 1u << 16);
	sk_buf_addf(&b,
	            "# Throwaway test server (tests/helpers/dovecot.c)\n"
	            "protocols = imap\n"
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
	            "disable_plaintext_auth = no\n"
	            "auth_mechanisms = plain login\n"
	            "auth_verbose = yes\n"
	            "mail_location = maildir:~/Maildir\n"
	            "passdb {\n"
	            "  driver = passwd-file\n"
	            "  args = scheme=PLAIN username_format=%%u %s/passwd\n"
	            "}\n"
	            "userdb {\n"
	            "  driver = static\n"
	            "  args = uid=%u gid=%u home=%s/home/%%u\n"
	            "}\n"
	            "first_valid_uid = 1\n"
	            "service anvil {\n"
	            "  chroot =\n"
	            "}\n"
	            "service imap-login {\n"
	            "  chroot =\n"
	            "  inet_listener imap {\n"
	            "    port = %d\n"
	            "  }\n"
	            "  inet_listener imaps {\n"
	            "    port = %d\n"
	            "    ssl = yes\n"
	            "  }\n"
	            "}\n"
	            "local 127.0.0.2 {\n"
	            "  ssl_cert = <%s\n"
	            "  ssl_key = <%s\n"
	            "}\n"
	            "local 127.0.0.3 {\n"
	            "  ssl_cert = <%s\n"
	            "  ssl_key = <%s\n"
	            "}\n",
	            d->dir, d->dir, d->log, d->log, uname, gname, uname,
	            d->pki.cert, d->pki.key, d->dir, (unsigned)d->uid,
	            (unsigned)d->gid, d->dir, d->imap_port, d->imaps_port,
	            d->pki.other_cert, d->pki.key, d->pki.wrong_cert,
	            d->pki.key);
	ok = sk_buf_status(&b) == SK_OK && write_file(d->conf, b.p, 0644);
	sk_buf_release(&b);
	return ok;
}

/* Fork dovecot -F in its own process group, as d->uid, and wait until both
 * ports answer. */
static bool
spawn(struct sk_dovecot *d)
{
	char *out = path_join(d->dir, "dovecot.out");
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		free(out);
		return false;
	}
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
		setpgid(0, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (geteuid() == 0) {
			if (setgroups(0, NULL) != 0 || setgid(d->gid) != 0 ||
			    setuid(d->uid) != 0)
				_exit(126);
		}
		execl(DOVECOT_BIN, "dovecot", "-F", "-c", d->conf,
		      (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* both sides, so kill(-pid) works at once */
	free(out);
	d->pid = pid;
	for (int i = 0; i < 200; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr,
			        "dovecot helper: dovecot exited (status %d); "
			        "see %s/dovecot.out and %s\n",
			        st, d->dir, d->log);
			d->pid = 0;
			return false;
		}
		if (port_open("127.0.0.1", d->imap_port) &&
		    port_open("127.0.0.1", d->imaps_port) &&
		    port_open("127.0.0.3", d->imaps_port))
			return true;
		usleep(25 * 1000);
	}
	fprintf(stderr, "dovecot helper: dovecot does not listen after 5 s\n");
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
	d->pid = 0;
	return false;
}

int
sk_dovecot_start(struct sk_dovecot **out)
{
	struct sk_dovecot *d;
	char tmpl[] = "/tmp/skdv-XXXXXX";
	char uname[64], gname[64];
	char *p;
	bool ok;

	*out = NULL;
	if (access(DOVECOT_BIN, X_OK) != 0) {
		static bool said;
		if (!said)
			printf("SKIP: dovecot not installed (%s)\n",
			       DOVECOT_BIN);
		said = true;
		return 0;
	}
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return -1;
	}
	d = sk_xcalloc(1, sizeof(*d));
	d->dir = sk_xstrdup(tmpl);
	d->user = "wojt";
	d->password = "sekret-haslo-1";
	d->conf = path_join(d->dir, "dovecot.conf");
	d->log = path_join(d->dir, "dovecot.log");
	d->password_file = path_join(d->dir, "imap-password");
	d->maildir = path_join(d->dir, "home/wojt/Maildir");

	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");
		if (!pw) {
			fprintf(stderr, "dovecot helper: no user 'nobody'\n");
			goto fail;
		}
		d->uid = pw->pw_uid;
		d->gid = pw->pw_gid;
	} else {
		d->uid = getuid();
		d->gid = getgid();
	}
	{
		struct passwd *pw = getpwuid(d->uid);
		struct group *gr = getgrgid(d->gid);
		if (!pw || !gr) {
			fprintf(stderr,
			        "dovecot helper: uid %u or gid %u has "
			        "no name\n",
			        (unsigned)d->uid, (unsigned)d->gid);
			goto fail;
		}
		snprintf(uname, sizeof(uname), "%s", pw->pw_name);
		snprintf(gname, sizeof(gname), "%s", gr->gr_name);
	}

	if (!sk_test_pki_make(d->dir, &d->pki))
		goto fail;
	d->imap_port = free_port();
	do
		d->imaps_port = free_port();
	while (d->imaps_port == d->imap_port);
	if (d->imap_port < 0 || d->imaps_port < 0)
		goto fail;

	p = path_join(d->dir, "passwd");
	ok = write_file(p, "wojt:{PLAIN}sekret-haslo-1\n", 0600);
	free(p);
	ok = ok && write_file(d->password_file, "sekret-haslo-1\n", 0600);
	ok = ok && write_config(d, uname, gname);
	if (!ok)
		goto fail;
	for (const char *const *sub =
	         (const char *const[]){ "run", "state", "home/wojt/Maildir/new",
	                                "home/wojt/Maildir/cur",
	                                "home/wojt/Maildir/tmp", NULL };
	     *sub; sub++) {
		struct sk_err err = { 0 };
		p = path_join(d->dir, *sub);
		ok = sk_mkdir_p(p, 0755, &err) == SK_OK;
		free(p);
		if (!ok) {
			fprintf(stderr, "dovecot helper: %s\n", err.msg);
			goto fail;
		}
	}
	if (geteuid() == 0) {
		/* The server runs as nobody: hand it the whole directory.
		 * We stay root and can still read everything. */
		chown_uid = d->uid;
		chown_gid = d->gid;
		if (nftw(d->dir, chown_one, 16, FTW_PHYS) != 0) {
			fprintf(stderr, "dovecot helper: chown failed\n");
			goto fail;
		}
	}
	chmod(d->dir, 0755);
	if (!spawn(d))
		goto fail;
	*out = d;
	return 1;
fail:
	sk_dovecot_stop(&d);
	return -1;
}

static void
reap(struct sk_dovecot *d, int sig, int ms)
{
	if (d->pid <= 0)
		return;
	kill(-d->pid, sig);
	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = 0;
			break;
		}
		usleep(10 * 1000);
	}
	if (d->pid > 0) {
		kill(-d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
	}
}

void
sk_dovecot_kill(struct sk_dovecot *d)
{
	pid_t pgid = d->pid;
	reap(d, SIGKILL, 2000);
	/* Children that outlived the master (imap processes) are still in
	 * the group: make sure they are gone too. */
	if (pgid > 0)
		kill(-pgid, SIGKILL);
}

/* Seen once in a CI run: a dovecot started right after a SIGKILLed one
 * accepted connections, dropped them and stopped listening within a second
 * or two (its log went with the temporary directory). Watch it for 1.5 s
 * and start it again if it exits, so that the tests measure the client's
 * reconnecting, not this; the message says it happened. */
bool
sk_dovecot_restart(struct sk_dovecot *d)
{
	if (d->pid > 0)
		sk_dovecot_kill(d);
	for (int attempt = 0; attempt < 3; attempt++) {
		bool alive = spawn(d);
		for (int i = 0; alive && i < 60; i++) {
			if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
				fprintf(stderr, "dovecot helper: restarted dovecot "
				                "exited at once; see %s; starting "
				                "it again\n", d->log);
				d->pid = 0;
				alive = false;
			}
			usleep(25 * 1000);
		}
		if (alive)
			return true;
	}
	return false;
}

void
sk_dovecot_stop(struct sk_dovecot **dp)
{
	struct sk_dovecot *d = *dp;
	pid_t pgid;

	if (!d)
		return;
	pgid = d->pid;
	reap(d, SIGTERM, 5000);
	if (pgid > 0) {
		kill(-pgid, SIGKILL); /* stragglers in the group */
		usleep(50 * 1000);
	}
	if (d->dir && strncmp(d->dir, "/tmp/skdv-", 10) == 0 &&
	    nftw(d->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "dovecot helper: cannot remove %s\n", d->dir);
	sk_test_pki_release(&d->pki);
	free(d->dir);
	free(d->conf);
	free(d->log);
	free(d->password_file);
	free(d->maildir);
	free(d);
	*dp = NULL;
}

void
sk_dovecot_deliver(struct sk_dovecot *d, const char *raw, size_t len)
{
	char name[128], *tmp, *dst, *sub;
	struct timespec ts;
	int fd;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof(name), "%lld.M%ldP%dQ%u.skarbnica-test",
	         (long long)ts.tv_sec, ts.tv_nsec / 1000, (int)getpid(),
	         ++d->seq);
	sub = path_join(d->maildir, "tmp");
	tmp = path_join(sub, name);
	free(sub);
	sub = path_join(d->maildir, "new");
	dst = path_join(sub, name);
	free(sub);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, raw, len) != (ssize_t)len) {
		fprintf(stderr, "dovecot helper: cannot write %s\n", tmp);
		abort();
	}
	if (geteuid() == 0 && fchown(fd, d->uid, d->gid) != 0)
		abort();
	close(fd);
	if (rename(tmp, dst) != 0)
		abort();
	free(tmp);
	free(dst);
}

bool
sk_dovecot_save(struct sk_dovecot *d, const char *mailbox, const char *raw,
                size_t len)
{
	char *path = path_join(d->dir, "save.eml");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool ok = fd >= 0 && write(fd, raw, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	/* Creating a mailbox that exists fails harmlessly. */
	ok = ok && (shell("%s -c '%s' mailbox create -u %s '%s' "
	                  ">>'%s/doveadm.out' 2>&1",
	                  DOVEADM_BIN, d->conf, d->user, mailbox, d->dir),
	            true);
	ok = ok && shell("%s -c '%s' save -u %s -m '%s' <'%s' "
	                 ">>'%s/doveadm.out' 2>&1",
	                 DOVEADM_BIN, d->conf, d->user, mailbox, path, d->dir);
	unlink(path);
	free(path);
	return ok;
}

bool
sk_dovecot_sync(struct sk_dovecot *d)
{
	return shell("%s -c '%s' force-resync -u %s INBOX "
	             ">>'%s/doveadm.out' 2>&1",
	             DOVEADM_BIN, d->conf, d->user, d->dir);
}

bool
sk_dovecot_set_uidvalidity(struct sk_dovecot *d, unsigned long v)
{
	return shell("%s -c '%s' mailbox update --uid-validity %lu -u %s "
	             "INBOX >>'%s/doveadm.out' 2>&1",
	             DOVEADM_BIN, d->conf, v, d->user, d->dir);
}

size_t
sk_dovecot_log_size(const struct sk_dovecot *d)
{
	struct stat st;
	return stat(d->log, &st) == 0 ? (size_t)st.st_size : 0;
}

char *
sk_dovecot_log_since(const struct sk_dovecot *d, size_t from)
{
	struct sk_err err = { 0 };
	char *all = NULL, *tail;
	size_t len = 0;

	if (sk_read_file(d->log, 64u << 20, &all, &len, &err) != SK_OK)
		return sk_xstrdup("");
	tail = sk_xstrdup(from < len ? all + from : "");
	free(all);
	return tail;
}

bool
sk_dovecot_log_wait(const struct sk_dovecot *d, size_t from, const char *needle,
                    int ms)
{
	for (int waited = 0;; waited += 20) {
		char *log = sk_dovecot_log_since(d, from);
		bool found = strstr(log, needle) != NULL;
		free(log);
		if (found)
			return true;
		if (waited >= ms)
			return false;
		usleep(20 * 1000);
	}
}
