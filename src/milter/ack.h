/* acknowledgements: the text from the template and its variables, the
 * header with the reference and the ackmac-marked Message-ID, composed
 * with outmsg. the milter spools them (spool.h) before it answers the MTA;
 * the submitter (submit.h) sends them with a null return path. */
#ifndef ACK_H
#define ACK_H

#include <stddef.h>
#include <time.h>

struct conf_enquiry;

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
/* an ack-interval for people: "7 days", "12 hours", "1 minute" */
void	 ack_interval_text(time_t, char *buf, size_t bufsz);

/* for the spool's crash sweep (spool_open's committed, db a struct db):
 * did the enquiry transaction that spooled an acknowledgement for ref to
 * rcpt at when commit? 1 yes, 0 no, -1 cannot tell. a digest (ref
 * DAILY_DIGEST_REF DAY) is asked of its day's claim */
int	ack_committed(void *db, const char *ref, const char *rcpt,
	    long long when);

#endif
