/* libmilter callbacks and per-message state.
 * per message: recipients matching an enquiry address are noted, the header
 * fields the classifier needs are collected, and at end of message the
 * enquiry gets its reference, is recorded, acknowledged (spooled) and
 * routed. whatever cannot be done safely answers tempfail. */
#include <ctype.h>
#include <errno.h>
#include <libmilter/mfapi.h>
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
#include "log.h"
#include "mailbody.h"
#include "mailhdr.h"
#include "milter.h"
#include "milter_list.h"
#include "milter_proto.h"
#include "spool.h"

#define MILTER_BODY_SAMPLE	(16 * 1024)	/* for keyword routing */
#define MILTER_RCPT_MAX		1000

struct milter_rcpt {
	char			 raw[MAILHDR_ADDR_MAX + 2];	/* as given */
	char			 addr[MAILHDR_ADDR_MAX];	/* bare */
	struct conf_enquiry	*enq;	/* the enquiry it names, or NULL */
};

/* one message; hangs off its connection from MAIL FROM to its end */
struct milter_msg {
	struct milter_conf	*conf;	/* the config it started under */
	char			 sender[MAILHDR_ADDR_MAX];	/* "" = <> */
	struct milter_rcpt	*rcpts;
	size_t			 nrcpts, rcptcap;
	size_t			 nenq;	/* recipients naming an enquiry */
	const char		*failed; /* why it must be tempfailed at DATA */
	struct mailhdr_info	 hdr;
	char			 in_reply_to[MAILHDR_VALUE_MAX]; /* msg-ids */
	int			 n_xauto; /* X-Enquiry-Automatic fields */
	char			 body[MILTER_BODY_SAMPLE + 1];
	size_t			 bodylen;
	struct mailbody		 text;	/* the decoded text, for keywords */
	int			 text_open;
	struct milter_list_msg	*list;	/* list addresses (milter_list.c) */
};

/* one mta connection; behind smfi_setpriv from negotiation to close */
struct milter_conn {
	unsigned long		 proto;	/* SMFIP_* agreed with the mta */
	struct milter_msg	*msg;	/* the message under way, or NULL */
};

static struct db *milter_db;

static struct milter_conn *
milter_conn(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL)
		smfi_setpriv(ctx, c);
	return c;
}

static struct milter_msg *
milter_msg(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	return c ? c->msg : NULL;
}

static void
milter_msg_free(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);
	struct milter_msg *m;

	if (c == NULL || (m = c->msg) == NULL)
		return;
	c->msg = NULL;
	conf_milter_put(m->conf);
	free(m->rcpts);
	milter_list_free(m->list);
	if (m->text_open)
		mailbody_free(&m->text);
	free(m);
}

/*
 * ask the mta only for what the filter uses, and for no replies where it
 * has nothing to say: fewer round trips per message
 */
