/* mailer/sk_mailer.h: what Skarbnica sends — composing MIME for Polish
 * mail, SMTP submission, the outbox loop and topic digests.
 *
 * The only header other modules include from mailer/. No libetpan or
 * libcmark type appears here. web/ never includes it: the web queues mail
 * through index/ (sk_index_note_post, sk_index_outbox_queue) and this
 * module drains the outbox; cmd/ wires the two (see sk_mail_note_compose).
 *
 * Exactly once, to the server's knowledge. A message is accepted by an
 * SMTP server only when the server answers the final "." of DATA. The
 * outbox therefore records, and commits, the moment just before that dot
 * is written (dot_at). Whatever happens before it — a crash, a kill, a
 * network error, a 4xx — the server cannot have the message, so the row
 * goes back to 'queued' and is sent again. After it, and until the 250 is
 * recorded as 'sent', the server may or may not have the message: such a
 * row becomes 'failed' with uncertain = 1 and is never resent by the
 * mailer; a coordinator looks (for notes, the list archive shows whether
 * the list got it) and requeues it by hand (sk_index_outbox_requeue).
 * Only one mailer runs per data directory (DATA/mailer.lock), so a row
 * found in 'sending' at start belongs to a mailer that died. */
#ifndef SK_MAILER_H
#define SK_MAILER_H

#include "lib/sk_base.h"
#include "index/sk_index.h"

SK_BEGIN_DECLS

/* ---- settings ------------------------------------------------------------ */

/* Who Skarbnica is when it writes. Strings are borrowed. */
struct sk_mail_settings {
	const char *from;	  /* smtp.from: envelope sender and the From
				     address of everything sent (required) */
	const char *from_name;	  /* display name; NULL = "Skarbnica" */
	const char *list_address; /* list.address: where notes go */
	const char *list_id;	  /* list.id (informational) */
	const char *base_url;	  /* web.base_url: links in digests, the
				     one-click unsubscribe URL (https) */
	const char *msgid_domain; /* right side of our Message-IDs; NULL =
				     the domain of from */
};

/* Fill s from c (strings borrowed from c). */
void sk_mail_settings_from_config(struct sk_mail_settings *s,
				  const struct sk_config *c);

/* ---- composing ----------------------------------------------------------- */

/* One message to compose. Every string is UTF-8 and borrowed. Header
 * values must not contain CR or LF (SK_EINVAL: header injection). */
struct sk_mail {
	const char *from_name; /* NULL or "" = address only */
	const char *from_addr;
	const char *to_name;
	const char *to_addr;
	const char *reply_to;	/* an address, or NULL */
	const char *subject;
	const char *message_id; /* without <>; NULL = a new one */
	time_t date;		/* 0 = now */
	const char *in_reply_to; /* without <>, or NULL */
	const char *const *references; /* oldest first, without <> */
	size_t n_references;
	/* The body. text is the text/plain part; markdown, when set, is
	 * rendered with cmark (safe mode: raw HTML and javascript: links are
	 * dropped) into a text/html alternative, and is also the text/plain
	 * part when text is NULL. */
	const char *text;
	const char *markdown;
	const char *html_title;	/* <title> of the HTML part; NULL = subject */
	const struct sk_attachment *attachments; /* filename, content_type,
						    data, size are used */
	size_t n_attachments;
	/* Digests: an https URL for List-Unsubscribe with
	 * List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058). */
	const char *list_unsubscribe_url;
	bool auto_generated; /* Auto-Submitted: auto-generated, Precedence:
				bulk (RFC 3834): digests, login links */
};

/* Compose m into RFC 5322/MIME text with CRLF line endings, allocated
 * from a: headers (From, To, Subject, Date, Message-ID, ... RFC 2047
 * encoded where needed, folded at 78 columns), text/plain in UTF-8
 * quoted-printable, the text/html alternative, attachments in base64 with
 * RFC 2231 file names. *message_id_out (may be NULL) gets the Message-ID
 * used, without <>. SK_EINVAL: a missing or malformed field. */
