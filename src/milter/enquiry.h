/* the decision for one message to an enquiry address, from what the milter
 * glue collected (a plain struct) to what the MTA is to be told (a plain
 * result): rfc 3834 classification, its case (threading), reference,
 * category and routes, the retry key, the acknowledgement (composed and
 * spooled) and the record, in one transaction of the store. no libmilter
 * here: milter.c applies the result.
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
};

int	enquiry_decide(struct enquiry_msg *, struct db *, const char *qid,
	    struct enquiry_result *);
void	enquiry_result_free(struct enquiry_result *);
/* the log line of an enquiry the MTA took the changes of */
void	enquiry_log(const struct enquiry_msg *, const struct enquiry_result *,
	    const char *qid);

#endif
