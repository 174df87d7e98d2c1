/* ingest/private.h: declarations shared inside ingest/ only — charsets,
 * header fields, HTML to text, quoting, attachment extraction, the wire
 * format between parser workers and the run, and the worker pool.
 * Nothing outside ingest/ (tests aside) includes this file; no libetpan,
 * ICU or libxml2 type appears here. */
#ifndef SK_INGEST_PRIVATE_H
#define SK_INGEST_PRIVATE_H

#include "ingest/sk_ingest.h"

#include <sys/types.h>

SK_BEGIN_DECLS

/* ---- charsets (charset.c) ----------------------------------------------- */

/* The iconv name for a charset label ("cp1250", "latin2", "UTF8", with or
 * without quotes), or NULL when the label is empty or names nothing iconv
 * knows. Static storage or a copy in a. */
const char *sk_mime_charset_canon(struct sk_arena *a, const char *label);

/* Text bytes in charset label (may be NULL) to valid UTF-8 in a. When the
 * label is missing, unknown, us-ascii over 8-bit bytes, or iso-8859-1 /
 * windows-1252 over Polish text (windows-1250 mislabelled), the charset is
 * detected and *flags gets SK_MSG_CHARSET_GUESSED. NUL and C0 controls
 * other than \t \n are dropped; invalid sequences become U+FFFD. */
char *sk_mime_text_utf8(struct sk_arena *a, const char *s, size_t n,
                        const char *label, unsigned *flags, size_t *len_out);

/* Convert from an iconv charset name (from sk_mime_charset_canon() or
 * sk_mime_detect()) to sanitized UTF-8; bytes iconv rejects become U+FFFD.
 * False (nothing allocated) when iconv cannot open the charset. */
bool sk_mime_convert(struct sk_arena *a, const char *s, size_t n,
                     const char *canon, char **out, size_t *len_out);

/* Guess the charset of 8-bit text among UTF-8, ISO-8859-2 and
 * WINDOWS-1250 (the default). use_icu: ask ICU's detector when the Polish
 * letters do not decide (long text only; it is useless on a header). */
const char *sk_mime_detect(const char *s, size_t n, bool use_icu);

/* True when windows-1250 Polish text is likely behind bytes labelled
 * iso-8859-1 or windows-1252. */
bool sk_mime_looks_cp1250(const char *s, size_t n);

/* ---- header fields (header.c) ---------------------------------------------
 */

struct sk_mime_header {
	const char *name; /* points into the message, not terminated */
	size_t name_len;
	const char *value; /* raw, still folded, not terminated */
	size_t value_len;
};

struct sk_mime_headers {
	struct sk_mime_header *h;
	size_t n;
	size_t end;     /* offset where the body starts */
	bool truncated; /* the block was longer than the limit */
	bool missing;   /* the first line was not a header at all */
};

/* Split the header block at the start of [s, s+n) into fields, reading at
 * most max bytes of it. A leading mbox "From " line is skipped. The array
 * is allocated from a; names and values point into s. */
void sk_mime_headers_parse(struct sk_arena *a, const char *s, size_t n,
                           size_t max, struct sk_mime_headers *out);

/* The first field called name (case-insensitive), unfolded and
 * NUL-terminated in a, still raw bytes; NULL when absent. */
char *sk_mime_header_get(struct sk_arena *a, const struct sk_mime_headers *hs,
                         const char *name, size_t *len_out);

/* RFC 2047 decoding of an unfolded header value to UTF-8: Q and B words,
 * adjacent words joined (bytes of one charset converted together, so a
 * character split across words survives), raw 8-bit bytes detected
 * (UTF-8, else windows-1250 or ISO-8859-2; *flags gets
 * SK_MSG_CHARSET_GUESSED). White space runs become one space; the result
 * is trimmed. */
char *sk_mime_decode_words(struct sk_arena *a, const char *s, size_t n,
                           unsigned *flags);

struct sk_mime_addr {
	const char *name; /* decoded display name, "" when none */
	const char *addr; /* as written (not lowercased), "" when none */
};

/* Parse an address list (RFC 5322, leniently: groups, comments, quoted
 * names holding encoded words, raw 8-bit names). At most max entries. */
size_t sk_mime_addresses(struct sk_arena *a, const char *s, size_t n,
                         size_t max, unsigned *flags,
                         struct sk_mime_addr **out);

/* Parse an RFC 5322 date, leniently (no weekday, two-digit years, named
 * zones, "(CET)" comments, ISO 8601). False when it makes no sense. */
bool sk_mime_date(const char *s, size_t n, time_t *out);

/* The msg-ids of a field (without <>), in order. Ids are sanitized and at
 * most 250 bytes. When more than max are present the first one and the
 * last max-1 are kept (the root and the nearest ancestors matter for
 * threading). */
