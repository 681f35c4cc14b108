/* listeners, worker processes, event loop, per-connection state machine */
#ifndef SERVER_H
#define SERVER_H

#include "srv.h"

#define SERVER_LINE	(1024 + 2)	/* the longest request: url + crlf */

struct response;
struct loc_peer;

/* one answer, built from the request bytes in memory without touching a
 * socket (the worker and tests/fuzz/fuzz_serve.c call the same code): the
 * worker sends out, then for gemini what server_reply_next adds, and frees
 * it all with server_reply_free, whatever the path */
struct server_reply {
	char		*out;		/* header (+ small body) */
	size_t		 outlen;
	size_t		 bytes;		/* body bytes produced so far */
	off_t		 fileoff;	/* where the file body goes on */
	struct response	*resp;		/* status and log fields, the file */
	char		*map;		/* the file's window being sent: out */
	size_t		 maplen;	/* points into it, and is not freed */
	off_t		 mapoff;
};

/* the request read so far, len bytes at line. 1: no line end yet, read
 * more; 0: the reply holds the answer; -1: none could be built, close.
 * gemini: vhost is the one the handshake chose, sni whether the client
 * named one, port the one it reached, peer its certificate (NULL: none
 * asked for); kind: LISTEN_GOPHER or LISTEN_FINGER */
int	server_reply_gemini(const struct srv *, const struct tls_vhost *,
	    int sni, int port, const struct loc_peer *peer, const char *line,
	    size_t len, struct server_reply *);
int	server_reply_plain(const struct srv *, enum listen_kind, int port,
	    const char *line, size_t len, struct server_reply *);
/* the next piece of a gemini file body into out (outlen bytes): 1 when
 * there was one, 0 when the body is complete, -1 on error. out may point
 * into a mapping of the file, which faults (SIGBUS) where the file has
 * shrunk since: the worker reads it under a guard */
int	server_reply_next(struct server_reply *);
void	server_reply_free(struct server_reply *);

/* build a generation; listeners are reused from old (may be NULL) when
 * the address and kind match. reads and checks, writes nothing and
 * changes nothing in force: -1 with err set. started as root it looks
 * up the user to drop to (uid, gid, drop_privs). */
int	server_prepare(struct config *, struct srv *old, struct srv **out,
	    char *err, size_t errsz);
/* once the whole generation holds: write what it made (certificates,
 * keys, ticket secret) and put its ticket secret in force. 0, or -1 with
 * err set and nothing written */
int	server_commit(struct srv *, char *err, size_t errsz);
/* closes its listeners, roots and contexts, and frees its config */
void	server_free(struct srv *);
/* one worker process: serve until told to stop and drained */
void	server_worker(struct srv *) __attribute__((noreturn));

#endif
