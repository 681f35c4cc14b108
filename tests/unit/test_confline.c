/* confline_blank: comments become spaces, newlines and strings stay, so
 * libconfuse reads the same options on the same lines */
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "confline.h"

static void
blank(const char *in, const char *want, const char *what)
{
	char *s = strdup(in);

	confline_blank(s, strlen(s));
	CHECK(strlen(s) == strlen(in), "%s: the length stays", what);
	CHECK_STR(s, want, "%s", what);
	free(s);
}

static int
refuse_odd(cfg_t *cfg, cfg_opt_t *opt)
{
	if (cfg_opt_getnint(opt, 0) % 2 != 0) {
		cfg_error(cfg, "%s: %ld is odd", opt->name,
		    cfg_opt_getnint(opt, 0));
		return -1;
	}
	return 0;
}

/* confline_parse catches libconfuse's first message, with the file's own
 * line, into the caller's buffer */
static void
parse(const char *text, int want_rc, const char *want_err, const char *what)
{
	cfg_opt_t opts[] = {
		CFG_INT("even", 0, CFGF_NONE),
		CFG_END()
	};
	char path[] = "/tmp/test_confline.XXXXXX", err[256], want[256];
	cfg_t *cfg;
	int fd, rc;

	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror(path);
		exit(2);
	}
	close(fd);
	cfg = cfg_init(opts, CFGF_NONE);
	cfg_set_validate_func(cfg, "even", refuse_odd);
	strcpy(err, "left over");
	rc = confline_parse(cfg, path, err, sizeof(err));
	CHECK(rc == want_rc, "%s: cfg_parse's return value", what);
	if (want_err[0] != '\0')
		snprintf(want, sizeof(want), "%s:%s", path, want_err);
	else
		want[0] = '\0';
	CHECK_STR(err, want, "%s: the message", what);
	cfg_free(cfg);
	unlink(path);
}

int
main(void)
{
	parse("# one\n# two\neven = 3\n", CFG_PARSE_ERROR, "3: even: 3 is odd",
	    "a validator's cfg_error, on the file's own line");
	parse("even = 2\neven = 5\neven = 7\n", CFG_PARSE_ERROR,
	    "2: even: 5 is odd", "the first message is the one kept");
	parse("# fine\neven = 4\n", CFG_SUCCESS, "",
	    "no message: err is emptied");

	blank("# one\n# two\nkey = 1\n", "     \n     \nkey = 1\n",
	    "hash lines");
	blank("key = 1 # why\n", "key = 1      \n", "a trailing hash comment");
	blank("// one\nkey = 1 // two\n", "      \nkey = 1       \n",
	    "slash-slash comments");
	blank("/* a\n # b\n*/key = 1\n", "    \n    \n  key = 1\n",
	    "a block comment keeps its newlines");
	blank("k = \"a#b//c/*d\" # c\n", "k = \"a#b//c/*d\"    \n",
	    "comment characters in a double-quoted string stay");
	blank("k = 'a#b' # c\n", "k = 'a#b'    \n",
	    "and in a single-quoted string");
	blank("k = \"a\\\"#b\" # c\n", "k = \"a\\\"#b\"    \n",
	    "an escaped quote does not end the string");
	blank("k = a//b\n", "k = a//b\n", "'//' inside a word is the word's");
	blank("k = a#b\n", "k = a  \n", "'#' ends a word, as libconfuse reads it");
	blank("k = {\"x\", # c\n\"y\"}\n", "k = {\"x\",    \n\"y\"}\n",
	    "a comment inside a list");
	blank("# c\n/* never closed\n", "   \n/* never closed\n",
	    "an unclosed block comment is left for libconfuse to report");
	blank("#", " ", "a comment without a newline at the end");
	blank("", "", "an empty file");
	return UNIT_DONE();
}
