/* the engines beneath the store (db.c): sqlite (db_sqlite.c) and
 * postgresql (db_pg.c), the only files that call sqlite3_* or PQ*. db.c
 * writes each statement once, with ?N placeholders, in SQL both engines
 * run; a driver turns it into its own (postgresql: $N) and keeps the DDL
 * and the few bits the engines spell differently.
 *
 * return contract: step answers DB_ROW, DB_DONE or DB_ERR; what does
 * something returns 0, or -1 on error (then errmsg and failure say what
 * and how bad); connect and prepare return NULL on error. a connection
 * is used by one thread at a time (db.c's pool sees to it) */
#ifndef DB_DRIVER_H
#define DB_DRIVER_H

#include <stddef.h>

#define DB_ROW		1
#define DB_DONE		0
#define DB_ERR		(-1)

/* how bad the last error of a connection was */
#define DB_FAIL_QUERY	0	/* this statement: the store is fine */
#define DB_FAIL_DOWN	1	/* unreachable, read-only, shutting down */
#define DB_FAIL_BROKEN	2	/* the connection is lost: reconnect */

/* the bits of SQL the engines spell differently, by name */
#define DB_DIALECT_SQLITE	0
#define DB_DIALECT_PG		1

struct db_drv_conn;
struct db_drv_stmt;

struct db_driver {
	const char	*name;
	int		 dialect;
	/* target: a file for sqlite, a libpq connection string for
	 * postgresql. timeout: seconds any wait for the server may take
	 * (connecting, a lock, a statement) */
	struct db_drv_conn *(*connect)(const char *target, int timeout,
			    char *err, size_t errsz);
	void		 (*disconnect)(struct db_drv_conn *);
	/* create the schema, or bring an older one up to date */
	int		 (*schema)(struct db_drv_conn *, char *err,
			    size_t errsz);
	struct db_drv_stmt *(*prepare)(struct db_drv_conn *, const char *sql);
	void		 (*finalize)(struct db_drv_stmt *);
	/* parameter i counts from 1, as ?i; a NULL text is SQL NULL. the
	 * value must stay valid until reset */
	void		 (*bind_text)(struct db_drv_stmt *, int i, const char *);
	void		 (*bind_int)(struct db_drv_stmt *, int i, long long);
	/* an integer parameter that is NULL */
	void		 (*bind_int_null)(struct db_drv_stmt *, int i);
	int		 (*step)(struct db_drv_stmt *);
	/* run a statement whose answer is not needed: DB_DONE, or DB_ERR.
	 * in a transaction the engine may send it with the next step or
	 * the commit, which then fail when it did */
	int		 (*step_later)(struct db_drv_stmt *);
	/* columns of the row step answered; NULL for SQL NULL. valid
	 * until the next step or reset */
	const char	*(*column_text)(struct db_drv_stmt *, int col);
	long long	 (*column_int)(struct db_drv_stmt *, int col);
	/* the row's columns: how many, their names, which are numbers */
	int		 (*ncols)(struct db_drv_stmt *);
	const char	*(*column_name)(struct db_drv_stmt *, int col);
	int		 (*column_is_int)(struct db_drv_stmt *, int col);
	/* rows the statement inserted, updated or deleted */
	long long	 (*changes)(struct db_drv_stmt *);
	/* ready to bind and run again, bindings cleared */
	void		 (*reset)(struct db_drv_stmt *);
	/* statements without parameters or rows (several, ; separated) */
	int		 (*exec)(struct db_drv_conn *, const char *sql);
	/* a write transaction that serializes what must be serialized */
	int		 (*begin)(struct db_drv_conn *);
	int		 (*commit)(struct db_drv_conn *);
	int		 (*rollback)(struct db_drv_conn *);
	/* a read-only transaction whose statements all see one state */
	int		 (*begin_read)(struct db_drv_conn *);
	/* after personal data was deleted: gone from every file the engine
	 * keeps (sqlite: the write-ahead log emptied). -1 when some may
	 * stay until later */
	int		 (*after_purge)(struct db_drv_conn *);
	/* how long a statement waits for another's lock, milliseconds */
	void		 (*set_wait)(struct db_drv_conn *, int ms);
	/* 1 when the last error was such a lock outlasting the wait */
	int		 (*locked)(struct db_drv_conn *);
	/* 1 inside a transaction (after an error, too) */
	int		 (*in_transaction)(struct db_drv_conn *);
	const char	*(*errmsg)(struct db_drv_conn *);
	int		 (*failure)(struct db_drv_conn *);	/* DB_FAIL_* */
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

#endif
