/* ingest/parse.c: one raw message to a struct sk_message — the envelope
 * from our own header code, the MIME tree from libetpan walked with an
 * explicit stack (nesting is attacker-controlled), body text chosen and
 * converted, forwards read, attachments decoded and their text extracted.
 * Runs inside a parser worker: libetpan 1.9.4 can crash on hostile input
 * (DEPENDENCIES.md), which then costs this process, not the run. */
#include "ingest/private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>
#include <sodium.h>

#define SUBJECT_MAX 1000
#define NAME_MAX_BYTES 500
#define ADDRS_MAX_BYTES (64u << 10)
#define MAX_RECIPIENTS 1000
#define MAX_REFERENCES 100

/* The state of one parse. */
struct pctx {
	struct sk_arena *a;
	struct sk_limits lim;
	struct sk_message *m;
	unsigned flags;
	struct sk_buf body;
	bool body_plain, body_html;
	struct sk_attachment *atts;
	size_t n_atts, cap_atts;
	size_t parts;
	struct sk_extract_budget budget;
	const char *parse_error;
	/* Trees parsed from decoded message/rfc822 parts, freed at the end. */
	struct mailmime **subtrees;
	size_t n_subtrees, cap_subtrees;
};

static void
malformed(struct pctx *c, const char *why)
{
	c->flags |= SK_MSG_MALFORMED;
	if (!c->parse_error)
		c->parse_error = why;
}

/* Append text to the body, separated from what is there by a blank line,
 * within the body limit. */
static void
add_body(struct pctx *c, const char *s, size_t n)
{
	size_t room;
	struct sk_str t = sk_str_trim(s, n);

	if (t.n == 0)
		return;
	room = c->lim.body_text_bytes > c->body.len
	           ? c->lim.body_text_bytes - c->body.len
	           : 0;
	if (c->body.len > 0) {
		if (room <= 2) {
			c->flags |= SK_MSG_TRUNCATED;
			return;
		}
		sk_buf_add(&c->body, "\n\n", 2);
		room -= 2;
	}
	/* Keep leading indentation (quotes, code); drop trailing space. */
	n = (size_t)(t.p + t.n - s);
	while (n > 0 && (s[0] == '\n' || s[0] == '\r'))
		s++, n--;
	if (n > room) {
		n = sk_utf8_clip(s, n, room);
		c->flags |= SK_MSG_TRUNCATED;
	}
	sk_buf_add(&c->body, s, n);
}

/* ---- the envelope ----------------------------------------------------------
 */

static char *
header_text(struct pctx *c, const struct sk_mime_headers *hs, const char *name)
{
	size_t n;
	char *v = sk_mime_header_get(c->a, hs, name, &n);
	return v ? sk_mime_decode_words(c->a, v, n, &c->flags) : NULL;
}

static char *
clip(struct pctx *c, char *s, size_t max)
{
	size_t n = strlen(s), k = sk_utf8_clip(s, n, max);
	if (k < n) {
		s[k] = '\0';
		c->flags |= SK_MSG_TRUNCATED;
	}
	return s;
}

