/* tests/test_index_classify.c: topic classification — subject tags,
 * keywords (inflected and without diacritics, longest match, quoted text
 * left out), subtopics, manual decisions surviving reclassification, the
 * naive Bayes model changing a decision — and the evaluation on the demo
 * corpus (printed as a table; docs/topics.md has the numbers), the
 * model's 2024/2025 split, and the team's labels of real mail
 * (tests/data/topics/real-labels.tsv). */
#include "tests/helpers/sk_test.h"
#include "index/private.h"
#include "ingest/sk_ingest.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The demo partnership (demo/FORMAT.md). */
static const struct sk_partner_conf demo_partners[] = {
	{ (char *)"brzozowka", (char *)"Gmina Brzozówka", (char *)"gmina",
	  (char *)"brzozowka.example" },
	{ (char *)"jaskowo", (char *)"Gmina Jaśkowo", (char *)"gmina",
	  (char *)"jaskowo.example" },
	{ (char *)"zielonka", (char *)"Miasto Zielonka Wielka", (char *)"gmina",
	  (char *)"zielonka-wielka.example" },
	{ (char *)"sosnica", (char *)"Gmina Sośnica Dolna", (char *)"gmina",
	  (char *)"sosnica.example" },
	{ (char *)"debowa", (char *)"Gmina Dębowa Góra", (char *)"gmina",
	  (char *)"debowa-gora.example" },
	{ (char *)"lakowski", (char *)"Powiat Łąkowski", (char *)"powiat",
	  (char *)"powiat-lakowski.example" },
	{ (char *)"borowiecki", (char *)"Powiat Borowiecki", (char *)"powiat",
	  (char *)"borowiecki.example" },
};