enum sk_status sk_mail_compose(struct sk_arena *a, const struct sk_mail *m,
			       char **raw_out, size_t *len_out,
			       const char **message_id_out,
			       struct sk_err *err);

/* A new Message-ID (without <>) under domain: unique, not guessable. */
char *sk_mail_message_id_new(struct sk_arena *a, const char *domain);

/* RFC 2047: s (UTF-8) as a header value starting at column col (the
 * length of "Subject: " for a subject). Plain ASCII stays as it is (folded
 * at spaces); anything else becomes B-encoded words of at most 75
 * characters, split on UTF-8 character boundaries, on lines of at most 76
 * characters joined by CRLF SP. phrase: s is a display name (ASCII with
 * specials is quoted). */
char *sk_mail_encode_header(struct sk_arena *a, const char *s, size_t col,
			    bool phrase);

/* RFC 2231: the Content-Disposition parameters for a file name, e.g.
 * "filename*=utf-8''%C5%BC..." or "filename=\"a.pdf\"", continued over
 * several lines (filename*0*=...; filename*1*=...) when long. The result
 * starts after "; " and may contain CRLF SP folds. Path separators and
 * control characters are dropped from name first. */
char *sk_mail_filename_param(struct sk_arena *a, const char *name);

/* Quoted-printable text/plain body: LF or CRLF line ends become CRLF,
 * lines are at most 76 characters, "=" and 8-bit bytes are encoded, as are
 * trailing white space, a leading "." and a leading "From ". */
char *sk_mail_qp(struct sk_arena *a, const char *s, size_t n, size_t *len_out);

/* The note composer sk_index_note_post() calls (an sk_note_compose_fn):
 * ctx is a const struct sk_mail_settings *. From: "Author (Skarbnica)"
 * <settings.from>, To: the list, Subject "Notatka ze spotkania QUARTER:
 * TITLE", the note as Markdown text with its HTML rendering, the
 * attachments; the archive copy has the same Message-ID and From address
 * as the copy the list sends back, so ingest sees it as the same message.
 * SK_EINVAL: no from or list address configured. */
enum sk_status sk_mail_note_compose(void *ctx, struct sk_arena *a,
				    const struct sk_note_mail *nm,
				    struct sk_composed *out,
				    struct sk_err *err);

/* ---- SMTP submission ------------------------------------------------------- */

struct sk_smtp_settings {
	const char *host;
	uint16_t port;		/* 0 = 587 (465 with SK_TLS_IMPLICIT) */
	enum sk_tls_mode tls;	/* DEFAULT = STARTTLS (required) */
	bool allow_plaintext;	/* tls = none off loopback needs this */
	const char *user;	/* NULL = no AUTH */
	const char *password;	/* with user; sk_smtp_settings_from_config
				   reads smtp.password_file */
	const char *ca_file;	/* NULL = the system CA store */
	const char *pin_sha256; /* leaf certificate pin, or NULL */
	unsigned timeout_seconds; /* connect and each reply; 0 = 60 */
};

/* Fill s from c; reads smtp.password_file (a mode-0600 file) into
 * *password_out, which the caller free()s (NULL when no file is set).
 * SK_EINVAL: no smtp.host, or the password file is unreadable or
 * readable by others. */
enum sk_status sk_smtp_settings_from_config(struct sk_smtp_settings *s,
					    const struct sk_config *c,
					    char **password_out,
					    struct sk_err *err);

struct sk_smtp;

