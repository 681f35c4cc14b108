/* the decision for one message to an enquiry address (see enquiry.h):
 * classified, threaded, acknowledged and recorded in one transaction,
 * before the glue tells the mta anything */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ack.h"
#include "ackmac.h"
#include "conf_milter.h"
#include "conf_mlist.h"
#include "db.h"
#include "enquiry.h"
#include "log.h"
#include "mailbody.h"
#include "mailhdr.h"
#include "spool.h"

/*
 * the first category with a keyword in the decoded subject or the decoded
 * text of the body, as whole words (src/mailbody.c). a delivery or
 * disposition report (multipart/report) is matched on its notification
 * text only: its subject, like its quoted parts, repeats the original's
 */
static struct conf_category *
enquiry_category(struct enquiry_msg *m, struct conf_enquiry *e)
{
	const char *text, *kw;
	size_t i, k, len;
	int report = strcmp(m->hdr.content_type, "multipart/report") == 0;

	if (!m->text_open) {
		mailbody_init(&m->text, m->hdr.mime_type, m->hdr.mime_cte);
		m->text_open = 1;
	}
	text = mailbody_text(&m->text, &len);
	for (i = 0; i < e->ncategories; i++)
		for (k = 0; k < e->categories[i].nkeywords; k++) {
			kw = e->categories[i].keywords[k];
			if ((!report && mailbody_has_phrase(m->hdr.subject,
			    strlen(m->hdr.subject), kw)) ||
			    mailbody_has_phrase(text, len, kw))
				return &e->categories[i];
		}
	return NULL;
}

/* the routed-to addresses of every enquiry the message names, once each */
static int
enquiry_routes(struct enquiry_msg *m, const char ***out, size_t *nout,
    struct conf_enquiry *first, struct conf_category *firstcat)
{
	const char **v = NULL, **nv, *const *src;
	size_t i, j, k, nsrc, cap = 0;
	struct conf_category *cat;

	*nout = 0;
	for (i = 0; i < m->nrcpts; i++) {
		struct conf_enquiry *e = m->rcpts[i].enq;
		int seen = 0;

		if (e == NULL)
			continue;
		for (j = 0; j < i; j++)
			seen |= m->rcpts[j].enq == e;
		if (seen)
			continue;
		cat = e == first ? firstcat : enquiry_category(m, e);
		src = (const char *const *)(cat ? cat->route_to : e->route_to);
		nsrc = cat ? cat->nroute : e->nroute;
		for (k = 0; k < nsrc; k++) {
			int dup = 0;

			for (j = 0; j < *nout; j++)
				dup |= strcmp(v[j], src[k]) == 0;
			if (dup)
				continue;
			if (*nout == cap) {
				cap = cap ? cap * 2 : 4;
				if ((nv = realloc(v, cap * sizeof(*v))) ==
				    NULL) {
					free(v);
					return -1;
				}
				v = nv;
			}
			v[(*nout)++] = src[k];
		}
	}
	*out = v;
	return 0;
}

/*
 * what an MTA's retry of this message is known by: its Message-ID or,
 * without one, a digest (FNV-1a, 64 bits) of what the retry carries
 * unchanged: sender, From, Subject and the start of the body. without it a
 * retry after our commit but before the MTA's (a crash, a later milter's
 * tempfail) got a second reference, and the sender's acknowledgement
 * named the first while governance saw the second. a Message-ID that
 * holds this attempt's queue id was made by the MTA for this attempt
 * (Postfix's cleanup: <YYYYMMDDhhmmss.QUEUEID@host>; sendmail's alike)
 * and is new on every retry: that is no Message-ID either
 */
