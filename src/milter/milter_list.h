/* the mailing-list side of the milter, its libmilter glue: posting policy
 * at RCPT, expansion, list headers, archive (list_archive.h) and
 * moderation at end of message, and the LIST-request commands
 * (list_request.h). milter.c calls these from its callbacks; the
 * per-message state hangs off milter.c's message */
#ifndef MILTER_LIST_H
#define MILTER_LIST_H

#include <libmilter/mfapi.h>
#include <stddef.h>

struct mailhdr_info;
struct milter_conf;
struct milter_list_msg;

enum {
	MILTER_LIST_PASS = 0,	/* no list address: milter.c goes on */
	MILTER_LIST_NOTED,	/* a list address, noted */
	MILTER_LIST_REJECT,	/* refused; the reply is set */
	MILTER_LIST_TEMPFAIL	/* could not decide; the reply is set */
};

/* 1 when the config has lists (then replies at RCPT are needed) */
int	milter_list_wanted(const struct milter_conf *);
/* one recipient: MILTER_LIST_* */
int	milter_list_rcpt(SMFICTX *, struct milter_list_msg **,
	    struct milter_conf *, const char *sender, const char *raw,
	    const char *addr);
void	milter_list_header(struct milter_list_msg *, const char *name,
	    const char *value);
void	milter_list_body(struct milter_list_msg *, const unsigned char *,
	    size_t);
/* end of message: requests answered and consumed, posts expanded, tagged,
 * archived, held. nrcpts is every recipient the message has; *left gets
 * how many remain (0: discard it). -1 with *why set: tempfail */
int	milter_list_eom(SMFICTX *, struct milter_list_msg *,
	    struct milter_conf *, const struct mailhdr_info *,
	    const char *sender, const char *qid, size_t nrcpts, size_t *left,
	    const char **why);
/* an enquiry route naming a list: its members are added. 1 when addr is
 * a list, 0 when not, -1 when the members could not be added */
int	milter_list_expand(SMFICTX *, struct milter_conf *, const char *addr);
/* 1 when the message is redistributed to a list's members (a post not
 * seen before), 0 when not */
int	milter_list_posted(const struct milter_list_msg *);
void	milter_list_free(struct milter_list_msg *);

#endif
