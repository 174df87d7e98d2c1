/* lib/config.c: skarbnica.conf (git-config style) through inih, with every
 * key known and typed; an unknown key is an error so typos surface. This is
 * the only place that reads the configuration file or the environment. */
#include "lib/sk_base.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
sk_config_init(struct sk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = SK_LOG_INFO;
	c->web.listen = sk_xstrdup("127.0.0.1:8080");
	c->web.threads = 2;
	c->web.max_connections = 256;
	c->web.request_bytes = 8u << 20;
	c->search.backend = sk_xstrdup("xapian");
	c->imap.port = 993;
	c->imap.folder = sk_xstrdup("INBOX");
	c->imap.idle_seconds = 25 * 60;
	c->smtp.port = 587;
}

struct sk_limits
sk_limits_effective(const struct sk_limits *l)
{
	struct sk_limits e = *l;
	if (!e.message_bytes)
		e.message_bytes = 50u << 20;
	if (!e.header_bytes)
		e.header_bytes = 256u << 10;
	if (!e.parts)
		e.parts = 10000;
	if (!e.depth)
		e.depth = 100;
	if (!e.attachment_bytes)
		e.attachment_bytes = 40u << 20;
	if (!e.extract_seconds)
		e.extract_seconds = 20;
	if (!e.extract_output_bytes)
		e.extract_output_bytes = 4u << 20;
	if (!e.body_text_bytes)
		e.body_text_bytes = 4u << 20;
	return e;
}

struct load {
	struct sk_config *c;
	struct sk_err *err;
	bool failed;
};

static void
set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = sk_xstrdup(v);
}

static enum sk_status
set_tls(enum sk_tls_mode *slot, const char *v, struct sk_err *err)
{
	if (!strcmp(v, "imaps") || !strcmp(v, "tls") || !strcmp(v, "smtps"))
		*slot = SK_TLS_IMPLICIT;
	else if (!strcmp(v, "starttls"))
		*slot = SK_TLS_STARTTLS;
	else if (!strcmp(v, "none"))
		*slot = SK_TLS_NONE;
	else
		return sk_err_set(err, SK_EINVAL,
				  "tls must be imaps, tls, starttls or none, "
				  "not '%s'",
				  v);
	return SK_OK;
}

static enum sk_status
set_port(uint64_t *slot, const char *v, struct sk_err *err)
{
	int64_t n;
	enum sk_status rc = sk_parse_i64(v, 1, 65535, &n, err);
	if (!rc)
		*slot = (uint64_t)n;
	return rc;
}

static struct sk_partner_conf *
partner(struct sk_config *c, const char *slug)
{
	for (size_t i = 0; i < c->n_partners; i++)
		if (!strcmp(c->partners[i].slug, slug))
			return &c->partners[i];
	c->partners = sk_xrealloc(c->partners,
				  (c->n_partners + 1) * sizeof(*c->partners));
	memset(&c->partners[c->n_partners], 0, sizeof(*c->partners));
	c->partners[c->n_partners].slug = sk_xstrdup(slug);
	return &c->partners[c->n_partners++];
}

