/* ingest/pool.c: long-lived parser workers behind socket pairs. A worker
 * reads a raw message, parses it (libetpan, charsets, HTML, extraction)
 * under a memory cap and an alarm, and writes the serialized result back.
 * The run's process never parses untrusted MIME itself: a worker that
 * crashes, hangs or sends garbage costs the message it held (which the run
 * then stores raw and flagged), and is replaced. Not a fork per message:
 * forking costs more than most parses. */
#include "ingest/private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAGIC 0x51524B53u  /* "SKRQ" */
#define RESP_MAGIC 0x53524B53u /* "SKRS" */
#define JOBS_PER_WORKER 3      /* queued in a worker's socket at once */
#define PARSE_SECONDS 30       /* parse time before extraction's share */

/* Both headers: magic, mode or status, sequence number, payload length. */
struct wire_hdr {
	uint32_t magic;
	uint32_t mode;
	uint64_t seq;
	uint64_t len;
};

struct worker {
	pid_t pid;
	int fd;                     /* -1 while down */
	struct sk_job *head, *tail; /* assigned, in order */
	size_t n_jobs;
	struct sk_job *writing; /* first job not fully written */
	struct wire_hdr resp;   /* the response being read */
	size_t resp_hdr_got;
	char *resp_buf;
	size_t resp_got;
	double started; /* when the head job began, 0 = not yet */
	bool killed_for_time;
};

void (*sk_pool_test_hook)(const char *raw, size_t len, enum sk_job_mode mode);

struct sk_pool {
	struct worker *w;
	unsigned n;
	struct sk_limits lim;
	struct sk_job *q_head, *q_tail; /* waiting for a worker */
	size_t pending;
	unsigned alarm_seconds;
	double timeout;
	unsigned spawn_failures;
};

static double
now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the worker process
 * ------------------------------------------------------ */

/* The worker's own limits: no core files, and (outside ASan, which
 * reserves terabytes of address space) a cap on memory. */
static void
worker_limits(const struct sk_limits *lim)
{
	struct rlimit zero = { 0, 0 };
	setrlimit(RLIMIT_CORE, &zero);
#if !defined(__SANITIZE_ADDRESS__)
	{
		rlim_t as =
		    ((rlim_t)768 << 20) + (rlim_t)lim->message_bytes * 8;
		struct rlimit l = { as, as };
		if (as > ((rlim_t)4 << 30))
			l.rlim_cur = l.rlim_max = (rlim_t)4 << 30;
		setrlimit(RLIMIT_AS, &l);
	}
#else
	(void)lim;
#endif
}

static _Noreturn void
worker_main(int fd, const struct sk_limits *lim, unsigned alarm_seconds,
            pid_t parent)
{
	int nul;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	/* Only our socket and stdio: the store's descriptors and the other
	 * workers' sockets are not ours to hold. */
	nul = open("/dev/null", O_RDONLY);
	if (nul >= 0 && nul != 0) {
		dup2(nul, 0);
		if (nul != fd)
			close(nul);
	}
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0U, 0);
	/* The parent's handlers are not ours: a crash must kill this
	 * process (a test harness's SIGSEGV handler would longjmp back into
	 * a copy of the harness), and a blocked SIGALRM would disarm the
	 * time limit. */
	{
		sigset_t none;
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	/* ^C and a service manager's SIGTERM reach the whole process group:
	 * the run stops and then closes our socket. Dying of them here
	 * would look like a crash on the message we hold. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	worker_limits(lim);
	/* The extractors run in a tool server forked before the filter. */
	if (!lim->no_seccomp) {
		char why[128];
		if (!sk_sandbox_start_tools(lim) || !sk_sandbox_enter(lim, why))
			_exit(4);
	}
	for (;;) {
		struct wire_hdr h;
		struct sk_arena *a;
		struct sk_message m;
		struct sk_buf out;
		char *raw;

		if (!sk_fd_read_full(fd, &h, sizeof(h)))
			_exit(0);
		if (h.magic != REQ_MAGIC || h.len > lim->message_bytes)
			_exit(3);
		raw = malloc(h.len + 1);
		if (!raw || !sk_fd_read_full(fd, raw, h.len))
			_exit(0);
		raw[h.len] = '\0';
		alarm(alarm_seconds);
		if (sk_pool_test_hook)
			sk_pool_test_hook(raw, h.len, (enum sk_job_mode)h.mode);
		a = sk_arena_new(65536);
		if (h.mode == SK_JOB_HEADERS_ONLY)
			sk_mime_parse_headers_only(a, lim, raw, h.len, &m);
		else
			sk_ingest_parse(a, lim, raw, h.len, &m);
		sk_buf_init(&out, (size_t)1 << 40);
		sk_wire_put_message(&out, &m);
		alarm(0);
		sk_arena_free(&a);
		free(raw);
		h.magic = RESP_MAGIC;
		h.mode = 0;
		h.len = out.len;
		if (!sk_fd_write_full(fd, &h, sizeof(h)) ||
		    !sk_fd_write_full(fd, out.p, out.len))
			_exit(0);
		sk_buf_release(&out);
	}
}