/* "Name <addr>, addr2" for To and Cc. */
static const char *
address_list(struct pctx *c, const struct sk_mime_headers *hs, const char *name)
{
	struct sk_mime_addr *ad;
	struct sk_buf b;
	size_t n, k;
	char *v = sk_mime_header_get(c->a, hs, name, &n), *res;

	if (!v)
		return "";
	k = sk_mime_addresses(c->a, v, n, MAX_RECIPIENTS, &c->flags, &ad);
	sk_buf_init(&b, ADDRS_MAX_BYTES);
	for (size_t i = 0; i < k; i++) {
		if (b.len)
			sk_buf_add(&b, ", ", 2);
		if (ad[i].name[0] && ad[i].addr[0] &&
		    strpbrk(ad[i].name, ",;<>\"\\")) {
			/* Quoted, so that the list still splits on commas. */
			sk_buf_addc(&b, '"');
			for (const char *q = ad[i].name; *q; q++) {
				if (*q == '"' || *q == '\\')
					sk_buf_addc(&b, '\\');
				sk_buf_addc(&b, *q);
			}
			sk_buf_addf(&b, "\" <%s>", ad[i].addr);
		} else if (ad[i].name[0] && ad[i].addr[0])
			sk_buf_addf(&b, "%s <%s>", ad[i].name, ad[i].addr);
		else
			sk_buf_adds(&b,
			            ad[i].addr[0] ? ad[i].addr : ad[i].name);
	}
	if (sk_buf_status(&b))
		c->flags |= SK_MSG_TRUNCATED;
	res = sk_arena_strndup(c->a, b.p, sk_utf8_clip(b.p, b.len, b.len));
	sk_buf_release(&b);
	return res;
}

static void
set_from(struct pctx *c, const struct sk_mime_headers *hs)
{
	static const char *const fields[] = { "From", "Sender", "Reply-To" };
	struct sk_mime_addr *ad;

	c->m->from_name = "";
	c->m->from_addr = "";
	for (size_t i = 0; i < SK_ARRAY_SIZE(fields); i++) {
		size_t n;
		char *v = sk_mime_header_get(c->a, hs, fields[i], &n);
		if (!v || sk_mime_addresses(c->a, v, n, 1, &c->flags, &ad) == 0)
			continue;
		c->m->from_name = clip(c, (char *)ad[0].name, NAME_MAX_BYTES);
		c->m->from_addr = sk_ascii_lower(
		    clip(c, sk_arena_strdup(c->a, ad[0].addr), NAME_MAX_BYTES));
		return;
	}
}

static const char *
list_id(struct pctx *c, const struct sk_mime_headers *hs)
{
	size_t n;
	char *v = sk_mime_header_get(c->a, hs, "List-Id", &n);
	const char *lt, *gt;
	struct sk_str t;

	if (!v)
		return NULL;
	lt = memchr(v, '<', n);
	gt = lt ? memchr(lt, '>', n - (size_t)(lt - v)) : NULL;
	t = lt && gt ? sk_str_trim(lt + 1, (size_t)(gt - lt - 1))
	             : sk_str_trim(v, n);
	if (t.n == 0 || t.n > 250)
		return NULL;
	return sk_utf8_sanitize(c->a, t.p, t.n, NULL);
}

char *
sk_mime_synthetic_id(struct sk_arena *a, const char *raw, size_t len,
                     const struct sk_mime_headers *hs)
{
	static const char *const fields[] = { "From", "To", "Cc", "Date",
		                              "Subject" };
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	char hex[2 * sizeof(h) + 1];

	/* Only what a message keeps on every path to us: Received lines
	 * and list footers differ between a list copy and a CC copy. */
	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < SK_ARRAY_SIZE(fields); i++) {
		size_t n;
		char *v = sk_mime_header_get(a, hs, fields[i], &n);
		crypto_hash_sha256_update(&st, (const unsigned char *)fields[i],
		                          strlen(fields[i]));
		crypto_hash_sha256_update(&st, (const unsigned char *)":", 1);
		if (v)
			crypto_hash_sha256_update(&st, (const unsigned char *)v,
			                          n);
		crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
	}
	if (hs->end < len)
		crypto_hash_sha256_update(
		    &st, (const unsigned char *)raw + hs->end, len - hs->end);
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return sk_arena_printf(a, "sha256-%s@skarbnica.invalid", hex);
}

