/* tests/helpers/sk_test_web.h: requests to sk_web_route() without
 * sockets, logging in through the form, and the store the web tests
 * start from. */
#ifndef SK_TEST_WEB_H
#define SK_TEST_WEB_H

#include "tests/helpers/sk_test.h"
#include "index/sk_index.h"
#include "web/sk_web.h"

#define SK_TEST_NOW 1735689600 /* 2025-01-01 00:00 UTC */
#define SK_TEST_PASSWORD "tajne-haslo-123"
#define SK_TEST_READER "anna@brzozowka.example"
#define SK_TEST_COORD "koordynator@lista.example"

/* What a web test group holds: its store's directory (from
 * sk_test_tmpdir()), a reader on it as a web worker has, and the
 * process-wide state. */
struct sk_test_site {
	char *dir;
	struct sk_index *ix;
	struct sk_web_state *state;
	/* After sk_test_site_login(): the Cookie headers of SK_TEST_READER
	 * and SK_TEST_COORD, and their CSRF tokens when asked for. */
	char *reader_cookie, *reader_csrf;
	char *coord_cookie, *coord_csrf;
};

struct sk_test_res {
	struct sk_arena *a;
	struct sk_resp resp;
	int status;
	const char *body; /* "" when the response has none */
};

/* q and s zeroed, then: method m, target, Host skarbnica.example, client
 * 192.0.2.7, now SK_TEST_NOW, the FTS5 backend, q->settings = s. The test
 * sets the store, the state and whatever else it needs. */
void sk_test_req(struct sk_req *q, struct sk_web_settings *s, enum sk_method m,
                 const char *target);
/* Route q (asserting the body was built whole). */
struct sk_test_res sk_test_route(const struct sk_req *q);
void sk_test_res_free(struct sk_test_res *r);
/* r's status, r freed: for an answer checked for its status only. */
int sk_test_status(struct sk_test_res r);
/* The Set-Cookie line for cookie name, or NULL. */
const char *sk_test_cookie_line(const struct sk_test_res *r, const char *name);
/* The value cookie name is set to (malloc'ed), or NULL. */
char *sk_test_cookie_value(const struct sk_test_res *r, const char *name);
/* The value of the first hidden csrf field in body (malloc'ed; asserts
 * there is one). */
char *sk_test_csrf_in(const char *body);
/* Log in as email with SK_TEST_PASSWORD through the form, with base's
 * store, state and settings; returns the Cookie header to send afterwards
 * ("sk_session=...", malloc'ed). csrf_out (may be NULL) gets the session's
 * CSRF token, read from /konto. */
char *sk_test_login(const struct sk_req *base, const char *email,
                    char **csrf_out);

/* A new store in dir: the default taxonomy, the first n_partners (1 or 2)
 * of the partners brzozowka and jaskowo, and list.address when not NULL.
 * Returns the writer, or NULL after printing why. */
struct sk_index *sk_test_store_new(const char *dir, size_t n_partners,
                                   const char *list_address);
/* Add the reader SK_TEST_READER and the coordinator SK_TEST_COORD, both
 * with SK_TEST_PASSWORD. Returns 0, or -1 after printing why. */
int sk_test_store_users(struct sk_index *w, const char *reader_name,
                        const char *coord_name);
/* Close the writer *w (may be NULL), open site's reader and a fresh
 * state. Returns 0, or -1 after printing why. */
int sk_test_site_open(struct sk_test_site *site, struct sk_index **w);
/* Log in the reader and the coordinator with sk_test_login(base, ...),
 * with their CSRF tokens when csrf is true. */
void sk_test_site_login(struct sk_test_site *site, const struct sk_req *base,
                        bool csrf);
/* Close the reader, free the state and the logins, remove the
 * directory. */
void sk_test_site_close(struct sk_test_site *site);
/* A message to store as the ingest would (a reply when in_reply_to is
 * set; quoted text from the first "\n>" of the body). */
struct sk_test_msg {
	const char *id, *from_name, *from_addr, *subject, *body;
	const char *in_reply_to;
	time_t date;
	const char *attach;      /* file name of one attachment, or NULL */
	const char *attach_text; /* its extracted text, or NULL */
};
/* Store s with writer w (raw text from a); returns its row id. Aborts
 * when the store refuses it. */
int64_t sk_test_add_msg(struct sk_index *w, struct sk_arena *a,
                        const struct sk_test_msg *s);
/* A writer on the store in dir, as a POST opens it (fails the test when
 * it cannot). */
struct sk_index *sk_test_writer(const char *dir);

#endif
