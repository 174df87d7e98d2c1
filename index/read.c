/* index/read.c: what the web shows — topics, partners, thread lists, a
 * thread in reading order, one message, its raw bytes. Held mail is shown
 * only to coordinators; the caller hides addresses from anonymous viewers. */
#include "index/private.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* ?9 is the viewer's coordinator flag in every statement below. */
#define VISIBLE(m) "(?9 OR " m ".flags & 8 = 0 OR " m ".approved_at IS NOT NULL)"

static const char *
col_str(struct sk_arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? sk_arena_strdup(a, (const char *)s) : NULL;
}

static const char *
col_str0(struct sk_arena *a, sqlite3_stmt *st, int i)
{
	const char *s = col_str(a, st, i);
	return s ? s : "";
}

static void
bind_viewer(sqlite3_stmt *st, const struct sk_viewer *v)
{
	sqlite3_bind_int(st, 9, v && v->coordinator);
}

static enum sk_status
slug_id(struct sk_index *ix, const char *table_sql, const char *slug,
	int64_t *out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(ix, table_sql, err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return SK_OK;
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "no '%s'", slug);
	return sk_ix_error(ix, rc, "look up slug", err);
}

/* Topic slugs of a thread, into the arena. */
void
sk_index_thread_topic_slugs(struct sk_index *ix, struct sk_arena *a, int64_t thread,
	      const char ***out, size_t *n_out)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT t.slug FROM thread_topics tt JOIN topics t "
		"ON t.id = tt.topic_id WHERE tt.thread_id = ?1 "
		"AND tt.removed = 0 ORDER BY tt.confidence DESC, t.position",
		NULL);
	const char **v = NULL;
	size_t n = 0, cap = 0;
	*out = NULL;
	*n_out = 0;
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, thread);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			const char **nv;
			cap = cap ? cap * 2 : 4;
			nv = sk_arena_alloc(a, cap * sizeof(*nv));
			if (n)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
		}
		v[n++] = col_str(a, st, 0);
	}
	sqlite3_reset(st);
	*out = v;
	*n_out = n;
}

enum sk_status
sk_index_partners(struct sk_index *ix, struct sk_arena *a,
		  struct sk_partner_row **rows_out, size_t *n_out,
		  struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT p.id, p.slug, p.name, p.kind, (SELECT count(*) FROM "
		"messages m WHERE m.partner_id = p.id) FROM partners p "
		"ORDER BY p.name",
		err);
	struct sk_partner_row *rows;
	size_t n = 0, cap = 16;
	int rc;

	if (!st)
		return err->code;
	rows = sk_arena_alloc(a, cap * sizeof(*rows));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct sk_partner_row *nr = sk_arena_alloc(a, 2 * cap * sizeof(*nr));
			memcpy(nr, rows, n * sizeof(*nr));
			rows = nr;
			cap *= 2;
		}
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].slug = col_str0(a, st, 1);
		rows[n].name = col_str0(a, st, 2);
		rows[n].kind = col_str0(a, st, 3);
		rows[n].messages = sqlite3_column_int64(st, 4);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "list partners", err);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

/* One query text per filter combination: the statement cache is keyed by
 * the SQL's address, so these are separate literals. ?1 topic id, ?2
 * partner id (0 = any), ?3 limit, ?4 offset, ?9 coordinator. */
/* A thread is visible unless all its mail is held: the held set is small
 * and has a partial index (messages_held), so test that set instead of
 * looking for a visible message in every thread. The filters are IN
 * subqueries, evaluated once. */
#define HELD "flags & 8 AND approved_at IS NULL"
#define THREADS_FROM                                                         \
	"FROM threads th WHERE (?1 = 0 OR th.id IN (SELECT thread_id FROM "  \
	"thread_topics WHERE topic_id = ?1 AND removed = 0)) AND (?2 = 0 "   \
	"OR th.id IN (SELECT thread_id FROM messages WHERE partner_id = "    \
	"?2)) AND (?9 OR th.id NOT IN (SELECT thread_id FROM messages "      \
	"WHERE " HELD ") OR EXISTS (SELECT 1 FROM messages m WHERE "         \
	"m.thread_id = th.id AND " VISIBLE("m") "))"

