/* the milter's state: references, the enquiry log, the case register
 * (one row per case, its history, the digests sent), the times
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
 * error. the case commands (close, reopen, note) answer one of DB_CASE_*.
 *
 * schema version 2 (PRAGMA user_version): a database of an older version
 * is upgraded in place when opened, one of a newer version is refused.
 * every query is portable sql (sqlite 3.40 and postgresql 15); times are
 * unix seconds */
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
	/* schema 2: NULL (size -1) in rows recorded before */
	const char	*sender_name;	/* display name of From:, or NULL */
	const char	*from_addr;	/* address of From:, or NULL */
	long long	 size;		/* bytes, 0 or -1 unknown */
};

/* a new case, as the milter opens it */
struct db_case_new {
	const char	*reference;
	const char	*enquiry;	/* the enquiries address */
	const char	*category;
	const char	*sender;	/* From: address, else the envelope's */
	const char	*sender_name;	/* or NULL */
	const char	*subject;
	long long	 time;
};

/* a case as the register holds it; personal fields are NULL once purged,
 * times 0 when unset */
#define DB_STATUS_NEW		"new"
#define DB_STATUS_ANSWERED	"answered"
#define DB_STATUS_CLOSED	"closed"
struct db_case {
	const char	*reference;
	const char	*enquiry;
	const char	*category;
	long long	 opened;
	const char	*sender;
	const char	*sender_name;
	const char	*subject;
	const char	*status;	/* DB_STATUS_* */
	long long	 waiting_since;	/* an answer awaited since */
	long long	 first_answer;
	long long	 answered;	/* the last staff reply */
	long long	 closed;
	long long	 purged;	/* personal data removed then */
};

/* one line of a case's history */
struct db_event {
	long long	 time;
	const char	*what;	/* opened message answered closed reopened
				 * note purged */
	const char	*actor;	/* an address or "enquiries"; NULL purged */
	const char	*text;	/* note, or message subject; NULL purged */
};

/* which cases db_cases lists: every condition given must hold */
struct db_case_filter {
	int		 open;		/* status new or answered */
	int		 closed;	/* status closed */
	int		 overdue;	/* new, waiting since before overdue_before */
	long long	 overdue_before;
	long long	 since;		/* opened at or after; 0 any */
	const char	*category;	/* NULL any */
	const char	*search;	/* in reference, subject, sender or its
					 * name, any case; NULL any */
	long long	 limit;		/* 0 all */
};

/* what the case commands answer */
#define DB_CASE_DONE		1
#define DB_CASE_UNKNOWN		0	/* no such reference */
#define DB_CASE_UNCHANGED	2	/* it already is (closed, open) */
#define DB_CASE_PURGED		3	/* its personal data is gone: no notes,
					 * no reopening */

/* one row for stats: figures are computed by the caller */
struct db_stat_row {
	long long	 opened;
	const char	*category;
	const char	*status;
	long long	 waiting_since;
	long long	 first_answer;	/* 0 none */
};

/* one row of a subject access export: table names the kind ("case",
 * "message", "event", "acknowledgement", "auto_reply", "list_reply",
 * "list_token"), then n columns; a value is NULL when the column is;
 * isint[i] when it is a number */
struct db_export_row {
	const char		 *table;
	int			  n;
	const char *const	 *names;
	const char *const	 *values;
	const int		 *isint;
};

/* what a purge removed */
struct db_purge_count {
	long long	cases;		/* cases whose personal data went */
	long long	messages;	/* enquiry rows deleted */
	long long	other;		/* events, ack, reply and token rows */
	int		wal_kept;	/* done, but the wal could not be
					 * emptied yet (a reader in the way):
					 * it may still hold what went */
};

/* what a recorded message is to its case. automatic mail (bounces,
 * auto-replies, lists, bulk) opens no case: it joins the case a reply
 * header names, or gets a marker AUTO-PREFIX-YYYY-NNNNNN of its own
 * sequence, which is no case reference */
#define DB_KIND_NEW		"new"
#define DB_KIND_FOLLOWUP	"follow-up"
#define DB_KIND_AUTOMATIC	"automatic"
#define DB_AUTO_PREFIX		"AUTO-"

#define DB_SCHEMA_VERSION	2

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
/* how long a statement waits for another writer's lock, in milliseconds
 * (db_open sets DB_TIMEOUT_DEFAULT seconds); then it fails and
 * db_locked says it was locked */
void		 db_set_wait(struct db *, int ms);

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
/* the case register, inside the milter's transaction */
/* a new case (status new, waiting since its time) and its event
 * "opened": 1 opened, 0 when the reference already has a case (then
 * nothing is written), -1 on error */
