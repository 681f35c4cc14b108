/* file name extension -> media type */
#ifndef MIME_H
#define MIME_H

#include "conf.h"

/* the type for a file name: the config's entries first, then the built-in
 * table; application/octet-stream when nothing matches */
const char	*mime_lookup(const struct config *, const char *name);
/* the same, NULL when nothing matches (a location's default-type) */
const char	*mime_find(const struct config *, const char *name);
/* 1 for text/gemini (which takes the lang parameter) */
int		 mime_is_gemini(const char *type);

#endif
