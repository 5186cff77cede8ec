/* secret — CSPRNG, constant-time compare, wipe, base64url (see secret.h). */
#include "util/secret.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int secret_random(void *p, size_t n)
{
	if (n > INT32_MAX || RAND_bytes(p, (int)n) != 1)
		return -EIO;
	return 0;
}

int secret_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void secret_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int secret_sha256(const void *p, size_t n, uint8_t out[HASH_BYTES])
{
	unsigned int len = 0;
	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != HASH_BYTES)
		return -EIO;
	return 0;
}

void b64url_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
}

static int b64url_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int b64url_decode(const char *in, uint8_t *out, size_t n)
{
	size_t len = B64URL_LEN(n), i, o = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	if (strnlen(in, len + 1) != len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		v = b64url_val(in[i]);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < n)
				out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (o != n || (acc & ((1u << bits) - 1)) != 0)
		return -EINVAL;
	return 0;
}

int b64url_decode_any(const char *in, size_t inlen, uint8_t *out, size_t cap,
		      size_t *outlen)
{
	size_t i, o = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	if (inlen % 4 == 1)
		return -EINVAL;
	for (i = 0; i < inlen; i++) {
		v = b64url_val(in[i]);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -ENOSPC;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1))
		return -EINVAL;
	*outlen = o;
	return 0;
}

int secret_random_b64url(size_t nbytes, char *out)
{
	uint8_t raw[64];
	int err;

	if (nbytes > sizeof(raw))
		return -EINVAL;
	err = secret_random(raw, nbytes);
	if (err)
		return err;
	b64url_encode(raw, nbytes, out);
	secret_wipe(raw, nbytes);
	return 0;
}
