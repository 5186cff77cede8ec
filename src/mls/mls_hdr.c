/* mls_hdr — parse the clear header of an MLS message (see mls_hdr.h). */
#include "mls/mls_hdr.h"

#include <errno.h>

#include "util/buf.h"

int mls_varint(struct cur *c, uint64_t *v)
{
	uint8_t b0, b;
	uint64_t x;
	int n;

	if (cur_u8(c, &b0))
		return -EBADMSG;
	switch (b0 >> 6) {
	case 0:
		n = 0;
		break;
	case 1:
		n = 1;
		break;
	case 2:
		n = 3;
		break;
	default:
		return -EBADMSG;   /* 0b11 is invalid in MLS */
	}
	x = b0 & 0x3f;
	for (int i = 0; i < n; i++) {
		if (cur_u8(c, &b))
			return -EBADMSG;
		x = (x << 8) | b;
	}
	/* minimum encoding only (RFC 9420 §2.1.2) */
	if ((n == 1 && x < 64) || (n == 3 && x < 16384))
		return -EBADMSG;
	*v = x;
	return 0;
}

/* opaque field<V>: a varint length, then that many bytes */
static int opaque_v(struct cur *c, const uint8_t **p, size_t *len)
{
	uint64_t n;

	if (mls_varint(c, &n) || n > cur_left(c) ||
	    cur_bytes(c, (size_t)n, p))
		return -EBADMSG;
	*len = (size_t)n;
	return 0;
}

int mls_hdr_parse(const uint8_t *p, size_t len, struct mls_hdr *out)
{
	struct cur c = cur_make(p, len);
	struct mls_hdr h = { 0 };
	const uint8_t *ad;
	size_t adlen;
	uint16_t version;
	uint8_t st;

	if (cur_u16(&c, &version) || version != MLS_VERSION_10 ||
	    cur_u16(&c, &h.wire_format))
		return -EBADMSG;
	switch (h.wire_format) {
	case MLS_WF_PUBLIC:
		/* FramedContent: group_id, epoch, sender, authenticated_data,
		 * content_type (RFC 9420 §6) */
		if (opaque_v(&c, &h.group_id, &h.group_id_len) ||
		    cur_u64(&c, &h.epoch) || cur_u8(&c, &st))
			return -EBADMSG;
		h.sender_type = st;
		if (st == MLS_SENDER_MEMBER || st == MLS_SENDER_EXTERNAL) {
			if (cur_u32(&c, &h.sender_leaf))
				return -EBADMSG;
		} else if (st != MLS_SENDER_NEW_MEMBER_PROPOSAL &&
			   st != MLS_SENDER_NEW_MEMBER_COMMIT) {
			return -EBADMSG;
		}
		if (opaque_v(&c, &ad, &adlen) || cur_u8(&c, &h.content_type))
			return -EBADMSG;
		break;
	case MLS_WF_PRIVATE:
		/* PrivateMessage: group_id, epoch, content_type, ... (§6.3) */
		if (opaque_v(&c, &h.group_id, &h.group_id_len) ||
		    cur_u64(&c, &h.epoch) || cur_u8(&c, &h.content_type))
			return -EBADMSG;
		break;
	case MLS_WF_WELCOME:
	case MLS_WF_GROUP_INFO:
	case MLS_WF_KEY_PACKAGE:
		*out = h;
		return 0;
	default:
		return -EBADMSG;
	}
	if (h.group_id_len == 0 || h.group_id_len > MLS_GROUP_ID_MAX ||
	    h.content_type < MLS_CT_APPLICATION || h.content_type > MLS_CT_COMMIT)
		return -EBADMSG;
	*out = h;
	return 0;
}