enum sk_status
sk_index_threads(struct sk_index *ix, struct sk_arena *a,
		 const struct sk_viewer *v, const struct sk_thread_filter *f,
		 struct sk_thread_row **rows_out, size_t *n_out,
		 int64_t *total_out, struct sk_err *err)
{
	int64_t topic = 0, partner = 0;
	size_t limit = f->limit ? f->limit : 20, n = 0;
	struct sk_thread_row *rows;
	struct sk_ix_version ver;
	sqlite3_stmt *st;
	enum sk_status rc;
	int src;

	if (limit > 500)
		limit = 500;
	if (f->topic && (rc = slug_id(ix, "SELECT id FROM topics WHERE slug = ?1",
				      f->topic, &topic, err)))
		return rc;
	if (f->partner &&
	    (rc = slug_id(ix, "SELECT id FROM partners WHERE slug = ?1",
			  f->partner, &partner, err)))
		return rc;

	/* The count walks every thread (23 M instructions a topic page at
	 * 50k): kept per handle until the store changes (facets.c). */
	if (!sk_index_count_cached(ix, topic, partner, v && v->coordinator,
				   total_out, &ver)) {
		st = sk_ix_stmt(ix, "SELECT count(*) " THREADS_FROM, err);
		if (!st)
			return err->code;
		sqlite3_bind_int64(st, 1, topic);
		sqlite3_bind_int64(st, 2, partner);
		bind_viewer(st, v);
		src = sqlite3_step(st);
		*total_out = src == SQLITE_ROW ? sqlite3_column_int64(st, 0)
					       : 0;
		sqlite3_reset(st);
		if (src != SQLITE_ROW)
			return sk_ix_error(ix, src, "count threads", err);
		sk_index_count_keep(ix, topic, partner, v && v->coordinator,
				    *total_out, &ver);
	}

	st = sk_ix_stmt(ix,
			"SELECT th.id, th.subject, th.first_date, th.last_date, "
			"th.message_count, (SELECT from_name FROM messages "
			"WHERE thread_id = th.id ORDER BY date LIMIT 1) "
			THREADS_FROM " ORDER BY th.last_date DESC, th.id DESC "
			"LIMIT ?3 OFFSET ?4",
			err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, topic);
	sqlite3_bind_int64(st, 2, partner);
	sqlite3_bind_int64(st, 3, (int64_t)limit);
	sqlite3_bind_int64(st, 4, (int64_t)f->offset);
	bind_viewer(st, v);
	rows = sk_arena_alloc(a, limit * sizeof(*rows));
	while ((src = sqlite3_step(st)) == SQLITE_ROW && n < limit) {
		struct sk_thread_row *r = &rows[n++];
		r->id = sqlite3_column_int64(st, 0);
		r->subject = col_str0(a, st, 1);
		r->first_date = (time_t)sqlite3_column_int64(st, 2);
		r->last_date = (time_t)sqlite3_column_int64(st, 3);
		r->messages = sqlite3_column_int64(st, 4);
		r->first_from = col_str0(a, st, 5);
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		return sk_ix_error(ix, src, "list threads", err);
	for (size_t i = 0; i < n; i++)
		sk_index_thread_topic_slugs(ix, a, rows[i].id, &rows[i].topics,
			      &rows[i].n_topics);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

/* ---- messages ------------------------------------------------------------- */

#define MESSAGE_COLS                                                         \
	"SELECT m.id, m.message_id, m.thread_id, coalesce(m.parent_id, 0), " \
	"m.subject, m.from_name, m.from_addr, m.to_addrs, m.cc_addrs, "      \
	"m.date, m.body, coalesce(m.quote_start, -1), p.slug, p.name, "      \
	"m.flags & (CASE WHEN m.approved_at IS NULL THEN -1 ELSE ~8 END), "  \
	"m.parse_error FROM messages m LEFT JOIN partners p ON "             \
	"p.id = m.partner_id " /* SK_MSG_HELD only while not approved */

static void
fill_row(struct sk_arena *a, sqlite3_stmt *st, struct sk_message_row *r)
{
	int64_t q;
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->message_id = col_str0(a, st, 1);
	r->thread_id = sqlite3_column_int64(st, 2);
	r->parent_id = sqlite3_column_int64(st, 3);
	r->subject = col_str0(a, st, 4);
	r->from_name = col_str0(a, st, 5);
	r->from_addr = col_str0(a, st, 6);
	r->to_addrs = col_str0(a, st, 7);
	r->cc_addrs = col_str0(a, st, 8);
	r->date = (time_t)sqlite3_column_int64(st, 9);
	r->body = col_str0(a, st, 10);
	q = sqlite3_column_int64(st, 11);
	r->quote_start = q < 0 || (size_t)q > strlen(r->body)
				 ? strlen(r->body)
				 : (size_t)q;
	r->partner_slug = col_str(a, st, 12);
	r->partner_name = col_str(a, st, 13);
	r->flags = (unsigned)sqlite3_column_int(st, 14);
	r->parse_error = col_str(a, st, 15);
}

static void
load_attachments(struct sk_index *ix, struct sk_arena *a,
		 struct sk_message_row *r)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT id, position, filename, content_type, sha256, size, "
		"extract_status FROM attachments WHERE message_id = ?1 "
		"ORDER BY position",
		NULL);
	struct sk_attachment_row *v = NULL;
	size_t n = 0, cap = 0;
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, r->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			struct sk_attachment_row *nv;
			cap = cap ? cap * 2 : 4;
			nv = sk_arena_alloc(a, cap * sizeof(*nv));
			if (n)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
		}
		v[n].id = sqlite3_column_int64(st, 0);
		v[n].position = sqlite3_column_int(st, 1);
		v[n].filename = col_str0(a, st, 2);
		v[n].content_type = col_str0(a, st, 3);
		v[n].sha256 = col_str0(a, st, 4);
		v[n].size = sqlite3_column_int64(st, 5);
		v[n].extract_status = col_str0(a, st, 6);
		n++;
	}
	sqlite3_reset(st);
	r->attachments = v;
	r->n_attachments = n;
}

