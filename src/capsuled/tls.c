/* every openssl call: contexts, sni, certificates, session tickets */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "loc.h"
#include "log.h"
#include "tls.h"
#include "trust.h"

#define TLS_TICKET_PERIOD	(12 * 3600)	/* a key encrypts this long */
#define TLS_TICKET_PERIODS	3		/* and decrypts this many */

/* the secret in force: set by tls_commit only, so a rejected reload
 * leaves it as it was */
static unsigned char tls_ticket_secret[32];

static void
tls_errstr(char *err, size_t errsz, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else if (errno != 0)
		snprintf(buf, sizeof(buf), "%s", strerror(errno));
	snprintf(err, errsz, "%s: %s%s%s", path, what, buf[0] ? ": " : "",
	    buf);
	ERR_clear_error();
}

static int
tls_name(char *buf, size_t sz, const char *name, const char *ext)
{
	int n = snprintf(buf, sz, "%s%s", name, ext);

	return (n < 0 || (size_t)n >= sz) ? -1 : 0;
}

/* write name in the state directory atomically: temp, fsync, rename.
 * one descriptor, closed once on every path; no temp file left behind */
static int
tls_write_file(int dirfd, const char *name, mode_t mode, const void *data,
    size_t len)
{
	char tmp[512];
	const char *p = data;
	ssize_t n;
	int fd, saved;

	if (tls_name(tmp, sizeof(tmp), name, ".tmp") == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (fd == -1)
		return -1;
	while (len > 0) {
		if ((n = write(fd, p, len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}

/* a key or certificate as pem in memory, then written as above */
static int
tls_write_pem(int dirfd, const char *name, mode_t mode, EVP_PKEY *key,
    X509 *crt)
{
	BIO *b;
	char *data;
	long len;
	int rc = -1;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	if (key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
	    : PEM_write_bio_X509(b, crt)) {
		len = BIO_get_mem_data(b, &data);
		if (len > 0)
			rc = tls_write_file(dirfd, name, mode, data,
			    (size_t)len);
	} else
		errno = EIO;
	BIO_free(b);
	return rc;
}

static int
tls_add_ext(X509 *crt, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, crt, crt, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(crt, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int
tls_is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/* a long-lived self-signed ecdsa p-256 certificate for the server's
 * names, in memory: it is written only once the configuration holds */
static int
tls_generate(const struct server_conf *sc, const char *crtpath,
    EVP_PKEY **keyp, X509 **crtp, char *err, size_t errsz)
{
	EVP_PKEY *key = NULL;
	X509 *crt = NULL;
	X509_NAME *subj;
	char san[4096];
	size_t off = 0, i;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int rc = -1, n;

	if ((key = EVP_EC_gen("P-256")) == NULL ||
	    (crt = X509_new()) == NULL) {
		tls_errstr(err, errsz, "cannot generate a key", crtpath);
		goto out;
	}
	X509_set_version(crt, 2);
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)) == NULL)
		goto fail;
	/* long-lived on purpose: visitors pin it on first use */
	if (X509_gmtime_adj(X509_getm_notBefore(crt), -86400) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(crt), 365 * 100, 0, NULL)
	    == NULL)
		goto fail;
	subj = X509_get_subject_name(crt);
	if (!X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
	    (const unsigned char *)sc->name, -1, -1, 0) ||
	    !X509_set_issuer_name(crt, subj) || !X509_set_pubkey(crt, key))
		goto fail;
	n = snprintf(san, sizeof(san), "%s:%s",
	    tls_is_ip(sc->name) ? "IP" : "DNS", sc->name);
	if (n < 0 || (size_t)n >= sizeof(san))
		goto fail;
	off = (size_t)n;
	for (i = 0; i < sc->naliases; i++) {
		n = snprintf(san + off, sizeof(san) - off, ",%s:%s",
		    tls_is_ip(sc->aliases[i]) ? "IP" : "DNS", sc->aliases[i]);
		if (n < 0 || (size_t)n >= sizeof(san) - off)
			goto fail;
		off += (size_t)n;
	}
	if (tls_add_ext(crt, NID_subject_alt_name, san) == -1 ||
	    tls_add_ext(crt, NID_basic_constraints, "critical,CA:FALSE") == -1 ||
	    tls_add_ext(crt, NID_key_usage, "critical,digitalSignature") == -1 ||
	    tls_add_ext(crt, NID_ext_key_usage, "serverAuth") == -1 ||
	    !X509_sign(crt, key, EVP_sha256()))
		goto fail;
	*keyp = key;
	*crtp = crt;
	key = NULL;
	crt = NULL;
	rc = 0;
	goto out;
fail:
	tls_errstr(err, errsz, "cannot build a certificate", crtpath);
out:
	BN_free(bn);
	X509_free(crt);
	EVP_PKEY_free(key);
	return rc;
}

/* derive one period's name, hmac and aes keys from the master secret */
static void
tls_ticket_keys(long period, unsigned char name[16], unsigned char hkey[32],
    unsigned char akey[32])
{
	static __thread long cached = -1;
	static __thread unsigned char cname[16], chkey[32], cakey[32];
	unsigned char out[32], msg[9];
	unsigned int len;
	int i;

	if (period != cached) {
		for (i = 0; i < 8; i++)
			msg[i] = (unsigned char)(period >> (8 * i));
		msg[8] = 'n';
		HMAC(EVP_sha256(), tls_ticket_secret, 32, msg, 9, out, &len);
		memcpy(cname, out, 16);
		msg[8] = 'h';
		HMAC(EVP_sha256(), tls_ticket_secret, 32, msg, 9, chkey, &len);
		msg[8] = 'a';
		HMAC(EVP_sha256(), tls_ticket_secret, 32, msg, 9, cakey, &len);
		cached = period;
	}
	memcpy(name, cname, 16);
	memcpy(hkey, chkey, 32);
	memcpy(akey, cakey, 32);
}

static int
tls_ticket_cb(SSL *ssl, unsigned char name[16], unsigned char iv[16],
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	unsigned char kname[16], hkey[32], akey[32];
	OSSL_PARAM params[3];
	char digest[] = "SHA256";
	long now = (long)time(NULL) / TLS_TICKET_PERIOD;
	int i = 0;

	(void)ssl;
	if (enc) {
		tls_ticket_keys(now, kname, hkey, akey);
		if (RAND_bytes(iv, 16) != 1)
			return -1;
		memcpy(name, kname, 16);
	} else {
		for (i = 0; i < TLS_TICKET_PERIODS; i++) {
			tls_ticket_keys(now - i, kname, hkey, akey);
			if (memcmp(name, kname, 16) == 0)
				break;
		}
		if (i == TLS_TICKET_PERIODS)
			return 0;	/* unknown or expired: full handshake */
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    hkey, 32);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[2] = OSSL_PARAM_construct_end();
	if (!EVP_CipherInit_ex2(cctx, EVP_aes_256_cbc(), akey, iv, enc,
	    NULL) || !EVP_MAC_CTX_set_params(hctx, params))
		return -1;
	/* on decryption ask for a fresh ticket: openssl sends none after a
	 * resumption otherwise, and a ticket used once cannot link visits */
	return enc ? 1 : 2;
}

int
tls_tickets_load(int statefd, const char *state_dir,
    const struct trust_owner *o, struct tls_ticket *t, char *err,
    size_t errsz)
{
	char path[4096];
	ssize_t n;
	int fd;

	memset(t, 0, sizeof(*t));
	if (snprintf(path, sizeof(path), "%s/ticket.key", state_dir) >=
	    (int)sizeof(path)) {
		snprintf(err, errsz, "%s: path too long", state_dir);
		return -1;
	}
	fd = statefd == -1 ? -1 : trust_openat(statefd, "ticket.key", path,
	    O_RDONLY, 0, o, err, errsz);
	if (fd != -1) {
		n = read(fd, t->secret, sizeof(t->secret));
		close(fd);
		if (n != (ssize_t)sizeof(t->secret)) {
			snprintf(err, errsz, "%s: short or unreadable ticket "
			    "secret; remove it to have a new one made", path);
			return -1;
		}
		return 0;
	}
	if (statefd != -1 && errno != ENOENT)
		return -1;
	/* made now, written by tls_commit once the whole configuration
	 * holds */
	if (RAND_bytes(t->secret, sizeof(t->secret)) != 1) {
		tls_errstr(err, errsz, "no randomness", path);
		return -1;
	}
	t->fresh = 1;
	return 0;
}

/* the generated pair in the state directory: 1 loaded into *key and *crt,
 * 0 one of them is missing, -1 refused or broken (err set) */
static int
tls_load_state_pair(int statefd, const char *name, const char *crtpath,
    const char *keypath, const struct trust_owner *o, EVP_PKEY **key,
    X509 **crt, char *err, size_t errsz)
{
	char crtname[512], keyname[512];
	FILE *fp;
	int fd;

	*key = NULL;
	*crt = NULL;
	if (statefd == -1)
		return 0;
	if (tls_name(crtname, sizeof(crtname), name, ".crt") == -1 ||
	    tls_name(keyname, sizeof(keyname), name, ".key") == -1) {
		snprintf(err, errsz, "%s: name too long", crtpath);
		return -1;
	}
	if ((fd = trust_openat(statefd, keyname, keypath, O_RDONLY, 0, o, err,
	    errsz)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		snprintf(err, errsz, "%s: %s", keypath, strerror(errno));
		return -1;
	}
	*key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (*key == NULL) {
		tls_errstr(err, errsz, "cannot load key", keypath);
		return -1;
	}
	if ((fd = trust_openat(statefd, crtname, crtpath, O_RDONLY, 0, o, err,
	    errsz)) == -1) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return errno == ENOENT ? 0 : -1;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		snprintf(err, errsz, "%s: %s", crtpath, strerror(errno));
		EVP_PKEY_free(*key);
		*key = NULL;
		return -1;
	}
	*crt = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (*crt == NULL) {
		tls_errstr(err, errsz, "cannot load certificate", crtpath);
		EVP_PKEY_free(*key);
		*key = NULL;
		return -1;
	}
	return 1;
}

static SSL_CTX *
tls_ctx_new(const struct server_conf *sc, const char *what, char *err,
    size_t errsz)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_errstr(err, errsz, "cannot create a tls context", what);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	/* the chain is what the certificate file holds: no store is loaded,
	 * so building one at every handshake (openssl's default) finds
	 * nothing more and costs about 6k instructions (0.24%) each */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_NO_AUTO_CHAIN);
	/* tickets only: nothing is cached per worker */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* a tls 1.3 ticket costs every full handshake 4.4% (108k of 2.44M
	 * server instructions) and a resumption still does the x25519
	 * exchange, saving 2.5% against a full handshake without one:
	 * tickets pay only when about two connections in three resume.
	 * sent only when asked for. tls 1.2 tickets are not concerned
	 * (SSL_OP_NO_TICKET is not set) */
	SSL_CTX_set_num_tickets(ctx, sc->tls13_tickets ? 1 : 0);
	SSL_CTX_set1_groups_list(ctx, "X25519:P-256:X448:P-384");
	/* aes-128-gcm with sha-256 first: the handshake's hkdf runs on
	 * sha-256, cheaper than sha-384, at no cost in security here */
	SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:"
	    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
	/* whole records per read: fewer system calls */
	SSL_CTX_set_read_ahead(ctx, 1);
	/* the keys derive from the secret tls_commit installs */
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb);
	return ctx;
}