/* Everything the top-level header says. */
static void
envelope(struct pctx *c, const struct sk_mime_headers *hs, const char *raw,
         size_t len)
{
	struct sk_message *m = c->m;
	const char **ids;
	size_t n;
	char *v;
	time_t t;

	v = sk_mime_header_get(c->a, hs, "Message-ID", &n);
	if (v && sk_mime_msgids(c->a, v, n, 1, &ids) == 1) {
		m->message_id = ids[0];
	} else {
		m->message_id = sk_mime_synthetic_id(c->a, raw, len, hs);
		c->flags |= SK_MSG_SYNTHETIC_ID;
	}
	v = header_text(c, hs, "Subject");
	m->subject = v ? clip(c, v, SUBJECT_MAX) : "";
	set_from(c, hs);
	m->to_addrs = address_list(c, hs, "To");
	m->cc_addrs = address_list(c, hs, "Cc");
	v = sk_mime_header_get(c->a, hs, "Date", &n);
	if (!v || !sk_mime_date(v, n, &t))
		t = time(NULL);
	m->date = t;
	v = sk_mime_header_get(c->a, hs, "In-Reply-To", &n);
	m->in_reply_to =
	    v && sk_mime_msgids(c->a, v, n, 1, &ids) == 1 ? ids[0] : NULL;
	v = sk_mime_header_get(c->a, hs, "References", &n);
	m->n_references =
	    v ? sk_mime_msgids(c->a, v, n, MAX_REFERENCES, &ids) : 0;
	m->references = m->n_references ? ids : NULL;
	m->list_id = list_id(c, hs);
}

/* ---- text of parts ----------------------------------------------------------
 */

/* RFC 3676 format=flowed: a line ending in a space continues on the next
 * one (same quote depth); a leading space is stuffing. */
static char *
unflow(struct sk_arena *a, const char *s, size_t n, bool delsp, size_t *len_out)
{
	/* A line can grow by the space after its quote marks and a newline
	 * the input lacked at its end. */
	char *out = sk_arena_alloc(a, 2 * n + 4), *o = out;
	int prev_depth = -1;
	bool joining = false;

	for (size_t i = 0; i < n;) {
		const char *e = memchr(s + i, '\n', n - i);
		size_t end = e ? (size_t)(e - s) : n, st = i;
		int depth = 0;
		bool soft;

		if (end > st && s[end - 1] == '\r')
			end--;
		while (st < end && s[st] == '>')
			depth++, st++;
		if (joining && depth == prev_depth) {
			if (st < end && s[st] == ' ')
				st++;
		} else {
			if (joining)
				*o++ = '\n';
			for (int d = 0; d < depth; d++)
				*o++ = '>';
			if (depth > 0)
				*o++ = ' ';
			if (st < end && s[st] == ' ')
				st++;
		}
		soft = end > st && s[end - 1] == ' ' &&
		       !(end - st == 3 && !memcmp(s + st, "-- ", 3));
		if (soft && delsp)
			end--;
		memcpy(o, s + st, end - st);
		o += end - st;
		if (!soft)
			*o++ = '\n';
		joining = soft;
		prev_depth = depth;
		i = e ? (size_t)(e - s) + 1 : n;
	}
	*o = '\0';
	*len_out = (size_t)(o - out);
	return out;
}

/* The decoded bytes of a single part (QP, base64 or as is), in a. */
static char *
decode_part(struct pctx *c, const struct mailmime_data *d, size_t *len_out)
{
	size_t idx = 0, dl = 0;
	char *dec = NULL, *res, *src;
	int r;

	*len_out = 0;
	if (!d || d->dt_type != MAILMIME_DATA_TEXT ||
	    !d->dt_data.dt_text.dt_data)
		return sk_arena_strdup(c->a, "");
	/* libetpan 1.9.4 reads up to 2 bytes past a quoted-printable part
	 * that ends in a cut escape ("=C"): give it a zero-padded copy
	 * (tests/data/regress/mime/qp-cut-escape-at-end.eml, found by
	 * fuzz_mime). */
	src = sk_arena_alloc(c->a, d->dt_data.dt_text.dt_length + 4);
	memcpy(src, d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length);
	r = mailmime_part_parse(
	    src, d->dt_data.dt_text.dt_length, &idx,
	    d->dt_encoded ? d->dt_encoding : MAILMIME_MECHANISM_8BIT, &dec,
	    &dl);
	if (r != MAILIMF_NO_ERROR || !dec) {
		res = sk_arena_memdup(c->a, d->dt_data.dt_text.dt_data,
		                      d->dt_data.dt_text.dt_length + 1);
		res[d->dt_data.dt_text.dt_length] = '\0';
		*len_out = d->dt_data.dt_text.dt_length;
		return res;
	}
	res = sk_arena_alloc(c->a, dl + 1);
	memcpy(res, dec, dl);
	mmap_string_unref(dec);
	*len_out = dl;
	return res;
}

