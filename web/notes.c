/* web/notes.c: quarterly meeting notes — the coordinators' form at
 * /spotkania/nowa (multipart, with attachments), the list of notes on
 * /spotkania with the fate of each note's mail, and "Wyślij ponownie"
 * for mail that failed. The note itself is stored, archived and queued
 * by sk_index_note_post() on a writable handle; mailer/ composes it
 * through the callback cmd/ puts in the settings. */
#include "web/private.h"

#include <stdio.h>
#include <string.h>

#define NOTE_TOPICS_MAX 32

const char *
sk_web_quarter(struct sk_arena *a, time_t now)
{
	struct tm tm;

	sk_page_warsaw(now, &tm, NULL);
	return sk_arena_printf(a, "%04d-Q%d", tm.tm_year + 1900,
	                       tm.tm_mon / 3 + 1);
}

static const char *
fv(const struct sk_ctx *c, const char *name)
{
	return sk_web_arg(c->req->form, c->req->n_form, name);
}

/* What the form holds (for refilling it after an error). */
struct note_vals {
	const char *quarter, *title, *place, *partners, *decisions, *body;
	const char *topics[NOTE_TOPICS_MAX];
	size_t n_topics;
};

static bool
topic_checked(const struct note_vals *v, const char *slug)
{
	for (size_t i = 0; i < v->n_topics; i++)
		if (strcmp(v->topics[i], slug) == 0)
			return true;
	return false;
}

static void
note_form_page(struct sk_ctx *c, int status, const char *error,
               const struct note_vals *v)
{
	struct sk_buf *b = &c->resp->body;
	struct sk_page p = { .title = "Nowa notatka ze spotkania",
		             .nav = SK_NAV_MEETINGS };
	/* "tresc" is the id of <main> (the skip link's target): the note
	 * text gets another. */
	struct sk_form_field decisions = {
		.name = "ustalenia",
		.label = "Ustalenia",
		.hint = "Markdown: listy zaczynaj od „- ”.",
		.value = v->decisions,
		.rows = 6,
	};
	struct sk_form_field text = {
		.name = "tresc",
		.id = "tresc-notatki",
		.label = "Treść notatki",
		.hint =
		    "Markdown: **pogrubienie**, nagłówki „## ”, listy „- ”.",
		.value = v->body,
		.required = true,
		.rows = 16,
	};
	struct sk_topic_row *topics = NULL;
	size_t n_topics = 0;
	struct sk_err err = { 0 };
	enum sk_status rc;

	rc = sk_index_topics(c->req->ix, c->a, &c->viewer, &topics, &n_topics,
	                     &err);
	if (rc) {
		sk_ctx_fail(c, rc, &err, "note form: topics");
		return;
	}
	c->resp->status = status;
	sk_buf_reset(b);
	sk_ctx_page_begin(c, &p);
	sk_buf_adds(b, "<p class=\"crumbs\"><a href=\"/spotkania\">Notatki ze "
	               "spotkań</a></p>\n"
	               "<h1>Nowa notatka ze spotkania</h1>\n"
	               "<p class=\"lead\">Notatka trafi od razu do archiwum i "
	               "zostanie wysłana na listę partnerstwa.</p>\n");
	if (error) {
		sk_buf_adds(b, "<div class=\"error\" role=\"alert\"><p>");
		sk_buf_add_htmls(b, error);
		sk_buf_adds(b, "</p></div>\n");
	}
	sk_buf_adds(b, "<form class=\"note\" method=\"post\" "
	               "action=\"/spotkania/nowa\" "
	               "enctype=\"multipart/form-data\">\n");
	sk_page_csrf_field(b, c->session.csrf);
	sk_page_text_input(b, "kwartal", "Kwartał",
	                   "W postaci RRRR-QN, np. 2025-Q4.", v->quarter, true,
	                   7);
	sk_page_text_input(b, "tytul", "Tytuł", NULL, v->title, true, 300);
	sk_page_text_input(b, "miejsce", "Miejsce spotkania", NULL, v->place,
	                   false, 300);
	sk_page_text_input(b, "obecni", "Obecni partnerzy",
	                   "Np. Gmina Stolno, Powiat Chełmiński.", v->partners,
	                   false, 2000);
	sk_buf_adds(b, "<fieldset class=\"topics\">\n<legend>Tematy</legend>\n"
	               "<ul class=\"checks\">\n");
	for (size_t i = 0; i < n_topics; i++) {
		const struct sk_topic_row *t = &topics[i];
		sk_buf_addf(b, "<li><input type=\"checkbox\" name=\"temat\" "
		               "id=\"temat-%lld\" value=\"",
		            (long long)t->id);
		sk_buf_add_htmls(b, t->slug);
		sk_buf_addf(b, "\"%s> <label for=\"temat-%lld\">",
		            topic_checked(v, t->slug) ? " checked" : "",
		            (long long)t->id);
		sk_buf_add_htmls(b, t->name);
		sk_buf_adds(b, "</label></li>\n");
	}
	sk_buf_adds(b, "</ul>\n</fieldset>\n");
	sk_page_form_field(b, &decisions);
	sk_page_form_field(b, &text);
	sk_buf_addf(b,
	            "<label for=\"zalacznik\">Załączniki</label>\n"
	            "<p class=\"hint\" id=\"zalacznik-opis\">Najwyżej %u "
	            "plików; razem do ",
	            SK_WEB_UPLOAD_FILES_MAX);
	sk_page_size(b, (int64_t)(c->req->settings &&
	                                  c->req->settings->request_bytes
	                              ? c->req->settings->request_bytes
	                              : (1u << 20)));
	sk_buf_adds(b, ". Po błędzie w formularzu wybierz je ponownie.</p>\n"
	               "<input id=\"zalacznik\" name=\"zalacznik\" "
	               "type=\"file\" multiple "
	               "aria-describedby=\"zalacznik-opis\">\n"
	               "<button type=\"submit\">Opublikuj i wyślij na "
	               "listę</button>\n</form>\n");
	sk_page_end(b, &p);
	sk_ctx_html_done(c);
	sk_ctx_header(c, "Cache-Control", "no-store");
}

