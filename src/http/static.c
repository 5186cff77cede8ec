/* static — in-memory web root (see static.h). */
#include "http/static.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"

struct static_files {
	struct static_file files[STATIC_MAX_FILES];
	size_t n;
	size_t bytes;
	const struct static_file *index;
};

static const struct {
	const char *ext;
	const char *mime;
} mime_table[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".wasm", "application/wasm" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".webmanifest", "application/manifest+json" },
};

static const char *mime_for(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot)
		for (size_t i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
			if (strcmp(dot, mime_table[i].ext) == 0)
				return mime_table[i].mime;
	return "application/octet-stream";
}

static int load_file(struct static_files *s, const char *fs_path,
		     const char *url_path)
{
	struct static_file *f;
	unsigned char *data;
	FILE *fp;
	long len;

	if (s->n >= STATIC_MAX_FILES)
		return -E2BIG;
	fp = fopen(fs_path, "rb");
	if (!fp)
		return -errno;
	if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 ||
	    s->bytes + (size_t)len > STATIC_MAX_BYTES) {
		fclose(fp);
		return -E2BIG;
	}
	data = malloc((size_t)len + 1);
	if (!data || fread(data, 1, (size_t)len, fp) != (size_t)len) {
		free(data);
		fclose(fp);
		return -EIO;
	}
	fclose(fp);
	f = &s->files[s->n++];
	f->path = strdup(url_path);
	f->data = data;
	f->len = (size_t)len;
	f->mime = mime_for(url_path);
	f->immutable = strncmp(url_path, "/assets/", 8) == 0;
	s->bytes += (size_t)len;
	if (!f->path)
		return -ENOMEM;
	if (strcmp(url_path, "/index.html") == 0)
		s->index = f;
	return 0;
}

static int load_dir(struct static_files *s, const char *fs_dir,
		    const char *url_dir, int depth)
{
	char fs[4096], url[1024];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (depth > 8)
		return -ELOOP;
	d = opendir(fs_dir);
	if (!d)
		return -errno;
	while (!rc && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(fs, sizeof(fs), "%s/%s", fs_dir, de->d_name) >=
			    sizeof(fs) ||
		    (size_t)snprintf(url, sizeof(url), "%s/%s", url_dir,
				     de->d_name) >= sizeof(url)) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (lstat(fs, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = load_dir(s, fs, url, depth + 1);
		else if (S_ISREG(st.st_mode))
			rc = load_file(s, fs, url);
	}
	closedir(d);
	return rc;
}

int static_load(const char *root, struct static_files **out)
{
	struct static_files *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	rc = load_dir(s, root, "", 0);
	if (!rc && !s->index)
		rc = -ENOENT;
	if (rc) {
		log_error("http", "cannot load the web app from %s (%s)", root,
			  rc == -ENOENT ? "no index.html" : strerror(-rc));
		static_free(s);
		return rc;
	}
	log_info("http", "web app: %zu files, %zu bytes", s->n, s->bytes);
	*out = s;
	return 0;
}

void static_free(struct static_files *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free((void *)s->files[i].path);
		free((void *)s->files[i].data);
	}
	free(s);
}

const struct static_file *static_lookup(const struct static_files *s,
					const char *path)
{
	if (strcmp(path, "/") == 0 || strncmp(path, "/m/", 3) == 0)
		return s->index;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->files[i].path, path) == 0)
			return &s->files[i];
	return NULL;
}

size_t static_count(const struct static_files *s)
{
	return s->n;
}
