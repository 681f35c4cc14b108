/* config errors name the file and line; good files load */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "unit.h"

static char path[] = "/tmp/test_conf.XXXXXX";

static int
load(const char *text, struct config **c, char *err, size_t errsz)
{
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
	return conf_load(path, c, err, errsz);
}

static void
bad(const char *text, int line, const char *word)
{
	struct config *c = NULL;
	char err[1024], want[300];
	int rc = load(text, &c, err, sizeof(err));

	snprintf(want, sizeof(want), "%s:%d:", path, line);
	CHECK(rc == -1, "refused: %s", word);
	CHECK(strncmp(err, want, strlen(want)) == 0 && strstr(err, word),
	    "error names %s and \"%s\": %s", want, word, err);
	if (rc == 0)
		conf_free(c);
}

int
main(void)
{
	struct config *c;
	char err[1024];
	int fd = mkstemp(path);

	close(fd);
	CHECK(load("listen = {\"127.0.0.1:1965\", \"[::1]:1965\", \"*:1966\"}\n"
	    "proxy-listen = {\"127.0.0.1:1967\"}\n"
	    "state-dir = \"var\"\nuser = \"capsuled\"\nlog-level = \"debug\"\n"
	    "workers = 3\n"
	    "mime \"text/markdown\" { extensions = {\"md\", \".MKD\"} }\n"
	    "server \"localhost\" {\n aliases = {\"127.0.0.1\", \"::1\"}\n"
	    " root = \"capsule\"\n lang = \"en-GB\"\n auto-index = true\n}\n"
	    "server \"example.org\" { root = \"/srv/x\" }\n",
	    &c, err, sizeof(err)) == 0, "a full config loads (%s)", err);
	if (c != NULL) {
		CHECK(c->nlistens == 4, "four listeners");
		CHECK(c->listens[1].host && strcmp(c->listens[1].host, "::1")
		    == 0, "v6 host without brackets");
		CHECK(c->listens[2].host == NULL, "* is every address");
		CHECK(c->listens[3].kind == LISTEN_PROXY, "proxy listener");
		CHECK(c->workers == 3, "workers");
		CHECK(c->nmimes == 2 && strcmp(c->mimes[1].ext, "mkd") == 0,
		    "mime extensions lowered, dot dropped");
		CHECK(c->nservers == 2 && c->servers[0].naliases == 2,
		    "servers and aliases");
		CHECK(c->servers[0].auto_index && !c->servers[1].auto_index,
		    "auto-index");
		CHECK(strcmp(c->servers[1].index, "index.gmi") == 0,
		    "index defaults to index.gmi");
		CHECK(c->request_timeout == 10, "request-timeout defaults "
		    "to 10");
		conf_free(c);
	}
	bad("server \"a\" {}\nlisten = {\"nonsense\"}\n", 2, "listen");
	bad("server \"a\" {}\n\nlisten = {\"[::1:1965\"}\n", 3, "listen");
	bad("server \"a\" {}\nlisten = {\"h:99999\"}\n", 2, "listen");
	bad("log-level = \"loud\"\nserver \"a\" {}\n", 1, "log-level");
	bad("server \"a\" {\n  root = \"x\"\n  bogus = 1\n}\n", 3, "bogus");
	bad("\n\nserver \"a\" {\n  cert = \"x.crt\"\n}\n", 5, "cert and key");
	bad("server \"a\" { index = \"a/b\" }\n", 1, "index");
	bad("max-connections = 0\nserver \"a\" {}\n", 1, "max-connections");
	bad("server \"a\" {}\nserver \"a\" {}\n", 2, "a");
	bad("mime \"nonsense\" { extensions = {\"x\"} }\nserver \"a\" {}\n",
	    1, "mime");
	c = NULL;
	CHECK(load("listen = {\"127.0.0.1:1965\"}\n", &c, err, sizeof(err))
	    == -1 && strstr(err, "no server block"), "no server: %s", err);
	CHECK(conf_load("/nonexistent/capsuled.conf", &c, err, sizeof(err))
	    == -1 && strstr(err, "/nonexistent/capsuled.conf"),
	    "a missing file is named: %s", err);
	unlink(path);
	return UNIT_DONE();
}
