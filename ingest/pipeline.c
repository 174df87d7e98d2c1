/* ingest/pipeline.c: a run — raw messages in, parsed by the worker pool in
 * parallel, stored in submission order in batched transactions together
 * with the source positions they complete. A position is only ever
 * recorded in the transaction that stores its message, so a kill at any
 * moment loses nothing (re-reading is harmless: the store deduplicates).
 * No SQL here; the store is index/'s. */
#include "ingest/private.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define MAX_POSITIONS 16  /* sources with a pending position per batch */
#define BATCH_SECONDS 1.0 /* commit at least this often while busy */
#define CATCH_UP_SECONDS 5.0 /* apply queued Xapian updates while idle */
#define PROGRESS_SECONDS 5.0

/* One submitted message, from submit to store. */
struct entry {
	struct sk_job job; /* first: the pool hands back &entry->job */
	char *raw;
	size_t len;
	bool cut; /* the reader cut it at limits.message_bytes */
	bool has_pos;
	struct sk_ingest_pos pos;
	char *maildir_name;
	bool done;
	bool crashed; /* the full parse failed; job reruns headers only */
	char crash[96];
	struct entry *next;
};

/* Counts of the open batch: they become real when it commits. */
struct batch_counts {
	int64_t stored, duplicates, flagged, held, skipped, failed;
};

struct sk_ingest {
	struct sk_index *ix;
	struct sk_limits lim;
	char *list_id;
	unsigned batch_max;
	bool quiet;
	struct sk_pool *pool;
	struct entry *head, *tail;
	size_t in_flight, bytes_in_flight, window;
	size_t bytes_window;
	uint64_t next_seq;
	struct sk_ingest_counts counts;
	struct batch_counts bc;
	double last_catch_up; /* now_seconds() of the last Xapian catch-up */
	bool in_txn;
	unsigned batch_n;
	double batch_started, last_progress;
	struct sk_source_state pos[MAX_POSITIONS];
	size_t n_pos;
	enum sk_status fatal; /* sticky: the store failed, the run is over */
	struct sk_err fatal_err;
};

static volatile sig_atomic_t stop_requested;

void
sk_ingest_stop(void)
{
	stop_requested = 1;
}

bool
sk_ingest_stopping(void)
{
	return stop_requested != 0;
}

static double
now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned
default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

enum sk_status
sk_ingest_new(struct sk_index *ix, const struct sk_ingest_settings *set,
              struct sk_ingest **ing_out, struct sk_err *err)
{
	static const struct sk_ingest_settings none;
	struct sk_ingest *ing;
	enum sk_status rc;
	unsigned workers;

	if (!set)
		set = &none;
	stop_requested = 0; /* a new run; sk_ingest_stop() ends this one */
	if (sodium_init() < 0)
		return sk_err_set(err, SK_EIO, "cannot initialise libsodium");
	ing = sk_xcalloc(1, sizeof(*ing));
	ing->ix = ix;
	ing->lim = sk_limits_effective(&set->limits);
	ing->list_id =
	    set->list_id && set->list_id[0] ? sk_xstrdup(set->list_id) : NULL;
	ing->batch_max = set->batch ? set->batch : 500;
	ing->quiet = set->quiet;
	workers = set->workers ? set->workers : default_workers();
	/* Enough in flight to keep every worker busy while we store, not so
	 * much that a run of huge messages fills memory. */
	ing->window = workers * 4 + 8;
	ing->bytes_window = (size_t)ing->lim.message_bytes * 4;
	if (ing->bytes_window < ((size_t)256 << 20))
		ing->bytes_window = (size_t)256 << 20;
	ing->last_progress = now_seconds();
	rc = sk_pool_new(workers, &ing->lim, &ing->pool, err);
	if (rc) {
		free(ing->list_id);
		free(ing);
		return rc;
	}
	/* Bulk mode: Xapian commits a batch while the next is stored. */
	sk_index_set_bulk(ix, true);
	*ing_out = ing;
	return SK_OK;
}

struct sk_index *
sk_ingest_index(struct sk_ingest *ing)
{
	return ing->ix;
}

const struct sk_limits *
sk_ingest_limits(const struct sk_ingest *ing)
{
	return &ing->lim;
}

size_t
sk_ingest_worker_pids(struct sk_ingest *ing, pid_t *pids, size_t max)
{
	return sk_pool_pids(ing->pool, pids, max);
}

void
sk_ingest_set_worker_timeout(struct sk_ingest *ing, unsigned seconds)
{
	sk_pool_set_timeout(ing->pool, seconds);
}

void
sk_ingest_counts(const struct sk_ingest *ing, struct sk_ingest_counts *out)
{
	*out = ing->counts;
}

