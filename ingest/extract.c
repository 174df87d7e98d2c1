/* ingest/extract.c: text out of attachments. PDF, DOC and XLS go to
 * pdftotext, antiword and xls2csv in a subprocess with time, memory and
 * output caps (their parsers have a CVE stream; a crash there costs one
 * attachment's text). DOCX, ODF, XLSX and PPTX are read here with libzip
 * and libxml2's xmlReader under size caps (zip bombs) and without entity
 * expansion or network access; RTF is stripped by hand. A failure is
 * recorded in the attachment, never returned. */
#include "ingest/private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlreader.h>
#include <zip.h>

#define TOOL_MEMORY ((rlim_t)512 << 20)

static double
now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- subprocesses ------------------------------------------------------- */

/* In the child between fork and exec: caps, a clean descriptor table and
 * environment. Only async-signal-safe calls. */
static _Noreturn void
exec_tool(const char *const argv[], int out_fd, const char *stdin_path,
          double seconds)
{
	struct rlimit as = { TOOL_MEMORY, TOOL_MEMORY };
	rlim_t cpu = (rlim_t)seconds + 1;
	struct rlimit cpu_l = { cpu, cpu + 1 };
	struct rlimit zero = { 0, 0 };
	static const char *const envp[] = { "PATH=/usr/bin:/bin",
		                            "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
		                            NULL };
	int in, nul;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	in = stdin_path ? open(stdin_path, O_RDONLY)
	                : open("/dev/null", O_RDONLY);
	nul = open("/dev/null", O_WRONLY);
	if (in < 0 || nul < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(nul, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	setrlimit(RLIMIT_AS, &as);
	setrlimit(RLIMIT_CPU, &cpu_l);
	setrlimit(RLIMIT_CORE, &zero);
	/* Extractors write to stdout only; a file write is a bug or worse. */
	setrlimit(RLIMIT_FSIZE, &zero);
	execvpe(argv[0], (char *const *)argv, (char *const *)envp);
	_exit(127);
}

/* Kill the tool's process group and reap it. */
static int
kill_and_reap(pid_t pid)
{
	int st = 0;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

bool
sk_mime_run_tool(struct sk_arena *a, const char *const argv[], double seconds,
                 size_t max_out, char **out, size_t *len_out, bool *cut,
                 char why[128])
{
	int fds[2], st = 0;
	pid_t pid;
	struct sk_buf b;
	double deadline = now_seconds() + seconds;
	bool timed_out = false, reaped = false;
	const char *stdin_path = NULL;

	*cut = false;
	*out = NULL;
	*len_out = 0;
	/* The input file (the last argument that is a path) is stdin too. */
	for (size_t i = 1; argv[i]; i++)
		if (argv[i][0] == '/')
			stdin_path = argv[i];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(why, 128, "cannot make a pipe: %s", strerror(errno));
		return false;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, 128, "cannot fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0)
		exec_tool(argv, fds[1], stdin_path, seconds);
	close(fds[1]);
	sk_buf_init(&b, max_out);
	for (;;) {
		char tmp[65536];
		struct pollfd pfd = { fds[0], POLLIN, 0 };
		double left = deadline - now_seconds();
		ssize_t r;
		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!pfd.revents)
			continue;
		r = read(fds[0], tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (b.len + (size_t)r > max_out) {
			sk_buf_add(&b, tmp, max_out - b.len);
			*cut = true;
			break;
		}
		sk_buf_add(&b, tmp, (size_t)r);
	}
	close(fds[0]);
	if (timed_out || *cut) {
		st = kill_and_reap(pid);
		reaped = true;
	}
	if (!reaped) {
		/* EOF: the tool is exiting; give it the time that is left. */
		for (;;) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid)
				break;
			if (w < 0 && errno != EINTR) {
				st = 0;
				break;
			}
			if (now_seconds() > deadline) {
				timed_out = true;
				st = kill_and_reap(pid);
				break;
			}
			usleep(2000);
		}
	}
	if (timed_out) {
		snprintf(why, 128, "%s timed out after %.0f s", argv[0],
		         seconds);
		sk_buf_release(&b);
		return false;
	}
	if (!*cut && WIFSIGNALED(st)) {
		snprintf(why, 128, "%s killed by signal %d", argv[0],
		         WTERMSIG(st));
		sk_buf_release(&b);
		return false;
	}
	if (!*cut && WIFEXITED(st) && WEXITSTATUS(st) != 0) {
		if (WEXITSTATUS(st) == 127)
			snprintf(why, 128, "cannot run %s", argv[0]);
		else
			snprintf(why, 128, "%s exited with status %d", argv[0],
			         WEXITSTATUS(st));
		sk_buf_release(&b);
		return false;
	}
	*out = sk_arena_memdup(a, b.p, b.len + 1);
	*len_out = b.len;
	sk_buf_release(&b);
	return true;
}

/* A private directory holding the attachment as a file, for a tool. */
static bool
write_temp(const void *data, size_t size, char dir[256], char path[300],
           char why[128])
{
	const char *tmp = getenv("TMPDIR");
	int fd;
	size_t done = 0;

	snprintf(dir, 256, "%s/skx-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(why, 128, "cannot make a temporary directory: %s",
		         strerror(errno));
		return false;
	}
	snprintf(path, 300, "%s/input", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, 128, "cannot write a temporary file: %s",
		         strerror(errno));
		rmdir(dir);
		return false;
	}
	while (done < size) {
		ssize_t w = write(fd, (const char *)data + done, size - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(why, 128, "cannot write a temporary file: %s",
			         strerror(errno));
			close(fd);
			unlink(path);
			rmdir(dir);
			return false;
		}
		done += (size_t)w;
	}
	close(fd);
	return true;
}

