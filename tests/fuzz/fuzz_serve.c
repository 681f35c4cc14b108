/*
 * libFuzzer: capsuled's whole request path, raw bytes in, response bytes
 * out. a real capsule is made once under a mkdtemp directory (pages, empty
 * files, directories and an empty one, odd names, symlinks inside and out,
 * a hard link) and loaded as capsuled loads it (conf_load, server_prepare,
 * server_commit).
 * every input is then answered as each listener would answer it:
 *   - gopher and finger, the line whole and again byte by byte;
 *   - gemini without sni and with sni naming each server (a PROXY
 *     header there is refused before tls, as server_first_bytes does);
 *   - gemini behind a PROXY v1/v2 header (proxy-listen);
 * through server_reply_plain, server_reply_gemini, server_reply_next and
 * server_reply_free: what the worker runs between "the request is in
 * memory" and "the response is queued", and its cleanup at close.
 *
 * promises checked, besides crashes, leaks and undefined behaviour:
 *   1. a complete request always gets an answer (never -1);
 *   2. gemini: "NN meta\r\n" first, status 10 to 69 and the one logged,
 *      meta 1 to 1024 bytes without CR, LF or NUL; only a 20 has a body,
 *      and its length is the file's or the listing's;
 *   3. gopher and finger answer alike whether the line comes at once or
 *      byte by byte;
 *   4. no answer holds the bytes of a file outside the root (reached by
 *      a symlink);
 *   5. no descriptor is left open;
 * (server "localhost" has location blocks of every kind: redirects,
 * statuses, a client-cert area, per-path options; no request here
 * carries a certificate.)
 * and three kept since issue 14, each of which an environment variable
 * set to 0 turns into a note said once (to fuzz code from before it):
 *   6. FUZZ_SERVE_HARDLINK: no bytes of a file outside the root reached
 *      by a hard link (item 7);
 *   7. FUZZ_SERVE_NAMES: no file name writes its own gemtext line into a
 *      listing or menu (item 3);
 *   8. FUZZ_SERVE_URL: a gopher "URL:x" selector served is answered by an
 *      html page linking x, and x only (item 2).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "gemini.h"
#include "log.h"
#include "proxy.h"
#include "server.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* the ports clients "reached": the listeners are bound to free ports by
 * server_prepare and closed at once; nothing here touches a socket */
#define FUZZ_GEMINI_PORT	1965
#define FUZZ_GOPHER_PORT	70
#define FUZZ_FINGER_PORT	79

/* in the files outside the root, never in the capsule */
#define MARK_OUTSIDE	"Zx9OutsideTheRootQv4"
#define MARK_HARDLINK	"Zx9HardLinkedFileQv4"
/* the line an evil file name tries to add (issue 14, item 3) */
#define MARK_EVIL_NAME	"evil\n=> https:evil.example Click here to log in"
#define MARK_EVIL_LINE	"\n=> https:evil.example"

static struct srv *fuzz_srv;
static char fuzz_dir[64];
static int fuzz_fds;		/* the lowest free descriptor, at rest */
static int fuzz_check_hardlink, fuzz_check_names, fuzz_check_url;

/* ---- the capsule ---- */

static void	fuzz_die(const char *, const char *)
		    __attribute__((noreturn));

static void
fuzz_die(const char *what, const char *name)
{
	fprintf(stderr, "fuzz_serve: %s %s: %s\n", what, name,
	    strerror(errno));
	exit(1);
}

static void
fuzz_put(int dirfd, const char *name, const char *data, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644);

	if (fd == -1 || write(fd, data, len) != (ssize_t)len)
		fuzz_die("write", name);
	close(fd);
}

static void
fuzz_puts(int dirfd, const char *name, const char *text)
{
	fuzz_put(dirfd, name, text, strlen(text));
}

static int
fuzz_mkdir(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0755) == -1 ||
	    (fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC))
	    == -1)
		fuzz_die("mkdir", name);
	return fd;
}

