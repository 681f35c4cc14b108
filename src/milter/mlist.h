/* mailing-list members files: one address a line, '#' starts a comment.
 * addresses compare case-insensitively (the domain must, and mail systems
 * treat local parts so in practice). loaded files are cached and re-read
 * when the file changes (inode, size or mtime); edits are serialised with
 * flock(2) on FILE.lock and written atomically (temporary file, fsync,
 * rename, fsync of the directory), so readers see the old or the new file,
 * never half of one, and no concurrent edit is lost */
#ifndef MLIST_H
#define MLIST_H

#include <stddef.h>

struct mlist_members;

enum mlist_op { MLIST_ADD, MLIST_REMOVE };

/* parse a members file's text; strict: a bad line is an error
 * ("path:line: problem"), else it is logged and skipped */
struct mlist_members *mlist_parse(const char *text, size_t len,
	    const char *path, int strict, char *err, size_t errsz);
/* read and parse a file (not cached) */
struct mlist_members *mlist_load(const char *path, int strict, char *err,
	    size_t errsz);
/* the cached members of path, re-read when the file changed; a reference
 * the caller drops with mlist_put */
struct mlist_members *mlist_get(const char *path, char *err, size_t errsz);
void	mlist_put(struct mlist_members *);

size_t	mlist_count(const struct mlist_members *);
/* sorted, lower case */
const char *mlist_addr(const struct mlist_members *, size_t i);
int	mlist_has(const struct mlist_members *, const char *addr);

/* add or remove one address under the lock, rewriting the file
 * atomically; comments and other lines are kept as they are. *changed
 * says whether the file changed (adding a member or removing a stranger
 * changes nothing). -1 with err set when it could not be done */
int	mlist_edit(const char *path, enum mlist_op, const char *addr,
	    int *changed, char *err, size_t errsz);

#endif
