/* ingest/imap.c: the IMAP source. IMAPS or STARTTLS with the server's
 * certificate verified (sk_tls_verify) before LOGIN, incremental fetch by
 * UIDVALIDITY and UID, IDLE with reconnects in watch mode. The position
 * travels with each submitted message; this file never records it past a
 * message that was not handed to the pipeline. Never logs the password. */
#include "ingest/private.h"

#include <libetpan/libetpan.h>

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	NET_TIMEOUT = 60, /* seconds, every network read or write */
	SIZE_BATCH = 500, /* UIDs per "UID FETCH (UID RFC822.SIZE)" */
	BODY_BATCH = 100, /* messages per "UID FETCH (BODY.PEEK[])" */
	BODY_BATCH_BYTES = 16 << 20, /* and at most this many bytes */
	IDLE_SLICE = 1,              /* seconds: how fast a stop is noticed */
	IDLE_MAX = 28 * 60,          /* RFC 2177: re-IDLE before 29 minutes */
	IDLE_DEFAULT = 25 * 60,
	POLL_SECONDS = 60, /* without IDLE: NOOP + search this often */
	BACKOFF_MIN = 1,
	BACKOFF_MAX = 300,
	STABLE_SESSION = 60, /* a session this long resets the backoff */
	STOP_TIMEOUT = 3,    /* seconds for DONE/LOGOUT once stopping */
};

struct imap_run {
	struct sk_ingest *ing;
	const char *host; /* an IPv6 literal without its brackets */
	char *host_buf;
	uint16_t port;
	enum sk_tls_mode tls;
	const char *user;
	const char *folder; /* as configured (UTF-8) */
	char *folder_wire;  /* as IMAP names it (modified UTF-7) */
	const char *ca_file;
	const char *pin;
	char *password;
	uint64_t max_bytes; /* limits.message_bytes */
	unsigned idle_seconds;
	char *location; /* source row: "imap://user@host/folder" */
	struct sk_source_state st;
	uint32_t uidvalidity; /* of the folder as selected now */
	mailimap *imap;
	bool fatal;             /* the last error is not worth a retry */
	bool untrusted;         /* the peer failed verification: say nothing */
	bool selected;          /* this session got as far as EXAMINE */
	unsigned idle_failures; /* IDLE broken on this server: poll */
	char said[128];         /* the server's last words, printable */
	int64_t fetched;        /* messages submitted in this call */
	int64_t truncated;
};

/* One message of a batch: its UID and what the server said it weighs. */
struct uid_size {
	uint32_t uid;
	uint32_t size;
	bool present; /* the server answered for it (not expunged) */
	bool unknown; /* the server would not tell the size */
};

static bool
stopping(void)
{
	return sk_ingest_stopping();
}

/* The text of the server's last tagged answer ("Authentication failed"),
 * cut short and reduced to printable ASCII: it goes into logs. */
static const char *
server_said(struct imap_run *r)
{
	const char *t = r->imap ? r->imap->imap_response : NULL;
	size_t k = 0;

	if (!t || !*t)
		return "no reason given";
	for (; *t && k + 1 < sizeof(r->said); t++)
		r->said[k++] = *t >= 0x20 && *t < 0x7f ? *t : '?';
	r->said[k] = '\0';
	return r->said;
}

static const char *
etpan_error(int code)
{
	switch (code) {
	case MAILIMAP_ERROR_STREAM:
		return "connection lost or timed out";
	case MAILIMAP_ERROR_PARSE:
		return "unparsable server response";
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return "connection refused";
	case MAILIMAP_ERROR_MEMORY:
		return "out of memory";
	case MAILIMAP_ERROR_PROTOCOL:
		return "protocol error";
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		return "server does not accept the connection";
	case MAILIMAP_ERROR_SSL:
		return "TLS handshake failed";
	case MAILIMAP_ERROR_BAD_STATE:
		return "command in the wrong state";
	default:
		return "command failed";
	}
}

/* A network-level failure: worth a reconnect in watch mode. */
static enum sk_status
net_error(struct imap_run *r, struct sk_err *err, const char *what, int code)
{
	r->fatal = false;
	return sk_err_set(err, SK_EIO, "imap: %s on %s:%u: %s", what, r->host,
	                  (unsigned)r->port, etpan_error(code));
}

/* Server refusals (NO/BAD to LOGIN, EXAMINE...) are configuration
 * problems: retrying would not help. */
static enum sk_status
refused(struct imap_run *r, struct sk_err *err, const char *what)
{
	r->fatal = true;
	return sk_err_set(err, SK_EIO, "imap: %s refused by %s: %s", what,
	                  r->host, server_said(r));
}

