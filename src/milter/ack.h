/* acknowledgements: composed from the template, written to a durable spool
 * before the milter answers, submitted by a worker thread over smtp (libcurl,
 * up to submit-connections at once) with a null return path, retried with
 * back-off until accepted.
 *
 * spool layout under state-dir/spool: tmp/ (written and fsync'd while the
 * enquiry's transaction is open), new/ (committed: the worker sends these),
 * failed/ (refused for good by the relay; move back to new/ to retry). */
#ifndef ACK_H
#define ACK_H

#include <stddef.h>
#include <time.h>

struct conf_enquiry;
struct db;

struct ack_msg {
	const char			*reference;
	const char			*to_addr;	/* return path */
	const char			*to_name;	/* display name or "" */
	const char			*subject;	/* decoded, utf-8 */
	const char			*message_id;	/* of the enquiry */
	const char			*references;	/* of the enquiry */
	const char			*category;	/* its template and
							 * team, by name */
	time_t				 received;
	time_t				 now;
	const char			*token;		/* unique, for Message-ID */
	const char			*capsule_url;
	const char			*hostname;
	const struct conf_enquiry	*enq;
};

/* the whole message, CRLF lines, malloc'd; NULL with err set (a broken
 * template) */
char	*ack_compose(const struct ack_msg *, size_t *len, char *err,
	    size_t errsz);
/* "25 November 2026" */
void	 ack_date_text(time_t, char *buf, size_t bufsz);
/* an ack-interval for people: "7 days", "12 hours", "1 minute" */
void	 ack_interval_text(time_t, char *buf, size_t bufsz);

/* create the spool under state_dir and remember db for the worker */
int	ack_init(const char *state_dir, struct db *, char *err, size_t errsz);
void	ack_shutdown(void);
/* write tmp/NAME durably (file and directory fsync'd); name returned,
 * "TIME.REF.PID-SEQ", unique: no spool file is ever written over */
int	ack_spool_tmp(const char *ref, const char *rcpt, const char *msg,
	    size_t len, time_t now, char *name, size_t namesz);
/* move tmp/NAME to new/ and wake the worker; -1 leaves it in tmp for the
 * sweep to find */
int	ack_spool_commit(const char *name);
void	ack_spool_discard(const char *name);

/* the submit worker */
int	ack_start(void);
void	ack_stop(void);

#endif