struct fx {
	char *dir;
	struct sk_index *ix;
	struct sk_arena *a;
	int n;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct sk_err err = { 0 };
	fx->dir = sk_test_tmpdir();
	fx->a = sk_arena_new(0);
	if (sk_index_open(fx->dir,
			  SK_INDEX_CREATE | SK_INDEX_WRITE | SK_INDEX_NO_XAPIAN,
			  &fx->ix, &err) ||
	    sk_index_load_taxonomy(fx->ix, sk_index_default_taxonomy(), &err) ||
	    sk_index_sync_partners(fx->ix, demo_partners,
				   SK_ARRAY_SIZE(demo_partners), &err) ||
	    sk_index_meta_set(fx->ix, "list.address", "praktyki@lista.example",
			      &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	sk_index_close(&fx->ix);
	sk_arena_free(&fx->a);
	sk_test_rmdir(&fx->dir);
	free(fx);
	return 0;
}

/* Store a message; quote, when not NULL, is appended as quoted text. */
static int64_t
add(struct fx *fx, const char *subject, const char *body, const char *quote,
    const char *in_reply_to)
{
	struct sk_message m = { 0 };
	struct sk_err err = { 0 };
	const char *id = sk_arena_printf(fx->a, "m%d@brzozowka.example", ++fx->n);
	const char *text = quote ? sk_arena_printf(fx->a, "%s\n\n%s", body, quote)
				 : body;
	int64_t row = 0;
	enum sk_status rc;

	m.raw = sk_arena_printf(fx->a, "Message-ID: <%s>\nSubject: %s\n\n%s\n",
				id, subject, text);
	m.raw_len = strlen(m.raw);
	m.message_id = id;
	m.subject = subject;
	m.from_name = "Anna Kowalczyk";
	m.from_addr = "a.kowalczyk@brzozowka.example";
	m.date = 1700000000 + fx->n * 60;
	m.body = text;
	m.quote_start = quote ? strlen(body) + 2 : strlen(text);
	if (in_reply_to) {
		m.in_reply_to = in_reply_to;
		m.references = &m.in_reply_to;
		m.n_references = 1;
	}
	rc = sk_index_add_message(fx->ix, &m, &row, &err);
	if (rc)
		fprintf(stderr, "add: %s\n", err.msg);
	assert_int_equal(rc, SK_OK);
	return row;
}

/* The message's own topics ("slug:source slug:source"), best first. */
static const char *
msg_topics(struct fx *fx, int64_t id)
{
	sqlite3_stmt *st;
	struct sk_buf b;
	const char *out;
	assert_int_equal(sqlite3_prepare_v2(fx->ix->db,
					    "SELECT t.slug, mt.source FROM "
					    "message_topics mt JOIN topics t ON "
					    "t.id = mt.topic_id WHERE "
					    "mt.message_id = ?1 ORDER BY "
					    "mt.confidence DESC, t.slug",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	sk_buf_init(&b, 4096);
	while (sqlite3_step(st) == SQLITE_ROW)
		sk_buf_addf(&b, "%s%s:%s", b.len ? " " : "",
			    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	out = sk_arena_strdup(fx->a, b.p);
	sk_buf_release(&b);
	return out;
}

static bool
has_topic(const char *topics, const char *slug)
{
	size_t n = strlen(slug);
	for (const char *p = topics; (p = strstr(p, slug)) != NULL; p += n)
		if ((p == topics || p[-1] == ' ') && p[n] == ':')
			return true;
	return false;
}

static int64_t
thread_of(struct fx *fx, int64_t msg)
{
	sqlite3_stmt *st;
	int64_t t = 0;
	sqlite3_prepare_v2(fx->ix->db,
			   "SELECT thread_id FROM messages WHERE id = ?1", -1,
			   &st, NULL);
	sqlite3_bind_int64(st, 1, msg);
	if (sqlite3_step(st) == SQLITE_ROW)
		t = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return t;
}

/* The thread's visible topic slugs, space separated. */
static const char *
thread_topics(struct fx *fx, int64_t thread)
{
	sqlite3_stmt *st;
	struct sk_buf b;
	const char *out;
	sqlite3_prepare_v2(fx->ix->db,
			   "SELECT t.slug FROM thread_topics tt JOIN topics t ON "
			   "t.id = tt.topic_id WHERE tt.thread_id = ?1 AND "
			   "tt.removed = 0 ORDER BY t.slug",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, thread);
	sk_buf_init(&b, 4096);
	while (sqlite3_step(st) == SQLITE_ROW)
		sk_buf_addf(&b, "%s%s:", b.len ? " " : "",
			    sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	out = sk_arena_strdup(fx->a, b.p);
	sk_buf_release(&b);
	return out;
}

/* ---- unit cases ---------------------------------------------------------- */

static void
subject_tag_is_certain(void **state)
{
	struct fx *fx = *state;
	int64_t id = add(fx, "[RODO] Pytanie", "Krótko.", NULL, NULL);
	const char *t = msg_topics(fx, id);
	assert_string_equal(t, "rodo:tag");
	/* Tags are folded: "[Zamowienia]" is "[Zamówienia]". */
	t = msg_topics(fx, add(fx, "[zamowienia] Re: termin", "Dzięki.", NULL,
			       NULL));
	assert_true(has_topic(t, "zamowienia"));
}

static void
keywords_match_inflected_and_undiacritised_forms(void **state)
{
	struct fx *fx = *state;
	const char *t;

	t = msg_topics(fx, add(fx, "Pytanie o postępowanie",
			       "W trakcie zamówień publicznych na dostawy "
			       "wykonawcy składają oferty przez platformę "
			       "zakupową, a kryteria oceny ofert...",
			       NULL, NULL));
	assert_true(has_topic(t, "zamowienia"));
	t = msg_topics(fx, add(fx, "Taryfa",
			       "Wnioski taryfowe do Wód Polskich: jak "
			       "liczycie dopłaty do ścieków?",
			       NULL, NULL));
	assert_true(has_topic(t, "woda-scieki"));
	/* Typed without Polish letters, the way some of us write. */
	t = msg_topics(fx, add(fx, "taryfa na scieki",
			       "czy wniosek taryfowy do Wod Polskich "
			       "skladaliscie sami? doplata do sciekow "
			       "dla gospodarstw domowych",
			       NULL, NULL));
	assert_true(has_topic(t, "woda-scieki"));
	t = msg_topics(fx, add(fx, "rejestr czynnosci",
			       "inspektor ochrony danych prosi o rejestr "
			       "czynnosci przetwarzania i klauzule "
			       "informacyjne",
			       NULL, NULL));
	assert_true(has_topic(t, "rodo"));
}

static void
longest_keyword_wins(void **state)
{
	struct fx *fx = *state;
	/* "deklaracja" alone is a waste declaration, but "deklaracja
	 * dostępności" is the BIP's accessibility statement. */
	const char *t = msg_topics(
		fx, add(fx, "Deklaracja dostępności",
			"Do 31 marca trzeba zaktualizować deklarację "
			"dostępności strony podmiotowej BIP. Czy deklaracja "
			"dostępności obejmuje też skany?",
			NULL, NULL));
	assert_true(has_topic(t, "bip"));
	assert_false(has_topic(t, "odpady"));
}

static void
quoted_text_is_not_counted(void **state)
{
	struct fx *fx = *state;
	const char *t = msg_topics(
		fx, add(fx, "Re: pytanie",
			"Dziękuję, tak zrobimy.",
			"> Segregacja odpadów komunalnych, PSZOK i opłata za\n"
			"> odpady: deklaracje od mieszkańców, odbiór odpadów,\n"
			"> sprawozdanie do BDO.",
			NULL));
	assert_false(has_topic(t, "odpady"));
}

static void
subtopic_supports_its_parent(void **state)
{
	struct fx *fx = *state;
	const char *t = msg_topics(
		fx, add(fx, "Rozeznanie rynku poniżej progu",
			"Nasz regulamin udzielania zamówień poniżej 130 000 zł "
			"wymaga rozeznania rynku: trzy oferty, notatka.",
			NULL, NULL));
	assert_true(has_topic(t, "zamowienia-ponizej-progu"));
	assert_true(has_topic(t, "zamowienia"));
}

static void
thread_takes_the_weighty_topics_of_its_messages(void **state)
{
	struct fx *fx = *state;
	int64_t root = add(fx, "Taryfa za wodę",
			   "Wniosek taryfowy do Wód Polskich: dopłata do "
			   "ścieków, oczyszczalnia, wodociąg.",
			   NULL, NULL);
	const char *root_mid = sk_arena_printf(fx->a, "m%d@brzozowka.example",
					       fx->n);
	int64_t r1 = add(fx, "Re: Taryfa za wodę",
			 "U nas taryfa na wodę i ścieki na trzy lata.", NULL,
			 root_mid);
	int64_t thread = thread_of(fx, root);
	assert_int_equal(thread_of(fx, r1), thread);
	assert_string_equal(thread_topics(fx, thread), "woda-scieki:");
}

static void
manual_decisions_survive_reclassification(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	int64_t m = add(fx, "Taryfa za wodę",
			"Wniosek taryfowy do Wód Polskich i dopłata do ścieków.",
			NULL, NULL);
	int64_t thread = thread_of(fx, m);

	assert_string_equal(thread_topics(fx, thread), "woda-scieki:");
	assert_int_equal(sk_index_thread_topic(fx->ix, thread, "rodo",
					       SK_TOPIC_ADD, "k@lista.example",
					       NULL, &err),
			 SK_OK);
	assert_int_equal(sk_index_thread_topic(fx->ix, thread, "woda-scieki",
					       SK_TOPIC_REMOVE,
					       "k@lista.example", NULL, &err),
			 SK_OK);
	assert_string_equal(thread_topics(fx, thread), "rodo:");
	assert_int_equal(sk_index_classify(fx->ix, true, &err), SK_OK);
	assert_string_equal(thread_topics(fx, thread), "rodo:");
	/* The message's own automatic topic is still computed. */
	assert_true(has_topic(msg_topics(fx, m), "woda-scieki"));
	/* Handing the decision back to the classifier. */
	assert_int_equal(sk_index_thread_topic(fx->ix, thread, "woda-scieki",
					       SK_TOPIC_AUTO,
					       "k@lista.example", NULL, &err),
			 SK_OK);
	assert_string_equal(thread_topics(fx, thread), "rodo: woda-scieki:");
}

static void
model_trained_on_confirmed_labels_changes_a_decision(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_model_stats ms;
	const char *before, *after;
	int64_t probe;

	/* A survey of department heads: the keywords say "satisfaction
	 * survey" (ankieta)... */
	probe = add(fx, "Ankieta dla kierowników wydziałów",
		    "Prośba o wypełnienie ankiety do 15 lutego: kierownicy "
		    "wydziałów oceniają zagrożenia w swoich komórkach.",
		    NULL, NULL);
	before = msg_topics(fx, probe);
	assert_true(has_topic(before, "badania-satysfakcji"));
	assert_false(has_topic(before, "kontrola-zarzadcza"));
	/* ...but in this partnership coordinators file such mail under
	 * management control; 60 labelled threads teach the model. */
	for (int i = 0; i < 30; i++) {
		int64_t k = add(fx, "Samoocena w wydziałach",
				"Kierownicy wydziałów wypełniają ankietę i "
				"oceniają zagrożenia w komórkach; zagrożenia "
				"trafiają do zestawienia.",
				NULL, NULL);
		int64_t b = add(fx, "Obsługa interesantów",
				"Interesanci oceniają uprzejmość i czas "
				"oczekiwania w biurze obsługi; wyniki dla "
				"sekretarza.",
				NULL, NULL);
		assert_int_equal(sk_index_thread_topic(fx->ix, thread_of(fx, k),
						       "kontrola-zarzadcza",
						       SK_TOPIC_ADD, "k", NULL,
						       &err),
				 SK_OK);
		assert_int_equal(sk_index_thread_topic(fx->ix, thread_of(fx, b),
						       "badania-satysfakcji",
						       SK_TOPIC_ADD, "k", NULL,
						       &err),
				 SK_OK);
	}
	assert_int_equal(sk_index_model_stats(fx->ix, &ms, &err), SK_OK);
	assert_int_equal(ms.labelled_messages, 60);
	assert_int_equal(ms.topics_covered, 2);
	assert_true(ms.active);
	assert_int_equal(sk_index_classify(fx->ix, true, &err), SK_OK);
	after = msg_topics(fx, probe);
	assert_true(has_topic(after, "kontrola-zarzadcza"));
	assert_false(has_topic(after, "badania-satysfakcji"));
	/* Taking the labels back: the model forgets, the decision returns. */
	assert_int_equal(sk_index_meta_set(fx->ix, "classify.model", "off",
					   &err),
			 SK_OK);
	assert_int_equal(sk_index_classify(fx->ix, true, &err), SK_OK);
	assert_string_equal(msg_topics(fx, probe), before);
	assert_int_equal(sk_index_meta_set(fx->ix, "classify.model", "auto",
					   &err),
			 SK_OK);
	assert_int_equal(sk_index_model_rebuild(fx->ix, &err), SK_OK);
	assert_int_equal(sk_index_model_stats(fx->ix, &ms, &err), SK_OK);
	assert_int_equal(ms.labelled_messages, 60);
}

static void
model_counts_follow_labels(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_model_stats ms;
	int64_t m = add(fx, "Taryfa", "Wniosek taryfowy i ścieki.", NULL, NULL);
	int64_t thread = thread_of(fx, m), audit = 0;
	sqlite3_stmt *st;

	assert_int_equal(sk_index_thread_topic(fx->ix, thread, "woda-scieki",
					       SK_TOPIC_ADD, "k", &audit, &err),
			 SK_OK);
	assert_int_equal(sk_index_model_stats(fx->ix, &ms, &err), SK_OK);
	assert_int_equal(ms.labels, 1);
	assert_false(ms.active);
	assert_int_equal(sqlite3_prepare_v2(fx->ix->db,
					    "SELECT n FROM topic_model_terms "
					    "WHERE term = 'taryfowy'",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	/* Undoing the label subtracts exactly what it added. */
	assert_int_equal(sk_index_audit_undo(fx->ix, audit, "k", &err), SK_OK);
	assert_int_equal(sk_index_model_stats(fx->ix, &ms, &err), SK_OK);
	assert_int_equal(ms.labels, 0);
	assert_int_equal(ms.vocabulary, 0);
}

/* ---- the demo corpus --------------------------------------------------------- */

struct truth {
	char *mid, *topic, *file;
};

static struct truth *
read_manifest(size_t *n_out)
{
	char *text, *save = NULL;
	struct sk_err err = { 0 };
	struct truth *t = NULL;
	size_t n = 0, cap = 0, len;

	assert_int_equal(sk_read_file("demo/manifest.tsv", 1 << 20, &text, &len,
				      &err),
			 SK_OK);
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4] = { 0 }, *p = line;
		for (int i = 0; i < 4 && p; i++) {
			f[i] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (!f[3] || !strcmp(f[0], "message_id"))
			continue;
		sk_xgrow((void **)&t, &cap, n + 1, sizeof(*t));
		t[n].mid = sk_xstrdup(f[0]);
		t[n].topic = sk_xstrdup(f[2]);
		t[n].file = sk_xstrdup(f[3]);
		n++;
	}
	free(text);
	*n_out = n;
	return t;
}

static void
free_manifest(struct truth *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].mid);
		free(t[i].topic);
		free(t[i].file);
	}
	free(t);
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
ingest(struct fx *fx, const char *mbox, const char *list_id)
{
	struct sk_ingest_settings set = { 0 };
	struct sk_ingest *ing = NULL;
	struct sk_err err = { 0 };
	set.quiet = true;
	set.list_id = list_id;
	assert_int_equal(sk_ingest_new(fx->ix, &set, &ing, &err), SK_OK);
	if (sk_ingest_mbox(ing, mbox, &err))
		fprintf(stderr, "ingest %s: %s\n", mbox, err.msg);
	assert_int_equal(sk_ingest_finish(&ing, &err), SK_OK);
}

/* All (message, topic) rows of the store, for comparing two states. */
static char *
topic_rows(struct fx *fx, const char *sql)
{
	sqlite3_stmt *st;
	struct sk_buf b;
	sk_buf_init(&b, 64u << 20);
	assert_int_equal(sqlite3_prepare_v2(fx->ix->db, sql, -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		sk_buf_addf(&b, "%lld %lld %.6f %s\n",
			    (long long)sqlite3_column_int64(st, 0),
			    (long long)sqlite3_column_int64(st, 1),
			    sqlite3_column_double(st, 2),
			    sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	return sk_buf_take(&b, NULL);
}

/* First-level topics (a subtopic counts as its parent) of a message
 * (thread = false) or of its thread, as a list of slugs. */
static size_t
assigned(struct fx *fx, const char *mid, bool thread, bool auto_only,
	 char out[][64], size_t max)
{
	static const char *const sql[2] = {
		"SELECT DISTINCT coalesce(p.slug, t.slug) FROM messages m JOIN "
		"message_topics mt ON mt.message_id = m.id JOIN topics t ON "
		"t.id = mt.topic_id LEFT JOIN topics p ON p.id = t.parent_id "
		"WHERE m.message_id = ?1 AND (?2 = 0 OR mt.source <> 'manual')",
		"SELECT DISTINCT coalesce(p.slug, t.slug) FROM messages m JOIN "
		"thread_topics tt ON tt.thread_id = m.thread_id JOIN topics t ON "
		"t.id = tt.topic_id LEFT JOIN topics p ON p.id = t.parent_id "
		"WHERE m.message_id = ?1 AND tt.removed = 0 AND (?2 = 0 OR "
		"tt.source <> 'manual')",
	};
	sqlite3_stmt *st;
	size_t n = 0;
	sqlite3_prepare_v2(fx->ix->db, sql[thread], -1, &st, NULL);
	sqlite3_bind_text(st, 1, mid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, auto_only);
	while (sqlite3_step(st) == SQLITE_ROW && n < max)
		snprintf(out[n++], 64, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return n;
}

struct score {
	char topic[64];
	int tp, fp, fn;
};

struct eval {
	struct score *s;
	size_t n;
	int tp, fp, fn, messages;
};

static struct score *
score_of(struct eval *e, const char *topic)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->s[i].topic, topic))
			return &e->s[i];
	e->s = sk_xrealloc(e->s, (e->n + 1) * sizeof(*e->s));
	memset(&e->s[e->n], 0, sizeof(*e->s));
	snprintf(e->s[e->n].topic, sizeof(e->s[e->n].topic), "%s", topic);
	return &e->s[e->n++];
}

/* Score messages of the manifest (only those of file when not NULL, and
 * not those whose thread was labelled when skip_labelled). */
static struct eval
evaluate(struct fx *fx, const struct truth *t, size_t n, bool thread,
	 const char *file)
{
	struct eval e = { 0 };
	for (size_t i = 0; i < n; i++) {
		char got[16][64];
		size_t k;
		bool hit = false;
		if (!strcmp(t[i].topic, "-") ||
		    (file && strcmp(t[i].file, file)))
			continue;
		if (file) {
			/* Threads that were labelled are training data. */
			char man[16][64];
			size_t all = assigned(fx, t[i].mid, true, false, man, 16);
			size_t aut = assigned(fx, t[i].mid, true, true, got, 16);
			if (all != aut)
				continue;
		}
		k = assigned(fx, t[i].mid, thread, false, got, 16);
		e.messages++;
		for (size_t j = 0; j < k; j++) {
			if (!strcmp(got[j], t[i].topic)) {
				hit = true;
				score_of(&e, got[j])->tp++;
				e.tp++;
			} else {
				score_of(&e, got[j])->fp++;
				e.fp++;
			}
		}
		if (!hit) {
			score_of(&e, t[i].topic)->fn++;
			e.fn++;
		}
	}
	return e;
}

static double
f1(int tp, int fp, int fn, double *p, double *r)
{
	*p = tp + fp ? (double)tp / (tp + fp) : 0;
	*r = tp + fn ? (double)tp / (tp + fn) : 0;
	return *p + *r > 0 ? 2 * *p * *r / (*p + *r) : 0;
}

static int
cmp_score(const void *x, const void *y)
{
	return strcmp(((const struct score *)x)->topic,
		      ((const struct score *)y)->topic);
}

static double
report(const char *title, struct eval *e, bool table)
{
	double p, r, f = f1(e->tp, e->fp, e->fn, &p, &r);
	printf("%s: %d messages, micro P %.3f R %.3f F1 %.3f (tp %d fp %d "
	       "fn %d)\n",
	       title, e->messages, p, r, f, e->tp, e->fp, e->fn);
	if (table) {
		qsort(e->s, e->n, sizeof(*e->s), cmp_score);
		printf("  %-26s %5s %5s %5s %6s %6s\n", "topic", "tp", "fp",
		       "fn", "P", "R");
		for (size_t i = 0; i < e->n; i++) {
			double tp, tr;
			f1(e->s[i].tp, e->s[i].fp, e->s[i].fn, &tp, &tr);
			printf("  %-26s %5d %5d %5d %6.2f %6.2f\n",
			       e->s[i].topic, e->s[i].tp, e->s[i].fp,
			       e->s[i].fn, tp, tr);
		}
	}
	free(e->s);
	e->s = NULL;
	return f;
}

static void
demo_corpus_meets_the_mark(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_stats stats;
	struct truth *t;
	size_t n;
	char *before_m, *before_t, *after_m, *after_t;
	double t0, t1, fm, ft;
	struct eval e;
	static const char *const msql =
		"SELECT message_id, topic_id, confidence, source FROM "
		"message_topics ORDER BY 1, 2";
	static const char *const tsql =
		"SELECT thread_id, topic_id, confidence, source || removed FROM "
		"thread_topics ORDER BY 1, 2";

	t0 = now_s();
	ingest(fx, "demo/praktyki-2024.mbox", "praktyki.lista.example");
	ingest(fx, "demo/praktyki-2025.mbox", "praktyki.lista.example");
	t1 = now_s();
	assert_int_equal(sk_index_stats(fx->ix, &stats, &err), SK_OK);
	assert_int_equal(stats.messages, 443);
	printf("demo: ingest of %lld messages %.2f s (classification "
	       "included)\n",
	       (long long)stats.messages, t1 - t0);

	/* The ingest path and a reclassification agree. */
	before_m = topic_rows(fx, msql);
	before_t = topic_rows(fx, tsql);
	t0 = now_s();
	assert_int_equal(sk_index_classify(fx->ix, true, &err), SK_OK);
	t1 = now_s();
	after_m = topic_rows(fx, msql);
	after_t = topic_rows(fx, tsql);
	assert_string_equal(before_m, after_m);
	assert_string_equal(before_t, after_t);
	free(before_m);
	free(before_t);
	free(after_m);
	free(after_t);
	printf("demo: reclassification %.2f ms per message\n",
	       (t1 - t0) * 1000 / (double)stats.messages);

	t = read_manifest(&n);
	assert_int_equal(n, 443);
	e = evaluate(fx, t, n, false, NULL);
	fm = report("demo, message topics (keywords and tags)", &e, true);
	e = evaluate(fx, t, n, true, NULL);
	ft = report("demo, thread topics (what readers see)", &e, true);
	assert_true(fm >= 0.8);
	assert_true(ft >= 0.8);

	/* The model, honestly: coordinators confirm the topics of the 2024
	 * threads (the manifest's truth), the model learns them, and the
	 * 2025 messages in threads nobody labelled are the test set. */
	for (size_t i = 0; i < n; i++) {
		int64_t row = 0, thread = 0;
		sqlite3_stmt *st;
		if (strcmp(t[i].file, "praktyki-2024.mbox") ||
		    !strcmp(t[i].topic, "-"))
			continue;
		sqlite3_prepare_v2(fx->ix->db,
				   "SELECT id, thread_id FROM messages WHERE "
				   "message_id = ?1",
				   -1, &st, NULL);
		sqlite3_bind_text(st, 1, t[i].mid, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			row = sqlite3_column_int64(st, 0);
			thread = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
		assert_true(row > 0);
		assert_int_equal(sk_index_thread_topic(fx->ix, thread,
						       t[i].topic, SK_TOPIC_ADD,
						       "koordynator@lista.example",
						       NULL, &err),
				 SK_OK);
	}
	{
		static const char *const modes[] = { "off", "only", "auto" };
		static const char *const names[] = {
			"2025 held out, keywords and tags only",
			"2025 held out, naive Bayes alone (argmax)",
			"2025 held out, keywords + naive Bayes (default)",
		};
		struct sk_model_stats ms;
		double fs[3];
		assert_int_equal(sk_index_model_stats(fx->ix, &ms, &err), SK_OK);
		printf("model: %lld labelled messages, %lld topics covered, "
		       "%lld terms\n",
		       (long long)ms.labelled_messages,
		       (long long)ms.topics_covered, (long long)ms.vocabulary);
		assert_true(ms.active);
		for (int m = 0; m < 3; m++) {
			assert_int_equal(sk_index_meta_set(fx->ix, "classify.model",
							   modes[m], &err),
					 SK_OK);
			t0 = now_s();
			assert_int_equal(sk_index_classify(fx->ix, true, &err),
					 SK_OK);
			t1 = now_s();
			e = evaluate(fx, t, n, false, "praktyki-2025.mbox");
			fs[m] = report(names[m], &e, m == 1);
			e = evaluate(fx, t, n, true, "praktyki-2025.mbox");
			report("  the same, thread topics", &e, false);
			printf("  (%.2f ms per message)\n",
			       (t1 - t0) * 1000 / (double)stats.messages);
		}
		assert_true(fs[0] >= 0.8);
		assert_true(fs[2] >= 0.8);
		assert_true(fs[1] >= 0.4);
		sk_index_meta_set(fx->ix, "classify.model", "auto", &err);
	}
	free_manifest(t, n);
}

/* ---- real mail labelled by the team ---------------------------------------------- */

/* The first n messages of an xz-compressed mboxrd corpus into path. */
static bool
corpus_head(const char *xz, size_t n, const char *path)
{
	FILE *in, *out;
	char line[8192];
	size_t seen = 0;
	snprintf(line, sizeof(line), "xz -dc '%s' | head -c 4000000", xz);
	in = popen(line, "r");
	if (!in)
		return false;
	out = fopen(path, "w");
	while (out && fgets(line, sizeof(line), in)) {
		if (!strncmp(line, "From mboxrd@z ", 14) && ++seen > n)
			break;
		fputs(line, out);
	}
	/* Drain so head and xz end cleanly. */
	while (fgets(line, sizeof(line), in))
		;
	pclose(in);
	if (out)
		fclose(out);
	return out && seen >= n;
}

static void
real_mail_gets_no_municipal_topic(void **state)
{
	struct fx *fx = *state;
	const char *spam = sk_test_corpus("pl-lore-spam/pl-lore-spam.mbox");
	const char *usrp;
	char *spam_path, *usrp_path, *labels, *save = NULL;
	struct {
		const char *name;
		int labelled, found, held, with_topic, nearest, other;
	} c[2] = { { "pl-lore-spam", 0, 0, 0, 0, 0, 0 },
		   { "usrp-users", 0, 0, 0, 0, 0, 0 } };

	if (!spam) {
		skip();
		return;
	}
	spam_path = sk_xstrdup(spam);
	usrp = sk_test_corpus("usrp-users/usrp-users.mbox.xz");
	if (!usrp) {
		free(spam_path);
		skip();
		return;
	}
	usrp_path = sk_arena_printf(fx->a, "%s/usrp-100.mbox", fx->dir);
	if (!corpus_head(usrp, 100, usrp_path)) {
		printf("SKIP: cannot read '%s' (is xz installed?)\n", usrp);
		free(spam_path);
		skip();
		return;
	}
	ingest(fx, spam_path, NULL);
	ingest(fx, usrp_path, NULL);
	free(spam_path);

	labels = sk_test_read("topics/real-labels.tsv", NULL);
	for (char *line = strtok_r(labels, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[5] = { 0 }, *p = line, got[16][64];
		size_t k;
		int which;
		sqlite3_stmt *st;
		if (*line == '#')
			continue;
		for (int i = 0; i < 5 && p; i++) {
			f[i] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		assert_non_null(f[3]);
		which = !strcmp(f[0], "usrp-users");
		c[which].labelled++;
		sqlite3_prepare_v2(fx->ix->db,
				   "SELECT flags & 8 FROM messages WHERE "
				   "message_id = ?1",
				   -1, &st, NULL);
		sqlite3_bind_text(st, 1, f[1], -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			c[which].found++;
			c[which].held += sqlite3_column_int(st, 0) != 0;
		}
		sqlite3_finalize(st);
		k = assigned(fx, f[1], false, false, got, 16);
		if (!k)
			continue;
		c[which].with_topic++;
		if (strcmp(f[2], "-"))
			continue; /* labelled with a topic: none so far */
		for (size_t j = 0; j < k; j++)
			if (!strcmp(got[j], f[3]))
				c[which].nearest++;
		c[which].other += k > 0 && strcmp(got[0], f[3]);
	}
	free(labels);
	printf("real mail labelled by the team (topic '-': none of ours)\n");
	printf("  %-14s %9s %6s %5s %10s %8s %6s\n", "corpus", "labelled",
	       "found", "held", "with topic", "nearest", "other");
	for (int i = 0; i < 2; i++)
		printf("  %-14s %9d %6d %5d %10d %8d %6d\n", c[i].name,
		       c[i].labelled, c[i].found, c[i].held, c[i].with_topic,
		       c[i].nearest, c[i].other);
	assert_int_equal(c[0].labelled, 44);
	assert_int_equal(c[1].labelled, 100);
	assert_int_equal(c[0].found, 44);
	assert_int_equal(c[1].found, 100);
	/* Offers from outside the partnership never reach readers... */
	assert_int_equal(c[0].held, 44);
	/* ...and a list about something else gets none of our topics. */
	assert_true(c[1].with_topic <= 2);
	/* The offers that get a topic get the one their words are about. */
	assert_true(c[0].other <= 3);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(subject_tag_is_certain),
		T(keywords_match_inflected_and_undiacritised_forms),
		T(longest_keyword_wins),
		T(quoted_text_is_not_counted),
		T(subtopic_supports_its_parent),
		T(thread_takes_the_weighty_topics_of_its_messages),
		T(manual_decisions_survive_reclassification),
		T(model_trained_on_confirmed_labels_changes_a_decision),
		T(model_counts_follow_labels),
		T(demo_corpus_meets_the_mark),
		T(real_mail_gets_no_municipal_topic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