static bool
is_ip_literal(const char *host)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

/* Called by libetpan before the handshake: set SNI (RFC 6066 allows only
 * DNS names there, not addresses). */
static void
tls_setup(struct mailstream_ssl_context *ctx, void *data)
{
	char *host = data;
	if (!is_ip_literal(host))
		mailstream_ssl_set_server_name(ctx, host);
}

/* The chain the server sent, checked against ca_file/system CAs, the host
 * name and the pin. Before anything is sent over the channel. */
static enum sk_status
verify_peer(struct imap_run *r, struct sk_err *err)
{
	carray *chain = mailstream_get_certificate_chain(r->imap->imap_stream);
	struct sk_str *der;
	unsigned n;
	enum sk_status rc;

	if (!chain) {
		r->fatal = r->untrusted = true;
		return sk_err_set(
		    err, SK_EIO, "imap: %s sent no certificate chain", r->host);
	}
	n = carray_count(chain);
	der = sk_xcalloc(n ? n : 1, sizeof(*der));
	for (unsigned i = 0; i < n; i++) {
		MMAPString *s = carray_get(chain, i);
		der[i].p = s->str;
		der[i].n = s->len;
	}
	rc = sk_tls_verify(der, n, r->host, r->ca_file, r->pin, err);
	free(der);
	mailstream_certificate_chain_free(chain);
	if (rc) {
		/* Not even LOGOUT goes to a server we do not trust. */
		r->fatal = r->untrusted = true;
		sk_err_wrap(err, "imap");
	}
	return rc;
}

static enum sk_status
refresh_capabilities(struct imap_run *r, struct sk_err *err)
{
	struct mailimap_capability_data *caps = NULL;
	int e = mailimap_capability(r->imap, &caps);
	if (e != MAILIMAP_NO_ERROR)
		return net_error(r, err, "CAPABILITY failed", e);
	mailimap_capability_data_free(caps);
	return SK_OK;
}

/* TCP, TLS (implicit or STARTTLS), certificate check, capabilities. */
static enum sk_status
connect_verified(struct imap_run *r, bool *preauth, struct sk_err *err)
{
	enum sk_status rc;
	int e;

	*preauth = false;
	r->imap = mailimap_new(0, NULL);
	if (!r->imap)
		SK_BUG("mailimap_new: out of memory");
	mailimap_set_timeout(r->imap, NET_TIMEOUT);
	if (r->tls == SK_TLS_IMPLICIT)
		e = mailimap_ssl_connect_with_callback(
		    r->imap, r->host, r->port, tls_setup, (void *)r->host);
	else
		e = mailimap_socket_connect(r->imap, r->host, r->port);
	if (e != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    e != MAILIMAP_NO_ERROR_AUTHENTICATED)
		return net_error(r, err, "cannot connect", e);
	*preauth = e == MAILIMAP_NO_ERROR_AUTHENTICATED;

	switch (r->tls) {
	case SK_TLS_IMPLICIT:
		rc = verify_peer(r, err);
		if (rc)
			return rc;
		break;
	case SK_TLS_STARTTLS:
		if (*preauth) {
			/* PREAUTH in clear text would skip STARTTLS. */
			r->fatal = true;
			return sk_err_set(err, SK_EIO,
			                  "imap: %s greets with PREAUTH, so "
			                  "STARTTLS is impossible; refusing",
			                  r->host);
		}
		rc = refresh_capabilities(r, err);
		if (rc)
			return rc;
		if (!mailimap_has_extension(r->imap, "STARTTLS")) {
			r->fatal = true;
			return sk_err_set(err, SK_EIO,
			                  "imap: %s:%u does not offer STARTTLS "
			                  "(no fallback to clear text)",
			                  r->host, (unsigned)r->port);
		}
		e = mailimap_socket_starttls_with_callback(r->imap, tls_setup,
		                                           (void *)r->host);
		if (e != MAILIMAP_NO_ERROR) {
			if (e == MAILIMAP_ERROR_STARTTLS)
				return refused(r, err, "STARTTLS");
			return net_error(r, err, "STARTTLS failed", e);
		}
		rc = verify_peer(r, err);
		if (rc)
			return rc;
		break;
	case SK_TLS_NONE:
	case SK_TLS_DEFAULT:
		break;
	}
	/* After STARTTLS the earlier list must not be trusted (RFC 3501
	 * 6.2.1); after implicit TLS the greeting may not carry one. */
	return refresh_capabilities(r, err);
}

