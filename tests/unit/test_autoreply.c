/* issue 15, items 9 and 15: what makes mail automatic (however many
 * Auto-Submitted or Precedence fields it has, X-Autoreply), name+tag@
 * as an own address, the MTA's Authentication-Results and Received-SPF,
 * and the one hourly cap on automatic replies per address */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "mailhdr.h"
#include "unit.h"

static const char *own[] = { "enquiries@rmet.org",
    "rachelle.stevens@rmet.org" };

/* classify a message with up to three header fields */
static int
classify3(const char *sender, const char *n1, const char *v1,
    const char *n2, const char *v2, const char *n3, const char *v3)
{
	struct mailhdr_info h;

	mailhdr_info_init(&h);
	if (n1)
		mailhdr_note(&h, n1, v1);
	if (n2)
		mailhdr_note(&h, n2, v2);
	if (n3)
		mailhdr_note(&h, n3, v3);
	return mailhdr_classify(sender, &h, own, 2);
}

static void
test_automatic(void)
{
	static const struct {
		const char *n1, *v1, *n2, *v2;
		int want;
	} t[] = {
		{ "X-Autoreply", "yes", NULL, NULL,
		    MAILHDR_NOACK_AUTO_SUBMITTED },
		{ "X-Autorespond", "Out of office", NULL, NULL,
		    MAILHDR_NOACK_AUTO_SUBMITTED },
		{ "Precedence", "auto_reply", NULL, NULL,
		    MAILHDR_NOACK_PRECEDENCE },
		{ "Precedence", "Auto_Reply", NULL, NULL,
		    MAILHDR_NOACK_PRECEDENCE },
		/* a second field does not undo the first */
		{ "Auto-Submitted", "auto-replied", "Auto-Submitted", "no",
		    MAILHDR_NOACK_AUTO_SUBMITTED },
		{ "Auto-Submitted", "no", "Auto-Submitted", "auto-generated",
		    MAILHDR_NOACK_AUTO_SUBMITTED },
		{ "Auto-Submitted", "no", "Auto-Submitted", "no",
		    MAILHDR_ACK },
		{ "Precedence", "bulk", "Precedence", "first-class",
		    MAILHDR_NOACK_PRECEDENCE },
		{ "Precedence", "first-class", "Precedence", "junk",
		    MAILHDR_NOACK_PRECEDENCE },
		{ "Precedence", "auto_reply", "Precedence", "normal",
		    MAILHDR_NOACK_PRECEDENCE },
	};
	size_t i;
	int got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = classify3("jane@example.org", t[i].n1, t[i].v1, t[i].n2,
		    t[i].v2, NULL, NULL);
		CHECK(got == t[i].want, "%s: %s, %s: %s -> %s (want %s)",
		    t[i].n1, t[i].v1, t[i].n2 ? t[i].n2 : "-",
		    t[i].v2 ? t[i].v2 : "-", mailhdr_noack_name(got),
		    mailhdr_noack_name(t[i].want));
	}
}

static void
test_own_tag(void)
{
	static const struct {
		const char *sender, *from;
		int want;
	} t[] = {
		{ "enquiries+x@rmet.org", NULL, MAILHDR_NOACK_OWN_ADDRESS },
		{ "Enquiries+Anything@RMET.org", NULL,
		    MAILHDR_NOACK_OWN_ADDRESS },
		{ "jane@example.org", "R <rachelle.stevens+gov@rmet.org>",
		    MAILHDR_NOACK_OWN_ADDRESS },
		{ "enquiries+x@rmet.org.evil.com", NULL, MAILHDR_ACK },
		{ "enquiriesx@rmet.org", NULL, MAILHDR_ACK },
		{ "+enquiries@rmet.org", NULL, MAILHDR_ACK },
		{ "enq+uiries@rmet.org", NULL, MAILHDR_ACK },
	};
	size_t i;
	int got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = classify3(t[i].sender, t[i].from ? "From" : NULL,
		    t[i].from, NULL, NULL, NULL, NULL);
		CHECK(got == t[i].want, "own address: <%s> From %s -> %s "
		    "(want %s)", t[i].sender, t[i].from ? t[i].from : "-",
		    mailhdr_noack_name(got), mailhdr_noack_name(t[i].want));
	}
}

