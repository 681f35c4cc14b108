/* gemini request line -> url parts -> clean path (pure, no i/o) */
#include <stdio.h>
#include <string.h>

#include "request.h"
#include "status.h"
#include "hex.h"
#include "utf8.h"

/* characters a url may hold unencoded (rfc 3986), besides utf-8 (rfc 3987) */
static int
req_urlchar(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL && c != '\0';
}

int
req_path_decode(const char *s, size_t len, char *out, size_t outsz,
    size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3 || (hi = hex_value(s[i + 1])) == -1 ||
			    (lo = hex_value(s[i + 2])) == -1)
				return REQ_DECODE_BAD;
			if (hi == 0 && lo == 0)
				return REQ_DECODE_NUL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= outsz)
			return REQ_DECODE_LONG;
		out[o++] = c;
	}
	if (outsz > 0)
		out[o] = '\0';
	*outlen = o;
	return outsz > 0 ? REQ_DECODE_OK : REQ_DECODE_LONG;
}

int
req_clean_path(char *path, int *dir)
{
	char *in = path, *out = path, *seg;
	size_t seglen;
	int trailing = 1;

	/* segments are joined by one '/', with none at either end. out never
	 * passes in: a separator is written only after a '/' was consumed,
	 * so cleaning works in place */
	while (*in != '\0') {
		/* 1. skip separators; nothing after them means a directory */
		while (*in == '/')
			in++;
		if (*in == '\0') {
			trailing = 1;
			break;
		}
		seg = in;
		while (*in != '\0' && *in != '/')
			in++;
		seglen = (size_t)(in - seg);
		trailing = (*in == '/');
		/* 2. "." is dropped; it leaves a directory */
		if (seglen == 1 && seg[0] == '.') {
			trailing = 1;
			continue;
		}
		/* 3. ".." pops a segment; none left means above the root */
		if (seglen == 2 && seg[0] == '.' && seg[1] == '.') {
			if (out == path)
				return -1;
			while (out > path && out[-1] != '/')
				out--;
			if (out > path)
				out--;		/* the separator before it */
			trailing = 1;
			continue;
		}
		/* 4. anything else is copied after a separator */
		if (out > path)
			*out++ = '/';
		memmove(out, seg, seglen);
		out += seglen;
	}
	*out = '\0';
	*dir = (path[0] == '\0') || trailing;
	return 0;
}

int
req_path_hidden(const char *p)
{
	int first = 1;

	while (*p != '\0') {
		if (*p == '.') {
			size_t n = strcspn(p, "/");

			if (!(first && n == 11 && strncmp(p, ".well-known",
			    11) == 0))
				return 1;
		}
		p += strcspn(p, "/");
		if (*p == '/')
			p++;
		first = 0;
	}
	return 0;
}

#define REQ_FAIL(r, why) do {						\
	(r)->error = (why);						\
	return GEMINI_BAD_REQUEST;					\
} while (0)

