/* index/curate.c: what coordinators do with the archive — topic decisions
 * on threads, split and join, "start here" pins, approving held mail,
 * good-practice records — each change audited with its old and new values
 * (JSON) and reversible; and what the web reads of it: pins, practice
 * records, the onboarding path, the glossary, quarters, the audit trail.
 *
 * Statements here are prepared per call (sqlite3_prepare_v2, finalize):
 * curation is rare, page reads run a handful of them, and the handle's
 * statement cache (store.c) has a fixed number of slots.
 *
 * Undo rule: an audit row lists the objects it touched ("thread:12
 * thread:57 topic:rodo"); it can be undone while no later change that is
 * not undone touches one of them. Undo restores the old values only after
 * checking that the current ones are the new values it recorded. */
#include "index/private.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ?9 is the viewer's coordinator flag wherever VISIBLE is used. */
#define VISIBLE(m) "(?9 OR " m ".flags & 8 = 0 OR " m ".approved_at IS NOT NULL)"
/* A thread is visible with a visible message. Held mail is rare: a thread
 * without any (the partial indexes messages_held and messages_held_date
 * list them, read once per statement) needs no look at its messages. */
#define HELD "flags & 8 AND approved_at IS NULL"
#define THREAD_VISIBLE                                                       \
	"(?9 OR th.id NOT IN (SELECT thread_id FROM messages WHERE " HELD    \
	") OR EXISTS (SELECT 1 FROM messages vm WHERE vm.thread_id = th.id " \
	"AND " VISIBLE("vm") "))"
#define THREAD_COLS                                                          \
	"th.id, th.subject, th.first_date, th.last_date, th.message_count, " \
	"(SELECT from_name FROM messages WHERE thread_id = th.id "           \
	"ORDER BY date, id LIMIT 1)"

#define TITLE_MAX 300
#define FIELD_MAX (64 * 1024)
#define PREFILL_MAX 4000 /* bytes of mail text copied into a draft */

/* A text field a coordinator typed: valid UTF-8, at most max characters
 * (the forms say "znaków"), no control characters but line breaks and
 * tabs where the field has lines. NULL is empty. */
static enum sk_status
check_field(const char *s, size_t max, bool one_line, const char *field,
	    struct sk_err *err)
{
	size_t n = s ? strlen(s) : 0;
	if (n && !sk_utf8_valid(s, n))
		return sk_err_set(err, SK_EINVAL,
				  "Pole „%s” zawiera nieprawidłowe znaki.",
				  field);
	if (n > max && sk_utf8_count(s, n) > max)
		return sk_err_set(err, SK_ETOOBIG,
				  "Pole „%s” jest za długie (najwyżej %zu "
				  "znaków).",
				  field, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 &&
		    (one_line || (s[i] != '\n' && s[i] != '\r' && s[i] != '\t')))
			return sk_err_set(err, SK_EINVAL,
					  "Pole „%s” zawiera znaki sterujące.",
					  field);
	return SK_OK;
}

/* ---- statements ------------------------------------------------------------ */

static sqlite3_stmt *
prep(struct sk_index *ix, const char *sql, struct sk_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		sk_ix_error(ix, rc, "prepare", err);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Bind the values of fmt to ?1, ?2...: 'i' int64_t, 't' text (NULL binds
 * NULL), 'd' double, '-' skips a number. */
static void
bindv(sqlite3_stmt *st, const char *fmt, va_list ap)
{
	for (int i = 1; fmt && *fmt; fmt++, i++) {
		const char *s;
		switch (*fmt) {
		case 'i':
			sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 't':
			s = va_arg(ap, const char *);
			if (s)
				sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
			break;
		case 'd':
			sqlite3_bind_double(st, i, va_arg(ap, double));
			break;
		default:
			break;
		}
	}
}

static sqlite3_stmt *
prepf(struct sk_index *ix, struct sk_err *err, const char *sql,
      const char *fmt, ...)
{
	sqlite3_stmt *st = prep(ix, sql, err);
	va_list ap;
	if (!st)
		return NULL;
	va_start(ap, fmt);
	bindv(st, fmt, ap);
	va_end(ap);
	return st;
}

/* Run a statement to its end, then finalize it. */
static enum sk_status
finish(struct sk_index *ix, sqlite3_stmt *st, const char *what,
       struct sk_err *err)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, what, err);
	return SK_OK;
}

static enum sk_status
run(struct sk_index *ix, struct sk_err *err, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt *st = prep(ix, sql, err);
	va_list ap;
	if (!st)
		return err->code;
	va_start(ap, fmt);
	bindv(st, fmt, ap);
	va_end(ap);
	return finish(ix, st, "curate", err);
}

/* The first column of the first row. SK_ENOTFOUND without a row (err
 * gets a generic message the caller may replace). */
static enum sk_status
get_i64(struct sk_index *ix, struct sk_err *err, int64_t *out,
	const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = prep(ix, sql, err);
	va_list ap;
	int rc;
	if (!st)
		return err->code;
	va_start(ap, fmt);
	bindv(st, fmt, ap);
	va_end(ap);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return SK_OK;
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "not found");
	return sk_ix_error(ix, rc, "curate", err);
}

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

/* Arrays in an arena that grow by doubling. */
static void *
arena_grow(struct sk_arena *a, void *v, size_t n, size_t *cap, size_t size)
{
	void *nv;
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 8;
	nv = sk_arena_alloc(a, *cap * size);
	if (n)
		memcpy(nv, v, n * size);
	return nv;
}

/* ---- looking things up --------------------------------------------------------- */

static enum sk_status
topic_id(struct sk_index *ix, const char *slug, int64_t *out,
	 struct sk_err *err)
{
	enum sk_status rc;
	if (!slug || !*slug)
		return sk_err_set(err, SK_EINVAL, "Nie podano tematu.");
	rc = get_i64(ix, err, out, "SELECT id FROM topics WHERE slug = ?1",
		     "t", slug);
	if (rc == SK_ENOTFOUND)
		return sk_err_set(err, SK_ENOTFOUND, "no topic '%s'", slug);
	return rc;
}

static enum sk_status
partner_id(struct sk_index *ix, const char *slug, int64_t *out,
	   struct sk_err *err)
{
	enum sk_status rc = get_i64(ix, err, out,
				    "SELECT id FROM partners WHERE slug = ?1",
				    "t", slug);
	if (rc == SK_ENOTFOUND)
		return sk_err_set(err, SK_ENOTFOUND, "no partner '%s'", slug);
	return rc;
}

static enum sk_status
thread_exists(struct sk_index *ix, int64_t id, struct sk_err *err)
{
	int64_t x;
	enum sk_status rc = get_i64(ix, err, &x,
				    "SELECT 1 FROM threads WHERE id = ?1", "i",
				    id);
	if (rc == SK_ENOTFOUND)
		return sk_err_set(err, SK_ENOTFOUND, "no thread %lld",
				  (long long)id);
	return rc;
}

static const char *
topic_slug(struct sk_index *ix, struct sk_arena *a, int64_t id)
{
	sqlite3_stmt *st = prepf(ix, NULL, "SELECT slug FROM topics WHERE id = ?1",
				 "i", id);
	const char *s = NULL;
	if (!st)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		s = col_str(a, st, 0);
	sqlite3_finalize(st);
	return s;
}

/* ---- keeping the indexes in step ---------------------------------------------- */