static enum sk_status
fail(struct sk_ingest *ing, enum sk_status rc, const struct sk_err *err)
{
	if (!ing->fatal) {
		ing->fatal = rc;
		ing->fatal_err = *err;
	}
	return rc;
}

/* ---- the transaction ------------------------------------------------------
 */

static void
drop_batch(struct sk_ingest *ing)
{
	if (ing->in_txn)
		sk_index_rollback(ing->ix);
	ing->in_txn = false;
	ing->n_pos = 0;
	ing->batch_n = 0;
	memset(&ing->bc, 0, sizeof(ing->bc));
}

static enum sk_status
commit(struct sk_ingest *ing)
{
	struct sk_err err = { 0 };
	enum sk_status rc = SK_OK;

	if (!ing->in_txn)
		return SK_OK;
	/* The positions of mbox and IMAP sources, once per batch. */
	for (size_t i = 0; i < ing->n_pos && !rc; i++)
		rc = sk_index_source_set(ing->ix, &ing->pos[i], &err);
	if (!rc)
		rc = sk_index_commit(ing->ix, &err);
	if (rc) {
		drop_batch(ing);
		return fail(ing, rc, &err);
	}
	ing->in_txn = false;
	ing->counts.stored += ing->bc.stored;
	ing->counts.duplicates += ing->bc.duplicates;
	ing->counts.flagged += ing->bc.flagged;
	ing->counts.held += ing->bc.held;
	ing->counts.skipped += ing->bc.skipped;
	ing->counts.failed += ing->bc.failed;
	memset(&ing->bc, 0, sizeof(ing->bc));
	ing->n_pos = 0;
	ing->batch_n = 0;
	return SK_OK;
}

static enum sk_status
begin(struct sk_ingest *ing)
{
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (ing->in_txn)
		return SK_OK;
	rc = sk_index_begin(ing->ix, &err);
	if (rc)
		return fail(ing, rc, &err);
	ing->in_txn = true;
	ing->batch_started = now_seconds();
	return SK_OK;
}

/* Remember where a source stands after this message. */
static enum sk_status
record_position(struct sk_ingest *ing, const struct entry *e)
{
	struct sk_err err = { 0 };
	struct sk_source_state *st = NULL;
	enum sk_status rc;

	if (!e->has_pos || e->pos.source_id <= 0)
		return SK_OK;
	if (e->maildir_name) {
		rc = sk_index_source_file_add(ing->ix, e->pos.source_id,
		                              e->maildir_name, &err);
		return rc ? fail(ing, rc, &err) : SK_OK;
	}
	for (size_t i = 0; i < ing->n_pos && !st; i++)
		if (ing->pos[i].id == e->pos.source_id)
			st = &ing->pos[i];
	if (!st) {
		if (ing->n_pos == MAX_POSITIONS) {
			rc = commit(ing);
			if (rc)
				return rc;
			rc = begin(ing);
			if (rc)
				return rc;
		}
		st = &ing->pos[ing->n_pos++];
		memset(st, 0, sizeof(*st));
		st->id = e->pos.source_id;
	}
	if (e->pos.imap_uid > 0) {
		st->uidvalidity = e->pos.imap_uidvalidity;
		st->last_uid = e->pos.imap_uid;
	} else {
		st->mbox_offset = e->pos.mbox_offset;
	}
	return SK_OK;
}

/* ---- storing ----------------------------------------------------------------
 */

/* When even the headers-only parse failed: a message built here without
 * parsing anything — a content hash for an id, the bytes as text. */
static void
bare_message(struct sk_arena *a, const struct sk_ingest *ing,
             const struct entry *e, struct sk_message *m)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(h) + 1];
	size_t n = e->len < ing->lim.body_text_bytes ? e->len
	                                             : ing->lim.body_text_bytes;

	memset(m, 0, sizeof(*m));
	crypto_hash_sha256(h, (const unsigned char *)e->raw, e->len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	m->message_id = sk_arena_printf(a, "sha256-%s@skarbnica.invalid", hex);
	m->subject = m->from_name = m->from_addr = "";
	m->to_addrs = m->cc_addrs = "";
	m->date = time(NULL);
	m->body = sk_utf8_sanitize(a, e->raw, n, &n);
	m->quote_start = n;
	m->flags = SK_MSG_MALFORMED | SK_MSG_SYNTHETIC_ID;
}

static void
progress(struct sk_ingest *ing)
{
	double now = now_seconds();
	if (ing->quiet || now - ing->last_progress < PROGRESS_SECONDS)
		return;
	ing->last_progress = now;
	sk_log(SK_LOG_INFO,
	       "ingest: %lld read, %lld stored, %lld duplicates, %lld flagged, "
	       "%lld skipped",
	       (long long)ing->counts.seen, (long long)ing->counts.stored,
	       (long long)ing->counts.duplicates,
	       (long long)ing->counts.flagged, (long long)ing->counts.skipped);
}

