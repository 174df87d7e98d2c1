/* tests/test_web_practice.c: the pages everyone reads of the curated
 * archive — good-practice records (/praktyki, /praktyka/ID, JSON, Atom),
 * /dla-nowych, /slownik and /kwartaly — over sk_web_route() and a real
 * store in a temp dir, without sockets: who sees what (private mode,
 * public mode without contacts or addresses, readers, coordinators with
 * drafts), hostile fields coming out inert, bad ids and pages, exact
 * counts with Polish plurals, and the sections on the start, topic and
 * partner pages. */
#include "tests/helpers/sk_test_web.h"
#include "web/private.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW SK_TEST_NOW
#define READER SK_TEST_READER
#define COORD SK_TEST_COORD
#define CONTACT_MAIL "p.zajac@jaskowo.example"
#define HOSTILE_TITLE "<script>alert(1)</script> \"cudzysłów\" & 'apostrof'"
#define EXTRA 22 /* more validated records, for paging */

struct fx {
	struct sk_test_site site;
	int64_t thread_reg, thread_other;
	int64_t validated, draft, archived, hostile;
};

static struct fx *the_fx;

/* ---- requests ------------------------------------------------------------ */

/* A request on the group's store, in public or private mode. */
static void
base(struct sk_req *q, struct sk_web_settings *s, enum sk_method m,
     const char *target, bool public_mode)
{
	sk_test_req(q, s, m, target);
	s->public_mode = public_mode;
	q->ix = the_fx->site.ix;
	q->state = the_fx->site.state;
}

/* As anonymous (cookie NULL) or with a session cookie. */
static struct sk_test_res
request(enum sk_method m, const char *target, const char *cookie,
        bool public_mode)
{
	struct sk_req q;
	struct sk_web_settings s;

	base(&q, &s, m, target, public_mode);
	q.cookie = cookie;
	return sk_test_route(&q);
}

