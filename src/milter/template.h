/* the placeholder expander for acknowledgement texts: "{{ name }}".
 * pure: no i/o, so unit tests and fuzzers drive it directly */
#ifndef TEMPLATE_H
#define TEMPLATE_H

#include <stddef.h>

#define TMPL_NAME_MAX	32
#define TMPL_MAX	(256 * 1024)	/* largest template or expansion */

struct tmpl_var {
	const char	*name;
	const char	*value;
};

/* check that the template is utf-8 without NUL and that every
 * placeholder is well formed and one of the names; on error -1 and
 * "line N: problem" in err */
int	tmpl_check(const char *tmpl, size_t len, const char *const *names,
	    size_t nnames, char *err, size_t errsz);
/* expand; a malloc'd, NUL-terminated result or NULL with err set */
char	*tmpl_expand(const char *tmpl, size_t len, const struct tmpl_var *,
	    size_t nvars, size_t *outlen, char *err, size_t errsz);

#endif