static enum sk_status
login(struct imap_run *r, struct sk_err *err)
{
	int e;

	if (mailimap_has_extension(r->imap, "LOGINDISABLED")) {
		r->fatal = true;
		return sk_err_set(err, SK_EIO,
		                  "imap: %s does not allow LOGIN "
		                  "(LOGINDISABLED)",
		                  r->host);
	}
	e = mailimap_login(r->imap, r->user, r->password);
	if (e == MAILIMAP_ERROR_LOGIN) {
		r->fatal = true;
		return sk_err_set(err, SK_EIO,
		                  "imap: login as '%s' refused by %s: %s",
		                  r->user, r->host, server_said(r));
	}
	if (e != MAILIMAP_NO_ERROR)
		return net_error(r, err, "LOGIN failed", e);
	/* Capabilities may grow after login (IDLE among them). */
	return refresh_capabilities(r, err);
}

/* Close the session: polite when the server is healthy, quick when we are
 * stopping (a short timeout), silent when the connection is gone. */
static void
disconnect(struct imap_run *r, bool polite)
{
	if (!r->imap)
		return;
	if (polite && r->imap->imap_stream) {
		if (stopping())
			mailstream_low_set_timeout(
			    mailstream_get_low(r->imap->imap_stream),
			    STOP_TIMEOUT);
		mailimap_logout(r->imap);
	}
	mailimap_free(r->imap);
	r->imap = NULL;
}

/* EXAMINE (read-only: we never change the shared mailbox) and settle the
 * position against UIDVALIDITY. */
static enum sk_status
open_folder(struct imap_run *r, struct sk_err *err)
{
	struct sk_index *ix = sk_ingest_index(r->ing);
	enum sk_status rc;
	int e;

	e = mailimap_examine(r->imap, r->folder_wire);
	if (e == MAILIMAP_ERROR_EXAMINE)
		return refused(r, err, "EXAMINE of the folder");
	if (e != MAILIMAP_NO_ERROR)
		return net_error(r, err, "EXAMINE failed", e);
	r->selected = true;
	r->uidvalidity = r->imap->imap_selection_info
	                     ? r->imap->imap_selection_info->sel_uidvalidity
	                     : 0;
	if (r->uidvalidity == 0)
		sk_log(SK_LOG_WARNING,
		       "imap: %s gives no UIDVALIDITY for '%s'; UIDs are "
		       "trusted as they are",
		       r->host, r->folder);

	/* What was submitted before (an earlier session) is committed
	 * first, so the store's position is the whole truth. */
	rc = sk_ingest_flush(r->ing, err);
	if (!rc)
		rc = sk_index_source_get(ix, "imap", r->location, &r->st, err);
	if (rc) {
		r->fatal = true;
		return rc;
	}
	if (r->st.uidvalidity != (int64_t)r->uidvalidity) {
		if (r->st.uidvalidity != 0)
			sk_log(SK_LOG_NOTICE,
			       "imap: UIDVALIDITY of '%s' on %s changed from "
			       "%lld to %u: reading the whole folder again "
			       "(messages already stored are recognised)",
			       r->folder, r->host, (long long)r->st.uidvalidity,
			       r->uidvalidity);
		r->st.uidvalidity = r->uidvalidity;
		r->st.last_uid = 0;
		/* A reset stores no message, so it is recorded on its own. */
		rc = sk_index_source_set(ix, &r->st, err);
		if (rc) {
			r->fatal = true;
			return rc;
		}
	}
	return SK_OK;
}

/* An IMAP set from sorted UIDs, consecutive runs as ranges. */
static struct mailimap_set *
uid_set(const struct uid_size *u, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && u[j + 1].uid == u[j].uid + 1)
			j++;
		if (mailimap_set_add_interval(set, u[i].uid, u[j].uid) !=
		    MAILIMAP_NO_ERROR)
			SK_BUG("mailimap_set_add_interval: out of memory");
		i = j + 1;
	}
	return set;
}

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* UIDs above last_uid, ascending. "UID n:*" also matches the highest UID
 * when it is below n, so everything <= last_uid is dropped here. */
static enum sk_status
new_uids(struct imap_run *r, uint32_t **uids_out, size_t *n_out,
         struct sk_err *err)
{
	struct mailimap_search_key *key;
	clist *res = NULL;
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	int e;