static struct sk_test_res
get_as(const char *target, const char *cookie, bool public_mode)
{
	return request(SK_METHOD_GET, target, cookie, public_mode);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- the store ----------------------------------------------------------- */

static int64_t
make_practice(struct sk_index *w, const struct sk_practice *p)
{
	struct sk_err err = { 0 };
	int64_t id = 0;
	if (sk_index_practice_create(w, p, "test", &id, NULL, &err)) {
		fprintf(stderr, "practice '%s': %s\n", p->title, err.msg);
		abort();
	}
	return id;
}

static int
group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_index *w = NULL;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_req q;
	struct sk_web_settings s;
	struct sk_err err = { 0 };
	struct sk_message_row row;
	struct sk_viewer coord = { true, true };
	struct sk_practice full;
	static const char body[] =
	    "Regulamin zamówień: progi i rozeznanie rynku.\n";
	static const struct sk_test_msg msgs[] = {
		{ "reg-1@jaskowo.example", "Piotr Zając",
		  "p.zajac@jaskowo.example",
		  "Regulamin zamówień poniżej 130 000 zł", body, NULL,
		  1705306320, "regulamin.docx", NULL },
		{ "reg-2@brzozowka.example", "Piotr Zając",
		  "anna@brzozowka.example",
		  "Re: Regulamin zamówień poniżej 130 000 zł", body,
		  "reg-1@jaskowo.example", 1705400000, NULL, NULL },
		{ "bip-1@brzozowka.example", "Piotr Zając",
		  "anna@brzozowka.example", "Deklaracja dostępności w BIP",
		  body, NULL, 1715335200, NULL, NULL },
	};
	static const char *zam[] = { "zamowienia" };
	static const char *bip[] = { "bip" };

	fx->site.dir = sk_test_tmpdir();
	w = sk_test_store_new(fx->site.dir, 2, NULL);
	if (!w)
		return -1;
	/* 2024-01-15 and 2024-01-16 (2024-Q1), 2024-05-10 (2024-Q2). */
	for (size_t i = 0; i < SK_ARRAY_SIZE(msgs); i++)
		sk_test_add_msg(w, a, &msgs[i]);
	if (sk_index_message(w, a, &coord, "reg-1@jaskowo.example", &row, &err))
		return -1;
	fx->thread_reg = row.thread_id;
	if (sk_index_message(w, a, &coord, "bip-1@brzozowka.example", &row,
	                     &err))
		return -1;
	fx->thread_other = row.thread_id;
	if (sk_index_thread_topic(w, fx->thread_reg, "zamowienia", SK_TOPIC_ADD,
	                          "test", NULL, &err) ||
	    sk_index_topic_pin(w, "zamowienia", fx->thread_reg, 1,
	                       "Od tego wątku zacznij <b>zamówienia</b>.",
	                       "test", NULL, &err)) {
		fprintf(stderr, "setup: curation: %s\n", err.msg);
		return -1;
	}

	/* One full validated record with the thread's attachment. */
	memset(&full, 0, sizeof(full));
	full.title = "Regulamin zamówień z trzema progami";
	full.partner_slug = "jaskowo";
	full.topics = zam;
	full.n_topics = 1;
	full.problem = "Stary regulamin miał dwa progi.\nPytania: "
	               "anna@brzozowka.example\n\nDrugi akapit.";
	full.solution = "Trzy progi:\n- do 20 000 zł,\n- do 60 000 zł,\n"
	                "- do 130 000 zł.";
	full.results = "Jednolita dokumentacja.";
	full.costs = "Bez kosztów.";
	full.period = "2024";
	full.stakeholders = "Referat zamówień.";
	full.lessons = "Rozeznanie mailowe wystarcza.";
	full.contact_name = "Piotr Zając";
	full.contact_email = CONTACT_MAIL;
	full.source_thread_id = fx->thread_reg;
	full.status = SK_PRACTICE_VALIDATED;
	{
		struct sk_message_row mr;
		if (sk_index_message(w, a, &coord, "reg-1@jaskowo.example", &mr,
		                     &err) ||
		    mr.n_attachments != 1)
			return -1;
		full.attachment_ids = &mr.attachments[0].id;
		full.n_attachment_ids = 1;
		fx->validated = make_practice(w, &full);
	}

	struct sk_practice d = { .title = "Szkic praktyki o BIP",
		                 .topics = bip,
		                 .n_topics = 1,
		                 .problem = "Do uzupełnienia.",
		                 .status = SK_PRACTICE_DRAFT };
	fx->draft = make_practice(w, &d);
	d.title = "Archiwalna praktyka o BIP";
	d.status = SK_PRACTICE_ARCHIVED;
	fx->archived = make_practice(w, &d);
	struct sk_practice h = {
		.title = HOSTILE_TITLE,
		.partner_slug = "brzozowka",
		.problem = "<img src=x onerror=alert(2)> javascript:alert(3)",
		.contact_name = "\"><script>alert(4)</script>",
		.contact_email = "x@brzozowka.example",
		.status = SK_PRACTICE_VALIDATED,
	};
	fx->hostile = make_practice(w, &h);
	for (int i = 0; i < EXTRA; i++) {
		struct sk_practice x = { .title = sk_arena_printf(
			                     a, "Praktyka numer %d", i + 1),
			                 .topics = bip,
			                 .n_topics = 1,
			                 .status = SK_PRACTICE_VALIDATED };
		make_practice(w, &x);
	}
	if (sk_test_store_users(w, "Anna Kowalczyk", "Koordynator"))
		return -1;
	if (sk_test_site_open(&fx->site, &w))
		return -1;
	sk_arena_free(&a);
	the_fx = fx;
	base(&q, &s, SK_METHOD_GET, "/", false);
	sk_test_site_login(&fx->site, &q, false);
	*state = fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fx *fx = *state;
	sk_test_site_close(&fx->site);
	free(fx);
	xmlCleanupParser();
	return 0;
}

static const char *
practice_url(struct sk_arena *a, const char *prefix, int64_t id)
{
	return sk_arena_printf(a, "%s%lld", prefix, (long long)id);
}

/* ---- tests --------------------------------------------------------------- */

static void
private_mode_sends_anonymous_readers_to_login(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	const char *pages[] = {
		"/praktyki",   practice_url(a, "/praktyka/", fx->validated),
		"/dla-nowych", "/slownik",
		"/kwartaly",   "/kwartal/2024-1"
	};
	const char *machine[] = { "/api/v1/praktyki", "/feed/praktyki.atom",
		                  practice_url(a, "/api/v1/praktyka/",
		                               fx->validated) };

	for (size_t i = 0; i < SK_ARRAY_SIZE(pages); i++) {
		struct sk_test_res r = get_as(pages[i], NULL, false);
		assert_int_equal(r.status, 303);
		assert_true(strncmp(sk_resp_header(&r.resp, "Location"),
		                    "/zaloguj?dalej=", 15) == 0);
		assert_null(strstr(r.body, "Regulamin"));
		sk_test_res_free(&r);
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(machine); i++) {
		struct sk_test_res r = get_as(machine[i], NULL, false);
		assert_int_equal(r.status, 403);
		assert_null(strstr(r.body, "Regulamin"));
		sk_test_res_free(&r);
	}
	sk_arena_free(&a);
}

