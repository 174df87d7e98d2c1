/* web/auth.c: login with a password (argon2id, libsodium), sessions in an
 * HttpOnly cookie, CSRF tokens on every form. The store keeps only hashes
 * of session tokens. Login failures are throttled per client and per
 * address, and only a few argon2id checks (64 MiB each) run at once. */
#include "web/private.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TOKEN_LEN 43 /* 32 bytes in unpadded base64url */
#define LOGIN_COOKIE "sk_login"
#define SESSION_COOKIE "sk_session"

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static bool sodium_ok;

static void
init_sodium(void)
{
	sodium_ok = sodium_init() >= 0;
	if (!sodium_ok)
		SK_BUG("libsodium cannot initialise");
}

/* ---- tokens -------------------------------------------------------------- */

char *
sk_web_token_new(struct sk_arena *a)
{
	unsigned char raw[32];
	char *out = sk_arena_alloc(
	    a, sodium_base64_ENCODED_LEN(
	           sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING));

	pthread_once(&sodium_once, init_sodium);
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(
	    out,
	    sodium_base64_ENCODED_LEN(sizeof(raw),
	                              sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	    raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

char *
sk_web_token_hash(struct sk_arena *a, const char *token)
{
	unsigned char h[crypto_generichash_BYTES];
	char *hex = sk_arena_alloc(a, sizeof(h) * 2 + 1);

	pthread_once(&sodium_once, init_sodium);
	crypto_generichash(h, sizeof(h), (const unsigned char *)token,
	                   strlen(token), NULL, 0);
	sodium_bin2hex(hex, sizeof(h) * 2 + 1, h, sizeof(h));
	return hex;
}

bool
sk_web_token_eq(const char *a, const char *b)
{
	size_t n;

	if (!a || !b)
		return false;
	n = strlen(a);
	if (n == 0 || n != strlen(b))
		return false;
	return sodium_memcmp(a, b, n) == 0;
}

static bool
token_shaped(const char *t)
{
	return t && strlen(t) == TOKEN_LEN &&
	       strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789-_") == TOKEN_LEN;
}

/* ---- cookies ------------------------------------------------------------- */

const char *
sk_web_cookie(struct sk_arena *a, const char *header, const char *name)
{
	size_t nl = strlen(name);
	const char *p = header;

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
			struct sk_str v = sk_str_trim(p + nl + 1, len - nl - 1);
			if (v.n >= 2 && v.p[0] == '"' && v.p[v.n - 1] == '"') {
				v.p++;
				v.n -= 2;
			}
			return sk_arena_strndup(a, v.p, v.n);
		}
		p = end;
	}
	return NULL;
}

static bool
secure_cookies(const struct sk_ctx *c)
{
	const struct sk_web_settings *s = c->req->settings;
	return s && s->base_url && sk_istarts_with(s->base_url, "https://");
}

static void
set_cookie(struct sk_ctx *c, const char *name, const char *value,
           const char *path, long max_age, const char *same_site)
{
	sk_ctx_header(c, "Set-Cookie",
	              sk_arena_printf(c->a,
	                              "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; "
	                              "SameSite=%s%s",
	                              name, value, path, max_age, same_site,
	                              secure_cookies(c) ? "; Secure" : ""));
}

/* ---- sessions ------------------------------------------------------------ */

enum sk_status
sk_web_session(const struct sk_req *req, struct sk_arena *a,
               struct sk_session *s, struct sk_err *err)
{
	struct sk_session_row row;
	const char *token;
	enum sk_status rc;

	memset(s, 0, sizeof(*s));
	if (!req->ix)
		return SK_OK;
	token = sk_web_cookie(a, req->cookie, SESSION_COOKIE);
	if (!token_shaped(token))
		return SK_OK;
	s->token_hash = sk_web_token_hash(a, token);
	memset(&row, 0, sizeof(row));
	rc = sk_index_session_find(req->ix, a, s->token_hash, req->now, &row,
	                           err);
	if (rc == SK_ENOTFOUND)
		return SK_OK;
	if (rc)
		return rc;
	if (row.user.disabled || !row.csrf_token)
		return SK_OK;
	s->valid = true;
	s->user_id = row.user.id;
	s->email = row.user.email;
	s->name = row.user.name;
	s->role = row.user.role;
	s->csrf = row.csrf_token;
	return SK_OK;
}

static const char *
form_value(const struct sk_ctx *c, const char *name)
{
	return sk_web_arg(c->req->form, c->req->n_form, name);
}

bool
sk_auth_check_csrf(struct sk_ctx *c)
{
	if (c->session.valid &&
	    sk_web_token_eq(form_value(c, "csrf"), c->session.csrf))
		return true;
	sk_ctx_error(c, 403,
	             "Formularz wygasł albo nie pochodzi z tej "
	             "strony. Odśwież stronę i spróbuj ponownie.");
	return false;
}

struct sk_index *
sk_auth_post_row(struct sk_ctx *c, const char *field, int64_t *id,
                 sk_error_page *page, const char *bad_id)
{
	const char *s = form_value(c, field);

	if (!sk_auth_check_csrf(c))
		return NULL;
	if (!s || sk_parse_i64(s, 1, INT64_MAX, id, NULL) != SK_OK) {
		page(c, 400, bad_id);
		return NULL;
	}
	return sk_ctx_writer(c);
}

/* ---- the login form ------------------------------------------------------ */

/* Where to go after logging in: a local path only (no "//host", no
 * backslashes), else the start page. */
static const char *
next_path(const char *v)
{
	if (!v || v[0] != '/' || v[1] == '/' || v[1] == '\\' ||
	    strchr(v, '\\') || strlen(v) > 2000 ||
	    sk_starts_with(v, "/zaloguj") || sk_starts_with(v, "/wyloguj"))
		return "/";
	return v;
}

/* Link login needs a composer and a configured base_url: a link built
 * from the Host header could point anywhere (a forged Host would mail
 * the victim a working token on the attacker's site). */
static bool
link_login_on(const struct sk_ctx *c)
{
	const struct sk_web_settings *s = c->req->settings;
	return s && s->login_compose && s->base_url && *s->base_url;
}

static void
login_page_full(struct sk_ctx *c, int status, const char *error,
                const char *notice, const char *email, const char *next)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Logowanie", .nav = SK_NAV_LOGIN };
	const char *token = sk_web_cookie(c->a, c->req->cookie, LOGIN_COOKIE);

	/* Before a session exists, the form's CSRF token is a double-submit
	 * cookie scoped to /zaloguj. */
	if (!token_shaped(token)) {
		token = sk_web_token_new(c->a);
		set_cookie(c, LOGIN_COOKIE, token, "/zaloguj", 3600, "Strict");
	}
	c->resp->status = status;
	sk_buf_reset(b);
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>Zaloguj się</h1>\n");
	if (c->session.valid) {
		sk_buf_adds(b, "<p class=\"notice\">Zalogowano jako ");
		sk_buf_add_htmls(b, c->session.email);
		sk_buf_adds(b,
		            ". <a href=\"/\">Przejdź do archiwum</a>.</p>\n");
	}
	sk_buf_adds(b, "<p class=\"lead\">Archiwum listy jest dostępne dla "
	               "pracowników urzędów partnerskich. Zaloguj się adresem "
	               "służbowym.</p>\n");
	if (error) {
		sk_buf_adds(b, "<div class=\"error\" role=\"alert\"><p>");
		sk_buf_add_htmls(b, error);
		sk_buf_adds(b, "</p></div>\n");
	}
	if (notice) {
		sk_buf_adds(b, "<div class=\"notice\" role=\"status\"><p>");
		sk_buf_add_htmls(b, notice);
		sk_buf_adds(b, "</p></div>\n");
	}
	sk_buf_adds(b, "<form class=\"login\" method=\"post\" "
	               "action=\"/zaloguj\" aria-labelledby=\"haslo-h\">\n"
	               "<h2 id=\"haslo-h\">Hasłem</h2>\n");
	sk_page_csrf_field(b, token);
	sk_buf_adds(b, "<input type=\"hidden\" name=\"dalej\" value=\"");
	sk_buf_add_htmls(b, next_path(next));
	sk_buf_adds(b, "\">\n<label for=\"email\">Adres e-mail</label>\n"
	               "<input id=\"email\" name=\"email\" type=\"email\" "
	               "autocomplete=\"username\" required maxlength=\"254\" "
	               "value=\"");
	sk_buf_add_htmls(b, email ? email : "");
	sk_buf_adds(b, "\">\n<label for=\"password\">Hasło</label>\n"
	               "<input id=\"password\" name=\"password\" "
	               "type=\"password\" autocomplete=\"current-password\" "
	               "required maxlength=\"1024\">\n"
	               "<button type=\"submit\">Zaloguj się</button>\n"
	               "</form>\n");
	if (link_login_on(c)) {
		sk_buf_adds(b, "<form class=\"link-form\" method=\"post\" "
		               "action=\"/zaloguj/wyslij-link\" "
		               "aria-labelledby=\"link-h\">\n"
		               "<h2 id=\"link-h\">Linkiem wysłanym "
		               "e-mailem</h2>\n<p class=\"hint\" "
		               "id=\"link-opis\">Bez hasła: wyślemy na adres "
		               "służbowy link, który działa 15 minut i tylko "
		               "raz.</p>\n");
		sk_page_csrf_field(b, token);
		sk_buf_adds(b, "<input type=\"hidden\" name=\"dalej\" "
		               "value=\"");
		sk_buf_add_htmls(b, next_path(next));
		sk_buf_adds(b, "\">\n<label for=\"email-link\">Adres "
		               "e-mail</label>\n<input id=\"email-link\" "
		               "name=\"email\" type=\"email\" "
		               "autocomplete=\"username\" required "
		               "maxlength=\"254\" aria-describedby="
		               "\"link-opis\" value=\"");
		sk_buf_add_htmls(b, email ? email : "");
		sk_buf_adds(b, "\">\n<button type=\"submit\">Wyślij "
		               "link</button>\n</form>\n");
	}
	sk_buf_adds(b, "<p class=\"muted\">Nie masz konta? Napisz do "
	               "koordynatora partnerstwa.</p>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
	sk_ctx_header(c, "Cache-Control", "no-store");
}

static void
login_page(struct sk_ctx *c, int status, const char *error, const char *email,
           const char *next)
{
	login_page_full(c, status, error, NULL, email, next);
}

void
sk_auth_login_form(struct sk_ctx *c)
{
	login_page(c, 200, NULL, NULL,
	           sk_web_arg(c->t.args, c->t.n_args, "dalej"));
}

/* An argon2id verification to spend the same time when there is no user
 * to check against, so timing does not tell which addresses exist. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
make_dummy_hash(void)
{
	pthread_once(&sodium_once, init_sodium);
	if (crypto_pwhash_str(dummy_hash, "skarbnica", 9,
	                      crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy_hash[0] = '\0';
}

static bool
check_password(const char *hash, const char *password)
{
	if (!hash) {
		pthread_once(&dummy_once, make_dummy_hash);
		if (dummy_hash[0]) {
			/* The result does not matter, only the time spent
			 * (a (void) cast does not silence gcc here). */
			int spent = crypto_pwhash_str_verify(
			    dummy_hash, password, strlen(password));
			(void)spent;
		}
		return false;
	}
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* Record a login event in the audit trail (issue 8). A failure to write
 * it is logged, never shown: the login itself goes on. */
