/* file name extension -> media type */
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "mime.h"

static const struct {
	const char *ext;
	const char *type;
} mime_table[] = {
	{ "gmi",	"text/gemini" },
	{ "gemini",	"text/gemini" },
	{ "txt",	"text/plain; charset=utf-8" },
	{ "md",		"text/markdown; charset=utf-8" },
	{ "csv",	"text/csv; charset=utf-8" },
	{ "html",	"text/html; charset=utf-8" },
	{ "htm",	"text/html; charset=utf-8" },
	{ "css",	"text/css" },
	{ "xml",	"text/xml" },
	{ "atom",	"application/atom+xml" },
	{ "rss",	"application/rss+xml" },
	{ "json",	"application/json" },
	{ "pdf",	"application/pdf" },
	{ "zip",	"application/zip" },
	{ "gz",		"application/gzip" },
	{ "tar",	"application/x-tar" },
	{ "epub",	"application/epub+zip" },
	{ "odt",	"application/vnd.oasis.opendocument.text" },
	{ "png",	"image/png" },
	{ "jpg",	"image/jpeg" },
	{ "jpeg",	"image/jpeg" },
	{ "gif",	"image/gif" },
	{ "webp",	"image/webp" },
	{ "svg",	"image/svg+xml" },
	{ "ico",	"image/vnd.microsoft.icon" },
	{ "mp3",	"audio/mpeg" },
	{ "ogg",	"audio/ogg" },
	{ "opus",	"audio/opus" },
	{ "flac",	"audio/flac" },
	{ "wav",	"audio/wav" },
	{ "mp4",	"video/mp4" },
	{ "webm",	"video/webm" },
};

const char *
mime_lookup(const struct config *conf, const char *name)
{
	const char *type = mime_find(conf, name);

	return type != NULL ? type : "application/octet-stream";
}

const char *
mime_find(const struct config *conf, const char *name)
{
	const char *slash = strrchr(name, '/'), *dot;
	size_t i;

	if (slash != NULL)
		name = slash + 1;
	/* a dot-file's leading dot is not an extension */
	if ((dot = strrchr(name, '.')) == NULL || dot == name)
		return NULL;
	dot++;
	if (conf != NULL)
		for (i = 0; i < conf->nmimes; i++)
			if (strcasecmp(conf->mimes[i].ext, dot) == 0)
				return conf->mimes[i].type;
	for (i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
		if (strcasecmp(mime_table[i].ext, dot) == 0)
			return mime_table[i].type;
	return NULL;
}

int
mime_is_gemini(const char *type)
{
	return strncmp(type, "text/gemini", 11) == 0 &&
	    (type[11] == '\0' || type[11] == ';');
}
