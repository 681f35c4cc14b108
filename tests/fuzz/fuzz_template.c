/* libFuzzer: the acknowledgement template checker and expander. a template
 * that passes the check must expand, and a value can never introduce a
 * placeholder of its own (expansion is one pass). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "reference", "name", "subject",
	    "date", "capsule" };
	/* values that look like placeholders themselves */
	const struct tmpl_var vars[] = {
		{ "reference", "ENQ-2026-000042" },
		{ "name", "{{subject}}" },
		{ "subject", "${reference} %s {{name}" },
		{ "date", "Wed, 25 Nov 2026 12:00:00 +0000" },
		{ "capsule", "gemini://localhost/" },
	};
	char err[256], *out;
	size_t outlen;
	int ok;

	ok = tmpl_check((const char *)data, size, names, 5, err,
	    sizeof(err)) == 0;
	out = tmpl_expand((const char *)data, size, vars, 5, &outlen, err,
	    sizeof(err));
	if (ok && out == NULL)
		abort();
	if (out != NULL && strlen(out) != outlen && memchr(data, 0, size)
	    == NULL)
		abort();
	free(out);
	return 0;
}
