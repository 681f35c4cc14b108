/* the milter's state: references, the enquiry log, the times
 * acknowledgements went out, mailing-list tokens and list reply times.
 * in sqlite (state-dir/enquiries.db; wal, synchronous=full, one
 * connection), or in a postgresql database several milters share
 * (database = "postgresql://..."; a pool of connections). safe under
 * libmilter's threads: a transaction holds one connection of the pool
 * from db_begin to its end, for the thread that began it; what runs
 * outside a transaction borrows one for itself. every wait (a free
 * connection, connecting, a lock, a statement) ends within the timeout.
 *
 * return contract: what does something (open aside) returns 0, or -1 on
 * error; what asks a question returns 1 yes, 0 no, -1 on error; a lookup
 * is a question: 1 found (and its out-parameters filled), 0 none, -1 on
 * error */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <time.h>

struct db;

struct db_enquiry {
	const char	*reference;
	long long	 time;
	const char	*queue_id;
	const char	*enquiry;	/* the enquiry address */
	const char	*sender;
	const char	*subject;
	const char	*category;
	const char	*message_id;
	const char	*recipients;	/* routed-to, space separated */
	const char	*ack;		/* "sent" or why none went out */
	const char	*kind;		/* DB_KIND_*; NULL in rows of schema 0 */
	const char	*orig_msgid;	/* its Message-ID field, or NULL */
	const char	*ack_msgid;	/* our acknowledgement's, or NULL */
	const char	*claimed;	/* a subject tag not honoured, or NULL */
};

/* what a recorded message is to its case. automatic mail (bounces,
 * auto-replies, lists, bulk) opens no case: it joins the case a reply
 * header names, or gets a marker AUTO-PREFIX-YYYY-NNNNNN of its own
 * sequence, which is no case reference */
#define DB_KIND_NEW		"new"
#define DB_KIND_FOLLOWUP	"follow-up"
#define DB_KIND_AUTOMATIC	"automatic"
#define DB_AUTO_PREFIX		"AUTO-"

#define DB_CONNECTIONS_DEFAULT	4	/* postgresql; sqlite has one */
#define DB_CONNECTIONS_MAX	64
#define DB_TIMEOUT_DEFAULT	10	/* seconds */

/* target: a postgresql:// (or postgres://) URL for the shared store
 * (see db_is_url), else the sqlite file. an unreachable server is no
 * error here: the store is then unavailable until it returns */
struct db	*db_open_pool(const char *target, int connections,
		    int timeout, char *err, size_t errsz);
/* with the default pool and timeout */
struct db	*db_open(const char *target, char *err, size_t errsz);
void		 db_close(struct db *);
/* 1 when target names a postgresql database */
int		 db_is_url(const char *target);
/* 1 while the store cannot be reached or written (an outage, logged
 * once when it starts and once when it ends), 0 when it can */
int		 db_unavailable(struct db *);

/* a write transaction: db_begin takes a connection for the calling
 * thread and begins; db_commit or db_rollback end it and give the
 * connection back. -1 when it cannot begin or commit (then nothing of it
 * was kept). transactions on the same address (db_lock_address) run one
 * after the other, across every milter sharing the store */
int	db_begin(struct db *);
int	db_commit(struct db *);
void	db_rollback(struct db *);

/* inside a transaction */
/* until the transaction ends, any other that locks the same address
 * (case aside) waits: what one decides about a sender (a retry, the ack
 * interval, the reply cap) the other then sees */
int	db_lock_address(struct db *, const char *addr);
/* the next reference for prefix and year: PREFIX-YYYY-NNNNNN */
int	db_ref_next(struct db *, const char *prefix, int year, char *out,
	    size_t outsz);
/* 1 and the reference of an enquiry with this message-id and sender,
 * 0 when there is none, -1 on error */
int	db_find_msgid(struct db *, const char *msgid, const char *sender,
	    char *ref, size_t refsz);
/* 1 when the reference is in the log, 0 when not, -1 on error */
int	db_ref_known(struct db *, const char *ref);
/* 1 and when the sender last got an acknowledgement for enquiry,
 * 0 never, -1 error */
int	db_ack_last(struct db *, const char *sender, const char *enquiry,
	    long long *when);
int	db_ack_set(struct db *, const char *sender, const char *enquiry,
	    long long when);
int	db_enquiry_add(struct db *, const struct db_enquiry *);
/* 1 and the case reference of a message to enquiry whose Message-ID (or
 * whose acknowledgement's) is msgid, 0 when none, -1 on error */
int	db_thread_msgid(struct db *, const char *msgid, const char *enquiry,
	    char *ref, size_t refsz);
/* 1 when addr sent a message of case ref or was routed one, 0 when not
 * (the null sender never is), -1 on error */
int	db_case_party(struct db *, const char *ref, const char *addr);
/* 1 and the category of the message that opened case ref, 0 when the
 * case is unknown, -1 on error */
int	db_case_category(struct db *, const char *ref, char *cat,
	    size_t catsz);
/* may an automatic reply (acknowledgement, list answer, owner notice) go
 * to addr now? at most limit per address in DB_AUTOREPLY_WINDOW seconds:
 * 1 yes (and this one is counted), 0 over the cap, -1 error. the one
 * place that decides it, for every kind of automatic mail */
#define DB_AUTOREPLY_WINDOW	3600
int	db_autoreply_allow(struct db *, const char *addr, long long now,
	    int limit);

/* outside a transaction: locks by itself */
/* 1 when the enquiry whose acknowledgement was spooled as ref, sender and
 * time (what milter_eom records in one transaction with it) was committed
 * with ack "sent", 0 when not, -1 on error. a reference alone is not
 * enough: a follow-up keeps its enquiry's reference */
int	db_ack_committed(struct db *, const char *ref, const char *sender,
	    long long when);
/* db_autoreply_allow in a transaction of its own */
int	db_autoreply_allow_now(struct db *, const char *addr, long long now,
	    int limit);
/* the last n enquiries, newest first */
int	db_list(struct db *, int n, void (*cb)(const struct db_enquiry *,
	    void *), void *arg);

/* mailing lists, outside a transaction: each locks by itself */
#define DB_TOKEN_LEN	32	/* hex characters */
/* a new token for action ("subscribe", "unsubscribe", "add", "remove")
 * on addr, valid until expires; token gets DB_TOKEN_LEN + 1 bytes */
int	db_token_new(struct db *, const char *list, const char *action,
	    const char *addr, long long now, long long expires, char *token,
	    size_t tokensz);
/* look a token up: 1 with its action and address while it is valid,
 * 0 when unknown, used or expired, -1 on error */
int	db_token_get(struct db *, const char *list, const char *token,
	    long long now, char *action, size_t actionsz, char *addr,
	    size_t addrsz);
/* use it up (after its action is done, so a failed action can be
 * retried): 1 when this call used it, 0 when it was gone, -1 error */
int	db_token_use(struct db *, const char *list, const char *token);
/* 1 when a reply of kind key may go to sender now (and it is recorded),
 * 0 when one went out less than interval seconds ago, -1 on error */
int	db_reply_allowed(struct db *, const char *sender, const char *key,
	    long long now, long long interval);

/* move the register of from (sqlite) into to (postgresql), every table
 * in one transaction of to: 1 when moved (*rows rows), 0 when to holds a
 * register moved in before (nothing done; err says from where), -1 on
 * error, to holding a register of its own included (nothing kept; err
 * says why) */
int	db_migrate(struct db *from, struct db *to, long long now,
	    long long *rows, char *err, size_t errsz);

/* the last error of the calling thread's store calls */
const char *db_errmsg(struct db *);

#endif
