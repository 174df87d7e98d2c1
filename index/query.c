/* index/query.c: the query language of DESIGN.md, parsed into one tree
 * (struct sk_qnode, private.h) that both backends compile.
 *
 * Grammar (OR binds tighter than the implicit AND, as in web search
 * engines: `umowa gmina OR powiat` is umowa AND (gmina OR powiat)):
 *
 *   query   := and_seq
 *   and_seq := or_seq ( ["AND"] or_seq )*
 *   or_seq  := unary ( ("OR" | "|") unary )*
 *   unary   := "-" primary | "NOT" unary | primary
 *   primary := "(" and_seq ")" | PHRASE | WORD | FIELD ":" value
 *   value   := WORD | PHRASE | "(" and_seq ")"   (words take the field)
 *
 * Only uppercase OR, AND and NOT are operators; lowercase they are words.
 * Quotes are ", „, ” and “ (Polish typography gets pasted). Errors are
 * SK_EINVAL with a short Polish sentence fit to show the user. The parser
 * never analyzes text: words stay as typed and the backends run them
 * through sk_analyze(). */
#include "index/private.h"

#include <stdio.h>
#include <string.h>

enum tok_kind {
	T_END,
	T_LPAREN,
	T_RPAREN,
	T_OR,
	T_AND,
	T_NOT,
	T_MINUS,  /* "-" glued to what follows */
	T_PHRASE, /* text between quotes */
	T_WORD,	  /* anything else; may be FIELD:value */
};

struct tok {
	enum tok_kind kind;
	const char *p; /* WORD/PHRASE text */
	size_t n;
};

/* What a bare word or phrase means inside a field's value. */
enum ctx {
	CTX_TEXT,	 /* plain words: any field */
	CTX_SUBJECT,
	CTX_FROM,
	CTX_TOPIC,
	CTX_PARTNER,
	CTX_DATE,
	CTX_HAS,
};

struct field_name {
	const char *name; /* folded: lowercase, no diacritics */
	enum ctx ctx;
};

static const struct field_name fields[] = {
	{ "from", CTX_FROM },	    { "od", CTX_FROM },
	{ "subject", CTX_SUBJECT }, { "temat", CTX_SUBJECT },
	{ "tytul", CTX_SUBJECT },   { "topic", CTX_TOPIC },
	{ "kategoria", CTX_TOPIC },
	{ "partner", CTX_PARTNER }, { "gmina", CTX_PARTNER },
	{ "date", CTX_DATE },	    { "data", CTX_DATE },
	{ "has", CTX_HAS },	    { "ma", CTX_HAS },
};

#define FIELD_LIST                                                           \
	"od:, temat:, kategoria:, gmina:, data:, ma:załącznik (także "      \
	"from:, subject:, topic:, partner:, date:, has:attachment)"

struct parser {
	struct sk_arena *a;
	const char *q;	 /* the whole query */
	const char *pos; /* next unread byte */
	const char *end;
	struct tok la; /* look-ahead token */
	bool have_la;
	size_t nodes;
	int depth;
	struct sk_err *err;
	bool failed;
};

/* ---- errors ---------------------------------------------------------------- */

/* Quote at most ~48 bytes of user text in a message (whole characters), so
 * that the fixed-size message is never cut inside a character. */
static int
clip_len(const char *s, size_t n)
{
	return (int)sk_utf8_clip(s, n, 48);
}

static struct sk_qnode *
fail(struct parser *ps, const char *fmt, ...) SK_PRINTF(2, 3);

static struct sk_qnode *
fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(ps->err->msg)];

	if (ps->failed)
		return NULL;
	ps->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* vsnprintf may have cut a character in two at the end. */
	msg[sk_utf8_clip(msg, strlen(msg), sizeof(msg) - 1)] = '\0';
	while (!sk_utf8_valid(msg, strlen(msg)))
		msg[strlen(msg) - 1] = '\0';
	sk_err_set(ps->err, SK_EINVAL, "%s", msg);
	return NULL;
}

