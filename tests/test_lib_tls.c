/* tests/test_lib_tls.c: sk_tls_verify() (lib/tls.c) on certificates made
 * by openssl for the occasion: chain, host name, intermediate, pins. The
 * expected pins are computed by openssl too, not by the code under test. */
#include "tests/helpers/sk_test.h"
#include "tests/helpers/dovecot.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fx {
	char dir[64];
	struct sk_test_pki pki;
	char *leaf_hex; /* openssl -fingerprint -sha256: "AB:CD:..." */
	char *leaf_hex_wrong;
	char *spki_b64; /* SHA-256 of the SubjectPublicKeyInfo, base64 */
};

/* DER certificates from PEM files, in order. */
struct chain {
	struct sk_str c[4];
	size_t n;
};

static void
chain_add(struct chain *ch, const char *pem_path)
{
	gnutls_datum_t pem = { 0 }, der = { 0 };
	gnutls_x509_crt_t crt;

	assert_true(ch->n < SK_ARRAY_SIZE(ch->c));
	assert_int_equal(gnutls_load_file(pem_path, &pem), 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM),
	                 0);
	assert_int_equal(
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
	ch->c[ch->n].p = sk_xstrndup((const char *)der.data, der.size);
	ch->c[ch->n].n = der.size;
	ch->n++;
	gnutls_free(der.data);
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(crt);
}

static void
chain_release(struct chain *ch)
{
	for (size_t i = 0; i < ch->n; i++)
		free((void *)ch->c[i].p);
	ch->n = 0;
}

/* Verify the chain made of the PEM files (NULL-terminated). */
static enum sk_status
verify(const char *host, const char *ca, const char *pin, struct sk_err *err,
       ...)
{
	struct chain ch = { .n = 0 };
	enum sk_status rc;
	va_list ap;
	const char *p;

	va_start(ap, err);
	while ((p = va_arg(ap, const char *)))
		chain_add(&ch, p);
	va_end(ap);
	memset(err, 0, sizeof(*err));
	rc = sk_tls_verify(ch.c, ch.n, host, ca, pin, err);
	chain_release(&ch);
	return rc;
}

static char *
run_trim(const char *cmd)
{
	char *out = NULL;
	size_t n;
	assert_int_equal(sk_test_run(cmd, &out), 0);
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return out;
}

static char *
fingerprint(const char *pem)
{
	char cmd[512], *out, *eq, *r;
	snprintf(cmd, sizeof(cmd),
	         "openssl x509 -noout -fingerprint -sha256 -in '%s'", pem);
	out = run_trim(cmd);
	eq = strchr(out, '=');
	assert_non_null(eq);
	r = sk_xstrdup(eq + 1);
	free(out);
	assert_int_equal(strlen(r), 95);
	return r;
}

