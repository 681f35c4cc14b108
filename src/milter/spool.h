/* the outgoing-mail spool under state-dir/spool, the one description of
 * its layout:
 *
 *   tmp/     written and fsync'd while the sender's transaction is open
 *   new/     committed: the submitter sends these, oldest first
 *   failed/  refused for good by the relay (or unreadable); move a file
 *            back to new/ to retry it
 *   free/    sent files kept to be written again ("f<n>"); what an
 *            earlier run left there is removed at start
 *
 * a file is "rcpt ADDR\nref REF\n\n" then the message (CRLF lines). REF
 * says what the mail belongs to: an enquiry's reference for an
 * acknowledgement, the list's address for list mail. names are
 * "TIME.REF.PID-SEQ" (spools of older versions: "TIME.REF"), unique: no
 * spool file is ever written over. only regular files of the milter's own
 * user with one link are read (EPERM otherwise).
 *
 * functions returning int: 0, or -1 with errno set. */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <time.h>

#define SPOOL_NAME_MAX	256	/* a spool file's name, with its NUL */

/* create (or find) the spool under state_dir and empty free/. committed
 * answers the crash sweep for a file left in tmp/: did the transaction
 * that spooled it (ref, rcpt, its TIME) commit? 1 yes, 0 no, -1 cannot
 * tell; NULL: never. "DIR/spool: why" in err */
int	spool_open(const char *state_dir, int (*committed)(void *arg,
	    const char *ref, const char *rcpt, long long when), void *arg,
	    char *err, size_t errsz);
void	spool_close(void);

/* write tmp/NAME durably (file and directory fsync'd); its name returned */
int	spool_tmp(const char *ref, const char *rcpt, const char *msg,
	    size_t len, time_t now, char *name, size_t namesz);
/* move tmp/NAME to new/ and tell the submitter; -1 leaves it in tmp/ for
 * the sweep to find */
int	spool_commit(const char *name);
void	spool_discard(const char *name);

/* for the submitter: fn is called after every commit */
void	spool_on_commit(void (*fn)(void));
/* the names in new/, sorted (oldest first), malloc'd; NULL when none or
 * on error */
char	**spool_list_new(size_t *n);
void	 spool_list_free(char **, size_t);
/* new/NAME read whole: the buffer to free, its recipient in rcpt and the
 * message in *msg; NULL with errno EPERM (not the milter's own regular
 * file), EINVAL (not a spool file) or another */
char	*spool_read_new(const char *name, char *rcpt, size_t rcptsz,
	    const char **msg, size_t *msglen);
/* new/NAME was sent: kept in free/ for reuse, or removed */
int	spool_sent(const char *name);
/* new/NAME moves to failed/ */
int	spool_failed(const char *name);
/* tmp/: files whose transaction committed move to new/, files of
 * transactions that never committed are removed once old */
void	spool_sweep(void);

/* erasure, from another program than the milter (no spool_open): every
 * file in new/, failed/ and free/ under state_dir/spool that holds addr
 * (any case) is removed: mail still to go to or about that address is
 * withdrawn, kept copies of sent mail go. tmp/ is the milter's, mid-write
 * or for its sweep. *removed counts the files; 0, or -1 with errno */
int	spool_purge_addr(const char *state_dir, const char *addr,
	    size_t *removed);

#endif
