/* libmilter callbacks and per-message state: the glue.
 * per message: recipients matching an enquiry address are noted, the header
 * fields the classifier needs are collected, and at end of message list
 * mail goes to milter_list.c, enquiry.c decides the enquiry's reference,
 * record and acknowledgement (spooled), and the changes it decided are
 * applied to the MTA here. whatever cannot be done safely answers
 * tempfail. */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf_milter.h"
#include "enquiry.h"
#include "log.h"
#include "mailbody.h"
#include "mailhdr.h"
#include "milter.h"
#include "milter_list.h"
#include "milter_proto.h"

#define MILTER_RCPT_MAX		1000

/* one message; hangs off its connection from MAIL FROM to its end */
struct milter_msg {
	struct enquiry_msg	 em;	/* what enquiry.c decides on */
	size_t			 rcptcap;
	const char		*failed; /* why it must be tempfailed at DATA */
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
	conf_milter_put(m->em.conf);
	free(m->em.rcpts);
	milter_list_free(m->list);
	if (m->em.text_open)
		mailbody_free(&m->em.text);
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
	if ((m->em.conf = conf_milter_get()) == NULL) {
		free(m);
		log_warnx("no configuration at a new message");
		return NULL;
	}
	mailhdr_info_init(&m->em.hdr);
	if (sender == NULL || mailhdr_envaddr(sender, m->em.sender,
	    sizeof(m->em.sender)) == -1) {
		/* an odd sender is no reason to refuse; it gets no ack */
		snprintf(m->em.sender, sizeof(m->em.sender), "%s", "");
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
	struct enquiry_rcpt *r;

	(void)ctx;
	if (m->em.nrcpts == m->rcptcap) {
		size_t cap = m->rcptcap ? m->rcptcap * 2 : 4;
		struct enquiry_rcpt *n;

		if (cap > MILTER_RCPT_MAX) {
			smfi_setreply(ctx, "452", "4.5.3",
			    "too many recipients");
			return SMFIS_TEMPFAIL;
		}
		if ((n = realloc(m->em.rcpts, cap * sizeof(*n))) == NULL)
			return SMFIS_TEMPFAIL;
		m->em.rcpts = n;
		m->rcptcap = cap;
	}
	r = &m->em.rcpts[m->em.nrcpts++];
	snprintf(r->raw, sizeof(r->raw), "%s", raw);
	snprintf(r->addr, sizeof(r->addr), "%s", addr);
	r->enq = addr[0] ? conf_milter_enquiry(m->em.conf, addr) : NULL;
	if (r->enq)
		m->em.nenq++;
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
	if (argv[0] == NULL || strlen(argv[0]) >= sizeof(m->em.rcpts->raw) ||
	    mailhdr_envaddr(argv[0], addr, sizeof(addr)) == -1)
		addr[0] = '\0';	/* not ours to judge */
	switch (milter_list_rcpt(ctx, &m->list, m->em.conf, m->em.sender,
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
	/* mail from staff to anyone may answer a case: its header is read,
	 * the message left as it is. a submitter the mta authenticated may
	 * be staff whatever its envelope sender */
	m->em.authenticated = smfi_getsymval(ctx, "{auth_authen}") != NULL;
	m->em.staff = m->em.nenq == 0 && (m->em.authenticated ||
	    conf_milter_is_staff(m->em.conf, m->em.sender));
	if (m->em.nenq == 0 && m->list == NULL && !m->em.staff) {
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

	if (m && (m->em.nenq || m->list || m->em.staff))
		mailhdr_note(&m->em.hdr, name, value);
	/* its size, for the register: "Name: value" CRLF */
	if (m && name && value)
		m->em.size += (long long)(strlen(name) + strlen(value) + 4);
	/* what threading and the internal headers need beside */
	if (m && (m->em.nenq || m->em.staff) && name && value) {
		if (strcasecmp(name, "In-Reply-To") == 0 &&
		    m->em.in_reply_to[0] == '\0' && mailhdr_msgids(value,
		    m->em.in_reply_to, sizeof(m->em.in_reply_to)) == -1)
			m->em.in_reply_to[0] = '\0';
		else if (strcasecmp(name, "X-Enquiry-Automatic") == 0)
			m->em.n_xauto++;
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
	m->em.size += (long long)len;
	milter_list_body(m->list, chunk, len);
	/* a staff reply is judged on its header alone */
	if (m->em.nenq == 0 && m->list == NULL)
		return next;
	/* the text for keywords: decoded as it comes, its size bounded by
	 * mailbody, so a text part after a large attachment still counts */
	if (m->em.nenq) {
		if (!m->em.text_open) {
			mailbody_init(&m->em.text, m->em.hdr.mime_type,
			    m->em.hdr.mime_cte);
			m->em.text_open = 1;
		}
		mailbody_feed(&m->em.text, (const char *)chunk, len);
	}
	if (m->em.bodylen >= ENQUIRY_BODY_SAMPLE)
		return next;
	n = ENQUIRY_BODY_SAMPLE - m->em.bodylen;
	if (n > len)
		n = len;
	memcpy(m->em.body + m->em.bodylen, chunk, n);
	m->em.bodylen += n;
	m->em.body[m->em.bodylen] = '\0';
	return next;
}

/* 1 when addr is a recipient already: a route is not added twice */
static int
milter_is_rcpt(const struct enquiry_msg *m, const char *addr)
{
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		if (strcmp(m->rcpts[i].addr, addr) == 0)
			return 1;
	return 0;
}

/* the header and envelope changes; -1 if the mta would not take one.
 * res->internal: every recipient is ours, so the internal headers may go
 * in. list_post: a list's members get this very copy, with the list's
 * subject */
static int
milter_modify(SMFICTX *ctx, struct enquiry_msg *m,
    const struct enquiry_result *res, int list_post)
{
	char val[MAILHDR_VALUE_MAX + 160], addr[MAILHDR_ADDR_MAX + 2], tag[80];
	const struct enquiry_case *mc = &res->mc;
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
	if (res->internal && (smfi_addheader(ctx, "X-Enquiry-Reference",
	    (char *)ref) != MI_SUCCESS || smfi_addheader(ctx,
	    "X-Enquiry-Category", (char *)res->category) != MI_SUCCESS))
		return -1;
	if (res->internal && res->autowhy != NULL && smfi_addheader(ctx,
	    "X-Enquiry-Automatic", (char *)res->autowhy) != MI_SUCCESS)
		return -1;

	/* 2. the subject tag, once; a marker is no case to tag. a subject
	 * too long to keep whole is cut at white space, folded, never
	 * ending in a line break. a list post keeps the subject the list
	 * gave it: a second change would replace the list's tag, and the
	 * members, whoever they are, would read the case reference */
	snprintf(tag, sizeof(tag), "[%s]", ref);
	if (!mc->is_case || list_post) {
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
	for (i = 0; i < res->nroutes; i++) {
		/* a route naming a list: its members */
		if ((n = milter_list_expand(ctx, m->conf, res->routes[i])) ==
		    -1)
			return -1;
		if (n == 1 || milter_is_rcpt(m, res->routes[i]))
			continue;
		snprintf(addr, sizeof(addr), "<%s>", res->routes[i]);
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
	if (all_enquiry && !keep && res->enq->bounce_address[0]) {
		snprintf(addr, sizeof(addr), "<%s>", res->enq->bounce_address);
		if (smfi_chgfrom(ctx, addr, NULL) != MI_SUCCESS)
			return -1;
	}
	return 0;
}

static sfsistat
milter_eom(SMFICTX *ctx)
{
	struct milter_msg *m = milter_msg(ctx);
	struct enquiry_result res;
	char qid[64];
	size_t len;
	int rc;

	snprintf(qid, sizeof(qid), "%s", milter_qid(ctx));
	/* list posts and requests first; a request alone is consumed */
	if (m != NULL && m->list != NULL) {
		const char *lwhy = NULL;

		if (milter_list_eom(ctx, m->list, m->em.conf, &m->em.hdr,
		    m->em.sender, qid, m->em.nrcpts, &len, &lwhy) == -1)
			return milter_tempfail(ctx, qid, lwhy);
		if (len == 0) {
			milter_msg_free(ctx);
			return SMFIS_DISCARD;
		}
	}
	/* to no enquiry address: only a staff reply is looked at, and the
	 * message goes on unchanged whatever the register says */
	if (m != NULL && m->em.nenq == 0 && m->em.staff)
		enquiry_staff_reply(&m->em, milter_db, qid);
	if (m == NULL || m->em.nenq == 0) {
		milter_msg_free(ctx);
		return SMFIS_CONTINUE;
	}
	/* its case, reference, ack and record: decided and kept before the
	 * mta hears of it */
	if ((rc = enquiry_decide(&m->em, milter_db, qid, &res)) == -1)
		return milter_tempfail(ctx, qid, res.fail);
	if (rc == 1) {
		milter_msg_free(ctx);
		return SMFIS_CONTINUE;
	}
	/* now tell the mta; if it will not listen, the retry finds the
	 * record by message-id and is not acknowledged twice */
	if (milter_modify(ctx, &m->em, &res, milter_list_posted(m->list)) ==
	    -1) {
		enquiry_result_free(&res);
		return milter_tempfail(ctx, qid, "the MTA refused a change");
	}
	enquiry_log(&m->em, &res, qid);
	enquiry_result_free(&res);
	milter_msg_free(ctx);
	return SMFIS_CONTINUE;
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
