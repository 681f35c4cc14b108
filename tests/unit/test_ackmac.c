/* the mac that marks our own acknowledgements, and its key file */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ackmac.h"
#include "unit.h"

static int
slurp_key(const char *path, unsigned char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t got;

	if (fd == -1)
		return -1;
	got = read(fd, buf, n);
	close(fd);
	return got == (ssize_t)n ? 0 : -1;
}

int
main(void)
{
	char dir[] = "/tmp/test_ackmac.XXXXXX", path[256], other[256];
	char err[512], tok[ACKMAC_TOKEN_MAX], msgid[256], ref[64], bad[256];
	unsigned char k1[32], k2[32];
	struct stat st;
	int fd;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/ack.key", dir);

	/* 1. no key yet: nothing is ours */
	CHECK(ackmac_token("ENQ-2026-000001", "jane@example.org", tok,
	    sizeof(tok)) == -1, "no token before the key is read");

	/* 2. made once, mode 0600, owned by us; the same key after */
	CHECK(ackmac_init(dir, err, sizeof(err)) == 0, "key made: %s", err);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 &&
	    st.st_uid == geteuid() && st.st_size == 32,
	    "ack.key is 32 bytes, mode 0600, ours");
	CHECK(slurp_key(path, k1, sizeof(k1)) == 0, "key readable");
	CHECK(ackmac_init(dir, err, sizeof(err)) == 0, "key read again: %s",
	    err);
	CHECK(slurp_key(path, k2, sizeof(k2)) == 0 &&
	    memcmp(k1, k2, sizeof(k1)) == 0, "a key is never replaced");

	/* 3. a token verifies for its reference and recipient only */
	CHECK(ackmac_token("ENQ-2026-000001", "jane@example.org", tok,
	    sizeof(tok)) == 0 && strlen(tok) == 29, "token %s", tok);
	snprintf(msgid, sizeof(msgid), "<ENQ-2026-000001.%s@milter.test>",
	    tok);
	CHECK(ackmac_verify(msgid, "jane@example.org", ref, sizeof(ref)) ==
	    1, "our own Message-ID verifies");
	CHECK_STR(ref, "ENQ-2026-000001", "and gives its reference");
	CHECK(ackmac_verify(msgid, "enquiries@rmet.org", ref, sizeof(ref)) ==
	    0, "the same Message-ID sent to another recipient does not");
	snprintf(bad, sizeof(bad), "<ENQ-2026-000002.%s@milter.test>", tok);
	CHECK(ackmac_verify(bad, "jane@example.org", ref, sizeof(ref)) == 0,
	    "another reference with the same mac does not");
	snprintf(bad, sizeof(bad), "%s", msgid);
	/* one hex digit of the mac, still a hex digit */
	bad[strlen("<ENQ-2026-000001.") + 12] =
	    bad[strlen("<ENQ-2026-000001.") + 12] == '0' ? '1' : '0';
	CHECK(ackmac_verify(bad, "jane@example.org", ref, sizeof(ref)) == 0,
	    "a changed mac does not");
	CHECK(ackmac_verify("<ENQ-2026-000001.01234567."
	    "0123456789abcdef0123@milter.test>", "jane@example.org",
	    ref, sizeof(ref)) == 0, "a made-up mac does not");
	CHECK(ackmac_verify("<ENQ-2026-000001@x>", "jane@example.org", ref,
	    sizeof(ref)) == 0 && ackmac_verify("", "jane@example.org", ref,
	    sizeof(ref)) == 0, "odd Message-IDs do not");

	/* 4. a key others could read or write, or a link, is refused */
	chmod(path, 0640);
	CHECK(ackmac_init(dir, err, sizeof(err)) == -1 &&
	    strstr(err, "ack.key") != NULL, "group-readable key refused: %s",
	    err);
	chmod(path, 0600);
	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	if (rename(path, other) == -1 || symlink(other, path) == -1)
		return 1;
	CHECK(ackmac_init(dir, err, sizeof(err)) == -1 &&
	    strstr(err, "ack.key") != NULL, "a symbolic link refused: %s",
	    err);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd == -1 || write(fd, "short", 5) != 5)
		return 1;
	close(fd);
	CHECK(ackmac_init(dir, err, sizeof(err)) == -1 &&
	    strstr(err, "32 bytes") != NULL, "a short key refused: %s", err);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return UNIT_DONE();
}
