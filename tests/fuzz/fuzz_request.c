/* libFuzzer: the gemini request parser and path normaliser. checks the
 * promises the server relies on, not only the absence of crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request r;
	char copy[REQ_MAX_URL + 2];
	int dir;

	if (req_parse((const char *)data, size, &r) != 0)
		return 0;
	/* a parsed path is clean: relative, no "." or ".." segment, no
	 * empty segment, never longer than the url */
	if (r.path[0] == '/' || strlen(r.path) > size)
		abort();
	for (const char *p = r.path; *p; ) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			abort();
		p += n;
		if (*p == '/')
			p++;
	}
	/* cleaning is idempotent */
	memcpy(copy, r.path, strlen(r.path) + 1);
	if (req_clean_path(copy, &dir) != 0 || strcmp(copy, r.path) != 0)
		abort();
	if (!utf8_valid(r.path, strlen(r.path)))
		abort();
	return 0;
}
