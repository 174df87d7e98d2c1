/* lib/sk_base.h: base utilities every module uses — errors, logging, arena,
 * capped buffer, string slices, UTF-8 helpers and the configuration file.
 *
 * The only header other modules include from lib/. No library types here. */
#ifndef SK_BASE_H
#define SK_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
#define SK_BEGIN_DECLS extern "C" {
#define SK_END_DECLS }
#else
#define SK_BEGIN_DECLS
#define SK_END_DECLS
#endif

#define SK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SK_NORETURN __attribute__((noreturn)) /* C and C++ alike */
#define SK_ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

SK_BEGIN_DECLS

/* ---- errors ------------------------------------------------------------ */

enum sk_status {
	SK_OK = 0,
	SK_EINVAL,   /* caller/user input is wrong: bad query, bad id (400) */
	SK_ENOTFOUND, /* (404) */
	SK_EEXIST,   /* duplicate Message-ID, unique constraint */
	SK_EPARSE,   /* malformed mail/MIME/config: quarantine, continue */
	SK_ETOOBIG,  /* a configured limit was hit */
	SK_EAGAIN,   /* transient: SQLITE_BUSY, Xapian DatabaseModified, 4xx */
	SK_EIO,
	SK_EDB,
	SK_EINDEX,
	SK_ESMTP,
	SK_ENOMEM, /* only where we cannot abort (inside the Xapian wrapper) */
};

struct sk_err {
	enum sk_status code;
	char msg[256]; /* fixed size: setting an error never allocates */
};

/* Fill *err (err may be NULL) and return code. Messages are lowercase, with
 * no final period, and name what failed first. */
enum sk_status sk_err_set(struct sk_err *err, enum sk_status code,
			  const char *fmt, ...) SK_PRINTF(3, 4);
/* Prefix the message already in *err with "what: " (err may be NULL). */
enum sk_status sk_err_wrap(struct sk_err *err, const char *fmt, ...)
	SK_PRINTF(2, 3);
/* A short English name of a status, e.g. "not found". Static storage. */
const char *sk_status_name(enum sk_status code);

/* Bugs are not errors: abort with a message. */
#define SK_BUG(...) sk_bug(__FILE__, __LINE__, __VA_ARGS__)
SK_NORETURN void sk_bug(const char *file, int line, const char *fmt, ...)
	SK_PRINTF(3, 4);

/* ---- allocation: out of memory aborts ---------------------------------- */

void *sk_xmalloc(size_t n);
void *sk_xcalloc(size_t n, size_t size);
void *sk_xrealloc(void *p, size_t n);
char *sk_xstrdup(const char *s);
char *sk_xstrndup(const char *s, size_t n);
/* Grow *p (holding *cap elements of size) to hold at least need elements. */
void sk_xgrow(void **p, size_t *cap, size_t need, size_t size);

/* ---- logging ----------------------------------------------------------- */

/* Lines go to stderr as "<3>skarbnica: message"; journald reads the
 * priority prefix. */
enum sk_log_level {
	SK_LOG_ERR = 3,
	SK_LOG_WARNING = 4,
	SK_LOG_NOTICE = 5,
	SK_LOG_INFO = 6,
	SK_LOG_DEBUG = 7
};
void sk_log(enum sk_log_level lvl, const char *fmt, ...) SK_PRINTF(2, 3);
void sk_log_set_level(enum sk_log_level max);
bool sk_log_enabled(enum sk_log_level lvl);

/* ---- arena: request-shaped memory, freed in one call ------------------- */

struct sk_arena;
struct sk_arena *sk_arena_new(size_t block); /* 0 = 8 KiB blocks */
void sk_arena_free(struct sk_arena **a);     /* frees all, *a = NULL */
void *sk_arena_alloc(struct sk_arena *a, size_t n); /* zeroed; OOM aborts */
char *sk_arena_strdup(struct sk_arena *a, const char *s); /* NULL -> NULL */
char *sk_arena_strndup(struct sk_arena *a, const char *s, size_t n);
void *sk_arena_memdup(struct sk_arena *a, const void *p, size_t n);
char *sk_arena_printf(struct sk_arena *a, const char *fmt, ...)
	SK_PRINTF(2, 3);
/* Bytes handed out so far (for limits and tests). */
size_t sk_arena_used(const struct sk_arena *a);

/* ---- sk_buf: growable, NUL-terminated, with a hard cap and a sticky error */

struct sk_buf {
	char *p; /* never NULL, always NUL-terminated */
	size_t len;
	size_t cap;
	size_t max;	/* hard cap on len */
	enum sk_status status; /* SK_OK or SK_ETOOBIG, sticky */
};

