/* the mailing-list side of the milter.
 *
 * a post to a list: the posting policy is applied at RCPT (members and
 * owners lists refuse strangers there with 5.7.1, so nothing bounces
 * later). at end of message the list address is replaced by the members,
 * the envelope sender becomes the list's bounce address, the rfc 2369 /
 * 2919 / 8058 headers go in, the subject is tagged once, Reply-To is set
 * per config, the post is archived (maildir) and, on a moderated list,
 * held in the MTA's queue (smfi_quarantine) while the owners are told how
 * to release it.
 *
 * loops: a post that already carries this list's List-Id, or comes from
 * its bounce address, is not redistributed: the list recipient is removed
 * (and the message discarded when no other recipient remains), and the
 * decision is logged.
 *
 * LIST-request: commands (listcmd.c) are answered by mail through the
 * acknowledgement spool (null return path, Auto-Submitted, rate limited
 * per sender and kind) and the request itself is consumed. subscribe and
 * unsubscribe are confirmed with a single-use expiring token (reply, or
 * write to LIST-confirm+TOKEN); so are the owners' add and remove: a From
 * or envelope address is easily forged, so the token goes to the owner's
 * configured address and only a reply from that mailbox acts. */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "conf_milter.h"
#include "conf_mlist.h"
#include "db.h"
#include "listcmd.h"
#include "log.h"
#include "mailhdr.h"
#include "milter_list.h"
#include "mlist.h"
#include "mlist_db.h"
#include "outmsg.h"
#include "spool.h"
#include "xio.h"

#define ML_REQUEST_BODY		(64 * 1024)	/* the first line is enough */
#define ML_ARCHIVE_MAX		(64 * 1024 * 1024)
#define ML_HEADERS_MAX		(1024 * 1024)

/* header fields a post's own are replaced by ours */
static const char *const ml_replaced[] = {
	"List-Id", "List-Post", "List-Help", "List-Subscribe",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Owner",
	"Precedence", "Reply-To"
};
#define ML_NREPLACED	(sizeof(ml_replaced) / sizeof(ml_replaced[0]))
#define ML_REPLYTO	8	/* index of Reply-To above */

struct ml_rcpt {
	struct conf_list	*list;
	int			 kind;		/* CONF_LIST_* */
	int			 looped;	/* a post seen before */
	char			 raw[MAILHDR_ADDR_MAX + 2];
	char			 token[MLIST_TOKEN_LEN + 1];
};

struct milter_list_msg {
	struct ml_rcpt		*r;
	size_t			 n, cap;
	int			 archive;	/* keep the whole body */
	int			 nreplaced[ML_NREPLACED];
	char			*hdrs;		/* "Name: value\n"... */
	size_t			 hdrlen, hdrcap;
	int			 hdr_over;
	char			*body;
	size_t			 bodylen, bodycap;
	int			 body_over;
};

int
milter_list_wanted(const struct milter_conf *c)
{
	return c != NULL && c->nlists > 0;
}

