/* what one configuration generation serves (struct srv): read by the
 * responders (gemini.c, plain.c), built and run by server.c. no functions */
#ifndef SRV_H
#define SRV_H

#include <sys/types.h>

#include "conf.h"
#include "tls.h"
#include "trust.h"

struct listener {
	int		 fd;
	enum listen_kind kind;
	int		 port;
	char		*addr;
};

/* what one configuration generation serves: built by the master before
 * it forks the workers, so nothing on the hot path repeats this work */
struct srv {
	struct config	*conf;
	struct tls_vhost *vhosts;
	int		*rootfds;
	struct tls_sni	 sni;
	size_t		 nservers;
	struct listener	*listeners;
	size_t		 nlisteners;
	uid_t		 uid;		/* who serves */
	gid_t		 gid;
	int		 drop_privs;	/* started as root: drop to uid */
	struct trust_owner owner;	/* who may write the state files */
	struct tls_ticket ticket;	/* the ticket secret it brings */
	int		 ktls;		/* the kernel encrypts: socket bio */
	int		 accesslog_fd;	/* pipe to the master, or -1 */
	int		 client_cert;	/* a server has a client-cert location:
					   requests carry the peer's cert */
};

#endif
