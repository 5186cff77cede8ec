/*
 * srtp_gcm — AEAD_AES_128_GCM SRTP/SRTCP on Nettle's GCM (see srtp_gcm.h).
 *
 * Packet layouts (RFC 7714):
 *   SRTP   header (AAD) | ciphertext of the payload | tag(16)        §8
 *   SRTCP  first 8 octets (AAD) | ciphertext | tag(16) | E+index(4)  §9, §17
 * The ESRTCP word is also part of the SRTCP AAD (§9.2, §17). With E = 0
 * (allowed only inbound) the whole packet is AAD and nothing is encrypted
 * (§9.3). No MKI.
 *
 * The IV is the session salt XOR a 12-octet block (§8.1, §9.1):
 *   SRTP   00 00 | SSRC | ROC | SEQ
 *   SRTCP  00 00 | SSRC | 00 00 | 0 + 31-bit SRTCP index
 *
 * Index estimation follows RFC 3711 §3.3.1 (and libsrtp2, so both sides
 * agree on rollovers): the ROC is guessed from the highest index seen, a
 * stream starts at ROC 0, and while the highest index is below 2^15 the
 * ROC cannot be guessed downwards. The same estimate runs on send, so a
 * sender that rewinds its sequence numbers is refused instead of reusing
 * a nonce.
 *
 * Decryption happens in place before the tag is checked (Nettle's GCM
 * hashes and decrypts in one pass; the tag is compared in constant time
 * after it); on failure the caller drops the garbled buffer
 * (srtp_session.h says so).
 */
#include "srtp/srtp_gcm.h"

#include <errno.h>
#include <string.h>

#include <nettle/gcm.h>
#include <openssl/evp.h>

#include "util/secret.h"

enum {
	/* RFC 3711 §4.3.1 / §4.3.2 key derivation labels */
	LABEL_RTP_KEY = 0x00,
	LABEL_RTP_SALT = 0x02,
	LABEL_RTCP_KEY = 0x03,
	LABEL_RTCP_SALT = 0x05,
	/* RFC 3711 §4.3.1: the 112-bit master salt, of which the 96-bit GCM
	 * salt is the leading part (RFC 7714 §11), XOR key_id = label || r
	 * aligned at its low end: the label is octet 7. */
	KDF_LABEL_OFF = 7,
	AES_BLOCK = 16,
	RTP_SEQ_OFF = 2,             /* RFC 3550 §5.1 */
	RTCP_AAD_LEN = 8,            /* RFC 7714 §9.2: header and sender SSRC */
	ESRTCP_E_BIT = 0x80,         /* RFC 3711 §3.4: top bit of the word */
	SEQ_HALF = 0x8000,           /* RFC 3711 §3.3.1: 2^15 */
};

#define SRTCP_INDEX_MAX 0x7fffffffu   /* RFC 3711 §3.4: 31-bit index */
#define ROC_MAX 0xffffffffu           /* RFC 3711 §3.3.1: 32-bit ROC */

/* ---- key derivation ----------------------------------------------------- */

/* RFC 3711 §4.3.3 AES-CM PRF: AES-CTR keystream under the master key with
 * IV = (master salt XOR key_id) * 2^16, r = 0 (kdr = 0). */
static int kdf(const uint8_t *mkey, const uint8_t *msalt, uint8_t label,
	       uint8_t *out, size_t n)
{
	uint8_t iv[AES_BLOCK] = { 0 };
	uint8_t zero[AES_BLOCK] = { 0 };
	EVP_CIPHER_CTX *c;
	int outl, ok;

	if (n > sizeof(zero))
		return -EINVAL;
	memcpy(iv, msalt, SRTP_GCM_SALT_LEN);
	iv[KDF_LABEL_OFF] ^= label;
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		return -ENOMEM;
	ok = EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, mkey, iv) == 1 &&
	     EVP_EncryptUpdate(c, out, &outl, zero, (int)n) == 1 &&
	     (size_t)outl == n;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

void srtp_gcm__dir_keys(struct srtp_gcm_dir *d, const uint8_t *rtp_key,
			const uint8_t *rtp_salt, const uint8_t *rtcp_key,
			const uint8_t *rtcp_salt)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->rtp_salt, rtp_salt, SRTP_GCM_SALT_LEN);
	memcpy(d->rtcp_salt, rtcp_salt, SRTP_GCM_SALT_LEN);
	/* GCM encrypts in both directions: one key schedule serves either */
	gcm_aes128_set_key(&d->rtp, rtp_key);
	gcm_aes128_set_key(&d->rtcp, rtcp_key);
}

