/*
 * buf — bounds-checked cursors over untrusted bytes, and a small growable
 * output buffer.
 *
 * Every parser of network input in conclave reads through a `struct cur`:
 * a read past the end fails with -EBADMSG instead of trusting a length field
 * found in the packet. The cursor does not own its bytes.
 *
 * `struct wbuf` is for building messages off the hot path (signaling, SDP):
 * it owns its heap storage and frees it with wbuf_free().
 */
#ifndef CONCLAVE_UTIL_BUF_H
#define CONCLAVE_UTIL_BUF_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A read cursor. Value type, meant to be embedded and copied. */
struct cur {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static inline struct cur cur_make(const void *p, size_t len)
{
	struct cur c = { (const uint8_t *)p, len, 0 };
	return c;
}

static inline size_t cur_left(const struct cur *c)
{
	return c->len - c->pos;
}

static inline const uint8_t *cur_ptr(const struct cur *c)
{
	return c->p + c->pos;
}

static inline int cur_skip(struct cur *c, size_t n)
{
	if (n > cur_left(c))
		return -EBADMSG;
	c->pos += n;
	return 0;
}

static inline int cur_u8(struct cur *c, uint8_t *v)
{
	if (cur_left(c) < 1)
		return -EBADMSG;
	*v = c->p[c->pos++];
	return 0;
}

static inline int cur_u16(struct cur *c, uint16_t *v)
{
	if (cur_left(c) < 2)
		return -EBADMSG;
	*v = (uint16_t)((c->p[c->pos] << 8) | c->p[c->pos + 1]);
	c->pos += 2;
	return 0;
}

static inline int cur_u24(struct cur *c, uint32_t *v)
{
	if (cur_left(c) < 3)
		return -EBADMSG;
	*v = ((uint32_t)c->p[c->pos] << 16) | ((uint32_t)c->p[c->pos + 1] << 8) |
	     c->p[c->pos + 2];
	c->pos += 3;
	return 0;
}

static inline int cur_u32(struct cur *c, uint32_t *v)
{
	if (cur_left(c) < 4)
		return -EBADMSG;
	*v = ((uint32_t)c->p[c->pos] << 24) | ((uint32_t)c->p[c->pos + 1] << 16) |
	     ((uint32_t)c->p[c->pos + 2] << 8) | c->p[c->pos + 3];
	c->pos += 4;
	return 0;
}

static inline int cur_u64(struct cur *c, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;
	if (cur_left(c) < 8 || cur_u32(c, &hi) || cur_u32(c, &lo))
		return -EBADMSG;
	*v = ((uint64_t)hi << 32) | lo;
	return 0;
}

/* Points *out at the next n bytes (no copy) and advances. */
static inline int cur_bytes(struct cur *c, size_t n, const uint8_t **out)
{
	if (n > cur_left(c))
		return -EBADMSG;
	*out = c->p + c->pos;
	c->pos += n;
	return 0;
}

/* Big-endian stores into a caller-sized buffer (caller checks room). */
static inline void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

/* A growable byte buffer for building text or binary messages. */
struct wbuf {
	char *data;    /* owned; NUL-terminated while err == 0 */
	size_t len;
	size_t cap;
	int err;       /* sticky: first failure (-ENOMEM, -E2BIG) */
	size_t max;    /* 0 = unlimited */
};

void wbuf_init(struct wbuf *b, size_t max);
int wbuf_append(struct wbuf *b, const void *p, size_t n);
int wbuf_printf(struct wbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void wbuf_free(struct wbuf *b);

#endif