/* any client certificate is taken in the handshake: what it is worth is
 * decided by its fingerprint and dates (loc_cert_status), never a chain */
static int
tls_verify_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

int
tls_vhost_load(struct tls_vhost *v, const struct server_conf *sc,
    int statefd, const char *state_dir, const struct trust_owner *o,
    char *err, size_t errsz)
{
	char crtbuf[4096], keybuf[4096];
	const char *crt = sc->cert, *key = sc->key;
	EVP_PKEY *pkey = NULL;
	X509 *x509 = NULL;
	SSL_CTX *ctx;
	int rc;

	memset(v, 0, sizeof(*v));
	v->conf = sc;
	if (crt == NULL) {
		if (snprintf(crtbuf, sizeof(crtbuf), "%s/%s.crt", state_dir,
		    sc->name) >= (int)sizeof(crtbuf) || snprintf(keybuf,
		    sizeof(keybuf), "%s/%s.key", state_dir, sc->name) >=
		    (int)sizeof(keybuf)) {
			snprintf(err, errsz, "%s: path too long", state_dir);
			return -1;
		}
		crt = crtbuf;
		key = keybuf;
		/* generated once, then reused so visitors' pins hold */
		rc = tls_load_state_pair(statefd, sc->name, crt, key, o, &pkey,
		    &x509, err, errsz);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			if (tls_generate(sc, crt, &pkey, &x509, err, errsz)
			    == -1)
				return -1;
			v->newkey = pkey;
			v->newcrt = x509;
		}
	}
	if ((ctx = tls_ctx_new(sc, crt, err, errsz)) == NULL)
		goto fail;
	/* one session context for every server, so a ticket resumes as
	 * before; openssl refuses to resume without one once it asks for
	 * certificates */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"capsuled",
	    8);
	/* only a server with a client-cert location asks for a
	 * certificate: the others' handshakes stay as they were */
	if (sc->client_cert)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_CLIENT_ONCE, tls_verify_any);
	if (x509 != NULL) {
		if (SSL_CTX_use_certificate(ctx, x509) != 1) {
			tls_errstr(err, errsz, "cannot load certificate", crt);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
			tls_errstr(err, errsz, "cannot load key", key);
			goto fail;
		}
	} else {
		if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1) {
			tls_errstr(err, errsz, "cannot load certificate", crt);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM)
		    != 1) {
			tls_errstr(err, errsz, "cannot load key", key);
			goto fail;
		}
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_errstr(err, errsz, "key does not match certificate", key);
		goto fail;
	}
	v->ctx = ctx;
	/* what the context holds it keeps; what was loaded is ours */
	if (v->newkey == NULL) {
		EVP_PKEY_free(pkey);
		X509_free(x509);
	}
	return 0;
