/*
 * stun — STUN messages for an ICE-lite agent (RFC 8489, RFC 5389, RFC 8445).
 *
 * Browsers send STUN Binding requests to the media port with ICE short-term
 * credentials: USERNAME "serverufrag:clientufrag", MESSAGE-INTEGRITY keyed
 * with the server's ICE password, FINGERPRINT. The server checks them and
 * answers a Binding success response carrying XOR-MAPPED-ADDRESS,
 * MESSAGE-INTEGRITY and FINGERPRINT, or an error response (400, 401, 420,
 * 487). Tests and load generators build the requests with the same module.
 *
 * What this module is: a decoder that fills a caller-provided value struct
 * with pointers into the packet (no copy, no allocation), the two integrity
 * checks, and writers into caller buffers. What it is not: a transaction
 * layer (no retransmission, no state), a TURN implementation, or a
 * long-term-credential server (it can verify a long-term MESSAGE-INTEGRITY
 * if the caller derives the key, which the RFC 5769 §2.4 test does).
 *
 * Decoding rules enforced (RFC 8489 §5, §14, §14.5, §14.7):
 *   - 20-byte header, top two bits zero, magic cookie, length a multiple of
 *     4 and equal to the datagram length minus the header;
 *   - every attribute fits, and is padded to a 4-byte boundary;
 *   - attributes after MESSAGE-INTEGRITY other than FINGERPRINT (and
 *     MESSAGE-INTEGRITY-SHA256) are ignored, as §14.5 requires: they are
 *     walked for framing but never recorded, so nothing unauthenticated can
 *     ride along after the MAC;
 *   - FINGERPRINT must be the last attribute; anything after it is an error;
 *   - at most STUN_MAX_ATTRS attributes;
 *   - known attributes with a wrong length are errors; for a repeated
 *     attribute only the first occurrence counts (§14).
 */
#ifndef CONCLAVE_STUN_STUN_H
#define CONCLAVE_STUN_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- wire constants ---------------------------------------------------- */

#define STUN_MAGIC_COOKIE 0x2112A442u  /* RFC 8489 §5: fixed magic cookie */
#define STUN_FINGERPRINT_XOR 0x5354554Eu /* RFC 8489 §14.7: CRC-32 ^ "STUN" */

enum {
	STUN_HEADER_LEN = 20,     /* RFC 8489 §5: type, length, cookie, tid */
	STUN_TID_LEN = 12,        /* RFC 8489 §5: 96-bit transaction id */
	STUN_ATTR_HDR_LEN = 4,    /* RFC 8489 §14: 16-bit type, 16-bit length */
	STUN_ATTR_ALIGN = 4,      /* RFC 8489 §14: values padded to 32 bits */
	STUN_HMAC_SHA1_LEN = 20,  /* RFC 8489 §14.5: MESSAGE-INTEGRITY value */
	STUN_FINGERPRINT_LEN = 4, /* RFC 8489 §14.7: CRC-32 value */
	STUN_PRIORITY_LEN = 4,    /* RFC 8445 §16.1: PRIORITY is 32 bits */
	STUN_TIEBREAKER_LEN = 8,  /* RFC 8445 §16.1: ICE-CONTROLL(ED|ING) 64 bits */
	STUN_XADDR4_LEN = 8,      /* RFC 8489 §14.2: family, port, IPv4 */
	STUN_XADDR6_LEN = 20,     /* RFC 8489 §14.2: family, port, IPv6 */
	STUN_ERROR_CODE_HDR = 4,  /* RFC 8489 §14.8: reserved, class, number */
	STUN_MAX_BODY = 0xFFFF,   /* RFC 8489 §5: the length field is 16 bits */
};

/* RFC 8489 §5: the two-bit class in the message type. */
enum stun_class {
	STUN_CLASS_REQUEST = 0,
	STUN_CLASS_INDICATION = 1,
	STUN_CLASS_SUCCESS = 2,
	STUN_CLASS_ERROR = 3,
};

/* RFC 8489 §18.2: the one method conclave uses. */
enum { STUN_METHOD_BINDING = 0x001 };

/* RFC 8489 §5 / §6: Binding message types, class bits interleaved. */
enum {
	STUN_BINDING_REQUEST = 0x0001,
	STUN_BINDING_INDICATION = 0x0011,
	STUN_BINDING_SUCCESS = 0x0101,
	STUN_BINDING_ERROR = 0x0111,
};