static void
audit(struct sk_ctx *c, struct sk_index *ix, const char *email,
      const char *action, int64_t user_id, const char *reason)
{
	struct sk_err err = { 0 };
	const char *detail = sk_arena_printf(
	    c->a, "client %s%s%s", c->req->client ? c->req->client : "?",
	    reason ? ": " : "", reason ? reason : "");

	if (!ix)
		ix = c->req->ix;
	if (sk_index_audit_login(ix, c->req->now, email ? email : "", action,
	                         user_id, detail, &err) != SK_OK)
		sk_log(SK_LOG_WARNING, "web: audit of %s: %s", action, err.msg);
}

/* A new session for user: the cookie, then a redirect to next. */
static void
start_session(struct sk_ctx *c, const struct sk_user_row *user,
              const char *next)
{
	struct sk_err err = { 0 };
	char *token = sk_web_token_new(c->a);
	char *csrf = sk_web_token_new(c->a);
	enum sk_status rc;

	rc = sk_index_session_create(
	    c->req->ix, user->id, sk_web_token_hash(c->a, token), csrf,
	    c->req->now, c->req->now + SK_WEB_SESSION_SECONDS, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "login: session");
		return;
	}
	set_cookie(c, SESSION_COOKIE, token, "/", SK_WEB_SESSION_SECONDS,
	           "Lax");
	set_cookie(c, LOGIN_COOKIE, "", "/zaloguj", 0, "Strict");
	sk_ctx_redirect(c, 303, next_path(next));
	sk_ctx_header(c, "Cache-Control", "no-store");
}

