/* mail header helpers: parsing, addresses, rfc 2047, the rfc 3834 classifier.
 * pure: no i/o, no globals */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailhdr.h"
#include "base64.h"
#include "hex.h"
#include "utf8.h"

static int	mailhdr_addr_is_own(const char *, const char *);

/* a growing output that refuses to overflow and remembers it did */
struct obuf {
	char	*p;
	size_t	 sz, len;
	int	 over;
};

static void
ob_init(struct obuf *o, char *p, size_t sz)
{
	o->p = p;
	o->sz = sz;
	o->len = 0;
	o->over = sz == 0;
	if (sz)
		p[0] = '\0';
}

static void
ob_putn(struct obuf *o, const char *s, size_t n)
{
	if (o->over || o->len + n >= o->sz) {
		o->over = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
ob_putc(struct obuf *o, char c)
{
	ob_putn(o, &c, 1);
}

static void
ob_puts(struct obuf *o, const char *s)
{
	ob_putn(o, s, strlen(s));
}

static int
ob_done(struct obuf *o)
{
	return o->over ? -1 : 0;
}

/* copy with truncation noted, for fields where a cut is harmless */
static int
copy_trunc(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstsz) {
		memcpy(dst, src, dstsz - 1);
		dst[dstsz - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* the first token of a field value: "auto-replied (x); y" -> "auto-replied" */
static void
first_token(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	while (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
		in++;
	while (*in && *in != ';' && *in != '(' && *in != ' ' &&
	    *in != '\t' && *in != '\r' && *in != '\n' && o + 1 < outsz)
		out[o++] = (char)tolower((unsigned char)*in++);
	out[o] = '\0';
}

void
mailhdr_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s), i = 0, l;
	uint32_t cp;

	while (i < n) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			p[i++] = ' ';
			continue;
		}
		l = utf8_decode(s + i, n - i, &cp);
		if (l == 0) {
			p[i++] = '?';
			continue;
		}
		i += l;
	}
}

/* copy at most outsz - 1 bytes, cut on a character; 1 when cut */
static int
copy_utf8(char *out, size_t outsz, const char *in)
{
	size_t n = strlen(in), k;

	if (n < outsz) {
		memcpy(out, in, n + 1);
		return 0;
	}
	n = outsz - 1;
	/* back to the start of the character the cut falls in */
	for (k = n; k > 0 && ((unsigned char)in[k] & 0xc0) == 0x80; k--)
		;
	if (k > 0 || ((unsigned char)in[0] & 0xc0) != 0x80)
		n = k;
	memcpy(out, in, n);
	out[n] = '\0';
	return 1;
}

/*
 * the decoded subject. a long one is cut on a character instead of lost
 * (it was "(no subject)" in the acknowledgement, the register and the
 * log); an encoded-word too long for rfc 2047 stays as it was written;
 * what does not even decode into the large buffer is kept as received,
 * unfolded
 */
static void
note_subject(struct mailhdr_info *h, const char *value)
{
	char big[MAILHDR_VALUE_MAX * 4];
	size_t o = 0;
	const char *p;

	if (mailhdr_decode(value, big, sizeof(big)) == 0) {
		if (copy_utf8(h->subject, sizeof(h->subject), big))
			h->truncated = 1;
		return;
	}
	h->truncated = 1;
	for (p = value; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';
	    p++)
		;
	for (; *p && o + 1 < sizeof(big); p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			if (o > 0 && big[o - 1] != ' ')
				big[o++] = ' ';
		} else
			big[o++] = *p;
	}
	big[o] = '\0';
	copy_utf8(h->subject, sizeof(h->subject), big);
	mailhdr_clean(h->subject);
}

void
mailhdr_info_init(struct mailhdr_info *h)
{
	memset(h, 0, sizeof(*h));
}

/* bulk, list, junk, auto_reply: automatic mail by its Precedence */
static int
precedence_auto(const char *v)
{
	return strcmp(v, "bulk") == 0 || strcmp(v, "list") == 0 ||
	    strcmp(v, "junk") == 0 || strcmp(v, "auto_reply") == 0;
}

/*
 * one Authentication-Results value (rfc 8601 2.2):
 *   authserv-id [version] ; method=result [reason] [props] ; ...
 * noted: the authserv-id, and whether spf or dmarc is "fail". comments
 * (nested parentheses) are skipped, so "(spf=fail elsewhere)" is not a
 * result
 */
