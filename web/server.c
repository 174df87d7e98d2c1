/* web/server.c: the libmicrohttpd glue and nothing else — the daemon, the
 * per-request context, reading POST bodies with our own caps, one store
 * handle per worker thread, signals. What to answer is sk_web_route()'s
 * business (route.c); this file never builds a page. */
#include "web/private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_THREADS 2
#define DEFAULT_CONNECTIONS 256
#define DEFAULT_TIMEOUT 30
#define DEFAULT_REQUEST_BYTES (1u << 20)
#define CONNECTION_MEMORY (128u << 10) /* headers + MHD buffers */
#define POST_BUFFER (16u << 10)
#define REOPEN_SECONDS 5 /* after a failed open, try again this late */

struct sk_web {
	struct MHD_Daemon *d;
	char *data_dir;
	char *listen, *base_url; /* owned copies behind set */
	struct sk_web_settings set;
	struct sk_web_state *state;
	pthread_key_t ix_key;
	uint16_t port;
};

/* Per request, made by the URI-log callback (the first MHD calls us) and
 * freed in NOTIFY_COMPLETED. */
struct field {
	char *name;
	struct sk_buf value;
	bool file; /* an upload (value holds its bytes) */
	char *filename, *content_type;
};

struct sk_reqctx {
	struct sk_web *web;
	struct sk_arena *a;
	char *target; /* raw request target */
	struct timespec start;
	char client[INET6_ADDRSTRLEN];
	bool started;
	struct MHD_PostProcessor *pp;
	struct field *fields;
	size_t n_fields, cap_fields;
	uint64_t body_bytes;
	uint64_t file_bytes; /* of all uploads so far */
	size_t n_files;
	int body_status;
	int status; /* answered with; 0 = none */
	const char *route;
};

/* ---- settings ------------------------------------------------------------ */

void
sk_web_settings_from_config(struct sk_web_settings *s,
                            const struct sk_config *c)
{
	memset(s, 0, sizeof(*s));
	s->listen = c->web.listen;
	s->public_mode = c->web.public_mode;
	s->base_url = c->web.base_url;
	s->threads = c->web.threads > 64 ? 64 : (unsigned)c->web.threads;
	s->max_connections = c->web.max_connections > 100000
	                         ? 100000
	                         : (unsigned)c->web.max_connections;
	s->request_bytes = (size_t)c->web.request_bytes;
	if (c->search.backend)
		(void)sk_backend_parse(c->search.backend, &s->backend);
}

/* ---- one store handle per worker thread ---------------------------------- */

struct thread_ix {
	struct sk_index *ix;
	time_t next_try;
};

static void
thread_ix_free(void *p)
{
	struct thread_ix *t = p;
	sk_index_close(&t->ix);
	free(t);
}

/* The calling thread's read handle, opened at its first request; NULL while
 * the store cannot be opened (retried every few seconds). */
static struct sk_index *
thread_index(struct sk_web *web, time_t now)
{
	struct thread_ix *t = pthread_getspecific(web->ix_key);
	struct sk_err err = { 0 };
	unsigned flags = 0;

	if (!t) {
		t = sk_xcalloc(1, sizeof(*t));
		if (pthread_setspecific(web->ix_key, t) != 0)
			SK_BUG("pthread_setspecific failed");
	}
	if (t->ix || now < t->next_try)
		return t->ix;
	if (web->set.backend == SK_BACKEND_FTS5)
		flags |= SK_INDEX_NO_XAPIAN;
	if (sk_index_open(web->data_dir, flags, &t->ix, &err) != SK_OK) {
		sk_log(SK_LOG_ERR, "web: cannot open the store in '%s': %s",
		       web->data_dir, err.msg);
		t->next_try = now + REOPEN_SECONDS;
		t->ix = NULL;
	}
	return t->ix;
}

/* ---- the request context ------------------------------------------------- */

