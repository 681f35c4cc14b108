/* PROXY protocol v1/v2 header parser: valid and invalid headers, every
 * prefix of a valid header asks for more, addresses decoded right */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "proxy.h"

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* the address as "addr port", or "local" */
static void
fmt_addr(const struct sockaddr_storage *ss, socklen_t sl, char *out, size_t sz)
{
	char a[INET6_ADDRSTRLEN];
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET && sl == sizeof(*sin)) {
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(out, sz, "%s %u", a, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6 && sl == sizeof(*sin6)) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(out, sz, "%s %u", a, ntohs(sin6->sin6_port));
	} else
		snprintf(out, sz, "family %d len %u", ss->ss_family,
		    (unsigned)sl);
}

static void
describe(const struct proxy_info *pi, char *out, size_t sz)
{
	char s[80], d[80];

	if (pi->local) {
		snprintf(out, sz, "local");
		return;
	}
	fmt_addr(&pi->src, pi->srclen, s, sizeof(s));
	fmt_addr(&pi->dst, pi->dstlen, d, sizeof(d));
	snprintf(out, sz, "%s > %s", s, d);
}

/*
 * a valid header: the whole parses to its length with the addresses
 * wanted, with bytes after it too, and every strict prefix asks for more
 */
static void
valid(const char *name, const unsigned char *h, size_t n, const char *want)
{
	unsigned char buf[2048];
	struct proxy_info pi;
	char got[256];
	size_t k;
	int r, prefixes_ok = 1;

	memset(&pi, 0xaa, sizeof(pi));
	r = proxy_parse(h, n, &pi);
	CHECK(r == (int)n, "%s: parses to %zu bytes (got %d)", name, n, r);
	if (r > 0) {
		describe(&pi, got, sizeof(got));
		CHECK_STR(got, want, "%s: addresses", name);
	}
	for (k = 0; k < n; k++) {
		if (proxy_parse(h, k, &pi) != 0) {
			prefixes_ok = 0;
			printf("# %s: prefix %zu did not ask for more\n", name, k);
			break;
		}
	}
	CHECK(prefixes_ok, "%s: every prefix asks for more", name);
	memcpy(buf, h, n);
	memcpy(buf + n, "gemini://x/\r\n", 13);
	CHECK(proxy_parse(buf, n + 13, &pi) == (int)n,
	    "%s: bytes after the header are left alone", name);
	CHECK(proxy_looks_like(h, n), "%s: looks like a PROXY header", name);
}

/* an invalid header: refused whole, and once a prefix is refused every
 * longer one is too (no prefix is > 0) */
static void
invalid(const char *name, const unsigned char *h, size_t n)
{
	struct proxy_info pi;
	size_t k;
	int r, refused = 0, mono = 1;

	r = proxy_parse(h, n, &pi);
	CHECK(r == -1, "%s: refused (got %d)", name, r);
	for (k = 0; k <= n; k++) {
		r = proxy_parse(h, k, &pi);
		if (r > 0 || (refused && r != -1))
			mono = 0;
		if (r == -1)
			refused = 1;
	}
	CHECK(mono, "%s: prefixes are more, then refused", name);
}

/* a v1 line as a test name: CR, LF and other controls made visible */
static const char *
v1name(const char *h)
{
	static char name[512];
	size_t i, o = 0;

	for (i = 0; h[i] != '\0' && o + 5 < sizeof(name); i++) {
		if (h[i] == '\r')
			o += (size_t)snprintf(name + o, sizeof(name) - o, "\\r");
		else if (h[i] == '\n')
			o += (size_t)snprintf(name + o, sizeof(name) - o, "\\n");
		else if ((unsigned char)h[i] < 0x20)
			o += (size_t)snprintf(name + o, sizeof(name) - o,
			    "\\x%02x", (unsigned char)h[i]);
		else
			name[o++] = h[i];
	}
	name[o] = '\0';
	return name;
}

static void
valid1(const char *h, const char *want)
{
	valid(v1name(h), (const unsigned char *)h, strlen(h), want);
}

static void
invalid1(const char *h)
{
	invalid(v1name(h), (const unsigned char *)h, strlen(h));
}

/* a v2 header: signature, ver_cmd, fam, then len bytes of body */
static size_t
v2(unsigned char *out, int ver_cmd, int fam, const unsigned char *body,
    size_t blen)
{
	memcpy(out, sig, 12);
	out[12] = (unsigned char)ver_cmd;
	out[13] = (unsigned char)fam;
	out[14] = (unsigned char)(blen >> 8);
	out[15] = (unsigned char)(blen & 0xff);
	if (blen > 0)
		memcpy(out + 16, body, blen);
	return 16 + blen;
}

