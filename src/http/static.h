/*
 * static — the built web app, loaded into memory at start.
 *
 * The server serves exactly the files that were in the web root when it
 * started, from memory: no path from a request ever reaches the file
 * system, so there is no traversal to get wrong. Every route of the single
 * page app ("/", "/m/<anything>") is answered with index.html.
 */
#ifndef CONCLAVE_HTTP_STATIC_H
#define CONCLAVE_HTTP_STATIC_H

#include <stdbool.h>
#include <stddef.h>

struct static_files;

enum {
	STATIC_MAX_FILES = 512,            /* files in the web root */
	STATIC_MAX_BYTES = 64 << 20,       /* total bytes loaded */
};

struct static_file {
	const char *path;        /* "/assets/index-abc.js" */
	const unsigned char *data;
	size_t len;
	const char *mime;
	bool immutable;          /* content-hashed name: cache forever */
};

/* Loads every regular file under `root`. Returns 0 or -errno. */
int static_load(const char *root, struct static_files **out);
void static_free(struct static_files *s);

/* The file for a request path (query already removed); NULL if none. */
const struct static_file *static_lookup(const struct static_files *s,
					const char *path);
size_t static_count(const struct static_files *s);

#endif
