/* the milter's daily run, a thread of its own: at digest-time (local
 * time) every day, the digest to digest-to, spooled for the submitter
 * like acknowledgements, then the retention purge (retention). a milter
 * started after that time catches up at once; a digest is never sent
 * twice for one day, across restarts: the day is claimed in the store
 * (db_digest_claim) between writing the spool file and committing it.
 *
 * functions returning int: 0, or -1 (errno set). */
#ifndef DAILY_H
#define DAILY_H

struct db;

/* tests only: seconds added to the daily thread's clock (nothing else's),
 * so a test sees the run at a time of its choosing */
#define DAILY_SKEW_ENV	"ENQUIRY_MILTER_CLOCK_SKEW"

/* the spool's reference of a day's digest: "digest:YYYY-MM-DD", which no
 * enquiry reference or list address can be */
#define DAILY_DIGEST_REF	"digest:"

/* start the thread (the spool and the config in force set up) */
int	daily_start(struct db *);
/* the config changed: look at digest-time again */
void	daily_wake(void);
/* stop it, waiting for a run under way */
void	daily_stop(void);

#endif
