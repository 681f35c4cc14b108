/* the mailing-list side of the milter: its libmilter glue.
 *
 * a post to a list: the posting policy is applied at RCPT (members and
 * owners lists refuse strangers there with 5.7.1, so nothing bounces
 * later). at end of message the list address is replaced by the members,
 * the envelope sender becomes the list's bounce address, the rfc 2369 /
 * 2919 / 8058 headers go in, the subject is tagged once, Reply-To is set
 * per config, the post is archived (list_archive.c) and, on a moderated
 * list, held in the MTA's queue (smfi_quarantine) while the owners are
 * told how to release it (list_mail.c).
 *
 * loops: a post that already carries this list's List-Id, or comes from
 * its bounce address, is not redistributed: the list recipient is removed
 * (and the message discarded when no other recipient remains), and the
 * decision is logged.
 *
 * LIST-request: answered by list_request.c, and the request itself is
 * consumed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf_milter.h"
#include "conf_mlist.h"
#include "list_archive.h"
#include "list_mail.h"
#include "list_request.h"
#include "log.h"
#include "mailhdr.h"
#include "milter_list.h"
#include "mlist.h"
#include "db.h"

#define ML_REQUEST_BODY		(64 * 1024)	/* the first line is enough */
#define ML_ARCHIVE_MAX		(64 * 1024 * 1024)
#define ML_HEADERS_MAX		(1024 * 1024)

struct ml_rcpt {
	struct conf_list	*list;
	int			 kind;		/* CONF_LIST_* */
	int			 looped;	/* a post seen before */
	char			 raw[MAILHDR_ADDR_MAX + 2];
	char			 token[DB_TOKEN_LEN + 1];
};

struct milter_list_msg {
	struct ml_rcpt		*r;
	size_t			 n, cap;
	int			 archive;	/* keep the whole body */
	int			 nreplaced[LIST_MAIL_NREPLACED];
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

int
milter_list_posted(const struct milter_list_msg *lm)
{
	size_t i;

	for (i = 0; lm != NULL && i < lm->n; i++)
		if (lm->r[i].kind == CONF_LIST_POST && !lm->r[i].looped)
			return 1;
	return 0;
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
	char token[DB_TOKEN_LEN + 1], text[512], err[512];
	int kind, member;

	if (addr[0] == '\0' || (l = conf_mlist_find(c->lists, c->nlists,
	    addr, &kind, token, sizeof(token))) == NULL ||
	    kind == CONF_LIST_BOUNCE)
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
	for (i = 0; i < LIST_MAIL_NREPLACED; i++)
		if (strcasecmp(name, list_mail_replaced[i]) == 0)
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
	const char *newsubj = NULL;
	struct list_archive_post post;
	size_t nadded = 0, i;
	int k, held = 0, archived = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((mm = mlist_get(l->members, err, sizeof(err))) == NULL) {
		log_warnx("%s: list %s: %s", qid, l->address, err);
		*why = "members file unreadable";
		return -1;
	}
	if (list_mail_headers(l, added, sizeof(added)) == -1) {
		mlist_put(mm);
		*why = "list header too long";
		return -1;
	}
	/* 1. the subject tag, once however often it comes back; cut and
	 * folded as the enquiry subject is (no subject: the tag alone) */
	if (first && l->subject_tag[0] && !strcasestr(h->subject,
	    l->subject_tag)) {
		if (mailhdr_subject_tag(h->has_subject ? h->subject_raw : "",
		    h->subject_cut, l->subject_tag, "\n", subject,
		    sizeof(subject)) == -1) {
			mlist_put(mm);
			*why = "list subject tag too long";
			return -1;
		}
		newsubj = subject;
	}
	/* 2. the archive before anything is promised */
	post.hdrs = lm->hdrs;
	post.hdrlen = lm->hdrlen;
	post.body = lm->body;
	post.bodylen = lm->bodylen;
	post.too_large = lm->hdr_over || lm->body_over;
	if (first && l->archive && (archived = list_archive(c, l, &post,
	    sender, added, newsubj)) == -1) {
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
		for (i = 0; i < LIST_MAIL_NREPLACED; i++) {
			if (i == LIST_MAIL_REPLYTO && !l->reply_to_list)
				continue;
			for (k = lm->nreplaced[i]; k > 0; k--)
				if (smfi_chgheader(ctx,
				    (char *)list_mail_replaced[i], k, NULL) !=
				    MI_SUCCESS)
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
		list_mail_held(c, l, h, sender, qid, nadded);
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
	struct list_request q;
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
		q.l = r->list;
		if (list_request_handle(&q, r->kind, r->token, lm->body,
		    lm->bodylen, why) == -1)
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
	char token[DB_TOKEN_LEN + 1], err[512];
	size_t n;
	int kind, rc;

	if ((l = conf_mlist_find(c->lists, c->nlists, addr, &kind, token,
	    sizeof(token))) == NULL || kind != CONF_LIST_POST)
		return 0;
	if ((mm = mlist_get(l->members, err, sizeof(err))) == NULL) {
		log_warnx("list %s: %s", l->address, err);
		return -1;
	}
	rc = ml_addrcpt_members(ctx, mm, NULL, &n);
	mlist_put(mm);
	return rc == -1 ? -1 : 1;
}

