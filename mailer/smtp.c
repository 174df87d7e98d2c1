/* mailer/smtp.c: SMTP submission with libetpan — connect, EHLO, STARTTLS
 * (required unless the configuration says otherwise), the server's
 * certificate checked with sk_tls_verify() before anything else is sent,
 * EHLO again, AUTH through SASL, then transactions. DATA is written here
 * rather than by mailsmtp_data_message() so that the caller can record the
 * moment before the final dot (the exactly-once rule of sk_mailer.h).
 * No message is composed here and no password is ever logged. */
#include "mailer/sk_mailer.h"

#include <arpa/inet.h>
#include <libetpan/libetpan.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT 60

/* Replace the status of the error already in err, prefixing its message. */
static enum sk_status
rewrap(struct sk_err *err, enum sk_status code, const char *prefix)
{
	if (err) {
		sk_err_wrap(err, "%s", prefix);
		err->code = code;
	}
	return code;
}

struct sk_smtp {
	mailsmtp *s;
	char *host;
	bool tls;
	bool broken;
};

enum sk_status
sk_smtp_settings_from_config(struct sk_smtp_settings *s,
			     const struct sk_config *c, char **password_out,
			     struct sk_err *err)
{
	enum sk_status rc;

	memset(s, 0, sizeof(*s));
	*password_out = NULL;
	if (!c->smtp.host || !*c->smtp.host)
		return sk_err_set(err, SK_EINVAL, "smtp.host is not configured");
	s->host = c->smtp.host;
	s->port = (uint16_t)c->smtp.port;
	s->tls = c->smtp.tls;
	s->allow_plaintext = c->smtp.allow_plaintext;
	s->user = c->smtp.user;
	s->ca_file = c->smtp.ca_file;
	s->pin_sha256 = c->smtp.pin_sha256;
	if (c->smtp.password_file) {
		rc = sk_read_secret_file(c->smtp.password_file, password_out,
					 err);
		if (rc)
			return rewrap(err, SK_EINVAL, "smtp.password_file");
		s->password = *password_out;
	}
	return SK_OK;
}

/* ---- replies ----------------------------------------------------------- */

/* "CODE text" of the last reply, on one line. */
static void
reply_text(const mailsmtp *s, char *out, size_t n)
{
	size_t k;
	snprintf(out, n, "%d %s", s->response_code,
		 s->response ? s->response : "");
	for (char *p = out; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	k = strlen(out);
	while (k && out[k - 1] == ' ')
		out[--k] = '\0';
}

/* The status for a failed command: 5xx permanent, 4xx (or no reply: the
 * network) temporary. */
static enum sk_status
reply_status(struct sk_smtp *c, const char *what, int r,
	     struct sk_smtp_result *res, struct sk_err *err)
{
	int code = c->s->response_code;
	char text[200];

	if (res) {
		res->code = code;
		reply_text(c->s, res->reply, sizeof(res->reply));
	}
	if (r == MAILSMTP_ERROR_STREAM || code == 0 || !c->s->stream) {
		c->broken = true;
		return sk_err_set(err, SK_EAGAIN,
				  "%s: connection to '%s' failed (%s)", what,
				  c->host, mailsmtp_strerror(r));
	}
	reply_text(c->s, text, sizeof(text));
	if (code >= 500 && code < 600)
		return sk_err_set(err, SK_ESMTP, "%s refused by '%s': %s", what,
				  c->host, text);
	if (code == 421)
		c->broken = true; /* the server closes the session */
	return sk_err_set(err, SK_EAGAIN, "%s: '%s' answered %s", what, c->host,
			  text);
}

/* ---- connecting ---------------------------------------------------------- */

static bool
is_ip_literal(const char *h)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* SNI for a name (never for an address literal, RFC 6066). */
static void
tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
	char *host = data; /* libetpan copies it */
	if (!is_ip_literal(host))
		mailstream_ssl_set_server_name(ctx, host);
}

static enum sk_status
verify_peer(struct sk_smtp *c, const struct sk_smtp_settings *set,
	    struct sk_err *err)
{
	carray *chain = mailstream_get_certificate_chain(c->s->stream);
	struct sk_str *der;
	size_t n;
	enum sk_status rc;

