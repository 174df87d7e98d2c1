/* web/private.h: declarations shared inside web/ only (and its tests) —
 * rendering helpers, the page layout, request parsing, sessions and the
 * metrics state. Nothing outside web/ includes this file. */
#ifndef SK_WEB_PRIVATE_H
#define SK_WEB_PRIVATE_H

#include "web/sk_web.h"

SK_BEGIN_DECLS

/* ---- limits -------------------------------------------------------------- */

#define SK_WEB_PAGE_MAX (32u << 20) /* cap on one rendered page */
#define SK_WEB_QUERY_MAX 500        /* bytes of a search query from a form */
#define SK_WEB_PER_PAGE 20          /* search results per page */
#define SK_WEB_THREADS_PER_PAGE 25  /* threads per topic/partner page */
#define SK_WEB_MAX_PAGE 500         /* deepest page number accepted */
#define SK_WEB_FEED_ENTRIES 30
#define SK_WEB_SESSION_SECONDS (14 * 24 * 3600)
#define SK_WEB_FORM_FIELD_MAX (64u << 10) /* one POST field */
#define SK_WEB_FORM_FIELDS_MAX 64
#define SK_WEB_UPLOAD_FILE_MAX (10u << 20) /* one uploaded file (and at
                                              most request_bytes) */
#define SK_WEB_UPLOAD_FILES_MAX 10

/* ---- Polish text: plural forms, numbers, dates, sizes (render.c) --------- */

/* The Polish plural form for n: one for 1; few for 2-4, 22-24, ... (but not
 * 12-14); many for 0, 5-21, 25-31, ... E.g. ("wątek", "wątki", "wątków"). */
const char *sk_page_plural(int64_t n, const char *one, const char *few,
                           const char *many);
/* n with a no-break space (U+00A0) between groups of thousands from
 * 10 000 up, as Polish typography does: "1234", "12 345". */
void sk_page_number(struct sk_buf *b, int64_t n);
/* "12 wątków": the number, a no-break space and the right form. */
void sk_page_count(struct sk_buf *b, int64_t n, const char *one,
                   const char *few, const char *many);
/* Convert t to civil time in Europe/Warsaw (CET/CEST by the EU rule: summer
 * time from the last Sunday of March to the last Sunday of October, 01:00
 * UTC) without touching TZ. *offset_out (may be NULL) gets the UTC offset
 * in seconds. */
void sk_page_warsaw(time_t t, struct tm *out, int *offset_out);
/* "15 stycznia 2024, 09:12" (Warsaw time). */
void sk_page_date(struct sk_buf *b, time_t t);
/* "15 stycznia 2024". */
void sk_page_day(struct sk_buf *b, time_t t);
/* <time datetime="2024-01-15T08:12:00Z">15 stycznia 2024, 09:12</time> */
void sk_page_time(struct sk_buf *b, time_t t);
/* "532 B", "12 kB", "1,2 MB": binary multiples, a decimal comma, one decimal
 * below 10, a no-break space before the unit. */
void sk_page_size(struct sk_buf *b, int64_t bytes);

/* ---- user text ----------------------------------------------------------- */

enum sk_text_flags {
	SK_TEXT_LINKS = (1 << 0),      /* http(s) URLs become links */
	SK_TEXT_HIDE_ADDRS = (1 << 1), /* e-mail addresses become a marker */
};
#define SK_ADDR_HIDDEN "[adres ukryty]"

/* Escape text [s, s+n) into b; with flags, make http/https URLs into
 * <a rel="nofollow noopener"> links and/or hide e-mail addresses. */
void sk_page_text(struct sk_buf *b, const char *s, size_t n, unsigned flags);
/* A message body: the text before quote_start as is, quoted text folded in
 * <details><summary>Pokaż cytat</summary>…</details>. Runs of "> " lines
 * are folded one by one; a quote that does not start with '>' (Outlook
 * style) is folded to the end. */
void sk_page_body(struct sk_buf *b, const char *body, size_t n,
                  size_t quote_start, unsigned flags);
/* Copy already-escaped HTML (a search snippet) into b, hiding e-mail
 * addresses in it. */
