/* libFuzzer: list commands from a subject and a body. checks the promises
 * the milter relies on: a known verb, a confirm token of lower-case hex,
 * an add/remove argument that is one valid address with no blank or line
 * break in it (it goes into a members file line and a reply) */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "listcmd.h"
#include "mailhdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct listcmd *c, int rc)
{
	size_t i, n = strlen(c->arg);

	if (rc == -1) {
		if (c->verb != LISTCMD_NONE || c->arg[0] != '\0')
			abort();
		return;
	}
	if (c->verb <= LISTCMD_NONE || c->verb >= LISTCMD_MAX)
		abort();
	switch (c->verb) {
	case LISTCMD_CONFIRM:
		if (!listcmd_token_valid(c->arg, n))
			abort();
		for (i = 0; i < n; i++)
			if (isupper((unsigned char)c->arg[i]))
				abort();
		break;
	case LISTCMD_ADD:
	case LISTCMD_REMOVE:
		if (n == 0 || !mailhdr_addr_valid(c->arg) ||
		    strpbrk(c->arg, " \t\r\n<>") != NULL)
			abort();
		break;
	default:
		if (n != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct listcmd c;
	char subject[LISTCMD_LINE_MAX + 1];
	const uint8_t *nl;
	size_t sl;
	int rc;

	/* 1. the whole input as one line */
	rc = listcmd_parse((const char *)data, size, &c);
	check(&c, rc);
	/* 2. up to the first newline as the subject, the rest as the body */
	nl = memchr(data, '\n', size);
	sl = nl ? (size_t)(nl - data) : size;
	if (sl > LISTCMD_LINE_MAX)
		sl = LISTCMD_LINE_MAX;
	memcpy(subject, data, sl);
	subject[sl] = '\0';
	rc = listcmd_from_mail(subject, nl ? (const char *)nl + 1 : NULL,
	    nl ? size - (size_t)(nl - data) - 1 : 0, &c);
	check(&c, rc);
	return 0;
}
