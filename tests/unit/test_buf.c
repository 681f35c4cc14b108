/* buf: bounds, and who owns the bytes */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

/* an empty buffer handed over must be memory the taker can free: the
 * worker freed the static empty string for an empty gopher or finger
 * answer and died (issue 14) */
static void
test_release_empty(void)
{
	struct buf b;
	size_t len = 99;
	char *p;

	buf_init(&b, 0);
	p = buf_release(&b, &len);
	CHECK(p != NULL && len == 0 && p[0] == '\0',
	    "release: an empty buffer gives \"\"");
	CHECK(p != b.data, "release: not the buffer's own empty string");
	free(p);	/* aborts (free(): invalid pointer) when it is static */
	CHECK(b.len == 0 && b.data[0] == '\0', "release: the buffer is empty");
	buf_free(&b);

	/* emptied after use: the allocation is handed over */
	buf_init(&b, 0);
	CHECK(buf_puts(&b, "x") == 0, "release: puts");
	buf_reset(&b);
	p = buf_release(&b, &len);
	CHECK(p != NULL && len == 0 && p[0] == '\0',
	    "release: a reset buffer gives \"\"");
	free(p);
	buf_free(&b);
}

static void
test_release_data(void)
{
	struct buf b;
	size_t len = 0;
	char *p;

	buf_init(&b, 0);
	CHECK(buf_printf(&b, "%s %d", "hello", 42) == 0, "release: printf");
	p = buf_release(&b, &len);
	CHECK(p != NULL && len == 8 && strcmp(p, "hello 42") == 0,
	    "release: the bytes and their length");
	CHECK(b.len == 0 && b.cap == 0, "release: the buffer let go");
	CHECK(buf_puts(&b, "again") == 0 && strcmp(b.data, "again") == 0,
	    "release: the buffer is usable again");
	CHECK(b.data != p, "release: new memory after a release");
	free(p);
	buf_free(&b);
}

static void
test_bound(void)
{
	struct buf b;

	buf_init(&b, 4);
	CHECK(buf_puts(&b, "abcd") == 0, "bound: up to max");
	errno = 0;
	CHECK(buf_putc(&b, 'e') == -1 && errno == E2BIG && b.len == 4 &&
	    strcmp(b.data, "abcd") == 0, "bound: past max refused, unchanged");
	buf_free(&b);
}

int
main(void)
{
	test_release_empty();
	test_release_data();
	test_bound();
	return UNIT_DONE();
}
