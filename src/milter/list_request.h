/* LIST-request and LIST-confirm+TOKEN: the command found in a request
 * (listcmd.h), acted on when confirmed, and answered by list mail
 * (list_mail.h) with its text: help, confirmation requests, welcome,
 * done, closed */
#ifndef LIST_REQUEST_H
#define LIST_REQUEST_H

#include <stddef.h>
#include <time.h>

struct conf_list;
struct mailhdr_info;
struct milter_conf;

/* one request as the milter saw it */
struct list_request {
	struct milter_conf		*c;
	struct conf_list		*l;
	const struct mailhdr_info	*h;
	const char			*sender;
	const char			*qid;
	time_t				 now;
};

/* one mail to the list's request address (kind CONF_LIST_REQUEST) or to
 * a confirmation address (CONF_LIST_CONFIRM, its token); body: the start
 * of the message's body. answered and logged: 0; -1 with *why set when
 * the MTA should try again later (database, members file, spool) */
int	list_request_handle(const struct list_request *, int kind,
	    const char *token, const char *body, size_t bodylen,
	    const char **why);

#endif
