/* web/curate.c: the coordinators' curation pages — the "Porządkowanie"
 * panel of a thread (topics, pins, split, join, promote, held mail), the
 * practice record forms, the held-mail queue, the audit log with undo and
 * the taxonomy editor. Every change goes through the audited sk_index_*
 * curation API on the request's writable handle, with the coordinator's
 * e-mail as the actor. */
#include "web/private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small pieces ------------------------------------------------------- */

#define CUR_NOTE_MAX 300   /* a pin's note (the store's bound) */
#define CUR_TARGET_MAX 500 /* "join into": a number or a URL */
#define CUR_AUDIT_PER_PAGE 50
#define CUR_HELD_PER_PAGE 50
#define CUR_TOPICS_MAX 32  /* topics of one practice record */
#define CUR_ATTACH_MAX 100 /* attachments linked to one record */

static const char *
fv(const struct sk_ctx *c, const char *name)
{
	return sk_web_arg(c->req->form, c->req->n_form, name);
}

static const char *
qv(const struct sk_ctx *c, const char *name)
{
	return sk_web_arg(c->t.args, c->t.n_args, name);
}

/* A form value trimmed, "" when absent. */
static const char *
fv_trim(struct sk_ctx *c, const char *name)
{
	const char *v = fv(c, name);
	struct sk_str t;
	if (!v)
		return "";
	t = sk_str_trim(v, strlen(v));
	return sk_arena_strndup(c->a, t.p, t.n);
}

static bool
is_post(const struct sk_ctx *c)
{
	return c->req->method == SK_METHOD_POST;
}

/* The coordinators' pages, linked from each other. */
static void
curate_menu(struct sk_buf *b)
{
	sk_buf_adds(b,
	            "<p class=\"crumbs\">Koordynacja: <a href=\"/dziennik\">"
	            "Dziennik zmian</a> · <a href=\"/wstrzymane\">Wstrzymana "
	            "poczta</a> · <a href=\"/tematy/edytuj\">Tematy</a> · "
	            "<a href=\"/praktyka/nowa\">Nowa praktyka</a></p>\n");
}

static void
error_box(struct sk_buf *b, const char *msg)
{
	if (!msg)
		return;
	sk_buf_adds(b, "<div class=\"error\" role=\"alert\"><p>");
	sk_buf_add_htmls(b, msg);
	sk_buf_adds(b, "</p></div>\n");
}

static void
done_box(struct sk_buf *b, const char *msg)
{
	if (!msg)
		return;
	sk_buf_adds(b, "<div class=\"notice\" role=\"status\"><p>");
	sk_buf_add_htmls(b, msg);
	sk_buf_adds(b, "</p></div>\n");
}

/* The backend's message when it is one for people (Polish, from
 * SK_EINVAL/SK_ETOOBIG/SK_EEXIST), else fallback. */
static const char *
user_msg(struct sk_ctx *c, const struct sk_err *err, const char *fallback)
{
	if (err->msg[0] && (unsigned char)err->msg[0] >= 'A' &&
	    (unsigned char)err->msg[0] <= 'Z')
		return sk_arena_strdup(c->a, err->msg);
	if (err->msg[0] && (unsigned char)err->msg[0] >= 0x80)
		return sk_arena_strdup(c->a, err->msg);
	return fallback;
}

/* How a POST answers the store refusing its change. */
struct refusal {
	sk_error_page *page;
	const char *not_found; /* 404 */
	int bad_status;        /* for SK_EINVAL: 400 or 409 */
	const char *bad;       /* unless the store's message is for people */
	const char *what;      /* the log label of other failures */
};

/* Answer rc from the store as r says; false when rc is SK_OK. */
static bool
refused(struct sk_ctx *c, enum sk_status rc, const struct sk_err *err,
        const struct refusal *r)
{
	if (rc == SK_ENOTFOUND)
		r->page(c, 404, r->not_found);
	else if (rc == SK_EINVAL)
		r->page(c, r->bad_status, user_msg(c, err, r->bad));
	else if (rc)
		sk_ctx_fail(c, rc, err, r->what);
	return rc != SK_OK;
}

static void
page_done(struct sk_ctx *c, struct sk_page *p)
{
	sk_page_end(&c->resp->body, p);
	sk_ctx_html_done(c);
	sk_ctx_header(c, "Cache-Control", "no-store");
}

static void
input_area(struct sk_buf *b, const char *id, const char *label,
           const char *hint, const char *value, unsigned rows)
{
	struct sk_form_field f = { .name = id,
		                   .label = label,
		                   .hint = hint,
		                   .value = value,
		                   .rows = rows };
	sk_page_form_field(b, &f);
}

/* A POST form's opening tag with the CSRF field. */
static void
form_open(struct sk_ctx *c, struct sk_buf *b, const char *cls,
          const char *action)
{
	sk_buf_addf(b, "<form class=\"%s\" method=\"post\" action=\"", cls);
	sk_buf_add_htmls(b, action);
	sk_buf_adds(b, "\">\n");
	sk_page_csrf_field(b, c->session.csrf);
}

static void
hidden(struct sk_buf *b, const char *name, const char *value)
{
	sk_buf_addf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	sk_buf_add_htmls(b, value);
	sk_buf_adds(b, "\">");
}

/* <option>s of the taxonomy, subtopics indented; selected marks one. */
static void
topic_options(struct sk_buf *b, const struct sk_topic_row *t, size_t n,
              const char *selected)
{
	for (size_t i = 0; i < n; i++) {
		sk_buf_adds(b, "<option value=\"");
		sk_buf_add_htmls(b, t[i].slug);
		sk_buf_addf(b, "\"%s>%s",
		            selected && strcmp(selected, t[i].slug) == 0
		                ? " selected"
		                : "",
		            t[i].parent_slug ? "— " : "");
		sk_buf_add_htmls(b, t[i].name);
		sk_buf_adds(b, "</option>\n");
	}
}

static const struct sk_topic_row *
topic_find(const struct sk_topic_row *t, size_t n, const char *slug)
{
	for (size_t i = 0; slug && i < n; i++)
		if (strcmp(t[i].slug, slug) == 0)
			return &t[i];
	return NULL;
}

static const char *
topic_name(const struct sk_topic_row *t, size_t n, const char *slug)
{
	const struct sk_topic_row *r = topic_find(t, n, slug);
	return r ? r->name : slug;
}

static bool
load_taxonomy(struct sk_ctx *c, struct sk_topic_row **t, size_t *n)
{
	struct sk_err err = { 0 };
	enum sk_status rc =
	    sk_index_topics(c->req->ix, c->a, &c->viewer, t, n, &err);
	if (rc)
		sk_ctx_fail(c, rc, &err, "curate: topics");
	return rc == SK_OK;
}

/* A thread id from a number, "/watek/12", "/watek/12/..." or a full URL
 * of ours; 0 when it is none. */
static int64_t
thread_ref(const char *s)
{
	const char *p = s ? strstr(s, "/watek/") : NULL;
	int64_t id = 0;
	char buf[24];
	size_t n;

	p = p ? p + 7 : s;
	if (!p)
		return 0;
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(buf) || (p == s && p[n]) ||
	    (p != s && p[n] && p[n] != '/' && p[n] != '?' && p[n] != '#'))
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (sk_parse_i64(buf, 1, INT64_MAX, &id, NULL) != SK_OK)
		return 0;
	return id;
}

/* A local path to go back to after a POST ("/watek/12"), or fallback:
 * only "/" + a path of ours, never "//host" or a scheme. */
static const char *
local_back(const char *s, const char *fallback)
{
	if (!s || s[0] != '/' || s[1] == '/' || s[1] == '\\' || strlen(s) > 200)
		return fallback;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == '\\' || *p == '"' ||
		    (unsigned char)*p >= 0x7f)
			return fallback;
	return s;
}

static const char *const status_label[] = {
	[SK_PRACTICE_DRAFT] = "szkic",
	[SK_PRACTICE_VALIDATED] = "zatwierdzona",
	[SK_PRACTICE_ARCHIVED] = "archiwalna",
};

void
sk_page_practice_actions(struct sk_ctx *c, struct sk_buf *b,
                         const struct sk_practice *p)
{
	if (!c->viewer.coordinator || !c->session.valid || !p || p->id <= 0)
		return;
	sk_buf_addf(b,
	            "<section class=\"curate\" aria-labelledby=\"kuracja\">\n"
	            "<h2 id=\"kuracja\">Dla koordynatorów</h2>\n"
	            "<p>Stan: <strong>%s</strong>. <a href=\"/praktyka/%lld/"
	            "edytuj\">Edytuj praktykę</a> · <a href=\"/dziennik?"
	            "obiekt=practice:%lld\">Historia zmian</a></p>\n",
	            (unsigned)p->status < SK_ARRAY_SIZE(status_label)
	                ? status_label[p->status]
	                : "?",
	            (long long)p->id, (long long)p->id);
	for (int s = SK_PRACTICE_DRAFT; s <= SK_PRACTICE_ARCHIVED; s++) {
		if ((int)p->status == s)
			continue;
		sk_buf_addf(b,
		            "<form class=\"inline\" method=\"post\" "
		            "action=\"/praktyka/%lld/stan\">",
		            (long long)p->id);
		sk_page_csrf_field(b, c->session.csrf);
		sk_buf_addf(b,
		            "<input type=\"hidden\" name=\"powrot\" "
		            "value=\"/praktyka/%lld\">",
		            (long long)p->id);
		sk_buf_addf(b,
		            "<input type=\"hidden\" name=\"stan\" value=\"%s\">"
		            "<button type=\"submit\">%s</button></form>\n",
		            sk_practice_status_name((enum sk_practice_status)s),
		            s == SK_PRACTICE_VALIDATED  ? "Zatwierdź"
		            : s == SK_PRACTICE_ARCHIVED ? "Przenieś do archiwum"
		                                        : "Przywróć do szkicu");
	}
	sk_buf_adds(b, "</section>\n");
}

