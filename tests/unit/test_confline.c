/* confline_blank: comments become spaces, newlines and strings stay, so
 * libconfuse reads the same options on the same lines */
#include <stdlib.h>

#include "unit.h"
#include "confline.h"

static void
blank(const char *in, const char *want, const char *what)
{
	char *s = strdup(in);

	confline_blank(s, strlen(s));
	CHECK(strlen(s) == strlen(in), "%s: the length stays", what);
	CHECK_STR(s, want, "%s", what);
	free(s);
}

int
main(void)
{
	blank("# one\n# two\nkey = 1\n", "     \n     \nkey = 1\n",
	    "hash lines");
	blank("key = 1 # why\n", "key = 1      \n", "a trailing hash comment");
	blank("// one\nkey = 1 // two\n", "      \nkey = 1       \n",
	    "slash-slash comments");
	blank("/* a\n # b\n*/key = 1\n", "    \n    \n  key = 1\n",
	    "a block comment keeps its newlines");
	blank("k = \"a#b//c/*d\" # c\n", "k = \"a#b//c/*d\"    \n",
	    "comment characters in a double-quoted string stay");
	blank("k = 'a#b' # c\n", "k = 'a#b'    \n",
	    "and in a single-quoted string");
	blank("k = \"a\\\"#b\" # c\n", "k = \"a\\\"#b\"    \n",
	    "an escaped quote does not end the string");
	blank("k = a//b\n", "k = a//b\n", "'//' inside a word is the word's");
	blank("k = a#b\n", "k = a  \n", "'#' ends a word, as libconfuse reads it");
	blank("k = {\"x\", # c\n\"y\"}\n", "k = {\"x\",    \n\"y\"}\n",
	    "a comment inside a list");
	blank("# c\n/* never closed\n", "   \n/* never closed\n",
	    "an unclosed block comment is left for libconfuse to report");
	blank("#", " ", "a comment without a newline at the end");
	blank("", "", "an empty file");
	return UNIT_DONE();
}