static int
ml_grow(char **buf, size_t *cap, size_t need, size_t max)
{
	size_t ncap = *cap ? *cap : 4096;
	char *nb;

	if (need > max)
		return -1;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	if (ncap == *cap)
		return 0;
	if ((nb = realloc(*buf, ncap)) == NULL)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

static void
ml_reply(SMFICTX *ctx, const char *code, const char *xcode, const char *text)
{
	smfi_setreply(ctx, (char *)code, (char *)xcode, (char *)text);
}

int
milter_list_rcpt(SMFICTX *ctx, struct milter_list_msg **lmp,
    struct milter_conf *c, const char *sender, const char *raw,
    const char *addr)
{
	struct milter_list_msg *lm = *lmp;
	struct mlist_members *mm;
	struct conf_list *l;
	struct ml_rcpt *r;
	char token[MLIST_TOKEN_LEN + 1], text[512], err[512];
	int kind, member;

	if (addr[0] == '\0' || (l = conf_mlist_find(c, addr, &kind, token,
	    sizeof(token))) == NULL || kind == CONF_LIST_BOUNCE)
		return MILTER_LIST_PASS;

	/* 1. the posting policy, now, so a refusal never becomes a bounce */
	if (kind == CONF_LIST_POST && l->posting != CONF_LIST_OPEN &&
	    l->posting != CONF_LIST_MODERATED &&
	    strcasecmp(sender, l->bounce_address) != 0) {
		member = conf_mlist_is_owner(l, sender);
		if (!member && l->posting == CONF_LIST_MEMBERS) {
			if ((mm = mlist_get(l->members, err, sizeof(err))) ==
			    NULL) {
				log_warnx("list %s: %s", l->address, err);
				ml_reply(ctx, "451", "4.3.0", "the list is not "
				    "available, please try again later");
				return MILTER_LIST_TEMPFAIL;
			}
			member = mlist_has(mm, sender);
			mlist_put(mm);
		}
		if (!member) {
			if (l->posting == CONF_LIST_OWNERS)
				snprintf(text, sizeof(text), "only the owners "
				    "of %s may post to it", l->address);
			else
				snprintf(text, sizeof(text), "only members of "
				    "%s may post to it; to join, write "
				    "\"subscribe\" to %s", l->address,
				    l->request);
			ml_reply(ctx, "550", "5.7.1", text);
			log_info("list %s: post from <%s> refused at RCPT: "
			    "not %s", l->address, sender, l->posting ==
			    CONF_LIST_OWNERS ? "an owner" : "a member");
			return MILTER_LIST_REJECT;
		}
	}
	if (kind == CONF_LIST_POST && sender[0] == '\0') {
		ml_reply(ctx, "550", "5.7.1", "a list does not take mail "
		    "with a null return path");
		log_info("list %s: post with a null return path refused",
		    l->address);
		return MILTER_LIST_REJECT;
	}

	/* 2. noted for the end of the message */
	if (lm == NULL) {
		if ((lm = calloc(1, sizeof(*lm))) == NULL)
			goto nomem;
		*lmp = lm;
	}
	if (lm->n == lm->cap) {
		size_t cap = lm->cap ? lm->cap * 2 : 2;
		struct ml_rcpt *nr;

		if ((nr = realloc(lm->r, cap * sizeof(*nr))) == NULL)
			goto nomem;
		lm->r = nr;
		lm->cap = cap;
	}
	r = &lm->r[lm->n++];
	memset(r, 0, sizeof(*r));
	r->list = l;
	r->kind = kind;
	r->looped = kind == CONF_LIST_POST &&
	    strcasecmp(sender, l->bounce_address) == 0;
	snprintf(r->raw, sizeof(r->raw), "%s", raw);
	snprintf(r->token, sizeof(r->token), "%s", token);
	if (kind == CONF_LIST_POST && l->archive)
		lm->archive = 1;
	return MILTER_LIST_NOTED;
nomem:
	ml_reply(ctx, "451", "4.3.0", "out of memory, please try again later");
	return MILTER_LIST_TEMPFAIL;
}

/* "<partners.rmet.org>" anywhere in a List-Id value, any case */
static int
ml_listid_in(const char *value, const char *id)
{
	size_t n = strlen(id);
	const char *p;

	for (p = value; (p = strchr(p, '<')) != NULL; p++)
		if (strncasecmp(p + 1, id, n) == 0 && p[1 + n] == '>')
			return 1;
	return 0;
}

void
milter_list_header(struct milter_list_msg *lm, const char *name,
    const char *value)
{
	size_t i, nl = strlen(name), vl = strlen(value), need;
	const char *p;

	if (lm == NULL)
		return;
	for (i = 0; i < ML_NREPLACED; i++)
		if (strcasecmp(name, ml_replaced[i]) == 0)
			lm->nreplaced[i]++;
	if (strcasecmp(name, "List-Id") == 0)
		for (i = 0; i < lm->n; i++)
			if (lm->r[i].kind == CONF_LIST_POST &&
			    ml_listid_in(value, lm->r[i].list->list_id))
				lm->r[i].looped = 1;
	/* the header as received, for the archive: LF line ends */
	if (!lm->archive || lm->hdr_over)
		return;
	need = lm->hdrlen + nl + vl + 4;
	if (ml_grow(&lm->hdrs, &lm->hdrcap, need, ML_HEADERS_MAX) == -1) {
		lm->hdr_over = 1;
		return;
	}
	memcpy(lm->hdrs + lm->hdrlen, name, nl);
	lm->hdrlen += nl;
	memcpy(lm->hdrs + lm->hdrlen, ": ", 2);
	lm->hdrlen += 2;
	for (p = value; *p; p++)
		if (*p != '\r')
			lm->hdrs[lm->hdrlen++] = *p;
	lm->hdrs[lm->hdrlen++] = '\n';
}

void
milter_list_body(struct milter_list_msg *lm, const unsigned char *chunk,
    size_t len)
{
	size_t max;

	if (lm == NULL || lm->body_over)
		return;
	max = lm->archive ? ML_ARCHIVE_MAX : ML_REQUEST_BODY;
	if (lm->bodylen + len > max) {
		if (lm->archive) {
			lm->body_over = 1;
			return;
		}
		len = max - lm->bodylen;	/* the start is enough */
	}
	if (len == 0)
		return;
	if (ml_grow(&lm->body, &lm->bodycap, lm->bodylen + len + 1, max + 1) ==
	    -1) {
		lm->body_over = 1;
		return;
	}
	memcpy(lm->body + lm->bodylen, chunk, len);
	lm->bodylen += len;
	lm->body[lm->bodylen] = '\0';
}

void
milter_list_free(struct milter_list_msg *lm)
{
	if (lm == NULL)
		return;
	free(lm->r);
	free(lm->hdrs);
	free(lm->body);
	free(lm);
}

/* ---- mails from the list: confirmations, help, moderation notices ---- */

static void
ml_hex(char *buf, size_t nbytes)
{
	unsigned char r[16];
	size_t i;

	if (nbytes > sizeof(r))
		nbytes = sizeof(r);
	if (getrandom(r, nbytes, 0) != (ssize_t)nbytes)
		for (i = 0; i < nbytes; i++)
			r[i] = (unsigned char)random();
	for (i = 0; i < nbytes; i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

struct ml_mail {
	const char	*list;		/* its address, the spool's ref */
	const char	*from;		/* bare */
	const char	*from_name;	/* "" for none */
	const char	*to;		/* bare */
	const char	*subject;	/* utf-8 */
	const char	*reply_to;	/* bare, or NULL */
	const char	*in_reply_to;	/* msg-id, or NULL */
	const char	*references;	/* msg-ids, or NULL */
	const char	*auto_submitted; /* auto-replied | auto-generated */
	const char	*body;		/* utf-8, "\n" lines */
};

static struct db *ml_db;	/* the milter's store: auto-reply-limit */

void
milter_list_set_db(struct db *db)
{
	ml_db = db;
}

/* compose and spool one message; -1 when it could not be spooled, 1 when
 * auto-reply-limit says no more to this address now (nothing spooled) */
static int
ml_send(const struct milter_conf *c, const struct ml_mail *mm)
{
	char msgid[MAILHDR_VALUE_MAX], spool[SPOOL_NAME_MAX], id[33];
	struct outmsg m;
	char *msg;
	size_t len;
	time_t now = time(NULL);
	int n;

	/* 0. backscatter: every automatic mail counts against its
	 * recipient's hourly cap, as acknowledgements do */
	if (ml_db != NULL && (n = db_autoreply_allow_now(ml_db, mm->to, now,
	    c->auto_reply_limit)) != 1)
		return n == 0 ? 1 : -1;

	/* 1. the header: nothing unencoded from outside */
	ml_hex(id, 16);
	outmsg_init(&m);
	if (outmsg_address(&m, "From", mm->from_name, mm->from) == -1 ||
	    outmsg_address(&m, "To", NULL, mm->to) == -1 ||
	    outmsg_text(&m, "Subject", mm->subject) == -1 ||
	    outmsg_date(&m, now) == -1 ||
	    outmsg_msgid(msgid, sizeof(msgid), "list", id, c->hostname) ==
	    -1 || outmsg_header(&m, "Message-ID", msgid) == -1 ||
	    (mm->reply_to && outmsg_address(&m, "Reply-To", NULL,
	    mm->reply_to) == -1) ||
	    outmsg_reply(&m, mm->in_reply_to, mm->references) == -1 ||
	    outmsg_header(&m, "Auto-Submitted", mm->auto_submitted) == -1 ||
	    outmsg_header(&m, "X-Auto-Response-Suppress", "All") == -1) {
		outmsg_free(&m);
		return -1;
	}

	/* 2. the body */
	if ((msg = outmsg_finish(&m, mm->body, strlen(mm->body), &len)) ==
	    NULL)
		return -1;

	/* 3. the spool, under the list's address, as acknowledgements are
	 * under their reference: the submitter sends it with MAIL FROM:<> */
	if (spool_tmp(mm->list, mm->to, msg, len, now, spool,
	    sizeof(spool)) == -1) {
		log_warn("list: spool");
		free(msg);
		return -1;
	}
	free(msg);
	if (spool_commit(spool) == -1)
		log_warn("list: spool %s stays in tmp/", spool);
	return 0;
}

/* a text buffer that grows; appends fail quietly and are checked once */
struct ml_text {
	char	buf[8192];
	size_t	len;
	int	over;
};

static void
ml_add(struct ml_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ml_add(struct ml_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
		t->over = 1;
	else
		t->len += (size_t)n;
}

static void
ml_help_text(struct ml_text *t, const struct conf_list *l)
{
	static const char *const policy[] = {
		"members may post", "anyone may post",
		"posts are read by the owners before they go out",
		"only the owners may post"
	};
	size_t i;

	ml_add(t, "This is the mailing list \"%s\" <%s>.\n\n", l->name,
	    l->address);
	ml_add(t, "To post, write to %s (%s).\n\n", l->address,
	    policy[l->posting]);
	ml_add(t, "Commands go to %s, in the subject or the first line of\n"
	    "the message:\n\n", l->request);
	if (l->subscribe_closed)
		ml_add(t, "  subscribe     (closed: ask the owners)\n");
	else
		ml_add(t, "  subscribe     join the list (you will be asked "
		    "to confirm)\n");
	ml_add(t, "  unsubscribe   leave the list (you will be asked to "
	    "confirm)\n"
	    "  help          this text\n\n"
	    "Owners may also send \"add ADDRESS\" and \"remove ADDRESS\"; "
	    "each is\nconfirmed by a mail to the owner first.\n");
	if (l->nowners) {
		ml_add(t, "\nThe list is run by:");
		for (i = 0; i < l->nowners; i++)
			ml_add(t, " %s", l->owners[i]);
		ml_add(t, "\n");
	}
	if (l->help_text[0])
		ml_add(t, "\n%s\n", l->help_text);
}

static void
ml_lifetime(time_t s, char *buf, size_t bufsz)
{
	if (s % 86400 == 0 && s >= 86400)
		snprintf(buf, bufsz, "%lld day%s", (long long)s / 86400,
		    s == 86400 ? "" : "s");
	else if (s % 3600 == 0 && s >= 3600)
		snprintf(buf, bufsz, "%lld hour%s", (long long)s / 3600,
		    s == 3600 ? "" : "s");
	else
		snprintf(buf, bufsz, "%lld seconds", (long long)s);
}

/* ---- LIST-request ---- */

struct ml_req {
	struct milter_conf		*c;
	struct conf_list		*l;
	const struct mailhdr_info	*h;
	const char			*sender;
	const char			*qid;
	time_t				 now;
};

/* a reply to the request's sender, rate limited per kind; "sent",
 * "rate-limited" or "failed" */
static const char *
ml_answer(const struct ml_req *q, const char *kind, const char *to,
    const char *subject, const char *reply_to, const struct ml_text *t,
    int limited)
{
	struct ml_mail mm;
	char key[MAILHDR_ADDR_MAX + 32];
	int rc;

	if (t->over)
		return "failed";
	if (limited) {
		snprintf(key, sizeof(key), "%s:%s", q->l->address, kind);
		if ((rc = mlist_db_reply_allowed(to, key, q->now,
		    q->l->reply_interval)) == 0)
			return "rate-limited";
		if (rc == -1)
			return "failed";
	}
	memset(&mm, 0, sizeof(mm));
	mm.list = q->l->address;
	mm.from = q->l->request;
	mm.from_name = q->l->name;
	mm.to = to;
	mm.subject = subject;
	mm.reply_to = reply_to;
	mm.in_reply_to = q->h->message_id;
	mm.references = q->h->references;
	mm.auto_submitted = "auto-replied";
	mm.body = t->buf;
	switch (ml_send(q->c, &mm)) {
	case 0:
		return "sent";
	case 1:
		return "rate-limited";
	default:
		return "failed";
	}
}

/* subscribe, unsubscribe, add, remove: a token, mailed to who must
 * confirm */
static const char *
ml_ask(const struct ml_req *q, const char *action, const char *addr,
    const char *to)
{
	struct ml_text t = { .len = 0 };
	char token[MLIST_TOKEN_LEN + 1], confirm[MAILHDR_ADDR_MAX];
	char subject[128], life[64];
	const char *res;

	if (mlist_db_token_new(q->l->address, action, addr, q->now, q->now +
	    q->l->token_lifetime, token, sizeof(token)) == -1)
		return "failed";
	snprintf(confirm, sizeof(confirm), "%s%s@%s", q->l->confirm_prefix,
	    token, q->l->domain);
	snprintf(subject, sizeof(subject), "confirm %s", token);
	ml_lifetime(q->l->token_lifetime, life, sizeof(life));
	if (strcmp(action, "subscribe") == 0)
		ml_add(&t, "Someone, probably you, asked to subscribe\n  %s\n"
		    "to the mailing list \"%s\" <%s>.\n\n", addr, q->l->name,
		    q->l->address);
	else if (strcmp(action, "unsubscribe") == 0)
		ml_add(&t, "Someone, probably you, asked to unsubscribe\n  %s\n"
		    "from the mailing list \"%s\" <%s>.\n"
		    "(If the address is not subscribed, confirming changes "
		    "nothing.)\n\n", addr, q->l->name, q->l->address);
	else
		ml_add(&t, "An owner's command for the mailing list \"%s\" "
		    "<%s>\nasked to %s\n  %s\n\nThe command came by mail, "
		    "which anyone can forge, so it waits\nfor your "
		    "confirmation.\n\n", q->l->name, q->l->address, action,
		    addr);
	ml_add(&t, "To confirm, reply to this message, or send any message "
	    "to\n  %s\n\nThe confirmation is valid for %s and can be used "
	    "once.\nIf you did not ask for this, ignore this message and "
	    "nothing\nwill change.\n", confirm, life);
	res = ml_answer(q, action, to, subject, confirm, &t, 1);
	return res;
}

/* a confirmation came back: do what its token says */
static const char *
ml_confirm(const struct ml_req *q, const char *token, int *tempfail)
{
	struct ml_text t = { .len = 0 };
	char action[32], addr[MAILHDR_ADDR_MAX], err[512];
	char subject[MAILHDR_ADDR_MAX + 64];
	int rc, changed = 0;

	rc = mlist_db_token_get(q->l->address, token, q->now, action,
	    sizeof(action), addr, sizeof(addr));
	if (rc == -1) {
		*tempfail = 1;
		return "database";
	}
	if (rc == 1) {
		ml_add(&t, "The confirmation code %s for the mailing list\n"
		    "\"%s\" <%s> is unknown, used or expired.\n"
		    "Send your request to %s again.\n", token, q->l->name,
		    q->l->address, q->l->request);
		return ml_answer(q, "badtoken", q->sender,
		    "Your confirmation could not be used", NULL, &t, 1);
	}
	/* 1. the members file first: if it fails, the token stays for the
	 * MTA's retry */
	if (mlist_edit(q->l->members, strcmp(action, "subscribe") == 0 ||
	    strcmp(action, "add") == 0 ? MLIST_ADD : MLIST_REMOVE, addr,
	    &changed, err, sizeof(err)) == -1) {
		log_warnx("%s: list %s: %s <%s>: %s", q->qid, q->l->address,
		    action, addr, err);
		*tempfail = 1;
		return "members file";
	}
	if (mlist_db_token_use(q->l->address, token) == -1) {
		*tempfail = 1;
		return "database";
	}
	log_info("%s: list %s: %s <%s> confirmed by <%s>: members file %s",
	    q->qid, q->l->address, action, addr, q->sender, changed ?
	    "rewritten" : "unchanged");
	/* 2. the answer (not rate limited: the token was the proof) */
	if (strcmp(action, "subscribe") == 0) {
		ml_add(&t, "Welcome: %s is subscribed to the mailing list\n"
		    "\"%s\" <%s>.\n\n", addr, q->l->name, q->l->address);
		ml_help_text(&t, q->l);
		snprintf(subject, sizeof(subject), "Welcome to %s",
		    q->l->address);
	} else if (strcmp(action, "unsubscribe") == 0) {
		ml_add(&t, "%s is not subscribed to the mailing list\n\"%s\" "
		    "<%s>.\n", addr, q->l->name, q->l->address);
		snprintf(subject, sizeof(subject), "Unsubscribed from %s",
		    q->l->address);
	} else {
		ml_add(&t, "Done: %s %s %s the mailing list \"%s\" <%s>%s.\n",
		    addr, changed ? "was" : "needed no change:",
		    strcmp(action, "add") == 0 ? "added to" : "removed from",
		    q->l->name, q->l->address, changed ? "" :
		    " (already so)");
		snprintf(subject, sizeof(subject), "Done: %s %s", action,
		    addr);
	}
	return ml_answer(q, "done", q->sender, subject, NULL, &t, 0);
}

static const char *
ml_help(const struct ml_req *q, struct ml_text *t, char *subject,
    size_t subjectsz)
{
	ml_help_text(t, q->l);
	snprintf(subject, subjectsz, "Help for %s", q->l->address);
	return ml_answer(q, "help", q->sender, subject, NULL, t, 1);
}

/* one mail to LIST-request or LIST-confirm+TOKEN; -1 with *why: tempfail */
static int
ml_request(const struct ml_req *q, const struct ml_rcpt *r,
    const struct milter_list_msg *lm, const char **why)
{
	struct ml_text t = { .len = 0 };
	struct listcmd cmd;
	const char *res = "-";
	char subject[MAILHDR_ADDR_MAX + 64];
	int noack, tempfail = 0;

	/* 1. the command: from the address, the subject or the body */
	if (r->kind == CONF_LIST_CONFIRM) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.verb = LISTCMD_CONFIRM;
		snprintf(cmd.arg, sizeof(cmd.arg), "%s", r->token);
	} else if (listcmd_from_mail(q->h->subject, lm->body, lm->bodylen,
	    &cmd) == -1)
		cmd.verb = LISTCMD_NONE;

	/* 2. rfc 3834: no answer to automatic mail, and no action either
	 * (an auto-reply must not confirm anything) */
	noack = mailhdr_classify(q->sender, q->h,
	    (const char *const *)q->c->own, q->c->nown);
	/* an owner who is also one of ours (the route-to of an enquiry)
	 * is a person, not our own automatic mail: her commands count */
	if (noack == MAILHDR_NOACK_OWN_ADDRESS &&
	    conf_mlist_is_owner(q->l, q->sender))
		noack = MAILHDR_ACK;
	/* a forged sender the MTA caught gets nothing, and confirms
	 * nothing */
	if (noack == MAILHDR_ACK && mailhdr_auth_failed(q->h,
	    q->c->authserv_id))
		noack = MAILHDR_NOACK_AUTH_FAIL;
	if (noack != MAILHDR_ACK) {
		log_info("%s: list %s: request %s from <%s> ignored: %s",
		    q->qid, q->l->address, listcmd_name(cmd.verb), q->sender,
		    mailhdr_noack_name(noack));
		return 0;
	}
	switch (cmd.verb) {
	case LISTCMD_SUBSCRIBE:
		if (q->l->subscribe_closed) {
			ml_add(&t, "The mailing list \"%s\" <%s> does not take "
			    "subscriptions by mail.\n", q->l->name,
			    q->l->address);
			ml_help_text(&t, q->l);
			res = ml_answer(q, "closed", q->sender,
			    "Subscriptions are closed", NULL, &t, 1);
		} else
			res = ml_ask(q, "subscribe", q->sender, q->sender);
		break;
	case LISTCMD_UNSUBSCRIBE:
		/* the same answer, member or not */
		res = ml_ask(q, "unsubscribe", q->sender, q->sender);
		break;
	case LISTCMD_CONFIRM:
		res = ml_confirm(q, cmd.arg, &tempfail);
		break;
	case LISTCMD_ADD:
	case LISTCMD_REMOVE:
		/* a stranger gets the help text */
		if (conf_mlist_is_owner(q->l, q->sender))
			res = ml_ask(q, listcmd_name(cmd.verb), cmd.arg,
			    q->sender);
		else
			res = ml_help(q, &t, subject, sizeof(subject));
		break;
	default:
		res = ml_help(q, &t, subject, sizeof(subject));
		break;
	}
	if (tempfail) {
		*why = res;
		return -1;
	}
	if (strcmp(res, "failed") == 0) {
		*why = "cannot spool the answer";
		return -1;
	}
	log_info("%s: list %s: request %s%s%s from <%s> reply=%s", q->qid,
	    q->l->address, listcmd_name(cmd.verb),
	    cmd.verb == LISTCMD_ADD || cmd.verb == LISTCMD_REMOVE ? " " : "",
	    cmd.verb == LISTCMD_ADD || cmd.verb == LISTCMD_REMOVE ? cmd.arg :
	    "", q->sender, res);
	return 0;
}

/* ---- posts ---- */

static int
ml_mkdir(const char *path)
{
	return mkdir(path, 0750) == -1 && errno != EEXIST ? -1 : 0;
}

static int
ml_is_replaced(const char *line, size_t namelen, int reply_to_list)
{
	size_t i;

	for (i = 0; i < ML_NREPLACED; i++) {
		if (i == ML_REPLYTO && !reply_to_list)
			continue;
		if (strlen(ml_replaced[i]) == namelen &&
		    strncasecmp(line, ml_replaced[i], namelen) == 0)
			return 1;
	}
	return 0;
}

/* the post as the members get it, into state-dir/archive/LIST/ (a
 * maildir: written and fsync'd in tmp/, renamed into new/, the directory
 * fsync'd), so a crash leaves a whole message or none. 0 archived, 1 too
 * large to archive (its header over ML_HEADERS_MAX or its body over
 * ML_ARCHIVE_MAX), -1 error (errno set) */
static int
ml_archive(const struct milter_conf *c, const struct conf_list *l,
    const struct milter_list_msg *lm, const char *sender,
    const char *added, const char *subject)
{
	char dir[4096], tmp[4096], new[4096], name[256], rnd[17];
	const char *p, *e, *nl, *colon;
	struct timeval tv;
	int fd = -1, dfd, first_subject = 1, n, rc = -1;
	size_t i;

	/* too large to keep: delivered all the same, not archived */
	if (lm->hdr_over || lm->body_over)
		return 1;
	n = snprintf(dir, sizeof(dir), "%s/archive/%s", c->state_dir,
	    l->address);
	if (n < 0 || (size_t)n >= sizeof(dir) || strchr(l->address, '/'))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/archive", c->state_dir);
	if (ml_mkdir(tmp) == -1 || ml_mkdir(dir) == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		static const char *const sub[] = { "tmp", "new", "cur" };

		n = snprintf(tmp, sizeof(tmp), "%s/%s", dir, sub[i]);
		if (n < 0 || (size_t)n >= sizeof(tmp) || ml_mkdir(tmp) == -1)
			return -1;
	}
	gettimeofday(&tv, NULL);
	ml_hex(rnd, 8);
	n = snprintf(name, sizeof(name), "%lld.M%ldP%ldR%s.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(), rnd,
	    c->hostname);
	if (n < 0 || (size_t)n >= sizeof(name) || strchr(c->hostname, '/'))
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name) >=
	    sizeof(tmp) || (size_t)snprintf(new, sizeof(new), "%s/new/%s",
	    dir, name) >= sizeof(new))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) ==
	    -1)
		return -1;
	/* 1. envelope, our header fields, the post's own (but those we
	 * replace), the tagged subject, then the body with LF line ends */
	if (dprintf(fd, "Return-Path: <%s>\n", sender) < 0 ||
	    xio_write_all(fd, added, strlen(added)) == -1)
		goto out;
	for (p = lm->hdrs ? lm->hdrs : "", e = p + lm->hdrlen; p < e;
	    p = nl + 1) {
		/* a field runs to the next line that starts with no blank */
		for (nl = p;; nl++) {
			if ((nl = memchr(nl, '\n', (size_t)(e - nl))) ==
			    NULL) {
				nl = e - 1;
				break;
			}
			if (nl + 1 >= e || (nl[1] != ' ' && nl[1] != '\t'))
				break;
		}
		colon = memchr(p, ':', (size_t)(nl - p));
		if (colon && ml_is_replaced(p, (size_t)(colon - p),
		    l->reply_to_list))
			continue;
		if (colon && subject && first_subject &&
		    (size_t)(colon - p) == 7 && strncasecmp(p, "Subject",
		    7) == 0) {
			first_subject = 0;
			if (dprintf(fd, "Subject: %s\n", subject) < 0)
				goto out;
			continue;
		}
		if (xio_write_all(fd, p, (size_t)(nl - p) + 1) == -1)
			goto out;
	}
	if (subject && first_subject && dprintf(fd, "Subject: %s\n",
	    subject) < 0)
		goto out;
	if (xio_write_all(fd, "\n", 1) == -1)
		goto out;
	for (p = lm->body ? lm->body : "", e = p + lm->bodylen; p < e;
	    p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL) {
			if (xio_write_all(fd, p, (size_t)(e - p)) == -1 ||
			    xio_write_all(fd, "\n", 1) == -1)
				goto out;
			break;
		}
		n = nl > p && nl[-1] == '\r';
		if (xio_write_all(fd, p, (size_t)(nl - p) - (size_t)n) == -1 ||
		    xio_write_all(fd, "\n", 1) == -1)
			goto out;
	}
	if (fsync(fd) == -1)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	/* 2. into new/, durably */
	if (rename(tmp, new) == -1)
		goto out;
	n = snprintf(tmp, sizeof(tmp), "%s/new", dir);
	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    (dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(dfd);
	close(dfd);
	return rc;
out:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

/* the list header fields, one "Name: value\n" each, for both the milter
 * and the archive */
static int
ml_list_headers(const struct conf_list *l, char *buf, size_t bufsz)
{
	char name[MAILHDR_NAME_MAX * 3];
	size_t len = 0, i;
	int n;

	/* one line each: not every MTA takes folded values from a milter */
	if (mailhdr_encode_phrase(l->name, " ", name, sizeof(name)) == -1)
		return -1;
#define ML_ADD(...) do {						\
	n = snprintf(buf + len, bufsz - len, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= bufsz - len)				\
		return -1;						\
	len += (size_t)n;						\
} while (0)
	ML_ADD("List-Id: %s <%s>\n", name, l->list_id);
	ML_ADD("List-Post: <mailto:%s>\n", l->address);
	ML_ADD("List-Help: <mailto:%s?subject=help>\n", l->request);
	ML_ADD("List-Subscribe: <mailto:%s?subject=subscribe>\n", l->request);
	if (l->unsubscribe_url[0]) {
		ML_ADD("List-Unsubscribe: <%s>, <mailto:%s?subject="
		    "unsubscribe>\n", l->unsubscribe_url, l->request);
		ML_ADD("List-Unsubscribe-Post: List-Unsubscribe=One-Click\n");
	} else
		ML_ADD("List-Unsubscribe: <mailto:%s?subject=unsubscribe>\n",
		    l->request);
	if (l->nowners) {
		ML_ADD("List-Owner: ");
		for (i = 0; i < l->nowners; i++)
			ML_ADD("%s<mailto:%s>", i ? ", " : "", l->owners[i]);
		ML_ADD("\n");
	}
	ML_ADD("Precedence: list\n");
	if (l->reply_to_list)
		ML_ADD("Reply-To: <%s>\n", l->address);
#undef ML_ADD
	return 0;
}