void sk_buf_init(struct sk_buf *b, size_t max); /* max is required */
void sk_buf_add(struct sk_buf *b, const void *s, size_t n);
void sk_buf_adds(struct sk_buf *b, const char *s); /* NUL-terminated */
void sk_buf_addc(struct sk_buf *b, char c);
void sk_buf_addf(struct sk_buf *b, const char *fmt, ...) SK_PRINTF(2, 3);
void sk_buf_vaddf(struct sk_buf *b, const char *fmt, va_list ap);
/* & < > " ' escaped; s must be valid UTF-8 (it is after ingest). */
void sk_buf_add_html(struct sk_buf *b, const char *s, size_t n);
void sk_buf_add_htmls(struct sk_buf *b, const char *s); /* NULL adds "" */
/* Percent-encodes everything but RFC 3986 unreserved characters. */
void sk_buf_add_url(struct sk_buf *b, const char *s, size_t n);
/* JSON string body (without the quotes): ", \, control chars escaped. */
void sk_buf_add_json(struct sk_buf *b, const char *s, size_t n);
/* A quoted JSON string, or null when s is NULL. */
void sk_buf_add_json_str(struct sk_buf *b, const char *s);
void sk_buf_truncate(struct sk_buf *b, size_t len);
void sk_buf_reset(struct sk_buf *b); /* len = 0, status kept */
enum sk_status sk_buf_status(const struct sk_buf *b);
/* Detach the string; the caller free()s it. The buffer is re-initialised
 * empty with the same cap. */
char *sk_buf_take(struct sk_buf *b, size_t *len_out);
void sk_buf_release(struct sk_buf *b);

/* ---- string slices and parsing ----------------------------------------- */

struct sk_str {
	const char *p;
	size_t n;
};
#define SK_STR(lit) ((struct sk_str){ (lit), sizeof(lit) - 1 })

bool sk_str_eq(struct sk_str a, const char *lit);
bool sk_str_ieq(struct sk_str a, const char *lit); /* ASCII case-insensitive */
bool sk_starts_with(const char *s, const char *prefix);
bool sk_istarts_with(const char *s, const char *prefix);
/* Strict decimal parse of the whole string into [min, max]. */
enum sk_status sk_parse_i64(const char *s, int64_t min, int64_t max,
			    int64_t *out, struct sk_err *err);
/* Sizes like "25M", "512k", "1G" or plain bytes. */
enum sk_status sk_parse_size(const char *s, uint64_t *out, struct sk_err *err);
enum sk_status sk_parse_bool(const char *s, bool *out, struct sk_err *err);
/* The value of a hexadecimal digit, or -1. */
int sk_hex_digit(int c);
/* ASCII lowercase in place; returns s. */
char *sk_ascii_lower(char *s);
/* Trim ASCII white space at both ends of [s, s+n): returns the slice. */
struct sk_str sk_str_trim(const char *s, size_t n);

/* ---- UTF-8 ------------------------------------------------------------- */

/* True when [s, s+n) is valid UTF-8 (no overlongs, no surrogates). */
bool sk_utf8_valid(const char *s, size_t n);
/* Copy s into a new arena string, replacing each invalid sequence with
 * U+FFFD and dropping NUL and C0 controls other than \t \n. */
char *sk_utf8_sanitize(struct sk_arena *a, const char *s, size_t n,
		       size_t *len_out);
/* Decode one code point at s (n bytes left). Returns its length (>= 1) and
 * sets *cp; invalid bytes give length 1 and *cp = 0xFFFD. */
size_t sk_utf8_next(const char *s, size_t n, uint32_t *cp);
/* Encode cp into out (4 bytes room); returns the length. */
size_t sk_utf8_encode(uint32_t cp, char *out);
/* The largest length <= max that does not split a character of s. */
size_t sk_utf8_clip(const char *s, size_t n, size_t max);
/* Number of code points. */
size_t sk_utf8_count(const char *s, size_t n);

/* ---- time -------------------------------------------------------------- */

/* ISO 8601 UTC, "2011-10-05T14:02:00Z"; out needs 21 bytes. */
void sk_time_iso8601(time_t t, char out[21]);
/* Parse "YYYY-MM-DD" (UTC midnight). */
enum sk_status sk_parse_date(const char *s, size_t n, time_t *out);
/* Civil time in Europe/Warsaw (CET/CEST by the EU rule: summer time from
 * 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
 * October) computed without TZ or tzdata. *offset_out (may be NULL) gets
 * the UTC offset in seconds (3600 or 7200); out->tm_isdst is set. */
void sk_warsaw_tm(time_t t, struct tm *out, int *offset_out);
/* The instant 00:00 Warsaw time starts the civil day year-month-day
 * (month 1..12). day may lie outside the month and counts on from its
 * first day: day 0 is the last day of the previous month, day 32 of
 * January is 1 February. Days are 23 or 25 hours long at the switches. */
time_t sk_warsaw_midnight(int year, int month, int day);

/* ---- configuration (git-config style, inih) ------------------------------ */

enum sk_tls_mode { SK_TLS_DEFAULT = 0, SK_TLS_IMPLICIT, SK_TLS_STARTTLS,
		   SK_TLS_NONE };

struct sk_partner_conf {
	char *slug;
	char *name;
	char *kind;	/* "gmina" or "powiat" */
	char *domains;	/* space or comma separated */
};