void
sk_notes_form(struct sk_ctx *c)
{
	struct note_vals v = { 0 };

	v.quarter = sk_web_quarter(c->a, c->req->now);
	note_form_page(c, 200, NULL, &v);
}

/* A file name without any path (browsers of old sent C:\...\x.pdf). */
static const char *
base_name(const char *s)
{
	const char *p = strrchr(s, '/'), *q = strrchr(s, '\\');
	if (q && (!p || q > p))
		p = q;
	return p ? p + 1 : s;
}

/* A MIME type as sent, if it looks like one; else octet-stream. */
static const char *
clean_type(struct sk_arena *a, const char *t)
{
	char *s;
	if (!t || !*t || strlen(t) > 100 || !strchr(t, '/'))
		return "application/octet-stream";
	s = sk_ascii_lower(sk_arena_strdup(a, t));
	s[strcspn(s, "; \t")] = '\0';
	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-/") !=
	        strlen(s) ||
	    !strchr(s, '/'))
		return "application/octet-stream";
	return s;
}

/* "tytuł jest wymagany" -> "Tytuł jest wymagany." */
static const char *
sentence(struct sk_arena *a, const char *msg)
{
	char *s;
	size_t n;
	if (!msg || !*msg)
		return "Formularz zawiera błąd.";
	s = sk_arena_printf(a, "%s.", msg);
	if (s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 'a' + 'A');
	n = strlen(s);
	if (n >= 2 && (s[n - 2] == '.' || s[n - 2] == '!'))
		s[n - 1] = '\0';
	return s;
}