static void
public_mode_shows_practices_without_contacts_or_addresses(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_test_res r;
	json_t *j;
	json_error_t je;

	r = get_as("/praktyki?temat=zamowienia", NULL, true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Regulamin zamówień z trzema progami"));
	sk_test_res_free(&r);
	r = get_as("/praktyki", NULL, true);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "Szkic praktyki"));
	assert_null(strstr(r.body, "Archiwalna praktyka"));
	assert_null(strstr(r.body, "name=\"stan\"")); /* coordinators' */
	sk_test_res_free(&r);

	r = get_as(practice_url(a, "/praktyka/", fx->validated), NULL, true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1 id=\"tytul\">Regulamin zamówień "
	                               "z trzema progami</h1>"));
	assert_non_null(strstr(r.body, "Osoba do kontaktu"));
	assert_non_null(strstr(r.body, "widzą zalogowani"));
	assert_null(strstr(r.body, CONTACT_MAIL));
	assert_null(strstr(r.body, "Piotr Zając"));
	assert_null(strstr(r.body, "anna@brzozowka.example"));
	assert_non_null(strstr(r.body, SK_ADDR_HIDDEN));
	/* Paragraphs and a list from the little Markdown. */
	assert_non_null(strstr(r.body, "<p>Drugi akapit.</p>"));
	assert_non_null(strstr(r.body, "<li>do 20 000 zł,</li>"));
	/* The attachment links the existing download route. */
	assert_non_null(strstr(r.body, "href=\"/m/reg-1%40jaskowo.example/"
	                               "zalacznik/"));
	assert_non_null(strstr(r.body, "dokument Word (DOCX)"));
	assert_non_null(strstr(r.body, "Dyskusja na liście"));
	assert_null(strstr(r.body, "Dla koordynatorów"));
	sk_test_res_free(&r);

	r = get_as(practice_url(a, "/api/v1/praktyka/", fx->validated), NULL,
	           true);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.resp.content_type, "application/json");
	j = json_loads(r.body, 0, &je);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "contact")));
	assert_string_equal(json_string_value(json_object_get(j, "partner")),
	                    "jaskowo");
	assert_int_equal(json_integer_value(json_object_get(j, "thread_id")),
	                 fx->thread_reg);
	assert_int_equal(json_array_size(json_object_get(j, "attachments")), 1);
	assert_null(strstr(r.body, "@brzozowka.example"));
	assert_null(strstr(r.body, CONTACT_MAIL));
	json_decref(j);
	sk_test_res_free(&r);

	/* Drafts and archived records are not there for anyone but
	 * coordinators. */
	assert_int_equal(
	    sk_test_status(
	        get_as(practice_url(a, "/praktyka/", fx->draft), NULL, true)),
	    404);
	assert_int_equal(sk_test_status(get_as(
	                     practice_url(a, "/api/v1/praktyka/", fx->archived),
	                     NULL, true)),
	                 404);
	sk_arena_free(&a);
}

static void
readers_see_the_contact_but_no_drafts(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_test_res r;

	r = get_as(practice_url(a, "/praktyka/", fx->validated),
	           fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body,
	                       "Piotr Zając, <a href=\"mailto:" CONTACT_MAIL
	                       "\">" CONTACT_MAIL "</a>"));
	assert_non_null(strstr(r.body, "anna@brzozowka.example"));
	assert_null(strstr(r.body, "Dla koordynatorów"));
	sk_test_res_free(&r);

	r = get_as(practice_url(a, "/api/v1/praktyka/", fx->validated),
	           fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"contact\":{\"name\":\"Piotr Zając\","
	                               "\"email\":\"" CONTACT_MAIL "\"}"));
	sk_test_res_free(&r);

	assert_int_equal(
	    sk_test_status(get_as(practice_url(a, "/praktyka/", fx->draft),
	                          fx->site.reader_cookie, false)),
	    404);
	r = get_as("/praktyki?stan=szkic", fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "Szkic praktyki"));
	assert_non_null(strstr(r.body, "Brak praktyk"));
	sk_test_res_free(&r);
	sk_arena_free(&a);
}

