/* mailer/compose.c: MIME for Polish mail, written by hand — RFC 2047
 * B-encoded headers, UTF-8 quoted-printable text, a text/html alternative
 * from Markdown (cmark, safe mode), base64 attachments with RFC 2231 file
 * names, our own Message-ID; CRLF throughout. libetpan's MIME writer is not
 * used: it has no RFC 2047 or 2231 encoder and would need both patched in.
 * Nothing here touches the network or the store. */
#include "mailer/sk_mailer.h"

#include <cmark.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define MAX_MESSAGE_BYTES ((size_t)256 << 20)
#define LINE_MAX_COLS 78

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
sk_mail_settings_from_config(struct sk_mail_settings *s,
			     const struct sk_config *c)
{
	memset(s, 0, sizeof(*s));
	s->from = c->smtp.from;
	s->list_address = c->list.address;
	s->list_id = c->list.id;
	s->base_url = c->web.base_url;
}

/* ---- small helpers --------------------------------------------------------- */

static void
b64_add(struct sk_buf *b, const unsigned char *p, size_t n)
{
	char q[4];
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = b64chars[(v >> 18) & 63];
		q[1] = b64chars[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64chars[v & 63] : '=';
		sk_buf_add(b, q, 4);
	}
}

static void
random_hex(char *out, size_t bytes)
{
	unsigned char r[32];
	size_t got = 0;
	static const char hex[] = "0123456789abcdef";

	if (bytes > sizeof(r))
		SK_BUG("random_hex: %zu bytes", bytes);
	while (got < bytes) {
		ssize_t k = getrandom(r + got, bytes - got, 0);
		if (k < 0)
			SK_BUG("getrandom failed");
		got += (size_t)k;
	}
	for (size_t i = 0; i < bytes; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * bytes] = '\0';
}

static bool
has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

/* A bare address as we put it into headers and the envelope. */
static bool
valid_addr(const char *s)
{
	const char *at;
	if (!s || !*s || strlen(s) > 254)
		return false;
	at = strchr(s, '@');
	if (!at || at == s || !at[1] || strchr(at + 1, '@'))
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("<>()[],;:\"\\", *p))
			return false;
	return true;
}

static bool
needs_encoding(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0x7f || (*p < ' ' && *p != '\t'))
			return true;
	return strstr(s, "=?") != NULL;
}

/* Length of the last line of a folded header value. */
static size_t
last_line_len(const char *s)
{
	const char *nl = strrchr(s, '\n');
	return strlen(nl ? nl + 1 : s);
}

/* ---- RFC 2047 ---------------------------------------------------------------- */

char *
sk_mail_encode_header(struct sk_arena *a, const char *s, size_t col,
		      bool phrase)
{
	struct sk_buf b;
	char *out;
	size_t n;

	sk_buf_init(&b, 1 << 20);
	if (!s)
		s = "";
	if (!needs_encoding(s)) {
		bool specials = false;
		for (const char *p = s; *p; p++)
			specials = specials || strchr("()<>[]:;@\\,.\"", *p);
		if (phrase && specials) {
			/* A quoted-string; never folded inside. */
			sk_buf_addc(&b, '"');
			for (const char *p = s; *p; p++) {
				if (*p == '"' || *p == '\\')
					sk_buf_addc(&b, '\\');
				sk_buf_addc(&b, *p);
			}
			sk_buf_addc(&b, '"');
		} else {
			/* Fold before a space when the next word would pass
			 * the limit. */
			const char *p = s;
			while (*p) {
				size_t w = strcspn(p + 1, " ") + 1;
				if (*p == ' ' && col + w > LINE_MAX_COLS &&
				    col > 1) {
					sk_buf_adds(&b, "\r\n");
					col = 0;
				}
				sk_buf_add(&b, p, w);
				col += w;
				p += w;
			}
		}
		goto done;
	}

	/* Encoded words of at most 75 characters on lines of at most 76:
	 * "=?UTF-8?B?" + base64 + "?=" is 12 characters of overhead, and
	 * each 3 bytes of text take 4 of base64. Words end on UTF-8
	 * character boundaries so each decodes on its own. Control
	 * characters (a pasted tab or newline) become spaces. */
	{
		char *t = sk_arena_strdup(a, s);
		bool first = true;
		for (char *p = t; *p; p++)
			if ((unsigned char)*p < ' ')
				*p = ' ';
		t = sk_utf8_sanitize(a, t, strlen(t), &n);
		for (size_t i = 0; i < n;) {
			size_t room = (first ? 76 - (col < 76 ? col : 76) : 75);
			size_t word = room < 75 ? room : 75;
			size_t maxbytes = word > 12 ? (word - 12) / 4 * 3 : 0;
			size_t take = sk_utf8_clip(t + i, n - i, maxbytes);
			if (take == 0) {
				if (!first)
					SK_BUG("rfc2047: no room on a line");
				/* No room after the header name: start on
				 * the next line. */
				sk_buf_adds(&b, "\r\n");
				first = false;
				continue;
			}
			if (!first)
				sk_buf_adds(&b, "\r\n ");
			sk_buf_adds(&b, "=?UTF-8?B?");
			b64_add(&b, (const unsigned char *)t + i, take);
			sk_buf_adds(&b, "?=");
			i += take;
			first = false;
		}
	}
done:
	out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return out;
}

