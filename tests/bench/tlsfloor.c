/*
 * tlsfloor: what OpenSSL itself costs a Gemini server per request, with no
 * sockets and no kernel: a client and a server in one thread over a BIO
 * pair, each request a TLS 1.3 handshake (full, or resumed with a ticket),
 * a request line, a 1 KB response and close_notify. Only the time spent
 * inside the server's calls (SSL_new to SSL_free) is counted, so the figure
 * is the floor under any server built on this library, before the kernel's
 * share. The server's context is capsuled's own (tls_server_ctx and its
 * ticket keys, from src/tls.c), with the certificate it generates, in a
 * scratch state directory that is removed afterwards.
 *
 *   tlsfloor [-n handshakes]
 *
 * prints one line per mode: "tlsfloor mode=full n=N server_us=U
 * both_us=B resumed=R".
 */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "tls.h"
#include "trust.h"

static double server_s;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* time one server-side call */
#define SERVER(x) do {						\
	double t_ = now();					\
	x;							\
	server_s += now() - t_;					\
} while (0)

static void
fail(const char *what)
{
	fprintf(stderr, "tlsfloor: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void
run(SSL_CTX *sc, SSL_CTX *cc, int n, int resume)
{
	static const char req[] = "gemini://localhost/\r\n";
	static const char head[] = "20 text/gemini\r\n";
	char resp[1024], buf[16384];
	SSL_SESSION *sess = NULL;
	double t0;
	int i, resumed = 0;

	memset(resp, 'x', sizeof(resp));
	server_s = 0;
	t0 = now();
	for (i = 0; i < n; i++) {
		SSL *s, *c;
		BIO *bs, *bc;
		int sdone = 0, cdone = 0, rounds = 0, got = 0, r;

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
		while ((!sdone || !cdone) && rounds++ < 20) {
			if (!cdone && SSL_do_handshake(c) == 1) {
				cdone = 1;
				SSL_write(c, req, sizeof(req) - 1);
			}
			if (!sdone) {
				SERVER(r = SSL_do_handshake(s));
				sdone = r == 1;
			}
		}
		if (!sdone || !cdone)
			fail("handshake did not finish");
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
	    "resumed=%d\n", resume ? "resumed" : "full", n,
	    server_s * 1e6 / n, (now() - t0) * 1e6 / n, resumed);
	SSL_SESSION_free(sess);
}

int
main(int argc, char *argv[])
{
	struct server_conf server = { .name = "localhost" };
	char dir[] = "/tmp/tlsfloor.XXXXXX", err[512], path[64];
	const char *const files[] = { "localhost.crt", "localhost.key",
	    "ticket.key" };
	struct trust_owner owner;
	struct tls_ticket ticket;
	struct tls_vhost vhost;
	SSL_CTX *sc, *cc;
	size_t i;
	int statefd;
	int ch, n = 2000;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch != 'n' || (n = atoi(optarg)) <= 0) {
			fprintf(stderr, "usage: tlsfloor [-n handshakes]\n");
			return 2;
		}
	}
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
	close(statefd);
	sc = vhost.ctx;
	if ((cc = SSL_CTX_new(TLS_client_method())) == NULL)
		fail("SSL_CTX_new");
	SSL_CTX_set_session_cache_mode(cc, SSL_SESS_CACHE_CLIENT);
	run(sc, cc, n, 0);
	run(sc, cc, n, 1);
	tls_vhost_free(&vhost);
	SSL_CTX_free(cc);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}