fail:
	SSL_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	X509_free(x509);
	v->newkey = NULL;
	v->newcrt = NULL;
	return -1;
}

/* no passphrase prompt: an encrypted key is not read here */
static int
tls_no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return 0;
}

int
tls_key_note(const char *path, char *buf, size_t bufsz)
{
	EVP_PKEY *key;
	FILE *fp;
	char group[64] = "";
	size_t glen;
	int rc = 1, n;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	key = PEM_read_PrivateKey(fp, NULL, tls_no_passphrase, NULL);
	fclose(fp);
	ERR_clear_error();
	if (key == NULL)
		return -1;
	/* server cpu per full tls 1.3 handshake against ecdsa p-256,
	 * openssl 3.0, tlsfloor -C -K: p-384 4.4 times (5.6 times the
	 * instructions), rsa-2048 3.1 times (3.6), ed25519 about the same
	 * (1.13 times the instructions) */
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		rc = 0;
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(key, group, sizeof(group), &glen))
			snprintf(group, sizeof(group), "unknown");
		if (strcmp(group, "prime256v1") == 0) {
			rc = 0;
			break;
		}
		n = snprintf(buf, bufsz, "an ECDSA %s key: a full handshake "
		    "with it costs the server %s one with ECDSA P-256",
		    strcmp(group, "secp384r1") == 0 ? "P-384" : group,
		    strcmp(group, "secp384r1") == 0 ? "more than 4 times the cpu "
		    "of" : "more cpu than");
		if (n < 0 || (size_t)n >= bufsz)
			rc = -1;
		break;
	case EVP_PKEY_RSA:
		n = snprintf(buf, bufsz, "an RSA-%d key: a full handshake with "
		    "it costs the server %s the cpu of one with ECDSA P-256",
		    EVP_PKEY_get_bits(key), EVP_PKEY_get_bits(key) <= 2048 ?
		    "about 3 times" : "well over 3 times");
		if (n < 0 || (size_t)n >= bufsz)
			rc = -1;
		break;
	default:
		n = snprintf(buf, bufsz, "a %s key, not ECDSA P-256 or Ed25519,"
		    " the cheapest to sign a handshake with",
		    EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key)
		    : "rare");
		if (n < 0 || (size_t)n >= bufsz)
			rc = -1;
		break;
	}
	EVP_PKEY_free(key);
	return rc;
}

