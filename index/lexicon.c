/* index/lexicon.c: the persistent lexicon, DATA/lexicon.bin — the analysis
 * of every word of the corpus that needed hunspell, plus the restoration
 * filter, so that a process that only reads (`skarbnica search`, the web's
 * threads) analyses corpus words without creating Hunspell (~150 ms and
 * 31 MB) and never builds the filter (~1 s).
 *
 * A word's terms depend only on its bytes, the dictionary and the analyzer
 * code, so the file is a memo of a pure function: it is keyed by the
 * dictionary files' identity (path, size, mtime) and SK_ANALYZER_VERSION,
 * and any lexicon valid for the dictionary in use gives the same terms as
 * hunspell would. A word missing from it (or an entry that fails its check)
 * is analysed with hunspell as before, so a damaged file costs time, never
 * results.
 *
 * The writer (a handle with SK_INDEX_WRITE and Xapian: ingest, reindex,
 * init) records the words its analyzers had to look up and, when it closes,
 * writes the old entries plus the new ones to a temporary file, syncs it and
 * renames it over the old one. Readers map the file read-only and treat it
 * as untrusted: the header is checksummed and checked against the file's
 * size, every offset is bounds-checked, each entry carries its own check
 * (verified on every lookup) and the filter's checksum is verified before
 * its first use.
 *
 * Layout (host byte order, checked by a marker): the header, the slot table
 * (uint64: hash tag << 32 | entry offset + 1), the entries (uint32 check,
 * uint8 key length, uint8 term count, the key, then each term as a length
 * byte and its bytes), the filter's blocks (64-byte aligned). */
#include "index/private.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEX_FILE "lexicon.bin"
#define LEX_FORMAT 1
#define LEX_ENDIAN 0x0102030405060708ULL
#define LEX_DICT_MAX 256
#define LEX_MAX_ENTRIES (4u << 20)	   /* words kept at most */
#define LEX_MAX_BYTES (512u << 20)	   /* bytes of entries kept at most */
#define LEX_MAX_FILE ((uint64_t)1 << 30) /* bytes of a file we map */
#define LEX_SEED_SLOT 0x6c6578736c6f74ULL
#define LEX_SEED_ENTRY 0x6c6578656e7479ULL
#define LEX_SEED_HDR 0x6c6578686472ULL
#define LEX_SEED_FILTER 0x6c657866696c74ULL

static const char lex_magic[8] = { 'S', 'K', 'L', 'E', 'X', 'I', 'C', '\n' };

struct lex_hdr {
	char magic[8];
	uint32_t format, analyzer;
	uint64_t endian;
	uint64_t file_size;
	uint64_t dict_id[4]; /* .aff size, mtime ns; .dic size, mtime ns */
	char dict[LEX_DICT_MAX];
	uint64_t count, nslots;
	uint64_t slots_off, ents_off, ents_size;
	uint64_t filter_off, filter_nblocks, filter_keys, filter_sum;
	uint64_t hdr_sum; /* of everything above */
};

/* A mapped, validated file. Never unmapped: a thread may still read an
 * older one after a reload (the list keeps them reachable). */
struct lexmap {
	const unsigned char *base;
	size_t size;
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
	struct lex_hdr h;
	atomic_int filter_ok; /* 0 unchecked, 1 good, -1 bad */
	struct lexmap *older;
};

/* Words the writer's analyzers looked up, waiting for the next save. */
struct recorder {
	uint64_t *slots; /* tag << 32 | offset + 1 */
	size_t mask, count;
	unsigned char *slab; /* records: keylen, n, key, terms */
	size_t used, cap;
	char dict[LEX_DICT_MAX];
};

static pthread_mutex_t g_lex_mu = PTHREAD_MUTEX_INITIALIZER; /* all below */
static _Atomic(struct lexmap *) g_lex; /* the attached file, or NULL */
static struct lexmap *g_maps;	       /* every map ever attached */
static unsigned g_n_maps;
/* Maps are never unmapped (the analyzers' filter points into the first,
 * lookups hand out pointers into theirs), so a long-running process that
 * opens handles while writers keep rewriting the file would pile up
 * unlinked files. Past this many it keeps the map it has: words it lacks
 * only cost a hunspell lookup. (The damaged-file test maps ~30.) */
