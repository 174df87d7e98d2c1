/* tests/test_ingest_sandbox.c: the parser workers' seccomp filter
 * (ingest/sandbox.c): what it kills, what it refuses softly, that parsing
 * and extraction still work under it, that the pool keeps a message whose
 * worker breaks it, and the limits.seccomp switch. */
#include "tests/helpers/sk_test.h"
#include "tests/test_ingest_fake.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define IX ((struct sk_index *)&fx) /* the fake ignores the handle */

static int
setup(void **state)
{
	(void)state;
	fx_reset();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sk_pool_test_hook = NULL;
	fx_reset();
	return 0;
}

/* Run fn in a child under the filter; the child's wait status. */
static int
in_sandbox(int (*fn)(void *), void *arg, bool tools)
{
	struct sk_limits lim = sk_limits_effective(&(struct sk_limits){ 0 });
	int st = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[128];
		/* cmocka's handlers would catch SIGSYS in the child. */
		signal(SIGSYS, SIG_DFL);
		if (tools && !sk_sandbox_start_tools(&lim))
			_exit(90);
		if (!sk_sandbox_enter(&lim, why))
			_exit(91);
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int
try_socket(void *arg)
{
	(void)arg;
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 2 : 3;
}

static int
try_exec(void *arg)
{
	static char arg0[] = "true";
	char *const argv[] = { arg0, NULL };
	(void)arg;
	execv("/bin/true", argv);
	return 2;
}

static int
try_fork(void *arg)
{
	pid_t pid;
	(void)arg;
	pid = fork();
	if (pid == 0)
		_exit(0);
	return 2;
}

static int
try_exec_memory(void *arg)
{
	void *p;
	(void)arg;
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	         -1, 0);
	return p == MAP_FAILED ? 3 : 2;
}

