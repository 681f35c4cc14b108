/* the decision for one message to an enquiry address, from what the milter
 * glue collected (a plain struct) to what the MTA is to be told (a plain
 * result): rfc 3834 classification, its case (threading), reference,
 * category and routes, the retry key, the acknowledgement (composed and
 * spooled), the record and the case register (opened, reopened by its
 * enquirer, answered by staff), in one transaction of the store; and, for
 * mail to no enquiry address, the staff reply. no libmilter here:
 * milter.c applies the result.
 *
 * return contract: enquiry_decide returns 0 with the result filled, 1 when
 * the message is our own acknowledgement coming back through (hands off,
 * nothing recorded, result empty), -1 with result->fail saying why the
 * message must be tempfailed (logged already; nothing recorded, nothing
 * spooled). after 0, enquiry_result_free releases the result. */
#ifndef ENQUIRY_H
#define ENQUIRY_H

#include <stddef.h>

#include "mailbody.h"
#include "mailhdr.h"

#define ENQUIRY_BODY_SAMPLE	(16 * 1024)	/* for the retry key */

struct conf_category;
struct conf_enquiry;
struct db;
struct milter_conf;

struct enquiry_rcpt {
	char			 raw[MAILHDR_ADDR_MAX + 2];	/* as given */
	char			 addr[MAILHDR_ADDR_MAX];	/* bare */
	struct conf_enquiry	*enq;	/* the enquiry it names, or NULL */
};

/* one message as the glue collected it, from MAIL FROM to its end */
struct enquiry_msg {
	struct milter_conf	*conf;	/* the config it started under */
	char			 sender[MAILHDR_ADDR_MAX];	/* "" = <> */
	struct enquiry_rcpt	*rcpts;
	size_t			 nrcpts;
	size_t			 nenq;	/* recipients naming an enquiry */
	struct mailhdr_info	 hdr;
	char			 in_reply_to[MAILHDR_VALUE_MAX]; /* msg-ids */
	int			 n_xauto; /* X-Enquiry-Automatic fields */
	char			 body[ENQUIRY_BODY_SAMPLE + 1];
	size_t			 bodylen;
	struct mailbody		 text;	/* the decoded text, for keywords */
	int			 text_open;
	long long		 size;	/* header and body bytes received */
	int			 staff;	/* to no enquiry address, from a
					 * staff envelope sender or an
					 * authenticated client */
	int			 authenticated;	/* smtp auth ({auth_authen}) */
};

/* what threading decided for one message */
struct enquiry_case {
	char		 ref[64];	/* the case, or an automatic marker */
	char		 category[64];	/* the case's; "" = by keywords */
	char		 claimed[64];	/* a subject tag not honoured */
	const char	*kind;		/* DB_KIND_* */
	int		 retry;		/* recorded already: the mta retried */
	int		 is_case;	/* ref is a case, not a marker */
};

/* what the MTA is to be told, and what the log line says */
struct enquiry_result {
	struct conf_enquiry	*enq;	/* the first enquiry named */
	struct enquiry_case	 mc;
	const char		*category;	/* its name */
	int			 why;	/* MAILHDR_ACK or why no ack */
	const char		*autowhy; /* automatic mail: why, or NULL */
	int			 internal; /* every recipient is ours */
	const char		**routes; /* routed-to addresses */
	size_t			 nroutes;
	char			 routed[2048];	/* the same, for the log */
	const char		*fail;	/* after -1: why tempfail */
	int			 answered; /* a staff reply answered its case */
};

int	enquiry_decide(struct enquiry_msg *, struct db *, const char *qid,
	    struct enquiry_result *);

/*
 * staff replies. a staff address is one of the staff list or a route-to
 * of any enquiry or category (conf_milter_is_staff: the glue asks it at
 * DATA, to read the header of mail from staff only). a message is a staff
 * reply (enquiry_staff_sent) when its From: address is staff, and its
 * envelope sender is staff too or the MTA says the submitter
 * authenticated, and the MTA's own checks (authserv-id) do not say
 * spf or dmarc fail. it answers a case it names (In-Reply-To, References,
 * then the subject tag) when the case's enquirer is one of its
 * recipients.
 */
int	enquiry_staff_sent(const struct enquiry_msg *);
/* a message to no enquiry address: a staff reply marks its case
 * answered. never a reason to stop the message: 1 a case was marked, 0
 * nothing to do, -1 on a database error (logged) */
int	enquiry_staff_reply(struct enquiry_msg *, struct db *,
	    const char *qid);
void	enquiry_result_free(struct enquiry_result *);
/* the log line of an enquiry the MTA took the changes of */
void	enquiry_log(const struct enquiry_msg *, const struct enquiry_result *,
	    const char *qid);

#endif