/* Body start of a node: the header of the node ends there. */
static const char *
body_start(const struct mailmime *x)
{
	return x->mm_body && x->mm_body->dt_type == MAILMIME_DATA_TEXT
	           ? x->mm_body->dt_data.dt_text.dt_data
	           : NULL;
}

/* What one part's own header says. */
struct part {
	struct sk_mime_headers hs;
	struct sk_mime_field ct, cd;
	const char *type;     /* "text/plain" */
	const char *filename; /* decoded, or NULL */
	bool attachment;      /* Content-Disposition: attachment */
};

static void
read_part(struct pctx *c, const struct mailmime *x, const char *hdr,
          bool digest_child, struct part *p)
{
	const char *bs = body_start(x);
	size_t n;
	char *v;

	memset(p, 0, sizeof(*p));
	if (hdr && bs && bs >= hdr)
		sk_mime_headers_parse(c->a, hdr, (size_t)(bs - hdr),
		                      c->lim.header_bytes, &p->hs);
	v = sk_mime_header_get(c->a, &p->hs, "Content-Type", &n);
	if (v)
		sk_mime_field_parse(c->a, v, n, &c->flags, &p->ct);
	if (!v || !strchr(p->ct.value, '/'))
		p->ct.value = digest_child ? "message/rfc822" : "text/plain";
	p->type = p->ct.value;
	v = sk_mime_header_get(c->a, &p->hs, "Content-Disposition", &n);
	if (v) {
		sk_mime_field_parse(c->a, v, n, &c->flags, &p->cd);
		p->attachment = !strcmp(p->cd.value, "attachment");
		p->filename = sk_mime_field_param(&p->cd, "filename");
	} else {
		p->cd.value = "";
	}
	if (!p->filename || !p->filename[0])
		p->filename = sk_mime_field_param(&p->ct, "name");
	if (p->filename && !p->filename[0])
		p->filename = NULL;
}

static bool
is_body_text(const struct part *p)
{
	return !p->attachment && !p->filename &&
	       (!strcmp(p->type, "text/plain") ||
	        !strcmp(p->type, "text/html"));
}

static void
add_text_part(struct pctx *c, const struct part *p, const char *dec, size_t n)
{
	const char *charset = sk_mime_field_param(&p->ct, "charset");
	size_t room = c->lim.body_text_bytes > c->body.len
	                  ? c->lim.body_text_bytes - c->body.len
	                  : 0;
	size_t tl;
	char *t;

	if (!strcmp(p->type, "text/html")) {
		/* Markup is bulky, but a part far beyond the body limit is
		 * not read to its end. */
		size_t cap = room * 4 + (1u << 20);
		if (n > cap) {
			n = cap;
			c->flags |= SK_MSG_TRUNCATED;
		}
		t = sk_mime_html_text(c->a, dec, n, charset, room, &c->flags,
		                      &tl);
		c->body_html = true;
	} else {
		/* Every byte makes at least one of UTF-8, so room plus a
		 * character's worth is all that can show (add_body cuts). */
		if (n > room + 4)
			n = room + 4;
		const char *fmt = sk_mime_field_param(&p->ct, "format");
		const char *delsp = sk_mime_field_param(&p->ct, "delsp");
		t = sk_mime_text_utf8(c->a, dec, n, charset, &c->flags, &tl);
		if (fmt && !strcasecmp(fmt, "flowed"))
			t = unflow(c->a, t, tl,
			           delsp && !strcasecmp(delsp, "yes"), &tl);
		c->body_plain = true;
	}
	add_body(c, t, tl);
}

