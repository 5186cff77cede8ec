/* cert — make and keep a self-signed certificate (see cert.h). */
#include "tls/cert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/log.h"

/* Is the certificate in `path` readable and valid for at least a day more? */
static int cert_still_good(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int ok = 0;

	if (!f)
		return 0;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x) {
		ok = X509_cmp_time(X509_get0_notAfter(x), NULL) > 0 &&
		     X509_cmp_timeframe(NULL, X509_get0_notBefore(x),
					X509_get0_notAfter(x)) == 0;
		X509_free(x);
	}
	return ok;
}

static int add_san(X509 *x, const char *extra)
{
	char san[512];
	unsigned char bin[16];
	X509_EXTENSION *ext;
	int rc;

	snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1");
	if (extra && *extra && strlen(extra) < 200 && !strchr(extra, ',')) {
		size_t n = strlen(san);
		if (inet_pton(AF_INET, extra, bin) == 1 ||
		    inet_pton(AF_INET6, extra, bin) == 1)
			snprintf(san + n, sizeof(san) - n, ",IP:%s", extra);
		else
			snprintf(san + n, sizeof(san) - n, ",DNS:%s", extra);
	}
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (!ext)
		return -EINVAL;
	rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -EIO;
	X509_EXTENSION_free(ext);
	return rc;
}

static int write_pem_key(const char *path, EVP_PKEY *pkey)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f;
	int ok;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -EIO;
	}
	ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -EIO;
}

static int write_pem_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -errno;
	ok = PEM_write_X509(f, x);
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -EIO;
}

int cert_ensure_selfsigned(const char *dir, const char *extra_name,
			   char *cert_path, char *key_path, size_t cap)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	char tmp[4096];
	int rc = -EIO;

	if ((size_t)snprintf(cert_path, cap, "%s/tls-cert.pem", dir) >= cap ||
	    (size_t)snprintf(key_path, cap, "%s/tls-key.pem", dir) >= cap)
		return -ENAMETOOLONG;
	if (cert_still_good(cert_path) && access(key_path, R_OK) == 0)
		return 0;

	log_info("tls", "making a self-signed certificate in %s", dir);
	pkey = EVP_EC_gen("P-256");
	x = X509_new();
	if (!pkey || !x)
		goto out;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	if (X509_set_version(x, 2) != 1 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x),
			     (long)CERT_VALID_DAYS * 24 * 3600) ||
	    X509_set_pubkey(x, pkey) != 1)
		goto out;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"conclave", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"conclave self-signed",
					-1, -1, 0) ||
	    X509_set_issuer_name(x, name) != 1)
		goto out;
	if (add_san(x, extra_name))
		goto out;
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;

	/* write both to temporary names, then rename: never a half-made pair */
	snprintf(tmp, sizeof(tmp), "%s.tmp", key_path);
	if ((rc = write_pem_key(tmp, pkey)) || rename(tmp, key_path) != 0) {
		rc = rc ? rc : -errno;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", cert_path);
	if ((rc = write_pem_cert(tmp, x)) || rename(tmp, cert_path) != 0) {
		rc = rc ? rc : -errno;
		goto out;
	}
	rc = 0;
out:
	if (rc)
		log_error("tls", "could not make a self-signed certificate (%d)", rc);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return rc;
}
