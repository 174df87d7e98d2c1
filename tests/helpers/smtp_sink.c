/* tests/helpers/smtp_sink.c: postfix's smtp-sink for the mail tests. */
#include "tests/helpers/smtp_sink.h"

#include "lib/sk_base.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_DUMP ((size_t)256 << 20)

int
sk_test_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

bool
sk_test_port_open(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
		                 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;
	inet_pton(AF_INET, ip, &a.sin_addr);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

bool
sk_sink_installed(void)
{
	return access(SK_SINK_BIN, X_OK) == 0;
}

bool
sk_sink_start(struct sk_sink *s, const char *dir, const char *opt,
              const char *arg, int backlog)
{
	char addr[64], queue[16];
	const char *argv[16];
	int n = 0;

	if (!sk_sink_installed())
		return false;
	if (!s->port)
		s->port = sk_test_free_port();
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	mkdir(s->dir, 0777);
	chmod(s->dir, 0777); /* smtp-sink runs as nobody under root */
	/* -D: every complete transaction appended to one file (-d would
	 * name files per session and lose all but one per session). */
	snprintf(s->dump, sizeof(s->dump), "%s/dump", s->dir);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
	snprintf(queue, sizeof(queue), "%d", backlog);
	argv[n++] = SK_SINK_BIN;
	if (geteuid() == 0) {
		argv[n++] = "-u";
		argv[n++] = "nobody";
	}
	argv[n++] = "-D";
	argv[n++] = s->dump;
	if (opt) {
		argv[n++] = opt;
		if (arg)
			argv[n++] = arg;
	}
	argv[n++] = addr;
	argv[n++] = queue;
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid < 0) {
		s->pid = 0;
		return false;
	}
	if (s->pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(SK_SINK_BIN, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		if (sk_test_port_open("127.0.0.1", s->port))
			return true;
		usleep(20 * 1000);
	}
	return false;
}

void
sk_sink_stop(struct sk_sink *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

char *
sk_sink_read(const struct sk_sink *s)
{
	char *buf = NULL;
	size_t len;
	if (sk_read_file(s->dump, MAX_DUMP, &buf, &len, NULL))
		return sk_xstrdup("");
	return buf;
}

int
sk_sink_count(const struct sk_sink *s)
{
	char *all = sk_sink_read(s);
	int n = 0;
	for (const char *p = all; (p = strstr(p, "X-Client-Addr: ")) != NULL;
	     p++)
		n++;
	free(all);
	return n;
}

bool
sk_sink_wait(const struct sk_sink *s, int n, int ms)
{
	for (int waited = 0;; waited += 20) {
		if (sk_sink_count(s) >= n)
			return true;
		if (waited >= ms)
			return false;
		usleep(20 * 1000);
	}
}

int
sk_sink_messages(const struct sk_sink *s, char **msgs, int max)
{
	char *buf = sk_sink_read(s), *p;
	int n = 0;

	p = strstr(buf, "X-Client-Addr: ");
	while (p && n < max) {
		char *next = strstr(p + 1, "\nX-Client-Addr: ");
		size_t mlen = next ? (size_t)(next + 1 - p) : strlen(p);
		char *m = sk_xstrndup(p, mlen), *o = m;
		/* Drop the envelope lines and the newline the sink adds after
		 * each message. */
		for (char *line = m; *line;) {
			char *e = strchr(line, '\n');
			size_t l = e ? (size_t)(e + 1 - line) : strlen(line);
			if (!(o == m && sk_starts_with(line, "X-"))) {
				memmove(o, line, l);
				o += l;
			}
			line += l;
		}
		*o = '\0';
		if (o > m && o[-1] == '\n' && o - m >= 2 && o[-2] == '\n')
			o[-1] = '\0';
		msgs[n++] = m;
		p = next ? next + 1 : NULL;
	}
	free(buf);
	return n;
}