/* hand "Name: value\n" lines to the mta */
static int
ml_add_headers(SMFICTX *ctx, char *text)
{
	char *p = text, *e, *colon, *v;

	while (*p) {
		/* a field ends at a newline not followed by a blank */
		for (e = p; *e && !(e[0] == '\n' && e[1] != ' ' &&
		    e[1] != '\t'); e++)
			;
		if (*e == '\0' || (colon = memchr(p, ':', (size_t)(e - p))) ==
		    NULL)
			return -1;
		*colon = '\0';
		*e = '\0';
		v = colon + 1;
		while (*v == ' ')
			v++;
		if (smfi_addheader(ctx, p, v) != MI_SUCCESS)
			return -1;
		*colon = ':';
		*e = '\n';
		p = e + 1;
	}
	return 0;
}

static int
ml_addrcpt_members(SMFICTX *ctx, const struct mlist_members *mm,
    const char *skip, size_t *added)
{
	char addr[MAILHDR_ADDR_MAX + 2];
	size_t i, n = mlist_count(mm);
	const char *a;

	*added = 0;
	for (i = 0; i < n; i++) {
		a = mlist_addr(mm, i);
		if (skip && strcasecmp(a, skip) == 0)
			continue;
		snprintf(addr, sizeof(addr), "<%s>", a);
		if (smfi_addrcpt(ctx, addr) != MI_SUCCESS)
			return -1;
		(*added)++;
	}
	return 0;
}

