/* lib/tls.c: verification of a TLS server's certificate chain, host name
 * and optional SHA-256 pin with GnuTLS, for the IMAP and SMTP clients
 * (libetpan hands us the chain and verifies nothing). It never talks to
 * the network and never sees a password. */
#include "lib/sk_base.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_CHAIN = 16, MAX_PINS = 8, SHA256_LEN = 32 };

struct pins {
	unsigned char d[MAX_PINS][SHA256_LEN];
	size_t n;
};

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* 64 hex digits, optionally in colon-separated pairs. */
static bool
parse_hex(const char *s, size_t n, unsigned char out[SHA256_LEN])
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		int hi, lo;
		if (s[i] == ':') {
			if (i == 0 || i + 1 == n || s[i + 1] == ':')
				return false;
			i++;
			continue;
		}
		if (i + 1 >= n || k == SHA256_LEN)
			return false;
		hi = sk_hex_digit((unsigned char)s[i]);
		lo = sk_hex_digit((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[k++] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	return k == SHA256_LEN;
}

/* Standard or URL-safe base64 of exactly 32 bytes, padding optional. */
static bool
parse_b64(const char *s, size_t n, unsigned char out[SHA256_LEN])
{
	uint32_t acc = 0;
	size_t k = 0, bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n != 43)
		return false;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);
		if (v < 0)
			return false;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	/* 43 characters carry 258 bits: the last 2 must be zero. */
	return k == SHA256_LEN && (acc & ((1u << bits) - 1)) == 0;
}

static enum sk_status
parse_pins(const char *spec, struct pins *p, struct sk_err *err)
{
	const char *s = spec;

	p->n = 0;
	while (*s) {
		size_t n;
		const char *tok;
		s += strspn(s, ", \t;");
		if (!*s)
			break;
		n = strcspn(s, ", \t;");
		tok = s;
		s += n;
		if (n > 8 && !strncmp(tok, "sha256//", 8)) {
			tok += 8;
			n -= 8;
		} else if (n > 7 && !strncasecmp(tok, "sha256:", 7)) {
			tok += 7;
			n -= 7;
		}
		if (p->n == MAX_PINS)
			return sk_err_set(err, SK_EINVAL,
			                  "pin_sha256: more than %d digests",
			                  MAX_PINS);
		if (!parse_hex(tok, n, p->d[p->n]) &&
		    !parse_b64(tok, n, p->d[p->n]))
			return sk_err_set(
			    err, SK_EINVAL,
			    "pin_sha256: '%.*s' is neither 64 hex "
			    "digits nor base64 of a SHA-256 digest",
			    (int)(n > 80 ? 80 : n), tok);
		p->n++;
	}
	if (p->n == 0)
		return sk_err_set(err, SK_EINVAL, "pin_sha256 is empty");
	return SK_OK;
}

/* Does the leaf's DER or its SubjectPublicKeyInfo hash to one of the pins? */
static enum sk_status
check_pins(gnutls_x509_crt_t leaf, const struct sk_str *der,
           const struct pins *p, const char *host, struct sk_err *err)
{
	unsigned char cert_hash[SHA256_LEN], spki_hash[SHA256_LEN];
	unsigned char spki[8192];
	size_t spki_len = sizeof(spki);
	gnutls_pubkey_t pub = NULL;
	bool have_spki = false;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->p, der->n, cert_hash) < 0)
		return sk_err_set(err, SK_EIO,
		                  "cannot hash the certificate "
		                  "of '%s'",
		                  host);
	if (gnutls_pubkey_init(&pub) == 0) {
		if (gnutls_pubkey_import_x509(pub, leaf, 0) == 0 &&
		    gnutls_pubkey_export(pub, GNUTLS_X509_FMT_DER, spki,
		                         &spki_len) == 0 &&
		    gnutls_hash_fast(GNUTLS_DIG_SHA256, spki, spki_len,
		                     spki_hash) == 0)
			have_spki = true;
		gnutls_pubkey_deinit(pub);
	}
	for (size_t i = 0; i < p->n; i++) {
		if (!memcmp(p->d[i], cert_hash, SHA256_LEN))
			return SK_OK;
		if (have_spki && !memcmp(p->d[i], spki_hash, SHA256_LEN))
			return SK_OK;
	}
	return sk_err_set(
	    err, SK_EIO, "certificate of '%s' does not match pin_sha256", host);
}

/* A readable reason for the status bits of a failed verification. */
static void
describe(struct sk_buf *b, unsigned status, const char *host)
{
	static const struct {
		unsigned bit;
		const char *what;
	} reasons[] = {
		{ GNUTLS_CERT_SIGNER_NOT_FOUND, "issuer is unknown" },
		{ GNUTLS_CERT_SIGNER_NOT_CA, "issuer is not a CA" },
		{ GNUTLS_CERT_UNEXPECTED_OWNER, "name does not match" },
		{ GNUTLS_CERT_EXPIRED, "expired" },
		{ GNUTLS_CERT_NOT_ACTIVATED, "not yet valid" },
		{ GNUTLS_CERT_REVOKED, "revoked" },
		{ GNUTLS_CERT_SIGNATURE_FAILURE, "bad signature" },
		{ GNUTLS_CERT_INSECURE_ALGORITHM, "insecure algorithm" },
		{ GNUTLS_CERT_PURPOSE_MISMATCH, "not for a TLS server" },
		{ GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE,
		  "issuer constraints violated" },
	};
	size_t before = b->len;

	for (size_t i = 0; i < SK_ARRAY_SIZE(reasons); i++) {
		if (!(status & reasons[i].bit))
			continue;
		if (b->len > before)
			sk_buf_adds(b, ", ");
		sk_buf_adds(b, reasons[i].what);
		if (reasons[i].bit == GNUTLS_CERT_UNEXPECTED_OWNER)
			sk_buf_addf(b, " '%s'", host);
	}
	if (b->len == before)
		sk_buf_addf(b, "verification status 0x%x", status);
}