bool
sk_mime_run_tool_on_data(struct sk_arena *a, const char *const args[],
                         const char *tail, const void *data, size_t size,
                         double seconds, size_t max_out, char **out,
                         size_t *len, bool *cut, char why[128])
{
	char dir[256], path[300];
	const char *argv[12];
	size_t k = 0;
	bool ok;

	*out = NULL;
	*len = 0;
	*cut = false;
	if (!write_temp(data, size, dir, path, why))
		return false;
	for (; args[k] && k < 9; k++)
		argv[k] = args[k];
	argv[k++] = path;
	if (tail)
		argv[k++] = tail;
	argv[k] = NULL;
	ok = sk_mime_run_tool(a, argv, seconds, max_out, out, len, cut, why);
	unlink(path);
	rmdir(dir);
	return ok;
}

/* Run tool args... FILE [tail] over the attachment's bytes, within the
 * message's time budget. */
static bool
run_on_data(struct sk_arena *a, const struct sk_limits *lim,
            struct sk_extract_budget *budget, const char *const args[],
            const char *tail, const struct sk_attachment *att, char **out,
            size_t *len, bool *cut, char why[128])
{
	double secs = (double)lim->extract_seconds, t0;
	bool ok;

	if (secs > budget->seconds_left)
		secs = budget->seconds_left;
	if (secs < 1) {
		snprintf(why, 128,
		         "time for extraction in this message used up");
		return false;
	}
	t0 = now_seconds();
	if (sk_sandbox_tools_ready())
		ok = sk_sandbox_run_tool(a, args, tail, att->data, att->size,
		                         secs, lim->extract_output_bytes, out,
		                         len, cut, why);
	else
		ok = sk_mime_run_tool_on_data(
		    a, args, tail, att->data, att->size, secs,
		    lim->extract_output_bytes, out, len, cut, why);
	budget->seconds_left -= now_seconds() - t0;
	return ok;
}

/* ---- XML inside ZIP containers ----------------------------------------------
 */

/* Which elements carry text and how the layout maps to lines. Names are
 * local names (the prefix is ignored). */
struct xml_rules {
	const char *const *text; /* text only inside these (NULL = all) */
	const char *const *line; /* a newline after these */
	const char *const *tab;  /* an empty element meaning a tab */
	const char *const *brk;  /* an empty element meaning a newline */
	bool odf_space;          /* <text:s text:c="N"/> */
};

