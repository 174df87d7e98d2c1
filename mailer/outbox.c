/* mailer/outbox.c: the sending loop — one mailer per data directory
 * (DATA/mailer.lock), recovery of rows a dead mailer left in 'sending',
 * then claim, send and record, row after row, over one SMTP session.
 * The exactly-once rule it implements is described in sk_mailer.h; the
 * SQL lives in index/outbox.c. This is the layer that logs. */
#include "mailer/sk_mailer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_RETRY_BASE 60
#define DEFAULT_RETRY_MAX (4 * 3600)
#define DEFAULT_GIVE_UP (3 * 24 * 3600)
#define DEFAULT_POLL 15
#define SESSION_IDLE 30	     /* close an unused SMTP session after this */
#define CONNECT_BACKOFF_MAX 600

struct run {
	const struct sk_mailer_opts *o;
	struct sk_index *ix;
	struct sk_smtp *smtp;
	time_t smtp_used;
	struct sk_mailer_counts *counts;
	int64_t row_id; /* the row being sent (for the pre-dot mark) */
	bool predot_failed;
};

static time_t
now_of(const struct sk_mailer_opts *o)
{
	return o->clock ? o->clock() : time(NULL);
}

static bool
stopping(const struct sk_mailer_opts *o)
{
	return o->stop && *o->stop;
}

