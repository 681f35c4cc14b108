/*
 * tlsfloor: what OpenSSL itself costs a Gemini server, with no sockets and
 * no kernel, the floor under any server built on this library.
 *
 * request modes: a client and a server in one thread over a BIO pair, each
 * request a handshake, a request line, a 1 KB response and close_notify;
 * only the cpu time (this thread's) inside the server's calls (SSL_new to
 * SSL_free) counts, less what reading the clock costs.
 *   full          tls 1.3, full handshake, no tickets (capsuled's default)
 *   full-tickets  the same, the server sending a tls 1.3 ticket
 *                 (tls13-tickets = true)
 *   resumed       tls 1.3 resumed with the ticket of the previous one
 *   full12        tls 1.2, full handshake
 *   resumed12     tls 1.2 resumed with a ticket (issued either way)
 * aes128gcm: sealing 1 MB as tls records do (16 KB each, a fresh nonce and
 *   a tag per record) with AES-128-GCM, the suite capsuled prefers:
 *   server_us per MB.
 * idle: the heap (malloc'd bytes) one server connection keeps while it
 *   waits for its request after a full handshake, its buffers released as
 *   capsuled releases them: idle_bytes per connection.
 *
 * the server's context is capsuled's own (tls_vhost_load, tls_commit from
 * src/capsuled/tls.c) with the certificate it generates (or -C/-K) in a
 * scratch state directory that is removed afterwards. under callgrind
 * (--collect-atstart=no) only the server's calls are counted.
 *
 *   tlsfloor [-n handshakes] [-m mode,...] [-C cert -K key]
 *
 * prints one line per mode: "tlsfloor mode=full n=N server_us=U
 * both_us=B resumed=R" (aes128gcm: server_us per MB; idle: idle_bytes).
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "tls.h"
#include "trust.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_TOGGLE_COLLECT
#endif

static double server_s, clock_cost;
static long server_calls;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* this thread's cpu time: what other processes on a busy machine take
 * is not counted, as the bench counts the server's cpu, not its wall */
static double
cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* time one server-side call (and count only it under callgrind) */
#define SERVER(x) do {						\
	double t_;						\
	CALLGRIND_TOGGLE_COLLECT;				\
	t_ = cpu_now();						\
	x;							\
	server_s += cpu_now() - t_;				\
	server_calls++;						\
	CALLGRIND_TOGGLE_COLLECT;				\
} while (0)

/* what reading the clock costs a timed call, taken off the totals */
static void
calibrate(void)
{
	int i;

	server_s = 0;
	for (i = 0; i < 10000; i++)
		SERVER((void)0);
	clock_cost = server_s / 10000;
}

/* the server's cpu per unit, less the clock's own */
static double
server_us(int n)
{
	return (server_s - server_calls * clock_cost) * 1e6 / n;
}

