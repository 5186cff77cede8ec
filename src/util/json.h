/*
 * json — the one way signaling messages become text.
 */
#ifndef CONCLAVE_UTIL_JSON_H
#define CONCLAVE_UTIL_JSON_H

#include <jansson.h>

/*
 * Takes ownership of msg (NULL is fine: a failed json_pack) and returns its
 * compact text, which the caller frees with free(); NULL on failure.
 */
char *json_take_text(json_t *msg);

#endif