/* Sleep up to secs, waking at once when asked to stop. */
static void
nap(const struct sk_mailer_opts *o, time_t secs)
{
	for (time_t i = 0; i < secs * 10 && !stopping(o); i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static enum sk_status
take_lock(const char *data_dir, int *fd_out, struct sk_err *err)
{
	char path[4096], pid[32];
	int fd;

	if (snprintf(path, sizeof(path), "%s/mailer.lock", data_dir) >=
	    (int)sizeof(path))
		return sk_err_set(err, SK_EINVAL, "data directory path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sk_err_set(err, SK_EIO, "cannot open '%s': %s", path,
				  strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return sk_err_set(err, SK_EAGAIN,
					  "another mailer is running on '%s'",
					  data_dir);
		return sk_err_set(err, SK_EIO, "cannot lock '%s': %s", path,
				  strerror(e));
	}
	/* For people looking: who holds it. */
	if (ftruncate(fd, 0) == 0) {
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (write(fd, pid, (size_t)n) < 0)
			sk_log(SK_LOG_DEBUG, "cannot write %s", path);
	}
	*fd_out = fd;
	return SK_OK;
}

/* The delay before attempt number attempts + 1: base, 2 base, 4 base, ...
 * up to the cap. */
static time_t
backoff(const struct sk_mailer_opts *o, int attempts)
{
	time_t base = o->retry_base_seconds ? o->retry_base_seconds
					    : DEFAULT_RETRY_BASE;
	time_t cap = o->retry_max_seconds ? o->retry_max_seconds
					  : DEFAULT_RETRY_MAX;
	time_t d = base;
	for (int i = 1; i < attempts && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

static void
hook(struct run *r, enum sk_mailer_step step, int64_t id)
{
	if (r->o->test_hook)
		r->o->test_hook(step, id, r->o->test_ctx);
}

/* Called by sk_smtp_send before the final dot: commit dot_at. */
static enum sk_status
predot(void *ctx, struct sk_err *err)
{
	struct run *r = ctx;
	enum sk_status rc =
		sk_index_outbox_mark_dot(r->ix, r->row_id, now_of(r->o), err);
	if (rc) {
		r->predot_failed = true;
		return sk_err_wrap(err, "cannot record the end of data");
	}
	hook(r, SK_MAILER_PREDOT, r->row_id);
	return SK_OK;
}

/* A mark that must land: the store may be busy for a while (ingest). */
static enum sk_status
retry_busy(struct run *r, enum sk_status (*fn)(struct run *, void *,
					       struct sk_err *),
	   void *ctx, struct sk_err *err)
{
	enum sk_status rc = SK_OK;
	for (int i = 0; i < 5; i++) {
		rc = fn(r, ctx, err);
		if (rc != SK_EAGAIN)
			break;
		nap(r->o, 1);
	}
	return rc;
}

struct mark {
	const struct sk_outbox_row *row;
	const char *text;
	time_t next;
	bool uncertain;
	int what; /* 0 sent, 1 retry, 2 failed */
};

static enum sk_status
do_mark(struct run *r, void *vctx, struct sk_err *err)
{
	struct mark *m = vctx;
	switch (m->what) {
	case 0:
		return sk_index_outbox_mark_sent(r->ix, m->row->id, now_of(r->o),
						 m->text, err);
	case 1:
		return sk_index_outbox_mark_retry(r->ix, m->row->id, m->next,
						  m->text, err);
	default:
		return sk_index_outbox_mark_failed(r->ix, m->row->id,
						   m->uncertain, m->text, err);
	}
}

/* Send one claimed row and record what happened. A non-SK_OK return means
 * the store could not record it: the run must stop (a restart recovers the
 * row by the rule). */
static enum sk_status
send_row(struct run *r, struct sk_arena *a, const struct sk_outbox_row *row,
	 struct sk_err *err)
{
	const struct sk_mailer_opts *o = r->o;
	struct sk_smtp_result res;
	struct sk_err serr = { 0 };
	struct mark m = { .row = row };
	enum sk_status rc;
	time_t now;

	r->row_id = row->id;
	r->predot_failed = false;
	rc = sk_smtp_send(r->smtp, row->sender, row->recipients, row->raw,
			  row->raw_len, predot, r, &res, &serr);
	r->smtp_used = now_of(o);
	now = now_of(o);
	if (rc == SK_OK) {
		hook(r, SK_MAILER_REPLIED, row->id);
		m.what = 0;
		m.text = res.reply;
		sk_log(SK_LOG_INFO, "sent <%s> to %s: %s", row->message_id,
		       row->recipients, res.reply);
		r->counts->sent++;
	} else if (rc == SK_EIO && res.after_dot) {
		m.what = 2;
		m.uncertain = true;
		m.text = sk_arena_printf(
			a,
			"uncertain: %s; not sent again automatically (check, "
			"then requeue by hand)",
			serr.msg);
		sk_log(SK_LOG_ERR, "<%s>: %s", row->message_id, m.text);
		r->counts->uncertain++;
	} else if (rc == SK_EAGAIN || r->predot_failed) {
		int attempts = row->attempts + 1;
		time_t give_up = o->give_up_seconds ? o->give_up_seconds
						    : DEFAULT_GIVE_UP;
		if (now - row->created_at >= give_up) {
			m.what = 2;
			m.text = sk_arena_printf(a,
						 "gave up after %d attempts: %s",
						 attempts, serr.msg);
			sk_log(SK_LOG_ERR, "<%s>: %s", row->message_id, m.text);
			r->counts->failed++;
		} else {
			m.what = 1;
			m.next = now + backoff(o, attempts);
			m.text = serr.msg;
			sk_log(SK_LOG_WARNING,
			       "<%s>: %s; attempt %d failed, next in %lld s",
			       row->message_id, serr.msg, attempts,
			       (long long)(m.next - now));
			r->counts->retried++;
		}
	} else {
		/* 5xx, a bad envelope: permanent, shown to the coordinator
		 * with the server's reply. */
		m.what = 2;
		m.text = serr.msg;
		sk_log(SK_LOG_ERR, "<%s> not sent: %s", row->message_id,
		       serr.msg);
		r->counts->failed++;
	}
	if (!sk_smtp_usable(r->smtp))
		sk_smtp_close(&r->smtp);
	rc = retry_busy(r, do_mark, &m, err);
	if (rc)
		sk_err_wrap(err, "cannot record the fate of <%s>",
			    row->message_id);
	return rc;
}

/* Open the session. On failure the due rows say why (last_error). */
static enum sk_status
connect_smtp(struct run *r, struct sk_err *err)
{
	enum sk_status rc = sk_smtp_open(&r->o->smtp, &r->smtp, err);
	if (rc) {
		struct sk_err e2 = { 0 };
		if (sk_index_outbox_note_error(r->ix, now_of(r->o),
					       err ? err->msg : "", &e2))
			sk_log(SK_LOG_WARNING, "outbox: %s", e2.msg);
		return rc;
	}
	r->smtp_used = now_of(r->o);
	return SK_OK;
}

static enum sk_status
loop(struct run *r, struct sk_err *err)
{
	const struct sk_mailer_opts *o = r->o;
	time_t poll = o->poll_seconds ? o->poll_seconds : DEFAULT_POLL;
	time_t connect_wait = 15;
	enum sk_status rc;

	while (!stopping(o)) {
		struct sk_outbox_row row;
		struct sk_arena *a;
		time_t when = 0, now = now_of(o);

		rc = sk_index_outbox_next_due(r->ix, &when, err);
		if (rc == SK_EAGAIN && !o->once) {
			/* The store is busy (ingest's batch): look again. */
			nap(o, 1);
			continue;
		}
		if (rc && rc != SK_ENOTFOUND)
			return rc;
		if (rc == SK_ENOTFOUND || when > now) {
			if (o->once)
				return SK_OK;
			if (r->smtp && now - r->smtp_used >= SESSION_IDLE)
				sk_smtp_close(&r->smtp);
			nap(o, rc == SK_ENOTFOUND || when - now > poll
				       ? poll
				       : when - now);
			continue;
		}
		if (!r->smtp) {
			rc = connect_smtp(r, err);
			if (rc) {
				if (o->once)
					return rc;
				sk_log(rc == SK_ESMTP || rc == SK_EINVAL
					       ? SK_LOG_ERR
					       : SK_LOG_WARNING,
				       "mailer: %s; trying again in %lld s",
				       err ? err->msg : "",
				       (long long)connect_wait);
				nap(o, connect_wait);
				if (connect_wait < CONNECT_BACKOFF_MAX)
					connect_wait *= 2;
				continue;
			}
			connect_wait = 15;
		}
		a = sk_arena_new(0);
		rc = sk_index_outbox_claim(r->ix, a, now, &row, err);
		if (rc == SK_ENOTFOUND || (rc == SK_EAGAIN && !o->once)) {
			sk_arena_free(&a);
			if (rc == SK_EAGAIN)
				nap(o, 1);
			continue;
		}
		if (rc) {
			sk_arena_free(&a);
			return rc;
		}
		hook(r, SK_MAILER_CLAIMED, row.id);
		rc = send_row(r, a, &row, err);
		sk_arena_free(&a);
		if (rc)
			return rc;
	}
	return SK_OK;
}

enum sk_status
sk_mailer_run_opts(const char *data_dir, const struct sk_mailer_opts *o,
		   struct sk_mailer_counts *counts, struct sk_err *err)
{
	struct sk_mailer_counts local = { 0 };
	struct run r = { .o = o, .counts = counts ? counts : &local };
	int64_t requeued = 0, uncertain = 0;
	enum sk_status rc;
	int lock = -1;

	memset(r.counts, 0, sizeof(*r.counts));
	rc = take_lock(data_dir, &lock, err);
	if (rc)
		return rc;
	rc = sk_index_open(data_dir, SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN, &r.ix,
			   err);
	if (!rc)
		rc = sk_index_outbox_recover(r.ix, now_of(o), &requeued,
					     &uncertain, err);
	if (!rc && (requeued || uncertain)) {
		sk_log(uncertain ? SK_LOG_ERR : SK_LOG_WARNING,
		       "mailer: a previous mailer stopped mid-send: %lld "
		       "message(s) queued again, %lld marked uncertain",
		       (long long)requeued, (long long)uncertain);
		r.counts->recovered = requeued + uncertain;
		r.counts->uncertain += uncertain;
	}
	if (!rc)
		rc = loop(&r, err);
	sk_smtp_close(&r.smtp);
	sk_index_close(&r.ix);
	close(lock);
	return rc;
}

enum sk_status
sk_mailer_run(const char *data_dir, const struct sk_config *cfg, bool once,
	      volatile int *stop, struct sk_mailer_counts *counts,
	      struct sk_err *err)
{
	struct sk_mailer_opts o = { .once = once, .stop = stop };
	char *password = NULL;
	enum sk_status rc;

	rc = sk_smtp_settings_from_config(&o.smtp, cfg, &password, err);
	if (!rc)
		rc = sk_mailer_run_opts(data_dir, &o, counts, err);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return rc;
}
