/* every openssl call: contexts, sni, certificates, session tickets */
#ifndef TLS_H
#define TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "conf.h"

struct trust_owner;

struct tls_vhost {
	const struct server_conf *conf;
	SSL_CTX		*ctx;
	/* generated for it and not yet written (tls_commit writes them) */
	EVP_PKEY	*newkey;
	X509		*newcrt;
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
/* wire sni across the vhosts' contexts; the first is the default */
void	 tls_sni_setup(struct tls_sni *);
/* the vhost a handshake chose */
const struct tls_vhost *tls_vhost_of(const SSL *, const struct tls_sni *);
/* what openssl wrote for one connection, held until the server flushes
 * it, so a handshake's last flight, the response and close_notify leave
 * in one segment instead of four */
struct tls_out {
	char	*buf;
	size_t	 len, off, cap;
	int	 fd;
};

/* 1 when this kernel offers ktls (tcp_available_ulp lists "tls"); then
 * connections use a plain socket bio and let the kernel encrypt */
int	 tls_ktls_available(void);
/* attach fd to ssl: through the holding bio, or the socket for ktls */
int	 tls_attach(SSL *, int fd, struct tls_out *, int use_ktls);
/* send what is held: 1 all sent, 0 the socket is full, -1 error */
int	 tls_out_flush(struct tls_out *);
void	 tls_out_free(struct tls_out *);
/* 1 when the kernel sends for this connection (ktls) */
int	 tls_ktls_send(SSL *);

#endif