static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long need = MILTER_PROTO_ACTIONS;
	struct milter_conn *c;
	struct milter_conf *conf;
	unsigned long want = MILTER_PROTO_STEPS;

	(void)f2;
	(void)f3;
	if ((f0 & need) != need) {
		log_warnx("the MTA cannot change headers, recipients and "
		    "sender: refusing to filter");
		return SMFIS_REJECT;
	}
	if ((c = milter_conn(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	/* lists refuse strangers at RCPT: a reply there is needed */
	conf = conf_milter_get();
	if (milter_list_wanted(conf))
		want &= ~SMFIP_NR_RCPT;
	conf_milter_put(conf);
	/* no MAIL step where the sender can come as a macro with RCPT */
	if (f0 & SMFIF_SETSYMLIST)
		want |= SMFIP_NOMAIL;
	*pf0 = need | (f0 & SMFIF_QUARANTINE);
	*pf1 = c->proto = f1 & want;
	*pf2 = *pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		if (milter_proto_symlists(ctx, (c->proto & SMFIP_NOMAIL) !=
		    0) == -1) {
			log_debug("smfi_setsymlist refused; all macros come");
			*pf1 = c->proto &= ~SMFIP_NOMAIL;
		}
	}
	return SMFIS_CONTINUE;
}

static const char *
milter_qid(SMFICTX *ctx)
{
	const char *q = smfi_getsymval(ctx, "i");

	if (q == NULL)
		q = smfi_getsymval(ctx, "{i}");
	return q ? q : "NOQUEUE";
}

static sfsistat
milter_tempfail(SMFICTX *ctx, const char *qid, const char *why)
{
	log_warnx("%s: tempfail: %s", qid, why);
	smfi_setreply(ctx, "451", "4.3.0",
	    "enquiry could not be recorded, please try again later");
	milter_msg_free(ctx);
	return SMFIS_TEMPFAIL;
}

/*
 * a new message: its sender comes from MAIL FROM, or, where the mta was
 * asked not to send MAIL at all (one wait less per message), from the
 * {mail_addr} macro that comes with the first RCPT. NULL: not known.
 */
static struct milter_msg *
milter_msg_begin(SMFICTX *ctx, struct milter_conn *conn, const char *sender)
{
	struct milter_msg *m;

	milter_msg_free(ctx);	/* a message that never ended */
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		log_warnx("out of memory at a new message");
		return NULL;
	}
	if ((m->conf = conf_milter_get()) == NULL) {
		free(m);
		log_warnx("no configuration at a new message");
		return NULL;
	}
	mailhdr_info_init(&m->hdr);
	if (sender == NULL || mailhdr_envaddr(sender, m->sender,
	    sizeof(m->sender)) == -1) {
		/* an odd sender is no reason to refuse; it gets no ack */
		snprintf(m->sender, sizeof(m->sender), "%s", "");
		if (sender == NULL)
			log_warnx("the MTA sent no envelope sender "
			    "({mail_addr}); treated as null, no ack");
		else
			log_debug("unparsable envelope sender, treated as "
			    "null");
	}
	conn->msg = m;
	return m;
}

static sfsistat
milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_conn *conn;
	int noreply;

	if ((conn = milter_conn(ctx)) == NULL)
		return milter_tempfail(ctx, "NOQUEUE", "out of memory");
	/* with no reply at MAIL agreed, a failure here is answered at the
	 * first RCPT, which finds no message */
	noreply = (conn->proto & SMFIP_NR_MAIL) != 0;
	if (milter_msg_begin(ctx, conn, argv[0]) == NULL)
		return noreply ? SMFIS_NOREPLY :
		    milter_tempfail(ctx, "NOQUEUE", "cannot start a message");
	return noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/*
 * per-recipient handling. the list manager extends this: a recipient that
 * names a list is noted (or refused with smfi_setreply + SMFIS_REJECT)
 * here, and expanded at end of message beside the enquiry routing.
 */
static sfsistat
milter_rcpt_note(SMFICTX *ctx, struct milter_msg *m, const char *raw,
    const char *addr)
{
	struct milter_rcpt *r;

	(void)ctx;
	if (m->nrcpts == m->rcptcap) {
		size_t cap = m->rcptcap ? m->rcptcap * 2 : 4;
		struct milter_rcpt *n;

		if (cap > MILTER_RCPT_MAX) {
			smfi_setreply(ctx, "452", "4.5.3",
			    "too many recipients");
			return SMFIS_TEMPFAIL;
		}
		if ((n = realloc(m->rcpts, cap * sizeof(*n))) == NULL)
			return SMFIS_TEMPFAIL;
		m->rcpts = n;
		m->rcptcap = cap;
	}
	r = &m->rcpts[m->nrcpts++];
	snprintf(r->raw, sizeof(r->raw), "%s", raw);
	snprintf(r->addr, sizeof(r->addr), "%s", addr);
	r->enq = addr[0] ? conf_milter_enquiry(m->conf, addr) : NULL;
	if (r->enq)
		m->nenq++;
	return SMFIS_CONTINUE;
}