/* Connect, read the greeting, EHLO; then STARTTLS (or implicit TLS),
 * verify the server's certificate chain and host name (sk_tls_verify)
 * BEFORE anything else is sent, EHLO again, and AUTH PLAIN or LOGIN
 * (SASL) when a user is set. tls = none is refused unless the host is a
 * loopback address or allow_plaintext is set. SIGPIPE is ignored
 * process-wide from the first call (a dead server must not kill us).
 * SK_EAGAIN: the server cannot be reached, times out or answers 4xx
 * (err has its reply). SK_ESMTP: refused for good — 5xx, STARTTLS not
 * offered, a certificate that does not verify, AUTH rejected (err says
 * which). SK_EINVAL: settings are wrong. */
enum sk_status sk_smtp_open(const struct sk_smtp_settings *s,
			    struct sk_smtp **smtp_out, struct sk_err *err);
/* QUIT (best effort) and free. Sets *smtp = NULL. */
void sk_smtp_close(struct sk_smtp **smtp);
/* False once the session broke (a network error or a timeout): close it
 * and open a new one. */
bool sk_smtp_usable(const struct sk_smtp *smtp);
/* True when the session is encrypted (STARTTLS or implicit TLS). */
bool sk_smtp_tls(const struct sk_smtp *smtp);

/* Called after the whole message has been written and flushed, right
 * before the final "." of DATA: a non-SK_OK return aborts the transaction
 * without sending the dot (the server then discards the message). */
typedef enum sk_status sk_smtp_predot_fn(void *ctx, struct sk_err *err);

struct sk_smtp_result {
	int code;	  /* the last reply code, 0 when none came */
	char reply[256];  /* that reply, "250 2.0.0 Ok: queued as X" */
	bool after_dot;	  /* the final dot was (or may have been) sent */
};

/* Send raw (CRLF, as from sk_mail_compose) from sender to recipients
 * (comma-separated addresses): MAIL FROM, RCPT TO for each, DATA, the
 * dot-stuffed message, predot (may be NULL), the final dot.
 * SK_OK: 250 to the final dot; res->reply has the server's answer.
 * SK_EAGAIN: temporary and certain not to have been accepted — 4xx,
 *   or the connection failed before the dot — send again later.
 * SK_ESMTP: 5xx to any command: permanent; res and err have the reply.
 * SK_EIO with res->after_dot: the dot was written but no reply came — the
 *   server may have the message (do NOT resend automatically).
 * Any status from predot is returned as is (the dot was not sent).
 * After SK_EAGAIN or SK_EIO the session may be unusable
 * (sk_smtp_usable). */
enum sk_status sk_smtp_send(struct sk_smtp *smtp, const char *sender,
			    const char *recipients, const char *raw,
			    size_t len, sk_smtp_predot_fn *predot, void *ctx,
			    struct sk_smtp_result *res, struct sk_err *err);

/* ---- the outbox loop --------------------------------------------------------- */

/* Points in one send, for fault-injection tests (struct
 * sk_mailer_opts.test_hook): the hook may _exit() to simulate a kill. */
enum sk_mailer_step {
	SK_MAILER_CLAIMED,   /* the row is 'sending', nothing sent yet */
	SK_MAILER_PREDOT,    /* dot_at committed, the dot not yet written */
	SK_MAILER_REPLIED,   /* the server said 250, 'sent' not recorded */
};

struct sk_mailer_opts {
	struct sk_smtp_settings smtp;
	bool once;		    /* drain what is due, then return */
	unsigned retry_base_seconds; /* first retry after a 4xx; 0 = 60; then
					doubling */
	unsigned retry_max_seconds;  /* cap on the delay; 0 = 4 hours */
	unsigned give_up_seconds;    /* a message still failing temporarily
					this long after it was queued fails
					for good; 0 = 3 days */
	unsigned poll_seconds;	     /* service: look for new rows this
					often; 0 = 15 */
	volatile int *stop;	     /* service: returns soon after *stop
					becomes non-zero (a signal handler
					sets it) */
	time_t (*clock)(void);	     /* NULL = time() (tests) */
	void (*test_hook)(enum sk_mailer_step step, int64_t outbox_id,
			  void *ctx);
	void *test_ctx;
};