/* ---- the thread: panel on its page and /watek/ID/porzadkuj --------------- */

static const struct {
	const char *key, *msg;
} done_msgs[] = {
	{ "temat-dodany", "Dodano temat do wątku." },
	{ "temat-usuniety", "Usunięto temat z wątku." },
	{ "potwierdzone", "Potwierdzono tematy wątku." },
	{ "przypiety", "Przypięto wątek jako „zacznij tutaj”." },
	{ "odpiety", "Odpięto wątek." },
	{ "podzielony", "Podzielono wątek." },
	{ "polaczony", "Dołączono wątek." },
	{ "zatwierdzona", "Zatwierdzono wiadomość: widzą ją teraz wszyscy "
	                  "partnerzy." },
	{ "zapisana", "Zapisano praktykę." },
	{ "utworzona", "Utworzono szkic praktyki. Uzupełnij go i zatwierdź." },
	{ "stan", "Zmieniono stan praktyki." },
	{ "temat-zapisany", "Zapisano temat." },
	{ "temat-nowy", "Dodano temat do taksonomii." },
	{ "cofnieta", "Cofnięto zmianę." },
};

/* The message for ?zrobione=KEY after a redirect, or NULL. */
static const char *
done_msg(const struct sk_ctx *c)
{
	const char *k = qv(c, "zrobione");
	for (size_t i = 0; k && i < SK_ARRAY_SIZE(done_msgs); i++)
		if (strcmp(k, done_msgs[i].key) == 0)
			return done_msgs[i].msg;
	return NULL;
}

static void
approve_form(struct sk_ctx *c, struct sk_buf *b, const struct sk_message_row *m,
             const char *back)
{
	form_open(c, b, "inline", "/wstrzymane");
	sk_buf_addf(b,
	            "<input type=\"hidden\" name=\"wiadomosc\" "
	            "value=\"%lld\">",
	            (long long)m->id);
	hidden(b, "powrot", back);
	sk_buf_adds(b, "<button type=\"submit\">Zatwierdź<span "
	               "class=\"visually-hidden\">: ");
	sk_buf_add_htmls(b, m->subject);
	sk_buf_adds(b, "</span></button></form>\n");
}

static void
held_item(struct sk_ctx *c, struct sk_buf *b, const struct sk_message_row *m,
          const char *back)
{
	sk_buf_addf(b, "<li><a href=\"/watek/%lld#m-%lld\">",
	            (long long)m->thread_id, (long long)m->id);
	sk_buf_add_htmls(b, m->subject && *m->subject ? m->subject
	                                              : "(bez tematu)");
	sk_buf_adds(b, "</a> <span class=\"meta\">");
	if (m->from_name && *m->from_name) {
		sk_buf_add_htmls(b, m->from_name);
		sk_buf_adds(b, " ");
	}
	sk_buf_adds(b, "&lt;");
	sk_buf_add_htmls(b, m->from_addr);
	sk_buf_adds(b, "&gt; · ");
	sk_page_time(b, m->date);
	sk_buf_adds(b, "</span> ");
	approve_form(c, b, m, back);
	sk_buf_adds(b, "</li>\n");
}

void
sk_curate_thread_panel(struct sk_ctx *c, struct sk_buf *b, int64_t thread_id)
{
	struct sk_message_row *held = NULL;
	size_t n = 0;
	struct sk_err err = { 0 };
	const char *back;

	if (!c->viewer.coordinator || !c->session.valid)
		return;
	if (sk_index_held_messages(c->req->ix, c->a, thread_id, 0, 0, &held, &n,
	                           NULL, &err)) {
		sk_log(SK_LOG_ERR, "web: held mail of thread %lld: %s",
		       (long long)thread_id, err.msg);
		n = 0;
	}
	back = sk_arena_printf(c->a, "/watek/%lld", (long long)thread_id);
	sk_buf_addf(b,
	            "<section class=\"notice curate\" "
	            "aria-labelledby=\"porzadkowanie\">\n"
	            "<h2 id=\"porzadkowanie\">Porządkowanie</h2>\n"
	            "<p><a href=\"/watek/%lld/porzadkuj\">Tematy, "
	            "przypięcia, podział i łączenie wątku</a> · "
	            "<a href=\"/praktyka/nowa?watek=%lld\">Utwórz dobrą "
	            "praktykę z wątku</a> · <a href=\"/dziennik?obiekt="
	            "thread:%lld\">Historia zmian</a></p>\n",
	            (long long)thread_id, (long long)thread_id,
	            (long long)thread_id);
	if (n) {
		sk_buf_adds(b, "<p>Wiadomości wstrzymane w tym wątku (spoza "
		               "domen partnerów):</p>\n<ul>\n");
		for (size_t i = 0; i < n; i++)
			held_item(c, b, &held[i], back);
		sk_buf_adds(b, "</ul>\n");
	}
	sk_buf_adds(b, "</section>\n");
}

struct thread_vals {
	const char *topic, *pin_topic, *note, *position, *split, *target;
};

