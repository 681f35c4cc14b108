/* the master process: workers, signals, reloads, the access log */
#ifndef MASTER_H
#define MASTER_H

#include "server.h"
#include "trust.h"

/* supervise workers for s until told to stop; returns the exit status */
int	master_run(const char *confpath, struct srv *s);
/* whether the access log at path may be opened by the master: its
 * directory and (when it exists) the file trusted as trust.h says.
 * 0, or -1 with err set */
int	master_log_check(const char *path, const struct trust_owner *,
	    char *err, size_t errsz);

#endif