int srtp_gcm__dir_init(struct srtp_gcm_dir *d, const uint8_t *master_key,
		       const uint8_t *master_salt)
{
	uint8_t k[2][SRTP_GCM_KEY_LEN], salt[2][SRTP_GCM_SALT_LEN];
	int err;

	memset(d, 0, sizeof(*d));
	err = kdf(master_key, master_salt, LABEL_RTP_KEY, k[0], SRTP_GCM_KEY_LEN);
	if (err == 0)
		err = kdf(master_key, master_salt, LABEL_RTP_SALT, salt[0],
			  SRTP_GCM_SALT_LEN);
	if (err == 0)
		err = kdf(master_key, master_salt, LABEL_RTCP_KEY, k[1],
			  SRTP_GCM_KEY_LEN);
	if (err == 0)
		err = kdf(master_key, master_salt, LABEL_RTCP_SALT, salt[1],
			  SRTP_GCM_SALT_LEN);
	if (err == 0)
		srtp_gcm__dir_keys(d, k[0], salt[0], k[1], salt[1]);
	secret_wipe(k, sizeof(k));
	secret_wipe(salt, sizeof(salt));
	return err;
}

void srtp_gcm__dir_free(struct srtp_gcm_dir *d)
{
	/* the key schedules and GHASH keys with the salts */
	secret_wipe(d, sizeof(*d));
}

/* ---- replay windows (RFC 6479) ------------------------------------------ */

/* May idx be used: ahead of the top, or inside the window and unseen? */
static bool win_fresh(const struct srtp_gcm_window *w, const uint64_t *ring,
		      size_t blocks, size_t window, uint64_t idx)
{
	if (!w->any || idx > w->top)
		return true;
	if (w->top - idx >= window)
		return false;
	return (ring[(idx / 64) % blocks] & (1ull << (idx % 64))) == 0;
}

/* Marks idx seen; the blocks the top moves over are cleared first. */
static void win_mark(struct srtp_gcm_window *w, uint64_t *ring, size_t blocks,
		     uint64_t idx)
{
	uint64_t b;

	if (!w->any) {
		memset(ring, 0, blocks * sizeof(*ring));
		w->any = true;
		w->top = idx;
	} else if (idx > w->top) {
		if (idx / 64 - w->top / 64 >= blocks) {
			memset(ring, 0, blocks * sizeof(*ring));
		} else {
			for (b = w->top / 64 + 1; b <= idx / 64; b++)
				ring[b % blocks] = 0;
		}
		w->top = idx;
	}
	ring[(idx / 64) % blocks] |= 1ull << (idx % 64);
}

/* RFC 3711 §3.3.1: the 48-bit index of sequence number seq. Returns
 * -EKEYEXPIRED if it would need a ROC past 2^32 - 1. */
static int rtp_index(const struct srtp_gcm_stream *st, uint16_t seq,
		     uint64_t *idx)
{
	uint32_t roc, v;
	uint16_t s_l;

	if (!st->rtp.any) {
		*idx = seq;   /* a new stream starts at ROC 0 */
		return 0;
	}
	roc = (uint32_t)(st->rtp.top >> 16);
	s_l = (uint16_t)st->rtp.top;
	v = roc;
	if (s_l < SEQ_HALF) {
		if (seq > s_l && seq - s_l > SEQ_HALF && roc > 0)
			v = roc - 1;
	} else if (s_l - SEQ_HALF > seq) {
		if (roc == ROC_MAX)
			return -EKEYEXPIRED;
		v = roc + 1;
	}
	*idx = ((uint64_t)v << 16) | seq;
	return 0;
}

/* ---- IVs ---------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* RFC 7714 §8.1: salt XOR 00 00 | SSRC | ROC | SEQ, where ROC and SEQ
 * are the high 32 and low 16 bits of the 48-bit index. */
static void iv_rtp(uint8_t *iv, const uint8_t *salt, uint32_t ssrc,
		   uint64_t idx)
{
	size_t i;

	iv[0] = 0;
	iv[1] = 0;
	put32(iv + 2, ssrc);
	put32(iv + 6, (uint32_t)(idx >> 16));
	iv[10] = (uint8_t)(idx >> 8);
	iv[11] = (uint8_t)idx;
	for (i = 0; i < SRTP_GCM_SALT_LEN; i++)
		iv[i] ^= salt[i];
}

