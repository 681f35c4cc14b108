/* common/utf8: strict decoding, and why a sequence is refused (the
 * messages capsule-check prints) */
#include <stdint.h>
#include <string.h>

#include "utf8.h"
#include "unit.h"

static const char *
why(const char *s)
{
	return utf8_error(s, strlen(s));
}

/* utf8_error's reason for s, and utf8_decode refusing exactly then */
static void
problem(const char *s, size_t len, const char *want, const char *what)
{
	uint32_t cp;

	CHECK_STR(utf8_error(s, len), want, "%s", what);
	CHECK((utf8_decode(s, len, &cp) == 0) == (want != NULL),
	    "%s: utf8_decode agrees", what);
}

int
main(void)
{
	uint32_t cp;

	CHECK(utf8_decode("a", 1, &cp) == 1 && cp == 'a', "ascii");
	CHECK(utf8_decode("\xc3\xa9", 2, &cp) == 2 && cp == 0xe9, "two bytes");
	CHECK(utf8_decode("\xe2\x82\xac", 3, &cp) == 3 && cp == 0x20ac,
	    "three bytes");
	CHECK(utf8_decode("\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1f600,
	    "four bytes");
	CHECK(utf8_decode("\xc0\xaf", 2, &cp) == 0 && cp == 0xfffd,
	    "an overlong is refused, as U+FFFD");

	CHECK_STR(why("a"), NULL, "ascii is fine");
	CHECK_STR(why("\xf4\x8f\xbf\xbf"), NULL, "U+10FFFF is fine");
	CHECK_STR(why("\x80"), "stray continuation byte", "a lone 0x80");
	CHECK_STR(why("\xc1\xbf"), "overlong encoding", "c1 lead");
	CHECK_STR(why("\xe0\x80\xaf"), "overlong encoding", "3-byte overlong");
	CHECK_STR(why("\xf0\x80\x80\xaf"), "overlong encoding",
	    "4-byte overlong");
	CHECK_STR(why("\xed\xa0\x80"), "UTF-16 surrogate", "a surrogate");
	CHECK_STR(why("\xf4\x90\x80\x80"), "code point above U+10FFFF",
	    "past unicode");
	CHECK_STR(why("\xf5\x80\x80\x80"),
	    "byte that never occurs in UTF-8 (above U+10FFFF)", "f5 lead");
	CHECK_STR(why("\xe2\x82"), "truncated sequence", "cut at the end");
	CHECK_STR(why("\xe2(\xac"), "truncated sequence",
	    "a continuation missing");
	/* every refusal has a reason, and nothing decoded gets one */
	{
		unsigned char b[2];
		int lead, next, agree = 1;

		for (lead = 0; lead < 256; lead++)
			for (next = 0; next < 256; next++) {
				b[0] = (unsigned char)lead;
				b[1] = (unsigned char)next;
				if ((utf8_decode((char *)b, 2, &cp) == 0) !=
				    (utf8_error((char *)b, 2) != NULL))
					agree = 0;
			}
		CHECK(agree, "utf8_error refuses exactly what utf8_decode "
		    "does, over every two-byte prefix");
	}
	/* each rule with its reason, and utf8_decode agreeing on it */
	problem("\xc3\xa9", 2, NULL, "U+00E9");
	problem("\xef\xbf\xbd", 3, NULL, "U+FFFD");
	problem("\xf4\x8f\xbf\xbf", 4, NULL, "U+10FFFF");
	problem("\xc0\xaf", 2, "overlong encoding", "C0 AF, an overlong '/'");
	problem("\xf0\x8f\xbf\xbf", 4, "overlong encoding",
	    "a 4-byte overlong");
	problem("\xed\xa0\x80", 3, "UTF-16 surrogate", "U+D800");
	problem("\xff", 1, "byte that never occurs in UTF-8 (above U+10FFFF)",
	    "an FF byte");
	problem("\xe2\x82x", 3, "truncated sequence", "cut short by ascii");
	problem("", 0, "truncated sequence", "nothing at all");
	CHECK(utf8_valid("caf\xc3\xa9", 5) && !utf8_valid("caf\xe9", 4),
	    "utf8_valid");
	CHECK(utf8_width("caf\xc3\xa9\xff", 6) == 5, "utf8_width counts an "
	    "invalid byte as one");
	return UNIT_DONE();
}
