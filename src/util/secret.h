/*
 * secret — random identifiers, constant-time comparison and wiping.
 *
 * Room ids (128 bits), invite secrets (256 bits, made by clients or the CLI)
 * and host credentials (256 bits) are all drawn from OpenSSL's CSPRNG and
 * written as unpadded base64url (RFC 4648 §5).
 */
#ifndef CONCLAVE_UTIL_SECRET_H
#define CONCLAVE_UTIL_SECRET_H

#include <stddef.h>
#include <stdint.h>

enum {
	ROOM_ID_BYTES = 16,      /* DESIGN.md §4: 128-bit room id */
	INVITE_BYTES = 32,       /* DESIGN.md §4: 256-bit invite secret */
	HOST_CRED_BYTES = 32,    /* 256-bit host credential */
	HASH_BYTES = 32,         /* SHA-256 */
	/* base64url text length of n bytes, unpadded, plus NUL */
	ROOM_ID_CHARS = 22,
	SECRET_CHARS = 43,
};

#define B64URL_LEN(n) (((n) * 4 + 2) / 3)

/* Fills p with n bytes from the CSPRNG. Returns 0 or -EIO. */
int secret_random(void *p, size_t n);

/* Constant-time equality of two n-byte strings: 1 if equal, else 0. */
int secret_equal(const void *a, const void *b, size_t n);

/* Overwrites n bytes in a way the compiler cannot elide. */
void secret_wipe(void *p, size_t n);

/* SHA-256 of p into out[HASH_BYTES]. Returns 0 or -EIO. */
int secret_sha256(const void *p, size_t n, uint8_t out[HASH_BYTES]);

/* Writes unpadded base64url of in[0..n) to out (needs B64URL_LEN(n)+1). */
void b64url_encode(const uint8_t *in, size_t n, char *out);

/* Decodes exactly `n` bytes from unpadded base64url text `in` (strlen must be
 * B64URL_LEN(n)); returns 0 or -EINVAL on any other length or character.
 * Canonical form only: unused trailing bits must be zero. */
int b64url_decode(const char *in, uint8_t *out, size_t n);

/* Decodes unpadded base64url text of any length into out[cap]; writes
 * *outlen. Returns 0, -EINVAL (bad text) or -ENOSPC. */
int b64url_decode_any(const char *in, size_t inlen, uint8_t *out, size_t cap,
		      size_t *outlen);

/* A fresh random id of `nbytes` bytes as base64url text into out. */
int secret_random_b64url(size_t nbytes, char *out);

#endif
