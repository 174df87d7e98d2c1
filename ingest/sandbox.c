/* ingest/sandbox.c: the parser workers' syscall filter (seccomp, through
 * libseccomp) and the tool server that runs extractors for a filtered
 * worker. After start-up a worker only reads and writes its sockets,
 * manages memory, reads clocks, arms its alarm and exits; anything else
 * (exec, fork, sockets, ptrace, ...) kills it with SIGSYS, which the pool
 * handles like any crash: the message is parsed again for headers only,
 * else stored raw and flagged. Opening files fails with EACCES instead of
 * killing: libraries load some data lazily (a rarely used iconv module)
 * and must fail softly there.
 *
 * pdftotext, antiword and xls2csv cannot run under the filter (it is
 * inherited across exec), so the worker forks a tool server before
 * installing it: an unfiltered child that takes an attachment over a
 * socket, writes it to a private temporary file and runs the tool there,
 * exactly as extract.c does in-process. It never parses the attachment. */
#include "ingest/private.h"

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#define TOOL_REQ_MAGIC 0x51544B53u  /* "SKTQ" */
#define TOOL_RESP_MAGIC 0x53544B53u /* "SKTS" */
#define TOOL_ARGS_MAX 9             /* as extract.c's argv[12] allows */
#define TOOL_ARGS_BYTES 1024