static void
add_attachment(struct pctx *c, const struct part *p, const char *dec, size_t n)
{
	struct sk_attachment *att;
	const char *charset = sk_mime_field_param(&p->ct, "charset");

	if (c->n_atts == c->cap_atts)
		sk_xgrow((void **)&c->atts, &c->cap_atts, c->n_atts + 1,
		         sizeof(*c->atts));
	att = &c->atts[c->n_atts++];
	memset(att, 0, sizeof(*att));
	att->filename = p->filename ? clip(c, (char *)p->filename, 255) : "";
	att->content_type = p->type;
	if (n > c->lim.attachment_bytes) {
		att->data = "";
		att->size = 0;
		att->extract_status = "skipped";
		att->extract_error = sk_arena_printf(
		    c->a, "attachment of %zu bytes is over the limit of %llu",
		    n, (unsigned long long)c->lim.attachment_bytes);
		c->flags |= SK_MSG_TRUNCATED;
		return;
	}
	att->data = dec;
	att->size = n;
	sk_mime_extract(c->a, &c->lim, &c->budget, att, charset, &c->flags);
}

/* Does the multipart body hold its delimiter at all? When it does not,
 * libetpan still makes up parts from stray "--" lines and loses the text
 * before them. */
static bool
boundary_present(const struct mailmime *x, const char *b)
{
	const char *s = body_start(x);
	size_t n = s ? x->mm_body->dt_data.dt_text.dt_length : 0, bl;

	if (!b || !b[0])
		return true; /* libetpan found one; trust it */
	bl = strlen(b);
	for (size_t i = 0; i + 2 + bl <= n; i++) {
		if ((i == 0 || s[i - 1] == '\n') && s[i] == '-' &&
		    s[i + 1] == '-' && !memcmp(s + i + 2, b, bl))
			return true;
		const char *nl = memchr(s + i, '\n', n - i);
		if (!nl)
			break;
		i = (size_t)(nl - s);
	}
	return false;
}

/* ---- the walk
 * ------------------------------------------------------------------ */

struct frame {
	struct mailmime *x;
	const char *hdr; /* where this node's own header starts */
	size_t depth;
	bool digest_child;
	bool files_only; /* an alternative we do not read: attachments only */
};

struct stack {
	struct frame *f;
	size_t n, cap;
};

static void
push(struct stack *st, struct mailmime *x, const char *hdr, size_t depth,
     bool digest_child, bool files_only)
{
	if (st->n == st->cap)
		sk_xgrow((void **)&st->f, &st->cap, st->n + 1, sizeof(*st->f));
	st->f[st->n++] =
	    (struct frame){ x, hdr, depth, digest_child, files_only };
}

/* True when a text part holds nothing but white space. */
static bool
part_is_blank(struct pctx *c, struct mailmime *x)
{
	size_t n;
	char *d = decode_part(c, x->mm_data.mm_single, &n);
	return sk_str_trim(d, n).n == 0;
}

/* The child of multipart/alternative we read: the first non-empty
 * text/plain, else a nested multipart (related HTML with images), else
 * text/html, else the first. */
static struct mailmime *
choose_alternative(struct pctx *c, clist *kids)
{
	struct mailmime *html = NULL, *multi = NULL, *first = NULL;

	for (clistiter *it = clist_begin(kids); it; it = clist_next(it)) {
		struct mailmime *k = clist_content(it);
		struct part p;
		if (!first)
			first = k;
		if (k->mm_type == MAILMIME_MULTIPLE) {
			if (!multi)
				multi = k;
			continue;
		}
		if (k->mm_type != MAILMIME_SINGLE)
			continue;
		read_part(c, k, k->mm_mime_start, false, &p);
		if (!strcmp(p.type, "text/plain") && !p.attachment &&
		    !part_is_blank(c, k))
			return k;
		if (!strcmp(p.type, "text/html") && !html)
			html = k;
	}
	return multi ? multi : html ? html : first;
}

