/* ingest/wire.c: a parsed message between a parser worker and the run, as
 * length-prefixed fields (little-endian, host order: both ends are the
 * same binary). The reader trusts nothing: bounds, terminators and UTF-8
 * are checked, so a worker that went wrong yields an error, not a crash
 * or invalid text in the store. */
#include "ingest/private.h"

#include <string.h>

#define WIRE_MAGIC 0x314D4B53u /* "SKM1" */
#define WIRE_NULL 0xFFFFFFFFu
#define WIRE_MAX_ITEMS 1000000u

static void
put_u32(struct sk_buf *b, uint32_t v)
{
	sk_buf_add(b, &v, sizeof(v));
}

static void
put_u64(struct sk_buf *b, uint64_t v)
{
	sk_buf_add(b, &v, sizeof(v));
}

/* A string or byte block: length, bytes, then a NUL so that the reader
 * can point into the buffer. NULL is a length of WIRE_NULL. */
static void
put_bytes(struct sk_buf *b, const void *p, size_t n, bool is_null)
{
	if (is_null) {
		put_u32(b, WIRE_NULL);
		return;
	}
	put_u32(b, (uint32_t)n);
	sk_buf_add(b, p, n);
	sk_buf_addc(b, '\0');
}

static void
put_str(struct sk_buf *b, const char *s)
{
	put_bytes(b, s, s ? strlen(s) : 0, s == NULL);
}

void
sk_wire_put_message(struct sk_buf *b, const struct sk_message *m)
{
	put_u32(b, WIRE_MAGIC);
	put_u32(b, m->flags);
	put_u64(b, (uint64_t)(int64_t)m->date);
	put_u64(b, m->quote_start);
	put_str(b, m->message_id);
	put_str(b, m->subject);
	put_str(b, m->from_name);
	put_str(b, m->from_addr);
	put_str(b, m->to_addrs);
	put_str(b, m->cc_addrs);
	put_str(b, m->in_reply_to);
	put_str(b, m->list_id);
	put_str(b, m->body);
	put_str(b, m->parse_error);
	put_u32(b, (uint32_t)m->n_references);
	for (size_t i = 0; i < m->n_references; i++)
		put_str(b, m->references[i]);
	put_u32(b, (uint32_t)m->n_attachments);
	for (size_t i = 0; i < m->n_attachments; i++) {
		const struct sk_attachment *t = &m->attachments[i];
		put_str(b, t->filename);
		put_str(b, t->content_type);
		put_bytes(b, t->data, t->size, t->data == NULL);
		put_str(b, t->text);
		put_str(b, t->extract_status);
		put_str(b, t->extract_error);
	}
}

struct reader {
	const char *p;
	size_t n, off;
	bool bad;
};

static uint32_t
get_u32(struct reader *r)
{
	uint32_t v = 0;
	if (r->bad || r->n - r->off < sizeof(v)) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p + r->off, sizeof(v));
	r->off += sizeof(v);
	return v;
}

static uint64_t
get_u64(struct reader *r)
{
	uint64_t v = 0;
	if (r->bad || r->n - r->off < sizeof(v)) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p + r->off, sizeof(v));
	r->off += sizeof(v);
	return v;
}

static const char *
get_bytes(struct reader *r, size_t *len_out)
{
	uint32_t n = get_u32(r);
	const char *s;

	*len_out = 0;
	if (r->bad || n == WIRE_NULL)
		return NULL;
	if (r->n - r->off < (size_t)n + 1 || r->p[r->off + n] != '\0') {
		r->bad = true;
		return NULL;
	}
	s = r->p + r->off;
	r->off += (size_t)n + 1;
	*len_out = n;
	return s;
}

/* A text field: valid UTF-8 without NUL inside. */
static const char *
get_str(struct reader *r)
{
	size_t n;
	const char *s = get_bytes(r, &n);
	if (s && (memchr(s, '\0', n) || !sk_utf8_valid(s, n))) {
		r->bad = true;
		return NULL;
	}
	return s;
}

/* Text fields the store needs non-NULL. */
static const char *
get_text(struct reader *r)
{
	const char *s = get_str(r);
	return s ? s : "";
}

/* extract_status is one of a few words; anything else is a bad worker. */
static const char *
get_status(struct reader *r)
{
	static const char *const ok[] = { "ok", "none", "failed", "skipped" };
	const char *s = get_str(r);
	for (size_t i = 0; s && i < SK_ARRAY_SIZE(ok); i++)
		if (!strcmp(s, ok[i]))
			return ok[i];
	r->bad = true;
	return "none";
}

enum sk_status
sk_wire_get_message(struct sk_arena *a, const char *buf, size_t len,
                    struct sk_message *m, struct sk_err *err)
{
	struct reader r = { buf, len, 0, false };
	uint32_t k;

	memset(m, 0, sizeof(*m));
	if (get_u32(&r) != WIRE_MAGIC)
		return sk_err_set(err, SK_EPARSE,
		                  "bad message from a parser worker");
	m->flags = get_u32(&r);
	m->date = (time_t)(int64_t)get_u64(&r);
	m->quote_start = (size_t)get_u64(&r);
	m->message_id = get_str(&r);
	m->subject = get_text(&r);
	m->from_name = get_text(&r);
	m->from_addr = get_text(&r);
	m->to_addrs = get_text(&r);
	m->cc_addrs = get_text(&r);
	m->in_reply_to = get_str(&r);
	m->list_id = get_str(&r);
	m->body = get_text(&r);
	m->parse_error = get_str(&r);
	k = get_u32(&r);
	if (!r.bad && k <= WIRE_MAX_ITEMS && k <= (len - r.off) / 5) {
		const char **refs =
		    sk_arena_alloc(a, (k ? k : 1) * sizeof(*refs));
		for (uint32_t i = 0; i < k && !r.bad; i++)
			refs[i] = get_text(&r);
		m->references = k ? refs : NULL;
		m->n_references = k;
	} else {
		r.bad = true;
	}
	k = get_u32(&r);
	if (!r.bad && k <= WIRE_MAX_ITEMS && k <= (len - r.off) / 24) {
		struct sk_attachment *atts =
		    sk_arena_alloc(a, (k ? k : 1) * sizeof(*atts));
		for (uint32_t i = 0; i < k && !r.bad; i++) {
			struct sk_attachment *t = &atts[i];
			t->filename = get_text(&r);
			t->content_type = get_text(&r);
			t->data = get_bytes(&r, &t->size);
			if (!t->data)
				t->data = "", t->size = 0;
			t->text = get_str(&r);
			t->extract_status = get_status(&r);
			t->extract_error = get_str(&r);
		}
		m->attachments = k ? atts : NULL;
		m->n_attachments = k;
	} else {
		r.bad = true;
	}
	if (r.bad || r.off != len || !m->message_id || !m->message_id[0])
		return sk_err_set(err, SK_EPARSE,
		                  "bad message from a parser worker");
	if (m->quote_start > strlen(m->body))
		m->quote_start = strlen(m->body);
	return SK_OK;
}
