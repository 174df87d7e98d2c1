/* lib/log.c: log lines to stderr with journald's "<N>" priority prefix. */
#include "lib/sk_base.h"

#include <stdio.h>
#include <string.h>

static enum sk_log_level max_level = SK_LOG_INFO;

void
sk_log_set_level(enum sk_log_level max)
{
	max_level = max;
}

bool
sk_log_enabled(enum sk_log_level lvl)
{
	return lvl <= max_level;
}

void
sk_log(enum sk_log_level lvl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (lvl > max_level)
		return;
	n = snprintf(line, sizeof(line), "<%d>skarbnica: ", (int)lvl);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* One write per line, so lines from several processes do not mix. */
	n = (int)strlen(line);
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}