static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct sk_reqctx *rc = sk_xcalloc(1, sizeof(*rc));
	const union MHD_ConnectionInfo *ci;

	rc->web = cls;
	clock_gettime(CLOCK_MONOTONIC, &rc->start);
	rc->a = sk_arena_new(0);
	rc->target = sk_arena_strdup(rc->a, uri ? uri : "");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(
			    AF_INET,
			    &((const struct sockaddr_in *)(const void *)sa)
			         ->sin_addr,
			    rc->client, sizeof(rc->client));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(
			    AF_INET6,
			    &((const struct sockaddr_in6 *)(const void *)sa)
			         ->sin6_addr,
			    rc->client, sizeof(rc->client));
	}
	return rc;
}

static void
completed(void *cls, struct MHD_Connection *conn, void **req_cls,
          enum MHD_RequestTerminationCode toe)
{
	struct sk_reqctx *rc = *req_cls;
	struct timespec end;

	(void)cls;
	(void)conn;
	if (!rc)
		return;
	if (rc->status) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		double secs = (double)(end.tv_sec - rc->start.tv_sec) +
		              (double)(end.tv_nsec - rc->start.tv_nsec) / 1e9;
		sk_web_state_record(rc->web->state, rc->route, rc->status,
		                    secs);
		if (sk_log_enabled(SK_LOG_DEBUG))
			sk_log(SK_LOG_DEBUG, "web: %s %d %.1f ms%s", rc->route,
			       rc->status, secs * 1e3,
			       toe == MHD_REQUEST_TERMINATED_COMPLETED_OK
			           ? ""
			           : " (not completed)");
	}
	if (rc->pp)
		MHD_destroy_post_processor(rc->pp);
	for (size_t i = 0; i < rc->n_fields; i++)
		sk_buf_release(&rc->fields[i].value);
	free(rc->fields);
	sk_arena_free(&rc->a);
	free(rc);
	*req_cls = NULL;
}

/* ---- POST bodies --------------------------------------------------------- */

static void
body_refuse(struct sk_reqctx *rc, int status)
{
	if (!rc->body_status)
		rc->body_status = status;
}

/* Called many times per field (off grows): append, with our caps. */
static enum MHD_Result
post_iter(void *cls, enum MHD_ValueKind kind, const char *key,
          const char *filename, const char *content_type,
          const char *transfer_encoding, const char *data, uint64_t off,
          size_t size)
{
	struct sk_reqctx *rc = cls;
	struct field *f;

	(void)kind;
	(void)transfer_encoding;
	if (rc->body_status)
		return MHD_NO;
	if (off == 0 || rc->n_fields == 0 ||
	    strcmp(rc->fields[rc->n_fields - 1].name, key) != 0 ||
	    (filename != NULL) != rc->fields[rc->n_fields - 1].file) {
		size_t cap = SK_WEB_FORM_FIELD_MAX;
		if (rc->n_fields == SK_WEB_FORM_FIELDS_MAX) {
			body_refuse(rc, 413);
			return MHD_NO;
		}
		if (filename) {
			/* Our own caps: per file, and (below) in total. */
			cap = SK_WEB_UPLOAD_FILE_MAX;
			if (cap > rc->web->set.request_bytes)
				cap = rc->web->set.request_bytes;
			if (++rc->n_files > SK_WEB_UPLOAD_FILES_MAX) {
				body_refuse(rc, 413);
				return MHD_NO;
			}
		}
		sk_xgrow((void **)&rc->fields, &rc->cap_fields,
		         rc->n_fields + 1, sizeof(*rc->fields));
		f = &rc->fields[rc->n_fields++];
		memset(f, 0, sizeof(*f));
		f->name = sk_arena_strdup(rc->a, key ? key : "");
		sk_buf_init(&f->value, cap);
		f->file = filename != NULL;
		if (filename)
			f->filename = sk_arena_strdup(rc->a, filename);
		if (filename && content_type)
			f->content_type = sk_arena_strdup(rc->a, content_type);
	}
	f = &rc->fields[rc->n_fields - 1];
	if (f->file) {
		rc->file_bytes += size;
		if (rc->file_bytes > rc->web->set.request_bytes) {
			body_refuse(rc, 413);
			return MHD_NO;
		}
	}
	sk_buf_add(&f->value, data, size);
	if (sk_buf_status(&f->value)) {
		body_refuse(rc, 413);
		return MHD_NO;
	}
	return MHD_YES;
}