static void
thread_page(struct sk_ctx *c, int64_t id, int status, const char *error,
            const struct thread_vals *v)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Porządkowanie wątku" };
	struct sk_thread_row t;
	struct sk_message_row *m = NULL;
	struct sk_topic_row *topics = NULL;
	size_t n = 0, n_topics = 0;
	struct sk_err err = { 0 };
	const char *done = error ? NULL : done_msg(c);
	const char *action;
	bool any_pin = false;
	enum sk_status rc;

	memset(&t, 0, sizeof(t));
	rc =
	    sk_index_thread(c->req->ix, c->a, &c->viewer, id, &t, &m, &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: thread");
		return;
	}
	if (!load_taxonomy(c, &topics, &n_topics))
		return;
	action = sk_arena_printf(c->a, "/watek/%lld/porzadkuj", (long long)id);
	c->resp->status = status;
	sk_buf_reset(b);
	sk_ctx_page_begin(c, &p);
	sk_buf_addf(b,
	            "<p class=\"crumbs\"><a href=\"/watek/%lld\">Wróć do "
	            "wątku</a> · <a href=\"/dziennik?obiekt=thread:%lld\">"
	            "Historia zmian</a></p>\n<h1>Porządkowanie wątku</h1>\n"
	            "<p class=\"lead\">",
	            (long long)id, (long long)id);
	sk_buf_add_htmls(b,
	                 t.subject && *t.subject ? t.subject : "(bez tematu)");
	sk_buf_adds(b, "</p>\n");
	error_box(b, error);
	done_box(b, done);
	if (done && qv(c, "nowy")) {
		int64_t nid = thread_ref(qv(c, "nowy"));
		if (nid)
			sk_buf_addf(b,
			            "<p><a href=\"/watek/%lld\">Przejdź do "
			            "nowego wątku</a></p>\n",
			            (long long)nid);
	}

	/* Topics. */
	sk_buf_adds(b, "<h2>Tematy</h2>\n");
	if (t.n_topics) {
		sk_buf_adds(b, "<ul>\n");
		for (size_t i = 0; i < t.n_topics; i++) {
			const char *name =
			    topic_name(topics, n_topics, t.topics[i]);
			sk_buf_adds(b, "<li>");
			sk_buf_add_htmls(b, name);
			sk_buf_adds(b, " ");
			form_open(c, b, "inline", action);
			hidden(b, "akcja", "temat-usun");
			hidden(b, "temat", t.topics[i]);
			sk_buf_adds(b, "<button type=\"submit\">Usuń<span "
			               "class=\"visually-hidden\"> temat ");
			sk_buf_add_htmls(b, name);
			sk_buf_adds(b, "</span></button></form></li>\n");
		}
		sk_buf_adds(b, "</ul>\n");
	} else {
		sk_buf_adds(b, "<p>Wątek nie ma tematów.</p>\n");
	}
	form_open(c, b, "note", action);
	hidden(b, "akcja", "temat-dodaj");
	sk_buf_adds(b, "<label for=\"temat-dodaj\">Dodaj temat</label>\n"
	               "<select id=\"temat-dodaj\" name=\"temat\">\n");
	topic_options(b, topics, n_topics, v->topic);
	sk_buf_adds(b, "</select>\n<button type=\"submit\">Dodaj temat"
	               "</button>\n</form>\n");
	if (t.n_topics) {
		form_open(c, b, "inline", action);
		hidden(b, "akcja", "tematy-potwierdz");
		sk_buf_adds(b, "<button type=\"submit\">Tematy są trafne: "
		               "potwierdź</button></form>\n");
	}
	sk_buf_adds(b, "<p class=\"hint\">Ręczne decyzje i potwierdzone tematy "
	               "zawsze wygrywają z automatyczną klasyfikacją, a "
	               "klasyfikator uczy się na nich.</p>\n");

	/* Pins. */
	sk_buf_adds(b, "<h2>Przypięcie „zacznij tutaj”</h2>\n<ul>\n");
	for (size_t i = 0; i < n_topics; i++) {
		struct sk_pin_row *pins = NULL;
		size_t np = 0;
		if (sk_index_topic_pins(c->req->ix, c->a, &c->viewer,
		                        topics[i].slug, &pins, &np, &err))
			continue;
		for (size_t k = 0; k < np; k++) {
			if (pins[k].thread.id != id)
				continue;
			any_pin = true;
			sk_buf_adds(b, "<li>W temacie <strong>");
			sk_buf_add_htmls(b, topics[i].name);
			sk_buf_addf(b, "</strong> (pozycja %d)",
			            pins[k].position);
			if (pins[k].note && *pins[k].note) {
				sk_buf_adds(b, ": ");
				sk_buf_add_htmls(b, pins[k].note);
			}
			sk_buf_adds(b, " ");
			form_open(c, b, "inline", action);
			hidden(b, "akcja", "odepnij");
			hidden(b, "temat", topics[i].slug);
			sk_buf_adds(b, "<button type=\"submit\">Odepnij<span "
			               "class=\"visually-hidden\"> z tematu ");
			sk_buf_add_htmls(b, topics[i].name);
			sk_buf_adds(b, "</span></button></form></li>\n");
		}
	}
	sk_buf_adds(b, "</ul>\n");
	if (!any_pin)
		sk_buf_adds(b, "<p>Wątek nie jest nigdzie przypięty.</p>\n");
	form_open(c, b, "note", action);
	hidden(b, "akcja", "przypnij");
	sk_buf_adds(b, "<label for=\"temat-przypnij\">Przypnij w temacie"
	               "</label>\n<select id=\"temat-przypnij\" "
	               "name=\"temat\">\n");
	topic_options(b, topics, n_topics,
	              v->pin_topic ? v->pin_topic
	                           : (t.n_topics ? t.topics[0] : NULL));
	sk_buf_adds(b, "</select>\n");
	sk_page_text_input(b, "notatka", "Dlaczego warto go przeczytać",
	                   "Jedno zdanie, najwyżej 300 znaków.", v->note, false,
	                   CUR_NOTE_MAX);
	sk_page_text_input(b, "pozycja", "Pozycja na liście",
	                   "Mniejsza liczba: wyżej. Puste: 0.", v->position,
	                   false, 4);
	sk_buf_adds(b, "<button type=\"submit\">Przypnij</button>\n</form>\n");

	/* Split. */
	sk_buf_adds(b, "<h2>Podziel wątek</h2>\n");
	if (n > 1) {
		form_open(c, b, "note", action);
		hidden(b, "akcja", "podziel");
		sk_buf_adds(b,
		            "<label for=\"wiadomosc\">Od wiadomości"
		            "</label>\n<p class=\"hint\" id=\"wiadomosc-"
		            "opis\">Wybrana wiadomość i odpowiedzi na nią "
		            "utworzą nowy wątek.</p>\n<select id=\"wiadomosc\" "
		            "name=\"wiadomosc\" aria-describedby=\"wiadomosc-"
		            "opis\">\n");
		for (size_t i = 1; i < n; i++) {
			bool sel =
			    v->split && strtoll(v->split, NULL, 10) == m[i].id;
			sk_buf_addf(b, "<option value=\"%lld\"%s>",
			            (long long)m[i].id, sel ? " selected" : "");
			sk_page_date(b, m[i].date);
			sk_buf_adds(b, " — ");
			sk_buf_add_htmls(b, m[i].from_name && *m[i].from_name
			                        ? m[i].from_name
			                        : m[i].from_addr);
			sk_buf_adds(b, " — ");
			sk_buf_add_htmls(b, m[i].subject);
			sk_buf_adds(b, "</option>\n");
		}
		sk_buf_adds(b, "</select>\n<button type=\"submit\">Podziel "
		               "wątek</button>\n</form>\n");
	} else {
		sk_buf_adds(b, "<p>Wątek ma jedną wiadomość: nie ma czego "
		               "dzielić.</p>\n");
	}

	/* Join. */
	sk_buf_adds(b, "<h2>Połącz z innym wątkiem</h2>\n");
	form_open(c, b, "note", action);
	hidden(b, "akcja", "polacz");
	sk_page_text_input(
	    b, "cel", "Numer lub adres wątku docelowego",
	    "Ten wątek zostanie dołączony do wskazanego (np. 12 albo "
	    "/watek/12).",
	    v->target, true, CUR_TARGET_MAX);
	sk_buf_adds(b, "<button type=\"submit\">Dołącz do wskazanego wątku"
	               "</button>\n</form>\n");

	/* Promote. */
	sk_buf_adds(b, "<h2>Dobra praktyka</h2>\n");
	form_open(c, b, "inline", "/praktyka/nowa");
	sk_buf_addf(b, "<input type=\"hidden\" name=\"watek\" value=\"%lld\">",
	            (long long)id);
	hidden(b, "promuj", "1");
	sk_buf_adds(b, "<button type=\"submit\">Utwórz szkic praktyki z tego "
	               "wątku</button></form>\n");
	page_done(c, &p);
}

static void
thread_get(struct sk_ctx *c, int64_t id)
{
	struct thread_vals v = { 0 };
	thread_page(c, id, 200, NULL, &v);
}

static void
thread_post(struct sk_ctx *c, int64_t id)
{
	struct thread_vals v = { 0 };
	const char *action = fv(c, "akcja");
	const char *email = c->session.email;
	struct sk_thread_row t;
	struct sk_message_row *m = NULL;
	size_t n = 0;
	struct sk_err err = { 0 };
	struct sk_index *w;
	const char *to = NULL;
	enum sk_status rc;

	if (!sk_auth_check_csrf(c))
		return;
	rc =
	    sk_index_thread(c->req->ix, c->a, &c->viewer, id, &t, &m, &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: thread");
		return;
	}
	if (!action)
		action = "";
	if (!strcmp(action, "temat-dodaj"))
		v.topic = fv(c, "temat");
	if (!strcmp(action, "przypnij")) {
		v.pin_topic = fv(c, "temat");
		v.note = fv(c, "notatka");
		v.position = fv(c, "pozycja");
	}
	v.split = fv(c, "wiadomosc");
	v.target = fv(c, "cel");

	if (!strcmp(action, "temat-dodaj") || !strcmp(action, "temat-usun") ||
	    !strcmp(action, "przypnij") || !strcmp(action, "odepnij")) {
		const char *slug = fv(c, "temat");
		if (!slug || !*slug || strlen(slug) > 64) {
			thread_page(c, id, 400, "Wybierz temat z listy.", &v);
			return;
		}
	}
	if (!strcmp(action, "przypnij")) {
		int64_t pos = 0;
		const char *ps = fv_trim(c, "pozycja");
		if (*ps && sk_parse_i64(ps, 0, 1000, &pos, NULL) != SK_OK) {
			thread_page(c, id, 400,
			            "Pozycja to liczba od 0 do 1000.", &v);
			return;
		}
		if (v.note &&
		    sk_utf8_count(v.note, strlen(v.note)) > CUR_NOTE_MAX) {
			thread_page(c, id, 400,
			            "Notatka przy przypięciu może mieć "
			            "najwyżej 300 znaków.",
			            &v);
			return;
		}
		if (v.note && strpbrk(v.note, "\r\n")) {
			thread_page(c, id, 400,
			            "Notatka przy przypięciu to jedna linia.",
			            &v);
			return;
		}
		w = sk_ctx_writer(c);
		if (!w)
			return;
		rc = sk_index_topic_pin(w, fv(c, "temat"), id, (int)pos,
		                        fv_trim(c, "notatka"), email, NULL,
		                        &err);
		to = "przypiety";
	} else if (!strcmp(action, "odepnij")) {
		w = sk_ctx_writer(c);
		if (!w)
			return;
		rc = sk_index_topic_unpin(w, fv(c, "temat"), id, email, NULL,
		                          &err);
		if (rc == SK_ENOTFOUND) {
			thread_page(c, id, 400,
			            "Ten wątek nie jest przypięty w tym "
			            "temacie.",
			            &v);
			return;
		}
		to = "odpiety";
	} else if (!strcmp(action, "temat-dodaj") ||
	           !strcmp(action, "temat-usun")) {
		bool add = !strcmp(action, "temat-dodaj");
		w = sk_ctx_writer(c);
		if (!w)
			return;
		rc = sk_index_thread_topic(w, id, fv(c, "temat"),
		                           add ? SK_TOPIC_ADD : SK_TOPIC_REMOVE,
		                           email, NULL, &err);
		to = add ? "temat-dodany" : "temat-usuniety";
	} else if (!strcmp(action, "tematy-potwierdz")) {
		w = sk_ctx_writer(c);
		if (!w)
			return;
		rc = sk_index_thread_topics_confirm(w, id, email, NULL, &err);
		to = "potwierdzone";
	} else if (!strcmp(action, "podziel")) {
		int64_t msg = 0;
		int64_t nid = 0;
		bool ours = false;
		if (!v.split ||
		    sk_parse_i64(v.split, 1, INT64_MAX, &msg, NULL) != SK_OK) {
			thread_page(c, id, 400,
			            "Wybierz wiadomość, od której podzielić "
			            "wątek.",
			            &v);
			return;
		}
		for (size_t i = 0; i < n; i++)
			ours = ours || m[i].id == msg;
		if (!ours) {
			thread_page(c, id, 400,
			            "Ta wiadomość nie należy do tego wątku.",
			            &v);
			return;
		}
		w = sk_ctx_writer(c);
		if (!w)
			return;
		rc = sk_index_thread_split(w, msg, email, &nid, NULL, &err);
		if (!rc) {
			sk_ctx_redirect(
			    c, 303,
			    sk_arena_printf(c->a,
			                    "/watek/%lld/porzadkuj?zrobione="
			                    "podzielony&nowy=%lld",
			                    (long long)id, (long long)nid));
			return;
		}
	} else if (!strcmp(action, "polacz")) {
		int64_t into = thread_ref(v.target ? fv_trim(c, "cel") : NULL);
		if (!into) {
			thread_page(c, id, 400,
			            "Podaj numer wątku docelowego albo jego "
			            "adres, np. /watek/12.",
			            &v);
			return;
		}
		if (into == id) {
			thread_page(c, id, 400,
			            "Nie można połączyć wątku z nim samym.",
			            &v);
			return;
		}
		w = sk_ctx_writer(c);
		if (!w)
			return;
		rc = sk_index_thread_join(w, into, id, email, NULL, &err);
		if (rc == SK_ENOTFOUND) {
			thread_page(c, id, 400,
			            sk_arena_printf(
			                c->a, "Nie ma wątku o numerze %lld.",
			                (long long)into),
			            &v);
			return;
		}
		if (!rc) {
			sk_ctx_redirect(c, 303,
			                sk_arena_printf(c->a,
			                                "/watek/%lld/porzadkuj?"
			                                "zrobione=polaczony",
			                                (long long)into));
			return;
		}
	} else {
		thread_page(c, id, 400, "Nieznana czynność.", &v);
		return;
	}
	if (rc == SK_ENOTFOUND) {
		thread_page(c, id, 400, "Nie ma takiego tematu.", &v);
		return;
	}
	if (rc == SK_EINVAL || rc == SK_ETOOBIG) {
		thread_page(c, id, 400,
		            user_msg(c, &err, "Tej zmiany nie można wykonać."),
		            &v);
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: thread change");
		return;
	}
	sk_ctx_redirect(c, 303,
	                sk_arena_printf(c->a,
	                                "/watek/%lld/porzadkuj?zrobione=%s",
	                                (long long)id, to));
}