static void
note_auth_results(struct mailhdr_info *h, const char *v)
{
	char clean[MAILHDR_VALUE_MAX], word[32];
	size_t o = 0, i;
	int depth = 0;
	const char *p;
	char *q, *id;

	/* 1. comments out, one line */
	for (p = v; *p && o + 1 < sizeof(clean); p++) {
		if (*p == '\\' && p[1] && depth > 0) {
			p++;
			continue;
		}
		if (*p == '(') {
			depth++;
			continue;
		}
		if (*p == ')' && depth > 0) {
			depth--;
			clean[o++] = ' ';
			continue;
		}
		if (depth == 0)
			clean[o++] = *p == '\r' || *p == '\n' || *p == '\t' ?
			    ' ' : *p;
	}
	clean[o] = '\0';
	/* 2. the authserv-id: the first token */
	for (id = clean; *id == ' '; id++)
		;
	for (q = id; *q && *q != ' ' && *q != ';'; q++)
		;
	if (q == id || (size_t)(q - id) >= sizeof(h->ar[0].id))
		return;
	memcpy(h->ar[h->n_ar].id, id, (size_t)(q - id));
	h->ar[h->n_ar].id[q - id] = '\0';
	h->ar[h->n_ar].fail = 0;
	/* 3. each "; method=result": spf or dmarc failing */
	for (p = strchr(q, ';'); p != NULL; p = strchr(p + 1, ';')) {
		const char *m = p + 1;

		while (*m == ' ')
			m++;
		for (i = 0; i + 1 < sizeof(word) && m[i] && m[i] != ' ' &&
		    m[i] != ';'; i++)
			word[i] = (char)tolower((unsigned char)m[i]);
		word[i] = '\0';
		/* "spf=fail", "dmarc=fail", possibly "spf = fail" is not
		 * rfc 8601 syntax, and not matched */
		if (strcmp(word, "spf=fail") == 0 ||
		    strcmp(word, "dmarc=fail") == 0)
			h->ar[h->n_ar].fail = 1;
	}
	h->n_ar++;
}

void
mailhdr_note(struct mailhdr_info *h, const char *name, const char *value)
{
	char tmp[MAILHDR_VALUE_MAX];

	if (name == NULL || value == NULL)
		return;
	if (strncasecmp(name, "List-", 5) == 0) {
		h->has_list = 1;
	} else if (strcasecmp(name, "From") == 0) {
		if (h->from_addr[0] == '\0' && mailhdr_addr_parse(value,
		    h->from_addr, sizeof(h->from_addr), h->from_name,
		    sizeof(h->from_name)) == -1) {
			h->from_addr[0] = '\0';
			h->from_name[0] = '\0';
		}
	} else if (strcasecmp(name, "Subject") == 0) {
		if (h->has_subject)
			return;		/* the first one counts */
		h->has_subject = 1;
		if (copy_trunc(h->subject_raw, sizeof(h->subject_raw),
		    value) == -1)
			h->truncated = h->subject_cut = 1;
		note_subject(h, value);
	} else if (strcasecmp(name, "Message-ID") == 0) {
		if (h->message_id[0] == '\0' && mailhdr_msgids(value, tmp,
		    sizeof(tmp)) == 0) {
			/* exactly one id */
			char *sp = strchr(tmp, ' ');

			if (sp)
				*sp = '\0';
			if (copy_trunc(h->message_id, sizeof(h->message_id),
			    tmp) == -1)
				h->message_id[0] = '\0';
		}
	} else if (strcasecmp(name, "References") == 0) {
		if (mailhdr_msgids(value, h->references,
		    sizeof(h->references)) == -1)
			h->truncated = 1;
	} else if (strcasecmp(name, "Auto-Submitted") == 0) {
		/* a later field never undoes an automatic one: any value
		 * but "no" in any of them is automatic */
		h->has_auto_submitted = 1;
		if (h->auto_submitted[0] == '\0' ||
		    strcmp(h->auto_submitted, "no") == 0)
			first_token(value, h->auto_submitted,
			    sizeof(h->auto_submitted));
	} else if (strcasecmp(name, "Precedence") == 0) {
		/* the same: a bulk or auto-reply value sticks */
		if (!precedence_auto(h->precedence))
			first_token(value, h->precedence,
			    sizeof(h->precedence));
	} else if (strcasecmp(name, "X-Autoreply") == 0 ||
	    strcasecmp(name, "X-Autorespond") == 0) {
		h->has_autoreply = 1;
	} else if (strcasecmp(name, "Authentication-Results") == 0) {
		if (h->n_ar < MAILHDR_AR_MAX)
			note_auth_results(h, value);
	} else if (strcasecmp(name, "Received-SPF") == 0) {
		/* the topmost is the one the receiving MTA added */
		if (h->received_spf[0] == '\0')
			first_token(value, h->received_spf,
			    sizeof(h->received_spf));
	} else if (strcasecmp(name, "Content-Type") == 0) {
		first_token(value, h->content_type, sizeof(h->content_type));
		if (h->mime_type[0] == '\0' && copy_trunc(h->mime_type,
		    sizeof(h->mime_type), value) == -1)
			h->truncated = 1;
	} else if (strcasecmp(name, "Content-Transfer-Encoding") == 0) {
		if (h->mime_cte[0] == '\0')
			first_token(value, h->mime_cte, sizeof(h->mime_cte));
	} else if (strcasecmp(name, "X-Auto-Response-Suppress") == 0) {
		copy_trunc(h->xars, sizeof(h->xars), value);
	} else if (strcasecmp(name, "X-Enquiry-Reference") == 0) {
		h->n_xref++;
		if (h->enquiry_ref[0] == '\0') {
			first_token(value, h->enquiry_ref,
			    sizeof(h->enquiry_ref));
			/* references are upper case */
			for (char *p = h->enquiry_ref; *p; p++)
				*p = (char)toupper((unsigned char)*p);
		}
	} else if (strcasecmp(name, "X-Enquiry-Category") == 0) {
		h->n_xcat++;
	} else if (strcasecmp(name, "X-Loop") == 0) {
		/* a bare address or a mailbox; more than a few is a loop of
		 * its own, and the first ones are enough to see ours */
		if (h->n_xloop < MAILHDR_XLOOP_MAX &&
		    mailhdr_addr_parse(value, h->x_loop[h->n_xloop],
		    sizeof(h->x_loop[0]), tmp, sizeof(tmp)) == 0 &&
		    h->x_loop[h->n_xloop][0] != '\0')
			h->n_xloop++;
	}
}

