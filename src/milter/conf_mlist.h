/* mailing lists in the enquiry-milter configuration: the `list` blocks.
 * every libconfuse call for them lives in conf_mlist.c; the milter reads
 * these plain structs from milter_conf's lists. conf_milter.c owns the
 * whole file and calls this module, never the other way round.
 *
 * return contract: conf_mlist_convert returns 0, or -1 with
 * "file:line: problem" in err; conf_mlist_find returns the list or NULL;
 * conf_mlist_is_owner 1 or 0 */
#ifndef CONF_MLIST_H
#define CONF_MLIST_H

#include <confuse.h>
#include <stddef.h>
#include <time.h>

enum conf_list_posting {
	CONF_LIST_MEMBERS, CONF_LIST_OPEN, CONF_LIST_MODERATED,
	CONF_LIST_OWNERS
};

struct conf_list {
	char	 *address;	/* partners@rmet.org, lower case */
	char	 *local;	/* partners */
	char	 *domain;	/* rmet.org */
	char	 *request;	/* partners-request@rmet.org */
	char	 *confirm_prefix; /* partners-confirm+ (then TOKEN@domain) */
	char	 *name;		/* "Teaching school partners" */
	char	 *list_id;	/* partners.rmet.org (rfc 2919) */
	char	 *members;	/* path of the members file */
	int	  posting;	/* enum conf_list_posting */
	char	**owners;	/* lower case */
	size_t	  nowners;
	char	 *subject_tag;	/* "" = none */
	int	  reply_to_list;	/* reply-to = list */
	int	  subscribe_closed;	/* subscribe = closed */
	int	  archive;
	int	  exclude_sender;
	char	 *bounce_address;	/* partners-bounces@rmet.org */
	char	 *help_text;	/* appended to the built-in help */
	time_t	  token_lifetime;
	time_t	  reply_interval;	/* per sender and kind of reply */
	char	 *unsubscribe_url;	/* https://... or "" */
	int	  line;		/* of its block, for messages */
};

/* what an address is to a list */
enum conf_list_kind {
	CONF_LIST_NONE, CONF_LIST_POST, CONF_LIST_REQUEST, CONF_LIST_CONFIRM,
	CONF_LIST_BOUNCE
};

/* the options of a list block, for conf_milter.c's option table */
extern cfg_opt_t conf_mlist_opts[];
/* the validators of the list blocks */
void	conf_mlist_validators(cfg_t *);
/* the list blocks of the file path into *lists (*nlists of them, counted
 * as they are made, so conf_mlist_free frees what a failure left) */
int	conf_mlist_convert(cfg_t *, const char *path,
	    struct conf_list **lists, size_t *nlists, char *err,
	    size_t errsz);
void	conf_mlist_free(struct conf_list *, size_t);

/* the list addr belongs to, and how; for CONF_LIST_CONFIRM the token
 * from the address goes to token (DB_TOKEN_LEN hex + 1) */
struct conf_list *conf_mlist_find(struct conf_list *, size_t nlists,
	    const char *addr, int *kind, char *token, size_t tokensz);
/* 1 when addr is one of the list's owners */
int	conf_mlist_is_owner(const struct conf_list *, const char *addr);

#endif
