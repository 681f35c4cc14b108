/* LIST-request: a command (listcmd.c) from the subject or the first
 * line, or a confirmation to LIST-confirm+TOKEN, answered by mail (null
 * return path, Auto-Submitted, rate limited per sender and kind), with the
 * texts of those answers. subscribe and unsubscribe are confirmed with a
 * single-use expiring token (reply, or write to LIST-confirm+TOKEN); so
 * are the owners' add and remove: a From or envelope address is easily
 * forged, so the token goes to the owner's configured address and only a
 * reply from that mailbox acts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf_milter.h"
#include "conf_mlist.h"
#include "list_mail.h"
#include "list_request.h"
#include "listcmd.h"
#include "log.h"
#include "mailhdr.h"
#include "mlist.h"
#include "db.h"

static void
list_request_help_text(struct list_text *t, const struct conf_list *l)
{
	static const char *const policy[] = {
		"members may post", "anyone may post",
		"posts are read by the owners before they go out",
		"only the owners may post"
	};
	size_t i;

	list_text_add(t, "This is the mailing list \"%s\" <%s>.\n\n", l->name,
	    l->address);
	list_text_add(t, "To post, write to %s (%s).\n\n", l->address,
	    policy[l->posting]);
	list_text_add(t, "Commands go to %s, in the subject or the first line "
	    "of\nthe message:\n\n", l->request);
	if (l->subscribe_closed)
		list_text_add(t, "  subscribe     (closed: ask the owners)\n");
	else
		list_text_add(t, "  subscribe     join the list (you will be "
		    "asked to confirm)\n");
	list_text_add(t, "  unsubscribe   leave the list (you will be asked to "
	    "confirm)\n  help          this text\n\n"
	    "Owners may also send \"add ADDRESS\" and \"remove ADDRESS\"; "
	    "each is\nconfirmed by a mail to the owner first.\n");
	if (l->nowners) {
		list_text_add(t, "\nThe list is run by:");
		for (i = 0; i < l->nowners; i++)
			list_text_add(t, " %s", l->owners[i]);
		list_text_add(t, "\n");
	}
	if (l->help_text[0])
		list_text_add(t, "\n%s\n", l->help_text);
}

static void
list_request_lifetime(time_t s, char *buf, size_t bufsz)
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

/* what became of a request's answer */
enum list_reply {
	LIST_REPLY_NONE,	/* none was due */
	LIST_REPLY_SENT,	/* spooled */
	LIST_REPLY_LIMITED,	/* rate limited: none sent */
	LIST_REPLY_FAILED,	/* could not be spooled */
	LIST_REPLY_TEMPFAIL	/* the request itself must wait: *why says
				 * why */
};

/* for the log line */
static const char *
list_reply_name(enum list_reply r)
{
	switch (r) {
	case LIST_REPLY_SENT:
		return "sent";
	case LIST_REPLY_LIMITED:
		return "rate-limited";
	case LIST_REPLY_FAILED:
		return "failed";
	case LIST_REPLY_TEMPFAIL:
		return "tempfail";
	default:
		return "-";
	}
}

/* a reply to the request's sender, rate limited per kind: SENT, LIMITED
 * or FAILED */
