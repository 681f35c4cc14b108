/* the mail a list writes: the header fields it puts on posts, and its own
 * mails (answers to requests, moderation notices) composed with outmsg
 * and spooled under the list's address for the submitter; each of those
 * counts against its recipient's auto-reply-limit */
#ifndef LIST_MAIL_H
#define LIST_MAIL_H

#include <stddef.h>

struct conf_list;
struct db;
struct mailhdr_info;
struct milter_conf;

/* header fields a post's own are replaced by ours; Reply-To (at
 * LIST_MAIL_REPLYTO) only when the list sets it */
#define LIST_MAIL_NREPLACED	9
#define LIST_MAIL_REPLYTO	8
extern const char *const list_mail_replaced[LIST_MAIL_NREPLACED];

/* 1 when the field named by line's first namelen bytes is one we replace */
int	list_mail_is_replaced(const char *line, size_t namelen,
	    int reply_to_list);
/* our header fields for a post, one "Name: value\n" each (unfolded: not
 * every MTA takes folded values from a milter); -1 when they do not fit */
int	list_mail_headers(const struct conf_list *, char *buf, size_t bufsz);

/* a mail from the list */
struct list_mail {
	const char	*list;		/* its address, the spool's ref */
	const char	*from;		/* bare */
	const char	*from_name;	/* "" for none */
	const char	*to;		/* bare */
	const char	*subject;	/* utf-8 */
	const char	*reply_to;	/* bare, or NULL */
	const char	*in_reply_to;	/* msg-id, or NULL */
	const char	*references;	/* msg-ids, or NULL */
	const char	*auto_submitted; /* auto-replied | auto-generated */
	const char	*body;		/* utf-8, "\n" lines */
};

/* the store that counts automatic replies (auto-reply-limit); NULL: none */
void	list_mail_set_db(struct db *);
/* the store set above, for the requests' tokens and reply times */
struct db *list_mail_store(void);
/* compose and spool one message: 0 spooled, 1 when auto-reply-limit says
 * no more to this address now (nothing spooled), -1 when it could not be
 * spooled */
int	list_mail_send(const struct milter_conf *, const struct list_mail *);
/* tell every owner of l that a post waits in the hold queue */
void	list_mail_held(const struct milter_conf *, const struct conf_list *l,
	    const struct mailhdr_info *, const char *sender, const char *qid,
	    size_t nmembers);

/* a text buffer; appends fail quietly (over is set) and are checked once */
struct list_text {
	char	buf[8192];
	size_t	len;
	int	over;
};

void	list_text_add(struct list_text *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
