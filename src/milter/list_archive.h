/* a list's archive: each post as the members get it (our list header
 * fields, the post's own but those we replace, the tagged subject), in a
 * maildir under state-dir/archive/LIST/, written durably so that a crash
 * leaves a whole message or none */
#ifndef LIST_ARCHIVE_H
#define LIST_ARCHIVE_H

#include <stddef.h>

struct conf_list;
struct milter_conf;

/* the post as the milter read it */
struct list_archive_post {
	const char	*hdrs;		/* "Name: value\n"..., as received */
	size_t		 hdrlen;
	const char	*body;
	size_t		 bodylen;
	int		 too_large;	/* header or body not kept whole */
};

/* added: our header fields ("Name: value\n" lines); subject: the tagged
 * Subject value, or NULL to keep the post's. 0 archived, 1 too large to
 * archive (nothing written), -1 error (errno set) */
int	list_archive(const struct milter_conf *, const struct conf_list *,
	    const struct list_archive_post *, const char *sender,
	    const char *added, const char *subject);

#endif
