/* tests/test_ingest_fake.h: an in-memory stand-in for the store calls that
 * ingest makes (begin/commit/rollback, add_message, sources), with the
 * transaction semantics that matter here: what is not committed is gone
 * after a rollback. Included by the ingest run tests only; defining these
 * symbols in the test program keeps index/'s objects out of the link. */
#ifndef TEST_INGEST_FAKE_H
#define TEST_INGEST_FAKE_H

#include "ingest/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_msg {
	char *message_id, *subject, *from_name, *from_addr, *body, *list_id;
	char *parse_error, *in_reply_to, *att_status, *att_name, *att_text;
	unsigned flags;
	size_t n_attachments, raw_len, quote_start;
	char *raw;
};

struct fake_src {
	char kind[16];
	char loc[1024];
	struct sk_source_state st, pending;
	bool pending_set;
};

static struct {
	struct fake_msg *msgs;
	size_t n, cap, n_committed;
	struct fake_file {
		char *name;
		int64_t src;
	} * files;
	size_t n_files, cap_files, n_files_committed;
	struct fake_src src[8];
	size_t n_src;
	bool in_txn;
	int begins, commits, rollbacks;
	long adds;
	long fail_at; /* add number that fails with SK_EDB, or -1 */
} fx = { .fail_at = -1 };

static char *
fx_dup(const char *s)
{
	return s ? sk_xstrdup(s) : NULL;
}

static void
fx_free_msg(struct fake_msg *m)
{
	free(m->message_id);
	free(m->subject);
	free(m->from_name);
	free(m->from_addr);
	free(m->body);
	free(m->list_id);
	free(m->parse_error);
	free(m->in_reply_to);
	free(m->att_status);
	free(m->att_name);
	free(m->att_text);
	free(m->raw);
}

static void
fx_truncate(size_t n, size_t nf)
{
	while (fx.n > n)
		fx_free_msg(&fx.msgs[--fx.n]);
	while (fx.n_files > nf)
		free(fx.files[--fx.n_files].name);
}

static void
fx_reset(void)
{
	fx_truncate(0, 0);
	free(fx.msgs);
	free(fx.files);
	memset(&fx, 0, sizeof(fx));
	fx.fail_at = -1;
}

enum sk_status
sk_index_begin(struct sk_index *ix, struct sk_err *err)
{
	(void)ix;
	(void)err;
	if (fx.in_txn)
		SK_BUG("nested begin");
	fx.in_txn = true;
	fx.begins++;
	return SK_OK;
}

enum sk_status
sk_index_commit(struct sk_index *ix, struct sk_err *err)
{
	(void)ix;
	(void)err;
	if (!fx.in_txn)
		SK_BUG("commit without begin");
	fx.in_txn = false;
	fx.commits++;
	fx.n_committed = fx.n;
	fx.n_files_committed = fx.n_files;
	for (size_t i = 0; i < fx.n_src; i++)
		if (fx.src[i].pending_set) {
			fx.src[i].st = fx.src[i].pending;
			fx.src[i].pending_set = false;
		}
	return SK_OK;
}

void
sk_index_rollback(struct sk_index *ix)
{
	(void)ix;
	fx.in_txn = false;
	fx.rollbacks++;
	fx_truncate(fx.n_committed, fx.n_files_committed);
	for (size_t i = 0; i < fx.n_src; i++)
		fx.src[i].pending_set = false;
}

enum sk_status
sk_index_add_message(struct sk_index *ix, const struct sk_message *m,
                     int64_t *id_out, struct sk_err *err)
{
	struct fake_msg *f;

	(void)ix;
	if (fx.adds++ == fx.fail_at)
		return sk_err_set(err, SK_EDB, "disk on fire");
	if (!m->message_id || !m->message_id[0])
		return sk_err_set(err, SK_EINVAL, "message has no Message-ID");
	for (size_t i = 0; i < fx.n; i++)
		if (!strcmp(fx.msgs[i].message_id, m->message_id) &&
		    !strcmp(fx.msgs[i].body, m->body))
			return sk_err_set(err, SK_EEXIST, "stored already");
	if (fx.n == fx.cap)
		sk_xgrow((void **)&fx.msgs, &fx.cap, fx.n + 1,
		         sizeof(*fx.msgs));
	f = &fx.msgs[fx.n++];
	memset(f, 0, sizeof(*f));
	f->message_id = fx_dup(m->message_id);
	f->subject = fx_dup(m->subject);
	f->from_name = fx_dup(m->from_name);
	f->from_addr = fx_dup(m->from_addr);
	f->body = fx_dup(m->body);
	f->list_id = fx_dup(m->list_id);
	f->parse_error = fx_dup(m->parse_error);
	f->in_reply_to = fx_dup(m->in_reply_to);
	f->flags = m->flags;
	f->quote_start = m->quote_start;
	f->n_attachments = m->n_attachments;
	if (m->n_attachments) {
		f->att_status = fx_dup(m->attachments[0].extract_status);
		f->att_name = fx_dup(m->attachments[0].filename);
		f->att_text = fx_dup(m->attachments[0].text);
	}
	f->raw_len = m->raw_len;
	f->raw = sk_xstrndup(m->raw, m->raw_len);
	if (id_out)
		*id_out = (int64_t)fx.n;
	if (!fx.in_txn) {
		fx.n_committed = fx.n;
		fx.n_files_committed = fx.n_files;
	}
	return SK_OK;
}

