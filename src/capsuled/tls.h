/*
 * every openssl call: contexts, sni, certificates, session tickets, and
 * each connection's handshake, reads, writes and close_notify. no other
 * module includes openssl: they hold its objects by their struct tags
 * (struct ssl_st is an SSL, struct ssl_ctx_st an SSL_CTX) and ask here.
 * the connection calls return an enum tls_status.
 */
#ifndef TLS_H
#define TLS_H

#include <sys/types.h>
#include <stddef.h>

#include "conf.h"

struct trust_owner;
struct loc_peer;
struct ssl_st;
struct ssl_ctx_st;
struct evp_pkey_st;
struct x509_st;

struct tls_vhost {
	const struct server_conf *conf;
	struct ssl_ctx_st *ctx;
	/* generated for it and not yet written (tls_commit writes them) */
	struct evp_pkey_st *newkey;
	struct x509_st	*newcrt;
};

struct tls_sni {
	struct tls_vhost *vhosts;
	size_t		  nvhosts;
};

/* the session ticket master secret; ticket keys derive from it by time,
 * so every worker and every restart agrees on them and they rotate on
 * their own */
struct tls_ticket {
	unsigned char	 secret[32];
	int		 fresh;		/* made now: ticket.key not written yet */
};

/*
 * a configuration generation is loaded first and written after: nothing
 * below but tls_commit writes a file or changes what is in force, so a
 * configuration rejected on the way changes nothing. statefd is the
 * state directory (trust_opendir), or -1 when it does not exist yet.
 */
/* read state_dir/ticket.key (trusted: see trust.h), or make a new secret
 * in memory when there is none. 0, or -1 with err set */
int	 tls_tickets_load(int statefd, const char *state_dir,
	    const struct trust_owner *, struct tls_ticket *, char *err,
	    size_t errsz);
/* v's context with the server's cert and key, or with the self-signed
 * ecdsa p-256 pair in state_dir: read when there, else generated in
 * memory (newkey, newcrt). 0, or -1 with err set */
int	 tls_vhost_load(struct tls_vhost *v, const struct server_conf *,
	    int statefd, const char *state_dir, const struct trust_owner *,
	    char *err, size_t errsz);
/* write what is new (state_dir created if need be, keys 0600) and put the
 * ticket secret in force; on failure what it wrote is removed. 0 or -1 */
int	 tls_commit(struct tls_vhost *, size_t n, const struct tls_ticket *,
	    const char *state_dir, const struct trust_owner *, char *err,
	    size_t errsz);
void	 tls_vhost_free(struct tls_vhost *);
/* what the private key in the pem file at path costs per full handshake,
 * when it is neither ecdsa p-256 nor ed25519 (the cheapest to sign with):
 * 1 with a note in buf, 0 when it is one of those, -1 when it cannot be
 * read here (loading it at start says why) */
int	 tls_key_note(const char *path, char *buf, size_t bufsz);
/* wire sni across the vhosts' contexts; the first is the default */
void	 tls_sni_setup(struct tls_sni *);
/* the vhost a handshake chose */
const struct tls_vhost *tls_vhost_of(const struct ssl_st *,
	    const struct tls_sni *);
/* 1 when the client named a server (sni) in its hello */
int	 tls_sni_sent(const struct ssl_st *);
/* the client's certificate, if it sent one: its sha-256 over the der and
 * its dates (loc.h). only a server with a client-cert location asks for
 * one (tls_vhost_load), and any is taken: no chain is verified. one that
 * cannot be read comes out as present and never valid */
void	 tls_peer(const struct ssl_st *, struct loc_peer *);
/* what openssl wrote for one connection, held until the server flushes
 * it, so a handshake's last flight, the response and close_notify leave
 * in one segment instead of four */
struct tls_out {
	char	*buf;
	size_t	 len, off, cap;
	int	 fd;
	/* set by the server before the handshake: shown the first bytes
	 * read from the socket, nonzero refuses them (then refused is set
	 * and the handshake fails), so no bytes need peeking beforehand */
	int	(*first)(const unsigned char *, size_t);
	int	 refused;
};

/* 1 when this kernel offers ktls (tcp_available_ulp lists "tls"); then
 * connections use a plain socket bio and let the kernel encrypt */
int	 tls_ktls_available(void);
/* send what is held: 1 all sent, 0 the socket is full, -1 error */
int	 tls_out_flush(struct tls_out *);
void	 tls_out_free(struct tls_out *);

/* what a call on a connection came to: wants say what the socket must
 * become before the same call is made again */
enum tls_status {
	TLS_DONE,		/* it did what was asked */
	TLS_WANT_READ,		/* wait until the socket is readable */
	TLS_WANT_WRITE,		/* wait until the socket is writable */
	TLS_ERROR		/* the connection failed, or the peer closed
				 * it; openssl's error queue is cleared */
};

/* a server side connection on fd, in the default vhost's context until
 * sni says otherwise, its tls bytes held in *o (or, with use_ktls, sent
 * by the kernel on the socket). NULL on failure */
struct ssl_st *tls_conn_new(const struct tls_vhost *dflt, int fd,
	    struct tls_out *o, int use_ktls);
void	 tls_conn_free(struct ssl_st *);
int	 tls_handshake(struct ssl_st *);
/* up to len bytes into buf, *got says how many (TLS_DONE only) */
int	 tls_read(struct ssl_st *, void *buf, size_t len, size_t *got);
/* up to len bytes of buf, *sent says how many (TLS_DONE only) */
int	 tls_write(struct ssl_st *, const void *buf, size_t len,
	    size_t *sent);
/* 1 when the kernel sends for this connection (ktls); then tls_sendfile
 * sends up to len bytes of fd from off without copying them here */
int	 tls_ktls_send(struct ssl_st *);
int	 tls_sendfile(struct ssl_st *, int fd, off_t off, size_t len,
	    size_t *sent);
/* send close_notify */
int	 tls_shutdown(struct ssl_st *);
/* give back openssl's buffers while the connection waits for its peer */
void	 tls_conn_idle(struct ssl_st *);

#endif
