/*
 * server — the front: one TLS port for the web app, the JSON API, the
 * WebSocket signaling endpoint, /healthz and /metrics (DESIGN.md §2).
 *
 * Built on libwebsockets (docs/architecture.md says why). It runs the
 * control plane's event loop on the calling thread; rooms and signaling
 * live on that thread only.
 */
#ifndef CONCLAVE_HTTP_SERVER_H
#define CONCLAVE_HTTP_SERVER_H

struct conf;
struct http_server;

enum {
	API_MAX_BODY = 4096,             /* bytes in a JSON API request body */
	API_MAX_EXPIRES_IN = 90 * 86400, /* a meeting may be made to last 90 days */
	HTTP_CHUNK = 16384,              /* bytes written per writeable callback */
	WS_RX_BUFFER = 16384,            /* libwebsockets receive buffer */
};

/*
 * Opens the store, loads the web app, makes or loads the TLS certificate
 * and starts listening. Returns 0 or -errno (already logged).
 */
int http_server_new(const struct conf *c, struct http_server **out);

/* Runs the event loop until http_server_stop. Returns 0. */
int http_server_run(struct http_server *s);

/* Asks the loop to stop. Async-signal-safe. */
void http_server_stop(struct http_server *s);

void http_server_free(struct http_server *s);

#endif
