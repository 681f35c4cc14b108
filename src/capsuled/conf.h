/* capsuled configuration: plain structs filled from a libconfuse file */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>

#include "loc.h"

enum listen_kind { LISTEN_GEMINI, LISTEN_PROXY, LISTEN_GOPHER, LISTEN_FINGER };

struct listen_conf {
	enum listen_kind kind;
	char		*addr;		/* as written: "127.0.0.1:1965" */
	char		*host;		/* NULL for every address */
	char		*port;
};

struct mime_conf {
	char		*type;
	char		*ext;		/* lower case, no dot */
};

struct server_conf {
	char		*name;
	char		**aliases;
	size_t		 naliases;
	char		*root;
	char		*lang;
	char		*cert;
	char		*key;
	char		*index;
	int		 auto_index;
	int		 tls13_tickets;	/* issue tls 1.3 session tickets */
	/* the lines root, cert and key were set on (the block's line for
	 * a default), for "file:line" when a file proves missing later */
	int		 root_line, cert_line, key_line;
	struct location	*locs;		/* as written; the first match wins */
	size_t		 nlocs;
	int		 client_cert;	/* a location requires a certificate:
					   the handshake asks for one */
	int		 guarded;	/* a location requires one or answers
					   a status: where a path really
					   leads is checked too */
};

struct config {
	char		*path;		/* the file it came from */
	struct listen_conf *listens;
	size_t		 nlistens;
	char		*state_dir;
	char		*user;
	int		 log_level;
	char		*access_log;
	char		*gopher_host;
	int		 workers;
	int		 max_connections;
	int		 max_conns_per_address;	/* all workers; 0: no cap */
	int		 request_timeout;	/* seconds */
	int		 connection_timeout;	/* seconds */
	struct mime_conf *mimes;
	size_t		 nmimes;
	struct server_conf *servers;
	size_t		 nservers;
};

/* 0 and *out set, or -1 with "file:line: problem" in err */
int	conf_load(const char *path, struct config **out, char *err,
	    size_t errsz);
void	conf_free(struct config *);
/* 1 when host is the server's name or one of its aliases (any case) */
int	conf_server_names(const struct server_conf *, const char *host);

#endif
