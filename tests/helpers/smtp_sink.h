/* tests/helpers/smtp_sink.h: postfix's smtp-sink on 127.0.0.1 for the mail
 * tests — start it (with one of its fault options), stop it, and read the
 * transactions it accepted. As root it runs as "nobody", so its directory
 * is made world-writable (and the directories above it must be
 * searchable). */
#ifndef SK_TEST_SMTP_SINK_H
#define SK_TEST_SMTP_SINK_H

#include <stdbool.h>
#include <sys/types.h>

#define SK_SINK_BIN "/usr/sbin/smtp-sink"

struct sk_sink {
	pid_t pid;      /* 0 when not running */
	int port;       /* 0 = pick a free one at start; kept by a restart */
	char dir[600];  /* where it writes */
	char dump[700]; /* DIR/dump: every complete transaction, appended */
};

/* A free TCP port on 127.0.0.1 (bound, then released), or -1. */
int sk_test_free_port(void);
/* True when something accepts connections on ip (IPv4) and port. */
bool sk_test_port_open(const char *ip, int port);

/* True when smtp-sink is installed. */
bool sk_sink_installed(void);
/* Start smtp-sink on 127.0.0.1:s->port (a free port when 0) appending to
 * dir/dump (dir is created), with the listen backlog given and, when opt
 * is not NULL, one extra option: opt and its argument arg (may be NULL),
 * e.g. "-r", "rcpt" (a 4xx to RCPT TO) or "-q", "." (hang up at the
 * dot). True once it listens (within 4 s); false when it is not installed
 * or does not start. */
bool sk_sink_start(struct sk_sink *s, const char *dir, const char *opt,
                   const char *arg, int backlog);
/* SIGTERM and reap it (nothing when not running). */
void sk_sink_stop(struct sk_sink *s);

/* Everything it accepted so far, as it wrote it: each transaction starts
 * with smtp-sink's X-Client-Addr (and other X-) lines. malloc'ed; "" when
 * nothing yet. */
char *sk_sink_read(const struct sk_sink *s);
/* Transactions accepted so far. */
int sk_sink_count(const struct sk_sink *s);
/* Wait up to ms milliseconds until it has accepted n transactions. */
bool sk_sink_wait(const struct sk_sink *s, int n, int ms);
/* The messages accepted so far (at most max) without smtp-sink's X-
 * envelope lines and the newline it adds after each message (the
 * Received: it adds stays, as an MTA's would); each malloc'ed. Returns
 * how many. */
int sk_sink_messages(const struct sk_sink *s, char **msgs, int max);

#endif
