/* the decision for one enquiry (enquiry.c), driven with plain structs
 * against a real store and spool in a temporary state directory: a new
 * case and its acknowledgement, an MTA retry (by Message-ID and, without
 * one, by content), a follow-up by In-Reply-To keeping its case's
 * category, automatic mail with a marker of its own, a subject tag from a
 * stranger that is not honoured; the case register as mail passes: a case
 * opened with the From: field's name and address, staff replies (in copy
 * and straight to the enquirer) marking it answered and strangers' not,
 * a closed case reopened by its enquirer only, and the spool sweep's
 * question for a digest */
#include <dirent.h>
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
#include "unit.h"

static char dir[] = "/tmp/test_enquiry.XXXXXX";
static struct milter_conf *conf;
static struct db *db;
static struct enquiry_rcpt rcpt;
static int listed;

static void
put(const char *file, const char *text)
{
	FILE *fp = fopen(file, "w");

	if (fp == NULL)
		return;
	fputs(text, fp);
	fclose(fp);
}

/* files in the spool's new/: acknowledgements committed */
static int
spooled(void)
{
	char path[300];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/spool/new", dir);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
count(const struct db_enquiry *e, void *arg)
{
	(void)e;
	(void)arg;
	listed++;
}

static int
recorded(void)
{
	listed = 0;
	return db_list(db, 1000, count, NULL) == 0 ? listed : -1;
}

/* a message from sender to the enquiry address with a few header fields
 * (NULL: none) */
static void
message(struct enquiry_msg *m, const char *sender, const char *subject,
    const char *msgid, const char *in_reply_to)
{
	char from[MAILHDR_ADDR_MAX + 8];

	memset(m, 0, sizeof(*m));
	m->conf = conf;
	snprintf(m->sender, sizeof(m->sender), "%s", sender);
	mailhdr_info_init(&m->hdr);
	if (sender[0]) {
		snprintf(from, sizeof(from), "<%s>", sender);
		mailhdr_note(&m->hdr, "From", from);
	} else
		mailhdr_note(&m->hdr, "From", "Mail Delivery System "
		    "<MAILER-DAEMON@mx.example.net>");
	if (subject)
		mailhdr_note(&m->hdr, "Subject", subject);
	if (msgid)
		mailhdr_note(&m->hdr, "Message-ID", msgid);
	if (in_reply_to)
		snprintf(m->in_reply_to, sizeof(m->in_reply_to), "%s",
		    in_reply_to);
	snprintf(rcpt.raw, sizeof(rcpt.raw), "<enquiries@rmet.org>");
	snprintf(rcpt.addr, sizeof(rcpt.addr), "enquiries@rmet.org");
	rcpt.enq = conf_milter_enquiry(conf, rcpt.addr);
	m->rcpts = &rcpt;
	m->nrcpts = 1;
	m->nenq = 1;
	snprintf(m->body, sizeof(m->body), "Hello,\r\nA question.\r\n");
	m->bodylen = strlen(m->body);
}

/* the same from a display name, to the enquirer and (enq) the enquiry
 * address */
static struct enquiry_rcpt rcpts2[2];

static void
reply(struct enquiry_msg *m, const char *sender, const char *from,
    const char *to, int enq, const char *subject, const char *msgid,
    const char *in_reply_to)
{
	message(m, sender, subject, msgid, in_reply_to);
	mailhdr_info_init(&m->hdr);
	mailhdr_note(&m->hdr, "From", from);
	mailhdr_note(&m->hdr, "Subject", subject);
	mailhdr_note(&m->hdr, "Message-ID", msgid);
	snprintf(rcpts2[0].raw, sizeof(rcpts2[0].raw), "<%s>", to);
	snprintf(rcpts2[0].addr, sizeof(rcpts2[0].addr), "%s", to);
	rcpts2[0].enq = NULL;
	rcpts2[1] = rcpt;
	m->rcpts = rcpts2;
	m->nrcpts = enq ? 2 : 1;
	m->nenq = enq ? 1 : 0;
}

/* a case's fields, copied out */
struct got_case {
	char	status[16], sender[64], name[64];
	long long first_answer;
};

static void
got_one(const struct db_case *c, void *arg)
{
	struct got_case *g = arg;

	snprintf(g->status, sizeof(g->status), "%s", c->status);
	snprintf(g->sender, sizeof(g->sender), "%s", c->sender ? c->sender :
	    "NULL");
	snprintf(g->name, sizeof(g->name), "%s", c->sender_name ?
	    c->sender_name : "NULL");
	g->first_answer = c->first_answer;
}

static const char *
status_of(const char *ref, struct got_case *g)
{
	memset(g, 0, sizeof(*g));
	if (db_case_get(db, ref, got_one, g) != 1)
		return "unknown";
	return g->status;
}

/* the case's history as one string: "opened answered ..." */
static char history[512];

static void
event_one(const struct db_event *e, void *arg)
{
	(void)arg;
	strncat(history, e->what, sizeof(history) - strlen(history) - 2);
	strcat(history, " ");
}

static const char *
history_of(const char *ref)
{
	history[0] = '\0';
	if (db_case_history(db, ref, event_one, NULL) == -1)
		return "error";
	return history;
}

static int
decide(struct enquiry_msg *m, struct enquiry_result *res)
{
	return enquiry_decide(m, db, "TESTQID", res);
}

static void
done(struct enquiry_msg *m, struct enquiry_result *res)
{
	enquiry_result_free(res);
	if (m->text_open)
		mailbody_free(&m->text);
}

int
main(void)
{
	struct enquiry_msg m;
	struct enquiry_result res;
	char path[300], tmpl[300], text[1024], err[512], ref1[64], ref2[64];
	char ref3[64];
	struct got_case g;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	log_init("test_enquiry", 1);
	log_setlevel(LOG_LVL_ERR);
	if (mkdtemp(dir) == NULL)
		return 1;
	gmtime_r(&now, &tm);
	snprintf(ref1, sizeof(ref1), "ENQ-%04d-000001", tm.tm_year + 1900);
	snprintf(ref2, sizeof(ref2), "ENQ-%04d-000002", tm.tm_year + 1900);
	snprintf(tmpl, sizeof(tmpl), "%s/ack.txt", dir);
	put(tmpl, "Your reference is {{reference}}.\n");
	snprintf(text, sizeof(text),
	    "state-dir = \"%s\"\n"
	    "staff = {\"head@rmet.org\"}\n"
	    "authserv-id = \"mx.rmet.test\"\n"
	    "enquiry \"enquiries@rmet.org\" {\n"
	    "  route-to = {\"gov@rmet.org\"}\n"
	    "  ack-template = \"%s\"\n"
	    "  bounce-address = \"bounces@rmet.org\"\n"
	    "  category \"visit\" {\n"
	    "    keywords = {\"open day\"}\n"
	    "    route-to = {\"visits@rmet.org\"}\n"
	    "  }\n"
	    "}\n", dir, tmpl);
	snprintf(path, sizeof(path), "%s/enquiry-milter.conf", dir);
	put(path, text);
	conf = conf_milter_load(path, err, sizeof(err));
	CHECK(conf != NULL, "config loads: %s", conf ? "" : err);
	snprintf(path, sizeof(path), "%s/enquiries.db", dir);
	db = db_open(path, err, sizeof(err));
	CHECK(db != NULL, "store opens: %s", db ? "" : err);
	if (conf == NULL || db == NULL)
		return 1;
	CHECK(spool_open(dir, ack_committed, db, err, sizeof(err)) == 0 &&
	    ackmac_init(dir, err, sizeof(err)) == 0, "spool and key: %s",
	    err);

	/* 1. a new enquiry: a case, its keywords' category and route, an
	 * acknowledgement spooled and committed */
	message(&m, "jane@example.org", "Your open day", "<m1@example.org>",
	    NULL);
	rc = decide(&m, &res);
	CHECK(rc == 0, "a new enquiry decided");
	CHECK_STR(res.mc.ref, ref1, "the first reference of the year");
	CHECK_STR(res.mc.kind, DB_KIND_NEW, "a new case");
	CHECK(res.mc.is_case && !res.mc.retry, "a case, not a retry");
	CHECK_STR(res.category, "visit", "category by keyword");
	CHECK(res.nroutes == 1 && strcmp(res.routes[0], "visits@rmet.org") ==
	    0, "routed to the category's address");
	CHECK_STR(res.routed, "visits@rmet.org", "routes for the log");
	CHECK(res.why == MAILHDR_ACK, "acknowledged");
	CHECK(res.autowhy == NULL, "no machine");
	CHECK(res.internal == 1, "every recipient ours: internal headers go "
	    "in");
	CHECK(res.enq == rcpt.enq, "the enquiry named");
	CHECK(spooled() == 1, "one acknowledgement committed to the spool");
	CHECK(recorded() == 1, "one record");
	done(&m, &res);

	/* 2. the MTA retries it: the same case, no second ack, no record */
	message(&m, "jane@example.org", "Your open day", "<m1@example.org>",
	    NULL);
	CHECK(decide(&m, &res) == 0 && res.mc.retry &&
	    strcmp(res.mc.ref, ref1) == 0, "a retry keeps its reference");
	CHECK(res.why == MAILHDR_NOACK_DUPLICATE, "a retry is not "
	    "acknowledged again: %s", mailhdr_noack_name(res.why));
	CHECK(spooled() == 1 && recorded() == 1, "nothing new spooled or "
	    "recorded");
	done(&m, &res);

	/* 3. a follow-up by In-Reply-To: its case, and the case's category
	 * though no keyword matches */
	message(&m, "jane@example.org", "one more thing", "<m2@example.org>",
	    "<m1@example.org>");
	CHECK(decide(&m, &res) == 0 && strcmp(res.mc.ref, ref1) == 0,
	    "a reply joins its case");
	CHECK_STR(res.mc.kind, DB_KIND_FOLLOWUP, "a follow-up");
	CHECK_STR(res.category, "visit", "the case keeps its category");
	CHECK(res.why == MAILHDR_NOACK_INTERVAL, "no second ack within "
	    "ack-interval: %s", mailhdr_noack_name(res.why));
	CHECK(spooled() == 1 && recorded() == 2, "recorded, not acknowledged");
	done(&m, &res);

	/* 4. without a Message-ID a retry is known by its content */
	message(&m, "bob@example.org", "a question", NULL, NULL);
	CHECK(decide(&m, &res) == 0 && strcmp(res.mc.ref, ref2) == 0 &&
	    !res.mc.retry, "no Message-ID: a new case");
	CHECK_STR(res.category, "general", "no keyword: general");
	CHECK(res.nroutes == 1 && strcmp(res.routes[0], "gov@rmet.org") == 0,
	    "routed to the enquiry's address");
	done(&m, &res);
	message(&m, "bob@example.org", "a question", NULL, NULL);
	CHECK(decide(&m, &res) == 0 && strcmp(res.mc.ref, ref2) == 0 &&
	    res.mc.retry, "the same content again: the retry");
	done(&m, &res);
	CHECK(spooled() == 2 && recorded() == 3, "one ack and one record for "
	    "bob");

	/* 5. a bounce: automatic, a marker of its own, no case, no ack */
	message(&m, "", "Undelivered Mail Returned to Sender",
	    "<b1@mx.example.net>", NULL);
	CHECK(decide(&m, &res) == 0, "a bounce decided");
	CHECK(strncmp(res.mc.ref, "AUTO-ENQ-", 9) == 0 && !res.mc.is_case,
	    "an automatic marker, no case: %s", res.mc.ref);
	CHECK_STR(res.mc.kind, DB_KIND_AUTOMATIC, "kind automatic");
	CHECK(res.autowhy != NULL && strcmp(res.autowhy, "null-sender") == 0,
	    "why automatic: null-sender");
	CHECK(res.why == MAILHDR_NOACK_NULL_SENDER, "not acknowledged");
	done(&m, &res);

	/* 6. a stranger claiming a case by its subject tag: not honoured */
	snprintf(text, sizeof(text), "Re: [%s] hello", ref1);
	message(&m, "mallory@example.net", text, "<x1@example.net>", NULL);
	CHECK(decide(&m, &res) == 0, "a claimed tag decided");
	CHECK(strcmp(res.mc.ref, ref1) != 0 && strcmp(res.mc.kind,
	    DB_KIND_NEW) == 0, "a stranger's tag opens a new case: %s",
	    res.mc.ref);
	CHECK_STR(res.mc.claimed, ref1, "the claimed tag noted");
	done(&m, &res);

	/* 7. a party's tag joins the case */
	snprintf(text, sizeof(text), "Re: [%s] hello", ref1);
	message(&m, "jane@example.org", text, "<m3@example.org>", NULL);
	CHECK(decide(&m, &res) == 0 && strcmp(res.mc.ref, ref1) == 0 &&
	    res.mc.claimed[0] == '\0', "the sender's own tag joins her "
	    "case");
	done(&m, &res);

	/* 8. the register: jane's case, opened with her From: field */
	CHECK_STR(status_of(ref1, &g), "new", "case %s is new", ref1);
	CHECK_STR(g.sender, "jane@example.org", "its enquirer");
	CHECK_STR(history_of(ref1), "opened message message ", "its history: "
	    "opened, and jane's two follow-ups (a stranger's tag is none)");
	reply(&m, "web+1f@forms.example", "Omar Haddad <omar@example.org>",
	    "x@example.org", 0, "Admissions", "<o1@example.org>", NULL);
	m.nrcpts = 1;
	m.rcpts = &rcpt;
	m.nenq = 1;
	m.size = 4321;
	CHECK(decide(&m, &res) == 0 && strcmp(res.mc.kind, DB_KIND_NEW) == 0,
	    "omar's enquiry through a form");
	snprintf(ref3, sizeof(ref3), "%s", res.mc.ref);
	done(&m, &res);
	CHECK_STR(status_of(ref3, &g), "new", "omar's case %s", ref3);
	CHECK_STR(g.sender, "omar@example.org", "the enquirer is the From: "
	    "address, not the form's envelope sender");
	CHECK_STR(g.name, "Omar Haddad", "with the display name");

	/* 9. strangers mark nothing: a tag with enquiries@ in copy, a
	 * forged From:, both forged but spf fail by our mta */
	snprintf(text, sizeof(text), "Re: [%s] Admissions", ref3);
	reply(&m, "mallory@example.net", "<mallory@example.net>",
	    "omar@example.org", 1, text, "<s1@example.net>", NULL);
	CHECK(decide(&m, &res) == 0, "a stranger with the tag, enquiries@ "
	    "in copy");
	done(&m, &res);
	reply(&m, "mallory@example.net", "Head <head@rmet.org>",
	    "omar@example.org", 0, text, "<s2@example.net>", NULL);
	CHECK(enquiry_staff_sent(&m) == 0 && enquiry_staff_reply(&m, db,
	    "Q") == 0, "a forged From: alone is no staff reply");
	reply(&m, "head@rmet.org", "Head <head@rmet.org>",
	    "omar@example.org", 0, text, "<s3@example.net>", NULL);
	mailhdr_note(&m.hdr, "Authentication-Results",
	    "mx.rmet.test; spf=fail smtp.mailfrom=head@rmet.org");
	CHECK(enquiry_staff_sent(&m) == 0 && enquiry_staff_reply(&m, db,
	    "Q") == 0, "spf fail by our mta: no staff reply");
	CHECK_STR(status_of(ref3, &g), "new", "%s still new", ref3);

	/* 10. staff answer: a colleague's note names the case but goes to
	 * no enquirer; the head's reply to omar with enquiries@ in copy */
	reply(&m, "head@rmet.org", "Head <head@rmet.org>",
	    "rachelle@rmet.org", 0, text, "<h0@rmet.org>", NULL);
	CHECK(enquiry_staff_sent(&m) == 1 && enquiry_staff_reply(&m, db,
	    "Q") == 0, "a note to a colleague answers nothing");
	reply(&m, "head@rmet.org", "Head <head@rmet.org>",
	    "omar@example.org", 1, text, "<h1@rmet.org>", NULL);
	CHECK(decide(&m, &res) == 0 && strcmp(res.mc.ref, ref3) == 0,
	    "the head's reply in copy joins %s by its tag", ref3);
	done(&m, &res);
	CHECK_STR(status_of(ref3, &g), "answered", "%s answered", ref3);
	CHECK(g.first_answer > 0, "its first answer is set");
	/* straight to jane, by In-Reply-To: authenticated, the envelope
	 * sender is no matter */
	reply(&m, "someone@elsewhere.example", "Gov <gov@rmet.org>",
	    "jane@example.org", 0, "Re: Your open day", "<h2@rmet.org>",
	    "<m1@example.org>");
	CHECK(enquiry_staff_reply(&m, db, "Q") == 0,
	    "unauthenticated, a stranger's envelope: no staff reply");
	m.authenticated = 1;
	CHECK(enquiry_staff_reply(&m, db, "Q") == 1,
	    "authenticated, From: a route-to address: answers %s", ref1);
	CHECK_STR(status_of(ref1, &g), "answered", "%s answered", ref1);
	CHECK_STR(history_of(ref1), "opened message message answered ",
	    "its history");

	/* 11. closed: a stranger in the thread leaves it closed, jane
	 * reopens it */
	/* now, not the test's start: the history is in time order */
	CHECK(db_case_close(db, ref1, "enquiries", NULL,
	    (long long)time(NULL)) == DB_CASE_DONE, "%s closed", ref1);
	message(&m, "mallory@example.net", "Re: hi", "<s4@example.net>",
	    "<m1@example.org>");
	CHECK(decide(&m, &res) == 0 && strcmp(res.mc.ref, ref1) == 0,
	    "a stranger's reply joins %s by In-Reply-To", ref1);
	done(&m, &res);
	CHECK_STR(status_of(ref1, &g), "closed", "and it stays closed");
	message(&m, "jane@example.org", "Re: one more", "<m9@example.org>",
	    "<m1@example.org>");
	CHECK(decide(&m, &res) == 0 && strcmp(res.mc.ref, ref1) == 0,
	    "jane writes again");
	done(&m, &res);
	CHECK_STR(status_of(ref1, &g), "new", "jane reopened %s", ref1);
	CHECK_STR(history_of(ref1), "opened message message answered closed "
	    "reopened message ", "its history: the stranger's message is "
	    "not in it");

	/* 12. the spool sweep asks a digest's claim, by its file's time */
	CHECK(ack_committed(db, "digest:2026-12-02", "gov@rmet.org", 1000) ==
	    0, "an unclaimed digest: not committed");
	CHECK(db_begin(db) == 0 && db_digest_claim(db, "2026-12-02", 1000) ==
	    1 && db_commit(db) == 0, "the day claimed");
	CHECK(ack_committed(db, "digest:2026-12-02", "gov@rmet.org", 1000) ==
	    1, "its file: committed");
	CHECK(ack_committed(db, "digest:2026-12-02", "gov@rmet.org", 999) ==
	    0, "a file of a run whose claim never committed: not");

	spool_close();
	db_close(db);
	conf_milter_free(conf);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		printf("# could not remove %s\n", dir);
	return UNIT_DONE();
}
