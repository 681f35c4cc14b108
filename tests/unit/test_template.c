/* the placeholder expander */
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "unit.h"

static const struct tmpl_var vars[] = {
	{ "reference", "ENQ-2026-000042" },
	{ "name", "Jane" },
	{ "subject", "{{name}} stays literal" },
	{ "empty", NULL },
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static void
expand_ok(const char *in, const char *want)
{
	char err[128] = "";
	size_t len = 0;
	char *out = tmpl_expand(in, strlen(in), vars, NVARS, &len, err,
	    sizeof(err));

	CHECK(out != NULL, "expand \"%s\" %s", in, err);
	if (out) {
		CHECK_STR(out, want, "expansion of \"%s\"", in);
		CHECK(len == strlen(want), "length of \"%s\"", in);
	}
	free(out);
}

static void
expand_bad(const char *in, const char *wanterr)
{
	char err[128] = "";
	char *out = tmpl_expand(in, strlen(in), vars, NVARS, NULL, err,
	    sizeof(err));

	CHECK(out == NULL, "\"%s\" refused", in);
	CHECK_STR(err, wanterr, "error for \"%s\"", in);
	free(out);
}

int
main(void)
{
	static const char *names[] = { "reference", "name" };
	char err[128];
	char *big, *out;
	size_t i, len;

	expand_ok("", "");
	expand_ok("no placeholders", "no placeholders");
	expand_ok("Dear {{name}},", "Dear Jane,");
	expand_ok("{{ reference }}/{{reference}}",
	    "ENQ-2026-000042/ENQ-2026-000042");
	expand_ok("a {{subject}} b", "a {{name}} stays literal b");
	expand_ok("[{{empty}}]", "[]");
	expand_ok("{{{{name}}", "{{name}}");
	expand_ok("single { and } braces", "single { and } braces");
	expand_ok("end {", "end {");
	expand_bad("x\n{{nope}}", "line 2: unknown placeholder \"nope\"");
	expand_bad("{{name", "line 1: malformed placeholder");
	expand_bad("a\nb\n{{}}", "line 3: malformed placeholder");
	expand_bad("{{Name}}", "line 1: malformed placeholder");
	expand_bad("{{na me}}", "line 1: malformed placeholder");
	expand_bad("{{", "line 1: malformed placeholder");

	CHECK(tmpl_check("{{name}} {{reference}}", 22, names, 2, err,
	    sizeof(err)) == 0, "check accepts known names");
	CHECK(tmpl_check("{{subject}}", 11, names, 2, err, sizeof(err)) == -1,
	    "check refuses unknown names");
	CHECK(tmpl_check("a\0b", 3, names, 2, err, sizeof(err)) == -1,
	    "check refuses NUL");
	/* issue 15 item 13: -n checks every template is utf-8 */
	CHECK(tmpl_check("Caf\xc3\xa9\n", 6, names, 2, err,
	    sizeof(err)) == 0, "check accepts utf-8");
	CHECK(tmpl_check("ok\nCaf\xe9\n", 8, names, 2, err,
	    sizeof(err)) == -1, "check refuses latin-1");
	CHECK_STR(err, "line 2: not UTF-8", "the line that is not utf-8");
	CHECK(tmpl_check("\xed\xa0\x80", 3, names, 2, err,
	    sizeof(err)) == -1, "check refuses an encoded surrogate");
	CHECK(tmpl_check("cut \xc3", 5, names, 2, err, sizeof(err)) == -1,
	    "check refuses a sequence cut at the end");
	expand_bad("a\n\xff{{name}}", "line 2: not UTF-8");

	/* the expansion is bounded */
	big = malloc(TMPL_MAX);
	for (i = 0; i + 11 < TMPL_MAX; i += 11)
		memcpy(big + i, "{{subject}}", 11);
	out = tmpl_expand(big, i, vars, NVARS, &len, err, sizeof(err));
	CHECK(out == NULL, "expansion over the limit refused: %s", err);
	free(out);
	free(big);
	return UNIT_DONE();
}