static bool
in_list(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

static void
add_capped(struct sk_buf *b, const char *s, size_t n, size_t max, bool *cut)
{
	if (b->len + n > max) {
		n = max > b->len ? sk_utf8_clip(s, n, max - b->len) : 0;
		*cut = true;
	}
	sk_buf_add(b, s, n);
}

/* Collect the text of one XML document (UTF-8 bytes) into b. */
static bool
xml_text(const char *xml, size_t n, const struct xml_rules *r, struct sk_buf *b,
         size_t max, bool *cut)
{
	xmlTextReaderPtr rd;
	int in_text = 0, ret;

	/* No XML_PARSE_NOENT, no DTDLOAD: entities stay unexpanded and
	 * nothing is fetched. */
	rd = xmlReaderForMemory(xml, (int)n, NULL, NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR |
	                            XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (!rd)
		return false;
	while ((ret = xmlTextReaderRead(rd)) == 1 && !*cut) {
		int type = xmlTextReaderNodeType(rd);
		const char *name =
		    (const char *)xmlTextReaderConstLocalName(rd);
		if (!name)
			name = "";
		if (type == XML_READER_TYPE_ELEMENT) {
			bool empty = xmlTextReaderIsEmptyElement(rd);
			if (in_list(r->tab, name))
				add_capped(b, "\t", 1, max, cut);
			else if (in_list(r->brk, name))
				add_capped(b, "\n", 1, max, cut);
			else if (r->odf_space && !strcmp(name, "s")) {
				xmlChar *c = xmlTextReaderGetAttribute(
				    rd, (const xmlChar *)"text:c");
				long k =
				    c ? strtol((const char *)c, NULL, 10) : 1;
				xmlFree(c);
				for (long i = 0; i < (k < 1     ? 1
				                      : k > 100 ? 100
				                                : k);
				     i++)
					add_capped(b, " ", 1, max, cut);
			}
			if (!empty && r->text && in_list(r->text, name))
				in_text++;
			if (empty && in_list(r->line, name))
				add_capped(b, "\n", 1, max, cut);
		} else if (type == XML_READER_TYPE_END_ELEMENT) {
			if (r->text && in_list(r->text, name) && in_text > 0)
				in_text--;
			if (in_list(r->line, name))
				add_capped(b, "\n", 1, max, cut);
		} else if (type == XML_READER_TYPE_TEXT ||
		           type == XML_READER_TYPE_CDATA ||
		           type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
			const char *v =
			    (const char *)xmlTextReaderConstValue(rd);
			if (v && (!r->text || in_text > 0))
				add_capped(b, v, strlen(v), max, cut);
		}
	}
	xmlFreeTextReader(rd);
	return ret == 0 || *cut || b->len > 0;
}

/* Read one member of the archive, refusing more than cap bytes whatever
 * the central directory claims (it can lie). */
static bool
zip_read(zip_t *z, const char *name, size_t cap, char **out, size_t *len,
         char why[128])
{
	zip_stat_t st;
	zip_file_t *f;
	struct sk_buf b;
	char tmp[65536];
	zip_int64_t r;

	if (zip_stat(z, name, 0, &st) < 0) {
		snprintf(why, 128, "'%s' missing", name);
		return false;
	}
	if ((st.valid & ZIP_STAT_SIZE) && st.size > cap) {
		snprintf(why, 128, "'%s' unpacks to %llu bytes (limit %zu)",
		         name, (unsigned long long)st.size, cap);
		return false;
	}
	f = zip_fopen(z, name, 0);
	if (!f) {
		snprintf(why, 128, "cannot open '%s' in the archive", name);
		return false;
	}
	sk_buf_init(&b, cap);
	while ((r = zip_fread(f, tmp, sizeof(tmp))) > 0) {
		sk_buf_add(&b, tmp, (size_t)r);
		if (sk_buf_status(&b)) {
			snprintf(why, 128,
			         "'%s' unpacks to more than %zu bytes", name,
			         cap);
			zip_fclose(f);
			sk_buf_release(&b);
			return false;
		}
	}
	zip_fclose(f);
	if (r < 0) {
		snprintf(why, 128, "cannot unpack '%s'", name);
		sk_buf_release(&b);
		return false;
	}
	*out = sk_buf_take(&b, len);
	return true;
}

static const char *const docx_text[] = { "t", NULL };
static const char *const docx_line[] = { "p", NULL };
static const char *const docx_tab[] = { "tab", NULL };
static const char *const docx_brk[] = { "br", "cr", NULL };
static const char *const odf_line[] = { "p", "h", NULL };
static const char *const odf_tab[] = { "tab", NULL };
static const char *const odf_brk[] = { "line-break", NULL };
static const char *const xlsx_shared_line[] = { "si", NULL };
static const char *const xlsx_sheet_line[] = { "row", NULL };

static const struct xml_rules docx_rules = { docx_text, docx_line, docx_tab,
	                                     docx_brk, false };
static const struct xml_rules odf_rules = { NULL, odf_line, odf_tab, odf_brk,
	                                    true };
static const struct xml_rules xlsx_shared = { docx_text, xlsx_shared_line, NULL,
	                                      NULL, false };
static const struct xml_rules xlsx_sheet = { docx_text, xlsx_sheet_line, NULL,
	                                     NULL, false };
static const struct xml_rules pptx_rules = { docx_text, docx_line, NULL,
	                                     docx_brk, false };

/* Unpack one member and add its text; false with why[] on failure. */
static bool
zip_member_text(zip_t *z, const char *name, const struct xml_rules *r,
                size_t *budget, struct sk_buf *b, size_t max, bool *cut,
                char why[128])
{
	char *xml;
	size_t len;
	bool ok;

	if (!zip_read(z, name, *budget, &xml, &len, why))
		return false;
	*budget -= len;
	ok = xml_text(xml, len, r, b, max, cut);
	free(xml);
	if (!ok)
		snprintf(why, 128, "'%s' is not well-formed XML", name);
	return ok;
}

/* Members named prefix<N>.xml (sheets, slides), in numeric order. */
static void
zip_numbered_text(zip_t *z, const char *prefix, const struct xml_rules *r,
                  size_t *budget, struct sk_buf *b, size_t max, bool *cut)
{
	for (int i = 1; i <= 200 && !*cut; i++) {
		char name[128], why[128];
		snprintf(name, sizeof(name), "%s%d.xml", prefix, i);
		if (zip_name_locate(z, name, 0) < 0)
			break;
		if (b->len && b->p[b->len - 1] != '\n')
			add_capped(b, "\n", 1, max, cut);
		if (!zip_member_text(z, name, r, budget, b, max, cut, why))
			break;
	}
}

/* DOCX, ODT/ODS/ODP, XLSX, PPTX. Returns false with why[] on failure. */
static bool
zip_text(struct sk_arena *a, const struct sk_limits *lim,
         const struct sk_attachment *att, char **out, size_t *len, bool *cut,
         char why[128])
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t *z;
	struct sk_buf b;
	size_t max = lim->extract_output_bytes;
	/* Unpacked XML may be several times the text it holds, but not
	 * without bound: this is the zip-bomb cap. */
	size_t budget = max * 8;
	bool ok = true;

	if (budget < (1u << 20))
		budget = 1u << 20;
	if (budget > ((size_t)256 << 20))
		budget = (size_t)256 << 20;
	zip_error_init(&ze);
	src = zip_source_buffer_create(att->data, att->size, 0, &ze);
	if (!src) {
		snprintf(why, 128, "cannot read the archive");
		zip_error_fini(&ze);
		return false;
	}
	z = zip_open_from_source(src, ZIP_RDONLY, &ze);
	if (!z) {
		snprintf(why, 128, "not a readable zip archive");
		zip_source_free(src);
		zip_error_fini(&ze);
		return false;
	}
	sk_buf_init(&b, max + 16);
	if (zip_name_locate(z, "word/document.xml", 0) >= 0) {
		ok = zip_member_text(z, "word/document.xml", &docx_rules,
		                     &budget, &b, max, cut, why);
	} else if (zip_name_locate(z, "content.xml", 0) >= 0) {
		ok = zip_member_text(z, "content.xml", &odf_rules, &budget, &b,
		                     max, cut, why);
	} else if (zip_name_locate(z, "xl/workbook.xml", 0) >= 0) {
		if (zip_name_locate(z, "xl/sharedStrings.xml", 0) >= 0)
			ok = zip_member_text(z, "xl/sharedStrings.xml",
			                     &xlsx_shared, &budget, &b, max,
			                     cut, why);
		if (ok)
			zip_numbered_text(z, "xl/worksheets/sheet", &xlsx_sheet,
			                  &budget, &b, max, cut);
	} else if (zip_name_locate(z, "ppt/presentation.xml", 0) >= 0) {
		zip_numbered_text(z, "ppt/slides/slide", &pptx_rules, &budget,
		                  &b, max, cut);
	} else {
		snprintf(why, 128, "a zip archive that is not a document");
		ok = false;
	}
	zip_close(z); /* read-only: frees the source too */
	zip_error_fini(&ze);
	if (ok)
		*out = sk_utf8_sanitize(a, b.p, b.len, len);
	sk_buf_release(&b);
	return ok;
}

/* ---- RTF --------------------------------------------------------------------
 */

/* Groups whose content is not text. */
static bool
rtf_skipped_destination(const char *w, size_t n)
{
	static const char *const d[] = {
		"fonttbl",
		"colortbl",
		"stylesheet",
		"info",
		"pict",
		"object",
		"header",
		"footer",
		"headerl",
		"headerr",
		"footerl",
		"footerr",
		"themedata",
		"colorschememapping",
		"latentstyles",
		"datastore",
		"xmlnstbl",
		"listtable",
		"listoverridetable",
		"rsidtbl",
		"generator",
		"fldinst",
		"filetbl",
		"revtbl",
		"pgdsctbl",
		"bkmkstart",
		"bkmkend",
	};
	for (size_t i = 0; i < SK_ARRAY_SIZE(d); i++)
		if (strlen(d[i]) == n && !memcmp(d[i], w, n))
			return true;
	return false;
}

struct rtf {
	struct sk_arena *a;
	struct sk_buf out;
	struct sk_buf bytes; /* \'hh bytes waiting for conversion */
	char codepage[32];
	size_t max;
	bool cut;
};

static void
rtf_flush(struct rtf *r)
{
	char *u;
	size_t ul;
	if (!r->bytes.len)
		return;
	if (!sk_mime_convert(r->a, r->bytes.p, r->bytes.len, r->codepage, &u,
	                     &ul))
		u = sk_utf8_sanitize(r->a, r->bytes.p, r->bytes.len, &ul);
	add_capped(&r->out, u, ul, r->max, &r->cut);
	sk_buf_reset(&r->bytes);
}

static void
rtf_put(struct rtf *r, const char *s, size_t n)
{
	rtf_flush(r);
	add_capped(&r->out, s, n, r->max, &r->cut);
}

static char *
rtf_text(struct sk_arena *a, const char *s, size_t n, size_t max, bool *cut,
         size_t *len)
{
	struct rtf r = { .a = a, .max = max, .codepage = "WINDOWS-1252" };
	int depth = 0, skip_depth = -1, uc = 1, to_skip = 0;
	bool group_start = false;
	char *res;

	sk_buf_init(&r.out, max + 16);
	sk_buf_init(&r.bytes, max + 16);
	for (size_t i = 0; i < n && !r.cut;) {
		char c = s[i];
		if (c == '{') {
			depth++;
			group_start = true;
			i++;
			continue;
		}
		if (c == '}') {
			if (skip_depth >= 0 && depth <= skip_depth)
				skip_depth = -1;
			depth--;
			i++;
			continue;
		}
		if (c == '\\' && i + 1 < n) {
			char d = s[i + 1];
			if (d == '*' && group_start) { /* {\* ignorable } */
				if (skip_depth < 0)
					skip_depth = depth;
				i += 2;
				continue;
			}
			group_start = false;
			if (d == '\'' && i + 3 < n) {
				int h = 0, l = 0;
				h = (s[i + 2] >= 'a')   ? s[i + 2] - 'a' + 10
				    : (s[i + 2] >= 'A') ? s[i + 2] - 'A' + 10
				                        : s[i + 2] - '0';
				l = (s[i + 3] >= 'a')   ? s[i + 3] - 'a' + 10
				    : (s[i + 3] >= 'A') ? s[i + 3] - 'A' + 10
				                        : s[i + 3] - '0';
				i += 4;
				if (to_skip > 0) {
					to_skip--;
					continue;
				}
				if (skip_depth < 0)
					sk_buf_addc(
					    &r.bytes,
					    (char)((h & 15) * 16 + (l & 15)));
				continue;
			}
			if (!((d >= 'a' && d <= 'z') ||
			      (d >= 'A' && d <= 'Z'))) {
				/* Control symbols: \\ \{ \} \~ \- \_ */
				if (skip_depth < 0) {
					if (d == '\\' || d == '{' || d == '}')
						rtf_put(&r, &d, 1);
					else if (d == '~')
						rtf_put(&r, " ", 1);
					else if (d == '_')
						rtf_put(&r, "-", 1);
				}
				i += 2;
				continue;
			}
			size_t ws = i + 1, we, ns;
			long arg = 0;
			bool has_arg = false, neg = false;
			we = ws;
			while (we < n &&
			       ((s[we] >= 'a' && s[we] <= 'z') ||
			        (s[we] >= 'A' && s[we] <= 'Z')) &&
			       we - ws < 32)
				we++;
			ns = we;
			if (ns < n && s[ns] == '-')
				neg = true, ns++;
			while (ns < n && s[ns] >= '0' && s[ns] <= '9' &&
			       arg < 1000000)
				arg = arg * 10 + (s[ns++] - '0'),
				has_arg = true;
			if (neg)
				arg = -arg;
			i = ns;
			if (i < n && s[i] == ' ')
				i++;
			const char *w = s + ws;
			size_t wn = we - ws;
			if (skip_depth < 0 && rtf_skipped_destination(w, wn)) {
				skip_depth = depth;
				continue;
			}
			if (skip_depth >= 0)
				continue;
			if (wn == 7 && !memcmp(w, "ansicpg", 7) && has_arg) {
				rtf_flush(&r);
				snprintf(r.codepage, sizeof(r.codepage),
				         "WINDOWS-%ld", arg);
			} else if ((wn == 3 && !memcmp(w, "par", 3)) ||
			           (wn == 4 && !memcmp(w, "line", 4)) ||
			           (wn == 3 && !memcmp(w, "row", 3))) {
				rtf_put(&r, "\n", 1);
			} else if ((wn == 3 && !memcmp(w, "tab", 3)) ||
			           (wn == 4 && !memcmp(w, "cell", 4))) {
				rtf_put(&r, "\t", 1);
			} else if (wn == 2 && !memcmp(w, "uc", 2) && has_arg) {
				uc = (int)(arg < 0 ? 0 : arg > 4 ? 4 : arg);
			} else if (wn == 1 && w[0] == 'u' && has_arg) {
				char enc[4];
				uint32_t cp =
				    (uint32_t)(arg < 0 ? arg + 65536 : arg);
				rtf_put(&r, enc, sk_utf8_encode(cp, enc));
				to_skip = uc;
			}
			continue;
		}
		group_start = false;
		i++;
		if (c == '\r' || c == '\n' || skip_depth >= 0)
			continue;
		if (to_skip > 0) {
			to_skip--;
			continue;
		}
		if ((unsigned char)c >= 0x80)
			sk_buf_addc(&r.bytes, c);
		else
			rtf_put(&r, &c, 1);
	}
	rtf_flush(&r);
	*cut = r.cut;
	res = sk_utf8_sanitize(a, r.out.p, r.out.len, len);
	sk_buf_release(&r.out);
	sk_buf_release(&r.bytes);
	return res;
}

/* ---- dispatch ---------------------------------------------------------------
 */

static bool
has_prefix(const struct sk_attachment *att, const char *magic, size_t n)
{
	return att->size >= n && !memcmp(att->data, magic, n);
}

/* "%PDF-" may follow some junk; readers look at the first KiB. */
static bool
is_pdf(const struct sk_attachment *att)
{
	size_t lim = att->size < 1024 ? att->size : 1024;
	return lim >= 5 && memmem(att->data, lim, "%PDF-", 5) != NULL;
}

static bool
ext_is(const char *filename, const char *ext)
{
	const char *dot = filename ? strrchr(filename, '.') : NULL;
	return dot && !strcasecmp(dot + 1, ext);
}

/* Text under another name: configuration, data and source files that
 * mailers label application/... or octet-stream. */
static bool
is_texty(const struct sk_attachment *att, const char *ct)
{
	static const char *const types[] = {
		"application/json",   "application/xml",
		"application/x-yaml", "application/yaml",
		"application/x-sh",   "application/javascript",
		"application/x-csv",  "application/csv",
		"application/sql",
	};
	static const char *const exts[] = { "txt",  "csv",   "log",  "md",
		                            "yaml", "yml",   "json", "xml",
		                            "ini",  "conf",  "cfg",  "sql",
		                            "sh",   "py",    "c",    "h",
		                            "diff", "patch", "tsv" };
	for (size_t i = 0; i < SK_ARRAY_SIZE(types); i++)
		if (!strcmp(ct, types[i]))
			return true;
	for (size_t i = 0; i < SK_ARRAY_SIZE(exts); i++)
		if (ext_is(att->filename, exts[i]))
			return !memchr(att->data, '\0', att->size);
	return false;
}

static void
set_failed(struct sk_arena *a, struct sk_attachment *att, const char *why)
{
	att->text = NULL;
	att->extract_status = "failed";
	att->extract_error = sk_arena_strdup(a, why);
}

/* Form feeds between PDF pages and the like become line breaks. */
static void
fix_controls(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\f' || s[i] == '\v')
			s[i] = '\n';
}

void
sk_mime_extract(struct sk_arena *a, const struct sk_limits *lim,
                struct sk_extract_budget *budget, struct sk_attachment *att,
                const char *charset, unsigned *flags)
{
	static const char ole[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
	const char *ct = att->content_type ? att->content_type : "";
	char why[128] = "";
	char *text = NULL;
	size_t len = 0;
	bool cut = false, ok;

	att->text = NULL;
	att->extract_error = NULL;
	att->extract_status = "none";
	if (!att->data || att->size == 0)
		return;
	if ((is_pdf(att) || has_prefix(att, ole, 8)) &&
	    budget->seconds_left < 1) {
		/* Earlier attachments of this message used the time. */
		att->extract_status = "skipped";
		att->extract_error = "time for extraction in this message "
		                     "used up";
		return;
	}
	if (is_pdf(att)) {
		static const char *const args[] = { "pdftotext", "-q",   "-enc",
			                            "UTF-8",     "-eol", "unix",
			                            NULL };
		ok = run_on_data(a, lim, budget, args, "-", att, &text, &len,
		                 &cut, why);
	} else if (has_prefix(att, ole, 8)) {
		static const char *const doc[] = { "antiword", "-m",
			                           "UTF-8.txt", NULL };
		static const char *const xls[] = { "xls2csv", "-d", "utf-8",
			                           NULL };
		bool excel = ext_is(att->filename, "xls") ||
		             ext_is(att->filename, "xlt") ||
		             strstr(ct, "excel");
		ok = run_on_data(a, lim, budget, excel ? xls : doc, NULL, att,
		                 &text, &len, &cut, why);
		if (!ok && !excel && !ext_is(att->filename, "doc") &&
		    !strstr(ct, "msword")) {
			char why2[128];
			ok = run_on_data(a, lim, budget, xls, NULL, att, &text,
			                 &len, &cut, why2);
		}
		/* xls2csv says nothing on input it cannot read. */
		if (ok && sk_str_trim(text, len).n == 0) {
			ok = false;
			snprintf(why, sizeof(why), "no text from %s",
			         excel ? "xls2csv" : "antiword");
		}
	} else if (has_prefix(att, "PK\x03\x04", 4)) {
		ok = zip_text(a, lim, att, &text, &len, &cut, why);
		if (!ok && !strcmp(why, "a zip archive that is not a document"))
			return; /* an ordinary .zip: nothing to read */
	} else if (has_prefix(att, "{\\rtf", 5)) {
		text = rtf_text(a, att->data, att->size,
		                lim->extract_output_bytes, &cut, &len);
		ok = true;
	} else if (!strcmp(ct, "text/html")) {
		text =
		    sk_mime_html_text(a, att->data, att->size, charset,
		                      lim->extract_output_bytes, flags, &len);
		ok = true;
	} else if (!strncmp(ct, "text/", 5) || is_texty(att, ct)) {
		size_t n = att->size;
		if (n > lim->extract_output_bytes) {
			n = lim->extract_output_bytes;
			cut = true;
		}
		text = sk_mime_text_utf8(a, att->data, n, charset, flags, &len);
		ok = true;
	} else {
		return;
	}
	if (!ok) {
		set_failed(a, att, why);
		return;
	}
	if (cut)
		*flags |= SK_MSG_TRUNCATED;
	fix_controls(text, len);
	att->text = sk_utf8_sanitize(a, text, len, NULL);
	att->extract_status = "ok";
}