static void
coordinators_see_drafts_and_their_actions(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	struct sk_test_res r;

	r = get_as("/praktyki?stan=szkic", fx->site.coord_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Szkic praktyki o BIP"));
	assert_non_null(strstr(r.body, "Znaleziono 1\xc2\xa0praktykę."));
	assert_non_null(strstr(r.body, "<strong>szkic</strong>"));
	assert_non_null(strstr(r.body, "<option value=\"szkic\" selected>"));
	sk_test_res_free(&r);

	r = get_as("/praktyki", fx->site.coord_cookie, false);
	assert_int_equal(r.status, 200);
	/* 1 + 1 hostile + EXTRA validated, a draft and an archived one. */
	assert_non_null(strstr(r.body, "Znaleziono 26\xc2\xa0praktyk."));
	sk_test_res_free(&r);

	r = get_as(practice_url(a, "/praktyka/", fx->draft),
	           fx->site.coord_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Tę praktykę widzą tylko "
	                               "koordynatorzy."));
	assert_non_null(strstr(r.body, "Dla koordynatorów"));
	sk_test_res_free(&r);
	sk_arena_free(&a);
}

static void
hostile_fields_come_out_inert(void **state)
{
	struct fx *fx = *state;
	struct sk_arena *a = sk_arena_new(0);
	const char *targets[] = { "/praktyki?gmina=brzozowka",
		                  "/gmina/brzozowka", "/feed/praktyki.atom",
		                  practice_url(a, "/praktyka/", fx->hostile) };
	struct sk_test_res r;
	json_t *j;
	json_error_t je;
	xmlDocPtr doc;

	for (size_t i = 0; i < SK_ARRAY_SIZE(targets); i++) {
		r = get_as(targets[i], fx->site.reader_cookie, false);
		assert_int_equal(r.status, 200);
		assert_null(strstr(r.body, "<script>"));
		assert_null(strstr(r.body, "<img src=x"));
		assert_non_null(strstr(r.body, "&lt;script&gt;alert(1)"
		                               "&lt;/script&gt; &quot;"
		                               "cudzysłów&quot;"));
		sk_test_res_free(&r);
	}
	r = get_as(practice_url(a, "/praktyka/", fx->hostile),
	           fx->site.reader_cookie, false);
	assert_non_null(strstr(r.body, "&lt;img src=x onerror=alert(2)&gt;"));
	assert_null(strstr(r.body, "href=\"javascript"));
	/* The title is the page's <title> too, escaped. */
	assert_non_null(strstr(r.body, "<title>&lt;script&gt;"));
	sk_test_res_free(&r);

	r = get_as(practice_url(a, "/api/v1/praktyka/", fx->hostile),
	           fx->site.reader_cookie, false);
	j = json_loads(r.body, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "title")),
	                    HOSTILE_TITLE);
	json_decref(j);
	sk_test_res_free(&r);

	r = get_as("/feed/praktyki.atom", fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	doc = xmlReadMemory(r.body, (int)strlen(r.body), "feed.xml", NULL,
	                    XML_PARSE_NONET | XML_PARSE_NOERROR);
	assert_non_null(doc);
	xmlFreeDoc(doc);
	assert_null(strstr(r.body, "<script>"));
	assert_null(strstr(r.body, "Szkic praktyki"));
	sk_test_res_free(&r);
	sk_arena_free(&a);
}

static void
bad_ids_and_pages_are_400_missing_ones_404(void **state)
{
	static const struct {
		const char *target;
		int status;
	} cases[] = {
		{ "/praktyka/abc", 400 },
		{ "/praktyka/0", 400 },
		{ "/praktyka/-1", 400 },
		{ "/praktyka/99999", 404 },
		{ "/praktyki?strona=0", 400 },
		{ "/praktyki?strona=x", 400 },
		{ "/praktyki?strona=501", 400 },
		{ "/praktyki?temat=Zle!", 400 },
		{ "/praktyki?temat=nie-ma-takiego", 404 },
		{ "/praktyki?gmina=nie-ma-takiej", 404 },
		{ "/praktyki?stan=opublikowana", 400 },
		{ "/kwartal/2024-5", 400 },
		{ "/kwartal/24-1", 400 },
		{ "/kwartal/2024-Q1", 400 },
		{ "/kwartal/2024-1?strona=0", 400 },
		{ "/api/v1/praktyka/abc", 400 },
		{ "/api/v1/praktyka/99999", 404 },
		{ "/api/v1/praktyki?limit=0", 400 },
		{ "/api/v1/praktyki?limit=101", 400 },
		{ "/api/v1/praktyki?strona=0", 400 },
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < SK_ARRAY_SIZE(cases); i++) {
		struct sk_test_res r =
		    get_as(cases[i].target, fx->site.reader_cookie, false);
		if (r.status != cases[i].status)
			fprintf(stderr, "%s: %d\n", cases[i].target, r.status);
		assert_int_equal(r.status, cases[i].status);
		if (strncmp(cases[i].target, "/api/", 5) == 0)
			assert_string_equal(r.resp.content_type,
			                    "application/json");
		else
			assert_non_null(strstr(r.body, "lang=\"pl\""));
		sk_test_res_free(&r);
	}
}