/* Attribute types. 0x0000-0x7FFF are comprehension-required,
 * 0x8000-0xFFFF comprehension-optional (RFC 8489 §14, §18.3). */
enum {
	STUN_ATTR_MAPPED_ADDRESS = 0x0001,          /* RFC 8489 §14.1 */
	STUN_ATTR_USERNAME = 0x0006,                /* RFC 8489 §14.3 */
	STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,       /* RFC 8489 §14.5 */
	STUN_ATTR_ERROR_CODE = 0x0009,              /* RFC 8489 §14.8 */
	STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,      /* RFC 8489 §14.13 */
	STUN_ATTR_REALM = 0x0014,                   /* RFC 8489 §14.9 */
	STUN_ATTR_NONCE = 0x0015,                   /* RFC 8489 §14.10 */
	STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C, /* RFC 8489 §14.6 */
	STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,      /* RFC 8489 §14.12 */
	STUN_ATTR_USERHASH = 0x001E,                /* RFC 8489 §14.4 */
	STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,      /* RFC 8489 §14.2 */
	STUN_ATTR_PRIORITY = 0x0024,                /* RFC 8445 §16.1 */
	STUN_ATTR_USE_CANDIDATE = 0x0025,           /* RFC 8445 §16.1 */
	STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,     /* RFC 8489 §14.11 */
	STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,        /* RFC 8489 §14.16 */
	STUN_ATTR_SOFTWARE = 0x8022,                /* RFC 8489 §14.14 */
	STUN_ATTR_ALTERNATE_SERVER = 0x8023,        /* RFC 8489 §14.15 */
	STUN_ATTR_FINGERPRINT = 0x8028,             /* RFC 8489 §14.7 */
	STUN_ATTR_ICE_CONTROLLED = 0x8029,          /* RFC 8445 §16.1 */
	STUN_ATTR_ICE_CONTROLLING = 0x802A,         /* RFC 8445 §16.1 */
	STUN_ATTR_COMPREHENSION_OPTIONAL = 0x8000,  /* RFC 8489 §14: range start */
};

/* RFC 8489 §14.1: address families in (XOR-)MAPPED-ADDRESS. */
enum { STUN_FAMILY_IPV4 = 0x01, STUN_FAMILY_IPV6 = 0x02 };

/* Error codes (RFC 8489 §14.8; 487 from RFC 8445 §7.3.1.1). */
enum {
	STUN_ERR_TRY_ALTERNATE = 300,
	STUN_ERR_BAD_REQUEST = 400,
	STUN_ERR_UNAUTHORIZED = 401,
	STUN_ERR_FORBIDDEN = 403,          /* RFC 8656 §18 (TURN), listed for logs */
	STUN_ERR_UNKNOWN_ATTRIBUTE = 420,
	STUN_ERR_STALE_NONCE = 438,
	STUN_ERR_ROLE_CONFLICT = 487,
	STUN_ERR_SERVER_ERROR = 500,
	STUN_ERR_MIN = 300,                /* RFC 8489 §14.8: class 3..6 */
	STUN_ERR_MAX = 699,
};

/* Limits. */
enum {
	/* Attributes walked per message before the decoder gives up. A browser
	 * check carries about 7; 32 leaves room without letting a stranger
	 * make us walk thousands of empty attributes. (conclave choice) */
	STUN_MAX_ATTRS = 32,
	/* Unknown comprehension-required types recorded for a 420 answer. */
	STUN_MAX_UNKNOWN = 8,
	/* RFC 5389 §15.3: USERNAME is "less than 513 bytes" (RFC 8489 §14.3
	 * tightens this to 509 for senders; we accept the older bound). */
	STUN_MAX_USERNAME_LEN = 512,
	/* RFC 8489 §14.8/§14.9/§14.10/§14.14: reason phrase, REALM, NONCE and
	 * SOFTWARE are under 128 characters: up to 763 bytes when decoding,
	 * up to 509 when encoding. */
	STUN_MAX_TEXT_LEN = 763,
	STUN_MAX_TEXT_WRITE_LEN = 509,
};

/* ---- the decoded message ----------------------------------------------- */

/* A run of bytes inside the decoded packet (not NUL-terminated). */
struct stun_str {
	const uint8_t *p;
	size_t len;
};

/*
 * A decoded STUN message. Value type filled by stun_decode(); every
 * stun_str points into the packet that was decoded, so the packet must
 * outlive the struct. Nothing here is owned or freed. A field is meaningful
 * only when its has_ flag is set.
 */
