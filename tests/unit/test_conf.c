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

#define FP "sha256:00112233445566778899aabbccddeeff" \
	"00112233445566778899AABBCCDDEEFF"

/* location blocks: what they hold, and each mistake on its own line */
static void
test_locations(void)
{
	struct config *c = NULL;
	char err[1024];

	CHECK(load("server \"a\" {\n"
	    "  # a comment, as libconfuse miscounts them\n"
	    "  location \"/old/*\" {\n"
	    "    redirect = \"/new/$path\"\n"
	    "    permanent = true\n"
	    "  }\n"
	    "  location \"/gone.gmi\" { status = 52 }\n"
	    "  location \"/busy/*\" { status = 44 meta = \"30\" }\n"
	    "  location \"/private/*\" {\n"
	    "    client-cert = \"required\"\n"
	    "    allow = {\"" FP "\"}\n"
	    "  }\n"
	    "  location \"/pub/*\" { auto-index = true lang = \"fr\" "
	    "index = \"home.gmi\" default-type = \"text/plain\" }\n"
	    "  location \"/empty\" {}\n"
	    "}\nserver \"b\" {}\n", &c, err, sizeof(err)) == 0,
	    "locations load (%s)", err);
	if (c != NULL) {
		struct server_conf *sc = &c->servers[0];

		CHECK(sc->nlocs == 6, "six locations, in order");
		CHECK(sc->client_cert && !c->servers[1].client_cert,
		    "only the server with client-cert asks for one");
		if (sc->nlocs == 6) {
			CHECK(strcmp(sc->locs[0].pattern, "/old/*") == 0 &&
			    strcmp(sc->locs[0].redirect, "/new/$path") == 0 &&
			    sc->locs[0].permanent && sc->locs[0].line == 3,
			    "redirect, permanent, line 3 (%d)",
			    sc->locs[0].line);
			CHECK(sc->locs[1].status == 52 && sc->locs[1].meta ==
			    NULL && sc->locs[1].line == 7, "status 52");
			CHECK(sc->locs[2].status == 44 &&
			    strcmp(sc->locs[2].meta, "30") == 0, "meta");
			CHECK(sc->locs[3].client_cert && sc->locs[3].nallow ==
			    1 && sc->locs[3].allow[0][0] == 0x00 &&
			    sc->locs[3].allow[0][31] == 0xff &&
			    sc->locs[3].line == 9, "client-cert and allow");
			CHECK(sc->locs[4].auto_index == 1 &&
			    strcmp(sc->locs[4].lang, "fr") == 0 &&
			    strcmp(sc->locs[4].index, "home.gmi") == 0 &&
			    strcmp(sc->locs[4].default_type, "text/plain") == 0,
			    "auto-index, lang, index, default-type");
			CHECK(sc->locs[5].auto_index == -1 &&
			    sc->locs[5].index == NULL && !sc->locs[5].permanent,
			    "unset options are the server's");
		}
		conf_free(c);
	}
	bad("server \"a\" {\n location \"/x\" {\n  status = 20\n }\n}\n",
	    3, "status: 20");
	bad("server \"a\" {\n location \"/x\" {\n  status = 52\n"
	    "  redirect = \"/y\"\n }\n}\n", 2, "exclude each other");
	bad("server \"a\" {\n\n location \"x\" { status = 52 }\n}\n", 3,
	    "starts with '/'");
	bad("server \"a\" {\n location \"/x\" {\n  client-cert = \"yes\"\n"
	    " }\n}\n", 3, "client-cert");
	bad("server \"a\" {\n location \"/x\" {\n  client-cert = "
	    "\"required\"\n  allow = {\"sha256:abcd\"}\n }\n}\n", 4,
	    "allow");
	bad("server \"a\" {\n # one\n # two\n location \"/x\" {\n"
	    "  allow = {\"" FP "\"}\n }\n}\n", 4, "allow needs client-cert");
	bad("server \"a\" {\n location \"/x\" {\n  permanent = true\n"
	    " }\n}\n", 2, "permanent goes with redirect");
	bad("server \"a\" {\n location \"/x\" { meta = \"m\" }\n}\n", 2,
	    "meta goes with status");
	bad("server \"a\" {\n location \"/x\" { status = 44 "
	    "meta = \"soon\" }\n}\n", 2, "44");
	bad("server \"a\" {\n location \"/x/*.gmi\" {\n"
	    "  redirect = \"/y/$path\"\n }\n}\n", 3, "$path");
	bad("server \"a\" {\n location \"/x\" { index = \"a/b\" }\n}\n", 2,
	    "index");
	bad("server \"a\" {\n location \"/x\" { status = 52 }\n"
	    " location \"/x\" { status = 51 }\n}\n", 3, "/x");
	/* a loop is seen after the whole file: the line is the location's */
	bad("server \"a\" {\n location \"/a\" { redirect = \"/b\" }\n"
	    " # between\n location \"/b\" {\n  redirect = \"gemini://a/a\"\n"
	    " }\n}\n", 2, "redirect loop: /a -> /b -> /a");
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
	test_locations();
	c = NULL;
	CHECK(load("listen = {\"127.0.0.1:1965\"}\n", &c, err, sizeof(err))
	    == -1 && strstr(err, "no server block"), "no server: %s", err);
	CHECK(conf_load("/nonexistent/capsuled.conf", &c, err, sizeof(err))
	    == -1 && strstr(err, "/nonexistent/capsuled.conf"),
	    "a missing file is named: %s", err);
	unlink(path);
	return UNIT_DONE();
}
