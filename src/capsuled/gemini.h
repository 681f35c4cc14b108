/* a gemini request line -> a response: status, meta line, body source */
#ifndef GEMINI_H
#define GEMINI_H

#include <stddef.h>

#include "capsule.h"
#include "request.h"

struct loc_peer;
struct srv;
struct tls_vhost;

struct response {
	int		 status;
	char		 header[1100];	/* "20 text/gemini\r\n" */
	size_t		 hlen;
	struct capsule_file file;	/* the body for GEMINI_SUCCESS */
	char		 host[256];	/* for the log */
	char		 path[REQ_MAX_URL + 1];
};

/* build the response for one request line (without CRLF). vhost is the
 * server the handshake chose; sni says whether the client named one;
 * port is the one the client connected to; peer is its certificate
 * (NULL when none was asked for). the server's first location matching
 * the path (loc.h) decides before the file does. */
void	gemini_respond(const struct srv *, const struct tls_vhost *vhost,
	    int sni, int port, const struct loc_peer *peer, const char *line,
	    size_t len, struct response *);
void	gemini_response_free(struct response *);

#endif