/* "Od: ... Data: ..." above the text of a forwarded message. */
static void
forward_summary(struct pctx *c, const char *hdr, const char *end)
{
	static const struct {
		const char *field, *label;
	} f[] = { { "From", "Od" },
		  { "Date", "Data" },
		  { "Subject", "Temat" },
		  { "To", "Do" } };
	struct sk_mime_headers hs;
	struct sk_buf b;

	if (!hdr || !end || end < hdr)
		return;
	sk_mime_headers_parse(c->a, hdr, (size_t)(end - hdr),
	                      c->lim.header_bytes, &hs);
	sk_buf_init(&b, 16384);
	sk_buf_adds(&b, "---------- Wiadomość przekazana ----------\n");
	for (size_t i = 0; i < SK_ARRAY_SIZE(f); i++) {
		char *v = header_text(c, &hs, f[i].field);
		if (v && v[0])
			sk_buf_addf(&b, "%s: %s\n", f[i].label, v);
	}
	add_body(c, b.p, b.len);
	sk_buf_release(&b);
}

/* PGP and S/MIME signatures are not documents anyone attached: keeping
 * them would make every signed message "have an attachment". */
static bool
is_signature(const struct part *p)
{
	return !strcmp(p->type, "application/pgp-signature") ||
	       !strcmp(p->type, "application/pkcs7-signature") ||
	       !strcmp(p->type, "application/x-pkcs7-signature");
}

/* In an alternative we do not read: a file someone attached, not the
 * alternative's own text or its inline pictures. */
static bool
wanted_file(const struct part *p)
{
	if (!strcmp(p->type, "message/rfc822") ||
	    !strncmp(p->type, "multipart/", 10))
		return true; /* look inside */
	if (p->attachment)
		return true;
	return p->filename && strncmp(p->type, "image/", 6) && !is_body_text(p);
}

/* A single part: body text, a message to read, or an attachment. */
static void
leaf(struct pctx *c, struct stack *st, const struct frame *f)
{
	struct part p;
	size_t n;
	char *dec;

	read_part(c, f->x, f->hdr, f->digest_child, &p);
	if (is_signature(&p))
		return;
	if (f->files_only && !wanted_file(&p))
		return;
	dec = decode_part(c, f->x->mm_data.mm_single, &n);
	if (!strcmp(p.type, "message/rfc822") ||
	    !strcmp(p.type, "message/global")) {
		/* Encoded (base64/QP) so libetpan left it whole: parse the
		 * decoded bytes as a message of their own. */
		struct mailmime *sub = NULL;
		size_t idx = 0;
		if (mailmime_parse(dec, n, &idx, &sub) == MAILIMF_NO_ERROR &&
		    sub) {
			if (c->n_subtrees == c->cap_subtrees)
				sk_xgrow((void **)&c->subtrees,
				         &c->cap_subtrees, c->n_subtrees + 1,
				         sizeof(*c->subtrees));
			c->subtrees[c->n_subtrees++] = sub;
			push(st, sub, dec, f->depth + 1, false, f->files_only);
			return;
		}
		if (!f->files_only) {
			size_t tl;
			char *t = sk_mime_text_utf8(c->a, dec, n, NULL,
			                            &c->flags, &tl);
			add_body(c, t, tl);
		}
		return;
	}
	if (f->files_only) {
		add_attachment(c, &p, dec, n);
		return;
	}
	if (!strncmp(p.type, "multipart/", 10)) {
		/* libetpan found no usable boundary: keep the text. */
		size_t tl;
		char *t = sk_mime_text_utf8(c->a, dec, n, NULL, &c->flags, &tl);
		malformed(c, "multipart part without a usable boundary");
		add_body(c, t, tl);
		return;
	}
	if (is_body_text(&p)) {
		add_text_part(c, &p, dec, n);
		return;
	}
	add_attachment(c, &p, dec, n);
}