/* ---- held mail: /wstrzymane ---------------------------------------------- */

static void
held_page(struct sk_ctx *c, int status, const char *error)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Wstrzymana poczta",
		             .nav = SK_NAV_CURATE };
	struct sk_message_row *rows = NULL;
	size_t n = 0;
	int64_t total = 0, page = 1;
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (!sk_ctx_page_arg(c, &page)) {
		sk_ctx_error(c, 400, "Nieprawidłowy numer strony.");
		return;
	}
	rc = sk_index_held_messages(c->req->ix, c->a, 0,
	                            (size_t)(page - 1) * CUR_HELD_PER_PAGE,
	                            CUR_HELD_PER_PAGE, &rows, &n, &total, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: held mail");
		return;
	}
	c->resp->status = status;
	sk_buf_reset(b);
	sk_ctx_page_begin(c, &p);
	curate_menu(b);
	sk_buf_adds(b, "<h1>Wstrzymana poczta</h1>\n<p class=\"lead\">"
	               "Wiadomości od nadawców spoza domen partnerów. "
	               "Partnerzy zobaczą je dopiero po zatwierdzeniu.</p>\n");
	error_box(b, error);
	done_box(b, error ? NULL : done_msg(c));
	if (!total) {
		sk_buf_adds(b, "<p>Nic nie czeka na zatwierdzenie.</p>\n");
	} else {
		sk_buf_adds(b, "<p>");
		sk_page_count(b, total, "wiadomość czeka", "wiadomości czekają",
		              "wiadomości czeka");
		sk_buf_adds(b,
		            " na zatwierdzenie.</p>\n<ul class=\"notes\">\n");
		for (size_t i = 0; i < n; i++)
			held_item(c, b, &rows[i], "/wstrzymane");
		sk_buf_adds(b, "</ul>\n");
		sk_page_pager(b, "/wstrzymane?", page,
		              (total + CUR_HELD_PER_PAGE - 1) /
		                  CUR_HELD_PER_PAGE);
	}
	page_done(c, &p);
}

static void
held_post(struct sk_ctx *c)
{
	static const struct refusal no = {
		.page = held_page,
		.not_found = "Nie ma takiej wiadomości.",
		.bad_status = 400,
		.bad = "Tej wiadomości nie można zatwierdzić.",
		.what = "curate: approve",
	};
	const char *back = local_back(fv(c, "powrot"), "/wstrzymane");
	struct sk_err err = { 0 };
	struct sk_index *w;
	int64_t id;
	enum sk_status rc;

	w = sk_auth_post_row(c, "wiadomosc", &id, held_page,
	                     "Nieprawidłowy numer wiadomości.");
	if (!w)
		return;
	rc = sk_index_message_approve(w, id, c->session.email, NULL, &err);
	if (refused(c, rc, &err, &no))
		return;
	sk_ctx_redirect(c, 303,
	                sk_arena_printf(c->a, "%s%czrobione=zatwierdzona", back,
	                                strchr(back, '?') ? '&' : '?'));
}

/* ---- practice records: /praktyka/nowa, /praktyka/ID/edytuj, /stan -------- */

static bool
has_slug(const char *const *v, size_t n, const char *slug)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], slug) == 0)
			return true;
	return false;
}

static bool
has_id(const int64_t *v, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

/* The attachment ids of a record read from the store (update needs them
 * as input). */
static void
practice_ids_from_out(struct sk_ctx *c, struct sk_practice *p)
{
	int64_t *ids =
	    sk_arena_alloc(c->a, (p->n_attachments + 1) * sizeof(*ids));
	for (size_t i = 0; i < p->n_attachments; i++)
		ids[i] = p->attachments[i].id;
	p->attachment_ids = ids;
	p->n_attachment_ids = p->n_attachments;
}

static void
attachment_check(struct sk_buf *b, int64_t id, const char *name, bool on)
{
	sk_buf_addf(b,
	            "<li><input type=\"checkbox\" name=\"zalacznik\" "
	            "id=\"zal-%lld\" value=\"%lld\"%s> <label "
	            "for=\"zal-%lld\">",
	            (long long)id, (long long)id, on ? " checked" : "",
	            (long long)id);
	sk_buf_add_htmls(b, name && *name ? name : "(bez nazwy)");
	sk_buf_adds(b, "</label></li>\n");
}

/* The form of a record: p holds what to show (from the store or as
 * typed); id 0 = a new record. */
static void
practice_page(struct sk_ctx *c, int64_t id, int status, const char *error,
              const struct sk_practice *p, const char *thread_typed)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p_ = { .title =
		                  id ? "Edycja praktyki" : "Nowa praktyka" };
	struct sk_topic_row *topics = NULL;
	struct sk_partner_row *partners = NULL;
	size_t n_topics = 0, n_partners = 0, shown = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;
	const char *action =
	    id ? sk_arena_printf(c->a, "/praktyka/%lld/edytuj", (long long)id)
	       : "/praktyka/nowa";

	if (!load_taxonomy(c, &topics, &n_topics))
		return;
	rc = sk_index_partners(c->req->ix, c->a, &partners, &n_partners, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: partners");
		return;
	}
	c->resp->status = status;
	sk_buf_reset(b);
	sk_ctx_page_begin(c, &p_);
	sk_buf_adds(b, "<p class=\"crumbs\"><a href=\"/praktyki\">Dobre "
	               "praktyki</a>");
	if (id)
		sk_buf_addf(b,
		            " · <a href=\"/praktyka/%lld\">Zobacz praktykę"
		            "</a> · <a href=\"/dziennik?obiekt=practice:%lld\">"
		            "Historia zmian</a>",
		            (long long)id, (long long)id);
	sk_buf_addf(b, "</p>\n<h1>%s</h1>\n", p_.title);
	error_box(b, error);
	done_box(b, error ? NULL : done_msg(c));
	form_open(c, b, "note", action);
	sk_page_text_input(b, "tytul", "Tytuł", NULL, p->title, true, 300);
	sk_buf_adds(b, "<label for=\"gmina\">Samorząd (partner)</label>\n"
	               "<select id=\"gmina\" name=\"gmina\">\n<option "
	               "value=\"\">(brak)</option>\n");
	for (size_t i = 0; i < n_partners; i++) {
		sk_buf_adds(b, "<option value=\"");
		sk_buf_add_htmls(b, partners[i].slug);
		sk_buf_addf(b, "\"%s>",
		            p->partner_slug && strcmp(p->partner_slug,
		                                      partners[i].slug) == 0
		                ? " selected"
		                : "");
		sk_buf_add_htmls(b, partners[i].name);
		sk_buf_adds(b, "</option>\n");
	}
	sk_buf_adds(b, "</select>\n<fieldset class=\"topics\">\n<legend>"
	               "Tematy</legend>\n<ul class=\"checks\">\n");
	for (size_t i = 0; i < n_topics; i++) {
		sk_buf_addf(b,
		            "<li><input type=\"checkbox\" name=\"temat\" "
		            "id=\"temat-%lld\" value=\"",
		            (long long)topics[i].id);
		sk_buf_add_htmls(b, topics[i].slug);
		sk_buf_addf(b, "\"%s> <label for=\"temat-%lld\">",
		            has_slug(p->topics, p->n_topics, topics[i].slug)
		                ? " checked"
		                : "",
		            (long long)topics[i].id);
		sk_buf_add_htmls(b, topics[i].name);
		sk_buf_adds(b, "</label></li>\n");
	}
	sk_buf_adds(b, "</ul>\n</fieldset>\n");
	input_area(b, "problem", "Problem",
	           "Jaki problem rozwiązano? Markdown dozwolony.", p->problem,
	           6);
	input_area(b, "rozwiazanie", "Rozwiązanie", NULL, p->solution, 8);
	input_area(b, "efekty", "Efekty", NULL, p->results, 4);
	input_area(b, "koszty", "Koszty i źródła finansowania", NULL, p->costs,
	           3);
	sk_page_text_input(b, "okres", "Okres realizacji", "Np. 2023–2024.",
	                   p->period, false, 300);
	input_area(b, "uczestnicy", "Partnerzy i uczestnicy", NULL,
	           p->stakeholders, 3);
	input_area(b, "wnioski", "Trudności i wnioski", NULL, p->lessons, 4);
	sk_page_text_input(b, "kontakt_imie", "Osoba do kontaktu",
	                   "Widoczna tylko dla zalogowanych partnerów.",
	                   p->contact_name, false, 300);
	sk_page_text_input(b, "kontakt_email", "E-mail osoby do kontaktu", NULL,
	                   p->contact_email, false, 254);
	sk_page_text_input(b, "watek", "Wątek źródłowy",
	                   "Numer lub adres wątku, np. /watek/12. Puste: brak.",
	                   thread_typed, false, CUR_TARGET_MAX);
	sk_buf_adds(b, "<fieldset class=\"topics\">\n<legend>Załączniki"
	               "</legend>\n<p class=\"hint\">Można dołączyć "
	               "załączniki z poczty wątku źródłowego.</p>\n"
	               "<ul class=\"checks\">\n");
	for (size_t i = 0; i < p->n_attachments; i++, shown++)
		attachment_check(b, p->attachments[i].id,
		                 p->attachments[i].filename,
		                 has_id(p->attachment_ids, p->n_attachment_ids,
		                        p->attachments[i].id));
	if (p->source_thread_id > 0) {
		struct sk_thread_row t;
		struct sk_message_row *m = NULL;
		size_t n = 0;
		if (sk_index_thread(c->req->ix, c->a, &c->viewer,
		                    p->source_thread_id, &t, &m, &n,
		                    &err) == SK_OK) {
			for (size_t i = 0; i < n; i++)
				for (size_t k = 0; k < m[i].n_attachments;
				     k++) {
					const struct sk_attachment_row *at =
					    &m[i].attachments[k];
					bool listed = false;
					for (size_t j = 0; j < p->n_attachments;
					     j++)
						listed = listed ||
						         p->attachments[j].id ==
						             at->id;
					if (listed || shown >= CUR_ATTACH_MAX)
						continue;
					attachment_check(
					    b, at->id, at->filename,
					    has_id(p->attachment_ids,
					           p->n_attachment_ids,
					           at->id));
					shown++;
				}
		}
	}
	sk_buf_adds(b, "</ul>\n");
	if (!shown)
		sk_buf_adds(b, "<p>Brak załączników do wyboru.</p>\n");
	sk_buf_adds(b, "</fieldset>\n<label for=\"stan\">Stan</label>\n"
	               "<select id=\"stan\" name=\"stan\">\n");
	for (int s = SK_PRACTICE_DRAFT; s <= SK_PRACTICE_ARCHIVED; s++)
		sk_buf_addf(b, "<option value=\"%s\"%s>%s</option>\n",
		            sk_practice_status_name((enum sk_practice_status)s),
		            (int)p->status == s ? " selected" : "",
		            s == SK_PRACTICE_DRAFT       ? "szkic (tylko "
		                                           "koordynatorzy)"
		            : s == SK_PRACTICE_VALIDATED ? "zatwierdzona "
		                                           "(widoczna dla "
		                                           "wszystkich)"
		                                         : "archiwalna (tylko "
		                                           "koordynatorzy)");
	sk_buf_adds(b, "</select>\n<button type=\"submit\">Zapisz praktykę"
	               "</button>\n</form>\n");
	page_done(c, &p_);
}