static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_msg *m = milter_msg(ctx);
	char addr[MAILHDR_ADDR_MAX];

	struct milter_conn *c = smfi_getpriv(ctx);
	int noreply = c && (c->proto & SMFIP_NR_RCPT);
	sfsistat rc;

	if (m == NULL && c != NULL && (c->proto & SMFIP_NOMAIL))
		m = milter_msg_begin(ctx, c, smfi_getsymval(ctx,
		    "{mail_addr}"));
	if (m == NULL)
		return noreply ? SMFIS_NOREPLY : milter_tempfail(ctx,
		    "NOQUEUE", "recipient without a sender");
	if (argv[0] == NULL || strlen(argv[0]) >= sizeof(m->rcpts->raw) ||
	    mailhdr_envaddr(argv[0], addr, sizeof(addr)) == -1)
		addr[0] = '\0';	/* not ours to judge */
	switch (milter_list_rcpt(ctx, &m->list, m->conf, m->sender,
	    argv[0] ? argv[0] : "", addr)) {
	case MILTER_LIST_REJECT:
		rc = SMFIS_REJECT;
		break;
	case MILTER_LIST_TEMPFAIL:
		rc = SMFIS_TEMPFAIL;
		break;
	default:
		rc = milter_rcpt_note(ctx, m, argv[0] ? argv[0] : "", addr);
	}
	if (!noreply)
		return rc;
	if (rc != SMFIS_CONTINUE && m->failed == NULL)
		m->failed = "a recipient could not be noted";
	return SMFIS_NOREPLY;
}

/* every recipient is known: mail for no enquiry address goes on its way
 * before its header is even sent */