/* The double-submit check of the forms under /zaloguj. */
static bool
login_csrf_ok(struct sk_ctx *c)
{
	const char *cookie_token =
	    sk_web_cookie(c->a, c->req->cookie, LOGIN_COOKIE);
	return token_shaped(cookie_token) &&
	       sk_web_token_eq(form_value(c, "csrf"), cookie_token);
}

void
sk_auth_login_post(struct sk_ctx *c)
{
	const char *email = form_value(c, "email");
	const char *password = form_value(c, "password");
	const char *next = form_value(c, "dalej");
	char *ip_key, *mail_key;
	struct sk_user_row user;
	struct sk_err err = { 0 };
	enum sk_status rc;
	bool ok;

	if (!login_csrf_ok(c)) {
		login_page(c, 403,
		           "Formularz wygasł. Spróbuj zalogować się jeszcze "
		           "raz.",
		           NULL, next);
		return;
	}
	if (!email || !password || !*email || !*password ||
	    strlen(email) > 254 || strlen(password) > 1024) {
		login_page(c, 400, "Podaj adres e-mail i hasło.", email, next);
		return;
	}
	ip_key = sk_arena_printf(c->a, "ip:%s",
	                         c->req->client ? c->req->client : "?");
	mail_key = sk_ascii_lower(sk_arena_printf(c->a, "mail:%s", email));
	if (sk_web_throttled(c->req->state, ip_key, c->req->now) ||
	    sk_web_throttled(c->req->state, mail_key, c->req->now)) {
		login_page(c, 429,
		           "Zbyt wiele nieudanych prób logowania. Odczekaj "
		           "kwadrans i spróbuj ponownie.",
		           email, next);
		return;
	}
	memset(&user, 0, sizeof(user));
	rc = sk_index_user_find(c->req->ix, c->a, email, &user, &err);
	if (rc != SK_OK && rc != SK_ENOTFOUND) {
		sk_ctx_fail(c, rc, &err, "login: user lookup");
		return;
	}
	if (!sk_web_verify_begin(c->req->state)) {
		sk_ctx_error(c, 503,
		             "Logowanie jest teraz przeciążone. "
		             "Spróbuj ponownie za chwilę.");
		return;
	}
	ok = check_password(rc == SK_OK && !user.disabled ? user.password_hash
	                                                  : NULL,
	                    password);
	sk_web_verify_end(c->req->state);
	if (!ok) {
		sk_web_throttle_fail(c->req->state, ip_key, c->req->now);
		sk_web_throttle_fail(c->req->state, mail_key, c->req->now);
		sk_log(SK_LOG_NOTICE, "web: failed login from %s",
		       c->req->client ? c->req->client : "?");
		audit(c, NULL, email, "login.password.failed",
		      rc == SK_OK ? user.id : 0,
		      rc != SK_OK       ? "no such user"
		      : user.disabled   ? "user disabled"
		      : !user.password_hash ? "no password set"
		                            : "wrong password");
		login_page(c, 403, "Nieprawidłowy adres e-mail lub hasło.",
		           email, next);
		return;
	}
	sk_web_throttle_reset(c->req->state, mail_key);
	audit(c, NULL, user.email, "login.password", user.id, NULL);
	start_session(c, &user, next);
}