/* Read the form into p (strings from the request). false: a 400 page is
 * set already. */
static bool
practice_from_form(struct sk_ctx *c, int64_t id, struct sk_practice *p,
                   const char **thread_typed)
{
	const char **topics =
	    sk_arena_alloc(c->a, CUR_TOPICS_MAX * sizeof(*topics));
	int64_t *att = sk_arena_alloc(c->a, CUR_ATTACH_MAX * sizeof(*att));
	const char *st = fv(c, "stan");
	const char *th = fv_trim(c, "watek");
	const char *error = NULL;

	memset(p, 0, sizeof(*p));
	p->id = id;
	p->title = fv_trim(c, "tytul");
	p->partner_slug = fv(c, "gmina");
	if (p->partner_slug && !*p->partner_slug)
		p->partner_slug = NULL;
	p->topics = topics;
	p->attachment_ids = att;
	p->problem = fv(c, "problem");
	p->solution = fv(c, "rozwiazanie");
	p->results = fv(c, "efekty");
	p->costs = fv(c, "koszty");
	p->period = fv_trim(c, "okres");
	p->stakeholders = fv(c, "uczestnicy");
	p->lessons = fv(c, "wnioski");
	p->contact_name = fv_trim(c, "kontakt_imie");
	p->contact_email = fv_trim(c, "kontakt_email");
	*thread_typed = th;
	for (size_t i = 0; i < c->req->n_form; i++) {
		const struct sk_param *f = &c->req->form[i];
		if (!strcmp(f->name, "temat") && *f->value) {
			if (p->n_topics == CUR_TOPICS_MAX)
				error = "Wybierz najwyżej 32 tematy.";
			else if (!has_slug(topics, p->n_topics, f->value))
				topics[p->n_topics++] = f->value;
		} else if (!strcmp(f->name, "zalacznik") && *f->value) {
			int64_t a;
			if (sk_parse_i64(f->value, 1, INT64_MAX, &a, NULL))
				error = "Nieprawidłowy załącznik.";
			else if (p->n_attachment_ids == CUR_ATTACH_MAX)
				error = "Wybierz najwyżej 100 załączników.";
			else if (!has_id(att, p->n_attachment_ids, a))
				att[p->n_attachment_ids++] = a;
		}
	}
	if (!st || sk_practice_status_parse(st, &p->status) != SK_OK)
		error = error ? error : "Wybierz stan praktyki z listy.";
	if (*th) {
		p->source_thread_id = thread_ref(th);
		if (!p->source_thread_id)
			error = error
			            ? error
			            : "Wątek źródłowy: podaj numer albo adres "
			              "wątku, np. /watek/12.";
	}
	if (!error && p->source_thread_id) {
		struct sk_thread_row t;
		struct sk_message_row *m;
		size_t n;
		struct sk_err err = { 0 };
		if (sk_index_thread(c->req->ix, c->a, &c->viewer,
		                    p->source_thread_id, &t, &m, &n, &err))
			error = sk_arena_printf(c->a,
			                        "Nie ma wątku o numerze %lld.",
			                        (long long)p->source_thread_id);
	}
	if (!error && p->partner_slug) {
		struct sk_partner_row *rows;
		size_t n = 0;
		bool found = false;
		struct sk_err err = { 0 };
		if (sk_index_partners(c->req->ix, c->a, &rows, &n, &err) ==
		    SK_OK)
			for (size_t i = 0; i < n; i++)
				found = found || strcmp(rows[i].slug,
				                        p->partner_slug) == 0;
		if (!found)
			error = "Wybierz samorząd z listy.";
	}
	if (!error && p->n_topics) {
		struct sk_topic_row *t;
		size_t n;
		if (!load_taxonomy(c, &t, &n))
			return false;
		for (size_t i = 0; i < p->n_topics && !error; i++)
			if (!topic_find(t, n, topics[i]))
				error = sk_arena_printf(
				    c->a, "Nie ma tematu „%s”.", topics[i]);
	}
	if (error) {
		practice_page(c, id, 400, error, p, th);
		return false;
	}
	return true;
}

static void
practice_save_result(struct sk_ctx *c, int64_t id, enum sk_status rc,
                     const struct sk_err *err, const struct sk_practice *p,
                     const char *th, const char *done)
{
	if (rc == SK_EINVAL || rc == SK_ETOOBIG) {
		practice_page(c, id, 400,
		              user_msg(c, err, "Formularz zawiera błąd."), p,
		              th);
		return;
	}
	if (rc == SK_ENOTFOUND) {
		practice_page(c, id, 400,
		              "Wybrany załącznik, temat lub samorząd nie "
		              "istnieje.",
		              p, th);
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, err, "curate: practice");
		return;
	}
	sk_ctx_redirect(c, 303,
	                sk_arena_printf(c->a,
	                                "/praktyka/%lld/edytuj?zrobione=%s",
	                                (long long)id, done));
}

static void
practice_new_get(struct sk_ctx *c)
{
	const char *ws = qv(c, "watek");
	struct sk_practice p = { 0 };
	struct sk_buf *b = &c->resp->body;
	struct sk_page pg = { .title = "Nowa praktyka z wątku" };
	struct sk_thread_row t;
	struct sk_message_row *m;
	size_t n;
	struct sk_err err = { 0 };
	int64_t tid;
	enum sk_status rc;

	if (!ws) {
		practice_page(c, 0, 200, NULL, &p, "");
		return;
	}
	tid = thread_ref(ws);
	if (!tid) {
		sk_ctx_error(c, 400, "Nieprawidłowy numer wątku.");
		return;
	}
	rc = sk_index_thread(c->req->ix, c->a, &c->viewer, tid, &t, &m, &n,
	                     &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: promote form");
		return;
	}
	sk_ctx_page_begin(c, &pg);
	sk_buf_adds(b, "<h1>Nowa praktyka z wątku</h1>\n<p class=\"lead\">");
	sk_buf_add_htmls(b,
	                 t.subject && *t.subject ? t.subject : "(bez tematu)");
	sk_buf_adds(b, "</p>\n<p>Skarbnica utworzy szkic praktyki: tytuł z "
	               "tematu wątku, problem z pierwszej wiadomości, "
	               "rozwiązanie, samorząd i osobę do kontaktu z "
	               "najdłuższej odpowiedzi innego partnera, tematy i "
	               "załączniki wątku. Potem go poprawisz i zatwierdzisz."
	               "</p>\n");
	form_open(c, b, "inline", "/praktyka/nowa");
	sk_buf_addf(b, "<input type=\"hidden\" name=\"watek\" value=\"%lld\">",
	            (long long)tid);
	hidden(b, "promuj", "1");
	sk_buf_adds(b, "<button type=\"submit\">Utwórz szkic praktyki"
	               "</button></form>\n");
	page_done(c, &pg);
}

