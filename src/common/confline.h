/* libconfuse 3.3 counts every '#' or '//' comment line three times (and a
 * '#' inside a block comment twice), so its "file:line" is wrong in any
 * commented file. a file is parsed as a copy with its comments blanked
 * out, newlines kept: the parser sees the same options and every line
 * number it reports, to the error function or in cfg->line and a
 * section's line, is the file's own */
#ifndef CONFLINE_H
#define CONFLINE_H

#include <confuse.h>
#include <stddef.h>

/* blank out comments in text[0..len) in place (spaces), keeping
 * newlines and everything in quoted strings; pure */
void	confline_blank(char *text, size_t len);
/* cfg_parse(cfg, path) on the blanked copy: the same return values
 * (CFG_FILE_ERROR with errno set when the file cannot be read). while it
 * parses, libconfuse's messages (a validator's cfg_error too) are caught:
 * err gets the first, as "file:line: what", or "" when there was none */
int	confline_parse(cfg_t *cfg, const char *path, char *err, size_t errsz);

#endif
