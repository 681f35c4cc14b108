/* clean path -> open file under a root, kernel-enforced */
#ifndef CAPSULE_H
#define CAPSULE_H

#include <sys/types.h>
#include <sys/stat.h>

#include "status.h"

struct capsule_file {
	int	 fd;		/* the file, or -1 */
	off_t	 size;
	char	*listing;	/* a generated directory listing, or NULL */
	size_t	 listing_len;
	char	 name[256];	/* the final component, for the mime type */
};

/* 1 when openat2 with RESOLVE_BENEATH works on this kernel */
int	capsule_probe(int rootfd);
/* open path (clean, relative) beneath rootfd; -1 with errno, EXDEV when it
 * would leave the root */
int	capsule_open(int rootfd, const char *path, int flags);
/* resolve a request: returns the gemini status (GEMINI_SUCCESS,
 * GEMINI_REDIRECT, GEMINI_NOT_FOUND, GEMINI_TEMP_FAILURE or
 * GEMINI_PERM_FAILURE) and fills *cf for GEMINI_SUCCESS; GEMINI_REDIRECT
 * means "add a slash" */
int	capsule_resolve(int rootfd, const char *path, int dir,
	    const char *index, int auto_index, struct capsule_file *cf);
/* the same for a file only (gopher, finger): a directory is
 * GEMINI_NOT_FOUND rather than GEMINI_REDIRECT */
int	capsule_resolve_file(int rootfd, const char *path,
	    struct capsule_file *cf);
/* where path (clean, beneath rootfd) really is: the clean path beneath
 * rootfd that it resolves to, symbolic links followed, into out, *dir
 * set for a directory. the path itself when no link is on its way; else
 * asked of the kernel (/proc/self/fd). 0, or -1 with errno (ENOENT and
 * the like: nothing there) */
int	capsule_real_path(int rootfd, const char *path, char *out,
	    size_t outsz, int *dir);
/* 1 when path (clean, beneath rootfd) resolves to a directory */
int	capsule_is_dir(int rootfd, const char *path);
void	capsule_file_close(struct capsule_file *);
/* the same rule without the log line, for capsule-check: NULL when the
 * file may be served, else why not */
const char *capsule_refusal(const struct stat *);
/* 1 when a file name can be shown in a listing, menu or finger list:
 * valid utf-8 without C0, DEL or C1 control characters */
int	capsule_name_shown(const char *name);
/* may path (clean, beneath rootfd) be offered in a listing, menu or
 * finger list: 'd' for a directory this process can open, 'f' for a
 * file capsule_servable lets through and this process can open, 0 for
 * anything else (a dot-file, fifo, device, hard link, symlink out or in
 * a loop, unreadable) */
int	capsule_entry(int rootfd, const char *path);
/* the names in directory dir (clean, beneath rootfd) that may be
 * offered, sorted: no dot-files, none that capsule_name_shown or
 * capsule_entry refuses; directories (a symlink to one too) get a
 * trailing '/' when mark_dirs. -1 on error */
int	capsule_names(int rootfd, const char *dir, int mark_dirs,
	    char ***names, size_t *n);
void	capsule_names_free(char **names, size_t n);
/* the one place where a file error becomes a status: GEMINI_NOT_FOUND,
 * GEMINI_TEMP_FAILURE or GEMINI_PERM_FAILURE */
int	capsule_errno_status(int err);

#endif