static sfsistat
milter_data(SMFICTX *ctx)
{
	struct milter_msg *m = milter_msg(ctx);

	if (m == NULL)
		return milter_tempfail(ctx, milter_qid(ctx), "no message "
		    "state at DATA (see the log at MAIL FROM)");
	if (m->failed)
		return milter_tempfail(ctx, milter_qid(ctx), m->failed);
	if (m->nenq == 0 && m->list == NULL) {
		milter_msg_free(ctx);
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_msg *m = milter_msg(ctx);

	struct milter_conn *c = smfi_getpriv(ctx);

	if (m && (m->nenq || m->list))
		mailhdr_note(&m->hdr, name, value);
	/* what threading and the internal headers need beside */
	if (m && m->nenq && name && value) {
		if (strcasecmp(name, "In-Reply-To") == 0 &&
		    m->in_reply_to[0] == '\0' && mailhdr_msgids(value,
		    m->in_reply_to, sizeof(m->in_reply_to)) == -1)
			m->in_reply_to[0] = '\0';
		else if (strcasecmp(name, "X-Enquiry-Automatic") == 0)
			m->n_xauto++;
	}
	if (m)
		milter_list_header(m->list, name, value);
	return c && (c->proto & SMFIP_NR_HDR) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
milter_eoh(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	return c && (c->proto & SMFIP_NR_EOH) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
milter_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct milter_msg *m = milter_msg(ctx);
	struct milter_conn *c = smfi_getpriv(ctx);
	sfsistat next = c && (c->proto & SMFIP_NR_BODY) ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
	size_t n;

	if (m == NULL)
		return next;
	milter_list_body(m->list, chunk, len);
	/* the text for keywords: decoded as it comes, its size bounded by
	 * mailbody, so a text part after a large attachment still counts */
	if (m->nenq) {
		if (!m->text_open) {
			mailbody_init(&m->text, m->hdr.mime_type,
			    m->hdr.mime_cte);
			m->text_open = 1;
		}
		mailbody_feed(&m->text, (const char *)chunk, len);
	}
	if (m->bodylen >= MILTER_BODY_SAMPLE)
		return next;
	n = MILTER_BODY_SAMPLE - m->bodylen;
	if (n > len)
		n = len;
	memcpy(m->body + m->bodylen, chunk, n);
	m->bodylen += n;
	m->body[m->bodylen] = '\0';
	return next;
}

/*
 * the first category with a keyword in the decoded subject or the decoded
 * text of the body, as whole words (src/mailbody.c). a delivery or
 * disposition report (multipart/report) is matched on its notification
 * text only: its subject, like its quoted parts, repeats the original's
 */
static struct conf_category *
milter_category(struct milter_msg *m, struct conf_enquiry *e)
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
milter_routes(struct milter_msg *m, const char ***out, size_t *nout,
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
		cat = e == first ? firstcat : milter_category(m, e);
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

static int
milter_is_rcpt(struct milter_msg *m, const char *addr)
{
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		if (strcmp(m->rcpts[i].addr, addr) == 0)
			return 1;
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
milter_retry_key(const struct milter_msg *m, const char *qid, char *buf,
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

/* what threading decided for one message */
struct milter_case {
	char		 ref[64];	/* the case, or an automatic marker */
	char		 category[64];	/* the case's; "" = by keywords */
	char		 claimed[64];	/* a subject tag not honoured */
	const char	*kind;		/* DB_KIND_* */
	int		 retry;		/* recorded already: the mta retried */
	int		 is_case;	/* ref is a case, not a marker */
};

/* 0 and the case one of the msg-ids names (the last named first), 1 when
 * none does, -1 on error */
static int
milter_thread_ids(const char *ids, const char *enquiry, char *ref,
    size_t refsz)
{
	char buf[MAILHDR_VALUE_MAX], *sp;
	const char *id;
	int rc;

	if (snprintf(buf, sizeof(buf), "%s", ids) >= (int)sizeof(buf))
		return 1;
	while (buf[0]) {
		sp = strrchr(buf, ' ');
		id = sp ? sp + 1 : buf;
		if (*id && (rc = db_thread_msgid(milter_db, id, enquiry, ref,
		    refsz)) != 1)
			return rc;
		if (sp == NULL)
			break;
		*sp = '\0';
	}
	return 1;
}

/* 1 when addr is one of the enquiry's routes, or a category's: the staff
 * who answer its cases */
static int
milter_is_route(const struct conf_enquiry *e, const char *addr)
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
milter_thread(struct milter_msg *m, struct conf_enquiry *e, const char *key,
    int automatic, struct milter_case *mc)
{
	char tag[64], prefix[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	memset(mc, 0, sizeof(*mc));
	mc->kind = automatic ? DB_KIND_AUTOMATIC : DB_KIND_FOLLOWUP;
	/* 1. */
	rc = db_find_msgid(milter_db, key, m->sender, mc->ref,
	    sizeof(mc->ref));
	if (rc == 0)
		mc->retry = 1;
	/* 2. */
	if (rc == 1 && (rc = milter_thread_ids(m->in_reply_to, e->address,
	    mc->ref, sizeof(mc->ref))) == 1)
		rc = milter_thread_ids(m->hdr.references, e->address, mc->ref,
		    sizeof(mc->ref));
	/* 3. */
	if (rc == 1 && mailhdr_find_tag(m->hdr.subject, e->reference, tag,
	    sizeof(tag)) == 0) {
		rc = db_case_party(milter_db, tag, m->sender);
		/* staff answering a case of their enquiry */
		if (rc == 0 && milter_is_route(e, m->sender))
			rc = db_ref_known(milter_db, tag);
		if (rc == 1) {
			snprintf(mc->ref, sizeof(mc->ref), "%s", tag);
			rc = 0;
		} else if (rc == 0) {
			snprintf(mc->claimed, sizeof(mc->claimed), "%s", tag);
			rc = 1;
		}
	}
	if (rc == -1)
		return -1;
	if (rc == 0) {
		mc->is_case = strncmp(mc->ref, DB_AUTO_PREFIX,
		    strlen(DB_AUTO_PREFIX)) != 0;
		return db_case_category(milter_db, mc->ref, mc->category,
		    sizeof(mc->category)) == -1 ? -1 : 0;
	}
	/* 4. */
	gmtime_r(&now, &tm);
	rc = snprintf(prefix, sizeof(prefix), "%s%s", automatic ?
	    DB_AUTO_PREFIX : "", e->reference);
	if (rc < 0 || (size_t)rc >= sizeof(prefix) || db_ref_next(milter_db,
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
milter_automatic(int why)
{
	switch (why) {
	case MAILHDR_NOACK_NULL_SENDER:
	case MAILHDR_NOACK_ROLE_SENDER:
	case MAILHDR_NOACK_AUTO_SUBMITTED:
	case MAILHDR_NOACK_PRECEDENCE:
	case MAILHDR_NOACK_LIST:
	case MAILHDR_NOACK_REPORT:
		return 1;
	}
	return 0;
}

static int
milter_is_own(const struct milter_conf *c, const char *addr)
{
	size_t i;

	for (i = 0; addr[0] && i < c->nown; i++)
		if (mailhdr_addr_eq(addr, c->own[i]))
			return 1;
	return 0;
}

/* 1 when addr is a list's: its members, whoever they are, get the mail */
static int
milter_is_list(struct milter_conf *c, const char *addr)
{
	char token[128];
	int kind;

	return conf_mlist_find(c, addr, &kind, token, sizeof(token)) != NULL;
}

/* 1 when every recipient is one of the trust's own addresses (enquiry
 * addresses, routes, ack-from, bounce addresses) and none is a list,
 * whose members may be anyone: only then may the internal headers go in,
 * since every recipient sees the same header. routes are added after:
 * a route naming a list is whom the trust chose to get enquiries */
static int
milter_all_internal(const struct milter_msg *m)
{
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].enq == NULL &&
		    (!milter_is_own(m->conf, m->rcpts[i].addr) ||
		    milter_is_list(m->conf, m->rcpts[i].addr)))
			return 0;
	return 1;
}

/* no one is routed her own mail back: a route-to address replying with an
 * enquiry address in copy */
static void
milter_drop_sender(const struct milter_msg *m, const char **routes,
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
milter_composed_msgid(const char *msg, char *out, size_t outsz)
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

/* the header and envelope changes; -1 if the mta would not take one.
 * internal: every recipient is ours, so the internal headers may go in */
static int
milter_modify(SMFICTX *ctx, struct milter_msg *m, struct conf_enquiry *e,
    const struct milter_case *mc, const char *category, const char *autowhy,
    int internal, const char **routes, size_t nroutes)
{
	char val[MAILHDR_VALUE_MAX + 160], addr[MAILHDR_ADDR_MAX + 2], tag[80];
	const char *ref = mc->ref;
	size_t i;
	int n, all_enquiry = 1, keep = 0;

	/* 1. no forged internal header survives; ours go in where only the
	 * trust reads them */
	for (n = m->hdr.n_xref; n > 0; n--)
		if (smfi_chgheader(ctx, "X-Enquiry-Reference", n, NULL) !=
		    MI_SUCCESS)
			return -1;
	for (n = m->hdr.n_xcat; n > 0; n--)
		if (smfi_chgheader(ctx, "X-Enquiry-Category", n, NULL) !=
		    MI_SUCCESS)
			return -1;
	for (n = m->n_xauto; n > 0; n--)
		if (smfi_chgheader(ctx, "X-Enquiry-Automatic", n, NULL) !=
		    MI_SUCCESS)
			return -1;
	if (internal && (smfi_addheader(ctx, "X-Enquiry-Reference",
	    (char *)ref) != MI_SUCCESS || smfi_addheader(ctx,
	    "X-Enquiry-Category", (char *)category) != MI_SUCCESS))
		return -1;
	if (internal && autowhy != NULL && smfi_addheader(ctx,
	    "X-Enquiry-Automatic", (char *)autowhy) != MI_SUCCESS)
		return -1;

	/* 2. the subject tag, once; a marker is no case to tag. a subject
	 * too long to keep whole is cut at white space, folded, never
	 * ending in a line break */
	snprintf(tag, sizeof(tag), "[%s]", ref);
	if (!mc->is_case) {
		/* nothing */
	} else if (!m->hdr.has_subject) {
		if (smfi_addheader(ctx, "Subject", tag) != MI_SUCCESS)
			return -1;
	} else if (strstr(m->hdr.subject, tag) == NULL) {
		if (mailhdr_subject_tag(m->hdr.subject_raw,
		    m->hdr.subject_cut, tag, "\n", val, sizeof(val)) == -1 ||
		    smfi_chgheader(ctx, "Subject", 1, val) != MI_SUCCESS)
			return -1;
	}

	/* 3. recipients: governance in, the enquiries address out */
	for (i = 0; i < nroutes; i++) {
		/* a route naming a list: its members */
		if ((n = milter_list_expand(ctx, m->conf, routes[i])) == -1)
			return -1;
		if (n == 1 || milter_is_rcpt(m, routes[i]))
			continue;
		snprintf(addr, sizeof(addr), "<%s>", routes[i]);
		if (smfi_addrcpt(ctx, addr) != MI_SUCCESS)
			return -1;
	}
	for (i = 0; i < m->nrcpts; i++) {
		if (m->rcpts[i].enq == NULL) {
			all_enquiry = 0;
			continue;
		}
		if (m->rcpts[i].enq->keep_original) {
			keep = 1;
			continue;
		}
		if (smfi_delrcpt(ctx, m->rcpts[i].raw) != MI_SUCCESS)
			return -1;
	}

	/* 4. bounces from governance must not reach the public */
	if (all_enquiry && !keep && e->bounce_address[0]) {
		snprintf(addr, sizeof(addr), "<%s>", e->bounce_address);
		if (smfi_chgfrom(ctx, addr, NULL) != MI_SUCCESS)
			return -1;
	}
	return 0;
}

static sfsistat
milter_eom(SMFICTX *ctx)
{
	struct milter_msg *m = milter_msg(ctx);
	struct milter_conf *c;
	struct conf_enquiry *e = NULL;
	struct conf_category *cat = NULL, *kwcat;
	struct milter_case mc;
	struct db_enquiry rec;
	struct ack_msg am;
	char spool[128], token[ACKMAC_TOKEN_MAX], err[256], ownref[64];
	char routed[2048], logsubj[200], qid[64], key[MAILHDR_MSGID_MAX];
	char ackid[MAILHDR_MSGID_MAX];
	const char **routes = NULL, *category, *autowhy;
	size_t nroutes = 0, i, len;
	char *msg = NULL;
	time_t now = time(NULL);
	long long last;
	int why, spooled = 0, rc, automatic;

	snprintf(qid, sizeof(qid), "%s", milter_qid(ctx));
	/* list posts and requests first; a request alone is consumed */
	if (m != NULL && m->list != NULL) {
		const char *lwhy = NULL;

		if (milter_list_eom(ctx, m->list, m->conf, &m->hdr, m->sender,
		    qid, m->nrcpts, &len, &lwhy) == -1)
			return milter_tempfail(ctx, qid, lwhy);
		if (len == 0) {
			milter_msg_free(ctx);
			return SMFIS_DISCARD;
		}
	}
	if (m == NULL || m->nenq == 0) {
		milter_msg_free(ctx);
		return SMFIS_CONTINUE;
	}
	/* our own acknowledgement coming back through: hands off. only the
	 * key's mac says so, for the one recipient it was made for */
	if (m->sender[0] == '\0' && m->nrcpts == 1 && m->hdr.n_xref == 1 &&
	    ackmac_verify(m->hdr.message_id, m->rcpts[0].addr, ownref,
	    sizeof(ownref)) == 1 && strcasecmp(ownref,
	    m->hdr.enquiry_ref) == 0) {
		log_info("%s: our own acknowledgement %s, untouched", qid,
		    ownref);
		milter_msg_free(ctx);
		return SMFIS_CONTINUE;
	}
	c = m->conf;
	for (i = 0; i < m->nrcpts && e == NULL; i++)
		e = m->rcpts[i].enq;

	/* 1. should the sender hear from us, and is it a machine? */
	why = mailhdr_classify(m->sender, &m->hdr,
	    (const char *const *)c->own, c->nown);
	automatic = milter_automatic(why);
	if (why == MAILHDR_ACK && mailhdr_auth_failed(&m->hdr, c->authserv_id))
		why = MAILHDR_NOACK_AUTH_FAIL;
	autowhy = automatic ? mailhdr_noack_name(why) : NULL;
	/* the keywords' category, for a new case; outside the lock */
	kwcat = milter_category(m, e);

	/* 2. its case, reference, ack decision, spool and record: one
	 * transaction */
	if (db_begin(milter_db) == -1)
		return milter_tempfail(ctx, qid, "database unavailable");
	milter_retry_key(m, qid, key, sizeof(key));
	if (milter_thread(m, e, key, automatic, &mc) == -1)
		goto dbfail;
	if (mc.retry && why == MAILHDR_ACK)
		why = MAILHDR_NOACK_DUPLICATE;

	/* 3. category and routes: a case keeps its own */
	if (mc.category[0]) {
		for (i = 0; i < e->ncategories && cat == NULL; i++)
			if (strcmp(e->categories[i].name, mc.category) == 0)
				cat = &e->categories[i];
		category = mc.category;
	} else {
		cat = kwcat;
		category = cat ? cat->name : "general";
	}
	if (milter_routes(m, &routes, &nroutes, e, cat) == -1) {
		db_rollback(milter_db);
		return milter_tempfail(ctx, qid, "out of memory");
	}
	milter_drop_sender(m, routes, &nroutes);
	routed[0] = '\0';
	for (i = 0, len = 0; i < nroutes; i++) {
		rc = snprintf(routed + len, sizeof(routed) - len, "%s%s",
		    i ? " " : "", routes[i]);
		if (rc < 0 || (size_t)rc >= sizeof(routed) - len)
			break;
		len += (size_t)rc;
	}

	ackid[0] = '\0';
	if (why == MAILHDR_ACK) {
		rc = db_ack_last(milter_db, m->sender, e->address, &last);
		if (rc == -1)
			goto dbfail;
		if (rc == 0 && now - last < e->ack_interval)
			why = MAILHDR_NOACK_INTERVAL;
	}
	if (why == MAILHDR_ACK && (rc = db_autoreply_allow(milter_db,
	    m->sender, now, c->auto_reply_limit)) != 1) {
		if (rc == -1)
			goto dbfail;
		why = MAILHDR_NOACK_RATE;
	}
	if (why == MAILHDR_ACK) {
		if (ackmac_token(mc.ref, m->sender, token, sizeof(token)) ==
		    -1) {
			db_rollback(milter_db);
			free(routes);
			return milter_tempfail(ctx, qid, "cannot make the "
			    "acknowledgement's Message-ID");
		}
		memset(&am, 0, sizeof(am));
		am.reference = mc.ref;
		am.to_addr = m->sender;
		am.to_name = m->hdr.from_name;
		am.subject = m->hdr.subject;
		am.message_id = m->hdr.message_id;
		am.references = m->hdr.references;
		am.category = category;
		am.received = now;
		am.now = now;
		am.token = token;
		am.capsule_url = c->capsule_url;
		am.hostname = c->hostname;
		am.enq = e;
		if ((msg = ack_compose(&am, &len, err, sizeof(err))) == NULL) {
			db_rollback(milter_db);
			free(routes);
			log_warnx("%s: acknowledgement template %s: %s", qid,
			    e->ack_template_path, err);
			return milter_tempfail(ctx, qid, "cannot compose the "
			    "acknowledgement");
		}
		milter_composed_msgid(msg, ackid, sizeof(ackid));
		if (spool_tmp(mc.ref, m->sender, msg, len, now, spool,
		    sizeof(spool)) == -1) {
			log_warn("%s: spool", qid);
			free(msg);
			db_rollback(milter_db);
			free(routes);
			return milter_tempfail(ctx, qid, "cannot spool the "
			    "acknowledgement");
		}
		free(msg);
		spooled = 1;
		if (db_ack_set(milter_db, m->sender, e->address, now) == -1)
			goto dbfail;
	}
	memset(&rec, 0, sizeof(rec));
	rec.reference = mc.ref;
	rec.time = now;
	rec.queue_id = qid;
	rec.enquiry = e->address;
	rec.sender = m->sender;
	rec.subject = m->hdr.subject;
	rec.category = category;
	rec.message_id = key;	/* what a retry is found by */
	rec.recipients = routed;
	rec.ack = mailhdr_noack_name(why);
	rec.kind = mc.kind;
	rec.orig_msgid = m->hdr.message_id[0] ? m->hdr.message_id : NULL;
	rec.ack_msgid = ackid[0] ? ackid : NULL;
	rec.claimed = mc.claimed[0] ? mc.claimed : NULL;
	if (!mc.retry && db_enquiry_add(milter_db, &rec) == -1)
		goto dbfail;
	if (db_commit(milter_db) == -1) {
		if (spooled)
			spool_discard(spool);
		free(routes);
		return milter_tempfail(ctx, qid, "database commit failed");
	}
	if (spooled && spool_commit(spool) == -1)
		log_warn("%s: spool %s stays in tmp/ until the sweep", qid,
		    spool);

	/* 4. now tell the mta; if it will not listen, the retry finds the
	 * record by message-id and is not acknowledged twice */
	if (milter_modify(ctx, m, e, &mc, category, autowhy,
	    milter_all_internal(m), routes, nroutes) == -1) {
		free(routes);
		return milter_tempfail(ctx, qid, "the MTA refused a change");
	}
	free(routes);
	log_escape(logsubj, sizeof(logsubj), m->hdr.subject,
	    strlen(m->hdr.subject));
	log_info("%s: enquiry %s ref=%s from=<%s> category=%s routed=%s "
	    "ack=%s kind=%s%s%s subject=\"%s\"", qid, e->address, mc.ref,
	    m->sender, category, routed[0] ? routed : "-",
	    mailhdr_noack_name(why), mc.retry ? "retry" : mc.kind,
	    mc.claimed[0] ? " claimed=" : "", mc.claimed, logsubj);
	milter_msg_free(ctx);
	return SMFIS_CONTINUE;
dbfail:
	db_rollback(milter_db);
	if (spooled)
		spool_discard(spool);
	free(routes);
	log_warnx("%s: database: %s", qid, db_errmsg(milter_db));
	return milter_tempfail(ctx, qid, "database write failed");
}

static sfsistat
milter_abort(SMFICTX *ctx)
{
	milter_msg_free(ctx);
	return SMFIS_CONTINUE;
}

static sfsistat
milter_close(SMFICTX *ctx)
{
	struct milter_conn *c = smfi_getpriv(ctx);

	milter_msg_free(ctx);
	smfi_setpriv(ctx, NULL);
	free(c);
	return SMFIS_CONTINUE;
}

void
milter_set_db(struct db *db)
{
	milter_db = db;
}

int
milter_register(void)
{
	static struct smfiDesc desc = {
		.xxfi_name = "enquiry-milter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = MILTER_PROTO_ACTIONS | SMFIF_QUARANTINE,
		.xxfi_envfrom = milter_envfrom,
		.xxfi_envrcpt = milter_envrcpt,
		.xxfi_header = milter_header,
		.xxfi_data = milter_data,
		.xxfi_eoh = milter_eoh,
		.xxfi_body = milter_body,
		.xxfi_eom = milter_eom,
		.xxfi_abort = milter_abort,
		.xxfi_close = milter_close,
		.xxfi_negotiate = milter_negotiate,
	};

	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