/* 1 when the comma-separated list holds one of the words */
static int
xars_suppresses(const char *v)
{
	static const char *words[] = { "all", "autoreply", "oof" };
	char tok[32];
	size_t i, o;

	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',' || *v == '\r' ||
		    *v == '\n')
			v++;
		o = 0;
		while (*v && *v != ',' && *v != ' ' && *v != '\t' &&
		    *v != '\r' && *v != '\n') {
			if (o + 1 < sizeof(tok))
				tok[o++] = (char)tolower((unsigned char)*v);
			v++;
		}
		tok[o] = '\0';
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strcmp(tok, words[i]) == 0)
				return 1;
	}
	return 0;
}

int
mailhdr_is_role_address(const char *addr)
{
	static const char *exact[] = { "mailer-daemon", "mailer_daemon",
	    "postmaster", "listserv", "majordomo", "mailman", "nobody" };
	static const char *prefix[] = { "owner-", "bounce", "noreply",
	    "no-reply", "no_reply", "donotreply", "do-not-reply",
	    "do_not_reply", "mailer-daemon" };
	static const char *suffix[] = { "-request", "-bounces", "-bounce",
	    "-owner", "-noreply", "-no-reply" };
	char local[MAILHDR_ADDR_MAX];
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr), i, l;
	char *plus;

	if (n >= sizeof(local))
		return 0;
	memcpy(local, addr, n);
	local[n] = '\0';
	lower(local);
	/* sub-addresses (owner-x+foo) judged without the detail */
	if ((plus = strchr(local, '+')) != NULL && plus != local)
		*plus = '\0';
	n = strlen(local);
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(local, exact[i]) == 0)
			return 1;
	for (i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (strncmp(local, prefix[i], strlen(prefix[i])) == 0)
			return 1;
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		l = strlen(suffix[i]);
		if (n > l && strcmp(local + n - l, suffix[i]) == 0)
			return 1;
	}
	return 0;
}

