/*
 * dtls_testpeer — an in-process DTLS-SRTP client (plain OpenSSL, memory
 * BIOs) wired to a conclave dtls_conn, for the dtls and srtp unit tests.
 *
 * The client plays the browser: DTLS 1.2 client, its own self-signed P-256
 * certificate, use_srtp offering the given profiles. tlink_pump() moves
 * datagrams both ways until neither side has anything more to say; the
 * client's output is cut at record boundaries and packed into datagrams of
 * at most DTLS_MTU bytes, as a browser would send them. Datagrams can be
 * dropped on purpose to exercise retransmission.
 */
#ifndef CONCLAVE_TEST_DTLS_TESTPEER_H
#define CONCLAVE_TEST_DTLS_TESTPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls/dtls.h"

#include <openssl/ssl.h>

enum {
	TLINK_MAX_DGRAMS = 64,
	TLINK_DGRAM_CAP = 2048,
};

struct tlink_opts {
	const char *profiles;   /* client's use_srtp list; NULL: no use_srtp */
	bool no_client_cert;
	bool wrong_fp;          /* server expects a fingerprint that differs */
	bool client_rejects;    /* client's verify callback fails the server */
	bool no_cookies;        /* server without cookie exchange */
	unsigned server_rto_ms; /* 0: default */
	unsigned client_rto_ms; /* 0: OpenSSL default (1 s) */
};

struct tdgram {
	size_t len;
	uint8_t b[TLINK_DGRAM_CAP];
};

struct tlink {
	struct dtls_ctx *ctx;
	struct dtls_conn *srv;
	SSL_CTX *cctx;
	SSL *cli;
	BIO *crb, *cwb;
	/* server → client datagrams waiting for delivery */
	struct tdgram q[TLINK_MAX_DGRAMS];
	size_t qn;
	/* every datagram each side sent, in order (first TLINK_MAX_DGRAMS) */
	struct tdgram srv_log[TLINK_MAX_DGRAMS];
	size_t srv_n;             /* datagrams the server sent in total */
	struct tdgram cli_log[TLINK_MAX_DGRAMS];
	size_t cli_n;
	size_t max_srv_dgram;
	size_t max_cli_dgram;
	long drop_srv;            /* index of a server datagram to drop, -1 none */
	bool drop_srv_ccs;        /* drop the first server datagram holding a CCS */
	long drop_cli;            /* index of a client datagram to drop, -1 none */
	int srv_err;              /* first negative dtls_conn_input() return */
	int srv_completed;        /* times dtls_conn_input() returned 1 */
	bool cli_failed;
};

/* Makes ctx, conn and client. Returns 0 or -1. */
int tlink_open(struct tlink *l, const struct tlink_opts *o);
void tlink_close(struct tlink *l);

/* Lets the client start (or continue) and moves datagrams until both sides
 * are quiet. Returns the number of datagrams delivered. */
size_t tlink_pump(struct tlink *l);

/* Pumps, then while the handshake is unfinished and time remains, sleeps
 * until the next server or client timer and fires it. */
void tlink_run(struct tlink *l, unsigned max_ms);

bool tlink_client_done(const struct tlink *l);

/* Sleeps until the client's retransmission timer is due (at most max_ms)
 * and fires it: DTLSv1_handle_timeout's result (1: it retransmitted), or
 * -1 if no timer runs or it is due later than max_ms. */
int tlink_client_retransmit(struct tlink *l, unsigned max_ms);

/* The client's view of the SRTP keys (exported with OpenSSL). */
int tlink_client_keys(struct tlink *l, struct dtls_srtp_keys *out);

/* SHA-256 of the server certificate as the client saw it, as SDP text. */
int tlink_server_fp_text(struct tlink *l, char out[DTLS_FP_TEXT_LEN]);

#endif
