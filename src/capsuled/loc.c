/* location blocks: pattern match, redirect target, certificate verdict */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loc.h"
#include "request.h"
#include "status.h"

#define LOC_TARGET_MAX	4096

/* the bytes of the character at s: a utf-8 lead byte with its
 * continuation bytes, else one byte */
static size_t
loc_charlen(const unsigned char *s)
{
	size_t n = 1, want;

	if (s[0] < 0xc0)
		return 1;
	want = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	while (n < want && (s[n] & 0xc0) == 0x80)
		n++;
	return n;
}

/* a '*' may match nothing: a state before one is also the state after */
static void
loc_closure(const char *p, size_t m, unsigned char *st)
{
	size_t i;

	for (i = 0; i < m; i++)
		if (st[i] && p[i] == '*')
			st[i + 1] = 1;
}

/*
 * p[0..m) run over s as a set of states (no backtracking, so a pattern of
 * many stars costs length times length at worst). shortest: the length
 * of the shortest start of s that p matches; else the length of s when p
 * matches all of it. -1 when p does not match
 */
static long
loc_run(const char *p, size_t m, const char *s, int shortest)
{
	unsigned char cur[LOC_PATTERN_MAX + 1], nxt[LOC_PATTERN_MAX + 1];
	size_t k = 0, len = strlen(s), i, cl;
	int any;

	memset(cur, 0, m + 1);
	cur[0] = 1;
	loc_closure(p, m, cur);
	for (;;) {
		if (shortest && cur[m])
			return (long)k;
		if (k == len)
			break;
		cl = loc_charlen((const unsigned char *)s + k);
		memset(nxt, 0, m + 1);
		any = 0;
		for (i = 0; i < m; i++) {
			if (!cur[i])
				continue;
			if (p[i] == '*')
				nxt[i] = any = 1;
			else if (p[i] == '?')
				nxt[i + 1] = any = 1;
			else if (i + cl <= m && memcmp(p + i, s + k, cl) == 0)
				nxt[i + cl] = any = 1;
		}
		if (!any)
			return -1;
		loc_closure(p, m, nxt);
		memcpy(cur, nxt, m + 1);
		k += cl;
	}
	return !shortest && cur[m] ? (long)k : -1;
}

int
loc_glob(const char *pattern, const char *subject, size_t *cap_off,
    size_t *cap_len)
{
	size_t m = strlen(pattern);
	long k;

	*cap_off = *cap_len = 0;
	if (m > LOC_PATTERN_MAX)
		return 0;
	if (m > 0 && pattern[m - 1] == '*') {
		/* the rest as short as it can be: the '*' takes the most */
		if ((k = loc_run(pattern, m - 1, subject, 1)) < 0)
			return 0;
		*cap_off = (size_t)k;
		*cap_len = strlen(subject) - (size_t)k;
		return 1;
	}
	return loc_run(pattern, m, subject, 0) >= 0;
}

/* the first location matching subject (copied into m) */
static const struct location *
loc_find_subject(const struct location *locs, size_t n, const char *subject,
    struct loc_match *m)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	if (strlen(subject) >= sizeof(m->subject))
		return NULL;
	strcpy(m->subject, subject);
	for (i = 0; i < n; i++) {
		if (loc_glob(locs[i].pattern, m->subject, &m->cap_off,
		    &m->cap_len)) {
			m->loc = &locs[i];
			return m->loc;
		}
	}
	m->cap_off = m->cap_len = 0;
	return NULL;
}

/* '/' path, and a '/' after a directory's name: what patterns see */
static int
loc_subject(const char *path, int dir, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "/%s%s", path, dir && path[0] ? "/" :
	    "");

	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

const struct location *
loc_find(const struct location *locs, size_t n, const char *path, int dir,
    struct loc_match *m)
{
	char subject[LOC_SUBJECT_MAX];

	if (loc_subject(path, dir, subject, sizeof(subject)) == -1) {
		memset(m, 0, sizeof(*m));
		return NULL;
	}
	return loc_find_subject(locs, n, subject, m);
}

const struct location *
loc_guard(const struct location *locs, size_t n, const char *real, int dir,
    const struct location *asked)
{
	const struct location *loc;
	struct loc_match m;

	if ((loc = loc_find(locs, n, real, dir, &m)) == NULL || loc == asked ||
	    (!loc->client_cert && loc->status == 0))
		return NULL;
	return loc;
}

int
loc_cert_status(const struct location *loc, const struct loc_peer *peer,
    long long now)
{
	size_t i;

	if (loc == NULL || !loc->client_cert)
		return 0;
	if (peer == NULL || !peer->present)
		return GEMINI_CERT_REQUIRED;
	/* the dates first: an expired certificate is not valid, whoever
	 * it names */
	if (now < peer->not_before || now > peer->not_after)
		return GEMINI_CERT_NOT_VALID;
	if (loc->nallow == 0)
		return 0;
	for (i = 0; i < loc->nallow; i++)
		if (memcmp(loc->allow[i], peer->sha256, LOC_FP_LEN) == 0)
			return 0;
	return GEMINI_CERT_NOT_AUTHORISED;
}