static void
enquiry_retry_key(const struct enquiry_msg *m, const char *qid, char *buf,
    size_t bufsz)
{
	const char *part[3] = { m->sender, m->hdr.from_addr,
	    m->hdr.subject_raw };
	unsigned long long h = 0xcbf29ce484222325ULL;
	const char *q = NULL;
	size_t i, k, n = strlen(qid);

	if (n > 0 && strcmp(qid, "NOQUEUE") != 0)
		for (q = strstr(m->hdr.message_id, qid); q != NULL &&
		    !(q > m->hdr.message_id && q[-1] == '.' && q[n] == '@');
		    q = strstr(q + 1, qid))
			;
	if (m->hdr.message_id[0] && q == NULL) {
		snprintf(buf, bufsz, "%s", m->hdr.message_id);
		return;
	}
	for (i = 0; i < 3; i++)
		for (k = 0;; k++) {
			h = (h ^ (unsigned char)part[i][k]) * 0x100000001b3ULL;
			if (part[i][k] == '\0')
				break;
		}
	for (k = 0; k < m->bodylen; k++)
		h = (h ^ (unsigned char)m->body[k]) * 0x100000001b3ULL;
	snprintf(buf, bufsz, "<content.%016llx@enquiry-milter.invalid>", h);
}

/* 1 and the case one of the msg-ids names (the last named first): a
 * message to enquiry, or to any enquiry address when enquiry is NULL (a
 * staff reply that need not copy one). 0 when none does, -1 on error */
static int
enquiry_thread_ids(struct db *db, const char *ids, const char *enquiry,
    char *ref, size_t refsz)
{
	char buf[MAILHDR_VALUE_MAX], *sp;
	const char *id;
	int rc;

	if (snprintf(buf, sizeof(buf), "%s", ids) >= (int)sizeof(buf))
		return 0;
	while (buf[0]) {
		sp = strrchr(buf, ' ');
		id = sp ? sp + 1 : buf;
		if (*id && (rc = enquiry ? db_thread_msgid(db, id, enquiry, ref,
		    refsz) : db_case_by_msgid(db, id, ref, refsz)) != 0)
			return rc;
		if (sp == NULL)
			break;
		*sp = '\0';
	}
	return 0;
}

/* 1 when addr is one of the enquiry's routes, or a category's: the staff
 * who answer its cases */
static int
enquiry_is_route(const struct conf_enquiry *e, const char *addr)
{
	size_t i, k;

	if (addr[0] == '\0')
		return 0;
	for (i = 0; i < e->nroute; i++)
		if (mailhdr_addr_eq(addr, e->route_to[i]))
			return 1;
	for (i = 0; i < e->ncategories; i++)
		for (k = 0; k < e->categories[i].nroute; k++)
			if (mailhdr_addr_eq(addr,
			    e->categories[i].route_to[k]))
				return 1;
	return 0;
}

/*
 * what cannot be forged cheaply: a From: field and an envelope sender
 * are each a line anyone can write, so both must be staff, or the MTA
 * must vouch for the submitter (smtp auth; with Postfix's
 * reject_sender_login_mismatch the login owns the envelope sender).
 * mail from outside claiming a staff address is what the MTA's spf and
 * dmarc checks are for: their fail (authserv-id) is never staff
 */
int
enquiry_staff_sent(const struct enquiry_msg *m)
{
	const struct milter_conf *c = m->conf;

	if (!conf_milter_is_staff(c, m->hdr.from_addr))
		return 0;
	if (!m->authenticated && !conf_milter_is_staff(c, m->sender))
		return 0;
	return !mailhdr_auth_failed(&m->hdr, c->authserv_id);
}

/*
 * which case a message belongs to, inside the transaction:
 * 1. a retry of a message recorded already keeps its reference;
 * 2. a reply whose In-Reply-To or References names an enquiry or its
 *    acknowledgement joins that case;
 * 3. a subject tag counts only from a party of that case (its sender,
 *    someone it was routed to, or any route of the enquiry): references
 *    are sequential, so guessable;
 * 4. anything else opens a new case, or, automatic mail, gets a marker of
 *    its own sequence and opens none.
 * every outcome fills mc->ref. 0, or -1 on a database error
 */