/* ---- one-time login links ------------------------------------------------- */

#define LINK_SENT                                                              \
	"Jeśli ten adres należy do konta w Skarbnicy, wysłaliśmy na niego "    \
	"link do logowania. Link działa 15 minut i tylko raz. Sprawdź "       \
	"skrzynkę (także folder z niechcianą pocztą)."

/* Link login is for addresses in partner domains (and the list's own). */
static bool
link_allowed(struct sk_ctx *c, const struct sk_user_row *u)
{
	const char *list, *at, *lat;

	if (u->disabled)
		return false;
	if (u->partner_slug && *u->partner_slug)
		return true;
	list = sk_index_meta_get(c->req->ix, c->a, "list.address");
	at = strrchr(u->email, '@');
	lat = list ? strrchr(list, '@') : NULL;
	return at && lat && strcasecmp(at, lat) == 0;
}

void
sk_auth_link_request(struct sk_ctx *c)
{
	const struct sk_web_settings *s = c->req->settings;
	const char *email = form_value(c, "email");
	const char *next = form_value(c, "dalej");
	char *ip_key, *mail_key;
	struct sk_user_row user;
	struct sk_err err = { 0 };
	struct sk_index *w;
	enum sk_status rc;
	const char *why = NULL;

	if (!login_csrf_ok(c)) {
		login_page(c, 403,
		           "Formularz wygasł. Spróbuj jeszcze raz.", NULL,
		           next);
		return;
	}
	if (!link_login_on(c)) {
		login_page(c, 503,
		           "Logowanie linkiem nie jest teraz dostępne. "
		           "Zaloguj się hasłem.",
		           email, next);
		return;
	}
	if (!email || !*email || strlen(email) > 254 || !strchr(email, '@')) {
		login_page(c, 400, "Podaj adres e-mail.", email, next);
		return;
	}
	/* Every request counts, whether the address exists or not. */
	ip_key = sk_arena_printf(c->a, "link-ip:%s",
	                         c->req->client ? c->req->client : "?");
	mail_key =
	    sk_ascii_lower(sk_arena_printf(c->a, "link-mail:%s", email));
	if (sk_web_throttled(c->req->state, ip_key, c->req->now) ||
	    sk_web_throttled(c->req->state, mail_key, c->req->now)) {
		login_page(c, 429,
		           "Zbyt wiele próśb o link. Odczekaj kwadrans i "
		           "spróbuj ponownie.",
		           email, next);
		return;
	}
	sk_web_throttle_fail(c->req->state, ip_key, c->req->now);
	for (int i = 0; i < SK_WEB_LOGIN_FAILS / SK_WEB_LINK_MAILS; i++)
		sk_web_throttle_fail(c->req->state, mail_key, c->req->now);

	/* The writable handle is opened either way, so the answer takes
	 * about as long for an address that has no account. */
	w = sk_ctx_writer(c);
	if (!w)
		return;
	memset(&user, 0, sizeof(user));
	rc = sk_index_user_find(c->req->ix, c->a, email, &user, &err);
	if (rc == SK_ENOTFOUND)
		why = "no such user";
	else if (rc)
		why = "user lookup failed";
	else if (!link_allowed(c, &user))
		why = user.disabled ? "user disabled"
		                    : "address outside partner domains";
	if (!why) {
		char *token = sk_web_token_new(c->a);
		struct sk_login_mail lm = { 0 };
		struct sk_composed comp;
		struct sk_outbox_new m = { 0 };
		struct sk_buf url;

		sk_buf_init(&url, 4096);
		sk_buf_adds(&url, s->base_url);
		sk_buf_adds(&url, "/zaloguj/link?t=");
		sk_buf_adds(&url, token);
		lm.to_addr = user.email;
		lm.to_name = user.name;
		lm.url = sk_arena_strdup(c->a, url.p);
		lm.expires_at = c->req->now + SK_LOGIN_LINK_SECONDS;
		lm.date = c->req->now;
		sk_buf_release(&url);
		memset(&comp, 0, sizeof(comp));
		rc = s->login_compose(s->login_compose_ctx, c->a, &lm, &comp,
		                      &err);
		if (!rc) {
			m.kind = SK_OUTBOX_LOGIN;
			m.message_id = comp.message_id;
			m.sender = comp.sender;
			m.recipients = comp.recipients;
			m.raw = comp.raw;
			m.raw_len = comp.raw_len;
			m.user_id = user.id;
			rc = sk_index_login_token_create(
			    w, user.id, sk_web_token_hash(c->a, token),
			    c->req->now, lm.expires_at, &m, &err);
		}
		if (rc) {
			/* Logged, not shown: the answer must not differ. */
			sk_log(SK_LOG_ERR, "web: login link for user %lld: %s",
			       (long long)user.id, err.msg);
			why = "queueing the mail failed";
		}
	}
	if (why) {
		/* Spend about the time a real mail takes to compose, so the
		 * answer's timing does not tell either (nothing is queued). */
		struct sk_login_mail lm = { "nobody@invalid.example", "",
			                    "https://invalid.example/", 0, 0 };
		struct sk_composed comp;
		struct sk_err ignored = { 0 };
		lm.expires_at = c->req->now + SK_LOGIN_LINK_SECONDS;
		lm.date = c->req->now;
		(void)s->login_compose(s->login_compose_ctx, c->a, &lm, &comp,
		                       &ignored);
	}
	audit(c, w, email, why ? "login.link.refused" : "login.link.sent",
	      why ? 0 : user.id, why);
	login_page_full(c, 200, NULL, LINK_SENT, NULL, next);
}