/* First call for a request: look at the headers of a body before any of
 * it arrives. */
static void
body_begin(struct sk_web *web, struct MHD_Connection *conn,
           struct sk_reqctx *rc, const char *method)
{
	const char *cl = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *ct = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	int64_t len = 0;

	if (cl && sk_parse_i64(cl, 0, INT64_MAX, &len, NULL) == SK_OK &&
	    (uint64_t)len > web->set.request_bytes) {
		body_refuse(rc, 413);
		return;
	}
	if (strcmp(method, "POST") != 0 || !ct)
		return;
	rc->pp = MHD_create_post_processor(conn, POST_BUFFER, post_iter, rc);
	if (!rc->pp && len > 0)
		body_refuse(rc, 415);
}

/* ---- answering ----------------------------------------------------------- */

static enum sk_method
method_of(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return SK_METHOD_GET;
	if (strcmp(m, "HEAD") == 0)
		return SK_METHOD_HEAD;
	if (strcmp(m, "POST") == 0)
		return SK_METHOD_POST;
	return SK_METHOD_OTHER;
}

static enum MHD_Result
respond(struct sk_web *web, struct MHD_Connection *conn, struct sk_reqctx *rc,
        const char *method)
{
	struct sk_req req = { 0 };
	struct sk_resp resp;
	struct sk_param *form = NULL;
	struct sk_upload *files = NULL;
	size_t n_form = 0, n_files = 0;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *body;
	size_t len;

	if (rc->pp) {
		/* MHD_NO: the body ended in the middle of a field. */
		enum MHD_Result ok = MHD_destroy_post_processor(rc->pp);
		rc->pp = NULL;
		if (ok != MHD_YES)
			body_refuse(rc, 400);
	}
	if (rc->n_fields) {
		form = sk_arena_alloc(rc->a, rc->n_fields * sizeof(*form));
		files = sk_arena_alloc(rc->a, rc->n_fields * sizeof(*files));
	}
	for (size_t i = 0; i < rc->n_fields; i++) {
		struct field *f = &rc->fields[i];
		if (f->file) {
			/* No file chosen: an empty part with no name. */
			if (!f->value.len && !*f->filename)
				continue;
			files[n_files].field = f->name;
			files[n_files].filename = f->filename;
			files[n_files].content_type = f->content_type;
			files[n_files].data = f->value.p;
			files[n_files].size = f->value.len;
			n_files++;
			continue;
		}
		if (!sk_utf8_valid(f->value.p, f->value.len) ||
		    strlen(f->value.p) != f->value.len)
			body_refuse(rc, 400);
		form[n_form].name = f->name;
		form[n_form].value = f->value.p;
		n_form++;
	}

	req.method = method_of(method);
	req.method_name = method;
	req.target = rc->target;
	req.cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                         MHD_HTTP_HEADER_COOKIE);
	req.host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                       MHD_HTTP_HEADER_HOST);
	req.origin =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	req.client = rc->client[0] ? rc->client : NULL;
	req.form = form;
	req.n_form = n_form;
	req.files = files;
	req.n_files = n_files;
	req.data_dir = web->data_dir;
	req.body_status = rc->body_status;
	req.now = time(NULL);
	req.ix = thread_index(web, req.now);
	req.settings = &web->set;
	req.state = web->state;

	sk_resp_init(&resp);
	sk_web_route(&req, rc->a, &resp);
	rc->status = resp.status;
	rc->route = resp.route;

	/* Take the buffer first: len must not be read in the same call. */
	body = sk_buf_take(&resp.body, &len);
	r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (!r) {
		free(body);
		sk_resp_release(&resp);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        resp.content_type);
	for (size_t i = 0; i < resp.n_headers; i++) {
		if (MHD_add_response_header(r, resp.headers[i].name,
		                            resp.headers[i].value) != MHD_YES)
			sk_log(SK_LOG_WARNING, "web: header '%s' refused",
			       resp.headers[i].name);
	}
	ret = MHD_queue_response(conn, (unsigned)resp.status, r);
	MHD_destroy_response(r);
	sk_resp_release(&resp);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
       const char *method, const char *version, const char *upload,
       size_t *upload_size, void **req_cls)
{
	struct sk_web *web = cls;
	struct sk_reqctx *rc = *req_cls;

	(void)url; /* decoded by MHD; we parse rc->target ourselves */
	(void)version;
	if (!rc)
		return MHD_NO; /* the URI-log callback always makes one */
	if (!rc->started) {
		rc->started = true;
		body_begin(web, conn, rc, method);
		/* Refuse an oversized body before reading it. */
		if (rc->body_status == 413)
			return respond(web, conn, rc, method);
		return MHD_YES;
	}
	if (*upload_size) {
		rc->body_bytes += *upload_size;
		if (rc->body_bytes > web->set.request_bytes)
			body_refuse(rc, 413);
		else if (rc->pp && !rc->body_status &&
		         MHD_post_process(rc->pp, upload, *upload_size) !=
		             MHD_YES)
			body_refuse(rc, 400);
		*upload_size = 0;
		return MHD_YES;
	}
	return respond(web, conn, rc, method);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	sk_log(SK_LOG_WARNING, "web: microhttpd: %s", msg);
}