void sk_page_mask_html(struct sk_buf *b, const char *html, size_t n);
/* Append the plain text of html: tags stripped, the entities
 * sk_buf_add_html writes decoded (snippet -> text for JSON). */
void sk_page_html_to_text(struct sk_buf *b, const char *html, size_t n);
/* XML text/attribute content: like sk_buf_add_html, and control characters
 * XML 1.0 forbids are dropped. */
void sk_page_xml(struct sk_buf *b, const char *s);

/* ---- the layout ---------------------------------------------------------- */

enum sk_nav {
	SK_NAV_NONE = 0,
	SK_NAV_START,
	SK_NAV_SEARCH,
	SK_NAV_MEETINGS,
	SK_NAV_PRACTICES,
	SK_NAV_NEWCOMERS,
	SK_NAV_LOGIN,
	SK_NAV_ACCOUNT,
	SK_NAV_CURATE, /* the coordinators' pages (curate.c) */
};

struct sk_page {
	const char *title;     /* plain text; escaped when written */
	enum sk_nav nav;       /* which menu entry is aria-current */
	bool header_search;    /* a search box in the header */
	const char *user_name; /* logged in as (name or e-mail), or NULL */
	const char *csrf;      /* the session's form token (logout form) */
	bool show_login;       /* offer "Zaloguj się" */
	bool coordinator;      /* offer the coordinators' pages */
	const char *feed_url;  /* <link rel="alternate"> Atom feed, or NULL */
	const char *feed_title;
};

void sk_page_begin(struct sk_buf *b, const struct sk_page *p);
void sk_page_end(struct sk_buf *b, const struct sk_page *p);
/* A hidden CSRF field. */
void sk_page_csrf_field(struct sk_buf *b, const char *token);
/* A labelled form field: a text input of at most maxlen characters, or a
 * textarea of rows lines when rows is not 0. label and hint (may be NULL)
 * are trusted HTML; the value is escaped. */
struct sk_form_field {
	const char *name;
	const char *id; /* NULL: the name */
	const char *label, *hint, *value;
	bool required;
	unsigned maxlen, rows;
};
void sk_page_form_field(struct sk_buf *b, const struct sk_form_field *f);
/* The same for a text input with no id of its own. */
void sk_page_text_input(struct sk_buf *b, const char *name, const char *label,
                        const char *hint, const char *value, bool required,
                        unsigned maxlen);
/* Pagination: links to base + "strona=N" (base ends in '?' or '&'), the
 * current page marked aria-current. Nothing when pages <= 1. */
void sk_page_pager(struct sk_buf *b, const char *base, int64_t page,
                   int64_t pages);
/* The query-syntax help shown under the search form. */
void sk_page_search_help(struct sk_buf *b);

/* ---- static assets (static.c) -------------------------------------------- */

extern const char sk_web_css[];
size_t sk_web_css_len(void);
/* A short hex digest of the CSS, for the cache-busting "?v=". */
const char *sk_web_css_version(void);

/* ---- request target parsing (route.c) ------------------------------------ */

/* Percent-decode [s, s+n) into an arena string. plus_space turns '+' into
 * ' ' (query strings). Returns NULL on a bad escape, on NUL or a control
 * character other than \t, or when the result is not valid UTF-8. */
char *sk_web_decode(struct sk_arena *a, const char *s, size_t n,
                    bool plus_space);

struct sk_target {
	const char *path; /* still encoded, without the query */
	size_t path_len;
	struct sk_param *args; /* decoded query arguments */
	size_t n_args;
	bool bad; /* an argument did not decode */
};
void sk_web_parse_target(struct sk_arena *a, const char *target,
                         struct sk_target *out);
/* The first value of name, or NULL. */
const char *sk_web_arg(const struct sk_param *args, size_t n, const char *name);

/* ---- sessions and login (auth.c) ----------------------------------------- */

struct sk_session {
	bool valid;
	int64_t user_id;
	const char *email, *name;
	enum sk_role role;
	const char *csrf;
	const char *token_hash;
};

/* The value of cookie name in a Cookie header, or NULL. */
const char *sk_web_cookie(struct sk_arena *a, const char *header,
                          const char *name);
/* Look up the session cookie of req. Returns SK_OK with s->valid false
 * when there is none or it is not valid; other statuses are store
 * failures. */
