/*
 * libFuzzer: capsuled's configuration path, the file's bytes in. each
 * input is written to one file and loaded as capsuled -n loads it
 * (conf_load: libconfuse, the validators, the line fixes, the location
 * blocks and their loop check); what loads is then asked what the server
 * asks of it: the first location for paths made from every pattern, and
 * each redirect's target.
 *
 * promises checked, besides crashes, leaks and undefined behaviour:
 *   1. a refused file gets a message naming the file (never empty);
 *   2. a loaded location has a pattern starting with '/', a status of 0
 *      or a 4x/5x, no status beside a redirect, allow only with
 *      client-cert, and a line inside the file;
 *   3. a path made from a pattern is matched by that pattern (or by an
 *      earlier one);
 *   4. a redirect target is an absolute url or starts with '/', with no
 *      ".", ".." or empty segment in its path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "loc.h"
#include "log.h"
#include "status.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char fuzz_path[] = "/tmp/fuzz_conf.XXXXXX";

static void
fuzz_cleanup(void)
{
	unlink(fuzz_path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	if ((fd = mkstemp(fuzz_path)) == -1) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	atexit(fuzz_cleanup);
	log_init("fuzz_conf", 1);
	log_setlevel(LOG_LVL_ERR);
	return 0;
}

static void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_conf: %s: %s\n", what, detail);
	abort();
}

/* a path a pattern matches: each '*' as "s", each '?' as 'q' */
static void
fuzz_sample(const char *pattern, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *pattern != '\0' && o + 2 < outsz; pattern++) {
		if (*pattern == '*')
			out[o++] = 's';
		else
			out[o++] = *pattern == '?' ? 'q' : *pattern;
	}
	out[o] = '\0';
}

static void
fuzz_target(const struct loc_match *m)
{
	char out[REQ_MAX_URL + 300];
	const char *p;
	size_t plen;

	if (loc_target(m, out, sizeof(out)) == -1)
		return;
	if (out[0] != '/') {
		/* an absolute url: a scheme and its ':' */
		if (strchr(out, ':') == NULL)
			fuzz_fail("a target neither absolute nor a path", out);
		return;
	}
	plen = strcspn(out, "?#");
	for (p = out; p < out + plen; p++) {
		if (*p != '/')
			continue;
		if (p[1] == '/')
			fuzz_fail("an empty segment left in a target", out);
		if ((p[1] == '.' && (p[2] == '/' || p + 2 == out + plen)) ||
		    (p[1] == '.' && p[2] == '.' && (p[3] == '/' ||
		    p + 3 == out + plen)))
			fuzz_fail("a dot segment left in a target", out);
	}
}

static void
fuzz_locations(const struct server_conf *sc, int lines)
{
	struct loc_match m;
	char sample[LOC_SUBJECT_MAX];
	size_t i;

	for (i = 0; i < sc->nlocs; i++) {
		const struct location *l = &sc->locs[i];

		if (l->pattern[0] != '/')
			fuzz_fail("a pattern without its '/'", l->pattern);
		if (l->status != 0 && (l->status < 40 || l->status > 59))
			fuzz_fail("a status that is no failure", l->pattern);
		if (l->status != 0 && l->redirect != NULL)
			fuzz_fail("status beside redirect", l->pattern);
		if (l->nallow > 0 && !l->client_cert)
			fuzz_fail("allow without client-cert", l->pattern);
		if (l->line < 1 || l->line > lines)
			fuzz_fail("a line outside the file", l->pattern);
		fuzz_sample(l->pattern, sample, sizeof(sample));
		/* the sample as a clean path, as loc_find takes it */
		if (loc_find(sc->locs, sc->nlocs, sample + 1, 0, &m) == NULL ||
		    m.loc > l) {
			/* a sample with "." or ".." or "//" in it is not
			 * what a client's request would clean to: only a
			 * plain one must match */
			if (strstr(sample, "/.") == NULL &&
			    strstr(sample, "//") == NULL &&
			    sample[strlen(sample) - 1] != '/')
				fuzz_fail("a pattern misses its own sample",
				    l->pattern);
			continue;
		}
		if (m.loc->redirect != NULL)
			fuzz_target(&m);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char err[2048];
	FILE *fp;
	size_t i;
	int lines = 1;

	if ((fp = fopen(fuzz_path, "w")) == NULL)
		fuzz_fail("fopen", fuzz_path);
	if (size > 0 && fwrite(data, 1, size, fp) != size)
		fuzz_fail("fwrite", fuzz_path);
	fclose(fp);
	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	if (conf_load(fuzz_path, &c, err, sizeof(err)) == -1) {
		if (strncmp(err, fuzz_path, strlen(fuzz_path)) != 0)
			fuzz_fail("an error without the file's name", err);
		return 0;
	}
	for (i = 0; i < c->nservers; i++)
		fuzz_locations(&c->servers[i], lines);
	conf_free(c);
	return 0;
}