static void
kills_a_forbidden_syscall(void **state)
{
	int (*const calls[])(void *) = { try_socket, try_exec, try_fork,
		                         try_exec_memory };

	(void)state;
	for (size_t i = 0; i < SK_ARRAY_SIZE(calls); i++) {
		int st = in_sandbox(calls[i], NULL, false);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

static int
try_open(void *arg)
{
	int fd;
	(void)arg;
	fd = open("/etc/passwd", O_RDONLY);
	if (fd >= 0 || errno != EACCES)
		return 2;
	return access("/etc/passwd", R_OK) == -1 && errno == EACCES ? 0 : 3;
}

static void
refuses_files_softly(void **state)
{
	int st = in_sandbox(try_open, NULL, false);
	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

struct mails {
	char *raw[64];
	size_t len[64];
	char name[64][64];
	size_t n;
};

/* Parse every fixture; the PDF one must still come out with its text
 * (pdftotext runs in the tool server), the zip bomb refused in-process. */
static int
parse_all(void *arg)
{
	struct mails *ms = arg;
	struct sk_limits lim = sk_limits_effective(&(struct sk_limits){ 0 });
	int pdf_ok = 0, zip_refused = 0;

	for (size_t i = 0; i < ms->n; i++) {
		struct sk_arena *a = sk_arena_new(65536);
		struct sk_message m;
		sk_ingest_parse(a, &lim, ms->raw[i], ms->len[i], &m);
		if (!strcmp(ms->name[i], "rfc2231-filename.eml") &&
		    m.n_attachments == 1 &&
		    !strcmp(m.attachments[0].extract_status, "ok") &&
		    strstr(m.attachments[0].text, "Regulamin zamowien Lodz"))
			pdf_ok = 1;
		if (!strcmp(ms->name[i], "zipbomb-docx.eml") &&
		    m.n_attachments == 1 &&
		    !strcmp(m.attachments[0].extract_status, "failed"))
			zip_refused = 1;
		sk_arena_free(&a);
	}
	return pdf_ok && zip_refused ? 0 : 4;
}

static void
parses_and_extracts_under_the_filter(void **state)
{
	struct mails *ms = sk_xcalloc(1, sizeof(*ms));
	DIR *d = opendir(sk_test_data("mime"));
	struct dirent *e;
	int st;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) && ms->n < SK_ARRAY_SIZE(ms->raw)) {
		char rel[300];
		size_t n = strlen(e->d_name);
		/* The libetpan crash is the pool's business, not this test's.
		 */
		if (n < 5 || strcmp(e->d_name + n - 4, ".eml") ||
		    !strcmp(e->d_name, "boundary-quote-crash.eml") ||
		    n >= sizeof(ms->name[0]))
			continue;
		snprintf(rel, sizeof(rel), "mime/%s", e->d_name);
		ms->raw[ms->n] = sk_test_read(rel, &ms->len[ms->n]);
		memcpy(ms->name[ms->n], e->d_name, n + 1);
		ms->n++;
	}
	closedir(d);
	assert_true(ms->n > 20);
	st = in_sandbox(parse_all, ms, true);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	for (size_t i = 0; i < ms->n; i++)
		free(ms->raw[i]);
	free(ms);
}

/* Under the filter, through the tool server: a tool runs on the bytes
 * given (cat gives them back), a failing tool is reported, and a request
 * over the limits is refused before it reaches the server, which goes on
 * serving. */
static int
use_tools(void *arg)
{
	static const char *const cat[] = { "cat", NULL };
	static const char *const pdf[] = { "pdftotext", "-q", NULL };
	static const char text[] = "Zażółć gęślą jaźń";
	struct sk_limits lim = sk_limits_effective(&(struct sk_limits){ 0 });
	struct sk_arena *a = sk_arena_new(0);
	char *out, why[128];
	size_t len;
	bool cut;
	int rc = 0;

	(void)arg;
	if (!sk_sandbox_tools_ready())
		rc = 5;
	else if (!sk_sandbox_run_tool(a, cat, NULL, text, strlen(text), 5, 1024,
	                              &out, &len, &cut, why) ||
	         len != strlen(text) || memcmp(out, text, len) || cut)
		rc = 6;
	else if (sk_sandbox_run_tool(a, pdf, "-", text, strlen(text), 5, 1024,
	                             &out, &len, &cut, why) ||
	         !strstr(why, "pdftotext exited with status"))
		rc = 7;
	else if (sk_sandbox_run_tool(a, cat, NULL, text,
	                             lim.attachment_bytes + 1, 5, 1024, &out,
	                             &len, &cut, why) ||
	         !strstr(why, "out of bounds"))
		rc = 8;
	else if (!sk_sandbox_run_tool(a, cat, NULL, text, 4, 5, 1024, &out,
	                              &len, &cut, why) ||
	         len != 4)
		rc = 9;
	sk_arena_free(&a);
	return rc;
}

static void
runs_tools_through_the_tool_server(void **state)
{
	int st = in_sandbox(use_tools, NULL, true);
	(void)state;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* In the worker, after the filter: a message asking for it opens a
 * socket, as code run by a parser exploit would. */
static void
socket_hook(const char *raw, size_t len, enum sk_job_mode mode)
{
	static const char mark[] = "X-Sandbox-Test: socket";
	/* The full parse only: the headers-only rerun then succeeds. */
	if (mode == SK_JOB_FULL && len >= sizeof(mark) - 1 &&
	    memmem(raw, len, mark, sizeof(mark) - 1))
		(void)socket(AF_INET, SOCK_STREAM, 0);
}

static const struct fake_msg *
ingest_three(const struct sk_limits *lim)
{
	static const char *const raws[] = {
		"Message-ID: <s1@test.example>\nFrom: a@test.example\n"
		"Subject: pierwsza\n\nTreść.\n",
		"Message-ID: <s2@test.example>\nFrom: a@test.example\n"
		"Subject: Próba gniazda\nX-Sandbox-Test: socket\n\nTreść.\n",
		"Message-ID: <s3@test.example>\nFrom: a@test.example\n"
		"Subject: trzecia\n\nTreść.\n",
	};
	struct sk_ingest_settings set = { .workers = 2, .quiet = true };
	struct sk_ingest *ing = NULL;
	struct sk_ingest_counts n;
	struct sk_err err = { 0 };

	set.limits = *lim;
	sk_pool_test_hook = socket_hook;
	assert_int_equal(sk_ingest_new(IX, &set, &ing, &err), SK_OK);
	for (size_t i = 0; i < SK_ARRAY_SIZE(raws); i++)
		assert_int_equal(
		    sk_ingest_submit(ing, raws[i], strlen(raws[i]), NULL, &err),
		    SK_OK);
	assert_int_equal(sk_ingest_flush(ing, &err), SK_OK);
	sk_ingest_counts(ing, &n);
	assert_int_equal(n.stored, 3);
	assert_int_equal(sk_ingest_finish(&ing, &err), SK_OK);
	/* Submitted without a position: no source state moves. */
	assert_null(fx_source("mbox"));
	assert_false(fx_find("s1@test.example")->flags & SK_MSG_MALFORMED);
	assert_false(fx_find("s3@test.example")->flags & SK_MSG_MALFORMED);
	assert_int_equal(fx_find("s2@test.example")->raw_len, strlen(raws[1]));
	return fx_find("s2@test.example");
}

static void
keeps_a_message_whose_worker_breaks_the_filter(void **state)
{
	const struct fake_msg *m = ingest_three(&(struct sk_limits){ 0 });
	char want[64];

	(void)state;
	snprintf(want, sizeof(want), "parser crashed (signal %d)", SIGSYS);
	assert_true(m->flags & SK_MSG_MALFORMED);
	assert_string_equal(m->parse_error, want);
	assert_string_equal(m->subject, "Próba gniazda");
}

static void
runs_without_the_filter_when_switched_off(void **state)
{
	const struct fake_msg *m =
	    ingest_three(&(struct sk_limits){ .no_seccomp = true });

	(void)state;
	assert_false(m->flags & SK_MSG_MALFORMED);
	assert_null(m->parse_error);
}

static void
reads_the_seccomp_switch(void **state)
{
	static const char *const texts[] = { "[limits]\nseccomp = false\n",
		                             "[limits]\nseccomp = true\n",
		                             "[limits]\nseccomp = maybe\n" };
	char *dir = sk_test_tmpdir(), path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/skarbnica.conf", dir);
	for (size_t i = 0; i < SK_ARRAY_SIZE(texts); i++) {
		struct sk_config c;
		struct sk_err err = { 0 };
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(texts[i], f);
		fclose(f);
		sk_config_init(&c);
		assert_false(c.limits.no_seccomp);
		assert_int_equal(sk_config_load(&c, path, &err),
		                 i == 2 ? SK_EINVAL : SK_OK);
		if (i < 2)
			assert_int_equal(c.limits.no_seccomp, i == 0);
		sk_config_release(&c);
	}
	unlink(path);
	sk_test_rmdir(&dir);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(kills_a_forbidden_syscall),
		T(refuses_files_softly),
		T(parses_and_extracts_under_the_filter),
		T(runs_tools_through_the_tool_server),
		T(keeps_a_message_whose_worker_breaks_the_filter),
		T(runs_without_the_filter_when_switched_off),
		T(reads_the_seccomp_switch),
	};
	return cmocka_run_group_tests_name("ingest/sandbox", tests, NULL, NULL);
}