struct sk_mailer_counts {
	int64_t sent, retried, failed, uncertain, recovered;
};

/* Drain the outbox of data_dir. Takes DATA/mailer.lock (SK_EAGAIN when
 * another mailer holds it), opens the store (without Xapian), recovers
 * rows left in 'sending' (see the rule at the top of this file), then
 * sends every row whose next_attempt_at <= now over one SMTP session,
 * reconnecting as needed. With once, returns when nothing is due any more
 * (rows waiting for a later retry stay queued); otherwise runs until
 * *stop. counts (may be NULL) gets what happened.
 * SK_EAGAIN (once): the server could not be reached; the due rows record
 * the error in last_error and stay queued. SK_ESMTP: the session was
 * refused for good (TLS verification, AUTH): fix the configuration. */
enum sk_status sk_mailer_run_opts(const char *data_dir,
				  const struct sk_mailer_opts *o,
				  struct sk_mailer_counts *counts,
				  struct sk_err *err);

/* sk_mailer_run_opts with the [smtp] settings of cfg. */
enum sk_status sk_mailer_run(const char *data_dir, const struct sk_config *cfg,
			     bool once, volatile int *stop,
			     struct sk_mailer_counts *counts,
			     struct sk_err *err);

/* ---- digests ------------------------------------------------------------------ */

struct sk_digest_counts {
	int64_t users;	 /* users with subscriptions for the period */
	int64_t queued;	 /* digests queued by this run */
	int64_t already; /* queued before (the run was repeated) */
	int64_t empty;	 /* nothing new in their topics: none sent */
};

/* The period [*from_out, *to_out) a digest run at now covers, in Polish
 * civil time (Europe/Warsaw, sk_warsaw_tm): the previous calendar day,
 * 00:00 to 24:00 (23 or 25 hours on the days summer time starts or ends),
 * or the previous week, Monday 00:00 to the next Monday 00:00 (weekly). */
void sk_digest_window(enum sk_period p, time_t now, time_t *from_out,
		      time_t *to_out);
/* The Warsaw date "YYYY-MM-DD" on which that period starts: the period's
 * part of the dedup key, and what `serve` compares to know that a new
 * period is due. */
void sk_digest_period_key(enum sk_period p, time_t now, char out[11]);

/* Queue one digest per user subscribed for period p, listing, for the
 * topics of that period and the window before now, the practice records
 * published in it (sk_index_digest_practices: title, municipality,
 * topics, a link to /praktyka/ID; no contact data) and the threads started
 * or active in it, with links under ms->base_url and a one-click
 * unsubscribe link. A user with neither gets no digest (counts->empty).
 * Each digest is queued in its own transaction with the dedup key
 * "digest:USER_ID:PERIOD:YYYY-MM-DD" (sk_digest_period_key), so a repeated
 * or interrupted run never queues two for one user and period. ix must be
 * writable. SK_EINVAL: no from or base_url configured. */
enum sk_status sk_digest_run(struct sk_index *ix,
			     const struct sk_mail_settings *ms,
			     enum sk_period p, time_t now,
			     struct sk_digest_counts *counts,
			     struct sk_err *err);

/* ---- login links ---------------------------------------------------------------- */

/* The login-link composer web/ calls (an sk_login_compose_fn, see
 * index/sk_index.h "one-time login links"): ctx is a const struct
 * sk_mail_settings *. From: settings.from, To: the user, Subject "Link do
 * logowania w Skarbnicy", a plain Polish text/plain body with lm->url and
 * how long it is good for, Auto-Submitted: auto-generated. out->archive is
 * left empty (login mail is never archived). SK_EINVAL: no from
 * configured, or no address or link. */
enum sk_status sk_mail_login_compose(void *ctx, struct sk_arena *a,
				     const struct sk_login_mail *lm,
				     struct sk_composed *out,
				     struct sk_err *err);

SK_END_DECLS
#endif