static enum sk_status
load_anchors(gnutls_x509_trust_list_t tl, const char *ca_file,
             struct sk_err *err)
{
	int r;

	if (ca_file && *ca_file) {
		if (access(ca_file, R_OK) != 0)
			return sk_err_set(err, SK_EINVAL,
			                  "cannot read ca_file '%s': %s",
			                  ca_file, strerror(errno));
		r = gnutls_x509_trust_list_add_trust_file(
		    tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
		if (r <= 0)
			return sk_err_set(err, SK_EINVAL,
			                  "ca_file '%s' holds no PEM "
			                  "certificate%s%s",
			                  ca_file, r < 0 ? ": " : "",
			                  r < 0 ? gnutls_strerror(r) : "");
		return SK_OK;
	}
	r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r <= 0)
		return sk_err_set(err, SK_EINVAL,
		                  "no system CA certificates (install "
		                  "ca-certificates or set ca_file)");
	return SK_OK;
}

enum sk_status
sk_tls_verify(const struct sk_str *der_chain, size_t n, const char *host,
              const char *ca_file, const char *pin_sha256, struct sk_err *err)
{
	gnutls_x509_crt_t crts[MAX_CHAIN];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st vdata[2];
	struct pins pins;
	char name[256];
	size_t hlen;
	unsigned status = 0;
	size_t ncrt = 0;
	enum sk_status rc = SK_OK;
	int r;

	if (!host || !*host)
		return sk_err_set(err, SK_EINVAL, "no host name to verify");
	/* "[::1]" is how a user writes an IPv6 host; GnuTLS wants "::1". */
	hlen = strlen(host);
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen >= sizeof(name))
		return sk_err_set(err, SK_EINVAL, "host name is too long");
	memcpy(name, host, hlen);
	name[hlen] = '\0';
	if (pin_sha256 && *pin_sha256) {
		rc = parse_pins(pin_sha256, &pins, err);
		if (rc)
			return rc;
	}
	if (n == 0)
		return sk_err_set(err, SK_EIO,
		                  "server '%s' sent no certificate", name);
	if (n > MAX_CHAIN)
		n = MAX_CHAIN; /* Anything after 16 cannot be needed. */

	for (; ncrt < n; ncrt++) {
		gnutls_datum_t d = { (unsigned char *)der_chain[ncrt].p,
			             (unsigned)der_chain[ncrt].n };
		if (der_chain[ncrt].n > UINT32_MAX ||
		    gnutls_x509_crt_init(&crts[ncrt]) < 0) {
			rc = sk_err_set(err, SK_EIO,
			                "certificate %zu of '%s' "
			                "cannot be read",
			                ncrt, name);
			goto out;
		}
		r = gnutls_x509_crt_import(crts[ncrt], &d, GNUTLS_X509_FMT_DER);
		if (r < 0) {
			gnutls_x509_crt_deinit(crts[ncrt]);
			rc = sk_err_set(err, SK_EIO,
			                "certificate %zu of '%s' "
			                "cannot be read: %s",
			                ncrt, name, gnutls_strerror(r));
			goto out;
		}
	}

	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		tl = NULL;
		rc = sk_err_set(err, SK_EIO, "cannot set up a trust list");
		goto out;
	}
	rc = load_anchors(tl, ca_file, err);
	if (rc)
		goto out;

	/* GnuTLS matches an IP literal against the IP addresses of the
	 * subjectAltName and a DNS name against the DNS entries (RFC 6125,
	 * no CN fallback when SANs exist). */
	vdata[0] = (gnutls_typed_vdata_st){ .type = GNUTLS_DT_DNS_HOSTNAME,
		                            .data = (unsigned char *)name };
	vdata[1] = (gnutls_typed_vdata_st){
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER
	};
	r = gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)ncrt, vdata,
	                                       2, 0, &status, NULL);
	if (r < 0) {
		rc = sk_err_set(err, SK_EIO,
		                "cannot verify the certificate "
		                "of '%s': %s",
		                name, gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		struct sk_buf why;
		sk_buf_init(&why, 200);
		describe(&why, status, name);
		rc = sk_err_set(err, SK_EIO,
		                "certificate of '%s' is not trusted: %s", name,
		                why.p);
		sk_buf_release(&why);
		goto out;
	}
	if (pin_sha256 && *pin_sha256)
		rc = check_pins(crts[0], &der_chain[0], &pins, name, err);
out:
	if (tl)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (size_t i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return rc;
}