/* ---- lexer ------------------------------------------------------------------ */

static bool
is_space_cp(uint32_t c)
{
	return c <= 0x20 || c == 0x7f || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200b) || c == 0x2028 || c == 0x2029 ||
	       c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

static bool
is_quote_cp(uint32_t c)
{
	return c == '"' || c == 0x201e /* „ */ || c == 0x201d /* ” */ ||
	       c == 0x201c /* “ */;
}

/* Does a word end before the character at s? */
static bool
is_delim_cp(uint32_t c)
{
	return is_space_cp(c) || is_quote_cp(c) || c == '(' || c == ')' ||
	       c == '|';
}

static size_t
peek_cp(const struct parser *ps, const char *s, uint32_t *c)
{
	if (s >= ps->end) {
		*c = 0;
		return 0;
	}
	return sk_utf8_next(s, (size_t)(ps->end - s), c);
}

static void
skip_space(struct parser *ps)
{
	uint32_t c;
	size_t l;
	while ((l = peek_cp(ps, ps->pos, &c)) && is_space_cp(c))
		ps->pos += l;
}

/* The end of a word starting at s. */
static const char *
word_end(const struct parser *ps, const char *s)
{
	uint32_t c;
	size_t l;
	while ((l = peek_cp(ps, s, &c)) && !is_delim_cp(c))
		s += l;
	return s;
}

static bool
lex(struct parser *ps, struct tok *t)
{
	uint32_t c;
	size_t l;
	const char *s, *e;

	skip_space(ps);
	s = ps->pos;
	t->p = s;
	t->n = 0;
	l = peek_cp(ps, s, &c);
	if (!l) {
		t->kind = T_END;
		return true;
	}
	if (c == '(' || c == ')' || c == '|') {
		t->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_OR;
		ps->pos = s + 1;
		return true;
	}
	if (is_quote_cp(c)) {
		const char *body = s + l;
		e = body;
		for (;;) {
			size_t k = peek_cp(ps, e, &c);
			if (!k) {
				fail(ps, "Niezamknięty cudzysłów w zapytaniu.");
				return false;
			}
			if (is_quote_cp(c)) {
				struct sk_str tr = sk_str_trim(body,
							       (size_t)(e - body));
				t->kind = T_PHRASE;
				t->p = tr.p;
				t->n = tr.n;
				ps->pos = e + k;
				return true;
			}
			e += k;
		}
	}
	if (c == '-') {
		uint32_t c2;
		/* "-word" excludes; "---" and a lone "-" are words. */
		if (peek_cp(ps, s + 1, &c2) && !is_space_cp(c2) && c2 != ')' &&
		    c2 != '|' && c2 != '-') {
			t->kind = T_MINUS;
			ps->pos = s + 1;
			return true;
		}
	}
	e = word_end(ps, s);
	t->kind = T_WORD;
	t->n = (size_t)(e - s);
	ps->pos = e;
	if (t->n == 2 && !memcmp(s, "OR", 2))
		t->kind = T_OR;
	else if (t->n == 3 && !memcmp(s, "AND", 3))
		t->kind = T_AND;
	else if (t->n == 3 && !memcmp(s, "NOT", 3))
		t->kind = T_NOT;
	return true;
}

static bool
peek(struct parser *ps, struct tok *t)
{
	if (!ps->have_la) {
		if (!lex(ps, &ps->la))
			return false;
		ps->have_la = true;
	}
	*t = ps->la;
	return true;
}

static void
consume(struct parser *ps)
{
	ps->have_la = false;
}

/* ---- nodes ------------------------------------------------------------------ */

static struct sk_qnode *
node(struct parser *ps, enum sk_qnode_kind kind)
{
	struct sk_qnode *n;
	if (++ps->nodes > SK_QUERY_MAX_NODES)
		return fail(ps,
			    "Zapytanie ma za dużo elementów (najwyżej %d).",
			    SK_QUERY_MAX_NODES);
	n = sk_arena_alloc(ps->a, sizeof(*n));
	n->kind = kind;
	return n;
}

