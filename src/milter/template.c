/* the placeholder expander for acknowledgement texts: "{{ name }}".
 * "{{{{" gives a literal "{{". pure: no i/o */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

/* the placeholder starting at t[i] ("{{"): its name and where it ends */
static int
tmpl_token(const char *t, size_t len, size_t i, char *name, size_t *end)
{
	size_t j = i + 2, n = 0;

	while (j < len && (t[j] == ' ' || t[j] == '\t'))
		j++;
	while (j < len && ((t[j] >= 'a' && t[j] <= 'z') || t[j] == '_' ||
	    (t[j] >= '0' && t[j] <= '9'))) {
		if (n + 1 >= TMPL_NAME_MAX)
			return -1;
		name[n++] = t[j++];
	}
	name[n] = '\0';
	while (j < len && (t[j] == ' ' || t[j] == '\t'))
		j++;
	if (n == 0 || j + 1 >= len || t[j] != '}' || t[j + 1] != '}')
		return -1;
	*end = j + 2;
	return 0;
}

/* where the first byte that is not utf-8 is, or len */
static size_t
utf8_bad(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, k;
	unsigned int cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 2, cp = p[i] & 0x1f;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			n = 3, cp = p[i] & 0x0f;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 4, cp = p[i] & 0x07;
		else
			return i;
		if (len - i < n)
			return i;
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n;
	}
	return len;
}

static size_t
line_of(const char *t, size_t i)
{
	size_t line = 1, k;

	for (k = 0; k < i; k++)
		if (t[k] == '\n')
			line++;
	return line;
}

/* walk the template; with vars, append to *out; without, only check */
static int
tmpl_walk(const char *t, size_t len, const char *const *names, size_t nnames,
    const struct tmpl_var *vars, size_t nvars, char **out, size_t *olen,
    char *err, size_t errsz)
{
	char name[TMPL_NAME_MAX];
	size_t i = 0, end, k, cap = 0, vl;
	const char *val;
	char *buf = NULL, *nb;

	if (len > TMPL_MAX) {
		snprintf(err, errsz, "template larger than %d bytes",
		    TMPL_MAX);
		return -1;
	}
	if (memchr(t, '\0', len) != NULL) {
		snprintf(err, errsz, "line %zu: NUL byte",
		    line_of(t, (size_t)((const char *)memchr(t, '\0', len) -
		    t)));
		return -1;
	}
	/* the text goes out as utf-8: anything else is the author's to fix */
	if ((k = utf8_bad(t, len)) != len) {
		snprintf(err, errsz, "line %zu: not UTF-8", line_of(t, k));
		return -1;
	}
	if (out) {
		cap = len + 1;
		if ((buf = malloc(cap)) == NULL) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		*olen = 0;
	}
	while (i < len) {
		const char *lit = t + i;
		size_t litn = 1, next = i + 1;

		val = NULL;
		if (t[i] == '{' && i + 1 < len && t[i + 1] == '{') {
			if (i + 3 < len && t[i + 2] == '{' && t[i + 3] == '{') {
				/* 1. "{{{{" is a literal "{{" */
				litn = 2;
				next = i + 4;
			} else if (tmpl_token(t, len, i, name, &end) == -1) {
				snprintf(err, errsz, "line %zu: malformed "
				    "placeholder", line_of(t, i));
				goto fail;
			} else {
				/* 2. a known name, else an error */
				int found = 0;

				for (k = 0; k < nnames && !found; k++)
					found = strcmp(names[k], name) == 0;
				for (k = 0; k < nvars && !found; k++)
					if (strcmp(vars[k].name, name) == 0) {
						found = 1;
						val = vars[k].value ?
						    vars[k].value : "";
					}
				if (!found) {
					snprintf(err, errsz, "line %zu: "
					    "unknown placeholder \"%s\"",
					    line_of(t, i), name);
					goto fail;
				}
				next = end;
				if (val) {
					lit = val;
					litn = strlen(val);
				} else
					litn = 0;
			}
		}
		if (buf && litn) {
			vl = litn;
			if (*olen + vl + 1 > TMPL_MAX) {
				snprintf(err, errsz, "expansion larger than "
				    "%d bytes", TMPL_MAX);
				goto fail;
			}
			if (*olen + vl + 1 > cap) {
				cap = (*olen + vl + 1) * 2;
				if ((nb = realloc(buf, cap)) == NULL) {
					snprintf(err, errsz, "out of memory");
					goto fail;
				}
				buf = nb;
			}
			memcpy(buf + *olen, lit, vl);
			*olen += vl;
		}
		i = next;
	}
	if (buf) {
		buf[*olen] = '\0';
		*out = buf;
	}
	return 0;
fail:
	free(buf);
	return -1;
}

int
tmpl_check(const char *tmpl, size_t len, const char *const *names,
    size_t nnames, char *err, size_t errsz)
{
	return tmpl_walk(tmpl, len, names, nnames, NULL, 0, NULL, NULL, err,
	    errsz);
}

char *
tmpl_expand(const char *tmpl, size_t len, const struct tmpl_var *vars,
    size_t nvars, size_t *outlen, char *err, size_t errsz)
{
	char *out = NULL;
	size_t olen = 0;

	if (tmpl_walk(tmpl, len, NULL, 0, vars, nvars, &out, &olen, err,
	    errsz) == -1)
		return NULL;
	if (outlen)
		*outlen = olen;
	return out;
}