static const struct refusal promote_refusal = {
	.page = sk_ctx_error,
	.not_found = "Nie ma takiego wątku.",
	.bad_status = 400,
	.bad = "Z tego wątku nie można utworzyć praktyki.",
	.what = "curate: promote",
};

static void
practice_new_post(struct sk_ctx *c)
{
	struct sk_practice p;
	const char *th = "";
	struct sk_err err = { 0 };
	struct sk_index *w;
	int64_t id = 0;
	enum sk_status rc;

	if (!sk_auth_check_csrf(c))
		return;
	if (fv(c, "promuj")) {
		int64_t tid = thread_ref(fv(c, "watek"));
		if (!tid) {
			sk_ctx_error(c, 400, "Nieprawidłowy numer wątku.");
			return;
		}
		w = sk_ctx_writer(c);
		if (!w)
			return;
		rc = sk_index_practice_promote(w, tid, c->session.email, &id,
		                               NULL, &err);
		if (refused(c, rc, &err, &promote_refusal))
			return;
		sk_ctx_redirect(c, 303,
		                sk_arena_printf(c->a,
		                                "/praktyka/%lld/edytuj?"
		                                "zrobione=utworzona",
		                                (long long)id));
		return;
	}
	if (!practice_from_form(c, 0, &p, &th))
		return;
	w = sk_ctx_writer(c);
	if (!w)
		return;
	rc = sk_index_practice_create(w, &p, c->session.email, &id, NULL, &err);
	practice_save_result(c, id, rc, &err, &p, th, "zapisana");
}

/* The record as the coordinator sees it; false: an error page is set. */
static bool
practice_load(struct sk_ctx *c, int64_t id, struct sk_practice *p)
{
	if (!sk_practice_load(c, id, p, sk_ctx_error, "curate: practice"))
		return false;
	practice_ids_from_out(c, p);
	return true;
}

static void
practice_edit_get(struct sk_ctx *c, int64_t id)
{
	struct sk_practice p;
	if (!practice_load(c, id, &p))
		return;
	practice_page(
	    c, id, 200, NULL, &p,
	    p.source_thread_id
	        ? sk_arena_printf(c->a, "%lld", (long long)p.source_thread_id)
	        : "");
}

static void
practice_edit_post(struct sk_ctx *c, int64_t id)
{
	struct sk_practice old, p;
	const char *th = "";
	struct sk_err err = { 0 };
	struct sk_index *w;
	enum sk_status rc;

	if (!sk_auth_check_csrf(c))
		return;
	if (!practice_load(c, id, &old))
		return;
	if (!practice_from_form(c, id, &p, &th))
		return;
	/* Keep showing the linked attachments after an error. */
	p.attachments = old.attachments;
	p.n_attachments = old.n_attachments;
	w = sk_ctx_writer(c);
	if (!w)
		return;
	rc = sk_index_practice_update(w, &p, c->session.email, NULL, &err);
	practice_save_result(c, id, rc, &err, &p, th, "zapisana");
}

static void
practice_status_post(struct sk_ctx *c, int64_t id)
{
	struct sk_practice p;
	const char *st = fv(c, "stan");
	const char *back = local_back(
	    fv(c, "powrot"),
	    sk_arena_printf(c->a, "/praktyka/%lld/edytuj", (long long)id));
	struct sk_err err = { 0 };
	struct sk_index *w;
	enum sk_status rc;

	if (!sk_auth_check_csrf(c))
		return;
	if (!practice_load(c, id, &p))
		return;
	if (!st || sk_practice_status_parse(st, &p.status) != SK_OK) {
		sk_ctx_error(c, 400, "Nieznany stan praktyki.");
		return;
	}
	w = sk_ctx_writer(c);
	if (!w)
		return;
	rc = sk_index_practice_update(w, &p, c->session.email, NULL, &err);
	if (rc == SK_EINVAL || rc == SK_ETOOBIG || rc == SK_ENOTFOUND) {
		sk_ctx_error(c, 400,
		             user_msg(c, &err,
		                      "Nie udało się zmienić stanu "
		                      "praktyki."));
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: practice status");
		return;
	}
	sk_ctx_redirect(c, 303,
	                sk_arena_printf(c->a, "%s%czrobione=stan", back,
	                                strchr(back, '?') ? '&' : '?'));
}

/* ---- the audit log: /dziennik, /dziennik/cofnij -------------------------- */

static const struct {
	const char *action, *label;
} action_labels[] = {
	{ "thread.topic", "Zmiana tematów wątku" },
	{ "thread.confirm", "Potwierdzenie tematów wątku" },
	{ "thread.split", "Podział wątku" },
	{ "thread.join", "Połączenie wątków" },
	{ "topic.pin", "Przypięcie wątku „zacznij tutaj”" },
	{ "topic.unpin", "Odpięcie wątku" },
	{ "topic.add", "Dodanie tematu do taksonomii" },
	{ "topic.edit", "Zmiana tematu w taksonomii" },
	{ "message.approve", "Zatwierdzenie wstrzymanej wiadomości" },
	{ "practice.create", "Utworzenie praktyki" },
	{ "practice.update", "Zmiana praktyki" },
	{ "practice.promote", "Utworzenie praktyki z wątku" },
	{ "undo", "Cofnięcie zmiany" },
	{ "note.post", "Notatka ze spotkania" },
	{ "outbox.requeue", "Ponowienie wysyłki" },
	{ "forget", "Usunięcie danych osoby (RODO)" },
	{ "login.password", "Logowanie hasłem" },
	{ "login.password.failed", "Nieudane logowanie hasłem" },
	{ "login.link", "Logowanie linkiem" },
	{ "login.link.failed", "Nieudane logowanie linkiem" },
	{ "login.link.refused", "Odmowa wysłania linku logowania" },
	{ "login.link.sent", "Wysłanie linku logowania" },
};

static const char *
action_label(const char *action)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(action_labels); i++)
		if (strcmp(action, action_labels[i].action) == 0)
			return action_labels[i].label;
	return NULL;
}

/* "add rodo" (thread.topic's detail) -> "dodano temat: Ochrona danych". */
static void
topic_detail(struct sk_buf *b, const char *detail, const struct sk_topic_row *t,
             size_t n)
{
	static const struct {
		const char *verb, *pl;
	} verbs[] = { { "add ", "dodano temat: " },
		      { "remove ", "usunięto temat: " },
		      { "auto ", "temat wraca do klasyfikacji: " } };
	for (size_t i = 0; i < SK_ARRAY_SIZE(verbs); i++)
		if (sk_starts_with(detail, verbs[i].verb)) {
			const char *slug = detail + strlen(verbs[i].verb);
			sk_buf_adds(b, verbs[i].pl);
			sk_buf_add_htmls(b, topic_name(t, n, slug));
			return;
		}
	sk_buf_add_htmls(b, detail);
}

/* The objects of a row as links: "thread:12 pin:rodo" -> wątek 12, ... */
static void
audit_objects(struct sk_buf *b, const char *objects,
              const struct sk_topic_row *t, size_t n)
{
	const char *p = objects;
	bool first = true;

	while (p && *p) {
		size_t len = strcspn(p, " ");
		char tok[160];
		const char *colon;
		int64_t id = 0;

		if (len && len < sizeof(tok)) {
			memcpy(tok, p, len);
			tok[len] = '\0';
			colon = strchr(tok, ':');
			if (!first)
				sk_buf_adds(b, ", ");
			first = false;
			if (colon && sk_parse_i64(colon + 1, 1, INT64_MAX, &id,
			                          NULL) != SK_OK)
				id = 0;
			if (sk_starts_with(tok, "thread:") && id)
				sk_buf_addf(b,
				            "<a href=\"/watek/%lld\">wątek "
				            "%lld</a>",
				            (long long)id, (long long)id);
			else if (sk_starts_with(tok, "practice:") && id)
				sk_buf_addf(b,
				            "<a href=\"/praktyka/%lld\">"
				            "praktyka %lld</a>",
				            (long long)id, (long long)id);
			else if (sk_starts_with(tok, "message:") && id)
				sk_buf_addf(b, "wiadomość %lld", (long long)id);
			else if (sk_starts_with(tok, "user:") && id)
				sk_buf_addf(b, "użytkownik %lld",
				            (long long)id);
			else if (sk_starts_with(tok, "topic:") ||
			         sk_starts_with(tok, "pin:")) {
				const char *slug = strchr(tok, ':') + 1;
				sk_buf_adds(b, *tok == 'p' ? "przypięcie w "
				                             "temacie "
				                           : "temat ");
				sk_buf_add_htmls(b, topic_name(t, n, slug));
			} else
				sk_buf_add_htmls(b, tok);
		}
		p += len;
		p += strspn(p, " ");
	}
}