#define LEX_MAX_MAPS 64
static atomic_bool g_recording;
static struct recorder g_rec;

static int64_t
mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* The identity of the dictionary files; false when one is missing. */
static bool
dict_identity(const char *dict, uint64_t id[4])
{
	static const char *const ext[2] = { ".aff", ".dic" };
	char path[LEX_DICT_MAX + 8];
	struct stat st;

	for (int i = 0; i < 2; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", dict,
				     ext[i]) >= sizeof(path) ||
		    stat(path, &st))
			return false;
		id[2 * i] = (uint64_t)st.st_size;
		id[2 * i + 1] = (uint64_t)mtime_ns(&st);
	}
	return true;
}

static char *
lex_path(const char *dir, const char *suffix)
{
	size_t n = strlen(dir) + sizeof(LEX_FILE) + strlen(suffix) + 2;
	char *p = sk_xmalloc(n);
	snprintf(p, n, "%s/%s%s", dir, LEX_FILE, suffix);
	return p;
}

/* ---- reading ---------------------------------------------------------- */

/* a + b <= limit, without overflow. */
static bool
fits(uint64_t a, uint64_t b, uint64_t limit)
{
	return a <= limit && b <= limit - a;
}

/* Check a header against the file size and the dictionary in use. */
static bool
header_ok(const struct lex_hdr *h, uint64_t size)
{
	uint64_t id[4];

	if (memcmp(h->magic, lex_magic, sizeof(lex_magic)) ||
	    h->format != LEX_FORMAT || h->analyzer != SK_ANALYZER_VERSION ||
	    h->endian != LEX_ENDIAN || h->file_size != size ||
	    h->hdr_sum != sk_analyze_hash(h, offsetof(struct lex_hdr, hdr_sum),
					  LEX_SEED_HDR))
		return false;
	if (!memchr(h->dict, '\0', sizeof(h->dict)) || !h->dict[0] ||
	    !dict_identity(h->dict, id) || memcmp(id, h->dict_id, sizeof(id)))
		return false;
	/* the slot table: a power of two, more slots than entries */
	if (h->count > LEX_MAX_ENTRIES || !h->nslots ||
	    (h->nslots & (h->nslots - 1)) || h->nslots <= h->count ||
	    h->nslots > 2 * (uint64_t)LEX_MAX_ENTRIES + 4096 ||
	    h->slots_off % 8 || h->slots_off < sizeof(*h) ||
	    !fits(h->slots_off, h->nslots * 8, size))
		return false;
	if (!fits(h->ents_off, h->ents_size, size) ||
	    h->ents_size > UINT32_MAX - 1)
		return false;
	if (h->filter_nblocks &&
	    ((h->filter_nblocks & (h->filter_nblocks - 1)) ||
	     h->filter_off % 64 || h->filter_nblocks > (size >> 6) ||
	     !fits(h->filter_off, h->filter_nblocks * 64, size)))
		return false;
	return true;
}

/* Map and validate path; NULL when it is missing or not usable. With
 * current false, a file of another dictionary, analyzer version or
 * damaged header is mapped too when its entries lie inside the file: its
 * words are analysed again (each entry is still checked on reading). */
static struct lexmap *
map_file(const char *path, bool current)
{
	struct lexmap *m;
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < sizeof(struct lex_hdr) ||
	    (uint64_t)st.st_size > LEX_MAX_FILE) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	m = sk_xcalloc(1, sizeof(*m));
	m->base = p;
	m->size = (size_t)st.st_size;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->mtime_ns = mtime_ns(&st);
	memcpy(&m->h, p, sizeof(m->h));
	if (current ? !header_ok(&m->h, m->size)
		    : memcmp(m->h.magic, lex_magic, sizeof(lex_magic)) ||
			  m->h.format != LEX_FORMAT ||
			  !fits(m->h.ents_off, m->h.ents_size, m->size) ||
			  m->h.ents_size > UINT32_MAX - 1) {
		munmap(p, m->size);
		free(m);
		return NULL;
	}
	return m;
}

static void
unmap(struct lexmap *m)
{
	if (m) {
		munmap((void *)m->base, m->size);
		free(m);
	}
}

/* The record of the entry at off (keylen, n, key, terms) after checking
 * its bounds and its check; *len gets its length. NULL when damaged. */
