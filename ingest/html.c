/* ingest/html.c: HTML mail to readable text with libxml2's HTML parser.
 * We decide the charset ourselves (MIME label, then <meta>, then
 * detection) and hand libxml2 UTF-8, so it never guesses. The tree walk is
 * iterative: nesting depth is attacker-controlled. Never fetches anything
 * (HTML_PARSE_NONET). */
#include "ingest/private.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

/* The charset a <meta> tag in the first bytes declares, copied into out. */
static bool
meta_charset(const char *s, size_t n, char out[64])
{
	size_t lim = n < 8192 ? n : 8192;

	for (size_t i = 0; i + 7 < lim; i++) {
		size_t j, k = 0;
		const char *lt;
		if (strncasecmp(s + i, "charset", 7))
			continue;
		/* Only inside a <meta ...> tag. */
		lt = NULL;
		for (size_t b = i; b > 0 && !lt; b--)
			if (s[b - 1] == '<')
				lt = s + b - 1;
			else if (s[b - 1] == '>')
				break;
		if (!lt || (size_t)(s + lim - lt) < 5 ||
		    strncasecmp(lt, "<meta", 5))
			continue;
		j = i + 7;
		while (j < lim && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j >= lim || s[j] != '=')
			continue;
		j++;
		while (j < lim && (s[j] == ' ' || s[j] == '"' || s[j] == '\''))
			j++;
		while (j < lim && k < 63 &&
		       (strchr("-_.:", s[j]) || (s[j] >= '0' && s[j] <= '9') ||
		        ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z')))
			out[k++] = s[j++];
		out[k] = '\0';
		return k > 0;
	}
	return false;
}

/* The text being written, with the layout state of the walk. */
struct out {
	struct sk_arena *a;
	struct sk_buf b;
	size_t max;
	bool cut;
	int pending_nl; /* line breaks owed before the next text */
	bool pending_space;
	bool bullet;         /* "- " owed at the next text (in <li>) */
	int pre;             /* inside <pre> */
	int quote;           /* <blockquote> depth: lines get "> " */
	const xmlNode *link; /* the <a> whose text is being written */
	const char *href;
	size_t link_start;
};

static void
emit(struct out *o, const char *s, size_t n)
{
	size_t room;

	if (o->cut)
		return;
	room = o->max > o->b.len ? o->max - o->b.len : 0;
	if (n > room) {
		n = sk_utf8_clip(s, n, room);
		o->cut = true;
	}
	sk_buf_add(&o->b, s, n);
}

/* Pay the owed line breaks and spaces before a visible character. */
static void
before_text(struct out *o)
{
	if (o->b.len > 0 && o->pending_nl > 0) {
		for (int i = 0; i < o->pending_nl; i++) {
			/* A blank line inside a quote stays quoted. */
			for (int q = 0; i > 0 && q < o->quote && q < 20; q++)
				emit(o, ">", 1);
			emit(o, "\n", 1);
		}
		o->pending_space = false;
	}
	if (o->pending_nl > 0 || o->b.len == 0 ||
	    o->b.p[o->b.len - 1] == '\n') {
		for (int i = 0; i < o->quote && i < 20; i++)
			emit(o, "> ", 2);
		o->pending_space = false;
	}
	o->pending_nl = 0;
	if (o->bullet) {
		emit(o, "- ", 2);
		o->bullet = false;
		o->pending_space = false;
	}
	if (o->pending_space)
		emit(o, " ", 1);
	o->pending_space = false;
}

static void
want_lines(struct out *o, int k)
{
	if (o->pending_nl < k)
		o->pending_nl = k;
}

static void
text_node(struct out *o, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && !o->cut) {
		unsigned char c = (unsigned char)s[i];
		size_t len = 1;
		bool ws = c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		          c == '\f';
		if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
			ws = true; /* &nbsp; */
			len = 2;
		}
		if (o->pre && c == '\n') {
			o->pending_nl++;
		} else if (o->pre && ws) {
			before_text(o);
			emit(o, " ", 1);
		} else if (ws) {
			o->pending_space = o->b.len > 0;
		} else {
			size_t j = i;
			while (j < n && (unsigned char)s[j] > ' ' &&
			       !((unsigned char)s[j] == 0xC2 && j + 1 < n &&
			         (unsigned char)s[j + 1] == 0xA0))
				j++;
			before_text(o);
			emit(o, s + i, j - i);
			len = j - i;
		}
		i += len;
	}
}

static bool
name_is(const xmlNode *n, const char *name)
{
	return n->name && !strcasecmp((const char *)n->name, name);
}

static bool
name_in(const xmlNode *n, const char *const *names, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (name_is(n, names[i]))
			return true;
	return false;
}

static const char *const skipped[] = { "script", "style",    "head",
	                               "title",  "noscript", "template",
	                               "object", "iframe",   "svg",
	                               "select" };
static const char *const paragraphs[] = {
	"p",  "h1",    "h2",      "h3",   "h4",      "h5",
	"h6", "table", "ul",      "ol",   "pre",     "blockquote",
	"hr", "dl",    "address", "form", "fieldset"
};
static const char *const lines[] = { "div",     "li",      "tr",      "dd",
	                             "dt",      "section", "article", "header",
	                             "footer",  "nav",     "aside",   "center",
	                             "caption", "main",    "figure",  "body" };

