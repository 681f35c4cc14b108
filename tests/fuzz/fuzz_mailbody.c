/* libFuzzer: the body decoder. input: a Content-Type line, a
 * Content-Transfer-Encoding line, then the body. beyond crashes it checks
 * that the text is bounded, clean utf-8, and the same whether the body
 * comes at once or in small chunks, and that phrase matching terminates
 * on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailbody.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct mailbody whole, parts;

static void
check_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l, k;

	if (n > MAILBODY_TEXT_MAX || strlen(s) != n)
		abort();
	while (i < n) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
				abort();
			i++;
			continue;
		}
		l = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : p[i] >= 0xc2 ? 2 : 0;
		if (l == 0 || i + l > n)
			abort();
		for (k = 1; k < l; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				abort();
		i += l;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *ctype, *cte, *body;
	const char *a, *b;
	size_t alen, blen, blen_body, i, k, step;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ctype = text;
	cte = body = "";
	if ((cte = strchr(ctype, '\n')) != NULL) {
		*cte++ = '\0';
		if ((body = strchr(cte, '\n')) != NULL)
			*body++ = '\0';
		else
			body = "";
	} else
		cte = "";
	blen_body = size - (size_t)(body - text);
	if (body[0] == '\0')
		blen_body = 0;
	/* 1. at once, then in chunks of 1 to 7 bytes */
	mailbody_init(&whole, ctype, cte);
	mailbody_feed(&whole, body, blen_body);
	a = mailbody_text(&whole, &alen);
	check_clean(a, alen);
	mailbody_init(&parts, ctype, cte);
	step = 1 + size % 7;
	for (i = 0; i < blen_body; i += k) {
		k = blen_body - i < step ? blen_body - i : step;
		mailbody_feed(&parts, body + i, k);
	}
	b = mailbody_text(&parts, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	/* 2. matching: the content type line as a phrase, and a word */
	mailbody_has_phrase(a, alen, ctype);
	mailbody_has_phrase(a, alen, "visit");
	mailbody_has_phrase(ctype, strlen(ctype), cte);
	mailbody_free(&whole);
	mailbody_free(&parts);
	free(text);
	return 0;
}