static const unsigned char addr4[12] = {
	127, 0, 0, 2, 127, 0, 0, 1, 0x9c, 0x40, 0x07, 0xae	/* 40000, 1966 */
};

static void
test_v1(void)
{
	char line[256];

	valid1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
	    "192.168.0.1 56324 > 192.168.0.11 443");
	valid1("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
	    "255.255.255.255 65535 > 255.255.255.255 65535");
	valid1("PROXY TCP4 0.0.0.0 10.0.0.100 0 1\r\n",
	    "0.0.0.0 0 > 10.0.0.100 1");
	valid1("PROXY TCP6 ::1 ::1 1 2\r\n", "::1 1 > ::1 2");
	valid1("PROXY TCP6 2001:DB8::1 2001:db8:0:0:0:0:0:2 40000 1965\r\n",
	    "2001:db8::1 40000 > 2001:db8::2 1965");
	valid1("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 > "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535");
	valid1("PROXY TCP6 ::ffff:127.0.0.2 ::ffff:127.0.0.1 5 6\r\n",
	    "::ffff:127.0.0.2 5 > ::ffff:127.0.0.1 6");
	valid1("PROXY TCP6 1:2:3:4:5:6:7:: ::2:3:4:5:6:7:8 7 8\r\n",
	    "1:2:3:4:5:6:7:0 7 > 0:2:3:4:5:6:7:8 8");
	valid1("PROXY TCP6 :: 1::8 0 0\r\n", ":: 0 > 1::8 0");
	valid1("PROXY UNKNOWN\r\n", "local");
	/* the spec's worst case: exactly 107 bytes */
	snprintf(line, sizeof(line), "PROXY UNKNOWN %s %s 65535 65535\r\n",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	CHECK(strlen(line) == 107, "worst-case UNKNOWN line is 107 bytes");
	valid1(line, "local");

	invalid1("PROXY TCP4 192.168.0.01 192.168.0.11 56324 443\r\n");
	invalid1("PROXY TCP4 256.1.1.1 1.1.1.1 1 2\r\n");
	invalid1("PROXY TCP4 1.2.3 1.1.1.1 1 2\r\n");
	invalid1("PROXY TCP4 1.2.3.4.5 1.1.1.1 1 2\r\n");
	invalid1("PROXY TCP4 1..3.4 1.1.1.1 1 2\r\n");
	invalid1("PROXY TCP4 1.2.3.4 1.1.1.1 65536 2\r\n");
	invalid1("PROXY TCP4 1.2.3.4 1.1.1.1 01 2\r\n");
	invalid1("PROXY TCP4 1.2.3.4 1.1.1.1 +1 2\r\n");
	invalid1("PROXY TCP4 1.2.3.4 1.1.1.1 1 123456\r\n");
	invalid1("PROXY TCP4 1.2.3.4 1.1.1.1 1 2 \r\n");
	invalid1("PROXY TCP4 1.2.3.4 1.1.1.1 1\r\n");
	invalid1("PROXY TCP4 1.2.3.4  1.1.1.1 1 2\r\n");
	invalid1("PROXY  TCP4 1.2.3.4 1.1.1.1 1 2\r\n");
	invalid1("PROXY TCP4 1.2.3.4 1.1.1.1 1 2\n");
	invalid1("PROXY TCP4 1.2.3.4 1.1.1.1 1 2\rX");
	invalid1("PROXY TCP4 ::1 ::1 1 2\r\n");
	invalid1("PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n");
	invalid1("PROXY UDP4 1.2.3.4 1.1.1.1 1 2\r\n");
	invalid1("PROXY tcp4 1.2.3.4 1.1.1.1 1 2\r\n");
	invalid1("proxy TCP4 1.2.3.4 1.1.1.1 1 2\r\n");
	invalid1("PROXY TCP6 1::2::3 ::1 1 2\r\n");
	invalid1("PROXY TCP6 12345::1 ::1 1 2\r\n");
	invalid1("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n");
	invalid1("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n");
	invalid1("PROXY TCP6 1:2:3:4:5:6:7:8:: ::1 1 2\r\n");
	invalid1("PROXY TCP6 :1 ::1 1 2\r\n");
	invalid1("PROXY TCP6 1: ::1 1 2\r\n");
	invalid1("PROXY TCP6 ::: ::1 1 2\r\n");
	invalid1("PROXY TCP6 g::1 ::1 1 2\r\n");
	invalid1("PROXY TCP6 ::1.2.3.4.5 ::1 1 2\r\n");
	invalid1("PROXY TCP6 ::1.2.3 ::1 1 2\r\n");
	invalid1("PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n");
	invalid1("PROXY TCP6 ::01.2.3.4 ::1 1 2\r\n");
	invalid1("PROXY UNKNOWNX\r\n");
	invalid1("PROXY UNKNOWN \n\r\n");
	invalid1("PROXY UNKNOWN\n");
	invalid1("PROXY\r\n");
	invalid1("PROXY \r\n");
	invalid1("GET / HTTP/1.0\r\n");
	invalid1("gemini://localhost/\r\n");
	/* 108 bytes: one too many */
	snprintf(line, sizeof(line), "PROXY UNKNOWN %s %s 65535 655355\r\n",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	invalid1(line);
	/* no CRLF in the first 107 bytes */
	memset(line, 'x', 120);
	memcpy(line, "PROXY UNKNOWN ", 14);
	line[120] = '\0';
	invalid1(line);
	/* a NUL inside the line */
	invalid("v1 with a NUL", (const unsigned char *)"PROXY TCP4 1.2.3.4\0", 19);
}

static void
test_v2(void)
{
	unsigned char h[1200], body[1100];
	size_t n;
	uint32_t crc;
	int i, k;

	n = v2(h, 0x21, 0x11, addr4, 12);
	valid("v2 PROXY TCP4", h, n, "127.0.0.2 40000 > 127.0.0.1 1966");

	memset(body, 0, 36);
	body[15] = 1;					/* ::1 */
	body[16] = 0x20; body[17] = 0x01;		/* 2001:db8::2 */
	body[18] = 0x0d; body[19] = 0xb8; body[31] = 2;
	body[32] = 0xff; body[33] = 0xff; body[34] = 0x07; body[35] = 0xad;
	n = v2(h, 0x21, 0x21, body, 36);
	valid("v2 PROXY TCP6", h, n, "::1 65535 > 2001:db8::2 1965");

	n = v2(h, 0x20, 0x00, NULL, 0);
	valid("v2 LOCAL", h, n, "local");
	n = v2(h, 0x20, 0x11, addr4, 12);
	valid("v2 LOCAL with addresses", h, n, "local");
	n = v2(h, 0x20, 0x77, addr4, 5);
	valid("v2 LOCAL ignores the family", h, n, "local");
	n = v2(h, 0x21, 0x00, NULL, 0);
	valid("v2 PROXY UNSPEC", h, n, "local");
	n = v2(h, 0x21, 0x12, addr4, 12);
	valid("v2 PROXY UDP4 falls back", h, n, "local");
	memset(body, 'u', 216);
	n = v2(h, 0x21, 0x31, body, 216);
	valid("v2 PROXY UNIX stream falls back", h, n, "local");

	/* TLVs: NOOP, a custom one, then a CRC32C over the whole header */
	memcpy(body, addr4, 12);
	memcpy(body + 12, "\x04\x00\x02..", 5);
	memcpy(body + 17, "\xe0\x00\x03" "abc", 6);
	memcpy(body + 23, "\x03\x00\x04\x00\x00\x00\x00", 7);
	n = v2(h, 0x21, 0x11, body, 30);
	/* crc32c, computed here bit by bit, independently of the parser */
	crc = 0xffffffff;
	for (i = 0; i < (int)n; i++) {
		crc ^= h[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
	}
	crc = ~crc;
	h[n - 4] = (unsigned char)(crc >> 24);
	h[n - 3] = (unsigned char)(crc >> 16);
	h[n - 2] = (unsigned char)(crc >> 8);
	h[n - 1] = (unsigned char)crc;
	valid("v2 with TLVs and a good CRC32C", h, n,
	    "127.0.0.2 40000 > 127.0.0.1 1966");
	h[n - 1] ^= 1;
	invalid("v2 with a bad CRC32C", h, n);

	/* the crc32c of "123456789" is e3069283: check the test's own crc */
	crc = 0xffffffff;
	for (i = 0; i < 9; i++) {
		crc ^= (unsigned char)"123456789"[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
	}
	CHECK(~crc == 0xe3069283, "crc32c check value");

	memcpy(body + 12, "\x03\x00\x03\x00\x00\x00", 6);
	n = v2(h, 0x21, 0x11, body, 18);
	invalid("v2 CRC32C of 3 bytes", h, n);
	memcpy(body + 12, "\xe0\x00\x09" "abc", 6);
	n = v2(h, 0x21, 0x11, body, 18);
	invalid("v2 TLV longer than the header", h, n);
	memcpy(body + 12, "\xe0\x00", 2);
	n = v2(h, 0x21, 0x11, body, 14);
	invalid("v2 two stray bytes after the addresses", h, n);

	n = v2(h, 0x11, 0x11, addr4, 12);
	invalid("v2 version 1", h, n);
	n = v2(h, 0x31, 0x11, addr4, 12);
	invalid("v2 version 3", h, n);
	n = v2(h, 0x22, 0x11, addr4, 12);
	invalid("v2 command 2", h, n);
	n = v2(h, 0x2f, 0x11, addr4, 12);
	invalid("v2 command 15", h, n);
	n = v2(h, 0x21, 0x41, addr4, 12);
	invalid("v2 family 4", h, n);
	n = v2(h, 0x21, 0x13, addr4, 12);
	invalid("v2 protocol 3", h, n);
	n = v2(h, 0x21, 0x11, addr4, 11);
	invalid("v2 TCP4 with 11 address bytes", h, n);
	n = v2(h, 0x21, 0x21, body, 35);
	invalid("v2 TCP6 with 35 address bytes", h, n);
	n = v2(h, 0x21, 0x31, body, 215);
	invalid("v2 UNIX with 215 address bytes", h, n);
	memset(body, 0, sizeof(body));
	memcpy(body, addr4, 12);
	body[12] = 0xe0;
	body[13] = (PROXY_MAX_LEN - 16 - 12 - 3 + 1) >> 8;
	body[14] = (PROXY_MAX_LEN - 16 - 12 - 3 + 1) & 0xff;
	n = v2(h, 0x21, 0x11, body, PROXY_MAX_LEN - 16 + 1);
	invalid("v2 longer than PROXY_MAX_LEN", h, n);
	body[14]--;
	n = v2(h, 0x21, 0x11, body, PROXY_MAX_LEN - 16);
	valid("v2 exactly PROXY_MAX_LEN", h, n,
	    "127.0.0.2 40000 > 127.0.0.1 1966");
	n = v2(h, 0x21, 0x11, addr4, 12);
	h[11] = 0x0b;
	invalid("v2 bad signature", h, n);
	invalid("v2 signature alone, then TLS",
	    (const unsigned char *)"\r\n\r\n\0\r\nQUIT\n\x16\x03", 14);
}

/* the v1 ipv6 syntax agrees with inet_pton on random strings */
static void
test_v6_vs_inet_pton(void)
{
	static const char alpha[] = "0123456789abcdefABCDEF::::::...";
	struct proxy_info pi;
	unsigned char want[16];
	char addr[64], line[160];
	int i, j, len, r, ok, agree = 0, disagree = 0, accepted = 0;

	srand(1965);
	for (i = 0; i < 200000; i++) {
		len = 1 + rand() % 24;
		if (i % 4 == 0) {
			/* bias towards plausible addresses */
			snprintf(addr, sizeof(addr), "%x:%x::%x%s",
			    rand() % 0x10000, rand() % 0x10000,
			    rand() % 0x10000, (rand() % 2) ? ":1.2.3.4" : "");
		} else {
			for (j = 0; j < len; j++)
				addr[j] = alpha[rand() % (sizeof(alpha) - 1)];
			addr[len] = '\0';
		}
		snprintf(line, sizeof(line), "PROXY TCP6 %s ::1 1 2\r\n", addr);
		r = proxy_parse((const unsigned char *)line, strlen(line), &pi);
		ok = inet_pton(AF_INET6, addr, want) == 1;
		if ((r > 0) == ok && (!ok || memcmp(want,
		    &((struct sockaddr_in6 *)&pi.src)->sin6_addr, 16) == 0))
			agree++;
		else {
			if (disagree++ < 5)
				printf("# disagree on \"%s\": parser %d, "
				    "inet_pton %d\n", addr, r, ok);
		}
		accepted += ok;
	}
	CHECK(disagree == 0, "ipv6 syntax agrees with inet_pton on %d strings "
	    "(%d valid)", agree + disagree, accepted);
}

static void
test_looks_like(void)
{
	CHECK(proxy_looks_like((const unsigned char *)"PROXY TCP4", 10),
	    "looks_like: v1");
	CHECK(proxy_looks_like(sig, 12), "looks_like: v2 signature");
	CHECK(!proxy_looks_like(sig, 11), "looks_like: 11 signature bytes");
	CHECK(!proxy_looks_like((const unsigned char *)"PROX", 4),
	    "looks_like: PROX");
	CHECK(!proxy_looks_like((const unsigned char *)"gemini://x/\r\n", 13),
	    "looks_like: a gemini request");
	CHECK(!proxy_looks_like((const unsigned char *)"\x16\x03\x01\x02", 4),
	    "looks_like: a TLS ClientHello");
	CHECK(!proxy_looks_like(NULL, 0), "looks_like: nothing");
}

int
main(void)
{
	test_v1();
	test_v2();
	test_v6_vs_inet_pton();
	test_looks_like();
	return UNIT_DONE();
}