/* A filter ?obiekt=thread:12: a kind, a colon, a slug or a number. */
static const char *
audit_object_arg(struct sk_ctx *c)
{
	const char *o = qv(c, "obiekt");
	const char *colon;
	if (!o || !*o)
		return NULL;
	colon = strchr(o, ':');
	if (strlen(o) > 80 || !colon || colon == o || !colon[1] ||
	    strspn(o, "abcdefghijklmnopqrstuvwxyz") != (size_t)(colon - o) ||
	    strspn(colon + 1, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	        strlen(colon + 1))
		return "";
	return o;
}

static void
audit_page(struct sk_ctx *c, int status, const char *error)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Dziennik zmian", .nav = SK_NAV_CURATE };
	struct sk_audit_row *rows = NULL;
	struct sk_topic_row *topics = NULL;
	size_t n = 0, n_topics = 0;
	int64_t page = 1;
	const char *object = audit_object_arg(c);
	const char *undone = qv(c, "cofnieto");
	struct sk_err err = { 0 };
	struct sk_buf base;
	enum sk_status rc;

	if (!sk_ctx_page_arg(c, &page)) {
		sk_ctx_error(c, 400, "Nieprawidłowy numer strony.");
		return;
	}
	if (object && !*object) {
		sk_ctx_error(c, 400, "Nieprawidłowy filtr dziennika.");
		return;
	}
	if (!load_taxonomy(c, &topics, &n_topics))
		return;
	/* One row more than shown: is there an older page? */
	rc = sk_index_audit_list(c->req->ix, c->a, object,
	                         (size_t)(page - 1) * CUR_AUDIT_PER_PAGE,
	                         CUR_AUDIT_PER_PAGE + 1, &rows, &n, &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: audit");
		return;
	}
	c->resp->status = status;
	sk_buf_reset(b);
	sk_ctx_page_begin(c, &p);
	curate_menu(b);
	sk_buf_adds(b, "<h1>Dziennik zmian</h1>\n<p class=\"lead\">Kto, kiedy "
	               "i co zmienił. Zmianę można cofnąć, jeśli żadna "
	               "późniejsza nie dotyczy tych samych rzeczy.</p>\n");
	if (object) {
		sk_buf_adds(b, "<p>Tylko zmiany dotyczące: ");
		audit_objects(b, object, topics, n_topics);
		sk_buf_adds(b, " · <a href=\"/dziennik\">pokaż wszystkie</a>"
		               "</p>\n");
	}
	error_box(b, error);
	if (!error && undone) {
		int64_t u;
		if (sk_parse_i64(undone, 1, INT64_MAX, &u, NULL) == SK_OK)
			sk_buf_addf(b,
			            "<div class=\"notice\" role=\"status\"><p>"
			            "Cofnięto zmianę nr %lld.</p></div>\n",
			            (long long)u);
	}
	if (!n) {
		sk_buf_adds(b, "<p>Brak wpisów.</p>\n");
	} else {
		/* A list, not a table: it fits a phone's width. */
		sk_buf_adds(b, "<ul class=\"notes audit\">\n");
	}
	for (size_t i = 0; i < n && i < CUR_AUDIT_PER_PAGE; i++) {
		const struct sk_audit_row *r = &rows[i];
		const char *label = action_label(r->action);
		sk_buf_addf(b, "<li id=\"wpis-%lld\"><strong>",
		            (long long)r->id);
		if (label)
			sk_buf_adds(b, label);
		else
			sk_buf_add_htmls(b, r->action);
		if (!strcmp(r->action, "thread.topic") && r->detail &&
		    *r->detail) {
			sk_buf_adds(b, ": ");
			topic_detail(b, r->detail, topics, n_topics);
		} else if ((sk_starts_with(r->action, "practice.") ||
		            sk_starts_with(r->action, "topic.") ||
		            !strcmp(r->action, "note.post")) &&
		           r->detail && *r->detail &&
		           strcmp(r->action, "topic.pin") &&
		           strcmp(r->action, "topic.unpin")) {
			sk_buf_adds(b, ": „");
			sk_buf_add_htmls(b, r->detail);
			sk_buf_adds(b, "”");
		}
		if (r->undo_of)
			sk_buf_addf(b, " nr <a href=\"#wpis-%lld\">%lld</a>",
			            (long long)r->undo_of,
			            (long long)r->undo_of);
		if (r->undone_by)
			sk_buf_addf(b,
			            " <span class=\"muted\">(cofnięta: nr "
			            "%lld)</span>",
			            (long long)r->undone_by);
		sk_buf_adds(b, "</strong><br><span class=\"meta\">");
		if (r->object && *r->object) {
			audit_objects(b, r->object, topics, n_topics);
			sk_buf_adds(b, " · ");
		}
		sk_buf_addf(b, "nr %lld · ", (long long)r->id);
		sk_page_time(b, r->at);
		sk_buf_adds(b, " · ");
		sk_buf_add_htmls(b, r->actor);
		sk_buf_adds(b, "</span> ");
		if (r->can_undo) {
			form_open(c, b, "inline", "/dziennik/cofnij");
			sk_buf_addf(b,
			            "<input type=\"hidden\" name=\"id\" "
			            "value=\"%lld\"><button type=\"submit\">"
			            "Cofnij<span class=\"visually-hidden\"> "
			            "zmianę nr %lld</span></button></form>",
			            (long long)r->id, (long long)r->id);
		}
		sk_buf_adds(b, "</li>\n");
	}
	if (n)
		sk_buf_adds(b, "</ul>\n");
	sk_buf_init(&base, 256);
	sk_buf_adds(&base, "/dziennik?");
	if (object)
		sk_buf_addf(&base, "obiekt=%s&amp;", object);
	if (page > 1 || n > CUR_AUDIT_PER_PAGE) {
		sk_buf_adds(b, "<nav class=\"pager\" aria-label=\"Strony "
		               "dziennika\"><p>");
		if (page > 1)
			sk_buf_addf(b,
			            "<a href=\"%sstrona=%lld\" "
			            "rel=\"prev\">Nowsze</a> ",
			            base.p, (long long)(page - 1));
		if (n > CUR_AUDIT_PER_PAGE && page < SK_WEB_MAX_PAGE)
			sk_buf_addf(b,
			            "<a href=\"%sstrona=%lld\" "
			            "rel=\"next\">Starsze</a>",
			            base.p, (long long)(page + 1));
		sk_buf_adds(b, "</p></nav>\n");
	}
	sk_buf_release(&base);
	page_done(c, &p);
}

static void
audit_undo_post(struct sk_ctx *c)
{
	static const struct refusal no = {
		.page = audit_page,
		.not_found = "Nie ma takiej zmiany w dzienniku.",
		.bad_status = 409,
		.bad = "Tej zmiany nie można cofnąć.",
		.what = "curate: undo",
	};
	struct sk_err err = { 0 };
	struct sk_index *w;
	int64_t id;

	w = sk_auth_post_row(c, "id", &id, audit_page,
	                     "Nieprawidłowy numer zmiany.");
	if (!w)
		return;
	if (refused(c, sk_index_audit_undo(w, id, c->session.email, &err), &err,
	            &no))
		return;
	sk_ctx_redirect(
	    c, 303,
	    sk_arena_printf(c->a, "/dziennik?cofnieto=%lld", (long long)id));
}

/* ---- the taxonomy: /tematy/edytuj -----------------------------------------
 */

static void
taxonomy_form(struct sk_ctx *c, struct sk_buf *b, const struct sk_topic_def *d,
              bool create, const struct sk_topic_row *t, size_t n)
{
	form_open(c, b, "note", "/tematy/edytuj");
	if (create) {
		hidden(b, "nowy", "1");
		sk_page_text_input(
		    b, "adres", "Adres tematu",
		    "Małe litery bez polskich znaków, cyfry i „-”, np. "
		    "wody-opadowe. Później nie da się go zmienić.",
		    d->slug, true, 63);
	} else {
		hidden(b, "temat", d->slug);
	}
	sk_page_text_input(b, "nazwa", "Nazwa", NULL, d->name, true, 120);
	sk_buf_adds(b, "<label for=\"nadrzedny\">Temat nadrzędny</label>\n"
	               "<select id=\"nadrzedny\" name=\"nadrzedny\">\n"
	               "<option value=\"\">(brak: temat główny)</option>\n");
	for (size_t i = 0; i < n; i++) {
		if (t[i].parent_slug ||
		    (d->slug && !strcmp(t[i].slug, d->slug)))
			continue;
		sk_buf_adds(b, "<option value=\"");
		sk_buf_add_htmls(b, t[i].slug);
		sk_buf_addf(b, "\"%s>",
		            d->parent_slug && !strcmp(d->parent_slug, t[i].slug)
		                ? " selected"
		                : "");
		sk_buf_add_htmls(b, t[i].name);
		sk_buf_adds(b, "</option>\n");
	}
	sk_buf_adds(b, "</select>\n");
	input_area(b, "opis", "Opis dla nowych pracowników",
	           "Jedno lub dwa zdania.", d->description, 3);
	input_area(b, "slowa", "Słowa kluczowe",
	           "Lematy oddzielone spacjami; wyrażenia łącz „_”, wagę "
	           "podaj po dwukropku, np. „przetarg wadium:0.5 "
	           "zamówienie_publiczne”.",
	           d->keywords, 5);
	sk_page_text_input(b, "znaczniki", "Znaczniki w tematach wiadomości",
	                   "Oddzielone „|”, np. Zamówienia|PZP.",
	                   d->subject_tags, false, 1000);
	sk_buf_addf(b, "<button type=\"submit\">%s</button>\n</form>\n",
	            create ? "Dodaj temat" : "Zapisz temat");
}

