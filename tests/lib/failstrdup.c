/* LD_PRELOAD fault injection for t-state.py: strdup() of a string that
 * holds "nomem.invalid" fails with ENOMEM when capsuled's own code asks
 * (libconfuse, which copies the value while parsing, gets its copy), as
 * when memory runs out while a reload converts its configuration */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

char	*strdup(const char *);

char *
strdup(const char *s)
{
	char *(*real)(const char *);
	Dl_info di;

	if (strstr(s, "nomem.invalid") != NULL &&
	    dladdr(__builtin_return_address(0), &di) != 0 &&
	    (di.dli_fname == NULL || strstr(di.dli_fname, "libconfuse") ==
	    NULL)) {
		errno = ENOMEM;
		return NULL;
	}
	real = (char *(*)(const char *))dlsym(RTLD_NEXT, "strdup");
	return real(s);
}