static const unsigned char *
entry_at(const struct lexmap *m, uint64_t off, size_t *len)
{
	const unsigned char *e = m->base + m->h.ents_off;
	uint64_t end = m->h.ents_size, p;
	uint32_t check;
	unsigned n;

	if (!fits(off, 6, end))
		return NULL;
	memcpy(&check, e + off, 4);
	p = off + 4;
	n = e[p + 1];
	p += 2 + (uint64_t)e[p];
	for (unsigned i = 0; i < n; i++) {
		if (p >= end)
			return NULL;
		p += 1 + (uint64_t)e[p];
	}
	if (p > end || !e[off + 4])
		return NULL;
	*len = (size_t)(p - off - 4);
	if (check != (uint32_t)sk_analyze_hash(e + off + 4, *len,
					       LEX_SEED_ENTRY))
		return NULL;
	return e + off + 4;
}

static const unsigned char *
map_find(const struct lexmap *m, const char *key, size_t keylen)
{
	uint64_t h = sk_analyze_hash(key, keylen, LEX_SEED_SLOT);
	uint64_t mask = m->h.nslots - 1, i = h & mask;
	const unsigned char *slots = m->base + m->h.slots_off;

	for (uint64_t probe = 0; probe < m->h.nslots; probe++) {
		uint64_t s;
		const unsigned char *r;
		size_t len;

		memcpy(&s, slots + i * 8, 8);
		if (!s)
			return NULL;
		if ((uint32_t)(s >> 32) == (uint32_t)(h >> 32) &&
		    (r = entry_at(m, (uint32_t)s - 1, &len)) &&
		    r[0] == keylen && !memcmp(r + 2, key, keylen))
			return r;
		i = (i + 1) & mask;
	}
	return NULL;
}

bool
sk_lexicon_find(const char *dict, const char *key, size_t keylen,
		const unsigned char **terms, unsigned *n)
{
	const struct lexmap *m =
	    atomic_load_explicit(&g_lex, memory_order_acquire);
	const unsigned char *r;

	if (!m || !dict || keylen > 255 || strcmp(m->h.dict, dict))
		return false;
	r = map_find(m, key, keylen);
	if (!r)
		return false;
	*n = r[1];
	*terms = r + 2 + r[0];
	return true;
}

bool
sk_lexicon_filter(const char *dict, const uint64_t **bits, size_t *nblocks,
		  size_t *keys)
{
	struct lexmap *m = atomic_load_explicit(&g_lex, memory_order_acquire);
	int ok;

	if (!m || !dict || !m->h.filter_nblocks || strcmp(m->h.dict, dict))
		return false;
	ok = atomic_load(&m->filter_ok);
	if (!ok) { /* once per map: a damaged filter would lose words */
		ok = sk_analyze_hash(m->base + m->h.filter_off,
				     m->h.filter_nblocks * 64,
				     LEX_SEED_FILTER) == m->h.filter_sum
			 ? 1
			 : -1;
		atomic_store(&m->filter_ok, ok);
	}
	if (ok < 0)
		return false;
	*bits = (const uint64_t *)(const void *)(m->base + m->h.filter_off);
	*nblocks = (size_t)m->h.filter_nblocks;
	*keys = (size_t)m->h.filter_keys;
	return true;
}

/* Attach dir's file (or nothing when it is missing or unusable); cheap
 * when the file has not changed. Caller holds g_lex_mu. */
static void
attach_locked(const char *dir)
{
	struct lexmap *cur = atomic_load(&g_lex), *m;
	char *path = lex_path(dir, "");
	struct stat st;

	if (stat(path, &st)) {
		atomic_store(&g_lex, NULL);
	} else if (g_n_maps < LEX_MAX_MAPS &&
		   (!cur || cur->dev != st.st_dev || cur->ino != st.st_ino ||
		    cur->mtime_ns != mtime_ns(&st) ||
		    cur->size != (size_t)st.st_size)) {
		m = map_file(path, true);
		if (m) {
			m->older = g_maps;
			g_maps = m;
			g_n_maps++;
		}
		atomic_store_explicit(&g_lex, m, memory_order_release);
	}
	free(path);
}

/* ---- recording -------------------------------------------------------- */

