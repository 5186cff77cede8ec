/*
 * cert — the self-signed certificate of the embedded default.
 *
 * A development or evaluation server has no certificate of its own. At first
 * start conclave makes an ECDSA P-256 key and a self-signed certificate for
 * "localhost", 127.0.0.1, ::1 and the host name of the public URL, and keeps
 * them in the data directory (key mode 0600) so that browsers that accepted
 * it once keep accepting it. Production passes --cert and --key instead.
 */
#ifndef CONCLAVE_TLS_CERT_H
#define CONCLAVE_TLS_CERT_H

#include <stddef.h>

enum {
	CERT_VALID_DAYS = 365,     /* self-signed: one year, then remade */
};

/*
 * Ensures DIR/tls-cert.pem and DIR/tls-key.pem exist and are usable,
 * making them if missing or expired. `extra_name` (a DNS name or an IP
 * literal, may be NULL) is added to the subject alternative names.
 * Writes the two paths (capacity `cap` each). Returns 0 or -errno.
 */
int cert_ensure_selfsigned(const char *dir, const char *extra_name,
			   char *cert_path, char *key_path, size_t cap);

#endif