static void
walk(struct pctx *c, struct mailmime *top, const char *raw)
{
	struct stack st = { 0 };

	if (!top->mm_data.mm_message.mm_msg_mime)
		return;
	push(&st, top->mm_data.mm_message.mm_msg_mime,
	     body_start(top) ? body_start(top) : raw, 0, false, false);
	while (st.n > 0) {
		struct frame f = st.f[--st.n];
		struct mailmime *x = f.x;

		if (++c->parts > c->lim.parts) {
			c->flags |= SK_MSG_TRUNCATED;
			break;
		}
		if (f.depth > c->lim.depth) {
			c->flags |= SK_MSG_TRUNCATED;
			continue;
		}
		if (x->mm_type == MAILMIME_MULTIPLE) {
			clist *kids = x->mm_data.mm_multipart.mm_mp_list;
			struct part p;
			read_part(c, x, f.hdr, f.digest_child, &p);
			bool broken =
			    !kids || clist_count(kids) == 0 ||
			    !boundary_present(
			        x, sk_mime_field_param(&p.ct, "boundary"));
			if (broken && f.files_only)
				continue;
			if (broken) {
				size_t n, tl;
				char *d = decode_part(c, x->mm_body, &n);
				char *t = sk_mime_text_utf8(c->a, d, n, NULL,
				                            &c->flags, &tl);
				malformed(c, "multipart without any part "
				             "(boundary never found)");
				add_body(c, t, tl);
				continue;
			}
			/* Reversed, so that parts pop in document order.
			 * Of an alternative we read one; the others may
			 * still carry attachments (Apple Mail puts them in
			 * the HTML branch). */
			bool alt = !strcmp(p.type, "multipart/alternative");
			struct mailmime *chosen =
			    alt ? choose_alternative(c, kids) : NULL;
			for (clistiter *it = clist_end(kids); it;
			     it = clist_previous(it)) {
				struct mailmime *k = clist_content(it);
				push(&st, k, k->mm_mime_start, f.depth + 1,
				     !strcmp(p.type, "multipart/digest"),
				     f.files_only || (alt && k != chosen));
			}
		} else if (x->mm_type == MAILMIME_MESSAGE) {
			/* A forward: its header block sits between our
			 * body start and the inner body start. */
			struct mailmime *inner =
			    x->mm_data.mm_message.mm_msg_mime;
			const char *bs = body_start(x);
			if (!f.files_only)
				forward_summary(
				    c, bs, inner ? body_start(inner) : NULL);
			if (inner) {
				push(&st, inner, bs, f.depth + 1, false,
				     f.files_only);
			} else if (!f.files_only) {
				size_t n, tl;
				char *d = decode_part(c, x->mm_body, &n);
				char *t = sk_mime_text_utf8(c->a, d, n, NULL,
				                            &c->flags, &tl);
				add_body(c, t, tl);
			}
		} else if (x->mm_type == MAILMIME_SINGLE) {
			leaf(c, &st, &f);
		}
	}
	free(st.f);
}

/* ---- entry points
 * ---------------------------------------------------------------- */

static void
ctx_init(struct pctx *c, struct sk_arena *a, const struct sk_limits *limits,
         struct sk_message *m)
{
	static const struct sk_limits none;
	memset(c, 0, sizeof(*c));
	memset(m, 0, sizeof(*m));
	c->a = a;
	c->m = m;
	c->lim = sk_limits_effective(limits ? limits : &none);
	/* The whole message may not spend more than three extractor
	 * timeouts; a fourth slow attachment is skipped. */
	c->budget.seconds_left = 3.0 * (double)c->lim.extract_seconds;
	sk_buf_init(&c->body, c->lim.body_text_bytes + 16);
}

