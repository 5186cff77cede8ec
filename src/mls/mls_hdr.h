/*
 * mls_hdr — the clear header of an MLS message (RFC 9420 §6), which is all
 * the delivery service may read.
 *
 * The server orders commits and routes messages without any MLS key: it
 * needs the wire format, the group id, the epoch and (for PublicMessage and
 * PrivateMessage) the content type. It never looks further: proposals,
 * commits and application data stay opaque. Values point into the
 * caller's buffer; nothing is copied or allocated.
 */
#ifndef CONCLAVE_MLS_HDR_H
#define CONCLAVE_MLS_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MLS_VERSION_10 = 1,             /* RFC 9420 §6: mls10 */
	MLS_GROUP_ID_MAX = 255,         /* bytes of group id we accept */
};

/* RFC 9420 §6, WireFormat */
enum mls_wire_format {
	MLS_WF_PUBLIC = 1,
	MLS_WF_PRIVATE = 2,
	MLS_WF_WELCOME = 3,
	MLS_WF_GROUP_INFO = 4,
	MLS_WF_KEY_PACKAGE = 5,
};

/* RFC 9420 §6, ContentType */
enum mls_content_type {
	MLS_CT_APPLICATION = 1,
	MLS_CT_PROPOSAL = 2,
	MLS_CT_COMMIT = 3,
};

/* RFC 9420 §6.1, SenderType */
enum mls_sender_type {
	MLS_SENDER_MEMBER = 1,
	MLS_SENDER_EXTERNAL = 2,
	MLS_SENDER_NEW_MEMBER_PROPOSAL = 3,
	MLS_SENDER_NEW_MEMBER_COMMIT = 4,
};

struct mls_hdr {
	uint16_t wire_format;
	/* PublicMessage and PrivateMessage only: */
	const uint8_t *group_id;
	size_t group_id_len;
	uint64_t epoch;
	uint8_t content_type;
	uint8_t sender_type;            /* PublicMessage only; 0 otherwise */
	uint32_t sender_leaf;           /* for MLS_SENDER_MEMBER */
};

/*
 * Parses the clear header of an MLSMessage in p[0..len). Accepts version
 * mls10 and every wire format; for PublicMessage and PrivateMessage also
 * the group id, epoch, content type (and sender of a PublicMessage).
 * Returns 0 or -EBADMSG; *h is written only on success.
 */
int mls_hdr_parse(const uint8_t *p, size_t len, struct mls_hdr *h);

/* Reads an MLS variable-length integer (RFC 9420 §2.1.2). 0 or -EBADMSG. */
struct cur;
int mls_varint(struct cur *c, uint64_t *v);

#endif