size_t sk_mime_msgids(struct sk_arena *a, const char *s, size_t n, size_t max,
                      const char ***out);

struct sk_mime_param {
	const char *name;  /* lowercase, without RFC 2231 '*' suffixes */
	const char *value; /* UTF-8 */
};

/* A Content-Type or Content-Disposition value. */
struct sk_mime_field {
	const char *value; /* lowercase "type/subtype" or "attachment" */
	struct sk_mime_param *params;
	size_t n_params;
};

/* Parse "value; p1=v1; p2*=utf-8''%C5%81..." with RFC 2231 (extended
 * values and continuations: sections in numeric order, all octets
 * percent-decoded first, then one charset conversion; at most 64
 * sections) and RFC 2047 words in plain values. */
void sk_mime_field_parse(struct sk_arena *a, const char *s, size_t n,
                         unsigned *flags, struct sk_mime_field *out);
const char *sk_mime_field_param(const struct sk_mime_field *f,
                                const char *name);

/* ---- body text helpers (html.c, quote.c) ----------------------------------
 */

/* Readable text from HTML bytes: label is the MIME charset (may be NULL;
 * then <meta> decides, then detection). Block elements end lines, links
 * become "text (url)", script/style/head are dropped, blockquotes are
 * prefixed with "> " so that quoting is recognised. At most max bytes. */
char *sk_mime_html_text(struct sk_arena *a, const char *s, size_t n,
                        const char *label, size_t max, unsigned *flags,
                        size_t *len_out);

/* Byte offset of the first line of the trailing quoted block of a body
 * (the attribution line when there is one), or n when nothing trails. */
size_t sk_mime_quote_start(const char *s, size_t n);

/* ---- attachments (extract.c) -----------------------------------------------
 */

/* Time left for subprocess extractors in one message. */
struct sk_extract_budget {
	double seconds_left;
};

/* Fill att->text, extract_status and extract_error for att (data, size,
 * filename and content_type set; charset is the label of a text part,
 * may be NULL) using limits; may run pdftotext, antiword or xls2csv in a
 * subprocess. Never fails: failures are recorded in att ("failed" with a
 * reason; "none" when there is no reader for the type). Sets
 * SK_MSG_TRUNCATED in *flags when output was cut. */
void sk_mime_extract(struct sk_arena *a, const struct sk_limits *lim,
                     struct sk_extract_budget *budget,
                     struct sk_attachment *att, const char *charset,
                     unsigned *flags);

/* Run argv (argv[0] found on PATH) with the file at path as its input,
 * under time, memory and output caps, collecting stdout into a. False with
 * a reason in why[] on failure (a non-zero exit, a signal, a timeout). */
bool sk_mime_run_tool(struct sk_arena *a, const char *const argv[],
                      double seconds, size_t max_out, char **out,
                      size_t *len_out, bool *cut, char why[128]);

/* Write data to a private temporary file and run args... FILE [tail] on it
 * (args[0] found on PATH) with sk_mime_run_tool(). In a filtered parser
 * worker the tool server (sandbox.c) runs it instead. */
bool sk_mime_run_tool_on_data(struct sk_arena *a, const char *const args[],
                              const char *tail, const void *data, size_t size,
                              double seconds, size_t max_out, char **out,
                              size_t *len, bool *cut, char why[128]);

/* ---- the parser workers' sandbox (sandbox.c) ------------------------------
 */

/* Whole reads and writes on a blocking descriptor, retrying EINTR (writes
 * without SIGPIPE). False on EOF or error. */
bool sk_fd_read_full(int fd, void *p, size_t n);
bool sk_fd_write_full(int fd, const void *p, size_t n);

/* Fork the tool server: an unfiltered child that runs the extractors for
 * this process from now on. Call before sk_sandbox_enter(). */
bool sk_sandbox_start_tools(const struct sk_limits *lim);
/* True once sk_sandbox_start_tools() succeeded in this process. */
bool sk_sandbox_tools_ready(void);
/* sk_mime_run_tool_on_data() in the tool server. */
bool sk_sandbox_run_tool(struct sk_arena *a, const char *const args[],
                         const char *tail, const void *data, size_t size,
                         double seconds, size_t max_out, char **out,
                         size_t *len, bool *cut, char why[128]);
/* Load what parsing loads lazily, then install the seccomp filter: from
 * now on a syscall a parser does not need kills the process (SIGSYS) and
 * opening a file fails with EACCES. False (why set) when the kernel or
 * libseccomp refuses. */
bool sk_sandbox_enter(const struct sk_limits *lim, char why[128]);

/* ---- parsing (parse.c) -----------------------------------------------------
 */