/* Add kid to an AND/OR node, flattening a kid of the same kind. */
static void
add_kid(struct parser *ps, struct sk_qnode *parent, struct sk_qnode *kid)
{
	size_t add = kid->kind == parent->kind ? kid->n_kids : 1;
	struct sk_qnode **k = sk_arena_alloc(
		ps->a, (parent->n_kids + add) * sizeof(*k));
	if (parent->n_kids)
		memcpy(k, parent->kids, parent->n_kids * sizeof(*k));
	if (kid->kind == parent->kind)
		memcpy(k + parent->n_kids, kid->kids, add * sizeof(*k));
	else
		k[parent->n_kids] = kid;
	parent->kids = k;
	parent->n_kids += add;
}

/* A list of operands joined by kind; a single operand stands alone. */
static struct sk_qnode *
join(struct parser *ps, enum sk_qnode_kind kind, struct sk_qnode **v,
     size_t n)
{
	struct sk_qnode *j;
	if (n == 1)
		return v[0];
	j = node(ps, kind);
	if (!j)
		return NULL;
	for (size_t i = 0; i < n; i++)
		add_kid(ps, j, v[i]);
	return j;
}

/* ---- field values ----------------------------------------------------------- */

static const struct field_name *
find_field(struct parser *ps, const char *s, size_t n)
{
	char *f = sk_fold(ps->a, s, n);
	for (size_t i = 0; i < SK_ARRAY_SIZE(fields); i++)
		if (!strcmp(f, fields[i].name))
			return &fields[i];
	return NULL;
}

/* Letters only: a candidate field name (so 10:30 and http://x are words). */
static bool
looks_like_field(const char *s, size_t n)
{
	size_t i = 0;
	if (!n)
		return false;
	while (i < n) {
		uint32_t c;
		size_t l = sk_utf8_next(s + i, n - i, &c);
		bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= 0xc0 && c <= 0x24f && c != 0xd7 &&
			       c != 0xf7);
		if (!letter)
			return false;
		i += l;
	}
	return true;
}

static bool
is_slug(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-'))
			return false;
	return true;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* One end of a date range: YYYY, YYYY-MM or YYYY-MM-DD (also with '.' or
 * '/' between the parts). *start is the first second of the period and
 * *next the first second after it. */
static bool
parse_date_part(const char *s, size_t n, time_t *start, time_t *next)
{
	int y, m = 0, d = 0;
	struct tm tm = { 0 };

	if (n != 4 && n != 7 && n != 10)
		return false;
	if (!digits(s, 4))
		return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	if (n >= 7) {
		if ((s[4] != '-' && s[4] != '.' && s[4] != '/') ||
		    !digits(s + 5, 2))
			return false;
		m = (s[5] - '0') * 10 + (s[6] - '0');
		if (m < 1 || m > 12)
			return false;
	}
	if (n == 10) {
		if (s[7] != s[4] || !digits(s + 8, 2))
			return false;
		d = (s[8] - '0') * 10 + (s[9] - '0');
		if (d < 1 || d > days_in_month(y, m))
			return false;
	}
	if (y < 1970 || y > 2200)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = m ? m - 1 : 0;
	tm.tm_mday = d ? d : 1;
	*start = timegm(&tm);
	if (d)
		tm.tm_mday++;
	else if (m)
		tm.tm_mon++;
	else
		tm.tm_year++;
	*next = timegm(&tm);
	return true;
}

static struct sk_qnode *
date_node(struct parser *ps, const char *s, size_t n)
{
	const char *dots = NULL;
	time_t from = 0, to = 0, ignore;
	struct sk_qnode *d;

	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '.' && s[i + 1] == '.') {
			dots = s + i;
			break;
		}
	if (!dots) {
		if (!parse_date_part(s, n, &from, &to))
			goto bad;
	} else {
		size_t ln = (size_t)(dots - s);
		const char *r = dots + 2;
		size_t rn = n - ln - 2;
		if (!ln && !rn)
			return fail(ps, "Zakres dat „..” nie ma żadnego "
					"końca (np. data:2024-01-01..2024-06-30).");
		if (ln && !parse_date_part(s, ln, &from, &ignore)) {
			n = ln;
			goto bad;
		}
		if (rn && !parse_date_part(r, rn, &ignore, &to)) {
			s = r;
			n = rn;
			goto bad;
		}
		if (ln && rn && from >= to)
			return fail(ps, "Odwrócony zakres dat „%.*s”.",
				    clip_len(s, n), s);
	}
	d = node(ps, SK_Q_DATE);
	if (!d)
		return NULL;
	d->date_from = from;
	d->date_to = to;
	d->text = sk_arena_strndup(ps->a, s, n);
	return d;
bad:
	return fail(ps, "Błędna data „%.*s” (oczekiwano RRRR-MM-DD).",
		    clip_len(s, n), s);
}