/* "partner \"stolno\"" -> "stolno"; NULL when not a partner section. */
static bool
partner_slug(const char *section, char *out, size_t outsz)
{
	const char *q, *e;
	if (!sk_starts_with(section, "partner"))
		return false;
	q = strchr(section, '"');
	if (!q)
		return false;
	e = strchr(q + 1, '"');
	if (!e || e == q + 1 || e[1] || (size_t)(e - q - 1) >= outsz)
		return false;
	for (const char *p = q + 1; p < e; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-'))
			return false;
	memcpy(out, q + 1, (size_t)(e - q - 1));
	out[e - q - 1] = '\0';
	return true;
}

static enum sk_status
set_key(struct sk_config *c, const char *s, const char *k, const char *v,
	struct sk_err *err)
{
	char slug[64];
	bool b;

#define IS(sec, key) (!strcmp(s, sec) && !strcmp(k, key))
	if (IS("log", "level")) {
		if (!strcmp(v, "debug"))
			c->log_level = SK_LOG_DEBUG;
		else if (!strcmp(v, "info"))
			c->log_level = SK_LOG_INFO;
		else if (!strcmp(v, "warning"))
			c->log_level = SK_LOG_WARNING;
		else if (!strcmp(v, "error"))
			c->log_level = SK_LOG_ERR;
		else
			return sk_err_set(err, SK_EINVAL,
					  "log.level must be debug, info, "
					  "warning or error");
	} else if (IS("web", "listen"))
		set_str(&c->web.listen, v);
	else if (IS("web", "public")) {
		if (sk_parse_bool(v, &b, err))
			return SK_EINVAL;
		c->web.public_mode = b;
	} else if (IS("web", "base_url"))
		set_str(&c->web.base_url, v);
	else if (IS("web", "threads")) {
		int64_t n;
		if (sk_parse_i64(v, 1, 64, &n, err))
			return SK_EINVAL;
		c->web.threads = (uint64_t)n;
	} else if (IS("web", "max_connections")) {
		int64_t n;
		if (sk_parse_i64(v, 1, 100000, &n, err))
			return SK_EINVAL;
		c->web.max_connections = (uint64_t)n;
	} else if (IS("web", "request_bytes"))
		return sk_parse_size(v, &c->web.request_bytes, err);
	else if (IS("search", "backend")) {
		if (strcmp(v, "xapian") && strcmp(v, "fts5"))
			return sk_err_set(err, SK_EINVAL,
					  "search.backend must be xapian or "
					  "fts5");
		set_str(&c->search.backend, v);
	} else if (IS("search", "shards"))
		set_str(&c->search.shards, v);
	else if (IS("list", "address"))
		set_str(&c->list.address, v);
	else if (IS("list", "id"))
		set_str(&c->list.id, v);
	else if (IS("imap", "host"))
		set_str(&c->imap.host, v);
	else if (IS("imap", "port"))
		return set_port(&c->imap.port, v, err);
	else if (IS("imap", "tls"))
		return set_tls(&c->imap.tls, v, err);
	else if (IS("imap", "user"))
		set_str(&c->imap.user, v);
	else if (IS("imap", "password_file"))
		set_str(&c->imap.password_file, v);
	else if (IS("imap", "folder"))
		set_str(&c->imap.folder, v);
	else if (IS("imap", "ca_file"))
		set_str(&c->imap.ca_file, v);
	else if (IS("imap", "pin_sha256"))
		set_str(&c->imap.pin_sha256, v);
	else if (IS("imap", "allow_plaintext")) {
		if (sk_parse_bool(v, &b, err))
			return SK_EINVAL;
		c->imap.allow_plaintext = b;
	} else if (IS("imap", "idle_seconds")) {
		int64_t n;
		if (sk_parse_i64(v, 10, 28 * 60, &n, err))
			return SK_EINVAL;
		c->imap.idle_seconds = (uint64_t)n;
	} else if (IS("smtp", "host"))
		set_str(&c->smtp.host, v);
	else if (IS("smtp", "port"))
		return set_port(&c->smtp.port, v, err);
	else if (IS("smtp", "tls"))
		return set_tls(&c->smtp.tls, v, err);
	else if (IS("smtp", "user"))
		set_str(&c->smtp.user, v);
	else if (IS("smtp", "password_file"))
		set_str(&c->smtp.password_file, v);
	else if (IS("smtp", "from"))
		set_str(&c->smtp.from, v);
	else if (IS("smtp", "ca_file"))
		set_str(&c->smtp.ca_file, v);
	else if (IS("smtp", "pin_sha256"))
		set_str(&c->smtp.pin_sha256, v);
	else if (IS("smtp", "allow_plaintext")) {
		if (sk_parse_bool(v, &b, err))
			return SK_EINVAL;
		c->smtp.allow_plaintext = b;
	} else if (!strcmp(s, "limits")) {
		static const struct {
			const char *key;
			size_t off;
			bool is_size;
		} lim[] = {
			{ "message_bytes", offsetof(struct sk_limits, message_bytes), true },
			{ "header_bytes", offsetof(struct sk_limits, header_bytes), true },
			{ "parts", offsetof(struct sk_limits, parts), false },
			{ "depth", offsetof(struct sk_limits, depth), false },
			{ "attachment_bytes", offsetof(struct sk_limits, attachment_bytes), true },
			{ "extract_seconds", offsetof(struct sk_limits, extract_seconds), false },
			{ "extract_output_bytes", offsetof(struct sk_limits, extract_output_bytes), true },
			{ "body_text_bytes", offsetof(struct sk_limits, body_text_bytes), true },
		};
		if (!strcmp(k, "seccomp")) {
			if (sk_parse_bool(v, &b, err))
				return SK_EINVAL;
			c->limits.no_seccomp = !b;
			return SK_OK;
		}
		for (size_t i = 0; i < SK_ARRAY_SIZE(lim); i++) {
			uint64_t *slot;
			if (strcmp(k, lim[i].key))
				continue;
			slot = (uint64_t *)((char *)&c->limits + lim[i].off);
			if (lim[i].is_size)
				return sk_parse_size(v, slot, err);
			{
				int64_t n;
				if (sk_parse_i64(v, 1, 1000000, &n, err))
					return SK_EINVAL;
				*slot = (uint64_t)n;
			}
			return SK_OK;
		}
		return sk_err_set(err, SK_EINVAL, "unknown key 'limits.%s'",
				  k);
	} else if (!strcmp(s, "retention")) {
		static const struct {
			const char *key;
			size_t off;
		} ret[] = {
			{ "held_days", offsetof(struct sk_config, retention.held_days) },
			{ "sessions_days", offsetof(struct sk_config, retention.sessions_days) },
			{ "audit_days", offsetof(struct sk_config, retention.audit_days) },
			{ "outbox_days", offsetof(struct sk_config, retention.outbox_days) },
		};
		for (size_t i = 0; i < SK_ARRAY_SIZE(ret); i++) {
			int64_t n;
			if (strcmp(k, ret[i].key))
				continue;
			if (sk_parse_i64(v, 0, 36500, &n, err))
				return SK_EINVAL;
			*(uint64_t *)((char *)c + ret[i].off) = (uint64_t)n;
			return SK_OK;
		}
		return sk_err_set(err, SK_EINVAL, "unknown key 'retention.%s'",
				  k);
	} else if (partner_slug(s, slug, sizeof(slug))) {
		struct sk_partner_conf *p = partner(c, slug);
		if (!strcmp(k, "name"))
			set_str(&p->name, v);
		else if (!strcmp(k, "kind")) {
			if (strcmp(v, "gmina") && strcmp(v, "powiat") &&
			    strcmp(v, "miasto") && strcmp(v, "inna"))
				return sk_err_set(err, SK_EINVAL,
						  "partner kind must be gmina, "
						  "powiat, miasto or inna");
			set_str(&p->kind, v);
		} else if (!strcmp(k, "domains"))
			set_str(&p->domains, v);
		else
			return sk_err_set(err, SK_EINVAL,
					  "unknown key '%s' in [%s]", k, s);
	} else {
		return sk_err_set(err, SK_EINVAL, "unknown key '%s.%s'", s, k);
	}
#undef IS
	return SK_OK;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct load *l = user;
	if (l->failed)
		return 0;
	if (set_key(l->c, section, name, value, l->err)) {
		l->failed = true;
		return 0;
	}
	return 1;
}

enum sk_status
sk_config_load(struct sk_config *c, const char *path, struct sk_err *err)
{
	struct load l = { c, err, false };
	const char *dbg = getenv("SKARBNICA_DEBUG");
	FILE *f;
	int line;

	if (dbg && !strcmp(dbg, "1"))
		c->log_level = SK_LOG_DEBUG;
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return sk_err_set(err, SK_ENOTFOUND,
					  "config '%s' does not exist", path);
		return sk_err_set(err, SK_EIO, "cannot open '%s': %s", path,
				  strerror(errno));
	}
	line = ini_parse_file(f, handler, &l);
	fclose(f);
	if (line) {
		if (l.failed)
			return sk_err_wrap(err, "%s:%d", path, line);
		return sk_err_set(err, SK_EINVAL, "%s:%d: syntax error", path,
				  line);
	}
	for (size_t i = 0; i < c->n_partners; i++)
		if (!c->partners[i].name || !c->partners[i].domains)
			return sk_err_set(err, SK_EINVAL,
					  "%s: partner '%s' needs a name and "
					  "domains",
					  path, c->partners[i].slug);
	set_str(&c->path, path);
	if (dbg && !strcmp(dbg, "1"))
		c->log_level = SK_LOG_DEBUG;
	return SK_OK;
}