	if (!chain)
		return sk_err_set(err, SK_ESMTP,
				  "'%s' sent no TLS certificate", c->host);
	n = carray_count(chain);
	der = sk_xcalloc(n ? n : 1, sizeof(*der));
	for (size_t i = 0; i < n; i++) {
		MMAPString *m = carray_get(chain, (unsigned)i);
		der[i].p = m->str;
		der[i].n = m->len;
	}
	rc = sk_tls_verify(der, n, c->host, set->ca_file, set->pin_sha256, err);
	free(der);
	mailstream_certificate_chain_free(chain);
	if (rc == SK_EIO)
		return rewrap(err, SK_ESMTP, "certificate of the SMTP server "
					     "refused");
	if (rc)
		return rewrap(err, SK_EINVAL, "smtp TLS settings");
	return SK_OK;
}

static enum sk_status
ehlo(struct sk_smtp *c, bool plain_ok, struct sk_err *err)
{
	int r = mailesmtp_ehlo(c->s);
	if (r == MAILSMTP_NO_ERROR)
		return SK_OK;
	/* A server without ESMTP gets HELO, but only where nothing (TLS,
	 * AUTH) depends on extensions. */
	if (plain_ok && c->s->response_code >= 500 && c->s->stream) {
		r = mailsmtp_helo(c->s);
		if (r == MAILSMTP_NO_ERROR)
			return SK_OK;
	}
	return reply_status(c, "EHLO", r, NULL, err);
}

static void
ignore_sigpipe(void)
{
	struct sigaction old, sa;
	/* A server that hangs up must give EPIPE, not kill the process. Only
	 * the default disposition is replaced. */
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL);
	}
}

static enum sk_status
open_session(struct sk_smtp *c, const struct sk_smtp_settings *set,
	     struct sk_err *err)
{
	enum sk_tls_mode mode = set->tls ? set->tls : SK_TLS_STARTTLS;
	uint16_t port = set->port ? set->port
				  : (mode == SK_TLS_IMPLICIT ? 465 : 587);
	enum sk_status rc;
	int r;

	mailsmtp_set_timeout(c->s, set->timeout_seconds ? set->timeout_seconds
							: DEFAULT_TIMEOUT);
	if (mode == SK_TLS_IMPLICIT)
		r = mailsmtp_ssl_connect_with_callback(c->s, c->host, port,
						       tls_setup, c->host);
	else
		r = mailsmtp_socket_connect(c->s, c->host, port);
	if (r != MAILSMTP_NO_ERROR) {
		int code = c->s->response_code;
		c->broken = true;
		if (code >= 500 && code < 600)
			return sk_err_set(err, SK_ESMTP,
					  "'%s' port %u refuses us: %d %s",
					  c->host, (unsigned)port, code,
					  c->s->response ? c->s->response : "");
		return sk_err_set(err, SK_EAGAIN,
				  "cannot connect to '%s' port %u: %s%s%s",
				  c->host, (unsigned)port, mailsmtp_strerror(r),
				  code ? ", greeting " : "",
				  code && c->s->response ? c->s->response
							 : "");
	}
	{
		/* Commands and the final dot are small writes that wait for
		 * a reply: without this, Nagle and delayed ACKs cost 40 ms
		 * a message. */
		int one = 1,
		    fd = mailstream_low_get_fd(mailstream_get_low(c->s->stream));
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
	}
	if (mode == SK_TLS_IMPLICIT) {
		c->tls = true;
		if ((rc = verify_peer(c, set, err)))
			return rc;
	}
	if ((rc = ehlo(c, mode == SK_TLS_NONE, err)))
		return rc;

	if (mode == SK_TLS_STARTTLS) {
		if (!(c->s->esmtp & MAILSMTP_ESMTP_STARTTLS))
			return sk_err_set(err, SK_ESMTP,
					  "'%s' does not offer STARTTLS (set "
					  "smtp.tls = none only for a local "
					  "server)",
					  c->host);
		r = mailsmtp_socket_starttls_with_callback(c->s, tls_setup,
							   c->host);
		if (r != MAILSMTP_NO_ERROR) {
			if (r == MAILSMTP_ERROR_SSL || r == MAILSMTP_ERROR_STREAM) {
				c->broken = true;
				return sk_err_set(err, SK_EAGAIN,
						  "STARTTLS with '%s' failed: %s",
						  c->host, mailsmtp_strerror(r));
			}
			return reply_status(c, "STARTTLS", r, NULL, err);
		}
		c->tls = true;
		/* Before anything else crosses the new channel. */
		if ((rc = verify_peer(c, set, err)))
			return rc;
		/* RFC 3207: forget what was learnt before TLS. */
		if ((rc = ehlo(c, false, err)))
			return rc;
	}