/* tell every owner a post waits in the hold queue */
static void
ml_notify_owners(const struct milter_conf *c, const struct conf_list *l,
    const struct mailhdr_info *h, const char *sender, const char *qid,
    size_t nmembers)
{
	struct ml_text t = { .len = 0 };
	struct ml_mail mm;
	char subject[MAILHDR_VALUE_MAX + 64], subj[MAILHDR_VALUE_MAX];
	size_t i;
	int rc = 0;

	snprintf(subj, sizeof(subj), "%s", h->subject);
	mailhdr_clean(subj);
	ml_add(&t, "A post to the mailing list \"%s\" <%s> waits for you in\n"
	    "the mail server's hold queue.\n\n"
	    "  From:     %s\n  Subject:  %s\n  Queue ID: %s\n\n"
	    "To send it to the %zu members, run on the mail server:\n\n"
	    "  postsuper -H %s\n\n"
	    "To delete it instead:\n\n"
	    "  postsuper -d %s hold\n\n"
	    "(\"mailq\" lists held mail with a \"!\" after its queue ID.)\n",
	    l->name, l->address, sender[0] ? sender : "<>",
	    subj[0] ? subj : "(no subject)", qid, nmembers, qid, qid);
	snprintf(subject, sizeof(subject), "Held for moderation: %s (%s)",
	    subj[0] ? subj : "(no subject)", qid);
	for (i = 0; i < l->nowners; i++) {
		memset(&mm, 0, sizeof(mm));
		mm.list = l->address;
		mm.from = l->request;
		mm.from_name = l->name;
		mm.to = l->owners[i];
		mm.subject = subject;
		mm.auto_submitted = "auto-generated";
		mm.body = t.buf;
		if (t.over || (rc = ml_send(c, &mm)) == -1)
			log_warnx("%s: list %s: cannot tell %s about the held "
			    "post", qid, l->address, l->owners[i]);
		else if (rc == 1)
			log_info("%s: list %s: held post not notified to %s: "
			    "rate-limited (auto-reply-limit)", qid,
			    l->address, l->owners[i]);
	}
}