static int
enquiry_thread(struct db *db, struct enquiry_msg *m, struct conf_enquiry *e,
    const char *key, int automatic, struct enquiry_case *mc)
{
	char tag[64], prefix[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	memset(mc, 0, sizeof(*mc));
	mc->kind = automatic ? DB_KIND_AUTOMATIC : DB_KIND_FOLLOWUP;
	/* 1. */
	rc = db_find_msgid(db, key, m->sender, mc->ref,
	    sizeof(mc->ref));
	if (rc == 1)
		mc->retry = 1;
	/* 2. */
	if (rc == 0 && (rc = enquiry_thread_ids(db, m->in_reply_to, e->address,
	    mc->ref, sizeof(mc->ref))) == 0)
		rc = enquiry_thread_ids(db, m->hdr.references, e->address, mc->ref,
		    sizeof(mc->ref));
	/* 3. */
	if (rc == 0 && mailhdr_find_tag(m->hdr.subject, e->reference, tag,
	    sizeof(tag)) == 0) {
		rc = db_case_party(db, tag, m->sender);
		/* staff answering a case of their enquiry */
		if (rc == 0 && (enquiry_is_route(e, m->sender) ||
		    enquiry_staff_sent(m)))
			rc = db_ref_known(db, tag);
		if (rc == 1)
			snprintf(mc->ref, sizeof(mc->ref), "%s", tag);
		else if (rc == 0)
			snprintf(mc->claimed, sizeof(mc->claimed), "%s", tag);
	}
	if (rc == -1)
		return -1;
	if (rc == 1) {
		mc->is_case = strncmp(mc->ref, DB_AUTO_PREFIX,
		    strlen(DB_AUTO_PREFIX)) != 0;
		return db_case_category(db, mc->ref, mc->category,
		    sizeof(mc->category)) == -1 ? -1 : 0;
	}
	/* 4. */
	gmtime_r(&now, &tm);
	rc = snprintf(prefix, sizeof(prefix), "%s%s", automatic ?
	    DB_AUTO_PREFIX : "", e->reference);
	if (rc < 0 || (size_t)rc >= sizeof(prefix) || db_ref_next(db,
	    prefix, tm.tm_year + 1900, mc->ref, sizeof(mc->ref)) == -1)
		return -1;
	mc->is_case = !automatic;
	if (!automatic)
		mc->kind = DB_KIND_NEW;
	return 0;
}

/* mail the classifier found automatic: a bounce, an auto-reply, a list or
 * bulk mail. a request not to be answered (X-Auto-Response-Suppress) or
 * mail from our own addresses is no sign of a machine */
static int
enquiry_automatic(int why)
{
	switch (why) {
	case MAILHDR_NOACK_NULL_SENDER:
	case MAILHDR_NOACK_ROLE_SENDER:
	case MAILHDR_NOACK_AUTO_SUBMITTED:
	case MAILHDR_NOACK_PRECEDENCE:
	case MAILHDR_NOACK_LIST:
	case MAILHDR_NOACK_REPORT:
	case MAILHDR_NOACK_LOOP:
		return 1;
	}
	return 0;
}

static int
enquiry_is_own(const struct milter_conf *c, const char *addr)
{
	size_t i;

	for (i = 0; addr[0] && i < c->nown; i++)
		if (mailhdr_addr_eq(addr, c->own[i]))
			return 1;
	return 0;
}

/* 1 when addr is a list's: its members, whoever they are, get the mail */
static int
enquiry_is_list(struct milter_conf *c, const char *addr)
{
	char token[128];
	int kind;

	return conf_mlist_find(c->lists, c->nlists, addr, &kind, token,
	    sizeof(token)) != NULL;
}

/* 1 when every recipient is one of the trust's own addresses (enquiry
 * addresses, routes, ack-from, bounce addresses) and none is a list,
 * whose members may be anyone: only then may the internal headers go in,
 * since every recipient sees the same header. routes are added after:
 * a route naming a list is whom the trust chose to get enquiries */
static int
enquiry_all_internal(const struct enquiry_msg *m)
{
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].enq == NULL &&
		    (!enquiry_is_own(m->conf, m->rcpts[i].addr) ||
		    enquiry_is_list(m->conf, m->rcpts[i].addr)))
			return 0;
	return 1;
}

/* no one is routed her own mail back: a route-to address replying with an
 * enquiry address in copy */
