/* strict utf-8 decoding (RFC 3629) */
#include "utf8.h"

size_t
utf8_decode(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c, min;
	size_t n, i;

	*cp = 0xfffd;
	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	/* 1. the lead byte gives the length and the smallest legal value */
	if ((c & 0xe0) == 0xc0) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, c &= 0x07, min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	/* 2. continuation bytes */
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* 3. no overlong forms, surrogates or values past unicode */
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

const char *
utf8_error(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp;
	size_t n, i;

	/* what utf8_decode takes is fine: one rule decides, this only
	 * names which part of it the bytes break */
	if (utf8_decode(str, len, &cp) > 0)
		return NULL;
	/* the ranges are RFC 3629's table */
	if (len == 0)
		return "truncated sequence";
	if (s[0] < 0xc0)
		return "stray continuation byte";
	if (s[0] < 0xc2)
		return "overlong encoding";
	if (s[0] >= 0xf5)
		return "byte that never occurs in UTF-8 (above U+10FFFF)";
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	for (i = 1; i < n; i++)
		if (i >= len || (s[i] & 0xc0) != 0x80)
			return "truncated sequence";
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xf0 && s[1] < 0x90))
		return "overlong encoding";
	if (s[0] == 0xed && s[1] >= 0xa0)
		return "UTF-16 surrogate";
	return "code point above U+10FFFF";
}

size_t
utf8_width(const char *s, size_t len)
{
	size_t i = 0, n, w = 0;
	uint32_t cp;

	while (i < len) {
		/* ascii, most of what is measured, needs no decoding */
		if ((unsigned char)s[i] < 0x80)
			n = 1;
		else if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			n = 1;
		i += n;
		w++;
	}
	return w;
}

int
utf8_valid(const char *s, size_t len)
{
	uint32_t cp;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return 0;
		i += n;
	}
	return 1;
}
