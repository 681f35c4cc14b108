/* list commands from a subject or a body's first line: a table of cases,
 * both ways */
#include <stdio.h>
#include <string.h>

#include "listcmd.h"
#include "unit.h"

static const struct {
	const char	*line;
	int		 verb;		/* LISTCMD_NONE: refused */
	const char	*arg;
} cases[] = {
	{ "subscribe", LISTCMD_SUBSCRIBE, "" },
	{ "  SUBSCRIBE  ", LISTCMD_SUBSCRIBE, "" },
	{ "Subscribe partners", LISTCMD_SUBSCRIBE, "" },
	{ "sub", LISTCMD_SUBSCRIBE, "" },
	{ "join", LISTCMD_SUBSCRIBE, "" },
	{ "unsubscribe", LISTCMD_UNSUBSCRIBE, "" },
	{ "unsubscribe\r", LISTCMD_UNSUBSCRIBE, "" },
	{ "leave", LISTCMD_UNSUBSCRIBE, "" },
	{ "signoff", LISTCMD_UNSUBSCRIBE, "" },
	{ "help", LISTCMD_HELP, "" },
	{ "Re: help", LISTCMD_HELP, "" },
	{ "RE: Fwd: AW: help", LISTCMD_HELP, "" },
	{ "[Partners] help", LISTCMD_HELP, "" },
	{ "Re: [Partners] unsubscribe", LISTCMD_UNSUBSCRIBE, "" },
	{ "confirm 0123456789abcdef0123456789abcdef", LISTCMD_CONFIRM,
	    "0123456789abcdef0123456789abcdef" },
	{ "Re: confirm 0123456789ABCDEF0123456789ABCDEF", LISTCMD_CONFIRM,
	    "0123456789abcdef0123456789abcdef" },
	{ "confirm 0123456789abcdef0123456789abcdef  ", LISTCMD_CONFIRM,
	    "0123456789abcdef0123456789abcdef" },
	{ "add jane@example.org", LISTCMD_ADD, "jane@example.org" },
	{ "ADD <Jane@Example.ORG>", LISTCMD_ADD, "jane@example.org" },
	{ "remove bob@example.org", LISTCMD_REMOVE, "bob@example.org" },
	{ "delete bob@example.org", LISTCMD_REMOVE, "bob@example.org" },
	/* refused */
	{ "", LISTCMD_NONE, "" },
	{ "   ", LISTCMD_NONE, "" },
	{ "hello, may I join?", LISTCMD_NONE, "" },
	{ "subscribed", LISTCMD_NONE, "" },
	{ "unsubscribe-me", LISTCMD_NONE, "" },
	{ "confirm", LISTCMD_NONE, "" },
	{ "confirm 1234", LISTCMD_NONE, "" },
	{ "confirm 0123456789abcdefXYZ456789abcdef", LISTCMD_NONE, "" },
	{ "confirm 0123456789abcdef0123456789abcdef extra", LISTCMD_NONE, "" },
	{ "confirm 0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef00", LISTCMD_NONE, "" },
	{ "add", LISTCMD_NONE, "" },
	{ "add not-an-address", LISTCMD_NONE, "" },
	{ "add a@b c@d", LISTCMD_NONE, "" },
	{ "add <>", LISTCMD_NONE, "" },
	{ "remove @example.org", LISTCMD_NONE, "" },
	{ "[unclosed help", LISTCMD_NONE, "" },
};

int
main(void)
{
	struct listcmd cmd;
	char line[LISTCMD_LINE_MAX + 10];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = listcmd_parse(cases[i].line, strlen(cases[i].line), &cmd);
		if (cases[i].verb == LISTCMD_NONE) {
			CHECK(rc == -1 && cmd.verb == LISTCMD_NONE,
			    "refused: \"%s\"", cases[i].line);
			continue;
		}
		CHECK(rc == 0 && cmd.verb == cases[i].verb,
		    "\"%s\" is %s (got %s)", cases[i].line,
		    listcmd_name(cases[i].verb), listcmd_name(cmd.verb));
		CHECK_STR(cmd.arg, cases[i].arg, "\"%s\": argument",
		    cases[i].line);
	}

	/* a NUL inside, an overlong line */
	CHECK(listcmd_parse("help\0x", 6, &cmd) == -1, "NUL refused");
	memset(line, ' ', sizeof(line));
	memcpy(line, "help", 4);
	CHECK(listcmd_parse(line, LISTCMD_LINE_MAX + 1, &cmd) == -1,
	    "a line over %d bytes refused", LISTCMD_LINE_MAX);
	CHECK(listcmd_parse(line, LISTCMD_LINE_MAX, &cmd) == 0,
	    "a line of %d bytes taken", LISTCMD_LINE_MAX);

	/* subject first, then the body's first non-blank line */
	CHECK(listcmd_from_mail("subscribe", "unsubscribe\r\n", 13, &cmd) ==
	    0 && cmd.verb == LISTCMD_SUBSCRIBE, "the subject wins");
	CHECK(listcmd_from_mail("Question", "\r\n  \r\nunsubscribe\r\nhelp\r\n",
	    25, &cmd) == 0 && cmd.verb == LISTCMD_UNSUBSCRIBE,
	    "else the first non-blank body line");
	CHECK(listcmd_from_mail("", "Hello,\r\nsubscribe\r\n", 19, &cmd) ==
	    -1, "only the first body line counts");
	CHECK(listcmd_from_mail(NULL, NULL, 0, &cmd) == -1 &&
	    cmd.verb == LISTCMD_NONE, "nothing at all");
	CHECK(listcmd_from_mail("x", "help", 4, &cmd) == 0 &&
	    cmd.verb == LISTCMD_HELP, "a body with no newline");

	CHECK(listcmd_token_valid("0123456789abcdef", 16), "16 hex digits");
	CHECK(!listcmd_token_valid("0123456789abcde", 15), "15 too short");
	CHECK_STR(listcmd_name(99), "none", "an unknown verb's name");
	return UNIT_DONE();
}