/* ---- start and stop ------------------------------------------------------ */

/* "HOST:PORT", "[V6]:PORT" or ":PORT" into a socket address. */
static enum sk_status
parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
             bool *v6, struct sk_err *err)
{
	char host[256];
	const char *port, *colon;
	struct addrinfo hints = { 0 }, *res = NULL;
	size_t hl;
	int64_t pnum;
	int e;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		if (!end || end[1] != ':')
			return sk_err_set(err, SK_EINVAL,
			                  "bad listen address '%s'", listen);
		hl = (size_t)(end - listen - 1);
		if (hl >= sizeof(host))
			return sk_err_set(err, SK_EINVAL,
			                  "bad listen address '%s'", listen);
		memcpy(host, listen + 1, hl);
		port = end + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return sk_err_set(err, SK_EINVAL,
			                  "listen address '%s' has no port",
			                  listen);
		hl = (size_t)(colon - listen);
		if (hl >= sizeof(host))
			return sk_err_set(err, SK_EINVAL,
			                  "bad listen address '%s'", listen);
		memcpy(host, listen, hl);
		port = colon + 1;
	}
	host[hl] = '\0';
	if (sk_parse_i64(port, 0, 65535, &pnum, NULL) != SK_OK)
		return sk_err_set(err, SK_EINVAL, "bad port in '%s'", listen);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	e = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (e != 0 || !res)
		return sk_err_set(err, SK_EINVAL, "cannot resolve '%s': %s",
		                  listen, gai_strerror(e));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return SK_OK;
}

enum sk_status
sk_web_start(const char *data_dir, const struct sk_web_settings *s,
             struct sk_web **web_out, struct sk_err *err)
{
	struct sk_web *web;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	bool v6 = false;
	unsigned flags;
	const union MHD_DaemonInfo *info;
	enum sk_status rc;

