/* libconfuse's line numbers made right: parse with comments blanked */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confline.h"

#define CONFLINE_MAX	(4u * 1024 * 1024)	/* a config, not a database */

/* where libconfuse's messages go while one thread parses */
struct confline_err {
	char	*buf;
	size_t	 size;
	int	 set;
};
static __thread struct confline_err *confline_err;

static void
confline_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	if (confline_err == NULL || confline_err->set)
		return;		/* the first problem is the one to fix */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cfg != NULL && cfg->filename != NULL)
		snprintf(confline_err->buf, confline_err->size, "%s:%d: %s",
		    cfg->filename, cfg->line, msg);
	else
		snprintf(confline_err->buf, confline_err->size, "%s", msg);
	confline_err->set = 1;
}

/* what libconfuse's lexer takes as a word character: '//' and '/ *' start
 * a comment only where no unquoted word is under way ("a//b" is a word,
 * as libconfuse reads it) */
static int
confline_wordchar(int c)
{
	return c != '\0' && strchr(" \t\r\n=+{}(),\"'", c) == NULL;
}

void
confline_blank(char *text, size_t len)
{
	size_t i = 0;
	int quote = 0;		/* the open quote, while in a string */

	while (i < len) {
		char c = text[i];

		/* 1. inside a string: only its end and escapes matter */
		if (quote) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == quote)
				quote = 0;
			i++;
			continue;
		}
		if (c == '"' || c == '\'') {
			quote = c;
			i++;
			continue;
		}
		/* 2. '#' anywhere, '//' where no word is under way: to the
		 * end of the line */
		if (c == '#' || (c == '/' && i + 1 < len && text[i + 1] == '/'
		    && (i == 0 || !confline_wordchar(text[i - 1])))) {
			while (i < len && text[i] != '\n')
				text[i++] = ' ';
			continue;
		}
		/* 3. a block comment: to its end, newlines kept; one never
		 * closed is left for libconfuse to report */
		if (c == '/' && i + 1 < len && text[i + 1] == '*' &&
		    (i == 0 || !confline_wordchar(text[i - 1]))) {
			char *end = memmem(text + i + 2, len - i - 2, "*/", 2);

			if (end == NULL)
				return;
			for (; text + i < end + 2; i++)
				if (text[i] != '\n')
					text[i] = ' ';
			continue;
		}
		i++;
	}
}

int
confline_parse(cfg_t *cfg, const char *path, char *err, size_t errsz)
{
	struct confline_err ce = { err, errsz, 0 };
	FILE *fp;
	char *text = NULL, *name;
	size_t len = 0, cap = 0, n;
	int rc, saved;

	if (errsz > 0)
		err[0] = '\0';
	if ((fp = fopen(path, "r")) == NULL)
		return CFG_FILE_ERROR;
	for (;;) {
		if (len == cap) {
			char *nt;

			if (cap >= CONFLINE_MAX) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap ? 2 * cap : 8192;
			if ((nt = realloc(text, cap)) == NULL)
				goto fail;
			text = nt;
		}
		n = fread(text + len, 1, cap - len, fp);
		len += n;
		if (n == 0) {
			if (ferror(fp))
				goto fail;
			break;
		}
	}
	fclose(fp);
	fp = NULL;
	confline_blank(text, len);
	if ((name = strdup(path)) == NULL)
		goto fail;
	/* what cfg_parse would do: the name messages carry, line 1 */
	free(cfg->filename);
	cfg->filename = name;
	cfg->line = 1;
	if ((fp = fmemopen(text, len ? len : 1, "r")) == NULL)
		goto fail;
	if (len == 0)
		fgetc(fp);	/* fmemopen wants a size: an empty file */
	cfg_set_error_function(cfg, confline_errfunc);
	confline_err = &ce;
	rc = cfg_parse_fp(cfg, fp);
	confline_err = NULL;
	fclose(fp);
	free(text);
	return rc;
fail:
	saved = errno;
	if (fp != NULL)
		fclose(fp);
	free(text);
	errno = saved;
	return CFG_FILE_ERROR;
}