	*uids_out = NULL;
	*n_out = 0;
	if (r->st.last_uid >= UINT32_MAX)
		return SK_OK;
	key = mailimap_search_key_new_uid(
	    mailimap_set_new_interval((uint32_t)r->st.last_uid + 1, 0));
	e = mailimap_uid_search(r->imap, NULL, key, &res);
	mailimap_search_key_free(key);
	if (e == MAILIMAP_ERROR_UID_SEARCH) {
		/* The server's trouble, perhaps passing: try again later. */
		sk_err_set(err, SK_EIO, "imap: UID SEARCH refused by %s: %s",
		           r->host, server_said(r));
		r->fatal = false;
		return SK_EIO;
	}
	if (e != MAILIMAP_NO_ERROR)
		return net_error(r, err, "UID SEARCH failed", e);
	for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		if ((int64_t)uid <= r->st.last_uid)
			continue;
		sk_xgrow((void **)&uids, &cap, n + 1, sizeof(*uids));
		uids[n++] = uid;
	}
	mailimap_search_result_free(res);
	if (n > 1)
		qsort(uids, n, sizeof(*uids), cmp_uid);
	/* Servers do not repeat UIDs, but nothing here relies on that. */
	{
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (k == 0 || uids[i] != uids[k - 1])
				uids[k++] = uids[i];
		n = k;
	}
	*uids_out = uids;
	*n_out = n;
	return SK_OK;
}

/* The UID, size and body section of one FETCH response. */
static void
read_att(struct mailimap_msg_att *att, uint32_t *uid, uint32_t *size,
         const char **body, size_t *body_len)
{
	*uid = 0;
	*size = 0;
	*body = NULL;
	*body_len = 0;
	for (clistiter *it = clist_begin(att->att_list); it;
	     it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		struct mailimap_msg_att_static *st;
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			*uid = st->att_data.att_uid;
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			*size = st->att_data.att_rfc822_size;
			break;
		case MAILIMAP_MSG_ATT_BODY_SECTION:
			if (st->att_data.att_body_section &&
			    st->att_data.att_body_section->sec_body_part) {
				*body = st->att_data.att_body_section
				            ->sec_body_part;
				*body_len =
				    st->att_data.att_body_section->sec_length;
			}
			break;
		default:
			break;
		}
	}
}

/* Sizes of u[0..n): "UID FETCH set (UID RFC822.SIZE)". */
static enum sk_status
fetch_sizes(struct imap_run *r, struct uid_size *u, size_t n,
            struct sk_err *err)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set = uid_set(u, n);
	clist *res = NULL;
	int e;

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_rfc822_size());
	e = mailimap_uid_fetch(r->imap, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (e == MAILIMAP_ERROR_UID_FETCH) {
		/* Without sizes, fetch whole messages one by one below:
		 * each is still cut at limits.message_bytes. */
		sk_log(SK_LOG_WARNING,
		       "imap: %s refuses message sizes (%s); fetching "
		       "without them",
		       r->host, server_said(r));
		for (size_t i = 0; i < n; i++)
			u[i].present = u[i].unknown = true;
		return SK_OK;
	}
	if (e != MAILIMAP_NO_ERROR)
		return net_error(r, err, "UID FETCH failed", e);
	for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
		uint32_t uid, size;
		const char *body;
		size_t len;
		struct uid_size *hit = NULL;
		size_t lo = 0, hi = n;

		read_att(clist_content(it), &uid, &size, &body, &len);
		while (lo < hi) { /* u is sorted by UID */
			size_t mid = lo + (hi - lo) / 2;
			if (u[mid].uid < uid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && u[lo].uid == uid)
			hit = &u[lo];
		if (hit) {
			hit->size = size;
			hit->present = true;
		}
	}
	mailimap_fetch_list_free(res);
	return SK_OK;
}

/* Copy an IMAP literal for the pipeline: CRLF line ends become LF (as in
 * Maildir and mbox files, so the same message read from either source has
 * the same bytes), cut at max bytes. */
static char *
copy_message(const char *s, size_t n, uint64_t max, size_t *len_out, bool *cut)
{
	char *out = sk_xmalloc(n + 1);
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;
		out[k++] = s[i];
	}
	if (k > max) {
		k = (size_t)max;
		*cut = true;
	}
	out[k] = '\0';
	*len_out = k;
	return out;
}

static enum sk_status
submit(struct imap_run *r, uint32_t uid, const char *body, size_t len, bool cut,
       struct sk_err *err)
{
	struct sk_ingest_pos pos = {
		.source_id = r->st.id,
		.imap_uidvalidity = r->uidvalidity,
		.imap_uid = uid,
	};
	size_t n;
	char *raw = copy_message(body, len, r->max_bytes, &n, &cut);
	enum sk_status rc =
	    sk_ingest_submit_owned(r->ing, raw, n, cut, &pos, err);
	if (rc) {
		r->fatal = true; /* the store failed, not the server */
		return rc;
	}
	r->st.last_uid = uid;
	r->fetched++;
	if (cut)
		r->truncated++;
	return SK_OK;
}