static void
fail(const char *what)
{
	fprintf(stderr, "tlsfloor: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

/* drive both ends until both have finished their handshake */
static void
handshake(SSL *s, SSL *c)
{
	int sdone = 0, cdone = 0, rounds = 0, r;

	while ((!sdone || !cdone) && rounds++ < 20) {
		if (!cdone && SSL_do_handshake(c) == 1)
			cdone = 1;
		if (!sdone) {
			SERVER(r = SSL_do_handshake(s));
			sdone = r == 1;
		}
	}
	if (!sdone || !cdone)
		fail("handshake did not finish");
}

static void
run(const char *mode, SSL_CTX *sc, SSL_CTX *cc, int n, int resume)
{
	static const char req[] = "gemini://localhost/\r\n";
	static const char head[] = "20 text/gemini\r\n";
	char resp[1024], buf[16384];
	SSL_SESSION *sess = NULL;
	double t0;
	int i, resumed = 0;

	memset(resp, 'x', sizeof(resp));
	server_s = 0;
	server_calls = 0;
	t0 = now();
	for (i = 0; i < n; i++) {
		SSL *s, *c;
		BIO *bs, *bc;
		int got = 0, r;

		SERVER(s = SSL_new(sc));
		if (s == NULL || (c = SSL_new(cc)) == NULL ||
		    BIO_new_bio_pair(&bs, 0, &bc, 0) != 1)
			fail("SSL_new");
		SERVER(SSL_set_bio(s, bs, bs); SSL_set_accept_state(s));
		SSL_set_bio(c, bc, bc);
		SSL_set_connect_state(c);
		SSL_set_tlsext_host_name(c, "localhost");
		if (resume && sess != NULL)
			SSL_set_session(c, sess);
		handshake(s, c);
		SSL_write(c, req, sizeof(req) - 1);
		SERVER(r = SSL_read(s, buf, sizeof(buf)));
		if (r != (int)sizeof(req) - 1)
			fail("server read no request");
		SERVER(SSL_write(s, head, sizeof(head) - 1);
		    SSL_write(s, resp, sizeof(resp)); SSL_shutdown(s));
		while ((r = SSL_read(c, buf, sizeof(buf))) > 0)
			got += r;
		if (got != (int)(sizeof(head) - 1 + sizeof(resp)))
			fail("client got a short response");
		resumed += SSL_session_reused(c);
		SSL_shutdown(c);
		if (resume) {
			SSL_SESSION *ns = SSL_get1_session(c);

			if (ns != NULL) {
				SSL_SESSION_free(sess);
				sess = ns;
			}
		}
		SSL_free(c);
		SERVER(SSL_free(s));
	}
	printf("tlsfloor mode=%s n=%d server_us=%.1f both_us=%.1f "
	    "resumed=%d\n", mode, n, server_us(n),
	    (now() - t0) * 1e6 / n, resumed);
	SSL_SESSION_free(sess);
}

/* 1 MB sealed in 16 KB records with aes-128-gcm, as a tls 1.3 server
 * does for a file (the record header goes in as aad) */
static void
run_aes(int rounds)
{
	static unsigned char in[16384], out[16384 + 16];
	unsigned char key[16], iv[12], aad[5] = { 23, 3, 3, 0x40, 0x11 };
	EVP_CIPHER_CTX *e;
	int i, r, len;
	double t0;

	memset(key, 7, sizeof(key));
	memset(iv, 9, sizeof(iv));
	memset(in, 'x', sizeof(in));
	if ((e = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_EncryptInit_ex2(e, EVP_aes_128_gcm(), key, iv, NULL))
		fail("aes-128-gcm");
	server_s = 0;
	server_calls = 0;
	for (r = 0; r < rounds; r++) {
		t0 = cpu_now();
		CALLGRIND_TOGGLE_COLLECT;
		for (i = 0; i < 1048576 / (int)sizeof(in); i++) {
			iv[11] = (unsigned char)i;
			if (!EVP_EncryptInit_ex2(e, NULL, NULL, iv, NULL) ||
			    !EVP_EncryptUpdate(e, NULL, &len, aad, sizeof(aad)) ||
			    !EVP_EncryptUpdate(e, out, &len, in, sizeof(in)) ||
			    !EVP_EncryptFinal_ex(e, out + len, &len) ||
			    !EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_AEAD_GET_TAG, 16,
			    out + sizeof(in)))
				fail("aes-128-gcm");
		}
		CALLGRIND_TOGGLE_COLLECT;
		server_s += cpu_now() - t0;
		server_calls++;
	}
	EVP_CIPHER_CTX_free(e);
	printf("tlsfloor mode=aes128gcm n=%d server_us=%.1f bytes=1048576\n",
	    rounds, server_us(rounds));
}

/* what n idle server connections keep on the heap: each after a full
 * handshake, its read attempted (no request yet), its buffers released
 * (capsuled's tls_conn_idle) and its bio a small one of its own, as
 * capsuled's holding bio is; the client side is gone */
static void
run_idle(SSL_CTX *sc, int n)
{
	SSL_CTX *cc;
	SSL **held;
	size_t before, after;
	char buf[64];
	int i, warm = 20;

	if ((held = calloc((size_t)(n + warm), sizeof(*held))) == NULL ||
	    (cc = SSL_CTX_new(TLS_client_method())) == NULL)
		fail("out of memory");
	SSL_CTX_set_session_cache_mode(cc, SSL_SESS_CACHE_OFF);
	before = 0;
	for (i = 0; i < n + warm; i++) {
		SSL *s, *c;
		BIO *bs, *bc, *m;

		if (i == warm)
			before = mallinfo2().uordblks;
		if ((s = SSL_new(sc)) == NULL || (c = SSL_new(cc)) == NULL ||
		    BIO_new_bio_pair(&bs, 0, &bc, 0) != 1)
			fail("SSL_new");
		SSL_set_bio(s, bs, bs);
		SSL_set_accept_state(s);
		SSL_set_bio(c, bc, bc);
		SSL_set_connect_state(c);
		SSL_set_tlsext_host_name(c, "localhost");
		handshake(s, c);
		if (SSL_read(s, buf, sizeof(buf)) > 0)
			fail("a request where none was sent");
		ERR_clear_error();
		SSL_free(c);
		if ((m = BIO_new(BIO_s_null())) == NULL)
			fail("BIO_new");
		SSL_set_bio(s, m, m);	/* frees the pair's server half */
		SSL_free_buffers(s);
		held[i] = s;
	}
	after = mallinfo2().uordblks;
	printf("tlsfloor mode=idle n=%d idle_bytes=%.0f\n", n,
	    (double)(after - before) / n);
	for (i = 0; i < n + warm; i++)
		SSL_free(held[i]);
	free(held);
	SSL_CTX_free(cc);
}

static int
want(const char *modes, const char *mode)
{
	size_t len = strlen(mode);
	const char *p = modes;

	if (modes == NULL)
		return 1;
	while ((p = strstr(p, mode)) != NULL) {
		if ((p == modes || p[-1] == ',') &&
		    (p[len] == '\0' || p[len] == ','))
			return 1;
		p += len;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct server_conf server = { .name = "localhost" };
	struct server_conf server_t = { .name = "localhost",
	    .tls13_tickets = 1 };
	char dir[] = "/tmp/tlsfloor.XXXXXX", err[512], path[64];
	const char *const files[] = { "localhost.crt", "localhost.key",
	    "ticket.key" };
	const char *modes = NULL;
	struct trust_owner owner;
	struct tls_ticket ticket;
	struct tls_vhost vhost, vhost_t;
	SSL_CTX *cc, *cc12;
	size_t i;
	int statefd;
	int ch, n = 2000;

	while ((ch = getopt(argc, argv, "C:K:m:n:")) != -1) {
		switch (ch) {
		case 'C':
			server.cert = server_t.cert = optarg;
			break;
		case 'K':
			server.key = server_t.key = optarg;
			break;
		case 'm':
			modes = optarg;
			break;
		case 'n':
			if ((n = atoi(optarg)) > 0)
				break;
			/* FALLTHROUGH */
		default:
			fprintf(stderr, "usage: tlsfloor [-n handshakes] "
			    "[-m mode,...] [-C cert -K key]\n");
			return 2;
		}
	}
	if ((server.cert == NULL) != (server.key == NULL))
		fail("-C and -K go together");
	calibrate();
	if (mkdtemp(dir) == NULL)
		fail("cannot make a scratch directory");
	owner.uid = geteuid();
	owner.gid = getegid();
	if ((statefd = trust_opendir(dir, &owner, err, sizeof(err))) == -1 ||
	    tls_tickets_load(statefd, dir, &owner, &ticket, err,
	    sizeof(err)) == -1 || tls_vhost_load(&vhost, &server, statefd, dir,
	    &owner, err, sizeof(err)) == -1 || tls_commit(&vhost, 1, &ticket,
	    dir, &owner, err, sizeof(err)) == -1)
		fail(err);
	/* the same pair (now in the state directory), tickets on */
	if (tls_vhost_load(&vhost_t, &server_t, statefd, dir, &owner, err,
	    sizeof(err)) == -1 || tls_commit(&vhost_t, 1, &ticket, dir,
	    &owner, err, sizeof(err)) == -1)
		fail(err);
	close(statefd);
	if ((cc = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (cc12 = SSL_CTX_new(TLS_client_method())) == NULL)
		fail("SSL_CTX_new");
	SSL_CTX_set_session_cache_mode(cc, SSL_SESS_CACHE_CLIENT);
	SSL_CTX_set_session_cache_mode(cc12, SSL_SESS_CACHE_CLIENT);
	SSL_CTX_set_max_proto_version(cc12, TLS1_2_VERSION);
	if (want(modes, "full"))
		run("full", vhost.ctx, cc, n, 0);
	if (want(modes, "full-tickets"))
		run("full-tickets", vhost_t.ctx, cc, n, 0);
	if (want(modes, "resumed"))
		run("resumed", vhost_t.ctx, cc, n, 1);
	if (want(modes, "full12"))
		run("full12", vhost.ctx, cc12, n, 0);
	if (want(modes, "resumed12"))
		run("resumed12", vhost.ctx, cc12, n, 1);
	if (want(modes, "aes128gcm"))
		run_aes(n < 200 ? n : 200);
	if (want(modes, "idle"))
		run_idle(vhost.ctx, n < 1000 ? n : 1000);
	tls_vhost_free(&vhost);
	tls_vhost_free(&vhost_t);
	SSL_CTX_free(cc);
	SSL_CTX_free(cc12);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}
