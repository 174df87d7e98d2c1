/* tests/helpers/live_markup.h: what "live markup" means for the XSS
 * checks of the web tests and the HTTP fuzzer (which links no helper
 * objects, hence a header). */
#ifndef SK_TEST_LIVE_MARKUP_H
#define SK_TEST_LIVE_MARKUP_H

#include <stddef.h>
#include <strings.h>

/* Is the tag [p, p+len) (from '<', without '>') live: an event handler
 * attribute (on...=), or a javascript:, vbscript: or data: URL in href,
 * src, action or formaction? Quoted values are skipped as values, so
 * escaped text inside an attribute never counts. */
static inline int
sk_test_live_tag(const char *p, size_t len)
{
	size_t i = 1;
	while (i < len && p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
	       p[i] != '/')
		i++;
	while (i < len) {
		size_t ns, ne, vs, ve;
		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
		                   p[i] == '\r' || p[i] == '/'))
			i++;
		ns = i;
		while (i < len && p[i] != '=' && p[i] != ' ' && p[i] != '\t' &&
		       p[i] != '\n' && p[i] != '/')
			i++;
		ne = i;
		if (ne == ns) {
			i++;
			continue;
		}
		vs = ve = i;
		if (i < len && p[i] == '=') {
			i++;
			if (i < len && (p[i] == '"' || p[i] == '\'')) {
				char q = p[i++];
				vs = i;
				while (i < len && p[i] != q)
					i++;
				ve = i++;
			} else {
				vs = i;
				while (i < len && p[i] != ' ' && p[i] != '\t' &&
				       p[i] != '\n')
					i++;
				ve = i;
			}
		}
		if (ne - ns > 2 && !strncasecmp(p + ns, "on", 2))
			return 1;
		if ((ne - ns == 4 && !strncasecmp(p + ns, "href", 4)) ||
		    (ne - ns == 3 && !strncasecmp(p + ns, "src", 3)) ||
		    (ne - ns == 6 && !strncasecmp(p + ns, "action", 6)) ||
		    (ne - ns == 10 && !strncasecmp(p + ns, "formaction", 10))) {
			while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
				vs++;
			if ((ve - vs >= 11 &&
			     !strncasecmp(p + vs, "javascript:", 11)) ||
			    (ve - vs >= 9 && !strncasecmp(p + vs, "vbscript:", 9)) ||
			    (ve - vs >= 5 && !strncasecmp(p + vs, "data:", 5)))
				return 1;
		}
	}
	return 0;
}

#endif