static void
pages_answer_get_and_head_only(void **state)
{
	struct fx *fx = *state;
	const char *targets[] = { "/praktyki",        "/praktyka/1",
		                  "/dla-nowych",      "/slownik",
		                  "/kwartaly",        "/kwartal/2024-1",
		                  "/api/v1/praktyki", "/feed/praktyki.atom" };

	for (size_t i = 0; i < SK_ARRAY_SIZE(targets); i++) {
		const char *cookie = fx->site.reader_cookie;
		struct sk_test_res r =
		    request(SK_METHOD_POST, targets[i], cookie, false);
		assert_int_equal(r.status, 405);
		assert_string_equal(sk_resp_header(&r.resp, "Allow"),
		                    "GET, HEAD");
		sk_test_res_free(&r);
		r = request(SK_METHOD_HEAD, targets[i], cookie, false);
		assert_int_equal(r.status, 200);
		sk_test_res_free(&r);
	}
}

static void
lists_page_with_exact_counts(void **state)
{
	struct fx *fx = *state;
	struct sk_test_res r;
	json_t *j;
	json_error_t je;

	/* 24 validated: 20 on the first page, 4 on the second. */
	r = get_as("/praktyki", fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Znaleziono 24\xc2\xa0praktyki."));
	assert_int_equal(count(r.body, "<li><h3><a href=\"/praktyka/"), 20);
	assert_non_null(strstr(r.body, "href=\"/praktyki?strona=2\""));
	sk_test_res_free(&r);
	r = get_as("/praktyki?strona=2", fx->site.reader_cookie, false);
	assert_int_equal(count(r.body, "<li><h3><a href=\"/praktyka/"), 4);
	assert_non_null(strstr(r.body, "aria-current=\"page\">2<"));
	sk_test_res_free(&r);
	r = get_as("/praktyki?temat=zamowienia", fx->site.reader_cookie, false);
	assert_non_null(strstr(r.body, "Znaleziono 1\xc2\xa0praktykę."));
	assert_non_null(strstr(r.body, "<option value=\"zamowienia\" "
	                               "selected>"));
	sk_test_res_free(&r);
	r = get_as("/praktyki?temat=bip&strona=2", fx->site.reader_cookie,
	           false);
	assert_non_null(strstr(r.body, "Znaleziono 22\xc2\xa0praktyki."));
	assert_non_null(strstr(r.body, "href=\"/praktyki?temat=bip&amp;"
	                               "strona=1\""));
	sk_test_res_free(&r);
	r = get_as("/praktyki?gmina=brzozowka", fx->site.reader_cookie, false);
	assert_non_null(strstr(r.body, "Znaleziono 1\xc2\xa0praktykę."));
	sk_test_res_free(&r);

	r = get_as("/api/v1/praktyki?limit=5&strona=5", fx->site.reader_cookie,
	           false);
	assert_int_equal(r.status, 200);
	j = json_loads(r.body, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 24);
	assert_int_equal(json_array_size(json_object_get(j, "practices")), 4);
	json_decref(j);
	sk_test_res_free(&r);
	r = get_as("/api/v1/praktyki?stan=szkic", fx->site.coord_cookie, false);
	j = json_loads(r.body, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 1);
	json_t *first = json_array_get(json_object_get(j, "practices"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "status")),
	                    "draft");
	json_decref(j);
	sk_test_res_free(&r);
}