/* Bodies of u[0..n) in one command; whole, or the first max_bytes when
 * partial. Submits them in UID order. */
static enum sk_status
fetch_bodies(struct imap_run *r, const struct uid_size *u, size_t n,
             bool partial, struct sk_err *err)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set = uid_set(u, n);
	struct mailimap_msg_att **by_pos;
	clist *res = NULL;
	enum sk_status rc = SK_OK;
	int e;

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_uid());
	if (partial)
		mailimap_fetch_type_new_fetch_att_list_add(
		    ft,
		    mailimap_fetch_att_new_body_peek_section_partial(
		        mailimap_section_new(NULL), 0,
		        r->max_bytes > UINT32_MAX ? UINT32_MAX
		                                  : (uint32_t)r->max_bytes));
	else
		mailimap_fetch_type_new_fetch_att_list_add(
		    ft, mailimap_fetch_att_new_body_peek_section(
		            mailimap_section_new(NULL)));
	e = mailimap_uid_fetch(r->imap, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (e == MAILIMAP_ERROR_UID_FETCH) {
		/* NO: some message could not be read. One by one, so that
		 * one broken message does not hold back the others. */
		if (n > 1) {
			for (size_t i = 0; i < n && !rc && !stopping(); i++)
				rc = fetch_bodies(r, &u[i], 1, partial, err);
			return rc;
		}
		sk_log(SK_LOG_ERR,
		       "imap: %s refuses to send UID %u of '%s' (%s); "
		       "skipped",
		       r->host, u[0].uid, r->folder, server_said(r));
		return SK_OK;
	}
	if (e != MAILIMAP_NO_ERROR)
		return net_error(r, err, "UID FETCH failed", e);

	/* Responses come in mailbox order, which is UID order; match them
	 * by UID anyway and ignore unsolicited ones (flag changes). */
	by_pos = sk_xcalloc(n, sizeof(*by_pos));
	for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
		uint32_t uid, size;
		const char *body;
		size_t len;
		read_att(clist_content(it), &uid, &size, &body, &len);
		if (!body)
			continue;
		for (size_t i = 0; i < n; i++)
			if (u[i].uid == uid && !by_pos[i]) {
				by_pos[i] = clist_content(it);
				break;
			}
	}
	for (size_t i = 0; i < n && !rc; i++) {
		uint32_t uid, size;
		const char *body;
		size_t len;
		if (!by_pos[i]) {
			sk_log(SK_LOG_WARNING,
			       "imap: %s did not send UID %u of '%s' "
			       "(expunged meanwhile?); skipped",
			       r->host, u[i].uid, r->folder);
			continue;
		}
		read_att(by_pos[i], &uid, &size, &body, &len);
		rc = submit(r, uid, body, len, partial, err);
	}
	free(by_pos);
	mailimap_fetch_list_free(res);
	return rc;
}

/* Everything above last_uid: sizes first, then bodies in batches bounded
 * in count and bytes; a message over limits.message_bytes is fetched
 * partially (its first message_bytes) and stored flagged as truncated. */
static enum sk_status
catch_up(struct imap_run *r, struct sk_err *err)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	enum sk_status rc;

	rc = new_uids(r, &uids, &n, err);
	if (rc || n == 0) {
		free(uids);
		return rc;
	}
	sk_log(SK_LOG_INFO, "imap: %zu new message%s in '%s' on %s", n,
	       n == 1 ? "" : "s", r->folder, r->host);
	for (size_t off = 0; off < n && !rc && !stopping(); off += SIZE_BATCH) {
		size_t m = n - off < SIZE_BATCH ? n - off : SIZE_BATCH;
		struct uid_size *u = sk_xcalloc(m, sizeof(*u));
		size_t i = 0;

		for (size_t k = 0; k < m; k++)
			u[k].uid = uids[off + k];
		rc = fetch_sizes(r, u, m, err);
		/* Drop expunged UIDs: they will never come back. */
		{
			size_t k = 0;
			for (size_t j = 0; j < m; j++)
				if (u[j].present)
					u[k++] = u[j];
			m = k;
		}
		while (!rc && i < m && !stopping()) {
			size_t j = i;
			uint64_t bytes = 0;

			if (u[i].unknown) {
				rc = fetch_bodies(r, &u[i], 1, false, err);
				i++;
				continue;
			}
			if (u[i].size > r->max_bytes) {
				sk_log(
				    SK_LOG_WARNING,
				    "imap: UID %u of '%s' has %u bytes, over "
				    "limits.message_bytes (%llu): storing "
				    "its first %llu bytes, flagged as "
				    "truncated",
				    u[i].uid, r->folder, u[i].size,
				    (unsigned long long)r->max_bytes,
				    (unsigned long long)r->max_bytes);
				rc = fetch_bodies(r, &u[i], 1, true, err);
				i++;
				continue;
			}
			while (
			    j < m && j - i < BODY_BATCH && !u[j].unknown &&
			    u[j].size <= r->max_bytes &&
			    (j == i || bytes + u[j].size <= BODY_BATCH_BYTES)) {
				bytes += u[j].size;
				j++;
			}
			rc = fetch_bodies(r, &u[i], j - i, false, err);
			i = j;
		}
		free(u);
	}
	free(uids);
	return rc;
}

