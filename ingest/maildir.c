/* ingest/maildir.c: a Maildir tree (nested folders, new/ and cur/) into
 * the run, skipping unique names the store has recorded, and --watch with
 * inotify for mail delivered later. Files outside cur/ and new/ are read
 * when they start like a message (MH-style trees, as notmuch reads them),
 * tmp/ never. Never writes into the Maildir (flags and moves are the
 * MUA's business). */
#include "ingest/private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* Unique names submitted in this run (the store learns them only at
 * commit, and a message may show up in new/ and then cur/ meanwhile). */
struct name_set {
	char **slot;
	size_t cap, n;
};

static uint64_t
hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool
set_has(const struct name_set *set, const char *name)
{
	if (!set->cap)
		return false;
	for (size_t i = hash_name(name) & (set->cap - 1); set->slot[i];
	     i = (i + 1) & (set->cap - 1))
		if (!strcmp(set->slot[i], name))
			return true;
	return false;
}

static void
set_add(struct name_set *set, const char *name)
{
	if ((set->n + 1) * 2 > set->cap) {
		struct name_set bigger = { 0 };
		bigger.cap = set->cap ? set->cap * 2 : 1024;
		bigger.slot = sk_xcalloc(bigger.cap, sizeof(char *));
		for (size_t i = 0; i < set->cap; i++)
			if (set->slot[i])
				set_add(&bigger, set->slot[i]),
				    free(set->slot[i]);
		free(set->slot);
		*set = bigger;
	}
	if (set_has(set, name))
		return;
	size_t i = hash_name(name) & (set->cap - 1);
	while (set->slot[i])
		i = (i + 1) & (set->cap - 1);
	set->slot[i] = sk_xstrdup(name);
	set->n++;
}