/* unlink what tls_commit wrote for vs[0..n) */
static void
tls_uncommit(int dirfd, struct tls_vhost *vs, size_t n)
{
	char name[512];
	size_t i;

	for (i = 0; i < n; i++) {
		if (vs[i].newkey == NULL)
			continue;
		if (tls_name(name, sizeof(name), vs[i].conf->name, ".key") == 0)
			unlinkat(dirfd, name, 0);
		if (tls_name(name, sizeof(name), vs[i].conf->name, ".crt") == 0)
			unlinkat(dirfd, name, 0);
	}
}

int
tls_commit(struct tls_vhost *vs, size_t n, const struct tls_ticket *t,
    const char *state_dir, const struct trust_owner *o, char *err,
    size_t errsz)
{
	char keyname[512], crtname[512];
	size_t i, done = 0;
	int dirfd = -1, pending = t->fresh, created = 0;

	for (i = 0; i < n; i++)
		if (vs[i].newkey != NULL)
			pending = 1;
	if (pending) {
		if (mkdir(state_dir, 0755) == 0)
			created = 1;
		else if (errno != EEXIST) {
			snprintf(err, errsz, "%s: %s", state_dir,
			    strerror(errno));
			return -1;
		}
		/* checked again: it may be new, or changed meanwhile */
		if ((dirfd = trust_opendir(state_dir, o, err, errsz)) == -1)
			goto fail;
		for (done = 0; done < n; done++) {
			struct tls_vhost *v = &vs[done];

			if (v->newkey == NULL)
				continue;
			if (tls_name(keyname, sizeof(keyname), v->conf->name,
			    ".key") == -1 || tls_name(crtname,
			    sizeof(crtname), v->conf->name, ".crt") == -1) {
				snprintf(err, errsz, "%s: server name too "
				    "long", state_dir);
				goto fail;
			}
			if (tls_write_pem(dirfd, keyname, 0600, v->newkey,
			    NULL) == -1 || tls_write_pem(dirfd, crtname, 0644,
			    NULL, v->newcrt) == -1) {
				snprintf(err, errsz, "%s/%s: cannot write: %s",
				    state_dir, v->conf->name, strerror(errno));
				done++;	/* unlink what there is of it */
				goto fail;
			}
		}
		if (t->fresh && tls_write_file(dirfd, "ticket.key", 0600,
		    t->secret, sizeof(t->secret)) == -1) {
			snprintf(err, errsz, "%s/ticket.key: cannot write: %s",
			    state_dir, strerror(errno));
			goto fail;
		}
		close(dirfd);
	}
	for (i = 0; i < n; i++) {
		if (vs[i].newkey != NULL)
			log_info("generated a self-signed certificate for %s "
			    "in %s", vs[i].conf->name, state_dir);
		EVP_PKEY_free(vs[i].newkey);
		X509_free(vs[i].newcrt);
		vs[i].newkey = NULL;
		vs[i].newcrt = NULL;
	}
	memcpy(tls_ticket_secret, t->secret, sizeof(tls_ticket_secret));
	return 0;
fail:
	/* what this commit wrote goes again: all or nothing */
	if (dirfd != -1) {
		tls_uncommit(dirfd, vs, done);
		close(dirfd);
	}
	if (created)
		rmdir(state_dir);
	return -1;
}