static void
link_page(struct sk_ctx *c, int status, const char *error, const char *t)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Logowanie linkiem",
		             .nav = SK_NAV_LOGIN };
	const char *token = sk_web_cookie(c->a, c->req->cookie, LOGIN_COOKIE);

	if (!token_shaped(token)) {
		token = sk_web_token_new(c->a);
		set_cookie(c, LOGIN_COOKIE, token, "/zaloguj", 3600, "Strict");
	}
	c->resp->status = status;
	sk_buf_reset(b);
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<h1>Logowanie linkiem</h1>\n");
	if (error) {
		sk_buf_adds(b, "<div class=\"error\" role=\"alert\"><p>");
		sk_buf_add_htmls(b, error);
		sk_buf_adds(b, "</p></div>\n<p><a href=\"/zaloguj\">Poproś o "
		               "nowy link albo zaloguj się hasłem</a>.</p>\n");
	} else {
		sk_buf_adds(b, "<p class=\"lead\">Kliknij przycisk, aby się "
		               "zalogować. Link działa tylko raz.</p>\n"
		               "<form class=\"login\" method=\"post\" "
		               "action=\"/zaloguj/link\">\n");
		sk_page_csrf_field(b, token);
		sk_buf_adds(b, "<input type=\"hidden\" name=\"t\" value=\"");
		sk_buf_add_htmls(b, t);
		sk_buf_adds(b, "\">\n<button type=\"submit\">Zaloguj się"
		               "</button>\n</form>\n");
	}
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
	sk_ctx_header(c, "Cache-Control", "no-store");
	sk_ctx_header(c, "Referrer-Policy", "no-referrer");
}

