/* index/terms.c: the writer's analysis memo. Storing a message analyses the
 * same texts up to three times — the classifier when the message is added,
 * the FTS5 tokenizer when the batch commits, sk_xdb_put when the Xapian
 * queue drains after the commit. While a thread's memo is on (a write
 * batch), each distinct text is analysed once and its terms are replayed
 * to the later callers. The memo is keyed by the text's bytes (a hash,
 * then a full comparison), so a caller gets exactly the terms sk_analyze()
 * would give it or, on a miss, the analyzer itself. */
#include "index/private.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of text plus recorded terms one memo may hold: a batch of 500
 * messages needs about 15 MB; past the cap texts are analysed as before. */
#define MEMO_MAX_BYTES ((size_t)48 << 20)

/* One recorded term: pos, start, end (uint32), colocated, length, bytes. */
#define REC_HEAD 14

struct memo_entry {
	uint64_t h; /* 0: empty slot */
	size_t n;
	char *text;
	unsigned char *rec;
	size_t rec_len;
	uint32_t positions; /* what sk_analyze returned */
};

struct memo {
	struct memo_entry *slot;
	size_t n_slots, used, bytes;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

static _Thread_local struct memo *tl_memo;
static _Thread_local struct sk_terms_memo_stats tl_stats;
/* Set by tests before threads start; -DSK_TERMS_MEMO=0 builds the old
 * path for A/B measurements. */
#ifndef SK_TERMS_MEMO
#define SK_TERMS_MEMO 1
#endif
static bool memo_enabled = SK_TERMS_MEMO;

void
sk_terms_memo_set_enabled(bool on)
{
	memo_enabled = on;
}

static uint64_t
text_hash(const struct memo *m, const char *s, size_t n)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;
	crypto_shorthash(out, (const unsigned char *)s, n, m->key);
	memcpy(&h, out, sizeof(h));
	return h ? h : 1;
}

void
sk_terms_memo_start(void)
{
	if (tl_memo || !memo_enabled)
		return;
	tl_memo = sk_xcalloc(1, sizeof(*tl_memo));
	/* A fixed key is enough: collisions only cost a comparison. */
	memset(tl_memo->key, 0x5a, sizeof(tl_memo->key));
}

void
sk_terms_memo_stop(void)
{
	struct memo *m = tl_memo;
	if (!m)
		return;
	for (size_t i = 0; i < m->n_slots; i++) {
		free(m->slot[i].text);
		free(m->slot[i].rec);
	}
	free(m->slot);
	free(m);
	tl_memo = NULL;
}

bool
sk_terms_memo_get_stats(struct sk_terms_memo_stats *st)
{
	*st = tl_stats;
	st->bytes = tl_memo ? tl_memo->bytes : 0;
	return tl_memo != NULL;
}

static struct memo_entry *
find(struct memo *m, uint64_t h, const char *text, size_t n)
{
	if (!m->n_slots)
		return NULL;
	for (size_t i = (size_t)h & (m->n_slots - 1);;
	     i = (i + 1) & (m->n_slots - 1)) {
		struct memo_entry *e = &m->slot[i];
		if (!e->h)
			return NULL;
		if (e->h == h && e->n == n && !memcmp(e->text, text, n))
			return e;
	}
}

static void
insert(struct memo *m, struct memo_entry *ne)
{
	if ((m->used + 1) * 2 > m->n_slots) {
		size_t ns = m->n_slots ? m->n_slots * 2 : 256;
		struct memo_entry *old = m->slot;
		size_t on = m->n_slots;
		m->slot = sk_xcalloc(ns, sizeof(*m->slot));
		m->n_slots = ns;
		for (size_t i = 0; i < on; i++) {
			size_t k;
			if (!old[i].h)
				continue;
			for (k = (size_t)old[i].h & (ns - 1); m->slot[k].h;
			     k = (k + 1) & (ns - 1))
				;
			m->slot[k] = old[i];
		}
		free(old);
	}
	size_t k;
	for (k = (size_t)ne->h & (m->n_slots - 1); m->slot[k].h;
	     k = (k + 1) & (m->n_slots - 1))
		;
	m->slot[k] = *ne;
	m->used++;
	m->bytes += ne->n + ne->rec_len + sizeof(*ne);
}

/* The terms of one analysis go to the caller until it stops, and into the
 * record in full (a later caller may want more of them). */
struct recorder {
	struct sk_buf rec;
	sk_term_fn *fn;
	void *ctx;
	bool stopped;
	uint32_t stop_ret;
};

static int
record_term(void *vctx, const char *term, size_t len, uint32_t pos,
            size_t start, size_t end, bool colocated)
{
	struct recorder *r = vctx;
	unsigned char head[REC_HEAD];
	uint32_t v[3] = { pos, (uint32_t)start, (uint32_t)end };

	memcpy(head, v, sizeof(v));
	head[12] = colocated;
	head[13] = (unsigned char)len; /* len <= SK_TERM_MAX */
	sk_buf_add(&r->rec, head, sizeof(head));
	sk_buf_add(&r->rec, term, len);
	if (!r->stopped &&
	    r->fn(r->ctx, term, len, pos, start, end, colocated)) {
		r->stopped = true;
		r->stop_ret = pos + 1;
	}
	return 0;
}

static uint32_t
replay(const struct memo_entry *e, sk_term_fn *fn, void *ctx)
{
	const unsigned char *p = e->rec, *end = e->rec + e->rec_len;
	while (p < end) {
		uint32_t v[3];
		memcpy(v, p, sizeof(v));
		if (fn(ctx, (const char *)p + REC_HEAD, p[13], v[0], v[1], v[2],
		       p[12] != 0))
			return v[0] + 1;
		p += REC_HEAD + p[13];
	}
	return e->positions;
}

uint32_t
sk_analyze_doc(const char *text, size_t n, sk_term_fn *fn, void *ctx)
{
	struct memo *m = tl_memo;
	struct memo_entry *e, ne;
	struct recorder r;
	uint64_t h;

	/* Offsets are recorded in 32 bits; fields are far smaller. */
	if (!m || !text || !n || n > UINT32_MAX ||
	    m->bytes + n > MEMO_MAX_BYTES)
		return sk_analyze(sk_analyzer_thread(), text, n,
		                  SK_ANALYZE_INDEX, fn, ctx);
	h = text_hash(m, text, n);
	if ((e = find(m, h, text, n))) {
		tl_stats.hits++;
		return replay(e, fn, ctx);
	}
	tl_stats.misses++;
	memset(&r, 0, sizeof(r));
	sk_buf_init(&r.rec, MEMO_MAX_BYTES);
	r.fn = fn;
	r.ctx = ctx;
	ne.positions = sk_analyze(sk_analyzer_thread(), text, n,
	                          SK_ANALYZE_INDEX, record_term, &r);
	if (r.rec.len + n + m->bytes <= MEMO_MAX_BYTES &&
	    sk_buf_status(&r.rec) == SK_OK) {
		ne.h = h;
		ne.n = n;
		ne.text = sk_xmalloc(n);
		memcpy(ne.text, text, n);
		ne.rec_len = r.rec.len;
		ne.rec = (unsigned char *)sk_buf_take(&r.rec, NULL);
		insert(m, &ne);
	}
	sk_buf_release(&r.rec);
	return r.stopped ? r.stop_ret : ne.positions;
}