static double
ml_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* one post: expanded (and held on a moderated list); -1 with *why */
static int
ml_post(SMFICTX *ctx, const struct milter_conf *c, struct ml_rcpt *r,
    struct milter_list_msg *lm, const struct mailhdr_info *h,
    const char *sender, const char *qid, int first, const char **why)
{
	const struct conf_list *l = r->list;
	struct mlist_members *mm;
	struct timespec t0;
	char added[4096], subject[MAILHDR_VALUE_MAX + 256], err[512];
	const char *raw = h->subject_raw, *newsubj = NULL;
	size_t nadded = 0, i;
	int k, held = 0, archived = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((mm = mlist_get(l->members, err, sizeof(err))) == NULL) {
		log_warnx("%s: list %s: %s", qid, l->address, err);
		*why = "members file unreadable";
		return -1;
	}
	if (ml_list_headers(l, added, sizeof(added)) == -1) {
		mlist_put(mm);
		*why = "list header too long";
		return -1;
	}
	/* 1. the subject tag, once however often it comes back */
	while (*raw == ' ' || *raw == '\t')
		raw++;
	if (first && l->subject_tag[0] && !strcasestr(h->subject,
	    l->subject_tag)) {
		if (h->has_subject)
			snprintf(subject, sizeof(subject), "%s %s",
			    l->subject_tag, raw);
		else
			snprintf(subject, sizeof(subject), "%s",
			    l->subject_tag);
		newsubj = subject;
	}
	/* 2. the archive before anything is promised */
	if (first && l->archive && (archived = ml_archive(c, l, lm, sender,
	    added, newsubj)) == -1) {
		log_warn("%s: list %s: archive", qid, l->address);
		mlist_put(mm);
		*why = "cannot archive the post";
		return -1;
	}
	if (archived == 1)
		log_warnx("%s: list %s: post over %d MB (or its header over "
		    "%d KB): delivered, not archived", qid, l->address,
		    ML_ARCHIVE_MAX / (1024 * 1024), ML_HEADERS_MAX / 1024);
	/* 3. the header: theirs out, ours in (the first list's only, when a
	 * post names several) */
	if (first) {
		for (i = 0; i < ML_NREPLACED; i++) {
			if (i == ML_REPLYTO && !l->reply_to_list)
				continue;
			for (k = lm->nreplaced[i]; k > 0; k--)
				if (smfi_chgheader(ctx, (char *)ml_replaced[i],
				    k, NULL) != MI_SUCCESS)
					goto mta;
		}
		if (ml_add_headers(ctx, added) == -1)
			goto mta;
		if (newsubj && (h->has_subject ? smfi_chgheader(ctx,
		    "Subject", 1, subject) : smfi_addheader(ctx, "Subject",
		    subject)) != MI_SUCCESS)
			goto mta;
	}
	/* 4. the envelope: the list out, the members in, bounces to us */
	if (smfi_delrcpt(ctx, r->raw) != MI_SUCCESS ||
	    ml_addrcpt_members(ctx, mm, l->exclude_sender ? sender : NULL,
	    &nadded) == -1)
		goto mta;
	if (first) {
		snprintf(err, sizeof(err), "<%s>", l->bounce_address);
		if (smfi_chgfrom(ctx, err, NULL) != MI_SUCCESS)
			goto mta;
	}
	/* 5. moderated: the whole expanded post waits in the hold queue */
	if (l->posting == CONF_LIST_MODERATED) {
		snprintf(err, sizeof(err), "moderated post to %s", l->address);
		if (smfi_quarantine(ctx, err) != MI_SUCCESS)
			goto mta;
		held = 1;
		ml_notify_owners(c, l, h, sender, qid, nadded);
	}
	log_info("%s: list %s post from=<%s> members=%zu%s%s expanded in "
	    "%.1f ms", qid, l->address, sender, nadded, held ? " held" : "",
	    first && l->archive && archived == 0 ? " archived" : "",
	    ml_ms_since(&t0));
	mlist_put(mm);
	return nadded > 0 ? 1 : 0;
mta:
	mlist_put(mm);
	*why = "the MTA refused a change";
	return -1;
}

