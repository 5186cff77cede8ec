/*
 * log — one line per event, with a level, to stderr.
 *
 * Privacy rule (DESIGN.md §7): a log line never carries a display name,
 * message content, an invite secret or a host credential. Call sites pass
 * only ids, counts, codes and addresses; there is deliberately no helper
 * that formats a signaling message.
 */
#ifndef CONCLAVE_UTIL_LOG_H
#define CONCLAVE_UTIL_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
/* Parses "debug|info|warn|error"; returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
int log_enabled(enum log_level lvl);

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...) \
	do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, mod, __VA_ARGS__); } while (0)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)

#endif
