/* the submitter: a worker thread sends the spool's new/ files over smtp
 * to submit-host (libcurl, up to submit-connections transactions at once
 * on connections kept open) with a null return path; a 4xx or no answer
 * is retried with back-off, a 5xx moves the file to failed/.
 *
 * functions returning int: 0, or -1 (errno set; err for submit_init) */
#ifndef SUBMIT_H
#define SUBMIT_H

#include <stddef.h>

/* before any thread starts: libcurl's global state; spool commits wake
 * the worker from now on */
int	submit_init(char *err, size_t errsz);
void	submit_cleanup(void);
/* the worker; the spool must be open */
int	submit_start(void);
/* stop it: what is in flight stays in new/ for the next start */
void	submit_stop(void);

#endif