void
tls_vhost_free(struct tls_vhost *v)
{
	SSL_CTX_free(v->ctx);
	EVP_PKEY_free(v->newkey);
	X509_free(v->newcrt);
	memset(v, 0, sizeof(*v));
}

static int
tls_servername_cb(SSL *ssl, int *alert, void *arg)
{
	const struct tls_sni *sni = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	size_t i;

	(void)alert;
	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;	/* keep the first server */
	for (i = 0; i < sni->nvhosts; i++) {
		if (conf_server_names(sni->vhosts[i].conf, name)) {
			SSL_CTX *ctx = sni->vhosts[i].ctx;

			/* a new context brings neither its verify mode nor
			 * its ticket count (SSL_new took both from the first
			 * context): this server's own settings hold */
			if (i > 0) {
				SSL_set_SSL_CTX(ssl, ctx);
				SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx),
				    SSL_CTX_get_verify_callback(ctx));
				SSL_set_num_tickets(ssl,
				    SSL_CTX_get_num_tickets(ctx));
			}
			return SSL_TLSEXT_ERR_OK;
		}
	}
	/* an unknown name gets the first server; the request's host is
	 * checked against the server later (53) */
	return SSL_TLSEXT_ERR_OK;
}

void
tls_sni_setup(struct tls_sni *sni)
{
	size_t i;

	for (i = 0; i < sni->nvhosts; i++) {
		SSL_CTX_set_tlsext_servername_callback(sni->vhosts[i].ctx,
		    tls_servername_cb);
		SSL_CTX_set_tlsext_servername_arg(sni->vhosts[i].ctx, sni);
	}
}