static int
loc_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
loc_fingerprint(const char *text, unsigned char out[LOC_FP_LEN])
{
	size_t digits = 0;
	int v;

	if (strncasecmp(text, "sha256:", 7) != 0)
		return -1;
	for (text += 7; *text != '\0'; text++) {
		if (*text == ':')
			continue;
		if ((v = loc_hexval((unsigned char)*text)) == -1 ||
		    digits == 2 * LOC_FP_LEN)
			return -1;
		if (digits % 2 == 0)
			out[digits / 2] = (unsigned char)(v << 4);
		else
			out[digits / 2] |= (unsigned char)v;
		digits++;
	}
	return digits == 2 * LOC_FP_LEN ? 0 : -1;
}

static int
loc_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

const char *
loc_pattern_error(const char *pattern)
{
	if (pattern[0] != '/')
		return "a pattern starts with '/'";
	if (strlen(pattern) > LOC_PATTERN_MAX)
		return "a pattern is at most 256 bytes";
	if (loc_has_control(pattern))
		return "a pattern holds no control characters";
	return NULL;
}

const char *
loc_redirect_error(const char *pattern, const char *target)
{
	const char *d;
	size_t m = strlen(pattern);

	if (target[0] == '\0')
		return "redirect is empty";
	if (strlen(target) > REQ_MAX_URL)
		return "redirect is longer than 1024 bytes";
	if (loc_has_control(target) || strchr(target, ' ') != NULL)
		return "redirect holds a space or a control character";
	for (d = strchr(target, '$'); d != NULL; d = strchr(d + 1, '$')) {
		if (strncmp(d, "$path", 5) != 0)
			return "redirect: '$' is only $path (write %24 for a "
			    "dollar sign)";
		if (m == 0 || pattern[m - 1] != '*')
			return "redirect: $path needs a pattern that ends "
			    "in '*'";
	}
	return NULL;
}

/* 1 when t starts with a url scheme and its ':' */
static int
loc_has_scheme(const char *t)
{
	const char *p = t;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	for (p++; *p != '\0' && *p != ':'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
		    *p == '.'))
			return 0;
	return *p == ':';
}

struct loc_out {
	char	*buf;
	size_t	 len, size;
	int	 full;
};

static void
loc_put(struct loc_out *o, const char *s, size_t n)
{
	if (o->full || n >= o->size - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* $path's bytes as a url needs them: what would end or bend it encoded */
static void
loc_put_encoded(struct loc_out *o, const char *s, size_t n)
{
	char hex[4];
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == '%' || c == '?' || c == '#' || c == 0x7f) {
			snprintf(hex, sizeof(hex), "%%%02X", c);
			loc_put(o, hex, 3);
		} else
			loc_put(o, s + i, 1);
	}
}

/* an absolute path (starting '/') without its "." and ".." segments, as
 * rfc 3986 5.2.4 removes them (".." at the top stays at the top), and
 * without empty ones */
static void
loc_put_clean(struct loc_out *o, const char *in, size_t len)
{
	size_t i = 0, j, seglen, start = o->len;

	while (i < len) {
		/* in[i] is a '/': the segment after it */
		for (j = i + 1; j < len && in[j] != '/'; j++)
			;
		seglen = j - i - 1;
		if (seglen == 0) {
			/* an empty segment goes, as the server's cleaning
			 * drops it; a trailing one is the directory's '/' */
			if (j == len && (o->len == start ||
			    o->buf[o->len - 1] != '/'))
				loc_put(o, "/", 1);
		} else if (seglen == 1 && in[i + 1] == '.') {
			if (j == len)
				loc_put(o, "/", 1);
		} else if (seglen == 2 && in[i + 1] == '.' &&
		    in[i + 2] == '.') {
			while (!o->full && o->len > start &&
			    o->buf[o->len - 1] != '/')
				o->len--;
			if (!o->full && o->len > start)
				o->len--;
			if (!o->full)
				o->buf[o->len] = '\0';
			if (j == len)
				loc_put(o, "/", 1);
		} else
			loc_put(o, in + i, seglen + 1);
		i = j;
	}
	if (o->len == start)
		loc_put(o, "/", 1);
}