int
mailhdr_classify(const char *envfrom, const struct mailhdr_info *h,
    const char *const *own, size_t nown)
{
	size_t i;
	int j;

	/* 1. rfc 3834 2: never answer a null return path */
	if (envfrom == NULL || envfrom[0] == '\0')
		return MAILHDR_NOACK_NULL_SENDER;
	/* 2. role and robot addresses, envelope or header */
	if (mailhdr_is_role_address(envfrom) ||
	    (h->from_addr[0] && mailhdr_is_role_address(h->from_addr)))
		return MAILHDR_NOACK_ROLE_SENDER;
	/* 3. rfc 3834 5: anything but "no" is automatic */
	if (h->has_auto_submitted && strcmp(h->auto_submitted, "no") != 0)
		return MAILHDR_NOACK_AUTO_SUBMITTED;
	if (h->has_autoreply)
		return MAILHDR_NOACK_AUTO_SUBMITTED;
	/* 3a. an X-Loop naming one of ours: it has been through us, or
	 * through a list of ours, before */
	for (j = 0; j < h->n_xloop; j++)
		for (i = 0; i < nown; i++)
			if (mailhdr_addr_is_own(h->x_loop[j], own[i]))
				return MAILHDR_NOACK_LOOP;
	/* 4. traditional bulk and auto-reply markers */
	if (precedence_auto(h->precedence))
		return MAILHDR_NOACK_PRECEDENCE;
	if (h->has_list)
		return MAILHDR_NOACK_LIST;
	if (h->xars[0] && xars_suppresses(h->xars))
		return MAILHDR_NOACK_SUPPRESS;
	if (strcmp(h->content_type, "multipart/report") == 0)
		return MAILHDR_NOACK_REPORT;
	/* 5. our own addresses never get an answer from us */
	for (i = 0; i < nown; i++)
		if (mailhdr_addr_is_own(envfrom, own[i]) ||
		    (h->from_addr[0] && mailhdr_addr_is_own(h->from_addr,
		    own[i])))
			return MAILHDR_NOACK_OWN_ADDRESS;
	return MAILHDR_ACK;
}

/* 1 when addr is own, or own with a +detail: name+tag@d is name@d */
static int
mailhdr_addr_is_own(const char *addr, const char *own)
{
	const char *plus, *at;

	if (mailhdr_addr_eq(addr, own))
		return 1;
	/* name+tag@domain: name@domain without the tag */
	if ((at = strrchr(addr, '@')) == NULL ||
	    (plus = memchr(addr, '+', (size_t)(at - addr))) == NULL ||
	    plus == addr)
		return 0;
	return strncasecmp(addr, own, (size_t)(plus - addr)) == 0 &&
	    own[plus - addr] == '@' && strcasecmp(at, own + (plus - addr)) ==
	    0;
}

int
mailhdr_auth_failed(const struct mailhdr_info *h, const char *authserv_id)
{
	int i;

	if (authserv_id == NULL || authserv_id[0] == '\0')
		return 0;
	for (i = 0; i < h->n_ar; i++)
		if (h->ar[i].fail && strcasecmp(h->ar[i].id, authserv_id) == 0)
			return 1;
	return strcmp(h->received_spf, "fail") == 0;
}

const char *
mailhdr_noack_name(int why)
{
	static const char *names[MAILHDR_NOACK_MAX] = {
		"sent", "null-sender", "role-sender", "auto-submitted",
		"precedence", "list", "suppressed", "report", "own-address",
		"interval", "duplicate", "auth-fail", "rate-limited", "loop"
	};

	if (why < 0 || why >= MAILHDR_NOACK_MAX)
		return "unknown";
	return names[why];
}

int
mailhdr_addr_valid(const char *a)
{
	const char *at = strrchr(a, '@');
	const char *p;

	if (at == NULL || at == a || at[1] == '\0' ||
	    strlen(a) >= MAILHDR_ADDR_MAX || at - a > 64)
		return 0;
	for (p = a; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' ||
		    c == '(' || c == ')' || c == ',' || c == ';' ||
		    c == '\\' || c == '"' || c == '[' || c == ']')
			return 0;
	}
	return 1;
}

int
mailhdr_addr_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int
mailhdr_envaddr(const char *in, char *out, size_t outsz)
{
	const char *s = in, *e;
	size_t n;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (*s == '<') {
		s++;
		if (e == s || e[-1] != '>')
			return -1;
		e--;
		/* 1. drop an obsolete source route "@a,@b:" */
		if (*s == '@') {
			const char *colon = memchr(s, ':', (size_t)(e - s));

			if (colon == NULL)
				return -1;
			s = colon + 1;
		}
	}
	n = (size_t)(e - s);
	if (n >= outsz)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	lower(out);
	if (n == 0)
		return 0;	/* null path */
	return mailhdr_addr_valid(out) ? 0 : -1;
}

/*
 * a mailbox from a header: 'Name <a@b>', '"N, x" <a@b>', 'a@b (Name)',
 * '<a@b>', 'a@b'. comments are dropped except as a fallback name.
 */