void
sk_notes_post(struct sk_ctx *c)
{
	const struct sk_web_settings *s = c->req->settings;
	struct note_vals v = { 0 };
	struct sk_note_in note = { 0 };
	struct sk_attachment *att = NULL;
	struct sk_note_posted posted;
	struct sk_err err = { 0 };
	struct sk_index *w;
	enum sk_status rc;

	if (!sk_auth_check_csrf(c))
		return;
	v.quarter = fv(c, "kwartal");
	v.title = fv(c, "tytul");
	v.place = fv(c, "miejsce");
	v.partners = fv(c, "obecni");
	v.decisions = fv(c, "ustalenia");
	v.body = fv(c, "tresc");
	for (size_t i = 0; i < c->req->n_form; i++) {
		if (strcmp(c->req->form[i].name, "temat") != 0 ||
		    !*c->req->form[i].value)
			continue;
		if (v.n_topics == NOTE_TOPICS_MAX) {
			note_form_page(c, 400, "Wybierz najwyżej 32 tematy.",
			               &v);
			return;
		}
		v.topics[v.n_topics++] = c->req->form[i].value;
	}
	if (!s || !s->note_compose) {
		sk_ctx_error(c, 503,
		             "Wysyłanie notatek nie jest skonfigurowane. "
		             "Poproś administratora o ustawienie poczty "
		             "wychodzącej.");
		return;
	}
	if (c->req->n_files) {
		size_t n = 0;
		att = sk_arena_alloc(c->a, c->req->n_files * sizeof(*att));
		for (size_t i = 0; i < c->req->n_files; i++) {
			const struct sk_upload *u = &c->req->files[i];
			if (strcmp(u->field, "zalacznik") != 0)
				continue;
			att[n].filename = sk_arena_strdup(
			    c->a, base_name(u->filename ? u->filename : ""));
			if (!sk_utf8_valid(att[n].filename,
			                   strlen(att[n].filename)))
				att[n].filename = "zalacznik";
			att[n].content_type = clean_type(c->a, u->content_type);
			att[n].data = u->data;
			att[n].size = u->size;
			att[n].extract_status = "none";
			n++;
		}
		note.n_attachments = n;
	}
	if (v.quarter) {
		struct sk_str q = sk_str_trim(v.quarter, strlen(v.quarter));
		note.quarter = sk_arena_strndup(c->a, q.p, q.n);
	}
	note.title = v.title;
	if (v.title) {
		struct sk_str t = sk_str_trim(v.title, strlen(v.title));
		note.title = sk_arena_strndup(c->a, t.p, t.n);
	}
	note.place = v.place;
	note.partners_present = v.partners;
	note.topics = v.topics;
	note.n_topics = v.n_topics;
	note.decisions = v.decisions;
	note.body_md = v.body;
	note.author_email = c->session.email;
	note.attachments = att;

	w = sk_ctx_writer(c);
	if (!w)
		return;
	memset(&posted, 0, sizeof(posted));
	rc = sk_index_note_post(w, c->a, &note, s->note_compose,
	                        s->note_compose_ctx, c->req->now, &posted,
	                        &err);
	if (rc == SK_EINVAL || rc == SK_ETOOBIG) {
		note_form_page(c, rc == SK_ETOOBIG ? 413 : 400,
		               sentence(c->a, err.msg), &v);
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc == SK_ENOTFOUND ? SK_EDB : rc, &err,
		            "note post");
		return;
	}
	sk_log(SK_LOG_INFO, "web: note %lld posted by %s (outbox %lld)",
	       (long long)posted.note_id, c->session.email,
	       (long long)posted.outbox_id);
	sk_ctx_redirect(c, 303,
	                posted.thread_id
	                    ? sk_arena_printf(c->a, "/watek/%lld",
	                                      (long long)posted.thread_id)
	                    : "/spotkania");
}

void
sk_notes_requeue(struct sk_ctx *c)
{
	struct sk_err err = { 0 };
	struct sk_index *w;
	int64_t id;
	enum sk_status rc;

	w = sk_auth_post_row(c, "id", &id, sk_ctx_error,
	                     "Nieprawidłowy numer wysyłki.");
	if (!w)
		return;
	rc = sk_index_outbox_requeue(w, id, c->session.email, c->req->now,
	                             &err);
	if (rc == SK_ENOTFOUND) {
		sk_ctx_error(c, 404,
		             "Nie ma takiej nieudanej wysyłki (mogła już "
		             "zostać ponowiona).");
		return;
	}
	if (rc) {
		sk_ctx_fail(c, rc, &err, "outbox requeue");
		return;
	}
	sk_ctx_redirect(c, 303, "/spotkania");
}

