/*
 * regbench: what enquiry-milter's own work costs per message as the case
 * register grows. A register is filled with N cases (each a case row and
 * the enquiry row of its first message, written through the store's own
 * functions), then the milter's decision code (enquiry.c, the store, the
 * spool, as milter_eom calls them) is timed on M messages of three kinds:
 *
 *   new        an enquiry from a new sender: a case opened, an
 *              acknowledgement composed and spooled (fsync'd), one commit
 *   follow-up  the enquirer answers her acknowledgement (In-Reply-To)
 *   staff      a staff reply straight to an enquirer (no enquiries
 *              address): found by In-Reply-To, marked answered
 *
 * Each figure is wall time and CPU time per message. The wall time holds
 * the two fsyncs of a durable commit (spool file and database), which is
 * the disk's, not the register's; CPU time is what grows if a query does.
 * libmilter and the MTA are not in it: tests/bench/mail.sh measures those.
 *
 *   regbench CONF-TEMPLATE-DIR N M     (make bench runs 1000 and 100000)
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ack.h"
#include "ackmac.h"
#include "conf_milter.h"
#include "db.h"
#include "enquiry.h"
#include "log.h"
#include "mailhdr.h"
#include "spool.h"

static double
now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "regbench: %s\n", what);
	exit(1);
}

/* fill the register: n cases, one transaction per 10,000 */
static void
fill(struct db *db, long n, long long t0)
{
	char ref[64], sender[64], msgid[96], subj[64];
	struct db_enquiry e;
	struct db_case_new c;
	long i;

	for (i = 0; i < n; i++) {
		if (i % 10000 == 0 && db_begin(db) == -1)
			die("begin");
		if (db_ref_next(db, "ENQ", 2026, ref, sizeof(ref)) == -1)
			die("ref");
		snprintf(sender, sizeof(sender), "person%ld@example.org", i);
		snprintf(msgid, sizeof(msgid), "<fill.%ld@example.org>", i);
		snprintf(subj, sizeof(subj), "Question number %ld", i);
		memset(&e, 0, sizeof(e));
		e.reference = ref;
		e.time = t0 + i;
		e.queue_id = "FILL";
		e.enquiry = "enquiries@rmet.org";
		e.sender = sender;
		e.subject = subj;
		e.category = "general";
		e.message_id = msgid;
		e.recipients = "rachelle.stevens@rmet.org";
		e.ack = "sent";
		e.kind = DB_KIND_NEW;
		e.orig_msgid = msgid;
		e.sender_name = "A Person";
		e.from_addr = sender;
		e.size = 2000;
		memset(&c, 0, sizeof(c));
		c.reference = ref;
		c.enquiry = "enquiries@rmet.org";
		c.category = "general";
		c.sender = sender;
		c.sender_name = "A Person";
		c.subject = subj;
		c.time = t0 + i;
		/* acknowledged: a follow-up within ack-interval gets none */
		if (db_enquiry_add(db, &e) == -1 || db_case_open(db, &c) == -1 ||
		    db_ack_set(db, sender, "enquiries@rmet.org", t0 + i) == -1)
			die("fill");
		if ((i % 10000 == 9999 || i == n - 1) && db_commit(db) == -1)
			die("commit");
	}
}

/* one message as the glue would have collected it */
static void
msg_init(struct enquiry_msg *m, struct enquiry_rcpt *r, size_t nr,
    struct milter_conf *c, const char *sender, const char *from,
    const char *subject, const char *msgid, const char *in_reply_to)
{
	char v[512];

	memset(m, 0, sizeof(*m));
	m->conf = c;
	snprintf(m->sender, sizeof(m->sender), "%s", sender);
	m->rcpts = r;
	m->nrcpts = nr;
	for (size_t i = 0; i < nr; i++)
		if (r[i].enq)
			m->nenq++;
	mailhdr_info_init(&m->hdr);
	mailhdr_note(&m->hdr, "From", from);
	mailhdr_note(&m->hdr, "Subject", subject);
	mailhdr_note(&m->hdr, "Message-ID", msgid);
	if (in_reply_to) {
		mailhdr_note(&m->hdr, "In-Reply-To", in_reply_to);
		snprintf(m->in_reply_to, sizeof(m->in_reply_to), "%s",
		    in_reply_to);
	}
	snprintf(v, sizeof(v), "Hello, this is about %s.\r\n", subject);
	m->bodylen = strlen(v);
	memcpy(m->body, v, m->bodylen + 1);
	m->size = 2000;
}

static void
rcpt_set(struct enquiry_rcpt *r, struct milter_conf *c, const char *addr)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->raw, sizeof(r->raw), "<%s>", addr);
	snprintf(r->addr, sizeof(r->addr), "%s", addr);
	r->enq = conf_milter_enquiry(c, addr);
}