int
mailhdr_addr_parse(const char *in, char *addr, size_t addrsz, char *name,
    size_t namesz)
{
	char phrase[MAILHDR_VALUE_MAX], comment[MAILHDR_NAME_MAX];
	char bare[MAILHDR_ADDR_MAX], angle[MAILHDR_ADDR_MAX];
	struct obuf ph, cm, br, an;
	const char *p = in;
	int depth, in_angle = 0, have_angle = 0;

	ob_init(&ph, phrase, sizeof(phrase));
	ob_init(&cm, comment, sizeof(comment));
	ob_init(&br, bare, sizeof(bare));
	ob_init(&an, angle, sizeof(angle));
	if (addrsz == 0 || namesz == 0)
		return -1;
	addr[0] = name[0] = '\0';

	for (; *p; p++) {
		if (*p == '"' && !in_angle) {
			/* 1. quoted string: part of the phrase */
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				ob_putc(&ph, *p);
			}
			if (*p == '\0')
				return -1;
			ob_putc(&br, '\x01');	/* not a bare address */
		} else if (*p == '(') {
			/* 2. comments nest */
			for (depth = 1, p++; *p && depth; p++) {
				if (*p == '\\' && p[1]) {
					ob_putc(&cm, *++p);
					continue;
				}
				if (*p == '(')
					depth++;
				else if (*p == ')' && --depth == 0)
					break;
				if (depth)
					ob_putc(&cm, *p);
			}
			if (*p == '\0')
				return -1;
		} else if (*p == '<' && !in_angle) {
			if (have_angle)
				return -1;
			in_angle = have_angle = 1;
		} else if (*p == '>' && in_angle) {
			in_angle = 0;
		} else if (*p == ',' && !in_angle) {
			break;		/* first mailbox of a list */
		} else if (in_angle) {
			ob_putc(&an, *p);
		} else {
			ob_putc(&ph, *p);
			if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
				ob_putc(&br, *p);
		}
	}
	if (in_angle || ph.over || br.over || an.over)
		return -1;

	/* 3. the address: in angle brackets, else the bare token */
	if (have_angle) {
		if (mailhdr_envaddr(angle, addr, addrsz) == -1)
			return -1;
	} else {
		if (strchr(bare, '\x01') || mailhdr_envaddr(bare, addr,
		    addrsz) == -1)
			return -1;
		phrase[0] = '\0';
	}
	if (addr[0] == '\0')
		return -1;

	/* 4. the display name, decoded; the comment when there is no phrase */
	if (mailhdr_decode(phrase[0] ? phrase : comment, name, namesz) == -1)
		name[0] = '\0';
	return 0;
}

/* decode the text of one encoded-word into raw bytes; -1 if malformed */
static int
ew_decode(char enc, const char *t, size_t n, struct obuf *o)
{
	size_t i;
	unsigned int acc = 0;
	int bits = 0, v;

	if (enc == 'b' || enc == 'B') {
		for (i = 0; i < n; i++) {
			if (t[i] == '=')
				break;
			if ((v = base64_value((unsigned char)t[i])) == -1)
				return -1;
			acc = (acc << 6) | (unsigned int)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				ob_putc(o, (char)((acc >> bits) & 0xff));
			}
		}
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (t[i] == '_')
			ob_putc(o, ' ');
		else if (t[i] == '=') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hex_value((unsigned char)t[i + 1]);
			lo = hex_value((unsigned char)t[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ob_putc(o, (char)(hi * 16 + lo));
			i += 2;
		} else
			ob_putc(o, t[i]);
	}
	return 0;
}

/* an encoded-word at p: "=?charset?e?text?=", its parts and its length */
static size_t
ew_scan(const char *p, const char **cs, size_t *csn, char *enc,
    const char **txt, size_t *txtn)
{
	const char *q, *e;

	if (p[0] != '=' || p[1] != '?')
		return 0;
	*cs = p + 2;
	for (q = *cs; *q && *q != '?'; q++)
		if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			return 0;
	if (*q != '?' || q == *cs)
		return 0;
	*csn = (size_t)(q - *cs);
	if (q[1] == '\0' || q[2] != '?' || strchr("bBqQ", q[1]) == NULL)
		return 0;
	*enc = q[1];
	*txt = q + 3;
	if ((e = strstr(*txt, "?=")) == NULL)
		return 0;
	for (q = *txt; q < e; q++)
		if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			return 0;
	*txtn = (size_t)(e - *txt);
	return (size_t)(e + 2 - p);
}