static const char *
state_label(const struct sk_note_row *r)
{
	if (!r->outbox_id)
		return "brak wysyłki";
	switch (r->mail_state) {
	case SK_OUTBOX_QUEUED: return "czeka w kolejce";
	case SK_OUTBOX_SENDING: return "w trakcie wysyłki";
	case SK_OUTBOX_SENT: return "wysłana na listę";
	case SK_OUTBOX_FAILED:
		return r->mail_uncertain ? "wynik niepewny" : "nie wysłano";
	}
	return "";
}

void
sk_notes_section(struct sk_ctx *c, struct sk_buf *b)
{
	struct sk_note_row *rows = NULL;
	size_t n = 0;
	struct sk_err err = { 0 };
	bool coord = c->viewer.coordinator;
	enum sk_status rc;

	if (coord)
		sk_buf_adds(b, "<p><a class=\"button\" href=\"/spotkania/nowa\">"
		               "Dodaj notatkę ze spotkania</a></p>\n");
	rc = sk_index_notes_list(c->req->ix, c->a, NULL, &rows, &n, &err);
	if (rc) {
		sk_log(SK_LOG_ERR, "web: notes list: %s", err.msg);
		sk_buf_adds(b, "<p class=\"notice\">Nie udało się wczytać "
		               "listy notatek.</p>\n");
		return;
	}
	if (!n)
		return;
	sk_buf_adds(b, "<section aria-labelledby=\"notatki\">\n"
	               "<h2 id=\"notatki\">Notatki</h2>\n<ul class=\"notes\">\n");
	for (size_t i = 0; i < n && i < 200; i++) {
		const struct sk_note_row *r = &rows[i];
		sk_buf_adds(b, "<li><span class=\"quarter\">");
		sk_buf_add_htmls(b, r->quarter);
		sk_buf_adds(b, "</span> ");
		if (r->thread_id)
			sk_buf_addf(b, "<a href=\"/watek/%lld\">",
			            (long long)r->thread_id);
		sk_buf_add_htmls(b, r->title);
		if (r->thread_id)
			sk_buf_adds(b, "</a>");
		sk_buf_adds(b, "<span class=\"meta\">");
		if (r->place && *r->place) {
			sk_buf_adds(b, " · ");
			sk_buf_add_htmls(b, r->place);
		}
		if (r->author_name && *r->author_name) {
			sk_buf_adds(b, " · ");
			sk_buf_add_htmls(b, r->author_name);
		}
		sk_buf_adds(b, " · ");
		sk_page_day(b, r->created_at);
		sk_buf_adds(b, "</span>");
		if (coord) {
			sk_buf_addf(b, " <span class=\"mail mail-%s\">Poczta: ",
			            r->outbox_id
			                ? sk_outbox_state_name(r->mail_state)
			                : "none");
			sk_buf_adds(b, state_label(r));
			sk_buf_adds(b, "</span>");
			if (r->mail_state == SK_OUTBOX_FAILED && r->outbox_id) {
				if (r->mail_uncertain)
					sk_buf_adds(
					    b, " <span class=\"hint\">Serwer "
					       "mógł ją przyjąć: sprawdź "
					       "archiwum listy przed "
					       "ponowieniem.</span>");
				if (r->mail_error && *r->mail_error) {
					sk_buf_adds(b, " <span class=\"hint\">"
					               "Odpowiedź serwera: ");
					sk_buf_add_htmls(b, r->mail_error);
					sk_buf_adds(b, "</span>");
				}
				sk_buf_adds(b, "<form class=\"inline\" "
				               "method=\"post\" "
				               "action=\"/spotkania/ponow\">");
				sk_page_csrf_field(b, c->session.csrf);
				sk_buf_addf(b,
				            "<input type=\"hidden\" name=\"id\" "
				            "value=\"%lld\"><button "
				            "type=\"submit\">Wyślij ponownie"
				            "<span class=\"visually-hidden\">: ",
				            (long long)r->outbox_id);
				sk_buf_add_htmls(b, r->title);
				sk_buf_adds(b, "</span></button></form>");
			}
		}
		sk_buf_adds(b, "</li>\n");
	}
	sk_buf_adds(b, "</ul>\n</section>\n<h2>Wątki ze spotkań</h2>\n");
}