/* ---- RFC 2231 ---------------------------------------------------------------- */

static bool
attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c);
}

/* The file name as we are willing to announce it: no directories, no
 * control characters, not empty. */
static char *
clean_filename(struct sk_arena *a, const char *name)
{
	const char *base = name ? name : "";
	char *t, *o;
	size_t n;

	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	t = sk_utf8_sanitize(a, base, strlen(base), &n);
	o = t;
	for (char *p = t; *p; p++)
		if ((unsigned char)*p >= ' ' && *p != 0x7f && *p != '"')
			*o++ = *p;
	*o = '\0';
	while (*t == ' ' || *t == '.')
		t++; /* no hidden files, no leading blanks */
	return *t ? t : sk_arena_strdup(a, "zalacznik");
}

char *
sk_mail_filename_param(struct sk_arena *a, const char *name)
{
	char *f = clean_filename(a, name);
	size_t n = strlen(f);
	bool plain = n <= 60;
	struct sk_buf b, seg;
	char *out;
	int part = 0;

	for (const char *p = f; *p && plain; p++)
		plain = (unsigned char)*p >= ' ' && (unsigned char)*p < 0x7f;
	sk_buf_init(&b, 1 << 16);
	if (plain) {
		sk_buf_adds(&b, "filename=\"");
		for (const char *p = f; *p; p++) {
			if (*p == '"' || *p == '\\')
				sk_buf_addc(&b, '\\');
			sk_buf_addc(&b, *p);
		}
		sk_buf_addc(&b, '"');
		goto done;
	}

	/* Percent-encode whole characters into segments of at most 60
	 * characters: a single filename*= when it fits, else filename*0*=,
	 * filename*1*=, ... (each segment ends on a character boundary, for
	 * decoders that convert segments one by one). */
	sk_buf_init(&seg, 1 << 16);
	sk_buf_adds(&seg, "utf-8''");
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = sk_utf8_next(f + i, n - i, &cp), enc = 0;
		for (size_t j = 0; j < k; j++)
			enc += attr_char((unsigned char)f[i + j]) ? 1 : 3;
		if (seg.len + enc > 60) {
			sk_buf_addf(&b, "filename*%d*=%s;\r\n ", part,
				    seg.p);
			part++;
			sk_buf_reset(&seg);
		}
		for (size_t j = 0; j < k; j++) {
			unsigned char c = (unsigned char)f[i + j];
			if (attr_char(c))
				sk_buf_addc(&seg, (char)c);
			else
				sk_buf_addf(&seg, "%%%02X", c);
		}
		i += k;
	}
	if (part == 0)
		sk_buf_addf(&b, "filename*=%s", seg.p);
	else
		sk_buf_addf(&b, "filename*%d*=%s", part, seg.p);
	sk_buf_release(&seg);
done:
	out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return out;
}

/* ---- quoted-printable ---------------------------------------------------------- */