static void
enquiry_drop_sender(const struct enquiry_msg *m, const char **routes,
    size_t *nroutes)
{
	size_t i, o;

	for (i = o = 0; i < *nroutes; i++) {
		if ((m->sender[0] && mailhdr_addr_eq(routes[i], m->sender)) ||
		    (m->hdr.from_addr[0] && mailhdr_addr_eq(routes[i],
		    m->hdr.from_addr)))
			continue;
		routes[o++] = routes[i];
	}
	*nroutes = o;
}

/* the Message-ID field of a composed message, for the register */
static void
enquiry_composed_msgid(const char *msg, char *out, size_t outsz)
{
	const char *p = strstr(msg, "\r\nMessage-ID: "), *end;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("\r\nMessage-ID: ");
	if ((end = strstr(p, "\r\n")) != NULL && (size_t)(end - p) < outsz) {
		memcpy(out, p, (size_t)(end - p));
		out[end - p] = '\0';
	}
}

/* the routes joined for the record and the log line, as many as fit */
static void
enquiry_routed(struct enquiry_result *res)
{
	size_t i, len;
	int rc;

	res->routed[0] = '\0';
	for (i = 0, len = 0; i < res->nroutes; i++) {
		rc = snprintf(res->routed + len, sizeof(res->routed) - len,
		    "%s%s", i ? " " : "", res->routes[i]);
		if (rc < 0 || (size_t)rc >= sizeof(res->routed) - len)
			break;
		len += (size_t)rc;
	}
}

/* is an acknowledgement due? not when the sender had one for this
 * enquiry within ack-interval, nor over auto-reply-limit (then *why says
 * so). 0, or -1 on a database error */
static int
enquiry_ack_due(struct db *db, const struct enquiry_msg *m,
    const struct conf_enquiry *e, time_t now, int *why)
{
	long long last;
	int rc;

	rc = db_ack_last(db, m->sender, e->address, &last);
	if (rc == -1)
		return -1;
	if (rc == 1 && now - last < e->ack_interval) {
		*why = MAILHDR_NOACK_INTERVAL;
		return 0;
	}
	rc = db_autoreply_allow(db, m->sender, now,
	    m->conf->auto_reply_limit);
	if (rc == -1)
		return -1;
	if (rc == 0)
		*why = MAILHDR_NOACK_RATE;
	return 0;
}

/* compose the acknowledgement and write it to the spool's tmp/: 0 with
 * its Message-ID in ackid and its spool name, -1 with res->fail */
static int
enquiry_ack_spool(const struct enquiry_msg *m, struct enquiry_result *res,
    time_t now, const char *qid, char *ackid, size_t ackidsz, char *spool,
    size_t spoolsz)
{
	const struct milter_conf *c = m->conf;
	struct conf_enquiry *e = res->enq;
	struct ack_msg am;
	char token[ACKMAC_TOKEN_MAX], err[256], *msg;
	size_t len;

	if (ackmac_token(res->mc.ref, m->sender, token, sizeof(token)) == -1) {
		res->fail = "cannot make the acknowledgement's Message-ID";
		return -1;
	}
	memset(&am, 0, sizeof(am));
	am.reference = res->mc.ref;
	am.to_addr = m->sender;
	am.to_name = m->hdr.from_name;
	am.subject = m->hdr.subject;
	am.message_id = m->hdr.message_id;
	am.references = m->hdr.references;
	am.category = res->category;
	am.received = now;
	am.now = now;
	am.token = token;
	am.capsule_url = c->capsule_url;
	am.hostname = c->hostname;
	am.enq = e;
	if ((msg = ack_compose(&am, &len, err, sizeof(err))) == NULL) {
		log_warnx("%s: acknowledgement template %s: %s", qid,
		    e->ack_template_path, err);
		res->fail = "cannot compose the acknowledgement";
		return -1;
	}
	enquiry_composed_msgid(msg, ackid, ackidsz);
	if (spool_tmp(res->mc.ref, m->sender, msg, len, now, spool,
	    spoolsz) == -1) {
		log_warn("%s: spool", qid);
		free(msg);
		res->fail = "cannot spool the acknowledgement";
		return -1;
	}
	free(msg);
	return 0;
}