/* RFC 7714 §9.1: salt XOR 00 00 | SSRC | 00 00 | 0 + SRTCP index. */
static void iv_rtcp(uint8_t *iv, const uint8_t *salt, uint32_t ssrc,
		    uint32_t index)
{
	size_t i;

	iv[0] = 0;
	iv[1] = 0;
	put32(iv + 2, ssrc);
	iv[6] = 0;
	iv[7] = 0;
	put32(iv + 8, index & SRTCP_INDEX_MAX);
	for (i = 0; i < SRTP_GCM_SALT_LEN; i++)
		iv[i] ^= salt[i];
}

/* ---- AEAD --------------------------------------------------------------- */

/* Feeds the AAD, given in up to two pieces, to the GCM context. Nettle
 * wants every update but the last to be whole blocks, so the tail of the
 * first piece (SRTCP: its 8 octets) goes with the second. */
static void aad(struct gcm_aes128_ctx *c, const uint8_t *aad1, size_t n1,
		const uint8_t *aad2, size_t n2)
{
	uint8_t tail[GCM_BLOCK_SIZE + SRTP_GCM_ESRTCP_LEN];
	size_t whole = n1 - n1 % GCM_BLOCK_SIZE;

	if (n2 == 0) {
		gcm_aes128_update(c, n1, aad1);
		return;
	}
	/* only SRTCP has two pieces, the second its ESRTCP word */
	if (whole > 0)
		gcm_aes128_update(c, whole, aad1);
	memcpy(tail, aad1 + whole, n1 - whole);
	memcpy(tail + (n1 - whole), aad2, n2);
	gcm_aes128_update(c, n1 - whole + n2, tail);
}

/* Encrypts p[0..n) in place after the AAD (up to two pieces), writes the
 * tag to tag. */
static void seal(struct gcm_aes128_ctx *c, const uint8_t *iv,
		 const uint8_t *aad1, size_t n1, const uint8_t *aad2, size_t n2,
		 uint8_t *p, size_t n, uint8_t *tag)
{
	gcm_aes128_set_iv(c, SRTP_GCM_SALT_LEN, iv);
	aad(c, aad1, n1, aad2, n2);
	gcm_aes128_encrypt(c, n, p, p);
	gcm_aes128_digest(c, SRTP_GCM_TAG_LEN, tag);
}

/* Decrypts p[0..n) in place and checks the tag: 0 or -EBADMSG. */
static int open_(struct gcm_aes128_ctx *c, const uint8_t *iv,
		 const uint8_t *aad1, size_t n1, const uint8_t *aad2, size_t n2,
		 uint8_t *p, size_t n, const uint8_t *tag)
{
	uint8_t t[SRTP_GCM_TAG_LEN];
	int ok;

	gcm_aes128_set_iv(c, SRTP_GCM_SALT_LEN, iv);
	aad(c, aad1, n1, aad2, n2);
	gcm_aes128_decrypt(c, n, p, p);
	gcm_aes128_digest(c, sizeof(t), t);
	ok = secret_equal(t, tag, sizeof(t));
	secret_wipe(t, sizeof(t));
	return ok ? 0 : -EBADMSG;
}

/* ---- SRTP --------------------------------------------------------------- */

int srtp_gcm__protect_rtp(struct srtp_gcm_dir *d, struct srtp_gcm_stream *st,
			  uint8_t *buf, size_t *len, size_t hdr, uint32_t ssrc)
{
	uint16_t seq = (uint16_t)(buf[RTP_SEQ_OFF] << 8 | buf[RTP_SEQ_OFF + 1]);
	uint8_t iv[SRTP_GCM_SALT_LEN];
	uint64_t idx;
	int err;

	err = rtp_index(st, seq, &idx);
	if (err < 0)
		return err;
	if (!win_fresh(&st->rtp, st->rtp_ring, SRTP_GCM_RTP_BLOCKS,
		       SRTP_GCM_RTP_WINDOW, idx))
		return -EALREADY;
	iv_rtp(iv, d->rtp_salt, ssrc, idx);
	seal(&d->rtp, iv, buf, hdr, NULL, 0, buf + hdr, *len - hdr,
	     buf + *len);
	win_mark(&st->rtp, st->rtp_ring, SRTP_GCM_RTP_BLOCKS, idx);
	*len += SRTP_GCM_TAG_LEN;
	return 0;
}