char *
sk_mail_qp(struct sk_arena *a, const char *s, size_t n, size_t *len_out)
{
	struct sk_buf b;
	char *out;
	size_t i = 0;

	sk_buf_init(&b, MAX_MESSAGE_BYTES);
	while (i < n) {
		size_t end = i, col = 0;
		while (end < n && s[end] != '\n')
			end++;
		size_t lend = end;
		if (lend > i && s[lend - 1] == '\r')
			lend--;
		for (size_t j = i; j < lend;) {
			char enc[16];
			size_t elen = 0;
			uint32_t cp;
			size_t k = sk_utf8_next(s + j, lend - j, &cp);
			bool at_start = col == 0;
			bool last = j + k == lend;

			/* One whole character at a time, so a soft break
			 * never splits it. */
			for (size_t m = 0; m < k; m++) {
				unsigned char c = (unsigned char)s[j + m];
				bool lit = (c >= 33 && c <= 126 && c != '=') ||
					   ((c == ' ' || c == '\t') && !last);
				if (at_start && m == 0 &&
				    (c == '.' ||
				     (c == 'F' && lend - j >= 5 &&
				      !memcmp(s + j, "From ", 5))))
					lit = false;
				if (lit) {
					enc[elen++] = (char)c;
				} else {
					snprintf(enc + elen, 4, "=%02X", c);
					elen += 3;
				}
			}
			/* 75 characters and "=" make 76. */
			if (col + elen > 75) {
				sk_buf_adds(&b, "=\r\n");
				col = 0;
				if (s[j] == '.' || (s[j] == 'F' &&
						    lend - j >= 5 &&
						    !memcmp(s + j, "From ", 5)))
					continue; /* re-encode at line start */
			}
			sk_buf_add(&b, enc, elen);
			col += elen;
			j += k;
		}
		sk_buf_adds(&b, "\r\n");
		i = end < n ? end + 1 : end;
	}
	*len_out = b.len;
	out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return out;
}

/* ---- Message-ID, Date ------------------------------------------------------------ */

char *
sk_mail_message_id_new(struct sk_arena *a, const char *domain)
{
	char rnd[33];
	random_hex(rnd, 16);
	return sk_ascii_lower(sk_arena_printf(
		a, "skarbnica.%llx.%s@%s", (unsigned long long)time(NULL), rnd,
		domain && *domain ? domain : "localhost"));
}

static void
add_date(struct sk_buf *b, time_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed",
					 "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
					    "May", "Jun", "Jul", "Aug",
					    "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	gmtime_r(&t, &tm);
	sk_buf_addf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
		    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- headers ------------------------------------------------------------------------ */

static void
add_addr_header(struct sk_buf *b, struct sk_arena *a, const char *field,
		const char *name, const char *addr)
{
	size_t col = strlen(field) + 2;
	sk_buf_addf(b, "%s: ", field);
	if (name && *name) {
		char *enc = sk_mail_encode_header(a, name, col, true);
		sk_buf_adds(b, enc);
		col = strchr(enc, '\n') ? last_line_len(enc) : col + strlen(enc);
		if (col + 3 + strlen(addr) > LINE_MAX_COLS)
			sk_buf_adds(b, "\r\n");
		sk_buf_addf(b, " <%s>\r\n", addr);
	} else {
		sk_buf_addf(b, "%s\r\n", addr);
	}
}

static bool
valid_msgid(const char *s)
{
	if (!s || !*s || strlen(s) > 250 || !strchr(s, '@'))
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '<' || *p == '>')
			return false;
	return true;
}

/* A MIME type we are willing to write: token "/" token. */
static const char *
clean_type(const char *t)
{
	const char *slash;
	if (!t || !*t || strlen(t) > 100)
		return "application/octet-stream";
	slash = strchr(t, '/');
	if (!slash || slash == t || !slash[1] || strchr(slash + 1, '/'))
		return "application/octet-stream";
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    strchr("()<>@,;:\\\"[]?=", *p))
			return "application/octet-stream";
	return t;
}

/* ---- the message ------------------------------------------------------------------- */

static enum sk_status
render_html(struct sk_arena *a, const char *md, const char *title,
	    char **out, struct sk_err *err)
{
	char *html = cmark_markdown_to_html(md, strlen(md), CMARK_OPT_DEFAULT);
	struct sk_buf b;

	if (!html)
		return sk_err_set(err, SK_EINVAL, "cannot render the markdown");
	sk_buf_init(&b, MAX_MESSAGE_BYTES);
	sk_buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"pl\">\n<head>\n"
			"<meta charset=\"utf-8\">\n<title>");
	sk_buf_add_htmls(&b, title);
	sk_buf_adds(&b, "</title>\n</head>\n<body>\n");
	sk_buf_adds(&b, html);
	sk_buf_adds(&b, "</body>\n</html>\n");
	free(html);
	*out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return SK_OK;
}

