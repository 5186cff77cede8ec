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
	/* A close the server starts (1008, 1009) waits this long for the
	 * peer's close frame or EOF, discarding at most WS_CLOSE_DRAIN_MAX
	 * bytes of its input meanwhile, before it drops the connection. */
	WS_CLOSE_LINGER_MS = 2000,
	WS_CLOSE_DRAIN_MAX = 4 << 20,
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