/* Sleep up to seconds, waking for a stop. */
static void
nap(double seconds)
{
	struct timespec slice = { 0, 200 * 1000 * 1000 };
	for (double t = 0; t < seconds && !stopping(); t += 0.2)
		nanosleep(&slice, NULL);
}

/* Without IDLE: wait POLL_SECONDS, then NOOP (to notice a dead link). */
static enum sk_status
poll_wait(struct imap_run *r, struct sk_err *err)
{
	int e;
	for (int t = 0; t < POLL_SECONDS && !stopping(); t++) {
		enum sk_status rc;
		nap(1);
		rc = sk_ingest_idle(r->ing, err);
		if (rc) {
			r->fatal = true;
			return rc;
		}
	}
	if (stopping())
		return SK_OK;
	e = mailimap_noop(r->imap);
	if (e != MAILIMAP_NO_ERROR)
		return net_error(r, err, "NOOP failed", e);
	return SK_OK;
}

/* IDLE until the server says something, idle_seconds pass, or a stop is
 * requested; then DONE. Returns SK_OK in all three cases. */
static enum sk_status
idle_wait(struct imap_run *r, struct sk_err *err)
{
	mailstream *s = r->imap->imap_stream;
	time_t deadline = time(NULL) + r->idle_seconds;
	enum sk_status rc = SK_OK;
	int e;

	if (mailstream_setup_idle(s) < 0)
		return net_error(r, err, "IDLE set-up failed", 0);
	e = mailimap_idle(r->imap);
	if (e != MAILIMAP_NO_ERROR) {
		/* libetpan 1.9.4 hangs (until the timeout) or fails when
		 * untagged data precedes "+ idling" (dinhvh/libetpan#393).
		 * After two such failures this server is polled instead. */
		mailstream_unsetup_idle(s);
		r->idle_failures++;
		return net_error(r, err, "IDLE failed", e);
	}
	r->idle_failures = 0;
	for (;;) {
		if (stopping())
			break;
		/* Bytes libetpan already read are invisible to the poll
		 * inside mailstream_wait_idle(). */
		if (s->read_buffer_len > 0)
			break;
		e = mailstream_wait_idle(s, IDLE_SLICE);
		if (e == MAILSTREAM_IDLE_HASDATA ||
		    e == MAILSTREAM_IDLE_INTERRUPTED ||
		    e == MAILSTREAM_IDLE_CANCELLED)
			break;
		if (e == MAILSTREAM_IDLE_ERROR) {
			if (stopping()) /* a signal interrupted the poll */
				break;
			mailstream_unsetup_idle(s);
			return net_error(r, err, "waiting in IDLE failed",
			                 MAILIMAP_ERROR_STREAM);
		}
		/* MAILSTREAM_IDLE_TIMEOUT: one slice passed. */
		rc = sk_ingest_idle(r->ing, err);
		if (rc) {
			r->fatal = true;
			break;
		}
		if (time(NULL) >= deadline)
			break;
	}
	if (stopping())
		mailstream_low_set_timeout(mailstream_get_low(s), STOP_TIMEOUT);
	e = mailimap_idle_done(r->imap);
	mailstream_unsetup_idle(s);
	if (e != MAILIMAP_NO_ERROR && !rc && !stopping())
		return net_error(r, err, "ending IDLE failed", e);
	return rc;
}

/* One connection: connect, verify, log in, open the folder, catch up,
 * then (watch) wait for news and catch up again until stopped. */
static enum sk_status
session(struct imap_run *r, bool watch, struct sk_err *err)
{
	bool preauth;
	enum sk_status rc;

	r->selected = false;
	r->untrusted = false;
	rc = connect_verified(r, &preauth, err);
	if (!rc && !preauth)
		rc = login(r, err);
	if (!rc)
		rc = open_folder(r, err);
	while (!rc && !stopping()) {
		rc = catch_up(r, err);
		if (rc || !watch || stopping())
			break;
		/* Commit what arrived before going quiet. */
		rc = sk_ingest_flush(r->ing, err);
		if (rc) {
			r->fatal = true;
			break;
		}
		if (mailimap_has_idle(r->imap) && r->idle_failures < 2)
			rc = idle_wait(r, err);
		else
			rc = poll_wait(r, err);
	}
	/* Log out politely unless the link itself failed. */
	disconnect(r, (!rc || r->fatal) && !r->untrusted);
	return rc;
}