struct stun_msg {
	uint16_t type;              /* raw 14-bit message type */
	uint16_t method;            /* 12-bit method, e.g. STUN_METHOD_BINDING */
	enum stun_class cls;
	uint8_t tid[STUN_TID_LEN];  /* transaction id (copied: 12 bytes) */
	size_t len;                 /* whole message, header included */
	size_t n_attrs;             /* attributes walked, ignored ones included */

	bool has_username;
	struct stun_str username;

	bool has_priority;
	uint32_t priority;

	bool use_candidate;

	bool ice_controlling;       /* ICE-CONTROLLING present */
	bool ice_controlled;        /* ICE-CONTROLLED present */
	uint64_t tiebreaker;        /* from the first of the two that appeared */

	bool has_xor_mapped;
	struct sockaddr_storage xor_mapped; /* AF_INET or AF_INET6, port set */

	bool has_error;
	uint16_t error_code;        /* 300..699 */
	struct stun_str reason;

	bool has_software;
	struct stun_str software;

	bool has_realm;
	struct stun_str realm;
	bool has_nonce;
	struct stun_str nonce;

	bool has_integrity;
	size_t integrity_off;       /* offset of the MESSAGE-INTEGRITY header */
	bool has_fingerprint;
	size_t fingerprint_off;     /* offset of the FINGERPRINT header */

	/* Comprehension-required types we do not understand (first
	 * STUN_MAX_UNKNOWN recorded; n_unknown counts only those). */
	size_t n_unknown;
	uint16_t unknown[STUN_MAX_UNKNOWN];
};

/* Message type from method and class (RFC 8489 §5, figure 3). */
static inline uint16_t stun_type(uint16_t method, enum stun_class cls)
{
	unsigned c = (unsigned)cls;
	return (uint16_t)((method & 0x000Fu) | ((method & 0x0070u) << 1) |
			  ((method & 0x0F80u) << 2) | ((c & 1u) << 4) |
			  ((c & 2u) << 7));
}

/* ---- decoding and checks ----------------------------------------------- */

/*
 * Cheap test whether a UDP datagram is a STUN message (for demultiplexing
 * against DTLS and RTP, RFC 7983): at least a header, the first two bits
 * zero, the magic cookie, and a length field that is a multiple of 4 and
 * equals len minus the header. Reads nothing past len.
 */
bool stun_is_stun(const uint8_t *p, size_t len);

/*
 * Decodes the STUN message p[0..len) into *out. No allocation; out's
 * stun_str fields point into p. Returns 0, or -EBADMSG for anything
 * malformed (see the rules at the top of this file); *out is written only
 * on success. Integrity and fingerprint are not checked here: call
 * stun_check_integrity() and stun_check_fingerprint().
 */
int stun_decode(const uint8_t *p, size_t len, struct stun_msg *out);

/*
 * Verifies MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) of the message p
 * that m was decoded from, with key[0..keylen): the ICE password for
 * short-term credentials, MD5(username ":" realm ":" password) for long-term
 * ones. The MAC covers the message up to the attribute, with the header
 * length set to end just after it. Compares in constant time. Returns 0 if
 * it matches, -EACCES if not or if the message has no MESSAGE-INTEGRITY or
 * the key is empty, -ENOMEM if OpenSSL fails.
 */
int stun_check_integrity(const struct stun_msg *m, const uint8_t *p,
			 const void *key, size_t keylen);

/*
 * Verifies FINGERPRINT (CRC-32 of the message before it, XOR 0x5354554E,
 * RFC 8489 §14.7) of the message p that m was decoded from. Returns 0, or
 * -EBADMSG if it is absent or wrong.
 */
int stun_check_fingerprint(const struct stun_msg *m, const uint8_t *p);

/*
 * Splits an ICE USERNAME "local:remote" (RFC 8445 §7.2.2: on a check this
 * agent receives, the first part is its own ufrag, the second the peer's)
 * at its colon. Both parts must be non-empty and there must be exactly one
 * colon (ufrags are ice-chars, RFC 8839 §5.4). Returns 0 or -EBADMSG; the
 * outputs point into u and are written only on success.
 */
int stun_ice_username_split(struct stun_str u, struct stun_str *local,
			    struct stun_str *remote);