/* The fallback when the full parser crashed on raw: headers only (no
 * libetpan, no extraction), the body read as text. Sets SK_MSG_MALFORMED. */
void sk_mime_parse_headers_only(struct sk_arena *a,
                                const struct sk_limits *limits, const char *raw,
                                size_t len, struct sk_message *m);

/* "sha256-<64 hex>@skarbnica.invalid" from the stable parts of a message
 * (From, To, Cc, Date, Subject and the body), so that a message without a
 * Message-ID gets the same id every time it is read. */
char *sk_mime_synthetic_id(struct sk_arena *a, const char *raw, size_t len,
                           const struct sk_mime_headers *hs);

/* ---- wire format between a worker and the run (wire.c) --------------------
 */

/* Serialize m (without raw) into b. */
void sk_wire_put_message(struct sk_buf *b, const struct sk_message *m);
/* Read a serialized message back, pointing into buf (which must stay
 * alive; it is not modified) and allocating arrays from a. Every field is
 * checked (bounds, NUL terminators, UTF-8), because a worker that went
 * wrong must not take the run with it. */
enum sk_status sk_wire_get_message(struct sk_arena *a, const char *buf,
                                   size_t len, struct sk_message *m,
                                   struct sk_err *err);

/* ---- the worker pool (pool.c) ----------------------------------------------
 */

enum sk_job_mode {
	SK_JOB_FULL = 0,         /* sk_ingest_parse() */
	SK_JOB_HEADERS_ONLY = 1, /* after a crash: sk_mime_parse_headers_only */
};

/* Test only: called by a worker on every message after its filter is in
 * place (NULL in production). */
extern void (*sk_pool_test_hook)(const char *raw, size_t len,
                                 enum sk_job_mode mode);

/* One message on its way through a worker. The pool never owns raw. */
struct sk_job {
	uint64_t seq;
	const char *raw;
	size_t len;
	enum sk_job_mode mode;
	/* Results, set when the pool reports the job done: */
	char *result; /* malloc'ed serialized sk_message, or NULL */
	size_t result_len;
	char failure[96]; /* "parser crashed (signal 11)" when result NULL */
	/* The pool's bookkeeping: */
	struct sk_job *next;
	size_t sent; /* bytes of header + raw written */
};

struct sk_pool;

/* Start n workers that parse with limits. Workers are forked now, before
 * anything else is opened, and again when one dies. */
enum sk_status sk_pool_new(unsigned n, const struct sk_limits *limits,
                           struct sk_pool **pool_out, struct sk_err *err);
/* Stop the workers (EOF, then SIGKILL after a grace time) and free. */
void sk_pool_free(struct sk_pool **pool);
/* Queue a job (not copied: it must live until reported done). */
void sk_pool_push(struct sk_pool *p, struct sk_job *job);
/* Jobs pushed and not yet reported. */
size_t sk_pool_pending(const struct sk_pool *p);
/* Move bytes for up to timeout_ms (-1: until something completes) and
 * report every finished job through done. SK_EIO when workers cannot be
 * started at all. */
enum sk_status sk_pool_run(struct sk_pool *p, int timeout_ms,
                           void (*done)(void *ctx, struct sk_job *job),
                           void *ctx, struct sk_err *err);
/* Worker pids, for tests that kill one. */
size_t sk_pool_pids(const struct sk_pool *p, pid_t *pids, size_t max);
/* Change how long a worker may spend on one message (tests use a few
 * seconds; the default follows limits.extract_seconds). */
void sk_pool_set_timeout(struct sk_pool *p, unsigned seconds);

/* ---- the run (pipeline.c), used by the sources -----------------------------
 */

/* Like sk_ingest_submit() but takes raw (malloc'ed) instead of copying it;
 * cut says raw was cut at limits.message_bytes by the reader. */
enum sk_status sk_ingest_submit_owned(struct sk_ingest *ing, char *raw,
                                      size_t len, bool cut,
                                      const struct sk_ingest_pos *pos,
                                      struct sk_err *err);
struct sk_index *sk_ingest_index(struct sk_ingest *ing);
const struct sk_limits *sk_ingest_limits(const struct sk_ingest *ing);
/* True once sk_ingest_stop() was called. */
bool sk_ingest_stopping(void);
/* Commit what is stored when the batch has waited long enough (watch
 * loops call this while idle). */
enum sk_status sk_ingest_idle(struct sk_ingest *ing, struct sk_err *err);
/* For tests: the workers' pids and their time limit. */
size_t sk_ingest_worker_pids(struct sk_ingest *ing, pid_t *pids, size_t max);
void sk_ingest_set_worker_timeout(struct sk_ingest *ing, unsigned seconds);

SK_END_DECLS
#endif