/* the enquiry log's row for this message: 0, or -1 on a database error */
static int
enquiry_record(struct db *db, const struct enquiry_msg *m,
    const struct enquiry_result *res, const char *qid, time_t now,
    const char *key, int why, const char *ackid)
{
	struct db_enquiry rec;

	memset(&rec, 0, sizeof(rec));
	rec.reference = res->mc.ref;
	rec.time = now;
	rec.queue_id = qid;
	rec.enquiry = res->enq->address;
	rec.sender = m->sender;
	rec.subject = m->hdr.subject;
	rec.category = res->category;
	rec.message_id = key;	/* what a retry is found by */
	rec.recipients = res->routed;
	rec.ack = mailhdr_noack_name(why);
	rec.kind = res->mc.kind;
	rec.orig_msgid = m->hdr.message_id[0] ? m->hdr.message_id : NULL;
	rec.ack_msgid = ackid[0] ? ackid : NULL;
	rec.claimed = res->mc.claimed[0] ? res->mc.claimed : NULL;
	rec.sender_name = m->hdr.from_name[0] ? m->hdr.from_name : NULL;
	rec.from_addr = m->hdr.from_addr[0] ? m->hdr.from_addr : NULL;
	rec.size = m->size;
	return db_enquiry_add(db, &rec);
}

/* whom a case is about: the From: address, else the envelope sender
 * (a form's bounce+...@ address says nothing of the person) */
static const char *
enquiry_who(const struct enquiry_msg *m)
{
	return m->hdr.from_addr[0] ? m->hdr.from_addr : m->sender;
}

/* 1 when the enquirer of case ref is one of the message's recipients
 * (a reply goes to her), 0 when not or no such case, -1 on error */
static int
enquiry_to_enquirer(struct db *db, const struct enquiry_msg *m,
    const char *ref)
{
	char who[MAILHDR_ADDR_MAX];
	size_t i;
	int rc;

	if ((rc = db_case_sender(db, ref, who, sizeof(who))) != 1)
		return rc;
	for (i = 0; i < m->nrcpts; i++)
		if (mailhdr_addr_eq(m->rcpts[i].addr, who))
			return 1;
	return 0;
}

/*
 * the case register, in the enquiry's transaction: a new case opens; a
 * staff reply (enquiries address in copy) answers its case; a message
 * from the enquirer is recorded and reopens an answered or closed case;
 * anyone else's is in the message log only, as automatic mail is.
 * 0, or -1 on a database error
 */
static int
enquiry_register(struct db *db, const struct enquiry_msg *m,
    struct enquiry_result *res, time_t now)
{
	const struct enquiry_case *mc = &res->mc;
	struct db_case_new nc;
	char who[MAILHDR_ADDR_MAX];
	int rc;

	if (!mc->is_case || mc->retry ||
	    strcmp(mc->kind, DB_KIND_AUTOMATIC) == 0)
		return 0;
	if (strcmp(mc->kind, DB_KIND_NEW) == 0) {
		memset(&nc, 0, sizeof(nc));
		nc.reference = mc->ref;
		nc.enquiry = res->enq->address;
		nc.category = res->category;
		nc.sender = enquiry_who(m);
		nc.sender_name = m->hdr.from_name[0] ? m->hdr.from_name : NULL;
		nc.subject = m->hdr.subject;
		nc.time = now;
		return db_case_open(db, &nc) == -1 ? -1 : 0;
	}
	if (enquiry_staff_sent(m)) {
		if ((rc = enquiry_to_enquirer(db, m, mc->ref)) == 1 &&
		    (rc = db_case_answered(db, mc->ref, m->hdr.from_addr,
		    now)) == 1)
			res->answered = 1;
		return rc == -1 ? -1 : 0;
	}
	if ((rc = db_case_sender(db, mc->ref, who, sizeof(who))) != 1)
		return rc;
	if (!mailhdr_addr_eq(who, enquiry_who(m)) &&
	    !mailhdr_addr_eq(who, m->sender))
		return 0;
	return db_case_inbound(db, mc->ref, enquiry_who(m), m->hdr.subject,
	    now) == -1 ? -1 : 0;
}