int srtp_gcm__unprotect_rtp(struct srtp_gcm_dir *d, struct srtp_gcm_stream *st,
			    uint8_t *buf, size_t *len, size_t hdr, uint32_t ssrc)
{
	uint16_t seq = (uint16_t)(buf[RTP_SEQ_OFF] << 8 | buf[RTP_SEQ_OFF + 1]);
	uint8_t iv[SRTP_GCM_SALT_LEN];
	size_t clen;
	uint64_t idx;
	int err;

	if (*len < hdr + SRTP_GCM_TAG_LEN)
		return -EBADMSG;
	clen = *len - hdr - SRTP_GCM_TAG_LEN;
	err = rtp_index(st, seq, &idx);
	if (err < 0)
		return err;
	if (!win_fresh(&st->rtp, st->rtp_ring, SRTP_GCM_RTP_BLOCKS,
		       SRTP_GCM_RTP_WINDOW, idx))
		return -EALREADY;
	iv_rtp(iv, d->rtp_salt, ssrc, idx);
	err = open_(&d->rtp, iv, buf, hdr, NULL, 0, buf + hdr, clen,
		    buf + hdr + clen);
	if (err < 0)
		return err;
	win_mark(&st->rtp, st->rtp_ring, SRTP_GCM_RTP_BLOCKS, idx);
	*len = hdr + clen;
	return 0;
}

/* ---- SRTCP -------------------------------------------------------------- */

int srtp_gcm__protect_rtcp(struct srtp_gcm_dir *d, struct srtp_gcm_stream *st,
			   uint8_t *buf, size_t *len, uint32_t ssrc)
{
	uint8_t iv[SRTP_GCM_SALT_LEN], word[SRTP_GCM_ESRTCP_LEN];
	size_t n = *len;
	uint32_t index;

	if (n < RTCP_AAD_LEN)
		return -EBADMSG;
	if (st->rtcp_sent == SRTCP_INDEX_MAX)
		return -EKEYEXPIRED;
	index = st->rtcp_sent + 1;   /* the first SRTCP index is 1, as libsrtp2 */
	put32(word, index);
	word[0] |= ESRTCP_E_BIT;
	iv_rtcp(iv, d->rtcp_salt, ssrc, index);
	seal(&d->rtcp, iv, buf, RTCP_AAD_LEN, word, sizeof(word),
	     buf + RTCP_AAD_LEN, n - RTCP_AAD_LEN, buf + n);
	memcpy(buf + n + SRTP_GCM_TAG_LEN, word, sizeof(word));
	st->rtcp_sent = index;
	*len = n + SRTP_GCM_TAG_LEN + SRTP_GCM_ESRTCP_LEN;
	return 0;
}

int srtp_gcm__unprotect_rtcp(struct srtp_gcm_dir *d, struct srtp_gcm_stream *st,
			     uint8_t *buf, size_t *len, uint32_t ssrc)
{
	uint8_t iv[SRTP_GCM_SALT_LEN];
	const uint8_t *word, *tag;
	uint32_t index;
	size_t body;
	bool enc;
	int err;

	if (*len < RTCP_AAD_LEN + SRTP_GCM_TAG_LEN + SRTP_GCM_ESRTCP_LEN)
		return -EBADMSG;
	body = *len - SRTP_GCM_TAG_LEN - SRTP_GCM_ESRTCP_LEN;
	tag = buf + body;
	word = tag + SRTP_GCM_TAG_LEN;
	enc = (word[0] & ESRTCP_E_BIT) != 0;
	index = get32(word) & SRTCP_INDEX_MAX;
	if (!win_fresh(&st->rtcp, st->rtcp_ring, SRTP_GCM_RTCP_BLOCKS,
		       SRTP_GCM_RTCP_WINDOW, index))
		return -EALREADY;
	iv_rtcp(iv, d->rtcp_salt, ssrc, index);
	if (enc)
		err = open_(&d->rtcp, iv, buf, RTCP_AAD_LEN, word,
			    SRTP_GCM_ESRTCP_LEN, buf + RTCP_AAD_LEN,
			    body - RTCP_AAD_LEN, tag);
	else   /* RFC 7714 §9.3: authenticated only, all of it AAD */
		err = open_(&d->rtcp, iv, buf, body, word, SRTP_GCM_ESRTCP_LEN,
			    buf + body, 0, tag);
	if (err < 0)
		return err;
	win_mark(&st->rtcp, st->rtcp_ring, SRTP_GCM_RTCP_BLOCKS, index);
	*len = body;
	return 0;
}