/* The node for a bare word or phrase text in context ctx. */
static struct sk_qnode *
leaf(struct parser *ps, enum ctx ctx, const struct tok *t)
{
	struct sk_qnode *n;
	char *f;
	bool phrase = t->kind == T_PHRASE;

	switch (ctx) {
	case CTX_TEXT:
	case CTX_SUBJECT:
	case CTX_FROM:
		n = node(ps, phrase ? SK_Q_PHRASE : SK_Q_WORD);
		if (!n)
			return NULL;
		n->field = ctx == CTX_SUBJECT ? SK_QF_SUBJECT
			   : ctx == CTX_FROM  ? SK_QF_FROM
					      : SK_QF_ANY;
		n->text = sk_arena_strndup(ps->a, t->p, t->n);
		return n;
	case CTX_TOPIC:
	case CTX_PARTNER:
		f = sk_fold(ps->a, t->p, t->n);
		if (!is_slug(f))
			return fail(ps,
				    "Błędny identyfikator %s „%.*s” (litery "
				    "a–z, cyfry i „-”, np. %s).",
				    ctx == CTX_TOPIC ? "tematu" : "gminy",
				    clip_len(t->p, t->n), t->p,
				    ctx == CTX_TOPIC ? "kategoria:zamowienia"
						     : "gmina:brzozowka");
		n = node(ps, ctx == CTX_TOPIC ? SK_Q_TOPIC : SK_Q_PARTNER);
		if (!n)
			return NULL;
		n->text = f;
		return n;
	case CTX_DATE:
		if (phrase) {
			struct sk_str tr = sk_str_trim(t->p, t->n);
			return date_node(ps, tr.p, tr.n);
		}
		return date_node(ps, t->p, t->n);
	case CTX_HAS:
		f = sk_fold(ps->a, t->p, t->n);
		if (strcmp(f, "attachment") && strcmp(f, "attachments") &&
		    strcmp(f, "zalacznik") && strcmp(f, "zalaczniki"))
			return fail(ps,
				    "Nieznana wartość „%.*s” (dostępne: "
				    "ma:załącznik, has:attachment).",
				    clip_len(t->p, t->n), t->p);
		return node(ps, SK_Q_HAS_ATTACHMENT);
	}
	SK_BUG("bad context %d", (int)ctx);
}

/* ---- the grammar ------------------------------------------------------------ */

static struct sk_qnode *and_seq(struct parser *ps, enum ctx ctx,
				bool in_parens);
static bool only_negative(const struct sk_qnode *n);

static bool
only_negative_list(struct sk_qnode *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!only_negative(v[i]))
			return false;
	return true;
}