static void
onboarding_glossary_and_quarters(void **state)
{
	struct fx *fx = *state;
	struct sk_test_res r;

	r = get_as("/dla-nowych", NULL, true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1>Dla nowych pracowników</h1>"));
	assert_non_null(strstr(r.body, "<a href=\"#t-zamowienia\">"));
	assert_non_null(strstr(r.body, "id=\"t-zamowienia\""));
	assert_non_null(strstr(r.body, "<h3>Zacznij tutaj</h3>"));
	assert_non_null(
	    strstr(r.body, "Od tego wątku zacznij &lt;b&gt;zamówienia"));
	assert_non_null(strstr(r.body, "<h3>Dobre praktyki</h3>"));
	assert_non_null(strstr(r.body, "Regulamin zamówień z trzema progami"));
	assert_non_null(strstr(r.body, "aria-current=\"page\">Dla nowych"));
	assert_null(strstr(r.body, "Szkic praktyki"));
	sk_test_res_free(&r);

	r = get_as("/slownik", NULL, true);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<dl class=\"glossary\">"));
	assert_non_null(strstr(r.body, "<dt><strong>BIP</strong> – Biuletyn "
	                               "Informacji Publicznej</dt>"));
	assert_non_null(strstr(r.body, "<a href=\"/temat/bip\">"));
	sk_test_res_free(&r);

	r = get_as("/kwartaly", fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<a href=\"/kwartal/2024-1\">I kwartał "
	                               "2024</a>"));
	assert_non_null(strstr(r.body, "<a href=\"/kwartal/2024-2\">II "
	                               "kwartał 2024</a>"));
	assert_non_null(strstr(r.body, "<th scope=\"col\">Nowe wątki</th>"));
	sk_test_res_free(&r);

	r = get_as("/kwartal/2024-1", fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h1>I kwartał 2024</h1>"));
	assert_non_null(strstr(r.body, "1\xc2\xa0wątek rozpoczęty w tym"));
	assert_non_null(strstr(r.body, "Regulamin zamówień poniżej"));
	assert_null(strstr(r.body, "Deklaracja dostępności"));
	sk_test_res_free(&r);
	r = get_as("/kwartal/2023-4", fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "0\xc2\xa0wątków rozpoczętych"));
	sk_test_res_free(&r);
}

static void
start_topic_and_partner_pages_show_practices_and_pins(void **state)
{
	struct fx *fx = *state;
	struct sk_test_res r;

	r = get_as("/", fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<h2 id=\"praktyki\">Najnowsze dobre "
	                               "praktyki</h2>"));
	assert_non_null(strstr(r.body, "href=\"/dla-nowych\""));
	assert_non_null(strstr(r.body, "href=\"/slownik\""));
	assert_non_null(strstr(r.body, "href=\"/kwartaly\""));
	assert_null(strstr(r.body, "Szkic praktyki"));
	sk_test_res_free(&r);

	r = get_as("/temat/zamowienia", fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	const char *pins = strstr(r.body, "<h2 id=\"zacznij\">Zacznij tutaj");
	const char *prac = strstr(r.body, "<h2 id=\"praktyki\">Dobre praktyki");
	const char *threads = strstr(r.body, "<h2 id=\"watki\">");
	assert_non_null(pins);
	assert_non_null(prac);
	assert_non_null(threads);
	assert_true(pins < prac && prac < threads);
	assert_non_null(strstr(r.body, "href=\"/praktyki?temat=zamowienia\""));
	sk_test_res_free(&r);
	r = get_as("/temat/zamowienia?strona=2", fx->site.reader_cookie, false);
	assert_null(strstr(r.body, "Zacznij tutaj"));
	sk_test_res_free(&r);

	r = get_as("/gmina/jaskowo", fx->site.reader_cookie, false);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Regulamin zamówień z trzema progami"));
	assert_non_null(strstr(r.body, "href=\"/praktyki?gmina=jaskowo\""));
	sk_test_res_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(private_mode_sends_anonymous_readers_to_login),
		cmocka_unit_test(
		    public_mode_shows_practices_without_contacts_or_addresses),
		cmocka_unit_test(readers_see_the_contact_but_no_drafts),
		cmocka_unit_test(coordinators_see_drafts_and_their_actions),
		cmocka_unit_test(hostile_fields_come_out_inert),
		cmocka_unit_test(bad_ids_and_pages_are_400_missing_ones_404),
		cmocka_unit_test(pages_answer_get_and_head_only),
		cmocka_unit_test(lists_page_with_exact_counts),
		cmocka_unit_test(onboarding_glossary_and_quarters),
		cmocka_unit_test(
		    start_topic_and_partner_pages_show_practices_and_pins),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