int	db_case_open(struct db *, const struct db_case_new *);
/* a message from the enquirer in case ref: event "message" (text the
 * subject, may be NULL); an answered or closed case is new again, waiting
 * since when (event "reopened" first when it was closed); a case already
 * new keeps the time it has waited since. 1 done, 0 when there is no such
 * case or it was purged, -1 on error */
int	db_case_inbound(struct db *, const char *ref, const char *from,
	    const char *subject, long long when);
/* 1 and the case whose enquiry, acknowledgement or routed copy has this
 * message-id, for any enquiry address; 0 none; -1 error */
int	db_case_by_msgid(struct db *, const char *msgid, char *ref,
	    size_t refsz);
/* a staff reply by address by: status answered unless closed,
 * first_answer set once, answered = when, event "answered". 1 done, 0
 * no such case (or purged), -1 on error */
int	db_case_answered(struct db *, const char *ref, const char *by,
	    long long when);
/* the digest of day (YYYY-MM-DD): 1 when this call claimed it, 0 when
 * it was claimed before, -1 error. claimed in the transaction that
 * commits its spool file, so a digest is neither lost nor sent twice */
int	db_digest_claim(struct db *, const char *day, long long now);
/* 1 and the enquirer (the case's sender) of case ref in out, 0 when there
 * is no such case or it was purged, -1 on error (or when it does not
 * fit) */
int	db_case_sender(struct db *, const char *ref, char *out, size_t outsz);

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

/* the case register, outside a transaction: each locks by itself. the
 * commands answer DB_CASE_* or -1; actor is who did it ("enquiries" for
 * the command, or an address) */
int	db_case_close(struct db *, const char *ref, const char *actor,
	    const char *note, long long when);	/* note NULL: none */
int	db_case_reopen(struct db *, const char *ref, const char *actor,
	    long long when);
int	db_case_note(struct db *, const char *ref, const char *actor,
	    const char *text, long long when);
/* cases matching the filter, oldest first: cb per case; 0 or -1 */
int	db_cases(struct db *, const struct db_case_filter *,
	    void (*cb)(const struct db_case *, void *), void *arg);
/* one case: 1 and cb called, 0 unknown, -1 error */
int	db_case_get(struct db *, const char *ref,
	    void (*cb)(const struct db_case *, void *), void *arg);
/* its history and its messages, oldest first: 0 or -1 */
int	db_case_history(struct db *, const char *ref,
	    void (*cb)(const struct db_event *, void *), void *arg);
int	db_case_messages(struct db *, const char *ref,
	    void (*cb)(const struct db_enquiry *, void *), void *arg);
/* every case opened at or after since (purged ones too), for the
 * figures: 0 or -1 */
int	db_stats(struct db *, long long since,
	    void (*cb)(const struct db_stat_row *, void *), void *arg);
/* the 1 or 0 of db_digest_claim, asked outside a transaction (a restart
 * asks whether the digest of day went) */
int	db_digest_claimed(struct db *, const char *day);
/* 1 and when the last digest was spooled, 0 never, -1 error */
int	db_digest_last(struct db *, long long *when);
/* db_digest_claim in a transaction of its own */
int	db_digest_claim_now(struct db *, const char *day, long long now);
/* 1 when the digest of day was claimed with spooled = when (what the
 * spool sweep asks of a file written at when), 0 when not, -1 error */
int	db_digest_committed(struct db *, const char *day, long long when);
/* everything held about addr (any case): cb per row; 0 or -1 */
int	db_export_address(struct db *, const char *addr,
	    void (*cb)(const struct db_export_row *, void *), void *arg);
/* erasure: the cases addr opened lose their personal data (and are
 * closed), the messages addr sent go, the history forgets addr, and the
 * acknowledgement, auto-reply, list reply and token rows of addr go. then
 * the wal is checkpointed, so the address is in neither file. 0 or -1
 * (then nothing was purged); see wal_kept */
int	db_purge_address(struct db *, const char *addr, long long when,
	    struct db_purge_count *);
/* retention: closed cases closed before before lose their personal data
 * (messages deleted, personal columns NULL), keeping reference, category,
 * times and status for the figures; automatic mail (no case's) received
 * before then goes, and so do acknowledgement, auto-reply, list reply and
 * expired token rows older than that. the wal is checkpointed after.
 * 0 or -1 */
int	db_purge_expired(struct db *, long long before, long long when,
	    struct db_purge_count *);

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
/* 1 when the calling thread's last error was another program's lock
 * outlasting the wait (db_set_wait), 0 when it was something else */
int	db_locked(struct db *);

#endif