static enum sk_status
mark_thread(struct sk_index *ix, int64_t thread, struct sk_err *err)
{
	sqlite3_stmt *st = prepf(ix, err,
				 "SELECT id FROM messages WHERE thread_id = ?1",
				 "i", thread);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	enum sk_status rc = SK_OK;
	if (!st)
		return err->code;
	while (sqlite3_step(st) == SQLITE_ROW) {
		sk_xgrow((void **)&ids, &cap, n + 1, sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n && !rc; i++)
		sk_index_mark_dirty(ix, ids[i]);
	free(ids);
	return rc;
}

/* After a thread's messages or manual topics changed: its summary, its
 * topics, and its messages' documents (they carry the thread's id and
 * topics; the refresh alone sees only the changes it makes itself). */
static enum sk_status
thread_changed(struct sk_index *ix, int64_t thread, bool moved,
	       struct sk_err *err)
{
	enum sk_status rc = SK_OK;
	if (moved)
		rc = sk_index_thread_stats(ix, thread, err);
	if (!rc)
		rc = sk_index_thread_topics_refresh(ix, thread, err);
	if (!rc)
		rc = mark_thread(ix, thread, err);
	return rc;
}

/* ---- the audit trail ----------------------------------------------------------- */

static char *
jdump(const json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
		 : NULL;
}

static enum sk_status
audit_add(struct sk_index *ix, const char *actor, const char *action,
	  const char *object, const char *detail, const json_t *old,
	  const json_t *new, int64_t undo_of, int64_t *id_out,
	  struct sk_err *err)
{
	char *o = jdump(old), *n = jdump(new);
	sqlite3_stmt *st = prepf(
		ix, err,
		"INSERT INTO audit(at, actor, action, object, detail, old_json, "
		"new_json, undo_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		"ittttt", (int64_t)time(NULL), actor && *actor ? actor : "cli",
		action, object, detail ? detail : "", o);
	enum sk_status rc;
	if (!st) {
		free(o);
		free(n);
		return err->code;
	}
	if (n)
		sqlite3_bind_text(st, 7, n, -1, SQLITE_TRANSIENT);
	if (undo_of)
		sqlite3_bind_int64(st, 8, undo_of);
	rc = finish(ix, st, "write audit", err);
	free(o);
	free(n);
	if (!rc && id_out)
		*id_out = sqlite3_last_insert_rowid(ix->db);
	return rc;
}

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static const char *
jget_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int64_t
jget_int(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

/* ---- manual topic decisions --------------------------------------------------- */

enum { MANUAL_NONE = -1, MANUAL_ADD = 0, MANUAL_REMOVE = 1 };

static int
manual_state(struct sk_index *ix, int64_t thread, int64_t topic)
{
	int64_t removed;
	if (get_i64(ix, NULL, &removed,
		    "SELECT removed FROM thread_topics WHERE thread_id = ?1 "
		    "AND topic_id = ?2 AND source = 'manual'",
		    "ii", thread, topic))
		return MANUAL_NONE;
	return removed ? MANUAL_REMOVE : MANUAL_ADD;
}

static json_t *
manual_json(int state)
{
	return state == MANUAL_NONE ? json_null()
	       : state == MANUAL_ADD ? json_string("add")
				     : json_string("remove");
}

static int
manual_parse(const json_t *j)
{
	const char *s = json_string_value(j);
	return !s ? MANUAL_NONE : !strcmp(s, "add") ? MANUAL_ADD : MANUAL_REMOVE;
}

static enum sk_status
set_manual(struct sk_index *ix, int64_t thread, int64_t topic, int state,
	   struct sk_err *err)
{
	if (state == MANUAL_NONE)
		return run(ix, err,
			   "DELETE FROM thread_topics WHERE thread_id = ?1 AND "
			   "topic_id = ?2 AND source = 'manual'",
			   "ii", thread, topic);
	return run(ix, err,
		   "INSERT INTO thread_topics(thread_id, topic_id, confidence, "
		   "source, removed) VALUES (?1, ?2, 1.0, 'manual', ?3) "
		   "ON CONFLICT(thread_id, topic_id) DO UPDATE SET "
		   "confidence = 1.0, source = 'manual', removed = ?3",
		   "iii", thread, topic, (int64_t)(state == MANUAL_REMOVE));
}

struct topic_ctx {
	int64_t thread;
	const char *slug;
	enum sk_topic_decision d;
	const char *actor;
	int64_t audit;
};

static enum sk_status
thread_topic_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct topic_ctx *c = vctx;
	static const char *const verbs[] = { "add", "remove", "auto" };
	int64_t topic;
	int old, new;
	json_t *jo, *jn;
	char *object, *detail;
	enum sk_status rc;

	if ((rc = thread_exists(ix, c->thread, err)) ||
	    (rc = topic_id(ix, c->slug, &topic, err)))
		return rc;
	old = manual_state(ix, c->thread, topic);
	new = c->d == SK_TOPIC_ADD      ? MANUAL_ADD
	      : c->d == SK_TOPIC_REMOVE ? MANUAL_REMOVE
					: MANUAL_NONE;
	if (old == new)
		return SK_OK; /* nothing to do, nothing to record */
	if ((rc = set_manual(ix, c->thread, topic, new, err)) ||
	    (rc = thread_changed(ix, c->thread, false, err)) ||
	    (rc = sk_index_model_update(ix, err)))
		return rc;
	jo = json_pack("{s:I,s:{s:o}}", "thread", (json_int_t)c->thread,
		       "topics", c->slug, manual_json(old));
	jn = json_pack("{s:I,s:{s:o}}", "thread", (json_int_t)c->thread,
		       "topics", c->slug, manual_json(new));
	object = sk_xmalloc(48);
	detail = sk_xmalloc(strlen(c->slug) + 16);
	snprintf(object, 48, "thread:%lld", (long long)c->thread);
	snprintf(detail, strlen(c->slug) + 16, "%s %s", verbs[c->d], c->slug);
	rc = audit_add(ix, c->actor, "thread.topic", object, detail, jo, jn,
		       0, &c->audit, err);
	json_decref(jo);
	json_decref(jn);
	free(object);
	free(detail);
	return rc;
}

enum sk_status
sk_index_thread_topic(struct sk_index *ix, int64_t thread_id,
		      const char *topic_slug, enum sk_topic_decision d,
		      const char *actor, int64_t *audit_id_out,
		      struct sk_err *err)
{
	struct topic_ctx c = { thread_id, topic_slug, d, actor, 0 };
	enum sk_status rc;
	if ((unsigned)d > SK_TOPIC_AUTO)
		return sk_err_set(err, SK_EINVAL, "bad topic decision");
	rc = sk_index_autotx(ix, thread_topic_tx, &c, err);
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

static enum sk_status
confirm_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct topic_ctx *c = vctx;
	struct sk_arena *a = sk_arena_new(0);
	sqlite3_stmt *st;
	json_t *jo = json_object(), *jn = json_object(), *to, *tn;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0, shown = 0;
	char *object = NULL;
	enum sk_status rc;

	if ((rc = thread_exists(ix, c->thread, err)))
		goto out;
	st = prepf(ix, err,
		   "SELECT topic_id, source = 'manual' FROM thread_topics "
		   "WHERE thread_id = ?1 AND removed = 0",
		   "i", c->thread);
	if (!st) {
		rc = err->code;
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		shown++;
		if (sqlite3_column_int(st, 1))
			continue;
		sk_xgrow((void **)&ids, &cap, n + 1, sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (!shown) {
		rc = sk_err_set(err, SK_EINVAL,
				"Wątek nie ma tematów do zatwierdzenia.");
		goto out;
	}
	if (!n) /* all confirmed already */
		goto out;
	to = json_object();
	tn = json_object();
	for (size_t i = 0; i < n && !rc; i++) {
		const char *slug = topic_slug(ix, a, ids[i]);
		json_object_set_new(to, slug, json_null());
		json_object_set_new(tn, slug, json_string("add"));
		rc = set_manual(ix, c->thread, ids[i], MANUAL_ADD, err);
	}
	json_object_set_new(jo, "thread", json_integer(c->thread));
	json_object_set_new(jo, "topics", to);
	json_object_set_new(jn, "thread", json_integer(c->thread));
	json_object_set_new(jn, "topics", tn);
	if (!rc)
		rc = thread_changed(ix, c->thread, false, err);
	if (!rc)
		rc = sk_index_model_update(ix, err);
	object = sk_arena_printf(a, "thread:%lld", (long long)c->thread);
	if (!rc)
		rc = audit_add(ix, c->actor, "thread.confirm", object,
			       "confirm topics", jo, jn, 0, &c->audit, err);
out:
	json_decref(jo);
	json_decref(jn);
	free(ids);
	sk_arena_free(&a);
	return rc;
}

enum sk_status
sk_index_thread_topics_confirm(struct sk_index *ix, int64_t thread_id,
			       const char *actor, int64_t *audit_id_out,
			       struct sk_err *err)
{
	struct topic_ctx c = { thread_id, NULL, SK_TOPIC_ADD, actor, 0 };
	enum sk_status rc = sk_index_autotx(ix, confirm_tx, &c, err);
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

/* Undo of thread.topic and thread.confirm: set the manual states back. */
static enum sk_status
undo_topics(struct sk_index *ix, const json_t *old, const json_t *new,
	    struct sk_err *err)
{
	int64_t thread = jget_int(new, "thread");
	const json_t *tn = json_object_get(new, "topics");
	const json_t *to = json_object_get(old, "topics");
	const char *slug;
	json_t *v;
	enum sk_status rc = thread_exists(ix, thread, err);

	json_object_foreach((json_t *)tn, slug, v) {
		int64_t topic;
		if (rc || (rc = topic_id(ix, slug, &topic, err)))
			break;
		if (manual_state(ix, thread, topic) != manual_parse(v))
			return sk_err_set(err, SK_EINVAL,
					  "Temat '%s' wątku zmienił się od "
					  "tamtej pory.",
					  slug);
		rc = set_manual(ix, thread, topic,
				manual_parse(json_object_get(to, slug)), err);
	}
	if (!rc)
		rc = thread_changed(ix, thread, false, err);
	return rc;
}

/* ---- split and join ------------------------------------------------------------- */

struct split_ctx {
	int64_t msg;
	const char *actor;
	int64_t new_thread, audit;
};

struct idpar {
	int64_t id, parent;
};

/* kids[] holds (parent id, index) pairs in the id/parent fields. */
static int
cmp_parent(const void *x, const void *y)
{
	const struct idpar *a = x, *b = y;
	return a->id < b->id ? -1 : a->id > b->id;
}

static enum sk_status
move_message(struct sk_index *ix, int64_t msg, int64_t thread,
	     struct sk_err *err)
{
	return run(ix, err, "UPDATE messages SET thread_id = ?2 WHERE id = ?1",
		   "ii", msg, thread);
}

static enum sk_status
split_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct split_ctx *c = vctx;
	struct idpar *m = NULL, *kids = NULL;
	size_t n = 0, cap = 0, n_in = 0, qn = 0, *queue = NULL;
	bool *in = NULL;
	int64_t thread, nt = 0;
	sqlite3_stmt *st;
	json_t *jo = NULL, *jn = NULL, *moved;
	char object[96];
	enum sk_status rc;

	rc = get_i64(ix, err, &thread,
		     "SELECT thread_id FROM messages WHERE id = ?1", "i", c->msg);
	if (rc == SK_ENOTFOUND)
		return sk_err_set(err, SK_ENOTFOUND, "no message %lld",
				  (long long)c->msg);
	if (rc)
		return rc;
	st = prepf(ix, err,
		   "SELECT id, coalesce(parent_id, 0) FROM messages "
		   "WHERE thread_id = ?1 ORDER BY date, id",
		   "i", thread);
	if (!st)
		return err->code;
	while (sqlite3_step(st) == SQLITE_ROW) {
		sk_xgrow((void **)&m, &cap, n + 1, sizeof(*m));
		m[n].id = sqlite3_column_int64(st, 0);
		m[n].parent = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_finalize(st);
	/* The message and its descendants, breadth first over the children
	 * (sorted by parent); no recursion, depth is up to the senders. */
	in = sk_xcalloc(n + 1, sizeof(bool));
	kids = sk_xcalloc(n + 1, sizeof(*kids));
	queue = sk_xcalloc(n + 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		kids[i] = (struct idpar){ m[i].parent, (int64_t)i };
	qsort(kids, n, sizeof(*kids), cmp_parent);
	for (size_t i = 0; i < n; i++)
		if (m[i].id == c->msg) {
			in[i] = true;
			queue[qn++] = i;
		}
	for (size_t qi = 0; qi < qn; qi++) {
		struct idpar key = { m[queue[qi]].id, 0 };
		struct idpar *k = bsearch(&key, kids, n, sizeof(*kids),
					  cmp_parent);
		while (k && k > kids && k[-1].id == key.id)
			k--;
		for (; k && k < kids + n && k->id == key.id; k++)
			if (!in[k->parent]) {
				in[k->parent] = true;
				queue[qn++] = (size_t)k->parent;
			}
	}
	n_in = qn;
	if (n_in >= n) {
		rc = sk_err_set(err, SK_EINVAL,
				"Nie można wydzielić całego wątku: wybierz "
				"odpowiedź, która zaczyna nowy temat.");
		goto out;
	}
	rc = run(ix, err,
		 "INSERT INTO threads(subject, first_date, last_date) VALUES "
		 "('', 0, 0)",
		 "");
	if (rc)
		goto out;
	nt = sqlite3_last_insert_rowid(ix->db);
	moved = json_array();
	for (size_t i = 0; i < n && !rc; i++)
		if (in[i]) {
			json_array_append_new(moved, json_integer(m[i].id));
			rc = move_message(ix, m[i].id, nt, err);
		}
	jo = json_pack("{s:I}", "thread", (json_int_t)thread);
	jn = json_pack("{s:I,s:I,s:I,s:o}", "thread", (json_int_t)thread,
		       "new_thread", (json_int_t)nt, "message",
		       (json_int_t)c->msg, "messages", moved);
	if (!rc)
		rc = thread_changed(ix, thread, true, err);
	if (!rc)
		rc = thread_changed(ix, nt, true, err);
	if (!rc)
		rc = sk_index_model_update(ix, err);
	snprintf(object, sizeof(object), "thread:%lld thread:%lld message:%lld",
		 (long long)thread, (long long)nt, (long long)c->msg);
	if (!rc)
		rc = audit_add(ix, c->actor, "thread.split", object,
			       "split thread", jo, jn, 0, &c->audit, err);
	c->new_thread = nt;
out:
	json_decref(jo);
	json_decref(jn);
	free(m);
	free(in);
	free(kids);
	free(queue);
	return rc;
}

enum sk_status
sk_index_thread_split(struct sk_index *ix, int64_t message_row_id,
		      const char *actor, int64_t *new_thread_out,
		      int64_t *audit_id_out, struct sk_err *err)
{
	struct split_ctx c = { message_row_id, actor, 0, 0 };
	enum sk_status rc = sk_index_autotx(ix, split_tx, &c, err);
	if (new_thread_out)
		*new_thread_out = rc ? 0 : c.new_thread;
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

/* Move everything of thread from into thread into and delete from. The
 * caller recorded what it needs to undo it. */
static enum sk_status
merge(struct sk_index *ix, int64_t into, int64_t from, struct sk_err *err)
{
	static const char *const sql[] = {
		"UPDATE messages SET thread_id = ?1 WHERE thread_id = ?2",
		"UPDATE ghosts SET thread_id = ?1 WHERE thread_id = ?2",
		/* from's manual decisions, where into has none of its own */
		"INSERT INTO thread_topics(thread_id, topic_id, confidence, "
		"source, removed) SELECT ?1, topic_id, 1.0, 'manual', removed "
		"FROM thread_topics f WHERE f.thread_id = ?2 AND f.source = "
		"'manual' AND NOT EXISTS (SELECT 1 FROM thread_topics i WHERE "
		"i.thread_id = ?1 AND i.topic_id = f.topic_id AND i.source = "
		"'manual') ON CONFLICT(thread_id, topic_id) DO UPDATE SET "
		"confidence = 1.0, source = 'manual', removed = excluded.removed",
		"INSERT OR IGNORE INTO topic_pins(topic_id, thread_id, position, "
		"note, pinned_by, pinned_at) SELECT topic_id, ?1, position, note, "
		"pinned_by, pinned_at FROM topic_pins WHERE thread_id = ?2",
		"UPDATE practices SET source_thread_id = ?1 WHERE "
		"source_thread_id = ?2",
		"DELETE FROM threads WHERE id = ?2",
	};
	enum sk_status rc = SK_OK;
	for (size_t i = 0; i < SK_ARRAY_SIZE(sql) && !rc; i++)
		rc = run(ix, err, sql[i], "ii", into, from);
	return rc;
}

/* What a thread is, for undoing a join: its row, messages, ghosts, topic
 * rows, pins and the practices that cite it. */
static json_t *
thread_snapshot(struct sk_index *ix, int64_t id)
{
	json_t *j = json_object(), *a;
	sqlite3_stmt *st;

	json_object_set_new(j, "id", json_integer(id));
	st = prepf(ix, NULL,
		   "SELECT subject, first_date, last_date, message_count FROM "
		   "threads WHERE id = ?1",
		   "i", id);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		json_object_set_new(j, "subject",
				    json_string((const char *)sqlite3_column_text(st, 0)));
		json_object_set_new(j, "first_date",
				    json_integer(sqlite3_column_int64(st, 1)));
		json_object_set_new(j, "last_date",
				    json_integer(sqlite3_column_int64(st, 2)));
		json_object_set_new(j, "message_count",
				    json_integer(sqlite3_column_int64(st, 3)));
	}
	sqlite3_finalize(st);
	a = json_array();
	st = prepf(ix, NULL, "SELECT id FROM messages WHERE thread_id = ?1 "
			     "ORDER BY id",
		   "i", id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_integer(sqlite3_column_int64(st, 0)));
	sqlite3_finalize(st);
	json_object_set_new(j, "messages", a);
	a = json_array();
	st = prepf(ix, NULL, "SELECT message_id FROM ghosts WHERE thread_id = ?1",
		   "i", id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
			a, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	json_object_set_new(j, "ghosts", a);
	a = json_array();
	st = prepf(ix, NULL,
		   "SELECT t.slug, tt.confidence, tt.source, tt.removed FROM "
		   "thread_topics tt JOIN topics t ON t.id = tt.topic_id WHERE "
		   "tt.thread_id = ?1 ORDER BY t.slug",
		   "i", id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
			a, json_pack("{s:s,s:f,s:s,s:i}", "topic",
				     (const char *)sqlite3_column_text(st, 0),
				     "confidence", sqlite3_column_double(st, 1),
				     "source",
				     (const char *)sqlite3_column_text(st, 2),
				     "removed", sqlite3_column_int(st, 3)));
	sqlite3_finalize(st);
	json_object_set_new(j, "topics", a);
	a = json_array();
	st = prepf(ix, NULL,
		   "SELECT t.slug, p.position, p.note, p.pinned_by, p.pinned_at "
		   "FROM topic_pins p JOIN topics t ON t.id = p.topic_id WHERE "
		   "p.thread_id = ?1 ORDER BY t.slug",
		   "i", id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
			a, json_pack("{s:s,s:i,s:s,s:s,s:I}", "topic",
				     (const char *)sqlite3_column_text(st, 0),
				     "position", sqlite3_column_int(st, 1),
				     "note",
				     (const char *)sqlite3_column_text(st, 2),
				     "pinned_by",
				     (const char *)sqlite3_column_text(st, 3),
				     "pinned_at",
				     (json_int_t)sqlite3_column_int64(st, 4)));
	sqlite3_finalize(st);
	json_object_set_new(j, "pins", a);
	a = json_array();
	st = prepf(ix, NULL, "SELECT id FROM practices WHERE source_thread_id = ?1",
		   "i", id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_integer(sqlite3_column_int64(st, 0)));
	sqlite3_finalize(st);
	json_object_set_new(j, "practices", a);
	return j;
}

/* The manual states of into for the topics from's manual rows name, and
 * into's pins, before a join. */
static json_t *
into_snapshot(struct sk_index *ix, struct sk_arena *a, int64_t into,
	      int64_t from)
{
	json_t *j = json_object(), *m = json_object(), *pins = json_array();
	sqlite3_stmt *st = prepf(
		ix, NULL,
		"SELECT topic_id FROM thread_topics WHERE thread_id = ?1 AND "
		"source = 'manual'",
		"i", from);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0);
		json_object_set_new(m, topic_slug(ix, a, t),
				    manual_json(manual_state(ix, into, t)));
	}
	sqlite3_finalize(st);
	st = prepf(ix, NULL,
		   "SELECT t.slug FROM topic_pins p JOIN topics t ON t.id = "
		   "p.topic_id WHERE p.thread_id = ?1",
		   "i", into);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
			pins, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	json_object_set_new(j, "id", json_integer(into));
	json_object_set_new(j, "manual", m);
	json_object_set_new(j, "pins", pins);
	return j;
}

struct join_ctx {
	int64_t into, from;
	const char *actor;
	int64_t audit;
};

static enum sk_status
join_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct join_ctx *c = vctx;
	struct sk_arena *a;
	json_t *jo, *jn;
	char object[64];
	enum sk_status rc;

	if (c->into == c->from)
		return sk_err_set(err, SK_EINVAL,
				  "Nie można połączyć wątku z nim samym.");
	if ((rc = thread_exists(ix, c->into, err)) ||
	    (rc = thread_exists(ix, c->from, err)))
		return rc;
	a = sk_arena_new(0);
	jo = json_pack("{s:o,s:o}", "from", thread_snapshot(ix, c->from),
		       "into", into_snapshot(ix, a, c->into, c->from));
	jn = json_pack("{s:I,s:I}", "into", (json_int_t)c->into, "from",
		       (json_int_t)c->from);
	rc = merge(ix, c->into, c->from, err);
	if (!rc)
		rc = thread_changed(ix, c->into, true, err);
	if (!rc)
		rc = sk_index_model_update(ix, err);
	snprintf(object, sizeof(object), "thread:%lld thread:%lld",
		 (long long)c->into, (long long)c->from);
	if (!rc)
		rc = audit_add(ix, c->actor, "thread.join", object,
			       "join threads", jo, jn, 0, &c->audit, err);
	json_decref(jo);
	json_decref(jn);
	sk_arena_free(&a);
	return rc;
}

enum sk_status
sk_index_thread_join(struct sk_index *ix, int64_t into, int64_t from,
		     const char *actor, int64_t *audit_id_out,
		     struct sk_err *err)
{
	struct join_ctx c = { into, from, actor, 0 };
	enum sk_status rc = sk_index_autotx(ix, join_tx, &c, err);
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

/* Undo a split: the new thread joins the old one again, with whatever
 * arrived in it since. */
static enum sk_status
undo_split(struct sk_index *ix, const json_t *new, struct sk_err *err)
{
	int64_t thread = jget_int(new, "thread");
	int64_t nt = jget_int(new, "new_thread");
	enum sk_status rc;

	if ((rc = thread_exists(ix, thread, err)))
		return rc;
	if (thread_exists(ix, nt, err))
		return sk_err_set(err, SK_EINVAL,
				  "Wydzielony wątek %lld już nie istnieje.",
				  (long long)nt);
	rc = merge(ix, thread, nt, err);
	if (!rc)
		rc = thread_changed(ix, thread, true, err);
	return rc;
}

/* Undo a join: the joined thread comes back (with its id when free) with
 * its messages, ghosts, topics, pins and practices. */
static enum sk_status
undo_join(struct sk_index *ix, const json_t *old, struct sk_err *err)
{
	const json_t *from = json_object_get(old, "from");
	const json_t *into = json_object_get(old, "into");
	int64_t iid = jget_int(into, "id"), fid = jget_int(from, "id");
	int64_t taken = 0, t;
	const char *slug;
	size_t i;
	json_t *v;
	enum sk_status rc;

	if ((rc = thread_exists(ix, iid, err)))
		return rc;
	get_i64(ix, NULL, &taken, "SELECT 1 FROM threads WHERE id = ?1", "i",
		fid);
	/* The id may have gone to a new thread meanwhile (SQLite reuses the
	 * highest rowid): then the thread comes back under a new one. */
	rc = run(ix, err,
		 taken ? "INSERT INTO threads(subject, first_date, last_date, "
			 "message_count) VALUES (?2, ?3, ?4, ?5)"
		       : "INSERT INTO threads(id, subject, first_date, "
			 "last_date, message_count) VALUES (?1, ?2, ?3, ?4, ?5)",
		 "itiii", fid, jget_str(from, "subject"),
		 jget_int(from, "first_date"), jget_int(from, "last_date"),
		 jget_int(from, "message_count"));
	if (rc)
		return rc;
	fid = sqlite3_last_insert_rowid(ix->db);
	json_array_foreach(json_object_get(from, "messages"), i, v) {
		if (!rc)
			rc = run(ix, err,
				 "UPDATE messages SET thread_id = ?2 WHERE "
				 "id = ?1 AND thread_id = ?3",
				 "iii", (int64_t)json_integer_value(v), fid, iid);
	}
	json_array_foreach(json_object_get(from, "ghosts"), i, v) {
		if (!rc)
			rc = run(ix, err,
				 "UPDATE ghosts SET thread_id = ?2 WHERE "
				 "message_id = ?1 AND thread_id = ?3",
				 "tii", json_string_value(v), fid, iid);
	}
	/* into's manual decisions as they were, then from's rows back. */
	json_object_foreach((json_t *)json_object_get(into, "manual"), slug, v) {
		if (!rc && !topic_id(ix, slug, &t, err))
			rc = set_manual(ix, iid, t, manual_parse(v), err);
	}
	json_array_foreach(json_object_get(from, "topics"), i, v) {
		if (!rc && !topic_id(ix, jget_str(v, "topic"), &t, NULL))
			rc = run(ix, err,
				 "INSERT OR REPLACE INTO thread_topics(thread_id, "
				 "topic_id, confidence, source, removed) VALUES "
				 "(?1, ?2, ?3, ?4, ?5)",
				 "iidti", fid, t,
				 json_real_value(json_object_get(v, "confidence")),
				 jget_str(v, "source"), jget_int(v, "removed"));
	}
	/* Pins: those that came over from from go back. */
	json_array_foreach(json_object_get(from, "pins"), i, v) {
		bool had = false;
		size_t k;
		json_t *p;
		if (rc || topic_id(ix, jget_str(v, "topic"), &t, NULL))
			continue;
		json_array_foreach(json_object_get(into, "pins"), k, p)
			had = had || !strcmp(json_string_value(p),
					     jget_str(v, "topic"));
		if (!had)
			rc = run(ix, err,
				 "DELETE FROM topic_pins WHERE topic_id = ?1 "
				 "AND thread_id = ?2",
				 "ii", t, iid);
		if (!rc)
			rc = run(ix, err,
				 "INSERT OR REPLACE INTO topic_pins(topic_id, "
				 "thread_id, position, note, pinned_by, "
				 "pinned_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				 "iiitti", t, fid, jget_int(v, "position"),
				 jget_str(v, "note"), jget_str(v, "pinned_by"),
				 jget_int(v, "pinned_at"));
	}
	json_array_foreach(json_object_get(from, "practices"), i, v) {
		if (!rc)
			rc = run(ix, err,
				 "UPDATE practices SET source_thread_id = ?2 "
				 "WHERE id = ?1 AND source_thread_id = ?3",
				 "iii", (int64_t)json_integer_value(v), fid, iid);
	}
	if (!rc)
		rc = thread_changed(ix, iid, true, err);
	if (!rc)
		rc = thread_changed(ix, fid, true, err);
	return rc;
}

/* ---- pins ------------------------------------------------------------------------- */

static json_t *
pin_json(struct sk_index *ix, int64_t topic, int64_t thread)
{
	sqlite3_stmt *st = prepf(
		ix, NULL,
		"SELECT position, note, pinned_by, pinned_at FROM topic_pins "
		"WHERE topic_id = ?1 AND thread_id = ?2",
		"ii", topic, thread);
	json_t *j = NULL;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		j = json_pack("{s:i,s:s,s:s,s:I}", "position",
			      sqlite3_column_int(st, 0), "note",
			      (const char *)sqlite3_column_text(st, 1),
			      "pinned_by",
			      (const char *)sqlite3_column_text(st, 2),
			      "pinned_at",
			      (json_int_t)sqlite3_column_int64(st, 3));
	sqlite3_finalize(st);
	return j ? j : json_null();
}

static enum sk_status
pin_set(struct sk_index *ix, int64_t topic, int64_t thread, const json_t *p,
	struct sk_err *err)
{
	if (json_is_null(p))
		return run(ix, err,
			   "DELETE FROM topic_pins WHERE topic_id = ?1 AND "
			   "thread_id = ?2",
			   "ii", topic, thread);
	return run(ix, err,
		   "INSERT OR REPLACE INTO topic_pins(topic_id, thread_id, "
		   "position, note, pinned_by, pinned_at) VALUES "
		   "(?1, ?2, ?3, ?4, ?5, ?6)",
		   "iiitti", topic, thread, jget_int(p, "position"),
		   jget_str(p, "note"), jget_str(p, "pinned_by"),
		   jget_int(p, "pinned_at"));
}

struct pin_ctx {
	const char *slug;
	int64_t thread;
	int position;
	const char *note;
	bool pin;
	const char *actor;
	int64_t audit;
};

static enum sk_status
pin_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct pin_ctx *c = vctx;
	int64_t topic;
	json_t *old, *new, *jo, *jn;
	char *object;
	size_t olen;
	enum sk_status rc;

	if ((rc = topic_id(ix, c->slug, &topic, err)) ||
	    (rc = thread_exists(ix, c->thread, err)))
		return rc;
	old = pin_json(ix, topic, c->thread);
	if (!c->pin && json_is_null(old)) {
		json_decref(old);
		return sk_err_set(err, SK_ENOTFOUND,
				  "thread %lld is not pinned to '%s'",
				  (long long)c->thread, c->slug);
	}
	new = c->pin ? json_pack("{s:i,s:s,s:s,s:I}", "position", c->position,
				 "note", c->note ? c->note : "", "pinned_by",
				 c->actor && *c->actor ? c->actor : "cli",
				 "pinned_at", (json_int_t)time(NULL))
		     : json_null();
	rc = pin_set(ix, topic, c->thread, new, err);
	jo = json_pack("{s:s,s:I,s:O}", "topic", c->slug, "thread",
		       (json_int_t)c->thread, "pin", old);
	jn = json_pack("{s:s,s:I,s:O}", "topic", c->slug, "thread",
		       (json_int_t)c->thread, "pin", new);
	olen = strlen(c->slug) + 48;
	object = sk_xmalloc(olen);
	snprintf(object, olen, "thread:%lld pin:%s", (long long)c->thread,
		 c->slug);
	if (!rc)
		rc = audit_add(ix, c->actor, c->pin ? "topic.pin" : "topic.unpin",
			       object, c->pin ? "pin" : "unpin", jo, jn, 0,
			       &c->audit, err);
	free(object);
	json_decref(old);
	json_decref(new);
	json_decref(jo);
	json_decref(jn);
	return rc;
}

enum sk_status
sk_index_topic_pin(struct sk_index *ix, const char *topic_slug,
		   int64_t thread_id, int position, const char *note,
		   const char *actor, int64_t *audit_id_out,
		   struct sk_err *err)
{
	struct pin_ctx c = { topic_slug, thread_id, position, note, true,
			     actor, 0 };
	enum sk_status rc;
	if ((rc = check_field(note, TITLE_MAX, true, "notatka", err)))
		return rc;
	rc = sk_index_autotx(ix, pin_tx, &c, err);
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

enum sk_status
sk_index_topic_unpin(struct sk_index *ix, const char *topic_slug,
		     int64_t thread_id, const char *actor,
		     int64_t *audit_id_out, struct sk_err *err)
{
	struct pin_ctx c = { topic_slug, thread_id, 0, NULL, false, actor, 0 };
	enum sk_status rc = sk_index_autotx(ix, pin_tx, &c, err);
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

static enum sk_status
undo_pin(struct sk_index *ix, const json_t *old, const json_t *new,
	 struct sk_err *err)
{
	int64_t topic, thread = jget_int(new, "thread");
	json_t *cur;
	bool same;
	enum sk_status rc = topic_id(ix, jget_str(new, "topic"), &topic, err);

	if (rc || (rc = thread_exists(ix, thread, err)))
		return rc;
	cur = pin_json(ix, topic, thread);
	same = json_equal(cur, json_object_get(new, "pin")) ||
	       (json_is_null(cur) && json_is_null(json_object_get(new, "pin")));
	json_decref(cur);
	if (!same)
		return sk_err_set(err, SK_EINVAL,
				  "Przypięcie zmieniło się od tamtej pory.");
	return pin_set(ix, topic, thread, json_object_get(old, "pin"), err);
}

/* ---- held mail -------------------------------------------------------------------- */

struct approve_ctx {
	int64_t msg;
	const char *actor;
	int64_t audit;
};

static enum sk_status
approve_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct approve_ctx *c = vctx;
	sqlite3_stmt *st = prepf(
		ix, err,
		"SELECT flags, approved_at IS NOT NULL FROM messages WHERE id = ?1",
		"i", c->msg);
	int64_t flags = 0, approved = 0, now = (int64_t)time(NULL);
	json_t *jo, *jn;
	char object[48];
	bool found;
	enum sk_status rc;

	if (!st)
		return err->code;
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		flags = sqlite3_column_int64(st, 0);
		approved = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (!found)
		return sk_err_set(err, SK_ENOTFOUND, "no message %lld",
				  (long long)c->msg);
	if (!(flags & SK_MSG_HELD))
		return sk_err_set(err, SK_EINVAL,
				  "Ta wiadomość nie czeka na zatwierdzenie.");
	if (approved)
		return sk_err_set(err, SK_EINVAL,
				  "Ta wiadomość jest już zatwierdzona.");
	rc = run(ix, err, "UPDATE messages SET approved_at = ?2 WHERE id = ?1",
		 "ii", c->msg, now);
	if (!rc)
		sk_index_mark_dirty(ix, c->msg);
	jo = json_pack("{s:I,s:n}", "message", (json_int_t)c->msg,
		       "approved_at");
	jn = json_pack("{s:I,s:I}", "message", (json_int_t)c->msg,
		       "approved_at", (json_int_t)now);
	snprintf(object, sizeof(object), "message:%lld", (long long)c->msg);
	if (!rc)
		rc = audit_add(ix, c->actor, "message.approve", object,
			       "approve held mail", jo, jn, 0, &c->audit, err);
	json_decref(jo);
	json_decref(jn);
	return rc;
}

enum sk_status
sk_index_message_approve(struct sk_index *ix, int64_t message_row_id,
			 const char *actor, int64_t *audit_id_out,
			 struct sk_err *err)
{
	struct approve_ctx c = { message_row_id, actor, 0 };
	enum sk_status rc = sk_index_autotx(ix, approve_tx, &c, err);
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

enum sk_status
sk_index_held_messages(struct sk_index *ix, struct sk_arena *a,
		       int64_t thread_id, size_t offset, size_t limit,
		       struct sk_message_row **rows_out, size_t *n_out,
		       int64_t *total_out, struct sk_err *err)
{
	sqlite3_stmt *st;
	struct sk_message_row *rows = NULL;
	size_t n = 0, cap = 0;
	enum sk_status rc;
	int step;

	limit = limit == 0 ? 50 : limit > 500 ? 500 : limit;
	if (total_out) {
		rc = get_i64(ix, err, total_out,
			     "SELECT count(*) FROM messages WHERE " HELD
			     " AND (?1 = 0 OR thread_id = ?1)",
			     "i", thread_id);
		if (rc)
			return rc;
	}
	st = prepf(ix, err,
		   "SELECT id, message_id, thread_id, subject, from_name, "
		   "from_addr, date, flags FROM messages WHERE " HELD
		   " AND (?1 = 0 OR thread_id = ?1) ORDER BY date, id "
		   "LIMIT ?2 OFFSET ?3",
		   "iii", thread_id, (int64_t)limit, (int64_t)offset);
	if (!st)
		return err->code;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sk_message_row *r;
		rows = arena_grow(a, rows, n, &cap, sizeof(*rows));
		r = &rows[n++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->message_id = col_str0(a, st, 1);
		r->thread_id = sqlite3_column_int64(st, 2);
		r->subject = col_str0(a, st, 3);
		r->from_name = col_str0(a, st, 4);
		r->from_addr = col_str0(a, st, 5);
		r->date = (time_t)sqlite3_column_int64(st, 6);
		r->flags = (unsigned)sqlite3_column_int(st, 7);
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return sk_ix_error(ix, step, "list held mail", err);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

static enum sk_status
undo_approve(struct sk_index *ix, const json_t *new, struct sk_err *err)
{
	int64_t msg = jget_int(new, "message"), at = 0;
	enum sk_status rc = get_i64(
		ix, err, &at,
		"SELECT coalesce(approved_at, 0) FROM messages WHERE id = ?1",
		"i", msg);
	if (rc == SK_ENOTFOUND)
		return sk_err_set(err, SK_EINVAL,
				  "Wiadomość %lld już nie istnieje.",
				  (long long)msg);
	if (rc)
		return rc;
	if (at != jget_int(new, "approved_at"))
		return sk_err_set(err, SK_EINVAL,
				  "Zatwierdzenie zmieniło się od tamtej pory.");
	rc = run(ix, err,
		 "UPDATE messages SET approved_at = NULL WHERE id = ?1", "i",
		 msg);
	if (!rc)
		sk_index_mark_dirty(ix, msg);
	return rc;
}

/* ---- practice records ------------------------------------------------------------ */

static const char *const status_names[] = { "draft", "validated", "archived" };

const char *
sk_practice_status_name(enum sk_practice_status s)
{
	return (unsigned)s < SK_ARRAY_SIZE(status_names) ? status_names[s]
							 : "draft";
}

enum sk_status
sk_practice_status_parse(const char *s, enum sk_practice_status *out)
{
	for (size_t i = 0; s && i < SK_ARRAY_SIZE(status_names); i++)
		if (!strcmp(s, status_names[i])) {
			*out = (enum sk_practice_status)i;
			return SK_OK;
		}
	return SK_EINVAL;
}

static enum sk_practice_status
status_of(const char *s)
{
	enum sk_practice_status v = SK_PRACTICE_DRAFT;
	sk_practice_status_parse(s, &v);
	return v;
}

static const char *
nz(const char *s)
{
	return s ? s : "";
}

/* Check p and resolve its slugs. */
static enum sk_status
practice_check(struct sk_index *ix, const struct sk_practice *p,
	       int64_t *partner, int64_t *topics, struct sk_err *err)
{
	static const struct {
		size_t off;
		const char *name;
	} fields[] = {
		{ offsetof(struct sk_practice, problem), "problem" },
		{ offsetof(struct sk_practice, solution), "rozwiązanie" },
		{ offsetof(struct sk_practice, results), "efekty" },
		{ offsetof(struct sk_practice, costs), "koszty" },
		{ offsetof(struct sk_practice, period), "okres realizacji" },
		{ offsetof(struct sk_practice, stakeholders), "partnerzy" },
		{ offsetof(struct sk_practice, lessons), "trudności i wnioski" },
		{ offsetof(struct sk_practice, contact_name), "osoba do kontaktu" },
	};
	struct sk_str t = sk_str_trim(nz(p->title), strlen(nz(p->title)));
	enum sk_status rc;

	if (!t.n)
		return sk_err_set(err, SK_EINVAL, "Podaj tytuł praktyki.");
	if (memchr(t.p, '\n', t.n))
		return sk_err_set(err, SK_EINVAL,
				  "Tytuł praktyki to jedna linia.");
	if ((rc = check_field(p->title, TITLE_MAX, true, "tytuł", err)))
		return rc;
	for (size_t i = 0; i < SK_ARRAY_SIZE(fields); i++) {
		const char *s = *(const char *const *)((const char *)p +
						       fields[i].off);
		if ((rc = check_field(s, FIELD_MAX, false, fields[i].name, err)))
			return rc;
	}
	if ((rc = check_field(p->contact_email, TITLE_MAX, true, "e-mail",
			      err)))
		return rc;
	if (p->contact_email && *p->contact_email &&
	    (!strchr(p->contact_email, '@') || strchr(p->contact_email, ' ') ||
	     strchr(p->contact_email, '\n')))
		return sk_err_set(err, SK_EINVAL,
				  "Adres e-mail osoby do kontaktu jest "
				  "niepoprawny.");
	if ((unsigned)p->status > SK_PRACTICE_ARCHIVED)
		return sk_err_set(err, SK_EINVAL, "Nieznany status praktyki.");
	*partner = 0;
	if (p->partner_slug && *p->partner_slug &&
	    (rc = partner_id(ix, p->partner_slug, partner, err)))
		return rc;
	for (size_t i = 0; i < p->n_topics; i++)
		if ((rc = topic_id(ix, p->topics[i], &topics[i], err)))
			return rc;
	for (size_t i = 0; i < p->n_attachment_ids; i++) {
		int64_t x;
		rc = get_i64(ix, err, &x, "SELECT 1 FROM attachments WHERE id = ?1",
			     "i", p->attachment_ids[i]);
		if (rc == SK_ENOTFOUND)
			return sk_err_set(err, SK_ENOTFOUND,
					  "no attachment %lld",
					  (long long)p->attachment_ids[i]);
		if (rc)
			return rc;
	}
	if (p->source_thread_id && (rc = thread_exists(ix, p->source_thread_id, err)))
		return rc;
	return SK_OK;
}

/* Write every "in" field of p into record id (which exists). */
static enum sk_status
practice_write(struct sk_index *ix, int64_t id, const struct sk_practice *p,
	       int64_t partner, const int64_t *topics, const char *actor,
	       struct sk_err *err)
{
	struct sk_str t = sk_str_trim(nz(p->title), strlen(nz(p->title)));
	char *title = sk_xstrndup(t.p, t.n);
	sqlite3_stmt *st = prepf(
		ix, err,
		"UPDATE practices SET title = ?2, problem = ?3, solution = ?4, "
		"results = ?5, costs = ?6, period = ?7, stakeholders = ?8, "
		"lessons = ?9, contact_name = ?10, contact_email = ?11, "
		"status = ?12, updated_by = ?13, updated_at = ?14, "
		"partner_id = ?15, source_thread_id = ?16 WHERE id = ?1",
		"itttttttttttti", id, title, nz(p->problem), nz(p->solution), nz(p->results), nz(p->costs),
		nz(p->period), nz(p->stakeholders), nz(p->lessons),
		nz(p->contact_name), nz(p->contact_email),
		sk_practice_status_name(p->status),
		actor && *actor ? actor : "cli", (int64_t)time(NULL));
	enum sk_status rc;
	free(title); /* bound as a copy (SQLITE_TRANSIENT) */
	if (!st)
		return err->code;
	if (partner)
		sqlite3_bind_int64(st, 15, partner);
	if (p->source_thread_id)
		sqlite3_bind_int64(st, 16, p->source_thread_id);
	if ((rc = finish(ix, st, "write practice", err)))
		return rc;
	rc = run(ix, err, "DELETE FROM practice_topics WHERE practice_id = ?1",
		 "i", id);
	for (size_t i = 0; i < p->n_topics && !rc; i++)
		rc = run(ix, err,
			 "INSERT OR IGNORE INTO practice_topics(practice_id, "
			 "topic_id) VALUES (?1, ?2)",
			 "ii", id, topics[i]);
	if (!rc)
		rc = run(ix, err,
			 "DELETE FROM practice_attachments WHERE practice_id = ?1",
			 "i", id);
	for (size_t i = 0; i < p->n_attachment_ids && !rc; i++)
		rc = run(ix, err,
			 "INSERT OR IGNORE INTO practice_attachments(practice_id, "
			 "attachment_id, position) VALUES (?1, ?2, ?3)",
			 "iii", id, p->attachment_ids[i], (int64_t)i);
	return rc;
}

/* A record's "in" fields as JSON (for the audit trail). */
static json_t *
practice_json(struct sk_index *ix, int64_t id)
{
	sqlite3_stmt *st = prepf(
		ix, NULL,
		"SELECT p.title, s.slug, p.problem, p.solution, p.results, "
		"p.costs, p.period, p.stakeholders, p.lessons, p.contact_name, "
		"p.contact_email, p.source_thread_id, p.status FROM practices p "
		"LEFT JOIN partners s ON s.id = p.partner_id WHERE p.id = ?1",
		"i", id);
	static const char *const keys[] = {
		"title",   "partner",	   "problem", "solution",
		"results", "costs",	   "period",  "stakeholders",
		"lessons", "contact_name", "contact_email",
	};
	json_t *j = NULL, *a;
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		j = json_object();
		for (int i = 0; i < (int)SK_ARRAY_SIZE(keys); i++)
			json_object_set_new(
				j, keys[i],
				jstr((const char *)sqlite3_column_text(st, i)));
		json_object_set_new(
			j, "source_thread",
			sqlite3_column_type(st, 11) == SQLITE_NULL
				? json_null()
				: json_integer(sqlite3_column_int64(st, 11)));
		json_object_set_new(j, "status",
				    jstr((const char *)sqlite3_column_text(st, 12)));
	}
	sqlite3_finalize(st);
	if (!j)
		return json_null();
	a = json_array();
	st = prepf(ix, NULL,
		   "SELECT t.slug FROM practice_topics pt JOIN topics t ON "
		   "t.id = pt.topic_id WHERE pt.practice_id = ?1 ORDER BY "
		   "t.position",
		   "i", id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
			a, json_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	json_object_set_new(j, "topics", a);
	a = json_array();
	st = prepf(ix, NULL,
		   "SELECT attachment_id FROM practice_attachments WHERE "
		   "practice_id = ?1 ORDER BY position",
		   "i", id);
	while (st && sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_integer(sqlite3_column_int64(st, 0)));
	sqlite3_finalize(st);
	json_object_set_new(j, "attachments", a);
	return j;
}

/* The struct for a record's JSON (borrowing the JSON's strings). */
static void
practice_from_json(struct sk_arena *a, const json_t *j, struct sk_practice *p)
{
	const json_t *arr;
	size_t i;
	json_t *v;

	memset(p, 0, sizeof(*p));
	p->title = jget_str(j, "title");
	p->partner_slug = jget_str(j, "partner");
	p->problem = jget_str(j, "problem");
	p->solution = jget_str(j, "solution");
	p->results = jget_str(j, "results");
	p->costs = jget_str(j, "costs");
	p->period = jget_str(j, "period");
	p->stakeholders = jget_str(j, "stakeholders");
	p->lessons = jget_str(j, "lessons");
	p->contact_name = jget_str(j, "contact_name");
	p->contact_email = jget_str(j, "contact_email");
	p->source_thread_id = jget_int(j, "source_thread");
	p->status = status_of(jget_str(j, "status"));
	arr = json_object_get(j, "topics");
	p->n_topics = json_array_size(arr);
	p->topics = sk_arena_alloc(a, (p->n_topics + 1) * sizeof(char *));
	json_array_foreach(arr, i, v) p->topics[i] = json_string_value(v);
	arr = json_object_get(j, "attachments");
	p->n_attachment_ids = json_array_size(arr);
	{
		int64_t *ids = sk_arena_alloc(
			a, (p->n_attachment_ids + 1) * sizeof(int64_t));
		json_array_foreach(arr, i, v) ids[i] = json_integer_value(v);
		p->attachment_ids = ids;
	}
}

struct practice_ctx {
	const struct sk_practice *p;
	const char *actor;
	const char *action;
	int64_t id, audit;
};

static enum sk_status
practice_save_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct practice_ctx *c = vctx;
	int64_t partner, *topics = sk_xcalloc(c->p->n_topics + 1, sizeof(int64_t));
	bool create = !strcmp(c->action, "practice.create") ||
		      !strcmp(c->action, "practice.promote");
	json_t *jo = NULL, *jn = NULL;
	char object[48];
	enum sk_status rc = practice_check(ix, c->p, &partner, topics, err);

	if (rc)
		goto out;
	if (create) {
		const char *who = c->actor && *c->actor ? c->actor : "cli";
		rc = run(ix, err,
			 "INSERT INTO practices(title, created_by, created_at, "
			 "updated_by, updated_at) VALUES (?1, ?2, ?3, ?2, ?3)",
			 "tti", "", who, (int64_t)time(NULL));
		c->id = sqlite3_last_insert_rowid(ix->db);
		jo = json_null();
	} else {
		int64_t x;
		c->id = c->p->id;
		rc = get_i64(ix, err, &x, "SELECT 1 FROM practices WHERE id = ?1",
			     "i", c->id);
		if (rc == SK_ENOTFOUND)
			rc = sk_err_set(err, SK_ENOTFOUND, "no practice %lld",
					(long long)c->id);
		if (!rc)
			jo = practice_json(ix, c->id);
	}
	if (!rc)
		rc = practice_write(ix, c->id, c->p, partner, topics, c->actor,
				    err);
	if (rc)
		goto out;
	jn = practice_json(ix, c->id);
	if (!create && json_equal(jo, jn))
		goto out; /* nothing changed */
	snprintf(object, sizeof(object), "practice:%lld", (long long)c->id);
	rc = audit_add(ix, c->actor, c->action, object, c->p->title, jo, jn,
		       0, &c->audit, err);
out:
	json_decref(jo);
	json_decref(jn);
	free(topics);
	return rc;
}

enum sk_status
sk_index_practice_create(struct sk_index *ix, const struct sk_practice *p,
			 const char *actor, int64_t *id_out,
			 int64_t *audit_id_out, struct sk_err *err)
{
	struct practice_ctx c = { p, actor, "practice.create", 0, 0 };
	enum sk_status rc = sk_index_autotx(ix, practice_save_tx, &c, err);
	if (id_out)
		*id_out = rc ? 0 : c.id;
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

enum sk_status
sk_index_practice_update(struct sk_index *ix, const struct sk_practice *p,
			 const char *actor, int64_t *audit_id_out,
			 struct sk_err *err)
{
	struct practice_ctx c = { p, actor, "practice.update", 0, 0 };
	enum sk_status rc = sk_index_autotx(ix, practice_save_tx, &c, err);
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

/* A subject without list tags and reply prefixes. */
static char *
clean_subject(struct sk_arena *a, const char *s)
{
	static const char *const prefixes[] = { "re:", "odp:", "odp.:", "pd:",
						"fwd:", "fw:", "aw:", "wg:" };
	bool again = true;
	while (again) {
		again = false;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '[' && strchr(s, ']')) {
			s = strchr(s, ']') + 1;
			again = true;
		}
		for (size_t i = 0; i < SK_ARRAY_SIZE(prefixes); i++)
			if (!strncasecmp(s, prefixes[i], strlen(prefixes[i]))) {
				s += strlen(prefixes[i]);
				again = true;
			}
	}
	return sk_arena_strndup(a, s, sk_utf8_clip(s, strlen(s), TITLE_MAX));
}

/* The author's own words of a message: before the quote, trimmed of the
 * greeting's blank lines, at most PREFILL_MAX bytes. */
static char *
own_text(struct sk_arena *a, const char *body, int64_t quote)
{
	size_t n = strlen(body);
	struct sk_str t;
	if (quote >= 0 && (size_t)quote < n)
		n = (size_t)quote;
	/* "W dniu ... pisze:" before the quote is the client's, not the
	 * author's. */
	t = sk_str_trim(body, n);
	{
		const char *nl = t.n ? memrchr(t.p, '\n', t.n) : NULL;
		const char *last = nl ? nl + 1 : t.p;
		size_t ll = (size_t)(t.p + t.n - last);
		if (ll && last[ll - 1] == ':' &&
		    (strstr(last, "pisze") || strstr(last, "napisał") ||
		     strstr(last, "wrote")))
			t = sk_str_trim(t.p, (size_t)(last - t.p));
	}
	return sk_arena_strndup(a, t.p, sk_utf8_clip(t.p, t.n, PREFILL_MAX));
}

static enum sk_status
promote_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct practice_ctx *c = vctx;
	int64_t thread = c->id;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_practice p = { 0 };
	sqlite3_stmt *st;
	const char **topics = NULL;
	int64_t *att = NULL, first_partner = -1;
	size_t n_t = 0, cap_t = 0, n_a = 0, cap_a = 0, best_len = 0;
	bool first = true;
	enum sk_status rc = thread_exists(ix, thread, err);

	if (rc)
		goto out;
	st = prepf(ix, err,
		   "SELECT subject FROM threads WHERE id = ?1", "i", thread);
	if (!st) {
		rc = err->code;
		goto out;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		p.title = clean_subject(a, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = prepf(ix, err,
		   "SELECT m.body, coalesce(m.quote_start, -1), m.from_name, "
		   "m.from_addr, coalesce(m.partner_id, 0), p.slug FROM messages m "
		   "LEFT JOIN partners p ON p.id = m.partner_id WHERE "
		   "m.thread_id = ?1 AND (m.flags & 8 = 0 OR m.approved_at IS "
		   "NOT NULL) ORDER BY m.date, m.id",
		   "i", thread);
	if (!st) {
		rc = err->code;
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		char *text = own_text(a, (const char *)sqlite3_column_text(st, 0),
				      sqlite3_column_int64(st, 1));
		int64_t partner = sqlite3_column_int64(st, 4);
		if (first) {
			/* The question is the problem; its author is the
			 * contact until a reply describes a solution. */
			p.problem = text;
			p.contact_name = col_str(a, st, 2);
			p.contact_email = col_str(a, st, 3);
			p.partner_slug = col_str(a, st, 5);
			first_partner = partner;
			first = false;
			continue;
		}
		/* The longest answer from another office describes how
		 * they do it. */
		if ((partner != first_partner || !partner) &&
		    strlen(text) > best_len) {
			best_len = strlen(text);
			p.solution = text;
			p.contact_name = col_str(a, st, 2);
			p.contact_email = col_str(a, st, 3);
			p.partner_slug = col_str(a, st, 5);
		}
	}
	sqlite3_finalize(st);
	st = prepf(ix, err,
		   "SELECT t.slug FROM thread_topics tt JOIN topics t ON t.id = "
		   "tt.topic_id WHERE tt.thread_id = ?1 AND tt.removed = 0 "
		   "ORDER BY tt.confidence DESC, t.position",
		   "i", thread);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		sk_xgrow((void **)&topics, &cap_t, n_t + 1, sizeof(*topics));
		topics[n_t++] = col_str(a, st, 0);
	}
	sqlite3_finalize(st);
	st = prepf(ix, err,
		   "SELECT a.id FROM attachments a JOIN messages m ON m.id = "
		   "a.message_id WHERE m.thread_id = ?1 AND (m.flags & 8 = 0 OR "
		   "m.approved_at IS NOT NULL) ORDER BY m.date, a.position",
		   "i", thread);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		sk_xgrow((void **)&att, &cap_a, n_a + 1, sizeof(*att));
		att[n_a++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (!p.title || !*p.title)
		p.title = "Praktyka bez tytułu";
	p.topics = topics;
	p.n_topics = n_t;
	p.attachment_ids = att;
	p.n_attachment_ids = n_a;
	p.source_thread_id = thread;
	p.status = SK_PRACTICE_DRAFT;
	c->p = &p;
	rc = practice_save_tx(ix, c, err);
out:
	free(topics);
	free(att);
	sk_arena_free(&a);
	return rc;
}

enum sk_status
sk_index_practice_promote(struct sk_index *ix, int64_t thread_id,
			  const char *actor, int64_t *id_out,
			  int64_t *audit_id_out, struct sk_err *err)
{
	struct practice_ctx c = { NULL, actor, "practice.promote", thread_id,
				  0 };
	enum sk_status rc = sk_index_autotx(ix, promote_tx, &c, err);
	if (id_out)
		*id_out = rc ? 0 : c.id;
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

static enum sk_status
undo_practice(struct sk_index *ix, const json_t *old, const json_t *new,
	      const char *object, const char *actor, struct sk_err *err)
{
	int64_t id = 0, partner = 0, *topics;
	struct sk_arena *a;
	struct sk_practice p;
	json_t *cur;
	bool same;
	enum sk_status rc;

	if (strncmp(object, "practice:", 9) ||
	    sk_parse_i64(object + 9, 1, INT64_MAX, &id, NULL))
		return sk_err_set(err, SK_EINVAL, "bad audit object '%s'", object);
	cur = practice_json(ix, id);
	same = json_equal(cur, new);
	json_decref(cur);
	if (!same)
		return sk_err_set(err, SK_EINVAL,
				  "Praktyka zmieniła się od tamtej pory.");
	if (json_is_null(old)) /* undo of create: it goes */
		return run(ix, err, "DELETE FROM practices WHERE id = ?1", "i",
			   id);
	a = sk_arena_new(0);
	practice_from_json(a, old, &p);
	topics = sk_arena_alloc(a, (p.n_topics + 1) * sizeof(int64_t));
	/* What was valid then may not be now (a topic or partner gone). */
	rc = practice_check(ix, &p, &partner, topics, err);
	if (!rc)
		rc = practice_write(ix, id, &p, partner, topics, actor, err);
	sk_arena_free(&a);
	return rc;
}

/* ---- the taxonomy ---------------------------------------------------------------- */

#define TOPIC_NAME_MAX 120
#define TOPIC_DESC_MAX 2000
#define TOPIC_KEYWORDS_MAX 8000
#define TOPIC_TAGS_MAX 1000

static bool
slug_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n && n < 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Keywords as the classifier reads them: words, each maybe with ":w". */
static bool
keywords_ok(const char *s)
{
	for (const char *p = s + strspn(s, " \t\n"); *p;) {
		size_t len = strcspn(p, " \t\n");
		const char *colon = memchr(p, ':', len);
		if (colon) {
			char buf[32], *end;
			size_t wl = len - (size_t)(colon - p) - 1;
			double w;
			if (colon == p || wl == 0 || wl >= sizeof(buf))
				return false;
			memcpy(buf, colon + 1, wl);
			buf[wl] = '\0';
			w = strtod(buf, &end);
			if (*end || !(w > 0 && w <= 10))
				return false;
		}
		p += len;
		p += strspn(p, " \t\n");
	}
	return true;
}

/* Check d; *parent_out gets the parent's id (0: first level). self is the
 * topic edited (0 when adding). */
static enum sk_status
topic_def_check(struct sk_index *ix, const struct sk_topic_def *d,
		int64_t self, int64_t *parent_out, struct sk_err *err)
{
	int64_t x;
	enum sk_status rc;

	*parent_out = 0;
	if (!d->name || !*d->name || strspn(d->name, " ") == strlen(d->name))
		return sk_err_set(err, SK_EINVAL, "Podaj nazwę tematu.");
	if ((rc = check_field(d->name, TOPIC_NAME_MAX, true, "nazwa", err)) ||
	    (rc = check_field(d->description, TOPIC_DESC_MAX, false, "opis",
			  err)) ||
	    (rc = check_field(d->keywords, TOPIC_KEYWORDS_MAX, false,
			  "słowa kluczowe", err)) ||
	    (rc = check_field(d->subject_tags, TOPIC_TAGS_MAX, true,
			  "znaczniki tematu wiadomości", err)))
		return rc;
	if (d->keywords && !keywords_ok(d->keywords))
		return sk_err_set(err, SK_EINVAL,
				  "Słowa kluczowe: wagę podaj po dwukropku "
				  "jako liczbę od 0 do 10, np. „przetarg:0.5”.");
	if (!d->parent_slug || !*d->parent_slug)
		return SK_OK;
	rc = get_i64(ix, err, parent_out,
		     "SELECT id FROM topics WHERE slug = ?1 AND parent_id IS "
		     "NULL",
		     "t", d->parent_slug);
	if (rc == SK_ENOTFOUND)
		return sk_err_set(err, SK_EINVAL,
				  "Tematem nadrzędnym może być tylko istniejący "
				  "temat pierwszego poziomu.");
	if (rc)
		return rc;
	if (*parent_out == self)
		return sk_err_set(err, SK_EINVAL,
				  "Temat nie może być nadrzędny sam dla siebie.");
	if (self && !get_i64(ix, NULL, &x,
			     "SELECT 1 FROM topics WHERE parent_id = ?1", "i",
			     self))
		return sk_err_set(err, SK_EINVAL,
				  "Ten temat ma podtematy: nie może mieć tematu "
				  "nadrzędnego (najwyżej dwa poziomy).");
	return SK_OK;
}

static json_t *
topic_json(struct sk_index *ix, int64_t id)
{
	sqlite3_stmt *st = prepf(
		ix, NULL,
		"SELECT t.slug, t.name, t.description, t.keywords, "
		"t.subject_tags, p.slug FROM topics t LEFT JOIN topics p ON "
		"p.id = t.parent_id WHERE t.id = ?1",
		"i", id);
	json_t *j = NULL;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		j = json_pack(
			"{s:s,s:s,s:s,s:s,s:s,s:o}", "slug",
			(const char *)sqlite3_column_text(st, 0), "name",
			(const char *)sqlite3_column_text(st, 1), "description",
			(const char *)sqlite3_column_text(st, 2), "keywords",
			(const char *)sqlite3_column_text(st, 3), "subject_tags",
			(const char *)sqlite3_column_text(st, 4), "parent",
			jstr((const char *)sqlite3_column_text(st, 5)));
	sqlite3_finalize(st);
	return j ? j : json_null();
}

/* The classifier of every handle (this one and other processes') is
 * rebuilt from the new definitions: classify.c watches this meta key. */
static enum sk_status
topics_changed(struct sk_index *ix, struct sk_err *err)
{
	enum sk_status rc = run(
		ix, err,
		"INSERT INTO meta(key, value) VALUES ('topics.generation', '1') "
		"ON CONFLICT(key) DO UPDATE SET value = "
		"CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
		"");
	sk_classifier_free(&ix->classifier);
	return rc;
}

struct topic_save_ctx {
	const struct sk_topic_def *d;
	bool create;
	const char *actor;
	int64_t audit;
};

static enum sk_status
topic_save_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct topic_save_ctx *c = vctx;
	const struct sk_topic_def *d = c->d;
	int64_t id = 0, parent;
	json_t *old = NULL, *new = NULL;
	char *object;
	size_t olen;
	enum sk_status rc;

	if (!slug_ok(d->slug))
		return sk_err_set(err, SK_EINVAL,
				  "Adres tematu: od 1 do 63 znaków, małe "
				  "litery bez polskich znaków, cyfry i „-”.");
	rc = get_i64(ix, err, &id, "SELECT id FROM topics WHERE slug = ?1",
		     "t", d->slug);
	if (c->create && rc == SK_OK)
		return sk_err_set(err, SK_EEXIST,
				  "Temat o adresie „%s” już istnieje.", d->slug);
	if (!c->create && rc == SK_ENOTFOUND)
		return sk_err_set(err, SK_ENOTFOUND, "no topic '%s'", d->slug);
	if (rc && rc != SK_ENOTFOUND)
		return rc;
	if ((rc = topic_def_check(ix, d, c->create ? 0 : id, &parent, err)))
		return rc;
	if (c->create) {
		old = json_null();
		rc = run(ix, err,
			 "INSERT INTO topics(slug, name, description, keywords, "
			 "subject_tags, parent_id, position) VALUES (?1, ?2, "
			 "?3, ?4, ?5, nullif(?6, 0), (SELECT coalesce(max("
			 "position), -1) + 1 FROM topics))",
			 "ttttti", d->slug, d->name, nz(d->description),
			 nz(d->keywords), nz(d->subject_tags), parent);
		id = sqlite3_last_insert_rowid(ix->db);
	} else {
		old = topic_json(ix, id);
		rc = run(ix, err,
			 "UPDATE topics SET name = ?2, description = ?3, "
			 "keywords = ?4, subject_tags = ?5, parent_id = "
			 "nullif(?6, 0) WHERE id = ?1",
			 "itttti", id, d->name, nz(d->description),
			 nz(d->keywords), nz(d->subject_tags), parent);
	}
	if (!rc)
		rc = topics_changed(ix, err);
	new = topic_json(ix, id);
	olen = strlen(d->slug) + 8;
	object = sk_xmalloc(olen);
	snprintf(object, olen, "topic:%s", d->slug);
	if (!rc)
		rc = audit_add(ix, c->actor, c->create ? "topic.add" : "topic.edit",
			       object, d->name, old, new, 0, &c->audit, err);
	free(object);
	json_decref(old);
	json_decref(new);
	return rc;
}

enum sk_status
sk_index_topic_save(struct sk_index *ix, const struct sk_topic_def *d,
		    bool create, const char *actor, int64_t *audit_id_out,
		    struct sk_err *err)
{
	struct topic_save_ctx c = { d, create, actor, 0 };
	enum sk_status rc = sk_index_autotx(ix, topic_save_tx, &c, err);
	if (audit_id_out)
		*audit_id_out = rc ? 0 : c.audit;
	return rc;
}

enum sk_status
sk_index_topic_def(struct sk_index *ix, struct sk_arena *a, const char *slug,
		   struct sk_topic_def *out, struct sk_err *err)
{
	sqlite3_stmt *st = prepf(
		ix, err,
		"SELECT t.slug, t.name, t.description, t.keywords, "
		"t.subject_tags, p.slug FROM topics t LEFT JOIN topics p ON "
		"p.id = t.parent_id WHERE t.slug = ?1",
		"t", slug ? slug : "");
	int rc;
	if (!st)
		return err->code;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->slug = col_str0(a, st, 0);
		out->name = col_str0(a, st, 1);
		out->description = col_str0(a, st, 2);
		out->keywords = col_str0(a, st, 3);
		out->subject_tags = col_str0(a, st, 4);
		out->parent_slug = col_str(a, st, 5);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "no topic '%s'",
				  slug ? slug : "");
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "read topic", err);
	return SK_OK;
}

static enum sk_status
undo_topic(struct sk_index *ix, const json_t *old, const json_t *new,
	   struct sk_err *err)
{
	const char *slug = jget_str(new, "slug");
	int64_t id, parent = 0, x;
	json_t *cur;
	bool same;
	enum sk_status rc;

	rc = get_i64(ix, err, &id, "SELECT id FROM topics WHERE slug = ?1",
		     "t", slug);
	if (rc == SK_ENOTFOUND)
		return sk_err_set(err, SK_EINVAL, "Tematu „%s” już nie ma.",
				  slug ? slug : "");
	if (rc)
		return rc;
	cur = topic_json(ix, id);
	same = json_equal(cur, new);
	json_decref(cur);
	if (!same)
		return sk_err_set(err, SK_EINVAL,
				  "Temat zmienił się od tamtej pory.");
	if (json_is_null(old)) { /* undo of an addition: it goes */
		if (!get_i64(ix, NULL, &x,
			     "SELECT 1 FROM thread_topics WHERE topic_id = ?1 "
			     "AND source = 'manual' UNION ALL SELECT 1 FROM "
			     "message_topics WHERE topic_id = ?1 AND source = "
			     "'manual' UNION ALL SELECT 1 FROM topic_pins WHERE "
			     "topic_id = ?1 UNION ALL SELECT 1 FROM "
			     "practice_topics WHERE topic_id = ?1 UNION ALL "
			     "SELECT 1 FROM topics WHERE parent_id = ?1 LIMIT 1",
			     "i", id))
			return sk_err_set(err, SK_EINVAL,
					  "Temat jest już używany (ręczne "
					  "decyzje, przypięcia, praktyki lub "
					  "podtematy): nie można cofnąć jego "
					  "dodania.");
		/* Messages classified with it: their documents change. */
		sqlite3_stmt *st = prepf(ix, err,
					 "SELECT message_id FROM message_topics "
					 "WHERE topic_id = ?1",
					 "i", id);
		int64_t *ids = NULL;
		size_t n = 0, cap = 0;
		if (!st)
			return err->code;
		while (sqlite3_step(st) == SQLITE_ROW) {
			sk_xgrow((void **)&ids, &cap, n + 1, sizeof(*ids));
			ids[n++] = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		for (size_t i = 0; i < n; i++)
			sk_index_mark_dirty(ix, ids[i]);
		free(ids);
		rc = run(ix, err, "DELETE FROM topics WHERE id = ?1", "i", id);
	} else {
		const char *ps = jget_str(old, "parent");
		if (ps && get_i64(ix, err, &parent,
				  "SELECT id FROM topics WHERE slug = ?1 AND "
				  "parent_id IS NULL",
				  "t", ps))
			return sk_err_set(err, SK_EINVAL,
					  "Dawnego tematu nadrzędnego „%s” już "
					  "nie ma.",
					  ps);
		rc = run(ix, err,
			 "UPDATE topics SET name = ?2, description = ?3, "
			 "keywords = ?4, subject_tags = ?5, parent_id = "
			 "nullif(?6, 0) WHERE id = ?1",
			 "itttti", id, jget_str(old, "name"),
			 nz(jget_str(old, "description")),
			 nz(jget_str(old, "keywords")),
			 nz(jget_str(old, "subject_tags")), parent);
	}
	if (!rc)
		rc = topics_changed(ix, err);
	return rc;
}

/* ---- undo ------------------------------------------------------------------------ */

struct undo_ctx {
	int64_t id;
	const char *actor;
	int64_t audit;
};

/* A later change, not undone, that touches one of the objects. */
static int64_t
later_change(struct sk_index *ix, int64_t id, const char *objects)
{
	char *copy = sk_xstrdup(objects), *save = NULL;
	int64_t later = 0;
	for (char *o = strtok_r(copy, " ", &save); o && !later;
	     o = strtok_r(NULL, " ", &save)) {
		size_t n = strlen(o) + 3;
		char *tok = sk_xmalloc(n);
		snprintf(tok, n, " %s ", o);
		get_i64(ix, NULL, &later,
			"SELECT id FROM audit WHERE id > ?1 AND undo_of IS NULL "
			"AND undone_by IS NULL AND instr(' ' || object || ' ', "
			"?2) > 0 ORDER BY id LIMIT 1",
			"it", id, tok);
		free(tok);
	}
	free(copy);
	return later;
}

static enum sk_status
undo_tx(struct sk_index *ix, void *vctx, struct sk_err *err)
{
	struct undo_ctx *c = vctx;
	sqlite3_stmt *st = prepf(
		ix, err,
		"SELECT action, object, old_json, new_json, undo_of, undone_by "
		"FROM audit WHERE id = ?1",
		"i", c->id);
	struct sk_arena *a = sk_arena_new(0);
	const char *action = NULL, *object = NULL, *os = NULL, *ns = NULL;
	int64_t undo_of = 0, undone_by = 0, later;
	json_t *old = NULL, *new = NULL;
	bool found, labels = false;
	char *detail;
	enum sk_status rc = SK_OK;

	if (!st) {
		sk_arena_free(&a);
		return err->code;
	}
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found) {
		action = col_str0(a, st, 0);
		object = col_str0(a, st, 1);
		os = col_str(a, st, 2);
		ns = col_str(a, st, 3);
		undo_of = sqlite3_column_int64(st, 4);
		undone_by = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	if (!found) {
		rc = sk_err_set(err, SK_ENOTFOUND, "no audit row %lld",
				(long long)c->id);
		goto out;
	}
	if (undo_of) {
		rc = sk_err_set(err, SK_EINVAL,
				"To jest cofnięcie zmiany %lld: aby ją przywrócić, "
				"wprowadź ją ponownie.",
				(long long)undo_of);
		goto out;
	}
	if (undone_by) {
		rc = sk_err_set(err, SK_EINVAL,
				"Ta zmiana została już cofnięta (%lld).",
				(long long)undone_by);
		goto out;
	}
	old = os ? json_loads(os, JSON_DECODE_ANY, NULL) : NULL;
	new = ns ? json_loads(ns, JSON_DECODE_ANY, NULL) : NULL;
	if (!old || !new) {
		rc = sk_err_set(err, SK_EINVAL, "Tej zmiany nie można cofnąć.");
		goto out;
	}
	later = later_change(ix, c->id, object);
	if (later) {
		rc = sk_err_set(err, SK_EINVAL,
				"Najpierw cofnij późniejszą zmianę %lld.",
				(long long)later);
		goto out;
	}
	if (!strcmp(action, "thread.topic") || !strcmp(action, "thread.confirm")) {
		rc = undo_topics(ix, old, new, err);
		labels = true;
	} else if (!strcmp(action, "thread.split")) {
		rc = undo_split(ix, new, err);
		labels = true;
	} else if (!strcmp(action, "thread.join")) {
		rc = undo_join(ix, old, err);
		labels = true;
	} else if (!strcmp(action, "topic.pin") || !strcmp(action, "topic.unpin")) {
		rc = undo_pin(ix, old, new, err);
	} else if (!strcmp(action, "message.approve")) {
		rc = undo_approve(ix, new, err);
	} else if (!strcmp(action, "topic.add") ||
		   !strcmp(action, "topic.edit")) {
		rc = undo_topic(ix, old, new, err);
	} else if (!strncmp(action, "practice.", 9)) {
		rc = undo_practice(ix, old, new, object, c->actor, err);
	} else {
		rc = sk_err_set(err, SK_EINVAL, "Tej zmiany nie można cofnąć.");
	}
	if (!rc && labels)
		rc = sk_index_model_update(ix, err);
	detail = sk_arena_printf(a, "undo %lld (%s)", (long long)c->id, action);
	if (!rc)
		rc = audit_add(ix, c->actor, "undo", object, detail, new, old,
			       c->id, &c->audit, err);
	if (!rc)
		rc = run(ix, err, "UPDATE audit SET undone_by = ?2 WHERE id = ?1",
			 "ii", c->id, c->audit);
out:
	json_decref(old);
	json_decref(new);
	sk_arena_free(&a);
	return rc;
}

enum sk_status
sk_index_audit_undo(struct sk_index *ix, int64_t audit_id, const char *actor,
		    struct sk_err *err)
{
	struct undo_ctx c = { audit_id, actor, 0 };
	return sk_index_autotx(ix, undo_tx, &c, err);
}

enum sk_status
sk_index_audit_list(struct sk_index *ix, struct sk_arena *a,
		    const char *object, size_t offset, size_t limit,
		    struct sk_audit_row **rows_out, size_t *n_out,
		    struct sk_err *err)
{
	char *tok = object ? sk_arena_printf(a, " %s ", object) : NULL;
	sqlite3_stmt *st = prepf(
		ix, err,
		"SELECT id, at, actor, action, object, detail, old_json, "
		"new_json, coalesce(undo_of, 0), coalesce(undone_by, 0) FROM "
		"audit WHERE ?1 IS NULL OR instr(' ' || object || ' ', ?1) > 0 "
		"ORDER BY id DESC LIMIT ?2 OFFSET ?3",
		"tii", tok, (int64_t)(limit ? limit : 50), (int64_t)offset);
	struct sk_audit_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (!st)
		return err->code;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sk_audit_row *r;
		rows = arena_grow(a, rows, n, &cap, sizeof(*rows));
		r = &rows[n++];
		r->id = sqlite3_column_int64(st, 0);
		r->at = (time_t)sqlite3_column_int64(st, 1);
		r->actor = col_str0(a, st, 2);
		r->action = col_str0(a, st, 3);
		r->object = col_str0(a, st, 4);
		r->detail = col_str0(a, st, 5);
		r->old_json = col_str(a, st, 6);
		r->new_json = col_str(a, st, 7);
		r->undo_of = sqlite3_column_int64(st, 8);
		r->undone_by = sqlite3_column_int64(st, 9);
		r->can_undo = r->old_json && r->new_json && !r->undo_of &&
			      !r->undone_by;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "list audit", err);
	/* Blocked by a later change: no button. */
	for (size_t i = 0; i < n; i++)
		if (rows[i].can_undo && later_change(ix, rows[i].id, rows[i].object))
			rows[i].can_undo = false;
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

/* ---- reading practices ------------------------------------------------------------ */

#define PRACTICE_COLS                                                        \
	"p.id, p.title, s.slug, s.name, p.problem, p.solution, p.results, "  \
	"p.costs, p.period, p.stakeholders, p.lessons, p.contact_name, "    \
	"p.contact_email, coalesce(p.source_thread_id, 0), "                \
	"(SELECT subject FROM threads WHERE id = p.source_thread_id), "     \
	"p.status, p.created_by, p.updated_by, p.created_at, p.updated_at "

static void
practice_topics(struct sk_index *ix, struct sk_arena *a, struct sk_practice *p)
{
	sqlite3_stmt *st = prepf(
		ix, NULL,
		"SELECT t.slug FROM practice_topics pt JOIN topics t ON t.id = "
		"pt.topic_id WHERE pt.practice_id = ?1 ORDER BY t.position",
		"i", p->id);
	const char **v = NULL;
	size_t n = 0, cap = 0;
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		v = arena_grow(a, v, n, &cap, sizeof(*v));
		v[n++] = col_str0(a, st, 0);
	}
	sqlite3_finalize(st);
	p->topics = v;
	p->n_topics = n;
}

static void
practice_row(struct sk_arena *a, sqlite3_stmt *st, const struct sk_viewer *v,
	     bool full, struct sk_practice *p)
{
	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	p->title = col_str0(a, st, 1);
	p->partner_slug = col_str(a, st, 2);
	p->partner_name = col_str(a, st, 3);
	if (full) {
		p->problem = col_str0(a, st, 4);
		p->solution = col_str0(a, st, 5);
		p->results = col_str0(a, st, 6);
		p->costs = col_str0(a, st, 7);
		p->period = col_str0(a, st, 8);
		p->stakeholders = col_str0(a, st, 9);
		p->lessons = col_str0(a, st, 10);
	}
	/* Personal data: logged-in viewers only. */
	if (v && v->logged_in) {
		p->contact_name = col_str0(a, st, 11);
		p->contact_email = col_str0(a, st, 12);
	}
	p->source_thread_id = sqlite3_column_int64(st, 13);
	p->source_subject = col_str(a, st, 14);
	p->status = status_of((const char *)sqlite3_column_text(st, 15));
	p->created_by = col_str0(a, st, 16);
	p->updated_by = col_str0(a, st, 17);
	p->created_at = (time_t)sqlite3_column_int64(st, 18);
	p->updated_at = (time_t)sqlite3_column_int64(st, 19);
}

enum sk_status
sk_index_practice_get(struct sk_index *ix, struct sk_arena *a,
		      const struct sk_viewer *v, int64_t id,
		      struct sk_practice *out, struct sk_err *err)
{
	sqlite3_stmt *st = prepf(
		ix, err,
		"SELECT " PRACTICE_COLS "FROM practices p LEFT JOIN partners s "
		"ON s.id = p.partner_id WHERE p.id = ?1 AND (?9 OR p.status = "
		"'validated')",
		"i", id);
	struct sk_practice_attachment *att = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (!st)
		return err->code;
	bind_viewer(st, v);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		practice_row(a, st, v, true, out);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return sk_err_set(err, SK_ENOTFOUND, "no practice %lld",
				  (long long)id);
	if (rc != SQLITE_ROW)
		return sk_ix_error(ix, rc, "read practice", err);
	practice_topics(ix, a, out);
	/* Attachments of held mail stay hidden like the mail itself. */
	st = prepf(ix, err,
		   "SELECT a.id, m.message_id, a.position, a.filename, "
		   "a.content_type, a.size FROM practice_attachments pa JOIN "
		   "attachments a ON a.id = pa.attachment_id JOIN messages m ON "
		   "m.id = a.message_id WHERE pa.practice_id = ?1 AND " VISIBLE("m")
		   " ORDER BY pa.position",
		   "i", id);
	if (!st)
		return err->code;
	bind_viewer(st, v);
	while (sqlite3_step(st) == SQLITE_ROW) {
		att = arena_grow(a, att, n, &cap, sizeof(*att));
		att[n].id = sqlite3_column_int64(st, 0);
		att[n].message_id = col_str0(a, st, 1);
		att[n].position = sqlite3_column_int(st, 2);
		att[n].filename = col_str0(a, st, 3);
		att[n].content_type = col_str0(a, st, 4);
		att[n].size = sqlite3_column_int64(st, 5);
		n++;
	}
	sqlite3_finalize(st);
	out->attachments = att;
	out->n_attachments = n;
	return SK_OK;
}

/* ?1 topic (0 any; a parent includes its subtopics), ?2 partner (0 any),
 * ?3 status (NULL: what the viewer may see), ?9 coordinator. */
#define PRACTICES_FROM                                                       \
	"FROM practices p LEFT JOIN partners s ON s.id = p.partner_id WHERE " \
	"(?1 = 0 OR EXISTS (SELECT 1 FROM practice_topics pt JOIN topics t " \
	"ON t.id = pt.topic_id WHERE pt.practice_id = p.id AND (t.id = ?1 "  \
	"OR t.parent_id = ?1))) AND (?2 = 0 OR p.partner_id = ?2) AND "      \
	"(CASE WHEN ?9 THEN ?3 IS NULL OR p.status = ?3 ELSE p.status = "    \
	"'validated' AND (?3 IS NULL OR ?3 = 'validated') END) "

enum sk_status
sk_index_practices(struct sk_index *ix, struct sk_arena *a,
		   const struct sk_viewer *v, const struct sk_practice_filter *f,
		   struct sk_practice **rows_out, size_t *n_out,
		   int64_t *total_out, struct sk_err *err)
{
	int64_t topic = 0, partner = 0;
	size_t limit = f->limit ? f->limit : 20, n = 0;
	const char *status = f->status >= 0
				     ? sk_practice_status_name(
					       (enum sk_practice_status)f->status)
				     : NULL;
	struct sk_practice *rows;
	sqlite3_stmt *st;
	enum sk_status rc;
	int src;

	if (limit > 500)
		limit = 500;
	if (f->topic && (rc = topic_id(ix, f->topic, &topic, err)))
		return rc;
	if (f->partner && (rc = partner_id(ix, f->partner, &partner, err)))
		return rc;
	st = prepf(ix, err, "SELECT count(*) " PRACTICES_FROM, "iit", topic,
		   partner, status);
	if (!st)
		return err->code;
	bind_viewer(st, v);
	src = sqlite3_step(st);
	*total_out = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (src != SQLITE_ROW)
		return sk_ix_error(ix, src, "count practices", err);
	st = prepf(ix, err,
		   "SELECT " PRACTICE_COLS PRACTICES_FROM
		   "ORDER BY p.updated_at DESC, p.id DESC LIMIT ?4 OFFSET ?5",
		   "iitii", topic, partner, status, (int64_t)limit,
		   (int64_t)f->offset);
	if (!st)
		return err->code;
	bind_viewer(st, v);
	rows = sk_arena_alloc(a, (limit + 1) * sizeof(*rows));
	while ((src = sqlite3_step(st)) == SQLITE_ROW && n < limit)
		practice_row(a, st, v, false, &rows[n++]);
	sqlite3_finalize(st);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		return sk_ix_error(ix, src, "list practices", err);
	for (size_t i = 0; i < n; i++)
		practice_topics(ix, a, &rows[i]);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

/* ---- reading threads: pins, onboarding, quarters -------------------------------- */

static void
thread_topic_slugs(struct sk_index *ix, struct sk_arena *a,
		   struct sk_thread_row *r)
{
	sqlite3_stmt *st = prepf(
		ix, NULL,
		"SELECT t.slug FROM thread_topics tt JOIN topics t ON t.id = "
		"tt.topic_id WHERE tt.thread_id = ?1 AND tt.removed = 0 ORDER BY "
		"tt.confidence DESC, t.position",
		"i", r->id);
	const char **v = NULL;
	size_t n = 0, cap = 0;
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		v = arena_grow(a, v, n, &cap, sizeof(*v));
		v[n++] = col_str0(a, st, 0);
	}
	sqlite3_finalize(st);
	r->topics = v;
	r->n_topics = n;
}

/* Columns 0..5 are THREAD_COLS. */
static void
thread_row(struct sk_index *ix, struct sk_arena *a, sqlite3_stmt *st,
	   struct sk_thread_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->subject = col_str0(a, st, 1);
	r->first_date = (time_t)sqlite3_column_int64(st, 2);
	r->last_date = (time_t)sqlite3_column_int64(st, 3);
	r->messages = sqlite3_column_int64(st, 4);
	r->first_from = col_str0(a, st, 5);
	(void)ix;
}

static enum sk_status
pins_of(struct sk_index *ix, struct sk_arena *a, const struct sk_viewer *v,
	int64_t topic, size_t limit, struct sk_pin_row **rows_out,
	size_t *n_out, struct sk_err *err)
{
	sqlite3_stmt *st = prepf(
		ix, err,
		"SELECT " THREAD_COLS ", p.position, p.note, p.pinned_by, "
		"p.pinned_at FROM topic_pins p JOIN threads th ON th.id = "
		"p.thread_id WHERE p.topic_id = ?1 AND " THREAD_VISIBLE
		" ORDER BY p.position, p.pinned_at, th.id LIMIT ?2",
		"ii", topic, (int64_t)(limit ? limit : 1000));
	struct sk_pin_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	if (!st)
		return err->code;
	bind_viewer(st, v);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows = arena_grow(a, rows, n, &cap, sizeof(*rows));
		thread_row(ix, a, st, &rows[n].thread);
		rows[n].position = sqlite3_column_int(st, 6);
		rows[n].note = col_str0(a, st, 7);
		rows[n].pinned_by = col_str0(a, st, 8);
		rows[n].pinned_at = (time_t)sqlite3_column_int64(st, 9);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "read pins", err);
	for (size_t i = 0; i < n; i++)
		thread_topic_slugs(ix, a, &rows[i].thread);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

enum sk_status
sk_index_topic_pins(struct sk_index *ix, struct sk_arena *a,
		    const struct sk_viewer *v, const char *topic_slug,
		    struct sk_pin_row **rows_out, size_t *n_out,
		    struct sk_err *err)
{
	int64_t topic;
	enum sk_status rc = topic_id(ix, topic_slug, &topic, err);
	if (rc)
		return rc;
	return pins_of(ix, a, v, topic, 0, rows_out, n_out, err);
}

/* The topics in taxonomy order with their visible threads counted as all
 * minus those with nothing but held mail (cheap: see THREAD_VISIBLE). */
enum sk_status
sk_index_topics(struct sk_index *ix, struct sk_arena *a,
		const struct sk_viewer *v, struct sk_topic_row **rows_out,
		size_t *n_out, struct sk_err *err)
{
	/* Every page lists the topics: kept per handle (facets.c). */
	struct sk_ix_version ver;
	if (sk_index_topics_cached(ix, a, v && v->coordinator, rows_out,
				   n_out, &ver))
		return SK_OK;
	sqlite3_stmt *st = prep(
		ix,
		"SELECT t.id, t.slug, t.name, t.description, p.slug, (SELECT "
		"count(*) FROM thread_topics tt WHERE tt.topic_id = t.id AND "
		"tt.removed = 0) - CASE WHEN ?9 THEN 0 ELSE (SELECT count(*) "
		"FROM thread_topics tt JOIN threads th ON th.id = tt.thread_id "
		"WHERE tt.topic_id = t.id AND tt.removed = 0 AND th.id IN "
		"(SELECT thread_id FROM messages WHERE " HELD ") AND NOT "
		THREAD_VISIBLE ") END FROM topics t LEFT JOIN topics p ON p.id = "
		"t.parent_id ORDER BY coalesce(p.position, t.position), "
		"t.parent_id IS NOT NULL, t.position",
		err);
	struct sk_topic_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	if (!st)
		return err->code;
	bind_viewer(st, v);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows = arena_grow(a, rows, n, &cap, sizeof(*rows));
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].slug = col_str0(a, st, 1);
		rows[n].name = col_str0(a, st, 2);
		rows[n].description = col_str0(a, st, 3);
		rows[n].parent_slug = col_str(a, st, 4);
		rows[n].threads = sqlite3_column_int64(st, 5);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "list topics", err);
	sk_index_topics_keep(ix, v && v->coordinator, rows, n, &ver);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

enum sk_status
sk_index_onboarding(struct sk_index *ix, struct sk_arena *a,
		    const struct sk_viewer *v, size_t per_topic,
		    struct sk_onboarding_topic **topics_out, size_t *n_out,
		    struct sk_err *err)
{
	struct sk_topic_row *topics = NULL;
	struct sk_onboarding_topic *out;
	size_t n_topics = 0, n = 0;
	enum sk_status rc;

	if (!per_topic)
		per_topic = 5;
	if (per_topic > 100)
		per_topic = 100;
	if ((rc = sk_index_topics(ix, a, v, &topics, &n_topics, err)))
		return rc;
	out = sk_arena_alloc(a, (n_topics + 1) * sizeof(*out));
	for (size_t i = 0; i < n_topics && !rc; i++) {
		struct sk_onboarding_topic *o = &out[n];
		struct sk_practice_filter pf = { topics[i].slug, NULL,
						 SK_PRACTICE_VALIDATED, 0,
						 per_topic };
		struct sk_viewer pv = v ? *v : (struct sk_viewer){ 0 };
		int64_t total;
		sqlite3_stmt *st;
		int src;

		o->topic = topics[i];
		if ((rc = pins_of(ix, a, v, topics[i].id, per_topic, &o->pinned,
				  &o->n_pinned, err)))
			break;
		pv.coordinator = false; /* validated records only */
		if ((rc = sk_index_practices(ix, a, &pv, &pf, &o->practices,
					     &o->n_practices, &total, err)))
			break;
		/* The most-referenced threads: most messages, then most
		 * partners taking part, then the newest. */
		/* Candidates by size alone (no message read), then the
		 * few ranked by size and partners taking part. */
		st = prepf(ix, err,
			   "SELECT " THREAD_COLS " FROM (SELECT th.* FROM "
			   "thread_topics tt JOIN threads th ON th.id = "
			   "tt.thread_id WHERE tt.topic_id = ?1 AND tt.removed = 0 "
			   "AND NOT EXISTS (SELECT 1 FROM topic_pins p WHERE "
			   "p.topic_id = ?1 AND p.thread_id = th.id) AND "
			   THREAD_VISIBLE " ORDER BY th.message_count DESC, "
			   "th.last_date DESC LIMIT ?3) th ORDER BY "
			   "th.message_count + (SELECT count(DISTINCT partner_id) "
			   "FROM messages pm WHERE pm.thread_id = th.id) DESC, "
			   "th.last_date DESC, th.id DESC LIMIT ?2",
			   "iii", topics[i].id, (int64_t)per_topic,
			   (int64_t)per_topic * 4);
		if (!st) {
			rc = err->code;
			break;
		}
		bind_viewer(st, v);
		o->threads = sk_arena_alloc(a, per_topic * sizeof(*o->threads));
		while ((src = sqlite3_step(st)) == SQLITE_ROW &&
		       o->n_threads < per_topic)
			thread_row(ix, a, st, &o->threads[o->n_threads++]);
		sqlite3_finalize(st);
		if (src != SQLITE_DONE && src != SQLITE_ROW) {
			rc = sk_ix_error(ix, src, "onboarding threads", err);
			break;
		}
		for (size_t k = 0; k < o->n_threads; k++)
			thread_topic_slugs(ix, a, &o->threads[k]);
		if (o->n_pinned || o->n_practices || o->n_threads)
			n++;
	}
	if (rc)
		return rc;
	*topics_out = out;
	*n_out = n;
	return SK_OK;
}

enum sk_status
sk_index_glossary(struct sk_index *ix, struct sk_arena *a,
		  struct sk_glossary_row **rows_out, size_t *n_out,
		  struct sk_err *err)
{
	sqlite3_stmt *st = prep(ix,
				"SELECT term, expansion, description, topic FROM "
				"glossary ORDER BY term COLLATE NOCASE",
				err);
	struct sk_glossary_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	if (!st)
		return err->code;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows = arena_grow(a, rows, n, &cap, sizeof(*rows));
		rows[n].term = col_str0(a, st, 0);
		rows[n].expansion = col_str0(a, st, 1);
		rows[n].description = col_str0(a, st, 2);
		rows[n].topic_slug = col_str0(a, st, 3);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sk_ix_error(ix, rc, "read glossary", err);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}

/* Quarter q (1-4) of year in Polish time: it starts at midnight of
 * 1 January (CET, UTC+1) or of 1 April, July, October (CEST, UTC+2: summer
 * time runs from the last Sunday of March to the last Sunday of October). */
static time_t
quarter_start(int year, int q)
{
	struct tm tm = { 0 };
	while (q > 4) {
		q -= 4;
		year++;
	}
	tm.tm_year = year - 1900;
	tm.tm_mon = (q - 1) * 3;
	tm.tm_mday = 1;
	return timegm(&tm) - (q == 1 ? 3600 : 7200);
}

static void
quarter_of(time_t t, int *year, int *q)
{
	struct tm tm;
	time_t local = t + 3600; /* CET; the boundaries below fix DST */
	gmtime_r(&local, &tm);
	*year = tm.tm_year + 1900;
	*q = tm.tm_mon / 3 + 1;
	if (t >= quarter_start(*year, *q + 1)) {
		if (++*q > 4) {
			*q = 1;
			++*year;
		}
	} else if (t < quarter_start(*year, *q)) {
		if (--*q < 1) {
			*q = 4;
			--*year;
		}
	}
}

/* What a reader sees is counted as everything minus the threads that
 * have held mail and nothing else. ?1, ?2 the range, ?9 coordinator. */
#define COUNT_QUARTER_THREADS                                                \
	"SELECT (SELECT count(*) FROM threads WHERE first_date >= ?1 AND "   \
	"first_date < ?2) - CASE WHEN ?9 THEN 0 ELSE (SELECT count(*) FROM " \
	"threads th WHERE th.first_date >= ?1 AND th.first_date < ?2 AND "   \
	"th.id IN (SELECT thread_id FROM messages WHERE " HELD ") AND NOT "  \
	THREAD_VISIBLE ") END"

static bool
parse_quarter(const char *s, int *year, int *q)
{
	char *end = NULL;
	long y;
	if (!s || strlen(s) != 7 || s[4] != '-' || s[5] != 'Q' || s[6] < '1' ||
	    s[6] > '4')
		return false;
	y = strtol(s, &end, 10);
	if (end != s + 4 || y < 1970 || y > 9999)
		return false;
	*year = (int)y;
	*q = s[6] - '0';
	return true;
}

enum sk_status
sk_index_quarters(struct sk_index *ix, struct sk_arena *a,
		  const struct sk_viewer *v, struct sk_quarter_row **rows_out,
		  size_t *n_out, struct sk_err *err)
{
	/* Counting every quarter is slow on a big archive: the rows are
	 * kept per handle until the store changes (facets.c). */
	struct sk_ix_version ver;
	if (sk_index_quarters_cached(ix, a, v && v->coordinator, rows_out,
				     n_out, &ver))
		return SK_OK;
	sqlite3_stmt *st = prep(ix,
				"SELECT min(date), max(date) FROM messages "
				"WHERE date > 0",
				err);
	sqlite3_stmt *cnt_t = NULL, *cnt_m = NULL;
	struct sk_quarter_row *rows = NULL;
	size_t n = 0, cap = 0;
	int64_t lo = 0, hi = 0;
	int y, q, ylo, qlo;
	enum sk_status rc = SK_OK;

	if (!st)
		return err->code;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		lo = sqlite3_column_int64(st, 0);
		hi = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	*rows_out = NULL;
	*n_out = 0;
	if (!hi)
		return SK_OK;
	cnt_t = prep(ix, COUNT_QUARTER_THREADS, err);
	cnt_m = prep(ix,
		     "SELECT (SELECT count(*) FROM messages WHERE date >= ?1 AND "
		     "date < ?2) - CASE WHEN ?9 THEN 0 ELSE (SELECT count(*) FROM "
		     "messages WHERE date >= ?1 AND date < ?2 AND " HELD ") END",
		     err);
	if (!cnt_t || !cnt_m) {
		rc = err->code;
		goto out;
	}
	quarter_of((time_t)hi, &y, &q);
	quarter_of((time_t)lo, &ylo, &qlo);
	while (!rc && (y > ylo || (y == ylo && q >= qlo))) {
		time_t from = quarter_start(y, q), to = quarter_start(y, q + 1);
		int64_t threads = 0, messages = 0;
		sqlite3_stmt *both[2] = { cnt_t, cnt_m };
		int64_t *outs[2] = { &threads, &messages };
		for (int k = 0; k < 2; k++) {
			sqlite3_reset(both[k]);
			sqlite3_bind_int64(both[k], 1, (int64_t)from);
			sqlite3_bind_int64(both[k], 2, (int64_t)to);
			bind_viewer(both[k], v);
			if (sqlite3_step(both[k]) == SQLITE_ROW)
				*outs[k] = sqlite3_column_int64(both[k], 0);
			else
				rc = sk_ix_error(ix, sqlite3_reset(both[k]),
						 "count quarter", err);
		}
		if (!rc && (threads || messages)) {
			rows = arena_grow(a, rows, n, &cap, sizeof(*rows));
			rows[n].quarter = sk_arena_printf(a, "%04d-Q%d", y, q);
			rows[n].from = from;
			rows[n].to = to;
			rows[n].threads = threads;
			rows[n].messages = messages;
			n++;
		}
		if (--q < 1) {
			q = 4;
			y--;
		}
	}
	*rows_out = rows;
	*n_out = n;
	if (!rc)
		sk_index_quarters_keep(ix, v && v->coordinator, rows, n, &ver);
out:
	sqlite3_finalize(cnt_t);
	sqlite3_finalize(cnt_m);
	return rc;
}

enum sk_status
sk_index_quarter_threads(struct sk_index *ix, struct sk_arena *a,
			 const struct sk_viewer *v, const char *quarter,
			 size_t offset, size_t limit,
			 struct sk_thread_row **rows_out, size_t *n_out,
			 int64_t *total_out, struct sk_err *err)
{
	int y, q;
	time_t from, to;
	sqlite3_stmt *st;
	struct sk_thread_row *rows;
	size_t n = 0;
	int src;

	if (!parse_quarter(quarter, &y, &q))
		return sk_err_set(err, SK_EINVAL,
				  "Kwartał zapisuje się jako RRRR-Qn, np. 2024-Q2.");
	if (!limit)
		limit = 20;
	if (limit > 500)
		limit = 500;
	from = quarter_start(y, q);
	to = quarter_start(y, q + 1);
	st = prepf(ix, err, COUNT_QUARTER_THREADS, "ii", (int64_t)from,
		   (int64_t)to);
	if (!st)
		return err->code;
	bind_viewer(st, v);
	src = sqlite3_step(st);
	*total_out = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (src != SQLITE_ROW)
		return sk_ix_error(ix, src, "count quarter", err);
	st = prepf(ix, err,
		   "SELECT " THREAD_COLS " FROM threads th WHERE th.first_date "
		   ">= ?1 AND th.first_date < ?2 AND " THREAD_VISIBLE
		   " ORDER BY th.first_date, th.id LIMIT ?3 OFFSET ?4",
		   "iiii", (int64_t)from, (int64_t)to, (int64_t)limit,
		   (int64_t)offset);
	if (!st)
		return err->code;
	bind_viewer(st, v);
	rows = sk_arena_alloc(a, (limit + 1) * sizeof(*rows));
	while ((src = sqlite3_step(st)) == SQLITE_ROW && n < limit)
		thread_row(ix, a, st, &rows[n++]);
	sqlite3_finalize(st);
	if (src != SQLITE_DONE && src != SQLITE_ROW)
		return sk_ix_error(ix, src, "list quarter", err);
	for (size_t i = 0; i < n; i++)
		thread_topic_slugs(ix, a, &rows[i]);
	*rows_out = rows;
	*n_out = n;
	return SK_OK;
}