/* The body as plain text when the structure cannot be trusted. */
static void
raw_body(struct pctx *c, const struct sk_mime_headers *hs, const char *raw,
         size_t len)
{
	struct sk_mime_field ct = { 0 };
	size_t n, tl;
	char *v = sk_mime_header_get(c->a, hs, "Content-Type", &n);
	char *t;

	if (v)
		sk_mime_field_parse(c->a, v, n, &c->flags, &ct);
	if (hs->end >= len)
		return;
	n = len - hs->end;
	if (n > c->lim.body_text_bytes) {
		n = c->lim.body_text_bytes;
		c->flags |= SK_MSG_TRUNCATED;
	}
	t = sk_mime_text_utf8(c->a, raw + hs->end, n,
	                      v ? sk_mime_field_param(&ct, "charset") : NULL,
	                      &c->flags, &tl);
	add_body(c, t, tl);
}

static void
ctx_finish(struct pctx *c)
{
	struct sk_message *m = c->m;
	size_t n;

	m->body = sk_utf8_sanitize(c->a, c->body.p, c->body.len, &n);
	m->quote_start = sk_mime_quote_start(m->body, n);
	if (c->n_atts) {
		struct sk_attachment *atts =
		    sk_arena_alloc(c->a, c->n_atts * sizeof(*atts));
		memcpy(atts, c->atts, c->n_atts * sizeof(*atts));
		m->attachments = atts;
		m->n_attachments = c->n_atts;
	}
	if (c->body_html && !c->body_plain)
		c->flags |= SK_MSG_HTML_ONLY;
	m->flags = c->flags;
	m->parse_error = c->parse_error;
	sk_buf_release(&c->body);
	free(c->atts);
	for (size_t i = 0; i < c->n_subtrees; i++)
		mailmime_free(c->subtrees[i]);
	free(c->subtrees);
}

void
sk_ingest_parse(struct sk_arena *a, const struct sk_limits *limits,
                const char *raw, size_t len, struct sk_message *m)
{
	struct pctx c;
	struct sk_mime_headers hs;
	struct mailmime *mime = NULL;
	size_t idx = 0;
	int r;

	ctx_init(&c, a, limits, m);
	m->raw = raw;
	m->raw_len = len;
	if (len > c.lim.message_bytes) {
		len = c.lim.message_bytes;
		c.flags |= SK_MSG_TRUNCATED;
	}
	sk_mime_headers_parse(a, raw, len, c.lim.header_bytes, &hs);
	if (hs.truncated)
		c.flags |= SK_MSG_TRUNCATED;
	envelope(&c, &hs, raw, len);
	if (hs.missing || hs.n == 0) {
		malformed(&c, "no header fields");
		raw_body(&c, &hs, raw, len);
	} else if ((r = mailmime_parse(raw, len, &idx, &mime)) !=
	               MAILIMF_NO_ERROR ||
	           !mime) {
		malformed(&c, sk_arena_printf(a,
		                              "cannot read the MIME "
		                              "structure (libetpan error %d)",
		                              r));
		raw_body(&c, &hs, raw, len);
	} else {
		walk(&c, mime, raw);
		mailmime_free(mime);
	}
	ctx_finish(&c);
}

void
sk_mime_parse_headers_only(struct sk_arena *a, const struct sk_limits *limits,
                           const char *raw, size_t len, struct sk_message *m)
{
	struct pctx c;
	struct sk_mime_headers hs;

	ctx_init(&c, a, limits, m);
	m->raw = raw;
	m->raw_len = len;
	if (len > c.lim.message_bytes) {
		len = c.lim.message_bytes;
		c.flags |= SK_MSG_TRUNCATED;
	}
	sk_mime_headers_parse(a, raw, len, c.lim.header_bytes, &hs);
	envelope(&c, &hs, raw, len);
	malformed(&c, "headers only");
	raw_body(&c, &hs, raw, len);
	ctx_finish(&c);
}
