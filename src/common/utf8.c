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
	uint32_t c;
	size_t n, i;

	if (len == 0 || s[0] < 0x80)
		return len == 0 ? "truncated sequence" : NULL;
	/* 1. the lead byte (the ranges are RFC 3629's table) */
	if (s[0] < 0xc0)
		return "stray continuation byte";
	if (s[0] < 0xc2)
		return "overlong encoding";
	if (s[0] < 0xe0)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] < 0xf0)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] < 0xf5)
		n = 4, c = s[0] & 0x07;
	else
		return "byte that never occurs in UTF-8 (above U+10FFFF)";
	/* 2. continuation bytes */
	for (i = 1; i < n; i++) {
		if (i >= len || (s[i] & 0xc0) != 0x80)
			return "truncated sequence";
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* 3. the value */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000))
		return "overlong encoding";
	if (c >= 0xd800 && c <= 0xdfff)
		return "UTF-16 surrogate";
	if (c > 0x10ffff)
		return "code point above U+10FFFF";
	return NULL;
}

size_t
utf8_width(const char *s, size_t len)
{
	size_t i = 0, n, w = 0;
	uint32_t cp;

	while (i < len) {
		n = utf8_decode(s + i, len - i, &cp);
		i += n ? n : 1;
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