	if (set->user && *set->user) {
		const char *mech;
		if (c->s->auth & MAILSMTP_AUTH_PLAIN)
			mech = "PLAIN";
		else if (c->s->auth & MAILSMTP_AUTH_LOGIN)
			mech = "LOGIN";
		else
			return sk_err_set(err, SK_ESMTP,
					  "'%s' offers neither AUTH PLAIN nor "
					  "LOGIN%s",
					  c->host,
					  c->tls ? "" : " (not before TLS?)");
		r = mailesmtp_auth_sasl(c->s, mech, c->host, NULL, NULL,
					set->user, set->user,
					set->password ? set->password : "", NULL);
		if (r != MAILSMTP_NO_ERROR) {
			if (c->s->response_code == 0 && c->s->stream &&
			    r != MAILSMTP_ERROR_STREAM)
				return sk_err_set(err, SK_ESMTP,
						  "AUTH %s with '%s' failed "
						  "locally: %s (is "
						  "libsasl2-modules installed?)",
						  mech, c->host,
						  mailsmtp_strerror(r));
			rc = reply_status(c, "AUTH", r, NULL, err);
			return rc;
		}
	}
	return SK_OK;
}

enum sk_status
sk_smtp_open(const struct sk_smtp_settings *set, struct sk_smtp **out,
	     struct sk_err *err)
{
	struct sk_smtp *c;
	enum sk_status rc;

	*out = NULL;
	if (!set->host || !*set->host)
		return sk_err_set(err, SK_EINVAL, "smtp.host is not configured");
	if (set->tls == SK_TLS_NONE && !set->allow_plaintext &&
	    !sk_host_is_loopback(set->host))
		return sk_err_set(err, SK_EINVAL,
				  "smtp.tls = none is refused for '%s': only a "
				  "loopback server may be used without TLS "
				  "(or set smtp.allow_plaintext = true)",
				  set->host);
	if (set->user && *set->user && !set->password)
		return sk_err_set(err, SK_EINVAL,
				  "smtp.user is set but smtp.password_file "
				  "is not");
	ignore_sigpipe();
	c = sk_xcalloc(1, sizeof(*c));
	c->host = sk_xstrdup(set->host);
	c->s = mailsmtp_new(0, NULL);
	if (!c->s)
		SK_BUG("mailsmtp_new: out of memory");
	rc = open_session(c, set, err);
	if (rc) {
		sk_smtp_close(&c);
		return rc;
	}
	*out = c;
	return SK_OK;
}

/* Drop the connection without a word (QUIT inside DATA would be taken as
 * message text; closing without the dot makes the server discard it). */
static void
hang_up(struct sk_smtp *c)
{
	if (c->s->stream) {
		mailstream_close(c->s->stream);
		c->s->stream = NULL;
	}
	c->broken = true;
}

void
sk_smtp_close(struct sk_smtp **cp)
{
	struct sk_smtp *c = *cp;
	if (!c)
		return;
	if (c->s) {
		if (c->broken)
			hang_up(c);
		mailsmtp_free(c->s); /* sends QUIT on a live session */
	}
	free(c->host);
	free(c);
	*cp = NULL;
}

bool
sk_smtp_usable(const struct sk_smtp *c)
{
	return c && !c->broken && c->s && c->s->stream;
}

bool
sk_smtp_tls(const struct sk_smtp *c)
{
	return c && c->tls;
}

/* ---- one transaction ------------------------------------------------------- */

/* An envelope address: what libetpan puts between < and > verbatim. */
static bool
envelope_ok(const char *a, size_t n)
{
	if (n == 0 || n > 254)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a[i] <= ' ' || (unsigned char)a[i] >= 0x7f ||
		    a[i] == '<' || a[i] == '>')
			return false;
	return memchr(a, '@', n) != NULL;
}

/* Write raw dot-stuffed, CRLF line ends, without its final line break
 * (the end-of-data "\r\n.\r\n" supplies it), and flush. */
static bool
write_body(mailstream *st, const char *raw, size_t len)
{
	const char *p = raw, *end = raw + len;

	if (end > p && end[-1] == '\n')
		end--;
	if (end > p && end[-1] == '\r')
		end--;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (*p == '.' && mailstream_write(st, ".", 1) < 0)
			return false;
		if (n && mailstream_write(st, p, n) < 0)
			return false;
		if (nl && mailstream_write(st, "\r\n", 2) < 0)
			return false;
		p = nl ? nl + 1 : end;
	}
	return mailstream_flush(st) == 0;
}

