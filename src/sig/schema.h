/*
 * schema — declared tables of the fields each signaling message may carry.
 *
 * Every incoming message is checked against its table before any handler
 * sees it (DESIGN.md §6): the right JSON type, required fields present, no
 * unknown fields, strings within their byte bounds and of their declared
 * shape, integers within range. A handler can then read fields without
 * checking again. Model: Janus's janus_json_parameter tables.
 */
#ifndef CONCLAVE_SIG_SCHEMA_H
#define CONCLAVE_SIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum field_type {
	FT_STRING,   /* any UTF-8 text without control characters */
	FT_STRING_ML, /* text that may hold CR, LF and tab (SDP) */
	FT_B64URL,   /* base64url text (room ids, keys, opaque tokens) */
	FT_INT,
	FT_BOOL,
	FT_OBJECT,
	FT_ARRAY,
};

struct field {
	const char *name;
	enum field_type type;
	bool required;
	int64_t min;   /* strings, arrays: length bounds; ints: value bounds */
	int64_t max;
};

struct msg_schema {
	const char *type;
	const struct field *fields;
	size_t nfields;
};

/* Why a message failed validation. */
enum schema_fail {
	SCHEMA_OK = 0,
	SCHEMA_MISSING,      /* a required field is absent */
	SCHEMA_WRONG_TYPE,   /* a field has the wrong JSON type or shape */
	SCHEMA_RANGE,        /* a field is out of its bounds */
	SCHEMA_UNKNOWN,      /* a field the table does not declare */
};

/*
 * Checks `msg` (a JSON object) against `s`. The field "type" is implicit
 * and always allowed. On failure, *field names the offending field (a
 * pointer into the table or into msg, valid while msg lives).
 */
enum schema_fail schema_validate(const struct msg_schema *s, json_t *msg,
				 const char **field);

/* Finds the schema for `type` in a table; NULL if unknown. */
const struct msg_schema *schema_find(const struct msg_schema *tbl, size_t n,
				     const char *type);

#endif