static void
taxonomy_page(struct sk_ctx *c, int status, const char *error,
              const struct sk_topic_def *edit, const struct sk_topic_def *add)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Tematy: edycja", .nav = SK_NAV_CURATE };
	struct sk_topic_row *t = NULL;
	size_t n = 0;
	static const struct sk_topic_def blank;

	if (!load_taxonomy(c, &t, &n))
		return;
	c->resp->status = status;
	sk_buf_reset(b);
	sk_ctx_page_begin(c, &p);
	if (edit) {
		sk_buf_adds(b, "<p class=\"crumbs\"><a href=\"/tematy/edytuj\">"
		               "Wszystkie tematy</a> · <a href=\"/dziennik?"
		               "obiekt=topic:");
		sk_buf_add_htmls(b, edit->slug);
		sk_buf_adds(b, "\">Historia zmian</a></p>\n<h1>Temat: ");
		sk_buf_add_htmls(b, edit->name);
		sk_buf_adds(b, "</h1>\n");
	} else {
		curate_menu(b);
		sk_buf_adds(b, "<h1>Tematy: edycja</h1>\n");
	}
	sk_buf_adds(b, "<p class=\"lead\">Zmiany działają od razu dla nowej "
	               "poczty. Aby przeliczyć tematy całego archiwum, "
	               "administrator uruchamia <code>skarbnica topics "
	               "classify</code>. Każda zmiana trafia do "
	               "<a href=\"/dziennik\">dziennika</a> i można ją "
	               "cofnąć.</p>\n");
	error_box(b, error);
	done_box(b, error ? NULL : done_msg(c));
	if (edit) {
		taxonomy_form(c, b, edit, false, t, n);
		page_done(c, &p);
		return;
	}
	sk_buf_adds(b, "<ul>\n");
	for (size_t i = 0; i < n; i++) {
		sk_buf_addf(b, "<li%s><a href=\"/tematy/edytuj?temat=",
		            t[i].parent_slug ? " class=\"sub\"" : "");
		sk_buf_add_htmls(b, t[i].slug);
		sk_buf_adds(b, "\">");
		if (t[i].parent_slug)
			sk_buf_adds(b, "— ");
		sk_buf_add_htmls(b, t[i].name);
		sk_buf_adds(b, "</a> <span class=\"muted\">(");
		sk_buf_add_htmls(b, t[i].slug);
		sk_buf_adds(b, ")</span></li>\n");
	}
	sk_buf_adds(b, "</ul>\n<h2>Nowy temat</h2>\n");
	taxonomy_form(c, b, add ? add : &blank, true, t, n);
	page_done(c, &p);
}

static void
taxonomy_get(struct sk_ctx *c)
{
	const char *slug = qv(c, "temat");
	struct sk_topic_def d;
	struct sk_err err = { 0 };
	enum sk_status rc;

	if (!slug) {
		taxonomy_page(c, 200, NULL, NULL, NULL);
		return;
	}
	memset(&d, 0, sizeof(d));
	rc = sk_index_topic_def(c->req->ix, c->a, slug, &d, &err);
	if (rc == SK_ENOTFOUND) {
		sk_ctx_error(c, 404, "Nie ma takiego tematu.");
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: topic");
		return;
	}
	taxonomy_page(c, 200, NULL, &d, NULL);
}

static void
taxonomy_post(struct sk_ctx *c)
{
	bool create = fv(c, "nowy") != NULL;
	struct sk_topic_def d = { 0 };
	struct sk_err err = { 0 };
	struct sk_index *w;
	enum sk_status rc;

	if (!sk_auth_check_csrf(c))
		return;
	d.slug = create ? fv_trim(c, "adres") : fv(c, "temat");
	d.name = fv_trim(c, "nazwa");
	d.parent_slug = fv(c, "nadrzedny");
	d.description = fv_trim(c, "opis");
	d.keywords = fv_trim(c, "slowa");
	d.subject_tags = fv_trim(c, "znaczniki");
	if (!d.slug) {
		sk_ctx_error(c, 400, "Nie wskazano tematu.");
		return;
	}
	w = sk_ctx_writer(c);
	if (!w)
		return;
	rc = sk_index_topic_save(w, &d, create, c->session.email, NULL, &err);
	if (rc == SK_ENOTFOUND) {
		sk_ctx_error(c, 404, "Nie ma takiego tematu.");
		return;
	}
	if (rc == SK_EINVAL || rc == SK_EEXIST) {
		const char *msg = user_msg(c, &err, "Formularz zawiera błąd.");
		if (create)
			taxonomy_page(c, 400, msg, NULL, &d);
		else
			taxonomy_page(c, 400, msg, &d, NULL);
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "curate: topic save");
		return;
	}
	sk_ctx_redirect(
	    c, 303,
	    sk_arena_printf(c->a, "/tematy/edytuj?temat=%s&zrobione=%s", d.slug,
	                    create ? "temat-nowy" : "temat-zapisany"));
}

/* ---- routing ----------------------------------------------------------------
 */

enum cur_route {
	CUR_NONE,
	CUR_THREAD,
	CUR_HELD,
	CUR_AUDIT,
	CUR_UNDO,
	CUR_TAXONOMY,
	CUR_PRACTICE_NEW,
	CUR_PRACTICE_EDIT,
	CUR_PRACTICE_STATUS,
};

static bool
path_eq(const struct sk_ctx *c, const char *lit)
{
	return c->t.path_len == strlen(lit) &&
	       memcmp(c->t.path, lit, c->t.path_len) == 0;
}

/* prefix DIGITS suffix, the number from 1. */
static bool
path_id(const struct sk_ctx *c, const char *prefix, const char *suffix,
        int64_t *id)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), n;
	char buf[20];

	if (c->t.path_len <= pl + sl ||
	    c->t.path_len - pl - sl >= sizeof(buf) ||
	    memcmp(c->t.path, prefix, pl) != 0 ||
	    memcmp(c->t.path + c->t.path_len - sl, suffix, sl) != 0)
		return false;
	n = c->t.path_len - pl - sl;
	memcpy(buf, c->t.path + pl, n);
	buf[n] = '\0';
	return strspn(buf, "0123456789") == n &&
	       sk_parse_i64(buf, 1, INT64_MAX, id, NULL) == SK_OK;
}

static enum cur_route
cur_match(const struct sk_ctx *c, int64_t *id)
{
	if (path_id(c, "/watek/", "/porzadkuj", id))
		return CUR_THREAD;
	if (path_eq(c, "/wstrzymane"))
		return CUR_HELD;
	if (path_eq(c, "/dziennik"))
		return CUR_AUDIT;
	if (path_eq(c, "/dziennik/cofnij"))
		return CUR_UNDO;
	if (path_eq(c, "/tematy/edytuj"))
		return CUR_TAXONOMY;
	if (path_eq(c, "/praktyka/nowa"))
		return CUR_PRACTICE_NEW;
	if (path_id(c, "/praktyka/", "/edytuj", id))
		return CUR_PRACTICE_EDIT;
	if (path_id(c, "/praktyka/", "/stan", id))
		return CUR_PRACTICE_STATUS;
	return CUR_NONE;
}

bool
sk_curate_path(struct sk_ctx *c)
{
	static const char *const names[] = {
		[CUR_THREAD] = "curate_thread",
		[CUR_HELD] = "curate_held",
		[CUR_AUDIT] = "curate_audit",
		[CUR_UNDO] = "curate_undo",
		[CUR_TAXONOMY] = "curate_topics",
		[CUR_PRACTICE_NEW] = "practice_new",
		[CUR_PRACTICE_EDIT] = "practice_edit",
		[CUR_PRACTICE_STATUS] = "practice_status",
	};
	int64_t id;
	enum cur_route r = cur_match(c, &id);

	if (r == CUR_NONE)
		return false;
	c->resp->route = names[r];
	return true;
}

void
sk_curate_dispatch(struct sk_ctx *c)
{
	int64_t id = 0;
	enum cur_route r = cur_match(c, &id);
	bool post = is_post(c);

	if ((r == CUR_UNDO || r == CUR_PRACTICE_STATUS) && !post) {
		sk_ctx_header(c, "Allow", "POST");
		sk_ctx_error(c, 405, NULL);
		return;
	}
	if (r == CUR_AUDIT && post) {
		sk_ctx_header(c, "Allow", "GET, HEAD");
		sk_ctx_error(c, 405, NULL);
		return;
	}
	switch (r) {
	case CUR_THREAD:
		if (post)
			thread_post(c, id);
		else
			thread_get(c, id);
		break;
	case CUR_HELD:
		if (post)
			held_post(c);
		else
			held_page(c, 200, NULL);
		break;
	case CUR_AUDIT:
		audit_page(c, 200, NULL);
		break;
	case CUR_UNDO:
		audit_undo_post(c);
		break;
	case CUR_TAXONOMY:
		if (post)
			taxonomy_post(c);
		else
			taxonomy_get(c);
		break;
	case CUR_PRACTICE_NEW:
		if (post)
			practice_new_post(c);
		else
			practice_new_get(c);
		break;
	case CUR_PRACTICE_EDIT:
		if (post)
			practice_edit_post(c, id);
		else
			practice_edit_get(c, id);
		break;
	case CUR_PRACTICE_STATUS:
		practice_status_post(c, id);
		break;
	case CUR_NONE:
		sk_ctx_error(c, 404, NULL);
		break;
	}
}