int
main(int argc, char *argv[])
{
	char dir[] = "/tmp/regbench.XXXXXX", path[256], conf[256], err[512];
	char sender[64], from[96], msgid[96], irt[96], qid[32];
	struct enquiry_rcpt r[2];
	struct enquiry_msg m;
	struct enquiry_result res;
	struct milter_conf *c;
	struct db *db;
	double w0, c0, wall[3], cpu[3];
	long n, k, i;
	int kind, round;
	FILE *f;

	if (argc != 4)
		die("usage: regbench TEMPLATE-DIR N M");
	n = atol(argv[2]);
	k = atol(argv[3]);
	log_init("regbench", 1);
	log_setlevel(LOG_LVL_WARN);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	snprintf(conf, sizeof(conf), "%s/m.conf", dir);
	if ((f = fopen(conf, "w")) == NULL)
		die("conf");
	fprintf(f, "state-dir = \"%s\"\nuser = \"nobody\"\n"
	    "hostname = \"milter.rmet.test\"\n"
	    "staff = {\"head@rmet.org\"}\n"
	    "enquiry \"enquiries@rmet.org\" {\n"
	    "\troute-to = {\"rachelle.stevens@rmet.org\"}\n"
	    "\tack-template = \"%s/enquiry-ack.txt\"\n"
	    "\tack-interval = \"7d\"\n}\n", dir, argv[1]);
	fclose(f);
	if ((c = conf_milter_load(conf, err, sizeof(err))) == NULL)
		die(err);
	conf_milter_set(c);
	snprintf(path, sizeof(path), "%s/enquiries.db", dir);
	if ((db = db_open(path, err, sizeof(err))) == NULL ||
	    spool_open(dir, ack_committed, db, err, sizeof(err)) == -1 ||
	    ackmac_init(dir, err, sizeof(err)) == -1)
		die(err);

	w0 = now_s(CLOCK_MONOTONIC);
	fill(db, n, (long long)time(NULL) - n);
	printf("# %ld cases filled in %.1f s\n", n,
	    now_s(CLOCK_MONOTONIC) - w0);

	/* the three kinds, m each, timed apart, after an untimed round of
	 * m / 3 each: the fill's own write-ahead log is checkpointed by
	 * then, as a running milter's would have been long before */
	for (round = 0; round < 2; round++)
	for (kind = 0; kind < 3; kind++) {
		long first = round ? k : 0, to = round ? 2 * k : k / 3;

		w0 = now_s(CLOCK_MONOTONIC);
		c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
		for (i = first; i < to; i++) {
			long target = (i * 7919) % n;	/* spread over all */

			snprintf(qid, sizeof(qid), "B%d%06ld", kind, i);
			snprintf(irt, sizeof(irt), "<fill.%ld@example.org>",
			    target);
			switch (kind) {
			case 0:
				snprintf(sender, sizeof(sender),
				    "new%ld@example.net", i);
				snprintf(from, sizeof(from), "New Person <%s>",
				    sender);
				snprintf(msgid, sizeof(msgid),
				    "<new.%ld@example.net>", i);
				rcpt_set(&r[0], c, "enquiries@rmet.org");
				msg_init(&m, r, 1, c, sender, from,
				    "A new question", msgid, NULL);
				break;
			case 1:
				snprintf(sender, sizeof(sender),
				    "person%ld@example.org", target);
				snprintf(from, sizeof(from), "A Person <%s>",
				    sender);
				snprintf(msgid, sizeof(msgid),
				    "<again.%ld@example.org>", i);
				rcpt_set(&r[0], c, "enquiries@rmet.org");
				msg_init(&m, r, 1, c, sender, from,
				    "Re: my question", msgid, irt);
				break;
			default:
				snprintf(sender, sizeof(sender),
				    "person%ld@example.org", target);
				snprintf(msgid, sizeof(msgid),
				    "<staff.%ld@rmet.org>", i);
				rcpt_set(&r[0], c, sender);
				msg_init(&m, r, 1, c, "head@rmet.org",
				    "Head <head@rmet.org>", "Re: your question",
				    msgid, irt);
				m.staff = 1;
			}
			if (kind == 2) {
				if (enquiry_staff_reply(&m, db, qid) != 1)
					die("a staff reply answered nothing");
			} else {
				if (enquiry_decide(&m, db, qid, &res) != 0)
					die("enquiry_decide failed");
				enquiry_result_free(&res);
			}
			if (m.text_open)
				mailbody_free(&m.text);
		}
		wall[kind] = (now_s(CLOCK_MONOTONIC) - w0) / (double)(to - first);
		cpu[kind] = (now_s(CLOCK_PROCESS_CPUTIME_ID) - c0) /
		    (double)(to - first);
	}
	printf("register %7ld cases: per message, wall / cpu (ms): "
	    "new %.2f / %.3f  follow-up %.2f / %.3f  staff reply %.2f / %.3f\n",
	    n, wall[0] * 1e3, cpu[0] * 1e3, wall[1] * 1e3, cpu[1] * 1e3,
	    wall[2] * 1e3, cpu[2] * 1e3);
	spool_close();
	db_close(db);
	conf_milter_set(NULL);
	if (getenv("KEEP") == NULL) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "regbench: could not remove %s\n", dir);
	} else
		fprintf(stderr, "# kept %s\n", dir);
	return 0;
}
