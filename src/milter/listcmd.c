/* mailing-list commands: pure parsing, no i/o */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "listcmd.h"
#include "mailhdr.h"

static const struct {
	const char	*word;
	int		 verb;
} listcmd_words[] = {
	{ "subscribe", LISTCMD_SUBSCRIBE },
	{ "sub", LISTCMD_SUBSCRIBE },
	{ "join", LISTCMD_SUBSCRIBE },
	{ "unsubscribe", LISTCMD_UNSUBSCRIBE },
	{ "unsub", LISTCMD_UNSUBSCRIBE },
	{ "leave", LISTCMD_UNSUBSCRIBE },
	{ "signoff", LISTCMD_UNSUBSCRIBE },
	{ "help", LISTCMD_HELP },
	{ "confirm", LISTCMD_CONFIRM },
	{ "add", LISTCMD_ADD },
	{ "remove", LISTCMD_REMOVE },
	{ "delete", LISTCMD_REMOVE },
};

const char *
listcmd_name(int verb)
{
	static const char *const names[LISTCMD_MAX] = {
		"none", "subscribe", "unsubscribe", "help", "confirm", "add",
		"remove"
	};

	return verb >= 0 && verb < LISTCMD_MAX ? names[verb] : "none";
}

int
listcmd_token_valid(const char *tok, size_t len)
{
	size_t i;

	if (len < LISTCMD_TOKEN_MIN || len > LISTCMD_TOKEN_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)tok[i]))
			return 0;
	return 1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* skip blanks from p to e */
static const char *
skip_space(const char *p, const char *e)
{
	while (p < e && is_space(*p))
		p++;
	return p;
}

/* the word at p: its end */
static const char *
word_end(const char *p, const char *e)
{
	while (p < e && !is_space(*p))
		p++;
	return p;
}

/* "re:", "fwd:", "fw:", "aw:", "sv:", "antw:" (any case), then blanks */
static const char *
skip_prefix(const char *p, const char *e)
{
	static const char *const pre[] = { "re:", "fwd:", "fw:", "aw:",
	    "sv:", "antw:" };
	size_t i, n;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		n = strlen(pre[i]);
		if ((size_t)(e - p) >= n && strncasecmp(p, pre[i], n) == 0)
			return skip_space(p + n, e);
	}
	/* a list tag "[Partners]" */
	if (p < e && *p == '[') {
		const char *q = memchr(p, ']', (size_t)(e - p));

		if (q != NULL)
			return skip_space(q + 1, e);
	}
	return p;
}

int
listcmd_parse(const char *line, size_t len, struct listcmd *cmd)
{
	const char *p, *e, *w, *we, *prev;
	size_t i, n;
	char buf[MAILHDR_ADDR_MAX + 2];

	memset(cmd, 0, sizeof(*cmd));
	if (line == NULL || len > LISTCMD_LINE_MAX || memchr(line, '\0',
	    len) != NULL)
		return -1;
	p = line;
	e = line + len;
	/* 1. reply prefixes and tags, as often as they come */
	p = skip_space(p, e);
	do {
		prev = p;
		p = skip_prefix(p, e);
	} while (p != prev);

	/* 2. the verb */
	w = p;
	we = word_end(w, e);
	n = (size_t)(we - w);
	for (i = 0; i < sizeof(listcmd_words) / sizeof(listcmd_words[0]);
	    i++)
		if (strlen(listcmd_words[i].word) == n &&
		    strncasecmp(w, listcmd_words[i].word, n) == 0)
			break;
	if (i == sizeof(listcmd_words) / sizeof(listcmd_words[0]))
		return -1;
	cmd->verb = listcmd_words[i].verb;
	if (cmd->verb == LISTCMD_SUBSCRIBE || cmd->verb ==
	    LISTCMD_UNSUBSCRIBE || cmd->verb == LISTCMD_HELP)
		return 0;

	/* 3. the argument: a token or an address, then nothing but blanks */
	w = skip_space(we, e);
	we = word_end(w, e);
	n = (size_t)(we - w);
	if (n == 0 || skip_space(we, e) != e)
		goto bad;
	if (cmd->verb == LISTCMD_CONFIRM) {
		if (!listcmd_token_valid(w, n))
			goto bad;
		for (i = 0; i < n; i++)
			cmd->arg[i] = (char)tolower((unsigned char)w[i]);
		cmd->arg[n] = '\0';
		return 0;
	}
	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, w, n);
	buf[n] = '\0';
	if (mailhdr_envaddr(buf, cmd->arg, sizeof(cmd->arg)) == -1 ||
	    cmd->arg[0] == '\0')
		goto bad;
	return 0;
bad:
	memset(cmd, 0, sizeof(*cmd));
	return -1;
}

int
listcmd_from_mail(const char *subject, const char *body, size_t bodylen,
    struct listcmd *cmd)
{
	const char *p, *e, *nl;

	if (subject && listcmd_parse(subject, strlen(subject), cmd) == 0)
		return 0;
	if (body == NULL) {
		memset(cmd, 0, sizeof(*cmd));
		return -1;
	}
	p = body;
	e = body + bodylen;
	/* the first line with anything on it */
	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		if (skip_space(p, nl) != nl)
			return listcmd_parse(p, (size_t)(nl - p), cmd);
		p = nl + 1;
	}
	memset(cmd, 0, sizeof(*cmd));
	return -1;
}