static int
charset_is(const char *cs, size_t n, const char *name)
{
	const char *star = memchr(cs, '*', n);	/* rfc 2231 language */

	if (star)
		n = (size_t)(star - cs);
	return strlen(name) == n && strncasecmp(cs, name, n) == 0;
}

int
mailhdr_decode(const char *in, char *out, size_t outsz)
{
	struct obuf o, raw;
	char rawbuf[MAILHDR_VALUE_MAX];
	const char *p = in, *cs, *txt, *ws = NULL;
	size_t n, csn, txtn, i;
	char enc;
	int last_ew = 0;

	ob_init(&o, out, outsz);
	while (*p) {
		n = ew_scan(p, &cs, &csn, &enc, &txt, &txtn);
		if (n) {
			ob_init(&raw, rawbuf, sizeof(rawbuf));
			if (ew_decode(enc, txt, txtn, &raw) == -1 ||
			    raw.over)
				goto literal;
			/* 1. whitespace between two encoded-words vanishes */
			if (ws && !last_ew && o.len > 0)
				ob_putc(&o, ' ');
			ws = NULL;
			/* a NUL would end the string early: a space */
			for (i = 0; i < raw.len; i++)
				if (rawbuf[i] == '\0')
					rawbuf[i] = ' ';
			if (charset_is(cs, csn, "utf-8") ||
			    charset_is(cs, csn, "us-ascii") ||
			    charset_is(cs, csn, "utf8")) {
				ob_putn(&o, rawbuf, raw.len);
			} else if (charset_is(cs, csn, "iso-8859-1") ||
			    charset_is(cs, csn, "latin1") ||
			    charset_is(cs, csn, "iso-8859-15") ||
			    charset_is(cs, csn, "windows-1252")) {
				/* 2. latin-1 maps straight onto unicode */
				for (i = 0; i < raw.len; i++) {
					unsigned char c = (unsigned char)
					    rawbuf[i];

					if (c < 0x80)
						ob_putc(&o, (char)c);
					else if (c < 0xa0)
						ob_putc(&o, '?');
					else {
						ob_putc(&o, (char)(0xc0 |
						    (c >> 6)));
						ob_putc(&o, (char)(0x80 |
						    (c & 0x3f)));
					}
				}
			} else
				goto literal;
			last_ew = 1;
			p += n;
			continue;
		}
literal:
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			/* 3. unfold: any run of white space is one space */
			if (ws == NULL)
				ws = p;
			p++;
			continue;
		}
		if (ws) {
			if (o.len > 0)
				ob_putc(&o, ' ');
			ws = NULL;
		}
		if (n) {
			/* an encoded-word we cannot decode stays as it is */
			ob_putn(&o, p, n);
			p += n;
		} else
			ob_putc(&o, *p++);
		last_ew = 0;
	}
	if (o.over)
		return -1;
	mailhdr_clean(out);
	return 0;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_put(struct obuf *o, const unsigned char *s, size_t n)
{
	size_t i;
	unsigned int v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned int)s[i] << 16 | (unsigned int)s[i + 1] << 8 |
		    s[i + 2];
		ob_putc(o, b64chars[v >> 18]);
		ob_putc(o, b64chars[(v >> 12) & 63]);
		ob_putc(o, b64chars[(v >> 6) & 63]);
		ob_putc(o, b64chars[v & 63]);
	}
	if (n - i == 1) {
		v = (unsigned int)s[i] << 16;
		ob_putc(o, b64chars[v >> 18]);
		ob_putc(o, b64chars[(v >> 12) & 63]);
		ob_puts(o, "==");
	} else if (n - i == 2) {
		v = (unsigned int)s[i] << 16 | (unsigned int)s[i + 1] << 8;
		ob_putc(o, b64chars[v >> 18]);
		ob_putc(o, b64chars[(v >> 12) & 63]);
		ob_putc(o, b64chars[(v >> 6) & 63]);
		ob_putc(o, '=');
	}
}

/* encode clean utf-8 as B words of 64 characters at most, so that even
 * the first, after "Subject: ", fits in 78 */
static void
encode_words(struct obuf *o, const char *s, const char *fold)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), chunk, l;
	uint32_t cp;
	int first = 1;

	while (n > 0) {
		/* 39 bytes -> 52 base64 + 12 = 64, cut on a character */
		chunk = 0;
		while (chunk < n) {
			l = utf8_decode(s + chunk, n - chunk, &cp);
			if (l == 0)
				l = 1;
			if (chunk + l > 39)
				break;
			chunk += l;
		}
		if (!first)
			ob_puts(o, fold);
		first = 0;
		ob_puts(o, "=?UTF-8?B?");
		b64_put(o, p, chunk);
		ob_puts(o, "?=");
		p += chunk;
		n -= chunk;
	}
}