static void
add_text_part(struct sk_buf *b, struct sk_arena *a, const char *subtype,
	      const char *text)
{
	size_t qlen;
	char *qp = sk_mail_qp(a, text, strlen(text), &qlen);
	sk_buf_addf(b,
		    "Content-Type: text/%s; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		    subtype);
	sk_buf_add(b, qp, qlen);
}

static void
add_attachment(struct sk_buf *b, struct sk_arena *a,
	       const struct sk_attachment *at)
{
	char *fname = clean_filename(a, at->filename);
	const unsigned char *p = at->data;
	char *name = sk_mail_encode_header(a, fname, 32, false);

	/* name= (RFC 2047 inside quotes, as Thunderbird writes it) is for
	 * mail readers that ignore RFC 2231. */
	sk_buf_addf(b, "Content-Type: %s;\r\n name=\"%s\"\r\n",
		    clean_type(at->content_type), name);
	sk_buf_addf(b, "Content-Disposition: attachment;\r\n %s\r\n",
		    sk_mail_filename_param(a, fname));
	sk_buf_adds(b, "Content-Transfer-Encoding: base64\r\n\r\n");
	for (size_t i = 0; i < at->size; i += 57) {
		b64_add(b, p + i, at->size - i < 57 ? at->size - i : 57);
		sk_buf_adds(b, "\r\n");
	}
}

enum sk_status
sk_mail_compose(struct sk_arena *a, const struct sk_mail *m, char **raw_out,
		size_t *len_out, const char **message_id_out,
		struct sk_err *err)
{
	const char *text = m->text ? m->text : m->markdown;
	const char *mid = m->message_id;
	const char *domain;
	char *html = NULL, b1[40], b2[40], rnd[25];
	struct sk_buf b;
	enum sk_status rc;

	if (!valid_addr(m->from_addr))
		return sk_err_set(err, SK_EINVAL, "bad From address '%s'",
				  m->from_addr ? m->from_addr : "");
	if (!valid_addr(m->to_addr))
		return sk_err_set(err, SK_EINVAL, "bad To address '%s'",
				  m->to_addr ? m->to_addr : "");
	if (m->reply_to && !valid_addr(m->reply_to))
		return sk_err_set(err, SK_EINVAL, "bad Reply-To address '%s'",
				  m->reply_to);
	if (has_crlf(m->from_name) || has_crlf(m->to_name))
		return sk_err_set(err, SK_EINVAL,
				  "a display name contains a line break");
	if (!text)
		return sk_err_set(err, SK_EINVAL, "the message has no body");
	if (m->list_unsubscribe_url &&
	    (!sk_istarts_with(m->list_unsubscribe_url, "https://") ||
	     strpbrk(m->list_unsubscribe_url, "\r\n <>")))
		return sk_err_set(err, SK_EINVAL,
				  "the unsubscribe link must be an https URL");
	domain = strchr(m->from_addr, '@') + 1;
	if (!mid)
		mid = sk_mail_message_id_new(a, domain);
	if (!valid_msgid(mid) || (m->in_reply_to && !valid_msgid(m->in_reply_to)))
		return sk_err_set(err, SK_EINVAL, "bad Message-ID");
	for (size_t i = 0; i < m->n_references; i++)
		if (!valid_msgid(m->references[i]))
			return sk_err_set(err, SK_EINVAL, "bad Message-ID");
	if (m->markdown) {
		rc = render_html(a, m->markdown,
				 m->html_title ? m->html_title
					       : (m->subject ? m->subject : ""),
				 &html, err);
		if (rc)
			return rc;
	}

	random_hex(rnd, 12);
	/* "=_" cannot occur in quoted-printable or base64 text. */
	snprintf(b1, sizeof(b1), "=_sk_mixed_%s", rnd);
	snprintf(b2, sizeof(b2), "=_sk_alt_%s", rnd);

	sk_buf_init(&b, MAX_MESSAGE_BYTES);
	add_addr_header(&b, a, "From", m->from_name, m->from_addr);
	add_addr_header(&b, a, "To", m->to_name, m->to_addr);
	if (m->reply_to)
		sk_buf_addf(&b, "Reply-To: %s\r\n", m->reply_to);
	sk_buf_addf(&b, "Subject: %s\r\n",
		    sk_mail_encode_header(a, m->subject ? m->subject : "", 9,
					  false));
	add_date(&b, m->date ? m->date : time(NULL));
	sk_buf_addf(&b, "Message-ID: <%s>\r\n", mid);
	if (m->in_reply_to)
		sk_buf_addf(&b, "In-Reply-To: <%s>\r\n", m->in_reply_to);
	if (m->n_references) {
		size_t col = 12;
		sk_buf_adds(&b, "References:");
		for (size_t i = 0; i < m->n_references; i++) {
			size_t w = strlen(m->references[i]) + 3;
			if (i && col + w > LINE_MAX_COLS) {
				sk_buf_adds(&b, "\r\n");
				col = 0;
			}
			sk_buf_addf(&b, " <%s>", m->references[i]);
			col += w;
		}
		sk_buf_adds(&b, "\r\n");
	}
	if (m->list_unsubscribe_url) {
		sk_buf_addf(&b, "List-Unsubscribe: <%s>\r\n",
			    m->list_unsubscribe_url);
		sk_buf_adds(&b, "List-Unsubscribe-Post: "
				"List-Unsubscribe=One-Click\r\n");
	}
	if (m->auto_generated)
		sk_buf_adds(&b, "Auto-Submitted: auto-generated\r\n"
				"Precedence: bulk\r\n");
	sk_buf_adds(&b, "MIME-Version: 1.0\r\nContent-Language: pl\r\n");

	if (m->n_attachments)
		sk_buf_addf(&b,
			    "Content-Type: multipart/mixed;\r\n"
			    " boundary=\"%s\"\r\n\r\n"
			    "This is a multi-part message in MIME format.\r\n"
			    "\r\n--%s\r\n",
			    b1, b1);
	if (html) {
		sk_buf_addf(&b,
			    "Content-Type: multipart/alternative;\r\n"
			    " boundary=\"%s\"\r\n\r\n--%s\r\n",
			    b2, b2);
		add_text_part(&b, a, "plain", text);
		sk_buf_addf(&b, "\r\n--%s\r\n", b2);
		add_text_part(&b, a, "html", html);
		sk_buf_addf(&b, "\r\n--%s--\r\n", b2);
	} else {
		add_text_part(&b, a, "plain", text);
	}
	for (size_t i = 0; i < m->n_attachments; i++) {
		sk_buf_addf(&b, "\r\n--%s\r\n", b1);
		add_attachment(&b, a, &m->attachments[i]);
	}
	if (m->n_attachments)
		sk_buf_addf(&b, "\r\n--%s--\r\n", b1);

	rc = sk_buf_status(&b);
	if (rc) {
		sk_buf_release(&b);
		return sk_err_set(err, SK_ETOOBIG, "the message is too big");
	}
	*len_out = b.len;
	*raw_out = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	if (message_id_out)
		*message_id_out = mid;
	return SK_OK;
}

/* ---- meeting notes -------------------------------------------------------------------- */

enum sk_status
sk_mail_note_compose(void *ctx, struct sk_arena *a,
		     const struct sk_note_mail *nm, struct sk_composed *out,
		     struct sk_err *err)
{
	const struct sk_mail_settings *ms = ctx;
	const struct sk_note_in *n = nm->note;
	struct sk_mail m = { 0 };
	struct sk_message *arc = &out->archive;
	struct sk_buf md;
	const char *mid;
	char *raw, *from, *subject;
	size_t len;
	enum sk_status rc;

	if (!ms || !ms->from || !*ms->from)
		return sk_err_set(err, SK_EINVAL,
				  "smtp.from is not configured");
	if (!ms->list_address || !*ms->list_address)
		return sk_err_set(err, SK_EINVAL,
				  "list.address is not configured");

	/* The note as Markdown: readable as it is in text/plain, rendered
	 * for text/html. */
	sk_buf_init(&md, MAX_MESSAGE_BYTES);
	sk_buf_addf(&md, "# %s\n\n", n->title);
	sk_buf_addf(&md, "- Kwartał: %s\n", n->quarter);
	if (n->place && *n->place)
		sk_buf_addf(&md, "- Miejsce: %s\n", n->place);
	if (n->partners_present && *n->partners_present)
		sk_buf_addf(&md, "- Obecni: %s\n", n->partners_present);
	if (n->n_topics) {
		sk_buf_adds(&md, "- Tematy: ");
		for (size_t i = 0; i < n->n_topics; i++)
			sk_buf_addf(&md, "%s%s", i ? ", " : "",
				    nm->topic_names && nm->topic_names[i]
					    ? nm->topic_names[i]
					    : n->topics[i]);
		sk_buf_addc(&md, '\n');
	}
	if (nm->author_name && *nm->author_name)
		sk_buf_addf(&md, "- Notatkę sporządził(a): %s\n",
			    nm->author_name);
	sk_buf_addf(&md, "\n%s", n->body_md);
	if (md.len && md.p[md.len - 1] != '\n')
		sk_buf_addc(&md, '\n');
	if (n->decisions && *n->decisions) {
		sk_buf_addf(&md, "\n## Ustalenia\n\n%s", n->decisions);
		if (md.p[md.len - 1] != '\n')
			sk_buf_addc(&md, '\n');
	}
	if (sk_buf_status(&md)) {
		sk_buf_release(&md);
		return sk_err_set(err, SK_ETOOBIG, "the note is too long");
	}

	from = nm->author_name && *nm->author_name
		       ? sk_arena_printf(a, "%s (Skarbnica)", nm->author_name)
		       : sk_arena_strdup(a, ms->from_name ? ms->from_name
							  : "Skarbnica");
	subject = sk_arena_printf(a, "Notatka ze spotkania %s: %s", n->quarter,
				  n->title);
	m.from_name = from;
	m.from_addr = ms->from;
	m.to_addr = ms->list_address;
	m.subject = subject;
	m.message_id = sk_mail_message_id_new(
		a, ms->msgid_domain ? ms->msgid_domain
				    : strchr(ms->from, '@')
					      ? strchr(ms->from, '@') + 1
					      : NULL);
	m.date = nm->date;
	m.in_reply_to = n->in_reply_to;
	m.references = nm->references;
	m.n_references = nm->n_references;
	m.markdown = sk_arena_strndup(a, md.p, md.len);
	m.html_title = subject;
	m.attachments = n->attachments;
	m.n_attachments = n->n_attachments;
	sk_buf_release(&md);

	rc = sk_mail_compose(a, &m, &raw, &len, &mid, err);
	if (rc)
		return rc;

	memset(out, 0, sizeof(*out));
	out->raw = raw;
	out->raw_len = len;
	out->message_id = mid;
	out->sender = ms->from;
	out->recipients = ms->list_address;

	/* The archive copy: what ingest makes of the list's copy. The From
	 * address (lowercase, as ingest stores it) and the Message-ID are
	 * what the store's duplicate check compares. */
	arc->raw = raw;
	arc->raw_len = len;
	arc->message_id = mid;
	arc->subject = subject;
	arc->from_name = from;
	arc->from_addr = sk_ascii_lower(sk_arena_strdup(a, ms->from));
	arc->to_addrs = ms->list_address;
	arc->cc_addrs = "";
	arc->date = nm->date;
	arc->in_reply_to = n->in_reply_to;
	arc->references = (const char **)nm->references;
	arc->n_references = nm->n_references;
	arc->list_id = NULL;
	arc->body = m.markdown;
	arc->quote_start = strlen(m.markdown);
	if (n->n_attachments) {
		struct sk_attachment *at = sk_arena_alloc(
			a, n->n_attachments * sizeof(*at));
		for (size_t i = 0; i < n->n_attachments; i++) {
			at[i] = n->attachments[i];
			at[i].filename = clean_filename(a, at[i].filename);
			at[i].content_type = clean_type(at[i].content_type);
			at[i].text = NULL;
			at[i].extract_status = "none";
			at[i].extract_error = NULL;
		}
		arc->attachments = at;
		arc->n_attachments = n->n_attachments;
	}
	return SK_OK;
}