	*web_out = NULL;
	web = sk_xcalloc(1, sizeof(*web));
	web->set = *s;
	web->data_dir = sk_xstrdup(data_dir);
	web->listen =
	    sk_xstrdup(s->listen && *s->listen ? s->listen : DEFAULT_LISTEN);
	web->set.listen = web->listen;
	if (s->base_url && *s->base_url) {
		size_t n = strlen(s->base_url);
		while (n > 0 && s->base_url[n - 1] == '/')
			n--;
		web->base_url = sk_xstrndup(s->base_url, n);
		web->set.base_url = web->base_url;
	}
	if (!web->set.threads)
		web->set.threads = DEFAULT_THREADS;
	if (!web->set.max_connections)
		web->set.max_connections = DEFAULT_CONNECTIONS;
	if (web->set.max_connections < web->set.threads)
		web->set.max_connections = web->set.threads;
	if (!web->set.timeout_seconds)
		web->set.timeout_seconds = DEFAULT_TIMEOUT;
	if (!web->set.request_bytes)
		web->set.request_bytes = DEFAULT_REQUEST_BYTES;

	rc = parse_listen(web->listen, &ss, &sslen, &v6, err);
	if (rc) {
		sk_web_stop(&web);
		return rc;
	}
	/* MHD sends with MSG_NOSIGNAL where it can; where it cannot, a
	 * client closing early must not kill us (sk_web_serve ignores
	 * SIGPIPE in any case). */
	if (MHD_is_feature_supported(MHD_FEATURE_AUTOSUPPRESS_SIGPIPE) !=
	    MHD_YES) {
		struct sigaction ign = { 0 };
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(SIGPIPE, &ign, NULL);
	}
	if (pthread_key_create(&web->ix_key, thread_ix_free) != 0)
		SK_BUG("pthread_key_create failed");
	web->state = sk_web_state_new();

	flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	/* The logger first, so MHD reports problems with the rest through
	 * it. The URI-log callback sees the raw target before MHD decodes
	 * it, which is what lets a Message-ID hold an encoded '/'. */
	web->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, web, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, web->set.threads,
	    MHD_OPTION_CONNECTION_LIMIT, web->set.max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, web->set.per_ip_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, web->set.timeout_seconds,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_log, web,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, web, MHD_OPTION_END);
	if (!web->d) {
		int e = errno;
		sk_web_stop(&web);
		return sk_err_set(err, SK_EIO, "cannot listen on '%s': %s",
		                  s->listen && *s->listen ? s->listen
		                                          : DEFAULT_LISTEN,
		                  e ? strerror(e) : "microhttpd failed");
	}
	info = MHD_get_daemon_info(web->d, MHD_DAEMON_INFO_BIND_PORT);
	web->port = info ? info->port : 0;
	*web_out = web;
	return SK_OK;
}

uint16_t
sk_web_port(const struct sk_web *web)
{
	return web->port;
}

void
sk_web_stop(struct sk_web **webp)
{
	struct sk_web *web = *webp;

	if (!web)
		return;
	if (web->d) {
		/* Joins the worker threads: their handles close at exit. */
		MHD_stop_daemon(web->d);
		pthread_key_delete(web->ix_key);
	}
	sk_web_state_free(&web->state);
	free(web->data_dir);
	free(web->listen);
	free(web->base_url);
	free(web);
	*webp = NULL;
}

enum sk_status
sk_web_serve(const char *data_dir, const struct sk_web_settings *s,
             struct sk_err *err)
{
	struct sk_web *web;
	sigset_t set, old;
	struct sigaction ign = { 0 };
	enum sk_status rc;
	int sig = 0;

	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, NULL);
	/* Blocked before the daemon starts, so its threads inherit the mask
	 * and sigwait() below gets the signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	rc = sk_web_start(data_dir, s, &web, err);
	if (rc) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return rc;
	}
	sk_log(SK_LOG_NOTICE, "web: serving '%s' on %s (port %u)%s", data_dir,
	       web->listen, (unsigned)web->port,
	       web->set.public_mode ? ", public mode" : "");
	while (sigwait(&set, &sig) != 0)
		;
	sk_log(SK_LOG_NOTICE, "web: %s received, stopping",
	       sig == SIGINT ? "SIGINT" : "SIGTERM");
	sk_web_stop(&web);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return SK_OK;
}