#define LINK_BAD                                                               \
	"Ten link do logowania jest nieważny: wygasł albo został już "        \
	"użyty."

void
sk_auth_link_form(struct sk_ctx *c)
{
	const char *t = sk_web_arg(c->t.args, c->t.n_args, "t");

	if (!token_shaped(t)) {
		link_page(c, 404, LINK_BAD, NULL);
		return;
	}
	link_page(c, 200, NULL, t);
}

void
sk_auth_link_post(struct sk_ctx *c)
{
	const char *t = form_value(c, "t");
	char *ip_key;
	struct sk_user_row user;
	struct sk_err err = { 0 };
	struct sk_index *w;
	enum sk_status rc;

	if (!login_csrf_ok(c)) {
		link_page(c, 403,
		          "Formularz wygasł. Otwórz link z wiadomości "
		          "jeszcze raz.",
		          NULL);
		return;
	}
	ip_key = sk_arena_printf(c->a, "ip:%s",
	                         c->req->client ? c->req->client : "?");
	if (sk_web_throttled(c->req->state, ip_key, c->req->now)) {
		link_page(c, 429,
		          "Zbyt wiele nieudanych prób logowania. Odczekaj "
		          "kwadrans i spróbuj ponownie.",
		          NULL);
		return;
	}
	if (!token_shaped(t)) {
		sk_web_throttle_fail(c->req->state, ip_key, c->req->now);
		link_page(c, 403, LINK_BAD, NULL);
		return;
	}
	w = sk_ctx_writer(c);
	if (!w)
		return;
	rc = sk_index_login_token_use(w, c->a, sk_web_token_hash(c->a, t),
	                              c->req->now, &user, &err);
	if (rc == SK_ENOTFOUND) {
		sk_web_throttle_fail(c->req->state, ip_key, c->req->now);
		audit(c, w, "", "login.link.failed", 0,
		      "unknown, used or expired token");
		link_page(c, 403, LINK_BAD, NULL);
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "login link");
		return;
	}
	audit(c, w, user.email, "login.link", user.id, NULL);
	start_session(c, &user, "/");
}

void
sk_auth_logout_post(struct sk_ctx *c)
{
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (!c->session.valid) {
		set_cookie(c, SESSION_COOKIE, "", "/", 0, "Lax");
		sk_ctx_redirect(c, 303, "/");
		return;
	}
	if (!sk_auth_check_csrf(c))
		return;
	rc = sk_index_session_delete(c->req->ix, c->session.token_hash, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "logout");
		return;
	}
	audit(c, NULL, c->session.email, "logout", c->session.user_id, NULL);
	set_cookie(c, SESSION_COOKIE, "", "/", 0, "Lax");
	sk_ctx_redirect(c, 303, "/");
}