static void
rec_slot_put(struct recorder *r, uint64_t h, size_t off)
{
	size_t i = h & r->mask;

	while (r->slots[i])
		i = (i + 1) & r->mask;
	r->slots[i] = (h >> 32 << 32) | (uint64_t)(off + 1);
}

static size_t
record_len(const unsigned char *rec)
{
	const unsigned char *p = rec + 2 + rec[0];
	for (unsigned i = 0; i < rec[1]; i++)
		p += 1 + (size_t)*p;
	return (size_t)(p - rec);
}

static bool
rec_has(const struct recorder *r, const char *key, size_t keylen, uint64_t h)
{
	size_t i = h & r->mask;

	while (r->slots[i]) {
		const unsigned char *e = r->slab + (uint32_t)r->slots[i] - 1;
		if ((uint32_t)(r->slots[i] >> 32) == (uint32_t)(h >> 32) &&
		    e[0] == keylen && !memcmp(e + 2, key, keylen))
			return true;
		i = (i + 1) & r->mask;
	}
	return false;
}

static void
rec_grow(struct recorder *r)
{
	size_t off = 0;

	free(r->slots);
	r->mask = r->mask ? r->mask * 2 + 1 : 4095;
	r->slots = sk_xcalloc(r->mask + 1, sizeof(r->slots[0]));
	while (off < r->used) {
		const unsigned char *e = r->slab + off;
		rec_slot_put(r,
			     sk_analyze_hash(e + 2, e[0], LEX_SEED_SLOT), off);
		off += record_len(e);
	}
}

/* Add a record (keylen, n, key, terms) unless its key is there. */
static void
rec_add(struct recorder *r, const unsigned char *rec, size_t len)
{
	uint64_t h = sk_analyze_hash(rec + 2, rec[0], LEX_SEED_SLOT);

	if (r->count >= LEX_MAX_ENTRIES || r->used + len > LEX_MAX_BYTES)
		return;
	if ((r->count + 1) * 2 > r->mask)
		rec_grow(r);
	if (rec_has(r, (const char *)rec + 2, rec[0], h))
		return;
	if (r->used + len > r->cap) {
		while (r->used + len > r->cap)
			r->cap = r->cap ? r->cap * 2 : 64 * 1024;
		r->slab = sk_xrealloc(r->slab, r->cap);
	}
	memcpy(r->slab + r->used, rec, len);
	rec_slot_put(r, h, r->used);
	r->used += len;
	r->count++;
}

static void
rec_release(struct recorder *r)
{
	free(r->slots);
	free(r->slab);
	memset(r, 0, sizeof(*r));
}

bool
sk_lexicon_recording(void)
{
	return atomic_load_explicit(&g_recording, memory_order_relaxed);
}

bool
sk_lexicon_known(const char *dict, const char *key, size_t keylen)
{
	const unsigned char *t;
	unsigned n;
	bool known;

	if (sk_lexicon_find(dict, key, keylen, &t, &n))
		return true;
	pthread_mutex_lock(&g_lex_mu);
	known = g_rec.slots && !strcmp(g_rec.dict, dict) &&
		rec_has(&g_rec, key, keylen,
			sk_analyze_hash(key, keylen, LEX_SEED_SLOT));
	pthread_mutex_unlock(&g_lex_mu);
	return known;
}

bool
sk_lexicon_record(const char *dict, const char *key, size_t keylen,
		  unsigned n, const unsigned char *terms, size_t termlen)
{
	unsigned char rec[2 + 255 + 255 * 66];

	if (!atomic_load_explicit(&g_recording, memory_order_relaxed))
		return false;
	if (!dict || !keylen || keylen > 255 || n > 255 ||
	    2 + keylen + termlen > sizeof(rec))
		return true;
	rec[0] = (unsigned char)keylen;
	rec[1] = (unsigned char)n;
	memcpy(rec + 2, key, keylen);
	memcpy(rec + 2 + keylen, terms, termlen);
	pthread_mutex_lock(&g_lex_mu);
	if (!g_rec.dict[0] && strlen(dict) < sizeof(g_rec.dict))
		memcpy(g_rec.dict, dict, strlen(dict) + 1);
	if (!strcmp(g_rec.dict, dict))
		rec_add(&g_rec, rec, 2 + keylen + termlen);
	pthread_mutex_unlock(&g_lex_mu);
	return true;
}