bool
sk_fd_read_full(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

bool
sk_fd_write_full(int fd, const void *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w =
		    send(fd, (const char *)p + done, n - done, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		done += (size_t)w;
	}
	return true;
}

/* ---- the tool server ------------------------------------------------------
 */

struct tool_req {
	uint32_t magic;
	uint32_t n_args;   /* strings in the block, the tail included */
	uint32_t has_tail; /* the last string goes after the file name */
	uint32_t args_len; /* bytes of the NUL-terminated strings */
	double seconds;
	uint64_t max_out;
	uint64_t size; /* attachment bytes after the strings */
};

struct tool_resp {
	uint32_t magic;
	uint32_t ok;
	uint32_t cut;
	uint32_t pad;
	uint64_t len; /* output bytes after this header */
	char why[128];
};

static int tools_fd = -1; /* the worker's end; -1 = tools run in-process */
static struct sk_limits tools_lim;

/* Serve one request. False when the worker is gone or speaks nonsense:
 * the server then exits. */
static bool
serve_one(int fd, const struct sk_limits *lim)
{
	struct tool_req q;
	struct tool_resp r = { TOOL_RESP_MAGIC, 0, 0, 0, 0, "" };
	char block[TOOL_ARGS_BYTES], *data, *out = NULL;
	const char *args[TOOL_ARGS_MAX + 2], *tail = NULL; /* + tail, NULL */
	size_t len = 0, k = 0;
	struct sk_arena *a;
	bool cut = false, sent;

	if (!sk_fd_read_full(fd, &q, sizeof(q)) || q.magic != TOOL_REQ_MAGIC ||
	    q.n_args < 1 || q.n_args > TOOL_ARGS_MAX + 1 ||
	    q.args_len > sizeof(block) || q.size > lim->attachment_bytes ||
	    !(q.seconds > 0 && q.seconds <= 86400) ||
	    q.max_out > lim->extract_output_bytes)
		return false;
	if (!sk_fd_read_full(fd, block, q.args_len) ||
	    (q.args_len && block[q.args_len - 1] != '\0'))
		return false;
	for (size_t off = 0; off < q.args_len && k < q.n_args; k++) {
		args[k] = block + off;
		off += strlen(block + off) + 1;
	}
	if (k != q.n_args || (q.has_tail && k < 2))
		return false;
	if (q.has_tail)
		tail = args[--k];
	args[k] = NULL;
	data = malloc(q.size ? q.size : 1);
	if (!data || !sk_fd_read_full(fd, data, q.size)) {
		free(data);
		return false;
	}
	a = sk_arena_new(65536);
	r.ok = sk_mime_run_tool_on_data(a, args, tail, data, q.size, q.seconds,
	                                q.max_out, &out, &len, &cut, r.why);
	free(data);
	r.cut = cut;
	r.len = r.ok ? len : 0;
	sent = sk_fd_write_full(fd, &r, sizeof(r)) &&
	       (!r.len || sk_fd_write_full(fd, out, r.len));
	sk_arena_free(&a);
	return sent;
}

bool
sk_sandbox_start_tools(const struct sk_limits *lim)
{
	int sv[2];
	pid_t pid, parent = getpid();

	tools_lim = sk_limits_effective(lim);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return false;
	}
	if (pid == 0) {
		/* Dies with its worker; alarm and signals as the worker
		 * set them, minus the worker's alarm. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		alarm(0);
		close(sv[0]);
		close_range(3, (unsigned)sv[1] - 1, 0);
		close_range((unsigned)sv[1] + 1, ~0U, 0);
		while (serve_one(sv[1], &tools_lim))
			;
		_exit(0);
	}
	close(sv[1]);
	tools_fd = sv[0];
	return true;
}

bool
sk_sandbox_tools_ready(void)
{
	return tools_fd >= 0;
}

/* Append s with its NUL to the block; false when it does not fit. */
static bool
add_arg(struct tool_req *q, char *block, const char *s)
{
	size_t n = strlen(s) + 1;
	if (q->args_len + n > TOOL_ARGS_BYTES || q->n_args > TOOL_ARGS_MAX)
		return false;
	memcpy(block + q->args_len, s, n);
	q->args_len += (uint32_t)n;
	q->n_args++;
	return true;
}

bool
sk_sandbox_run_tool(struct sk_arena *a, const char *const args[],
                    const char *tail, const void *data, size_t size,
                    double seconds, size_t max_out, char **out, size_t *len,
                    bool *cut, char why[128])
{
	struct tool_req q = { TOOL_REQ_MAGIC, 0,       tail != NULL, 0,
		              seconds,        max_out, size };
	struct tool_resp r;
	char block[TOOL_ARGS_BYTES];
	bool fits = true;

	*out = NULL;
	*len = 0;
	*cut = false;
	/* The server's own checks, so that it never has to refuse. */
	for (size_t i = 0; args[i] && fits; i++)
		fits = i < TOOL_ARGS_MAX && add_arg(&q, block, args[i]);
	if (fits && tail)
		fits = add_arg(&q, block, tail);
	if (!fits || size > tools_lim.attachment_bytes ||
	    max_out > tools_lim.extract_output_bytes || !(seconds > 0)) {
		snprintf(why, 128, "tool request out of bounds");
		return false;
	}
	if (!sk_fd_write_full(tools_fd, &q, sizeof(q)) ||
	    !sk_fd_write_full(tools_fd, block, q.args_len) ||
	    !sk_fd_write_full(tools_fd, data, size) ||
	    !sk_fd_read_full(tools_fd, &r, sizeof(r)) ||
	    r.magic != TOOL_RESP_MAGIC || r.len > max_out) {
		snprintf(why, 128, "the extraction helper process is gone");
		return false;
	}
	r.why[127] = '\0';
	*cut = r.cut != 0;
	if (!r.ok) {
		snprintf(why, 128, "%s", r.why);
		return false;
	}
	*out = sk_arena_alloc(a, r.len + 1);
	if (!sk_fd_read_full(tools_fd, *out, r.len)) {
		*out = NULL;
		snprintf(why, 128, "the extraction helper process is gone");
		return false;
	}
	(*out)[r.len] = '\0';
	*len = r.len;
	return true;
}

/* ---- the filter -----------------------------------------------------------
 */

/* What parsing loads on first use, loaded before the filter: iconv
 * modules for the charsets of Polish mail (the handles stay open so that
 * glibc keeps the modules), the time zone, and one parse of a message
 * that goes through ICU detection, libxml2 and the zip reader. */
static void
warm_up(const struct sk_limits *lim)
{
	static const char *const charsets[] = {
		"ISO-8859-2",  "WINDOWS-1250", "ISO-8859-1", "WINDOWS-1252",
		"ISO-8859-16", "US-ASCII",     "UTF-16",     "UTF-16LE",
		"UTF-16BE",    "UTF-7",        "KOI8-R",     "CP852",
	};
	static const char msg[] =
	    "From: =?iso-8859-2?Q?Pawe=B3?= <p@example.invalid>\n"
	    "Subject: =?windows-1250?Q?=9Cwiat?=\n"
	    "Date: Mon, 3 Mar 2025 10:00:00 +0100\n"
	    "Message-ID: <warm-up@skarbnica.invalid>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain; charset=unknown-8bit\n"
	    "Content-Transfer-Encoding: 8bit\n\n"
	    "Zaj\xea\xe6 si\xea sprawami gminy, \xbf"
	    "eby by\xb3o dobrze.\n"
	    "--b\nContent-Type: text/html; charset=windows-1250\n\n"
	    "<html><body><p>Pi\xb9tek &amp; sobota</p></body></html>\n"
	    "--b\nContent-Type: application/octet-stream; name=a.docx\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "UEsDBBQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	    "--b--\n";
	struct sk_arena *a = sk_arena_new(65536);
	struct sk_message m;

	for (size_t i = 0; i < SK_ARRAY_SIZE(charsets); i++)
		(void)iconv_open("UTF-8", charsets[i]); /* kept open */
	tzset();
#if defined(__SANITIZE_ADDRESS__)
	{
		/* The sanitizer starts llvm-symbolizer on its first report,
		 * which the filter would forbid: start it now, so that a
		 * report from a worker keeps its function names and lines. */
		char where[256];
		__sanitizer_symbolize_pc(__builtin_return_address(0), "%f",
		                         where, sizeof(where));
	}
#endif
	sk_ingest_parse(a, lim, msg, sizeof(msg) - 1, &m);
	sk_arena_free(&a);
}

#define RULE(ctx, action, name, ...)                                           \
	seccomp_rule_add(ctx, action, SCMP_SYS(name), __VA_ARGS__)

static int
add_rules(scmp_filter_ctx ctx)
{
	static const int allowed[] = {
		/* the sockets to the pool and the tool server, stdio */
		SCMP_SYS(read),
		SCMP_SYS(readv),
		SCMP_SYS(write),
		SCMP_SYS(writev),
		SCMP_SYS(sendto),
		SCMP_SYS(sendmsg),
		SCMP_SYS(recvfrom),
		SCMP_SYS(recvmsg),
		SCMP_SYS(close),
		SCMP_SYS(fstat),
		SCMP_SYS(lseek),
		/* memory (mmap and mprotect below, without PROT_EXEC) */
		SCMP_SYS(brk),
		SCMP_SYS(munmap),
		SCMP_SYS(mremap),
		SCMP_SYS(madvise),
		/* time, the alarm, signals, exit */
		SCMP_SYS(clock_gettime),
		SCMP_SYS(clock_getres),
		SCMP_SYS(gettimeofday),
		SCMP_SYS(time),
		SCMP_SYS(nanosleep),
		SCMP_SYS(clock_nanosleep),
		SCMP_SYS(alarm),
		SCMP_SYS(setitimer),
		SCMP_SYS(getitimer),
		SCMP_SYS(rt_sigreturn),
		SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(rt_sigaction),
		SCMP_SYS(sigaltstack),
		SCMP_SYS(restart_syscall),
		SCMP_SYS(exit),
		SCMP_SYS(exit_group),
		/* libraries: locks, randomness, identity */
		SCMP_SYS(futex),
		SCMP_SYS(getrandom),
		SCMP_SYS(getpid),
		SCMP_SYS(gettid),
		SCMP_SYS(sched_yield),
	};
	static const int denied[] = {
		/* lazily loaded data: fail softly, the parse goes on */
		SCMP_SYS(open),       SCMP_SYS(openat),   SCMP_SYS(stat),
		SCMP_SYS(lstat),      SCMP_SYS(access),   SCMP_SYS(faccessat),
		SCMP_SYS(faccessat2), SCMP_SYS(readlink), SCMP_SYS(readlinkat),
		SCMP_SYS(statx),
	};
	pid_t self = getpid();
	int rc = 0;

	for (size_t i = 0; i < SK_ARRAY_SIZE(allowed) && !rc; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; i < SK_ARRAY_SIZE(denied) && !rc; i++)
		rc =
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), denied[i], 0);
	/* No new executable memory: nothing is loaded after start-up. */
	if (!rc)
		rc = RULE(ctx, SCMP_ACT_ALLOW, mmap, 1,
		          SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!rc)
		rc = RULE(ctx, SCMP_ACT_ALLOW, mprotect, 1,
		          SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* fstat() is newfstatat(fd, "", AT_EMPTY_PATH) in glibc; a path
	 * lookup is refused like open(). */
	if (!rc)
		rc = RULE(
		    ctx, SCMP_ACT_ALLOW, newfstatat, 1,
		    SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
	if (!rc)
		rc = RULE(ctx, SCMP_ACT_ERRNO(EACCES), newfstatat, 1,
		          SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0));
	/* Reading limits, never setting them. */
	if (!rc)
		rc = RULE(ctx, SCMP_ACT_ALLOW, prlimit64, 2,
		          SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0));
	/* abort() and raise() signal this process only, so a crash keeps
	 * its own signal number in the pool's "parser crashed (signal N)". */
	if (!rc)
		rc = RULE(ctx, SCMP_ACT_ALLOW, tgkill, 1,
		          SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
	if (!rc)
		rc = RULE(ctx, SCMP_ACT_ALLOW, kill, 1,
		          SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self));
	/* isatty() on stdio */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY),
		                      SCMP_SYS(ioctl), 0);
	return rc;
}

bool
sk_sandbox_enter(const struct sk_limits *lim, char why[128])
{
	scmp_filter_ctx ctx;
	int rc;

	warm_up(lim);
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(why, 128, "seccomp_init failed");
		return false;
	}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	                      SCMP_ACT_KILL_PROCESS);
	if (!rc)
		rc = add_rules(ctx);
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc) {
		snprintf(why, 128, "cannot install the syscall filter: %s",
		         strerror(-rc));
		return false;
	}
	return true;
}