const struct tls_vhost *
tls_vhost_of(const struct ssl_st *ssl, const struct tls_sni *sni)
{
	SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
	size_t i;

	for (i = 0; i < sni->nvhosts; i++)
		if (sni->vhosts[i].ctx == ctx)
			return &sni->vhosts[i];
	return &sni->vhosts[0];
}

static BIO_METHOD *tls_bio_method;

static int
tls_bio_write(BIO *b, const char *data, int len)
{
	struct tls_out *o = BIO_get_data(b);
	size_t need;

	if (len <= 0)
		return 0;
	need = o->len + (size_t)len;
	if (need > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *nb;

		while (cap < need)
			cap *= 2;
		if ((nb = realloc(o->buf, cap)) == NULL)
			return -1;
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, data, (size_t)len);
	o->len += (size_t)len;
	return len;
}

static int
tls_bio_read(BIO *b, char *data, int len)
{
	struct tls_out *o = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	/* what is held has not been sent: the peer, waiting for it, has
	 * not answered yet. no recv that would say EAGAIN: the server
	 * sends, then epoll (level-triggered) says when there is more */
	if (o->off < o->len) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = recv(o->fd, data, (size_t)len, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			BIO_set_retry_read(b);
		return -1;
	}
	if (n > 0 && o->first != NULL) {
		int (*first)(const unsigned char *, size_t) = o->first;

		o->first = NULL;
		if (first((const unsigned char *)data, (size_t)n)) {
			o->refused = 1;
			return -1;
		}
	}
	return (int)n;
}

static long
tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* flushes are the server's to make, when it waits for the peer */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
tls_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

int
tls_ktls_available(void)
{
	char buf[256];
	ssize_t n;
	int fd = open("/proc/sys/net/ipv4/tcp_available_ulp", O_RDONLY |
	    O_CLOEXEC);

	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (char *p = strtok(buf, " \n"); p; p = strtok(NULL, " \n"))
		if (strcmp(p, "tls") == 0)
			return 1;
	return 0;
}

/* attach fd to ssl: through the holding bio, or the socket for ktls */
static int
tls_attach(SSL *ssl, int fd, struct tls_out *o, int use_ktls)
{
	BIO *b;

	if (use_ktls) {
		SSL_set_options(ssl, SSL_OP_ENABLE_KTLS);
		return SSL_set_fd(ssl, fd) == 1 ? 0 : -1;
	}
	if (tls_bio_method == NULL) {
		tls_bio_method = BIO_meth_new(BIO_get_new_index() |
		    BIO_TYPE_SOURCE_SINK, "capsuled holding bio");
		if (tls_bio_method == NULL ||
		    !BIO_meth_set_write(tls_bio_method, tls_bio_write) ||
		    !BIO_meth_set_read(tls_bio_method, tls_bio_read) ||
		    !BIO_meth_set_ctrl(tls_bio_method, tls_bio_ctrl) ||
		    !BIO_meth_set_create(tls_bio_method, tls_bio_create))
			return -1;
	}
	if ((b = BIO_new(tls_bio_method)) == NULL)
		return -1;
	o->fd = fd;
	BIO_set_data(b, o);
	SSL_set_bio(ssl, b, b);
	return 0;
}

