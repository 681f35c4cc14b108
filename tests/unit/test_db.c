/* reference allocation: unique, monotonic per year and prefix, durable
 * across reopen, safe under threads; ack times; the enquiry log */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "unit.h"

#define THREADS	4
#define PER	50

static struct db *shared;
static char refs[THREADS][PER][64];

static void *
alloc_many(void *arg)
{
	int t = (int)(long)arg, i;

	for (i = 0; i < PER; i++) {
		if (db_begin(shared) == -1)
			return NULL;
		if (db_ref_next(shared, "ENQ", 2026, refs[t][i],
		    sizeof(refs[t][i])) == -1) {
			db_rollback(shared);
			return NULL;
		}
		db_commit(shared);
	}
	return NULL;
}

static int
ref_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int listed;

static void
count(const struct db_enquiry *e, void *arg)
{
	(void)arg;
	if (listed == 0)
		CHECK_STR(e->reference, "ENQ-2026-000203", "newest first");
	listed++;
}

int
main(void)
{
	char dir[] = "/tmp/test_db.XXXXXX", path[256], ref[64], err[256];
	char all[THREADS * PER][64];
	pthread_t th[THREADS];
	struct db_enquiry e;
	struct db *db;
	long long when;
	int i, t, uniq = 1;

	log_init("test_db", 1);
	log_setlevel(LOG_LVL_ERR);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/enquiries.db", dir);
	db = db_open(path, err, sizeof(err));
	CHECK(db != NULL, "open %s", err);
	if (db == NULL)
		return 1;

	/* 1. first references of a year, and per prefix */
	db_begin(db);
	CHECK(db_ref_next(db, "ENQ", 2026, ref, sizeof(ref)) == 0, "alloc");
	CHECK_STR(ref, "ENQ-2026-000001", "first reference of the year");
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000002", "second reference");
	db_ref_next(db, "VIS", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "VIS-2026-000001", "each prefix counts alone");
	db_ref_next(db, "ENQ", 2027, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2027-000001", "a new year starts again");
	CHECK(db_commit(db) == 0, "commit");

	/* 2. a rolled-back allocation is given again; nothing half-kept */
	db_begin(db);
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000003", "third");
	db_rollback(db);
	db_begin(db);
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000003", "after rollback the same again");
	CHECK(db_ref_next(db, "ENQ", 2026, ref, 8) == -1,
	    "too small a buffer is an error");
	db_commit(db);

	/* 3. durable: a reopened database carries on */
	db_close(db);
	db = db_open(path, err, sizeof(err));
	CHECK(db != NULL, "reopen %s", err);
	db_begin(db);
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000005", "monotonic across reopen");
	db_commit(db);

	/* 4. threads: every reference unique */
	shared = db;
	for (t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, alloc_many, (void *)(long)t);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < THREADS; t++)
		for (i = 0; i < PER; i++)
			strcpy(all[t * PER + i], refs[t][i]);
	qsort(all, THREADS * PER, sizeof(all[0]), ref_cmp);
	for (i = 1; i < THREADS * PER; i++)
		if (strcmp(all[i], all[i - 1]) == 0 || all[i][0] == '\0')
			uniq = 0;
	CHECK(uniq, "%d references from %d threads all unique", THREADS * PER,
	    THREADS);
	CHECK_STR(all[THREADS * PER - 1], "ENQ-2026-000205",
	    "no gaps under threads");

	/* 5. ack times and the log */
	db_begin(db);
	CHECK(db_ack_last(db, "jane@example.org", "enquiries@rmet.org",
	    &when) == 1, "no ack yet");
	db_ack_set(db, "jane@example.org", "enquiries@rmet.org", 1000);
	db_ack_set(db, "jane@example.org", "enquiries@rmet.org", 2000);
	CHECK(db_ack_last(db, "jane@example.org", "enquiries@rmet.org",
	    &when) == 0 && when == 2000, "last ack time kept");
	CHECK(db_ack_last(db, "jane@example.org", "other@rmet.org",
	    &when) == 1, "ack times are per enquiry address");
	memset(&e, 0, sizeof(e));
	e.reference = "ENQ-2026-000202";
	e.time = 1;
	e.sender = "jane@example.org";
	e.subject = "hello";
	e.message_id = "<m1@example.org>";
	e.ack = "sent";
	db_enquiry_add(db, &e);
	e.reference = "ENQ-2026-000203";
	e.message_id = "<m2@example.org>";
	db_enquiry_add(db, &e);
	CHECK(db_find_msgid(db, "<m1@example.org>", "jane@example.org", ref,
	    sizeof(ref)) == 0, "found by message-id");
	CHECK_STR(ref, "ENQ-2026-000202", "message-id gives its reference");
	CHECK(db_find_msgid(db, "<m1@example.org>", "bob@example.org", ref,
	    sizeof(ref)) == 1, "another sender's message-id is not ours");
	CHECK(db_ref_known(db, "ENQ-2026-000203") == 1, "reference known");
	CHECK(db_ref_known(db, "ENQ-2026-999999") == 0, "reference unknown");
	db_commit(db);
	CHECK(db_ref_committed(db, "ENQ-2026-000202") == 1,
	    "committed reference seen outside a transaction");
	/* the spool sweep asks for the very transaction, not the reference:
	 * a follow-up reuses its enquiry's reference */
	CHECK(db_ack_committed(db, "ENQ-2026-000202", "jane@example.org", 1) ==
	    1, "committed acknowledgement found by reference, sender, time");
	CHECK(db_ack_committed(db, "ENQ-2026-000202", "jane@example.org", 2) ==
	    0, "same reference, another time: not committed");
	CHECK(db_ack_committed(db, "ENQ-2026-000202", "bob@example.org", 1) ==
	    0, "same reference, another sender: not committed");
	CHECK(db_list(db, 10, count, NULL) == 0 && listed == 2, "list %d",
	    listed);
	db_close(db);

	/* 6. an unwritable place is an error, not a crash */
	CHECK(db_open("/nonexistent/dir/x.db", err, sizeof(err)) == NULL,
	    "open in a missing directory fails: %s", err);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return UNIT_DONE();
}