/* ---- writing ---------------------------------------------------------- */

static bool
write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

/* Add every intact entry of an older file of the same dictionary. */
static void
merge_old(struct recorder *all, const struct lexmap *old)
{
	uint64_t off = 0;
	size_t len;
	const unsigned char *r;

	while (off < old->h.ents_size && (r = entry_at(old, off, &len))) {
		rec_add(all, r, len);
		off += 4 + len;
	}
}

/* Write the header, slots, entries and filter of all to path. */
static bool
write_lexicon(const char *path, const struct recorder *all, const char *dict,
	      const uint64_t id[4], const void *filter, size_t nblocks,
	      size_t keys)
{
	struct lex_hdr h;
	uint64_t nslots = 1024, *slots;
	unsigned char *ents;
	size_t eo = 0, off = 0;
	static const unsigned char zeros[64];
	bool ok;
	int fd;

	while (nslots < 2 * (uint64_t)all->count + 2)
		nslots <<= 1;
	slots = sk_xcalloc(nslots, 8);
	ents = sk_xmalloc(all->used + 4 * all->count + 1);
	while (off < all->used) {
		const unsigned char *e = all->slab + off;
		size_t len = record_len(e);
		uint64_t hh = sk_analyze_hash(e + 2, e[0], LEX_SEED_SLOT);
		uint32_t check =
		    (uint32_t)sk_analyze_hash(e, len, LEX_SEED_ENTRY);
		uint64_t i = hh & (nslots - 1);

		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = (hh >> 32 << 32) | (uint64_t)(eo + 1);
		memcpy(ents + eo, &check, 4);
		memcpy(ents + eo + 4, e, len);
		eo += 4 + len;
		off += len;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, lex_magic, sizeof(lex_magic));
	h.format = LEX_FORMAT;
	h.analyzer = SK_ANALYZER_VERSION;
	h.endian = LEX_ENDIAN;
	memcpy(h.dict_id, id, sizeof(h.dict_id));
	memcpy(h.dict, dict, strnlen(dict, sizeof(h.dict) - 1));
	h.count = all->count;
	h.nslots = nslots;
	h.slots_off = (sizeof(h) + 63) / 64 * 64;
	h.ents_off = h.slots_off + nslots * 8;
	h.ents_size = eo;
	if (filter) {
		h.filter_off = (h.ents_off + eo + 63) / 64 * 64;
		h.filter_nblocks = nblocks;
		h.filter_keys = keys;
		h.filter_sum =
		    sk_analyze_hash(filter, nblocks * 64, LEX_SEED_FILTER);
		h.file_size = h.filter_off + nblocks * 64;
	} else {
		h.file_size = h.ents_off + eo;
	}
	h.hdr_sum =
	    sk_analyze_hash(&h, offsetof(struct lex_hdr, hdr_sum), LEX_SEED_HDR);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	ok = fd >= 0 && write_all(fd, &h, sizeof(h)) &&
	     write_all(fd, zeros, h.slots_off - sizeof(h)) &&
	     write_all(fd, slots, nslots * 8) && write_all(fd, ents, eo);
	if (ok && filter)
		ok = write_all(fd, zeros, h.filter_off - h.ents_off - eo) &&
		     write_all(fd, filter, nblocks * 64);
	if (fd >= 0) {
		ok = ok && !fdatasync(fd);
		ok = !close(fd) && ok;
	}
	free(slots);
	free(ents);
	return ok;
}

/* Save: the attached or on-disk entries plus the recorded ones, when the
 * vocabulary grew, the file is missing or stale, or a filter became
 * available. Caller holds g_lex_mu. */