int
tls_out_flush(struct tls_out *o)
{
	ssize_t n;

	while (o->off < o->len) {
		n = send(o->fd, o->buf + o->off, o->len - o->off,
		    MSG_NOSIGNAL);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		o->off += (size_t)n;
	}
	/* nothing held: a connection waiting for its peer keeps no buffer */
	free(o->buf);
	o->buf = NULL;
	o->off = o->len = o->cap = 0;
	return 1;
}

void
tls_out_free(struct tls_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->off = o->cap = 0;
}

int
tls_ktls_send(struct ssl_st *ssl)
{
	return BIO_get_ktls_send(SSL_get_wbio(ssl)) > 0;
}

int
tls_sni_sent(const struct ssl_st *ssl)
{
	return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) != NULL;
}

static long long
tls_asn1_time(const ASN1_TIME *t, long long fallback)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return fallback;
	return (long long)timegm(&tm);
}

void
tls_peer(const struct ssl_st *ssl, struct loc_peer *p)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	unsigned int len = 0;

	memset(p, 0, sizeof(*p));
	if (x == NULL)
		return;
	p->present = 1;
	if (X509_digest(x, EVP_sha256(), p->sha256, &len) != 1 ||
	    len != LOC_FP_LEN) {
		ERR_clear_error();
		p->not_before = LLONG_MAX;	/* never valid */
		p->not_after = LLONG_MIN;
		return;
	}
	p->not_before = tls_asn1_time(X509_get0_notBefore(x), LLONG_MAX);
	p->not_after = tls_asn1_time(X509_get0_notAfter(x), LLONG_MIN);
	ERR_clear_error();
}

struct ssl_st *
tls_conn_new(const struct tls_vhost *dflt, int fd, struct tls_out *o,
    int use_ktls)
{
	SSL *ssl;

	if ((ssl = SSL_new(dflt->ctx)) == NULL ||
	    tls_attach(ssl, fd, o, use_ktls) == -1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

void
tls_conn_free(struct ssl_st *ssl)
{
	SSL_free(ssl);
}

/* what an ssl call that did not succeed wants; on an error the queue
 * is cleared, so it cannot be blamed on the next connection */
static int
tls_want(SSL *ssl, int rc)
{
	switch (SSL_get_error(ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	default:
		ERR_clear_error();
		return TLS_ERROR;
	}
}

int
tls_handshake(struct ssl_st *ssl)
{
	int rc = SSL_do_handshake(ssl);

	return rc == 1 ? TLS_DONE : tls_want(ssl, rc);
}

int
tls_read(struct ssl_st *ssl, void *buf, size_t len, size_t *got)
{
	int rc = SSL_read(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

	if (rc <= 0)
		return tls_want(ssl, rc);
	*got = (size_t)rc;
	return TLS_DONE;
}

int
tls_write(struct ssl_st *ssl, const void *buf, size_t len, size_t *sent)
{
	int rc = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);

	if (rc <= 0)
		return tls_want(ssl, rc);
	*sent = (size_t)rc;
	return TLS_DONE;
}

int
tls_sendfile(struct ssl_st *ssl, int fd, off_t off, size_t len,
    size_t *sent)
{
	ossl_ssize_t n = SSL_sendfile(ssl, fd, off, len, 0);

	if (n <= 0)
		return tls_want(ssl, (int)n);
	*sent = (size_t)n;
	return TLS_DONE;
}

int
tls_shutdown(struct ssl_st *ssl)
{
	int rc = SSL_shutdown(ssl);

	/* 0: close_notify sent, the peer's not awaited */
	return rc < 0 ? tls_want(ssl, rc) : TLS_DONE;
}

void
tls_conn_idle(struct ssl_st *ssl)
{
	SSL_free_buffers(ssl);
}