/* Did the server say anything, or hang up, while we wrote DATA? Then it
 * has given up on this transaction and must not get the dot. */
static bool
server_spoke(mailstream *st)
{
	struct pollfd pfd = { .events = POLLIN | POLLRDHUP };
	if (st->read_buffer_len > 0)
		return true;
	pfd.fd = mailstream_low_get_fd(mailstream_get_low(st));
	if (pfd.fd < 0)
		return true;
	return poll(&pfd, 1, 0) != 0;
}

static void
rset(struct sk_smtp *c)
{
	if (sk_smtp_usable(c) && mailsmtp_reset(c->s) != MAILSMTP_NO_ERROR)
		c->broken = true;
}

enum sk_status
sk_smtp_send(struct sk_smtp *c, const char *sender, const char *recipients,
	     const char *raw, size_t len, sk_smtp_predot_fn *predot, void *ctx,
	     struct sk_smtp_result *res, struct sk_err *err)
{
	struct sk_smtp_result local;
	enum sk_status rc;
	char addr[256];
	size_t nrcpt = 0;
	int r;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (!sk_smtp_usable(c))
		return sk_err_set(err, SK_EAGAIN, "the SMTP session is closed");
	if (!sender || !envelope_ok(sender, strlen(sender)))
		return sk_err_set(err, SK_EINVAL, "bad envelope sender '%s'",
				  sender ? sender : "");

	/* MAIL FROM, with SIZE when the server announced it. */
	if (c->s->esmtp)
		r = mailesmtp_mail_size(c->s, sender, 0, NULL, len);
	else
		r = mailsmtp_mail(c->s, sender);
	if (r != MAILSMTP_NO_ERROR) {
		rc = reply_status(c, "MAIL FROM", r, res, err);
		rset(c);
		return rc;
	}

	/* RCPT TO for each. One refusal fails the whole message: nobody gets
	 * a copy now, so a later retry cannot give anybody a second one. */
	for (const char *p = recipients ? recipients : ""; *p;) {
		const char *e = strchr(p, ',');
		struct sk_str a;
		if (!e)
			e = p + strlen(p);
		a = sk_str_trim(p, (size_t)(e - p));
		p = *e ? e + 1 : e;
		if (!a.n)
			continue;
		if (!envelope_ok(a.p, a.n) || a.n >= sizeof(addr)) {
			rset(c);
			return sk_err_set(err, SK_EINVAL,
					  "bad envelope recipient '%.*s'",
					  (int)a.n, a.p);
		}
		memcpy(addr, a.p, a.n);
		addr[a.n] = '\0';
		if (c->s->esmtp)
			r = mailesmtp_rcpt(c->s, addr, 0, NULL);
		else
			r = mailsmtp_rcpt(c->s, addr);
		if (r != MAILSMTP_NO_ERROR) {
			rc = reply_status(c, "RCPT TO", r, res, err);
			rset(c);
			return rc;
		}
		nrcpt++;
	}
	if (!nrcpt) {
		rset(c);
		return sk_err_set(err, SK_EINVAL, "no envelope recipient");
	}

	r = mailsmtp_data(c->s);
	if (r != MAILSMTP_NO_ERROR) {
		rc = reply_status(c, "DATA", r, res, err);
		rset(c);
		return rc;
	}
	if (!write_body(c->s->stream, raw, len)) {
		hang_up(c);
		return sk_err_set(err, SK_EAGAIN,
				  "connection to '%s' lost while sending the "
				  "message",
				  c->host);
	}
	if (server_spoke(c->s->stream)) {
		hang_up(c);
		return sk_err_set(err, SK_EAGAIN,
				  "'%s' hung up or answered in the middle of "
				  "the message",
				  c->host);
	}
	if (predot && (rc = predot(ctx, err))) {
		hang_up(c);
		return rc;
	}

	/* The point of no return: from here the server may have it. */
	res->after_dot = true;
	r = mailsmtp_data_message(c->s, "", 0);
	res->code = c->s->response_code;
	reply_text(c->s, res->reply, sizeof(res->reply));
	if (r == MAILSMTP_NO_ERROR)
		return SK_OK;
	if (c->s->response_code == 0 || r == MAILSMTP_ERROR_STREAM) {
		hang_up(c);
		return sk_err_set(err, SK_EIO,
				  "no answer from '%s' after the message was "
				  "sent: it may have been accepted",
				  c->host);
	}
	return reply_status(c, "the message", r, res, err);
}
