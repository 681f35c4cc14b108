/* log_escape: what a client sends reaches the log as printable utf-8 */
#include <string.h>

#include "log.h"
#include "unit.h"

static const char *
esc(const char *s, size_t dstsz)
{
	static char out[256];

	log_escape(out, dstsz, s, strlen(s));
	return out;
}

int
main(void)
{
	/* what passed before and still does */
	CHECK_STR(esc("/about.txt", 256), "/about.txt", "ascii passes");
	CHECK_STR(esc("a\"b\\c\r\n\x1b", 256), "a\\x22b\\x5cc\\x0d\\x0a\\x1b",
	    "quotes, backslashes and c0 controls are escaped");
	CHECK_STR(esc("caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80", 256),
	    "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80",
	    "printable utf-8 passes whole");

	/* a gopher selector or finger name with raw 8-bit bytes went to
	 * the log as they came: grep then calls the log a binary file, and
	 * 0x9b is CSI to an 8-bit terminal */
	CHECK_STR(esc("/\xff\xfe", 256), "/\\xff\\xfe",
	    "bytes that are not utf-8 are escaped");
	CHECK_STR(esc("\x9b" "31m", 256), "\\x9b31m",
	    "a raw c1 byte is escaped");
	CHECK_STR(esc("\xc2\x9b" "31m\xc2\x85", 256), "\\xc2\\x9b31m\\xc2\\x85",
	    "a c1 control encoded as utf-8 is escaped");
	CHECK_STR(esc("\x7f", 256), "\\x7f", "del is escaped");
	CHECK_STR(esc("\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80", 256),
	    "\\xc0\\xaf \\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80",
	    "overlong forms, surrogates and code points past U+10FFFF are "
	    "escaped");
	CHECK_STR(esc("ab\xc3", 256), "ab\\xc3",
	    "a sequence cut by the end of the input is escaped");

	/* truncation is marked, and never splits a utf-8 sequence */
	CHECK_STR(esc("abcdefghij", 8), "abcd...", "truncation is marked");
	CHECK_STR(esc("abc\xc3\xa9\xc3\xa9\xc3\xa9", 9), "abc\xc3\xa9...",
	    "truncation keeps utf-8 whole");
	CHECK_STR(esc("abc\xc3\xa9\xc3\xa9\xc3\xa9", 8), "abc...",
	    "truncation backs up to the start of a utf-8 sequence");
	return UNIT_DONE();
}