int
req_parse(const char *url, size_t len, struct request *r)
{
	const char *p = url, *end = url + len, *auth, *authend, *hend, *pend;
	size_t i, n;

	memset(r, 0, sizeof(*r));

	/* 1. the line as a whole: bounded, no nul, utf-8 without a bom */
	if (len == 0)
		REQ_FAIL(r, "empty request");
	if (len > REQ_MAX_URL)
		REQ_FAIL(r, "request longer than 1024 bytes");
	if (memchr(url, '\0', len) != NULL)
		REQ_FAIL(r, "nul byte in request");
	if (len >= 3 && memcmp(url, "\xef\xbb\xbf", 3) == 0)
		REQ_FAIL(r, "byte order mark in request");
	if (!utf8_valid(url, len))
		REQ_FAIL(r, "request is not valid utf-8");
	for (i = 0; i < len; i++)
		if (!req_urlchar((unsigned char)url[i]))
			REQ_FAIL(r, "character not allowed in a url");

	/* 2. scheme, compared case-insensitively by the caller */
	for (n = 0; p + n < end && p[n] != ':'; n++) {
		char c = p[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (n > 0 && ((c >= '0' && c <= '9') || c == '+' ||
		    c == '-' || c == '.'))))
			REQ_FAIL(r, "not an absolute url");
	}
	if (n == 0 || p + n == end || n >= sizeof(r->scheme))
		REQ_FAIL(r, "not an absolute url");
	for (i = 0; i < n; i++)
		r->scheme[i] = (char)(p[i] | 0x20);
	p += n + 1;

	/* 3. authority: "//" host [":" port], no userinfo */
	if (end - p < 2 || p[0] != '/' || p[1] != '/')
		REQ_FAIL(r, "url has no host");
	auth = p += 2;
	while (p < end && *p != '/' && *p != '?' && *p != '#')
		p++;
	authend = p;
	if (memchr(auth, '@', (size_t)(authend - auth)) != NULL)
		REQ_FAIL(r, "userinfo is not allowed");
	if (auth < authend && *auth == '[') {
		hend = memchr(auth, ']', (size_t)(authend - auth));
		if (hend == NULL || hend == auth + 1)
			REQ_FAIL(r, "bad ipv6 host");
		for (const char *q = auth + 1; q < hend; q++)
			if (hex_value(*q) == -1 && *q != ':' && *q != '.')
				REQ_FAIL(r, "bad ipv6 host");
		n = (size_t)(hend - auth - 1);
		auth++;
		hend++;
		if (hend < authend && *hend != ':')
			REQ_FAIL(r, "bad ipv6 host");
	} else {
		hend = memchr(auth, ':', (size_t)(authend - auth));
		if (hend == NULL)
			hend = authend;
		n = (size_t)(hend - auth);
		for (const char *q = auth; q < hend; q++)
			if (*q == '%' || *q == '[' || *q == ']')
				REQ_FAIL(r, "bad host");
	}
	if (n == 0)
		REQ_FAIL(r, "url has no host");
	if (n >= sizeof(r->host))
		REQ_FAIL(r, "host name too long");
	for (i = 0; i < n; i++) {
		char c = auth[i];

		r->host[i] = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
	}
	/* a trailing dot names the same host */
	if (n > 1 && r->host[n - 1] == '.')
		r->host[n - 1] = '\0';
	if (hend < authend) {		/* *hend == ':' */
		const char *q = hend + 1;
		long port = 0;

		if (q == authend)
			r->port = 0;	/* "host:" means the default */
		else {
			for (; q < authend; q++) {
				if (*q < '0' || *q > '9')
					REQ_FAIL(r, "bad port");
				port = port * 10 + (*q - '0');
				if (port > 65535)
					REQ_FAIL(r, "bad port");
			}
			if (port == 0)
				REQ_FAIL(r, "bad port");
			r->port = (int)port;
		}
	}

	/* 4. path, percent-decoded; %00 and bad escapes are malformed */
	for (pend = p; pend < end && *pend != '?' && *pend != '#'; pend++)
		;
	switch (req_path_decode(p, (size_t)(pend - p), r->path,
	    sizeof(r->path), &n)) {
	case REQ_DECODE_OK:
		break;
	case REQ_DECODE_NUL:
		REQ_FAIL(r, "encoded nul byte");
	case REQ_DECODE_BAD:
		REQ_FAIL(r, "bad percent-encoding");
	default:			/* the line is shorter than path */
		REQ_FAIL(r, "request longer than 1024 bytes");
	}
	p = pend;
	if (!utf8_valid(r->path, n))
		REQ_FAIL(r, "path is not valid utf-8 once decoded");

	/* 5. query kept raw; a fragment has no place in a request */
	if (p < end && *p == '?') {
		const char *q = ++p;

		while (p < end && *p != '#')
			p++;
		memcpy(r->query, q, (size_t)(p - q));
		r->query[p - q] = '\0';
		r->has_query = 1;
	}
	if (p < end)
		REQ_FAIL(r, "fragment is not allowed");

	/* 6. dot segments: climbing above the root is malformed */
	if (req_clean_path(r->path, &r->dir) == -1)
		REQ_FAIL(r, "path climbs above the root");
	return 0;
}