/* the case a staff message names: its reply fields first, then a subject
 * tag of any enquiry's prefix. 1 found, 0 none, -1 on error */
static int
enquiry_staff_case(struct db *db, const struct enquiry_msg *m, char *ref,
    size_t refsz)
{
	const struct milter_conf *c = m->conf;
	size_t i;
	int rc;

	if ((rc = enquiry_thread_ids(db, m->in_reply_to, NULL, ref,
	    refsz)) != 0 || (rc = enquiry_thread_ids(db, m->hdr.references,
	    NULL, ref, refsz)) != 0)
		return rc;
	for (i = 0; i < c->nenquiries; i++)
		if (mailhdr_find_tag(m->hdr.subject, c->enquiries[i].reference,
		    ref, refsz) == 0)
			return 1;
	return 0;
}

int
enquiry_staff_reply(struct enquiry_msg *m, struct db *db, const char *qid)
{
	char ref[64];
	time_t now = time(NULL);
	int rc;

	if (!enquiry_staff_sent(m)) {
		log_debug("%s: from <%s>, From: <%s>: not a staff reply", qid,
		    m->sender, m->hdr.from_addr);
		return 0;
	}
	if (db_begin(db) == -1) {
		log_warnx("%s: staff reply: database unavailable", qid);
		return -1;
	}
	if ((rc = enquiry_staff_case(db, m, ref, sizeof(ref))) == 1 &&
	    (rc = enquiry_to_enquirer(db, m, ref)) == 1)
		rc = db_case_answered(db, ref, m->hdr.from_addr, now);
	if (rc == -1) {
		log_warnx("%s: staff reply: database: %s", qid,
		    db_errmsg(db));
		db_rollback(db);
		return -1;
	}
	if (db_commit(db) == -1) {
		log_warnx("%s: staff reply: database commit failed", qid);
		return -1;
	}
	if (rc == 1)
		log_info("%s: staff reply from <%s> answers %s", qid,
		    m->hdr.from_addr, ref);
	return rc;
}

int
enquiry_decide(struct enquiry_msg *m, struct db *db, const char *qid,
    struct enquiry_result *res)
{
	struct milter_conf *c = m->conf;
	struct conf_enquiry *e = NULL;
	struct conf_category *cat = NULL, *kwcat;
	struct enquiry_case *mc = &res->mc;
	char spool[128], ownref[64];
	char key[MAILHDR_MSGID_MAX], ackid[MAILHDR_MSGID_MAX];
	size_t i;
	time_t now = time(NULL);
	int why, spooled = 0, automatic;

	memset(res, 0, sizeof(*res));
	/* our own acknowledgement coming back through: hands off. only the
	 * key's mac says so, for the one recipient it was made for */
	if (m->sender[0] == '\0' && m->nrcpts == 1 && m->hdr.n_xref == 1 &&
	    ackmac_verify(m->hdr.message_id, m->rcpts[0].addr, ownref,
	    sizeof(ownref)) == 1 && strcasecmp(ownref,
	    m->hdr.enquiry_ref) == 0) {
		log_info("%s: our own acknowledgement %s, untouched", qid,
		    ownref);
		return 1;
	}
	for (i = 0; i < m->nrcpts && e == NULL; i++)
		e = m->rcpts[i].enq;
	res->enq = e;

	/* 1. should the sender hear from us, and is it a machine? */
	why = mailhdr_classify(m->sender, &m->hdr,
	    (const char *const *)c->own, c->nown);
	automatic = enquiry_automatic(why);
	if (why == MAILHDR_ACK && mailhdr_auth_failed(&m->hdr, c->authserv_id))
		why = MAILHDR_NOACK_AUTH_FAIL;
	res->autowhy = automatic ? mailhdr_noack_name(why) : NULL;
	/* the keywords' category, for a new case; outside the lock */
	kwcat = enquiry_category(m, e);

