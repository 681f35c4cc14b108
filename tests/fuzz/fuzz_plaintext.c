/*
 * libFuzzer harness for the gopher and finger request parsers: no
 * overrun, and what they hand the server is what their headers promise
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "plaintext.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define ensure(cond)	do { if (!(cond)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *req = (const char *)data;
	char path[GOPHER_SELECTOR_MAX + 2], name[FINGER_NAME_MAX + 1];
	struct buf b;
	size_t i, n;

	/* 1. a gopher selector: a bounded path without control bytes */
	switch (gopher_selector_parse(req, size, path, sizeof(path))) {
	case GOPHER_SEL_OK:
		ensure(path[0] == '/');
		/* FALLTHROUGH */
	case GOPHER_SEL_URL:
		n = strlen(path);
		ensure(n <= GOPHER_SELECTOR_MAX + 1);
		for (i = 0; i < n; i++)
			ensure((unsigned char)path[i] >= 0x20 &&
			    path[i] != 0x7f);
		ensure(memchr(req, '\n', size) != NULL);
		break;
	case GOPHER_SEL_NEED_MORE:
		ensure(memchr(req, '\n', size) == NULL &&
		    size <= GOPHER_LINE_MAX);
		break;
	default:
		break;
	}

	/* 2. a finger query: page names from the safe set only */
	if (finger_query_parse(req, size, name, sizeof(name)) == FINGER_PAGE) {
		n = strlen(name);
		ensure(n > 0 && n <= FINGER_NAME_MAX && name[0] != '.' &&
		    name[0] != '-');
		ensure(strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n);
	}

	/* 3. replies: finger text has no bare LF and no control bytes */
	buf_init(&b, 0);
	ensure(finger_text(&b, req, size, size > 0 && data[0] & 1) == 0);
	for (i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];

		ensure(c >= 0x20 || c == '\t' || (c == '\r' &&
		    i + 1 < b.len && b.data[i + 1] == '\n') || (c == '\n' &&
		    i > 0 && b.data[i - 1] == '\r'));
		ensure(c != 0x7f);
	}
	buf_reset(&b);
	ensure(gopher_item(&b, '1', req, size, req, size > 300 ? 300 : size,
	    "h\tost", 70) >= 0);
	if (b.len > 0)
		ensure(memchr(b.data, '\n', b.len) == b.data + b.len - 1);
	buf_free(&b);
	return 0;
}
