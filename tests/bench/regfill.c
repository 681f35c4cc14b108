/*
 * regfill: a case register of N cases for the enquiries bench, written
 * through the store's own calls (db_enquiry_add, db_case_open,
 * db_case_inbound, db_case_answered), as the milter writes it, in
 * transactions of 1000 cases; then most of the answered cases are closed
 * in one statement (db_case_close is a transaction per case, which the
 * command needs and a fill of 100,000 cases cannot wait for).
 *
 *   regfill DB N [NOW]
 *
 * cases are spread over the two years before NOW (default: the time now),
 * one to three messages each; the last 6% new (some of them overdue), the
 * rest answered, and of the answered ones older than the last 15% nine in
 * ten closed. deterministic: the same N and NOW give the same register.
 * prints the reference of a case in the middle, for `show`.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"

static const char *const words[] = { "visit", "uniform", "transport",
    "admissions", "complaint", "governors", "minutes", "policy", "trips",
    "dinner", "term", "dates", "SEND", "support", "bus", "parking",
    "concert", "exam", "results", "library", "staff", "vacancy",
    "safeguarding", "data", "request", "meeting", "academy", "trust" };
static const char *const categories[] = { "general", "visit", "transport",
    "joining", "complaints", "governance" };
static const char *const first[] = { "Jane", "Sam", "Priya", "Tom",
    "Aisha", "Liam", "Zoe", "Mohammed", "Grace", "Oliver" };
static const char *const last[] = { "Taylor", "Patel", "Khan", "Smith",
    "Brown", "O'Brien", "Jones", "Evans", "Walker", "Wright" };

#define NWORDS	(sizeof(words) / sizeof(words[0]))

/* a small deterministic generator */
static unsigned long long seed = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (unsigned)(seed % n);
}

int
main(int argc, char *argv[])
{
	char err[512], ref[64], mid[64] = "", subj[160], addr[96], name[96];
	char msgid[128], reply[256];
	struct db_case_new c;
	struct db_enquiry e;
	struct db *db;
	sqlite3 *h;
	long long now, span = 2LL * 365 * 86400, t, i, n;
	unsigned k, msgs;

	if (argc < 3 || (n = atoll(argv[2])) < 1) {
		fprintf(stderr, "usage: regfill DB N [NOW]\n");
		return 2;
	}
	now = argc > 3 ? atoll(argv[3]) : (long long)time(NULL);
	log_init("regfill", 1);
	if ((db = db_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "regfill: %s\n", err);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (i % 1000 == 0 && db_begin(db) == -1)
			goto fail;
		/* oldest first, as they arrive */
		t = now - span + span * i / n;
		snprintf(ref, sizeof(ref), "ENQ-%04lld-%06lld", 2024 + i /
		    500000, i % 500000 + 1);
		k = rnd(10);
		snprintf(name, sizeof(name), "%s %s", first[k],
		    last[rnd(10)]);
		snprintf(addr, sizeof(addr), "%s.%u@example%u.org", first[k],
		    rnd(30000), rnd(50));
		for (size_t j = 0; addr[j]; j++)
			if (addr[j] >= 'A' && addr[j] <= 'Z')
				addr[j] = (char)(addr[j] - 'A' + 'a');
		snprintf(subj, sizeof(subj), "%s %s %s about %s",
		    words[rnd(NWORDS)], words[rnd(NWORDS)],
		    words[rnd(NWORDS)], words[rnd(NWORDS)]);
		snprintf(msgid, sizeof(msgid), "<%lld.%u@example.org>", i,
		    rnd(1000000));
		memset(&e, 0, sizeof(e));
		e.reference = ref;
		e.time = t;
		e.queue_id = "4XyZ1A2B3C";
		e.enquiry = "enquiries@rmet.org";
		e.sender = addr;
		e.from_addr = addr;
		e.sender_name = name;
		e.subject = subj;
		e.category = categories[rnd(6)];
		e.message_id = msgid;
		e.orig_msgid = msgid;
		e.recipients = "head@rmet.org";
		e.ack = "sent";
		e.kind = DB_KIND_NEW;
		e.size = 1500 + rnd(20000);
		c.reference = ref;
		c.enquiry = e.enquiry;
		c.category = e.category;
		c.sender = addr;
		c.sender_name = name;
		c.subject = subj;
		c.time = t;
		if (db_enquiry_add(db, &e) == -1 || db_case_open(db, &c) != 1)
			goto fail;
		/* follow-ups */
		msgs = rnd(3);
		snprintf(reply, sizeof(reply), "Re: [%s] %s", ref, subj);
		for (k = 0; k < msgs; k++) {
			e.time = t + 3600 * (k + 1);
			e.subject = reply;
			e.kind = DB_KIND_FOLLOWUP;
			e.ack = "interval";
			e.orig_msgid = NULL;
			if (db_enquiry_add(db, &e) == -1 ||
			    db_case_inbound(db, ref, addr, reply,
			    e.time) != 1)
				goto fail;
		}
		/* the last 6% are new; the rest answered within a day or
		 * ten */
		if (i < n - n * 6 / 100 && db_case_answered(db, ref,
		    "head@rmet.org", t + 3600 * (4 + rnd(240))) != 1)
			goto fail;
		if (i == n / 2)
			snprintf(mid, sizeof(mid), "%s", ref);
		if ((i % 1000 == 999 || i == n - 1) && db_commit(db) == -1)
			goto fail;
	}
	db_close(db);
	/* nine in ten answered cases, but the last 15%, closed 12 days in */
	if (sqlite3_open(argv[1], &h) != SQLITE_OK || sqlite3_exec(h,
	    "PRAGMA synchronous=OFF; BEGIN;"
	    "CREATE TEMP TABLE old AS SELECT reference FROM enq_case "
	    " WHERE first_answer IS NOT NULL AND opened < (SELECT "
	    " min(opened) + (max(opened) - min(opened)) * 85 / 100 FROM "
	    " enq_case) AND CAST(substr(reference, 10) AS INTEGER) % 10 <> 0;"
	    "UPDATE enq_case SET status = 'closed', closed = opened + 12 * "
	    " 86400 WHERE reference IN (SELECT reference FROM old);"
	    "INSERT INTO case_event(reference, time, what, actor) SELECT "
	    " reference, closed, 'closed', 'enquiries' FROM enq_case WHERE "
	    " reference IN (SELECT reference FROM old);"
	    "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL,
	    NULL) != SQLITE_OK) {
		fprintf(stderr, "regfill: closing: %s\n", sqlite3_errmsg(h));
		return 1;
	}
	sqlite3_close(h);
	printf("%s\n", mid);
	return 0;
fail:
	fprintf(stderr, "regfill: %s\n", db_errmsg(db));
	return 1;
}