enum sk_status
sk_index_message(struct sk_index *ix, struct sk_arena *a,
		 const struct sk_viewer *v, const char *message_id,
		 struct sk_message_row *out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(ix,
				      MESSAGE_COLS "WHERE m.message_id = ?1 "
						   "AND " VISIBLE("m") " ORDER BY m.id LIMIT 1",
				      err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	bind_viewer(st, v);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		fill_row(a, st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "no message <%s>",
				  message_id);
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "read message", err);
	load_attachments(ix, a, out);
	sk_index_thread_topic_slugs(ix, a, out->thread_id, &out->topics, &out->n_topics);
	return SK_OK;
}

enum sk_status
sk_index_message_raw(struct sk_index *ix, struct sk_arena *a,
		     const struct sk_viewer *v, const char *message_id,
		     const char **raw_out, size_t *len_out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(
		ix,
		"SELECT r.raw FROM messages m JOIN raw_messages r ON "
		"r.id = m.raw_id WHERE m.message_id = ?1 AND " VISIBLE("m")
		" ORDER BY m.id LIMIT 1",
		err);
	int rc;
	if (!st)
		return err->code;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	bind_viewer(st, v);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		*raw_out = sk_arena_memdup(a, sqlite3_column_blob(st, 0), n);
		*len_out = n;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "no message <%s>",
				  message_id);
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "read raw message", err);
	return SK_OK;
}

struct id_pos {
	int64_t id;
	size_t pos;
};

static int
cmp_id_pos(const void *x, const void *y)
{
	const struct id_pos *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Order a thread's messages depth-first (parents before children, siblings
 * by date) without recursion: thread depth is attacker-controlled. in[] is
 * sorted by date. */
static void
order_thread(struct sk_arena *a, struct sk_message_row *in, size_t n,
	     struct sk_message_row *out)
{
	struct id_pos *byid = sk_arena_alloc(a, n * sizeof(*byid));
	size_t *parent = sk_arena_alloc(a, n * sizeof(size_t));
	size_t *first_child = sk_arena_alloc(a, (n + 1) * sizeof(size_t));
	size_t *children = sk_arena_alloc(a, n * sizeof(size_t));
	size_t *fill = sk_arena_alloc(a, (n + 1) * sizeof(size_t));
	size_t *stack = sk_arena_alloc(a, n * sizeof(size_t));
	int *depth = sk_arena_alloc(a, n * sizeof(int));
	bool *done = sk_arena_alloc(a, n * sizeof(bool));
	size_t sp = 0, o = 0;

