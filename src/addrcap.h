/* connections per client address, counted across every worker process:
 * a table in memory the master maps shared before it forks them. each
 * worker writes only its own column (its slot), so a worker that dies
 * takes its counts with it (the master clears the column) and nothing
 * drifts. an address is counted in one of ADDRCAP_BUCKETS buckets by a
 * hash keyed with a secret chosen at start; ipv6 by its /64, what one
 * host usually holds. return contract: addrcap_take 1 taken, 0 over */
#ifndef ADDRCAP_H
#define ADDRCAP_H

#include <sys/socket.h>

#define ADDRCAP_BUCKETS	4096
#define ADDRCAP_SLOTS	256	/* worker slots of the master */

/* master, before the first fork: map the table. 0 or -1 */
int		addrcap_init(void);
/* master: the worker in slot is gone, forget what it held */
void		addrcap_clear(int slot);
/* worker, first thing: the column it writes */
void		addrcap_slot(int slot);
/* the bucket of a client address */
unsigned	addrcap_bucket(const struct sockaddr_storage *);
/* take one connection in bucket when all workers together hold fewer
 * than cap there: 1 taken, 0 over the cap (nothing taken). workers that
 * accept at the same instant may pass cap by at most their number */
int		addrcap_take(unsigned bucket, int cap);
/* give back what addrcap_take took */
void		addrcap_release(unsigned bucket);

#endif