	/* 2. its case, reference, ack decision, spool and record: one
	 * transaction */
	if (db_begin(db) == -1) {
		res->fail = "database unavailable";
		return -1;
	}
	enquiry_retry_key(m, qid, key, sizeof(key));
	/* another milter sharing the store, given the same sender at the
	 * same moment, decides after this one commits: one reference for
	 * a message delivered to both, one acknowledgement */
	if (db_lock_address(db, m->sender) == -1 ||
	    enquiry_thread(db, m, e, key, automatic, mc) == -1)
		goto dbfail;
	if (mc->retry && why == MAILHDR_ACK)
		why = MAILHDR_NOACK_DUPLICATE;

	/* 3. category and routes: a case keeps its own */
	if (mc->category[0]) {
		for (i = 0; i < e->ncategories && cat == NULL; i++)
			if (strcmp(e->categories[i].name, mc->category) == 0)
				cat = &e->categories[i];
		res->category = mc->category;
	} else {
		cat = kwcat;
		res->category = cat ? cat->name : "general";
	}
	if (enquiry_routes(m, &res->routes, &res->nroutes, e, cat) == -1) {
		db_rollback(db);
		res->fail = "out of memory";
		return -1;
	}
	enquiry_drop_sender(m, res->routes, &res->nroutes);
	enquiry_routed(res);

	/* 4. the acknowledgement: due, not too soon, under the cap; spooled
	 * to tmp/ inside the transaction */
	ackid[0] = '\0';
	if (why == MAILHDR_ACK && enquiry_ack_due(db, m, e, now, &why) == -1)
		goto dbfail;
	if (why == MAILHDR_ACK) {
		if (enquiry_ack_spool(m, res, now, qid, ackid, sizeof(ackid),
		    spool, sizeof(spool)) == -1) {
			db_rollback(db);
			enquiry_result_free(res);
			return -1;
		}
		spooled = 1;
		if (db_ack_set(db, m->sender, e->address, now) == -1)
			goto dbfail;
	}

	/* 5. the record, and the commit that keeps it with the spool */
	if (!mc->retry && (enquiry_record(db, m, res, qid, now, key, why,
	    ackid) == -1 || enquiry_register(db, m, res, now) == -1))
		goto dbfail;
	if (db_commit(db) == -1) {
		if (spooled)
			spool_discard(spool);
		enquiry_result_free(res);
		res->fail = "database commit failed";
		return -1;
	}
	if (spooled && spool_commit(spool) == -1)
		log_warn("%s: spool %s stays in tmp/ until the sweep", qid,
		    spool);
	if (res->answered)
		log_info("%s: staff reply from <%s> answers %s", qid,
		    m->hdr.from_addr, mc->ref);
	res->why = why;
	res->internal = enquiry_all_internal(m);
	return 0;
dbfail:
	db_rollback(db);
	if (spooled)
		spool_discard(spool);
	enquiry_result_free(res);
	/* an outage is logged once, by the store */
	if (!db_unavailable(db))
		log_warnx("%s: database: %s", qid, db_errmsg(db));
	res->fail = "database write failed";
	return -1;
}

void
enquiry_result_free(struct enquiry_result *res)
{
	free(res->routes);
	res->routes = NULL;
	res->nroutes = 0;
}

void
enquiry_log(const struct enquiry_msg *m, const struct enquiry_result *res,
    const char *qid)
{
	char logsubj[200];

	log_escape(logsubj, sizeof(logsubj), m->hdr.subject,
	    strlen(m->hdr.subject));
	log_info("%s: enquiry %s ref=%s from=<%s> category=%s routed=%s "
	    "ack=%s kind=%s%s%s subject=\"%s\"", qid, res->enq->address,
	    res->mc.ref, m->sender, res->category, res->routed[0] ?
	    res->routed : "-", mailhdr_noack_name(res->why), res->mc.retry ?
	    "retry" : res->mc.kind, res->mc.claimed[0] ? " claimed=" : "",
	    res->mc.claimed, logsubj);
}