int
milter_list_eom(SMFICTX *ctx, struct milter_list_msg *lm,
    struct milter_conf *c, const struct mailhdr_info *h, const char *sender,
    const char *qid, size_t nrcpts, size_t *left, const char **why)
{
	struct ml_req q;
	char err[512];
	size_t i, j, removed = 0, expanded = 0;
	int first = 1, rc, seen;

	*left = nrcpts;
	if (lm == NULL || lm->n == 0)
		return 0;
	memset(&q, 0, sizeof(q));
	q.c = c;
	q.h = h;
	q.sender = sender;
	q.qid = qid;
	q.now = time(NULL);
	for (i = 0; i < lm->n; i++) {
		struct ml_rcpt *r = &lm->r[i];

		/* 1. a post seen before: not again */
		if (r->kind == CONF_LIST_POST && r->looped) {
			if (smfi_delrcpt(ctx, r->raw) != MI_SUCCESS) {
				*why = "the MTA refused a change";
				return -1;
			}
			removed++;
			log_info("%s: list %s: loop (%s), not redistributed",
			    qid, r->list->address, strcasecmp(sender,
			    r->list->bounce_address) == 0 ?
			    "from the bounce address" : "its own List-Id");
			continue;
		}
		if (r->kind == CONF_LIST_POST) {
			/* the same list named twice goes out once */
			for (j = 0, seen = 0; j < i; j++)
				seen |= lm->r[j].kind == CONF_LIST_POST &&
				    lm->r[j].list == r->list;
			if (seen) {
				if (smfi_delrcpt(ctx, r->raw) != MI_SUCCESS) {
					*why = "the MTA refused a change";
					return -1;
				}
				removed++;
				continue;
			}
			if ((rc = ml_post(ctx, c, r, lm, h, sender, qid, first,
			    why)) == -1)
				return -1;
			first = 0;
			removed++;
			expanded += (size_t)rc;
			continue;
		}
		/* 2. a request: answered, then consumed */
		if (mlist_db_open(c->state_dir, err, sizeof(err)) == -1) {
			log_warnx("%s: list: %s", qid, err);
			*why = "database unavailable";
			return -1;
		}
		q.l = r->list;
		if (ml_request(&q, r, lm, why) == -1)
			return -1;
		if (smfi_delrcpt(ctx, r->raw) != MI_SUCCESS) {
			*why = "the MTA refused a change";
			return -1;
		}
		removed++;
	}
	*left = nrcpts - removed + expanded;
	return 0;
}

int
milter_list_expand(SMFICTX *ctx, struct milter_conf *c, const char *addr)
{
	struct mlist_members *mm;
	struct conf_list *l;
	char token[MLIST_TOKEN_LEN + 1], err[512];
	size_t n;
	int kind, rc;

	if ((l = conf_mlist_find(c, addr, &kind, token, sizeof(token))) ==
	    NULL || kind != CONF_LIST_POST)
		return 0;
	if ((mm = mlist_get(l->members, err, sizeof(err))) == NULL) {
		log_warnx("list %s: %s", l->address, err);
		return -1;
	}
	rc = ml_addrcpt_members(ctx, mm, NULL, &n);
	mlist_put(mm);
	return rc == -1 ? -1 : 1;
}