/* a word this long could not be folded onto a line of at most 998 */
#define LONGEST_WORD	900

static int
needs_words(const char *s)
{
	const unsigned char *p;
	size_t run = 0;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p > 0x7e)
			return 1;
		run = *p == ' ' ? 0 : run + 1;
		if (run > LONGEST_WORD)
			return 1;
	}
	return strstr(s, "=?") != NULL;
}

int
mailhdr_encode_text(const char *in, const char *fold, char *out,
    size_t outsz)
{
	char clean[MAILHDR_VALUE_MAX * 2];
	struct obuf o;

	if (strlen(in) >= sizeof(clean))
		return -1;
	strcpy(clean, in);
	mailhdr_clean(clean);	/* no cr/lf: nothing can be injected */
	ob_init(&o, out, outsz);
	if (needs_words(clean))
		encode_words(&o, clean, fold);
	else
		ob_puts(&o, clean);
	return ob_done(&o);
}

int
mailhdr_encode_phrase(const char *in, const char *fold, char *out,
    size_t outsz)
{
	char clean[MAILHDR_VALUE_MAX];
	struct obuf o;
	const char *p;
	int special = 0;

	if (strlen(in) >= sizeof(clean))
		return -1;
	strcpy(clean, in);
	mailhdr_clean(clean);
	ob_init(&o, out, outsz);
	if (needs_words(clean)) {
		encode_words(&o, clean, fold);
		return ob_done(&o);
	}
	for (p = clean; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != ' ' &&
		    strchr("!#$%&'*+-/=?^_`{|}~", *p) == NULL)
			special = 1;
	if (!special)
		ob_puts(&o, clean);
	else {
		ob_putc(&o, '"');
		for (p = clean; *p; p++) {
			if (*p == '"' || *p == '\\')
				ob_putc(&o, '\\');
			ob_putc(&o, *p);
		}
		ob_putc(&o, '"');
	}
	return ob_done(&o);
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
mailhdr_fold(const char *in, size_t col, const char *eol, char *out,
    size_t outsz)
{
	struct obuf o;
	const char *p = in, *ws, *w;
	char wsbuf[MAILHDR_VALUE_MAX];
	size_t wsn, wn, line = col;
	int placed = 0;

	ob_init(&o, out, outsz);
	while (is_wsp(*p))
		p++;
	while (*p) {
		/* 1. the white space before a word: its blanks, without the
		 * line breaks of old folds (a break alone is a space) */
		for (ws = p, wsn = 0; is_wsp(*p); p++)
			if ((*p == ' ' || *p == '\t') && wsn < sizeof(wsbuf))
				wsbuf[wsn++] = *p;
		if (p > ws && wsn == 0)
			wsbuf[wsn++] = ' ';
		if (*p == '\0')
			break;		/* no trailing white space */
		for (w = p; *p && !is_wsp(*p); p++)
			;
		wn = (size_t)(p - w);
		/* 2. a fold before a word that would pass the line */
		if (placed && wsn > 0 && line + wsn + wn > 78) {
			ob_puts(&o, eol);
			line = 0;
		}
		ob_putn(&o, wsbuf, wsn);
		ob_putn(&o, w, wn);
		line += wsn + wn;
		placed = 1;
	}
	return ob_done(&o);
}

int
mailhdr_subject_tag(const char *raw, int cut, const char *tag,
    const char *eol, char *out, size_t outsz)
{
	char val[MAILHDR_VALUE_MAX + 128];
	size_t tl = strlen(tag), n, i, run;

	while (is_wsp(*raw))
		raw++;
	if (tl + 1 >= sizeof(val))
		return -1;
	memcpy(val, tag, tl);
	val[tl] = ' ';
	if (copy_utf8(val + tl + 1, sizeof(val) - tl - 1, raw))
		cut = 1;
	n = strlen(val);
	for (;;) {
		/* 1. a value cut short ends at white space, where a word
		 * and an encoded-word end; one word too long for any
		 * line is cut inside */
		if (cut) {
			for (i = n; i > tl + 1 && !is_wsp(val[i - 1]); i--)
				;
			n = i > tl + 1 ? i : n;
		}
		for (i = tl + 1, run = 0; i < n; i++) {
			run = is_wsp(val[i]) ? 0 : run + 1;
			if (run > LONGEST_WORD) {
				n = i;
				while (n > 0 && ((unsigned char)val[n] &
				    0xc0) == 0x80)
					n--;
				break;
			}
		}
		/* 2. never a line break, a fold or a blank at the end */
		while (n > tl && is_wsp(val[n - 1]))
			n--;
		val[n] = '\0';
		if (mailhdr_fold(val, 9, eol, out, outsz) == 0)
			return 0;
		/* 3. it does not fit: shorter, again */
		if (n <= tl)
			return -1;
		n -= n - tl > 64 ? 64 : n - tl;
		while (n > tl && ((unsigned char)val[n] & 0xc0) == 0x80)
			n--;
		cut = 1;
	}
}

int
mailhdr_msgids(const char *in, char *out, size_t outsz)
{
	const char *p = in, *s, *e;
	size_t n, len = 0, drop;
	int bad;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	while ((s = strchr(p, '<')) != NULL) {
		if ((e = strchr(s, '>')) == NULL)
			break;
		p = e + 1;
		n = (size_t)(e + 1 - s);
		bad = n < 3;
		for (const char *q = s + 1; q < e; q++)
			if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f ||
			    *q == '<')
				bad = 1;
		if (bad || n + 1 >= outsz)
			continue;
		/* keep the newest: drop the oldest ids until it fits */
		while (len + (len ? 1 : 0) + n >= outsz) {
			char *sp = strchr(out, ' ');

			if (sp == NULL) {
				len = 0;
				out[0] = '\0';
				break;
			}
			drop = (size_t)(sp + 1 - out);
			memmove(out, sp + 1, len - drop + 1);
			len -= drop;
		}
		if (len)
			out[len++] = ' ';
		memcpy(out + len, s, n);
		len += n;
		out[len] = '\0';
	}
	return 0;
}