static void
set_release(struct name_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

/* One run over a Maildir. */
struct md {
	struct sk_ingest *ing;
	const char *root;
	int64_t source_id;
	struct name_set seen;
	int ifd;        /* inotify, or -1 */
	char **wd_path; /* watch descriptor -> directory */
	size_t n_wd;
};

/* Read a message file, at most limits.message_bytes of it. ENOENT is not
 * an error: the MUA moved the file (the move shows up on its own). */
static enum sk_status
read_message(const char *path, size_t max, char **out, size_t *len, bool *cut,
             struct sk_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	size_t cap, got = 0;
	char *buf;

	*cut = false;
	if (fd < 0)
		return errno == ENOENT
		           ? SK_ENOTFOUND
		           : sk_err_set(err, SK_EIO, "cannot open '%s': %s",
		                        path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return SK_ENOTFOUND;
	}
	cap = (size_t)st.st_size < max ? (size_t)st.st_size : max;
	buf = sk_xmalloc(cap + 1);
	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			close(fd);
			return sk_err_set(err, SK_EIO, "cannot read '%s': %s",
			                  path, strerror(errno));
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*cut = (size_t)st.st_size > max;
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return SK_OK;
}

static bool
is_mail_dir(const char *dir)
{
	const char *base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	return !strcmp(base, "new") || !strcmp(base, "cur");
}

/* State files of MDAs and IMAP servers that live next to the mail. */
static bool
is_state_file(const char *name)
{
	static const char *const prefixes[] = { "dovecot",
		                                "courier",
		                                "maildirfolder",
		                                "subscriptions",
		                                "maildirsize",
		                                ".",
		                                "tmp" };
	for (size_t i = 0; i < SK_ARRAY_SIZE(prefixes); i++)
		if (sk_starts_with(name, prefixes[i]))
			return true;
	return false;
}

/* Outside cur/ and new/ (MH-style trees such as notmuch's test corpora)
 * a file is read when it starts like a message: a header field. */
static bool
looks_like_message(const char *path)
{
	char buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	size_t i = 0;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return false;
	if (n >= 5 && !memcmp(buf, "From ", 5))
		return true;
	while (i < (size_t)n && buf[i] > ' ' && buf[i] < 127 && buf[i] != ':')
		i++;
	return i > 0 && i < (size_t)n && buf[i] == ':';
}

/* The name recorded for a file: its folder (relative to the root, without
 * cur/ or new/) and the unique part of its name, e.g. ".Projekty/17053".
 * Unique names are unique within a folder only. */
static bool
record_name(const struct md *md, const char *dir, const char *uniq,
            char out[PATH_MAX])
{
	size_t rl = strlen(md->root);
	const char *rel = dir + rl;
	size_t n;

	while (*rel == '/')
		rel++;
	n = strlen(rel);
	if (is_mail_dir(dir)) /* drop "cur" / "new" and the slash before */
		n = n >= 4 ? n - 4 : 0;
	if (n == 0)
		return snprintf(out, PATH_MAX, "%s", uniq) < PATH_MAX;
	return snprintf(out, PATH_MAX, "%.*s/%s", (int)n, rel, uniq) < PATH_MAX;
}

/* One file in new/ or cur/: the unique name is what precedes ':' (the
 * ":2,FLAGS" info changes when the MUA flags the message). */
static enum sk_status
take_file(struct md *md, const char *dir, const char *name, struct sk_err *err)
{
	char path[PATH_MAX], uniq[NAME_MAX + 1], rec[PATH_MAX];
	struct sk_ingest_pos pos = { 0 };
	size_t ul = strcspn(name, ":");
	char *raw = NULL;
	size_t len = 0;
	bool cut = false;
	enum sk_status rc;

	if (name[0] == '.' || ul == 0 || ul > NAME_MAX)
		return SK_OK;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return SK_OK;
	if (!is_mail_dir(dir) &&
	    (is_state_file(name) || !looks_like_message(path)))
		return SK_OK;
	memcpy(uniq, name, ul);
	uniq[ul] = '\0';
	if (!record_name(md, dir, uniq, rec) || set_has(&md->seen, rec))
		return SK_OK;
	set_add(&md->seen, rec);
	if (sk_index_source_file_done(sk_ingest_index(md->ing), md->source_id,
	                              rec))
		return SK_OK;
	rc = read_message(path, sk_ingest_limits(md->ing)->message_bytes, &raw,
	                  &len, &cut, err);
	if (rc == SK_ENOTFOUND)
		return SK_OK;
	if (rc)
		return rc;
	pos.source_id = md->source_id;
	pos.maildir_name = rec;
	return sk_ingest_submit_owned(md->ing, raw, len, cut, &pos, err);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
watch_dir(struct md *md, const char *dir)
{
	int wd;

	if (md->ifd < 0)
		return;
	wd = inotify_add_watch(md->ifd, dir,
	                       IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE |
	                           IN_ONLYDIR);
	if (wd < 0) {
		sk_log(SK_LOG_WARNING, "cannot watch '%s': %s", dir,
		       strerror(errno));
		return;
	}
	if ((size_t)wd >= md->n_wd) {
		size_t n = (size_t)wd + 64;
		md->wd_path = sk_xrealloc(md->wd_path, n * sizeof(char *));
		memset(md->wd_path + md->n_wd, 0,
		       (n - md->n_wd) * sizeof(char *));
		md->n_wd = n;
	}
	free(md->wd_path[wd]);
	md->wd_path[wd] = sk_xstrdup(dir);
}

/* Walk the tree under root without recursion: directories on a stack,
 * entries in name order so runs are reproducible. Symbolic links are not
 * followed; tmp/ is the MDA's. */
static enum sk_status
scan(struct md *md, const char *root, struct sk_err *err)
{
	char **stack = NULL;
	size_t n = 0, cap = 0;
	enum sk_status rc = SK_OK;

	sk_xgrow((void **)&stack, &cap, 1, sizeof(char *));
	stack[n++] = sk_xstrdup(root);
	while (n > 0 && !rc && !sk_ingest_stopping()) {
		char *dir = stack[--n];
		DIR *d = opendir(dir);
		struct dirent *de;
		char **names = NULL;
		size_t nn = 0, ncap = 0;

		if (!d) {
			if (errno != ENOENT)
				sk_log(SK_LOG_WARNING, "cannot read '%s': %s",
				       dir, strerror(errno));
			free(dir);
			continue;
		}
		watch_dir(md, dir);
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			sk_xgrow((void **)&names, &ncap, nn + 1,
			         sizeof(char *));
			names[nn++] = sk_xstrdup(de->d_name);
		}
		closedir(d);
		if (nn > 1)
			qsort(names, nn, sizeof(char *), cmp_names);
		/* Files first, then subdirectories (pushed in reverse so they
		 * pop in order). */
		for (size_t i = 0; i < nn && !rc && !sk_ingest_stopping();
		     i++) {
			char path[PATH_MAX];
			struct stat st;
			if (snprintf(path, sizeof(path), "%s/%s", dir,
			             names[i]) >= (int)sizeof(path) ||
			    lstat(path, &st) < 0)
				continue;
			if (S_ISREG(st.st_mode))
				rc = take_file(md, dir, names[i], err);
		}
		for (size_t i = nn; i > 0 && !rc; i--) {
			char path[PATH_MAX];
			struct stat st;
			if (!strcmp(names[i - 1], "tmp") ||
			    !strcmp(names[i - 1], ".notmuch") ||
			    snprintf(path, sizeof(path), "%s/%s", dir,
			             names[i - 1]) >= (int)sizeof(path) ||
			    lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
				continue;
			sk_xgrow((void **)&stack, &cap, n + 1, sizeof(char *));
			stack[n++] = sk_xstrdup(path);
		}
		for (size_t i = 0; i < nn; i++)
			free(names[i]);
		free(names);
		free(dir);
	}
	while (n > 0)
		free(stack[--n]);
	free(stack);
	return rc;
}

/* Read inotify events until none are left; new files are taken, new
 * folders scanned (and watched). */
static enum sk_status
drain_events(struct md *md, const char *root, bool *any, struct sk_err *err)
{
	char buf[16384]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	enum sk_status rc = SK_OK;

	for (;;) {
		ssize_t r = read(md->ifd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return rc;
		for (char *p = buf; p < buf + r && !rc;) {
			const struct inotify_event *ev = (const void *)p;
			const char *dir =
			    ev->wd >= 0 && (size_t)ev->wd < md->n_wd
			        ? md->wd_path[ev->wd]
			        : NULL;
			p += sizeof(*ev) + ev->len;
			*any = true;
			if (ev->mask & IN_Q_OVERFLOW) {
				rc = scan(md, root, err);
			} else if (!dir || !ev->len) {
				continue;
			} else if (ev->mask & IN_ISDIR) {
				char path[PATH_MAX];
				if (strcmp(ev->name, "tmp") &&
				    snprintf(path, sizeof(path), "%s/%s", dir,
				             ev->name) < (int)sizeof(path))
					rc = scan(md, path, err);
			} else if (ev->mask & (IN_MOVED_TO | IN_CLOSE_WRITE)) {
				rc = take_file(md, dir, ev->name, err);
			}
		}
	}
}

static enum sk_status
watch_loop(struct md *md, const char *root, struct sk_err *err)
{
	enum sk_status rc = SK_OK;

	while (!rc && !sk_ingest_stopping()) {
		struct pollfd pfd = { md->ifd, POLLIN, 0 };
		bool any = false;
		if (poll(&pfd, 1, 500) < 0 && errno != EINTR)
			return sk_err_set(err, SK_EIO, "poll failed: %s",
			                  strerror(errno));
		if (pfd.revents & POLLIN)
			rc = drain_events(md, root, &any, err);
		/* Mail that arrived is stored and committed before we sleep
		 * again, so it is searchable at once. */
		if (!rc && any)
			rc = sk_ingest_flush(md->ing, err);
		else if (!rc)
			rc = sk_ingest_idle(md->ing, err);
	}
	return rc;
}

enum sk_status
sk_ingest_maildir(struct sk_ingest *ing, const char *dir, bool watch,
                  struct sk_err *err)
{
	char root[PATH_MAX];
	struct sk_source_state st;
	struct md md = { .ing = ing, .root = root, .ifd = -1 };
	struct stat sb;
	enum sk_status rc;

	if (!realpath(dir, root) || stat(root, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return sk_err_set(err, SK_ENOTFOUND, "no Maildir at '%s'", dir);
	rc = sk_index_source_get(sk_ingest_index(ing), "maildir", root, &st,
	                         err);
	if (rc)
		return rc;
	md.source_id = st.id;
	if (watch) {
		/* Watches go in before the scan: nothing delivered meanwhile
		 * is missed (a file seen twice is skipped by name). */
		md.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (md.ifd < 0)
			return sk_err_set(err, SK_EIO, "cannot watch '%s': %s",
			                  root, strerror(errno));
	}
	rc = scan(&md, root, err);
	if (!rc)
		rc = sk_ingest_flush(ing, err);
	if (!rc && watch)
		rc = watch_loop(&md, root, err);
	if (md.ifd >= 0)
		close(md.ifd);
	for (size_t i = 0; i < md.n_wd; i++)
		free(md.wd_path[i]);
	free(md.wd_path);
	set_release(&md.seen);
	return rc;
}
