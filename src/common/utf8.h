/* utf-8 decoding for the renderers: strict (no overlongs, surrogates or
 * code points past U+10FFFF) */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

/* the length (1-4) of the valid sequence at s, storing its code point in
 * *cp; 0 when s does not start with one (then *cp is U+FFFD) */
size_t	utf8_decode(const char *s, size_t len, uint32_t *cp);
/* why s does not start with a valid sequence, for a message ("overlong
 * encoding", "truncated sequence", ...); NULL exactly when utf8_decode
 * takes it */
const char *utf8_error(const char *s, size_t len);
/* 1 when all of s is valid utf-8 */
int	utf8_valid(const char *s, size_t len);
/* code points in s, counting each invalid byte as one */
size_t	utf8_width(const char *s, size_t len);

#endif