enum sk_status sk_web_session(const struct sk_req *req, struct sk_arena *a,
                              struct sk_session *s, struct sk_err *err);
/* Constant-time comparison of two NUL-terminated tokens. */
bool sk_web_token_eq(const char *a, const char *b);
/* A fresh random token: 32 bytes, base64url without padding. */
char *sk_web_token_new(struct sk_arena *a);
/* Lowercase hex of BLAKE2b-256(token): what the store keeps. */
char *sk_web_token_hash(struct sk_arena *a, const char *token);

/* Login throttle (in struct sk_web_state): at most this many failures per
 * client address and per e-mail in the window. */
#define SK_WEB_LOGIN_FAILS 10
#define SK_WEB_LOGIN_WINDOW (15 * 60)
#define SK_WEB_LOGIN_CONCURRENT 4 /* argon2id runs at once (64 MiB each) */
/* Login links: at most this many mails per address in the window (each
 * request counts SK_WEB_LOGIN_FAILS / SK_WEB_LINK_MAILS against the
 * address, one against the client). */
#define SK_WEB_LINK_MAILS 5
bool sk_web_throttled(struct sk_web_state *st, const char *key, time_t now);
void sk_web_throttle_fail(struct sk_web_state *st, const char *key, time_t now);
void sk_web_throttle_reset(struct sk_web_state *st, const char *key);
bool sk_web_verify_begin(struct sk_web_state *st);
void sk_web_verify_end(struct sk_web_state *st);

/* ---- metrics (metrics.c) ------------------------------------------------- */

/* Prometheus text for the request counters and histograms. */
void sk_web_metrics_requests(struct sk_web_state *st, struct sk_buf *b);

/* ---- pages (pages.c, export.c, auth.c), called by route.c ---------------- */

/* What every handler gets: the request, its arena, the response and who is
 * looking. */
struct sk_ctx {
	const struct sk_req *req;
	struct sk_arena *a;
	struct sk_resp *resp;
	struct sk_target t;
	struct sk_session session;
	struct sk_viewer viewer;
	bool hide_addrs; /* not logged in: names only */
	bool json;       /* errors as {"error": ...} */
	bool plain;      /* errors as text/plain */
	struct sk_index *wix; /* the writable handle, opened on demand by
	                         sk_ctx_writer() and closed by
	                         sk_web_route() */
};

void sk_ctx_header(struct sk_ctx *c, const char *name, const char *value);
/* Start a page with the layout, filled from the context. */
void sk_ctx_page_begin(struct sk_ctx *c, struct sk_page *p);
/* An error page in the layout with status (400, 403, 404, 405, 413, 429,
 * 500, 503). message is plain text shown to the user, or NULL for the
 * standard one. */
void sk_ctx_error(struct sk_ctx *c, int status, const char *message);
/* How a handler answers with an error: sk_ctx_error(), sk_export_json_error()
 * or a form page shown again with the message. */
typedef void sk_error_page(struct sk_ctx *c, int status, const char *message);
/* Map an index status to an error page: ENOTFOUND -> 404, EINVAL -> 400,
 * EAGAIN -> 503, anything else -> 500 (logged with what). */
void sk_ctx_fail(struct sk_ctx *c, enum sk_status rc, const struct sk_err *err,
                 const char *what);
/* The request's writable handle (SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN on
 * req->data_dir), opened at the first call. NULL, with a 503 (or 500)
 * answer set already, when it cannot be opened. */
struct sk_index *sk_ctx_writer(struct sk_ctx *c);
/* A 303 redirect to a local path. */
void sk_ctx_redirect(struct sk_ctx *c, int status, const char *location);
/* Finish an HTML page: check the buffer, set the content type. */
void sk_ctx_html_done(struct sk_ctx *c);
/* Base URL for absolute links: settings base_url, else http://Host. */
const char *sk_ctx_base_url(struct sk_ctx *c);
/* The page number from ?strona= (1 when absent); false when bad. */
bool sk_ctx_page_arg(struct sk_ctx *c, int64_t *page_out);

