/* mailing-list state in the milter's sqlite database (its own connection
 * to state-dir/enquiries.db, its own tables): confirmation tokens (single
 * use, expiring) and the times replies to LIST-request went out (the rate
 * limit, as for acknowledgements) */
#ifndef MLIST_DB_H
#define MLIST_DB_H

#include <stddef.h>

#define MLIST_TOKEN_LEN	32	/* hex characters */

/* open (once; later calls reuse it) the database under state_dir */
int	mlist_db_open(const char *state_dir, char *err, size_t errsz);
void	mlist_db_close(void);

/* a new token for action ("subscribe", "unsubscribe", "add", "remove")
 * on addr, valid until expires; token gets MLIST_TOKEN_LEN + 1 bytes */
int	mlist_db_token_new(const char *list, const char *action,
	    const char *addr, long long now, long long expires, char *token,
	    size_t tokensz);
/* look a token up: 0 with its action and address while it is valid,
 * 1 when unknown, used or expired, -1 on error */
int	mlist_db_token_get(const char *list, const char *token,
	    long long now, char *action, size_t actionsz, char *addr,
	    size_t addrsz);
/* use it up (after its action is done, so a failed action can be
 * retried): 0 when this call used it, 1 when it was gone, -1 error */
int	mlist_db_token_use(const char *list, const char *token);
/* 1 when a reply of kind key may go to sender now (and it is recorded),
 * 0 when one went out less than interval seconds ago, -1 on error */
int	mlist_db_reply_allowed(const char *sender, const char *key,
	    long long now, long long interval);

#endif
