/* ingest/mbox.c: an mbox file into the run, mapped read-only (never
 * written: libetpan's mbox driver would add X-LibEtPan-UID headers),
 * resuming at the offset the store recorded.
 *
 * Variants. mboxrd writers quote every body line matching ^>*From  with
 * one more '>', so reading strips one '>' from ^>+From ; mboxo writers
 * quote only ^From , so reading strips one '>' from ^>From . The two
 * differ only on lines that begin with two or more '>' before "From ".
 * We read mboxrd when the first separator says so ("From mboxrd@z ...",
 * as public-inbox and lore export, and as all our corpora are), else
 * mboxo, the traditional default. */
#include "ingest/private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* "From " lines that separate messages: at the start, after a blank line,
 * or shaped like one ("From sender Mon Jan 15 09:12:00 2024") — a body
 * line starting "From " is quoted by every writer, but not every writer
 * leaves a blank line between messages. */
static bool
looks_like_separator(const char *s, size_t n)
{
	const char *eol = memchr(s, '\n', n);
	size_t len = eol ? (size_t)(eol - s) : n, digits = 0;
	bool colon = false;

	for (size_t i = 5; i < len; i++) {
		if (s[i] == ':')
			colon = true;
		digits = (s[i] >= '0' && s[i] <= '9') ? digits + 1
		         : digits >= 4                ? digits
		                                      : 0;
	}
	return colon && digits >= 4;
}

static bool
is_separator(const char *map, size_t size, size_t off)
{
	if (size - off < 5 || memcmp(map + off, "From ", 5))
		return false;
	if (off == 0)
		return true;
	if (off >= 2 && map[off - 1] == '\n' &&
	    (map[off - 2] == '\n' ||
	     (off >= 3 && map[off - 2] == '\r' && map[off - 3] == '\n')))
		return true;
	return map[off - 1] == '\n' &&
	       looks_like_separator(map + off, size - off);
}

/* Offset of the separator after from, or size. */
static size_t
next_separator(const char *map, size_t size, size_t from)
{
	size_t off = from;

	while (off < size) {
		const char *p = memmem(map + off, size - off, "\nFrom ", 6);
		if (!p)
			return size;
		off = (size_t)(p - map) + 1;
		if (is_separator(map, size, off))
			return off;
	}
	return size;
}

/* Copy one message, undoing the ">From " quoting of the variant, at most
 * max bytes. */
static char *
unescape(const char *s, size_t n, bool rd, size_t max, size_t *len_out,
         bool *cut)
{
	char *out = sk_xmalloc((n < max ? n : max) + 1), *o = out;
	size_t room = n < max ? n : max;

	*cut = n > max;
	for (size_t i = 0; i < n && room > 0;) {
		const char *eol = memchr(s + i, '\n', n - i);
		size_t end = eol ? (size_t)(eol - s) + 1 : n, st = i, k = i;
		while (k < end && s[k] == '>')
			k++;
		if (k > i && end - k >= 5 && !memcmp(s + k, "From ", 5) &&
		    (rd || k == i + 1))
			st++;
		size_t take = end - st < room ? end - st : room;
		memcpy(o, s + st, take);
		o += take;
		room -= take;
		i = end;
	}
	*o = '\0';
	*len_out = (size_t)(o - out);
	return out;
}

enum sk_status
sk_ingest_mbox(struct sk_ingest *ing, const char *path, struct sk_err *err)
{
	char real[PATH_MAX];
	struct sk_source_state st;
	struct stat sb;
	const char *map;
	size_t size, off, dropped;
	bool rd;
	int fd;
	enum sk_status rc = SK_OK;

	if (!realpath(path, real))
		return sk_err_set(err, SK_ENOTFOUND, "no mbox at '%s'", path);
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return sk_err_set(err, SK_EIO, "cannot read '%s': %s", path,
		                  strerror(errno ? errno : EINVAL));
	}
	rc = sk_index_source_get(sk_ingest_index(ing), "mbox", real, &st, err);
	size = (size_t)sb.st_size;
	if (rc || size == 0) {
		close(fd);
		return rc;
	}
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return sk_err_set(err, SK_EIO, "cannot map '%s': %s", path,
		                  strerror(errno));
	madvise((void *)map, size, MADV_SEQUENTIAL);
	if (!is_separator(map, size, 0)) {
		munmap((void *)map, size);
		return sk_err_set(
		    err, SK_EPARSE,
		    "'%s' is not an mbox (no \"From \" line first)", path);
	}
	rd = size >= 13 && !memcmp(map, "From mboxrd@z", 13);
	off = (size_t)st.mbox_offset;
	dropped = 0;
	if (off > size || (off < size && !is_separator(map, size, off))) {
		/* The file was replaced or rewritten: read it all again
		 * (what is stored already is recognised as such). */
		sk_log(SK_LOG_WARNING,
		       "'%s': recorded position %zu is not a message start; "
		       "reading from the beginning",
		       path, off);
		off = 0;
	}
	while (off < size && !rc && !sk_ingest_stopping()) {
		const char *eol = memchr(map + off, '\n', size - off);
		size_t start = eol ? (size_t)(eol - map) + 1 : size;
		size_t next = next_separator(map, size, start), end = next, len;
		struct sk_ingest_pos pos = { 0 };
		bool cut;
		char *raw;

		/* The blank line before the next "From " is the mbox's. */
		if (end > start && map[end - 1] == '\n') {
			if (end - 1 > start && map[end - 2] == '\n')
				end--;
			else if (end - 2 > start && map[end - 2] == '\r' &&
			         map[end - 3] == '\n')
				end -= 2;
		}
		raw =
		    unescape(map + start, end - start, rd,
		             sk_ingest_limits(ing)->message_bytes, &len, &cut);
		if (sk_str_trim(raw, len).n == 0) { /* "From " lines only */
			free(raw);
			off = next;
			continue;
		}
		pos.source_id = st.id;
		pos.mbox_offset = (int64_t)next;
		rc = sk_ingest_submit_owned(ing, raw, len, cut, &pos, err);
		off = next;
		/* The pages read are copied out: drop them, or the mapped
		 * file counts in RSS as it is read (H4, issue 9). */
		if (off - dropped >= ((size_t)16 << 20)) {
			size_t to = off & ~((size_t)sysconf(_SC_PAGESIZE) - 1);
			madvise((void *)(map + dropped), to - dropped,
			        MADV_DONTNEED);
			dropped = to;
		}
	}
	munmap((void *)map, size);
	if (!rc)
		rc = sk_ingest_flush(ing, err);
	return rc;
}