/* Limits on untrusted input. 0 means the default from sk_limits_default(). */
struct sk_limits {
	uint64_t message_bytes;
	uint64_t header_bytes;
	uint64_t parts;
	uint64_t depth;
	uint64_t attachment_bytes;
	uint64_t extract_seconds;
	uint64_t extract_output_bytes;
	uint64_t body_text_bytes;
	/* limits.seccomp = false: parser workers run without their syscall
	 * filter (ingest/sandbox.c), for debugging only. */
	bool no_seccomp;
};

struct sk_config {
	char *path; /* the file read, or NULL when none existed */
	enum sk_log_level log_level;
	struct {
		char *listen;
		bool public_mode;
		char *base_url;
		uint64_t threads;
		uint64_t max_connections;
		uint64_t request_bytes;
	} web;
	struct {
		char *backend; /* "xapian" or "fts5" */
		char *shards;  /* "host:port, ..." (xapian-tcpsrv) or NULL */
	} search;
	struct {
		char *address;
		char *id;
	} list;
	struct {
		char *host;
		uint64_t port;
		enum sk_tls_mode tls;
		char *user;
		char *password_file;
		char *folder;
		char *ca_file;
		char *pin_sha256;
		bool allow_plaintext;
		uint64_t idle_seconds;
	} imap;
	struct {
		char *host;
		uint64_t port;
		enum sk_tls_mode tls;
		char *user;
		char *password_file;
		char *from;
		char *ca_file;
		char *pin_sha256;
		bool allow_plaintext;
	} smtp;
	struct sk_limits limits;
	struct {
		/* Days to keep; 0 keeps for ever. `skarbnica purge`. */
		uint64_t held_days;	/* held mail never approved */
		uint64_t sessions_days; /* login sessions */
		uint64_t audit_days;	/* audit entries */
		uint64_t outbox_days;	/* sent outbox rows */
	} retention;
	struct sk_partner_conf *partners;
	size_t n_partners;
};

/* Defaults for every setting (without reading anything). */
void sk_config_init(struct sk_config *c);
/* Read path into c (after sk_config_init). A missing file is SK_ENOTFOUND
 * (callers treat it as "all defaults" when the path was not given
 * explicitly). Unknown sections or keys and bad values are SK_EINVAL with
 * "FILE:LINE: ..." in err. Also applies SKARBNICA_DEBUG=1 from the
 * environment. */
enum sk_status sk_config_load(struct sk_config *c, const char *path,
			      struct sk_err *err);
void sk_config_release(struct sk_config *c);
/* Limits with every 0 replaced by its default. */
struct sk_limits sk_limits_effective(const struct sk_limits *l);
/* True for 127.0.0.0/8, ::1 and "localhost". */
bool sk_host_is_loopback(const char *host);
/* Read a secret file (first line, without the newline). Refuses files that
 * group or others can read. Returns a malloc'ed string. */
enum sk_status sk_read_secret_file(const char *path, char **out,
				   struct sk_err *err);
/* Read a whole file into a malloc'ed buffer (NUL-terminated), up to max. */
enum sk_status sk_read_file(const char *path, size_t max, char **out,
			    size_t *len_out, struct sk_err *err);
/* mkdir -p with mode. */
enum sk_status sk_mkdir_p(const char *path, unsigned mode, struct sk_err *err);

/* ---- TLS peer verification (lib/tls.c, GnuTLS) --------------------------- */

/* Decide whether a TLS server may be trusted, from the certificates it sent
 * (libetpan 1.9.4 checks nothing itself: see DEPENDENCIES.md §2.1). Call it
 * after the handshake and before anything secret is sent.
 *
 * der_chain[0..n) are DER certificates as the server sent them, leaf first.
 * host is the name the user configured (a DNS name, or an IPv4/IPv6 literal,
 * brackets allowed); the leaf must be issued for it (SAN, RFC 6125).
 * The chain must lead to a trust anchor: the certificates of ca_file (PEM,
 * one or more) when it is set, else the system store (ca-certificates).
 * pin_sha256, when set, must match as well: one or more SHA-256 digests
 * (separated by commas or spaces), each either 64 hex digits (colons
 * allowed, as `openssl x509 -fingerprint -sha256` prints them) or base64
 * (curl's "sha256//..." form accepted). A digest matches when it is the
 * SHA-256 of the leaf's DER certificate or of its SubjectPublicKeyInfo
 * (the key pin survives a renewal with the same key). A pin never replaces
 * the chain and name checks; for a self-signed server, name its
 * certificate in ca_file.
 *
 * SK_OK: trusted. SK_EIO: not trusted (no certificate, unparsable, unknown
 * issuer, wrong name, expired, pin mismatch...), with the reason in err.
 * SK_EINVAL: the settings are wrong (pin syntax, ca_file unreadable or
 * without certificates, no system CA store). */
enum sk_status sk_tls_verify(const struct sk_str *der_chain, size_t n,
			     const char *host, const char *ca_file,
			     const char *pin_sha256, struct sk_err *err);

SK_END_DECLS
#endif