	for (size_t i = 0; i < n; i++)
		byid[i] = (struct id_pos){ in[i].id, i };
	qsort(byid, n, sizeof(*byid), cmp_id_pos);
	/* parent[i] == n: a root (no parent, or a parent not shown). */
	for (size_t i = 0; i < n; i++) {
		struct id_pos key = { in[i].parent_id, 0 }, *hit = NULL;
		if (in[i].parent_id)
			hit = bsearch(&key, byid, n, sizeof(*byid), cmp_id_pos);
		parent[i] = hit && hit->pos != i ? hit->pos : n;
		first_child[parent[i]]++;
	}
	/* Children of each message, in date order (counting sort). */
	for (size_t i = 0, sum = 0; i <= n; i++) {
		size_t c = first_child[i];
		first_child[i] = fill[i] = sum;
		sum += c;
	}
	for (size_t i = 0; i < n; i++)
		if (parent[i] < n)
			children[fill[parent[i]]++] = i;
	for (size_t i = n; i-- > 0;)
		if (parent[i] == n) {
			depth[sp] = 0;
			stack[sp++] = i;
		}
	while (sp) {
		size_t i = stack[--sp];
		int d = depth[sp];
		if (done[i])
			continue;
		done[i] = true;
		out[o] = in[i];
		out[o].depth = d;
		o++;
		for (size_t k = fill[i]; k-- > first_child[i];)
			if (!done[children[k]] && sp < n) {
				depth[sp] = d + 1;
				stack[sp++] = children[k];
			}
	}
	/* A forged parent loop leaves messages unreached: append them. */
	for (size_t i = 0; i < n; i++)
		if (!done[i])
			out[o++] = in[i];
}

enum sk_status
sk_index_thread(struct sk_index *ix, struct sk_arena *a,
		const struct sk_viewer *v, int64_t thread_id,
		struct sk_thread_row *thread_out, struct sk_message_row **msgs_out,
		size_t *n_out, struct sk_err *err)
{
	sqlite3_stmt *st = sk_ix_stmt(ix,
				      MESSAGE_COLS "WHERE m.thread_id = ?1 AND " VISIBLE("m")
						   " ORDER BY m.date, m.id",
				      err);
	struct sk_message_row *rows = NULL, *ordered;
	size_t n = 0, cap = 0;
	int rc;

	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, thread_id);
	bind_viewer(st, v);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct sk_message_row *nr;
			cap = cap ? cap * 2 : 16;
			nr = sk_arena_alloc(a, cap * sizeof(*nr));
			if (n)
				memcpy(nr, rows, n * sizeof(*nr));
			rows = nr;
		}
		fill_row(a, st, &rows[n++]);
		if (n > 10000)
			break; /* a page, not the whole of a runaway thread */
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "read thread", err);
	if (!n)
		return sk_err_set(err, SK_ENOTFOUND, "no thread %lld",
				  (long long)thread_id);
	for (size_t i = 0; i < n; i++)
		load_attachments(ix, a, &rows[i]);
	ordered = sk_arena_alloc(a, n * sizeof(*ordered));
	order_thread(a, rows, n, ordered);

	st = sk_ix_stmt(ix,
			"SELECT subject, first_date, last_date, message_count "
			"FROM threads WHERE id = ?1",
			err);
	if (!st)
		return err->code;
	sqlite3_bind_int64(st, 1, thread_id);
	memset(thread_out, 0, sizeof(*thread_out));
	thread_out->id = thread_id;
	if (sqlite3_step(st) == SQLITE_ROW) {
		thread_out->subject = col_str0(a, st, 0);
		thread_out->first_date = (time_t)sqlite3_column_int64(st, 1);
		thread_out->last_date = (time_t)sqlite3_column_int64(st, 2);
		thread_out->messages = (int64_t)n;
	}
	sqlite3_reset(st);
	thread_out->first_from = ordered[0].from_name;
	sk_index_thread_topic_slugs(ix, a, thread_id, &thread_out->topics,
		      &thread_out->n_topics);
	*msgs_out = ordered;
	*n_out = n;
	return SK_OK;
}