/* ---- writers ------------------------------------------------------------
 * Each writes one whole message into out[0..cap) and stores its length in
 * *outlen. Returns 0, -ENOSPC if cap is too small, -EINVAL for bad
 * arguments (over-long text, unsupported address family, error code out of
 * range, key given with keylen 0), -ENOMEM if OpenSSL fails. On error out
 * may hold partial bytes and *outlen is untouched. Padding is zero (RFC
 * 8489 §14). A NULL key means: no MESSAGE-INTEGRITY. Every message ends with
 * FINGERPRINT (RFC 8445 §7.2.2 requires it on connectivity checks and their
 * responses).
 */

/*
 * Binding success response for transaction tid: SOFTWARE (if software is
 * non-NULL), XOR-MAPPED-ADDRESS of mapped (AF_INET or AF_INET6; an
 * IPv4-mapped IPv6 address is written as IPv4, which is what the peer
 * sent from), MESSAGE-INTEGRITY with key, FINGERPRINT.
 */
int stun_write_binding_success(uint8_t *out, size_t cap,
			       const uint8_t tid[STUN_TID_LEN],
			       const struct sockaddr *mapped,
			       const char *software, const void *key,
			       size_t keylen, size_t *outlen);

/*
 * Binding error response: ERROR-CODE with code (300..699) and reason (NULL
 * picks the standard phrase), MESSAGE-INTEGRITY if key is non-NULL (RFC
 * 8489 §9.1.3: a 400 or 401 answer to a check that failed authentication
 * carries none), FINGERPRINT.
 */
int stun_write_binding_error(uint8_t *out, size_t cap,
			     const uint8_t tid[STUN_TID_LEN], int code,
			     const char *reason, const void *key,
			     size_t keylen, size_t *outlen);

/*
 * 420 Unknown Attribute response: as stun_write_binding_error() with code
 * 420, plus UNKNOWN-ATTRIBUTES listing types[0..n) (RFC 8489 §14.13), n at
 * most STUN_MAX_UNKNOWN — pass m->unknown and m->n_unknown.
 */
int stun_write_binding_error_unknown(uint8_t *out, size_t cap,
				     const uint8_t tid[STUN_TID_LEN],
				     const uint16_t *types, size_t n,
				     const void *key, size_t keylen,
				     size_t *outlen);

/* RFC 8445 §7.1.3: the role a checking agent claims, or none (plain STUN). */
enum stun_ice_role {
	STUN_ROLE_NONE = 0,
	STUN_ROLE_CONTROLLING,
	STUN_ROLE_CONTROLLED,
};

/* What goes into a Binding request. Borrowed by the writer, not kept. */
struct stun_binding_request {
	const uint8_t *tid;        /* STUN_TID_LEN bytes; the caller draws it */
	const char *username;      /* "remoteufrag:localufrag", or NULL */
	uint32_t priority;         /* PRIORITY, 0 = omit */
	enum stun_ice_role role;   /* ICE-CONTROLLING / ICE-CONTROLLED / none */
	uint64_t tiebreaker;       /* with role */
	bool use_candidate;        /* USE-CANDIDATE (controlling agents) */
	const char *software;      /* SOFTWARE, or NULL */
};

/*
 * Binding request. Attributes in the order SOFTWARE, PRIORITY,
 * ICE-CONTROLLED/ICE-CONTROLLING, USE-CANDIDATE, USERNAME,
 * MESSAGE-INTEGRITY (with key, the peer's ICE password), FINGERPRINT —
 * the order of the RFC 5769 §2.1 sample.
 */
int stun_write_binding_request(uint8_t *out, size_t cap,
			       const struct stun_binding_request *req,
			       const void *key, size_t keylen, size_t *outlen);

/* ---- internal: for the RFC 5769 byte-exact tests only -------------------
 * The RFC 5769 §2.1-2.3 samples pad text attributes with spaces (0x20),
 * which RFC 5389 allowed ("any value") and RFC 8489 §14 no longer does. To
 * prove the writers byte-exact against them, these variants take the pad
 * byte; everything else is the same code path as the public writers.
 */
int stun__write_binding_success_pad(uint8_t *out, size_t cap,
				    const uint8_t tid[STUN_TID_LEN],
				    const struct sockaddr *mapped,
				    const char *software, const void *key,
				    size_t keylen, uint8_t pad, size_t *outlen);
int stun__write_binding_request_pad(uint8_t *out, size_t cap,
				    const struct stun_binding_request *req,
				    const void *key, size_t keylen, uint8_t pad,
				    size_t *outlen);

#endif