void
sk_config_release(struct sk_config *c)
{
	char **strs[] = {
		&c->path,	     &c->web.listen,	 &c->web.base_url,
		&c->search.backend,  &c->search.shards,  &c->list.address,	 &c->list.id,
		&c->imap.host,	     &c->imap.user,	 &c->imap.password_file,
		&c->imap.folder,     &c->imap.ca_file,	 &c->imap.pin_sha256,
		&c->smtp.host,	     &c->smtp.user,	 &c->smtp.password_file,
		&c->smtp.from,	     &c->smtp.ca_file,	 &c->smtp.pin_sha256,
	};
	for (size_t i = 0; i < SK_ARRAY_SIZE(strs); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	for (size_t i = 0; i < c->n_partners; i++) {
		free(c->partners[i].slug);
		free(c->partners[i].name);
		free(c->partners[i].kind);
		free(c->partners[i].domains);
	}
	free(c->partners);
	c->partners = NULL;
	c->n_partners = 0;
}

bool
sk_host_is_loopback(const char *host)
{
	if (!host)
		return false;
	return !strcmp(host, "localhost") || !strcmp(host, "::1") ||
	       !strcmp(host, "[::1]") || sk_starts_with(host, "127.");
}

enum sk_status
sk_read_file(const char *path, size_t max, char **out, size_t *len_out,
	     struct sk_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct sk_buf b;
	char tmp[65536];
	ssize_t n;

	if (fd < 0)
		return sk_err_set(err, errno == ENOENT ? SK_ENOTFOUND : SK_EIO,
				  "cannot open '%s': %s", path,
				  strerror(errno));
	sk_buf_init(&b, max);
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			sk_buf_release(&b);
			return sk_err_set(err, SK_EIO, "cannot read '%s': %s",
					  path, strerror(errno));
		}
		sk_buf_add(&b, tmp, (size_t)n);
		if (sk_buf_status(&b)) {
			close(fd);
			sk_buf_release(&b);
			return sk_err_set(err, SK_ETOOBIG,
					  "'%s' is larger than %zu bytes", path,
					  max);
		}
	}
	close(fd);
	*out = sk_buf_take(&b, len_out);
	return SK_OK;
}

enum sk_status
sk_read_secret_file(const char *path, char **out, struct sk_err *err)
{
	struct stat st;
	char *s;
	size_t n;
	enum sk_status rc;

	if (stat(path, &st) < 0)
		return sk_err_set(err, SK_EIO, "cannot read '%s': %s", path,
				  strerror(errno));
	if (st.st_mode & 077)
		return sk_err_set(err, SK_EINVAL,
				  "secret file '%s' is readable by others "
				  "(chmod 600 it)",
				  path);
	rc = sk_read_file(path, 4096, &s, &n, err);
	if (rc)
		return rc;
	s[strcspn(s, "\r\n")] = '\0';
	*out = s;
	return SK_OK;
}

enum sk_status
sk_mkdir_p(const char *path, unsigned mode, struct sk_err *err)
{
	char *p = sk_xstrdup(path);
	for (char *s = p + 1;; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			enum sk_status rc = sk_err_set(
				err, SK_EIO, "cannot create directory '%s': %s",
				p, strerror(errno));
			free(p);
			return rc;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return SK_OK;
}