static enum sk_status
store_entry(struct sk_ingest *ing, struct entry *e)
{
	struct sk_arena *a = sk_arena_new(16384);
	struct sk_message m;
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (!e->job.result ||
	    sk_wire_get_message(a, e->job.result, e->job.result_len, &m,
	                        &err)) {
		bare_message(a, ing, e, &m);
		m.parse_error =
		    e->crashed ? e->crash : "parser output unreadable";
	}
	if (e->crashed) {
		m.flags |= SK_MSG_MALFORMED;
		m.parse_error = e->crash;
	}
	if (e->cut)
		m.flags |= SK_MSG_TRUNCATED;
	m.raw = e->raw;
	m.raw_len = e->len;
	rc = begin(ing);
	if (rc)
		goto out;
	if (ing->list_id && m.list_id && strcasecmp(m.list_id, ing->list_id)) {
		ing->bc.skipped++;
	} else {
		rc = sk_index_add_message(ing->ix, &m, NULL, &err);
		switch (rc) {
		case SK_OK:
			ing->bc.stored++;
			if (m.flags & SK_MSG_MALFORMED)
				ing->bc.flagged++;
			if (sk_index_added_flags(ing->ix) & SK_MSG_HELD)
				ing->bc.held++;
			break;
		case SK_EEXIST:
			ing->bc.duplicates++;
			break;
		case SK_EINVAL:
		case SK_EPARSE:
		case SK_ETOOBIG:
			/* This message only: report it and go on. */
			sk_log(SK_LOG_WARNING, "cannot store <%s>: %s",
			       m.message_id, err.msg);
			ing->bc.failed++;
			break;
		default:
			drop_batch(ing);
			rc = fail(ing, rc, &err);
			goto out;
		}
	}
	rc = record_position(ing, e);
	if (rc)
		goto out;
	if (++ing->batch_n >= ing->batch_max ||
	    now_seconds() - ing->batch_started >= BATCH_SECONDS)
		rc = commit(ing);
out:
	sk_arena_free(&a);
	progress(ing);
	return rc;
}

static void
free_entry(struct sk_ingest *ing, struct entry *e)
{
	ing->in_flight--;
	ing->bytes_in_flight -= e->len;
	free(e->job.result);
	free(e->raw);
	free(e->maildir_name);
	free(e);
}

/* Store, in order, every message whose parse is back. */
static enum sk_status
store_ready(struct sk_ingest *ing)
{
	while (ing->head && ing->head->done && !ing->fatal) {
		struct entry *e = ing->head;
		enum sk_status rc = store_entry(ing, e);
		ing->head = e->next;
		if (!ing->head)
			ing->tail = NULL;
		free_entry(ing, e);
		if (rc)
			return rc;
	}
	return ing->fatal;
}

/* The pool reports a job: done, or crashed (then rerun headers only). */
static void
job_done(void *ctx, struct sk_job *job)
{
	struct sk_ingest *ing = ctx;
	struct entry *e = (struct entry *)job;

	if (!job->result && job->mode == SK_JOB_FULL) {
		e->crashed = true;
		memcpy(e->crash, job->failure, sizeof(e->crash));
		sk_log(SK_LOG_WARNING, "%s; keeping the message raw",
		       job->failure);
		job->mode = SK_JOB_HEADERS_ONLY;
		sk_pool_push(ing->pool, job);
		return;
	}
	e->done = true;
}

static enum sk_status
pump(struct sk_ingest *ing, int timeout_ms)
{
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (ing->fatal)
		return ing->fatal;
	rc = sk_pool_run(ing->pool, timeout_ms, job_done, ing, &err);
	if (rc)
		return fail(ing, rc, &err);
	return store_ready(ing);
}

/* ---- the public run
 * ------------------------------------------------------------ */

