/* the mail a list writes: the header fields it puts on posts (rfc 2369,
 * 2919, 8058) and its own mails (answers to requests, moderation
 * notices). those are composed with outmsg and spooled like
 * acknowledgements, under the list's address, for the submitter to send
 * with a null return path; each counts against its recipient's
 * auto-reply-limit. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf_milter.h"
#include "conf_mlist.h"
#include "db.h"
#include "list_mail.h"
#include "log.h"
#include "mailhdr.h"
#include "outmsg.h"
#include "rnd.h"
#include "spool.h"

/* header fields a post's own are replaced by ours */
const char *const list_mail_replaced[LIST_MAIL_NREPLACED] = {
	"List-Id", "List-Post", "List-Help", "List-Subscribe",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Owner",
	"Precedence", "Reply-To"
};

int
list_mail_is_replaced(const char *line, size_t namelen, int reply_to_list)
{
	size_t i;

	for (i = 0; i < LIST_MAIL_NREPLACED; i++) {
		if (i == LIST_MAIL_REPLYTO && !reply_to_list)
			continue;
		if (strlen(list_mail_replaced[i]) == namelen &&
		    strncasecmp(line, list_mail_replaced[i], namelen) == 0)
			return 1;
	}
	return 0;
}

/* the list header fields, one "Name: value\n" each, for both the milter
 * and the archive */
int
list_mail_headers(const struct conf_list *l, char *buf, size_t bufsz)
{
	char name[MAILHDR_NAME_MAX * 3];
	size_t len = 0, i;
	int n;

	/* one line each: not every MTA takes folded values from a milter */
	if (mailhdr_encode_phrase(l->name, " ", name, sizeof(name)) == -1)
		return -1;
#define LM_ADD(...) do {						\
	n = snprintf(buf + len, bufsz - len, __VA_ARGS__);		\
	if (n < 0 || (size_t)n >= bufsz - len)				\
		return -1;						\
	len += (size_t)n;						\
} while (0)
	LM_ADD("List-Id: %s <%s>\n", name, l->list_id);
	LM_ADD("List-Post: <mailto:%s>\n", l->address);
	LM_ADD("List-Help: <mailto:%s?subject=help>\n", l->request);
	LM_ADD("List-Subscribe: <mailto:%s?subject=subscribe>\n", l->request);
	if (l->unsubscribe_url[0]) {
		LM_ADD("List-Unsubscribe: <%s>, <mailto:%s?subject="
		    "unsubscribe>\n", l->unsubscribe_url, l->request);
		LM_ADD("List-Unsubscribe-Post: List-Unsubscribe=One-Click\n");
	} else
		LM_ADD("List-Unsubscribe: <mailto:%s?subject=unsubscribe>\n",
		    l->request);
	if (l->nowners) {
		LM_ADD("List-Owner: ");
		for (i = 0; i < l->nowners; i++)
			LM_ADD("%s<mailto:%s>", i ? ", " : "", l->owners[i]);
		LM_ADD("\n");
	}
	LM_ADD("Precedence: list\n");
	if (l->reply_to_list)
		LM_ADD("Reply-To: <%s>\n", l->address);
#undef LM_ADD
	return 0;
}

void
list_text_add(struct list_text *t, const char *fmt, ...)
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

/* the milter's store: auto-reply-limit, list tokens, reply times */
static struct db *list_mail_db;

void
list_mail_set_db(struct db *db)
{
	list_mail_db = db;
}

struct db *
list_mail_store(void)
{
	return list_mail_db;
}

/* compose and spool one message; -1 when it could not be spooled, 1 when
 * auto-reply-limit says no more to this address now (nothing spooled) */
int
list_mail_send(const struct milter_conf *c, const struct list_mail *mm)
{
	char msgid[MAILHDR_VALUE_MAX], spool[SPOOL_NAME_MAX], id[33];
	struct outmsg m;
	char *msg;
	size_t len;
	time_t now = time(NULL);
	int n;

	/* 0. backscatter: every automatic mail counts against its
	 * recipient's hourly cap, as acknowledgements do (its Message-ID's
	 * random part first, so a failure costs no count; no weaker
	 * fallback: a Message-ID that may repeat is worse than a mail tried
	 * again later) */
	if (rnd_hex(id, sizeof(id), 16) == -1) {
		log_warn("list: random");
		return -1;
	}
	if (list_mail_db != NULL && (n = db_autoreply_allow_now(list_mail_db,
	    mm->to, now, c->auto_reply_limit)) != 1)
		return n == 0 ? 1 : -1;

	/* 1. the header: nothing unencoded from outside */
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

/* tell every owner a post waits in the hold queue */
void
list_mail_held(const struct milter_conf *c, const struct conf_list *l,
    const struct mailhdr_info *h, const char *sender, const char *qid,
    size_t nmembers)
{
	struct list_text t = { .len = 0 };
	struct list_mail mm;
	char subject[MAILHDR_VALUE_MAX + 64], subj[MAILHDR_VALUE_MAX];
	size_t i;
	int rc = 0;

	snprintf(subj, sizeof(subj), "%s", h->subject);
	mailhdr_clean(subj);
	list_text_add(&t, "A post to the mailing list \"%s\" <%s> waits for "
	    "you in\nthe mail server's hold queue.\n\n"
	    "  From:     %s\n  Subject:  %s\n  Queue ID: %s\n\n"
	    "To send it to the %zu members, run on the mail server:\n\n"
	    "  postsuper -H %s\n\nTo delete it instead:\n\n"
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
		if (t.over || (rc = list_mail_send(c, &mm)) == -1)
			log_warnx("%s: list %s: cannot tell %s about the held "
			    "post", qid, l->address, l->owners[i]);
		else if (rc == 1)
			log_info("%s: list %s: held post not notified to %s: "
			    "rate-limited (auto-reply-limit)", qid,
			    l->address, l->owners[i]);
	}
}