/* The search arguments of /szukaj, /api/v1/search and the search feed. */
struct sk_search_args {
	const char *q;       /* as typed, trimmed */
	const char *topic;   /* ?temat= slug, or NULL */
	const char *partner; /* ?gmina= slug, or NULL */
	const char *year;    /* ?rok= YYYY, or NULL */
	bool by_date;        /* ?sort=data */
	int64_t page;        /* ?strona=, 1.. */
	char *effective;     /* q with the filters as query terms */
};
/* Read and check them. false: a 400 answer is set already. */
bool sk_web_search_args(struct sk_ctx *c, struct sk_search_args *sa);

void sk_page_start(struct sk_ctx *c);
void sk_page_search(struct sk_ctx *c);
void sk_page_topic(struct sk_ctx *c, const char *slug, bool meetings);
void sk_page_partner(struct sk_ctx *c, const char *slug);
void sk_page_thread(struct sk_ctx *c, int64_t id);
/* /watek/ID/podobne: threads on the same things (dearer than the thread
 * page, so a page of its own). */
void sk_page_similar(struct sk_ctx *c, int64_t id);
void sk_page_message(struct sk_ctx *c, const char *message_id);

void sk_export_raw(struct sk_ctx *c, const char *message_id);
void sk_export_attachment(struct sk_ctx *c, const char *message_id,
                          int position);
void sk_export_mbox(struct sk_ctx *c, int64_t thread_id);
void sk_export_api_search(struct sk_ctx *c);
void sk_export_api_topics(struct sk_ctx *c);
void sk_export_api_thread(struct sk_ctx *c, int64_t thread_id);
void sk_export_feed_topic(struct sk_ctx *c, const char *slug);
void sk_export_feed_search(struct sk_ctx *c);
void sk_export_metrics(struct sk_ctx *c);
void sk_export_healthz(struct sk_ctx *c);
/* A JSON error body {"error": message} with status. */
void sk_export_json_error(struct sk_ctx *c, int status, const char *message);

/* Quarterly meeting notes (notes.c). */
void sk_notes_form(struct sk_ctx *c);    /* GET /spotkania/nowa */
void sk_notes_post(struct sk_ctx *c);    /* POST /spotkania/nowa */
void sk_notes_requeue(struct sk_ctx *c); /* POST /spotkania/ponow */
/* The list of notes on /spotkania (with the mail's fate for
 * coordinators), written into the page being built. */
void sk_notes_section(struct sk_ctx *c, struct sk_buf *b);
/* The current quarter in Warsaw time: "2025-Q4" (from the arena). */
const char *sk_web_quarter(struct sk_arena *a, time_t now);

/* Good-practice records, the newcomers' path and the glossary
 * (practice.c); browsing by quarter (quarter.c). */
void sk_page_practices(struct sk_ctx *c);            /* /praktyki */
void sk_page_practice(struct sk_ctx *c, int64_t id); /* /praktyka/ID */
void sk_page_onboarding(struct sk_ctx *c);           /* /dla-nowych */
void sk_page_glossary(struct sk_ctx *c);             /* /slownik */
void sk_page_quarters(struct sk_ctx *c);             /* /kwartaly */
/* /kwartal/2025-1: quarter is "2025-Q1". */
void sk_page_quarter(struct sk_ctx *c, const char *quarter);
void sk_export_api_practices(struct sk_ctx *c);            /* JSON list */
void sk_export_api_practice(struct sk_ctx *c, int64_t id); /* JSON one */
void sk_export_feed_practices(struct sk_ctx *c); /* /feed/praktyki.atom */
/* Practice record id as c's viewer may see it into *p: false, with a 404
 * (through page) or a 500 (logged with what) set, when it cannot be had. */
bool sk_practice_load(struct sk_ctx *c, int64_t id, struct sk_practice *p,
                      sk_error_page *page, const char *what);
/* Sections of the pages in pages.c, written into the page being built
 * (nothing when there is nothing to show; a store failure is logged and
 * leaves the section out). Practice records of a topic or partner (NULL:
 * any), at most limit, with a link to the full list (topics: the page's
 * sk_index_topics rows, for names); the "start here" threads of a topic. */
void sk_page_practices_section(struct sk_ctx *c, struct sk_buf *b,
                               const char *topic, const char *partner,
                               size_t limit, const struct sk_topic_row *topics,
                               size_t n_topics);
