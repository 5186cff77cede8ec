/*
 * sdp_internal — character classes shared by the parser and the writer.
 *
 * The writer refuses any field the parser would refuse, using the same
 * predicate, so that parse(write(x)) == x holds for every x that writes.
 * Not part of the public API; only src/sdp/ includes this.
 */
#ifndef CONCLAVE_SDP_INTERNAL_H
#define CONCLAVE_SDP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

enum sdp__cls {
	SDP__TOKEN,  /* token-char (RFC 8866 §9): mid, msid ids, kind, alg */
	SDP__PROTO,  /* token-char or '/': "UDP/TLS/RTP/SAVPF" */
	SDP__ICE,    /* ice-char (RFC 8839 §5.1): ALPHA / DIGIT / "+" / "/" */
	SDP__RID,    /* rid-id (RFC 8851 §10): ALPHA / DIGIT / "-" / "_" */
	SDP__VIS,    /* visible ASCII, no space: uri, cname, addresses */
	SDP__TEXT,   /* visible ASCII and inner spaces: fmtp, rid params */
};

/* True if p[0..n) is 1 or more characters of class cls; for SDP__TEXT the
 * first and last character must not be a space. */
bool sdp__chars_ok(const char *p, size_t n, enum sdp__cls cls);

/* True if the NUL-terminated field s (within cap bytes) has between min
 * and cap-1 characters of class cls (min 0 allows ""). */
bool sdp__field_ok(const char *s, size_t cap, size_t min, enum sdp__cls cls);

/* ASCII case-insensitive comparisons, independent of the locale. */
int sdp__lower(int c);
bool sdp__ieq(const char *a, const char *b);
bool sdp__ieqn(const char *a, size_t n, const char *b);

struct sdp_fingerprint;

/* True if fp is empty, or has a lower-case hash token and, for a known
 * hash, the right number of bytes (what the parser accepts). */
bool sdp__fingerprint_ok(const struct sdp_fingerprint *fp);

/* Expected digest length of a hash-func name (RFC 8122 §5), 0 if unknown. */
size_t sdp__hash_len(const char *alg);

#endif