static enum list_reply
list_request_answer(const struct list_request *q, const char *kind,
    const char *to, const char *subject, const char *reply_to,
    const struct list_text *t, int limited)
{
	struct list_mail mm;
	char key[MAILHDR_ADDR_MAX + 32];
	int rc;

	if (t->over)
		return LIST_REPLY_FAILED;
	if (limited) {
		snprintf(key, sizeof(key), "%s:%s", q->l->address, kind);
		if ((rc = db_reply_allowed(list_mail_store(), to, key, q->now,
		    q->l->reply_interval)) == 0)
			return LIST_REPLY_LIMITED;
		if (rc == -1)
			return LIST_REPLY_FAILED;
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
	switch (list_mail_send(q->c, &mm)) {
	case 0:
		return LIST_REPLY_SENT;
	case 1:
		return LIST_REPLY_LIMITED;
	default:
		return LIST_REPLY_FAILED;
	}
}

/* subscribe, unsubscribe, add, remove: a token, mailed to who must
 * confirm */
static enum list_reply
list_request_ask(const struct list_request *q, const char *action,
    const char *addr, const char *to)
{
	struct list_text t = { .len = 0 };
	char token[DB_TOKEN_LEN + 1], confirm[MAILHDR_ADDR_MAX];
	char subject[128], life[64];

	if (db_token_new(list_mail_store(), q->l->address, action, addr, q->now, q->now +
	    q->l->token_lifetime, token, sizeof(token)) == -1)
		return LIST_REPLY_FAILED;
	snprintf(confirm, sizeof(confirm), "%s%s@%s", q->l->confirm_prefix,
	    token, q->l->domain);
	snprintf(subject, sizeof(subject), "confirm %s", token);
	list_request_lifetime(q->l->token_lifetime, life, sizeof(life));
	if (strcmp(action, "subscribe") == 0)
		list_text_add(&t, "Someone, probably you, asked to "
		    "subscribe\n  %s\nto the mailing list \"%s\" <%s>.\n\n",
		    addr, q->l->name, q->l->address);
	else if (strcmp(action, "unsubscribe") == 0)
		list_text_add(&t, "Someone, probably you, asked to "
		    "unsubscribe\n  %s\nfrom the mailing list \"%s\" <%s>.\n"
		    "(If the address is not subscribed, confirming changes "
		    "nothing.)\n\n", addr, q->l->name, q->l->address);
	else
		list_text_add(&t, "An owner's command for the mailing list "
		    "\"%s\" <%s>\nasked to %s\n  %s\n\nThe command came by "
		    "mail, which anyone can forge, so it waits\nfor your "
		    "confirmation.\n\n", q->l->name, q->l->address, action,
		    addr);
	list_text_add(&t, "To confirm, reply to this message, or send any "
	    "message to\n  %s\n\nThe confirmation is valid for %s and can "
	    "be used once.\nIf you did not ask for this, ignore this "
	    "message and nothing\nwill change.\n", confirm, life);
	return list_request_answer(q, action, to, subject, confirm, &t, 1);
}

/* a confirmation came back: do what its token says. TEMPFAIL with *why
 * when the token or the members file could not be used now */
static enum list_reply
list_request_confirm(const struct list_request *q, const char *token,
    const char **why)
{
	struct list_text t = { .len = 0 };
	char action[32], addr[MAILHDR_ADDR_MAX], err[512];
	char subject[MAILHDR_ADDR_MAX + 64];
	int rc, changed = 0;

	rc = db_token_get(list_mail_store(), q->l->address, token, q->now, action,
	    sizeof(action), addr, sizeof(addr));
	if (rc == -1) {
		*why = "database";
		return LIST_REPLY_TEMPFAIL;
	}
	if (rc == 0) {
		list_text_add(&t, "The confirmation code %s for the mailing "
		    "list\n\"%s\" <%s> is unknown, used or expired.\n"
		    "Send your request to %s again.\n", token, q->l->name,
		    q->l->address, q->l->request);
		return list_request_answer(q, "badtoken", q->sender,
		    "Your confirmation could not be used", NULL, &t, 1);
	}
	/* 1. the members file first: if it fails, the token stays for the
	 * MTA's retry */
	if (mlist_edit(q->l->members, strcmp(action, "subscribe") == 0 ||
	    strcmp(action, "add") == 0 ? MLIST_ADD : MLIST_REMOVE, addr,
	    &changed, err, sizeof(err)) == -1) {
		log_warnx("%s: list %s: %s <%s>: %s", q->qid, q->l->address,
		    action, addr, err);
		*why = "members file";
		return LIST_REPLY_TEMPFAIL;
	}
	if (db_token_use(list_mail_store(), q->l->address, token) == -1) {
		*why = "database";
		return LIST_REPLY_TEMPFAIL;
	}
	log_info("%s: list %s: %s <%s> confirmed by <%s>: members file %s",
	    q->qid, q->l->address, action, addr, q->sender, changed ?
	    "rewritten" : "unchanged");
	/* 2. the answer (not rate limited: the token was the proof) */
	if (strcmp(action, "subscribe") == 0) {
		list_text_add(&t, "Welcome: %s is subscribed to the mailing "
		    "list\n\"%s\" <%s>.\n\n", addr, q->l->name, q->l->address);
		list_request_help_text(&t, q->l);
		snprintf(subject, sizeof(subject), "Welcome to %s",
		    q->l->address);
	} else if (strcmp(action, "unsubscribe") == 0) {
		list_text_add(&t, "%s is not subscribed to the mailing "
		    "list\n\"%s\" <%s>.\n", addr, q->l->name, q->l->address);
		snprintf(subject, sizeof(subject), "Unsubscribed from %s",
		    q->l->address);
	} else {
		list_text_add(&t, "Done: %s %s %s the mailing list \"%s\" "
		    "<%s>%s.\n", addr, changed ? "was" : "needed no change:",
		    strcmp(action, "add") == 0 ? "added to" : "removed from",
		    q->l->name, q->l->address, changed ? "" :
		    " (already so)");
		snprintf(subject, sizeof(subject), "Done: %s %s", action,
		    addr);
	}
	return list_request_answer(q, "done", q->sender, subject, NULL, &t, 0);
}

static enum list_reply
list_request_help(const struct list_request *q, struct list_text *t,
    char *subject, size_t subjectsz)
{
	list_request_help_text(t, q->l);
	snprintf(subject, subjectsz, "Help for %s", q->l->address);
	return list_request_answer(q, "help", q->sender, subject, NULL, t, 1);
}

int
list_request_handle(const struct list_request *q, int kind,
    const char *token, const char *body, size_t bodylen, const char **why)
{
	struct list_text t = { .len = 0 };
	struct listcmd cmd;
	enum list_reply res = LIST_REPLY_NONE;
	char subject[MAILHDR_ADDR_MAX + 64];
	int noack;

	/* 1. the command: from the address, the subject or the body */
	if (kind == CONF_LIST_CONFIRM) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.verb = LISTCMD_CONFIRM;
		snprintf(cmd.arg, sizeof(cmd.arg), "%s", token);
	} else if (listcmd_from_mail(q->h->subject, body, bodylen,
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
			list_text_add(&t, "The mailing list \"%s\" <%s> does "
			    "not take subscriptions by mail.\n", q->l->name,
			    q->l->address);
			list_request_help_text(&t, q->l);
			res = list_request_answer(q, "closed", q->sender,
			    "Subscriptions are closed", NULL, &t, 1);
		} else
			res = list_request_ask(q, "subscribe", q->sender,
			    q->sender);
		break;
	case LISTCMD_UNSUBSCRIBE:
		/* the same answer, member or not */
		res = list_request_ask(q, "unsubscribe", q->sender, q->sender);
		break;
	case LISTCMD_CONFIRM:
		res = list_request_confirm(q, cmd.arg, why);
		break;
	case LISTCMD_ADD:
	case LISTCMD_REMOVE:
		/* a stranger gets the help text */
		if (conf_mlist_is_owner(q->l, q->sender))
			res = list_request_ask(q, listcmd_name(cmd.verb),
			    cmd.arg, q->sender);
		else
			res = list_request_help(q, &t, subject,
			    sizeof(subject));
		break;
	default:
		res = list_request_help(q, &t, subject, sizeof(subject));
		break;
	}
	if (res == LIST_REPLY_TEMPFAIL)
		return -1;
	if (res == LIST_REPLY_FAILED) {
		*why = "cannot spool the answer";
		return -1;
	}
	log_info("%s: list %s: request %s%s%s from <%s> reply=%s", q->qid,
	    q->l->address, listcmd_name(cmd.verb),
	    cmd.verb == LISTCMD_ADD || cmd.verb == LISTCMD_REMOVE ? " " : "",
	    cmd.verb == LISTCMD_ADD || cmd.verb == LISTCMD_REMOVE ? cmd.arg :
	    "", q->sender, list_reply_name(res));
	return 0;
}
