/* listeners, worker processes, event loop, per-connection state machine */
#ifndef SERVER_H
#define SERVER_H

#include "srv.h"

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