static struct sk_qnode *
group(struct parser *ps, enum ctx ctx)
{
	struct sk_qnode *n;
	struct tok t;

	if (++ps->depth > SK_QUERY_MAX_DEPTH)
		return fail(ps,
			    "Zapytanie jest zbyt głęboko zagnieżdżone "
			    "(najwyżej %d poziomów).",
			    SK_QUERY_MAX_DEPTH);
	n = and_seq(ps, ctx, true);
	if (!n)
		return NULL;
	if (!peek(ps, &t))
		return NULL;
	if (t.kind != T_RPAREN)
		return fail(ps, "Niezamknięty nawias w zapytaniu.");
	consume(ps);
	ps->depth--;
	return n;
}

/* A WORD token that may be FIELD:value. */
static struct sk_qnode *
word(struct parser *ps, enum ctx ctx, struct tok *t)
{
	const char *colon = memchr(t->p, ':', t->n);
	const struct field_name *f;
	size_t name_n, rest_n;
	const char *rest;
	struct tok v;

	if (!colon || !looks_like_field(t->p, (size_t)(colon - t->p)))
		return leaf(ps, ctx, t);
	name_n = (size_t)(colon - t->p);
	rest = colon + 1;
	rest_n = t->n - name_n - 1;
	f = find_field(ps, t->p, name_n);
	if (!f) {
		/* "uwaga:" before a space and "http://..." stay words. */
		if (!rest_n || rest[0] == '/')
			return leaf(ps, ctx, t);
		return fail(ps, "Nieznane pole „%.*s:”. Dostępne: " FIELD_LIST
				".",
			    clip_len(t->p, name_n), t->p);
	}
	if (rest_n) {
		v.kind = T_WORD;
		v.p = rest;
		v.n = rest_n;
		return leaf(ps, f->ctx, &v);
	}
	/* field:"a phrase" or field:(a OR b): the value follows at once. */
	if (ps->pos < ps->end && !is_space_cp((unsigned char)*ps->pos)) {
		if (!peek(ps, &v))
			return NULL;
		if (v.kind == T_LPAREN) {
			consume(ps);
			return group(ps, f->ctx);
		}
		if (v.kind == T_PHRASE) {
			consume(ps);
			if (f->ctx == CTX_TOPIC || f->ctx == CTX_PARTNER ||
			    f->ctx == CTX_HAS)
				v.kind = T_WORD;
			if (v.n)
				return leaf(ps, f->ctx, &v);
		}
	}
	return fail(ps, "Brak wartości po „%.*s:”.", clip_len(t->p, name_n),
		    t->p);
}

static struct sk_qnode *unary(struct parser *ps, enum ctx ctx);

static struct sk_qnode *
primary(struct parser *ps, enum ctx ctx)
{
	struct tok t;

	if (!peek(ps, &t))
		return NULL;
	switch (t.kind) {
	case T_LPAREN:
		consume(ps);
		return group(ps, ctx);
	case T_PHRASE:
		consume(ps);
		if (!t.n) /* "" means nothing */
			return node(ps, SK_Q_ALL);
		return leaf(ps, ctx, &t);
	case T_WORD:
		consume(ps);
		return word(ps, ctx, &t);
	case T_END:
	case T_RPAREN:
	case T_OR:
	case T_AND:
	case T_NOT:
	case T_MINUS:
		break;
	}
	return NULL; /* the caller reports what is missing */
}

static struct sk_qnode *
negate(struct parser *ps, struct sk_qnode *x)
{
	struct sk_qnode *n;
	if (x->kind == SK_Q_NOT) /* NOT -a is a */
		return x->kids[0];
	n = node(ps, SK_Q_NOT);
	if (!n)
		return NULL;
	n->kids = sk_arena_alloc(ps->a, sizeof(*n->kids));
	n->kids[0] = x;
	n->n_kids = 1;
	return n;
}