int
loc_target(const struct loc_match *m, char *out, size_t outsz)
{
	char t[LOC_TARGET_MAX], merged[LOC_TARGET_MAX + LOC_SUBJECT_MAX];
	struct loc_out e = { t, 0, sizeof(t), 0 };
	struct loc_out o = { out, 0, outsz, 0 };
	struct loc_out mo = { merged, 0, sizeof(merged), 0 };
	const char *p, *d, *slash;
	size_t plen;

	if (outsz == 0 || m->loc == NULL || m->loc->redirect == NULL)
		return -1;
	out[0] = t[0] = '\0';
	/* 1. $path is what the trailing '*' took */
	for (p = m->loc->redirect; (d = strstr(p, "$path")) != NULL;
	    p = d + 5) {
		loc_put(&e, p, (size_t)(d - p));
		loc_put_encoded(&e, m->subject + m->cap_off, m->cap_len);
	}
	loc_put(&e, p, strlen(p));
	if (e.full)
		return -1;
	/* 2. an absolute url is kept; a network-path one gets our scheme */
	if (loc_has_scheme(t)) {
		loc_put(&o, t, e.len);
		return o.full ? -1 : 0;
	}
	if (t[0] == '/' && t[1] == '/') {
		loc_put(&o, "gemini:", 7);
		loc_put(&o, t, e.len);
		return o.full ? -1 : 0;
	}
	/* 3. a path: a relative one goes on from the subject's directory,
	 * then its dot segments go; the query and fragment stay as written */
	plen = strcspn(t, "?#");
	if (t[0] != '/') {
		slash = strrchr(m->subject, '/');
		loc_put(&mo, m->subject, (size_t)(slash - m->subject) + 1);
	}
	loc_put(&mo, t, plen);
	if (mo.full)
		return -1;
	loc_put_clean(&o, merged, mo.len);
	loc_put(&o, t + plen, e.len - plen);
	return o.full ? -1 : 0;
}

/* the subject a target asks for on this server (into subject), or -1 when
 * it leaves the server or cannot be asked for */
static int
loc_local(const char *target, int (*ours)(const char *, void *), void *arg,
    char *subject, size_t subjectsz)
{
	struct request req;
	char url[LOC_TARGET_MAX];
	int n;

	if (target[0] == '/')
		n = snprintf(url, sizeof(url), "gemini://localhost%s", target);
	else
		n = snprintf(url, sizeof(url), "%s", target);
	if (n < 0 || (size_t)n >= sizeof(url) ||
	    req_parse(url, (size_t)n, &req) != 0 ||
	    strcmp(req.scheme, "gemini") != 0)
		return -1;
	if (target[0] != '/' && (ours == NULL || !ours(req.host, arg)))
		return -1;
	return loc_subject(req.path, req.dir, subject, subjectsz);
}

static void
loc_chain(char *chain, size_t chainsz, const char *subject)
{
	size_t len = strlen(chain);

	if (len + 1 < chainsz)
		snprintf(chain + len, chainsz - len, "%s%s", len ? " -> " : "",
		    subject);
}

int
loc_loop(const struct location *locs, size_t n,
    int (*ours)(const char *host, void *arg), void *arg, char *chain,
    size_t chainsz)
{
	static const char *samples[] = { "x", "" };
	struct loc_match m;
	char subject[LOC_SUBJECT_MAX], target[LOC_TARGET_MAX];
	size_t i, s, hop, k, o;

	for (i = 0; i < n; i++) {
		if (locs[i].redirect == NULL)
			continue;
		for (s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
			/* 1. a path this location answers: each '*' as the
			 * sample, each '?' as an 'x' */
			for (k = o = 0; locs[i].pattern[k] != '\0' &&
			    o + 2 < sizeof(subject); k++) {
				if (locs[i].pattern[k] == '*')
					o += (size_t)snprintf(subject + o,
					    sizeof(subject) - o, "%s",
					    samples[s]);
				else
					subject[o++] = locs[i].pattern[k] ==
					    '?' ? 'x' : locs[i].pattern[k];
			}
			subject[o] = '\0';
			if (loc_find_subject(locs, n, subject, &m) != &locs[i])
				continue;	/* an earlier one answers it */
			if (chainsz > 0)
				chain[0] = '\0';
			loc_chain(chain, chainsz, subject);
			/* 2. where it goes, for as long as it stays here
			 * and lands on a redirect: more hops than there
			 * are locations come round again */
			for (hop = 0; hop <= n; hop++) {
				if (loc_target(&m, target, sizeof(target)) ==
				    -1 || loc_local(target, ours, arg, subject,
				    sizeof(subject)) == -1)
					break;
				loc_chain(chain, chainsz, subject);
				if (loc_find_subject(locs, n, subject, &m) ==
				    NULL || m.loc->redirect == NULL)
					break;
				if (m.loc == &locs[i] || hop == n)
					return (int)i;
			}
		}
	}
	return -1;
}

void
loc_free(struct location *locs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(locs[i].pattern);
		free(locs[i].index);
		free(locs[i].lang);
		free(locs[i].default_type);
		free(locs[i].redirect);
		free(locs[i].meta);
		free(locs[i].allow);
	}
	free(locs);
}