static void
fuzz_symlink(int dirfd, const char *target, const char *name)
{
	if (symlinkat(target, dirfd, name) == -1)
		fuzz_die("symlink", name);
}

static void
fuzz_capsule(const char *top)
{
	static const char index_gmi[] =
	    "# The fuzz capsule\n"
	    "Pages, links and odd names for fuzz_serve.\n"
	    "=> page.gmi A page\n"
	    "=> /sub/ A directory\n"
	    "=> empty-dir/ An empty directory\n"
	    "=> empty.gmi An empty page\n"
	    "=> notes.txt Notes\n"
	    "=> page.txt The page as text\n"
	    "=> link-inside.gmi A symlink inside\n"
	    "=> link-outside.txt A symlink leading outside\n"
	    "=> hard.txt A hard link\n"
	    "=> gemini://localhost/sub/deeper/x.gmi Absolute\n"
	    "=> gemini://other.example/ The other server\n"
	    "=> gopher://localhost:70/1/sub/ Gopher\n"
	    "=> https://example.org/ The web\n"
	    "=> mailto:x@y Write\n"
	    "=> ../../etc/passwd Climbing\n"
	    "=> page.gmi?q=1#f With a query\n"
	    "## Preformatted\n"
	    "```alt\n=> not-a-link.gmi\n.\n```\n"
	    "* an item\n> a quote\n"
	    ".\n..a line with dots\n";
	static const char page_gmi[] =
	    "# A page\n"
	    "Text with UTF-8: \xc3\xa9t\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac.\n"
	    "=> index.gmi Home\n"
	    "=> ./sub/../page.gmi Round trip\n"
	    "=> sub/deeper/ Deeper\n"
	    "=>\n=> \t \n=>x\n"
	    "=> %2e%2e/ Encoded dots\n";
	static const char notes_txt[] =
	    "plain text\n.\n.. starts with dots\nlast line without newline";
	char path[512], big[40000];
	int top_fd, root, out, sub, deeper, d;
	size_t i;

	if ((top_fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fuzz_die("open", top);
	out = fuzz_mkdir(top_fd, "outside");
	fuzz_puts(out, "secret.txt", MARK_OUTSIDE "\n");
	fuzz_puts(out, "secret.gmi", "# " MARK_OUTSIDE "\n");
	fuzz_puts(out, "hard.txt", MARK_HARDLINK "\n");
	fuzz_puts(out, "hard.gmi", "# " MARK_HARDLINK "\n");

	root = fuzz_mkdir(top_fd, "root");
	fuzz_puts(root, "index.gmi", index_gmi);
	fuzz_puts(root, "page.gmi", page_gmi);
	fuzz_puts(root, "notes.txt", notes_txt);
	fuzz_put(root, "image.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
	/* more than SERVER_SMALL: gemini sends it through server_reply_next */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	fuzz_put(root, "big.bin", big, sizeof(big));
	fuzz_put(root, "big.txt", big, sizeof(big));
	/* empty files of every kind a handler treats apart */
	fuzz_put(root, "empty.gmi", "", 0);
	fuzz_put(root, "empty.txt", "", 0);
	fuzz_put(root, "empty", "", 0);
	fuzz_put(root, "empty.png", "", 0);
	/* odd names */
	fuzz_puts(root, "sp ace.gmi", "# Space\n");
	fuzz_puts(root, "tab\tname.gmi", "# Tab\n");
	fuzz_puts(root, "new\nline.gmi", "# Newline\n");
	fuzz_puts(root, "cr\rname.txt", "carriage return\n");
	fuzz_puts(root, MARK_EVIL_NAME, "evil\n");
	fuzz_puts(root, "ctl\x01\x1b[31mred.txt", "control bytes\n");
	fuzz_puts(root, "utf8-\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.gmi",
	    "# UTF-8\n");
	fuzz_puts(root, "bad-utf8-\xff\xfe.gmi", "# Not UTF-8\n");
	fuzz_puts(root, "quote\"<>&'.gmi", "# Quotes\n");
	fuzz_puts(root, "%41percent.gmi", "# Percent\n");
	fuzz_puts(root, "q?mark#hash.gmi", "# Query\n");
	fuzz_puts(root, "-dash.gmi", "# Dash\n");
	fuzz_puts(root, "URL:a", "a file named like a URL selector\n");
	fuzz_puts(root, ".hidden.gmi", "# Hidden\n");
	fuzz_puts(root, "UPPER.gmi", "# Upper case\n");
	/* a finger name for every kind of page */
	fuzz_puts(root, "plain.txt", "a finger page without a .gmi\n");
	if (mkfifoat(root, "fifo.gmi", 0644) == -1)
		fuzz_die("mkfifo", "fifo.gmi");
	/* links: inside, leading outside, dangling, to directories */
	fuzz_symlink(root, "page.gmi", "link-inside.gmi");
	fuzz_symlink(root, "sub", "link-sub");
	fuzz_symlink(root, "../outside/secret.txt", "link-outside.txt");
	fuzz_symlink(root, "../outside/secret.gmi", "link-outside.gmi");
	fuzz_symlink(root, "../outside", "link-outdir");
	snprintf(path, sizeof(path), "%s/outside/secret.txt", top);
	fuzz_symlink(root, path, "link-absolute.txt");
	fuzz_symlink(root, "nowhere.gmi", "dangling.gmi");
	fuzz_symlink(root, "loop.gmi", "loop.gmi");
	/* hard links to files outside the root (same file system) */
	if (linkat(out, "hard.txt", root, "hard.txt", 0) == -1 ||
	    linkat(out, "hard.gmi", root, "hard.gmi", 0) == -1)
		fuzz_die("link", "hard");

	sub = fuzz_mkdir(root, "sub");
	fuzz_puts(sub, "a.gmi", "# A\n=> ../page.gmi Up\n=> b.txt B\n");
	fuzz_puts(sub, "b.txt", "b\n");
	fuzz_put(sub, "empty.gmi", "", 0);
	/* odd names where gemini lists them too (auto-index, no index) */
	fuzz_puts(sub, MARK_EVIL_NAME, "evil\n");
	fuzz_puts(sub, "new\nline.gmi", "# Newline\n");
	fuzz_puts(sub, "tab\tname.txt", "tab\n");
	fuzz_symlink(sub, "../../outside/secret.gmi", "out.gmi");
	deeper = fuzz_mkdir(sub, "deeper");
	fuzz_puts(deeper, "x.gmi", "# X\n=> ../../index.gmi Home\n");
	close(deeper);
	close(sub);
	d = fuzz_mkdir(root, "withindex");
	fuzz_puts(d, "index.gmi", "# A directory with its index\n");
	close(d);
	d = fuzz_mkdir(root, "odd dir\tname");
	fuzz_puts(d, "in.gmi", "# In an odd directory\n");
	close(d);
	close(fuzz_mkdir(root, "empty-dir"));
	close(root);
	close(out);
	close(top_fd);
}

static int
fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
fuzz_cleanup(void)
{
	if (fuzz_dir[0] != '\0')
		nftw(fuzz_dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
	fuzz_dir[0] = '\0';
}

/* the capsules of harnesses that crashed (the sanitizers and libFuzzer
 * exit without atexit): each names its process in its "pid" file */
static void
fuzz_sweep(void)
{
	struct dirent *de;
	char path[300];
	DIR *d;
	FILE *f;
	long pid;

	if ((d = opendir("/tmp")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "fuzz_serve.", 11) != 0)
			continue;
		snprintf(path, sizeof(path), "/tmp/%s/pid", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		if (fscanf(f, "%ld", &pid) == 1 && pid > 0 &&
		    kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
			snprintf(path, sizeof(path), "/tmp/%s", de->d_name);
			nftw(path, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
		}
		fclose(f);
	}
	closedir(d);
}

/* a port free now on loopback, for a listener closed right after */
static int
fuzz_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1)
		fuzz_die("bind", "127.0.0.1:0");
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config *conf;
	char conffile[128], text[2048], err[1024];
	const char *e;
	size_t i;
	int fd, n;

	(void)argc;
	(void)argv;
	e = getenv("FUZZ_SERVE_HARDLINK");
	fuzz_check_hardlink = e == NULL || strcmp(e, "0") != 0;
	e = getenv("FUZZ_SERVE_NAMES");
	fuzz_check_names = e == NULL || strcmp(e, "0") != 0;
	e = getenv("FUZZ_SERVE_URL");
	fuzz_check_url = e == NULL || strcmp(e, "0") != 0;

	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/fuzz_serve.XXXXXX");
	if (mkdtemp(fuzz_dir) == NULL)
		fuzz_die("mkdtemp", fuzz_dir);
	atexit(fuzz_cleanup);
	fuzz_sweep();
	fuzz_capsule(fuzz_dir);
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	snprintf(conffile, sizeof(conffile), "%s/pid", fuzz_dir);
	if ((fd = open(conffile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1 || write(fd, text, (size_t)n) != n)
		fuzz_die("write", conffile);
	close(fd);

	/* the config as a user writes it, comments included */
	n = snprintf(text, sizeof(text),
	    "# fuzz_serve: every listener kind, two servers on one root\n"
	    "listen        = {\"127.0.0.1:%d\"}\n"
	    "proxy-listen  = {\"127.0.0.1:%d\"}\n"
	    "gopher-listen = {\"127.0.0.1:%d\"}\n"
	    "finger-listen = {\"127.0.0.1:%d\"}\n"
	    "state-dir     = \"%s/state\"\n"
	    "log-level     = \"error\"\n"
	    "%s"
	    "# auto-index on: listings are generated\n"
	    "server \"localhost\" {\n"
	    "\taliases    = {\"127.0.0.1\", \"::1\"}\n"
	    "\troot       = \"%s/root\"\n"
	    "\tlang       = \"en\"\n"
	    "\tindex      = \"index.gmi\"\n"
	    "\tauto-index = true\n"
	    "\t# locations: every kind, matched before any file\n"
	    "\tlocation \"/moved/*\" {\n"
	    "\t\tredirect  = \"/sub/$path\"\n"
	    "\t\tpermanent = true\n"
	    "\t}\n"
	    "\tlocation \"/rel/*\" { redirect = \"../page.gmi?x#y\" }\n"
	    "\tlocation \"/away\" { redirect = \"gemini://elsewhere.example/\" }\n"
	    "\tlocation \"/gone.gmi\" { status = 52 }\n"
	    "\tlocation \"/busy*\" { status = 44 meta = \"5\" }\n"
	    "\tlocation \"/sub/deeper/*\" { client-cert = \"required\" }\n"
	    "\tlocation \"/withindex/*\" {\n"
	    "\t\tlang         = \"fr\"\n"
	    "\t\tdefault-type = \"text/x-fuzz\"\n"
	    "\t\tauto-index   = false\n"
	    "\t\tindex        = \"other.gmi\"\n"
	    "\t}\n"
	    "}\n"
	    "# auto-index off\n"
	    "server \"other.example\" {\n"
	    "\troot       = \"%s/root\"\n"
	    "}\n",
	    fuzz_free_port(), fuzz_free_port(), fuzz_free_port(),
	    fuzz_free_port(), fuzz_dir,
	    /* as root capsuled wants a user to drop to; nothing is dropped
	     * here, the user only owns the state files with root */
	    geteuid() == 0 ? "user          = \"nobody\"\n" : "",
	    fuzz_dir, fuzz_dir);
	if (n < 0 || (size_t)n >= sizeof(text))
		fuzz_die("config", "too long");
	snprintf(conffile, sizeof(conffile), "%s/capsuled.conf", fuzz_dir);
	if ((fd = open(conffile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1 || write(fd, text, (size_t)n) != n)
		fuzz_die("write", conffile);
	close(fd);

	/* as capsuled's main does */
	log_init("fuzz_serve", 1);
	if (conf_load(conffile, &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_serve: %s\n", err);
		exit(1);
	}
	log_setlevel(conf->log_level);
	if (server_prepare(conf, NULL, &fuzz_srv, err, sizeof(err)) == -1 ||
	    server_commit(fuzz_srv, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_serve: %s\n", err);
		exit(1);
	}
	for (i = 0; i < fuzz_srv->nlisteners; i++) {
		struct listener *l = &fuzz_srv->listeners[i];

		close(l->fd);
		l->fd = -1;
		l->port = l->kind == LISTEN_GOPHER ? FUZZ_GOPHER_PORT :
		    l->kind == LISTEN_FINGER ? FUZZ_FINGER_PORT :
		    FUZZ_GEMINI_PORT;
	}
	fprintf(stderr, "fuzz_serve: capsule %s; hard link check %s, name "
	    "check %s, URL: check %s\n", fuzz_dir,
	    fuzz_check_hardlink ? "on" : "off (FUZZ_SERVE_HARDLINK=0)",
	    fuzz_check_names ? "on" : "off (FUZZ_SERVE_NAMES=0)",
	    fuzz_check_url ? "on" : "off (FUZZ_SERVE_URL=0)");
	return 0;
}

/* ---- the promises ---- */

/* a plain byte loop: libFuzzer would learn the markers from the
 * arguments of memmem or strncmp and echo them back in requests */
static int
fuzz_has(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i, m;

	for (i = 0; k <= n && i <= n - k; i++) {
		for (m = 0; m < k && hay[i + m] == needle[m]; m++)
			;
		if (m == k)
			return 1;
	}
	return 0;
}

static int
fuzz_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
fuzz_hexval(int c)
{
	c = fuzz_lower(c);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* the input, lower-cased, once as sent and once percent-decoded: an
 * answer that echoes the request (a redirect, "no such page: x", the
 * html page of a URL: selector) may hold the marker only if it came in */
static int
fuzz_echoes(const uint8_t *data, size_t size, const char *marker)
{
	char low[64];
	size_t k = strlen(marker), i, j, m;
	int pass;

	if (k >= sizeof(low))
		abort();
	for (i = 0; i < k; i++)
		low[i] = (char)fuzz_lower((unsigned char)marker[i]);
	low[i] = '\0';
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < size; i++) {
			for (j = i, m = 0; j < size && m < k; m++) {
				int c = data[j++];

				if (pass == 1 && c == '%' && j + 1 < size &&
				    fuzz_hexval(data[j]) >= 0 &&
				    fuzz_hexval(data[j + 1]) >= 0) {
					c = fuzz_hexval(data[j]) * 16 +
					    fuzz_hexval(data[j + 1]);
					j += 2;
				}
				if (fuzz_lower(c) != low[m])
					break;
			}
			if (m == k)
				return 1;
		}
	}
	return 0;
}

/* bytes for a message on one line, control bytes escaped */
static const char *
fuzz_shown(const void *p, size_t len)
{
	static char shown[4 * 400 + 8];

	log_escape(shown, sizeof(shown), p, len > 400 ? 400 : len);
	return shown;
}

static void
fuzz_fail(const char *what, const char *proto, const char *out, size_t len)
{
	fprintf(stderr, "fuzz_serve: %s: %s; answer (%zu bytes): %s\n",
	    proto, what, len, fuzz_shown(out, len));
	fuzz_cleanup();
	abort();
}

/* what every answer must not hold, whatever the protocol */
static void
fuzz_check_bytes(const uint8_t *data, size_t size, const char *proto,
    const char *out, size_t len)
{
	static int hard_said, names_said;

	if (fuzz_has(out, len, MARK_OUTSIDE) &&
	    !fuzz_echoes(data, size, MARK_OUTSIDE))
		fuzz_fail("bytes of a file outside the root", proto, out, len);
	if (fuzz_has(out, len, MARK_HARDLINK) &&
	    !fuzz_echoes(data, size, MARK_HARDLINK)) {
		if (fuzz_check_hardlink)
			fuzz_fail("a hard link to a file outside the root "
			    "served", proto, out, len);
		if (!hard_said++)
			fprintf(stderr, "fuzz_serve: %s serves a hard link "
			    "to a file outside the root (request \"%s\"); "
			    "noted only, as FUZZ_SERVE_HARDLINK=0\n", proto,
			    fuzz_shown(data, size));
	}
	if (fuzz_has(out, len, MARK_EVIL_LINE) &&
	    !fuzz_echoes(data, size, "evil.example")) {
		if (fuzz_check_names)
			fuzz_fail("a file name wrote its own line", proto, out,
			    len);
		if (!names_said++)
			fprintf(stderr, "fuzz_serve: %s lets a file name "
			    "write its own line (request \"%s\"); "
			    "noted only, as FUZZ_SERVE_NAMES=0\n", proto,
			    fuzz_shown(data, size));
	}
}

/* the href of an html answer, entities decoded, equals url (n bytes) */
static int
fuzz_href_is(const char *out, size_t len, const char *url, size_t n)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&#39;", '\'' }, { "&#x27;", '\'' },
		{ "&apos;", '\'' }, { "&#34;", '"' },
	};
	size_t i, j, k, m, hrefs = 0;
	int same = 0;

	for (i = 0; i + 6 <= len; i++) {
		if (strncmp(out + i, "href=\"", 6) != 0)
			continue;
		hrefs++;
		for (j = i + 6, m = 0; j < len && out[j] != '"'; m++) {
			char c = out[j];
			size_t step = 1;

			for (k = 0; c == '&' && k < sizeof(ents) /
			    sizeof(ents[0]); k++)
				if (strncmp(out + j, ents[k].ent,
				    strlen(ents[k].ent)) == 0) {
					c = ents[k].c;
					step = strlen(ents[k].ent);
					break;
				}
			if (m >= n || url[m] != c)
				break;
			j += step;
		}
		if (j < len && out[j] == '"' && m == n)
			same++;
		/* go on after the value: a url may itself hold href=" */
		while (j < len && out[j] != '"')
			j++;
		i = j;
	}
	return hrefs == 1 && same == 1;
}

/* a gopher "URL:x" line: the answer links x and nothing else */
static void
fuzz_check_url_page(const uint8_t *data, size_t size,
    const struct server_reply *rep)
{
	static int said;
	const char *req = (const char *)data, *nl;
	size_t sel;

	if (size < 5 || strncmp(req, "URL:", 4) != 0 ||
	    rep->resp->status != 20 ||
	    (nl = memchr(req, '\n', size)) == NULL)
		return;
	sel = (size_t)(nl - req);
	if (sel > 0 && req[sel - 1] == '\r')
		sel--;
	if (memchr(req, '\t', sel) != NULL)
		sel = (size_t)((const char *)memchr(req, '\t', sel) - req);
	if (sel <= 4 || fuzz_href_is(rep->out, rep->outlen, req + 4, sel - 4))
		return;
	if (fuzz_check_url)
		fuzz_fail("a URL: selector not answered by a page linking "
		    "its url", "gopher", rep->out, rep->outlen);
	if (!said++)
		fprintf(stderr, "fuzz_serve: gopher answers a URL: selector "
		    "with no page linking its url (request \"%s\"); "
		    "noted only, as FUZZ_SERVE_URL=0\n",
		    fuzz_shown(data, size));
}

/* the request as the worker holds it: exactly len bytes and a NUL, in a
 * buffer of its own so ASan sees any read past them */
static char *
fuzz_line(const uint8_t *data, size_t len)
{
	char *line = malloc(len + 1);

	if (line == NULL)
		abort();
	memcpy(line, data, len);
	line[len] = '\0';
	return line;
}

/* gemini: answer, check the header, then take the body as the worker
 * does (server_reply_next) and free it all as server_close does */
static void
fuzz_gemini(const uint8_t *data, size_t size, const char *proto,
    const struct tls_vhost *v, int sni, int port, const uint8_t *req,
    size_t len)
{
	struct server_reply rep;
	static char *all;
	static size_t allcap;
	char *line;
	const char *o;
	size_t i, hlen, total, body, want;
	int rc, status;

	if (len > SERVER_LINE)
		len = SERVER_LINE;
	memset(&rep, 0, sizeof(rep));
	line = fuzz_line(req, len);
	rc = server_reply_gemini(fuzz_srv, v, sni, port, NULL, line, len, &rep);
	if (rc == 1) {
		/* more to read: only without crlf and under the limit */
		if (len >= SERVER_LINE || fuzz_has(line, len, "\r\n"))
			fuzz_fail("waits for more after a whole line", proto,
			    line, len);
		goto done;
	}
	if (rc != 0 || rep.resp == NULL)
		fuzz_fail("no answer to a whole line", proto, line, len);

	o = rep.out;
	if (rep.outlen < 5 || o[0] < '1' || o[0] > '6' || o[1] < '0' ||
	    o[1] > '9' || o[2] != ' ')
		fuzz_fail("no \"NN \" status", proto, o, rep.outlen);
	status = (o[0] - '0') * 10 + (o[1] - '0');
	if (status != rep.resp->status)
		fuzz_fail("status sent is not the status logged", proto, o,
		    rep.outlen);
	for (i = 3; i < rep.outlen && o[i] != '\r' && o[i] != '\n' &&
	    o[i] != '\0'; i++)
		;
	if (i + 1 >= rep.outlen || o[i] != '\r' || o[i + 1] != '\n')
		fuzz_fail("meta not ended by crlf", proto, o, rep.outlen);
	if (i - 3 < 1 || i - 3 > 1024)
		fuzz_fail("meta empty or over 1024 bytes", proto, o,
		    rep.outlen);
	hlen = i + 2;
	if (status != 20 && rep.outlen != hlen)
		fuzz_fail("a body after a status other than 20", proto, o,
		    rep.outlen);

	/* the whole answer, in one piece for the checks */
	total = 0;
	do {
		if (total + rep.outlen + 1 > allcap) {
			allcap = total + rep.outlen + 1;
			if ((all = realloc(all, allcap)) == NULL)
				abort();
		}
		memcpy(all + total, rep.out, rep.outlen);
		total += rep.outlen;
	} while ((rc = server_reply_next(&rep)) == 1);
	if (rc == -1)
		fuzz_fail("the body could not be read", proto, all, total);
	body = total - hlen;
	if (status == 20) {
		want = rep.resp->file.listing != NULL ?
		    rep.resp->file.listing_len : (size_t)rep.resp->file.size;
		if (body != want || rep.bytes != body)
			fuzz_fail("body length is not the file's", proto, all,
			    total);
	}
	fuzz_check_bytes(data, size, proto, all, total);
done:
	server_reply_free(&rep);
	free(line);
}

/* gopher or finger: the worker answers at the first read that completes
 * the line; the answer must not depend on how the bytes were split */
static void
fuzz_plain(const uint8_t *data, size_t size, enum listen_kind kind,
    int port)
{
	const char *proto = kind == LISTEN_GOPHER ? "gopher" : "finger";
	struct server_reply once, split;
	size_t len = size < SERVER_LINE ? size : SERVER_LINE, k;
	char *line;
	int rc, rc_split = 1;

	memset(&once, 0, sizeof(once));
	memset(&split, 0, sizeof(split));
	line = fuzz_line(data, len);
	rc = server_reply_plain(fuzz_srv, kind, port, line, len, &once);
	free(line);
	for (k = 1; k <= len && rc_split == 1; k++) {
		line = fuzz_line(data, k);
		rc_split = server_reply_plain(fuzz_srv, kind, port, line, k,
		    &split);
		free(line);
	}
	if (rc == -1 || rc_split == -1)
		fuzz_fail("no answer to a whole line", proto,
		    (const char *)data, len);
	/* an empty answer may have no buffer at all */
	if (rc != rc_split || (rc == 0 && (once.outlen != split.outlen ||
	    (once.outlen > 0 && memcmp(once.out, split.out, once.outlen)
	    != 0) ||
	    once.resp->status != split.resp->status)))
		fuzz_fail("the answer depends on how the line was split",
		    proto, (const char *)data, len);
	if (rc == 0)
		fuzz_check_bytes(data, size, proto, once.out, once.outlen);
	if (rc == 0 && kind == LISTEN_GOPHER)
		fuzz_check_url_page(data, size, &once);
	server_reply_free(&once);
	server_reply_free(&split);
}

/* every descriptor a request opened is closed again */
static void
fuzz_check_fds(const uint8_t *data, size_t size, const char *proto)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd != fuzz_fds) {
		char link[64], target[256];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fuzz_fds);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "fuzz_serve: the lowest free descriptor is "
		    "%d, was %d (now %s)\n", fd, fuzz_fds, target);
		fuzz_fail(fd > fuzz_fds ? "a descriptor left open" :
		    "a descriptor it did not own closed", proto,
		    (const char *)data, size);
	}
	close(fd);
}

static int
fuzz_sockport(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)
		    ->sin6_port);
	return ntohs(((const struct sockaddr_in *)(const void *)ss)
	    ->sin_port);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tls_vhost *v = fuzz_srv->vhosts;
	struct proxy_info pi;
	size_t i, peek = size < 16 ? size : 16;
	int hlen;

	/* taken anew each time: libFuzzer's symbolizer opens pipes of its
	 * own between inputs */
	if ((fuzz_fds = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	close(fuzz_fds);

	fuzz_plain(data, size, LISTEN_GOPHER, FUZZ_GOPHER_PORT);
	fuzz_check_fds(data, size, "gopher");
	fuzz_plain(data, size, LISTEN_FINGER, FUZZ_FINGER_PORT);
	fuzz_check_fds(data, size, "finger");

	/* listen: a PROXY header is refused before tls (server_first_bytes) */
	if (!proxy_looks_like(data, peek)) {
		fuzz_gemini(data, size, "gemini", &v[0], 0, FUZZ_GEMINI_PORT,
		    data, size);
		for (i = 0; i < fuzz_srv->sni.nvhosts; i++)
			fuzz_gemini(data, size, "gemini+sni", &v[i], 1,
			    FUZZ_GEMINI_PORT, data, size);
		fuzz_check_fds(data, size, "gemini");
	}
	/* proxy-listen: the header, then the line (server_proxy) */
	hlen = proxy_parse(data, size < PROXY_MAX_LEN ? size :
	    PROXY_MAX_LEN, &pi);
	if (hlen > 0)
		fuzz_gemini(data, size, "gemini+proxy", &v[0], 0, pi.local ?
		    FUZZ_GEMINI_PORT : fuzz_sockport(&pi.dst),
		    data + hlen, size - (size_t)hlen);
	fuzz_check_fds(data, size, "gemini+proxy");
	return 0;
}
