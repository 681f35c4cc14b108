/* the master process: workers, signals, reloads, the access log */
#ifndef MASTER_H
#define MASTER_H

#include "server.h"

/* supervise workers for s until told to stop; returns the exit status */
int	master_run(const char *confpath, struct srv *s);

#endif