/* A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): "Wysłane" is
 * "Wys&AUI-ane" on the wire. Pure ASCII is taken as already encoded. */
static char *
folder_mutf7(const char *s)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	                          "opqrstuvwxyz0123456789+,";
	size_t n = strlen(s), i = 0;
	struct sk_buf b;
	bool ascii = true;

	for (size_t k = 0; k < n; k++)
		if ((unsigned char)s[k] >= 0x80)
			ascii = false;
	if (ascii || !sk_utf8_valid(s, n))
		return sk_xstrdup(s);
	sk_buf_init(&b, 4 * n + 16);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		uint32_t acc = 0;
		unsigned bits = 0;

		if (c >= 0x20 && c < 0x7f) {
			sk_buf_adds(&b,
			            c == '&' ? "&-" : (char[]){ (char)c, 0 });
			i++;
			continue;
		}
		sk_buf_addc(&b, '&');
		while (i < n && !((unsigned char)s[i] >= 0x20 &&
		                  (unsigned char)s[i] < 0x7f)) {
			uint32_t cp, units[2];
			size_t nu = 1;
			i += sk_utf8_next(s + i, n - i, &cp);
			units[0] = cp;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				units[0] = 0xD800 + (cp >> 10);
				units[1] = 0xDC00 + (cp & 0x3FF);
				nu = 2;
			}
			for (size_t k = 0; k < nu; k++) {
				acc = acc << 16 | units[k];
				bits += 16;
				while (bits >= 6) {
					bits -= 6;
					sk_buf_addc(&b,
					            b64[(acc >> bits) & 63]);
				}
				acc &= (1u << bits) - 1;
			}
		}
		if (bits)
			sk_buf_addc(&b, b64[(acc << (6 - bits)) & 63]);
		sk_buf_addc(&b, '-');
	}
	{
		char *out = sk_buf_take(&b, NULL);
		sk_buf_release(&b);
		return out;
	}
}

/* "[::1]" is how people write an IPv6 host; getaddrinfo() wants "::1". */
static char *
unbracket(const char *host)
{
	size_t n;
	if (!host)
		return NULL;
	n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']')
		return sk_xstrndup(host + 1, n - 2);
	return sk_xstrdup(host);
}

static enum sk_status
run_init(struct imap_run *r, struct sk_ingest *ing, const struct sk_config *cfg,
         struct sk_err *err)
{
	struct sk_limits lim = sk_limits_effective(sk_ingest_limits(ing));
	struct sk_buf loc;
	enum sk_status rc;

	memset(r, 0, sizeof(*r));
	r->ing = ing;
	r->host = r->host_buf = unbracket(cfg->imap.host);
	r->user = cfg->imap.user;
	r->folder =
	    cfg->imap.folder && *cfg->imap.folder ? cfg->imap.folder : "INBOX";
	r->folder_wire = folder_mutf7(r->folder);
	r->ca_file = cfg->imap.ca_file;
	r->pin = cfg->imap.pin_sha256;
	r->tls =
	    cfg->imap.tls == SK_TLS_DEFAULT ? SK_TLS_IMPLICIT : cfg->imap.tls;
	r->max_bytes = lim.message_bytes;
	if (!r->host || !*r->host)
		return sk_err_set(err, SK_EINVAL, "imap: imap.host is not set");
	if (!r->user || !*r->user)
		return sk_err_set(err, SK_EINVAL, "imap: imap.user is not set");
	if (!cfg->imap.password_file || !*cfg->imap.password_file)
		return sk_err_set(err, SK_EINVAL,
		                  "imap: imap.password_file is not set");
	if (r->tls == SK_TLS_NONE && !sk_host_is_loopback(r->host) &&
	    !cfg->imap.allow_plaintext)
		return sk_err_set(err, SK_EINVAL,
		                  "imap: tls = none would send the password "
		                  "in clear text to '%s'; use tls = imaps or "
		                  "starttls, or set imap.allow_plaintext = "
		                  "true",
		                  r->host);

	if (r->tls == SK_TLS_NONE && !sk_host_is_loopback(r->host))
		sk_log(SK_LOG_WARNING,
		       "imap: sending the password for '%s' to '%s' in clear "
		       "text (imap.allow_plaintext = true)",
		       r->user, r->host);

