/* base64 digits (RFC 4648's alphabet), for the transfer encoding of a
 * body and for B encoded-words in headers */
#ifndef BASE64_H
#define BASE64_H

/* the value (0-63) of a base64 digit, or -1 ('=' and anything else) */
static inline int
base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

#endif
