/* tests/helpers/sk_test.c: temp dirs, fixture files, corpora, running the
 * binary. */
#include "tests/helpers/sk_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *
sk_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[512];
	snprintf(tmpl, sizeof(tmpl), "%s/sk-test-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		abort();
	}
	return sk_xstrdup(tmpl);
}

void
sk_test_rmdir(char **path)
{
	char cmd[1100];
	if (!*path)
		return;
	if (strlen(*path) > 20 && strstr(*path, "/sk-test-")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", *path);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", *path);
	}
	free(*path);
	*path = NULL;
}

const char *
sk_test_data(const char *rel)
{
	static char path[1024];
	snprintf(path, sizeof(path), "tests/data/%s", rel);
	return path;
}

char *
sk_test_read(const char *rel, size_t *len_out)
{
	char *buf;
	size_t len;
	struct sk_err err = { 0 };
	if (sk_read_file(sk_test_data(rel), 256u << 20, &buf, &len, &err)) {
		fprintf(stderr, "fixture: %s\n", err.msg);
		abort();
	}
	if (len_out)
		*len_out = len;
	return buf;
}

const char *
sk_test_corpus(const char *rel)
{
	static char path[1024];
	const char *root = getenv("SKARBNICA_CORPORA");
	snprintf(path, sizeof(path), "%s/%s", root ? root : "../shared/corpora",
		 rel);
	if (access(path, R_OK) != 0) {
		printf("SKIP: corpus '%s' is absent (set SKARBNICA_CORPORA)\n",
		       path);
		return NULL;
	}
	return path;
}

const char *
sk_test_bin(void)
{
	const char *b = getenv("SKARBNICA_BIN");
	return b ? b : "./skarbnica";
}

int
sk_test_run(const char *cmdline, char **out)
{
	FILE *p = popen(cmdline, "r");
	struct sk_buf b;
	char tmp[4096];
	size_t n;
	int st;

	if (!p)
		return -1;
	sk_buf_init(&b, 256u << 20);
	while ((n = fread(tmp, 1, sizeof(tmp), p)) > 0)
		sk_buf_add(&b, tmp, n);
	st = pclose(p);
	if (out)
		*out = sk_buf_take(&b, NULL);
	sk_buf_release(&b);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}