static struct sk_qnode *
unary(struct parser *ps, enum ctx ctx)
{
	struct tok t;
	struct sk_qnode *x;

	if (!peek(ps, &t))
		return NULL;
	if (t.kind == T_MINUS || t.kind == T_NOT) {
		consume(ps);
		if (++ps->depth > SK_QUERY_MAX_DEPTH)
			return fail(ps,
				    "Zapytanie jest zbyt głęboko zagnieżdżone "
				    "(najwyżej %d poziomów).",
				    SK_QUERY_MAX_DEPTH);
		x = t.kind == T_MINUS ? primary(ps, ctx) : unary(ps, ctx);
		if (!x)
			return fail(ps, "Po „%s” brakuje słowa do wykluczenia.",
				    t.kind == T_MINUS ? "-" : "NOT");
		ps->depth--;
		if (x->kind == SK_Q_ALL) /* -"" excludes nothing */
			return x;
		return negate(ps, x);
	}
	return primary(ps, ctx);
}

static struct sk_qnode *
or_seq(struct parser *ps, enum ctx ctx)
{
	struct sk_qnode *v[SK_QUERY_MAX_NODES + 1];
	size_t n = 0;
	struct tok t;

	v[n] = unary(ps, ctx);
	if (!v[n])
		return NULL;
	n++;
	for (;;) {
		if (!peek(ps, &t))
			return NULL;
		if (t.kind != T_OR)
			break;
		consume(ps);
		v[n] = unary(ps, ctx);
		if (!v[n])
			return fail(ps, "Operator OR wymaga słowa po obu "
					"stronach.");
		/* Each operand took at least one node, so n stays in v. */
		n++;
	}
	/* OR with everything is everything. */
	for (size_t i = 0; i < n; i++)
		if (v[i]->kind == SK_Q_ALL)
			return v[i];
	return join(ps, SK_Q_OR, v, n);
}

static struct sk_qnode *
and_seq(struct parser *ps, enum ctx ctx, bool in_parens)
{
	struct sk_qnode *v[SK_QUERY_MAX_NODES + 2], *x, *all = NULL;
	size_t n = 0;
	struct tok t;

	for (;;) {
		if (!peek(ps, &t))
			return NULL;
		if (t.kind == T_END) {
			if (in_parens)
				return fail(ps, "Niezamknięty nawias w "
						"zapytaniu.");
			break;
		}
		if (t.kind == T_RPAREN) {
			if (in_parens)
				break;
			return fail(ps, "Nadmiarowy nawias zamykający „)” "
					"w zapytaniu.");
		}
		if (t.kind == T_OR)
			return fail(ps, "Operator OR wymaga słowa po obu "
					"stronach.");
		if (t.kind == T_AND) {
			consume(ps);
			if (!n)
				return fail(ps, "Operator AND wymaga słowa po "
						"obu stronach.");
			if (!peek(ps, &t))
				return NULL;
			if (t.kind == T_END || t.kind == T_RPAREN ||
			    t.kind == T_OR || t.kind == T_AND)
				return fail(ps, "Operator AND wymaga słowa po "
						"obu stronach.");
			continue;
		}
		x = or_seq(ps, ctx);
		if (!x)
			return ps->failed ? NULL
					  : fail(ps, "Błąd składni zapytania.");
		if (x->kind != SK_Q_ALL)
			v[n++] = x;
		else
			all = x;
	}
	/* `"" -word`: everything but; "" stays as the positive part. */
	if (n && all && only_negative_list(v, n))
		v[n++] = all;
	if (!n) {
		if (in_parens)
			return fail(ps, "Puste nawiasy „()” w zapytaniu.");
		return node(ps, SK_Q_ALL);
	}
	return join(ps, SK_Q_AND, v, n);
}

/* True when n selects only by exclusion (nothing positive anywhere). */
static bool
only_negative(const struct sk_qnode *n)
{
	switch (n->kind) {
	case SK_Q_NOT:
		return true;
	case SK_Q_AND:
	case SK_Q_OR:
		for (size_t i = 0; i < n->n_kids; i++)
			if (!only_negative(n->kids[i]))
				return false;
		return true;
	default:
		return false;
	}
}

static size_t
tree_depth(const struct sk_qnode *n)
{
	size_t d = 0;
	for (size_t i = 0; i < n->n_kids; i++) {
		size_t k = tree_depth(n->kids[i]);
		if (k > d)
			d = k;
	}
	return d + 1;
}