	r->port = (uint16_t)cfg->imap.port;
	if (r->port == 0)
		r->port = r->tls == SK_TLS_IMPLICIT ? 993 : 143;
	else if (r->port == 993 && r->tls != SK_TLS_IMPLICIT) {
		/* 993 is the configuration's default; nobody runs
		 * STARTTLS or clear text there. */
		sk_log(SK_LOG_NOTICE,
		       "imap: port 993 is for implicit TLS; "
		       "using 143 for tls = %s",
		       r->tls == SK_TLS_STARTTLS ? "starttls" : "none");
		r->port = 143;
	}

	r->idle_seconds = cfg->imap.idle_seconds
	                      ? (unsigned)cfg->imap.idle_seconds
	                      : IDLE_DEFAULT;
	if (cfg->imap.idle_seconds > IDLE_MAX)
		r->idle_seconds = IDLE_MAX;

	rc = sk_read_secret_file(cfg->imap.password_file, &r->password, err);
	if (rc)
		return sk_err_wrap(err, "imap: imap.password_file");

	/* The source is the mailbox, whatever the transport. */
	sk_buf_init(&loc, 4096);
	sk_buf_adds(&loc, "imap://");
	sk_buf_add_url(&loc, r->user, strlen(r->user));
	sk_buf_addc(&loc, '@');
	{
		char *host = sk_ascii_lower(sk_xstrdup(r->host));
		sk_buf_adds(&loc, host);
		free(host);
	}
	sk_buf_addc(&loc, '/');
	sk_buf_adds(&loc, r->folder);
	if (sk_buf_status(&loc)) {
		sk_buf_release(&loc);
		return sk_err_set(err, SK_EINVAL, "imap: settings too long");
	}
	r->location = sk_buf_take(&loc, NULL);
	sk_buf_release(&loc);
	return SK_OK;
}

static void
run_release(struct imap_run *r)
{
	if (r->password) {
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	free(r->location);
	free(r->host_buf);
	free(r->folder_wire);
	r->folder_wire = NULL;
	r->password = NULL;
	r->location = NULL;
	r->host_buf = NULL;
}

/* A write to a socket the server closed must become an error, not a
 * SIGPIPE that kills the run. When the caller left SIGPIPE at its default,
 * it is ignored from here on (process-wide: nothing in Skarbnica wants the
 * default). */
static void
ignore_sigpipe(void)
{
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

enum sk_status
sk_ingest_imap(struct sk_ingest *ing, const struct sk_config *cfg, bool watch,
               struct sk_err *err_out)
{
	struct imap_run r;
	struct sk_err e = { 0 }, *err = &e;
	enum sk_status rc;
	unsigned backoff = 0;

	rc = run_init(&r, ing, cfg, err);
	if (rc) {
		run_release(&r);
		if (err_out)
			*err_out = e;
		return rc;
	}
	ignore_sigpipe();
	for (;;) {
		time_t started = time(NULL);
		unsigned delay;

		rc = session(&r, watch, err);
		if (!rc || stopping())
			break;
		if (!watch || r.fatal)
			break;
		if (r.selected && time(NULL) - started >= STABLE_SESSION)
			backoff = 0;
		backoff = backoff ? backoff * 2 : BACKOFF_MIN;
		if (backoff > BACKOFF_MAX)
			backoff = BACKOFF_MAX;
		/* Jitter: between half and all of the delay, so that many
		 * clients of one server do not come back together. */
		delay = backoff > 1
		            ? backoff / 2 + arc4random_uniform(backoff / 2 + 1)
		            : backoff;
		sk_log(SK_LOG_WARNING, "%s; reconnecting in %u s", err->msg,
		       delay);
		nap(delay);
		if (stopping())
			break;
	}
	if (stopping() && rc && !r.fatal)
		rc = SK_OK; /* a stop during a network wait is a stop */
	{
		/* Commit what was fetched, whatever happened after it. */
		struct sk_err ferr = { 0 };
		enum sk_status frc = sk_ingest_flush(ing, &ferr);
		if (!rc && frc) {
			rc = frc;
			e = ferr;
		}
	}
	if (r.fetched || !rc)
		sk_log(SK_LOG_INFO,
		       "imap: %lld message%s fetched from '%s' on %s%s",
		       (long long)r.fetched, r.fetched == 1 ? "" : "s",
		       r.folder, r.host,
		       r.truncated ? " (some truncated, see above)" : "");
	run_release(&r);
	if (rc && err_out)
		*err_out = e;
	return rc;
}