static int
setup(void **state)
{
	struct fx *fx = sk_xcalloc(1, sizeof(*fx));
	char cmd[512];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/sk-tls-XXXXXX");
	if (!mkdtemp(fx->dir) || !sk_test_pki_make(fx->dir, &fx->pki)) {
		free(fx);
		return -1;
	}
	fx->leaf_hex = fingerprint(fx->pki.cert);
	fx->leaf_hex_wrong = fingerprint(fx->pki.wrong_cert);
	snprintf(cmd, sizeof(cmd),
	         "openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin "
	         "-outform DER | openssl dgst -sha256 -binary | base64",
	         fx->pki.cert);
	fx->spki_b64 = run_trim(cmd);
	assert_int_equal(strlen(fx->spki_b64), 44);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (strncmp(fx->dir, "/tmp/sk-tls-", 12) == 0 && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", fx->dir);
	sk_test_pki_release(&fx->pki);
	free(fx->leaf_hex);
	free(fx->leaf_hex_wrong);
	free(fx->spki_b64);
	free(fx);
	return 0;
}

static void
accepts_certificate_from_ca_file(void **state)
{
	struct fx *fx = *state;
	struct sk_err err;

	assert_int_equal(
	    verify("localhost", fx->pki.ca, NULL, &err, fx->pki.cert, NULL),
	    SK_OK);
	assert_int_equal(
	    verify("LocalHost", fx->pki.ca, "", &err, fx->pki.cert, NULL),
	    SK_OK);
	assert_int_equal(
	    verify("127.0.0.1", fx->pki.ca, NULL, &err, fx->pki.cert, NULL),
	    SK_OK);
	/* The name of the other certificate is its own. */
	assert_int_equal(verify("wrong.example", fx->pki.ca, NULL, &err,
	                        fx->pki.other_cert, NULL),
	                 SK_OK);
}

static void
refuses_certificate_from_wrong_ca(void **state)
{
	struct fx *fx = *state;
	struct sk_err err;

	assert_int_equal(verify("localhost", fx->pki.ca, NULL, &err,
	                        fx->pki.wrong_cert, NULL),
	                 SK_EIO);
	assert_non_null(strstr(err.msg, "issuer is unknown"));
	assert_non_null(strstr(err.msg, "'localhost'"));
	/* The right server, the wrong anchor. */
	assert_int_equal(verify("localhost", fx->pki.wrong_ca, NULL, &err,
	                        fx->pki.cert, NULL),
	                 SK_EIO);
	assert_non_null(strstr(err.msg, "issuer is unknown"));
}

static void
refuses_wrong_host_name(void **state)
{
	struct fx *fx = *state;
	struct sk_err err;

	assert_int_equal(
	    verify("wrong.example", fx->pki.ca, NULL, &err, fx->pki.cert, NULL),
	    SK_EIO);
	assert_non_null(strstr(err.msg, "name does not match 'wrong.example'"));
	assert_null(strstr(err.msg, "issuer"));
	assert_int_equal(
	    verify("127.0.0.2", fx->pki.ca, NULL, &err, fx->pki.cert, NULL),
	    SK_EIO);
	assert_non_null(strstr(err.msg, "name does not match"));
	assert_int_equal(verify("localhost", fx->pki.ca, NULL, &err,
	                        fx->pki.other_cert, NULL),
	                 SK_EIO);
	assert_non_null(strstr(err.msg, "name does not match 'localhost'"));
	/* No wildcard or suffix games. */
	assert_int_equal(
	    verify("x.localhost", fx->pki.ca, NULL, &err, fx->pki.cert, NULL),
	    SK_EIO);
	assert_int_equal(verify("wrong.example.com", fx->pki.ca, NULL, &err,
	                        fx->pki.other_cert, NULL),
	                 SK_EIO);
}

static void
system_store_does_not_know_test_ca(void **state)
{
	struct fx *fx = *state;
	struct sk_err err;
	enum sk_status rc =
	    verify("localhost", NULL, NULL, &err, fx->pki.cert, NULL);

	if (rc == SK_EINVAL && strstr(err.msg, "no system CA")) {
		printf("SKIP: no system CA store (ca-certificates)\n");
		skip();
	}
	assert_int_equal(rc, SK_EIO);
	assert_non_null(strstr(err.msg, "issuer is unknown"));
}

static void
follows_intermediate_sent_by_server(void **state)
{
	struct fx *fx = *state;
	struct sk_err err;

	assert_int_equal(verify("localhost", fx->pki.ca, NULL, &err,
	                        fx->pki.int_cert, fx->pki.int_ca, NULL),
	                 SK_OK);
	/* Without the intermediate, the chain does not reach the CA. */
	assert_int_equal(
	    verify("localhost", fx->pki.ca, NULL, &err, fx->pki.int_cert, NULL),
	    SK_EIO);
	assert_non_null(strstr(err.msg, "issuer is unknown"));
	/* Only the leaf is checked against the name. */
	assert_int_equal(verify("wrong.example", fx->pki.ca, NULL, &err,
	                        fx->pki.int_cert, fx->pki.int_ca, NULL),
	                 SK_EIO);
}

static void
accepts_matching_pins(void **state)
{
	struct fx *fx = *state;
	struct sk_err err;
	char pin[256];
	size_t k = 0;

	/* The certificate's fingerprint as openssl prints it. */
	assert_int_equal(verify("localhost", fx->pki.ca, fx->leaf_hex, &err,
	                        fx->pki.cert, NULL),
	                 SK_OK);
	/* The same in lowercase without colons. */
	for (const char *s = fx->leaf_hex; *s; s++)
		if (*s != ':')
			pin[k++] =
			    (char)(*s >= 'A' && *s <= 'F' ? *s + 32 : *s);
	pin[k] = '\0';
	assert_int_equal(strlen(pin), 64);
	assert_int_equal(
	    verify("localhost", fx->pki.ca, pin, &err, fx->pki.cert, NULL),
	    SK_OK);
	/* The key pin, plain and in curl's form. */
	assert_int_equal(verify("localhost", fx->pki.ca, fx->spki_b64, &err,
	                        fx->pki.cert, NULL),
	                 SK_OK);
	snprintf(pin, sizeof(pin), "sha256//%s", fx->spki_b64);
	assert_int_equal(
	    verify("localhost", fx->pki.ca, pin, &err, fx->pki.cert, NULL),
	    SK_OK);
	/* The key pin also holds for another certificate on the same key
	 * (all test server certificates share one key). */
	assert_int_equal(verify("localhost", fx->pki.ca, fx->spki_b64, &err,
	                        fx->pki.int_cert, fx->pki.int_ca, NULL),
	                 SK_OK);
	/* One of several. */
	snprintf(pin, sizeof(pin), "%s, %s", fx->leaf_hex_wrong, fx->leaf_hex);
	assert_int_equal(
	    verify("localhost", fx->pki.ca, pin, &err, fx->pki.cert, NULL),
	    SK_OK);
}

static void
refuses_mismatched_pin(void **state)
{
	struct fx *fx = *state;
	struct sk_err err;

	assert_int_equal(verify("localhost", fx->pki.ca, fx->leaf_hex_wrong,
	                        &err, fx->pki.cert, NULL),
	                 SK_EIO);
	assert_non_null(strstr(err.msg, "does not match pin_sha256"));
	/* A matching pin does not excuse an untrusted chain or name. */
	assert_int_equal(verify("localhost", fx->pki.ca, fx->leaf_hex_wrong,
	                        &err, fx->pki.wrong_cert, NULL),
	                 SK_EIO);
	assert_non_null(strstr(err.msg, "issuer is unknown"));
	assert_int_equal(verify("wrong.example", fx->pki.ca, fx->leaf_hex, &err,
	                        fx->pki.cert, NULL),
	                 SK_EIO);
	assert_non_null(strstr(err.msg, "name does not match"));
}

static void
rejects_bad_settings(void **state)
{
	struct fx *fx = *state;
	struct sk_err err;
	char pin[128];

	assert_int_equal(
	    verify("localhost", fx->pki.ca, "xyz", &err, fx->pki.cert, NULL),
	    SK_EINVAL);
	assert_non_null(strstr(err.msg, "pin_sha256"));
	/* A digest one character short. */
	snprintf(pin, sizeof(pin), "%.94s", fx->leaf_hex);
	assert_int_equal(
	    verify("localhost", fx->pki.ca, pin, &err, fx->pki.cert, NULL),
	    SK_EINVAL);
	assert_int_equal(
	    verify("localhost", fx->pki.ca, " , ", &err, fx->pki.cert, NULL),
	    SK_EINVAL);
	assert_int_equal(verify("localhost", "/nonexistent/ca.pem", NULL, &err,
	                        fx->pki.cert, NULL),
	                 SK_EINVAL);
	assert_non_null(strstr(err.msg, "/nonexistent/ca.pem"));
	/* A file without certificates. */
	snprintf(pin, sizeof(pin), "%s/srv.ext", fx->dir);
	assert_int_equal(
	    verify("localhost", pin, NULL, &err, fx->pki.cert, NULL),
	    SK_EINVAL);
	assert_int_equal(verify("", fx->pki.ca, NULL, &err, fx->pki.cert, NULL),
	                 SK_EINVAL);
}

static void
refuses_missing_or_garbled_certificates(void **state)
{
	struct fx *fx = *state;
	struct sk_err err = { 0 };
	struct sk_str junk = SK_STR("\x30\x82\x01\x00 not a certificate");

	assert_int_equal(
	    sk_tls_verify(NULL, 0, "localhost", fx->pki.ca, NULL, &err),
	    SK_EIO);
	assert_non_null(strstr(err.msg, "no certificate"));
	assert_int_equal(
	    sk_tls_verify(&junk, 1, "localhost", fx->pki.ca, NULL, &err),
	    SK_EIO);
	assert_non_null(strstr(err.msg, "cannot be read"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_certificate_from_ca_file),
		cmocka_unit_test(refuses_certificate_from_wrong_ca),
		cmocka_unit_test(refuses_wrong_host_name),
		cmocka_unit_test(system_store_does_not_know_test_ca),
		cmocka_unit_test(follows_intermediate_sent_by_server),
		cmocka_unit_test(accepts_matching_pins),
		cmocka_unit_test(refuses_mismatched_pin),
		cmocka_unit_test(rejects_bad_settings),
		cmocka_unit_test(refuses_missing_or_garbled_certificates),
	};
	return cmocka_run_group_tests_name("lib/tls", tests, setup, teardown);
}