int
mailhdr_find_tag(const char *subject, const char *prefix, char *ref,
    size_t refsz)
{
	size_t pl = strlen(prefix), i, n;
	const char *p = subject;

	if (pl == 0)
		return -1;
	while ((p = strchr(p, '[')) != NULL) {
		const char *q = p + 1;

		p++;
		if (strncasecmp(q, prefix, pl) != 0 || q[pl] != '-')
			continue;
		q += pl + 1;
		for (i = 0; i < 4; i++)
			if (!isdigit((unsigned char)q[i]))
				break;
		if (i != 4 || q[4] != '-')
			continue;
		q += 5;
		for (i = 0; isdigit((unsigned char)q[i]) && i < 12; i++)
			;
		if (i == 0 || q[i] != ']')
			continue;
		n = (size_t)(q + i - (p));
		if (n >= refsz)
			return -1;
		memcpy(ref, p, n);
		ref[n] = '\0';
		/* the prefix as configured, whatever case the subject used */
		memcpy(ref, prefix, pl);
		return 0;
	}
	return -1;
}

char *
mailhdr_qp_encode(const char *in, size_t len, size_t *outlen, int *needed)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t cap = len * 3 + len / 25 + 8, o = 0, col = 0, i, linelen, j;
	char *out;
	int need = 0;

	/* 1. does the text need encoding at all? */
	for (i = 0, linelen = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\n') {
			linelen = 0;
			continue;
		}
		if ((c >= 0x80 || (c < 0x20 && c != '\t' && c != '\r') ||
		    ++linelen > 76) && !need)
			need = 1;
	}
	*needed = need;
	/* every byte three times plus soft breaks plus crlf is the bound */
	cap += len * 2;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int enc;

		if (c == '\r' && i + 1 < len && in[i + 1] == '\n')
			continue;
		if (c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			col = 0;
			continue;
		}
		if (!need) {
			out[o++] = (char)c;
			continue;
		}
		enc = c == '=' || c >= 0x7f || (c < 0x20 && c != '\t');
		/* 2. white space at the end of a line must be encoded */
		if ((c == ' ' || c == '\t')) {
			j = i + 1;
			if (j == len || in[j] == '\n' ||
			    (in[j] == '\r' && j + 1 < len && in[j + 1] == '\n'))
				enc = 1;
		}
		/* 3. soft break before the line would pass 76 */
		if (col + (enc ? 3 : 1) > 75) {
			out[o++] = '=';
			out[o++] = '\r';
			out[o++] = '\n';
			col = 0;
		}
		if (enc) {
			out[o++] = '=';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
			col += 3;
		} else {
			out[o++] = (char)c;
			col++;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}
