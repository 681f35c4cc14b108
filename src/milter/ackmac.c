/* the key and the MAC that mark our own acknowledgements */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ackmac.h"
#include "rnd.h"

#define ACKMAC_KEY_LEN	32
/* short enough that "Message-ID: <REF.RANDOM.MAC@host>" stays within 78
 * characters for a usual host name: a msg-id cannot be folded */
#define ACKMAC_RAND_LEN	4	/* bytes; 8 hex digits, beside a unique ref */
#define ACKMAC_MAC_LEN	10	/* bytes of the hmac kept (80 bits); 20 hex */
#define ACKMAC_KEY_FILE	"ack.key"
#define ACKMAC_KEY_NEW	"ack.key.new"

/* written once at start-up, before any milter thread, read-only after */
static unsigned char ackmac_key[ACKMAC_KEY_LEN];
static int ackmac_ready;

static void
ackmac_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* a new key in ack.key.new, then linked to ack.key: a reader never sees a
 * half-written key, and a key already there is never replaced */
static int
ackmac_create(int dfd)
{
	unsigned char key[ACKMAC_KEY_LEN];
	int fd, i, rc = -1;

	for (i = 0; i < 2; i++) {
		fd = openat(dfd, ACKMAC_KEY_NEW, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
		/* left by a start that died half-way */
		if (unlinkat(dfd, ACKMAC_KEY_NEW, 0) == -1)
			return -1;
	}
	if (fd == -1)
		return -1;
	if (rnd_bytes(key, sizeof(key)) == -1 ||
	    write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
	    fsync(fd) == -1) {
		close(fd);
		unlinkat(dfd, ACKMAC_KEY_NEW, 0);
		goto out;
	}
	close(fd);
	if (linkat(dfd, ACKMAC_KEY_NEW, dfd, ACKMAC_KEY_FILE, 0) == -1 &&
	    errno != EEXIST) {
		unlinkat(dfd, ACKMAC_KEY_NEW, 0);
		goto out;
	}
	unlinkat(dfd, ACKMAC_KEY_NEW, 0);
	rc = fsync(dfd);
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
ackmac_init(const char *state_dir, char *err, size_t errsz)
{
	struct stat st;
	const char *why = NULL;
	int dfd, fd = -1, n;

	if ((dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	/* 1. open it, or make it once */
	fd = openat(dfd, ACKMAC_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (ackmac_create(dfd) == -1)
			goto syserr;
		fd = openat(dfd, ACKMAC_KEY_FILE, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd == -1)
		goto syserr;
	/* 2. only a key nobody else could have written or read counts */
	if (fstat(fd, &st) == -1)
		goto syserr;
	if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != geteuid())
		why = "not owned by the user the milter runs as";
	else if (st.st_mode & 077)
		why = "readable or writable by others (want mode 0600)";
	else if (st.st_size != ACKMAC_KEY_LEN)
		why = "not a key of 32 bytes";
	if (why != NULL) {
		snprintf(err, errsz, "%s/%s: %s", state_dir, ACKMAC_KEY_FILE,
		    why);
		goto fail;
	}
	if ((n = (int)read(fd, ackmac_key, sizeof(ackmac_key))) !=
	    (int)sizeof(ackmac_key)) {
		if (n != -1)
			errno = EIO;
		goto syserr;
	}
	close(fd);
	close(dfd);
	ackmac_ready = 1;
	return 0;
syserr:
	snprintf(err, errsz, "%s/%s: %s", state_dir, ACKMAC_KEY_FILE,
	    strerror(errno));
fail:
	if (fd != -1)
		close(fd);
	close(dfd);
	return -1;
}

/* hex of the truncated hmac over "ref\nrandom\nrcpt" */
static int
ackmac_mac(const char *ref, const char *rnd, const char *rcpt, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char data[512];
	int n;

	if (!ackmac_ready)
		return -1;
	n = snprintf(data, sizeof(data), "%s\n%s\n%s", ref, rnd, rcpt);
	if (n < 0 || (size_t)n >= sizeof(data))
		return -1;
	if (HMAC(EVP_sha256(), ackmac_key, sizeof(ackmac_key),
	    (const unsigned char *)data, (size_t)n, md, &mdlen) == NULL ||
	    mdlen < ACKMAC_MAC_LEN)
		return -1;
	ackmac_hex(md, ACKMAC_MAC_LEN, out);
	return 0;
}

int
ackmac_token(const char *ref, const char *rcpt, char *out, size_t outsz)
{
	unsigned char r[ACKMAC_RAND_LEN];
	char rnd[2 * ACKMAC_RAND_LEN + 1], mac[2 * ACKMAC_MAC_LEN + 1];
	int n;

	if (rnd_bytes(r, sizeof(r)) == -1)
		return -1;
	ackmac_hex(r, sizeof(r), rnd);
	if (ackmac_mac(ref, rnd, rcpt, mac) == -1)
		return -1;
	n = snprintf(out, outsz, "%s.%s", rnd, mac);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int
ackmac_verify(const char *msgid, const char *rcpt, char *ref, size_t refsz)
{
	char r[64], rnd[2 * ACKMAC_RAND_LEN + 1], mac[2 * ACKMAC_MAC_LEN + 1];
	char want[2 * ACKMAC_MAC_LEN + 1];
	const char *p, *dot;
	size_t n;

	/* 1. <REF.RANDOM.MAC@ */
	if (msgid[0] != '<' || (dot = strchr(msgid + 1, '.')) == NULL)
		return 0;
	n = (size_t)(dot - (msgid + 1));
	if (n == 0 || n >= sizeof(r) || n >= refsz)
		return 0;
	memcpy(r, msgid + 1, n);
	r[n] = '\0';
	p = dot + 1;
	if (strspn(p, "0123456789abcdef") != sizeof(rnd) - 1 ||
	    p[sizeof(rnd) - 1] != '.')
		return 0;
	memcpy(rnd, p, sizeof(rnd) - 1);
	rnd[sizeof(rnd) - 1] = '\0';
	p += sizeof(rnd);
	if (strspn(p, "0123456789abcdef") != sizeof(mac) - 1 ||
	    p[sizeof(mac) - 1] != '@')
		return 0;
	memcpy(mac, p, sizeof(mac) - 1);
	mac[sizeof(mac) - 1] = '\0';
	/* 2. the same mac from this key, compared in constant time */
	if (ackmac_mac(r, rnd, rcpt, want) == -1 ||
	    CRYPTO_memcmp(want, mac, sizeof(mac) - 1) != 0)
		return 0;
	memcpy(ref, r, n + 1);
	return 1;
}
