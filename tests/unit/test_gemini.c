/* gemini_respond: the response it starts from is wholly cleared */
#include <string.h>

#include "gemini.h"
#include "unit.h"

/* every byte of the file part after a refused request: the memset at
 * the top cleared sizeof(host) + sizeof(path) bytes from the start of the
 * struct instead of the fields it named, so the end of file.name kept
 * whatever the memory held (issue 14, item 8) */
static void
test_cleared(void)
{
	struct response r;
	size_t i, dirty = 0;

	memset(&r, 0xa5, sizeof(r));
	/* refused before the server is looked at: no srv is needed */
	gemini_respond(NULL, NULL, 0, 1965, NULL, "not a url", 9, &r);
	CHECK(r.status == 59, "a malformed request is 59");
	CHECK(r.file.fd == -1 && r.file.listing == NULL &&
	    r.file.listing_len == 0 && r.file.size == 0,
	    "no body source is left from before");
	for (i = 0; i < sizeof(r.file.name); i++)
		dirty += (unsigned char)r.file.name[i] == 0xa5;
	CHECK(dirty == 0, "file.name is cleared (%zu stale bytes)", dirty);
	CHECK(memchr(r.header, 0xa5, sizeof(r.header)) == NULL,
	    "the header buffer holds nothing stale");
}

int
main(void)
{
	test_cleared();
	return UNIT_DONE();
}
