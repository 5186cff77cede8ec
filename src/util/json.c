/* json — message to text (see json.h). */
#include "util/json.h"

char *json_take_text(json_t *msg)
{
	char *text;

	if (!msg)
		return NULL;
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	return text;
}
