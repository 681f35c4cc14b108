/* the decision for one enquiry (enquiry.c), driven with plain structs
 * against a real store and spool in a temporary state directory: a new
 * case and its acknowledgement, an MTA retry (by Message-ID and, without
 * one, by content), a follow-up by In-Reply-To keeping its case's
 * category, automatic mail with a marker of its own, a subject tag from a
 * stranger that is not honoured */
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

	spool_close();
	db_close(db);
	conf_milter_free(conf);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		printf("# could not remove %s\n", dir);
	return UNIT_DONE();
}
