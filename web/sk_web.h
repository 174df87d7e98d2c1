/* web/sk_web.h: the web front end — an HTTP server (libmicrohttpd) over a
 * pure routing function that turns one request into one response.
 *
 * The only header other modules include from web/. No libmicrohttpd type
 * appears here: cmd/ starts the server with sk_web_serve(), tests call
 * sk_web_route() without any socket, or sk_web_start() on 127.0.0.1:0. */
#ifndef SK_WEB_H
#define SK_WEB_H

#include "lib/sk_base.h"
#include "index/sk_index.h"

SK_BEGIN_DECLS

/* ---- settings ------------------------------------------------------------ */

/* What the server needs from the configuration. 0 or NULL means "default".
 * sk_web_start() copies the struct and its strings. */
struct sk_web_settings {
	/* "HOST:PORT" or "[V6]:PORT"; NULL = 127.0.0.1:8080; port 0 = any
	 * free port (read it back with sk_web_port()). */
	const char *listen;
	/* Threads and messages readable without login, e-mail addresses
	 * hidden. */
	bool public_mode;
	/* "https://praktyki.example" (no final '/'): absolute links in feeds
	 * and the Origin check; https makes the session cookie Secure. NULL =
	 * taken from the Host header. */
	const char *base_url;
	unsigned threads;            /* MHD worker threads; 0 = 2 */
	unsigned max_connections;    /* 0 = 256 */
	unsigned per_ip_connections; /* 0 = no limit (behind a proxy every
	                                client is 127.0.0.1) */
	unsigned timeout_seconds;    /* idle connection timeout; 0 = 30 */
	size_t request_bytes;        /* cap on a request body; 0 = 1 MiB */
	enum sk_backend backend;     /* DEFAULT: Xapian when present */
	/* Mail composers from mailer/ (web/ cannot include it; cmd/ sets
	 * them): the quarterly note (sk_mail_note_compose) and the login
	 * link (sk_mail_login_compose), each with a const struct
	 * sk_mail_settings * as ctx (borrowed, must outlive the server).
	 * NULL: the note form and "Wyślij link" say they are unavailable. */
	sk_note_compose_fn *note_compose;
	void *note_compose_ctx;
	sk_login_compose_fn *login_compose;
	void *login_compose_ctx;
};

/* Fill s from c (strings borrowed from c). */
void sk_web_settings_from_config(struct sk_web_settings *s,
                                 const struct sk_config *c);

/* ---- the server ---------------------------------------------------------- */

struct sk_web;

/* Start serving the data directory data_dir with settings s (copied; its
 * strings are copied too). Each MHD worker thread opens its own read handle
 * on the store lazily, at its first request. Returns when the socket is
 * listening. SK_EINVAL: bad listen address; SK_EIO: cannot bind or start. */
enum sk_status sk_web_start(const char *data_dir,
                            const struct sk_web_settings *s,
                            struct sk_web **web_out, struct sk_err *err);
/* The port actually bound (useful with port 0). */
uint16_t sk_web_port(const struct sk_web *web);
/* Stop accepting, finish running requests, close every handle. Sets *web
 * to NULL; no failure mode. */
void sk_web_stop(struct sk_web **web);

/* Start, log the address, run until SIGINT or SIGTERM, then stop. Blocks
 * both signals in the calling thread (and so in the server's threads) and
 * waits for them with sigwait(); SIGPIPE is ignored process-wide. Errors as
 * sk_web_start(). */
enum sk_status sk_web_serve(const char *data_dir,
                            const struct sk_web_settings *s,
                            struct sk_err *err);

/* ---- one request, one response (pure: no sockets) ------------------------ */

enum sk_method {
	SK_METHOD_OTHER = 0,
	SK_METHOD_GET,
	SK_METHOD_HEAD,
	SK_METHOD_POST,
};

/* A decoded form field (POST body). */
struct sk_param {
	const char *name;
	const char *value;
};

/* A file from a multipart/form-data POST (an <input type="file">). Files
 * are capped per file (SK_WEB_UPLOAD_FILE_MAX, at most request_bytes) and
 * in total (request_bytes); a field with no file chosen is left out. */
struct sk_upload {
	const char *field;        /* the form field's name */
	const char *filename;     /* as sent (may hold a path: clean it) */
	const char *content_type; /* as sent, or NULL */
	const void *data;
	size_t size;
};

/* Process-wide state shared by every request: request metrics and the
 * login throttle. Thread-safe. */
struct sk_web_state;
struct sk_web_state *sk_web_state_new(void);
void sk_web_state_free(struct sk_web_state **st);
/* Count one finished request for /metrics. route is a static label. */
void sk_web_state_record(struct sk_web_state *st, const char *route, int status,
                         double seconds);

struct sk_req {
	enum sk_method method;
	const char *method_name; /* as received, for logs; may be NULL */
	const char *target;      /* request target exactly as received, still
	                            percent-encoded: "/szukaj?q=a%20b" */
	const char *cookie;      /* the Cookie header, or NULL */
	const char *host;        /* the Host header, or NULL */
	const char *origin;      /* the Origin header, or NULL */
	const char *client;      /* peer address (throttling, logs) or NULL */
	const struct sk_param *form; /* POST fields, decoded, in order */
	size_t n_form;
	const struct sk_upload *files; /* POST files, in order */
	size_t n_files;
	int body_status; /* 0, or 413/415/400 when the body was
	                    refused (the route answers with it) */
	time_t now;
	struct sk_index *ix; /* the thread's read handle; NULL when the
	                        store cannot be opened (pages say 503) */
	const char *data_dir; /* for the writable handle a POST that
	                         writes opens (SK_INDEX_WRITE |
	                         SK_INDEX_NO_XAPIAN); NULL: such POSTs
	                         answer 503 */
	const struct sk_web_settings *settings;
	struct sk_web_state *state; /* may be NULL (no metrics, no throttle) */
};

#define SK_RESP_MAX_HEADERS 16

struct sk_header {
	const char *name, *value; /* static or from the request's arena */
};

struct sk_resp {
	int status;
	const char *content_type;
	struct sk_buf body; /* the caller takes it (sk_buf_take) or
	                       releases it with sk_resp_release() */
	struct sk_header headers[SK_RESP_MAX_HEADERS];
	size_t n_headers;
	const char *route; /* metrics label, a static string */
};

void sk_resp_init(struct sk_resp *r);
void sk_resp_release(struct sk_resp *r);
/* The value of header name in r (ASCII case-insensitive), or NULL. */
const char *sk_resp_header(const struct sk_resp *r, const char *name);

/* Answer one request. Everything the answer needs is allocated from a
 * (which the caller frees after sending) or written to resp->body. Never
 * fails: every problem becomes an HTTP status with a Polish page, and
 * 5xx causes are logged here. resp must come from sk_resp_init(). Security
 * headers (CSP, nosniff, Referrer-Policy) are on every response. */
void sk_web_route(const struct sk_req *req, struct sk_arena *a,
                  struct sk_resp *resp);

SK_END_DECLS
#endif
