/* tests/helpers/dovecot.h: a real dovecot IMAP server on loopback for the
 * IMAP tests, and the small test PKI (made with openssl) it serves.
 *
 * Rootless: as root (CI) the server runs as "nobody" and its directory is
 * handed to that user; otherwise it runs as the caller. Nothing outside
 * its temporary directory is touched. */
#ifndef SK_TEST_DOVECOT_H
#define SK_TEST_DOVECOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Certificates in PEM files under dir. All server certificates share one
 * EC P-256 key (key). */
struct sk_test_pki {
	char *ca;       /* the test CA */
	char *wrong_ca; /* an unrelated CA nobody should trust */
	char *cert; /* CN=localhost, SAN DNS:localhost IP:127.0.0.1, by ca */
	char *key;  /* its private key */
	char *wrong_cert; /* the same names, issued by wrong_ca */
	char *other_cert; /* SAN DNS:wrong.example only, issued by ca */
	char *int_ca;     /* an intermediate CA issued by ca */
	char *int_cert;   /* localhost again, issued by int_ca */
};

/* Make the PKI under dir (which must exist) with the openssl command.
 * False (and a message on stderr) when openssl is missing or fails. */
bool sk_test_pki_make(const char *dir, struct sk_test_pki *out);
void sk_test_pki_release(struct sk_test_pki *p);

/* One running dovecot. Addresses, all on the same two ports:
 *   127.0.0.1  cert        (the good server)
 *   127.0.0.2  other_cert  (right CA, wrong name)
 *   127.0.0.3  wrong_cert  (wrong CA)
 * imap_port speaks plain IMAP with STARTTLS, imaps_port implicit TLS. */
struct sk_dovecot {
	char *dir; /* short temp dir: dovecot's sockets need < 100 chars */
	struct sk_test_pki pki;
	char *conf;
	char *log;           /* dovecot's log file */
	char *maildir;       /* the user's Maildir (INBOX) */
	char *password_file; /* mode 0600, holds the password */
	const char *user;    /* "wojt" */
	const char *password;
	int imap_port, imaps_port;
	pid_t pid; /* dovecot -F, leader of its own process group */
	uid_t uid; /* what dovecot runs as */
	gid_t gid;
	unsigned seq; /* for unique Maildir names */
};

/* Start a server. Returns 1 and *out when it listens; 0 after printing
 * "SKIP: dovecot not installed" when /usr/sbin/dovecot is missing; -1 on
 * failure (reason on stderr). */
int sk_dovecot_start(struct sk_dovecot **out);
/* Stop the server (TERM, then KILL), remove the directory, free. */
void sk_dovecot_stop(struct sk_dovecot **d);
/* SIGKILL the whole server at once (a crash); the directory stays. */
void sk_dovecot_kill(struct sk_dovecot *d);
/* Start it again after sk_dovecot_kill(), on the same ports. */
bool sk_dovecot_restart(struct sk_dovecot *d);

/* Deliver a message into Maildir/new the way an MDA does (write to tmp/,
 * rename into new/). */
void sk_dovecot_deliver(struct sk_dovecot *d, const char *raw, size_t len);
/* Save a message into mailbox (UTF-8 name, created when missing) with
 * doveadm save. */
bool sk_dovecot_save(struct sk_dovecot *d, const char *mailbox, const char *raw,
                     size_t len);
/* Make dovecot take in what was delivered (UIDs assigned) now. */
bool sk_dovecot_sync(struct sk_dovecot *d);
/* Give INBOX a new UIDVALIDITY with doveadm. */
bool sk_dovecot_set_uidvalidity(struct sk_dovecot *d, unsigned long v);
/* Bytes in the log file now (to read only what follows, below). */
size_t sk_dovecot_log_size(const struct sk_dovecot *d);
/* The log from byte offset from on (malloc'ed, NUL-terminated). */
char *sk_dovecot_log_since(const struct sk_dovecot *d, size_t from);
/* Wait up to ms milliseconds until the log after from contains needle. */
bool sk_dovecot_log_wait(const struct sk_dovecot *d, size_t from,
                         const char *needle, int ms);

#endif