void sk_page_pins_section(struct sk_ctx *c, struct sk_buf *b,
                          const char *topic);
/* pages.c's thread list, topic links and attachment type names, for the
 * pages of practice.c. */
void sk_page_thread_list(struct sk_ctx *c, struct sk_buf *b,
                         const struct sk_thread_row *t, size_t n,
                         const struct sk_topic_row *topics, size_t n_topics,
                         int heading);
void sk_page_topic_links(struct sk_buf *b, const struct sk_topic_row *topics,
                         size_t n_topics, const char **slugs, size_t n);
/* One <li> of an attachment list: the download link of attachment
 * position of message_id, its name, type and size. */
void sk_page_attachment_item(struct sk_buf *b, const char *message_id,
                             int position, const char *filename,
                             const char *content_type, int64_t size);
/* export.c's JSON and Atom pieces, for practice.c: text with addresses
 * masked for anonymous readers, an ISO 8601 date in quotes, an array of
 * slugs, and the feed's head and tail. */
void sk_export_json_text(struct sk_ctx *c, struct sk_buf *b, const char *s);
void sk_export_json_date(struct sk_buf *b, time_t t);
void sk_export_json_slugs(struct sk_buf *b, const char **s, size_t n);
/* The rest of an attachment's JSON object after "{" and any fields before:
 * position, filename, content_type, size and the closing brace. */
void sk_export_json_attachment(struct sk_buf *b, int position,
                               const char *filename, const char *content_type,
                               int64_t size);
void sk_export_atom_begin(struct sk_ctx *c, const char *title, const char *self,
                          const char *alternate, time_t updated);
void sk_export_atom_done(struct sk_ctx *c);

/* Coordinators' curation (curate.c). On a practice record's page: for
 * coordinators the link to edit it and the forms to change its status;
 * nothing for anyone else. */
void sk_page_practice_actions(struct sk_ctx *c, struct sk_buf *b,
                              const struct sk_practice *p);
/* On a thread's page: for coordinators the "Porządkowanie" panel (links to
 * /watek/ID/porzadkuj, promotion, the history, and approving the thread's
 * held mail); nothing for anyone else. */
void sk_curate_thread_panel(struct sk_ctx *c, struct sk_buf *b,
                            int64_t thread_id);
/* Is the path one of the curation pages (/watek/ID/porzadkuj,
 * /wstrzymane, /dziennik, /dziennik/cofnij, /tematy/edytuj,
 * /praktyka/nowa, /praktyka/ID/edytuj, /praktyka/ID/stan)? Sets the
 * route name. route.c then checks the method (GET/POST), the store and
 * the coordinator role and calls sk_curate_dispatch(). */
bool sk_curate_path(struct sk_ctx *c);
void sk_curate_dispatch(struct sk_ctx *c);

/* Topic subscriptions and one-click unsubscribe (account.c). */
void sk_account_page(struct sk_ctx *c);      /* GET /konto */
void sk_account_post(struct sk_ctx *c);      /* POST /konto */
void sk_account_unsubscribe(struct sk_ctx *c); /* GET, POST /wypisz */

void sk_auth_login_form(struct sk_ctx *c);
/* One-time login links: POST /zaloguj/wyslij-link asks for one (same
 * answer whether the address exists or not); GET /zaloguj/link?t= shows
 * a button, POST uses the token and logs in. */
void sk_auth_link_request(struct sk_ctx *c);
void sk_auth_link_form(struct sk_ctx *c);
void sk_auth_link_post(struct sk_ctx *c);
void sk_auth_login_post(struct sk_ctx *c);
void sk_auth_logout_post(struct sk_ctx *c);
/* Check the CSRF field of a POST against the session: false (and a 403
 * page already set) when it does not match. */
bool sk_auth_check_csrf(struct sk_ctx *c);
/* The start of a POST that changes one stored row: checks the CSRF field,
 * reads the row's id (1 or more) from form field into *id (else page
 * answers 400 with bad_id) and opens the writer. NULL when the answer is
 * set already. */
struct sk_index *sk_auth_post_row(struct sk_ctx *c, const char *field,
                                  int64_t *id, sk_error_page *page,
                                  const char *bad_id);

SK_END_DECLS
#endif