/* ---- the parent side
 * ----------------------------------------------------------- */

static bool
spawn(struct sk_pool *p, struct worker *w)
{
	int sv[2], size = 1 << 20;
	pid_t pid, parent = getpid();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	/* Bigger buffers let a worker finish a response and start the
	 * next message while the run is busy storing. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return false;
	}
	if (pid == 0) {
		close(sv[0]);
		worker_main(sv[1], &p->lim, p->alarm_seconds, parent);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->fd = sv[0];
	return true;
}

/* Whether a worker will be able to install its filter: tried in a
 * throwaway child, so that a kernel without seccomp is one clear error
 * rather than every message flagged "parser crashed". A child forked while
 * another thread held an allocator lock can hang in its first malloc (seen
 * under ASan, with the pool started from a thread): such a try is killed
 * after PROBE_SECONDS and made again. */
#define PROBE_SECONDS 10
#define PROBE_TRIES 3

static bool
sandbox_works(const struct sk_limits *lim)
{
	for (int attempt = 0; attempt < PROBE_TRIES; attempt++) {
		int st = 0;
		pid_t pid, got = 0;

		fflush(NULL);
		pid = fork();
		if (pid < 0)
			return false;
		if (pid == 0) {
			char why[128];
			_exit(sk_sandbox_enter(lim, why) ? 0 : 1);
		}
		for (int ms = 0; ms < PROBE_SECONDS * 1000 && got != pid;
		     ms += 10) {
			got = waitpid(pid, &st, WNOHANG);
			if (got < 0 && errno != EINTR)
				return false;
			if (got != pid)
				usleep(10 * 1000);
		}
		if (got == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 0;
		sk_log(SK_LOG_WARNING, "parser filter probe hung; trying again");
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	return false;
}

enum sk_status
sk_pool_new(unsigned n, const struct sk_limits *limits,
            struct sk_pool **pool_out, struct sk_err *err)
{
	struct sk_pool *p = sk_xcalloc(1, sizeof(*p));
	static const struct sk_limits none;

	p->lim = sk_limits_effective(limits ? limits : &none);
	p->n = n ? n : 1;
	p->w = sk_xcalloc(p->n, sizeof(*p->w));
	/* Parsing, then at most three extractor timeouts (parse.c). */
	p->alarm_seconds = PARSE_SECONDS + 3 * (unsigned)p->lim.extract_seconds;
	p->timeout = (double)p->alarm_seconds + 10;
	if (!p->lim.no_seccomp && !sandbox_works(&p->lim)) {
		p->n = 0;
		sk_pool_free(&p);
		return sk_err_set(err, SK_EIO,
		                  "cannot install the parser workers' syscall "
		                  "filter (seccomp); limits.seccomp = false "
		                  "runs them without it");
	}
	for (unsigned i = 0; i < p->n; i++) {
		if (!spawn(p, &p->w[i])) {
			p->n = i;
			sk_pool_free(&p);
			return sk_err_set(err, SK_EIO,
			                  "cannot start a parser worker: %s",
			                  strerror(errno));
		}
	}
	*pool_out = p;
	return SK_OK;
}

/* Reap a worker; a grace time (a sanitizer report takes a moment), then
 * SIGKILL. Returns the wait status. */
static int
reap(pid_t pid)
{
	int st = 0;
	for (int i = 0; i < 1000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return st;
		usleep(5000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

void
sk_pool_free(struct sk_pool **pp)
{
	struct sk_pool *p = *pp;

	if (!p)
		return;
	/* EOF tells each worker to exit. */
	for (unsigned i = 0; i < p->n; i++)
		if (p->w[i].fd >= 0) {
			close(p->w[i].fd);
			p->w[i].fd = -1;
		}
	for (unsigned i = 0; i < p->n; i++) {
		if (p->w[i].pid > 0)
			reap(p->w[i].pid);
		free(p->w[i].resp_buf);
	}
	free(p->w);
	free(p);
	*pp = NULL;
}

void
sk_pool_push(struct sk_pool *p, struct sk_job *job)
{
	job->next = NULL;
	job->sent = 0;
	job->result = NULL;
	job->result_len = 0;
	job->failure[0] = '\0';
	if (p->q_tail)
		p->q_tail->next = job;
	else
		p->q_head = job;
	p->q_tail = job;
	p->pending++;
}

size_t
sk_pool_pending(const struct sk_pool *p)
{
	return p->pending;
}

size_t
sk_pool_pids(const struct sk_pool *p, pid_t *pids, size_t max)
{
	size_t k = 0;
	for (unsigned i = 0; i < p->n && k < max; i++)
		if (p->w[i].fd >= 0)
			pids[k++] = p->w[i].pid;
	return k;
}

void
sk_pool_set_timeout(struct sk_pool *p, unsigned seconds)
{
	/* The worker's alarm is set at fork: workers started from now on
	 * get it; the run's own timer applies to all at once. */
	p->alarm_seconds = seconds;
	p->timeout = (double)seconds + 1;
}

/* Hand waiting jobs to the least busy workers. */
static void
assign(struct sk_pool *p)
{
	while (p->q_head) {
		struct worker *best = NULL;
		struct sk_job *j;
		for (unsigned i = 0; i < p->n; i++) {
			struct worker *w = &p->w[i];
			if (w->fd < 0 || w->n_jobs >= JOBS_PER_WORKER)
				continue;
			if (!best || w->n_jobs < best->n_jobs)
				best = w;
		}
		if (!best)
			return;
		j = p->q_head;
		p->q_head = j->next;
		if (!p->q_head)
			p->q_tail = NULL;
		j->next = NULL;
		j->sent = 0;
		if (best->tail)
			best->tail->next = j;
		else
			best->head = j;
		best->tail = j;
		best->n_jobs++;
		if (!best->writing)
			best->writing = j;
	}
}

static void
mark_started(struct worker *w)
{
	if (w->head && !w->started && w->writing != w->head)
		w->started = now_seconds();
}

/* Write as much of the queued requests as the socket takes. False when
 * the worker is gone. */
static bool
write_some(struct worker *w)
{
	while (w->writing) {
		struct sk_job *j = w->writing;
		struct wire_hdr h = { REQ_MAGIC, (uint32_t)j->mode, j->seq,
			              j->len };
		struct iovec iov[2];
		int k = 0;
		ssize_t r;

		if (j->sent < sizeof(h)) {
			iov[k].iov_base = (char *)&h + j->sent;
			iov[k++].iov_len = sizeof(h) - j->sent;
			iov[k].iov_base = (void *)j->raw;
			iov[k++].iov_len = j->len;
		} else {
			iov[k].iov_base =
			    (char *)j->raw + (j->sent - sizeof(h));
			iov[k++].iov_len = j->len - (j->sent - sizeof(h));
		}
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)k };
		r = sendmsg(w->fd, &mh, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		j->sent += (size_t)r;
		if (j->sent == sizeof(h) + j->len) {
			w->writing = j->next;
			mark_started(w);
		}
	}
	return true;
}

/* Describe how a worker ended, from its wait status. */
static void
death_reason(int st, bool killed_for_time, unsigned timeout, char out[96])
{
	if (killed_for_time)
		snprintf(out, 96, "parser timed out after %u s", timeout);
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		snprintf(out, 96, "parser timed out (signal %d)", SIGALRM);
	else if (WIFSIGNALED(st))
		snprintf(out, 96, "parser crashed (signal %d)", WTERMSIG(st));
	else if (WIFEXITED(st))
		snprintf(out, 96, "parser crashed (exit status %d)",
		         WEXITSTATUS(st));
	else
		snprintf(out, 96, "parser crashed");
}

/* The worker is gone: its current job fails, the others go back to the
 * queue in order, and a new worker takes its place. */
static void
worker_died(struct sk_pool *p, struct worker *w,
            void (*done)(void *, struct sk_job *), void *ctx)
{
	/* Only a job the worker had in full can be to blame; one still being
	 * written goes back to the queue with the rest (the worker died of
	 * something else, e.g. an operator's kill). */
	struct sk_job *failed =
	    w->head && w->writing != w->head ? w->head : NULL;
	struct sk_job *rest = failed ? failed->next : w->head;
	int st;

	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	st = reap(w->pid);
	w->pid = 0;
	free(w->resp_buf);
	if (rest) {
		struct sk_job *last = rest;
		while (last->next)
			last = last->next;
		last->next = p->q_head;
		p->q_head = rest;
		if (!p->q_tail)
			p->q_tail = last;
	}
	if (failed) {
		failed->next = NULL;
		failed->result = NULL;
		death_reason(st, w->killed_for_time, p->alarm_seconds,
		             failed->failure);
		p->pending--;
		done(ctx, failed);
	}
	if (!spawn(p, w)) {
		memset(w, 0, sizeof(*w));
		w->fd = -1;
		p->spawn_failures++;
	}
}

/* A response arrived in full: hand it to its job. */
static void
complete(struct sk_pool *p, struct worker *w,
         void (*done)(void *, struct sk_job *), void *ctx)
{
	struct sk_job *j = w->head;

	w->head = j->next;
	if (!w->head)
		w->tail = NULL;
	w->n_jobs--;
	j->next = NULL;
	j->result = w->resp_buf;
	j->result_len = w->resp.len;
	w->resp_buf = NULL;
	w->resp_hdr_got = 0;
	w->resp_got = 0;
	w->started = 0;
	mark_started(w);
	p->pending--;
	done(ctx, j);
}

/* Read what the worker sent. False when it is gone or misbehaves. */
static bool
read_some(struct sk_pool *p, struct worker *w,
          void (*done)(void *, struct sk_job *), void *ctx, int *completed)
{
	size_t max = (size_t)p->lim.message_bytes * 4 + ((size_t)64 << 20);

	for (;;) {
		ssize_t r;
		if (w->resp_hdr_got < sizeof(w->resp)) {
			r = read(w->fd, (char *)&w->resp + w->resp_hdr_got,
			         sizeof(w->resp) - w->resp_hdr_got);
		} else {
			r = read(w->fd, w->resp_buf + w->resp_got,
			         w->resp.len - w->resp_got);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		if (r == 0)
			return false;
		if (w->resp_hdr_got < sizeof(w->resp)) {
			w->resp_hdr_got += (size_t)r;
			if (w->resp_hdr_got < sizeof(w->resp))
				continue;
			if (w->resp.magic != RESP_MAGIC || !w->head ||
			    w->resp.seq != w->head->seq || w->resp.len > max)
				return false;
			w->resp_buf = sk_xmalloc(w->resp.len + 1);
			w->resp_got = 0;
		} else {
			w->resp_got += (size_t)r;
		}
		if (w->resp_got == w->resp.len) {
			w->resp_buf[w->resp.len] = '\0';
			complete(p, w, done, ctx);
			(*completed)++;
		}
	}
}

enum sk_status
sk_pool_run(struct sk_pool *p, int timeout_ms,
            void (*done)(void *ctx, struct sk_job *job), void *ctx,
            struct sk_err *err)
{
	double deadline =
	    timeout_ms < 0 ? 0 : now_seconds() + timeout_ms / 1000.0;
	struct pollfd *pfd = sk_xcalloc(p->n, sizeof(*pfd));
	int completed = 0;

	for (;;) {
		double now, wait = 1.0;
		int np = 0, alive = 0;

		/* Replace workers that could not be started before. */
		for (unsigned i = 0; i < p->n; i++)
			if (p->w[i].fd < 0 && spawn(p, &p->w[i]))
				p->spawn_failures = 0;
		assign(p);
		for (unsigned i = 0; i < p->n; i++) {
			struct worker *w = &p->w[i];
			pfd[i].fd = w->fd;
			pfd[i].events = POLLIN | (w->writing ? POLLOUT : 0);
			pfd[i].revents = 0;
			alive += w->fd >= 0;
		}
		if (!alive && p->pending) {
			free(pfd);
			return sk_err_set(err, SK_EIO,
			                  "no parser worker can be started");
		}
		now = now_seconds();
		if (timeout_ms >= 0) {
			wait = deadline - now;
			if (wait < 0)
				wait = 0;
		}
		for (unsigned i = 0; i < p->n; i++)
			if (p->w[i].started) {
				double left =
				    p->w[i].started + p->timeout - now;
				if (left < wait)
					wait = left < 0 ? 0 : left;
			}
		if (p->pending == 0)
			wait = 0;
		np = poll(pfd, p->n, (int)(wait * 1000));
		if (np < 0 && errno != EINTR) {
			free(pfd);
			return sk_err_set(err, SK_EIO, "poll failed: %s",
			                  strerror(errno));
		}
		for (unsigned i = 0; np > 0 && i < p->n; i++) {
			struct worker *w = &p->w[i];
			bool ok = true;
			if (w->fd < 0 || !pfd[i].revents)
				continue;
			if (pfd[i].revents & POLLOUT)
				ok = write_some(w);
			if (ok &&
			    (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				ok = read_some(p, w, done, ctx, &completed);
			if (!ok) {
				/* Usually it has exited already; reap()
				 * kills it after a grace time if not. */
				worker_died(p, w, done, ctx);
				completed++;
			}
		}
		now = now_seconds();
		for (unsigned i = 0; i < p->n; i++) {
			struct worker *w = &p->w[i];
			if (w->fd >= 0 && w->started &&
			    now - w->started > p->timeout) {
				kill(w->pid, SIGKILL);
				w->killed_for_time = true;
				worker_died(p, w, done, ctx);
				completed++;
			}
		}
		if (p->pending == 0 || (timeout_ms < 0 && completed > 0) ||
		    (timeout_ms >= 0 && now >= deadline))
			break;
	}
	free(pfd);
	return SK_OK;
}