static void
save_locked(const char *dir)
{
	char sfx[32], *path = lex_path(dir, ""), *tmp;
	struct lexmap *old = map_file(path, true);
	struct recorder all = { 0 };
	const char *dict = g_rec.dict;
	const void *filter = NULL;
	const uint64_t *fbits;
	size_t nblocks = 0, keys = 0;
	uint64_t id[4];
	bool new_filter;

	snprintf(sfx, sizeof(sfx), ".%ld.tmp", (long)getpid());
	tmp = lex_path(dir, sfx);
	if (!dict[0] && old)
		dict = old->h.dict;
	if (!dict[0] || !dict_identity(dict, id))
		goto out;
	if (sk_analyze_filter(dict, &fbits, &nblocks, &keys)) {
		filter = fbits;
	} else if (old && old->h.filter_nblocks &&
		   sk_analyze_hash(old->base + old->h.filter_off,
				   old->h.filter_nblocks * 64,
				   LEX_SEED_FILTER) == old->h.filter_sum) {
		filter = old->base + old->h.filter_off;
		nblocks = old->h.filter_nblocks;
		keys = old->h.filter_keys;
	}
	new_filter = filter && (!old || !old->h.filter_nblocks);
	if (old && strcmp(old->h.dict, dict)) {
		unmap(old); /* another dictionary: start afresh */
		old = NULL;
	}
	if (old && !g_rec.count && !new_filter)
		goto out; /* nothing new */
	if (!old && !g_rec.count)
		goto out; /* nothing to write */
	if (old)
		merge_old(&all, old);
	for (size_t off = 0; off < g_rec.used;) {
		size_t len = record_len(g_rec.slab + off);
		rec_add(&all, g_rec.slab + off, len);
		off += len;
	}
	if (write_lexicon(tmp, &all, dict, id, filter, nblocks, keys) &&
	    !rename(tmp, path)) {
		rec_release(&g_rec);
	} else {
		sk_log(SK_LOG_WARNING, "cannot write %s: %s", path,
		       strerror(errno));
		unlink(tmp);
	}
out:
	rec_release(&all);
	unmap(old);
	free(path);
	free(tmp);
}

/* The lexicon belongs to full writers: the web's per-request handles
 * (no Xapian) and readers only read it. */
static bool
is_writer(const struct sk_index *ix)
{
	return (ix->flags & SK_INDEX_WRITE) && !(ix->flags & SK_INDEX_NO_XAPIAN);
}

void
sk_lexicon_open(struct sk_index *ix)
{
	pthread_mutex_lock(&g_lex_mu);
	attach_locked(ix->dir);
	if (is_writer(ix))
		atomic_store(&g_recording, true);
	pthread_mutex_unlock(&g_lex_mu);
}

static int
ignore_term(void *ctx, const char *term, size_t len, uint32_t pos,
	    size_t start, size_t end, bool colocated)
{
	(void)ctx, (void)term, (void)len, (void)pos, (void)start, (void)end,
	    (void)colocated;
	return 0;
}

/* A lexicon written for another dictionary or analyzer version (or with a
 * damaged header): analyse its words again, so that the next save keeps
 * the whole vocabulary. The keys are only words to look up; their terms
 * come from the dictionary. */
static void
reanalyze_stale(const char *dir)
{
	char *path = lex_path(dir, "");
	struct lexmap *cur = map_file(path, true), *old;
	struct sk_analyzer *an;
	uint64_t off = 0;
	size_t len;
	const unsigned char *r;

	if (cur || !(old = map_file(path, false))) {
		unmap(cur);
		free(path);
		return;
	}
	an = sk_analyzer_new(NULL);
	sk_log(SK_LOG_INFO, "%s is out of date: analysing its words again",
	       path);
	while (off < old->h.ents_size && (r = entry_at(old, off, &len))) {
		sk_analyze(an, (const char *)r + 2, r[0], SK_ANALYZE_INDEX,
			   ignore_term, NULL);
		off += 4 + len;
	}
	sk_analyzer_free(&an);
	unmap(old);
	free(path);
}

void
sk_lexicon_save(struct sk_index *ix)
{
	if (!is_writer(ix) || !ix->has_xapian) /* or its open failed */
		return;
	reanalyze_stale(ix->dir);
	pthread_mutex_lock(&g_lex_mu);
	save_locked(ix->dir);
	attach_locked(ix->dir);
	pthread_mutex_unlock(&g_lex_mu);
}

void
sk_lexicon_get_stats(struct sk_lexicon_stats *st)
{
	const struct lexmap *m;

	pthread_mutex_lock(&g_lex_mu);
	m = atomic_load(&g_lex);
	st->attached = m != NULL;
	st->words = m ? (size_t)m->h.count : 0;
	st->has_filter = m && m->h.filter_nblocks;
	st->recorded = g_rec.count;
	pthread_mutex_unlock(&g_lex_mu);
}
