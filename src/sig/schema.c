/* schema — validation of signaling messages against tables (see schema.h). */
#include "sig/schema.h"

#include <string.h>

static bool text_ok(const char *s, size_t len)
{
	/* jansson guarantees valid UTF-8; refuse C0 controls and DEL, which
	 * have no place in a display name or identifier */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* Multi-line text: CR, LF and tab allowed, other controls refused. */
static bool text_ml_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static bool b64url_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static enum schema_fail check_field(const struct field *f, json_t *v)
{
	size_t len;
	json_int_t i;

	switch (f->type) {
	case FT_STRING:
	case FT_STRING_ML:
	case FT_B64URL:
		if (!json_is_string(v))
			return SCHEMA_WRONG_TYPE;
		len = json_string_length(v);
		if ((int64_t)len < f->min || (int64_t)len > f->max)
			return SCHEMA_RANGE;
		if (!(f->type == FT_STRING      ? text_ok(json_string_value(v), len)
		      : f->type == FT_STRING_ML ? text_ml_ok(json_string_value(v), len)
						: b64url_ok(json_string_value(v), len)))
			return SCHEMA_WRONG_TYPE;
		return SCHEMA_OK;
	case FT_INT:
		if (!json_is_integer(v))
			return SCHEMA_WRONG_TYPE;
		i = json_integer_value(v);
		if (i < f->min || i > f->max)
			return SCHEMA_RANGE;
		return SCHEMA_OK;
	case FT_BOOL:
		return json_is_boolean(v) ? SCHEMA_OK : SCHEMA_WRONG_TYPE;
	case FT_OBJECT:
		return json_is_object(v) ? SCHEMA_OK : SCHEMA_WRONG_TYPE;
	case FT_ARRAY:
		if (!json_is_array(v))
			return SCHEMA_WRONG_TYPE;
		len = json_array_size(v);
		if ((int64_t)len < f->min || (int64_t)len > f->max)
			return SCHEMA_RANGE;
		return SCHEMA_OK;
	}
	return SCHEMA_WRONG_TYPE;
}

enum schema_fail schema_validate(const struct msg_schema *s, json_t *msg,
				 const char **field)
{
	const char *key;
	json_t *v;
	size_t i;

	for (i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		enum schema_fail r;

		v = json_object_get(msg, f->name);
		if (!v) {
			if (f->required) {
				*field = f->name;
				return SCHEMA_MISSING;
			}
			continue;
		}
		r = check_field(f, v);
		if (r != SCHEMA_OK) {
			*field = f->name;
			return r;
		}
	}
	json_object_foreach(msg, key, v) {
		bool known = strcmp(key, "type") == 0;
		for (i = 0; !known && i < s->nfields; i++)
			known = strcmp(key, s->fields[i].name) == 0;
		if (!known) {
			*field = key;
			return SCHEMA_UNKNOWN;
		}
	}
	return SCHEMA_OK;
}

const struct msg_schema *schema_find(const struct msg_schema *tbl, size_t n,
				     const char *type)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tbl[i].type, type) == 0)
			return &tbl[i];
	return NULL;
}