enum sk_status
sk_index_xapian_catch_up(struct sk_index *ix, struct sk_err *err)
{
	(void)ix;
	(void)err;
	return SK_OK;
}

void
sk_index_set_bulk(struct sk_index *ix, bool on)
{
	(void)ix;
	(void)on;
}

/* The fake holds nothing back: what ingest flagged is what it stored. */
unsigned
sk_index_added_flags(const struct sk_index *ix)
{
	(void)ix;
	return fx.n ? fx.msgs[fx.n - 1].flags : 0;
}

enum sk_status
sk_index_source_get(struct sk_index *ix, const char *kind, const char *loc,
                    struct sk_source_state *st, struct sk_err *err)
{
	(void)ix;
	(void)err;
	for (size_t i = 0; i < fx.n_src; i++)
		if (!strcmp(fx.src[i].kind, kind) &&
		    !strcmp(fx.src[i].loc, loc)) {
			*st = fx.src[i].st;
			return SK_OK;
		}
	if (fx.n_src == 8)
		SK_BUG("too many sources");
	struct fake_src *s = &fx.src[fx.n_src++];
	snprintf(s->kind, sizeof(s->kind), "%s", kind);
	snprintf(s->loc, sizeof(s->loc), "%s", loc);
	memset(&s->st, 0, sizeof(s->st));
	s->st.id = (int64_t)fx.n_src;
	*st = s->st;
	return SK_OK;
}

enum sk_status
sk_index_source_set(struct sk_index *ix, const struct sk_source_state *st,
                    struct sk_err *err)
{
	(void)ix;
	(void)err;
	for (size_t i = 0; i < fx.n_src; i++)
		if (fx.src[i].st.id == st->id) {
			fx.src[i].pending = *st;
			fx.src[i].pending_set = true;
			if (!fx.in_txn)
				fx.src[i].st = *st;
			return SK_OK;
		}
	SK_BUG("unknown source %lld", (long long)st->id);
}

bool
sk_index_source_file_done(struct sk_index *ix, int64_t source_id,
                          const char *name)
{
	(void)ix;
	for (size_t i = 0; i < fx.n_files; i++)
		if (fx.files[i].src == source_id &&
		    !strcmp(fx.files[i].name, name))
			return true;
	return false;
}

enum sk_status
sk_index_source_file_add(struct sk_index *ix, int64_t source_id,
                         const char *name, struct sk_err *err)
{
	if (sk_index_source_file_done(ix, source_id, name))
		return sk_err_set(err, SK_EEXIST, "file '%s' recorded twice",
		                  name);
	if (fx.n_files == fx.cap_files)
		sk_xgrow((void **)&fx.files, &fx.cap_files, fx.n_files + 1,
		         sizeof(*fx.files));
	fx.files[fx.n_files].name = sk_xstrdup(name);
	fx.files[fx.n_files++].src = source_id;
	if (!fx.in_txn)
		fx.n_files_committed = fx.n_files;
	return SK_OK;
}

/* The committed message with this Message-ID, or NULL. */
static const struct fake_msg *
fx_find(const char *message_id)
{
	for (size_t i = 0; i < fx.n_committed; i++)
		if (!strcmp(fx.msgs[i].message_id, message_id))
			return &fx.msgs[i];
	return NULL;
}

/* The source position committed for a source of this kind. */
static const struct sk_source_state *
fx_source(const char *kind)
{
	for (size_t i = 0; i < fx.n_src; i++)
		if (!strcmp(fx.src[i].kind, kind))
			return &fx.src[i].st;
	return NULL;
}

#endif
