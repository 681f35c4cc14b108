/* the acknowledgement spool (issue 15 item 6): two acknowledgements for one
 * reference spooled in the same second are two files, each whole */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "log.h"
#include "unit.h"

#define NACK	10

static int
count_dir(const char *dir, int *found)
{
	struct dirent *de;
	char path[4096], buf[512];
	DIR *d;
	int n = 0, fd, i;
	ssize_t r;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[r > 0 ? r : 0] = '\0';
		for (i = 0; i < NACK; i++) {
			char want[64];

			snprintf(want, sizeof(want), "body of ack %d\r\n", i);
			if (strstr(buf, want))
				found[i]++;
		}
	}
	closedir(d);
	return n;
}

int
main(void)
{
	char tmpl[] = "/tmp/test_ackspool.XXXXXX", err[256], name[128];
	char rcpt[64], msg[64], dir[4096];
	int found[NACK] = { 0 }, i, n, ok = 1;
	time_t now = time(NULL);

	log_init("test_ackspool", 1);
	if (mkdtemp(tmpl) == NULL || spool_open(tmpl, NULL, NULL, err,
	    sizeof(err)) == -1) {
		printf("not ok - set up the spool: %s\n", err);
		return 1;
	}
	/* ten senders, one reference, one second */
	for (i = 0; i < NACK; i++) {
		snprintf(rcpt, sizeof(rcpt), "sender%d@example.org", i);
		snprintf(msg, sizeof(msg), "body of ack %d\r\n", i);
		if (spool_tmp("ENQ-2026-000001", rcpt, msg, strlen(msg),
		    now, name, sizeof(name)) == -1 ||
		    spool_commit(name) == -1)
			ok = 0;
	}
	CHECK(ok, "%d acknowledgements for one reference spooled and "
	    "committed", NACK);
	snprintf(dir, sizeof(dir), "%s/spool/new", tmpl);
	n = count_dir(dir, found);
	CHECK(n == NACK, "spool/new holds %d files (want %d)", n, NACK);
	for (i = 0, ok = 1; i < NACK; i++)
		if (found[i] != 1)
			ok = 0;
	CHECK(ok, "each acknowledgement is in exactly one file");
	snprintf(dir, sizeof(dir), "%s/spool/tmp", tmpl);
	n = count_dir(dir, found);
	CHECK(n == 0, "nothing left in spool/tmp (%d)", n);
	spool_close();
	snprintf(dir, sizeof(dir), "rm -rf '%s'", tmpl);
	if (system(dir) != 0)
		printf("# could not remove %s\n", tmpl);
	return UNIT_DONE();
}
