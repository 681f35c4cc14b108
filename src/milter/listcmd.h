/* mailing-list commands sent to LIST-request@domain, from the subject or
 * the first body line: subscribe, unsubscribe, help, confirm TOKEN, and
 * the owners' add ADDRESS / remove ADDRESS.
 * pure: no i/o, no globals, so unit tests and fuzzers drive it directly */
#ifndef LISTCMD_H
#define LISTCMD_H

#include <stddef.h>

#include "mailhdr.h"

#define LISTCMD_LINE_MAX	1000	/* rfc 5322's line limit */
#define LISTCMD_TOKEN_MIN	16
#define LISTCMD_TOKEN_MAX	64

enum listcmd_verb {
	LISTCMD_NONE = 0,	/* no command found */
	LISTCMD_SUBSCRIBE,
	LISTCMD_UNSUBSCRIBE,
	LISTCMD_HELP,
	LISTCMD_CONFIRM,	/* arg: the token, lower-case hex */
	LISTCMD_ADD,		/* arg: a bare address (owners only) */
	LISTCMD_REMOVE,		/* arg: a bare address (owners only) */
	LISTCMD_MAX
};

struct listcmd {
	int	verb;
	char	arg[MAILHDR_ADDR_MAX];
};

/* one line: reply prefixes ("Re:", "Fwd:", "AW:") and "[tags]" are
 * skipped, the verb is case-insensitive, extra words after subscribe,
 * unsubscribe and help are ignored. 0 with *cmd set, -1 when the line
 * holds no (valid) command */
int	listcmd_parse(const char *line, size_t len, struct listcmd *cmd);
/* the subject first, then the first non-blank line of the body */
int	listcmd_from_mail(const char *subject, const char *body,
	    size_t bodylen, struct listcmd *cmd);
/* a token as listcmd accepts one: 1 or 0 */
int	listcmd_token_valid(const char *tok, size_t len);
const char *listcmd_name(int verb);

#endif