/* A link target worth showing next to its text. */
static const char *
shown_href(struct sk_arena *a, const xmlNode *n)
{
	xmlChar *h = xmlGetProp(n, (const xmlChar *)"href");
	const char *res = NULL;
	struct sk_str t;

	if (!h)
		return NULL;
	t = sk_str_trim((const char *)h, strlen((const char *)h));
	if (t.n > 0 && t.n <= 2048 && t.p[0] != '#' &&
	    strncasecmp(t.p, "javascript:", 11) && strncasecmp(t.p, "data:", 5))
		res = sk_utf8_sanitize(a, t.p, t.n, NULL);
	xmlFree(h);
	return res;
}

/* True when the link text already says where it goes. */
static bool
same_target(const char *text, size_t tn, const char *href)
{
	struct sk_str t = sk_str_trim(text, tn);
	size_t hn = strlen(href);

	if (!strncasecmp(href, "mailto:", 7))
		href += 7, hn -= 7;
	else if (!strncasecmp(href, "https://", 8))
		href += 8, hn -= 8;
	else if (!strncasecmp(href, "http://", 7))
		href += 7, hn -= 7;
	if (t.n >= 8 && !strncasecmp(t.p, "https://", 8))
		t.p += 8, t.n -= 8;
	else if (t.n >= 7 && !strncasecmp(t.p, "http://", 7))
		t.p += 7, t.n -= 7;
	while (hn > 0 && href[hn - 1] == '/')
		hn--;
	while (t.n > 0 && t.p[t.n - 1] == '/')
		t.n--;
	return t.n == hn && !strncasecmp(t.p, href, hn);
}

/* Entering an element: set up its layout; false to skip its subtree. */
static bool
enter(struct out *o, const xmlNode *n)
{
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content)
			text_node(o, (const char *)n->content,
			          strlen((const char *)n->content));
		return false;
	}
	if (n->type != XML_ELEMENT_NODE)
		return n->type == XML_DOCUMENT_NODE ||
		       n->type == XML_HTML_DOCUMENT_NODE;
	if (name_in(n, skipped, SK_ARRAY_SIZE(skipped)))
		return false;
	if (name_is(n, "br")) {
		o->pending_nl += o->pending_nl < 2 ? 1 : 0;
		if (o->b.len == 0)
			o->pending_nl = 0;
		return false;
	}
	if (name_in(n, paragraphs, SK_ARRAY_SIZE(paragraphs)))
		want_lines(o, 2);
	else if (name_in(n, lines, SK_ARRAY_SIZE(lines)))
		want_lines(o, 1);
	else if (name_is(n, "td") || name_is(n, "th"))
		o->pending_space = o->b.len > 0;
	if (name_is(n, "li"))
		o->bullet = true;
	if (name_is(n, "pre"))
		o->pre++;
	if (name_is(n, "blockquote"))
		o->quote++;
	if (name_is(n, "a") && !o->link) {
		o->href = shown_href(o->a, n);
		if (o->href) {
			o->link = n;
			o->link_start = o->b.len;
		}
	}
	return true;
}

static void
leave(struct out *o, const xmlNode *n)
{
	if (n->type != XML_ELEMENT_NODE ||
	    name_in(n, skipped, SK_ARRAY_SIZE(skipped)) || name_is(n, "br"))
		return;
	if (n == o->link) {
		size_t tn = o->b.len - o->link_start;
		if (tn > 0 &&
		    !same_target(o->b.p + o->link_start, tn, o->href)) {
			emit(o, " (", 2);
			emit(o, o->href, strlen(o->href));
			emit(o, ")", 1);
		}
		o->link = NULL;
	}
	if (name_is(n, "pre") && o->pre > 0)
		o->pre--;
	if (name_is(n, "blockquote") && o->quote > 0)
		o->quote--;
	if (name_in(n, paragraphs, SK_ARRAY_SIZE(paragraphs)))
		want_lines(o, 2);
	else if (name_in(n, lines, SK_ARRAY_SIZE(lines)))
		want_lines(o, 1);
}

/* Depth-first over the tree without recursion: children, then the next
 * sibling, then back up through the parents. */
static void
walk(struct out *o, xmlNode *root)
{
	xmlNode *n = root;

	while (n) {
		if (enter(o, n) && n->children) {
			n = n->children;
			continue;
		}
		for (;;) {
			leave(o, n);
			if (n == root) {
				n = NULL;
				break;
			}
			if (n->next) {
				n = n->next;
				break;
			}
			n = n->parent;
			if (!n)
				break;
		}
	}
}

char *
sk_mime_html_text(struct sk_arena *a, const char *s, size_t n,
                  const char *label, size_t max, unsigned *flags,
                  size_t *len_out)
{
	char meta[64];
	char *utf8, *res;
	size_t ul;
	htmlDocPtr doc;
	struct out o = { .a = a, .max = max };

	if (!label && meta_charset(s, n, meta))
		label = meta;
	utf8 = sk_mime_text_utf8(a, s, n, label, flags, &ul);
	if (ul > INT_MAX)
		ul = sk_utf8_clip(utf8, ul, INT_MAX);
	doc = htmlReadMemory(utf8, (int)ul, NULL, "UTF-8",
	                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
	                         HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	sk_buf_init(&o.b, max + 64);
	if (doc) {
		walk(&o, (xmlNode *)doc);
		xmlFreeDoc(doc);
	}
	if (o.cut)
		*flags |= SK_MSG_TRUNCATED;
	res = sk_utf8_sanitize(a, o.b.p, o.b.len, len_out);
	sk_buf_release(&o.b);
	return res;
}
