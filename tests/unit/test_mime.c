/* mime lookup: built-in table, config entries first, defaults */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "mime.h"
#include "unit.h"

int
main(void)
{
	struct mime_conf extra[] = {
		{ "text/x-custom", "gmi" },
		{ "application/x-thing", "thing" },
	};
	struct config conf;

	memset(&conf, 0, sizeof(conf));
	CHECK_STR(mime_lookup(NULL, "index.gmi"), "text/gemini", ".gmi");
	CHECK_STR(mime_lookup(NULL, "a/b/page.gemini"), "text/gemini",
	    ".gemini");
	CHECK_STR(mime_lookup(NULL, "about.txt"), "text/plain; charset=utf-8",
	    ".txt");
	CHECK_STR(mime_lookup(NULL, "LOGO.PNG"), "image/png", "upper case");
	CHECK_STR(mime_lookup(NULL, "photo.jpeg"), "image/jpeg", ".jpeg");
	CHECK_STR(mime_lookup(NULL, "report.pdf"), "application/pdf", ".pdf");
	CHECK_STR(mime_lookup(NULL, "archive.tar.gz"), "application/gzip",
	    "last extension counts");
	CHECK_STR(mime_lookup(NULL, "README"), "application/octet-stream",
	    "no extension");
	CHECK_STR(mime_lookup(NULL, ".profile"), "application/octet-stream",
	    "dot-file has no extension");
	CHECK_STR(mime_lookup(NULL, "x.unknownext"), "application/octet-stream",
	    "unknown extension");
	CHECK_STR(mime_lookup(NULL, "dir.d/file"), "application/octet-stream",
	    "a dot in the directory is not an extension");
	conf.mimes = extra;
	conf.nmimes = 2;
	CHECK_STR(mime_lookup(&conf, "a.thing"), "application/x-thing",
	    "config adds a type");
	CHECK_STR(mime_lookup(&conf, "a.gmi"), "text/x-custom",
	    "config overrides the table");
	CHECK(mime_is_gemini("text/gemini"), "text/gemini is gemtext");
	CHECK(mime_is_gemini("text/gemini; charset=utf-8"), "with params");
	CHECK(!mime_is_gemini("text/geminix"), "text/geminix is not");
	return UNIT_DONE();
}
