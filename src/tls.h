/* every openssl call: contexts, sni, certificates, session tickets */
#ifndef TLS_H
#define TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "conf.h"

struct tls_vhost {
	const struct server_conf *conf;
	SSL_CTX		*ctx;
};

struct tls_sni {
	struct tls_vhost *vhosts;
	size_t		  nvhosts;
};

/* load the server's cert and key, or generate (once) and reuse a
 * self-signed ecdsa p-256 pair in state_dir; NULL with err set */
SSL_CTX	*tls_server_ctx(const struct server_conf *, const char *state_dir,
	    char *err, size_t errsz);
/* wire sni across the vhosts' contexts; the first is the default */
void	 tls_sni_setup(struct tls_sni *);
/* the vhost a handshake chose */
const struct tls_vhost *tls_vhost_of(const SSL *, const struct tls_sni *);
/* load or create the ticket master secret (state_dir/ticket.key, 0600);
 * ticket keys derive from it by time, so every worker and every restart
 * agrees on them and they rotate on their own */
int	 tls_tickets_init(const char *state_dir, char *err, size_t errsz);
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
void	 tls_ctx_free(SSL_CTX *);

#endif