enum sk_status
sk_query_parse(struct sk_arena *a, const char *q, struct sk_qnode **root_out,
	       struct sk_err *err)
{
	struct parser ps = { 0 };
	struct sk_qnode *root;
	size_t n = q ? strlen(q) : 0;

	*root_out = NULL;
	ps.err = err;
	if (n > SK_QUERY_MAX_BYTES)
		return sk_err_set(err, SK_EINVAL,
				  "Zapytanie jest za długie (najwyżej %d "
				  "bajtów).",
				  SK_QUERY_MAX_BYTES);
	if (!sk_utf8_valid(q ? q : "", n))
		return sk_err_set(err, SK_EINVAL,
				  "Zapytanie zawiera niepoprawne znaki (to "
				  "nie jest tekst UTF-8).");
	ps.a = a;
	ps.q = q ? q : "";
	ps.pos = ps.q;
	ps.end = ps.q + n;
	root = and_seq(&ps, CTX_TEXT, false);
	if (!root || ps.failed)
		return err ? err->code : SK_EINVAL;
	if (only_negative(root))
		return sk_err_set(err, SK_EINVAL,
				  "Zapytanie nie może składać się wyłącznie z "
				  "wykluczeń (-słowo).");
	if (tree_depth(root) > SK_QUERY_MAX_DEPTH)
		return sk_err_set(err, SK_EINVAL,
				  "Zapytanie jest zbyt głęboko zagnieżdżone "
				  "(najwyżej %d poziomów).",
				  SK_QUERY_MAX_DEPTH);
	*root_out = root;
	return SK_OK;
}

/* ---- dump ------------------------------------------------------------------- */

static void
dump_day(struct sk_buf *b, time_t t)
{
	struct tm tm;
	char s[16];
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d", &tm);
	sk_buf_adds(b, s);
}

static void
dump(struct sk_buf *b, const struct sk_qnode *n)
{
	static const char *const field[] = { "", "subject:", "from:" };

	switch (n->kind) {
	case SK_Q_AND:
	case SK_Q_OR:
		sk_buf_adds(b, n->kind == SK_Q_AND ? "(and" : "(or");
		for (size_t i = 0; i < n->n_kids; i++) {
			sk_buf_addc(b, ' ');
			dump(b, n->kids[i]);
		}
		sk_buf_addc(b, ')');
		break;
	case SK_Q_NOT:
		sk_buf_adds(b, "(not ");
		dump(b, n->kids[0]);
		sk_buf_addc(b, ')');
		break;
	case SK_Q_WORD:
		sk_buf_adds(b, field[n->field]);
		sk_buf_adds(b, n->text);
		break;
	case SK_Q_PHRASE:
		sk_buf_adds(b, field[n->field]);
		sk_buf_addf(b, "\"%s\"", n->text);
		break;
	case SK_Q_TOPIC:
		sk_buf_addf(b, "topic:%s", n->text);
		break;
	case SK_Q_PARTNER:
		sk_buf_addf(b, "partner:%s", n->text);
		break;
	case SK_Q_DATE:
		sk_buf_adds(b, "date:");
		if (n->date_from)
			dump_day(b, n->date_from);
		sk_buf_adds(b, "..");
		if (n->date_to)
			dump_day(b, n->date_to - 1); /* inclusive last day */
		break;
	case SK_Q_HAS_ATTACHMENT:
		sk_buf_adds(b, "has:attachment");
		break;
	case SK_Q_ALL:
		sk_buf_adds(b, "*");
		break;
	}
}

char *
sk_query_dump(struct sk_arena *a, const struct sk_qnode *n)
{
	struct sk_buf b;
	char *s;

	sk_buf_init(&b, 1u << 20);
	if (n)
		dump(&b, n);
	s = sk_arena_strndup(a, b.p, b.len);
	sk_buf_release(&b);
	return s;
}