enum sk_status
sk_ingest_submit_owned(struct sk_ingest *ing, char *raw, size_t len, bool cut,
                       const struct sk_ingest_pos *pos, struct sk_err *err)
{
	struct entry *e;
	enum sk_status rc;

	if (ing->fatal) {
		free(raw);
		if (err)
			*err = ing->fatal_err;
		return ing->fatal;
	}
	e = sk_xcalloc(1, sizeof(*e));
	e->raw = raw;
	e->len = len;
	e->cut = cut;
	e->job.seq = ing->next_seq++;
	e->job.raw = raw;
	/* A worker parses at most limits.message_bytes; the raw bytes are
	 * stored as given. */
	e->job.len =
	    len > ing->lim.message_bytes ? ing->lim.message_bytes : len;
	if (len > ing->lim.message_bytes)
		e->cut = true;
	e->job.mode = SK_JOB_FULL;
	if (pos) {
		e->has_pos = true;
		e->pos = *pos;
		if (pos->maildir_name) {
			e->maildir_name = sk_xstrdup(pos->maildir_name);
			e->pos.maildir_name = e->maildir_name;
		}
	}
	if (ing->tail)
		ing->tail->next = e;
	else
		ing->head = e;
	ing->tail = e;
	ing->in_flight++;
	ing->bytes_in_flight += len;
	ing->counts.seen++;
	sk_pool_push(ing->pool, &e->job);
	rc = SK_OK;
	while (!rc && (ing->in_flight > ing->window ||
	               ing->bytes_in_flight > ing->bytes_window))
		rc = pump(ing, -1);
	if (!rc)
		rc = pump(ing, 0);
	if (rc && err)
		*err = ing->fatal_err;
	return rc;
}

enum sk_status
sk_ingest_submit(struct sk_ingest *ing, const char *raw, size_t len,
                 const struct sk_ingest_pos *pos, struct sk_err *err)
{
	char *copy = sk_xmalloc(len + 1);
	memcpy(copy, raw, len);
	copy[len] = '\0';
	return sk_ingest_submit_owned(ing, copy, len, false, pos, err);
}

enum sk_status
sk_ingest_flush(struct sk_ingest *ing, struct sk_err *err)
{
	enum sk_status rc = SK_OK;

	while (!rc && ing->head)
		rc = pump(ing, 200);
	if (!rc)
		rc = commit(ing);
	if (rc && err)
		*err = ing->fatal_err;
	return rc;
}

enum sk_status
sk_ingest_idle(struct sk_ingest *ing, struct sk_err *err)
{
	enum sk_status rc = pump(ing, 0);
	double now = now_seconds();

	if (!rc && ing->in_txn && now - ing->batch_started >= BATCH_SECONDS)
		rc = commit(ing);
	/* While no mail comes, bring Xapian up to date with what the web
	 * changed (notes, curation): they queue it in the store. */
	if (!rc && !ing->in_txn && now - ing->last_catch_up >= CATCH_UP_SECONDS) {
		ing->last_catch_up = now;
		rc = sk_index_xapian_catch_up(ing->ix, &ing->fatal_err);
	}
	if (rc && err)
		*err = ing->fatal_err;
	return rc;
}

enum sk_status
sk_ingest_finish(struct sk_ingest **ingp, struct sk_err *err)
{
	struct sk_ingest *ing = *ingp;
	enum sk_status rc;

	if (!ing)
		return SK_OK;
	rc = sk_ingest_flush(ing, err);
	if (rc)
		drop_batch(ing);
	/* The last batch's Xapian commit runs in the background: wait for
	 * it here so that its failure is this run's error. */
	if (!rc && (rc = sk_index_xapian_catch_up(ing->ix, &ing->fatal_err)) &&
	    err)
		*err = ing->fatal_err;
	sk_index_set_bulk(ing->ix, false);
	sk_pool_free(&ing->pool);
	/* After a fatal error the rest was never stored; its positions were
	 * not recorded either, so the next run reads it again. */
	while (ing->head) {
		struct entry *e = ing->head;
		ing->head = e->next;
		free_entry(ing, e);
	}
	progress(ing);
	free(ing->list_id);
	free(ing);
	*ingp = NULL;
	return rc;
}

enum sk_status
sk_ingest_fd(struct sk_ingest *ing, int fd, struct sk_err *err)
{
	size_t max = ing->lim.message_bytes, len = 0, cap = 65536;
	char *buf = sk_xmalloc(cap + 1);
	bool cut = false;
	enum sk_status rc;

	for (;;) {
		char tmp[65536];
		ssize_t r;
		if (len == cap && cap < max) {
			cap = cap * 2 > max ? max : cap * 2;
			buf = sk_xrealloc(buf, cap + 1);
		}
		/* Past the limit keep reading (the MTA must see us take it
		 * all) but keep nothing more. */
		if (len < cap)
			r = read(fd, buf + len, cap - len);
		else
			r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return sk_err_set(err, SK_EIO,
			                  "cannot read the message: %s",
			                  strerror(errno));
		}
		if (r == 0)
			break;
		if (len < cap)
			len += (size_t)r;
		else
			cut = true;
	}
	if (len == 0) {
		free(buf);
		return sk_err_set(err, SK_EINVAL, "empty message");
	}
	buf[len] = '\0';
	rc = sk_ingest_submit_owned(ing, buf, len, cut, NULL, err);
	if (!rc)
		rc = sk_ingest_flush(ing, err);
	return rc;
}