static void
test_auth(void)
{
	static const struct {
		const char *id;			/* configured */
		const char *n1, *v1, *n2, *v2;
		int want;
	} t[] = {
		{ "mx.rmet.org", "Authentication-Results",
		    "mx.rmet.org; spf=fail smtp.mailfrom=example.org", NULL,
		    NULL, 1 },
		{ "mx.rmet.org", "Authentication-Results",
		    "MX.rmet.org 1; dkim=pass header.d=example.org;\r\n\t"
		    "dmarc=fail (p=reject) header.from=example.org", NULL,
		    NULL, 1 },
		{ "mx.rmet.org", "Authentication-Results",
		    "mx.rmet.org; spf=pass smtp.mailfrom=example.org", NULL,
		    NULL, 0 },
		/* someone else's results say nothing about ours */
		{ "mx.rmet.org", "Authentication-Results",
		    "mx.example.org; spf=fail smtp.mailfrom=example.org",
		    NULL, NULL, 0 },
		/* no authserv-id configured: nothing is trusted */
		{ "", "Authentication-Results",
		    "mx.rmet.org; spf=fail smtp.mailfrom=example.org", NULL,
		    NULL, 0 },
		/* a comment is not a result */
		{ "mx.rmet.org", "Authentication-Results",
		    "mx.rmet.org; spf=pass (not spf=fail; dmarc=fail) "
		    "smtp.mailfrom=example.org", NULL, NULL, 0 },
		{ "mx.rmet.org", "Authentication-Results",
		    "mx.rmet.org; spf=softfail smtp.mailfrom=example.org",
		    NULL, NULL, 0 },
		/* a forged pass further down does not undo the MTA's fail */
		{ "mx.rmet.org", "Authentication-Results",
		    "mx.rmet.org; spf=fail smtp.mailfrom=example.org",
		    "Authentication-Results", "mx.rmet.org; spf=pass", 1 },
		/* Received-SPF: the topmost one is the MTA's */
		{ "mx.rmet.org", "Received-SPF", "Fail (mailfrom) "
		    "identity=mailfrom", NULL, NULL, 1 },
		{ "mx.rmet.org", "Received-SPF", "Pass (mailfrom)",
		    "Received-SPF", "Fail (forged, further down)", 0 },
		{ "", "Received-SPF", "Fail (mailfrom)", NULL, NULL, 0 },
	};
	struct mailhdr_info h;
	size_t i;
	int got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mailhdr_info_init(&h);
		mailhdr_note(&h, t[i].n1, t[i].v1);
		if (t[i].n2)
			mailhdr_note(&h, t[i].n2, t[i].v2);
		got = mailhdr_auth_failed(&h, t[i].id);
		CHECK(got == t[i].want, "auth-fail [%s] %s: %s%s%s -> %d",
		    t[i].id, t[i].n1, t[i].v1, t[i].n2 ? " / " : "",
		    t[i].v2 ? t[i].v2 : "", got);
	}
	CHECK_STR(mailhdr_noack_name(MAILHDR_NOACK_AUTH_FAIL), "auth-fail",
	    "reason name auth-fail");
	CHECK_STR(mailhdr_noack_name(MAILHDR_NOACK_RATE), "rate-limited",
	    "reason name rate-limited");
}

static void
test_cap(void)
{
	char dir[] = "/tmp/test_autoreply.XXXXXX", path[256], err[256];
	struct db *db;
	long long now = 1800000000;
	int i, n = 0, rc;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof(path), "%s/enquiries.db", dir);
	if ((db = db_open(path, err, sizeof(err))) == NULL) {
		CHECK(0, "db_open: %s", err);
		return;
	}
	for (i = 0; i < 8; i++)
		if (db_autoreply_allow_now(db, "Jane@Example.org", now + i,
		    5) == 1)
			n++;
	CHECK(n == 5, "5 of 8 automatic replies to one address in an hour "
	    "(%d)", n);
	rc = db_autoreply_allow_now(db, "bob@example.org", now + 10, 5);
	CHECK(rc == 1, "another address has its own count");
	rc = db_autoreply_allow_now(db, "jane@example.org", now + 3599, 5);
	CHECK(rc == 0, "still capped within the hour, any case");
	rc = db_autoreply_allow_now(db, "jane@example.org", now + 3601, 5);
	CHECK(rc == 1, "an hour after the first, one more may go");
	/* inside a caller's transaction, as milter_eom uses it */
	CHECK(db_begin(db) == 0, "begin");
	rc = db_autoreply_allow(db, "carol@example.org", now, 1);
	db_rollback(db);
	CHECK(rc == 1, "counted in the caller's transaction");
	rc = db_autoreply_allow_now(db, "carol@example.org", now, 1);
	CHECK(rc == 1, "a rolled back count is not counted");
	db_close(db);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		printf("# could not remove %s\n", dir);
}

int
main(void)
{
	log_init("test_autoreply", 1);
	test_automatic();
	test_own_tag();
	test_auth();
	test_cap();
	return UNIT_DONE();
}
